/* pool.h: the pool's insides, shared by the files that schedule work
 * (pool.c, sleep.c, join.c, scope.c, install.c, loop.c) and the stall
 * detector. The pool's design essay is at the top of pool.c. */
#ifndef SLUICE_POOL_H
#define SLUICE_POOL_H

#include "deque.h"

/* Worker slot states, under the pool's sleep_lock. */
enum { SLOT_EMPTY, SLOT_RUNNING, SLOT_RETIRED };

typedef struct sl__worker {
  sl__deque deque;               /* first: cache-line aligned */
  struct sl_pool *pool;
  unsigned index;
  /* Futex word the worker parks on when idle, waiting for a latch, or
   * retired: 0 armed, 1 woken. Written by wakers, reset by the owner. */
  _Atomic uint32_t sleep_word;
  int slot_state;                /* SLOT_*, under sleep_lock */
  bool listed;                   /* on the idle list, under sleep_lock */
  uintptr_t wait_region;         /* listed: 0 idle (runs any job), else the
                                    region its latch wait may help with */
  bool thread_started;           /* a pthread exists to join, under sleep_lock */
  struct sl__worker *idle_next;  /* idle list, under sleep_lock */
  pthread_t thread;
  sl__thread *self;              /* the thread record while running */
  bool external;                 /* a slot for outside threads (install.c) */
  struct sl__conts *conts;       /* owner: its continuations (cont.c), NULL when
                                    the pool has none */
  _Atomic bool active;           /* external slot: taken by a thread now */
} sl__worker;

/* Slots for outside threads that enter the pool (install.c), after the
 * max_threads worker slots. A plain thread that calls into the pool runs
 * the work itself in one of these, as TBB's implicit arenas do, so its
 * parallel work progresses even when every worker is blocked. */
#define SL_EXTERNAL_SLOTS 8

struct sl_pool {
  char name[32];
  bool continuations;    /* jobs waiting on channels are suspended (cont.c) */
  unsigned nthreads;     /* configured size: running workers to keep */
  unsigned max_threads;  /* nthreads + spares: slots in workers[] */
  size_t stack_size;
  sl__worker *workers;   /* max_threads + SL_EXTERNAL_SLOTS slots, aligned */
  _Atomic unsigned started; /* slots ever given a thread: steal range */

  /* Injector: jobs from outside the pool, FIFO. */
  pthread_mutex_t inj_lock;  /* guards inj_head, inj_tail */
  sl__job *inj_head, *inj_tail;
  _Atomic size_t inj_len;    /* racy hint for the lock-free "anything there?" */

  /* Sleeping and compensation. live counts slots in SLOT_RUNNING (a thread
   * that is working, idle, waiting or blocked); blocked counts those inside
   * a blocking wait. The pool keeps live - blocked >= nthreads while spares
   * last. Both change under sleep_lock or with seq_cst RMWs (see pool.c). */
  pthread_mutex_t sleep_lock; /* guards idle list, slot states, thread starts */
  sl__worker *idle_head;
  _Atomic unsigned n_idle;    /* length of the idle list; read on every push */
  _Atomic unsigned live;
  _Atomic unsigned blocked;
  _Atomic unsigned retired;   /* slots in SLOT_RETIRED; written under sleep_lock */
  _Atomic unsigned spares_started; /* spares ever started, for reports */
  _Atomic bool stop;

  /* Injected work not yet finished (spawns and installs): destroy waits for
   * it to reach 0. pending_word is the futex it waits on. */
  _Atomic size_t pending;
  _Atomic uint32_t pending_word;

  _Atomic uint64_t jobs_done; /* stolen and injected jobs run; for reports */
  struct sl_pool *reg_next, *reg_prev; /* pool registry, under its lock */
};

/* The calling thread's worker, or NULL. Cheap: one TLS load. */
static inline sl__worker *sl__current_worker(void) { return sl__self()->worker; }

/* Runs a job on the calling worker in the job's isolation region. */
static inline void sl__run_job(sl__thread *t, sl__job *job, bool migrated) {
  uintptr_t saved = t->region;
  t->region = job->tag;
  job->run(job, migrated);
  t->region = saved;
  sl__progress(t);
}

/* The external slots: workers[max_threads .. max_threads + SL_EXTERNAL_SLOTS). */
static inline sl__worker *sl__external_slot(struct sl_pool *pool, unsigned i) {
  return &pool->workers[pool->max_threads + i];
}

/* How a worker with nothing to do waits before it parks: a few rounds of
 * pause-spinning (cheap when work comes back within microseconds, as in
 * fork-join), then rounds of sched_yield, which hand the core to whatever
 * else is runnable (a pipeline's stage threads, when the pool is
 * oversubscribed), then a futex park. Rayon's idle loop yields the same way.
 * Spinning alone would keep idle workers burning the CPU that a pipeline's
 * stage threads need (bench/RESULTS.md has the figures). Returns false once
 * the rounds are used up: time to park. */
#define SL_SPIN_ROUNDS 8
#define SL_YIELD_ROUNDS 24
SL_HIDDEN bool sl__idle_backoff(int round);

/* Finds a job for w: its own deque, then other workers' (random start),
 * then the injector. With `filter`, only jobs of region `tag`. */
SL_HIDDEN sl__job *sl__find_work(sl__worker *w, bool filter, uintptr_t tag, bool *migrated);

/* Wakes one listed worker that could run a job of region `tag`: an idle
 * one, or one whose latch wait helps with that region (sleep.c). A waiter
 * of another region is left asleep: it could only find nothing and park
 * again. Returns false when no listed worker fits. */
SL_HIDDEN bool sl__wake_one(struct sl_pool *pool, uintptr_t tag);

/* Compensation: starts or revives a spare if live - blocked < nthreads.
 * Returns true when it did. */
SL_HIDDEN bool sl__compensate(struct sl_pool *pool);

/* Pushes a job of the calling worker and wakes a sleeper that can run it.
 * With none to wake while workers are blocked, it compensates: the spares
 * that covered for blocked workers may have retired since the block, and
 * the pusher would otherwise run all of its new work alone while a core
 * idles (a pipeline stage's loop, pushed as its senders block). On
 * SL_ENOMEM (the deque could not grow) nothing was pushed. The loads are
 * unfenced on purpose: see "Waking" in pool.c. */
static inline int sl__push_local(sl__worker *w, sl__job *job) {
  uintptr_t tag = job->tag; /* once pushed, a thief may run and free the job */
  if (sl__deque_push(&w->deque, job))
    return SL_ENOMEM;
  struct sl_pool *pool = w->pool;
  if (atomic_load_explicit(&pool->n_idle, memory_order_relaxed) && sl__wake_one(pool, tag))
    return 0;
  if (atomic_load_explicit(&pool->blocked, memory_order_relaxed))
    sl__compensate(pool);
  return 0;
}

/* Queues a job from outside (or for another pool) and wakes a worker,
 * starting a spare when the pool is short of running workers. */
SL_HIDDEN void sl__inject(struct sl_pool *pool, sl__job *job);

/* True when some deque or the injector may hold work (racy). */
SL_HIDDEN bool sl__work_visible(struct sl_pool *pool);

/* Starts the thread of slot i (pool.c). 0 or SL_EAGAIN. */
SL_HIDDEN int sl__start_worker(struct sl_pool *pool, unsigned i);

/* The error that kept the global pool from existing, after sl_pool_global
 * returned NULL. */
SL_HIDDEN int sl__global_error(void);

/* ---- sleeping (sleep.c) ------------------------------------------------- */

/* Parks w until woken, unless `ready(arg)` or visible work or stop says
 * otherwise after w is listed (the re-check closes the lost wake-up race).
 * `region` is 0 for an idle worker, else the region its wait helps with
 * (what sl__wake_one matches jobs against). op/obj go to the thread record. */
SL_HIDDEN void sl__park_worker(sl__worker *w, uintptr_t region, bool (*ready)(void *), void *arg,
                               sl__op op, const void *obj);

/* Retires w if the pool has more running workers than it needs. Returns
 * true when w was retired and then revived or stopped: the caller re-checks
 * pool->stop. Owner only, with an empty deque. */
SL_HIDDEN bool sl__maybe_retire(sl__worker *w);

/* ---- latches (join.c) --------------------------------------------------- */

/* A one-shot completion flag with a known waiter. state: 0 pending, 1 the
 * waiter may be parked, 2 set, 3 the waiting job is suspended as `cont`
 * (cont.c). owner: the worker that waits, or NULL for a plain thread, which
 * parks on `state` itself. */
typedef struct sl__latch {
  _Atomic uint32_t state;
  sl__worker *owner;
  struct sl__cont *cont;
} sl__latch;

static inline void sl__latch_init(sl__latch *l, sl__worker *owner) {
  atomic_init(&l->state, 0);
  l->owner = owner;
}

static inline bool sl__latch_is_set(sl__latch *l) {
  /* Acquire: see everything the job wrote before setting it. */
  return atomic_load_explicit(&l->state, memory_order_acquire) == 2;
}

/* Sets the latch and wakes its waiter. Touches nothing of l after the set
 * but a futex wake on its address (harmless if the frame is gone). */
SL_HIDDEN void sl__latch_set(sl__latch *l);

/* Waits until l is set. A worker helps with jobs of its region meanwhile;
 * a plain thread parks (blocking: counted as blocked in its own pool if it
 * is a worker of another pool; see install.c). */
SL_HIDDEN void sl__latch_wait(sl__latch *l, sl__op op, const void *obj);

/* Runs fn(arg) on a worker of `pool` and waits: the body of sl_install, and
 * how join/scope/loops enter the global pool from plain threads. */
SL_HIDDEN int sl__in_pool(struct sl_pool *pool, sl_fn fn, void *arg);

/* Runs fn(arg) on a worker: at once if the caller is one, else in the
 * global pool. Returns 0 or the global pool's creation error. */
SL_HIDDEN int sl__in_worker(sl_fn fn, void *arg);

/* A fresh isolation region tag (never 0). Every outermost entry into a pool
 * (install, a parallel call from outside, a spawn) and every sl_isolate
 * opens one, so a waiter never helps with another entry's jobs. */
SL_HIDDEN uintptr_t sl__new_region(void);

/* Internal join whose halves learn whether they were stolen (for adaptive
 * splitting). Caller must be a worker. */
typedef void (*sl__ctx_fn)(void *arg, bool migrated);
SL_HIDDEN void sl__join_ctx(sl__worker *w, sl__ctx_fn a, void *arg_a, sl__ctx_fn b, void *arg_b);

/* ---- registry (pool.c) --------------------------------------------------- */

/* Calls fn for every live pool under the registry lock. */
SL_HIDDEN void sl__pools_foreach(void (*fn)(struct sl_pool *p, void *arg), void *arg);

#endif /* SLUICE_POOL_H */
