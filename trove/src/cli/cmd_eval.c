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

enum { E_MODE, E_CORPUS, E_JSON, E_TRACE };
static const cli_opt options[] = {
    [E_MODE] = {"mode", 0, true}, [E_CORPUS] = {"corpus", 0, true},
    [E_JSON] = {"json", 0, false}, [E_TRACE] = {"trace", 0, false}, {0}};

static int on_option(void *ctx, int id, const char *val) {
  eval_args *a = ctx;
  switch (id) {
  case E_MODE:
    return add_mode(a, val);
  case E_CORPUS:
    if (!val[0])
      return cli_usage_error(usage, "--corpus needs a name");
    a->corpus = val;
    break;
  case E_JSON:
    a->json = true;
    break;
  default:
    a->trace = true;
  }
  return CLI_OK;
}

static int parse(cli *c, int argc, char **argv, eval_args *a) {
  int npos = 0;
  int rc = cli_parse(c, usage, options, on_option, a, argc, argv, &npos);
  if (rc)
    return rc;
  if (npos > 1)
    return cli_usage_error(usage, "one QUERIES file only; \"%s\" is a second", argv[2]);
  a->queries = npos ? argv[1] : NULL;
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

static void json_mode(trove_json_out *o, const trove_eval_result *r) {
  trove_json_out_object(o, NULL);
  trove_json_out_str(o, "mode", trove_search_mode_name(r->mode));
  trove_json_out_num(o, "p50_ms", r->p50_ms, 3);
  trove_json_out_num(o, "mean_ms", r->mean_ms, 3);
  trove_json_out_array(o, "kinds");
  for (size_t c = 0; c < r->n_cells; c++) {
    const trove_eval_cell *x = &r->cells[c];
    trove_json_out_object(o, NULL);
    trove_json_out_str(o, "kind", x->kind);
    trove_json_out_int(o, "n", (int64_t)x->n);
    trove_json_out_num(o, "recall@10", x->mean.recall, 4);
    trove_json_out_num(o, "mrr@10", x->mean.mrr, 4);
    trove_json_out_num(o, "ndcg@10", x->mean.ndcg, 4);
    trove_json_out_end(o);
  }
  trove_json_out_end(o);
  trove_json_out_end(o);
}

static int print_json(const eval_args *a, const trove_eval_set *s, const trove_eval_result *r) {
  trove_buf b = {0};
  trove_json_out o = {.b = &b};
  trove_json_out_object(&o, NULL);
  trove_json_out_str(&o, "corpus", a->name);
  trove_json_out_str(&o, "queries_file", a->queries);
  trove_json_out_int(&o, "queries", (int64_t)s->n);
  trove_json_out_array(&o, "modes");
  for (size_t m = 0; m < a->n_modes; m++)
    json_mode(&o, &r[m]);
  trove_json_out_end(&o);
  trove_json_out_end(&o);
  return cli_json_print(&o, 0);
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

int cmd_eval(cli *c, int argc, char **argv) {
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
  if (rc == CLI_OK && a.json) {
    rc = print_json(&a, &s, r);
  } else if (rc == CLI_OK && (trc = print_text(&a, &s, r)) != 0) {
    rc = cli_fail(NULL, trc);
  }
  cli_model_close(&m);
  trove_store_close(st);
  trove_eval_set_free(&s);
  return rc;
}
