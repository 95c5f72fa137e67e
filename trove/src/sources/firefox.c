/* firefox.c: the firefox source. Reads a profile's places.sqlite, from a
 * private copy (browser_db.c; Firefox keeps it in WAL mode, so the -wal is
 * copied too): history from moz_places (last_visit_date, NULL when never
 * visited) and bookmarks from moz_bookmarks rows of type 1 (TYPE_BOOKMARK,
 * a URL; folders are 2, separators 3) joined to moz_places by fk. Firefox
 * times are already Unix microseconds (PRTime). Rows are read whole at
 * open, so the copy is deleted before trove_source_open_firefox returns.
 *
 * Source-reading SQL: this file, chromium.c and browser_db.c are the only
 * SQL outside trove's storage module, and they only read browsers' files. */
#include "sources_int.h"

#include <string.h>

static const char history_sql[] = "SELECT url, title, last_visit_date FROM moz_places"
                                  " WHERE last_visit_date IS NOT NULL AND hidden = 0";

static const char bookmarks_sql[] =
    "SELECT p.url, b.title, b.dateAdded, p.last_visit_date"
    " FROM moz_bookmarks AS b JOIN moz_places AS p ON p.id = b.fk WHERE b.type = 1";

int trove_sources__firefox_open(const char *location, int items, const char *copy_dir,
                                int64_t since_us, size_t max_rows, trove_source **out,
                                trove_err *err) {
  if (!out)
    return trove_err_set(err, TROVE_EINVAL, "trove_source_open_firefox: NULL output");
  *out = NULL;
  if (!location || !*location)
    return trove_err_set(err, TROVE_EINVAL, "firefox source: no profile directory given");
  if (items == 0 || (items & ~(TROVE_FIREFOX_HISTORY | TROVE_FIREFOX_BOOKMARKS)))
    return trove_err_set(err, TROVE_EINVAL,
                         "firefox source: choose history, bookmarks or both (got %d)", items);
  const char *what = "Firefox places";
  browser_db bdb;
  weblist l = {0};
  trove_source_stats st = {0};
  int rc = trove_sources__browser_db_open(location, "places.sqlite", what, copy_dir, &bdb, err);
  if (rc)
    return rc;
  /* the recent rows: history visited after since_us, oldest first, up
   * to max_rows; bookmarks added or visited since (few: not limited).
   * Integers only reach the SQL. */
  bool recent = since_us || max_rows;
  char hsql[256], bsql[256];
  snprintf(hsql, sizeof hsql, "%s AND last_visit_date > %lld ORDER BY last_visit_date "
           "LIMIT %lld", history_sql, (long long)since_us, max_rows ? (long long)max_rows : -1LL);
  snprintf(bsql, sizeof bsql, "%s AND (b.dateAdded > %lld OR p.last_visit_date > %lld)",
           bookmarks_sql, (long long)since_us, (long long)since_us);
  if (items & TROVE_FIREFOX_HISTORY)
    rc = trove_sources__browser_db_collect(&bdb, recent ? hsql : history_sql, what, TROVE_ITEM_WEB,
                                           false, &l, &st, err);
  if (rc == 0 && (items & TROVE_FIREFOX_BOOKMARKS))
    rc = trove_sources__browser_db_collect(&bdb, recent ? bsql : bookmarks_sql, what,
                                           TROVE_ITEM_BOOKMARK, false, &l, &st, err);
  return trove_sources__browser_db_end(&bdb, "SELECT max(id) FROM moz_historyvisits", rc, &l, &st,
                                       location, out, err);
}

int trove_source_open_firefox(const char *location, int items, const char *copy_dir,
                              trove_source **out, trove_err *err) {
  return trove_sources__firefox_open(location, items, copy_dir, 0, 0, out, err);
}

int trove_source_open_history_since(const char *type, const char *location,
                                    const char *copy_dir, int64_t since_us, size_t max_rows,
                                    trove_source **out, trove_err *err) {
  if (out)
    *out = NULL;
  if (type && strcmp(type, "chromium-history") == 0)
    return trove_sources__chromium_history_open(location, copy_dir, since_us, max_rows, out, err);
  if (type && strcmp(type, "firefox") == 0)
    return trove_sources__firefox_open(location, TROVE_FIREFOX_HISTORY | TROVE_FIREFOX_BOOKMARKS,
                                       copy_dir, since_us, max_rows, out, err);
  return trove_err_set(err, TROVE_EINVAL, "source type %s has no history to read by time",
                       type ? type : "(null)");
}
