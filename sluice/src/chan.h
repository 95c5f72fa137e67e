/* chan.h: what the channel files share and nobody else sees: the channel
 * record, the waiter and its queue entries, and the three flavours' try /
 * ready calls. chan.c owns the record (create, handles, close, registry,
 * wait queues), chan_ring.c is the bounded flavour, chan_list.c the
 * unbounded one, chan_zero.c the rendezvous one, select.c the one blocking
 * loop that every send, recv and select goes through. The design essay is
 * at the top of chan.c; the stall detector uses only sl__chan_foreach.
 *
 * WAITERS IN ONE PARAGRAPH. A thread that must wait puts an sl__waiter on
 * its stack and links one sl__entry per operation into the wait queue of
 * each channel involved (sendq for a send, recvq for a receive). Whoever
 * makes an operation possible claims the waiter with one CAS on w->sel
 * (WAITING -> a value naming the operation), unlinks that entry, and then
 * releases the waiter (w->word = 1, futex wake if it parked). The CAS makes
 * the claim exclusive, so a select is completed or woken at most once per
 * round. For bounded and unbounded channels a claim is a hint ("operation i
 * may proceed now, retry it"); for rendezvous channels it is the handoff
 * itself ("operation i is done, the message was copied"). */
#ifndef SLUICE_CHAN_H
#define SLUICE_CHAN_H

#include "internal.h"

#include <sched.h>
#include <stdalign.h>
#include <string.h>

/* ---- waiters -------------------------------------------------------------- */

/* w->sel values. A claim stores sl__sel_hint(i) or sl__sel_done(i). */
enum { SL__SEL_WAITING = 0, SL__SEL_ABORTED = 1 };
static inline uintptr_t sl__sel_hint(size_t i) { return 2 + 2 * (uintptr_t)i; }
static inline uintptr_t sl__sel_done(size_t i) { return 3 + 2 * (uintptr_t)i; }
static inline bool sl__sel_is_done(uintptr_t s) { return s >= 2 && (s & 1); }
static inline size_t sl__sel_index(uintptr_t s) { return (size_t)((s - 2) / 2); }

/* w->word values: the futex word the waiter sleeps on. */
enum { SL__WORD_WAITING = 0, SL__WORD_RELEASED = 1, SL__WORD_PARKED = 2, SL__WORD_SUSPENDED = 3 };

/* One waiting thread; lives on its stack for one round of waiting. */
typedef struct sl__waiter {
  _Atomic uint32_t word;  /* futex word, see SL__WORD_*; the claimant sets RELEASED */
  _Atomic uintptr_t sel;  /* SL__SEL_*, or the claim; one CAS away from WAITING */
  struct sl__cont *cont;  /* word SUSPENDED: the suspended job to wake (cont.c) */
} sl__waiter;

/* One operation of a waiter, linked into one channel's queue. Fields other
 * than the links are written before linking and read-only after. */
typedef struct sl__entry {
  struct sl__entry *prev, *next; /* queue links, under the channel's lock */
  sl__waiter *w;
  size_t index;                  /* the operation's index in its select (0 alone) */
  void *msg;                     /* rendezvous: the buffer the partner copies from/to */
  bool linked;                   /* in a queue now; under the channel's lock */
} sl__entry;

/* A FIFO of entries; n is the number linked, written under the lock and read
 * without it by the fast path (see "has waiters" in chan.c). */
typedef struct sl__waitq {
  sl__entry *head, *tail;
  _Atomic size_t n;
} sl__waitq;

/* ---- the channel record ---------------------------------------------------- */

typedef enum { SL__CHAN_RING, SL__CHAN_LIST, SL__CHAN_ZERO } sl__chan_flavor;

struct sl__block; /* chan_list.c */

struct sl_chan {
  /* Read-mostly line: set at create, except the handle counts. */
  uint32_t magic;            /* SL__CHAN_MAGIC while alive, cleared at free */
  sl__chan_flavor flavor;
  size_t elem;               /* message bytes */
  size_t cap;                /* the bound; SL_CHAN_UNBOUNDED; 0 for rendezvous */
  size_t stride;             /* bytes per slot: stamp or state word + message, 8-aligned */
  size_t one_lap;            /* ring: the index step that means "one more lap" */
  size_t mark_bit;           /* the "disconnected" bit in tail (all flavours) */
  unsigned char *ring;       /* ring: cap slots */
  _Atomic size_t senders;    /* sender handles */
  _Atomic size_t receivers;  /* receiver handles */
  _Atomic bool one_side_gone;/* set by the first side whose count hits 0 */
  struct sl_chan *reg_prev, *reg_next; /* live-channel registry, under its lock */
  const char *name;          /* points into name_buf */
  const sl_pool *jobs_pool;  /* internal: the pool of the jobs reporting on it; else NULL */

  /* Sender end: written by every send. Ring: the next position to claim,
   * with mark_bit when disconnected. List: the same, plus the tail block. */
  alignas(SL_CACHELINE) _Atomic size_t tail;
  _Atomic(struct sl__block *) tail_block;
  _Atomic(const void *) last_sender; /* sl__thread of the latest send, for stall reports */
  _Atomic int send_cpu;      /* cpu a sender last waited or woke on, -1: none (chan_spin.c) */
  _Atomic bool send_shared;  /* a second thread sent since the last spin decision */

  /* Receiver end: written by every receive. */
  alignas(SL_CACHELINE) _Atomic size_t head;
  _Atomic(struct sl__block *) head_block;
  _Atomic(const void *) last_receiver; /* sl__thread of the latest receive */
  _Atomic int recv_cpu;      /* as send_cpu, for receivers */
  _Atomic bool recv_shared;  /* as send_shared, for receivers */

  /* Slow path only: the lock guards both queues' links and, for rendezvous
   * channels, the whole handoff (the flavour has no lock-free part). */
  alignas(SL_CACHELINE) pthread_mutex_t lock;
  sl__waitq sendq;           /* waiting senders */
  sl__waitq recvq;           /* waiting receivers */
  char name_buf[];
};

#define SL__CHAN_MAGIC 0x6368616eu /* "chan" */

static inline bool sl__chan_valid(const sl_chan *ch) { return ch && ch->magic == SL__CHAN_MAGIC; }

/* Tail's mark bit; set once, by sl__chan_disconnect. Acquire: pairs with the
 * release half of the fetch_or there (nothing else is published by it). */
static inline bool sl__chan_closed(const sl_chan *ch) {
  return atomic_load_explicit(&((sl_chan *)ch)->tail, memory_order_acquire) & ch->mark_bit;
}

/* Copies one message. The common sizes get a fixed-size copy the compiler
 * turns into a load and a store; the libc call was 6% of a single-thread
 * send+recv profile (perf, u64 messages). */
static inline void sl__copy_msg(void *dst, const void *src, size_t n) {
  switch (n) {
  case 8: memcpy(dst, src, 8); break;
  case 16: memcpy(dst, src, 16); break;
  case 4: memcpy(dst, src, 4); break;
  default: memcpy(dst, src, n);
  }
}

/* ---- backoff ----------------------------------------------------------- */

/* Spinning doubles per step up to 2^SL__SPIN_LIMIT pauses; snoozing goes on
 * to sched_yield. Measured on the 2-core test machine (AMD EPYC VM, bench
 * chan, limits 1..6 tried): with 8 threads on 2 cores the thread we wait
 * for is usually not running, and every longer spin only burned the quantum
 * it needed (limit 6 gave about half the 4p4c throughput of limit 2); 1p1c
 * was no worse at 2. A machine with idle cores might want more. */
#ifndef SL__SPIN_LIMIT
#define SL__SPIN_LIMIT 2u
#endif

static inline void sl__backoff_spin(unsigned *step) {
  unsigned s = *step < SL__SPIN_LIMIT ? *step : SL__SPIN_LIMIT;
  for (unsigned i = 0; i < (1u << s); i++)
    sl__cpu_relax();
  if (*step <= SL__SPIN_LIMIT)
    ++*step;
}

/* For waiting on another thread that is mid-operation (it claimed a slot and
 * has not published it yet): spin a little, then give the core away. */
static inline void sl__backoff_snooze(unsigned *step) {
  if (*step <= SL__SPIN_LIMIT) {
    for (unsigned i = 0; i < (1u << *step); i++)
      sl__cpu_relax();
    ++*step;
  } else {
    sched_yield();
  }
}

/* ---- where the ends run (for chan_spin.c) -------------------------------- */

/* The cpu the `kind` end of ch was last seen on: a racy hint for the spin
 * policy (spinning for a peer that shares our cpu only keeps it off the
 * cpu). Set on the slow paths only, where a thread starts to wait and where
 * it wakes a waiter, so the fast path pays nothing. Stored only when it
 * changes (the line is the end's own). Relaxed: a hint. */
static inline _Atomic int *sl__chan_cpu_slot(sl_chan *ch, int kind) {
  return kind == SL_SELECT_SEND ? &ch->send_cpu : &ch->recv_cpu;
}

static inline void sl__chan_note_cpu(sl_chan *ch, int kind, int cpu) {
  _Atomic int *slot = sl__chan_cpu_slot(ch, kind);
  if (atomic_load_explicit(slot, memory_order_relaxed) != cpu)
    atomic_store_explicit(slot, cpu, memory_order_relaxed);
}

/* Notes `cpu` for the end of every operation of a select. */
static inline void sl__chan_note_cpus(sl_select_op *ops, size_t n, int cpu) {
  for (size_t i = 0; i < n; i++)
    sl__chan_note_cpu(ops[i].chan, ops[i].kind, cpu);
}

static inline int sl__chan_cpu(sl_chan *ch, int kind) {
  return atomic_load_explicit(sl__chan_cpu_slot(ch, kind), memory_order_relaxed);
}

/* The `kind` end's shared flag: set when a second thread uses the end (or
 * a select over several channels does), reset by the spin decision. Set
 * only when clear, so a steadily shared end costs loads. Relaxed: a hint. */
static inline _Atomic bool *sl__chan_shared_slot(sl_chan *ch, int kind) {
  return kind == SL_SELECT_SEND ? &ch->send_shared : &ch->recv_shared;
}

static inline void sl__chan_mark_shared(sl_chan *ch, int kind) {
  _Atomic bool *flag = sl__chan_shared_slot(ch, kind);
  if (!atomic_load_explicit(flag, memory_order_relaxed))
    atomic_store_explicit(flag, true, memory_order_relaxed);
}

/* Step 2 of the wait loop (select.c): spins while no operation of ops looks
 * ready, briefly or long by the policy in chan_spin.c. True when one looks
 * ready (try again), false when it is time to park or the deadline passed. */
SL_HIDDEN bool sl__chan_spin(sl_select_op *ops, size_t n, int64_t deadline);

/* ---- per flavour (chan_ring.c, chan_list.c, chan_zero.c) ----------------- */

/* try_*: 0, SL_ECLOSED, or busy (SL_EFULL for send, SL_EEMPTY for recv);
 * list send may also return SL_ENOMEM. `self` (may be NULL) is the caller's
 * own waiter, which rendezvous must not pair with. No waking here: the
 * caller (sl__chan_try) notifies. ready: whether the try could proceed now
 * (closed counts as ready), with seq_cst loads, for after registration. */
SL_HIDDEN int sl__ring_try_send(sl_chan *ch, const void *msg);
SL_HIDDEN int sl__ring_try_recv(sl_chan *ch, void *out);
SL_HIDDEN bool sl__ring_ready(sl_chan *ch, int kind);
SL_HIDDEN size_t sl__ring_len(const sl_chan *ch);

SL_HIDDEN int sl__list_init(sl_chan *ch);
SL_HIDDEN void sl__list_free(sl_chan *ch);
SL_HIDDEN int sl__list_try_send(sl_chan *ch, const void *msg);
SL_HIDDEN int sl__list_try_recv(sl_chan *ch, void *out);
SL_HIDDEN bool sl__list_ready(sl_chan *ch, int kind);
SL_HIDDEN size_t sl__list_len(const sl_chan *ch);

SL_HIDDEN int sl__zero_try(sl_chan *ch, int kind, void *msg, const sl__waiter *self);
SL_HIDDEN bool sl__zero_ready(sl_chan *ch, int kind, const sl__waiter *self);

/* ---- shared by the flavours and select (chan.c) ----------------------------- */

/* Tries one operation of `kind` (SL_SELECT_SEND/RECV) on ch, and on success
 * notifies one waiter of the other side if any. Returns as the try_ above. */
SL_HIDDEN int sl__chan_try(sl_chan *ch, int kind, void *msg, const sl__waiter *self);

/* Whether an operation of `kind` could proceed now; seq_cst, see chan.c. */
SL_HIDDEN bool sl__chan_ready(sl_chan *ch, int kind, const sl__waiter *self);

/* The kind of the other end: a send waits for receivers and vice versa. */
static inline int sl__other_kind(int kind) {
  return kind == SL_SELECT_SEND ? SL_SELECT_RECV : SL_SELECT_SEND;
}

/* The busy code of a kind: SL_EFULL for send, SL_EEMPTY for recv. */
static inline int sl__busy(int kind) { return kind == SL_SELECT_SEND ? SL_EFULL : SL_EEMPTY; }

/* Links / unlinks e into ch's queue for `kind` (takes ch->lock). Unlink is a
 * no-op for an entry a claimant already unlinked. */
SL_HIDDEN void sl__chan_register(sl_chan *ch, int kind, sl__entry *e);
SL_HIDDEN void sl__chan_unregister(sl_chan *ch, int kind, sl__entry *e);

/* Under ch->lock: claims the first entry of q whose waiter is not `self`
 * and still WAITING, storing sel_done or sel_hint of its index; unlinks
 * and returns it, or NULL. The caller releases e->w after unlocking. */
SL_HIDDEN sl__entry *sl__waitq_claim_locked(sl__waitq *q, const sl__waiter *self, bool done);

/* Releases a claimed waiter: it may return (and its stack go) from here on. */
SL_HIDDEN void sl__waiter_release(sl__waiter *w);

/* Sets the mark bit and wakes every waiter of both queues. Idempotent. */
SL_HIDDEN void sl__chan_disconnect(sl_chan *ch);

/* The blocking core (select.c): performs one of the n ops (validated by the
 * caller), waiting until deadline (sl_now_ns base, negative: none). `op` is
 * what sl__wait records. Returns 0 / SL_ECLOSED / SL_ENOMEM with *index
 * set, or SL_ETIMEDOUT. Counts progress on success. */
SL_HIDDEN int sl__chan_wait_ops(sl_select_op *ops, size_t n, int64_t deadline, sl__op op,
                                size_t *index);

/* The thread record of the last thread that completed an operation of
 * `kind` on ch, or NULL; a racy hint that may name a thread that has since
 * exited (the stall detector matches it against the live registry). */
SL_HIDDEN const void *sl__chan_last_peer(const sl_chan *ch, int kind);

/* For an internal channel (sl__chan_create_internal), the pool its jobs
 * run on; NULL for the user's channels. Set at create, never changed. */
static inline const sl_pool *sl__chan_jobs_pool(const sl_chan *ch) { return ch->jobs_pool; }

/* Calls fn(ch, arg) for every live channel, under the registry lock, so no
 * channel is freed meanwhile. fn may use the public getters and must not
 * create, drop or free channels. For the stall detector. */
SL_HIDDEN void sl__chan_foreach(void (*fn)(sl_chan *ch, void *arg), void *arg);

#endif /* SLUICE_CHAN_H */
