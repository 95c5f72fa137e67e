/* vectors.c: the index of one database and model, kept in step with the
 * store (see vectors.h for the protocol). The one invariant: when `stale`
 * is false, the index holds exactly the store's vectors at `version`.
 * Everything here either keeps it (begin/commit) or restores it: a catch-up
 * of a loaded file that is behind, or a build from the store.
 *
 * Why a catch-up works: a passage's vector never changes under the same id
 * (trove_store_item_embed gives new passages new ids, and ids are never
 * reused), so the index is current exactly when its live ids are the
 * store's ids. A file saved before a crash or a kill lacks only the last
 * work; comparing id sets and inserting what is missing costs in
 * proportion to that, where a build re-inserts everything (minutes at
 * 100k). Long scans also save every SAVE_EVERY seconds, so the gap stays
 * small. */
#include "vectors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct trove_vectors {
  trove_index *idx;
  char *model, *path;
  size_t dim;
  int64_t version; /* the store's vectors version the index matches */
  bool stale;      /* another writer changed vectors: rebuild before saving */
  bool dirty;      /* changed since loaded or saved */
  double saved_at; /* monotonic seconds of the last save (or the open) */
  char note[512];
};

enum { PAGE = 1024 };            /* vectors read per store call while building */
static const double SAVE_EVERY = 60; /* seconds between saves during long runs */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- changes ------------------------------------------------------------- */

int trove_vectors_changes_add(trove_vectors_changes *c, const int64_t *ids, const float *vecs,
                              size_t n, size_t dim) {
  if (n == 0)
    return 0;
  if (c->dim && c->dim != dim)
    return TROVE_EINVAL;
  if (c->n + n > c->cap) {
    size_t cap = c->cap ? c->cap : 256;
    while (cap < c->n + n)
      cap *= 2;
    int64_t *ids2 = trove_realloc(c->ids, cap * sizeof *ids2);
    if (!ids2)
      return TROVE_ENOMEM;
    c->ids = ids2;
    float *v2 = trove_realloc(c->vecs, cap * dim * sizeof *v2);
    if (!v2)
      return TROVE_ENOMEM;
    c->vecs = v2;
    c->cap = cap;
  }
  memcpy(c->ids + c->n, ids, n * sizeof *ids);
  memcpy(c->vecs + c->n * dim, vecs, n * dim * sizeof *vecs);
  c->n += n;
  c->dim = dim;
  return 0;
}

void trove_vectors_changes_free(trove_vectors_changes *c) {
  if (!c)
    return;
  trove_store_ids_free(&c->removed);
  trove_free(c->ids);
  trove_free(c->vecs);
  memset(c, 0, sizeof *c);
}

/* ---- open, build --------------------------------------------------------- */

int trove_vectors_default_path(const char *db_path, const char *model, char **out,
                               trove_err *err) {
  if (!db_path || !model || !out)
    return trove_err_set(err, TROVE_EINVAL, "trove_vectors_default_path: NULL argument");
  trove_buf b = {0};
  int rc = trove_buf_printf(&b, "%s.%s.hnsw", db_path, model);
  for (size_t i = strlen(db_path) + 1; rc == 0 && i < b.len; i++)
    if (b.data[i] == '/')
      b.data[i] = '_';
  *out = rc ? NULL : trove_buf_take(&b);
  trove_buf_free(&b);
  return *out ? 0 : trove_err_set(err, TROVE_ENOMEM, "out of memory naming the index file");
}

/* The store's vectors version for v's model; a model with no vector yet is
 * version 0. The version alone decides whether the index is current: every
 * vector change bumps it. */
static int store_version(trove_vectors *v, trove_store *st, int64_t *version, trove_err *err) {
  size_t dim = 0;
  int rc = trove_store_vectors_version(st, v->model, version, &dim, NULL, err);
  if (rc == TROVE_ENOENT) {
    trove_err_clear(err);
    *version = 0;
    return 0;
  }
  if (rc == 0 && dim != v->dim)
    return trove_err_set(err, TROVE_EINVAL, "the database holds model %s with %zu dimensions, "
                         "not %zu", v->model, dim, v->dim);
  return rc;
}

/* Builds a fresh index from every vector of the model in st. The version is
 * read before the pages (separate statements): a writer committing in
 * between makes the tag older than the contents, which is safe, as it only
 * costs another build at the next open or save. */
static int build(trove_vectors *v, trove_store *st, trove_err *err) {
  int64_t version;
  int rc = store_version(v, st, &version, err);
  if (rc)
    return rc;
  trove_index_params p;
  trove_index_params_default(&p, (uint32_t)v->dim);
  trove_index *idx = NULL;
  if ((rc = trove_index_create(&p, &idx, err)))
    return rc;
  int64_t *ids = trove_malloc(PAGE * sizeof *ids);
  float *vecs = trove_malloc(PAGE * v->dim * sizeof *vecs);
  rc = ids && vecs ? 0 : trove_err_set(err, TROVE_ENOMEM, "out of memory building the index");
  for (int64_t after = 0; rc == 0;) {
    size_t n = 0;
    rc = trove_store_vectors_next(st, v->model, after, PAGE, v->dim, ids, vecs, &n, err);
    if (rc == TROVE_ENOENT) { /* no vector was ever stored: an empty index */
      trove_err_clear(err);
      rc = 0;
      break;
    }
    if (rc || n == 0)
      break;
    rc = trove_index_add_batch(idx, n, (const uint64_t *)ids, vecs, v->dim, 0, err);
    after = ids[n - 1];
  }
  trove_free(ids);
  trove_free(vecs);
  if (rc) {
    trove_index_destroy(idx);
    return rc;
  }
  trove_index_set_tag(idx, (uint64_t)version);
  trove_index_destroy(v->idx);
  v->idx = idx;
  v->version = version;
  v->stale = false;
  v->dirty = true;
  return 0;
}

/* A growable sorted list of the store's ids, for the catch-up. */
typedef struct idlist {
  int64_t *v;
  size_t n, cap;
} idlist;

static int idlist_add(idlist *l, const int64_t *ids, size_t n) {
  if (l->n + n > l->cap) {
    size_t cap = l->cap ? l->cap : 4096;
    while (cap < l->n + n)
      cap *= 2;
    int64_t *g = trove_realloc(l->v, cap * sizeof *g);
    if (!g)
      return TROVE_ENOMEM;
    l->v = g;
    l->cap = cap;
  }
  memcpy(l->v + l->n, ids, n * sizeof *ids);
  l->n += n;
  return 0;
}

/* Inserts the page's vectors that idx lacks; their count goes to *added. */
static int add_missing(trove_index *idx, const int64_t *ids, const float *vecs, size_t n,
                       size_t dim, size_t *added, trove_err *err) {
  uint64_t *mi = trove_malloc(n * sizeof *mi);
  float *mv = trove_malloc(n * dim * sizeof *mv);
  int rc = mi && mv ? 0 : trove_err_set(err, TROVE_ENOMEM, "out of memory updating the index");
  size_t k = 0;
  for (size_t i = 0; rc == 0 && i < n; i++)
    if (!trove_index_contains(idx, (uint64_t)ids[i])) {
      mi[k] = (uint64_t)ids[i];
      memcpy(mv + k++ * dim, vecs + i * dim, dim * sizeof *mv);
    }
  if (rc == 0 && k)
    rc = trove_index_add_batch(idx, k, mi, mv, dim, 0, err);
  *added += rc ? 0 : k;
  trove_free(mi);
  trove_free(mv);
  return rc;
}

/* Removes from idx every id that is not in the sorted list. */
static int remove_extra(trove_index *idx, const idlist *keep, size_t *removed, trove_err *err) {
  uint64_t *ids = NULL;
  size_t n = 0;
  int rc = trove_index_ids(idx, &ids, &n, err);
  for (size_t i = 0; rc == 0 && i < n; i++) {
    if (!trove_ids_contain(keep->v, keep->n, (int64_t)ids[i]) &&
        trove_index_remove(idx, ids[i]) == 0)
      (*removed)++;
  }
  trove_free(ids);
  return rc;
}

/* Brings a loaded idx in step with the store's vectors (see the top of the
 * file). The version is read first, as in build. */
static int catch_up(trove_vectors *v, trove_store *st, trove_index *idx, int64_t version,
                    size_t *added, size_t *removed, trove_err *err) {
  idlist keep = {0};
  int64_t *ids = trove_malloc(PAGE * sizeof *ids);
  float *vecs = trove_malloc(PAGE * v->dim * sizeof *vecs);
  int rc = ids && vecs ? 0 : trove_err_set(err, TROVE_ENOMEM, "out of memory updating the index");
  for (int64_t after = 0; rc == 0;) {
    size_t n = 0;
    rc = trove_store_vectors_next(st, v->model, after, PAGE, v->dim, ids, vecs, &n, err);
    if (rc == TROVE_ENOENT) {
      trove_err_clear(err);
      rc = 0;
      break;
    }
    if (rc || n == 0)
      break;
    if ((rc = idlist_add(&keep, ids, n)) == TROVE_ENOMEM)
      trove_err_set(err, rc, "out of memory updating the index");
    rc = rc ? rc : add_missing(idx, ids, vecs, n, v->dim, added, err);
    after = ids[n - 1];
  }
  /* keyset pages come in id order: keep.v is sorted */
  rc = rc ? rc : remove_extra(idx, &keep, removed, err);
  trove_free(keep.v);
  trove_free(ids);
  trove_free(vecs);
  if (rc == 0)
    trove_index_set_tag(idx, (uint64_t)version);
  return rc;
}

/* Loads v->path and, when it is behind the store, catches it up; 0 with
 * v->idx NULL when there is no usable file (the reason in v->note), an
 * error only for a failing store or memory. */
static int try_load(trove_vectors *v, trove_store *st, trove_err *err) {
  int64_t version;
  int rc = store_version(v, st, &version, err);
  if (rc)
    return rc;
  trove_err le = {0};
  trove_index *idx = NULL;
  int lrc = trove_index_load(v->path, (uint32_t)v->dim, &idx, &le);
  if (lrc == TROVE_ENOENT) {
    snprintf(v->note, sizeof v->note, "no index file %s yet", v->path);
  } else if (lrc) {
    snprintf(v->note, sizeof v->note, "%s", le.msg);
  } else if (trove_index_tag(idx) != (uint64_t)version) {
    size_t added = 0, removed = 0;
    unsigned long long was = (unsigned long long)trove_index_tag(idx);
    if ((rc = catch_up(v, st, idx, version, &added, &removed, err))) {
      trove_index_destroy(idx);
      return rc;
    }
    v->idx = idx;
    v->version = version;
    v->stale = false;
    v->dirty = true;
    snprintf(v->note, sizeof v->note, "loaded %s (version %llu) and caught up with the "
             "database (version %lld): %zu vectors added, %zu removed", v->path, was,
             (long long)version, added, removed);
  } else {
    v->idx = idx;
    v->version = version;
    snprintf(v->note, sizeof v->note, "loaded %zu vectors from %s", trove_index_count(idx),
             v->path);
  }
  return 0;
}

int trove_vectors_open(trove_store *st, const char *model, size_t dim, const char *path,
                       trove_vectors **out, trove_err *err) {
  if (!out)
    return trove_err_set(err, TROVE_EINVAL, "trove_vectors_open: NULL out");
  *out = NULL;
  if (!st || !model || !model[0] || dim == 0 || dim > 65536)
    return trove_err_set(err, TROVE_EINVAL, "trove_vectors_open: bad argument");
  trove_vectors *v = trove_calloc(1, sizeof *v);
  if (!v || !(v->model = trove_strdup(model)))
    goto out_nomem;
  v->dim = dim;
  v->saved_at = now_s();
  int rc = path ? ((v->path = trove_strdup(path)) ? 0 : TROVE_ENOMEM)
                : trove_vectors_default_path(trove_store_path(st), model, &v->path, err);
  if (rc == TROVE_ENOMEM)
    goto out_nomem;
  if (rc || (rc = try_load(v, st, err)))
    goto out_close;
  if (!v->idx) {
    char why[sizeof v->note];
    memcpy(why, v->note, sizeof why);
    if ((rc = build(v, st, err)))
      goto out_close;
    snprintf(v->note, sizeof v->note, "built %zu vectors from the database (%s)",
             trove_index_count(v->idx), why);
  }
  *out = v;
  return 0;
out_nomem:
  rc = trove_err_set(err, TROVE_ENOMEM, "out of memory opening the vector index");
out_close:
  trove_vectors_close(v);
  return rc;
}

void trove_vectors_close(trove_vectors *v) {
  if (!v)
    return;
  trove_index_destroy(v->idx);
  trove_free(v->model);
  trove_free(v->path);
  trove_free(v);
}

trove_index *trove_vectors_index(const trove_vectors *v) { return v ? v->idx : NULL; }
const char *trove_vectors_model(const trove_vectors *v) { return v ? v->model : NULL; }
size_t trove_vectors_dim(const trove_vectors *v) { return v ? v->dim : 0; }
const char *trove_vectors_path(const trove_vectors *v) { return v ? v->path : NULL; }
const char *trove_vectors_note(const trove_vectors *v) { return v ? v->note : ""; }
bool trove_vectors_stale(const trove_vectors *v) { return v && v->stale; }

/* ---- keeping in step ----------------------------------------------------- */

int trove_vectors_begin(trove_vectors *v, trove_store *st, trove_err *err) {
  if (!v || !st)
    return trove_err_set(err, TROVE_EINVAL, "trove_vectors_begin: NULL argument");
  int64_t version;
  int rc = store_version(v, st, &version, err);
  if (rc == 0 && version != v->version)
    v->stale = true;
  return rc;
}

/* Applies c to the index; any failure leaves it out of step. */
static void apply(trove_vectors *v, const trove_vectors_changes *c) {
  for (size_t i = 0; i < c->removed.n && !v->stale; i++) {
    int rc = trove_index_remove(v->idx, (uint64_t)c->removed.v[i]);
    v->stale = rc != 0 && rc != TROVE_ENOENT;
  }
  for (size_t i = 0; i < c->n && !v->stale; i++)
    v->stale = trove_index_update(v->idx, (uint64_t)c->ids[i], c->vecs + i * v->dim, v->dim,
                                  NULL) != 0;
}

int trove_vectors_commit(trove_vectors *v, trove_store *st, const trove_vectors_changes *c,
                         trove_err *err) {
  if (!v || !st)
    return trove_err_set(err, TROVE_EINVAL, "trove_vectors_commit: NULL argument");
  int64_t version = 0;
  int rc = store_version(v, st, &version, err); /* still inside the batch */
  if (rc) {
    trove_store_rollback(st);
    return rc;
  }
  if ((rc = trove_store_commit(st, err)))
    return rc;
  if (c && c->dim && c->dim != v->dim)
    v->stale = true;
  else if (c && !v->stale)
    apply(v, c);
  v->version = version;
  v->dirty = v->dirty || (c && (c->n || c->removed.n));
  /* a long run saves as it goes, so a kill loses little index work; a
   * failure here is not the commit's, and the final save reports it */
  if (!v->stale && v->dirty && now_s() - v->saved_at >= SAVE_EVERY)
    trove_vectors_save(v, st, NULL);
  return 0;
}

/* Catches an out-of-step index up with the store (another writer wrote, or
 * an index update failed): cheaper than a build, and exact. */
static int resync(trove_vectors *v, trove_store *st, trove_err *err) {
  int64_t version;
  size_t added = 0, removed = 0;
  int rc = store_version(v, st, &version, err);
  rc = rc ? rc : catch_up(v, st, v->idx, version, &added, &removed, err);
  if (rc)
    return rc;
  v->version = version;
  v->stale = false;
  return 0;
}

int trove_vectors_save(trove_vectors *v, trove_store *st, trove_err *err) {
  if (!v || !st)
    return trove_err_set(err, TROVE_EINVAL, "trove_vectors_save: NULL argument");
  if (!v->stale && !v->dirty)
    return 0; /* the file already holds this index */
  int rc = v->stale ? resync(v, st, err) : 0;
  if (rc)
    return rc;
  trove_index_set_tag(v->idx, (uint64_t)v->version);
  v->saved_at = now_s();
  if ((rc = trove_index_save(v->idx, v->path, err)) == 0)
    v->dirty = false;
  return rc;
}

int trove_vectors_try_save(trove_vectors *v, trove_store *st, trove_err *err) {
  if (!v || !st)
    return trove_err_set(err, TROVE_EINVAL, "trove_vectors_try_save: NULL argument");
  if (!v->stale && !v->dirty)
    return 0;
  trove_err le = {0};
  int rc = trove_store_scan_lock(st, false, NULL, &le);
  if (rc == TROVE_EBUSY)
    return 0; /* the running scan saves the index when it ends */
  bool locked = rc == 0;
  rc = rc ? rc : trove_vectors_save(v, st, &le);
  if (locked)
    trove_store_scan_unlock(st);
  if (rc == TROVE_EIO)
    return trove_err_set(err, rc, "the vector index was rebuilt in memory but cannot be saved "
                         "(%s); each search rebuilds it until `trove scan` runs with write "
                         "access", le.msg);
  if (rc)
    return trove_err_set(err, rc, "%s", le.msg);
  size_t used = strlen(v->note);
  snprintf(v->note + used, sizeof v->note - used, "; saved");
  return 0;
}
