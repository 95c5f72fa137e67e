/* bench_sum.c: W2, the sum over i < 2e8 of (i * 2654435761) mod 2^32, as a
 * parallel map-reduce (../shared/peers/README.md). */
#include "bench.h"

#include <sluice.h>

#define SUM_N 200000000ull

/* The leaf: the low 32 bits of i * K step by K each index, so the map is an
 * induction the compiler can vectorize with 32-bit lanes. */
static void fold(void *ctx, size_t lo, size_t hi, void *acc) {
  (void)ctx;
  uint32_t x = (uint32_t)(lo * 2654435761ull);
  uint64_t s = 0;
  for (size_t i = lo; i < hi; i++) {
    s += x;
    x += 2654435761u;
  }
  *(uint64_t *)acc += s;
}

static void combine(void *ctx, void *acc, const void *other) {
  (void)ctx;
  *(uint64_t *)acc += *(const uint64_t *)other;
}

typedef struct sum_run {
  sl_pool *pool;
  bool caller; /* the bench thread takes part (variant "caller") */
  uint64_t result;
} sum_run;

static void sum_root(void *p) {
  sum_run *run = p;
  const uint64_t zero = 0;
  sl_map_reduce(0, SUM_N, 1, sizeof(uint64_t), &zero, fold, combine, NULL, &run->result);
}

static double sum_once(void *p) {
  sum_run *run = p;
  double t0 = bench_now();
  bench_in_pool(run->pool, sum_root, run, run->caller);
  return bench_now() - t0;
}

int bench_sum(unsigned threads, const char *variant) {
  sum_run run = {.caller = bench_caller_variant(variant)};
  int rc = sl_pool_create(&run.pool, "sum", threads);
  if (rc) {
    fprintf(stderr, "# sum: cannot create pool: %s\n", sl_strerror(rc));
    return 1;
  }
  double s = bench_median(sum_once, &run);
  sl_pool_destroy(run.pool);
  bench_line("sum", threads, run.caller ? "n200000000-caller" : "n200000000",
              s, 2e8 / s / 1e9, "Gelem/s");
  return !bench_check("sum == 429496730900786944", run.result == 429496730900786944ull);
}
