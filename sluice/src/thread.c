/* thread.c: the per-thread record every sluice wait writes to, and the
 * registry of those records that the stall detector walks.
 *
 * The record lives in thread-local storage, so taking it costs no
 * allocation and cannot fail. It joins the registry (a doubly linked list
 * under reg_lock) on first use, and a pthread key destructor unlinks it when
 * the thread exits, before its TLS goes away. The registry lock is taken
 * only at those two moments and by the detector, never on a fast path. */
#include "internal.h"

#include <string.h>

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER; /* guards reg_head and links */
static sl__thread *reg_head;
static pthread_key_t reg_key;
static pthread_once_t reg_once = PTHREAD_ONCE_INIT;
static bool reg_key_ok;
_Thread_local sl__thread sl__tls_self __attribute__((tls_model("initial-exec")));

void sl__thread_unregister(sl__thread *t) {
  pthread_mutex_lock(&reg_lock);
  if (t->prev)
    t->prev->next = t->next;
  else
    reg_head = t->next;
  if (t->next)
    t->next->prev = t->prev;
  t->registered = false;
  pthread_mutex_unlock(&reg_lock);
}

void sl__thread_register(sl__thread *t) {
  pthread_mutex_lock(&reg_lock);
  t->prev = NULL;
  t->next = reg_head;
  if (reg_head)
    reg_head->prev = t;
  reg_head = t;
  t->registered = true;
  pthread_mutex_unlock(&reg_lock);
}

static void unregister_at_exit(void *arg) { sl__thread_unregister(arg); }

static void make_key(void) { reg_key_ok = pthread_key_create(&reg_key, unregister_at_exit) == 0; }

static uint32_t seed_rng(const void *p) {
  /* Any non-zero odd mix of the address and the clock will do. */
  uint64_t x = (uint64_t)(uintptr_t)p ^ (uint64_t)sl_now_ns();
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return (uint32_t)x | 1u;
}

sl__thread *sl__self_slow(void) {
  sl__thread *t = &sl__tls_self;
  if (t->registered)
    return t;
  pthread_once(&reg_once, make_key);
  t->rng = seed_rng(t);
  t->tid = pthread_self();
  t->job = t;
  atomic_store_explicit(&t->worker_index, -1, memory_order_relaxed);
  /* Without a key (it can fail only when the process has run out of keys)
   * the record still works; it is just not listed in stall reports. */
  if (reg_key_ok && pthread_setspecific(reg_key, t) == 0)
    sl__thread_register(t);
  t->registered = true;
  return t;
}

void sl__threads_foreach(void (*fn)(sl__thread *t, void *arg), void *arg) {
  pthread_mutex_lock(&reg_lock);
  for (sl__thread *t = reg_head; t; t = t->next)
    fn(t, arg);
  pthread_mutex_unlock(&reg_lock);
}

uint32_t sl__rand_below(sl__thread *t, uint32_t n) {
  uint32_t x = t->rng;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  t->rng = x;
  return (uint32_t)(((uint64_t)x * n) >> 32);
}

void sl_thread_set_name(const char *name) {
  sl__thread *t = sl__self();
  size_t n = name ? strnlen(name, sizeof t->name - 1) : 0;
  /* Byte by byte, relaxed: the stall detector reads the name racily. */
  for (size_t i = 0; i < n; i++)
    atomic_store_explicit(&t->name[i], name[i], memory_order_relaxed);
  atomic_store_explicit(&t->name[n], '\0', memory_order_relaxed);
}

void sl__thread_name(sl__thread *t, char *out, size_t cap) {
  size_t i = 0;
  for (; i + 1 < cap && i < sizeof t->name; i++) {
    out[i] = atomic_load_explicit(&t->name[i], memory_order_relaxed);
    if (!out[i])
      return;
  }
  out[i] = '\0';
}
