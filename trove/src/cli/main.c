/* main.c: the `trove` command: global options (--db, --help, --version),
 * then one command group per file (cmd_source.c, cmd_scan.c,
 * cmd_search.c, cmd_item.c, cmd_stats.c, cmd_eval.c). */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "trove [--db PATH] [--model DIR | --no-model] [--kernel K] [-v] COMMAND [ARGS]\n"
    "trove --version          versions, and the model folder and kernel paths in use\n"
    "  source add NAME TYPE LOCATION [--glob G]... [--exclude G]...\n"
    "                           TYPE: fs, chromium-history, chromium-bookmarks, firefox\n"
    "  source list | source remove NAME\n"
    "  source edit NAME [--glob G]... [--exclude G]... [--no-glob] [--no-exclude]\n"
    "                           change an fs source's globs; rescan what that changes\n"
    "  scan [NAME] [--force | --reembed] [--no-wait]\n"
    "                           index one source, or all: extract, embed, store\n"
    "  reprocess [NAME] [--no-wait]\n"
    "                           re-extract stored content, re-embed what changed\n"
    "  search QUERY [--mode hybrid|semantic|keyword] [-n N] [-s SOURCE]\n"
    "         [-t local|web|bookmark] [--json]\n"
    "  search --like ID [...]   items similar to item ID\n"
    "  print ID [--raw [--force]] | hide ID | unhide ID | stats\n"
    "  eval QUERIES [--mode M]... [--json]\n"
    "                           search quality on this database: recall@10, MRR@10 and\n"
    "                           nDCG@10 per mode and kind of query, and latency\n"
    "The database is --db PATH, else $TROVE_DB, else $XDG_DATA_HOME/trove/trove.db.\n"
    "The model is --model DIR, else $TROVE_MODEL, else the first that holds it of\n"
    "$XDG_DATA_HOME/trove/model, PREFIX/share/trove/model and the folder `make` fills;\n"
    "its vector index is kept beside the database (DB.MODEL.hnsw). --kernel (or\n"
    "$TROVE_KERNEL) forces how it computes: fp32, int8, bf16 or auto (the default: int8\n"
    "where the CPU has VNNI, else fp32); -v and stats name the one in use.\n"
    "scan, reprocess, source edit and source remove wait while another scan of the\n"
    "database runs; with --no-wait, scan, reprocess and source edit exit with code 3.\n"
    "Exit codes: 0 done, 1 an error, 2 a usage error, 3 another scan is running.\n"
    "Every command takes --help.";

typedef int (*cmd_fn)(const cli *c, int argc, char **argv);

static const struct {
  const char *name;
  cmd_fn fn;
} commands[] = {
    {"source", cmd_source}, {"scan", cmd_scan},   {"reprocess", cmd_reprocess},
    {"search", cmd_search}, {"print", cmd_print}, {"hide", cmd_hide},
    {"unhide", cmd_hide},   {"stats", cmd_stats}, {"eval", cmd_eval},
};

int main(int argc, char **argv) {
  cli c = {0};
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (strcmp(argv[i], "--db") == 0) {
      if (++i == argc || !argv[i][0])
        return cli_usage_error(usage, "--db needs a path");
      c.db = argv[i];
    } else if (strncmp(argv[i], "--db=", 5) == 0) {
      c.db = argv[i] + 5;
    } else if (strcmp(argv[i], "--model") == 0) {
      if (++i == argc || !argv[i][0])
        return cli_usage_error(usage, "--model needs a directory");
      c.model = argv[i];
    } else if (strncmp(argv[i], "--model=", 8) == 0) {
      c.model = argv[i] + 8;
    } else if (strcmp(argv[i], "--kernel") == 0) {
      if (++i == argc || !argv[i][0])
        return cli_usage_error(usage, "--kernel needs a path: auto, fp32, int8 or bf16");
      c.kernel = argv[i];
    } else if (strncmp(argv[i], "--kernel=", 9) == 0) {
      c.kernel = argv[i] + 9;
    } else if (strcmp(argv[i], "--no-model") == 0) {
      c.no_model = true;
    } else if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0) {
      c.verbose = true;
    } else if (strcmp(argv[i], "--version") == 0) {
      return cli_version(&c);
    } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      printf("usage: %s\n", usage);
      return CLI_OK;
    } else {
      return cli_usage_error(usage, "unknown option %s", argv[i]);
    }
  }
  if (c.kernel && !trove_embedder_kernel_known(c.kernel))
    return cli_usage_error(usage, "--kernel %s: use auto, fp32, int8 or bf16", c.kernel);
  if (i == argc)
    return cli_usage_error(usage, "no command given");
  for (size_t k = 0; k < sizeof commands / sizeof *commands; k++)
    if (strcmp(argv[i], commands[k].name) == 0)
      return commands[k].fn(&c, argc - i, argv + i);
  return cli_usage_error(usage, "unknown command \"%s\"", argv[i]);
}
