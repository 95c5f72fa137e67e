/* cli_escape_test.c: no string from a file name, a bookmark, a source name
 * or an argument reaches the terminal with a raw control: `search`,
 * `print`, `source list`, `skipped`, `scan -v` and error lines show ESC,
 * BEL and C1 visibly (\x1b), every --json escapes them by JSON rules and
 * still round-trips the value, and `print --raw` refuses a terminal (a pty here) unless --force
 * is given, while a pipe still gets the bytes as stored.
 * Usage: cli_escape_test PATH_TO_TROVE. */
#include "json.h"
#include "run.h"

#include <errno.h>

/* A window title set, the screen cleared, and a C1 CSI in UTF-8 form. */
#define EVIL "\033]0;PWNED\007\033[2J"
#define EVIL_SHOWN "\\x1b]0;PWNED\\x07\\x1b[2J"
#define CSI8 "\xc2\x9b"

typedef struct fx {
  char dir[64], tree[96], prof[96], db[96];
} fx;

static void fx_init(fx *f) {
  run_tempdir(f->dir, sizeof f->dir, "esc");
  snprintf(f->tree, sizeof f->tree, "%s/tree", f->dir);
  snprintf(f->prof, sizeof f->prof, "%s/prof", f->dir);
  snprintf(f->db, sizeof f->db, "%s/trove.db", f->dir);
  CHECK(mkdir(f->tree, 0755) == 0 && mkdir(f->prof, 0755) == 0);
  run_put(f->tree, "note" EVIL ".txt",
          "zanzibar lies east of the mainland \033[2J " CSI8 "31m spice\n");
  /* a bookmark of a page that cannot be fetched: only its name is stored */
  run_put(f->prof, "Bookmarks",
          "{\"roots\":{\"bookmark_bar\":{\"type\":\"folder\",\"name\":\"Bar\",\"children\":["
          "{\"type\":\"url\",\"name\":\"mark \\u001b]0;PWNED\\u0007\\u001b[2J \\u009b zanzibar\","
          "\"url\":\"http://127.0.0.1:9/x\",\"date_added\":\"13300000000000000\"}]},"
          "\"other\":{\"type\":\"folder\",\"name\":\"O\",\"children\":[]},"
          "\"synced\":{\"type\":\"folder\",\"name\":\"S\",\"children\":[]}},\"version\":1}");
}

static void fx_done(fx *f) { run_rmdir(f->dir); }

/* True when s holds no byte a terminal acts on: no C0 but \n, no DEL, no C1
 * in UTF-8 form. */
static bool terminal_safe(const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if ((*p < 0x20 && *p != '\n') || *p == 0x7F || (p[0] == 0xC2 && p[1] >= 0x80 && p[1] < 0xA0))
      return false;
  return true;
}

static void scanned(fx *f, run_out *r) {
  RUN_TROVE(r, f->dir, f->db, "source", "add", "notes", "fs", f->tree);
  CHECK(r->code == 0);
  RUN_TROVE(r, f->dir, f->db, "source", "add", "marks" EVIL, "chromium-bookmarks", f->prof);
  CHECK(r->code == 0 && terminal_safe(r->out) && strstr(r->out, "marks" EVIL_SHOWN));
  RUN_TROVE(r, f->dir, f->db, "--no-model", "scan");
  CHECK(terminal_safe(r->out) && terminal_safe(r->err));
}

static void cli_text_output_shows_controls_escaped(void) {
  fx f;
  fx_init(&f);
  static run_out r;
  scanned(&f, &r);
  RUN_TROVE(&r, f.dir, f.db, "--no-model", "search", "zanzibar");
  CHECK(r.code == 0 && terminal_safe(r.out));
  CHECK(strstr(r.out, "mark " EVIL_SHOWN " \\xc2\\x9b zanzibar") != NULL); /* the bookmark */
  CHECK(strstr(r.out, "note" EVIL_SHOWN ".txt") != NULL);                 /* the file name */
  RUN_TROVE(&r, f.dir, f.db, "source", "list");
  CHECK(r.code == 0 && terminal_safe(r.out) && strstr(r.out, "marks" EVIL_SHOWN));
  for (int id = 1; id <= 2; id++) {
    char ids[8];
    snprintf(ids, sizeof ids, "%d", id);
    RUN_TROVE(&r, f.dir, f.db, "print", ids);
    CHECK(r.code == 0 && terminal_safe(r.out));
  }
  RUN_TROVE(&r, f.dir, f.db, "skipped"); /* the bookmark, its page unreachable */
  CHECK(r.code == 0 && terminal_safe(r.out) && strstr(r.out, "marks" EVIL_SHOWN));
  RUN_TROVE(&r, f.dir, f.db, "--no-model", "-v", "scan");
  CHECK(r.code == 0 && terminal_safe(r.out) && strstr(r.out, "http://127.0.0.1:9/x"));
  RUN_TROVE(&r, f.dir, f.db, "source", "remove", "gone" EVIL); /* an error line */
  CHECK(r.code == 4 && terminal_safe(r.err) && strstr(r.err, "gone" EVIL_SHOWN));
  RUN_TROVE(&r, f.dir, f.db, "search", "x", "--mode", "odd" EVIL); /* a usage error */
  CHECK(r.code == 2 && terminal_safe(r.err) && strstr(r.err, "odd" EVIL_SHOWN));
  fx_done(&f);
}

static void cli_json_escapes_controls_and_round_trips(void) {
  fx f;
  fx_init(&f);
  static run_out r;
  scanned(&f, &r);
  RUN_TROVE(&r, f.dir, f.db, "--no-model", "search", "zanzibar", "--json");
  CHECK(r.code == 0 && terminal_safe(r.out));
  CHECK(strstr(r.out, "\\u009b") != NULL); /* C1 is legal raw in JSON, but not on a terminal */
  trove_json_doc *doc = NULL;
  CHECK(trove_json_parse(r.out, strlen(r.out), 0, &doc, NULL) == 0);
  const trove_json *j = trove_json_root(doc);
  bool mark = false, note = false;
  for (size_t i = 0; j && i < trove_json_len(j); i++) {
    const trove_json *h = trove_json_at(j, i);
    mark |= strcmp(trove_json_get_str(h, "title", ""), "mark " EVIL " " CSI8 " zanzibar") == 0;
    note |= strstr(trove_json_get_str(h, "path", ""), "note" EVIL ".txt") != NULL;
  }
  CHECK(mark && note);
  trove_json_free(doc);
  /* every --json: safe on a terminal, and the name as given */
  const char *const cmds[][3] = {{"source", "list", "--json"}, {"stats", "--json"},
                                 {"skipped", "--json"}};
  for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
    run_v(&r, f.dir, f.db, (const char *const[]){cmds[i][0], cmds[i][1], cmds[i][2], NULL});
    CHECK(r.code == 0 && terminal_safe(r.out) && strstr(r.out, "marks\\u001b]0;PWNED"));
    CHECK(trove_json_parse(r.out, strlen(r.out), 0, &doc, NULL) == 0);
    trove_json_free(doc);
  }
  fx_done(&f);
}

/* Runs `trove --db DB print ID --raw [--force]` with stdout on a pty;
 * returns the exit code and what reached the pty in out. */
static int run_raw_on_pty(fx *f, const char *id, bool force, char *out, size_t cap) {
  int m = posix_openpt(O_RDWR | O_NOCTTY);
  CHECK(m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0);
  int s = open(ptsname(m), O_RDWR | O_NOCTTY); /* held open so the output stays readable */
  CHECK(s >= 0);
  char err[256];
  snprintf(err, sizeof err, "%s/stderr", f->dir);
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    int fe = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fe < 0 || dup2(s, 1) < 0 || dup2(fe, 2) < 0)
      _exit(126);
    execl(trove_bin, trove_bin, "--db", f->db, "print", id, "--raw", force ? "--force" : NULL,
          (char *)NULL);
    _exit(127);
  }
  int code = run_wait(pid);
  CHECK(fcntl(m, F_SETFL, O_NONBLOCK) == 0);
  ssize_t n, got = 0;
  while ((size_t)got + 1 < cap && (n = read(m, out + got, cap - 1 - (size_t)got)) > 0)
    got += n;
  out[got] = 0;
  close(s);
  close(m);
  return code;
}

static void cli_raw_refuses_a_terminal_without_force(void) {
  fx f;
  fx_init(&f);
  static run_out r;
  scanned(&f, &r);
  RUN_TROVE(&r, f.dir, f.db, "--no-model", "search", "spice", "--json");
  trove_json_doc *doc = NULL;
  CHECK(trove_json_parse(r.out, strlen(r.out), 0, &doc, NULL) == 0);
  const trove_json *j = trove_json_root(doc);
  CHECK(trove_json_len(j) == 1);
  char id[24];
  snprintf(id, sizeof id, "%lld", (long long)trove_json_get_i64(trove_json_at(j, 0), "id", 0));
  trove_json_free(doc);
  RUN_TROVE(&r, f.dir, f.db, "print", id, "--raw"); /* a pipe: the bytes as stored */
  CHECK(r.code == 0 && strstr(r.out, CSI8 "31m spice") && strstr(r.out, "\033[2J"));
  static char tty[4096];
  CHECK(run_raw_on_pty(&f, id, false, tty, sizeof tty) == 4);
  CHECK(strchr(tty, '\033') == NULL && strstr(tty, "spice") == NULL);
  char err[256];
  snprintf(err, sizeof err, "%s/stderr", f.dir);
  run_slurp(err, r.err, sizeof r.err);
  CHECK(strstr(r.err, "--force") != NULL && terminal_safe(r.err));
  CHECK(run_raw_on_pty(&f, id, true, tty, sizeof tty) == 0);
  CHECK(strstr(tty, "\033[2J") != NULL); /* asked for by name */
  RUN_TROVE(&r, f.dir, f.db, "print", id, "--force");
  CHECK(r.code == 2);
  fx_done(&f);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: cli_escape_test PATH_TO_TROVE\n");
    return 2;
  }
  trove_bin = argv[1];
  RUN(cli_text_output_shows_controls_escaped);
  RUN(cli_json_escapes_controls_and_round_trips);
  RUN(cli_raw_refuses_a_terminal_without_force);
  return check_done(__FILE__);
}
