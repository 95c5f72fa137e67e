/* tokenizer.c: USE-lite's SentencePiece unigram tokenizer, bit-for-bit the
 * reference's (@energetic-ai/embeddings 0.2.0, lib/tokenizer.ts), plus byte
 * offsets of every token in the caller's text.
 *
 * HOW IT WORKS
 * 1. Normalize. The reference runs String.prototype.normalize("NFKC") on the
 *    whole text. We normalize piecewise with utf8proc so that each output
 *    code point knows which input bytes it came from: a run of ASCII is
 *    copied as is (ASCII is NFKC-stable), and each stretch of non-ASCII text,
 *    together with the ASCII character just before it (a combining mark may
 *    compose with it: "e" + U+0301 is "é"), is one segment given to
 *    utf8proc_decompose + utf8proc_normalize_utf32 (no allocation inside).
 *    Splitting just before an ASCII character is exact: an ASCII character
 *    is a starter that composes with nothing before it and no canonical
 *    reordering crosses it. Output code points of a segment map to the whole
 *    segment's bytes, unless the segment came out unchanged, when each maps
 *    to its own bytes. Invalid UTF-8 bytes become U+FFFD, one per byte.
 * 2. Symbols. If anything is left, prepend U+2581 ("▁", mapped to the empty
 *    range at 0) and turn every U+0020 into U+2581; other whitespace (tab,
 *    newline) stays and usually becomes the unknown token.
 * 3. Viterbi. For each start position i, walk the trie along the symbols;
 *    every piece found is a candidate (i, i + len, score). If none is found,
 *    the single symbol is a candidate with score 0 and id 0 (unknown). The
 *    reference visits candidates by end position, then start ascending, and
 *    takes one when `best[end] === 0 || score >= best[end]`, score being
 *    piece score + best[start] in doubles. A forward loop over starts visits
 *    the candidates of each end in the same order and best[start] is final
 *    by then, so we reproduce that rule exactly, quirks included: a best of
 *    exactly 0 is overwritten by anything, ties go to the later candidate.
 * 4. Backtrack from the end, stepping back by the winning piece's JavaScript
 *    .length (UTF-16 units, as the reference does; for the shipped vocabulary,
 *    which has no astral piece, that is its length in symbols). Positions no
 *    candidate reached keep id 0 and step 1.
 * 5. Merge runs of unknown tokens (id 0) into one, reverse, and report.
 *
 * INVARIANTS
 * - Every id is < vocab->n; offsets satisfy start <= end <= len, token
 *   starts never decrease and never split a UTF-8 sequence.
 * - No token limit here: the model reads the first 128 tokens (the graph's
 *   ClipToMaxLength), trove_embedder_max_tokens says so, and callers that
 *   size passages count with this function.
 *
 * LIMITS
 * - Memory: about 24 bytes per symbol for the Viterbi, hence USE_MAX_TEXT.
 * - utf8proc and the reference's ICU may differ in Unicode version; both
 *   were Unicode 15 when the golden data was made (utf8proc 2.8, node 20).
 * - A non-ASCII stretch that normalization changed reports its whole byte
 *   range for each of its tokens, so tokens there may share bytes.
 */
#include "model_int.h"

#include <string.h>
#include <utf8proc.h>

#define SEP 0x2581u /* "▁" */
#define NFKC (UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_STABLE)

/* Normalized symbols with the byte range each came from. */
typedef struct syms {
  uint32_t *cp, *from, *to;
  size_t n, cap;
  int32_t *seg;     /* scratch: one segment's code points */
  size_t seg_cap;
  unsigned char *utf8; /* scratch: the segment, invalid bytes replaced */
  size_t utf8_cap;
} syms;

static void syms_free(syms *s) {
  trove_free(s->cp), trove_free(s->from), trove_free(s->to);
  trove_free(s->seg), trove_free(s->utf8);
}

static bool grow(void **p, size_t *cap, size_t need, size_t size) {
  if (need <= *cap)
    return true;
  size_t n = *cap ? *cap : 64, bytes;
  while (n < need)
    n *= 2;
  if (!trove_mul_ok(n, size, &bytes))
    return false;
  void *q = trove_realloc(*p, bytes);
  if (!q)
    return false;
  *p = q;
  *cap = n;
  return true;
}

static bool push(syms *s, uint32_t cp, size_t from, size_t to) {
  if (s->n == s->cap) {
    size_t cap = s->cap, want = s->n + 1;
    if (!grow((void **)&s->cp, &cap, want, sizeof *s->cp))
      return false;
    cap = s->cap;
    if (!grow((void **)&s->from, &cap, want, sizeof *s->from))
      return false;
    cap = s->cap;
    if (!grow((void **)&s->to, &cap, want, sizeof *s->to))
      return false;
    s->cap = cap;
  }
  s->cp[s->n] = cp == ' ' ? SEP : cp;
  s->from[s->n] = (uint32_t)from;
  s->to[s->n++] = (uint32_t)to;
  return true;
}

/* Length of the valid UTF-8 sequence at t[0..n) and its code point, or 0. */
static size_t utf8_char(const unsigned char *t, size_t n, uint32_t *cp) {
  utf8proc_int32_t c;
  utf8proc_ssize_t k = utf8proc_iterate(t, (utf8proc_ssize_t)(n < 4 ? n : 4), &c);
  if (k <= 0)
    return 0;
  *cp = (uint32_t)c;
  return (size_t)k;
}

/* Normalizes the segment t[a, b) and appends its symbols. */
static int segment(syms *s, const unsigned char *t, size_t a, size_t b) {
  /* Sanitize into s->utf8 (3 bytes per invalid byte at most) and count. */
  size_t cap_need = 3 * (b - a), m = 0, ncp = 0;
  if (!grow((void **)&s->utf8, &s->utf8_cap, cap_need, 1))
    return TROVE_ENOMEM;
  for (size_t i = a; i < b;) {
    uint32_t c;
    size_t k = utf8_char(t + i, b - i, &c);
    if (k) {
      memcpy(s->utf8 + m, t + i, k);
      m += k, i += k;
    } else {
      memcpy(s->utf8 + m, "\xEF\xBF\xBD", 3);
      m += 3, i++;
    }
    ncp++;
  }
  utf8proc_ssize_t got = (utf8proc_ssize_t)s->seg_cap;
  for (;;) { /* decompose, growing the buffer to the size it asks for */
    got = utf8proc_decompose(s->utf8, (utf8proc_ssize_t)m, s->seg, (utf8proc_ssize_t)s->seg_cap,
                             NFKC);
    if (got < 0)
      return TROVE_EINVAL; /* cannot happen: the input was sanitized */
    if ((size_t)got <= s->seg_cap)
      break;
    if (!grow((void **)&s->seg, &s->seg_cap, (size_t)got, sizeof *s->seg))
      return TROVE_ENOMEM;
  }
  got = utf8proc_normalize_utf32(s->seg, got, NFKC);
  if (got < 0)
    return TROVE_EINVAL;
  /* Unchanged? Then each symbol keeps its own bytes. */
  bool same = (size_t)got == ncp;
  for (size_t j = 0, at = 0; same && j < ncp; j++) {
    uint32_t c = 0;
    at += utf8_char(s->utf8 + at, m - at, &c); /* sanitized: always valid */
    same = (uint32_t)s->seg[j] == c;
  }
  for (size_t j = 0, i = a; j < (size_t)got; j++) {
    size_t k = 0;
    if (same) {
      uint32_t c = 0;
      k = utf8_char(t + i, b - i, &c);
      k = k ? k : 1;
    }
    if (!push(s, (uint32_t)s->seg[j], same ? i : a, same ? i + k : b))
      return TROVE_ENOMEM;
    i += k;
  }
  return 0;
}

/* Steps 1 and 2 of the file comment. */
static int normalize(syms *s, const unsigned char *t, size_t len) {
  if (len && !push(s, SEP, 0, 0)) /* dropped below if nothing follows */
    return TROVE_ENOMEM;
  for (size_t i = 0; i < len;) {
    if (t[i] < 0x80 && (i + 1 == len || t[i + 1] < 0x80)) {
      if (!push(s, t[i], i, i + 1))
        return TROVE_ENOMEM;
      i++;
      continue;
    }
    size_t a = i++; /* an ASCII char before non-ASCII, or non-ASCII */
    while (i < len && t[i] >= 0x80)
      i++;
    int rc = segment(s, t, a, i);
    if (rc)
      return rc;
  }
  if (s->n == 1)
    s->n = 0;
  return 0;
}

/* Step 3: best path ending at each position, by the reference's rule. */
static void viterbi(const use_vocab *v, const uint32_t *cp, size_t n, double *best,
                    int32_t *words) {
  for (size_t i = 0; i <= n; i++)
    best[i] = 0, words[i] = 0;
  for (size_t i = 0; i < n; i++) {
    bool found = false;
    long node = 0;
    for (size_t j = i; j < n && (node = trove_model__trie_child(v, (uint32_t)node, cp[j])) >= 0;
         j++) {
      int32_t piece = v->node_piece[node];
      if (piece < 0)
        continue;
      found = true;
      double score = v->score[piece] + best[i];
      if (best[j + 1] == 0 || score >= best[j + 1])
        best[j + 1] = score, words[j + 1] = piece;
    }
    if (!found && (best[i + 1] == 0 || best[i] >= best[i + 1]))
      best[i + 1] = best[i], words[i + 1] = 0; /* unknown: score 0 */
  }
}

static bool reserve_out(trove_tokens *out, size_t n) {
  if (n <= out->cap)
    return true;
  size_t cap = out->cap;
  if (!grow((void **)&out->ids, &cap, n, sizeof *out->ids))
    return false;
  cap = out->cap;
  if (!grow((void **)&out->start, &cap, n, sizeof *out->start))
    return false;
  cap = out->cap;
  if (!grow((void **)&out->end, &cap, n, sizeof *out->end))
    return false;
  out->cap = cap;
  return true;
}

/* Steps 4 and 5, into out. tmp has room for 3 * (n + 1) int32. */
static int backtrack(const use_vocab *v, const syms *s, const int32_t *words, int32_t *tmp,
                     trove_tokens *out) {
  int32_t *id = tmp;
  uint32_t *a = (uint32_t *)(tmp + s->n + 1), *b = (uint32_t *)(tmp + 2 * (s->n + 1));
  size_t k = 0;
  for (size_t iter = s->n; iter > 0;) {
    int32_t w = words[iter];
    size_t step = v->utf16_len[w] ? v->utf16_len[w] : 1;
    size_t from = step < iter ? iter - step : 0;
    if (k && w == 0 && id[k - 1] == 0)
      a[k - 1] = (uint32_t)from; /* merge a run of unknowns */
    else
      id[k] = w, a[k] = (uint32_t)from, b[k++] = (uint32_t)iter;
    iter = from;
  }
  if (!reserve_out(out, k))
    return TROVE_ENOMEM;
  for (size_t i = 0; i < k; i++) {
    size_t r = k - 1 - i;
    out->ids[i] = id[r];
    out->start[i] = s->from[a[r]];
    out->end[i] = s->to[b[r] - 1];
  }
  out->n = k;
  return 0;
}

int trove_model__tokenize(const use_vocab *v, const char *text, size_t len, trove_tokens *out,
                          trove_err *err) {
  if (!v || !out || (!text && len))
    return trove_err_set(err, TROVE_EINVAL, "tokenize: NULL argument");
  if (len > USE_MAX_TEXT)
    return trove_err_set(err, TROVE_ERANGE, "tokenize: text of %zu bytes is above the %zu-byte "
                         "limit; split it first", len, USE_MAX_TEXT);
  syms s = {0};
  double *best = NULL;
  int32_t *words = NULL;
  int rc = normalize(&s, (const unsigned char *)text, len);
  if (rc)
    goto out_free;
  if (s.n == 0) {
    out->n = 0;
    goto out_free;
  }
  best = trove_malloc((s.n + 1) * sizeof *best);
  words = trove_malloc(4 * (s.n + 1) * sizeof *words); /* words, then backtrack's 3 arrays */
  if (!best || !words) {
    rc = TROVE_ENOMEM;
    goto out_free;
  }
  viterbi(v, s.cp, s.n, best, words);
  rc = backtrack(v, &s, words, words + s.n + 1, out);
out_free:
  trove_free(best);
  trove_free(words);
  syms_free(&s);
  if (rc == TROVE_ENOMEM)
    return trove_err_set(err, rc, "out of memory tokenizing %zu bytes", len);
  if (rc)
    return trove_err_set(err, rc, "tokenize: utf8proc rejected the text");
  return 0;
}

void trove_tokens_free(trove_tokens *t) {
  if (!t)
    return;
  trove_free(t->ids), trove_free(t->start), trove_free(t->end);
  memset(t, 0, sizeof *t);
}
