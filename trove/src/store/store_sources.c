/* store_sources.c: the sources table (what to scan, and how its last scan
 * went) and the scan version that drives deleting what a full scan no
 * longer sees. A source's config is JSON text stored as given: the sources
 * module parses it, the store only keeps it.
 *
 * What is read back is the truth now, not what the last scan wrote: the
 * item count is counted (a scan that kept a vanished source's items saw
 * none of them), and a status of "indexing" that no scan lock backs is an
 * interrupted scan (a killed process never writes its end). */
#include "store_int.h"

#include <string.h>
#include <time.h>

static const char *const status_names[] = {"ready", "indexing", "error"};

static trove_source_status parse_status(const char *s) {
  for (int i = 0; i < 3; i++)
    if (s && strcmp(s, status_names[i]) == 0)
      return (trove_source_status)i;
  return TROVE_SOURCE_ERROR; /* a CHECK constraint makes this unreachable */
}

static bool nonempty(const char *s) { return s && *s; }

int trove_store_source_add(trove_store *st, const char *name, const char *type,
                           const char *location, const char *config, int64_t *id,
                           trove_err *err) {
  if (!st || !nonempty(name) || !nonempty(type) || !nonempty(location))
    return trove_err_set(err, TROVE_EINVAL, "a source needs a name, a type and a location");
  sqlite3_stmt *s = NULL;
  bool own;
  int rc = trove_store__save(st, &own, err);
  if (rc)
    return rc;
  rc = sqlite3_prepare_v2(st->db,
                              "INSERT INTO sources(name, type, location, config, created_at)"
                              " VALUES(?1, ?2, ?3, ?4, ?5) RETURNING id", -1, &s, NULL);
  if (rc != SQLITE_OK) {
    rc = trove_store__fail(st, rc, "adding a source", err);
    goto out_finalize;
  }
  trove_store__bind_text(s, 1, name);
  trove_store__bind_text(s, 2, type);
  trove_store__bind_text(s, 3, location);
  trove_store__bind_text(s, 4, config ? config : "{}");
  sqlite3_bind_int64(s, 5, (int64_t)time(NULL));
  rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    if (id)
      *id = sqlite3_column_int64(s, 0);
    rc = sqlite3_step(s) == SQLITE_DONE
             ? 0
             : trove_store__fail(st, sqlite3_errcode(st->db), "adding a source", err);
  } else if (rc == SQLITE_CONSTRAINT_UNIQUE) {
    rc = trove_err_set(err, TROVE_EEXIST, "a source named %s already exists; pick another "
                       "name or `trove source remove %s` first", name, name);
  } else if (rc == SQLITE_CONSTRAINT_CHECK) {
    rc = trove_err_set(err, TROVE_EINVAL, "the config of source %s is not valid JSON", name);
  } else {
    rc = trove_store__fail(st, rc, "adding a source", err);
  }
out_finalize:
  sqlite3_finalize(s);
  if (rc) {
    trove_store__undo(st, own);
    return rc;
  }
  trove_store__sources_changed(st, own);
  return trove_store__release(st, own, err);
}

/* The columns read_source expects, in order. */
#define SOURCE_COLS                                                          \
  "SELECT id, name, type, location, config, status, status_msg,"            \
  " scanned_count, last_scan_ms, last_scan_at, scan_version,"                \
  " (SELECT count(*) FROM items i WHERE i.source_id = sources.id),"             \
  " (SELECT count(*) FROM items i WHERE i.source_id = sources.id"            \
  "  AND i.expired_at > 0), seen_visit_us, seen_visit_id FROM sources"

/* Reads the current row of a SOURCE_COLS query into *out. */
static int read_source(sqlite3_stmt *s, trove_store_source *out) {
  memset(out, 0, sizeof *out);
  out->id = sqlite3_column_int64(s, 0);
  char *status = NULL;
  bool ok = trove_store__col_dup(s, 1, &out->name) && trove_store__col_dup(s, 2, &out->type) &&
            trove_store__col_dup(s, 3, &out->location) &&
            trove_store__col_dup(s, 4, &out->config) && trove_store__col_dup(s, 5, &status) &&
            trove_store__col_dup(s, 6, &out->status_msg);
  out->status = parse_status(status);
  trove_free(status);
  out->scanned = sqlite3_column_int64(s, 7);
  out->last_scan_ms = sqlite3_column_int64(s, 8);
  out->last_scan_at = sqlite3_column_int64(s, 9);
  out->scan_version = sqlite3_column_int64(s, 10);
  out->items = sqlite3_column_int64(s, 11);
  out->expired = sqlite3_column_int64(s, 12);
  out->seen_visit_us = sqlite3_column_int64(s, 13);
  out->seen_visit_id = sqlite3_column_int64(s, 14);
  if (!ok) {
    trove_store_source_clear(out);
    return TROVE_ENOMEM;
  }
  return 0;
}

int trove_store_source_get(trove_store *st, const char *name, trove_store_source *out,
                           trove_err *err) {
  if (!st || !name || !out)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_source_get: NULL argument");
  memset(out, 0, sizeof *out);
  sqlite3_stmt *s = NULL;
  int rc = trove_store__stmt(st, SLOT_SOURCE_GET, SOURCE_COLS " WHERE name = ?1", &s, err);
  if (rc)
    return rc;
  trove_store__bind_text(s, 1, name);
  rc = trove_store__step_one(st, s, "reading a source", err,
                             "no source named %s; see `trove source list`", name);
  if (rc == 0 && read_source(s, out))
    rc = trove_err_set(err, TROVE_ENOMEM, "out of memory reading source %s", name);
  trove_store__done(s);
  if (rc == 0 && out->status == TROVE_SOURCE_INDEXING && !trove_store_scan_running(st))
    out->status = TROVE_SOURCE_INTERRUPTED;
  return rc;
}

int trove_store__source_id(trove_store *st, const char *name, int64_t *id, trove_err *err) {
  sqlite3_stmt *s = NULL;
  int rc = trove_store__stmt(st, SLOT_SOURCE_ID, "SELECT id FROM sources WHERE name = ?1", &s, err);
  if (rc)
    return rc;
  trove_store__bind_text(s, 1, name);
  rc = trove_store__step_one(st, s, "looking up a source", err,
                             "no source named %s; see `trove source list`", name);
  if (rc == 0)
    *id = sqlite3_column_int64(s, 0);
  trove_store__done(s);
  return rc;
}

static int source_row(trove_store *st, sqlite3_stmt *s, void *elem, trove_err *err) {
  (void)st;
  return read_source(s, elem) ? trove_err_set(err, TROVE_ENOMEM, "out of memory listing sources")
                              : 0;
}

static void free_sources(void *v, size_t n) { trove_store_sources_free(v, n); }

int trove_store_source_list(trove_store *st, trove_store_source **out, size_t *n,
                            trove_err *err) {
  if (!st || !out || !n)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_source_list: NULL argument");
  *out = NULL;
  *n = 0;
  sqlite3_stmt *s = NULL;
  int rc = sqlite3_prepare_v2(st->db, SOURCE_COLS " ORDER BY name", -1, &s, NULL);
  if (rc != SQLITE_OK)
    return trove_store__fail(st, rc, "listing sources", err);
  void *v = NULL;
  rc = trove_store__read_rows(st, s, sizeof **out, source_row, free_sources, &v, n,
                              "listing sources", err);
  *out = v;
  sqlite3_finalize(s);
  int running = -1; /* probed once, and only when needed */
  for (size_t i = 0; rc == 0 && i < *n; i++)
    if ((*out)[i].status == TROVE_SOURCE_INDEXING) {
      if (running < 0)
        running = trove_store_scan_running(st);
      if (!running)
        (*out)[i].status = TROVE_SOURCE_INTERRUPTED;
    }
  return rc;
}

static int name_row(trove_store *st, sqlite3_stmt *s, void *elem, trove_err *err) {
  (void)st;
  trove_store_source *out = elem;
  memset(out, 0, sizeof *out);
  out->id = sqlite3_column_int64(s, 0);
  return trove_store__col_dup(s, 1, &out->name)
             ? 0
             : trove_err_set(err, TROVE_ENOMEM, "out of memory listing sources");
}

int trove_store_source_names(trove_store *st, trove_store_source **out, size_t *n,
                             trove_err *err) {
  if (!st || !out || !n)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_source_names: NULL argument");
  *out = NULL;
  *n = 0;
  sqlite3_stmt *s = NULL;
  int rc = sqlite3_prepare_v2(st->db, "SELECT id, name FROM sources ORDER BY name", -1, &s,
                              NULL);
  if (rc != SQLITE_OK)
    return trove_store__fail(st, rc, "listing sources", err);
  void *v = NULL;
  rc = trove_store__read_rows(st, s, sizeof **out, name_row, free_sources, &v, n, "listing sources",
                              err);
  *out = v;
  sqlite3_finalize(s);
  return rc;
}

void trove_store_source_clear(trove_store_source *s) {
  if (!s)
    return;
  trove_free(s->name);
  trove_free(s->type);
  trove_free(s->location);
  trove_free(s->config);
  trove_free(s->status_msg);
  memset(s, 0, sizeof *s);
}

const char *trove_source_status_name(trove_source_status s) {
  switch (s) {
  case TROVE_SOURCE_READY:
    return "ready";
  case TROVE_SOURCE_INDEXING:
    return "indexing";
  case TROVE_SOURCE_INTERRUPTED:
    return "interrupted";
  default:
    return "error";
  }
}

int trove_store_source_name(trove_store *st, int64_t id, char **name, trove_err *err) {
  if (!st || !name)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_source_name: NULL argument");
  *name = NULL;
  trove_store_source *v = NULL;
  size_t n = 0;
  int rc = trove_store_source_names(st, &v, &n, err); /* a handful of rows */
  for (size_t i = 0; rc == 0 && i < n; i++)
    if (v[i].id == id && !(*name = trove_strdup(v[i].name)))
      rc = trove_err_set(err, TROVE_ENOMEM, "out of memory reading source %lld", (long long)id);
  trove_store_sources_free(v, n);
  return rc;
}

void trove_store_sources_free(trove_store_source *v, size_t n) {
  for (size_t i = 0; v && i < n; i++)
    trove_store_source_clear(&v[i]);
  trove_free(v);
}

int trove_store_source_remove(trove_store *st, const char *name, trove_store_ids *passages,
                              trove_err *err) {
  if (!st || !name)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_source_remove: NULL argument");
  size_t keep = passages ? passages->n : 0;
  int64_t id = 0;
  bool own;
  int rc = trove_store__save(st, &own, err);
  if (rc)
    return rc;
  if ((rc = trove_store__source_id(st, name, &id, err)))
    goto out_undo;
  if (passages && (rc = trove_store__collect_ids(st,
                                                 "SELECT p.id FROM passages p JOIN items i"
                                                 " ON i.id = p.item_id WHERE i.source_id = ?1"
                                                 " ORDER BY p.id",
                                                 id, 0, passages, err)))
    goto out_undo;
  /* Cascades to items, then passages and vectors; triggers clean FTS. */
  sqlite3_stmt *s = NULL;
  rc = sqlite3_prepare_v2(st->db, "DELETE FROM sources WHERE id = ?1", -1, &s, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_int64(s, 1, id);
    rc = sqlite3_step(s);
  }
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE) {
    rc = trove_store__fail(st, rc, "removing a source", err);
    goto out_undo;
  }
  trove_store__sources_changed(st, own);
  if ((rc = trove_store__release(st, own, err)))
    goto out_restore;
  return 0;
out_undo:
  trove_store__undo(st, own);
out_restore:
  if (passages)
    passages->n = keep;
  return rc;
}

int trove_store_source_set_config(trove_store *st, int64_t source_id, const char *config,
                                  trove_err *err) {
  if (!st || !config)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_source_set_config: NULL argument");
  sqlite3_stmt *s = NULL;
  bool own;
  int rc = trove_store__save(st, &own, err);
  if (rc)
    return rc;
  rc = sqlite3_prepare_v2(st->db, "UPDATE sources SET config = ?2 WHERE id = ?1", -1, &s, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_int64(s, 1, source_id);
    trove_store__bind_text(s, 2, config);
    rc = sqlite3_step(s);
  }
  sqlite3_finalize(s);
  if (rc == SQLITE_CONSTRAINT_CHECK)
    rc = trove_err_set(err, TROVE_EINVAL, "the new config of source %lld is not valid JSON",
                       (long long)source_id);
  else if (rc != SQLITE_DONE)
    rc = trove_store__fail(st, rc, "changing a source's config", err);
  else if (sqlite3_changes(st->db) == 0)
    rc = trove_err_set(err, TROVE_ENOENT, "no source with id %lld; see `trove source list`",
                       (long long)source_id);
  else
    rc = 0;
  if (rc) {
    trove_store__undo(st, own);
    return rc;
  }
  trove_store__sources_changed(st, own);
  return trove_store__release(st, own, err);
}

/* Runs an UPDATE of one source by id; ENOENT when no row changed. */
static int update_source(trove_store *st, sqlite3_stmt *s, int64_t id, const char *what,
                         trove_err *err) {
  int rc = sqlite3_step(s);
  if (rc != SQLITE_DONE)
    return trove_store__fail(st, rc, what, err);
  if (sqlite3_changes(st->db) == 0)
    return trove_err_set(err, TROVE_ENOENT, "no source with id %lld; see `trove source "
                         "list`", (long long)id);
  return 0;
}

int trove_store_source_set_visits(trove_store *st, int64_t source_id, int64_t visit_us,
                                  int64_t visit_id, trove_err *err) {
  if (!st)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_source_set_visits: NULL store");
  int rc = trove_store__writable(st, err);
  if (rc)
    return rc;
  sqlite3_stmt *s = NULL;
  rc = sqlite3_prepare_v2(st->db, "UPDATE sources SET seen_visit_us = ?2, seen_visit_id = ?3"
                          " WHERE id = ?1", -1, &s, NULL);
  if (rc != SQLITE_OK) {
    rc = trove_store__fail(st, rc, "noting a source's last visit", err);
  } else {
    sqlite3_bind_int64(s, 1, source_id);
    sqlite3_bind_int64(s, 2, visit_us);
    sqlite3_bind_int64(s, 3, visit_id);
    rc = update_source(st, s, source_id, "noting a source's last visit", err);
  }
  sqlite3_finalize(s);
  return rc;
}

int trove_store_scan_begin(trove_store *st, int64_t source_id, int64_t *version,
                           trove_err *err) {
  if (!st || !version)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_scan_begin: NULL argument");
  sqlite3_stmt *s = NULL;
  int rc = trove_store__writable(st, err);
  if (rc)
    return rc;
  rc = sqlite3_prepare_v2(st->db, "UPDATE sources SET scan_version = scan_version + 1,"
                              " status = 'indexing', status_msg = NULL WHERE id = ?1"
                              " RETURNING scan_version", -1, &s, NULL);
  if (rc != SQLITE_OK) {
    rc = trove_store__fail(st, rc, "starting a scan", err);
    goto out_finalize;
  }
  sqlite3_bind_int64(s, 1, source_id);
  rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    *version = sqlite3_column_int64(s, 0);
    rc = sqlite3_step(s) == SQLITE_DONE
             ? 0
             : trove_store__fail(st, sqlite3_errcode(st->db), "starting a scan", err);
  } else if (rc == SQLITE_DONE) {
    rc = trove_err_set(err, TROVE_ENOENT, "no source with id %lld; see `trove source list`",
                       (long long)source_id);
  } else {
    rc = trove_store__fail(st, rc, "starting a scan", err);
  }
out_finalize:
  sqlite3_finalize(s);
  return rc;
}

int trove_store_scan_resume(trove_store *st, int64_t source_id, int64_t *version, int64_t *killed,
                            trove_err *err) {
  if (!st || !version || !killed)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_scan_resume: NULL argument");
  *killed = 0;
  sqlite3_stmt *s = NULL;
  int rc = sqlite3_prepare_v2(st->db, "SELECT scan_version FROM sources WHERE id = ?1"
                              " AND status = 'indexing' AND scan_version > 0", -1, &s, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_int64(s, 1, source_id);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
      *killed = sqlite3_column_int64(s, 0);
  }
  sqlite3_finalize(s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return trove_store__fail(st, rc, "starting a scan", err);
  return trove_store_scan_begin(st, source_id, version, err);
}

int trove_store_scan_finish(trove_store *st, int64_t source_id, trove_source_status status,
                            const char *msg, int64_t scanned, int64_t duration_ms,
                            trove_err *err) {
  if (!st || (unsigned)status > TROVE_SOURCE_ERROR || scanned < 0 || duration_ms < 0)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_scan_finish: bad status or count");
  sqlite3_stmt *s = NULL;
  int rc = trove_store__writable(st, err);
  if (rc)
    return rc;
  rc = sqlite3_prepare_v2(st->db, "UPDATE sources SET status = ?2, status_msg = ?3,"
                              " scanned_count = ?4, last_scan_ms = ?5, last_scan_at = ?6"
                              " WHERE id = ?1", -1, &s, NULL);
  if (rc != SQLITE_OK) {
    rc = trove_store__fail(st, rc, "finishing a scan", err);
    goto out_finalize;
  }
  sqlite3_bind_int64(s, 1, source_id);
  trove_store__bind_text(s, 2, status_names[status]);
  trove_store__bind_text(s, 3, msg);
  sqlite3_bind_int64(s, 4, scanned);
  sqlite3_bind_int64(s, 5, duration_ms);
  sqlite3_bind_int64(s, 6, (int64_t)time(NULL));
  rc = update_source(st, s, source_id, "finishing a scan", err);
out_finalize:
  sqlite3_finalize(s);
  return rc;
}
