/* serve_proc.h: what the `trove serve` tests share: starting the server as
 * a child process (its address read from the line it prints), a minimal
 * HTTP/1.1 client on plain sockets (so a test controls every header, Host
 * included, which a library client would fill in), and reading a stream of
 * Server-Sent Events. Header-only: each test is one executable; uses the
 * CLI tests' run.h for the trove binary and temporary folders. */
#ifndef TROVE_SERVE_PROC_H
#define TROVE_SERVE_PROC_H

#include "run.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

enum { SERVE_WAIT_MS = 120000 }; /* a step slower than this is a hang (sanitizers included) */

typedef struct server {
  pid_t pid;
  unsigned port;
  char host[64];   /* "127.0.0.1:PORT", the Host a browser sends */
  char token[65];  /* read from the page */
  char err[256];   /* its stderr file */
} server;

/* Starts `trove --db DB [extra...] serve --port 0 [serve_extra...]` with
 * stderr to dir/serve.err and reads its port from the line it prints; the
 * test connects to 127.0.0.1 whatever the server listens on. Both lists may
 * be NULL, else end with NULL. false when it did not start (its stderr says
 * why). */
static inline bool server_start_ex(server *s, const char *dir, const char *db,
                                   const char *const *extra, const char *const *serve_extra) {
  int out[2];
  memset(s, 0, sizeof *s);
  snprintf(s->err, sizeof s->err, "%s/serve.err", dir);
  if (pipe(out) != 0)
    return false;
  const char *argv[32] = {trove_bin, "--db", db};
  int n = 3;
  for (int i = 0; extra && extra[i] && n < 28; i++)
    argv[n++] = extra[i];
  argv[n++] = "serve";
  argv[n++] = "--port";
  argv[n++] = "0";
  for (int i = 0; serve_extra && serve_extra[i] && n < 31; i++)
    argv[n++] = serve_extra[i];
  argv[n] = NULL;
  fflush(NULL);
  s->pid = fork();
  if (s->pid == 0) {
    int fi = open("/dev/null", O_RDONLY);
    int fe = open(s->err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fi < 0 || fe < 0 || dup2(fi, 0) < 0 || dup2(out[1], 1) < 0 || dup2(fe, 2) < 0)
      _exit(126);
    close(out[0]);
    execv(trove_bin, (char *const *)argv);
    _exit(127);
  }
  close(out[1]);
  char line[512];
  size_t got = 0;
  struct pollfd p = {.fd = out[0], .events = POLLIN};
  while (got + 1 < sizeof line && !memchr(line, '\n', got) && poll(&p, 1, SERVE_WAIT_MS) == 1) {
    ssize_t k = read(out[0], line + got, sizeof line - 1 - got);
    if (k <= 0)
      break;
    got += (size_t)k;
    line[got] = 0;
  }
  line[got] = 0;
  close(out[0]); /* later output (none is expected) gets EPIPE, which trove ignores */
  /* "serving DB at http://ADDR:PORT/ (Ctrl-C stops)": the port follows the
   * last ':' of the address (an IPv6 one has more) */
  const char *at = strstr(line, "http://");
  const char *slash = at ? strchr(at + 7, '/') : NULL;
  const char *colon = slash ? slash : NULL;
  while (colon && colon > at && *colon != ':')
    colon--;
  if (!colon || colon <= at || sscanf(colon, ":%u/", &s->port) != 1) {
    fprintf(stderr, "  trove serve printed: %s\n", line);
    return false;
  }
  snprintf(s->host, sizeof s->host, "127.0.0.1:%u", s->port);
  return true;
}

/* Sends sig and waits for the server; returns its exit code (128 + signal). */
static inline int server_stop(server *s, int sig) {
  if (s->pid <= 0)
    return -1;
  kill(s->pid, sig);
  int code = run_wait(s->pid);
  s->pid = 0;
  return code;
}

static inline bool server_start(server *s, const char *dir, const char *db,
                                const char *const *extra) {
  return server_start_ex(s, dir, db, extra, NULL);
}

static inline int connect_to(unsigned port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    if (fd >= 0)
      close(fd);
    return -1;
  }
  return fd;
}

static inline bool send_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
    if (k <= 0)
      return false;
    p += k;
    n -= (size_t)k;
  }
  return true;
}

typedef struct reply {
  int status;     /* 0: no answer */
  char *head;     /* the status line and headers (malloc'd) */
  char *body;     /* (malloc'd), NUL-terminated */
  size_t len;
} reply;

static inline void reply_free(reply *r) {
  free(r->head);
  free(r->body);
  memset(r, 0, sizeof *r);
}

/* The value of header name in r->head (a static copy), or NULL. */
static inline const char *reply_header(const reply *r, const char *name) {
  static char v[1024];
  size_t n = strlen(name);
  for (const char *p = r->head; p && (p = strchr(p, '\n')); ) {
    p++;
    if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
      p += n + 1;
      while (*p == ' ')
        p++;
      size_t k = strcspn(p, "\r\n");
      if (k >= sizeof v)
        k = sizeof v - 1;
      memcpy(v, p, k);
      v[k] = 0;
      return v;
    }
  }
  return NULL;
}

/* One request on a new connection ("Connection: close"), read to the end.
 * host NULL sends no Host header; headers (may be NULL) are extra lines,
 * each ending in \r\n; body may be NULL. */
static inline reply http(const server *s, const char *method, const char *path, const char *host,
                         const char *headers, const char *body) {
  reply r = {0};
  int fd = connect_to(s->port);
  if (fd < 0)
    return r;
  size_t blen = body ? strlen(body) : 0;
  size_t cap = strlen(path) + (headers ? strlen(headers) : 0) + 512;
  char *req = malloc(cap);
  int n = snprintf(req, cap, "%s %s HTTP/1.1\r\n%s%s%sConnection: close\r\n"
                   "Content-Length: %zu\r\n%s\r\n", method, path, host ? "Host: " : "",
                   host ? host : "", host ? "\r\n" : "", blen, headers ? headers : "");
  bool ok = send_all(fd, req, (size_t)n) && (!blen || send_all(fd, body, blen));
  free(req);
  size_t got = 0, size = 4096;
  char *buf = malloc(size);
  struct pollfd p = {.fd = fd, .events = POLLIN};
  while (ok && poll(&p, 1, SERVE_WAIT_MS) == 1) {
    if (got + 1 >= size)
      buf = realloc(buf, size *= 2);
    ssize_t k = recv(fd, buf + got, size - 1 - got, 0);
    if (k <= 0)
      break;
    got += (size_t)k;
  }
  close(fd);
  buf[got] = 0;
  char *sep = strstr(buf, "\r\n\r\n");
  if (sep && sscanf(buf, "HTTP/1.%*d %d", &r.status) == 1) {
    r.head = strndup(buf, (size_t)(sep - buf));
    r.len = got - (size_t)(sep + 4 - buf);
    r.body = malloc(r.len + 1);
    memcpy(r.body, sep + 4, r.len);
    r.body[r.len] = 0;
  }
  free(buf);
  return r;
}

static inline reply get(const server *s, const char *path) {
  return http(s, "GET", path, s->host, NULL, NULL);
}

/* A request that changes something, with the page's token. */
static inline reply post(const server *s, const char *method, const char *path,
                         const char *body) {
  char h[128];
  snprintf(h, sizeof h, "X-Trove-Token: %s\r\n", s->token);
  return http(s, method, path, s->host, h, body);
}

/* Reads the token from the page (its <meta name="trove-token">). */
static inline bool server_token(server *s) {
  reply r = get(s, "/");
  const char *at = r.body ? strstr(r.body, "name=\"trove-token\" content=\"") : NULL;
  bool ok = at && sscanf(at, "name=\"trove-token\" content=\"%64[0-9a-f]\"", s->token) == 1 &&
            strlen(s->token) == 64;
  reply_free(&r);
  return ok;
}

/* ---- Server-Sent Events -------------------------------------------------- */

typedef struct events {
  int fd;
  char buf[1 << 16];
  size_t len;
} events;

/* Opens GET /api/events; false when it is not a 200 event stream. */
static inline bool events_open(events *ev, const server *s) {
  ev->len = 0;
  ev->fd = connect_to(s->port);
  char req[256];
  int n = snprintf(req, sizeof req, "GET /api/events HTTP/1.1\r\nHost: %s\r\n\r\n", s->host);
  if (ev->fd < 0 || !send_all(ev->fd, req, (size_t)n))
    return false;
  return true;
}

/* Reads until the stream holds `want` after what was already consumed, or
 * SERVE_WAIT_MS pass; returns a pointer just past the match, or NULL. The
 * chunked framing is left in place: the JSON of one event never spans a
 * chunk boundary in practice, and the tests look for short strings. */
static inline const char *events_wait(events *ev, const char *want) {
  struct pollfd p = {.fd = ev->fd, .events = POLLIN};
  for (;;) {
    ev->buf[ev->len] = 0;
    const char *at = strstr(ev->buf, want);
    if (at) {
      size_t used = (size_t)(at - ev->buf) + strlen(want);
      memmove(ev->buf, ev->buf + used, ev->len - used + 1);
      ev->len -= used;
      return ev->buf;
    }
    if (ev->len + 1 >= sizeof ev->buf) { /* keep the tail: a match may straddle */
      memmove(ev->buf, ev->buf + ev->len / 2, ev->len - ev->len / 2);
      ev->len -= ev->len / 2;
    }
    if (poll(&p, 1, SERVE_WAIT_MS) != 1)
      return NULL;
    ssize_t k = recv(ev->fd, ev->buf + ev->len, sizeof ev->buf - 1 - ev->len, 0);
    if (k <= 0)
      return NULL;
    ev->len += (size_t)k;
  }
}

static inline void events_close(events *ev) {
  if (ev->fd >= 0)
    close(ev->fd);
  ev->fd = -1;
}

#endif /* TROVE_SERVE_PROC_H */
