/* schema.c: trove's tables, and the migrations that build them. The schema
 * version is `PRAGMA user_version`; steps[i] takes the database from version
 * i to i + 1, each in its own IMMEDIATE transaction that re-reads the
 * version first, so two processes opening a new file at once migrate it
 * once, and a crash mid-step leaves the previous version intact. A file
 * newer than this binary is refused rather than guessed at. Our files carry
 * `PRAGMA application_id` 'TRVE' so another program's SQLite file is
 * refused too.
 *
 * DESIGN
 * - Tables are STRICT: a hostile or buggy writer cannot store text where a
 *   count belongs. Enumerations are CHECKed text, readable in the sqlite3
 *   shell.
 * - items and passages use AUTOINCREMENT: their ids are never reused after a
 *   delete, so an id the vector index tombstoned, or one a user copied from
 *   `trove search` for `trove print`, never names a different row later.
 * - The FTS5 index items_fts is EXTERNAL-CONTENT over items (title,
 *   headings, text). Rejected: a plain FTS5 table (a second copy of every
 *   text, doubling the largest thing we store) and a contentless one
 *   (snippet() and highlight() need the text, and SQLite 3.40 has no
 *   contentless_delete, so deletes would need the old text anyway).
 *   External content only stays correct when every delete hands FTS5 the
 *   exact old values; triggers on items do that, inside the same
 *   transaction as the write, including deletes cascaded from a source.
 *   The update trigger fires only on title/headings/text, so touching an
 *   unchanged item (the common case of a rescan) costs no FTS work. The
 *   porter stemmer over unicode61 with diacritics folded matches "parsing"
 *   to "parse" and "café" to "cafe".
 * - Passages are byte spans into items.text, not copies.
 * - The embedding slot: vector_models names each model once with its
 *   dimension and a version counter; triggers bump the counter in the same
 *   transaction as any vector insert, update or delete (cascades included),
 *   so a persisted index knows whether it is current (see store.h).
 *   passage_vectors is WITHOUT ROWID keyed (model, passage) so a rebuild
 *   reads one model's vectors in passage order from the key itself.
 * - seen_in_scan + sources.scan_version implement "delete what the last full
 *   scan did not see": a scan bumps the version and stamps what it sees; a
 *   crash before the end deletes nothing, and the rerun stamps again.
 */
#include "store_int.h"

#include <stdio.h>

enum { APP_ID = 0x54525645 }; /* 'TRVE' */

static const char step1[] =
    "CREATE TABLE sources("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE CHECK(name <> ''),"
    " type TEXT NOT NULL,"
    " location TEXT NOT NULL,"
    " config TEXT NOT NULL DEFAULT '{}' CHECK(json_valid(config)),"
    " status TEXT NOT NULL DEFAULT 'ready' CHECK(status IN ('ready','indexing','error')),"
    " status_msg TEXT,"
    " scanned_count INTEGER NOT NULL DEFAULT 0,"
    " last_scan_ms INTEGER NOT NULL DEFAULT 0,"
    " last_scan_at INTEGER NOT NULL DEFAULT 0,"
    " scan_version INTEGER NOT NULL DEFAULT 0,"
    " created_at INTEGER NOT NULL) STRICT;"
    "CREATE TABLE items("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,"
    " external_id TEXT NOT NULL,"
    " type TEXT NOT NULL CHECK(type IN ('local','web','bookmark')),"
    " title TEXT, author TEXT, description TEXT, language TEXT,"
    " headings TEXT, text TEXT,"
    " raw BLOB, raw_size INTEGER,"
    " content_hash TEXT, etag TEXT, last_modified TEXT,"
    " process_version INTEGER NOT NULL DEFAULT 0,"
    " mtime INTEGER NOT NULL DEFAULT 0,"
    " last_visited INTEGER NOT NULL DEFAULT 0,"
    " skip_reason TEXT, error TEXT,"
    " hidden_at INTEGER,"
    " seen_in_scan INTEGER NOT NULL DEFAULT 0,"
    " is_link_hub INTEGER NOT NULL DEFAULT 0 CHECK(is_link_hub IN (0,1)),"
    " updated_at INTEGER NOT NULL,"
    " UNIQUE(source_id, external_id)) STRICT;"
    "CREATE INDEX items_unseen ON items(source_id, seen_in_scan);"
    "CREATE VIRTUAL TABLE items_fts USING fts5(title, headings, text,"
    " content='items', content_rowid='id',"
    " tokenize='porter unicode61 remove_diacritics 2');"
    "CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN"
    " INSERT INTO items_fts(rowid, title, headings, text)"
    "  VALUES(new.id, new.title, new.headings, new.text);"
    "END;"
    "CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN"
    " INSERT INTO items_fts(items_fts, rowid, title, headings, text)"
    "  VALUES('delete', old.id, old.title, old.headings, old.text);"
    "END;"
    "CREATE TRIGGER items_fts_update AFTER UPDATE OF title, headings, text ON items BEGIN"
    " INSERT INTO items_fts(items_fts, rowid, title, headings, text)"
    "  VALUES('delete', old.id, old.title, old.headings, old.text);"
    " INSERT INTO items_fts(rowid, title, headings, text)"
    "  VALUES(new.id, new.title, new.headings, new.text);"
    "END;";

static const char step2[] =
    "CREATE TABLE passages("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,"
    " ordinal INTEGER NOT NULL,"
    " start_byte INTEGER NOT NULL,"
    " end_byte INTEGER NOT NULL,"
    " heading TEXT,"
    " UNIQUE(item_id, ordinal),"
    " CHECK(0 <= start_byte AND start_byte <= end_byte)) STRICT;"
    "CREATE TABLE vector_models("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " dim INTEGER NOT NULL CHECK(dim > 0),"
    " version INTEGER NOT NULL DEFAULT 0) STRICT;"
    "CREATE TABLE passage_vectors("
    " model_id INTEGER NOT NULL REFERENCES vector_models(id) ON DELETE CASCADE,"
    " passage_id INTEGER NOT NULL REFERENCES passages(id) ON DELETE CASCADE,"
    " vec BLOB NOT NULL,"
    " PRIMARY KEY(model_id, passage_id)) STRICT, WITHOUT ROWID;"
    "CREATE INDEX passage_vectors_passage ON passage_vectors(passage_id);"
    "CREATE TRIGGER passage_vectors_insert AFTER INSERT ON passage_vectors BEGIN"
    " UPDATE vector_models SET version = version + 1 WHERE id = new.model_id;"
    "END;"
    "CREATE TRIGGER passage_vectors_update AFTER UPDATE ON passage_vectors BEGIN"
    " UPDATE vector_models SET version = version + 1 WHERE id = new.model_id;"
    "END;"
    "CREATE TRIGGER passage_vectors_delete AFTER DELETE ON passage_vectors BEGIN"
    " UPDATE vector_models SET version = version + 1 WHERE id = old.model_id;"
    "END;";

/* Which items are embedded under which model: an item is "embedded" when its
 * passages and their vectors for that model are stored, even if it has no
 * passage at all (empty text). A changed title or text makes the passages
 * stale, so a trigger drops the mark in the same transaction; the scan then
 * embeds the item again, and so does any later run that finds it pending
 * (trove_store_items_next with a model). */
static const char step3[] =
    "CREATE TABLE item_embeddings("
    " model_id INTEGER NOT NULL REFERENCES vector_models(id) ON DELETE CASCADE,"
    " item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,"
    " PRIMARY KEY(model_id, item_id)) STRICT, WITHOUT ROWID;"
    "CREATE INDEX item_embeddings_item ON item_embeddings(item_id);"
    "CREATE TRIGGER items_embedding_stale AFTER UPDATE OF title, text ON items"
    " WHEN old.title IS NOT new.title OR old.text IS NOT new.text BEGIN"
    " DELETE FROM item_embeddings WHERE item_id = new.id;"
    "END;";

/* A file's mtime to the microsecond, and its size: a change within the same
 * second, or one that keeps the mtime (a copy with -p, a restored backup),
 * used to go unseen. Rows from before keep -1 for the size; the scan treats
 * their mtime as whole seconds until it next touches them (scan_match.c). */
static const char step4[] =
    "ALTER TABLE items RENAME COLUMN mtime TO mtime_us;"
    "UPDATE items SET mtime_us = mtime_us * 1000000;"
    "ALTER TABLE items ADD COLUMN size INTEGER NOT NULL DEFAULT -1;";

/* What a rescan needs to leave unchanged work alone. text_hash is a hash of
 * what an item's passages are cut from (its title, text and block layout:
 * trove_scan__text_hash in scan_extract.c), so a file that was touched, forced or
 * renamed but gives the same text keeps its passages and vectors instead of
 * being embedded again. items_content finds the item a renamed file was
 * stored as, by the hash of its raw bytes. Rows from before have no text
 * hash; the scan compares their raw content instead (scan_read.c). */
static const char step5[] =
    "ALTER TABLE items ADD COLUMN text_hash TEXT;"
    "CREATE INDEX items_content ON items(source_id, content_hash)"
    " WHERE content_hash IS NOT NULL;";

/* charset_guessed: the item's text was decoded from a charset trove guessed
 * (a file that was not UTF-8 read as windows-1252, BOM-less UTF-16 found by
 * its NULs), not one marked or declared, so a reader of odd characters
 * knows why.
 * Backoff for web pages and hosts that do not answer (timeouts, refused or
 * failed connections), so a history full of dead hosts does not cost every
 * scan a timeout per URL. fetch_failures counts such failures of the item
 * in a row, and retry_at (Unix seconds) is when a scan may fetch it again;
 * both are 0 once the server answers. fetch_hosts keeps the same per host,
 * a row only while the host has failed more recently than it answered; the
 * schedule itself is the scan's (scan_backoff.c). */
static const char step6[] =
    "ALTER TABLE items ADD COLUMN fetch_failures INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE items ADD COLUMN retry_at INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE items ADD COLUMN charset_guessed INTEGER NOT NULL DEFAULT 0"
    " CHECK(charset_guessed IN (0,1));"
    "CREATE TABLE fetch_hosts("
    " host TEXT PRIMARY KEY,"
    " failures INTEGER NOT NULL CHECK(failures > 0),"
    " retry_at INTEGER NOT NULL DEFAULT 0,"
    " reason TEXT NOT NULL) STRICT;";

/* Retention and forgetting. expired_at (Unix seconds, 0: not expired) marks
 * a web page that vanished from its browser's history past the browser's
 * own expiry horizon: the browser forgot it, the person did not, so the
 * item is kept (see trove_store_items_expire_unseen); a scan that sees it
 * again clears the mark. forgotten keeps what `trove forget` removed, by
 * source and path or URL, so that the source's next scan does not bring
 * it back (the scan compares forgotten_at with the item's time: a page
 * visited again, or a file modified, after the forget comes back). */
static const char step7[] =
    "ALTER TABLE items ADD COLUMN expired_at INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE forgotten("
    " source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,"
    " external_id TEXT NOT NULL,"
    " forgotten_at INTEGER NOT NULL,"
    " PRIMARY KEY(source_id, external_id)) STRICT, WITHOUT ROWID;";

/* steps[i] migrates version i to i + 1. Append; never edit a released step. */
static const char *const steps[] = {step1, step2, step3, step4, step5, step6, step7};
enum { CURRENT = sizeof steps / sizeof steps[0] };

/* What the file says about itself. All three are read by one statement, so
 * they come from one snapshot: read apart, a migration committed by another
 * process in between would show tables without trove's application id. */
typedef struct {
  int64_t version, app, tables;
} header;

static int read_header(trove_store *st, header *h, trove_err *err) {
  sqlite3_stmt *s = NULL;
  int rc = sqlite3_prepare_v2(st->db,
                              "SELECT (SELECT user_version FROM pragma_user_version),"
                              " (SELECT application_id FROM pragma_application_id),"
                              " (SELECT count(*) FROM sqlite_schema)", -1, &s, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    h->version = sqlite3_column_int64(s, 0);
    h->app = sqlite3_column_int64(s, 1);
    h->tables = sqlite3_column_int64(s, 2);
    rc = 0;
  } else {
    rc = trove_store__fail(st, rc, "reading the schema version", err);
  }
  sqlite3_finalize(s);
  return rc;
}

/* Reads the header and refuses files that are not ours or newer than us. */
static int check_owner(trove_store *st, header *h, trove_err *err) {
  int rc = read_header(st, h, err);
  if (rc)
    return rc;
  if (h->app != APP_ID && (h->app != 0 || h->tables != 0))
    return trove_err_set(err, TROVE_EUNSUPPORTED, "%s is an SQLite database of another "
                         "program, not trove's; pass another path with --db or TROVE_DB",
                         st->path);
  if (h->version > CURRENT)
    return trove_err_set(err, TROVE_EUNSUPPORTED, "database %s has schema version %lld, "
                         "newer than this trove's %d; upgrade trove", st->path,
                         (long long)h->version, CURRENT);
  return 0;
}

/* Applies steps[version] inside one transaction, if nobody did meanwhile. */
static int apply_step(trove_store *st, trove_err *err) {
  int rc = trove_store__exec(st, "BEGIN IMMEDIATE", "migrating the schema", err);
  if (rc)
    return rc;
  header h = {0};
  if ((rc = check_owner(st, &h, err)))
    goto out_rollback;
  if (h.version < CURRENT) {
    char tail[96];
    snprintf(tail, sizeof tail, "PRAGMA user_version=%lld; PRAGMA application_id=%d;",
             (long long)h.version + 1, APP_ID);
    if ((rc = trove_store__exec(st, steps[h.version], "migrating the schema", err)) ||
        (rc = trove_store__exec(st, tail, "migrating the schema", err)))
      goto out_rollback;
  }
  return trove_store__exec(st, "COMMIT", "migrating the schema", err);
out_rollback:
  sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
  return rc;
}

int trove_store__check_owner(trove_store *st, bool *empty, trove_err *err) {
  header h = {0};
  int rc = check_owner(st, &h, err);
  if (rc == 0 && empty)
    *empty = h.tables == 0;
  return rc;
}

int trove_store__check_current(trove_store *st, trove_err *err) {
  header h = {0};
  int rc = check_owner(st, &h, err);
  if (rc)
    return rc;
  if (h.tables == 0)
    return trove_err_set(err, TROVE_ENOENT, "database %s is empty and cannot be written; "
                         "run `trove scan` with write access first", st->path);
  if (h.version < CURRENT)
    return trove_err_set(err, TROVE_EUNSUPPORTED, "database %s has schema version %lld and needs an "
                         "upgrade to %d, which cannot be written in its read-only folder; run "
                         "`trove stats` once with write access", st->path,
                         (long long)h.version, CURRENT);
  return 0;
}

int trove_store__migrate(trove_store *st, trove_err *err) {
  for (;;) {
    header h = {0};
    int rc = check_owner(st, &h, err);
    if (rc)
      return rc;
    if (h.version >= CURRENT)
      return 0;
    if ((rc = apply_step(st, err)))
      return rc;
  }
}
