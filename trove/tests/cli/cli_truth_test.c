/* cli_truth_test.c: what trove says about its state is true. Only scan and
 * source add create a database; every other command on a missing one says
 * so and creates nothing. A file that is not trove's (a text file given as
 * --db) is named as such and left byte for byte as it was. A source whose
 * scan was stopped reads "interrupted", not "indexing", and its item count
 * is the one stats gives. A failed URL is named by scan -v and by trove
 * skipped, with hidden items; the scan summary is short, the stage table
 * behind -v. Usage: cli_truth_test PATH_TO_TROVE. */
#include "json.h"
#include "store.h"

#include "run.h"

typedef struct fx {
  char dir[64], tree[96], prof[96], db[96];
} fx;

static void fx_init(fx *f) {
  run_tempdir(f->dir, sizeof f->dir, "truth");
  snprintf(f->tree, sizeof f->tree, "%s/tree", f->dir);
  snprintf(f->prof, sizeof f->prof, "%s/prof", f->dir);
  snprintf(f->db, sizeof f->db, "%s/trove.db", f->dir);
  CHECK(mkdir(f->tree, 0755) == 0 && mkdir(f->prof, 0755) == 0);
  run_put(f->tree, "otters.md", "Otters hold hands while they sleep.\n");
  run_put(f->tree, "rivers.txt", "Beavers build dams across rivers.\n");
  /* a bookmark whose page cannot be fetched: nothing listens on port 9 */
  run_put(f->prof, "Bookmarks",
          "{\"roots\":{\"bookmark_bar\":{\"type\":\"folder\",\"name\":\"Bar\",\"children\":["
          "{\"type\":\"url\",\"name\":\"otter facts\",\"url\":\"http://127.0.0.1:9/otters\","
          "\"date_added\":\"13300000000000000\"}]},"
          "\"other\":{\"type\":\"folder\",\"name\":\"O\",\"children\":[]},"
          "\"synced\":{\"type\":\"folder\",\"name\":\"S\",\"children\":[]}},\"version\":1}");
}

static void fx_done(fx *f) { run_rmdir(f->dir); }

static trove_json_doc *parse(const char *out) {
  trove_json_doc *doc = NULL;
  if (trove_json_parse(out, strlen(out), 0, &doc, NULL) != 0)
    fprintf(stderr, "  not JSON: %.200s\n", out);
  return doc;
}

static void cli_only_scan_and_add_create_a_database(void) {
  fx f;
  fx_init(&f);
  static run_out r;
  char missing[160], db[192];
  snprintf(missing, sizeof missing, "%s/typo", f.dir);
  snprintf(db, sizeof db, "%s/sub/trove.db", missing);
  run_put(f.dir, "q.tsv", "keyword\totters\totters.md\n");
  char q[128];
  snprintf(q, sizeof q, "%s/q.tsv", f.dir);
  const char *const cmds[][4] = {
      {"search", "otters"}, {"search", "otters", "--mode", "keyword"}, {"print", "1"},
      {"hide", "1"},        {"unhide", "1"},   {"stats"},             {"stats", "--json"},
      {"source", "list"},   {"source", "remove", "notes"},            {"reprocess"},
      {"skipped"},          {"eval", q},
  };
  for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
    run_v(&r, f.dir, db, cmds[i]);
    char want[512];
    snprintf(want, sizeof want, "trove: no database at %s: add a source and run `trove scan` "
             "first, or name one with --db\n", db);
    if (r.code != 4 || strcmp(r.err, want) != 0)
      fprintf(stderr, "  %s: exit %d, %s", cmds[i][0], r.code, r.err);
    CHECK(r.code == 4 && strcmp(r.err, want) == 0);
    CHECK(access(missing, F_OK) != 0); /* not even the directory */
  }
  RUN_TROVE(&r, f.dir, db, "source", "add", "notes", "fs", f.tree);
  CHECK(r.code == 0 && access(db, F_OK) == 0);
  RUN_TROVE(&r, f.dir, db, "stats");
  CHECK(r.code == 0);
  char other[160];
  snprintf(other, sizeof other, "%s/made-by-scan.db", f.dir);
  RUN_TROVE(&r, f.dir, other, "scan");
  CHECK(r.code == 0 && access(other, F_OK) == 0);
  fx_done(&f);
}

/* Whether path exists. */
static bool exists(const char *dir, const char *name) {
  char p[256];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  return access(p, F_OK) == 0;
}

static void cli_a_file_not_trove_s_is_named_and_untouched(void) {
  fx f;
  fx_init(&f);
  static run_out r;
  static const char passwd[] = "root:x:0:0:root:/root:/bin/bash\n"
                               "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n";
  char path[160];
  snprintf(path, sizeof path, "%s/passwd", f.dir);
  run_put(f.dir, "passwd", passwd);
  const char *const cmds[][6] = {{"stats"}, {"search", "root"}, {"scan"},
                                 {"source", "add", "x", "fs", f.tree}, {"source", "list"}};
  for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
    run_v(&r, f.dir, path, cmds[i]);
    char want[512];
    snprintf(want, sizeof want, "trove: %s is not a trove database (not an SQLite file; left "
             "untouched); pass the right path with --db or TROVE_DB\n", path);
    if (r.code != 4 || strcmp(r.err, want) != 0)
      fprintf(stderr, "  %s: exit %d, %s", cmds[i][0], r.code, r.err);
    CHECK(r.code == 4 && strcmp(r.err, want) == 0);
    CHECK(!strstr(r.err, "corrupt") && !strstr(r.err, "move it away"));
  }
  static char now[4096];
  run_slurp(path, now, sizeof now);
  CHECK(strcmp(now, passwd) == 0);
  CHECK(!exists(f.dir, "passwd-wal") && !exists(f.dir, "passwd-shm") &&
        !exists(f.dir, "passwd-journal") && !exists(f.dir, "passwd.lock") &&
        !exists(f.dir, "passwd.copies"));
  fx_done(&f);
}

/* The status `source list --json` and `stats --json` give the first source. */
static void statuses(fx *f, char *list, char *stats, size_t cap) {
  static run_out r;
  RUN_TROVE(&r, f->dir, f->db, "source", "list", "--json");
  trove_json_doc *doc = parse(r.out);
  snprintf(list, cap, "%s",
           trove_json_get_str(trove_json_at(trove_json_root(doc), 0), "status", "?"));
  trove_json_free(doc);
  RUN_TROVE(&r, f->dir, f->db, "stats", "--json");
  doc = parse(r.out);
  snprintf(stats, cap, "%s",
           trove_json_get_str(trove_json_at(trove_json_get(trove_json_root(doc), "sources"), 0),
                              "status", "?"));
  trove_json_free(doc);
}

static void cli_a_stopped_scan_reads_interrupted(void) {
  fx f;
  fx_init(&f);
  static run_out r;
  RUN_TROVE(&r, f.dir, f.db, "source", "add", "notes", "fs", f.tree);
  RUN_TROVE(&r, f.dir, f.db, "--no-model", "scan");
  CHECK(r.code == 0);
  /* what a scan killed mid-run leaves: "indexing" stored, no lock held */
  trove_store *st = NULL;
  trove_store_source s = {0};
  trove_err e = {0};
  int64_t version = 0;
  trove_store_opts o = {.path = f.db};
  CHECK(trove_store_open(&o, &st, &e) == 0 && trove_store_source_get(st, "notes", &s, &e) == 0);
  CHECK(trove_store_scan_begin(st, s.id, &version, &e) == 0);
  char list[32], stats[32];
  statuses(&f, list, stats, sizeof list);
  CHECK(strcmp(list, "interrupted") == 0 && strcmp(stats, "interrupted") == 0);
  RUN_TROVE(&r, f.dir, f.db, "source", "list");
  CHECK(strstr(r.out, " interrupted ") && strstr(r.out, "trove scan notes completes it"));
  /* while a scan holds the lock, it is indexing */
  CHECK(trove_store_scan_lock(st, false, NULL, &e) == 0);
  statuses(&f, list, stats, sizeof list);
  CHECK(strcmp(list, "indexing") == 0 && strcmp(stats, "indexing") == 0);
  trove_store_scan_unlock(st);
  trove_store_source_clear(&s);
  trove_store_close(st);
  RUN_TROVE(&r, f.dir, f.db, "--no-model", "scan");
  statuses(&f, list, stats, sizeof list);
  CHECK(r.code == 0 && strcmp(list, "ready") == 0 && strcmp(stats, "ready") == 0);
  fx_done(&f);
}

/* The item count `source list --json` and `stats --json` give the first source. */
static void counts(fx *f, int64_t *list, int64_t *stats) {
  static run_out r;
  RUN_TROVE(&r, f->dir, f->db, "source", "list", "--json");
  trove_json_doc *doc = parse(r.out);
  *list = trove_json_get_i64(trove_json_at(trove_json_root(doc), 0), "items", -1);
  trove_json_free(doc);
  RUN_TROVE(&r, f->dir, f->db, "stats", "--json");
  doc = parse(r.out);
  *stats = trove_json_get_i64(trove_json_at(trove_json_get(trove_json_root(doc), "sources"), 0),
                              "items", -1);
  trove_json_free(doc);
}

static void cli_counts_agree_after_a_source_yields_nothing(void) {
  fx f;
  fx_init(&f);
  static run_out r;
  RUN_TROVE(&r, f.dir, f.db, "source", "add", "notes", "fs", f.tree);
  RUN_TROVE(&r, f.dir, f.db, "--no-model", "scan");
  int64_t in_list = 0, in_stats = 0;
  counts(&f, &in_list, &in_stats);
  CHECK(in_list == 2 && in_stats == 2);
  char p[160];
  snprintf(p, sizeof p, "%s/otters.md", f.tree);
  CHECK(unlink(p) == 0);
  snprintf(p, sizeof p, "%s/rivers.txt", f.tree);
  CHECK(unlink(p) == 0);
  RUN_TROVE(&r, f.dir, f.db, "--no-model", "scan"); /* an unmounted drive looks like this */
  CHECK(r.code == 0 && strstr(r.out, "its 2 items were kept"));
  counts(&f, &in_list, &in_stats);
  CHECK(in_list == 2 && in_stats == 2);
  RUN_TROVE(&r, f.dir, f.db, "source", "list");
  CHECK(strstr(r.out, "       2 items") != NULL);
  RUN_TROVE(&r, f.dir, f.db, "--no-model", "search", "otters");
  CHECK(r.code == 0 && strstr(r.out, "otters.md"));
  RUN_TROVE(&r, f.dir, f.db, "--no-model", "scan", "--force");
  counts(&f, &in_list, &in_stats);
  CHECK(in_list == 0 && in_stats == 0);
  fx_done(&f);
}

static void cli_failures_are_named(void) {
  fx f;
  fx_init(&f);
  static run_out r;
  RUN_TROVE(&r, f.dir, f.db, "source", "add", "marks", "chromium-bookmarks", f.prof);
  RUN_TROVE(&r, f.dir, f.db, "source", "add", "notes", "fs", f.tree);
  RUN_TROVE(&r, f.dir, f.db, "--no-model", "scan", "marks");
  CHECK(r.code == 0 && strstr(r.out, "1 skipped") &&
        strstr(r.out, "  skipped: network 1 (trove skipped marks, or scan -v, names them)\n"));
  CHECK(!strstr(r.out, "127.0.0.1")); /* named on request only */
  RUN_TROVE(&r, f.dir, f.db, "--no-model", "scan", "marks", "-v");
  CHECK(r.code == 0 && strstr(r.out, "  marks        network      http://127.0.0.1:9/otters\n"));
  RUN_TROVE(&r, f.dir, f.db, "--no-model", "scan", "notes");
  RUN_TROVE(&r, f.dir, f.db, "--no-model", "search", "otters", "--mode", "keyword", "--json");
  trove_json_doc *doc = parse(r.out);
  int64_t id = 0;
  for (size_t i = 0; i < trove_json_len(trove_json_root(doc)); i++) {
    const trove_json *h = trove_json_at(trove_json_root(doc), i);
    if (strstr(trove_json_get_str(h, "path", ""), "otters.md"))
      id = trove_json_get_i64(h, "id", 0);
  }
  trove_json_free(doc);
  char ids[24];
  snprintf(ids, sizeof ids, "%lld", (long long)id);
  RUN_TROVE(&r, f.dir, f.db, "hide", ids);
  CHECK(r.code == 0);
  RUN_TROVE(&r, f.dir, f.db, "skipped");
  char want[256];
  snprintf(want, sizeof want, "%6lld  notes        hidden       %s/otters.md\n", (long long)id,
           f.tree);
  CHECK(r.code == 0 && strstr(r.out, "  marks        network      http://127.0.0.1:9/otters\n") &&
        strstr(r.out, want));
  CHECK(strstr(r.out, "\n        http://127.0.0.1:9/otters: ") != NULL); /* the error, below */
  RUN_TROVE(&r, f.dir, f.db, "skipped", "notes");
  CHECK(r.code == 0 && strstr(r.out, want) && !strstr(r.out, "127.0.0.1"));
  RUN_TROVE(&r, f.dir, f.db, "skipped", "--json");
  doc = parse(r.out);
  const trove_json *a = trove_json_root(doc);
  CHECK(r.code == 0 && trove_json_len(a) == 2);
  bool net = false, hidden = false;
  for (size_t i = 0; i < trove_json_len(a); i++) {
    const trove_json *x = trove_json_at(a, i);
    net |= strcmp(trove_json_get_str(x, "reason", ""), "network") == 0 &&
           strcmp(trove_json_get_str(x, "path", ""), "http://127.0.0.1:9/otters") == 0 &&
           trove_json_get_str(x, "error", NULL) != NULL;
    hidden |= trove_json_get_bool(x, "hidden", false) &&
              trove_json_type_of(trove_json_get(x, "reason")) == TROVE_JSON_NULL;
  }
  CHECK(net && hidden);
  trove_json_free(doc);
  RUN_TROVE(&r, f.dir, f.db, "skipped", "nosuch");
  CHECK(r.code == 4 && strstr(r.err, "no source named nosuch"));
  RUN_TROVE(&r, f.dir, f.db, "unhide", ids);
  RUN_TROVE(&r, f.dir, f.db, "skipped", "notes");
  CHECK(r.code == 0 && strcmp(r.out, "nothing skipped or hidden in notes\n") == 0);
  fx_done(&f);
}

static void cli_scan_summary_is_short_and_v_has_the_table(void) {
  fx f;
  fx_init(&f);
  static run_out r;
  RUN_TROVE(&r, f.dir, f.db, "source", "add", "notes", "fs", f.tree);
  RUN_TROVE(&r, f.dir, f.db, "scan");
  CHECK(r.code == 0 && strncmp(r.out, "scan notes: 2 new, 0 changed, 0 unchanged, 0 skipped, "
                                      "0 deleted (", 56) == 0);
  CHECK(strstr(r.out, "  embedded 2 passages of 2 items\n"));
  CHECK(!strstr(r.out, "bottleneck") && !strstr(r.out, "busy"));
  RUN_TROVE(&r, f.dir, f.db, "scan", "-v");
  CHECK(r.code == 0 && strstr(r.out, "bottleneck") && strstr(r.out, "2 unchanged"));
  RUN_TROVE(&r, f.dir, f.db, "reprocess");
  CHECK(r.code == 0 && strstr(r.out, "reprocess: 0 new, 0 changed, 2 unchanged") &&
        !strstr(r.out, "bottleneck"));
  fx_done(&f);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: cli_truth_test PATH_TO_TROVE\n");
    return 2;
  }
  trove_bin = argv[1];
  RUN(cli_only_scan_and_add_create_a_database);
  RUN(cli_a_file_not_trove_s_is_named_and_untouched);
  RUN(cli_a_stopped_scan_reads_interrupted);
  RUN(cli_counts_agree_after_a_source_yields_nothing);
  RUN(cli_failures_are_named);
  RUN(cli_scan_summary_is_short_and_v_has_the_table);
  return check_done(__FILE__);
}
