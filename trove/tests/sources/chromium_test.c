/* chromium_test.c: the chromium-history source (chromium.c, browser_db.c,
 * weblist.c) over History files built here in Chromium's real schema with
 * real 1601-epoch times: conversion, filtering, fragment stripping and
 * merging, batching, the -wal copy, a DB held under an exclusive lock, and
 * every failure: missing profile, 0 bytes, garbage, truncation, wrong
 * schema, plus a fault loop. Copies go to a private $TMPDIR, checked empty
 * after every call. */
#include "sources.h"
#include "core_test_hooks.h" /* trove_alloc_fail_after */
#include "testdb.h"

#include "check.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char work[256], copies[300], profile[300], history[400];

static void fresh_profile(void) {
  tdb_remove(profile);
  CHECK(mkdir(profile, 0700) == 0);
}

/* A profile whose History holds the given rows (after the schema). */
static void make_history(const char *rows) {
  fresh_profile();
  CHECK(tdb_exec(history, tdb_chromium_schema) == SQLITE_OK);
  if (rows)
    CHECK(tdb_exec(history, rows) == SQLITE_OK);
}

typedef struct got {
  trove_candidate c[300];
  size_t n, batches;
} got;

/* Opens the source and takes every candidate (strings owned by g until
 * got_free). Returns open's code. */
static int collect(const char *location, got *g, trove_source_stats *st, trove_err *e) {
  memset(g, 0, sizeof *g);
  trove_source *src = NULL;
  int rc = trove_source_open_chromium_history(location, NULL, &src, e);
  CHECK(tdb_entries(copies) == 0); /* the copy is gone, success or not */
  if (rc) {
    CHECK(src == NULL);
    return rc;
  }
  trove_batch b = {0};
  int n;
  while ((n = trove_source_next(src, &b, NULL)) > 0) {
    g->batches++;
    for (size_t i = 0; i < b.n && g->n < 300; i++) {
      g->c[g->n++] = b.items[i];
      memset(&b.items[i], 0, sizeof b.items[i]);
    }
    b.n = 0;
  }
  CHECK(n == 0);
  if (st)
    trove_source_get_stats(src, st);
  trove_source_close(src);
  return 0;
}

static void got_free(got *g) {
  for (size_t i = 0; i < g->n; i++) {
    trove_free(g->c[i].external_id);
    trove_free(g->c[i].title);
    trove_free(g->c[i].path);
  }
  g->n = 0;
}

static const trove_candidate *find(const got *g, const char *url) {
  return tdb_find(g->c, g->n, url);
}

static got g;

static void history_converts_times_filters_and_merges(void) {
  char sql[4096];
  int64_t t1 = tdb_chromium_time(1700000000), t2 = tdb_chromium_time(1700000100),
          t3 = tdb_chromium_time(1700000200);
  snprintf(sql, sizeof sql,
           "INSERT INTO urls(url, title, visit_count, last_visit_time) VALUES"
           " ('https://example.com/a', 'Page A', 3, %lld),"
           " ('https://example.com/a#section', '', 1, %lld)," /* later, no title */
           " ('https://Example.com/b#x', 'B old', 1, %lld),"
           " ('https://example.com/b', 'B new', 1, %lld),"
           " ('https://example.com/c', 'C latest titled', 1, %lld),"
           " ('https://example.com/c#later', NULL, 1, %lld),"
           " ('chrome://settings/', 'Settings', 1, %lld),"
           " ('file:///etc/passwd', 'passwd', 1, %lld),"
           " ('ftp://ftp.example.com/', 'ftp', 1, %lld),"
           " (NULL, 'no url', 1, %lld),"
           " ('http://never.example/', 'Never visited', 0, 0),"
           " ('https://example.com/latin', CAST(X'436166E9' AS TEXT), 1, %lld);"
           "INSERT INTO urls(url, title, last_visit_time, hidden) VALUES"
           " ('https://ads.example/frame', 'iframe', %lld, 1);"
           "INSERT INTO visits(url, visit_time) SELECT id, last_visit_time FROM urls;",
           (long long)t1, (long long)t2, (long long)t1, (long long)t2, (long long)t2, (long long)t3,
           (long long)t1, (long long)t1, (long long)t1, (long long)t1, (long long)t1,
           (long long)t1);
  make_history(sql);
  trove_source_stats st;
  trove_err e = {0};
  CHECK(collect(profile, &g, &st, &e) == 0);
  CHECK(g.n == 5);
  const trove_candidate *a = find(&g, "https://example.com/a");
  CHECK(a && a->type == TROVE_ITEM_WEB && a->path == NULL && a->size == -1);
  CHECK(a && a->time_us == INT64_C(1700000100) * 1000000); /* latest visit, Unix µs */
  CHECK(a && a->visited_us == a->time_us);
  CHECK(a && a->title && strcmp(a->title, "Page A") == 0); /* the empty title lost */
  const trove_candidate *b = find(&g, "https://example.com/b");
  CHECK(b && b->title && strcmp(b->title, "B new") == 0);
  const trove_candidate *c = find(&g, "https://example.com/c");
  CHECK(c && c->time_us == INT64_C(1700000200) * 1000000);
  CHECK(c && c->title && strcmp(c->title, "C latest titled") == 0);
  const trove_candidate *n = find(&g, "http://never.example/");
  CHECK(n && n->time_us == 0);
  const trove_candidate *l = find(&g, "https://example.com/latin");
  CHECK(l && l->title == NULL);                         /* not UTF-8: dropped, not passed on */
  CHECK(find(&g, "https://ads.example/frame") == NULL); /* hidden */
  CHECK(st.not_http == 3 && st.bad_rows == 1 && st.duplicates == 3 && st.yielded == 5);
  got_free(&g);
}

static void history_batches_of_64(void) {
  make_history("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 150)"
               " INSERT INTO urls(url, title, last_visit_time)"
               " SELECT 'https://site.example/p' || i, 'P' || i, 13300000000000000 + i FROM n;");
  CHECK(collect(profile, &g, NULL, NULL) == 0);
  CHECK(g.n == 150 && g.batches == 3);
  got_free(&g);
}

static void history_location_may_be_the_file(void) {
  make_history(
      "INSERT INTO urls(url, title, last_visit_time) VALUES ('https://x.example/', 'X', 1);");
  CHECK(collect(history, &g, NULL, NULL) == 0 && g.n == 1);
  got_free(&g);
}

static void history_copy_includes_uncheckpointed_wal(void) {
  make_history(NULL);
  sqlite3 *db = tdb_open(history);
  CHECK(db != NULL);
  CHECK(tdb_run(db, "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;"
                    "INSERT INTO urls(url, title, last_visit_time)"
                    " VALUES ('https://wal.example/', 'only in the wal', 13300000000000000);") ==
        SQLITE_OK);
  char wal[500];
  snprintf(wal, sizeof wal, "%s-wal", history);
  CHECK(access(wal, F_OK) == 0); /* the row lives in the -wal while db is open */
  CHECK(collect(profile, &g, NULL, NULL) == 0);
  CHECK(g.n == 1 && find(&g, "https://wal.example/"));
  got_free(&g);
  sqlite3_close(db);
}

static void history_reads_through_an_exclusive_lock(void) {
  make_history("INSERT INTO urls(url, title, last_visit_time)"
               " VALUES ('https://committed.example/', 'C', 13300000000000000);");
  sqlite3 *db = tdb_open(history);
  CHECK(db != NULL);
  CHECK(tdb_run(db,
                "BEGIN EXCLUSIVE; INSERT INTO urls(url, title, last_visit_time)"
                " VALUES ('https://uncommitted.example/', 'U', 13300000000000000);") == SQLITE_OK);
  /* a direct reader is locked out ... */
  sqlite3 *other = tdb_open(history);
  CHECK(other && sqlite3_exec(other, "SELECT count(*) FROM urls", NULL, NULL, NULL) == SQLITE_BUSY);
  sqlite3_close(other);
  /* ... but the copy is readable and holds the committed rows */
  trove_err e = {0};
  CHECK(collect(profile, &g, NULL, &e) == 0);
  CHECK(find(&g, "https://committed.example/") != NULL);
  got_free(&g);
  tdb_run(db, "ROLLBACK;");
  sqlite3_close(db);
}

static void history_missing_profile_or_file_is_enoent(void) {
  trove_err e = {0};
  char p[500];
  snprintf(p, sizeof p, "%s/no-such-profile", work);
  CHECK(collect(p, &g, NULL, &e) == TROVE_ENOENT);
  CHECK(strstr(e.msg, "no-such-profile") != NULL);
  fresh_profile(); /* a directory without History */
  CHECK(collect(profile, &g, NULL, &e) == TROVE_ENOENT);
  CHECK(strstr(e.msg, "no History in") && strstr(e.msg, profile));
}

static void history_empty_file_is_ecorrupt(void) {
  fresh_profile();
  CHECK(tdb_write(history, "", 0));
  trove_err e = {0};
  CHECK(collect(profile, &g, NULL, &e) == TROVE_ECORRUPT);
  CHECK(strstr(e.msg, "empty") && strstr(e.msg, "History"));
}

static void history_garbage_is_ecorrupt(void) {
  fresh_profile();
  char junk[8192];
  unsigned long seed = check_seed("chromium_test");
  srand((unsigned)seed);
  for (size_t i = 0; i < sizeof junk; i++)
    junk[i] = (char)(rand() & 0xff);
  CHECK(tdb_write(history, junk, sizeof junk));
  trove_err e = {0};
  CHECK(collect(profile, &g, NULL, &e) == TROVE_ECORRUPT);
  CHECK(strstr(e.msg, history) && strstr(e.msg, "damaged"));
}

static void history_truncated_is_ecorrupt(void) {
  make_history("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)"
               " INSERT INTO urls(url, title, last_visit_time)"
               " SELECT 'https://site.example/a-long-path-to-fill-pages/' || i, 'Title ' || i,"
               " 13300000000000000 + i FROM n;");
  CHECK(truncate(history, 4096 * 6) == 0);
  trove_err e = {0};
  int rc = collect(profile, &g, NULL, &e);
  CHECK(rc == TROVE_ECORRUPT);
  if (rc != TROVE_ECORRUPT)
    fprintf(stderr, "  rc %d: %s\n", rc, e.msg);
  got_free(&g);
}

static void history_wrong_schema_is_unsupported(void) {
  fresh_profile();
  CHECK(tdb_exec(history, "CREATE TABLE cookies(host TEXT, value TEXT);") == SQLITE_OK);
  trove_err e = {0};
  CHECK(collect(profile, &g, NULL, &e) == TROVE_EUNSUPPORTED);
  CHECK(strstr(e.msg, "not a Chromium history database") && strstr(e.msg, "urls"));
  fresh_profile(); /* a urls table without Chromium's columns */
  CHECK(tdb_exec(history, "CREATE TABLE urls(id INTEGER PRIMARY KEY, url TEXT);") == SQLITE_OK);
  CHECK(collect(profile, &g, NULL, &e) == TROVE_EUNSUPPORTED);
}

static void history_copy_failure_is_eio(void) {
  make_history(NULL);
  char bad[400];
  snprintf(bad, sizeof bad, "%s/no-such-tmp", work);
  setenv("TMPDIR", bad, 1);
  trove_err e = {0};
  CHECK(collect(profile, &g, NULL, &e) == TROVE_EIO);
  CHECK(strstr(e.msg, "temporary directory") && strstr(e.msg, "TMPDIR"));
  setenv("TMPDIR", copies, 1);
}

static void history_other_sqlite_failure_is_edb(void) {
  fresh_profile(); /* urls is a view calling a function SQLite does not have */
  CHECK(tdb_exec(history, "CREATE VIEW urls AS SELECT 'https://a/' AS url, '' AS title,"
                          " 0 AS last_visit_time, no_such_function() AS hidden;") == SQLITE_OK);
  trove_err e = {0};
  CHECK(collect(profile, &g, NULL, &e) == TROVE_EDB);
  CHECK(strstr(e.msg, "no_such_function") != NULL);
}

static void history_not_a_file_is_einval(void) {
  fresh_profile();
  CHECK(mkdir(history, 0700) == 0); /* History is a directory */
  trove_err e = {0};
  CHECK(collect(profile, &g, NULL, &e) == TROVE_EINVAL && strstr(e.msg, "not a regular file"));
}

/* A copy directory left by an interrupted scan goes with all it holds; a
 * link standing in its place goes, and what it points to stays. */
static void copies_remove_takes_the_tree_and_never_follows_links(void) {
  char dir[128], copies[160], p[256];
  CHECK(tdb_tempdir(dir, sizeof dir, "copies"));
  char *named = NULL;
  CHECK(trove_source_copy_dir("/x/trove.db", &named, NULL) == 0 &&
        strcmp(named, "/x/trove.db.copies") == 0);
  trove_free(named);
  snprintf(copies, sizeof copies, "%s/db.copies", dir);
  CHECK(trove_source_copies_remove(copies, NULL) == 0); /* none: fine */
  snprintf(p, sizeof p, "%s/trove-copy-1", copies);
  CHECK(mkdir(copies, 0700) == 0 && mkdir(p, 0700) == 0);
  strcat(p, "/History");
  CHECK(tdb_write(p, "x", 1));
  snprintf(p, sizeof p, "%s/stray", copies);
  CHECK(tdb_write(p, "y", 1));
  CHECK(trove_source_copies_remove(copies, NULL) == 0 && access(copies, F_OK) != 0);
  char keep[160];
  snprintf(keep, sizeof keep, "%s/keep", dir);
  CHECK(mkdir(keep, 0700) == 0);
  snprintf(p, sizeof p, "%s/precious", keep);
  CHECK(tdb_write(p, "z", 1));
  CHECK(symlink(keep, copies) == 0);
  CHECK(trove_source_copies_remove(copies, NULL) == 0 && access(copies, F_OK) != 0);
  CHECK(access(p, F_OK) == 0);
  CHECK(trove_source_copies_remove(NULL, NULL) == TROVE_EINVAL);
  tdb_remove(dir);
}

static void history_bad_arguments(void) {
  trove_source *src = (trove_source *)1;
  CHECK(trove_source_open_chromium_history(NULL, NULL, &src, NULL) == TROVE_EINVAL && src == NULL);
  CHECK(trove_source_open_chromium_history("", NULL, &src, NULL) == TROVE_EINVAL);
  CHECK(trove_source_open_chromium_history(profile, NULL, NULL, NULL) == TROVE_EINVAL);
}

static void history_fault_loop_is_clean(void) {
  make_history("INSERT INTO urls(url, title, last_visit_time) VALUES"
               " ('https://a.example/#x', 'A', 13300000000000000),"
               " ('https://a.example/', '', 13300000000000001),"
               " ('https://b.example/', 'B', 13300000000000000);");
  long failed = 1;
  int n;
  for (n = 0; n < 200 && failed; n++) {
    trove_alloc_fail_after(n, false);
    int rc = collect(profile, &g, NULL, NULL);
    failed = trove_alloc_fail_after(-1, false);
    CHECK(rc == 0 || rc == TROVE_ENOMEM);
    if (rc == 0)
      CHECK(g.n == 2 && find(&g, "https://a.example/"));
    got_free(&g);
  }
  CHECK(failed == 0 && n > 5);
}

int main(void) {
  if (!tdb_tempdir(work, sizeof work, "chromium"))
    return 1;
  snprintf(copies, sizeof copies, "%s/tmp", work);
  snprintf(profile, sizeof profile, "%s/Default", work);
  snprintf(history, sizeof history, "%s/History", profile);
  CHECK(mkdir(copies, 0700) == 0);
  setenv("TMPDIR", copies, 1); /* where the source puts its copies */
  RUN(history_converts_times_filters_and_merges);
  RUN(history_batches_of_64);
  RUN(history_location_may_be_the_file);
  RUN(history_copy_includes_uncheckpointed_wal);
  RUN(history_reads_through_an_exclusive_lock);
  RUN(history_missing_profile_or_file_is_enoent);
  RUN(history_empty_file_is_ecorrupt);
  RUN(history_garbage_is_ecorrupt);
  RUN(history_truncated_is_ecorrupt);
  RUN(history_wrong_schema_is_unsupported);
  RUN(history_copy_failure_is_eio);
  RUN(history_other_sqlite_failure_is_edb);
  RUN(history_not_a_file_is_einval);
  RUN(copies_remove_takes_the_tree_and_never_follows_links);
  RUN(history_bad_arguments);
  RUN(history_fault_loop_is_clean);
  tdb_remove(work);
  return check_done("chromium_test");
}
