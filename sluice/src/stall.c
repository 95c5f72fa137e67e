/* stall.c: the stall detector and the state dump. When nothing in the
 * process progresses for T seconds while threads sit in sluice waits, it
 * writes a report that says, in words, who waits for whom.
 *
 * HOW IT WORKS.
 * - Progress is the sum of every thread's progress counter (jobs run,
 *   channel operations done; see sl__progress) plus the pools' job counts.
 *   A watchdog thread samples it every T/8 (at least 20 ms, at most 1 s).
 * - A stall is: the sum has not moved for T, at least one thread is blocked
 *   in a sluice wait, and the threads that are not waiting used (almost) no
 *   CPU meanwhile (per-thread CPU clocks). The CPU test is what keeps a long
 *   computation that others wait on (no progress counted, but busy) from
 *   being reported: a deadlock of blocked workers is a silent 0% CPU.
 * - The report is built from snapshots taken under each registry lock in
 *   turn (pools, threads, channels; never two at once), so it never touches
 *   a freed object: a thread's wait object is interpreted only if it is a
 *   pool or channel found in the snapshot (stall.h).
 * - verdict.c writes the report from the snapshot, and its verdict: the
 *   chain of who waits for whom, told to its cause.
 *
 * LIMITS. A stall inside user locks outside sl_blocking_begin/end shows as
 * threads running, not waiting; the CPU test then keeps it unreported. */
#include "chan.h"
#include "pool.h"
#include "stall.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- snapshots ---------------------------------------------------------- */

static void *grow(void *arr, size_t *cap, size_t n, size_t size, bool *oom) {
  if (n < *cap)
    return arr;
  size_t ncap = *cap ? *cap * 2 : 16;
  void *p = realloc(arr, ncap * size); /* the dump is outside the fault hook */
  if (!p) {
    *oom = true;
    return NULL;
  }
  *cap = ncap;
  return p;
}

static int64_t thread_cpu_ns(pthread_t tid) {
  clockid_t cid;
  struct timespec ts;
  if (pthread_getcpuclockid(tid, &cid) || clock_gettime(cid, &ts))
    return -1;
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void snap_thread(sl__thread *t, void *arg) {
  sl__snapshot *s = arg;
  sl__tsnap *arr = grow(s->th, &s->capth, s->nth, sizeof *arr, &s->oom);
  if (!arr)
    return;
  s->th = arr;
  sl__tsnap *x = &arr[s->nth++];
  x->rec = t;
  x->cont = t->cont;
  x->tid = (unsigned long)t->tid;
  sl__thread_name(t, x->name, sizeof x->name);
  x->op = atomic_load_explicit(&t->op, memory_order_relaxed);
  x->obj = atomic_load_explicit(&t->obj, memory_order_relaxed);
  x->since = (int64_t)atomic_load_explicit(&t->since_ns, memory_order_relaxed);
  x->progress = atomic_load_explicit(&t->progress, memory_order_relaxed);
  x->pool = atomic_load_explicit(&t->pool, memory_order_relaxed);
  x->worker = atomic_load_explicit(&t->worker_index, memory_order_relaxed);
  x->fn = atomic_load_explicit(&t->fn, memory_order_relaxed);
  x->job_of = atomic_load_explicit(&t->job_of, memory_order_relaxed);
  x->sel_n = atomic_load_explicit(&t->sel_n, memory_order_relaxed);
  for (unsigned i = 0; i < SL__SEL_SHOWN; i++)
    x->sel[i] = atomic_load_explicit(&t->sel_ops[i], memory_order_relaxed);
  /* Under the registry lock: the thread has not exited, tid is valid. */
  x->cpu_ns = thread_cpu_ns(t->tid);
}

static void snap_chan(sl_chan *c, void *arg) {
  sl__snapshot *s = arg;
  sl__csnap *arr = grow(s->ch, &s->capch, s->nch, sizeof *arr, &s->oom);
  if (!arr)
    return;
  s->ch = arr;
  sl__csnap *x = &arr[s->nch++];
  x->ch = c;
  snprintf(x->name, sizeof x->name, "%s", sl_chan_name(c));
  x->len = sl_chan_len(c);
  x->cap = sl_chan_capacity(c);
  x->senders = sl_chan_senders(c);
  x->receivers = sl_chan_receivers(c);
  x->closed = sl_chan_is_closed(c);
  x->last_sender = sl__chan_last_peer(c, SL_SELECT_SEND);
  x->last_receiver = sl__chan_last_peer(c, SL_SELECT_RECV);
  x->jobs_pool = sl__chan_jobs_pool(c);
}

static void snap_pool(sl_pool *p, void *arg) {
  sl__snapshot *s = arg;
  sl__psnap *arr = grow(s->pl, &s->cappl, s->npl, sizeof *arr, &s->oom);
  if (!arr)
    return;
  s->pl = arr;
  sl__psnap *x = &arr[s->npl++];
  x->p = p;
  snprintf(x->name, sizeof x->name, "%s", p->name);
  x->nthreads = p->nthreads;
  x->max_threads = p->max_threads;
  x->live = atomic_load_explicit(&p->live, memory_order_relaxed);
  x->blocked = atomic_load_explicit(&p->blocked, memory_order_relaxed);
  /* n_idle counts every listed sleeper, outside threads waiting in a join
   * included: shown, it is capped by the workers that are not blocked. */
  unsigned listed = atomic_load_explicit(&p->n_idle, memory_order_relaxed);
  x->idle = x->live > x->blocked ? x->live - x->blocked : 0;
  x->idle = listed < x->idle ? listed : x->idle;
  x->jobs_done = atomic_load_explicit(&p->jobs_done, memory_order_relaxed);
  x->queued = atomic_load_explicit(&p->inj_len, memory_order_relaxed);
  unsigned started = atomic_load_explicit(&p->started, memory_order_acquire);
  for (unsigned i = 0; i < started; i++) {
    sl__deque *d = &p->workers[i].deque;
    int64_t n = atomic_load_explicit(&d->bottom, memory_order_relaxed) -
                atomic_load_explicit(&d->top, memory_order_relaxed);
    x->queued += n > 0 ? (size_t)n : 0;
  }
}

static void snapshot_take(sl__snapshot *s) {
  memset(s, 0, sizeof *s);
  sl__pools_foreach(snap_pool, s);
  sl__threads_foreach(snap_thread, s);
  sl__chan_foreach(snap_chan, s);
}

static void snapshot_free(sl__snapshot *s) {
  free(s->th);
  free(s->ch);
  free(s->pl);
}

char *sl__state_report(const char *headline) {
  sl__snapshot s;
  snapshot_take(&s);
  char *r = sl__report_build(&s, headline);
  snapshot_free(&s);
  return r;
}

static void write_all(int fd, const char *p) {
  size_t n = strlen(p);
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return;
    p += w;
    n -= (size_t)w;
  }
}

int sl_state_dump(int fd) {
  if (fd < 0)
    return SL_EINVAL;
  char *r = sl__state_report("state dump");
  if (!r)
    return SL_ENOMEM;
  write_all(fd, r);
  free(r);
  return 0;
}

/* ---- the watchdog --------------------------------------------------------- */

typedef struct watchdog {
  sl_watchdog_config cfg;
  pthread_t thread;
  bool running;
  _Atomic bool stop;
  _Atomic uint32_t wake; /* futex: stop requests, signal dumps */
  _Atomic uint32_t dumps_requested;
} watchdog;

static pthread_mutex_t wd_lock = PTHREAD_MUTEX_INITIALIZER; /* guards wd.running, wd.cfg */
static watchdog wd;

typedef struct sample {
  uint64_t progress;
  int64_t cpu_running; /* CPU of threads not waiting in sluice */
  size_t blocked;
} sample;

static sample take_sample(const sl__snapshot *s) {
  sample x = {0, 0, 0};
  for (size_t i = 0; i < s->nth; i++) {
    x.progress += s->th[i].progress;
    if (sl__is_blocked_op(s->th[i].op))
      x.blocked++;
    if (s->th[i].cpu_ns > 0)
      x.cpu_running += s->th[i].cpu_ns; /* all threads: blocked ones add ~0 */
  }
  for (size_t i = 0; i < s->npl; i++)
    x.progress += s->pl[i].jobs_done;
  return x;
}

static void report_stall(const sl__snapshot *s, double secs) {
  char head[128];
  snprintf(head, sizeof head, "stall: no progress for %.1f s", secs);
  char *r = sl__report_build(s, head);
  if (!r)
    return;
  if (wd.cfg.action == SL_STALL_CALLBACK && wd.cfg.callback)
    wd.cfg.callback(r, wd.cfg.arg);
  else
    write_all(wd.cfg.fd > 0 ? wd.cfg.fd : STDERR_FILENO, r);
  free(r);
  if (wd.cfg.action == SL_STALL_EXIT)
    _exit(wd.cfg.exit_code ? wd.cfg.exit_code : 86);
}

static void *watchdog_main(void *arg) {
  (void)arg;
  sl_thread_set_name("sluice-watchdog");
  int64_t period = (int64_t)(wd.cfg.seconds * 1e9 / 8);
  period = period < 20000000 ? 20000000 : period > 1000000000 ? 1000000000 : period;
  int64_t limit = (int64_t)(wd.cfg.seconds * 1e9);
  sample last = {UINT64_MAX, 0, 0};
  int64_t since = sl_now_ns();
  bool reported = false;
  while (!atomic_load_explicit(&wd.stop, memory_order_acquire)) {
    uint32_t seen = atomic_load_explicit(&wd.wake, memory_order_acquire);
    sl__wait(&wd.wake, seen, SL_OP_IDLE, NULL, false, sl_now_ns() + period);
    if (atomic_exchange_explicit(&wd.dumps_requested, 0, memory_order_acq_rel))
      sl_state_dump(STDERR_FILENO);
    if (wd.cfg.seconds <= 0)
      continue; /* a dumper only */
    sl__snapshot s;
    snapshot_take(&s);
    sample now = take_sample(&s);
    int64_t t = sl_now_ns();
    /* The watchdog's own thread is in the registry; its CPU is small. */
    bool busy = now.cpu_running - last.cpu_running > (t - since) / 20 + 5000000;
    if (now.progress != last.progress || busy || now.blocked == 0) {
      if (now.progress != last.progress || busy)
        since = t;
      reported = false;
      last = now;
    } else if (!reported && t - since >= limit) {
      report_stall(&s, (double)(t - since) / 1e9);
      reported = true;
    }
    snapshot_free(&s);
  }
  return NULL;
}

int sl_watchdog_start(const sl_watchdog_config *cfg) {
  if (!cfg || cfg->seconds < 0 || (cfg->action == SL_STALL_CALLBACK && !cfg->callback) ||
      cfg->action < SL_STALL_REPORT || cfg->action > SL_STALL_CALLBACK)
    return SL_EINVAL;
  pthread_mutex_lock(&wd_lock);
  int rc = 0;
  if (wd.running) {
    rc = SL_EBUSY;
    goto out_unlock;
  }
  wd.cfg = *cfg;
  atomic_store_explicit(&wd.stop, false, memory_order_relaxed);
  if (sl__thread_create_should_fail() || pthread_create(&wd.thread, NULL, watchdog_main, NULL)) {
    rc = SL_EAGAIN;
    goto out_unlock;
  }
  wd.running = true;
out_unlock:
  pthread_mutex_unlock(&wd_lock);
  return rc;
}

void sl_watchdog_stop(void) {
  pthread_mutex_lock(&wd_lock);
  if (wd.running) {
    atomic_store_explicit(&wd.stop, true, memory_order_release);
    atomic_fetch_add_explicit(&wd.wake, 1, memory_order_release);
    sl__wake(&wd.wake, 1);
    pthread_join(wd.thread, NULL);
    wd.running = false;
  }
  pthread_mutex_unlock(&wd_lock);
}

/* Async-signal-safe: an atomic increment and a futex wake. */
static void on_dump_signal(int signo) {
  (void)signo;
  int saved = errno;
  atomic_fetch_add_explicit(&wd.dumps_requested, 1, memory_order_release);
  atomic_fetch_add_explicit(&wd.wake, 1, memory_order_release);
  sl__wake(&wd.wake, 1);
  errno = saved;
}

int sl_dump_on_signal(int signo) {
  if (signo != SIGQUIT && signo != SIGUSR1)
    return SL_EINVAL;
  pthread_mutex_lock(&wd_lock);
  bool running = wd.running;
  pthread_mutex_unlock(&wd_lock);
  if (!running) { /* a watchdog thread that only dumps */
    sl_watchdog_config dumper = {.seconds = 0, .action = SL_STALL_REPORT, .fd = -1};
    int rc = sl_watchdog_start(&dumper);
    if (rc && rc != SL_EBUSY)
      return rc;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_dump_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  return sigaction(signo, &sa, NULL) ? SL_EINVAL : 0;
}

/* SLUICE_WATCHDOG=<seconds>: started once, by the first pool or channel. */
static pthread_once_t env_once = PTHREAD_ONCE_INIT;

int sl__watchdog_env_parse(const char *v, double *secs) {
  *secs = 0;
  if (!v)
    return 0;
  while (*v == ' ' || *v == '\t')
    v++;
  if (!*v)
    return 0; /* set but empty: as unset */
  char *end;
  errno = 0;
  double d = strtod(v, &end);
  while (end != v && (*end == ' ' || *end == '\t'))
    end++;
  /* d == d is false for NaN; the bound keeps the nanosecond limit in range */
  if (end == v || *end || errno || d != d || d < 0 || d > 1e6)
    return -1;
  *secs = d;
  return d > 0;
}

static void start_from_env(void) {
  const char *v = getenv("SLUICE_WATCHDOG");
  double secs;
  int rc = sl__watchdog_env_parse(v, &secs);
  if (rc > 0) {
    sl_watchdog_config cfg = {.seconds = secs, .action = SL_STALL_REPORT, .fd = -1};
    sl_watchdog_start(&cfg);
  } else if (rc < 0) {
    /* Shown escaped: the value is whatever the environment held. */
    char shown[48];
    size_t n = 0;
    for (; v[n] && n < 40; n++)
      shown[n] = v[n] >= 0x20 && v[n] < 0x7f ? v[n] : '?';
    shown[n] = '\0';
    char msg[256];
    snprintf(msg, sizeof msg,
             "sluice: SLUICE_WATCHDOG=\"%s%s\" is not a number of seconds; the stall "
             "detector is off. Give seconds without progress before a report (e.g. "
             "SLUICE_WATCHDOG=2 or 0.5), or 0 for none.\n",
             shown, v[n] ? "..." : "");
    write_all(STDERR_FILENO, msg);
  }
}

void sl__watchdog_from_env(void) { pthread_once(&env_once, start_from_env); }
