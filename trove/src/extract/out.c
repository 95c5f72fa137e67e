/* out.c: building a trove_doc. Everything the extractor writes passes
 * through here, which is how every output string is valid UTF-8 with
 * whitespace folded whatever the input was: invalid bytes become U+FFFD
 * (one per bad byte, like a browser's decoder), NUL and control characters
 * vanish, and whitespace runs (including NBSP and the Unicode spaces) fold
 * to one space outside code blocks. Blocks are recorded as byte spans of the
 * one text buffer, so the text stays a plain string for FTS and the spans
 * tell a passage splitter where headings and code are. */
#include "extract_int.h"

#include <string.h>

/* ---- UTF-8 repair -------------------------------------------------------- */

int trove_extract__utf8_append(trove_buf *b, const char *src, size_t n) {
  const unsigned char *s = (const unsigned char *)src;
  size_t old = b->len, i = 0;
  if (trove_buf_reserve(b, n))
    return TROVE_ENOMEM;
  while (i < n) {
    size_t run = i;
    while (run < n && s[run] >= 0x20 && s[run] < 0x7F)
      run++; /* printable ASCII: copy as a span */
    if (run > i && trove_buf_append(b, s + i, run - i))
      goto fail;
    i = run;
    if (i >= n)
      break;
    unsigned char c = s[i];
    int rc = 0;
    if (c == '\n' || c == '\t')
      rc = trove_buf_putc(b, (char)c), i++;
    else if (c == '\r') {
      i++;
      if (i >= n || s[i] != '\n')
        rc = trove_buf_putc(b, '\n');
    } else if (c < 0x80)
      i++; /* NUL, other C0 controls, DEL: dropped */
    else {
      size_t k = trove_utf8_seq((const char *)s + i, n - i);
      if (k == 2 && c == 0xC2 && s[i + 1] < 0xA0)
        i += 2; /* C1 control: dropped */
      else if (k)
        rc = trove_buf_append(b, s + i, k), i += k;
      else
        rc = trove_buf_append(b, "\xEF\xBF\xBD", 3), i++;
    }
    if (rc)
      goto fail;
  }
  return 0;
fail:
  b->len = old;
  if (b->data)
    b->data[old] = '\0';
  return TROVE_ENOMEM;
}

/* Byte length of the whitespace character at s, 0 when s is not one. */
static size_t space_len(const unsigned char *s, size_t n) {
  if (s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r'))
    return 1;
  if (n >= 2 && s[0] == 0xC2 && s[1] == 0xA0)
    return 2; /* NBSP */
  if (n >= 3 && s[0] == 0xE2 && s[1] == 0x80 && (s[2] <= 0x8B || s[2] == 0xAF))
    return 3; /* U+2000..U+200B, U+202F */
  if (n >= 3 && ((s[0] == 0xE2 && s[1] == 0x81 && s[2] == 0x9F) ||
                 (s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x80) ||
                 (s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)))
    return 3; /* U+205F, U+3000, BOM */
  return 0;
}

int trove_extract__fold_append(trove_buf *b, const char *src, size_t n, bool *space) {
  const unsigned char *s = (const unsigned char *)src;
  size_t i = 0;
  while (i < n) {
    size_t k = space_len(s + i, n - i);
    if (k) {
      *space = true;
      i += k;
      continue;
    }
    size_t run = i;
    while (run < n && !space_len(s + run, n - run))
      run++;
    if (*space && b->len > 0 && b->data[b->len - 1] != ' ' && b->data[b->len - 1] != '\n' &&
        trove_buf_putc(b, ' '))
      return TROVE_ENOMEM;
    *space = false;
    if (trove_extract__utf8_append(b, src + i, run - i))
      return TROVE_ENOMEM;
    i = run;
  }
  return 0;
}

char *trove_extract__clean_dup(const char *s, size_t n) {
  trove_buf b = {0};
  bool space = false;
  if (trove_extract__fold_append(&b, s, n, &space)) {
    trove_buf_free(&b);
    return NULL;
  }
  trove_extract__rtrim(&b);
  return trove_buf_take(&b);
}

void trove_extract__rtrim(trove_buf *b) {
  while (b->len > 0 && (b->data[b->len - 1] == ' ' || b->data[b->len - 1] == '\n' ||
                        b->data[b->len - 1] == '\t'))
    b->data[--b->len] = '\0';
}

/* ---- blocks -------------------------------------------------------------- */

static bool blank(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

/* Trims s[0..*n): surrounding blanks, except that a code block keeps the
 * indentation of its first line (only whole blank lines go). */
static const char *trim_span(trove_block_kind kind, const char *s, size_t *n) {
  size_t a = 0, z = *n;
  if (kind == TROVE_BLOCK_CODE) {
    for (size_t k = 0; k < z; k++) {
      if (s[k] == '\n')
        a = k + 1;
      else if (!blank(s[k]))
        break;
    }
  } else
    while (a < z && blank(s[a]))
      a++;
  while (z > a && blank(s[z - 1]))
    z--;
  *n = z - a;
  return s + a;
}

int trove_extract__out_block(xout *o, trove_block_kind kind, int level, const char *s, size_t n) {
  s = trim_span(kind, s, &n);
  if (n == 0)
    return 0;
  if (o->n_blocks == o->cap_blocks) {
    size_t cap = o->cap_blocks ? o->cap_blocks * 2 : 32, bytes;
    if (!trove_mul_ok(cap, sizeof *o->blocks, &bytes))
      return TROVE_ENOMEM;
    trove_block *nb = trove_realloc(o->blocks, bytes);
    if (!nb)
      return TROVE_ENOMEM;
    o->blocks = nb;
    o->cap_blocks = cap;
  }
  size_t before = o->text.len;
  if (before > 0 && trove_buf_append(&o->text, "\n\n", 2))
    return TROVE_ENOMEM;
  size_t start = o->text.len;
  int rc = trove_extract__utf8_append(&o->text, s, n);
  if (rc == 0 && o->text.len > start) {
    o->blocks[o->n_blocks++] =
        (trove_block){.kind = kind, .level = level, .start = start, .len = o->text.len - start};
    return 0;
  }
  o->text.len = before; /* failed, or only dropped control bytes: undo the separator */
  if (o->text.data)
    o->text.data[before] = '\0';
  return rc;
}

void trove_extract__out_free(xout *o) {
  trove_buf_free(&o->text);
  trove_free(o->blocks);
  *o = (xout){0};
}

char *trove_extract__excerpt(const char *s, size_t n) {
  enum { MAX = 300, MIN_CUT = 150 };
  if (n <= MAX)
    return trove_extract__clean_dup(s, n);
  size_t cut = MAX;
  while (cut > MIN_CUT && s[cut] != ' ' && s[cut] != '\n')
    cut--;
  while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
    cut--; /* never split a character */
  trove_buf b = {0};
  bool space = false;
  if (trove_extract__fold_append(&b, s, cut, &space))
    goto out_free_buf;
  trove_extract__rtrim(&b);
  if (trove_buf_puts(&b, "\xE2\x80\xA6")) /* … */
    goto out_free_buf;
  return trove_buf_take(&b);
out_free_buf:
  trove_buf_free(&b);
  return NULL;
}

/* The excerpt a document without a declared one gets: its first paragraph
 * of 80 bytes or more, else its first prose block. */
static int default_excerpt(trove_doc *doc, const xout *o) {
  const trove_block *pick = NULL;
  for (size_t i = 0; i < o->n_blocks && !pick; i++)
    if (o->blocks[i].kind == TROVE_BLOCK_PARA && o->blocks[i].len >= 80)
      pick = &o->blocks[i];
  for (size_t i = 0; i < o->n_blocks && !pick; i++)
    if (o->blocks[i].kind == TROVE_BLOCK_PARA || o->blocks[i].kind == TROVE_BLOCK_QUOTE)
      pick = &o->blocks[i];
  if (!pick)
    return 0;
  char *e = trove_extract__excerpt(o->text.data + pick->start, pick->len);
  if (!e)
    return TROVE_ENOMEM;
  trove_free(doc->excerpt);
  doc->excerpt = e;
  return 0;
}

int trove_extract__out_finish(xout *o, trove_doc *doc) {
  if (doc->excerpt[0] == '\0' && default_excerpt(doc, o))
    goto fail;
  size_t len = o->text.len;
  char *text = trove_buf_take(&o->text);
  if (!text)
    goto fail;
  trove_free(doc->text);
  doc->text = text;
  doc->text_len = len;
  trove_free(doc->blocks);
  doc->blocks = o->n_blocks ? o->blocks : NULL;
  doc->n_blocks = o->n_blocks;
  if (!o->n_blocks)
    trove_free(o->blocks);
  *o = (xout){0};
  return 0;
fail:
  trove_extract__out_free(o);
  return TROVE_ENOMEM;
}

/* ---- documents ----------------------------------------------------------- */

trove_doc *trove_extract__doc_new(void) {
  trove_doc *d = trove_calloc(1, sizeof *d);
  if (!d)
    return NULL;
  d->kind = TROVE_DOC_NONE;
  char **slots[] = {&d->title, &d->byline, &d->excerpt, &d->lang, &d->text};
  for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++)
    if (!(*slots[i] = trove_strdup(""))) {
      trove_doc_destroy(d);
      return NULL;
    }
  return d;
}

int trove_extract__doc_set(char **slot, const char *s, size_t n) {
  char *c = trove_extract__clean_dup(s, n);
  if (!c)
    return TROVE_ENOMEM;
  if (c[0] == '\0') {
    trove_free(c);
    return 0;
  }
  trove_free(*slot);
  *slot = c;
  return 0;
}

void trove_doc_destroy(trove_doc *doc) {
  if (!doc)
    return;
  trove_free(doc->title);
  trove_free(doc->byline);
  trove_free(doc->excerpt);
  trove_free(doc->lang);
  trove_free(doc->text);
  trove_free(doc->blocks);
  trove_free(doc);
}
