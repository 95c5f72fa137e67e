/* bench_chan.c: workload chan (../shared/peers/README.md, W3): 10M u64
 * through one channel between OS threads, timed from channel creation to
 * the last consumer joined. Variants 1p1c (cap 64), 4p4c (cap 64) and
 * unbounded (1p1c), plus `select`: two cap-64 channels, one producer on
 * each sending half of the values, one consumer selecting over both (our
 * own shape; the peers have no such line). The `threads` argument is
 * ignored, as the peers ignore it: each variant fixes its thread count. */
#include "bench.h"

#include "sluice.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <string.h>

#define MSGS 10000000ull
#define CAP 64
#define MAX_SIDE 4
#define SUM_EXPECTED 49999995000000ull

typedef struct run {
  unsigned producers, consumers;
  size_t cap;
  sl_chan *chan;
  atomic_ullong sum;  /* this repetition's; consumers add theirs once, at the end */
  atomic_int errors;  /* unexpected return codes and wrong sums, all repetitions */
} run;

typedef struct producer_arg {
  run *r;
  sl_chan *chan;
  uint64_t lo, hi;
} producer_arg;

static void *producer(void *p) {
  producer_arg *a = p;
  for (uint64_t v = a->lo; v < a->hi; v++)
    if (sl_chan_send(a->chan, &v) != 0) {
      atomic_fetch_add_explicit(&a->r->errors, 1, memory_order_relaxed);
      break;
    }
  sl_chan_drop_sender(a->chan);
  return NULL;
}

static void *consumer(void *p) {
  run *r = p;
  uint64_t v, sum = 0;
  int rc;
  while ((rc = sl_chan_recv(r->chan, &v)) == 0)
    sum += v;
  if (rc != SL_ECLOSED)
    atomic_fetch_add_explicit(&r->errors, 1, memory_order_relaxed);
  sl_chan_drop_receiver(r->chan);
  atomic_fetch_add_explicit(&r->sum, sum, memory_order_relaxed);
  return NULL;
}

static double once_chan(void *arg) {
  run *r = arg;
  pthread_t pt[MAX_SIDE], ct[MAX_SIDE];
  producer_arg pa[MAX_SIDE];
  atomic_store(&r->sum, 0);
  double t0 = bench_now();
  if (sl_chan_create(&r->chan, "bench", sizeof(uint64_t), r->cap) != 0) {
    atomic_fetch_add(&r->errors, 1);
    return 0;
  }
  /* Each thread gets its own handle; the creator's two go once they exist. */
  for (unsigned i = 0; i < r->producers; i++)
    sl_chan_add_sender(r->chan);
  for (unsigned i = 0; i < r->consumers; i++)
    sl_chan_add_receiver(r->chan);
  /* A thread that cannot start counts as an error and drops its handle
   * here, so the channel still closes and is freed. */
  bool cok[MAX_SIDE], pok[MAX_SIDE];
  for (unsigned i = 0; i < r->consumers; i++)
    if (!(cok[i] = pthread_create(&ct[i], NULL, consumer, r) == 0)) {
      atomic_fetch_add(&r->errors, 1);
      sl_chan_drop_receiver(r->chan);
    }
  for (unsigned i = 0; i < r->producers; i++) {
    pa[i] = (producer_arg){r, r->chan, i * MSGS / r->producers, (i + 1) * MSGS / r->producers};
    if (!(pok[i] = pthread_create(&pt[i], NULL, producer, &pa[i]) == 0)) {
      atomic_fetch_add(&r->errors, 1);
      sl_chan_drop_sender(r->chan);
    }
  }
  sl_chan_drop_sender(r->chan);
  sl_chan_drop_receiver(r->chan);
  for (unsigned i = 0; i < r->producers; i++)
    if (pok[i])
      pthread_join(pt[i], NULL);
  for (unsigned i = 0; i < r->consumers; i++)
    if (cok[i])
      pthread_join(ct[i], NULL);
  double t = bench_now() - t0;
  if (atomic_load(&r->sum) != SUM_EXPECTED)
    atomic_fetch_add(&r->errors, 1);
  return t;
}

typedef struct select_run {
  sl_chan *chan[2];
  run side; /* only its errors: the producers' send failures */
  atomic_ullong sum;
  atomic_int errors;
} select_run;

/* Receives from both channels with one select until both are closed. */
static void *select_consumer(void *p) {
  select_run *r = p;
  uint64_t v[2], sum = 0;
  sl_select_op ops[2] = {{r->chan[0], SL_SELECT_RECV, &v[0]}, {r->chan[1], SL_SELECT_RECV, &v[1]}};
  size_t open = 2, i;
  while (open > 0) {
    int rc = sl_select(ops, open, SL_FOREVER, &i);
    if (rc == 0) {
      sum += v[ops[i].msg == &v[0] ? 0 : 1];
    } else if (rc == SL_ECLOSED) {
      ops[i] = ops[open - 1]; /* drop the closed one from the set */
      open--;
    } else {
      atomic_fetch_add_explicit(&r->errors, 1, memory_order_relaxed);
      break;
    }
  }
  sl_chan_drop_receiver(r->chan[0]);
  sl_chan_drop_receiver(r->chan[1]);
  atomic_fetch_add_explicit(&r->sum, sum, memory_order_relaxed);
  return NULL;
}

static double once_select(void *arg) {
  select_run *r = arg;
  pthread_t pt[2], ct;
  producer_arg pa[2];
  atomic_store(&r->sum, 0);
  double t0 = bench_now();
  for (int k = 0; k < 2; k++)
    if (sl_chan_create(&r->chan[k], "bench-select", sizeof(uint64_t), CAP) != 0) {
      atomic_fetch_add(&r->errors, 1);
      if (k == 1) {
        sl_chan_drop_sender(r->chan[0]);
        sl_chan_drop_receiver(r->chan[0]);
      }
      return 0;
    }
  /* The consumer takes the receiver handles, each producer one sender
   * handle; a thread that cannot start drops its handles here instead. */
  bool cok = pthread_create(&ct, NULL, select_consumer, r) == 0, pok[2];
  if (!cok) {
    atomic_fetch_add(&r->errors, 1);
    sl_chan_drop_receiver(r->chan[0]);
    sl_chan_drop_receiver(r->chan[1]);
  }
  for (int k = 0; k < 2; k++) {
    pa[k] = (producer_arg){&r->side, r->chan[k], k * MSGS / 2, (k + 1) * MSGS / 2};
    if (!(pok[k] = pthread_create(&pt[k], NULL, producer, &pa[k]) == 0)) {
      atomic_fetch_add(&r->errors, 1);
      sl_chan_drop_sender(r->chan[k]);
    }
  }
  for (int k = 0; k < 2; k++)
    if (pok[k])
      pthread_join(pt[k], NULL);
  if (cok)
    pthread_join(ct, NULL);
  if (atomic_load(&r->side.errors))
    atomic_fetch_add(&r->errors, 1);
  double t = bench_now() - t0;
  if (atomic_load(&r->sum) != SUM_EXPECTED)
    atomic_fetch_add(&r->errors, 1);
  return t;
}

static int run_variant(const char *variant) {
  if (strcmp(variant, "select") == 0) {
    select_run r = {0};
    double s = bench_median(once_select, &r);
    int ok = bench_check("chan select2-cap64-sum", atomic_load(&r.errors) == 0);
    bench_line("chan", 3, "select2-cap64", s, 1e7 / s / 1e6, "Mmsg/s");
    return !ok;
  }
  run r = {.producers = 1, .consumers = 1, .cap = CAP};
  const char *param = "1p1c-cap64";
  if (strcmp(variant, "4p4c") == 0) {
    r.producers = r.consumers = 4;
    param = "4p4c-cap64";
  } else if (strcmp(variant, "unbounded") == 0) {
    r.cap = SL_CHAN_UNBOUNDED;
    param = "1p1c-unbounded";
  } else if (strcmp(variant, "1p1c") != 0) {
    fprintf(stderr, "# sluice-bench: chan variant %s unknown (1p1c 4p4c unbounded select)\n",
            variant);
    return 1;
  }
  double s = bench_median(once_chan, &r);
  char what[64];
  snprintf(what, sizeof what, "chan %s-sum", param);
  int ok = bench_check(what, atomic_load(&r.errors) == 0);
  bench_line("chan", r.producers + r.consumers, param, s, 1e7 / s / 1e6, "Mmsg/s");
  return !ok;
}

int bench_chan(unsigned threads, const char *variant) {
  (void)threads;
  if (variant)
    return run_variant(variant);
  int bad = 0;
  const char *all[] = {"1p1c", "4p4c", "unbounded", "select"};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    bad |= run_variant(all[i]);
  return bad;
}
