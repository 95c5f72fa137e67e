/* bench_fib.c: W1, fib(32) with a join at every call n >= 2: fib(n-1) is
 * made stealable, fib(n-2) runs in the caller (../shared/peers/README.md). */
#include "bench.h"

#include <sluice.h>

#define FIB_N 32
#define FIB_JOINS 3524577.0

typedef struct fib_arg {
  uint64_t n, r;
} fib_arg;

static void fib(void *p) {
  fib_arg *a = p;
  if (a->n < 2) {
    a->r = a->n;
    return;
  }
  fib_arg x = {a->n - 2, 0}, y = {a->n - 1, 0};
  sl_join(fib, &x, fib, &y);
  a->r = x.r + y.r;
}

typedef struct fib_run {
  sl_pool *pool;
  bool caller; /* the bench thread takes part (variant "caller") */
  uint64_t result;
} fib_run;

static void fib_root(void *p) {
  fib_run *run = p;
  fib_arg a = {FIB_N, 0};
  fib(&a);
  run->result = a.r;
}

static double fib_once(void *p) {
  fib_run *run = p;
  double t0 = bench_now();
  bench_in_pool(run->pool, fib_root, run, run->caller);
  return bench_now() - t0;
}

int bench_fib(unsigned threads, const char *variant) {
  fib_run run = {.caller = bench_caller_variant(variant)};
  int rc = sl_pool_create(&run.pool, "fib", threads);
  if (rc) {
    fprintf(stderr, "# fib: cannot create pool: %s\n", sl_strerror(rc));
    return 1;
  }
  double s = bench_median(fib_once, &run);
  sl_pool_destroy(run.pool);
  bench_line("fib", threads, run.caller ? "n32-caller" : "n32",
              s, s * 1e9 / FIB_JOINS, "ns/join");
  return !bench_check("fib n32 == 2178309", run.result == 2178309);
}
