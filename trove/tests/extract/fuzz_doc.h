/* fuzz_doc.h: the invariants of a trove_doc that the extraction fuzz targets
 * (fuzz_html.c, fuzz_markdown.c) check after every input that extracts:
 * what extract.h promises its callers. */
#ifndef TROVE_FUZZ_DOC_H
#define TROVE_FUZZ_DOC_H

#include "extract.h"

#include <stdbool.h>
#include <string.h>

/* True when s[0..n) is valid UTF-8 with no NUL byte. */
static inline bool fuzz_utf8_clean(const char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    size_t k = trove_utf8_seq(s + i, n - i);
    if (k == 0 || s[i] == '\0')
      return false;
    i += k;
  }
  return true;
}

/* True when every string is set and clean, text_len is the text's length,
 * and the blocks are non-empty, in order, inside text and of a known kind. */
static inline bool fuzz_doc_ok(const trove_doc *d) {
  const char *s[] = {d->title, d->byline, d->excerpt, d->lang, d->text};
  for (size_t i = 0; i < sizeof s / sizeof *s; i++)
    if (!s[i] || !fuzz_utf8_clean(s[i], strlen(s[i])))
      return false;
  if (strlen(d->text) != d->text_len || (d->n_blocks > 0) != (d->blocks != NULL))
    return false;
  size_t end = 0;
  for (size_t i = 0; i < d->n_blocks; i++) {
    const trove_block *b = &d->blocks[i];
    if (b->len == 0 || b->start < end || b->start > d->text_len ||
        b->len > d->text_len - b->start || b->kind < TROVE_BLOCK_PARA ||
        b->kind > TROVE_BLOCK_QUOTE)
      return false;
    end = b->start + b->len;
  }
  return d->link_density >= 0 && d->link_density <= 1 &&
         d->is_link_hub == (d->kind == TROVE_DOC_LINK_HUB);
}

#endif /* TROVE_FUZZ_DOC_H */
