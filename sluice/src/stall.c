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
 *   being reported: the seed's stall was a silent 0% CPU.
 * - The report is built from snapshots taken under each registry lock in
 *   turn (pools, threads, channels; never two at once), so it never touches
 *   a freed object: a thread's wait object is interpreted only if it is a
 *   pool or channel found in the snapshot.
 * - The verdict follows waits-for edges: a sender on a full channel waits
 *   for the channel's last receiver thread, a receiver on an empty channel
 *   for its last sender, a thread waiting on a pool (install, join) for that
 *   pool, and a pool whose workers are all blocked (at its compensation
 *   cap) for those workers. A path that comes back is a cycle, told from one
 *   end to the other; otherwise the longest chain is told.
 *
 * LIMITS. Channel peers are known only by the last thread that completed
 * an operation on the other side, so a channel never used has no named
 * peer ("no receiver has taken anything yet"). A stall inside user locks
 * outside sl_blocking_begin/end shows as threads running, not waiting. */
#include "chan.h"
#include "pool.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- snapshots ---------------------------------------------------------- */

typedef struct th_snap {
  const sl__thread *rec;
  char name[32];
  int op;
  const void *obj;
  int64_t since;
  uint64_t progress;
  const void *pool;
  int worker;
  int64_t cpu_ns; /* CPU time used by the thread, -1 if unknown */
} th_snap;

typedef struct ch_snap {
  const sl_chan *ch;
  char name[64];
  size_t len, cap, senders, receivers;
  bool closed;
  const void *last_sender, *last_receiver;
} ch_snap;

typedef struct pool_snap {
  const sl_pool *p;
  char name[32];
  unsigned nthreads, max_threads, live, blocked, idle;
  size_t queued;
  uint64_t jobs_done;
} pool_snap;

typedef struct snapshot {
  th_snap *th;
  size_t nth, capth;
  ch_snap *ch;
  size_t nch, capch;
  pool_snap *pl;
  size_t npl, cappl;
  bool oom;
} snapshot;

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
  snapshot *s = arg;
  th_snap *arr = grow(s->th, &s->capth, s->nth, sizeof *arr, &s->oom);
  if (!arr)
    return;
  s->th = arr;
  th_snap *x = &arr[s->nth++];
  x->rec = t;
  sl__thread_name(t, x->name, sizeof x->name);
  x->op = atomic_load_explicit(&t->op, memory_order_relaxed);
  x->obj = atomic_load_explicit(&t->obj, memory_order_relaxed);
  x->since = (int64_t)atomic_load_explicit(&t->since_ns, memory_order_relaxed);
  x->progress = atomic_load_explicit(&t->progress, memory_order_relaxed);
  x->pool = atomic_load_explicit(&t->pool, memory_order_relaxed);
  x->worker = atomic_load_explicit(&t->worker_index, memory_order_relaxed);
  /* Under the registry lock: the thread has not exited, tid is valid. */
  x->cpu_ns = thread_cpu_ns(t->tid);
}

static void snap_chan(sl_chan *c, void *arg) {
  snapshot *s = arg;
  ch_snap *arr = grow(s->ch, &s->capch, s->nch, sizeof *arr, &s->oom);
  if (!arr)
    return;
  s->ch = arr;
  ch_snap *x = &arr[s->nch++];
  x->ch = c;
  snprintf(x->name, sizeof x->name, "%s", sl_chan_name(c));
  x->len = sl_chan_len(c);
  x->cap = sl_chan_capacity(c);
  x->senders = sl_chan_senders(c);
  x->receivers = sl_chan_receivers(c);
  x->closed = sl_chan_is_closed(c);
  x->last_sender = sl__chan_last_peer(c, SL_SELECT_SEND);
  x->last_receiver = sl__chan_last_peer(c, SL_SELECT_RECV);
}

static void snap_pool(sl_pool *p, void *arg) {
  snapshot *s = arg;
  pool_snap *arr = grow(s->pl, &s->cappl, s->npl, sizeof *arr, &s->oom);
  if (!arr)
    return;
  s->pl = arr;
  pool_snap *x = &arr[s->npl++];
  x->p = p;
  snprintf(x->name, sizeof x->name, "%s", p->name);
  x->nthreads = p->nthreads;
  x->max_threads = p->max_threads;
  x->live = atomic_load_explicit(&p->live, memory_order_relaxed);
  x->blocked = atomic_load_explicit(&p->blocked, memory_order_relaxed);
  x->idle = atomic_load_explicit(&p->n_idle, memory_order_relaxed);
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

static void snapshot_take(snapshot *s) {
  memset(s, 0, sizeof *s);
  sl__pools_foreach(snap_pool, s);
  sl__threads_foreach(snap_thread, s);
  sl__chan_foreach(snap_chan, s);
}

static void snapshot_free(snapshot *s) {
  free(s->th);
  free(s->ch);
  free(s->pl);
}

static const ch_snap *find_chan(const snapshot *s, const void *obj) {
  for (size_t i = 0; i < s->nch; i++)
    if (s->ch[i].ch == obj)
      return &s->ch[i];
  return NULL;
}

static const pool_snap *find_pool(const snapshot *s, const void *obj) {
  for (size_t i = 0; i < s->npl; i++)
    if (s->pl[i].p == obj)
      return &s->pl[i];
  return NULL;
}

static const th_snap *find_thread(const snapshot *s, const void *rec) {
  for (size_t i = 0; rec && i < s->nth; i++)
    if (s->th[i].rec == rec)
      return &s->th[i];
  return NULL;
}

static bool is_blocked_op(int op) { return op != SL_OP_NONE && op != SL_OP_IDLE; }

/* ---- text --------------------------------------------------------------- */

typedef struct text {
  char *buf;
  size_t len, cap;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...) {
  va_list ap;
  for (;;) {
    va_start(ap, fmt);
    int n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0)
      return;
    if (t->buf && t->len + (size_t)n < t->cap) {
      t->len += (size_t)n;
      return;
    }
    size_t ncap = (t->cap ? t->cap * 2 : 4096) + (size_t)n;
    char *p = realloc(t->buf, ncap);
    if (!p)
      return; /* keep what we have */
    t->buf = p;
    t->cap = ncap;
  }
}

static void who(text *t, const snapshot *s, const th_snap *x) {
  const pool_snap *p = x->pool ? find_pool(s, x->pool) : NULL;
  if (x->name[0])
    put(t, "stage \"%s\"", x->name);
  else if (p && x->worker >= 0)
    put(t, "worker %d of pool \"%s\"", x->worker, p->name);
  else
    put(t, "thread %p", (const void *)x->rec);
}

static const char *op_verb(int op) {
  switch (op) {
  case SL_OP_SEND: return "sending on";
  case SL_OP_RECV: return "receiving on";
  case SL_OP_SELECT: return "in select on";
  case SL_OP_JOIN: return "waiting for a job of";
  case SL_OP_INSTALL: return "installed into";
  case SL_OP_BLOCKING: return "in a blocking region:";
  case SL_OP_IDLE: return "idle in";
  default: return "running";
  }
}

static void chan_state(text *t, const ch_snap *c) {
  if (c->cap == SL_CHAN_UNBOUNDED)
    put(t, "(%zu queued, unbounded", c->len);
  else
    put(t, "(%zu/%zu%s", c->len, c->cap,
        c->cap && c->len >= c->cap ? " full" : c->len == 0 ? " empty" : "");
  put(t, ", %zu sender%s, %zu receiver%s%s)", c->senders, c->senders == 1 ? "" : "s",
      c->receivers, c->receivers == 1 ? "" : "s", c->closed ? ", closed" : "");
}

static void describe_wait(text *t, const snapshot *s, const th_snap *x, int64_t now) {
  put(t, "  ");
  who(t, s, x);
  put(t, ": %s", op_verb(x->op));
  const ch_snap *c = find_chan(s, x->obj);
  const pool_snap *p = find_pool(s, x->obj);
  if (c) {
    put(t, " channel \"%s\" ", c->name);
    chan_state(t, c);
  } else if (p) {
    put(t, " pool \"%s\"", p->name);
  } else if (x->op == SL_OP_BLOCKING && x->obj) {
    put(t, " %s", (const char *)x->obj); /* a static string by contract */
  }
  if (is_blocked_op(x->op) && x->since > 0)
    put(t, " for %.1f s", (double)(now - x->since) / 1e9);
  put(t, "\n");
}

/* ---- the verdict ---------------------------------------------------------- */

/* A pool is starved when none of its live workers is free and it cannot
 * add one: every live worker is blocked and it is at its thread cap. */
static bool pool_starved(const pool_snap *p) {
  return p->live > 0 && p->blocked >= p->live && p->live >= p->max_threads;
}

/* The thread a blocked thread waits for, through a channel; NULL if none
 * is known. Sets *c to the channel. */
static const th_snap *chan_peer(const snapshot *s, const th_snap *x, const ch_snap **c) {
  *c = find_chan(s, x->obj);
  if (!*c)
    return NULL;
  if (x->op == SL_OP_SEND)
    return find_thread(s, (*c)->last_receiver);
  if (x->op == SL_OP_RECV)
    return find_thread(s, (*c)->last_sender);
  return NULL;
}

static void tell_pool(text *t, const snapshot *s, const pool_snap *p) {
  put(t, "pool \"%s\", whose %u worker%s %s all blocked", p->name, p->live,
      p->live == 1 ? "" : "s", p->live == 1 ? "is" : "are");
  if (p->max_threads == p->nthreads)
    put(t, " (compensation disabled)");
  else
    put(t, " (compensation at its cap of %u threads)", p->max_threads);
  const char *sep = ": ";
  for (size_t i = 0; i < s->nth; i++) {
    const th_snap *w = &s->th[i];
    if (w->pool != p->p || !is_blocked_op(w->op))
      continue;
    put(t, "%s", sep);
    sep = "; ";
    who(t, s, w);
    put(t, " %s", op_verb(w->op));
    const ch_snap *c = find_chan(s, w->obj);
    if (c) {
      put(t, " channel \"%s\" ", c->name);
      chan_state(t, c);
    }
  }
}

/* Tells the chain of waits that starts at x, naming each thread once:
 * "A blocked sending on channel C (...); its only receiver, B, waits for
 * pool P, whose 2 workers are all blocked". A chain that returns to a
 * thread already named is a cycle and says so. */
static void tell_chain(text *t, const snapshot *s, const th_snap *x) {
  const th_snap *seen[32];
  size_t n = 0;
  put(t, "verdict: ");
  who(t, s, x);
  while (n < 32) {
    seen[n++] = x;
    const ch_snap *c;
    const th_snap *next = chan_peer(s, x, &c);
    const pool_snap *p = find_pool(s, x->obj);
    if (c && (x->op == SL_OP_SEND || x->op == SL_OP_RECV)) {
      bool send = x->op == SL_OP_SEND;
      put(t, " blocked %s channel \"%s\" ", send ? "sending on" : "receiving on", c->name);
      chan_state(t, c);
      if (!next) {
        put(t, "; no %s has %s it yet\n", send ? "receiver" : "sender",
            send ? "taken from" : "sent on");
        return;
      }
      size_t peers = send ? c->receivers : c->senders;
      put(t, "; its %s%s, ", peers == 1 ? "only " : "", send ? "receiver" : "sender");
      who(t, s, next);
      for (size_t i = 0; i < n; i++)
        if (seen[i] == next) {
          put(t, ", is where this chain began: a cycle, none of them can move\n");
          return;
        }
      if (!is_blocked_op(next->op)) {
        put(t, ", is %s, not waiting in sluice\n", op_verb(next->op));
        return;
      }
      put(t, ",");
      x = next;
      continue;
    }
    if (p && (x->op == SL_OP_INSTALL || x->op == SL_OP_JOIN)) {
      put(t, " waits for ");
      tell_pool(t, s, p);
      put(t, "\n");
      return;
    }
    put(t, " %s\n", op_verb(x->op));
    return;
  }
  put(t, " ...\n");
}

static void verdict(text *t, const snapshot *s) {
  /* Prefer a chain that starts at a channel wait and reaches a starved pool
   * or closes a cycle; else a starved pool; else the first blocked thread. */
  for (size_t i = 0; i < s->nth; i++) {
    const th_snap *x = &s->th[i];
    const ch_snap *c;
    if ((x->op == SL_OP_SEND || x->op == SL_OP_RECV) && chan_peer(s, x, &c) && !x->pool) {
      tell_chain(t, s, x);
      return;
    }
  }
  for (size_t i = 0; i < s->nth; i++) {
    const th_snap *x = &s->th[i];
    const ch_snap *c;
    if ((x->op == SL_OP_SEND || x->op == SL_OP_RECV) && chan_peer(s, x, &c)) {
      tell_chain(t, s, x);
      return;
    }
  }
  for (size_t i = 0; i < s->npl; i++)
    if (pool_starved(&s->pl[i])) {
      put(t, "verdict: ");
      tell_pool(t, s, &s->pl[i]);
      put(t, "\n");
      return;
    }
  for (size_t i = 0; i < s->nth; i++)
    if (is_blocked_op(s->th[i].op)) {
      tell_chain(t, s, &s->th[i]);
      return;
    }
  put(t, "verdict: no thread is blocked in sluice\n");
}

/* ---- the report ----------------------------------------------------------- */

static char *build_report(const snapshot *s, const char *headline) {
  text t = {0};
  int64_t now = sl_now_ns();
  put(&t, "sluice: %s\n", headline);
  for (size_t i = 0; i < s->npl; i++) {
    const pool_snap *p = &s->pl[i];
    unsigned running = p->live > p->blocked + p->idle ? p->live - p->blocked - p->idle : 0;
    put(&t, "pool \"%s\": %u workers (up to %u with spares): %u running, %u blocked, %u idle; "
            "%zu jobs queued, %llu run\n",
        p->name, p->nthreads, p->max_threads, running, p->blocked, p->idle, p->queued,
        (unsigned long long)p->jobs_done);
  }
  put(&t, "threads waiting in sluice:\n");
  for (size_t i = 0; i < s->nth; i++)
    if (is_blocked_op(s->th[i].op))
      describe_wait(&t, s, &s->th[i], now);
  if (s->nch) {
    put(&t, "channels:\n");
    for (size_t i = 0; i < s->nch; i++) {
      put(&t, "  \"%s\" ", s->ch[i].name);
      chan_state(&t, &s->ch[i]);
      put(&t, "\n");
    }
  }
  verdict(&t, s);
  if (s->oom)
    put(&t, "(report incomplete: out of memory)\n");
  return t.buf;
}

char *sl__state_report(const char *headline) {
  snapshot s;
  snapshot_take(&s);
  char *r = build_report(&s, headline);
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

static sample take_sample(const snapshot *s) {
  sample x = {0, 0, 0};
  for (size_t i = 0; i < s->nth; i++) {
    x.progress += s->th[i].progress;
    if (is_blocked_op(s->th[i].op))
      x.blocked++;
    if (s->th[i].cpu_ns > 0)
      x.cpu_running += s->th[i].cpu_ns; /* all threads: blocked ones add ~0 */
  }
  for (size_t i = 0; i < s->npl; i++)
    x.progress += s->pl[i].jobs_done;
  return x;
}

static void report_stall(const snapshot *s, double secs) {
  char head[128];
  snprintf(head, sizeof head, "stall: no progress for %.1f s", secs);
  char *r = build_report(s, head);
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
    snapshot s;
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
