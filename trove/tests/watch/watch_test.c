/* watch_test.c: the watcher (watch.h) keeps an fs source exactly as a full
 * scan would make it. Each case changes the tree, lets the watcher take the
 * changes (trove_watch_step with flush: inotify queued the events before
 * the change's system call returned, so no sleep is needed), snapshots the
 * source's items (path, type, title, text, content hash, skip reason),
 * runs a full scan, and checks that the scan found nothing to do and the
 * snapshot is the same. Also: trove_scan_paths on its own, a forced queue
 * overflow, the watch limit, a second watcher refused, and a browser's
 * history read by its new visits only. */
#include "scan.h"
#include "store.h"
#include "watch.h"

#include "../scan/fixture.h"
#include "testdb.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

/* Every item of the database, one line each, in path order. The caller
 * frees it. */
static char *snapshot(const fx *f) {
  sqlite3 *db = NULL;
  sqlite3_stmt *s = NULL;
  char *out = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&out, &len);
  CHECK(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
  CHECK(sqlite3_prepare_v2(db, "SELECT external_id, type, title, text, content_hash, "
                           "skip_reason FROM items ORDER BY external_id", -1, &s,
                           NULL) == SQLITE_OK);
  while (s && sqlite3_step(s) == SQLITE_ROW) {
    for (int i = 0; i < 6; i++) {
      const unsigned char *t = sqlite3_column_text(s, i);
      fputs(i ? "\t" : "", m);
      for (const unsigned char *c = t ? t : (const unsigned char *)"(null)"; *c; c++)
        fputs(*c == '\n' ? "\\n" : (char[2]){(char)*c, 0}, m); /* one line per item */
    }
    fputc('\n', m);
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  fclose(m);
  return out;
}

static size_t lines(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    n += *s == '\n';
  return n;
}

static trove_watch *watch_open(fx *f, const trove_watch_opts *extra) {
  trove_watch_opts o = {.scan = {.progress = TROVE_PROGRESS_NONE}};
  if (extra)
    o = *extra;
  trove_watch *w = NULL;
  trove_err e = {0};
  int rc = trove_watch_open(f->st, NULL, 0, &o, &w, &e);
  if (rc)
    fprintf(stderr, "watch_open: %s\n", e.msg);
  CHECK(rc == 0);
  return w;
}

/* Lets w take every change made so far. */
static void take(trove_watch *w) {
  trove_err e = {0};
  int rc = trove_watch_step(w, 0, true, &e);
  if (rc)
    fprintf(stderr, "step: %s\n", e.msg);
  CHECK(rc == 0);
}

/* The claim: after the watcher took the changes, a full scan finds nothing
 * to do and leaves every item as it was. Returns the item count. */
static size_t same_as_full_scan(fx *f, trove_watch *w, const char *what) {
  take(w);
  char *before = snapshot(f);
  trove_scan_report rep;
  CHECK(scan(f, &rep) == 0);
  char *after = snapshot(f);
  bool same = strcmp(before, after) == 0;
  if (!same || rep.added || rep.changed || rep.deleted || rep.moved)
    fprintf(stderr, "after %s: the full scan found %lld new, %lld changed, %lld deleted, %lld "
            "moved\n--- watched:\n%s--- full scan:\n%s", what, (long long)rep.added,
            (long long)rep.changed, (long long)rep.deleted, (long long)rep.moved, before, after);
  CHECK(same);
  CHECK(rep.added == 0 && rep.changed == 0 && rep.deleted == 0 && rep.moved == 0);
  size_t n = lines(after);
  free(before);
  free(after);
  return n;
}

static void path_of(const fx *f, const char *rel, char *out, size_t n) {
  snprintf(out, n, "%s/%s", f->tree, rel);
}

static void mkdir_in(const fx *f, const char *rel) {
  char p[256];
  path_of(f, rel, p, sizeof p);
  CHECK(mkdir(p, 0755) == 0);
}

static void rename_in(const fx *f, const char *from, const char *to) {
  char a[256], b[256];
  path_of(f, from, a, sizeof a);
  path_of(f, to, b, sizeof b);
  CHECK(rename(a, b) == 0);
}

static void unlink_in(const fx *f, const char *rel) {
  char p[256];
  path_of(f, rel, p, sizeof p);
  CHECK(unlink(p) == 0);
}

static void watch_follows_every_kind_of_change(void) {
  fx f;
  fx_init(&f);
  trove_watch *w = watch_open(&f, NULL);
  size_t n0 = same_as_full_scan(&f, w, "the first scan");
  CHECK(n0 == 6);

  puts_file(&f, "new.md", "# Lanterns\n\nA new note about paper lanterns.\n");
  CHECK(same_as_full_scan(&f, w, "create") == n0 + 1);
  CHECK(hits(&f, "lanterns") == 1);

  puts_file(&f, "new.md", "# Lanterns\n\nRewritten: the lanterns are of silk now, and red.\n");
  same_as_full_scan(&f, w, "modify");
  CHECK(hits(&f, "silk") == 1);

  rename_in(&f, "new.md", "renamed.md");
  CHECK(same_as_full_scan(&f, w, "rename") == n0 + 1);

  unlink_in(&f, "renamed.md");
  CHECK(same_as_full_scan(&f, w, "delete") == n0);
  CHECK(hits(&f, "silk") == 0);

  /* a directory tree made outside, moved in, then changed inside */
  char out[160];
  snprintf(out, sizeof out, "%s/outside", f.dir);
  CHECK(mkdir(out, 0755) == 0);
  char p[256];
  snprintf(p, sizeof p, "%s/deep", out);
  CHECK(mkdir(p, 0755) == 0);
  snprintf(p, sizeof p, "%s/deep/kite.txt", out);
  FILE *fp = fopen(p, "w");
  CHECK(fp && fputs("Kites fly over the dunes in autumn.\n", fp) >= 0);
  if (fp)
    fclose(fp);
  snprintf(p, sizeof p, "%s/moved", f.tree);
  CHECK(rename(out, p) == 0);
  CHECK(same_as_full_scan(&f, w, "a directory moved in") == n0 + 1);
  puts_file(&f, "moved/deep/second.txt", "A second file, in a directory that was moved in.\n");
  CHECK(same_as_full_scan(&f, w, "a file made in the moved-in directory") == n0 + 2);

  /* renamed within the tree, then moved out; what is written there after
   * is not the source's */
  rename_in(&f, "moved", "kept");
  CHECK(same_as_full_scan(&f, w, "a directory renamed") == n0 + 2);
  snprintf(out, sizeof out, "%s/gone", f.dir);
  snprintf(p, sizeof p, "%s/kept", f.tree);
  CHECK(rename(p, out) == 0);
  CHECK(same_as_full_scan(&f, w, "a directory moved out") == n0);
  snprintf(p, sizeof p, "%s/deep/third.txt", out);
  fp = fopen(p, "w");
  CHECK(fp && fputs("Written outside the tree.\n", fp) >= 0);
  if (fp)
    fclose(fp);
  CHECK(same_as_full_scan(&f, w, "a write in the moved-out directory") == n0);

  /* atomic saves: a temporary file renamed over the real one, hidden or not */
  puts_file(&f, ".notes.md.swp", "---\ntitle: Garden notes\n---\n\nStake the beans too.\n");
  rename_in(&f, ".notes.md.swp", "notes.md");
  same_as_full_scan(&f, w, "an atomic save through a hidden file");
  CHECK(hits(&f, "beans") == 1);
  puts_file(&f, "notes.md.tmp1234", "---\ntitle: Garden notes\n---\n\nAnd the peas.\n");
  rename_in(&f, "notes.md.tmp1234", "notes.md");
  same_as_full_scan(&f, w, "an atomic save through a visible file");
  CHECK(hits(&f, "peas") == 1 && hits(&f, "beans") == 0);

  /* a .gitignore written, then removed */
  puts_file(&f, "sub/draft.log", "A log line about a draft.\n");
  same_as_full_scan(&f, w, "a file to be ignored");
  CHECK(hits(&f, "draft") == 1);
  puts_file(&f, ".gitignore", "*.log\n");
  same_as_full_scan(&f, w, "a .gitignore");
  CHECK(hits(&f, "draft") == 0);
  unlink_in(&f, ".gitignore");
  same_as_full_scan(&f, w, "a .gitignore removed");
  CHECK(hits(&f, "draft") == 1);

  /* a directory deleted with what it holds */
  unlink_in(&f, "sub/draft.log");
  unlink_in(&f, "sub/page.html");
  char sub[256];
  path_of(&f, "sub", sub, sizeof sub);
  CHECK(rmdir(sub) == 0);
  CHECK(same_as_full_scan(&f, w, "a directory deleted") == n0 - 1);

  CHECK(trove_watch_close(w, NULL) == 0);
  fx_done(&f);
}

static void watch_takes_a_burst_of_5000_files(void) {
  fx f;
  fx_init(&f);
  trove_watch *w = watch_open(&f, NULL);
  size_t n0 = same_as_full_scan(&f, w, "the first scan");
  size_t n = 5000 / check_scale();
  mkdir_in(&f, "burst");
  for (size_t d = 0; d < 10; d++) {
    char rel[64];
    snprintf(rel, sizeof rel, "burst/d%zu", d);
    mkdir_in(&f, rel);
  }
  for (size_t i = 0; i < n; i++) {
    char rel[64], text[128];
    snprintf(rel, sizeof rel, "burst/d%zu/f%zu.txt", i % 10, i);
    snprintf(text, sizeof text, "File number %zu of the burst, word%zu.\n", i, i);
    puts_file(&f, rel, text);
  }
  CHECK(same_as_full_scan(&f, w, "a burst of files") == n0 + n);
  for (size_t i = 0; i < n; i += 2) {
    char rel[64];
    snprintf(rel, sizeof rel, "burst/d%zu/f%zu.txt", i % 10, i);
    unlink_in(&f, rel);
  }
  CHECK(same_as_full_scan(&f, w, "half the burst deleted") == n0 + n / 2);
  CHECK(trove_watch_close(w, NULL) == 0);
  fx_done(&f);
}

/* More changed paths than max_pending: the source is rescanned instead. */
static void too_many_changes_rescan_the_source(void) {
  fx f;
  fx_init(&f);
  trove_watch_opts o = {.scan = {.progress = TROVE_PROGRESS_NONE}, .max_pending = 8};
  trove_watch *w = watch_open(&f, &o);
  size_t n0 = same_as_full_scan(&f, w, "the first scan");
  for (int i = 0; i < 40; i++) {
    char rel[32], text[64];
    snprintf(rel, sizeof rel, "many%d.txt", i);
    snprintf(text, sizeof text, "Many files, this one %d.\n", i);
    puts_file(&f, rel, text);
  }
  CHECK(same_as_full_scan(&f, w, "more changes than max_pending") == n0 + 40);
  CHECK(trove_watch_close(w, NULL) == 0);
  fx_done(&f);
}

static void an_overflow_rescans_the_source(void) {
  fx f;
  fx_init(&f);
  trove_watch *w = watch_open(&f, NULL);
  size_t n0 = same_as_full_scan(&f, w, "the first scan");
  trove_watch_close(w, NULL);
  /* changes the watcher never hears of, then an overflow: the rescan
   * finds them all the same */
  puts_file(&f, "unheard.txt", "A file made while nobody watched.\n");
  unlink_in(&f, "plain.txt");
  w = watch_open(&f, NULL);
  trove_err e = {0};
  CHECK(trove_watch_step(w, 0, false, &e) == 0); /* the start's full scan */
  puts_file(&f, "heard.txt", "A file the watcher hears of.\n");
  CHECK(trove_watch_test_overflow(w, "tree") == 0);
  CHECK(trove_watch_test_overflow(w, "nope") == TROVE_ENOENT);
  puts_file(&f, "lost.txt", "A file whose event the overflow lost.\n");
  CHECK(same_as_full_scan(&f, w, "an overflow") == n0 + 2);
  CHECK(hits(&f, "overflow") == 1 && hits(&f, "nobody") == 1);
  CHECK(trove_watch_close(w, NULL) == 0);
  fx_done(&f);
}

/* The watch limit: the source falls back to full scans, and is exact. */
static void the_watch_limit_falls_back_to_scans(void) {
  fx f;
  fx_init(&f);
  mkdir_in(&f, "a");
  mkdir_in(&f, "a/b");
  mkdir_in(&f, "c");
  char *logbuf = NULL;
  size_t loglen = 0;
  FILE *log = open_memstream(&logbuf, &loglen);
  trove_watch_opts o = {.scan = {.progress = TROVE_PROGRESS_NONE}, .max_watches = 2,
                        .log = log};
  trove_watch *w = watch_open(&f, &o);
  CHECK(trove_watch_test_fallback(w, "tree"));
  size_t n0 = same_as_full_scan(&f, w, "the first scan");
  puts_file(&f, "a/b/unwatched.txt", "In a directory without a watch.\n");
  puts_file(&f, "c/other.txt", "In another directory without a watch.\n");
  CHECK(same_as_full_scan(&f, w, "changes under the limit") == n0 + 2);
  /* a directory made later goes past the limit too: no second warning */
  mkdir_in(&f, "later");
  puts_file(&f, "later/x.txt", "Made after the start.\n");
  CHECK(same_as_full_scan(&f, w, "a directory past the limit") == n0 + 3);
  CHECK(trove_watch_close(w, NULL) == 0);
  fclose(log);
  const char *warn = strstr(logbuf, "watch limit");
  CHECK(warn != NULL);
  CHECK(warn && strstr(warn + 1, "watch limit") == NULL);
  free(logbuf);
  fx_done(&f);
}

static void a_second_watcher_is_refused(void) {
  fx f;
  fx_init(&f);
  trove_watch *w = watch_open(&f, NULL);
  trove_store *st2 = NULL;
  trove_store_opts so = {.path = f.db};
  trove_err e = {0};
  CHECK(trove_store_open(&so, &st2, &e) == 0);
  trove_watch *w2 = NULL;
  CHECK(trove_watch_open(st2, NULL, 0, NULL, &w2, &e) == TROVE_EBUSY);
  CHECK(w2 == NULL);
  char pid[32];
  snprintf(pid, sizeof pid, "process %ld", (long)getpid());
  CHECK(strstr(e.msg, pid) != NULL);
  const char *bad[] = {"tree", "nope"};
  int not_vectors;
  CHECK(trove_watch_set_model(w, NULL, (trove_vectors *)&not_vectors) == TROVE_EINVAL);
  CHECK(trove_watch_set_model(w, NULL, NULL) == 0);
  CHECK(trove_watch_close(w, NULL) == 0);
  CHECK(trove_watch_open(st2, bad, 2, NULL, &w2, &e) == TROVE_ENOENT);
  CHECK(strstr(e.msg, "nope") != NULL);
  CHECK(trove_watch_open(st2, bad, 1, NULL, &w2, &e) == 0); /* free again */
  CHECK(trove_watch_close(w2, NULL) == 0);
  trove_store_close(st2);
  fx_done(&f);
}

/* trove_scan_paths alone: only the paths given are looked at. */
static void scan_paths_touches_only_its_paths(void) {
  fx f;
  fx_init(&f);
  trove_scan_report rep;
  CHECK(scan(&f, &rep) == 0);
  puts_file(&f, "one.txt", "The first of two new files.\n");
  puts_file(&f, "two.txt", "The second of two new files.\n");
  unlink_in(&f, "plain.txt");
  char one[256], plain[256], outside[256];
  path_of(&f, "one.txt", one, sizeof one);
  path_of(&f, "plain.txt", plain, sizeof plain);
  const char *paths[] = {one, plain};
  trove_err e = {0};
  CHECK(trove_scan_paths(f.st, "tree", paths, 2, &quiet, &rep, &e) == 0);
  CHECK(rep.added == 1 && rep.deleted == 1 && rep.seen == 1);
  CHECK(hits(&f, "first") == 1 && hits(&f, "second") == 0);
  snprintf(outside, sizeof outside, "%s/elsewhere", f.dir);
  const char *bad[] = {outside};
  CHECK(trove_scan_paths(f.st, "tree", bad, 1, &quiet, &rep, &e) == TROVE_EINVAL);
  const char *rel[] = {"one.txt"};
  CHECK(trove_scan_paths(f.st, "tree", rel, 1, &quiet, &rep, &e) == TROVE_EINVAL);
  CHECK(trove_scan_paths(f.st, "tree", NULL, 0, &quiet, &rep, &e) == 0);
  CHECK(trove_scan_paths(f.st, "nope", paths, 1, &quiet, &rep, &e) == TROVE_ENOENT);
  fx_done(&f);
}

static int64_t source_items(fx *f, const char *name) {
  trove_store_source s = {0};
  CHECK(trove_store_source_get(f->st, name, &s, NULL) == 0);
  int64_t n = s.items;
  trove_store_source_clear(&s);
  return n;
}

/* A browser source is scanned when its History changes, read from a copy:
 * another process holding the database locked neither hangs the watcher
 * nor keeps the change from it. */
static void a_browser_source_is_scanned_when_its_files_change(void) {
  fx f;
  fx_init(&f);
  char profile[128], history[160];
  snprintf(profile, sizeof profile, "%s/profile", f.dir);
  snprintf(history, sizeof history, "%s/History", profile);
  CHECK(mkdir(profile, 0700) == 0);
  CHECK(tdb_exec(history, tdb_chromium_schema) == 0);
  CHECK(trove_store_source_add(f.st, "web", "chromium-history", profile, NULL, NULL, NULL) == 0);
  /* port 9 (discard) refuses at once: the page is recorded as failed */
  trove_watch_opts o = {.scan = {.progress = TROVE_PROGRESS_NONE, .fetch_timeout_ms = 2000}};
  trove_watch *w = watch_open(&f, &o);
  take(w);
  CHECK(source_items(&f, "web") == 0);
  sqlite3 *db = tdb_open(history);
  long long t = (long long)tdb_chromium_time(1700000000);
  char sql[256];
  snprintf(sql, sizeof sql, "INSERT INTO urls(url, title, visit_count, last_visit_time) "
           "VALUES ('http://127.0.0.1:9/heron', 'Heron', 1, %lld);", t);
  CHECK(db && tdb_run(db, sql) == SQLITE_OK);
  CHECK(tdb_run(db, "BEGIN EXCLUSIVE; INSERT INTO meta(key, value) VALUES ('x', 'y');") ==
        SQLITE_OK); /* the browser busy writing, its lock held */
  take(w);
  CHECK(source_items(&f, "web") == 1);
  take(w); /* nothing changed: nothing to do */
  CHECK(source_items(&f, "web") == 1);
  CHECK(tdb_run(db, "COMMIT") == SQLITE_OK);
  sqlite3_close(db);
  CHECK(trove_watch_close(w, NULL) == 0);
  fx_done(&f);
}

/* The last scan a watcher ran of source `web`, as its end hook saw it. */
typedef struct last_scan {
  int scans;
  bool full;
  int rc;
  trove_scan_report rep;
} last_scan;

static void note_scan(void *arg, const char *source, bool full, int rc, const trove_err *e,
                      const trove_scan_report *rep) {
  (void)e;
  last_scan *l = arg;
  if (strcmp(source, "web") != 0)
    return; /* the fixture's fs source */
  l->scans++;
  l->full = full, l->rc = rc, l->rep = *rep;
}

/* Adds a page of History visited at unix_s, with one visit row. */
static void visit(sqlite3 *db, const char *page, int64_t unix_s) {
  char sql[512];
  long long t = (long long)tdb_chromium_time(unix_s);
  snprintf(sql, sizeof sql, "INSERT INTO urls(url, title, visit_count, last_visit_time) "
           "VALUES ('http://127.0.0.1:9/%s', '%s', 1, %lld);"
           "INSERT INTO visits(url, visit_time) VALUES (last_insert_rowid(), %lld);",
           page, page, t, t);
  CHECK(tdb_run(db, sql) == SQLITE_OK);
}

/* Snapshot of the items, then a full scan of source `web`: the claim is
 * that the full scan adds, deletes and changes nothing the watcher left. */
static void web_same_as_full_scan(fx *f, const char *what) {
  char *before = snapshot(f);
  trove_scan_opts o = {.progress = TROVE_PROGRESS_NONE, .fetch_timeout_ms = 2000};
  trove_scan_report rep;
  trove_err e = {0};
  CHECK(trove_scan_source(f->st, "web", &o, &rep, &e) == 0);
  char *after = snapshot(f);
  bool same = strcmp(before, after) == 0 && rep.added == 0 && rep.deleted == 0;
  if (!same)
    fprintf(stderr, "after %s: the full scan found %lld new, %lld deleted\n--- watched:\n%s"
            "--- full scan:\n%s", what, (long long)rep.added, (long long)rep.deleted, before,
            after);
  CHECK(same);
  free(before);
  free(after);
}

/* When a History gets new visits, the watcher reads only the rows visited
 * since its last read (the report's seen counts them), upserts them and
 * deletes nothing; the index then equals a full scan's. A history cleared
 * (its visit ids go back) is scanned in full at once. */
static void a_history_reads_only_its_new_visits(void) {
  fx f;
  fx_init(&f);
  char profile[128], history[160];
  snprintf(profile, sizeof profile, "%s/profile", f.dir);
  snprintf(history, sizeof history, "%s/History", profile);
  CHECK(mkdir(profile, 0700) == 0);
  CHECK(tdb_exec(history, tdb_chromium_schema) == 0);
  sqlite3 *db = tdb_open(history);
  int64_t day = (int64_t)time(NULL) - 86400; /* recent: a vanished row is a deletion */
  visit(db, "otter", day);
  visit(db, "heron", day + 10);
  visit(db, "kingfisher", day + 20);
  CHECK(trove_store_source_add(f.st, "web", "chromium-history", profile, NULL, NULL, NULL) == 0);
  last_scan l = {0};
  /* port 9 (discard) refuses at once: each page is recorded as failed */
  trove_watch_opts o = {.scan = {.progress = TROVE_PROGRESS_NONE, .fetch_timeout_ms = 2000},
                        .on_end = note_scan, .hook_arg = &l};
  trove_watch *w = watch_open(&f, &o);
  take(w);
  if (l.scans != 1 || l.rc || l.rep.seen != 3)
    fprintf(stderr, "  the first round: %d scans, rc %d, %lld seen\n", l.scans, l.rc,
            (long long)l.rep.seen);
  CHECK(l.scans == 1 && l.full && l.rc == 0 && l.rep.seen == 3);
  CHECK(source_items(&f, "web") == 3);

  visit(db, "egret", day + 30);
  visit(db, "grebe", day + 40);
  long long t = (long long)tdb_chromium_time(day + 50);
  char sql[256];
  snprintf(sql, sizeof sql, "UPDATE urls SET last_visit_time = %lld, title = 'Otter again' "
           "WHERE url LIKE '%%otter'", t); /* a page visited again */
  CHECK(tdb_run(db, sql) == SQLITE_OK);
  take(w);
  if (l.full || l.rep.seen != 3)
    fprintf(stderr, "  the round after 3 new visits: %d scans, %s, rc %d, %lld seen, %lld "
            "new\n", l.scans, l.full ? "full" : "recent", l.rc, (long long)l.rep.seen,
            (long long)l.rep.added);
  CHECK(l.scans == 2 && !l.full && l.rc == 0 && l.rep.seen == 3); /* failed fetches: skipped */
  CHECK(l.rep.deleted == 0 && !l.rep.more && !l.rep.rewound);
  CHECK(source_items(&f, "web") == 5);
  take(w); /* nothing changed: nothing read */
  CHECK(l.scans == 2);
  web_same_as_full_scan(&f, "new visits");

  /* cleared, then one visit: the ids start again */
  CHECK(tdb_run(db, "DELETE FROM visits; DELETE FROM urls; DELETE FROM sqlite_sequence;") ==
        SQLITE_OK);
  visit(db, "plover", day + 60);
  take(w); /* reads the recent rows, sees the ids went back */
  CHECK(l.rc == 0 && (l.full || l.rep.rewound));
  take(w); /* the full scan it asked for */
  CHECK(l.full && l.rc == 0 && l.rep.seen == 1 && l.rep.deleted == 5);
  CHECK(source_items(&f, "web") == 1);
  web_same_as_full_scan(&f, "a cleared history");
  sqlite3_close(db);
  CHECK(trove_watch_close(w, NULL) == 0);
  fx_done(&f);
}

int main(void) {
  if (trove_store_use_alloc_hook() != 0) {
    fprintf(stderr, "cannot route SQLite's allocations through trove_malloc\n");
    return 1;
  }
  RUN(scan_paths_touches_only_its_paths);
  RUN(watch_follows_every_kind_of_change);
  RUN(watch_takes_a_burst_of_5000_files);
  RUN(too_many_changes_rescan_the_source);
  RUN(an_overflow_rescans_the_source);
  RUN(the_watch_limit_falls_back_to_scans);
  RUN(a_second_watcher_is_refused);
  RUN(a_browser_source_is_scanned_when_its_files_change);
  RUN(a_history_reads_only_its_new_visits);
  return check_done(__FILE__);
}
