/* cpus.c: how many CPUs this process may use, asked of the OS once.
 *
 * The embedder, the index builder and the scan pipeline all size their
 * thread counts from it; one cached answer keeps them agreeing and keeps the
 * sysconf call off their paths. */
#include "core.h"

#include <stdatomic.h>
#include <unistd.h>

size_t trove_online_cpus(void) {
  static _Atomic size_t cached; /* 0 until asked; every thread computes the same */
  size_t n = atomic_load_explicit(&cached, memory_order_relaxed);
  if (n == 0) {
    long got = sysconf(_SC_NPROCESSORS_ONLN);
    n = got < 1 ? 1 : (size_t)got;
    atomic_store_explicit(&cached, n, memory_order_relaxed);
  }
  return n;
}
