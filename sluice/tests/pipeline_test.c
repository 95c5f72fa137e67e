/* pipeline_test.c: the pipeline layer: results and order through every
 * stage kind, cancellation by an error in each stage position (every item
 * released exactly once, counted), an error during shutdown, progress
 * reports and the summary, bad graphs, the pool a map's jobs run on
 * (the configured one, else the global one), and an ordered map that keeps
 * its jobs running while a slow item holds its output back. */
#include "check.h"
#include "sluice.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ITEMS 5000

typedef struct item {
  int id;
  int value;
} item;

/* Every item made and released is counted per id: a leak or a double
 * release shows up as a count other than 1. */
typedef struct ledger {
  int n;              /* items the source makes */
  int fail_stage;     /* 0 none; 1 source, 2 map, 3 flat, 4 sink; 5 sink at the end */
  int fail_at;        /* the id at which that stage fails */
  _Atomic int made[MAX_ITEMS * 2];
  _Atomic int freed[MAX_ITEMS * 2];
  int sunk[MAX_ITEMS * 2];
  int nsunk;
  long long sum;
} ledger;

static item *make(ledger *l, int id, int value) {
  item *it = malloc(sizeof *it);
  it->id = id;
  it->value = value;
  atomic_fetch_add(&l->made[id], 1);
  return it;
}

static void free_item(void *p, void *ctx) {
  ledger *l = ctx;
  item *it = p;
  atomic_fetch_add(&l->freed[it->id], 1);
  free(it);
}

static int source(void *user, sl_emitter *out) {
  ledger *l = user;
  for (int i = 0; i < l->n; i++) {
    if (l->fail_stage == 1 && i == l->fail_at)
      return -101;
    if (sl_emit(out, make(l, i, i)) == SL_ECANCELED)
      return 0;
  }
  return l->fail_stage == 6 ? -106 : 0; /* 6: fails after emitting everything */
}

static int square(void *user, void *in, void **out) {
  ledger *l = user;
  item *it = in;
  if (l->fail_stage == 2 && it->id == l->fail_at) {
    free_item(it, l);
    return -102;
  }
  it->value = it->value * 2;
  *out = it;
  return 0;
}

/* Splits each batch back into items, making a second item per even id. */
static int unbatch(void *user, void *in, sl_emitter *out) {
  ledger *l = user;
  sl_batch *b = in;
  int rc = 0;
  for (size_t i = 0; i < b->n; i++) {
    item *it = b->items[i];
    if (rc) {
      free_item(it, l);
      continue;
    }
    if (l->fail_stage == 3 && it->id == l->fail_at) {
      free_item(it, l);
      rc = -103;
      continue;
    }
    int id = it->id;
    if (sl_emit(out, it) == SL_ECANCELED)
      rc = SL_ECANCELED;
    else if (id % 2 == 0 && sl_emit(out, make(l, MAX_ITEMS + id, 1)) == SL_ECANCELED)
      rc = SL_ECANCELED;
  }
  sl_batch_free(b);
  return rc == SL_ECANCELED ? 0 : rc;
}

static int sink(void *user, void *in) {
  ledger *l = user;
  item *it = in;
  int rc = 0;
  if (l->fail_stage == 4 && it->id == l->fail_at)
    rc = -104;
  if (l->fail_stage == 5 && l->nsunk == l->n + l->n / 2 - 1)
    rc = -105; /* the very last item: the others are shutting down */
  l->sunk[l->nsunk++] = it->id;
  l->sum += it->value;
  free_item(it, l);
  return rc;
}

static _Atomic int progress_calls;

static void on_progress(const sl_stage_stats *st, size_t n, double elapsed, void *arg) {
  (void)arg, (void)elapsed;
  CHECK(n == 5 && st[0].name && strcmp(st[0].name, "source") == 0);
  atomic_fetch_add(&progress_calls, 1);
}

static int run_ledger(ledger *l, unsigned workers, int flags, sl_pipeline **keep) {
  sl_pipeline *p;
  sl_pipeline_config cfg = {.name = "test", .item_free = free_item, .item_free_ctx = l,
                            .progress = on_progress};
  int rc = sl_pipeline_create(&p, &cfg);
  if (rc)
    return rc;
  sl_stage *src = sl_pipeline_source(p, "source", source, l);
  sl_stage *map = sl_pipeline_map(p, "square", square, l, workers, flags);
  sl_stage *bat = sl_pipeline_batch(p, "batch", 7, 0.001);
  sl_stage *flat = sl_pipeline_flat_map(p, "unbatch", unbatch, l);
  sl_stage *snk = sl_pipeline_sink(p, "sink", sink, l);
  /* Builder errors stick and come back from run (fault tests rely on it). */
  sl_pipeline_connect(p, src, map, "items", 8);
  sl_pipeline_connect(p, map, bat, "squared", 3);
  sl_pipeline_connect(p, bat, flat, "batches", 2);
  sl_pipeline_connect(p, flat, snk, "flat", 5);
  rc = sl_pipeline_run(p);
  if (keep)
    *keep = p;
  else
    sl_pipeline_destroy(p);
  return rc;
}

static void check_each_released_once(ledger *l) {
  int bad = 0;
  for (int i = 0; i < MAX_ITEMS * 2; i++)
    bad += atomic_load(&l->made[i]) != atomic_load(&l->freed[i]) || atomic_load(&l->freed[i]) > 1;
  CHECK(bad == 0);
}

static void pipeline_carries_every_item_in_order(void) {
  for (int ordered = 0; ordered < 2; ordered++) {
    for (unsigned workers = 1; workers <= 4; workers += 3) {
      ledger *l = calloc(1, sizeof *l);
      l->n = 600;
      sl_pipeline *p = NULL;
      atomic_store(&progress_calls, 0);
      CHECK(run_ledger(l, workers, ordered ? SL_MAP_ORDERED : SL_MAP_UNORDERED, &p) == 0);
      CHECK(l->nsunk == l->n + l->n / 2);
      long long want = 0;
      for (int i = 0; i < l->n; i++)
        want += 2LL * i + (i % 2 == 0);
      CHECK(l->sum == want);
      if (ordered) { /* items in input order, each even one followed by its twin */
        int next = 0, bad = 0;
        for (int k = 0; k < l->nsunk; k++) {
          if (l->sunk[k] >= MAX_ITEMS)
            continue;
          bad += l->sunk[k] != next++;
        }
        CHECK(bad == 0);
      }
      check_each_released_once(l);
      CHECK(atomic_load(&progress_calls) >= 1);
      sl_stage_stats st[5];
      CHECK(sl_pipeline_stats(p, st, 5) == 5);
      CHECK(st[0].items_out == (uint64_t)l->n && st[4].items_in == (uint64_t)l->nsunk);
      /* counted once each, whether the dispatcher or a job moved the item */
      CHECK(st[1].items_in == (uint64_t)l->n && st[1].items_out == (uint64_t)l->n);
      char sum[2048];
      size_t need = sl_pipeline_summary(p, sum, sizeof sum);
      CHECK(need > 0 && need < sizeof sum && strstr(sum, "bottleneck: stage \""));
      sl_pipeline_destroy(p);
      free(l);
    }
  }
}

static void pipeline_error_in_each_stage_cancels_and_releases_everything(void) {
  static const int codes[] = {0, -101, -102, -103, -104, -105, -106};
  for (int stage = 1; stage <= 6; stage++) {
    for (unsigned workers = 1; workers <= 3; workers += 2) {
      for (int ordered = 0; ordered < 2; ordered++) {
        ledger *l = calloc(1, sizeof *l);
        l->n = 400;
        l->fail_stage = stage;
        l->fail_at = 150;
        int rc = run_ledger(l, workers, ordered ? SL_MAP_ORDERED : SL_MAP_UNORDERED, NULL);
        CHECK(rc == codes[stage]);
        check_each_released_once(l);
        free(l);
      }
    }
  }
}

static int nop_source(void *u, sl_emitter *o) { (void)u, (void)o; return 0; }
static int nop_map(void *u, void *i, void **o) { (void)u; *o = i; return 0; }
static int nop_sink(void *u, void *i) { (void)u, (void)i; return 0; }

static void pipeline_rejects_bad_graphs(void) {
  sl_pipeline *p;
  CHECK(sl_pipeline_create(NULL, NULL) == SL_EINVAL);
  CHECK(sl_pipeline_create(&p, NULL) == 0);
  CHECK(sl_pipeline_run(p) == SL_EINVAL); /* no stages */
  sl_pipeline_destroy(p);

  CHECK(sl_pipeline_create(&p, NULL) == 0); /* a cycle of maps, fed by nothing */
  sl_stage *src = sl_pipeline_source(p, "s", nop_source, NULL);
  sl_stage *snk = sl_pipeline_sink(p, "k", nop_sink, NULL);
  sl_stage *a = sl_pipeline_map(p, "a", nop_map, NULL, 1, 0);
  sl_stage *b = sl_pipeline_map(p, "b", nop_map, NULL, 1, 0);
  CHECK(sl_pipeline_connect(p, src, snk, "direct", 4) == 0);
  CHECK(sl_pipeline_connect(p, a, b, "ab", 4) == 0);
  CHECK(sl_pipeline_connect(p, b, a, "ba", 4) == 0);
  CHECK(sl_pipeline_run(p) == SL_EINVAL);
  sl_pipeline_destroy(p);

  CHECK(sl_pipeline_create(&p, NULL) == 0);
  src = sl_pipeline_source(p, "s", nop_source, NULL);
  snk = sl_pipeline_sink(p, "k", nop_sink, NULL);
  CHECK(sl_pipeline_connect(p, src, snk, "zero", 0) == SL_EINVAL);
  CHECK(sl_pipeline_connect(p, snk, src, "backwards", 4) == SL_EINVAL);
  CHECK(sl_pipeline_run(p) == SL_EINVAL); /* the builder error sticks */
  sl_pipeline_destroy(p);

  CHECK(sl_pipeline_create(&p, NULL) == 0);
  CHECK(sl_pipeline_source(p, "s", NULL, NULL) == NULL);
  CHECK(sl_pipeline_batch(p, "b", 0, 0) == NULL);
  CHECK(sl_pipeline_run(p) == SL_EINVAL);
  sl_pipeline_destroy(p);

  CHECK(sl_pipeline_create(&p, NULL) == 0); /* a stage left unconnected */
  src = sl_pipeline_source(p, "s", nop_source, NULL);
  snk = sl_pipeline_sink(p, "k", nop_sink, NULL);
  sl_pipeline_map(p, "orphan", nop_map, NULL, 1, 0);
  CHECK(sl_pipeline_connect(p, src, snk, "c", 4) == 0);
  CHECK(sl_pipeline_run(p) == SL_EINVAL);
  sl_pipeline_destroy(p);
}

static void pipeline_survives_allocation_failures(void) {
  int rc = -1;
  for (long n = 0; rc != 0 && n < 400; n++) {
    ledger *l = calloc(1, sizeof *l);
    l->n = 50;
    sl_test_fail_alloc_after(n);
    rc = run_ledger(l, 3, SL_MAP_ORDERED, NULL);
    sl_test_fail_alloc_after(-1);
    CHECK(rc == 0 || rc == SL_ENOMEM || rc == SL_EINVAL);
    check_each_released_once(l);
    free(l);
  }
  CHECK(rc == 0);
}

/* ---- the pool of a map's jobs ---------------------------------------------- */

/* Where each map call ran: on the expected pool (and a parallel loop inside
 * it too), or elsewhere. Items are small values in the pointer. */
typedef struct where {
  sl_pool *expect;  /* NULL: no pool, the stage's own thread */
  _Atomic int on_expected, elsewhere, loop_elsewhere;
} where;

static void loop_body(void *ctx, size_t lo, size_t hi) {
  where *w = ctx;
  (void)lo, (void)hi;
  if (sl_current_pool() != w->expect)
    atomic_fetch_add(&w->loop_elsewhere, 1);
}

static int count_source(void *user, sl_emitter *out) {
  (void)user;
  for (uintptr_t i = 0; i < 200; i++)
    if (sl_emit(out, (void *)(i + 1)) != 0)
      break;
  return 0;
}

static int where_map(void *user, void *item, void **out) {
  where *w = user;
  atomic_fetch_add(sl_current_pool() == w->expect ? &w->on_expected : &w->elsewhere, 1);
  if (w->expect) /* a parallel call inside a job stays on the job's pool */
    sl_for(0, 8, 1, loop_body, w);
  *out = item;
  return 0;
}

static int drop_sink(void *user, void *item) { (void)user, (void)item; return 0; }

static int run_where(sl_pool *pool, unsigned workers, int flags, where *w) {
  sl_pipeline *p;
  int rc = sl_pipeline_create(&p, &(sl_pipeline_config){.name = "where", .pool = pool});
  if (rc)
    return rc;
  sl_stage *src = sl_pipeline_source(p, "numbers", count_source, NULL);
  sl_stage *map = sl_pipeline_map(p, "where", where_map, w, workers, flags);
  sl_stage *snk = sl_pipeline_sink(p, "drop", drop_sink, NULL);
  sl_pipeline_connect(p, src, map, "in", 4);
  sl_pipeline_connect(p, map, snk, "out", 4);
  rc = sl_pipeline_run(p);
  sl_pipeline_destroy(p);
  return rc;
}

/* A parallel map runs every job on the configured pool, ordered or not,
 * and on the global pool when none is configured; a serial map runs on its
 * stage's thread, in no pool. */
static void pipeline_map_jobs_run_on_its_pool(void) {
  sl_pool *work;
  CHECK(sl_pool_create(&work, "work", 2) == 0);
  for (int flags = SL_MAP_ORDERED; flags <= SL_MAP_UNORDERED; flags++) {
    where w = {.expect = work};
    CHECK(run_where(work, 4, flags, &w) == 0);
    CHECK(atomic_load(&w.on_expected) == 200 && atomic_load(&w.elsewhere) == 0);
    CHECK(atomic_load(&w.loop_elsewhere) == 0);

    where g = {.expect = sl_pool_global()};
    CHECK(g.expect != NULL);
    CHECK(run_where(NULL, 4, flags, &g) == 0);
    CHECK(atomic_load(&g.on_expected) == 200 && atomic_load(&g.elsewhere) == 0);
    CHECK(atomic_load(&g.loop_elsewhere) == 0);
  }
  where serial = {.expect = NULL};
  CHECK(run_where(work, 1, SL_MAP_ORDERED, &serial) == 0);
  CHECK(atomic_load(&serial.on_expected) == 200 && atomic_load(&serial.elsewhere) == 0);
  CHECK(sl_pool_destroy(work) == 0);
}

/* An ordered map of 2 workers whose first item waits on a gate: the items
 * behind it finish and wait for it in the map's window of finished results,
 * while the map keeps starting jobs, up to 2 waiting results plus the 2
 * jobs. With no such window, the map stopped at one job as soon as item 2
 * finished. Items are small values in the pointer. */
typedef struct gated {
  sl_chan *gate;     /* item 1 waits for one message here */
  sl_chan *started;  /* every other item reports its id here */
  int sunk[16];
  int nsunk;
} gated;

static int twelve_source(void *user, sl_emitter *out) {
  (void)user;
  for (uintptr_t i = 1; i <= 12; i++)
    if (sl_emit(out, (void *)i) != 0)
      break;
  return 0;
}

static int gated_map(void *user, void *item, void **out) {
  gated *g = user;
  uint64_t id = (uintptr_t)item;
  if (id == 1) {
    uint64_t v;
    sl_chan_recv(g->gate, &v);
  } else {
    sl_chan_send(g->started, &id);
  }
  *out = item;
  return 0;
}

static int gated_sink(void *user, void *item) {
  gated *g = user;
  if (g->nsunk < 16)
    g->sunk[g->nsunk++] = (int)(uintptr_t)item;
  return 0;
}

static void *run_pipeline_thread(void *p) { return (void *)(intptr_t)sl_pipeline_run(p); }

static void pipeline_ordered_map_keeps_jobs_running_behind_a_slow_item(void) {
  gated g = {0};
  sl_pool *work;
  CHECK(sl_pool_create(&work, "work", 2) == 0);
  CHECK(sl_chan_create(&g.gate, "gate", sizeof(uint64_t), 1) == 0);
  CHECK(sl_chan_create(&g.started, "started", sizeof(uint64_t), SL_CHAN_UNBOUNDED) == 0);
  sl_pipeline *p;
  CHECK(sl_pipeline_create(&p, &(sl_pipeline_config){.name = "gated", .pool = work}) == 0);
  sl_stage *src = sl_pipeline_source(p, "numbers", twelve_source, NULL);
  sl_stage *map = sl_pipeline_map(p, "gated", gated_map, &g, 2, SL_MAP_ORDERED);
  sl_stage *snk = sl_pipeline_sink(p, "collect", gated_sink, &g);
  sl_pipeline_connect(p, src, map, "in", 4);
  sl_pipeline_connect(p, map, snk, "out", 4);
  pthread_t run;
  CHECK(pthread_create(&run, NULL, run_pipeline_thread, p) == 0);
  /* Items 2, 3 and 4 start while item 1 waits (a generous bound: this is
   * a liveness check, the old map never started item 3). */
  uint64_t seen = 0, id;
  for (int i = 0; i < 3 && sl_chan_recv_timeout(g.started, &id, 10 * (int64_t)1000000000) == 0;
       i++)
    seen |= 1ull << id;
  CHECK(seen == ((1u << 2) | (1u << 3) | (1u << 4)));
  uint64_t go = 1;
  CHECK(sl_chan_send(g.gate, &go) == 0);
  void *rc;
  pthread_join(run, &rc);
  CHECK(rc == NULL);
  CHECK(g.nsunk == 12);
  for (int i = 0; i < g.nsunk; i++)
    CHECK(g.sunk[i] == i + 1);
  sl_pipeline_destroy(p);
  CHECK(sl_pool_destroy(work) == 0);
  sl_chan *cs[2] = {g.gate, g.started};
  for (int i = 0; i < 2; i++) {
    sl_chan_drop_sender(cs[i]);
    sl_chan_drop_receiver(cs[i]);
  }
}

int main(void) {
  RUN(pipeline_carries_every_item_in_order);
  RUN(pipeline_error_in_each_stage_cancels_and_releases_everything);
  RUN(pipeline_rejects_bad_graphs);
  RUN(pipeline_survives_allocation_failures);
  RUN(pipeline_map_jobs_run_on_its_pool);
  RUN(pipeline_ordered_map_keeps_jobs_running_behind_a_slow_item);
  return check_done("pipeline_test");
}
