/* cli_fault_test.c: the `trove` binary under faults, each ending in the
 * consistency check of fault.h (integrity, FTS, items, no error recorded,
 * every item embedded, the saved vector index equal to the store):
 *   - the disk fills up in the middle of a scan (a small tmpfs, as root in
 *     a mount namespace of its own; skipped where that is not allowed): the
 *     scan fails saying so, what was committed is consistent, and once
 *     there is room the next scan completes with nothing lost;
 *   - another process holds SQLite's write lock past the busy timeout: the
 *     scan fails with a clear message (searches go on meanwhile), and the
 *     next one completes;
 *   - kill -9 at random points of a forced scan, a reprocess and a search
 *     that rebuilds and saves the index: after each, the database is
 *     consistent and no saved index claims to be current when it is not;
 *     the command run again completes, and a plain scan after it changes
 *     nothing.
 * Loop counts come from $TROVE_FAULT_KILLS (default 6, 2 of each kind; 3
 * under sanitizers);
 * scripts/faults.sh runs them long. Prints its seed.
 * Usage: cli_fault_test PATH_TO_TROVE. */
#include "fault.h"

#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <time.h>

enum { NOTES = 120 };

typedef struct fx {
  char dir[64], tree[96], db[160], space[128];
} fx;

static void fx_init(fx *f, const char *tag) {
  run_tempdir(f->dir, sizeof f->dir, tag);
  snprintf(f->tree, sizeof f->tree, "%s/tree", f->dir);
  snprintf(f->space, sizeof f->space, "%s/space", f->dir);
  snprintf(f->db, sizeof f->db, "%s/trove.db", f->space);
  CHECK(mkdir(f->space, 0755) == 0);
  fault_tree(f->tree, NOTES / (int)check_scale());
}

static int notes(void) { return NOTES / (int)check_scale(); }

/* ---- the disk fills up ------------------------------------------------ */

/* In the child: mounts a tmpfs of `size` over f->space. */
static bool small_disk(const fx *f, const char *size) {
  char opts[64];
  snprintf(opts, sizeof opts, "size=%s,mode=0755", size);
  return unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
         mount("tmpfs", f->space, "tmpfs", 0, opts) == 0;
}

/* The child's checks; returns 0, 77 (cannot mount here) or the check's
 * number. Runs in its own mount namespace, which ends with it. */
/* Six pages of 64 KB, almost all of it a script of random letters: their
 * raw content (stored, and hardly compressible) is more than the small
 * disk holds, while their text is one short paragraph each. */
static void big_files(const fx *f) {
  static char page[70000];
  static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  unsigned x = 12345;
  for (int k = 0; k < 6; k++) {
    size_t n = (size_t)snprintf(page, sizeof page, "<html><head><title>Big %d</title><script>"
                                "var blob = '", k);
    for (int i = 0; i < 65536; i++) {
      x = x * 1103515245u + 12345u;
      page[n++] = b64[(x >> 16) & 63];
    }
    snprintf(page + n, sizeof page - n, "';</script></head><body><p>Big page %d about the "
             "walrus colony on the northern ice.</p></body></html>", k);
    char rel[32];
    snprintf(rel, sizeof rel, "d09/big%d.html", k);
    run_put(f->tree, rel, page);
  }
}

static int enospc_child(fx *f) {
  static run_out r;
  if (geteuid() != 0 || !small_disk(f, "320k"))
    return 77;
  big_files(f);
  FAULT_TROVE(&r, f->dir, f->db, "source", "add", "notes", "fs", f->tree);
  if (r.code)
    return fprintf(stderr, "  source add: %s", r.err), 1;
  FAULT_TROVE(&r, f->dir, f->db, "scan");
  if (r.code != 4 || !(strstr(r.err, "disk full") || strstr(r.err, "space")))
    return fprintf(stderr, "  full scan: exit %d: %s", r.code, r.err), 2;
  if (!fault_consistent(f->db, -1, 0, false))
    return 3;
  FAULT_TROVE(&r, f->dir, f->db, "search", "harbour", "--mode", "keyword");
  if (r.code != 0 && r.code != 1) /* 1: no results, when the scan committed none of them */
    return fprintf(stderr, "  search on a full disk: %s", r.err), 4;
  char opts[64] = "size=64m";
  if (mount(NULL, f->space, NULL, MS_REMOUNT, opts) != 0) /* room again */
    return 5;
  FAULT_TROVE(&r, f->dir, f->db, "scan");
  if (r.code)
    return fprintf(stderr, "  scan with room: %s", r.err), 6;
  if (!fault_consistent(f->db, notes() + 6, 0, true))
    return 7;
  FAULT_TROVE(&r, f->dir, f->db, "scan");
  if (r.code || !strstr(r.out, "0 new, 0 changed"))
    return fprintf(stderr, "  rescan: %s", r.out), 8;
  return 0;
}

static void disk_full_mid_scan_loses_nothing(void) {
  fx f;
  fx_init(&f, "enospc");
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0)
    _exit(enospc_child(&f));
  int rc = run_wait(pid);
  if (rc == 77)
    fprintf(stderr, "  skipped: needs root and a tmpfs mount\n");
  else if (rc)
    fprintf(stderr, "  check %d failed\n", rc);
  CHECK(rc == 0 || rc == 77);
  run_rmdir(f.dir);
}

/* ---- another writer holds the lock ------------------------------------ */

static void another_writer_busy_is_clear_and_passes(void) {
  fx f;
  fx_init(&f, "busy");
  static run_out r;
  FAULT_TROVE(&r, f.dir, f.db, "source", "add", "notes", "fs", f.tree);
  CHECK(r.code == 0);
  FAULT_TROVE(&r, f.dir, f.db, "scan");
  CHECK(r.code == 0);
  run_put(f.tree, "d00/late.md", "# Late\n\nA note written while the database was locked.\n");
  sqlite3 *db = NULL;
  CHECK(sqlite3_open(f.db, &db) == SQLITE_OK);
  CHECK(sqlite3_exec(db, "BEGIN IMMEDIATE; UPDATE sources SET status = status;", NULL, NULL,
                     NULL) == SQLITE_OK);
  FAULT_TROVE(&r, f.dir, f.db, "search", "harbour", "--mode", "keyword"); /* readers go on */
  CHECK(r.code == 0 && strstr(r.out, "Note"));
  FAULT_TROVE(&r, f.dir, f.db, "scan");
  CHECK(r.code == 4 && strstr(r.err, "locked") && strstr(r.err, "wait for it"));
  CHECK(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK);
  sqlite3_close(db);
  fault_consistent(f.db, notes(), 0, true);
  FAULT_TROVE(&r, f.dir, f.db, "scan");
  CHECK(r.code == 0 && strstr(r.out, "1 new"));
  fault_consistent(f.db, notes() + 1, 0, true);
  run_rmdir(f.dir);
}

/* ---- kill -9 ----------------------------------------------------------- */

typedef enum { K_SCAN, K_REPROCESS, K_SEARCH, K_KINDS } kill_kind;

static const char *const kind_name[K_KINDS] = {"scan --force", "reprocess", "search (index save)"};

/* Starts the command of kind k; a search first loses its index file, so
 * it rebuilds and saves it. */
static pid_t start_kind(const fx *f, kill_kind k) {
  if (k == K_SEARCH) {
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -f %s.*.hnsw", f->db);
    CHECK(system(cmd) == 0);
    return fault_start(f->dir, f->db, (const char *const[]){"search", "harbour ledger", NULL});
  }
  if (k == K_REPROCESS)
    return fault_start(f->dir, f->db, (const char *const[]){"reprocess", NULL});
  return fault_start(f->dir, f->db, (const char *const[]){"scan", "--force", NULL});
}

static void kill9_at_random_points_then_rerun_converges(void) {
  unsigned long seed = check_seed(__FILE__);
  srand((unsigned)seed);
  fx f;
  fx_init(&f, "kill9");
  static run_out r;
  FAULT_TROVE(&r, f.dir, f.db, "source", "add", "notes", "fs", f.tree);
  CHECK(r.code == 0);
  FAULT_TROVE(&r, f.dir, f.db, "scan");
  CHECK(r.code == 0);
  long span_ms[K_KINDS]; /* how long each command takes here, to kill inside it */
  for (int k = 0; k < K_KINDS; k++) {
    double t0 = check_now();
    CHECK(run_wait(start_kind(&f, (kill_kind)k)) == 0);
    span_ms[k] = (long)((check_now() - t0) * 1000) + 1;
  }
  int kills = fault_rounds("TROVE_FAULT_KILLS", 6, 3), killed = 0;
  for (int i = 0; i < kills; i++) {
    kill_kind k = (kill_kind)(i % K_KINDS);
    pid_t pid = start_kind(&f, k);
    long at = rand() % span_ms[k];
    struct timespec ts = {at / 1000, (at % 1000) * 1000000L};
    nanosleep(&ts, NULL); /* only picks the point; nothing waits on it */
    kill(pid, SIGKILL);
    int code = run_wait(pid);
    CHECK(code == 128 + SIGKILL || code == 0);
    killed += code == 128 + SIGKILL;
    if (!fault_consistent(f.db, notes(), 0, false)) /* as the kill left it */
      fprintf(stderr, "  after killing %s at %ld ms\n", kind_name[k], at);
    CHECK(run_wait(start_kind(&f, k)) == 0); /* the rerun completes */
    FAULT_TROVE(&r, f.dir, f.db, "scan");
    CHECK(r.code == 0 && strstr(r.out, "0 new, 0 changed")); /* and converges */
    if (!fault_consistent(f.db, notes(), 0, true))
      fprintf(stderr, "  after the rerun of %s killed at %ld ms\n", kind_name[k], at);
  }
  fprintf(stderr, "  %d of %d commands killed mid-run\n", killed, kills);
  run_rmdir(f.dir);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: cli_fault_test PATH_TO_TROVE\n");
    return 2;
  }
  trove_bin = argv[1];
  RUN(disk_full_mid_scan_loses_nothing);
  RUN(another_writer_busy_is_clear_and_passes);
  RUN(kill9_at_random_points_then_rerun_converges);
  return check_done(__FILE__);
}
