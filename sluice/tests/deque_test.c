/* deque_test.c: the Chase-Lev deque alone: LIFO for the owner, FIFO for
 * thieves, growth, tag filtering, and a stampede where thieves race the
 * owner for every job (each job taken exactly once), with fenced pops and
 * with unfenced ones. */
#include "check.h"
#include "deque.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static void nop(sl__job *j, bool m) { (void)j, (void)m; }

static void deque_owner_pops_lifo_thief_steals_fifo(void) {
  sl__deque d;
  CHECK(sl__deque_init(&d, 1) == 0); /* capacity 2: forces growth */
  sl__job jobs[100];
  for (int i = 0; i < 100; i++) {
    jobs[i] = (sl__job){.run = nop, .tag = (uintptr_t)i % 3};
    CHECK(sl__deque_push(&d, &jobs[i]) == 0);
  }
  sl__job *j = NULL;
  CHECK(sl__deque_steal(&d, &j, false, 0) == SL_STEAL_OK && j == &jobs[0]);
  CHECK(sl__deque_steal(&d, &j, true, 0) == SL_STEAL_SKIP); /* jobs[1] has tag 1 */
  CHECK(sl__deque_steal(&d, &j, true, 1) == SL_STEAL_OK && j == &jobs[1]);
  CHECK(sl__deque_pop(&d) == &jobs[99]);
  CHECK(sl__deque_pop(&d) == &jobs[98]);
  int n = 0;
  while (sl__deque_pop(&d))
    n++;
  CHECK(n == 96);
  CHECK(sl__deque_pop(&d) == NULL);
  CHECK(sl__deque_steal(&d, &j, false, 0) == SL_STEAL_EMPTY);
  sl__deque_free(&d);
}

static void deque_grow_failure_keeps_jobs(void) {
  sl__deque d;
  CHECK(sl__deque_init(&d, 1) == 0);
  sl__job a = {.run = nop}, b = {.run = nop}, c = {.run = nop};
  CHECK(sl__deque_push(&d, &a) == 0 && sl__deque_push(&d, &b) == 0);
  sl_test_fail_alloc_after(0);
  CHECK(sl__deque_push(&d, &c) == SL_ENOMEM);
  CHECK(sl_test_fail_alloc_after(-1) == 1);
  CHECK(sl__deque_pop(&d) == &b && sl__deque_pop(&d) == &a && sl__deque_pop(&d) == NULL);
  sl__deque_free(&d);
  sl_test_fail_alloc_after(0);
  CHECK(sl__deque_init(&d, 4) == SL_ENOMEM);
  sl_test_fail_alloc_after(-1);
}

enum { STAMPEDE_JOBS = 200000, THIEVES = 3 };
static sl__deque stampede;
static sl__job stampede_jobs[STAMPEDE_JOBS];
static _Atomic int taken[STAMPEDE_JOBS];
static _Atomic bool stampede_done;

static void *thief(void *arg) {
  (void)arg;
  while (!atomic_load(&stampede_done)) {
    sl__job *j;
    if (sl__deque_steal(&stampede, &j, false, 0) == SL_STEAL_OK)
      atomic_fetch_add(&taken[j - stampede_jobs], 1);
  }
  return NULL;
}

static void run_stampede(void) {
  memset((void *)taken, 0, sizeof taken);
  atomic_store(&stampede_done, false);
  CHECK(sl__deque_init(&stampede, 2) == 0);
  pthread_t th[THIEVES];
  for (int i = 0; i < THIEVES; i++)
    pthread_create(&th[i], NULL, thief, NULL);
  unsigned seed = 12345;
  for (int i = 0; i < STAMPEDE_JOBS; i++) {
    stampede_jobs[i].run = nop;
    CHECK(sl__deque_push(&stampede, &stampede_jobs[i]) == 0);
    if (rand_r(&seed) % 3 == 0) {
      sl__job *j = sl__deque_pop(&stampede);
      if (j)
        atomic_fetch_add(&taken[j - stampede_jobs], 1);
    }
  }
  sl__job *j;
  while ((j = sl__deque_pop(&stampede)))
    atomic_fetch_add(&taken[j - stampede_jobs], 1);
  atomic_store(&stampede_done, true);
  for (int i = 0; i < THIEVES; i++)
    pthread_join(th[i], NULL);
  int bad = 0;
  for (int i = 0; i < STAMPEDE_JOBS; i++)
    bad += atomic_load(&taken[i]) != 1;
  CHECK(bad == 0);
  sl__deque_free(&stampede);
}

static void deque_stampede_takes_each_job_once(void) { run_stampede(); }

/* The same with the owner kept on unfenced pops however often it is stolen
 * from, where the kernel lets thieves fence for it (deque.c, THE OWNER'S
 * FENCE); elsewhere, and under TSan, it repeats the fenced run. */
static void deque_stampede_unfenced_pops_take_each_job_once(void) {
  sl__deque_steal_limit = INT64_MAX;
  run_stampede();
  sl__deque_steal_limit = SL_DEQUE_STEAL_LIMIT;
}

int main(void) {
  RUN(deque_owner_pops_lifo_thief_steals_fifo);
  RUN(deque_grow_failure_keeps_jobs);
  RUN(deque_stampede_takes_each_job_once);
  RUN(deque_stampede_unfenced_pops_take_each_job_once);
  return check_done("deque_test");
}
