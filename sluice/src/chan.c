/* chan.c: MPMC channels: creation, counted handles, close, the registry of
 * live channels, the wait queues, and the public send/recv calls. The three
 * flavours' data paths live in chan_ring.c (bounded), chan_list.c
 * (unbounded) and chan_zero.c (rendezvous); the one blocking loop, shared
 * with select, in select.c. Messages are fixed-size values copied in and
 * out, so a channel never allocates per message (the list flavour allocates
 * one block per 31 messages).
 *
 * Why this shape: the peers to beat are crossbeam-channel and Go. The data
 * paths are lock-free (crossbeam's array and list designs); waiting is kept
 * entirely off them. We rejected a mutex+condvar ring (the c-condvar peer,
 * several times slower under contention) and Go's lock-per-operation
 * channel (fast with goroutines, slow with OS threads that must park).
 *
 * HOW IT WORKS.
 * - Fast path: sl__chan_try runs the flavour's lock-free try; on success it
 *   looks at the other side's queue count (q->n) and, only if non-zero,
 *   takes the lock to claim and wake one waiter. No lock, no syscall when
 *   nobody is parked.
 * - Slow path (select.c): spin briefly with backoff while watching for
 *   readiness, then register an entry in the queue (under ch->lock, q->n++),
 *   re-check readiness, and park on the waiter's futex word via sl__wait.
 * - "Has waiters" (the one subtle ordering): a waiter does n++ (seq_cst)
 *   then loads head/tail (seq_cst); a peer does its CAS on head/tail
 *   (seq_cst) then loads n (seq_cst). In the single total order of seq_cst
 *   operations one of the two comes first, so either the waiter sees the
 *   peer's progress and does not park, or the peer sees n > 0 and wakes it.
 *   This is the store-buffering (Dekker) pattern; no extra fence is needed
 *   because all four accesses are seq_cst.
 * - A claim is exclusive (CAS on the waiter's sel, see chan.h) and the
 *   claimant unlinks the claimed entry, so each success wakes at most one
 *   waiter, and a woken select retries the claimed operation first, so a
 *   wake is never spent on a thread that then does something else while the
 *   message sits unclaimed.
 * - Close and the last handle of a side set tail's mark bit (an RMW under
 *   ch->lock) and claim every waiting entry; woken threads retry and see
 *   the mark. Sends fail once the mark is set; receives drain, then fail.
 *
 * INVARIANTS. q->n equals the number of linked entries of q; entries are
 * linked and unlinked under ch->lock only. A channel is freed exactly once:
 * by the second side whose handle count reaches 0 (one_side_gone exchange),
 * after the first side's disconnect has fully returned. The registry lock
 * is taken at create and free only (and by sl__chan_foreach).
 *
 * LIMITS. A use after the last handle is dropped is a use after free; the
 * magic check catches it only while the memory is not reused. Waiting is
 * not cancelable other than by close or a deadline. */
#include "chan.h"

#include "cont.h"

#include <string.h>

#define NAME_MAX_BYTES 63 /* longer names are truncated; they are for reports */

/* ---- registry of live channels -------------------------------------------- */

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER; /* guards reg_head and reg links */
static sl_chan *reg_head;

static void registry_add(sl_chan *ch) {
  pthread_mutex_lock(&reg_lock);
  ch->reg_prev = NULL;
  ch->reg_next = reg_head;
  if (reg_head)
    reg_head->reg_prev = ch;
  reg_head = ch;
  pthread_mutex_unlock(&reg_lock);
}

static void registry_remove(sl_chan *ch) {
  pthread_mutex_lock(&reg_lock);
  if (ch->reg_prev)
    ch->reg_prev->reg_next = ch->reg_next;
  else
    reg_head = ch->reg_next;
  if (ch->reg_next)
    ch->reg_next->reg_prev = ch->reg_prev;
  pthread_mutex_unlock(&reg_lock);
}

void sl__chan_foreach(void (*fn)(sl_chan *ch, void *arg), void *arg) {
  if (!fn)
    return;
  pthread_mutex_lock(&reg_lock);
  for (sl_chan *ch = reg_head; ch; ch = ch->reg_next)
    fn(ch, arg);
  pthread_mutex_unlock(&reg_lock);
}

/* ---- create and free ------------------------------------------------------- */

static size_t next_pow2(size_t x) {
  size_t p = 1;
  while (p < x)
    p <<= 1;
  return p;
}

/* Sets up the flavour's part; 0 or SL_ENOMEM (nothing left allocated). */
static int init_flavor(sl_chan *ch, size_t cap) {
  if (cap == SL_CHAN_RENDEZVOUS) {
    ch->flavor = SL__CHAN_ZERO;
    ch->mark_bit = 1;
    return 0;
  }
  if (cap == SL_CHAN_UNBOUNDED) {
    ch->flavor = SL__CHAN_LIST;
    ch->mark_bit = 1; /* chan_list.c's MARK */
    return sl__list_init(ch);
  }
  ch->flavor = SL__CHAN_RING;
  ch->mark_bit = next_pow2(cap + 1);
  ch->one_lap = ch->mark_bit * 2;
  size_t bytes;
  if (__builtin_mul_overflow(cap, ch->stride, &bytes))
    return SL_ENOMEM;
  ch->ring = sl__aligned_alloc(SL_CACHELINE, bytes);
  if (!ch->ring)
    return SL_ENOMEM;
  /* Slot i starts free for position i of lap 0 (chan_ring.c). Relaxed
   * via atomic_init: the channel is published later by *out. */
  for (size_t i = 0; i < cap; i++)
    atomic_init((_Atomic size_t *)(ch->ring + i * ch->stride), i);
  return 0;
}

/* sl_chan_create, and sl__chan_create_internal with jobs_pool set. */
static int chan_create(sl_chan **out, const char *name, size_t elem_size, size_t cap,
                       const sl_pool *jobs_pool) {
  if (!out || elem_size == 0 || elem_size > SL_CHAN_MAX_ELEM)
    return SL_EINVAL;
  sl__watchdog_from_env();
  if (cap != SL_CHAN_UNBOUNDED && cap > SL_CHAN_MAX_CAP)
    return SL_EINVAL;
  if (!name)
    name = "chan";
  size_t nlen = strnlen(name, NAME_MAX_BYTES);
  sl_chan *ch = sl__aligned_alloc(SL_CACHELINE, sizeof *ch + nlen + 1);
  if (!ch)
    return SL_ENOMEM;
  memset(ch, 0, sizeof *ch);
  memcpy(ch->name_buf, name, nlen);
  ch->name_buf[nlen] = '\0';
  ch->name = ch->name_buf;
  ch->jobs_pool = jobs_pool; /* published to the detector by registry_add's lock */
  ch->elem = elem_size;
  ch->cap = cap;
  /* A size_t header (stamp or state) then the message, rounded to 8. */
  ch->stride = (sizeof(size_t) + elem_size + 7) & ~(size_t)7;
  int rc = init_flavor(ch, cap);
  if (rc)
    goto out_free_chan;
  if (pthread_mutex_init(&ch->lock, NULL) != 0) {
    rc = SL_ENOMEM;
    goto out_free_flavor;
  }
  atomic_init(&ch->senders, 1);
  atomic_init(&ch->receivers, 1);
  atomic_init(&ch->send_cpu, -1);
  atomic_init(&ch->recv_cpu, -1);
  atomic_init(&ch->send_shared, false);
  atomic_init(&ch->recv_shared, false);
  ch->magic = SL__CHAN_MAGIC;
  registry_add(ch);
  *out = ch;
  return 0;

out_free_flavor:
  if (ch->flavor == SL__CHAN_LIST)
    sl__list_free(ch);
  sl__free(ch->ring);
out_free_chan:
  sl__free(ch);
  return rc;
}

int sl_chan_create(sl_chan **out, const char *name, size_t elem_size, size_t cap) {
  return chan_create(out, name, elem_size, cap, NULL);
}

int sl__chan_create_internal(sl_chan **out, const char *name, size_t elem_size, size_t cap,
                             const sl_pool *pool) {
  return chan_create(out, name, elem_size, cap, pool);
}

/* Only once both handle counts are 0: no operation can be running. */
static void chan_free(sl_chan *ch) {
  registry_remove(ch);
  if (ch->flavor == SL__CHAN_LIST)
    sl__list_free(ch);
  sl__free(ch->ring);
  pthread_mutex_destroy(&ch->lock);
  ch->magic = 0;
  sl__free(ch);
}

/* ---- wait queues ----------------------------------------------------------- */

static void waitq_unlink_locked(sl__waitq *q, sl__entry *e) {
  if (e->prev)
    e->prev->next = e->next;
  else
    q->head = e->next;
  if (e->next)
    e->next->prev = e->prev;
  else
    q->tail = e->prev;
  e->linked = false;
  /* Relaxed: under the lock; the fast path only needs "non-zero", and an
   * n that is too high costs one needless lock. */
  atomic_fetch_sub_explicit(&q->n, 1, memory_order_relaxed);
}

sl__entry *sl__waitq_claim_locked(sl__waitq *q, const sl__waiter *self, bool done) {
  for (sl__entry *e = q->head; e; e = e->next) {
    if (e->w == self)
      continue;
    uintptr_t expect = SL__SEL_WAITING;
    uintptr_t claim = done ? sl__sel_done(e->index) : sl__sel_hint(e->index);
    /* acq_rel: makes the claim exclusive against the waiter's own abort
     * CAS (park in select.c) and other claimants. */
    if (atomic_compare_exchange_strong_explicit(&e->w->sel, &expect, claim, memory_order_acq_rel,
                                                memory_order_relaxed)) {
      waitq_unlink_locked(q, e);
      return e;
    }
  }
  return NULL;
}

void sl__waiter_release(sl__waiter *w) {
  /* Release: publishes the claim (and a rendezvous copy); pairs with the
   * acquire load of word in park() (select.c). After this store the waiter
   * may return; the wake below only names the address, which the kernel
   * tolerates even if the frame is gone (at worst a spurious wake). A
   * suspended waiter cannot return before sl__cont_wake, so w->cont is
   * still there to read (acquire: the waiter stored it before its CAS). */
  uint32_t old = atomic_exchange_explicit(&w->word, SL__WORD_RELEASED, memory_order_acq_rel);
  if (old == SL__WORD_PARKED)
    sl__wake(&w->word, 1);
  else if (old == SL__WORD_SUSPENDED)
    sl__cont_wake(w->cont);
}

static sl__waitq *queue_of(sl_chan *ch, int kind) {
  return kind == SL_SELECT_SEND ? &ch->sendq : &ch->recvq;
}

void sl__chan_register(sl_chan *ch, int kind, sl__entry *e) {
  sl__waitq *q = queue_of(ch, kind);
  pthread_mutex_lock(&ch->lock);
  e->next = NULL;
  e->prev = q->tail;
  if (q->tail)
    q->tail->next = e;
  else
    q->head = e;
  q->tail = e;
  e->linked = true;
  /* seq_cst: the waiter's half of the has-waiters pairing (file top): it
   * precedes the waiter's seq_cst readiness loads. */
  atomic_fetch_add_explicit(&q->n, 1, memory_order_seq_cst);
  pthread_mutex_unlock(&ch->lock);
}

void sl__chan_unregister(sl_chan *ch, int kind, sl__entry *e) {
  pthread_mutex_lock(&ch->lock);
  if (e->linked)
    waitq_unlink_locked(queue_of(ch, kind), e);
  pthread_mutex_unlock(&ch->lock);
}

/* After a successful operation of `kind`: wake one waiter of the other
 * side, if any. */
static void notify_one(sl_chan *ch, int kind) {
  sl__waitq *q = kind == SL_SELECT_SEND ? &ch->recvq : &ch->sendq;
  /* seq_cst: the peer's half of the has-waiters pairing (file top); it
   * follows our seq_cst CAS on head or tail. */
  if (atomic_load_explicit(&q->n, memory_order_seq_cst) == 0)
    return;
  /* The waiter will decide how long to spin next time by where we run
   * (chan_spin.c); a thread that never waits is seen here only. */
  sl__chan_note_cpu(ch, kind, sched_getcpu());
  pthread_mutex_lock(&ch->lock);
  sl__entry *e = sl__waitq_claim_locked(q, NULL, false);
  sl__waiter *w = e ? e->w : NULL;
  pthread_mutex_unlock(&ch->lock);
  if (w)
    sl__waiter_release(w);
}

/* Claims every claimable entry of q onto *list (linked by next). Locked. */
static void claim_all_locked(sl__waitq *q, sl__entry **list) {
  sl__entry *e;
  while ((e = sl__waitq_claim_locked(q, NULL, false)) != NULL) {
    e->next = *list;
    *list = e;
  }
}

void sl__chan_disconnect(sl_chan *ch) {
  sl__entry *woken = NULL;
  pthread_mutex_lock(&ch->lock);
  /* seq_cst RMW: senders' CASes on tail fail from now on; a waiter that
   * registers after our unlock sees the mark in its seq_cst re-check. */
  size_t old = atomic_fetch_or_explicit(&ch->tail, ch->mark_bit, memory_order_seq_cst);
  if (!(old & ch->mark_bit)) {
    claim_all_locked(&ch->sendq, &woken);
    claim_all_locked(&ch->recvq, &woken);
  }
  pthread_mutex_unlock(&ch->lock);
  while (woken) {
    sl__entry *next = woken->next; /* read before the release frees the frame */
    sl__waiter_release(woken->w);
    woken = next;
  }
}

/* ---- dispatch -------------------------------------------------------------- */

/* Remembers who last used each end, for the stall detector's verdict, and
 * flags an end a second thread uses, for the spin policy (chan_spin.c). The
 * fields sit on the cache line that end already writes; they are stored
 * only on a change of thread, so a steady producer or consumer pays one
 * load. Relaxed: hints read racily. */
static void note_peer(sl_chan *ch, int kind) {
  _Atomic(const void *) *slot = kind == SL_SELECT_SEND ? &ch->last_sender : &ch->last_receiver;
  const void *self = sl__self()->job;
  const void *last = atomic_load_explicit(slot, memory_order_relaxed);
  if (last == self)
    return;
  atomic_store_explicit(slot, self, memory_order_relaxed);
  if (last) /* a second thread at this end: tell the spin policy (chan_spin.c) */
    sl__chan_mark_shared(ch, kind);
}

const void *sl__chan_last_peer(const sl_chan *ch, int kind) {
  sl_chan *c = (sl_chan *)ch;
  return atomic_load_explicit(kind == SL_SELECT_SEND ? &c->last_sender : &c->last_receiver,
                              memory_order_relaxed);
}

int sl__chan_try(sl_chan *ch, int kind, void *msg, const sl__waiter *self) {
  int rc;
  switch (ch->flavor) {
  case SL__CHAN_RING:
    rc = kind == SL_SELECT_SEND ? sl__ring_try_send(ch, msg) : sl__ring_try_recv(ch, msg);
    break;
  case SL__CHAN_LIST:
    rc = kind == SL_SELECT_SEND ? sl__list_try_send(ch, msg) : sl__list_try_recv(ch, msg);
    break;
  default:
    rc = sl__zero_try(ch, kind, msg, self); /* pairs directly, nobody to notify */
    if (rc == 0)
      note_peer(ch, kind);
    return rc;
  }
  if (rc == 0) {
    note_peer(ch, kind);
    notify_one(ch, kind);
  }
  return rc;
}

bool sl__chan_ready(sl_chan *ch, int kind, const sl__waiter *self) {
  switch (ch->flavor) {
  case SL__CHAN_RING:
    return sl__ring_ready(ch, kind);
  case SL__CHAN_LIST:
    return sl__list_ready(ch, kind);
  default:
    return sl__zero_ready(ch, kind, self);
  }
}

/* ---- handles and close ----------------------------------------------------- */

static int add_handle(_Atomic size_t *count) {
  /* Relaxed: a new handle publishes nothing; the caller already holds one. */
  size_t n = atomic_load_explicit(count, memory_order_relaxed);
  do {
    if (n == 0)
      return SL_EINVAL; /* that side is gone for good */
  } while (!atomic_compare_exchange_weak_explicit(count, &n, n + 1, memory_order_relaxed,
                                                  memory_order_relaxed));
  return 0;
}

static void drop_handle(sl_chan *ch, _Atomic size_t *count) {
  size_t n = atomic_load_explicit(count, memory_order_relaxed);
  do {
    if (n == 0)
      return; /* an extra drop is ignored, not a crash */
    /* acq_rel: the last dropper acquires every earlier dropper's use of
     * the channel (release sequence), and passes it on to the freer. */
  } while (!atomic_compare_exchange_weak_explicit(count, &n, n - 1, memory_order_acq_rel,
                                                  memory_order_relaxed));
  if (n != 1)
    return;
  sl__chan_disconnect(ch);
  /* acq_rel: the second side to get here frees, after everything the first
   * side did (its disconnect included) happened before. */
  if (atomic_exchange_explicit(&ch->one_side_gone, true, memory_order_acq_rel))
    chan_free(ch);
}

int sl_chan_add_sender(sl_chan *ch) { return sl__chan_valid(ch) ? add_handle(&ch->senders) : SL_EINVAL; }

int sl_chan_add_receiver(sl_chan *ch) {
  return sl__chan_valid(ch) ? add_handle(&ch->receivers) : SL_EINVAL;
}

void sl_chan_drop_sender(sl_chan *ch) {
  if (sl__chan_valid(ch))
    drop_handle(ch, &ch->senders);
}

void sl_chan_drop_receiver(sl_chan *ch) {
  if (sl__chan_valid(ch))
    drop_handle(ch, &ch->receivers);
}

int sl_chan_close(sl_chan *ch) {
  if (!sl__chan_valid(ch))
    return SL_EINVAL;
  sl__chan_disconnect(ch);
  return 0;
}

/* ---- send and receive ------------------------------------------------------ */

/* The one path of every send and receive: a try, then (timeout not 0) the
 * blocking loop of select.c with a single operation. */
static int chan_op(sl_chan *ch, int kind, void *msg, int64_t timeout_ns) {
  if (!sl__chan_valid(ch) || !msg)
    return SL_EINVAL;
  int rc = sl__chan_try(ch, kind, msg, NULL);
  if (rc == 0) {
    sl__progress(sl__self());
    return 0;
  }
  if (rc != sl__busy(kind) || timeout_ns == 0)
    return rc;
  sl_select_op op = {.chan = ch, .kind = kind, .msg = msg};
  size_t index;
  return sl__chan_wait_ops(&op, 1, sl__deadline(timeout_ns),
                           kind == SL_SELECT_SEND ? SL_OP_SEND : SL_OP_RECV, &index);
}

/* The const is cast away for the shared path only; sends never write *msg. */
int sl_chan_send(sl_chan *ch, const void *msg) {
  return chan_op(ch, SL_SELECT_SEND, (void *)msg, SL_FOREVER);
}
int sl_chan_try_send(sl_chan *ch, const void *msg) { return chan_op(ch, SL_SELECT_SEND, (void *)msg, 0); }
int sl_chan_send_timeout(sl_chan *ch, const void *msg, int64_t timeout_ns) {
  return chan_op(ch, SL_SELECT_SEND, (void *)msg, timeout_ns);
}

int sl_chan_recv(sl_chan *ch, void *out) { return chan_op(ch, SL_SELECT_RECV, out, SL_FOREVER); }
int sl_chan_try_recv(sl_chan *ch, void *out) { return chan_op(ch, SL_SELECT_RECV, out, 0); }
int sl_chan_recv_timeout(sl_chan *ch, void *out, int64_t timeout_ns) {
  return chan_op(ch, SL_SELECT_RECV, out, timeout_ns);
}

/* ---- introspection --------------------------------------------------------- */

const char *sl_chan_name(const sl_chan *ch) { return sl__chan_valid(ch) ? ch->name : NULL; }

size_t sl_chan_len(const sl_chan *ch) {
  if (!sl__chan_valid(ch))
    return 0;
  switch (ch->flavor) {
  case SL__CHAN_RING:
    return sl__ring_len(ch);
  case SL__CHAN_LIST:
    return sl__list_len(ch);
  default:
    return 0;
  }
}

size_t sl_chan_capacity(const sl_chan *ch) { return sl__chan_valid(ch) ? ch->cap : 0; }

/* Relaxed loads: racy snapshots for reports. */
size_t sl_chan_senders(const sl_chan *ch) {
  return sl__chan_valid(ch) ? atomic_load_explicit(&((sl_chan *)ch)->senders, memory_order_relaxed) : 0;
}

size_t sl_chan_receivers(const sl_chan *ch) {
  return sl__chan_valid(ch) ? atomic_load_explicit(&((sl_chan *)ch)->receivers, memory_order_relaxed)
                            : 0;
}

bool sl_chan_is_closed(const sl_chan *ch) { return !sl__chan_valid(ch) || sl__chan_closed(ch); }
