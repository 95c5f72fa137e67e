/* sources_int.h: what the files of trove/src/sources share and nothing outside
 * it sees: the source object every kind embeds, and weblist, the collection
 * of web candidates the browser readers fill and source.c hands out. */
#ifndef TROVE_SOURCES_INTERNAL_H
#define TROVE_SOURCES_INTERNAL_H

#include "sources.h"

/* What one kind of source does. next appends candidates to b (which has
 * room: b->n < TROVE_SOURCE_BATCH on entry) until it is full or the source
 * is exhausted; it returns 0 or TROVE_ENOMEM, and on ENOMEM the candidates
 * already appended stay valid and nothing is lost (a retry continues).
 * destroy frees the kind's own state and the object. */
typedef struct source_ops {
  int (*next)(trove_source *src, trove_batch *b, trove_err *err);
  void (*destroy)(trove_source *src);
} source_ops;

/* Every kind's state starts with this, so a trove_source * is also a
 * pointer to the kind's struct. */
struct trove_source {
  const source_ops *ops;
  trove_source_stats stats;
  char **unread;   /* what exists but could not be read (absolute paths) */
  size_t n_unread; /* freed by trove_source_close */
};

/* Web candidates collected whole at open time (browser databases are read
 * in one go so the copied file can be deleted at once), then normalised,
 * sorted and merged by URL, then handed out in batches. */
typedef struct weblist {
  trove_candidate *v; /* candidates; strings owned here until handed out */
  size_t n, cap;
  size_t pos; /* next candidate to hand out, after trove_sources__weblist_finish */
} weblist;

/* Adds one row. The URL is normalised (trove_url_normalize); a URL that is
 * not http(s) is dropped and counted in st->not_http; one that is not valid
 * UTF-8 in st->bad_rows. An empty or non-UTF-8 title becomes NULL. Returns 0
 * (added or dropped) or TROVE_ENOMEM (nothing added). */
int trove_sources__weblist_add(weblist *l, trove_source_stats *st, const char *url,
                               const char *title, trove_item_type type, int64_t time_us,
                               int64_t visited_us);

/* Sorts by URL and merges duplicates (counted in st->duplicates): a bookmark
 * wins over a history entry; among history entries the latest visit and the
 * latest non-empty title win; among bookmarks the earliest date added and
 * its non-empty title; visited_us is the latest. No allocation. */
void trove_sources__weblist_finish(weblist *l, trove_source_stats *st);

/* Frees every candidate not yet handed out and the array. */
void trove_sources__weblist_free(weblist *l);

/* Wraps a finished weblist into a source that hands it out; takes the list
 * (l is emptied) and the stats gathered so far. Returns 0 or TROVE_ENOMEM
 * (l is freed then). */
int trove_sources__weblist_source(weblist *l, const trove_source_stats *st, trove_source **out);

/* Microseconds between 1601-01-01 and 1970-01-01 (Windows FILETIME epoch,
 * used by Chromium): 11644473600 s. */
#define CHROMIUM_EPOCH_DELTA_US (INT64_C(11644473600) * 1000000)

/* Converts a Chromium time (µs since 1601) to Unix µs; 0 (unknown) or a time
 * before 1970 gives 0. */
static inline int64_t chromium_to_unix_us(int64_t t) {
  return t > CHROMIUM_EPOCH_DELTA_US ? t - CHROMIUM_EPOCH_DELTA_US : 0;
}

/* ---- browser_db.c ------------------------------------------------------- */

typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;

/* A browser database copied aside and opened read-only. */
typedef struct browser_db {
  sqlite3 *db;
  char *src;  /* the browser's file, for messages */
  char *dir;  /* the private directory holding the copy */
  char *file; /* the copy inside it */
} browser_db;

/* Finds a browser file: `location` itself when it is a file, else
 * location/name. On success *path is a new string (trove_free). Returns 0;
 * TROVE_ENOENT (no location, or no name in it; err says which);
 * TROVE_EINVAL (not a regular file); TROVE_ECORRUPT (0 bytes); TROVE_EIO;
 * TROVE_ENOMEM. *path is NULL on failure. */
int trove_sources__browser_profile_file(const char *location, const char *name, const char *what,
                                        char **path, trove_err *err);

/* Resolves `location` (a profile directory holding `name`, or the file
 * itself), copies the file and its -wal to a new private directory inside
 * copy_dir (created 0700 when missing; NULL: $TMPDIR or /tmp) and opens the
 * copy read-only. `what` names the source in messages
 * ("Chromium history"). Returns 0; TROVE_ENOENT, TROVE_ECORRUPT (0 bytes, or
 * not a SQLite database), TROVE_EIO, TROVE_EDB, TROVE_ENOMEM, with err set.
 * On failure nothing is left behind. */
int trove_sources__browser_db_open(const char *location, const char *name, const char *what,
                                   const char *copy_dir, browser_db *bdb, trove_err *err);

/* Prepares sql on the copy; on failure maps SQLite's reason: a missing table
 * or column gives TROVE_EUNSUPPORTED ("... is not a <what> database"), a
 * damaged file TROVE_ECORRUPT, else TROVE_EDB. */
int trove_sources__browser_db_prepare(browser_db *bdb, const char *sql, const char *what,
                                      sqlite3_stmt **stmt, trove_err *err);

/* Runs sql (columns: url, title, time, and optionally last visit) and adds
 * every row to l as `type`. Times are converted from Chromium's epoch when
 * chromium_epoch, else taken as Unix µs (Firefox); NULL or negative is 0.
 * Without a fourth column visited_us is the time. Returns 0 or a code of
 * trove_sources__browser_db_prepare, the same mapping of a failed step, or TROVE_ENOMEM. */
int trove_sources__browser_db_collect(browser_db *bdb, const char *sql, const char *what,
                                      trove_item_type type, bool chromium_epoch, weblist *l,
                                      trove_source_stats *st, trove_err *err);

/* Closes the copy and deletes it and its directory. Safe on a zeroed bdb. */
void trove_sources__browser_db_close(browser_db *bdb);

#endif /* TROVE_SOURCES_INTERNAL_H */
