/* cmd_search.c: `trove search QUERY [--mode hybrid|semantic|keyword]
 * [--like ID] [-n N] [-s SOURCE] [-t TYPE] [--since D] [--until D]
 * [--explain] [--json]`, a driver of the ranker (search.h). Text output gives each
 * item's rank, title, source, path or URL, and its best passage with the
 * best sentence marked (ANSI bold with color: a terminal, unless NO_COLOR
 * or --color say otherwise; [brackets] elsewhere), every stored string
 * escaped for the terminal (trove_term_*, core.h), by cli_print_results,
 * which the REPL shares; --json prints one JSON array for scripts
 * (search.h's trove_search_json_write, which the web API shares).
 * --explain adds, to either, the signals that ranked each result
 * (cli_explain.c). Nothing found exits 1, as grep does.
 * Hybrid is the default; when the model cannot be opened it falls back to
 * keyword search with a warning, while semantic search and --like fail. */
#include "cli.h"
#include "search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "trove search QUERY [--mode hybrid|semantic|keyword] [-n N] [-s SOURCE]\n"
    "                   [-t local|web|bookmark] [--since DATE] [--until DATE]\n"
    "                   [--explain] [--json]\n"
    "       trove search --like ID [-n N] [-s SOURCE] [-t TYPE] [--since DATE] [--explain]\n"
    "                   [--json]\n"
    "  QUERY: words, all of them ANDed by keyword search and the whole read for its\n"
    "         meaning; a trailing * matches a prefix (optim*); no other syntax: quotes,\n"
    "         AND, OR, NEAR( are words. A QUERY starting with - follows --.\n"
    "  -n N:  results, 1 to 1000 (default 10)    -s: one source    -t: one type\n"
    "  --since, --until DATE: items last visited (pages) or modified (files) from or to\n"
    "         DATE: YYYY-MM-DD (the whole day), YYYY-MM-DDTHH:MM[:SS], or Nh, Nd, Nw ago\n"
    "  Each result gives its title, source, path and id, and a passage with its best\n"
    "  sentence marked: \"by words\" when the passage holds the query's words, \"by\n"
    "  meaning\" when none does and it is the closest in meaning. Hybrid and semantic\n"
    "  search say there are no good matches when no item holds a word of the query\n"
    "  and nothing is close in meaning. Exit code 1 when nothing is found.\n"
    "  --explain shows why each result ranked where it did: its BM25 (and each\n"
    "  field's), its cosine and their scaled values, and the terms of its score.";

enum { CONTEXT = 160 }; /* bytes of passage shown around the marked sentence */

typedef struct search_args {
  trove_search_params p;
  trove_buf query; /* the words, joined by spaces */
  bool json;
} search_args;

enum { O_MODE, O_N, O_SOURCE, O_TYPE, O_LIKE, O_JSON, O_SINCE, O_UNTIL, O_EXPLAIN };
static const cli_opt options[] = {
    [O_MODE] = {"mode", 0, true},    [O_N] = {"limit", 'n', true},
    [O_SOURCE] = {"source", 's', true}, [O_TYPE] = {"type", 't', true},
    [O_LIKE] = {"like", 0, true},    [O_JSON] = {"json", 0, false},
    [O_SINCE] = {"since", 0, true},  [O_UNTIL] = {"until", 0, true},
    [O_EXPLAIN] = {"explain", 0, false}, {0},
};

static int on_option(void *ctx, int id, const char *val) {
  search_args *a = ctx;
  switch (id) {
  case O_N: {
    char *end = NULL;
    long n = strtol(val, &end, 10);
    if (!val[0] || *end || n <= 0 || n > 1000)
      return cli_usage_error(usage, "-n needs a count from 1 to 1000, not \"%s\"", val);
    a->p.n = (size_t)n;
    break;
  }
  case O_SOURCE:
    a->p.source = val;
    break;
  case O_TYPE:
    a->p.type = trove_item_type_parse(val);
    if (a->p.type == TROVE_ITEM_ANY)
      return cli_usage_error(usage, "-t takes local, web or bookmark, not \"%s\"", val);
    break;
  case O_MODE:
    if (trove_search_mode_parse(val, &a->p.mode))
      return cli_usage_error(usage, "--mode takes hybrid, semantic or keyword, not \"%s\"", val);
    break;
  case O_LIKE:
    if (!cli_parse_id(val, &a->p.like))
      return cli_usage_error(usage, "--like needs an item id (see `trove search`), not \"%s\"",
                             val);
    break;
  case O_JSON:
    a->json = true;
    break;
  case O_EXPLAIN:
    a->p.explain = true;
    break;
  default: /* --since, --until */
    if (!trove_search_time_parse(val, id == O_UNTIL, id == O_SINCE ? &a->p.since : &a->p.until))
      return cli_usage_error(usage, "--%s takes " TROVE_SEARCH_TIME_FORMS ", not \"%s\"",
                             options[id].name, val);
  }
  return CLI_OK;
}

static bool blank(const char *s) {
  for (; s && *s; s++)
    if (!strchr(" \t\r\n\f\v", *s))
      return false;
  return true;
}

static int parse(cli *c, int argc, char **argv, search_args *a) {
  int npos = 0;
  int rc = cli_parse(c, usage, options, on_option, a, argc, argv, &npos);
  for (int i = 1; rc == CLI_OK && i <= npos; i++)
    if ((a->query.len && trove_buf_putc(&a->query, ' ')) || trove_buf_puts(&a->query, argv[i]))
      return cli_fail(NULL, TROVE_ENOMEM);
  if (rc)
    return rc;
  if (a->p.since && a->p.until && a->p.since > a->p.until)
    return cli_usage_error(usage, "--since is after --until: nothing can match");
  if (a->p.like && npos)
    return cli_usage_error(usage, "give either a QUERY or --like ID, not both");
  if (a->p.like && a->p.mode == TROVE_SEARCH_KEYWORD)
    return cli_usage_error(usage, "--like compares vectors; it has no keyword mode");
  if (!a->p.like && blank(a->query.data))
    return cli_usage_error(usage, npos ? "the QUERY is blank: give words to search for"
                                       : "search needs a QUERY");
  return CLI_OK;
}

/* ---- output ---------------------------------------------------------------- */

static int print_json(const trove_search_result *r, size_t n, const trove_search_params *p) {
  trove_buf b = {0};
  trove_json_out o = {.b = &b};
  trove_search_json_write(&o, r, n, p);
  return cli_json_print(&o, 0);
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

/* What an empty result says: keyword search found no item with the words;
 * the others, which always find some nearest passage, found nothing close
 * enough and no item with a word of the query (trove_search_params'
 * min_cosine). */
static void print_none(const trove_search_params *p) {
  if (p->mode == TROVE_SEARCH_KEYWORD || p->like)
    printf("no results\n");
  else
    printf("no good matches: no item holds a word of the query, and none is close in "
           "meaning\n");
}

void cli_print_results(const trove_search_result *r, size_t n, bool color,
                       const trove_search_params *p) {
  if (n == 0)
    print_none(p);
  for (size_t i = 0; i < n; i++) {
    trove_term_line(stdout, "%2zu. %s  [%s%s]", i + 1,
                    r[i].title && r[i].title[0] ? r[i].title : "(untitled)",
                    r[i].source ? r[i].source : "", r[i].is_link_hub ? ", index page" : "");
    const char *by = r[i].passage_by == TROVE_PASSAGE_NONE ? "" : ", by ";
    trove_term_line(stdout, "    %s  (id %lld%s%s)", r[i].external_id, (long long)r[i].item_id,
                    by, by[0] ? trove_passage_by_name(r[i].passage_by) : "");
    if (r[i].heading && r[i].heading[0])
      trove_term_line(stdout, "    § %s", r[i].heading);
    if (r[i].passage && r[i].passage[0])
      put_passage(&r[i], color ? "\033[1m" : "[", color ? "\033[0m" : "]");
    if (p->explain)
      cli_explain_text(stdout, &r[i], p);
  }
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

int cmd_search(cli *c, int argc, char **argv) {
  search_args a = {0};
  trove_search_params_default(&a.p);
  int rc = parse(c, argc, argv, &a);
  trove_store *st = NULL;
  cli_model m = {0};
  trove_search_result *res = NULL;
  size_t n = 0;
  trove_err e = {0};
  rc = rc ? rc : cli_open_existing(c, &st);
  rc = rc ? rc : open_for_mode(c, st, &a, &m);
  if (rc == CLI_OK) {
    int trc = trove_search_run(st, trove_vectors_index(m.vectors), m.embedder,
                               a.p.like ? NULL : a.query.data, &a.p, &res, &n, &e);
    if (trc)
      rc = cli_fail(&e, trc);
    else if (a.json)
      rc = print_json(res, n, &a.p);
    else
      cli_print_results(res, n, cli_use_color(c, stdout), &a.p);
    if (rc == CLI_OK && n == 0)
      rc = CLI_NONE;
  }
  trove_search_results_free(res, n);
  cli_model_close(&m);
  trove_store_close(st);
  trove_buf_free(&a.query);
  return rc;
}
