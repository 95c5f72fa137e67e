/* flat.c: exact top-k by scanning every vector with the SIMD dot product.
 * It answers small collections (below flat_threshold an exact scan is as
 * fast as the graph, see index.c) and is the ground truth the tests and the
 * benchmark measure HNSW's recall against. A bounded heap of the k best,
 * worst on top, makes one pass over n vectors cost n dots + O(n log k). */
#include "index_int.h"

size_t trove_index__flat_search(const trove_index__graph *g, trove_index__scratch *s,
                                const float *q, size_t k, const trove_index__admit *ad,
                                trove_index_hit *out) {
  if (k == 0)
    return 0;
  s->res.len = 0;
  for (size_t i = 0; i < g->n; i++) {
    uint32_t v = (uint32_t)i;
    if (!trove_index__admitted(g, ad, v))
      continue;
    float sc = g->dot(q, trove_index__vec(g, v), g->p.dim);
    if (s->res.len < k) {
      trove_index__heap_push(&s->res, -sc, v);
    } else if (sc > -s->res.a[0].key) {
      trove_index__heap_pop(&s->res);
      trove_index__heap_push(&s->res, -sc, v);
    }
  }
  size_t n = s->res.len;
  for (size_t i = n; i > 0; i--) {
    trove_index__hitem h = trove_index__heap_pop(&s->res);
    out[i - 1] = (trove_index_hit){g->ids[h.node], -h.key};
  }
  return n;
}
