/* cmd_source.c: `trove source add|list|remove`. An fs source's location is
 * stored as an absolute path (the walker yields absolute paths, and a scan
 * run from another directory must find the same files); its --glob and
 * --exclude lists become the JSON config scan_source.c reads. */
#include "cli.h"
#include "scan.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const char usage_add[] =
    "trove source add NAME TYPE LOCATION [--glob G]... [--exclude G]...\n"
    "  TYPE: fs (a directory), chromium-history, chromium-bookmarks, firefox (a profile directory)";
static const char usage_list[] = "trove source list";
static const char usage_remove[] =
    "trove source remove NAME\n"
    "  waits for a scan of the database that is running to finish first";
static const char usage[] = "trove source add|list|remove ... (see trove source add --help)";

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
  char *config = NULL, abs[PATH_MAX];
  int rc = build_config(argc, argv, &config);
  if (rc)
    return rc;
  if (strcmp(type, "fs") != 0 && config && strcmp(config, "{\"include\":[],\"exclude\":[]}") != 0) {
    trove_free(config);
    return cli_usage_error(usage_add, "--glob and --exclude apply to fs sources only");
  }
  struct stat sb;
  if (!realpath(argv[3], abs) || stat(abs, &sb) != 0) {
    trove_term_line(stderr, "trove: %s does not exist; give the %s to index", argv[3],
                    strcmp(type, "fs") == 0 ? "directory" : "browser profile directory");
    trove_free(config);
    return CLI_ERR;
  }
  trove_store *st = NULL;
  trove_err e = {0};
  int64_t id = 0;
  if ((rc = cli_open(c, &st)) == CLI_OK) {
    int trc = trove_store_source_add(st, name, type, abs, config, &id, &e);
    rc = trc ? cli_fail(&e, trc) : CLI_OK;
    if (trc == 0)
      trove_term_line(stdout, "added source %s (%s) at %s", name, type, abs);
  }
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
  if (argc > 1)
    return cli_usage_error(usage_list, "unexpected argument \"%s\"", argv[1]);
  trove_store *st = NULL;
  trove_store_source *v = NULL;
  size_t n = 0;
  trove_err e = {0};
  int rc = cli_open(c, &st);
  int trc = rc ? 0 : trove_store_source_list(st, &v, &n, &e);
  if (trc)
    rc = cli_fail(&e, trc);
  for (size_t i = 0; rc == CLI_OK && i < n; i++) {
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
  if (rc == CLI_OK && n == 0)
    printf("no sources; add one with: trove source add NAME fs DIRECTORY\n");
  trove_store_sources_free(v, n);
  trove_store_close(st);
  return rc;
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
  int trc = trove_vectors_remove_source(m.vectors, st, argv[1], &e);
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
    return cli_usage_error(usage, "source needs add, list or remove");
  if (strcmp(argv[1], "add") == 0)
    return source_add(c, argc - 1, argv + 1);
  if (strcmp(argv[1], "list") == 0)
    return source_list(c, argc - 1, argv + 1);
  if (strcmp(argv[1], "remove") == 0)
    return source_remove(c, argc - 1, argv + 1);
  if (cli_wants_help(argc, argv, usage))
    return CLI_OK;
  return cli_usage_error(usage, "unknown source command \"%s\"", argv[1]);
}
