/* model_bench.c: embedding throughput of trove's USE-lite and, in the same
 * run, the OpenBLAS sgemm peak it is bounded by, as peer result lines
 * (format of /work/shared/peers/README.md):
 *   peer=trove workload=sgemm threads=T param=m2048n2048k2048 seconds=S metric=G unit=GFLOP/s
 *   peer=trove workload=embed threads=T param=batch64-tok128 seconds=S metric=M unit=passages/s
 * Each repetition embeds 256 passages that each fill the model's 128 tokens,
 * tokenization included, in calls of 64 (one batch). Two parallel shapes:
 * `batch64-tok128` is what model.h ships: the embedder splits each call
 * across T threads, each with single-threaded BLAS; `batch64-tok128-blas`
 * gives every sgemm to OpenBLAS's T threads instead (the rejected shape,
 * kept to show the measurement). One passage costs ~1.24 GFLOP, so
 * embed GFLOP/s = 1.24 x passages/s, to compare with the sgemm line.
 * seconds is the median of REPS (5) after WARMUP (1); the model comes from
 * TROVE_MODEL or the default dir. Usage: model_bench [THREADS] (0: all). */
#include "model.h"

#include "bench.h"

void openblas_set_num_threads(int num_threads); /* OpenBLAS extension */

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { PASSAGES = 256, BATCH = 64 };

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

/* blas: OpenBLAS gets the threads; else the embedder splits passages. */
static void bench_embed(trove_embedder *e, char **texts, int threads, int blas) {
  int reps = bench_reps(), warm = bench_warmup();
  float *out = malloc((size_t)PASSAGES * 512 * sizeof *out);
  double t[BENCH_MAX_REPS];
  trove_embedder_set_threads(e, blas ? 1 : (size_t)threads);
  openblas_set_num_threads(blas ? threads : 1);
  double cpu = 0;
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
  fprintf(stderr, "# cpu embed threads=%d%s: %.2f GFLOP per CPU-second (1.24 GFLOP/passage)\n",
          threads, blas ? " blas" : "", 1.24 * PASSAGES * reps / cpu);
  bench_line("embed", threads, blas ? "batch64-tok128-blas" : "batch64-tok128", s, PASSAGES / s,
             "passages/s");
  free(out);
}

static void bench_sgemm(int threads) {
  enum { N = 2048 };
  int reps = bench_reps(), warm = bench_warmup();
  float *a = malloc(sizeof(float) * N * N), *b = malloc(sizeof(float) * N * N),
        *c = malloc(sizeof(float) * N * N);
  for (size_t i = 0; i < (size_t)N * N; i++)
    a[i] = (float)(i % 7) * 0.1f, b[i] = (float)(i % 5) * 0.1f, c[i] = 0;
  openblas_set_num_threads(threads);
  double t[BENCH_MAX_REPS], cpu = 0;
  for (int r = 0; r < warm + reps; r++) {
    double t0 = bench_now(), c0 = bench_cpu_now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, N, N, 1.0f, a, N, b, N, 0.0f, c, N);
    if (r >= warm)
      t[r - warm] = bench_now() - t0, cpu += bench_cpu_now() - c0;
  }
  double s = bench_median(t, (size_t)reps);
  fprintf(stderr, "# cpu sgemm threads=%d: %.2f GFLOP per CPU-second\n", threads,
          2.0 * N * N * N * reps / 1e9 / cpu);
  char param[32];
  snprintf(param, sizeof param, "m%dn%dk%d", N, N, N);
  bench_line("sgemm", threads, param, s, 2.0 * N * N * N / s / 1e9, "GFLOP/s");
  free(a), free(b), free(c);
}

int main(int argc, char **argv) {
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
  char **texts = make_passages();
  trove_tokens tk = {0};
  trove_embedder_tokenize(e, texts[0], strlen(texts[0]), &tk, NULL);
  fprintf(stderr, "# check passage 0 has %zu tokens (>= 128: %s)\n", tk.n,
          tk.n >= 128 ? "ok" : "MISMATCH");
  trove_tokens_free(&tk);
  bench_sgemm(threads);
  bench_embed(e, texts, threads, 0);
  if (threads > 1) {
    bench_embed(e, texts, threads, 1);
    bench_sgemm(1);
    bench_embed(e, texts, 1, 0);
  }
  for (int i = 0; i < PASSAGES; i++)
    free(texts[i]);
  free(texts);
  trove_embedder_close(e);
  return 0;
}
