/* model_golden_test.c: the C model against its reference. golden.json was
 * written by trove/tools/golden/golden.js with the package's own JavaScript
 * (tokenizer and tfjs graph); token ids must match exactly and every
 * embedding component to 1e-5, whatever the batch a text is embedded in.
 * Usage: model_golden_test GOLDEN.json (the model comes from the default
 * dir: TROVE_MODEL or the repository's model/ folder). */
#include "model.h"
#include "scan.h" /* trove_scan_use_sluice */

#include "check.h"
#include "json.h"

#include <math.h>
#include <string.h>

static const char *golden_path;
static trove_json_doc *golden;
static trove_embedder *emb;

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  trove_buf b = {0};
  char chunk[65536];
  size_t got;
  while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
    trove_buf_append(&b, chunk, got);
  fclose(f);
  *len = b.len;
  return b.data;
}

static const trove_json *strings(void) {
  return trove_json_get(trove_json_root(golden), "strings");
}

static void golden_covers_at_least_60_varied_strings(void) {
  size_t n = trove_json_len(strings()), long_ones = 0, empty = 0;
  CHECK(n >= 60);
  for (size_t i = 0; i < n; i++) {
    const trove_json *s = trove_json_at(strings(), i);
    long_ones += trove_json_len(trove_json_get(s, "ids")) > 128;
    empty += trove_json_str_len(trove_json_get(s, "text")) == 0;
    CHECK(trove_json_len(trove_json_get(s, "embedding")) == 512);
  }
  CHECK(long_ones >= 2 && empty == 1);
}

static void token_ids_match_the_reference_exactly(void) {
  trove_tokens t = {0};
  size_t bad = 0;
  for (size_t i = 0; i < trove_json_len(strings()); i++) {
    const trove_json *s = trove_json_at(strings(), i), *ids = trove_json_get(s, "ids");
    const trove_json *text = trove_json_get(s, "text");
    CHECK(trove_embedder_tokenize(emb, trove_json_str(text, ""), trove_json_str_len(text), &t,
                                  NULL) == 0);
    bool same = t.n == trove_json_len(ids);
    for (size_t k = 0; same && k < t.n; k++)
      same = t.ids[k] == trove_json_i64(trove_json_at(ids, k), -1);
    if (!same && bad++ < 5) {
      fprintf(stderr, "ids differ for \"%s\": got %zu:", trove_json_str(text, ""), t.n);
      for (size_t k = 0; k < t.n && k < 20; k++)
        fprintf(stderr, " %d", t.ids[k]);
      fprintf(stderr, "\n  want %zu:", trove_json_len(ids));
      for (size_t k = 0; k < trove_json_len(ids) && k < 20; k++)
        fprintf(stderr, " %lld", (long long)trove_json_i64(trove_json_at(ids, k), -1));
      fprintf(stderr, "\n");
    }
    CHECK(same);
  }
  trove_tokens_free(&t);
}

/* Embeds every golden text in batches of `batch` and compares. */
static void compare_embeddings(size_t batch) {
  size_t n = trove_json_len(strings());
  const char **texts = malloc(n * sizeof *texts);
  size_t *lens = malloc(n * sizeof *lens);
  float *out = malloc(n * 512 * sizeof *out);
  for (size_t i = 0; i < n; i++) {
    const trove_json *text = trove_json_get(trove_json_at(strings(), i), "text");
    texts[i] = trove_json_str(text, "");
    lens[i] = trove_json_str_len(text);
  }
  for (size_t i = 0; i < n; i += batch) {
    size_t k = n - i < batch ? n - i : batch;
    CHECK(trove_embedder_embed_batch(emb, texts + i, lens + i, k, out + i * 512, NULL) == 0);
  }
  double worst = 0;
  size_t worst_at = 0;
  for (size_t i = 0; i < n; i++) {
    const trove_json *e = trove_json_get(trove_json_at(strings(), i), "embedding");
    for (size_t k = 0; k < 512; k++) {
      double d = fabs(out[i * 512 + k] - trove_json_num(trove_json_at(e, k), 1e9));
      if (d > worst)
        worst = d, worst_at = i;
    }
  }
  fprintf(stderr, "batch %zu: largest |delta| %.3g (\"%.30s\")\n", batch, worst, texts[worst_at]);
  CHECK(worst <= 1e-5);
  free(texts), free(lens), free(out);
}

static void embeddings_match_in_batches_of_64(void) { compare_embeddings(64); }
static void embeddings_match_one_at_a_time(void) { compare_embeddings(1); }
static void embeddings_match_in_batches_of_7(void) { compare_embeddings(7); }

/* 40 long texts (128 tokens each after the clip) interleaved with short
 * ones fill several 2048-row chunks of the forward pass; each row must still
 * match its golden vector. One thread, so one call sees every chunk. */
static void embeddings_match_across_chunk_boundaries(void) {
  size_t n = trove_json_len(strings()), longest = 0, shortest = 0;
  for (size_t i = 0; i < n; i++) {
    size_t ids = trove_json_len(trove_json_get(trove_json_at(strings(), i), "ids"));
    if (ids > trove_json_len(trove_json_get(trove_json_at(strings(), longest), "ids")))
      longest = i;
    if (ids == 1)
      shortest = i;
  }
  enum { COUNT = 60 };
  const char *texts[COUNT];
  size_t pick[COUNT];
  for (size_t i = 0; i < COUNT; i++) {
    pick[i] = i % 3 == 2 ? shortest : longest;
    texts[i] = trove_json_get_str(trove_json_at(strings(), pick[i]), "text", "");
  }
  static float out[COUNT * 512];
  CHECK(trove_embedder_set_threads(emb, 1) == 0);
  CHECK(trove_embedder_embed_batch(emb, texts, NULL, COUNT, out, NULL) == 0);
  CHECK(trove_embedder_set_threads(emb, 0) == 0);
  double worst = 0;
  for (size_t i = 0; i < COUNT; i++) {
    const trove_json *e = trove_json_get(trove_json_at(strings(), pick[i]), "embedding");
    for (size_t k = 0; k < 512; k++) {
      double d = fabs(out[i * 512 + k] - trove_json_num(trove_json_at(e, k), 1e9));
      worst = d > worst ? d : worst;
    }
  }
  fprintf(stderr, "chunked: largest |delta| %.3g\n", worst);
  CHECK(worst <= 1e-5);
}

/* Each reduced-precision path this CPU has, against the reference vectors:
 * cosine >= 0.995 on 99% of the golden strings and >= 0.99 on all of them
 * (the accuracy bar of model.h), unit length, and the same vector whatever
 * the batch (only the path's own rounding may differ from fp32). */
static void every_path_stays_close_to_the_reference(void) {
  static const char *const reduced[] = {"int8", "bf16"};
  size_t n = trove_json_len(strings());
  for (size_t p = 0; p < sizeof reduced / sizeof *reduced; p++) {
    trove_err err = {0};
    int rc = trove_embedder_set_kernel(emb, reduced[p], &err);
    if (rc == TROVE_EUNSUPPORTED) {
      fprintf(stderr, "path %s skipped: %s\n", reduced[p], err.msg);
      continue;
    }
    CHECK(rc == 0);
    float out[512], alone[512];
    size_t below = 0;
    double worst = 1;
    for (size_t i = 0; i < n; i++) {
      const trove_json *s = trove_json_at(strings(), i), *e = trove_json_get(s, "embedding");
      const char *text = trove_json_get_str(s, "text", "");
      const char *two[2] = {text, "another text in the same batch"};
      float pair[1024];
      CHECK(trove_embedder_embed_batch(emb, &text, NULL, 1, alone, NULL) == 0);
      CHECK(trove_embedder_embed_batch(emb, two, NULL, 2, pair, NULL) == 0);
      CHECK(memcmp(alone, pair, sizeof alone) == 0);
      memcpy(out, alone, sizeof out);
      double dot = 0, norm = 0;
      for (size_t k = 0; k < 512; k++) {
        dot += out[k] * trove_json_num(trove_json_at(e, k), 0);
        norm += (double)out[k] * out[k];
      }
      CHECK(fabs(norm - 1) < 1e-4);
      below += dot < 0.995;
      worst = dot < worst ? dot : worst;
    }
    fprintf(stderr, "path %s (%s): worst cosine %.5f, %zu of %zu below 0.995\n", reduced[p],
            trove_embedder_kernel(emb), worst, below, n);
    CHECK(worst >= 0.99 && below * 100 <= n);
  }
  CHECK(trove_embedder_set_kernel(emb, "fp32", NULL) == 0);
}

static void interface_reports_the_models_facts(void) {
  CHECK(strcmp(trove_embedder_name(emb), "use-lite-en-0.2.0") == 0);
  CHECK(trove_embedder_dim(emb) == 512);
  CHECK(trove_embedder_max_tokens(emb) == 128);
  CHECK(trove_embedder_dim(NULL) == 0 && trove_embedder_max_tokens(NULL) == 0);
}

int main(int argc, char **argv) {
  trove_scan_use_sluice(); /* tasks on sluice workers, as in trove */
  golden_path = argc > 1 ? argv[1] : "golden.json";
  size_t len;
  char *text = slurp(golden_path, &len);
  trove_err err = {0};
  if (!text || trove_json_parse(text, len, 0, &golden, &err)) {
    fprintf(stderr, "cannot read %s %s\n", golden_path, err.msg);
    return 1;
  }
  trove_free(text);
  if (trove_embedder_open_use_lite(NULL, &emb, &err)) {
    fprintf(stderr, "cannot open the model: %s\n", err.msg);
    return 1;
  }
  /* the reference comparisons run on the reference path */
  if (trove_embedder_set_kernel(emb, "fp32", &err)) {
    fprintf(stderr, "cannot choose fp32: %s\n", err.msg);
    return 1;
  }
  RUN(golden_covers_at_least_60_varied_strings);
  RUN(interface_reports_the_models_facts);
  RUN(token_ids_match_the_reference_exactly);
  RUN(embeddings_match_in_batches_of_64);
  RUN(embeddings_match_one_at_a_time);
  RUN(embeddings_match_in_batches_of_7);
  RUN(embeddings_match_across_chunk_boundaries);
  RUN(every_path_stays_close_to_the_reference);
  trove_embedder_close(emb);
  trove_json_free(golden);
  return check_done("model_golden_test");
}
