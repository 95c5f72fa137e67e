/* blocking_test.c: the promise Rayon breaks. A reprocess pipeline's shape
 * (a parallel loop whose bodies block sending into a bounded channel,
 * drained by a stage that runs its own parallel loops on the same pool,
 * the shape that stalls Rayon at 0% CPU) completes
 * on pools of 1 and 2 threads, with compensation and without it; parallel
 * loops whose bodies block on channels that other parallel loops on the
 * same pool feed complete too; compensation stays within its cap; and work
 * pushed while a worker is blocked gets a helper, not just its pusher. */
#include "check.h"
#include "sluice.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

static uint64_t mix(uint64_t x, unsigned k) {
  for (unsigned i = 0; i < k; i++)
    x = (x ^ (x >> 29)) * 0xBF58476D1CE4E5B9ull + 0x9E3779B97F4A7C15ull;
  return x;
}

/* ---- the reprocess pipeline's shape ------------------------------------- */

#define SEED_ITEMS 3000
#define SEED_BATCH 256
#define SEED_OUT 64

typedef struct seed {
  sl_pool *pool;
  sl_chan *c1, *c2, *c3;
  uint64_t sum, count;
} seed;

typedef struct in_batch {
  size_t n;
  uint64_t v[SEED_BATCH];
} in_batch;

static void *stage1(void *p) {
  seed *s = p;
  for (uint64_t id = 0; id < SEED_ITEMS;) {
    in_batch *b = malloc(sizeof *b);
    b->n = 0;
    while (b->n < SEED_BATCH && id < SEED_ITEMS)
      b->v[b->n++] = id++;
    CHECK(sl_chan_send(s->c1, &b) == 0);
  }
  sl_chan_close(s->c1);
  return NULL;
}

typedef struct body_ctx {
  seed *s;
  in_batch *b;
} body_ctx;

static void stage2_body(void *ctx, size_t lo, size_t hi) {
  body_ctx *c = ctx;
  for (size_t i = lo; i < hi; i++) {
    uint64_t v = mix(c->b->v[i], 50);
    CHECK(sl_chan_send(c->s->c2, &v) == 0); /* blocks inside the loop */
  }
}

static void stage2_loop(void *p) {
  seed *s = p;
  in_batch *b;
  while (sl_chan_recv(s->c1, &b) == 0) {
    body_ctx c = {s, b};
    sl_for(0, b->n, 1, stage2_body, &c);
    free(b);
  }
}

static void *stage2(void *p) {
  seed *s = p;
  sl_install(s->pool, stage2_loop, s);
  sl_chan_close(s->c2);
  return NULL;
}

static void stage3_body(void *ctx, size_t lo, size_t hi) {
  uint64_t *v = ctx;
  for (size_t i = lo; i < hi; i++)
    v[i] = mix(v[i], 80);
}

typedef struct stage3_args {
  seed *s;
  uint64_t *buf;
  size_t n;
} stage3_args;

static void stage3_batch(void *p) {
  stage3_args *a = p;
  sl_for(0, a->n, 1, stage3_body, a->buf); /* same pool as stage 2 */
}

static void *stage3(void *p) {
  seed *s = p;
  uint64_t buf[SEED_OUT];
  size_t n = 0;
  int rc;
  do {
    uint64_t v;
    rc = sl_chan_recv(s->c2, &v);
    if (rc == 0)
      buf[n++] = v;
    if (n == SEED_OUT || (rc != 0 && n > 0)) {
      stage3_args a = {s, buf, n};
      sl_install(s->pool, stage3_batch, &a);
      for (size_t i = 0; i < n; i++)
        CHECK(sl_chan_send(s->c3, &buf[i]) == 0);
      n = 0;
    }
  } while (rc == 0);
  sl_chan_close(s->c3);
  return NULL;
}

static void run_seed(unsigned threads, unsigned spares) {
  seed s = {0};
  sl_pool_config cfg = {.name = "seed", .threads = threads, .max_spares = spares};
  CHECK(sl_pool_create_ex(&s.pool, &cfg) == 0);
  CHECK(sl_chan_create(&s.c1, "c1", sizeof(in_batch *), 4) == 0);
  CHECK(sl_chan_create(&s.c2, "c2", sizeof(uint64_t), 64) == 0);
  CHECK(sl_chan_create(&s.c3, "c3", sizeof(uint64_t), 256) == 0);
  pthread_t t1, t2, t3;
  pthread_create(&t1, NULL, stage1, &s);
  pthread_create(&t2, NULL, stage2, &s);
  pthread_create(&t3, NULL, stage3, &s);
  uint64_t v;
  while (sl_chan_recv(s.c3, &v) == 0) { /* stage 4 */
    s.sum += v;
    s.count++;
  }
  pthread_join(t1, NULL);
  pthread_join(t2, NULL);
  pthread_join(t3, NULL);
  uint64_t want = 0;
  for (uint64_t id = 0; id < SEED_ITEMS; id++)
    want += mix(mix(id, 50), 80);
  CHECK(s.count == SEED_ITEMS && s.sum == want);
  sl_chan *cs[3] = {s.c1, s.c2, s.c3};
  for (int i = 0; i < 3; i++) {
    sl_chan_drop_sender(cs[i]);
    sl_chan_drop_receiver(cs[i]);
  }
  sl_pool_destroy(s.pool);
}

static void seed_shape_completes_on_one_and_two_threads(void) {
  for (int round = 0; round < 3; round++) {
    run_seed(1, 0);
    run_seed(2, 0);
  }
}

static void seed_shape_completes_without_compensation(void) {
  run_seed(1, SL_NO_SPARES);
  run_seed(2, SL_NO_SPARES);
}

/* ---- loops feeding loops ------------------------------------------------- */

#define FEED 2000

typedef struct feed {
  sl_pool *pool;
  sl_chan *ch;
  _Atomic uint64_t got;
} feed;

static void produce_body(void *ctx, size_t lo, size_t hi) {
  feed *f = ctx;
  for (size_t i = lo; i < hi; i++) {
    uint64_t v = i + 1;
    CHECK(sl_chan_send(f->ch, &v) == 0);
  }
}

static void consume_body(void *ctx, size_t lo, size_t hi) {
  feed *f = ctx;
  for (size_t i = lo; i < hi; i++) {
    uint64_t v;
    CHECK(sl_chan_recv(f->ch, &v) == 0);
    atomic_fetch_add(&f->got, v);
  }
}

static void consume_all(void *p) { sl_for(0, FEED, 1, consume_body, p); }
static void produce_all(void *p) { sl_for(0, FEED, 1, produce_body, p); }

static void *consumer_thread(void *p) {
  feed *f = p;
  sl_install(f->pool, consume_all, f);
  return NULL;
}

/* Both loops run on one pool; the consumer's bodies block until the
 * producer's bodies, queued behind them on the same workers, send. */
static void loops_block_on_channels_other_loops_feed(void) {
  for (unsigned threads = 1; threads <= 2; threads++) {
    feed f = {0};
    CHECK(sl_pool_create(&f.pool, "feed", threads) == 0);
    CHECK(sl_chan_create(&f.ch, "fed", sizeof(uint64_t), 8) == 0);
    pthread_t c;
    pthread_create(&c, NULL, consumer_thread, &f);
    sl_install(f.pool, produce_all, &f);
    pthread_join(c, NULL);
    CHECK(atomic_load(&f.got) == (uint64_t)FEED * (FEED + 1) / 2);
    sl_chan_drop_sender(f.ch);
    sl_chan_drop_receiver(f.ch);
    sl_pool_destroy(f.pool);
  }
}

/* The same, both loops started from inside one worker's scope: every body
 * is a job of the same pool, none runs on an outside thread. */
static void spawn_consumer(sl_scope *s, void *p) {
  (void)s;
  consume_all(p);
}
static void spawn_producer(sl_scope *s, void *p) {
  (void)s;
  produce_all(p);
}
static void both_in_scope(sl_scope *s, void *p) {
  sl_spawn(s, spawn_consumer, p);
  sl_spawn(s, spawn_producer, p);
}
static void run_scope(void *p) { CHECK(sl_scope_run(both_in_scope, p) == 0); }

static void nested_blocking_inside_one_pool_completes(void) {
  feed f = {0};
  sl_pool_config cfg = {.name = "nested", .threads = 2, .max_spares = 64};
  CHECK(sl_pool_create_ex(&f.pool, &cfg) == 0);
  CHECK(sl_chan_create(&f.ch, "fed", sizeof(uint64_t), 4) == 0);
  sl_install(f.pool, run_scope, &f);
  CHECK(atomic_load(&f.got) == (uint64_t)FEED * (FEED + 1) / 2);
  sl_chan_drop_sender(f.ch);
  sl_chan_drop_receiver(f.ch);
  sl_pool_destroy(f.pool);
}

/* ---- work pushed while a worker is blocked -------------------------------- */

typedef struct helped {
  sl_chan *never;          /* the blocker's channel, fed only at the end */
  _Atomic bool entered;
  pthread_t caller;
  _Atomic unsigned by_caller, by_others;
} helped;

static void block_on_recv(void *p) {
  helped *h = p;
  atomic_store(&h->entered, true);
  uint64_t v;
  CHECK(sl_chan_recv(h->never, &v) == 0);
}

/* The caller's first body waits (up to 10 s) for another thread to run one:
 * a helper that comes late on a loaded machine still counts, and only a
 * helper that never comes fails the test. */
static void slow_body(void *ctx, size_t lo, size_t hi) {
  helped *h = ctx;
  for (size_t i = lo; i < hi; i++) {
    usleep(1000);
    if (!pthread_equal(pthread_self(), h->caller)) {
      atomic_fetch_add(&h->by_others, 1);
      continue;
    }
    for (int waited = 0; waited < 10000 && atomic_load(&h->by_others) == 0; waited++)
      usleep(1000);
    atomic_fetch_add(&h->by_caller, 1);
  }
}

static void slow_loop(void *p) { CHECK(sl_for(0, 64, 1, slow_body, p) == 0); }

/* The pool's only worker blocks while no work is visible, so nothing is
 * compensated then. An outside thread then runs a loop in the pool: its
 * pushes find no sleeper to wake, and must start a spare, or the caller
 * runs all 64 bodies alone. (Before the fix it did.) */
static void work_pushed_while_a_worker_blocks_gets_a_helper(void) {
  helped h = {.caller = pthread_self()};
  sl_pool *pool;
  CHECK(sl_pool_create(&pool, "helped", 1) == 0);
  CHECK(sl_chan_create(&h.never, "never", sizeof(uint64_t), 1) == 0);
  CHECK(sl_pool_spawn(pool, block_on_recv, &h) == 0);
  while (!atomic_load(&h.entered))
    usleep(1000);
  usleep(50000); /* let it spin out and park: only then is it counted blocked */
  CHECK(sl_install(pool, slow_loop, &h) == 0);
  CHECK(atomic_load(&h.by_caller) + atomic_load(&h.by_others) == 64);
  CHECK(atomic_load(&h.by_others) > 0);
  uint64_t v = 1;
  CHECK(sl_chan_send(h.never, &v) == 0);
  sl_pool_destroy(pool);
  sl_chan_drop_sender(h.never);
  sl_chan_drop_receiver(h.never);
}

int main(void) {
  RUN(seed_shape_completes_on_one_and_two_threads);
  RUN(seed_shape_completes_without_compensation);
  RUN(loops_block_on_channels_other_loops_feed);
  RUN(nested_blocking_inside_one_pool_completes);
  RUN(work_pushed_while_a_worker_blocks_gets_a_helper);
  return check_done("blocking_test");
}
