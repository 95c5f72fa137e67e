/* store_vectors.c: the second half of the embedding slot: one vector per
 * (model, passage), stored as a float32 blob, and what a persisted vector
 * index needs to know it is current and to rebuild itself.
 *
 * Vectors are written only by trove_store_item_embed, in the same savepoint
 * as the passages they belong to, so a vector is never stored against a
 * passage from an older split of its item's text.
 *
 * Vectors are written in native byte order, which is little-endian on every
 * platform trove builds for (checked at compile time), so a blob is exactly
 * dim * 4 bytes of IEEE floats. Blobs read back are hostile: a size that is
 * not the model's dim gives TROVE_ECORRUPT, never a short read.
 *
 * A persisted index (issue 6) learns what changed from two things: the
 * passage ids that passages_replace, item_embed, source_remove and
 * delete_unseen report (its tombstones), and vector_models.version, bumped
 * by triggers in the same transaction as every vector change, cascades
 * included. An index file saved at version V is current iff
 * trove_store_vectors_version still says V; otherwise it rebuilds from
 * trove_store_vectors_next, which walks one model's vectors in passage order
 * straight off the table's primary key.
 */
#include "store_int.h"

#include <string.h>

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "vector blobs are little-endian float32");

enum { MAX_DIM = 1 << 16 }; /* far above any sentence model (768, 1024) */

/* Finds model's id and dim; ENOENT (message given) when it has none. */
static int model_find(trove_store *st, const char *model, int64_t *id, size_t *dim,
                      trove_err *err) {
  sqlite3_stmt *s = NULL;
  int rc = trove_store__stmt(st, SLOT_MODEL_GET,
                             "SELECT id, dim FROM vector_models WHERE name = ?1", &s, err);
  if (rc)
    return rc;
  trove_store__bind_text(s, 1, model);
  rc = trove_store__step_one(st, s, "looking up a model", err,
                             "no vectors stored for model %s; run `trove scan` to embed", model);
  if (rc == 0) {
    *id = sqlite3_column_int64(s, 0);
    int64_t d = sqlite3_column_int64(s, 1);
    if (d <= 0 || d > MAX_DIM)
      rc = trove_err_set(err, TROVE_ECORRUPT, "model %s has dimension %lld in the database; "
                         "run `trove reprocess` to embed again", model, (long long)d);
    *dim = (size_t)d;
  }
  trove_store__done(s);
  return rc;
}

/* Finds model, registering it with dim when new; EINVAL on a dim mismatch. */
static int model_ensure(trove_store *st, const char *model, size_t dim, int64_t *id,
                        trove_err *err) {
  size_t have;
  int rc = model_find(st, model, id, &have, err);
  if (rc == 0)
    return have == dim ? 0
           : trove_err_set(err, TROVE_EINVAL, "model %s has dimension %zu in the database, "
                           "not %zu; remove the database's vectors or use another model "
                           "name", model, have, dim);
  if (rc != TROVE_ENOENT)
    return rc;
  trove_err_clear(err); /* a new model is not an error */
  sqlite3_stmt *s = NULL;
  if ((rc = trove_store__stmt(st, SLOT_MODEL_ADD,
                              "INSERT INTO vector_models(name, dim) VALUES(?1, ?2)", &s, err)))
    return rc;
  trove_store__bind_text(s, 1, model);
  sqlite3_bind_int64(s, 2, (int64_t)dim);
  rc = sqlite3_step(s);
  trove_store__done(s);
  if (rc != SQLITE_DONE)
    return trove_store__fail(st, rc, "registering a model", err);
  *id = sqlite3_last_insert_rowid(st->db);
  return 0;
}

static int insert_vector(trove_store *st, int64_t model_id, int64_t passage_id,
                         const float *v, size_t dim, trove_err *err) {
  sqlite3_stmt *s = NULL;
  int rc = trove_store__stmt(st, SLOT_VEC_PUT,
                             "INSERT INTO passage_vectors(model_id, passage_id, vec)"
                             " VALUES(?1, ?2, ?3) ON CONFLICT(model_id, passage_id)"
                             " DO UPDATE SET vec = excluded.vec",
                             &s, err);
  if (rc)
    return rc;
  sqlite3_bind_int64(s, 1, model_id);
  sqlite3_bind_int64(s, 2, passage_id);
  sqlite3_bind_blob64(s, 3, v, dim * sizeof *v, SQLITE_STATIC);
  rc = sqlite3_step(s);
  trove_store__done(s);
  if (rc == SQLITE_DONE)
    return 0;
  if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
    return trove_err_set(err, TROVE_ENOENT, "no passage with id %lld for its vector",
                         (long long)passage_id);
  return trove_store__fail(st, rc, "storing a vector", err);
}

/* Copies a blob of dim floats into dst; ECORRUPT when its size is wrong. */
static int copy_vec(sqlite3_stmt *s, int col, size_t dim, float *dst, int64_t passage_id,
                    const char *model, trove_err *err) {
  const void *blob = sqlite3_column_blob(s, col);
  size_t bytes = (size_t)sqlite3_column_bytes(s, col);
  if (!blob || bytes != dim * sizeof *dst)
    return trove_err_set(err, TROVE_ECORRUPT, "vector of passage %lld for model %s has %zu "
                         "bytes, not %zu; run `trove reprocess` to embed again",
                         (long long)passage_id, model, bytes, dim * sizeof *dst);
  memcpy(dst, blob, bytes);
  return 0;
}

int trove_store_vector_get(trove_store *st, int64_t passage_id, const char *model,
                           float **out, size_t *dim, trove_err *err) {
  if (!st || !model || !out || !dim)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_vector_get: NULL argument");
  *out = NULL;
  *dim = 0;
  int64_t model_id;
  size_t d;
  int rc = model_find(st, model, &model_id, &d, err);
  if (rc)
    return rc;
  sqlite3_stmt *s = NULL;
  if ((rc = trove_store__stmt(st, SLOT_VEC_GET,
                              "SELECT vec FROM passage_vectors WHERE model_id = ?1"
                              " AND passage_id = ?2",
                              &s, err)))
    return rc;
  sqlite3_bind_int64(s, 1, model_id);
  sqlite3_bind_int64(s, 2, passage_id);
  float *v = NULL;
  rc = trove_store__step_one(st, s, "reading a vector", err,
                             "no vector for passage %lld under model %s", (long long)passage_id,
                             model);
  if (rc == 0 && !(v = trove_malloc(d * sizeof *v)))
    rc = trove_err_set(err, TROVE_ENOMEM, "out of memory reading a vector");
  else if (rc == 0)
    rc = copy_vec(s, 0, d, v, passage_id, model, err);
  trove_store__done(s);
  if (rc) {
    trove_free(v);
    return rc;
  }
  *out = v;
  *dim = d;
  return 0;
}

int trove_store_vectors_version(trove_store *st, const char *model, int64_t *version,
                                size_t *dim, int64_t *count, trove_err *err) {
  if (!st || !model || !version || !dim)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_vectors_version: NULL argument");
  int64_t model_id;
  int rc = model_find(st, model, &model_id, dim, err);
  if (rc)
    return rc;
  /* the count reads every vector's page (the blobs live in the key's
   * b-tree): only when asked */
  sqlite3_stmt *s = NULL;
  rc = sqlite3_prepare_v2(st->db, count ? "SELECT version, (SELECT count(*) FROM passage_vectors"
                          " WHERE model_id = ?1) FROM vector_models WHERE id = ?1"
                          : "SELECT version, 0 FROM vector_models WHERE id = ?1", -1, &s, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_int64(s, 1, model_id);
    rc = sqlite3_step(s);
  }
  if (rc == SQLITE_ROW) {
    *version = sqlite3_column_int64(s, 0);
    if (count)
      *count = sqlite3_column_int64(s, 1);
    rc = 0;
  } else {
    rc = trove_store__fail(st, rc == SQLITE_DONE ? SQLITE_CORRUPT : rc, "reading a model", err);
  }
  sqlite3_finalize(s);
  return rc;
}

int trove_store_vectors_next(trove_store *st, const char *model, int64_t after_id,
                             size_t limit, size_t dim, int64_t *ids, float *vecs,
                             size_t *n, trove_err *err) {
  if (!st || !model || !ids || !vecs || !n || limit == 0 || limit > INT32_MAX)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_vectors_next: bad argument");
  *n = 0;
  int64_t model_id;
  size_t d;
  int rc = model_find(st, model, &model_id, &d, err);
  if (rc)
    return rc;
  if (d != dim)
    return trove_err_set(err, TROVE_EINVAL, "model %s has dimension %zu, not %zu", model,
                         d, dim);
  sqlite3_stmt *s = NULL;
  if ((rc = trove_store__stmt(st, SLOT_VEC_NEXT,
                              "SELECT passage_id, vec FROM passage_vectors"
                              " WHERE model_id = ?1 AND passage_id > ?2 ORDER BY passage_id"
                              " LIMIT ?3",
                              &s, err)))
    return rc;
  sqlite3_bind_int64(s, 1, model_id);
  sqlite3_bind_int64(s, 2, after_id);
  sqlite3_bind_int64(s, 3, (int64_t)limit);
  size_t len = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    ids[len] = sqlite3_column_int64(s, 0);
    /* len < limit and the caller's vecs holds limit * dim floats. */
    if ((rc = copy_vec(s, 1, dim, vecs + len * dim, ids[len], model, err)))
      goto out_done;
    len++;
  }
  rc = rc == SQLITE_DONE ? 0 : trove_store__fail(st, rc, "reading vectors", err);
  if (rc == 0)
    *n = len;
out_done:
  trove_store__done(s);
  return rc;
}

static int mark_embedded(trove_store *st, int64_t model_id, int64_t item_id, trove_err *err) {
  sqlite3_stmt *s = NULL;
  int rc = trove_store__stmt(st, SLOT_EMBED_MARK,
                             "INSERT OR IGNORE INTO item_embeddings(model_id,"
                             " item_id) VALUES(?1, ?2)",
                             &s, err);
  if (rc)
    return rc;
  sqlite3_bind_int64(s, 1, model_id);
  sqlite3_bind_int64(s, 2, item_id);
  rc = sqlite3_step(s);
  trove_store__done(s);
  if (rc == SQLITE_DONE)
    return 0;
  if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
    return trove_err_set(err, TROVE_ENOENT, "no item with id %lld to embed", (long long)item_id);
  return trove_store__fail(st, rc, "marking an item embedded", err);
}

int trove_store_item_embed(trove_store *st, int64_t item_id, const char *model,
                           const trove_store_passage *p, const float *vecs, size_t n,
                           size_t dim, int64_t *ids, trove_store_ids *removed, trove_err *err) {
  if (!st || !model || !model[0] || dim == 0 || dim > MAX_DIM || (n && (!p || !vecs || !ids)))
    return trove_err_set(err, TROVE_EINVAL, "trove_store_item_embed: bad argument");
  int64_t model_id;
  bool own;
  int rc = trove_store__save(st, &own, err);
  if (rc)
    return rc;
  if ((rc = model_ensure(st, model, dim, &model_id, err)) ||
      (rc = trove_store_passages_replace(st, item_id, p, n, ids, removed, err)))
    goto out_undo;
  for (size_t i = 0; i < n; i++)
    if ((rc = insert_vector(st, model_id, ids[i], vecs + i * dim, dim, err)))
      goto out_undo;
  if ((rc = mark_embedded(st, model_id, item_id, err)))
    goto out_undo;
  return trove_store__release(st, own, err);
out_undo:
  trove_store__undo(st, own);
  return rc;
}
