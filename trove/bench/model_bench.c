/* model_bench.c: embedding throughput of trove's USE-lite on each kernel
 * path this CPU has and, in the same run, the fp32 sgemm peaks that bound
 * it, as peer result lines (format of /work/shared/peers/README.md):
 *   peer=trove workload=sgemm threads=T param=m2048n2048k2048-LIB seconds=S metric=G unit=GFLOP/s
 *   peer=trove workload=gemm-u8s8s32 threads=T param=m2048n2048k2048-onednn ... unit=GOP/s
 *   peer=trove workload=embed threads=T param=batch64-tok128-PATH seconds=S metric=M unit=passages/s
 *   peer=trove workload=query-embed threads=1 param=PATH seconds=S metric=MS unit=ms-p50
 * LIB is onednn (what trove runs) or openblas (Debian's, as it picks its own
 * kernels); PATH is fp32, int8 or bf16 (model.h), those this CPU has. Each repetition embeds 256
 * passages that each fill the model's 128 tokens, tokenization included, in
 * calls of 64 split across T threads, as the scan does. One passage costs
 * ~1.24 GFLOP, so the fp32 limit is the best sgemm / 1.24 passages/s; a
 * comment line gives each path against it. seconds is the median of REPS
 * (5) after WARMUP (1); the model comes from TROVE_MODEL or the default dir.
 * Usage: model_bench [THREADS] (0: all); both T and 1 thread are measured. */
#include "model.h"
#include "scan.h" /* trove_scan_use_sluice */

#include "bench.h"

void openblas_set_num_threads(int num_threads); /* OpenBLAS extension */

#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { PASSAGES = 256, BATCH = 64, N = 2048 };

static const char *const paths[] = {"fp32", "int8", "bf16"};
enum { NPATHS = sizeof paths / sizeof *paths };

/* Deterministic English-like passages long enough for 128 tokens. */
static char **make_passages(void) {
  static const char *words[] = {
      "the", "index", "stores", "passages", "of", "every", "document", "and", "search",
      "ranks", "them", "by", "meaning", "while", "keyword", "matching", "finds", "exact",
      "terms", "python", "module", "configuration", "logging", "handler", "asynchronous",
      "event", "loop", "browser", "history", "bookmarks", "embedding", "vector", "library"};
  char **p = malloc(PASSAGES * sizeof *p);
  unsigned x = 2463534242u;
  for (int i = 0; i < PASSAGES; i++) {
    p[i] = malloc(2048);
    size_t at = 0;
    for (int w = 0; w < 150; w++) {
      x ^= x << 13, x ^= x >> 17, x ^= x << 5;
      at += (size_t)snprintf(p[i] + at, 2048 - at, "%s ", words[x % (sizeof words / sizeof *words)]);
    }
  }
  return p;
}

/* One repetition: all passages in calls of 64. */
static int embed_all(const trove_embedder *e, char **texts, float *out) {
  for (size_t i = 0; i < PASSAGES; i += BATCH)
    if (trove_embedder_embed_batch(e, (const char *const *)texts + i, NULL, BATCH, out + i * 512,
                                   NULL))
      return -1;
  return 0;
}

/* Embed throughput of e's current path on threads threads; passages/s. */
static double bench_embed(trove_embedder *e, char **texts, int threads, const char *path) {
  int reps = bench_reps(), warm = bench_warmup();
  float *out = malloc((size_t)PASSAGES * 512 * sizeof *out);
  double t[BENCH_MAX_REPS], cpu = 0;
  trove_embedder_set_threads(e, (size_t)threads);
  for (int r = 0; r < warm + reps; r++) {
    double t0 = bench_now(), c0 = bench_cpu_now();
    if (embed_all(e, texts, out)) {
      fprintf(stderr, "# embed failed\n");
      exit(1);
    }
    if (r >= warm)
      t[r - warm] = bench_now() - t0, cpu += bench_cpu_now() - c0;
  }
  double s = bench_median(t, (size_t)reps);
  fprintf(stderr, "# cpu embed %s threads=%d: %.1f passages per CPU-second\n", path, threads,
          PASSAGES * reps / cpu);
  char param[64];
  snprintf(param, sizeof param, "batch64-tok128-%s", path);
  bench_line("embed", threads, param, s, PASSAGES / s, "passages/s");
  free(out);
  return PASSAGES / s;
}

/* Latency of embedding one short query, the way search does; ms, p50. */
static void bench_query(trove_embedder *e, const char *path) {
  enum { Q = 41 };
  const char *q = "how do I copy a directory tree recursively";
  float v[512];
  double t[Q];
  trove_embedder_set_threads(e, 1);
  for (int r = 0; r < Q + 3; r++) {
    double t0 = bench_now();
    trove_embedder_embed_batch(e, &q, NULL, 1, v, NULL);
    if (r >= 3)
      t[r - 3] = bench_now() - t0;
  }
  double s = bench_median(t, Q);
  bench_line("query-embed", 1, path, s, s * 1e3, "ms-p50");
}

/* One 2048^3 product on threads threads by lib: 0 oneDNN sgemm, 1
 * OpenBLAS sgemm, 2 oneDNN u8 x s8. Returns G(FL)OP/s and prints its line. */
static double bench_gemm(int threads, int lib) {
  static const char *const names[] = {"onednn", "openblas", "onednn"};
  int reps = bench_reps(), warm = bench_warmup();
  float *a = malloc(sizeof(float) * N * N), *b = malloc(sizeof(float) * N * N),
        *c = malloc(sizeof(float) * N * N);
  uint8_t *a8 = malloc((size_t)N * N);
  int8_t *b8 = malloc((size_t)N * N);
  for (size_t i = 0; i < (size_t)N * N; i++) {
    a[i] = (float)(i % 7) * 0.1f, b[i] = (float)(i % 5) * 0.1f, c[i] = 0;
    a8[i] = (uint8_t)(i % 251), b8[i] = (int8_t)(i % 127 - 63);
  }
  omp_set_num_threads(threads);
  openblas_set_num_threads(threads);
  double t[BENCH_MAX_REPS];
  int32_t co = 0;
  for (int r = 0; r < warm + reps; r++) {
    double t0 = bench_now();
    if (lib == 0)
      dnnl_sgemm('N', 'N', N, N, N, 1.0f, a, N, b, N, 0.0f, c, N);
    else if (lib == 1)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, N, N, 1.0f, a, N, b, N, 0.0f, c,
                  N);
    else
      dnnl_gemm_u8s8s32('N', 'N', 'F', N, N, N, 1.0f, a8, N, 0, b8, N, 0, 0.0f, (int32_t *)c, N,
                        &co);
    if (r >= warm)
      t[r - warm] = bench_now() - t0;
  }
  double s = bench_median(t, (size_t)reps), g = 2.0 * N * N * N / s / 1e9;
  char param[48];
  snprintf(param, sizeof param, "m%dn%dk%d-%s", N, N, N, names[lib]);
  bench_line(lib == 2 ? "gemm-u8s8s32" : "sgemm", threads, param, s, g,
             lib == 2 ? "GOP/s" : "GFLOP/s");
  omp_set_num_threads(1);
  free(a), free(b), free(c), free(a8), free(b8);
  return g;
}

/* Everything at one thread count: the peaks, then each path against them. */
static void bench_threads(trove_embedder *e, char **texts, int threads) {
  double peak = bench_gemm(threads, 0), ob = bench_gemm(threads, 1);
  bench_gemm(threads, 2);
  peak = ob > peak ? ob : peak;
  double limit = peak / 1.24;
  fprintf(stderr, "# threads=%d: fp32 limit %.1f passages/s (best sgemm %.1f GFLOP/s / 1.24)\n",
          threads, limit, peak);
  for (int p = 0; p < NPATHS; p++) {
    trove_err err = {0};
    if (trove_embedder_set_kernel(e, paths[p], &err)) {
      fprintf(stderr, "# path %s not measured: %s\n", paths[p], err.msg);
      continue;
    }
    double pps = bench_embed(e, texts, threads, paths[p]);
    fprintf(stderr, "# threads=%d %s: %.2f x the fp32 limit (%s)\n", threads, paths[p],
            pps / limit, trove_embedder_kernel(e));
  }
}

int main(int argc, char **argv) {
  trove_scan_use_sluice(); /* tasks on sluice workers, as in trove */
  int threads = argc > 1 ? atoi(argv[1]) : 0;
  if (threads <= 0)
    threads = (int)bench_env("THREADS", 0);
  if (threads <= 0)
    threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
  if (threads > 64)
    threads = 64;
  trove_embedder *e;
  trove_err err = {0};
  if (trove_embedder_open_use_lite(NULL, &e, &err)) {
    fprintf(stderr, "# model_bench: %s\n", err.msg);
    return 1;
  }
  fprintf(stderr, "# default kernel path: %s\n", trove_embedder_kernel(e));
  char **texts = make_passages();
  trove_tokens tk = {0};
  trove_embedder_tokenize(e, texts[0], strlen(texts[0]), &tk, NULL);
  fprintf(stderr, "# check passage 0 has %zu tokens (>= 128: %s)\n", tk.n,
          tk.n >= 128 ? "ok" : "MISMATCH");
  trove_tokens_free(&tk);
  bench_threads(e, texts, threads);
  if (threads > 1)
    bench_threads(e, texts, 1);
  for (int p = 0; p < NPATHS; p++)
    if (trove_embedder_set_kernel(e, paths[p], NULL) == 0)
      bench_query(e, paths[p]);
  for (int i = 0; i < PASSAGES; i++)
    free(texts[i]);
  free(texts);
  trove_embedder_close(e);
  return 0;
}
