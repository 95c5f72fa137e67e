/* cli_kill_test.c: kill -9 and Ctrl-C at random points. Forks `trove scan`
 * over a tree of a few thousand small files, SIGKILLs or SIGINTs it after a
 * random delay several times (the delay only picks a random point; nothing
 * waits on it for correctness), checking after each that `source list`
 * does not call the dead scan "indexing", then reruns the scan to
 * completion and checks that the database is consistent
 * (trove_store_check) and holds exactly one item per file. Prints its
 * seed. Usage: cli_kill_test PATH_TO_TROVE. */
#include "store.h"

#include "run.h"

#include <signal.h>
#include <time.h>

static void kill9_during_scan_then_rerun_completes(void) {
  unsigned long seed = check_seed(__FILE__);
  srand((unsigned)seed);
  char dir[64], tree[96], db[96];
  run_tempdir(dir, sizeof dir, "kill");
  snprintf(tree, sizeof tree, "%s/tree", dir);
  snprintf(db, sizeof db, "%s/trove.db", dir);
  CHECK(mkdir(tree, 0755) == 0);
  int files = 3000 / (int)check_scale();
  for (int d = 0; d < 30; d++) {
    char sub[160];
    snprintf(sub, sizeof sub, "%s/d%02d", tree, d);
    CHECK(mkdir(sub, 0755) == 0);
  }
  for (int i = 0; i < files; i++) {
    char rel[64], text[160];
    snprintf(rel, sizeof rel, "d%02d/n%05d.md", i % 30, i);
    snprintf(text, sizeof text, "# Note %d\n\nA small note number %d about topic %d and word w%d.\n",
             i, i, i % 17, i);
    run_put(tree, rel, text);
  }
  static run_out r;
  RUN_TROVE(&r, dir, db, "source", "add", "many", "fs", tree);
  CHECK(r.code == 0);
  /* how long one forced scan takes here, to pick kill points inside it */
  double t0 = check_now();
  RUN_TROVE(&r, dir, db, "scan", "many", "--force");
  CHECK(r.code == 0);
  long span_ms = (long)((check_now() - t0) * 900) + 1; /* 90% of it, in ms */
  int killed = 0;
  for (int round = 0; round < 6; round++) {
    /* forced, so every round rewrites every item: kills land in writes */
    pid_t pid = run_start(dir, db, (const char *const[]){"scan", "many", "--force", NULL});
    CHECK(pid > 0);
    struct timespec ts = {0, (rand() % span_ms) * 1000000L};
    while (ts.tv_nsec >= 1000000000L)
      ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    nanosleep(&ts, NULL);
    int sig = round % 2 ? SIGINT : SIGKILL; /* Ctrl-C, or a kill -9 */
    kill(pid, sig);
    int code = run_wait(pid);
    killed += code == 128 + sig;
    CHECK(code == 128 + sig || code == 0);
    static run_out l;
    RUN_TROVE(&l, dir, db, "source", "list", "--json");
    CHECK(l.code == 0 && !strstr(l.out, "\"status\":\"indexing\""));
    if (code == 128 + sig && !strstr(l.out, "\"status\":\"interrupted\""))
      CHECK(strstr(l.out, "\"status\":\"ready\"") != NULL); /* killed before it began */
  }
  fprintf(stderr, "  %d of 6 scans killed mid-run\n", killed);
  RUN_TROVE(&r, dir, db, "scan", "many");
  CHECK(r.code == 0);
  if (r.code)
    fprintf(stderr, "  rerun: %s", r.err);
  trove_store *st = NULL;
  trove_err e = {0};
  trove_store_opts o = {.path = db};
  CHECK(trove_store_open(&o, &st, &e) == 0);
  CHECK(trove_store_check(st, &e) == 0);
  trove_store_stats s = {0};
  CHECK(trove_store_stats_get(st, &s, &e) == 0);
  CHECK(s.items == files && s.n_reasons == 0);
  fprintf(stderr, "  %lld items for %d files\n", (long long)s.items, files);
  trove_store_hit *h = NULL;
  size_t n = 0;
  char word[32];
  snprintf(word, sizeof word, "w%d", files / 2);
  CHECK(trove_store_search(st, word, NULL, &h, &n, &e) == 0 && n == 1);
  trove_store_hits_free(h, n);
  trove_store_stats_clear(&s);
  trove_store_close(st);
  run_rmdir(dir);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: cli_kill_test PATH_TO_TROVE\n");
    return 2;
  }
  trove_bin = argv[1];
  RUN(kill9_during_scan_then_rerun_completes);
  return check_done(__FILE__);
}
