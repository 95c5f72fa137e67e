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

static const char history_sql[] = "SELECT url, title, last_visit_date FROM moz_places"
                                  " WHERE last_visit_date IS NOT NULL AND hidden = 0";

static const char bookmarks_sql[] =
    "SELECT p.url, b.title, b.dateAdded, p.last_visit_date"
    " FROM moz_bookmarks AS b JOIN moz_places AS p ON p.id = b.fk WHERE b.type = 1";

int trove_source_open_firefox(const char *location, int items, const char *copy_dir,
                              trove_source **out, trove_err *err) {
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
  if (items & TROVE_FIREFOX_HISTORY)
    rc = trove_sources__browser_db_collect(&bdb, history_sql, what, TROVE_ITEM_WEB, false, &l, &st,
                                           err);
  if (rc == 0 && (items & TROVE_FIREFOX_BOOKMARKS))
    rc = trove_sources__browser_db_collect(&bdb, bookmarks_sql, what, TROVE_ITEM_BOOKMARK, false,
                                           &l, &st, err);
  trove_sources__browser_db_close(&bdb);
  if (rc) {
    trove_sources__weblist_free(&l);
    return rc;
  }
  trove_sources__weblist_finish(&l, &st);
  rc = trove_sources__weblist_source(&l, &st, out);
  return rc ? trove_err_set(err, rc, "out of memory opening %s", location) : 0;
}
