/* bench_timeline.c: an optional timeline of the pipeline workload (W5), to
 * see where its cores go idle. With PIPELINE_TIMELINE=1 in the environment
 * each run stamps the start and end of every mix call and of each stage-3
 * loop, and after the timed runs the last run is summed up on stderr:
 *
 *   # timeline: 810.3 ms, 2 threads: 9.6% of their time ran fewer mix bodies
 *   # timeline: stage 3 ran its loop alone for >= 0.5 ms 34 times, 47.1 ms in all
 *
 * That is how bench/RESULTS.md found the windows in which stage 3's thread
 * runs its loop while the other core idles. The stamps are CLOCK_MONOTONIC,
 * so `perf record -a -k CLOCK_MONOTONIC -e sched:sched_switch` lines up with
 * them. Off (the default) a mark is a call that returns at once. */
#include "bench_timeline.h"

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

bool bench_tl_on(void) {
  if (enabled < 0) {
    const char *e = getenv("PIPELINE_TIMELINE");
    enabled = e && *e && strcmp(e, "0") != 0 && (events = calloc(TL_MAX, sizeof *events));
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

void bench_tl_report(unsigned threads) {
  if (!bench_tl_on())
    return;
  unsigned n = atomic_load(&n_events);
  n = n < TL_MAX ? n : TL_MAX;
  if (n < 2)
    return;
  qsort(events, n, sizeof *events, by_time);
  bool in_mix[TL_THREADS] = {false};
  unsigned mixing = 0;
  bool mapping = false;
  double short_ns = 0, alone_ns = 0, alone_from = -1;
  unsigned alone_times = 0;
  for (unsigned i = 0; i < n; i++) {
    const tl_event *e = &events[i];
    if (i > 0 && mixing < threads)
      short_ns += (double)(threads - mixing) * (double)(e->ns - events[i - 1].ns);
    bool begin = e->kind == TL_MIX2_BEGIN || e->kind == TL_MIX3_BEGIN;
    bool end = e->kind == TL_MIX2_END || e->kind == TL_MIX3_END;
    if ((begin && !in_mix[e->tid]) || (end && in_mix[e->tid])) {
      in_mix[e->tid] = begin;
      mixing += begin ? 1 : (unsigned)-1;
    }
    if (e->kind == TL_MAP_BEGIN || e->kind == TL_MAP_END)
      mapping = e->kind == TL_MAP_BEGIN;
    bool alone = mapping && mixing <= 1;
    if (alone && alone_from < 0)
      alone_from = (double)e->ns;
    if (!alone && alone_from >= 0) {
      double d = (double)e->ns - alone_from;
      if (d >= 5e5)
        alone_ns += d, alone_times++;
      alone_from = -1;
    }
  }
  double span = (double)(events[n - 1].ns - events[0].ns);
  fprintf(stderr, "# timeline: %.1f ms, %u threads: %.1f%% of their time ran fewer mix bodies\n",
          span / 1e6, threads, 100.0 * short_ns / (span * threads));
  fprintf(stderr, "# timeline: stage 3 ran its loop alone for >= 0.5 ms %u times, %.1f ms in all\n",
          alone_times, alone_ns / 1e6);
}
