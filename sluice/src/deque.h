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
  char pad[SL_CACHELINE - sizeof(_Atomic(sl__dbuf *))];
} sl__deque;

/* What a steal attempt found. */
typedef enum { SL_STEAL_EMPTY, SL_STEAL_OK, SL_STEAL_RETRY, SL_STEAL_SKIP } sl__steal_rc;

/* Initializes with room for 2^log2cap jobs. 0 or SL_ENOMEM. Not thread-safe. */
SL_HIDDEN int sl__deque_init(sl__deque *d, unsigned log2cap);
/* Frees every buffer. The deque must be quiescent (no owner, no thieves). */
SL_HIDDEN void sl__deque_free(sl__deque *d);

/* Pushes job at the bottom. Owner thread only. Returns 0, or SL_ENOMEM when
 * the deque was full and could not grow (the job was not pushed). */
SL_HIDDEN int sl__deque_push(sl__deque *d, sl__job *job);

/* Pops the bottom job, or NULL when empty. Owner thread only. */
SL_HIDDEN sl__job *sl__deque_pop(sl__deque *d);

/* Steals the top job into *out. Any thread. With `filter`, takes the job
 * only when its tag equals `tag`, else returns SL_STEAL_SKIP without taking
 * it. SL_STEAL_RETRY: lost a race, try again. */
SL_HIDDEN sl__steal_rc sl__deque_steal(sl__deque *d, sl__job **out, bool filter, uintptr_t tag);

/* Racy emptiness test (relaxed loads): a hint for wake-up decisions. */
static inline bool sl__deque_maybe_nonempty(sl__deque *d) {
  return atomic_load_explicit(&d->bottom, memory_order_relaxed) >
         atomic_load_explicit(&d->top, memory_order_relaxed);
}

#endif /* SLUICE_DEQUE_H */
