/* http_server.c: the fetcher tests' HTTP/1.1 server (see http_server.h).
 * Thread per connection, because the tests want slow and stalled responses
 * beside fast ones, and a thread that blocks is the simplest way to script
 * that. The lock `mu` guards the connection list and `stopping`; handlers
 * run without it. A connection's fd is shut
 * down by its thread when done (the client sees the end of a
 * close-delimited body) and closed only when the thread is joined, so a
 * shutdown from http_server_stop never hits a reused descriptor.
 */
#include "http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct http_conn {
  http_server *s;
  int fd;
  pthread_t th;
  bool finished;   /* guarded by s->mu */
  char buf[16384]; /* bytes read and not yet parsed */
  size_t len;
  struct http_conn *next;
};

struct http_server {
  int lfd;
  pthread_t th;
  http_handler handler;
  void *ctx;
  pthread_mutex_t mu; /* guards everything below */
  pthread_cond_t cv;  /* broadcast when stopping turns true */
  bool stopping;
  http_conn *conns;
};

bool http_req_header(const http_req *r, const char *name, char *out, size_t out_size) {
  size_t nl = strlen(name);
  for (const char *line = r->headers; *line;) {
    const char *end = strstr(line, "\r\n");
    if (!end)
      end = line + strlen(line);
    if ((size_t)(end - line) > nl && strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
      const char *v = line + nl + 1;
      while (*v == ' ')
        v++;
      snprintf(out, out_size, "%.*s", (int)(end - v), v);
      return true;
    }
    line = *end ? end + 2 : end;
  }
  return false;
}

bool http_send(http_conn *c, const void *p, size_t n) {
  const char *b = p;
  while (n) {
    ssize_t w = send(c->fd, b, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return false;
    b += w;
    n -= (size_t)w;
  }
  return true;
}

bool http_respond(http_conn *c, int status, const char *extra, const char *type,
                  const void *body, size_t len) {
  char head[2048];
  int n = snprintf(head, sizeof head, "HTTP/1.1 %d X\r\n%s%s%s%sContent-Length: %zu\r\n\r\n",
                   status, extra ? extra : "", type ? "Content-Type: " : "", type ? type : "",
                   type ? "\r\n" : "", len);
  if (n < 0 || n >= (int)sizeof head)
    return false;
  return http_send(c, head, (size_t)n) && (len == 0 || http_send(c, body, len));
}

bool http_pause(http_conn *c, int ms) {
  http_server *s = c->s;
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += ms / 1000;
  until.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&s->mu);
  int rc = 0;
  while (!s->stopping && rc != ETIMEDOUT)
    rc = pthread_cond_timedwait(&s->cv, &s->mu, &until);
  bool ok = !s->stopping;
  pthread_mutex_unlock(&s->mu);
  return ok;
}

/* Reads one request head into req; false on EOF, error or garbage. */
static bool read_request(http_conn *c, http_req *req) {
  char *end;
  while (!(c->len && (end = memmem(c->buf, c->len, "\r\n\r\n", 4)))) {
    if (c->len == sizeof c->buf)
      return false;
    ssize_t r = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return false;
    c->len += (size_t)r;
  }
  size_t head = (size_t)(end - c->buf) + 4;
  char *line_end = memmem(c->buf, head, "\r\n", 2);
  char fmt[32];
  snprintf(fmt, sizeof fmt, "%%%zus %%%zus", sizeof req->method - 1, sizeof req->path - 1);
  *line_end = '\0';
  bool ok = sscanf(c->buf, fmt, req->method, req->path) == 2;
  snprintf(req->headers, sizeof req->headers, "%.*s", (int)(head - (size_t)(line_end + 2 - c->buf)),
           line_end + 2);
  memmove(c->buf, c->buf + head, c->len - head);
  c->len -= head;
  return ok;
}

static void *serve(void *arg) {
  http_conn *c = arg;
  http_server *s = c->s;
  http_req *req = malloc(sizeof *req);
  bool keep = req != NULL;
  while (keep && read_request(c, req))
    keep = s->handler(s->ctx, req, c);
  free(req);
  shutdown(c->fd, SHUT_RDWR); /* the client sees the end now; close at join */
  pthread_mutex_lock(&s->mu);
  c->finished = true;
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

/* Joins and frees finished connections; all of them when `all`. Called
 * with mu held only when !all (finished threads never take mu again). */
static void reap(http_server *s, bool all) {
  for (http_conn **pp = &s->conns; *pp;) {
    http_conn *c = *pp;
    if (!all && !c->finished) {
      pp = &c->next;
      continue;
    }
    *pp = c->next;
    pthread_join(c->th, NULL);
    close(c->fd);
    free(c);
  }
}

static void *accept_loop(void *arg) {
  http_server *s = arg;
  for (;;) {
    int fd = accept(s->lfd, NULL, NULL);
    pthread_mutex_lock(&s->mu);
    if (s->stopping) {
      pthread_mutex_unlock(&s->mu);
      if (fd >= 0)
        close(fd);
      return NULL;
    }
    reap(s, false);
    int one = 1; /* head and body go in two writes: no Nagle wait between them */
    if (fd >= 0)
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    http_conn *c = fd >= 0 ? calloc(1, sizeof *c) : NULL;
    if (c) {
      c->s = s;
      c->fd = fd;
      if (pthread_create(&c->th, NULL, serve, c) == 0) {
        c->next = s->conns;
        s->conns = c;
      } else {
        free(c);
        c = NULL;
      }
    }
    if (!c && fd >= 0)
      close(fd);
    pthread_mutex_unlock(&s->mu);
  }
}

http_server *http_server_start(http_handler handler, void *ctx, int *port) {
  http_server *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->handler = handler;
  s->ctx = ctx;
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof a;
  s->lfd = socket(AF_INET, SOCK_STREAM, 0);
  if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&a, sizeof a) != 0 ||
      listen(s->lfd, 256) != 0 || getsockname(s->lfd, (struct sockaddr *)&a, &al) != 0 ||
      pthread_create(&s->th, NULL, accept_loop, s) != 0) {
    perror("http_server_start");
    if (s->lfd >= 0)
      close(s->lfd);
    free(s);
    return NULL;
  }
  *port = ntohs(a.sin_port);
  return s;
}

void http_server_stop(http_server *s) {
  if (!s)
    return;
  pthread_mutex_lock(&s->mu);
  s->stopping = true;
  pthread_cond_broadcast(&s->cv);
  for (http_conn *c = s->conns; c; c = c->next)
    shutdown(c->fd, SHUT_RDWR); /* wakes a recv or send in the handler */
  pthread_mutex_unlock(&s->mu);
  shutdown(s->lfd, SHUT_RDWR); /* wakes accept(): it returns EINVAL */
  pthread_join(s->th, NULL);
  reap(s, true);
  close(s->lfd);
  pthread_cond_destroy(&s->cv);
  pthread_mutex_destroy(&s->mu);
  free(s);
}
