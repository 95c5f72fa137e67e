/* fuzz_browser_db.c: libFuzzer target for the browser database readers: the
 * bytes are written as a Chromium History file and as a Firefox
 * places.sqlite, and each reader (chromium.c, firefox.c, browser_db.c: copy,
 * open read-only, schema check, queries) reads it to its end. A mutated
 * SQLite file must be refused with a documented code or yield only
 * normalised http(s) URLs (fuzz_drain.h); SQLite's own corruption checks
 * are part of what is exercised.
 * Build: cmake -DTROVE_FUZZ=ON (scripts/fuzz.sh); fuzz_seeds.c runs the same
 * entry point over fuzz/browser_db/ in every build. */
#include "fuzz_drain.h"
#include "../fuzz_tmp.h"

#include <stdint.h>
#include <stdlib.h>

static int refused_ok(int rc) {
  return rc == TROVE_ECORRUPT || rc == TROVE_EUNSUPPORTED || rc == TROVE_EDB ||
         rc == TROVE_ENOMEM || rc == TROVE_EIO;
}

/* Returns 0, or 1 when an invariant is broken. */
int fuzz_browser_db_one(const uint8_t *data, size_t size) {
  char path[600];
  int bad = 0;
  trove_source *src = NULL;
  if (fuzz_write("History", data, size, path, sizeof path)) {
    int rc = trove_source_open_chromium_history(path, fuzz_tmpdir(), &src, NULL);
    bad |= rc == 0 ? fuzz_drain(src) : src != NULL || !refused_ok(rc);
  }
  src = NULL;
  if (fuzz_write("places.sqlite", data, size, path, sizeof path)) {
    int rc = trove_source_open_firefox(path, TROVE_FIREFOX_HISTORY | TROVE_FIREFOX_BOOKMARKS,
                                       fuzz_tmpdir(), &src, NULL);
    bad |= rc == 0 ? fuzz_drain(src) : src != NULL || !refused_ok(rc);
  }
  return bad;
}
