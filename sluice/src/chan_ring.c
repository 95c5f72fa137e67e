/* chan_ring.c: the bounded flavour, a lock-free MPMC ring of slots with
 * per-slot sequence stamps (Vyukov's bounded MPMC queue, 2010, in the
 * lap/index form crossbeam-channel's array flavour uses so that any
 * capacity works, not only powers of two). No lock and no syscall on any
 * path here; waiting is chan.c's and select.c's business.
 *
 * HOW IT WORKS. head and tail are positions: lap | index, where index <
 * cap occupies the low bits below mark_bit, and one_lap = 2 * mark_bit is
 * one turn of the ring. tail additionally carries mark_bit once the channel
 * is disconnected. Slot i's stamp says whose turn it is:
 *   stamp == tail      the slot is free for the sender holding position tail;
 *   stamp == head + 1  the slot holds the message for position head;
 *   stamp == head      nothing was sent into it for this lap yet (empty);
 *   stamp + one_lap == tail + 1  it still holds last lap's message (full).
 * A sender CASes tail forward, copies its message in, and stores the
 * stamp tail + 1 (release). A receiver CASes head forward, copies the
 * message out, and stores head + one_lap (release): the slot is free for the
 * sender of the next lap.
 *
 * INVARIANTS. head <= tail (as positions, without the mark); at most cap
 * positions between them. Only the winner of the CAS on a position touches
 * that slot's message bytes, and only between the CAS and its stamp store.
 * Once mark_bit is in tail, tail never changes again, so every send that
 * succeeded is before the mark and receivers drain exactly those.
 *
 * LIMITS. A sender descheduled between its CAS and its stamp store holds up
 * receivers of that slot (they snooze, yielding the core): the price of a
 * lock-free ring on every such design. cap <= SL_CHAN_MAX_CAP keeps the
 * positions far from wrapping a 64-bit word in any realistic run. */
#include "chan.h"

#include <string.h>

/* Slot header: the stamp, then the message bytes (stride covers both). */
typedef struct slot {
  _Atomic size_t stamp;
  unsigned char msg[];
} slot;

static inline slot *slot_at(sl_chan *ch, size_t index) {
  return (slot *)(ch->ring + index * ch->stride);
}

/* The position after pos: the next index, or index 0 of the next lap. */
static inline size_t next_pos(const sl_chan *ch, size_t pos) {
  size_t index = pos & (ch->mark_bit - 1);
  size_t lap = pos & ~(ch->one_lap - 1);
  return index + 1 < ch->cap ? pos + 1 : lap + ch->one_lap;
}

int sl__ring_try_send(sl_chan *ch, const void *msg) {
  unsigned step = 0;
  /* Relaxed: only a starting guess; the CAS below validates it. */
  size_t tail = atomic_load_explicit(&ch->tail, memory_order_relaxed);
  for (;;) {
    if (tail & ch->mark_bit)
      return SL_ECLOSED;
    slot *s = slot_at(ch, tail & (ch->mark_bit - 1));
    /* Acquire: pairs with the release store of the stamp in try_recv, so
     * the receiver's copy-out is done before we overwrite the bytes. */
    size_t stamp = atomic_load_explicit(&s->stamp, memory_order_acquire);
    if (stamp == tail) {
      /* seq_cst: this CAS is the sender's half of the "has waiters" Dekker
       * pairing with a registering receiver (see chan.c). */
      if (atomic_compare_exchange_weak_explicit(&ch->tail, &tail, next_pos(ch, tail),
                                                memory_order_seq_cst, memory_order_relaxed)) {
        sl__copy_msg(s->msg, msg, ch->elem);
        /* Release: publishes the message; pairs with the acquire stamp
         * load in try_recv. */
        atomic_store_explicit(&s->stamp, tail + 1, memory_order_release);
        return 0;
      }
      sl__backoff_spin(&step); /* lost the position to another sender */
    } else if (stamp + ch->one_lap == tail + 1) {
      /* Last lap's message is still there. Full unless a receiver is
       * mid-copy (head already moved). The fence orders our stamp load
       * before the head load, so a full verdict is a true snapshot. */
      atomic_thread_fence(memory_order_seq_cst);
      size_t head = atomic_load_explicit(&ch->head, memory_order_relaxed);
      if (head + ch->one_lap == tail)
        return SL_EFULL;
      sl__backoff_spin(&step);
      tail = atomic_load_explicit(&ch->tail, memory_order_relaxed);
    } else {
      /* Another sender holds this position and has not published yet. */
      sl__backoff_snooze(&step);
      tail = atomic_load_explicit(&ch->tail, memory_order_relaxed);
    }
  }
}

int sl__ring_try_recv(sl_chan *ch, void *out) {
  unsigned step = 0;
  size_t head = atomic_load_explicit(&ch->head, memory_order_relaxed); /* a guess, see send */
  for (;;) {
    slot *s = slot_at(ch, head & (ch->mark_bit - 1));
    /* Acquire: pairs with the release store of the stamp in try_send, so
     * the message bytes are visible. */
    size_t stamp = atomic_load_explicit(&s->stamp, memory_order_acquire);
    if (stamp == head + 1) {
      /* seq_cst: the receiver's half of the Dekker pairing with a
       * registering sender (chan.c). */
      if (atomic_compare_exchange_weak_explicit(&ch->head, &head, next_pos(ch, head),
                                                memory_order_seq_cst, memory_order_relaxed)) {
        sl__copy_msg(out, s->msg, ch->elem);
        /* Release: the copy-out is done, the slot is the next lap's sender's;
         * pairs with the acquire stamp load in try_send. */
        atomic_store_explicit(&s->stamp, head + ch->one_lap, memory_order_release);
        return 0;
      }
      sl__backoff_spin(&step);
    } else if (stamp == head) {
      /* Nothing sent here this lap: empty unless a sender is mid-copy. The
       * fence orders the stamp load before the tail load (as in send). */
      atomic_thread_fence(memory_order_seq_cst);
      size_t tail = atomic_load_explicit(&ch->tail, memory_order_relaxed);
      if ((tail & ~ch->mark_bit) == head)
        return (tail & ch->mark_bit) ? SL_ECLOSED : SL_EEMPTY;
      sl__backoff_snooze(&step);
      head = atomic_load_explicit(&ch->head, memory_order_relaxed);
    } else {
      sl__backoff_snooze(&step); /* another receiver is mid-copy here */
      head = atomic_load_explicit(&ch->head, memory_order_relaxed);
    }
  }
}

bool sl__ring_ready(sl_chan *ch, int kind) {
  /* seq_cst loads: the waiter's half of the Dekker pairing (chan.c): they
   * come after its seq_cst registration, so either they see the peer's CAS
   * on head/tail or the peer sees the registration. */
  size_t tail = atomic_load_explicit(&ch->tail, memory_order_seq_cst);
  if (tail & ch->mark_bit)
    return true;
  size_t head = atomic_load_explicit(&ch->head, memory_order_seq_cst);
  return kind == SL_SELECT_SEND ? head + ch->one_lap != tail : head != tail;
}

size_t sl__ring_len(const sl_chan *ch) {
  sl_chan *c = (sl_chan *)ch;
  for (;;) {
    /* Racy snapshot (diagnostics): retried until tail is stable around the
     * head load, so the pair is consistent. */
    size_t tail = atomic_load_explicit(&c->tail, memory_order_seq_cst);
    size_t head = atomic_load_explicit(&c->head, memory_order_seq_cst);
    if (atomic_load_explicit(&c->tail, memory_order_seq_cst) != tail)
      continue;
    size_t hix = head & (ch->mark_bit - 1), tix = tail & (ch->mark_bit - 1);
    if (hix < tix)
      return tix - hix;
    if (hix > tix)
      return ch->cap - hix + tix;
    return (tail & ~ch->mark_bit) == head ? 0 : ch->cap;
  }
}
