/* eval.h: measuring search quality, as `trove eval` and the search_quality
 * bench do. A query set is a file of lines
 *     kind<TAB>query<TAB>target,target...
 * where kind is one word (keyword, paraphrase, question, or any other) and
 * each target is a page's path relative to its corpus root ("library/re.html"),
 * naming the stored items whose path is it or ends in "/" + it. Blank lines
 * and lines starting with '#' are skipped.
 *
 * Each query is run in a search mode; its top 10 items are scored against
 * its targets, all of them equally relevant:
 *   recall@10  1 when a target is in the top 10, else 0;
 *   MRR@10     1 / the rank of the first target in the top 10, else 0;
 *   nDCG@10    sum over ranks r <= 10 holding a target not seen higher of
 *              1/log2(r + 1), divided by the same sum for the ideal ranking,
 *              min(#targets, 10) targets on top.
 * Scores are averaged over all queries and over each kind; a mode's latency
 * is the p50 and mean of its timed queries (query embedding included), after
 * one untimed warm-up pass.
 *
 * queries.c reads and checks a query set, metrics.c scores and averages,
 * run.c runs a set against a database, report.c prints the results.
 * Threads: as core.h (an object belongs to one thread at a time); the store,
 * index and embedder rules are those of search.h.
 */
#ifndef TROVE_EVAL_H
#define TROVE_EVAL_H

#include "core.h"
#include "search.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum {
  TROVE_EVAL_DEPTH = 10,       /* the cut-off of every measure */
  TROVE_EVAL_MAX_KINDS = 8,    /* distinct kinds in one set */
  TROVE_EVAL_KIND_MAX = 23,    /* bytes in a kind word */
  TROVE_EVAL_MAX_TARGETS = 32, /* targets of one query */
};

/* ---- query sets (queries.c) ----------------------------------------------- */

typedef struct trove_eval_query {
  size_t line;      /* 1-based line in the file */
  size_t kind;      /* index into the set's kinds */
  const char *text; /* the query */
  const char **targets;
  size_t n_targets;
} trove_eval_query;

/* A parsed query set. Every string points into `text`, which the set owns. */
typedef struct trove_eval_set {
  char *name; /* the file's path, for messages */
  char *text; /* the file's bytes, cut into strings */
  trove_eval_query *q;
  size_t n;
  const char *kinds[TROVE_EVAL_MAX_KINDS]; /* keyword, paraphrase, question
                                              first when present, then the
                                              others as first seen */
  size_t n_kinds;
} trove_eval_set;

/* Parses text[0..len) into *out (free with trove_eval_set_free), naming it
 * `name` in messages. Returns 0, or TROVE_EINVAL for the first malformed line,
 * the message saying "NAME:LINE: " and what is wrong (a missing tab, an empty
 * query, no targets, an empty or repeated target, a kind that is not a word
 * or is "all", a NUL byte), or for a set with no query; TROVE_ERANGE (more
 * than TROVE_EVAL_MAX_KINDS kinds, or TROVE_EVAL_MAX_TARGETS targets on one
 * line); TROVE_ENOMEM. *out is empty after a failure. */
int trove_eval_set_parse(const char *name, const char *text, size_t len, trove_eval_set *out,
                         trove_err *err);

/* Reads the file at path and parses it as trove_eval_set_parse does. Returns
 * its codes, TROVE_ENOENT (no such file) or TROVE_EIO (unreadable, or over
 * 64 MiB). */
int trove_eval_set_load(const char *path, trove_eval_set *out, trove_err *err);

/* Frees what the set owns and zeroes it. NULL is fine. */
void trove_eval_set_free(trove_eval_set *s);

/* Checks that every target names at least one visible item of st. Returns 0,
 * TROVE_ENOENT naming the first unknown target as "NAME:LINE: target ... is
 * not in the database" (and how many more there are), TROVE_EINVAL (NULL
 * argument), or what trove_store_items_paths returns. */
int trove_eval_set_check(const trove_eval_set *s, trove_store *st, trove_err *err);

/* ---- scores (metrics.c) --------------------------------------------------- */

/* The measures of one query, or means over queries. */
typedef struct trove_eval_score {
  double recall, mrr, ndcg;
} trove_eval_score;

/* Whether a stored path names target: it is target, or ends in "/" + target.
 * NULL path or target: false. */
bool trove_eval_path_matches(const char *path, const char *target);

/* Scores the ranking paths[0..n) (best first; NULL entries match nothing)
 * against targets[0..n_targets), as the file comment defines. Only the first
 * TROVE_EVAL_DEPTH entries count; a target counts once however many items it
 * names, so nDCG stays within [0, 1]; n_targets above TROVE_EVAL_MAX_TARGETS
 * count as that many. No targets gives zeros. */
trove_eval_score trove_eval_score_ranking(const char *const *paths, size_t n,
                                          const char *const *targets, size_t n_targets);

/* Means of the queries of one kind ("all" for every query). */
typedef struct trove_eval_cell {
  char kind[TROVE_EVAL_KIND_MAX + 1];
  size_t n; /* queries */
  trove_eval_score mean;
} trove_eval_cell;

/* One mode's results on one query set. */
typedef struct trove_eval_result {
  trove_search_mode mode;
  size_t n_cells;                                  /* 1 + the set's kinds */
  trove_eval_cell cells[1 + TROVE_EVAL_MAX_KINDS]; /* [0] is "all", then the
                                                      set's kinds in order */
  double p50_ms, mean_ms;                          /* latency of one query */
} trove_eval_result;

/* Averages per-query scores[0..s->n) (in the set's order) and their times
 * seconds[0..s->n) into *out for mode. Sorts `seconds` in place for the
 * median (of an even count, the mean of the middle two). */
void trove_eval_aggregate(const trove_eval_set *s, const trove_eval_score *scores, double *seconds,
                          trove_search_mode mode, trove_eval_result *out);

/* The mean across corpora of results r[0..n), all of one mode: each cell the
 * mean of the corpora that have that kind (every corpus weighs the same,
 * whatever its size), its n the sum of theirs; latency the mean of theirs.
 * Kinds past the TROVE_EVAL_MAX_KINDS a result holds are left out. n == 0
 * gives an empty result. */
void trove_eval_mean(const trove_eval_result *r, size_t n, trove_eval_result *out);

/* ---- running (run.c) ------------------------------------------------------ */

/* Runs every query of s through trove_search_run with p (its mode, source
 * and ranking fields; n is taken as TROVE_EVAL_DEPTH; NULL: the defaults),
 * once untimed when warm_up, then timed, into *out. idx and e may be NULL
 * for keyword mode. When trace is not NULL, writes one line per query to it:
 * the mode, the rank of the first target (0: none), the query and the top
 * path. Uses st for reading only. Returns 0; TROVE_EINVAL (NULL st, s or
 * out); TROVE_ENOMEM; or what trove_search_run returns for a query, the
 * message naming its line ("NAME:LINE: ..."); *out is zeroed after a
 * failure. */
int trove_eval_run(trove_store *st, trove_index *idx, const trove_embedder *e,
                   const trove_eval_set *s, const trove_search_params *p, bool warm_up, FILE *trace,
                   trove_eval_result *out, trove_err *err);

/* ---- reporting (report.c) ------------------------------------------------- */

/* Prints, for each result, a line with its mode and latency, then a table
 * with one row per cell (all, then each kind): n, recall@10, MRR@10,
 * nDCG@10. Returns 0, TROVE_EINVAL (NULL f, or NULL r with n > 0) or
 * TROVE_EIO (a failed write). */
int trove_eval_print_table(FILE *f, const trove_eval_result *r, size_t n);

/* Prints the results as result lines in the peers format
 * (/work/shared/peers/README.md), per cell:
 *   peer=trove workload=search-quality threads=1 param=CORPUS-MODE-KIND
 *     seconds=MEAN metric=X unit=recall@10     (and unit=mrr@10, ndcg@10)
 * and per mode
 *   peer=trove workload=search-latency threads=1 param=CORPUS-MODE
 *     seconds=P50 metric=P50_MS unit=ms-p50
 * where a non-empty `variant` (ranking settings, no spaces) follows MODE.
 * corpus should be one word (no spaces). Returns 0, TROVE_EINVAL (NULL f or
 * corpus, or NULL r with n > 0) or TROVE_EIO (a failed write). */
int trove_eval_print_peers(FILE *f, const char *corpus, const char *variant,
                           const trove_eval_result *r, size_t n);

#endif /* TROVE_EVAL_H */
