/* verdict.c: the text of a state report, written from a snapshot that
 * stall.c takes: every pool, every thread waiting in sluice and what it
 * waits for, every channel, and the verdict, one sentence that follows who
 * waits for whom to the cause.
 *
 * HOW THE VERDICT IS FOUND. Waits are edges between threads:
 * - a sender on a full channel waits for the channel's receiver, a receiver
 *   on an empty one for its sender (the last thread seen at that end);
 * - a select waits for the peers of all its operations, and needs only one;
 * - a pipeline map's dispatcher waits for its jobs, which run on a pool
 *   and report on an internal channel: the threads running them are those
 *   whose job_of names that channel;
 * - a thread in join or install waits for a pool, which is stuck when its
 *   threads are all blocked.
 * From every blocked thread the chain of waits is walked, at a select
 * taking the operation whose peer leads on (back into the chain, else to a
 * blocked thread, else to a running one), and the best chain is told: one
 * that closes a cycle, else the longest, and of equals one that starts at
 * a sender, upstream of the stall. A chain names each thread once; one that
 * returns to a named thread is a cycle and says so.
 *
 * LIMITS. A channel's peer is the last thread that completed an operation
 * at its other end, so a channel never used has no named peer, and of
 * several peers only the last is followed. A select shows SL__SEL_SHOWN of
 * its operations. Function names come from dladdr, which knows exported
 * symbols only; another function shows as FILE+0xOFFSET, for addr2line. */
#include "stall.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- looking things up in the snapshot ------------------------------------ */

static const sl__csnap *find_chan(const sl__snapshot *s, const void *obj) {
  for (size_t i = 0; obj && i < s->nch; i++)
    if (s->ch[i].ch == obj)
      return &s->ch[i];
  return NULL;
}

static const sl__psnap *find_pool(const sl__snapshot *s, const void *obj) {
  for (size_t i = 0; obj && i < s->npl; i++)
    if (s->pl[i].p == obj)
      return &s->pl[i];
  return NULL;
}

static const sl__tsnap *find_thread(const sl__snapshot *s, const void *rec) {
  for (size_t i = 0; rec && i < s->nth; i++)
    if (s->th[i].rec == rec)
      return &s->th[i];
  return NULL;
}

/* The pool x belongs to, and whether as an outside thread (inside
 * sl_install or a parallel call) rather than one of its workers. */
static const sl__psnap *member_of(const sl__snapshot *s, const sl__tsnap *x, bool *outside) {
  const sl__psnap *p = find_pool(s, x->pool);
  *outside = p && (x->worker < 0 || (unsigned)x->worker >= p->max_threads);
  return p;
}

/* One channel operation a thread waits on; c is NULL for a channel that is
 * gone from the snapshot. */
typedef struct wait_op {
  const sl__csnap *c;
  int kind; /* SL_SELECT_SEND or SL_SELECT_RECV */
} wait_op;

/* The channel operations x waits on: its send, its receive, or its
 * select's (*more: those of a wide select not recorded). 0 when its wait
 * is not on channels. */
static size_t wait_ops(const sl__snapshot *s, const sl__tsnap *x, wait_op *ops, unsigned *more) {
  *more = 0;
  if (x->op == SL_OP_SEND || x->op == SL_OP_RECV) {
    ops[0] = (wait_op){find_chan(s, x->obj), x->op == SL_OP_SEND ? SL_SELECT_SEND : SL_SELECT_RECV};
    return 1;
  }
  if (x->op != SL_OP_SELECT || x->sel_n == 0)
    return 0;
  size_t n = x->sel_n < SL__SEL_SHOWN ? x->sel_n : SL__SEL_SHOWN;
  for (size_t i = 0; i < n; i++)
    ops[i] = (wait_op){find_chan(s, (const void *)(x->sel[i] & ~(uintptr_t)1)),
                       x->sel[i] & 1 ? SL_SELECT_SEND : SL_SELECT_RECV};
  *more = x->sel_n - (unsigned)n;
  return n;
}

/* A map's jobs, as the snapshot sees them: in flight (the internal
 * channel's senders but the dispatcher's own handle), running (a thread
 * has job_of set to it) and, of those, blocked. */
typedef struct jobs {
  size_t in_flight, running, blocked;
} jobs;

static jobs count_jobs(const sl__snapshot *s, const sl__csnap *c) {
  jobs j = {c->senders > 0 ? c->senders - 1 : 0, 0, 0};
  for (size_t i = 0; i < s->nth; i++)
    if (s->th[i].job_of == c->ch) {
      j.running++;
      j.blocked += sl__is_blocked_op(s->th[i].op);
    }
  if (j.in_flight < j.running) /* racy counts: a job between its steps */
    j.in_flight = j.running;
  return j;
}

/* ---- text ------------------------------------------------------------------ */

typedef struct text {
  char *buf;
  size_t len, cap;
} text;

/* Appends to t; with t NULL it does nothing (a chain being measured). */
static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...) {
  if (!t)
    return;
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
    char *p = realloc(t->buf, ncap); /* outside the fault hook, as the snapshot */
    if (!p)
      return; /* keep what we have */
    t->buf = p;
    t->cap = ncap;
  }
}

static const char *plural(size_t n) { return n == 1 ? "" : "s"; }

/* Names a function: dladdr's symbol when it is exactly that function, else
 * FILE+0xOFFSET (addr2line -f -e FILE 0xOFFSET names it). Returns whether
 * it found the symbol. */
static bool put_fn(text *t, uintptr_t fn) {
  if (!t)
    return true;
  Dl_info di;
  if (dladdr((void *)fn, &di)) {
    if (di.dli_sname && (uintptr_t)di.dli_saddr == fn) {
      put(t, "%s()", di.dli_sname);
      return true;
    }
    if (di.dli_fname && di.dli_fname[0]) {
      const char *base = strrchr(di.dli_fname, '/');
      put(t, "%s+%#lx", base ? base + 1 : di.dli_fname,
          (unsigned long)(fn - (uintptr_t)di.dli_fbase));
      return false;
    }
  }
  put(t, "a function at %#lx", (unsigned long)fn);
  return false;
}

/* What who() could not name, for the hints under the thread list. */
enum { NAMED = 0, UNNAMED = 1, FN_UNRESOLVED = 2 };

/* Names a thread: its stage (or pipeline) name, else its place in a pool,
 * else its pthread id. An unnamed thread is also named by what it runs: a
 * pipeline map's job, or a function. With `detail` (the thread list) a
 * named thread also gets its place in a pool. A suspended job (a
 * continuation's record) is named by its stage and the worker it waits on.
 * Returns NAMED, UNNAMED or FN_UNRESOLVED. */
static int who(text *t, const sl__snapshot *s, const sl__tsnap *x, bool detail) {
  bool outside;
  const sl__psnap *p = member_of(s, x, &outside);
  const char *pname = p ? p->name : "(destroyed)";
  if (x->cont && x->name[0]) { /* a suspended job's record: on a worker of a pool */
    put(t, "stage \"%s\" (suspended on worker %d of pool \"%s\")", x->name, x->worker, pname);
    return NAMED;
  }
  if (x->name[0]) {
    put(t, "%s \"%s\"", x->op == SL_OP_PIPELINE ? "pipeline" : "stage", x->name);
    if (detail && p && outside)
      put(t, " (an outside thread in pool \"%s\")", p->name);
    else if (detail && p)
      put(t, " (worker %d of pool \"%s\")", x->worker, p->name);
    return NAMED;
  }
  if (x->cont)
    put(t, "a job suspended on worker %d of pool \"%s\"", x->worker, pname);
  else if (p && !outside)
    put(t, "worker %d of pool \"%s\"", x->worker, p->name);
  else if (p)
    put(t, "outside thread %#lx in pool \"%s\"", x->tid, p->name);
  else
    put(t, "thread %#lx", x->tid);
  const sl__csnap *job = find_chan(s, x->job_of);
  if (job && job->jobs_pool) {
    put(t, " running a job of map \"%s\"", job->name);
    return NAMED;
  }
  if (x->fn) {
    put(t, " running ");
    return put_fn(t, x->fn) ? NAMED : FN_UNRESOLVED;
  }
  return UNNAMED;
}

static void chan_state(text *t, const sl__csnap *c) {
  if (c->cap == SL_CHAN_UNBOUNDED)
    put(t, "(%zu queued, unbounded", c->len);
  else
    put(t, "(%zu/%zu%s", c->len, c->cap,
        c->cap && c->len >= c->cap ? " full" : c->len == 0 ? " empty" : "");
  put(t, ", %zu sender%s, %zu receiver%s%s)", c->senders, plural(c->senders), c->receivers,
      plural(c->receivers), c->closed ? ", closed" : "");
}

/* One operation: "sending on channel "c" (state)", or for a map's internal
 * channel "waiting for its 2 jobs on pool "P" (both blocked)". */
static void put_op(text *t, const sl__snapshot *s, wait_op op) {
  const char *verb = op.kind == SL_SELECT_SEND ? "sending on" : "receiving on";
  if (!op.c) {
    put(t, "%s a channel destroyed since", verb);
    return;
  }
  if (!op.c->jobs_pool) {
    put(t, "%s channel \"%s\" ", verb, op.c->name);
    chan_state(t, op.c);
    return;
  }
  const sl__psnap *p = find_pool(s, op.c->jobs_pool);
  jobs j = count_jobs(s, op.c);
  put(t, "waiting for its %zu job%s on pool \"%s\" ", j.in_flight, plural(j.in_flight),
      p ? p->name : "(destroyed)");
  if (j.running == 0)
    put(t, "(none started)");
  else if (j.blocked == j.in_flight)
    put(t, "(%s blocked)", j.in_flight == 1 ? "it is" : j.in_flight == 2 ? "both" : "all");
  else {
    size_t busy = j.running - j.blocked, queued = j.in_flight - j.running;
    put(t, "(%zu blocked", j.blocked);
    if (busy)
      put(t, ", %zu running", busy);
    if (queued)
      put(t, ", %zu not started", queued);
    put(t, ")");
  }
}

/* Whether obj may be read as a blocking region's static string: it must
 * not be an object of the snapshot (a racy snapshot may pair the op of one
 * wait with the object of the next). */
static const char *region_what(const sl__snapshot *s, const sl__tsnap *x) {
  if (!x->obj || find_chan(s, x->obj) || find_pool(s, x->obj))
    return "?";
  return x->obj; /* static by sl_blocking_begin's contract */
}

/* What x is doing: the phrase after a thread's name in the thread list. */
static void put_wait(text *t, const sl__snapshot *s, const sl__tsnap *x) {
  wait_op ops[SL__SEL_SHOWN];
  unsigned more;
  size_t n = wait_ops(s, x, ops, &more);
  if (n) {
    if (n + more > 1)
      put(t, "in a select, ");
    for (size_t i = 0; i < n; i++) {
      put(t, "%s", i ? " or " : "");
      put_op(t, s, ops[i]);
    }
    if (more)
      put(t, " or %u more operation%s", more, plural(more));
    return;
  }
  const sl__psnap *p = find_pool(s, x->obj);
  switch (x->op) {
  case SL_OP_JOIN:
    if (p)
      put(t, "waiting for jobs it handed to pool \"%s\"", p->name);
    else
      put(t, "waiting for jobs it handed to a pool");
    break;
  case SL_OP_INSTALL:
    if (p)
      put(t, "waiting for its sl_install into pool \"%s\"", p->name);
    else
      put(t, "waiting for an sl_install");
    break;
  case SL_OP_BLOCKING: put(t, "in a blocking region: %.64s", region_what(s, x)); break;
  case SL_OP_IDLE:
    if (p)
      put(t, "idle in pool \"%s\"", p->name);
    else
      put(t, "idle");
    break;
  case SL_OP_PIPELINE: put(t, "waiting for its stages to finish"); break;
  case SL_OP_SELECT: put(t, "in a select"); break; /* its operations not recorded yet */
  default: put(t, "running"); break;
  }
}

/* ---- the verdict ------------------------------------------------------------- */

/* "pool "P", whose 2 workers are all blocked (...): <who> <what>; ...".
 * The cap is named only when the pool has reached it. */
static void tell_pool(text *t, const sl__snapshot *s, const sl__psnap *p) {
  if (p->live > 0 && p->blocked >= p->live) {
    if (p->live > p->nthreads)
      put(t, "pool \"%s\", whose %u threads (%u worker%s and %u spare%s) are all blocked",
          p->name, p->live, p->nthreads, plural(p->nthreads), p->live - p->nthreads,
          plural(p->live - p->nthreads));
    else
      put(t, "pool \"%s\", whose %u worker%s %s all blocked", p->name, p->live, plural(p->live),
          p->live == 1 ? "is" : "are");
    if (p->max_threads == p->nthreads)
      put(t, " (compensation disabled)");
    else if (p->live >= p->max_threads)
      put(t, " (compensation at its cap of %u threads)", p->max_threads);
    else if (p->queued == 0)
      put(t, " (no job is queued, so no spare starts)");
  } else {
    unsigned busy = p->live > p->blocked + p->idle ? p->live - p->blocked - p->idle : 0;
    put(t, "pool \"%s\" (%u running, %u blocked, %u idle)", p->name, busy, p->blocked, p->idle);
  }
  const char *sep = ": ";
  for (size_t i = 0; i < s->nth; i++) {
    const sl__tsnap *w = &s->th[i];
    bool outside;
    if (member_of(s, w, &outside) != p || outside || !sl__is_blocked_op(w->op))
      continue;
    put(t, "%s", sep);
    sep = "; ";
    who(t, s, w, false);
    put(t, " ");
    put_wait(t, s, w);
  }
}

/* Where one operation of a wait leads. rank: 3 back into the chain, 2 to a
 * blocked thread, 1 to a thread that is not blocked (or, for map jobs that
 * have not started, to their pool), 0 nowhere known. */
typedef struct lead {
  int rank;
  wait_op op;
  const sl__tsnap *next;
} lead;

static bool in_chain(const sl__tsnap *const *seen, size_t n, const sl__tsnap *x) {
  for (size_t i = 0; i < n; i++)
    if (seen[i] == x)
      return true;
  return false;
}

static int rank_of(const sl__tsnap *const *seen, size_t n, const sl__tsnap *x) {
  return !x ? 0 : in_chain(seen, n, x) ? 3 : sl__is_blocked_op(x->op) ? 2 : 1;
}

/* The stage thread of the map whose internal channel is job_of, when it
 * waits on that channel (for its jobs); else NULL. */
static const sl__tsnap *dispatcher_of(const sl__snapshot *s, const void *job_of) {
  for (size_t i = 0; job_of && i < s->nth; i++) {
    wait_op ops[SL__SEL_SHOWN];
    unsigned more;
    size_t n = wait_ops(s, &s->th[i], ops, &more);
    for (size_t k = 0; k < n; k++)
      if (ops[k].c && ops[k].c->ch == job_of)
        return &s->th[i];
  }
  return NULL;
}

static lead op_lead(const sl__snapshot *s, const sl__tsnap *const *seen, size_t n, wait_op op) {
  lead l = {0, op, NULL};
  if (!op.c)
    return l;
  if (op.c->jobs_pool) { /* the dispatcher of a map: its jobs' threads */
    l.rank = 1;
    for (size_t i = 0; i < s->nth; i++) {
      const sl__tsnap *y = &s->th[i];
      int r = y->job_of == op.c->ch ? rank_of(seen, n, y) : 0;
      if (r >= 2 && r > l.rank) {
        l.rank = r;
        l.next = y;
      }
    }
    return l;
  }
  l.next = find_thread(s, op.kind == SL_SELECT_SEND ? op.c->last_receiver : op.c->last_sender);
  /* A job of an unordered map takes its next input and passes its result on
   * itself, so the peer may be one of the map's jobs; the story goes through
   * the map's stage when it waits for its jobs (it names them all). */
  const sl__tsnap *stage = l.next ? dispatcher_of(s, l.next->job_of) : NULL;
  if (stage && !in_chain(seen, n, l.next))
    l.next = stage;
  l.rank = rank_of(seen, n, l.next);
  return l;
}

/* "; its only receiver, " and the like: how the chain reaches l.next. */
static void tell_relation(text *t, const lead *l, bool select) {
  bool send = l->op.kind == SL_SELECT_SEND;
  size_t peers = send ? l->op.c->receivers : l->op.c->senders;
  const char *role = send ? "receiver" : "sender";
  if (l->op.c->jobs_pool)
    put(t, "; one of them, ");
  else if (select && peers == 1)
    put(t, "; the only %s of \"%s\", ", role, l->op.c->name);
  else if (select)
    put(t, "; one of the %zu %ss of \"%s\", ", peers, role, l->op.c->name);
  else if (peers == 1)
    put(t, "; its only %s, ", role);
  else
    put(t, "; one of its %zu %ss, ", peers, role);
}

/* The end of a chain at a map whose jobs are not blocked in sluice: not
 * started (then their pool is the cause) or running. */
static void jobs_end(text *t, const sl__snapshot *s, const sl__csnap *c) {
  jobs j = count_jobs(s, c);
  const sl__psnap *p = find_pool(s, c->jobs_pool);
  if (j.running == 0 && p) {
    put(t, "; none of them has started: they wait for ");
    tell_pool(t, s, p);
    put(t, "\n");
  } else if (j.running == 0) {
    put(t, "; none of them has started\n");
  } else {
    put(t, "; %s running, not waiting in sluice\n", j.running == 1 ? "it is" : "they are");
  }
}

/* The end of a chain at a wait that is not on channels. Returns the steps
 * it adds to the score. */
static int tell_other_wait(text *t, const sl__snapshot *s, const sl__tsnap *x) {
  const sl__psnap *p = find_pool(s, x->obj);
  if (p && (x->op == SL_OP_JOIN || x->op == SL_OP_INSTALL)) {
    put(t, x->op == SL_OP_JOIN ? " waits for jobs it handed to " : " waits for ");
    tell_pool(t, s, p);
    put(t, "\n");
    return 1;
  }
  if (x->op == SL_OP_BLOCKING) {
    put(t, " is in a blocking region (%.64s): it waits outside sluice, for something sluice "
           "cannot see\n", region_what(s, x));
    return 0;
  }
  put(t, " is ");
  put_wait(t, s, x);
  put(t, "\n");
  return 0;
}

/* Tells the chain of waits that starts at x (with t NULL, only measures
 * it). Returns its score: the steps told, plus 1000 when it closes a
 * cycle. */
static int tell_chain(text *t, const sl__snapshot *s, const sl__tsnap *x) {
  const sl__tsnap *seen[32];
  size_t n = 0;
  put(t, "verdict: ");
  who(t, s, x, false);
  while (n < 32) {
    seen[n++] = x;
    wait_op ops[SL__SEL_SHOWN];
    unsigned more;
    size_t nops = wait_ops(s, x, ops, &more);
    if (nops == 0)
      return (int)n + tell_other_wait(t, s, x);
    put(t, " blocked ");
    put_wait(t, s, x);
    lead best = op_lead(s, seen, n, ops[0]);
    for (size_t i = 1; i < nops; i++) {
      lead l = op_lead(s, seen, n, ops[i]);
      if (l.rank > best.rank)
        best = l;
    }
    if (!best.op.c) { /* destroyed since: nothing to follow */
      put(t, "\n");
      return (int)n;
    }
    bool jobs = best.op.c->jobs_pool != NULL;
    if (jobs && !best.next) {
      jobs_end(t, s, best.op.c);
      return (int)n + 1;
    }
    if (!best.next) {
      if (nops + more > 1)
        put(t, "; no thread has used the other end of these channels yet\n");
      else if (best.op.kind == SL_SELECT_SEND)
        put(t, "; no receiver has taken from it yet\n");
      else
        put(t, "; no sender has sent on it yet\n");
      return (int)n;
    }
    tell_relation(t, &best, nops + more > 1);
    who(t, s, best.next, false);
    if (best.rank == 3) {
      put(t, ", %s: a cycle, none of them can move\n",
          best.next == seen[0] ? "is where this chain began" : "is named above");
      return (int)n + 1000;
    }
    if (best.rank == 1) {
      put(t, ", is ");
      put_wait(t, s, best.next);
      put(t, ", not waiting in sluice\n");
      return (int)n;
    }
    put(t, ",");
    x = best.next;
  }
  put(t, " ...\n");
  return (int)n;
}

/* Tells the best chain: every blocked thread's is measured, and the one
 * that closes a cycle, else the longest, wins; of equals, one that starts
 * at a sender (upstream), and any before the pipeline's own waiting thread. */
static void verdict(text *t, const sl__snapshot *s) {
  const sl__tsnap *best = NULL;
  int best_score = -1;
  for (size_t i = 0; i < s->nth; i++) {
    const sl__tsnap *x = &s->th[i];
    if (!sl__is_blocked_op(x->op))
      continue;
    int score = tell_chain(NULL, s, x) * 4 + (x->op == SL_OP_SEND) * 2 + (x->op != SL_OP_PIPELINE);
    if (score > best_score) {
      best_score = score;
      best = x;
    }
  }
  if (best)
    tell_chain(t, s, best);
  else
    put(t, "verdict: no thread is blocked in sluice\n");
}

/* ---- the report ----------------------------------------------------------- */

/* Jobs of pool p suspended in a wait (continuations). */
static unsigned suspended_jobs(const sl__snapshot *s, const sl__psnap *p) {
  unsigned n = 0;
  for (size_t i = 0; i < s->nth; i++)
    n += s->th[i].cont && s->th[i].pool == p->p && sl__is_blocked_op(s->th[i].op);
  return n;
}

static void pool_line(text *t, const sl__snapshot *s, const sl__psnap *p) {
  unsigned busy = p->live > p->blocked + p->idle ? p->live - p->blocked - p->idle : 0;
  unsigned spares = p->live > p->nthreads ? p->live - p->nthreads : 0;
  put(t, "pool \"%s\": %u worker%s", p->name, p->nthreads, plural(p->nthreads));
  if (p->max_threads == p->nthreads)
    put(t, " (no spares: compensation disabled)");
  else if (spares)
    put(t, " and %u spare%s (up to %u)", spares, plural(spares), p->max_threads - p->nthreads);
  else
    put(t, " (up to %u spares)", p->max_threads - p->nthreads);
  put(t, ": %u running, %u blocked, %u idle; %zu job%s queued, %llu run", busy, p->blocked,
      p->idle, p->queued, plural(p->queued), (unsigned long long)p->jobs_done);
  unsigned suspended = suspended_jobs(s, p);
  if (suspended)
    put(t, "; %u job%s suspended", suspended, plural(suspended));
  put(t, "\n");
}

static void channel_line(text *t, const sl__snapshot *s, const sl__csnap *c) {
  if (c->jobs_pool) {
    const sl__psnap *p = find_pool(s, c->jobs_pool);
    put(t, "  internal: where the jobs of map \"%s\" on pool \"%s\" report back ", c->name,
        p ? p->name : "(destroyed)");
  } else {
    put(t, "  \"%s\" ", c->name);
  }
  chan_state(t, c);
  put(t, "\n");
}

char *sl__report_build(const sl__snapshot *s, const char *headline) {
  text t = {0};
  int64_t now = sl_now_ns();
  put(&t, "sluice: %s\n", headline);
  for (size_t i = 0; i < s->npl; i++)
    pool_line(&t, s, &s->pl[i]);
  put(&t, "threads waiting in sluice:\n");
  int missing = NAMED;
  for (size_t i = 0; i < s->nth; i++) {
    const sl__tsnap *x = &s->th[i];
    if (!sl__is_blocked_op(x->op))
      continue;
    put(&t, "  ");
    missing |= who(&t, s, x, true);
    put(&t, ": ");
    put_wait(&t, s, x);
    if (x->since > 0)
      put(&t, " for %.1f s", (double)(now - x->since) / 1e9);
    put(&t, "\n");
  }
  if (missing & UNNAMED)
    put(&t, "  (a thread shown without a stage name or what it runs: sl_thread_set_name(\"...\") "
            "in it names it in these reports)\n");
  if (missing & FN_UNRESOLVED)
    put(&t, "  (FILE+0xOFFSET is a function that is not exported: addr2line -f -e FILE 0xOFFSET "
            "names it, or link with -rdynamic)\n");
  if (s->nch) {
    put(&t, "channels:\n");
    for (size_t i = 0; i < s->nch; i++)
      channel_line(&t, s, &s->ch[i]);
  }
  verdict(&t, s);
  if (s->oom)
    put(&t, "(report incomplete: out of memory)\n");
  return t.buf;
}
