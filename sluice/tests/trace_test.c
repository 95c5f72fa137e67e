/* trace_test.c: the scheduler's trace hook (sl_trace_set). A worker that
 * blocks on a full channel traces the channel wait and the block around it,
 * on its own thread, with its pool and channel; a pool that starts a spare
 * for it, or cannot because it is at its cap, says so; idle workers trace
 * idling, parking and going back to work; every thread's events pair up
 * (park/unpark, block/unblock, chan-wait/chan-done); a worker woken for a
 * job parks again when idle; and with the hook removed nothing is called. */
#include "check.h"
#include "sluice.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#define MAX_EVENTS 200000

typedef struct event {
  sl_trace_event ev;
  const sl_pool *pool;
  const void *obj;
  pthread_t thread;
} event;

static event events[MAX_EVENTS];
static _Atomic unsigned n_events;
static _Atomic unsigned seen[SL_TRACE_CAP + 1]; /* per event: what waiters poll */

static void record(sl_trace_event ev, const sl_pool *pool, const void *obj, void *arg) {
  (void)arg;
  unsigned i = atomic_fetch_add(&n_events, 1);
  if (i < MAX_EVENTS)
    events[i] = (event){ev, pool, obj, pthread_self()};
  atomic_fetch_add(&seen[ev], 1);
}

static void start_tracing(void) {
  atomic_store(&n_events, 0);
  for (unsigned i = 0; i <= SL_TRACE_CAP; i++)
    atomic_store(&seen[i], 0);
  sl_trace_set(record, NULL);
}

/* Stops the hook and returns how many events were kept. Called after the
 * traced pools are destroyed, so no hook call is in flight and the events
 * may be read (their threads were joined). */
static unsigned stop_tracing(void) {
  sl_trace_set(NULL, NULL);
  unsigned n = atomic_load(&n_events);
  CHECK(n < MAX_EVENTS);
  return n < MAX_EVENTS ? n : MAX_EVENTS;
}

static unsigned count(unsigned n, sl_trace_event ev, const sl_pool *pool) {
  unsigned c = 0;
  for (unsigned i = 0; i < n; i++)
    c += events[i].ev == ev && (!pool || events[i].pool == pool);
  return c;
}

/* Waits (up to 5 s) until the hook has seen `ev`. The traced pool is the
 * only one running, so the event is its own. */
static bool await_event(sl_trace_event ev) {
  for (int i = 0; i < 5000; i++) {
    if (atomic_load(&seen[ev]))
      return true;
    usleep(1000);
  }
  return false;
}

/* Each thread's opening events are closed, in order, before it opens the
 * same kind again: the pairs a profiler relies on to know a thread's state. */
static void check_pairs(unsigned n) {
  static const sl_trace_event open[] = {SL_TRACE_PARK, SL_TRACE_BLOCK, SL_TRACE_CHAN_WAIT};
  static const sl_trace_event close[] = {SL_TRACE_UNPARK, SL_TRACE_UNBLOCK, SL_TRACE_CHAN_DONE};
  for (unsigned i = 0; i < n; i++) {
    for (unsigned k = 0; k < 3; k++) {
      if (events[i].ev != open[k])
        continue;
      /* The thread's next open or close of this kind must be a close. */
      bool closed = false;
      for (unsigned j = i + 1; j < n && !closed; j++) {
        if (!pthread_equal(events[j].thread, events[i].thread))
          continue;
        if (events[j].ev == open[k])
          break;
        closed = events[j].ev == close[k];
      }
      CHECK(closed);
    }
  }
}

/* ---- a worker blocked on a full channel ---------------------------------- */

typedef struct blocker {
  sl_chan *ch;
  _Atomic int sent;
} blocker;

static void send_one(void *p) {
  blocker *b = p;
  uint64_t v = 7;
  CHECK(sl_chan_send(b->ch, &v) == 0); /* the channel is full: this blocks */
  atomic_store(&b->sent, 1);
}

static _Atomic int side_jobs_run;

static void side_job(void *p) {
  (void)p;
  atomic_fetch_add(&side_jobs_run, 1);
}

/* Fills ch (capacity 1) and spawns a job on pool that blocks sending into
 * it; returns once the hook has seen the block. */
static void block_a_worker(sl_pool *pool, blocker *b) {
  CHECK(sl_chan_create(&b->ch, "full", sizeof(uint64_t), 1) == 0);
  atomic_store(&b->sent, 0);
  uint64_t v = 1;
  CHECK(sl_chan_send(b->ch, &v) == 0);
  CHECK(sl_pool_spawn(pool, send_one, b) == 0);
  CHECK(await_event(SL_TRACE_BLOCK));
}

/* Drains ch so the blocked send completes, and frees it after the pool is
 * gone. */
static void unblock(blocker *b) {
  uint64_t v;
  CHECK(sl_chan_recv(b->ch, &v) == 0 && v == 1);
  CHECK(sl_chan_recv(b->ch, &v) == 0 && v == 7);
}

static void free_channel(blocker *b) {
  sl_chan_drop_sender(b->ch);
  sl_chan_drop_receiver(b->ch);
}

static void a_blocked_send_traces_its_wait_and_block(void) {
  start_tracing();
  sl_pool *pool;
  CHECK(sl_pool_create(&pool, "traced", 1) == 0);
  blocker b;
  block_a_worker(pool, &b);
  CHECK(atomic_load(&b.sent) == 0);
  unblock(&b);
  CHECK(sl_pool_destroy(pool) == 0);
  CHECK(atomic_load(&b.sent) == 1);
  unsigned n = stop_tracing();

  /* On the blocked worker's thread: chan-wait on the channel, then block,
   * unblock and chan-done, all naming the pool. */
  unsigned blk = 0;
  while (blk < n && !(events[blk].ev == SL_TRACE_BLOCK && events[blk].pool == pool))
    blk++;
  CHECK(blk < n);
  if (blk < n) {
    pthread_t th = events[blk].thread;
    int seen_wait = 0, seen_unblock = 0, seen_done = 0;
    for (unsigned i = 0; i < n; i++) {
      if (!pthread_equal(events[i].thread, th))
        continue;
      if (events[i].ev == SL_TRACE_CHAN_WAIT && i < blk)
        seen_wait += events[i].obj == b.ch && events[i].pool == pool;
      if (events[i].ev == SL_TRACE_UNBLOCK && i > blk)
        seen_unblock += events[i].pool == pool;
      if (events[i].ev == SL_TRACE_CHAN_DONE && i > blk)
        seen_done += events[i].obj == b.ch;
    }
    CHECK(seen_wait == 1);
    CHECK(seen_unblock == 1);
    CHECK(seen_done == 1);
  }
  check_pairs(n);
  free_channel(&b);
}

static void a_spare_started_for_a_blocked_worker_is_traced(void) {
  start_tracing();
  sl_pool *pool;
  CHECK(sl_pool_create(&pool, "spared", 1) == 0);
  blocker b;
  block_a_worker(pool, &b);
  atomic_store(&side_jobs_run, 0);
  CHECK(sl_pool_spawn(pool, side_job, NULL) == 0);
  for (int i = 0; i < 5000 && atomic_load(&side_jobs_run) == 0; i++)
    usleep(1000);
  CHECK(atomic_load(&side_jobs_run) == 1); /* a spare ran it */
  unblock(&b);
  CHECK(sl_pool_destroy(pool) == 0);
  unsigned n = stop_tracing();
  CHECK(count(n, SL_TRACE_SPARE, pool) >= 1);
  CHECK(count(n, SL_TRACE_CAP, pool) == 0);
  check_pairs(n);
  free_channel(&b);
}

static void a_pool_at_its_cap_traces_it(void) {
  start_tracing();
  sl_pool *pool;
  sl_pool_config cfg = {.name = "capped", .threads = 1, .max_spares = SL_NO_SPARES};
  CHECK(sl_pool_create_ex(&pool, &cfg) == 0);
  blocker b;
  block_a_worker(pool, &b);
  atomic_store(&side_jobs_run, 0);
  CHECK(sl_pool_spawn(pool, side_job, NULL) == 0);
  CHECK(await_event(SL_TRACE_CAP));
  CHECK(atomic_load(&side_jobs_run) == 0); /* nobody to run it yet */
  unblock(&b);
  CHECK(sl_pool_destroy(pool) == 0); /* waits for the side job */
  CHECK(atomic_load(&side_jobs_run) == 1);
  unsigned n = stop_tracing();
  CHECK(count(n, SL_TRACE_SPARE, pool) == 0);
  check_pairs(n);
  free_channel(&b);
}

/* ---- idle workers -------------------------------------------------------- */

typedef struct idle_run {
  sl_pool *pool;
  _Atomic uint64_t sum;
  _Atomic int by_worker; /* a worker (not the outside thread) ran a body */
} idle_run;

/* Slow bodies (0.2 ms each). The outside thread that runs the loop waits,
 * at most 5 s, until a worker has taken a body too: on a loaded machine a
 * woken worker may otherwise get no cpu before the outside thread has run
 * every body itself, and trace no WORK. */
static void slow_body(void *ctx, size_t lo, size_t hi) {
  idle_run *r = ctx;
  bool worker = sl_current_worker_index() < (int)sl_pool_num_threads(r->pool);
  if (worker)
    atomic_store(&r->by_worker, 1);
  for (size_t i = lo; i < hi; i++) {
    usleep(200);
    atomic_fetch_add_explicit(&r->sum, i, memory_order_relaxed);
  }
  for (int i = 0; !worker && i < 5000 && !atomic_load(&r->by_worker); i++)
    usleep(1000);
}

static void loops(void *p) {
  idle_run *r = p;
  for (int round = 0; round < 3; round++)
    CHECK(sl_for(0, 100, 1, slow_body, r) == 0);
}

/* The workers of a new pool find nothing, idle and park (awaited, not
 * slept for); a loop then wakes them and they work. */
static void idle_workers_trace_idling_parking_and_work(void) {
  start_tracing();
  idle_run r = {0};
  CHECK(sl_pool_create(&r.pool, "idler", 2) == 0);
  CHECK(await_event(SL_TRACE_PARK));
  CHECK(sl_install(r.pool, loops, &r) == 0);
  CHECK(atomic_load(&r.sum) == 3ull * 99 * 100 / 2);
  CHECK(atomic_load(&r.by_worker) == 1);
  CHECK(sl_pool_destroy(r.pool) == 0);
  unsigned n = stop_tracing();
  CHECK(count(n, SL_TRACE_IDLE, r.pool) >= 1);
  CHECK(count(n, SL_TRACE_PARK, r.pool) >= 1);
  CHECK(count(n, SL_TRACE_UNPARK, r.pool) == count(n, SL_TRACE_PARK, r.pool));
  CHECK(count(n, SL_TRACE_WORK, r.pool) >= 1);
  CHECK(count(n, SL_TRACE_BLOCK, NULL) == 0); /* nothing here blocks */
  check_pairs(n);
}

/* An idle worker woken for a job parks again once it runs out of work,
 * every time: it does not stay awake, spinning on sched_yield. */
static void a_woken_worker_parks_again(void) {
  start_tracing();
  sl_pool *pool;
  CHECK(sl_pool_create(&pool, "napper", 1) == 0);
  for (unsigned round = 1; round <= 3; round++) {
    for (int i = 0; i < 5000 && atomic_load(&seen[SL_TRACE_PARK]) < round; i++)
      usleep(1000);
    CHECK(atomic_load(&seen[SL_TRACE_PARK]) >= round); /* asleep again */
    atomic_store(&side_jobs_run, 0);
    CHECK(sl_pool_spawn(pool, side_job, NULL) == 0); /* wakes it */
    for (int i = 0; i < 5000 && atomic_load(&side_jobs_run) == 0; i++)
      usleep(1000);
    CHECK(atomic_load(&side_jobs_run) == 1);
  }
  CHECK(sl_pool_destroy(pool) == 0);
  unsigned n = stop_tracing();
  CHECK(count(n, SL_TRACE_UNPARK, pool) == count(n, SL_TRACE_PARK, pool));
  check_pairs(n);
}

/* ---- off ----------------------------------------------------------------- */

static void a_removed_hook_is_not_called(void) {
  start_tracing();
  sl_trace_set(NULL, NULL);
  idle_run r = {0};
  CHECK(sl_pool_create(&r.pool, "quiet", 2) == 0);
  CHECK(sl_install(r.pool, loops, &r) == 0);
  CHECK(sl_pool_destroy(r.pool) == 0);
  CHECK(atomic_load(&n_events) == 0);
}

static void events_have_names(void) {
  CHECK(strcmp(sl_trace_event_name(SL_TRACE_IDLE), "idle") == 0);
  CHECK(strcmp(sl_trace_event_name(SL_TRACE_CHAN_WAIT), "chan-wait") == 0);
  CHECK(strcmp(sl_trace_event_name(SL_TRACE_CAP), "cap") == 0);
  CHECK(strcmp(sl_trace_event_name((sl_trace_event)99), "?") == 0);
  CHECK(strcmp(sl_trace_event_name((sl_trace_event)-1), "?") == 0);
}

int main(void) {
  RUN(a_blocked_send_traces_its_wait_and_block);
  RUN(a_spare_started_for_a_blocked_worker_is_traced);
  RUN(a_pool_at_its_cap_traces_it);
  RUN(idle_workers_trace_idling_parking_and_work);
  RUN(a_woken_worker_parks_again);
  RUN(a_removed_hook_is_not_called);
  RUN(events_have_names);
  return check_done(__FILE__);
}
