/* idmap.c: the map from a caller's 64-bit id to its node, live ids only, so
 * remove and update find a node in O(1) and add rejects a duplicate. Linear
 * probing in a power-of-two table at most 1/2 full; deletion shifts later
 * entries back (no tombstones, so lookups never degrade). Rebuilt at load
 * rather than stored: 100k puts cost about a millisecond. */
#include "index_int.h"

#include <string.h>

static const uint32_t EMPTY = UINT32_MAX;

static size_t slot_of(uint64_t id, size_t cap) {
  id ^= id >> 33; /* murmur3 finaliser: ids are often sequential */
  id *= 0xff51afd7ed558ccdULL;
  id ^= id >> 33;
  return (size_t)id & (cap - 1);
}

uint32_t trove_index__idmap_get(const trove_index__idmap *m, uint64_t id) {
  if (m->cap == 0)
    return EMPTY;
  for (size_t i = slot_of(id, m->cap);; i = (i + 1) & (m->cap - 1)) {
    if (m->vals[i] == EMPTY)
      return EMPTY;
    if (m->keys[i] == id)
      return m->vals[i];
  }
}

static void place(uint64_t *keys, uint32_t *vals, size_t cap, uint64_t id, uint32_t node) {
  size_t i = slot_of(id, cap);
  while (vals[i] != EMPTY)
    i = (i + 1) & (cap - 1);
  keys[i] = id;
  vals[i] = node;
}

static int rehash(trove_index__idmap *m, size_t cap) {
  size_t kb, vb;
  if (!trove_mul_ok(cap, sizeof(uint64_t), &kb) || !trove_mul_ok(cap, sizeof(uint32_t), &vb))
    return TROVE_ENOMEM;
  uint64_t *keys = trove_malloc(kb);
  uint32_t *vals = trove_malloc(vb);
  if (!keys || !vals) {
    trove_free(keys);
    trove_free(vals);
    return TROVE_ENOMEM;
  }
  memset(vals, 0xff, vb);
  for (size_t i = 0; i < m->cap; i++)
    if (m->vals[i] != EMPTY)
      place(keys, vals, cap, m->keys[i], m->vals[i]);
  trove_free(m->keys);
  trove_free(m->vals);
  m->keys = keys;
  m->vals = vals;
  m->cap = cap;
  return 0;
}

int trove_index__idmap_reserve(trove_index__idmap *m, size_t n) {
  size_t cap = m->cap ? m->cap : 16;
  while (cap / 2 < n) {
    if (cap > SIZE_MAX / 4)
      return TROVE_ENOMEM;
    cap *= 2;
  }
  return cap == m->cap ? 0 : rehash(m, cap);
}

int trove_index__idmap_put(trove_index__idmap *m, uint64_t id, uint32_t node) {
  int rc = trove_index__idmap_reserve(m, m->len + 1); /* first, so one probe does both */
  if (rc)
    return rc;
  size_t i = slot_of(id, m->cap);
  for (; m->vals[i] != EMPTY; i = (i + 1) & (m->cap - 1))
    if (m->keys[i] == id)
      return TROVE_EEXIST;
  m->keys[i] = id;
  m->vals[i] = node;
  m->len++;
  return 0;
}

int trove_index__idmap_del(trove_index__idmap *m, uint64_t id) {
  if (m->cap == 0)
    return TROVE_ENOENT;
  size_t mask = m->cap - 1, i = slot_of(id, m->cap);
  while (m->vals[i] != EMPTY && m->keys[i] != id)
    i = (i + 1) & mask;
  if (m->vals[i] == EMPTY)
    return TROVE_ENOENT;
  /* Backward-shift deletion: move each later entry of the probe run into
   * the hole unless its home slot lies cyclically in (hole, j]. */
  for (size_t j = (i + 1) & mask; m->vals[j] != EMPTY; j = (j + 1) & mask) {
    size_t home = slot_of(m->keys[j], m->cap);
    bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
    if (stays)
      continue;
    m->keys[i] = m->keys[j];
    m->vals[i] = m->vals[j];
    i = j;
  }
  m->vals[i] = EMPTY;
  m->len--;
  return 0;
}

void trove_index__idmap_free(trove_index__idmap *m) {
  trove_free(m->keys);
  trove_free(m->vals);
  *m = (trove_index__idmap){0};
}
