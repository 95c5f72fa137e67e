/* loop_test.c: sl_for, sl_try_for and sl_map_reduce against sequential
 * results on random sizes (0 and 1 included) and grains, index-order
 * reduction with a non-commutative combine, early stop, bad arguments. */
#include "check.h"
#include "sluice.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static unsigned seed;

typedef struct marks {
  _Atomic unsigned char *seen;
} marks;

static void mark(void *ctx, size_t lo, size_t hi) {
  marks *m = ctx;
  for (size_t i = lo; i < hi; i++)
    atomic_fetch_add(&m->seen[i], 1);
}

static void for_visits_every_index_once(void) {
  for (int round = 0; round < 200; round++) {
    size_t n = round < 3 ? (size_t)round : (size_t)rand_r(&seed) % (100000 / check_scale());
    size_t grain = (size_t)rand_r(&seed) % 64;
    size_t begin = (size_t)rand_r(&seed) % 7;
    marks m = {calloc(n + begin + 1, 1)};
    CHECK(sl_for(begin, begin + n, grain, mark, &m) == 0);
    size_t bad = 0;
    for (size_t i = 0; i < n + begin; i++)
      bad += atomic_load(&m.seen[i]) != (i >= begin);
    CHECK(bad == 0);
    free((void *)m.seen);
  }
}

/* An accumulator that records the order ranges were combined in: it holds
 * [first, last) and a flag that stays true only if every combine joined
 * adjacent ranges left to right. */
typedef struct span {
  size_t first, last;
  int in_order;
  uint64_t sum;
} span;

static void fold_span(void *ctx, size_t lo, size_t hi, void *acc) {
  (void)ctx;
  span *s = acc;
  if (s->first == SIZE_MAX)
    s->first = lo;
  else if (s->last != lo)
    s->in_order = 0;
  s->last = hi;
  for (size_t i = lo; i < hi; i++)
    s->sum += i * i;
}

static void combine_span(void *ctx, void *acc, const void *other) {
  (void)ctx;
  span *a = acc;
  const span *b = other;
  if (b->first == SIZE_MAX)
    return;
  if (a->first == SIZE_MAX) {
    *a = *b;
    return;
  }
  if (a->last != b->first || !b->in_order)
    a->in_order = 0;
  a->last = b->last;
  a->sum += b->sum;
}

static void map_reduce_combines_in_index_order(void) {
  const span id = {SIZE_MAX, 0, 1, 0};
  for (int round = 0; round < 200; round++) {
    size_t n = round < 3 ? (size_t)round : (size_t)rand_r(&seed) % (200000 / check_scale());
    span out;
    CHECK(sl_map_reduce(0, n, (size_t)rand_r(&seed) % 100, sizeof out, &id, fold_span,
                        combine_span, NULL, &out) == 0);
    uint64_t want = 0;
    for (size_t i = 0; i < n; i++)
      want += i * i;
    CHECK(out.sum == want);
    CHECK(out.in_order);
    CHECK(n == 0 ? out.first == SIZE_MAX : (out.first == 0 && out.last == n));
  }
}

typedef struct stop_at {
  size_t bad;
  _Atomic size_t ran;
} stop_at;

static int fail_at(void *ctx, size_t lo, size_t hi) {
  stop_at *s = ctx;
  for (size_t i = lo; i < hi; i++) {
    atomic_fetch_add(&s->ran, 1);
    if (i == s->bad)
      return -77;
  }
  return 0;
}

static void try_for_returns_the_first_error_and_stops_early(void) {
  stop_at s = {.bad = 10};
  CHECK(sl_try_for(0, 1000000, 1000, fail_at, &s) == -77);
  CHECK(atomic_load(&s.ran) < 1000000);
  stop_at ok = {.bad = SIZE_MAX};
  CHECK(sl_try_for(0, 5000, 0, fail_at, &ok) == 0 && atomic_load(&ok.ran) == 5000);
  CHECK(sl_try_for(3, 3, 1, fail_at, &ok) == 0);
}

static void noop_range(void *c, size_t lo, size_t hi) { (void)c, (void)lo, (void)hi; }
static void noop_fold(void *c, size_t lo, size_t hi, void *a) { (void)c, (void)lo, (void)hi, (void)a; }
static void noop_combine(void *c, void *a, const void *b) { (void)c, (void)a, (void)b; }

static void loops_reject_bad_arguments(void) {
  uint64_t id = 0, out;
  CHECK(sl_for(0, 10, 1, NULL, NULL) == SL_EINVAL);
  CHECK(sl_for(10, 0, 1, noop_range, NULL) == SL_EINVAL);
  CHECK(sl_try_for(0, 10, 1, NULL, NULL) == SL_EINVAL);
  CHECK(sl_map_reduce(0, 10, 1, 0, &id, noop_fold, noop_combine, NULL, &out) == SL_EINVAL);
  CHECK(sl_map_reduce(0, 10, 1, SL_MAX_ACC + 1, &id, noop_fold, noop_combine, NULL, &out) == SL_EINVAL);
  CHECK(sl_map_reduce(0, 10, 1, 8, NULL, noop_fold, noop_combine, NULL, &out) == SL_EINVAL);
  CHECK(sl_map_reduce(0, 10, 1, 8, &id, NULL, noop_combine, NULL, &out) == SL_EINVAL);
  CHECK(sl_map_reduce(0, 10, 1, 8, &id, noop_fold, NULL, NULL, &out) == SL_EINVAL);
  CHECK(sl_map_reduce(0, 10, 1, 8, &id, noop_fold, noop_combine, NULL, NULL) == SL_EINVAL);
}

typedef struct nested {
  _Atomic uint64_t total;
} nested;

static void inner_body(void *ctx, size_t lo, size_t hi) {
  nested *n = ctx;
  atomic_fetch_add(&n->total, hi - lo);
}

static void outer_body(void *ctx, size_t lo, size_t hi) {
  for (size_t i = lo; i < hi; i++)
    sl_for(0, 1000, 7, inner_body, ctx);
}

static void loops_nest(void) {
  nested n = {0};
  CHECK(sl_for(0, 300, 1, outer_body, &n) == 0);
  CHECK(atomic_load(&n.total) == 300000);
}

int main(void) {
  seed = (unsigned)check_seed("loop_test");
  RUN(for_visits_every_index_once);
  RUN(map_reduce_combines_in_index_order);
  RUN(try_for_returns_the_first_error_and_stops_early);
  RUN(loops_reject_bad_arguments);
  RUN(loops_nest);
  return check_done("loop_test");
}
