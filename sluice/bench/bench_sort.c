/* bench_sort.c: W4, sorting 20M xorshift32 u32 keys; each repetition sorts
 * a fresh copy (../shared/peers/README.md). */
#include "bench.h"

#include <sluice.h>
#include <stdlib.h>
#include <string.h>

#define SORT_N 20000000u

typedef struct sort_run {
  sl_pool *pool;
  bool caller; /* the bench thread takes part (variant "caller") */
  uint32_t *input, *work;
  int sorted;
} sort_run;

static void sort_root(void *p) {
  sort_run *run = p;
  sl_sort_u32(run->work, SORT_N);
}

static double sort_once(void *p) {
  sort_run *run = p;
  memcpy(run->work, run->input, SORT_N * sizeof(uint32_t));
  double t0 = bench_now();
  bench_in_pool(run->pool, sort_root, run, run->caller);
  double dt = bench_now() - t0;
  for (size_t i = 1; i < SORT_N; i++)
    if (run->work[i - 1] > run->work[i])
      run->sorted = 0;
  return dt;
}

int bench_sort(unsigned threads, const char *variant) {
  sort_run run = {.sorted = 1, .caller = bench_caller_variant(variant)};
  run.input = malloc(SORT_N * sizeof(uint32_t));
  run.work = malloc(SORT_N * sizeof(uint32_t));
  if (!run.input || !run.work) {
    fprintf(stderr, "# sort: out of memory\n");
    return 1;
  }
  uint32_t x = 2463534242u;
  for (size_t i = 0; i < SORT_N; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    run.input[i] = x;
  }
  int rc = sl_pool_create(&run.pool, "sort", threads);
  if (rc) {
    fprintf(stderr, "# sort: cannot create pool: %s\n", sl_strerror(rc));
    return 1;
  }
  double s = bench_median(sort_once, &run);
  sl_pool_destroy(run.pool);
  free(run.input);
  free(run.work);
  bench_line("sort", threads, run.caller ? "n20000000-caller" : "n20000000",
              s, 2e7 / s / 1e6, "Melem/s");
  return !bench_check("sort ascending", run.sorted);
}
