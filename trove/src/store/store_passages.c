/* store_passages.c: passages, the first half of the embedding slot: byte
 * spans of an item's text, the unit the model embeds and search highlights.
 * They are spans, not copies, so the text is stored once; a replace deletes
 * the old rows (their vectors cascade) and reports their ids, which the
 * vector index turns into tombstones. Passage ids are never reused
 * (AUTOINCREMENT, see schema.c), so a tombstone cannot hit a newer passage.
 * Vectors are store_vectors.c.
 */
#include "store_int.h"

#include <limits.h>
#include <string.h>

/* The byte length of item_id's text; ENOENT when there is no such item. */
static int text_len(trove_store *st, int64_t item_id, int64_t *len, trove_err *err) {
  sqlite3_stmt *s = NULL;
  int rc = trove_store__stmt(st, SLOT_ITEM_TEXT_LEN,
                             "SELECT coalesce(length(CAST(text AS BLOB)), 0)"
                             " FROM items WHERE id = ?1",
                             &s, err);
  if (rc)
    return rc;
  sqlite3_bind_int64(s, 1, item_id);
  rc = trove_store__step_one(st, s, "reading an item's text", err,
                             "no item with id %lld for passages", (long long)item_id);
  if (rc == 0)
    *len = sqlite3_column_int64(s, 0);
  trove_store__done(s);
  return rc;
}

static int insert_passage(trove_store *st, int64_t item_id, const trove_store_passage *p,
                          int64_t *id, trove_err *err) {
  sqlite3_stmt *s = NULL;
  int rc = trove_store__stmt(st, SLOT_PASSAGE_INS,
                             "INSERT INTO passages(item_id, ordinal, start_byte,"
                             " end_byte, heading) VALUES(?1, ?2, ?3, ?4, ?5)",
                             &s, err);
  if (rc)
    return rc;
  sqlite3_bind_int64(s, 1, item_id);
  sqlite3_bind_int64(s, 2, p->ordinal);
  sqlite3_bind_int64(s, 3, p->start);
  sqlite3_bind_int64(s, 4, p->end);
  trove_store__bind_text(s, 5, p->heading);
  rc = sqlite3_step(s);
  trove_store__done(s);
  if (rc == SQLITE_DONE) {
    if (id)
      *id = sqlite3_last_insert_rowid(st->db);
    return 0;
  }
  if ((rc & 0xff) == SQLITE_CONSTRAINT)
    return trove_err_set(err, TROVE_EINVAL, "passage %lld of item %lld repeats an ordinal",
                         (long long)p->ordinal, (long long)item_id);
  return trove_store__fail(st, rc, "storing a passage", err);
}

int trove_store_passages_replace(trove_store *st, int64_t item_id,
                                 const trove_store_passage *p, size_t n, int64_t *ids,
                                 trove_store_ids *removed, trove_err *err) {
  if (!st || (n && !p))
    return trove_err_set(err, TROVE_EINVAL, "trove_store_passages_replace: NULL argument");
  size_t keep = removed ? removed->n : 0;
  int64_t len = 0;
  bool own;
  int rc = trove_store__save(st, &own, err);
  if (rc)
    return rc;
  if ((rc = text_len(st, item_id, &len, err)))
    goto out_undo;
  for (size_t i = 0; i < n; i++)
    if (p[i].start < 0 || p[i].start > p[i].end || p[i].end > len) {
      rc = trove_err_set(err, TROVE_EINVAL, "passage %zu of item %lld spans [%lld, %lld), "
                         "outside its %lld-byte text", i, (long long)item_id,
                         (long long)p[i].start, (long long)p[i].end, (long long)len);
      goto out_undo;
    }
  if (removed && (rc = trove_store__collect_ids(st,
                                                "SELECT id FROM passages WHERE item_id = ?1"
                                                " ORDER BY id",
                                                item_id, 0, removed, err)))
    goto out_undo;
  sqlite3_stmt *s = NULL;
  if ((rc = trove_store__stmt(st, SLOT_PASSAGE_DEL, "DELETE FROM passages WHERE item_id = ?1", &s,
                              err)))
    goto out_undo;
  sqlite3_bind_int64(s, 1, item_id);
  rc = sqlite3_step(s);
  trove_store__done(s);
  if (rc != SQLITE_DONE) {
    rc = trove_store__fail(st, rc, "replacing passages", err);
    goto out_undo;
  }
  rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++)
    rc = insert_passage(st, item_id, &p[i], ids ? &ids[i] : NULL, err);
  if (rc)
    goto out_undo;
  if ((rc = trove_store__release(st, own, err)))
    goto out_restore;
  return 0;
out_undo:
  trove_store__undo(st, own);
out_restore:
  if (removed)
    removed->n = keep;
  if (ids && n)
    memset(ids, 0, n * sizeof *ids);
  return rc;
}

int trove_store_passages_get(trove_store *st, int64_t item_id, trove_store_passage **out,
                             size_t *n, trove_err *err) {
  if (!st || !out || !n)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_passages_get: NULL argument");
  *out = NULL;
  *n = 0;
  sqlite3_stmt *s = NULL;
  int rc = trove_store__stmt(st, SLOT_PASSAGE_GET,
                             "SELECT id, ordinal, start_byte, end_byte, heading"
                             " FROM passages WHERE item_id = ?1 ORDER BY ordinal",
                             &s, err);
  if (rc)
    return rc;
  sqlite3_bind_int64(s, 1, item_id);
  trove_store_passage *v = NULL;
  size_t len = 0, cap = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (len == cap) {
      size_t ncap = cap ? cap * 2 : 16, bytes;
      trove_store_passage *nv;
      if (!trove_mul_ok(ncap, sizeof *v, &bytes) || !(nv = trove_realloc(v, bytes)))
        goto out_nomem;
      v = nv;
      cap = ncap;
    }
    trove_store_passage *q = &v[len];
    char *heading;
    if (!trove_store__col_dup(s, 4, &heading))
      goto out_nomem;
    *q = (trove_store_passage){sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1),
                               sqlite3_column_int64(s, 2), sqlite3_column_int64(s, 3),
                               heading};
    len++;
  }
  if (rc != SQLITE_DONE) {
    rc = trove_store__fail(st, rc, "reading passages", err);
    goto out_free;
  }
  trove_store__done(s);
  *out = v;
  *n = len;
  return 0;
out_nomem:
  rc = trove_err_set(err, TROVE_ENOMEM, "out of memory reading passages");
out_free:
  trove_store__done(s);
  trove_store_passages_free(v, len);
  return rc;
}

int trove_store_passage_get(trove_store *st, int64_t passage_id, int64_t *item_id,
                            trove_store_passage *out, trove_err *err) {
  if (!st || !item_id || !out)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_passage_get: NULL argument");
  memset(out, 0, sizeof *out);
  *item_id = 0;
  sqlite3_stmt *s = NULL;
  int rc = trove_store__stmt(st, SLOT_PASSAGE_ONE,
                             "SELECT item_id, ordinal, start_byte, end_byte,"
                             " heading FROM passages WHERE id = ?1",
                             &s, err);
  if (rc)
    return rc;
  sqlite3_bind_int64(s, 1, passage_id);
  rc = trove_store__step_one(st, s, "reading a passage", err, "no passage with id %lld",
                             (long long)passage_id);
  char *heading;
  if (rc == 0 && !trove_store__col_dup(s, 4, &heading))
    rc = trove_err_set(err, TROVE_ENOMEM, "out of memory reading a passage");
  else if (rc == 0) {
    *item_id = sqlite3_column_int64(s, 0);
    *out = (trove_store_passage){passage_id, sqlite3_column_int64(s, 1),
                                 sqlite3_column_int64(s, 2), sqlite3_column_int64(s, 3), heading};
  }
  trove_store__done(s);
  return rc;
}

void trove_store_passages_free(trove_store_passage *p, size_t n) {
  for (size_t i = 0; p && i < n; i++)
    trove_free((void *)p[i].heading);
  trove_free(p);
}

int trove_store_passage_ids_where(trove_store *st, int64_t source_id, trove_item_type type,
                                  int64_t since, int64_t until, trove_store_ids *ids,
                                  trove_err *err) {
  sqlite3_stmt *s = NULL;
  int rc = sqlite3_prepare_v2(st->db, "SELECT p.id FROM passages p JOIN items i ON i.id = p.item_id"
                              " WHERE i.hidden_at IS NULL AND (?1 = 0 OR i.source_id = ?1)"
                              " AND (?2 IS NULL OR i.type = ?2)"
                              " AND (?3 = 0 OR " ST_ITEM_TIME("i") " >= ?3)"
                              " AND (?4 = 0 OR " ST_ITEM_TIME("i") " BETWEEN 1 AND ?4)"
                              " ORDER BY p.id",
                              -1, &s, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_int64(s, 1, source_id);
    trove_store__bind_text(s, 2, type == TROVE_ITEM_ANY ? NULL : trove_item_type_name(type));
    sqlite3_bind_int64(s, 3, since);
    sqlite3_bind_int64(s, 4, until);
  }
  return trove_store__collect_rows(st, rc, s, ids,
                                   "listing the passages a filtered search may return", err);
}

int trove_store_passages_drop_stale(trove_store *st, int64_t item_id, trove_store_ids *removed,
                                    trove_err *err) {
  if (!st)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_passages_drop_stale: NULL store");
  /* stale: no mark under any model, as the items_embedding_stale trigger
   * drops them all when the title or text changes (schema.c) */
  size_t keep = removed ? removed->n : 0;
  bool own;
  int rc = trove_store__save(st, &own, err);
  if (rc)
    return rc;
  if (removed && (rc = trove_store__collect_ids(st,
                                                "SELECT id FROM passages WHERE item_id = ?1 AND"
                                                " NOT EXISTS(SELECT 1 FROM item_embeddings WHERE"
                                                " item_id = ?1) ORDER BY id",
                                                item_id, 0, removed, err)))
    goto out_undo;
  sqlite3_stmt *s = NULL;
  if ((rc = trove_store__stmt(st, SLOT_PASSAGE_DROP_STALE,
                              "DELETE FROM passages WHERE item_id = ?1"
                              " AND NOT EXISTS(SELECT 1 FROM item_embeddings WHERE item_id = ?1)",
                              &s, err)))
    goto out_undo;
  sqlite3_bind_int64(s, 1, item_id);
  rc = sqlite3_step(s);
  trove_store__done(s);
  if (rc != SQLITE_DONE) {
    rc = trove_store__fail(st, rc, "dropping stale passages", err);
    goto out_undo;
  }
  if ((rc = trove_store__release(st, own, err)))
    goto out_restore;
  return 0;
out_undo:
  trove_store__undo(st, own);
out_restore:
  if (removed)
    removed->n = keep;
  return rc;
}

/* ---- the owners of a list of passages ------------------------------------------ */

/* The ids go in as one JSON array bound to ?1 and come back joined to their
 * passages and items: one statement, one prepare per handle, whatever the
 * list's length (a VALUES list would need a statement per length). The
 * CROSS JOIN keeps json_each outermost, so each id is one primary-key probe
 * of passages; j.key is the id's position in the array, so repeated ids
 * each get their row. Each distinct item is read once (the DISTINCT, then
 * the materialized `m`): a vector search's hits crowd onto a few items,
 * and the columns wanted sit after the row's text and raw content, in
 * overflow pages that every read of the row walks again. */
int trove_store_passage_owners(trove_store *st, const int64_t *ids, size_t n,
                               trove_store_passage_owner *out, trove_err *err) {
  if (!st || (n && (!ids || !out)))
    return trove_err_set(err, TROVE_EINVAL, "trove_store_passage_owners: NULL argument");
  if (n == 0)
    return 0;
  memset(out, 0, n * sizeof *out);
  trove_buf list = {0};
  int rc = trove_buf_putc(&list, '[');
  for (size_t i = 0; i < n && !rc; i++)
    rc = trove_buf_printf(&list, "%s%lld", i ? "," : "", (long long)ids[i]);
  if (rc || trove_buf_putc(&list, ']')) {
    trove_buf_free(&list);
    return trove_err_set(err, TROVE_ENOMEM, "out of memory listing %zu passages", n);
  }
  if (list.len > INT_MAX) {
    trove_buf_free(&list);
    return trove_err_set(err, TROVE_ERANGE, "cannot look up %zu passages at once; split the "
                         "list", n);
  }
  sqlite3_stmt *s = NULL;
  rc = trove_store__stmt(
      st, SLOT_PASSAGE_OWNERS,
      "WITH h AS MATERIALIZED (SELECT j.key AS k, p.item_id AS item"
      "  FROM json_each(?1) j CROSS JOIN passages p ON p.id = j.value),"
      " m AS MATERIALIZED (SELECT i.id AS id, i.source_id AS src, i.type AS type, " ST_ITEM_TIME(
          "i") " AS t, i.hidden_at AS hidden, i.is_link_hub AS hub"
               "  FROM (SELECT DISTINCT item FROM h) d CROSS JOIN items i ON i.id = d.item)"
               " SELECT h.k, h.item, m.src, m.type, m.t, m.hidden, m.hub"
               " FROM h JOIN m ON m.id = h.item",
      &s, err);
  if (rc) {
    trove_buf_free(&list);
    return rc;
  }
  sqlite3_bind_text(s, 1, list.data, (int)list.len, SQLITE_STATIC);
  int src;
  while ((src = sqlite3_step(s)) == SQLITE_ROW) {
    int64_t k = sqlite3_column_int64(s, 0);
    if (k < 0 || (size_t)k >= n) /* cannot happen: keys index our own array */
      continue;
    out[k] = (trove_store_passage_owner){
        .item_id = sqlite3_column_int64(s, 1),
        .source_id = sqlite3_column_int64(s, 2),
        .type = trove_item_type_parse((const char *)sqlite3_column_text(s, 3)),
        .time = sqlite3_column_int64(s, 4),
        .hidden_at = sqlite3_column_int64(s, 5),
        .is_link_hub = sqlite3_column_int(s, 6) != 0};
  }
  rc = src == SQLITE_DONE ? 0 : trove_store__fail(st, src, "reading the items of passages", err);
  trove_store__done(s); /* unbinds the list, bound without a copy */
  trove_buf_free(&list);
  if (rc)
    memset(out, 0, n * sizeof *out);
  return rc;
}
