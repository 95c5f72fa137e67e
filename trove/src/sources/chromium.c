/* chromium.c: the chromium-history source. Reads the `urls` table of a
 * profile's History database (Chrome, Chromium, Edge, Brave share it), from
 * a private copy (browser_db.c). Chromium stores times as microseconds since
 * 1601-01-01 UTC (Windows FILETIME's epoch, in µs); they are converted to
 * Unix µs by subtracting 11644473600 s. Hidden rows (subframe navigations
 * the user never saw as pages) are skipped. Rows are read whole at open, so
 * the copy is deleted before trove_source_open_chromium_history returns. A
 * read of the recent rows only (trove_source_open_history_since) takes those
 * last visited after a time, oldest first, up to a number of rows.
 *
 * Source-reading SQL: this file, firefox.c and browser_db.c are the only
 * SQL outside trove's storage module, and they only read browsers' files. */
#include "sources_int.h"

#include <stdio.h>
#include <string.h>

static const char history_sql[] = "SELECT url, title, last_visit_time FROM urls WHERE hidden = 0";

int trove_sources__chromium_history_open(const char *location, const char *copy_dir,
                                         int64_t since_us, size_t max_rows, trove_source **out,
                                         trove_err *err) {
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
  char recent[256];
  /* integers only: nothing of the caller's reaches the SQL as text */
  snprintf(recent, sizeof recent, "%s AND last_visit_time > %lld ORDER BY last_visit_time "
           "LIMIT %lld", history_sql, (long long)unix_to_chromium_us(since_us),
           max_rows ? (long long)max_rows : -1LL);
  rc = trove_sources__browser_db_collect(&bdb, since_us || max_rows ? recent : history_sql, what,
                                         TROVE_ITEM_WEB, true, &l, &st, err);
  return trove_sources__browser_db_end(&bdb, "SELECT max(id) FROM visits", rc, &l, &st, location,
                                       out, err);
}

int trove_source_open_chromium_history(const char *location, const char *copy_dir,
                                       trove_source **out, trove_err *err) {
  return trove_sources__chromium_history_open(location, copy_dir, 0, 0, out, err);
}
