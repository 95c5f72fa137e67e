/* chan_spin.c: how long a channel waiter spins before it parks (step 2 of
 * the wait loop in select.c).
 *
 * WHY THIS IS A POLICY AND NOT A CONSTANT. Parking costs a futex wait here
 * and a futex wake on the peer's side: measured on the 2-core test VM
 * (bench chan), a park/wake round trip is 40-65 us, so a bounded channel
 * whose ends park and wake each other every 64 messages runs at 2-3 Mmsg/s.
 * Spinning instead pays only when the thread we wait for is running on
 * another core; when it needs our core, every spin is taken from it.
 * Hence two modes:
 *
 *   SHORT (the default): a few pause steps and SHORT_YIELDS sched_yields,
 *     then park. Right whenever threads outnumber cores (4p4c on 2 cores, a
 *     pipeline whose pool keeps the cores busy): the thread we wait for
 *     usually needs our core, and a yield hands it over without a futex.
 *
 *   LONG (up to LONG_NS, no yields): for a wait on one operation, when the
 *     caller is not a pool worker, each end of the channel is used by one
 *     thread only, and those threads fit on the cores beside the pool
 *     members that are awake (wait.c counts them: a busy pool has the
 *     cores). Then the peer runs beside us and shows up within
 *     microseconds; the steady state makes no syscall at all. No yields in
 *     this mode: perf sched showed a yielding 1p1c pair sharing one core in
 *     6 us turns while the other core idled, because neither ever slept.
 *     Two escapes keep it honest:
 *       - a peer last seen on our own cpu cannot run while we spin: after
 *         SHARED_CPU_NS we park, and the wake lets the scheduler move one of
 *         us to an idle core (channels note each end's cpu where it waits or
 *         wakes, chan.h);
 *       - a sched_yield every PROBE_NS that comes back YIELD_LATE_NS late ran
 *         another thread, so the cores are not ours alone (another process
 *         counts too): then this thread uses the short mode for CROWDED_NS.
 *
 * "One thread per end" is read from the ends' shared flags (chan.c sets one
 * when an end sees a different thread than last time, a select over several
 * channels sets its own ends' flags, the decision here resets them), and
 * handle counts bound the thread count. A pool worker never spins long: its
 * pool has other work for the core and compensates for it.
 *
 * Rendezvous channels skip the spin: they complete only against a
 * registered partner, so two spinning sides would wait for each other
 * (measured: 20 us timeouts on both sides spent their whole window spinning
 * and almost never paired). */
#include "chan.h"

/* Short mode: sched_yields after the pause steps. Measured with bench chan
 * on 2 cores (0 .. 4 tried): 0 was the worst for 4p4c; beyond 3 made no
 * difference we could see through the noise, and a long wait should park. */
#ifndef SL__SHORT_YIELDS
#define SL__SHORT_YIELDS 3u
#endif
/* Long mode's budget and its escapes (file top). An idle sched_yield is a
 * syscall of about 1 us here; one that takes 5 us ran someone else. */
#ifndef SL__LONG_NS
#define SL__LONG_NS 50000
#endif
#ifndef SL__SHARED_CPU_NS
#define SL__SHARED_CPU_NS 2000
#endif
#ifndef SL__PROBE_NS
#define SL__PROBE_NS 5000
#endif
#ifndef SL__YIELD_LATE_NS
#define SL__YIELD_LATE_NS 5000
#endif
#ifndef SL__CROWDED_NS
#define SL__CROWDED_NS 1000000
#endif

/* Until when (sl_now_ns) this thread stays in short mode; see the probe. */
static _Thread_local int64_t crowded_until;

/* A lock-free readiness hint; rendezvous channels say "maybe" when the
 * other side has waiters or the channel is closed. */
static bool ready_hint(sl_select_op *op) {
  sl_chan *ch = op->chan;
  if (ch->flavor != SL__CHAN_ZERO)
    return sl__chan_ready(ch, op->kind, NULL);
  sl__waitq *other = op->kind == SL_SELECT_SEND ? &ch->recvq : &ch->sendq;
  /* Relaxed: a hint; the try that follows decides under the lock. */
  return atomic_load_explicit(&other->n, memory_order_relaxed) != 0 || sl__chan_closed(ch);
}

static bool any_ready(sl_select_op *ops, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (ready_hint(&ops[i]))
      return true;
  return false;
}

/* Reads and resets an end's shared flag: an end that two threads keep
 * using sets it again before the next decision. */
static bool end_shared(sl_chan *ch, int kind) {
  _Atomic bool *flag = sl__chan_shared_slot(ch, kind);
  return atomic_load_explicit(flag, memory_order_relaxed) &&
         atomic_exchange_explicit(flag, false, memory_order_relaxed);
}

/* Whether long mode applies to a wait on ops (file top). Only a wait on one
 * operation qualifies: a thread selecting over several channels divides its
 * time between them, so to the peers of each its end is as good as shared
 * (measured: select2's producers spinning long for a consumer that also
 * serves the other producer halved its throughput), and it says so.
 * Relaxed loads: a heuristic. */
static bool long_mode_fits(sl_select_op *ops, size_t n) {
  if (n > 1) {
    for (size_t i = 0; i < n; i++)
      sl__chan_mark_shared(ops[i].chan, ops[i].kind);
    return false;
  }
  if (sl__self()->worker || sl_now_ns() < crowded_until)
    return false;
  sl_chan *ch = ops[0].chan;
  /* The channel's handles (ours among them; a thread each at most) and
   * the pool members at work, whose cores are taken. */
  int members = sl__members_awake();
  size_t threads = atomic_load_explicit(&ch->senders, memory_order_relaxed) +
                   atomic_load_explicit(&ch->receivers, memory_order_relaxed) +
                   (size_t)(members > 0 ? members : 0);
  bool shared = end_shared(ch, SL_SELECT_SEND);
  shared |= end_shared(ch, SL_SELECT_RECV);
  unsigned cpus = sl__online_cpus();
  return cpus >= 2 && !shared && threads <= cpus;
}

/* Long mode for one operation: 1 when it looks ready, 0 to park now, -1 to
 * go on in short mode (the probe found the cpu crowded). */
static int spin_long(sl_select_op *op, int64_t deadline) {
  int64_t start = sl_now_ns(), probed = start;
  int cpu = sched_getcpu();
  sl__chan_note_cpu(op->chan, op->kind, cpu);
  for (unsigned step = 0;; step++) {
    if (ready_hint(op))
      return 1;
    int64_t now = sl_now_ns();
    if (now - start >= SL__LONG_NS || (deadline >= 0 && now >= deadline))
      return 0;
    if (now - start >= SL__SHARED_CPU_NS && sl__chan_cpu(op->chan, sl__other_kind(op->kind)) == cpu)
      return 0;
    if (now - probed >= SL__PROBE_NS) {
      sched_yield();
      probed = sl_now_ns();
      if (probed - now >= SL__YIELD_LATE_NS) {
        crowded_until = probed + SL__CROWDED_NS;
        return -1;
      }
    }
    for (unsigned i = 0; i < (1u << (step < 4 ? step : 4)); i++)
      sl__cpu_relax();
  }
}

static bool spin_short(sl_select_op *ops, size_t n, int64_t deadline) {
  unsigned step = 0;
  for (unsigned round = 0; round <= SL__SPIN_LIMIT + SL__SHORT_YIELDS; round++) {
    if (round <= SL__SPIN_LIMIT)
      sl__backoff_spin(&step);
    else
      sched_yield();
    if (any_ready(ops, n))
      return true;
    if (deadline >= 0 && sl_now_ns() >= deadline)
      return false;
  }
  return false;
}

bool sl__chan_spin(sl_select_op *ops, size_t n, int64_t deadline) {
  for (size_t i = 0; i < n; i++)
    if (ops[i].chan->flavor == SL__CHAN_ZERO)
      return false;
  if (long_mode_fits(ops, n)) {
    int r = spin_long(&ops[0], deadline);
    if (r >= 0)
      return r;
  }
  return spin_short(ops, n, deadline);
}
