/* cli_explain.c: `trove search --explain`, the signals behind each result's
 * place, from its trove_search_why (search.h). Text:
 *
 *     why: keyword #2, BM25 7.41 = 0.62 of the best (title 3.10, headings
 *          0.00, text 1.95 alone); semantic #5, cosine 0.512 = 0.71 of the
 *          span 0.301..0.598
 *          score 0.8 x 0.62 + 0.2 x 0.71 + 0.5 x 61 x rank fusion 0.0251 = 1.404
 *
 * and in JSON a "why" object with the same numbers under stable names. */
#include "cli.h"
#include "search.h"

/* The score's formula with this result's numbers. */
static void text_score(FILE *f, const trove_search_result *r, const trove_search_params *p) {
  const trove_search_why *w = &r->why;
  double k = p->rrf_k > 0 ? p->rrf_k : 60;
  if (w->by_score)
    fprintf(f, "         score %.2g x %.2f + %.2g x %.2f + %.2g x %.0f x rank fusion %.4f",
            p->fusion_alpha, w->keyword_scaled, 1 - p->fusion_alpha, w->cosine_scaled,
            p->fusion_rrf, k + 1, w->rank_fusion);
  else
    fprintf(f, "         score: rank fusion %.4f", w->rank_fusion);
  if (w->hub_factor != 1)
    fprintf(f, ", x %.2g as a link hub", w->hub_factor);
  fprintf(f, " = %.4f\n", r->score);
}

void cli_explain_text(FILE *f, const trove_search_result *r, const trove_search_params *p) {
  const trove_search_why *w = &r->why;
  fputs("    why: ", f);
  if (r->keyword_rank)
    fprintf(f, "keyword #%zu, BM25 %.3g = %.2f of the best (title %.3g, headings %.3g, "
            "text %.3g alone)", r->keyword_rank, w->bm25, w->keyword_scaled, w->bm25_fields[0],
            w->bm25_fields[1], w->bm25_fields[2]);
  else if (p->mode != TROVE_SEARCH_SEMANTIC && p->like <= 0)
    fputs("no query word (keyword side)", f);
  if (r->semantic_rank)
    fprintf(f, "%ssemantic #%zu, cosine %.3f = %.2f of the span %.3f..%.3f",
            r->keyword_rank || p->mode == TROVE_SEARCH_HYBRID ? "; " : "", r->semantic_rank,
            (double)r->cosine, w->cosine_scaled, w->floor, w->best_cosine);
  else if (p->mode != TROVE_SEARCH_KEYWORD)
    fputs("; not among the nearest passages", f);
  fputc('\n', f);
  text_score(f, r, p);
}

void cli_explain_json(trove_json_out *o, const trove_search_result *r,
                      const trove_search_params *p) {
  const trove_search_why *w = &r->why;
  trove_json_out_object(o, "why");
  trove_json_out_str(o, "fusion", w->by_score ? "score" : "rank");
  trove_json_out_num(o, "bm25", w->bm25, -1);
  trove_json_out_num(o, "bm25_title", w->bm25_fields[0], -1);
  trove_json_out_num(o, "bm25_headings", w->bm25_fields[1], -1);
  trove_json_out_num(o, "bm25_text", w->bm25_fields[2], -1);
  trove_json_out_num(o, "keyword_scaled", w->keyword_scaled, -1);
  trove_json_out_num(o, "cosine_scaled", w->cosine_scaled, -1);
  trove_json_out_num(o, "cosine_floor", w->floor, -1);
  trove_json_out_num(o, "cosine_best", w->best_cosine, -1);
  trove_json_out_num(o, "convex", w->convex, -1);
  trove_json_out_num(o, "rank_fusion", w->rank_fusion, -1);
  trove_json_out_num(o, "hub_factor", w->hub_factor, -1);
  trove_json_out_num(o, "fusion_alpha", w->by_score ? p->fusion_alpha : 0, -1);
  trove_json_out_num(o, "fusion_rrf", w->by_score ? p->fusion_rrf : 0, -1);
  trove_json_out_num(o, "rrf_k", p->rrf_k, -1);
  trove_json_out_end(o);
}
