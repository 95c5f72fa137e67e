/* loop.c: parallel loops over an index range: sl_for, sl_try_for and
 * sl_map_reduce, all on one recursive splitter.
 *
 * ADAPTIVE SPLITTING (Rayon's, from its iter/plumbing): a range starts with
 * a budget of `splits` = the pool's thread count and halves it at each
 * split, so an unstolen loop makes about 2 * threads leaves and pays a
 * handful of joins in all. When a half turns out to have been stolen
 * (it runs on another worker: someone was idle), its budget is reset to at
 * least the thread count, so work keeps being split where there are thieves
 * to take it. A range is never split below 2 * grain, so leaves hold at
 * least `grain` indices.
 *
 * REDUCTION: the left half folds into the caller's accumulator and the right
 * half into one on this stack frame (SL_MAX_ACC bytes), then they combine in
 * index order. Stack use is one frame per split level, log2(n) at most. */
#include "pool.h"

#include <stddef.h>
#include <string.h>

typedef struct loop {
  size_t grain;
  unsigned nthreads;
  sl_range_fn body;           /* sl_for */
  sl_try_range_fn try_body;   /* sl_try_for */
  sl_fold_fn fold;            /* sl_map_reduce */
  sl_combine_fn combine;
  const void *identity;
  size_t acc_size;
  void *ctx;
  _Atomic int err;            /* sl_try_for: first error; stops new leaves */
} loop;

typedef struct part {
  loop *L;
  size_t lo, hi;
  unsigned splits;
  void *acc;
} part;

static bool try_split(part *p, bool migrated) {
  if (migrated) {
    p->splits = p->splits / 2 > p->L->nthreads ? p->splits / 2 : p->L->nthreads;
    return true;
  }
  if (p->splits > 0) {
    p->splits /= 2;
    return true;
  }
  return false;
}

static void leaf(loop *L, size_t lo, size_t hi, void *acc) {
  if (L->body) {
    L->body(L->ctx, lo, hi);
  } else if (L->try_body) {
    /* Relaxed: the flag only skips work; the error value is read after
     * the loop's joins, which order it. */
    if (atomic_load_explicit(&L->err, memory_order_relaxed))
      return;
    int rc = L->try_body(L->ctx, lo, hi);
    int none = 0;
    if (rc)
      atomic_compare_exchange_strong_explicit(&L->err, &none, rc, memory_order_relaxed,
                                              memory_order_relaxed);
  } else {
    L->fold(L->ctx, lo, hi, acc);
  }
}

static void run_part(void *arg, bool migrated) {
  part *p = arg;
  loop *L = p->L;
  size_t len = p->hi - p->lo;
  if (L->try_body && atomic_load_explicit(&L->err, memory_order_relaxed))
    return;
  if (len / 2 < L->grain || !try_split(p, migrated)) {
    leaf(L, p->lo, p->hi, p->acc);
    return;
  }
  size_t mid = p->lo + len / 2;
  _Alignas(max_align_t) unsigned char right_acc[SL_MAX_ACC];
  part left = {L, p->lo, mid, p->splits, p->acc};
  part right = {L, mid, p->hi, p->splits, right_acc};
  if (L->fold)
    memcpy(right_acc, L->identity, L->acc_size);
  sl__join_ctx(sl__current_worker(), run_part, &left, run_part, &right);
  if (L->fold)
    L->combine(L->ctx, p->acc, right_acc);
}

typedef struct loop_start {
  loop *L;
  size_t begin, end;
  void *acc;
} loop_start;

static void start_in_worker(void *arg) {
  loop_start *s = arg;
  s->L->nthreads = sl__current_worker()->pool->nthreads;
  part p = {s->L, s->begin, s->end, s->L->nthreads, s->acc};
  run_part(&p, false);
}

static int run_loop(loop *L, size_t begin, size_t end, void *acc) {
  if (L->grain == 0)
    L->grain = 1;
  atomic_init(&L->err, 0);
  if (begin == end)
    return 0;
  loop_start s = {L, begin, end, acc};
  return sl__in_worker(start_in_worker, &s);
}

int sl_for(size_t begin, size_t end, size_t grain, sl_range_fn body, void *ctx) {
  if (!body || begin > end)
    return SL_EINVAL;
  loop L = {.grain = grain, .body = body, .ctx = ctx};
  return run_loop(&L, begin, end, NULL);
}

int sl_try_for(size_t begin, size_t end, size_t grain, sl_try_range_fn body, void *ctx) {
  if (!body || begin > end)
    return SL_EINVAL;
  loop L = {.grain = grain, .try_body = body, .ctx = ctx};
  int rc = run_loop(&L, begin, end, NULL);
  return rc ? rc : atomic_load_explicit(&L.err, memory_order_relaxed);
}

int sl_map_reduce(size_t begin, size_t end, size_t grain, size_t acc_size, const void *identity,
                  sl_fold_fn fold, sl_combine_fn combine, void *ctx, void *out) {
  if (!fold || !combine || !identity || !out || acc_size == 0 || acc_size > SL_MAX_ACC ||
      begin > end)
    return SL_EINVAL;
  loop L = {.grain = grain, .fold = fold, .combine = combine, .identity = identity,
            .acc_size = acc_size, .ctx = ctx};
  _Alignas(max_align_t) unsigned char acc[SL_MAX_ACC];
  memcpy(acc, identity, acc_size);
  int rc = run_loop(&L, begin, end, acc);
  if (!rc)
    memcpy(out, acc, acc_size);
  return rc;
}
