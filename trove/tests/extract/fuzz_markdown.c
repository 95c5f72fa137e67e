/* fuzz_markdown.c: libFuzzer target for Markdown extraction with YAML front
 * matter, and for plain-text extraction (the same bytes read both ways). Each
 * must succeed or fail with a documented code, and a document must keep
 * extract.h's promises (fuzz_doc.h).
 * Build: cmake -DTROVE_FUZZ=ON (scripts/fuzz.sh); fuzz_seeds.c runs the same
 * entry point over fuzz/markdown/ in every build. */
#include "fuzz_doc.h"

#include <stdint.h>
#include <stdlib.h>

/* Judges one extraction's return code rc and its document *doc, then frees
 * the document. doc is passed by address because the order in which a call's
 * arguments are evaluated is unspecified: check(extract(..., &doc), doc) may
 * read doc before extract sets it. */
static int check(int rc, trove_doc **doc) {
  int bad = rc ? rc != TROVE_ERANGE && rc != TROVE_EUNSUPPORTED && rc != TROVE_ENOMEM
               : !*doc || !fuzz_doc_ok(*doc);
  trove_doc_destroy(*doc);
  *doc = NULL;
  return bad;
}

/* Returns 0, or 1 when an invariant is broken. */
int fuzz_markdown_one(const uint8_t *data, size_t size) {
  trove_doc *doc = NULL;
  int bad = check(trove_extract_markdown((const char *)data, size, &doc, NULL), &doc);
  return bad | check(trove_extract_text((const char *)data, size, &doc, NULL), &doc);
}
