/* check.h: the few lines of test harness every test file of the tree uses.
 * CHECK records a failure and goes on, so one run reports every broken claim;
 * RUN runs one named case and counts it; check_done prints the summary line
 * `N passed, N failed` and gives the exit code; check_skip gives the code of
 * a test that cannot run for want of its data. Header-only on purpose: each
 * test is one executable and needs no library for this. */
#ifndef CHECK_H
#define CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int check_failures_in_case, check_passed, check_failed;

#define CHECK(c)                                                                   \
  do {                                                                             \
    if (!(c)) {                                                                    \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c);        \
      check_failures_in_case++;                                                    \
    }                                                                              \
  } while (0)

static inline double check_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline void check_run(const char *name, void (*fn)(void)) {
  check_failures_in_case = 0;
  double t0 = check_now();
  fn();
  double dt = check_now() - t0;
  if (check_failures_in_case) {
    check_failed++;
    fprintf(stderr, "FAIL %s (%.2fs)\n", name, dt);
  } else {
    check_passed++;
    fprintf(stderr, "ok   %s (%.2fs)\n", name, dt);
  }
}
#define RUN(fn) check_run(#fn, fn)

/* How much to shrink a test's data under a sanitizer, which runs code 5-20
 * times slower: sizes divide by this so every build finishes in seconds. */
static inline unsigned check_scale(void) {
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  return 4;
#else
  return 1;
#endif
}

/* Prints the summary line and returns the process exit code. */
static inline int check_done(const char *file) {
  printf("%s: %d passed, %d failed\n", file, check_passed, check_failed);
  return check_failed != 0;
}

/* A seed for randomized tests: $SEED when set, else the clock. Printed so a
 * failing run can be repeated. */
static inline unsigned long check_seed(const char *file) {
  const char *s = getenv("SEED");
  unsigned long seed = s ? strtoul(s, NULL, 10) : (unsigned long)time(NULL);
  fprintf(stderr, "%s: SEED=%lu\n", file, seed);
  return seed;
}

/* The exit code of a test whose data is missing: ctest reports it as
 * skipped (SKIP_RETURN_CODE 77 in add_unit_test and sluice_test), never as
 * passed. Prints why, naming what to install. */
enum { CHECK_SKIPPED = 77 };
static inline int check_skip(const char *file, const char *why) {
  printf("%s: skipped: %s\n", file, why);
  return CHECK_SKIPPED;
}

#endif /* CHECK_H */
