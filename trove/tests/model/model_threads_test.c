/* model_threads_test.c: one embedder shared by several threads. Concurrent
 * embed_batch and tokenize calls, each call also split across the
 * embedder's own threads, must give exactly the vectors of a serial run;
 * with more callers than scratch slots some allocate their own; on every
 * kernel path the CPU has. Runs under TSan too (oneDNN's calls are
 * single-threaded inside each of our threads). */
#include "model.h"
#include "scan.h" /* trove_scan_use_sluice */

#include "check.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

enum { THREADS = 5, TEXTS = 3, ROUNDS = 2 };

static trove_embedder *emb;
static const char *texts[TEXTS] = {"a short one", "caf\xc3\xa9 \xef\xbc\xa6\xef\xbc\xb5 mixed",
                                   "the third text, which is somewhat longer than the rest"};
static float want[TEXTS * 512];

typedef struct result {
  int rc;
  int same;
} result;

static void *worker(void *arg) {
  result *r = arg;
  float got[TEXTS * 512];
  trove_tokens t = {0};
  r->same = 1;
  for (int i = 0; i < ROUNDS && !r->rc; i++) {
    r->rc = trove_embedder_embed_batch(emb, texts, NULL, TEXTS, got, NULL);
    r->same &= memcmp(got, want, sizeof got) == 0;
    r->rc = r->rc ? r->rc : trove_embedder_tokenize(emb, texts[2], strlen(texts[2]), &t, NULL);
  }
  trove_tokens_free(&t);
  return NULL;
}

static void concurrent_embeds_match_a_serial_run(void) {
  /* each call: 3 shares of 1 text; the same split alone gives the same bits */
  CHECK(trove_embedder_set_threads(emb, 3) == 0);
  CHECK(trove_embedder_set_threads(NULL, 3) == TROVE_EINVAL);
  CHECK(trove_embedder_embed_batch(emb, texts, NULL, TEXTS, want, NULL) == 0);
  pthread_t tid[THREADS];
  result res[THREADS];
  memset(res, 0, sizeof res);
  for (int i = 0; i < THREADS; i++)
    CHECK(pthread_create(&tid[i], NULL, worker, &res[i]) == 0);
  for (int i = 0; i < THREADS; i++) {
    CHECK(pthread_join(tid[i], NULL) == 0);
    CHECK(res[i].rc == 0 && res[i].same);
  }
}

/* 5 texts on 4 threads: shares of 2, 2, 1 and 0 texts. */
static void uneven_split_with_an_empty_share_matches_one_thread(void) {
  const char *five[5] = {"one", "two words", "", "caf\xc3\xa9", "the fifth and last"};
  float a[5 * 512], b[5 * 512];
  CHECK(trove_embedder_set_threads(emb, 1) == 0);
  CHECK(trove_embedder_embed_batch(emb, five, NULL, 5, a, NULL) == 0);
  CHECK(trove_embedder_set_threads(emb, 4) == 0);
  CHECK(trove_embedder_embed_batch(emb, five, NULL, 5, b, NULL) == 0);
  for (int i = 0; i < 5 * 512; i++)
    CHECK(fabsf(a[i] - b[i]) <= 1e-6f);
  CHECK(trove_embedder_set_threads(emb, 0) == 0); /* back to one per CPU */
}

int main(void) {
  trove_scan_use_sluice(); /* tasks on sluice workers, as in trove */
  trove_err err = {0};
  if (trove_embedder_open_use_lite(NULL, &emb, &err)) {
    fprintf(stderr, "cannot open the model: %s\n", err.msg);
    return 1;
  }
  /* every kernel path this CPU has: each keeps its own state per call */
  static const char *const paths[] = {"fp32", "int8", "bf16"};
  for (size_t p = 0; p < sizeof paths / sizeof *paths; p++) {
    if (trove_embedder_set_kernel(emb, paths[p], NULL) != 0) {
      fprintf(stderr, "path %s: not on this CPU, skipped\n", paths[p]);
      continue;
    }
    fprintf(stderr, "path %s\n", paths[p]);
    RUN(concurrent_embeds_match_a_serial_run);
    RUN(uneven_split_with_an_empty_share_matches_one_thread);
  }
  trove_embedder_close(emb);
  return check_done("model_threads_test");
}
