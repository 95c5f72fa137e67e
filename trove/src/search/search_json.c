/* search_json.c: a search's results as JSON, the one writer behind both
 * `trove search --json` and the web API's /api/search, so a script and the
 * page read the same fields. Every string goes through trove_json_quote
 * (json.h): titles, paths and passages come from hostile pages. The "why"
 * object carries the signals `--explain` prints (search.h,
 * trove_search_why) under stable names. */
#include "json.h"
#include "search.h"

/* The signals behind r's score, as a "why" member (with its leading comma). */
static int why_json(trove_buf *b, const trove_search_result *r, const trove_search_params *p) {
  const trove_search_why *w = &r->why;
  return trove_buf_printf(
      b,
      ",\"why\":{\"fusion\":\"%s\",\"bm25\":%.6g,\"bm25_title\":%.6g,\"bm25_headings\":%.6g,"
      "\"bm25_text\":%.6g,\"keyword_scaled\":%.6g,\"cosine_scaled\":%.6g,\"cosine_floor\":%.6g,"
      "\"cosine_best\":%.6g,\"convex\":%.6g,\"rank_fusion\":%.6g,\"hub_factor\":%.6g,"
      "\"fusion_alpha\":%.6g,\"fusion_rrf\":%.6g,\"rrf_k\":%.6g}",
      w->by_score ? "score" : "rank", w->bm25, w->bm25_fields[0], w->bm25_fields[1],
      w->bm25_fields[2], w->keyword_scaled, w->cosine_scaled, w->floor, w->best_cosine, w->convex,
      w->rank_fusion, w->hub_factor, w->by_score ? p->fusion_alpha : 0,
      w->by_score ? p->fusion_rrf : 0, p->rrf_k);
}

static int json_one(trove_buf *b, size_t rank, const trove_search_result *r,
                    const trove_search_params *p) {
  int rc = trove_buf_printf(b, "%s\n {\"rank\":%zu,\"id\":%lld,\"score\":%.6g,\"keyword_rank\":%zu,"
                            "\"semantic_rank\":%zu,\"cosine\":%.4f,\"type\":\"%s\",\"link_hub\":%s,"
                            "\"date\":%lld,\"title\":", rank > 1 ? "," : "", rank,
                            (long long)r->item_id, r->score, r->keyword_rank, r->semantic_rank,
                            (double)r->cosine, trove_item_type_name(r->type),
                            r->is_link_hub ? "true" : "false", (long long)r->date);
  rc = rc ? rc : trove_json_quote(b, r->title);
  rc = rc ? rc : trove_buf_puts(b, ",\"source\":");
  rc = rc ? rc : trove_json_quote(b, r->source);
  rc = rc ? rc : trove_buf_puts(b, ",\"path\":");
  rc = rc ? rc : trove_json_quote(b, r->external_id);
  rc = rc ? rc : trove_buf_printf(b, ",\"passage_id\":%lld,\"heading\":", (long long)r->passage_id);
  rc = rc ? rc : trove_json_quote(b, r->heading);
  rc = rc ? rc : trove_buf_puts(b, ",\"passage\":");
  rc = rc ? rc : trove_json_quote(b, r->passage);
  rc = rc ? rc : trove_buf_printf(b, ",\"mark\":[%zu,%zu]", r->mark_start, r->mark_end);
  rc = rc || !p->explain ? rc : why_json(b, r, p);
  return rc ? rc : trove_buf_putc(b, '}');
}

int trove_search_json(trove_buf *b, const trove_search_result *r, size_t n,
                      const trove_search_params *p) {
  trove_search_params def;
  if (!b || (n && !r))
    return TROVE_EINVAL;
  if (!p) {
    trove_search_params_default(&def);
    p = &def;
  }
  size_t len = b->len;
  int rc = trove_buf_putc(b, '[');
  for (size_t i = 0; rc == 0 && i < n; i++)
    rc = json_one(b, i + 1, &r[i], p);
  rc = rc ? rc : trove_buf_puts(b, "\n]\n");
  if (rc) { /* as it was: a caller never sends half an array */
    b->len = len;
    if (b->data)
      b->data[len] = 0;
  }
  return rc;
}
