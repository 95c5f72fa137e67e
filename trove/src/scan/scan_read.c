/* scan_read.c: the read stage, a parallel map on the pool: reads a new or
 * changed file (trove_fs_read: size cap, binary and UTF-8 checks), hashes
 * it and extracts it, or extracts a fetched page. Unchanged items pass
 * straight through. A failure is the item's, never the run's: the item goes
 * on marked SKIP or ERROR so the writer records why. A file that vanished
 * since the walk is dropped, so the end-of-scan delete removes it.
 *
 * A changed item is compared with what match kept of its stored row:
 *   - the same bytes from the same extractor (a touch, a copy with a new
 *     mtime) is no change: without --force the item becomes UNCHANGED
 *     before extraction and the writer only records its new mtime; with
 *     --force it is extracted and rewritten, and counted unchanged;
 *   - the same text hash (trove_scan__text_hash: title, text, blocks) means the
 *     stored passages and vectors still fit: keep_vectors, and the embed
 *     stage skips it (unless --reembed). A row stored before text hashes
 *     existed has none; the same bytes then stand for the same text. */
#include "scan_int.h"

#include "sources.h"

#include <string.h>

/* Files above this are skipped as too_large: the extractor refuses more. */
#define READ_MAX_BYTES ((size_t)16 * 1024 * 1024)

static void mark_error(scan_item *it, const char *reason, const trove_err *e, int code) {
  it->state = SCAN_ERROR;
  it->skip_reason = reason;
  it->error = trove_strdup(e->msg[0] ? e->msg : trove_strerror(code)); /* NULL is benign */
}

/* Extracts a fetched web page. Without a body (the fetcher could not run)
 * the item is recorded as failed, which keeps what was stored before. */
static void read_web(scan_item *it) {
  trove_err e = {0};
  if (!it->raw) {
    trove_err_set(&e, TROVE_ENET, "%s was not fetched", it->external_id);
    mark_error(it, "network", &e, TROVE_ENET);
    return;
  }
  const char *base = it->final_url ? it->final_url : it->external_id;
  int rc = trove_scan__extract((scan_kind)it->web_kind, it->raw, it->raw_len, base,
                               it->browser_title, &it->f, &e);
  if (rc)
    mark_error(it, trove_scan__extract_reason(rc), &e, rc);
}

/* Whether its bytes and extractor are those of its stored row. */
static bool same_bytes(const scan_item *it) {
  return it->stored_hash[0] && strcmp(it->stored_hash, it->hash) == 0 && !it->stored_skipped &&
         it->stored_version >= TROVE_EXTRACT_VERSION;
}

/* Decides, once it is extracted, whether a changed item truly changed and
 * whether its stored vectors still fit (see the top of the file). */
static void compare_stored(const scan_ctx *c, scan_item *it) {
  trove_scan__text_hash(&it->f, it->text_hash);
  if (it->state != SCAN_CHANGED)
    return;
  it->same_content = same_bytes(it);
  it->keep_vectors = !c->reembed && (it->stored_text_hash[0]
                                         ? strcmp(it->stored_text_hash, it->text_hash) == 0
                                         : it->same_content);
}

/* Reads and extracts a local file; returns false when it vanished. */
static bool read_local(const scan_ctx *c, scan_item *it) {
  trove_file file = {0};
  trove_err e = {0};
  int rc = trove_fs_read(it->path, READ_MAX_BYTES, &file, &e);
  if (rc == TROVE_ENOENT)
    return false;
  if (rc) {
    mark_error(it, "error", &e, rc);
    return true;
  }
  if (file.skip != TROVE_SKIP_NONE) {
    it->state = SCAN_SKIP;
    it->skip_reason = trove_skip_name(file.skip);
    return true;
  }
  trove_scan__hash(file.data, file.len, it->hash);
  if (it->state == SCAN_CHANGED && !c->force && same_bytes(it)) {
    it->state = SCAN_UNCHANGED; /* touched, not changed: nothing to extract */
    trove_file_free(&file);
    return true;
  }
  scan_kind kind = file.kind == TROVE_CONTENT_HTML       ? SCAN_KIND_HTML
                   : file.kind == TROVE_CONTENT_MARKDOWN ? SCAN_KIND_MARKDOWN
                                                         : SCAN_KIND_TEXT;
  rc = trove_scan__extract(kind, file.data, file.len, NULL, trove_scan__base_name(it->path), &it->f,
                           &e);
  if (rc) {
    mark_error(it, trove_scan__extract_reason(rc), &e, rc);
    trove_file_free(&file);
    return true;
  }
  it->charset_guessed = file.charset_guessed;
  it->raw = file.data, it->raw_len = file.len;
  file.data = NULL;
  trove_file_free(&file);
  return true;
}

int trove_scan__read_stage(void *user, void *item, void **out) {
  const scan_ctx *c = user;
  scan_item *it = item;
  *out = it;
  if (it->state != SCAN_NEW && it->state != SCAN_CHANGED)
    return 0;
  if (it->type != TROVE_ITEM_LOCAL) {
    read_web(it);
  } else if (!read_local(c, it)) {
    trove_scan__item_free(it, NULL);
    *out = NULL;
    return 0;
  }
  if (it->state == SCAN_NEW || it->state == SCAN_CHANGED)
    compare_stored(c, it);
  return 0;
}
