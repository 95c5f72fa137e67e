/* stress_test.c: random fork-join trees and channel pipelines on one pool at
 * once, with more threads than cores, every item accounted for. Meant for
 * the TSan build above all (a data race or a lost wake-up anywhere in the
 * scheduler, the channels or the pipeline layer shows up here as a report,
 * a wrong count or a hang), and run in every build.
 *
 * On pool "mix" (3 workers, spares allowed), at the same time:
 * - two outside threads install random trees: each node is a leaf, an
 *   sl_join of two subtrees, a scope spawning 1-4 subtrees, an sl_for over
 *   1-4 subtrees, or an sl_isolate around one; the shape follows from the
 *   seed, so the leaf count and the checksum of leaf keys are known in
 *   advance. The leaves of every other tree also send their key into a
 *   channel drained by a plain thread (blocking sends inside joins);
 * - a hand-made pipeline: a producer thread sends 0..M-1 into "raw", an
 *   outside thread installs a loop whose 4 bodies move values from "raw"
 *   to "cooked" with blocking receives and sends, and a consumer marks each
 *   value seen;
 * - an sl_pipeline on the same pool: a source, an ordered map of 3 whose
 *   jobs fork a small join tree, an unordered map of 4, a batcher and a
 *   sink, each item made and released once (counted per id).
 * Nothing is timed. The random seed is printed; SEED=<n> repeats a run. */
#include "check.h"
#include "sluice.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static sl_pool *mix;
static uint64_t seed;

/* splitmix64: the shape of every tree node comes from hashing its key. */
static uint64_t hash64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

/* ---- random fork-join trees ------------------------------------------------- */

enum { LEAF, JOIN, SCOPE, LOOP, ISOLATE, KINDS };

typedef struct tree {
  int max_depth;
  sl_chan *keys;           /* NULL, or where every leaf sends its key */
  _Atomic uint64_t leaves; /* leaves run */
  _Atomic uint64_t sum;    /* sum of their keys */
} tree;

typedef struct node {
  tree *t;
  uint64_t key;
  int depth;
} node;

static int kind_of(const node *n) {
  if (n->depth >= n->t->max_depth)
    return LEAF;
  uint64_t h = hash64(n->key);
  /* Leaves get a share that keeps trees finite but bushy. */
  return h % 8 < 2 ? LEAF : (int)(1 + (h >> 8) % (KINDS - 1));
}

static int fanout_of(const node *n) { return 1 + (int)((hash64(n->key) >> 20) % 4); }

static node child(const node *n, int i) {
  return (node){n->t, hash64(n->key * 31 + (uint64_t)i + 1), n->depth + 1};
}

/* The same recursion without the runtime: what a tree must produce. */
static void expect_tree(const node *n, uint64_t *leaves, uint64_t *sum) {
  int k = kind_of(n);
  if (k == LEAF) {
    ++*leaves;
    *sum += n->key;
    return;
  }
  int f = k == JOIN ? 2 : k == ISOLATE ? 1 : fanout_of(n);
  for (int i = 0; i < f; i++) {
    node c = child(n, i);
    expect_tree(&c, leaves, sum);
  }
}

static void run_node(void *p);

static void scope_child(sl_scope *s, void *p) {
  (void)s;
  run_node(p);
  free(p);
}

static void scope_body(sl_scope *s, void *p) {
  const node *n = p;
  for (int i = 0; i < fanout_of(n); i++) {
    node *c = malloc(sizeof *c);
    CHECK(c != NULL);
    if (!c)
      continue;
    *c = child(n, i);
    if (sl_spawn(s, scope_child, c) != 0) {
      CHECK(!"spawn failed");
      free(c);
    }
  }
}

static void loop_body(void *ctx, size_t lo, size_t hi) {
  const node *n = ctx;
  for (size_t i = lo; i < hi; i++) {
    node c = child(n, (int)i);
    run_node(&c);
  }
}

static void run_node(void *p) {
  node *n = p;
  switch (kind_of(n)) {
  case LEAF:
    atomic_fetch_add_explicit(&n->t->leaves, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&n->t->sum, n->key, memory_order_relaxed);
    if (n->t->keys)
      CHECK(sl_chan_send(n->t->keys, &n->key) == 0);
    return;
  case JOIN: {
    node a = child(n, 0), b = child(n, 1);
    CHECK(sl_join(run_node, &a, run_node, &b) == 0);
    return;
  }
  case SCOPE:
    CHECK(sl_scope_run(scope_body, n) == 0);
    return;
  case LOOP:
    CHECK(sl_for(0, (size_t)fanout_of(n), 1, loop_body, n) == 0);
    return;
  default: {
    node c = child(n, 0);
    CHECK(sl_isolate(run_node, &c) == 0);
    return;
  }
  }
}

typedef struct keys_drain {
  sl_chan *ch;
  uint64_t n, sum;
} keys_drain;

static void *drain_keys(void *p) {
  keys_drain *d = p;
  uint64_t k;
  while (sl_chan_recv(d->ch, &k) == 0) {
    d->n++;
    d->sum += k;
  }
  return NULL;
}

typedef struct forester {
  int id, trees, max_depth;
  _Atomic int *failures;
} forester;

static void *grow_trees(void *p) {
  forester *f = p;
  for (int i = 0; i < f->trees; i++) {
    tree t = {.max_depth = f->max_depth};
    keys_drain d = {0};
    pthread_t drainer;
    bool with_keys = i % 2 == 1;
    if (with_keys) {
      CHECK(sl_chan_create(&d.ch, "keys", sizeof(uint64_t), 8) == 0);
      t.keys = d.ch;
      pthread_create(&drainer, NULL, drain_keys, &d);
    }
    node root = {&t, hash64(seed ^ ((uint64_t)f->id << 32) ^ (uint64_t)i), 0};
    uint64_t want_leaves = 0, want_sum = 0;
    expect_tree(&root, &want_leaves, &want_sum);
    CHECK(sl_install(mix, run_node, &root) == 0);
    bool ok = atomic_load(&t.leaves) == want_leaves && atomic_load(&t.sum) == want_sum;
    if (with_keys) {
      sl_chan_close(d.ch);
      pthread_join(drainer, NULL);
      ok = ok && d.n == want_leaves && d.sum == want_sum;
      sl_chan_drop_sender(d.ch);
      sl_chan_drop_receiver(d.ch);
    }
    if (!ok) {
      fprintf(stderr, "tree %d/%d: %llu leaves (sum %llx), want %llu (sum %llx)\n", f->id, i,
              (unsigned long long)atomic_load(&t.leaves), (unsigned long long)atomic_load(&t.sum),
              (unsigned long long)want_leaves, (unsigned long long)want_sum);
      atomic_fetch_add(f->failures, 1);
    }
  }
  return NULL;
}

/* ---- a hand-made channel pipeline through pool jobs --------------------------- */

typedef struct relay {
  uint32_t m;
  sl_chan *raw, *cooked;
  _Atomic uint8_t *seen;
} relay;

static void *produce(void *p) {
  relay *r = p;
  for (uint64_t i = 0; i < r->m; i++)
    CHECK(sl_chan_send(r->raw, &i) == 0);
  sl_chan_close(r->raw);
  return NULL;
}

static void relay_body(void *ctx, size_t lo, size_t hi) {
  relay *r = ctx;
  for (size_t b = lo; b < hi; b++) {
    uint64_t v;
    while (sl_chan_recv(r->raw, &v) == 0)
      CHECK(sl_chan_send(r->cooked, &v) == 0);
  }
}

static void relay_loop(void *p) { CHECK(sl_for(0, 4, 1, relay_body, p) == 0); }

static void *relay_stage(void *p) {
  relay *r = p;
  CHECK(sl_install(mix, relay_loop, r) == 0);
  sl_chan_close(r->cooked);
  return NULL;
}

static void *consume(void *p) {
  relay *r = p;
  uint64_t v;
  while (sl_chan_recv(r->cooked, &v) == 0)
    if (v < r->m)
      atomic_fetch_add_explicit(&r->seen[v], 1, memory_order_relaxed);
  return NULL;
}

/* ---- an sl_pipeline on the same pool ------------------------------------------- */

typedef struct item {
  uint32_t id;
  uint64_t value;
} item;

typedef struct ledger {
  uint32_t n;
  _Atomic uint8_t *made, *freed, *sunk;
} ledger;

static void free_item(void *p, void *ctx) {
  ledger *l = ctx;
  item *it = p;
  atomic_fetch_add_explicit(&l->freed[it->id], 1, memory_order_relaxed);
  free(it);
}

static int make_items(void *user, sl_emitter *out) {
  ledger *l = user;
  for (uint32_t i = 0; i < l->n; i++) {
    item *it = malloc(sizeof *it);
    if (!it)
      return SL_ENOMEM;
    *it = (item){i, i};
    atomic_fetch_add_explicit(&l->made[i], 1, memory_order_relaxed);
    if (sl_emit(out, it) != 0)
      break;
  }
  return 0;
}

static void add_one(void *p) { ++*(uint64_t *)p; }

static int forked_map(void *user, void *p, void **out) {
  (void)user;
  item *it = p;
  uint64_t a = 0, b = 0; /* each half adds 1: value + 2 */
  CHECK(sl_join(add_one, &a, add_one, &b) == 0);
  it->value += a + b;
  *out = it;
  return 0;
}

static int doubling_map(void *user, void *p, void **out) {
  (void)user;
  item *it = p;
  it->value *= 2;
  *out = it;
  return 0;
}

static int sink_batch(void *user, void *p) {
  ledger *l = user;
  sl_batch *b = p;
  for (size_t i = 0; i < b->n; i++) {
    item *it = b->items[i];
    if (it->value == 2 * ((uint64_t)it->id + 2))
      atomic_fetch_add_explicit(&l->sunk[it->id], 1, memory_order_relaxed);
    free_item(it, l);
  }
  sl_batch_free(b);
  return 0;
}

static void *run_layer(void *p) {
  ledger *l = p;
  sl_pipeline *pl;
  CHECK(sl_pipeline_create(&pl, &(sl_pipeline_config){.name = "layer", .pool = mix,
                                                       .item_free = free_item,
                                                       .item_free_ctx = l}) == 0);
  sl_stage *src = sl_pipeline_source(pl, "make", make_items, l);
  sl_stage *fork = sl_pipeline_map(pl, "fork", forked_map, NULL, 3, SL_MAP_ORDERED);
  sl_stage *dbl = sl_pipeline_map(pl, "double", doubling_map, NULL, 4, SL_MAP_UNORDERED);
  sl_stage *bat = sl_pipeline_batch(pl, "batch", 16, 0);
  sl_stage *snk = sl_pipeline_sink(pl, "sink", sink_batch, l);
  sl_pipeline_connect(pl, src, fork, "made", 8);
  sl_pipeline_connect(pl, fork, dbl, "forked", 8);
  sl_pipeline_connect(pl, dbl, bat, "doubled", 8);
  sl_pipeline_connect(pl, bat, snk, "batches", 2);
  CHECK(sl_pipeline_run(pl) == 0);
  sl_pipeline_destroy(pl);
  return NULL;
}

/* ---- the case ------------------------------------------------------------------ */

static _Atomic uint8_t *counts(uint32_t n) { return calloc(n, sizeof(_Atomic uint8_t)); }

static int miscounted(_Atomic uint8_t *c, uint32_t n) {
  int bad = 0;
  for (uint32_t i = 0; i < n; i++)
    bad += atomic_load(&c[i]) != 1;
  return bad;
}

static void stress_trees_and_pipelines_share_one_pool(void) {
  unsigned scale = check_scale();
  CHECK(sl_pool_create(&mix, "mix", 3) == 0);
  for (int round = 0; round < 3; round++) {
    _Atomic int tree_failures = 0;
    forester fs[2];
    pthread_t ft[2];
    for (int i = 0; i < 2; i++) {
      fs[i] = (forester){.id = round * 2 + i, .trees = (int)(24 / scale), .max_depth = 12,
                         .failures = &tree_failures};
      pthread_create(&ft[i], NULL, grow_trees, &fs[i]);
    }

    relay r = {.m = 40000 / scale};
    r.seen = counts(r.m);
    CHECK(sl_chan_create(&r.raw, "raw", sizeof(uint64_t), 16) == 0);
    CHECK(sl_chan_create(&r.cooked, "cooked", sizeof(uint64_t), 8) == 0);
    pthread_t rt[3];
    pthread_create(&rt[0], NULL, produce, &r);
    pthread_create(&rt[1], NULL, relay_stage, &r);
    pthread_create(&rt[2], NULL, consume, &r);

    ledger l = {.n = 20000 / scale};
    l.made = counts(l.n), l.freed = counts(l.n), l.sunk = counts(l.n);
    pthread_t lt;
    pthread_create(&lt, NULL, run_layer, &l);

    for (int i = 0; i < 2; i++)
      pthread_join(ft[i], NULL);
    for (int i = 0; i < 3; i++)
      pthread_join(rt[i], NULL);
    pthread_join(lt, NULL);

    CHECK(atomic_load(&tree_failures) == 0);
    CHECK(miscounted(r.seen, r.m) == 0);
    CHECK(miscounted(l.made, l.n) == 0);
    CHECK(miscounted(l.freed, l.n) == 0);
    CHECK(miscounted(l.sunk, l.n) == 0);
    sl_chan *cs[2] = {r.raw, r.cooked};
    for (int i = 0; i < 2; i++) {
      sl_chan_drop_sender(cs[i]);
      sl_chan_drop_receiver(cs[i]);
    }
    free((void *)r.seen);
    free((void *)l.made), free((void *)l.freed), free((void *)l.sunk);
  }
  CHECK(sl_pool_destroy(mix) == 0);
}

int main(void) {
  seed = check_seed("stress_test");
  RUN(stress_trees_and_pipelines_share_one_pool);
  return check_done("stress_test");
}
