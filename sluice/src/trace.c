/* trace.c: the scheduler's trace hook (sl_trace_set in sluice.h).
 *
 * One global hook, read with one acquire load at each slow-path event
 * (internal.h's sl__trace), so tracing costs nothing measurable when off
 * and needs no build option to turn on. The argument is published before
 * the function pointer and read after it, so a thread that sees the new
 * hook sees its argument too. Replacing a hook while events fire is
 * allowed but not synchronized beyond that: a caller that frees the old
 * hook's state must first make sure the traced work has ended. */
#include "internal.h"

_Atomic(sl_trace_fn) sl__trace_fn;
static _Atomic(void *) trace_arg;

void sl_trace_set(sl_trace_fn fn, void *arg) {
  atomic_store_explicit(&trace_arg, arg, memory_order_relaxed);
  /* Release: a reader that acquires fn sees arg. */
  atomic_store_explicit(&sl__trace_fn, fn, memory_order_release);
}

void sl__trace_emit(sl_trace_fn fn, sl_trace_event ev, const sl_pool *pool, const void *obj) {
  fn(ev, pool, obj, atomic_load_explicit(&trace_arg, memory_order_relaxed));
}

const char *sl_trace_event_name(sl_trace_event ev) {
  static const char *const names[] = {
      [SL_TRACE_IDLE] = "idle",           [SL_TRACE_WORK] = "work",
      [SL_TRACE_JOIN_WAIT] = "join-wait", [SL_TRACE_JOIN_DONE] = "join-done",
      [SL_TRACE_PARK] = "park",           [SL_TRACE_UNPARK] = "unpark",
      [SL_TRACE_CHAN_WAIT] = "chan-wait", [SL_TRACE_CHAN_DONE] = "chan-done",
      [SL_TRACE_BLOCK] = "block",         [SL_TRACE_UNBLOCK] = "unblock",
      [SL_TRACE_RETIRE] = "retire",       [SL_TRACE_REVIVE] = "revive",
      [SL_TRACE_SPARE] = "spare",         [SL_TRACE_CAP] = "cap",
      [SL_TRACE_SUSPEND] = "suspend",     [SL_TRACE_RESUME] = "resume",
  };
  return (unsigned)ev < sizeof names / sizeof names[0] && names[ev] ? names[ev] : "?";
}
