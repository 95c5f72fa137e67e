/* cmd_eval.c: `trove eval QUERIES [--mode M]... [--corpus NAME] [--trace]
 * [--json]`: measures search on the current database with a query set
 * (eval.h: lines kind<TAB>query<TAB>target,target). The set is parsed before
 * the database is opened, and its targets are checked against the database
 * before anything is run, so a typo costs no search time. Text output is a
 * table per mode (recall@10, MRR@10, nDCG@10 for all queries and each kind,
 * with the mode's latency), then the same figures as peers result lines;
 * --json prints one object instead. The database must exist: evaluating an
 * empty one that this command created would only measure a typo in --db.
 */
#include "cli.h"
#include "eval.h"
#include "json.h" /* trove_json_quote */

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "trove eval QUERIES [--mode hybrid|semantic|keyword]... [--corpus NAME] [--trace] [--json]\n"
    "  QUERIES: lines kind<TAB>query<TAB>target,target (targets: page paths relative\n"
    "  to the corpus root). Default modes: keyword, semantic and hybrid (keyword\n"
    "  only with --no-model). --corpus names the set in result lines (default: the\n"
    "  file's name); --trace prints each query's rank to stderr.";

enum { N_MODES = 3 };

typedef struct eval_args {
  const char *queries;
  const char *corpus;
  trove_search_mode modes[N_MODES];
  size_t n_modes;
  bool json, trace;
  char name[64]; /* the corpus name in use */
} eval_args;

static int add_mode(eval_args *a, const char *s) {
  trove_search_mode m;
  if (trove_search_mode_parse(s, &m))
    return cli_usage_error(usage, "--mode takes hybrid, semantic or keyword, not \"%s\"", s);
  for (size_t i = 0; i < a->n_modes; i++)
    if (a->modes[i] == m)
      return CLI_OK;
  a->modes[a->n_modes++] = m;
  return CLI_OK;
}

/* Copies s into a->name as one word: what is not a letter, digit, '.', '_'
 * or '-' becomes '-' (a peers value has no spaces). */
static void set_name(eval_args *a, const char *s, size_t len) {
  if (len >= sizeof a->name)
    len = sizeof a->name - 1;
  for (size_t i = 0; i < len; i++) {
    char ch = s[i];
    bool word = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                ch == '.' || ch == '_' || ch == '-';
    a->name[i] = word ? ch : '-';
  }
  a->name[len] = '\0';
}

/* The corpus name: --corpus, else the query file's name without its folder
 * and extension. */
static void corpus_name(eval_args *a) {
  if (a->corpus) {
    set_name(a, a->corpus, strlen(a->corpus));
    return;
  }
  const char *base = strrchr(a->queries, '/');
  base = base ? base + 1 : a->queries;
  const char *dot = strrchr(base, '.');
  size_t len = dot && dot > base ? (size_t)(dot - base) : strlen(base);
  set_name(a, base, len);
}

static int parse(const cli *c, int argc, char **argv, eval_args *a) {
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    int rc = CLI_OK;
    if (strcmp(s, "--mode") == 0 || strcmp(s, "--corpus") == 0) {
      if (i + 1 == argc || !argv[i + 1][0])
        return cli_usage_error(usage, "%s needs a value", s);
      if (s[2] == 'm')
        rc = add_mode(a, argv[++i]);
      else
        a->corpus = argv[++i];
    } else if (strcmp(s, "--json") == 0) {
      a->json = true;
    } else if (strcmp(s, "--trace") == 0) {
      a->trace = true;
    } else if (s[0] == '-' && s[1]) {
      return cli_usage_error(usage, "unknown option %s", s);
    } else if (a->queries) {
      return cli_usage_error(usage, "one QUERIES file only; \"%s\" is a second", s);
    } else {
      a->queries = s;
    }
    if (rc)
      return rc;
  }
  if (!a->queries)
    return cli_usage_error(usage, "eval needs a QUERIES file");
  static const trove_search_mode all[N_MODES] = {TROVE_SEARCH_KEYWORD, TROVE_SEARCH_SEMANTIC,
                                                 TROVE_SEARCH_HYBRID};
  if (!a->n_modes && c->no_model)
    a->modes[a->n_modes++] = TROVE_SEARCH_KEYWORD;
  if (!a->n_modes) {
    memcpy(a->modes, all, sizeof all);
    a->n_modes = N_MODES;
  }
  corpus_name(a);
  return CLI_OK;
}

/* ---- output ---------------------------------------------------------------- */

static int json_mode(trove_buf *b, const trove_eval_result *r) {
  int rc = trove_buf_printf(b, "{\"mode\":\"%s\",\"p50_ms\":%.3f,\"mean_ms\":%.3f,\"kinds\":[",
                            trove_search_mode_name(r->mode), r->p50_ms, r->mean_ms);
  for (size_t c = 0; rc == 0 && c < r->n_cells; c++) {
    const trove_eval_cell *x = &r->cells[c];
    rc = trove_buf_printf(b, "%s{\"kind\":", c ? "," : "");
    rc = rc ? rc : trove_json_quote(b, x->kind);
    rc = rc ? rc : trove_buf_printf(b, ",\"n\":%zu,\"recall@10\":%.4f,\"mrr@10\":%.4f,"
                                    "\"ndcg@10\":%.4f}", x->n, x->mean.recall, x->mean.mrr,
                                    x->mean.ndcg);
  }
  return rc ? rc : trove_buf_puts(b, "]}");
}

static int print_json(const eval_args *a, const trove_eval_set *s, const trove_eval_result *r) {
  trove_buf b = {0};
  int rc = trove_buf_puts(&b, "{\"corpus\":");
  rc = rc ? rc : trove_json_quote(&b, a->name);
  rc = rc ? rc : trove_buf_puts(&b, ",\"queries_file\":");
  rc = rc ? rc : trove_json_quote(&b, a->queries);
  rc = rc ? rc : trove_buf_printf(&b, ",\"queries\":%zu,\"modes\":[", s->n);
  for (size_t m = 0; rc == 0 && m < a->n_modes; m++) {
    if (m)
      rc = trove_buf_putc(&b, ',');
    rc = rc ? rc : json_mode(&b, &r[m]);
  }
  rc = rc ? rc : trove_buf_puts(&b, "]}\n");
  if (rc == 0 && fwrite(b.data, 1, b.len, stdout) != b.len)
    rc = TROVE_EIO;
  trove_buf_free(&b);
  return rc;
}

static int print_text(const eval_args *a, const trove_eval_set *s, const trove_eval_result *r) {
  printf("corpus %s: %zu queries from %s\n\n", a->name, s->n, a->queries);
  int rc = trove_eval_print_table(stdout, r, a->n_modes);
  if (rc == 0)
    putchar('\n');
  return rc ? rc : trove_eval_print_peers(stdout, a->name, NULL, r, a->n_modes);
}

/* ---- the command ----------------------------------------------------------- */

/* Runs every mode of a into r[0..a->n_modes). */
static int run_modes(trove_store *st, const cli_model *m, const trove_eval_set *s,
                     const eval_args *a, trove_eval_result *r) {
  for (size_t i = 0; i < a->n_modes; i++) {
    trove_search_params p;
    trove_search_params_default(&p);
    p.mode = a->modes[i];
    trove_err e = {0};
    int rc = trove_eval_run(st, trove_vectors_index(m->vectors), m->embedder, s, &p, true,
                            a->trace ? stderr : NULL, &r[i], &e);
    if (rc)
      return cli_fail(&e, rc);
  }
  return CLI_OK;
}

static bool needs_model(const eval_args *a) {
  for (size_t i = 0; i < a->n_modes; i++)
    if (a->modes[i] != TROVE_SEARCH_KEYWORD)
      return true;
  return false;
}

int cmd_eval(const cli *c, int argc, char **argv) {
  if (cli_wants_help(argc, argv, usage))
    return CLI_OK;
  eval_args a = {0};
  int rc = parse(c, argc, argv, &a);
  trove_eval_set s = {0};
  trove_store *st = NULL;
  cli_model m = {0};
  trove_eval_result r[N_MODES];
  trove_err e = {0};
  int trc = rc ? 0 : trove_eval_set_load(a.queries, &s, &e);
  if (trc)
    rc = cli_fail(&e, trc);
  rc = rc ? rc : cli_open_existing(c, &st);
  trc = rc ? 0 : trove_eval_set_check(&s, st, &e);
  if (trc)
    rc = cli_fail(&e, trc);
  rc = rc || !needs_model(&a) ? rc : cli_model_open(c, st, true, true, &m);
  rc = rc ? rc : run_modes(st, &m, &s, &a, r);
  trc = rc ? 0 : a.json ? print_json(&a, &s, r) : print_text(&a, &s, r);
  if (trc)
    rc = cli_fail(NULL, trc);
  cli_model_close(&m);
  trove_store_close(st);
  trove_eval_set_free(&s);
  return rc;
}
