/* cli_forget_test.c: `trove forget` and an interrupted scan, through the
 * binary:
 *   - forget by id, --url and --domain removes the items with their
 *     passages and vectors: the database stays consistent and the saved
 *     vector index holds exactly the store's vectors (fault.h); it says
 *     what went, --json too; the next scan leaves a forgotten file out
 *     until it is modified again; exit codes 1 (nothing matched), 2
 *     (usage), 3 (--no-wait while a scan holds the lock) and 4 (no such
 *     item);
 *   - `stats` counts the expired pages; a history whose every row is
 *     excluded is not kept whole as an empty one;
 *   - a web scan killed with kill -9 at a random point, then run again,
 *     does not fetch again a page the killed scan stored (a local server
 *     counts requests per page), stores every page, and says it resumed;
 *   - an fs scan killed likewise embeds again none of the items the
 *     killed scan embedded (with the model; keyword only without it).
 * Prints its seed. Usage: cli_forget_test PATH_TO_TROVE. */
#include "fault.h"
#include "http_server.h"
#include "testdb.h"

#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

enum { NOTES = 40, PAGES = 300 };

static int64_t db_count(const char *db_path, const char *sql) {
  sqlite3 *db = NULL;
  CHECK(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
  int64_t n = fault_sql(db, sql);
  sqlite3_close(db);
  return n;
}

static void forget_removes_everything_and_the_index_follows(void) {
  char dir[64], tree[96], db[128];
  run_tempdir(dir, sizeof dir, "forget");
  snprintf(tree, sizeof tree, "%s/tree", dir);
  snprintf(db, sizeof db, "%s/trove.db", dir);
  fault_tree(tree, NOTES);
  static run_out r;
  FAULT_TROVE(&r, dir, db, "source", "add", "notes", "fs", tree);
  CHECK(r.code == 0);
  FAULT_TROVE(&r, dir, db, "scan");
  CHECK(r.code == 0);
  fault_consistent(db, NOTES, 0, true);
  int64_t id = db_count(db, "SELECT id FROM items WHERE external_id LIKE '%/n00003.md'");
  char ids[32];
  snprintf(ids, sizeof ids, "%lld", (long long)id);
  FAULT_TROVE(&r, dir, db, "forget", ids);
  CHECK(r.code == 0 && strstr(r.out, "n00003.md") && strstr(r.out, "forgot 1 items"));
  fault_consistent(db, NOTES - 1, 0, true); /* index == store, FTS == items */
  CHECK(db_count(db, "SELECT count(*) FROM passages p LEFT JOIN items i ON i.id = p.item_id"
                     " WHERE i.id IS NULL") == 0);
  FAULT_TROVE(&r, dir, db, "forget", "--url", "*/d01/*", "--json");
  CHECK(r.code == 0 && strstr(r.out, "\"forgotten\":4") && strstr(r.out, "n00011.md"));
  fault_consistent(db, NOTES - 5, 0, true);
  FAULT_TROVE(&r, dir, db, "forget", "--url", "*/d01/*");
  CHECK(r.code == 1 && strstr(r.err, "nothing to forget"));
  FAULT_TROVE(&r, dir, db, "forget", "999999");
  CHECK(r.code == 4 && strstr(r.err, "no item"));
  FAULT_TROVE(&r, dir, db, "forget");
  CHECK(r.code == 2);
  FAULT_TROVE(&r, dir, db, "forget", "1", "--domain", "example.com");
  CHECK(r.code == 2);
  FAULT_TROVE(&r, dir, db, "forget", "--domain", "a/b");
  CHECK(r.code == 2);
  FAULT_TROVE(&r, dir, db, "forget", "--domain", "example.com");
  CHECK(r.code == 1); /* files have no host */
  /* the forgotten files stay out of the next scan... */
  FAULT_TROVE(&r, dir, db, "scan");
  CHECK(r.code == 0 && strstr(r.out, "left out 5 forgotten") && strstr(r.out, "0 new"));
  fault_consistent(db, NOTES - 5, 0, true);
  /* ...until one is modified after the forget */
  char path[160];
  snprintf(path, sizeof path, "%s/d03/n00003.md", tree);
  struct timeval tv[2] = {{time(NULL) + 5, 0}, {time(NULL) + 5, 0}};
  CHECK(utimes(path, tv) == 0);
  FAULT_TROVE(&r, dir, db, "scan");
  CHECK(r.code == 0 && strstr(r.out, "1 new") && strstr(r.out, "left out 4 forgotten"));
  fault_consistent(db, NOTES - 4, 0, true);
  /* --no-wait while a scan holds the lock */
  char lock[160];
  snprintf(lock, sizeof lock, "%s.lock", db);
  int fd = open(lock, O_RDWR | O_CREAT, 0644);
  CHECK(fd >= 0 && flock(fd, LOCK_EX) == 0);
  FAULT_TROVE(&r, dir, db, "forget", ids, "--no-wait");
  CHECK(r.code == 3);
  close(fd);
  run_rmdir(dir);
}

/* Kills pid with SIGKILL at a random point after its scan committed a
 * first batch (or when it ended first): the point is picked by a random
 * delay of up to a quarter of span_ms after that; returns the delay. Polls the
 * database read-only for the first item; nothing else waits on timing. */
static long kill_after_first_commit(pid_t pid, const char *db, long span_ms) {
  struct timespec tick = {0, 2000000L};
  for (int i = 0; i < 30000; i++) {
    siginfo_t info = {0};
    if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid)
      break; /* ended before: the rerun is a plain scan */
    struct stat sb;
    if (stat(db, &sb) == 0 && db_count(db, "SELECT count(*) FROM items") > 0)
      break;
    nanosleep(&tick, NULL);
  }
  long at = rand() % (span_ms / 4 + 1);
  struct timespec ts = {at / 1000, (at % 1000) * 1000000L};
  nanosleep(&ts, NULL); /* only picks the point */
  kill(pid, SIGKILL);
  return at;
}

/* ---- resuming a killed scan --------------------------------------------- */

typedef struct site {
  _Atomic int hits[PAGES];
} site;

static bool serve(void *ctx, const http_req *req, http_conn *c) {
  site *s = ctx;
  int k = -1;
  if (sscanf(req->path, "/p%d", &k) != 1 || k < 0 || k >= PAGES)
    return http_respond(c, 404, NULL, "text/plain", "no", 2);
  atomic_fetch_add(&s->hits[k], 1);
  http_pause(c, 2); /* so that a scan lasts long enough to be killed inside */
  char body[256];
  int n = snprintf(body, sizeof body, "<html><head><title>Page %d</title></head><body><p>"
                   "Page %d about the harbour ledger and marker%d.</p></body></html>", k, k, k);
  return http_respond(c, 200, NULL, "text/html", body, (size_t)n);
}

/* A fresh database in dir with a chromium-history source of PAGES pages. */
static void web_setup(const char *dir, const char *db, int port) {
  char profile[128], history[160];
  snprintf(profile, sizeof profile, "%s/profile", dir);
  snprintf(history, sizeof history, "%s/History", profile);
  CHECK(mkdir(profile, 0700) == 0);
  CHECK(tdb_exec(history, tdb_chromium_schema) == 0);
  sqlite3 *h = tdb_open(history);
  CHECK(h != NULL);
  tdb_run(h, "BEGIN");
  for (int k = 0; k < PAGES; k++) {
    char sql[256];
    snprintf(sql, sizeof sql, "INSERT INTO urls(url, title, last_visit_time) VALUES"
             "('http://127.0.0.1:%d/p%d', 'Page %d', %lld);", port, k, k,
             (long long)tdb_chromium_time((int64_t)time(NULL) - 3600));
    tdb_run(h, sql);
  }
  tdb_run(h, "COMMIT");
  sqlite3_close(h);
  static run_out r;
  RUN_TROVE(&r, dir, db, "source", "add", "web", "chromium-history", profile);
  CHECK(r.code == 0);
}

/* Which pages the database holds now, as flags. */
static int stored_pages(const char *db_path, bool *stored) {
  sqlite3 *db = NULL;
  sqlite3_stmt *s = NULL;
  int n = 0;
  memset(stored, 0, PAGES * sizeof *stored);
  CHECK(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
  if (sqlite3_prepare_v2(db, "SELECT external_id FROM items", -1, &s, NULL) == SQLITE_OK)
    while (sqlite3_step(s) == SQLITE_ROW) {
      const char *u = (const char *)sqlite3_column_text(s, 0), *p = u ? strstr(u, "/p") : NULL;
      int k = -1;
      if (p && sscanf(p, "/p%d", &k) == 1 && k >= 0 && k < PAGES && !stored[k])
        stored[k] = true, n++;
    }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return n;
}

static void killed_web_scan_resumes_without_fetching_again(void) {
  site *s = calloc(1, sizeof *s);
  int port = 0;
  http_server *srv = http_server_start(serve, s, &port);
  CHECK(srv != NULL);
  if (!srv)
    return;
  static run_out r;
  char dir[64], db[128];
  /* how long a whole scan takes here, to pick kill points inside it */
  run_tempdir(dir, sizeof dir, "resume");
  snprintf(db, sizeof db, "%s/trove.db", dir);
  web_setup(dir, db, port);
  double t0 = check_now();
  RUN_TROVE(&r, dir, db, "--no-model", "scan");
  CHECK(r.code == 0);
  long span_ms = (long)((check_now() - t0) * 1000) + 1;
  run_rmdir(dir);
  static bool stored[PAGES];
  static int before[PAGES];
  int rounds = fault_rounds("TROVE_FAULT_KILLS", 4, 2), resumed = 0;
  for (int round = 0; round < rounds; round++) {
    run_tempdir(dir, sizeof dir, "resume");
    snprintf(db, sizeof db, "%s/trove.db", dir);
    web_setup(dir, db, port);
    pid_t pid = run_start(dir, db, (const char *const[]){"--no-model", "scan", NULL});
    long at = kill_after_first_commit(pid, db, span_ms);
    int code = run_wait(pid);
    int n = stored_pages(db, stored);
    for (int k = 0; k < PAGES; k++)
      before[k] = atomic_load(&s->hits[k]);
    RUN_TROVE(&r, dir, db, "--no-model", "scan");
    CHECK(r.code == 0);
    bool interrupted = code == 128 + SIGKILL && n > 0 && strstr(r.out, "resumed");
    for (int k = 0; interrupted && k < PAGES; k++)
      if (stored[k] && atomic_load(&s->hits[k]) != before[k]) {
        fprintf(stderr, "  page %d, stored before the kill at %ld ms, fetched again\n", k, at);
        CHECK(false);
        break;
      }
    char want[96];
    snprintf(want, sizeof want, "%d items it had finished", n);
    if (interrupted) {
      CHECK(strstr(r.out, want) != NULL);
      resumed++;
    }
    CHECK(stored_pages(db, stored) == PAGES);
    fault_consistent(db, -1, 0, false);
    run_rmdir(dir);
  }
  fprintf(stderr, "  %d of %d killed scans resumed with pages already stored\n", resumed,
          rounds);
  http_server_stop(srv);
  free(s);
}

/* The number after `key` in text, -1 when absent. */
static long number_after(const char *text, const char *key) {
  const char *p = strstr(text, key);
  return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

static void killed_fs_scan_does_not_embed_again(void) {
  char dir[64], tree[96], db[128];
  run_tempdir(dir, sizeof dir, "resumefs");
  snprintf(tree, sizeof tree, "%s/tree", dir);
  snprintf(db, sizeof db, "%s/trove.db", dir);
  int notes = 400 / (int)check_scale();
  fault_tree(tree, notes);
  static run_out r;
  FAULT_TROVE(&r, dir, db, "source", "add", "notes", "fs", tree);
  CHECK(r.code == 0);
  double t0 = check_now();
  FAULT_TROVE(&r, dir, db, "scan");
  CHECK(r.code == 0);
  long span_ms = (long)((check_now() - t0) * 1000) + 1;
  int rounds = fault_rounds("TROVE_FAULT_KILLS", 3, 2), resumes = 0;
  for (int round = 0; round < rounds; round++) {
    char side[768]; /* a new database: without the sources kept beside the old one */
    snprintf(side, sizeof side, "rm -f %s %s-wal %s-shm %s.*.hnsw %s.sources.json", db, db, db,
             db, db);
    CHECK(system(side) == 0);
    FAULT_TROVE(&r, dir, db, "source", "add", "notes", "fs", tree);
    CHECK(r.code == 0);
    pid_t pid = fault_start(dir, db, (const char *const[]){"scan", NULL});
    kill_after_first_commit(pid, db, span_ms);
    run_wait(pid);
    int64_t done = db_count(db, "SELECT count(*) FROM items");
    FAULT_TROVE(&r, dir, db, "scan");
    CHECK(r.code == 0);
    long resumed = number_after(r.out, "resumed the interrupted scan: ");
    long embedded = number_after(r.out, "embedded ");
    if (resumed > 0) {
      resumes++;
      CHECK(resumed == done);
      if (fault_have_model())
        CHECK(embedded <= notes - resumed);
    }
    fault_consistent(db, notes, 0, true);
  }
  fprintf(stderr, "  %d of %d killed scans resumed with items already stored\n", resumes,
          rounds);
  run_rmdir(dir);
}

/* How many times needle occurs in hay. */
static int occurrences(const char *hay, const char *needle) {
  int n = 0;
  for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
    n++;
  return n;
}

/* `stats` counts the pages kept after the browser expired them, in all and
 * per source, text and --json; and a history whose every row is left out
 * (here: on an excluded domain) is not taken for an empty one: the page the
 * person deleted goes as any unseen page does, and the scan says why it
 * stored nothing. Every URL is on 127.0.0.1:1, which refuses: no network. */
static void stats_counts_expired_and_a_history_all_left_out_is_not_empty(void) {
  char dir[64], db[128], profile[128], history[160], sql[512];
  run_tempdir(dir, sizeof dir, "expired");
  snprintf(db, sizeof db, "%s/trove.db", dir);
  snprintf(profile, sizeof profile, "%s/profile", dir);
  snprintf(history, sizeof history, "%s/History", profile);
  CHECK(mkdir(profile, 0700) == 0);
  CHECK(tdb_exec(history, tdb_chromium_schema) == 0);
  int64_t now = (int64_t)time(NULL);
  snprintf(sql, sizeof sql, "INSERT INTO urls(url, title, last_visit_time) VALUES"
           " ('http://127.0.0.1:1/old', 'Old', %lld), ('http://127.0.0.1:1/new', 'New', %lld),"
           " ('http://bank.example/acct', 'Bank', %lld);",
           (long long)tdb_chromium_time(now - 100 * 86400), /* past Chromium's 90 days */
           (long long)tdb_chromium_time(now - 3600), (long long)tdb_chromium_time(now - 60));
  CHECK(tdb_exec(history, sql) == 0);
  static run_out r;
  RUN_TROVE(&r, dir, db, "source", "add", "web", "chromium-history", profile,
            "--exclude-domain", "bank.example");
  CHECK(r.code == 0);
  RUN_TROVE(&r, dir, db, "--no-model", "scan");
  CHECK(r.code == 0 && db_count(db, "SELECT count(*) FROM items") == 2);
  CHECK(tdb_exec(history, "DELETE FROM urls WHERE url LIKE '%/old'") == 0);
  RUN_TROVE(&r, dir, db, "--no-model", "scan");
  CHECK(r.code == 0 && db_count(db, "SELECT count(*) FROM items WHERE expired_at") == 1);
  RUN_TROVE(&r, dir, db, "--no-model", "stats");
  CHECK(r.code == 0 && strstr(r.out, "expired    1 ") && strstr(r.out, "passages, 1 expired"));
  RUN_TROVE(&r, dir, db, "--no-model", "stats", "--json");
  CHECK(r.code == 0 && occurrences(r.out, "\"expired\":1") == 2); /* in all, the source */

  /* the person deletes the recent page: only the bank's row is left */
  CHECK(tdb_exec(history, "DELETE FROM urls WHERE url LIKE '%/new'") == 0);
  RUN_TROVE(&r, dir, db, "--no-model", "scan");
  CHECK(r.code == 0);
  CHECK(strstr(r.out, "every entry the source yielded was left out (1 on excluded domains"));
  CHECK(!strstr(r.out, "yielded nothing") && !strstr(r.err, "yielded nothing"));
  CHECK(db_count(db, "SELECT count(*) FROM items WHERE external_id LIKE '%/new'") == 0);
  CHECK(db_count(db, "SELECT count(*) FROM items WHERE expired_at") == 1); /* still kept */
  run_rmdir(dir);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: cli_forget_test PATH_TO_TROVE\n");
    return 2;
  }
  trove_bin = argv[1];
  srand((unsigned)check_seed(__FILE__));
  RUN(forget_removes_everything_and_the_index_follows);
  RUN(stats_counts_expired_and_a_history_all_left_out_is_not_empty);
  RUN(killed_web_scan_resumes_without_fetching_again);
  RUN(killed_fs_scan_does_not_embed_again);
  return check_done(__FILE__);
}
