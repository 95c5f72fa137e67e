/* bench_timeline.c: an optional timeline of the pipeline workload (W5), to
 * see where its cores go idle. With PIPELINE_TIMELINE=1 in the environment
 * each run stamps the start and end of every mix call and of each stage-3
 * loop, and after the timed runs the last run is summed up on stderr:
 *
 *   # timeline: 810.3 ms, 2 threads: 9.6% of their time ran fewer mix bodies
 *   # timeline: stage 3 ran its loop alone for >= 0.5 ms 34 times, 47.1 ms in all
 *
 *   # timeline: meanwhile, on average: 2.9 blocked, 1.3 retired, 0.8 chan-spin, ...
 *
 * That is how bench/RESULTS.md found the windows in which stage 3's thread
 * runs its loop while the other core idles. The third line comes from
 * sluice's trace hook (sl_trace_set), which the timeline installs: each
 * thread's last scheduler event says what it was doing when it was not in
 * mix. The stamps are CLOCK_MONOTONIC,
 * so `perf record -a -k CLOCK_MONOTONIC -e sched:sched_switch` lines up with
 * them. Off (the default) a mark is a call that returns at once. */
#include "bench_timeline.h"

#include <sluice.h>

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TL_MAX (1u << 20) /* events kept per run: W5 makes about 80k */
#define TL_THREADS 256    /* thread ids beyond this share the last slot */

typedef struct tl_event {
  int64_t ns;
  uint16_t tid;
  uint8_t kind;
} tl_event;

static tl_event *events;
static _Atomic unsigned n_events;
static _Atomic int next_tid;
static _Thread_local int my_tid = -1;
static int enabled = -1; /* -1 not asked yet; set before any thread starts */

static void on_sluice_event(sl_trace_event ev, const sl_pool *pool, const void *obj, void *arg) {
  (void)pool, (void)obj, (void)arg;
  bench_tl_mark(TL_SLUICE + (int)ev);
}

bool bench_tl_on(void) {
  if (enabled < 0) {
    const char *e = getenv("PIPELINE_TIMELINE");
    enabled = e && *e && strcmp(e, "0") != 0 && (events = calloc(TL_MAX, sizeof *events));
    if (enabled)
      sl_trace_set(on_sluice_event, NULL);
  }
  return enabled;
}

void bench_tl_reset(void) {
  if (bench_tl_on())
    atomic_store(&n_events, 0);
}

void bench_tl_mark(int kind) {
  if (enabled <= 0)
    return;
  if (my_tid < 0) {
    int t = atomic_fetch_add(&next_tid, 1);
    my_tid = t < TL_THREADS ? t : TL_THREADS - 1;
  }
  unsigned i = atomic_fetch_add_explicit(&n_events, 1, memory_order_relaxed);
  if (i >= TL_MAX)
    return;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  events[i] = (tl_event){(int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec, (uint16_t)my_tid,
                         (uint8_t)kind};
}

static int by_time(const void *a, const void *b) {
  int64_t x = ((const tl_event *)a)->ns, y = ((const tl_event *)b)->ns;
  return (x > y) - (x < y);
}

/* What a thread not in mix is doing, from its last sluice event. */
enum { ST_NONE, ST_RUN, ST_IDLE, ST_JOIN_WAIT, ST_PARKED, ST_CHAN_SPIN, ST_BLOCKED, ST_RETIRED,
       ST_MIX, ST_COUNT };
static const char *const state_names[ST_COUNT] = {
    "-", "running", "idle", "join-wait", "parked", "chan-spin", "blocked", "retired", "mix"};

/* The state after sluice event ev, given the state before it (and, for an
 * unpark, the one before the park). */
static int state_after(int ev, int now, int before_park) {
  switch (ev) {
  case SL_TRACE_IDLE: return ST_IDLE;
  case SL_TRACE_JOIN_WAIT: return ST_JOIN_WAIT;
  case SL_TRACE_PARK: return ST_PARKED;
  case SL_TRACE_UNPARK: return before_park;
  case SL_TRACE_CHAN_WAIT: case SL_TRACE_UNBLOCK: return ST_CHAN_SPIN;
  case SL_TRACE_BLOCK: return ST_BLOCKED;
  case SL_TRACE_RETIRE: return ST_RETIRED;
  case SL_TRACE_WORK: case SL_TRACE_JOIN_DONE: case SL_TRACE_CHAN_DONE: case SL_TRACE_REVIVE:
  case SL_TRACE_SUSPEND: case SL_TRACE_RESUME: /* the thread goes on with other work */
    return ST_RUN;
  default: return now; /* spare, cap: no change for this thread */
  }
}

/* Thread states over the alone-stretches: time-weighted counts. */
typedef struct tl_states {
  uint8_t sstate[TL_THREADS], before_park[TL_THREADS];
  unsigned in_state[ST_COUNT];
  double pending[ST_COUNT], total[ST_COUNT];
  unsigned spares, caps, suspends;
} tl_states;

static int shown_state(const tl_states *s, const bool *in_mix, unsigned tid) {
  return in_mix[tid] ? ST_MIX : s->sstate[tid];
}

/* Applies event e (after in_mix was updated by the caller: old_state is
 * the thread's shown state before). */
static void states_apply(tl_states *s, const tl_event *e, const bool *in_mix, int old_state) {
  if (e->kind >= TL_SLUICE) {
    int ev = e->kind - TL_SLUICE;
    s->spares += ev == SL_TRACE_SPARE;
    s->caps += ev == SL_TRACE_CAP;
    s->suspends += ev == SL_TRACE_SUSPEND;
    if (ev == SL_TRACE_PARK)
      s->before_park[e->tid] = s->sstate[e->tid];
    s->sstate[e->tid] = (uint8_t)state_after(ev, s->sstate[e->tid], s->before_park[e->tid]);
  }
  int new_state = shown_state(s, in_mix, e->tid);
  s->in_state[old_state]--;
  s->in_state[new_state]++;
}

/* Prints the average number of threads in each state over the stretches,
 * which last span ns in all. */
static void states_report(const tl_states *s, double span) {
  if (span <= 0)
    return;
  fprintf(stderr, "# timeline: meanwhile, on average:");
  for (int k = ST_RUN; k < ST_COUNT; k++)
    if (s->total[k] / span >= 0.05)
      fprintf(stderr, " %.1f %s", s->total[k] / span, state_names[k]);
  fprintf(stderr, "\n# timeline: sluice started %u spares, hit its cap %u times and suspended %u jobs\n",
          s->spares, s->caps, s->suspends);
}

void bench_tl_report(unsigned threads) {
  if (!bench_tl_on())
    return;
  unsigned n = atomic_load(&n_events);
  n = n < TL_MAX ? n : TL_MAX;
  if (n < 2)
    return;
  qsort(events, n, sizeof *events, by_time);
  bool in_mix[TL_THREADS] = {false};
  static tl_states st;
  memset(&st, 0, sizeof st);
  st.in_state[ST_NONE] = TL_THREADS;
  unsigned mixing = 0;
  bool mapping = false;
  double short_ns = 0, alone_ns = 0, alone_from = -1;
  unsigned alone_times = 0;
  for (unsigned i = 0; i < n; i++) {
    const tl_event *e = &events[i];
    if (i > 0 && mixing < threads)
      short_ns += (double)(threads - mixing) * (double)(e->ns - events[i - 1].ns);
    if (i > 0 && alone_from >= 0)
      for (int k = 0; k < ST_COUNT; k++)
        st.pending[k] += (double)st.in_state[k] * (double)(e->ns - events[i - 1].ns);
    int old_state = shown_state(&st, in_mix, e->tid);
    bool begin = e->kind == TL_MIX2_BEGIN || e->kind == TL_MIX3_BEGIN;
    bool end = e->kind == TL_MIX2_END || e->kind == TL_MIX3_END;
    if ((begin && !in_mix[e->tid]) || (end && in_mix[e->tid])) {
      in_mix[e->tid] = begin;
      mixing += begin ? 1 : (unsigned)-1;
    }
    states_apply(&st, e, in_mix, old_state);
    if (e->kind == TL_MAP_BEGIN || e->kind == TL_MAP_END)
      mapping = e->kind == TL_MAP_BEGIN;
    bool alone = mapping && mixing <= 1;
    if (alone && alone_from < 0)
      alone_from = (double)e->ns;
    if (!alone && alone_from >= 0) {
      double d = (double)e->ns - alone_from;
      if (d >= 5e5) {
        alone_ns += d, alone_times++;
        for (int k = 0; k < ST_COUNT; k++)
          st.total[k] += st.pending[k];
      }
      memset(st.pending, 0, sizeof st.pending);
      alone_from = -1;
    }
  }
  double span = (double)(events[n - 1].ns - events[0].ns);
  fprintf(stderr, "# timeline: %.1f ms, %u threads: %.1f%% of their time ran fewer mix bodies\n",
          span / 1e6, threads, 100.0 * short_ns / (span * threads));
  fprintf(stderr, "# timeline: stage 3 ran its loop alone for >= 0.5 ms %u times, %.1f ms in all\n",
          alone_times, alone_ns / 1e6);
  states_report(&st, alone_ns);
}
