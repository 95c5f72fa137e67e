/* cli.h: what the `trove` command's files share. main.c reads the options
 * before the command and dispatches to one function per command group
 * (cmd_*.c); cli_args.c parses options the way git and ripgrep do (global
 * options anywhere, --opt=value, -n1, --); cli_common.c holds the other
 * helpers below.
 *
 * Exit codes, as grep and ripgrep use the first three:
 *   0 success; 1 a search (or a forget) found nothing; 2 a usage error (the usage
 *   follows on stderr); 3 another scan of the database is running and
 *   --no-wait was given, or another watch holds it; 4 any other error (one
 *   line on stderr). */
#ifndef TROVE_CLI_H
#define TROVE_CLI_H

#include "core.h"
#include "json.h"
#include "model.h"
#include "store.h"
#include "vectors.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum {
  CLI_OK = 0,
  CLI_NONE = 1,  /* search: no result */
  CLI_USAGE = 2,
  CLI_BUSY = 3,  /* --no-wait and another scan holds the lock; watch: another
                    watch holds the database */
  CLI_ERR = 4,
  CLI_HELP = -1, /* not an exit code: usage was printed on request; main exits 0 */
};

typedef enum cli_color { CLI_COLOR_AUTO = 0, CLI_COLOR_ALWAYS, CLI_COLOR_NEVER } cli_color;

/* The global options, accepted before or after the command. */
typedef struct cli {
  const char *db;    /* --db PATH; NULL: $TROVE_DB or the default path */
  const char *model; /* --model DIR; NULL: $TROVE_MODEL or the search (model.h) */
  bool no_model;     /* --no-model: keyword indexing and search only */
  const char *kernel;/* --kernel PATH; NULL: $TROVE_KERNEL, else auto (model.h) */
  bool verbose;      /* -v: how the index was opened, the scan's stage table,
                        each item a scan skipped */
  cli_color color;   /* --color WHEN; auto honours NO_COLOR */
} cli;

/* ---- options (cli_args.c) ---------------------------------------------------- */

/* One option of a command; a table of them ends with a zeroed entry. */
typedef struct cli_opt {
  const char *name; /* the long name without "--" ("mode"); NULL ends the table */
  char short_name;  /* 'n' for -n, 0 for none */
  bool value;       /* takes a value: --mode V, --mode=V, -n V, -nV */
} cli_opt;

/* Called for each command option found, in order: id is its index in the
 * table, val its value (NULL for a flag). Returns CLI_OK or an exit code,
 * having printed why (cli_usage_error). */
typedef int (*cli_opt_fn)(void *ctx, int id, const char *val);

/* Parses argv[1..argc) (argv[0] is the command's name) as POSIX and GNU
 * tools do: long options as --name V or --name=V, short ones as -n V or
 * -nV (and flags bundled: -vn1), "--" ending the options, "-" a
 * positional. The global options (struct cli) are accepted anywhere and
 * stored into c; the command's own (opts, may be NULL) go to fn. The
 * positionals are moved, in order, to argv[1..*npos]. -h or --help prints
 * the usage to stdout and returns CLI_HELP. Returns CLI_OK, CLI_HELP, or
 * CLI_USAGE (an unknown option, a missing or unexpected value, a bad
 * --kernel or --color: printed with usage) or what fn returned. */
int cli_parse(cli *c, const char *usage, const cli_opt *opts, cli_opt_fn fn, void *ctx,
              int argc, char **argv, int *npos);

/* Like cli_parse, but stops at the first positional, the command or
 * subcommand, whose index goes to *first (argc when there is none); what
 * follows it is left for the command's own cli_parse. */
int cli_parse_head(cli *c, const char *usage, const cli_opt *opts, cli_opt_fn fn, void *ctx,
                   int argc, char **argv, int *first);

/* Whether to write color (ANSI) sequences to f: --color always or never,
 * else (auto) when f is a terminal and $NO_COLOR is unset or empty
 * (no-color.org: an option given on the command line wins over it). */
bool cli_use_color(const cli *c, FILE *f);

/* ---- the model ----------------------------------------------------------------- */

/* The embedding model and the database's vector index for it. */
typedef struct cli_model {
  trove_embedder *embedder;
  trove_vectors *vectors;
} cli_model;

/* Opens the embedding model (--model) into *out on its kernel path:
 * --kernel, else $TROVE_KERNEL, else `fallback` when not NULL, else auto.
 * 0 or a TROVE_E* code with e set; *out is NULL on failure. */
int cli_embedder_open(const cli *c, const char *fallback, trove_embedder **out, trove_err *e);

/* Opens the model and its index for st into *m. When the model cannot be
 * opened and !required, warns and returns CLI_OK with m empty (keyword
 * only); when required, prints the error and returns CLI_ERR. A command
 * that embeds queries (for_queries) runs them on the fp32 path unless a
 * path was asked for: a query costs about a millisecond either way, and a
 * reduced-precision query vector moves rankings more than the same
 * rounding spread over an index (bench/RESULTS.md). */
int cli_model_open(const cli *c, trove_store *st, bool required, bool for_queries,
                   cli_model *m);
/* Closes what cli_model_open opened (nothing is saved); m is empty after. */
void cli_model_close(cli_model *m);

/* ---- the database and messages (cli_common.c) -------------------------------- */

/* Opens the database, creating it when missing: for `scan` and `source
 * add` only, the commands that put something in it. On failure prints the
 * error and returns CLI_ERR. */
int cli_open(const cli *c, trove_store **out);
/* Opens the database only when it exists: every command but `scan` and
 * `source add`. A missing one is an error (CLI_ERR) that names the path and
 * says how to make it; nothing is created, not even its directory. One that
 * cannot be written (a read-only folder, file or file system) is opened
 * read-only: reads work, and a write fails saying the database is read-only. */
int cli_open_existing(const cli *c, trove_store **out);

/* Takes st's scan lock (store.h) for a command that rewrites many items:
 * waits for another scan, saying so on stderr, or with no_wait fails at
 * once. Returns CLI_OK, CLI_BUSY (no_wait and held elsewhere) or CLI_ERR,
 * the error printed. The lock goes with trove_store_close. */
int cli_scan_lock(trove_store *st, bool no_wait);

/* Prints "trove: <msg>" for a failed call and returns CLI_ERR. */
int cli_fail(const trove_err *e, int code);

/* Prints "trove: <msg>" and the usage's synopsis (its lines before the
 * first indented by exactly two spaces) to stderr; returns CLI_USAGE. */
int cli_usage_error(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* $TROVE_FETCH_TIMEOUT, seconds one web fetch may take (a decimal, e.g.
 * 0.5, for slow links or tests), into *ms for trove_scan_opts; unset or
 * empty leaves *ms (0: the fetcher's 30 s). CLI_OK, or CLI_USAGE with the
 * reason printed when it is not a number from 0.001 to 3600. */
int cli_fetch_timeout(long *ms);

/* Parses a positive item id; false when s is not one. */
bool cli_parse_id(const char *s, int64_t *out);

/* Formats Unix seconds t as local "YYYY-MM-DD HH:MM" into buf; "never" for 0. */
const char *cli_format_time(int64_t t, char buf[32]);

/* Writes o's buffer (a finished trove_json_out, rc its result) to stdout.
 * Returns CLI_OK, or CLI_ERR with the error printed. */
int cli_json_print(trove_json_out *o, int rc);

/* Prints what a scan of source `name` (NULL: several) did to stdout: a
 * short summary, or with -v the full report (per-stage table) and each
 * item it skipped or failed. */
struct trove_scan_report;
void cli_print_scan(const cli *c, trove_store *st, const struct trove_scan_report *rep,
                    const char *what, const char *name);

/* Prints skipped and hidden items to f, one line each (id, source, reason
 * or "hidden", path), the error of a failure on a line below. */
void cli_print_skips(FILE *f, const trove_store_skip *v, size_t n);

/* `search --explain` (cli_explain.c): the signals that ranked result r
 * under params p, as two indented lines of text on f (the JSON form is
 * trove_search_json_write's "why", search.h). */
struct trove_search_result;
struct trove_search_params;
void cli_explain_text(FILE *f, const struct trove_search_result *r,
                      const struct trove_search_params *p);

/* Prints results r[0..n) as `trove search` does (cmd_search.c): rank,
 * title, source, path or URL and id, the best passage with its sentence in
 * ANSI bold with color, else in [brackets], every stored string escaped for
 * the terminal; with p->explain the why lines. With n 0 it says that
 * nothing was found, in the words of p's mode. */
void cli_print_results(const struct trove_search_result *r, size_t n, bool color,
                       const struct trove_search_params *p);

/* Prints an item's fields (source: its source's name, NULL to leave it
 * out), then its text, as `trove print ID` does (cmd_item.c), escaped for
 * the terminal. */
void cli_print_item(const trove_store_item *it, const char *source);

/* `trove --version` (cli_version.c): prints trove's and sluice's versions,
 * the model's name and folder, and its kernel paths (for passages and
 * queries), or why the model is unavailable, on stdout. Options given
 * before --version apply. Returns CLI_OK. */
int cli_version(const cli *c);

/* The command groups: argv[0] is the command's name. Each returns an exit
 * code, or CLI_HELP. */
int cmd_source(cli *c, int argc, char **argv);
int cmd_scan(cli *c, int argc, char **argv);
int cmd_watch(cli *c, int argc, char **argv);
int cmd_reprocess(cli *c, int argc, char **argv);
int cmd_search(cli *c, int argc, char **argv);
int cmd_print(cli *c, int argc, char **argv);
int cmd_hide(cli *c, int argc, char **argv); /* hide and unhide, by argv[0] */
int cmd_skipped(cli *c, int argc, char **argv);
int cmd_stats(cli *c, int argc, char **argv);
int cmd_eval(cli *c, int argc, char **argv);
int cmd_forget(cli *c, int argc, char **argv);
int cmd_serve(cli *c, int argc, char **argv); /* cmd_serve.c: the web UI */

/* The interactive prompt (repl.c), what `trove` with no command opens when
 * stdin is a terminal. Returns an exit code. */
int cli_repl(const cli *c);

#endif /* TROVE_CLI_H */
