/* server.c: the daemon and the router. libmicrohttpd runs one thread per
 * connection (MHD_USE_THREAD_PER_CONNECTION): a search blocks its thread
 * for milliseconds, an event stream for as long as the page is open, and
 * neither holds up the others; concurrent searches are bounded by the
 * store handles they borrow (handles.c), not by the thread count.
 *
 * Every request passes the guards first (guard.c): a Host that is not this
 * server's gets 421, a foreign Origin 403, and a method other than GET or
 * HEAD without the token 403. Only then is it routed: the page and its
 * files (assets.c), or /api/ (api_*.c). A body is collected up to 64 KB
 * (413 past that) before the endpoint runs.
 *
 * The connection memory limit is raised to 256 KB so that an overlong
 * query reaches the endpoint and gets a JSON 414, not libmicrohttpd's own
 * HTML page; past 256 KB libmicrohttpd still answers 414 itself. */
#include "serve_int.h"
#include "sluice.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { CONNECTION_MEMORY = 256 * 1024, CONNECTION_LIMIT = 1000, IDLE_TIMEOUT_S = 120 };

unsigned trove_serve_port(const trove_serve *s) { return s ? ((const serve *)s)->port : 0; }
const char *trove_serve_url(const trove_serve *s) { return s ? ((const serve *)s)->url : ""; }
const char *trove_serve_token(const trove_serve *s) {
  return s ? ((const serve *)s)->token : "";
}

bool trove_serve__parse_id(const char *s, int64_t *out) {
  if (!s || !*s || *s == '0')
    return false;
  int64_t v = 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9' || v > (INT64_MAX - 9) / 10)
      return false;
    v = v * 10 + (*s - '0');
  }
  *out = v;
  return true;
}

/* ---- routing --------------------------------------------------------------- */

static bool is_read(const char *method) {
  return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

static enum MHD_Result route_api(serve_req *r, const char *path) {
  if (strcmp(path, "search") == 0)
    return is_read(r->method) ? trove_serve__api_search(r)
                              : trove_serve__reply_error(r, 405, "use GET");
  if (strcmp(path, "events") == 0)
    return is_read(r->method) ? trove_serve__reply_events(r)
                              : trove_serve__reply_error(r, 405, "use GET");
  if (strcmp(path, "stats") == 0)
    return is_read(r->method) ? trove_serve__api_stats(r)
                              : trove_serve__reply_error(r, 405, "use GET");
  if (strncmp(path, "items/", 6) == 0)
    return trove_serve__api_item(r, path + 6);
  if (strcmp(path, "sources") == 0 || strncmp(path, "sources/", 8) == 0)
    return trove_serve__api_sources(r, path[7] ? path + 8 : "");
  if (strcmp(path, "scan") == 0 || strncmp(path, "scan/", 5) == 0)
    return trove_serve__api_scan(r, path[4] ? path + 5 : "");
  return trove_serve__reply_error(r, 404, "no such endpoint: /api/%s", path);
}

/* The guards of guard.c, in order; false when one answered the request. */
static bool guarded(serve_req *r, enum MHD_Result *ret) {
  serve *s = r->s;
  const char *host = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Host");
  if (!trove_serve__host_allowed(s, host)) {
    *ret = trove_serve__reply_error(r, 421,
                                    "this server answers to localhost:%u, 127.0.0.1:%u or "
                                    "[::1]:%u only (DNS rebinding guard)",
                                    s->port, s->port, s->port);
    return false;
  }
  const char *origin = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Origin");
  if (!trove_serve__origin_allowed(s, origin)) {
    *ret = trove_serve__reply_error(r, 403, "requests from another origin are refused");
    return false;
  }
  const char *token = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Trove-Token");
  if (!is_read(r->method) && !trove_serve__token_ok(s, token)) {
    *ret = trove_serve__reply_error(r, 403,
                                    "this request changes something and needs the page's "
                                    "token in X-Trove-Token");
    return false;
  }
  return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **state) {
  (void)version;
  serve_req *r = *state;
  if (!r) { /* the first call: headers only */
    if (!(r = trove_calloc(1, sizeof *r)))
      return MHD_NO;
    *r = (serve_req){.s = cls, .conn = conn, .method = method, .url = url};
    *state = r;
    enum MHD_Result ret;
    if (!guarded(r, &ret))
      return ret;
    return MHD_YES; /* answered on a later call, once the body (if any) is in */
  }
  if (*upload_size) { /* a piece of the body */
    if (r->body.len + *upload_size > SERVE_BODY_MAX)
      r->body_too_big = true;
    else if (trove_buf_append(&r->body, upload_data, *upload_size))
      r->body_too_big = true; /* no memory for it: refused as too big */
    *upload_size = 0;
    return MHD_YES;
  }
  if (r->body_too_big)
    return trove_serve__reply_error(r, 413, "the request body is over %d bytes", SERVE_BODY_MAX);
  enum MHD_Result ret;
  if (strncmp(url, "/api/", 5) == 0)
    return route_api(r, url + 5);
  if (trove_serve__asset(r, url, &ret))
    return ret;
  return trove_serve__reply_error(r, 404, "no such page: %s", url);
}

/* Frees the request state once its response is sent (or the connection
 * dropped). */
static void on_done(void *cls, struct MHD_Connection *conn, void **state,
                    enum MHD_RequestTerminationCode why) {
  (void)cls, (void)conn, (void)why;
  serve_req *r = *state;
  if (r) {
    trove_buf_free(&r->body);
    trove_free(r);
  }
  *state = NULL;
}

/* ---- start and stop -------------------------------------------------------- */

/* Parses the listen address into *sa and notes which Host values name it. */
static int parse_listen(serve *s, const char *listen, unsigned port,
                        struct sockaddr_storage *sa, trove_err *e) {
  memset(sa, 0, sizeof *sa);
  struct sockaddr_in *v4 = (struct sockaddr_in *)sa;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)sa;
  if (inet_pton(AF_INET, listen, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)port);
    s->any_ip_host = v4->sin_addr.s_addr == htonl(INADDR_ANY);
    snprintf(s->hosts[s->n_hosts++], sizeof s->hosts[0], "%s", listen);
  } else if (inet_pton(AF_INET6, listen, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)port);
    s->any_ip_host = IN6_IS_ADDR_UNSPECIFIED(&v6->sin6_addr);
    char text[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text); /* the canonical form */
    snprintf(s->hosts[s->n_hosts++], sizeof s->hosts[0], "[%s]", text);
  } else {
    return trove_err_set(e, TROVE_EINVAL, "--listen %s: give a numeric IPv4 or IPv6 address, "
                         "such as 127.0.0.1 or ::1", listen);
  }
  return 0;
}

/* Binds and listens on sa here rather than inside libmicrohttpd, so the
 * port (when 0 was asked for) and the URL are known before any connection
 * thread can read them, and a bind failure has its errno. */
static int listen_on(serve *s, const struct sockaddr_storage *sa, int *fd, trove_err *e) {
  socklen_t len = sa->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                            : sizeof(struct sockaddr_in);
  int one = 1;
  *fd = socket(sa->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (*fd < 0 || setsockopt(*fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      bind(*fd, (const struct sockaddr *)sa, len) != 0 || listen(*fd, 128) != 0) {
    int err = errno;
    if (*fd >= 0)
      close(*fd);
    *fd = -1;
    return trove_err_set(e, TROVE_EIO, "cannot listen on %s port %u: %s%s", s->hosts[0], s->port,
                         strerror(err), err == EADDRINUSE ? " (try another --port, or --port 0 "
                         "for any free one)" : "");
  }
  struct sockaddr_storage bound;
  socklen_t blen = sizeof bound;
  if (getsockname(*fd, (struct sockaddr *)&bound, &blen) == 0)
    s->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                : ((struct sockaddr_in *)&bound)->sin_port);
  snprintf(s->url, sizeof s->url, "http://%s:%u/", s->hosts[0], s->port);
  return 0;
}

static int start_daemon(serve *s, const struct sockaddr_storage *sa, trove_err *e) {
  int fd = -1;
  int rc = listen_on(s, sa, &fd, e);
  if (rc)
    return rc;
  unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                   (sa->ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
  /* everything the request threads read is set by now: they start here */
  s->daemon = MHD_start_daemon(
      flags, 0, NULL, NULL, on_request, s, MHD_OPTION_LISTEN_SOCKET, fd,
      MHD_OPTION_NOTIFY_COMPLETED, on_done, s,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
      MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTION_LIMIT,
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S, MHD_OPTION_END);
  if (!s->daemon) {
    close(fd);
    return trove_err_set(e, TROVE_EIO, "cannot start the HTTP server on %s", s->url);
  }
  return 0; /* the daemon closes fd when it stops */
}

/* Embeds one short query, so that the first search a person types does not
 * pay for the kernels' first-use setup (several hundred milliseconds on
 * oneDNN). Its result is not needed; a failure shows up again, with its
 * message, at the first real search. */
static void warm_up(serve *s) {
  if (!s->embedder)
    return;
  const char *text = "warm up";
  float *v = trove_malloc(trove_embedder_dim(s->embedder) * sizeof *v);
  if (v)
    trove_embedder_embed_batch(s->embedder, &text, NULL, 1, v, NULL);
  trove_free(v);
}

/* Frees what start made, in reverse; each part tolerates never having
 * been made (the struct starts zeroed). */
static void teardown(serve *s, bool writer_made) {
  trove_serve__scanner_close(s); /* stops a scan; later requests cannot start one */
  trove_serve__events_close(&s->events);
  if (s->daemon)
    MHD_stop_daemon(s->daemon); /* joins every connection thread */
  trove_serve__scanner_free(s);
  if (writer_made)
    pthread_mutex_destroy(&s->writer);
  trove_serve__handles_destroy(&s->handles);
  trove_serve__events_destroy(&s->events);
  trove_free(s->page);
  trove_free(s->model_note);
  trove_free(s->db_path);
  trove_free(s);
}

int trove_serve_start(const trove_serve_opts *o, trove_serve **out, trove_err *err) {
  if (!out)
    return trove_err_set(err, TROVE_EINVAL, "trove_serve_start: NULL out");
  *out = NULL;
  if (!o || !o->db_path || (o->vectors && !o->embedder) || (o->scan_embedder && !o->vectors) ||
      o->port > 65535)
    return trove_err_set(err, TROVE_EINVAL, "trove_serve_start: bad options");
  serve *s = trove_calloc(1, sizeof *s);
  if (!s)
    return trove_err_set(err, TROVE_ENOMEM, "out of memory starting the server");
  s->port = o->port;
  s->embedder = o->embedder;
  s->scan_embedder = o->scan_embedder ? o->scan_embedder : o->embedder;
  s->fetch_timeout_ms = o->fetch_timeout_ms;
  s->vectors = o->vectors;
  struct sockaddr_storage sa;
  unsigned threads = o->search_threads ? o->search_threads : (unsigned)trove_online_cpus();
  int rc = parse_listen(s, o->listen ? o->listen : "127.0.0.1", o->port, &sa, err);
  bool writer_made = false;
  if (rc)
    goto out_free;
  rc = TROVE_ENOMEM;
  if (!(s->db_path = trove_strdup(o->db_path)) ||
      (o->model_note && !(s->model_note = trove_strdup(o->model_note))) ||
      trove_serve__events_init(&s->events) || pthread_mutex_init(&s->writer, NULL))
    goto out_nomem;
  writer_made = true;
  if (trove_serve__handles_init(&s->handles, s->db_path, threads < 2 ? 2 : threads))
    goto out_nomem;
  /* one handle now: a database that cannot be opened fails here, not on
   * the first request */
  trove_store *st = NULL;
  if ((rc = trove_serve__handles_get(&s->handles, &st, err)))
    goto out_free;
  trove_serve__handles_put(&s->handles, st);
  if ((rc = trove_serve__token_new(s, err)) || (rc = trove_serve__scanner_init(&s->scanner, err)))
    goto out_free;
  if (trove_serve__page_build(s))
    goto out_nomem;
  warm_up(s);
  if ((rc = start_daemon(s, &sa, err)))
    goto out_free;
  *out = (trove_serve *)s;
  return 0;
out_nomem:
  rc = trove_err_set(err, TROVE_ENOMEM, "out of memory starting the server");
out_free:
  teardown(s, writer_made);
  return rc;
}

void trove_serve_stop(trove_serve *ts) {
  serve *s = (serve *)ts;
  if (!s)
    return;
  trove_serve__scanner_close(s); /* a scan running stops and saves the index */
  if (s->vectors) { /* after removals: a no-op when nothing changed */
    trove_store *st = NULL;
    trove_err e = {0};
    if (trove_serve__handles_get(&s->handles, &st, &e) == 0) {
      pthread_mutex_lock(&s->writer);
      if (trove_vectors_try_save(s->vectors, st, &e))
        trove_term_line(stderr, "trove: warning: %s", e.msg);
      pthread_mutex_unlock(&s->writer);
      trove_serve__handles_put(&s->handles, st);
    }
  }
  teardown(s, true);
}
