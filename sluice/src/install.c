/* install.c: running work inside a given pool: sl_install, sl_pool_spawn,
 * and the path by which join, scope and loops called from a plain thread
 * enter the global pool.
 *
 * Injected jobs are counted in pool->pending until they finish, so that
 * sl_pool_destroy can wait for them. An install's job lives on the caller's
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
  sl__latch latch;
} install_job;

static void install_run(sl__job *job, bool migrated) {
  (void)migrated;
  install_job *j = (install_job *)job;
  sl_pool *pool = j->pool; /* the frame may be gone after the set */
  j->fn(j->arg);
  sl__latch_set(&j->latch);
  pending_done(pool);
}

int sl__in_pool(sl_pool *pool, sl_fn fn, void *arg) {
  sl__worker *w = sl__current_worker();
  if (w && w->pool == pool) {
    fn(arg);
    return 0;
  }
  install_job j = {.job = {.run = install_run, .tag = 0}, .fn = fn, .arg = arg, .pool = pool};
  sl__latch_init(&j.latch, NULL);
  pending_add(pool);
  sl__inject(pool, &j.job);
  sl__latch_wait(&j.latch, SL_OP_INSTALL, pool);
  return 0;
}

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
  return sl__in_pool(pool, fn, arg);
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
  fn(arg);
  pending_done(pool);
}

int sl_pool_spawn(sl_pool *pool, sl_fn fn, void *arg) {
  if (!pool || !fn)
    return SL_EINVAL;
  spawn_job *j = sl__malloc(sizeof *j);
  if (!j)
    return SL_ENOMEM;
  *j = (spawn_job){.job = {.run = pool_spawn_run, .tag = 0}, .fn = fn, .arg = arg, .pool = pool};
  pending_add(pool);
  /* Always the injector, even from a worker of this pool: a fire-and-forget
   * job must not sit on the spawner's deque (see the invariant in join.c). */
  sl__inject(pool, &j->job);
  return 0;
}
