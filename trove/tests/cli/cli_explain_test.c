/* cli_explain_test.c: `trove search --explain` on a three-file collection:
 * every result carries the signals that ranked it, in text and in JSON, and
 * the JSON numbers make up the score as search.c HOW IT WORKS 3 says: the
 * convex mix plus fusion_rrf x (rrf_k + 1) x the rank fusion score, times
 * the hub factor. Usage: cli_explain_test PATH_TO_TROVE. */
#include "json.h"
#include "run.h"

#include <math.h>

typedef struct fx {
  char dir[64], tree[96], db[96];
} fx;

static void fx_init(fx *f) {
  run_tempdir(f->dir, sizeof f->dir, "explain");
  snprintf(f->tree, sizeof f->tree, "%s/tree", f->dir);
  snprintf(f->db, sizeof f->db, "%s/trove.db", f->dir);
  CHECK(mkdir(f->tree, 0755) == 0);
  run_put(f->tree, "otters.md", "# Otters\n\nOtters hold hands while they sleep in the river.\n");
  run_put(f->tree, "rivers.txt", "Beavers build dams on rivers; otters visit them at dusk.\n");
  run_put(f->tree, "granite.txt", "Granite is an igneous rock, quarried for kitchen worktops.\n");
  static run_out r;
  RUN_TROVE(&r, f->dir, f->db, "source", "add", "notes", "fs", f->tree);
  CHECK(r.code == 0);
  RUN_TROVE(&r, f->dir, f->db, "scan");
  CHECK(r.code == 0);
}

static double num(const trove_json *o, const char *key) {
  const trove_json *v = trove_json_get(o, key);
  CHECK(v != NULL);
  return v ? trove_json_num(v, NAN) : NAN;
}

/* Hybrid with --json: a "why" per result whose numbers make its score. */
static void explain_json_adds_up_to_the_score(void) {
  fx f;
  fx_init(&f);
  static run_out r;
  RUN_TROVE(&r, f.dir, f.db, "search", "otters", "river", "--explain", "--json");
  CHECK(r.code == 0);
  trove_json_doc *doc = NULL;
  trove_err e = {0};
  CHECK(trove_json_parse(r.out, strlen(r.out), 0, &doc, &e) == 0);
  const trove_json *arr = doc ? trove_json_root(doc) : NULL;
  CHECK(arr && trove_json_len(arr) >= 2);
  for (size_t i = 0; arr && i < trove_json_len(arr); i++) {
    const trove_json *h = trove_json_at(arr, i), *w = trove_json_get(h, "why");
    CHECK(w != NULL);
    if (!w)
      continue;
    CHECK(strcmp(trove_json_get_str(w, "fusion", ""), "score") == 0);
    double rrf = num(w, "rank_fusion"), convex = num(w, "convex"), k = num(w, "rrf_k");
    double alpha = num(w, "fusion_alpha"), kws = num(w, "keyword_scaled");
    double coss = num(w, "cosine_scaled"), want;
    CHECK(fabs(convex - (alpha * kws + (1 - alpha) * coss)) < 1e-5);
    want = (convex + num(w, "fusion_rrf") * (k + 1) * rrf) * num(w, "hub_factor");
    CHECK(fabs(num(h, "score") - want) < 1e-4 * (1 + want));
    if (trove_json_get_i64(h, "keyword_rank", 0) > 0) /* its text holds a word */
      CHECK(num(w, "bm25") > 0 && num(w, "bm25_text") > 0);
    else
      CHECK(num(w, "bm25") == 0 && kws == 0);
    CHECK(kws >= 0 && kws <= 1 && coss >= 0 && coss <= 1);
  }
  const trove_json *first = arr ? trove_json_at(arr, 0) : NULL; /* "Otters" is a title */
  CHECK(first && num(trove_json_get(first, "why"), "bm25_title") > 0);
  trove_json_free(doc);
  RUN_TROVE(&r, f.dir, f.db, "search", "otters", "--json"); /* no --explain: no why */
  CHECK(r.code == 0 && strstr(r.out, "\"why\"") == NULL);
  run_rmdir(f.dir);
}

/* Text: one "why:" line per result, naming each list it is in; keyword mode
 * says its score is the rank fusion score. */
static void explain_text_names_the_signals(void) {
  fx f;
  fx_init(&f);
  static run_out r;
  RUN_TROVE(&r, f.dir, f.db, "search", "otters", "--explain");
  CHECK(r.code == 0);
  size_t whys = 0, results = 0;
  for (const char *p = r.out; (p = strstr(p, "    why: ")); p++)
    whys++;
  for (const char *p = r.out; (p = strstr(p, ". ")) && p > r.out; p++)
    results += p[-1] >= '0' && p[-1] <= '9' && (p - 2 < r.out || p[-2] == ' ' || p[-2] == '\n');
  CHECK(whys >= 2 && whys == results);
  CHECK(strstr(r.out, "keyword #1, BM25 ") && strstr(r.out, "semantic #"));
  CHECK(strstr(r.out, "score 0.8 x "));
  RUN_TROVE(&r, f.dir, f.db, "search", "otters", "--explain", "--mode", "keyword");
  CHECK(r.code == 0 && strstr(r.out, "keyword #1") && !strstr(r.out, "semantic #"));
  CHECK(strstr(r.out, "score: rank fusion"));
  run_rmdir(f.dir);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: cli_explain_test PATH_TO_TROVE\n");
    return 2;
  }
  trove_bin = argv[1];
  RUN(explain_json_adds_up_to_the_score);
  RUN(explain_text_names_the_signals);
  return check_done(__FILE__);
}
