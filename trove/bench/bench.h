/* bench.h: what trove's benchmarks share: the two clocks, settings read
 * from the environment, the median of repetitions, and the result line of
 * /work/shared/peers/README.md. Both clocks are kept because on a shared,
 * oversubscribed machine the wall clock also counts time spent waiting for
 * a core; CPU time shows the work itself. Header-only, static inline, as
 * check.h is for the tests: each benchmark is its own executable, registered
 * beside the module it measures (src/<module>/CMakeLists.txt), and finds
 * this file next to its source with no library or include path to add.
 * Figures are printed, never asserted. */
#ifndef TROVE_BENCH_H
#define TROVE_BENCH_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Seconds since an arbitrary point, monotonic. */
static inline double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU seconds used so far by the whole process, every thread counted. */
static inline double bench_cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The environment variable `name` as a decimal integer, or def when it is
 * unset or empty. */
static inline long bench_env(const char *name, long def) {
  const char *s = getenv(name);
  return s && *s ? strtol(s, NULL, 10) : def;
}

/* The same for a floating-point setting. */
static inline double bench_env_double(const char *name, double def) {
  const char *s = getenv(name);
  return s && *s ? strtod(s, NULL) : def;
}

/* The most timed repetitions a benchmark keeps (its array of times). */
#define BENCH_MAX_REPS 64

/* REPS (default 5) and WARMUP (default 1), clamped to what the benchmarks
 * can hold: 1 .. BENCH_MAX_REPS timed, 0 .. 100 untimed. */
static inline int bench_reps(void) {
  long r = bench_env("REPS", 5);
  return r < 1 ? 1 : r > BENCH_MAX_REPS ? BENCH_MAX_REPS : (int)r;
}

static inline int bench_warmup(void) {
  long w = bench_env("WARMUP", 1);
  return w < 0 ? 0 : w > 100 ? 100 : (int)w;
}

/* qsort's comparison for doubles, ascending. */
static inline int bench_cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Sorts v[0..n) (n >= 1) and returns its median: the middle value, or the
 * mean of the middle two for an even n. */
static inline double bench_median(double *v, size_t n) {
  qsort(v, n, sizeof *v, bench_cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Prints one result line on stdout, flushed at once so a run cut short
 * keeps the lines it printed:
 * peer=trove workload=W threads=T param=P seconds=S metric=M unit=U */
static inline void bench_line(const char *workload, int threads, const char *param,
                              double seconds, double metric, const char *unit) {
  printf("peer=trove workload=%s threads=%d param=%s seconds=%.6f metric=%.3f unit=%s\n",
         workload, threads, param, seconds, metric, unit);
  fflush(stdout);
}

#endif /* TROVE_BENCH_H */
