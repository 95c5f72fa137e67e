/* cli_race_test.c: `trove` processes racing on one database, each loop
 * ending in the consistency check of fault.h (nothing lost, hide flags
 * kept, no failure recorded, every item embedded, the index equal to the
 * store):
 *   - two scans at once (forced and not; the second waits for the scan
 *     lock);
 *   - a scan and `source remove` of a source it is scanning;
 *   - a scan and `hide` of items it rewrites;
 *   - a scan and searches, which must all answer;
 * and the three scenarios of the hostile-input probe, in a loop of 20:
 *   1. two scans at once lost files and hide flags;
 *   2. `scan --force --no-model` wiped every vector, and nothing embedded
 *      them again;
 *   3. a new URL answering 304 aborted its source on every scan.
 * Loop counts: $TROVE_RACE_LOOPS (default 3, 1 under sanitizers) and
 * $TROVE_PROBE_LOOPS (default 20, 3 under sanitizers); scripts/faults.sh
 * runs them long.
 * Usage: cli_race_test PATH_TO_TROVE. */
#include "fault.h"
#include "http_server.h"
#include "testdb.h"

#include <stdatomic.h>

enum { NOTES = 60 };

static int notes(void) { return NOTES / (int)check_scale(); }

typedef struct fx {
  char dir[64], tree[96], db[128], out[2][96];
} fx;

static void fx_init(fx *f, const char *tag, int n) {
  run_tempdir(f->dir, sizeof f->dir, tag);
  snprintf(f->tree, sizeof f->tree, "%s/tree", f->dir);
  snprintf(f->db, sizeof f->db, "%s/trove.db", f->dir);
  for (int i = 0; i < 2; i++) { /* each racer writes its output apart */
    snprintf(f->out[i], sizeof f->out[i], "%s/out%d", f->dir, i);
    CHECK(mkdir(f->out[i], 0755) == 0);
  }
  if (n)
    fault_tree(f->tree, n);
}

/* Adds source name over dir and scans it; CHECKs both. */
static void add_and_scan(fx *f, const char *name, const char *dir) {
  static run_out r;
  FAULT_TROVE(&r, f->dir, f->db, "source", "add", name, "fs", dir);
  CHECK(r.code == 0);
  FAULT_TROVE(&r, f->dir, f->db, "scan", name);
  if (r.code)
    fprintf(stderr, "  scan %s: %s", name, r.err);
  CHECK(r.code == 0);
}

/* Hides items 1, 3, 5 ... (2k-1); returns how many. */
static int hide_some(fx *f, int k) {
  static run_out r;
  for (int i = 0; i < k; i++) {
    char id[16];
    snprintf(id, sizeof id, "%d", 2 * i + 1);
    FAULT_TROVE(&r, f->dir, f->db, "hide", id);
    CHECK(r.code == 0);
  }
  return k;
}

static void output_of(const char *dir, run_out *r) {
  char path[256];
  snprintf(path, sizeof path, "%s/stdout", dir);
  run_slurp(path, r->out, sizeof r->out);
  snprintf(path, sizeof path, "%s/stderr", dir);
  run_slurp(path, r->err, sizeof r->err);
}

/* True while pid runs; once it ended, *code is its exit code. */
static bool running(pid_t pid, int *code) {
  int status = 0;
  pid_t got = waitpid(pid, &status, WNOHANG);
  if (got == 0)
    return true;
  *code = got == pid && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return false;
}

/* Two scans of every source at once (forced when asked); both complete. */
static void two_scans(fx *f, bool force) {
  const char *const args[] = {"scan", force ? "--force" : NULL, NULL};
  pid_t a = fault_start(f->out[0], f->db, args), b = fault_start(f->out[1], f->db, args);
  int ca = run_wait(a), cb = run_wait(b);
  if (ca || cb) {
    static run_out r;
    output_of(f->out[ca ? 0 : 1], &r);
    fprintf(stderr, "  two scans: exit %d and %d: %s", ca, cb, r.err);
  }
  CHECK(ca == 0 && cb == 0);
}

/* ---- the races ---------------------------------------------------------- */

static void two_scans_at_once_lose_nothing(void) {
  fx f;
  fx_init(&f, "race2", notes());
  add_and_scan(&f, "notes", f.tree);
  int hidden = hide_some(&f, 5);
  int loops = fault_rounds("TROVE_RACE_LOOPS", 3, 1);
  for (int i = 0; i < loops; i++) {
    two_scans(&f, i % 2 == 0);
    if (!fault_consistent(f.db, notes(), hidden, true))
      fprintf(stderr, "  after round %d\n", i);
  }
  run_rmdir(f.dir);
}

static void scan_and_source_remove(void) {
  fx f;
  fx_init(&f, "raceremove", notes());
  char other[128];
  snprintf(other, sizeof other, "%s/other", f.dir);
  fault_tree(other, 10);
  add_and_scan(&f, "notes", f.tree);
  int loops = fault_rounds("TROVE_RACE_LOOPS", 3, 1);
  for (int i = 0; i < loops; i++) {
    add_and_scan(&f, "other", other);
    pid_t s = fault_start(f.out[0], f.db, (const char *const[]){"scan", "--force", NULL});
    pid_t r = fault_start(f.out[1], f.db, (const char *const[]){"source", "remove", "other",
                                                                 NULL});
    int cs = run_wait(s), cr = run_wait(r);
    if (cs || cr) {
      static run_out o;
      output_of(f.out[cs ? 0 : 1], &o);
      fprintf(stderr, "  scan %d, remove %d: %s", cs, cr, o.err);
    }
    CHECK(cs == 0 && cr == 0);
    fault_consistent(f.db, notes(), 0, true); /* the other source's items are gone */
  }
  run_rmdir(f.dir);
}

static void scan_and_hide(void) {
  fx f;
  fx_init(&f, "racehide", notes());
  add_and_scan(&f, "notes", f.tree);
  int loops = fault_rounds("TROVE_RACE_LOOPS", 3, 1), hidden = 0;
  static run_out r;
  for (int i = 0; i < loops; i++) {
    pid_t s = fault_start(f.out[0], f.db, (const char *const[]){"scan", "--force", NULL});
    int code = -1, k = 0;
    bool more = true;
    do { /* hide one item after another while it rewrites every item */
      if (2 * hidden + 1 > notes())
        break;
      char id[16];
      snprintf(id, sizeof id, "%d", 2 * hidden++ + 1);
      fault_run(&r, f.out[1], f.db, (const char *const[]){"hide", id, NULL});
      CHECK(r.code == 0);
    } while ((more = running(s, &code)) && ++k < 6);
    more = more && running(s, &code);
    if (more)
      code = run_wait(s);
    CHECK(code == 0);
    if (!fault_consistent(f.db, notes(), hidden, true))
      fprintf(stderr, "  after round %d\n", i);
  }
  run_rmdir(f.dir);
}

static void scan_and_search(void) {
  fx f;
  fx_init(&f, "racesearch", notes());
  add_and_scan(&f, "notes", f.tree);
  int loops = fault_rounds("TROVE_RACE_LOOPS", 3, 1);
  static run_out r;
  for (int i = 0; i < loops; i++) {
    pid_t s = fault_start(f.out[0], f.db, (const char *const[]){"scan", "--force", NULL});
    int code = -1, k = 0;
    do { /* search again and again while it rewrites every item */
      const char *mode = k++ % 2 ? "keyword" : "hybrid";
      fault_run(&r, f.out[1], f.db,
                (const char *const[]){"search", "w7", "--mode", mode, NULL});
      if (r.code || !strstr(r.out, "Note 7"))
        fprintf(stderr, "  search during a scan: exit %d: %s%s", r.code, r.out, r.err);
      CHECK(r.code == 0 && strstr(r.out, "Note 7"));
    } while (running(s, &code));
    CHECK(code == 0);
    fault_consistent(f.db, notes(), 0, true);
  }
  run_rmdir(f.dir);
}

/* ---- the probe's scenarios --------------------------------------------- */

static void probe_two_scans_keep_files_and_flags(void) {
  fx f;
  fx_init(&f, "probe1", notes());
  add_and_scan(&f, "notes", f.tree);
  int hidden = hide_some(&f, notes() / 3);
  int loops = fault_rounds("TROVE_PROBE_LOOPS", 20, 3);
  for (int i = 0; i < loops; i++) {
    two_scans(&f, i % 2 == 1);
    if (!fault_consistent(f.db, notes(), hidden, true))
      fprintf(stderr, "  after round %d\n", i);
  }
  run_rmdir(f.dir);
}

static void probe_keyword_force_scan_keeps_vectors(void) {
  if (!fault_have_model()) {
    fprintf(stderr, "  skipped: needs the model\n");
    return;
  }
  fx f;
  fx_init(&f, "probe2", notes());
  add_and_scan(&f, "notes", f.tree);
  int loops = fault_rounds("TROVE_PROBE_LOOPS", 20, 3);
  static run_out r;
  for (int i = 0; i < loops; i++) {
    RUN_TROVE(&r, f.dir, f.db, "--no-model", "scan", "--force");
    CHECK(r.code == 0);
    if (!fault_consistent(f.db, notes(), 0, true))
      fprintf(stderr, "  after round %d\n", i);
    if (i % 5 == 4 || i == loops - 1) { /* the vectors answer a semantic search */
      RUN_TROVE(&r, f.dir, f.db, "search", "harbour ledger", "--mode", "semantic", "-n", "3");
      CHECK(r.code == 0 && strstr(r.out, "Note") && !strstr(r.out, "no results"));
    }
  }
  run_rmdir(f.dir);
}

/* The probe's server: one page that is fine, one that answers 304 to
 * anything. */
static bool serve(void *ctx, const http_req *req, http_conn *c) {
  (void)ctx;
  if (strcmp(req->path, "/always304") == 0)
    return http_respond(c, 304, NULL, NULL, "", 0);
  static const char page[] = "<!doctype html><html><head><title>Walrus facts</title></head>"
                             "<body><article><h1>Walruses</h1><p>Walruses haul out on ice "
                             "floes between dives for clams.</p></article></body></html>";
  return http_respond(c, 200, NULL, "text/html", page, sizeof page - 1);
}

static void probe_new_url_answering_304_fails_alone(void) {
  fx f;
  fx_init(&f, "probe3", 0);
  int port = 0;
  http_server *srv = http_server_start(serve, NULL, &port);
  CHECK(srv != NULL);
  if (!srv)
    return;
  char profile[128], history[160], sql[512];
  snprintf(profile, sizeof profile, "%s/profile", f.dir);
  snprintf(history, sizeof history, "%s/History", profile);
  CHECK(mkdir(profile, 0755) == 0 && tdb_exec(history, tdb_chromium_schema) == 0);
  long long t = (long long)tdb_chromium_time(1700000000);
  snprintf(sql, sizeof sql, "INSERT INTO urls(url, title, visit_count, last_visit_time) VALUES"
           " ('http://127.0.0.1:%d/always304', 'Never sent', 1, %lld),"
           " ('http://127.0.0.1:%d/walrus', 'Walrus', 1, %lld);", port, t, port, t);
  CHECK(tdb_exec(history, sql) == 0);
  static run_out r;
  FAULT_TROVE(&r, f.dir, f.db, "source", "add", "web", "chromium-history", profile);
  CHECK(r.code == 0);
  int loops = fault_rounds("TROVE_PROBE_LOOPS", 20, 3);
  for (int i = 0; i < loops; i++) {
    FAULT_TROVE(&r, f.dir, f.db, "scan", "-v", i % 2 ? "--force" : "web");
    if (r.code || !strstr(r.out, "2 seen") || !strstr(r.out, "(1 failed)"))
      fprintf(stderr, "  round %d: exit %d: %s%s", i, r.code, r.out, r.err);
    CHECK(r.code == 0 && strstr(r.out, "2 seen") && strstr(r.out, "(1 failed)"));
    FAULT_TROVE(&r, f.dir, f.db, "search", "walruses", "--mode", "keyword");
    CHECK(r.code == 0 && strstr(r.out, "Walrus facts"));
  }
  FAULT_TROVE(&r, f.dir, f.db, "source", "list");
  CHECK(r.code == 0 && !strstr(r.out, "error"));
  http_server_stop(srv);
  run_rmdir(f.dir);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: cli_race_test PATH_TO_TROVE\n");
    return 2;
  }
  trove_bin = argv[1];
  RUN(two_scans_at_once_lose_nothing);
  RUN(scan_and_source_remove);
  RUN(scan_and_hide);
  RUN(scan_and_search);
  RUN(probe_two_scans_keep_files_and_flags);
  RUN(probe_keyword_force_scan_keeps_vectors);
  RUN(probe_new_url_answering_304_fails_alone);
  return check_done(__FILE__);
}
