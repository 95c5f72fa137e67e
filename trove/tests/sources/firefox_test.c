/* firefox_test.c: the firefox source (firefox.c) over places.sqlite files
 * built here in Firefox's real schema with real Unix-µs times: history,
 * bookmarks (type 1 only, joined to moz_places), the choice of items, a URL
 * both visited and bookmarked, the WAL copy Firefox needs, and failures
 * (missing, garbage, wrong schema, bad flags), plus a fault loop. */
#include "sources.h"
#include "core_test_hooks.h" /* trove_alloc_fail_after */
#include "testdb.h"

#include "check.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char work[256], copies[300], profile[300], places[400];

/* Visited 2023-11-14 22:13:20 UTC and a minute later, in PRTime (Unix µs). */
#define T1 INT64_C(1700000000000000)
#define T2 INT64_C(1700000060000000)

static const char rows[] =
    "INSERT INTO moz_places(id, url, title, rev_host, visit_count, hidden, frecency,"
    " last_visit_date, guid) VALUES"
    " (10, 'https://mozilla.org/en-US/', 'Mozilla', 'gro.allizom.', 2, 0, 100,"
    "  1700000000000000, 'g10'),"
    " (11, 'https://mozilla.org/en-US/#top', 'Mozilla top', 'gro.allizom.', 1, 0, 50,"
    "  1700000060000000, 'g11'),"
    " (12, 'https://docs.example/guide', 'Guide', 'elpmaxe.scod.', 1, 0, 10,"
    "  1700000000000000, 'g12'),"
    " (13, 'https://never.example/', 'Bookmarked, never visited', 'elpmaxe.reven.', 0, 0, 0,"
    "  NULL, 'g13'),"
    " (14, 'place:sort=8&maxResults=10', 'Recent', NULL, 0, 0, 0, NULL, 'g14'),"
    " (15, 'about:config', 'about', NULL, 3, 0, 0, 1700000000000000, 'g15'),"
    " (16, 'https://redirect.example/', 'hidden', 'elpmaxe.tcerider.', 1, 1, 0,"
    "  1700000000000000, 'g16');"
    "INSERT INTO moz_historyvisits(place_id, visit_date, visit_type) VALUES"
    " (10, 1700000000000000, 1), (11, 1700000060000000, 1), (12, 1700000000000000, 2);"
    "INSERT INTO moz_bookmarks(type, fk, parent, position, title, dateAdded, lastModified, guid)"
    " VALUES (1, 12, 3, 0, 'The guide', 1600000000000000, 1600000000000000, 'b1'),"
    " (1, 13, 3, 1, NULL, 1650000000000000, 1650000000000000, 'b2'),"
    " (2, NULL, 3, 2, 'A folder', 1600000000000000, 1600000000000000, 'b3'),"
    " (3, NULL, 3, 3, NULL, 1600000000000000, 1600000000000000, 'b4'),"
    " (1, 14, 3, 4, 'smart', 1600000000000000, 1600000000000000, 'b5');";

static void make_places(const char *sql) {
  tdb_remove(profile);
  CHECK(mkdir(profile, 0700) == 0);
  CHECK(tdb_exec(places, tdb_firefox_schema) == SQLITE_OK);
  if (sql)
    CHECK(tdb_exec(places, sql) == SQLITE_OK);
}

typedef struct got {
  trove_candidate c[64];
  size_t n;
  trove_source_stats st;
} got;

static int collect(int items, got *g, trove_err *e) {
  memset(g, 0, sizeof *g);
  trove_source *src = NULL;
  int rc = trove_source_open_firefox(profile, items, NULL, &src, e);
  CHECK(tdb_entries(copies) == 0);
  if (rc) {
    CHECK(src == NULL);
    return rc;
  }
  trove_batch b = {0};
  int n = trove_source_next(src, &b, NULL);
  CHECK(n >= 0 && n < 64);
  g->n = b.n;
  memcpy(g->c, b.items, b.n * sizeof b.items[0]);
  b.n = 0; /* g owns the strings now */
  CHECK(trove_source_next(src, &b, NULL) == 0);
  trove_source_get_stats(src, &g->st);
  trove_source_close(src);
  return 0;
}

static void got_free(got *g) {
  trove_batch b = {0};
  memcpy(b.items, g->c, g->n * sizeof g->c[0]);
  b.n = g->n;
  trove_batch_clear(&b);
  g->n = 0;
}

static const trove_candidate *find(const got *g, const char *url) {
  return tdb_find(g->c, g->n, url);
}

static got g;

static void firefox_history_only(void) {
  make_places(rows);
  CHECK(collect(TROVE_FIREFOX_HISTORY, &g, NULL) == 0);
  CHECK(g.n == 2);
  const trove_candidate *m = find(&g, "https://mozilla.org/en-US/");
  CHECK(m && m->type == TROVE_ITEM_WEB && m->time_us == T2 && m->visited_us == T2);
  CHECK(m && m->title && strcmp(m->title, "Mozilla top") == 0); /* the latest title */
  const trove_candidate *d = find(&g, "https://docs.example/guide");
  CHECK(d && d->type == TROVE_ITEM_WEB && d->time_us == T1);
  CHECK(g.st.not_http == 1 && g.st.duplicates == 1); /* about:config; the #top row */
  got_free(&g);
}

static void firefox_bookmarks_only(void) {
  make_places(rows);
  CHECK(collect(TROVE_FIREFOX_BOOKMARKS, &g, NULL) == 0);
  CHECK(g.n == 2);
  const trove_candidate *d = find(&g, "https://docs.example/guide");
  CHECK(d && d->type == TROVE_ITEM_BOOKMARK);
  CHECK(d && d->time_us == INT64_C(1600000000000000) && d->visited_us == T1);
  CHECK(d && d->title && strcmp(d->title, "The guide") == 0);
  const trove_candidate *nv = find(&g, "https://never.example/");
  CHECK(nv && nv->type == TROVE_ITEM_BOOKMARK && nv->visited_us == 0);
  CHECK(nv && nv->title == NULL); /* a NULL bookmark title; no history row to lend one */
  CHECK(g.st.not_http == 1);      /* the place: query bookmark */
  got_free(&g);
}

static void firefox_both_yield_one_candidate_per_url(void) {
  make_places(rows);
  CHECK(collect(TROVE_FIREFOX_HISTORY | TROVE_FIREFOX_BOOKMARKS, &g, NULL) == 0);
  CHECK(g.n == 3);
  const trove_candidate *d = find(&g, "https://docs.example/guide");
  CHECK(d && d->type == TROVE_ITEM_BOOKMARK && d->visited_us == T1);
  CHECK(d && d->title && strcmp(d->title, "The guide") == 0);
  CHECK(find(&g, "https://mozilla.org/en-US/") && find(&g, "https://never.example/"));
  got_free(&g);
}

static void firefox_reads_the_wal_of_a_running_browser(void) {
  make_places(NULL);
  sqlite3 *db = tdb_open(places);
  CHECK(db != NULL);
  CHECK(tdb_run(db, "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;") == SQLITE_OK);
  CHECK(tdb_run(db, rows) == SQLITE_OK);
  CHECK(tdb_run(db, "BEGIN IMMEDIATE;") == SQLITE_OK); /* a writer holds the lock */
  CHECK(collect(TROVE_FIREFOX_HISTORY | TROVE_FIREFOX_BOOKMARKS, &g, NULL) == 0);
  CHECK(g.n == 3);
  got_free(&g);
  tdb_run(db, "ROLLBACK;");
  sqlite3_close(db);
}

static void firefox_failures_are_clear(void) {
  trove_err e = {0};
  make_places(rows);
  CHECK(collect(0, &g, &e) == TROVE_EINVAL && strstr(e.msg, "history, bookmarks"));
  CHECK(collect(8, &g, &e) == TROVE_EINVAL);
  trove_source *src = (trove_source *)1;
  CHECK(trove_source_open_firefox(NULL, 1, NULL, &src, &e) == TROVE_EINVAL && src == NULL);
  CHECK(trove_source_open_firefox(profile, 1, NULL, NULL, &e) == TROVE_EINVAL);
  tdb_remove(profile);
  CHECK(collect(TROVE_FIREFOX_HISTORY, &g, &e) == TROVE_ENOENT && strstr(e.msg, profile));
  CHECK(mkdir(profile, 0700) == 0);
  CHECK(collect(TROVE_FIREFOX_HISTORY, &g, &e) == TROVE_ENOENT && strstr(e.msg, "places.sqlite"));
  static const char junk[] = "SQLite format 3\0 but then nothing sensible follows";
  CHECK(tdb_write(places, junk, sizeof junk)); /* the right magic, then junk */
  CHECK(collect(TROVE_FIREFOX_HISTORY, &g, &e) == TROVE_ECORRUPT);
  tdb_remove(profile);
  CHECK(mkdir(profile, 0700) == 0);
  CHECK(tdb_exec(places, tdb_chromium_schema) == SQLITE_OK); /* the wrong browser */
  CHECK(collect(TROVE_FIREFOX_BOOKMARKS, &g, &e) == TROVE_EUNSUPPORTED);
  CHECK(strstr(e.msg, "not a Firefox places database") != NULL);
}

static void firefox_fault_loop_is_clean(void) {
  make_places(rows);
  long failed = 1;
  int n;
  for (n = 0; n < 200 && failed; n++) {
    trove_alloc_fail_after(n, false);
    int rc = collect(TROVE_FIREFOX_HISTORY | TROVE_FIREFOX_BOOKMARKS, &g, NULL);
    failed = trove_alloc_fail_after(-1, false);
    CHECK(rc == 0 || rc == TROVE_ENOMEM);
    if (rc == 0)
      CHECK(g.n == 3);
    got_free(&g);
  }
  CHECK(failed == 0 && n > 5);
}

int main(void) {
  if (!tdb_tempdir(work, sizeof work, "firefox"))
    return 1;
  snprintf(copies, sizeof copies, "%s/tmp", work);
  snprintf(profile, sizeof profile, "%s/abcd1234.default-release", work);
  snprintf(places, sizeof places, "%s/places.sqlite", profile);
  CHECK(mkdir(copies, 0700) == 0);
  setenv("TMPDIR", copies, 1);
  RUN(firefox_history_only);
  RUN(firefox_bookmarks_only);
  RUN(firefox_both_yield_one_candidate_per_url);
  RUN(firefox_reads_the_wal_of_a_running_browser);
  RUN(firefox_failures_are_clear);
  RUN(firefox_fault_loop_is_clean);
  tdb_remove(work);
  return check_done("firefox_test");
}
