/* index.h: trove's persisted vector index. Passages are float32 vectors of one
 * dimension D, L2-normalised, each with a 64-bit id the caller chooses (the
 * passage id); similarity is the dot product (higher is closer).
 *
 * Search runs on an HNSW graph (hnsw.c, Malkov & Yashunin 2016) or, for small
 * collections, on an exact SIMD scan (flat.c). The index is updated in place:
 * insert, delete (a tombstone), compaction (a rebuild without tombstones), and
 * is saved to and loaded from one compact checksummed file (hnsw_io.c).
 *
 * Threads: one trove_index may be searched by any number of threads at once,
 * also while one thread inserts, removes or compacts (a reader-writer lock;
 * writers are serialised by a mutex of their own, so several writer threads
 * are safe too, they just take turns). trove_index_destroy needs every other
 * call on the index to have returned. trove_index_add_batch and compaction
 * start their own worker threads (plain pthreads, joined before they
 * return); nothing else does.
 *
 * Errors: 0 or a negative TROVE_E* code (core.h); calls that take a
 * `trove_err *` (may be NULL) also fill it with one actionable line. After a
 * failed call the index is unchanged unless said otherwise.
 */
#ifndef TROVE_INDEX_H
#define TROVE_INDEX_H

#include "core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct trove_index trove_index;

/* Tunables. Fill with trove_index_params_default, then change fields. The
 * defaults and their measurements are in index.c. */
typedef struct trove_index_params {
  uint32_t dim;             /* vector dimension, 1..65536 */
  uint32_t m;               /* graph degree M, 2..128 (level 0 keeps 2*M) */
  uint32_t ef_construction; /* beam width while inserting, >= 1 */
  uint32_t ef_search;       /* beam width while searching, >= 1 (raised to k) */
  uint32_t flat_threshold;  /* at most this many live vectors: exact scan */
  double compact_ratio;     /* tombstone share that triggers compaction, 0 = never */
  uint64_t seed;            /* level generator seed: same seed + same inserts = same graph */
} trove_index_params;

/* One search result. */
typedef struct trove_index_hit {
  uint64_t id; /* the caller's id */
  float score; /* dot product with the query, in [-1, 1] for unit vectors */
} trove_index_hit;

/* Search filter: returns true to keep `id` in the results. Called from the
 * searching thread while the index is read-locked (writer-preferring), so it
 * must not call any function of the same index: that could deadlock. */
typedef bool (*trove_index_filter)(uint64_t id, void *arg);

/* Fills p with the defaults for dimension dim. Never fails. */
void trove_index_params_default(trove_index_params *p, uint32_t dim);

/* Creates an empty index. *out owns it until trove_index_destroy. Any thread.
 * Returns 0, TROVE_EINVAL (a parameter out of range, named in err; *out is
 * NULL) or TROVE_ENOMEM. */
int trove_index_create(const trove_index_params *p, trove_index **out, trove_err *err);

/* Frees the index (NULL is fine). No other call on it may be running. */
void trove_index_destroy(trove_index *idx);

/* Inserts vector vec (dim floats, copied) under id. Writer: takes the write
 * lock for the graph update. Returns 0, TROVE_EINVAL (NULL argument, dim not
 * the index's, a non-finite value, or a vector not L2-normalised to within
 * 1e-3), TROVE_EEXIST (id is already live: remove it first, or use
 * trove_index_update), TROVE_ERANGE (2^32-1 vectors, tombstones included:
 * compact) or TROVE_ENOMEM. */
int trove_index_add(trove_index *idx, uint64_t id, const float *vec, size_t dim, trove_err *err);

/* Inserts n vectors (vecs: n*dim floats, one after another, copied) under
 * ids[0..n) on up to `threads` threads (0: one per online CPU): the fast way
 * to build. Writer; holds the write lock throughout, so searches wait for
 * the whole batch. With threads = 1 the index is the one n calls of
 * trove_index_add make; with more, insertion order interleaves and the
 * graph differs from run to run (same recall). Returns 0, TROVE_EINVAL (NULL
 * argument, dim not the index's, a bad vector: err gives its position),
 * TROVE_EEXIST (an id already live or repeated in the batch: err names it),
 * TROVE_ERANGE or TROVE_ENOMEM; on failure nothing was inserted. */
int trove_index_add_batch(trove_index *idx, size_t n, const uint64_t *ids, const float *vecs,
                          size_t dim, int threads, trove_err *err);

/* Replaces the vector of id (a remove, when live, then an add). Writer.
 * Returns what trove_index_add returns except TROVE_EEXIST; on failure the
 * old vector, if any, is still live. */
int trove_index_update(trove_index *idx, uint64_t id, const float *vec, size_t dim, trove_err *err);

/* Tombstones id: never returned again, still used to navigate the graph.
 * When the tombstone share then exceeds compact_ratio (and there are at
 * least 64 tombstones) the index compacts itself; a compaction that fails
 * for memory is benign (the tombstones stay, the next remove retries).
 * Writer. Returns 0 or TROVE_ENOENT (id is not live; nothing changes) or
 * TROVE_EINVAL (idx NULL). */
int trove_index_remove(trove_index *idx, uint64_t id);

/* Rebuilds the graph from the live vectors only, dropping every tombstone,
 * on one thread per online CPU (as trove_index_add_batch). Writer. Searches
 * keep running on the old graph while the new one is built (read lock),
 * then wait for the swap. Returns 0, TROVE_EINVAL (idx NULL) or
 * TROVE_ENOMEM (the old graph stays, unchanged). */
int trove_index_compact(trove_index *idx, trove_err *err);

/* Finds up to k live vectors most similar to q (dim floats, L2-normalised)
 * that `filter` keeps (NULL keeps all), best first, into out[0..*nout).
 * Approximate (HNSW with ef = max(ef_search, k)) unless the live count is at
 * most flat_threshold, then exact. Any thread, concurrently with other
 * searches and with a writer. k = 0 gives *nout = 0. Returns 0, TROVE_EINVAL
 * (NULL argument, dim mismatch, bad query vector) or TROVE_ENOMEM
 * (*nout = 0). */
int trove_index_search(trove_index *idx, const float *q, size_t dim, size_t k,
                       trove_index_filter filter, void *arg, trove_index_hit *out, size_t *nout,
                       trove_err *err);

/* Like trove_index_search, but always the exact answer by a full SIMD scan:
 * the ground truth for tests and the path for small collections. */
int trove_index_search_exact(trove_index *idx, const float *q, size_t dim, size_t k,
                             trove_index_filter filter, void *arg, trove_index_hit *out,
                             size_t *nout, trove_err *err);

/* Number of live vectors (tombstones excluded). Any thread. */
size_t trove_index_count(trove_index *idx);

/* True when id is live in the index. Any thread. */
bool trove_index_contains(trove_index *idx, uint64_t id);

/* The live ids, in no particular order, into a new array *out of *n (the
 * caller's: trove_free; NULL when n is 0): how a caller reconciles the
 * index with the ids it should hold. Any thread. Returns 0, TROVE_EINVAL or
 * TROVE_ENOMEM. */
int trove_index_ids(trove_index *idx, uint64_t **out, size_t *n, trove_err *err);

/* Number of tombstones awaiting compaction. Any thread. */
size_t trove_index_dead(trove_index *idx);

/* The parameters the index runs with (after a load: those in the file).
 * Any thread. */
trove_index_params trove_index_get_params(trove_index *idx);

/* Sets ef_search (>= 1) for later searches. Writer. Returns 0 or
 * TROVE_EINVAL. */
int trove_index_set_ef_search(trove_index *idx, uint32_t ef);

/* Sets the index's tag: a number of the caller's, saved in the file and
 * given back after a load (trove uses the store's vectors version, so it can
 * tell a current index file from a stale one). A new index has tag 0. Any
 * thread. NULL idx is ignored. */
void trove_index_set_tag(trove_index *idx, uint64_t tag);

/* The tag last set or loaded; 0 for NULL. Any thread. */
uint64_t trove_index_tag(trove_index *idx);

/* Saves the index to path atomically: a temporary file in the same folder,
 * fsync, rename over path, fsync of the folder. A reader of path sees the
 * old file or the new one, never a mix. Searches may run meanwhile (read
 * lock). Returns 0, TROVE_EINVAL (NULL argument), TROVE_ENOMEM or TROVE_EIO
 * (the folder is missing or not writable, the disk is full; path is left as
 * it was, except when only the final fsync of the folder failed, which the
 * message says). */
int trove_index_save(trove_index *idx, const char *path, trove_err *err);

/* Loads an index saved by trove_index_save. The file is mapped and its
 * vectors and level-0 graph used in place until the first insert copies
 * them. expect_dim is the dimension the caller needs (0 accepts any).
 * *out owns the index. Any thread. Returns 0, TROVE_EINVAL (NULL argument),
 * TROVE_ENOENT (no such file), TROVE_EIO (cannot open, read or map it),
 * TROVE_ECORRUPT (bad magic, bad checksum, sizes that disagree, a neighbour
 * or level out of range, a duplicate id: rebuild from the database),
 * TROVE_EUNSUPPORTED (another format version: rebuild), TROVE_ERANGE (the
 * file's dimension is not expect_dim: rebuild with the current model) or
 * TROVE_ENOMEM. On failure *out is NULL. */
int trove_index_load(const char *path, uint32_t expect_dim, trove_index **out, trove_err *err);

#endif /* TROVE_INDEX_H */
