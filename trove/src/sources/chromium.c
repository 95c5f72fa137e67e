/* chromium.c: the chromium-history source. Reads the `urls` table of a
 * profile's History database (Chrome, Chromium, Edge, Brave share it), from
 * a private copy (browser_db.c). Chromium stores times as microseconds since
 * 1601-01-01 UTC (Windows FILETIME's epoch, in µs); they are converted to
 * Unix µs by subtracting 11644473600 s. Hidden rows (subframe navigations
 * the user never saw as pages) are skipped. Rows are read whole at open, so
 * the copy is deleted before trove_source_open_chromium_history returns.
 *
 * Source-reading SQL: this file, firefox.c and browser_db.c are the only
 * SQL outside trove's storage module, and they only read browsers' files. */
#include "sources_int.h"

#include <string.h>

static const char history_sql[] = "SELECT url, title, last_visit_time FROM urls WHERE hidden = 0";

int trove_source_open_chromium_history(const char *location, const char *copy_dir,
                                       trove_source **out, trove_err *err) {
  if (!out)
    return trove_err_set(err, TROVE_EINVAL, "trove_source_open_chromium_history: NULL output");
  *out = NULL;
  if (!location || !*location)
    return trove_err_set(err, TROVE_EINVAL, "chromium-history source: no profile directory given");
  const char *what = "Chromium history";
  browser_db bdb;
  weblist l = {0};
  trove_source_stats st = {0};
  int rc = trove_sources__browser_db_open(location, "History", what, copy_dir, &bdb, err);
  if (rc)
    return rc;
  rc = trove_sources__browser_db_collect(&bdb, history_sql, what, TROVE_ITEM_WEB, true, &l, &st,
                                         err);
  trove_sources__browser_db_close(&bdb);
  if (rc) {
    trove_sources__weblist_free(&l);
    return rc;
  }
  trove_sources__weblist_finish(&l, &st);
  rc = trove_sources__weblist_source(&l, &st, out);
  return rc ? trove_err_set(err, rc, "out of memory opening %s", location) : 0;
}
