/* stall_test.c: the stall detector on real deadlocks built on purpose, each
 * undone afterwards by closing its channels: a starved pool (compensation
 * disabled, and at its cap), a cycle of two stages on each other's full
 * channels, a receive on a channel whose only sender is alive but blocked
 * elsewhere, a cycle through a select, a pipeline map whose jobs are
 * blocked on a user channel, a join, a blocking region, and unnamed
 * threads. Each report must name
 * the right stages, channels, pools and fill levels, and the verdict is
 * compared whole where it is deterministic. A long run that keeps
 * progressing (or keeps a CPU busy) must get no report. A malformed
 * SLUICE_WATCHDOG gets one warning. */
#include "check.h"
#include "internal.h" /* sl__watchdog_env_parse */
#include "sluice.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

/* ---- catching reports ---------------------------------------------------- */

static pthread_mutex_t rep_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t rep_cv = PTHREAD_COND_INITIALIZER;
static char report[16384];
static int reports;

static void on_stall(const char *text, void *arg) {
  (void)arg;
  pthread_mutex_lock(&rep_mu);
  snprintf(report, sizeof report, "%s", text);
  reports++;
  pthread_cond_broadcast(&rep_cv);
  pthread_mutex_unlock(&rep_mu);
}

static void watch(double seconds) {
  pthread_mutex_lock(&rep_mu);
  reports = 0;
  report[0] = '\0';
  pthread_mutex_unlock(&rep_mu);
  sl_watchdog_config cfg = {.seconds = seconds, .action = SL_STALL_CALLBACK, .callback = on_stall};
  CHECK(sl_watchdog_start(&cfg) == 0);
}

/* Waits (on a condvar, not polling) for the first report, at most 30 s. */
static bool await_report(void) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 30;
  pthread_mutex_lock(&rep_mu);
  while (reports == 0 && pthread_cond_timedwait(&rep_cv, &rep_mu, &until) == 0)
    ;
  bool got = reports > 0;
  pthread_mutex_unlock(&rep_mu);
  if (got)
    fprintf(stderr, "--- report ---\n%s--------------\n", report);
  else /* what the detector would have seen, to tell why it said nothing */
    sl_state_dump(STDERR_FILENO);
  return got;
}

static bool has(const char *needle) {
  if (strstr(report, needle))
    return true;
  fprintf(stderr, "report lacks: %s\n", needle);
  return false;
}

/* Copies the report's line that starts with `prefix` (without its newline)
 * into out; false if there is none. */
static bool line_of(const char *prefix, char *out, size_t cap) {
  size_t n = strlen(prefix);
  for (const char *l = report; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
    if (strncmp(l, prefix, n) != 0)
      continue;
    const char *e = strchr(l, '\n');
    size_t len = e ? (size_t)(e - l) : strlen(l);
    snprintf(out, cap, "%.*s", (int)(len < cap ? len : cap - 1), l);
    return true;
  }
  return false;
}

/* Whether the verdict line is `want`, in which "%d" stands for a worker
 * index (0 .. 15) where the report may name any of a pool's workers. */
static bool verdict_is(const char *want) {
  char got[4096], expect[4096];
  if (!line_of("verdict: ", got, sizeof got)) {
    fprintf(stderr, "report has no verdict\n");
    return false;
  }
  for (int i = 0; i < 16; i++) {
    snprintf(expect, sizeof expect, want, i, i);
    if (strcmp(got, expect) == 0)
      return true;
  }
  fprintf(stderr, "verdict is:     %s\nverdict wanted: %s\n", got, want);
  return false;
}

/* Calls fn on each line of the "threads waiting in sluice:" section; the
 * count of lines for which it returned false. */
static int thread_lines_failing(bool (*fn)(const char *line)) {
  const char *l = strstr(report, "threads waiting in sluice:\n");
  int bad = 0;
  if (!l)
    return 1;
  for (l = strchr(l, '\n') + 1; *l && strncmp(l, "  ", 2) == 0; l = strchr(l, '\n') + 1) {
    char line[1024];
    const char *e = strchr(l, '\n');
    if (!e)
      break;
    snprintf(line, sizeof line, "%.*s", (int)(e - l), l);
    if (!fn(line)) {
      fprintf(stderr, "thread line fails: %s\n", line);
      bad++;
    }
  }
  return bad;
}

/* A thread line names the pool of every pool member and pool wait: a
 * worker's and an outside thread's line names "pool "..."", and no line
 * lacks the object of its wait (as "of for" did). Hint lines in parentheses
 * pass. */
static bool names_its_pool(const char *line) {
  if (strncmp(line, "  (", 3) == 0)
    return true;
  if (strstr(line, " of for") || strstr(line, " on for") || strstr(line, " into for"))
    return false;
  bool member = strncmp(line, "  worker ", 9) == 0 || strstr(line, "outside thread");
  bool pool_wait = strstr(line, "handed to") || strstr(line, "sl_install") ||
                   strstr(line, " jobs on ") || strstr(line, " job on ");
  return !(member || pool_wait) || strstr(line, "pool \"");
}

/* ---- a starved pool ------------------------------------------------------- */

typedef struct starve {
  sl_chan *parsed;
  sl_pool *work;   /* all its workers end up blocked sending */
  sl_pool *embedq; /* the "embed" stage runs on a worker of this one */
} starve;

static void parse_job(void *p) {
  starve *s = p;
  sl_thread_set_name("parse");
  uint64_t v = 1;
  while (sl_chan_send(s->parsed, &v) == 0)
    ;
  sl_thread_set_name(NULL);
}

static void tokenize(void *ctx, size_t lo, size_t hi) { (void)ctx, (void)lo, (void)hi; }
static void tokenize_all(void *p) { (void)p; sl_for(0, 64, 1, tokenize, NULL); }

static void embed_stage(void *p) {
  starve *s = p;
  sl_thread_set_name("embed");
  uint64_t v;
  sl_chan_recv(s->parsed, &v); /* embed is the channel's receiver */
  /* From a worker of another pool, install waits as a blocked worker. */
  sl_install(s->work, tokenize_all, NULL);
  sl_thread_set_name(NULL);
}

static void *embed_thread(void *p) {
  starve *s = p;
  sl_install(s->embedq, embed_stage, s);
  return NULL;
}

static void stall_names_a_starved_pool(void) {
  starve s;
  sl_pool_config none = {.name = "work", .threads = 2, .max_spares = SL_NO_SPARES};
  CHECK(sl_pool_create_ex(&s.work, &none) == 0);
  CHECK(sl_pool_create(&s.embedq, "embedq", 1) == 0);
  CHECK(sl_chan_create(&s.parsed, "parsed", sizeof(uint64_t), 4) == 0);
  watch(0.5);
  CHECK(sl_pool_spawn(s.work, parse_job, &s) == 0 && sl_pool_spawn(s.work, parse_job, &s) == 0);
  pthread_t t;
  pthread_create(&t, NULL, embed_thread, &s);
  CHECK(await_report());
  CHECK(has("stage \"parse\" blocked sending on channel \"parsed\" (4/4 full"));
  CHECK(has("its only receiver, stage \"embed\", waits for pool \"work\", whose 2 workers are all blocked"));
  CHECK(has("compensation disabled"));
  CHECK(!strstr(report, "cap")); /* no spares at all: no cap to reach */
  CHECK(has("pool \"work\": 2 workers"));
  CHECK(thread_lines_failing(names_its_pool) == 0);
  sl_watchdog_stop();
  sl_chan_close(s.parsed); /* undo: the senders fail, the pool frees up */
  pthread_join(t, NULL);
  sl_pool_destroy(s.work);
  sl_pool_destroy(s.embedq);
  sl_chan_drop_sender(s.parsed);
  sl_chan_drop_receiver(s.parsed);
}

/* At its cap the same stall names the cap with the real counts: a pool of
 * 1 worker and 1 spare, both blocked sending. */
static void stall_names_the_cap_only_when_reached(void) {
  starve s;
  sl_pool_config one_spare = {.name = "work", .threads = 1, .max_spares = 1};
  CHECK(sl_pool_create_ex(&s.work, &one_spare) == 0);
  CHECK(sl_pool_create(&s.embedq, "embedq", 1) == 0);
  CHECK(sl_chan_create(&s.parsed, "parsed", sizeof(uint64_t), 4) == 0);
  watch(0.5);
  CHECK(sl_pool_spawn(s.work, parse_job, &s) == 0 && sl_pool_spawn(s.work, parse_job, &s) == 0);
  pthread_t t;
  pthread_create(&t, NULL, embed_thread, &s);
  CHECK(await_report());
  CHECK(verdict_is("verdict: stage \"parse\" blocked sending on channel \"parsed\" (4/4 full, 1 "
                   "sender, 1 receiver); its only receiver, stage \"embed\", waits for pool "
                   "\"work\", whose 2 threads (1 worker and 1 spare) are all blocked (compensation "
                   "at its cap of 2 threads): stage \"parse\" sending on channel \"parsed\" (4/4 "
                   "full, 1 sender, 1 receiver); stage \"parse\" sending on channel \"parsed\" "
                   "(4/4 full, 1 sender, 1 receiver)"));
  CHECK(has("pool \"work\": 1 worker and 1 spare (up to 1): 0 running, 2 blocked"));
  CHECK(thread_lines_failing(names_its_pool) == 0);
  sl_watchdog_stop();
  sl_chan_close(s.parsed);
  pthread_join(t, NULL);
  sl_pool_destroy(s.work);
  sl_pool_destroy(s.embedq);
  sl_chan_drop_sender(s.parsed);
  sl_chan_drop_receiver(s.parsed);
}

/* ---- a cycle of two stages -------------------------------------------------- */

typedef struct cycle {
  sl_chan *c1, *c2;
  pthread_barrier_t step;
} cycle;

static void *stage_a(void *p) {
  cycle *c = p;
  sl_thread_set_name("A");
  uint64_t v = 1;
  sl_chan_send(c->c1, &v);        /* B takes it: B is c1's receiver */
  pthread_barrier_wait(&c->step);
  sl_chan_recv(c->c2, &v);        /* A is c2's receiver */
  pthread_barrier_wait(&c->step);
  while (sl_chan_send(c->c1, &v) == 0) /* fills c1, then blocks */
    ;
  return NULL;
}

static void *stage_b(void *p) {
  cycle *c = p;
  sl_thread_set_name("B");
  uint64_t v = 1;
  sl_chan_recv(c->c1, &v);
  pthread_barrier_wait(&c->step);
  sl_chan_send(c->c2, &v);
  pthread_barrier_wait(&c->step);
  while (sl_chan_send(c->c2, &v) == 0)
    ;
  return NULL;
}

static void stall_names_a_cycle_of_two_stages(void) {
  cycle c;
  CHECK(sl_chan_create(&c.c1, "a-to-b", sizeof(uint64_t), 1) == 0);
  CHECK(sl_chan_create(&c.c2, "b-to-a", sizeof(uint64_t), 1) == 0);
  pthread_barrier_init(&c.step, NULL, 2);
  watch(0.5);
  pthread_t a, b;
  pthread_create(&a, NULL, stage_a, &c);
  pthread_create(&b, NULL, stage_b, &c);
  CHECK(await_report());
  CHECK(has("blocked sending on channel \"a-to-b\" (1/1 full"));
  CHECK(has("blocked sending on channel \"b-to-a\" (1/1 full"));
  CHECK(has("a cycle, none of them can move"));
  CHECK(has("its only receiver, stage \"B\"") || has("its only receiver, stage \"A\""));
  sl_watchdog_stop();
  sl_chan_close(c.c1);
  sl_chan_close(c.c2);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  pthread_barrier_destroy(&c.step);
  sl_chan *cs[2] = {c.c1, c.c2};
  for (int i = 0; i < 2; i++) {
    sl_chan_drop_sender(cs[i]);
    sl_chan_drop_receiver(cs[i]);
  }
}

/* ---- a receive nobody will satisfy ------------------------------------------ */

typedef struct orphan {
  sl_chan *data, *control;
} orphan;

static void *sender_b(void *p) {
  orphan *o = p;
  sl_thread_set_name("loader");
  uint64_t v = 7;
  sl_chan_send(o->data, &v);        /* loader is data's sender */
  sl_chan_recv(o->control, &v);     /* and now waits for a command never sent */
  return NULL;
}

static void *receiver_a(void *p) {
  orphan *o = p;
  sl_thread_set_name("indexer");
  uint64_t v;
  while (sl_chan_recv(o->data, &v) == 0)
    ;
  return NULL;
}

static void stall_names_a_receiver_whose_sender_is_blocked(void) {
  orphan o;
  CHECK(sl_chan_create(&o.data, "documents", sizeof(uint64_t), 8) == 0);
  CHECK(sl_chan_create(&o.control, "commands", sizeof(uint64_t), 8) == 0);
  watch(0.5);
  pthread_t a, b;
  pthread_create(&b, NULL, sender_b, &o);
  pthread_create(&a, NULL, receiver_a, &o);
  CHECK(await_report());
  CHECK(has("stage \"indexer\" blocked receiving on channel \"documents\" (0/8 empty"));
  CHECK(has("its only sender, stage \"loader\", blocked receiving on channel \"commands\" (0/8 empty"));
  CHECK(has("no sender has sent on it yet"));
  sl_watchdog_stop();
  sl_chan_close(o.data);
  sl_chan_close(o.control);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  sl_chan *cs[2] = {o.data, o.control};
  for (int i = 0; i < 2; i++) {
    sl_chan_drop_sender(cs[i]);
    sl_chan_drop_receiver(cs[i]);
  }
}

/* ---- a cycle through a select ---------------------------------------------------- */

/* "producer" fills "jobs", whose only receiver "router" waits in a select
 * on "replies" (whose only sender is the producer) and "ctl" (never sent
 * on): a cycle that passes through one operation of the select. */
typedef struct routing {
  sl_chan *jobs, *replies, *ctl;
  pthread_barrier_t step;
} routing;

static void *producer(void *p) {
  routing *r = p;
  sl_thread_set_name("producer");
  uint64_t v = 1;
  sl_chan_send(r->jobs, &v);    /* the router takes it: its receiver */
  sl_chan_send(r->replies, &v); /* the producer is the replies' sender */
  pthread_barrier_wait(&r->step);
  while (sl_chan_send(r->jobs, &v) == 0) /* fills jobs, then blocks */
    ;
  return NULL;
}

static void *router(void *p) {
  routing *r = p;
  sl_thread_set_name("router");
  uint64_t v, w;
  sl_chan_recv(r->jobs, &v);
  sl_chan_recv(r->replies, &v);
  pthread_barrier_wait(&r->step);
  sl_select_op ops[2] = {{r->replies, SL_SELECT_RECV, &v}, {r->ctl, SL_SELECT_RECV, &w}};
  size_t which;
  sl_select(ops, 2, SL_FOREVER, &which);
  return NULL;
}

static void stall_verdict_follows_a_select(void) {
  routing r;
  CHECK(sl_chan_create(&r.jobs, "jobs", sizeof(uint64_t), 2) == 0);
  CHECK(sl_chan_create(&r.replies, "replies", sizeof(uint64_t), 2) == 0);
  CHECK(sl_chan_create(&r.ctl, "ctl", sizeof(uint64_t), 1) == 0);
  pthread_barrier_init(&r.step, NULL, 2);
  watch(0.5);
  pthread_t a, b;
  pthread_create(&a, NULL, producer, &r);
  pthread_create(&b, NULL, router, &r);
  CHECK(await_report());
  CHECK(verdict_is("verdict: stage \"producer\" blocked sending on channel \"jobs\" (2/2 full, "
                   "1 sender, 1 receiver); its only receiver, stage \"router\", blocked in a "
                   "select, receiving on channel \"replies\" (0/2 empty, 1 sender, 1 receiver) "
                   "or receiving on channel \"ctl\" (0/1 empty, 1 sender, 1 receiver); the only "
                   "sender of \"replies\", stage \"producer\", is where this chain began: a "
                   "cycle, none of them can move"));
  CHECK(has("  stage \"router\": in a select, receiving on channel \"replies\""));
  CHECK(thread_lines_failing(names_its_pool) == 0);
  sl_watchdog_stop();
  sl_chan *cs[3] = {r.jobs, r.replies, r.ctl};
  for (int i = 0; i < 3; i++)
    sl_chan_close(cs[i]);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  pthread_barrier_destroy(&r.step);
  for (int i = 0; i < 3; i++) {
    sl_chan_drop_sender(cs[i]);
    sl_chan_drop_receiver(cs[i]);
  }
}

/* ---- a pipeline map whose jobs block on a user channel --------------------------- */

/* Source "read" -> map "embed" (2 jobs on pool "work") -> sink "write".
 * Each job also sends on the user channel "audit" (capacity 1), whose only
 * receiver, "auditor", takes one message and then waits on "control",
 * where nothing is ever sent: both jobs block on "audit", the map waits
 * for them, "rows" fills and the source blocks. */
typedef struct audited {
  sl_chan *audit, *control;
  sl_pool *work;
  _Atomic int off_pool; /* map calls not on pool "work" */
} audited;

static int read_rows(void *user, sl_emitter *out) {
  (void)user;
  for (uintptr_t i = 0; i < 64; i++)
    if (sl_emit(out, (void *)(i + 1)) != 0)
      break;
  return 0;
}

static int embed_row(void *user, void *item, void **out) {
  audited *a = user;
  if (sl_current_pool() != a->work)
    atomic_fetch_add(&a->off_pool, 1);
  uint64_t v = (uintptr_t)item;
  sl_chan_send(a->audit, &v); /* SL_ECLOSED once the test undoes the stall */
  *out = item;
  return 0;
}

static int write_row(void *user, void *item) { (void)user, (void)item; return 0; }

static void *auditor(void *p) {
  audited *a = p;
  sl_thread_set_name("auditor");
  uint64_t v;
  sl_chan_recv(a->audit, &v);
  sl_chan_recv(a->control, &v);
  return NULL;
}

static void *run_pipeline(void *p) { return (void *)(intptr_t)sl_pipeline_run(p); }

static bool not_global(const char *line) { return !strstr(line, "pool \"global\""); }

static void stall_names_map_jobs_blocked_on_a_user_channel(void) {
  for (int flags = SL_MAP_ORDERED; flags <= SL_MAP_UNORDERED; flags++) {
    audited a = {0};
    CHECK(sl_pool_create(&a.work, "work", 2) == 0); /* spares allowed: the cap is not reached */
    CHECK(sl_chan_create(&a.audit, "audit", sizeof(uint64_t), 1) == 0);
    CHECK(sl_chan_create(&a.control, "control", sizeof(uint64_t), 1) == 0);
    sl_pipeline *p;
    CHECK(sl_pipeline_create(&p, &(sl_pipeline_config){.name = "stalled", .pool = a.work}) == 0);
    sl_stage *rd = sl_pipeline_source(p, "read", read_rows, NULL);
    sl_stage *em = sl_pipeline_map(p, "embed", embed_row, &a, 2, flags);
    sl_stage *wr = sl_pipeline_sink(p, "write", write_row, NULL);
    CHECK(sl_pipeline_connect(p, rd, em, "rows", 4) == 0);
    CHECK(sl_pipeline_connect(p, em, wr, "embedded", 4) == 0);
    watch(0.5);
    pthread_t aud, run;
    pthread_create(&aud, NULL, auditor, &a);
    pthread_create(&run, NULL, run_pipeline, p);
    CHECK(await_report());
    /* Both jobs block on "audit": an ordered map keeps starting jobs while
     * finished results wait behind the blocked one. */
    const char *jobs = "its 2 jobs on pool \"work\" (both blocked)";
    char want[1024];
    snprintf(want, sizeof want,
             "verdict: stage \"read\" blocked sending on channel \"rows\" (4/4 full, 1 sender, "
             "1 receiver); its only receiver, stage \"embed\", blocked waiting for %s; one of "
             "them, worker %%d of pool \"work\" running a job of map \"embed\", blocked sending "
             "on channel \"audit\" (1/1 full, 1 sender, 1 receiver); its only receiver, stage "
             "\"auditor\", blocked receiving on channel \"control\" (0/1 empty, 1 sender, 1 "
             "receiver); no sender has sent on it yet", jobs);
    CHECK(verdict_is(want));
    /* The internal channel is marked, never listed as the user's. */
    CHECK(!strstr(report, "pipeline-done"));
    CHECK(!strstr(report, "\n  \"embed\" ("));
    CHECK(has("\n  internal: where the jobs of map \"embed\" on pool \"work\" report back ("));
    CHECK(has("  pipeline \"stalled\": waiting for its stages to finish for "));
    char line[256];
    snprintf(line, sizeof line, "  stage \"embed\": waiting for %s for ", jobs);
    CHECK(has(line));
    CHECK(thread_lines_failing(names_its_pool) == 0);
    CHECK(thread_lines_failing(not_global) == 0); /* the jobs ran on "work" */
    CHECK(!strstr(report, "cap")); /* 2 threads of up to 4: not at the cap */
    sl_watchdog_stop();
    sl_chan_close(a.control); /* undo: the auditor leaves, the jobs' sends fail */
    sl_chan_close(a.audit);
    void *rc;
    pthread_join(run, &rc);
    CHECK(rc == NULL);
    pthread_join(aud, NULL);
    CHECK(atomic_load(&a.off_pool) == 0);
    sl_pipeline_destroy(p);
    CHECK(sl_pool_destroy(a.work) == 0);
    sl_chan *cs[2] = {a.audit, a.control};
    for (int i = 0; i < 2; i++) {
      sl_chan_drop_sender(cs[i]);
      sl_chan_drop_receiver(cs[i]);
    }
  }
}

/* ---- a join, and a blocking region ------------------------------------------------ */

/* "joiner" installs into pool "work" and joins two halves; the second is
 * stolen by a worker and blocks on a channel nobody sends on, so the
 * joiner waits for it in its join. */
typedef struct joined {
  sl_pool *work;
  sl_chan *never;
  _Atomic int stolen;
} joined;

static void first_half(void *p) {
  joined *j = p;
  for (int i = 0; i < 10000 && !atomic_load(&j->stolen); i++)
    usleep(1000); /* until a worker has taken the second half */
}

static void second_half(void *p) {
  joined *j = p;
  atomic_store(&j->stolen, 1);
  uint64_t v;
  sl_chan_recv(j->never, &v);
}

static void join_halves(void *p) { sl_join(first_half, p, second_half, p); }

static void *joiner(void *p) {
  joined *j = p;
  sl_thread_set_name("joiner");
  sl_install(j->work, join_halves, j);
  return NULL;
}

static void stall_verdict_through_a_join(void) {
  joined j = {0};
  CHECK(sl_pool_create(&j.work, "work", 2) == 0);
  CHECK(sl_chan_create(&j.never, "never", sizeof(uint64_t), 1) == 0);
  watch(0.5);
  pthread_t t;
  pthread_create(&t, NULL, joiner, &j);
  CHECK(await_report());
  CHECK(verdict_is("verdict: stage \"joiner\" waits for jobs it handed to pool \"work\" (0 "
                   "running, 1 blocked, 1 idle): worker %d of pool \"work\" receiving on "
                   "channel \"never\" (0/1 empty, 1 sender, 1 receiver)"));
  CHECK(has("  stage \"joiner\" (an outside thread in pool \"work\"): waiting for jobs it "
            "handed to pool \"work\" for "));
  CHECK(thread_lines_failing(names_its_pool) == 0);
  sl_watchdog_stop();
  sl_chan_close(j.never);
  pthread_join(t, NULL);
  CHECK(sl_pool_destroy(j.work) == 0);
  sl_chan_drop_sender(j.never);
  sl_chan_drop_receiver(j.never);
}

/* "reader" sends once on "lines", then blocks reading a pipe inside a
 * declared blocking region; "consumer" waits for its next line. */
typedef struct reading {
  sl_chan *lines;
  int fds[2];
} reading;

static void *reader(void *p) {
  reading *r = p;
  sl_thread_set_name("reader");
  uint64_t v = 1;
  sl_chan_send(r->lines, &v);
  char c;
  sl_blocking_begin("reading a pipe");
  ssize_t n = read(r->fds[0], &c, 1); /* until the test writes */
  sl_blocking_end();
  (void)n;
  sl_chan_close(r->lines);
  return NULL;
}

static void *consumer(void *p) {
  reading *r = p;
  sl_thread_set_name("consumer");
  uint64_t v;
  while (sl_chan_recv(r->lines, &v) == 0)
    ;
  return NULL;
}

static void stall_verdict_ends_at_a_blocking_region(void) {
  reading r;
  CHECK(sl_chan_create(&r.lines, "lines", sizeof(uint64_t), 4) == 0);
  CHECK(pipe(r.fds) == 0);
  watch(0.5);
  pthread_t a, b;
  pthread_create(&a, NULL, reader, &r);
  pthread_create(&b, NULL, consumer, &r);
  CHECK(await_report());
  CHECK(verdict_is("verdict: stage \"consumer\" blocked receiving on channel \"lines\" (0/4 "
                   "empty, 1 sender, 1 receiver); its only sender, stage \"reader\", is in a "
                   "blocking region (reading a pipe): it waits outside sluice, for something "
                   "sluice cannot see"));
  CHECK(has("  stage \"reader\": in a blocking region: reading a pipe for "));
  sl_watchdog_stop();
  CHECK(write(r.fds[1], "x", 1) == 1);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  close(r.fds[0]);
  close(r.fds[1]);
  sl_chan_drop_sender(r.lines);
  sl_chan_drop_receiver(r.lines);
}

/* ---- unnamed threads ------------------------------------------------------------- */

/* Jobs that block on a channel, spawned on unnamed pool workers: one an
 * exported function (the test links with -rdynamic), one static. A plain
 * unnamed thread blocks too. The report names the exported function, shows
 * the static one as FILE+0xOFFSET, and says how to name threads. */
void stall_test_exported_job(void *p);
void stall_test_exported_job(void *p) {
  uint64_t v;
  sl_chan_recv(p, &v);
}

static void static_job(void *p) {
  uint64_t v;
  sl_chan_recv(p, &v);
}

static void *plain_unnamed(void *p) {
  uint64_t v;
  sl_chan_recv(p, &v);
  return NULL;
}

static void stall_shows_what_unnamed_threads_run(void) {
  sl_pool *one, *two;
  sl_chan *never;
  CHECK(sl_pool_create(&one, "exported", 1) == 0);
  CHECK(sl_pool_create(&two, "static", 1) == 0);
  CHECK(sl_chan_create(&never, "never", sizeof(uint64_t), 1) == 0);
  watch(0.5);
  CHECK(sl_pool_spawn(one, stall_test_exported_job, never) == 0);
  CHECK(sl_pool_spawn(two, static_job, never) == 0);
  pthread_t t;
  pthread_create(&t, NULL, plain_unnamed, never);
  CHECK(await_report());
  CHECK(has("  worker 0 of pool \"exported\" running stall_test_exported_job(): receiving on "
            "channel \"never\""));
  CHECK(has("  worker 0 of pool \"static\" running stall_test+0x"));
  CHECK(has("addr2line -f -e FILE 0xOFFSET"));
  CHECK(has("sl_thread_set_name(\"...\")"));
  CHECK(has(": receiving on channel \"never\" (0/1 empty, 1 sender, 1 receiver) for "));
  CHECK(thread_lines_failing(names_its_pool) == 0);
  sl_watchdog_stop();
  sl_chan_close(never);
  pthread_join(t, NULL);
  CHECK(sl_pool_destroy(one) == 0 && sl_pool_destroy(two) == 0);
  sl_chan_drop_sender(never);
  sl_chan_drop_receiver(never);
}

/* ---- no false reports ----------------------------------------------------------- */

typedef struct busy {
  sl_chan *ch;
  double seconds;
} busy;

/* Sends slowly but steadily, then computes for a long stretch (no progress
 * counted, but a CPU busy) while the receiver waits for the result. */
static void *steady_sender(void *p) {
  busy *b = p;
  double end = check_now() + b->seconds;
  uint64_t v = 0;
  while (check_now() < end) {
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL); /* pacing, not synchronisation */
    sl_chan_send(b->ch, &v);
  }
  volatile uint64_t x = 0;
  double compute_until = check_now() + b->seconds;
  while (check_now() < compute_until)
    x++;
  sl_chan_close(b->ch);
  return NULL;
}

static void stall_stays_quiet_while_work_progresses(void) {
  busy b = {.seconds = 1.5};
  CHECK(sl_chan_create(&b.ch, "steady", sizeof(uint64_t), 4) == 0);
  /* 1 s, not the 0.4 s of the stall cases: a false report then needs the
   * computing thread to get under 5% of a core for a whole second, which
   * only a machine oversubscribed many times over (TSan plus other jobs)
   * did; the 1.5 s compute phase still outlasts the limit */
  watch(1.0);
  pthread_t t;
  pthread_create(&t, NULL, steady_sender, &b);
  uint64_t v;
  while (sl_chan_recv(b.ch, &v) == 0)
    ;
  pthread_join(t, NULL);
  sl_watchdog_stop();
  CHECK(reports == 0);
  if (reports)
    fprintf(stderr, "false report:\n%s", report);
  sl_chan_drop_sender(b.ch);
  sl_chan_drop_receiver(b.ch);
}

static void watchdog_rejects_bad_config_and_dumps(void) {
  sl_watchdog_config bad = {.seconds = -1};
  CHECK(sl_watchdog_start(NULL) == SL_EINVAL);
  CHECK(sl_watchdog_start(&bad) == SL_EINVAL);
  sl_watchdog_config nocb = {.seconds = 1, .action = SL_STALL_CALLBACK};
  CHECK(sl_watchdog_start(&nocb) == SL_EINVAL);
  watch(5);
  sl_watchdog_config again = {.seconds = 1};
  CHECK(sl_watchdog_start(&again) == SL_EBUSY);
  sl_watchdog_stop();
  sl_watchdog_stop(); /* idempotent */
  CHECK(sl_state_dump(-1) == SL_EINVAL);
  int fds[2];
  CHECK(pipe(fds) == 0);
  CHECK(sl_state_dump(fds[1]) == 0);
  char buf[256] = {0};
  CHECK(read(fds[0], buf, sizeof buf - 1) > 0 && strstr(buf, "sluice: state dump"));
  close(fds[0]);
  close(fds[1]);
  CHECK(sl_dump_on_signal(SIGINT) == SL_EINVAL);
}

/* SIGUSR1 asks for a dump on stderr, written by the watchdog thread. */
static void signal_writes_a_state_dump_to_stderr(void) {
  int fds[2];
  CHECK(pipe(fds) == 0);
  int saved = dup(STDERR_FILENO);
  CHECK(dup2(fds[1], STDERR_FILENO) == STDERR_FILENO);
  CHECK(sl_dump_on_signal(SIGUSR1) == 0);
  raise(SIGUSR1);
  struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
  char buf[512] = {0};
  bool got = poll(&pfd, 1, 20000) == 1 && read(fds[0], buf, sizeof buf - 1) > 0;
  dup2(saved, STDERR_FILENO);
  close(saved);
  close(fds[0]);
  close(fds[1]);
  CHECK(got && strstr(buf, "sluice: state dump"));
  sl_watchdog_stop();
}

/* ---- configuration ----------------------------------------------------------- */

/* Runs first: the variable is read once, by the process's first pool or
 * channel. The warning names the variable, the value and what it takes. */
static void malformed_sluice_watchdog_warns_once(void) {
  CHECK(setenv("SLUICE_WATCHDOG", "abc", 1) == 0);
  int fds[2];
  CHECK(pipe(fds) == 0);
  int saved = dup(STDERR_FILENO);
  CHECK(dup2(fds[1], STDERR_FILENO) == STDERR_FILENO);
  sl_chan *a, *b;
  CHECK(sl_chan_create(&a, "first", 8, 1) == 0); /* reads SLUICE_WATCHDOG */
  CHECK(sl_chan_create(&b, "second", 8, 1) == 0);
  dup2(saved, STDERR_FILENO);
  close(saved);
  close(fds[1]);
  char buf[1024] = {0};
  size_t got = 0;
  for (ssize_t n; (n = read(fds[0], buf + got, sizeof buf - 1 - got)) > 0;)
    got += (size_t)n;
  close(fds[0]);
  fprintf(stderr, "warning: %s", buf);
  CHECK(strncmp(buf, "sluice: SLUICE_WATCHDOG=\"abc\" is not a number of seconds", 53) == 0);
  CHECK(strstr(buf, "SLUICE_WATCHDOG=2") && strstr(buf, "0 for none"));
  CHECK(strchr(buf, '\n') == buf + got - 1); /* one line, once */
  sl_watchdog_config cfg = {.seconds = 5, .action = SL_STALL_CALLBACK, .callback = on_stall};
  CHECK(sl_watchdog_start(&cfg) == 0); /* none was started */
  sl_watchdog_stop();
  unsetenv("SLUICE_WATCHDOG");
  sl_chan *cs[2] = {a, b};
  for (int i = 0; i < 2; i++) {
    sl_chan_drop_sender(cs[i]);
    sl_chan_drop_receiver(cs[i]);
  }

  double secs;
  CHECK(sl__watchdog_env_parse("2", &secs) == 1 && secs == 2);
  CHECK(sl__watchdog_env_parse(" 0.5 ", &secs) == 1 && secs == 0.5);
  CHECK(sl__watchdog_env_parse("0", &secs) == 0);
  CHECK(sl__watchdog_env_parse("", &secs) == 0);
  CHECK(sl__watchdog_env_parse(NULL, &secs) == 0);
  static const char *bad[] = {"abc", "2s", "-1", "nan", "inf", "1e9", "2 3", "0x"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    CHECK(sl__watchdog_env_parse(bad[i], &secs) == -1);
}

static void *recv_forever(void *p) {
  sl_thread_set_name("waiter");
  uint64_t v;
  sl_chan_recv(p, &v);
  return NULL;
}

/* A zeroed config (fd 0) reports to stderr, not to stdin. */
static void zeroed_config_reports_to_stderr(void) {
  sl_chan *ch;
  CHECK(sl_chan_create(&ch, "silent", sizeof(uint64_t), 1) == 0);
  int fds[2];
  CHECK(pipe(fds) == 0);
  int saved = dup(STDERR_FILENO);
  CHECK(dup2(fds[1], STDERR_FILENO) == STDERR_FILENO);
  sl_watchdog_config cfg = {.seconds = 0.3};
  CHECK(sl_watchdog_start(&cfg) == 0);
  pthread_t t;
  pthread_create(&t, NULL, recv_forever, ch);
  struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
  char buf[512] = {0};
  bool got = poll(&pfd, 1, 30000) == 1 && read(fds[0], buf, sizeof buf - 1) > 0;
  sl_watchdog_stop();
  dup2(saved, STDERR_FILENO);
  close(saved);
  close(fds[0]);
  close(fds[1]);
  CHECK(got && strstr(buf, "sluice: stall: no progress"));
  sl_chan_close(ch);
  pthread_join(t, NULL);
  sl_chan_drop_sender(ch);
  sl_chan_drop_receiver(ch);
}

int main(void) {
  RUN(malformed_sluice_watchdog_warns_once);
  RUN(watchdog_rejects_bad_config_and_dumps);
  RUN(signal_writes_a_state_dump_to_stderr);
  RUN(stall_names_a_starved_pool);
  RUN(stall_names_the_cap_only_when_reached);
  RUN(stall_verdict_follows_a_select);
  RUN(stall_names_map_jobs_blocked_on_a_user_channel);
  RUN(stall_verdict_through_a_join);
  RUN(stall_verdict_ends_at_a_blocking_region);
  RUN(stall_shows_what_unnamed_threads_run);
  RUN(zeroed_config_reports_to_stderr);
  RUN(stall_names_a_cycle_of_two_stages);
  RUN(stall_names_a_receiver_whose_sender_is_blocked);
  RUN(stall_stays_quiet_while_work_progresses);
  return check_done("stall_test");
}
