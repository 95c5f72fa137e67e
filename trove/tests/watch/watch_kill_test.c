/* watch_kill_test.c: `trove watch` killed with SIGKILL at random points
 * while a stream of changes runs (files made, rewritten, renamed, deleted,
 * directories made and removed), then started again: the database passes
 * its integrity check after every kill, and once the restarted watch has
 * caught up and is stopped with SIGTERM (exit 0), a full scan finds
 * nothing to change. Also: a second watch of the database exits with code
 * 3 naming the first's pid. The binary is argv[1]; rounds from
 * $TROVE_FAULT_KILLS (default 6); the seed is printed. */
#include "store.h"

#include "../cli/run.h"

#include <signal.h>
#include <sqlite3.h>
#include <time.h>

static char dir[64], tree[128], db[128], work[128];

/* Every item, one line each (newlines in text escaped), in path order. */
static char *snapshot(void) {
  sqlite3 *c = NULL;
  sqlite3_stmt *s = NULL;
  char *out = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&out, &len);
  CHECK(sqlite3_open_v2(db, &c, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
  CHECK(sqlite3_prepare_v2(c, "SELECT external_id, title, text, content_hash, skip_reason "
                           "FROM items ORDER BY external_id", -1, &s, NULL) == SQLITE_OK);
  while (s && sqlite3_step(s) == SQLITE_ROW) {
    for (int i = 0; i < 5; i++) {
      const unsigned char *t = sqlite3_column_text(s, i);
      fputs(i ? "\t" : "", m);
      for (const unsigned char *p = t ? t : (const unsigned char *)"(null)"; *p; p++)
        fputs(*p == '\n' ? "\\n" : (char[2]){(char)*p, 0}, m);
    }
    fputc('\n', m);
  }
  sqlite3_finalize(s);
  sqlite3_close(c);
  fclose(m);
  return out;
}

static void integrity_ok(void) {
  trove_store *st = NULL;
  trove_store_opts o = {.path = db};
  trove_err e = {0};
  CHECK(trove_store_open(&o, &st, &e) == 0);
  int rc = st ? trove_store_check(st, &e) : -1;
  if (rc)
    fprintf(stderr, "integrity: %s\n", e.msg);
  CHECK(rc == 0);
  trove_store_close(st);
}

/* One random change to the tree. */
static void change(unsigned *seed) {
  char rel[64], rel2[64], text[160];
  int k = rand_r(seed) % 40, op = rand_r(seed) % 6;
  snprintf(rel, sizeof rel, "%s/f%d.md", k % 3 ? "d" : ".", k);
  snprintf(rel2, sizeof rel2, "%s/f%d.md", k % 2 ? "d" : ".", (k + 7) % 40);
  char a[300], b[300];
  snprintf(a, sizeof a, "%s/%s", tree, rel);
  snprintf(b, sizeof b, "%s/%s", tree, rel2);
  switch (op) {
  case 0:
  case 1: /* write or rewrite */
    snprintf(text, sizeof text, "# Note %d\n\nRevision %d of note %d, about word%d.\n", k,
             rand_r(seed) % 1000, k, rand_r(seed) % 50);
    run_put(tree, rel, text);
    break;
  case 2:
    rename(a, b); /* either may be missing: fine */
    break;
  case 3:
    unlink(a);
    break;
  case 4: { /* an atomic save */
    char tmp[320];
    snprintf(tmp, sizeof tmp, "%s.tmp%d", a, k);
    FILE *fp = fopen(tmp, "w");
    if (fp) {
      fprintf(fp, "# Saved %d\n\nSaved whole, revision %d.\n", k, rand_r(seed) % 1000);
      fclose(fp);
      rename(tmp, a);
    }
    break;
  }
  default: { /* a directory made with a file, or removed with what it holds */
    char d[160];
    snprintf(d, sizeof d, "%s/sub%d", tree, k % 4);
    if (mkdir(d, 0755) == 0) {
      snprintf(rel, sizeof rel, "sub%d/inner.txt", k % 4);
      run_put(tree, rel, "A file in a directory that comes and goes.\n");
    } else {
      snprintf(a, sizeof a, "%s/inner.txt", d);
      unlink(a);
      rmdir(d);
    }
  }
  }
}

/* Waits until the watch's stderr says it is watching (its first scans
 * done). False when it exited first. */
static bool wait_watching(pid_t pid) {
  char path[256], buf[4096];
  snprintf(path, sizeof path, "%s/stderr", work);
  for (;;) { /* a condition awaited, not a time asserted: ctest's timeout bounds it */
    run_slurp(path, buf, sizeof buf);
    if (strstr(buf, "trove: watching;")) /* not "... is already watching" */
      return true;
    if (waitpid(pid, NULL, WNOHANG) == pid) {
      fprintf(stderr, "watch exited early: %s\n", buf);
      return false;
    }
    struct timespec ts = {0, 20 * 1000000L};
    nanosleep(&ts, NULL);
  }
}

static const char *const watch_args[] = {"--no-model", "watch", NULL};

static void killed_watches_leave_an_exact_index(void) {
  unsigned seed = (unsigned)check_seed(__FILE__);
  const char *env = getenv("TROVE_FAULT_KILLS");
  int rounds = env && atoi(env) > 0 ? atoi(env) : 6;
  for (int r = 0; r < rounds; r++) {
    pid_t pid = run_start(work, db, watch_args);
    CHECK(pid > 0);
    int n = rand_r(&seed) % 300; /* changes before the kill: at any point of the watch */
    for (int i = 0; i < n; i++) {
      change(&seed);
      if (i % 25 == 0) { /* let the watch get into its scans now and then */
        struct timespec ts = {0, (rand_r(&seed) % 40) * 1000000L};
        nanosleep(&ts, NULL);
      }
    }
    kill(pid, SIGKILL);
    CHECK(run_wait(pid) == 128 + SIGKILL);
    integrity_ok();
  }
  /* restarted, it catches up with what it missed, and stops cleanly; its
   * stderr file is removed first, as the child truncates it only once it
   * runs and an earlier round's "watching" must not be read for its */
  char err_path[200];
  snprintf(err_path, sizeof err_path, "%s/stderr", work);
  unlink(err_path);
  pid_t pid = run_start(work, db, watch_args);
  CHECK(wait_watching(pid));
  run_out second;
  RUN_TROVE(&second, dir, db, "--no-model", "watch");
  char who[48];
  snprintf(who, sizeof who, "process %ld", (long)pid);
  CHECK(second.code == 3);
  CHECK(strstr(second.err, who) != NULL);
  kill(pid, SIGTERM);
  CHECK(run_wait(pid) == 0);
  integrity_ok();
  char *before = snapshot();
  run_out scan;
  RUN_TROVE(&scan, dir, db, "--no-model", "scan");
  CHECK(scan.code == 0);
  char *after = snapshot();
  bool same = strcmp(before, after) == 0;
  if (!same)
    fprintf(stderr, "--- after the watch:\n%s--- after a full scan:\n%s", before, after);
  CHECK(same);
  CHECK(strstr(scan.out, "0 new, 0 changed") != NULL && strstr(scan.out, "0 deleted") != NULL);
  if (!strstr(scan.out, "0 new, 0 changed"))
    fprintf(stderr, "scan: %s\n", scan.out);
  free(before);
  free(after);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s TROVE_BINARY\n", argv[0]);
    return 2;
  }
  trove_bin = argv[1];
  run_tempdir(dir, sizeof dir, "watchkill");
  snprintf(tree, sizeof tree, "%s/tree", dir);
  snprintf(db, sizeof db, "%s/trove.db", dir);
  snprintf(work, sizeof work, "%s/work", dir);
  CHECK(mkdir(tree, 0755) == 0 && mkdir(work, 0755) == 0);
  char d[160];
  snprintf(d, sizeof d, "%s/d", tree);
  CHECK(mkdir(d, 0755) == 0);
  run_put(tree, "start.md", "# Start\n\nThe first file.\n");
  run_out r;
  RUN_TROVE(&r, dir, db, "--no-model", "source", "add", "t", "fs", tree);
  CHECK(r.code == 0);
  RUN(killed_watches_leave_an_exact_index);
  run_rmdir(dir);
  return check_done(__FILE__);
}
