/* sort.c: sl_sort, the generic parallel sort: an introsort (quicksort with
 * a median-of-three, or ninther for big ranges, that falls back to heapsort
 * past 2*log2(n) levels, and insertion sort below 16 elements) whose two
 * partitions run under sl_join while they are big enough to be worth a job.
 *
 * Why not a merge sort: it needs n elements of scratch, and a generic sort
 * that can fail for lack of memory is a worse tool than one a little slower.
 * The typed sorts (radix.c) do take scratch and fall back to this.
 *
 * Elements are moved by swapping bytes in place, 8 at a time when aligned,
 * so any element size works without a temporary buffer. */
#include "pool.h"

#include <string.h>

#define INSERTION_MAX 16
#define PARALLEL_MIN 4096 /* below this a partition is not worth a job */

typedef struct sorter {
  size_t size;
  sl_cmp_fn cmp;
  void *ctx;
} sorter;

static inline void swap_elems(char *a, char *b, size_t size) {
  if (a == b)
    return;
  if (size % 8 == 0 && ((uintptr_t)a | (uintptr_t)b) % 8 == 0) {
    for (size_t i = 0; i < size; i += 8) {
      uint64_t t;
      memcpy(&t, a + i, 8);
      memcpy(a + i, b + i, 8);
      memcpy(b + i, &t, 8);
    }
    return;
  }
  for (size_t i = 0; i < size; i++) {
    char t = a[i];
    a[i] = b[i];
    b[i] = t;
  }
}

static inline int cmp_at(const sorter *s, const char *a, const char *b) {
  return s->cmp(a, b, s->ctx);
}

static void insertion_sort(const sorter *s, char *base, size_t n) {
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0 && cmp_at(s, base + (j - 1) * s->size, base + j * s->size) > 0; j--)
      swap_elems(base + (j - 1) * s->size, base + j * s->size, s->size);
}

static void sift_down(const sorter *s, char *base, size_t root, size_t n) {
  for (;;) {
    size_t child = 2 * root + 1;
    if (child >= n)
      return;
    if (child + 1 < n && cmp_at(s, base + child * s->size, base + (child + 1) * s->size) < 0)
      child++;
    if (cmp_at(s, base + root * s->size, base + child * s->size) >= 0)
      return;
    swap_elems(base + root * s->size, base + child * s->size, s->size);
    root = child;
  }
}

static void heap_sort(const sorter *s, char *base, size_t n) {
  for (size_t i = n / 2; i-- > 0;)
    sift_down(s, base, i, n);
  for (size_t end = n; end-- > 1;) {
    swap_elems(base, base + end * s->size, s->size);
    sift_down(s, base, 0, end);
  }
}

/* Index of the median of elements i, j, k. */
static size_t median3(const sorter *s, char *base, size_t i, size_t j, size_t k) {
  char *a = base + i * s->size, *b = base + j * s->size, *c = base + k * s->size;
  if (cmp_at(s, a, b) < 0)
    return cmp_at(s, b, c) < 0 ? j : (cmp_at(s, a, c) < 0 ? k : i);
  return cmp_at(s, a, c) < 0 ? i : (cmp_at(s, b, c) < 0 ? k : j);
}

/* Partitions around a pivot moved to base[0]; returns the pivot's final
 * index. Hoare's scheme: elements equal to the pivot go to both sides, which
 * keeps runs of equal keys balanced. */
static size_t partition(const sorter *s, char *base, size_t n) {
  size_t m;
  if (n > 128) {
    size_t e = n / 8;
    m = median3(s, base, median3(s, base, 0, e, 2 * e), median3(s, base, 3 * e, 4 * e, 5 * e),
                median3(s, base, 6 * e, 7 * e, n - 1));
  } else {
    m = median3(s, base, 0, n / 2, n - 1);
  }
  swap_elems(base, base + m * s->size, s->size);
  size_t i = 0, j = n;
  for (;;) {
    do
      i++;
    while (i < n && cmp_at(s, base + i * s->size, base) < 0);
    do
      j--;
    while (cmp_at(s, base + j * s->size, base) > 0);
    if (i >= j)
      break;
    swap_elems(base + i * s->size, base + j * s->size, s->size);
  }
  swap_elems(base, base + j * s->size, s->size);
  return j;
}

typedef struct sort_task {
  const sorter *s;
  char *base;
  size_t n;
  unsigned depth;
} sort_task;

static void sort_rec(void *arg, bool migrated);

static void sort_range(const sorter *s, char *base, size_t n, unsigned depth) {
  while (n > INSERTION_MAX) {
    if (depth == 0) {
      heap_sort(s, base, n);
      return;
    }
    depth--;
    size_t p = partition(s, base, n);
    char *right = base + (p + 1) * s->size;
    size_t nl = p, nr = n - p - 1;
    sl__worker *w = sl__current_worker();
    if (w && nl >= PARALLEL_MIN && nr >= PARALLEL_MIN) {
      sort_task l = {s, base, nl, depth}, r = {s, right, nr, depth};
      sl__join_ctx(w, sort_rec, &l, sort_rec, &r);
      return;
    }
    /* Recurse into the smaller side, loop on the larger: O(log n) stack. */
    if (nl < nr) {
      sort_range(s, base, nl, depth);
      base = right;
      n = nr;
    } else {
      sort_range(s, right, nr, depth);
      n = nl;
    }
  }
  insertion_sort(s, base, n);
}

static void sort_rec(void *arg, bool migrated) {
  (void)migrated;
  sort_task *t = arg;
  sort_range(t->s, t->base, t->n, t->depth);
}

static void sort_in_worker(void *arg) { sort_rec(arg, false); }

int sl_sort(void *base, size_t n, size_t size, sl_cmp_fn cmp, void *ctx) {
  size_t bytes;
  if (!cmp || size == 0 || (n > 0 && !base) || __builtin_mul_overflow(n, size, &bytes))
    return SL_EINVAL;
  if (n < 2)
    return 0;
  sorter s = {size, cmp, ctx};
  unsigned depth = 2 * (unsigned)(64 - __builtin_clzll((unsigned long long)n));
  sort_task t = {&s, base, n, depth};
  if (n < PARALLEL_MIN) {
    sort_rec(&t, false);
    return 0;
  }
  return sl__in_worker(sort_in_worker, &t);
}
