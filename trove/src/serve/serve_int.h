/* serve_int.h: what the files of the serve module share: the server's
 * state, the request being answered, and each part's entry points. One
 * concept per file: server.c (the daemon, routing, the security checks),
 * guard.c (Host allowlist, token, Origin), reply.c (responses and their
 * headers), handles.c (store handles for request threads), events.c
 * (Server-Sent Events), scanner.c (the background scan), watcher.c (the
 * watcher that keeps sources fresh), assets.c (the page), api_*.c (the
 * endpoints). */
#ifndef TROVE_SERVE_INT_H
#define TROVE_SERVE_INT_H

#include "json.h"
#include "scan.h"
#include "serve.h"
#include "store.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sl_pool sl_pool;
typedef struct serve serve;         /* below */
typedef struct serve_req serve_req; /* below */

/* ---- store handles (handles.c) ------------------------------------------ */

/* A handle belongs to one thread at a time (store.h), so each request
 * borrows one. At most `max` exist; a request that finds them all lent out
 * waits: that bound is what limits concurrent searches. */
typedef struct serve_handles {
  pthread_mutex_t mu;   /* protects everything below */
  pthread_cond_t freed; /* signalled when a handle comes back */
  const char *path;     /* the database (the server's copy) */
  trove_store **idle;   /* max slots; idle[0..n_idle) are free to lend */
  size_t n_idle, open, max;
} serve_handles;

/* How much of the database each handle maps (trove_store_opts.mmap_bytes):
 * search reads small columns of many items rows past their text, and
 * mapped pages spare a read() each. Address space only, shared by the
 * handles; SQLite caps it at its build's SQLITE_MAX_MMAP_SIZE (2 GB on
 * Linux unless raised). */
#define SERVE_MMAP_BYTES (INT64_C(1) << 31)

int trove_serve__handles_init(serve_handles *h, const char *path, size_t max);
/* Lends a handle, opening one when none is idle and fewer than max exist,
 * else waiting for one. 0 or the store's open error (e set). */
int trove_serve__handles_get(serve_handles *h, trove_store **out, trove_err *e);
/* Gives st back. */
void trove_serve__handles_put(serve_handles *h, trove_store *st);
/* Closes every handle; all must have been given back. */
void trove_serve__handles_destroy(serve_handles *h);

/* ---- events (events.c) ---------------------------------------------------- */

enum { SERVE_EVENTS_KEPT = 64, SERVE_EVENT_MAX = 8192 };

/* A ring of the last SERVE_EVENTS_KEPT events, numbered; each /api/events
 * stream follows it with its own cursor, blocking on `posted` (its
 * connection has a thread of its own). A reader that falls more than the
 * ring behind skips to the oldest kept: events are snapshots of state, so
 * the newest is what matters. */
typedef struct serve_events {
  pthread_mutex_t mu;    /* protects everything below */
  pthread_cond_t posted; /* broadcast on every post and on close */
  uint64_t next;         /* the number the next event gets */
  struct {
    char name[16];
    char *data; /* one line of JSON */
  } ring[SERVE_EVENTS_KEPT];
  bool closing;          /* streams end at their next wake-up */
} serve_events;

int trove_serve__events_init(serve_events *ev);
/* Answers GET /api/events with a stream that follows the ring, starting
 * with the scan's current state. */
enum MHD_Result trove_serve__reply_events(serve_req *r);
/* Posts event `name` with JSON data (copied; one line). Any thread. A copy
 * that fails for memory drops the event (benign: the next one replaces it). */
void trove_serve__events_post(serve_events *ev, const char *name, const char *json);
/* Ends every stream; later streams end at once. Any thread. */
void trove_serve__events_close(serve_events *ev);
void trove_serve__events_destroy(serve_events *ev);

/* ---- the background scan (scanner.c) ------------------------------------- */

typedef struct serve_scanner {
  sl_pool *pool;          /* one worker: scans run there, one at a time */
  pthread_mutex_t mu;     /* protects everything below but stop */
  pthread_cond_t ended;   /* signalled when a scan ends */
  bool made;              /* mu and ended exist */
  bool running;
  bool closed;            /* the server is stopping: no scan starts */
  char *name;             /* the source being scanned; NULL: all */
  char *state;            /* the last "scan" event's JSON, for GET /api/scan */
  atomic_bool stop;       /* trove_scan_opts.stop of the running scan */
} serve_scanner;

int trove_serve__scanner_init(serve_scanner *sc, trove_err *e);
/* Starts scanning source `name` (NULL: every source) in the background.
 * Returns 0, TROVE_EBUSY (a scan is running), TROVE_ECANCELED (the server
 * is stopping) or TROVE_ENOMEM. */
int trove_serve__scanner_start(serve *s, const char *name, trove_err *e);
/* Asks the running scan to stop; false when none runs. */
bool trove_serve__scanner_stop(serve *s);
/* The scan's state as JSON (the caller's: trove_free), or NULL for memory. */
char *trove_serve__scanner_state(serve *s);
/* Refuses new scans, stops a running one, waits for it and frees the
 * pool. Idempotent; a scanner never made is fine. */
void trove_serve__scanner_close(serve *s);
/* Frees the rest, once no request thread can call in (after the daemon
 * stopped). */
void trove_serve__scanner_free(serve *s);

/* Posts a watcher scan's progress p of source as a "scan" event shaped as a
 * page scan's, with "watch":true (scanner.c). The watcher's thread. */
void trove_serve__scanner_watch_progress(serve *s, const char *source,
                                         const trove_scan_progress *p);
/* Posts the "done" event of a watcher scan of source (full: the whole
 * source; else changed paths) that ended with rc, e and rep (scanner.c). */
void trove_serve__scanner_watch_done(serve *s, const char *source, bool full, int rc,
                                     const trove_err *e, const trove_scan_report *rep);

/* ---- the watcher (watcher.c) ---------------------------------------------- */

typedef struct trove_watch trove_watch;

/* The watcher (watch.h) the server runs on a thread of its own, as `trove
 * watch` would. Its scans hold the writer mutex, as page scans do. */
typedef struct serve_watcher {
  trove_watch *w;        /* NULL: not watching */
  trove_store *st;       /* its scans' writer handle, its thread's alone */
  pthread_t thread;
  bool started;          /* thread runs, to be joined */
  atomic_bool stop;      /* trove_scan_opts.stop of its scans: set once, at
                            the server's stop */
  const char *source;    /* the source being scanned (its thread's alone) */
} serve_watcher;

/* Starts watching every source of the database (sources added and removed
 * through the API included), unless o says not to. Never fails the
 * server: another watcher on the database, a read-only database or a
 * failure to set up leave it serving without watching, said once on
 * o->watch_log. */
void trove_serve__watcher_start(serve *s, const trove_serve_opts *o);
/* The source list changed: the watcher reads it again. Any thread. */
void trove_serve__watcher_reload(serve *s);
/* Asks the watcher and the scan it runs to stop; returns at once. */
void trove_serve__watcher_signal(serve *s);
/* Stops the watcher, joins its thread and closes it (saving the vector
 * index under the writer mutex). Idempotent; the main thread. */
void trove_serve__watcher_close(serve *s);

/* ---- the server ---------------------------------------------------------- */

struct serve {
  struct MHD_Daemon *daemon;
  char *db_path;
  char url[96];
  char token[65];         /* 32 random bytes in hex */
  char hosts[4][80];      /* Host values allowed besides the loopback names */
  size_t n_hosts;
  bool any_ip_host;       /* listening on every address: any IP literal host */
  unsigned port;
  const trove_embedder *embedder;      /* queries */
  const trove_embedder *scan_embedder; /* passages, in scans */
  long fetch_timeout_ms;               /* trove_serve_opts' */
  trove_vectors *vectors;
  char *model_note;
  char *page;             /* index.html with the token in it */
  size_t page_len;
  /* The writer of `vectors` and of the source list: a scan holds it for its
   * whole run, a source removal for its own; a removal that finds it taken
   * answers 409 rather than wait for a scan. Lock order: writer before any
   * of scanner.mu, events.mu and handles.mu, which are never held together. */
  pthread_mutex_t writer;
  serve_handles handles;
  serve_events events;
  serve_scanner scanner;
  serve_watcher watcher;
};

/* The request being answered: its method, path and arguments, and the
 * body a POST sent. */
struct serve_req {
  serve *s;
  struct MHD_Connection *conn;
  const char *method; /* "GET", "POST", ... (HEAD is answered as GET) */
  const char *url;    /* the path, decoded */
  trove_buf body;     /* at most SERVE_BODY_MAX bytes */
  bool body_too_big;
};

enum { SERVE_BODY_MAX = 64 * 1024, SERVE_QUERY_MAX = 4096 };

/* ---- guards (guard.c) ------------------------------------------------------ */

/* Fills s->token with 32 bytes from the kernel's random source, in hex.
 * 0 or TROVE_EIO. */
int trove_serve__token_new(serve *s, trove_err *e);
/* Whether the Host header value names this server (see serve.h). */
bool trove_serve__host_allowed(const serve *s, const char *host);
/* Whether an Origin header (NULL: none sent) is this server's own. */
bool trove_serve__origin_allowed(const serve *s, const char *origin);
/* Whether the token header value equals the server's (constant time). */
bool trove_serve__token_ok(const serve *s, const char *token);

/* ---- replies (reply.c) ----------------------------------------------------- */

/* Queues a response with the security headers every reply carries. body is
 * copied. Returns MHD's result. */
enum MHD_Result trove_serve__reply(serve_req *r, unsigned status, const char *type,
                                   const char *body, size_t len, const char *cache);
/* A JSON reply (Cache-Control: no-store) of what o wrote, which this
 * finishes (trove_json_out_done) and whose buffer it frees; a failed
 * writer (memory) answers 500 instead. */
enum MHD_Result trove_serve__reply_json(serve_req *r, unsigned status, trove_json_out *o);
/* A JSON reply of text that is JSON already (a scan state). */
enum MHD_Result trove_serve__reply_json_text(serve_req *r, unsigned status, const char *json);
/* {"error":msg,"status":status}. */
enum MHD_Result trove_serve__reply_error(serve_req *r, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The status that fits a failed store, search or scan call. */
unsigned trove_serve__status_of(int code);

/* ---- the page (assets.c) ------------------------------------------------- */

/* Builds s->page: index.html with the token written in. 0 or TROVE_ENOMEM. */
int trove_serve__page_build(serve *s);
/* Answers GET for the page and its files; false when path is none of them. */
bool trove_serve__asset(serve_req *r, const char *path, enum MHD_Result *ret);

/* ---- endpoints (api_*.c): each answers its request ------------------------- */

enum MHD_Result trove_serve__api_search(serve_req *r);                    /* api_search.c */
enum MHD_Result trove_serve__api_item(serve_req *r, const char *rest);    /* api_items.c */
enum MHD_Result trove_serve__api_sources(serve_req *r, const char *rest); /* api_sources.c */
enum MHD_Result trove_serve__api_stats(serve_req *r);                     /* api_sources.c */
enum MHD_Result trove_serve__api_scan(serve_req *r, const char *rest);    /* api_scan.c */

/* Parses a positive decimal id, all of s; false otherwise. */
bool trove_serve__parse_id(const char *s, int64_t *out);

#endif /* TROVE_SERVE_INT_H */
