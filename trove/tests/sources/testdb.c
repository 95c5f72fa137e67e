/* testdb.c: see testdb.h. */
#include "testdb.h"

#include "sources.h" /* trove_candidate */

#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char tdb_chromium_schema[] =
    "CREATE TABLE meta(key LONGVARCHAR NOT NULL UNIQUE PRIMARY KEY, value LONGVARCHAR);"
    "CREATE TABLE urls(id INTEGER PRIMARY KEY AUTOINCREMENT, url LONGVARCHAR,"
    " title LONGVARCHAR, visit_count INTEGER DEFAULT 0 NOT NULL,"
    " typed_count INTEGER DEFAULT 0 NOT NULL, last_visit_time INTEGER NOT NULL,"
    " hidden INTEGER DEFAULT 0 NOT NULL);"
    "CREATE TABLE visits(id INTEGER PRIMARY KEY AUTOINCREMENT, url INTEGER NOT NULL,"
    " visit_time INTEGER NOT NULL, from_visit INTEGER, external_referrer_url TEXT,"
    " transition INTEGER DEFAULT 0 NOT NULL, segment_id INTEGER,"
    " visit_duration INTEGER DEFAULT 0 NOT NULL,"
    " incremented_omnibox_typed_score BOOLEAN DEFAULT FALSE NOT NULL,"
    " opener_visit INTEGER, originator_cache_guid TEXT, originator_visit_id INTEGER,"
    " originator_from_visit INTEGER, originator_opener_visit INTEGER,"
    " is_known_to_sync BOOLEAN DEFAULT FALSE NOT NULL,"
    " consider_for_ntp_most_visited BOOLEAN DEFAULT FALSE NOT NULL,"
    " visited_link_id INTEGER DEFAULT 0 NOT NULL);"
    "CREATE INDEX urls_url_index ON urls (url);"
    "CREATE INDEX visits_url_index ON visits (url);"
    "INSERT INTO meta VALUES('version', '67'), ('last_compatible_version', '16');";

const char tdb_firefox_schema[] =
    "CREATE TABLE moz_origins(id INTEGER PRIMARY KEY, prefix TEXT NOT NULL, host TEXT NOT NULL,"
    " frecency INTEGER NOT NULL, recalc_frecency INTEGER NOT NULL DEFAULT 0,"
    " alt_frecency INTEGER, recalc_alt_frecency INTEGER NOT NULL DEFAULT 1,"
    " UNIQUE (prefix, host));"
    "CREATE TABLE moz_places(id INTEGER PRIMARY KEY, url LONGVARCHAR, title LONGVARCHAR,"
    " rev_host LONGVARCHAR, visit_count INTEGER DEFAULT 0, hidden INTEGER DEFAULT 0 NOT NULL,"
    " typed INTEGER DEFAULT 0 NOT NULL, frecency INTEGER DEFAULT -1 NOT NULL,"
    " last_visit_date INTEGER, guid TEXT, foreign_count INTEGER DEFAULT 0 NOT NULL,"
    " url_hash INTEGER DEFAULT 0 NOT NULL, description TEXT, preview_image_url TEXT,"
    " site_name TEXT, origin_id INTEGER REFERENCES moz_origins(id),"
    " recalc_frecency INTEGER NOT NULL DEFAULT 0, alt_frecency INTEGER,"
    " recalc_alt_frecency INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE moz_historyvisits(id INTEGER PRIMARY KEY, from_visit INTEGER,"
    " place_id INTEGER, visit_date INTEGER, visit_type INTEGER, session INTEGER,"
    " source INTEGER DEFAULT 0 NOT NULL, triggeringPlaceId INTEGER);"
    "CREATE TABLE moz_bookmarks(id INTEGER PRIMARY KEY, type INTEGER, fk INTEGER DEFAULT NULL,"
    " parent INTEGER, position INTEGER, title LONGVARCHAR, keyword_id INTEGER,"
    " folder_type TEXT, dateAdded INTEGER, lastModified INTEGER, guid TEXT,"
    " syncStatus INTEGER NOT NULL DEFAULT 0, syncChangeCounter INTEGER NOT NULL DEFAULT 1);"
    "CREATE UNIQUE INDEX moz_places_guid_uniqueindex ON moz_places (guid);"
    "CREATE INDEX moz_places_url_hashindex ON moz_places (url_hash);"
    "CREATE INDEX moz_bookmarks_itemindex ON moz_bookmarks (fk, type);"
    "INSERT INTO moz_bookmarks(id, type, parent, position, title, guid) VALUES"
    " (1, 2, 0, 0, '', 'root________'), (2, 2, 1, 0, 'menu', 'menu________'),"
    " (3, 2, 1, 1, 'toolbar', 'toolbar_____');";

sqlite3 *tdb_open(const char *path) {
  sqlite3 *db = NULL;
  if (sqlite3_open(path, &db) != SQLITE_OK) {
    fprintf(stderr, "tdb_open %s: %s\n", path, db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return NULL;
  }
  return db;
}

int tdb_run(sqlite3 *db, const char *sql) {
  char *msg = NULL;
  int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
  if (rc != SQLITE_OK)
    fprintf(stderr, "tdb_run: %s\n", msg ? msg : sqlite3_errstr(rc));
  sqlite3_free(msg);
  return rc;
}

int tdb_exec(const char *path, const char *sql) {
  sqlite3 *db = tdb_open(path);
  if (!db)
    return SQLITE_CANTOPEN;
  int rc = tdb_run(db, sql);
  sqlite3_close(db);
  return rc;
}

bool tdb_tempdir(char *buf, size_t n, const char *tag) {
  const char *base = getenv("TMPDIR");
  snprintf(buf, n, "%s/trove-%s-XXXXXX", base && *base ? base : "/tmp", tag);
  return mkdtemp(buf) != NULL;
}

void tdb_remove(const char *path) {
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
  if (system(cmd) != 0)
    fprintf(stderr, "could not remove %s\n", path);
}

bool tdb_write(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  if (!f)
    return false;
  bool ok = fwrite(data, 1, len, f) == len;
  return fclose(f) == 0 && ok;
}

int tdb_entries(const char *dir) {
  DIR *d = opendir(dir);
  if (!d)
    return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
  closedir(d);
  return n;
}

const trove_candidate *tdb_find(const trove_candidate *c, size_t n, const char *url) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(c[i].external_id, url) == 0)
      return &c[i];
  return NULL;
}
