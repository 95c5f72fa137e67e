/* index.c: the public face of the vector index (index.h): argument checks,
 * locking, the id map, tombstones, compaction, and the choice between the
 * HNSW graph (hnsw.c) and the exact scan (flat.c). The graph itself knows
 * nothing of threads; this file decides who may touch it when.
 *
 * Locks (order: wmu, then lock, then pool_mu):
 * - wmu serialises writers, so the id map (read and changed only by
 *   writers) and "is this id live?" need no other lock, and a compaction can
 *   build its new graph while holding only the read lock: searches go on
 *   during the long part, and wait only for the pointer swap.
 * - lock (rwlock) guards the graph: searches and save take it shared,
 *   insert, remove, the swap of a compaction take it exclusive.
 * - pool_mu guards the free list of search scratches (visited marks and
 *   heaps), so concurrent searches each get their own without allocating.
 *
 * Defaults, measured by trove/bench/index_bench.c (clustered unit vectors,
 * dimension 512, 2 shared cores; figures in trove/bench/index_results.md):
 * - M = 16, ef_construction = 100: at 100k vectors recall@10 is 0.985 at
 *   ef 64 and 1.000 at ef 128 on the hardest data set tried; 200 gained
 *   ~0.015 recall at ef 64 for 1.7x the build time.
 * - ef_search = 128: recall@10 >= 0.98 on every data set tried (0.984 at
 *   20k, 1.000 at 100k, where ef 64 gave 0.966 and 0.985), for a p50 of
 *   0.74 ms at 100k: far inside the 5 ms budget, so recall gets the margin.
 * - flat_threshold = 4000: up to there the exact scan (0.2 ms at 4000 x
 *   512) costs no more than the graph at ef 128, and its answer is exact.
 */
#include "index_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
  DEF_M = 16,
  DEF_EFC = 100,
  DEF_EFS = 128,
  DEF_FLAT = 4000,
  MIN_DEAD_TO_COMPACT = 64, /* never rebuild for a handful of deletes */
};

/* A lock call on our own initialised lock fails only on a bug (recursive
 * locking from a filter callback, say): stop loudly rather than race. */
static void must(int rc, const char *what) {
  if (rc) {
    fprintf(stderr, "trove index: %s failed (%d): lock misuse\n", what, rc);
    abort();
  }
}

static void rd_lock(trove_index *x) { must(pthread_rwlock_rdlock(&x->lock), "rdlock"); }
static void wr_lock(trove_index *x) { must(pthread_rwlock_wrlock(&x->lock), "wrlock"); }
static void rw_unlock(trove_index *x) { must(pthread_rwlock_unlock(&x->lock), "rwunlock"); }
static void w_lock(trove_index *x) { must(pthread_mutex_lock(&x->wmu), "writer lock"); }
static void w_unlock(trove_index *x) { must(pthread_mutex_unlock(&x->wmu), "writer unlock"); }

void trove_index_params_default(trove_index_params *p, uint32_t dim) {
  *p = (trove_index_params){
      .dim = dim,
      .m = DEF_M,
      .ef_construction = DEF_EFC,
      .ef_search = DEF_EFS,
      .flat_threshold = DEF_FLAT,
      .compact_ratio = 0.25,
      .seed = 42,
  };
}

int trove_index__params_check(const trove_index_params *p, trove_err *err) {
  if (p->dim < 1 || p->dim > 65536)
    return trove_err_set(err, TROVE_EINVAL, "index dimension %u is not in 1..65536", p->dim);
  if (p->m < 2 || p->m > 128)
    return trove_err_set(err, TROVE_EINVAL, "index M %u is not in 2..128", p->m);
  if (p->ef_construction < 1 || p->ef_search < 1)
    return trove_err_set(err, TROVE_EINVAL, "index ef_construction and ef_search must be >= 1");
  if (!(p->compact_ratio >= 0 && p->compact_ratio <= 1))
    return trove_err_set(err, TROVE_EINVAL, "index compact_ratio must be in [0, 1]");
  return 0;
}

int trove_index__wrap(trove_index__graph *g, trove_index **out) {
  trove_index *x = trove_calloc(1, sizeof *x);
  if (!x)
    return TROVE_ENOMEM;
  if (pthread_mutex_init(&x->wmu, NULL))
    goto out_free;
  /* Writer-preferring: glibc's default lets a stream of searches starve
   * an insert forever. The price: no recursive read locking (index.h). */
  pthread_rwlockattr_t attr;
  if (pthread_rwlockattr_init(&attr))
    goto out_wmu;
  pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  int bad = pthread_rwlock_init(&x->lock, &attr);
  pthread_rwlockattr_destroy(&attr);
  if (bad)
    goto out_wmu;
  if (pthread_mutex_init(&x->pool_mu, NULL))
    goto out_lock;
  x->g = *g;
  x->dim = g->p.dim;
  *out = x;
  return 0;
out_lock:
  pthread_rwlock_destroy(&x->lock);
out_wmu:
  pthread_mutex_destroy(&x->wmu);
out_free:
  trove_free(x);
  return TROVE_ENOMEM;
}

int trove_index_create(const trove_index_params *p, trove_index **out, trove_err *err) {
  if (out)
    *out = NULL;
  if (!p || !out)
    return trove_err_set(err, TROVE_EINVAL, "trove_index_create: NULL argument");
  int rc = trove_index__params_check(p, err);
  if (rc)
    return rc;
  trove_index__graph g;
  trove_index__graph_init(&g, p);
  if (trove_index__wrap(&g, out))
    return trove_err_set(err, TROVE_ENOMEM, "out of memory creating the vector index");
  return 0;
}

void trove_index_destroy(trove_index *x) {
  if (!x)
    return;
  for (trove_index__scratch *s = x->pool, *next; s; s = next) {
    next = s->next;
    trove_index__scratch_free(s);
    trove_free(s);
  }
  trove_index__graph_free(&x->g);
  pthread_mutex_destroy(&x->pool_mu);
  pthread_rwlock_destroy(&x->lock);
  pthread_mutex_destroy(&x->wmu);
  trove_free(x);
}

/* ---- scratch pool -------------------------------------------------------- */

static trove_index__scratch *scratch_get(trove_index *x) {
  must(pthread_mutex_lock(&x->pool_mu), "pool lock");
  trove_index__scratch *s = x->pool;
  if (s)
    x->pool = s->next;
  must(pthread_mutex_unlock(&x->pool_mu), "pool unlock");
  return s ? s : trove_calloc(1, sizeof *s);
}

static void scratch_put(trove_index *x, trove_index__scratch *s) {
  must(pthread_mutex_lock(&x->pool_mu), "pool lock");
  s->next = x->pool;
  x->pool = s;
  must(pthread_mutex_unlock(&x->pool_mu), "pool unlock");
}

/* ---- argument checks ----------------------------------------------------- */

/* A usable vector: the index's dimension, finite, unit length within 1e-3. */
static int check_vec(const trove_index *x, const float *v, size_t dim, const char *what,
                     trove_err *err) {
  if (dim != x->dim)
    return trove_err_set(err, TROVE_EINVAL, "%s has dimension %zu, the index has %u", what, dim,
                         x->dim);
  double ss = 0;
  for (size_t i = 0; i < dim; i++) {
    if (!isfinite(v[i]))
      return trove_err_set(err, TROVE_EINVAL, "%s has a non-finite value at %zu", what, i);
    ss += (double)v[i] * v[i];
  }
  if (fabs(sqrt(ss) - 1.0) > 1e-3)
    return trove_err_set(err, TROVE_EINVAL, "%s is not L2-normalised (norm %.6f); normalise it",
                         what, sqrt(ss));
  return 0;
}

/* ---- writers ------------------------------------------------------------- */

static int insert_locked(trove_index *x, uint64_t id, const float *vec, trove_err *err) {
  trove_index__scratch *s = scratch_get(x);
  if (!s)
    return trove_err_set(err, TROVE_ENOMEM, "out of memory adding to the vector index");
  wr_lock(x);
  int rc = trove_index__graph_insert(&x->g, s, id, vec);
  rw_unlock(x);
  scratch_put(x, s);
  if (rc == TROVE_ERANGE)
    return trove_err_set(err, rc, "vector index is full (%zu nodes); compact it", x->g.n);
  if (rc)
    return trove_err_set(err, rc, "out of memory adding to the vector index");
  return 0;
}

int trove_index_add(trove_index *x, uint64_t id, const float *vec, size_t dim, trove_err *err) {
  if (!x || !vec)
    return trove_err_set(err, TROVE_EINVAL, "trove_index_add: NULL argument");
  int rc = check_vec(x, vec, dim, "vector", err);
  if (rc)
    return rc;
  w_lock(x);
  if (trove_index__idmap_get(&x->g.map, id) != UINT32_MAX)
    rc = trove_err_set(err, TROVE_EEXIST, "id %llu is already in the vector index",
                       (unsigned long long)id);
  else
    rc = insert_locked(x, id, vec, err);
  w_unlock(x);
  return rc;
}

/* Tombstones node v (id live). Write lock held. */
static void kill_node(trove_index__graph *g, uint64_t id, uint32_t v) {
  trove_index__idmap_del(&g->map, id);
  g->dead[v] = 1;
  g->n_dead++;
}

/* Undoes kill_node: the map still has the slot room, so put cannot fail. */
static void revive_node(trove_index__graph *g, uint64_t id, uint32_t v) {
  trove_index__idmap_put(&g->map, id, v);
  g->dead[v] = 0;
  g->n_dead--;
}

int trove_index_update(trove_index *x, uint64_t id, const float *vec, size_t dim,
                       trove_err *err) {
  if (!x || !vec)
    return trove_err_set(err, TROVE_EINVAL, "trove_index_update: NULL argument");
  int rc = check_vec(x, vec, dim, "vector", err);
  if (rc)
    return rc;
  w_lock(x);
  uint32_t old = trove_index__idmap_get(&x->g.map, id);
  trove_index__scratch *s = scratch_get(x);
  if (!s) {
    rc = trove_err_set(err, TROVE_ENOMEM, "out of memory updating the vector index");
    goto out_unlock;
  }
  wr_lock(x); /* searches see the old vector or the new one, never neither */
  if (old != UINT32_MAX)
    kill_node(&x->g, id, old);
  rc = trove_index__graph_insert(&x->g, s, id, vec);
  if (rc && old != UINT32_MAX)
    revive_node(&x->g, id, old);
  rw_unlock(x);
  scratch_put(x, s);
  if (rc)
    trove_err_set(err, rc, "cannot update id %llu in the vector index: %s",
                  (unsigned long long)id, trove_strerror(rc));
out_unlock:
  w_unlock(x);
  return rc;
}

/* One thread per online CPU, at most 64 (hnsw_build.c's cap). */
static int cpu_threads(void) {
  size_t n = trove_online_cpus();
  return n > 64 ? 64 : (int)n;
}

/* Batch source over caller arrays. */
typedef struct arrays {
  const uint64_t *ids;
  const float *vecs;
  size_t dim;
} arrays;

static void from_arrays(void *ctx, size_t i, uint64_t *id, const float **vec) {
  const arrays *a = ctx;
  *id = a->ids[i];
  *vec = a->vecs + i * a->dim;
}

/* Batch source over the live nodes of a graph being compacted. */
typedef struct live {
  const trove_index__graph *g;
  const uint32_t *nodes;
} live;

static void from_live(void *ctx, size_t i, uint64_t *id, const float **vec) {
  const live *l = ctx;
  *id = l->g->ids[l->nodes[i]];
  *vec = trove_index__vec(l->g, l->nodes[i]);
}

/* Builds a graph of the live nodes of x->g into ng. Writer lock held; takes
 * the read lock so searches continue meanwhile. */
static int rebuild(trove_index *x, trove_index__graph *ng) {
  size_t bad;
  rd_lock(x);
  const trove_index__graph *g = &x->g;
  trove_index__graph_init(ng, &g->p);
  size_t n = g->n - g->n_dead, k = 0;
  uint32_t *nodes = trove_malloc(n ? n * sizeof *nodes : 1);
  int rc = TROVE_ENOMEM;
  if (nodes) {
    for (size_t i = 0; i < g->n; i++)
      if (!g->dead[i])
        nodes[k++] = (uint32_t)i;
    live src = {g, nodes};
    rc = trove_index__graph_insert_batch(ng, n, from_live, &src, cpu_threads(), &bad);
  }
  rw_unlock(x);
  trove_free(nodes);
  if (rc)
    trove_index__graph_free(ng);
  return rc;
}

int trove_index_add_batch(trove_index *x, size_t n, const uint64_t *ids, const float *vecs,
                          size_t dim, int threads, trove_err *err) {
  if (!x || (n > 0 && (!ids || !vecs)))
    return trove_err_set(err, TROVE_EINVAL, "trove_index_add_batch: NULL argument");
  if (dim != x->dim)
    return trove_err_set(err, TROVE_EINVAL, "vectors have dimension %zu, the index has %u", dim,
                         x->dim);
  char what[48];
  for (size_t i = 0; i < n; i++) {
    snprintf(what, sizeof what, "vector %zu of the batch", i);
    int rc = check_vec(x, vecs + i * dim, dim, what, err);
    if (rc)
      return rc;
  }
  arrays src = {ids, vecs, dim};
  size_t bad = 0;
  w_lock(x);
  wr_lock(x);
  int rc = trove_index__graph_insert_batch(&x->g, n, from_arrays, &src,
                                           threads > 0 ? threads : cpu_threads(), &bad);
  rw_unlock(x);
  w_unlock(x);
  if (rc == TROVE_EEXIST)
    return trove_err_set(err, rc, "id %llu (batch item %zu) is already in the index or repeated",
                         (unsigned long long)ids[bad], bad);
  if (rc == TROVE_ERANGE)
    return trove_err_set(err, rc, "vector index would pass 2^32-1 vectors; compact it");
  if (rc)
    return trove_err_set(err, rc, "out of memory adding %zu vectors to the index", n);
  return 0;
}

static int compact_locked(trove_index *x, trove_err *err) {
  trove_index__graph ng;
  int rc = rebuild(x, &ng);
  if (rc)
    return trove_err_set(err, rc, "out of memory compacting the vector index; it is unchanged");
  wr_lock(x);
  trove_index__graph old = x->g;
  x->g = ng;
  rw_unlock(x);
  trove_index__graph_free(&old);
  return 0;
}

int trove_index_compact(trove_index *x, trove_err *err) {
  if (!x)
    return trove_err_set(err, TROVE_EINVAL, "trove_index_compact: NULL argument");
  w_lock(x);
  int rc = compact_locked(x, err);
  w_unlock(x);
  return rc;
}

int trove_index_remove(trove_index *x, uint64_t id) {
  if (!x)
    return TROVE_EINVAL;
  w_lock(x);
  uint32_t v = trove_index__idmap_get(&x->g.map, id);
  if (v == UINT32_MAX) {
    w_unlock(x);
    return TROVE_ENOENT;
  }
  wr_lock(x);
  kill_node(&x->g, id, v);
  rw_unlock(x);
  const trove_index__graph *g = &x->g; /* stable: only writers change it, and we are one */
  if (g->p.compact_ratio > 0 && g->n_dead >= MIN_DEAD_TO_COMPACT &&
      (double)g->n_dead > g->p.compact_ratio * (double)g->n)
    compact_locked(x, NULL); /* benign on failure: tombstones stay, next remove retries */
  w_unlock(x);
  return 0;
}

int trove_index_set_ef_search(trove_index *x, uint32_t ef) {
  if (!x || ef < 1)
    return TROVE_EINVAL;
  w_lock(x);
  wr_lock(x);
  x->g.p.ef_search = ef;
  rw_unlock(x);
  w_unlock(x);
  return 0;
}

/* ---- readers ------------------------------------------------------------- */

static int search(trove_index *x, const float *q, size_t dim, size_t k, bool exact,
                  trove_index_filter filter, void *arg, trove_index_hit *out, size_t *nout,
                  trove_err *err) {
  if (nout)
    *nout = 0;
  if (!x || !q || !nout || (k > 0 && !out))
    return trove_err_set(err, TROVE_EINVAL, "trove_index_search: NULL argument");
  int rc = check_vec(x, q, dim, "query", err);
  if (rc)
    return rc;
  trove_index__scratch *s = scratch_get(x);
  if (!s)
    return trove_err_set(err, TROVE_ENOMEM, "out of memory searching the vector index");
  rd_lock(x);
  const trove_index__graph *g = &x->g;
  trove_index__admit ad = {filter, arg};
  size_t kk = k < g->n ? k : g->n, ef = g->p.ef_search > kk ? g->p.ef_search : kk;
  rc = trove_index__scratch_fit(s, g, g->n, ef);
  if (!rc && (exact || g->n - g->n_dead <= g->p.flat_threshold))
    *nout = trove_index__flat_search(g, s, q, kk, &ad, out);
  else if (!rc)
    *nout = trove_index__graph_search(g, s, q, kk, ef, &ad, out);
  rw_unlock(x);
  scratch_put(x, s);
  if (rc)
    return trove_err_set(err, rc, "out of memory searching the vector index");
  return 0;
}

int trove_index_search(trove_index *x, const float *q, size_t dim, size_t k,
                       trove_index_filter filter, void *arg, trove_index_hit *out,
                       size_t *nout, trove_err *err) {
  return search(x, q, dim, k, false, filter, arg, out, nout, err);
}

int trove_index_search_exact(trove_index *x, const float *q, size_t dim, size_t k,
                             trove_index_filter filter, void *arg, trove_index_hit *out,
                             size_t *nout, trove_err *err) {
  return search(x, q, dim, k, true, filter, arg, out, nout, err);
}

bool trove_index_contains(trove_index *x, uint64_t id) {
  if (!x)
    return false;
  rd_lock(x);
  bool live = trove_index__idmap_get(&x->g.map, id) != UINT32_MAX;
  rw_unlock(x);
  return live;
}

int trove_index_ids(trove_index *x, uint64_t **out, size_t *n, trove_err *err) {
  if (!x || !out || !n)
    return trove_err_set(err, TROVE_EINVAL, "trove_index_ids: NULL argument");
  *out = NULL;
  *n = 0;
  rd_lock(x);
  size_t live = x->g.n - x->g.n_dead, k = 0;
  uint64_t *v = live ? trove_malloc(live * sizeof *v) : NULL;
  for (size_t i = 0; v && i < x->g.n; i++)
    if (!x->g.dead[i])
      v[k++] = x->g.ids[i];
  rw_unlock(x);
  if (live && !v)
    return trove_err_set(err, TROVE_ENOMEM, "out of memory listing the index's ids");
  *out = v;
  *n = k;
  return 0;
}

size_t trove_index_count(trove_index *x) {
  if (!x)
    return 0;
  rd_lock(x);
  size_t n = x->g.n - x->g.n_dead;
  rw_unlock(x);
  return n;
}

size_t trove_index_dead(trove_index *x) {
  if (!x)
    return 0;
  rd_lock(x);
  size_t n = x->g.n_dead;
  rw_unlock(x);
  return n;
}

trove_index_params trove_index_get_params(trove_index *x) {
  trove_index_params p = {0};
  if (x) {
    rd_lock(x);
    p = x->g.p;
    rw_unlock(x);
  }
  return p;
}

void trove_index_set_tag(trove_index *x, uint64_t tag) {
  if (x)
    atomic_store_explicit(&x->tag, tag, memory_order_relaxed); /* a value, orders nothing */
}

uint64_t trove_index_tag(trove_index *x) {
  return x ? atomic_load_explicit(&x->tag, memory_order_relaxed) : 0;
}
