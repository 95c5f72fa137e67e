/* alloc.c: the one allocation hook of trove. Production code calls
 * trove_malloc and friends; tests call trove_alloc_fail_after to make the
 * Nth allocation fail, as SQLite's test_malloc.c does, and rerun a call with
 * N = 0, 1, 2 ... until it succeeds, checking each failure is clean. */
#include "core.h"
#include "core_test_hooks.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Allocations left before the injected failure; negative means never fail.
 * Relaxed is enough: tests set it from the thread that then allocates, and a
 * multi-threaded test only needs "some allocation fails", not which. */
static atomic_long fail_countdown = -1;
static atomic_bool fail_sticky;
static atomic_long fail_count;

/* Counts down to 0; the allocation that finds 0 fails. A non-sticky
 * failure is claimed by moving 0 to -1 with a CAS, so when threads reach 0
 * together exactly one of them fails (a plain store let two fail, and the
 * embedder's fault loop, which allocates on two threads, saw failed == 2). */
static bool should_fail(void) {
  long n = atomic_load_explicit(&fail_countdown, memory_order_relaxed);
  for (;;) {
    if (n < 0)
      return false;
    bool sticky = atomic_load_explicit(&fail_sticky, memory_order_relaxed);
    if (n == 0 && sticky)
      break;
    long next = n > 0 ? n - 1 : -1; /* a lost race reloads n and retries */
    if (atomic_compare_exchange_weak_explicit(&fail_countdown, &n, next, memory_order_relaxed,
                                              memory_order_relaxed)) {
      if (n > 0)
        return false;
      break;
    }
  }
  atomic_fetch_add_explicit(&fail_count, 1, memory_order_relaxed);
  return true;
}

long trove_alloc_fail_after(long n, bool sticky) {
  atomic_store_explicit(&fail_sticky, sticky, memory_order_relaxed);
  atomic_store_explicit(&fail_countdown, n < 0 ? -1 : n, memory_order_relaxed);
  return atomic_exchange_explicit(&fail_count, 0, memory_order_relaxed);
}

void *trove_malloc(size_t n) { return should_fail() ? NULL : malloc(n ? n : 1); }

void *trove_calloc(size_t count, size_t size) {
  return should_fail() ? NULL : calloc(count ? count : 1, size ? size : 1);
}

void *trove_realloc(void *p, size_t n) { return should_fail() ? NULL : realloc(p, n ? n : 1); }

void trove_free(void *p) { free(p); }

char *trove_strndup(const char *s, size_t n) {
  if (!s)
    return NULL;
  size_t len = strnlen(s, n);
  char *d = trove_malloc(len + 1);
  if (d) {
    memcpy(d, s, len);
    d[len] = '\0';
  }
  return d;
}

char *trove_strdup(const char *s) { return s ? trove_strndup(s, strlen(s)) : NULL; }
