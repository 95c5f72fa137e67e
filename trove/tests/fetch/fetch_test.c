/* fetch_test.c: the HTTP fetcher against a real HTTP/1.1 server on
 * 127.0.0.1 that the test starts itself (http_server.c), scripted below:
 * conditional GETs answered 304 only when the validators really arrive,
 * redirect chains and loops, every status class, a slow page, huge bodies,
 * non-text types, a gzip body, a truncated body, a refused connection, 200
 * concurrent requests, misuse codes and an allocation-failure loop. Nothing
 * leaves 127.0.0.1; blocked-domain cases are refused before any lookup.
 */
#include "fetch.h"
#include "core_test_hooks.h" /* trove_alloc_fail_after */

#include "check.h"
#include "http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int port;
static http_server *server;

static const char page_html[] = "<html><head><title>T</title></head><body>hello</body></html>";
static const char etag_v1[] = "\"v1\"";
static const char lm_date[] = "Wed, 21 Oct 2015 07:28:00 GMT";
enum { HUGE = 1 << 20, LIMIT = 64 << 10 };

/* ---- the scripted server ------------------------------------------------ */

/* Requests to /n/ between arrival and response, and the most at once. A
 * request is counted out before its response is sent, so a client that
 * waits for a response before sending the next request is never counted
 * twice. Guarded by flight_mu. */
static pthread_mutex_t flight_mu = PTHREAD_MUTEX_INITIALIZER;
static int flight_now, flight_max;

static void in_flight(int delta) {
  pthread_mutex_lock(&flight_mu);
  flight_now += delta;
  if (flight_now > flight_max)
    flight_max = flight_now;
  pthread_mutex_unlock(&flight_mu);
}

/* CRC-32 (IEEE, reflected, as gzip's trailer needs), bit by bit: slow and
 * short, for a 60-byte page. */
static unsigned long crc32_of(const unsigned char *p, size_t n) {
  unsigned long c = 0xffffffffUL;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++)
      c = c & 1 ? (c >> 1) ^ 0xedb88320UL : c >> 1;
  }
  return c ^ 0xffffffffUL;
}

static void put_le32(unsigned char *p, unsigned long v) {
  for (int i = 0; i < 4; i++)
    p[i] = (unsigned char)(v >> (8 * i));
}

/* Sends page_html gzip-encoded (RFC 1952) as one stored deflate block
 * (RFC 1951 section 3.2.4): real gzip that curl must decode, with no zlib
 * needed to make it. The server refuses unless gzip was offered. */
static bool send_gzip(http_conn *c, const http_req *r) {
  char enc[256];
  if (!http_req_header(r, "Accept-Encoding", enc, sizeof enc) || !strstr(enc, "gzip"))
    return http_respond(c, 400, NULL, "text/plain", "no gzip", 7);
  const unsigned char *data = (const unsigned char *)page_html;
  size_t len = sizeof page_html - 1, n = 0;
  unsigned char out[128] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255}; /* magic, deflate, OS unknown */
  n = 10;
  out[n++] = 1; /* BFINAL, stored */
  out[n++] = (unsigned char)len, out[n++] = (unsigned char)(len >> 8);
  out[n++] = (unsigned char)~len, out[n++] = (unsigned char)(~len >> 8);
  memcpy(out + n, data, len);
  n += len;
  put_le32(out + n, crc32_of(data, len));
  put_le32(out + n + 4, (unsigned long)len);
  n += 8;
  return http_respond(c, 200, "Content-Encoding: gzip\r\n", "text/html", out, n);
}

/* Sends HUGE bytes of body after head, in 16 KiB writes; false when the
 * client hung up (it should, past its limit). */
static bool send_huge(http_conn *c, const char *head) {
  static const char chunk[16384] = {[0 ... 16383] = 'a'};
  if (!http_send(c, head, strlen(head)))
    return false;
  for (size_t sent = 0; sent < HUGE; sent += sizeof chunk)
    if (!http_send(c, chunk, sizeof chunk))
      return false;
  return false; /* close after: some of these are close-delimited */
}

static bool conditional(http_conn *c, const http_req *r, bool with_etag) {
  char v[256], head[512];
  if (with_etag && http_req_header(r, "If-None-Match", v, sizeof v) && strcmp(v, etag_v1) == 0)
    return http_respond(c, 304, "ETag: \"v1\"\r\n", NULL, NULL, 0);
  if (!with_etag && http_req_header(r, "If-Modified-Since", v, sizeof v) &&
      strcmp(v, lm_date) == 0)
    return http_respond(c, 304, NULL, NULL, NULL, 0); /* a bare 304: no validators */
  snprintf(head, sizeof head, "%sLast-Modified: %s\r\n", with_etag ? "ETag: \"v1\"\r\n" : "",
           lm_date);
  return http_respond(c, 200, head, "text/html; charset=utf-8", page_html, sizeof page_html - 1);
}

static bool redirect_to(http_conn *c, int status, const char *location) {
  char head[1200];
  snprintf(head, sizeof head, "Location: %s\r\n", location);
  return http_respond(c, status, head, "text/html", "moved", 5);
}

/* Validators, redirects, statuses and request echoes. Sets *keep and
 * returns true when the path is one of these. */
static bool serve_protocol(const http_req *r, http_conn *c, bool *keep) {
  const char *p = r->path;
  char buf[1100];
  int n;
  if (strcmp(p, "/page") == 0 || strcmp(p, "/lm-only") == 0) {
    *keep = conditional(c, r, strcmp(p, "/page") == 0);
  } else if (sscanf(p, "/r/%d", &n) == 1) { /* a chain: /r/3 -> /r/2 -> /r/1 -> /r/0 */
    snprintf(buf, sizeof buf, "/r/%d", n - 1);
    *keep = n > 0 ? redirect_to(c, n % 2 ? 302 : 301, buf)
                  : http_respond(c, 200, NULL, "text/html", "end", 3);
  } else if (strcmp(p, "/loop") == 0) {
    *keep = redirect_to(c, 302, "/loop");
  } else if (strcmp(p, "/to-ftp") == 0) {
    *keep = redirect_to(c, 302, "ftp://127.0.0.1/x");
  } else if (strcmp(p, "/to-blocked") == 0) {
    *keep = redirect_to(c, 307, "http://www.Blocked.invalid/secret");
  } else if (strcmp(p, "/nolocation") == 0) {
    *keep = http_respond(c, 302, NULL, "text/html", "x", 1);
  } else if (sscanf(p, "/status/%d", &n) == 1) { /* 204 and 304 never have a body */
    *keep = n == 204 || n == 304 ? http_respond(c, n, NULL, NULL, NULL, 0)
                                 : http_respond(c, n, NULL, "text/html", "<p>status</p>", 13);
  } else if (strcmp(p, "/ua") == 0) {
    if (!http_req_header(r, "User-Agent", buf, sizeof buf))
      buf[0] = '\0';
    *keep = http_respond(c, 200, NULL, "text/plain", buf, strlen(buf));
  } else if (sscanf(p, "/n/%d", &n) == 1) {
    in_flight(+1);
    http_pause(c, 5); /* a little latency, so transfers overlap as on the web */
    snprintf(buf, sizeof buf, "item %d", n);
    in_flight(-1); /* before the response: the client sees it only after */
    *keep = http_respond(c, 200, NULL, "text/plain", buf, strlen(buf));
  } else {
    return false;
  }
  return true;
}

static bool send_slow(http_conn *c) { /* headers, a little body, then a stall */
  const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100\r\n\r\n";
  if (http_send(c, head, sizeof head - 1) && http_send(c, "<p>", 3))
    http_pause(c, 10000); /* the client times out long before; stop ends it early */
  return false;
}

static bool send_truncated(http_conn *c) {
  const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n\r\n";
  if (http_send(c, head, sizeof head - 1))
    http_send(c, "<p>only part", 12);
  return false; /* closes 988 bytes short */
}

/* Body shapes: slow, huge, truncated, typed, encoded. Like serve_protocol. */
static bool serve_bodies(const http_req *r, http_conn *c, bool *keep) {
  static const struct { const char *path, *head; } huge[] = {
    {"/huge-length", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1048576\r\n\r\n"},
    {"/huge-stream", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n"},
    {"/huge-404", "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n"},
    {"/huge-404-length", "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 1048576\r\n\r\n"},
    {"/huge-png-length", "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 1048576\r\n\r\n"},
  };
  static const struct { const char *path, *type, *body; } small[] = {
    {"/png", "image/png", "\x89PNG\r\n\x1a\n"},
    {"/md", "text/markdown; charset=utf-8", "# Hi"},
    {"/xhtml", "Application/XHTML+xml", "<html/>"},
    {"/notype", NULL, "plain"},
    {"/empty", "text/html", ""},
  };
  const char *p = r->path;
  for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++)
    if (strcmp(p, huge[i].path) == 0) {
      *keep = send_huge(c, huge[i].head);
      return true;
    }
  for (size_t i = 0; i < sizeof small / sizeof small[0]; i++)
    if (strcmp(p, small[i].path) == 0) {
      *keep = http_respond(c, 200, NULL, small[i].type, small[i].body, strlen(small[i].body));
      return true;
    }
  if (strcmp(p, "/slow") == 0)
    *keep = send_slow(c);
  else if (strcmp(p, "/truncated") == 0)
    *keep = send_truncated(c);
  else if (strcmp(p, "/gzip") == 0)
    *keep = send_gzip(c, r);
  else
    return false;
  return true;
}

static bool handle(void *ctx, const http_req *r, http_conn *c) {
  (void)ctx;
  bool keep = false;
  if (serve_protocol(r, c, &keep) || serve_bodies(r, c, &keep))
    return keep;
  return http_respond(c, 404, NULL, "text/plain", "no such route", 13);
}

/* ---- helpers ------------------------------------------------------------ */

static char *url_of(const char *path) {
  static char url[1200];
  snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
  return url;
}

static trove_fetch *make(int concurrent, long timeout_ms, int redirects) {
  static const char *const blocked[] = {"blocked.invalid", "27.0.0.1", NULL};
  trove_fetch_opts o = {.max_concurrent = concurrent, .timeout_ms = timeout_ms,
                        .max_redirects = redirects, .max_body = LIMIT,
                        .user_agent = "trove-test/1", .blocked_domains = blocked};
  trove_fetch *f = NULL;
  trove_err e;
  CHECK(trove_fetch_create(&o, &f, &e) == 0);
  return f;
}

/* Fetches url with the given validators; never NULL (aborts the test run
 * when the fetcher itself fails, which no case expects). */
static trove_fetch_result *get_full(trove_fetch *f, const char *url, const char *etag,
                                    const char *lm) {
  trove_fetch_req req = {.url = url, .etag = etag, .last_modified = lm};
  trove_fetch_result *r = NULL;
  trove_err e;
  trove_err_clear(&e);
  int rc = trove_fetch_one(f, &req, &r, &e);
  if (rc != 0 || !r) {
    fprintf(stderr, "trove_fetch_one(%s) = %d: %s\n", url, rc, e.msg);
    exit(2);
  }
  return r;
}

static trove_fetch_result *get(trove_fetch *f, const char *path) {
  return get_full(f, url_of(path), NULL, NULL);
}

static int reason_of(trove_fetch *f, const char *path) {
  trove_fetch_result *r = get(f, path);
  int reason = r->reason;
  CHECK(r->body == NULL || reason == TROVE_FETCH_OK);
  CHECK((reason == TROVE_FETCH_OK) == (r->error[0] == '\0'));
  trove_fetch_result_free(r);
  return reason;
}

/* ---- cases -------------------------------------------------------------- */

static void fetch_ok_returns_text_body_and_validators(void) {
  trove_fetch *f = make(0, 5000, 0);
  trove_fetch_result *r = get(f, "/page");
  CHECK(r->reason == TROVE_FETCH_OK && r->status == 200 && r->redirects == 0);
  CHECK(r->body && r->body_len == sizeof page_html - 1 && strcmp(r->body, page_html) == 0);
  CHECK(r->etag && strcmp(r->etag, etag_v1) == 0);
  CHECK(r->last_modified && strcmp(r->last_modified, lm_date) == 0);
  CHECK(r->content_type && strncmp(r->content_type, "text/html", 9) == 0);
  CHECK(r->final_url && strcmp(r->final_url, url_of("/page")) == 0);
  CHECK(r->error[0] == '\0');
  trove_fetch_result_free(r);
  trove_fetch_destroy(f);
}

static void fetch_sends_if_none_match_and_304_is_not_modified(void) {
  trove_fetch *f = make(0, 5000, 0);
  /* The server answers 304 only when it receives If-None-Match: "v1". */
  trove_fetch_result *r = get_full(f, url_of("/page"), etag_v1, NULL);
  CHECK(r->reason == TROVE_FETCH_NOT_MODIFIED && r->status == 304 && !r->body);
  CHECK(r->etag && strcmp(r->etag, etag_v1) == 0);
  CHECK(!trove_fetch_reason_is_permanent(r->reason));
  trove_fetch_result_free(r);
  r = get_full(f, url_of("/page"), "\"stale\"", NULL); /* a changed page comes back whole */
  CHECK(r->reason == TROVE_FETCH_OK && r->body && r->etag && strcmp(r->etag, etag_v1) == 0);
  trove_fetch_result_free(r);
  trove_fetch_destroy(f);
}

static void fetch_sends_if_modified_since_and_bare_304_keeps_validators(void) {
  trove_fetch *f = make(0, 5000, 0);
  trove_fetch_result *r = get_full(f, url_of("/lm-only"), NULL, lm_date);
  CHECK(r->reason == TROVE_FETCH_NOT_MODIFIED && r->status == 304);
  CHECK(r->last_modified && strcmp(r->last_modified, lm_date) == 0); /* the request's */
  CHECK(r->etag == NULL);
  trove_fetch_result_free(r);
  /* A validator with a CR LF would inject a header: it is not sent. */
  r = get_full(f, url_of("/lm-only"), "\"x\"\r\nX-Evil: 1", "bad\r\nIf-Modified-Since: x");
  CHECK(r->reason == TROVE_FETCH_OK && r->last_modified && strcmp(r->last_modified, lm_date) == 0);
  trove_fetch_result_free(r);
  trove_fetch_destroy(f);
}

static void fetch_follows_redirect_chain_and_records_final_url(void) {
  trove_fetch *f = make(0, 5000, 0);
  trove_fetch_result *r = get(f, "/r/3");
  CHECK(r->reason == TROVE_FETCH_OK && r->redirects == 3 && r->body && strcmp(r->body, "end") == 0);
  CHECK(strcmp(r->url, url_of("/r/3")) == 0 && strcmp(r->final_url, url_of("/r/0")) == 0);
  trove_fetch_result_free(r);
  trove_fetch_destroy(f);
}

static void fetch_redirect_loop_and_long_chain_are_too_many_redirects(void) {
  trove_fetch *f = make(0, 5000, 2);
  CHECK(reason_of(f, "/loop") == TROVE_FETCH_TOO_MANY_REDIRECTS);
  CHECK(reason_of(f, "/r/3") == TROVE_FETCH_TOO_MANY_REDIRECTS);
  CHECK(reason_of(f, "/r/2") == TROVE_FETCH_OK);
  CHECK(trove_fetch_reason_is_permanent(TROVE_FETCH_TOO_MANY_REDIRECTS));
  trove_fetch_destroy(f);
  f = make(0, 5000, -1); /* follow none */
  CHECK(reason_of(f, "/r/1") == TROVE_FETCH_TOO_MANY_REDIRECTS);
  CHECK(reason_of(f, "/r/0") == TROVE_FETCH_OK);
  trove_fetch_destroy(f);
}

static void fetch_unusable_redirects_are_bad_redirect(void) {
  trove_fetch *f = make(0, 5000, 0);
  CHECK(reason_of(f, "/nolocation") == TROVE_FETCH_BAD_REDIRECT);
  CHECK(reason_of(f, "/to-ftp") == TROVE_FETCH_BAD_REDIRECT);
  trove_fetch_destroy(f);
}

static void fetch_never_contacts_blocked_domains(void) {
  trove_fetch *f = make(0, 5000, 0);
  /* The redirect target is blocked: refused before any lookup of it. */
  trove_fetch_result *r = get(f, "/to-blocked");
  CHECK(r->reason == TROVE_FETCH_BLOCKED && r->status == 307 && strstr(r->error, "blocked"));
  trove_fetch_result_free(r);
  CHECK(reason_of(f, "/page") == TROVE_FETCH_OK); /* 127.0.0.1 is not under "27.0.0.1" */
  r = get_full(f, "HTTP://Deep.Sub.BLOCKED.invalid./x", NULL, NULL);
  CHECK(r->reason == TROVE_FETCH_BLOCKED && r->status == 0 && trove_fetch_reason_is_permanent(r->reason));
  trove_fetch_result_free(r);
  trove_fetch_destroy(f);
  CHECK(trove_fetch_create(NULL, &f, NULL) == 0); /* the default list */
  r = get_full(f, "https://accounts.google.com/signin", NULL, NULL);
  CHECK(r->reason == TROVE_FETCH_BLOCKED);
  trove_fetch_result_free(r);
  r = get_full(f, "https://x.ad.doubleclick.net/pixel", NULL, NULL);
  CHECK(r->reason == TROVE_FETCH_BLOCKED);
  trove_fetch_result_free(r);
  trove_fetch_destroy(f);
}

static void fetch_bad_urls_are_refused_as_bad_url(void) {
  trove_fetch *f = make(0, 5000, 0);
  const char *bad[] = {"ftp://127.0.0.1/x", "file:///etc/passwd", "not a url", "http://", "",
                       "127.0.0.1/page", "gopher://127.0.0.1/"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    trove_fetch_result *r = get_full(f, bad[i], NULL, NULL);
    CHECK(r->reason == TROVE_FETCH_BAD_URL && r->status == 0 && r->error[0]);
    trove_fetch_result_free(r);
  }
  CHECK(trove_fetch_reason_is_permanent(TROVE_FETCH_BAD_URL));
  trove_fetch_destroy(f);
}

static void fetch_statuses_map_to_reasons_and_permanence(void) {
  static const struct { int status; int reason; bool permanent; } cases[] = {
    {401, TROVE_FETCH_UNAUTHORIZED, true}, {403, TROVE_FETCH_UNAUTHORIZED, true},
    {404, TROVE_FETCH_GONE, true},         {410, TROVE_FETCH_GONE, true},
    {400, TROVE_FETCH_CLIENT_ERROR, true}, {451, TROVE_FETCH_CLIENT_ERROR, true},
    {429, TROVE_FETCH_RETRY_LATER, false}, {408, TROVE_FETCH_RETRY_LATER, false},
    {500, TROVE_FETCH_SERVER_ERROR, false}, {503, TROVE_FETCH_SERVER_ERROR, false},
    {204, TROVE_FETCH_OK, false},           {300, TROVE_FETCH_BAD_REDIRECT, true},
  };
  trove_fetch *f = make(0, 5000, 0);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char path[32];
    snprintf(path, sizeof path, "/status/%d", cases[i].status);
    trove_fetch_result *r = get(f, path);
    CHECK(r->status == cases[i].status && r->reason == cases[i].reason);
    if (r->status != cases[i].status || r->reason != cases[i].reason)
      fprintf(stderr, "  status %d: got %ld %s\n", cases[i].status, r->status,
              trove_fetch_reason_name(r->reason));
    CHECK(trove_fetch_reason_is_permanent(r->reason) == cases[i].permanent);
    CHECK(trove_fetch_reason_for_status(cases[i].status) == cases[i].reason);
    trove_fetch_result_free(r);
  }
  CHECK(trove_fetch_reason_for_status(0) == TROVE_FETCH_OTHER_STATUS);
  CHECK(trove_fetch_reason_for_status(700) == TROVE_FETCH_OTHER_STATUS);
  CHECK(trove_fetch_reason_for_status(304) == TROVE_FETCH_NOT_MODIFIED);
  trove_fetch_destroy(f);
}

static void reason_names_are_distinct_and_stable(void) {
  CHECK(strcmp(trove_fetch_reason_name(TROVE_FETCH_GONE), "gone") == 0);
  CHECK(strcmp(trove_fetch_reason_name(TROVE_FETCH_NOT_TEXT), "not_text") == 0);
  CHECK(strcmp(trove_fetch_reason_name(TROVE_FETCH_TOO_LARGE), "too_large") == 0);
  CHECK(strcmp(trove_fetch_reason_name(-1), "unknown") == 0);
  CHECK(strcmp(trove_fetch_reason_name(TROVE_FETCH_REASON_COUNT), "unknown") == 0);
  CHECK(!trove_fetch_reason_is_permanent(-1) && !trove_fetch_reason_is_permanent(TROVE_FETCH_OK));
  for (int a = 0; a < TROVE_FETCH_REASON_COUNT; a++)
    for (int b = a + 1; b < TROVE_FETCH_REASON_COUNT; b++)
      CHECK(strcmp(trove_fetch_reason_name(a), trove_fetch_reason_name(b)) != 0);
}

static void fetch_slow_page_times_out_as_transient(void) {
  trove_fetch *f = make(0, 300, 0);
  trove_fetch_result *r = get(f, "/slow");
  CHECK(r->reason == TROVE_FETCH_TIMEOUT && !r->body && r->error[0]);
  CHECK(!trove_fetch_reason_is_permanent(r->reason));
  trove_fetch_result_free(r);
  trove_fetch_destroy(f);
}

static void fetch_body_past_limit_is_too_large(void) {
  trove_fetch *f = make(0, 20000, 0);
  CHECK(reason_of(f, "/huge-length") == TROVE_FETCH_TOO_LARGE); /* stopped by Content-Length */
  CHECK(reason_of(f, "/huge-stream") == TROVE_FETCH_TOO_LARGE); /* stopped while reading */
  CHECK(reason_of(f, "/huge-404") == TROVE_FETCH_GONE);         /* error bodies are not kept */
  CHECK(reason_of(f, "/huge-404-length") == TROVE_FETCH_GONE);  /* nor judged by their size */
  CHECK(reason_of(f, "/huge-png-length") == TROVE_FETCH_NOT_TEXT);
  CHECK(trove_fetch_reason_is_permanent(TROVE_FETCH_TOO_LARGE));
  trove_fetch_destroy(f);
}

static void fetch_keeps_text_types_only(void) {
  trove_fetch *f = make(0, 5000, 0);
  trove_fetch_result *r = get(f, "/png");
  CHECK(r->reason == TROVE_FETCH_NOT_TEXT && r->status == 200 && !r->body && r->body_len == 0);
  CHECK(r->content_type && strcmp(r->content_type, "image/png") == 0);
  CHECK(trove_fetch_reason_is_permanent(r->reason));
  trove_fetch_result_free(r);
  const char *kept[] = {"/md", "/xhtml", "/notype"};
  for (size_t i = 0; i < 3; i++) {
    r = get(f, kept[i]);
    CHECK(r->reason == TROVE_FETCH_OK && r->body && r->body_len > 0);
    trove_fetch_result_free(r);
  }
  r = get(f, "/empty");
  CHECK(r->reason == TROVE_FETCH_OK && r->body && r->body_len == 0 && r->body[0] == '\0');
  trove_fetch_result_free(r);
  trove_fetch_destroy(f);
}

static void fetch_decodes_gzip_body(void) {
  trove_fetch *f = make(0, 5000, 0);
  trove_fetch_result *r = get(f, "/gzip"); /* the server says 400 without Accept-Encoding: gzip */
  CHECK(r->reason == TROVE_FETCH_OK && r->body && strcmp(r->body, page_html) == 0);
  trove_fetch_result_free(r);
  trove_fetch_destroy(f);
}

static void fetch_sends_configured_user_agent(void) {
  trove_fetch *f = make(0, 5000, 0);
  trove_fetch_result *r = get(f, "/ua");
  CHECK(r->reason == TROVE_FETCH_OK && r->body && strcmp(r->body, "trove-test/1") == 0);
  trove_fetch_result_free(r);
  trove_fetch_destroy(f);
}

static void fetch_refused_connection_is_transient_network(void) {
  /* A bound socket that never listens: connecting to it is refused. */
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof a;
  CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &al) == 0);
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/page", ntohs(a.sin_port));
  trove_fetch *f = make(0, 5000, 0);
  trove_fetch_result *r = get_full(f, url, NULL, NULL);
  CHECK(r->reason == TROVE_FETCH_NETWORK && r->status == 0 && r->error[0]);
  CHECK(!trove_fetch_reason_is_permanent(r->reason));
  trove_fetch_result_free(r);
  trove_fetch_destroy(f);
  close(fd);
}

static void fetch_truncated_body_is_transient_network(void) {
  trove_fetch *f = make(0, 5000, 0);
  trove_fetch_result *r = get(f, "/truncated");
  CHECK(r->reason == TROVE_FETCH_NETWORK && !r->body && r->error[0]);
  trove_fetch_result_free(r);
  trove_fetch_destroy(f);
}

/* ---- many at once, from callbacks --------------------------------------- */

enum { MANY = 200, MANY_CONCURRENT = 16 };

struct many {
  trove_fetch *f;
  int next;            /* next index to submit */
  int seen[MANY];      /* results per index */
  int wrong;
};

static void submit_index(struct many *m) {
  char path[32];
  snprintf(path, sizeof path, "/n/%d", m->next);
  trove_fetch_req req = {.url = url_of(path), .user = &m->seen[m->next]};
  CHECK(trove_fetch_submit(m->f, &req) == 0);
  m->next++;
}

static void on_many(void *ctx, trove_fetch_result *r) {
  struct many *m = ctx;
  int i = (int)((int *)r->user - m->seen);
  char want[32];
  snprintf(want, sizeof want, "item %d", i);
  if (i < 0 || i >= MANY || r->reason != TROVE_FETCH_OK || !r->body || strcmp(r->body, want) != 0)
    m->wrong++;
  else
    m->seen[i]++;
  trove_fetch_result_free(r);
  if (m->next < MANY) /* feed from inside the callback, as a pipeline stage does */
    submit_index(m);
  trove_err e;
  CHECK(trove_fetch_poll(m->f, 0, on_many, m, &e) == TROVE_EBUSY);
  trove_fetch_result *one = NULL;
  trove_fetch_req req = {.url = url_of("/page")};
  CHECK(trove_fetch_one(m->f, &req, &one, NULL) == TROVE_EBUSY && !one);
}

static void fetch_many_concurrent_all_complete_within_limit(void) {
  struct many *m = calloc(1, sizeof *m);
  m->f = make(MANY_CONCURRENT, 20000, 0);
  while (m->next < MANY / 2)
    submit_index(m);
  while (trove_fetch_pending(m->f) > 0)
    CHECK(trove_fetch_poll(m->f, 1000, on_many, m, NULL) >= 0);
  CHECK(m->next == MANY && m->wrong == 0);
  for (int i = 0; i < MANY; i++)
    CHECK(m->seen[i] == 1);
  pthread_mutex_lock(&flight_mu);
  int most = flight_max;
  pthread_mutex_unlock(&flight_mu);
  fprintf(stderr, "  at most %d requests in flight at the server\n", most);
  CHECK(most <= MANY_CONCURRENT);
  trove_fetch_destroy(m->f);
  free(m);
}

/* ---- misuse, cleanup and allocation failure ----------------------------- */

static void count_cb(void *ctx, trove_fetch_result *r) {
  (*(int *)ctx)++;
  trove_fetch_result_free(r);
}

static void fetch_misuse_returns_codes(void) {
  trove_fetch *f = NULL;
  trove_err e;
  trove_fetch_opts neg = {.max_concurrent = -1};
  CHECK(trove_fetch_create(&neg, &f, &e) == TROVE_EINVAL && !f && e.msg[0]);
  trove_fetch_opts negt = {.timeout_ms = -5};
  CHECK(trove_fetch_create(&negt, &f, &e) == TROVE_EINVAL && !f);
  const char *const empty[] = {"ok.example", "", NULL};
  trove_fetch_opts eo = {.blocked_domains = empty};
  CHECK(trove_fetch_create(&eo, &f, &e) == TROVE_EINVAL && !f && strstr(e.msg, "#2"));
  CHECK(trove_fetch_create(NULL, NULL, &e) == TROVE_EINVAL);
  f = make(0, 5000, 0);
  int n = 0;
  trove_fetch_req req = {.url = NULL};
  CHECK(trove_fetch_submit(f, &req) == TROVE_EINVAL && trove_fetch_submit(NULL, &req) == TROVE_EINVAL);
  CHECK(trove_fetch_submit(f, NULL) == TROVE_EINVAL);
  CHECK(trove_fetch_poll(NULL, 0, count_cb, &n, &e) == TROVE_EINVAL);
  CHECK(trove_fetch_poll(f, 0, NULL, &n, &e) == TROVE_EINVAL);
  CHECK(trove_fetch_poll(f, 100000, count_cb, &n, &e) == 0); /* nothing pending: at once */
  CHECK(trove_fetch_wakeup(NULL) == TROVE_EINVAL && trove_fetch_wakeup(f) == 0);
  trove_fetch_result *r = NULL;
  CHECK(trove_fetch_one(f, NULL, &r, &e) == TROVE_EINVAL);
  req.url = url_of("/page");
  CHECK(trove_fetch_submit(f, &req) == 0 && trove_fetch_pending(f) == 1);
  CHECK(trove_fetch_one(f, &req, &r, &e) == TROVE_EBUSY && !r);
  while (trove_fetch_pending(f))
    CHECK(trove_fetch_poll(f, 1000, count_cb, &n, &e) >= 0);
  CHECK(n == 1 && trove_fetch_pending(NULL) == 0);
  trove_fetch_destroy(f);
  trove_fetch_destroy(NULL);
  trove_fetch_result_free(NULL);
}

static void fetch_destroy_drops_requests_in_flight(void) {
  trove_fetch *f = make(2, 20000, 0);
  for (int i = 0; i < 4; i++) { /* two stall on /slow, two wait in the queue */
    trove_fetch_req req = {.url = url_of(i % 2 ? "/slow" : "/to-blocked")};
    CHECK(trove_fetch_submit(f, &req) == 0);
  }
  int n = 0;
  CHECK(trove_fetch_poll(f, 0, count_cb, &n, NULL) >= 0);
  trove_fetch_destroy(f); /* ASan proves nothing leaks */
}

static void fetch_poll_out_of_memory_keeps_request_queued(void) {
  trove_fetch *f = make(0, 5000, 0);
  trove_fetch_req req = {.url = url_of("/page")};
  CHECK(trove_fetch_submit(f, &req) == 0);
  int n = 0;
  trove_err e;
  trove_err_clear(&e);
  trove_alloc_fail_after(0, true); /* curl cannot even create the easy handle */
  int rc = trove_fetch_poll(f, 0, count_cb, &n, &e);
  trove_alloc_fail_after(-1, false);
  CHECK(rc == TROVE_ENOMEM && e.code == TROVE_ENOMEM && n == 0 && trove_fetch_pending(f) == 1);
  while (trove_fetch_pending(f))
    CHECK(trove_fetch_poll(f, 1000, count_cb, &n, NULL) >= 0);
  CHECK(n == 1);
  trove_fetch_destroy(f);
}

static void *wake_often(void *arg) {
  for (int i = 0; i < 100; i++)
    CHECK(trove_fetch_wakeup(arg) == 0);
  return NULL;
}

/* Another thread may wake the owner's poll at any moment; TSan checks the
 * claim, and the request still ends exactly once. */
static void fetch_wakeup_from_another_thread_is_safe(void) {
  trove_fetch *f = make(0, 300, 0);
  trove_fetch_req req = {.url = url_of("/slow")};
  CHECK(trove_fetch_submit(f, &req) == 0);
  pthread_t th;
  CHECK(pthread_create(&th, NULL, wake_often, f) == 0);
  int n = 0;
  while (trove_fetch_pending(f))
    CHECK(trove_fetch_poll(f, 60000, count_cb, &n, NULL) >= 0);
  pthread_join(th, NULL);
  CHECK(n == 1);
  trove_fetch_destroy(f);
}

/* One fetch of a redirect with validators, the allocation after n
 * successes failing; *failed says whether the failure was reached. */
static int fetch_with_failure(long n, int *reason, bool *failed) {
  trove_fetch *f = NULL;
  trove_fetch_result *r = NULL;
  trove_fetch_opts o = {.max_body = LIMIT};
  trove_fetch_req req = {.url = url_of("/r/1"), .etag = "\"old\"", .last_modified = lm_date};
  trove_alloc_fail_after(n, false);
  int rc = trove_fetch_create(&o, &f, NULL);
  if (rc == 0)
    rc = trove_fetch_one(f, &req, &r, NULL);
  *failed = trove_alloc_fail_after(-1, false) > 0;
  *reason = r ? r->reason : -1;
  CHECK((rc == 0) == (r != NULL));
  if (r && r->reason == TROVE_FETCH_OK)
    CHECK(r->body && strcmp(r->body, "end") == 0 && r->redirects == 1);
  if (r && r->reason != TROVE_FETCH_OK)
    CHECK(!r->body && r->error[0]);
  trove_fetch_result_free(r);
  trove_fetch_destroy(f);
  return rc;
}

/* Fails allocation 0, 1, 2, ... (trove's and curl's, through the hook)
 * until a run reaches no failure point; each failure must be a clean code
 * or result, and ASan checks nothing leaks. */
static void fetch_alloc_failure_loop_is_clean(void) {
  int reason = -1, rc = -1, nomem = 0;
  bool failed = true;
  long n;
  for (n = 0; n < 5000 && failed; n++) {
    rc = fetch_with_failure(n, &reason, &failed);
    CHECK(rc == 0 || rc == TROVE_ENOMEM);
    nomem += rc == TROVE_ENOMEM || reason == TROVE_FETCH_NO_MEMORY;
    /* curl reports some failed allocations as transfer errors. */
    CHECK(rc != 0 || reason == TROVE_FETCH_OK || reason == TROVE_FETCH_NO_MEMORY ||
          reason == TROVE_FETCH_NETWORK);
  }
  CHECK(!failed && rc == 0 && reason == TROVE_FETCH_OK && n > 5 && nomem > 0);
  fprintf(stderr, "  %ld failure points, %d reported as out of memory\n", n - 1, nomem);
}

int main(void) {
  setenv("NO_PROXY", "*", 1); /* the tests talk to 127.0.0.1 only, never via a proxy */
  server = http_server_start(handle, NULL, &port);
  if (!server)
    return 2;
  RUN(fetch_ok_returns_text_body_and_validators);
  RUN(fetch_sends_if_none_match_and_304_is_not_modified);
  RUN(fetch_sends_if_modified_since_and_bare_304_keeps_validators);
  RUN(fetch_follows_redirect_chain_and_records_final_url);
  RUN(fetch_redirect_loop_and_long_chain_are_too_many_redirects);
  RUN(fetch_unusable_redirects_are_bad_redirect);
  RUN(fetch_never_contacts_blocked_domains);
  RUN(fetch_bad_urls_are_refused_as_bad_url);
  RUN(fetch_statuses_map_to_reasons_and_permanence);
  RUN(reason_names_are_distinct_and_stable);
  RUN(fetch_slow_page_times_out_as_transient);
  RUN(fetch_body_past_limit_is_too_large);
  RUN(fetch_keeps_text_types_only);
  RUN(fetch_decodes_gzip_body);
  RUN(fetch_sends_configured_user_agent);
  RUN(fetch_refused_connection_is_transient_network);
  RUN(fetch_truncated_body_is_transient_network);
  RUN(fetch_many_concurrent_all_complete_within_limit);
  RUN(fetch_misuse_returns_codes);
  RUN(fetch_destroy_drops_requests_in_flight);
  RUN(fetch_poll_out_of_memory_keeps_request_queued);
  RUN(fetch_wakeup_from_another_thread_is_safe);
  RUN(fetch_alloc_failure_loop_is_clean);
  http_server_stop(server);
  return check_done("fetch_test");
}
