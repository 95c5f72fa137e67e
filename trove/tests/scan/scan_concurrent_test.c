/* scan_concurrent_test.c: two scans of one database at once, each on its own
 * thread and store handle, in a loop. Proves: neither deletes an item that
 * is still on disk, no item is deleted and inserted again (ids stay, so
 * hide flags stay), and every hidden item stays hidden. Forced scans
 * rewrite every item, the widest window for two writers to interleave.
 * Bounded by rounds and by seconds (whichever ends first), so it runs in
 * every build; the seconds bound only limits the loop, nothing is timed.
 * Also: a scan while another handle holds the scan lock fails at once with
 * no_wait, and otherwise says it waits and completes once the lock goes. */
#include "scan.h"
#include "store.h"

#include "check.h"
#include "fixture.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>

enum { SCANNERS = 2, FILES = 400, ROUNDS = 200 };
static const double SECONDS = 4.0;

/* The first column of sql's first row, read with a plain connection. */
static int64_t sql_int(const char *db_path, const char *sql) {
  sqlite3 *db = NULL;
  sqlite3_stmt *s = NULL;
  int64_t v = -1;
  CHECK(sqlite3_open(db_path, &db) == SQLITE_OK);
  sqlite3_busy_timeout(db, 10000);
  CHECK(sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK);
  if (sqlite3_step(s) == SQLITE_ROW)
    v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return v;
}

typedef struct scanner {
  const char *db;
  double until;             /* check_now() bound of the loop */
  int rounds, failed;       /* scans run, scans that returned an error */
  int64_t deleted;          /* what the reports said they deleted */
} scanner;

static void *scan_loop(void *arg) {
  scanner *s = arg;
  trove_store *st = NULL;
  trove_err e = {0};
  trove_store_opts o = {.path = s->db, .busy_timeout_ms = 20000};
  if (trove_store_open(&o, &st, &e) != 0) {
    fprintf(stderr, "open: %s\n", e.msg);
    s->failed++;
    return NULL;
  }
  trove_scan_opts force = quiet;
  force.force = true;
  for (; s->rounds < ROUNDS && check_now() < s->until; s->rounds++) {
    trove_scan_report r;
    if (trove_scan_source(st, "tree", &force, &r, &e) != 0) {
      fprintf(stderr, "scan: %s\n", e.msg);
      s->failed++;
    }
    s->deleted += r.deleted;
  }
  trove_store_close(st);
  return NULL;
}

static void two_forced_scans_lose_nothing(void) {
  fx f;
  fx_init(&f);
  int files = FILES / (int)check_scale();
  for (int i = 0; i < files; i++) {
    char name[32], text[128];
    snprintf(name, sizeof name, "sub/n%03d.txt", i);
    snprintf(text, sizeof text, "note %d on the tides, the moorings and the ferry timetable.\n", i);
    puts_file(&f, name, text);
  }
  trove_scan_report r;
  CHECK(scan(&f, &r) == 0 && r.added == files + 3);
  for (int64_t id = 3; id <= files + 6; id += 3) /* through the store, as `trove hide` does */
    CHECK(trove_store_item_set_hidden(f.st, id, true, NULL) == 0);
  int64_t total = sql_int(f.db, "SELECT count(*) FROM items");
  int64_t hidden = sql_int(f.db, "SELECT count(*) FROM items WHERE hidden_at IS NOT NULL");
  int64_t max_id = sql_int(f.db, "SELECT max(id) FROM items");
  CHECK(total == files + 6 && hidden > files / 4);

  scanner s[SCANNERS];
  pthread_t t[SCANNERS];
  double until = check_now() + SECONDS;
  for (int i = 0; i < SCANNERS; i++) {
    s[i] = (scanner){.db = f.db, .until = until};
    CHECK(pthread_create(&t[i], NULL, scan_loop, &s[i]) == 0);
  }
  for (int i = 0; i < SCANNERS; i++) {
    pthread_join(t[i], NULL);
    fprintf(stderr, "  scanner %d: %d forced scans, reported %lld deleted\n", i, s[i].rounds,
            (long long)s[i].deleted);
    CHECK(s[i].failed == 0 && s[i].deleted == 0);
  }
  CHECK(sql_int(f.db, "SELECT count(*) FROM items") == total);
  CHECK(sql_int(f.db, "SELECT count(*) FROM items WHERE hidden_at IS NOT NULL") == hidden);
  CHECK(sql_int(f.db, "SELECT max(id) FROM items") == max_id); /* nothing re-inserted */
  fx_done(&f);
}

typedef struct waiter {
  fx *f;
  FILE *notice; /* the scan's progress_out: where it says it waits */
  int rc;
  _Atomic bool done;
} waiter;

static void *scan_waiting(void *arg) {
  waiter *w = arg;
  trove_store *st = NULL;
  trove_store_opts so = {.path = w->f->db, .busy_timeout_ms = 20000};
  trove_scan_opts o = {.progress = TROVE_PROGRESS_NONE, .progress_out = w->notice};
  w->rc = trove_store_open(&so, &st, NULL);
  if (w->rc == 0)
    w->rc = trove_scan_source(st, "tree", &o, NULL, NULL);
  trove_store_close(st);
  atomic_store(&w->done, true);
  return NULL;
}

static void a_scan_waits_for_the_lock_or_refuses(void) {
  fx f;
  fx_init(&f);
  trove_store *holder = NULL;
  trove_store_opts so = {.path = f.db};
  trove_err e = {0};
  CHECK(trove_store_open(&so, &holder, &e) == 0);
  CHECK(trove_store_scan_lock(holder, false, NULL, &e) == 0);
  trove_scan_opts no_wait = quiet;
  no_wait.no_wait = true;
  trove_scan_report r;
  CHECK(trove_scan_source(f.st, "tree", &no_wait, &r, &e) == TROVE_EBUSY);
  CHECK(strstr(e.msg, "another scan") != NULL && r.seen == 0 && items(&f) == 0);
  CHECK(trove_reprocess(f.st, "tree", &no_wait, &r, &e) == TROVE_EBUSY);

  int fds[2];
  CHECK(pipe(fds) == 0);
  waiter w = {.f = &f, .notice = fdopen(fds[1], "w")};
  pthread_t t;
  CHECK(pthread_create(&t, NULL, scan_waiting, &w) == 0);
  char line[512] = "";
  FILE *in = fdopen(fds[0], "r");
  CHECK(in && fgets(line, sizeof line, in) != NULL); /* blocks until it says so */
  CHECK(strstr(line, "another scan") && strstr(line, "waiting"));
  CHECK(!atomic_load(&w.done)); /* it cannot finish while the lock is held */
  trove_store_scan_unlock(holder);
  pthread_join(t, NULL);
  CHECK(w.rc == 0 && items(&f) == 6);
  fclose(in);
  fclose(w.notice);
  trove_store_close(holder);
  fx_done(&f);
}

int main(void) {
  RUN(a_scan_waits_for_the_lock_or_refuses);
  RUN(two_forced_scans_lose_nothing);
  return check_done(__FILE__);
}
