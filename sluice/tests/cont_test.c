/* cont_test.c: continuations (sl_pool_config.continuations). A job that
 * waits on a channel, a select or a join is suspended and its worker runs
 * other jobs meanwhile: on a pool of one worker with no spares, a job that
 * waits for a job queued behind it completes (without continuations that
 * is a deadlock). The suspended job resumes on the same thread with its
 * stack intact, deep recursion included; a continuation stack that
 * overflows is named on stderr; the stall detector names the stages of
 * suspended jobs and follows a channel to the job at its other end; 64 producers and 64 consumers run as jobs on a pool of 2
 * without any thread beyond the two workers; the pipeline layer runs its
 * map jobs (each a small fork-join tree) on a pool of one suspending
 * worker; and a random mix of fork-join trees and channel stages accounts
 * for every item. */
#include "check.h"
#include "sluice.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__x86_64__) && defined(__linux__)
#define HAVE_CONTINUATIONS 1
#else
#define HAVE_CONTINUATIONS 0
#endif

#define WAIT_LIMIT_S 20.0

/* Drops the creator's two handles: the channel goes once nobody holds one. */
static void chan_free(sl_chan *ch) {
  sl_chan_drop_sender(ch);
  sl_chan_drop_receiver(ch);
}

static sl_pool *one_worker_pool(void) {
  sl_pool *pool = NULL;
  sl_pool_config cfg = {.name = "cont1", .threads = 1, .max_spares = SL_NO_SPARES,
                        .continuations = true};
  CHECK(sl_pool_create_ex(&pool, &cfg) == 0);
  return pool;
}

/* Waits until *flag reaches want; a test that would hang reports instead. */
static void await(_Atomic int *flag, int want, const char *what) {
  double t0 = check_now();
  while (atomic_load(flag) < want) {
    if (check_now() - t0 > WAIT_LIMIT_S) {
      fprintf(stderr, "%s: still waiting after %.0f s: a suspended job never resumed\n", what,
              WAIT_LIMIT_S);
      fflush(stderr);
      _exit(1); /* the pool cannot be destroyed with a job stuck in it */
    }
    usleep(1000);
  }
}

/* ---- a job waits for one queued behind it ---------------------------------- */

static _Thread_local int tls_marker;

typedef struct waiter {
  sl_chan *in, *out;
  int kind;               /* 0 recv, 1 send, 2 select */
  sl_chan *other;         /* select: a channel nobody uses */
  _Atomic int done;
  bool stack_ok, same_thread, same_worker, tls_ok;
  int got;
} waiter;

static void waiting_job(void *p) {
  waiter *w = p;
  volatile unsigned pattern[256];
  for (unsigned i = 0; i < 256; i++)
    pattern[i] = i * 2654435761u;
  pthread_t self = pthread_self();
  int worker = sl_current_worker_index();
  tls_marker = 4242;
  int *tls_addr = &tls_marker;
  int v = 7;
  if (w->kind == 0) {
    CHECK(sl_chan_recv(w->in, &w->got) == 0);
  } else if (w->kind == 1) {
    CHECK(sl_chan_send(w->out, &v) == 0); /* the first fills cap 1 */
    CHECK(sl_chan_send(w->out, &v) == 0); /* the second waits */
  } else {
    sl_select_op ops[2] = {{w->other, SL_SELECT_RECV, &w->got}, {w->in, SL_SELECT_RECV, &w->got}};
    size_t index = 9;
    CHECK(sl_select(ops, 2, SL_FOREVER, &index) == 0);
    CHECK(index == 1);
  }
  bool ok = true;
  for (unsigned i = 0; i < 256; i++)
    ok &= pattern[i] == i * 2654435761u;
  w->stack_ok = ok;
  w->same_thread = pthread_equal(self, pthread_self());
  w->same_worker = worker == sl_current_worker_index();
  w->tls_ok = tls_addr == &tls_marker && tls_marker == 4242;
  atomic_store(&w->done, 1);
}

static void waking_job(void *p) {
  waiter *w = p;
  int v = 99, got;
  if (w->kind == 1) {
    CHECK(sl_chan_recv(w->out, &got) == 0);
    CHECK(sl_chan_recv(w->out, &got) == 0);
  } else {
    CHECK(sl_chan_send(w->in, &v) == 0);
  }
}

static void wait_kind(int kind, size_t cap) {
  sl_pool *pool = one_worker_pool();
  waiter w = {.kind = kind};
  CHECK(sl_chan_create(&w.in, "in", sizeof(int), cap) == 0);
  CHECK(sl_chan_create(&w.out, "out", sizeof(int), 1) == 0);
  CHECK(sl_chan_create(&w.other, "never", sizeof(int), 1) == 0);
  CHECK(sl_pool_spawn(pool, waiting_job, &w) == 0);
  usleep(20000); /* let it wait first (the test holds either way) */
  CHECK(sl_pool_spawn(pool, waking_job, &w) == 0);
  await(&w.done, 1, "wait_kind");
  CHECK(sl_pool_destroy(pool) == 0);
  CHECK(w.stack_ok);
  CHECK(w.same_thread);
  CHECK(w.same_worker);
  CHECK(w.tls_ok);
  if (kind != 1)
    CHECK(w.got == 99);
  chan_free(w.in);
  chan_free(w.out);
  chan_free(w.other);
}

static void a_receive_waits_for_a_job_queued_behind_it(void) {
  wait_kind(0, 0); /* rendezvous */
  wait_kind(0, 4); /* buffered */
}

static void a_send_waits_for_a_job_queued_behind_it(void) { wait_kind(1, 1); }

static void a_select_waits_for_a_job_queued_behind_it(void) { wait_kind(2, 0); }

/* ---- join waits -------------------------------------------------------------- */

/* One worker: a's wait hands b to the pool's queue, b runs on a fresh stack
 * and waits too; a resumes first, finds b out and running-suspended, and
 * its join wait suspends until b finishes. */
typedef struct join_case {
  sl_chan *ca, *cb;
  int a_got, b_got;
  _Atomic int a_waiting, b_waiting, done;
} join_case;

static void half_a(void *p) {
  join_case *j = p;
  atomic_store(&j->a_waiting, 1);
  CHECK(sl_chan_recv(j->ca, &j->a_got) == 0);
}

static void half_b(void *p) {
  join_case *j = p;
  atomic_store(&j->b_waiting, 1);
  CHECK(sl_chan_recv(j->cb, &j->b_got) == 0);
}

static void joiner(void *p) {
  join_case *j = p;
  volatile int before = 31337;
  CHECK(sl_join(half_a, j, half_b, j) == 0);
  CHECK(before == 31337);
  atomic_store(&j->done, 1);
}

static void a_join_wait_suspends_while_its_other_half_waits(void) {
  sl_pool *pool = one_worker_pool();
  join_case j = {0};
  CHECK(sl_chan_create(&j.ca, "a", sizeof(int), 1) == 0);
  CHECK(sl_chan_create(&j.cb, "b", sizeof(int), 1) == 0);
  CHECK(sl_pool_spawn(pool, joiner, &j) == 0);
  await(&j.b_waiting, 1, "join: b started"); /* needs a to be suspended */
  int v = 1;
  CHECK(sl_chan_send(j.ca, &v) == 0); /* a ends; the join waits for b */
  usleep(20000);
  CHECK(atomic_load(&j.done) == 0);
  v = 2;
  CHECK(sl_chan_send(j.cb, &v) == 0);
  await(&j.done, 1, "join: done");
  CHECK(j.a_got == 1 && j.b_got == 2);
  CHECK(sl_pool_destroy(pool) == 0);
  chan_free(j.ca);
  chan_free(j.cb);
}

/* ---- deep recursion ---------------------------------------------------------- */

#define DEPTH 2000

typedef struct deep {
  sl_chan *gate;
  _Atomic int waiting, done;
  bool ok;
} deep;

/* Each frame keeps 128 bytes of its own; the deepest waits on the gate. */
static __attribute__((noinline)) bool recurse(deep *d, unsigned n) {
  volatile unsigned char frame[128];
  for (unsigned i = 0; i < sizeof frame; i++)
    frame[i] = (unsigned char)(n + i);
  bool ok;
  if (n == 0) {
    int v;
    atomic_fetch_add(&d->waiting, 1);
    ok = sl_chan_recv(d->gate, &v) == 0;
  } else {
    ok = recurse(d, n - 1);
  }
  for (unsigned i = 0; i < sizeof frame; i++)
    ok &= frame[i] == (unsigned char)(n + i);
  return ok;
}

static void deep_job(void *p) {
  deep *d = p;
  d->ok = recurse(d, DEPTH);
  atomic_fetch_add(&d->done, 1);
}

static void deep_recursion_survives_a_suspension(void) {
  sl_pool *pool = one_worker_pool();
  deep d[2] = {0};
  sl_chan *gate;
  CHECK(sl_chan_create(&gate, "gate", sizeof(int), 0) == 0);
  d[0].gate = d[1].gate = gate;
  /* The first runs on the thread's own stack, the second on a
   * continuation's stack (the first is suspended by then). */
  CHECK(sl_pool_spawn(pool, deep_job, &d[0]) == 0);
  CHECK(sl_pool_spawn(pool, deep_job, &d[1]) == 0);
  await(&d[0].waiting, 1, "deep: first waits");
  await(&d[1].waiting, 1, "deep: second waits");
  int v = 0;
  CHECK(sl_chan_send(gate, &v) == 0);
  CHECK(sl_chan_send(gate, &v) == 0);
  await(&d[0].done, 1, "deep: first done");
  await(&d[1].done, 1, "deep: second done");
  CHECK(d[0].ok && d[1].ok);
  CHECK(sl_pool_destroy(pool) == 0);
  chan_free(gate);
}

/* ---- stack overflow -------------------------------------------------------- */

/* Under a sanitizer, which owns SIGSEGV and runs its own stack checks, the
 * overflow case is not run. */
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)

static sl_chan *overflow_gate;

static void parked_job(void *p) {
  (void)p;
  int v;
  (void)sl_chan_recv(overflow_gate, &v);
}

static volatile unsigned runaway_limit = ~0u; /* never reached: the stack ends first */

static __attribute__((noinline)) unsigned runaway(unsigned n) {
  volatile char frame[512];
  frame[0] = (char)n;
  if (n == runaway_limit)
    return 0;
  return runaway(n + 1) + (unsigned)frame[0]; /* not a tail call */
}

static void overflowing_job(void *p) {
  (void)p;
  sl_thread_set_name("deep-stage");
  printf("%u\n", runaway(0));
}

/* In a child: a job parks (the worker moves to a continuation stack), then
 * a job named deep-stage recurses without end on that stack. */
static void child_overflows(void) {
  alarm(20); /* a child that hangs dies of SIGALRM: the check below fails */
  sl_pool *pool;
  sl_pool_config cfg = {.name = "ovf", .threads = 1, .max_spares = SL_NO_SPARES,
                        .continuations = true, .stack_size = 256 << 10};
  if (sl_pool_create_ex(&pool, &cfg) || sl_chan_create(&overflow_gate, "g", sizeof(int), 0))
    _exit(3);
  sl_pool_spawn(pool, parked_job, NULL);
  usleep(20000);
  sl_pool_spawn(pool, overflowing_job, NULL);
  sleep(10);
  _exit(4); /* not reached when the overflow kills the process */
}
#endif

static void an_overflow_names_its_stage(void) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  fprintf(stderr, "  (skipped under a sanitizer, which owns SIGSEGV)\n");
#else
  int fds[2];
  CHECK(pipe(fds) == 0);
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    child_overflows();
  }
  close(fds[1]);
  char buf[4096];
  size_t n = 0;
  ssize_t r;
  while (n < sizeof buf - 1 && (r = read(fds[0], buf + n, sizeof buf - 1 - n)) > 0)
    n += (size_t)r;
  buf[n] = '\0';
  close(fds[0]);
  int status = 0;
  CHECK(waitpid(pid, &status, 0) == pid);
  CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
  CHECK(strstr(buf, "stack overflow in stage \"deep-stage\"") != NULL);
  CHECK(strstr(buf, "worker 0 of pool \"ovf\"") != NULL);
  if (!strstr(buf, "deep-stage"))
    fprintf(stderr, "child said: %s\n", buf);
#endif
}

/* ---- the stall detector --------------------------------------------------- */

/* Reads a state dump into buf (cap bytes). */
static void dump_state(char *buf, size_t cap) {
  FILE *f = tmpfile();
  CHECK(f != NULL);
  buf[0] = '\0';
  if (!f)
    return;
  CHECK(sl_state_dump(fileno(f)) == 0);
  rewind(f);
  size_t n = fread(buf, 1, cap - 1, f);
  buf[n] = '\0';
  fclose(f);
}


typedef struct stuck {
  sl_chan *never;
  const char *name;
  _Atomic int *waiting;
} stuck;

static void stuck_job(void *p) {
  stuck *s = p;
  sl_thread_set_name(s->name);
  atomic_fetch_add(s->waiting, 1);
  int v;
  (void)sl_chan_recv(s->never, &v); /* until the channel closes */
}

static void the_stall_report_names_suspended_stages(void) {
  sl_pool *pool;
  sl_pool_config cfg = {.name = "stuckpool", .threads = 2, .continuations = true};
  CHECK(sl_pool_create_ex(&pool, &cfg) == 0);
  _Atomic int waiting = 0;
  sl_chan *never;
  CHECK(sl_chan_create(&never, "never-fed", sizeof(int), 1) == 0);
  stuck s[3] = {{never, "stuck-a", &waiting}, {never, "stuck-b", &waiting},
                {never, "stuck-c", &waiting}};
  for (int i = 0; i < 3; i++)
    CHECK(sl_pool_spawn(pool, stuck_job, &s[i]) == 0);
  await(&waiting, 3, "stall: jobs waiting");
  usleep(50000); /* until all three are suspended, not spinning */
  char buf[8192];
  dump_state(buf, sizeof buf);
  for (int i = 0; i < 3; i++) {
    char want[96];
    snprintf(want, sizeof want, "stage \"%s\" (suspended on worker", s[i].name);
    CHECK(strstr(buf, want) != NULL);
  }
  CHECK(strstr(buf, "receiving on channel \"never-fed\"") != NULL);
  CHECK(strstr(buf, "pool \"stuckpool\"") && strstr(buf, "3 jobs suspended"));
  if (!strstr(buf, "stuck-a"))
    fprintf(stderr, "%s", buf);
  sl_chan_close(never);
  CHECK(sl_pool_destroy(pool) == 0);
  chan_free(never);
}

/* beta receives from x, then sends into x (full, cap 1), which only it
 * receives from: a cycle of one suspended job. The verdict must lead from
 * the channel to the job that used its other end, not to its worker. */
typedef struct cycle {
  sl_chan *x, *y;
  _Atomic int waiting;
} cycle;

static void cycle_alpha(void *p) {
  cycle *c = p;
  sl_thread_set_name("alpha");
  int v = 1;
  CHECK(sl_chan_send(c->x, &v) == 0);
  atomic_fetch_add(&c->waiting, 1);
  (void)sl_chan_recv(c->y, &v); /* until closed */
}

static void cycle_beta(void *p) {
  cycle *c = p;
  sl_thread_set_name("beta");
  int v;
  CHECK(sl_chan_recv(c->x, &v) == 0);
  CHECK(sl_chan_send(c->x, &v) == 0);
  atomic_fetch_add(&c->waiting, 1);
  (void)sl_chan_send(c->x, &v); /* full, and beta is x's only receiver */
}

static void a_cycle_of_suspended_jobs_is_named(void) {
  sl_pool *pool;
  sl_pool_config cfg = {.name = "cyc", .threads = 2, .continuations = true};
  CHECK(sl_pool_create_ex(&pool, &cfg) == 0);
  cycle c = {0};
  CHECK(sl_chan_create(&c.x, "x", sizeof(int), 1) == 0);
  CHECK(sl_chan_create(&c.y, "y", sizeof(int), 1) == 0);
  CHECK(sl_pool_spawn(pool, cycle_alpha, &c) == 0);
  CHECK(sl_pool_spawn(pool, cycle_beta, &c) == 0);
  await(&c.waiting, 2, "cycle: both waiting");
  usleep(50000);
  char buf[8192];
  dump_state(buf, sizeof buf);
  CHECK(strstr(buf, "verdict: stage \"beta\" (suspended on worker") != NULL);
  CHECK(strstr(buf, "its only receiver, stage \"beta\"") != NULL);
  CHECK(strstr(buf, "a cycle") != NULL);
  if (!strstr(buf, "a cycle"))
    fprintf(stderr, "%s", buf);
  sl_chan_close(c.x);
  sl_chan_close(c.y);
  CHECK(sl_pool_destroy(pool) == 0);
  chan_free(c.x);
  chan_free(c.y);
}

/* ---- many blocked producers and consumers on two threads --------------------- */

#define SIDES 64
#define MSGS_PER_PRODUCER 2000

typedef struct many {
  sl_chan *ch;
  _Atomic uint64_t sum;
  _Atomic unsigned next_id;
  _Atomic int producers_left, finished;
} many;

static void many_producer(void *p) {
  many *m = p;
  uint64_t k = atomic_fetch_add(&m->next_id, 1);
  for (uint64_t v = k * MSGS_PER_PRODUCER; v < (k + 1) * MSGS_PER_PRODUCER; v++)
    CHECK(sl_chan_send(m->ch, &v) == 0);
  if (atomic_fetch_sub(&m->producers_left, 1) == 1)
    sl_chan_close(m->ch);
  atomic_fetch_add(&m->finished, 1);
}

static void many_consumer(void *p) {
  many *m = p;
  uint64_t v, sum = 0;
  while (sl_chan_recv(m->ch, &v) == 0)
    sum += v;
  atomic_fetch_add(&m->sum, sum);
  atomic_fetch_add(&m->finished, 1);
}

static int process_threads(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  int n = -1;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "Threads: %d", &n) == 1)
      break;
  if (f)
    fclose(f);
  return n;
}

static void sixty_four_a_side_run_on_two_threads(void) {
  sl_pool *pool;
  sl_pool_config cfg = {.name = "many", .threads = 2, .continuations = true};
  int before = process_threads();
  CHECK(sl_pool_create_ex(&pool, &cfg) == 0);
  many m = {.producers_left = SIDES};
  CHECK(sl_chan_create(&m.ch, "many", sizeof(uint64_t), 64) == 0);
  for (int i = 0; i < SIDES; i++) {
    CHECK(sl_pool_spawn(pool, many_consumer, &m) == 0);
    CHECK(sl_pool_spawn(pool, many_producer, &m) == 0);
  }
  int most = 0;
  double t0 = check_now();
  while (atomic_load(&m.finished) < 2 * SIDES && check_now() - t0 < WAIT_LIMIT_S) {
    int n = process_threads();
    most = n > most ? n : most;
    usleep(500);
  }
  await(&m.finished, 2 * SIDES, "many: all finished");
  uint64_t total = (uint64_t)SIDES * MSGS_PER_PRODUCER;
  CHECK(atomic_load(&m.sum) == total * (total - 1) / 2);
  CHECK(most - before <= 2); /* the two workers, no spare */
  if (most - before > 2)
    fprintf(stderr, "  threads: %d before, at most %d during\n", before, most);
  CHECK(sl_pool_destroy(pool) == 0);
  chan_free(m.ch);
}

/* ---- stress: fork-join trees and channel stages on one pool -------------------- */

typedef struct tree {
  unsigned depth;
  uint64_t seed, sum;
} tree;

static uint64_t mix64(uint64_t x) {
  x ^= x >> 31;
  x *= 0x9E3779B97F4A7C15ull;
  return x ^ (x >> 29);
}

/* A random binary tree of joins: the sum of its leaves' seeds. */
static void tree_run(void *p) {
  tree *t = p;
  if (t->depth == 0 || (mix64(t->seed) & 7) == 0) {
    t->sum = t->seed;
    return;
  }
  tree l = {t->depth - 1, mix64(t->seed + 1), 0}, r = {t->depth - 1, mix64(t->seed + 2), 0};
  sl_join(tree_run, &l, tree_run, &r);
  t->sum = l.sum + r.sum;
}

static uint64_t tree_sum(unsigned depth, uint64_t seed) {
  if (depth == 0 || (mix64(seed) & 7) == 0)
    return seed;
  return tree_sum(depth - 1, mix64(seed + 1)) + tree_sum(depth - 1, mix64(seed + 2));
}

typedef struct stress {
  sl_chan *items, *results;
  unsigned n_items, depth;
  _Atomic uint64_t next_id;
  _Atomic int sources_left, middles_left, finished;
  _Atomic uint64_t got;
} stress;

static void stress_source(void *p) {
  stress *s = p;
  for (;;) {
    uint64_t id = atomic_fetch_add(&s->next_id, 1);
    if (id >= s->n_items)
      break;
    CHECK(sl_chan_send(s->items, &id) == 0);
  }
  if (atomic_fetch_sub(&s->sources_left, 1) == 1)
    sl_chan_close(s->items);
  atomic_fetch_add(&s->finished, 1);
}

typedef struct loop_ctx {
  stress *s;
  uint64_t base;
} loop_ctx;

/* A parallel loop whose bodies send into a bounded channel. */
static void loop_body(void *p, size_t lo, size_t hi) {
  loop_ctx *c = p;
  for (size_t i = lo; i < hi; i++) {
    uint64_t v = tree_sum(3, c->base + i);
    CHECK(sl_chan_send(c->s->results, &v) == 0);
  }
}

static void stress_middle(void *p) {
  stress *s = p;
  uint64_t id;
  while (sl_chan_recv(s->items, &id) == 0) {
    if (id % 5 == 0) { /* four results from a loop, for the accounting below */
      loop_ctx c = {s, id * 4};
      sl_for(0, 4, 1, loop_body, &c);
      continue;
    }
    tree t = {s->depth, mix64(id), 0};
    tree_run(&t);
    CHECK(t.sum == tree_sum(s->depth, mix64(id)));
    CHECK(sl_chan_send(s->results, &t.sum) == 0);
  }
  if (atomic_fetch_sub(&s->middles_left, 1) == 1)
    sl_chan_close(s->results);
  atomic_fetch_add(&s->finished, 1);
}

static void stress_sink(void *p) {
  stress *s = p;
  uint64_t v, n = 0;
  while (sl_chan_recv(s->results, &v) == 0)
    n++;
  atomic_store(&s->got, n);
  atomic_fetch_add(&s->finished, 1);
}

static void stress_round(unsigned threads, unsigned sources, unsigned middles, unsigned n_items) {
  sl_pool *pool;
  sl_pool_config cfg = {.name = "stress", .threads = threads, .continuations = true};
  CHECK(sl_pool_create_ex(&pool, &cfg) == 0);
  stress s = {.n_items = n_items, .depth = 6, .sources_left = (int)sources,
              .middles_left = (int)middles};
  CHECK(sl_chan_create(&s.items, "items", sizeof(uint64_t), 2) == 0);
  CHECK(sl_chan_create(&s.results, "results", sizeof(uint64_t), 3) == 0);
  CHECK(sl_pool_spawn(pool, stress_sink, &s) == 0);
  for (unsigned i = 0; i < middles; i++)
    CHECK(sl_pool_spawn(pool, stress_middle, &s) == 0);
  for (unsigned i = 0; i < sources; i++)
    CHECK(sl_pool_spawn(pool, stress_source, &s) == 0);
  await(&s.finished, (int)(1 + middles + sources), "stress round");
  uint64_t loops = (n_items + 4) / 5; /* ids divisible by 5 */
  CHECK(atomic_load(&s.got) == n_items - loops + 4 * loops);
  CHECK(sl_pool_destroy(pool) == 0);
  chan_free(s.items);
  chan_free(s.results);
}

static void fork_join_and_channels_mixed_account_for_every_item(void) {
  unsigned scale = check_scale();
  double t0 = check_now();
  unsigned rounds = 0;
  for (uint64_t r = 0; check_now() - t0 < 6.0 || rounds < 4; r++, rounds++) {
    uint64_t x = mix64(r + 12345);
    unsigned threads = 1 + (unsigned)(x % 4);
    unsigned sources = 1 + (unsigned)((x >> 8) % 6);
    unsigned middles = 1 + (unsigned)((x >> 16) % 12);
    stress_round(threads, sources, middles, 3000 / scale);
  }
  fprintf(stderr, "  %u rounds\n", rounds);
}

/* ---- the pipeline layer on a pool with continuations -------------------------- */

#define PIPE_ITEMS 2000

static int pipe_source(void *user, sl_emitter *out) {
  (void)user;
  for (uintptr_t i = 1; i <= PIPE_ITEMS; i++)
    if (sl_emit(out, (void *)i))
      return 0;
  return 0;
}

/* Each map job forks a small tree, so join waits and channel waits mix. */
static int pipe_map(void *user, void *item, void **out) {
  (void)user;
  tree t = {4, (uintptr_t)item, 0};
  tree_run(&t);
  *out = (void *)(uintptr_t)(t.sum == tree_sum(4, (uintptr_t)item) ? (uintptr_t)item : 0);
  return 0;
}

static int pipe_sink(void *user, void *item) {
  uint64_t *sum = user;
  *sum += (uintptr_t)item;
  return 0;
}

static void the_pipeline_layer_runs_on_one_suspending_worker(void) {
  sl_pool *pool = one_worker_pool();
  uint64_t sum = 0;
  sl_pipeline *pl;
  CHECK(sl_pipeline_create(&pl, &(sl_pipeline_config){.name = "contpipe", .pool = pool}) == 0);
  sl_stage *src = sl_pipeline_source(pl, "src", pipe_source, NULL);
  sl_stage *map = sl_pipeline_map(pl, "map", pipe_map, NULL, 8, SL_MAP_ORDERED);
  sl_stage *sink = sl_pipeline_sink(pl, "sink", pipe_sink, &sum);
  sl_pipeline_connect(pl, src, map, "in", 2);
  sl_pipeline_connect(pl, map, sink, "out", 1);
  CHECK(sl_pipeline_run(pl) == 0);
  sl_pipeline_destroy(pl);
  CHECK(sum == (uint64_t)PIPE_ITEMS * (PIPE_ITEMS + 1) / 2);
  CHECK(sl_pool_destroy(pool) == 0);
}

int main(void) {
  if (!HAVE_CONTINUATIONS) {
    printf("cont_test: continuations need x86-64 Linux: skipped\n");
    return 77;
  }
  RUN(a_receive_waits_for_a_job_queued_behind_it);
  RUN(a_send_waits_for_a_job_queued_behind_it);
  RUN(a_select_waits_for_a_job_queued_behind_it);
  RUN(a_join_wait_suspends_while_its_other_half_waits);
  RUN(deep_recursion_survives_a_suspension);
  RUN(an_overflow_names_its_stage);
  RUN(the_stall_report_names_suspended_stages);
  RUN(a_cycle_of_suspended_jobs_is_named);
  RUN(sixty_four_a_side_run_on_two_threads);
  RUN(the_pipeline_layer_runs_on_one_suspending_worker);
  RUN(fork_join_and_channels_mixed_account_for_every_item);
  return check_done("cont_test");
}
