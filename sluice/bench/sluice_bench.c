/* sluice_bench.c: the benchmark binary, with the command line every peer of
 * ../shared/peers follows:  sluice-bench WORKLOAD [THREADS] [VARIANT]
 * THREADS missing or 0: $THREADS, else all cores. THREADS is the number of
 * threads at work, as for every peer: fib, sum and sort run on a pool of
 * THREADS workers while this thread sleeps (bench_in_pool), unless VARIANT is
 * "caller". It prints result lines on
 * stdout and '#' notes on stderr, and nothing on stdout for a workload it
 * does not implement. */
#include "bench.h"

#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct in_pool {
  sl_fn fn;
  void *arg;
  sem_t done;
} in_pool;

static void in_pool_run(void *p) {
  in_pool *ip = p;
  ip->fn(ip->arg);
  sem_post(&ip->done); /* the caller's frame outlives this: it waits for the post */
}

int bench_in_pool(sl_pool *pool, sl_fn fn, void *arg, bool caller) {
  if (caller)
    return sl_install(pool, fn, arg);
  in_pool ip = {.fn = fn, .arg = arg};
  if (sem_init(&ip.done, 0, 0))
    return SL_ENOMEM;
  int rc = sl_pool_spawn(pool, in_pool_run, &ip);
  while (!rc && sem_wait(&ip.done) != 0)
    ; /* EINTR */
  sem_destroy(&ip.done);
  return rc;
}

bool bench_caller_variant(const char *variant) {
  return variant && strcmp(variant, "caller") == 0;
}

static int env_int(const char *name, int dflt) {
  const char *s = getenv(name);
  return s && *s ? atoi(s) : dflt;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double bench_median(double (*fn)(void *arg), void *arg) {
  int warm = env_int("WARMUP", 1), reps = env_int("REPS", 5);
  if (reps < 1)
    reps = 1;
  if (reps > 1000)
    reps = 1000;
  for (int i = 0; i < warm; i++)
    fn(arg);
  double t[1000];
  for (int i = 0; i < reps; i++)
    t[i] = fn(arg);
  qsort(t, (size_t)reps, sizeof t[0], cmp_double);
  return reps % 2 ? t[reps / 2] : (t[reps / 2 - 1] + t[reps / 2]) / 2;
}

void bench_line(const char *workload, unsigned threads, const char *param, double seconds,
                double metric, const char *unit) {
  printf("peer=sluice workload=%s threads=%u param=%s seconds=%.6f metric=%.3f unit=%s\n", workload,
         threads, param, seconds, metric, unit);
  fflush(stdout);
}

int bench_check(const char *what, int ok) {
  fprintf(stderr, "# check %s %s\n", what, ok ? "ok" : "MISMATCH");
  return ok;
}

static const struct {
  const char *name;
  int (*run)(unsigned threads, const char *variant);
} workloads[] = {
    {"fib", bench_fib},   {"sum", bench_sum},           {"sort", bench_sort},
    {"chan", bench_chan}, {"pipeline", bench_pipeline},
};

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s WORKLOAD [THREADS] [VARIANT]\n"
                    "  workloads: fib sum sort chan pipeline\n"
                    "  fib, sum, sort: THREADS workers run the work while this thread sleeps;\n"
                    "  VARIANT caller makes this thread take part too (THREADS + 1 at work);\n"
                    "  pipeline VARIANT: global, global-cont (continuations), isolated,\n"
                    "  threads or layer\n"
                    "  chan VARIANT: 1p1c 4p4c unbounded select 64p64c-jobs (missing: all)\n",
            argv[0]);
    return 2;
  }
  long threads = argc > 2 ? atol(argv[2]) : 0;
  if (threads <= 0)
    threads = env_int("THREADS", 0);
  if (threads <= 0)
    threads = sysconf(_SC_NPROCESSORS_ONLN);
  if (threads <= 0)
    threads = 1;
  const char *variant = argc > 3 ? argv[3] : NULL;
  for (size_t i = 0; i < sizeof workloads / sizeof workloads[0]; i++)
    if (strcmp(argv[1], workloads[i].name) == 0)
      return workloads[i].run((unsigned)threads, variant) ? 1 : 0;
  fprintf(stderr, "# sluice-bench: workload %s not implemented\n", argv[1]);
  return 0;
}
