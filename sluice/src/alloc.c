/* alloc.c: every allocation of sluice goes through here, so tests can fail
 * the Nth one (sl_test_fail_alloc_after) and walk each allocation site in
 * turn, as SQLite's test_malloc.c does. Thread creation has the same kind of
 * hook. The countdown is shared by all threads: a multi-threaded test learns
 * that some allocation failed, not which. */
#include "internal.h"

#include <stdlib.h>

/* Allocations left before the injected failure; negative: never fail.
 * Relaxed: the counter orders nothing else; tests read it after joins. */
static atomic_long alloc_countdown = -1;
static atomic_long alloc_failed;
static atomic_long thread_countdown = -1;
static atomic_long thread_failed;

/* Takes one step of a countdown; true when this step is the failure (which
 * also switches the countdown off, so only one call fails). */
static bool countdown_fires(atomic_long *countdown, atomic_long *failed) {
  long n = atomic_load_explicit(countdown, memory_order_relaxed);
  while (n >= 0) {
    long next = n == 0 ? -1 : n - 1;
    if (atomic_compare_exchange_weak_explicit(countdown, &n, next, memory_order_relaxed,
                                              memory_order_relaxed)) {
      if (n != 0)
        return false;
      atomic_fetch_add_explicit(failed, 1, memory_order_relaxed);
      return true;
    }
  }
  return false;
}

long sl_test_fail_alloc_after(long n) {
  atomic_store_explicit(&alloc_countdown, n < 0 ? -1 : n, memory_order_relaxed);
  return atomic_exchange_explicit(&alloc_failed, 0, memory_order_relaxed);
}

long sl_test_fail_thread_after(long n) {
  atomic_store_explicit(&thread_countdown, n < 0 ? -1 : n, memory_order_relaxed);
  return atomic_exchange_explicit(&thread_failed, 0, memory_order_relaxed);
}

bool sl__thread_create_should_fail(void) { return countdown_fires(&thread_countdown, &thread_failed); }

void *sl__malloc(size_t n) {
  return countdown_fires(&alloc_countdown, &alloc_failed) ? NULL : malloc(n ? n : 1);
}

void *sl__calloc(size_t count, size_t size) {
  return countdown_fires(&alloc_countdown, &alloc_failed) ? NULL : calloc(count ? count : 1, size ? size : 1);
}

void *sl__aligned_alloc(size_t align, size_t n) {
  if (countdown_fires(&alloc_countdown, &alloc_failed))
    return NULL;
  void *p = NULL;
  return posix_memalign(&p, align, n ? n : 1) == 0 ? p : NULL;
}

void sl__free(void *p) { free(p); }
