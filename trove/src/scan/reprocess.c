/* reprocess.c: trove_reprocess, four stages on sluice:
 *   read rows -> extract [parallel on the pool] -> batch(64)
 *             -> embed [parallel loops on the same pool] -> write
 * Rows come from the store in id order, 64 at a time (keyset pagination,
 * trove_store_items_next), with their raw content. Each is re-extracted and
 * compared with what is stored: an identical output from the current
 * extractor is dropped at once, so only changed items reach embed and the
 * writer (an identical output from an older process_version is written to
 * record the new version, but needs no embedding). The writer keeps the
 * stored raw content (keep_raw) and commits per batch.
 *
 * The same pipeline, in "pending" mode, embeds the items that await it
 * (stored without a model, or under another one): rows are then only those
 * (trove_store_items_next with the model) and every one is embedded; the
 * extraction gives the document blocks the passage splitter wants. Scan and
 * reprocess both end with a pending pass. */
#include "scan.h"
#include "scan_int.h"
#include "store.h"
#include "vectors.h"

#include "extract.h"

#include <stdatomic.h>
#include <string.h>
#include <time.h>

typedef struct rp_ctx {
  scan_ctx c;
  bool pending; /* rows awaiting embedding, each embedded */
  _Atomic int64_t identical; /* dropped by extract (relaxed: read after the join) */
} rp_ctx;

typedef struct rp_item {
  trove_store_item row; /* as stored, raw decompressed */
  scan_fields f;        /* the new extraction */
  bool output_changed;  /* false: only process_version moves */
  char text_hash[65];   /* trove_scan__text_hash of f */
  int rc;               /* extraction failed with this code */
  char *error;
} rp_item;

static void rp_item_free(void *item, void *ctx) {
  (void)ctx;
  rp_item *it = item;
  if (!it)
    return;
  trove_store_item_clear(&it->row);
  trove_scan__fields_clear(&it->f);
  trove_free(it->error);
  trove_free(it);
}

static int read_rows(void *user, sl_emitter *out) {
  rp_ctx *r = user;
  trove_err e = {0};
  int64_t after = 0;
  for (;;) {
    int stop = trove_scan__check_stop(&r->c);
    if (stop)
      return stop; /* recorded: failing cancels the pipeline */
    trove_store_item *rows = NULL;
    size_t n = 0;
    const char *model = r->pending ? trove_vectors_model(r->c.vectors) : NULL;
    int rc = trove_store_items_next(r->c.reader, r->c.source_id, model, after, 64, &rows, &n, &e);
    if (rc)
      return trove_scan__fatal(&r->c, &e, rc);
    if (n == 0)
      return 0;
    after = rows[n - 1].id;
    atomic_fetch_add_explicit(&r->c.seen, (int64_t)n, memory_order_relaxed); /* read after join */
    for (size_t i = 0; i < n; i++) {
      rp_item *it = trove_calloc(1, sizeof *it);
      if (!it) {
        trove_store_items_free(rows, n);
        return trove_scan__fatal(&r->c, NULL, TROVE_ENOMEM);
      }
      it->row = rows[i];
      memset(&rows[i], 0, sizeof rows[i]); /* moved: the clear below skips it */
      if (sl_emit(out, it) != 0) {
        trove_store_items_free(rows, n);
        return 0; /* canceled: the stage that failed recorded why */
      }
    }
    trove_store_items_free(rows, n);
  }
}

static bool same(const char *a, const char *b) { return strcmp(a ? a : "", b ? b : "") == 0; }

/* Whether f is what row stores; a row stored before text hashes existed
 * has none, and then its fields alone decide. */
static bool output_same(const trove_store_item *row, const scan_fields *f,
                        const char *text_hash) {
  return same(row->title, f->title) && same(row->author, f->author) &&
         same(row->description, f->description) && same(row->language, f->language) &&
         same(row->headings, f->headings) && same(row->text, f->text) &&
         row->is_link_hub == f->is_link_hub &&
         (!row->text_hash || strcmp(row->text_hash, text_hash) == 0);
}

static int reextract(void *user, void *item, void **out) {
  rp_ctx *r = user;
  rp_item *it = item;
  const trove_store_item *row = &it->row;
  *out = it;
  scan_kind kind = trove_scan__kind_guess(row->external_id, row->raw, row->raw_len);
  const char *base = row->type == TROVE_ITEM_LOCAL ? NULL : row->external_id;
  trove_err e = {0};
  const char *fallback =
      row->type == TROVE_ITEM_LOCAL ? trove_scan__base_name(row->external_id) : row->title;
  it->rc = trove_scan__extract(kind, row->raw, row->raw_len, base, fallback, &it->f, &e);
  if (it->rc) {
    it->error = trove_strdup(e.msg); /* NULL is benign: the reason is kept */
    return 0;
  }
  trove_scan__text_hash(&it->f, it->text_hash);
  bool same_output = output_same(row, &it->f, it->text_hash);
  if (!r->pending && same_output && row->process_version >= TROVE_EXTRACT_VERSION) {
    atomic_fetch_add_explicit(&r->identical, 1, memory_order_relaxed); /* read after join */
    rp_item_free(it, NULL);
    *out = NULL;
    return 0;
  }
  it->output_changed = !same_output;
  it->f.embed = r->c.embedder && (it->output_changed || r->pending);
  return 0;
}

static void rp_batch_free(void *batch, void *ctx) {
  sl_batch *b = batch;
  for (size_t i = 0; b && i < b->n; i++)
    rp_item_free(b->items[i], ctx);
  sl_batch_free(b);
}

/* What the embed stage embeds of a row: what extract marked as wanted. */
static scan_fields *rp_wants_embedding(void *item) {
  rp_item *it = item;
  return !it->rc && it->f.embed ? &it->f : NULL;
}

static int embed_stage(void *user, void *item, void **out) {
  rp_ctx *r = user;
  return trove_scan__embed_stage(&r->c, item, rp_wants_embedding, rp_batch_free, out);
}

static int write_one(rp_ctx *r, rp_item *it, trove_vectors_changes *ch, trove_err *e) {
  trove_store_item si = it->row;
  if (it->rc) {
    si.skip_reason = trove_scan__extract_reason(it->rc);
    si.error = it->error;
    int rc = trove_store_item_skip(r->c.writer, r->c.source_id, &si, NULL, e);
    r->c.counts.failed += rc == 0;
    r->c.counts.skipped += rc == 0;
    return rc;
  }
  si.title = it->f.title, si.author = it->f.author, si.description = it->f.description;
  si.language = it->f.language, si.headings = it->f.headings, si.text = it->f.text;
  si.is_link_hub = it->f.is_link_hub;
  si.text_hash = it->text_hash; /* the stored one describes the old output */
  si.process_version = TROVE_EXTRACT_VERSION;
  si.keep_raw = true, si.raw = NULL, si.raw_len = 0;
  si.skip_reason = NULL, si.error = NULL;
  int rc = trove_store_item_upsert(r->c.writer, r->c.source_id, &si, NULL, e);
  if (rc == 0 && (it->f.embed || it->output_changed))
    rc = trove_scan__write_embedding(&r->c, it->row.id, &it->f, ch, e);
  if (rc == 0 && it->f.embed) {
    r->c.counts.embedded++;
    r->c.counts.passages += (int64_t)it->f.passages.n;
  }
  return rc;
}

static int write_batch(void *user, void *item) {
  rp_ctx *r = user;
  sl_batch *b = item;
  trove_err e = {0};
  trove_vectors_changes ch = {0};
  int64_t changed = 0, bumped = 0;
  scan_counts before = r->c.counts;
  int rc = trove_scan__check_stop(&r->c);
  if (rc) {
    rp_batch_free(b, NULL);
    return rc;
  }
  rc = trove_scan__batch_begin(&r->c, &e);
  for (size_t i = 0; rc == 0 && i < b->n; i++) {
    rp_item *it = b->items[i];
    rc = write_one(r, it, &ch, &e);
    if (rc == 0 && !it->rc)
      changed += it->output_changed, bumped += !it->output_changed;
  }
  rc = rc ? rc : trove_scan__batch_commit(&r->c, &ch, &e);
  trove_vectors_changes_free(&ch);
  if (rc) {
    trove_store_rollback(r->c.writer);
    r->c.counts = before; /* nothing of the batch stayed */
  } else if (!r->pending) { /* a pending pass counts only what it embedded */
    r->c.counts.changed += changed;
    r->c.counts.unchanged += bumped;
  }
  if (rc == 0) /* a display counter for trove_scan__progress_fn; nothing synchronises on it */
    atomic_fetch_add_explicit(&r->c.written, (int64_t)b->n, memory_order_relaxed);
  for (size_t i = 0; i < b->n; i++)
    rp_item_free(b->items[i], NULL);
  sl_batch_free(b);
  return rc ? trove_scan__fatal(&r->c, &e, rc) : 0;
}

static int run_one(rp_ctx *r, const trove_scan_opts *o, const char *name, trove_scan_report *rep,
                   trove_err *err) {
  char what[96];
  snprintf(what, sizeof what, "%s %s", r->pending ? "embed" : "reprocess", name);
  scan_progress prog = {.seen = &r->c.seen, .written = &r->c.written,
                        .embedded = &r->c.through_embed, .embed = &r->c.embed_progress};
  sl_pipeline_config cfg = {.name = "reprocess", .item_free = rp_item_free};
  trove_scan__progress_init(&prog, o, what, &cfg);
  sl_pipeline *p = NULL;
  int rc = sl_pipeline_create(&p, &cfg);
  if (rc)
    return trove_scan__result(&r->c, rc, err);
  sl_stage *rows = sl_pipeline_source(p, "rows", read_rows, r);
  sl_stage *ext =
      sl_pipeline_map(p, "extract", reextract, r, trove_scan__workers(o), SL_MAP_UNORDERED);
  sl_stage *bat = sl_pipeline_batch(p, "batch", 64, 0.05);
  sl_stage *emb = sl_pipeline_map(p, "embed", embed_stage, r, 1, SL_MAP_ORDERED);
  sl_stage *wr = sl_pipeline_sink(p, "write", write_batch, r);
  sl_stage_set_free(emb, rp_batch_free, NULL);
  sl_pipeline_connect(p, rows, ext, "rows", 128);
  sl_pipeline_connect(p, ext, bat, "extracted", 64);
  sl_pipeline_connect(p, bat, emb, "to_embed", 2);
  sl_pipeline_connect(p, emb, wr, "to_write", 2);
  rc = sl_pipeline_run(p);
  trove_scan__progress_end(&prog);
  trove_scan_report one = {0};
  trove_scan__fill_report(&r->c, p, &one);
  memcpy(rep->summary, one.summary, sizeof rep->summary);
  rep->embed_busy += one.embed_busy;
  sl_pipeline_destroy(p);
  return trove_scan__result(&r->c, rc, err);
}

/* Runs r's pipeline in pending mode over its source, when anything awaits
 * embedding there (one cheap query decides). */
static int pending_pass(rp_ctx *r, const trove_scan_opts *o, const char *name,
                        trove_scan_report *rep, trove_err *err) {
  if (!r->c.vectors)
    return 0;
  trove_store_item *first = NULL;
  size_t n = 0;
  int rc = trove_store_items_next(r->c.reader, r->c.source_id, trove_vectors_model(r->c.vectors),
                                  0, 1, &first, &n, err);
  trove_store_items_free(first, n);
  if (rc || n == 0)
    return rc;
  trove_scan_report one = {0}; /* keeps the caller's stage summary */
  r->pending = true;
  rc = run_one(r, o, name, &one, err);
  r->pending = false;
  rep->embed_busy += one.embed_busy;
  return rc;
}

int trove_scan__embed_pending(scan_ctx *c, const trove_scan_opts *o, const char *name,
                              trove_scan_report *rep, trove_err *err) {
  rp_ctx r = {.c = {.writer = c->writer, .reader = c->reader, .source_id = c->source_id,
                    .embedder = c->embedder, .vectors = c->vectors, .cancel = c->cancel}};
  pthread_mutex_init(&r.c.lock, NULL);
  int rc = pending_pass(&r, o, name, rep, err);
  c->counts.embedded += r.c.counts.embedded;
  c->counts.passages += r.c.counts.passages;
  c->counts.skipped += r.c.counts.skipped;
  c->counts.failed += r.c.counts.failed;
  pthread_mutex_destroy(&r.c.lock);
  return rc;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int trove_reprocess(trove_store *st, const char *name, const trove_scan_opts *opts,
                    trove_scan_report *rep, trove_err *err) {
  trove_scan_report local;
  rep = rep ? rep : &local;
  memset(rep, 0, sizeof *rep);
  if (!st)
    return trove_err_set(err, TROVE_EINVAL, "trove_reprocess: NULL store");
  double t0 = now_s();
  trove_store_source *list = NULL;
  size_t n = 0;
  trove_store_opts ro = {.path = trove_store_path(st)};
  rp_ctx r = {.c = {.writer = st, .cancel = opts ? opts->stop : NULL}};
  int rc = trove_scan__lock(st, opts, err);
  if (rc)
    return rc;
  pthread_mutex_init(&r.c.lock, NULL);
  rc = trove_scan__embedding(&r.c, opts, err);
  rc = rc ? rc : trove_store_source_list(st, &list, &n, err);
  if (rc == 0 && name) {
    size_t i = 0;
    while (i < n && strcmp(list[i].name, name) != 0)
      i++;
    if (i == n)
      rc = trove_err_set(err, TROVE_ENOENT, "no source named \"%s\"; see `trove source list`", name);
  }
  rc = rc ? rc : trove_store_open(&ro, &r.c.reader, err);
  for (size_t i = 0; rc == 0 && i < n; i++)
    if (!name || strcmp(list[i].name, name) == 0) {
      r.c.source_id = list[i].id;
      rc = run_one(&r, opts, list[i].name, rep, err);
      int64_t seen = atomic_load_explicit(&r.c.seen, memory_order_relaxed); /* joined */
      rc = rc ? rc : pending_pass(&r, opts, list[i].name, rep, err);
      atomic_store_explicit(&r.c.seen, seen, memory_order_relaxed); /* rows, not pending */
    }
  if (r.c.vectors)
    rc = trove_scan__save_vectors(&r.c, rc, err);
  trove_scan__count_embedded(&r.c, rep);
  rep->seen = atomic_load_explicit(&r.c.seen, memory_order_relaxed); /* all joined */
  rep->changed = r.c.counts.changed;
  rep->unchanged = r.c.counts.unchanged + atomic_load_explicit(&r.identical, memory_order_relaxed);
  rep->skipped = r.c.counts.skipped;
  rep->failed = r.c.counts.failed;
  trove_store_close(r.c.reader);
  trove_store_sources_free(list, n);
  pthread_mutex_destroy(&r.c.lock);
  trove_store_scan_unlock(st);
  rep->seconds = now_s() - t0;
  return rc;
}
