/* chan_zero.c: the rendezvous flavour (capacity 0). A send completes only by
 * handing its message to a receiver, so there is no buffer: each side waits
 * in its queue with a pointer to its own buffer, and the partner copies
 * directly between the two buffers.
 *
 * HOW IT WORKS. Everything happens under ch->lock; there is no lock-free
 * part, because a handoff always involves a waiting thread and so a wake
 * anyway. try_send looks for a receiver entry it can claim (CAS of the
 * waiter's sel to "done"), copies the message into that entry's buffer,
 * unlinks it, and releases the receiver after unlocking. try_recv is the
 * mirror image. A waiter that is claimed this way has completed its
 * operation without running again; its buffer stayed valid because it does
 * not return before it is released.
 *
 * INVARIANTS. A waiter is claimed at most once (the CAS), and its entry's
 * buffer is written or read only by the claimant, under the lock, before the
 * release. The closed state is tail's mark bit, set under the lock.
 *
 * LIMITS. A select that sends and receives on the same rendezvous channel
 * never pairs with itself (`self`); two selects can pair with each other. */
#include "chan.h"

#include <string.h>

int sl__zero_try(sl_chan *ch, int kind, void *msg, const sl__waiter *self) {
  if (pthread_mutex_lock(&ch->lock) != 0)
    return sl__busy(kind); /* cannot happen for a default mutex; stay safe */
  if (atomic_load_explicit(&ch->tail, memory_order_relaxed) & ch->mark_bit) {
    pthread_mutex_unlock(&ch->lock); /* relaxed: the mark is set under this lock */
    return SL_ECLOSED;
  }
  sl__waitq *q = kind == SL_SELECT_SEND ? &ch->recvq : &ch->sendq;
  sl__entry *e = sl__waitq_claim_locked(q, self, true);
  if (!e) {
    pthread_mutex_unlock(&ch->lock);
    return sl__busy(kind);
  }
  if (kind == SL_SELECT_SEND)
    sl__copy_msg(e->msg, msg, ch->elem);
  else
    sl__copy_msg(msg, e->msg, ch->elem);
  sl__waiter *w = e->w; /* e may vanish once w is released */
  pthread_mutex_unlock(&ch->lock);
  sl__waiter_release(w);
  return 0;
}

bool sl__zero_ready(sl_chan *ch, int kind, const sl__waiter *self) {
  bool ready = true; /* on a lock failure, say ready: the caller retries */
  if (pthread_mutex_lock(&ch->lock) != 0)
    return ready;
  if (!(atomic_load_explicit(&ch->tail, memory_order_relaxed) & ch->mark_bit)) {
    ready = false;
    sl__waitq *q = kind == SL_SELECT_SEND ? &ch->recvq : &ch->sendq;
    for (sl__entry *e = q->head; e && !ready; e = e->next)
      /* Relaxed: a racy hint; claiming re-checks with a CAS. */
      ready = e->w != self &&
              atomic_load_explicit(&e->w->sel, memory_order_relaxed) == SL__SEL_WAITING;
  }
  pthread_mutex_unlock(&ch->lock);
  return ready;
}
