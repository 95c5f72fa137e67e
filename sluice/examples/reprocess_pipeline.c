/* reprocess_pipeline.c: the same reprocess pipeline as reprocess_naive.c,
 * written on sluice's pipeline layer: named stages and channels, a
 * parallel map instead of a hand-made loop, batching with a flush timeout,
 * cancellation and a summary that names the bottleneck. */
#include <sluice.h>
#include <stdio.h>
#include <stdlib.h>

#define ROWS 4000

typedef struct row {
  int id;
  char text[96];
  unsigned hash;
} row;

static unsigned work(const char *s, unsigned rounds) {
  unsigned h = 2166136261u;
  for (unsigned r = 0; r < rounds; r++)
    for (const char *p = s; *p; p++)
      h = (h ^ (unsigned char)*p) * 16777619u;
  return h;
}

static void free_row(void *item, void *ctx) {
  (void)ctx;
  free(item);
}

static int read_rows(void *user, sl_emitter *out) {
  (void)user;
  for (int id = 0; id < ROWS; id++) {
    row *r = calloc(1, sizeof *r);
    if (!r)
      return SL_ENOMEM;
    r->id = id;
    snprintf(r->text, sizeof r->text, "<p>item %d of the reading list</p>", id);
    if (sl_emit(out, r))
      return 0; /* canceled downstream */
  }
  return 0;
}

static int reextract(void *user, void *item, void **out) {
  (void)user;
  row *r = item;
  r->hash = work(r->text, 200);
  *out = r;
  return 0;
}

static void tokenize(void *ctx, size_t lo, size_t hi) {
  sl_batch *b = ctx;
  for (size_t i = lo; i < hi; i++) {
    row *r = b->items[i];
    r->hash ^= work(r->text, 100);
  }
}

static int embed(void *user, void *item, sl_emitter *out) {
  (void)user;
  sl_batch *b = item;
  sl_for(0, b->n, 1, tokenize, b); /* a parallel loop on the pool, as a tokenizer would */
  int rc = 0;
  for (size_t i = 0; i < b->n; i++) {
    if (rc)
      free(b->items[i]);
    else if (sl_emit(out, b->items[i]))
      rc = SL_ECANCELED;
  }
  sl_batch_free(b);
  return rc == SL_ECANCELED ? 0 : rc;
}

static int written;

static int write_db(void *user, void *item) {
  (void)user;
  written++;
  free(item);
  return 0;
}

int main(void) {
  sl_pipeline *p;
  sl_pipeline_config cfg = {.name = "reprocess", .item_free = free_row};
  if (sl_pipeline_create(&p, &cfg)) {
    fprintf(stderr, "reprocess_pipeline: out of memory\n");
    return 1;
  }
  sl_stage *read = sl_pipeline_source(p, "read rows", read_rows, NULL);
  sl_stage *extract = sl_pipeline_map(p, "re-extract", reextract, NULL, 8, SL_MAP_UNORDERED);
  sl_stage *batch = sl_pipeline_batch(p, "batch 64", 64, 0.05);
  sl_stage *emb = sl_pipeline_flat_map(p, "embed", embed, NULL);
  sl_stage *write = sl_pipeline_sink(p, "write", write_db, NULL);
  sl_pipeline_connect(p, read, extract, "rows", 64);
  sl_pipeline_connect(p, extract, batch, "extracted", 64);
  sl_pipeline_connect(p, batch, emb, "batches", 2);
  sl_pipeline_connect(p, emb, write, "embedded", 64);
  int64_t t0 = sl_now_ns();
  int rc = sl_pipeline_run(p);
  char summary[4096];
  sl_pipeline_summary(p, summary, sizeof summary);
  printf("reprocess_pipeline: %d of %d rows written in %.2f s (%s)\n%s", written, ROWS,
         (double)(sl_now_ns() - t0) / 1e9, rc ? sl_strerror(rc) : "ok", summary);
  sl_pipeline_destroy(p);
  return rc || written != ROWS;
}
