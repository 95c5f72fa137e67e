/* repl_test.c: `trove` with no command on a terminal opens the prompt. A
 * scripted session through a pty (forkpty, as a person's terminal): a
 * query, :like, :mode, :n, :open, mistakes, :quit, reading the screen after
 * each line; the history file lands in $XDG_STATE_HOME/trove/. Without a
 * terminal the usage is printed as before (cli_test checks that).
 * Needs the model (for :like): without it the test is skipped (77).
 * Usage: repl_test PATH_TO_TROVE. */
#include "run.h"

#include <poll.h>
#include <pty.h>
#include <stdbool.h>
#include <signal.h>

enum { WAIT_MS = 120000 }; /* a line slower than this is a hang, sanitizers included */

typedef struct session {
  int fd;          /* the pty's master side */
  pid_t pid;
  char screen[1 << 16]; /* what arrived since the last expect */
  size_t len;
} session;

/* Reads the pty until `want` has arrived; the text up to it stays in
 * s->screen for checks. false on timeout or end. */
static bool expect(session *s, const char *want) {
  s->len = 0;
  s->screen[0] = 0;
  struct pollfd p = {.fd = s->fd, .events = POLLIN};
  while (!strstr(s->screen, want)) {
    if (s->len + 1 >= sizeof s->screen || poll(&p, 1, WAIT_MS) != 1)
      return false;
    ssize_t n = read(s->fd, s->screen + s->len, sizeof s->screen - 1 - s->len);
    if (n <= 0)
      return false;
    s->len += (size_t)n;
    s->screen[s->len] = 0;
  }
  return true;
}

/* Types line (with its Enter) and reads up to the next prompt. */
static bool say(session *s, const char *line) {
  char buf[256];
  int n = snprintf(buf, sizeof buf, "%s\r", line);
  if (write(s->fd, buf, (size_t)n) != n)
    return false;
  bool ok = expect(s, "trove> ");
  if (!ok)
    fprintf(stderr, "  after \"%s\" the screen holds: %s\n", line, s->screen);
  return ok;
}

static bool shows(const session *s, const char *text) {
  bool ok = strstr(s->screen, text) != NULL;
  if (!ok)
    fprintf(stderr, "  wanted \"%s\" on the screen: %s\n", text, s->screen);
  return ok;
}

static void repl_scripted_session(void) {
  char dir[64], tree[96], db[96], state[96], hist[160];
  run_tempdir(dir, sizeof dir, "repl");
  snprintf(tree, sizeof tree, "%s/tree", dir);
  snprintf(db, sizeof db, "%s/trove.db", dir);
  snprintf(state, sizeof state, "%s/state", dir);
  CHECK(mkdir(tree, 0755) == 0);
  run_put(tree, "otters.md", "# Otters\n\nOtters hold hands while they sleep, in rafts on the sea.\n");
  run_put(tree, "beavers.md", "# Beavers\n\nBeavers build dams across rivers and streams.\n");
  run_put(tree, "granite.md", "# Granite\n\nGranite is an igneous rock of quartz and feldspar.\n");
  static run_out r;
  RUN_TROVE(&r, dir, db, "source", "add", "notes", "fs", tree);
  RUN_TROVE(&r, dir, db, "scan");
  CHECK(r.code == 0);

  session s = {0};
  fflush(NULL);
  s.pid = forkpty(&s.fd, NULL, NULL, NULL);
  if (s.pid == 0) {
    setenv("XDG_STATE_HOME", state, 1);
    setenv("TERM", "dumb", 1);
    execl(trove_bin, trove_bin, "--db", db, (char *)NULL);
    _exit(127);
  }
  CHECK(s.pid > 0);
  CHECK(expect(&s, "trove> "));
  CHECK(shows(&s, "hybrid search of"));

  CHECK(say(&s, "otters in the sea"));
  CHECK(shows(&s, " 1. Otters  [notes]"));
  CHECK(shows(&s, "otters.md  (id "));
  CHECK(say(&s, ":like 1"));
  CHECK(shows(&s, " 1. ") && !strstr(s.screen, "needs the model"));
  CHECK(!strstr(s.screen, " 1. Otters")); /* like excludes the item itself */
  CHECK(say(&s, ":mode keyword"));
  CHECK(shows(&s, "\nmode keyword"));
  CHECK(say(&s, ":n 1"));
  CHECK(shows(&s, "\n1 results"));
  CHECK(say(&s, "rivers"));
  CHECK(shows(&s, " 1. Beavers") && !strstr(s.screen, " 2. "));
  CHECK(say(&s, ":open 1"));
  CHECK(shows(&s, "title        Beavers") && shows(&s, "Beavers build dams"));
  CHECK(say(&s, ":like 7"));
  CHECK(shows(&s, "give a result number from 1 to 1"));
  CHECK(say(&s, "zzzqqq"));
  CHECK(shows(&s, "no results"));
  CHECK(say(&s, ":open 1"));
  CHECK(shows(&s, "search first"));
  CHECK(say(&s, ":mode fuzzy"));
  CHECK(shows(&s, "the modes are hybrid, semantic and keyword"));
  CHECK(say(&s, ":bogus"));
  CHECK(shows(&s, "unknown command :bogus"));
  CHECK(say(&s, ":type web"));
  CHECK(shows(&s, "\ntype web"));
  CHECK(say(&s, "rivers"));
  CHECK(shows(&s, "no results")); /* the files are local */
  CHECK(say(&s, ":help"));
  CHECK(shows(&s, ":like N"));
  CHECK(write(s.fd, ":quit\r", 6) == 6);
  CHECK(run_wait(s.pid) == 0);
  close(s.fd);

  /* the history file (libedit's format: spaces written as \040) */
  snprintf(hist, sizeof hist, "%s/trove/history", state);
  static char text[4096];
  run_slurp(hist, text, sizeof text);
  CHECK(strstr(text, "otters\\040in\\040the\\040sea") && strstr(text, "\n:bogus\n") &&
        strstr(text, "\nzzzqqq\n") && strstr(text, "\n:quit"));
  /* ... is read back: Ctrl-P recalls the last line, :quit, which ends it
   * (line editing needs a terminal libedit knows) */
  s.pid = forkpty(&s.fd, NULL, NULL, NULL);
  if (s.pid == 0) {
    setenv("XDG_STATE_HOME", state, 1);
    setenv("TERM", "vt100", 1);
    execl(trove_bin, trove_bin, "--db", db, (char *)NULL);
    _exit(127);
  }
  CHECK(s.pid > 0 && expect(&s, "trove> "));
  CHECK(write(s.fd, "\x10\r", 2) == 2);
  bool again = expect(&s, "trove> "); /* a new prompt: nothing was recalled */
  CHECK(!again);
  if (again)
    CHECK(write(s.fd, ":quit\r", 6) == 6);
  CHECK(run_wait(s.pid) == 0);
  close(s.fd);
  run_rmdir(dir);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: repl_test PATH_TO_TROVE\n");
    return 2;
  }
  trove_bin = argv[1];
  if (!run_have_model())
    return check_skip(__FILE__, "the model is missing (scripts/fetch-model.sh); :like needs it");
  RUN(repl_scripted_session);
  return check_done(__FILE__);
}
