/* stall_test.c: the stall detector on real deadlocks built on purpose, each
 * undone afterwards by closing its channels: a starved pool (compensation
 * disabled), a cycle of two stages on each other's full channels, and a
 * receive on a channel whose only sender is alive but blocked elsewhere.
 * Each report must name the right stages, channels and fill levels. A long
 * run that keeps progressing (or keeps a CPU busy) must get no report. A
 * malformed SLUICE_WATCHDOG gets one warning; a zeroed config reports to
 * stderr. */
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
  return got;
}

static bool has(const char *needle) {
  if (strstr(report, needle))
    return true;
  fprintf(stderr, "report lacks: %s\n", needle);
  return false;
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
  CHECK(has("pool \"work\": 2 workers"));
  sl_watchdog_stop();
  sl_chan_close(s.parsed); /* undo: the senders fail, the pool frees up */
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
  RUN(stall_names_a_cycle_of_two_stages);
  RUN(stall_names_a_receiver_whose_sender_is_blocked);
  RUN(zeroed_config_reports_to_stderr);
  RUN(stall_stays_quiet_while_work_progresses);
  return check_done("stall_test");
}
