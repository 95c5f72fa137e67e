/* watcher.c: the server keeps its sources fresh by running the watcher of
 * `trove watch` (watch.h) on a thread of its own: the same code, opened
 * over every source with `follow`, so that sources the page adds or
 * removes are taken up (trove_serve__watcher_reload, after the API changed them).
 *
 * Its scans and the page's take turns through the writer mutex (serve_int.h):
 * the watcher's begin hook takes it and its end hook gives it back, so a
 * scan the page starts waits for the watcher's scan under way, and the
 * other way round; a source removal finds it taken and answers 409. Both
 * kinds of scan write the one vector index, which that mutex guards. The
 * scans take the database's scan lock without waiting: a `trove scan` in
 * another process makes the watcher's scan fail at once, logged and tried
 * again later (watch.c), rather than hold the writer mutex meanwhile.
 *
 * Progress goes to the page as a page scan's does ("scan" events with
 * "watch":true, scanner.c), and the watcher's lines to trove_watch__log.
 *
 * Stopping: trove_serve__watcher_signal sets the stop flag its scans poll
 * (trove_scan_opts.stop: the scan under way ends within a batch, keeping
 * what it stored) and stops the loop; trove_serve__watcher_close joins the thread
 * and closes the watcher, which saves the vector index. The signal comes
 * before the page's scanner is closed: a page scan waiting for the writer
 * mutex then gets it soon, and the other way round. */
#include "serve_int.h"
#include "watch.h"

#include <string.h>

static void on_begin(void *arg, const char *source, bool full) {
  (void)full;
  serve *s = arg;
  pthread_mutex_lock(&s->writer);
  s->watcher.source = source;
}

static void on_end(void *arg, const char *source, bool full, int rc, const trove_err *e,
                   const trove_scan_report *rep) {
  serve *s = arg;
  s->watcher.source = NULL;
  pthread_mutex_unlock(&s->writer);
  /* after the unlock: a page waiting for its turn is not held up by the post */
  trove_serve__scanner_watch_done(s, source, full, rc, e, rep);
}

static void on_progress(const trove_scan_progress *p, void *arg) {
  serve *s = arg;
  if (s->watcher.source) /* set by on_begin on this same thread */
    trove_serve__scanner_watch_progress(s, s->watcher.source, p);
}

static void *run(void *arg) {
  serve *s = arg;
  trove_err e = {0};
  int rc = trove_watch_run(s->watcher.w, &e);
  if (rc)
    trove_term_line(stderr, "trove: warning: the watcher stopped: %s; sources are no longer "
                    "kept fresh (restart trove serve)", e.msg);
  return NULL;
}

/* Says once why the server does not watch. */
static void not_watching(FILE *log, const char *why) {
  if (log) {
    trove_term_line(log, "trove: %s; serving without watching", why);
    fflush(log);
  }
}

void trove_serve__watcher_start(serve *s, const trove_serve_opts *o) {
  serve_watcher *sw = &s->watcher;
  atomic_init(&sw->stop, false);
  if (o->no_watch)
    return;
  trove_err e = {0};
  trove_store_opts so = {.path = s->db_path, .read_only_ok = true};
  if (trove_store_open(&so, &sw->st, &e)) {
    not_watching(o->watch_log, e.msg);
    return;
  }
  if (trove_store_read_only(sw->st)) {
    not_watching(o->watch_log, "the database is read-only");
    goto out_close;
  }
  trove_watch_opts wo = {.scan = {.progress = TROVE_PROGRESS_NONE,
                                  .no_wait = true,
                                  .embedder = s->vectors ? s->scan_embedder : NULL,
                                  .vectors = s->vectors,
                                  .fetch_timeout_ms = s->fetch_timeout_ms,
                                  .on_progress = on_progress,
                                  .progress_arg = s,
                                  .stop = &sw->stop},
                         .log = o->watch_log,
                         .browser_poll_s = o->browser_poll_s,
                         .follow = true,
                         .on_begin = on_begin,
                         .on_end = on_end,
                         .hook_arg = s};
  int rc = trove_watch_open(sw->st, NULL, 0, &wo, &sw->w, &e);
  if (rc) {
    /* TROVE_EBUSY names the process that watches; its advice ("stop it
     * first") is for a second `trove watch`, not for a server that goes on */
    char *advice = rc == TROVE_EBUSY ? strchr(e.msg, ';') : NULL;
    if (advice)
      *advice = 0;
    not_watching(o->watch_log, e.msg);
    goto out_close;
  }
  if (pthread_create(&sw->thread, NULL, run, s) != 0) {
    not_watching(o->watch_log, "cannot start the watcher's thread");
    trove_watch_close(sw->w, NULL); /* nothing scanned: nothing to save */
    sw->w = NULL;
    goto out_close;
  }
  sw->started = true;
  return;
out_close:
  trove_store_close(sw->st);
  sw->st = NULL;
}

void trove_serve__watcher_reload(serve *s) {
  trove_watch_reload(s->watcher.w); /* NULL: not watching, a no-op */
}

void trove_serve__watcher_signal(serve *s) {
  serve_watcher *sw = &s->watcher;
  if (!sw->w)
    return;
  /* relaxed: the flag publishes nothing; the scan polls it (scan.h) */
  atomic_store_explicit(&sw->stop, true, memory_order_relaxed);
  trove_watch_stop(sw->w);
}

void trove_serve__watcher_close(serve *s) {
  serve_watcher *sw = &s->watcher;
  if (!sw->w)
    return;
  trove_serve__watcher_signal(s);
  if (sw->started)
    pthread_join(sw->thread, NULL);
  sw->started = false;
  trove_err e = {0};
  pthread_mutex_lock(&s->writer); /* the close saves the vector index */
  if (trove_watch_close(sw->w, &e))
    trove_term_line(stderr, "trove: warning: %s", e.msg);
  pthread_mutex_unlock(&s->writer);
  sw->w = NULL;
  trove_store_close(sw->st);
  sw->st = NULL;
}
