/* parts_test.c: the index's building blocks against simple references:
 * CRC32C (known value, hardware = table, blocks = one by one), the
 * dot-product kernels, the heap (pops in order) and the id map (against a
 * plain array, with deletions that shift probe runs). */
#include "index_int.h"

#include "check.h"
#include "testdata.h"

#include <string.h>

static uint64_t seed;

static void crc32c_matches_known_check_value(void) {
  CHECK(trove_index__crc32c(0, "123456789", 9) == 0xE3069283u);
  CHECK(trove_index__crc32c_portable(0, "123456789", 9) == 0xE3069283u);
  CHECK(trove_index__crc32c(trove_index__crc32c(0, "1234", 4), "56789", 5) == 0xE3069283u);
  CHECK(trove_index__crc32c(0, "", 0) == 0);
}

static void crc32c_hardware_equals_table_and_blocks_equal_singles(void) {
  size_t n = 3 * 4096 + 123;
  uint8_t *b = malloc(n);
  uint64_t s = seed;
  for (size_t i = 0; i < n; i++)
    b[i] = (uint8_t)td_next(&s);
  for (size_t len = 0; len < 300; len += 7)
    for (size_t off = 0; off < 9; off++)
      CHECK(trove_index__crc32c(0, b + off, len) == trove_index__crc32c_portable(0, b + off, len));
  uint32_t blocks[16];
  size_t bs = 1024, nb = (n + bs - 1) / bs;
  trove_index__crc32c_blocks(b, n, bs, blocks);
  for (size_t i = 0; i < nb; i++) {
    size_t len = n - i * bs < bs ? n - i * bs : bs;
    CHECK(blocks[i] == trove_index__crc32c_portable(0, b + i * bs, len));
  }
  free(b);
}

static void dot_kernels_agree_with_portable_loop(void) {
  uint64_t s = seed;
  float a[515], b[515];
  for (int i = 0; i < 515; i++)
    a[i] = td_gauss(&s), b[i] = td_gauss(&s);
  trove_index__dot_fn f = trove_index__dot_pick();
  size_t lens[] = {0, 1, 7, 8, 31, 32, 33, 100, 512, 515};
  for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
    double ref = 0;
    for (size_t j = 0; j < lens[i]; j++)
      ref += (double)a[j] * b[j];
    CHECK(fabs(f(a, b, lens[i]) - ref) < 1e-3);
    CHECK(fabs(trove_index__dot_portable(a, b, lens[i]) - ref) < 1e-3);
  }
}

static void heap_pops_in_descending_order(void) {
  trove_index__heap h = {0};
  uint64_t s = seed;
  CHECK(trove_index__heap_reserve(&h, 1000) == 0);
  for (uint32_t i = 0; i < 1000; i++)
    trove_index__heap_push(&h, (float)(td_next(&s) % 100), i);
  float last = 1e9f;
  while (h.len > 0) {
    trove_index__hitem it = trove_index__heap_pop(&h);
    CHECK(it.key <= last);
    last = it.key;
  }
  trove_index__heap_free(&h);
}

static void idmap_agrees_with_array_under_puts_and_deletes(void) {
  enum { N = 5000 };
  static uint32_t ref[N]; /* id i (small ids collide in the low bits) -> node */
  trove_index__idmap m = {0};
  uint64_t s = seed;
  for (int i = 0; i < N; i++)
    ref[i] = UINT32_MAX;
  for (int step = 0; step < 40000; step++) {
    uint64_t id = td_next(&s) % N;
    if (td_next(&s) % 3) {
      int rc = trove_index__idmap_put(&m, id * 1024, (uint32_t)step);
      CHECK(rc == (ref[id] == UINT32_MAX ? 0 : TROVE_EEXIST));
      if (rc == 0)
        ref[id] = (uint32_t)step;
    } else {
      CHECK(trove_index__idmap_del(&m, id * 1024) == (ref[id] == UINT32_MAX ? TROVE_ENOENT : 0));
      ref[id] = UINT32_MAX;
    }
  }
  size_t live = 0;
  for (int i = 0; i < N; i++) {
    CHECK(trove_index__idmap_get(&m, (uint64_t)i * 1024) == ref[i]);
    live += ref[i] != UINT32_MAX;
  }
  CHECK(m.len == live);
  trove_index__idmap_free(&m);
  CHECK(trove_index__idmap_get(&m, 5) == UINT32_MAX &&
        trove_index__idmap_del(&m, 5) == TROVE_ENOENT);
}

int main(void) {
  seed = check_seed("index_parts_test");
  RUN(crc32c_matches_known_check_value);
  RUN(crc32c_hardware_equals_table_and_blocks_equal_singles);
  RUN(dot_kernels_agree_with_portable_loop);
  RUN(heap_pops_in_descending_order);
  RUN(idmap_agrees_with_array_under_puts_and_deletes);
  return check_done("index_parts_test");
}
