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
 *    "eta":3.5,"eta_lower_bound":false,"stages":[{"name":"source",
 *    "count":530,"rate":133.1},...,{"name":"embed","count":1800,
 *    "passages":6300,"rate":95.0},...],"line":"scan docs 1.2s  source 530 ..."}
 * (the embed stage counts passages, embedded of those cut so far, once the
 * first are cut: scan.h's trove_scan_stage_progress)
 *   {"state":"source-done","source":"docs","ok":true,"error":null,
 *    "report":{"seen":530,...}}      after each source
 *   {"state":"done","source":null,"ok":true,"error":null,"stopped":false,
 *    "reports":[{"source":"docs","ok":true,...}]}   at the end
 * and the last of them is what GET /api/scan answers ({"state":"idle"}
 * before any scan). Stopping (POST /api/scan/stop, or the server stopping
 * on Ctrl-C) sets the running scan's stop flag: it ends within a batch,
 * keeping what it stored and saving the vector index (scan.h). */
#include "serve_int.h"
#include "scan.h"
#include "sluice.h"

#include <string.h>

int trove_serve__scanner_init(serve_scanner *sc, trove_err *e) {
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

/* Finishes o and makes its text the state, posting it as a "scan" event.
 * A failed writer (no memory) keeps the old state and posts nothing. */
static void publish(serve *s, trove_json_out *o) {
  char *json = trove_json_out_done(o) ? NULL : trove_buf_take(o->b);
  trove_buf_free(o->b);
  if (!json)
    return;
  trove_serve__events_post(&s->events, "scan", json);
  pthread_mutex_lock(&s->scanner.mu);
  trove_free(s->scanner.state);
  s->scanner.state = json;
  pthread_mutex_unlock(&s->scanner.mu);
}

/* ---- JSON of progress and reports ---------------------------------------- */

/* How one source's scan ended. */
typedef struct outcome {
  char *source; /* kept in job.done: a copy, owned */
  int rc;
  trove_err e;
  trove_scan_report rep;
} outcome;

typedef struct job {
  serve *s;
  const char *source; /* the one being scanned now */
  outcome *done;      /* the sources scanned so far, n_done of cap_done */
  size_t n_done, cap_done;
} job;

static void on_progress(const trove_scan_progress *p, void *arg) {
  job *j = arg;
  trove_buf b = {0};
  trove_json_out o = {.b = &b};
  trove_json_out_object(&o, NULL);
  trove_json_out_str(&o, "state", "running");
  trove_json_out_str(&o, "source", j->source);
  trove_json_out_str(&o, "what", p->what);
  trove_json_out_num(&o, "elapsed", p->elapsed, 2);
  if (p->eta >= 0)
    trove_json_out_num(&o, "eta", p->eta, 1);
  else
    trove_json_out_str(&o, "eta", NULL);
  trove_json_out_bool(&o, "eta_lower_bound", p->eta_lower_bound);
  trove_json_out_array(&o, "stages");
  for (size_t i = 0; i < p->n_stages; i++) {
    const trove_scan_stage_progress *g = &p->stages[i];
    trove_json_out_object(&o, NULL);
    trove_json_out_str(&o, "name", g->name);
    trove_json_out_int(&o, "count", g->count);
    if (g->passages)
      trove_json_out_int(&o, "passages", g->total);
    trove_json_out_num(&o, "rate", g->rate, 1);
    trove_json_out_end(&o);
  }
  trove_json_out_end(&o);
  trove_json_out_str(&o, "line", p->line);
  trove_json_out_end(&o);
  publish(j->s, &o);
}

/* Writes the members of source's outcome x: "source", "ok", "error" and
 * the report. */
static void put_outcome(trove_json_out *o, const char *source, const outcome *x) {
  const trove_scan_report *r = &x->rep;
  trove_json_out_str(o, "source", source);
  trove_json_out_bool(o, "ok", x->rc == 0);
  trove_json_out_str(o, "error", !x->rc ? NULL : x->e.msg[0] ? x->e.msg : trove_strerror(x->rc));
  trove_json_out_object(o, "report");
  trove_json_out_int(o, "seen", r->seen);
  trove_json_out_int(o, "added", r->added);
  trove_json_out_int(o, "changed", r->changed);
  trove_json_out_int(o, "unchanged", r->unchanged);
  trove_json_out_int(o, "skipped", r->skipped);
  trove_json_out_int(o, "failed", r->failed);
  trove_json_out_int(o, "deleted", r->deleted);
  trove_json_out_int(o, "kept", r->kept + r->kept_empty);
  trove_json_out_int(o, "embedded", r->embedded);
  trove_json_out_int(o, "passages", r->passages);
  trove_json_out_num(o, "seconds", r->seconds, 2);
  trove_json_out_end(o);
}

/* ---- the job ------------------------------------------------------------- */

/* Scans one source, posts its outcome and keeps it for the end's event
 * (a source whose outcome finds no memory is left out of it: benign).
 * Returns the scan's code. */
static int scan_one(job *j, trove_store *st, const char *name) {
  serve *s = j->s;
  j->source = name;
  trove_scan_opts o = {.progress = TROVE_PROGRESS_NONE, .no_wait = true,
                       .embedder = s->scan_embedder, .vectors = s->vectors,
                       .fetch_timeout_ms = s->fetch_timeout_ms, .on_progress = on_progress,
                       .progress_arg = j, .stop = &s->scanner.stop};
  outcome x = {0};
  x.rc = trove_scan_source(st, name, &o, &x.rep, &x.e);
  trove_buf b = {0};
  trove_json_out out = {.b = &b};
  trove_json_out_object(&out, NULL);
  trove_json_out_str(&out, "state", "source-done");
  put_outcome(&out, name, &x);
  trove_json_out_end(&out);
  publish(s, &out);
  if (j->n_done == j->cap_done) {
    size_t cap = j->cap_done ? 2 * j->cap_done : 4;
    outcome *v = trove_realloc(j->done, cap * sizeof *v);
    if (!v)
      return x.rc;
    j->done = v;
    j->cap_done = cap;
  }
  if ((x.source = trove_strdup(name)))
    j->done[j->n_done++] = x;
  return x.rc;
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

/* The event a scan ends with: how it went, and each source's outcome. */
static void publish_done(serve *s, const job *j, int rc, const trove_err *e, bool stopped) {
  trove_buf b = {0};
  trove_json_out o = {.b = &b};
  trove_json_out_object(&o, NULL);
  trove_json_out_str(&o, "state", "done");
  trove_json_out_str(&o, "source", s->scanner.name);
  trove_json_out_bool(&o, "ok", rc == 0);
  trove_json_out_bool(&o, "stopped", stopped);
  trove_json_out_str(&o, "error", rc && e->msg[0] ? e->msg : rc ? "a source failed" : NULL);
  trove_json_out_array(&o, "reports");
  for (size_t i = 0; i < j->n_done; i++) {
    trove_json_out_object(&o, NULL);
    put_outcome(&o, j->done[i].source, &j->done[i]);
    trove_json_out_end(&o);
  }
  trove_json_out_end(&o);
  trove_json_out_end(&o);
  char *done = trove_json_out_done(&o) ? NULL : trove_buf_take(&b);
  trove_buf_free(&b);
  /* ended before the event goes out: a page that reads "done" may start
   * the next scan at once */
  serve_scanner *sc = &s->scanner;
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
    trove_serve__events_post(&s->events, "scan", done);
  trove_free(done);
}

/* The job on the scan pool. sc->name is read here without sc->mu: start
 * writes it before the spawn (which orders the write before this job) and
 * nothing else writes it until this job clears it, under the lock, last. */
static void run(void *arg) {
  serve *s = arg;
  serve_scanner *sc = &s->scanner;
  job j = {.s = s};
  trove_store *st = NULL;
  trove_store_source *v = NULL;
  size_t n = 0;
  trove_err e = {0};
  int rc = 0, first = 0;
  pthread_mutex_lock(&s->writer);
  trove_store_opts so = {.path = s->db_path};
  if ((rc = trove_store_open(&so, &st, &e)) == 0 && (rc = names(st, sc->name, &v, &n, &e)) == 0) {
    if (sc->name)
      first = scan_one(&j, st, sc->name);
    for (size_t i = 0; i < n && !atomic_load_explicit(&sc->stop, memory_order_relaxed); i++) {
      int one = scan_one(&j, st, v[i].name);
      first = first ? first : one;
    }
    if (!sc->name && n == 0)
      rc = trove_err_set(&e, TROVE_ENOENT, "no sources to scan: add one first");
  }
  trove_store_sources_free(v, n);
  trove_store_close(st);
  pthread_mutex_unlock(&s->writer);
  bool stopped = atomic_load_explicit(&sc->stop, memory_order_relaxed);
  publish_done(s, &j, rc ? rc : first, &e, stopped);
  for (size_t i = 0; i < j.n_done; i++)
    trove_free(j.done[i].source);
  trove_free(j.done);
}

int trove_serve__scanner_start(serve *s, const char *name, trove_err *e) {
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

bool trove_serve__scanner_stop(serve *s) {
  serve_scanner *sc = &s->scanner;
  pthread_mutex_lock(&sc->mu);
  bool running = sc->running;
  /* relaxed: the flag publishes nothing; the scan polls it (scan.h) */
  if (running)
    atomic_store_explicit(&sc->stop, true, memory_order_relaxed);
  pthread_mutex_unlock(&sc->mu);
  return running;
}

char *trove_serve__scanner_state(serve *s) {
  pthread_mutex_lock(&s->scanner.mu);
  char *copy = trove_strdup(s->scanner.state ? s->scanner.state : "{\"state\":\"idle\"}");
  pthread_mutex_unlock(&s->scanner.mu);
  return copy;
}

void trove_serve__scanner_close(serve *s) {
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

void trove_serve__scanner_free(serve *s) {
  serve_scanner *sc = &s->scanner;
  if (!sc->made)
    return;
  trove_free(sc->state);
  trove_free(sc->name);
  pthread_cond_destroy(&sc->ended);
  pthread_mutex_destroy(&sc->mu);
  sc->made = false;
}
