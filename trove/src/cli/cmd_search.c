/* cmd_search.c: `trove search QUERY [-n N] [-s SOURCE] [-t TYPE] [--json]`:
 * keyword search (BM25 over FTS5, trove_store_search). Text output gives
 * each hit's rank, title, source, path or URL and snippet (matches between
 * ANSI bold marks on a TTY, [brackets] elsewhere); --json prints one JSON
 * array for scripts. The next issue adds --mode semantic|hybrid here. */
#include "cli.h"
#include "scan.h" /* trove_scan_json_quote */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "trove search QUERY [-n N] [-s SOURCE] [-t local|web|bookmark] [--json]";

typedef struct search_args {
  trove_store_search_opts o;
  trove_buf query; /* the words, joined by spaces */
  bool json;
} search_args;

static int parse(int argc, char **argv, search_args *a) {
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    bool takes = strcmp(s, "-n") == 0 || strcmp(s, "-s") == 0 || strcmp(s, "-t") == 0;
    if (takes && i + 1 == argc)
      return cli_usage_error(usage, "%s needs a value", s);
    if (strcmp(s, "-n") == 0) {
      char *end = NULL;
      long n = strtol(argv[++i], &end, 10);
      if (*end || n <= 0 || n > 1000)
        return cli_usage_error(usage, "-n needs a count from 1 to 1000, not \"%s\"", argv[i]);
      a->o.limit = (size_t)n;
    } else if (strcmp(s, "-s") == 0) {
      a->o.source = argv[++i];
    } else if (strcmp(s, "-t") == 0) {
      a->o.type = trove_item_type_parse(argv[++i]);
      if (a->o.type == TROVE_ITEM_ANY)
        return cli_usage_error(usage, "-t takes local, web or bookmark, not \"%s\"", argv[i]);
    } else if (strcmp(s, "--json") == 0) {
      a->json = true;
    } else if (s[0] == '-' && s[1]) {
      return cli_usage_error(usage, "unknown option %s", s);
    } else if ((a->query.len && trove_buf_putc(&a->query, ' ')) || trove_buf_puts(&a->query, s)) {
      return cli_fail(NULL, TROVE_ENOMEM);
    }
  }
  return a->query.len ? CLI_OK : cli_usage_error(usage, "search needs a QUERY");
}

static int print_json(const trove_store_hit *h, size_t n) {
  trove_buf b = {0};
  int rc = trove_buf_putc(&b, '[');
  for (size_t i = 0; rc == 0 && i < n; i++) {
    rc = trove_buf_printf(&b, "%s\n {\"rank\":%zu,\"id\":%lld,\"score\":%.6g,\"type\":\"%s\",\"title\":",
                          i ? "," : "", i + 1, (long long)h[i].item_id, h[i].score,
                          trove_item_type_name(h[i].type));
    rc = rc ? rc : trove_scan_json_quote(&b, h[i].title);
    rc = rc ? rc : trove_buf_puts(&b, ",\"source\":");
    rc = rc ? rc : trove_scan_json_quote(&b, h[i].source);
    rc = rc ? rc : trove_buf_puts(&b, ",\"path\":");
    rc = rc ? rc : trove_scan_json_quote(&b, h[i].external_id);
    rc = rc ? rc : trove_buf_puts(&b, ",\"snippet\":");
    rc = rc ? rc : trove_scan_json_quote(&b, h[i].snippet);
    rc = rc ? rc : trove_buf_putc(&b, '}');
  }
  rc = rc ? rc : trove_buf_puts(&b, "\n]\n");
  if (rc == 0)
    fwrite(b.data, 1, b.len, stdout);
  trove_buf_free(&b);
  return rc ? cli_fail(NULL, rc) : CLI_OK;
}

/* Prints s on one line: every run of whitespace becomes one space. */
static void put_one_line(const char *s) {
  bool space = false;
  for (; *s; s++) {
    bool ws = *s == ' ' || *s == '\n' || *s == '\t' || *s == '\r';
    if (ws && !space)
      putchar(' ');
    else if (!ws)
      putchar(*s);
    space = ws;
  }
  putchar('\n');
}

static void print_text(const trove_store_hit *h, size_t n) {
  for (size_t i = 0; i < n; i++) {
    printf("%2zu. %s  [%s%s]\n", i + 1, h[i].title && h[i].title[0] ? h[i].title : "(untitled)",
           h[i].source ? h[i].source : "", h[i].is_link_hub ? ", index page" : "");
    printf("    %s  (id %lld)\n", h[i].external_id, (long long)h[i].item_id);
    if (h[i].snippet && h[i].snippet[0]) {
      fputs("    ", stdout);
      put_one_line(h[i].snippet);
    }
  }
  if (n == 0)
    printf("no results\n");
}

int cmd_search(const cli *c, int argc, char **argv) {
  if (cli_wants_help(argc, argv, usage))
    return CLI_OK;
  search_args a = {0};
  int rc = parse(argc, argv, &a);
  if (!a.json && isatty(STDOUT_FILENO))
    a.o.mark_open = "\033[1m", a.o.mark_close = "\033[0m";
  trove_store *st = NULL;
  trove_store_hit *hits = NULL;
  size_t n = 0;
  trove_err e = {0};
  rc = rc ? rc : cli_open(c, &st);
  if (rc == CLI_OK) {
    int trc = trove_store_search(st, a.query.data, &a.o, &hits, &n, &e);
    if (trc)
      rc = cli_fail(&e, trc);
    else if (a.json)
      rc = print_json(hits, n);
    else
      print_text(hits, n);
  }
  trove_store_hits_free(hits, n);
  trove_store_close(st);
  trove_buf_free(&a.query);
  return rc;
}
