/* scanner.c: the scan the page starts ("scan now"), run in the background
 * while searches go on. It runs on a sluice pool of its own with one
 * worker, so scans take turns and a scan never occupies a worker of the
 * global pool, which its own pipeline's parallel stages use (scan.h). Its
 * store handle is its own, opened for the run; searches keep reading
 * through theirs, seeing each batch once it commits (WAL).
 *
 * A scan holds the server's writer mutex for its whole run: it is the
 * writer of the vector index (vectors.h), and a source removal, the only
 * other writer, answers 409 meanwhile instead of waiting. It takes the
 * database's scan lock without waiting, so a `trove scan` running in
 * another process makes it fail at once with a message saying so.
 *
 * State goes out as "scan" events (events.c), each a JSON object:
 *   {"state":"running","source":"docs","what":"scan docs","elapsed":1.2,
 *    "eta":3.5,"stages":[{"name":"source","count":530,"rate":133.1},...],
 *    "line":"scan docs 1.2s  source 530 ..."}
 *   {"state":"source-done","source":"docs","ok":true,"error":null,
 *    "report":{"seen":530,...}}      after each source
 *   {"state":"done","source":null,"ok":true,"error":null,"stopped":false,
 *    "reports":[{"source":"docs","ok":true,...}]}   at the end
 * and the last of them is what GET /api/scan answers ({"state":"idle"}
 * before any scan). Stopping (POST /api/scan/stop, or the server stopping
 * on Ctrl-C) sets the running scan's stop flag: it ends within a batch,
 * keeping what it stored and saving the vector index (scan.h). */
#include "serve_int.h"
#include "json.h"
#include "scan.h"
#include "sluice.h"

#include <string.h>

int serve_scanner_init(serve_scanner *sc, trove_err *e) {
  *sc = (serve_scanner){0};
  atomic_init(&sc->stop, false);
  if (!(sc->state = trove_strdup("{\"state\":\"idle\"}")))
    return trove_err_set(e, TROVE_ENOMEM, "out of memory starting the scanner");
  if (pthread_mutex_init(&sc->mu, NULL))
    goto out_free_state;
  if (pthread_cond_init(&sc->ended, NULL))
    goto out_destroy_mu;
  int rc = sl_pool_create(&sc->pool, "serve-scan", 1);
  if (rc) {
    pthread_cond_destroy(&sc->ended);
    pthread_mutex_destroy(&sc->mu);
    trove_free(sc->state);
    return trove_err_set(e, rc == SL_ENOMEM ? TROVE_ENOMEM : TROVE_EIO,
                         "cannot start the scan thread: %s", sl_strerror(rc));
  }
  sc->made = true;
  return 0;
out_destroy_mu:
  pthread_mutex_destroy(&sc->mu);
out_free_state:
  trove_free(sc->state);
  return trove_err_set(e, TROVE_ENOMEM, "out of memory starting the scanner");
}

/* Replaces the state (taking json) and posts it as a "scan" event. A NULL
 * json (no memory) keeps the old state and posts nothing. */
static void publish(serve *s, char *json) {
  if (!json)
    return;
  serve_events_post(&s->events, "scan", json);
  pthread_mutex_lock(&s->scanner.mu);
  trove_free(s->scanner.state);
  s->scanner.state = json;
  pthread_mutex_unlock(&s->scanner.mu);
}

/* ---- JSON of progress and reports ---------------------------------------- */

static int put_name(trove_buf *b, const char *key, const char *v) {
  int rc = trove_buf_printf(b, ",\"%s\":", key);
  return rc ? rc : v ? trove_json_quote(b, v) : trove_buf_puts(b, "null");
}

typedef struct job {
  serve *s;
  const char *source; /* the one being scanned now */
} job;

static void on_progress(const trove_scan_progress *p, void *arg) {
  job *j = arg;
  trove_buf b = {0};
  int rc = trove_buf_puts(&b, "{\"state\":\"running\"");
  rc = rc ? rc : put_name(&b, "source", j->source);
  rc = rc ? rc : put_name(&b, "what", p->what);
  rc = rc ? rc : trove_buf_printf(&b, ",\"elapsed\":%.2f,\"eta\":", p->elapsed);
  rc = rc ? rc : p->eta >= 0 ? trove_buf_printf(&b, "%.1f", p->eta) : trove_buf_puts(&b, "null");
  rc = rc ? rc : trove_buf_puts(&b, ",\"stages\":[");
  for (size_t i = 0; rc == 0 && i < p->n_stages; i++) {
    rc = trove_buf_puts(&b, i ? ",{\"name\":" : "{\"name\":");
    rc = rc ? rc : trove_json_quote(&b, p->stages[i].name);
    rc = rc ? rc : trove_buf_printf(&b, ",\"count\":%lld,\"rate\":%.1f}",
                                    (long long)p->stages[i].count, p->stages[i].rate);
  }
  rc = rc ? rc : trove_buf_putc(&b, ']');
  rc = rc ? rc : put_name(&b, "line", p->line);
  rc = rc ? rc : trove_buf_putc(&b, '}');
  publish(j->s, rc ? NULL : trove_buf_take(&b));
  trove_buf_free(&b);
}

/* Appends one source's outcome: "source","ok","error" and the report. */
static int put_outcome(trove_buf *b, const char *source, int rc, const trove_err *e,
                       const trove_scan_report *r) {
  int w = trove_buf_puts(b, "\"source\":");
  w = w ? w : trove_json_quote(b, source);
  w = w ? w : trove_buf_printf(b, ",\"ok\":%s", rc ? "false" : "true");
  w = w ? w : put_name(b, "error", rc ? (e->msg[0] ? e->msg : trove_strerror(rc)) : NULL);
  w = w ? w : trove_buf_printf(
                  b, ",\"report\":{\"seen\":%lld,\"added\":%lld,\"changed\":%lld,"
                  "\"unchanged\":%lld,\"skipped\":%lld,\"failed\":%lld,\"deleted\":%lld,"
                  "\"kept\":%lld,\"embedded\":%lld,\"passages\":%lld,\"seconds\":%.2f}",
                  (long long)r->seen, (long long)r->added, (long long)r->changed,
                  (long long)r->unchanged, (long long)r->skipped, (long long)r->failed,
                  (long long)r->deleted, (long long)(r->kept + r->kept_empty),
                  (long long)r->embedded, (long long)r->passages, r->seconds);
  return w;
}

/* ---- the job ------------------------------------------------------------- */

/* Scans one source, posts its outcome, appends it to reports. Returns the
 * scan's code. */
static int scan_one(job *j, trove_store *st, const char *name, trove_buf *reports) {
  serve *s = j->s;
  j->source = name;
  trove_scan_opts o = {.progress = TROVE_PROGRESS_NONE, .no_wait = true,
                       .embedder = s->scan_embedder, .vectors = s->vectors,
                       .on_progress = on_progress, .progress_arg = j, .stop = &s->scanner.stop};
  trove_scan_report rep;
  trove_err e = {0};
  int rc = trove_scan_source(st, name, &o, &rep, &e);
  trove_buf b = {0};
  int w = trove_buf_puts(&b, "{\"state\":\"source-done\",");
  w = w ? w : put_outcome(&b, name, rc, &e, &rep);
  w = w ? w : trove_buf_putc(&b, '}');
  publish(s, w ? NULL : trove_buf_take(&b));
  trove_buf_free(&b);
  if (reports->len > 1)
    trove_buf_putc(reports, ','); /* reports too large for memory lose entries: benign */
  trove_buf_putc(reports, '{');
  put_outcome(reports, name, rc, &e, &rep);
  trove_buf_putc(reports, '}');
  return rc;
}

/* The names to scan: the one asked for, or every source. */
static int names(trove_store *st, const char *name, trove_store_source **v, size_t *n,
                 trove_err *e) {
  if (name) {
    *v = NULL;
    *n = 0;
    return 0;
  }
  return trove_store_source_list(st, v, n, e);
}

/* The job on the scan pool. sc->name is read here without sc->mu: start
 * writes it before the spawn (which orders the write before this job) and
 * nothing else writes it until this job clears it, under the lock, last. */
static void run(void *arg) {
  serve *s = arg;
  serve_scanner *sc = &s->scanner;
  job j = {.s = s};
  trove_buf reports = {0};
  trove_store *st = NULL;
  trove_store_source *v = NULL;
  size_t n = 0;
  trove_err e = {0};
  int rc = 0, first = 0;
  trove_buf_putc(&reports, '[');
  pthread_mutex_lock(&s->writer);
  trove_store_opts so = {.path = s->db_path};
  if ((rc = trove_store_open(&so, &st, &e)) == 0 && (rc = names(st, sc->name, &v, &n, &e)) == 0) {
    if (sc->name)
      first = scan_one(&j, st, sc->name, &reports);
    for (size_t i = 0; i < n && !atomic_load_explicit(&sc->stop, memory_order_relaxed); i++) {
      int one = scan_one(&j, st, v[i].name, &reports);
      first = first ? first : one;
    }
    if (!sc->name && n == 0)
      rc = trove_err_set(&e, TROVE_ENOENT, "no sources to scan: add one first");
  }
  trove_store_sources_free(v, n);
  trove_store_close(st);
  pthread_mutex_unlock(&s->writer);
  trove_buf_putc(&reports, ']');
  bool stopped = atomic_load_explicit(&sc->stop, memory_order_relaxed);
  rc = rc ? rc : first;
  trove_buf b = {0};
  int w = trove_buf_puts(&b, "{\"state\":\"done\"");
  w = w ? w : put_name(&b, "source", sc->name);
  w = w ? w : trove_buf_printf(&b, ",\"ok\":%s,\"stopped\":%s", rc ? "false" : "true",
                               stopped ? "true" : "false");
  w = w ? w : put_name(&b, "error", rc && e.msg[0] ? e.msg : rc ? "a source failed" : NULL);
  w = w ? w : trove_buf_printf(&b, ",\"reports\":%s}", reports.data ? reports.data : "[]");
  char *done = w ? NULL : trove_buf_take(&b);
  trove_buf_free(&b);
  trove_buf_free(&reports);
  /* ended before the event goes out: a page that reads "done" may start
   * the next scan at once */
  pthread_mutex_lock(&sc->mu);
  sc->running = false;
  trove_free(sc->name);
  sc->name = NULL;
  if (done) {
    trove_free(sc->state);
    sc->state = trove_strdup(done); /* NULL is benign: GET /api/scan says idle */
  }
  pthread_cond_broadcast(&sc->ended);
  pthread_mutex_unlock(&sc->mu);
  if (done)
    serve_events_post(&s->events, "scan", done);
  trove_free(done);
}

int serve_scanner_start(serve *s, const char *name, trove_err *e) {
  serve_scanner *sc = &s->scanner;
  char *copy = name ? trove_strdup(name) : NULL;
  if (name && !copy)
    return trove_err_set(e, TROVE_ENOMEM, "out of memory starting a scan");
  pthread_mutex_lock(&sc->mu);
  int rc = sc->closed ? trove_err_set(e, TROVE_ECANCELED, "the server is stopping")
           : sc->running ? trove_err_set(e, TROVE_EBUSY, "a scan is running; stop it or wait "
                                         "for it to end")
                         : 0;
  if (rc == 0) {
    sc->running = true;
    sc->name = copy;
    copy = NULL;
    atomic_store_explicit(&sc->stop, false, memory_order_relaxed);
    char *state = trove_strdup("{\"state\":\"running\",\"stages\":[]}");
    if (state) { /* benign when NULL: the first progress report sets it */
      trove_free(sc->state);
      sc->state = state;
    }
    /* the pool's job sees name and running through the spawn's hand-over */
    int src = sl_pool_spawn(sc->pool, run, s);
    if (src) {
      sc->running = false;
      trove_free(sc->name);
      sc->name = NULL;
      rc = trove_err_set(e, TROVE_ENOMEM, "cannot start a scan: %s", sl_strerror(src));
    }
  }
  pthread_mutex_unlock(&sc->mu);
  trove_free(copy);
  return rc;
}

bool serve_scanner_stop(serve *s) {
  serve_scanner *sc = &s->scanner;
  pthread_mutex_lock(&sc->mu);
  bool running = sc->running;
  /* relaxed: the flag publishes nothing; the scan polls it (scan.h) */
  if (running)
    atomic_store_explicit(&sc->stop, true, memory_order_relaxed);
  pthread_mutex_unlock(&sc->mu);
  return running;
}

char *serve_scanner_state(serve *s) {
  pthread_mutex_lock(&s->scanner.mu);
  char *copy = trove_strdup(s->scanner.state ? s->scanner.state : "{\"state\":\"idle\"}");
  pthread_mutex_unlock(&s->scanner.mu);
  return copy;
}

void serve_scanner_close(serve *s) {
  serve_scanner *sc = &s->scanner;
  if (!sc->made)
    return;
  pthread_mutex_lock(&sc->mu);
  sc->closed = true;
  if (sc->running)
    atomic_store_explicit(&sc->stop, true, memory_order_relaxed); /* as in stop */
  while (sc->running)
    pthread_cond_wait(&sc->ended, &sc->mu);
  pthread_mutex_unlock(&sc->mu);
  sl_pool_destroy(sc->pool); /* idle now: returns at once */
  sc->pool = NULL;
}

void serve_scanner_free(serve *s) {
  serve_scanner *sc = &s->scanner;
  if (!sc->made)
    return;
  trove_free(sc->state);
  trove_free(sc->name);
  pthread_cond_destroy(&sc->ended);
  pthread_mutex_destroy(&sc->mu);
  sc->made = false;
}
