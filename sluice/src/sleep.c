/* sleep.c: how pool workers fall asleep, wake up, retire and come back, and
 * how a pool compensates for blocked workers.
 *
 * HOW IT WORKS. Each worker parks on its own futex word (sleep_word), never
 * on a shared one, so a wake-up is aimed at one thread: no thundering herd.
 * Sleepers are listed on the pool's idle list under sleep_lock, and n_idle
 * mirrors its length for the lock-free check on every push. A listed worker
 * is either idle (it runs any job) or waiting for a join, able to help only
 * with jobs of its own isolation region; a new job wakes a sleeper that can
 * run it, never a waiter of another region (which would wake, find nothing
 * it may take, spin and park again: pure cost on a busy machine).
 *
 * The lost wake-up race is closed Dekker-style: a sleeper lists itself
 * (a seq_cst n_idle++), then re-checks for work with seq_cst loads before it
 * parks; an injector queues its job (a seq_cst inj_len++), then reads
 * n_idle. In the single order of seq_cst operations one of the two comes
 * first, so one sees the other. (seq_cst operations rather than fences,
 * because ThreadSanitizer does not model fences.) Local pushes skip the fence
 * (pool.c explains why that only costs parallelism, never progress).
 *
 * A wake-up stores 1 into the sleeper's word, then calls futex wake; the
 * sleeper parks only while the word is 0 (the kernel re-checks it), and the
 * word is reset to 0 by its owner before each episode, before the condition
 * it then checks. A late store of 1 from an old episode only makes a park
 * return early: every caller loops on its own condition.
 *
 * Compensation keeps live - blocked >= nthreads: it revives a retired slot
 * first (a futex wake, microseconds) and starts a new thread only when none
 * is retired, under sleep_lock, up to max_threads. At the cap it gives up;
 * the stall detector then has something to report. */
#include "pool.h"

#include "cont.h"

static void list_remove_locked(sl_pool *pool, sl__worker *w) {
  if (!w->listed)
    return;
  sl__worker **pp = &pool->idle_head;
  while (*pp != w)
    pp = &(*pp)->idle_next;
  *pp = w->idle_next;
  w->listed = false;
  atomic_fetch_sub_explicit(&pool->n_idle, 1, memory_order_relaxed);
}

static void wake_worker(sl__worker *w) {
  /* Release: the woken worker sees what the waker did before; pairs with
   * the acquire load of sleep_word in the park loops. */
  atomic_store_explicit(&w->sleep_word, 1, memory_order_release);
  sl__wake(&w->sleep_word, 1);
}

bool sl__wake_one(sl_pool *pool, uintptr_t tag) {
  pthread_mutex_lock(&pool->sleep_lock);
  sl__worker *w = pool->idle_head;
  while (w && w->wait_region != 0 && w->wait_region != tag)
    w = w->idle_next;
  if (w)
    list_remove_locked(pool, w);
  pthread_mutex_unlock(&pool->sleep_lock);
  if (w)
    wake_worker(w);
  return w != NULL;
}

void sl__park_worker(sl__worker *w, uintptr_t region, bool (*ready)(void *), void *arg,
                     sl__op op, const void *obj) {
  sl_pool *pool = w->pool;
  pthread_mutex_lock(&pool->sleep_lock);
  w->wait_region = region;
  w->idle_next = pool->idle_head;
  pool->idle_head = w;
  w->listed = true;
  /* seq_cst, then the seq_cst loads of sl__work_visible: Dekker with
   * sl__inject (see there). */
  atomic_fetch_add_explicit(&pool->n_idle, 1, memory_order_seq_cst);
  pthread_mutex_unlock(&pool->sleep_lock);

  /* seq_cst, then the seq_cst load of the woken jobs: Dekker with
   * sl__cont_wake (cont.c). */
  sl__cont_sleeping(w, true);
  bool skip = (ready && ready(arg)) || sl__work_visible(pool) || sl__cont_any_ready(w) ||
              atomic_load_explicit(&pool->stop, memory_order_acquire);
  bool parked = false;
  while (!skip && atomic_load_explicit(&w->sleep_word, memory_order_acquire) == 0) {
    if (!parked)
      sl__trace(SL_TRACE_PARK, pool, NULL);
    parked = true;
    sl__wait(&w->sleep_word, 0, op, obj, false, -1);
    skip = (ready && ready(arg)) || sl__cont_any_ready(w) ||
           atomic_load_explicit(&pool->stop, memory_order_acquire);
  }
  sl__cont_sleeping(w, false);
  if (parked)
    sl__trace(SL_TRACE_UNPARK, pool, NULL);

  pthread_mutex_lock(&pool->sleep_lock);
  list_remove_locked(pool, w);
  pthread_mutex_unlock(&pool->sleep_lock);
}

static int strength(sl_pool *pool) {
  return (int)atomic_load_explicit(&pool->live, memory_order_seq_cst) -
         (int)atomic_load_explicit(&pool->blocked, memory_order_seq_cst);
}

/* Revives a retired slot or starts a new one. Holds sleep_lock. */
static bool add_worker_locked(sl_pool *pool) {
  unsigned started = atomic_load_explicit(&pool->started, memory_order_relaxed);
  for (unsigned i = 0; i < started; i++) {
    sl__worker *w = &pool->workers[i];
    if (w->slot_state == SLOT_RETIRED) {
      w->slot_state = SLOT_RUNNING;
      atomic_fetch_sub_explicit(&pool->retired, 1, memory_order_relaxed);
      atomic_fetch_add_explicit(&pool->live, 1, memory_order_seq_cst);
      wake_worker(w);
      return true;
    }
  }
  if (started >= pool->max_threads)
    return false; /* at the cap */
  sl__worker *w = &pool->workers[started];
  w->slot_state = SLOT_RUNNING;
  atomic_fetch_add_explicit(&pool->live, 1, memory_order_seq_cst);
  /* Release: thieves reading `started` see an initialized slot. */
  atomic_store_explicit(&pool->started, started + 1, memory_order_release);
  if (sl__start_worker(pool, started)) {
    w->slot_state = SLOT_EMPTY;
    atomic_fetch_sub_explicit(&pool->live, 1, memory_order_seq_cst);
    atomic_store_explicit(&pool->started, started, memory_order_release);
    return false;
  }
  if (started >= pool->nthreads) {
    atomic_fetch_add_explicit(&pool->spares_started, 1, memory_order_relaxed);
    sl__trace(SL_TRACE_SPARE, pool, NULL);
  }
  return true;
}

/* Whether a spare could be added: a retired slot to revive or a slot never
 * started. Relaxed: a hint that spares the lock; add_worker_locked decides. */
static bool room_for_spare(sl_pool *pool) {
  return atomic_load_explicit(&pool->retired, memory_order_relaxed) ||
         atomic_load_explicit(&pool->started, memory_order_relaxed) < pool->max_threads;
}

bool sl__compensate(sl_pool *pool) {
  /* At the cap this returns without the lock: pushes call it while workers
   * are blocked, and must not all queue on sleep_lock then. */
  if (strength(pool) >= (int)pool->nthreads ||
      atomic_load_explicit(&pool->stop, memory_order_acquire))
    return false;
  if (!room_for_spare(pool)) {
    sl__trace(SL_TRACE_CAP, pool, NULL);
    return false;
  }
  pthread_mutex_lock(&pool->sleep_lock);
  bool short_of_workers = strength(pool) < (int)pool->nthreads;
  bool added = short_of_workers && add_worker_locked(pool);
  pthread_mutex_unlock(&pool->sleep_lock);
  if (short_of_workers && !added)
    sl__trace(SL_TRACE_CAP, pool, NULL);
  return added;
}

bool sl__maybe_retire(sl__worker *w) {
  sl_pool *pool = w->pool;
  /* Its suspended jobs can resume on no other thread. */
  if (strength(pool) <= (int)pool->nthreads || sl__cont_holds_jobs(w))
    return false;
  pthread_mutex_lock(&pool->sleep_lock);
  if (strength(pool) <= (int)pool->nthreads) {
    pthread_mutex_unlock(&pool->sleep_lock);
    return false;
  }
  w->slot_state = SLOT_RETIRED;
  atomic_fetch_add_explicit(&pool->retired, 1, memory_order_relaxed);
  atomic_fetch_sub_explicit(&pool->live, 1, memory_order_seq_cst);
  /* Reset under the lock, so a revival (which stores 1 under it) is kept. */
  atomic_store_explicit(&w->sleep_word, 0, memory_order_relaxed);
  pthread_mutex_unlock(&pool->sleep_lock);
  sl__trace(SL_TRACE_RETIRE, pool, NULL);

  for (;;) {
    while (atomic_load_explicit(&w->sleep_word, memory_order_acquire) == 0 &&
           !atomic_load_explicit(&pool->stop, memory_order_acquire))
      sl__wait(&w->sleep_word, 0, SL_OP_IDLE, pool, false, -1);
    pthread_mutex_lock(&pool->sleep_lock);
    bool back = w->slot_state == SLOT_RUNNING ||
                atomic_load_explicit(&pool->stop, memory_order_acquire);
    if (!back) /* a stale wake-up from an older episode */
      atomic_store_explicit(&w->sleep_word, 0, memory_order_relaxed);
    pthread_mutex_unlock(&pool->sleep_lock);
    if (back) {
      sl__trace(SL_TRACE_REVIVE, pool, NULL);
      return true;
    }
  }
}
