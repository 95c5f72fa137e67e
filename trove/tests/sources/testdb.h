/* testdb.h: helpers the browser-source tests share: building SQLite files
 * in the browsers' real schemas, private temporary directories, and
 * checking that no database copy was left behind. */
#ifndef TROVE_TESTDB_H
#define TROVE_TESTDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sqlite3 sqlite3;

/* Opens (creating) path and runs sql; returns SQLite's result code and
 * prints SQLite's message on failure. */
int tdb_exec(const char *path, const char *sql);

/* Opens path read-write for a test that holds a connection. NULL on error. */
sqlite3 *tdb_open(const char *path);
/* Runs sql on an open connection; returns SQLite's result code. */
int tdb_run(sqlite3 *db, const char *sql);

/* Makes a fresh private directory under $TMPDIR or /tmp into buf. */
bool tdb_tempdir(char *buf, size_t n, const char *tag);
/* rm -rf path. */
void tdb_remove(const char *path);
/* Writes len bytes to path. */
bool tdb_write(const char *path, const void *data, size_t len);
/* The number of entries in dir other than . and .. (-1 when unreadable). */
int tdb_entries(const char *dir);

typedef struct trove_candidate trove_candidate;
/* The candidate among c[0..n) whose external id is url, or NULL. */
const trove_candidate *tdb_find(const trove_candidate *c, size_t n, const char *url);

/* Chromium's time encoding of a Unix time in seconds. */
static inline int64_t tdb_chromium_time(int64_t unix_s) {
  return (unix_s + INT64_C(11644473600)) * 1000000;
}

/* The Chromium History schema (urls, visits, meta) as Chromium creates it. */
extern const char tdb_chromium_schema[];
/* The Firefox places.sqlite schema (moz_origins, moz_places,
 * moz_historyvisits, moz_bookmarks) as Firefox creates it. */
extern const char tdb_firefox_schema[];

#endif
