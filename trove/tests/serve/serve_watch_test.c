/* serve_watch_test.c: `trove serve` runs the watcher of `trove watch`
 * (watch.h): a file written under a watched fs source becomes searchable
 * through /api/search while the server runs, and a deleted one goes; a
 * source added through the API is watched too; the page's event stream
 * shows the watcher's scans ("watch":true). When another `trove watch`
 * holds the database, the server says so once on stderr and serves without
 * watching; --no-watch turns the watcher off. Ctrl-C stops it all with exit
 * code 0 (a sanitizer report would change it). Runs with --no-model.
 * Usage: serve_watch_test PATH_TO_TROVE. */
#include "json.h"
#include "serve_proc.h"

static const char *const no_model[] = {"--no-model", NULL};

typedef struct fx {
  char dir[64], tree[96], more[96], db[96];
} fx;

static void fx_init(fx *f, const char *tag) {
  run_tempdir(f->dir, sizeof f->dir, tag);
  snprintf(f->tree, sizeof f->tree, "%s/tree", f->dir);
  snprintf(f->more, sizeof f->more, "%s/more", f->dir);
  snprintf(f->db, sizeof f->db, "%s/trove.db", f->dir);
  CHECK(mkdir(f->tree, 0755) == 0 && mkdir(f->more, 0755) == 0);
  run_put(f->tree, "otters.md", "# Otters\n\nOtters hold hands while they sleep.\n");
  static run_out r;
  RUN_TROVE(&r, f->dir, f->db, "--no-model", "source", "add", "notes", "fs", f->tree);
  CHECK(r.code == 0);
  RUN_TROVE(&r, f->dir, f->db, "--no-model", "scan");
  CHECK(r.code == 0);
}

/* The number of results /api/search gives for q, -1 when it is no array. */
static long hits(const server *s, const char *q) {
  char path[256];
  snprintf(path, sizeof path, "/api/search?q=%s&mode=keyword", q);
  reply r = get(s, path);
  trove_json_doc *doc = NULL;
  long n = -1;
  if (r.status == 200 && trove_json_parse(r.body, r.len, 0, &doc, NULL) == 0 &&
      trove_json_type_of(trove_json_root(doc)) == TROVE_JSON_ARRAY)
    n = (long)trove_json_len(trove_json_root(doc));
  trove_json_free(doc);
  reply_free(&r);
  return n;
}

/* Polls until the search for q gives want results or SERVE_WAIT_MS pass:
 * waiting for an end state, not timing anything. */
static bool hits_become(const server *s, const char *q, long want) {
  for (int waited = 0; waited < SERVE_WAIT_MS; waited += 50) {
    if (hits(s, q) == want)
      return true;
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  fprintf(stderr, "  \"%s\" never gave %ld results (last: %ld)\n", q, want, hits(s, q));
  return false;
}

static int stop_and_report(server *s) {
  int code = server_stop(s, SIGINT);
  if (code != 0) {
    static char err[4096];
    run_slurp(s->err, err, sizeof err);
    fprintf(stderr, "  trove serve exited %d: %s\n", code, err);
  }
  return code;
}

static void serve_watches_fs_sources(void) {
  fx f;
  fx_init(&f, "serve-watch");
  server s;
  CHECK(server_start(&s, f.dir, f.db, no_model));
  CHECK(server_token(&s));
  events ev;
  CHECK(events_open(&ev, &s));
  run_put(f.tree, "kingfisher.md", "# Kingfishers\n\nA kingfisher dives for minnows.\n");
  CHECK(hits_become(&s, "kingfisher", 1));
  CHECK(events_wait(&ev, "\"watch\":true") != NULL); /* the page sees the watcher's scans */
  char path[160];
  snprintf(path, sizeof path, "%s/kingfisher.md", f.tree);
  CHECK(unlink(path) == 0);
  CHECK(hits_become(&s, "kingfisher", 0));
  CHECK(hits(&s, "otters") == 1); /* the rest stays */
  events_close(&ev);

  /* a source added through the API is watched from then on */
  char body[256];
  snprintf(body, sizeof body, "{\"name\":\"more\",\"type\":\"fs\",\"location\":\"%s\"}", f.more);
  reply r = post(&s, "POST", "/api/sources", body);
  CHECK(r.status == 201);
  reply_free(&r);
  run_put(f.more, "heron.txt", "A grey heron waits in the shallows.\n");
  CHECK(hits_become(&s, "heron", 1));
  /* and one removed is no longer: its items go with it, nothing fails */
  r = post(&s, "DELETE", "/api/sources/more", NULL);
  for (int i = 0; i < 200 && r.status == 409; i++) { /* a watcher scan was under way */
    reply_free(&r);
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    r = post(&s, "DELETE", "/api/sources/more", NULL);
  }
  CHECK(r.status == 200);
  reply_free(&r);
  CHECK(hits(&s, "heron") == 0);
  run_put(f.tree, "egret.md", "# Egrets\n\nA little egret stalks the reeds.\n");
  CHECK(hits_become(&s, "egret", 1)); /* the rest is still watched */
  CHECK(stop_and_report(&s) == 0);
  static char err[8192];
  run_slurp(s.err, err, sizeof err);
  CHECK(!strstr(err, "failed")); /* no scan of the removed source was tried */

  static run_out out; /* what the watcher left equals a full scan's */
  RUN_TROVE(&out, f.dir, f.db, "--no-model", "scan", "notes");
  CHECK(out.code == 0 && strstr(out.out, "0 new, 0 changed") && strstr(out.out, "0 deleted"));
  if (!strstr(out.out, "0 new, 0 changed"))
    fprintf(stderr, "  the scan after: %s%s\n", out.out, out.err);
  run_rmdir(f.dir);
}

/* Waits until path holds want (a line a process prints), or
 * SERVE_WAIT_MS pass. */
static bool file_says(const char *path, const char *want) {
  static char buf[8192];
  for (int waited = 0; waited < SERVE_WAIT_MS; waited += 50) {
    run_slurp(path, buf, sizeof buf);
    if (strstr(buf, want))
      return true;
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  fprintf(stderr, "  %s never said \"%s\": %s\n", path, want, buf);
  return false;
}

static void serve_beside_a_watch_serves_without_watching(void) {
  fx f;
  fx_init(&f, "serve-watch2");
  char wdir[128];
  snprintf(wdir, sizeof wdir, "%s/watch", f.dir);
  CHECK(mkdir(wdir, 0755) == 0);
  pid_t watch = run_start(wdir, f.db, (const char *const[]){"--no-model", "watch", NULL});
  CHECK(watch > 0);
  char werr[160];
  snprintf(werr, sizeof werr, "%s/stderr", wdir);
  CHECK(file_says(werr, "watching; Ctrl-C stops"));
  server s;
  CHECK(server_start(&s, f.dir, f.db, no_model));
  CHECK(server_token(&s));
  CHECK(hits(&s, "otters") == 1); /* it serves */
  CHECK(stop_and_report(&s) == 0);
  static char err[8192];
  run_slurp(s.err, err, sizeof err);
  char who[64];
  snprintf(who, sizeof who, "process %ld is already watching", (long)watch);
  const char *at = strstr(err, who);
  CHECK(at && strstr(err, "serving without watching"));
  CHECK(at && !strstr(at + strlen(who), "already watching")); /* said once */
  if (!at)
    fprintf(stderr, "  trove serve said: %s\n", err);
  kill(watch, SIGINT);
  CHECK(run_wait(watch) == 0); /* the watch was never disturbed */

  /* --no-watch: not a word about watching, with the watch gone too */
  const char *const off[] = {"--no-watch", NULL};
  CHECK(server_start_ex(&s, f.dir, f.db, no_model, off));
  CHECK(server_token(&s));
  CHECK(hits(&s, "otters") == 1);
  CHECK(stop_and_report(&s) == 0);
  run_slurp(s.err, err, sizeof err);
  CHECK(!strstr(err, "watching"));
  run_rmdir(f.dir);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: serve_watch_test PATH_TO_TROVE\n");
    return 2;
  }
  trove_bin = argv[1];
  signal(SIGPIPE, SIG_IGN);
  RUN(serve_watches_fs_sources);
  RUN(serve_beside_a_watch_serves_without_watching);
  return check_done(__FILE__);
}
