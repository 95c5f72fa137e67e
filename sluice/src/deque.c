/* deque.c: Chase-Lev work-stealing deque, one per worker. The owner pushes
 * and pops the bottom without a CAS except on the last element; thieves CAS
 * the top. Orderings follow Le, Pop, Cohen and Zappa Nardelli, "Correct and
 * Efficient Work-Stealing for Weak Memory Models" (PPoPP 2013), with two
 * changes: bottom is published with a release store and read by thieves with
 * an acquire load (the paper's release fence + relaxed store is equivalent,
 * but ThreadSanitizer understands only the former), the seq_cst fences are
 * replaced by seq_cst operations (an exchange on bottom in pop, loads in
 * steal) with the same effect, for the same reason, pop's fence moves to
 * the thieves where the kernel supports it (THE OWNER'S FENCE below), and
 * each slot carries its job's isolation tag.
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
 * THE OWNER'S FENCE. pop must make its store of bottom visible before it
 * reads top; else a thief with a stale bottom can take the job the owner
 * takes (the classic case: two jobs left, the owner pops the bottom one while
 * thieves take the top one and then, bottom still stale, the bottom one too).
 * That store-load fence is a locked instruction on x86 and most of the cost
 * of a join that nobody steals (bench/RESULTS.md has the profile). Steals are
 * rare next to pops, so the thief pays instead, with the asymmetric Dekker of
 * userspace RCU: the owner keeps program order only (a compiler barrier), and
 * a thief calls membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) between its load
 * of top and its last load of bottom, which runs a full barrier on every cpu
 * that runs one of our threads (a descheduled thread passed one when it left
 * its cpu). For any pop, that barrier falls either after the owner's store of
 * bottom, so the thief's later load sees the new bottom, or before it, so the
 * owner's later load of top sees every CAS on top that completed before the
 * membarrier began, the earlier steals included; in both cases the pair is
 * ordered as the fence would order it, and the CAS on top settles the last
 * job as before. A thief calls it only for a job it means to take, after the
 * tag filter (filtered looks outnumber steals by far in a pipeline), since
 * each call interrupts the cpus that run our other threads. A deque that is
 * stolen from often (a pipeline's loops: about every other pop) would pay
 * more in membarriers than in fences, so its owner counts the steals (top's
 * advance) every SL_DEQUE_RATE_POPS pops and, above the limit, fences its
 * pops from then on and says so in `fenced`. The switch goes one way only: a
 * thief that reads fenced true (acquire, paired with the owner's release)
 * sees the bottom of every unfenced pop before it, and the pops after it
 * fence, so it may skip the membarrier; one that reads false calls it, which
 * is right for either kind of pop. The registration is per process and
 * survives fork. Without the call (kernels before 4.14, seccomp) or under
 * ThreadSanitizer, which cannot see it, the owner fences as before.
 *
 * LIMITS. Buffers grow (doubling) and never shrink; a grown buffer is
 * retired, not freed, because a thief may still be reading the old one. All
 * of them are freed with the deque, when the pool is quiescent.
 *
 * push and pop are the hot path of every join: they live in deque.h as
 * static inline functions; their comments are there. */
#include "deque.h"

#include <linux/membarrier.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

bool sl__deque_asym_fence;
int64_t sl__deque_steal_limit = SL_DEQUE_STEAL_LIMIT;

static pthread_once_t asym_once = PTHREAD_ONCE_INIT;

/* Registers this process for private expedited membarrier, which thieves
 * then call (THE OWNER'S FENCE). Once, from the first sl__deque_init. */
static void asym_setup(void) {
#if defined(__SANITIZE_THREAD__)
  /* ThreadSanitizer cannot see membarrier's ordering: keep the fence. */
#else
  long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
  if (cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
      syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0)
    sl__deque_asym_fence = true;
#endif
}

static sl__dbuf *dbuf_new(int64_t cap) {
  sl__dbuf *b = sl__calloc(1, sizeof *b + (size_t)cap * sizeof(sl__slot));
  if (b)
    b->mask = cap - 1;
  return b;
}

int sl__deque_init(sl__deque *d, unsigned log2cap) {
  pthread_once(&asym_once, asym_setup);
  sl__dbuf *b = dbuf_new((int64_t)1 << log2cap);
  if (!b)
    return SL_ENOMEM;
  atomic_init(&d->top, 0);
  atomic_init(&d->bottom, 0);
  atomic_init(&d->buf, b);
  atomic_init(&d->fenced, false);
  d->pops = 0;
  d->top_at_check = 0;
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

sl__dbuf *sl__deque_grow(sl__deque *d, sl__dbuf *old, int64_t top, int64_t bottom) {
  sl__dbuf *b = dbuf_new((old->mask + 1) * 2);
  if (!b)
    return NULL;
  for (int64_t i = top; i < bottom; i++) {
    sl__slot *s = &old->slots[i & old->mask];
    sl__slot_put(b, i, atomic_load_explicit(&s->job, memory_order_relaxed),
             atomic_load_explicit(&s->tag, memory_order_relaxed));
  }
  b->retired = old;
  /* Publish the copied slots; pairs with the acquire load of buf in steal. */
  atomic_store_explicit(&d->buf, b, memory_order_release);
  return b;
}

void sl__deque_rate_check(sl__deque *d, int64_t t) {
  d->pops = 0;
  if (t - d->top_at_check > sl__deque_steal_limit)
    /* Release: every unfenced pop before this store happens before the
     * loads of a thief whose acquire load of fenced reads true, so such a
     * thief needs no membarrier for them; the pops after it fence. */
    atomic_store_explicit(&d->fenced, true, memory_order_release);
  d->top_at_check = t;
}

sl__steal_rc sl__deque_steal(sl__deque *d, sl__job **out, bool filter, uintptr_t tag) {
  /* seq_cst loads: top before bottom in the single total order, which the
   * last-job race with sl__deque_pop needs (see there); seq_cst includes the
   * acquire that makes push's slot and job fields visible. */
  int64_t t = atomic_load_explicit(&d->top, memory_order_seq_cst);
  /* Acquire, between top and bottom: pairs with the release store in
   * sl__deque_rate_check, so a true here comes with every unfenced pop's
   * bottom (THE OWNER'S FENCE). */
  bool owner_fences = atomic_load_explicit(&d->fenced, memory_order_acquire);
  int64_t b = atomic_load_explicit(&d->bottom, memory_order_seq_cst);
  if (t >= b)
    return SL_STEAL_EMPTY;
  /* Acquire: see the slots copied by grow. */
  sl__dbuf *buf = atomic_load_explicit(&d->buf, memory_order_acquire);
  sl__slot *s = &buf->slots[t & buf->mask];
  sl__job *job = atomic_load_explicit(&s->job, memory_order_relaxed);
  if (filter && atomic_load_explicit(&s->tag, memory_order_relaxed) != tag)
    return SL_STEAL_SKIP; /* possibly stale; we took nothing either way */
  if (sl__deque_asym_fence && !owner_fences) {
    /* The owner's fence, run for it (THE OWNER'S FENCE), only now that we
     * mean to take the job: filtered looks are most looks. Then bottom
     * again, which may have come down meanwhile. The slot read above stays
     * good: the CAS below fails if anyone took job t since. */
    syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
    if (t >= atomic_load_explicit(&d->bottom, memory_order_seq_cst))
      return SL_STEAL_EMPTY;
  }
  /* seq_cst, as in the paper: the CAS decides the race with pop. */
  if (!atomic_compare_exchange_strong_explicit(&d->top, &t, t + 1, memory_order_seq_cst,
                                               memory_order_relaxed))
    return SL_STEAL_RETRY;
  *out = job;
  return SL_STEAL_OK;
}
