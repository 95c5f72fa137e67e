/* cmd_source.c: `trove source add|list|edit|remove`. A source's location is
 * checked for its type and against the other sources, and stored as an
 * absolute path (the walker yields absolute paths, and a scan run from
 * another directory must find the same files): trove_scan_source_add. Its
 * --glob and --exclude lists become the JSON config scan_source.c reads;
 * `edit` changes them and rescans what the change affects
 * (trove_scan_source_edit). */
#include "cli.h"
#include "scan.h"
#include "sources.h" /* trove_source_check_location */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const char usage_add[] =
    "trove source add NAME TYPE LOCATION [--glob G]... [--exclude G]...\n"
    "  TYPE: fs (a directory), chromium-history, chromium-bookmarks, firefox (a profile directory)";
static const char usage_list[] =
    "trove source list [--names]\n"
    "  --names: only the names, one a line, of an existing database (for shell completion)";
static const char usage_edit[] =
    "trove source edit NAME [--glob G]... [--exclude G]... [--no-glob] [--no-exclude] "
    "[--no-wait]\n"
    "  changes an fs source's globs: the --glob options given replace its include globs\n"
    "  (--no-glob: every file), the --exclude options its exclude globs (--no-exclude: none);\n"
    "  a list not given stays. Then adds the files now selected, deletes the items of files\n"
    "  no longer selected, and leaves the others as they are\n"
    "  --no-wait: when another scan of the database is running, exit with code 3";
static const char usage_remove[] =
    "trove source remove NAME\n"
    "  waits for a scan of the database that is running to finish first";
static const char usage[] =
    "trove source add|list|edit|remove ... (see trove source add --help)";

/* Collects the --glob/--exclude options of argv[4..) into the config. */
static int build_config(int argc, char **argv, char **config) {
  const char **inc = trove_calloc((size_t)argc, sizeof *inc), **exc = trove_calloc((size_t)argc, sizeof *exc);
  size_t ni = 0, ne = 0;
  int rc = inc && exc ? CLI_OK : CLI_ERR;
  for (int i = 4; rc == CLI_OK && i < argc; i++) {
    bool is_glob = strcmp(argv[i], "--glob") == 0, is_excl = strcmp(argv[i], "--exclude") == 0;
    if (!is_glob && !is_excl)
      rc = cli_usage_error(usage_add, "unexpected argument \"%s\"", argv[i]);
    else if (i + 1 == argc)
      rc = cli_usage_error(usage_add, "%s needs a glob", argv[i]);
    else if (is_glob)
      inc[ni++] = argv[++i];
    else
      exc[ne++] = argv[++i];
  }
  trove_err e = {0};
  int trc = 0;
  if (rc == CLI_OK && (trc = trove_scan_fs_config(inc, ni, exc, ne, config, &e)) != 0)
    rc = trc == TROVE_EINVAL ? cli_usage_error(usage_add, "%s", e.msg) : cli_fail(&e, trc);
  trove_free(inc);
  trove_free(exc);
  return rc;
}

static int source_add(const cli *c, int argc, char **argv) {
  if (cli_wants_help(argc, argv, usage_add))
    return CLI_OK;
  if (argc < 4)
    return cli_usage_error(usage_add, "source add needs NAME, TYPE and LOCATION");
  const char *name = argv[1], *type = argv[2];
  if (!trove_scan_type_known(type))
    return cli_usage_error(usage_add, "unknown source type \"%s\"", type);
  char *config = NULL;
  int rc = build_config(argc, argv, &config);
  if (rc)
    return rc;
  if (strcmp(type, "fs") != 0 && config && strcmp(config, "{\"include\":[],\"exclude\":[]}") != 0) {
    trove_free(config);
    return cli_usage_error(usage_add, "--glob and --exclude apply to fs sources only");
  }
  trove_store *st = NULL;
  trove_err e = {0};
  char *abs = NULL;
  /* checked before the database is opened, which creates it */
  int trc = trove_source_check_location(type, argv[3], &e);
  rc = trc ? cli_fail(&e, trc) : cli_open(c, &st);
  if (rc == CLI_OK) {
    trc = trove_scan_source_add(st, name, type, argv[3], config, &abs, &e);
    rc = trc ? cli_fail(&e, trc) : CLI_OK;
    if (trc == 0)
      trove_term_line(stdout, "added source %s (%s) at %s", name, type, abs);
  }
  trove_free(abs);
  trove_store_close(st);
  trove_free(config);
  return rc;
}

static const char *status_name(trove_source_status s) {
  return s == TROVE_SOURCE_READY ? "ready" : s == TROVE_SOURCE_INDEXING ? "indexing" : "error";
}

static int source_list(const cli *c, int argc, char **argv) {
  if (cli_wants_help(argc, argv, usage_list))
    return CLI_OK;
  bool names = argc == 2 && strcmp(argv[1], "--names") == 0;
  if (argc > 1 && !names)
    return cli_usage_error(usage_list, "unexpected argument \"%s\"", argv[1]);
  trove_store *st = NULL;
  trove_store_source *v = NULL;
  size_t n = 0;
  trove_err e = {0};
  int rc = names ? cli_open_existing(c, &st) : cli_open(c, &st);
  int trc = rc ? 0 : trove_store_source_list(st, &v, &n, &e);
  if (trc)
    rc = cli_fail(&e, trc);
  for (size_t i = 0; names && rc == CLI_OK && i < n; i++)
    trove_term_line(stdout, "%s", v[i].name);
  for (size_t i = 0; !names && rc == CLI_OK && i < n; i++) {
    char when[32] = "never";
    time_t t = (time_t)v[i].last_scan_at;
    struct tm tm;
    if (t && localtime_r(&t, &tm))
      strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
    trove_term_line(stdout, "%-16s %-18s %-8s %8lld items  last scan %s  %s", v[i].name,
                    v[i].type, status_name(v[i].status), (long long)v[i].scanned, when,
                    v[i].location);
    if (v[i].status_msg && v[i].status_msg[0])
      trove_term_line(stdout, "%16s last error: %s", "", v[i].status_msg);
  }
  if (rc == CLI_OK && n == 0 && !names)
    printf("no sources; add one with: trove source add NAME fs DIRECTORY\n");
  trove_store_sources_free(v, n);
  trove_store_close(st);
  return rc;
}

/* Parses the options of `source edit NAME` into g, whose lists inc and
 * exc (argc long each) hold pointers into argv, and *no_wait; checks the
 * globs. CLI_OK or CLI_USAGE. */
static int edit_args(int argc, char **argv, const char **inc, const char **exc,
                     trove_scan_globs *g, bool *no_wait) {
  for (int i = 2; i < argc; i++) {
    bool is_glob = strcmp(argv[i], "--glob") == 0, is_excl = strcmp(argv[i], "--exclude") == 0;
    if (strcmp(argv[i], "--no-wait") == 0) {
      *no_wait = true;
    } else if (strcmp(argv[i], "--no-glob") == 0) {
      g->set_include = true;
    } else if (strcmp(argv[i], "--no-exclude") == 0) {
      g->set_exclude = true;
    } else if (!is_glob && !is_excl) {
      return cli_usage_error(usage_edit, "unexpected argument \"%s\"", argv[i]);
    } else if (i + 1 == argc) {
      return cli_usage_error(usage_edit, "%s needs a glob", argv[i]);
    } else if (is_glob) {
      inc[g->n_include++] = argv[++i];
      g->set_include = true;
    } else {
      exc[g->n_exclude++] = argv[++i];
      g->set_exclude = true;
    }
  }
  g->include = inc, g->exclude = exc;
  if (!g->set_include && !g->set_exclude)
    return cli_usage_error(usage_edit, "source edit needs --glob, --exclude, --no-glob or "
                           "--no-exclude");
  char *config = NULL;
  trove_err e = {0};
  int trc = trove_scan_fs_config(inc, g->n_include, exc, g->n_exclude, &config, &e);
  trove_free(config);
  return trc == TROVE_EINVAL ? cli_usage_error(usage_edit, "%s", e.msg)
         : trc               ? cli_fail(&e, trc)
                             : CLI_OK;
}

/* Runs the edit: the rescan's report on stdout, as a scan's. */
static int run_edit(const cli *c, const char *name, const trove_scan_globs *g, bool no_wait) {
  trove_store *st = NULL;
  cli_model m = {0};
  int rc = cli_open_existing(c, &st);
  if (rc || (rc = cli_scan_lock(st, no_wait)) || (rc = cli_model_open(c, st, false, false, &m))) {
    trove_store_close(st);
    return rc;
  }
  trove_scan_opts o = {.embedder = m.embedder, .vectors = m.vectors, .no_wait = no_wait};
  trove_scan_report rep;
  trove_err e = {0};
  int trc = trove_scan_source_edit(st, name, g, &o, &rep, &e);
  char what[128];
  snprintf(what, sizeof what, "edit %s", name);
  if (trc == 0 || rep.seen)
    trove_scan_report_print(&rep, what, stdout);
  fflush(stdout);
  cli_model_close(&m);
  trove_store_close(st);
  return trc ? cli_fail(&e, trc) : CLI_OK;
}

static int source_edit(const cli *c, int argc, char **argv) {
  if (cli_wants_help(argc, argv, usage_edit))
    return CLI_OK;
  if (argc < 2 || argv[1][0] == '-')
    return cli_usage_error(usage_edit, "source edit needs a NAME");
  const char **inc = trove_calloc((size_t)argc, sizeof *inc);
  const char **exc = trove_calloc((size_t)argc, sizeof *exc);
  trove_scan_globs g = {0};
  bool no_wait = false;
  int rc = inc && exc ? edit_args(argc, argv, inc, exc, &g, &no_wait) : CLI_ERR;
  if (!inc || !exc)
    fputs("trove: out of memory\n", stderr);
  if (rc == CLI_OK)
    rc = run_edit(c, argv[1], &g, no_wait);
  trove_free(inc);
  trove_free(exc);
  return rc;
}

/* Removes the source and, with v, its passages from the vector index, which
 * is saved; without v the index is rebuilt when next opened. */
static int remove_source(trove_store *st, trove_vectors *v, const char *name, trove_err *e) {
  if (!v)
    return trove_store_source_remove(st, name, NULL, e);
  trove_vectors_changes ch = {0};
  int rc = trove_store_begin(st, e);
  rc = rc ? rc : trove_vectors_begin(v, st, e);
  rc = rc ? rc : trove_store_source_remove(st, name, &ch.removed, e);
  if (rc)
    trove_store_rollback(st);
  else
    rc = trove_vectors_commit(v, st, &ch, e);
  trove_vectors_changes_free(&ch);
  return rc ? rc : trove_vectors_save(v, st, e);
}

static int source_remove(const cli *c, int argc, char **argv) {
  if (cli_wants_help(argc, argv, usage_remove))
    return CLI_OK;
  if (argc != 2)
    return cli_usage_error(usage_remove, "source remove needs exactly one NAME");
  trove_store *st = NULL;
  trove_err e = {0};
  cli_model m = {0};
  int rc = cli_open(c, &st);
  /* the scan lock: a scan of the source running meanwhile would report
   * items it stored that the removal then deleted */
  if (rc || (rc = cli_scan_lock(st, false)) || (rc = cli_model_open(c, st, false, false, &m))) {
    trove_store_close(st);
    return rc;
  }
  int trc = remove_source(st, m.vectors, argv[1], &e);
  if (trc)
    rc = cli_fail(&e, trc);
  else
    trove_term_line(stdout, "removed source %s", argv[1]);
  cli_model_close(&m);
  trove_store_close(st);
  return rc;
}

int cmd_source(const cli *c, int argc, char **argv) {
  if (argc < 2)
    return cli_usage_error(usage, "source needs add, list, edit or remove");
  if (strcmp(argv[1], "add") == 0)
    return source_add(c, argc - 1, argv + 1);
  if (strcmp(argv[1], "list") == 0)
    return source_list(c, argc - 1, argv + 1);
  if (strcmp(argv[1], "remove") == 0)
    return source_remove(c, argc - 1, argv + 1);
  if (strcmp(argv[1], "edit") == 0)
    return source_edit(c, argc - 1, argv + 1);
  if (cli_wants_help(argc, argv, usage))
    return CLI_OK;
  return cli_usage_error(usage, "unknown source command \"%s\"", argv[1]);
}
