/* radix.c: the typed sorts (sl_sort_u32/u64/f32/f64): a parallel LSD radix
 * sort, 8 bits a pass.
 *
 * HOW IT WORKS. The keys are cut into one contiguous chunk per worker. Each
 * pass, every chunk counts its digits (in parallel), a prefix sum over
 * (digit, chunk) gives each chunk its own output offsets per digit, and
 * every chunk scatters its keys there (in parallel, no two chunks write the
 * same place). Chunk order inside a digit keeps the sort stable, which LSD
 * needs. A pass whose digit is the same for every key is skipped, so small
 * ranges of values cost fewer passes. Floats are mapped to unsigned keys
 * whose order is IEEE totalOrder (flip all bits of negatives, the sign bit
 * of positives), sorted, and mapped back.
 *
 * Why radix and not a comparison sort: for fixed-width keys it reads and
 * writes each key a few times with no branches to mispredict; measured
 * against Rayon's par_sort_unstable in bench/RESULTS.md.
 *
 * LIMITS. It needs n keys of scratch; when that allocation fails the sort
 * falls back to the in-place sl_sort, so the call never fails for memory. */
#include "pool.h"

#include <string.h>

#define RADIX_MIN 2048 /* below this, the comparison sort is as fast */
#define BUCKETS 256

typedef struct radix {
  void *src, *dst;
  size_t n, nchunks, width; /* width: key bytes, 4 or 8 */
  unsigned shift;
  size_t *counts;           /* nchunks x BUCKETS: counts, then offsets */
} radix;

static void chunk_bounds(const radix *r, size_t c, size_t *lo, size_t *hi) {
  *lo = r->n / r->nchunks * c;
  *hi = c + 1 == r->nchunks ? r->n : r->n / r->nchunks * (c + 1);
}

static void count_chunk(void *ctx, size_t c0, size_t c1) {
  radix *r = ctx;
  for (size_t c = c0; c < c1; c++) {
    size_t lo, hi, *cnt = r->counts + c * BUCKETS;
    chunk_bounds(r, c, &lo, &hi);
    memset(cnt, 0, BUCKETS * sizeof *cnt);
    if (r->width == 4) {
      const uint32_t *k = r->src;
      for (size_t i = lo; i < hi; i++)
        cnt[(k[i] >> r->shift) & 0xff]++;
    } else {
      const uint64_t *k = r->src;
      for (size_t i = lo; i < hi; i++)
        cnt[(k[i] >> r->shift) & 0xff]++;
    }
  }
}

static void scatter_chunk(void *ctx, size_t c0, size_t c1) {
  radix *r = ctx;
  for (size_t c = c0; c < c1; c++) {
    size_t lo, hi, *off = r->counts + c * BUCKETS;
    chunk_bounds(r, c, &lo, &hi);
    if (r->width == 4) {
      const uint32_t *k = r->src;
      uint32_t *d = r->dst;
      for (size_t i = lo; i < hi; i++)
        d[off[(k[i] >> r->shift) & 0xff]++] = k[i];
    } else {
      const uint64_t *k = r->src;
      uint64_t *d = r->dst;
      for (size_t i = lo; i < hi; i++)
        d[off[(k[i] >> r->shift) & 0xff]++] = k[i];
    }
  }
}

/* Turns counts into offsets; false when one digit holds every key (the
 * pass would not move anything). */
static bool offsets(radix *r) {
  size_t sum = 0;
  for (size_t b = 0; b < BUCKETS; b++) {
    size_t total = 0;
    for (size_t c = 0; c < r->nchunks; c++) {
      size_t *slot = r->counts + c * BUCKETS + b;
      size_t cnt = *slot;
      *slot = sum;
      sum += cnt;
      total += cnt;
    }
    if (total == r->n)
      return false;
  }
  return true;
}

static void radix_in_worker(void *arg) {
  radix *r = arg;
  void *orig = r->src;
  for (r->shift = 0; r->shift < 8 * r->width; r->shift += 8) {
    sl_for(0, r->nchunks, 1, count_chunk, r);
    if (!offsets(r))
      continue;
    sl_for(0, r->nchunks, 1, scatter_chunk, r);
    void *t = r->src;
    r->src = r->dst;
    r->dst = t;
  }
  if (r->src != orig)
    memcpy(orig, r->src, r->n * r->width);
}

static int cmp_u32(const void *a, const void *b, void *ctx) {
  (void)ctx;
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

static int cmp_u64(const void *a, const void *b, void *ctx) {
  (void)ctx;
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

static int radix_sort(void *base, size_t n, size_t width) {
  if (n > 0 && !base)
    return SL_EINVAL;
  sl_cmp_fn cmp = width == 4 ? cmp_u32 : cmp_u64;
  if (n < RADIX_MIN)
    return sl_sort(base, n, width, cmp, NULL);
  unsigned threads = sl_current_num_threads();
  radix r = {.src = base, .n = n, .width = width};
  r.nchunks = threads ? threads : 1;
  if (r.nchunks > n / RADIX_MIN)
    r.nchunks = n / RADIX_MIN;
  size_t bytes;
  if (__builtin_mul_overflow(n, width, &bytes))
    return SL_EINVAL;
  void *scratch = sl__malloc(bytes); /* r.dst swaps with src each pass */
  r.dst = scratch;
  r.counts = sl__malloc(r.nchunks * BUCKETS * sizeof(size_t));
  int rc;
  if (!scratch || !r.counts) /* benign: sort in place instead */
    rc = sl_sort(base, n, width, cmp, NULL);
  else
    rc = sl__in_worker(radix_in_worker, &r);
  sl__free(scratch);
  sl__free(r.counts);
  return rc;
}

int sl_sort_u32(uint32_t *base, size_t n) { return radix_sort(base, n, 4); }
int sl_sort_u64(uint64_t *base, size_t n) { return radix_sort(base, n, 8); }

/* IEEE totalOrder as unsigned order, and back. */
static void f32_to_key(void *ctx, size_t lo, size_t hi) {
  uint32_t *k = ctx;
  for (size_t i = lo; i < hi; i++)
    k[i] ^= (k[i] >> 31) ? 0xffffffffu : 0x80000000u;
}
static void key_to_f32(void *ctx, size_t lo, size_t hi) {
  uint32_t *k = ctx;
  for (size_t i = lo; i < hi; i++)
    k[i] ^= (k[i] >> 31) ? 0x80000000u : 0xffffffffu;
}
static void f64_to_key(void *ctx, size_t lo, size_t hi) {
  uint64_t *k = ctx;
  for (size_t i = lo; i < hi; i++)
    k[i] ^= (k[i] >> 63) ? ~(uint64_t)0 : (uint64_t)1 << 63;
}
static void key_to_f64(void *ctx, size_t lo, size_t hi) {
  uint64_t *k = ctx;
  for (size_t i = lo; i < hi; i++)
    k[i] ^= (k[i] >> 63) ? (uint64_t)1 << 63 : ~(uint64_t)0;
}

/* Floats are sorted as their bit patterns: the casts below reinterpret the
 * caller's storage, so this file is built with -fno-strict-aliasing. */
int sl_sort_f32(float *base, size_t n) {
  if (n > 0 && !base)
    return SL_EINVAL;
  _Static_assert(sizeof(float) == 4, "IEEE binary32 expected");
  int rc = sl_for(0, n, 65536, f32_to_key, base);
  if (!rc)
    rc = radix_sort(base, n, 4);
  if (!rc)
    rc = sl_for(0, n, 65536, key_to_f32, base);
  return rc;
}

int sl_sort_f64(double *base, size_t n) {
  if (n > 0 && !base)
    return SL_EINVAL;
  _Static_assert(sizeof(double) == 8, "IEEE binary64 expected");
  int rc = sl_for(0, n, 65536, f64_to_key, base);
  if (!rc)
    rc = radix_sort(base, n, 8);
  if (!rc)
    rc = sl_for(0, n, 65536, key_to_f64, base);
  return rc;
}
