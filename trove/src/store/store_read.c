/* store_read.c: reading items back: the batch match of change detection,
 * one item for `trove print`, the paths of all items for `trove eval`,
 * the skipped and hidden items for `trove skipped`, and the
 * keyset-paginated walk of a source for `trove reprocess`.
 *
 * The match answers a whole scan batch in one statement: the ids become a
 * VALUES table joined to the items' (source_id, external_id) unique index,
 * one index probe per id and one round trip per batch.
 * The statement is rebuilt only when the batch size changes, so a scan of
 * full 64-id batches prepares it once.
 *
 * Reprocess pages by "id > last id" (keyset), not OFFSET: each chunk costs
 * one index seek however deep the walk is, and rows written meanwhile by
 * the same walk cannot shift a page.
 */
#include "store_int.h"

#include <string.h>

/* ---- match ----------------------------------------------------------------- */

/* Gives the match statement for n ids, reusing the last one when n is the
 * same (the common case: full batches). */
static int build_match(trove_store *st, size_t n, sqlite3_stmt **out, trove_err *err) {
  if (st->match && st->match_n == n) {
    *out = st->match;
    return 0;
  }
  sqlite3_finalize(st->match);
  st->match = NULL;
  trove_buf b = {0};
  int rc = trove_buf_puts(&b, "WITH q(ord, ext) AS (VALUES ");
  for (size_t i = 0; i < n && rc == 0; i++)
    rc = trove_buf_printf(&b, "%s(%zu, ?%zu)", i ? ", " : "", i, i + 2);
  if (rc == 0)
    rc = trove_buf_puts(&b, ") SELECT q.ord, i.id, i.content_hash, i.etag, i.last_modified,"
                        " i.skip_reason, i.mtime_us, i.process_version, i.size, i.text_hash,"
                        " i.fetch_failures, i.retry_at, i.seen_in_scan FROM q JOIN items i"
                        " ON i.source_id = ?1 AND i.external_id = q.ext");
  if (rc) {
    trove_buf_free(&b);
    return trove_err_set(err, TROVE_ENOMEM, "out of memory matching a batch");
  }
  int src = sqlite3_prepare_v3(st->db, b.data, -1, SQLITE_PREPARE_PERSISTENT, &st->match,
                               NULL);
  trove_buf_free(&b);
  if (src != SQLITE_OK) {
    st->match = NULL;
    return trove_store__fail(st, src, "matching a batch", err);
  }
  st->match_n = n;
  *out = st->match;
  return 0;
}

static int read_match(sqlite3_stmt *s, trove_store_match *m) {
  m->item_id = sqlite3_column_int64(s, 1);
  m->mtime_us = sqlite3_column_int64(s, 6);
  m->process_version = sqlite3_column_int64(s, 7);
  m->size = sqlite3_column_int64(s, 8);
  m->fetch_failures = sqlite3_column_int64(s, 10);
  m->retry_at = sqlite3_column_int64(s, 11);
  m->seen_in_scan = sqlite3_column_int64(s, 12);
  return trove_store__col_dup(s, 2, &m->content_hash) && trove_store__col_dup(s, 3, &m->etag) &&
                 trove_store__col_dup(s, 4, &m->last_modified) &&
                 trove_store__col_dup(s, 5, &m->skip_reason) &&
                 trove_store__col_dup(s, 9, &m->text_hash)
             ? 0
             : TROVE_ENOMEM;
}

int trove_store_items_match(trove_store *st, int64_t source_id, const char *const *ids,
                            size_t n, trove_store_match *out, trove_err *err) {
  if (!st || (n && (!ids || !out)))
    return trove_err_set(err, TROVE_EINVAL, "trove_store_items_match: NULL argument");
  if (n > TROVE_STORE_MATCH_MAX)
    return trove_err_set(err, TROVE_ERANGE, "cannot match %zu ids at once (at most %d); "
                         "split the batch", n, TROVE_STORE_MATCH_MAX);
  for (size_t i = 0; i < n; i++)
    if (!ids[i])
      return trove_err_set(err, TROVE_EINVAL, "trove_store_items_match: id %zu is NULL", i);
  if (n == 0)
    return 0;
  memset(out, 0, n * sizeof *out);
  sqlite3_stmt *s = NULL;
  int rc = build_match(st, n, &s, err);
  if (rc)
    goto out_reset;
  sqlite3_bind_int64(s, 1, source_id);
  for (size_t i = 0; i < n; i++)
    sqlite3_bind_text(s, (int)i + 2, ids[i], -1, SQLITE_STATIC);
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    int64_t ord = sqlite3_column_int64(s, 0);
    if (ord < 0 || (size_t)ord >= n) /* cannot happen: ord comes from our VALUES */
      continue;
    if (read_match(s, &out[ord])) {
      rc = SQLITE_NOMEM;
      break;
    }
  }
  rc = rc == SQLITE_DONE ? 0 : trove_store__fail(st, rc, "matching a batch", err);
  if (rc)
    trove_store_match_clear(out, n);
out_reset:
  trove_store__done(s); /* unbinds the caller's ids, bound without a copy */
  return rc;
}

void trove_store_match_clear(trove_store_match *m, size_t n) {
  for (size_t i = 0; m && i < n; i++) {
    trove_free(m[i].content_hash);
    trove_free(m[i].etag);
    trove_free(m[i].last_modified);
    trove_free(m[i].skip_reason);
    trove_free(m[i].text_hash);
    memset(&m[i], 0, sizeof m[i]);
  }
}

/* ---- items ----------------------------------------------------------------- */

/* The columns read_item expects, in order; ?2 (with raw) decides column 10. */
#define ITEM_COLS                                                                  \
  "SELECT id, source_id, external_id, type, title, author, description, language," \
  " headings, text, CASE WHEN ?2 THEN raw END, raw_size, content_hash, etag,"      \
  " last_modified, process_version, mtime_us, last_visited, skip_reason, error,"      \
  " hidden_at, seen_in_scan, is_link_hub, updated_at, size, text_hash,"           \
  " fetch_failures, retry_at, charset_guessed, expired_at FROM items"

static bool dup(sqlite3_stmt *s, int col, const char **out) {
  char *p;
  bool ok = trove_store__col_dup(s, col, &p);
  *out = p;
  return ok;
}

static int read_raw(trove_store *st, sqlite3_stmt *s, trove_store_item *it, trove_err *err) {
  const void *blob = sqlite3_column_blob(s, 10);
  int len = sqlite3_column_bytes(s, 10);
  if (!blob) {
    if (sqlite3_column_type(s, 10) != SQLITE_NULL)
      return trove_err_set(err, TROVE_ENOMEM, "out of memory reading item %lld",
                           (long long)it->id);
    return 0;
  }
  void *raw;
  int rc = trove_store__decompress(st, it->id, blob, (size_t)len, sqlite3_column_int64(s, 11), &raw,
                                   err);
  if (rc == 0) {
    it->raw = raw;
    it->raw_len = (size_t)sqlite3_column_int64(s, 11);
  }
  return rc;
}

/* Reads the current row of an ITEM_COLS query into *it. */
static int read_item(trove_store *st, sqlite3_stmt *s, trove_store_item *it, trove_err *err) {
  memset(it, 0, sizeof *it);
  it->id = sqlite3_column_int64(s, 0);
  it->source_id = sqlite3_column_int64(s, 1);
  it->type = trove_item_type_parse((const char *)sqlite3_column_text(s, 3));
  it->process_version = sqlite3_column_int64(s, 15);
  it->mtime_us = sqlite3_column_int64(s, 16);
  it->size = sqlite3_column_int64(s, 24);
  it->fetch_failures = sqlite3_column_int64(s, 26);
  it->retry_at = sqlite3_column_int64(s, 27);
  it->charset_guessed = sqlite3_column_int(s, 28) != 0;
  it->expired_at = sqlite3_column_int64(s, 29);
  it->last_visited = sqlite3_column_int64(s, 17);
  it->hidden_at = sqlite3_column_int64(s, 20);
  it->seen_in_scan = sqlite3_column_int64(s, 21);
  it->is_link_hub = sqlite3_column_int(s, 22) != 0;
  it->updated_at = sqlite3_column_int64(s, 23);
  bool ok = dup(s, 2, &it->external_id) && dup(s, 4, &it->title) && dup(s, 5, &it->author) &&
            dup(s, 6, &it->description) && dup(s, 7, &it->language) &&
            dup(s, 8, &it->headings) && dup(s, 9, &it->text) &&
            dup(s, 12, &it->content_hash) && dup(s, 13, &it->etag) &&
            dup(s, 14, &it->last_modified) && dup(s, 18, &it->skip_reason) &&
            dup(s, 19, &it->error) && dup(s, 25, &it->text_hash);
  int rc = ok ? read_raw(st, s, it, err)
              : trove_err_set(err, TROVE_ENOMEM, "out of memory reading item %lld",
                              (long long)it->id);
  if (rc)
    trove_store_item_clear(it);
  return rc;
}

int64_t trove_store_item_time(const trove_store_item *it) {
  /* as ST_ITEM_TIME (store_int.h) computes it in SQL */
  return it->last_visited > 0 ? it->last_visited : it->mtime_us / 1000000;
}

void trove_store_item_clear(trove_store_item *it) {
  if (!it)
    return;
  const char *strs[] = {it->external_id, it->title, it->author, it->description,
                        it->language, it->headings, it->text, it->content_hash, it->etag,
                        it->last_modified, it->skip_reason, it->error, it->text_hash};
  for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
    trove_free((void *)strs[i]);
  trove_free((void *)it->raw);
  memset(it, 0, sizeof *it);
}

void trove_store_items_free(trove_store_item *v, size_t n) {
  for (size_t i = 0; v && i < n; i++)
    trove_store_item_clear(&v[i]);
  trove_free(v);
}

int trove_store_item_get(trove_store *st, int64_t id, bool with_raw, trove_store_item *out,
                         trove_err *err) {
  if (!st || !out)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_item_get: NULL argument");
  memset(out, 0, sizeof *out);
  sqlite3_stmt *s = NULL;
  int rc = trove_store__stmt(st, SLOT_ITEM_GET, ITEM_COLS " WHERE id = ?1", &s, err);
  if (rc)
    return rc;
  sqlite3_bind_int64(s, 1, id);
  sqlite3_bind_int(s, 2, with_raw);
  rc = trove_store__step_one(st, s, "reading an item", err,
                             "no item with id %lld; see `trove search`", (long long)id);
  if (rc == 0)
    rc = read_item(st, s, out, err);
  trove_store__done(s);
  return rc;
}

/* ---- paths -------------------------------------------------------------- */

void trove_store_paths_free(char **v, size_t n) {
  for (size_t i = 0; v && i < n; i++)
    trove_free(v[i]);
  trove_free(v);
}

static int path_row(trove_store *st, sqlite3_stmt *s, void *elem, trove_err *err) {
  (void)st;
  return trove_store__col_dup(s, 0, elem) ? 0
                                          : trove_err_set(err, TROVE_ENOMEM,
                                                          "out of memory "
                                                          "listing item paths");
}

static void free_paths(void *v, size_t n) { trove_store_paths_free(v, n); }

int trove_store_items_paths(trove_store *st, char ***out, size_t *n, trove_err *err) {
  if (!st || !out || !n)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_items_paths: NULL argument");
  *out = NULL;
  *n = 0;
  sqlite3_stmt *s = NULL;
  int rc = sqlite3_prepare_v2(st->db, "SELECT external_id FROM items WHERE hidden_at IS NULL"
                              " ORDER BY id", -1, &s, NULL);
  if (rc != SQLITE_OK)
    return trove_store__fail(st, rc, "listing item paths", err);
  void *v = NULL;
  rc = trove_store__read_rows(st, s, sizeof(char *), path_row, free_paths, &v, n,
                              "listing item paths", err);
  *out = v;
  sqlite3_finalize(s);
  return rc;
}

/* ---- skipped and hidden ----------------------------------------------------- */

void trove_store_skips_free(trove_store_skip *v, size_t n) {
  for (size_t i = 0; v && i < n; i++) {
    trove_free(v[i].source);
    trove_free(v[i].external_id);
    trove_free(v[i].title);
    trove_free(v[i].skip_reason);
    trove_free(v[i].error);
  }
  trove_free(v);
}

static int skip_row(trove_store *st, sqlite3_stmt *s, void *elem, trove_err *err) {
  (void)st;
  trove_store_skip *x = elem;
  memset(x, 0, sizeof *x);
  x->id = sqlite3_column_int64(s, 0);
  x->hidden_at = sqlite3_column_int64(s, 6);
  if (trove_store__col_dup(s, 1, &x->source) && trove_store__col_dup(s, 2, &x->external_id) &&
      trove_store__col_dup(s, 3, &x->title) && trove_store__col_dup(s, 4, &x->skip_reason) &&
      trove_store__col_dup(s, 5, &x->error))
    return 0;
  trove_free(x->source);
  trove_free(x->external_id);
  trove_free(x->title);
  trove_free(x->skip_reason);
  trove_free(x->error);
  return trove_err_set(err, TROVE_ENOMEM, "out of memory listing skipped items");
}

static void free_skips(void *v, size_t n) { trove_store_skips_free(v, n); }

int trove_store_items_skipped(trove_store *st, int64_t source_id, int64_t version,
                              trove_store_skip **out, size_t *n, trove_err *err) {
  if (!st || !out || !n)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_items_skipped: NULL argument");
  *out = NULL;
  *n = 0;
  sqlite3_stmt *s = NULL;
  int rc = sqlite3_prepare_v2(st->db,
      "SELECT i.id, s.name, i.external_id, i.title, i.skip_reason, i.error,"
      " coalesce(i.hidden_at, 0) FROM items i JOIN sources s ON s.id = i.source_id"
      " WHERE (?1 = 0 OR i.source_id = ?1) AND (CASE WHEN ?2 > 0"
      "  THEN i.skip_reason IS NOT NULL AND i.seen_in_scan = ?2"
      "  ELSE i.skip_reason IS NOT NULL OR i.hidden_at IS NOT NULL END)"
      " ORDER BY s.name, i.id", -1, &s, NULL);
  if (rc != SQLITE_OK)
    return trove_store__fail(st, rc, "listing skipped items", err);
  sqlite3_bind_int64(s, 1, source_id);
  sqlite3_bind_int64(s, 2, version);
  void *v = NULL;
  rc = trove_store__read_rows(st, s, sizeof **out, skip_row, free_skips, &v, n,
                              "listing skipped items", err);
  *out = v;
  sqlite3_finalize(s);
  return rc;
}

/* The statement behind trove_store_items_next, bound. */
static int items_next_stmt(trove_store *st, int64_t source_id, const char *pending_model,
                           int64_t after_id, size_t limit, sqlite3_stmt **s, trove_err *err) {
  int rc = pending_model
               ? trove_store__stmt(
                     st, SLOT_ITEMS_PENDING,
                     ITEM_COLS " WHERE source_id = ?1 AND id > ?3"
                               " AND raw IS NOT NULL AND skip_reason IS NULL AND NOT EXISTS("
                               "SELECT 1 FROM item_embeddings e JOIN vector_models m"
                               " ON m.id = e.model_id WHERE m.name = ?5 AND e.item_id = items.id)"
                               " ORDER BY id LIMIT ?4",
                     s, err)
               : trove_store__stmt(st, SLOT_ITEMS_NEXT,
                                   ITEM_COLS " WHERE source_id = ?1 AND id > ?3"
                                             " AND raw IS NOT NULL ORDER BY id LIMIT ?4",
                                   s, err);
  if (rc)
    return rc;
  sqlite3_bind_int64(*s, 1, source_id);
  sqlite3_bind_int(*s, 2, 1);
  sqlite3_bind_int64(*s, 3, after_id);
  sqlite3_bind_int64(*s, 4, (int64_t)limit);
  if (pending_model)
    trove_store__bind_text(*s, 5, pending_model);
  return 0;
}

static int item_row(trove_store *st, sqlite3_stmt *s, void *elem, trove_err *err) {
  return read_item(st, s, elem, err);
}

static void free_items(void *v, size_t n) { trove_store_items_free(v, n); }

int trove_store_items_next(trove_store *st, int64_t source_id, const char *pending_model,
                           int64_t after_id, size_t limit, trove_store_item **out, size_t *n,
                           trove_err *err) {
  if (!st || !out || !n || limit == 0 || limit > INT32_MAX)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_items_next: bad argument");
  *out = NULL;
  *n = 0;
  sqlite3_stmt *s = NULL;
  int rc = items_next_stmt(st, source_id, pending_model, after_id, limit, &s, err);
  if (rc)
    return rc;
  void *v = NULL; /* grows with the rows, not with limit */
  rc = trove_store__read_rows(st, s, sizeof **out, item_row, free_items, &v, n, "reading items",
                              err);
  *out = v;
  trove_store__done(s);
  return rc;
}

/* ---- items with the same content ---------------------------------------- */

static int twin_row(trove_store *st, sqlite3_stmt *s, void *elem, trove_err *err) {
  (void)st;
  trove_store_twin *t = elem;
  t->id = sqlite3_column_int64(s, 0);
  if (trove_store__col_dup(s, 1, &t->external_id) && trove_store__col_dup(s, 2, &t->text_hash))
    return 0;
  trove_free(t->external_id);
  return trove_err_set(err, TROVE_ENOMEM, "out of memory reading items of the same content");
}

static void free_twins(void *v, size_t n) { trove_store_twins_free(v, n); }

int trove_store_items_same_content(trove_store *st, int64_t source_id, const char *content_hash,
                                   size_t limit, trove_store_twin **out, size_t *n,
                                   trove_err *err) {
  if (!st || !content_hash || !out || !n || limit == 0 || limit > INT32_MAX)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_items_same_content: bad argument");
  *out = NULL;
  *n = 0;
  sqlite3_stmt *s = NULL;
  int rc = trove_store__stmt(st, SLOT_ITEMS_SAME,
                             "SELECT id, external_id, text_hash FROM items"
                             " WHERE source_id = ?1 AND content_hash = ?2 AND skip_reason IS NULL"
                             " ORDER BY id LIMIT ?3",
                             &s, err);
  if (rc)
    return rc;
  sqlite3_bind_int64(s, 1, source_id);
  trove_store__bind_text(s, 2, content_hash);
  sqlite3_bind_int64(s, 3, (int64_t)limit);
  void *v = NULL;
  rc = trove_store__read_rows(st, s, sizeof **out, twin_row, free_twins, &v, n,
                              "finding items of the same content", err);
  *out = v;
  trove_store__done(s);
  return rc;
}

void trove_store_twins_free(trove_store_twin *v, size_t n) {
  for (size_t i = 0; v && i < n; i++) {
    trove_free(v[i].external_id);
    trove_free(v[i].text_hash);
  }
  trove_free(v);
}
