/* parallel.c: the parallel loop of trove's libraries (core.h). The runner
 * is one atomic pointer, read at each loop: installing it needs no lock and
 * a loop never sees half of it. */
#include "core.h"

#include <stdatomic.h>

static _Atomic(trove_runner_fn) runner;

void trove_parallel_set(trove_runner_fn fn) {
  atomic_store_explicit(&runner, fn, memory_order_release);
}

void trove_parallel_for(size_t n, trove_task_fn task, void *ctx) {
  trove_runner_fn fn = atomic_load_explicit(&runner, memory_order_acquire);
  if (fn && n > 1 && fn(n, task, ctx) == 0)
    return;
  for (size_t i = 0; i < n; i++)
    task(ctx, i);
}
