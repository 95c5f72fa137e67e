/* core_test_hooks.h: what core offers tests only, kept out of core.h so no
 * module can call it by accident. Included by alloc.c, which implements it,
 * and by tests. */
#ifndef TROVE_CORE_TEST_HOOKS_H
#define TROVE_CORE_TEST_HOOKS_H

#include <stdbool.h>

/* Makes the allocation after the next `n` successful ones fail (n = 0 fails
 * the very next one), and every one after it too when `sticky`. Negative n
 * turns failures off. Returns how many allocations failed since the last
 * call. Any thread (the counter is atomic). */
long trove_alloc_fail_after(long n, bool sticky);

#endif /* TROVE_CORE_TEST_HOOKS_H */
