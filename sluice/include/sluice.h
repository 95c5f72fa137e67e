/* sluice.h: the one public header of sluice, a C runtime for parallel
 * programs: work-stealing thread pools (join, scope, parallel loops, sort,
 * several pools with install), MPMC channels with select, a pipeline layer,
 * and a stall detector.
 *
 * sluice keeps the promise Rayon breaks: a pool worker that blocks (on a
 * full channel, on I/O inside sl_blocking_begin/end, on another pool) does
 * not take its share of the pool's parallelism with it. The pool starts or
 * wakes a compensating worker, so a pipeline whose stages share one pool
 * keeps moving; see BLOCKING-AWARE SCHEDULING below.
 *
 * Conventions, stated once:
 * - Every call is safe from any thread unless its comment says otherwise.
 * - Actions return 0 or a negative SL_E* code; sl_strerror names it. A call
 *   that fails leaves its objects as they were, unless its comment says
 *   otherwise. Nothing aborts on bad arguments that can be detected.
 * - Objects are opaque handles. _create/_destroy pair up; destroy takes NULL.
 * - Callbacks must not longjmp out of sluice.
 *
 * Design notes (the why lives in the .c files; these are the decisions a
 * caller can observe):
 * - Each worker owns a Chase-Lev deque; work from outside the pool goes to a
 *   locked injector queue. Idle workers spin briefly, then sleep on a futex;
 *   a new job wakes at most one sleeper, never all of them.
 * - WAITING POLICY. A worker that waits in sl_join, sl_scope_run or a parallel
 *   loop helps: it runs other jobs of its pool until the awaited work is
 *   done, as Rayon and TBB do, so fork-join never wastes a thread. Helping
 *   runs only jobs of the waiter's isolation region. Every outermost entry
 *   into a pool (sl_install, a parallel call from a thread outside the pool,
 *   sl_pool_spawn) opens a region of its own, so waiting inside one entry
 *   never runs another client's jobs (TBB gives each outside thread its own
 *   implicit arena for the same reason). Idle workers take any job.
 *   sl_isolate(fn) opens a nested region: a wait inside fn then runs only
 *   jobs that fn itself (transitively) created, the contract of TBB's
 *   this_task_arena::isolate. Use it when fn holds a lock across a parallel
 *   call (Rayon #592: a stolen outer job re-locks it).
 * - Channel waits, install into another pool, and sl_blocking_begin/end do
 *   not help: they park, and the pool compensates (see BLOCKING-AWARE SCHEDULING).
 * - Worker stacks are 8 MiB by default (sl_pool_config.stack_size). A join
 *   frame costs under 200 bytes of stack, so 10,000 nested joins fit easily.
 */
#ifndef SLUICE_H
#define SLUICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SL_API __attribute__((visibility("default")))

/* ---- version ------------------------------------------------------------ */

/* The version of this header. The build reads these lines (CMake's project
 * version, sluice.pc, the shared library's name), so they are the one place
 * it is set. While MAJOR is 0 a MINOR release may change the ABI; the shared
 * library's soname (libsluice.so.0.MINOR) changes with it. */
#define SL_VERSION_MAJOR 0
#define SL_VERSION_MINOR 1
#define SL_VERSION_PATCH 0

/* The version of the library the program runs with, "MAJOR.MINOR.PATCH": a
 * static string. Compare it with the SL_VERSION_* macros (the header the
 * program was compiled with) to detect a mismatched shared library. */
SL_API const char *sl_version(void);

/* ---- errors ------------------------------------------------------------- */

enum {
  SL_OK = 0,
  SL_EINVAL = -22,      /* a NULL function, a bad size or count (-EINVAL) */
  SL_ENOMEM = -12,      /* an allocation failed (-ENOMEM) */
  SL_EAGAIN = -11,      /* a thread could not be created (-EAGAIN) */
  SL_EBUSY = -16,       /* the object is in use, e.g. a pool destroying itself (-EBUSY) */
  SL_ETIMEDOUT = -110,  /* the deadline passed first (-ETIMEDOUT) */
  SL_ECANCELED = -125,  /* canceled, e.g. a pipeline after another stage's error */
  SL_ECLOSED = -1001,   /* the channel is closed or has no peer left */
  SL_EFULL = -1002,     /* try_send: the channel is full */
  SL_EEMPTY = -1003,    /* try_recv / try select: nothing is ready */
  SL_ESTALL = -1004,    /* the stall detector saw no progress */
};

/* Returns a static description of an SL_E* code, or "unknown error". */
SL_API const char *sl_strerror(int code);

/* Monotonic clock in nanoseconds (CLOCK_MONOTONIC): the base of deadlines. */
SL_API int64_t sl_now_ns(void);

/* ---- pools -------------------------------------------------------------- */

typedef struct sl_pool sl_pool;

/* Most threads one pool may have, workers plus compensating spares. */
#define SL_MAX_THREADS 4096

typedef struct sl_pool_config {
  const char *name;   /* used in diagnostics; copied. NULL gives "pool" */
  unsigned threads;   /* workers; 0 = number of online cores */
  size_t stack_size;  /* worker stack bytes; 0 = 8 MiB */
  /* Compensation cap: how many extra workers may run while others are
   * blocked. 0 = the default, max(threads, 4); SL_NO_SPARES disables
   * compensation. See BLOCKING-AWARE SCHEDULING below. */
  unsigned max_spares;
  /* Continuations: a job of this pool that must wait on a channel (a send,
   * a receive or a select without a timeout) is suspended on a stack of its
   * own, and its worker runs other jobs until the wait is over; then the
   * job resumes on the same worker thread. No thread is held and none is
   * started to compensate. See CONTINUATIONS below for what a job may then
   * not do. x86-64 Linux only; elsewhere the setting is ignored. The global
   * pool takes it from $SLUICE_CONTINUATIONS=1. */
  bool continuations;
} sl_pool_config;

#define SL_NO_SPARES (~0u)

/* Creates a pool named `name` with `threads` workers (0 = number of cores).
 * On success stores it in *out and returns 0. Returns SL_EINVAL (out NULL,
 * threads > SL_MAX_THREADS), SL_ENOMEM or SL_EAGAIN (a worker thread could
 * not start; none is left running). */
SL_API int sl_pool_create(sl_pool **out, const char *name, unsigned threads);

/* Like sl_pool_create with every setting; cfg NULL gives the defaults. */
SL_API int sl_pool_create_ex(sl_pool **out, const sl_pool_config *cfg);

/* Waits for every job in the pool, spawned ones included, then joins its
 * threads and frees it. NULL is a no-op. Returns SL_EBUSY, and does nothing,
 * when called from one of the pool's own workers (it would wait for itself),
 * or for the global pool. */
SL_API int sl_pool_destroy(sl_pool *pool);

/* The global pool, created on first use with $SLUICE_THREADS workers, else
 * one per core, and with continuations when $SLUICE_CONTINUATIONS is 1. Returns NULL only when it cannot be created (no memory or no
 * thread); calls that need it then return SL_ENOMEM or SL_EAGAIN. It lives
 * until the process exits. */
SL_API sl_pool *sl_pool_global(void);

/* The pool the caller runs in (as a worker, or as an outside thread inside
 * sl_install or a parallel call), or NULL. */
SL_API sl_pool *sl_current_pool(void);

/* The calling worker's index in its pool (0 .. threads-1; spares count on
 * from there, and outside threads inside sl_install or a parallel call get
 * indices above those), or -1 on a thread that is in no pool. */
SL_API int sl_current_worker_index(void);

/* The number of workers of the current pool, or of the global pool when the
 * caller is no worker (0 if the global pool cannot be created). */
SL_API unsigned sl_current_num_threads(void);

/* The pool's configured worker count, and its name. */
SL_API unsigned sl_pool_num_threads(const sl_pool *pool);
SL_API const char *sl_pool_name(const sl_pool *pool);

/* ---- fork-join ---------------------------------------------------------- */

typedef void (*sl_fn)(void *arg);

/* Runs a(arg_a) on the calling thread while b(arg_b) waits, stealable, for
 * another worker; returns when both are done. No allocation: the job record
 * lives on this stack frame. Called from a thread in no pool, it runs in the
 * global pool as sl_install would (the caller takes part). Returns 0, SL_EINVAL (a or b NULL),
 * or the global pool's creation error. */
SL_API int sl_join(sl_fn a, void *arg_a, sl_fn b, void *arg_b);

typedef struct sl_scope sl_scope;
typedef void (*sl_scope_fn)(sl_scope *scope, void *arg);

/* sl_scope_run: runs fn(scope, arg), then waits until every task spawned into the scope
 * (by fn or by the tasks themselves) has finished, so tasks may borrow the
 * caller's stack. Scopes nest. From a non-worker thread it runs inside the
 * global pool. Returns 0, SL_EINVAL (fn NULL), or the first error a spawn
 * into this scope returned (the scope still waits for the others). */
SL_API int sl_scope_run(sl_scope_fn fn, void *arg);

/* Spawns fn(scope, arg) into the scope; it may run on any worker of the
 * scope's pool. Call only while the scope is open (from its fn or one of its
 * tasks). Returns 0, SL_EINVAL, or SL_ENOMEM (the task did not start; the
 * error is also returned by sl_scope_run). */
SL_API int sl_spawn(sl_scope *scope, sl_scope_fn fn, void *arg);

/* Spawns fn(arg) into the pool with no scope: fire and forget.
 * sl_pool_destroy waits for it. Returns 0, SL_EINVAL or SL_ENOMEM. */
SL_API int sl_pool_spawn(sl_pool *pool, sl_fn fn, void *arg);

/* Runs fn(arg) inside `pool`, so every nested sluice call in it uses that
 * pool, and returns when fn has returned.
 * - From a plain thread, the caller runs fn itself as a temporary member of
 *   the pool (one of its SL_EXTERNAL_SLOTS = 8 outside slots, with a deque
 *   the workers steal from), as TBB's implicit arenas do: its parallel work
 *   always has at least this thread, even when every worker is blocked.
 *   When all outside slots are taken, fn is queued and the caller blocks.
 * - From a worker of `pool`, fn runs at once on the caller.
 * - From a worker of another pool, the caller does not help its own pool
 *   while it waits (Rayon's help-while-waiting there caused its issues #765,
 *   #819 and #1105: stack growth and cross-pool deadlock). It parks as a
 *   blocked worker, and its pool compensates with a spare, so neither pool
 *   loses parallelism and no cycle of pools can deadlock on it.
 * Returns 0, SL_EINVAL (pool or fn NULL) or SL_ENOMEM. */
SL_API int sl_install(sl_pool *pool, sl_fn fn, void *arg);

/* Runs fn(arg) in an isolation region of its own: while fn (or anything it
 * calls) waits in join, scope or a parallel loop, the waiting thread runs
 * only jobs created inside this region. Costs one extra wait slot; no
 * allocation. Returns 0 or SL_EINVAL. */
SL_API int sl_isolate(sl_fn fn, void *arg);

/* ---- parallel loops ----------------------------------------------------- */

/* WHICH POOL. Loops and sorts, like sl_join and sl_scope_run, take no pool:
 * they run on the pool of the calling thread, the pool it is a worker of or
 * has entered with sl_install. Called from any other thread (main, a thread
 * of your own, a pipeline stage's thread) they run on the global pool, the
 * caller taking part. To run one on a pool of your own, call it inside
 * sl_install:
 *
 *   static void sum_all(void *arg) { sl_for(0, N, 0, sum_range, arg); }
 *   sl_install(work, sum_all, &ctx);  // sum_range runs on pool "work"
 */

/* The body of a loop gets a half-open index range [lo, hi); bodies run in
 * parallel on disjoint ranges that together cover [begin, end). Splitting is
 * adaptive (Rayon's: about 4 pieces per thread, split further where work is
 * stolen); `grain` is the smallest range worth a job (0 = 1). */
typedef void (*sl_range_fn)(void *ctx, size_t lo, size_t hi);

/* Calls body over [begin, end) in parallel and returns when all is done.
 * Returns 0 or SL_EINVAL (body NULL, begin > end). */
SL_API int sl_for(size_t begin, size_t end, size_t grain, sl_range_fn body, void *ctx);

/* Like sl_for, but a body returns an int; the first non-zero value stops the
 * loop early (ranges not yet started are skipped, running ones finish) and
 * is returned. When several fail, which code wins is unspecified. */
typedef int (*sl_try_range_fn)(void *ctx, size_t lo, size_t hi);
SL_API int sl_try_for(size_t begin, size_t end, size_t grain, sl_try_range_fn body, void *ctx);

/* Folds [lo, hi) into *acc (acc starts as a copy of the identity). */
typedef void (*sl_fold_fn)(void *ctx, size_t lo, size_t hi, void *acc);
/* Combines: *acc = *acc (+) *other, where (+) is associative. */
typedef void (*sl_combine_fn)(void *ctx, void *acc, const void *other);

/* Map-reduce over [begin, end): each range is folded into an accumulator of
 * acc_size bytes that starts as a copy of *identity, and accumulators are
 * combined in index order (so a non-commutative combine is fine). The result
 * goes to *out. Returns 0 or SL_EINVAL (NULL functions, acc_size 0 or over
 * SL_MAX_ACC). */
#define SL_MAX_ACC 256
SL_API int sl_map_reduce(size_t begin, size_t end, size_t grain, size_t acc_size,
                         const void *identity, sl_fold_fn fold, sl_combine_fn combine,
                         void *ctx, void *out);

/* ---- parallel sort ------------------------------------------------------ */

/* Sorts n elements of `size` bytes with cmp (qsort's contract), in parallel,
 * not stable, in place (no allocation). Returns 0 or SL_EINVAL. */
typedef int (*sl_cmp_fn)(const void *a, const void *b, void *ctx);
SL_API int sl_sort(void *base, size_t n, size_t size, sl_cmp_fn cmp, void *ctx);

/* Typed ascending sorts: a parallel radix sort. They use a scratch buffer of
 * n elements; when it cannot be allocated they fall back to an in-place
 * parallel sort, so they fail only on bad arguments (SL_EINVAL: base NULL
 * with n > 0). Floats sort by IEEE total order: -NaN < -inf < ... < -0 < +0
 * < ... < +inf < NaN. */
SL_API int sl_sort_u32(uint32_t *base, size_t n);
SL_API int sl_sort_u64(uint64_t *base, size_t n);
SL_API int sl_sort_f32(float *base, size_t n);
SL_API int sl_sort_f64(double *base, size_t n);

/* ---- channels ----------------------------------------------------------- */

/* How a blocked operation waits: it spins briefly (a few pauses and
 * sched_yields), then parks on a futex until a peer wakes it. When each end
 * of the channel is used by one plain thread (not a pool worker, not a
 * select over several channels) and those threads fit on the cores, it
 * spins for up to 50 us without yielding first, which keeps a producer and
 * consumer on two cores from paying a futex wake every few messages; it
 * falls back to the brief spin as soon as another thread wants its cpu. */
typedef struct sl_chan sl_chan;

/* Capacity values with a meaning of their own. */
#define SL_CHAN_RENDEZVOUS ((size_t)0)     /* a send completes when a receiver takes it */
#define SL_CHAN_UNBOUNDED ((size_t)-1)     /* sends never block */
#define SL_CHAN_MAX_ELEM 65536             /* largest element size in bytes */
#define SL_CHAN_MAX_CAP ((size_t)1 << 30)  /* largest bounded capacity */

/* Creates a channel of messages of elem_size bytes (1 .. SL_CHAN_MAX_ELEM),
 * copied in and out. cap is a bound (1 .. SL_CHAN_MAX_CAP), or
 * SL_CHAN_RENDEZVOUS, or SL_CHAN_UNBOUNDED. `name` (copied, up to 63 bytes;
 * NULL gives "chan") appears in stall reports. The caller holds one sender
 * and one receiver handle. Returns 0, SL_EINVAL (out NULL, a size out of
 * range; *out untouched) or SL_ENOMEM. */
SL_API int sl_chan_create(sl_chan **out, const char *name, size_t elem_size, size_t cap);

/* Counted handles. A handle is a count, not a per-thread token: any number
 * of threads may send through one sender handle at once, and receive
 * through one receiver handle; sl_chan_create gives its caller one of each.
 * The counts only tell when an end is gone. When the last sender is dropped
 * the channel closes: receivers drain what is left, then get SL_ECLOSED.
 * When the last receiver is dropped, sends return SL_ECLOSED at once (what
 * is queued is dropped). The channel is freed when both counts are 0; any
 * use after that is a use after free. So give a handle to each party that
 * finishes on its own schedule, taken before it starts and dropped by it
 * when done; once the creator has dropped its own, the last drop closes:
 *
 *   sl_chan_add_sender(ch);                                   // then start the producer
 *   while (next(&x)) sl_chan_send(ch, &x); sl_chan_drop_sender(ch);  // in the producer
 *
 * Parties that all finish before one owner lets go (the bodies of a
 * parallel loop, jobs the owner waits for) need no handles of their own:
 * they use the owner's. add returns 0 or SL_EINVAL (ch NULL or already
 * freed where detectable, or that count is already 0: a handle cannot come
 * back). A drop with the count already 0, or of NULL, is ignored. */
SL_API int sl_chan_add_sender(sl_chan *ch);
SL_API int sl_chan_add_receiver(sl_chan *ch);
SL_API void sl_chan_drop_sender(sl_chan *ch);
SL_API void sl_chan_drop_receiver(sl_chan *ch);

/* Closes the channel as if every sender were dropped (handles stay counted).
 * Wakes every waiter. Idempotent. Returns 0 or SL_EINVAL. */
SL_API int sl_chan_close(sl_chan *ch);

/* Sends a copy of *msg, blocking while the channel is full (a rendezvous
 * send: until a receiver has taken it). Returns 0, SL_ECLOSED (not sent),
 * SL_ENOMEM (unbounded channels only: a block of 31 slots could not be
 * allocated; not sent) or SL_EINVAL (ch or msg NULL). A pool worker blocked
 * here is compensated. */
SL_API int sl_chan_send(sl_chan *ch, const void *msg);
/* Sends without blocking: 0, SL_EFULL (a rendezvous channel: no receiver
 * waiting), SL_ECLOSED, SL_ENOMEM or SL_EINVAL. */
SL_API int sl_chan_try_send(sl_chan *ch, const void *msg);
/* Sends, waiting at most timeout_ns (negative: no limit, as SL_FOREVER; 0:
 * as try_send): 0, SL_ETIMEDOUT (never before the timeout has passed; not
 * sent), SL_ECLOSED, SL_ENOMEM, SL_EINVAL. */
SL_API int sl_chan_send_timeout(sl_chan *ch, const void *msg, int64_t timeout_ns);

/* Receives into *out, blocking while the channel is empty and open. Returns
 * 0, SL_ECLOSED (closed and drained; *out untouched) or SL_EINVAL. */
SL_API int sl_chan_recv(sl_chan *ch, void *out);
/* Receives without blocking: 0, SL_EEMPTY, SL_ECLOSED or SL_EINVAL. */
SL_API int sl_chan_try_recv(sl_chan *ch, void *out);
/* Receives, waiting at most timeout_ns (negative: no limit; 0: as
 * try_recv): 0, SL_ETIMEDOUT (never early), SL_ECLOSED, SL_EINVAL. */
SL_API int sl_chan_recv_timeout(sl_chan *ch, void *out, int64_t timeout_ns);

/* Introspection; racy snapshots, for diagnostics and stall reports. For a
 * NULL channel: name NULL, the counts 0, is_closed true. A rendezvous
 * channel has length and capacity 0. */
SL_API const char *sl_chan_name(const sl_chan *ch);
SL_API size_t sl_chan_len(const sl_chan *ch);
SL_API size_t sl_chan_capacity(const sl_chan *ch);  /* SL_CHAN_UNBOUNDED or the bound */
SL_API size_t sl_chan_senders(const sl_chan *ch);
SL_API size_t sl_chan_receivers(const sl_chan *ch);
SL_API bool sl_chan_is_closed(const sl_chan *ch);

/* ---- select ------------------------------------------------------------- */

enum { SL_SELECT_SEND = 1, SL_SELECT_RECV = 2 };

/* One operation a select may perform: send *msg into chan, or receive from
 * chan into *msg. */
typedef struct sl_select_op {
  sl_chan *chan;
  int kind;   /* SL_SELECT_SEND or SL_SELECT_RECV */
  void *msg;  /* the message to send, or where a received one goes */
} sl_select_op;

#define SL_FOREVER ((int64_t)-1)
#define SL_SELECT_MAX 64 /* most operations in one select (they live on its stack) */

/* Performs exactly one of the n operations, the first that can proceed,
 * waiting up to timeout_ns (SL_FOREVER or any negative: no limit; 0: do not
 * wait). When several are ready one is picked at random, so none starves.
 * An operation on a closed channel counts as ready and completes with
 * SL_ECLOSED. The caller must hold the handles the operations need; a
 * channel may appear in several operations. Stores the index of the
 * operation in *index and returns its result (0, SL_ECLOSED, or SL_ENOMEM
 * for a send on an unbounded channel); or returns SL_EEMPTY (timeout 0, none
 * ready), SL_ETIMEDOUT (never early), or SL_EINVAL (ops or index NULL, n 0
 * or over SL_SELECT_MAX, a NULL channel or msg, a bad kind). */
SL_API int sl_select(sl_select_op *ops, size_t n, int64_t timeout_ns, size_t *index);

/* ---- blocking ----------------------------------------------------------- */

/* BLOCKING-AWARE SCHEDULING. A pool keeps `threads` workers able to run
 * jobs. A worker that waits in a channel send, receive or select, in an
 * install into another pool, or inside sl_blocking_begin/end, counts as
 * blocked. While live workers minus blocked ones fall below `threads` and
 * work is queued (or when work arrives), the pool wakes a retired spare or
 * starts a new thread; a surplus worker retires (parks, reusable) when it
 * next runs out of work or finishes a top-level job.
 * - The cap: at most `threads + max_spares` workers ever exist (default
 *   max_spares = max(threads, 4); SL_NO_SPARES disables compensation), plus
 *   the outside threads that take part through sl_install or a parallel
 *   call (at most SL_EXTERNAL_SLOTS = 8 at a time per pool, each running
 *   only its own work), plus the watchdog thread if started.
 * - At the cap no thread is added: blocked work waits for a worker to come
 *   back. A program whose every worker is blocked on something only the
 *   pool's queued work would provide then stalls; the stall detector names
 *   it ("pool P, whose M threads (N workers and S spares) are all blocked
 *   (compensation at its cap of M threads)"). Outside threads never
 *   depend on the cap: a stage thread's own parallel loop always has that
 *   thread to run it.
 * - Cost: the join fast path reads no counter; only waits that park pay
 *   (two atomic RMWs and, when short, a futex wake or a thread start).
 *
 * CONTINUATIONS (sl_pool_config.continuations). In such a pool a job that
 * must wait on a channel without a timeout does not block its worker: the
 * job's stack is set aside, the worker runs other jobs (on a fresh stack of
 * stack_size bytes with a guard page, mapped once and reused), and the job
 * resumes when its wait is over, on the same worker thread, at that
 * worker's next point between jobs or in a join wait. A join wait with no
 * job of its region to run suspends the same way when woken jobs, or after
 * a short spin other entries' jobs, are waiting: the worker runs them on
 * another stack, so isolation holds (the WAITING POLICY still never runs
 * another region's job inside the waiting one). So
 * a pool of N workers runs any number of blocked producers and consumers on
 * N threads, and spares are started only for the other blocking waits
 * (timed channel waits, install, sl_blocking_begin, which still hold their
 * thread). Because the job stays on its thread, thread-local variables and
 * held locks stay valid across the wait. What a job may not do: hold a lock
 * across a channel wait that another job of the same pool takes (that job
 * may run on the same thread meanwhile and wait for itself); inside
 * sl_blocking_begin/end nothing is suspended. A suspended job shows in
 * stall reports as "suspended" with its stage name and wait; a stack
 * overflow in a job on one of these stacks is reported by stage name on
 * stderr before the process dies of SIGSEGV (the first such pool installs
 * a SIGSEGV handler for this, on an alternate signal stack per worker; it
 * passes every other fault to the handler that was there before it). */

/* Declares that the calling thread is about to block outside sluice (I/O, a
 * mutex, a condvar) until sl_blocking_end. On a pool worker the pool treats
 * it as blocked and may start a spare to keep its parallelism; on other
 * threads it only records `what` (a static string) for stall reports.
 * Regions nest; only the outermost counts. */
SL_API void sl_blocking_begin(const char *what);
SL_API void sl_blocking_end(void);

/* Names the calling thread's current stage for stall reports (copied, up to
 * 31 bytes). NULL clears it. A report shows an unnamed thread by its place
 * in a pool or its pthread id, and by what it runs where sluice knows: the
 * pipeline map whose job it runs, or the function given to sl_pool_spawn
 * or sl_install (by its symbol when it is exported, else as FILE+0xOFFSET
 * for addr2line). Pipeline stages are named after themselves. */
SL_API void sl_thread_set_name(const char *name);

/* ---- pipelines ---------------------------------------------------------- */

/* A pipeline is named stages joined by named bounded channels of item
 * pointers: a source, then maps, batchers and flat maps, then a sink, each
 * stage on a thread of its own, a parallel map fanning its items out as
 * jobs on the pipeline's pool (sl_pipeline_config.pool, else the global
 * pool). A parallel call made inside such a job runs on that pool too; one
 * made by another stage runs on the global pool, as from any plain thread
 * (see WHICH POOL), unless the stage wraps it in sl_install.
 * sl_pipeline_run returns the first error; that error cancels every stage,
 * every item still in flight is released once through the free function
 * of the stage that made it, and every thread is joined.
 *
 *   sl_pipeline *p;
 *   sl_pipeline_create(&p, &(sl_pipeline_config){.name = "reprocess"});
 *   sl_stage *rows = sl_pipeline_source(p, "read", read_rows, db);
 *   sl_stage *ext = sl_pipeline_map(p, "extract", reextract, NULL, 4, SL_MAP_UNORDERED);
 *   sl_stage *b = sl_pipeline_batch(p, "batch", 64, 0.05);
 *   sl_stage *out = sl_pipeline_sink(p, "write", write_batch, db);
 *   sl_pipeline_connect(p, rows, ext, "rows", 64);
 *   sl_pipeline_connect(p, ext, b, "extracted", 64);
 *   sl_pipeline_connect(p, b, out, "batches", 4);
 *   int rc = sl_pipeline_run(p);
 *   sl_pipeline_destroy(p);
 *
 * Builder calls record the first error in the pipeline (a NULL function,
 * no memory, a bad capacity) and return NULL or the code; sl_pipeline_run
 * then returns that error without starting anything, so a builder can be
 * written without checking each call.
 *
 * ITEMS are pointers, owned by one stage at a time, and NULL never travels:
 * a map that stores NULL drops its item. A small value needs no malloc: it
 * can ride in the pointer itself, offset so that 0 is not NULL,
 *
 *   sl_emit(out, (void *)(uintptr_t)(row_id + 1));     // in the source
 *   size_t row_id = (size_t)(uintptr_t)item - 1;       // in the next stage
 *
 * with no free function (there is nothing to release). */
typedef struct sl_pipeline sl_pipeline;
typedef struct sl_stage sl_stage;
typedef struct sl_emitter sl_emitter;

/* Releases an item the pipeline still holds when it stops early. */
typedef void (*sl_item_free_fn)(void *item, void *ctx);

/* A stage's counters; times in seconds. Any thread may read them during a
 * run (racy snapshots). */
typedef struct sl_stage_stats {
  const char *name;      /* the stage's name; valid while the pipeline lives */
  unsigned workers;      /* threads or jobs in flight it may use */
  uint64_t items_in, items_out;
  double busy;           /* inside the stage's function, summed over workers */
  double blocked_in;     /* waiting for input */
  double blocked_out;    /* waiting for room downstream */
} sl_stage_stats;

/* Called on the thread that runs sl_pipeline_run, at least interval apart
 * (never more often than every 100 ms), and once at the end. */
typedef void (*sl_progress_fn)(const sl_stage_stats *stats, size_t n, double elapsed, void *arg);

typedef struct sl_pipeline_config {
  const char *name;          /* copied; NULL gives "pipeline" */
  sl_pool *pool;             /* where parallel maps run their jobs; NULL: the global pool */
  sl_item_free_fn item_free; /* default free function of every stage's items */
  void *item_free_ctx;
  sl_progress_fn progress;   /* optional */
  void *progress_arg;
  double progress_interval;  /* seconds, >= 0.1; 0 gives 0.2 */
} sl_pipeline_config;

/* Creates an empty pipeline. Returns 0, SL_EINVAL (out NULL) or SL_ENOMEM. */
SL_API int sl_pipeline_create(sl_pipeline **out, const sl_pipeline_config *cfg);

/* Frees the pipeline, its stages and channels. Not during sl_pipeline_run.
 * NULL is a no-op. */
SL_API void sl_pipeline_destroy(sl_pipeline *p);

/* Hands an item to the stage's output. Takes ownership of item either way.
 * Returns 0, or SL_ECANCELED when the pipeline is stopping (the item has
 * been released): the stage should return soon. */
SL_API int sl_emit(sl_emitter *out, void *item);

/* A source emits items until done and returns 0 or an error code. */
typedef int (*sl_source_fn)(void *user, sl_emitter *out);
/* A map takes ownership of item and stores its result (NULL drops it) in
 * *out; returns 0 or an error code (then it must have released item). */
typedef int (*sl_map_fn)(void *user, void *item, void **out);
/* A flat map takes ownership of item and emits any number of items. */
typedef int (*sl_flat_fn)(void *user, void *item, sl_emitter *out);
/* A sink takes ownership of item; returns 0 or an error code. */
typedef int (*sl_sink_fn)(void *user, void *item);

/* What a batch stage emits: n items, owned by whoever receives the batch,
 * which frees the batch with sl_batch_free. items points into the batch's
 * own allocation (a pointer, not a flexible array member, so that the
 * header is valid C++ too). */
typedef struct sl_batch {
  size_t n;
  void **items;
} sl_batch;

/* Frees a batch and its array, not its items. NULL is a no-op. */
SL_API void sl_batch_free(sl_batch *b);

/* Map flags. */
enum { SL_MAP_ORDERED = 0, SL_MAP_UNORDERED = 1 };

/* Stage builders. `name` is copied and names the stage's thread in stall
 * reports. They return the stage, or NULL after recording an error. */
SL_API sl_stage *sl_pipeline_source(sl_pipeline *p, const char *name, sl_source_fn fn, void *user);
/* workers <= 1: a serial map on the stage's thread. workers > 1: up to that
 * many items in flight as jobs on the pipeline's pool (both flags), emitted
 * in input order (SL_MAP_ORDERED) or as they finish (SL_MAP_UNORDERED). An
 * ordered map also holds up to `workers` finished results that wait for an
 * earlier item, and keeps its jobs running meanwhile; when that window is
 * full, it waits for the earliest item before it starts another. */
SL_API sl_stage *sl_pipeline_map(sl_pipeline *p, const char *name, sl_map_fn fn, void *user,
                                 unsigned workers, int flags);
SL_API sl_stage *sl_pipeline_flat_map(sl_pipeline *p, const char *name, sl_flat_fn fn, void *user);
/* Gathers up to `size` items into an sl_batch; a partial batch goes out
 * when no item came for flush_after seconds (0: only when full or at the
 * end of input). */
SL_API sl_stage *sl_pipeline_batch(sl_pipeline *p, const char *name, size_t size,
                                   double flush_after);
SL_API sl_stage *sl_pipeline_sink(sl_pipeline *p, const char *name, sl_sink_fn fn, void *user);

/* Sets the function that releases the items this stage emits (default: the
 * pipeline's item_free; batches are released item by item with the free
 * function of the stage that fed the batcher). */
SL_API int sl_stage_set_free(sl_stage *s, sl_item_free_fn fn, void *ctx);

/* Joins from's output to to's input with a new channel of `capacity` (>= 1)
 * items named `name`. Each stage has at most one input and one output.
 * Returns 0, SL_EINVAL (NULL stage, capacity 0, a stage that already has
 * that end, a source as `to`, a sink as `from`) or SL_ENOMEM. */
SL_API int sl_pipeline_connect(sl_pipeline *p, sl_stage *from, sl_stage *to, const char *name,
                               size_t capacity);

/* Runs the pipeline to completion on the calling thread plus one thread per
 * stage. Returns 0; the first error a stage returned (which canceled the
 * rest); a builder error; SL_EINVAL when the graph is not a set of chains
 * from a source to a sink (no stages, a stage left unconnected, a cycle);
 * or SL_EAGAIN (a thread could not start). A pipeline runs once. Stall
 * reports show the calling thread meanwhile as the pipeline, by its name;
 * a name it had from sl_thread_set_name comes back when the run ends. */
SL_API int sl_pipeline_run(sl_pipeline *p);

/* Copies up to cap stages' counters into out; returns the stage count. */
SL_API size_t sl_pipeline_stats(const sl_pipeline *p, sl_stage_stats *out, size_t cap);

/* Writes a summary of the last run into buf (NUL-terminated, cut at len):
 * one line per stage (items, busy, waiting) and a line naming the
 * bottleneck stage. Returns the length it needed, like snprintf. */
SL_API size_t sl_pipeline_summary(const sl_pipeline *p, char *buf, size_t len);

/* ---- the stall detector -------------------------------------------------- */

/* What the stall detector does once it has written a report. */
typedef enum sl_stall_action {
  SL_STALL_REPORT = 0,   /* write the report and go on watching */
  SL_STALL_EXIT = 1,     /* write the report, then _exit(exit_code) */
  SL_STALL_CALLBACK = 2, /* hand the report to callback instead of writing it */
} sl_stall_action;

/* Receives a stall report (one NUL-terminated text, valid during the call)
 * on the watchdog's thread. It must not block on the stalled program. */
typedef void (*sl_stall_fn)(const char *report, void *arg);

typedef struct sl_watchdog_config {
  double seconds;           /* report after this long without progress (> 0) */
  sl_stall_action action;
  int exit_code;            /* for SL_STALL_EXIT; 0 means 86 */
  sl_stall_fn callback;     /* for SL_STALL_CALLBACK */
  void *arg;
  int fd;                   /* where reports go; 0 or negative: stderr */
} sl_watchdog_config;

/* Starts the stall detector, a thread that watches progress (jobs run and
 * channel operations done, summed over threads). When nothing progresses
 * for cfg->seconds while some thread waits in sluice (channel, select,
 * join, install, blocking region) and no other thread uses the CPU, it
 * writes a report: every pool's running, blocked and idle workers and
 * queued jobs; every waiting thread with its stage name (sl_thread_set_name),
 * its pool, and what it waits on (channels with fill, senders and
 * receivers; a select's channels; a map's jobs); every channel (a
 * pipeline's internal ones marked so); and a verdict, one sentence that
 * follows who waits for whom to the cycle or the starved party. One report
 * per stall; it re-arms when progress resumes. Setting
 * SLUICE_WATCHDOG=<seconds> in the environment (a number > 0, fractions
 * allowed; 0 or empty: off) starts it (action REPORT) with the first pool
 * or channel; any other value is ignored with one warning on stderr.
 * Returns 0, SL_EINVAL (bad cfg), SL_EBUSY (already running) or SL_EAGAIN. */
SL_API int sl_watchdog_start(const sl_watchdog_config *cfg);

/* Stops the stall detector and joins its thread. No-op if not running. */
SL_API void sl_watchdog_stop(void);

/* Writes the same state report (without waiting for a stall) to fd now.
 * Returns 0, SL_EINVAL (fd < 0) or SL_ENOMEM. */
SL_API int sl_state_dump(int fd);

/* From now on, signal signo (SIGQUIT or SIGUSR1) writes a state dump to
 * stderr, as Go does on SIGQUIT. The handler only flags the request; the
 * watchdog thread (started for it if needed) writes the dump. Returns 0,
 * SL_EINVAL (another signal) or SL_EAGAIN. */
SL_API int sl_dump_on_signal(int signo);

/* ---- tracing ------------------------------------------------------------ */

/* Scheduler events, for a profiler that wants to see why cores went idle:
 * what each pool member was doing at a given moment. Every event is
 * reported on the thread it concerns, so a hook can stamp it with its own
 * thread id and clock. Only slow paths report: a join that is not stolen,
 * a push and a channel operation that succeeds at once report nothing. */
typedef enum sl_trace_event {
  SL_TRACE_IDLE,      /* a worker found no job and starts spinning, then yielding */
  SL_TRACE_WORK,      /* a worker or join waiter found a job after looking */
  SL_TRACE_JOIN_WAIT, /* a worker's stolen job is out; it looks for jobs of its region */
  SL_TRACE_JOIN_DONE, /* the stolen job finished; the worker goes on with its own */
  SL_TRACE_PARK,      /* the thread sleeps on a futex (idle, or waiting for a join) */
  SL_TRACE_UNPARK,    /* it is awake again */
  SL_TRACE_CHAN_WAIT, /* a channel operation or select could not complete at once:
                         spinning, then parked; obj: its (first) channel */
  SL_TRACE_CHAN_DONE, /* the operation completed, timed out or failed; obj: as above */
  SL_TRACE_BLOCK,     /* the thread enters a blocking wait (a channel park, an install
                         into another pool, sl_blocking_begin); a pool member's pool
                         may compensate for it */
  SL_TRACE_UNBLOCK,   /* it left the blocking wait */
  SL_TRACE_RETIRE,    /* a surplus worker retires (parks until the pool needs it) */
  SL_TRACE_REVIVE,    /* a retired worker was called back */
  SL_TRACE_SPARE,     /* this thread started a spare worker for a pool */
  SL_TRACE_CAP,       /* the pool needed a spare but is at its thread cap */
  SL_TRACE_SUSPEND,   /* a job waiting on a channel or a join was suspended and its
                         worker goes on with other work (continuations); obj: the
                         channel, or the pool for a join */
  SL_TRACE_RESUME,    /* the suspended job runs again, on the same worker */
} sl_trace_event;

/* A trace hook: the event, the pool the thread works for (NULL for a plain
 * thread), the channel for CHAN_WAIT/CHAN_DONE (else NULL), and the arg
 * given to sl_trace_set. It runs inside the scheduler, on hot-ish paths and
 * sometimes under a pool lock: it must be short, must not block and must
 * not call into sluice. */
typedef void (*sl_trace_fn)(sl_trace_event ev, const sl_pool *pool, const void *obj, void *arg);

/* Installs fn (NULL removes it). Meant to be set before the work to trace
 * starts and removed after it ends; a thread already inside a hook call
 * when it is replaced finishes that call. Without a hook each slow-path
 * event costs one relaxed load. */
SL_API void sl_trace_set(sl_trace_fn fn, void *arg);

/* Its name: "idle", "work", "join-wait", ... ("?" for an unknown value). */
SL_API const char *sl_trace_event_name(sl_trace_event ev);

/* ---- testing ------------------------------------------------------------ */

/* Makes sluice's allocation after the next n succeed fail (n = 0: the next
 * one); negative n turns injection off. Returns how many allocations failed
 * since the previous call. For tests that walk every allocation site, as
 * SQLite's do. */
SL_API long sl_test_fail_alloc_after(long n);

/* Makes the creation of the thread after the next n fail (negative: off).
 * Returns how many creations failed since the previous call. */
SL_API long sl_test_fail_thread_after(long n);

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_H */
