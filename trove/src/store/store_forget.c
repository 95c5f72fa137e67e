/* store_forget.c: what leaves the index on purpose, and what is kept when a
 * browser forgets: the retention mark of items a browser expired
 * (trove_store_items_expire_unseen), the removal of items that `trove
 * forget` or an excluded domain takes out (trove_store_items_remove), the
 * record of forgotten paths and URLs a scan must not bring back, and a
 * paged listing of item identities for callers that select by URL or host.
 *
 * Removing an item row is removing everything of it: passages, vectors and
 * embedded marks cascade (schema.c), its FTS row goes through the delete
 * trigger, and its raw content lives in the row itself. */
#include "store_int.h"

#include <string.h>
#include <time.h>

int trove_store_items_expire_unseen(trove_store *st, int64_t source_id, int64_t version,
                                    int64_t before, int64_t now, int64_t *kept, int64_t *newly,
                                    trove_err *err) {
  if (!st)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_items_expire_unseen: NULL store");
  /* the rows in question: unseen, and either expired already or a page
   * visited before the horizon */
#define EXPIRE_WHERE                                                                         \
  " WHERE source_id = ?1 AND seen_in_scan < ?2 AND (expired_at > 0 OR"                     \
  " (type = 'web' AND last_visited > 0 AND last_visited < ?3))"
  bool own;
  int rc = trove_store__save(st, &own, err);
  if (rc)
    return rc;
  sqlite3_stmt *s = NULL;
  int64_t fresh = 0, all = 0;
  int src = sqlite3_prepare_v2(st->db, "SELECT count(*) FROM items" EXPIRE_WHERE
                               " AND expired_at = 0", -1, &s, NULL);
  if (src == SQLITE_OK) {
    sqlite3_bind_int64(s, 1, source_id);
    sqlite3_bind_int64(s, 2, version);
    sqlite3_bind_int64(s, 3, before);
    src = sqlite3_step(s);
    fresh = sqlite3_column_int64(s, 0);
  }
  sqlite3_finalize(s);
  s = NULL;
  if (src == SQLITE_ROW)
    src = sqlite3_prepare_v2(st->db, "UPDATE items SET seen_in_scan = ?2, expired_at ="
                             " CASE WHEN expired_at > 0 THEN expired_at ELSE ?4 END"
                             EXPIRE_WHERE, -1, &s, NULL);
#undef EXPIRE_WHERE
  if (src == SQLITE_OK) {
    sqlite3_bind_int64(s, 1, source_id);
    sqlite3_bind_int64(s, 2, version);
    sqlite3_bind_int64(s, 3, before);
    sqlite3_bind_int64(s, 4, now);
    src = sqlite3_step(s);
    all = sqlite3_changes64(st->db);
  }
  sqlite3_finalize(s);
  if (src != SQLITE_DONE) {
    rc = trove_store__fail(st, src, "keeping the pages the browser expired", err);
    trove_store__undo(st, own);
    return rc;
  }
  if ((rc = trove_store__release(st, own, err)))
    return rc;
  if (kept)
    *kept = all;
  if (newly)
    *newly = fresh;
  return 0;
}

/* ---- forgotten paths and URLs ------------------------------------------------ */

static int forgotten_row(trove_store *st, sqlite3_stmt *s, void *elem, trove_err *err) {
  (void)st;
  trove_store_forgotten *f = elem;
  f->forgotten_at = sqlite3_column_int64(s, 1);
  return trove_store__col_dup(s, 0, &f->external_id) && f->external_id
             ? 0
             : trove_err_set(err, TROVE_ENOMEM, "out of memory reading forgotten items");
}

static void forgotten_free(void *v, size_t n) { trove_store_forgotten_free(v, n); }

int trove_store_forgotten_get(trove_store *st, int64_t source_id, trove_store_forgotten **out,
                              size_t *n, trove_err *err) {
  if (!st || !out || !n)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_forgotten_get: NULL argument");
  *out = NULL;
  *n = 0;
  sqlite3_stmt *s = NULL;
  /* the primary key's order is SQLite's BINARY collation: memcmp, as strcmp */
  int rc = sqlite3_prepare_v2(st->db, "SELECT external_id, forgotten_at FROM forgotten"
                              " WHERE source_id = ?1 ORDER BY external_id", -1, &s, NULL);
  if (rc != SQLITE_OK)
    return trove_store__fail(st, rc, "reading forgotten items", err);
  sqlite3_bind_int64(s, 1, source_id);
  void *v = NULL;
  rc = trove_store__read_rows(st, s, sizeof **out, forgotten_row, forgotten_free, &v, n,
                              "reading forgotten items", err);
  *out = v;
  sqlite3_finalize(s);
  return rc;
}

void trove_store_forgotten_free(trove_store_forgotten *v, size_t n) {
  for (size_t i = 0; v && i < n; i++)
    trove_free(v[i].external_id);
  trove_free(v);
}

/* Removes one item (remembering it when asked); *gone says whether there
 * was one. */
static int remove_one(trove_store *st, int64_t id, bool remember, trove_store_ids *passages,
                      bool *gone, trove_err *err) {
  *gone = false;
  int rc = passages ? trove_store__collect_ids(st,
                                               "SELECT id FROM passages WHERE item_id = ?1"
                                               " ORDER BY id",
                                               id, 0, passages, err)
                    : 0;
  if (rc)
    return rc;
  sqlite3_stmt *s = NULL;
  int src = SQLITE_OK;
  if (remember) {
    src = sqlite3_prepare_v2(st->db, "INSERT INTO forgotten(source_id, external_id,"
                             " forgotten_at) SELECT source_id, external_id, ?2 FROM items"
                             " WHERE id = ?1 ON CONFLICT(source_id, external_id) DO UPDATE"
                             " SET forgotten_at = excluded.forgotten_at", -1, &s, NULL);
    if (src == SQLITE_OK) {
      sqlite3_bind_int64(s, 1, id);
      sqlite3_bind_int64(s, 2, (int64_t)time(NULL));
      src = sqlite3_step(s);
    }
    sqlite3_finalize(s);
    s = NULL;
    if (src != SQLITE_DONE)
      return trove_store__fail(st, src, "recording a forgotten item", err);
  }
  src = sqlite3_prepare_v2(st->db, "DELETE FROM items WHERE id = ?1", -1, &s, NULL);
  if (src == SQLITE_OK) {
    sqlite3_bind_int64(s, 1, id);
    src = sqlite3_step(s);
  }
  sqlite3_finalize(s);
  if (src != SQLITE_DONE)
    return trove_store__fail(st, src, "removing an item", err);
  *gone = sqlite3_changes(st->db) > 0;
  return 0;
}

int trove_store_items_remove(trove_store *st, const int64_t *ids, size_t n, bool remember,
                             trove_store_ids *passages, int64_t *removed, trove_err *err) {
  if (!st || (n && !ids))
    return trove_err_set(err, TROVE_EINVAL, "trove_store_items_remove: NULL argument");
  size_t keep = passages ? passages->n : 0;
  bool own;
  int rc = trove_store__save(st, &own, err);
  if (rc)
    return rc;
  int64_t count = 0;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    bool gone = false;
    rc = remove_one(st, ids[i], remember, passages, &gone, err);
    count += gone;
  }
  rc = rc ? rc : trove_store__release(st, own, err);
  if (rc) {
    trove_store__undo(st, own);
    if (passages)
      passages->n = keep;
    return rc;
  }
  if (removed)
    *removed = count;
  return 0;
}

/* ---- item identities ------------------------------------------------------------ */

static int ref_row(trove_store *st, sqlite3_stmt *s, void *elem, trove_err *err) {
  (void)st;
  trove_store_ref *r = elem;
  r->id = sqlite3_column_int64(s, 0);
  r->source_id = sqlite3_column_int64(s, 1);
  r->type = trove_item_type_parse((const char *)sqlite3_column_text(s, 3));
  return trove_store__col_dup(s, 2, &r->external_id) && r->external_id
             ? 0
             : trove_err_set(err, TROVE_ENOMEM, "out of memory listing items");
}

static void refs_free(void *v, size_t n) { trove_store_refs_free(v, n); }

int trove_store_items_refs(trove_store *st, int64_t source_id, int64_t after_id, size_t limit,
                           trove_store_ref **out, size_t *n, trove_err *err) {
  if (!st || !out || !n || limit == 0)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_items_refs: bad argument");
  *out = NULL;
  *n = 0;
  sqlite3_stmt *s = NULL;
  int rc = sqlite3_prepare_v2(st->db, "SELECT id, source_id, external_id, type FROM items"
                              " WHERE (?1 = 0 OR source_id = ?1) AND id > ?2 ORDER BY id"
                              " LIMIT ?3", -1, &s, NULL);
  if (rc != SQLITE_OK)
    return trove_store__fail(st, rc, "listing items", err);
  sqlite3_bind_int64(s, 1, source_id);
  sqlite3_bind_int64(s, 2, after_id);
  sqlite3_bind_int64(s, 3, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
  void *v = NULL;
  rc = trove_store__read_rows(st, s, sizeof **out, ref_row, refs_free, &v, n, "listing items", err);
  *out = v;
  sqlite3_finalize(s);
  return rc;
}

void trove_store_refs_free(trove_store_ref *v, size_t n) {
  for (size_t i = 0; v && i < n; i++)
    trove_free(v[i].external_id);
  trove_free(v);
}
