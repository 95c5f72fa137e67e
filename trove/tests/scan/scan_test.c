/* scan_test.c: the scan and reprocess pipelines on a temporary directory
 * tree and database: new -> unchanged -> changed -> deleted, skip reasons
 * counted, a failing item recorded without stopping the scan, reprocess
 * changing nothing at the same extractor version, and scans canceled by
 * allocation failures (in SQLite and trove) ending cleanly, after which a
 * clean rescan gives the exact figures. */
#include "scan.h"
#include "core_test_hooks.h" /* trove_alloc_fail_after */
#include "scan_int.h"        /* trove_scan__result, trove_scan__strerror */
#include "sources.h"
#include "sources_test_hooks.h" /* trove_fs_test_fail_path */
#include "store.h"

#include "check.h"
#include "fixture.h"
#include "http_server.h" /* the fetcher tests' local HTTP server */
#include "testdb.h"      /* Chromium's History schema, from the sources tests */

#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <sqlite3.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static void scan_new_unchanged_changed_deleted(void) {
  fx f;
  fx_init(&f);
  trove_scan_report r;
  CHECK(scan(&f, &r) == 0);
  CHECK(r.seen == 6 && r.added == 3 && r.changed == 0 && r.unchanged == 0);
  CHECK(r.skipped == 3 && r.failed == 0 && r.deleted == 0);
  CHECK(reason(&r, "binary") == 2 && reason(&r, "empty") == 1);
  CHECK(strstr(r.summary, "bottleneck") != NULL && strstr(r.summary, "embed") != NULL);
  CHECK(items(&f) == 6);
  CHECK(hits(&f, "tomatoes") == 1 && hits(&f, "ledger") == 1 && hits(&f, "Garden") == 1);

  CHECK(scan(&f, &r) == 0); /* nothing moved: every item only touched */
  CHECK(r.seen == 6 && r.added == 0 && r.changed == 0 && r.unchanged == 6 && r.skipped == 0);

  puts_file(&f, "plain.txt", "A plain file about submarine cables now.\n");
  bump_mtime(&f, "plain.txt", 10);
  CHECK(scan(&f, &r) == 0);
  CHECK(r.added == 0 && r.changed == 1 && r.unchanged == 5 && r.deleted == 0);
  CHECK(hits(&f, "submarine") == 1 && hits(&f, "lighthouse") == 0);

  char path[160];
  snprintf(path, sizeof path, "%s/notes.md", f.tree);
  CHECK(unlink(path) == 0);
  CHECK(scan(&f, &r) == 0);
  CHECK(r.seen == 5 && r.deleted == 1 && r.unchanged == 5);
  CHECK(items(&f) == 5 && hits(&f, "tomatoes") == 0);

  trove_scan_opts force = quiet; /* every file re-read, none changed */
  force.force = true;
  CHECK(trove_scan_source(f.st, "tree", &force, &r, NULL) == 0);
  CHECK(r.changed == 0 && r.skipped == 3 && r.unchanged == 2);

  trove_store_source s = {0};
  CHECK(trove_store_source_get(f.st, "tree", &s, NULL) == 0);
  CHECK(s.status == TROVE_SOURCE_READY && s.scanned == 5);
  trove_store_source_clear(&s);
  fx_done(&f);
}

/* The one hit of query: its title and path into the caller's buffers. */
static void hit_of(fx *f, const char *query, char *title, char *path, size_t cap) {
  trove_store_hit *h = NULL;
  size_t n = 0;
  CHECK(trove_store_search(f->st, query, NULL, &h, &n, NULL) == 0 && n == 1);
  snprintf(title, cap, "%s", n == 1 && h[0].title ? h[0].title : "");
  snprintf(path, cap, "%s", n == 1 ? h[0].external_id : "");
  trove_store_hits_free(h, n);
}

/* File and directory names that are not UTF-8 (a Latin-1 system's) are
 * indexed: the path keeps the bytes, so rescans match the file and a
 * deleted one goes; a title made from the name shows them as \xNN, valid
 * UTF-8 for the index and JSON. */
static void names_not_utf8_are_indexed_escaped(void) {
  fx f;
  fx_init(&f);
  char dir[160];
  snprintf(dir, sizeof dir, "%s/dir\xff", f.tree);
  CHECK(mkdir(dir, 0755) == 0);
  puts_file(&f, "caf\xe9 notes.txt", "An okapi grazing at the edge of the rainforest.\n");
  puts_file(&f, "dir\xff/inner.txt", "A narwhal surfacing between ice floes.\n");
  put(&f, "skip\xfe.dat", "bin\0ary", 7);
  trove_scan_report r;
  CHECK(scan(&f, &r) == 0);
  CHECK(r.seen == 9 && r.added == 5 && r.skipped == 4 && reason(&r, "binary") == 3);
  char title[256], path[256], want[256];
  hit_of(&f, "okapi", title, path, sizeof path);
  snprintf(want, sizeof want, "%s/caf\xe9 notes.txt", f.tree);
  CHECK(strcmp(title, "caf\\xe9 notes.txt") == 0 && strcmp(path, want) == 0);
  hit_of(&f, "narwhal", title, path, sizeof path);
  CHECK(strcmp(title, "inner.txt") == 0 && strstr(path, "/dir\xff/inner.txt"));
  CHECK(hits(&f, "skip") == 1); /* the skipped file's escaped name is its title */
  hit_of(&f, "skip", title, path, sizeof path);
  CHECK(strcmp(title, "skip\\xfe.dat") == 0);
  CHECK(scan(&f, &r) == 0 && r.unchanged == 9 && r.added == 0 && r.deleted == 0);
  CHECK(unlink(want) == 0);
  CHECK(scan(&f, &r) == 0 && r.deleted == 1 && hits(&f, "okapi") == 0);
  fx_done(&f);
}

static void scan_rereads_a_fixed_file(void) {
  fx f;
  fx_init(&f);
  trove_scan_report r;
  CHECK(scan(&f, &r) == 0);
  puts_file(&f, "image.png", "café crème, a text after all\n");
  bump_mtime(&f, "image.png", 10);
  CHECK(scan(&f, &r) == 0);
  CHECK(r.changed == 1 && r.skipped == 0 && r.unchanged == 5 && hits(&f, "crème") == 1);
  fx_done(&f);
}

static void reprocess_same_version_changes_nothing(void) {
  fx f;
  fx_init(&f);
  trove_scan_report r;
  CHECK(scan(&f, &r) == 0);
  trove_err e = {0};
  CHECK(trove_reprocess(f.st, "tree", &quiet, &r, &e) == 0);
  CHECK(r.seen == 3 && r.changed == 0 && r.unchanged == 3 && r.failed == 0);
  CHECK(trove_reprocess(f.st, NULL, &quiet, &r, &e) == 0);
  CHECK(r.seen == 3 && r.changed == 0);
  CHECK(trove_reprocess(f.st, "nosuch", &quiet, &r, &e) == TROVE_ENOENT);
  CHECK(strstr(e.msg, "nosuch") != NULL);
  fx_done(&f);
}

/* An item whose stored text differs from what the extractor now gives (as
 * after a parser change) is rewritten by reprocess, and only that one. */
static void reprocess_rewrites_only_changed_output(void) {
  fx f;
  fx_init(&f);
  trove_scan_report r;
  CHECK(scan(&f, &r) == 0);
  trove_store_hit *h = NULL;
  size_t n = 0;
  CHECK(trove_store_search(f.st, "tomatoes", NULL, &h, &n, NULL) == 0 && n == 1);
  int64_t id = n ? h[0].item_id : 0;
  trove_store_hits_free(h, n);
  trove_store_item it = {0};
  CHECK(trove_store_item_get(f.st, id, false, &it, NULL) == 0);
  trove_store_item stale = it;
  stale.text = "stale text from an older parser about parsnips";
  stale.keep_raw = true;
  CHECK(trove_store_item_upsert(f.st, it.source_id, &stale, NULL, NULL) == 0);
  trove_store_item_clear(&it);
  CHECK(hits(&f, "parsnips") == 1 && hits(&f, "tomatoes") == 0);
  CHECK(trove_reprocess(f.st, "tree", &quiet, &r, NULL) == 0);
  CHECK(r.seen == 3 && r.changed == 1 && r.unchanged == 2);
  CHECK(hits(&f, "parsnips") == 0 && hits(&f, "tomatoes") == 1);
  fx_done(&f);
}

static void item_error_does_not_kill_scan(void) {
  fx f;
  fx_init(&f);
  /* nested past TROVE_EXTRACT_MAX_NESTING: the extractor refuses it */
  size_t n = 5000;
  char *deep = malloc(n * 5 + 64);
  CHECK(deep != NULL);
  if (!deep)
    return;
  size_t off = (size_t)sprintf(deep, "<!doctype html><html><body>");
  for (size_t i = 0; i < n; i++, off += 5)
    memcpy(deep + off, "<div>", 5);
  deep[off] = 0;
  puts_file(&f, "deep.html", deep);
  free(deep);
  trove_scan_report r;
  CHECK(scan(&f, &r) == 0);
  CHECK(r.seen == 7 && r.added == 3 && r.skipped == 4 && r.failed == 1);
  CHECK(reason(&r, "unsupported") == 1);
  CHECK(items(&f) == 7);
  CHECK(scan(&f, &r) == 0); /* permanent: not retried */
  CHECK(r.unchanged == 7 && r.failed == 0);
  fx_done(&f);
}

static void scan_unknown_source_fails(void) {
  fx f;
  fx_init(&f);
  trove_err e = {0};
  trove_scan_report r;
  CHECK(trove_scan_source(f.st, "nope", &quiet, &r, &e) == TROVE_ENOENT);
  CHECK(e.msg[0] != 0);
  /* a source whose directory went away: a clear error, status error */
  CHECK(trove_store_source_add(f.st, "gone", "fs", "/nonexistent/trove-dir", NULL, NULL, &e) == 0);
  trove_err_clear(&e);
  CHECK(trove_scan_source(f.st, "gone", &quiet, &r, &e) == TROVE_ENOENT);
  CHECK(strstr(e.msg, "/nonexistent/trove-dir") != NULL);
  trove_store_source s = {0};
  CHECK(trove_store_source_get(f.st, "gone", &s, NULL) == 0);
  CHECK(s.status == TROVE_SOURCE_ERROR && s.status_msg && strstr(s.status_msg, "trove-dir"));
  trove_store_source_clear(&s);
  fx_done(&f);
}

static int threads_now(void) {
  DIR *d = opendir("/proc/self/task");
  int n = 0;
  for (struct dirent *de; d && (de = readdir(d));)
    n += de->d_name[0] != '.';
  if (d)
    closedir(d);
  return n;
}

/* Fails the Nth allocation (trove's or SQLite's) for a spread of N: each
 * scan must end with 0 or an error, leak nothing (ASan), join its stage
 * threads, leave no transaction open, and a clean rescan must then
 * complete with the exact figures. */
static void scan_canceled_by_failures_ends_cleanly(void) {
  fx f;
  fx_init(&f);
  for (int i = 0; i < 40; i++) { /* enough files for several write batches */
    char name[32], text[96];
    snprintf(name, sizeof name, "sub/f%02d.txt", i);
    snprintf(text, sizeof text, "file number %d talks about quarries and gravel.\n", i);
    puts_file(&f, name, text);
  }
  trove_scan_report r;
  CHECK(scan(&f, &r) == 0); /* warm up the pool's threads */
  int base = threads_now();
  int failed = 0, mid_run = 0;
  long step = 0;
  for (long n = 0; n < 100000; n += 1 + n / 8, step++) {
    puts_file(&f, "plain.txt", n % 2 ? "odd version of the plain file\n" : "even version\n");
    bump_mtime(&f, "plain.txt", (int)n + 20);
    trove_err e = {0};
    /* once, not sticky: with every allocation failing, the store's own
     * ROLLBACK after a failed COMMIT fails too and leaves the connection
     * inside a transaction (a store issue, see the module report) */
    trove_alloc_fail_after(n, false);
    trove_scan_opts force = quiet;
    force.force = step % 3 == 0;
    int rc = trove_scan_source(f.st, "tree", &force, &r, &e);
    long nfail = trove_alloc_fail_after(-1, false);
    CHECK(rc <= 0);
    CHECK(rc == 0 || e.msg[0] != 0);
    failed += rc != 0;
    mid_run += rc != 0 && r.seen > 0; /* canceled inside the pipeline */
    CHECK(threads_now() == base);
    int brc = trove_store_begin(f.st, &e); /* no transaction left open */
    CHECK(brc == 0);
    if (brc)
      fprintf(stderr, "  transaction left open after failing allocation %ld: %s\n", n, e.msg);
    trove_store_rollback(f.st);
    if (rc == 0 && nfail == 0)
      break; /* past every allocation of a scan */
  }
  fprintf(stderr, "  %d scans failed, %d of them inside the pipeline\n", failed, mid_run);
  CHECK(failed > 0 && mid_run > 0);
  CHECK(scan(&f, &r) == 0);
  CHECK(r.seen == 46 && r.failed == 0);
  trove_store_stats s = {0};
  CHECK(trove_store_stats_get(f.st, &s, NULL) == 0);
  CHECK(s.items == 46 && s.n_reasons == 2); /* binary, empty: no "error" left */
  trove_store_stats_clear(&s);
  CHECK(trove_store_check(f.st, NULL) == 0);
  fx_done(&f);
}

/* The test's web server: a page with an ETag (304 when it is sent back), a
 * 404, an image and a 500. Counts requests; runs on connection threads. */
typedef struct site {
  _Atomic int walrus, walrus_304, flaky;
} site;

/* A page about animal (one letter per code unit: ASCII only) in UTF-16 or
 * UTF-32: "16le-bom", "16be" (no mark), "32le-bom". The charset is given
 * by the header, the mark, or both; the class name sits only in a tag. */
static bool serve_wide(const char *how, http_conn *c) {
  char page[512], body[2048];
  int n = snprintf(page, sizeof page,
                   "<!doctype html><html><head><title>%s</title></head><body><article "
                   "class=\"wideclassname\"><h1>%s</h1><p>The %s dives deep under the pack ice "
                   "and surfaces through cracks to breathe between long dives.</p></article>"
                   "</body></html>", how, how, how + 9);
  size_t unit = how[0] == '3' ? 4 : 2, len = 0;
  bool be = strstr(how, "be") != NULL, mark = strstr(how, "bom") != NULL;
  for (int i = mark ? -1 : 0; i < n; i++) {
    unsigned cp = i < 0 ? 0xFEFF : (unsigned char)page[i];
    for (size_t k = 0; k < unit; k++)
      body[len++] = (char)(cp >> (8 * (be ? unit - 1 - k : k)));
  }
  const char *type = strcmp(how, "16le-bom-narwhal") == 0 ? "text/html; charset=utf-16"
                     : be                                 ? "text/html; charset=UTF-16BE"
                                                          : "text/html";
  return http_respond(c, 200, NULL, type, body, len);
}

static bool serve(void *ctx, const http_req *req, http_conn *c) {
  site *s = ctx;
  static const char page[] =
      "<!doctype html><html><head><title>Walrus facts</title></head><body><article>"
      "<h1>Walruses</h1><p>Walruses use their long tusks to haul themselves out of icy water "
      "and onto floes, where they rest between dives for clams.</p>"
      "<p>A walrus can eat thousands of clams in a single feeding session.</p></article></body></html>";
  char inm[64];
  if (strcmp(req->path, "/walrus") == 0) {
    atomic_fetch_add(&s->walrus, 1);
    if (http_req_header(req, "If-None-Match", inm, sizeof inm) && strcmp(inm, "\"w1\"") == 0) {
      atomic_fetch_add(&s->walrus_304, 1);
      return http_respond(c, 304, "ETag: \"w1\"\r\n", NULL, "", 0);
    }
    return http_respond(c, 200, "ETag: \"w1\"\r\n", "text/html; charset=utf-8", page,
                        sizeof page - 1);
  }
  if (strncmp(req->path, "/wide/", 6) == 0)
    return serve_wide(req->path + 6, c);
  if (strcmp(req->path, "/always304") == 0) /* hostile: 304 to an unconditional GET */
    return http_respond(c, 304, NULL, NULL, "", 0);
  if (strcmp(req->path, "/image") == 0)
    return http_respond(c, 200, NULL, "image/png", "\x89PNG\r\n", 6);
  if (strcmp(req->path, "/flaky") == 0) {
    atomic_fetch_add(&s->flaky, 1);
    return http_respond(c, 500, NULL, "text/plain", "oops", 4);
  }
  return http_respond(c, 404, NULL, "text/plain", "no", 2);
}

/* Adds a Chromium History source "web" over an empty History in f's
 * directory; history gets the History file's path, for the test's URLs. */
static void history_source(fx *f, char *history, size_t cap) {
  char profile[128];
  snprintf(profile, sizeof profile, "%s/profile", f->dir);
  snprintf(history, cap, "%s/History", profile);
  CHECK(mkdir(profile, 0700) == 0);
  CHECK(tdb_exec(history, tdb_chromium_schema) == 0);
  CHECK(trove_store_source_add(f->st, "web", "chromium-history", profile, NULL, NULL, NULL) == 0);
}

/* Browser databases are copied beside the database, into "<db>.copies",
 * not $TMPDIR: a copy a killed scan left (simulated here) is removed by the
 * next scan, and a scan leaves no copy and no folder behind. $TMPDIR points
 * at a missing folder, so a copy made there would fail the scan. */
static void scan_removes_history_copies_a_killed_scan_left(void) {
  fx f;
  fx_init(&f);
  char history[160], copies[160], left[200];
  history_source(&f, history, sizeof history);
  CHECK(tdb_exec(history, "INSERT INTO urls(url, title, visit_count, last_visit_time) VALUES"
                          " ('chrome://settings/', 'Settings', 1, 1);") == 0);
  snprintf(copies, sizeof copies, "%s.copies", trove_store_path(f.st));
  snprintf(left, sizeof left, "%s/trove-copy-AbC123", copies);
  CHECK(mkdir(copies, 0700) == 0 && mkdir(left, 0700) == 0);
  strcat(left, "/History");
  CHECK(tdb_exec(left, tdb_chromium_schema) == 0); /* a person's history, left behind */
  const char *tmp = getenv("TMPDIR");
  char *saved = tmp ? strdup(tmp) : NULL;
  setenv("TMPDIR", "/nonexistent-trove-tmp", 1);
  trove_scan_report r;
  trove_err e = {0};
  int rc = trove_scan_source(f.st, "web", &quiet, &r, &e);
  if (rc)
    fprintf(stderr, "  scan: %s\n", e.msg);
  CHECK(rc == 0 && r.seen == 0);
  CHECK(access(copies, F_OK) != 0 && errno == ENOENT); /* the leftover and the folder */
  CHECK(trove_scan_source(f.st, "tree", &quiet, &r, &e) == 0); /* an fs scan cleans too */
  CHECK(mkdir(copies, 0700) == 0);
  CHECK(trove_scan_source(f.st, "tree", &quiet, &r, &e) == 0 && access(copies, F_OK) != 0);
  if (saved)
    setenv("TMPDIR", saved, 1);
  else
    unsetenv("TMPDIR");
  free(saved);
  fx_done(&f);
}

/* A Chromium History source over a local server: pages are fetched and
 * extracted, a rescan sends a conditional GET (304: unchanged), permanent
 * failures (404, an image) are not asked again and keep the browser's title,
 * a 500 is retried, and a URL visited yesterday and gone from history is
 * deleted (the person deleted it: retention keeps only what the browser
 * expired, scan_retention_test). */
static void scan_web_history_fetches_conditionally(void) {
  fx f;
  fx_init(&f);
  site st = {0};
  int port = 0;
  http_server *srv = http_server_start(serve, &st, &port);
  CHECK(srv != NULL);
  if (!srv)
    return;
  char history[160], sql[2048];
  history_source(&f, history, sizeof history);
  long long t = (long long)tdb_chromium_time((int64_t)time(NULL) - 86400);
  snprintf(sql, sizeof sql,
           "INSERT INTO urls(url, title, visit_count, last_visit_time) VALUES"
           " ('http://127.0.0.1:%d/walrus', 'Walrus (browser title)', 2, %lld),"
           " ('http://127.0.0.1:%d/seal#top', 'Seal colony report', 1, %lld),"
           " ('http://127.0.0.1:%d/image', 'Otter photograph', 1, %lld),"
           " ('http://127.0.0.1:%d/flaky', 'Flaky server', 1, %lld),"
           " ('chrome://settings/', 'Settings', 1, %lld);",
           port, t, port, t, port, t, port, t, t);
  CHECK(tdb_exec(history, sql) == 0);
  trove_scan_report r;
  trove_err e = {0};
  CHECK(trove_scan_source(f.st, "web", &quiet, &r, &e) == 0);
  CHECK(r.seen == 4 && r.added == 1 && r.skipped == 3 && r.failed == 1);
  CHECK(reason(&r, "gone") == 1 && reason(&r, "not_text") == 1 && reason(&r, "server_error") == 1);
  CHECK(hits(&f, "tusks") == 1);   /* the fetched body */
  CHECK(hits(&f, "Otter") == 1);   /* not_text keeps the browser's title */
  CHECK(atomic_load(&st.walrus) == 1 && atomic_load(&st.flaky) == 1);

  CHECK(trove_scan_source(f.st, "web", &quiet, &r, &e) == 0);
  CHECK(r.added == 0 && r.changed == 0 && r.unchanged == 3 && r.failed == 1);
  CHECK(atomic_load(&st.walrus) == 2 && atomic_load(&st.walrus_304) == 1); /* conditional */
  CHECK(atomic_load(&st.flaky) == 2); /* transient: retried */
  CHECK(hits(&f, "tusks") == 1);

  CHECK(tdb_exec(history, "DELETE FROM urls WHERE url LIKE '%seal%';") == 0);
  CHECK(trove_scan_source(f.st, "web", &quiet, &r, &e) == 0);
  CHECK(r.seen == 3 && r.deleted == 1 && hits(&f, "Seal") == 0);
  http_server_stop(srv);
  fx_done(&f);
}

/* Pages served as UTF-16 or UTF-32 are decoded, by the Content-Type's
 * charset (UTF-16 with a mark, UTF-16BE without one) or the mark alone
 * (UTF-32LE sent as bare text/html): their words are found, and text that
 * sits only inside a tag is not (a body read as bytes shows its tags). */
static void scan_web_decodes_utf16_and_utf32(void) {
  fx f;
  fx_init(&f);
  site st = {0};
  int port = 0;
  http_server *srv = http_server_start(serve, &st, &port);
  CHECK(srv != NULL);
  if (!srv)
    return;
  char history[160], sql[1024];
  history_source(&f, history, sizeof history);
  long long t = (long long)tdb_chromium_time(1700000000);
  snprintf(sql, sizeof sql,
           "INSERT INTO urls(url, title, visit_count, last_visit_time) VALUES"
           " ('http://127.0.0.1:%d/wide/16le-bom-narwhal', 'a', 1, %lld),"
           " ('http://127.0.0.1:%d/wide/16be-nob-beluga', 'b', 1, %lld),"
           " ('http://127.0.0.1:%d/wide/32le-bom-walrus', 'c', 1, %lld);",
           port, t, port, t, port, t);
  CHECK(tdb_exec(history, sql) == 0);
  trove_scan_report r;
  trove_err e = {0};
  CHECK(trove_scan_source(f.st, "web", &quiet, &r, &e) == 0);
  CHECK(r.seen == 3 && r.added == 3 && r.skipped == 0 && r.failed == 0);
  CHECK(hits(&f, "narwhal") == 1 && hits(&f, "beluga") == 1 && hits(&f, "walrus") == 1);
  CHECK(hits(&f, "cracks") == 3);
  CHECK(hits(&f, "wideclassname") == 0);
  CHECK(trove_reprocess(f.st, "web", &quiet, &r, &e) == 0); /* the stored copy is UTF-8 */
  CHECK(r.failed == 0 && hits(&f, "cracks") == 3 && hits(&f, "wideclassname") == 0);
  http_server_stop(srv);
  fx_done(&f);
}

/* A new URL whose server answers 304 Not Modified (to a request that sent
 * no validators: trove has no copy) fails alone: it is recorded as that
 * item's fetch error, the page beside it in the batch is stored, the scan
 * succeeds, and so does the next one. */
static void a_304_for_a_new_url_fails_only_that_item(void) {
  fx f;
  fx_init(&f);
  site st = {0};
  int port = 0;
  http_server *srv = http_server_start(serve, &st, &port);
  CHECK(srv != NULL);
  if (!srv)
    return;
  char history[160], sql[1024];
  history_source(&f, history, sizeof history);
  long long t = (long long)tdb_chromium_time(1700000000);
  snprintf(sql, sizeof sql,
           "INSERT INTO urls(url, title, visit_count, last_visit_time) VALUES"
           " ('http://127.0.0.1:%d/always304', 'Never sent', 1, %lld),"
           " ('http://127.0.0.1:%d/walrus', 'Walrus', 1, %lld);", port, t, port, t);
  CHECK(tdb_exec(history, sql) == 0);
  for (int round = 0; round < 2; round++) {
    trove_scan_report r;
    trove_err e = {0};
    int rc = trove_scan_source(f.st, "web", &quiet, &r, &e);
    if (rc)
      fprintf(stderr, "  scan %d: %s\n", round, e.msg);
    CHECK(rc == 0 && r.seen == 2 && r.failed == 1 && reason(&r, "not_modified") == 1);
    CHECK(hits(&f, "tusks") == 1);
  }
  trove_store_source s = {0};
  CHECK(trove_store_source_get(f.st, "web", &s, NULL) == 0 && s.status == TROVE_SOURCE_READY);
  trove_store_source_clear(&s);
  http_server_stop(srv);
  fx_done(&f);
}

/* The progress line counts items at every stage, the embed stage included
 * (it takes batches of 64, and once showed the batch count). The pipeline
 * reports once more when it ends, so even a quick scan prints a line. */
static void progress_counts_items_at_each_stage(void) {
  fx f;
  fx_init(&f);
  FILE *out = tmpfile();
  CHECK(out != NULL);
  trove_scan_opts o = {.progress = TROVE_PROGRESS_LOG, .progress_out = out};
  trove_scan_report r;
  trove_err e = {0};
  CHECK(trove_scan_source(f.st, "tree", &o, &r, &e) == 0);
  char line[512], last[512] = "";
  rewind(out);
  while (fgets(line, sizeof line, out))
    if (strncmp(line, "scan", 4) == 0)
      snprintf(last, sizeof last, "%s", line);
  fclose(out);
  /* All 6 files pass every stage (skipped ones are recorded too), in one
   * batch: a batch count would say "embed 1". */
  CHECK(r.seen == 6);
  const char *want[] = {"source 6 ", "read 6 ", "embed 6 ", "write 6 "};
  for (size_t i = 0; i < sizeof want / sizeof *want; i++)
    if (!strstr(last, want[i])) {
      fprintf(stderr, "  last progress line: %s  wanted \"%s\"\n", last, want[i]);
      CHECK(strstr(last, want[i]) != NULL);
    }
  fx_done(&f);
}

/* What the on_progress callback saw: its last report, copied. */
typedef struct seen_progress {
  int calls;
  struct {
    char name[16];
    int64_t count;
  } stages[8]; /* the names are copied: the pipeline is gone after the scan */
  size_t n_stages;
  char what[64], line[512];
} seen_progress;

static void on_progress(const trove_scan_progress *p, void *arg) {
  seen_progress *s = arg;
  s->calls++;
  s->n_stages = p->n_stages;
  for (size_t i = 0; i < p->n_stages && i < 8; i++) {
    snprintf(s->stages[i].name, sizeof s->stages[i].name, "%s", p->stages[i].name);
    s->stages[i].count = p->stages[i].count;
  }
  snprintf(s->what, sizeof s->what, "%s", p->what);
  snprintf(s->line, sizeof s->line, "%s", p->line);
}

static int64_t stage_count(const seen_progress *s, const char *name) {
  for (size_t i = 0; i < s->n_stages; i++)
    if (strcmp(s->stages[i].name, name) == 0)
      return s->stages[i].count;
  return -1;
}

/* The callback gets the figures the progress line shows, stage by stage,
 * even with the line itself turned off, and its last report (the
 * pipeline's end) counts every item at every stage. */
static void progress_callback_gets_each_stage(void) {
  fx f;
  fx_init(&f);
  FILE *out = tmpfile();
  CHECK(out != NULL);
  seen_progress s = {0};
  trove_scan_opts o = {.progress = TROVE_PROGRESS_NONE, .progress_out = out,
                       .on_progress = on_progress, .progress_arg = &s};
  trove_err e = {0};
  CHECK(trove_scan_source(f.st, "tree", &o, NULL, &e) == 0);
  CHECK(s.calls >= 1);
  CHECK(strcmp(s.what, "scan tree") == 0);
  CHECK(stage_count(&s, "source") == 6 && stage_count(&s, "read") == 6);
  CHECK(stage_count(&s, "embed") == 6 && stage_count(&s, "write") == 6);
  CHECK(stage_count(&s, "batch") == -1); /* batches are not items */
  CHECK(strstr(s.line, "write 6 ") != NULL);
  CHECK(ftell(out) == 0); /* TROVE_PROGRESS_NONE: nothing written */
  fclose(out);
  fx_done(&f);
}

/* A scan or reprocess asked to stop fails with TROVE_ECANCELED, deletes
 * nothing (it did not see the whole source), keeps what it stored, and
 * leaves the source's status saying it was stopped. */
static void a_stopped_scan_deletes_nothing(void) {
  fx f;
  fx_init(&f);
  trove_scan_report r;
  CHECK(scan(&f, &r) == 0);
  int64_t before = items(&f);
  CHECK(before == 6);
  atomic_bool stop = true;
  trove_scan_opts o = {.progress = TROVE_PROGRESS_NONE, .force = true, .stop = &stop};
  trove_err e = {0};
  CHECK(trove_scan_source(f.st, "tree", &o, &r, &e) == TROVE_ECANCELED);
  CHECK(strstr(e.msg, "stopped") != NULL);
  CHECK(r.deleted == 0 && items(&f) == before);
  trove_store_source s = {0};
  CHECK(trove_store_source_get(f.st, "tree", &s, &e) == 0);
  CHECK(s.status == TROVE_SOURCE_ERROR && s.status_msg && strstr(s.status_msg, "stopped"));
  trove_store_source_clear(&s);
  CHECK(trove_reprocess(f.st, NULL, &o, &r, &e) == TROVE_ECANCELED);
  CHECK(r.changed == 0);
  atomic_store(&stop, false); /* the next scan completes the work */
  CHECK(trove_scan_source(f.st, "tree", &o, &r, &e) == 0);
  CHECK(items(&f) == before);
  fx_done(&f);
}

static void set_mtime(const fx *f, const char *rel, time_t sec, long nsec) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s", f->tree, rel);
  struct timespec ts[2] = {{0, UTIME_OMIT}, {sec, nsec}};
  CHECK(utimensat(AT_FDCWD, path, ts, 0) == 0);
}

static void raw_sql(const fx *f, const char *sql) {
  sqlite3 *db = NULL;
  CHECK(sqlite3_open(f->db, &db) == SQLITE_OK);
  CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
  sqlite3_close(db);
}

/* The first column of sql's first row, read with a plain connection. */
static int64_t raw_int(const fx *f, const char *sql) {
  sqlite3 *db = NULL;
  sqlite3_stmt *s = NULL;
  int64_t v = -1;
  CHECK(sqlite3_open(f->db, &db) == SQLITE_OK);
  CHECK(sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK);
  if (sqlite3_step(s) == SQLITE_ROW)
    v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return v;
}

/* A scan that resumes a killed one does not redo what that scan stored,
 * but what changed since it died is still seen: a file it stored and that
 * is gone is deleted, one rewritten since is read again. A source left
 * "indexing" with every item stamped stands in for a scan killed after it
 * wrote its last item. */
static void a_resumed_scan_sees_changes_since_the_kill(void) {
  fx f;
  fx_init(&f);
  trove_scan_report r;
  CHECK(scan(&f, &r) == 0 && r.added == 3);
  raw_sql(&f, "UPDATE sources SET status = 'indexing'");
  char path[160];
  snprintf(path, sizeof path, "%s/notes.md", f.tree);
  CHECK(unlink(path) == 0);
  puts_file(&f, "plain.txt", "A plain file about submarine cables, rewritten after the kill.\n");
  bump_mtime(&f, "plain.txt", 10);
  CHECK(scan(&f, &r) == 0);
  CHECK(r.resumed == 4 && r.changed == 1 && r.deleted == 1);
  CHECK(items(&f) == 5 && hits(&f, "tomatoes") == 0 && hits(&f, "submarine") == 1);
  CHECK(scan(&f, &r) == 0); /* finished: nothing is left to resume or change */
  CHECK(r.resumed == 0 && r.changed == 0 && r.unchanged == 5 && r.deleted == 0);
  fx_done(&f);
}

/* The size and the mtime to the microsecond both count: a rewrite inside
 * one second is seen whether it changes the length or only the mtime's
 * fraction, and one that puts the old mtime back is seen by its size. A
 * row from before the size was stored (-1, whole seconds) is compared to
 * the second, not reread, and learns its exact values on that scan. */
static void changes_within_one_second_are_seen(void) {
  fx f;
  fx_init(&f);
  trove_scan_report r;
  time_t t = time(NULL) - 100;
  set_mtime(&f, "plain.txt", t, 0);
  CHECK(scan(&f, &r) == 0 && r.added == 3);

  puts_file(&f, "plain.txt", "Lighthouse keepers trim the wicks at dusk, a longer text now.\n");
  set_mtime(&f, "plain.txt", t, 0); /* the old mtime put back: only the size tells */
  CHECK(scan(&f, &r) == 0);
  CHECK(r.changed == 1 && r.unchanged == 5 && hits(&f, "wicks") == 1);

  puts_file(&f, "plain.txt", "Lighthouse keepers trim the lamps at dusk, a longer text now.\n");
  set_mtime(&f, "plain.txt", t, 500000000); /* same length, same second */
  CHECK(scan(&f, &r) == 0);
  CHECK(r.changed == 1 && r.unchanged == 5 && hits(&f, "wicks") == 0 && hits(&f, "lamps") == 1);

  raw_sql(&f, "UPDATE items SET size = -1, mtime_us = mtime_us / 1000000 * 1000000");
  CHECK(scan(&f, &r) == 0);
  CHECK(r.changed == 0 && r.unchanged == 6); /* legacy rows: equal to the second */
  CHECK(raw_int(&f, "SELECT count(*) FROM items WHERE type = 'local'"
                    " AND skip_reason IS NULL AND size < 0") == 0); /* all learnt */
  fx_done(&f);
}

/* A directory or file that exists but cannot be read (permissions, I/O
 * errors) says nothing about its contents: a scan keeps the items at and
 * under it, deletes what really went, and says so. trove_fs_test_fail_path
 * stands in for a chmod, which does not stop the root user the tests run
 * as. */
static void unreadable_paths_lose_nothing(void) {
  fx f;
  fx_init(&f);
  char dir[160];
  snprintf(dir, sizeof dir, "%s/subway", f.tree);
  CHECK(mkdir(dir, 0755) == 0);
  snprintf(dir, sizeof dir, "%s/sub.d", f.tree);
  CHECK(mkdir(dir, 0755) == 0);
  puts_file(&f, "subway/line.txt", "The night train runs under the river.\n");
  puts_file(&f, "sub.d/conf.txt", "A configuration note about ferries.\n");
  trove_scan_report r;
  CHECK(scan(&f, &r) == 0 && r.added == 5 && r.unread == 0 && items(&f) == 8);

  trove_fs_test_fail_path("sub"); /* not subway, not sub.d */
  snprintf(dir, sizeof dir, "%s/subway/line.txt", f.tree);
  CHECK(unlink(dir) == 0);
  CHECK(scan(&f, &r) == 0);
  CHECK(r.unread == 1 && r.kept == 1 && r.deleted == 1);
  CHECK(strstr(r.unread_path, "/tree/sub") && !strstr(r.unread_path, "subway"));
  CHECK(items(&f) == 7 && hits(&f, "ledger") == 1 && hits(&f, "ferries") == 1);

  trove_fs_test_fail_path("plain.txt"); /* one file whose stat fails */
  CHECK(scan(&f, &r) == 0);
  CHECK(r.unread == 1 && r.kept == 1 && r.deleted == 0 && hits(&f, "lighthouse") == 1);

  trove_fs_test_fail_path("tree"); /* the source's own directory */
  CHECK(scan(&f, &r) == 0);
  CHECK(r.seen == 0 && r.unread == 1 && r.kept == 7 && r.deleted == 0 && items(&f) == 7);

  trove_fs_test_fail_path(NULL); /* readable again: a real deletion is seen */
  snprintf(dir, sizeof dir, "%s/sub/page.html", f.tree);
  CHECK(unlink(dir) == 0);
  CHECK(scan(&f, &r) == 0);
  CHECK(r.unread == 0 && r.kept == 0 && r.deleted == 1 && hits(&f, "ledger") == 0);
  fx_done(&f);
}

/* A source that yields nothing at all (the drive is not mounted, the mount
 * point is an empty directory) keeps its items and says so; --force
 * deletes them when they are really gone. */
static void an_empty_source_keeps_its_items_unless_forced(void) {
  fx f;
  fx_init(&f);
  trove_scan_report r;
  CHECK(scan(&f, &r) == 0 && items(&f) == 6);
  fx_empty_tree(&f);
  CHECK(scan(&f, &r) == 0);
  CHECK(r.seen == 0 && r.deleted == 0 && r.kept_empty == 6 && items(&f) == 6);
  CHECK(hits(&f, "tomatoes") == 1);
  char buf[2048] = {0};
  FILE *m = fmemopen(buf, sizeof buf - 1, "w");
  trove_scan_report_print(&r, "scan tree", m);
  fclose(m);
  CHECK(strstr(buf, "6 items were kept") && strstr(buf, "--force"));

  trove_scan_opts force = quiet;
  force.force = true;
  CHECK(trove_scan_source(f.st, "tree", &force, &r, NULL) == 0);
  CHECK(r.seen == 0 && r.deleted == 6 && r.kept_empty == 0 && items(&f) == 0);
  fx_done(&f);
}

/* Embeds every pending item of "tree" under model "fake" (dim 4) with one
 * passage over its first bytes, as a model scan would. Returns how many. */
static int embed_pending_fake(fx *f) {
  trove_store_source src = {0};
  CHECK(trove_store_source_get(f->st, "tree", &src, NULL) == 0);
  trove_store_item *rows = NULL;
  size_t n = 0;
  CHECK(trove_store_items_next(f->st, src.id, "fake", 0, 64, &rows, &n, NULL) == 0);
  for (size_t i = 0; i < n; i++) {
    size_t len = rows[i].text ? strlen(rows[i].text) : 0;
    trove_store_passage p = {.ordinal = 0, .start = 0, .end = len < 8 ? (int64_t)len : 8};
    float vec[4] = {1, 0, 0, (float)i};
    int64_t id = 0;
    CHECK(trove_store_item_embed(f->st, rows[i].id, "fake", &p, vec, 1, 4, &id, NULL, NULL) == 0);
  }
  trove_store_items_free(rows, n);
  trove_store_source_clear(&src);
  return (int)n;
}

static int64_t pending_fake(fx *f) {
  return raw_int(f, "SELECT count(*) FROM items WHERE skip_reason IS NULL AND id NOT IN"
                    " (SELECT item_id FROM item_embeddings)");
}

/* A scan without the model (forced or not) keeps the passages, vectors and
 * embedded marks of items whose text it leaves as it was; for an item whose
 * text changed it drops all three together, so the next model scan finds
 * it pending and embeds it again. Passages without a mark, or a mark
 * without passages, would leave the item unsearchable by meaning for good. */
static void keyword_scan_keeps_valid_vectors(void) {
  fx f;
  fx_init(&f);
  trove_scan_report r;
  CHECK(scan(&f, &r) == 0 && r.added == 3);
  CHECK(embed_pending_fake(&f) == 3 && pending_fake(&f) == 0);
  const char *vectors = "SELECT count(*) FROM passage_vectors";
  const char *passages = "SELECT count(*) FROM passages";
  CHECK(raw_int(&f, vectors) == 3 && raw_int(&f, passages) == 3);

  trove_scan_opts force = quiet; /* `trove scan --force --no-model` */
  force.force = true;
  CHECK(trove_scan_source(f.st, "tree", &force, &r, NULL) == 0 && r.changed == 0 &&
        r.unchanged == 3);
  CHECK(raw_int(&f, vectors) == 3 && raw_int(&f, passages) == 3 && pending_fake(&f) == 0);

  puts_file(&f, "plain.txt", "A plain file about glaciers and their moraines.\n");
  bump_mtime(&f, "plain.txt", 10);
  CHECK(scan(&f, &r) == 0 && r.changed == 1);
  CHECK(raw_int(&f, vectors) == 2 && raw_int(&f, passages) == 2 && pending_fake(&f) == 1);
  CHECK(raw_int(&f, "SELECT count(*) FROM items i WHERE text LIKE '%glaciers%' AND"
                    " (EXISTS(SELECT 1 FROM passages WHERE item_id = i.id) OR"
                    " EXISTS(SELECT 1 FROM item_embeddings WHERE item_id = i.id))") == 0);
  CHECK(embed_pending_fake(&f) == 1 && pending_fake(&f) == 0); /* the model scan's turn */

  CHECK(trove_reprocess(f.st, "tree", &quiet, &r, NULL) == 0); /* nothing changes */
  CHECK(raw_int(&f, vectors) == 3 && raw_int(&f, passages) == 3 && pending_fake(&f) == 0);
  fx_done(&f);
}

/* The id of the item whose path ends in rel (-1 when none). */
static int64_t item_id(const fx *f, const char *rel) {
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT id FROM items WHERE external_id = '%s/%s'", f->tree, rel);
  return raw_int(f, sql);
}

static void move_file(const fx *f, const char *from, const char *to) {
  char a[256], b[256];
  snprintf(a, sizeof a, "%s/%s", f->tree, from);
  snprintf(b, sizeof b, "%s/%s", f->tree, to);
  CHECK(rename(a, b) == 0);
}

/* A touched file (a new mtime, the same bytes) is no change: the scan
 * reads it, finds the bytes as stored, and only records the new mtime;
 * nothing is rewritten or counted changed. Forced, every file is re-read
 * and rewritten, and still counted unchanged. */
static void a_touched_file_is_unchanged(void) {
  fx f;
  fx_init(&f);
  trove_scan_report r;
  CHECK(scan(&f, &r) == 0 && r.added == 3);
  CHECK(raw_int(&f, "SELECT count(*) FROM items WHERE text_hash IS NOT NULL") == 3);
  raw_sql(&f, "UPDATE items SET updated_at = 0");
  bump_mtime(&f, "notes.md", 10);
  bump_mtime(&f, "sub/page.html", 10);
  CHECK(scan(&f, &r) == 0);
  CHECK(r.changed == 0 && r.unchanged == 6 && r.added == 0);
  CHECK(raw_int(&f, "SELECT count(*) FROM items WHERE updated_at <> 0") == 0); /* only touched */
  CHECK(scan(&f, &r) == 0 && r.unchanged == 6); /* the new mtimes were recorded */
  CHECK(raw_int(&f, "SELECT count(*) FROM items WHERE updated_at <> 0") == 0);

  trove_scan_opts force = quiet;
  force.force = true;
  CHECK(trove_scan_source(f.st, "tree", &force, &r, NULL) == 0);
  CHECK(r.changed == 0 && r.unchanged == 3 && r.skipped == 3);
  CHECK(raw_int(&f, "SELECT count(*) FROM items WHERE updated_at = 0") == 0); /* all rewritten */
  fx_done(&f);
}

/* A file renamed or moved with its bytes unchanged is the same item at its
 * new path: same id, still hidden, and its passages, vectors and embedded
 * mark kept while its text is the same. A file with no title of its own
 * is titled by its name, so its rename changes its text: it keeps its id,
 * but its vectors go and it awaits embedding again. A copy whose original
 * stays is a new item, and so is the second of two new copies of one
 * renamed file. */
static void a_renamed_file_keeps_its_item(void) {
  fx f;
  fx_init(&f);
  trove_scan_report r;
  CHECK(scan(&f, &r) == 0 && r.added == 3);
  CHECK(embed_pending_fake(&f) == 3);
  int64_t notes = item_id(&f, "notes.md"), plain = item_id(&f, "plain.txt");
  CHECK(trove_store_item_set_hidden(f.st, notes, true, NULL) == 0);
  move_file(&f, "notes.md", "sub/moved.md"); /* titled "Garden notes" inside */
  move_file(&f, "plain.txt", "renamed.txt"); /* titled by its name */
  CHECK(scan(&f, &r) == 0);
  CHECK(r.moved == 2 && r.added == 0 && r.deleted == 0 && r.changed == 0 && r.unchanged == 4);
  CHECK(item_id(&f, "sub/moved.md") == notes && item_id(&f, "renamed.txt") == plain);
  CHECK(items(&f) == 6 && raw_int(&f, "SELECT count(*) FROM passage_vectors") == 2);
  char sql[160];
  snprintf(sql, sizeof sql, "SELECT hidden_at IS NOT NULL FROM items WHERE id = %lld",
           (long long)notes);
  CHECK(raw_int(&f, sql) == 1);
  snprintf(sql, sizeof sql, "SELECT count(*) FROM item_embeddings WHERE item_id = %lld",
           (long long)notes);
  CHECK(raw_int(&f, sql) == 1);
  CHECK(pending_fake(&f) == 1); /* renamed.txt, retitled */
  CHECK(hits(&f, "renamed") == 1); /* its new title */
  char buf[2048] = {0};
  FILE *m = fmemopen(buf, sizeof buf - 1, "w");
  trove_scan_report_print(&r, "scan tree", m);
  fclose(m);
  CHECK(strstr(buf, "\n  2 moved: files renamed or moved with their content, kept as the same "
                    "items\n") != NULL);

  FILE *fp = NULL; /* a copy beside its original: new */
  char path[256];
  snprintf(path, sizeof path, "%s/sub/moved.md", f.tree);
  CHECK((fp = fopen(path, "rb")) != NULL);
  char text[512] = {0};
  size_t len = fp ? fread(text, 1, sizeof text - 1, fp) : 0;
  if (fp)
    fclose(fp);
  put(&f, "copy.md", text, len);
  CHECK(scan(&f, &r) == 0 && r.added == 1 && r.moved == 0 && items(&f) == 7);
  move_file(&f, "sub/moved.md", "again.md"); /* and a second new copy of it */
  put(&f, "twin.md", text, len);
  CHECK(scan(&f, &r) == 0 && r.moved == 1 && r.added == 1 && r.deleted == 0);
  CHECK(item_id(&f, "again.md") == notes || item_id(&f, "twin.md") == notes);
  fx_done(&f);
}

/* source edit changes the globs and rescans only what that changes: the
 * items of files the new globs drop are deleted, files they add are read
 * and added, and the rest stay as they were, not even re-read (the next
 * scan does that). A bad glob, a source that is not fs and an unknown
 * name change nothing. */
static void source_edit_rescans_only_what_the_globs_change(void) {
  fx f;
  fx_init(&f);
  trove_scan_report r;
  trove_err e = {0};
  CHECK(scan(&f, &r) == 0 && items(&f) == 6);
  int64_t plain = item_id(&f, "plain.txt");
  puts_file(&f, "plain.txt", "A plain file about submarines now.\n"); /* changed on disk */
  bump_mtime(&f, "plain.txt", 10);
  const char *md_txt[] = {"*.md", "*.txt"};
  trove_scan_globs g = {.include = md_txt, .n_include = 2, .set_include = true};
  CHECK(trove_scan_source_edit(f.st, "tree", &g, &quiet, &r, &e) == 0);
  CHECK(r.seen == 3 && r.added == 0 && r.changed == 0 && r.unchanged == 3 && r.deleted == 3);
  CHECK(items(&f) == 3 && hits(&f, "ledger") == 0);
  CHECK(item_id(&f, "plain.txt") == plain && hits(&f, "lighthouse") == 1); /* not re-read */
  trove_store_source s = {0};
  CHECK(trove_store_source_get(f.st, "tree", &s, NULL) == 0);
  CHECK(strcmp(s.config, "{\"include\":[\"*.md\",\"*.txt\"],\"exclude\":[]}") == 0);
  CHECK(s.status == TROVE_SOURCE_READY && s.scanned == 3);
  trove_store_source_clear(&s);
  CHECK(scan(&f, &r) == 0); /* the next scan reads what changed, with the new globs */
  CHECK(r.seen == 3 && r.changed == 1 && r.unchanged == 2 && r.deleted == 0);
  CHECK(hits(&f, "submarines") == 1);

  const char *sub[] = {"sub"}; /* every file again, but sub/ */
  trove_scan_globs g2 = {.set_include = true, .exclude = sub, .n_exclude = 1,
                         .set_exclude = true};
  CHECK(trove_scan_source_edit(f.st, "tree", &g2, &quiet, &r, &e) == 0);
  CHECK(r.seen == 5 && r.added == 0 && r.skipped == 2 && r.unchanged == 3 && r.deleted == 0);
  CHECK(reason(&r, "binary") == 2 && items(&f) == 5);
  const char *md[] = {"*.md"}; /* the exclude list stays */
  trove_scan_globs g3 = {.include = md, .n_include = 1, .set_include = true};
  CHECK(trove_scan_source_edit(f.st, "tree", &g3, &quiet, &r, &e) == 0);
  CHECK(r.seen == 1 && r.deleted == 4 && items(&f) == 1);
  CHECK(trove_store_source_get(f.st, "tree", &s, NULL) == 0);
  CHECK(strcmp(s.config, "{\"include\":[\"*.md\"],\"exclude\":[\"sub\"]}") == 0);
  trove_store_source_clear(&s);

  const char *bad[] = {"[x"};
  trove_scan_globs gb = {.include = bad, .n_include = 1, .set_include = true};
  CHECK(trove_scan_source_edit(f.st, "tree", &gb, &quiet, &r, &e) == TROVE_EINVAL);
  CHECK(strstr(e.msg, "bad include glob \"[x\"") != NULL && items(&f) == 1);
  CHECK(trove_store_source_add(f.st, "web", "chromium-history", "/x", NULL, NULL, NULL) == 0);
  CHECK(trove_scan_source_edit(f.st, "web", &g3, &quiet, &r, &e) == TROVE_EINVAL);
  CHECK(strcmp(e.msg, "source web is a chromium-history source: only fs sources have globs "
                      "to edit") == 0);
  CHECK(trove_scan_source_edit(f.st, "nosuch", &g3, &quiet, &r, &e) == TROVE_ENOENT);
  CHECK(trove_store_source_get(f.st, "tree", &s, NULL) == 0 && strstr(s.config, "*.md"));
  trove_store_source_clear(&s);
  fx_done(&f);
}

/* source add checks the location for the type, and refuses an fs source
 * inside or around another one, or a second source of a type at one
 * place (a symbolic link to it included): each would index the same files
 * twice. A directory beside the others is fine, stored resolved. */
static void source_add_refuses_overlaps_and_wrong_locations(void) {
  fx f;
  fx_init(&f);
  trove_err e = {0};
  char tree[PATH_MAX], sub[PATH_MAX + 8], link[160], beside[160], want[3 * PATH_MAX];
  CHECK(realpath(f.tree, tree) != NULL);
  snprintf(sub, sizeof sub, "%s/sub", tree);
  CHECK(trove_scan_source_add(f.st, "inner", "fs", sub, NULL, NULL, &e) == TROVE_EEXIST);
  snprintf(want, sizeof want, "%s lies inside %s, the directory of source tree, which indexes "
           "it already; change what tree indexes with `trove source edit tree --glob ...`",
           sub, tree);
  CHECK(strcmp(e.msg, want) == 0);
  CHECK(trove_scan_source_add(f.st, "outer", "fs", f.dir, NULL, NULL, &e) == TROVE_EEXIST);
  CHECK(strstr(e.msg, "the directory of source tree, whose files would be indexed twice") &&
        strstr(e.msg, "`trove source remove tree`"));
  snprintf(link, sizeof link, "%s/link", f.dir);
  CHECK(symlink(f.tree, link) == 0);
  CHECK(trove_scan_source_add(f.st, "alias", "fs", link, NULL, NULL, &e) == TROVE_EEXIST);
  snprintf(want, sizeof want, "source tree already reads %s; change what it indexes with "
           "`trove source edit tree`, or remove it first", tree);
  CHECK(strcmp(e.msg, want) == 0);
  CHECK(trove_scan_source_add(f.st, "web", "chromium-history", f.tree, NULL, NULL, &e) ==
        TROVE_ENOENT);
  CHECK(strstr(e.msg, "holds no History") != NULL);

  snprintf(beside, sizeof beside, "%s/beside", f.dir);
  CHECK(mkdir(beside, 0755) == 0);
  char *stored = NULL;
  CHECK(trove_scan_source_add(f.st, "beside", "fs", beside, NULL, &stored, &e) == 0);
  CHECK(stored && strncmp(stored, "/", 1) == 0 && strstr(stored, "/beside") && !strstr(stored, "//"));
  trove_free(stored);
  CHECK(trove_scan_source_add(f.st, "tree", "fs", beside, NULL, NULL, &e) == TROVE_EEXIST);
  CHECK(strstr(e.msg, "a source named tree already exists") != NULL);
  trove_store_source *v = NULL;
  size_t n = 0;
  CHECK(trove_store_source_list(f.st, &v, &n, NULL) == 0 && n == 2);
  trove_store_sources_free(v, n);
  fx_done(&f);
}

/* A sluice failure passes through a scan as the SL_E* code it is, named by
 * sluice's message: the two sets of codes are apart (core.h), so a pool
 * that cannot start a thread is never "the database refused a statement". */
static void sluice_failures_keep_their_code_and_message(void) {
  static scan_ctx c; /* zeroed: no fatal error recorded */
  trove_err e = {0};
  CHECK(trove_scan__result(&c, SL_EAGAIN, &e) == SL_EAGAIN && e.code == SL_EAGAIN);
  CHECK(strstr(e.msg, sl_strerror(SL_EAGAIN)) != NULL);
  CHECK(strcmp(trove_scan__strerror(SL_ENOMEM), sl_strerror(SL_ENOMEM)) == 0);
  CHECK(strcmp(trove_scan__strerror(TROVE_EDB), trove_strerror(TROVE_EDB)) == 0);
  CHECK(strcmp(trove_scan__strerror(TROVE_EDB), sl_strerror(SL_ENOMEM)) != 0);
}

int main(void) {
  if (trove_store_use_alloc_hook() != 0) {
    fprintf(stderr, "cannot route SQLite's allocations through trove_malloc\n");
    return 1;
  }
  RUN(scan_new_unchanged_changed_deleted);
  RUN(scan_rereads_a_fixed_file);
  RUN(names_not_utf8_are_indexed_escaped);
  RUN(reprocess_same_version_changes_nothing);
  RUN(reprocess_rewrites_only_changed_output);
  RUN(item_error_does_not_kill_scan);
  RUN(scan_unknown_source_fails);
  RUN(scan_web_history_fetches_conditionally);
  RUN(a_304_for_a_new_url_fails_only_that_item);
  RUN(scan_web_decodes_utf16_and_utf32);
  RUN(scan_removes_history_copies_a_killed_scan_left);
  RUN(scan_canceled_by_failures_ends_cleanly);
  RUN(progress_counts_items_at_each_stage);
  RUN(progress_callback_gets_each_stage);
  RUN(a_stopped_scan_deletes_nothing);
  RUN(a_resumed_scan_sees_changes_since_the_kill);
  RUN(sluice_failures_keep_their_code_and_message);
  RUN(changes_within_one_second_are_seen);
  RUN(unreadable_paths_lose_nothing);
  RUN(an_empty_source_keeps_its_items_unless_forced);
  RUN(keyword_scan_keeps_valid_vectors);
  RUN(a_touched_file_is_unchanged);
  RUN(a_renamed_file_keeps_its_item);
  RUN(source_edit_rescans_only_what_the_globs_change);
  RUN(source_add_refuses_overlaps_and_wrong_locations);
  return check_done(__FILE__);
}
