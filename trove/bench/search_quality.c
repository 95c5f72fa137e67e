/* search_quality.c: indexing and search on the Python 3.11 docs. Builds
 * (once, cached) a trove database and vector index of the corpus with the
 * scan pipeline itself, printing the indexing figures when it embeds:
 *   peer=trove workload=index-pydocs threads=T param=scan-e2e seconds=WALL
 *       metric=P unit=passages/s         (and param=embed-stage: the embed
 *                                          stage's own time)
 * then runs the query set (bench/queries/python-docs.tsv) in the three modes
 * and prints, per mode, result lines in the peers format
 * (/work/shared/peers/README.md):
 *   peer=trove workload=search-quality threads=1 param=MODE-SETTINGS seconds=S
 *       metric=R unit=recall@10          (and the same with metric=X unit=mrr@10)
 *   peer=trove workload=search-latency threads=1 param=MODE seconds=P50
 *       metric=P50_MS unit=ms-p50        (warm, query embedding included)
 * recall@10: share of queries with a target page in the top 10 items;
 * MRR@10: mean of 1/rank of the first target within the top 10 (0 if none);
 * seconds: the mean time of one query (embedding it included), one run.
 *
 * Usage: search_quality [--build-only] [--sweep] [CORPUS [QUERIES [DIR]]]
 *   CORPUS   /usr/share/doc/python3.11/html
 *   QUERIES  trove/bench/queries/python-docs.tsv (compiled-in path)
 *   DIR      $TROVE_BENCH_DIR or /tmp/trove-bench-pydocs: the cache, a
 *            trove database (the scan embeds only new and changed pages,
 *            so an interrupted build resumes). Delete DIR to start over.
 * --sweep also prints the measures for a grid of fusion parameters (how the
 * defaults in search.h were chosen). Embedding the ~47,000 passages takes
 * minutes on 2 cores; later runs take seconds.
 */
#include "model.h"
#include "scan.h"
#include "search.h"
#include "sluice.h"
#include "store.h"
#include "vectors.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#ifndef TROVE_QUERIES
#define TROVE_QUERIES "trove/bench/queries/python-docs.tsv"
#endif

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- the corpus ------------------------------------------------------------ */

/* Builds the corpus database, or brings it up to date, with trove's own scan
 * pipeline (what `trove scan` runs: read -> extract -> embed -> write, the
 * vector index kept in step and saved), then has *vec ready for search.
 * When the scan embedded anything, prints the indexing figures: wall time
 * against the embed stage's own time (the end-to-end goal is wall <= 1.1 x
 * embed stage: the other stages hide behind it). */
static int build(const char *root, const char *dir, trove_store **st, trove_embedder **emb,
                 trove_vectors **vec, trove_err *err) {
  mkdir(dir, 0755);
  char db[4096];
  snprintf(db, sizeof db, "%s/trove.db", dir);
  trove_store_opts so = {.path = db};
  int rc = trove_store_open(&so, st, err);
  rc = rc ? rc : trove_embedder_open_use_lite(NULL, emb, err);
  if (rc)
    return rc;
  trove_embedder_set_threads(*emb, 1); /* the pipeline spreads calls over the pool */
  const char *inc[] = {"**/*.html"}, *exc[] = {"_static", "_sources", "_images"};
  char *config = NULL;
  rc = trove_scan_fs_config(inc, 1, exc, 3, &config, err);
  rc = rc ? rc : trove_store_source_add(*st, "pydocs", "fs", root, config, NULL, err);
  trove_free(config);
  if (rc == TROVE_EEXIST) {
    trove_err_clear(err);
    rc = 0;
  }
  rc = rc ? rc : trove_vectors_open(*st, trove_embedder_name(*emb), trove_embedder_dim(*emb), NULL,
                                    vec, err);
  if (rc)
    return rc;
  trove_scan_opts o = {.progress = TROVE_PROGRESS_LOG, .embedder = *emb, .vectors = *vec};
  trove_scan_report rep;
  double t0 = now();
  if ((rc = trove_scan_source(*st, "pydocs", &o, &rep, err)))
    return rc;
  double wall = now() - t0;
  if (rep.embedded == 0)
    return 0;
  trove_scan_report_print(&rep, "# scan pydocs", stderr);
  int threads = (int)sl_current_num_threads();
  printf("peer=trove workload=index-pydocs threads=%d param=scan-e2e seconds=%.3f metric=%.1f "
         "unit=passages/s\n", threads, wall, (double)rep.passages / wall);
  printf("peer=trove workload=index-pydocs threads=%d param=embed-stage seconds=%.3f "
         "metric=%.1f unit=passages/s\n", threads, rep.embed_busy,
         (double)rep.passages / rep.embed_busy);
  fprintf(stderr, "# %lld pages, %lld passages; wall %.1f s = %.3f x the embed stage's %.1f s\n",
          (long long)rep.embedded, (long long)rep.passages, wall, wall / rep.embed_busy,
          rep.embed_busy);
  fflush(stdout);
  return 0;
}

/* True when the stored path names the target page (relative to the html
 * folder). */
static bool is_target(const char *external_id, const char *target) {
  size_t n = strlen(external_id), k = strlen(target);
  return n > k && external_id[n - k - 1] == '/' && strcmp(external_id + n - k, target) == 0;
}

/* ---- the query set ---------------------------------------------------------- */

typedef struct query {
  char *text;
  char *targets[4];
  size_t n_targets;
} query;

static query *read_queries(const char *path, size_t *n) {
  FILE *f = fopen(path, "r");
  if (!f)
    return NULL;
  query *q = NULL;
  size_t cap = 0;
  char line[4096];
  *n = 0;
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = '\0';
    if (!line[0] || line[0] == '#')
      continue;
    char *tab = strchr(line, '\t');
    if (!tab)
      continue;
    *tab = '\0';
    if (*n == cap) {
      cap = cap ? cap * 2 : 64;
      q = realloc(q, cap * sizeof *q);
    }
    query *x = &q[(*n)++];
    memset(x, 0, sizeof *x);
    x->text = strdup(line);
    for (char *t = strtok(tab + 1, " \t,"); t && x->n_targets < 4; t = strtok(NULL, " \t,"))
      x->targets[x->n_targets++] = strdup(t);
  }
  fclose(f);
  return q;
}

typedef struct measure {
  double recall, mrr, seconds, p50;
} measure;

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static measure evaluate(trove_store *st, trove_index *idx, trove_embedder *emb, const query *q,
                        size_t nq, const trove_search_params *p, bool verbose) {
  measure m = {0, 0, 0, 0};
  double t0 = now();
  double *times = calloc(nq ? nq : 1, sizeof *times);
  for (size_t i = 0; i < nq; i++) {
    trove_search_result *r = NULL;
    size_t n = 0;
    trove_err err = {0};
    double tq = now();
    int rc = trove_search_run(st, idx, emb, q[i].text, p, &r, &n, &err);
    if (times)
      times[i] = now() - tq;
    if (rc) {
      fprintf(stderr, "# query \"%s\": %s\n", q[i].text, err.msg);
      continue;
    }
    size_t rank = 0;
    for (size_t j = 0; j < n && j < 10 && !rank; j++)
      for (size_t t = 0; t < q[i].n_targets; t++)
        if (r[j].external_id && is_target(r[j].external_id, q[i].targets[t]))
          rank = j + 1;
    if (rank) {
      m.recall += 1;
      m.mrr += 1.0 / (double)rank;
    }
    if (verbose)
      fprintf(stderr, "# %-8s %2zu  %s -> %s\n", trove_search_mode_name(p->mode), rank,
              q[i].text, n ? r[0].external_id : "-");
    trove_search_results_free(r, n);
  }
  if (nq) {
    m.recall /= (double)nq;
    m.mrr /= (double)nq;
    m.seconds = (now() - t0) / (double)nq;
  }
  if (nq && times) {
    qsort(times, nq, sizeof *times, cmp_double);
    m.p50 = times[nq / 2];
  }
  free(times);
  return m;
}

static void report(const char *param, trove_search_mode mode, measure m) {
  printf("peer=trove workload=search-quality threads=1 param=%s-%s seconds=%.6f metric=%.3f "
         "unit=recall@10\n",
         trove_search_mode_name(mode), param, m.seconds, m.recall);
  printf("peer=trove workload=search-quality threads=1 param=%s-%s seconds=%.6f metric=%.3f "
         "unit=mrr@10\n",
         trove_search_mode_name(mode), param, m.seconds, m.mrr);
  fflush(stdout);
}

static void sweep(trove_store *st, trove_index *idx, trove_embedder *emb, const query *q,
                  size_t nq) {
  static const double ks[] = {20, 60};
  static const double wsem[] = {0.6, 1.0, 1.5};
  static const size_t aggs[] = {1, 3};
  static const double hubs[] = {1.0, 0.5};
  for (size_t a = 0; a < 2; a++)
    for (size_t b = 0; b < 3; b++)
      for (size_t c = 0; c < 2; c++)
        for (size_t d = 0; d < 2; d++) {
          trove_search_params p;
          trove_search_params_default(&p);
          p.rrf_k = ks[a];
          p.w_semantic = wsem[b];
          p.agg_top = aggs[c];
          p.hub_weight = hubs[d];
          p.no_highlight = true; /* ranking only: the highlight does not change it */
          char param[128];
          snprintf(param, sizeof param, "k%.0f-wsem%.1f-agg%zu-hub%.1f", p.rrf_k, p.w_semantic,
                   p.agg_top, p.hub_weight);
          report(param, p.mode, evaluate(st, idx, emb, q, nq, &p, false));
        }
}

int main(int argc, char **argv) {
  bool build_only = false, do_sweep = false, verbose = false;
  const char *pos[3] = {"/usr/share/doc/python3.11/html", TROVE_QUERIES, NULL};
  size_t np = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--build-only") == 0)
      build_only = true;
    else if (strcmp(argv[i], "--sweep") == 0)
      do_sweep = true;
    else if (strcmp(argv[i], "-v") == 0)
      verbose = true;
    else if (np < 3)
      pos[np++] = argv[i];
  }
  const char *dir = pos[2];
  if (!dir)
    dir = getenv("TROVE_BENCH_DIR");
  if (!dir || !*dir)
    dir = "/tmp/trove-bench-pydocs";
  trove_store *st = NULL;
  trove_embedder *emb = NULL;
  trove_vectors *vec = NULL;
  trove_err err = {0};
  double t0 = now();
  int rc = build(pos[0], dir, &st, &emb, &vec, &err);
  if (rc) {
    fprintf(stderr, "search_quality: %s\n", err.msg[0] ? err.msg : trove_strerror(rc));
    return 1;
  }
  trove_index *idx = trove_vectors_index(vec);
  fprintf(stderr, "# corpus ready in %.1fs (%zu vectors, cache %s)\n", now() - t0,
          trove_index_count(idx), dir);
  if (!build_only) {
    size_t nq = 0;
    query *q = read_queries(pos[1], &nq);
    if (!q) {
      fprintf(stderr, "search_quality: cannot read the query set %s\n", pos[1]);
      return 1;
    }
    static const trove_search_mode modes[] = {TROVE_SEARCH_KEYWORD, TROVE_SEARCH_SEMANTIC,
                                              TROVE_SEARCH_HYBRID};
    for (size_t i = 0; i < 3; i++) {
      trove_search_params p;
      trove_search_params_default(&p);
      p.mode = modes[i];
      evaluate(st, idx, emb, q, nq, &p, false); /* warm: pages cached, scratch grown */
      measure m = evaluate(st, idx, emb, q, nq, &p, verbose);
      report("defaults", p.mode, m);
      printf("peer=trove workload=search-latency threads=1 param=%s seconds=%.6f metric=%.3f "
             "unit=ms-p50\n", trove_search_mode_name(p.mode), m.p50, m.p50 * 1e3);
    }
    if (do_sweep)
      sweep(st, idx, emb, q, nq);
    for (size_t i = 0; i < nq; i++) {
      free(q[i].text);
      for (size_t t = 0; t < q[i].n_targets; t++)
        free(q[i].targets[t]);
    }
    free(q);
  }
  trove_vectors_close(vec);
  trove_embedder_close(emb);
  trove_store_close(st);
  return 0;
}
