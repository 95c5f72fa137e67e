/* store_concurrent_test.c: one writer thread rewrites a fixed set of items
 * batch after batch (each batch tags every item with its generation) while
 * reader threads, each with its own handle, search and count. WAL gives
 * each read statement one committed snapshot, so a reader must always see
 * every item, all from the same generation: never a half-written batch,
 * never a lock error. Runs under TSan like every build. */
#include "fixture.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

enum { ITEMS = 8, BATCHES = 60, READERS = 2 };

static fx F;
static int64_t SRC;
/* Set by the writer when it is done; readers poll it. Release/acquire only
 * orders the flag itself: the data travels through the database. */
static atomic_bool writer_done;
static atomic_int errors;
/* Readers that finished a first read; the writer starts once all have, so
 * reads really overlap writes. Relaxed: it only gates timing, no data. */
static atomic_int readers_ready;

static trove_store *open_shared(void) {
  trove_store *st = NULL;
  trove_store_opts o = {.path = F.db, .busy_timeout_ms = 10000};
  trove_err e = {0};
  if (trove_store_open(&o, &st, &e)) {
    fprintf(stderr, "open: %s\n", e.msg);
    atomic_fetch_add_explicit(&errors, 1, memory_order_relaxed);
  }
  return st;
}

static int write_generation(trove_store *st, int gen, trove_err *e) {
  int rc = trove_store_begin(st, e);
  char title[32], text[64], ext[16];
  snprintf(title, sizeof title, "gen%d", gen);
  snprintf(text, sizeof text, "%s shared body text", title);
  for (int i = 0; i < ITEMS && rc == 0; i++) {
    snprintf(ext, sizeof ext, "/%d", i);
    trove_store_item it = fx_item(ext, title, text, gen);
    rc = trove_store_item_upsert(st, SRC, &it, NULL, e);
  }
  if (rc == 0)
    return trove_store_commit(st, e);
  trove_store_rollback(st);
  return rc;
}

static void *writer(void *arg) {
  trove_store *st = arg;
  trove_err e = {0};
  while (atomic_load_explicit(&readers_ready, memory_order_relaxed) < READERS &&
         atomic_load_explicit(&errors, memory_order_relaxed) == 0)
    sched_yield();
  for (int gen = 1; gen <= BATCHES; gen++)
    if (write_generation(st, gen, &e)) {
      fprintf(stderr, "writer: %s\n", e.msg);
      atomic_fetch_add_explicit(&errors, 1, memory_order_relaxed);
      break;
    }
  /* Pairs with the acquire load in reader(). */
  atomic_store_explicit(&writer_done, true, memory_order_release);
  return NULL;
}

/* One search: all ITEMS hits, one generation. Returns false on a violation. */
static bool read_snapshot(trove_store *st, trove_err *e) {
  trove_store_hit *h = NULL;
  size_t n = 0;
  trove_store_search_opts o = {.limit = 100};
  if (trove_store_search(st, "shared", &o, &h, &n, e)) {
    fprintf(stderr, "reader: %s\n", e->msg);
    return false;
  }
  bool ok = n == ITEMS;
  for (size_t i = 1; ok && i < n; i++)
    ok = h[i].title && h[0].title && strcmp(h[i].title, h[0].title) == 0;
  if (!ok)
    fprintf(stderr, "reader: %zu hits, mixed generations\n", n);
  trove_store_hits_free(h, n);
  trove_store_stats s;
  if (trove_store_stats_get(st, &s, e) == 0) {
    ok = ok && s.items == ITEMS;
    trove_store_stats_clear(&s);
  } else {
    ok = false;
  }
  return ok;
}

static void *reader(void *arg) {
  (void)arg;
  trove_store *st = open_shared();
  trove_err e = {0};
  long reads = 0;
  while (st && !atomic_load_explicit(&writer_done, memory_order_acquire)) {
    if (!read_snapshot(st, &e)) {
      atomic_fetch_add_explicit(&errors, 1, memory_order_relaxed);
      break;
    }
    if (reads++ == 0)
      atomic_fetch_add_explicit(&readers_ready, 1, memory_order_relaxed);
  }
  trove_store_close(st);
  return (void *)reads;
}

static void concurrent_readers_see_whole_batches_while_a_writer_commits(void) {
  fx_init(&F);
  trove_store *w = open_shared();
  trove_err e = {0};
  CHECK(w && trove_store_source_add(w, "s", "fs", "/s", NULL, &SRC, &e) == 0);
  CHECK(write_generation(w, 0, &e) == 0);
  pthread_t wt, rt[READERS];
  for (int i = 0; i < READERS; i++)
    CHECK(pthread_create(&rt[i], NULL, reader, NULL) == 0);
  CHECK(pthread_create(&wt, NULL, writer, w) == 0);
  CHECK(pthread_join(wt, NULL) == 0);
  long total = 0;
  for (int i = 0; i < READERS; i++) {
    void *reads = NULL;
    CHECK(pthread_join(rt[i], &reads) == 0);
    total += (long)reads;
  }
  CHECK(atomic_load_explicit(&errors, memory_order_relaxed) == 0);
  fprintf(stderr, "  %ld snapshots read during %d batches\n", total, BATCHES);
  trove_store_hit *h = NULL;
  size_t n = 0;
  char last[16];
  snprintf(last, sizeof last, "gen%d", BATCHES);
  CHECK(trove_store_search(w, last, NULL, &h, &n, &e) == 0 && n == ITEMS);
  trove_store_hits_free(h, n);
  CHECK(trove_store_check(w, &e) == 0);
  trove_store_close(w);
  fx_done(&F);
}

enum { OPENERS = 4 };

static atomic_int added, existed; /* outcomes of the openers' source_add */

static void *opener(void *arg) {
  (void)arg;
  trove_store *st = open_shared(); /* counts its own failure in errors */
  int rc = st ? trove_store_source_add(st, "x", "fs", "/x", NULL, NULL, NULL) : 0;
  if (st)
    atomic_fetch_add_explicit(rc == 0 ? &added : rc == TROVE_EEXIST ? &existed : &errors, 1,
                              memory_order_relaxed);
  trove_store_close(st);
  return NULL;
}

static void concurrent_opens_of_a_new_file_migrate_it_once(void) {
  fx_init(&F); /* a brand-new file, created and migrated by whoever is first */
  atomic_store_explicit(&errors, 0, memory_order_relaxed);
  pthread_t t[OPENERS];
  for (int i = 0; i < OPENERS; i++)
    CHECK(pthread_create(&t[i], NULL, opener, NULL) == 0);
  for (int i = 0; i < OPENERS; i++)
    CHECK(pthread_join(t[i], NULL) == 0);
  CHECK(atomic_load_explicit(&errors, memory_order_relaxed) == 0);
  CHECK(atomic_load_explicit(&added, memory_order_relaxed) == 1);
  CHECK(atomic_load_explicit(&existed, memory_order_relaxed) == OPENERS - 1);
  trove_store *st = open_shared();
  CHECK(st && trove_store_check(st, NULL) == 0);
  trove_store_close(st);
  fx_done(&F);
}

int main(void) {
  RUN(concurrent_readers_see_whole_batches_while_a_writer_commits);
  RUN(concurrent_opens_of_a_new_file_migrate_it_once);
  return check_done("store_concurrent_test");
}
