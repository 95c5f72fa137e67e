/* vectors.h: the vector index of one database and one model, kept in step
 * with the store.
 *
 * The store holds every passage vector (the truth); the HNSW index (index.h)
 * is a derived copy that must survive restarts, because rebuilding it costs
 * minutes at 100k passages. So the index file carries a tag: the store's
 * vectors version for the model (store.h: bumped in the same transaction as
 * every vector insert, update and delete, cascades included). Opening
 * compares the two. Equal: the file is current and is mapped as is. Behind
 * (another process wrote vectors, a kill came between a commit and the
 * save): the loaded index catches up, inserting the store's vectors it
 * lacks and dropping ids the store no longer has, a cost in proportion to
 * the gap. Missing, damaged or of another dimension: the index is built
 * from the store's vectors. A bad file costs time, never results.
 *
 * Writers keep it in step incrementally. The store's writer wraps each of
 * its transactions: trove_vectors_begin right after trove_store_begin (the
 * write lock is then held, so it can tell whether somebody else changed
 * vectors since the index was last in step), then trove_vectors_commit
 * instead of trove_store_commit, handing over the passage ids the
 * transaction removed and the vectors it added; they reach the index only
 * once the commit succeeded. If somebody else wrote in between, the index
 * is marked out of step, and trove_vectors_save catches it up before
 * saving. A long run also saves every minute from trove_vectors_commit, so
 * a killed scan leaves a file that is only a little behind.
 *
 * The default file sits beside the database: "<db>.<model>.hnsw".
 *
 * Threads: a trove_vectors belongs to one writer thread at a time; its index
 * (trove_vectors_index) may be searched from any thread meanwhile.
 */
#ifndef TROVE_VECTORS_H
#define TROVE_VECTORS_H

#include "core.h"
#include "index.h"
#include "store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct trove_vectors trove_vectors;

/* What one transaction did to a model's vectors. Start it zeroed, fill it
 * with trove_vectors_changes_add / the removed list, free it with
 * trove_vectors_changes_free. */
typedef struct trove_vectors_changes {
  trove_store_ids removed; /* passage ids whose vectors are gone */
  int64_t *ids;            /* added passage ids ... */
  float *vecs;             /* ... and their vectors, n * dim floats */
  size_t n, cap, dim;
} trove_vectors_changes;

/* Appends n added vectors (ids[i], vecs[i*dim .. +dim)); 0 or TROVE_ENOMEM,
 * TROVE_EINVAL when dim differs from earlier additions. */
int trove_vectors_changes_add(trove_vectors_changes *c, const int64_t *ids, const float *vecs,
                              size_t n, size_t dim);
/* Frees c's arrays; c is empty and reusable after. NULL is fine. */
void trove_vectors_changes_free(trove_vectors_changes *c);

/* The default index file of database db_path for model into *out (the
 * caller's: trove_free): "<db_path>.<model>.hnsw", with any '/' of the model
 * name replaced. Returns 0, TROVE_EINVAL or TROVE_ENOMEM. */
int trove_vectors_default_path(const char *db_path, const char *model, char **out, trove_err *err);

/* Opens the index of `model` (dim floats per vector) for the database of
 * st, at path (NULL: the default path): loads the file, catching it up when
 * its tag is behind the store's vectors version, else builds the index from
 * the store's vectors (the file is not written until trove_vectors_save).
 * trove_vectors_note says which happened and why. st is used during the
 * call only. Returns 0; TROVE_EINVAL (NULL argument, empty model, dim 0 or
 * above 65536); what the store returns (TROVE_EINVAL: the database has the
 * model under another dimension); TROVE_ENOMEM. */
int trove_vectors_open(trove_store *st, const char *model, size_t dim, const char *path,
                       trove_vectors **out, trove_err *err);

/* Frees v and its index (nothing is saved). NULL is fine. */
void trove_vectors_close(trove_vectors *v);

/* The index, to search (index.h). Valid until trove_vectors_close: the
 * object stays the same from open to close (a catch-up or a save works on
 * it in place), so a reader may keep searching it from any thread while
 * the writer commits and saves (index.h's locks). */
trove_index *trove_vectors_index(const trove_vectors *v);
const char *trove_vectors_model(const trove_vectors *v);
size_t trove_vectors_dim(const trove_vectors *v);
/* The file the index is saved to. */
const char *trove_vectors_path(const trove_vectors *v);
/* One line on how the index was opened: "loaded 1234 vectors from F",
 * "loaded F (version 7) and caught up with the database (version 9): 12
 * vectors added, 3 removed", "built 1234 vectors from the database (F is
 * damaged: ...)". */
const char *trove_vectors_note(const trove_vectors *v);
/* True when the index no longer matches the store (another writer) and the
 * next save catches it up. */
bool trove_vectors_stale(const trove_vectors *v);

/* Call right after trove_store_begin on the writer handle st: notes whether
 * the store's vectors changed since the index was last in step. Returns 0
 * or the store's error. */
int trove_vectors_begin(trove_vectors *v, trove_store *st, trove_err *err);

/* Commits st's open batch (trove_store_commit) and, when that succeeded,
 * applies c to the index (removals first). c may be NULL (no change). On a
 * commit failure the batch is rolled back (as trove_store_commit does) and
 * the index is untouched. An index update that fails (out of memory) marks
 * the index out of step instead of failing the commit. Returns 0 or the
 * commit's error. */
int trove_vectors_commit(trove_vectors *v, trove_store *st, const trove_vectors_changes *c,
                         trove_err *err);

/* Makes the index current (catching it up with st when out of step) and
 * saves it atomically to its path, tagged with the store's version; a no-op
 * when nothing changed since it was loaded or saved.
 * Returns 0, the store's error, TROVE_EIO (the file cannot be written: the
 * message says why) or TROVE_ENOMEM. */
int trove_vectors_save(trove_vectors *v, trove_store *st, trove_err *err);

/* For a reader (a search): saves an index that trove_vectors_open had to
 * build or catch up (a missing, damaged or old file), so the next reader
 * loads it instead of paying for the build again; a no-op when the file was
 * current. It takes st's scan lock without waiting (store.h) for the save
 * and releases it after: while another scan holds it, nothing is saved, as
 * that scan saves the index itself when it ends. Same thread rules as
 * trove_vectors_save. Returns 0 (saved, nothing to save, or a scan is
 * running); TROVE_EIO (the lock file or the index cannot be written, e.g.
 * a read-only folder: the message says so and that a `trove scan` with
 * write access fixes it; the index in memory stays usable); TROVE_ENOMEM;
 * the store's error. */
int trove_vectors_try_save(trove_vectors *v, trove_store *st, trove_err *err);

/* Removes the source called name from st, with its items, passages and
 * vectors, and (v not NULL) their passages from v's index, in one
 * transaction, then saves v; without v the index is caught up when next
 * opened. st is the writer for the call (its scan lock held by the caller,
 * so no scan of the source runs meanwhile). Returns 0, TROVE_ENOENT (no such
 * source), or the store's and trove_vectors_save's errors. */
int trove_vectors_remove_source(trove_vectors *v, trove_store *st, const char *name,
                                trove_err *err);

#endif /* TROVE_VECTORS_H */
