/* cli_test.c: the `trove` binary end to end on a temporary database: usage
 * errors exit 2, failures exit 4 with one clear line on stderr, a search
 * that finds nothing exits 1, --help works on every command, and source
 * add -> scan -> search (text and --json,
 * parsed back with trove's JSON parser) -> print -> hide/unhide -> stats ->
 * source remove behave; eval measures a query set and refuses bad ones.
 * Usage: cli_test PATH_TO_TROVE. */
#include "json.h"
#include "run.h"

#include <sched.h>
#include <sys/mount.h>
#include <limits.h>
#include <sys/time.h>

typedef struct fx {
  char dir[64];
  char tree[96];
  char db[96];
} fx;

static void fx_init(fx *f) {
  run_tempdir(f->dir, sizeof f->dir, "cli");
  snprintf(f->tree, sizeof f->tree, "%s/tree", f->dir);
  snprintf(f->db, sizeof f->db, "%s/trove.db", f->dir);
  CHECK(mkdir(f->tree, 0755) == 0);
  run_put(f->tree, "quote.md",
          "---\ntitle: Say \"hi\" \\ there\n---\n\nOtters hold hands while they sleep.\n");
  run_put(f->tree, "plain.txt", "Otters and beavers both build near rivers.\n");
  run_put(f->tree, "other.txt", "Nothing about the animal here, only granite.\n");
}

static void fx_done(fx *f) { run_rmdir(f->dir); }

/* A one-line error: non-empty, ends in one newline, names `word`. */
static bool one_line_naming(const char *err, const char *word) {
  const char *nl = strchr(err, '\n');
  return err[0] && nl && nl[1] == 0 && strstr(err, word) != NULL;
}

static void cli_usage_errors_exit_2(void) {
  fx f;
  fx_init(&f);
  static run_out r;
  const char *const cases[][4] = {
      {"", NULL},           {"bogus", NULL},          {"--bogus", NULL},
      {"scan", "--nope"},   {"scan", "a", "b", NULL}, {"search", NULL},
      {"search", "x", "-n", "zero"},                  {"search", "x", "-t", "video"},
      {"print", NULL},      {"print", "abc"},         {"hide", NULL},
      {"source", NULL},     {"source", "add", "x"},   {"source", "add", "x", "ftp"},
      {"reprocess", "a", "b"}, {"stats", "extra"},   {"source", "add", "x", "fs"},
      {"source", "list", "extra"},                    {"print", "1", "2"},
      {"eval", NULL},       {"eval", "a", "b"},       {"eval", "q", "--mode", "fuzzy"},
      {"eval", "q", "--corpus"},   {"--kernel", "fp16", "stats"}, {"--kernel", NULL},
      {"search", "   "},   {"search", "x", "--json=yes"}, {"help", "nope"},
      {"--color", "sometimes", "stats"},               {"stats", "--color=maybe"},
      {"search", "x", "--since", "yesterday"},         {"search", "x", "--until", "2024-02-30"},
      {"search", "-otters"}, {"stats", "-q"},          {"skipped", "a", "b"},
      {"source", "edit", NULL},    {"source", "edit", "x"},   {"source", "edit", "x", "--glob"},
      {"source", "edit", "x", "--bogus"}, {"scan", "--reembed", "--what"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    const char *args[5] = {0};
    for (int k = 0; k < 4 && cases[i][k]; k++)
      args[k] = cases[i][k];
    if (!args[0][0]) /* no command at all */
      run_v(&r, f.dir, f.db, (const char *const[]){NULL});
    else
      run_v(&r, f.dir, f.db, args);
    if (r.code != 2)
      fprintf(stderr, "  case %zu (%s %s): exit %d\n", i, args[0], args[1] ? args[1] : "", r.code);
    CHECK(r.code == 2);
    CHECK(strstr(r.err, "usage:") != NULL);
  }
  fx_done(&f);
}

static void cli_help_on_every_command(void) {
  fx f;
  fx_init(&f);
  static run_out r;
  const char *const cmds[][3] = {{"--help"},          {"source", "add", "--help"},
                                 {"source", "list", "--help"}, {"source", "remove", "--help"},
                                 {"source", "edit", "--help"},
                                 {"scan", "--help"},  {"reprocess", "--help"},
                                 {"search", "--help"}, {"print", "--help"},
                                 {"hide", "--help"},  {"unhide", "--help"},
                                 {"stats", "--help"}, {"eval", "--help"},
                                 {"skipped", "--help"}, {"help"}, {"help", "search"},
                                 {"help", "source", "add"}, {"search", "x", "-h"},
                                 {"source", "--help"}};
  for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
    const char *args[4] = {cmds[i][0], cmds[i][1], cmds[i][2], NULL};
    run_v(&r, f.dir, f.db, args);
    CHECK(r.code == 0 && strstr(r.out, "usage: trove") != NULL);
  }
  RUN_TROVE(&r, f.dir, f.db, "--version");
  CHECK(r.code == 0 && strncmp(r.out, "trove ", 6) == 0);
  fx_done(&f);
}

/* Whether every `trove ...` that err suggests is a command trove has. */
static bool suggests_real_commands(const char *err) {
  static const char *const commands[] = {"source add", "source list", "source remove",
                                         "source edit", "scan",       "reprocess",   "search",
                                         "print",      "hide",        "unhide",
                                         "stats",      "skipped"};
  for (const char *p = err; (p = strstr(p, "`trove ")); p++) {
    const char *cmd = p + strlen("`trove ");
    bool known = false;
    for (size_t i = 0; i < sizeof commands / sizeof *commands && !known; i++) {
      size_t n = strlen(commands[i]);
      known = strncmp(cmd, commands[i], n) == 0 && (cmd[n] == '`' || cmd[n] == ' ');
    }
    if (!known)
      return false;
  }
  return true;
}

/* Exit 4, one line naming `what`, and any command it suggests exists. */
static bool failed_naming(const run_out *r, const char *what) {
  return r->code == 4 && one_line_naming(r->err, what) && suggests_real_commands(r->err);
}

static void cli_errors_exit_4_with_one_line(void) {
  fx f;
  fx_init(&f);
  static run_out r;
  RUN_TROVE(&r, f.dir, f.db, "scan", "nosuch");
  CHECK(failed_naming(&r, "nosuch"));
  RUN_TROVE(&r, f.dir, f.db, "reprocess", "nosuch");
  CHECK(failed_naming(&r, "nosuch"));
  RUN_TROVE(&r, f.dir, f.db, "source", "remove", "nosuch");
  CHECK(failed_naming(&r, "nosuch"));
  RUN_TROVE(&r, f.dir, f.db, "print", "424242");
  CHECK(failed_naming(&r, "424242"));
  RUN_TROVE(&r, f.dir, f.db, "hide", "424242");
  CHECK(failed_naming(&r, "424242"));
  RUN_TROVE(&r, f.dir, f.db, "source", "add", "x", "fs", "/nonexistent/dir");
  CHECK(failed_naming(&r, "/nonexistent/dir"));
  RUN_TROVE(&r, f.dir, f.db, "search", "x", "-s", "nosuch");
  CHECK(failed_naming(&r, "nosuch"));
  RUN_TROVE(&r, f.dir, f.db, "--no-model", "search", "x", "-s", "nosuch", "--mode", "keyword");
  CHECK(failed_naming(&r, "nosuch"));
  CHECK(strstr(r.err, "`trove source list`"));
  RUN_TROVE(&r, f.dir, f.db, "print", "424242");
  CHECK(strstr(r.err, "`trove search`"));
  CHECK(!suggests_real_commands("see `trove list`") && !suggests_real_commands("`trove sources`"));
  /* a database path that is a directory cannot be opened */
  static run_out r2;
  run_v(&r2, f.dir, f.tree, (const char *const[]){"stats", NULL});
  CHECK(r2.code == 4 && r2.err[0]);
  fx_done(&f);
}

/* Finds hit `title` in a parsed --json array; returns its id (0: absent). */
static int64_t json_find(const trove_json *arr, const char *title) {
  for (size_t i = 0; i < trove_json_len(arr); i++) {
    const trove_json *h = trove_json_at(arr, i);
    if (strcmp(trove_json_get_str(h, "title", ""), title) == 0)
      return trove_json_get_i64(h, "id", 0);
  }
  return 0;
}

static void cli_scan_search_print_hide(void) {
  fx f;
  fx_init(&f);
  static run_out r;
  RUN_TROVE(&r, f.dir, f.db, "source", "add", "notes", "fs", f.tree, "--glob", "*.md", "--glob",
            "*.txt", "--exclude", "other.txt");
  CHECK(r.code == 0);
  RUN_TROVE(&r, f.dir, f.db, "source", "add", "notes", "fs", f.tree);
  CHECK(r.code == 4 && one_line_naming(r.err, "notes"));
  RUN_TROVE(&r, f.dir, f.db, "source", "add", "bad", "fs", f.tree, "--glob", "[abc");
  CHECK(r.code == 2 && strstr(r.err, "[abc"));
  RUN_TROVE(&r, f.dir, f.db, "source", "add", "bad", "fs", f.tree, "--exclude");
  CHECK(r.code == 2);
  RUN_TROVE(&r, f.dir, f.db, "scan");
  CHECK(r.code == 0 && strstr(r.out, "2 new") && !strstr(r.out, "bottleneck"));
  RUN_TROVE(&r, f.dir, f.db, "scan", "notes");
  CHECK(r.code == 0 && strstr(r.out, "2 unchanged"));

  RUN_TROVE(&r, f.dir, f.db, "search", "otters", "--json");
  CHECK(r.code == 0);
  trove_json_doc *doc = NULL;
  trove_err e = {0};
  CHECK(trove_json_parse(r.out, strlen(r.out), 0, &doc, &e) == 0);
  const trove_json *arr = trove_json_root(doc);
  CHECK(trove_json_type_of(arr) == TROVE_JSON_ARRAY && trove_json_len(arr) == 2);
  int64_t id = json_find(arr, "Say \"hi\" \\ there"); /* quotes and backslash escaped */
  CHECK(id > 0);
  const trove_json *h0 = trove_json_at(arr, 0);
  CHECK(trove_json_get_i64(h0, "rank", 0) == 1);
  CHECK(strcmp(trove_json_get_str(h0, "source", ""), "notes") == 0);
  CHECK(strstr(trove_json_get_str(h0, "path", ""), f.tree) != NULL);
  const char *passage = trove_json_get_str(h0, "passage", "");
  const trove_json *mark = trove_json_get(h0, "mark");
  CHECK(strstr(passage, "tters") != NULL && trove_json_len(mark) == 2);
  size_t ms = (size_t)trove_json_i64(trove_json_at(mark, 0), 0);
  size_t me = (size_t)trove_json_i64(trove_json_at(mark, 1), 0);
  CHECK(ms < me && me <= strlen(passage)); /* the best sentence is marked */
  trove_json_free(doc);

  RUN_TROVE(&r, f.dir, f.db, "search", "granite", "--mode", "keyword"); /* excluded by the glob */
  CHECK(r.code == 1 && strcmp(r.out, "no results\n") == 0);
  RUN_TROVE(&r, f.dir, f.db, "search", "rivers", "-n", "1", "-t", "local");
  CHECK(r.code == 0 && strstr(r.out, " 1. plain.txt") && strstr(r.out, "[") && strstr(r.out, "]"));
  /* by meaning: no word is in the file */
  RUN_TROVE(&r, f.dir, f.db, "search", "creatures", "of", "the", "water", "--mode", "semantic",
            "-n", "1");
  CHECK(r.code == 0 && strstr(r.out, " 1. ") != NULL && strstr(r.out, ", by meaning)"));
  RUN_TROVE(&r, f.dir, f.db, "search", "x", "--mode", "fuzzy");
  CHECK(r.code == 2 && strstr(r.err, "hybrid, semantic or keyword"));
  RUN_TROVE(&r, f.dir, f.db, "--model", "/nonexistent", "search", "x", "--mode", "semantic");
  CHECK(r.code == 4 && strstr(r.err, "model.json") && strstr(r.err, "TROVE_MODEL"));
  RUN_TROVE(&r, f.dir, f.db, "--model", "/nonexistent", "search", "otters");
  CHECK(r.code == 0 && strstr(r.err, "keyword only") && strstr(r.out, "quote.md"));

  char ids[32];
  snprintf(ids, sizeof ids, "%lld", (long long)id);
  RUN_TROVE(&r, f.dir, f.db, "print", ids);
  CHECK(r.code == 0 && strstr(r.out, "Otters hold hands") && strstr(r.out, "quote.md"));
  RUN_TROVE(&r, f.dir, f.db, "print", ids, "--raw");
  CHECK(r.code == 0 && strncmp(r.out, "---\ntitle:", 10) == 0);
  RUN_TROVE(&r, f.dir, f.db, "hide", ids);
  CHECK(r.code == 0);
  RUN_TROVE(&r, f.dir, f.db, "search", "otters", "--json");
  CHECK(r.code == 0 && !strstr(r.out, "quote.md") && strstr(r.out, "plain.txt"));
  RUN_TROVE(&r, f.dir, f.db, "unhide", ids);
  CHECK(r.code == 0);
  RUN_TROVE(&r, f.dir, f.db, "search", "otters");
  CHECK(r.code == 0 && strstr(r.out, "quote.md"));
  RUN_TROVE(&r, f.dir, f.db, "search", "--like", ids, "--json");
  CHECK(r.code == 0 && strstr(r.out, "plain.txt") && !strstr(r.out, "quote.md"));
  RUN_TROVE(&r, f.dir, f.db, "search", "--like", "999999");
  CHECK(failed_naming(&r, "999999")); /* and points to a command that exists */

  RUN_TROVE(&r, f.dir, f.db, "stats");
  CHECK(r.code == 0 && strstr(r.out, "items      2"));
  RUN_TROVE(&r, f.dir, f.db, "source", "list");
  CHECK(r.code == 0 && strstr(r.out, "notes") && strstr(r.out, "ready"));
  RUN_TROVE(&r, f.dir, f.db, "reprocess");
  CHECK(r.code == 0 && strstr(r.out, "0 changed"));
  RUN_TROVE(&r, f.dir, f.db, "source", "remove", "notes");
  CHECK(r.code == 0);
  RUN_TROVE(&r, f.dir, f.db, "search", "otters");
  CHECK(r.code == 1 && strstr(r.out, "no good matches"));
  fx_done(&f);
}

static void cli_eval_measures_a_query_set(void) {
  fx f;
  fx_init(&f);
  static run_out r;
  run_put(f.dir, "q.tsv", "# two kinds\nkeyword\totters\tquote.md,plain.txt\n"
                          "question\twhat do beavers build near?\tplain.txt\n");
  run_put(f.dir, "bad.tsv", "keyword\totters\tquote.md\nkeyword otters plain.txt\n");
  run_put(f.dir, "unknown.tsv", "keyword\totters\tquote.md,gone.md\n");
  char q[128], bad[128], unknown[128];
  snprintf(q, sizeof q, "%s/q.tsv", f.dir);
  snprintf(bad, sizeof bad, "%s/bad.tsv", f.dir);
  snprintf(unknown, sizeof unknown, "%s/unknown.tsv", f.dir);
  /* no database: an error, and none is created */
  RUN_TROVE(&r, f.dir, f.db, "eval", q);
  CHECK(failed_naming(&r, f.db) && access(f.db, F_OK) != 0);
  RUN_TROVE(&r, f.dir, f.db, "source", "add", "notes", "fs", f.tree);
  RUN_TROVE(&r, f.dir, f.db, "scan");
  CHECK(r.code == 0);
  RUN_TROVE(&r, f.dir, f.db, "eval", bad);
  CHECK(failed_naming(&r, "bad.tsv:2: expected kind<TAB>query<TAB>"));
  RUN_TROVE(&r, f.dir, f.db, "eval", unknown);
  CHECK(failed_naming(&r, "unknown.tsv:1: target \"gone.md\" is not in the database"));
  RUN_TROVE(&r, f.dir, f.db, "eval", q, "--corpus", "otter notes");
  CHECK(r.code == 0 && strstr(r.out, "corpus otter-notes: 2 queries"));
  CHECK(strstr(r.out, "keyword   latency p50 ") && strstr(r.out, "semantic  latency p50 ") &&
        strstr(r.out, "hybrid    latency p50 "));
  CHECK(strstr(r.out, "  kind             n  recall@10   MRR@10  nDCG@10\n"));
  CHECK(strstr(r.out, "  keyword          1      1.000    1.000    1.000\n")); /* both on top */
  CHECK(strstr(r.out, "peer=trove workload=search-quality threads=1 param=otter-notes-hybrid-"
                      "question seconds="));
  CHECK(strstr(r.out, "peer=trove workload=search-latency threads=1 param=otter-notes-keyword "));
  RUN_TROVE(&r, f.dir, f.db, "--no-model", "eval", q, "--json");
  CHECK(r.code == 0);
  trove_json_doc *doc = NULL;
  trove_err e = {0};
  CHECK(trove_json_parse(r.out, strlen(r.out), 0, &doc, &e) == 0);
  const trove_json *o = trove_json_root(doc);
  CHECK(strcmp(trove_json_get_str(o, "corpus", ""), "q") == 0);
  CHECK(trove_json_get_i64(o, "queries", 0) == 2);
  const trove_json *modes = trove_json_get(o, "modes");
  CHECK(trove_json_len(modes) == 1); /* --no-model: keyword only */
  const trove_json *kinds = trove_json_get(trove_json_at(modes, 0), "kinds");
  CHECK(trove_json_len(kinds) == 3);
  CHECK(strcmp(trove_json_get_str(trove_json_at(kinds, 0), "kind", ""), "all") == 0);
  CHECK(trove_json_get_i64(trove_json_at(kinds, 2), "n", 0) == 1);
  trove_json_free(doc);
  RUN_TROVE(&r, f.dir, f.db, "--no-model", "eval", q, "--mode", "semantic");
  CHECK(failed_naming(&r, "--no-model"));
  fx_done(&f);
}

/* How the search said it opened the vector index (-v): "loaded", "built". */
static bool index_note_says(const run_out *r, const char *what) {
  const char *note = strstr(r->err, "vector index: ");
  return r->code == 0 && note && strncmp(note + 14, what, strlen(what)) == 0;
}

static void cli_search_saves_the_index_it_rebuilt(void) {
  fx f;
  fx_init(&f);
  static run_out r;
  RUN_TROVE(&r, f.dir, f.db, "source", "add", "notes", "fs", f.tree);
  RUN_TROVE(&r, f.dir, f.db, "scan");
  CHECK(r.code == 0);
  char index[160];
  snprintf(index, sizeof index, "%s.use-lite-en-0.2.0.hnsw", f.db);
  CHECK(unlink(index) == 0); /* missing */
  RUN_TROVE(&r, f.dir, f.db, "-v", "search", "otters");
  CHECK(index_note_says(&r, "built"));
  RUN_TROVE(&r, f.dir, f.db, "-v", "search", "otters");
  CHECK(index_note_says(&r, "loaded"));
  run_put(f.dir, "trove.db.use-lite-en-0.2.0.hnsw", "not an index at all"); /* damaged */
  RUN_TROVE(&r, f.dir, f.db, "-v", "search", "otters");
  CHECK(index_note_says(&r, "built"));
  RUN_TROVE(&r, f.dir, f.db, "-v", "search", "--like", "1");
  CHECK(index_note_says(&r, "loaded"));
  fx_done(&f);
}

/* --kernel forces the model's kernel path; stats names it. */
static void cli_kernel_option_forces_the_path(void) {
  fx f;
  fx_init(&f);
  static run_out r;
  RUN_TROVE(&r, f.dir, f.db, "source", "add", "notes", "fs", f.tree);
  RUN_TROVE(&r, f.dir, f.db, "--kernel", "fp32", "stats");
  CHECK(r.code == 0 && strstr(r.out, "kernel fp32 (oneDNN, "));
  RUN_TROVE(&r, f.dir, f.db, "--kernel=auto", "stats");
  CHECK(r.code == 0 &&
        (strstr(r.out, "kernel fp32 (oneDNN, ") || strstr(r.out, "kernel int8 (oneDNN, ")));
  RUN_TROVE(&r, f.dir, f.db, "-v", "--kernel", "fp32", "search", "otters"); /* nothing scanned */
  CHECK(r.code == 1 && strstr(r.err, "kernel fp32 (oneDNN, "));
  fx_done(&f);
}

/* source add checks the location for its type before anything is
 * created, and refuses a directory inside another source's; each refusal
 * exits 4 with one line that says what to give. */
static void cli_source_add_checks_the_location(void) {
  fx f;
  fx_init(&f);
  static run_out r;
  char want[3 * PATH_MAX], tree[PATH_MAX], file[160];
  RUN_TROVE(&r, f.dir, f.db, "source", "add", "web", "chromium-history", f.tree);
  snprintf(want, sizeof want, "trove: %s holds no History: give a Chromium profile directory "
           "(such as ~/.config/chromium/Default) or its History file\n", f.tree);
  CHECK(r.code == 4 && strcmp(r.err, want) == 0 && r.out[0] == 0);
  CHECK(access(f.db, F_OK) != 0); /* nothing created */
  snprintf(file, sizeof file, "%s/plain.txt", f.tree);
  RUN_TROVE(&r, f.dir, f.db, "source", "add", "one", "fs", file);
  snprintf(want, sizeof want, "trove: %s is not a directory: an fs source indexes a directory "
           "(pick files in it with --glob)\n", file);
  CHECK(r.code == 4 && strcmp(r.err, want) == 0);

  RUN_TROVE(&r, f.dir, f.db, "source", "add", "notes", "fs", f.tree);
  CHECK(r.code == 0);
  CHECK(realpath(f.tree, tree) != NULL);
  char sub[PATH_MAX + 8];
  snprintf(sub, sizeof sub, "%s/sub", tree);
  CHECK(mkdir(sub, 0755) == 0);
  RUN_TROVE(&r, f.dir, f.db, "source", "add", "inner", "fs", sub);
  snprintf(want, sizeof want, "trove: %s lies inside %s, the directory of source notes, which "
           "indexes it already; change what notes indexes with `trove source edit notes --glob "
           "...`\n", sub, tree);
  CHECK(r.code == 4 && strcmp(r.err, want) == 0 && suggests_real_commands(r.err));
  RUN_TROVE(&r, f.dir, f.db, "source", "add", "outer", "fs", f.dir);
  CHECK(failed_naming(&r, "whose files would be indexed twice"));
  RUN_TROVE(&r, f.dir, f.db, "source", "list");
  CHECK(r.code == 0 && !strstr(r.out, "inner") && !strstr(r.out, "outer"));
  fx_done(&f);
}

/* source edit changes the globs and rescans only what that changes; a
 * rescan of files touched, forced or renamed embeds nothing, and
 * --reembed everything. */
static void cli_source_edit_and_rescans(void) {
  fx f;
  fx_init(&f);
  static run_out r;
  RUN_TROVE(&r, f.dir, f.db, "source", "edit", "notes", "--glob", "*.md");
  CHECK(failed_naming(&r, f.db)); /* no database: none is created */
  RUN_TROVE(&r, f.dir, f.db, "source", "add", "notes", "fs", f.tree);
  RUN_TROVE(&r, f.dir, f.db, "scan");
  CHECK(r.code == 0 && strstr(r.out, "3 new") && strstr(r.out, " passages of 3 items\n"));

  char path[160];
  snprintf(path, sizeof path, "%s/quote.md", f.tree);
  struct timeval tv[2] = {{1000000000, 0}, {1000000000, 0}};
  CHECK(utimes(path, tv) == 0); /* touch */
  RUN_TROVE(&r, f.dir, f.db, "scan");
  CHECK(r.code == 0 && strstr(r.out, " 0 changed, 3 unchanged") && !strstr(r.out, "embedded"));
  RUN_TROVE(&r, f.dir, f.db, "scan", "--force");
  CHECK(r.code == 0 && strstr(r.out, " 0 changed, 3 unchanged") && !strstr(r.out, "embedded"));
  char to[160];
  snprintf(to, sizeof to, "%s/renamed.md", f.tree);
  CHECK(rename(path, to) == 0);
  RUN_TROVE(&r, f.dir, f.db, "scan", "notes");
  CHECK(r.code == 0 && strstr(r.out, " 0 new,") && strstr(r.out, " 0 deleted") &&
        strstr(r.out, "\n  1 moved: files renamed or moved with their content, kept as the same "
                      "items\n") && !strstr(r.out, "embedded"));
  RUN_TROVE(&r, f.dir, f.db, "scan", "--reembed");
  CHECK(r.code == 0 && strstr(r.out, " passages of 3 items\n"));

  RUN_TROVE(&r, f.dir, f.db, "source", "edit", "notes", "--glob", "*.md");
  CHECK(r.code == 0 && strstr(r.out, "edit notes: 0 new, 0 changed, 1 unchanged, 0 skipped, "
                                     "2 deleted"));
  CHECK(!strstr(r.out, "embedded"));
  RUN_TROVE(&r, f.dir, f.db, "search", "granite", "--mode", "keyword");
  CHECK(r.code == 1 && strstr(r.out, "no results"));
  RUN_TROVE(&r, f.dir, f.db, "source", "edit", "notes", "--no-glob", "--exclude", "other.txt");
  CHECK(r.code == 0 && strstr(r.out, "edit notes: 1 new, 0 changed, 1 unchanged") &&
        strstr(r.out, " passages of 1 items\n"));
  RUN_TROVE(&r, f.dir, f.db, "source", "edit", "notes");
  static const char needs[] = "trove: source edit needs --glob, --exclude, --no-glob, "
                             "--no-exclude, --exclude-domain, --no-exclude-domain or "
                             "--retention\nusage: trove source edit NAME ";
  CHECK(r.code == 2 && strncmp(r.err, needs, strlen(needs)) == 0);
  /* the browser sources' options are not an fs source's */
  RUN_TROVE(&r, f.dir, f.db, "source", "edit", "notes", "--exclude-domain", "bank.com");
  CHECK(r.code == 4 && strstr(r.err, "apply to browser sources"));
  RUN_TROVE(&r, f.dir, f.db, "source", "edit", "notes", "--glob", "*.md", "--retention", "keep");
  CHECK(r.code == 2 && strstr(r.err, "give one kind"));
  RUN_TROVE(&r, f.dir, f.db, "source", "edit", "notes", "--retention", "forever");
  CHECK(r.code == 2 && strstr(r.err, "--retention takes keep or mirror"));
  RUN_TROVE(&r, f.dir, f.db, "source", "add", "n2", "fs", f.dir, "--exclude-domain", "x.org");
  CHECK(r.code == 2 && strstr(r.err, "browser sources"));
  RUN_TROVE(&r, f.dir, f.db, "source", "edit", "notes", "--glob", "[x");
  CHECK(r.code == 2 && strstr(r.err, "bad include glob \"[x\""));
  RUN_TROVE(&r, f.dir, f.db, "source", "edit", "nosuch", "--glob", "*.md");
  CHECK(r.code == 4 && strcmp(r.err, "trove: no source named nosuch; see `trove source list`\n") == 0);
  fx_done(&f);
}

static void cli_db_from_environment(void) {
  fx f;
  fx_init(&f);
  static run_out r;
  const char *const args[] = {"stats", NULL};
  char other[128];
  snprintf(other, sizeof other, "%s/other.db", f.dir);
  RUN_TROVE(&r, f.dir, f.db, "scan"); /* scan makes a database, without sources too */
  CHECK(r.code == 0);
  RUN_TROVE(&r, f.dir, other, "scan");
  CHECK(r.code == 0);
  setenv("TROVE_DB", f.db, 1);
  /* --db wins; without it, TROVE_DB is used */
  run_v(&r, f.dir, other, args);
  CHECK(r.code == 0 && strstr(r.out, "other.db"));
  pid_t pid = fork();
  if (pid == 0) {
    char out[256];
    snprintf(out, sizeof out, "%s/stdout", f.dir);
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || dup2(fd, 1) < 0)
      _exit(126);
    execl(trove_bin, trove_bin, "stats", (char *)NULL);
    _exit(127);
  }
  CHECK(run_wait(pid) == 0);
  char out[256];
  snprintf(out, sizeof out, "%s/stdout", f.dir);
  run_slurp(out, r.out, sizeof r.out);
  CHECK(strstr(r.out, f.db) != NULL);
  unsetenv("TROVE_DB");
  fx_done(&f);
}

/* A damaged database is moved away as the error says, and the next command
 * creates a new one with the sources back (saying so): one scan later the
 * notes are found again, with no `source add`. */
static void cli_corrupt_database_keeps_its_sources(void) {
  fx f;
  fx_init(&f);
  static run_out r;
  RUN_TROVE(&r, f.dir, f.db, "source", "add", "notes", "fs", f.tree, "--glob", "*.md");
  CHECK(r.code == 0);
  RUN_TROVE(&r, f.dir, f.db, "--no-model", "scan");
  CHECK(r.code == 0 && strstr(r.out, "1 new"));
  FILE *fp = fopen(f.db, "r+b"); /* the header after its magic string: a damaged database */
  CHECK(fp && fseek(fp, 16, SEEK_SET) == 0 &&
        fwrite("garbage garbage garbage garbage!", 1, 32, fp) == 32);
  if (fp)
    fclose(fp);
  RUN_TROVE(&r, f.dir, f.db, "search", "otters", "--mode", "keyword");
  CHECK(r.code == 4 && one_line_naming(r.err, "move it away") && strstr(r.err, "sources back"));
  char moved[128];
  snprintf(moved, sizeof moved, "%s.damaged", f.db);
  CHECK(rename(f.db, moved) == 0);
  RUN_TROVE(&r, f.dir, f.db, "--no-model", "scan");
  CHECK(r.code == 0 && strstr(r.err, "restored 1 sources (notes)") && strstr(r.out, "1 new"));
  RUN_TROVE(&r, f.dir, f.db, "search", "otters", "--mode", "keyword");
  CHECK(r.code == 0 && strstr(r.out, "Say"));
  fx_done(&f);
}

/* Indexes the tree into db, makes db's folder read-only (a read-only
 * mount as root, which ignores permissions; else its mode), then searches,
 * prints and gives stats there, which must work, read-only. Runs in a child
 * process (its own mount namespace); returns 0, 77 when root cannot mount,
 * or the number of the check that failed. */
static int read_only_child(fx *f, const char *dir, const char *db) {
  static run_out r;
  bool root = geteuid() == 0;
  if (root && (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
               mount("tmpfs", dir, "tmpfs", 0, "size=16m") != 0))
    return 77;
  RUN_TROVE(&r, f->dir, db, "source", "add", "notes", "fs", f->tree, "--glob", "*.md");
  if (r.code)
    return 1;
  RUN_TROVE(&r, f->dir, db, "scan");
  if (r.code || !strstr(r.out, "1 new"))
    return 2;
  if (root ? mount(NULL, dir, NULL, MS_REMOUNT | MS_RDONLY, NULL) != 0 : chmod(dir, 0555) != 0)
    return 3;
  RUN_TROVE(&r, f->dir, db, "search", "otters");
  if (r.code || !strstr(r.out, "Say"))
    return fprintf(stderr, "  search: %s", r.err), 4;
  RUN_TROVE(&r, f->dir, db, "search", "otters", "--mode", "keyword");
  if (r.code || !strstr(r.out, "Say"))
    return 5;
  RUN_TROVE(&r, f->dir, db, "print", "1");
  if (r.code || !strstr(r.out, "Otters hold hands"))
    return 6;
  RUN_TROVE(&r, f->dir, db, "stats");
  if (r.code || !strstr(r.out, "items      1"))
    return 7;
  RUN_TROVE(&r, f->dir, db, "hide", "1"); /* a write: refused, saying why */
  if (r.code != 4 || !(strstr(r.err, "read-only") || strstr(r.err, "writable")))
    return fprintf(stderr, "  hide: %s", r.err), 8;
  if (!root)
    chmod(dir, 0755);
  return 0;
}

/* Search, print and stats work on a database in a read-only place. */
static void cli_reads_a_database_in_a_read_only_folder(void) {
  fx f;
  fx_init(&f);
  char dir[128], db[160];
  snprintf(dir, sizeof dir, "%s/ro", f.dir);
  snprintf(db, sizeof db, "%s/trove.db", dir);
  CHECK(mkdir(dir, 0755) == 0);
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0)
    _exit(read_only_child(&f, dir, db));
  int rc = run_wait(pid);
  if (rc == 77)
    fprintf(stderr, "  skipped: root cannot mount a tmpfs here\n");
  else if (rc)
    fprintf(stderr, "  check %d failed\n", rc);
  CHECK(rc == 0 || rc == 77);
  chmod(dir, 0755);
  fx_done(&f);
}

/* $TROVE_FETCH_TIMEOUT sets the web fetch timeout in seconds; a value that
 * is not one is refused (exit 2) before the database is touched. */
static void cli_fetch_timeout_from_environment(void) {
  fx f;
  fx_init(&f);
  static run_out r;
  const char *const bad[] = {"abc", "0", "-1", "5s", "99999"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    setenv("TROVE_FETCH_TIMEOUT", bad[i], 1);
    RUN_TROVE(&r, f.dir, f.db, "scan");
    CHECK(r.code == 2 && one_line_naming(r.err, "TROVE_FETCH_TIMEOUT"));
    CHECK(access(f.db, F_OK) != 0);
  }
  setenv("TROVE_FETCH_TIMEOUT", "0.5", 1);
  RUN_TROVE(&r, f.dir, f.db, "scan");
  CHECK(r.code == 0);
  unsetenv("TROVE_FETCH_TIMEOUT");
  fx_done(&f);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: cli_test PATH_TO_TROVE\n");
    return 2;
  }
  trove_bin = argv[1];
  RUN(cli_usage_errors_exit_2);
  RUN(cli_help_on_every_command);
  RUN(cli_errors_exit_4_with_one_line);
  RUN(cli_scan_search_print_hide);
  RUN(cli_eval_measures_a_query_set);
  RUN(cli_search_saves_the_index_it_rebuilt);
  RUN(cli_kernel_option_forces_the_path);
  RUN(cli_db_from_environment);
  RUN(cli_fetch_timeout_from_environment);
  RUN(cli_corrupt_database_keeps_its_sources);
  RUN(cli_reads_a_database_in_a_read_only_folder);
  RUN(cli_source_add_checks_the_location);
  RUN(cli_source_edit_and_rescans);
  return check_done(__FILE__);
}
