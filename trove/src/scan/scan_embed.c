/* scan_embed.c: the embedding step of the scan and reprocess pipelines,
 * both halves of it.
 *
 * The embed stage receives batches of up to 64 items (the writer's
 * transaction size) and embeds the new and changed ones. Two parallel loops
 * on the current sluice pool, the stage's thread taking part:
 *   1. split: one document per job; trove_passage_split runs the model's
 *      tokenizer: a parallel loop inside a pipeline stage, the shape that
 *      deadlocks a pool whose blocked workers are not compensated (Rayon's);
 *   2. embed: the batch's passages, flattened, in chunks of at most 64 (one
 *      model call each, large GEMMs), spread evenly over the pool's threads.
 *      The embedder runs single-threaded inside each job (the CLI sets
 *      trove_embedder_set_threads(e, 1)): passage-level parallelism, as
 *      model.h explains.
 * Each document's vectors are then copied out to its fields, so the items
 * stay independent (the pipeline may free any of them on cancel).
 *
 * The writer half stores what the stage made: passages, vectors and the
 * "embedded" mark in one store call per item, and collects the changes for
 * the vector index, applied once the batch commits (vectors.h).
 */
#include "scan_int.h"

#include "store.h"
#include "vectors.h"

#include <string.h>
#include <time.h>

enum { EMBED_CHUNK = 64, TOKENIZER_MAX = 16 << 20 };

typedef struct embed_job {
  scan_ctx *c;
  scan_fields *const *f; /* the documents to embed */
  size_t n;
  const char **inputs; /* every passage's model input, flattened */
  size_t *lens;
  float *out; /* total * dim */
  size_t total, chunk, dim;
} embed_job;

/* How much of text the tokenizer takes: all of it up to 16 MiB, else the
 * first 16 MiB cut at a character start (the rest of a 16 MiB document is
 * searchable by keyword only), with the blocks that fit. */
static size_t usable_len(const scan_fields *f, size_t *n_blocks) {
  size_t len = strlen(f->text);
  *n_blocks = f->n_blocks;
  if (len <= TOKENIZER_MAX)
    return len;
  len = TOKENIZER_MAX;
  while (len > 0 && ((unsigned char)f->text[len] & 0xC0) == 0x80)
    len--;
  while (*n_blocks > 0 && f->blocks[*n_blocks - 1].start + f->blocks[*n_blocks - 1].len > len)
    (*n_blocks)--;
  return len;
}

static int split_range(void *ctx, size_t lo, size_t hi) {
  embed_job *j = ctx;
  for (size_t i = lo; i < hi; i++) {
    scan_fields *f = j->f[i];
    size_t nb;
    size_t len = usable_len(f, &nb);
    trove_err e = {0};
    int rc = trove_passage_split(j->c->embedder, f->title, f->text, len, f->blocks, nb, NULL,
                                 &f->passages, &e);
    if (rc == TROVE_ENOMEM)
      return trove_scan__fatal(j->c, &e, rc);
    /* any other refusal means blocks or text the splitter does not accept:
     * the document gets no passage rather than failing the scan */
  }
  return 0;
}

static int embed_range(void *ctx, size_t lo, size_t hi) {
  embed_job *j = ctx;
  for (size_t k = lo; k < hi; k++) {
    size_t from = k * j->chunk, n = j->total - from < j->chunk ? j->total - from : j->chunk;
    trove_err e = {0};
    int rc = trove_scan__check_stop(j->c);
    if (rc)
      return rc; /* recorded in c->fatal: failing cancels the pipeline */
    rc = trove_embedder_embed_batch(j->c->embedder, j->inputs + from, j->lens + from, n,
                                    j->out + from * j->dim, &e);
    if (rc)
      return trove_scan__fatal(j->c, &e, rc);
    /* a display counter (scan_embed_progress) */
    atomic_fetch_add_explicit(&j->c->embed_progress.embedded, (int64_t)n, memory_order_relaxed);
  }
  return 0;
}

/* Counts the passages of a batch as cut, and notes when the first were:
 * the embedding rate is measured from then. */
static void count_split(scan_ctx *c, size_t passages) {
  scan_embed_progress *p = &c->embed_progress;
  int64_t zero = 0;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  /* relaxed: display counters (scan_embed_progress); the CAS only keeps
   * the first start time */
  atomic_compare_exchange_strong_explicit(&p->t0_ns, &zero,
                                          (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec,
                                          memory_order_relaxed, memory_order_relaxed);
  atomic_fetch_add_explicit(&p->split, (int64_t)passages, memory_order_relaxed);
}

/* Flattens the passages' inputs into j and sizes the chunks: at most 64
 * passages each, and a multiple of the pool's threads of them. */
static int flatten(embed_job *j) {
  for (size_t i = 0; i < j->n; i++)
    j->total += j->f[i]->passages.n;
  if (j->total == 0)
    return 0;
  j->inputs = trove_malloc(j->total * sizeof *j->inputs);
  j->lens = trove_malloc(j->total * sizeof *j->lens);
  j->out = trove_malloc(j->total * j->dim * sizeof *j->out);
  if (!j->inputs || !j->lens || !j->out)
    return TROVE_ENOMEM;
  size_t at = 0;
  for (size_t i = 0; i < j->n; i++)
    for (size_t k = 0; k < j->f[i]->passages.n; k++, at++) {
      j->inputs[at] = j->f[i]->passages.v[k].input;
      j->lens[at] = j->f[i]->passages.v[k].input_len;
    }
  size_t threads = sl_current_num_threads() ? sl_current_num_threads() : 1;
  size_t chunks = (j->total + EMBED_CHUNK - 1) / EMBED_CHUNK;
  chunks = (chunks + threads - 1) / threads * threads;
  j->chunk = (j->total + chunks - 1) / chunks;
  return 0;
}

/* Copies each document's rows of j->out into its own array. */
static int hand_out(embed_job *j) {
  size_t at = 0;
  for (size_t i = 0; i < j->n; i++) {
    scan_fields *f = j->f[i];
    size_t bytes = f->passages.n * j->dim * sizeof *f->vecs;
    if (bytes && !(f->vecs = trove_malloc(bytes)))
      return TROVE_ENOMEM;
    if (bytes)
      memcpy(f->vecs, j->out + at * j->dim, bytes);
    at += f->passages.n;
  }
  return 0;
}

/* Splits and embeds f[0..n); 0 or the first error, recorded in c->fatal. */
static int embed_fields(scan_ctx *c, scan_fields *const *f, size_t n) {
  if (n == 0)
    return 0;
  embed_job j = {.c = c, .f = f, .n = n, .dim = trove_embedder_dim(c->embedder)};
  int rc = sl_try_for(0, n, 1, split_range, &j); /* a body's code, or sluice's */
  if (rc == 0 && (rc = flatten(&j)) == 0 && j.total) {
    count_split(c, j.total);
    rc = sl_try_for(0, (j.total + j.chunk - 1) / j.chunk, 1, embed_range, &j);
  }
  if (rc == 0)
    rc = hand_out(&j);
  trove_free(j.inputs);
  trove_free(j.lens);
  trove_free(j.out);
  return rc ? trove_scan__fatal(c, NULL, rc) : 0; /* keeps the first error's message */
}

int trove_scan__embed_stage(scan_ctx *c, sl_batch *b, scan_fields *(*wanted)(void *item),
                            sl_item_free_fn free_batch, void **out) {
  scan_fields **f = c->embedder && b->n ? trove_malloc(b->n * sizeof *f) : NULL;
  int rc = c->embedder && b->n && !f ? trove_scan__fatal(c, NULL, TROVE_ENOMEM) : 0;
  size_t n = 0;
  if (c->embedder) /* a display counter (scan_embed_progress) */
    atomic_fetch_add_explicit(&c->embed_progress.items, (int64_t)b->n, memory_order_relaxed);
  for (size_t i = 0; f && i < b->n; i++)
    if ((f[n] = wanted(b->items[i])))
      f[n++]->embed = true;
  rc = rc ? rc : embed_fields(c, f, n);
  trove_free(f);
  if (rc) {
    free_batch(b, NULL);
    return rc;
  }
  atomic_fetch_add_explicit(&c->through_embed, (int64_t)b->n, memory_order_relaxed);
  *out = b;
  return 0;
}

/* ---- the writer's half ------------------------------------------------- */

int trove_scan__write_embedding(scan_ctx *c, int64_t item_id, const scan_fields *f,
                                trove_vectors_changes *ch, trove_err *e) {
  if (!c->vectors || !f->embed || !ch)
    return trove_store_passages_drop_stale(c->writer, item_id, ch ? &ch->removed : NULL, e);
  size_t n = f->passages.n, dim = trove_vectors_dim(c->vectors);
  trove_store_passage *p = n ? trove_calloc(n, sizeof *p) : NULL;
  int64_t *ids = n ? trove_calloc(n, sizeof *ids) : NULL;
  int rc = n && (!p || !ids) ? trove_err_set(e, TROVE_ENOMEM, "out of memory storing passages") : 0;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    const trove_passage *s = &f->passages.v[i];
    p[i] = (trove_store_passage){.ordinal = (int64_t)i, .start = (int64_t)s->start,
                                 .end = (int64_t)s->end, .heading = s->heading};
  }
  rc = rc ? rc : trove_store_item_embed(c->writer, item_id, trove_vectors_model(c->vectors), p,
                                        f->vecs, n, dim, ids, &ch->removed, e);
  if (rc == 0 && trove_vectors_changes_add(ch, ids, f->vecs, n, dim))
    rc = trove_err_set(e, TROVE_ENOMEM, "out of memory noting vectors for the index");
  trove_free(p);
  trove_free(ids);
  return rc;
}

int trove_scan__batch_begin(scan_ctx *c, trove_err *e) {
  int rc = trove_store_begin(c->writer, e);
  if (rc == 0 && c->vectors && (rc = trove_vectors_begin(c->vectors, c->writer, e)))
    trove_store_rollback(c->writer);
  return rc;
}

int trove_scan__batch_commit(scan_ctx *c, const trove_vectors_changes *ch, trove_err *e) {
  return c->vectors ? trove_vectors_commit(c->vectors, c->writer, ch, e)
                    : trove_store_commit(c->writer, e);
}
