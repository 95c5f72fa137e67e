/* fuzz_html.c: libFuzzer target for reader-mode HTML extraction (gumbo, the
 * flat DOM, scoring, rendering, metadata, the windows-1252 re-encoding). Any
 * bytes are a page; extraction must succeed or fail with a documented code
 * (too large, too deeply nested, out of memory), and a document must keep
 * extract.h's promises (fuzz_doc.h).
 * Build: cmake -DTROVE_FUZZ=ON (scripts/fuzz.sh); fuzz_seeds.c runs the same
 * entry point over fuzz/html/ in every build. */
#include "fuzz_doc.h"

#include <stdint.h>
#include <stdlib.h>

/* Returns 0, or 1 when an invariant is broken. */
int fuzz_html_one(const uint8_t *data, size_t size) {
  trove_doc *doc = NULL;
  int rc = trove_extract_html((const char *)data, size, "https://example.com/dir/page.html", &doc,
                              NULL);
  int bad = rc ? rc != TROVE_ERANGE && rc != TROVE_EUNSUPPORTED && rc != TROVE_ENOMEM
               : !doc || !fuzz_doc_ok(doc);
  trove_doc_destroy(doc);
  return bad;
}
