/* sentence.c: a rule-based sentence splitter for English-like prose, used by
 * the passage splitter (cut preferences) and by search (which sentence of a
 * passage to mark). Rules, not a model: a terminator (. ! ?) plus closing
 * quotes/brackets, whitespace, then something that can open a sentence. The
 * false splits that matter in technical text are initials and abbreviations
 * ("e.g. the", "J. Smith", "etc. and") and are kept whole; a wrong split costs
 * only a slightly worse highlight, never lost text (spans cover everything).
 */
#include "passage.h"

#include <string.h>

void trove_spans_free(trove_spans *s) {
  if (!s)
    return;
  trove_free(s->v);
  s->v = NULL;
  s->n = s->cap = 0;
}

static bool is_space(unsigned char c) {
  return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static int push(trove_spans *s, size_t a, size_t b) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 16, bytes;
    if (!trove_mul_ok(cap, sizeof *s->v, &bytes))
      return TROVE_ENOMEM;
    trove_span *v = trove_realloc(s->v, bytes);
    if (!v)
      return TROVE_ENOMEM;
    s->v = v;
    s->cap = cap;
  }
  s->v[s->n++] = (trove_span){a, b};
  return 0;
}

/* Words after which a period does not end a sentence (compared lower-case,
 * without the period). */
static const char *const abbrev[] = {"e.g", "i.e", "etc", "mr", "mrs", "ms", "dr", "vs",
                                     "cf", "fig", "no", "st", "approx", "al", "eg", "ie"};

/* True when the word ending just before text[dot] (a '.') is an initial or
 * a listed abbreviation. */
static bool before_is_abbrev(const char *text, size_t dot) {
  size_t a = dot;
  while (a > 0 && !is_space((unsigned char)text[a - 1]) && text[a - 1] != '(' &&
         text[a - 1] != '"')
    a--;
  size_t wl = dot - a;
  if (wl == 1 && ((text[a] >= 'A' && text[a] <= 'Z') || (text[a] >= 'a' && text[a] <= 'z')))
    return true;
  for (size_t i = 0; i < sizeof abbrev / sizeof *abbrev; i++) {
    size_t al = strlen(abbrev[i]);
    if (al != wl)
      continue;
    size_t j = 0;
    while (j < al && (char)(text[a + j] | 0x20) == abbrev[i][j])
      j++;
    if (j == al)
      return true;
  }
  return false;
}

/* Can the byte at text[i] open a sentence? */
static bool opens(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80 || c == '"' ||
         c == '\'' || c == '(' || c == '[' || c == '`' || c == '*' || c == '-';
}

/* If a sentence ends at or after i (text[i] a terminator), returns the end
 * (one past the closers); 0 when it does not end here. */
static size_t sentence_end(const char *text, size_t len, size_t i) {
  unsigned char c = (unsigned char)text[i];
  if (c != '.' && c != '!' && c != '?')
    return 0;
  if (c == '.' && before_is_abbrev(text, i))
    return 0;
  size_t j = i + 1;
  while (j < len && (text[j] == '"' || text[j] == '\'' || text[j] == ')' || text[j] == ']'))
    j++;
  if (j == len)
    return j;
  if (!is_space((unsigned char)text[j]))
    return 0; /* "3.14", "os.path", "end.)" */
  size_t k = j;
  while (k < len && is_space((unsigned char)text[k]))
    k++;
  if (k == len || opens((unsigned char)text[k]))
    return j;
  return 0;
}

int trove_sentences_split(const char *text, size_t len, trove_spans *out) {
  if (!out || (!text && len > 0))
    return TROVE_EINVAL;
  out->n = 0;
  size_t i = 0;
  while (i < len) {
    while (i < len && is_space((unsigned char)text[i]))
      i++;
    if (i == len)
      break;
    size_t a = i, b = len;
    for (size_t j = a; j < len; j++) {
      if (text[j] == '\n' && j + 1 < len && text[j + 1] == '\n') {
        b = j; /* a blank line ends a sentence */
        break;
      }
      size_t e = sentence_end(text, len, j);
      if (e) {
        b = e;
        break;
      }
    }
    size_t t = b;
    while (t > a && is_space((unsigned char)text[t - 1]))
      t--;
    if (push(out, a, t)) {
      trove_spans_free(out);
      return TROVE_ENOMEM;
    }
    i = b;
  }
  return 0;
}
