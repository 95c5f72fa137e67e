/* search.c: the hybrid ranker (search.h).
 *
 * HOW IT WORKS
 * 1. Keyword list. trove_store_search ANDs the words of its query (BM25,
 *    title x10, or x20 when fused with vectors, headings x4). Natural-
 *    language queries ("run a function later after a delay") rarely have
 *    every word on one page, so the list is: the AND hits of the content words (stop words dropped), then
 *    items found by single words, ranked by the sum over words of
 *    1/(10 + rank in that word's list): a small OR without changing the
 *    store. Its rank is an item's keyword rank.
 * 2. Vector list. The query is embedded (or, for `like`, the mean of the
 *    item's passage vectors) and the index returns the vector_depth
 *    closest passages. Each passage maps to its item; an item keeps the
 *    ranks of its agg_top best passages.
 * 3. Fusion at the item level, by score (the default, fusion_alpha > 0):
 *      alpha * bm25 / best bm25 + (1 - alpha) * (cos - floor) / (best - floor)
 *    where the keyword list is then the items holding ANY content word,
 *    ranked by one BM25 (FTS5 OR), cos an item's best passage's cosine and
 *    floor the farthest cosine in the vector list; plus fusion_rrf times the
 *    weighted reciprocal rank fusion score
 *      w_keyword / (k + keyword rank)
 *    + w_semantic * sum_j agg_decay^j / (k + rank of the item's j-th passage)
 *    (scaled so a first keyword place adds fusion_rrf), which is the whole
 *    score when fusion_alpha is 0. Then times hub_weight for link hubs
 *    (index pages, contents), which otherwise crowd the vector list: they
 *    mention everything once. Scores keep what ranks lose: how far ahead the
 *    BM25 favourite is. A decisive keyword match stays first, and when the
 *    keyword evidence is flat the vectors order it; the rank term lifts
 *    items both lists found. The query-adaptive terms of search.h adjust
 *    the rank fusion by the query's keyword evidence (off by default).
 * 4. Filters: the store filters the keyword side. For the vector side the
 *    store lists the passages a source or type filter allows, and the index
 *    search admits only those (falling back to an exact scan when the
 *    approximate one comes back short), so a rare type still gets its
 *    vector_depth nearest passages rather than whatever of the unfiltered
 *    nearest happens to match. Vector items are checked again (hidden, and
 *    deleted since the index was saved) when read: one store query reads
 *    the items of all the hits' passages. Hidden items never come
 *    back.
 * 5. The top n get their best passage and marked sentence (highlight.c).
 *
 * DEFAULTS are chosen by bench/search_quality.c --grid over five corpora
 * (trove/bench/queries/), a setting kept only when it holds up leave-one-
 * corpus-out; bench/RESULTS.md has the tables. What the sweeps say:
 * - score fusion at alpha 0.8 plus half the rank score beats rank fusion
 *   alone on MRR@10 on every corpus left out (exact keyword queries most:
 *   a confident BM25 hit is no longer pulled down by noisy vectors);
 * - vectors count less than BM25 in the rank term (w_semantic 0.6);
 * - in hybrid mode a title match counts 20 times a body match (10 in
 *   keyword mode): chosen for every corpus left out, never worse on one;
 * - one passage per item (agg_top 1): long pages have many mediocre
 *   passages, and summing them favours length over the best match;
 * - link hubs halved: index and contents pages crowd the vector list;
 * - the query-adaptive terms (all_words_boost, no_match_semantic,
 *   keyword_margin, cosine_window) stay off: none held up on every corpus
 *   left out.
 */
#include "search_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { AGG_MAX = 8, MAX_RESULTS = 1000 };

void trove_search_params_default(trove_search_params *p) {
  memset(p, 0, sizeof *p);
  p->mode = TROVE_SEARCH_HYBRID;
  p->n = 10;
  p->keyword_depth = 100;
  p->w_title = 0; /* the mode's own: see title_weight */
  p->w_headings = 4;
  p->w_text = 1;
  p->vector_depth = 300;
  p->agg_top = 1;
  p->agg_decay = 0.5;
  p->rrf_k = 60;
  p->w_keyword = 1.0;
  p->w_semantic = 0.6;
  p->all_words_boost = 1.0;
  p->no_match_semantic = 1.0;
  p->hub_weight = 0.5;
  p->min_cosine = TROVE_SEARCH_MIN_COSINE;
  p->fusion_alpha = 0.8;
  p->fusion_rrf = 0.5;
}

const char *trove_search_mode_name(trove_search_mode m) {
  switch (m) {
  case TROVE_SEARCH_KEYWORD:
    return "keyword";
  case TROVE_SEARCH_SEMANTIC:
    return "semantic";
  default:
    return "hybrid";
  }
}

int trove_search_mode_parse(const char *s, trove_search_mode *out) {
  static const trove_search_mode all[] = {TROVE_SEARCH_HYBRID, TROVE_SEARCH_KEYWORD,
                                          TROVE_SEARCH_SEMANTIC};
  for (size_t i = 0; s && out && i < 3; i++)
    if (strcmp(s, trove_search_mode_name(all[i])) == 0) {
      *out = all[i];
      return 0;
    }
  return TROVE_EINVAL;
}

void trove_search_results_free(trove_search_result *r, size_t n) {
  for (size_t i = 0; r && i < n; i++) {
    trove_free(r[i].title);
    trove_free(r[i].external_id);
    trove_free(r[i].source);
    trove_free(r[i].heading);
    trove_free(r[i].passage);
  }
  trove_free(r);
}

/* ---- candidates ------------------------------------------------------------ */

typedef struct cand {
  int64_t item;
  size_t kw_rank;          /* 0 absent */
  bool all_words;          /* holds every content word of the query */
  double bm25;             /* its BM25 score in the keyword list */
  size_t sem[AGG_MAX];     /* ranks of its best passages, ascending */
  size_t n_sem;
  int64_t best_passage;
  float cosine;
  bool hub;               /* a link hub: demoted */
  bool checked, rejected;  /* vector side: filters applied */
  double convex, rrf;      /* the parts of the score (trove_search_why) */
  double score;
} cand;

typedef struct ctx {
  trove_store *st;
  const trove_search_params *p;
  int64_t source_id; /* 0: any */
  size_t n_all_words; /* items holding every content word */
  double bm25_first, bm25_second; /* the AND list's two best scores */
  float best_cosine;  /* the nearest passage's */
  float cosine_floor; /* the farthest of the vector list's passages */
  double bm25_max;    /* the keyword list's best score */
  cand *c;
  size_t n, cap;
  trove_err *err;
} ctx;

static cand *find_or_add(ctx *x, int64_t item) {
  for (size_t i = 0; i < x->n; i++)
    if (x->c[i].item == item)
      return &x->c[i];
  if (x->n == x->cap) {
    size_t cap = x->cap ? x->cap * 2 : 64, bytes;
    if (!trove_mul_ok(cap, sizeof *x->c, &bytes))
      return NULL;
    cand *c = trove_realloc(x->c, bytes);
    if (!c)
      return NULL;
    x->c = c;
    x->cap = cap;
  }
  cand *c = &x->c[x->n++];
  memset(c, 0, sizeof *c);
  c->item = item;
  return c;
}

static int nomem(ctx *x) {
  return trove_err_keep(x->err, TROVE_ENOMEM, "search: out of memory ranking candidates");
}

/* ---- 1. keyword list -------------------------------------------------------- */

/* The title's BM25 weight: p->w_title, or when 0 the mode's own, each the
 * best on the benchmark corpora for that mode (bench/RESULTS.md): a title
 * match counts more once vectors are fused in, as they bring up pages whose
 * body only paraphrases the query. */
static double title_weight(const trove_search_params *p) {
  if (p->w_title > 0)
    return p->w_title;
  return p->mode == TROVE_SEARCH_KEYWORD ? 10 : 20;
}

static int store_search(ctx *x, const char *q, size_t limit, trove_store_hit **h, size_t *n) {
  trove_store_search_opts o = {.limit = limit, .source = x->p->source, .type = x->p->type,
                               .w_title = title_weight(x->p), .w_headings = x->p->w_headings,
                               .w_text = x->p->w_text, .snippet_tokens = -1,
                               .since = x->p->since, .until = x->p->until};
  return trove_store_search(x->st, q, &o, h, n, x->err);
}

typedef struct orscore {
  int64_t item;
  double s;
  bool hub;
} orscore;

static int cmp_or(const void *a, const void *b) {
  double d = ((const orscore *)b)->s - ((const orscore *)a)->s;
  if (d != 0)
    return d < 0 ? -1 : 1;
  int64_t i = ((const orscore *)a)->item, j = ((const orscore *)b)->item;
  return i < j ? -1 : i > j;
}

static bool fuse_by_score(const trove_search_params *p) {
  return p->fusion_alpha > 0 && p->mode == TROVE_SEARCH_HYBRID && p->like <= 0;
}

/* The keyword list of score fusion: items holding any of the words, by BM25,
 * their scores kept. */
static int keyword_list_any(ctx *x, const char *q) {
  trove_store_search_opts o = {.limit = x->p->keyword_depth, .source = x->p->source,
                               .type = x->p->type, .w_title = title_weight(x->p),
                               .w_headings = x->p->w_headings, .w_text = x->p->w_text,
                               .snippet_tokens = -1, .any_word = true,
                               .since = x->p->since, .until = x->p->until};
  trove_store_hit *h = NULL;
  size_t nh = 0;
  int rc = trove_store_search(x->st, q, &o, &h, &nh, x->err);
  for (size_t i = 0; !rc && i < nh; i++) {
    cand *c = find_or_add(x, h[i].item_id);
    if (!c) {
      rc = nomem(x);
      break;
    }
    c->kw_rank = i + 1;
    c->bm25 = h[i].score;
    c->hub = h[i].is_link_hub;
  }
  x->bm25_max = nh ? h[0].score : 0;
  trove_store_hits_free(h, nh);
  return rc;
}

/* The query's content words, space-separated, into q: the keyword list's
 * query. */
static int terms_join(const search_terms *t, trove_buf *q) {
  int rc = 0;
  for (size_t i = 0; i < t->n && !rc; i++)
    rc = trove_buf_printf(q, "%s%s", i ? " " : "", t->v[i]);
  return rc;
}

static int keyword_list(ctx *x, const search_terms *t) {
  if (!t->n)
    return 0;
  trove_buf q = {0};
  int rc = terms_join(t, &q);
  if (rc) {
    trove_buf_free(&q);
    return nomem(x);
  }
  if (fuse_by_score(x->p)) {
    rc = keyword_list_any(x, q.data);
    trove_buf_free(&q);
    return rc;
  }
  trove_store_hit *h = NULL;
  size_t nh = 0, rank = 0;
  rc = store_search(x, q.data, x->p->keyword_depth, &h, &nh);
  trove_buf_free(&q);
  if (rc)
    return rc;
  for (size_t i = 0; i < nh; i++) {
    cand *c = find_or_add(x, h[i].item_id);
    if (!c) {
      trove_store_hits_free(h, nh);
      return nomem(x);
    }
    c->kw_rank = ++rank;
    c->bm25 = h[i].score;
    c->hub = h[i].is_link_hub;
    c->all_words = true;
  }
  x->n_all_words = nh;
  x->bm25_max = nh > 0 ? h[0].score : 0;
  x->bm25_first = nh > 0 ? h[0].score : 0;
  x->bm25_second = nh > 1 ? h[1].score : 0;
  trove_store_hits_free(h, nh);
  if (t->n < 2 || rank >= x->p->keyword_depth)
    return 0;
  /* The OR tail: items matching single words, by summed reciprocal ranks. */
  orscore *os = NULL;
  size_t no = 0, cap = 0;
  for (size_t w = 0; w < t->n && !rc; w++) {
    rc = store_search(x, t->v[w], x->p->keyword_depth, &h, &nh);
    for (size_t i = 0; !rc && i < nh; i++) {
      size_t j = 0;
      while (j < no && os[j].item != h[i].item_id)
        j++;
      if (j == no) {
        if (no == cap) {
          size_t nc = cap ? cap * 2 : 128;
          orscore *g = trove_realloc(os, nc * sizeof *os);
          if (!g) {
            rc = nomem(x);
            break;
          }
          os = g;
          cap = nc;
        }
        os[no++] = (orscore){h[i].item_id, 0, h[i].is_link_hub};
      }
      os[j].s += 1.0 / (10.0 + (double)(i + 1));
    }
    trove_store_hits_free(h, nh);
    h = NULL;
    nh = 0;
  }
  if (!rc) {
    if (no)
      qsort(os, no, sizeof *os, cmp_or);
    for (size_t i = 0; i < no && rank < x->p->keyword_depth; i++) {
      cand *c = find_or_add(x, os[i].item);
      if (!c) {
        rc = nomem(x);
        break;
      }
      if (c->kw_rank)
        continue;
      c->kw_rank = ++rank;
      c->hub = os[i].hub;
      }
  }
  trove_free(os);
  return rc;
}

/* ---- 2. vector list --------------------------------------------------------- */

/* Whether a passage of this cosine is too far below the query's best to
 * count (cosine_window; hits come best first, so the best is known). */
static bool p_window_excludes(const ctx *x, float cosine) {
  return x->p->cosine_window > 0 && cosine < x->best_cosine - x->p->cosine_window;
}

/* Applies the filters to a vector candidate, from its item as the store
 * read it with the hit's passage, once per candidate. */
static void check_item(ctx *x, cand *c, const trove_store_passage_owner *o) {
  if (c->checked)
    return;
  c->checked = true;
  int64_t when = o->time;
  c->rejected = o->hidden_at != 0 || (x->source_id && o->source_id != x->source_id) ||
                (x->p->type != TROVE_ITEM_ANY && o->type != x->p->type) ||
                (x->p->since && when < x->p->since) ||
                (x->p->until && (when <= 0 || when > x->p->until));
  c->hub = o->is_link_hub;
}

/* The index's filter: the passage is in the sorted allowed list. */
static bool allowed(uint64_t id, void *arg) {
  const trove_store_ids *ok = arg;
  return trove_ids_contain(ok->v, ok->n, (int64_t)id);
}

/* The k nearest passages into h[0..*got): all of them without a source or
 * type filter, else only those the filter allows. HNSW admits filtered
 * nodes as it goes; when few pass it can return fewer than k, and then an
 * exact scan over the allowed ones gives the true k nearest. */
static int nearest(ctx *x, trove_index *idx, const float *qv, size_t dim, size_t k,
                   trove_index_hit *h, size_t *got) {
  if (!x->source_id && x->p->type == TROVE_ITEM_ANY && !x->p->since && !x->p->until)
    return trove_index_search(idx, qv, dim, k, NULL, NULL, h, got, x->err);
  trove_store_ids ok = {0};
  int rc = trove_store_passage_ids_where(x->st, x->source_id, x->p->type, x->p->since,
                                         x->p->until, &ok, x->err);
  if (!rc && ok.n)
    rc = trove_index_search(idx, qv, dim, k, allowed, &ok, h, got, x->err);
  if (!rc && ok.n && *got < k && *got < ok.n)
    rc = trove_index_search_exact(idx, qv, dim, k, allowed, &ok, h, got, x->err);
  trove_store_ids_free(&ok);
  return rc;
}

static int vector_list(ctx *x, trove_index *idx, const float *qv, size_t dim, int64_t exclude) {
  size_t k = x->p->vector_depth, got = 0, bytes, obytes;
  if (!k)
    return 0;
  if (!trove_mul_ok(k, sizeof(trove_index_hit), &bytes) ||
      !trove_mul_ok(k, sizeof(trove_store_passage_owner) + sizeof(int64_t), &obytes))
    return TROVE_ERANGE;
  trove_index_hit *h = trove_malloc(bytes);
  trove_store_passage_owner *own = trove_malloc(obytes);
  int64_t *ids = own ? (int64_t *)(own + k) : NULL;
  int rc = h && own ? nearest(x, idx, qv, dim, k, h, &got) : nomem(x);
  /* the hits' items, read in one go (the index lags deletes: an id with no
   * passage any more comes back with item 0 and is skipped) */
  for (size_t i = 0; !rc && i < got; i++)
    ids[i] = (int64_t)h[i].id;
  if (!rc)
    rc = trove_store_passage_owners(x->st, ids, got, own, x->err);
  size_t agg = x->p->agg_top < 1 ? 1 : x->p->agg_top > AGG_MAX ? AGG_MAX : x->p->agg_top;
  for (size_t i = 0; !rc && i < got; i++) {
    int64_t item = own[i].item_id;
    if (item == 0 || item == exclude)
      continue;
    cand *c = find_or_add(x, item);
    if (!c) {
      rc = nomem(x);
      break;
    }
    if (c->kw_rank) /* keyword hits were filtered by the store */
      c->checked = true;
    else
      check_item(x, c, &own[i]);
    if (c->rejected)
      continue;
    if (c->n_sem == 0) {
      c->best_passage = (int64_t)h[i].id;
      c->cosine = h[i].score;
    }
    if (x->best_cosine < h[i].score)
      x->best_cosine = h[i].score;
    if (x->cosine_floor > h[i].score || i == 0)
      x->cosine_floor = h[i].score;
    if (p_window_excludes(x, h[i].score))
      continue;
    if (c->n_sem < agg)
      c->sem[c->n_sem++] = i + 1;
  }
  trove_free(own);
  trove_free(h);
  return rc;
}

/* The query vector: the query embedded, or for like the normalised mean of
 * the item's passage vectors. */
static int query_vector(ctx *x, const trove_embedder *e, const char *query, float *qv) {
  size_t dim = trove_embedder_dim(e);
  if (x->p->like <= 0)
    return trove_embedder_embed_batch(e, &query, NULL, 1, qv, x->err);
  trove_store_item it = {0};
  int rc = trove_store_item_get(x->st, x->p->like, false, &it, x->err);
  trove_store_item_clear(&it);
  if (rc == TROVE_ENOENT)
    return trove_err_set(x->err, rc, "no item %lld to search like; see the ids `trove search` prints",
                         (long long)x->p->like);
  if (rc)
    return rc;
  trove_store_passage *ps = NULL;
  size_t np = 0, used = 0;
  if ((rc = trove_store_passages_get(x->st, x->p->like, &ps, &np, x->err)))
    return rc;
  memset(qv, 0, dim * sizeof *qv);
  for (size_t i = 0; i < np && !rc; i++) {
    float *v = NULL;
    size_t d = 0;
    rc = trove_store_vector_get(x->st, ps[i].id, trove_embedder_name(e), &v, &d, x->err);
    if (rc == TROVE_ENOENT) {
      trove_err_clear(x->err);
      rc = 0;
    } else if (!rc && d == dim) {
      for (size_t k = 0; k < dim; k++)
        qv[k] += v[k];
      used++;
    }
    trove_free(v);
  }
  trove_store_passages_free(ps, np);
  if (rc)
    return rc;
  double norm = 0;
  for (size_t k = 0; k < dim; k++)
    norm += (double)qv[k] * qv[k];
  if (!used || norm <= 0)
    return trove_err_set(x->err, TROVE_ERANGE,
                         "item %lld has no vectors yet: scan its source first",
                         (long long)x->p->like);
  norm = sqrt(norm);
  for (size_t k = 0; k < dim; k++)
    qv[k] = (float)(qv[k] / norm);
  return 0;
}

/* ---- no good match (min_cosine) --------------------------------------------- */

/* Whether any item (under the filters) holds a word of the query: the
 * keyword list knows in hybrid mode; semantic mode asks the store, one
 * word at a time, for one hit. */
static int any_keyword_hit(ctx *x, const search_terms *t, bool *hit) {
  *hit = false;
  for (size_t i = 0; i < x->n && !*hit; i++)
    *hit = x->c[i].kw_rank > 0;
  if (x->p->mode != TROVE_SEARCH_SEMANTIC)
    return 0;
  for (size_t w = 0; w < t->n && !*hit; w++) {
    trove_store_hit *h = NULL;
    size_t nh = 0;
    int rc = store_search(x, t->v[w], 1, &h, &nh);
    trove_store_hits_free(h, nh);
    if (rc)
      return rc;
    *hit = nh > 0;
  }
  return 0;
}

/* Drops every candidate when a text query has no good match: no item
 * holds any of its words and its nearest passage is below p->min_cosine
 * (made-up words, a question about something the corpus does not hold).
 * The vectors always return their nearest passages, however far: without
 * this a junk query fills the page with whatever happens to be closest. */
static int drop_no_good_match(ctx *x, const search_terms *t) {
  if (x->p->min_cosine <= 0 || x->p->like > 0 || x->p->mode == TROVE_SEARCH_KEYWORD ||
      x->best_cosine >= x->p->min_cosine)
    return 0;
  bool hit = false;
  int rc = any_keyword_hit(x, t, &hit);
  if (rc == 0 && !hit)
    x->n = 0;
  return rc;
}

/* ---- 3. fusion and results --------------------------------------------------- */

static int cmp_cand(const void *a, const void *b) {
  const cand *x = a, *y = b;
  if (x->score != y->score)
    return x->score > y->score ? -1 : 1;
  return x->item < y->item ? -1 : x->item > y->item;
}

/* Score fusion (fusion_alpha): each list's scores scaled to [0, 1] by its
 * best (BM25 from 0, cosine from the list's floor), then mixed. */
static double keyword_scaled(const ctx *x, const cand *c) {
  return c->kw_rank && x->bm25_max > 0 ? c->bm25 / x->bm25_max : 0;
}

static double cosine_scaled(const ctx *x, const cand *c) {
  double span = (double)x->best_cosine - (double)x->cosine_floor;
  if (!c->n_sem)
    return 0;
  return span > 0 ? ((double)c->cosine - (double)x->cosine_floor) / span : 1;
}

static double convex_score(const ctx *x, const cand *c) {
  double a = x->p->fusion_alpha > 1 ? 1 : x->p->fusion_alpha;
  return a * keyword_scaled(x, c) + (1 - a) * cosine_scaled(x, c);
}

static void fuse(ctx *x) {
  const trove_search_params *p = x->p;
  bool by_score = fuse_by_score(p);
  double k = p->rrf_k > 0 ? p->rrf_k : 60;
  double w_sem = p->w_semantic * (x->n_all_words ? 1 : p->no_match_semantic), top = 0;
  for (size_t i = 0; i < x->n; i++) {
    cand *c = &x->c[i];
    double s = 0, w = 1;
    if (c->rejected) {
      c->score = -1;
      continue;
    }
    if (c->kw_rank)
      s += p->w_keyword * (c->all_words ? p->all_words_boost : 1) / (k + (double)c->kw_rank);
    for (size_t j = 0; j < c->n_sem; j++, w *= p->agg_decay)
      s += w_sem * w / (k + (double)c->sem[j]);
    c->rrf = s;
    if (by_score) {
      c->convex = convex_score(x, c);
      s = c->convex + p->fusion_rrf * (k + 1) * s;
    }
    if (c->hub)
      s *= p->hub_weight;
    c->score = s;
    top = s > top ? s : top;
  }
  /* a decisive keyword match goes above every fused score */
  for (size_t i = 0; p->keyword_margin > 0 && i < x->n; i++) {
    cand *c = &x->c[i];
    if (!c->rejected && c->all_words && c->kw_rank == 1 &&
        (x->bm25_second <= 0 || x->bm25_first >= p->keyword_margin * x->bm25_second))
      c->score += top;
  }
  if (x->n)
    qsort(x->c, x->n, sizeof *x->c, cmp_cand);
}

/* The item's BM25 one field at a time, for --explain, with the keyword
 * list's own query. */
static int explain_fields(ctx *x, const search_terms *t, const cand *c, double out[3]) {
  trove_buf q = {0};
  trove_store_search_opts o = {.any_word = fuse_by_score(x->p) || !c->all_words};
  int rc = terms_join(t, &q) ? nomem(x) : 0;
  if (!rc && q.len)
    rc = trove_store_bm25_fields(x->st, q.data, &o, c->item, out, x->err);
  trove_buf_free(&q);
  return rc;
}

static int fill_result(ctx *x, const trove_embedder *e, const cand *c, const search_terms *t,
                       const float *qv, const trove_store_source *srcs, size_t n_srcs,
                       trove_search_result *r) {
  trove_store_item it = {0};
  int rc = trove_store_item_get(x->st, c->item, false, &it, x->err);
  if (rc)
    return rc;
  r->item_id = c->item;
  r->score = c->score;
  r->keyword_rank = c->kw_rank;
  r->semantic_rank = c->n_sem ? c->sem[0] : 0;
  r->cosine = c->n_sem ? c->cosine : 0;
  r->why = (trove_search_why){.bm25 = c->kw_rank ? c->bm25 : 0,
                              .keyword_scaled = keyword_scaled(x, c),
                              .cosine_scaled = cosine_scaled(x, c),
                              .floor = x->cosine_floor, .best_cosine = x->best_cosine,
                              .convex = c->convex, .rank_fusion = c->rrf,
                              .hub_factor = c->hub ? x->p->hub_weight : 1,
                              .by_score = fuse_by_score(x->p)};
  r->type = it.type;
  r->is_link_hub = it.is_link_hub;
  r->date = it.last_visited > 0 ? it.last_visited : it.mtime_us > 0 ? it.mtime_us / 1000000 : 0;
  r->title = it.title ? trove_strdup(it.title) : NULL;
  r->external_id = it.external_id ? trove_strdup(it.external_id) : NULL;
  for (size_t i = 0; i < n_srcs; i++)
    if (srcs[i].id == it.source_id)
      r->source = trove_strdup(srcs[i].name);
  if ((it.title && !r->title) || (it.external_id && !r->external_id))
    rc = nomem(x);
  if (!rc && x->p->explain && c->kw_rank)
    rc = explain_fields(x, t, c, r->why.bm25_fields);
  if (!rc && !x->p->no_highlight)
    rc = trove_search__highlight(x->st, e, &it, c->best_passage, t, qv,
                                 x->p->mode != TROVE_SEARCH_SEMANTIC, r, x->err);
  trove_store_item_clear(&it);
  return rc;
}

/* The checks on a search's arguments that need no database. */
static int check_params(trove_store *st, trove_index *idx, const trove_embedder *e,
                        const char *query, const trove_search_params *p, bool use_vec,
                        trove_search_result **out, size_t *n, trove_err *err) {
  if (!st || !out || !n || (!query && p->like <= 0))
    return trove_err_set(err, TROVE_EINVAL, "search: NULL store, query or output");
  if (use_vec && (!idx || !e))
    return trove_err_set(err, TROVE_EINVAL,
                         "search: %s mode needs the vector index and the model",
                         trove_search_mode_name(p->mode));
  if (p->n > MAX_RESULTS)
    return trove_err_set(err, TROVE_EINVAL, "search: -n %zu is above %d", p->n, MAX_RESULTS);
  if (p->type != TROVE_ITEM_ANY && p->type != TROVE_ITEM_LOCAL && p->type != TROVE_ITEM_WEB &&
      p->type != TROVE_ITEM_BOOKMARK)
    return trove_err_set(err, TROVE_EINVAL, "search: unknown item type %d", (int)p->type);
  return 0;
}

/* Sets x->source_id from the -s name, if one was given. */
static int resolve_source(ctx *x, const trove_store_source *srcs, size_t n_srcs) {
  const char *name = x->p->source;
  if (!name)
    return 0;
  for (size_t i = 0; i < n_srcs; i++)
    if (strcmp(srcs[i].name, name) == 0)
      x->source_id = srcs[i].id;
  if (!x->source_id)
    return trove_err_set(x->err, TROVE_ENOENT, "no source named \"%s\"; see `trove source list`",
                         name);
  return 0;
}

/* Turns the best `want` fused candidates into results in *out (*n of them). */
static int make_results(ctx *x, const trove_embedder *e, const search_terms *t, const float *qv,
                        const trove_store_source *srcs, size_t n_srcs, size_t want,
                        trove_search_result **out, size_t *n) {
  size_t live = 0;
  while (live < x->n && x->c[live].score > 0)
    live++;
  size_t nr = live < want ? live : want;
  trove_search_result *r = nr ? trove_calloc(nr, sizeof *r) : NULL;
  if (nr && !r)
    return nomem(x);
  int rc = 0;
  for (size_t i = 0; i < nr && !rc; i++)
    rc = fill_result(x, e, &x->c[i], t, qv, srcs, n_srcs, &r[i]);
  if (rc) {
    trove_search_results_free(r, nr);
    return rc;
  }
  *out = r;
  *n = nr;
  return 0;
}

int trove_search_run(trove_store *st, trove_index *idx, const trove_embedder *e,
                     const char *query, const trove_search_params *p,
                     trove_search_result **out, size_t *n, trove_err *err) {
  if (out)
    *out = NULL;
  if (n)
    *n = 0;
  trove_search_params def;
  if (!p) {
    trove_search_params_default(&def);
    p = &def;
  }
  bool like = p->like > 0;
  bool use_kw = !like && p->mode != TROVE_SEARCH_SEMANTIC;
  bool use_vec = like || p->mode != TROVE_SEARCH_KEYWORD;
  int rc = check_params(st, idx, e, query, p, use_vec, out, n, err);
  if (rc)
    return rc;
  ctx x = {.st = st, .p = p, .err = err};
  search_terms t = {0};
  trove_store_source *srcs = NULL;
  size_t n_srcs = 0, dim = e ? trove_embedder_dim(e) : 0, bytes;
  float *qv = NULL;
  if ((rc = trove_store_source_names(st, &srcs, &n_srcs, err)) ||
      (rc = resolve_source(&x, srcs, n_srcs)))
    goto out;
  if (trove_search__terms_parse(like ? NULL : query, &t)) {
    rc = nomem(&x);
    goto out;
  }
  if (use_kw && (rc = keyword_list(&x, &t)))
    goto out;
  if (use_vec) {
    if (!trove_mul_ok(dim, sizeof *qv, &bytes) || !(qv = trove_malloc(bytes))) {
      rc = nomem(&x);
      goto out;
    }
    if ((rc = query_vector(&x, e, query, qv)) ||
        (rc = vector_list(&x, idx, qv, dim, like ? p->like : 0)) ||
        (rc = drop_no_good_match(&x, &t)))
      goto out;
  }
  fuse(&x);
  rc = make_results(&x, e, &t, qv, srcs, n_srcs, p->n ? p->n : 10, out, n);
out:
  trove_search__terms_free(&t);
  trove_free(qv);
  trove_free(x.c);
  trove_store_sources_free(srcs, n_srcs);
  return rc;
}
