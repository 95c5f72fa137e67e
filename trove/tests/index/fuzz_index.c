/* fuzz_index.c: libFuzzer target for the vector index loader (hnsw_io.c):
 * the bytes are written as an index file and loaded (mapped, checksums,
 * sizes, neighbours, levels, ids checked). A file that loads must be safe
 * to use: an approximate and an exact search walk its graph and vectors,
 * and every hit is an id the index contains. Otherwise the code is a
 * documented one. The checksums make most blind mutations fail early;
 * libFuzzer's comparison tracing gets past the magic and sizes.
 * The seeds in fuzz/index/ were saved by trove_index_save (dimensions 4
 * and 8; 0, 1, 12 and 40 vectors, one with a removal; flat_threshold 0, so
 * searches walk the graph).
 * Build: cmake -DTROVE_FUZZ=ON (scripts/fuzz.sh); fuzz_seeds.c runs the same
 * entry point over fuzz/index/ in every build. */
#include "../fuzz_tmp.h"
#include "index.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

/* Returns 0, or 1 when an invariant is broken. */
int fuzz_index_one(const uint8_t *data, size_t size) {
  char path[600];
  if (!fuzz_write("vectors.idx", data, size, path, sizeof path))
    return 0;
  trove_index *idx = NULL;
  int rc = trove_index_load(path, 0, &idx, NULL);
  if (rc != 0)
    return idx != NULL || (rc != TROVE_ECORRUPT && rc != TROVE_EUNSUPPORTED &&
                           rc != TROVE_ERANGE && rc != TROVE_ENOMEM && rc != TROVE_EIO);
  int bad = 0;
  trove_index_params p = trove_index_get_params(idx);
  float *q = calloc(p.dim ? p.dim : 1, sizeof *q);
  if (q && p.dim) {
    for (uint32_t i = 0; i < p.dim; i++)
      q[i] = 1.0f / sqrtf((float)p.dim);
    trove_index_hit hits[8];
    size_t n = 0;
    if (trove_index_search(idx, q, p.dim, 8, NULL, NULL, hits, &n, NULL) == 0)
      for (size_t i = 0; i < n; i++)
        bad |= !trove_index_contains(idx, hits[i].id);
    if (trove_index_search_exact(idx, q, p.dim, 8, NULL, NULL, hits, &n, NULL) == 0)
      for (size_t i = 0; i < n; i++)
        bad |= !trove_index_contains(idx, hits[i].id);
    bad |= n > trove_index_count(idx);
  }
  free(q);
  trove_index_destroy(idx);
  return bad;
}
