/* main.c: the `trove` command: the options before the command (global ones,
 * --help, --version), `trove help [COMMAND]`, then one command group per
 * file (cmd_source.c, cmd_scan.c, cmd_search.c, cmd_item.c, cmd_stats.c,
 * cmd_eval.c, cmd_forget.c, cmd_serve.c); with no command on a terminal, the
 * interactive prompt (repl.c). Options are parsed by cli_args.c. */
#include "cli.h"
#include "scan.h" /* trove_scan_use_sluice */

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "trove [OPTIONS] COMMAND [ARGS]\n"
    "trove --version          versions, and the model folder and kernel paths in use\n"
    "  source add NAME TYPE LOCATION [--glob G]... [--exclude G]...\n"
    "             [--exclude-domain D]... [--retention keep|mirror]\n"
    "                           TYPE fs: LOCATION is a directory; chromium-history,\n"
    "                           chromium-bookmarks, firefox: a browser profile directory\n"
    "  source list [--json] | source remove NAME\n"
    "  source edit NAME [--glob G]... [--exclude G]... [--no-glob] [--no-exclude]\n"
    "                           change an fs source's globs; rescan what that changes\n"
    "  source edit NAME [--exclude-domain D]... [--no-exclude-domain]\n"
    "                   [--retention keep|mirror]\n"
    "                           a browser source's excluded domains (their items go\n"
    "                           now) or what happens to pages the browser expired\n"
    "  scan [NAME] [--force | --reembed] [--no-wait]\n"
    "                           index one source, or all: extract, embed, store\n"
    "  watch [NAME...] [--poll SECONDS] [-q]\n"
    "                           scan, then keep sources fresh as they change, until Ctrl-C\n"
    "  reprocess [NAME] [--no-wait]\n"
    "                           re-extract stored content, re-embed what changed\n"
    "  search QUERY [--mode hybrid|semantic|keyword] [-n N] [-s SOURCE]\n"
    "         [-t local|web|bookmark] [--since DATE] [--until DATE] [--explain] [--json]\n"
    "  search --like ID [...]   items similar to item ID\n"
    "  print ID [--raw [--force]] [--json] | hide ID | unhide ID\n"
    "  forget ID... | --url PATTERN | --domain DOMAIN [-s SOURCE] [--json] [--no-wait]\n"
    "                           remove items with their passages, vectors and content;\n"
    "                           scans leave them out unless visited or modified again\n"
    "  skipped [SOURCE] [--json] items skipped, failed or hidden, with the reason\n"
    "  stats [--json]\n"
    "  eval QUERIES [--mode M]... [--json]\n"
    "                           search quality on this database: recall@10, MRR@10 and\n"
    "                           nDCG@10 per mode and kind of query, and latency\n"
    "  serve [--port N] [--listen ADDR] [--open]\n"
    "                           the web UI at http://127.0.0.1:8765/\n"
    "  help [COMMAND]           a command's options (as COMMAND --help)\n"
    "With no COMMAND on a terminal, trove opens an interactive prompt (:help there).\n"
    "Options, before or after the command:\n"
    "  --db PATH      the database; else $TROVE_DB, else $XDG_DATA_HOME/trove/trove.db.\n"
    "                 Only scan and source add create it.\n"
    "  --model DIR    the model; else $TROVE_MODEL, else the first that holds it of\n"
    "                 $XDG_DATA_HOME/trove/model, PREFIX/share/trove/model and the\n"
    "                 folder `make` fills. Its vector index is kept beside the database\n"
    "                 (DB.MODEL.hnsw).\n"
    "  --no-model     keyword indexing and search only\n"
    "  --kernel K     fp32, int8, bf16 or auto (else $TROVE_KERNEL; auto: int8 where\n"
    "                 the CPU has VNNI, else fp32); -v and stats name the one in use\n"
    "  --color WHEN   auto (the default: on a terminal, unless $NO_COLOR is set),\n"
    "                 always or never\n"
    "  -v, --verbose  the vector index, each item a scan skipped, the scan's stage table\n"
    "  -h, --help     this, or a command's usage;  --version\n"
    "  --             ends the options: what follows is a QUERY or a NAME\n"
    "Long options also take --opt=VALUE, short ones -nVALUE.\n"
    "scan, reprocess, source edit, source remove and forget wait while another scan of\n"
    "the database runs.\n"
    "Exit codes: 0 done; 1 search (or forget) found nothing; 2 a usage error; 3 scan,\n"
    "reprocess, source edit or forget with --no-wait found another scan running, or\n"
    "watch another watch; 4 any other error.";

typedef int (*cmd_fn)(cli *c, int argc, char **argv);

static const struct {
  const char *name;
  cmd_fn fn;
} commands[] = {
    {"source", cmd_source}, {"scan", cmd_scan},   {"reprocess", cmd_reprocess},
    {"watch", cmd_watch},
    {"search", cmd_search}, {"print", cmd_print}, {"hide", cmd_hide},
    {"unhide", cmd_hide},   {"skipped", cmd_skipped}, {"stats", cmd_stats},
    {"eval", cmd_eval},     {"forget", cmd_forget},
    {"serve", cmd_serve},
};

static cmd_fn find(const char *name) {
  for (size_t k = 0; k < sizeof commands / sizeof *commands; k++)
    if (strcmp(name, commands[k].name) == 0)
      return commands[k].fn;
  return NULL;
}

static int on_version(void *ctx, int id, const char *val) {
  (void)id, (void)val;
  *(bool *)ctx = true;
  return CLI_OK;
}

/* `trove help [COMMAND [SUBCOMMAND]]`: the usage, or COMMAND's, as
 * `trove COMMAND [SUBCOMMAND] --help` prints it. */
static int help(cli *c, int argc, char **argv) {
  int npos = 0;
  int rc = cli_parse(c, "trove help [COMMAND [SUBCOMMAND]]", NULL, NULL, NULL, argc, argv, &npos);
  if (rc)
    return rc;
  if (npos == 0) {
    printf("usage: %s\n", usage);
    return CLI_HELP;
  }
  cmd_fn fn = find(argv[1]);
  if (!fn)
    return cli_usage_error(usage, "no command \"%s\"", argv[1]);
  if (npos > 2)
    return cli_usage_error(usage, "help takes a COMMAND and a SUBCOMMAND at most");
  char flag[] = "--help";
  char *args[3] = {argv[1], npos == 2 ? argv[2] : flag, flag};
  return fn(c, npos == 2 ? 3 : 2, args);
}

int main(int argc, char **argv) {
  cli c = {0};
  static const cli_opt opts[] = {{"version", 0, false}, {0}};
  int i = argc;
  bool version = false;
  trove_scan_use_sluice();
  int rc = cli_parse_head(&c, usage, opts, on_version, &version, argc, argv, &i);
  if (rc == CLI_OK && version) /* the options before the command apply to it */
    return cli_version(&c);
  if (rc == CLI_OK && i == argc && isatty(STDIN_FILENO))
    return cli_repl(&c);
  if (rc == CLI_OK && i == argc)
    rc = cli_usage_error(usage, "no command given");
  if (rc == CLI_OK) {
    cmd_fn fn = find(argv[i]);
    if (strcmp(argv[i], "help") == 0)
      rc = help(&c, argc - i, argv + i);
    else
      rc = fn ? fn(&c, argc - i, argv + i)
              : cli_usage_error(usage, "unknown command \"%s\"", argv[i]);
  }
  return rc == CLI_HELP ? CLI_OK : rc;
}
