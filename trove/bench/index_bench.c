/* index_bench.c: the vector index at demo scale and beyond. Builds an HNSW
 * index of N (default 100,000) clustered unit vectors of dimension 512,
 * saves it, and measures build time, load time, warm search latency (p50,
 * p99) and recall@10 against the exact scan, for several ef_search, plus
 * the exact scan's own latency (which sets flat_threshold). Prints result
 * lines in the format of /work/shared/peers/README.md:
 *
 *   peer=trove workload=<w> threads=<t> param=<p> seconds=<s> metric=<m> unit=<u>
 *
 * Data (testdata.h): C random unit centroids (default 1000), each vector a
 * centroid plus Gaussian noise of standard deviation NOISE/sqrt(512) per
 * coordinate (default NOISE = 0.6), normalised; queries are fresh draws from
 * the same distribution. Uniform random 512-D vectors are pathological (all
 * equidistant) and unlike any embedding, so they are not used.
 *
 * Env: N, QUERIES (1000), GT (queries with exact ground truth, 200),
 * CLUSTERS, NOISE, M, EFC, REPS (5, load repetitions), FILE (index path),
 * THREADS (2, build threads), KEEP (keep the file). Build is timed once (it
 * takes minutes at 100k). Search latency is one query at a time on one
 * thread; p50/p99 over QUERIES queries. Before the big build, the graph and
 * the exact scan are timed at n = 1000, 2000, 4000 (flat_threshold).
 */
#include "index.h"
#include "scan.h" /* trove_scan_use_sluice */

#include "bench.h"
#include "testdata.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { D = 512, K = 10 };

static void die(const char *what, int rc, const trove_err *e) {
  fprintf(stderr, "# %s failed: %s (%s)\n", what, trove_strerror(rc), e ? e->msg : "");
  exit(1);
}

/* Builds with trove_index_add_batch on `threads` threads. */
static trove_index *build(const float *v, size_t n, const trove_index_params *p, int threads,
                          double *secs) {
  trove_index *x = NULL;
  trove_err e;
  int rc = trove_index_create(p, &x, &e);
  if (rc)
    die("create", rc, &e);
  uint64_t *ids = malloc(n * sizeof *ids);
  for (size_t i = 0; i < n; i++)
    ids[i] = i;
  double t0 = bench_now(), c0 = bench_cpu_now();
  if ((rc = trove_index_add_batch(x, n, ids, v, D, threads, &e)))
    die("add_batch", rc, &e);
  *secs = bench_now() - t0;
  fprintf(stderr, "# build n=%zu threads=%d: wall %.2f s, cpu %.2f s\n", n, threads, *secs,
          bench_cpu_now() - c0);
  free(ids);
  return x;
}

/* The exact scan against the graph at a small n: where flat_threshold sits. */
static void flat_vs_graph(const float *v, const float *q, size_t n, size_t nq,
                          const trove_index_params *p0) {
  trove_index_params p = *p0;
  double secs, lat[2];
  trove_index *x = build(v, n, &p, 1, &secs);
  trove_index_hit h[K];
  size_t got;
  for (int exact = 0; exact < 2; exact++) {
    double *t = malloc(nq * sizeof *t);
    for (size_t i = 0; i < nq; i++) {
      double t0 = bench_now();
      if (exact)
        trove_index_search_exact(x, q + i * D, D, K, NULL, NULL, h, &got, NULL);
      else
        trove_index_search(x, q + i * D, D, K, NULL, NULL, h, &got, NULL);
      t[i] = bench_now() - t0;
    }
    qsort(t, nq, sizeof *t, bench_cmp_double);
    lat[exact] = t[nq / 2];
    free(t);
  }
  char param[96];
  snprintf(param, sizeof param, "n%zu-k%d-ef%u-p50", n, K, p.ef_search);
  bench_line("index-search", 1, param, lat[0], lat[0] * 1e3, "ms");
  snprintf(param, sizeof param, "n%zu-k%d-exact-p50", n, K);
  bench_line("index-search", 1, param, lat[1], lat[1] * 1e3, "ms");
  trove_index_destroy(x);
}

/* Median of REPS loads after one warm-up (page cache hot: "warm start"). */
static trove_index *time_loads(const char *file, int reps, double *median) {
  double t[BENCH_MAX_REPS];
  trove_index *x = NULL;
  trove_err e;
  for (int r = -1; r < reps; r++) {
    trove_index_destroy(x);
    double t0 = bench_now(), c0 = bench_cpu_now();
    int rc = trove_index_load(file, D, &x, &e);
    double dt = bench_now() - t0;
    fprintf(stderr, "# load: wall %.2f ms, cpu %.2f ms\n", dt * 1e3, (bench_cpu_now() - c0) * 1e3);
    if (rc)
      die("load", rc, &e);
    if (r >= 0)
      t[r] = dt;
  }
  *median = bench_median(t, (size_t)reps);
  return x;
}

/* Latency p50/p99 over nq queries and recall@K over the first ngt. */
static void time_searches(trove_index *x, const float *q, size_t nq, size_t ngt,
                          const trove_index_hit *gt, bool exact, double *p50, double *p99,
                          double *recall) {
  double *lat = malloc(nq * sizeof *lat);
  trove_index_hit h[K];
  size_t n, found = 0;
  for (size_t i = 0; i < nq; i++) {
    double t0 = bench_now();
    int rc = exact ? trove_index_search_exact(x, q + i * D, D, K, NULL, NULL, h, &n, NULL)
                   : trove_index_search(x, q + i * D, D, K, NULL, NULL, h, &n, NULL);
    lat[i] = bench_now() - t0;
    if (rc)
      die("search", rc, NULL);
    for (size_t j = 0; i < ngt && j < K; j++)
      for (size_t l = 0; l < n; l++)
        found += gt[i * K + j].id == h[l].id;
  }
  qsort(lat, nq, sizeof *lat, bench_cmp_double);
  *p50 = lat[nq / 2];
  *p99 = lat[nq * 99 / 100];
  *recall = ngt ? (double)found / (double)(ngt * K) : 1;
  free(lat);
}

int main(void) {
  trove_scan_use_sluice(); /* tasks on sluice workers, as in trove */
  size_t n = (size_t)bench_env("N", 100000), nq = (size_t)bench_env("QUERIES", 1000);
  size_t ngt = (size_t)bench_env("GT", 200), clusters = (size_t)bench_env("CLUSTERS", 1000);
  int reps = bench_reps();
  float noise = (float)bench_env_double("NOISE", 0.6) / sqrtf((float)D);
  char file[256];
  const char *f = getenv("FILE");
  snprintf(file, sizeof file, "%s", f ? f : "/tmp/trove-index-bench.idx");
  if (ngt > nq)
    ngt = nq;

  trove_index_params p;
  trove_index_params_default(&p, D);
  p.m = (uint32_t)bench_env("M", p.m);
  p.ef_construction = (uint32_t)bench_env("EFC", p.ef_construction);
  p.flat_threshold = 0; /* measure the graph, not the scan */
  fprintf(stderr, "# n=%zu d=%d clusters=%zu noise=%.3f/sqrt(d) M=%u efc=%u\n", n, D, clusters,
          noise * sqrtf((float)D), p.m, p.ef_construction);
  float *v = td_clustered(n + nq, D, clusters, noise, 12345), *q = v + n * D;
  if (!v)
    return 1;

  char param[128];
  double secs;
  int threads = (int)bench_env("THREADS", 2);
  for (size_t small = 1000; small <= 4000 && small < n; small *= 2)
    flat_vs_graph(v, q, small, nq, &p);
  trove_index *x = build(v, n, &p, threads, &secs);
  snprintf(param, sizeof param, "n%zu-d%d-m%u-efc%u", n, D, p.m, p.ef_construction);
  bench_line("index-build", threads, param, secs, (double)n / secs, "vec/s");

  trove_err e;
  double t0 = bench_now();
  int rc = trove_index_save(x, file, &e);
  if (rc)
    die("save", rc, &e);
  double save_s = bench_now() - t0;
  trove_index_destroy(x);
  snprintf(param, sizeof param, "n%zu-d%d", n, D);
  bench_line("index-save", 1, param, save_s, save_s * 1e3, "ms");
  x = time_loads(file, reps, &secs);
  bench_line("index-load", 1, param, secs, secs * 1e3, "ms");

  /* Ground truth by the exact scan, which is also the flat path's latency. */
  trove_index_hit *gt = calloc(ngt * K, sizeof *gt);
  size_t got;
  for (size_t i = 0; i < ngt; i++)
    trove_index_search_exact(x, q + i * D, D, K, NULL, NULL, gt + i * K, &got, NULL);
  double p50, p99, rec;
  time_searches(x, q, ngt < 100 ? ngt : 100, 0, NULL, true, &p50, &p99, &rec);
  snprintf(param, sizeof param, "n%zu-k%d-exact-p50", n, K);
  bench_line("index-search", 1, param, p50, p50 * 1e3, "ms");

  long efs[] = {16, 32, 64, 128, 256};
  for (size_t i = 0; i < sizeof efs / sizeof *efs; i++) {
    trove_index_set_ef_search(x, (uint32_t)efs[i]);
    time_searches(x, q, nq, ngt, gt, false, &p50, &p99, &rec);
    snprintf(param, sizeof param, "n%zu-k%d-ef%ld-p50", n, K, efs[i]);
    bench_line("index-search", 1, param, p50, p50 * 1e3, "ms");
    snprintf(param, sizeof param, "n%zu-k%d-ef%ld-p99", n, K, efs[i]);
    bench_line("index-search", 1, param, p99, p99 * 1e3, "ms");
    snprintf(param, sizeof param, "n%zu-k%d-ef%ld", n, K, efs[i]);
    bench_line("index-recall", 1, param, p50, rec, "recall@10");
  }
  trove_index_destroy(x);
  if (!getenv("KEEP"))
    unlink(file);
  free(gt);
  free(v);
  return 0;
}
