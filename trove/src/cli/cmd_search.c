/* cmd_search.c: `trove search QUERY [--mode hybrid|semantic|keyword]
 * [--like ID] [-n N] [-s SOURCE] [-t TYPE] [--json]`, a driver of the ranker
 * (search.h). Text output gives each item's rank, title, source, path or
 * URL, and its best passage with the best sentence marked (ANSI bold on a
 * TTY, [brackets] elsewhere), every stored string escaped for the terminal
 * (trove_term_*, core.h); --json prints one JSON array for scripts.
 * Hybrid is the default; when the model cannot be opened it falls back to
 * keyword search with a warning, while semantic search and --like fail. */
#include "cli.h"
#include "scan.h" /* trove_scan_json_quote */
#include "search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "trove search QUERY [--mode hybrid|semantic|keyword] [-n N] [-s SOURCE]\n"
    "                   [-t local|web|bookmark] [--json]\n"
    "       trove search --like ID [-n N] [-s SOURCE] [-t TYPE] [--json]";

enum { CONTEXT = 160 }; /* bytes of passage shown around the marked sentence */

typedef struct search_args {
  trove_search_params p;
  trove_buf query; /* the words, joined by spaces */
  bool json;
} search_args;

static bool takes_value(const char *s) {
  return strcmp(s, "-n") == 0 || strcmp(s, "-s") == 0 || strcmp(s, "-t") == 0 ||
         strcmp(s, "--mode") == 0 || strcmp(s, "--like") == 0;
}

static int parse_option(const char *s, const char *val, search_args *a) {
  if (strcmp(s, "-n") == 0) {
    char *end = NULL;
    long n = strtol(val, &end, 10);
    if (*end || n <= 0 || n > 1000)
      return cli_usage_error(usage, "-n needs a count from 1 to 1000, not \"%s\"", val);
    a->p.n = (size_t)n;
  } else if (strcmp(s, "-s") == 0) {
    a->p.source = val;
  } else if (strcmp(s, "-t") == 0) {
    a->p.type = trove_item_type_parse(val);
    if (a->p.type == TROVE_ITEM_ANY)
      return cli_usage_error(usage, "-t takes local, web or bookmark, not \"%s\"", val);
  } else if (strcmp(s, "--mode") == 0) {
    if (trove_search_mode_parse(val, &a->p.mode))
      return cli_usage_error(usage, "--mode takes hybrid, semantic or keyword, not \"%s\"", val);
  } else if (!cli_parse_id(val, &a->p.like)) {
    return cli_usage_error(usage, "--like needs an item id (see `trove search`), not \"%s\"", val);
  }
  return CLI_OK;
}

static int parse(int argc, char **argv, search_args *a) {
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    int rc;
    if (takes_value(s)) {
      if (i + 1 == argc)
        return cli_usage_error(usage, "%s needs a value", s);
      if ((rc = parse_option(s, argv[++i], a)))
        return rc;
    } else if (strcmp(s, "--json") == 0) {
      a->json = true;
    } else if (s[0] == '-' && s[1]) {
      return cli_usage_error(usage, "unknown option %s", s);
    } else if ((a->query.len && trove_buf_putc(&a->query, ' ')) || trove_buf_puts(&a->query, s)) {
      return cli_fail(NULL, TROVE_ENOMEM);
    }
  }
  if (a->p.like && a->query.len)
    return cli_usage_error(usage, "give either a QUERY or --like ID, not both");
  if (a->p.like && a->p.mode == TROVE_SEARCH_KEYWORD)
    return cli_usage_error(usage, "--like compares vectors; it has no keyword mode");
  return a->query.len || a->p.like ? CLI_OK : cli_usage_error(usage, "search needs a QUERY");
}

/* ---- output ---------------------------------------------------------------- */

static int json_one(trove_buf *b, size_t rank, const trove_search_result *r) {
  int rc = trove_buf_printf(b, "%s\n {\"rank\":%zu,\"id\":%lld,\"score\":%.6g,\"keyword_rank\":%zu,"
                            "\"semantic_rank\":%zu,\"cosine\":%.4f,\"type\":\"%s\",\"link_hub\":%s,"
                            "\"title\":", rank > 1 ? "," : "", rank, (long long)r->item_id,
                            r->score, r->keyword_rank, r->semantic_rank, (double)r->cosine,
                            trove_item_type_name(r->type), r->is_link_hub ? "true" : "false");
  rc = rc ? rc : trove_scan_json_quote(b, r->title ? r->title : "");
  rc = rc ? rc : trove_buf_puts(b, ",\"source\":");
  rc = rc ? rc : trove_scan_json_quote(b, r->source ? r->source : "");
  rc = rc ? rc : trove_buf_puts(b, ",\"path\":");
  rc = rc ? rc : trove_scan_json_quote(b, r->external_id ? r->external_id : "");
  rc = rc ? rc : trove_buf_printf(b, ",\"passage_id\":%lld,\"heading\":", (long long)r->passage_id);
  rc = rc ? rc : trove_scan_json_quote(b, r->heading ? r->heading : "");
  rc = rc ? rc : trove_buf_puts(b, ",\"passage\":");
  rc = rc ? rc : trove_scan_json_quote(b, r->passage ? r->passage : "");
  rc = rc ? rc : trove_buf_printf(b, ",\"mark\":[%zu,%zu]}", r->mark_start, r->mark_end);
  return rc;
}

static int print_json(const trove_search_result *r, size_t n) {
  trove_buf b = {0};
  int rc = trove_buf_putc(&b, '[');
  for (size_t i = 0; rc == 0 && i < n; i++)
    rc = json_one(&b, i + 1, &r[i]);
  rc = rc ? rc : trove_buf_puts(&b, "\n]\n");
  if (rc == 0)
    fwrite(b.data, 1, b.len, stdout);
  trove_buf_free(&b);
  return rc ? cli_fail(NULL, rc) : CLI_OK;
}

static bool is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

/* Writes s[from, to) on one line, escaped: every run of whitespace becomes
 * a space. */
static void put_flat(const char *s, size_t from, size_t to) {
  for (size_t i = from, run; i < to; i += run) {
    run = 0;
    while (i + run < to && is_space(s[i + run]) == is_space(s[i]))
      run++;
    if (is_space(s[i]))
      putchar(' ');
    else
      trove_term_write(stdout, s + i, run, TROVE_TERM_LINE);
  }
}

/* Moves i back to the start of a UTF-8 character. */
static size_t char_start(const char *s, size_t i) {
  while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
    i--;
  return i;
}

/* The passage around its marked sentence, the sentence marked. */
static void put_passage(const trove_search_result *r, const char *open, const char *close) {
  const char *p = r->passage;
  size_t len = strlen(p), ms = r->mark_start <= len ? r->mark_start : 0;
  size_t me = r->mark_end <= len && r->mark_end >= ms ? r->mark_end : ms;
  size_t from = ms > CONTEXT ? char_start(p, ms - CONTEXT) : 0;
  size_t to = me + CONTEXT < len ? char_start(p, me + CONTEXT) : len;
  fputs("    ", stdout);
  fputs(from ? "..." : "", stdout);
  put_flat(p, from, ms);
  if (me > ms) {
    fputs(open, stdout);
    put_flat(p, ms, me);
    fputs(close, stdout);
  }
  put_flat(p, me, to);
  puts(to < len ? "..." : "");
}

static void print_text(const trove_search_result *r, size_t n, bool tty) {
  for (size_t i = 0; i < n; i++) {
    trove_term_line(stdout, "%2zu. %s  [%s%s]", i + 1,
                    r[i].title && r[i].title[0] ? r[i].title : "(untitled)",
                    r[i].source ? r[i].source : "", r[i].is_link_hub ? ", index page" : "");
    trove_term_line(stdout, "    %s  (id %lld)", r[i].external_id, (long long)r[i].item_id);
    if (r[i].heading && r[i].heading[0])
      trove_term_line(stdout, "    § %s", r[i].heading);
    if (r[i].passage && r[i].passage[0])
      put_passage(&r[i], tty ? "\033[1m" : "[", tty ? "\033[0m" : "]");
  }
  if (n == 0)
    printf("no results\n");
}

/* ---- the command ----------------------------------------------------------- */

/* Opens what the mode needs: nothing for keyword; the model for the others,
 * hybrid falling back to keyword (with a warning) when it is missing. An
 * index the open had to build (missing or damaged file) or catch up is
 * saved, so the next search loads it; when it cannot be, a warning says a
 * scan fixes it. */
static int open_for_mode(const cli *c, trove_store *st, search_args *a, cli_model *m) {
  if (a->p.mode == TROVE_SEARCH_KEYWORD)
    return CLI_OK;
  bool required = a->p.mode == TROVE_SEARCH_SEMANTIC || a->p.like;
  if (c->no_model && !required) {
    a->p.mode = TROVE_SEARCH_KEYWORD;
    return CLI_OK;
  }
  int rc = cli_model_open(c, st, required, true, m);
  if (rc == CLI_OK && !m->embedder) {
    fprintf(stderr, "trove: searching by keyword only\n");
    a->p.mode = TROVE_SEARCH_KEYWORD;
  }
  trove_err e = {0};
  if (rc == CLI_OK && m->vectors && trove_vectors_try_save(m->vectors, st, &e))
    trove_term_line(stderr, "trove: warning: %s", e.msg); /* the search still runs */
  return rc;
}

int cmd_search(const cli *c, int argc, char **argv) {
  if (cli_wants_help(argc, argv, usage))
    return CLI_OK;
  search_args a = {0};
  trove_search_params_default(&a.p);
  int rc = parse(argc, argv, &a);
  trove_store *st = NULL;
  cli_model m = {0};
  trove_search_result *res = NULL;
  size_t n = 0;
  trove_err e = {0};
  rc = rc ? rc : cli_open_read(c, &st);
  rc = rc ? rc : open_for_mode(c, st, &a, &m);
  if (rc == CLI_OK) {
    int trc = trove_search_run(st, trove_vectors_index(m.vectors), m.embedder,
                               a.p.like ? NULL : a.query.data, &a.p, &res, &n, &e);
    if (trc)
      rc = cli_fail(&e, trc);
    else if (a.json)
      rc = print_json(res, n);
    else
      print_text(res, n, isatty(STDOUT_FILENO));
  }
  trove_search_results_free(res, n);
  cli_model_close(&m);
  trove_store_close(st);
  trove_buf_free(&a.query);
  return rc;
}
