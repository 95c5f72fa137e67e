/* cont.c: continuations: pool jobs that wait on a channel without holding
 * a thread (see cont.h for the calls, fiber.c for the switch).
 *
 * HOW IT WORKS. A worker of a pool with continuations runs its loop on the
 * thread's own stack (its "home") until a job on it must wait on a channel.
 * Then that stack, job and all, is suspended where it stands, and the worker
 * goes on running jobs on another stack: a woken job's, home if home sits
 * idle between jobs, or a fresh one that starts the worker loop anew. A
 * waker pushes the suspended job on its worker's ready stack and wakes the
 * worker if it sleeps; the worker resumes it at its next scheduling point:
 * between two jobs, in a join wait with nothing of its region to help with,
 * or when it would otherwise sleep. Only one stack of a worker runs at a
 * time, and a stack at a point between jobs holds no job, so it is dropped
 * for reuse (or, for home, left idle) when the worker switches away there.
 * A stack that stops mid-job hands the jobs it pushed to the injector, so
 * the worker's deque only ever holds the running stack's jobs. A join wait
 * that finds nothing of its region suspends too, when woken jobs or (after
 * a short spin) other entries' jobs wait: the waiting job may not run those
 * inside itself (isolation, join.c), but its worker may, on another stack.
 *
 * PINNED TO THEIR WORKER. A suspended job resumes on the thread it ran on,
 * never on another. So thread-local variables, errno, locks the job holds
 * and every frame that remembers its worker (a join's deque position, a
 * latch's owner) stay true across the wait, and C code needs no care that
 * Go's goroutines need none of either. The price: a woken job waits for its
 * own worker to reach a scheduling point, though another may idle. It also
 * means a lock held across a channel wait must never be taken by another job
 * of the pool (the worker would wait for itself); that is why a pool opts
 * in (sluice.h, sl_pool_config.continuations).
 *
 * THE JOB'S CONTEXT. What the thread record says of the running job (its
 * isolation region, stage name, function, wait) belongs to the stack, not
 * the thread: each switch saves it into the leaving stack's record and
 * loads the arriving stack's. A suspended job's record stays registered
 * with the stall detector (thread.c), which reports it as waiting.
 *
 * WAKING WITHOUT LOSS. A waker pushes (seq_cst CAS) and then reads the
 * worker's `sleeping` flag (seq_cst); a worker sets the flag (seq_cst)
 * before its last look at the ready stack and its sleep on the futex word.
 * One of the two sees the other. */
#include "cont.h"

#include "fiber.h"


/* Free stacks a worker keeps mapped for its next suspensions. */
#define SPARE_STACKS 64

struct sl__cont {
  sl__fiber fib;
  sl__worker *w;
  sl__cont *next;      /* on the ready stack, the ready list or the free list */
  sl__cont *all_next;  /* every stack of the worker, for the end */
  uintptr_t region;    /* the job's isolation region while switched out */
  int thread_op;       /* what the thread record said before the wait */
  const void *thread_obj;
  sl__thread rec;      /* the job's context; its wait while suspended */
};

typedef struct sl__conts {
  sl__cont *home;           /* the thread's own stack, from the worker's start */
  sl__cont *cur;            /* the stack running now */
  bool home_idle;           /* home sits in the worker loop between jobs */
  _Atomic(sl__cont *) woken; /* pushed by wakers, newest first */
  sl__cont *ready;          /* taken from `woken` by the owner, oldest first */
  sl__cont *free;           /* stacks to start afresh */
  unsigned nfree;
  unsigned suspended;       /* jobs suspended or ready: the worker may not retire */
  _Atomic bool sleeping;    /* the worker is about to sleep or sleeps */
  sl__cont *all;
  sl__altstack alt;         /* for the overflow report (overflow.c) */
} sl__conts;

/* ---- the job's context -------------------------------------------------- */

static void copy_name(_Atomic char *to, _Atomic char *from, size_t cap) {
  for (size_t i = 0; i < cap; i++) {
    char ch = atomic_load_explicit(&from[i], memory_order_relaxed);
    atomic_store_explicit(&to[i], ch, memory_order_relaxed);
    if (!ch)
      return;
  }
}

#define COPY(dst, src, field)                                                                      \
  atomic_store_explicit(&(dst)->field, atomic_load_explicit(&(src)->field, memory_order_relaxed), \
                        memory_order_relaxed)

/* The fields of a record that describe the job, not the thread. */
static void context_copy(sl__thread *to, sl__thread *from) {
  copy_name(to->name, from->name, sizeof to->name);
  COPY(to, from, fn);
  COPY(to, from, job_of);
  COPY(to, from, sel_n);
  for (unsigned i = 0; i < SL__SEL_SHOWN; i++)
    COPY(to, from, sel_ops[i]);
}

/* The running job's context, from the thread record into c's. */
static void context_save(sl__thread *t, sl__cont *c) {
  c->region = t->region;
  context_copy(&c->rec, t);
}

/* c's context into the thread record; c's record stops showing a wait. */
static void context_load(sl__thread *t, sl__cont *c) {
  atomic_store_explicit(&c->rec.op, SL_OP_NONE, memory_order_relaxed);
  t->job = &c->rec;
  t->region = c->region;
  context_copy(t, &c->rec);
  atomic_store_explicit(&t->obj, c->thread_obj, memory_order_relaxed);
  atomic_store_explicit(&t->op, c->thread_op, memory_order_relaxed);
}

/* ---- stacks ---------------------------------------------------------------- */

static sl__cont *cont_new(sl__worker *w, bool home) {
  sl__cont *c = sl__calloc(1, sizeof *c);
  if (!c)
    return NULL;
  if (home)
    sl__fiber_adopt_thread(&c->fib);
  else if (sl__fiber_create(&c->fib, w->pool->stack_size)) {
    sl__free(c);
    return NULL;
  }
  c->w = w;
  c->rec.tid = pthread_self();
  c->rec.cont = true;
  atomic_store_explicit(&c->rec.pool, w->pool, memory_order_relaxed);
  atomic_store_explicit(&c->rec.worker_index, (int)w->index, memory_order_relaxed);
  sl__thread_register(&c->rec);
  c->all_next = w->conts->all;
  w->conts->all = c;
  return c;
}

static void cont_free(sl__cont *c) {
  sl__thread_unregister(&c->rec);
  sl__fiber_destroy(&c->fib);
  sl__free(c);
}

/* Unmaps free stacks beyond the few kept. Never the running one: it is
 * not on the free list while it runs. */
static void trim_free(sl__conts *cs) {
  while (cs->nfree > SPARE_STACKS) {
    sl__cont *c = cs->free;
    cs->free = c->next;
    cs->nfree--;
    sl__cont **pp = &cs->all;
    while (*pp != c)
      pp = &(*pp)->all_next;
    *pp = c->all_next;
    cont_free(c);
  }
}

/* ---- switching ------------------------------------------------------------- */

/* Switches the worker from stack `from` (its context saved by the caller
 * when it matters) to `to`; returns when some switch comes back to from.
 * With from_done, from is left for reuse and never comes back. */
static void switch_to(sl__conts *cs, sl__cont *from, sl__cont *to, bool from_done) {
  cs->cur = to;
  sl__fiber_switch(&from->fib, &to->fib, from_done);
  /* Back on `from`, switched to by a stack of the same worker. */
  cs->cur = from;
  context_load(from->w->self, from);
  trim_free(cs);
}

static void fresh_stack_main(void *arg);

/* The oldest woken job, or NULL. Owner only. */
static sl__cont *take_ready(sl__conts *cs) {
  if (!cs->ready && atomic_load_explicit(&cs->woken, memory_order_relaxed)) {
    /* Acquire: see the waker's writes to the job's frame. */
    sl__cont *list = atomic_exchange_explicit(&cs->woken, NULL, memory_order_acquire);
    while (list) { /* reverse: oldest first */
      sl__cont *next = list->next;
      list->next = cs->ready;
      cs->ready = list;
      list = next;
    }
  }
  sl__cont *c = cs->ready;
  if (c)
    cs->ready = c->next;
  return c;
}

/* The next stack to run when the current one stops: a woken job, idle
 * home, or a fresh stack. NULL only when none is free (prepare made sure
 * one is when it matters). */
static sl__cont *next_stack(sl__conts *cs) {
  sl__cont *c = take_ready(cs);
  if (c)
    return c;
  if (cs->home_idle) {
    cs->home_idle = false;
    return cs->home;
  }
  c = cs->free;
  if (c) {
    cs->free = c->next;
    cs->nfree--;
    sl__fiber_start_at(&c->fib, fresh_stack_main, c);
  }
  return c;
}

/* A fresh stack: the worker loop, with an empty context. At the pool's end
 * it hands the thread back to home, whose loop then ends too. */
static void fresh_stack_main(void *arg) {
  sl__cont *self = arg;
  sl__fiber_entered();
  sl__worker *w = self->w;
  sl__conts *cs = w->conts;
  atomic_store_explicit(&self->rec.name[0], '\0', memory_order_relaxed);
  atomic_store_explicit(&self->rec.fn, 0, memory_order_relaxed);
  atomic_store_explicit(&self->rec.job_of, NULL, memory_order_relaxed);
  atomic_store_explicit(&self->rec.sel_n, 0, memory_order_relaxed);
  self->region = 0;
  self->thread_op = SL_OP_NONE;
  self->thread_obj = NULL;
  cs->cur = self;
  context_load(w->self, self);
  trim_free(cs);
  sl__worker_loop(w);
  /* The pool stops only once every job is done (sl_pool_destroy waits for
   * them), so home is idle in its loop, not suspended in a job. */
  cs->home_idle = false;
  self->next = cs->free;
  cs->free = self;
  cs->nfree++;
  switch_to(cs, self, cs->home, true);
}

/* A job that stops mid-way may have jobs it pushed on the worker's deque
 * (a loop's right halves). The next stack would pop them as its own, and a
 * join takes the bottom of the deque for its own job or nothing (join.c), so
 * they go to the pool's injector, oldest first, where any worker, this one
 * included, takes them. The deque then holds only the running stack's jobs,
 * which is what every stack finds when it resumes. */
static void hand_off_deque(sl__worker *w) {
  sl__job *oldest = NULL, *job;
  while ((job = sl__deque_pop(&w->deque))) { /* newest first */
    job->next = oldest;
    oldest = job;
  }
  while (oldest) {
    job = oldest;
    oldest = job->next;
    sl__inject(w->pool, job);
  }
}

/* ---- the waiter's side -------------------------------------------------- */

sl__cont *sl__cont_prepare(sl__thread *t) {
  sl__worker *w = t->worker;
  if (!SL__FIBERS || !w || !w->conts || t->block_nest)
    return NULL;
  sl__conts *cs = w->conts;
  if (!cs->free) { /* the stack the worker goes on with, if nothing else waits */
    sl__cont *c = cont_new(w, false);
    if (!c)
      return NULL;
    c->next = NULL;
    cs->free = c;
    cs->nfree = 1;
  }
  return cs->cur;
}

void sl__cont_suspend(sl__thread *t, sl__cont *c, sl__op op, const void *obj) {
  sl__conts *cs = c->w->conts;
  c->thread_op = atomic_load_explicit(&t->op, memory_order_relaxed);
  c->thread_obj = atomic_load_explicit(&t->obj, memory_order_relaxed);
  context_save(t, c);
  atomic_store_explicit(&c->rec.since_ns, (uint64_t)sl_now_ns(), memory_order_relaxed);
  atomic_store_explicit(&c->rec.obj, obj, memory_order_relaxed);
  atomic_store_explicit(&c->rec.op, op, memory_order_relaxed);
  cs->suspended++;
  sl__trace(SL_TRACE_SUSPEND, c->w->pool, obj);
  sl__cont *next = next_stack(cs); /* prepare left one free: never NULL */
  if (next != c) { /* c itself when woken already */
    hand_off_deque(c->w);
    switch_to(cs, c, next, false);
  } else {
    context_load(t, c);
  }
  cs->suspended--;
  sl__trace(SL_TRACE_RESUME, c->w->pool, obj);
}

void sl__cont_wake(sl__cont *c) {
  sl__worker *w = c->w;
  sl__conts *cs = w->conts;
  sl__cont *head = atomic_load_explicit(&cs->woken, memory_order_relaxed);
  do
    c->next = head;
  while (!atomic_compare_exchange_weak_explicit(&cs->woken, &head, c, memory_order_seq_cst,
                                                memory_order_relaxed));
  if (atomic_load_explicit(&cs->sleeping, memory_order_seq_cst)) {
    /* Release: as every wake of a sleep word (sleep.c). */
    atomic_store_explicit(&w->sleep_word, 1, memory_order_release);
    sl__wake(&w->sleep_word, 1);
  }
}

/* ---- the worker's side ---------------------------------------------------- */

bool sl__cont_any_ready(sl__worker *w) {
  sl__conts *cs = w->conts;
  return cs && (cs->ready || atomic_load_explicit(&cs->woken, memory_order_seq_cst));
}

void sl__cont_sleeping(sl__worker *w, bool on) {
  if (w->conts)
    atomic_store_explicit(&w->conts->sleeping, on, memory_order_seq_cst);
}

bool sl__cont_holds_jobs(sl__worker *w) { return w->conts && w->conts->suspended; }

void sl__cont_between_jobs(sl__worker *w) {
  sl__conts *cs = w->conts;
  sl__cont *cur = cs->cur;
  sl__cont *next = take_ready(cs);
  if (!next) {
    if (cur == cs->home || !cs->home_idle)
      return;
    cs->home_idle = false;
    next = cs->home;
  }
  sl__thread *t = w->self;
  if (cur == cs->home) {
    cur->thread_op = SL_OP_NONE;
    cur->thread_obj = NULL;
    context_save(t, cur);
    cs->home_idle = true;
    switch_to(cs, cur, next, false);
    return;
  }
  /* A fresh stack between jobs holds nothing: leave it for reuse. */
  cur->next = cs->free;
  cs->free = cur;
  cs->nfree++;
  switch_to(cs, cur, next, true);
}

bool sl__cont_help(sl__thread *t, sl__latch *l, bool spun) {
  sl__worker *w = t->worker;
  if (t->block_nest || !(sl__cont_any_ready(w) || (spun && sl__work_visible(w->pool))))
    return false;
  sl__cont *c = sl__cont_prepare(t);
  if (!c)
    return false;
  l->cont = c;
  uint32_t s = atomic_load_explicit(&l->state, memory_order_acquire);
  do
    if (s == 2)
      return true;
  /* Release: publishes l->cont to the setter, which exchanges the state. */
  while (!atomic_compare_exchange_weak_explicit(&l->state, &s, 3, memory_order_acq_rel,
                                                memory_order_acquire));
  sl__cont_suspend(t, c, SL_OP_JOIN, w->pool);
  return true;
}

/* The home stack's record exists from the start, so the channels a job
 * uses before its first suspension already remember the job's record. */
void sl__cont_worker_start(sl__worker *w) {
  if (!SL__FIBERS || !w->pool->continuations || w->external)
    return;
  if (!(w->conts = sl__calloc(1, sizeof *w->conts)))
    return;
  sl__conts *cs = w->conts;
  if (!(cs->home = cont_new(w, true))) {
    sl__free(cs);
    w->conts = NULL;
    return;
  }
  cs->cur = cs->home;
  w->self->job = &cs->home->rec;
  sl__overflow_watch(&cs->alt);
}

const sl__fiber *sl__cont_running_fiber(sl__worker *w) {
  sl__conts *cs = w->conts;
  return cs && cs->cur ? &cs->cur->fib : NULL;
}

void sl__cont_worker_end(sl__worker *w) {
  sl__conts *cs = w->conts;
  if (!cs)
    return;
  while (cs->all) {
    sl__cont *c = cs->all;
    cs->all = c->all_next;
    cont_free(c);
  }
  sl__overflow_unwatch(&cs->alt);
  sl__free(cs);
  w->conts = NULL;
  w->self->job = w->self;
}
