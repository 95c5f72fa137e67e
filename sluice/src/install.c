/* install.c: running work inside a given pool: sl_install, sl_pool_spawn,
 * and the path by which join, scope and loops called from a plain thread
 * enter the global pool.
 *
 * AN OUTSIDE THREAD (no pool's worker) does not hand fn to a worker and
 * sleep: it takes one of the pool's external slots and runs fn itself, as a
 * member of the pool, with a deque of its own that the workers steal from.
 * This is TBB's implicit arena, and it is why a pipeline whose stage runs a
 * parallel loop cannot stall here even at the compensation cap: the stage
 * thread's loop always has at least that thread to run it, whatever the
 * pool's workers are blocked on. Only when all SL_EXTERNAL_SLOTS slots are taken does the
 * caller inject fn and wait.
 *
 * Each such entry, and each injected job, is a root with an isolation
 * region of its own (sl__new_region), so a thread waiting inside one root
 * never helps with another's jobs: stage 3 waiting for its loop must not
 * pick up a stage 2 body that blocks on the channel only stage 3 drains.
 *
 * Injected jobs and external visits are counted in pool->pending until they
 * finish, so that sl_pool_destroy can wait for them. An install's job lives on the caller's
 * stack, which the caller keeps alive by waiting on its latch; a spawn's job
 * is a heap block the job frees itself.
 *
 * INSTALL FROM A WORKER OF ANOTHER POOL parks the caller as a blocked worker
 * (latch_wait_parked in join.c with blocking = true): its pool compensates,
 * and the caller never runs its own pool's jobs on top of the install, which
 * is how Rayon's help-while-waiting grows stacks and deadlocks (#765, #819,
 * #1105). Two pools installing into each other therefore cannot deadlock as
 * long as each has spares left. */
#include "pool.h"

static void pending_add(sl_pool *pool) {
  atomic_fetch_add_explicit(&pool->pending, 1, memory_order_relaxed);
}

static void pending_done(sl_pool *pool) {
  /* acq_rel: destroy's acquire load of pending sees the job's effects. */
  if (atomic_fetch_sub_explicit(&pool->pending, 1, memory_order_acq_rel) == 1) {
    atomic_fetch_add_explicit(&pool->pending_word, 1, memory_order_release);
    sl__wake(&pool->pending_word, INT32_MAX);
  }
}

typedef struct install_job {
  sl__job job;
  sl_fn fn;
  void *arg;
  sl_pool *pool;
  uintptr_t shown; /* fn for stall reports when it is the user's, else 0 */
  sl__latch latch;
} install_job;

static void install_run(sl__job *job, bool migrated) {
  (void)migrated;
  install_job *j = (install_job *)job;
  sl_pool *pool = j->pool; /* the frame may be gone after the set */
  sl__thread *t = sl__self();
  uintptr_t prev = sl__fn_enter(t, j->shown);
  j->fn(j->arg);
  sl__fn_leave(t, prev);
  sl__latch_set(&j->latch);
  pending_done(pool);
}

/* Takes a free external slot of the pool, or NULL when all are in use. */
static sl__worker *claim_external(sl_pool *pool) {
  for (unsigned i = 0; i < SL_EXTERNAL_SLOTS; i++) {
    sl__worker *x = sl__external_slot(pool, i);
    bool free_slot = false;
    /* acq_rel: the previous holder's release store hands over an empty
     * deque and a quiet sleep word. */
    if (atomic_compare_exchange_strong_explicit(&x->active, &free_slot, true,
                                                memory_order_acq_rel, memory_order_relaxed))
      return x;
  }
  return NULL;
}

/* Runs fn on the calling (outside) thread as a member of the pool. */
static void run_as_external(sl__thread *t, sl__worker *x, sl_fn fn, void *arg, uintptr_t shown) {
  sl_pool *pool = x->pool;
  uintptr_t saved_region = t->region;
  pending_add(pool);
  x->self = t;
  t->worker = x;
  t->region = sl__new_region();
  atomic_store_explicit(&t->pool, pool, memory_order_relaxed);
  atomic_store_explicit(&t->worker_index, (int)x->index, memory_order_relaxed);
  sl__members_awake_add(1);
  uintptr_t prev = sl__fn_enter(t, shown);
  fn(arg);
  sl__fn_leave(t, prev);
  sl__members_awake_add(-1);
  atomic_store_explicit(&t->worker_index, -1, memory_order_relaxed);
  atomic_store_explicit(&t->pool, NULL, memory_order_relaxed);
  t->worker = NULL;
  t->region = saved_region;
  /* Release: hand the slot (its deque now empty) to the next claimant. */
  atomic_store_explicit(&x->active, false, memory_order_release);
  pending_done(pool);
}

/* sl__in_pool; `shown` is fn as stall reports name it (0: an internal
 * wrapper, not worth naming). */
static int in_pool(sl_pool *pool, sl_fn fn, void *arg, uintptr_t shown) {
  sl__thread *t = sl__self();
  sl__worker *w = t->worker;
  if (w && w->pool == pool) {
    uintptr_t prev = sl__fn_enter(t, shown);
    fn(arg);
    sl__fn_leave(t, prev);
    return 0;
  }
  if (!w) {
    sl__worker *x = claim_external(pool);
    if (x) {
      run_as_external(t, x, fn, arg, shown);
      return 0;
    }
  }
  install_job j = {.job = {.run = install_run, .tag = sl__new_region()}, .fn = fn, .arg = arg,
                   .pool = pool, .shown = shown};
  sl__latch_init(&j.latch, NULL);
  pending_add(pool);
  sl__inject(pool, &j.job);
  sl__latch_wait(&j.latch, SL_OP_INSTALL, pool);
  return 0;
}

int sl__in_pool(sl_pool *pool, sl_fn fn, void *arg) { return in_pool(pool, fn, arg, 0); }

int sl__in_worker(sl_fn fn, void *arg) {
  if (sl__current_worker()) {
    fn(arg);
    return 0;
  }
  sl_pool *g = sl_pool_global();
  return g ? sl__in_pool(g, fn, arg) : sl__global_error();
}

int sl_install(sl_pool *pool, sl_fn fn, void *arg) {
  if (!pool || !fn)
    return SL_EINVAL;
  return in_pool(pool, fn, arg, (uintptr_t)fn);
}

typedef struct spawn_job {
  sl__job job;
  sl_fn fn;
  void *arg;
  sl_pool *pool;
} spawn_job;

static void pool_spawn_run(sl__job *job, bool migrated) {
  (void)migrated;
  spawn_job *j = (spawn_job *)job;
  sl_fn fn = j->fn;
  void *arg = j->arg;
  sl_pool *pool = j->pool;
  sl__free(j);
  sl__thread *t = sl__self();
  uintptr_t prev = sl__fn_enter(t, (uintptr_t)fn);
  fn(arg);
  sl__fn_leave(t, prev);
  pending_done(pool);
}

int sl_pool_spawn(sl_pool *pool, sl_fn fn, void *arg) {
  if (!pool || !fn)
    return SL_EINVAL;
  spawn_job *j = sl__malloc(sizeof *j);
  if (!j)
    return SL_ENOMEM;
  *j = (spawn_job){.job = {.run = pool_spawn_run, .tag = sl__new_region()}, .fn = fn, .arg = arg,
                   .pool = pool};
  pending_add(pool);
  /* Always the injector, even from a worker of this pool: a fire-and-forget
   * job must not sit on the spawner's deque (see the invariant in join.c). */
  sl__inject(pool, &j->job);
  return 0;
}
