/* search.h: trove's ranker. Given a query, it runs keyword search (BM25 over
 * FTS5 with title and heading boosts, trove_store_search) and vector search
 * (the query's embedding against every passage in the index), fuses the two
 * at the ITEM level, and returns items best first, each with its best
 * passage and the sentence in it that matches best, for the CLI to print or
 * turn into JSON. Also `like`: items similar to a given item.
 *
 * Why fuse this way (the measurements are in bench/RESULTS.md): rank
 * fusion alone throws away how far ahead the BM25 favourite is, so on a
 * manual the weak model does not suit, noisy vectors pulled confident
 * keyword hits down. So scores are fused (each list scaled by its best) with
 * BM25 weighing 0.8, and half of a weighted rank fusion is added, which lifts
 * items that both lists found. An item's vector evidence is its best
 * passage (a decaying sum over its top passages measured worse), and link
 * hubs are demoted.
 *
 * Threads: a call uses the store handle (read only) and the index; the
 * store handle belongs to the calling thread (store.h), the index and the
 * embedder may be shared (index.h, model.h).
 */
#ifndef TROVE_SEARCH_H
#define TROVE_SEARCH_H

#include "core.h"
#include "index.h"
#include "json.h"
#include "model.h"
#include "store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum trove_search_mode {
  TROVE_SEARCH_HYBRID = 0,   /* keyword and vectors fused (the default) */
  TROVE_SEARCH_KEYWORD = 1,  /* BM25 only; needs no index or embedder */
  TROVE_SEARCH_SEMANTIC = 2, /* vectors only */
} trove_search_mode;

/* Parses a since or until bound (trove_search_params) into Unix seconds:
 * YYYY-MM-DD (local time: the day's first second, or its last with
 * end_of_day, so that an until names a whole day), YYYY-MM-DDTHH:MM[:SS]
 * (a space for the T works too), or a span before now: digits then h, d
 * or w (36h, 7d, 2w). False when s is none of these, or no such date
 * exists (2024-02-30); *out is then unchanged. The one parser of `trove
 * search --since/--until` and /api/search's since and until. Any thread. */
bool trove_search_time_parse(const char *s, bool end_of_day, int64_t *out);

/* What trove_search_time_parse takes, for messages that refuse a value. */
#define TROVE_SEARCH_TIME_FORMS "YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] or a span ago (36h, 7d, 2w)"

/* "hybrid", "keyword", "semantic". */
const char *trove_search_mode_name(trove_search_mode m);
/* Parses those names; returns 0 or TROVE_EINVAL (*out unchanged). */
int trove_search_mode_parse(const char *s, trove_search_mode *out);

/* Everything a search can be told. Fill with trove_search_params_default,
 * then change fields; the defaults were chosen leave-one-corpus-out on five
 * corpora (bench/search_quality.c --grid; figures in bench/RESULTS.md). */
typedef struct trove_search_params {
  trove_search_mode mode; /* default hybrid */
  size_t n;               /* results wanted (-n); default 10, at most 1000 */
  const char *source;     /* only this source's items; NULL: all */
  trove_item_type type;   /* only this type; TROVE_ITEM_ANY: all */
  int64_t like;           /* > 0: items similar to this item (the query
                             string is then ignored and may be NULL) */
  int64_t since, until;   /* only items whose time (trove_store_item_time:
                             last visit, else file mtime) is in [since,
                             until], Unix seconds; 0: no bound; an item
                             of unknown time fails either bound */
  float min_cosine;       /* a query no item holds a word of, whose nearest
                             passage is below this cosine, has no good
                             match: no results (hybrid and semantic; not
                             like). Default TROVE_SEARCH_MIN_COSINE; 0: off */
  /* keyword side */
  size_t keyword_depth;               /* BM25 items fused; default 100 */
  double w_title, w_headings, w_text; /* BM25 column weights; default 0/4/1,
                               w_title 0 meaning the mode's own: 10 in
                               keyword mode, 20 in hybrid (the best of each
                               on the benchmark corpora) */
  /* vector side */
  size_t vector_depth; /* passages taken from the index; default 300 */
  size_t agg_top;      /* passages per item that count, 1..8; default
                          1 (the best passage only: measured best) */
  double agg_decay;    /* weight of an item's 2nd, 3rd... passage
                          relative to the one before; default 0.5 */
  /* rank fusion: score = w_keyword * a/(k + keyword rank)
   *               + w_semantic * b * sum_j decay^j/(k + rank of passage j),
   * times hub_weight for link hubs, where the query's keyword evidence sets
   * a and b: a = all_words_boost for an item holding every content word of
   * the query (1 otherwise), and b = no_match_semantic when no item holds
   * them all (1 otherwise): trust a full keyword match, lean on meaning
   * when there is none */
  double rrf_k;             /* default 60 */
  double w_keyword;         /* default 1.0 */
  double w_semantic;        /* default 0.6 */
  double all_words_boost;   /* default 1.0 (see bench/RESULTS.md) */
  double no_match_semantic; /* default 1.0 */
  double keyword_margin;    /* > 0: when the best BM25 score (of items holding
                               every word) is at least this many times the
                               second's, that item comes first whatever the
                               weights (a decisive keyword match); default 0 */
  double cosine_window;     /* > 0: only passages within this much cosine of
                               the query's best passage count; default 0 */
  double hub_weight;        /* default 0.5: link hubs' scores are halved */
  double fusion_alpha;      /* in (0, 1]: hybrid mode fuses by score instead
                               of rank, alpha * bm25 / best bm25 + (1 - alpha)
                               * (cosine - floor) / (best cosine - floor),
                               floor the cosine at vector_depth, its keyword
                               list the items holding any query word ranked
                               by BM25; default 0.8; 0: rank fusion alone */
  double fusion_rrf;        /* with fusion_alpha: plus this times the rank
                               fusion score scaled by (rrf_k + 1), so that a
                               first place in the keyword list adds
                               w_keyword * fusion_rrf; default 0.5 */
  bool no_highlight;        /* true: skip the best passage and sentence */
  bool explain;             /* true: fill each result's why.bm25_fields (a
                               query per result); the rest of why is always
                               filled */
} trove_search_params;

/* The default min_cosine, calibrated on the five benchmark corpora
 * (bench/RESULTS.md): the best cosine of 78% of made-up or off-topic
 * queries that match no word is below it, and of 1.6% of the real queries
 * (all of which match words, so the floor never applied to them). */
#define TROVE_SEARCH_MIN_COSINE 0.45f

/* Fills p with the defaults above. */
void trove_search_params_default(trove_search_params *p);

/* Why a result's passage was the one shown. */
typedef enum trove_passage_by {
  TROVE_PASSAGE_NONE = 0,    /* no passage, or the first: the query's words are
                                only in the title or headings */
  TROVE_PASSAGE_WORDS = 1,   /* it holds query words (preferred when one does) */
  TROVE_PASSAGE_MEANING = 2, /* no passage holds a query word: the item's
                                closest passage to the query vector */
} trove_passage_by;

/* "none", "words", "meaning". */
const char *trove_passage_by_name(trove_passage_by b);

/* Why a result ranked where it did: the signals and the terms of its
 * score (search.c, HOW IT WORKS 3). Fields of a list the item is not in
 * are 0. */
typedef struct trove_search_why {
  double bm25;               /* its BM25 in the keyword list (the mode's column
                                weights) */
  double bm25_fields[3];     /* BM25 with only the title, the headings or the
                                text counted, each at weight 1 (p->explain) */
  double keyword_scaled;     /* bm25 / the list's best, in [0, 1] */
  double cosine_scaled;      /* (cosine - floor) / (best cosine - floor) */
  double floor, best_cosine; /* the vector list's farthest and nearest */
  double convex;             /* alpha * keyword_scaled + (1 - alpha) *
                                cosine_scaled; 0 under rank fusion alone */
  double rank_fusion;        /* the rank fusion score, before its scale */
  double hub_factor;         /* what the score was multiplied by: 1, or
                                hub_weight for a link hub */
  bool by_score;             /* score fusion (fusion_alpha > 0, hybrid) */
} trove_search_why;

/* One result: an item with its best passage. Every string is owned by the
 * result (trove_search_results_free); NULL means none. */
typedef struct trove_search_result {
  int64_t item_id;
  double score;         /* fused score, higher is better (not comparable
                           across queries) */
  size_t keyword_rank;  /* 1-based rank in the BM25 list; 0 absent */
  size_t semantic_rank; /* 1-based rank of its best passage among vector
                           hits; 0 absent */
  float cosine;         /* its best passage's similarity to the query; 0
                           when it has no vector hit */
  char *title;
  char *external_id; /* path or URL */
  char *source;      /* the source's name */
  trove_item_type type;
  bool is_link_hub;
  int64_t date;                /* when it was last visited (pages) or modified
                                  (files), Unix seconds; 0 unknown */
  int64_t passage_id;          /* the best passage; 0 when none */
  char *heading;               /* its section heading */
  char *passage;               /* its text */
  size_t mark_start, mark_end; /* the best sentence: bytes of `passage`;
                                  equal when nothing is marked */
  trove_passage_by passage_by; /* why this passage */
  trove_search_why why;        /* how its score was made */
} trove_search_result;

/* Runs one search: query (user text) in mode p->mode, or `like` when
 * p->like > 0. idx and e may be NULL for keyword mode. Hidden items are
 * never returned. Results go to a new array *out of *n <= p->n, best first
 * (free with trove_search_results_free); no match, or no good one
 * (min_cosine), gives n == 0. p NULL
 * means the defaults. Uses st for reading only.
 * Returns 0; TROVE_EINVAL (NULL st, out or n; NULL query without like;
 * NULL idx or e outside keyword mode; p->n above 1000; a bad type);
 * TROVE_ENOENT (p->source or p->like unknown: the message names it);
 * TROVE_ERANGE (like: the item has no vectors yet: scan it first); what
 * the store, index and embedder return (store.h, index.h, model.h). After
 * a failure *out is NULL and *n 0. */
int trove_search_run(trove_store *st, trove_index *idx, const trove_embedder *e, const char *query,
                     const trove_search_params *p, trove_search_result **out, size_t *n,
                     trove_err *err);

/* Frees an array from trove_search_run. NULL is fine. */
void trove_search_results_free(trove_search_result *r, size_t n);

/* Writes r[0..n) (from a search run with params p; NULL: the defaults) to
 * o as the JSON that `trove search --json` prints and the web API's
 * /api/search answers (search_json.c): an array, one result object per
 * line. Each object has rank, id, score, keyword_rank, semantic_rank,
 * cosine, type, link_hub, date, title, source, path, passage_id, heading,
 * passage, mark ([start, end) bytes of passage) and passage_by, and with
 * p->explain a "why" object of trove_search_why's numbers. Errors are o's
 * (sticky, json.h); NULL r with n > 0 is TROVE_EINVAL there. Any thread. */
void trove_search_json_write(trove_json_out *o, const trove_search_result *r, size_t n,
                             const trove_search_params *p);

#endif /* TROVE_SEARCH_H */
