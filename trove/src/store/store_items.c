/* store_items.c: writing items: upsert of new or changed content, touch of
 * unchanged items, skip/error records, hide, and the end-of-scan delete of
 * items a full scan did not see. Reading items back is store_read.c.
 *
 * The scan's writer stage calls these inside a batch of ~64 items (one
 * transaction, see trove_store_begin); each is one statement, or a
 * savepoint around several, so a failing item leaves the batch usable and
 * is recorded by the caller as that item's error. FTS rows follow items
 * through the triggers of schema.c, in the same transaction.
 *
 * The seen_in_scan stamp only ever rises: a write from an older scan
 * version never makes an item look unseen to a newer scan, whose
 * end-of-scan delete would then remove it (the scan lock keeps two scans
 * apart; this keeps the delete right even without it).
 */
#include "store_int.h"

#include <string.h>
#include <time.h>

/* Checks what every item write needs. */
static int check_item(trove_store *st, const trove_store_item *it, const char *what,
                      trove_err *err) {
  if (!st || !it || !it->external_id || !it->external_id[0])
    return trove_err_set(err, TROVE_EINVAL, "%s: the item has no external id", what);
  if (it->type < TROVE_ITEM_LOCAL || it->type > TROVE_ITEM_BOOKMARK)
    return trove_err_set(err, TROVE_EINVAL, "%s %s: bad item type %d", what,
                         it->external_id, (int)it->type);
  if (it->raw_len && !it->raw && !it->keep_raw)
    return trove_err_set(err, TROVE_EINVAL, "%s %s: raw_len without raw", what,
                         it->external_id);
  return 0;
}

/* Maps the result of an item INSERT .. RETURNING id. */
static int finish_returning(trove_store *st, sqlite3_stmt *s, int64_t source_id,
                            const trove_store_item *it, int64_t *id, const char *what,
                            trove_err *err) {
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    if (id)
      *id = sqlite3_column_int64(s, 0);
    rc = sqlite3_step(s);
    return rc == SQLITE_DONE ? 0 : trove_store__fail(st, rc, what, err);
  }
  if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
    return trove_err_set(err, TROVE_ENOENT, "%s %s: no source with id %lld", what,
                         it->external_id, (long long)source_id);
  if ((rc & 0xff) == SQLITE_CONSTRAINT)
    return trove_err_set(err, TROVE_EINVAL, "%s %s: %s", what, it->external_id,
                         sqlite3_errmsg(st->db));
  return trove_store__fail(st, rc, what, err);
}

static const char upsert_sql[] =
    "INSERT INTO items(source_id, external_id, type, title, author, description, language,"
    " headings, text, raw, raw_size, content_hash, etag, last_modified, process_version,"
    " mtime_us, last_visited, skip_reason, error, seen_in_scan, is_link_hub, updated_at, size,"
    " text_hash, fetch_failures, retry_at, charset_guessed)"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,"
    " ?18, ?19, ?20, ?21, ?22, ?24, ?25, ?26, ?27, ?28)"
    " ON CONFLICT(source_id, external_id) DO UPDATE SET type = excluded.type,"
    " title = excluded.title, author = excluded.author, description = excluded.description,"
    " language = excluded.language, headings = excluded.headings, text = excluded.text,"
    " raw = CASE WHEN ?23 THEN raw ELSE excluded.raw END,"
    " raw_size = CASE WHEN ?23 THEN raw_size ELSE excluded.raw_size END,"
    " content_hash = excluded.content_hash, text_hash = excluded.text_hash,"
    " etag = excluded.etag,"
    " last_modified = excluded.last_modified, process_version = excluded.process_version,"
    " mtime_us = excluded.mtime_us, size = excluded.size,"
    " last_visited = max(last_visited, excluded.last_visited),"
    " skip_reason = excluded.skip_reason, error = excluded.error,"
    " seen_in_scan = max(seen_in_scan, excluded.seen_in_scan), is_link_hub = excluded.is_link_hub,"
    " updated_at = excluded.updated_at, fetch_failures = excluded.fetch_failures,"
    " retry_at = excluded.retry_at, charset_guessed = excluded.charset_guessed,"
    " expired_at = CASE WHEN excluded.seen_in_scan > seen_in_scan THEN 0 ELSE expired_at END"
    " RETURNING id";

static void bind_upsert(sqlite3_stmt *s, int64_t source_id, const trove_store_item *it,
                        const void *z, size_t zlen) {
  sqlite3_bind_int64(s, 1, source_id);
  trove_store__bind_text(s, 2, it->external_id);
  trove_store__bind_text(s, 3, trove_item_type_name(it->type));
  trove_store__bind_text(s, 4, it->title);
  trove_store__bind_text(s, 5, it->author);
  trove_store__bind_text(s, 6, it->description);
  trove_store__bind_text(s, 7, it->language);
  trove_store__bind_text(s, 8, it->headings);
  trove_store__bind_text(s, 9, it->text);
  if (z) {
    sqlite3_bind_blob64(s, 10, z, zlen, SQLITE_STATIC);
    sqlite3_bind_int64(s, 11, (int64_t)it->raw_len);
  }
  trove_store__bind_text(s, 12, it->content_hash);
  trove_store__bind_text(s, 13, it->etag);
  trove_store__bind_text(s, 14, it->last_modified);
  sqlite3_bind_int64(s, 15, it->process_version);
  sqlite3_bind_int64(s, 16, it->mtime_us);
  sqlite3_bind_int64(s, 17, it->last_visited);
  trove_store__bind_text(s, 18, it->skip_reason);
  trove_store__bind_text(s, 19, it->error);
  sqlite3_bind_int64(s, 20, it->seen_in_scan);
  sqlite3_bind_int(s, 21, it->is_link_hub ? 1 : 0);
  sqlite3_bind_int64(s, 22, (int64_t)time(NULL));
  sqlite3_bind_int(s, 23, it->keep_raw);
  sqlite3_bind_int64(s, 24, it->size);
  trove_store__bind_text(s, 25, it->text_hash);
  sqlite3_bind_int64(s, 26, it->fetch_failures);
  sqlite3_bind_int64(s, 27, it->retry_at);
  sqlite3_bind_int(s, 28, it->charset_guessed ? 1 : 0);
}

int trove_store_item_upsert(trove_store *st, int64_t source_id, const trove_store_item *it,
                            int64_t *id, trove_err *err) {
  int rc = check_item(st, it, "storing item", err);
  if (rc || (rc = trove_store__writable(st, err)))
    return rc;
  void *z = NULL;
  size_t zlen = 0;
  if (it->raw && !it->keep_raw &&
      (rc = trove_store__compress(st, it->raw, it->raw_len, &z, &zlen, err)))
    return rc;
  sqlite3_stmt *s = NULL;
  if ((rc = trove_store__stmt(st, SLOT_ITEM_UPSERT, upsert_sql, &s, err)))
    goto out_free;
  bind_upsert(s, source_id, it, z, zlen);
  rc = finish_returning(st, s, source_id, it, id, "storing item", err);
out_free:
  trove_store__done(s);
  trove_free(z);
  return rc;
}

int trove_store_item_touch(trove_store *st, int64_t item_id, int64_t version,
                           int64_t last_visited, int64_t mtime_us, int64_t size,
                           trove_err *err) {
  if (!st)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_item_touch: NULL store");
  sqlite3_stmt *s = NULL;
  int rc = trove_store__writable(st, err);
  if (rc)
    return rc;
  rc = trove_store__stmt(st, SLOT_ITEM_TOUCH,
                         "UPDATE items SET seen_in_scan = max(seen_in_scan, ?2),"
                         " expired_at = CASE WHEN ?2 > seen_in_scan THEN 0 ELSE expired_at END,"
                         " last_visited = max(last_visited, ?3),"
                         " mtime_us = CASE WHEN ?5 < 0 THEN mtime_us ELSE ?4 END,"
                         " size = CASE WHEN ?5 < 0 THEN size ELSE ?5 END WHERE id = ?1",
                         &s, err);
  if (rc)
    return rc;
  sqlite3_bind_int64(s, 1, item_id);
  sqlite3_bind_int64(s, 2, version);
  sqlite3_bind_int64(s, 3, last_visited);
  sqlite3_bind_int64(s, 4, mtime_us);
  sqlite3_bind_int64(s, 5, size);
  rc = sqlite3_step(s);
  trove_store__done(s);
  if (rc != SQLITE_DONE)
    return trove_store__fail(st, rc, "marking an item seen", err);
  if (sqlite3_changes(st->db) == 0)
    return trove_err_set(err, TROVE_ENOENT, "no item with id %lld", (long long)item_id);
  return 0;
}

int trove_store_item_skip(trove_store *st, int64_t source_id, const trove_store_item *it,
                          int64_t *id, trove_err *err) {
  int rc = check_item(st, it, "recording skipped item", err);
  if (rc || (rc = trove_store__writable(st, err)))
    return rc;
  if (!it->skip_reason || !it->skip_reason[0])
    return trove_err_set(err, TROVE_EINVAL, "recording skipped item %s: no skip reason",
                         it->external_id);
  sqlite3_stmt *s = NULL;
  rc = trove_store__stmt(
      st, SLOT_ITEM_SKIP,
      "INSERT INTO items(source_id, external_id, type, title, skip_reason, error,"
      " seen_in_scan, last_visited, updated_at, fetch_failures, retry_at)"
      " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
      " ON CONFLICT(source_id, external_id) DO UPDATE SET"
      " skip_reason = excluded.skip_reason, error = excluded.error,"
      " fetch_failures = excluded.fetch_failures, retry_at = excluded.retry_at,"
      " seen_in_scan = max(seen_in_scan, excluded.seen_in_scan),"
      " last_visited = max(last_visited, excluded.last_visited),"
      " updated_at = excluded.updated_at, expired_at = CASE WHEN"
      " excluded.seen_in_scan > seen_in_scan THEN 0 ELSE expired_at END RETURNING id",
      &s, err);
  if (rc)
    return rc;
  sqlite3_bind_int64(s, 1, source_id);
  trove_store__bind_text(s, 2, it->external_id);
  trove_store__bind_text(s, 3, trove_item_type_name(it->type));
  trove_store__bind_text(s, 4, it->title);
  trove_store__bind_text(s, 5, it->skip_reason);
  trove_store__bind_text(s, 6, it->error);
  sqlite3_bind_int64(s, 7, it->seen_in_scan);
  sqlite3_bind_int64(s, 8, it->last_visited);
  sqlite3_bind_int64(s, 9, (int64_t)time(NULL));
  sqlite3_bind_int64(s, 10, it->fetch_failures);
  sqlite3_bind_int64(s, 11, it->retry_at);
  rc = finish_returning(st, s, source_id, it, id, "recording skipped item", err);
  trove_store__done(s);
  return rc;
}

int trove_store_items_keep_under(trove_store *st, int64_t source_id, int64_t version,
                                 const char *dir, int64_t *kept, trove_err *err) {
  if (!st || !dir)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_items_keep_under: NULL argument");
  /* Under dir is the range [dir || '/', dir || '0'): '0' follows '/' in
   * byte order, which SQLite's default collation is, so the source's
   * (source_id, external_id) index serves it. A root of "/" keeps all. */
  size_t n = strlen(dir);
  while (n > 0 && dir[n - 1] == '/')
    n--;
  sqlite3_stmt *s = NULL;
  int rc = sqlite3_prepare_v2(st->db, "UPDATE items SET seen_in_scan = ?2 WHERE source_id = ?1"
                              " AND seen_in_scan < ?2 AND (external_id = ?3 OR"
                              " (external_id >= ?3 || '/' AND external_id < ?3 || '0'))",
                              -1, &s, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_int64(s, 1, source_id);
    sqlite3_bind_int64(s, 2, version);
    sqlite3_bind_text(s, 3, dir, (int)n, SQLITE_STATIC);
    rc = sqlite3_step(s);
  }
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE)
    return trove_store__fail(st, rc, "keeping the items of an unreadable path", err);
  if (kept)
    *kept = sqlite3_changes64(st->db);
  return 0;
}

/* The items of ?1 at or under ?3 (as keep_under names them) not seen by
 * scan ?2. */
#define UNDER_UNSEEN " source_id = ?1 AND seen_in_scan < ?2 AND (external_id = ?3 OR" \
  " (external_id >= ?3 || '/' AND external_id < ?3 || '0'))"

/* Prepares sql (UNDER_UNSEEN's parameters) and binds them; path's trailing
 * '/'s are dropped. SQLite's code. */
static int prepare_under(trove_store *st, const char *sql, int64_t source_id, int64_t version,
                         const char *path, sqlite3_stmt **s) {
  size_t n = strlen(path);
  while (n > 0 && path[n - 1] == '/')
    n--;
  int rc = sqlite3_prepare_v2(st->db, sql, -1, s, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_int64(*s, 1, source_id);
    sqlite3_bind_int64(*s, 2, version);
    sqlite3_bind_text(*s, 3, path, (int)n, SQLITE_TRANSIENT);
  }
  return rc;
}

int trove_store_items_delete_under(trove_store *st, int64_t source_id, int64_t version,
                                   const char *path, int64_t *deleted,
                                   trove_store_ids *passages, trove_err *err) {
  if (!st || !path)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_items_delete_under: NULL argument");
  size_t keep = passages ? passages->n : 0;
  bool own;
  int rc = trove_store__save(st, &own, err);
  if (rc)
    return rc;
  sqlite3_stmt *s = NULL;
  if (passages) {
    rc = prepare_under(st, "SELECT p.id FROM items i JOIN passages p ON p.item_id = i.id"
                       " WHERE i.id IN (SELECT id FROM items WHERE" UNDER_UNSEEN ")"
                       " ORDER BY p.id", source_id, version, path, &s);
    if ((rc = trove_store__collect_rows(st, rc, s, passages, "collecting the passages of a path",
                                        err)))
      goto out_undo;
  }
  rc = prepare_under(st, "DELETE FROM items WHERE" UNDER_UNSEEN, source_id, version, path, &s);
  if (rc == SQLITE_OK)
    rc = sqlite3_step(s);
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE) {
    rc = trove_store__fail(st, rc, "deleting the items of a path that is gone", err);
    goto out_undo;
  }
  int64_t count = sqlite3_changes64(st->db);
  if ((rc = trove_store__release(st, own, err)))
    goto out_restore;
  if (deleted)
    *deleted = count;
  return 0;
out_undo:
  trove_store__undo(st, own);
out_restore:
  if (passages)
    passages->n = keep;
  return rc;
}

/* Prepares sql, whose ?1 is a source id and ?2 a scan version (the items
 * that scan did not see), binds both and steps once. The caller reads the
 * row or checks for SQLITE_DONE, then finalizes *s. */
static int step_unseen(trove_store *st, const char *sql, int64_t source_id, int64_t version,
                       sqlite3_stmt **s) {
  int rc = sqlite3_prepare_v2(st->db, sql, -1, s, NULL);
  if (rc != SQLITE_OK)
    return rc;
  sqlite3_bind_int64(*s, 1, source_id);
  sqlite3_bind_int64(*s, 2, version);
  return sqlite3_step(*s);
}

int trove_store_items_count_unseen(trove_store *st, int64_t source_id, int64_t version,
                                   int64_t *n, trove_err *err) {
  if (!st || !n)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_items_count_unseen: NULL argument");
  sqlite3_stmt *s = NULL;
  int rc = step_unseen(st, "SELECT count(*) FROM items WHERE source_id = ?1 AND"
                       " seen_in_scan < ?2", source_id, version, &s);
  *n = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
  sqlite3_finalize(s);
  return rc == SQLITE_ROW
             ? 0
             : trove_store__fail(st, rc, "counting the items gone from the source", err);
}

int trove_store_items_delete_unseen(trove_store *st, int64_t source_id, int64_t version,
                                    int64_t *deleted, trove_store_ids *passages,
                                    trove_err *err) {
  if (!st)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_items_delete_unseen: NULL store");
  size_t keep = passages ? passages->n : 0;
  bool own;
  int rc = trove_store__save(st, &own, err);
  if (rc)
    return rc;
  if (passages && (rc = trove_store__collect_ids(st,
                                                 "SELECT p.id FROM items i JOIN passages p"
                                                 " ON p.item_id = i.id WHERE i.source_id = ?1"
                                                 " AND i.seen_in_scan < ?2 ORDER BY p.id",
                                                 source_id, version, passages, err)))
    goto out_undo;
  sqlite3_stmt *s = NULL;
  rc = step_unseen(st, "DELETE FROM items WHERE source_id = ?1 AND seen_in_scan < ?2",
                   source_id, version, &s);
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE) {
    rc = trove_store__fail(st, rc, "deleting items gone from the source", err);
    goto out_undo;
  }
  int64_t count = sqlite3_changes64(st->db);
  if ((rc = trove_store__release(st, own, err)))
    goto out_restore;
  if (deleted)
    *deleted = count;
  return 0;
out_undo:
  trove_store__undo(st, own);
out_restore:
  if (passages)
    passages->n = keep;
  return rc;
}

int trove_store_item_move(trove_store *st, int64_t item_id, const char *external_id,
                          trove_err *err) {
  if (!st || !external_id || !external_id[0])
    return trove_err_set(err, TROVE_EINVAL, "trove_store_item_move: NULL argument");
  sqlite3_stmt *s = NULL;
  int rc = trove_store__writable(st, err);
  if (rc)
    return rc;
  rc = sqlite3_prepare_v2(st->db, "UPDATE items SET external_id = ?2 WHERE id = ?1", -1, &s,
                          NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_int64(s, 1, item_id);
    trove_store__bind_text(s, 2, external_id);
    rc = sqlite3_step(s);
  }
  sqlite3_finalize(s);
  if ((rc & 0xff) == SQLITE_CONSTRAINT)
    return trove_err_set(err, TROVE_EEXIST, "cannot move item %lld to %s: its source has an "
                         "item there already", (long long)item_id, external_id);
  if (rc != SQLITE_DONE)
    return trove_store__fail(st, rc, "moving an item", err);
  if (sqlite3_changes(st->db) == 0)
    return trove_err_set(err, TROVE_ENOENT, "no item with id %lld to move", (long long)item_id);
  return 0;
}

int trove_store_item_set_hidden(trove_store *st, int64_t id, bool hidden, trove_err *err) {
  if (!st)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_item_set_hidden: NULL store");
  sqlite3_stmt *s = NULL;
  int rc = trove_store__writable(st, err);
  if (rc)
    return rc;
  rc = trove_store__stmt(st, SLOT_ITEM_HIDE,
                         "UPDATE items SET hidden_at = CASE WHEN ?2"
                         " THEN coalesce(hidden_at, ?3) END WHERE id = ?1",
                         &s, err);
  if (rc)
    return rc;
  sqlite3_bind_int64(s, 1, id);
  sqlite3_bind_int(s, 2, hidden);
  sqlite3_bind_int64(s, 3, (int64_t)time(NULL));
  rc = sqlite3_step(s);
  trove_store__done(s);
  if (rc != SQLITE_DONE)
    return trove_store__fail(st, rc, hidden ? "hiding an item" : "unhiding an item", err);
  if (sqlite3_changes(st->db) == 0)
    return trove_err_set(err, TROVE_ENOENT, "no item with id %lld; see `trove search`",
                         (long long)id);
  return 0;
}
