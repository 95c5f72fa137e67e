/* cmd_scan.c: `trove scan [NAME] [--force|--reembed]` and `trove reprocess [NAME]`,
 * thin drivers of the pipelines in src/scan: progress on stderr, a short
 * summary for a person on stdout (what changed, what was skipped and where
 * to see it, what needs attention). With -v the full report follows: the
 * per-stage items, times and bottleneck (trove_scan_report_print), and
 * every item the scan skipped or failed, by path or URL with its reason.
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
    "trove scan [NAME] [--force | --reembed] [--no-wait]\n"
    "  --force:   re-read every item, and delete what is gone even when the source\n"
    "             yields nothing at all (which otherwise keeps everything: an unmounted drive?);\n"
    "             only items whose text changed are embedded again\n"
    "  --reembed: --force, and embed every item again, changed or not\n"
    "  --no-wait: when another scan of the database is running, exit with code 3\n"
    "             instead of waiting for it to finish\n"
    "  -v:        the per-stage table, and each item skipped or failed, with the reason\n"
    "  $TROVE_FETCH_TIMEOUT: seconds one web page may take (default 30)";
static const char usage_reprocess[] =
    "trove reprocess [NAME] [--no-wait]\n"
    "  re-extracts the content stored for every item (of NAME, or all sources) with\n"
    "  this trove's extractor, without reading files or fetching pages again, and\n"
    "  re-embeds the items whose text changed: what to run after upgrading trove\n"
    "  --no-wait: when another scan of the database is running, exit with code 3\n"
    "             instead of waiting for it to finish";

/* The summary a person reads: counts, then only what needs attention. */
static void print_summary(const trove_scan_report *rep, const char *what, const char *name) {
  trove_term_line(stdout, "%s: %lld new, %lld changed, %lld unchanged, %lld skipped, %lld "
                  "deleted (%.1f s)", what, (long long)rep->added, (long long)rep->changed,
                  (long long)rep->unchanged, (long long)rep->skipped, (long long)rep->deleted,
                  rep->seconds);
  if (rep->embedded)
    printf("  embedded %lld passages of %lld items\n", (long long)rep->passages,
           (long long)rep->embedded);
  if (rep->n_reasons) {
    fputs("  skipped:", stdout);
    for (size_t i = 0; i < rep->n_reasons; i++)
      printf("%s %s %lld", i ? "," : "", rep->reasons[i].name, (long long)rep->reasons[i].count);
    trove_term_line(stdout, " (trove skipped%s%s, or scan -v, names them)", name ? " " : "",
                    name ? name : "");
  }
  trove_scan_report_notes(rep, stdout);
}

/* -v: the items the scan of `name` just skipped or failed, by path. */
static void print_skipped_now(trove_store *st, const char *name) {
  trove_store_source s = {0};
  trove_store_skip *v = NULL;
  size_t n = 0;
  trove_err e = {0};
  if (trove_store_source_get(st, name, &s, &e) == 0 &&
      trove_store_items_skipped(st, s.id, s.scan_version, &v, &n, &e) == 0)
    cli_print_skips(stdout, v, n);
  else
    trove_term_line(stderr, "trove: warning: %s", e.msg);
  trove_store_skips_free(v, n);
  trove_store_source_clear(&s);
}

void cli_print_scan(const cli *c, trove_store *st, const trove_scan_report *rep, const char *what,
                    const char *name) {
  if (c->verbose) {
    trove_scan_report_print(rep, what, stdout);
    if (name)
      print_skipped_now(st, name);
  } else {
    print_summary(rep, what, name);
  }
  fflush(stdout);
}

static int scan_one(const cli *c, trove_store *st, const char *name, const trove_scan_opts *o) {
  trove_scan_report rep;
  trove_err e = {0};
  int rc = trove_scan_source(st, name, o, &rep, &e);
  char what[128];
  snprintf(what, sizeof what, "scan %s", name);
  if (rc == 0 || rep.seen)
    cli_print_scan(c, st, &rep, what, name);
  return rc ? cli_fail(&e, rc) : CLI_OK;
}

typedef struct scan_args {
  bool force, reembed, no_wait;
} scan_args;

enum { S_FORCE, S_REEMBED, S_NO_WAIT };
static const cli_opt scan_opts[] = {
    [S_FORCE] = {"force", 0, false}, [S_REEMBED] = {"reembed", 0, false},
    [S_NO_WAIT] = {"no-wait", 0, false}, {0}};

static int on_scan_opt(void *ctx, int id, const char *val) {
  (void)val;
  scan_args *a = ctx;
  if (id == S_FORCE)
    a->force = true;
  else if (id == S_REEMBED)
    a->reembed = true;
  else
    a->no_wait = true;
  return CLI_OK;
}

static int on_no_wait(void *ctx, int id, const char *val) {
  (void)id, (void)val;
  ((scan_args *)ctx)->no_wait = true;
  return CLI_OK;
}

int cmd_scan(cli *c, int argc, char **argv) {
  scan_args a = {0};
  int npos = 0;
  int rc = cli_parse(c, usage_scan, scan_opts, on_scan_opt, &a, argc, argv, &npos);
  if (rc)
    return rc;
  if (npos > 1)
    return cli_usage_error(usage_scan, "unexpected argument \"%s\"", argv[2]);
  const char *name = npos ? argv[1] : NULL;
  trove_scan_opts o = {.force = a.force, .reembed = a.reembed, .no_wait = a.no_wait};
  trove_store *st = NULL;
  cli_model m = {0};
  if ((rc = cli_fetch_timeout(&o.fetch_timeout_ms)))
    return rc;
  rc = cli_open(c, &st);
  if (rc || (rc = cli_scan_lock(st, o.no_wait)) || (rc = cli_model_open(c, st, false, false, &m))) {
    trove_store_close(st);
    return rc;
  }
  o.embedder = m.embedder;
  o.vectors = m.vectors;
  if (name) {
    rc = scan_one(c, st, name, &o);
  } else {
    trove_store_source *v = NULL;
    size_t n = 0;
    trove_err e = {0};
    int trc = trove_store_source_list(st, &v, &n, &e);
    rc = trc ? cli_fail(&e, trc) : CLI_OK;
    if (rc == CLI_OK && n == 0)
      fprintf(stderr, "trove: no sources to scan; add one with: trove source add NAME fs DIRECTORY\n");
    for (size_t i = 0; i < n; i++)
      if (scan_one(c, st, v[i].name, &o) != CLI_OK)
        rc = CLI_ERR;
    trove_store_sources_free(v, n);
  }
  cli_model_close(&m);
  trove_store_close(st);
  return rc;
}

int cmd_reprocess(cli *c, int argc, char **argv) {
  scan_args a = {0};
  int npos = 0;
  static const cli_opt opts[] = {{"no-wait", 0, false}, {0}};
  int rc = cli_parse(c, usage_reprocess, opts, on_no_wait, &a, argc, argv, &npos);
  if (rc)
    return rc;
  if (npos > 1)
    return cli_usage_error(usage_reprocess, "unexpected argument \"%s\"", argv[2]);
  const char *name = npos ? argv[1] : NULL;
  trove_store *st = NULL;
  cli_model m = {0};
  rc = cli_open_existing(c, &st);
  if (rc || (rc = cli_scan_lock(st, a.no_wait)) ||
      (rc = cli_model_open(c, st, false, false, &m))) {
    trove_store_close(st);
    return rc;
  }
  trove_scan_report rep;
  trove_err e = {0};
  trove_scan_opts o = {.embedder = m.embedder, .vectors = m.vectors, .no_wait = a.no_wait};
  int trc = trove_reprocess(st, name, &o, &rep, &e);
  if (c->verbose)
    trove_scan_report_print(&rep, "reprocess", stdout);
  else
    print_summary(&rep, "reprocess", name);
  fflush(stdout);
  cli_model_close(&m);
  trove_store_close(st);
  return trc ? cli_fail(&e, trc) : CLI_OK;
}
