/* internal.h: what the files of sluice share and no caller sees. sl__ names
 * cross files; static helpers carry no prefix. The one place a thread waits
 * (sl__wait), the thread record the stall detector reads, the allocation
 * hook, and the pool hooks that channels and the detector call.
 *
 * THE SEAM FOR BLOCKING AND STALLS. Every wait in sluice goes through
 * sl__wait, except a job suspended as a continuation (cont.c), whose own
 * record says what it waits for. sl__wait records on the calling thread what it waits for (an operation
 * and an object), marks a pool worker blocked for the duration when the wait
 * is a blocking one (so the pool can compensate, see pool.c), and counts
 * progress per thread, which the stall detector sums. */
#ifndef SLUICE_INTERNAL_H
#define SLUICE_INTERNAL_H

#include "sluice.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define SL_HIDDEN __attribute__((visibility("hidden")))

/* Cache line size on the machines we target (x86-64, most arm64); contended
 * indices get a line of their own to avoid false sharing. */
#define SL_CACHELINE 64

/* ---- allocation (alloc.c) ---------------------------------------------- */

/* malloc/calloc/free through the fault-injection hook. NULL on failure. */
SL_HIDDEN void *sl__malloc(size_t n);
SL_HIDDEN void *sl__calloc(size_t count, size_t size);
SL_HIDDEN void *sl__aligned_alloc(size_t align, size_t n); /* free with sl__free */
SL_HIDDEN void sl__free(void *p);
/* True when thread creation should fail now (sl_test_fail_thread_after). */
SL_HIDDEN bool sl__thread_create_should_fail(void);

/* ---- time -------------------------------------------------------------- */

/* Deadline for a relative timeout: SL_FOREVER (any negative) stays -1. */
static inline int64_t sl__deadline(int64_t timeout_ns) {
  if (timeout_ns < 0)
    return -1;
  int64_t now = sl_now_ns();
  return timeout_ns > INT64_MAX - now ? -1 : now + timeout_ns;
}

/* ---- the thread record (thread.c) -------------------------------------- */

/* What a thread waits for, shown by the stall detector. */
typedef enum sl__op {
  SL_OP_NONE = 0,  /* running */
  SL_OP_SEND,      /* obj: sl_chan */
  SL_OP_RECV,      /* obj: sl_chan */
  SL_OP_SELECT,    /* obj: sl_chan of the first operation */
  SL_OP_JOIN,      /* obj: sl_pool; a stolen job or a scope's tasks */
  SL_OP_INSTALL,   /* obj: sl_pool being installed into */
  SL_OP_BLOCKING,  /* obj: a static string from sl_blocking_begin */
  SL_OP_IDLE,      /* a worker with nothing to do; obj: its pool */
  SL_OP_PIPELINE,  /* sl_pipeline_run waiting for its stages; the name is the pipeline's */
} sl__op;

/* How many operations of a select the thread record keeps for reports; a
 * wider select shows these and a count of the rest. */
#define SL__SEL_SHOWN 4

struct sl__worker;

/* One per thread that ever touched sluice's waits, in thread-local storage,
 * linked into a global registry (under reg_lock in thread.c) until the thread
 * exits. Fields other threads read are atomics; they read them racily, which
 * is fine for diagnostics. */
typedef struct sl__thread {
  struct sl__worker *worker;  /* owner only: its worker slot, NULL if none */
  _Atomic int op;             /* sl__op now waited on; written by the owner */
  _Atomic(const void *) obj;  /* the object of op */
  _Atomic uint64_t progress;  /* jobs and channel operations done; owner writes */
  int block_nest;             /* owner only: nesting of blocking stretches */
  uint32_t rng;               /* owner only: xorshift state for victims, select */
  uintptr_t region;           /* owner only: isolation region of the running job */
  _Atomic uint64_t since_ns;  /* when the current wait started */
  _Atomic char name[32];      /* stage name; owner writes, readers copy racily */
  _Atomic(const void *) pool; /* the pool whose worker this is, or NULL */
  _Atomic int worker_index;   /* its slot in that pool, -1 when none */
  /* What the thread runs, for reports of unnamed threads: the user function
   * of a spawned job or an install (fn, as an integer: a function pointer is
   * no object pointer), or the internal channel of the pipeline map whose
   * job it runs (job_of). Owner writes around the call; 0/NULL when none. */
  _Atomic uintptr_t fn;
  _Atomic(const void *) job_of;
  /* The operations of the select it waits in (op SL_OP_SELECT): channel
   * pointers (cache-line aligned, so bit 0 is free) with the kind in bit 0
   * (1: send), and their number. Written by the owner before it parks, read
   * racily by the stall detector, which interprets a channel only if it is
   * alive in its snapshot. */
  _Atomic uintptr_t sel_ops[SL__SEL_SHOWN];
  _Atomic unsigned sel_n;
  pthread_t tid;
  struct sl__thread *prev, *next; /* registry links, under reg_lock */
  bool registered;
  /* A job's record, not a thread's: a continuation's (cont.c), which
   * shows a wait only while the job is suspended. Set before registering. */
  bool cont;
  /* Owner only: the record that stands for what the thread runs, which
   * channels remember as the user of an end: this record itself, or on a
   * worker with continuations the running job's (its stack's), so a stall
   * verdict leads to the job, not to its worker. Set on registration. */
  struct sl__thread *job;
} sl__thread;

/* The calling thread's record lives in TLS; sl__self_slow registers it on
 * first use. sl__self is the hot path of every join, hence inline. */
/* initial-exec: one %fs-relative load, where the default model for -fPIC
 * code calls __tls_get_addr on every access. It costs a dlopen() of the
 * shared library a slot of static TLS, which glibc reserves for this. */
extern _Thread_local sl__thread sl__tls_self __attribute__((tls_model("initial-exec")));
SL_HIDDEN sl__thread *sl__self_slow(void);

/* The calling thread's record, registered on first use. Never NULL. */
static inline sl__thread *sl__self(void) {
  sl__thread *t = &sl__tls_self;
  return __builtin_expect(t->registered, 1) ? t : sl__self_slow();
}

/* Counts one unit of progress (a job or a channel operation) on the caller.
 * Relaxed load+store, not an RMW: only the owner writes it. */
static inline void sl__progress(sl__thread *t) {
  atomic_store_explicit(&t->progress,
                        atomic_load_explicit(&t->progress, memory_order_relaxed) + 1,
                        memory_order_relaxed);
}

/* Records fn (a user function as an integer) as what the calling thread
 * runs, for stall reports; 0 leaves the record as it is. Returns the
 * previous value, for sl__fn_leave when fn returns. Relaxed: read racily
 * for diagnostics. */
static inline uintptr_t sl__fn_enter(sl__thread *t, uintptr_t fn) {
  uintptr_t prev = atomic_load_explicit(&t->fn, memory_order_relaxed);
  if (fn && fn != prev)
    atomic_store_explicit(&t->fn, fn, memory_order_relaxed);
  return prev;
}

static inline void sl__fn_leave(sl__thread *t, uintptr_t prev) {
  if (atomic_load_explicit(&t->fn, memory_order_relaxed) != prev)
    atomic_store_explicit(&t->fn, prev, memory_order_relaxed);
}

/* Calls fn(t, arg) for every registered thread, under the registry lock (so
 * no record goes away meanwhile). fn must not call back into sluice waits. */
SL_HIDDEN void sl__threads_foreach(void (*fn)(sl__thread *t, void *arg), void *arg);

/* Adds a continuation's record to the registry / takes it out (cont.c).
 * A thread's own record registers itself on first use (sl__self). */
SL_HIDDEN void sl__thread_register(sl__thread *rec);
SL_HIDDEN void sl__thread_unregister(sl__thread *rec);

/* Copies t's stage name into out (cap bytes, NUL-terminated); "" if none.
 * Any thread; racy by design. */
SL_HIDDEN void sl__thread_name(sl__thread *t, char *out, size_t cap);

/* The cpus online, read once (pool.c): the default pool size, and what the
 * channel spin policy measures crowding against. */
SL_HIDDEN unsigned sl__online_cpus(void);

/* A uniform random number below n (n > 0) from the caller's xorshift. */
SL_HIDDEN uint32_t sl__rand_below(sl__thread *t, uint32_t n);

/* ---- the one wait primitive (wait.c) ------------------------------------ */

/* Parks the calling thread while *word == expect, until sl__wake on word or
 * the deadline (sl_now_ns base; negative: none). Records (op, obj) on the
 * thread for the stall detector. When `blocking` is true and the caller is a
 * pool worker, the worker counts as blocked for the duration, so its pool
 * may start a compensating spare (pool.c). Returns 0 (woken, changed, or
 * spurious: callers re-check their condition in a loop) or SL_ETIMEDOUT. */
SL_HIDDEN int sl__wait(_Atomic uint32_t *word, uint32_t expect, sl__op op, const void *obj,
                       bool blocking, int64_t deadline);

/* Pool members (workers, and outside threads working inside a pool) that
 * are not parked in sl__wait: threads that may hold a core for pool work.
 * The channel spin policy reads it (chan_spin.c); members add themselves
 * where they join and leave a pool, sl__wait while they sleep. Relaxed: a
 * hint. */
SL_HIDDEN void sl__members_awake_add(int delta);
SL_HIDDEN int sl__members_awake(void);

/* Wakes up to n threads parked on word (INT32_MAX: all). */
SL_HIDDEN void sl__wake(_Atomic uint32_t *word, int n);

/* Brackets a blocking stretch that waits by other means than sl__wait (a
 * helper that spins first, a user region). Nest-safe per thread. */
SL_HIDDEN void sl__block_enter(sl__thread *t, sl__op op, const void *obj);
SL_HIDDEN void sl__block_leave(sl__thread *t);

/* ---- internal channels (chan.c) ------------------------------------------ */

/* Creates a channel as sl_chan_create does, marked internal: the jobs of a
 * pipeline map report back on it. Stall reports say so instead of listing
 * it as the user's, and name `pool`, where those jobs run. */
SL_HIDDEN int sl__chan_create_internal(sl_chan **out, const char *name, size_t elem_size,
                                       size_t cap, const sl_pool *pool);

/* ---- pool hooks (pool.c) ------------------------------------------------ */

/* Called by sl__block_enter/leave for a worker: counts it blocked or
 * running, and starts or wakes a spare while the pool has fewer running
 * workers than its size and work is queued. */
SL_HIDDEN void sl__pool_worker_blocked(struct sl__worker *w);
SL_HIDDEN void sl__pool_worker_unblocked(struct sl__worker *w);

/* ---- the stall detector (stall.c) --------------------------------------- */

/* Starts the watchdog once if SLUICE_WATCHDOG is set. Called by the first
 * pool and the first channel. */
SL_HIDDEN void sl__watchdog_from_env(void);

/* Reads a SLUICE_WATCHDOG value: 1 with *secs > 0 (start), 0 for unset,
 * empty or 0 (off), -1 for anything else (not a number, negative, not
 * finite, over 10^6, trailing text): the caller warns on stderr once. */
SL_HIDDEN int sl__watchdog_env_parse(const char *v, double *secs);

/* The state report as a malloc'd text (free with free()), NULL on ENOMEM. */
SL_HIDDEN char *sl__state_report(const char *headline);

/* ---- tracing (trace.c) -------------------------------------------------- */

extern SL_HIDDEN _Atomic(sl_trace_fn) sl__trace_fn;
SL_HIDDEN void sl__trace_emit(sl_trace_fn fn, sl_trace_event ev, const sl_pool *pool,
                              const void *obj);

/* Reports a scheduler event to the trace hook, if one is set. Acquire:
 * pairs with sl_trace_set's release, so the hook's argument is seen too (a
 * plain load on x86, and this runs on slow paths only). */
static inline void sl__trace(sl_trace_event ev, const sl_pool *pool, const void *obj) {
  sl_trace_fn fn = atomic_load_explicit(&sl__trace_fn, memory_order_acquire);
  if (__builtin_expect(fn != NULL, 0))
    sl__trace_emit(fn, ev, pool, obj);
}

/* CPU relax for spin loops. */
static inline void sl__cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

#endif /* SLUICE_INTERNAL_H */
