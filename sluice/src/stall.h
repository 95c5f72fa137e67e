/* stall.h: what the stall detector's two files share: the snapshot of
 * pools, threads and channels that stall.c takes (under each registry lock
 * in turn), and the report that verdict.c writes from it. A snapshot holds
 * copies; its object pointers are only compared, never followed, except for
 * the static string of a blocking region (see verdict.c). */
#ifndef SLUICE_STALL_H
#define SLUICE_STALL_H

#include "internal.h"

#include <pthread.h>

typedef struct sl__tsnap {
  const sl__thread *rec;
  unsigned long tid;     /* pthread id, as gdb shows it */
  char name[32];
  int op;                /* sl__op */
  const void *obj;
  int64_t since;
  uint64_t progress;
  const void *pool;      /* the pool it is a member of, or NULL */
  int worker;            /* its slot there, -1 when none */
  uintptr_t fn;          /* the user function it runs, 0 if unknown */
  const void *job_of;    /* the internal channel of the map whose job it runs */
  unsigned sel_n;        /* op SL_OP_SELECT: its operations, sel[] the first ones */
  uintptr_t sel[SL__SEL_SHOWN];
  int64_t cpu_ns;        /* CPU time used by the thread, -1 if unknown */
  bool cont;             /* a suspended job's record, not a thread's (cont.c) */
} sl__tsnap;

typedef struct sl__csnap {
  const sl_chan *ch;
  char name[64];
  size_t len, cap, senders, receivers;
  bool closed;
  const void *last_sender, *last_receiver;
  const void *jobs_pool; /* internal channel: the pool of the jobs that report on it */
} sl__csnap;

typedef struct sl__psnap {
  const sl_pool *p;
  char name[32];
  unsigned nthreads, max_threads, live, blocked, idle;
  size_t queued;
  uint64_t jobs_done;
} sl__psnap;

typedef struct sl__snapshot {
  sl__tsnap *th;
  size_t nth, capth;
  sl__csnap *ch;
  size_t nch, capch;
  sl__psnap *pl;
  size_t npl, cappl;
  bool oom;
} sl__snapshot;

/* Whether op is a wait the detector reports (idle and running are not). */
static inline bool sl__is_blocked_op(int op) { return op != SL_OP_NONE && op != SL_OP_IDLE; }

/* The state report of snapshot s under `headline`: pools, waiting threads,
 * channels and the verdict line. A malloc'd text (free with free()), NULL
 * on ENOMEM. Any thread; reads s only. */
SL_HIDDEN char *sl__report_build(const sl__snapshot *s, const char *headline);

#endif /* SLUICE_STALL_H */
