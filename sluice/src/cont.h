/* cont.h: continuations: a pool job that must wait on a channel is
 * suspended on its own stack instead of holding its worker's thread, and the
 * worker runs other jobs meanwhile (a pool created with
 * sl_pool_config.continuations). The policy and its invariants are at the
 * top of cont.c; the stacks and the switch are fiber.c's.
 *
 * The waiter's side, in the order a waiter calls it:
 *   c = sl__cont_prepare(t)        NULL: wait the old way (futex, compensation)
 *   publish c where the waker finds it, then flip the wait word with a CAS
 *   sl__cont_suspend(t, c, op, obj)  returns once some thread called
 *                                    sl__cont_wake(c), on the same worker
 * The waker's side: sl__cont_wake(c) once it took c from the word. */
#ifndef SLUICE_CONT_H
#define SLUICE_CONT_H

#include "pool.h"

typedef struct sl__cont sl__cont;

/* Gives each started worker of a pool with continuations its state; the
 * worker's own thread calls it first thing. A worker left without one
 * (no memory) waits the old way. */
SL_HIDDEN void sl__cont_worker_start(sl__worker *w);

/* Frees the worker's stacks when its thread ends (the thread's own stack is
 * running: every other one is idle, since the pool has no jobs left). */
SL_HIDDEN void sl__cont_worker_end(sl__worker *w);

/* The job now running on t, ready to be suspended: NULL when it may not be
 * (not a worker of a pool with continuations, inside sl_blocking_begin, or
 * no memory for a stack to go on with). */
SL_HIDDEN sl__cont *sl__cont_prepare(sl__thread *t);

/* Suspends c (the job running on t, from sl__cont_prepare, published) as
 * waiting for (op, obj), and runs other work on t's worker; returns when c
 * was woken and its worker resumed it. */
SL_HIDDEN void sl__cont_suspend(sl__thread *t, sl__cont *c, sl__op op, const void *obj);

/* Makes c runnable on its worker and wakes that worker if it sleeps. Any
 * thread; once per suspension. */
SL_HIDDEN void sl__cont_wake(sl__cont *c);

/* The worker loop's point between two jobs: resumes a woken job, or goes
 * back to the thread's own stack, if either waits. Owner only. */
SL_HIDDEN void sl__cont_between_jobs(sl__worker *w);

/* Whether w has woken jobs to resume (racy; seq_cst, see cont.c). */
SL_HIDDEN bool sl__cont_any_ready(sl__worker *w);

/* Brackets a worker's sleep on its sleep word (sleep.c): a waker of one of
 * its jobs then wakes it. Before the last look at sl__cont_any_ready. */
SL_HIDDEN void sl__cont_sleeping(sl__worker *w, bool on);

/* A worker with no job of its region to help with, in a join wait on l:
 * when woken jobs wait, or (once it has `spun` a while) other regions'
 * jobs are queued, suspends the waiting job on the latch (l->cont) and
 * goes on with them, as any worker between jobs would. Isolation holds:
 * the other work runs on another stack, not inside the waiting job.
 * Returns true when it did (l may be set by then). */
SL_HIDDEN bool sl__cont_help(sl__thread *t, sl__latch *l, bool spun);

/* True when some worker of a pool holds suspended jobs (it must not retire). */
SL_HIDDEN bool sl__cont_holds_jobs(sl__worker *w);

/* The stack w runs on now, when it is a continuation's (NULL before the
 * first suspension). For the overflow report; any thread of w. */
SL_HIDDEN const struct sl__fiber *sl__cont_running_fiber(sl__worker *w);

/* ---- stack overflow reports (overflow.c) ---------------------------------- */

#include <signal.h>

/* A worker's alternate signal stack, and the one it replaced. */
typedef struct sl__altstack {
  void *mem;
  stack_t old;
} sl__altstack;

/* Installs the SIGSEGV handler that names a job whose continuation stack
 * overflowed (once per process, chained to the previous handler), and gives
 * the calling worker an alternate signal stack for it. Without memory for
 * that stack the overflow is not named, only fatal as always. */
SL_HIDDEN void sl__overflow_watch(sl__altstack *a);
SL_HIDDEN void sl__overflow_unwatch(sl__altstack *a);

/* The worker loop (pool.c), which a fresh stack runs. */
SL_HIDDEN void sl__worker_loop(sl__worker *w);

#endif /* SLUICE_CONT_H */
