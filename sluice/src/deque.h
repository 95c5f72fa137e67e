/* deque.h: the work-stealing deque (deque.c) and the job record it holds.
 * Internal to sluice. */
#ifndef SLUICE_DEQUE_H
#define SLUICE_DEQUE_H

#include "internal.h"

/* A unit of work. Lives wherever its creator put it (a join's stack frame,
 * a heap block for spawns); the deque stores pointers only. `run` may free
 * the job, so nothing touches it after run starts except run itself. */
typedef struct sl__job {
  void (*run)(struct sl__job *job, bool migrated); /* migrated: run by a thief */
  uintptr_t tag;            /* isolation region the job belongs to (0: the pool) */
  struct sl__job *next;     /* injector queue link */
} sl__job;

/* One slot: the job and a copy of its tag, so a thief can test the tag of
 * the top job without dereferencing a pointer that may already be stale
 * (the job could have been popped and freed). */
typedef struct sl__slot {
  _Atomic(sl__job *) job;
  _Atomic uintptr_t tag;
} sl__slot;

typedef struct sl__dbuf {
  int64_t mask;              /* capacity - 1; capacity is a power of two */
  struct sl__dbuf *retired;  /* older buffers, freed with the deque */
  sl__slot slots[];
} sl__dbuf;

/* Chase-Lev deque. top and bottom sit on separate cache lines: thieves
 * hammer top, the owner writes bottom on every push and pop. */
typedef struct sl__deque {
  _Alignas(SL_CACHELINE) _Atomic int64_t top;
  _Alignas(SL_CACHELINE) _Atomic int64_t bottom;
  _Atomic(sl__dbuf *) buf;
  /* The owner fences its pops (deque.c, THE OWNER'S FENCE): set once, by
   * the owner, when thieves took more than SL_DEQUE_STEAL_LIMIT of its last
   * SL_DEQUE_RATE_POPS pops' worth; read by thieves. */
  _Atomic bool fenced;
  uint32_t pops;                 /* owner only: pops since the last rate check */
  int64_t top_at_check;          /* owner only: top at the last rate check */
  char pad[SL_CACHELINE - 4 * sizeof(int64_t)];
} sl__deque;

/* The steal rate above which an owner goes back to fencing its pops: more
 * than SL_DEQUE_STEAL_LIMIT steals in SL_DEQUE_RATE_POPS pops (1.6%). A
 * fork-join tree is stolen from far less often (tens of steals in millions
 * of pops), a pipeline's loops about every other pop, where a membarrier per
 * steal costs more than a fence per pop. */
#define SL_DEQUE_RATE_POPS 4096u
#define SL_DEQUE_STEAL_LIMIT 64

/* The limit in force: SL_DEQUE_STEAL_LIMIT, or INT64_MAX from tests that
 * keep a deque on unfenced pops under heavy stealing (deque_test). Set
 * before the deques it should govern are used. */
extern SL_HIDDEN int64_t sl__deque_steal_limit;

/* What a steal attempt found. */
typedef enum { SL_STEAL_EMPTY, SL_STEAL_OK, SL_STEAL_RETRY, SL_STEAL_SKIP } sl__steal_rc;

/* Initializes with room for 2^log2cap jobs. 0 or SL_ENOMEM. Not thread-safe. */
SL_HIDDEN int sl__deque_init(sl__deque *d, unsigned log2cap);
/* Frees every buffer. The deque must be quiescent (no owner, no thieves). */
SL_HIDDEN void sl__deque_free(sl__deque *d);

static inline void sl__slot_put(sl__dbuf *b, int64_t i, sl__job *job, uintptr_t tag) {
  /* Relaxed: both are published by the release store of bottom (push) or of
   * buf (grow) that follows. */
  atomic_store_explicit(&b->slots[i & b->mask].job, job, memory_order_relaxed);
  atomic_store_explicit(&b->slots[i & b->mask].tag, tag, memory_order_relaxed);
}

/* Doubles the buffer, copying the live range [top, bottom), and publishes
 * it. Owner only. NULL on allocation failure (the old buffer stays). */
SL_HIDDEN sl__dbuf *sl__deque_grow(sl__deque *d, sl__dbuf *old, int64_t top, int64_t bottom);

/* Pushes job at the bottom. Owner thread only. Returns 0, or SL_ENOMEM when
 * the deque was full and could not grow (the job was not pushed). */
static inline int sl__deque_push(sl__deque *d, sl__job *job) {
  /* Relaxed: only the owner writes bottom. */
  int64_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed);
  /* Acquire: a slot freed by a steal (top moved past it) may be reused only
   * after the thief's reads of it; pairs with the CAS on top in steal. */
  int64_t t = atomic_load_explicit(&d->top, memory_order_acquire);
  sl__dbuf *buf = atomic_load_explicit(&d->buf, memory_order_relaxed);
  if (b - t > buf->mask) {
    buf = sl__deque_grow(d, buf, t, b);
    if (!buf)
      return SL_ENOMEM;
  }
  sl__slot_put(buf, b, job, job->tag);
  /* Publish slot b and the job's fields; pairs with the acquire load of
   * bottom in sl__deque_steal. */
  atomic_store_explicit(&d->bottom, b + 1, memory_order_release);
  return 0;
}

/* Whether thieves fence for the owner (see "THE OWNER'S FENCE" in deque.c):
 * set at most once, by the first sl__deque_init, before any deque exists.
 * Plain reads are race-free: every thread that touches a deque learned of
 * it after its init. */
extern SL_HIDDEN bool sl__deque_asym_fence;

/* Every SL_DEQUE_RATE_POPS unfenced pops: switches d to fenced pops for good
 * when thieves took too many jobs meanwhile. t is the top the pop read.
 * Owner only. */
SL_HIDDEN void sl__deque_rate_check(sl__deque *d, int64_t t);

/* Pops the bottom job, or NULL when empty. Owner thread only. */
static inline sl__job *sl__deque_pop(sl__deque *d) {
  int64_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed) - 1;
  sl__dbuf *buf = atomic_load_explicit(&d->buf, memory_order_relaxed);
  /* The store of bottom must be visible before we read top, or a thief and
   * the owner could both take a job (store-load order). With thieves that
   * fence for us (membarrier, deque.c) program order suffices: a compiler
   * barrier keeps the load after the store. Otherwise a seq_cst exchange and
   * a seq_cst load give it (one locked instruction on x86, as the paper's
   * fence would be); they pair with the seq_cst loads of top and bottom in
   * sl__deque_steal. ThreadSanitizer models these, not fences. */
  int64_t t;
  /* Relaxed load of fenced: only the owner writes it. */
  if (sl__deque_asym_fence && !atomic_load_explicit(&d->fenced, memory_order_relaxed)) {
    atomic_store_explicit(&d->bottom, b, memory_order_relaxed);
    atomic_signal_fence(memory_order_seq_cst);
    t = atomic_load_explicit(&d->top, memory_order_relaxed);
    if (__builtin_expect(++d->pops == SL_DEQUE_RATE_POPS, 0))
      sl__deque_rate_check(d, t);
  } else {
    atomic_exchange_explicit(&d->bottom, b, memory_order_seq_cst);
    t = atomic_load_explicit(&d->top, memory_order_seq_cst);
  }
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

/* Steals the top job into *out. Any thread. With `filter`, takes the job
 * only when its tag equals `tag`, else returns SL_STEAL_SKIP without taking
 * it. SL_STEAL_RETRY: lost a race, try again. */
SL_HIDDEN sl__steal_rc sl__deque_steal(sl__deque *d, sl__job **out, bool filter, uintptr_t tag);

/* Racy emptiness test: a hint for wake-up decisions. seq_cst loads (plain
 * moves on x86) so that it takes part in the sleepers' Dekker check
 * (sleep.c). */
static inline bool sl__deque_maybe_nonempty(sl__deque *d) {
  return atomic_load_explicit(&d->bottom, memory_order_seq_cst) >
         atomic_load_explicit(&d->top, memory_order_seq_cst);
}

#endif /* SLUICE_DEQUE_H */
