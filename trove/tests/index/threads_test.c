/* threads_test.c: searches running while one thread inserts, removes,
 * compacts (automatically and on request) and saves. Proves, under TSan,
 * that the locking in index.c has no data race, and that a search never
 * returns an id removed before it began nor one not yet added. More
 * threads than cores on purpose. */
#include "index.h"
#include "scan.h" /* trove_scan_use_sluice */

#include "check.h"
#include "testdata.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

enum { D = 16, N = 1500, SEARCHERS = 3 };

static float *vecs;
static trove_index *idx;
static char path[128];
/* Ids [0, added) have been added; ids [0, removed) removed. Release stores
 * by the writer after the call returned, acquire loads by the searchers:
 * an id a searcher sees as added/removed really is in that state. */
static atomic_size_t added, removed;
static atomic_bool done;
static atomic_int bad_hits, searches;

static void *writer(void *arg) {
  (void)arg;
  for (size_t i = 0; i < N; i++) {
    CHECK(trove_index_add(idx, i, vecs + i * D, D, NULL) == 0);
    atomic_store_explicit(&added, i + 1, memory_order_release);
    if (i % 3 == 2) {
      size_t r = atomic_load_explicit(&removed, memory_order_relaxed); /* only we write it */
      CHECK(trove_index_remove(idx, r) == 0);
      atomic_store_explicit(&removed, r + 1, memory_order_release);
    }
    if (i == N / 2)
      CHECK(trove_index_compact(idx, NULL) == 0);
  }
  atomic_store_explicit(&done, true, memory_order_release);
  return NULL;
}

static void *searcher(void *arg) {
  uint64_t s = (uint64_t)(uintptr_t)arg;
  trove_index_hit h[10];
  int round = 0;
  while (!atomic_load_explicit(&done, memory_order_acquire) || round < 20) {
    size_t r0 = atomic_load_explicit(&removed, memory_order_acquire);
    const float *q = vecs + (td_next(&s) % N) * D;
    size_t n;
    if (trove_index_search(idx, q, D, 10, NULL, NULL, h, &n, NULL) != 0)
      atomic_fetch_add_explicit(&bad_hits, 1, memory_order_relaxed);
    /* The add of id `added` may have finished before the store: allow it. */
    size_t a1 = atomic_load_explicit(&added, memory_order_acquire);
    for (size_t j = 0; j < n; j++)
      if (h[j].id < r0 || h[j].id > a1 || (j > 0 && h[j].score > h[j - 1].score))
        atomic_fetch_add_explicit(&bad_hits, 1, memory_order_relaxed);
    if ((uintptr_t)arg == 1 && ++round % 200 == 0)
      CHECK(trove_index_save(idx, path, NULL) == 0); /* saves share the read lock */
    if ((uintptr_t)arg != 1)
      round++;
    atomic_fetch_add_explicit(&searches, 1, memory_order_relaxed);
  }
  return NULL;
}

static void searches_during_writes_see_consistent_states(void) {
  trove_index_params p;
  trove_index_params_default(&p, D);
  p.m = 8;
  p.ef_construction = 40;
  p.flat_threshold = 100; /* both paths run: scan early, graph later */
  p.compact_ratio = 0.2;
  CHECK(trove_index_create(&p, &idx, NULL) == 0);
  pthread_t w, r[SEARCHERS];
  for (uintptr_t i = 0; i < SEARCHERS; i++)
    CHECK(pthread_create(&r[i], NULL, searcher, (void *)(i + 1)) == 0);
  CHECK(pthread_create(&w, NULL, writer, NULL) == 0);
  CHECK(pthread_join(w, NULL) == 0);
  for (int i = 0; i < SEARCHERS; i++)
    CHECK(pthread_join(r[i], NULL) == 0);
  CHECK(atomic_load(&bad_hits) == 0);
  CHECK(trove_index_count(idx) == N - N / 3);
  CHECK(trove_index_dead(idx) < N / 3); /* auto compaction ran */
  fprintf(stderr, "  %d searches, %zu tombstones left\n", atomic_load(&searches),
          trove_index_dead(idx));
  trove_index *y = NULL;
  CHECK(trove_index_load(path, D, &y, NULL) == 0);
  trove_index_destroy(y);
  trove_index_destroy(idx);
  unlink(path);
}

/* ---- parallel batch inserts with searches waiting on them ---------------- */

enum { BATCH = 300, BATCHES = 4 };
static atomic_size_t batches_done;

static void *batch_searcher(void *arg) {
  uint64_t s = (uint64_t)(uintptr_t)arg;
  trove_index_hit h[10];
  while (atomic_load_explicit(&batches_done, memory_order_acquire) < BATCHES) {
    size_t n, b0 = atomic_load_explicit(&batches_done, memory_order_acquire);
    const float *q = vecs + (td_next(&s) % N) * D;
    if (trove_index_search(idx, q, D, 10, NULL, NULL, h, &n, NULL) != 0)
      atomic_fetch_add_explicit(&bad_hits, 1, memory_order_relaxed);
    size_t b1 = atomic_load_explicit(&batches_done, memory_order_acquire);
    /* A batch is all or nothing: at most one more than was done after. */
    for (size_t j = 0; j < n; j++)
      if (h[j].id >= (b1 + 1) * BATCH)
        atomic_fetch_add_explicit(&bad_hits, 1, memory_order_relaxed);
    if (b0 > 0 && n < 10)
      atomic_fetch_add_explicit(&bad_hits, 1, memory_order_relaxed);
  }
  return NULL;
}

static void batches_on_many_threads_race_nothing(void) {
  trove_index_params p;
  trove_index_params_default(&p, D);
  p.m = 8;
  p.ef_construction = 40;
  p.flat_threshold = 0;
  atomic_store(&bad_hits, 0);
  CHECK(trove_index_create(&p, &idx, NULL) == 0);
  pthread_t r[2];
  for (uintptr_t i = 0; i < 2; i++)
    CHECK(pthread_create(&r[i], NULL, batch_searcher, (void *)(i + 7)) == 0);
  uint64_t ids[BATCH];
  for (size_t b = 0; b < BATCHES; b++) {
    for (size_t i = 0; i < BATCH; i++)
      ids[i] = b * BATCH + i;
    CHECK(trove_index_add_batch(idx, BATCH, ids, vecs + b * BATCH * D, D, 3, NULL) == 0);
    atomic_store_explicit(&batches_done, b + 1, memory_order_release);
  }
  for (int i = 0; i < 2; i++)
    CHECK(pthread_join(r[i], NULL) == 0);
  for (size_t i = 0; i < BATCH; i += 2)
    CHECK(trove_index_remove(idx, i) == 0);
  CHECK(trove_index_compact(idx, NULL) == 0); /* rebuilds on one thread per CPU */
  CHECK(atomic_load(&bad_hits) == 0);
  size_t found = 0, n;
  trove_index_hit a[10], e[10];
  for (size_t i = 0; i < 100; i++) {
    const float *q = vecs + (N - 1 - i) * D;
    CHECK(trove_index_search(idx, q, D, 10, NULL, NULL, a, &n, NULL) == 0 && n == 10);
    CHECK(trove_index_search_exact(idx, q, D, 10, NULL, NULL, e, &n, NULL) == 0 && n == 10);
    for (size_t j = 0; j < 10; j++)
      for (size_t k = 0; k < 10; k++)
        found += a[j].id == e[k].id;
  }
  fprintf(stderr, "  recall@10 after parallel batches and compaction: %.3f\n", found / 1000.0);
  CHECK(found >= 900);
  CHECK(trove_index_count(idx) == BATCHES * BATCH - BATCH / 2 && trove_index_dead(idx) == 0);
  trove_index_destroy(idx);
}

int main(void) {
  trove_scan_use_sluice(); /* tasks on sluice workers, as in trove */
  uint64_t seed = check_seed("index_threads_test");
  snprintf(path, sizeof path, "/tmp/trove-index-threads-%d.idx", (int)getpid());
  vecs = td_clustered(N, D, 10, 0.3f, seed);
  RUN(searches_during_writes_see_consistent_states);
  RUN(batches_on_many_threads_race_nothing);
  free(vecs);
  return check_done("index_threads_test");
}
