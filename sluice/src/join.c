/* join.c: sl_join, latches, the helping wait, and sl_isolate.
 *
 * HOW A JOIN RUNS. The job for b lives in this stack frame. It is pushed on
 * the caller's deque, a runs here, then the caller pops: if it gets its own
 * job back (the common case, nobody stole it), b runs inline and the join
 * cost one push and one pop: no allocation, no atomic RMW, and no fence
 * where thieves fence for the owner (deque.c, THE OWNER'S FENCE). Otherwise
 * a thief has b, and the caller waits on the job's latch.
 *
 * THE HELPING WAIT (sl__latch_wait). While its latch is unset a worker runs
 * other jobs of its isolation region: its own deque first, then steals,
 * then the injector. It spins for a while with nothing found, then parks on
 * its own sleep word, listed as idle so new work can wake it; the latch's
 * setter wakes it too. A plain thread (not a worker) parks on the latch
 * word itself. The region rule is in sluice.h ("WAITING POLICY").
 *
 * INVARIANT. When a finishes, everything a pushed has been popped again
 * (every construct waits for its jobs before returning, and sl_pool_spawn
 * from a worker goes to the injector), so the bottom of the deque is b's job
 * or b was stolen. The pop below relies on it. */
#include "pool.h"

#include "cont.h"

typedef struct join_job {
  sl__job job;
  sl__ctx_fn fn;
  void *arg;
  sl__latch latch;
} join_job;

void sl__latch_set(sl__latch *l) {
  /* Read before the set: after it, the latch's frame may be gone. */
  sl__worker *owner = l->owner;
  /* Release: publish the job's effects; pairs with sl__latch_is_set. */
  uint32_t old = atomic_exchange_explicit(&l->state, 2, memory_order_acq_rel);
  if (old == 3) { /* the waiting job is suspended: it cannot leave before this wake */
    sl__cont_wake(l->cont);
    return;
  }
  if (old != 1)
    return;
  if (owner) {
    atomic_store_explicit(&owner->sleep_word, 1, memory_order_release);
    sl__wake(&owner->sleep_word, 1);
  } else {
    sl__wake(&l->state, INT32_MAX);
  }
}

static bool latch_ready(void *l) { return sl__latch_is_set(l); }

/* A plain thread, or a worker of another pool (blocking): park on state. */
static void latch_wait_parked(sl__latch *l, sl__op op, const void *obj, bool blocking) {
  for (int spin = 0; spin < 100 && !sl__latch_is_set(l); spin++)
    sl__cpu_relax();
  for (;;) {
    uint32_t s = 0;
    if (!atomic_compare_exchange_strong_explicit(&l->state, &s, 1, memory_order_acq_rel,
                                                 memory_order_acquire) && s == 2)
      return;
    sl__wait(&l->state, 1, op, obj, blocking, -1);
    if (sl__latch_is_set(l))
      return;
  }
}

void sl__latch_wait(sl__latch *l, sl__op op, const void *obj) {
  sl__thread *t = sl__self();
  sl__worker *w = t->worker;
  if (!w || l->owner != w) {
    latch_wait_parked(l, op, obj, w != NULL);
    return;
  }
  uintptr_t region = t->region;
  bool looking = true; /* traced JOIN_WAIT, and no WORK since */
  sl__trace(SL_TRACE_JOIN_WAIT, w->pool, NULL);
  for (int idle_rounds = 0; !sl__latch_is_set(l);) {
    bool migrated;
    sl__job *job = sl__find_work(w, true, region, &migrated);
    if (job) {
      if (looking)
        sl__trace(SL_TRACE_WORK, w->pool, NULL);
      looking = false;
      sl__run_job(t, job, migrated);
      idle_rounds = 0;
      continue;
    }
    if (!looking)
      sl__trace(SL_TRACE_JOIN_WAIT, w->pool, NULL);
    looking = true;
    if (w->conts && sl__cont_help(t, l, idle_rounds >= SL_SPIN_ROUNDS)) {
      idle_rounds = 0;
      continue;
    }
    if (sl__idle_backoff(idle_rounds++))
      continue;
    /* Park: reset our word before announcing we may sleep (sleep.c). */
    atomic_store_explicit(&w->sleep_word, 0, memory_order_relaxed);
    uint32_t s = 0;
    if (!atomic_compare_exchange_strong_explicit(&l->state, &s, 1, memory_order_acq_rel,
                                                 memory_order_acquire) && s == 2)
      break;
    /* With continuations any job may wake it: it suspends this wait to run
     * another region's job (sl__cont_help), so it is as good as idle. */
    sl__park_worker(w, w->conts ? 0 : region, latch_ready, l, op, obj);
    idle_rounds = 0;
  }
  sl__trace(SL_TRACE_JOIN_DONE, w->pool, NULL);
}

static void join_run(sl__job *job, bool migrated) {
  join_job *j = (join_job *)job;
  j->fn(j->arg, migrated);
  sl__latch_set(&j->latch);
}

void sl__join_ctx(sl__worker *w, sl__ctx_fn a, void *arg_a, sl__ctx_fn b, void *arg_b) {
  sl__thread *t = w->self;
  join_job jb;
  jb.job.run = join_run;
  jb.job.tag = t->region;
  jb.fn = b;
  jb.arg = arg_b;
  sl__latch_init(&jb.latch, w);
  if (sl__push_local(w, &jb.job)) { /* deque could not grow: run in order */
    a(arg_a, false);
    b(arg_b, false);
    return;
  }
  a(arg_a, false);
  sl__job *top = sl__deque_pop(&w->deque);
  if (top == &jb.job) {
    b(arg_b, false);
    return;
  }
  sl__latch_wait(&jb.latch, SL_OP_JOIN, w->pool);
}

/* ---- the public join ---------------------------------------------------- */

/* sl_join's own job: the same shape as join_job but calling a plain sl_fn,
 * so the hot path has no adapter call. */
typedef struct plain_job {
  sl__job job;
  sl_fn fn;
  void *arg;
  sl__latch latch;
} plain_job;

static void plain_run(sl__job *job, bool migrated) {
  (void)migrated;
  plain_job *j = (plain_job *)job;
  j->fn(j->arg);
  sl__latch_set(&j->latch);
}

typedef struct join_args {
  sl_fn a, b;
  void *arg_a, *arg_b;
} join_args;

static void join_in_worker(void *p) {
  join_args *ja = p;
  sl_join(ja->a, ja->arg_a, ja->b, ja->arg_b);
}

int sl_join(sl_fn a, void *arg_a, sl_fn b, void *arg_b) {
  if (!a || !b)
    return SL_EINVAL;
  sl__thread *t = sl__self();
  sl__worker *w = t->worker;
  if (__builtin_expect(w == NULL, 0)) {
    join_args ja = {a, b, arg_a, arg_b};
    return sl__in_worker(join_in_worker, &ja);
  }
  plain_job jb;
  jb.job.run = plain_run;
  jb.job.tag = t->region;
  jb.fn = b;
  jb.arg = arg_b;
  sl__latch_init(&jb.latch, w);
  if (__builtin_expect(sl__push_local(w, &jb.job) != 0, 0)) {
    a(arg_a); /* the deque could not grow: run in order */
    b(arg_b);
    return 0;
  }
  a(arg_a);
  if (__builtin_expect(sl__deque_pop(&w->deque) == &jb.job, 1)) {
    b(arg_b);
    return 0;
  }
  sl__latch_wait(&jb.latch, SL_OP_JOIN, w->pool);
  return 0;
}

/* ---- isolation ---------------------------------------------------------- */

/* Region tags: unique, never 0. */
static _Atomic uintptr_t next_region = 1;

uintptr_t sl__new_region(void) {
  /* Relaxed: only uniqueness matters. */
  return atomic_fetch_add_explicit(&next_region, 1, memory_order_relaxed);
}

typedef struct isolate_args {
  sl_fn fn;
  void *arg;
} isolate_args;

static void isolate_in_worker(void *p) {
  isolate_args *ia = p;
  sl__thread *t = sl__self();
  uintptr_t saved = t->region;
  t->region = sl__new_region();
  ia->fn(ia->arg);
  t->region = saved;
}

int sl_isolate(sl_fn fn, void *arg) {
  if (!fn)
    return SL_EINVAL;
  isolate_args ia = {fn, arg};
  return sl__in_worker(isolate_in_worker, &ia);
}
