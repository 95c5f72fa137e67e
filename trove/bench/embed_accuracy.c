/* embed_accuracy.c: how close each reduced-precision kernel path's vectors
 * are to the fp32 reference, on a real corpus's passages, and whether
 * search finds the same passages with them.
 *
 * Reads up to N passages (EMBED_N, default 4000, spread evenly over the
 * corpus) from a trove database that a scan filled, embeds them on the fp32
 * path and on every other path this CPU has, and prints per path:
 *   - the cosine of each passage's vector to its fp32 vector: the share at
 *     or above 0.995 (the bar: 99%), the 1st percentile, the minimum;
 *   - top-10 agreement: for each query of the query files given (the middle
 *     column of `kind<TAB>query<TAB>targets`), the share of the fp32 search's
 *     10 best pages (each page scored by its nearest passage, as semantic
 *     search ranks them) that the path's search also returns, averaged (the
 *     bar: 0.95); and the same for the 10 nearest passages, a stricter
 *     measure since neighbouring passages of a page nearly tie. Three ways:
 *     query and passages both on the path, and each mixed with fp32, since
 *     one index may hold vectors of both paths.
 * Lines in the peers format (/work/shared/peers/README.md):
 *   peer=trove workload=embed-accuracy threads=T param=PATH-cos>=0.995 seconds=S metric=X unit=share
 *   ... param=PATH-cos-p1 unit=cosine, param=PATH-top10 unit=agreement, ...
 * Usage: embed_accuracy DB [QUERIES.tsv ...]; the model from TROVE_MODEL or
 * the default dir. Figures are printed, never asserted.
 */
#include "model.h"
#include "scan.h" /* trove_scan_use_sluice */

#include "bench.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { DIM = 512, TOP = 10, MAX_QUERIES = 4096 };

typedef struct texts {
  char **v;
  long *item; /* per text: the page it belongs to (passages only) */
  size_t n;
} texts;

static void texts_push(texts *t, const char *s, size_t len, long item) {
  if ((t->n & (t->n + 1)) == 0 || t->n == 0) {
    t->v = realloc(t->v, (2 * t->n + 2) * sizeof *t->v);
    t->item = realloc(t->item, (2 * t->n + 2) * sizeof *t->item);
  }
  t->item[t->n] = item;
  t->v[t->n] = malloc(len + 1);
  memcpy(t->v[t->n], s, len);
  t->v[t->n++][len] = 0;
}

/* Up to want passages' text, every step-th passage by id. */
static int read_passages(const char *db, size_t want, texts *out) {
  sqlite3 *h;
  if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
    fprintf(stderr, "embed_accuracy: cannot open %s: %s\n", db, sqlite3_errmsg(h));
    sqlite3_close(h);
    return -1;
  }
  sqlite3_stmt *st;
  sqlite3_int64 total = 0;
  if (sqlite3_prepare_v2(h, "SELECT count(*) FROM passages", -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    total = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_int64 step = total > (sqlite3_int64)want ? total / (sqlite3_int64)want : 1;
  const char *sql = "SELECT substr(CAST(i.text AS BLOB), p.start_byte + 1, p.end_byte - "
                    "p.start_byte), p.item_id FROM passages p JOIN items i ON i.id = p.item_id "
                    "WHERE p.id % ?1 = 0 AND p.end_byte > p.start_byte ORDER BY p.id LIMIT ?2";
  int rc = sqlite3_prepare_v2(h, sql, -1, &st, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_int64(st, 1, step);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)want);
    while (sqlite3_step(st) == SQLITE_ROW)
      texts_push(out, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0),
                 (long)sqlite3_column_int64(st, 1));
  } else {
    fprintf(stderr, "embed_accuracy: %s is not a trove database: %s\n", db, sqlite3_errmsg(h));
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
  return rc == SQLITE_OK && out->n ? 0 : -1;
}

/* The query column of each query file's lines. */
static void read_queries(char **files, int nfiles, texts *out) {
  char line[8192];
  for (int f = 0; f < nfiles; f++) {
    FILE *in = fopen(files[f], "r");
    if (!in) {
      fprintf(stderr, "embed_accuracy: cannot read %s\n", files[f]);
      continue;
    }
    while (fgets(line, sizeof line, in) && out->n < MAX_QUERIES) {
      char *q = strchr(line, '\t'), *end = q ? strchr(q + 1, '\t') : NULL;
      if (line[0] != '#' && q && end && end > q + 1)
        texts_push(out, q + 1, (size_t)(end - q - 1), 0);
    }
    fclose(in);
  }
}

static float *embed(trove_embedder *e, const texts *t) {
  float *v = malloc(t->n * DIM * sizeof *v);
  trove_err err = {0};
  double t0 = bench_now();
  if (trove_embedder_embed_batch(e, (const char *const *)t->v, NULL, t->n, v, &err)) {
    fprintf(stderr, "embed_accuracy: %s\n", err.msg);
    exit(1);
  }
  fprintf(stderr, "# %zu texts on %s in %.1f s\n", t->n, trove_embedder_kernel(e),
          bench_now() - t0);
  return v;
}

static double dot(const float *a, const float *b) {
  double s = 0;
  for (size_t k = 0; k < DIM; k++)
    s += (double)a[k] * b[k];
  return s;
}

static void report(const char *path, const char *what, double value, const char *unit);

/* The TOP keys nearest to q, into best: a key is a passage (item NULL) or
 * the page it belongs to, scored by its nearest passage. */
static void top10(const float *q, const float *p, size_t n, const long *item, long *best) {
  double score[TOP];
  size_t have = 0;
  for (size_t i = 0; i < n; i++) {
    double s = dot(q, p + i * DIM);
    long key = item ? item[i] : (long)i;
    size_t at = have;
    for (size_t k = 0; k < have; k++)
      if (best[k] == key)
        at = k; /* the page is listed: move it up if this passage is nearer */
    if (at < have && s <= score[at])
      continue;
    if (at == have && have == TOP && s <= score[TOP - 1])
      continue;
    if (at == have)
      at = have < TOP ? have++ : TOP - 1;
    while (at > 0 && score[at - 1] < s) {
      score[at] = score[at - 1], best[at] = best[at - 1];
      at--;
    }
    score[at] = s, best[at] = key;
  }
  for (size_t k = have; k < TOP; k++)
    best[k] = -1 - (long)k;
}

/* Mean share of the reference top 10 found by (q, p)'s top 10. */
static double agreement(const long *ref, const float *q, const float *p, size_t nq, size_t np,
                        const long *item) {
  double sum = 0;
  for (size_t i = 0; i < nq; i++) {
    long got[TOP];
    size_t same = 0;
    top10(q + i * DIM, p, np, item, got);
    for (size_t a = 0; a < TOP; a++)
      for (size_t b = 0; b < TOP; b++)
        same += ref[i * TOP + a] == got[b];
    sum += (double)same / TOP;
  }
  return nq ? sum / (double)nq : 0;
}

/* The three agreements of one path at one granularity (item NULL: passages). */
static void agreements(const char *path, const char *what, const float *ref, const float *qref,
                       const float *got, const float *qgot, const texts *pass, size_t nq,
                       const long *item) {
  long *reftop = malloc((nq + 1) * TOP * sizeof *reftop);
  for (size_t i = 0; i < nq; i++)
    top10(qref + i * DIM, ref, pass->n, item, reftop + i * TOP);
  char name[64];
  snprintf(name, sizeof name, "top10-%s", what);
  report(path, name, agreement(reftop, qgot, got, nq, pass->n, item), "agreement");
  snprintf(name, sizeof name, "top10-%s-query-on-fp32-index", what);
  report(path, name, agreement(reftop, qgot, ref, nq, pass->n, item), "agreement");
  snprintf(name, sizeof name, "top10-%s-fp32-query-on-index", what);
  report(path, name, agreement(reftop, qref, got, nq, pass->n, item), "agreement");
  free(reftop);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void report(const char *path, const char *what, double value, const char *unit) {
  char param[160];
  snprintf(param, sizeof param, "%s-%s", path, what);
  bench_line("embed-accuracy", 0, param, 0, value, unit);
}

int main(int argc, char **argv) {
  trove_scan_use_sluice(); /* tasks on sluice workers, as in trove */
  if (argc < 2) {
    fprintf(stderr, "usage: embed_accuracy DB [QUERIES.tsv ...]\n");
    return 2;
  }
  texts pass = {0}, qs = {0};
  if (read_passages(argv[1], (size_t)bench_env("EMBED_N", 4000), &pass))
    return 1;
  read_queries(argv + 2, argc - 2, &qs);
  trove_embedder *e;
  trove_err err = {0};
  if (trove_embedder_open_use_lite(NULL, &e, &err) ||
      trove_embedder_set_kernel(e, "fp32", &err)) {
    fprintf(stderr, "embed_accuracy: %s\n", err.msg);
    return 1;
  }
  float *ref = embed(e, &pass), *qref = qs.n ? embed(e, &qs) : NULL;
  static const char *const paths[] = {"int8", "bf16"};
  for (size_t p = 0; p < sizeof paths / sizeof *paths; p++) {
    if (trove_embedder_set_kernel(e, paths[p], &err)) {
      fprintf(stderr, "# path %s not measured: %s\n", paths[p], err.msg);
      continue;
    }
    float *got = embed(e, &pass), *qgot = qs.n ? embed(e, &qs) : NULL;
    double *cos = malloc(pass.n * sizeof *cos);
    size_t ok = 0;
    for (size_t i = 0; i < pass.n; i++)
      ok += (cos[i] = dot(ref + i * DIM, got + i * DIM)) >= 0.995;
    qsort(cos, pass.n, sizeof *cos, cmp_double);
    fprintf(stderr, "# %s over %zu passages: cosine min %.5f, p1 %.5f, median %.5f\n", paths[p],
            pass.n, cos[0], cos[pass.n / 100], cos[pass.n / 2]);
    report(paths[p], "cos>=0.995", (double)ok / (double)pass.n, "share");
    report(paths[p], "cos-p1", cos[pass.n / 100], "cosine");
    report(paths[p], "cos-min", cos[0], "cosine");
    if (qs.n) {
      fprintf(stderr, "# top-10 agreement with fp32 over %zu queries\n", qs.n);
      agreements(paths[p], "pages", ref, qref, got, qgot, &pass, qs.n, pass.item);
      agreements(paths[p], "passages", ref, qref, got, qgot, &pass, qs.n, NULL);
    }
    free(got), free(qgot), free(cos);
  }
  trove_embedder_close(e);
  return 0;
}
