/* bench.h: what the workloads of sluice-bench share: the result line of
 * ../shared/peers/README.md, repetitions with a median, and the thread count
 * rule. Each workload lives in its own bench_<name>.c and is listed in
 * sluice_bench.c. Figures are printed, never asserted. */
#ifndef SLUICE_BENCH_H
#define SLUICE_BENCH_H

#include <sluice.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Runs fn(arg) WARMUP times untimed (env, default 1), then REPS times (env,
 * default 5) timed with the monotonic clock, and returns the median seconds
 * (the mean of the middle two for an even count). fn returns the seconds of
 * the part it timed itself, so setup and checks stay out of the figure. */
double bench_median(double (*fn)(void *arg), void *arg);

/* Prints one result line on stdout, as the peers do:
 * peer=sluice workload=W threads=T param=P seconds=S metric=M unit=U */
void bench_line(const char *workload, unsigned threads, const char *param, double seconds,
                double metric, const char *unit);

/* Prints `# check <what> ok|MISMATCH` on stderr; returns ok. */
int bench_check(const char *what, int ok);

/* Runs fn(arg) inside pool and returns when it has returned. By default fn
 * runs on one of the pool's workers while the caller sleeps (on a
 * semaphore, as Rayon's install parks its caller), so a pool of THREADS
 * workers is exactly THREADS threads at work, as in every peer. With
 * `caller` it is sl_install from this plain thread, which takes part as a
 * member of the pool: THREADS + 1 threads at work (the `-caller` variant
 * of fib, sum and sort). Returns 0 or the spawn's error. */
int bench_in_pool(sl_pool *pool, sl_fn fn, void *arg, bool caller);

/* Whether a variant argument asks for the caller to take part ("caller");
 * the param suffix for the result line is then "-caller". */
bool bench_caller_variant(const char *variant);

/* Seconds since an arbitrary point, monotonic. */
double bench_now(void);

/* Workloads: each takes the thread count (already resolved, >= 1) and the
 * variant (may be NULL) and returns 0, or non-zero on a failed check. */
int bench_fib(unsigned threads, const char *variant);
int bench_sum(unsigned threads, const char *variant);
int bench_sort(unsigned threads, const char *variant);
int bench_chan(unsigned threads, const char *variant);
int bench_pipeline(unsigned threads, const char *variant);

#endif
