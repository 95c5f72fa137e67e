/* chan_list.c: the unbounded flavour, a lock-free segmented list: blocks of
 * BLOCK_CAP slots linked in order, senders claiming slots at the tail,
 * receivers at the head, the receiver of a block's last slot freeing the
 * block once every slot of it was read. The scheme is crossbeam-channel's
 * list flavour (itself after Vyukov's unbounded MPMC); here in C with the
 * project's allocation hook, and with the first block allocated at create.
 *
 * HOW IT WORKS. A position counts slots in steps of 1 << SHIFT; the low bit
 * of tail is the disconnect mark, the low bit of head says "the head block
 * has a successor" (so a receiver can skip the look at tail). offset =
 * (pos >> SHIFT) % LAP; offsets 0 .. BLOCK_CAP-1 are slots, offset BLOCK_CAP
 * (= LAP-1) is a barrier meaning "the next block is being installed".
 * - Send: CAS tail forward. The sender taking the last slot of a block has
 *   allocated the next block before its CAS (so a failed allocation claims
 *   nothing), and installs it: tail_block, then tail past the barrier, then
 *   block->next. Then it copies its message in and stores `written`.
 * - Recv: if head and tail are on the same position the list is empty
 *   (closed if tail is marked). Otherwise CAS head forward; the receiver of
 *   a block's last slot waits for block->next and moves head_block and head
 *   to it. Then it waits for `written`, copies the message out, and sets
 *   READ in the slot's `rd` bits.
 * - Freeing a block: the receiver of the last slot walks the other slots;
 *   any slot not READ yet gets DESTROY, and that slot's reader, seeing
 *   DESTROY when it sets READ, continues the walk from the next slot. The
 *   one who finds all slots read frees the block. Nobody touches a block
 *   after setting READ on its slot unless it saw DESTROY there.
 *
 * INVARIANTS. Positions only grow; a mark on tail is final. Every block
 * from head_block on is reachable by next pointers and owned by the channel
 * (chan free releases them); every block before it is freed exactly once.
 *
 * LIMITS. A sender descheduled mid-slot or mid-install stalls the receivers
 * of that slot or block (they snooze). One malloc per BLOCK_CAP messages. */
#include "chan.h"

#include <string.h>

#define SHIFT 1u
#define MARK 1u     /* on tail: disconnected */
#define HAS_NEXT 1u /* on head: head's block has a successor */
#define LAP 32u     /* positions per block, the last one being the barrier */
#define BLOCK_CAP (LAP - 1u)

/* Reader-side slot bits, in lslot.rd. Each is added at most once per slot
 * (one reader, one destroy walk), so fetch_add acts as fetch_or and compiles
 * to one lock xadd instead of a CAS loop. */
#define READ 1u
#define DESTROY 2u

/* Slot header, then the message (stride covers both; the header is 8 bytes
 * like the ring's stamp, so messages stay 8-aligned). The writer's flag is
 * an object of its own so the writer can publish with a plain release store
 * instead of an RMW (perf: the locked OR was 30% of send); crossbeam keeps
 * both in one word. Only readers and the destroyer RMW `rd`. */
typedef struct lslot {
  _Atomic uint32_t written; /* 1 once the message is in; stored once, by its sender */
  _Atomic uint32_t rd;      /* READ, DESTROY */
  unsigned char msg[];
} lslot;

typedef struct sl__block {
  _Atomic(struct sl__block *) next;
  unsigned char slots[]; /* BLOCK_CAP slots of ch->stride bytes */
} block;

static inline lslot *lslot_at(const sl_chan *ch, block *b, size_t offset) {
  return (lslot *)(b->slots + offset * ch->stride);
}

static block *block_new(const sl_chan *ch) {
  /* stride <= SL_CHAN_MAX_ELEM + 8, so this cannot overflow; checked anyway. */
  size_t bytes;
  if (__builtin_mul_overflow(ch->stride, (size_t)BLOCK_CAP, &bytes) ||
      __builtin_add_overflow(bytes, sizeof(block), &bytes))
    return NULL;
  return sl__calloc(1, bytes); /* zeroed: next NULL, every slot unwritten */
}

int sl__list_init(sl_chan *ch) {
  block *b = block_new(ch);
  if (!b)
    return SL_ENOMEM;
  atomic_init(&ch->tail_block, b);
  atomic_init(&ch->head_block, b);
  return 0;
}

/* Only when no operation can run (both handle counts are 0). */
void sl__list_free(sl_chan *ch) {
  block *b = atomic_load_explicit(&ch->head_block, memory_order_acquire);
  while (b) {
    block *next = atomic_load_explicit(&b->next, memory_order_acquire);
    sl__free(b);
    b = next;
  }
}

int sl__list_try_send(sl_chan *ch, const void *msg) {
  unsigned step = 0;
  block *next_block = NULL;
  /* Acquire on both: pairs with the release stores of an installing sender,
   * so a tail index of a new block comes with that block's pointer. */
  size_t tail = atomic_load_explicit(&ch->tail, memory_order_acquire);
  block *b = atomic_load_explicit(&ch->tail_block, memory_order_acquire);
  for (;;) {
    if (tail & MARK) {
      sl__free(next_block);
      return SL_ECLOSED;
    }
    size_t offset = (tail >> SHIFT) % LAP;
    if (offset == BLOCK_CAP) { /* another sender is installing the next block */
      sl__backoff_snooze(&step);
      tail = atomic_load_explicit(&ch->tail, memory_order_acquire);
      b = atomic_load_explicit(&ch->tail_block, memory_order_acquire);
      continue;
    }
    if (offset + 1 == BLOCK_CAP && !next_block) {
      next_block = block_new(ch); /* before the claim, so failing is clean */
      if (!next_block)
        return SL_ENOMEM;
    }
    /* seq_cst: the sender's half of the "has waiters" pairing (chan.c).
     * Acquire on failure: the fresh tail may name a new block, see above. */
    if (atomic_compare_exchange_weak_explicit(&ch->tail, &tail, tail + (1u << SHIFT),
                                              memory_order_seq_cst, memory_order_acquire)) {
      if (offset + 1 == BLOCK_CAP) {
        /* Release, tail_block before tail: a sender that sees the new
         * tail (acquire) sees the new block. */
        atomic_store_explicit(&ch->tail_block, next_block, memory_order_release);
        atomic_fetch_add_explicit(&ch->tail, 1u << SHIFT, memory_order_release);
        /* Release: publishes the zeroed block to the receiver waiting for
         * it in wait_next (acquire). */
        atomic_store_explicit(&b->next, next_block, memory_order_release);
        next_block = NULL;
      }
      lslot *s = lslot_at(ch, b, offset);
      sl__copy_msg(s->msg, msg, ch->elem);
      /* Release: publishes the message; pairs with the acquire load of
       * written in try_recv. Our last access to the block: it may be freed
       * once that slot is read. */
      atomic_store_explicit(&s->written, 1, memory_order_release);
      sl__free(next_block);
      return 0;
    }
    b = atomic_load_explicit(&ch->tail_block, memory_order_acquire);
    sl__backoff_spin(&step);
  }
}

/* Waits for the sender of b's last slot to link the next block. */
static block *wait_next(block *b) {
  unsigned step = 0;
  for (;;) {
    /* Acquire: pairs with the release store of next in try_send. */
    block *n = atomic_load_explicit(&b->next, memory_order_acquire);
    if (n)
      return n;
    sl__backoff_snooze(&step);
  }
}

/* Frees b once slots start .. BLOCK_CAP-2 are read; see the file top. */
static void destroy(block *b, const sl_chan *ch, size_t start) {
  for (size_t i = start; i + 1 < BLOCK_CAP; i++) {
    lslot *s = lslot_at(ch, b, i);
    /* Acquire / acq_rel: a READ seen here means its reader is done with
     * the block (pairs with the acq_rel fetch_add of READ in try_recv). */
    if (!(atomic_load_explicit(&s->rd, memory_order_acquire) & READ) &&
        !(atomic_fetch_add_explicit(&s->rd, DESTROY, memory_order_acq_rel) & READ))
      return; /* that slot's reader will go on from i + 1 */
  }
  sl__free(b);
}

/* Moves head to the block after b; called by the receiver of b's last slot. */
static void advance_block(sl_chan *ch, block *b, size_t new_head) {
  block *n = wait_next(b);
  size_t next_index = (new_head & ~(size_t)HAS_NEXT) + (1u << SHIFT);
  if (atomic_load_explicit(&n->next, memory_order_relaxed)) /* a hint only */
    next_index |= HAS_NEXT;
  /* Release, block before index: pairs with the acquire loads in try_recv. */
  atomic_store_explicit(&ch->head_block, n, memory_order_release);
  atomic_store_explicit(&ch->head, next_index, memory_order_release);
}

int sl__list_try_recv(sl_chan *ch, void *out) {
  unsigned step = 0;
  /* Acquire on both, as in send: a head index comes with its block. */
  size_t head = atomic_load_explicit(&ch->head, memory_order_acquire);
  block *b = atomic_load_explicit(&ch->head_block, memory_order_acquire);
  for (;;) {
    size_t offset = (head >> SHIFT) % LAP;
    if (offset == BLOCK_CAP) { /* another receiver is moving to the next block */
      sl__backoff_snooze(&step);
      head = atomic_load_explicit(&ch->head, memory_order_acquire);
      b = atomic_load_explicit(&ch->head_block, memory_order_acquire);
      continue;
    }
    size_t new_head = head + (1u << SHIFT);
    if (!(new_head & HAS_NEXT)) {
      /* Acquire: a mark seen here is final (set by an RMW on tail). A
       * stale "empty" only sends the caller to its seq_cst re-check. */
      size_t tail = atomic_load_explicit(&ch->tail, memory_order_acquire);
      if (head >> SHIFT == tail >> SHIFT)
        return (tail & MARK) ? SL_ECLOSED : SL_EEMPTY;
      if ((head >> SHIFT) / LAP != (tail >> SHIFT) / LAP)
        new_head |= HAS_NEXT;
    }
    /* seq_cst: the receiver's half of the has-waiters pairing (chan.c). */
    if (atomic_compare_exchange_weak_explicit(&ch->head, &head, new_head, memory_order_seq_cst,
                                              memory_order_acquire)) {
      if (offset + 1 == BLOCK_CAP)
        advance_block(ch, b, new_head);
      lslot *s = lslot_at(ch, b, offset);
      unsigned wstep = 0;
      /* Acquire: pairs with the release store of written in try_send. */
      while (!atomic_load_explicit(&s->written, memory_order_acquire))
        sl__backoff_snooze(&wstep);
      sl__copy_msg(out, s->msg, ch->elem);
      if (offset + 1 == BLOCK_CAP)
        destroy(b, ch, 0);
      /* acq_rel: release our reads of the block to its destroyer; acquire
       * its DESTROY request. */
      else if (atomic_fetch_add_explicit(&s->rd, READ, memory_order_acq_rel) & DESTROY)
        destroy(b, ch, offset + 1);
      return 0;
    }
    b = atomic_load_explicit(&ch->head_block, memory_order_acquire);
    sl__backoff_spin(&step);
  }
}

bool sl__list_ready(sl_chan *ch, int kind) {
  if (kind == SL_SELECT_SEND)
    return true; /* sends never wait */
  /* seq_cst: the waiter's half of the has-waiters pairing (chan.c). */
  size_t tail = atomic_load_explicit(&ch->tail, memory_order_seq_cst);
  size_t head = atomic_load_explicit(&ch->head, memory_order_seq_cst);
  return (tail & MARK) || head >> SHIFT != tail >> SHIFT;
}

/* Messages before position pos: BLOCK_CAP per full block, barrier excluded. */
static size_t count_before(size_t pos) {
  size_t p = pos >> SHIFT, off = p % LAP;
  return p / LAP * BLOCK_CAP + (off < BLOCK_CAP ? off : BLOCK_CAP);
}

size_t sl__list_len(const sl_chan *ch) {
  sl_chan *c = (sl_chan *)ch;
  for (;;) {
    /* Racy snapshot for diagnostics, retried until tail is stable. */
    size_t tail = atomic_load_explicit(&c->tail, memory_order_seq_cst);
    size_t head = atomic_load_explicit(&c->head, memory_order_seq_cst);
    if (atomic_load_explicit(&c->tail, memory_order_seq_cst) != tail)
      continue;
    size_t t = count_before(tail), h = count_before(head);
    return t > h ? t - h : 0;
  }
}
