/* metrics.c: the measures of eval.h: one ranking against its targets
 * (recall@10, MRR@10, nDCG@10 with binary relevance), their means per kind,
 * latency percentiles, and the mean across corpora. Pure functions of their
 * arguments: the unit tests check them on rankings scored by hand.
 */
#include "eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

bool trove_eval_path_matches(const char *path, const char *target) {
  if (!path || !target)
    return false;
  size_t n = strlen(path), k = strlen(target);
  if (n == k)
    return strcmp(path, target) == 0;
  return k > 0 && n > k && path[n - k - 1] == '/' && strcmp(path + n - k, target) == 0;
}

/* The gain of a relevant item at 1-based rank r. */
static double gain(size_t r) { return 1.0 / log2((double)r + 1.0); }

trove_eval_score trove_eval_score_ranking(const char *const *paths, size_t n,
                                          const char *const *targets, size_t n_targets) {
  trove_eval_score s = {0, 0, 0};
  if (n_targets > TROVE_EVAL_MAX_TARGETS)
    n_targets = TROVE_EVAL_MAX_TARGETS;
  if (!n_targets || !paths || !targets)
    return s;
  bool seen[TROVE_EVAL_MAX_TARGETS] = {false};
  double dcg = 0, ideal = 0;
  for (size_t r = 1; r <= n && r <= TROVE_EVAL_DEPTH; r++) {
    size_t t = 0;
    while (t < n_targets && (seen[t] || !trove_eval_path_matches(paths[r - 1], targets[t])))
      t++;
    if (t == n_targets)
      continue;
    seen[t] = true;
    dcg += gain(r);
    if (s.mrr == 0) {
      s.recall = 1;
      s.mrr = 1.0 / (double)r;
    }
  }
  for (size_t r = 1; r <= n_targets && r <= TROVE_EVAL_DEPTH; r++)
    ideal += gain(r);
  s.ndcg = dcg / ideal;
  return s;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Adds x to the sum in *to (a cell's means are sums until divided). */
static void score_add(trove_eval_score *to, trove_eval_score x) {
  to->recall += x.recall;
  to->mrr += x.mrr;
  to->ndcg += x.ndcg;
}

/* Divides c's sums by `by` (nothing when 0). */
static void cell_divide(trove_eval_cell *c, double by) {
  if (by <= 0)
    return;
  c->mean.recall /= by;
  c->mean.mrr /= by;
  c->mean.ndcg /= by;
}

static void cell_name(trove_eval_cell *c, const char *kind) {
  snprintf(c->kind, sizeof c->kind, "%s", kind);
}

void trove_eval_aggregate(const trove_eval_set *s, const trove_eval_score *scores,
                          double *seconds, trove_search_mode mode, trove_eval_result *out) {
  memset(out, 0, sizeof *out);
  out->mode = mode;
  out->n_cells = 1 + s->n_kinds;
  cell_name(&out->cells[0], "all");
  for (size_t k = 0; k < s->n_kinds; k++)
    cell_name(&out->cells[1 + k], s->kinds[k]);
  double total = 0;
  for (size_t i = 0; i < s->n; i++) {
    out->cells[0].n++;
    score_add(&out->cells[0].mean, scores[i]);
    out->cells[1 + s->q[i].kind].n++;
    score_add(&out->cells[1 + s->q[i].kind].mean, scores[i]);
    total += seconds[i];
  }
  for (size_t c = 0; c < out->n_cells; c++)
    cell_divide(&out->cells[c], (double)out->cells[c].n);
  if (!s->n)
    return;
  qsort(seconds, s->n, sizeof *seconds, cmp_double);
  double p50 = s->n % 2 ? seconds[s->n / 2] : (seconds[s->n / 2 - 1] + seconds[s->n / 2]) / 2;
  out->p50_ms = p50 * 1e3;
  out->mean_ms = total / (double)s->n * 1e3;
}

/* The cell of out named kind, added when new; NULL when out is full. */
static trove_eval_cell *cell_for(trove_eval_result *out, const char *kind) {
  for (size_t c = 0; c < out->n_cells; c++)
    if (strcmp(out->cells[c].kind, kind) == 0)
      return &out->cells[c];
  if (out->n_cells == 1 + TROVE_EVAL_MAX_KINDS)
    return NULL;
  trove_eval_cell *c = &out->cells[out->n_cells++];
  cell_name(c, kind);
  return c;
}

void trove_eval_mean(const trove_eval_result *r, size_t n, trove_eval_result *out) {
  memset(out, 0, sizeof *out);
  if (!n)
    return;
  out->mode = r[0].mode;
  size_t corpora[1 + TROVE_EVAL_MAX_KINDS] = {0};
  for (size_t i = 0; i < n; i++) {
    for (size_t c = 0; c < r[i].n_cells; c++) {
      trove_eval_cell *m = cell_for(out, r[i].cells[c].kind);
      if (!m)
        continue; /* more kinds across corpora than a result holds: dropped */
      m->n += r[i].cells[c].n;
      score_add(&m->mean, r[i].cells[c].mean);
      corpora[m - out->cells]++;
    }
    out->p50_ms += r[i].p50_ms / (double)n;
    out->mean_ms += r[i].mean_ms / (double)n;
  }
  for (size_t c = 0; c < out->n_cells; c++)
    cell_divide(&out->cells[c], (double)corpora[c]);
}
