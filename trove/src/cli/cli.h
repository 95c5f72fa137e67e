/* cli.h: what the `trove` command's files share. main.c parses the global
 * options and dispatches to one function per command group (cmd_*.c);
 * cli_common.c holds the helpers below. Exit codes: 0 success, 1 an error
 * (one line on stderr from trove_err), 2 a usage error, 3 another scan of
 * the database is running and --no-wait was given. */
#ifndef TROVE_CLI_H
#define TROVE_CLI_H

#include "core.h"
#include "model.h"
#include "store.h"
#include "vectors.h"

#include <stdbool.h>
#include <stdint.h>

enum { CLI_OK = 0, CLI_ERR = 1, CLI_USAGE = 2, CLI_BUSY = 3 };

/* The global options. */
typedef struct cli {
  const char *db;    /* --db PATH; NULL: $TROVE_DB or the default path */
  const char *model; /* --model DIR; NULL: $TROVE_MODEL or the built-in folder */
  bool no_model;     /* --no-model: keyword indexing and search only */
  const char *kernel;/* --kernel PATH; NULL: $TROVE_KERNEL, else auto (model.h) */
  bool verbose;      /* -v: say how the vector index was opened */
} cli;

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

/* Opens the database; on failure prints the error and returns CLI_ERR. */
int cli_open(const cli *c, trove_store **out);
/* cli_open for a command that only reads: a database that exists but cannot
 * be written (a read-only folder or file system) is opened read-only. */
int cli_open_read(const cli *c, trove_store **out);
/* Opens the database only when it exists (cli_open creates a missing one),
 * for reading (read-only where it cannot be written, as cli_open_read); a
 * missing one is an error (CLI_ERR) that says how to make it. */
int cli_open_existing(const cli *c, trove_store **out);

/* Takes st's scan lock (store.h) for a command that rewrites many items:
 * waits for another scan, saying so on stderr, or with no_wait fails at
 * once. Returns CLI_OK, CLI_BUSY (no_wait and held elsewhere) or CLI_ERR,
 * the error printed. The lock goes with trove_store_close. */
int cli_scan_lock(trove_store *st, bool no_wait);

/* Prints "trove: <msg>" for a failed call and returns CLI_ERR. */
int cli_fail(const trove_err *e, int code);

/* Prints "trove <cmd>: <msg>" and the usage line to stderr; returns CLI_USAGE. */
int cli_usage_error(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* True when argv[1..argc) holds -h or --help; then prints usage to stdout. */
bool cli_wants_help(int argc, char **argv, const char *usage);

/* Parses a positive item id; false when s is not one. */
bool cli_parse_id(const char *s, int64_t *out);

/* The command groups: argv[0] is the command's name. Each returns an exit code. */
int cmd_source(const cli *c, int argc, char **argv);
int cmd_scan(const cli *c, int argc, char **argv);
int cmd_reprocess(const cli *c, int argc, char **argv);
int cmd_search(const cli *c, int argc, char **argv);
int cmd_print(const cli *c, int argc, char **argv);
int cmd_hide(const cli *c, int argc, char **argv); /* hide and unhide, by argv[0] */
int cmd_stats(const cli *c, int argc, char **argv);
int cmd_eval(const cli *c, int argc, char **argv);

#endif /* TROVE_CLI_H */
