// header_cxx_test.cpp: sluice.h is valid C++. This file is built with
// -Wall -Wextra -Wpedantic -Werror as C++11, so a construct of the header
// that C++ lacks (a flexible array member, say) fails the build; and it
// runs, so a C++ program links and uses the C library through the header:
// a pool, a join, a loop on that pool, a channel, and a pipeline whose
// batches it reads, with small values riding in the item pointers.
#include "sluice.h"

#include <atomic>
#include <cstdint>
#include <cstdio>

static int failures;

#define EXPECT(c)                                                                  \
  do {                                                                             \
    if (!(c)) {                                                                    \
      std::fprintf(stderr, "%s:%d: EXPECT failed: %s\n", __FILE__, __LINE__, #c);  \
      failures++;                                                                  \
    }                                                                              \
  } while (0)

static std::atomic<unsigned long> loop_sum;
static std::atomic<int> off_pool;

static void add_range(void *ctx, size_t lo, size_t hi) {
  if (sl_current_pool() != static_cast<sl_pool *>(ctx))
    off_pool++;
  for (size_t i = lo; i < hi; i++)
    loop_sum += i;
}

static void loop_in_pool(void *pool) { EXPECT(sl_for(0, 1000, 10, add_range, pool) == 0); }

static int source(void *, sl_emitter *out) {
  for (uintptr_t v = 0; v < 10; v++)
    if (sl_emit(out, reinterpret_cast<void *>(v + 1)) != 0)
      return 0;
  return 0;
}

static int sink(void *user, void *item) {
  sl_batch *b = static_cast<sl_batch *>(item);
  unsigned long *sum = static_cast<unsigned long *>(user);
  for (size_t i = 0; i < b->n; i++)
    *sum += reinterpret_cast<uintptr_t>(b->items[i]) - 1;
  sl_batch_free(b);
  return 0;
}

int main() {
  sl_pool *pool = nullptr;
  EXPECT(sl_pool_create(&pool, "cxx", 2) == 0);
  EXPECT(sl_install(pool, loop_in_pool, pool) == 0);
  EXPECT(loop_sum == 999ul * 1000 / 2);
  EXPECT(off_pool == 0);

  int a = 0, b = 0;
  EXPECT(sl_join([](void *p) { *static_cast<int *>(p) = 1; }, &a,
                 [](void *p) { *static_cast<int *>(p) = 2; }, &b) == 0);
  EXPECT(a == 1 && b == 2);

  sl_chan *ch = nullptr;
  EXPECT(sl_chan_create(&ch, "cxx", sizeof(uint64_t), 4) == 0);
  uint64_t in = 42, out = 0;
  EXPECT(sl_chan_send(ch, &in) == 0 && sl_chan_recv(ch, &out) == 0 && out == 42);
  sl_chan_drop_sender(ch);
  sl_chan_drop_receiver(ch);

  sl_pipeline_config cfg = {};
  cfg.name = "cxx";
  cfg.pool = pool;
  sl_pipeline *p = nullptr;
  EXPECT(sl_pipeline_create(&p, &cfg) == 0);
  unsigned long sum = 0;
  sl_stage *src = sl_pipeline_source(p, "numbers", source, nullptr);
  sl_stage *bat = sl_pipeline_batch(p, "batch", 4, 0);
  sl_stage *snk = sl_pipeline_sink(p, "sum", sink, &sum);
  EXPECT(sl_pipeline_connect(p, src, bat, "numbers", 4) == 0);
  EXPECT(sl_pipeline_connect(p, bat, snk, "batches", 2) == 0);
  EXPECT(sl_pipeline_run(p) == 0);
  EXPECT(sum == 45);
  sl_pipeline_destroy(p);

  EXPECT(sl_pool_destroy(pool) == 0);
  std::printf("header_cxx_test: %s\n", failures ? "FAILED" : "ok");
  return failures != 0;
}
