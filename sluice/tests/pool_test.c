/* pool_test.c: pools, join, scope, spawn, install, isolate and blocking
 * compensation: results against sequential ones, structure (deep nesting,
 * nested scopes, install across pools), bad input, fault injection, and a
 * randomized fork-join stress run. */
#include "check.h"
#include "sluice.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

/* ---- fib through sl_join ------------------------------------------------- */

typedef struct fib_arg {
  uint64_t n, r;
} fib_arg;

static void fib(void *p) {
  fib_arg *a = p;
  if (a->n < 2) {
    a->r = a->n;
    return;
  }
  fib_arg x = {a->n - 1, 0}, y = {a->n - 2, 0};
  CHECK(sl_join(fib, &x, fib, &y) == 0);
  a->r = x.r + y.r;
}

static uint64_t fib_seq(uint64_t n) { return n < 2 ? n : fib_seq(n - 1) + fib_seq(n - 2); }

static void run_fib(void *p) { fib(p); }

static void join_fib_matches_sequential_on_every_pool_size(void) {
  for (unsigned threads = 1; threads <= 4; threads++) {
    sl_pool *pool;
    CHECK(sl_pool_create(&pool, "fib", threads) == 0);
    for (uint64_t n = 0; n < 22; n += 3) {
      fib_arg a = {n, 0};
      CHECK(sl_install(pool, run_fib, &a) == 0);
      CHECK(a.r == fib_seq(n));
    }
    CHECK(sl_pool_destroy(pool) == 0);
  }
  fib_arg a = {20, 0}; /* from a plain thread: runs in the global pool */
  fib(&a);
  CHECK(a.r == 6765);
}

static void nop(void *p) { (void)p; }

typedef struct deep {
  int depth, reached;
} deep;

static void deep_join(void *p) {
  deep *d = p;
  if (d->depth == 0) {
    d->reached = 1;
    return;
  }
  deep next = {d->depth - 1, 0};
  sl_join(deep_join, &next, nop, NULL);
  d->reached = next.reached + 1;
}

static void join_nests_10000_deep_without_overflow(void) {
  sl_pool *pool;
  CHECK(sl_pool_create(&pool, "deep", 2) == 0);
  deep d = {10000, 0};
  CHECK(sl_install(pool, deep_join, &d) == 0);
  CHECK(d.reached == 10001);
  sl_pool_destroy(pool);
}

static void join_rejects_null_functions(void) {
  CHECK(sl_join(NULL, NULL, nop, NULL) == SL_EINVAL);
  CHECK(sl_join(nop, NULL, NULL, NULL) == SL_EINVAL);
  CHECK(sl_scope_run(NULL, NULL) == SL_EINVAL);
  CHECK(sl_spawn(NULL, NULL, NULL) == SL_EINVAL);
  CHECK(sl_install(NULL, nop, NULL) == SL_EINVAL);
  CHECK(sl_isolate(NULL, NULL) == SL_EINVAL);
  CHECK(sl_pool_spawn(NULL, nop, NULL) == SL_EINVAL);
}

/* ---- pools --------------------------------------------------------------- */

static void pool_create_rejects_bad_arguments(void) {
  sl_pool *pool = (sl_pool *)&pool;
  CHECK(sl_pool_create(NULL, "x", 1) == SL_EINVAL);
  CHECK(sl_pool_create(&pool, "x", SL_MAX_THREADS + 1) == SL_EINVAL && pool == NULL);
  CHECK(sl_pool_create(&pool, "x", 1000000) == SL_EINVAL);
  CHECK(sl_pool_destroy(NULL) == 0);
  CHECK(sl_pool_num_threads(NULL) == 0);
}

static void pool_create_fails_cleanly_when_a_thread_cannot_start(void) {
  for (long k = 0; k < 4; k++) {
    sl_pool *pool = NULL;
    sl_test_fail_thread_after(k);
    CHECK(sl_pool_create(&pool, "nothread", 4) == SL_EAGAIN && pool == NULL);
    CHECK(sl_test_fail_thread_after(-1) == 1);
  }
}

static void pool_create_survives_every_allocation_failure(void) {
  int rc = -1;
  long n;
  for (n = 0; rc != 0 && n < 100; n++) {
    sl_pool *pool = NULL;
    sl_test_fail_alloc_after(n);
    rc = sl_pool_create(&pool, "oom", 3);
    sl_test_fail_alloc_after(-1);
    CHECK(rc == 0 || (rc == SL_ENOMEM && pool == NULL));
    if (rc == 0)
      CHECK(sl_pool_destroy(pool) == 0);
  }
  CHECK(rc == 0 && n > 1);
}

typedef struct where {
  sl_pool *pool;
  int index;
  unsigned threads;
} where;

static void record_where(void *p) {
  where *w = p;
  w->pool = sl_current_pool();
  w->index = sl_current_worker_index();
  w->threads = sl_current_num_threads();
}

static void pool_queries_name_the_current_pool(void) {
  sl_pool *pool;
  CHECK(sl_pool_create(&pool, "queries", 3) == 0);
  CHECK(strcmp(sl_pool_name(pool), "queries") == 0 && sl_pool_num_threads(pool) == 3);
  where w = {0};
  CHECK(sl_install(pool, record_where, &w) == 0);
  CHECK(w.pool == pool && w.index >= 0 && w.threads == 3); /* an outside slot */
  CHECK(sl_current_pool() == NULL && sl_current_worker_index() == -1);
  CHECK(sl_pool_global() != NULL && sl_current_num_threads() >= 1);
  CHECK(sl_pool_destroy(sl_pool_global()) == SL_EBUSY);
  sl_pool_destroy(pool);
}

static void destroy_self(void *p) { *(int *)p = sl_pool_destroy(sl_current_pool()); }

static void pool_destroy_from_its_own_worker_is_busy(void) {
  sl_pool *pool;
  CHECK(sl_pool_create(&pool, "self", 2) == 0);
  int rc = 0;
  CHECK(sl_install(pool, destroy_self, &rc) == 0);
  CHECK(rc == SL_EBUSY);
  CHECK(sl_pool_destroy(pool) == 0);
}

static _Atomic int spawned_ran;

static void slow_increment(void *p) {
  (void)p;
  volatile uint64_t x = 0;
  for (int i = 0; i < 20000; i++)
    x += (uint64_t)i;
  atomic_fetch_add(&spawned_ran, 1);
}

static void pool_destroy_waits_for_queued_spawns(void) {
  sl_pool *pool;
  CHECK(sl_pool_create(&pool, "queued", 2) == 0);
  atomic_store(&spawned_ran, 0);
  for (int i = 0; i < 2000; i++)
    CHECK(sl_pool_spawn(pool, slow_increment, NULL) == 0);
  CHECK(sl_pool_destroy(pool) == 0);
  CHECK(atomic_load(&spawned_ran) == 2000);
  CHECK(sl_pool_create(&pool, "oom-spawn", 1) == 0);
  sl_test_fail_alloc_after(0);
  CHECK(sl_pool_spawn(pool, slow_increment, NULL) == SL_ENOMEM);
  sl_test_fail_alloc_after(-1);
  sl_pool_destroy(pool);
}

/* ---- scopes -------------------------------------------------------------- */

typedef struct counter {
  _Atomic long n;
  int depth;
} counter;

static void bump(sl_scope *s, void *p) {
  (void)s;
  atomic_fetch_add(&((counter *)p)->n, 1);
}

static void bump_many(sl_scope *s, void *p);

/* Levels of a spawn tree; they live in the scope opener's frame, which every
 * task may borrow (a task's own frame is gone when its children run). */
typedef struct level {
  counter *c;
  struct level *next; /* NULL at the leaves */
} level;

static void spawn_tree(sl_scope *s, void *p) {
  level *lv = p;
  atomic_fetch_add(&lv->c->n, 1);
  if (!lv->next)
    return;
  for (int i = 0; i < 3; i++)
    CHECK(sl_spawn(s, spawn_tree, lv->next) == 0);
  counter inner = {0, 0}; /* a nested scope inside a task */
  CHECK(sl_scope_run(bump_many, &inner) == 0);
  CHECK(atomic_load(&inner.n) == 10);
}

static void bump_many(sl_scope *s, void *p) {
  for (int i = 0; i < 10; i++)
    CHECK(sl_spawn(s, bump, p) == 0);
}

static void scope_waits_for_every_task_it_spawned(void) {
  counter c = {0, 0}; /* on this stack: tasks borrow it */
  CHECK(sl_scope_run(bump_many, &c) == 0);
  CHECK(atomic_load(&c.n) == 10);
  counter tree = {0, 0};
  level l3 = {&tree, NULL}, l2 = {&tree, &l3}, l1 = {&tree, &l2}, l0 = {&tree, &l1};
  CHECK(sl_scope_run(spawn_tree, &l0) == 0);
  CHECK(atomic_load(&tree.n) == 1 + 3 + 9 + 27);
}

static void spawn_one_failing(sl_scope *s, void *p) {
  sl_test_fail_alloc_after(0);
  *(int *)p = sl_spawn(s, bump, NULL);
  sl_test_fail_alloc_after(-1);
}

static void scope_reports_a_failed_spawn(void) {
  int spawn_rc = 0;
  CHECK(sl_scope_run(spawn_one_failing, &spawn_rc) == SL_ENOMEM);
  CHECK(spawn_rc == SL_ENOMEM);
}

static void scope_in_body(void *ctx, size_t lo, size_t hi) {
  counter *total = ctx;
  for (size_t i = lo; i < hi; i++) {
    counter c = {0, 0};
    CHECK(sl_scope_run(bump_many, &c) == 0);
    atomic_fetch_add(&total->n, atomic_load(&c.n));
  }
}

static void scopes_inside_parallel_loops(void) {
  counter total = {0, 0};
  CHECK(sl_for(0, 200, 1, scope_in_body, &total) == 0);
  CHECK(atomic_load(&total.n) == 2000);
}

/* ---- install across pools ------------------------------------------------ */

typedef struct chain {
  sl_pool *pools[3];
  int next;
  int ok;
} chain;

static void chain_step(void *p) {
  chain *c = p;
  sl_pool *here = sl_current_pool();
  if (here != c->pools[c->next - 1])
    c->ok = 0;
  fib_arg a = {15, 0};
  fib(&a); /* nested parallel work runs in the installed pool */
  if (a.r != 610 || sl_current_pool() != here)
    c->ok = 0;
  if (c->next < 3) {
    c->next++;
    CHECK(sl_install(c->pools[c->next - 1], chain_step, c) == 0);
    if (sl_current_pool() != here)
      c->ok = 0;
  }
}

static void install_nests_across_three_pools_both_ways(void) {
  sl_pool *a, *b, *c;
  CHECK(sl_pool_create(&a, "A", 1) == 0 && sl_pool_create(&b, "B", 2) == 0 &&
        sl_pool_create(&c, "C", 3) == 0);
  chain fwd = {{a, b, c}, 1, 1}, back = {{c, b, a}, 1, 1};
  CHECK(sl_install(a, chain_step, &fwd) == 0 && fwd.ok && fwd.next == 3);
  CHECK(sl_install(c, chain_step, &back) == 0 && back.ok && back.next == 3);
  sl_pool_destroy(a), sl_pool_destroy(b), sl_pool_destroy(c);
}

/* ---- isolation: Rayon #592 ----------------------------------------------- */

/* W0 holds an error-checking mutex across a join whose second half W1
 * steals and keeps busy; meanwhile outer jobs that take the same mutex are
 * queued on the pool. Waiting for W1, W0 helps. Without isolation it picks
 * up an outer job and re-locks the mutex on its own thread (EDEADLK here, a
 * deadlock with a normal mutex): Rayon #592. Inside sl_isolate it must not. */
typedef struct lock_case {
  pthread_mutex_t mu;
  _Atomic int relocks, outer_done, b_started;
  sl_pool *pool;
  bool isolate;
} lock_case;

static void outer_job(void *p) {
  lock_case *lc = p;
  if (pthread_mutex_lock(&lc->mu) == EDEADLK) {
    atomic_fetch_add(&lc->relocks, 1);
  } else {
    pthread_mutex_unlock(&lc->mu);
  }
  atomic_fetch_add(&lc->outer_done, 1);
}

static void half_a(void *p) {
  lock_case *lc = p;
  double give_up = check_now() + 5;
  while (!atomic_load(&lc->b_started) && check_now() < give_up)
    ;
  for (int i = 0; i < 8; i++)
    CHECK(sl_pool_spawn(lc->pool, outer_job, lc) == 0);
}

static void half_b(void *p) {
  lock_case *lc = p;
  atomic_store(&lc->b_started, 1);
  double until = check_now() + 0.05; /* keep W1 busy while W0 waits */
  while (check_now() < until)
    ;
}

static void locked_join(void *p) { sl_join(half_a, p, half_b, p); }

static void hold_lock_across_join(void *p) {
  lock_case *lc = p;
  CHECK(pthread_mutex_lock(&lc->mu) == 0);
  if (lc->isolate)
    CHECK(sl_isolate(locked_join, lc) == 0);
  else
    locked_join(lc);
  pthread_mutex_unlock(&lc->mu);
}

static int relocks_with(bool isolate) {
  lock_case lc = {.isolate = isolate};
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
  pthread_mutex_init(&lc.mu, &attr);
  CHECK(sl_pool_create(&lc.pool, "iso", 2) == 0);
  CHECK(sl_install(lc.pool, hold_lock_across_join, &lc) == 0);
  CHECK(sl_pool_destroy(lc.pool) == 0);
  CHECK(atomic_load(&lc.outer_done) == 8);
  pthread_mutex_destroy(&lc.mu);
  pthread_mutexattr_destroy(&attr);
  return atomic_load(&lc.relocks);
}

static void isolate_keeps_outer_jobs_off_a_lock_holder(void) {
  for (int round = 0; round < 5; round++)
    CHECK(relocks_with(true) == 0);
  /* The shape does provoke the bug without isolation (not asserted: it
   * depends on W1 stealing in time). */
  fprintf(stderr, "without sl_isolate: %d re-lock(s)\n", relocks_with(false));
}

/* ---- blocking compensation ----------------------------------------------- */

typedef struct gate {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int open;
  _Atomic int passed;
} gate;

static void wait_gate(sl_scope *s, void *p) {
  (void)s;
  gate *g = p;
  sl_blocking_begin("test gate");
  pthread_mutex_lock(&g->mu);
  while (!g->open)
    pthread_cond_wait(&g->cv, &g->mu);
  pthread_mutex_unlock(&g->mu);
  sl_blocking_end();
  atomic_fetch_add(&g->passed, 1);
}

static void open_gate(sl_scope *s, void *p) {
  (void)s;
  gate *g = p;
  pthread_mutex_lock(&g->mu);
  g->open = 1;
  pthread_cond_broadcast(&g->cv);
  pthread_mutex_unlock(&g->mu);
}

static void gate_scope(sl_scope *s, void *p) {
  /* More waiters than workers; the opener can only run on a spare. */
  for (int i = 0; i < 4; i++)
    sl_spawn(s, wait_gate, p);
  sl_spawn(s, open_gate, p);
}

static void run_gate_scope(void *p) { CHECK(sl_scope_run(gate_scope, p) == 0); }

static void blocked_workers_are_compensated(void) {
  for (unsigned threads = 1; threads <= 2; threads++) {
    sl_pool *pool;
    sl_pool_config cfg = {.name = "gate", .threads = threads, .max_spares = 8};
    CHECK(sl_pool_create_ex(&pool, &cfg) == 0);
    gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    CHECK(sl_install(pool, run_gate_scope, &g) == 0);
    CHECK(atomic_load(&g.passed) == 4);
    sl_pool_destroy(pool);
  }
}

/* ---- stress -------------------------------------------------------------- */

typedef struct stress {
  unsigned seed;
  int depth;
  uint64_t sum;
} stress;

static void stress_node(void *p);

static void stress_task(sl_scope *s, void *p) {
  (void)s;
  stress_node(p);
}

static void stress_sum_body(void *ctx, size_t lo, size_t hi) {
  _Atomic uint64_t *acc = ctx;
  uint64_t local = 0;
  for (size_t i = lo; i < hi; i++)
    local += i;
  atomic_fetch_add(acc, local);
}

static void spawn_pair(sl_scope *s, void *p);

/* A random tree of joins, scopes and loops; sum counts its leaves' weight,
 * which the sequential formula below predicts. */
static void stress_node(void *p) {
  stress *st = p;
  unsigned r = rand_r(&st->seed);
  if (st->depth <= 0) {
    st->sum = 1;
    return;
  }
  stress a = {r, st->depth - 1, 0}, b = {r * 7u + 1u, st->depth - 1, 0};
  switch (r % 3) {
  case 0:
    sl_join(stress_node, &a, stress_node, &b);
    break;
  case 1: {
    sl_scope_run(spawn_pair, (stress *[2]){&a, &b});
    break;
  }
  default: {
    _Atomic uint64_t acc = 0;
    sl_for(0, 100, 1 + r % 7, stress_sum_body, &acc);
    CHECK(atomic_load(&acc) == 4950);
    stress_node(&a);
    stress_node(&b);
  }
  }
  st->sum = a.sum + b.sum;
}

static void spawn_pair(sl_scope *s, void *p) {
  stress **pair = p;
  sl_spawn(s, stress_task, pair[0]);
  sl_spawn(s, stress_task, pair[1]);
}

static void stress_random_fork_join_for_seconds(void) {
  unsigned seed = (unsigned)check_seed("pool_test stress");
  sl_pool *pools[2];
  CHECK(sl_pool_create(&pools[0], "s1", 3) == 0 && sl_pool_create(&pools[1], "s2", 2) == 0);
  double end = check_now() + 3.0;
  int rounds = 0;
  while (check_now() < end) {
    stress st = {seed + (unsigned)rounds, 10, 0};
    CHECK(sl_install(pools[rounds % 2], stress_node, &st) == 0);
    CHECK(st.sum == 1024);
    rounds++;
  }
  fprintf(stderr, "stress: %d rounds\n", rounds);
  CHECK(rounds > 0);
  sl_pool_destroy(pools[0]), sl_pool_destroy(pools[1]);
}

int main(void) {
  RUN(join_fib_matches_sequential_on_every_pool_size);
  RUN(join_nests_10000_deep_without_overflow);
  RUN(join_rejects_null_functions);
  RUN(pool_create_rejects_bad_arguments);
  RUN(pool_create_fails_cleanly_when_a_thread_cannot_start);
  RUN(pool_create_survives_every_allocation_failure);
  RUN(pool_queries_name_the_current_pool);
  RUN(pool_destroy_from_its_own_worker_is_busy);
  RUN(pool_destroy_waits_for_queued_spawns);
  RUN(scope_waits_for_every_task_it_spawned);
  RUN(scope_reports_a_failed_spawn);
  RUN(scopes_inside_parallel_loops);
  RUN(install_nests_across_three_pools_both_ways);
  RUN(isolate_keeps_outer_jobs_off_a_lock_holder);
  RUN(blocked_workers_are_compensated);
  RUN(stress_random_fork_join_for_seconds);
  return check_done("pool_test");
}
