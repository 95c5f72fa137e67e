/* bench_timeline.h: the pipeline workload's optional timeline
 * (PIPELINE_TIMELINE=1; see bench_timeline.c). */
#ifndef SLUICE_BENCH_TIMELINE_H
#define SLUICE_BENCH_TIMELINE_H

#include <stdbool.h>

enum { TL_MIX2_BEGIN, TL_MIX2_END, TL_MIX3_BEGIN, TL_MIX3_END, TL_MAP_BEGIN, TL_MAP_END };

/* sluice's own scheduler events (sl_trace_set) are stamped as kind
 * TL_SLUICE + the sl_trace_event. */
#define TL_SLUICE 16

/* Whether PIPELINE_TIMELINE is set (asked once; call before starting
 * threads). When it is, this also installs sluice's trace hook. */
bool bench_tl_on(void);

/* Forgets the events of the previous run. */
void bench_tl_reset(void);

/* Stamps event `kind` of the calling thread; nothing when the timeline is
 * off (after bench_tl_on said so). */
void bench_tl_mark(int kind);

/* Sums up the last run on stderr for `threads` pool threads. */
void bench_tl_report(unsigned threads);

#endif
