/* heap.c: the binary max-heap of (score, node) that HNSW's beam search keeps
 * twice, candidates (best first) and results (worst first, keys negated).
 * Capacity is reserved once per search from the pooled scratch, so push
 * never allocates inside the hot loop. */
#include "index_int.h"

int trove_index__heap_reserve(trove_index__heap *h, size_t cap) {
  if (cap <= h->cap)
    return 0;
  size_t bytes;
  if (!trove_mul_ok(cap, sizeof *h->a, &bytes))
    return TROVE_ENOMEM;
  trove_index__hitem *a = trove_realloc(h->a, bytes);
  if (!a)
    return TROVE_ENOMEM;
  h->a = a;
  h->cap = cap;
  return 0;
}

void trove_index__heap_push(trove_index__heap *h, float key, uint32_t node) {
  size_t i = h->len++;
  while (i > 0) {
    size_t up = (i - 1) / 2;
    if (h->a[up].key >= key)
      break;
    h->a[i] = h->a[up];
    i = up;
  }
  h->a[i] = (trove_index__hitem){key, node};
}

trove_index__hitem trove_index__heap_pop(trove_index__heap *h) {
  trove_index__hitem top = h->a[0], last = h->a[--h->len];
  size_t i = 0, n = h->len;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n)
      break;
    if (c + 1 < n && h->a[c + 1].key > h->a[c].key)
      c++;
    if (last.key >= h->a[c].key)
      break;
    h->a[i] = h->a[c];
    i = c;
  }
  if (n > 0)
    h->a[i] = last;
  return top;
}

void trove_index__heap_free(trove_index__heap *h) {
  trove_free(h->a);
  *h = (trove_index__heap){0};
}
