/* bench_pipeline.c: the peers' pipeline workload (../shared/peers/README.md),
 * a four-stage reprocess pipeline. Stage 2 runs a parallel loop over each batch
 * on the pool and sends each result into a bounded channel from inside the
 * loop; stage 3 runs its own parallel loops on the same pool. On Rayon's
 * global pool this deadlocks; on sluice the blocked senders are compensated.
 *   global    stages 2 and 3 share the global pool (the naive program)
 *   global-cont  the same, the global pool with continuations
 *             (SLUICE_CONTINUATIONS=1): stage 2's blocked senders are
 *             suspended instead of holding their workers
 *   isolated  stage 2 runs in a pool of its own (sl_install)
 *   isolated-cont  the same, both pools with continuations
 *   threads   stage 2 is `threads` dedicated threads, item by item
 *   layer     the same four stages on sluice's pipeline layer: a source, a
 *             parallel map (2 * threads items in flight), a batch of 64, a
 *             flat map whose parallel loop runs on the global pool, a sink
 * A watchdog prints metric=DEADLOCK and exits if no batch reaches stage 4
 * for WATCHDOG_S seconds (default 5). PIPELINE_TIMELINE=1 adds a summary of
 * where the cores ran fewer mix bodies than threads (bench_timeline.c). */
#include "bench.h"
#include "bench_timeline.h"

#include <pthread.h>
#include <sluice.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N_ITEMS 20000
#define BATCH_IN 256
#define CAP_C1 4
#define CAP_C2 64
#define BATCH_OUT 64
#define CAP_C3 4
#define K2 10700
#define K3 26700
#define EXPECT_SUM 3822045163278833482ull

static uint64_t mix(uint64_t x, unsigned k) {
  for (unsigned i = 0; i < k; i++)
    x = (x ^ (x >> 29)) * 0xBF58476D1CE4E5B9ull + 0x9E3779B97F4A7C15ull;
  return x;
}

typedef struct batch {
  size_t n;
  uint64_t v[BATCH_IN];
} batch;

typedef struct run {
  const char *variant;
  unsigned threads;
  sl_pool *pool;       /* the pool stage 2 runs on for "isolated" */
  sl_chan *c1, *c2, *c3;
  uint64_t sum, count;
  _Atomic uint64_t batches_out; /* for the watchdog */
  _Atomic int done;
} run;

static void *stage1(void *p) {
  run *r = p;
  sl_thread_set_name("stage1");
  for (uint64_t id = 0; id < N_ITEMS;) {
    batch *b = malloc(sizeof *b);
    if (!b)
      abort(); /* a benchmark, not a library: no memory is fatal here */
    b->n = 0;
    while (b->n < BATCH_IN && id < N_ITEMS)
      b->v[b->n++] = id++;
    sl_chan_send(r->c1, &b);
  }
  sl_chan_close(r->c1);
  return NULL;
}

typedef struct stage2_ctx {
  run *r;
  batch *b;
} stage2_ctx;

static void stage2_body(void *ctx, size_t lo, size_t hi) {
  stage2_ctx *c = ctx;
  for (size_t i = lo; i < hi; i++) {
    bench_tl_mark(TL_MIX2_BEGIN);
    uint64_t v = mix(c->b->v[i], K2);
    bench_tl_mark(TL_MIX2_END);
    sl_chan_send(c->r->c2, &v); /* blocking, from inside the parallel loop */
  }
}

static void stage2_loop(void *p) {
  run *r = p;
  batch *b;
  while (sl_chan_recv(r->c1, &b) == 0) {
    stage2_ctx c = {r, b};
    sl_for(0, b->n, 1, stage2_body, &c);
    free(b);
  }
}

static void *stage2(void *p) {
  run *r = p;
  sl_thread_set_name("stage2");
  if (r->pool)
    sl_install(r->pool, stage2_loop, r);
  else
    stage2_loop(r);
  sl_chan_close(r->c2);
  return NULL;
}

/* "threads": each worker takes whole batches and processes items in turn. */
static void *stage2_thread(void *p) {
  run *r = p;
  sl_thread_set_name("stage2-thread");
  batch *b;
  while (sl_chan_recv(r->c1, &b) == 0) {
    for (size_t i = 0; i < b->n; i++) {
      bench_tl_mark(TL_MIX2_BEGIN);
      uint64_t v = mix(b->v[i], K2);
      bench_tl_mark(TL_MIX2_END);
      sl_chan_send(r->c2, &v);
    }
    free(b);
  }
  return NULL;
}

static void stage3_body(void *ctx, size_t lo, size_t hi) {
  batch *b = ctx;
  for (size_t i = lo; i < hi; i++) {
    bench_tl_mark(TL_MIX3_BEGIN);
    b->v[i] = mix(b->v[i], K3);
    bench_tl_mark(TL_MIX3_END);
  }
}

static void *stage3(void *p) {
  run *r = p;
  sl_thread_set_name("stage3");
  batch *b = NULL;
  uint64_t v;
  int rc;
  do {
    rc = sl_chan_recv(r->c2, &v);
    if (rc == 0) {
      if (!b) {
        if (!(b = malloc(sizeof *b)))
          abort();
        b->n = 0;
      }
      b->v[b->n++] = v;
    }
    if (b && (b->n == BATCH_OUT || (rc != 0 && b->n > 0))) {
      bench_tl_mark(TL_MAP_BEGIN);
      sl_for(0, b->n, 1, stage3_body, b); /* on the global pool */
      bench_tl_mark(TL_MAP_END);
      sl_chan_send(r->c3, &b);
      b = NULL;
    }
  } while (rc == 0);
  free(b);
  sl_chan_close(r->c3);
  return NULL;
}

static void *stage4(void *p) {
  run *r = p;
  sl_thread_set_name("stage4");
  batch *b;
  while (sl_chan_recv(r->c3, &b) == 0) {
    for (size_t i = 0; i < b->n; i++)
      r->sum += b->v[i];
    r->count += b->n;
    free(b);
    atomic_fetch_add(&r->batches_out, 1);
  }
  return NULL;
}

static void *watchdog(void *p) {
  run *r = p;
  const char *env = getenv("WATCHDOG_S");
  double limit = env ? atof(env) : 5.0;
  uint64_t last = 0;
  double since = bench_now();
  while (!atomic_load(&r->done)) {
    usleep(20000);
    uint64_t now = atomic_load(&r->batches_out);
    if (now != last) {
      last = now;
      since = bench_now();
    } else if (bench_now() - since > limit) {
      printf("peer=sluice workload=pipeline threads=%u param=%s seconds=inf metric=DEADLOCK "
             "unit=items/s\n", r->threads, r->variant);
      fflush(stdout);
      _exit(1);
    }
  }
  return NULL;
}

/* ---- the pipeline layer's version ---------------------------------------- */

typedef struct layer_item {
  uint64_t v;
} layer_item;

static int layer_source(void *user, sl_emitter *out) {
  (void)user;
  for (uint64_t id = 0; id < N_ITEMS; id++) {
    layer_item *it = malloc(sizeof *it);
    if (!it)
      return SL_ENOMEM;
    it->v = id;
    if (sl_emit(out, it))
      return 0;
  }
  return 0;
}

static int layer_stage2(void *user, void *item, void **out) {
  (void)user;
  layer_item *it = item;
  it->v = mix(it->v, K2);
  *out = it;
  return 0;
}

static void layer_mix3(void *ctx, size_t lo, size_t hi) {
  sl_batch *b = ctx;
  for (size_t i = lo; i < hi; i++) {
    layer_item *it = b->items[i];
    it->v = mix(it->v, K3);
  }
}

static int layer_stage3(void *user, void *item, sl_emitter *out) {
  (void)user;
  sl_batch *b = item;
  sl_for(0, b->n, 1, layer_mix3, b); /* the global pool, as W5's stage 3 */
  int rc = 0;
  for (size_t i = 0; i < b->n; i++) {
    if (rc)
      free(b->items[i]);
    else if (sl_emit(out, b->items[i]))
      rc = SL_ECANCELED;
  }
  sl_batch_free(b);
  return 0;
}

static int layer_sink(void *user, void *item) {
  run *r = user;
  layer_item *it = item;
  r->sum += it->v;
  r->count++;
  free(it);
  if (r->count % BATCH_OUT == 0)
    atomic_fetch_add(&r->batches_out, 1);
  return 0;
}

static void layer_free(void *item, void *ctx) {
  (void)ctx;
  free(item);
}

static double layer_once(void *p) {
  run *r = p;
  r->sum = r->count = 0;
  atomic_store(&r->batches_out, 0);
  atomic_store(&r->done, 0);
  pthread_t wd;
  pthread_create(&wd, NULL, watchdog, r);
  double t0 = bench_now();
  sl_pipeline *pl;
  sl_pipeline_config cfg = {.name = "w5", .item_free = layer_free};
  if (sl_pipeline_create(&pl, &cfg))
    abort();
  sl_stage *s1 = sl_pipeline_source(pl, "stage1", layer_source, r);
  sl_stage *s2 = sl_pipeline_map(pl, "stage2", layer_stage2, r, 2 * r->threads, SL_MAP_UNORDERED);
  sl_stage *bt = sl_pipeline_batch(pl, "batch64", BATCH_OUT, 0);
  sl_stage *s3 = sl_pipeline_flat_map(pl, "stage3", layer_stage3, r);
  sl_stage *s4 = sl_pipeline_sink(pl, "stage4", layer_sink, r);
  sl_pipeline_connect(pl, s1, s2, "c1", CAP_C1 * BATCH_IN);
  sl_pipeline_connect(pl, s2, bt, "c2", CAP_C2);
  sl_pipeline_connect(pl, bt, s3, "batches", CAP_C3);
  sl_pipeline_connect(pl, s3, s4, "c3", CAP_C3 * BATCH_OUT);
  int rc = sl_pipeline_run(pl);
  double dt = bench_now() - t0;
  if (rc)
    fprintf(stderr, "# pipeline layer: %s\n", sl_strerror(rc));
  if (getenv("SUMMARY")) {
    char buf[4096];
    sl_pipeline_summary(pl, buf, sizeof buf);
    fprintf(stderr, "%s", buf);
  }
  sl_pipeline_destroy(pl);
  atomic_store(&r->done, 1);
  pthread_join(wd, NULL);
  return dt;
}

static int make_chans(run *r) {
  int rc = sl_chan_create(&r->c1, "c1-batches", sizeof(batch *), CAP_C1);
  if (!rc)
    rc = sl_chan_create(&r->c2, "c2-items", sizeof(uint64_t), CAP_C2);
  if (!rc)
    rc = sl_chan_create(&r->c3, "c3-results", sizeof(batch *), CAP_C3);
  return rc;
}

static void drop_chans(run *r) {
  sl_chan *cs[3] = {r->c1, r->c2, r->c3};
  for (int i = 0; i < 3; i++)
    if (cs[i]) {
      sl_chan_drop_sender(cs[i]);
      sl_chan_drop_receiver(cs[i]);
    }
}

static double pipeline_once(void *p) {
  run *r = p;
  bench_tl_reset();
  r->sum = r->count = 0;
  atomic_store(&r->batches_out, 0);
  atomic_store(&r->done, 0);
  pthread_t wd, t1, t3, t4, t2[64];
  pthread_create(&wd, NULL, watchdog, r);
  double t0 = bench_now();
  if (make_chans(r))
    abort();
  bool own_threads = strcmp(r->variant, "threads") == 0;
  unsigned n2 = own_threads ? (r->threads < 64 ? r->threads : 64) : 1;
  pthread_create(&t1, NULL, stage1, r);
  for (unsigned i = 0; i < n2; i++)
    pthread_create(&t2[i], NULL, own_threads ? stage2_thread : stage2, r);
  pthread_create(&t3, NULL, stage3, r);
  pthread_create(&t4, NULL, stage4, r);
  pthread_join(t1, NULL);
  for (unsigned i = 0; i < n2; i++)
    pthread_join(t2[i], NULL);
  if (own_threads)
    sl_chan_close(r->c2);
  pthread_join(t3, NULL);
  pthread_join(t4, NULL);
  double dt = bench_now() - t0;
  atomic_store(&r->done, 1);
  pthread_join(wd, NULL);
  drop_chans(r);
  r->c1 = r->c2 = r->c3 = NULL;
  return dt;
}

int bench_pipeline(unsigned threads, const char *variant) {
  if (!variant)
    variant = "";
  bool cont = strcmp(variant, "global-cont") == 0 || strcmp(variant, "isolated-cont") == 0;
  bool isolated = strcmp(variant, "isolated") == 0 || strcmp(variant, "isolated-cont") == 0;
  if (strcmp(variant, "global") && strcmp(variant, "threads") && strcmp(variant, "layer") &&
      !cont && !isolated) {
    fprintf(stderr, "# pipeline: variant must be global, global-cont, isolated, isolated-cont, "
                    "threads or layer\n");
    return 0;
  }
  /* The global pool takes its size from SLUICE_THREADS, and continuations
   * from SLUICE_CONTINUATIONS. */
  char buf[16];
  snprintf(buf, sizeof buf, "%u", threads);
  setenv("SLUICE_THREADS", buf, 1);
  if (cont)
    setenv("SLUICE_CONTINUATIONS", "1", 1);
  double t0 = bench_now();
  uint64_t x = mix(1, K2);
  double us = (bench_now() - t0) * 1e6;
  fprintf(stderr, "# calib mix(k=%d) %.1f us (x=%llu)\n", K2, us, (unsigned long long)x);
  run r = {.variant = variant, .threads = threads};
  sl_pool_config stage2_cfg = {.name = "stage2", .threads = threads, .continuations = cont};
  if (isolated && sl_pool_create_ex(&r.pool, &stage2_cfg)) {
    fprintf(stderr, "# pipeline: cannot create the stage 2 pool\n");
    return 1;
  }
  bench_tl_on(); /* before any thread reads the setting */
  double s = bench_median(strcmp(variant, "layer") ? pipeline_once : layer_once, &r);
  bench_tl_report(threads);
  sl_pool_destroy(r.pool);
  bench_line("pipeline", threads, variant, s, N_ITEMS / s, "items/s");
  int ok = bench_check("pipeline sum", r.sum == EXPECT_SUM);
  ok &= bench_check("pipeline count == 20000", r.count == N_ITEMS);
  return !ok;
}
