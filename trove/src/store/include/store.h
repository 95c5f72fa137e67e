/* store.h: trove's own database. Every SQL statement trove runs against its
 * database lives behind this header (in trove/src/store/), so the rest of
 * trove sees items, sources, passages and vectors, never tables, and a
 * PostgreSQL backend could be written against the same calls later.
 *
 * The backend is SQLite in WAL mode (checked, not assumed: SQLite ignores a
 * misspelt pragma silently), schema versions keyed by `PRAGMA user_version`, raw
 * content compressed with zstd, keyword search through an FTS5 index kept in
 * sync by triggers inside the same transactions. The table design and the
 * reasons behind it are in schema.c.
 *
 * Threads: a trove_store handle belongs to one thread at a time (in the scan
 * pipeline, its single writer stage). Any number of further handles on the
 * same file may be open in other threads or processes for reading and
 * search while one of them writes: WAL readers see the last committed
 * batch and never block the writer. Only one handle writes at a time; a
 * second writer waits up to the busy timeout, then gets TROVE_EBUSY.
 *
 * Errors: every call returns 0 or a negative TROVE_E* code and, when `err`
 * is not NULL, fills it with one line naming the database or object and the
 * next step. Codes every call may return besides those listed: TROVE_EINVAL
 * (NULL handle or required argument), TROVE_ENOMEM, TROVE_EIO (disk full,
 * I/O error, read-only file), TROVE_EBUSY (locked past the busy timeout),
 * TROVE_ECORRUPT (damaged database) and TROVE_EDB (any other refusal).
 * A failed write call changes nothing: each is atomic on its own, inside or
 * outside a batch (trove_store_begin). If SQLite had to roll a whole batch
 * back (an I/O error, or memory), every later write in it and its commit
 * return TROVE_EIO: roll back and redo the batch.
 *
 * Ownership: what the caller passes in is only read during the call (the
 * database keeps its own copy); structs handed out own their strings and
 * are released by the matching _clear/_free call, which accept zeroed or
 * NULL arguments.
 */
#ifndef TROVE_STORE_H
#define TROVE_STORE_H

#include "core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct trove_store trove_store;

/* ---- opening ------------------------------------------------------------ */

typedef struct trove_store_opts {
  const char *path;    /* NULL: $TROVE_DB, else the default (see below) */
  int busy_timeout_ms; /* how long to wait for another writer; 0: 5000 */
  /* For a caller that only reads (search, print, stats): when the database
   * exists but it or its directory cannot be written (a read-only folder,
   * file or filesystem), open it read-only instead of failing. Such a
   * handle never writes (every write call returns TROVE_EIO, "read-only")
   * and never migrates: a schema older than this trove's is refused until a
   * command with write access upgrades it. See trove_store_read_only. */
  bool read_only_ok;
  /* For a long-lived handle that mostly reads (a server's): the first
   * mmap_bytes of the file are read through a memory map instead of a
   * read() per page (SQLite's mmap_size; 0: none). Search reads small
   * columns of many items rows, each past the row's text and raw content
   * in overflow pages: mapped, walking those pages costs no system call
   * and no copy, and the pages are shared by every handle on the file
   * rather than held in each handle's own cache. The price: an I/O error
   * on a mapped page is a SIGBUS rather than TROVE_EIO, so only handles
   * that mostly read ask for it. */
  int64_t mmap_bytes;
} trove_store_opts;

/* Resolves the database path without opening it: $TROVE_DB when set and not
 * empty, else $XDG_DATA_HOME/trove/trove.db when XDG_DATA_HOME is absolute,
 * else $HOME/.local/share/trove/trove.db. *out is the caller's (trove_free).
 * Any thread. Returns 0, TROVE_EINVAL (no HOME and no override) or
 * TROVE_ENOMEM. */
int trove_store_default_path(char **out, trove_err *err);

/* Opens (creating when missing, with its directory) the database at
 * opts->path (or the default path when opts or opts->path is NULL), sets WAL
 * mode, foreign keys, synchronous=NORMAL and the busy timeout, and migrates
 * the schema to the current version, each step in its own transaction. A
 * 0-byte file is a new database. *out is the caller's (trove_store_close);
 * NULL after a failure. Any thread; the handle then belongs to that thread.
 * Returns 0 or:
 *   TROVE_ECORRUPT      a damaged database;
 *   TROVE_EUNSUPPORTED  a file that is not a trove database: not an SQLite
 *                       file at all (/etc/passwd), another application's
 *                       SQLite file; a schema newer than this trove; a file
 *                       that cannot use WAL (e.g. ":memory:");
 *   TROVE_EIO           directory or file cannot be created or written;
 *   TROVE_EBUSY         another process holds the lock past the timeout;
 *   TROVE_EINVAL        an empty path, or a path that is a directory;
 *   TROVE_ENOMEM. A file that is not trove's is refused before anything is
 *   written to it (its journal mode and bytes stay as they were); one that
 *   is not an SQLite file is not even opened by SQLite. */
int trove_store_open(const trove_store_opts *opts, trove_store **out, trove_err *err);

/* After trove_store_open: one line for the person when the open did more
 * than open. A database file it created gets back the sources kept beside
 * its predecessor in "<path>.sources.json" (written whenever sources
 * change, so a damaged database moved away leaves its sources behind):
 * "a new database: restored 2 sources (docs, web) from ...", or why they
 * could not be. NULL otherwise. Valid until trove_store_close. */
const char *trove_store_open_note(const trove_store *st);

/* True when st can only read: opened read-only (trove_store_opts
 * .read_only_ok), or a file the process may not write, which SQLite opens
 * read-only by itself when the files a writer keeps beside it let it. */
bool trove_store_read_only(const trove_store *st);

/* Closes st, rolling back a batch still open. NULL is a no-op. */
void trove_store_close(trove_store *st);

/* The path st was opened with; valid until trove_store_close. */
const char *trove_store_path(const trove_store *st);

/* Routes SQLite's own allocations through trove_malloc (so fault tests reach
 * inside SQLite). Process-wide: call before any SQLite use in the process,
 * from one thread. Returns 0, or TROVE_EBUSY when SQLite is already in use
 * (nothing changed). */
int trove_store_use_alloc_hook(void);

/* Checks the whole database: SQLite's integrity_check and the FTS index
 * against the items. It reads every page, so it is for a doctor command and
 * tests, not for every open. Returns 0 or TROVE_ECORRUPT naming the first
 * problem. */
int trove_store_check(trove_store *st, trove_err *err);

/* ---- batched writes ------------------------------------------------------ */

/* Starts a write batch: takes the database's write lock now (waiting up to
 * the busy timeout), so later calls cannot fail for a lock. Returns 0,
 * TROVE_EBUSY, or TROVE_EINVAL when a batch is already open on st. */
int trove_store_begin(trove_store *st, trove_err *err);

/* Commits the open batch; durable at the next checkpoint, consistent at any
 * crash. On failure the batch is rolled back. Returns 0, TROVE_EINVAL (no
 * batch open), TROVE_EIO, TROVE_EBUSY. */
int trove_store_commit(trove_store *st, trove_err *err);

/* Abandons the open batch; a no-op when none is open. */
void trove_store_rollback(trove_store *st);

/* ---- the scan lock ------------------------------------------------------- */

/* Takes the database's scan lock, which a scan, a reprocess and a source
 * removal hold from start to end so that two of them never interleave (an
 * exclusive flock on "<path>.lock" beside the database; the kernel releases
 * it when the process dies, so it never goes stale). Reentrant on st: a
 * handle that holds it counts the calls, and the last matching unlock
 * releases it. Another handle, in this process or another, holding it:
 * with `wait`, writes one line saying so (naming the holder's pid when
 * known) to notice (NULL: silent) and blocks until it is released; without,
 * fails at once. Returns 0, TROVE_EBUSY (!wait and held elsewhere; the
 * message names the pid), TROVE_EIO (the lock file cannot be created or
 * locked: a read-only directory), TROVE_EINVAL, TROVE_ENOMEM. */
int trove_store_scan_lock(trove_store *st, bool wait, FILE *notice, trove_err *err);

/* Undoes one trove_store_scan_lock; the last releases the lock. A no-op on
 * NULL or a handle that holds none. trove_store_close releases it too. */
void trove_store_scan_unlock(trove_store *st);

/* Whether a scan lock on st's database is held now, by st or any other
 * handle or process: a probe that never creates the lock file and never
 * makes a trove_store_scan_lock wait. Racy by nature (a scan may start or
 * end right after); for telling a running scan from an interrupted one. */
bool trove_store_scan_running(trove_store *st);

/* ---- sources ------------------------------------------------------------- */

typedef enum trove_source_status {
  TROVE_SOURCE_READY = 0,
  TROVE_SOURCE_INDEXING = 1,    /* a scan of it is running now */
  TROVE_SOURCE_ERROR = 2,       /* its last scan failed: status_msg says why */
  TROVE_SOURCE_INTERRUPTED = 3, /* its last scan stopped before its end
                                   (Ctrl-C, a kill, a crash): never stored,
                                   read back for a stored "indexing" that
                                   no scan lock backs any more */
} trove_source_status;

/* The name a status is shown by, in text and JSON alike: "ready",
 * "indexing", "interrupted" or "error". Any thread. */
const char *trove_source_status_name(trove_source_status s);

typedef struct trove_store_source {
  int64_t id;
  char *name;
  char *type;     /* "fs", "chromium-history", ... (not interpreted here) */
  char *location; /* a directory or profile path */
  char *config;   /* JSON text, owned by the sources module's parser */
  trove_source_status status;
  char *status_msg;      /* NULL, or why the last scan failed */
  int64_t items;         /* items of the source in the database now, hidden
                            and skipped ones included (as stats counts them) */
  int64_t scanned;       /* items seen by the last finished scan */
  int64_t last_scan_ms;  /* its duration */
  int64_t last_scan_at;  /* its end, Unix seconds; 0 never */
  int64_t scan_version;  /* bumped by every trove_store_scan_begin */
  int64_t expired;       /* of items, those its browser expired and trove
                            kept (trove_store_items_expire_unseen) */
  int64_t seen_visit_us; /* history sources: the latest last visit (Unix µs)
                            a scan read; 0 unknown (trove_scan_recent) */
  int64_t seen_visit_id; /* history sources: the highest visit id of the
                            browser's database then; 0 unknown */
} trove_store_source;

/* Adds a source. name, type and location must be non-empty; config must be
 * valid JSON, NULL meaning "{}". *id (may be NULL) gets its id. The
 * sources' copy beside the database (trove_store_open_note) is rewritten,
 * best effort. Returns 0, TROVE_EEXIST (name taken) or TROVE_EINVAL. */
int trove_store_source_add(trove_store *st, const char *name, const char *type,
                           const char *location, const char *config, int64_t *id, trove_err *err);

/* Reads the source called name into *out (clear it with
 * trove_store_source_clear). A source stored as indexing while no handle
 * holds the scan lock (its scan was killed) reads as
 * TROVE_SOURCE_INTERRUPTED. Returns 0 or TROVE_ENOENT. */
int trove_store_source_get(trove_store *st, const char *name, trove_store_source *out,
                           trove_err *err);

/* Lists every source by name into a new array *out of *n (free it with
 * trove_store_sources_free), status as trove_store_source_get reads it.
 * Returns 0 or TROVE_ENOMEM. */
int trove_store_source_list(trove_store *st, trove_store_source **out, size_t *n, trove_err *err);

/* Lists every source's id and name, by name, into a new array *out of *n
 * (free it with trove_store_sources_free; every other field is zero): for
 * callers that only name sources, such as search, without the item counts
 * trove_store_source_list reads, which cost a pass over the items. Returns
 * 0 or TROVE_ENOMEM. */
int trove_store_source_names(trove_store *st, trove_store_source **out, size_t *n, trove_err *err);

/* The name of the source with id into *name (free it with trove_free;
 * NULL when no source has that id). Returns 0, TROVE_EINVAL (NULL st or
 * name) or TROVE_ENOMEM. */
int trove_store_source_name(trove_store *st, int64_t id, char **name, trove_err *err);

/* Frees what one source record owns and zeroes it; frees a list of n. */
void trove_store_source_clear(trove_store_source *s);
void trove_store_sources_free(trove_store_source *v, size_t n);

typedef struct trove_store_ids { /* a list of ids; start it zeroed */
  int64_t *v;
  size_t n, cap;
} trove_store_ids;

/* Frees ids->v; the list is empty and reusable after. */
void trove_store_ids_free(trove_store_ids *ids);

/* Removes the source called name with all its items, passages and vectors
 * (and from the sources' copy beside the database).
 * The removed passage ids are appended to *passages when not NULL (for the
 * vector index's tombstones). Returns 0 or TROVE_ENOENT. */
int trove_store_source_remove(trove_store *st, const char *name, trove_store_ids *passages,
                              trove_err *err);

/* Replaces the config of source_id (JSON text, as trove_store_source_add
 * takes it). Its items are left as they are: the scan that follows the
 * change decides which still belong. Returns 0, TROVE_ENOENT (no such
 * source) or TROVE_EINVAL (config NULL or not valid JSON). */
int trove_store_source_set_config(trove_store *st, int64_t source_id, const char *config,
                                  trove_err *err);

/* Records where the reads of history source source_id got to (the fields
 * seen_visit_us and seen_visit_id of trove_store_source). Returns 0,
 * TROVE_ENOENT or the store's write errors. */
int trove_store_source_set_visits(trove_store *st, int64_t source_id, int64_t visit_us,
                                  int64_t visit_id, trove_err *err);

/* Starts a scan of source_id: bumps its scan version (given in *version, to
 * stamp every item the scan sees) and sets it indexing. Returns 0 or
 * TROVE_ENOENT. */
int trove_store_scan_begin(trove_store *st, int64_t source_id, int64_t *version, trove_err *err);

/* Starts a scan of source_id that may resume one that was killed: as
 * trove_store_scan_begin (a new version in *version), and when the source
 * is stored as indexing while the caller holds the scan lock (so no scan of
 * it runs: the last one stopped before its end), *killed is set to that
 * scan's version (else 0): the items it stored are those whose
 * trove_store_match.seen_in_scan equals it. The new version lets the
 * resumed scan tell what it saw from what only the killed one saw (an item
 * gone since). The caller must hold the scan lock. Returns 0 or
 * TROVE_ENOENT. */
int trove_store_scan_resume(trove_store *st, int64_t source_id, int64_t *version, int64_t *killed,
                            trove_err *err);

/* Records a scan's end: status, msg (NULL when none), items scanned and the
 * duration; the end time is now. Returns 0, TROVE_ENOENT or TROVE_EINVAL
 * (bad status or negative counts). */
int trove_store_scan_finish(trove_store *st, int64_t source_id, trove_source_status status,
                            const char *msg, int64_t scanned, int64_t duration_ms, trove_err *err);

/* ---- items --------------------------------------------------------------- */

/* Item types (trove_item_type, _name, _parse) are in core.h. */

/* One item. As input (upsert, skip) it is only read during the call; NULL
 * strings mean none. As output, every string and raw are owned by the
 * item and released by trove_store_item_clear. Times are Unix seconds. */
typedef struct trove_store_item {
  int64_t id;              /* output only */
  int64_t source_id;       /* output only: calls take the source separately */
  const char *external_id; /* the path or URL; unique within a source */
  trove_item_type type;
  const char *title, *author, *description, *language;
  const char *headings; /* section headings, newline-separated (FTS field) */
  const char *text;     /* extracted text, UTF-8 */
  const void *raw;      /* raw content as read or fetched; stored zstd -3;
                         * as output NULL unless asked for, then with a NUL
                         * after raw_len bytes so text can be read as a string */
  size_t raw_len;
  const char *content_hash;         /* of raw, for change detection */
  const char *text_hash;            /* of what the passages are cut from (title, text,
                                     * blocks), set by the scan: equal hashes mean the
                                     * stored passages and vectors still fit; NULL
                                     * unknown */
  const char *etag, *last_modified; /* HTTP validators, sent back on rescan */
  int64_t process_version;          /* extractor version that produced text */
  int64_t mtime_us;                 /* file mtime, Unix microseconds; 0 unknown */
  int64_t size;                     /* file size in bytes; -1 unknown (web items, and
                                     * rows stored before schema 4) */
  int64_t last_visited;             /* browser last visit; 0 unknown */
  const char *skip_reason;          /* NULL when indexed; e.g. "binary", "gone" */
  const char *error;                /* the last error message, NULL when none */
  int64_t hidden_at;                /* output only; 0 when visible */
  int64_t seen_in_scan;             /* the scan version that last saw it */
  bool is_link_hub;                 /* an index or table of contents page */
  int64_t updated_at;               /* output only */
  /* Web items: fetches in a row that got no answer (a timeout, a refused
   * or failed connection), and the Unix second before which a scan does not
   * fetch the item again (0: none). Both 0 once the server answers. upsert
   * and skip store them; touch keeps them. */
  int64_t fetch_failures, retry_at;
  bool charset_guessed; /* text decoded from a charset trove guessed (not
                         * marked or declared); stored by upsert */
  int64_t expired_at;   /* output only: when a scan found the page gone
                         * from its browser's history past the browser's
                         * expiry horizon and kept it (Unix seconds); 0
                         * when not expired. A write by a later scan
                         * (upsert, touch, skip with a higher
                         * seen_in_scan) clears it. */
  bool keep_raw;        /* input to upsert only: leave the stored raw content as it
                         * is and ignore raw/raw_len (reprocess re-extracts what is
                         * stored; recompressing it would be wasted work) */
} trove_store_item;

/* The time an item is filtered by (--since, --until), Unix seconds: the
 * last visit for a page, else the file's mtime; 0 when neither is known. */
int64_t trove_store_item_time(const trove_store_item *it);

/* Frees what an output item owns and zeroes it; frees an array of n. */
void trove_store_item_clear(trove_store_item *it);
void trove_store_items_free(trove_store_item *v, size_t n);

/* What the database knows about one external id, for change detection. */
typedef struct trove_store_match {
  int64_t item_id; /* 0 when the id is not in the database */
  char *content_hash, *etag, *last_modified, *skip_reason; /* NULL if none */
  char *text_hash;                                         /* NULL if none */
  int64_t mtime_us, size, process_version;                 /* as in trove_store_item */
  int64_t fetch_failures, retry_at;                        /* likewise */
  int64_t seen_in_scan;                                    /* the last scan version that saw it */
} trove_store_match;

/* The most ids one trove_store_items_match call takes (SQLite's bound-parameter
 * limit is far above; this keeps one statement's text small). */
#define TROVE_STORE_MATCH_MAX 512

/* Looks up n external ids of source_id in ONE query; out[i] answers ids[i]
 * (out must hold n; clear it with trove_store_match_clear). Returns 0,
 * TROVE_ERANGE (n > TROVE_STORE_MATCH_MAX) or TROVE_EINVAL (NULL id). */
int trove_store_items_match(trove_store *st, int64_t source_id, const char *const *ids, size_t n,
                            trove_store_match *out, trove_err *err);
/* Frees the strings of m[0..n) and zeroes them (the array is the caller's). */
void trove_store_match_clear(trove_store_match *m, size_t n);

/* Inserts or replaces the item (source_id, it->external_id) with every field
 * of it (raw too, unless it->keep_raw); clears skip_reason and error unless
 * it sets them; keeps hidden_at.
 * Passages of a changed text are the caller's to replace in the same batch.
 * *id (may be NULL) gets the item id. Returns 0, TROVE_ENOENT (no such
 * source), TROVE_ERANGE (raw content over 256 MiB) or TROVE_EINVAL (no
 * external_id, a bad type, raw_len without raw). */
int trove_store_item_upsert(trove_store *st, int64_t source_id, const trove_store_item *it,
                            int64_t *id, trove_err *err);

/* Marks an unchanged item seen by scan `version`, raises last_visited to
 * `last_visited` when later (0 leaves it), and records the file's mtime_us
 * and size as the scan saw them (size -1 leaves both): how rows from before
 * schema 4 learn their size. Returns 0 or TROVE_ENOENT. */
int trove_store_item_touch(trove_store *st, int64_t item_id, int64_t version, int64_t last_visited,
                           int64_t mtime_us, int64_t size, trove_err *err);

/* Records that (source_id, it->external_id) was skipped or failed:
 * it->skip_reason is required, it->error optional; it->seen_in_scan and
 * it->last_visited are stored; title and type are used only when the item is
 * new. Content already stored is kept (a transient error must not erase a
 * page). *id (may be NULL) gets the item id. Returns 0, TROVE_ENOENT (no
 * such source) or TROVE_EINVAL. */
int trove_store_item_skip(trove_store *st, int64_t source_id, const trove_store_item *it,
                          int64_t *id, trove_err *err);

/* Marks the items of source_id whose external id is `dir` or lies under it
 * (starts with dir + "/") as seen by scan `version`, so that
 * trove_store_items_delete_unseen keeps them: for a file or directory the
 * scan could not read, whose contents are not known to be gone. *kept (may
 * be NULL) gets how many were not seen yet. Returns 0, TROVE_EINVAL or a
 * store error. */
int trove_store_items_keep_under(trove_store *st, int64_t source_id, int64_t version,
                                 const char *dir, int64_t *kept, trove_err *err);

/* Deletes the items of source_id whose external id is `path` or lies
 * under it (as trove_store_items_keep_under reads it) and that scan
 * `version` did not see, with their passages, vectors and FTS rows: the end
 * of a scan of a few paths (a watcher's), where what was not seen there is
 * gone. *deleted (may be NULL) gets the count; the deleted passage ids are
 * appended to *passages when not NULL. Returns 0, TROVE_EINVAL or a store
 * error (nothing deleted). */
int trove_store_items_delete_under(trove_store *st, int64_t source_id, int64_t version,
                                   const char *path, int64_t *deleted, trove_store_ids *passages,
                                   trove_err *err);

/* Counts into *n the items of source_id not seen by scan `version`: what
 * trove_store_items_delete_unseen would delete now. Returns 0 or
 * TROVE_EINVAL. */
int trove_store_items_count_unseen(trove_store *st, int64_t source_id, int64_t version, int64_t *n,
                                   trove_err *err);

/* Deletes the items of source_id not seen by scan `version` (call at the end
 * of a full scan), with their passages, vectors and FTS rows. *deleted (may
 * be NULL) gets the count; the deleted passage ids are appended to
 * *passages when not NULL. Returns 0 or TROVE_EINVAL. */
int trove_store_items_delete_unseen(trove_store *st, int64_t source_id, int64_t version,
                                    int64_t *deleted, trove_store_ids *passages, trove_err *err);

/* Retention: marks the items of source_id not seen by scan `version` that
 * its browser expired rather than the person deleted, and keeps them (they
 * are stamped seen by `version`, so trove_store_items_delete_unseen after
 * it leaves them): web pages (not bookmarks, not files) last visited
 * before `before` (Unix seconds; 0 marks nothing new), and items marked
 * expired already. A newly marked item gets expired_at = now. *kept (may be
 * NULL) gets how many were kept, *newly (may be NULL) how many of them were
 * marked now. Returns 0, TROVE_EINVAL or a store error (nothing changed). */
int trove_store_items_expire_unseen(trove_store *st, int64_t source_id, int64_t version,
                                    int64_t before, int64_t now, int64_t *kept, int64_t *newly,
                                    trove_err *err);

/* A path or URL that `trove forget` removed from a source. */
typedef struct trove_store_forgotten {
  char *external_id;
  int64_t forgotten_at; /* Unix seconds */
} trove_store_forgotten;

/* Reads the forgotten paths and URLs of source_id, sorted by external id
 * in byte order (strcmp), into a new array *out of *n (free with
 * trove_store_forgotten_free). Returns 0 or a store error (*out NULL, *n 0). */
int trove_store_forgotten_get(trove_store *st, int64_t source_id, trove_store_forgotten **out,
                              size_t *n, trove_err *err);
/* Frees an array from trove_store_forgotten_get. NULL is fine. */
void trove_store_forgotten_free(trove_store_forgotten *v, size_t n);

/* Removes the items ids[0..n) with their passages, vectors, embedded marks,
 * FTS rows and raw content. With remember, each is also recorded as
 * forgotten in its source (trove_store_forgotten_get) at the current time,
 * so that a scan does not bring it back. Ids with no item are skipped. The
 * removed passage ids are appended to *passages when not NULL (the vector
 * index's tombstones); *removed (may be NULL) gets the items removed.
 * Atomic: after a failure nothing changed and *passages is as it was.
 * Returns 0, TROVE_EINVAL or a store error. */
int trove_store_items_remove(trove_store *st, const int64_t *ids, size_t n, bool remember,
                             trove_store_ids *passages, int64_t *removed, trove_err *err);

/* An item's identity, for callers that pick items by path, URL or host. */
typedef struct trove_store_ref {
  int64_t id, source_id;
  char *external_id;
  trove_item_type type;
} trove_store_ref;

/* Keyset pagination over the items of source_id (0: every source), hidden
 * and skipped ones too: up to `limit` with id > after_id, in id order, into
 * a new array *out of *n (free with trove_store_refs_free); *n == 0 is the
 * end. Returns 0, TROVE_EINVAL (limit 0) or a store error. */
int trove_store_items_refs(trove_store *st, int64_t source_id, int64_t after_id, size_t limit,
                           trove_store_ref **out, size_t *n, trove_err *err);
/* Frees an array from trove_store_items_refs. NULL is fine. */
void trove_store_refs_free(trove_store_ref *v, size_t n);

/* Reads item id into *out (clear it with trove_store_item_clear), with the
 * raw content decompressed when with_raw. Returns 0, TROVE_ENOENT, or
 * TROVE_ECORRUPT (raw content that does not decompress). */
int trove_store_item_get(trove_store *st, int64_t id, bool with_raw, trove_store_item *out,
                         trove_err *err);

/* Reads the external id (path or URL) of every visible (not hidden) item
 * into a new array *out of *n strings, in id order (free with
 * trove_store_paths_free): one pass over the items, for a caller that
 * matches many names against them (eval.h checks a query set's targets).
 * Returns 0, TROVE_EINVAL or TROVE_ENOMEM; after a failure *out is NULL and
 * *n 0. */
int trove_store_items_paths(trove_store *st, char ***out, size_t *n, trove_err *err);
/* Frees an array from trove_store_items_paths. NULL is fine. */
void trove_store_paths_free(char **v, size_t n);

/* Keyset pagination for reprocess: reads up to `limit` items of source_id
 * that have raw content, with id > after_id, in id order, raw decompressed,
 * into a new array *out of *n (free with trove_store_items_free). Pass the
 * last id read as after_id for the next chunk; *n == 0 means the end. With
 * pending_model not NULL, only the items that await embedding under that
 * model: not skipped, and not marked by trove_store_item_embed since their
 * text last changed. Returns 0, TROVE_EINVAL (limit 0) or TROVE_ECORRUPT (a
 * bad blob, naming the item). */
int trove_store_items_next(trove_store *st, int64_t source_id, const char *pending_model,
                           int64_t after_id, size_t limit, trove_store_item **out, size_t *n,
                           trove_err *err);

/* Gives item_id a new external id within its source and keeps everything
 * else: its id, content, passages, vectors, embedded marks and hidden flag.
 * For a file renamed or moved with its content unchanged. Returns 0,
 * TROVE_ENOENT (no such item), TROVE_EEXIST (the source has an item at
 * external_id already: nothing changed) or TROVE_EINVAL. */
int trove_store_item_move(trove_store *st, int64_t item_id, const char *external_id,
                          trove_err *err);

/* An item stored with a given content hash (trove_store_items_same_content). */
typedef struct trove_store_twin {
  int64_t id;
  char *external_id; /* its path or URL */
  char *text_hash;   /* NULL when unknown */
} trove_store_twin;

/* Reads up to `limit` items of source_id whose raw content has the hash
 * content_hash and which carry no skip reason, in id order, into a new
 * array *out of *n (free with trove_store_twins_free): where a scan looks
 * for the item a renamed file was stored as. One index probe. Returns 0 or
 * TROVE_EINVAL (a NULL argument, limit 0). */
int trove_store_items_same_content(trove_store *st, int64_t source_id, const char *content_hash,
                                   size_t limit, trove_store_twin **out, size_t *n, trove_err *err);
/* Frees an array from trove_store_items_same_content. NULL is fine. */
void trove_store_twins_free(trove_store_twin *v, size_t n);

/* Hides (search skips it) or unhides item id. Returns 0 or TROVE_ENOENT. */
int trove_store_item_set_hidden(trove_store *st, int64_t id, bool hidden, trove_err *err);

/* An item that is not searchable as it is: skipped (with the reason a scan
 * recorded, and the error of a failure) or hidden. */
typedef struct trove_store_skip {
  int64_t id;
  char *source;      /* the source's name */
  char *external_id; /* path or URL */
  char *title;       /* NULL when none */
  char *skip_reason; /* NULL when only hidden */
  char *error;       /* the failure's message; NULL when none */
  int64_t hidden_at; /* 0 when visible */
} trove_store_skip;

/* Lists into a new array *out of *n (free with trove_store_skips_free) the
 * items of source_id (0: every source) that are skipped or hidden, by
 * source name and id. With version > 0, only the skipped ones that scan
 * `version` of the source saw (what that scan could not index). Returns
 * 0 or a store error; *out NULL and *n 0 after a failure. */
int trove_store_items_skipped(trove_store *st, int64_t source_id, int64_t version,
                              trove_store_skip **out, size_t *n, trove_err *err);
void trove_store_skips_free(trove_store_skip *v, size_t n);

/* ---- hosts that do not answer ---------------------------------------------- */

/* A web host whose fetches failed without an answer (timeouts, refused or
 * failed connections) more recently than it answered: what the scan's
 * per-host backoff remembers between scans. */
typedef struct trove_store_host {
  char *host;       /* lower case, as the scan names it */
  int64_t failures; /* unanswered fetches in a row, > 0 */
  int64_t retry_at; /* Unix seconds before which scans do not contact it; 0: none */
  char *reason;     /* the last failure's stored reason ("timeout", "network") */
} trove_store_host;

/* Reads every recorded host into a new array *out of *n, by name (free with
 * trove_store_hosts_free). Returns 0 or a store error (*out NULL, *n 0). */
int trove_store_hosts_get(trove_store *st, trove_store_host **out, size_t *n, trove_err *err);

/* Records h (only read during the call), replacing what was recorded for
 * h->host; h->failures 0 forgets the host (it answered). Returns 0,
 * TROVE_EINVAL (no host, negative failures, no reason with failures) or a
 * store error. */
int trove_store_host_set(trove_store *st, const trove_store_host *h, trove_err *err);

/* Frees an array from trove_store_hosts_get. NULL is fine. */
void trove_store_hosts_free(trove_store_host *v, size_t n);

/* ---- passages and vectors (the embedding slot) --------------------------- */

/* A span of an item's text: bytes [start, end) of trove_store_item.text. */
typedef struct trove_store_passage {
  int64_t id;      /* output only; ids are never reused */
  int64_t ordinal; /* 0, 1, 2 ... within the item */
  int64_t start, end;
  const char *heading; /* the section it sits in; NULL when none */
} trove_store_passage;

/* Replaces item_id's passages with p[0..n) (ordinals must be distinct, spans
 * inside the item's text). Their new ids go to ids[0..n) when not NULL; the
 * old passage ids (whose vectors go too) are appended to *removed when not
 * NULL. Returns 0, TROVE_ENOENT (no such item) or TROVE_EINVAL (a span
 * outside the text, a repeated ordinal). */
int trove_store_passages_replace(trove_store *st, int64_t item_id, const trove_store_passage *p,
                                 size_t n, int64_t *ids, trove_store_ids *removed, trove_err *err);

/* Deletes item_id's passages, and with them their vectors, when they are
 * stale: the item carries no embedded mark under any model (the mark goes
 * in the same transaction as a change of its title or text, see
 * trove_store_item_embed). Passages that a mark still covers are valid and
 * stay. What a writer that stores an item without embedding it calls, so
 * that passages, vectors and marks always change together. The deleted ids
 * are appended to *removed when not NULL (the vector index's tombstones).
 * An item without passages, or without a row, is a no-op. Returns 0 or a
 * store error (*removed as it was). */
int trove_store_passages_drop_stale(trove_store *st, int64_t item_id, trove_store_ids *removed,
                                    trove_err *err);

/* Reads item_id's passages in ordinal order into a new array *out of *n
 * (free with trove_store_passages_free). An item without passages, or
 * without a row, gives n == 0. */
int trove_store_passages_get(trove_store *st, int64_t item_id, trove_store_passage **out, size_t *n,
                             trove_err *err);
/* Reads one passage by id into *out (its heading is the caller's:
 * trove_free) and its item's id into *item_id: how a vector hit finds its
 * item and text span. Returns 0 or TROVE_ENOENT. */
int trove_store_passage_get(trove_store *st, int64_t passage_id, int64_t *item_id,
                            trove_store_passage *out, trove_err *err);

/* A passage's item, with what a ranker filters a vector hit on. */
typedef struct trove_store_passage_owner {
  int64_t item_id; /* 0: no such passage (deleted since the index saw it) */
  int64_t source_id;
  trove_item_type type;
  int64_t time;      /* the item's trove_store_item_time */
  int64_t hidden_at; /* 0 when visible */
  bool is_link_hub;
} trove_store_passage_owner;

/* Fills out[i] with the item of passage ids[i], for i in [0, n), with one
 * statement for the whole list (prepared once per handle): how a vector
 * search's hits find their items without a query per hit. An id with no
 * passage gives a zeroed out[i]; an id listed twice is answered twice. out
 * is the caller's array of n. n 0 is a no-op. Returns 0, TROVE_ERANGE (a
 * list too long for one statement: hundreds of millions of ids) or a store
 * error (out then zeroed). */
int trove_store_passage_owners(trove_store *st, const int64_t *ids, size_t n,
                               trove_store_passage_owner *out, trove_err *err);

/* Appends to *ids, in ascending order, the ids of the passages of every item
 * that is not hidden, is of source_id (0: any source), has type `type`
 * (TROVE_ITEM_ANY: any type) and whose time (trove_store_item_time) is at
 * or after since and at or before until (each 0: no bound; an unknown
 * time fails either): what a
 * filtered vector search may return, so the index can skip the rest while
 * it searches instead of after. One scan of the passages; on failure *ids
 * is as it was. Returns 0 or a store error. */
int trove_store_passage_ids_where(trove_store *st, int64_t source_id, trove_item_type type,
                                  int64_t since, int64_t until, trove_store_ids *ids,
                                  trove_err *err);

/* Frees an array from trove_store_passages_get. */
void trove_store_passages_free(trove_store_passage *p, size_t n);

/* Reads passage_id's vector under model into a new array *out of *dim floats
 * (trove_free). Returns 0, TROVE_ENOENT or TROVE_ECORRUPT (a blob whose size
 * is not the model's dim). */
int trove_store_vector_get(trove_store *st, int64_t passage_id, const char *model, float **out,
                           size_t *dim, trove_err *err);

/* Sets item_id's embedding under model in one step: replaces its passages
 * with p[0..n) (as trove_store_passages_replace: new ids to ids[0..n), old
 * ids appended to *removed when not NULL), stores vecs[i*dim .. +dim) as
 * passage i's vector, and marks the item embedded under model, so
 * trove_store_items_next no longer lists it as pending (n == 0 is an item
 * with no passage, still embedded). The first call for a model fixes its
 * dimension. The mark goes when the item's title or text changes. Returns
 * 0, TROVE_ENOENT (no such item), TROVE_EINVAL (a bad argument or span, dim
 * not the model's). */
int trove_store_item_embed(trove_store *st, int64_t item_id, const char *model,
                           const trove_store_passage *p, const float *vecs, size_t n, size_t dim,
                           int64_t *ids, trove_store_ids *removed, trove_err *err);

/* What a persisted vector index compares against to know it is current:
 * the model's dimension, its vector count, and a version that every put or
 * delete of its vectors (including cascades from items) bumps in the same
 * transaction. An index saved at version V is current iff the DB still says
 * V; otherwise it rebuilds from trove_store_vectors_next. count may be NULL:
 * counting reads every vector (~0.2 s at 47k), the version alone is one row.
 * Returns 0 or TROVE_ENOENT (no vector was ever stored for model). */
int trove_store_vectors_version(trove_store *st, const char *model, int64_t *version, size_t *dim,
                                int64_t *count, trove_err *err);

/* Keyset pagination over every vector of model: up to `limit` vectors with
 * passage id > after_id in id order; ids[i] and vecs[i*dim .. i*dim+dim) are
 * filled (the caller's arrays, limit and limit*dim long) and *n set; 0 means
 * the end. Returns 0, TROVE_ENOENT (unknown model), TROVE_EINVAL (dim not
 * the model's) or TROVE_ECORRUPT (a blob of the wrong size). */
int trove_store_vectors_next(trove_store *st, const char *model, int64_t after_id, size_t limit,
                             size_t dim, int64_t *ids, float *vecs, size_t *n, trove_err *err);

/* ---- keyword search ------------------------------------------------------- */

typedef struct trove_store_search_opts {
  size_t limit;         /* results wanted; 0: 10 */
  const char *source;   /* only this source's items; NULL: all */
  trove_item_type type; /* only this type; TROVE_ITEM_ANY: all */
  /* BM25 column weights; 0 gives the default 10 / 4 / 1 (title / headings
   * / text), so a word in a title counts as ten in the body. */
  double w_title, w_headings, w_text;
  const char *mark_open, *mark_close; /* around matches; NULL: "[" and "]" */
  int snippet_tokens;                 /* snippet length; 0: 24; negative: no
                                         snippet (hit.snippet NULL), the fast
                                         way for rankers that highlight alone */
  int64_t since, until;               /* only items whose time (trove_store_item_time) is
                                         in [since, until], Unix seconds; 0: no bound.
                                         An item of unknown time fails either bound. */
  bool any_word;                      /* true: items holding any of the words (OR), each
                                         scored by the BM25 of the words it holds;
                                         false: every word (AND) */
} trove_store_search_opts;

typedef struct trove_store_hit {
  int64_t item_id;
  double score;      /* -bm25: higher is better */
  char *title;       /* NULL when the item has none */
  char *external_id; /* the path or URL */
  char *source;      /* the source's name */
  char *snippet;     /* best-matching fragment, matches between the marks */
  trove_item_type type;
  bool is_link_hub; /* for a ranker that demotes index pages */
} trove_store_hit;

/* Searches visible items for every word of `query` (or any, opts->any_word),
 * best first. The query is
 * user text, never FTS5 syntax: each word is quoted, so `C++ "foo` or
 * `NEAR(` search for those words rather than failing; a trailing `*` on a
 * word keeps prefix matching. Hidden items are excluded before the limit,
 * so `limit` results come back whenever that many match. Results go to a
 * new array *out of *n (free with trove_store_hits_free); a query with no
 * words gives n == 0. opts may be NULL (all defaults). Returns 0,
 * TROVE_ENOENT (opts->source unknown) or TROVE_EINVAL (a bad type). */
int trove_store_search(trove_store *st, const char *query, const trove_store_search_opts *opts,
                       trove_store_hit **out, size_t *n, trove_err *err);
/* Frees an array from trove_store_search. */
void trove_store_hits_free(trove_store_hit *h, size_t n);

/* The BM25 of one item for `query` (words as trove_store_search takes them,
 * ANDed or ORed by opts->any_word) with one field counted at a time, weight
 * 1, the others 0: out[0] title, out[1] headings, out[2] text, each 0 when
 * the field holds no query word or the item does not match. For explaining
 * a ranking. Returns 0 or TROVE_EINVAL (NULL argument). */
int trove_store_bm25_fields(trove_store *st, const char *query, const trove_store_search_opts *opts,
                            int64_t item_id, double out[3], trove_err *err);

/* ---- stats ------------------------------------------------------------------ */

typedef struct trove_store_source_stats {
  char *name;
  int64_t items, hidden, skipped, passages;
  int64_t expired; /* items kept after their browser expired them (expired_at set) */
} trove_store_source_stats;

typedef struct trove_store_reason_count {
  char *reason;
  int64_t count;
} trove_store_reason_count;

typedef struct trove_store_stats {
  trove_store_source_stats *sources; /* by name */
  size_t n_sources;
  trove_store_reason_count *reasons; /* skip reasons, most frequent first */
  size_t n_reasons;
  int64_t items, passages, vectors;
  int64_t expired;  /* the sources' expired items, in all */
  int64_t db_bytes; /* the main file's size; the WAL is not counted */
} trove_store_stats;

/* Fills *out (clear it with trove_store_stats_clear). Returns 0. */
int trove_store_stats_get(trove_store *st, trove_store_stats *out, trove_err *err);
/* Frees what *s owns and zeroes it; a second call is harmless. */
void trove_store_stats_clear(trove_store_stats *s);

#endif /* TROVE_STORE_H */
