/* scan_backoff_test.c: web pages and hosts that do not answer are backed
 * off, not retried on every scan (scan_backoff.c). A Chromium History
 * source lists pages of three servers on 127.0.0.1: one that answers, one
 * that accepts connections and never answers (a short fetch timeout makes
 * it cheap), and a closed port (connection refused). Each scan's requests
 * are counted at the servers, and the schedule read back from the
 * database; time passing is simulated by moving the recorded waits into
 * the past. */
#include "fetch.h"
#include "scan.h"
#include "scan_int.h" /* trove_scan__backoff_delay, SCAN_HOST_FAILURES */
#include "store.h"

#include "check.h"
#include "fixture.h"
#include "http_server.h"
#include "testdb.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { SILENT_PAGES = 12, TIMEOUT_MS = 1500 };

/* The server that does not answer, until told to. */
typedef struct silent {
  _Atomic int requests;
  _Atomic bool answer;
} silent;

static bool serve_silent(void *ctx, const http_req *req, http_conn *c) {
  silent *s = ctx;
  atomic_fetch_add(&s->requests, 1);
  if (!atomic_load(&s->answer)) {
    http_pause(c, 30000); /* past any fetch timeout; the stop ends it at once */
    return false;
  }
  char page[512];
  int n = snprintf(page, sizeof page, "<!doctype html><html><head><title>Page %s</title></head>"
                   "<body><article><h1>Back</h1><p>The quokka came back from the island and "
                   "answered every request after the long silence.</p></article></body></html>",
                   req->path + 1);
  return http_respond(c, 200, NULL, "text/html; charset=utf-8", page, (size_t)n);
}

static bool serve_live(void *ctx, const http_req *req, http_conn *c) {
  (void)req;
  atomic_fetch_add((_Atomic int *)ctx, 1);
  static const char page[] = "<!doctype html><html><head><title>Walrus</title></head><body>"
                             "<article><h1>Walrus</h1><p>Walruses haul out on the ice floes "
                             "between their long dives for clams.</p></article></body></html>";
  return http_respond(c, 200, NULL, "text/html", page, sizeof page - 1);
}

/* A port on 127.0.0.1 where nothing listens (bound, then closed). */
static int closed_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0);
  close(fd);
  return ntohs(a.sin_port);
}

static int64_t sql_int(const fx *f, const char *sql) {
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

static void sql_run(const fx *f, const char *sql) {
  sqlite3 *db = NULL;
  CHECK(sqlite3_open(f->db, &db) == SQLITE_OK);
  CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
  sqlite3_close(db);
}

/* Every recorded wait is over: what an hour, or a month, later looks like. */
static void waits_pass(const fx *f) {
  sql_run(f, "UPDATE items SET retry_at = 1 WHERE retry_at > 0;"
             " UPDATE fetch_hosts SET retry_at = 1 WHERE retry_at > 0;");
}

static int web_scan(fx *f, bool force, trove_scan_report *r) {
  trove_scan_opts o = {.progress = TROVE_PROGRESS_NONE, .fetch_timeout_ms = TIMEOUT_MS,
                       .force = force};
  trove_err e = {0};
  int rc = trove_scan_source(f->st, "web", &o, r, &e);
  if (rc)
    fprintf(stderr, "  scan: %s\n", e.msg);
  return rc;
}

static void backoff_schedule_doubles_up_to_a_month(void) {
  CHECK(trove_scan__backoff_delay(0) == 0);
  CHECK(trove_scan__backoff_delay(1) == 3600 && trove_scan__backoff_delay(2) == 7200);
  CHECK(trove_scan__backoff_delay(5) == 16 * 3600);
  CHECK(trove_scan__backoff_delay(10) == 512 * 3600);
  CHECK(trove_scan__backoff_delay(11) == 30 * 24 * 3600 &&
        trove_scan__backoff_delay(1000) == 30 * 24 * 3600);
}

static void url_host_names_the_server(void) {
  char *h = NULL;
  CHECK(trove_fetch_url_host("http://Example.COM.:8080/x?y", &h) == 0 &&
        strcmp(h, "example.com:8080") == 0);
  trove_free(h);
  CHECK(trove_fetch_url_host("https://a.b:443/", &h) == 0 && strcmp(h, "a.b") == 0);
  trove_free(h);
  CHECK(trove_fetch_url_host("http://[::1]:9/", &h) == 0 && strcmp(h, "[::1]:9") == 0);
  trove_free(h);
  CHECK(trove_fetch_url_host("not a url", &h) == TROVE_EINVAL && h == NULL);
  CHECK(trove_fetch_url_host(NULL, &h) == TROVE_EINVAL && h == NULL);
}

/* The whole life of a host that stops answering, and comes back. */
static void unanswered_pages_and_hosts_back_off(void) {
  fx f;
  fx_init(&f);
  silent quiet_srv = {0};
  _Atomic int live = 0;
  int qport = 0, lport = 0;
  http_server *qs = http_server_start(serve_silent, &quiet_srv, &qport);
  http_server *ls = http_server_start(serve_live, &live, &lport);
  CHECK(qs && ls);
  if (!qs || !ls)
    return;
  char profile[128], history[160], sql[8192];
  snprintf(profile, sizeof profile, "%s/profile", f.dir);
  snprintf(history, sizeof history, "%s/History", profile);
  CHECK(mkdir(profile, 0700) == 0 && tdb_exec(history, tdb_chromium_schema) == 0);
  CHECK(trove_store_source_add(f.st, "web", "chromium-history", profile, NULL, NULL, NULL) == 0);
  long long t = (long long)tdb_chromium_time(1700000000);
  int len = snprintf(sql, sizeof sql, "INSERT INTO urls(url, title, visit_count, "
                     "last_visit_time) VALUES ('http://127.0.0.1:%d/walrus', 'w', 1, %lld),"
                     " ('http://127.0.0.1:%d/refused', 'r', 1, %lld)", lport, t, closed_port(), t);
  for (int i = 0; i < SILENT_PAGES; i++)
    len += snprintf(sql + len, sizeof sql - (size_t)len, ", ('http://127.0.0.1:%d/q%d', 'q', 1, %lld)",
                    qport, i, t);
  snprintf(sql + len, sizeof sql - (size_t)len, ";");
  CHECK(tdb_exec(history, sql) == 0);
  char host[64], where[160];
  snprintf(host, sizeof host, "127.0.0.1:%d", qport);
  snprintf(where, sizeof where, "SELECT %%s FROM fetch_hosts WHERE host = '%s'", host);
  char q[256];
  trove_scan_report r;

  /* 1. Nothing is known: the silent host gets requests in parallel until
   * SCAN_HOST_FAILURES of them time out; its other pages are deferred. */
  CHECK(web_scan(&f, false, &r) == 0);
  int asked = atomic_load(&quiet_srv.requests);
  CHECK(asked >= SCAN_HOST_FAILURES && asked < SILENT_PAGES);
  CHECK(r.added == 1 && reason(&r, "network") == 1);
  CHECK(reason(&r, "timeout") == asked && r.deferred == SILENT_PAGES - asked);
  CHECK(r.hosts_skipped == 1 && strcmp(r.host_skipped, host) == 0);
  CHECK(r.host_retry_at > (int64_t)time(NULL));
  snprintf(q, sizeof q, where, "failures");
  CHECK(sql_int(&f, q) == SCAN_HOST_FAILURES);
  snprintf(q, sizeof q, where, "retry_at - unixepoch()");
  int64_t wait = sql_int(&f, q);
  CHECK(wait > 3500 && wait <= 3600);
  CHECK(sql_int(&f, "SELECT count(*) FROM items WHERE skip_reason = 'timeout'") == SILENT_PAGES);
  CHECK(sql_int(&f, "SELECT count(*) FROM items WHERE fetch_failures = 1"
                    " AND retry_at - unixepoch() BETWEEN 3500 AND 3600") == asked + 1);
  FILE *out = tmpfile();
  CHECK(out != NULL);
  trove_scan_report_print(&r, "scan web", out);
  rewind(out);
  char text[4096] = "";
  text[fread(text, 1, sizeof text - 1, out)] = '\0';
  fclose(out);
  CHECK(strstr(text, "deferred") && strstr(text, "not contacted: 1 hosts") && strstr(text, host));

  /* 2. A scan right after asks neither the silent host nor the refused URL;
   * the live page is fetched as usual, and nothing is lost. */
  int live_before = atomic_load(&live);
  CHECK(web_scan(&f, false, &r) == 0);
  CHECK(atomic_load(&quiet_srv.requests) == asked);
  CHECK(r.deferred == SILENT_PAGES + 1 && r.failed == 0 && r.deleted == 0);
  CHECK(atomic_load(&live) == live_before + 1 && hits(&f, "floes") == 1);
  CHECK(items(&f) == SILENT_PAGES + 2);

  /* 3. The waits are over: the host gets one request, which times out, so
   * its wait doubles and its other pages are deferred again; the probed
   * page's own wait doubles too. */
  waits_pass(&f);
  CHECK(web_scan(&f, false, &r) == 0);
  CHECK(atomic_load(&quiet_srv.requests) == asked + 1);
  snprintf(q, sizeof q, where, "failures");
  CHECK(sql_int(&f, q) == SCAN_HOST_FAILURES + 1);
  snprintf(q, sizeof q, where, "retry_at - unixepoch()");
  wait = sql_int(&f, q);
  CHECK(wait > 7100 && wait <= 7200);
  CHECK(r.deferred == SILENT_PAGES - 1 && reason(&r, "timeout") == 1);
  CHECK(sql_int(&f, "SELECT count(*) FROM items WHERE fetch_failures = 2"
                    " AND retry_at - unixepoch() BETWEEN 7100 AND 7200") >= 1);

  /* 4. --force asks what earlier scans put off, but a host that fails again
   * is given up within the scan: one request, not twelve. */
  CHECK(web_scan(&f, true, &r) == 0);
  CHECK(atomic_load(&quiet_srv.requests) == asked + 2);
  CHECK(r.deferred == SILENT_PAGES - 1);

  /* 5. The host answers again: its first request forgets it, the rest
   * follow, and every page is stored with no wait left. */
  atomic_store(&quiet_srv.answer, true);
  waits_pass(&f);
  CHECK(web_scan(&f, false, &r) == 0);
  CHECK(atomic_load(&quiet_srv.requests) == asked + 2 + SILENT_PAGES);
  CHECK(r.deferred == 0 && r.hosts_skipped == 0);
  CHECK(sql_int(&f, "SELECT count(*) FROM items WHERE text LIKE '%quokka%'") == SILENT_PAGES);
  snprintf(q, sizeof q, where, "count(*)");
  CHECK(sql_int(&f, q) == 0);
  CHECK(sql_int(&f, "SELECT count(*) FROM items WHERE fetch_failures > 0 OR retry_at > 0") == 1);
  http_server_stop(qs);
  http_server_stop(ls);
  fx_done(&f);
}

int main(void) {
  RUN(backoff_schedule_doubles_up_to_a_month);
  RUN(url_host_names_the_server);
  RUN(unanswered_pages_and_hosts_back_off);
  return check_done(__FILE__);
}
