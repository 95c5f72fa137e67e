/* sort_test.c: the generic and typed parallel sorts against qsort on random
 * inputs (sizes 0 and 1 included, many duplicates, sorted and reversed
 * runs), float total order with NaN, -0 and infinities, the scratch
 * allocation failing (fallback path), and bad arguments. */
#include "check.h"
#include "sluice.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static unsigned seed;

static int cmp_u32q(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}
static int cmp_u64q(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

typedef struct rec {
  uint32_t key;
  char pad[20]; /* 24-byte elements: the byte-swapping path */
} rec;

static int cmp_rec(const void *a, const void *b, void *ctx) {
  (void)ctx;
  return cmp_u32q(&((const rec *)a)->key, &((const rec *)b)->key);
}
static int cmp_byte(const void *a, const void *b, void *ctx) {
  (void)ctx;
  return (int)*(const unsigned char *)a - (int)*(const unsigned char *)b;
}

static size_t random_size(int round) {
  static const size_t fixed[] = {0, 1, 2, 15, 16, 17, 4095, 4096, 100000};
  if (round < (int)(sizeof fixed / sizeof fixed[0]))
    return fixed[round];
  return (size_t)rand_r(&seed) % (120000 / check_scale());
}

static uint32_t random_key(int shape, size_t i, size_t n) {
  switch (shape) {
  case 0: return (uint32_t)rand_r(&seed) * 2654435761u;
  case 1: return (uint32_t)rand_r(&seed) % 4; /* many duplicates */
  case 2: return (uint32_t)i;                /* sorted */
  default: return (uint32_t)(n - i);         /* reversed */
  }
}

static void sort_generic_matches_qsort(void) {
  for (int round = 0; round < 25; round++) {
    size_t n = random_size(round);
    int shape = round % 4;
    rec *a = malloc((n + 1) * sizeof *a);
    uint32_t *want = malloc((n + 1) * sizeof *want);
    for (size_t i = 0; i < n; i++) {
      a[i].key = want[i] = random_key(shape, i, n);
      memset(a[i].pad, (int)(a[i].key & 0xff), sizeof a[i].pad);
    }
    CHECK(sl_sort(a, n, sizeof *a, cmp_rec, NULL) == 0);
    qsort(want, n, sizeof *want, cmp_u32q);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
      bad += a[i].key != want[i] || a[i].pad[19] != (char)(want[i] & 0xff);
    CHECK(bad == 0);
    free(a), free(want);
  }
  unsigned char bytes[5000];
  for (size_t i = 0; i < sizeof bytes; i++)
    bytes[i] = (unsigned char)rand_r(&seed);
  CHECK(sl_sort(bytes, sizeof bytes, 1, cmp_byte, NULL) == 0);
  for (size_t i = 1; i < sizeof bytes; i++)
    CHECK(bytes[i - 1] <= bytes[i]);
}

static void sort_u32_u64_match_qsort(void) {
  for (int round = 0; round < 25; round++) {
    size_t n = random_size(round);
    uint32_t *a = malloc((n + 1) * 4), *wa = malloc((n + 1) * 4);
    uint64_t *b = malloc((n + 1) * 8), *wb = malloc((n + 1) * 8);
    for (size_t i = 0; i < n; i++) {
      a[i] = wa[i] = random_key(round % 4, i, n);
      b[i] = wb[i] = ((uint64_t)random_key(round % 4, i, n) << 32) ^ (uint64_t)rand_r(&seed);
    }
    CHECK(sl_sort_u32(a, n) == 0 && sl_sort_u64(b, n) == 0);
    qsort(wa, n, 4, cmp_u32q);
    qsort(wb, n, 8, cmp_u64q);
    CHECK(n == 0 || (memcmp(a, wa, n * 4) == 0 && memcmp(b, wb, n * 8) == 0));
    free(a), free(wa), free(b), free(wb);
  }
}

static void sort_floats_in_total_order(void) {
  size_t n = 50000;
  float *f = malloc(n * sizeof *f);
  double *d = malloc(n * sizeof *d);
  for (size_t i = 0; i < n; i++) {
    int r = rand_r(&seed) % 100;
    double v = r == 0 ? NAN : r == 1 ? -NAN : r == 2 ? INFINITY : r == 3 ? -INFINITY
             : r == 4 ? 0.0 : r == 5 ? -0.0 : ((double)rand_r(&seed) - RAND_MAX / 2) / 1000.0;
    f[i] = (float)v;
    d[i] = v;
  }
  CHECK(sl_sort_f32(f, n) == 0 && sl_sort_f64(d, n) == 0);
  size_t bad = 0;
  for (size_t i = 1; i < n; i++) {
    /* Outside NaNs, plain order; -0 before +0; -NaN first, NaN last. */
    if (!isnan(f[i - 1]) && !isnan(f[i]))
      bad += f[i - 1] > f[i] || (f[i - 1] == 0 && f[i] == 0 && signbit(f[i]) && !signbit(f[i - 1]));
    if (!isnan(d[i - 1]) && !isnan(d[i]))
      bad += d[i - 1] > d[i];
  }
  CHECK(bad == 0);
  CHECK(isnan(f[0]) && signbit(f[0]) && isnan(f[n - 1]) && !signbit(f[n - 1]));
  CHECK(isnan(d[0]) && signbit(d[0]) && isnan(d[n - 1]) && !signbit(d[n - 1]));
  free(f), free(d);
}

static void sort_typed_falls_back_when_scratch_fails(void) {
  size_t n = 100000;
  uint32_t *a = malloc(n * 4);
  for (long fail = 0; fail < 3; fail++) {
    for (size_t i = 0; i < n; i++)
      a[i] = (uint32_t)rand_r(&seed);
    sl_test_fail_alloc_after(fail);
    CHECK(sl_sort_u32(a, n) == 0);
    sl_test_fail_alloc_after(-1);
    size_t bad = 0;
    for (size_t i = 1; i < n; i++)
      bad += a[i - 1] > a[i];
    CHECK(bad == 0);
  }
  free(a);
}

static void sort_rejects_bad_arguments(void) {
  uint32_t x[2] = {2, 1};
  CHECK(sl_sort(x, 2, 4, NULL, NULL) == SL_EINVAL);
  CHECK(sl_sort(x, 2, 0, cmp_rec, NULL) == SL_EINVAL);
  CHECK(sl_sort(NULL, 2, 4, cmp_rec, NULL) == SL_EINVAL);
  CHECK(sl_sort(x, SIZE_MAX, 8, cmp_rec, NULL) == SL_EINVAL);
  CHECK(sl_sort_u32(NULL, 5) == SL_EINVAL && sl_sort_u64(NULL, 5) == SL_EINVAL);
  CHECK(sl_sort_f32(NULL, 5) == SL_EINVAL && sl_sort_f64(NULL, 5) == SL_EINVAL);
  CHECK(sl_sort_u32(NULL, 0) == 0 && sl_sort(NULL, 0, 4, cmp_rec, NULL) == 0);
}

int main(void) {
  seed = (unsigned)check_seed("sort_test");
  RUN(sort_generic_matches_qsort);
  RUN(sort_u32_u64_match_qsort);
  RUN(sort_floats_in_total_order);
  RUN(sort_typed_falls_back_when_scratch_fails);
  RUN(sort_rejects_bad_arguments);
  return check_done("sort_test");
}
