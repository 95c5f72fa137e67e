/* index_int.h: what the files of trove/src/index share and nothing else sees:
 * the graph record, the scratch a search works in, the heap, the id map, the
 * dot-product kernels and CRC32C. index.h is the public face; the design
 * essay is at the top of hnsw.c. Internal names carry `trove__`.
 */
#ifndef TROVE_INDEX_INTERNAL_H
#define TROVE_INDEX_INTERNAL_H

#include "index.h"

#include <pthread.h>
#include <stdatomic.h>

/* Highest level a node may get. With mL = 1/ln(M) and M >= 2 the chance of
 * level 24 is below 2^-24 per node; the cap keeps levels in a byte and gives
 * the loader a bound to check. */
enum { TROVE_INDEX__MAX_LEVEL = 24 };

/* ---- dot product (dot.c) ------------------------------------------------ */

typedef float (*trove_index__dot_fn)(const float *a, const float *b, size_t n);
/* The fastest kernel this CPU runs (AVX2+FMA or portable). Any thread. */
trove_index__dot_fn trove_index__dot_pick(void);
float trove_index__dot_portable(const float *a, const float *b, size_t n);

/* ---- CRC32C (crc.c) ----------------------------------------------------- */

/* Continues a CRC32C (Castagnoli) over n bytes; start with crc = 0. */
uint32_t trove_index__crc32c(uint32_t crc, const void *p, size_t n);
/* The table-driven version, for tests to compare against the hardware one. */
uint32_t trove_index__crc32c_portable(uint32_t crc, const void *p, size_t n);
/* CRC32C of each block of bs bytes of p[0..n) (the last may be shorter) into
 * out[0..ceil(n/bs)), several blocks interleaved for speed. */
void trove_index__crc32c_blocks(const void *p, size_t n, size_t bs, uint32_t *out);

/* ---- binary heap (heap.c) ----------------------------------------------- */

/* A max-heap of (key, node). A min-heap is the same heap with keys negated. */
typedef struct trove_index__hitem {
  float key;
  uint32_t node;
} trove_index__hitem;

typedef struct trove_index__heap {
  trove_index__hitem *a;
  size_t len, cap;
} trove_index__heap;

/* Makes room for cap items. 0 or TROVE_ENOMEM (heap unchanged). */
int trove_index__heap_reserve(trove_index__heap *h, size_t cap);
/* Pushes; the caller has reserved room. */
void trove_index__heap_push(trove_index__heap *h, float key, uint32_t node);
/* Pops the largest key; h is not empty. */
trove_index__hitem trove_index__heap_pop(trove_index__heap *h);
void trove_index__heap_free(trove_index__heap *h);

/* ---- id map (idmap.c) --------------------------------------------------- */

/* Open-addressing hash map from a caller's id to a node number, live ids only. */
typedef struct trove_index__idmap {
  uint64_t *keys;
  uint32_t *vals;  /* UINT32_MAX marks an empty slot */
  size_t cap, len; /* cap is a power of two or 0 */
} trove_index__idmap;

/* Node of id, or UINT32_MAX when absent. */
uint32_t trove_index__idmap_get(const trove_index__idmap *m, uint64_t id);
/* Adds id -> node. 0, TROVE_EEXIST (id present; the map may have grown but
 * holds the same pairs) or TROVE_ENOMEM. */
int trove_index__idmap_put(trove_index__idmap *m, uint64_t id, uint32_t node);
/* Removes id. 0 or TROVE_ENOENT. */
int trove_index__idmap_del(trove_index__idmap *m, uint64_t id);
/* Makes room for n ids without growing later. 0 or TROVE_ENOMEM. */
int trove_index__idmap_reserve(trove_index__idmap *m, size_t n);
void trove_index__idmap_free(trove_index__idmap *m);

/* ---- the graph (hnsw.c) ------------------------------------------------- */

/* Everything a compaction swaps: the vectors and the graph over them. Node
 * numbers are dense, 0..n-1, in insertion order. A neighbour list is one
 * count word followed by its slots; slot 1 of a level-0 list is the node's
 * anchor, which no prune removes (hnsw.c). */
typedef struct trove_index__graph {
  trove_index_params p;
  uint32_t m0; /* level-0 list capacity, 2*m */
  double ml;   /* level multiplier 1/ln(m) */
  trove_index__dot_fn dot;
  size_t n, cap;    /* nodes used, nodes allocated in the owned arrays */
  size_t n_dead;    /* tombstones */
  float *vecs;      /* n*dim, node-major; may point into `map` */
  uint32_t *l0;     /* n*(1+m0) level-0 lists; may point into `map` */
  uint64_t *ids;    /* caller's id per node */
  uint8_t *levels;  /* top level per node */
  uint8_t *dead;    /* 1 for a tombstone */
  uint64_t *up_off; /* word offset of the node's level-1 list in upper */
  uint32_t *upper;  /* levels 1..L lists of each node, (1+m) words each */
  size_t up_len, up_cap;
  uint32_t entry;         /* entry point, valid when n > 0 */
  int max_level;          /* its level, -1 when empty */
  uint64_t rng;           /* level generator state */
  trove_index__idmap map; /* live ids -> nodes */
  void *map_base;         /* the loaded file while vecs/l0 point into it */
  size_t map_len;
} trove_index__graph;

/* What one search or insert needs besides the graph: a visited set reset by
 * bumping a generation, two heaps and a sort buffer. Pooled by index.c. */
typedef struct trove_index__scratch {
  struct trove_index__scratch *next;
  uint16_t *mark; /* mark[node] == gen: visited in this search */
  size_t mark_cap;
  uint16_t gen;
  trove_index__heap cand, res;
  trove_index__hitem *buf; /* a beam's results, best first: max(ef, k) items */
  size_t buf_cap;
  trove_index__hitem *nb; /* one node's neighbours while pruning: 2*m+1 items */
  size_t nb_cap;          /* also the size of lbuf and sel */
  uint32_t *lbuf;         /* a neighbour list copied under its lock */
  uint32_t *sel;          /* an insert's chosen neighbours, per level: 25 lists */
} trove_index__scratch;

/* Locks of a parallel build (hnsw_build.c): a node's lists are guarded by
 * node[v % TROVE_INDEX__STRIPES], the entry point and max_level by entry. Lock
 * order: entry, then one node lock; never two node locks at once. */
enum { TROVE_INDEX__STRIPES = 1024 };
typedef struct trove_index__locks {
  pthread_mutex_t node[TROVE_INDEX__STRIPES];
  pthread_mutex_t entry;
} trove_index__locks;

/* Sets up an empty graph with parameters p (checked by the caller). */
void trove_index__graph_init(trove_index__graph *g, const trove_index_params *p);
/* Frees the graph's memory and unmaps its file; g is empty after. */
void trove_index__graph_free(trove_index__graph *g);
/* Copies mapped arrays into owned memory so the graph can change.
 * 0 or TROVE_ENOMEM (still mapped, unchanged). */
int trove_index__graph_own(trove_index__graph *g);
/* Appends a node for (id, vec) and links it into the graph. The id must not
 * be live. 0, TROVE_ERANGE or TROVE_ENOMEM (graph unchanged). */
int trove_index__graph_insert(trove_index__graph *g, trove_index__scratch *s, uint64_t id,
                              const float *vec);
/* Steps of an insert, for hnsw_build.c. Reserve makes room for `nodes`
 * nodes and `upper_words` more upper-level words (0 or TROVE_ENOMEM); place
 * appends a node (vector, id, level, empty lists) as number n, with room
 * reserved and without touching the id map; connect links placed node v of
 * `level` into a graph that has an entry point. With lk NULL connect is
 * single-threaded; with lk, several threads may connect different nodes at
 * once, nothing else touching g meanwhile. */
int trove_index__graph_reserve(trove_index__graph *g, size_t nodes, size_t upper_words);
int trove_index__graph_draw_level(trove_index__graph *g);
void trove_index__graph_place(trove_index__graph *g, uint64_t id, const float *vec, int level);
void trove_index__graph_connect(trove_index__graph *g, trove_index__scratch *s,
                                const trove_index__locks *lk, uint32_t v, int level);

/* Inserts n nodes, node i being get(ctx, i, &id, &vec), with up to `threads`
 * threads (the caller's included). The ids must not be live nor repeat.
 * 0, TROVE_EEXIST (*bad = the offending i; nothing inserted), TROVE_ERANGE
 * or TROVE_ENOMEM (nothing inserted). With threads == 1 the graph is the
 * one n single inserts build; with more it varies from run to run. */
typedef void (*trove_index__source)(void *ctx, size_t i, uint64_t *id, const float **vec);
int trove_index__graph_insert_batch(trove_index__graph *g, size_t n, trove_index__source get,
                                    void *ctx, int threads, size_t *bad);

/* Makes s fit graph g grown to n nodes and a beam of ef. 0 or TROVE_ENOMEM
 * (s still valid, maybe partly grown). */
int trove_index__scratch_fit(trove_index__scratch *s, const trove_index__graph *g, size_t n,
                             size_t ef);
void trove_index__scratch_free(trove_index__scratch *s);

/* Search filter as the graph sees it. */
typedef struct trove_index__admit {
  trove_index_filter fn;
  void *arg;
} trove_index__admit;

/* Approximate top-k over live nodes the filter keeps, into out, best first.
 * s must fit n and max(ef, k). Returns the number of hits. */
size_t trove_index__graph_search(const trove_index__graph *g, trove_index__scratch *s,
                                 const float *q, size_t k, size_t ef, const trove_index__admit *ad,
                                 trove_index_hit *out);
/* Exact top-k by a full scan (flat.c). s must fit k. Returns the count. */
size_t trove_index__flat_search(const trove_index__graph *g, trove_index__scratch *s,
                                const float *q, size_t k, const trove_index__admit *ad,
                                trove_index_hit *out);

/* The neighbour list of node at level: word 0 is the count. */
static inline uint32_t *trove_index__links(const trove_index__graph *g, uint32_t node, int level) {
  if (level == 0)
    return g->l0 + (size_t)node * (1 + g->m0);
  return g->upper + g->up_off[node] + (size_t)(level - 1) * (1 + g->p.m);
}

static inline const float *trove_index__vec(const trove_index__graph *g, uint32_t node) {
  return g->vecs + (size_t)node * g->p.dim;
}

/* Live and kept by the filter: may appear in results. */
static inline bool trove_index__admitted(const trove_index__graph *g, const trove_index__admit *ad,
                                         uint32_t node) {
  if (g->dead[node])
    return false;
  return !ad || !ad->fn || ad->fn(g->ids[node], ad->arg);
}

/* ---- the index record (index.c), shared with hnsw_io.c ------------------ */

/* Lock order: wmu, then lock, then pool_mu. */
struct trove_index {
  pthread_mutex_t wmu;        /* serialises writers (add, remove, compact, set) */
  pthread_rwlock_t lock;      /* readers search or save g; writers change it */
  pthread_mutex_t pool_mu;    /* protects pool */
  trove_index__scratch *pool; /* idle scratches, one per past concurrent search */
  uint32_t dim;               /* g.p.dim, immutable: checked without the lock */
  _Atomic uint64_t tag;       /* the caller's tag, saved in the file header */
  trove_index__graph g;
};

/* Wraps a ready graph into an index (taking it over on success).
 * 0 or TROVE_ENOMEM (g untouched). */
int trove_index__wrap(trove_index__graph *g, trove_index **out);
/* Checks p; 0 or TROVE_EINVAL naming the field. */
int trove_index__params_check(const trove_index_params *p, trove_err *err);

#endif /* TROVE_INDEX_INTERNAL_H */
