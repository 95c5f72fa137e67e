/* io_test.c: the index file. Saving and loading ("a restart") must give the
 * same answers; a load must detect every kind of damage with TROVE_ECORRUPT
 * (bad magic, checksums, truncation, and, in files whose checksums are
 * re-sealed by this test, structure the checksums cannot vouch for:
 * neighbours or levels out of range, duplicate ids); save must be atomic;
 * every allocation failure must be clean. The format offsets are
 * recomputed here from hnsw_io.c's description, as a second reading of it. */
#include "index_int.h"
#include "core_test_hooks.h" /* trove_alloc_fail_after */

#include "check.h"
#include "testdata.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { D = 16, HDR = 128 };

static uint64_t seed;
static char dir[64], path[128];

static trove_index *build(size_t n, const float *v, size_t dead_every) {
  trove_index_params p;
  trove_index_params_default(&p, D);
  p.m = 6;
  p.ef_construction = 32;
  p.flat_threshold = 0;
  p.compact_ratio = 0;
  p.seed = seed;
  trove_index *x = NULL;
  CHECK(trove_index_create(&p, &x, NULL) == 0);
  for (size_t i = 0; i < n; i++)
    CHECK(trove_index_add(x, 500 + i, v + i * D, D, NULL) == 0);
  for (size_t i = 0; dead_every && i < n; i += dead_every)
    CHECK(trove_index_remove(x, 500 + i) == 0);
  return x;
}

/* Saves to path an index of n clustered vectors with every dead_every-th
 * removed (as build() does), and returns the vectors; the caller frees them. */
static float *saved_index(size_t n, size_t dead_every) {
  float *v = td_clustered(n, D, 3, 0.3f, seed);
  trove_index *x = build(n, v, dead_every);
  CHECK(trove_index_save(x, path, NULL) == 0);
  trove_index_destroy(x);
  return v;
}

/* Top-10 of nq queries, concatenated into out (nq*10 hits, zero-padded). */
static void answers(trove_index *x, const float *q, size_t nq, trove_index_hit *out) {
  memset(out, 0, nq * 10 * sizeof *out);
  for (size_t i = 0; i < nq; i++) {
    size_t n;
    CHECK(trove_index_search(x, q + i * D, D, 10, NULL, NULL, out + i * 10, &n, NULL) == 0);
  }
}

/* Same ids and scores (not memcmp: the struct has padding). */
static bool same(const trove_index_hit *a, const trove_index_hit *b, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (a[i].id != b[i].id || a[i].score != b[i].score)
      return false;
  return true;
}

static uint8_t *slurp(const char *p, size_t *len) {
  FILE *f = fopen(p, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  *len = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = malloc(*len ? *len : 1);
  CHECK(fread(b, 1, *len, f) == *len);
  fclose(f);
  return b;
}

static void spill(const char *p, const uint8_t *b, size_t len) {
  FILE *f = fopen(p, "wb");
  CHECK(f && fwrite(b, 1, len, f) == len);
  fclose(f);
}

/* ---- the format, read independently ------------------------------------ */

typedef struct lay {
  uint64_t n, up_words;
  uint32_t dim, m;
  size_t ids, vecs, levels, dead, l0, upper, table;
} lay;

static size_t al(size_t x) { return (x + 63) & ~(size_t)63; }

static lay lay_of(const uint8_t *f) {
  lay L;
  memcpy(&L.dim, f + 16, 4);
  memcpy(&L.m, f + 20, 4);
  memcpy(&L.n, f + 48, 8);
  memcpy(&L.up_words, f + 64, 8);
  L.ids = HDR;
  L.vecs = al(L.ids + L.n * 8);
  L.levels = al(L.vecs + L.n * L.dim * 4);
  L.dead = al(L.levels + L.n);
  L.l0 = al(L.dead + L.n);
  L.upper = al(L.l0 + L.n * (1 + 2 * L.m) * 4);
  L.table = al(L.upper + L.up_words * 4);
  return L;
}

/* Recomputes every checksum of a file with one data block (< 1 MiB). */
static void reseal(uint8_t *f, size_t len) {
  size_t table = len - 4;
  uint32_t c = trove_index__crc32c(0, f + HDR, table - HDR);
  memcpy(f + table, &c, 4);
  c = trove_index__crc32c(0, f + table, 4);
  memcpy(f + 104, &c, 4);
  c = trove_index__crc32c(0, f, 124);
  memcpy(f + 124, &c, 4);
}

static uint32_t *l0_list(uint8_t *f, const lay *L, size_t node) {
  return (uint32_t *)(f + L->l0 + node * (1 + 2 * L->m) * 4);
}

/* Loads bytes b as the index file; returns the code, frees any index. */
static int load_bytes(const uint8_t *b, size_t len, trove_err *e) {
  spill(path, b, len);
  trove_index *x = NULL;
  int rc = trove_index_load(path, 0, &x, e);
  CHECK((rc == 0) == (x != NULL));
  trove_index_destroy(x);
  return rc;
}

/* ---- cases -------------------------------------------------------------- */

static void restart_gives_same_answers_and_stays_writable(void) {
  size_t n = 700;
  float *v = td_clustered(n + 50, D, 7, 0.3f, seed), *q = v + n * D;
  trove_index_hit a[500], b[500];
  trove_index *x = build(n, v, 5);
  answers(x, q, 50, a);
  CHECK(trove_index_save(x, path, NULL) == 0);
  trove_index_params p = trove_index_get_params(x);
  trove_index_destroy(x);
  trove_err e;
  x = NULL;
  CHECK(trove_index_load(path, D, &x, &e) == 0);
  answers(x, q, 50, b);
  CHECK(same(a, b, 500));
  CHECK(trove_index_count(x) == n - n / 5 && trove_index_dead(x) == n / 5);
  trove_index_params lp = trove_index_get_params(x);
  CHECK(memcmp(&p, &lp, sizeof p) == 0);
  /* The loaded index changes like a built one: writes copy it out of the map. */
  trove_index *y = build(n, v, 5);
  for (size_t i = 0; i < 50; i++) {
    CHECK(trove_index_add(x, 9000 + i, q + i * D, D, NULL) == 0);
    CHECK(trove_index_add(y, 9000 + i, q + i * D, D, NULL) == 0);
  }
  CHECK(trove_index_remove(x, 501) == 0 && trove_index_remove(y, 501) == 0);
  answers(x, v, 50, a);
  answers(y, v, 50, b);
  CHECK(same(a, b, 500)); /* the rng state travelled with the file */
  CHECK(trove_index_save(x, path, NULL) == 0); /* replaces the mapped file */
  trove_index_destroy(x);
  CHECK(trove_index_load(path, 0, &x, NULL) == 0);
  answers(x, v, 50, a);
  CHECK(same(a, b, 500));
  trove_index_destroy(x);
  trove_index_destroy(y);
  free(v);
}

static void empty_index_round_trips(void) {
  trove_index *x = build(0, NULL, 0);
  CHECK(trove_index_save(x, path, NULL) == 0);
  trove_index_destroy(x);
  CHECK(trove_index_load(path, D, &x, NULL) == 0);
  CHECK(trove_index_count(x) == 0);
  float u[D] = {0, 1};
  trove_index_hit h[3];
  size_t n = 7;
  CHECK(trove_index_search(x, u, D, 3, NULL, NULL, h, &n, NULL) == 0 && n == 0);
  CHECK(trove_index_add(x, 1, u, D, NULL) == 0);
  CHECK(trove_index_search(x, u, D, 3, NULL, NULL, h, &n, NULL) == 0 && n == 1 && h[0].id == 1);
  trove_index_destroy(x);
}

static void tag_survives_save_load_and_compaction(void) {
  trove_index *x = build(0, NULL, 0);
  CHECK(trove_index_tag(x) == 0 && trove_index_tag(NULL) == 0);
  trove_index_set_tag(x, 0x1234567890abcdefull);
  CHECK(trove_index_compact(x, NULL) == 0 && trove_index_tag(x) == 0x1234567890abcdefull);
  CHECK(trove_index_save(x, path, NULL) == 0);
  trove_index_destroy(x);
  CHECK(trove_index_load(path, D, &x, NULL) == 0);
  CHECK(trove_index_tag(x) == 0x1234567890abcdefull);
  trove_index_destroy(x);
}

static void missing_file_folder_and_arguments_are_reported(void) {
  trove_index *x = NULL;
  trove_err e;
  char p[200];
  snprintf(p, sizeof p, "%s/nope.idx", dir);
  CHECK(trove_index_load(p, 0, &x, &e) == TROVE_ENOENT && x == NULL && strstr(e.msg, "nope"));
  CHECK(trove_index_load(dir, 0, &x, &e) == TROVE_EIO && x == NULL); /* a folder */
  CHECK(strstr(e.msg, "not a regular file") != NULL);
  CHECK(trove_index_load(NULL, 0, &x, NULL) == TROVE_EINVAL);
  CHECK(trove_index_load(p, 0, NULL, NULL) == TROVE_EINVAL);
  float *v = td_clustered(3, D, 1, 0.3f, seed);
  x = build(3, v, 0);
  free(v);
  snprintf(p, sizeof p, "%s/no/such/dir/x.idx", dir);
  CHECK(trove_index_save(x, p, &e) == TROVE_EIO && strstr(e.msg, "no/such"));
  CHECK(trove_index_save(x, NULL, NULL) == TROVE_EINVAL);
  CHECK(trove_index_save(NULL, p, NULL) == TROVE_EINVAL);
  trove_index_destroy(x);
}

static void dimension_mismatch_is_erange(void) {
  free(saved_index(20, 0));
  trove_index *x = (trove_index *)1; /* not NULL: a failed load must clear it */
  trove_err e;
  CHECK(trove_index_load(path, 512, &x, &e) == TROVE_ERANGE && x == NULL);
  CHECK(strstr(e.msg, "dimension 16") && strstr(e.msg, "512"));
}

/* A small saved file for the damage cases; *L describes it. */
static uint8_t *saved_file(size_t n, size_t *len, lay *L) {
  free(saved_index(n, 4));
  uint8_t *f = slurp(path, len);
  *L = lay_of(f);
  CHECK(L->n == n && L->table + 4 == *len);
  return f;
}

static void damaged_headers_and_checksums_are_ecorrupt(void) {
  size_t len;
  lay L;
  uint8_t *f = saved_file(150, &len, &L), *g = malloc(len + 64);
  trove_err e;
  CHECK(load_bytes(f, len, &e) == 0);
  memcpy(g, f, len), g[0] ^= 1;
  CHECK(load_bytes(g, len, &e) == TROVE_ECORRUPT && strstr(e.msg, "magic"));
  memcpy(g, f, len), g[8] = 9;
  CHECK(load_bytes(g, len, &e) == TROVE_EUNSUPPORTED && strstr(e.msg, "version 9"));
  memcpy(g, f, len), g[50] ^= 0x10;
  CHECK(load_bytes(g, len, &e) == TROVE_ECORRUPT && strstr(e.msg, "header checksum"));
  memcpy(g, f, len), g[L.vecs + 33] ^= 0x40;
  CHECK(load_bytes(g, len, &e) == TROVE_ECORRUPT && strstr(e.msg, "data checksum"));
  memcpy(g, f, len), g[len - 1] ^= 1;
  CHECK(load_bytes(g, len, &e) == TROVE_ECORRUPT && strstr(e.msg, "checksum table"));
  memcpy(g, f, len), memset(g + len, 0, 64);
  CHECK(load_bytes(g, len + 64, &e) == TROVE_ECORRUPT && strstr(e.msg, "size"));
  size_t cuts[] = {0, 1, HDR - 1, HDR, HDR + 1, L.vecs, L.l0 + 5, len - 4, len - 1};
  for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
    CHECK(load_bytes(f, cuts[i], &e) == TROVE_ECORRUPT);
    CHECK(strstr(e.msg, "truncated") != NULL);
  }
  free(f);
  free(g);
}

static void every_flipped_byte_is_detected(void) {
  size_t len;
  lay L;
  uint8_t *f = saved_file(40, &len, &L);
  size_t tried = 0;
  for (size_t i = 0; i < len; i += (i < HDR ? 1 : 5)) {
    f[i] ^= 0x04;
    int rc = load_bytes(f, len, NULL);
    f[i] ^= 0x04;
    CHECK(rc == TROVE_ECORRUPT || rc == TROVE_EUNSUPPORTED);
    tried++;
  }
  fprintf(stderr, "  %zu flips of a %zu-byte file all detected\n", tried, len);
  free(f);
}

/* Applies one structural change to a copy of f, reseals, expects ECORRUPT. */
static void expect_structure_rejected(const uint8_t *f, size_t len, const char *what,
                                      void (*damage)(uint8_t *g, const lay *L)) {
  uint8_t *g = malloc(len);
  memcpy(g, f, len);
  lay L = lay_of(g);
  damage(g, &L);
  reseal(g, len);
  trove_err e;
  int rc = load_bytes(g, len, &e);
  if (rc != TROVE_ECORRUPT)
    fprintf(stderr, "  %s: load gave %d\n", what, rc);
  CHECK(rc == TROVE_ECORRUPT);
  free(g);
}

static void neighbour_out_of_range(uint8_t *g, const lay *L) {
  uint32_t *l = l0_list(g, L, 7);
  l[1] = (uint32_t)L->n;
}
static void list_count_too_big(uint8_t *g, const lay *L) { l0_list(g, L, 3)[0] = 2 * L->m + 1; }
static void duplicate_live_id(uint8_t *g, const lay *L) { /* nodes 1 and 2 are live */
  memcpy(g + L->ids + 8, g + L->ids + 16, 8);
}
static void bad_dead_flag(uint8_t *g, const lay *L) { g[L->dead + 2] = 2; }
static void level_sum_disagrees(uint8_t *g, const lay *L) {
  for (size_t i = 0; i < L->n; i++)
    if (g[L->levels + i] == 0) {
      g[L->levels + i] = 1;
      return;
    }
}
static void entry_out_of_range(uint8_t *g, const lay *L) {
  uint32_t e = (uint32_t)L->n;
  memcpy(g + 40, &e, 4);
}
/* An upper-level link to a node that has no list on that level. */
static void link_to_lower_node(uint8_t *g, const lay *L) {
  size_t low = 0;
  while (g[L->levels + low] != 0)
    low++;
  uint32_t *l = (uint32_t *)(g + L->upper); /* level 1 of the first node that has one */
  l[0] = 1;
  l[1] = (uint32_t)low;
}

static void bad_structure_behind_valid_checksums_is_ecorrupt(void) {
  size_t len;
  lay L;
  uint8_t *f = saved_file(200, &len, &L);
  CHECK(L.up_words > 0); /* 200 nodes at M = 6 have upper levels */
  reseal(f, len);
  CHECK(load_bytes(f, len, NULL) == 0); /* resealing alone is harmless */
  expect_structure_rejected(f, len, "neighbour", neighbour_out_of_range);
  expect_structure_rejected(f, len, "count", list_count_too_big);
  expect_structure_rejected(f, len, "duplicate", duplicate_live_id);
  expect_structure_rejected(f, len, "dead flag", bad_dead_flag);
  expect_structure_rejected(f, len, "levels", level_sum_disagrees);
  expect_structure_rejected(f, len, "entry", entry_out_of_range);
  expect_structure_rejected(f, len, "lower link", link_to_lower_node);
  free(f);
}

static void save_failures_leave_the_old_file_whole(void) {
  float *v = td_clustered(120, D, 3, 0.3f, seed);
  trove_index *old = build(60, v, 0), *x = build(120, v, 3);
  CHECK(trove_index_save(old, path, NULL) == 0);
  int rc = -1, n;
  for (n = 0; n < 1000 && rc != 0; n++) {
    trove_alloc_fail_after(n, false);
    rc = trove_index_save(x, path, NULL);
    trove_alloc_fail_after(-1, false);
    CHECK(rc == 0 || rc == TROVE_ENOMEM);
    trove_index *y = NULL;
    CHECK(trove_index_load(path, D, &y, NULL) == 0);
    CHECK(trove_index_count(y) == (rc ? 60 : 80));
    trove_index_destroy(y);
  }
  CHECK(rc == 0 && n > 1);
  char cmd[200]; /* no temp file left behind */
  snprintf(cmd, sizeof cmd, "test $(ls %s | wc -l) -eq 1", dir);
  CHECK(system(cmd) == 0);
  trove_index_destroy(old);
  trove_index_destroy(x);
  free(v);
}

static void load_allocation_failures_are_clean(void) {
  float *v = saved_index(100, 4);
  trove_index *x = NULL;
  int rc = -1, n;
  for (n = 0; n < 1000 && rc != 0; n++) {
    trove_alloc_fail_after(n, false);
    x = NULL;
    rc = trove_index_load(path, D, &x, NULL);
    CHECK(rc == 0 || (rc == TROVE_ENOMEM && x == NULL));
    for (int m = 0; rc == 0 && m < 1000; m++) { /* the first write copies out of the map */
      trove_alloc_fail_after(m, false);
      int arc = trove_index_add(x, 1, v, D, NULL);
      trove_alloc_fail_after(-1, false);
      CHECK(arc == 0 || arc == TROVE_ENOMEM);
      CHECK(trove_index_count(x) == 75 + (arc == 0));
      if (arc == 0)
        break;
    }
    trove_alloc_fail_after(-1, false);
    trove_index_destroy(x);
  }
  CHECK(rc == 0 && n > 5);
  free(v);
}

int main(void) {
  seed = check_seed("index_io_test");
  snprintf(dir, sizeof dir, "/tmp/trove-index-io-%d", (int)getpid());
  snprintf(path, sizeof path, "%s/t.idx", dir);
  if (mkdir(dir, 0700)) {
    perror(dir);
    return 1;
  }
  RUN(restart_gives_same_answers_and_stays_writable);
  RUN(empty_index_round_trips);
  RUN(tag_survives_save_load_and_compaction);
  RUN(missing_file_folder_and_arguments_are_reported);
  RUN(dimension_mismatch_is_erange);
  RUN(damaged_headers_and_checksums_are_ecorrupt);
  RUN(every_flipped_byte_is_detected);
  RUN(bad_structure_behind_valid_checksums_is_ecorrupt);
  RUN(save_failures_leave_the_old_file_whole);
  RUN(load_allocation_failures_are_clean);
  char cmd[200];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0)
    fprintf(stderr, "could not remove %s\n", dir);
  return check_done("index_io_test");
}
