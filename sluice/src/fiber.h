/* fiber.h: stacks of their own and the switch between them: the mechanism
 * under continuations (cont.c), which decides when to switch. A fiber is a
 * saved stack pointer and, unless it is a thread's own stack, an mmap'd
 * stack with a guard page below it. Switching saves the callee-saved
 * registers on the current stack and loads the other's: no system call, no
 * signal mask (unlike swapcontext). The sanitizers are told of every switch
 * (ASan's fiber hooks, TSan's fiber API), so both keep working.
 *
 * Only x86-64 has the switch; elsewhere SL__FIBERS is 0 and cont.c never
 * suspends (blocked jobs are compensated as before). */
#ifndef SLUICE_FIBER_H
#define SLUICE_FIBER_H

#include "internal.h"

#include <stddef.h>

#if defined(__x86_64__) && defined(__linux__)
#define SL__FIBERS 1
#else
#define SL__FIBERS 0
#endif

typedef struct sl__fiber {
  void *sp;            /* saved stack pointer while switched out */
  char *map;           /* the mapping (guard page first), NULL for a thread's stack */
  size_t map_len;
  const void *lo;      /* usable stack: [lo, lo + len), for the sanitizers */
  size_t len;
  void *tsan;          /* TSan's fiber handle, NULL without TSan */
  void *asan_fake;     /* ASan's fake-stack save while switched out */
} sl__fiber;

/* Maps a stack of `size` usable bytes (rounded up to pages) with a
 * PROT_NONE guard page below it. 0, SL_ENOMEM. */
SL_HIDDEN int sl__fiber_create(sl__fiber *f, size_t size);

/* Unmaps it. Never the running fiber. */
SL_HIDDEN void sl__fiber_destroy(sl__fiber *f);

/* Describes the calling thread's own stack as fiber f (no mapping), so it
 * can be switched away from and back to. */
SL_HIDDEN void sl__fiber_adopt_thread(sl__fiber *f);

/* Makes f start at entry(arg) when next switched to; entry must never
 * return (it switches away for good instead). */
SL_HIDDEN void sl__fiber_start_at(sl__fiber *f, void (*entry)(void *), void *arg);

/* Saves the caller's state in `from` and runs `to`; returns when some
 * thread switches back to `from`. With `from_done` the caller's stack will
 * never be resumed (it is left for reuse): the sanitizers drop its frames. */
SL_HIDDEN void sl__fiber_switch(sl__fiber *from, sl__fiber *to, bool from_done);

/* To be called first thing in an entry function, after the switch that
 * started it (the sanitizers' half of the switch). */
SL_HIDDEN void sl__fiber_entered(void);

/* True when addr lies in f's guard page. */
static inline bool sl__fiber_in_guard(const sl__fiber *f, const void *addr) {
  const char *a = addr;
  return f->map && a >= f->map && a < (const char *)f->lo;
}

#endif /* SLUICE_FIBER_H */
