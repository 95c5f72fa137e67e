/* deque.c: Chase-Lev work-stealing deque, one per worker. The owner pushes
 * and pops the bottom without a CAS except on the last element; thieves CAS
 * the top. Orderings follow Le, Pop, Cohen and Zappa Nardelli, "Correct and
 * Efficient Work-Stealing for Weak Memory Models" (PPoPP 2013), with two
 * changes: bottom is published with a release store and read by thieves with
 * an acquire load (the paper's release fence + relaxed store is equivalent,
 * but ThreadSanitizer understands only the former), and each slot carries
 * its job's isolation tag.
 *
 * HOW IT WORKS. top and bottom are ever-growing 64-bit indices; the live
 * jobs are [top, bottom) in a ring of 2^k slots. The owner works at bottom
 * like a stack (LIFO keeps the working set hot), thieves take the oldest job
 * at top (FIFO: the biggest pieces of a divide-and-conquer). Owner and thief
 * race only for the last job, and both settle it with a CAS on top.
 *
 * TAGS. sl_isolate needs thieves to take only jobs of one region. Reading
 * the tag through the job pointer before winning the CAS could touch a job
 * that was popped and freed meanwhile, so the tag is copied into the slot.
 * A slot's contents are stable while top still equals its index: the owner
 * overwrites slot t only after bottom reaches t + capacity, which needs top
 * > t first (it grows the buffer instead). So a tag read before a CAS that
 * succeeds is the tag of the job taken; one read before a CAS that fails is
 * discarded.
 *
 * LIMITS. Buffers grow (doubling) and never shrink; a grown buffer is
 * retired, not freed, because a thief may still be reading the old one. All
 * of them are freed with the deque, when the pool is quiescent. */
#include "deque.h"

static sl__dbuf *dbuf_new(int64_t cap) {
  sl__dbuf *b = sl__calloc(1, sizeof *b + (size_t)cap * sizeof(sl__slot));
  if (b)
    b->mask = cap - 1;
  return b;
}

int sl__deque_init(sl__deque *d, unsigned log2cap) {
  sl__dbuf *b = dbuf_new((int64_t)1 << log2cap);
  if (!b)
    return SL_ENOMEM;
  atomic_init(&d->top, 0);
  atomic_init(&d->bottom, 0);
  atomic_init(&d->buf, b);
  return 0;
}

void sl__deque_free(sl__deque *d) {
  sl__dbuf *b = atomic_load_explicit(&d->buf, memory_order_relaxed);
  while (b) {
    sl__dbuf *older = b->retired;
    sl__free(b);
    b = older;
  }
  atomic_store_explicit(&d->buf, NULL, memory_order_relaxed);
}

static void slot_put(sl__dbuf *b, int64_t i, sl__job *job, uintptr_t tag) {
  /* Relaxed: both are published by the release store of bottom (push) or of
   * buf (grow) that follows. */
  atomic_store_explicit(&b->slots[i & b->mask].job, job, memory_order_relaxed);
  atomic_store_explicit(&b->slots[i & b->mask].tag, tag, memory_order_relaxed);
}

/* Doubles the buffer, copying the live range. Owner only. */
static sl__dbuf *grow(sl__deque *d, sl__dbuf *old, int64_t top, int64_t bottom) {
  sl__dbuf *b = dbuf_new((old->mask + 1) * 2);
  if (!b)
    return NULL;
  for (int64_t i = top; i < bottom; i++) {
    sl__slot *s = &old->slots[i & old->mask];
    slot_put(b, i, atomic_load_explicit(&s->job, memory_order_relaxed),
             atomic_load_explicit(&s->tag, memory_order_relaxed));
  }
  b->retired = old;
  /* Publish the copied slots; pairs with the acquire load of buf in steal. */
  atomic_store_explicit(&d->buf, b, memory_order_release);
  return b;
}

int sl__deque_push(sl__deque *d, sl__job *job) {
  /* Relaxed: only the owner writes bottom. */
  int64_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed);
  /* Acquire: a slot freed by a steal (top moved past it) may be reused only
   * after the thief's reads of it; pairs with the CAS on top in steal. */
  int64_t t = atomic_load_explicit(&d->top, memory_order_acquire);
  sl__dbuf *buf = atomic_load_explicit(&d->buf, memory_order_relaxed);
  if (b - t > buf->mask) {
    buf = grow(d, buf, t, b);
    if (!buf)
      return SL_ENOMEM;
  }
  slot_put(buf, b, job, job->tag);
  /* Publish slot b and the job's fields; pairs with the acquire load of
   * bottom in sl__deque_steal. */
  atomic_store_explicit(&d->bottom, b + 1, memory_order_release);
  return 0;
}

sl__job *sl__deque_pop(sl__deque *d) {
  int64_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed) - 1;
  sl__dbuf *buf = atomic_load_explicit(&d->buf, memory_order_relaxed);
  atomic_store_explicit(&d->bottom, b, memory_order_relaxed);
  /* The store of bottom must be visible before we read top, or a thief and
   * the owner could both take the last job (store-load order, which only a
   * seq_cst fence gives); pairs with the fence in sl__deque_steal. */
  atomic_thread_fence(memory_order_seq_cst);
  int64_t t = atomic_load_explicit(&d->top, memory_order_relaxed);
  if (t > b) { /* empty: restore */
    atomic_store_explicit(&d->bottom, b + 1, memory_order_relaxed);
    return NULL;
  }
  sl__job *job = atomic_load_explicit(&buf->slots[b & buf->mask].job, memory_order_relaxed);
  if (t == b) {
    /* Last job: race the thieves for it through top. */
    if (!atomic_compare_exchange_strong_explicit(&d->top, &t, t + 1, memory_order_seq_cst,
                                                 memory_order_relaxed))
      job = NULL;
    atomic_store_explicit(&d->bottom, b + 1, memory_order_relaxed);
  }
  return job;
}

sl__steal_rc sl__deque_steal(sl__deque *d, sl__job **out, bool filter, uintptr_t tag) {
  int64_t t = atomic_load_explicit(&d->top, memory_order_acquire);
  /* Order the load of top before the load of bottom; pairs with the fence in
   * sl__deque_pop (see there). */
  atomic_thread_fence(memory_order_seq_cst);
  /* Acquire: see the slot and job fields published by push. */
  int64_t b = atomic_load_explicit(&d->bottom, memory_order_acquire);
  if (t >= b)
    return SL_STEAL_EMPTY;
  /* Acquire: see the slots copied by grow. */
  sl__dbuf *buf = atomic_load_explicit(&d->buf, memory_order_acquire);
  sl__slot *s = &buf->slots[t & buf->mask];
  sl__job *job = atomic_load_explicit(&s->job, memory_order_relaxed);
  if (filter && atomic_load_explicit(&s->tag, memory_order_relaxed) != tag)
    return SL_STEAL_SKIP; /* possibly stale; we took nothing either way */
  /* seq_cst, as in the paper: the CAS decides the race with pop. */
  if (!atomic_compare_exchange_strong_explicit(&d->top, &t, t + 1, memory_order_seq_cst,
                                               memory_order_relaxed))
    return SL_STEAL_RETRY;
  *out = job;
  return SL_STEAL_OK;
}
