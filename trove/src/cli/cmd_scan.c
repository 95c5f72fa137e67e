/* cmd_scan.c: `trove scan [NAME] [--force]` and `trove reprocess [NAME]`,
 * thin drivers of the pipelines in src/scan: progress on stderr, the
 * summary (counts, skip reasons, per-stage times, bottleneck) on stdout.
 * Both embed with the model when it opens (cli_model.c), else index for
 * keyword search only, with a warning.
 * Without NAME every source is scanned in turn; a failure of one source is
 * reported and the others still run (the exit code says one failed).
 * Both hold the database's scan lock for the whole command, taken before
 * the model's index is opened, so the index is read after any other scan
 * has saved it. */
#include "cli.h"
#include "scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_scan[] =
    "trove scan [NAME] [--force] [--no-wait]\n"
    "  --force:   re-read every item, and delete what is gone even when the source\n"
    "             yields nothing at all (which otherwise keeps everything: an unmounted drive?)\n"
    "  --no-wait: when another scan of the database is running, exit with code 3\n"
    "             instead of waiting for it to finish\n"
    "  $TROVE_FETCH_TIMEOUT: seconds one web page may take (default 30)";
static const char usage_reprocess[] =
    "trove reprocess [NAME] [--no-wait]\n"
    "  --no-wait: when another scan of the database is running, exit with code 3\n"
    "             instead of waiting for it to finish";

/* $TROVE_FETCH_TIMEOUT: seconds one web fetch may take (a decimal, e.g.
 * 0.5), for slow links or tests; unset or empty: the fetcher's 30 s. */
static int fetch_timeout(trove_scan_opts *o) {
  const char *v = getenv("TROVE_FETCH_TIMEOUT");
  if (!v || !*v)
    return CLI_OK;
  char *end = NULL;
  double s = strtod(v, &end);
  if (*end || !(s >= 0.001 && s <= 3600)) {
    fprintf(stderr, "trove: TROVE_FETCH_TIMEOUT=\"%s\" is not a number of seconds between "
            "0.001 and 3600; unset it for the default 30\n", v);
    return CLI_USAGE;
  }
  o->fetch_timeout_ms = (long)(s * 1000);
  return CLI_OK;
}

static int scan_one(trove_store *st, const char *name, const trove_scan_opts *o) {
  trove_scan_report rep;
  trove_err e = {0};
  int rc = trove_scan_source(st, name, o, &rep, &e);
  char what[128];
  snprintf(what, sizeof what, "scan %s", name);
  if (rc == 0 || rep.seen)
    trove_scan_report_print(&rep, what, stdout);
  fflush(stdout);
  return rc ? cli_fail(&e, rc) : CLI_OK;
}

int cmd_scan(const cli *c, int argc, char **argv) {
  if (cli_wants_help(argc, argv, usage_scan))
    return CLI_OK;
  trove_scan_opts o = {0};
  const char *name = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--force") == 0)
      o.force = true;
    else if (strcmp(argv[i], "--no-wait") == 0)
      o.no_wait = true;
    else if (argv[i][0] == '-' || name)
      return cli_usage_error(usage_scan, "unexpected argument \"%s\"", argv[i]);
    else
      name = argv[i];
  }
  trove_store *st = NULL;
  cli_model m = {0};
  int rc = fetch_timeout(&o);
  if (rc)
    return rc;
  rc = cli_open(c, &st);
  if (rc || (rc = cli_scan_lock(st, o.no_wait)) || (rc = cli_model_open(c, st, false, false, &m))) {
    trove_store_close(st);
    return rc;
  }
  o.embedder = m.embedder;
  o.vectors = m.vectors;
  if (name) {
    rc = scan_one(st, name, &o);
  } else {
    trove_store_source *v = NULL;
    size_t n = 0;
    trove_err e = {0};
    int trc = trove_store_source_list(st, &v, &n, &e);
    rc = trc ? cli_fail(&e, trc) : CLI_OK;
    if (rc == CLI_OK && n == 0)
      fprintf(stderr, "trove: no sources to scan; add one with: trove source add NAME fs DIRECTORY\n");
    for (size_t i = 0; i < n; i++)
      if (scan_one(st, v[i].name, &o) != CLI_OK)
        rc = CLI_ERR;
    trove_store_sources_free(v, n);
  }
  cli_model_close(&m);
  trove_store_close(st);
  return rc;
}

int cmd_reprocess(const cli *c, int argc, char **argv) {
  if (cli_wants_help(argc, argv, usage_reprocess))
    return CLI_OK;
  const char *name = NULL;
  bool no_wait = false;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--no-wait") == 0)
      no_wait = true;
    else if (argv[i][0] == '-' || name)
      return cli_usage_error(usage_reprocess, "unexpected argument \"%s\"", argv[i]);
    else
      name = argv[i];
  }
  trove_store *st = NULL;
  cli_model m = {0};
  int rc = cli_open(c, &st);
  if (rc || (rc = cli_scan_lock(st, no_wait)) || (rc = cli_model_open(c, st, false, false, &m))) {
    trove_store_close(st);
    return rc;
  }
  trove_scan_report rep;
  trove_err e = {0};
  trove_scan_opts o = {.embedder = m.embedder, .vectors = m.vectors, .no_wait = no_wait};
  int trc = trove_reprocess(st, name, &o, &rep, &e);
  trove_scan_report_print(&rep, "reprocess", stdout);
  cli_model_close(&m);
  trove_store_close(st);
  return trc ? cli_fail(&e, trc) : CLI_OK;
}
