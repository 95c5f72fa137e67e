/* wait.c: the one place a sluice thread parks. A Linux futex on a 32-bit
 * word: the waiter sleeps only while the word still holds the value it
 * expects, so a wake that lands between the caller's check and the sleep is
 * never lost (the kernel compares under its own lock).
 *
 * Around the sleep it keeps the seam promised in internal.h: the thread
 * record says what is waited for, a blocking wait by a pool worker is
 * reported to the pool so that it can compensate, and a sleeping pool
 * member stops counting as awake (for the channel spin policy). */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long futex(_Atomic uint32_t *word, int op, uint32_t val, const struct timespec *ts) {
  return syscall(SYS_futex, (uint32_t *)word, op | FUTEX_PRIVATE_FLAG, val, ts, NULL, 0);
}

static _Atomic int members_awake;

void sl__members_awake_add(int delta) {
  atomic_fetch_add_explicit(&members_awake, delta, memory_order_relaxed);
}

int sl__members_awake(void) { return atomic_load_explicit(&members_awake, memory_order_relaxed); }

void sl__block_enter(sl__thread *t, sl__op op, const void *obj) {
  atomic_store_explicit(&t->since_ns, (uint64_t)sl_now_ns(), memory_order_relaxed);
  atomic_store_explicit(&t->obj, obj, memory_order_relaxed);
  atomic_store_explicit(&t->op, op, memory_order_relaxed);
  if (t->block_nest++ == 0) {
    sl__trace(SL_TRACE_BLOCK, atomic_load_explicit(&t->pool, memory_order_relaxed), NULL);
    if (t->worker)
      sl__pool_worker_blocked(t->worker);
  }
}

/* Leaves the stretch; the caller restores the op record it wants shown. */
void sl__block_leave(sl__thread *t) {
  if (--t->block_nest == 0) {
    if (t->worker)
      sl__pool_worker_unblocked(t->worker);
    sl__trace(SL_TRACE_UNBLOCK, atomic_load_explicit(&t->pool, memory_order_relaxed), NULL);
  }
}

int sl__wait(_Atomic uint32_t *word, uint32_t expect, sl__op op, const void *obj, bool blocking,
             int64_t deadline) {
  sl__thread *t = sl__self();
  int prev_op = atomic_load_explicit(&t->op, memory_order_relaxed);
  const void *prev_obj = atomic_load_explicit(&t->obj, memory_order_relaxed);
  if (blocking)
    sl__block_enter(t, op, obj);
  else {
    atomic_store_explicit(&t->since_ns, (uint64_t)sl_now_ns(), memory_order_relaxed);
    atomic_store_explicit(&t->obj, obj, memory_order_relaxed);
    atomic_store_explicit(&t->op, op, memory_order_relaxed);
  }

  bool member = t->worker != NULL;
  if (member)
    sl__members_awake_add(-1);
  int rc = 0;
  if (deadline < 0) {
    futex(word, FUTEX_WAIT, expect, NULL);
  } else {
    int64_t left = deadline - sl_now_ns();
    if (left <= 0) {
      rc = SL_ETIMEDOUT;
    } else {
      struct timespec ts = {.tv_sec = left / 1000000000, .tv_nsec = left % 1000000000};
      if (futex(word, FUTEX_WAIT, expect, &ts) == -1 && errno == ETIMEDOUT)
        rc = SL_ETIMEDOUT;
    }
  }

  if (member)
    sl__members_awake_add(1);
  if (blocking)
    sl__block_leave(t);
  /* Restore what an enclosing wait recorded (a select inside a user
   * blocking region, say), so the report stays true. */
  atomic_store_explicit(&t->obj, prev_obj, memory_order_relaxed);
  atomic_store_explicit(&t->op, prev_op, memory_order_relaxed);
  return rc;
}

void sl__wake(_Atomic uint32_t *word, int n) { futex(word, FUTEX_WAKE, (uint32_t)n, NULL); }

void sl_blocking_begin(const char *what) {
  sl__block_enter(sl__self(), SL_OP_BLOCKING, what ? what : "blocking region");
}

void sl_blocking_end(void) {
  sl__thread *t = sl__self();
  if (t->block_nest > 0) { /* an unmatched end is ignored, not a crash */
    sl__block_leave(t);
    if (t->block_nest == 0)
      atomic_store_explicit(&t->op, SL_OP_NONE, memory_order_relaxed);
  }
}
