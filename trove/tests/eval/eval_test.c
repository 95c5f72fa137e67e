/* eval_test.c: the evaluation module. Measures on hand-made rankings whose
 * recall@10, MRR@10 and nDCG@10 were worked out by hand; per-kind means,
 * latency median and the mean across corpora; query sets that parse and
 * every malformed line, each error naming its line; targets checked against
 * a small store; a keyword-mode run over that store (no model needed); the
 * printed table and peers lines; a fault loop over the parser. */
#include "eval.h"
#include "core_test_hooks.h" /* trove_alloc_fail_after */

#include "check.h"

#include <ftw.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool near(double a, double b) { return fabs(a - b) < 1e-9; }

static bool score_is(trove_eval_score s, double recall, double mrr, double ndcg) {
  bool ok = near(s.recall, recall) && near(s.mrr, mrr) && near(s.ndcg, ndcg);
  if (!ok)
    fprintf(stderr, "  got recall %.6f mrr %.6f ndcg %.6f\n", s.recall, s.mrr, s.ndcg);
  return ok;
}

static void path_matches_whole_trailing_components(void) {
  CHECK(trove_eval_path_matches("/usr/doc/html/library/re.html", "library/re.html"));
  CHECK(trove_eval_path_matches("/usr/doc/html/library/re.html", "re.html"));
  CHECK(trove_eval_path_matches("library/re.html", "library/re.html"));
  CHECK(!trove_eval_path_matches("/usr/doc/html/library/pre.html", "re.html"));
  CHECK(!trove_eval_path_matches("re.html", "library/re.html"));
  CHECK(!trove_eval_path_matches("/a/re.html", ""));
  CHECK(!trove_eval_path_matches(NULL, "re.html") && !trove_eval_path_matches("x", NULL));
}

static void scores_match_hand_computed_values(void) {
  const char *one[] = {"a.html"}, *two[] = {"a.html", "b.html"};
  /* the target third: recall 1, MRR 1/3, nDCG (1/log2 4) / 1 = 0.5 */
  const char *r1[] = {"/c/x.html", "/c/y.html", "/c/a.html"};
  CHECK(score_is(trove_eval_score_ranking(r1, 3, one, 1), 1, 1.0 / 3, 0.5));
  /* two targets at 1 and 3: MRR 1, DCG 1 + 1/2 = 1.5, ideal 1 + 1/log2 3 */
  const char *r2[] = {"/c/a.html", "/c/x.html", "/c/b.html"};
  CHECK(score_is(trove_eval_score_ranking(r2, 3, two, 2), 1, 1, 1.5 / (1 + 1 / log2(3.0))));
  /* one of two targets, second: MRR 1/2, nDCG (1/log2 3) / (1 + 1/log2 3) */
  const char *r3[] = {"/c/x.html", "/c/b.html"};
  CHECK(score_is(trove_eval_score_ranking(r3, 2, two, 2), 1, 0.5,
                 (1 / log2(3.0)) / (1 + 1 / log2(3.0))));
  /* the target 11th is outside the cut-off: all zero; so is no result */
  const char *r4[11] = {"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "/c/a.html"};
  CHECK(score_is(trove_eval_score_ranking(r4, 11, one, 1), 0, 0, 0));
  CHECK(score_is(trove_eval_score_ranking(NULL, 0, one, 1), 0, 0, 0));
  /* two items name the same target: it counts once, nDCG stays 1 */
  const char *r5[] = {"/c/a.html", "/d/a.html"};
  CHECK(score_is(trove_eval_score_ranking(r5, 2, one, 1), 1, 1, 1));
  /* NULL paths (items without one) match nothing */
  const char *r6[] = {NULL, "/c/a.html"};
  CHECK(score_is(trove_eval_score_ranking(r6, 2, one, 1), 1, 0.5, 1 / log2(3.0)));
  /* 12 targets, 10 of them on top: the ideal has only 10 places, nDCG 1 */
  const char *t12[] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"};
  const char *r7[] = {"/0", "/1", "/2", "/3", "/4", "/5", "/6", "/7", "/8", "/9"};
  CHECK(score_is(trove_eval_score_ranking(r7, 10, t12, 12), 1, 1, 1));
  CHECK(score_is(trove_eval_score_ranking(r7, 10, t12, 0), 0, 0, 0));
}

static const char good[] =
    "# a comment, then a blank line\n"
    "\n"
    "question\twhy is the sky blue?\tsky.html\r\n"
    "keyword\tsky colour\tsky.html, sea.html\n"
    "   \t  \n"
    "paraphrase\tthe blue above us\tsky.html\n"
    "keyword\tsea\tsea.html\n"
    "lookup\tre module\tlibrary/re.html"; /* no newline at the end */

static void parse_reads_kinds_queries_and_targets(void) {
  trove_eval_set s;
  trove_err e = {0};
  CHECK(trove_eval_set_parse("good.tsv", good, strlen(good), &s, &e) == 0);
  CHECK(s.n == 5 && s.n_kinds == 4);
  if (s.n != 5 || s.n_kinds != 4)
    return;
  /* known kinds first, in their order, then the others */
  CHECK(strcmp(s.kinds[0], "keyword") == 0 && strcmp(s.kinds[1], "paraphrase") == 0);
  CHECK(strcmp(s.kinds[2], "question") == 0 && strcmp(s.kinds[3], "lookup") == 0);
  CHECK(s.q[0].line == 3 && s.q[0].kind == 2 && strcmp(s.q[0].text, "why is the sky blue?") == 0);
  CHECK(s.q[0].n_targets == 1 && strcmp(s.q[0].targets[0], "sky.html") == 0);
  CHECK(s.q[1].line == 4 && s.q[1].kind == 0 && s.q[1].n_targets == 2);
  CHECK(strcmp(s.q[1].targets[1], "sea.html") == 0); /* spaces around commas trimmed */
  CHECK(s.q[4].line == 8 && s.q[4].kind == 3 && strcmp(s.q[4].targets[0], "library/re.html") == 0);
  trove_eval_set_free(&s);
  trove_eval_set_free(&s); /* twice, and NULL, are fine */
  trove_eval_set_free(NULL);
}

/* Parses text and checks it fails with code, the message holding want. */
static void parse_fails(const char *text, size_t len, int code, const char *want) {
  trove_eval_set s;
  trove_err e = {0};
  int rc = trove_eval_set_parse("q.tsv", text, len, &s, &e);
  bool ok = rc == code && strstr(e.msg, want) && s.n == 0 && s.q == NULL;
  if (!ok)
    fprintf(stderr, "  rc %d, message \"%s\", wanted %d and \"%s\"\n", rc, e.msg, code, want);
  CHECK(ok);
}

static void parse_errors_name_the_line(void) {
  const char *ok = "keyword\tfine\ta.html\n";
  char buf[512];
  static const struct {
    const char *line, *want;
    int code;
  } bad[] = {
      {"keyword\tquery without targets", "q.tsv:2: expected kind<TAB>query<TAB>", TROVE_EINVAL},
      {"keyword only", "q.tsv:2: expected kind", TROVE_EINVAL},
      {"keyword\t \ta.html", "q.tsv:2: the query is empty", TROVE_EINVAL},
      {"keyword\tq\t", "q.tsv:2: no targets", TROVE_EINVAL},
      {"keyword\tq\t , ", "q.tsv:2: an empty target", TROVE_EINVAL},
      {"keyword\tq\ta.html,,b.html", "q.tsv:2: an empty target", TROVE_EINVAL},
      {"keyword\tq\ta.html,a.html", "q.tsv:2: a target listed twice: \"a.html\"", TROVE_EINVAL},
      {"keyword\tq\ta.html\tb.html", "q.tsv:2: a third tab", TROVE_EINVAL},
      {"\tq\ta.html", "q.tsv:2: the kind must be one word", TROVE_EINVAL},
      {"two words\tq\ta.html", "not \"two words\"", TROVE_EINVAL},
      {"all\tq\ta.html", "q.tsv:2: \"all\" names every query", TROVE_EINVAL},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    snprintf(buf, sizeof buf, "%s%s\n%s", ok, bad[i].line, ok);
    parse_fails(buf, strlen(buf), bad[i].code, bad[i].want);
  }
  /* a 9th kind, and a 33rd target */
  trove_buf b = {0};
  for (int k = 0; k < 9; k++)
    CHECK(trove_buf_printf(&b, "k%d\tq\ta.html\n", k) == 0);
  parse_fails(b.data, b.len, TROVE_ERANGE, "q.tsv:9: more than 8 kinds");
  trove_buf_reset(&b);
  CHECK(trove_buf_puts(&b, "keyword\tq\tt0") == 0);
  for (int t = 1; t < 33; t++)
    CHECK(trove_buf_printf(&b, ",t%d", t) == 0);
  parse_fails(b.data, b.len, TROVE_ERANGE, "q.tsv:1: more than 32 targets");
  trove_buf_free(&b);
  static const char nul[] = "keyword\tq\ta.html\nkeyword\tq\0x\ta.html\n";
  parse_fails(nul, sizeof nul - 1, TROVE_EINVAL, "q.tsv:2: a NUL byte");
  parse_fails("# only a comment\n\n", 18, TROVE_EINVAL, "q.tsv: no queries");
  parse_fails("", 0, TROVE_EINVAL, "no queries");
  trove_eval_set s;
  trove_err e = {0};
  CHECK(trove_eval_set_parse(NULL, "", 0, &s, &e) == TROVE_EINVAL);
  CHECK(trove_eval_set_parse("x", NULL, 3, &s, &e) == TROVE_EINVAL);
  CHECK(trove_eval_set_parse("x", "", 0, NULL, &e) == TROVE_EINVAL);
}

static void load_reads_a_file_or_says_why_not(void) {
  char path[] = "/tmp/trove-eval-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  CHECK(write(fd, good, strlen(good)) == (ssize_t)strlen(good));
  close(fd);
  trove_eval_set s;
  trove_err e = {0};
  CHECK(trove_eval_set_load(path, &s, &e) == 0 && s.n == 5 && strcmp(s.name, path) == 0);
  trove_eval_set_free(&s);
  unlink(path);
  CHECK(trove_eval_set_load(path, &s, &e) == TROVE_ENOENT && strstr(e.msg, path));
  CHECK(trove_eval_set_load("/", &s, &e) == TROVE_EIO); /* a directory: unreadable */
}

static trove_eval_set parsed(const char *text) {
  trove_eval_set s;
  trove_err e = {0};
  CHECK(trove_eval_set_parse("t.tsv", text, strlen(text), &s, &e) == 0);
  return s;
}

static void aggregate_means_per_kind_and_latency(void) {
  trove_eval_set s = parsed("keyword\ta\tx\nquestion\tb\tx\nkeyword\tc\tx\nquestion\td\tx\n");
  trove_eval_score sc[] = {{1, 1, 1}, {1, 0.5, 0.25}, {0, 0, 0}, {1, 0.25, 0.5}};
  double secs[] = {0.003, 0.001, 0.002, 0.010};
  trove_eval_result r;
  trove_eval_aggregate(&s, sc, secs, TROVE_SEARCH_HYBRID, &r);
  CHECK(r.mode == TROVE_SEARCH_HYBRID && r.n_cells == 3);
  CHECK(strcmp(r.cells[0].kind, "all") == 0 && r.cells[0].n == 4);
  CHECK(score_is(r.cells[0].mean, 0.75, 1.75 / 4, 1.75 / 4));
  CHECK(strcmp(r.cells[1].kind, "keyword") == 0 && r.cells[1].n == 2);
  CHECK(score_is(r.cells[1].mean, 0.5, 0.5, 0.5));
  CHECK(strcmp(r.cells[2].kind, "question") == 0 && r.cells[2].n == 2);
  CHECK(score_is(r.cells[2].mean, 1, 0.375, 0.375));
  CHECK(near(r.p50_ms, 2.5) && near(r.mean_ms, 4.0)); /* even count: middle two */
  double odd[] = {0.005, 0.001, 0.003};
  s.n = 3;
  trove_eval_aggregate(&s, sc, odd, TROVE_SEARCH_HYBRID, &r);
  CHECK(near(r.p50_ms, 3.0));
  s.n = 4;
  trove_eval_set_free(&s);
}

static void mean_weighs_each_corpus_the_same(void) {
  trove_eval_result r[2] = {{.mode = TROVE_SEARCH_KEYWORD, .n_cells = 2, .p50_ms = 2,
                             .mean_ms = 3},
                            {.mode = TROVE_SEARCH_KEYWORD, .n_cells = 2, .p50_ms = 4,
                             .mean_ms = 5}};
  r[0].cells[0] = (trove_eval_cell){"all", 10, {1.0, 0.8, 0.9}};
  r[0].cells[1] = (trove_eval_cell){"keyword", 10, {1.0, 0.8, 0.9}};
  r[1].cells[0] = (trove_eval_cell){"all", 30, {0.5, 0.2, 0.3}};
  r[1].cells[1] = (trove_eval_cell){"question", 30, {0.5, 0.2, 0.3}};
  trove_eval_result m;
  trove_eval_mean(r, 2, &m);
  CHECK(m.mode == TROVE_SEARCH_KEYWORD && m.n_cells == 3);
  CHECK(strcmp(m.cells[0].kind, "all") == 0 && m.cells[0].n == 40);
  CHECK(score_is(m.cells[0].mean, 0.75, 0.5, 0.6)); /* not weighted by 10 and 30 */
  CHECK(strcmp(m.cells[1].kind, "keyword") == 0 && score_is(m.cells[1].mean, 1.0, 0.8, 0.9));
  CHECK(strcmp(m.cells[2].kind, "question") == 0 && m.cells[2].n == 30);
  CHECK(near(m.p50_ms, 3) && near(m.mean_ms, 4));
  trove_eval_mean(r, 0, &m);
  CHECK(m.n_cells == 0);
}

/* ---- against a store ------------------------------------------------------- */

static char dir[64];
static trove_store *st;

static int rm_one(const char *p, const struct stat *sb, int f, struct FTW *w) {
  (void)sb, (void)f, (void)w;
  return remove(p);
}

static void store_setup(void) {
  snprintf(dir, sizeof dir, "/tmp/trove-eval-XXXXXX");
  CHECK(mkdtemp(dir) != NULL);
  char db[128];
  snprintf(db, sizeof db, "%s/trove.db", dir);
  trove_err e = {0};
  trove_store_opts o = {.path = db};
  int64_t src = 0;
  CHECK(trove_store_open(&o, &st, &e) == 0);
  CHECK(trove_store_source_add(st, "docs", "fs", "/docs", NULL, &src, &e) == 0);
  static const char *const items[][3] = {
      {"/docs/html/sky.html", "The sky", "Why the sky is blue: scattering of sunlight."},
      {"/docs/html/sea.html", "The sea", "Waves, tides and salt water of the sea."},
      {"/docs/html/library/re.html", "re", "Regular expression operations and patterns."},
  };
  for (size_t i = 0; i < 3; i++) {
    trove_store_item it = {.external_id = items[i][0], .type = TROVE_ITEM_LOCAL,
                           .title = items[i][1], .text = items[i][2]};
    CHECK(trove_store_item_upsert(st, src, &it, NULL, &e) == 0);
  }
}

static void check_names_unknown_targets_and_their_line(void) {
  trove_err e = {0};
  trove_eval_set s = parsed(good);
  CHECK(trove_eval_set_check(&s, st, &e) == 0);
  trove_eval_set_free(&s);
  s = parsed("keyword\tsky\tsky.html\n# note\nkeyword\tx\tsky.html,nope.html\n"
             "question\ty\tmissing/re.html\n");
  CHECK(trove_eval_set_check(&s, st, &e) == TROVE_ENOENT);
  CHECK(strstr(e.msg, "t.tsv:3: target \"nope.html\" is not in the database") != NULL);
  CHECK(strstr(e.msg, "and 1 more unknown target") != NULL);
  trove_eval_set_free(&s);
  CHECK(trove_eval_set_check(NULL, st, &e) == TROVE_EINVAL);
}

static void run_keyword_mode_scores_each_query(void) {
  trove_eval_set s = parsed("keyword\tsky blue\tsky.html\n"
                            "keyword\tregular expression\tlibrary/re.html,sea.html\n"
                            "question\twhere do tides come from?\tsky.html\n");
  trove_search_params p;
  trove_search_params_default(&p);
  p.mode = TROVE_SEARCH_KEYWORD;
  trove_eval_result r;
  trove_err e = {0};
  char *trace = NULL;
  size_t trace_len = 0;
  FILE *f = open_memstream(&trace, &trace_len);
  CHECK(trove_eval_run(st, NULL, NULL, &s, &p, true, f, &r, &e) == 0);
  fclose(f);
  CHECK(r.mode == TROVE_SEARCH_KEYWORD && r.n_cells == 3 && r.cells[0].n == 3);
  /* sky: first; re: first of two targets (1 + 0)/(1 + 1/log2 3); tides: the
   * sea page only, so nothing */
  double ndcg_re = 1 / (1 + 1 / log2(3.0));
  CHECK(score_is(r.cells[1].mean, 1, 1, (1 + ndcg_re) / 2));
  CHECK(score_is(r.cells[2].mean, 0, 0, 0));
  CHECK(r.p50_ms > 0 && r.mean_ms > 0);
  CHECK(trace && strstr(trace, "# keyword   1  sky blue -> /docs/html/sky.html\n") != NULL);
  CHECK(trace && strstr(trace, " 0  where do tides come from? -> /docs/html/sea.html\n"));
  free(trace);
  /* hybrid without the model fails, naming the line */
  p.mode = TROVE_SEARCH_HYBRID;
  CHECK(trove_eval_run(st, NULL, NULL, &s, &p, false, NULL, &r, &e) == TROVE_EINVAL);
  CHECK(strncmp(e.msg, "t.tsv:1: search: hybrid mode needs", 34) == 0);
  CHECK(trove_eval_run(NULL, NULL, NULL, &s, &p, false, NULL, &r, &e) == TROVE_EINVAL);
  trove_eval_set_free(&s);
}

static void reports_print_table_and_peers_lines(void) {
  trove_eval_result r = {.mode = TROVE_SEARCH_SEMANTIC, .n_cells = 2, .p50_ms = 12.5,
                         .mean_ms = 20};
  r.cells[0] = (trove_eval_cell){"all", 3, {2.0 / 3, 0.5, 0.625}};
  r.cells[1] = (trove_eval_cell){"question", 3, {2.0 / 3, 0.5, 0.625}};
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&out, &len);
  CHECK(trove_eval_print_table(f, &r, 1) == 0);
  CHECK(trove_eval_print_peers(f, "tiny", NULL, &r, 1) == 0);
  CHECK(trove_eval_print_peers(f, "tiny", "k20", &r, 1) == 0);
  fclose(f);
  CHECK(strstr(out, "semantic  latency p50 12.5 ms, mean 20.0 ms\n") != NULL);
  CHECK(strstr(out, "  kind             n  recall@10   MRR@10  nDCG@10\n") != NULL);
  CHECK(strstr(out, "  question         3      0.667    0.500    0.625\n") != NULL);
  CHECK(strstr(out, "peer=trove workload=search-quality threads=1 param=tiny-semantic-all "
                    "seconds=0.020000 metric=0.667 unit=recall@10\n") != NULL);
  CHECK(strstr(out, "param=tiny-semantic-question seconds=0.020000 metric=0.625 "
                    "unit=ndcg@10\n") != NULL);
  CHECK(strstr(out, "peer=trove workload=search-latency threads=1 param=tiny-semantic "
                    "seconds=0.012500 metric=12.500 unit=ms-p50\n") != NULL);
  CHECK(strstr(out, "param=tiny-semantic-k20-all ") != NULL);
  free(out);
  CHECK(trove_eval_print_table(NULL, &r, 1) == TROVE_EINVAL);
}

static void fault_loop_parse_fails_cleanly(void) {
  long k;
  for (k = 0; k < 1000; k++) {
    trove_eval_set s;
    trove_err e = {0};
    trove_alloc_fail_after(k, false);
    int rc = trove_eval_set_parse("good.tsv", good, strlen(good), &s, &e);
    long failed = trove_alloc_fail_after(-1, false);
    if (rc == 0) {
      CHECK(failed == 0 && s.n == 5);
      trove_eval_set_free(&s);
      break;
    }
    CHECK(rc == TROVE_ENOMEM && s.q == NULL && s.text == NULL);
  }
  CHECK(k > 2 && k < 1000);
}

int main(void) {
  RUN(path_matches_whole_trailing_components);
  RUN(scores_match_hand_computed_values);
  RUN(parse_reads_kinds_queries_and_targets);
  RUN(parse_errors_name_the_line);
  RUN(load_reads_a_file_or_says_why_not);
  RUN(aggregate_means_per_kind_and_latency);
  RUN(mean_weighs_each_corpus_the_same);
  store_setup();
  RUN(check_names_unknown_targets_and_their_line);
  RUN(run_keyword_mode_scores_each_query);
  RUN(reports_print_table_and_peers_lines);
  RUN(fault_loop_parse_fails_cleanly);
  trove_store_close(st);
  nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
  return check_done(__FILE__);
}
