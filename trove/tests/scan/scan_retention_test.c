/* scan_retention_test.c: what leaves the index and what stays, over a
 * Chromium History, a Firefox places.sqlite and a local HTTP server that
 * counts requests per path:
 *   - retention keep: a page gone from the history while last visited
 *     before the browser's horizon (Chromium: 90 days; Firefox: the oldest
 *     visit left) is kept and marked expired; one gone while recent is
 *     deleted; seen again, the mark goes; retention mirror deletes both;
 *   - an excluded domain (and its subdomains) is never fetched, and the
 *     edit that excludes it deletes the items it holds already;
 *   - forget removes an item with its passages and leaves a tombstone the
 *     next scan honours, until the page is visited again. */
#include "scan.h"
#include "store.h"

#include "check.h"
#include "fixture.h"
#include "http_server.h"
#include "testdb.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Requests per page: /p0 .. /p7. */
typedef struct site {
  _Atomic int hits[8];
} site;

static bool serve(void *ctx, const http_req *req, http_conn *c) {
  site *s = ctx;
  int k = -1;
  if (sscanf(req->path, "/p%d", &k) != 1 || k < 0 || k >= 8)
    return http_respond(c, 404, NULL, "text/plain", "no", 2);
  atomic_fetch_add(&s->hits[k], 1);
  char body[256];
  int n = snprintf(body, sizeof body, "<html><head><title>Page %d</title></head><body><p>"
                   "Page %d tells of marker%d and the tides.</p></body></html>", k, k, k);
  return http_respond(c, 200, NULL, "text/html", body, (size_t)n);
}

/* A Chromium History source "web" in f's directory; *history its file. */
static void chromium_source(fx *f, char *history, size_t cap, const char *config) {
  char profile[128];
  snprintf(profile, sizeof profile, "%s/profile", f->dir);
  snprintf(history, cap, "%s/History", profile);
  CHECK(mkdir(profile, 0700) == 0);
  CHECK(tdb_exec(history, tdb_chromium_schema) == 0);
  CHECK(trove_store_source_add(f->st, "web", "chromium-history", profile, config, NULL, NULL) ==
        0);
}

/* Adds page k of host (127.0.0.1 or a name) visited `days` ago. */
static void visit(const char *history, const char *host, int port, int k, int days) {
  char sql[512];
  snprintf(sql, sizeof sql, "INSERT INTO urls(url, title, visit_count, last_visit_time)"
           " VALUES('http://%s:%d/p%d', 'Page %d', 1, %lld);", host, port, k, k,
           (long long)tdb_chromium_time((int64_t)time(NULL) - (int64_t)days * 86400));
  CHECK(tdb_exec(history, sql) == 0);
}

static void unvisit(const char *history, int k) {
  char sql[128];
  snprintf(sql, sizeof sql, "DELETE FROM urls WHERE url LIKE '%%/p%d';", k);
  CHECK(tdb_exec(history, sql) == 0);
}

/* The id of the source "web". */
static int64_t web_id(fx *f) {
  trove_store_source s = {0};
  CHECK(trove_store_source_get(f->st, "web", &s, NULL) == 0);
  int64_t id = s.id;
  trove_store_source_clear(&s);
  return id;
}

/* The item of page k of 127.0.0.1 (0: none) and its expired mark. */
static int64_t item_of(fx *f, int port, int k, int64_t *expired_at) {
  char url[96];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/p%d", port, k);
  const char *ids[1] = {url};
  trove_store_match m = {0};
  CHECK(trove_store_items_match(f->st, web_id(f), ids, 1, &m, NULL) == 0);
  int64_t id = m.item_id;
  trove_store_match_clear(&m, 1);
  trove_store_item it = {0};
  if (expired_at)
    *expired_at = id && trove_store_item_get(f->st, id, false, &it, NULL) == 0 ? it.expired_at
                                                                              : 0;
  trove_store_item_clear(&it);
  return id;
}

static int scan_web(fx *f, trove_scan_report *r) {
  trove_err e = {0};
  int rc = trove_scan_source(f->st, "web", &quiet, r, &e);
  if (rc)
    fprintf(stderr, "  scan: %s\n", e.msg);
  return rc;
}

static int64_t expired_count(fx *f) {
  trove_store_source s = {0};
  CHECK(trove_store_source_get(f->st, "web", &s, NULL) == 0);
  int64_t n = s.expired;
  trove_store_source_clear(&s);
  return n;
}

static void chromium_old_page_gone_is_kept_recent_one_deleted(void) {
  fx f;
  fx_init(&f);
  site s = {0};
  int port = 0;
  http_server *srv = http_server_start(serve, &s, &port);
  CHECK(srv != NULL);
  char history[160];
  chromium_source(&f, history, sizeof history, NULL);
  visit(history, "127.0.0.1", port, 0, 120); /* past Chromium's 90 days */
  visit(history, "127.0.0.1", port, 1, 2);
  visit(history, "127.0.0.1", port, 2, 2);
  trove_scan_report r;
  CHECK(scan_web(&f, &r) == 0 && r.added == 3);
  unvisit(history, 0); /* the browser expired it */
  unvisit(history, 1); /* the person deleted it */
  CHECK(scan_web(&f, &r) == 0);
  CHECK(r.deleted == 1 && r.expired == 1 && r.expired_new == 1);
  int64_t exp0 = 0, exp2 = 0;
  CHECK(item_of(&f, port, 0, &exp0) != 0 && exp0 > 0);
  CHECK(item_of(&f, port, 1, NULL) == 0);
  CHECK(item_of(&f, port, 2, &exp2) != 0 && exp2 == 0);
  CHECK(hits(&f, "marker0") == 1 && hits(&f, "marker1") == 0);
  CHECK(expired_count(&f) == 1);
  CHECK(scan_web(&f, &r) == 0); /* still gone: still kept, marked once */
  CHECK(r.deleted == 0 && r.expired == 1 && r.expired_new == 0 && item_of(&f, port, 0, NULL));
  visit(history, "127.0.0.1", port, 0, 1); /* visited again: in the history, not expired */
  CHECK(scan_web(&f, &r) == 0);
  CHECK(item_of(&f, port, 0, &exp0) != 0 && exp0 == 0 && expired_count(&f) == 0);
  http_server_stop(srv);
  fx_done(&f);
}

static void retention_mirror_deletes_what_the_browser_expired(void) {
  fx f;
  fx_init(&f);
  site s = {0};
  int port = 0;
  http_server *srv = http_server_start(serve, &s, &port);
  CHECK(srv != NULL);
  char history[160], *config = NULL;
  trove_scan_config cfg = {.retention = TROVE_RETENTION_MIRROR};
  CHECK(trove_scan_config_build(&cfg, &config, NULL) == 0);
  chromium_source(&f, history, sizeof history, config);
  trove_free(config);
  visit(history, "127.0.0.1", port, 0, 120);
  visit(history, "127.0.0.1", port, 1, 2);
  trove_scan_report r;
  CHECK(scan_web(&f, &r) == 0 && r.added == 2);
  unvisit(history, 0);
  CHECK(scan_web(&f, &r) == 0 && r.deleted == 1 && r.expired == 0);
  CHECK(item_of(&f, port, 0, NULL) == 0);
  http_server_stop(srv);
  fx_done(&f);
}

/* Firefox expires the oldest pages first: a page gone that was visited
 * before the oldest visit left is expiry; one visited after it, deletion. */
static void firefox_horizon_is_the_oldest_visit_left(void) {
  fx f;
  fx_init(&f);
  site s = {0};
  int port = 0;
  http_server *srv = http_server_start(serve, &s, &port);
  CHECK(srv != NULL);
  char profile[128], places[160], sql[1024];
  snprintf(profile, sizeof profile, "%s/ff", f.dir);
  snprintf(places, sizeof places, "%s/places.sqlite", profile);
  CHECK(mkdir(profile, 0700) == 0);
  CHECK(tdb_exec(places, tdb_firefox_schema) == 0);
  CHECK(trove_store_source_add(f.st, "web", "firefox", profile, NULL, NULL, NULL) == 0);
  long long now = (long long)time(NULL) * 1000000;
  long long day = 86400LL * 1000000;
  snprintf(sql, sizeof sql, "INSERT INTO moz_places(url, title, last_visit_date) VALUES"
           " ('http://127.0.0.1:%d/p0', 'Page 0', %lld), ('http://127.0.0.1:%d/p1', 'Page 1',"
           " %lld), ('http://127.0.0.1:%d/p2', 'Page 2', %lld), ('http://127.0.0.1:%d/p3',"
           " 'Page 3', %lld);", port, now - 30 * day, port, now - 20 * day, port, now - 10 * day,
           port, now - day);
  CHECK(tdb_exec(places, sql) == 0);
  trove_scan_report r;
  CHECK(scan_web(&f, &r) == 0 && r.added == 4);
  /* expiry took the oldest (p0); the person deleted p3 */
  CHECK(tdb_exec(places, "DELETE FROM moz_places WHERE url LIKE '%/p0' OR url LIKE '%/p3';") ==
        0);
  CHECK(scan_web(&f, &r) == 0 && r.expired_new == 1 && r.deleted == 1);
  int64_t exp0 = 0;
  CHECK(item_of(&f, port, 0, &exp0) != 0 && exp0 > 0);
  CHECK(item_of(&f, port, 3, NULL) == 0);
  http_server_stop(srv);
  fx_done(&f);
}

/* An excluded domain's pages are never fetched; a later edit that excludes
 * another domain deletes what the source holds of it at once. */
static void excluded_domains_are_never_fetched_and_edit_deletes_them(void) {
  fx f;
  fx_init(&f);
  site s = {0};
  int port = 0;
  http_server *srv = http_server_start(serve, &s, &port);
  CHECK(srv != NULL);
  char history[160], *config = NULL;
  const char *dom[] = {"LOCALHOST"}; /* subdomains too, case folded */
  trove_scan_config cfg = {.exclude_domains = dom, .n_exclude_domains = 1};
  CHECK(trove_scan_config_build(&cfg, &config, NULL) == 0);
  CHECK(config && strstr(config, "\"exclude_domains\":[\"localhost\"]"));
  chromium_source(&f, history, sizeof history, config);
  trove_free(config);
  visit(history, "bank.localhost", port, 0, 1);
  visit(history, "localhost", port, 1, 1);
  visit(history, "127.0.0.1", port, 2, 1);
  trove_scan_report r;
  CHECK(scan_web(&f, &r) == 0 && r.added == 1 && r.excluded == 2);
  CHECK(atomic_load(&s.hits[0]) == 0 && atomic_load(&s.hits[1]) == 0);
  CHECK(atomic_load(&s.hits[2]) == 1 && items(&f) == 1);
  const char *more[] = {"0.1", "127.0.0.1"}; /* an address matches itself only */
  trove_scan_web_edit ed = {.exclude_domains = more, .n_exclude_domains = 2,
                            .set_exclude_domains = true};
  int64_t removed = -1;
  trove_err e = {0};
  CHECK(trove_scan_source_edit_web(f.st, "web", &ed, &quiet, &removed, &e) == 0);
  CHECK(removed == 1 && items(&f) == 0 && hits(&f, "marker2") == 0);
  CHECK(scan_web(&f, &r) == 0 && r.excluded == 1 && items(&f) == 2); /* localhost is back in */
  CHECK(atomic_load(&s.hits[2]) == 1);
  /* retention is for history sources; globs' edit is for fs ones */
  trove_scan_web_edit bad = {.retention = TROVE_RETENTION_MIRROR};
  CHECK(trove_scan_source_edit_web(f.st, "tree", &bad, &quiet, NULL, &e) == TROVE_EINVAL);
  const char *junk[] = {"bank.com/login"};
  trove_scan_web_edit worse = {.exclude_domains = junk, .n_exclude_domains = 1,
                               .set_exclude_domains = true};
  CHECK(trove_scan_source_edit_web(f.st, "web", &worse, &quiet, NULL, &e) == TROVE_EINVAL);
  http_server_stop(srv);
  fx_done(&f);
}

/* forget: the item goes with its passages; the next scan leaves the URL
 * out without a request, until the page is visited again. */
static void forgotten_page_stays_out_until_visited_again(void) {
  fx f;
  fx_init(&f);
  site s = {0};
  int port = 0;
  http_server *srv = http_server_start(serve, &s, &port);
  CHECK(srv != NULL);
  char history[160];
  chromium_source(&f, history, sizeof history, NULL);
  visit(history, "127.0.0.1", port, 0, 3);
  visit(history, "127.0.0.1", port, 1, 3);
  trove_scan_report r;
  CHECK(scan_web(&f, &r) == 0 && r.added == 2);
  int64_t id = item_of(&f, port, 0, NULL);
  trove_store_passage p = {.ordinal = 0, .start = 0, .end = 4};
  CHECK(trove_store_passages_replace(f.st, id, &p, 1, NULL, NULL, NULL) == 0);
  int64_t removed = 0, passages = 0;
  trove_err e = {0};
  CHECK(trove_scan_items_remove(f.st, NULL, &id, 1, true, &removed, &passages, &e) == 0);
  CHECK(removed == 1 && passages == 1 && item_of(&f, port, 0, NULL) == 0);
  trove_store_passage *got = NULL;
  size_t n = 9;
  CHECK(trove_store_passages_get(f.st, id, &got, &n, NULL) == 0 && n == 0);
  trove_store_passages_free(got, n);
  CHECK(hits(&f, "marker0") == 0 && hits(&f, "marker1") == 1);
  trove_store_forgotten *fg = NULL;
  CHECK(trove_store_forgotten_get(f.st, web_id(&f), &fg, &n, NULL) == 0 && n == 1);
  trove_store_forgotten_free(fg, n);
  int before = atomic_load(&s.hits[0]);
  CHECK(scan_web(&f, &r) == 0 && r.forgotten == 1 && r.added == 0);
  CHECK(atomic_load(&s.hits[0]) == before && item_of(&f, port, 0, NULL) == 0);
  unvisit(history, 0);
  visit(history, "127.0.0.1", port, 0, -1); /* a visit after the forget (clock ahead a day) */
  CHECK(scan_web(&f, &r) == 0 && r.forgotten == 0 && r.added == 1);
  CHECK(item_of(&f, port, 0, NULL) != 0);
  http_server_stop(srv);
  fx_done(&f);
}

int main(void) {
  RUN(chromium_old_page_gone_is_kept_recent_one_deleted);
  RUN(retention_mirror_deletes_what_the_browser_expired);
  RUN(firefox_horizon_is_the_oldest_visit_left);
  RUN(excluded_domains_are_never_fetched_and_edit_deletes_them);
  RUN(forgotten_page_stays_out_until_visited_again);
  return check_done(__FILE__);
}
