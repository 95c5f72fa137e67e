/* cmd_serve.c: `trove serve [--port N] [--listen ADDR] [--open]
 * [--no-watch]`, the local web UI (serve.h). It loads the model and the
 * vector index once, starts the server (which runs the watcher of `trove
 * watch` unless --no-watch), prints the page's address, and waits for
 * Ctrl-C (SIGINT) or SIGTERM. Both signals are blocked in every thread before any starts and
 * taken here with sigwait, so stopping runs as ordinary code on this
 * thread: a running scan is stopped (it keeps what it stored and saves the
 * index), connections are closed, and the command exits 0. */
#include "cli.h"
#include "serve.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

enum { DEFAULT_PORT = 8765 };

static const char usage[] =
    "trove serve [--port N] [--listen ADDR] [--open] [--no-watch] [--poll S]\n"
    "  the web UI: search as you type, items, sources and scans, at\n"
    "  http://127.0.0.1:8765/ (the model and the index stay loaded; Ctrl-C stops,\n"
    "  stopping a running scan, which keeps what it stored). It keeps every source\n"
    "  fresh as `trove watch` does, unless another process watches the database\n"
    "  (it then says so and only serves) or the database is read-only\n"
    "  --no-watch:    serve only; sources change when scanned\n"
    "  --poll S:      seconds between looks at a browser's files (default 60)\n"
    "  --port N:      the port (default 8765; 0: any free one)\n"
    "  --listen ADDR: a numeric address to listen on instead of 127.0.0.1\n"
    "                 (0.0.0.0 or :: for every one); others can then search\n"
    "  --open:        open the page in the desktop's browser (xdg-open)\n"
    "  $TROVE_FETCH_TIMEOUT: seconds one web page of a scan may take (default 30)";

typedef struct serve_args {
  unsigned port;
  const char *listen;
  bool open, no_watch;
  int poll_s;
} serve_args;

enum { O_PORT, O_LISTEN, O_OPEN, O_NO_WATCH, O_POLL };
static const cli_opt options[] = {
    [O_PORT] = {"port", 0, true},        [O_LISTEN] = {"listen", 0, true},
    [O_OPEN] = {"open", 0, false},       [O_NO_WATCH] = {"no-watch", 0, false},
    [O_POLL] = {"poll", 0, true},        {0},
};

static int on_option(void *ctx, int id, const char *val) {
  serve_args *a = ctx;
  if (id == O_OPEN) {
    a->open = true;
  } else if (id == O_NO_WATCH) {
    a->no_watch = true;
  } else if (id == O_POLL) {
    char *end = NULL;
    long s = strtol(val, &end, 10);
    if (!val[0] || *end || s < 1 || s > 86400)
      return cli_usage_error(usage, "--poll takes whole seconds from 1 to 86400, not \"%s\"",
                             val);
    a->poll_s = (int)s;
  } else if (id == O_LISTEN) {
    a->listen = val;
  } else {
    char *end = NULL;
    long port = strtol(val, &end, 10);
    if (!val[0] || *end || port < 0 || port > 65535)
      return cli_usage_error(usage, "--port takes a number from 0 to 65535, not \"%s\"", val);
    a->port = (unsigned)port;
  }
  return CLI_OK;
}

/* Whether addr is a loopback address: only this machine can connect. */
static bool loopback(const char *addr) {
  struct in_addr v4;
  struct in6_addr v6;
  if (inet_pton(AF_INET, addr, &v4) == 1)
    return (ntohl(v4.s_addr) >> 24) == 127;
  return inet_pton(AF_INET6, addr, &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

/* Opens url with xdg-open, in the background; a failure only warns. */
static void open_browser(const char *url) {
  pid_t pid;
  char *const args[] = {"xdg-open", (char *)url, NULL};
  if (posix_spawnp(&pid, "xdg-open", NULL, NULL, args, environ) != 0) {
    fprintf(stderr, "trove: warning: cannot run xdg-open; open %s yourself\n", url);
    return;
  }
  int status;
  waitpid(pid, &status, 0); /* xdg-open hands the page to the browser and returns */
}

int cmd_serve(cli *c, int argc, char **argv) {
  serve_args a = {.port = DEFAULT_PORT};
  int npos = 0;
  int rc = cli_parse(c, usage, options, on_option, &a, argc, argv, &npos);
  if (rc == CLI_OK && npos)
    rc = cli_usage_error(usage, "unexpected argument \"%s\"", argv[1]);
  long fetch_ms = 0;
  rc = rc ? rc : cli_fetch_timeout(&fetch_ms);
  if (rc)
    return rc;
  /* Before any thread starts, so that every thread inherits the mask and
   * only sigwait below takes these signals. */
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, NULL);
  /* an ignored signal is discarded, never waited for: a shell starts
   * background jobs with SIGINT ignored, and kill -INT must still stop us */
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  trove_store *st = NULL;
  cli_model m = {0};
  if ((rc = cli_open_existing(c, &st)) || (rc = cli_model_open(c, st, false, true, &m))) {
    trove_store_close(st);
    return rc;
  }
  trove_err e = {0};
  if (m.vectors && trove_vectors_try_save(m.vectors, st, &e)) /* as a search does */
    trove_term_line(stderr, "trove: warning: %s", e.msg);
  trove_embedder *scan_emb = NULL; /* passages on the scan's kernel path (cli.h) */
  if (m.embedder && cli_embedder_open(c, NULL, &scan_emb, &e) == 0)
    trove_embedder_set_threads(scan_emb, 1); /* the pipeline spreads the calls */
  else if (m.embedder)
    trove_term_line(stderr, "trove: warning: scans embed on the query path: %s", e.msg);
  char note[160] = "";
  if (m.embedder)
    snprintf(note, sizeof note, "%s; queries on %s, scans on %s", trove_embedder_name(m.embedder),
             trove_embedder_kernel(m.embedder),
             trove_embedder_kernel(scan_emb ? scan_emb : m.embedder));
  else
    fprintf(stderr, "trove: searching by keyword only\n");
  trove_serve_opts o = {.db_path = trove_store_path(st),
                        .listen = a.listen,
                        .port = a.port,
                        .embedder = m.embedder,
                        .vectors = m.vectors,
                        .scan_embedder = scan_emb,
                        .model_note = m.embedder ? note : NULL,
                        .fetch_timeout_ms = fetch_ms,
                        .no_watch = a.no_watch,
                        .watch_log = stderr,
                        .browser_poll_s = a.poll_s};
  trove_serve *s = NULL;
  int trc = trove_serve_start(&o, &s, &e);
  if (trc) {
    rc = trc == TROVE_EINVAL ? cli_usage_error(usage, "%s", e.msg) : cli_fail(&e, trc);
  } else {
    if (a.listen && !loopback(a.listen))
      trove_term_line(stderr, "trove: warning: listening on %s: anyone who can reach this "
                      "address can search what trove holds", a.listen);
    trove_term_line(stdout, "serving %s at %s (Ctrl-C stops)", trove_store_path(st),
                    trove_serve_url(s));
    fflush(stdout);
    if (a.open)
      open_browser(trove_serve_url(s));
    int sig = 0;
    sigwait(&stop, &sig);
    fprintf(stderr, "trove: stopping%s\n", sig == SIGINT ? " (Ctrl-C)" : "");
    trove_serve_stop(s);
  }
  trove_embedder_close(scan_emb);
  cli_model_close(&m);
  trove_store_close(st);
  return rc;
}
