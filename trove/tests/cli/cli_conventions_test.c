/* cli_conventions_test.c: the `trove` command reads its line as git and
 * ripgrep do: --opt=value, attached short values (-n1), bundled flags, "--"
 * before a QUERY that starts with -, and the global options (--db,
 * --kernel, -v, --color) after the command too. Exit codes are grep's
 * plus two: 0, 1 nothing found, 2 usage, 3 --no-wait and a scan running,
 * 4 an error. Color follows --color and NO_COLOR (on a pty for auto).
 * `trove help CMD` is `trove CMD --help`; stats, source list and print
 * take --json. Usage: cli_conventions_test PATH_TO_TROVE. */
#include "json.h"
#include "store.h"

#include "run.h"

#include <errno.h>

typedef struct fx {
  char dir[64], tree[96], db[96];
} fx;

/* A scanned database: two notes about otters and rivers. */
static void fx_init(fx *f) {
  static run_out r;
  run_tempdir(f->dir, sizeof f->dir, "conv");
  snprintf(f->tree, sizeof f->tree, "%s/tree", f->dir);
  snprintf(f->db, sizeof f->db, "%s/trove.db", f->dir);
  CHECK(mkdir(f->tree, 0755) == 0);
  run_put(f->tree, "otters.md", "# Otters\n\nOtters hold hands while they sleep.\n");
  run_put(f->tree, "rivers.txt", "Beavers build dams across rivers.\n");
  RUN_TROVE(&r, f->dir, f->db, "source", "add", "notes", "fs", f->tree);
  CHECK(r.code == 0);
  RUN_TROVE(&r, f->dir, f->db, "scan");
  CHECK(r.code == 0);
}

static void fx_done(fx *f) { run_rmdir(f->dir); }

/* Parses out as JSON; the caller frees the document. */
static trove_json_doc *parse(const char *out) {
  trove_json_doc *doc = NULL;
  trove_err e = {0};
  if (trove_json_parse(out, strlen(out), 0, &doc, &e) != 0)
    fprintf(stderr, "  not JSON (%s): %.200s\n", e.msg, out);
  return doc;
}

static void cli_options_attached_and_anywhere(void) {
  fx f;
  fx_init(&f);
  static run_out r;
  /* the global --db after the command, --opt=value, -n1 */
  run_v(&r, f.dir, NULL,
        (const char *const[]){"search", "otters", "--db", f.db, "--mode=keyword", "-n1",
                              "--json", NULL});
  trove_json_doc *doc = parse(r.out);
  CHECK(r.code == 0 && doc && trove_json_len(trove_json_root(doc)) == 1);
  trove_json_free(doc);
  char dbeq[128];
  snprintf(dbeq, sizeof dbeq, "--db=%s", f.db);
  run_v(&r, f.dir, NULL, (const char *const[]){"stats", dbeq, "--kernel=fp32", NULL});
  CHECK(r.code == 0 && strstr(r.out, "items      2") && strstr(r.out, "kernel fp32 (oneDNN, "));
  /* bundled: -v then -n with its value attached */
  run_v(&r, f.dir, NULL, (const char *const[]){"search", "otters", "-vn1", "--db", f.db, NULL});
  CHECK(r.code == 0 && strstr(r.err, "vector index: ") && strstr(r.out, " 1. ") &&
        !strstr(r.out, " 2. "));
  /* global options between a command and its subcommand */
  run_v(&r, f.dir, NULL, (const char *const[]){"source", "--db", f.db, "list", NULL});
  CHECK(r.code == 0 && strstr(r.out, "notes"));
  /* -- ends the options: a QUERY may start with - */
  RUN_TROVE(&r, f.dir, f.db, "search", "-n", "1", "--mode", "keyword", "--", "-otters");
  CHECK(r.code == 0 && strstr(r.out, "otters.md"));
  RUN_TROVE(&r, f.dir, f.db, "search", "--mode", "keyword", "-otters");
  CHECK(r.code == 2 && strstr(r.err, "unknown option -o"));
  RUN_TROVE(&r, f.dir, f.db, "search", "otters", "--json=yes");
  CHECK(r.code == 2 && strstr(r.err, "--json takes no value"));
  RUN_TROVE(&r, f.dir, f.db, "search", "otters", "-n");
  CHECK(r.code == 2 && strstr(r.err, "-n needs a value"));
  char more[128];
  snprintf(more, sizeof more, "%s/more", f.dir);
  CHECK(mkdir(more, 0755) == 0);
  RUN_TROVE(&r, f.dir, f.db, "source", "add", "--glob=*.md", "more", "fs", more, "--exclude",
            "x");
  CHECK(r.code == 0);
  fx_done(&f);
}

static void cli_exit_codes(void) {
  fx f;
  fx_init(&f);
  static run_out r;
  RUN_TROVE(&r, f.dir, f.db, "search", "otters");
  CHECK(r.code == 0);
  RUN_TROVE(&r, f.dir, f.db, "search", "granite", "--mode", "keyword");
  CHECK(r.code == 1 && strcmp(r.out, "no results\n") == 0 && r.err[0] == 0);
  RUN_TROVE(&r, f.dir, f.db, "search", "granite", "--mode", "keyword", "--json");
  CHECK(r.code == 1 && strcmp(r.out, "[]\n") == 0);
  RUN_TROVE(&r, f.dir, f.db, "search");
  CHECK(r.code == 2 && strstr(r.err, "usage: trove search"));
  RUN_TROVE(&r, f.dir, f.db, "print", "999");
  CHECK(r.code == 4 && strstr(r.err, "no item with id 999"));
  /* 3: another scan holds the lock, and --no-wait was given */
  trove_store *st = NULL;
  trove_err e = {0};
  trove_store_opts o = {.path = f.db};
  CHECK(trove_store_open(&o, &st, &e) == 0 && trove_store_scan_lock(st, false, NULL, &e) == 0);
  RUN_TROVE(&r, f.dir, f.db, "scan", "--no-wait");
  CHECK(r.code == 3 && strstr(r.err, "another scan of") && strstr(r.err, "without --no-wait"));
  RUN_TROVE(&r, f.dir, f.db, "reprocess", "--no-wait");
  CHECK(r.code == 3);
  trove_store_close(st);
  RUN_TROVE(&r, f.dir, f.db, "scan", "--no-wait");
  CHECK(r.code == 0);
  RUN_TROVE(&r, f.dir, f.db, "--help");
  CHECK(r.code == 0 && strstr(r.out, "Exit codes: 0 done; 1 search (or forget) found nothing; "
                                     "2 a usage error; 3 scan,\nreprocess, source edit or forget"));
  fx_done(&f);
}

/* Runs `trove --db DB search otters [--color WHEN]` with stdout on a pty,
 * NO_COLOR set to no_color (NULL: unset); returns what reached the pty. */
static void search_on_pty(fx *f, const char *when, const char *no_color, char *out, size_t cap) {
  int m = posix_openpt(O_RDWR | O_NOCTTY);
  CHECK(m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0);
  int s = open(ptsname(m), O_RDWR | O_NOCTTY);
  CHECK(s >= 0);
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    if (null < 0 || dup2(s, 1) < 0 || dup2(null, 2) < 0)
      _exit(126);
    if (no_color)
      setenv("NO_COLOR", no_color, 1);
    else
      unsetenv("NO_COLOR");
    execl(trove_bin, trove_bin, "--db", f->db, "search", "otters", "-n", "1",
          when ? "--color" : NULL, when, (char *)NULL);
    _exit(127);
  }
  CHECK(run_wait(pid) == 0);
  CHECK(fcntl(m, F_SETFL, O_NONBLOCK) == 0);
  ssize_t n, got = 0;
  while ((size_t)got + 1 < cap && (n = read(m, out + got, cap - 1 - (size_t)got)) > 0)
    got += n;
  out[got] = 0;
  close(s);
  close(m);
}

static void cli_color_follows_the_option_and_no_color(void) {
  fx f;
  fx_init(&f);
  static run_out r;
  static char tty[8192];
  RUN_TROVE(&r, f.dir, f.db, "search", "otters", "-n", "1"); /* a file: no color */
  CHECK(r.code == 0 && !strchr(r.out, '\033') && strstr(r.out, "[Otters]"));
  RUN_TROVE(&r, f.dir, f.db, "search", "otters", "-n", "1", "--color=always");
  CHECK(r.code == 0 && strstr(r.out, "\033[1mOtters\033[0m"));
  setenv("NO_COLOR", "1", 1); /* the option wins over the variable (no-color.org) */
  RUN_TROVE(&r, f.dir, f.db, "search", "otters", "-n", "1", "--color", "always");
  CHECK(r.code == 0 && strstr(r.out, "\033[1mOtters\033[0m"));
  unsetenv("NO_COLOR");
  search_on_pty(&f, NULL, NULL, tty, sizeof tty); /* auto on a terminal: color */
  CHECK(strstr(tty, "\033[1mOtters\033[0m") != NULL);
  search_on_pty(&f, NULL, "1", tty, sizeof tty); /* NO_COLOR: none */
  CHECK(!strchr(tty, '\033') && strstr(tty, "[Otters]"));
  search_on_pty(&f, NULL, "", tty, sizeof tty); /* an empty NO_COLOR is unset */
  CHECK(strstr(tty, "\033[1mOtters\033[0m") != NULL);
  search_on_pty(&f, "never", NULL, tty, sizeof tty);
  CHECK(!strchr(tty, '\033') && strstr(tty, "[Otters]"));
  RUN_TROVE(&r, f.dir, f.db, "search", "otters", "--color", "sometimes");
  CHECK(r.code == 2 && strstr(r.err, "--color takes auto, always or never"));
  fx_done(&f);
}

static void cli_help_command_is_command_help(void) {
  fx f;
  fx_init(&f);
  static run_out a, b;
  const char *const pairs[][2][4] = {
      {{"help", "search"}, {"search", "--help"}},
      {{"help", "source", "add"}, {"source", "add", "--help"}},
      {{"help", "skipped"}, {"skipped", "-h"}},
      {{"help"}, {"--help"}},
  };
  for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
    run_v(&a, f.dir, f.db, pairs[i][0]);
    run_v(&b, f.dir, f.db, pairs[i][1]);
    CHECK(a.code == 0 && b.code == 0 && strncmp(a.out, "usage: trove", 12) == 0);
    CHECK(strcmp(a.out, b.out) == 0);
  }
  RUN_TROVE(&a, f.dir, f.db, "help", "bogus");
  CHECK(a.code == 2 && strstr(a.err, "no command \"bogus\""));
  fx_done(&f);
}

static void cli_json_for_stats_sources_and_print(void) {
  fx f;
  fx_init(&f);
  static run_out r;
  RUN_TROVE(&r, f.dir, f.db, "stats", "--json");
  trove_json_doc *doc = parse(r.out);
  const trove_json *o = trove_json_root(doc);
  CHECK(r.code == 0 && trove_json_get_i64(o, "items", 0) == 2);
  CHECK(trove_json_get_i64(o, "passages", 0) >= 2 && trove_json_get_i64(o, "vectors", 0) >= 2);
  CHECK(strcmp(trove_json_get_str(o, "database", ""), f.db) == 0);
  const trove_json *src = trove_json_at(trove_json_get(o, "sources"), 0);
  CHECK(strcmp(trove_json_get_str(src, "name", ""), "notes") == 0);
  CHECK(strcmp(trove_json_get_str(src, "status", ""), "ready") == 0);
  CHECK(trove_json_get_i64(src, "items", 0) == 2);
  CHECK(strcmp(trove_json_get_str(trove_json_get(o, "model"), "name", ""),
               "use-lite-en-0.2.0") == 0);
  trove_json_free(doc);

  RUN_TROVE(&r, f.dir, f.db, "source", "list", "--json");
  doc = parse(r.out);
  const trove_json *s0 = trove_json_at(trove_json_root(doc), 0);
  CHECK(r.code == 0 && trove_json_len(trove_json_root(doc)) == 1);
  CHECK(strcmp(trove_json_get_str(s0, "name", ""), "notes") == 0 &&
        strcmp(trove_json_get_str(s0, "type", ""), "fs") == 0 &&
        strcmp(trove_json_get_str(s0, "status", ""), "ready") == 0);
  CHECK(strcmp(trove_json_get_str(s0, "location", ""), f.tree) == 0);
  CHECK(trove_json_get_i64(s0, "items", 0) == 2 && trove_json_get_i64(s0, "last_scan_at", 0) > 0);
  trove_json_free(doc);

  RUN_TROVE(&r, f.dir, f.db, "search", "otters", "--mode", "keyword", "--json");
  doc = parse(r.out);
  char id[24];
  snprintf(id, sizeof id, "%lld",
           (long long)trove_json_get_i64(trove_json_at(trove_json_root(doc), 0), "id", 0));
  trove_json_free(doc);
  RUN_TROVE(&r, f.dir, f.db, "print", id, "--json");
  doc = parse(r.out);
  o = trove_json_root(doc);
  CHECK(r.code == 0 && strcmp(trove_json_get_str(o, "title", ""), "Otters") == 0);
  CHECK(strcmp(trove_json_get_str(o, "source", ""), "notes") == 0);
  CHECK(strstr(trove_json_get_str(o, "path", ""), "otters.md") != NULL);
  CHECK(strstr(trove_json_get_str(o, "text", ""), "hold hands") != NULL);
  CHECK(trove_json_get_i64(o, "modified", 0) > 0 &&
        trove_json_type_of(trove_json_get(o, "visited")) == TROVE_JSON_NULL);
  CHECK(trove_json_get_bool(o, "hidden", true) == false);
  trove_json_free(doc);
  RUN_TROVE(&r, f.dir, f.db, "print", id, "--json", "--raw");
  CHECK(r.code == 2);
  fx_done(&f);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: cli_conventions_test PATH_TO_TROVE\n");
    return 2;
  }
  trove_bin = argv[1];
  RUN(cli_options_attached_and_anywhere);
  RUN(cli_exit_codes);
  RUN(cli_color_follows_the_option_and_no_color);
  RUN(cli_help_command_is_command_help);
  RUN(cli_json_for_stats_sources_and_print);
  return check_done(__FILE__);
}
