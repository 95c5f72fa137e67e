/* hnsw_build.c: inserting many vectors at once, on several threads. This is
 * the one place the index starts threads (plain pthreads: the index library
 * does not depend on sluice): building 100k x 512 takes minutes on one
 * core, and a first scan indexes tens of thousands of passages at once.
 *
 * How: everything that allocates happens first, on the calling thread:
 * levels are drawn in order from the graph's generator (so the levels, and
 * with one thread the whole graph, are those of n single inserts), the
 * arrays grow to their final size, every node is placed with empty lists,
 * the ids enter the map, each thread gets a scratch. Then the threads take
 * node numbers from an atomic counter and connect them (hnsw.c) as the
 * paper's parallel variant does: each neighbour list is read and written
 * under a striped mutex, the entry point under its own (trove_index__locks in
 * index_int.h). Nothing reallocates while threads run, so they need no
 * other coordination; the vectors, ids and levels they read were written
 * before pthread_create, which orders them.
 *
 * Limits: the graph a multi-threaded build makes differs from run to run
 * (insert order interleaves), with the same recall in measurement. A thread
 * that cannot be started is not an error: the others do its share.
 */
#include "index_int.h"

#include <stdatomic.h>
#include <string.h>

typedef struct job {
  trove_index__graph *g;
  const trove_index__locks *lk;
  trove_index__scratch *s;
  const uint8_t *levels;
  size_t first, n;     /* connect batch items [first, n) ... */
  uint32_t base;       /* ... which are nodes base + i */
  atomic_size_t *next; /* next item to take; relaxed: the counter only
                          hands out distinct numbers, it publishes nothing */
} job;

static void *work(void *arg) {
  job *j = arg;
  for (;;) {
    size_t i = atomic_fetch_add_explicit(j->next, 1, memory_order_relaxed);
    if (i >= j->n)
      return NULL;
    trove_index__graph_connect(j->g, j->s, j->lk, j->base + (uint32_t)i, j->levels[i]);
  }
}

static int locks_init(trove_index__locks *lk) {
  if (pthread_mutex_init(&lk->entry, NULL))
    return TROVE_ENOMEM;
  int i, rc = 0;
  for (i = 0; !rc && i < TROVE_INDEX__STRIPES; i++)
    rc = pthread_mutex_init(&lk->node[i], NULL);
  if (!rc)
    return 0;
  while (--i > 0)
    pthread_mutex_destroy(&lk->node[i - 1]);
  pthread_mutex_destroy(&lk->entry);
  return TROVE_ENOMEM;
}

static void locks_destroy(trove_index__locks *lk) {
  for (int i = 0; i < TROVE_INDEX__STRIPES; i++)
    pthread_mutex_destroy(&lk->node[i]);
  pthread_mutex_destroy(&lk->entry);
}

/* Draws the levels and allocates all the batch needs. */
static int prepare(trove_index__graph *g, size_t n, int threads, uint8_t *levels,
                   trove_index__scratch *s) {
  size_t words = 0;
  for (size_t i = 0; i < n; i++) {
    levels[i] = (uint8_t)trove_index__graph_draw_level(g);
    words += levels[i] * (1 + (size_t)g->p.m);
  }
  int rc = trove_index__graph_reserve(g, g->n + n, words);
  if (!rc)
    rc = trove_index__idmap_reserve(&g->map, g->map.len + n);
  for (int t = 0; t < threads && !rc; t++)
    rc = trove_index__scratch_fit(&s[t], g, g->n + n, g->p.ef_construction);
  return rc;
}

/* Puts the batch's ids in the map; on a repeat takes them out again. */
static int claim_ids(trove_index__graph *g, size_t n, trove_index__source get, void *ctx,
                     size_t *bad) {
  for (size_t i = 0; i < n; i++) {
    uint64_t id;
    const float *v;
    get(ctx, i, &id, &v);
    if (trove_index__idmap_put(&g->map, id, (uint32_t)(g->n + i))) { /* reserved: EEXIST only */
      *bad = i;
      while (i-- > 0) {
        get(ctx, i, &id, &v);
        trove_index__idmap_del(&g->map, id);
      }
      return TROVE_EEXIST;
    }
  }
  return 0;
}

/* Connects nodes [first, n) of the batch on `threads` threads. */
static void run(trove_index__graph *g, const trove_index__locks *lk, trove_index__scratch *s,
                int threads, const uint8_t *levels, size_t first, size_t n, uint32_t base) {
  atomic_size_t next = first;
  job jobs[64];
  pthread_t tid[64];
  int started = 0;
  for (int t = 0; t < threads; t++)
    jobs[t] = (job){g, lk, &s[t], levels, first, n, base, &next};
  for (int t = 1; t < threads; t++) {
    if (pthread_create(&tid[started], NULL, work, &jobs[t]))
      break; /* benign: the threads already running do the rest */
    started++;
  }
  work(&jobs[0]);
  for (int t = 0; t < started; t++)
    pthread_join(tid[t], NULL);
}

int trove_index__graph_insert_batch(trove_index__graph *g, size_t n, trove_index__source get,
                                    void *ctx, int threads, size_t *bad) {
  if (n == 0)
    return 0;
  if (n >= UINT32_MAX - 1 - g->n)
    return TROVE_ERANGE;
  if (threads < 1)
    threads = 1;
  if (threads > 64)
    threads = 64;
  if ((size_t)threads > n)
    threads = (int)n;
  uint64_t rng = g->rng;
  uint8_t *levels = trove_malloc(n);
  trove_index__scratch *s = trove_calloc((size_t)threads, sizeof *s);
  trove_index__locks *lk = threads > 1 ? trove_malloc(sizeof *lk) : NULL;
  int rc = TROVE_ENOMEM;
  if (!levels || !s || (threads > 1 && !lk))
    goto out_free;
  if (lk && locks_init(lk))
    goto out_nolocks;
  rc = prepare(g, n, threads, levels, s);
  if (!rc)
    rc = claim_ids(g, n, get, ctx, bad);
  if (rc)
    goto out_locks;
  uint32_t base = (uint32_t)g->n;
  for (size_t i = 0; i < n; i++) {
    uint64_t id;
    const float *v;
    get(ctx, i, &id, &v);
    trove_index__graph_place(g, id, v, levels[i]);
  }
  size_t first = 0;
  if (g->max_level < 0) { /* an empty graph: the first node is the entry */
    g->entry = base;
    g->max_level = levels[0];
    first = 1;
  }
  /* Node 1 goes alone: its back link fills the first node's empty list,
   * whose slot 1 (the anchor, hnsw.c) the threads read without its lock. */
  if (first < n && base + first == 1) {
    trove_index__graph_connect(g, &s[0], NULL, 1, levels[first]);
    first++;
  }
  run(g, lk, s, threads, levels, first, n, base);
out_locks:
  if (lk)
    locks_destroy(lk);
out_nolocks:
  if (rc)
    g->rng = rng; /* nothing inserted: a retry draws the same levels */
out_free:
  for (int t = 0; s && t < threads; t++)
    trove_index__scratch_free(&s[t]);
  trove_free(s);
  trove_free(lk);
  trove_free(levels);
  return rc;
}
