/* run.c: running a query set against a database in one mode (eval.h). Each
 * query goes through trove_search_run as `trove search` would run it (the
 * best passage and sentence included, so the latency is what a user waits
 * for); the warm-up pass fills SQLite's page cache and the ranker's memory,
 * so the timed pass measures a warm process, not the disk.
 */
#include "eval.h"

#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* What one run shares across its queries. */
typedef struct runner {
  trove_store *st;
  trove_index *idx;
  const trove_embedder *e;
  const trove_eval_set *s;
  trove_search_params p;
  trove_err *err;
} runner;

/* Names the query's line in front of the message search left in err. */
static int at_line(const runner *r, const trove_eval_query *q, int rc) {
  if (!r->err)
    return rc;
  char msg[sizeof r->err->msg];
  snprintf(msg, sizeof msg, "%s", r->err->msg[0] ? r->err->msg : trove_strerror(rc));
  return trove_err_set(r->err, rc, "%s:%zu: %s", r->s->name, q->line, msg);
}

/* Runs query q once: its score into *score, its time into *secs, and a line
 * to trace when not NULL. */
static int run_one(const runner *r, const trove_eval_query *q, FILE *trace,
                   trove_eval_score *score, double *secs) {
  trove_search_result *res = NULL;
  size_t n = 0;
  double t0 = now();
  int rc = trove_search_run(r->st, r->idx, r->e, q->text, &r->p, &res, &n, r->err);
  *secs = now() - t0;
  if (rc)
    return at_line(r, q, rc);
  const char *paths[TROVE_EVAL_DEPTH];
  size_t top = n < TROVE_EVAL_DEPTH ? n : TROVE_EVAL_DEPTH;
  for (size_t i = 0; i < top; i++)
    paths[i] = res[i].external_id;
  *score = trove_eval_score_ranking(paths, top, q->targets, q->n_targets);
  if (trace)
    fprintf(trace, "# %-8s %2.0f  %s -> %s\n", trove_search_mode_name(r->p.mode),
            score->mrr > 0 ? 1.0 / score->mrr : 0.0, q->text,
            n && res[0].external_id ? res[0].external_id : "-");
  trove_search_results_free(res, n);
  return 0;
}

int trove_eval_run(trove_store *st, trove_index *idx, const trove_embedder *e,
                   const trove_eval_set *s, const trove_search_params *p, bool warm_up,
                   FILE *trace, trove_eval_result *out, trove_err *err) {
  if (!st || !s || !out)
    return trove_err_set(err, TROVE_EINVAL, "trove_eval_run: NULL argument");
  memset(out, 0, sizeof *out);
  runner r = {.st = st, .idx = idx, .e = e, .s = s, .err = err};
  if (p)
    r.p = *p;
  else
    trove_search_params_default(&r.p);
  r.p.n = TROVE_EVAL_DEPTH;
  r.p.like = 0;
  trove_eval_score *scores = trove_calloc(s->n ? s->n : 1, sizeof *scores);
  double *secs = trove_calloc(s->n ? s->n : 1, sizeof *secs);
  int rc = scores && secs ? 0 : trove_err_set(err, TROVE_ENOMEM, "out of memory evaluating");
  for (int pass = warm_up ? 0 : 1; pass < 2 && !rc; pass++)
    for (size_t i = 0; i < s->n && !rc; i++)
      rc = run_one(&r, &s->q[i], pass ? trace : NULL, &scores[i], &secs[i]);
  if (!rc)
    trove_eval_aggregate(s, scores, secs, r.p.mode, out);
  trove_free(scores);
  trove_free(secs);
  return rc;
}
