/* store_sidecar.c: the sources' configuration kept beside the database, in
 * "<db>.sources.json", so that it survives the database. A damaged database
 * is moved away and rebuilt by a scan (trove_store__fail's advice); without this file
 * the new one would have no sources to scan, and the person would have to
 * remember every `trove source add`. The file is a JSON array of {name,
 * type, location, config}, written whenever the sources change (and at an
 * open that finds it missing, for databases made before it existed); when
 * trove_store_open creates a database file and the sidecar is there, the
 * sources come back from it (trove_store_open_note says so).
 *
 * SQLite writes and reads the JSON itself (json_group_array, json_each), so
 * no second JSON codec sits in the store. The file is replaced atomically
 * (a temporary file, fsync, rename) while the change's write transaction is
 * still open, so two processes changing sources write it in commit order.
 * It is a copy, best effort: failing to write it (a read-only directory)
 * never fails the change itself.
 */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char suffix[] = ".sources.json";

/* "<db>.sources.json" (trove_free), or NULL for out of memory. */
static char *sidecar_path(const trove_store *st) {
  trove_buf b = {0};
  if (trove_buf_printf(&b, "%s%s", st->path, suffix)) {
    trove_buf_free(&b);
    return NULL;
  }
  return b.data;
}

/* The sources as the sidecar's JSON text (trove_free), or NULL. */
static char *sources_json(trove_store *st) {
  sqlite3_stmt *s = NULL;
  char *json = NULL;
  if (sqlite3_prepare_v2(st->db, "SELECT json_group_array(json_object('name', name, 'type', type,"
                         " 'location', location, 'config', json(config)))"
                         " FROM (SELECT * FROM sources ORDER BY id)", -1, &s, NULL) == SQLITE_OK &&
      sqlite3_step(s) == SQLITE_ROW)
    trove_store__col_dup(s, 0, &json);
  sqlite3_finalize(s);
  return json;
}

/* Writes data to path through a temporary file and a rename. */
static bool replace_file(const char *path, const char *data) {
  trove_buf tmp = {0};
  if (trove_buf_printf(&tmp, "%s.tmp-%ld", path, (long)getpid())) {
    trove_buf_free(&tmp);
    return false;
  }
  bool ok = false;
  int fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd >= 0) {
    size_t n = strlen(data), done = 0;
    while (done < n) {
      ssize_t w = write(fd, data + done, n - done);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        break;
      done += (size_t)w;
    }
    ok = done == n && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    ok = ok && rename(tmp.data, path) == 0;
    if (!ok)
      unlink(tmp.data);
  }
  trove_buf_free(&tmp);
  return ok;
}

void trove_store__sources_keep(trove_store *st) {
  char *path = sidecar_path(st), *json = path ? sources_json(st) : NULL;
  if (json)
    replace_file(path, json); /* best effort, see the top */
  trove_free(json);
  trove_free(path);
}

void trove_store__sources_changed(trove_store *st, bool own) {
  if (own)
    trove_store__sources_keep(st);
  else
    st->sources_dirty = true; /* written when the caller's batch commits */
}

/* Reads the whole sidecar at path into a new string; NULL with errno set
 * when it cannot (ENOENT: there is none), ERANGE past 16 MiB. */
static char *read_sidecar(const char *path) {
  FILE *fp = fopen(path, "rb");
  if (!fp)
    return NULL;
  trove_buf b = {0};
  char chunk[4096];
  size_t n;
  int rc = trove_buf_puts(&b, "");
  while (rc == 0 && (n = fread(chunk, 1, sizeof chunk, fp)) > 0)
    rc = b.len + n > ((size_t)16 << 20) ? (errno = ERANGE, TROVE_ERANGE)
                                        : trove_buf_append(&b, chunk, n);
  if (rc == 0 && ferror(fp))
    rc = TROVE_EIO, errno = EIO;
  fclose(fp);
  if (rc) {
    trove_buf_free(&b);
    return NULL;
  }
  return b.data;
}

/* Inserts the sources listed in json when the database has none, in one
 * transaction; *names gets them, comma-separated. 0 or a store error. */
static int insert_sources(trove_store *st, const char *json, int64_t *count, trove_buf *names,
                          trove_err *err) {
  bool own;
  int rc = trove_store__save(st, &own, err);
  if (rc)
    return rc;
  sqlite3_stmt *s = NULL;
  int src = sqlite3_prepare_v2(st->db, "INSERT INTO sources(name, type, location, config,"
                               " created_at) SELECT value->>'name', value->>'type',"
                               " value->>'location', coalesce(json(value->'config'), '{}'), ?2"
                               " FROM json_each(?1) WHERE NOT EXISTS (SELECT 1 FROM sources)"
                               " RETURNING name", -1, &s, NULL);
  if (src == SQLITE_OK) {
    trove_store__bind_text(s, 1, json);
    sqlite3_bind_int64(s, 2, (int64_t)time(NULL));
    while ((src = sqlite3_step(s)) == SQLITE_ROW) {
      const char *name = (const char *)sqlite3_column_text(s, 0);
      if (trove_buf_printf(names, "%s%s", *count ? ", " : "", name ? name : "?")) {
        src = SQLITE_NOMEM;
        break;
      }
      ++*count;
    }
  }
  sqlite3_finalize(s);
  if (src != SQLITE_DONE) {
    rc = trove_store__fail(st, src, "restoring the sources", err);
    trove_store__undo(st, own);
    return rc;
  }
  return trove_store__release(st, own, err);
}

void trove_store__sources_restore(trove_store *st) {
  char *path = sidecar_path(st), *json = path ? read_sidecar(path) : NULL;
  int64_t count = 0;
  trove_buf names = {0};
  trove_err e = {0};
  if (!json) {
    if (path && errno != ENOENT)
      snprintf(st->open_note, sizeof st->open_note, "could not read the sources kept in "
               "%.200s (%s); add them again with `trove source add`", path, strerror(errno));
  } else if (insert_sources(st, json, &count, &names, &e) != 0) {
    snprintf(st->open_note, sizeof st->open_note, "could not restore the sources kept in "
             "%.200s: %.200s; add them again with `trove source add`", path, e.msg);
  } else if (count) {
    snprintf(st->open_note, sizeof st->open_note, "a new database: restored %lld sources "
             "(%.200s) from %.200s; `trove scan` indexes them again", (long long)count,
             names.data, path);
  }
  trove_buf_free(&names);
  trove_free(json);
  trove_free(path);
}

bool trove_store__sources_kept(const trove_store *st) {
  char *path = sidecar_path(st);
  struct stat sb;
  bool kept = path && stat(path, &sb) == 0;
  trove_free(path);
  return kept;
}

const char *trove_store_open_note(const trove_store *st) {
  return st && st->open_note[0] ? st->open_note : NULL;
}
