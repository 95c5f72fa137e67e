/* pipeline.c: the pipeline layer: named stages, each on a thread of its
 * own, joined by named bounded channels of item pointers (sluice.h has the
 * contract and an example).
 *
 * HOW IT WORKS. sl_pipeline_run checks the graph (chains from a source to a
 * sink), starts one thread per stage, and waits on a futex for them to
 * finish, waking every progress interval to report. A stage ends when its
 * input channel is closed and drained; it then closes its output, so the end
 * flows downstream. A parallel map's thread is a dispatcher: it keeps up to
 * `workers` items in flight as pool jobs, which report back through an
 * unbounded channel (so a pool job never blocks), and emits results in input
 * order or as they come. An ordered map has `workers` more slots for
 * finished results that wait for an earlier item, so a slow item holds the
 * other jobs back only once that window is full too, not as soon as one
 * result waits behind it. In an unordered map a job also passes its result on
 * and takes the next input itself while both can be done without waiting
 * (try operations), and reports back only when one cannot: a busy map then
 * costs neither a dispatcher wake-up nor a job per item.
 *
 * CANCELLATION. The first error is kept (a CAS on err), the pipeline is
 * marked canceled and every channel is closed. Closing wakes every blocked
 * sender with SL_ECLOSED (it releases its item) and lets receivers drain
 * what is queued, releasing each item, until SL_ECLOSED. A parallel map
 * waits for its jobs in flight and releases their results. So every item is
 * released exactly once, by the free function of the stage that made it,
 * and every thread ends and is joined.
 *
 * Stage counters are relaxed atomics: written by the stage (and its jobs),
 * read racily by progress callbacks and summaries. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ST_SOURCE, ST_MAP, ST_FLAT, ST_BATCH, ST_SINK };

struct sl_emitter {
  sl_stage *s;
};

typedef struct counters {
  _Atomic uint64_t in, out, busy_ns, blocked_in_ns, blocked_out_ns;
} counters;

struct sl_stage {
  sl_pipeline *p;
  char name[32];
  int kind;
  union {
    sl_source_fn source;
    sl_map_fn map;
    sl_flat_fn flat;
    sl_sink_fn sink;
  } fn;
  void *user;
  unsigned workers;
  int flags;
  size_t batch_size;
  double flush_after;
  sl_item_free_fn free_fn;
  void *free_ctx;
  sl_stage *from;        /* upstream stage */
  sl_chan *in, *out;
  sl_emitter em;
  counters c;
  pthread_t thread;
  bool started;
};

struct sl_pipeline {
  char name[32];
  sl_pool *pool;
  sl_pipeline_config cfg;
  sl_stage **stages;
  size_t n, cap;
  sl_chan **chans;
  size_t nchans, capchans;
  int build_err;
  bool ran;
  _Atomic int err;
  _Atomic bool canceled;
  _Atomic uint32_t finished; /* stage threads done; futex for run() */
  int64_t t0, t1;
};

static void add_ns(_Atomic uint64_t *c, int64_t since) {
  atomic_fetch_add_explicit(c, (uint64_t)(sl_now_ns() - since), memory_order_relaxed);
}

static void count(_Atomic uint64_t *c) { atomic_fetch_add_explicit(c, 1, memory_order_relaxed); }

static bool canceled(sl_pipeline *p) {
  return atomic_load_explicit(&p->canceled, memory_order_acquire);
}

/* Records the first error and stops every stage (see CANCELLATION). */
static void fail(sl_pipeline *p, int rc) {
  int none = 0;
  atomic_compare_exchange_strong_explicit(&p->err, &none, rc, memory_order_acq_rel,
                                          memory_order_relaxed);
  if (atomic_exchange_explicit(&p->canceled, true, memory_order_acq_rel))
    return;
  for (size_t i = 0; i < p->nchans; i++)
    sl_chan_close(p->chans[i]);
}

/* Releases an item made by stage s. */
static void release(sl_stage *s, void *item) {
  if (!item || !s)
    return;
  if (s->kind == ST_BATCH) {
    sl_batch *b = item;
    for (size_t i = 0; i < b->n; i++)
      release(s->from, b->items[i]);
    sl_batch_free(b);
  } else if (s->free_fn) {
    s->free_fn(item, s->free_ctx);
  }
}

void sl_batch_free(sl_batch *b) { sl__free(b); }

int sl_emit(sl_emitter *em, void *item) {
  if (!em)
    return SL_EINVAL;
  sl_stage *s = em->s;
  if (canceled(s->p)) {
    release(s, item);
    return SL_ECANCELED;
  }
  int64_t t = sl_now_ns();
  int rc = sl_chan_send(s->out, &item);
  add_ns(&s->c.blocked_out_ns, t);
  if (rc) {
    release(s, item);
    return SL_ECANCELED;
  }
  count(&s->c.out);
  return 0;
}

/* Receives the next input item; SL_ECLOSED at the end (or after a cancel,
 * once drained). */
static int next_in(sl_stage *s, void **item, int64_t timeout_ns) {
  int64_t t = sl_now_ns();
  int rc = timeout_ns < 0 ? sl_chan_recv(s->in, item) : sl_chan_recv_timeout(s->in, item, timeout_ns);
  add_ns(&s->c.blocked_in_ns, t);
  if (rc == 0)
    count(&s->c.in);
  return rc;
}

/* Calls fn with the busy clock running and fails the pipeline on error. */
static void check(sl_stage *s, int rc, int64_t started) {
  add_ns(&s->c.busy_ns, started);
  if (rc && rc != SL_ECANCELED)
    fail(s->p, rc);
}

/* ---- the stage bodies --------------------------------------------------- */

static void run_source(sl_stage *s) {
  int64_t t = sl_now_ns();
  int rc = s->fn.source(s->user, &s->em);
  /* Time blocked in sl_emit is not busy time. */
  int64_t blocked = (int64_t)atomic_load_explicit(&s->c.blocked_out_ns, memory_order_relaxed);
  check(s, rc, t + blocked);
}

static void run_serial(sl_stage *s) {
  void *item;
  while (next_in(s, &item, -1) == 0) {
    if (canceled(s->p)) {
      release(s->from, item);
      continue;
    }
    int64_t t = sl_now_ns();
    if (s->kind == ST_SINK) {
      check(s, s->fn.sink(s->user, item), t);
    } else if (s->kind == ST_FLAT) {
      int64_t b0 = (int64_t)atomic_load_explicit(&s->c.blocked_out_ns, memory_order_relaxed);
      int rc = s->fn.flat(s->user, item, &s->em);
      int64_t b1 = (int64_t)atomic_load_explicit(&s->c.blocked_out_ns, memory_order_relaxed);
      check(s, rc, t + (b1 - b0));
    } else {
      void *out = NULL;
      int rc = s->fn.map(s->user, item, &out);
      check(s, rc, t);
      if (rc == 0 && out)
        sl_emit(&s->em, out);
    }
  }
}

static void run_batch(sl_stage *s) {
  int64_t timeout = s->flush_after > 0 ? (int64_t)(s->flush_after * 1e9) : -1;
  sl_batch *b = NULL;
  for (;;) {
    void *item;
    int rc = next_in(s, &item, b && b->n ? timeout : -1);
    if (rc == 0 && canceled(s->p)) {
      release(s->from, item);
      continue;
    }
    if (rc == 0) {
      if (!b) {
        if (!(b = sl__malloc(sizeof *b + s->batch_size * sizeof(void *)))) {
          release(s->from, item);
          fail(s->p, SL_ENOMEM);
          continue;
        }
        b->n = 0;
        b->items = (void **)(b + 1); /* the array follows the header, one block */
      }
      b->items[b->n++] = item;
    }
    bool full = b && b->n == s->batch_size;
    bool flush = b && b->n > 0 && (full || rc != 0);
    if (flush) {
      sl_emit(&s->em, b); /* releases b itself if canceled */
      b = NULL;
    }
    if (rc != 0 && rc != SL_ETIMEDOUT)
      break;
  }
  release(s, b);
}

/* ---- parallel map ------------------------------------------------------- */

typedef struct pm_slot {
  void *in, *out;
  int rc;
  bool done;
} pm_slot;

typedef struct pm {
  sl_stage *s;
  size_t nslots;  /* workers, and as many again for an ordered map's waiting results */
  pm_slot *slots;
  size_t *order;  /* ring: seq % nslots -> slot, for ordered output */
  size_t *free;   /* stack of free slots */
  size_t nfree;
  size_t running; /* jobs spawned whose slot index has not come back on done */
  sl_chan *done;  /* unbounded: slot indices of finished jobs */
  struct pm_job { struct pm *pm; size_t slot; } *jobs;
} pm;

/* An unordered map's job passes its result on itself when the output has
 * room, and then takes the next input itself when one is queued, so that a
 * busy map costs no dispatcher wake-up and no job per item. Both are try
 * operations: a pool job never blocks here. True when sl now holds a new
 * input to map. */
static bool pm_job_continue(pm *m, pm_slot *sl) {
  sl_stage *s = m->s;
  if (!(s->flags & SL_MAP_UNORDERED) || sl->rc != 0 || canceled(s->p))
    return false;
  if (sl->out) {
    if (sl_chan_try_send(s->out, &sl->out) != 0)
      return false; /* full or closed: the dispatcher emits it */
    count(&s->c.out);
  }
  sl->out = NULL;
  sl->in = NULL;
  void *next;
  if (sl_chan_try_recv(s->in, &next) != 0)
    return false;
  count(&s->c.in);
  sl->in = next;
  return true;
}

static void pm_job_run(void *arg) {
  struct pm_job *j = arg;
  pm *m = j->pm;
  pm_slot *sl = &m->slots[j->slot];
  /* Marks the thread as running a job of this map, for stall reports (a
   * pool worker has no stage name). Relaxed: read racily by the detector. */
  sl__thread *self = sl__self();
  const void *prev = atomic_load_explicit(&self->job_of, memory_order_relaxed);
  atomic_store_explicit(&self->job_of, m->done, memory_order_relaxed);
  do {
    int64_t t = sl_now_ns();
    sl->rc = m->s->fn.map(m->s->user, sl->in, &sl->out);
    add_ns(&m->s->c.busy_ns, t);
  } while (pm_job_continue(m, sl));
  atomic_store_explicit(&self->job_of, prev, memory_order_relaxed);
  /* The job holds a sender handle of its own (taken by the dispatcher), so
   * the channel outlives this send even if the dispatcher finishes and
   * returns the moment the slot index lands; m may be gone after the send. */
  sl_chan *done = m->done;
  size_t slot = j->slot;
  sl_chan_send(done, &slot); /* unbounded: never blocks */
  sl_chan_drop_sender(done);
}

/* Emits or releases the result of a finished slot and frees the slot. */
static void pm_finish(pm *m, size_t idx) {
  pm_slot *sl = &m->slots[idx];
  if (sl->rc && sl->rc != SL_ECANCELED)
    fail(m->s->p, sl->rc);
  else if (sl->rc == 0 && sl->out)
    sl_emit(&m->s->em, sl->out);
  sl->in = sl->out = NULL;
  sl->done = false;
  m->free[m->nfree++] = idx;
}

static void pm_loop(pm *m) {
  sl_stage *s = m->s;
  size_t W = s->workers, N = m->nslots;
  uint64_t seq_in = 0, seq_out = 0;
  bool open = true;
  while (open || seq_out < seq_in) {
    void *item;
    size_t idx;
    sl_select_op ops[2] = {{m->done, SL_SELECT_RECV, &idx}, {s->in, SL_SELECT_RECV, &item}};
    /* Input only while a job may start: fewer than W running, a slot free. */
    size_t nops = open && m->nfree > 0 && m->running < W ? 2 : 1;
    if (seq_out == seq_in) /* nothing in flight: only input */
      ops[0] = ops[1], nops = 1;
    size_t which;
    int64_t t = sl_now_ns();
    int rc = sl_select(ops, nops, SL_FOREVER, &which);
    bool is_input = ops[which].chan == s->in;
    if (is_input)
      add_ns(&s->c.blocked_in_ns, t);
    if (is_input && rc != 0) {
      open = false;
      continue;
    }
    if (is_input) {
      count(&s->c.in);
      if (canceled(s->p)) {
        release(s->from, item);
        continue;
      }
      size_t slot = m->free[--m->nfree];
      m->slots[slot] = (pm_slot){.in = item};
      m->order[seq_in % N] = slot;
      seq_in++;
      m->running++;
      sl_chan_add_sender(m->done); /* dropped by the job */
      if (sl_pool_spawn(s->p->pool, pm_job_run, &m->jobs[slot]))
        pm_job_run(&m->jobs[slot]); /* no memory for a job: run it here */
      continue;
    }
    m->running--;
    m->slots[idx].done = true;
    if (s->flags & SL_MAP_UNORDERED) {
      pm_finish(m, idx);
      seq_out++;
    } else {
      while (seq_out < seq_in && m->slots[m->order[seq_out % N]].done)
        pm_finish(m, m->order[seq_out++ % N]);
    }
  }
}

static void run_parallel_map(sl_stage *s) {
  /* workers <= SL_MAX_THREADS * 4 (sl_pipeline_map), so this cannot wrap. */
  size_t N = (s->flags & SL_MAP_UNORDERED) ? s->workers : 2 * (size_t)s->workers;
  pm m = {.s = s, .nslots = N};
  m.slots = sl__calloc(N, sizeof *m.slots);
  m.order = sl__calloc(N, sizeof *m.order);
  m.free = sl__calloc(N, sizeof *m.free);
  m.jobs = sl__calloc(N, sizeof *m.jobs);
  int rc = m.slots && m.order && m.free && m.jobs ? 0 : SL_ENOMEM;
  if (!rc)
    rc = sl__chan_create_internal(&m.done, s->name, sizeof(size_t), SL_CHAN_UNBOUNDED,
                                  s->p->pool);
  if (rc) {
    fail(s->p, rc);
    run_serial(s); /* canceled now: drains and releases the input */
  } else {
    for (size_t i = 0; i < N; i++) {
      m.free[m.nfree++] = N - 1 - i;
      m.jobs[i] = (struct pm_job){&m, i};
    }
    pm_loop(&m);
    sl_chan_drop_sender(m.done);
    sl_chan_drop_receiver(m.done);
  }
  sl__free(m.slots);
  sl__free(m.order);
  sl__free(m.free);
  sl__free(m.jobs);
}

static void *stage_main(void *arg) {
  sl_stage *s = arg;
  sl_thread_set_name(s->name);
  if (s->kind == ST_SOURCE)
    run_source(s);
  else if (s->kind == ST_BATCH)
    run_batch(s);
  else if (s->kind == ST_MAP && s->workers > 1)
    run_parallel_map(s);
  else
    run_serial(s);
  if (s->out)
    sl_chan_close(s->out); /* the end flows downstream */
  sl_pipeline *p = s->p;
  /* Release: run() sees the stage's counters final. */
  atomic_fetch_add_explicit(&p->finished, 1, memory_order_release);
  sl__wake(&p->finished, 1);
  return NULL;
}

/* ---- building ------------------------------------------------------------ */

int sl_pipeline_create(sl_pipeline **out, const sl_pipeline_config *cfg) {
  static const sl_pipeline_config defaults = {0};
  if (!out)
    return SL_EINVAL;
  *out = NULL;
  sl_pipeline *p = sl__calloc(1, sizeof *p);
  if (!p)
    return SL_ENOMEM;
  p->cfg = cfg ? *cfg : defaults;
  p->pool = p->cfg.pool; /* NULL: the global pool, looked up by run */
  snprintf(p->name, sizeof p->name, "%s", p->cfg.name ? p->cfg.name : "pipeline");
  p->cfg.name = p->name;
  if (p->cfg.progress_interval <= 0)
    p->cfg.progress_interval = 0.2;
  if (p->cfg.progress_interval < 0.1)
    p->cfg.progress_interval = 0.1;
  *out = p;
  return 0;
}

void sl_pipeline_destroy(sl_pipeline *p) {
  if (!p)
    return;
  for (size_t i = 0; i < p->nchans; i++) {
    sl_chan_drop_sender(p->chans[i]);
    sl_chan_drop_receiver(p->chans[i]);
  }
  for (size_t i = 0; i < p->n; i++)
    sl__free(p->stages[i]);
  sl__free(p->stages);
  sl__free(p->chans);
  sl__free(p);
}

static int build_error(sl_pipeline *p, int rc) {
  if (p && !p->build_err)
    p->build_err = rc;
  return rc;
}

static bool push_ptr(void ***arr, size_t *n, size_t *cap, void *x) {
  if (*n == *cap) {
    size_t ncap = *cap ? *cap * 2 : 8;
    void **a = sl__malloc(ncap * sizeof *a);
    if (!a)
      return false;
    if (*n)
      memcpy(a, *arr, *n * sizeof *a);
    sl__free(*arr);
    *arr = a;
    *cap = ncap;
  }
  (*arr)[(*n)++] = x;
  return true;
}

static sl_stage *add_stage(sl_pipeline *p, const char *name, int kind, void *fn, void *user) {
  if (!p)
    return NULL;
  if (!fn || p->ran) {
    build_error(p, SL_EINVAL);
    return NULL;
  }
  sl_stage *s = sl__calloc(1, sizeof *s);
  if (!s || !push_ptr((void ***)&p->stages, &p->n, &p->cap, s)) {
    sl__free(s);
    build_error(p, SL_ENOMEM);
    return NULL;
  }
  s->p = p;
  snprintf(s->name, sizeof s->name, "%s", name ? name : "stage");
  s->kind = kind;
  s->user = user;
  s->workers = 1;
  s->em.s = s;
  s->free_fn = p->cfg.item_free;
  s->free_ctx = p->cfg.item_free_ctx;
  return s;
}

sl_stage *sl_pipeline_source(sl_pipeline *p, const char *name, sl_source_fn fn, void *user) {
  sl_stage *s = add_stage(p, name, ST_SOURCE, fn ? (void *)1 : NULL, user);
  if (s)
    s->fn.source = fn;
  return s;
}

sl_stage *sl_pipeline_map(sl_pipeline *p, const char *name, sl_map_fn fn, void *user,
                          unsigned workers, int flags) {
  if (p && (flags & ~SL_MAP_UNORDERED || workers > SL_MAX_THREADS * 4u)) {
    build_error(p, SL_EINVAL);
    return NULL;
  }
  sl_stage *s = add_stage(p, name, ST_MAP, fn ? (void *)1 : NULL, user);
  if (s) {
    s->fn.map = fn;
    s->workers = workers ? workers : 1;
    s->flags = flags;
  }
  return s;
}

sl_stage *sl_pipeline_flat_map(sl_pipeline *p, const char *name, sl_flat_fn fn, void *user) {
  sl_stage *s = add_stage(p, name, ST_FLAT, fn ? (void *)1 : NULL, user);
  if (s)
    s->fn.flat = fn;
  return s;
}

sl_stage *sl_pipeline_batch(sl_pipeline *p, const char *name, size_t size, double flush_after) {
  if (p && (size == 0 || size > ((size_t)1 << 24) || flush_after < 0)) {
    build_error(p, SL_EINVAL);
    return NULL;
  }
  sl_stage *s = add_stage(p, name, ST_BATCH, (void *)1, NULL);
  if (s) {
    s->batch_size = size;
    s->flush_after = flush_after;
  }
  return s;
}

sl_stage *sl_pipeline_sink(sl_pipeline *p, const char *name, sl_sink_fn fn, void *user) {
  sl_stage *s = add_stage(p, name, ST_SINK, fn ? (void *)1 : NULL, user);
  if (s)
    s->fn.sink = fn;
  return s;
}

int sl_stage_set_free(sl_stage *s, sl_item_free_fn fn, void *ctx) {
  if (!s)
    return SL_EINVAL;
  s->free_fn = fn;
  s->free_ctx = ctx;
  return 0;
}

int sl_pipeline_connect(sl_pipeline *p, sl_stage *from, sl_stage *to, const char *name,
                        size_t capacity) {
  if (!p)
    return SL_EINVAL;
  if (!from || !to || from->p != p || to->p != p || from->out || to->in || capacity == 0 ||
      capacity > SL_CHAN_MAX_CAP || from->kind == ST_SINK || to->kind == ST_SOURCE || p->ran)
    return build_error(p, SL_EINVAL);
  sl_chan *ch;
  int rc = sl_chan_create(&ch, name, sizeof(void *), capacity);
  if (rc)
    return build_error(p, rc);
  if (!push_ptr((void ***)&p->chans, &p->nchans, &p->capchans, ch)) {
    sl_chan_drop_sender(ch);
    sl_chan_drop_receiver(ch);
    return build_error(p, SL_ENOMEM);
  }
  from->out = ch;
  to->in = ch;
  to->from = from;
  return 0;
}

/* ---- running -------------------------------------------------------------- */

/* Every stage must lie on a chain from a source to a sink. */
static int check_graph(sl_pipeline *p) {
  if (p->n == 0)
    return SL_EINVAL;
  size_t reached = 0;
  for (size_t i = 0; i < p->n; i++) {
    sl_stage *s = p->stages[i];
    bool needs_in = s->kind != ST_SOURCE, needs_out = s->kind != ST_SINK;
    if ((needs_in && !s->in) || (needs_out && !s->out))
      return SL_EINVAL;
    if (s->kind != ST_SOURCE)
      continue;
    size_t hops = 0;
    for (sl_stage *x = s; x; hops++) {
      if (hops > p->n)
        return SL_EINVAL; /* cannot happen with one input each; defensive */
      reached++;
      sl_stage *next = NULL;
      for (size_t j = 0; x->out && j < p->n; j++)
        if (p->stages[j]->in == x->out)
          next = p->stages[j];
      x = next;
    }
  }
  return reached == p->n ? 0 : SL_EINVAL; /* the rest sit on a cycle */
}

static void report_progress(sl_pipeline *p) {
  if (!p->cfg.progress)
    return;
  sl_stage_stats st[64];
  size_t n = sl_pipeline_stats(p, st, 64);
  p->cfg.progress(st, n < 64 ? n : 64, (double)(sl_now_ns() - p->t0) / 1e9, p->cfg.progress_arg);
}

int sl_pipeline_run(sl_pipeline *p) {
  if (!p)
    return SL_EINVAL;
  if (p->build_err)
    return p->build_err;
  if (p->ran || check_graph(p))
    return SL_EINVAL;
  p->ran = true;
  if (!p->pool && !(p->pool = sl_pool_global()))
    return SL_EAGAIN;
  p->t0 = sl_now_ns();
  for (size_t i = 0; i < p->n; i++) {
    sl_stage *s = p->stages[i];
    if (sl__thread_create_should_fail() || pthread_create(&s->thread, NULL, stage_main, s)) {
      fail(p, SL_EAGAIN);
      atomic_fetch_add_explicit(&p->finished, (uint32_t)(p->n - i), memory_order_release);
      break;
    }
    s->started = true;
  }
  int64_t interval = (int64_t)(p->cfg.progress_interval * 1e9);
  int64_t next_report = p->t0 + interval;
  /* While it waits, stall reports show this thread as the pipeline's (the
   * name of an SL_OP_PIPELINE wait); its own name comes back after. */
  char saved[32];
  sl__thread_name(sl__self(), saved, sizeof saved);
  sl_thread_set_name(p->name);
  for (;;) {
    uint32_t done = atomic_load_explicit(&p->finished, memory_order_acquire);
    if (done >= p->n)
      break;
    sl__wait(&p->finished, done, SL_OP_PIPELINE, NULL, false,
             p->cfg.progress ? next_report : -1);
    if (sl_now_ns() >= next_report) {
      report_progress(p);
      next_report = sl_now_ns() + interval;
    }
  }
  sl_thread_set_name(saved[0] ? saved : NULL);
  for (size_t i = 0; i < p->n; i++)
    if (p->stages[i]->started)
      pthread_join(p->stages[i]->thread, NULL);
  p->t1 = sl_now_ns();
  report_progress(p);
  return atomic_load_explicit(&p->err, memory_order_acquire);
}

/* ---- stats ------------------------------------------------------------------ */

static double secs(_Atomic uint64_t *ns) {
  return (double)atomic_load_explicit(ns, memory_order_relaxed) / 1e9;
}

size_t sl_pipeline_stats(const sl_pipeline *p, sl_stage_stats *out, size_t cap) {
  if (!p)
    return 0;
  for (size_t i = 0; i < p->n && i < cap && out; i++) {
    sl_stage *s = p->stages[i];
    out[i] = (sl_stage_stats){
        .name = s->name,
        .workers = s->workers,
        .items_in = atomic_load_explicit(&s->c.in, memory_order_relaxed),
        .items_out = atomic_load_explicit(&s->c.out, memory_order_relaxed),
        .busy = secs(&s->c.busy_ns),
        .blocked_in = secs(&s->c.blocked_in_ns),
        .blocked_out = secs(&s->c.blocked_out_ns),
    };
  }
  return p->n;
}

size_t sl_pipeline_summary(const sl_pipeline *p, char *buf, size_t len) {
  if (!p || (!buf && len))
    return 0;
  double wall = (double)((p->t1 ? p->t1 : sl_now_ns()) - p->t0) / 1e9;
  if (wall <= 0)
    wall = 1e-9;
  size_t used = 0;
  const sl_stage *worst = NULL;
  double worst_load = -1;
  for (size_t i = 0; i < p->n; i++) {
    sl_stage *s = p->stages[i];
    double cap = wall * (s->workers ? s->workers : 1);
    double load = secs(&s->c.busy_ns) / cap;
    int n = snprintf(buf ? buf + (used < len ? used : len) : NULL, used < len ? len - used : 0,
                     "  %-16s %9llu in %9llu out  busy %5.1f%%  waiting for input %5.1f%%  "
                     "for output %5.1f%%\n",
                     s->name, (unsigned long long)atomic_load(&s->c.in),
                     (unsigned long long)atomic_load(&s->c.out), 100 * load,
                     100 * secs(&s->c.blocked_in_ns) / cap, 100 * secs(&s->c.blocked_out_ns) / cap);
    used += n > 0 ? (size_t)n : 0;
    if (load > worst_load) {
      worst_load = load;
      worst = s;
    }
  }
  if (worst) {
    int n = snprintf(buf ? buf + (used < len ? used : len) : NULL, used < len ? len - used : 0,
                     "  bottleneck: stage \"%s\" (busy %.0f%% of %u worker%s over %.2f s)\n",
                     worst->name, 100 * worst_load, worst->workers, worst->workers == 1 ? "" : "s",
                     wall);
    used += n > 0 ? (size_t)n : 0;
  }
  return used;
}
