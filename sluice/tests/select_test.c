/* select_test.c: claims about sl_select (src/select.c): bad input, try
 * semantics, fairness among ready operations, closed channels, send and
 * receive mixed (also on one channel), rendezvous pairing between selects,
 * timeouts while other threads hammer the same wait queues, allocation
 * failure of an unbounded send, and exactly-once delivery under a select
 * stress over all three flavours. Prints its seed. */
#include "check.h"
#include "chan.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

static unsigned long seed;

static sl_chan *make(size_t cap) {
  sl_chan *ch = NULL;
  CHECK(sl_chan_create(&ch, "sel", sizeof(uint64_t), cap) == 0);
  return ch;
}

static void done_with(sl_chan *ch) {
  sl_chan_drop_sender(ch);
  sl_chan_drop_receiver(ch);
}

static void select_rejects_bad_input(void) {
  sl_chan *a = make(4);
  uint64_t v = 0;
  size_t idx = 99;
  sl_select_op ok = {a, SL_SELECT_RECV, &v};
  sl_select_op many[SL_SELECT_MAX + 1];
  for (size_t i = 0; i < SL_SELECT_MAX + 1; i++)
    many[i] = ok;
  CHECK(sl_select(NULL, 1, 0, &idx) == SL_EINVAL);
  CHECK(sl_select(&ok, 0, 0, &idx) == SL_EINVAL);
  CHECK(sl_select(&ok, 1, 0, NULL) == SL_EINVAL);
  CHECK(sl_select(many, SL_SELECT_MAX + 1, 0, &idx) == SL_EINVAL);
  CHECK(sl_select(many, SL_SELECT_MAX, 0, &idx) == SL_EEMPTY); /* the limit itself is fine */
  sl_select_op bad[3][2] = {
      {ok, {NULL, SL_SELECT_RECV, &v}},
      {ok, {a, SL_SELECT_SEND, NULL}},
      {ok, {a, 7, &v}},
  };
  for (int i = 0; i < 3; i++)
    CHECK(sl_select(bad[i], 2, SL_FOREVER, &idx) == SL_EINVAL);
  CHECK(idx == 99); /* untouched on failure */
  done_with(a);
}

static void select_try_reports_empty_and_timeout_is_never_early(void) {
  sl_chan *a = make(1), *b = make(SL_CHAN_RENDEZVOUS), *c = make(SL_CHAN_UNBOUNDED);
  uint64_t v = 1, x, y;
  CHECK(sl_chan_send(a, &v) == 0); /* a is full: a send on it is not ready */
  sl_select_op ops[] = {{a, SL_SELECT_SEND, &v}, {b, SL_SELECT_RECV, &x}, {b, SL_SELECT_SEND, &v},
                        {c, SL_SELECT_RECV, &y}};
  size_t idx = 99;
  CHECK(sl_select(ops, 4, 0, &idx) == SL_EEMPTY);
  const int64_t timeout = 15 * 1000 * 1000;
  int64_t t0 = sl_now_ns();
  CHECK(sl_select(ops, 4, timeout, &idx) == SL_ETIMEDOUT);
  CHECK(sl_now_ns() - t0 >= timeout);
  CHECK(idx == 99);
  done_with(a);
  done_with(b);
  done_with(c);
}

static void select_performs_exactly_the_ready_operation(void) {
  sl_chan *a = make(2), *b = make(SL_CHAN_UNBOUNDED);
  uint64_t v = 42, got = 0, keep = 7;
  CHECK(sl_chan_send(b, &v) == 0);
  CHECK(sl_chan_send(a, &keep) == 0 && sl_chan_send(a, &keep) == 0); /* full */
  sl_select_op ops[] = {{a, SL_SELECT_SEND, &v}, {b, SL_SELECT_RECV, &got}};
  size_t idx = 99;
  CHECK(sl_select(ops, 2, SL_FOREVER, &idx) == 0 && idx == 1 && got == 42);
  CHECK(sl_chan_len(a) == 2 && sl_chan_len(b) == 0); /* the send did not happen */
  done_with(a);
  done_with(b);
}

static void select_picks_each_ready_operation_a_fair_share(void) {
  enum { N = 4, ROUNDS = 8000 };
  sl_chan *ch[N];
  uint64_t v[N];
  sl_select_op ops[N];
  for (int i = 0; i < N; i++) {
    ch[i] = make(SL_CHAN_UNBOUNDED);
    ops[i] = (sl_select_op){ch[i], SL_SELECT_RECV, &v[i]};
    for (uint64_t k = 0; k < ROUNDS; k++)
      CHECK(sl_chan_send(ch[i], &k) == 0);
  }
  size_t picked[N] = {0}, idx;
  for (int r = 0; r < ROUNDS; r++) {
    CHECK(sl_select(ops, N, 0, &idx) == 0 && idx < N);
    picked[idx]++;
  }
  for (int i = 0; i < N; i++) { /* each about 1/N; a starved one would be near 0 */
    fprintf(stderr, "  op %d picked %zu of %d\n", i, picked[i], ROUNDS);
    CHECK(picked[i] > ROUNDS / N / 2);
    done_with(ch[i]);
  }
}

static void select_on_closed_channels_drains_then_reports_closed(void) {
  sl_chan *a = make(4), *b = make(SL_CHAN_RENDEZVOUS), *c = make(4);
  uint64_t v = 5, x = 0, y = 0;
  CHECK(sl_chan_send(a, &v) == 0);
  CHECK(sl_chan_close(a) == 0);
  sl_select_op ops[] = {{a, SL_SELECT_RECV, &x}};
  size_t idx = 99;
  CHECK(sl_select(ops, 1, SL_FOREVER, &idx) == 0 && idx == 0 && x == 5); /* drains first */
  CHECK(sl_select(ops, 1, SL_FOREVER, &idx) == SL_ECLOSED && idx == 0);
  CHECK(sl_chan_close(b) == 0);
  sl_chan_drop_receiver(c); /* a send on c now fails at once */
  sl_select_op two[] = {{b, SL_SELECT_RECV, &y}, {c, SL_SELECT_SEND, &v}};
  bool seen[2] = {false, false};
  for (int i = 0; i < 200 && !(seen[0] && seen[1]); i++) {
    idx = 99;
    CHECK(sl_select(two, 2, 0, &idx) == SL_ECLOSED && idx < 2);
    seen[idx < 2 ? idx : 0] = true;
  }
  CHECK(seen[0] && seen[1]); /* both count as ready */
  done_with(a);
  done_with(b);
  sl_chan_drop_sender(c);
}

static void select_on_one_channel_sends_when_empty_and_receives_when_full(void) {
  sl_chan *a = make(1);
  uint64_t out = 9, in = 0;
  sl_select_op ops[] = {{a, SL_SELECT_SEND, &out}, {a, SL_SELECT_RECV, &in}};
  size_t idx;
  CHECK(sl_select(ops, 2, SL_FOREVER, &idx) == 0 && idx == 0 && sl_chan_len(a) == 1);
  CHECK(sl_select(ops, 2, SL_FOREVER, &idx) == 0 && idx == 1 && in == 9 && sl_chan_len(a) == 0);
  done_with(a);
}

/* ---- threads ------------------------------------------------------------------- */

typedef struct partner {
  sl_chan *full, *empty;
  int rounds;
} partner;

/* Each round, makes one of the two blocked operations possible: takes one
 * message from `full` or puts one into `empty`, alternately. */
static void *unblock_alternately(void *p) {
  partner *pt = p;
  uint64_t v = 1000;
  for (int r = 0; r < pt->rounds; r++)
    CHECK((r % 2 ? sl_chan_recv(pt->full, &v) : sl_chan_send(pt->empty, &v)) == 0);
  return NULL;
}

static void select_blocks_on_send_and_recv_mixed_until_one_is_possible(void) {
  for (size_t k = 0; k < 3; k++) {
    size_t cap = k == 0 ? 1 : k == 1 ? 3 : SL_CHAN_RENDEZVOUS;
    sl_chan *full = make(cap), *empty = make(cap);
    uint64_t v = 7, got;
    for (size_t i = 0; i < cap; i++)
      CHECK(sl_chan_send(full, &v) == 0);
    partner pt = {full, empty, 400};
    pthread_t th;
    pthread_create(&th, NULL, unblock_alternately, &pt);
    size_t sends = 0, recvs = 0;
    sl_select_op ops[] = {{full, SL_SELECT_SEND, &v}, {empty, SL_SELECT_RECV, &got}};
    for (int r = 0; r < pt.rounds; r++) {
      size_t idx = 99;
      CHECK(sl_select(ops, 2, SL_FOREVER, &idx) == 0 && idx < 2);
      if (idx == 0)
        sends++;
      else
        recvs++;
    }
    pthread_join(th, NULL);
    /* Exactly one operation per select, matching what the partner enabled. */
    CHECK(sends == (size_t)pt.rounds / 2 && recvs == (size_t)pt.rounds / 2);
    CHECK(sl_chan_len(full) == cap && sl_chan_len(empty) == 0);
    done_with(full);
    done_with(empty);
  }
}

typedef struct pairer {
  sl_chan *zero, *other;
  int kind;
  int rounds;
  uint64_t sum;
} pairer;

/* Selects over {zero, other}; `other` never becomes ready, so every round
 * pairs with the opposite selector on the rendezvous channel. */
static void *select_pair(void *p) {
  pairer *pr = p;
  for (int r = 0; r < pr->rounds; r++) {
    uint64_t v = (uint64_t)r, none = 0;
    sl_select_op ops[] = {{pr->zero, pr->kind, &v}, {pr->other, SL_SELECT_RECV, &none}};
    size_t idx = 99;
    CHECK(sl_select(ops, 2, SL_FOREVER, &idx) == 0 && idx == 0);
    pr->sum += v;
  }
  return NULL;
}

static void select_pairs_with_another_select_on_a_rendezvous_channel(void) {
  sl_chan *zero = make(SL_CHAN_RENDEZVOUS), *o1 = make(1), *o2 = make(1);
  pairer s = {zero, o1, SL_SELECT_SEND, 2000, 0}, r = {zero, o2, SL_SELECT_RECV, 2000, 0};
  pthread_t ts, tr;
  pthread_create(&ts, NULL, select_pair, &s);
  pthread_create(&tr, NULL, select_pair, &r);
  pthread_join(ts, NULL);
  pthread_join(tr, NULL);
  CHECK(s.sum == r.sum && r.sum == 2000ull * 1999 / 2);
  done_with(zero);
  done_with(o1);
  done_with(o2);
}

typedef struct hammer {
  sl_chan *ch;
  int kind;
  atomic_bool *stop;
  unsigned long ops;
} hammer;

/* Churns ch's wait queue: short timed waits that always time out. */
static void *hammer_queue(void *p) {
  hammer *h = p;
  uint64_t v = 3;
  while (!atomic_load(h->stop)) {
    int rc = h->kind == SL_SELECT_SEND ? sl_chan_send_timeout(h->ch, &v, 20000)
                                       : sl_chan_recv_timeout(h->ch, &v, 20000);
    CHECK(rc == SL_ETIMEDOUT);
    sl_chan_len(h->ch);
    h->ops++;
  }
  return NULL;
}

static void select_times_out_while_others_hammer_the_same_queues(void) {
  sl_chan *full = make(1), *empty = make(2);
  uint64_t v = 1, got;
  CHECK(sl_chan_send(full, &v) == 0);
  atomic_bool stop = false;
  enum { H = 6 };
  hammer h[H];
  pthread_t th[H];
  for (int i = 0; i < H; i++) {
    h[i] = (hammer){i % 2 ? full : empty, i % 2 ? SL_SELECT_SEND : SL_SELECT_RECV, &stop, 0};
    pthread_create(&th[i], NULL, hammer_queue, &h[i]);
  }
  sl_select_op ops[] = {{full, SL_SELECT_SEND, &v}, {empty, SL_SELECT_RECV, &got}};
  const int64_t timeout = 3 * 1000 * 1000;
  int64_t worst = 0;
  for (int r = 0; r < 30; r++) {
    size_t idx = 99;
    int64_t t0 = sl_now_ns();
    CHECK(sl_select(ops, 2, timeout, &idx) == SL_ETIMEDOUT);
    int64_t late = sl_now_ns() - t0 - timeout;
    CHECK(late >= 0);
    worst = late > worst ? late : worst;
  }
  atomic_store(&stop, true);
  unsigned long total = 0;
  for (int i = 0; i < H; i++) {
    pthread_join(th[i], NULL);
    total += h[i].ops;
  }
  fprintf(stderr, "  hammer ops %lu, worst lateness %.3f ms\n", total, (double)worst / 1e6);
  CHECK(sl_chan_len(full) == 1 && sl_chan_len(empty) == 0);
  done_with(full);
  done_with(empty);
}

static void select_reports_an_unbounded_send_that_cannot_allocate(void) {
  sl_chan *a = make(1), *u = make(SL_CHAN_UNBOUNDED);
  uint64_t v = 0, keep = 1;
  CHECK(sl_chan_send(a, &keep) == 0); /* full: the send on a never happens */
  for (v = 0; v < 30; v++) /* the next send takes a block's last slot: it allocates */
    CHECK(sl_chan_send(u, &v) == 0);
  sl_select_op ops[] = {{a, SL_SELECT_SEND, &v}, {u, SL_SELECT_SEND, &v}};
  size_t idx = 99;
  sl_test_fail_alloc_after(0);
  int rc = sl_select(ops, 2, SL_FOREVER, &idx);
  long failed = sl_test_fail_alloc_after(-1);
  CHECK(rc == SL_ENOMEM && idx == 1 && failed == 1 && sl_chan_len(u) == 30);
  CHECK(sl_select(ops, 2, SL_FOREVER, &idx) == 0 && idx == 1 && sl_chan_len(u) == 31);
  done_with(a);
  done_with(u);
}

/* ---- stress: select on both ends over all flavours ---------------------------- */

enum { SP = 3, SC = 3, NCH = 3, PER = 4000 };

typedef struct sstress {
  sl_chan *ch[NCH];
  atomic_int bad;
  atomic_ullong count[SP], sum[SP];
} sstress;

typedef struct sworker {
  sstress *s;
  unsigned id;
} sworker;

/* Producers select a send over all channels; each message goes to one. */
static void *select_producer(void *p) {
  sworker *w = p;
  for (uint64_t i = 0; i < PER; i++) {
    uint64_t v = (uint64_t)w->id << 32 | i;
    sl_select_op ops[NCH];
    for (int c = 0; c < NCH; c++)
      ops[c] = (sl_select_op){w->s->ch[c], SL_SELECT_SEND, &v};
    size_t idx;
    int rc = sl_select(ops, NCH, i % 5 == 0 ? 50000 : SL_FOREVER, &idx);
    if (rc == SL_ETIMEDOUT) {
      i--; /* send the same value again */
      continue;
    }
    if (rc != 0)
      atomic_fetch_add(&w->s->bad, 1);
  }
  for (int c = 0; c < NCH; c++)
    sl_chan_drop_sender(w->s->ch[c]);
  return NULL;
}

static void *select_consumer(void *p) {
  sworker *w = p;
  uint64_t v[NCH];
  sl_select_op ops[NCH];
  size_t open = NCH, idx;
  for (int c = 0; c < NCH; c++)
    ops[c] = (sl_select_op){w->s->ch[c], SL_SELECT_RECV, &v[c]};
  while (open > 0) {
    int rc = sl_select(ops, open, w->id % 2 ? 30000 : SL_FOREVER, &idx);
    if (rc == SL_ETIMEDOUT)
      continue;
    if (rc == SL_ECLOSED) {
      ops[idx] = ops[--open];
      continue;
    }
    if (rc != 0 || idx >= open) {
      atomic_fetch_add(&w->s->bad, 1);
      break;
    }
    uint64_t m = *(uint64_t *)ops[idx].msg, prod = m >> 32;
    if (prod >= SP) {
      atomic_fetch_add(&w->s->bad, 1);
      continue;
    }
    atomic_fetch_add(&w->s->count[prod], 1);
    atomic_fetch_add(&w->s->sum[prod], m & 0xffffffffu);
  }
  for (int c = 0; c < NCH; c++)
    sl_chan_drop_receiver(w->s->ch[c]);
  return NULL;
}

static void select_stress_delivers_each_message_exactly_once(void) {
  double end = check_now() + 1.5;
  int rounds = 0;
  while (check_now() < end || rounds < 2) {
    sstress s = {.bad = 0};
    const size_t caps[NCH] = {1 + (size_t)(seed + rounds) % 5, SL_CHAN_UNBOUNDED, SL_CHAN_RENDEZVOUS};
    for (int c = 0; c < NCH; c++) {
      s.ch[c] = make(caps[(c + rounds) % NCH]);
      for (int i = 0; i < SP; i++)
        CHECK(sl_chan_add_sender(s.ch[c]) == 0);
      for (int i = 0; i < SC; i++)
        CHECK(sl_chan_add_receiver(s.ch[c]) == 0);
      done_with(s.ch[c]);
    }
    sworker w[SP + SC];
    pthread_t th[SP + SC];
    for (unsigned i = 0; i < SP + SC; i++) {
      w[i] = (sworker){&s, i < SP ? i : i - SP};
      pthread_create(&th[i], NULL, i < SP ? select_producer : select_consumer, &w[i]);
    }
    for (unsigned i = 0; i < SP + SC; i++)
      pthread_join(th[i], NULL);
    CHECK(atomic_load(&s.bad) == 0);
    for (int p = 0; p < SP; p++)
      CHECK(atomic_load(&s.count[p]) == PER && atomic_load(&s.sum[p]) == (uint64_t)PER * (PER - 1) / 2);
    rounds++;
  }
  fprintf(stderr, "  %d rounds\n", rounds);
}

int main(void) {
  seed = check_seed("select_test");
  RUN(select_rejects_bad_input);
  RUN(select_try_reports_empty_and_timeout_is_never_early);
  RUN(select_performs_exactly_the_ready_operation);
  RUN(select_picks_each_ready_operation_a_fair_share);
  RUN(select_on_closed_channels_drains_then_reports_closed);
  RUN(select_on_one_channel_sends_when_empty_and_receives_when_full);
  RUN(select_blocks_on_send_and_recv_mixed_until_one_is_possible);
  RUN(select_pairs_with_another_select_on_a_rendezvous_channel);
  RUN(select_times_out_while_others_hammer_the_same_queues);
  RUN(select_reports_an_unbounded_send_that_cannot_allocate);
  RUN(select_stress_delivers_each_message_exactly_once);
  return check_done("select_test");
}
