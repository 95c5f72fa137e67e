/* report.c: printing evaluation results (eval.h): a table per mode for
 * people, and result lines in the peers' format for the benchmark scripts,
 * which collect every line starting with "peer=".
 */
#include "eval.h"

static int written(FILE *f) { return ferror(f) ? TROVE_EIO : 0; }

int trove_eval_print_table(FILE *f, const trove_eval_result *r, size_t n) {
  if (!f || (!r && n))
    return TROVE_EINVAL;
  for (size_t m = 0; m < n; m++) {
    fprintf(f, "%s%-9s latency p50 %.1f ms, mean %.1f ms\n", m ? "\n" : "",
            trove_search_mode_name(r[m].mode), r[m].p50_ms, r[m].mean_ms);
    fprintf(f, "  %-12s %5s  %9s  %7s  %7s\n", "kind", "n", "recall@10", "MRR@10", "nDCG@10");
    for (size_t c = 0; c < r[m].n_cells; c++) {
      const trove_eval_cell *x = &r[m].cells[c];
      fprintf(f, "  %-12s %5zu  %9.3f  %7.3f  %7.3f\n", x->kind, x->n, x->mean.recall,
              x->mean.mrr, x->mean.ndcg);
    }
  }
  return written(f);
}

int trove_eval_print_peers(FILE *f, const char *corpus, const char *variant,
                           const trove_eval_result *r, size_t n) {
  if (!f || !corpus || (!r && n))
    return TROVE_EINVAL;
  static const char *const units[] = {"recall@10", "mrr@10", "ndcg@10"};
  const char *dash = variant && *variant ? "-" : "", *var = variant ? variant : "";
  for (size_t m = 0; m < n; m++) {
    const char *mode = trove_search_mode_name(r[m].mode);
    for (size_t c = 0; c < r[m].n_cells; c++) {
      const trove_eval_score *s = &r[m].cells[c].mean;
      const double v[] = {s->recall, s->mrr, s->ndcg};
      for (size_t u = 0; u < 3; u++)
        fprintf(f, "peer=trove workload=search-quality threads=1 param=%s-%s%s%s-%s "
                "seconds=%.6f metric=%.3f unit=%s\n", corpus, mode, dash, var,
                r[m].cells[c].kind, r[m].mean_ms / 1e3, v[u], units[u]);
    }
    fprintf(f, "peer=trove workload=search-latency threads=1 param=%s-%s%s%s seconds=%.6f "
            "metric=%.3f unit=ms-p50\n", corpus, mode, dash, var, r[m].p50_ms / 1e3,
            r[m].p50_ms);
  }
  return written(f);
}
