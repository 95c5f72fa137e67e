/* store_int.h: what the files of trove/src/store/ share and nobody else
 * sees: the handle's layout, the statement cache, the SQLite-to-trove error
 * mapping, savepoints that make each write call atomic, and the zstd codec.
 * Prefix st__ for these shared internals. */
#ifndef TROVE_STORE_INT_H
#define TROVE_STORE_INT_H

#include "store.h"

#include <sqlite3.h>
#include <sys/types.h> /* dev_t, ino_t */
/* ZSTD_customMem (the allocation hook) is in zstd's advanced API, stable
 * since 1.4 and exported by the shared library. */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

/* One slot per cached statement; each file names its own. Prepared once
 * with SQLITE_PREPARE_PERSISTENT and reset after every use. */
enum trove_store__slot {
  SLOT_SAVEPOINT,
  SLOT_RELEASE,
  SLOT_ROLLBACK_TO,
  SLOT_SOURCE_GET,
  SLOT_SOURCE_ID,
  SLOT_ITEM_UPSERT,
  SLOT_ITEM_TOUCH,
  SLOT_ITEM_SKIP,
  SLOT_ITEM_GET,
  SLOT_ITEMS_NEXT,
  SLOT_ITEM_HIDE,
  SLOT_ITEM_TEXT_LEN,
  SLOT_PASSAGE_DEL,
  SLOT_PASSAGE_DROP_STALE,
  SLOT_PASSAGE_INS,
  SLOT_PASSAGE_GET,
  SLOT_PASSAGE_ONE,
  SLOT_PASSAGE_OWNERS,
  SLOT_MODEL_GET,
  SLOT_MODEL_ADD,
  SLOT_VEC_PUT,
  SLOT_VEC_GET,
  SLOT_VEC_NEXT,
  SLOT_ITEMS_PENDING,
  SLOT_EMBED_MARK,
  SLOT_ITEMS_SAME,
  SLOT_COUNT
};

struct trove_store {
  sqlite3 *db;
  char *path;
  int busy_ms;
  bool in_batch;       /* between trove_store_begin and commit/rollback */
  ZSTD_CCtx *cctx;     /* made on first use, through the allocation hook */
  ZSTD_DCtx *dctx;
  sqlite3_stmt *stmt[SLOT_COUNT];
  sqlite3_stmt *match;  /* the batch match for match_n ids (store_read.c) */
  size_t match_n;
  int lock_fd;          /* the scan lock's file, held while lock_depth > 0 */
  int lock_depth;       /* trove_store_scan_lock calls not yet unlocked */
  bool sources_dirty;   /* sources changed inside the open batch: the
                           sidecar is written when it commits */
  char open_note[640];  /* trove_store_open_note's line; "" when none */
  bool read_only;       /* opened read-only (store.c, open_read_only) */
  dev_t file_dev;       /* the database file, counted among the process's */
  ino_t file_ino;       /* open ones while file_counted (store.c) */
  bool file_counted;
};

/* Maps a failed SQLite result to a TROVE_E* code and fills err with "what"
 * plus the database path and a next step. Returns the code. */
int trove_store__fail(trove_store *st, int rc, const char *what, trove_err *err);

/* Steps s for the one row a lookup wants: 0 with the row ready to read;
 * TROVE_ENOENT, err set from missing_fmt, when there is none; else
 * trove_store__fail's code, naming `what`. The caller still resets s. */
int trove_store__step_one(trove_store *st, sqlite3_stmt *s, const char *what, trove_err *err,
                          const char *missing_fmt, ...) __attribute__((format(printf, 5, 6)));

/* Gives the cached statement for slot, preparing sql on first use. The
 * statement comes back reset, with no bindings. */
int trove_store__stmt(trove_store *st, enum trove_store__slot slot, const char *sql,
                      sqlite3_stmt **out, trove_err *err);

/* Resets s after use (NULL is a no-op), so it holds no read lock. */
void trove_store__done(sqlite3_stmt *s);

/* Runs one or more statements with no result rows. */
int trove_store__exec(trove_store *st, const char *sql, const char *what, trove_err *err);

/* Refuses to write when st's batch is open but SQLite already rolled it
 * back (after an I/O error or OOM it may): writing on would commit each
 * statement on its own, out of the batch. 0 or TROVE_EIO. Every write call
 * checks it first (trove_store__save does for the multi-statement ones). */
int trove_store__writable(trove_store *st, trove_err *err);

/* Makes the multi-statement write call that follows atomic, inside or
 * outside a batch. Inside one (a transaction is open) it opens a savepoint;
 * outside it runs BEGIN IMMEDIATE and sets *own: a deferred transaction
 * that read first could not upgrade to writing if another connection
 * committed meanwhile (SQLITE_BUSY_SNAPSHOT, which no busy timeout
 * retries). trove_store__release keeps the work, trove_store__undo drops it; both take the
 * `own` that trove_store__save gave. */
int trove_store__save(trove_store *st, bool *own, trove_err *err);
int trove_store__release(trove_store *st, bool own, trove_err *err);
void trove_store__undo(trove_store *st, bool own);

/* Binds a C string or NULL without copying it: v must stay valid until the
 * statement is reset by trove_store__done or finalized. */
int trove_store__bind_text(sqlite3_stmt *s, int i, const char *v);

/* Copies column i as a string, NULL for SQL NULL; false on ENOMEM. */
bool trove_store__col_dup(sqlite3_stmt *s, int i, char **out);

/* Makes room for one more element of `size` bytes in *v (len used, *cap
 * allocated), doubling. 0 or TROVE_ENOMEM (then *v is unchanged). */
int trove_store__grow(void **v, size_t *cap, size_t len, size_t size);

/* Appends id to ids. 0 or TROVE_ENOMEM. */
int trove_store__ids_push(trove_store_ids *ids, int64_t id);

/* Appends the first column of every row of sql (binding ?1 = a and, when
 * the statement has it, ?2 = b) to ids. On failure ids is as it was. */
int trove_store__collect_ids(trove_store *st, const char *sql, int64_t a, int64_t b,
                             trove_store_ids *ids, trove_err *err);

/* Reads the current row of s into elem: 0 or an error code with err
 * filled in. */
typedef int (*trove_store__row_fn)(trove_store *st, sqlite3_stmt *s, void *elem, trove_err *err);
/* Frees the n elements of v that trove_store__read_rows read, and v. */
typedef void (*trove_store__rows_free_fn)(void *v, size_t n);

/* Steps s to the end, reading each row with `read` into an array of
 * elem_size elements that grows with the rows; *out and *n get it. On
 * failure what was read goes to free_rows and the message says `what`
 * failed. The caller finalizes or resets s. */
int trove_store__read_rows(trove_store *st, sqlite3_stmt *s, size_t elem_size,
                           trove_store__row_fn read, trove_store__rows_free_fn free_rows,
                           void **out, size_t *n, const char *what, trove_err *err);

/* Steps s (prepared with result prep_rc, parameters bound) to the end,
 * appending its first column to ids, and finalizes it. On failure ids is
 * as it was and the message says `what` failed. */
int trove_store__collect_rows(trove_store *st, int prep_rc, sqlite3_stmt *s, trove_store_ids *ids,
                              const char *what, trove_err *err);

/* The SQL of trove_store_item_time for the items row aliased `a`: the two
 * must agree, as search filters by both (the store's candidates, then the
 * ranker's vector hits). */
#define ST_ITEM_TIME(a) \
  "(CASE WHEN " a ".last_visited > 0 THEN " a ".last_visited ELSE " a ".mtime_us / 1000000 END)"

/* Looks up a source id by name. 0, TROVE_ENOENT (with a message naming it)
 * or an error. */
int trove_store__source_id(trove_store *st, const char *name, int64_t *id, trove_err *err);

/* ---- zstd codec (store_blob.c) ---- */

/* Compresses src at level 3 into a new buffer *out of *out_len bytes
 * (trove_free). 0 or TROVE_ENOMEM. */
int trove_store__compress(trove_store *st, const void *src, size_t len, void **out, size_t *out_len,
                          trove_err *err);

/* Decompresses a stored blob expected to hold `expect` bytes into a new
 * buffer *out (trove_free; NUL-terminated past the end for convenience).
 * 0, TROVE_ENOMEM, or TROVE_ECORRUPT naming item_id. */
int trove_store__decompress(trove_store *st, int64_t item_id, const void *src, size_t len,
                            int64_t expect, void **out, trove_err *err);

void trove_store__codec_free(trove_store *st);

/* ---- schema (schema.c) ---- */

/* Brings the schema to the current version, one transaction per step.
 * 0, TROVE_EUNSUPPORTED (another application's file or a newer schema) or
 * an error. */
int trove_store__migrate(trove_store *st, trove_err *err);

/* For a read-only handle: what trove_store__check_owner refuses, and also an empty
 * file (TROVE_ENOENT) or an older schema (TROVE_EUNSUPPORTED: it cannot be
 * migrated without writing), with a message saying how to get write
 * access. */
int trove_store__check_current(trove_store *st, trove_err *err);

/* Refuses, before anything is written, a file that is not trove's: another
 * program's SQLite database (TROVE_EUNSUPPORTED, the file untouched) or one
 * with a newer schema than this binary's (TROVE_EUNSUPPORTED); an empty
 * file is trove's to create (*empty, when not NULL, says it is one). 0, or
 * the error read_header met (a damaged database: TROVE_ECORRUPT), err set.
 * Files that are not SQLite at all were refused before SQLite opened them
 * (store.c). */
int trove_store__check_owner(trove_store *st, bool *empty, trove_err *err);

/* ---- the sources' sidecar file (store_sidecar.c) ---- */

/* Writes "<db>.sources.json" from the sources table as st sees it now
 * (with the change's write transaction open, so writers write it in commit
 * order). Best effort: never fails. */
void trove_store__sources_keep(trove_store *st);
/* After a write call changed the sources: keeps them now when it owns its
 * transaction (own from trove_store__save), else when the caller's batch commits. */
void trove_store__sources_changed(trove_store *st, bool own);
/* For a database file open just created: adds the sources kept in the
 * sidecar, if there is one, and says so (or why not) in st->open_note. */
void trove_store__sources_restore(trove_store *st);
/* True when the sidecar file exists. */
bool trove_store__sources_kept(const trove_store *st);

#endif /* TROVE_STORE_INT_H */
