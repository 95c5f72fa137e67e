/* bench_chan.c: workload chan (../shared/peers/README.md, W3): 10M u64
 * through one channel between OS threads, timed from channel creation to
 * the last consumer joined. Variants 1p1c (cap 64), 4p4c (cap 64) and
 * unbounded (1p1c), plus `select`: two cap-64 channels, one producer on
 * each sending half of the values, one consumer selecting over both (our
 * own shape; the peers have no such line). The `threads` argument is
 * ignored, as the peers ignore it: each variant fixes its thread count.
 *
 * Variant 64p64c-jobs (our own shape, against Go's 64+64 goroutines): the
 * same messages, cap 64, between 64 producers and 64 consumers that are
 * jobs of a pool of 2 workers, spawned with sl_pool_spawn while this
 * thread waits outside the pool. It prints two lines: the pool with
 * continuations (waiting jobs are suspended, so 2 threads run all 128) and
 * param 64p64c-jobs-nocont, the same pool without them, where each waiting
 * job holds a thread and spares are started up to the default cap. A
 * monitor thread samples the process's thread count every millisecond
 * (its peak goes to stderr) and, when no consumer has received anything
 * for WATCHDOG_S seconds (default 5), reports a deadlock: it closes the
 * channel so the jobs unwind, and the line says seconds=inf
 * metric=DEADLOCK. That is the expected outcome without continuations once
 * every thread the cap allows holds a waiting job; with them it is a
 * failure. */
#include "bench.h"

#include "sluice.h"

#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* ---- 64p64c-jobs: producers and consumers as pool jobs ------------------ */

#define JOBS_SIDE 64
#define JOBS_POOL 2
/* A consumer reports progress once per this many messages: about 2,400
 * relaxed increments in a run, too few to cost anything measurable. */
#define PROGRESS_EVERY 4096
/* The sampler's period: short enough to catch a spare that lives a few
 * milliseconds; each sample is one read of /proc/self/status. */
#define MONITOR_PERIOD_US 1000

typedef struct jobs_run {
  sl_pool *pool;
  atomic_ullong sum;         /* this repetition's; consumers add theirs once, at the end */
  atomic_int errors;         /* unexpected return codes and wrong sums, all repetitions */
  atomic_uint left;          /* jobs of this repetition not finished yet */
  sem_t done;                /* posted by the job that finishes last */
  atomic_ullong progress;    /* messages received / PROGRESS_EVERY; relaxed: only watched */
  struct jobs_producer {
    struct jobs_run *r;
    uint64_t lo, hi;
  } pa[JOBS_SIDE];
  /* Shared with the monitor. lock guards chan_live and deadlocked, and the
   * monitor's use of chan: while chan_live, the main thread holds a receiver
   * handle, so the monitor may close the channel without racing its free.
   * The jobs read chan unlocked: it is set before they are spawned and
   * cleared after the last one is done. */
  pthread_mutex_t lock;
  sl_chan *chan;
  bool chan_live;
  bool deadlocked;
  unsigned long long stuck_progress; /* progress when the deadlock was seen */
  unsigned stuck_left;               /* jobs unfinished then */
  atomic_bool stop;                  /* tells the monitor to return */
  unsigned peak_threads;             /* written by the monitor, read after its join */
} jobs_run;

/* The last job of a repetition to finish wakes the main thread; after the
 * post it touches nothing of r, which the main thread may reuse at once. */
static void job_done(jobs_run *r) {
  /* acq_rel: the last decrement sees every other job's sum and errors
   * before its post, which publishes them to the main thread's sem_wait. */
  if (atomic_fetch_sub_explicit(&r->left, 1, memory_order_acq_rel) == 1)
    sem_post(&r->done);
}

static void producer_job(void *p) {
  struct jobs_producer *a = p;
  jobs_run *r = a->r;
  sl_chan *ch = r->chan;
  for (uint64_t v = a->lo; v < a->hi; v++)
    if (sl_chan_send(ch, &v) != 0) {
      atomic_fetch_add_explicit(&r->errors, 1, memory_order_relaxed);
      break;
    }
  sl_chan_drop_sender(ch);
  job_done(r);
}

static void consumer_job(void *p) {
  jobs_run *r = p;
  sl_chan *ch = r->chan;
  uint64_t v, sum = 0, n = 0;
  int rc;
  while ((rc = sl_chan_recv(ch, &v)) == 0) {
    sum += v;
    if (++n % PROGRESS_EVERY == 0)
      atomic_fetch_add_explicit(&r->progress, 1, memory_order_relaxed);
  }
  if (rc != SL_ECLOSED)
    atomic_fetch_add_explicit(&r->errors, 1, memory_order_relaxed);
  sl_chan_drop_receiver(ch);
  atomic_fetch_add_explicit(&r->sum, sum, memory_order_relaxed);
  job_done(r);
}

/* The process's thread count from /proc/self/status, or 0 if unreadable. */
static unsigned process_threads(void) {
  char buf[4096];
  int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  const char *at = strstr(buf, "\nThreads:");
  return at ? (unsigned)strtoul(at + 9, NULL, 10) : 0;
}

/* Samples the thread count every millisecond and watches the consumers'
 * progress while a channel is live. */
static void *jobs_monitor(void *p) {
  jobs_run *r = p;
  const char *env = getenv("WATCHDOG_S");
  double limit = env ? atof(env) : 5.0;
  unsigned long long last = 0;
  double since = bench_now();
  while (!atomic_load_explicit(&r->stop, memory_order_acquire)) {
    unsigned n = process_threads();
    if (n > r->peak_threads)
      r->peak_threads = n;
    unsigned long long now = atomic_load_explicit(&r->progress, memory_order_relaxed);
    pthread_mutex_lock(&r->lock);
    if (!r->chan_live || now != last) {
      last = now;
      since = bench_now();
    } else if (!r->deadlocked && bench_now() - since > limit) {
      r->deadlocked = true;
      r->stuck_progress = now;
      r->stuck_left = atomic_load_explicit(&r->left, memory_order_relaxed);
      sl_chan_close(r->chan); /* waiting senders fail, receivers drain: the jobs unwind */
    }
    pthread_mutex_unlock(&r->lock);
    usleep(MONITOR_PERIOD_US);
  }
  return NULL;
}

static double once_jobs(void *arg) {
  jobs_run *r = arg;
  if (r->deadlocked)
    return 0; /* reported once; the next repetitions would only wait again */
  atomic_store(&r->sum, 0);
  atomic_store(&r->left, 2 * JOBS_SIDE);
  double t0 = bench_now();
  sl_chan *ch;
  if (sl_chan_create(&ch, "bench-jobs", sizeof(uint64_t), CAP) != 0) {
    atomic_fetch_add(&r->errors, 1);
    return 0;
  }
  /* Each job gets its own handle; the creator's sender goes once the jobs
   * are spawned, its receiver after the wait (the monitor may use it). */
  for (unsigned i = 0; i < JOBS_SIDE; i++) {
    sl_chan_add_sender(ch);
    sl_chan_add_receiver(ch);
  }
  pthread_mutex_lock(&r->lock);
  r->chan = ch;
  r->chan_live = true;
  pthread_mutex_unlock(&r->lock);
  /* A job that cannot be spawned counts as an error and as finished, and
   * its handle is dropped here, so the channel still closes. */
  for (unsigned i = 0; i < JOBS_SIDE; i++)
    if (sl_pool_spawn(r->pool, consumer_job, r) != 0) {
      atomic_fetch_add(&r->errors, 1);
      sl_chan_drop_receiver(ch);
      job_done(r);
    }
  for (unsigned i = 0; i < JOBS_SIDE; i++) {
    r->pa[i] = (struct jobs_producer){r, i * MSGS / JOBS_SIDE, (i + 1) * MSGS / JOBS_SIDE};
    if (sl_pool_spawn(r->pool, producer_job, &r->pa[i]) != 0) {
      atomic_fetch_add(&r->errors, 1);
      sl_chan_drop_sender(ch);
      job_done(r);
    }
  }
  sl_chan_drop_sender(ch);
  while (sem_wait(&r->done) != 0)
    ; /* EINTR */
  double t = bench_now() - t0;
  pthread_mutex_lock(&r->lock);
  r->chan_live = false;
  r->chan = NULL;
  bool deadlocked = r->deadlocked;
  pthread_mutex_unlock(&r->lock);
  sl_chan_drop_receiver(ch);
  if (!deadlocked && atomic_load(&r->sum) != SUM_EXPECTED)
    atomic_fetch_add(&r->errors, 1);
  return t;
}

/* One line, with or without continuations; returns 0 unless a check failed
 * or the pool with continuations deadlocked. */
static int run_jobs(bool continuations) {
  const char *param = continuations ? "64p64c-jobs" : "64p64c-jobs-nocont";
  jobs_run *r = calloc(1, sizeof *r);
  if (!r || sem_init(&r->done, 0, 0)) {
    fprintf(stderr, "# sluice-bench: chan %s: out of memory\n", param);
    free(r);
    return 1;
  }
  pthread_mutex_init(&r->lock, NULL);
  int bad = 0;
  pthread_t mon;
  bool mon_ok = pthread_create(&mon, NULL, jobs_monitor, r) == 0;
  if (!mon_ok)
    fprintf(stderr, "# sluice-bench: chan %s: no monitor thread: no thread count, no "
                    "deadlock watch\n", param);
  sl_pool_config cfg = {.name = "jobs", .threads = JOBS_POOL, .continuations = continuations};
  int rc = sl_pool_create_ex(&r->pool, &cfg);
  if (rc) {
    fprintf(stderr, "# sluice-bench: chan %s: pool: %s\n", param, sl_strerror(rc));
    bad = 1;
    goto out_monitor;
  }
  double s = bench_median(once_jobs, r);
  rc = sl_pool_destroy(r->pool);
  if (rc)
    fprintf(stderr, "# sluice-bench: chan %s: pool destroy: %s\n", param, sl_strerror(rc));
  if (r->deadlocked) {
    fprintf(stderr, "# chan %s: no message received for %s s with %u of %u jobs unfinished "
                    "(%llu or more messages received): deadlock; the channel was closed "
                    "to unwind\n",
            param, getenv("WATCHDOG_S") ? getenv("WATCHDOG_S") : "5", r->stuck_left,
            2 * JOBS_SIDE, r->stuck_progress * PROGRESS_EVERY);
    printf("peer=sluice workload=chan threads=%u param=%s seconds=inf metric=DEADLOCK "
           "unit=Mmsg/s\n", JOBS_POOL, param);
    fflush(stdout);
    bad = continuations;
  } else {
    char what[64];
    snprintf(what, sizeof what, "chan %s-sum", param);
    bad = !bench_check(what, atomic_load(&r->errors) == 0);
    bench_line("chan", JOBS_POOL, param, s, 1e7 / s / 1e6, "Mmsg/s");
  }
out_monitor:
  if (mon_ok) {
    atomic_store_explicit(&r->stop, true, memory_order_release);
    pthread_join(mon, NULL);
    if (r->peak_threads)
      fprintf(stderr, "# chan %s: peak OS threads %u: Threads: of /proc/self/status, sampled "
                      "every 1 ms from before the pool's creation to after its destruction; "
                      "less this main thread and the sampler: %u (the pool's workers and "
                      "spares)\n", param, r->peak_threads, r->peak_threads - 2);
  }
  pthread_mutex_destroy(&r->lock);
  sem_destroy(&r->done);
  free(r);
  return bad;
}

static int run_variant(const char *variant) {
  if (strcmp(variant, "64p64c-jobs") == 0)
    return run_jobs(true) | run_jobs(false);
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
    fprintf(stderr,
            "# sluice-bench: chan variant %s unknown (1p1c 4p4c unbounded select "
            "64p64c-jobs)\n",
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
  const char *all[] = {"1p1c", "4p4c", "unbounded", "select", "64p64c-jobs"};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    bad |= run_variant(all[i]);
  return bad;
}
