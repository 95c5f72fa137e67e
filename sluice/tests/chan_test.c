/* chan_test.c: claims about sluice channels (src/chan*.c): exactly-once
 * delivery and per-producer order under MPMC stress, close and disconnect
 * semantics (also racing with blocked threads), timeouts never early,
 * rendezvous handoff, bad input, allocation failure, introspection and the
 * live-channel registry. Stress cases run for about a second each, with
 * more threads than cores, and print their seed. */
#include "check.h"
#include "chan.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

static unsigned long seed;
static _Thread_local uint64_t rng_state;

static uint64_t rnd(void) {
  uint64_t x = rng_state ? rng_state : (rng_state = seed * 0x9E3779B97F4A7C15ull + 1);
  x ^= x << 13, x ^= x >> 7, x ^= x << 17;
  return rng_state = x;
}

static void seed_thread(uint64_t k) { rng_state = (seed + 1) * 0x9E3779B97F4A7C15ull ^ (k << 17); }

/* Capacities every flavour-generic case runs over. */
static const size_t caps[] = {1, 2, 3, 64, SL_CHAN_UNBOUNDED, SL_CHAN_RENDEZVOUS};
#define NCAPS (sizeof caps / sizeof caps[0])

/* ---- bad input ------------------------------------------------------------- */

static void chan_create_rejects_bad_sizes(void) {
  sl_chan *ch = (sl_chan *)0x1;
  CHECK(sl_chan_create(NULL, "x", 8, 4) == SL_EINVAL);
  CHECK(sl_chan_create(&ch, "x", 0, 4) == SL_EINVAL);
  CHECK(sl_chan_create(&ch, "x", SL_CHAN_MAX_ELEM + 1, 4) == SL_EINVAL);
  CHECK(sl_chan_create(&ch, "x", 8, SL_CHAN_MAX_CAP + 1) == SL_EINVAL);
  CHECK(ch == (sl_chan *)0x1); /* untouched on failure */
  CHECK(sl_chan_create(&ch, "x", SL_CHAN_MAX_ELEM, 2) == 0);
  sl_chan_drop_sender(ch);
  sl_chan_drop_receiver(ch);
}

static void chan_null_channel_or_msg_gives_einval(void) {
  uint64_t v = 1;
  CHECK(sl_chan_send(NULL, &v) == SL_EINVAL);
  CHECK(sl_chan_try_send(NULL, &v) == SL_EINVAL);
  CHECK(sl_chan_send_timeout(NULL, &v, 1000) == SL_EINVAL);
  CHECK(sl_chan_recv(NULL, &v) == SL_EINVAL);
  CHECK(sl_chan_try_recv(NULL, &v) == SL_EINVAL);
  CHECK(sl_chan_recv_timeout(NULL, &v, 1000) == SL_EINVAL);
  CHECK(sl_chan_add_sender(NULL) == SL_EINVAL);
  CHECK(sl_chan_add_receiver(NULL) == SL_EINVAL);
  CHECK(sl_chan_close(NULL) == SL_EINVAL);
  sl_chan_drop_sender(NULL);
  sl_chan_drop_receiver(NULL);
  CHECK(sl_chan_name(NULL) == NULL && sl_chan_len(NULL) == 0 && sl_chan_capacity(NULL) == 0);
  CHECK(sl_chan_senders(NULL) == 0 && sl_chan_receivers(NULL) == 0 && sl_chan_is_closed(NULL));
  sl_chan *ch;
  CHECK(sl_chan_create(&ch, "x", 8, 4) == 0);
  CHECK(sl_chan_send(ch, NULL) == SL_EINVAL);
  CHECK(sl_chan_recv(ch, NULL) == SL_EINVAL);
  CHECK(sl_chan_len(ch) == 0);
  sl_chan_drop_sender(ch);
  sl_chan_drop_receiver(ch);
}

static void chan_handle_cannot_come_back_and_extra_drop_is_ignored(void) {
  sl_chan *ch;
  CHECK(sl_chan_create(&ch, "x", 8, 4) == 0);
  sl_chan_drop_sender(ch);
  CHECK(sl_chan_add_sender(ch) == SL_EINVAL);
  sl_chan_drop_sender(ch); /* count already 0: ignored, channel still alive */
  CHECK(sl_chan_senders(ch) == 0 && sl_chan_receivers(ch) == 1);
  CHECK(sl_chan_add_receiver(ch) == 0 && sl_chan_receivers(ch) == 2);
  sl_chan_drop_receiver(ch);
  sl_chan_drop_receiver(ch); /* frees: ASan reports a leak otherwise */
}

/* ---- single-threaded semantics --------------------------------------------- */

static void chan_try_ops_report_full_and_empty_in_order(void) {
  for (size_t k = 0; k < NCAPS; k++) {
    sl_chan *ch;
    size_t cap = caps[k];
    CHECK(sl_chan_create(&ch, "t", sizeof(uint64_t), cap) == 0);
    size_t fill = cap == SL_CHAN_UNBOUNDED ? 100 : cap;
    for (uint64_t i = 0; i < fill; i++)
      CHECK(sl_chan_try_send(ch, &i) == 0);
    uint64_t v = 99;
    if (cap != SL_CHAN_UNBOUNDED)
      CHECK(sl_chan_try_send(ch, &v) == SL_EFULL);
    CHECK(sl_chan_len(ch) == fill);
    CHECK(sl_chan_capacity(ch) == cap);
    for (uint64_t i = 0; i < fill; i++)
      CHECK(sl_chan_try_recv(ch, &v) == 0 && v == i);
    CHECK(sl_chan_try_recv(ch, &v) == SL_EEMPTY);
    CHECK(sl_chan_len(ch) == 0);
    sl_chan_drop_sender(ch);
    sl_chan_drop_receiver(ch);
  }
}

static void chan_messages_of_any_size_round_trip(void) {
  static const size_t sizes[] = {1, 3, 8, 24, 4097, SL_CHAN_MAX_ELEM};
  unsigned char *in = malloc(SL_CHAN_MAX_ELEM), *out = malloc(SL_CHAN_MAX_ELEM);
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    for (size_t k = 0; k < NCAPS; k++) {
      if (caps[k] == SL_CHAN_RENDEZVOUS)
        continue; /* needs two threads; see chan_rendezvous_* */
      sl_chan *ch;
      CHECK(sl_chan_create(&ch, "sz", sizes[s], caps[k]) == 0);
      for (int round = 0; round < 40; round++) { /* crosses list blocks and ring laps */
        for (size_t i = 0; i < sizes[s]; i++)
          in[i] = (unsigned char)(i * 7 + round + s);
        CHECK(sl_chan_send(ch, in) == 0);
        memset(out, 0, sizes[s]);
        CHECK(sl_chan_recv(ch, out) == 0);
        CHECK(memcmp(in, out, sizes[s]) == 0);
      }
      sl_chan_drop_sender(ch);
      sl_chan_drop_receiver(ch);
    }
  }
  free(in);
  free(out);
}

static void chan_drains_after_close_then_reports_closed(void) {
  for (size_t k = 0; k < NCAPS; k++) {
    if (caps[k] == SL_CHAN_RENDEZVOUS)
      continue; /* holds nothing to drain */
    for (int by_drop = 0; by_drop < 2; by_drop++) {
      sl_chan *ch;
      CHECK(sl_chan_create(&ch, "t", sizeof(uint64_t), caps[k]) == 0);
      uint64_t v;
      for (v = 0; v < 1; v++)
        CHECK(sl_chan_send(ch, &v) == 0);
      if (by_drop)
        sl_chan_drop_sender(ch);
      else
        CHECK(sl_chan_close(ch) == 0 && sl_chan_close(ch) == 0); /* idempotent */
      CHECK(sl_chan_is_closed(ch));
      if (!by_drop)
        CHECK(sl_chan_send(ch, &v) == SL_ECLOSED && sl_chan_try_send(ch, &v) == SL_ECLOSED);
      CHECK(sl_chan_recv(ch, &v) == 0 && v == 0);
      v = 77;
      CHECK(sl_chan_recv(ch, &v) == SL_ECLOSED && v == 77);
      CHECK(sl_chan_try_recv(ch, &v) == SL_ECLOSED);
      CHECK(sl_chan_recv_timeout(ch, &v, 1000000) == SL_ECLOSED);
      if (!by_drop)
        sl_chan_drop_sender(ch);
      sl_chan_drop_receiver(ch);
    }
  }
}

static void chan_send_fails_once_receivers_are_gone(void) {
  for (size_t k = 0; k < NCAPS; k++) {
    sl_chan *ch;
    CHECK(sl_chan_create(&ch, "t", sizeof(uint64_t), caps[k]) == 0);
    uint64_t v = 1;
    if (caps[k] != SL_CHAN_RENDEZVOUS)
      CHECK(sl_chan_send(ch, &v) == 0); /* queued, then dropped with the receiver */
    sl_chan_drop_receiver(ch);
    CHECK(sl_chan_send(ch, &v) == SL_ECLOSED);
    CHECK(sl_chan_try_send(ch, &v) == SL_ECLOSED);
    CHECK(sl_chan_send_timeout(ch, &v, SL_FOREVER) == SL_ECLOSED);
    sl_chan_drop_sender(ch);
  }
}

static void chan_timeouts_never_return_early(void) {
  for (size_t k = 0; k < NCAPS; k++) {
    sl_chan *ch;
    CHECK(sl_chan_create(&ch, "t", sizeof(uint64_t), caps[k]) == 0);
    uint64_t v = 5;
    const int64_t timeout = 20 * 1000 * 1000;
    int64_t t0 = sl_now_ns();
    CHECK(sl_chan_recv_timeout(ch, &v, timeout) == SL_ETIMEDOUT);
    int64_t late = sl_now_ns() - t0 - timeout;
    CHECK(late >= 0);
    if (caps[k] != SL_CHAN_UNBOUNDED) {
      for (size_t i = 0; i < caps[k]; i++)
        CHECK(sl_chan_send(ch, &v) == 0);
      t0 = sl_now_ns();
      CHECK(sl_chan_send_timeout(ch, &v, timeout) == SL_ETIMEDOUT);
      CHECK(sl_now_ns() - t0 >= timeout);
      CHECK(sl_chan_len(ch) == caps[k]); /* the timed-out message is not in */
    }
    CHECK(sl_chan_recv_timeout(ch, &v, 0) == (caps[k] >= 1 && caps[k] != SL_CHAN_UNBOUNDED ? 0 : SL_EEMPTY));
    fprintf(stderr, "  cap %zu: recv timeout late by %.3f ms\n", caps[k], (double)late / 1e6);
    sl_chan_drop_sender(ch);
    sl_chan_drop_receiver(ch);
  }
}

static void chan_introspection_reports_name_and_counts(void) {
  sl_chan *ch;
  CHECK(sl_chan_create(&ch, NULL, 4, 8) == 0);
  CHECK(strcmp(sl_chan_name(ch), "chan") == 0);
  CHECK(sl_chan_add_sender(ch) == 0 && sl_chan_add_sender(ch) == 0 && sl_chan_add_receiver(ch) == 0);
  CHECK(sl_chan_senders(ch) == 3 && sl_chan_receivers(ch) == 2 && !sl_chan_is_closed(ch));
  for (int i = 0; i < 3; i++)
    sl_chan_drop_sender(ch);
  CHECK(sl_chan_is_closed(ch) && sl_chan_senders(ch) == 0);
  sl_chan_drop_receiver(ch);
  sl_chan_drop_receiver(ch);
  char longname[200];
  memset(longname, 'n', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  CHECK(sl_chan_create(&ch, longname, 4, SL_CHAN_RENDEZVOUS) == 0);
  CHECK(strlen(sl_chan_name(ch)) == 63 && sl_chan_len(ch) == 0 && sl_chan_capacity(ch) == 0);
  sl_chan_drop_sender(ch);
  sl_chan_drop_receiver(ch);
}

static void count_named(sl_chan *ch, void *arg) {
  if (strncmp(sl_chan_name(ch), "registry-", 9) == 0)
    ++*(int *)arg;
}

static void chan_foreach_lists_exactly_the_live_channels(void) {
  sl_chan *a, *b, *c;
  int n = 0;
  CHECK(sl_chan_create(&a, "registry-a", 1, 1) == 0);
  CHECK(sl_chan_create(&b, "registry-b", 1, SL_CHAN_UNBOUNDED) == 0);
  CHECK(sl_chan_create(&c, "registry-c", 1, SL_CHAN_RENDEZVOUS) == 0);
  sl__chan_foreach(count_named, &n);
  CHECK(n == 3);
  sl_chan_drop_sender(b);
  sl_chan_drop_receiver(b);
  n = 0;
  sl__chan_foreach(count_named, &n);
  CHECK(n == 2);
  sl_chan *all[] = {a, c};
  for (int i = 0; i < 2; i++) {
    sl_chan_drop_sender(all[i]);
    sl_chan_drop_receiver(all[i]);
  }
  n = 0;
  sl__chan_foreach(count_named, &n);
  CHECK(n == 0);
}

static void chan_completed_ops_count_progress(void) {
  sl_chan *ch;
  CHECK(sl_chan_create(&ch, "p", 8, 4) == 0);
  sl__thread *t = sl__self();
  uint64_t before = atomic_load_explicit(&t->progress, memory_order_relaxed), v = 0;
  CHECK(sl_chan_send(ch, &v) == 0 && sl_chan_try_send(ch, &v) == 0);
  CHECK(sl_chan_recv(ch, &v) == 0 && sl_chan_try_recv(ch, &v) == 0);
  CHECK(sl_chan_try_recv(ch, &v) == SL_EEMPTY); /* a failure is no progress */
  CHECK(atomic_load_explicit(&t->progress, memory_order_relaxed) == before + 4);
  sl_chan_drop_sender(ch);
  sl_chan_drop_receiver(ch);
}

/* ---- allocation failure ----------------------------------------------------- */

static void chan_alloc_failure_is_clean(void) {
  for (size_t k = 0; k < NCAPS; k++) {
    long n = 0, failed = 0;
    sl_chan *ch = NULL;
    for (;; n++) {
      sl_test_fail_alloc_after(n);
      int rc = sl_chan_create(&ch, "oom", sizeof(uint64_t), caps[k]);
      failed += sl_test_fail_alloc_after(-1);
      if (rc == 0)
        break;
      CHECK(rc == SL_ENOMEM);
    }
    CHECK(failed == n && n >= 1); /* every attempt before success failed once */
    /* Unbounded sends allocate one block per 31 messages: fail each in turn. */
    uint64_t sent = 0, got = 0, v, sum_sent = 0, sum_got = 0;
    for (uint64_t i = 0; i < 200; i++) {
      sl_test_fail_alloc_after(i % 3 == 0 ? 0 : -1);
      int rc = sl_chan_try_send(ch, &i);
      sl_test_fail_alloc_after(-1);
      CHECK(rc == 0 || rc == SL_ENOMEM || rc == SL_EFULL);
      CHECK(rc != SL_ENOMEM || caps[k] == SL_CHAN_UNBOUNDED);
      if (rc == 0)
        sent++, sum_sent += i;
      if (rc == 0 || rc == SL_EFULL)
        while (sl_chan_try_recv(ch, &v) == 0)
          got++, sum_got += v;
    }
    CHECK(sent == got && sum_sent == sum_got);
    CHECK(caps[k] == SL_CHAN_RENDEZVOUS || sent > 100);
    sl_chan_drop_sender(ch);
    sl_chan_drop_receiver(ch);
  }
}

/* ---- threads ---------------------------------------------------------------- */

typedef struct blocker {
  sl_chan *ch;
  int kind;
  int rc;
  atomic_int *started;
} blocker;

static void *block_until_closed(void *p) {
  blocker *b = p;
  uint64_t v = 0;
  atomic_fetch_add(b->started, 1);
  do
    b->rc = b->kind == SL_SELECT_SEND ? sl_chan_send(b->ch, &v) : sl_chan_recv(b->ch, &v);
  while (b->rc == 0);
  return NULL;
}

/* Is some thread parked in (op, ch)? Via the records sl__wait writes. */
typedef struct seen {
  int op;
  const void *obj;
  int count;
} seen;

static void look(sl__thread *t, void *arg) {
  seen *s = arg;
  if (atomic_load(&t->op) == s->op && atomic_load(&t->obj) == s->obj)
    s->count++;
}

static int parked_in(int op, const void *obj) {
  seen s = {op, obj, 0};
  sl__threads_foreach(look, &s);
  return s.count;
}

static void chan_close_wakes_every_blocked_sender_and_receiver(void) {
  for (size_t k = 0; k < NCAPS; k++) {
    enum { N = 3 };
    sl_chan *full, *empty;
    CHECK(sl_chan_create(&full, "full", 8, caps[k]) == 0);
    CHECK(sl_chan_create(&empty, "empty", 8, caps[k]) == 0);
    atomic_int started = 0;
    blocker b[2 * N];
    pthread_t th[2 * N];
    int nsend = caps[k] == SL_CHAN_UNBOUNDED ? 0 : N; /* unbounded sends never block */
    for (int i = 0; i < 2 * N; i++) {
      b[i] = (blocker){i < N ? full : empty, i < N ? SL_SELECT_SEND : SL_SELECT_RECV, 1, &started};
      if (i >= N || nsend > 0)
        pthread_create(&th[i], NULL, block_until_closed, &b[i]);
    }
    /* Wait (yielding, not sleeping) until they are parked, so the close
     * really races with parked waiters, as the records show. */
    while (parked_in(SL_OP_RECV, empty) < N || parked_in(SL_OP_SEND, full) < nsend)
      sched_yield();
    CHECK(sl_chan_close(full) == 0 && sl_chan_close(empty) == 0);
    sl_chan_drop_receiver(full); /* senders on a full channel: receivers gone too */
    for (int i = 0; i < 2 * N; i++)
      if (i >= N || nsend > 0) {
        pthread_join(th[i], NULL); /* returned at all: nobody hangs */
        CHECK(b[i].rc == SL_ECLOSED);
      }
    sl_chan_drop_sender(full);
    sl_chan_drop_sender(empty);
    sl_chan_drop_receiver(empty);
  }
}

/* Close races with busy senders and receivers; every send that returned 0
 * is received (drain), and everyone returns. */
typedef struct racer {
  sl_chan *ch;
  bool sender;
  uint64_t ok, sum;
} racer;

static void *race(void *p) {
  racer *r = p;
  uint64_t v = (uint64_t)(uintptr_t)r & 0xffff;
  for (;;) {
    int rc = r->sender ? sl_chan_send(r->ch, &v) : sl_chan_recv(r->ch, &v);
    if (rc != 0) {
      if (rc != SL_ECLOSED)
        r->ok = UINT64_MAX / 2; /* makes the totals mismatch */
      break;
    }
    r->ok++, r->sum += v;
    if (r->sender)
      v++;
  }
  if (r->sender)
    sl_chan_drop_sender(r->ch);
  else
    sl_chan_drop_receiver(r->ch);
  return NULL;
}

static void chan_close_races_with_senders_and_receivers(void) {
  double end = check_now() + 1.0;
  int rounds = 0;
  while (check_now() < end || rounds < (int)NCAPS) {
    size_t cap = caps[rounds++ % NCAPS];
    enum { N = 6 };
    sl_chan *ch;
    CHECK(sl_chan_create(&ch, "race", 8, cap) == 0);
    racer r[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
      r[i] = (racer){ch, i % 2 == 0, 0, 0};
      CHECK((r[i].sender ? sl_chan_add_sender(ch) : sl_chan_add_receiver(ch)) == 0);
      pthread_create(&th[i], NULL, race, &r[i]);
    }
    for (uint64_t spin = rnd() % 20000; spin > 0; spin--)
      sl__cpu_relax();
    CHECK(sl_chan_close(ch) == 0);
    sl_chan_drop_sender(ch);
    sl_chan_drop_receiver(ch);
    uint64_t sent = 0, got = 0, ssum = 0, gsum = 0;
    for (int i = 0; i < N; i++) {
      pthread_join(th[i], NULL);
      if (r[i].sender)
        sent += r[i].ok, ssum += r[i].sum;
      else
        got += r[i].ok, gsum += r[i].sum;
    }
    CHECK(sent == got && ssum == gsum);
  }
  fprintf(stderr, "  %d rounds\n", rounds);
}

static void *drop_one(void *p) {
  sl_chan *ch = p;
  uint64_t v = 1;
  if (rnd() & 1) {
    sl_chan_try_send(ch, &v); /* use it a little first; may be closed already */
    sl_chan_drop_sender(ch);
  } else {
    sl_chan_try_recv(ch, &v);
    sl_chan_drop_receiver(ch);
  }
  return NULL;
}

/* The channel is freed once, by whichever thread drops last: ASan sees a
 * double free or a leak otherwise; TSan sees a racy free. */
static void chan_handles_dropped_from_many_threads_free_once(void) {
  for (int round = 0; round < 200; round++) {
    enum { N = 8 };
    sl_chan *ch;
    CHECK(sl_chan_create(&ch, "drops", 8, caps[round % NCAPS]) == 0);
    pthread_t th[N];
    /* N senders and N receivers; each thread drops one of its choice. */
    for (int i = 0; i < N; i++)
      CHECK(sl_chan_add_sender(ch) == 0 && sl_chan_add_receiver(ch) == 0);
    sl_chan_drop_sender(ch);
    sl_chan_drop_receiver(ch);
    for (int i = 0; i < N; i++)
      pthread_create(&th[i], NULL, drop_one, ch);
    for (int i = 0; i < N; i++)
      pthread_join(th[i], NULL);
    /* Each thread dropped one handle; drop the N it did not, from here. */
    size_t s = sl_chan_senders(ch), r = sl_chan_receivers(ch);
    CHECK(s + r == N);
    for (size_t i = 0; i < s; i++)
      sl_chan_drop_sender(ch);
    for (size_t i = 0; i < r; i++)
      sl_chan_drop_receiver(ch);
  }
}

/* ---- rendezvous ---------------------------------------------------------------- */

typedef struct handoff {
  sl_chan *ch;
  atomic_ulong returned; /* sends that have returned */
  unsigned long n;
} handoff;

static void *rendezvous_sender(void *p) {
  handoff *h = p;
  for (unsigned long i = 0; i < h->n; i++) {
    CHECK(sl_chan_send(h->ch, &i) == 0);
    atomic_store(&h->returned, i + 1);
  }
  return NULL;
}

static void chan_rendezvous_send_returns_only_after_its_value_is_taken(void) {
  handoff h = {.n = 2000};
  CHECK(sl_chan_create(&h.ch, "zero", sizeof(unsigned long), SL_CHAN_RENDEZVOUS) == 0);
  unsigned long v = 0;
  CHECK(sl_chan_try_send(h.ch, &v) == SL_EFULL); /* nobody receiving */
  CHECK(sl_chan_try_recv(h.ch, &v) == SL_EEMPTY);
  pthread_t th;
  pthread_create(&th, NULL, rendezvous_sender, &h);
  for (unsigned long i = 0; i < h.n; i++) {
    CHECK(atomic_load(&h.returned) <= i); /* send i cannot have returned yet */
    if (i % 2)
      CHECK(sl_chan_recv(h.ch, &v) == 0 && v == i);
    else {
      int rc;
      while ((rc = sl_chan_try_recv(h.ch, &v)) == SL_EEMPTY)
        sched_yield();
      CHECK(rc == 0 && v == i);
    }
  }
  pthread_join(th, NULL);
  sl_chan_drop_sender(h.ch);
  sl_chan_drop_receiver(h.ch);
}

/* ---- MPMC stress ---------------------------------------------------------------- */

enum { MAXP = 4, PER_PRODUCER = 3000 };

typedef struct stress {
  sl_chan *ch;
  unsigned producers;
  bool one_consumer;
  atomic_int bad;
} stress;

typedef struct worker {
  stress *s;
  unsigned id;
  uint64_t count[MAXP], sum[MAXP];
} worker;

static void *stress_producer(void *p) {
  worker *w = p;
  seed_thread(w->id + 100);
  for (uint64_t i = 0; i < PER_PRODUCER; i++) {
    uint64_t v = (uint64_t)w->id << 32 | i;
    int rc;
    switch (rnd() % 3) { /* every send flavour: blocking, try, timeout */
    case 0: rc = sl_chan_send(w->s->ch, &v); break;
    case 1:
      /* On a rendezvous channel a try succeeds only while a receiver is
       * parked; retrying it in a loop would mostly measure the scheduler. */
      rc = sl_chan_try_send(w->s->ch, &v);
      while (rc == SL_EFULL) {
        if (sl_chan_capacity(w->s->ch) == SL_CHAN_RENDEZVOUS) {
          rc = sl_chan_send(w->s->ch, &v);
        } else {
          sched_yield();
          rc = sl_chan_try_send(w->s->ch, &v);
        }
      }
      break;
    default:
      while ((rc = sl_chan_send_timeout(w->s->ch, &v, 20000)) == SL_ETIMEDOUT)
        ;
    }
    if (rc != 0)
      atomic_fetch_add(&w->s->bad, 1);
  }
  sl_chan_drop_sender(w->s->ch);
  return NULL;
}

static void *stress_consumer(void *p) {
  worker *w = p;
  seed_thread(w->id + 200);
  uint64_t next[MAXP] = {0}, v;
  /* Rendezvous: two try-loops never meet (as in Go), so consumers there
   * never use try_recv; they block or wait with a timeout. */
  bool zero = sl_chan_capacity(w->s->ch) == SL_CHAN_RENDEZVOUS;
  for (;;) {
    int rc;
    switch (zero ? rnd() % 2 * 2 : rnd() % 3) {
    case 0: rc = sl_chan_recv(w->s->ch, &v); break;
    case 1:
      while ((rc = sl_chan_try_recv(w->s->ch, &v)) == SL_EEMPTY)
        sched_yield();
      break;
    default:
      while ((rc = sl_chan_recv_timeout(w->s->ch, &v, 20000)) == SL_ETIMEDOUT)
        ;
    }
    if (rc != 0) {
      if (rc != SL_ECLOSED)
        atomic_fetch_add(&w->s->bad, 1);
      break;
    }
    unsigned prod = (unsigned)(v >> 32);
    uint64_t seq = v & 0xffffffffu;
    if (prod >= w->s->producers) {
      atomic_fetch_add(&w->s->bad, 1);
      continue;
    }
    if (w->s->one_consumer && seq != next[prod]++)
      atomic_fetch_add(&w->s->bad, 1); /* per-producer order broken */
    w->count[prod]++, w->sum[prod] += seq;
  }
  sl_chan_drop_receiver(w->s->ch);
  return NULL;
}

static void chan_mpmc_stress_delivers_each_message_exactly_once(void) {
  double end = check_now() + 2.0;
  int rounds = 0;
  seed_thread(1);
  while (check_now() < end || rounds < (int)NCAPS) {
    stress s = {.producers = 1 + (unsigned)(rnd() % MAXP)};
    unsigned consumers = 1 + (unsigned)(rnd() % 4);
    s.one_consumer = consumers == 1;
    size_t cap = rounds < (int)NCAPS ? caps[rounds] : caps[rnd() % NCAPS];
    if (cap == 64)
      cap = 1 + rnd() % 100;
    rounds++;
    CHECK(sl_chan_create(&s.ch, "stress", sizeof(uint64_t), cap) == 0);
    double t0 = check_now();
    worker w[2 * MAXP];
    pthread_t th[2 * MAXP];
    unsigned nw = s.producers + consumers;
    for (unsigned i = 0; i < nw; i++) {
      w[i] = (worker){.s = &s, .id = i < s.producers ? i : i - s.producers};
      CHECK((i < s.producers ? sl_chan_add_sender(s.ch) : sl_chan_add_receiver(s.ch)) == 0);
    }
    sl_chan_drop_sender(s.ch);
    sl_chan_drop_receiver(s.ch);
    for (unsigned i = 0; i < nw; i++)
      pthread_create(&th[i], NULL, i < s.producers ? stress_producer : stress_consumer, &w[i]);
    for (unsigned i = 0; i < nw; i++)
      pthread_join(th[i], NULL);
    if (check_now() - t0 > 0.5) /* worth knowing, not a failure */
      fprintf(stderr, "  slow round: cap %zu, %u producers, %u consumers: %.2fs\n", cap,
              s.producers, consumers, check_now() - t0);
    CHECK(atomic_load(&s.bad) == 0);
    for (unsigned p = 0; p < s.producers; p++) {
      uint64_t count = 0, sum = 0;
      for (unsigned i = s.producers; i < nw; i++)
        count += w[i].count[p], sum += w[i].sum[p];
      CHECK(count == PER_PRODUCER);
      CHECK(sum == (uint64_t)PER_PRODUCER * (PER_PRODUCER - 1) / 2);
    }
  }
  fprintf(stderr, "  %d rounds\n", rounds);
}

int main(void) {
  seed = check_seed("chan_test");
  RUN(chan_create_rejects_bad_sizes);
  RUN(chan_null_channel_or_msg_gives_einval);
  RUN(chan_handle_cannot_come_back_and_extra_drop_is_ignored);
  RUN(chan_try_ops_report_full_and_empty_in_order);
  RUN(chan_messages_of_any_size_round_trip);
  RUN(chan_drains_after_close_then_reports_closed);
  RUN(chan_send_fails_once_receivers_are_gone);
  RUN(chan_timeouts_never_return_early);
  RUN(chan_introspection_reports_name_and_counts);
  RUN(chan_foreach_lists_exactly_the_live_channels);
  RUN(chan_completed_ops_count_progress);
  RUN(chan_alloc_failure_is_clean);
  RUN(chan_close_wakes_every_blocked_sender_and_receiver);
  RUN(chan_close_races_with_senders_and_receivers);
  RUN(chan_handles_dropped_from_many_threads_free_once);
  RUN(chan_rendezvous_send_returns_only_after_its_value_is_taken);
  RUN(chan_mpmc_stress_delivers_each_message_exactly_once);
  return check_done("chan_test");
}
