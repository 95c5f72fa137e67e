/* hello_pool.c: a tour of sluice's pool in one page: a pool of its own,
 * join, a scope whose tasks borrow the caller's stack, a parallel loop, a
 * map-reduce and a sort. Run: build/plain/sluice/examples/hello_pool */
#include <sluice.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct fib_arg {
  unsigned n;
  unsigned long r;
} fib_arg;

static void fib(void *p) {
  fib_arg *a = p;
  if (a->n < 20) { /* small calls: plain recursion is cheaper than a join */
    unsigned long x = 0, y = 1;
    for (unsigned i = 0; i < a->n; i++) {
      unsigned long t = x + y;
      x = y;
      y = t;
    }
    a->r = x;
    return;
  }
  fib_arg l = {a->n - 1, 0}, r = {a->n - 2, 0};
  sl_join(fib, &l, fib, &r);
  a->r = l.r + r.r;
}

static void count_word(sl_scope *s, void *p) {
  (void)s;
  atomic_fetch_add((atomic_int *)p, 1);
}

static void spawn_words(sl_scope *s, void *p) {
  for (int i = 0; i < 100; i++)
    sl_spawn(s, count_word, p);
}

static void square_sum(void *ctx, size_t lo, size_t hi, void *acc) {
  (void)ctx;
  for (size_t i = lo; i < hi; i++)
    *(double *)acc += (double)i * (double)i;
}

static void add(void *ctx, void *acc, const void *other) {
  (void)ctx;
  *(double *)acc += *(const double *)other;
}

static void tour(void *arg) {
  (void)arg;
  fib_arg f = {40, 0};
  sl_join(fib, &f, fib, &(fib_arg){1, 0});
  printf("fib(40) = %lu on pool \"%s\" of %u threads\n", f.r,
         sl_pool_name(sl_current_pool()), sl_current_num_threads());

  atomic_int words = 0; /* borrowed by the scope's tasks */
  sl_scope_run(spawn_words, &words);
  printf("scope ran %d tasks\n", atomic_load(&words));

  double zero = 0, sum = 0;
  sl_map_reduce(0, 1000000, 1024, sizeof sum, &zero, square_sum, add, NULL, &sum);
  printf("sum of squares below 1e6 = %.0f\n", sum);

  size_t n = 1000000;
  uint32_t *keys = malloc(n * sizeof *keys);
  if (!keys)
    return;
  for (size_t i = 0; i < n; i++)
    keys[i] = (uint32_t)(i * 2654435761u);
  sl_sort_u32(keys, n);
  printf("sorted %zu keys: first %u, last %u\n", n, keys[0], keys[n - 1]);
  free(keys);
}

int main(void) {
  sl_pool *pool;
  int rc = sl_pool_create(&pool, "tour", 0);
  if (rc) {
    fprintf(stderr, "hello_pool: cannot create a pool: %s\n", sl_strerror(rc));
    return 1;
  }
  sl_install(pool, tour, NULL);
  sl_pool_destroy(pool);
  return 0;
}
