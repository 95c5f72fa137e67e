/* serve_stop_test.c: Ctrl-C while a scan started from the page is running
 * stops `trove serve` cleanly: exit code 0, the scan stopped (the source
 * says so, nothing it stored is lost), and the vector index saved in step
 * with the database, so the next search loads it as it is (no catch-up, no
 * rebuild); a later scan completes the work. Needs the model (skipped, 77,
 * without it). Usage: serve_stop_test PATH_TO_TROVE. */
#include "serve_proc.h"

enum { FILES = 200 };

static void serve_ctrl_c_stops_a_scan_and_saves_the_index(void) {
  char dir[64], tree[96], db[96];
  run_tempdir(dir, sizeof dir, "serve-stop");
  snprintf(tree, sizeof tree, "%s/tree", dir);
  snprintf(db, sizeof db, "%s/trove.db", dir);
  CHECK(mkdir(tree, 0755) == 0);
  static const char *const words[] = {"otters", "rivers", "granite", "lamps", "harbours",
                                      "ledgers", "tomatoes", "kites"};
  for (int i = 0; i < FILES; i++) {
    char name[32], text[512];
    snprintf(name, sizeof name, "n%03d.md", i);
    snprintf(text, sizeof text, "# Note %d on %s\n\nThis note is about %s and %s, number %d. "
             "It says a little about each, so that its passage is a sentence or two long.\n",
             i, words[i % 8], words[i % 8], words[(i * 3 + 1) % 8], i);
    run_put(tree, name, text);
  }
  static run_out r;
  RUN_TROVE(&r, dir, db, "source", "add", "notes", "fs", tree);
  CHECK(r.code == 0);
  server s;
  CHECK(server_start(&s, dir, db, NULL));
  CHECK(server_token(&s));
  events ev;
  CHECK(events_open(&ev, &s));
  reply rep = post(&s, "POST", "/api/scan", "{}");
  CHECK(rep.status == 202);
  reply_free(&rep);
  CHECK(events_wait(&ev, "\"state\":\"running\"") != NULL);
  CHECK(events_wait(&ev, "\"source\":\"notes\"") != NULL);
  int code = server_stop(&s, SIGINT); /* most likely mid-scan; either way it must hold */
  events_close(&ev);
  static char err[4096];
  run_slurp(s.err, err, sizeof err);
  if (code != 0)
    fprintf(stderr, "  trove serve exited %d: %s\n", code, err);
  CHECK(code == 0 && strstr(err, "stopping (Ctrl-C)"));

  RUN_TROVE(&r, dir, db, "-v", "search", "otters");
  CHECK(r.code == 0 || r.code == 1); /* 1 when nothing was stored yet */
  if (!strstr(r.err, "vector index: loaded") || strstr(r.err, "caught up"))
    fprintf(stderr, "  after the stop: %s\n", r.err);
  CHECK(strstr(r.err, "vector index: loaded") && !strstr(r.err, "caught up"));
  RUN_TROVE(&r, dir, db, "source", "list");
  bool stopped = strstr(r.out, "stopped") != NULL;
  fprintf(stderr, "  the scan %s\n", stopped ? "was stopped mid-way" : "ended before Ctrl-C");
  CHECK(stopped ? strstr(r.out, "error") != NULL : strstr(r.out, "ready") != NULL);

  RUN_TROVE(&r, dir, db, "scan"); /* completes what was left */
  CHECK(r.code == 0);
  RUN_TROVE(&r, dir, db, "stats");
  char want[64];
  snprintf(want, sizeof want, "items      %d\n", FILES);
  CHECK(strstr(r.out, want) != NULL);
  RUN_TROVE(&r, dir, db, "-v", "search", "otters");
  CHECK(r.code == 0 && strstr(r.err, "vector index: loaded") && !strstr(r.err, "caught up"));
  run_rmdir(dir);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: serve_stop_test PATH_TO_TROVE\n");
    return 2;
  }
  trove_bin = argv[1];
  signal(SIGPIPE, SIG_IGN);
  if (!run_have_model())
    return check_skip(__FILE__, "the model is missing (scripts/fetch-model.sh)");
  RUN(serve_ctrl_c_stops_a_scan_and_saves_the_index);
  return check_done(__FILE__);
}
