/* vectors_test.c: the vector index stays in step with the store. Items get
 * random unit vectors through trove_store_item_embed inside wrapped batches;
 * after every step the index must answer exactly what a brute-force scan of
 * the store's vectors answers. Covered: a first open builds, a save and
 * reopen loads without building, a file left behind by a kill catches up
 * (exact counts), a damaged file is rebuilt, a second writer (another
 * handle, as another process would) makes the index out of step and the
 * save catches it up, removals (re-embedding, deleted items) leave no
 * ghost, and a reader's try_save keeps what it built unless a scan runs or
 * the folder cannot be written. */
#include "vectors.h"

#include "../store/fixture.h"

#include <math.h>

enum { DIM = 8, ITEMS = 40 };

static fx F;
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static float frand(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return (float)((double)(rng >> 11) / 9007199254740992.0) - 0.5f;
}

static void unit(float *v) {
  double s = 0;
  for (int i = 0; i < DIM; i++)
    v[i] = frand(), s += (double)v[i] * v[i];
  for (int i = 0; i < DIM; i++)
    v[i] = (float)(v[i] / sqrt(s));
}

static int64_t SRC, item_ids[ITEMS];

/* Embeds item i with k passages (k random vectors) in st's open batch. */
static void embed_item(trove_store *st, int i, size_t k, trove_vectors_changes *c) {
  trove_store_passage p[4];
  float vec[4 * DIM];
  int64_t ids[4];
  for (size_t j = 0; j < k; j++) {
    p[j] = (trove_store_passage){.ordinal = (int64_t)j, .start = (int64_t)j, .end = (int64_t)j + 1};
    unit(vec + j * DIM);
  }
  trove_err e = {0};
  CHECK(trove_store_item_embed(st, item_ids[i], "m", p, vec, k, DIM, ids, &c->removed, &e) == 0);
  CHECK(trove_vectors_changes_add(c, ids, vec, k, DIM) == 0);
}

/* One wrapped batch re-embedding items [from, to) with k passages each. */
static int batch(trove_vectors *v, trove_store *st, int from, int to, size_t k) {
  trove_vectors_changes c = {0};
  trove_err e = {0};
  CHECK(trove_store_begin(st, &e) == 0);
  CHECK(trove_vectors_begin(v, st, &e) == 0);
  for (int i = from; i < to; i++)
    embed_item(st, i, k, &c);
  int rc = trove_vectors_commit(v, st, &c, &e);
  trove_vectors_changes_free(&c);
  return rc;
}

/* The index's top 10 equals brute force over the store's vectors. */
static void agrees_with_store(trove_vectors *v, trove_store *st) {
  int64_t ids[512];
  float vecs[512 * DIM];
  size_t n = 0;
  trove_err e = {0};
  int rc = trove_store_vectors_next(st, "m", 0, 512, DIM, ids, vecs, &n, &e);
  CHECK(rc == 0 || rc == TROVE_ENOENT);
  trove_index *idx = trove_vectors_index(v);
  CHECK(trove_index_count(idx) == n);
  for (int q = 0; q < 5; q++) {
    float qv[DIM];
    unit(qv);
    trove_index_hit h[10];
    size_t nh = 0;
    CHECK(trove_index_search_exact(idx, qv, DIM, 10, NULL, NULL, h, &nh, NULL) == 0);
    CHECK(nh == (n < 10 ? n : 10));
    for (size_t j = 0; j < nh; j++) { /* each hit is in the store with that score */
      size_t at = 0;
      while (at < n && (uint64_t)ids[at] != h[j].id)
        at++;
      CHECK(at < n);
      float s = 0;
      for (int d = 0; at < n && d < DIM; d++)
        s += qv[d] * vecs[at * DIM + d];
      CHECK(fabsf(s - h[j].score) < 1e-5f);
    }
  }
}

static trove_store *setup(void) {
  fx_init(&F);
  trove_store *st = fx_open(&F);
  trove_err e = {0};
  CHECK(trove_store_source_add(st, "s", "fs", "/s", NULL, &SRC, &e) == 0);
  CHECK(trove_store_begin(st, &e) == 0);
  for (int i = 0; i < ITEMS; i++) {
    char ext[16];
    snprintf(ext, sizeof ext, "/%d", i);
    trove_store_item it = fx_item(ext, "t", "some text", 0);
    CHECK(trove_store_item_upsert(st, SRC, &it, &item_ids[i], &e) == 0);
  }
  CHECK(trove_store_commit(st, &e) == 0);
  return st;
}

static trove_vectors *open_v(trove_store *st, const char *expect_note) {
  trove_vectors *v = NULL;
  trove_err e = {0};
  CHECK(trove_vectors_open(st, "m", DIM, NULL, &v, &e) == 0 && v);
  if (v && expect_note && !strstr(trove_vectors_note(v), expect_note)) {
    fprintf(stderr, "note \"%s\" lacks \"%s\"\n", trove_vectors_note(v), expect_note);
    CHECK(!"unexpected note");
  }
  return v;
}

static void first_open_builds_then_save_and_reopen_loads(void) {
  trove_store *st = setup();
  trove_vectors *v = open_v(st, "no index file");
  CHECK(trove_index_count(trove_vectors_index(v)) == 0);
  CHECK(batch(v, st, 0, 20, 3) == 0);
  agrees_with_store(v, st);
  CHECK(batch(v, st, 10, 30, 2) == 0); /* re-embeds 10..19: their old ids go */
  agrees_with_store(v, st);
  CHECK(!trove_vectors_stale(v));
  trove_err e = {0};
  CHECK(trove_vectors_save(v, st, &e) == 0);
  trove_vectors_close(v);
  v = open_v(st, "loaded 70 vectors");
  agrees_with_store(v, st);
  CHECK(batch(v, st, 30, 40, 1) == 0); /* a loaded (mapped) index stays writable */
  CHECK(batch(v, st, 0, 5, 1) == 0);   /* re-embedded: 15 ids gone, 5 new */
  agrees_with_store(v, st);
  trove_vectors_close(v);
  /* not saved since (a killed scan): the file is behind and catches up */
  v = open_v(st, "15 vectors added, 15 removed");
  agrees_with_store(v, st);
  CHECK(trove_vectors_save(v, st, &e) == 0);
  trove_vectors_close(v);
  v = open_v(st, "loaded 70 vectors");
  trove_vectors_close(v);
  trove_store_close(st);
  fx_done(&F);
}

static void damaged_file_is_rebuilt(void) {
  trove_store *st = setup();
  trove_vectors *v = open_v(st, NULL);
  CHECK(batch(v, st, 0, 10, 2) == 0);
  trove_err e = {0};
  CHECK(trove_vectors_save(v, st, &e) == 0);
  char path[256];
  snprintf(path, sizeof path, "%s", trove_vectors_path(v));
  trove_vectors_close(v);
  fx_scribble(path, 300, 64, 0x5a);
  v = open_v(st, "damaged");
  agrees_with_store(v, st);
  CHECK(trove_vectors_save(v, st, &e) == 0); /* and the save repairs the file */
  trove_vectors_close(v);
  v = open_v(st, "loaded 20 vectors");
  trove_vectors_close(v);
  fx_scribble(path, 0, 8, 0); /* not an index at all */
  v = open_v(st, "built 20 vectors");
  trove_vectors_close(v);
  trove_store_close(st);
  fx_done(&F);
}

static void another_writer_makes_it_stale_and_save_rebuilds(void) {
  trove_store *st = setup();
  trove_vectors *v = open_v(st, NULL);
  CHECK(batch(v, st, 0, 10, 2) == 0);
  /* a second handle writes vectors the index never hears of */
  trove_store *other = fx_open(&F);
  trove_vectors_changes lost = {0};
  trove_err e = {0};
  CHECK(trove_store_begin(other, &e) == 0);
  embed_item(other, 20, 3, &lost);
  CHECK(trove_store_commit(other, &e) == 0);
  trove_vectors_changes_free(&lost);
  trove_store_close(other);
  CHECK(!trove_vectors_stale(v));
  CHECK(batch(v, st, 10, 12, 1) == 0); /* begin notices */
  CHECK(trove_vectors_stale(v));
  CHECK(trove_vectors_save(v, st, &e) == 0);
  CHECK(!trove_vectors_stale(v));
  agrees_with_store(v, st);
  trove_vectors_close(v);
  v = open_v(st, "loaded 25 vectors");
  trove_vectors_close(v);
  trove_store_close(st);
  fx_done(&F);
}

static void deleted_items_leave_no_ghost(void) {
  trove_store *st = setup();
  trove_vectors *v = open_v(st, NULL);
  CHECK(batch(v, st, 0, ITEMS, 2) == 0);
  trove_vectors_changes c = {0};
  trove_err e = {0};
  int64_t version = 0, deleted = 0;
  CHECK(trove_store_scan_begin(st, SRC, &version, &e) == 0);
  CHECK(trove_store_begin(st, &e) == 0);
  CHECK(trove_vectors_begin(v, st, &e) == 0);
  for (int i = 0; i < 5; i++)
    CHECK(trove_store_item_touch(st, item_ids[i], version, 0, 0, -1, &e) == 0);
  CHECK(trove_store_items_delete_unseen(st, SRC, version, &deleted, &c.removed, &e) == 0);
  CHECK(deleted == ITEMS - 5 && c.removed.n == 2 * (ITEMS - 5));
  CHECK(trove_vectors_commit(v, st, &c, &e) == 0);
  trove_vectors_changes_free(&c);
  agrees_with_store(v, st);
  CHECK(trove_index_count(trove_vectors_index(v)) == 10 && !trove_vectors_stale(v));
  trove_vectors_close(v);
  trove_store_close(st);
  fx_done(&F);
}

static void reader_try_save_keeps_a_built_index(void) {
  trove_store *st = setup();
  trove_vectors *v = open_v(st, NULL);
  CHECK(batch(v, st, 0, 10, 2) == 0); /* stored, never saved: no file */
  char path[256];
  snprintf(path, sizeof path, "%s", trove_vectors_path(v));
  trove_vectors_close(v);
  trove_err e = {0};
  /* a scan holds the lock: it will save, the reader does not */
  trove_store *scan = fx_open(&F);
  CHECK(trove_store_scan_lock(scan, false, NULL, &e) == 0);
  v = open_v(st, "built 20 vectors");
  CHECK(trove_vectors_try_save(v, st, &e) == 0 && access(path, F_OK) != 0);
  trove_vectors_close(v);
  trove_store_close(scan);
  v = open_v(st, "built 20 vectors");
  CHECK(trove_vectors_try_save(v, st, &e) == 0 && strstr(trove_vectors_note(v), "; saved"));
  CHECK(trove_vectors_try_save(v, st, &e) == 0); /* nothing left to save */
  trove_vectors_close(v);
  v = open_v(st, "loaded 20 vectors");
  CHECK(trove_vectors_try_save(v, st, &e) == 0);
  trove_vectors_close(v);
  /* a folder that cannot be written: an error that says a scan fixes it */
  CHECK(trove_vectors_open(st, "m", DIM, "/nonexistent-trove-dir/m.hnsw", &v, &e) == 0);
  CHECK(trove_vectors_try_save(v, st, &e) == TROVE_EIO && strstr(e.msg, "trove scan"));
  CHECK(trove_index_count(trove_vectors_index(v)) == 20); /* still usable */
  CHECK(trove_vectors_try_save(NULL, st, &e) == TROVE_EINVAL);
  trove_vectors_close(v);
  trove_store_close(st);
  fx_done(&F);
}

static void bad_arguments_and_dimension_clash(void) {
  trove_store *st = setup();
  trove_vectors *v = NULL;
  trove_err e = {0};
  CHECK(trove_vectors_open(st, "", DIM, NULL, &v, &e) == TROVE_EINVAL && !v);
  CHECK(trove_vectors_open(st, "m", 0, NULL, &v, &e) == TROVE_EINVAL && !v);
  CHECK(trove_vectors_open(NULL, "m", DIM, NULL, &v, &e) == TROVE_EINVAL && !v);
  v = open_v(st, NULL);
  CHECK(batch(v, st, 0, 2, 1) == 0);
  trove_vectors_close(v);
  CHECK(trove_vectors_open(st, "m", DIM * 2, NULL, &v, &e) == TROVE_EINVAL && !v);
  CHECK(strstr(e.msg, "dimensions") != NULL);
  char *p = NULL;
  CHECK(trove_vectors_default_path("/a/b.db", "x/y", &p, &e) == 0 &&
        strcmp(p, "/a/b.db.x_y.hnsw") == 0);
  trove_free(p);
  trove_store_close(st);
  fx_done(&F);
}

int main(void) {
  RUN(first_open_builds_then_save_and_reopen_loads);
  RUN(damaged_file_is_rebuilt);
  RUN(another_writer_makes_it_stale_and_save_rebuilds);
  RUN(deleted_items_leave_no_ghost);
  RUN(reader_try_save_keeps_a_built_index);
  RUN(bad_arguments_and_dimension_clash);
  return check_done("vectors_test");
}
