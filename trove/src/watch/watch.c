/* watch.c: the watcher's loop (watch.h): the watch lock, poll(2) over each
 * fs source's inotify instance and the stop pipe, the deadlines that end a
 * burst or call for the next look at a browser's files, and the scans.
 *
 * The loop never spins: poll sleeps until an event, a stop, or the
 * earliest deadline of any source (the end of a burst's debounce or hold,
 * a browser poll, a fallback or retry scan), and only the sources whose
 * deadline passed do any work. A scan that fails (a database locked by
 * another writer past its timeout, a directory gone) is logged and its
 * source scanned in full after RETRY_S: the scan's own transactions keep
 * the index whole meanwhile.
 */
#include "watch_int.h"

#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Seconds before a source whose scan failed is scanned again: long enough
 * not to hammer a locked database, short enough to catch up soon. */
static const double RETRY_S = 30;

double trove_watch__now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void trove_watch__log(const trove_watch *w, const char *fmt, ...) {
  if (!w->o.log)
    return;
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  trove_term_line(w->o.log, "trove: %s", line); /* names and paths escaped (core.h) */
  fflush(w->o.log);
}

/* ---- the watch lock ---------------------------------------------------------- */

/* Takes the exclusive flock on "<db>.watch" into *fd, writing our pid in
 * it. TROVE_EBUSY names the holder's pid. */
static int lock_db(const char *db, int *fd, trove_err *err) {
  size_t n = strlen(db) + sizeof ".watch";
  char *path = trove_malloc(n);
  if (!path)
    return trove_err_set(err, TROVE_ENOMEM, "out of memory locking %s", db);
  snprintf(path, n, "%s.watch", db);
  *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  int rc = 0;
  if (*fd < 0) {
    rc = trove_err_set(err, TROVE_EIO, "cannot open the watch lock %s (%s); check that the "
                       "database's directory is writable", path, strerror(errno));
    goto out_free;
  }
  int e = 0;
  while (flock(*fd, LOCK_EX | LOCK_NB) != 0 && (e = errno) == EINTR)
    e = 0;
  if (e == EWOULDBLOCK) {
    char buf[24] = {0};
    ssize_t got = pread(*fd, buf, sizeof buf - 1, 0);
    long pid = got > 0 ? strtol(buf, NULL, 10) : 0;
    char who[40] = "another process";
    if (pid > 0)
      snprintf(who, sizeof who, "process %ld", pid);
    rc = trove_err_set(err, TROVE_EBUSY, "%s is already watching %s; stop it first (one "
                       "watch per database)", who, db);
  } else if (e) {
    rc = trove_err_set(err, TROVE_EIO, "cannot lock %s (%s)", path, strerror(e));
  } else {
    char buf[24];
    int len = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    ssize_t wr = ftruncate(*fd, 0) == 0 ? pwrite(*fd, buf, (size_t)len, 0) : -1;
    (void)wr; /* benign: the lock holds without the pid, only a message lacks it */
  }
  if (rc) {
    close(*fd);
    *fd = -1;
  }
out_free:
  trove_free(path);
  return rc;
}

/* ---- browser sources ------------------------------------------------------------ */

/* The file a browser source of `type` reads: location itself, or the
 * database in it when location is a profile directory. */
static int browser_file(const char *type, const char *location, char **out) {
  const char *file = strcmp(type, "firefox") == 0            ? "places.sqlite"
                     : strcmp(type, "chromium-bookmarks") == 0 ? "Bookmarks"
                                                               : "History";
  struct stat sb;
  bool dir = stat(location, &sb) == 0 && S_ISDIR(sb.st_mode);
  size_t n = strlen(location) + strlen(file) + 2;
  if (!(*out = trove_malloc(n)))
    return TROVE_ENOMEM;
  if (dir)
    snprintf(*out, n, "%s/%s", location, file);
  else
    snprintf(*out, n, "%s", location);
  return 0;
}

static int browser_start(watch_source *s) {
  int rc = browser_file(s->type, s->location, &s->files[0]);
  s->n_files = rc ? 0 : 1;
  if (rc == 0 && strcmp(s->type, "chromium-bookmarks") != 0) { /* SQLite: its WAL too */
    size_t n = strlen(s->files[0]) + sizeof "-wal";
    if (!(s->files[1] = trove_malloc(n)))
      return TROVE_ENOMEM;
    snprintf(s->files[1], n, "%s-wal", s->files[0]);
    s->n_files = 2;
  }
  return rc;
}

/* Stamps s's files now into v; true when any differs from s->stamps. */
static bool browser_changed(const watch_source *s, watch_stamp v[2]) {
  bool changed = false;
  for (size_t i = 0; i < s->n_files; i++) {
    struct stat sb;
    v[i] = stat(s->files[i], &sb) == 0
               ? (watch_stamp){(int64_t)sb.st_size,
                               (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec}
               : (watch_stamp){-1, 0};
    changed |= v[i].size != s->stamps[i].size || v[i].mtime_ns != s->stamps[i].mtime_ns;
  }
  return changed;
}

/* ---- opening ---------------------------------------------------------------------- */

static void source_free(watch_source *s) {
  if (s->is_fs)
    trove_watch__fs_close(s);
  for (size_t i = 0; i < s->n_files; i++)
    trove_free(s->files[i]);
  trove_free(s->name);
  trove_free(s->type);
  trove_free(s->location);
}

/* Takes source r into s: an fs source gets its watches, a browser source
 * its files' stamps. */
static int source_init(trove_watch *w, watch_source *s, const trove_store_source *r) {
  s->ifd = -1;
  s->needs_full = true; /* the first round scans everything once */
  if (!(s->name = trove_strdup(r->name)) || !(s->type = trove_strdup(r->type)) ||
      !(s->location = trove_strdup(r->location)))
    return TROVE_ENOMEM;
  s->is_fs = strcmp(r->type, "fs") == 0;
  if (s->is_fs)
    return trove_watch__fs_start(w, s);
  int rc = browser_start(s);
  if (rc == 0)
    browser_changed(s, s->stamps);
  return rc;
}

/* Copies the sources named (all when n is 0) out of the store into w. */
static int sources_load(trove_watch *w, const char *const *names, size_t n, trove_err *err) {
  trove_store_source *v = NULL;
  size_t nv = 0;
  int rc = trove_store_source_list(w->st, &v, &nv, err);
  if (rc)
    return rc;
  if (nv == 0) {
    rc = trove_err_set(err, TROVE_ENOENT, "no sources to watch; add one with: trove source "
                       "add NAME fs DIRECTORY");
    goto out_free;
  }
  for (size_t i = 0; i < n; i++) { /* every name must exist */
    size_t j = 0;
    while (j < nv && strcmp(v[j].name, names[i]) != 0)
      j++;
    if (j == nv) {
      rc = trove_err_set(err, TROVE_ENOENT, "no source called %s; see `trove source list`",
                         names[i]);
      goto out_free;
    }
  }
  if (!(w->src = trove_calloc(nv, sizeof *w->src)) ||
      !(w->fds = trove_calloc(nv + 1, sizeof *w->fds))) {
    rc = trove_err_set(err, TROVE_ENOMEM, "out of memory opening the watcher");
    goto out_free;
  }
  for (size_t j = 0; j < nv && rc == 0; j++) {
    bool wanted = n == 0;
    for (size_t i = 0; i < n && !wanted; i++)
      wanted = strcmp(v[j].name, names[i]) == 0;
    if (!wanted || !trove_scan_type_known(v[j].type))
      continue;
    rc = source_init(w, &w->src[w->n_src++], &v[j]);
    if (rc)
      trove_err_set(err, rc, "out of memory watching %s", v[j].name);
  }
out_free:
  trove_store_sources_free(v, nv);
  return rc;
}

int trove_watch_open(trove_store *st, const char *const *names, size_t n,
                     const trove_watch_opts *o, trove_watch **out, trove_err *err) {
  if (!out)
    return trove_err_set(err, TROVE_EINVAL, "trove_watch_open: NULL output");
  *out = NULL;
  if (!st || (n && !names))
    return trove_err_set(err, TROVE_EINVAL, "trove_watch_open: NULL argument");
  for (size_t i = 0; i < n; i++)
    if (!names[i])
      return trove_err_set(err, TROVE_EINVAL, "trove_watch_open: a NULL name");
  trove_watch *w = trove_calloc(1, sizeof *w);
  if (!w)
    return trove_err_set(err, TROVE_ENOMEM, "out of memory opening the watcher");
  w->st = st;
  w->lock_fd = w->stop_pipe[0] = w->stop_pipe[1] = -1;
  if (o)
    w->o = *o;
  w->o.debounce_ms = w->o.debounce_ms > 0 ? w->o.debounce_ms : 300;
  w->o.max_hold_ms = w->o.max_hold_ms > 0 ? w->o.max_hold_ms : 2000;
  w->o.browser_poll_s = w->o.browser_poll_s > 0 ? w->o.browser_poll_s : 60;
  w->o.fallback_s = w->o.fallback_s > 0 ? w->o.fallback_s : 300;
  w->o.max_pending = w->o.max_pending ? w->o.max_pending : 16384;
  int rc = lock_db(trove_store_path(st), &w->lock_fd, err);
  if (rc == 0 && pipe2(w->stop_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
    rc = trove_err_set(err, TROVE_EIO, "cannot make the watcher's stop pipe: %s",
                       strerror(errno));
  if (rc == 0)
    rc = sources_load(w, names, n, err);
  if (rc) {
    trove_watch_close(w, NULL);
    return rc;
  }
  *out = w;
  return 0;
}

int trove_watch_set_model(trove_watch *w, const trove_embedder *e, trove_vectors *v) {
  if (!w || (!e) != (!v))
    return TROVE_EINVAL;
  w->o.scan.embedder = e;
  w->o.scan.vectors = v;
  return 0;
}

/* ---- scanning ---------------------------------------------------------------------- */

/* Logs what one scan of s did, in the scan summary's words. */
static void log_report(const trove_watch *w, const char *what, const watch_source *s,
                       const trove_scan_report *rep) {
  trove_watch__log(w,
                   "%s %s: %lld new, %lld changed, %lld unchanged, %lld skipped, %lld deleted "
                   "(%.1f s)",
                   what, s->name, (long long)rep->added, (long long)rep->changed,
                   (long long)rep->unchanged, (long long)rep->skipped, (long long)rep->deleted,
                   rep->seconds);
}

/* Scans s in full. A failure is logged and retried after RETRY_S. */
static void scan_full(trove_watch *w, watch_source *s) {
  double now = trove_watch__now();
  if (s->is_fs)
    trove_watch__fs_clear(s); /* the full scan covers them; events from here on count */
  else
    browser_changed(s, s->stamps); /* what this scan reads, or newer */
  trove_scan_report rep;
  trove_err e = {0};
  int rc = trove_scan_source(w->st, s->name, &w->o.scan, &rep, &e);
  if (rc) {
    trove_watch__log(w, "scan %s failed: %s; trying again in %.0f s", s->name, e.msg, RETRY_S);
    s->full_at = now + RETRY_S;
    return;
  }
  log_report(w, "scan", s, &rep);
  s->needs_full = s->fallback; /* without watches, the next is due in fallback_s */
  s->full_at = trove_watch__now() + w->o.fallback_s;
}

/* Scans s's pending paths. A failure wants a full scan after RETRY_S. */
static void scan_pending(trove_watch *w, watch_source *s) {
  trove_watch__fs_compact(s);
  trove_scan_opts so = w->o.scan;
  so.progress = TROVE_PROGRESS_NONE; /* a few paths: the summary line says it all */
  trove_scan_report rep;
  trove_err e = {0};
  int rc = trove_scan_paths(w->st, s->name, (const char *const *)s->pending, s->n_pending, &so,
                            &rep, &e);
  trove_watch__fs_clear(s);
  if (rc) {
    trove_watch__log(w, "update %s failed: %s; rescanning it in %.0f s", s->name, e.msg, RETRY_S);
    s->needs_full = true;
    s->full_at = trove_watch__now() + RETRY_S;
    return;
  }
  if (rep.added || rep.changed || rep.deleted || rep.skipped || rep.moved)
    log_report(w, "update", s, &rep);
}

/* When s's burst of changes ends: debounce_ms after its last event, or
 * max_hold_ms after its first, whichever comes first. */
static double burst_end(const trove_watch *w, const watch_source *s) {
  double quiet = s->last_at + w->o.debounce_ms / 1000.0;
  double hold = s->first_at + w->o.max_hold_ms / 1000.0;
  return quiet < hold ? quiet : hold;
}

/* When s's full scan is due (0: none wanted): at full_at when set (a
 * period, a retry), else when the burst that asked for it ends, else now
 * (1: any time in the past). */
static double full_due(const trove_watch *w, const watch_source *s) {
  if (!s->needs_full)
    return 0;
  return s->full_at > 0 ? s->full_at : s->first_at > 0 ? burst_end(w, s) : 1;
}

/* When s has work due next (monotonic seconds; 0: none). */
static double due_at(const trove_watch *w, const watch_source *s) {
  double t = full_due(w, s);
  if (s->is_fs && s->n_pending) {
    double b = burst_end(w, s);
    t = t == 0 || b < t ? b : t;
  }
  if (!s->is_fs && (t == 0 || s->poll_at < t))
    t = s->poll_at;
  return t;
}

/* Does what is due for s at `now` (everything it has, with flush). */
static void source_work(trove_watch *w, watch_source *s, double now, bool flush) {
  if (!s->is_fs && (flush || now >= s->poll_at)) {
    watch_stamp v[2];
    if (browser_changed(s, v)) {
      s->needs_full = true;
      s->full_at = 0;
    }
    s->poll_at = now + w->o.browser_poll_s;
  }
  double full = full_due(w, s);
  if (full > 0 && (flush || full <= now))
    scan_full(w, s);
  else if (s->n_pending && (flush || burst_end(w, s) <= now))
    scan_pending(w, s);
}

static int drain_stop_pipe(trove_watch *w) {
  char buf[64];
  while (read(w->stop_pipe[0], buf, sizeof buf) > 0)
    ;
  return 0;
}

int trove_watch_step(trove_watch *w, int timeout_ms, bool flush, trove_err *err) {
  if (!w)
    return trove_err_set(err, TROVE_EINVAL, "trove_watch_step: NULL watcher");
  struct pollfd *fds = w->fds;
  nfds_t nf = 0;
  fds[nf++] = (struct pollfd){.fd = w->stop_pipe[0], .events = POLLIN};
  double now = trove_watch__now(), next = 0;
  for (size_t i = 0; i < w->n_src; i++) {
    watch_source *s = &w->src[i];
    if (s->ifd >= 0)
      fds[nf++] = (struct pollfd){.fd = s->ifd, .events = POLLIN};
    double t = due_at(w, s);
    if (t > 0 && (next == 0 || t < next))
      next = t;
  }
  int wait = timeout_ms;
  if (flush)
    wait = 0;
  else if (next > 0) {
    double ms = (next - now) * 1000.0 + 1; /* +1: wake after the deadline, not before */
    int due = ms <= 0 ? 0 : ms > 3600e3 ? 3600000 : (int)ms;
    wait = wait < 0 || due < wait ? due : wait;
  }
  int n = poll(fds, nf, wait);
  if (n < 0 && errno != EINTR)
    return trove_err_set(err, TROVE_EIO, "poll failed: %s", strerror(errno));
  if (n > 0 && (fds[0].revents & POLLIN))
    drain_stop_pipe(w);
  /* every source's queue is read, signalled or not (a read that finds
   * nothing costs one system call): with flush, the events of changes just
   * made are there whatever poll said */
  for (size_t i = 0; i < w->n_src; i++) {
    watch_source *s = &w->src[i];
    if (!s->is_fs)
      continue;
    int rc = trove_watch__fs_read(w, s);
    if (rc)
      return trove_err_set(err, rc, "reading the changes of %s failed: %s", s->name,
                           rc == TROVE_ENOMEM ? "out of memory" : strerror(errno));
  }
  now = trove_watch__now();
  for (size_t i = 0; i < w->n_src && !trove_watch_stopped(w); i++)
    source_work(w, &w->src[i], now, flush);
  return 0;
}

int trove_watch_run(trove_watch *w, trove_err *err) {
  int rc = 0;
  while (rc == 0 && !trove_watch_stopped(w))
    rc = trove_watch_step(w, -1, false, err);
  return rc;
}

void trove_watch_stop(trove_watch *w) {
  if (!w)
    return;
  /* relaxed: the pipe's write and the poll that sees it order the rest */
  atomic_store_explicit(&w->stopped, true, memory_order_relaxed);
  ssize_t r = write(w->stop_pipe[1], "x", 1);
  (void)r; /* a full pipe holds a wake-up already */
}

bool trove_watch_stopped(const trove_watch *w) {
  return w && atomic_load_explicit(&w->stopped, memory_order_relaxed);
}

int trove_watch_close(trove_watch *w, trove_err *err) {
  if (!w)
    return 0;
  int rc = 0;
  trove_vectors *v = w->o.scan.vectors;
  if (v && w->n_src) {
    trove_err e = {0};
    rc = trove_store_scan_lock(w->st, true, NULL, &e);
    if (rc == 0) {
      rc = trove_vectors_save(v, w->st, &e);
      trove_store_scan_unlock(w->st);
    }
    if (rc)
      trove_err_set(err, rc, "saving the vector index: %s", e.msg);
  }
  for (size_t i = 0; i < w->n_src; i++)
    source_free(&w->src[i]);
  trove_free(w->src);
  trove_free(w->fds);
  for (int i = 0; i < 2; i++)
    if (w->stop_pipe[i] >= 0)
      close(w->stop_pipe[i]);
  if (w->lock_fd >= 0)
    close(w->lock_fd); /* drops the flock */
  trove_free(w);
  return rc;
}

/* ---- test hooks ------------------------------------------------------------------------ */

static watch_source *find_source(const trove_watch *w, const char *name) {
  for (size_t i = 0; w && name && i < w->n_src; i++)
    if (strcmp(w->src[i].name, name) == 0)
      return &w->src[i];
  return NULL;
}

int trove_watch_test_overflow(trove_watch *w, const char *name) {
  watch_source *s = find_source(w, name);
  if (!s || !s->is_fs)
    return TROVE_ENOENT;
  s->fake_overflow = true;
  return 0;
}

bool trove_watch_test_fallback(const trove_watch *w, const char *name) {
  const watch_source *s = find_source(w, name);
  return s && s->fallback;
}
