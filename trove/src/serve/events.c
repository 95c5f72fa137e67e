/* events.c: Server-Sent Events (GET /api/events). The scanner posts a
 * "scan" event for every progress report and at the end of each scan; each
 * open stream sends them in order as
 *     event: scan
 *     data: {
 *     data:  "state":"running",...
 *     data: }
 * (the JSON's lines, as trove_json_out writes them, each on a data line)
 * and a comment line every 15 s so that proxies and the browser see a live
 * connection. A new stream starts with the current scan state, so a page
 * opened during a scan shows it at once, then follows the ring from the
 * newest event on.
 *
 * Each stream's connection has a thread of its own (server.c runs one
 * thread per connection), so the content callback simply blocks on the
 * ring's condition variable until there is something to send; closing
 * wakes every stream, which then ends. */
#include "serve_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum { KEEPALIVE_S = 15 };

int trove_serve__events_init(serve_events *ev) {
  *ev = (serve_events){0};
  if (pthread_mutex_init(&ev->mu, NULL))
    return TROVE_ENOMEM;
  pthread_condattr_t ca;
  int rc = pthread_condattr_init(&ca);
  rc = rc ? rc : pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  rc = rc ? rc : pthread_cond_init(&ev->posted, &ca);
  pthread_condattr_destroy(&ca);
  if (rc) {
    pthread_mutex_destroy(&ev->mu);
    return TROVE_ENOMEM;
  }
  return 0;
}

void trove_serve__events_post(serve_events *ev, const char *name, const char *json) {
  char *copy = trove_strdup(json);
  if (!copy)
    return; /* benign: the next event carries the newer state */
  pthread_mutex_lock(&ev->mu);
  size_t slot = ev->next % SERVE_EVENTS_KEPT;
  trove_free(ev->ring[slot].data);
  ev->ring[slot].data = copy;
  snprintf(ev->ring[slot].name, sizeof ev->ring[slot].name, "%s", name);
  ev->next++;
  pthread_cond_broadcast(&ev->posted);
  pthread_mutex_unlock(&ev->mu);
}

void trove_serve__events_close(serve_events *ev) {
  pthread_mutex_lock(&ev->mu);
  ev->closing = true;
  pthread_cond_broadcast(&ev->posted);
  pthread_mutex_unlock(&ev->mu);
}

void trove_serve__events_destroy(serve_events *ev) {
  for (size_t i = 0; i < SERVE_EVENTS_KEPT; i++)
    trove_free(ev->ring[i].data);
  pthread_cond_destroy(&ev->posted);
  pthread_mutex_destroy(&ev->mu);
}

/* One stream: its cursor into the ring, and what is left to send of the
 * event being written (MHD may ask for less than a whole event). */
typedef struct stream {
  serve *s;
  uint64_t cursor; /* the number of the next event to send */
  trove_buf out;   /* formatted, not yet handed to MHD */
  size_t sent;     /* bytes of out already handed over */
} stream;

/* Formats one event into st->out, each line of data (JSON that may span
 * lines) on a "data:" line of its own, which the browser joins with
 * newlines again; false for memory (the stream ends). */
static bool format(stream *st, const char *name, const char *data) {
  trove_buf_reset(&st->out);
  st->sent = 0;
  int rc = trove_buf_printf(&st->out, "event: %s\n", name);
  for (const char *p = data; rc == 0 && *p;) {
    size_t len = strcspn(p, "\n");
    rc = trove_buf_puts(&st->out, "data: ");
    rc = rc ? rc : trove_buf_append(&st->out, p, len);
    rc = rc ? rc : trove_buf_putc(&st->out, '\n');
    p += len + (p[len] == '\n');
  }
  return (rc ? rc : trove_buf_putc(&st->out, '\n')) == 0;
}

/* Waits for the next event (or the keep-alive timeout) and formats it.
 * Returns false when the server is closing or memory ran out. */
static bool next_event(stream *st) {
  serve_events *ev = &st->s->events;
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_sec += KEEPALIVE_S;
  bool ok = true;
  pthread_mutex_lock(&ev->mu);
  while (!ev->closing && st->cursor == ev->next) {
    int rc = pthread_cond_timedwait(&ev->posted, &ev->mu, &until);
    if (rc == ETIMEDOUT)
      break;
  }
  if (ev->closing) {
    ok = false;
  } else if (st->cursor == ev->next) { /* quiet for a while: a comment line */
    trove_buf_reset(&st->out);
    st->sent = 0;
    ok = trove_buf_puts(&st->out, ": keep-alive\n\n") == 0;
  } else {
    if (ev->next - st->cursor > SERVE_EVENTS_KEPT) /* fell behind: newest kept */
      st->cursor = ev->next - SERVE_EVENTS_KEPT;
    size_t slot = st->cursor % SERVE_EVENTS_KEPT;
    ok = format(st, ev->ring[slot].name, ev->ring[slot].data);
    st->cursor++;
  }
  pthread_mutex_unlock(&ev->mu);
  return ok;
}

static ssize_t read_cb(void *cls, uint64_t pos, char *buf, size_t max) {
  (void)pos;
  stream *st = cls;
  if (st->sent == st->out.len && !next_event(st))
    return MHD_CONTENT_READER_END_OF_STREAM;
  size_t n = st->out.len - st->sent < max ? st->out.len - st->sent : max;
  memcpy(buf, st->out.data + st->sent, n);
  st->sent += n;
  return (ssize_t)n;
}

static void free_cb(void *cls) {
  stream *st = cls;
  trove_buf_free(&st->out);
  trove_free(st);
}

enum MHD_Result trove_serve__reply_events(serve_req *r) {
  stream *st = trove_calloc(1, sizeof *st);
  char *state = trove_serve__scanner_state(r->s);
  if (!st || !state) {
    trove_free(st);
    trove_free(state);
    return trove_serve__reply_error(r, 500, "out of memory");
  }
  st->s = r->s;
  pthread_mutex_lock(&r->s->events.mu);
  st->cursor = r->s->events.next; /* from now on; the state below covers the past */
  pthread_mutex_unlock(&r->s->events.mu);
  bool ok = format(st, "scan", state);
  trove_free(state);
  struct MHD_Response *resp =
      ok ? MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, read_cb, st, free_cb) : NULL;
  if (!resp) {
    free_cb(st);
    return trove_serve__reply_error(r, 500, "out of memory");
  }
  MHD_add_response_header(resp, "Content-Type", "text/event-stream; charset=utf-8");
  MHD_add_response_header(resp, "Cache-Control", "no-store");
  MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
  enum MHD_Result ret = MHD_queue_response(r->conn, 200, resp);
  MHD_destroy_response(resp);
  return ret;
}
