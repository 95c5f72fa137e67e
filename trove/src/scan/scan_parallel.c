/* scan_parallel.c: the runner that puts trove's parallel loops
 * (trove_parallel_for, core.h) on sluice: the index build and multi-text
 * embeds run as sl_for jobs, on pool workers the stall detector sees.
 *
 * Each loop runs inside sl_isolate: a thread that waits for the loop's
 * tasks runs only those, never an unrelated job it could steal (a pipeline
 * stage's, say) while it holds what the loop's caller holds, such as the
 * vector index's write lock. The tasks are few (one per thread) and each
 * drains a shared counter, so grain 1 spreads them one per worker. */
#include "scan.h"

#include "sluice.h"

typedef struct loop_args {
  size_t n;
  trove_task_fn task;
  void *ctx;
  int rc;
} loop_args;

static void run_tasks(void *arg, size_t lo, size_t hi) {
  loop_args *a = arg;
  for (size_t i = lo; i < hi; i++)
    a->task(a->ctx, i);
}

static void run_loop(void *arg) {
  loop_args *a = arg;
  a->rc = sl_for(0, a->n, 1, run_tasks, a);
}

/* sl_isolate and sl_for fail only before any task runs (no pool could be
 * made, or bad arguments): the contract of a trove_runner_fn. */
static int sluice_runner(size_t n, trove_task_fn task, void *ctx) {
  loop_args a = {n, task, ctx, 0};
  int rc = sl_isolate(run_loop, &a);
  return rc ? rc : a.rc;
}

void trove_scan_use_sluice(void) {
  trove_parallel_set(sluice_runner);
}
