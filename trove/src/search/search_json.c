/* search_json.c: a search's results as JSON, the one writer behind both
 * `trove search --json` and the web API's /api/search, so a script and the
 * page read the same fields. It writes through trove_json_out (json.h), so
 * titles, paths and passages from hostile pages are quoted as every other
 * JSON trove prints. The "why" object carries the signals `--explain`
 * prints (search.h, trove_search_why) under stable names. */
#include "json.h"
#include "search.h"

/* The signals behind r's score, as the member "why". */
static void why_json(trove_json_out *o, const trove_search_result *r,
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

static void json_one(trove_json_out *o, size_t rank, const trove_search_result *r,
                     const trove_search_params *p) {
  trove_json_out_object(o, NULL);
  trove_json_out_int(o, "rank", (int64_t)rank);
  trove_json_out_int(o, "id", r->item_id);
  trove_json_out_num(o, "score", r->score, -1);
  trove_json_out_int(o, "keyword_rank", (int64_t)r->keyword_rank);
  trove_json_out_int(o, "semantic_rank", (int64_t)r->semantic_rank);
  trove_json_out_num(o, "cosine", r->cosine, 4);
  trove_json_out_str(o, "type", trove_item_type_name(r->type));
  trove_json_out_bool(o, "link_hub", r->is_link_hub);
  trove_json_out_int(o, "date", r->date);
  trove_json_out_str(o, "title", r->title ? r->title : "");
  trove_json_out_str(o, "source", r->source ? r->source : "");
  trove_json_out_str(o, "path", r->external_id ? r->external_id : "");
  trove_json_out_int(o, "passage_id", r->passage_id);
  trove_json_out_str(o, "heading", r->heading ? r->heading : "");
  trove_json_out_str(o, "passage", r->passage ? r->passage : "");
  trove_json_out_array(o, "mark");
  trove_json_out_int(o, NULL, (int64_t)r->mark_start);
  trove_json_out_int(o, NULL, (int64_t)r->mark_end);
  trove_json_out_end(o);
  trove_json_out_str(o, "passage_by", trove_passage_by_name(r->passage_by));
  if (p->explain)
    why_json(o, r, p);
  trove_json_out_end(o);
}

void trove_search_json_write(trove_json_out *o, const trove_search_result *r, size_t n,
                             const trove_search_params *p) {
  trove_search_params def;
  if (!p) {
    trove_search_params_default(&def);
    p = &def;
  }
  if (n && !r) {
    if (!o->rc)
      o->rc = TROVE_EINVAL;
    return;
  }
  trove_json_out_array(o, NULL);
  for (size_t i = 0; i < n; i++)
    json_one(o, i + 1, &r[i], p);
  trove_json_out_end(o);
}
