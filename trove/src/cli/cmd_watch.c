/* cmd_watch.c: `trove watch [NAME...]`, a foreground driver of the watcher
 * (src/watch): every source named (or all) is scanned once, then kept
 * fresh as it changes until SIGINT or SIGTERM, which stop it after the
 * scan under way, the vector index saved; a second signal ends it at once
 * (every batch is its own transaction: nothing is lost but the unsaved
 * index's catching up, which the next opener does). What changed goes to
 * stderr, one line per update, as a scan's summary says it; -q silences
 * all but errors. */
#include "cli.h"
#include "watch.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_watch[] =
    "trove watch [NAME...] [--poll SECONDS] [-q]\n"
    "  scans the sources named (or all) once, then keeps them fresh until Ctrl-C:\n"
    "  fs sources through inotify (what changed is indexed a moment after it is\n"
    "  saved), browser sources by looking at their files every --poll seconds\n"
    "  --poll S:  seconds between looks at a browser's files (default 60)\n"
    "  -q:        print nothing but errors\n"
    "  One watch per database: a second one exits with code 3, naming the first.\n"
    "  `trove scan` and searches work beside it.";

typedef struct watch_args {
  bool quiet;
  int poll_s;
} watch_args;

enum { W_POLL, W_QUIET };
static const cli_opt watch_opts[] = {
    [W_POLL] = {"poll", 0, true}, [W_QUIET] = {"quiet", 'q', false}, {0}};

static int on_watch_opt(void *ctx, int id, const char *val) {
  watch_args *a = ctx;
  if (id == W_QUIET) {
    a->quiet = true;
    return CLI_OK;
  }
  char *end = NULL;
  long s = strtol(val, &end, 10);
  if (*end || s < 1 || s > 86400)
    return cli_usage_error(usage_watch, "--poll takes whole seconds from 1 to 86400, not "
                           "\"%s\"", val);
  a->poll_s = (int)s;
  return CLI_OK;
}

/* The watcher the signal handler stops, set while it runs (volatile: read
 * by a handler interrupting this same thread, the one use C gives it). */
static trove_watch *volatile running;

/* SIGINT, SIGTERM: the first asks the watcher to stop (async-signal-safe:
 * a write to its pipe); SA_RESETHAND makes the second one kill. */
static void on_signal(int sig) {
  (void)sig;
  trove_watch_stop(running);
}

int cmd_watch(cli *c, int argc, char **argv) {
  watch_args a = {0};
  int npos = 0;
  int rc = cli_parse(c, usage_watch, watch_opts, on_watch_opt, &a, argc, argv, &npos);
  if (rc)
    return rc;
  trove_store *st = NULL;
  cli_model m = {0};
  trove_watch *w = NULL;
  trove_err e = {0};
  if ((rc = cli_open_existing(c, &st)))
    return rc;
  trove_watch_opts o = {.scan = {.progress = a.quiet ? TROVE_PROGRESS_NONE
                                                     : TROVE_PROGRESS_AUTO},
                        .log = a.quiet ? NULL : stderr, .browser_poll_s = a.poll_s};
  /* the watch lock first: a second watch is refused before the model loads */
  int trc = trove_watch_open(st, (const char *const *)argv + 1, (size_t)npos, &o, &w, &e);
  if (trc) {
    rc = trc == TROVE_EBUSY ? (trove_term_line(stderr, "trove: %s", e.msg), CLI_BUSY)
                            : cli_fail(&e, trc);
    goto out_close;
  }
  /* the index is read under the scan lock, after any scan running saved it */
  if ((rc = cli_scan_lock(st, false)) || (rc = cli_model_open(c, st, false, false, &m))) {
    trove_watch_close(w, NULL);
    goto out_close;
  }
  trove_store_scan_unlock(st);
  trove_watch_set_model(w, m.embedder, m.vectors);
  running = w;
  struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESETHAND};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  trc = trove_watch_step(w, 0, true, &e); /* the first full scans */
  if (trc == 0 && !trove_watch_stopped(w) && !a.quiet) {
    fprintf(stderr, "trove: watching; Ctrl-C stops\n");
    fflush(stderr);
  }
  if (trc == 0)
    trc = trove_watch_run(w, &e);
  if (trc)
    rc = cli_fail(&e, trc);
  trove_err ce = {0};
  int crc = trove_watch_close(w, &ce); /* saves the index */
  running = NULL;
  if (crc && rc == CLI_OK)
    rc = cli_fail(&ce, crc);
  if (rc == CLI_OK && !a.quiet)
    fprintf(stderr, "trove: stopped; the index is saved\n");
out_close:
  cli_model_close(&m);
  trove_store_close(st);
  return rc;
}
