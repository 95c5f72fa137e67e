/* select.c: sl_select, and the one blocking loop behind every channel wait:
 * a blocking send or receive is a select of one operation. The loop is
 * crossbeam-channel's select protocol, reduced to what fixed-size copied
 * messages need.
 *
 * HOW IT WORKS. One round:
 *   1. Try: the operation a previous round was woken for, first; then every
 *      operation, starting at a random index (fairness: with several ready,
 *      each is equally likely to be first).
 *   2. Spin, watching readiness without locks: briefly when threads
 *      outnumber cores, for up to 50 us when the peer runs on a core of its
 *      own (the policy and its measurements are in chan_spin.c).
 *   3. Register an entry per operation (chan.c), then re-check readiness
 *      with seq_cst loads (the Dekker pairing described in chan.c). If one
 *      is ready, withdraw (CAS sel WAITING -> ABORTED); else spin briefly on
 *      the waiter's word, then park on it through sl__wait until a claimant
 *      releases it or the deadline passes (a job of a pool with
 *      continuations that waits without a deadline is suspended instead,
 *      and the claimant's release wakes the job: cont.c).
 *   4. Unregister what the claimant did not unlink. A rendezvous claim means
 *      the operation is complete; any other claim names the operation to
 *      retry first in the next round.
 *
 * INVARIANTS. The waiter and its entries live on this stack frame for one
 * round; no entry of the round is linked when the round ends, and no one
 * touches the waiter after releasing it (chan.c). A timed-out waiter either
 * withdraws (its CAS wins, nobody will claim it) or was claimed and waits,
 * without a deadline, for the release that is already on its way.
 *
 * LIMITS. At most SL_SELECT_MAX operations (the entries are on the stack).
 * Registering takes each channel's lock once per round. */
#include "chan.h"

#include "cont.h"

/* Step 1: tries the hinted operation, then all from a random start. True
 * when one completed or failed for good (*index, *rc set). */
static bool try_all(sl_select_op *ops, size_t n, uintptr_t hint, size_t *index, int *rc) {
  if (hint >= 2) {
    size_t i = sl__sel_index(hint);
    int r = sl__chan_try(ops[i].chan, ops[i].kind, ops[i].msg, NULL);
    if (r != sl__busy(ops[i].kind)) {
      *index = i, *rc = r;
      return true;
    }
  }
  size_t i = n > 1 ? sl__rand_below(sl__self(), (uint32_t)n) : 0;
  for (size_t k = 0; k < n; k++, i = i + 1 < n ? i + 1 : 0) {
    int r = sl__chan_try(ops[i].chan, ops[i].kind, ops[i].msg, NULL);
    if (r != sl__busy(ops[i].kind)) {
      *index = i, *rc = r;
      return true;
    }
  }
  return false;
}

/* Suspends the calling job on w when its pool has continuations (cont.c).
 * False when it may not, or when w was released first. */
static bool suspend(sl__waiter *w, sl__op op, const void *obj) {
  sl__thread *t = sl__self();
  sl__cont *c = sl__cont_prepare(t);
  if (!c)
    return false;
  w->cont = c;
  uint32_t word = SL__WORD_WAITING;
  /* Release: publishes w->cont to the releaser's exchange. */
  if (!atomic_compare_exchange_strong_explicit(&w->word, &word, SL__WORD_SUSPENDED,
                                               memory_order_release, memory_order_relaxed))
    return false;
  sl__cont_suspend(t, c, op, obj);
  return true;
}

/* Step 3's sleep: until released, or the deadline with a successful
 * withdrawal. A job of a pool with continuations is suspended instead when
 * it waits without a deadline. Returns the waiter's final sel. */
static uintptr_t park(sl__waiter *w, sl__op op, const void *obj, int64_t deadline) {
  /* A short spin first: a partner that is already on its way (a rendezvous
   * peer, a consumer mid-drain) releases us without a futex on either side.
   * Acquire: as below. */
  for (unsigned step = 0; step <= SL__SPIN_LIMIT; )
    if (atomic_load_explicit(&w->word, memory_order_acquire) == SL__WORD_RELEASED)
      return atomic_load_explicit(&w->sel, memory_order_relaxed);
    else
      sl__backoff_spin(&step);
  for (;;) {
    /* Acquire: pairs with the release exchange in sl__waiter_release, so
     * the claim and a rendezvous copy into our buffer are visible. */
    uint32_t word = atomic_load_explicit(&w->word, memory_order_acquire);
    if (word == SL__WORD_RELEASED)
      return atomic_load_explicit(&w->sel, memory_order_relaxed); /* ordered by the acquire */
    if (word == SL__WORD_WAITING && deadline < 0 && suspend(w, op, obj))
      continue; /* resumed: released */
    /* Relaxed: PARKED only tells the releaser to make the syscall; the
     * futex compares the word itself. */
    if (word == SL__WORD_WAITING &&
        !atomic_compare_exchange_strong_explicit(&w->word, &word, SL__WORD_PARKED,
                                                 memory_order_relaxed, memory_order_relaxed))
      continue; /* released meanwhile */
    if (sl__wait(&w->word, SL__WORD_PARKED, op, obj, true, deadline) == SL_ETIMEDOUT) {
      uintptr_t expect = SL__SEL_WAITING;
      /* acq_rel: races the claimants' CAS in sl__waitq_claim_locked. */
      if (atomic_compare_exchange_strong_explicit(&w->sel, &expect, SL__SEL_ABORTED,
                                                  memory_order_acq_rel, memory_order_relaxed))
        return SL__SEL_ABORTED;
      deadline = -1; /* claimed just now: the release is imminent */
    }
  }
}

/* Steps 3 and 4: one registration round. Returns the waiter's sel. */
static uintptr_t wait_round(sl_select_op *ops, size_t n, sl__entry *entries, sl__op op,
                            int64_t deadline) {
  sl__waiter w;
  atomic_init(&w.word, SL__WORD_WAITING);
  atomic_init(&w.sel, SL__SEL_WAITING);
  for (size_t i = 0; i < n; i++) {
    entries[i] = (sl__entry){.w = &w, .index = i, .msg = ops[i].msg};
    sl__chan_register(ops[i].chan, ops[i].kind, &entries[i]);
  }
  uintptr_t sel = SL__SEL_WAITING;
  for (size_t i = 0; i < n; i++) {
    if (sl__chan_ready(ops[i].chan, ops[i].kind, &w)) {
      uintptr_t expect = SL__SEL_WAITING;
      /* acq_rel: as in park(); losing means a claimant got us first. */
      if (atomic_compare_exchange_strong_explicit(&w.sel, &expect, SL__SEL_ABORTED,
                                                  memory_order_acq_rel, memory_order_relaxed))
        sel = SL__SEL_ABORTED;
      break;
    }
  }
  if (sel != SL__SEL_ABORTED) {
    sel = park(&w, op, ops[0].chan, deadline);
    /* Where the wake put us, for the peers' spin decision (chan_spin.c). */
    sl__chan_note_cpus(ops, n, sched_getcpu());
  }
  /* The claimant unlinked the claimed entry; the others are ours to unlink. */
  bool claimed = sel >= 2;
  for (size_t i = 0; i < n; i++)
    if (!claimed || sl__sel_index(sel) != i)
      sl__chan_unregister(ops[i].chan, ops[i].kind, &entries[i]);
  return sel;
}

/* Steps 2 to 4, after a try found nothing ready: spin, register and park,
 * try again (first the operation a claimant named), until done. */
static int wait_loop(sl_select_op *ops, size_t n, int64_t deadline, sl__op op, size_t *index) {
  sl__entry entries[SL_SELECT_MAX];
  for (;;) {
    if (deadline >= 0 && sl_now_ns() >= deadline)
      return SL_ETIMEDOUT;
    uintptr_t hint = SL__SEL_WAITING;
    if (!sl__chan_spin(ops, n, deadline)) {
      uintptr_t sel = wait_round(ops, n, entries, op, deadline);
      if (sl__sel_is_done(sel)) { /* a rendezvous partner completed it */
        *index = sl__sel_index(sel);
        return 0;
      }
      if (sel >= 2)
        hint = sel;
    }
    int rc;
    if (try_all(ops, n, hint, index, &rc))
      return rc;
  }
}

/* Records a select's operations on the thread for stall reports (the record
 * keeps SL__SEL_SHOWN of them and the count). Slow path only: the caller is
 * about to wait. Relaxed: read racily by the detector. */
static void note_select(sl__thread *t, const sl_select_op *ops, size_t n) {
  for (size_t i = 0; i < n && i < SL__SEL_SHOWN; i++)
    atomic_store_explicit(&t->sel_ops[i],
                          (uintptr_t)ops[i].chan | (ops[i].kind == SL_SELECT_SEND),
                          memory_order_relaxed);
  atomic_store_explicit(&t->sel_n, (unsigned)n, memory_order_relaxed);
}

int sl__chan_wait_ops(sl_select_op *ops, size_t n, int64_t deadline, sl__op op, size_t *index) {
  int rc;
  sl__thread *t = sl__self();
  if (!try_all(ops, n, SL__SEL_WAITING, index, &rc)) {
    if (op == SL_OP_SELECT)
      note_select(t, ops, n);
    const sl_pool *pool = atomic_load_explicit(&t->pool, memory_order_relaxed);
    sl__trace(SL_TRACE_CHAN_WAIT, pool, ops[0].chan);
    rc = wait_loop(ops, n, deadline, op, index);
    sl__trace(SL_TRACE_CHAN_DONE, pool, ops[0].chan);
  }
  if (rc == 0)
    sl__progress(t);
  return rc;
}

int sl_select(sl_select_op *ops, size_t n, int64_t timeout_ns, size_t *index) {
  if (!ops || !index || n == 0 || n > SL_SELECT_MAX)
    return SL_EINVAL;
  for (size_t i = 0; i < n; i++)
    if (!sl__chan_valid(ops[i].chan) || !ops[i].msg ||
        (ops[i].kind != SL_SELECT_SEND && ops[i].kind != SL_SELECT_RECV))
      return SL_EINVAL;
  if (timeout_ns == 0) {
    int rc;
    if (!try_all(ops, n, SL__SEL_WAITING, index, &rc))
      return SL_EEMPTY;
    if (rc == 0)
      sl__progress(sl__self());
    return rc;
  }
  return sl__chan_wait_ops(ops, n, sl__deadline(timeout_ns), SL_OP_SELECT, index);
}
