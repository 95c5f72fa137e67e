/* scan_write.c: the write stage, the pipeline's single writer. Each batch of
 * up to 64 items is one transaction (trove_store_begin/commit), so a
 * process killed at any moment loses at most the open batch and the rerun
 * redoes it. New and changed items are upserted with the passages and
 * vectors the embed stage made (the vector index hears of them once the
 * batch commits: trove_scan__batch_commit), unchanged ones only touched,
 * skipped and failed ones recorded with their reason. Without the model a
 * rewritten item keeps its passages and vectors when its title and text
 * did not change, and loses them with its embedded mark when they did
 * (trove_scan__write_embedding), so a later model scan embeds it again. A store error that
 * concerns one item (bad input) is recorded on that item; one that concerns
 * the database (I/O, lock, corruption, memory) rolls the batch back and
 * cancels the pipeline. Counts are merged only after a commit.
 * A new file that scan_move.c found to be a stored item renamed is written
 * over that item after trove_store_item_move gives it the new path: the
 * item keeps its id and hidden flag, and its passages and vectors when its
 * text is the same. A re-read item whose bytes are as stored is counted
 * unchanged, however it was rewritten. */
#include "scan_int.h"

#include "extract.h"
#include "store.h"
#include "vectors.h"

#include <stdatomic.h>
#include <string.h>

static trove_store_item to_store(const scan_ctx *c, const scan_item *it) {
  return (trove_store_item){
      .external_id = it->external_id,
      .type = (trove_item_type)it->type,
      .title = it->f.title,
      .author = it->f.author,
      .description = it->f.description,
      .language = it->f.language,
      .headings = it->f.headings,
      .text = it->f.text,
      .raw = it->raw,
      .raw_len = it->raw_len,
      .content_hash = it->raw ? it->hash : NULL,
      .text_hash = it->f.text && it->text_hash[0] ? it->text_hash : NULL,
      .etag = it->etag,
      .last_modified = it->last_modified,
      .process_version = TROVE_EXTRACT_VERSION,
      .mtime_us = it->mtime_us,
      .size = it->size,
      .last_visited = it->visited,
      .skip_reason = it->skip_reason,
      .error = it->error,
      .seen_in_scan = c->version,
      .is_link_hub = it->f.is_link_hub,
      .fetch_failures = it->fetch_failures,
      .retry_at = it->retry_at,
      .charset_guessed = it->charset_guessed,
  };
}

/* Records it as skipped or failed. A transient failure ("error": the file
 * could not be read this time) goes through trove_store_item_skip, which
 * keeps content stored before; a permanent reason (binary, not_utf8, an
 * extractor refusal) replaces the item, with its mtime, so the next scan
 * sees it unchanged instead of reading it again. */
static int write_skip(scan_ctx *c, scan_item *it, scan_counts *k, trove_vectors_changes *ch,
                      trove_err *e) {
  trove_store_item si = to_store(c, it);
  char *name = NULL; /* the file's name, escaped where it is not UTF-8 */
  if (!si.title && it->path) {
    if (!(name = trove_utf8_escape_dup(trove_scan__base_name(it->path))))
      return trove_err_set(e, TROVE_ENOMEM, "out of memory recording %s", it->path);
    si.title = name;
  } else if (!si.title) {
    si.title = it->browser_title;
  }
  bool transient = trove_scan__reason_transient(it->skip_reason);
  int64_t id = 0;
  int rc = transient ? trove_store_item_skip(c->writer, c->source_id, &si, NULL, e)
                     : trove_store_item_upsert(c->writer, c->source_id, &si, &id, e);
  if (rc == 0 && !transient) /* the text is gone: so are its passages */
    rc = trove_store_passages_drop_stale(c->writer, id, &ch->removed, e);
  trove_free(name);
  if (rc == 0 && it->deferred) {
    k->deferred++; /* a new page of a host that is waiting out its backoff */
  } else if (rc == 0) {
    k->skipped++;
    k->failed += it->state == SCAN_ERROR;
    trove_scan__count_reason(k, it->skip_reason);
  }
  return rc;
}

/* Records the refusal rc of one item's write (e says why) as that item's
 * failure: "too_large" or the transient "error", retried next scan. */
static int write_failure(scan_ctx *c, scan_item *it, scan_counts *k, trove_vectors_changes *ch,
                         int rc, trove_err *e) {
  it->state = SCAN_ERROR;
  it->skip_reason = rc == TROVE_ERANGE ? "too_large" : "error";
  trove_free(it->error);
  it->error = trove_strdup(e->msg); /* NULL is benign: the reason stays */
  trove_err_clear(e);
  return write_skip(c, it, k, ch, e);
}

/* Gives the stored item it->move_from its path, setting *moved. When
 * another item holds the path already, or the stored one is gone, it is
 * stored as new instead: its embedding, if skipped for the move, is then
 * done by the pending pass at the end of the scan. */
static int move(scan_ctx *c, scan_item *it, bool *moved, trove_err *e) {
  int rc = trove_store_item_move(c->writer, it->move_from, it->external_id, e);
  *moved = rc == 0;
  if (rc == TROVE_ENOENT || !trove_scan__code_is_fatal(rc)) { /* ENOENT: only this item's */
    trove_err_clear(e);
    return 0;
  }
  return rc;
}

static int write_one(scan_ctx *c, scan_item *it, scan_counts *k, trove_vectors_changes *ch,
                     trove_err *e) {
  if (it->state == SCAN_UNCHANGED) {
    int rc = trove_store_item_touch(c->writer, it->item_id, c->version, it->visited,
                                    it->mtime_us, it->size, e);
    if (rc == 0 && it->deferred)
      k->deferred++;
    else
      k->unchanged += rc == 0;
    k->resumed += rc == 0 && it->finished;
    /* no such row: the item alone fails (ENOENT is fatal only as "no such
     * source", which the skip record then reports) */
    return rc == TROVE_ENOENT ? write_failure(c, it, k, ch, rc, e) : rc;
  }
  if (it->state == SCAN_SKIP || it->state == SCAN_ERROR)
    return write_skip(c, it, k, ch, e);
  bool moved = false;
  int rc = it->move_from ? move(c, it, &moved, e) : 0;
  if (rc)
    return rc;
  trove_store_item si = to_store(c, it);
  int64_t id = 0;
  rc = trove_store_item_upsert(c->writer, c->source_id, &si, &id, e);
  /* the embed stage's passages, or none: the old spans of a changed item
   * no longer fit its text (kept while its embedded mark stands) */
  if (rc == 0 && (it->f.embed || it->state == SCAN_CHANGED || moved))
    rc = trove_scan__write_embedding(c, id, &it->f, ch, e);
  if (rc == 0) {
    k->added += it->state == SCAN_NEW && !moved;
    k->moved += moved;
    k->changed += it->state == SCAN_CHANGED && !it->same_content;
    k->unchanged += it->state == SCAN_CHANGED && it->same_content;
    k->embedded += it->f.embed;
    k->passages += it->f.embed ? (int64_t)it->f.passages.n : 0;
    return 0;
  }
  if (trove_scan__code_is_fatal(rc))
    return rc;
  return write_failure(c, it, k, ch, rc, e); /* refused: too large, a bad field */
}

static void merge(scan_counts *into, const scan_counts *k) {
  into->added += k->added;
  into->changed += k->changed;
  into->unchanged += k->unchanged;
  into->moved += k->moved;
  into->skipped += k->skipped;
  into->failed += k->failed;
  into->deferred += k->deferred;
  into->resumed += k->resumed;
  into->embedded += k->embedded;
  into->passages += k->passages;
  for (size_t i = 0; i < k->n_reasons; i++)
    for (int64_t j = 0; j < k->reasons[i].count; j++)
      trove_scan__count_reason(into, k->reasons[i].name);
}

int trove_scan__write_stage(void *user, void *item) {
  scan_ctx *c = user;
  sl_batch *b = item;
  scan_counts k = {0};
  trove_err e = {0};
  trove_vectors_changes ch = {0};
  int rc = trove_scan__check_stop(c);
  if (rc) {
    trove_scan__sl_batch_free(b, NULL);
    return rc;
  }
  rc = trove_scan__batch_begin(c, &e);
  for (size_t i = 0; rc == 0 && i < b->n; i++) {
    rc = write_one(c, b->items[i], &k, &ch, &e);
    if (rc && !trove_scan__code_is_fatal(rc)) { /* refused even as a skip: count it, go on */
      k.failed++;
      k.skipped++;
      trove_scan__count_reason(&k, "error");
      rc = 0;
      trove_err_clear(&e);
    }
  }
  if (rc == 0)
    rc = trove_scan__batch_commit(c, &ch, &e);
  else
    trove_store_rollback(c->writer);
  trove_vectors_changes_free(&ch);
  if (rc == 0) {
    merge(&c->counts, &k);
    /* a display counter for trove_scan__progress_fn; nothing synchronises on it */
    atomic_fetch_add_explicit(&c->written, (int64_t)b->n, memory_order_relaxed);
  }
  for (size_t i = 0; i < b->n; i++)
    trove_scan__item_free(b->items[i], NULL);
  sl_batch_free(b);
  return rc ? trove_scan__fatal(c, &e, rc) : 0;
}
