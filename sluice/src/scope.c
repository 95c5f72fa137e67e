/* scope.c: sl_scope_run and sl_spawn. A scope counts its open tasks (1 for the
 * body, plus one per spawn not yet finished); the count reaching 0 sets the
 * scope's latch, which the thread that opened the scope waits on, helping
 * meanwhile (join.c). Tasks may therefore borrow the opener's stack.
 *
 * A task's job is a heap block (a task outlives the spawn call), freed by
 * the job itself before it runs the task. Its isolation tag is the scope's,
 * not the spawner's, so the scope's waiter can always run its own pending
 * tasks, even ones spawned from inside a nested sl_isolate. */
#include "pool.h"

struct sl_scope {
  sl_pool *pool;
  _Atomic size_t open;  /* body + unfinished tasks */
  _Atomic int err;      /* first spawn error, 0 if none */
  uintptr_t tag;
  sl__latch latch;
};

typedef struct task_job {
  sl__job job;
  sl_scope *scope;
  sl_scope_fn fn;
  void *arg;
} task_job;

static void close_one(sl_scope *s) {
  /* acq_rel: the last closer sees every task's effects and publishes them
   * through the latch. */
  if (atomic_fetch_sub_explicit(&s->open, 1, memory_order_acq_rel) == 1)
    sl__latch_set(&s->latch);
}

static void task_run(sl__job *job, bool migrated) {
  (void)migrated;
  task_job *tj = (task_job *)job;
  sl_scope *s = tj->scope;
  sl_scope_fn fn = tj->fn;
  void *arg = tj->arg;
  sl__free(tj);
  fn(s, arg);
  close_one(s);
}

static void record_error(sl_scope *s, int err) {
  int none = 0;
  atomic_compare_exchange_strong_explicit(&s->err, &none, err, memory_order_relaxed,
                                          memory_order_relaxed);
}

int sl_spawn(sl_scope *s, sl_scope_fn fn, void *arg) {
  if (!s || !fn)
    return SL_EINVAL;
  task_job *tj = sl__malloc(sizeof *tj);
  if (!tj) {
    record_error(s, SL_ENOMEM);
    return SL_ENOMEM;
  }
  *tj = (task_job){.job = {.run = task_run, .tag = s->tag}, .scope = s, .fn = fn, .arg = arg};
  atomic_fetch_add_explicit(&s->open, 1, memory_order_relaxed);
  sl__worker *w = sl__current_worker();
  if (!w || w->pool != s->pool || sl__push_local(w, &tj->job))
    sl__inject(s->pool, &tj->job);
  return 0;
}

typedef struct scope_args {
  sl_scope_fn fn;
  void *arg;
  int rc;
} scope_args;

static void scope_in_worker(void *p) {
  scope_args *sa = p;
  sl__worker *w = sl__current_worker();
  sl_scope s = {.pool = w->pool, .tag = w->self->region};
  atomic_init(&s.open, 1);
  atomic_init(&s.err, 0);
  sl__latch_init(&s.latch, w);
  sa->fn(&s, sa->arg);
  close_one(&s);
  sl__latch_wait(&s.latch, SL_OP_JOIN, w->pool);
  sa->rc = atomic_load_explicit(&s.err, memory_order_relaxed);
}

int sl_scope_run(sl_scope_fn fn, void *arg) {
  if (!fn)
    return SL_EINVAL;
  scope_args sa = {fn, arg, 0};
  int rc = sl__in_worker(scope_in_worker, &sa);
  return rc ? rc : sa.rc;
}
