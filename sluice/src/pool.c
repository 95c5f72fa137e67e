/* pool.c: work-stealing thread pools: creation, the worker loop, finding
 * work, injection from outside, destruction, and the global pool.
 *
 * HOW IT WORKS. Each worker owns a Chase-Lev deque (deque.c). Work made by a
 * worker (the second half of a join, a scope's spawn) goes on its own deque;
 * work from any other thread goes on the pool's injector, a locked FIFO. A
 * worker looks for work in its own deque (newest first), then steals the
 * oldest job of another worker (starting at a random victim, so thieves do
 * not gang up on worker 0), then takes from the injector. With nothing to
 * do it spins for a few rounds and then sleeps (sleep.c).
 *
 * Waking. A push loads one counter (n_idle) and wakes one listed sleeper
 * that can run the job when it is non-zero; when it is zero it loads a
 * second (blocked) and compensates if workers are blocked, so a busy pool
 * pays two loads per push and no fence. The price, as in Rayon: a push
 * that races with a worker falling asleep may leave that worker asleep.
 * The job is not lost, since it sits in the pusher's own deque and the
 * pusher runs it, or wakes someone when it later waits or blocks (both
 * paths are fenced); only parallelism can be lost for a while. Injection
 * is fenced and never loses a wake-up.
 *
 * Compensation (the promise Rayon breaks). A worker in a blocking wait
 * (channel, install into another pool, sl_blocking_begin) is counted in
 * `blocked`. The pool keeps live - blocked >= nthreads: when a worker
 * blocks while work is visible, or work is injected or pushed while the
 * pool is short with no sleeper to wake, it revives a retired spare or
 * starts a new one, up to max_threads. A worker that finds the pool over
 * strength (after blocked ones came back) retires at its next idle moment
 * or between top-level jobs. See sleep.c.
 *
 * Continuations (cont.c). In a pool created with them, a job that waits on
 * a channel is suspended on its own stack instead of blocking its worker,
 * which goes on with other jobs; it never counts as blocked, so no spare
 * starts for it. The worker loop resumes woken jobs between two jobs.
 *
 * Threads: every function is safe from any thread unless marked "owner". */
#include "pool.h"

#include "cont.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <unistd.h>

#define DEFAULT_STACK ((size_t)8 << 20) /* 8 MiB, as glibc's default */
#define DEQUE_LOG2CAP 8                  /* 256 jobs before the first grow */

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER; /* guards reg_head */
static sl_pool *reg_head;

/* ---- finding work -------------------------------------------------------- */

bool sl__work_visible(sl_pool *pool) {
  /* seq_cst: the second half of the Dekker checks in sl__inject's callers. */
  if (atomic_load_explicit(&pool->inj_len, memory_order_seq_cst))
    return true;
  unsigned n = atomic_load_explicit(&pool->started, memory_order_acquire);
  for (unsigned i = 0; i < n; i++)
    if (sl__deque_maybe_nonempty(&pool->workers[i].deque))
      return true;
  for (unsigned i = 0; i < SL_EXTERNAL_SLOTS; i++) {
    sl__worker *x = sl__external_slot(pool, i);
    if (atomic_load_explicit(&x->active, memory_order_seq_cst) &&
        sl__deque_maybe_nonempty(&x->deque))
      return true;
  }
  return false;
}

static sl__job *take_injected(sl_pool *pool, bool filter, uintptr_t tag) {
  if (!atomic_load_explicit(&pool->inj_len, memory_order_relaxed))
    return NULL;
  pthread_mutex_lock(&pool->inj_lock);
  sl__job *prev = NULL, *job = pool->inj_head;
  while (job && filter && job->tag != tag) {
    prev = job;
    job = job->next;
  }
  if (job) {
    if (prev)
      prev->next = job->next;
    else
      pool->inj_head = job->next;
    if (pool->inj_tail == job)
      pool->inj_tail = prev;
    atomic_fetch_sub_explicit(&pool->inj_len, 1, memory_order_relaxed);
  }
  pthread_mutex_unlock(&pool->inj_lock);
  return job;
}

static sl__job *steal_from(sl__deque *d, bool filter, uintptr_t tag) {
  for (int tries = 0; tries < 4; tries++) {
    sl__job *job;
    sl__steal_rc rc = sl__deque_steal(d, &job, filter, tag);
    if (rc == SL_STEAL_OK)
      return job;
    if (rc != SL_STEAL_RETRY)
      break;
  }
  return NULL;
}

/* Outside threads running in the pool push their jobs on external slots;
 * workers steal those after their fellow workers' (relaxed: an inactive
 * slot has an empty deque, so a stale flag only costs one look). */
static sl__job *steal_external(sl__worker *w, bool filter, uintptr_t tag) {
  for (unsigned i = 0; i < SL_EXTERNAL_SLOTS; i++) {
    sl__worker *x = sl__external_slot(w->pool, i);
    if (x == w || !atomic_load_explicit(&x->active, memory_order_relaxed))
      continue;
    sl__job *job = steal_from(&x->deque, filter, tag);
    if (job)
      return job;
  }
  return NULL;
}

static sl__job *steal_any(sl__worker *w, bool filter, uintptr_t tag) {
  sl_pool *pool = w->pool;
  unsigned n = atomic_load_explicit(&pool->started, memory_order_acquire);
  sl__job *job = steal_external(w, filter, tag);
  if (job || n == 0)
    return job;
  unsigned start = sl__rand_below(w->self, n);
  for (unsigned k = 0; k < n; k++) {
    unsigned v = start + k < n ? start + k : start + k - n;
    if (v == w->index)
      continue;
    if ((job = steal_from(&pool->workers[v].deque, filter, tag)))
      return job;
  }
  return NULL;
}

sl__job *sl__find_work(sl__worker *w, bool filter, uintptr_t tag, bool *migrated) {
  sl__job *job = sl__deque_pop(&w->deque);
  if (job) {
    if (!filter || job->tag == tag) {
      *migrated = false;
      return job;
    }
    /* Not ours to run here: put it back (owner push cannot fail, the slot
     * was just freed). */
    (void)sl__deque_push(&w->deque, job);
  }
  *migrated = true;
  job = steal_any(w, filter, tag);
  return job ? job : take_injected(w->pool, filter, tag);
}

void sl__inject(sl_pool *pool, sl__job *job) {
  uintptr_t tag = job->tag; /* once queued, a worker may run and free the job */
  job->next = NULL;
  pthread_mutex_lock(&pool->inj_lock);
  if (pool->inj_tail)
    pool->inj_tail->next = job;
  else
    pool->inj_head = job;
  pool->inj_tail = job;
  /* seq_cst, with the seq_cst load of n_idle below: a Dekker pair with a
   * sleeper's seq_cst n_idle++ then inj_len load (sleep.c), and with the
   * seq_cst blocked++ then work check of sl__pool_worker_blocked. Either
   * they see the job, or we see them. */
  atomic_fetch_add_explicit(&pool->inj_len, 1, memory_order_seq_cst);
  pthread_mutex_unlock(&pool->inj_lock);
  if (!atomic_load_explicit(&pool->n_idle, memory_order_seq_cst) || !sl__wake_one(pool, tag))
    sl__compensate(pool);
}

/* ---- the worker --------------------------------------------------------- */

bool sl__idle_backoff(int round) {
  if (round < SL_SPIN_ROUNDS) {
    for (int i = 0; i < (2 << round); i++)
      sl__cpu_relax();
    return true;
  }
  if (round < SL_SPIN_ROUNDS + SL_YIELD_ROUNDS) {
    sched_yield();
    return true;
  }
  return false;
}

/* With continuations, woken suspended jobs go first at each point between
 * jobs, and end an idle spell at once. */
void sl__worker_loop(sl__worker *w) {
  sl_pool *pool = w->pool;
  sl__thread *t = w->self;
  bool idle = false; /* traced IDLE, and no WORK since */
  for (;;) {
    if (w->conts)
      sl__cont_between_jobs(w);
    bool migrated;
    sl__job *job = sl__find_work(w, false, 0, &migrated);
    if (!job && !idle) {
      sl__trace(SL_TRACE_IDLE, pool, NULL);
      idle = true;
    }
    for (int round = 0; !job && sl__idle_backoff(round); round++) {
      if (atomic_load_explicit(&pool->stop, memory_order_acquire))
        return;
      if (w->conts && sl__cont_any_ready(w))
        break;
      job = sl__find_work(w, false, 0, &migrated);
    }
    if (job) {
      if (idle) {
        sl__trace(SL_TRACE_WORK, pool, NULL);
        idle = false;
      }
      sl__run_job(t, job, migrated);
      atomic_fetch_add_explicit(&pool->jobs_done, 1, memory_order_relaxed);
      continue;
    }
    if (w->conts && sl__cont_any_ready(w))
      continue;
    if (atomic_load_explicit(&pool->stop, memory_order_acquire))
      return;
    if (sl__maybe_retire(w))
      continue;
    /* A new idle episode: re-arm the sleep word before park_worker lists us
     * and checks for work (sleep.c). Left at 1 from the wake that ended the
     * last episode, it would make every later park return at once, and the
     * idle worker would spin on sched_yield for good. Relaxed: the listing
     * under sleep_lock orders it before any waker's store of 1. */
    atomic_store_explicit(&w->sleep_word, 0, memory_order_relaxed);
    sl__park_worker(w, 0, NULL, NULL, SL_OP_IDLE, pool);
  }
}

static void *worker_main(void *arg) {
  sl__worker *w = arg;
  sl__thread *t = sl__self();
  char name[16];
  snprintf(name, sizeof name, "%.10s-%u", w->pool->name, w->index);
  pthread_setname_np(pthread_self(), name);
  w->self = t;
  t->worker = w;
  t->region = 0;
  atomic_store_explicit(&t->pool, w->pool, memory_order_relaxed);
  atomic_store_explicit(&t->worker_index, (int)w->index, memory_order_relaxed);
  sl__members_awake_add(1);
  sl__cont_worker_start(w);
  sl__worker_loop(w);
  sl__cont_worker_end(w);
  sl__members_awake_add(-1);
  atomic_store_explicit(&t->worker_index, -1, memory_order_relaxed);
  atomic_store_explicit(&t->pool, NULL, memory_order_relaxed);
  t->worker = NULL;
  return NULL;
}

int sl__start_worker(sl_pool *pool, unsigned i) {
  sl__worker *w = &pool->workers[i];
  if (sl__thread_create_should_fail())
    return SL_EAGAIN;
  pthread_attr_t attr;
  if (pthread_attr_init(&attr))
    return SL_EAGAIN;
  int rc = pthread_attr_setstacksize(&attr, pool->stack_size);
  if (!rc)
    rc = pthread_create(&w->thread, &attr, worker_main, w);
  pthread_attr_destroy(&attr);
  if (rc)
    return SL_EAGAIN;
  w->thread_started = true;
  return 0;
}

/* ---- lifecycle ---------------------------------------------------------- */

unsigned sl__online_cpus(void) {
  static _Atomic unsigned cached; /* 0: not read yet. Relaxed: racing readers agree */
  unsigned n = atomic_load_explicit(&cached, memory_order_relaxed);
  if (n == 0) {
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    n = c > 0 ? (unsigned)c : 1;
    atomic_store_explicit(&cached, n, memory_order_relaxed);
  }
  return n;
}

static void registry_add(sl_pool *p) {
  pthread_mutex_lock(&reg_lock);
  p->reg_prev = NULL;
  p->reg_next = reg_head;
  if (reg_head)
    reg_head->reg_prev = p;
  reg_head = p;
  pthread_mutex_unlock(&reg_lock);
}

static void registry_remove(sl_pool *p) {
  pthread_mutex_lock(&reg_lock);
  if (p->reg_prev)
    p->reg_prev->reg_next = p->reg_next;
  else
    reg_head = p->reg_next;
  if (p->reg_next)
    p->reg_next->reg_prev = p->reg_prev;
  pthread_mutex_unlock(&reg_lock);
}

void sl__pools_foreach(void (*fn)(sl_pool *p, void *arg), void *arg) {
  pthread_mutex_lock(&reg_lock);
  for (sl_pool *p = reg_head; p; p = p->reg_next)
    fn(p, arg);
  pthread_mutex_unlock(&reg_lock);
}

/* Stops every started thread and frees the pool. For destroy and for a
 * creation that failed half way. */
static void teardown(sl_pool *pool) {
  atomic_store_explicit(&pool->stop, true, memory_order_release);
  for (unsigned i = 0; i < pool->max_threads; i++) {
    sl__worker *w = &pool->workers[i];
    atomic_store_explicit(&w->sleep_word, 1, memory_order_release);
    sl__wake(&w->sleep_word, 1);
  }
  for (unsigned i = 0; i < pool->max_threads; i++)
    if (pool->workers[i].thread_started)
      pthread_join(pool->workers[i].thread, NULL);
  for (unsigned i = 0; i < pool->max_threads + SL_EXTERNAL_SLOTS; i++)
    sl__deque_free(&pool->workers[i].deque);
  pthread_mutex_destroy(&pool->inj_lock);
  pthread_mutex_destroy(&pool->sleep_lock);
  sl__free(pool->workers);
  sl__free(pool);
}

static unsigned spares_for(const sl_pool_config *cfg, unsigned n) {
  if (cfg->max_spares == SL_NO_SPARES)
    return 0;
  unsigned spares = cfg->max_spares ? cfg->max_spares : (n > 4 ? n : 4);
  return spares > SL_MAX_THREADS - n ? SL_MAX_THREADS - n : spares;
}

static sl_pool *pool_alloc(const sl_pool_config *cfg, unsigned n) {
  sl_pool *pool = sl__calloc(1, sizeof *pool);
  if (!pool)
    return NULL;
  snprintf(pool->name, sizeof pool->name, "%s", cfg->name ? cfg->name : "pool");
  pool->continuations = cfg->continuations;
  pool->nthreads = n;
  pool->max_threads = n + spares_for(cfg, n);
  pool->stack_size = cfg->stack_size ? cfg->stack_size : DEFAULT_STACK;
  unsigned slots = pool->max_threads + SL_EXTERNAL_SLOTS;
  pool->workers = sl__aligned_alloc(SL_CACHELINE, slots * sizeof(sl__worker));
  if (!pool->workers)
    goto out_free_pool;
  memset(pool->workers, 0, slots * sizeof(sl__worker));
  unsigned i;
  for (i = 0; i < slots; i++) {
    pool->workers[i].pool = pool;
    pool->workers[i].index = i;
    pool->workers[i].external = i >= pool->max_threads;
    if (sl__deque_init(&pool->workers[i].deque, DEQUE_LOG2CAP))
      goto out_free_deques;
  }
  pthread_mutex_init(&pool->inj_lock, NULL);
  pthread_mutex_init(&pool->sleep_lock, NULL);
  return pool;

out_free_deques:
  while (i-- > 0)
    sl__deque_free(&pool->workers[i].deque);
  sl__free(pool->workers);
out_free_pool:
  sl__free(pool);
  return NULL;
}

int sl_pool_create_ex(sl_pool **out, const sl_pool_config *cfg) {
  static const sl_pool_config defaults = {0};
  if (!out)
    return SL_EINVAL;
  sl__watchdog_from_env();
  *out = NULL;
  if (!cfg)
    cfg = &defaults;
  if (cfg->threads > SL_MAX_THREADS)
    return SL_EINVAL;
  unsigned n = cfg->threads ? cfg->threads : sl__online_cpus();
  if (n > SL_MAX_THREADS)
    n = SL_MAX_THREADS;
  sl_pool *pool = pool_alloc(cfg, n);
  if (!pool)
    return SL_ENOMEM;
  for (unsigned i = 0; i < n; i++) {
    pool->workers[i].slot_state = SLOT_RUNNING;
    atomic_store_explicit(&pool->live, i + 1, memory_order_relaxed);
    /* Release: a thief that reads `started` sees an initialized slot. */
    atomic_store_explicit(&pool->started, i + 1, memory_order_release);
    if (sl__start_worker(pool, i)) {
      pool->workers[i].slot_state = SLOT_EMPTY;
      atomic_store_explicit(&pool->live, i, memory_order_relaxed);
      teardown(pool);
      return SL_EAGAIN;
    }
  }
  registry_add(pool);
  *out = pool;
  return 0;
}

int sl_pool_create(sl_pool **out, const char *name, unsigned threads) {
  sl_pool_config cfg = {.name = name, .threads = threads};
  return sl_pool_create_ex(out, &cfg);
}

static sl_pool *global_pool;
static int global_err;
static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void make_global(void) {
  const char *env = getenv("SLUICE_THREADS");
  long n = env ? strtol(env, NULL, 10) : 0;
  if (n < 0 || n > SL_MAX_THREADS)
    n = 0;
  const char *conts = getenv("SLUICE_CONTINUATIONS");
  sl_pool_config cfg = {.name = "global", .threads = (unsigned)n,
                        .continuations = conts && strcmp(conts, "1") == 0};
  global_err = sl_pool_create_ex(&global_pool, &cfg);
}

sl_pool *sl_pool_global(void) {
  pthread_once(&global_once, make_global);
  return global_pool;
}

int sl__global_error(void) { return global_err ? global_err : SL_ENOMEM; }

int sl_pool_destroy(sl_pool *pool) {
  if (!pool)
    return 0;
  sl__worker *w = sl__current_worker();
  if ((w && w->pool == pool) || pool == global_pool)
    return SL_EBUSY;
  /* Wait for spawned and installed work. Acquire: see what it did. */
  for (;;) {
    uint32_t seen = atomic_load_explicit(&pool->pending_word, memory_order_acquire);
    if (atomic_load_explicit(&pool->pending, memory_order_acquire) == 0)
      break;
    sl__wait(&pool->pending_word, seen, SL_OP_JOIN, pool, w != NULL, -1);
  }
  registry_remove(pool);
  teardown(pool);
  return 0;
}

/* ---- queries ------------------------------------------------------------ */

sl_pool *sl_current_pool(void) {
  sl__worker *w = sl__current_worker();
  return w ? w->pool : NULL;
}

int sl_current_worker_index(void) {
  sl__worker *w = sl__current_worker();
  return w ? (int)w->index : -1;
}

unsigned sl_current_num_threads(void) {
  sl__worker *w = sl__current_worker();
  if (w)
    return w->pool->nthreads;
  sl_pool *g = sl_pool_global();
  return g ? g->nthreads : 0;
}

unsigned sl_pool_num_threads(const sl_pool *pool) { return pool ? pool->nthreads : 0; }

const char *sl_pool_name(const sl_pool *pool) { return pool ? pool->name : ""; }

/* ---- blocking hooks ------------------------------------------------------ */

void sl__pool_worker_blocked(sl__worker *w) {
  sl_pool *pool = w->pool;
  if (w->external) /* an outside thread: not one of the pool's strength */
    return;
  /* seq_cst: pairs with the fence in sl__inject (see there). */
  unsigned blocked = atomic_fetch_add_explicit(&pool->blocked, 1, memory_order_seq_cst) + 1;
  unsigned live = atomic_load_explicit(&pool->live, memory_order_seq_cst);
  if (live - blocked < pool->nthreads && sl__work_visible(pool))
    sl__compensate(pool);
}

void sl__pool_worker_unblocked(sl__worker *w) {
  if (w->external)
    return;
  /* Surplus workers retire on their own (sl__maybe_retire). */
  atomic_fetch_sub_explicit(&w->pool->blocked, 1, memory_order_seq_cst);
}
