/* scan_match.c: the match stage, a serial map of batches. One store query per batch of 64 candidates
 * (trove_store_items_match) tells which are new; the rest are compared with
 * what the database holds:
 *   changed    the file's size or mtime (to the microsecond) differs, the
 *              stored text came from an older extractor (process_version),
 *              the last attempt failed with a transient reason ("error"),
 *              or --force;
 *   unchanged  otherwise: the writer only stamps it seen.
 * A change that keeps both the size and the mtime to the microsecond is not
 * seen (a content hash would need every file read). "Changed" is a
 * suspicion: the read stage compares the bytes and the extracted text with
 * what match keeps here of the stored item (its hashes and extractor
 * version), so a touched file is only touched, and an item whose text is
 * the same keeps its vectors (scan_read.c). Under `source edit` every known
 * item is unchanged and keeps its recorded mtime and size: the edit adds
 * and removes items, and leaves re-reading to the next scan. A known web
 * page is asked for again with its stored validators (a conditional GET in
 * scan_fetch.c) unless it failed permanently before (gone, unauthorized,
 * not_text...), or did not answer lately and its wait is not over
 * (retry_at, see scan_backoff.c): such an item is deferred, kept as stored.
 * A scan that resumes a killed one (scan_ctx.killed) takes the items that
 * scan stored, stamped with its version, as finished: unchanged, and
 * neither read, fetched nor embedded again (the next scan checks them as
 * usual), but for a file that changed since. It runs under a version of
 * its own, so an item the killed scan saw and that is gone since is not
 * seen and is deleted as usual. The batch goes on whole to the fetch
 * stage. */
#include "scan_int.h"

#include "extract.h"
#include "store.h"

#include <string.h>

/* Whether a local file differs from its row: another size, or another
 * mtime. A row from before schema 4 has no size (-1) and an mtime in whole
 * seconds, so it is compared to the second; the touch of an unchanged item
 * then stores the exact values. */
static bool file_changed(const trove_store_match *m, const scan_item *it) {
  if (m->size < 0)
    return m->mtime_us / 1000000 != it->mtime_us / 1000000;
  return m->size != it->size || m->mtime_us != it->mtime_us;
}

static scan_state classify(const scan_ctx *c, const scan_item *it, const trove_store_match *m) {
  if (!m->item_id)
    return SCAN_NEW;
  if (c->edit)
    return SCAN_UNCHANGED;
  if (c->force || trove_scan__reason_transient(m->skip_reason))
    return SCAN_CHANGED;
  if (it->type != TROVE_ITEM_LOCAL) /* a permanent failure is not refetched; else ask */
    return m->skip_reason ? SCAN_UNCHANGED : SCAN_CHANGED;
  if (file_changed(m, it))
    return SCAN_CHANGED;
  if (!m->skip_reason && m->process_version < TROVE_EXTRACT_VERSION)
    return SCAN_CHANGED;
  return SCAN_UNCHANGED;
}

/* Copies s into dst[cap] when it fits; "" otherwise (a hash of another
 * length never equals ours). */
static void copy_hash(char *dst, size_t cap, const char *s) {
  size_t n = s ? strlen(s) : cap;
  if (n < cap)
    memcpy(dst, s, n + 1);
  else
    dst[0] = 0;
}

/* Keeps what the read stage compares a re-read item with. */
static void keep_stored(scan_item *it, const trove_store_match *m) {
  copy_hash(it->stored_hash, sizeof it->stored_hash, m->content_hash);
  copy_hash(it->stored_text_hash, sizeof it->stored_text_hash, m->text_hash);
  it->stored_version = m->process_version;
  it->stored_skipped = m->skip_reason != NULL;
}

/* Keeps what a conditional GET needs (not when forced: refetch in full). */
static void keep_validators(const scan_ctx *c, scan_item *it, trove_store_match *m) {
  it->web_kind = -1;
  if (it->type == TROVE_ITEM_LOCAL || c->force || it->state != SCAN_CHANGED || m->skip_reason)
    return;
  it->etag = m->etag, m->etag = NULL; /* moved */
  it->last_modified = m->last_modified, m->last_modified = NULL;
  it->old_hash = m->content_hash, m->content_hash = NULL;
}

int trove_scan__match_stage(void *user, void *item, void **out) {
  scan_ctx *c = user;
  scan_batch *b = item;
  const char *ids[64];
  trove_store_match m[64];
  memset(m, 0, sizeof m);
  *out = NULL;
  for (size_t i = 0; i < b->n; i++)
    ids[i] = b->items[i]->external_id;
  trove_err e = {0};
  int rc = trove_store_items_match(c->reader, c->source_id, ids, b->n, m, &e);
  if (rc) {
    trove_scan__batch_free(b, NULL);
    return trove_scan__fatal(c, &e, rc);
  }
  for (size_t i = 0; i < b->n; i++) {
    scan_item *it = b->items[i];
    it->item_id = m[i].item_id;
    it->fetch_failures = m[i].fetch_failures;
    it->retry_at = m[i].retry_at;
    it->state = classify(c, it, &m[i]);
    if (c->killed && m[i].item_id && m[i].seen_in_scan == c->killed &&
        (it->type != TROVE_ITEM_LOCAL || !file_changed(&m[i], it))) {
      it->state = SCAN_UNCHANGED;
      it->finished = true;
      it->size = -1; /* the touch keeps the stored mtime and size: not re-read */
    }
    if (it->state == SCAN_CHANGED && it->type != TROVE_ITEM_LOCAL && !c->force &&
        m[i].retry_at > c->now) {
      it->state = SCAN_UNCHANGED; /* did not answer lately: kept, asked again later */
      it->deferred = true;
    }
    if (c->edit && it->item_id)
      it->size = -1; /* the touch keeps the stored mtime and size */
    keep_stored(it, &m[i]);
    keep_validators(c, it, &m[i]);
  }
  trove_store_match_clear(m, b->n);
  *out = b;
  return 0;
}
