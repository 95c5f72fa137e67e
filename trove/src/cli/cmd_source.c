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

static const char usage_add[] =
    "trove source add NAME TYPE LOCATION [--glob G]... [--exclude G]...\n"
    "                 [--exclude-domain D]... [--retention keep|mirror]\n"
    "  TYPE fs:                 LOCATION is a directory; every file under it whose path\n"
    "                           matches a --glob (default: all) and no --exclude\n"
    "  TYPE chromium-history, chromium-bookmarks: LOCATION is a Chromium or Chrome\n"
    "                           profile directory (~/.config/chromium/Default), the one\n"
    "                           holding History and Bookmarks\n"
    "  TYPE firefox:            LOCATION is a Firefox profile directory (the one holding\n"
    "                           places.sqlite), e.g. ~/.mozilla/firefox/xxxx.default\n"
    "  --exclude-domain D:      browser sources: never index or fetch pages of host D or\n"
    "                           its subdomains (banking, mail, an intranet); repeatable\n"
    "  --retention keep|mirror: history sources: a page gone from the browser's history\n"
    "                           while last visited before the browser's expiry horizon\n"
    "                           (Chromium: 90 days; Firefox: the oldest visit it still\n"
    "                           holds) was expired by the browser: keep (the default)\n"
    "                           keeps it, marked expired; mirror deletes it. A page gone\n"
    "                           while more recent was deleted by you: deleted either way";
static const char usage_list[] =
    "trove source list [--json | --names]\n"
    "  each source: type, status (ready, indexing, interrupted, error), items now (and\n"
    "  of them those kept after the browser expired them), last scan, location, and a\n"
    "  browser source's excluded domains and retention\n"
    "  --names: only the names, one a line (for shell completion)";
static const char usage_edit[] =
    "trove source edit NAME [--glob G]... [--exclude G]... [--no-glob] [--no-exclude] "
    "[--no-wait]\n"
    "       trove source edit NAME [--exclude-domain D]... [--no-exclude-domain]\n"
    "                         [--retention keep|mirror] [--no-wait]\n"
    "  changes an fs source's globs: the --glob options given replace its include globs\n"
    "  (--no-glob: every file), the --exclude options its exclude globs (--no-exclude: none);\n"
    "  a list not given stays. Then adds the files now selected, deletes the items of files\n"
    "  no longer selected, and leaves the others as they are\n"
    "  changes a browser source's excluded domains (the --exclude-domain options given\n"
    "  replace the list; --no-exclude-domain empties it) and deletes its items on the\n"
    "  domains now excluded at once, or its retention (see source add), which applies\n"
    "  from the next scan; nothing is fetched\n"
    "  --no-wait: when another scan of the database is running, exit with code 3";
static const char usage_remove[] =
    "trove source remove NAME\n"
    "  waits for a scan of the database that is running to finish first";
static const char usage[] =
    "trove source add NAME TYPE LOCATION [--glob G]... [--exclude G]...\n"
    "                 [--exclude-domain D]... [--retention keep|mirror]\n"
    "       trove source list [--json]\n"
    "       trove source edit NAME [--glob G]... [--exclude G]... [--no-glob] [--no-exclude]\n"
    "       trove source edit NAME [--exclude-domain D]... [--no-exclude-domain]\n"
    "                         [--retention keep|mirror]\n"
    "       trove source remove NAME\n"
    "  trove help source add (or list, edit, remove) for each one's options";

/* The options of source add, as cli_parse finds them (the lists hold
 * pointers into argv). */
typedef struct globs {
  const char **inc, **exc, **dom;
  size_t ni, ne, nd;
  trove_retention retention;
} globs;

enum { A_GLOB, A_EXCLUDE, A_EXCLUDE_DOMAIN, A_RETENTION };
static const cli_opt add_opts[] = {[A_GLOB] = {"glob", 0, true},
                                   [A_EXCLUDE] = {"exclude", 0, true},
                                   [A_EXCLUDE_DOMAIN] = {"exclude-domain", 0, true},
                                   [A_RETENTION] = {"retention", 0, true},
                                   {0}};

/* Parses --retention's value into *r, or says what it takes. */
static int parse_retention(const char *usage, const char *val, trove_retention *r) {
  return trove_retention_parse(val, r) == 0
             ? CLI_OK
             : cli_usage_error(usage, "--retention takes keep or mirror, not \"%s\"", val);
}

static int on_glob(void *ctx, int id, const char *val) {
  globs *g = ctx;
  if (id == A_GLOB)
    g->inc[g->ni++] = val;
  else if (id == A_EXCLUDE)
    g->exc[g->ne++] = val;
  else if (id == A_EXCLUDE_DOMAIN)
    g->dom[g->nd++] = val;
  else
    return parse_retention(usage_add, val, &g->retention);
  return CLI_OK;
}

/* Checks that the options given fit the source's type. */
static int check_add_type(const globs *g, const char *type) {
  if (strcmp(type, "fs") != 0 && (g->ni || g->ne))
    return cli_usage_error(usage_add, "--glob and --exclude apply to fs sources only");
  if (!trove_scan_type_web(type) && g->nd)
    return cli_usage_error(usage_add, "--exclude-domain applies to browser sources "
                           "(chromium-history, chromium-bookmarks, firefox) only");
  if (!trove_scan_type_history(type) && g->retention != TROVE_RETENTION_DEFAULT)
    return cli_usage_error(usage_add, "--retention applies to history sources "
                           "(chromium-history, firefox) only");
  return CLI_OK;
}

/* Parses source add's arguments: NAME TYPE LOCATION to argv[1..3], the
 * options into the config. */
static int build_config(cli *c, int argc, char **argv, char **config) {
  const char **inc = trove_calloc((size_t)argc, sizeof *inc), **exc = trove_calloc((size_t)argc, sizeof *exc);
  const char **dom = trove_calloc((size_t)argc, sizeof *dom);
  globs g = {.inc = inc, .exc = exc, .dom = dom};
  int npos = 0;
  int rc = inc && exc && dom ? CLI_OK : cli_fail(NULL, TROVE_ENOMEM);
  rc = rc ? rc : cli_parse(c, usage_add, add_opts, on_glob, &g, argc, argv, &npos);
  if (rc == CLI_OK && npos < 3)
    rc = cli_usage_error(usage_add, "source add needs NAME, TYPE and LOCATION");
  if (rc == CLI_OK && npos > 3)
    rc = cli_usage_error(usage_add, "unexpected argument \"%s\"", argv[4]);
  if (rc == CLI_OK && !trove_scan_type_known(argv[2]))
    rc = cli_usage_error(usage_add, "unknown source type \"%s\"", argv[2]);
  rc = rc ? rc : check_add_type(&g, argv[2]);
  trove_scan_config cfg = {.include = inc, .n_include = g.ni, .exclude = exc,
                           .n_exclude = g.ne, .exclude_domains = dom,
                           .n_exclude_domains = g.nd, .retention = g.retention};
  trove_err e = {0};
  int trc = 0;
  if (rc == CLI_OK && (trc = trove_scan_config_build(&cfg, config, &e)) != 0)
    rc = trc == TROVE_EINVAL ? cli_usage_error(usage_add, "%s", e.msg) : cli_fail(&e, trc);
  trove_free(inc);
  trove_free(exc);
  trove_free(dom);
  return rc;
}

static int source_add(cli *c, int argc, char **argv) {
  char *config = NULL;
  int rc = build_config(c, argc, argv, &config);
  if (rc)
    return rc;
  const char *name = argv[1], *type = argv[2];
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

/* The same as a line under the source's, when there is something to say. */
static void web_config_text(const trove_store_source *s) {
  trove_scan_web_config w;
  if (!trove_scan_type_web(s->type) || trove_scan_web_config_parse(s->config, &w, NULL) != 0)
    return;
  trove_buf b = {0};
  for (size_t i = 0; i < w.n_exclude_domains; i++)
    trove_buf_printf(&b, "%s%s", i ? ", " : "", w.exclude_domains[i]);
  if (trove_scan_type_history(s->type) || b.len)
    trove_term_line(stdout, "%16s retention %s%s%s", "",
                    trove_scan_type_history(s->type) ? trove_retention_name(w.retention) : "-",
                    b.len ? "; excludes " : "", b.len ? b.data : "");
  trove_buf_free(&b);
  trove_scan_web_config_free(&w);
}

static int list_json(const trove_store_source *v, size_t n) {
  trove_buf b = {0};
  trove_json_out o = {.b = &b};
  trove_json_out_array(&o, NULL);
  for (size_t i = 0; i < n; i++) {
    trove_json_out_object(&o, NULL);
    trove_json_out_str(&o, "name", v[i].name);
    trove_json_out_str(&o, "type", v[i].type);
    trove_json_out_str(&o, "location", v[i].location);
    trove_json_out_str(&o, "status", trove_source_status_name(v[i].status));
    trove_json_out_str(&o, "error", v[i].status_msg);
    trove_json_out_int(&o, "items", v[i].items);
    trove_json_out_int(&o, "expired", v[i].expired);
    trove_scan_web_config_json(&o, v[i].type, v[i].config);
    trove_json_out_int(&o, "last_scan_seen", v[i].scanned);
    if (v[i].last_scan_at)
      trove_json_out_int(&o, "last_scan_at", v[i].last_scan_at);
    else
      trove_json_out_str(&o, "last_scan_at", NULL);
    trove_json_out_end(&o);
  }
  trove_json_out_end(&o);
  return cli_json_print(&o, 0);
}

static void list_text(const trove_store_source *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char when[32];
    char expired[48] = "";
    if (v[i].expired)
      snprintf(expired, sizeof expired, " (%lld expired)", (long long)v[i].expired);
    trove_term_line(stdout, "%-16s %-18s %-11s %8lld items%s  last scan %s  %s", v[i].name,
                    v[i].type, trove_source_status_name(v[i].status), (long long)v[i].items,
                    expired, cli_format_time(v[i].last_scan_at, when), v[i].location);
    web_config_text(&v[i]);
    if (v[i].status == TROVE_SOURCE_INTERRUPTED)
      trove_term_line(stdout, "%16s its last scan stopped before the end; trove scan %s "
                      "completes it", "", v[i].name);
    else if (v[i].status_msg && v[i].status_msg[0])
      trove_term_line(stdout, "%16s last error: %s", "", v[i].status_msg);
  }
  if (n == 0)
    printf("no sources; add one with: trove source add NAME fs DIRECTORY\n");
}

static const cli_opt list_opts[] = {{"json", 0, false}, {"names", 0, false}, {0}};

static int on_list_opt(void *ctx, int id, const char *val) {
  (void)val;
  ((bool *)ctx)[id] = true;
  return CLI_OK;
}

static int source_list(cli *c, int argc, char **argv) {
  bool flag[2] = {false, false}; /* --json, --names */
  int npos = 0;
  int rc = cli_parse(c, usage_list, list_opts, on_list_opt, flag, argc, argv, &npos);
  if (rc)
    return rc;
  if (flag[0] && flag[1])
    return cli_usage_error(usage_list, "--json and --names do not go together");
  if (npos > 0)
    return cli_usage_error(usage_list, "unexpected argument \"%s\"", argv[1]);
  trove_store *st = NULL;
  trove_store_source *v = NULL;
  size_t n = 0;
  trove_err e = {0};
  rc = cli_open_existing(c, &st);
  int trc = rc ? 0 : trove_store_source_list(st, &v, &n, &e);
  if (trc)
    rc = cli_fail(&e, trc);
  else if (rc == CLI_OK && flag[0])
    rc = list_json(v, n);
  for (size_t i = 0; flag[1] && rc == CLI_OK && i < n; i++)
    trove_term_line(stdout, "%s", v[i].name);
  if (rc == CLI_OK && !flag[0] && !flag[1])
    list_text(v, n);
  trove_store_sources_free(v, n);
  trove_store_close(st);
  return rc;
}

/* The options of `source edit NAME`, as cli_parse finds them: the
 * lists inc and exc (argc long each) hold pointers into argv. */
typedef struct edit_args {
  const char **inc, **exc, **dom;
  trove_scan_globs g;
  trove_scan_web_edit w;
  bool no_wait;
} edit_args;

enum { E_GLOB, E_EXCLUDE, E_NO_GLOB, E_NO_EXCLUDE, E_NO_WAIT, E_EXCLUDE_DOMAIN,
       E_NO_EXCLUDE_DOMAIN, E_RETENTION };
static const cli_opt edit_opts[] = {
    [E_GLOB] = {"glob", 0, true},         [E_EXCLUDE] = {"exclude", 0, true},
    [E_NO_GLOB] = {"no-glob", 0, false},  [E_NO_EXCLUDE] = {"no-exclude", 0, false},
    [E_NO_WAIT] = {"no-wait", 0, false},
    [E_EXCLUDE_DOMAIN] = {"exclude-domain", 0, true},
    [E_NO_EXCLUDE_DOMAIN] = {"no-exclude-domain", 0, false},
    [E_RETENTION] = {"retention", 0, true}, {0}};

static int on_edit_opt(void *ctx, int id, const char *val) {
  edit_args *a = ctx;
  if (id == E_EXCLUDE_DOMAIN || id == E_NO_EXCLUDE_DOMAIN) {
    if (val)
      a->dom[a->w.n_exclude_domains++] = val;
    a->w.set_exclude_domains = true;
    return CLI_OK;
  }
  if (id == E_RETENTION)
    return parse_retention(usage_edit, val, &a->w.retention);
  if (id == E_GLOB)
    a->inc[a->g.n_include++] = val;
  else if (id == E_EXCLUDE)
    a->exc[a->g.n_exclude++] = val;
  if (id == E_GLOB || id == E_NO_GLOB)
    a->g.set_include = true;
  else if (id == E_EXCLUDE || id == E_NO_EXCLUDE)
    a->g.set_exclude = true;
  else
    a->no_wait = true;
  return CLI_OK;
}

/* Checks the parsed options of `source edit`: something to change, and
 * globs that parse. CLI_OK, CLI_USAGE or CLI_ERR. */
static int check_edit(edit_args *a) {
  a->g.include = a->inc, a->g.exclude = a->exc, a->w.exclude_domains = a->dom;
  bool web = a->w.set_exclude_domains || a->w.retention != TROVE_RETENTION_DEFAULT;
  if (web && (a->g.set_include || a->g.set_exclude))
    return cli_usage_error(usage_edit, "globs apply to fs sources, --exclude-domain and "
                           "--retention to browser sources: give one kind");
  if (web) {
    char *config = NULL; /* the domains' check */
    trove_err e = {0};
    trove_scan_config cfg = {.exclude_domains = a->dom,
                             .n_exclude_domains = a->w.n_exclude_domains};
    int trc = trove_scan_config_build(&cfg, &config, &e);
    trove_free(config);
    return trc == TROVE_EINVAL ? cli_usage_error(usage_edit, "%s", e.msg)
           : trc               ? cli_fail(&e, trc)
                               : CLI_OK;
  }
  if (!a->g.set_include && !a->g.set_exclude)
    return cli_usage_error(usage_edit, "source edit needs --glob, --exclude, --no-glob, "
                           "--no-exclude, --exclude-domain, --no-exclude-domain or "
                           "--retention");
  char *config = NULL;
  trove_err e = {0};
  int trc = trove_scan_fs_config(a->inc, a->g.n_include, a->exc, a->g.n_exclude, &config, &e);
  trove_free(config);
  return trc == TROVE_EINVAL ? cli_usage_error(usage_edit, "%s", e.msg)
         : trc               ? cli_fail(&e, trc)
                             : CLI_OK;
}

/* Opens the database for an edit: the scan lock taken and the model (and
 * its vector index) open. On failure nothing is left open. */
static int open_for_edit(cli *c, bool no_wait, trove_store **st, cli_model *m) {
  int rc = cli_open_existing(c, st);
  if (rc || (rc = cli_scan_lock(*st, no_wait)) || (rc = cli_model_open(c, *st, false, false, m))) {
    trove_store_close(*st);
    *st = NULL;
  }
  return rc;
}

/* Runs the edit: the rescan's report on stdout, as a scan's. */
static int run_edit(cli *c, const char *name, const trove_scan_globs *g, bool no_wait) {
  trove_store *st = NULL;
  cli_model m = {0};
  int rc = open_for_edit(c, no_wait, &st, &m);
  if (rc)
    return rc;
  trove_scan_opts o = {.embedder = m.embedder, .vectors = m.vectors, .no_wait = no_wait};
  trove_scan_report rep;
  trove_err e = {0};
  int trc = trove_scan_source_edit(st, name, g, &o, &rep, &e);
  char what[128];
  snprintf(what, sizeof what, "edit %s", name);
  if (trc == 0 || rep.seen)
    cli_print_scan(c, st, &rep, what, name);
  cli_model_close(&m);
  trove_store_close(st);
  return trc ? cli_fail(&e, trc) : CLI_OK;
}

/* Runs the edit of a browser source: says what it removed. */
static int run_edit_web(cli *c, const char *name, const trove_scan_web_edit *w, bool no_wait) {
  trove_store *st = NULL;
  cli_model m = {0};
  int rc = open_for_edit(c, no_wait, &st, &m);
  if (rc)
    return rc;
  trove_scan_opts o = {.vectors = m.vectors, .no_wait = no_wait};
  trove_err e = {0};
  int64_t removed = 0;
  int trc = trove_scan_source_edit_web(st, name, w, &o, &removed, &e);
  if (trc == 0)
    trove_term_line(stdout, "edited source %s: %lld items removed on excluded domains%s", name,
                    (long long)removed,
                    w->retention ? "; the retention applies from the next scan" : "");
  cli_model_close(&m);
  trove_store_close(st);
  return trc ? cli_fail(&e, trc) : CLI_OK;
}

static int source_edit(cli *c, int argc, char **argv) {
  edit_args a = {.inc = trove_calloc((size_t)argc, sizeof *a.inc),
                 .exc = trove_calloc((size_t)argc, sizeof *a.exc),
                 .dom = trove_calloc((size_t)argc, sizeof *a.dom)};
  int npos = 0;
  int rc = a.inc && a.exc && a.dom ? CLI_OK : cli_fail(NULL, TROVE_ENOMEM);
  rc = rc ? rc : cli_parse(c, usage_edit, edit_opts, on_edit_opt, &a, argc, argv, &npos);
  if (rc == CLI_OK && npos != 1)
    rc = npos ? cli_usage_error(usage_edit, "unexpected argument \"%s\"", argv[2])
              : cli_usage_error(usage_edit, "source edit needs a NAME");
  rc = rc ? rc : check_edit(&a);
  if (rc == CLI_OK && (a.w.set_exclude_domains || a.w.retention != TROVE_RETENTION_DEFAULT))
    rc = run_edit_web(c, argv[1], &a.w, a.no_wait);
  else if (rc == CLI_OK)
    rc = run_edit(c, argv[1], &a.g, a.no_wait);
  trove_free(a.inc);
  trove_free(a.exc);
  trove_free(a.dom);
  return rc;
}

static int source_remove(cli *c, int argc, char **argv) {
  int npos = 0;
  int rc = cli_parse(c, usage_remove, NULL, NULL, NULL, argc, argv, &npos);
  if (rc)
    return rc;
  if (npos != 1)
    return cli_usage_error(usage_remove, "source remove needs exactly one NAME");
  trove_store *st = NULL;
  trove_err e = {0};
  cli_model m = {0};
  rc = cli_open_existing(c, &st);
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

int cmd_source(cli *c, int argc, char **argv) {
  int i = argc; /* the subcommand, after any global options */
  int rc = cli_parse_head(c, usage, NULL, NULL, NULL, argc, argv, &i);
  if (rc)
    return rc;
  if (i == argc)
    return cli_usage_error(usage, "source needs add, list, edit or remove");
  if (strcmp(argv[i], "add") == 0)
    return source_add(c, argc - i, argv + i);
  if (strcmp(argv[i], "list") == 0)
    return source_list(c, argc - i, argv + i);
  if (strcmp(argv[i], "remove") == 0)
    return source_remove(c, argc - i, argv + i);
  if (strcmp(argv[i], "edit") == 0)
    return source_edit(c, argc - i, argv + i);
  return cli_usage_error(usage, "unknown source command \"%s\"", argv[i]);
}
