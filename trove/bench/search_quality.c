/* search_quality.c: search quality on the Python 3.11 docs. Builds (once,
 * cached) a trove database and vector index of the corpus straight from the
 * modules: extract -> passages -> embed -> store + index, without the scan
 * pipeline; then runs the query set (bench/queries/python-docs.tsv) in the
 * three modes and prints, per mode, two result lines in the peers format
 * (/work/shared/peers/README.md):
 *   peer=trove workload=search-quality threads=1 param=MODE-SETTINGS seconds=S
 *       metric=R unit=recall@10          (and the same with metric=X unit=mrr@10)
 * recall@10: share of queries with a target page in the top 10 items;
 * MRR@10: mean of 1/rank of the first target within the top 10 (0 if none);
 * seconds: the mean time of one query (embedding it included), one run.
 *
 * Usage: search_quality [--build-only] [--sweep] [CORPUS [QUERIES [DIR]]]
 *   CORPUS   /usr/share/doc/python3.11/html
 *   QUERIES  trove/bench/queries/python-docs.tsv (compiled-in path)
 *   DIR      $TROVE_BENCH_DIR or /tmp/trove-search-quality: the cache. A page
 *            already embedded is not embedded again, so an interrupted
 *            build resumes; the index is rebuilt when the DB's vector
 *            version moved. Delete DIR to start over.
 * --sweep also prints the measures for a grid of fusion parameters (how the
 * defaults in search.h were chosen). Embedding the ~47,000 passages takes
 * tens of minutes on 2 shared cores; later runs take seconds.
 */
#include "extract.h"
#include "index.h"
#include "model.h"
#include "passage.h"
#include "search.h"
#include "store.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#ifndef TROVE_QUERIES
#define TROVE_QUERIES "trove/bench/queries/python-docs.tsv"
#endif

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- the corpus ------------------------------------------------------------ */

static char **paths;
static size_t n_paths, cap_paths;

static int collect(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)ftw;
  size_t l = strlen(path);
  if (flag != FTW_F || l < 5 || strcmp(path + l - 5, ".html") != 0)
    return 0;
  if (n_paths == cap_paths) {
    cap_paths = cap_paths ? cap_paths * 2 : 1024;
    paths = realloc(paths, cap_paths * sizeof *paths);
    if (!paths)
      return 1;
  }
  paths[n_paths++] = strdup(path);
  return 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
    free(b);
    b = NULL;
  }
  fclose(f);
  *len = (size_t)n;
  return b;
}

/* Stores and embeds one page unless it already has vectors. */
static int add_page(trove_store *st, trove_embedder *emb, int64_t src, const char *root,
                    const char *path, size_t *n_pass, trove_err *err) {
  const char *rel = path + strlen(root);
  while (*rel == '/')
    rel++;
  trove_store_match m = {0};
  const char *ids[1] = {rel};
  int rc = trove_store_items_match(st, src, ids, 1, &m, err);
  if (rc)
    return rc;
  if (m.item_id) {
    trove_store_passage *ps = NULL;
    size_t np = 0;
    rc = trove_store_passages_get(st, m.item_id, &ps, &np, err);
    bool done = false;
    if (!rc && np) {
      float *v = NULL;
      size_t dim;
      done = trove_store_vector_get(st, ps[np - 1].id, trove_embedder_name(emb), &v, &dim,
                                    NULL) == 0;
      trove_free(v);
    }
    trove_store_passages_free(ps, np);
    trove_store_match_clear(&m, 1);
    if (rc || done)
      return rc;
  }
  size_t len;
  char *html = slurp(path, &len);
  if (!html)
    return trove_err_set(err, TROVE_EIO, "cannot read %s", path);
  trove_doc *doc = NULL;
  trove_passages ps = {0};
  trove_buf heads = {0};
  int64_t *pids = NULL;
  trove_store_passage *sp = NULL;
  const char **texts = NULL;
  float *vecs = NULL;
  if ((rc = trove_extract_html(html, len, NULL, &doc, err)))
    goto out;
  for (size_t b = 0; b < doc->n_blocks; b++)
    if (doc->blocks[b].kind == TROVE_BLOCK_HEADING) {
      if (heads.len)
        trove_buf_putc(&heads, '\n');
      trove_buf_append(&heads, doc->text + doc->blocks[b].start, doc->blocks[b].len);
    }
  trove_store_item it = {.external_id = rel, .type = TROVE_ITEM_LOCAL, .title = doc->title,
                         .description = doc->excerpt, .headings = heads.data ? heads.data : "",
                         .text = doc->text, .is_link_hub = doc->is_link_hub,
                         .process_version = TROVE_EXTRACT_VERSION};
  int64_t item = 0;
  if ((rc = trove_passage_split(emb, doc->title, doc->text, doc->text_len, doc->blocks,
                                doc->n_blocks, NULL, &ps, err)))
    goto out;
  size_t dim = trove_embedder_dim(emb);
  pids = calloc(ps.n + 1, sizeof *pids);
  sp = calloc(ps.n + 1, sizeof *sp);
  texts = calloc(ps.n + 1, sizeof *texts);
  vecs = malloc((ps.n + 1) * dim * sizeof *vecs);
  if (!pids || !sp || !texts || !vecs) {
    rc = TROVE_ENOMEM;
    goto out;
  }
  for (size_t i = 0; i < ps.n; i++) {
    sp[i] = (trove_store_passage){.ordinal = (int64_t)i, .start = (int64_t)ps.v[i].start,
                                  .end = (int64_t)ps.v[i].end, .heading = ps.v[i].heading};
    texts[i] = ps.v[i].input;
  }
  if (ps.n && (rc = trove_embedder_embed_batch(emb, texts, NULL, ps.n, vecs, err)))
    goto out;
  if ((rc = trove_store_begin(st, err)))
    goto out;
  if (!(rc = trove_store_item_upsert(st, src, &it, &item, err)) &&
      !(rc = trove_store_passages_replace(st, item, sp, ps.n, pids, NULL, err)))
    for (size_t i = 0; i < ps.n && !rc; i++)
      rc = trove_store_vector_put(st, pids[i], trove_embedder_name(emb), vecs + i * dim, dim,
                                  err);
  if (rc)
    trove_store_rollback(st);
  else
    rc = trove_store_commit(st, err);
  *n_pass += ps.n;
out:
  free(pids);
  free(sp);
  free(texts);
  free(vecs);
  trove_buf_free(&heads);
  trove_passages_free(&ps);
  trove_doc_destroy(doc);
  free(html);
  return rc;
}

/* Builds the vector index from the DB's vectors, or loads the cached one
 * when the DB has not changed since it was saved. */
static int load_index(trove_store *st, const char *model, const char *dir, trove_index **out,
                      trove_err *err) {
  char path[4096], vpath[4200];
  snprintf(path, sizeof path, "%s/index.hnsw", dir);
  snprintf(vpath, sizeof vpath, "%s/index.version", dir);
  int64_t version = 0, count = 0;
  size_t dim = 0;
  int rc = trove_store_vectors_version(st, model, &version, &dim, &count, err);
  if (rc)
    return rc;
  long long saved = -1;
  FILE *f = fopen(vpath, "r");
  if (f) {
    if (fscanf(f, "%lld", &saved) != 1)
      saved = -1;
    fclose(f);
  }
  if (saved == version && trove_index_load(path, (uint32_t)dim, out, NULL) == 0)
    return 0;
  trove_index_params p;
  trove_index_params_default(&p, (uint32_t)dim);
  if ((rc = trove_index_create(&p, out, err)))
    return rc;
  enum { CHUNK = 4096 };
  int64_t *ids = malloc(CHUNK * sizeof *ids);
  float *vecs = malloc(CHUNK * dim * sizeof *vecs);
  uint64_t *uids = malloc(CHUNK * sizeof *uids);
  int64_t after = 0;
  double t0 = now();
  while (ids && vecs && uids) {
    size_t n = 0;
    if ((rc = trove_store_vectors_next(st, model, after, CHUNK, dim, ids, vecs, &n, err)) ||
        n == 0)
      break;
    for (size_t i = 0; i < n; i++)
      uids[i] = (uint64_t)ids[i];
    if ((rc = trove_index_add_batch(*out, n, uids, vecs, dim, 0, err)))
      break;
    after = ids[n - 1];
  }
  if (!ids || !vecs || !uids)
    rc = TROVE_ENOMEM;
  free(ids);
  free(vecs);
  free(uids);
  if (!rc && (rc = trove_index_save(*out, path, err)) == 0) {
    f = fopen(vpath, "w");
    if (f) {
      fprintf(f, "%lld\n", (long long)version);
      fclose(f);
    }
  }
  fprintf(stderr, "# index of %lld vectors built in %.1fs\n", (long long)count, now() - t0);
  return rc;
}

static int build(const char *root, const char *dir, trove_store **st, trove_embedder **emb,
                 trove_index **idx, trove_err *err) {
  mkdir(dir, 0755);
  char db[4096];
  snprintf(db, sizeof db, "%s/trove.db", dir);
  trove_store_opts so = {.path = db};
  int rc = trove_store_open(&so, st, err);
  if (!rc)
    rc = trove_embedder_open_use_lite(NULL, emb, err);
  if (rc)
    return rc;
  int64_t src = 0;
  rc = trove_store_source_add(*st, "pydocs", "fs", root, NULL, &src, err);
  if (rc == TROVE_EEXIST) {
    trove_store_source s = {0};
    rc = trove_store_source_get(*st, "pydocs", &s, err);
    src = s.id;
    trove_store_source_clear(&s);
  }
  if (rc)
    return rc;
  if (nftw(root, collect, 16, FTW_PHYS) != 0 || n_paths == 0)
    return trove_err_set(err, TROVE_ENOENT, "no .html pages under %s", root);
  qsort(paths, n_paths, sizeof *paths, cmp_str);
  size_t n_pass = 0;
  double t0 = now();
  for (size_t i = 0; i < n_paths; i++) {
    rc = add_page(*st, *emb, src, root, paths[i], &n_pass, err);
    if (rc && rc != TROVE_ENOMEM && rc != TROVE_EIO) {
      fprintf(stderr, "# %s: %s (skipped)\n", paths[i], err->msg);
      trove_err_clear(err);
      rc = 0;
    }
    if (rc)
      return rc;
    if (n_pass && (i % 25 == 0 || i + 1 == n_paths))
      fprintf(stderr, "# %zu/%zu pages, %zu passages embedded, %.0f passages/s\n", i + 1,
              n_paths, n_pass, (double)n_pass / (now() - t0));
  }
  return load_index(*st, trove_embedder_name(*emb), dir, idx, err);
}

/* ---- the query set ---------------------------------------------------------- */

typedef struct query {
  char *text;
  char *targets[4];
  size_t n_targets;
} query;

static query *read_queries(const char *path, size_t *n) {
  FILE *f = fopen(path, "r");
  if (!f)
    return NULL;
  query *q = NULL;
  size_t cap = 0;
  char line[4096];
  *n = 0;
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = '\0';
    if (!line[0] || line[0] == '#')
      continue;
    char *tab = strchr(line, '\t');
    if (!tab)
      continue;
    *tab = '\0';
    if (*n == cap) {
      cap = cap ? cap * 2 : 64;
      q = realloc(q, cap * sizeof *q);
    }
    query *x = &q[(*n)++];
    memset(x, 0, sizeof *x);
    x->text = strdup(line);
    for (char *t = strtok(tab + 1, " \t,"); t && x->n_targets < 4; t = strtok(NULL, " \t,"))
      x->targets[x->n_targets++] = strdup(t);
  }
  fclose(f);
  return q;
}

typedef struct measure {
  double recall, mrr, seconds;
} measure;

static measure evaluate(trove_store *st, trove_index *idx, trove_embedder *emb, const query *q,
                        size_t nq, const trove_search_params *p, bool verbose) {
  measure m = {0, 0, 0};
  double t0 = now();
  for (size_t i = 0; i < nq; i++) {
    trove_search_result *r = NULL;
    size_t n = 0;
    trove_err err = {0};
    if (trove_search_run(st, idx, emb, q[i].text, p, &r, &n, &err)) {
      fprintf(stderr, "# query \"%s\": %s\n", q[i].text, err.msg);
      continue;
    }
    size_t rank = 0;
    for (size_t j = 0; j < n && j < 10 && !rank; j++)
      for (size_t t = 0; t < q[i].n_targets; t++)
        if (r[j].external_id && strcmp(r[j].external_id, q[i].targets[t]) == 0)
          rank = j + 1;
    if (rank) {
      m.recall += 1;
      m.mrr += 1.0 / (double)rank;
    }
    if (verbose)
      fprintf(stderr, "# %-8s %2zu  %s -> %s\n", trove_search_mode_name(p->mode), rank,
              q[i].text, n ? r[0].external_id : "-");
    trove_search_results_free(r, n);
  }
  if (nq) {
    m.recall /= (double)nq;
    m.mrr /= (double)nq;
    m.seconds = (now() - t0) / (double)nq;
  }
  return m;
}

static void report(const char *param, trove_search_mode mode, measure m) {
  printf("peer=trove workload=search-quality threads=1 param=%s-%s seconds=%.6f metric=%.3f "
         "unit=recall@10\n",
         trove_search_mode_name(mode), param, m.seconds, m.recall);
  printf("peer=trove workload=search-quality threads=1 param=%s-%s seconds=%.6f metric=%.3f "
         "unit=mrr@10\n",
         trove_search_mode_name(mode), param, m.seconds, m.mrr);
  fflush(stdout);
}

static void sweep(trove_store *st, trove_index *idx, trove_embedder *emb, const query *q,
                  size_t nq) {
  static const double ks[] = {20, 60};
  static const double wsem[] = {0.6, 1.0, 1.5};
  static const size_t aggs[] = {1, 3};
  static const double hubs[] = {1.0, 0.5};
  for (size_t a = 0; a < 2; a++)
    for (size_t b = 0; b < 3; b++)
      for (size_t c = 0; c < 2; c++)
        for (size_t d = 0; d < 2; d++) {
          trove_search_params p;
          trove_search_params_default(&p);
          p.rrf_k = ks[a];
          p.w_semantic = wsem[b];
          p.agg_top = aggs[c];
          p.hub_weight = hubs[d];
          p.no_highlight = true; /* ranking only: the highlight does not change it */
          char param[128];
          snprintf(param, sizeof param, "k%.0f-wsem%.1f-agg%zu-hub%.1f", p.rrf_k, p.w_semantic,
                   p.agg_top, p.hub_weight);
          report(param, p.mode, evaluate(st, idx, emb, q, nq, &p, false));
        }
}

int main(int argc, char **argv) {
  bool build_only = false, do_sweep = false, verbose = false;
  const char *pos[3] = {"/usr/share/doc/python3.11/html", TROVE_QUERIES, NULL};
  size_t np = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--build-only") == 0)
      build_only = true;
    else if (strcmp(argv[i], "--sweep") == 0)
      do_sweep = true;
    else if (strcmp(argv[i], "-v") == 0)
      verbose = true;
    else if (np < 3)
      pos[np++] = argv[i];
  }
  const char *dir = pos[2];
  if (!dir)
    dir = getenv("TROVE_BENCH_DIR");
  if (!dir || !*dir)
    dir = "/tmp/trove-search-quality";
  trove_store *st = NULL;
  trove_embedder *emb = NULL;
  trove_index *idx = NULL;
  trove_err err = {0};
  double t0 = now();
  int rc = build(pos[0], dir, &st, &emb, &idx, &err);
  if (rc) {
    fprintf(stderr, "search_quality: %s\n", err.msg[0] ? err.msg : trove_strerror(rc));
    return 1;
  }
  fprintf(stderr, "# corpus ready in %.1fs (%zu pages, cache %s)\n", now() - t0, n_paths, dir);
  if (!build_only) {
    size_t nq = 0;
    query *q = read_queries(pos[1], &nq);
    if (!q) {
      fprintf(stderr, "search_quality: cannot read the query set %s\n", pos[1]);
      return 1;
    }
    static const trove_search_mode modes[] = {TROVE_SEARCH_KEYWORD, TROVE_SEARCH_SEMANTIC,
                                              TROVE_SEARCH_HYBRID};
    for (size_t i = 0; i < 3; i++) {
      trove_search_params p;
      trove_search_params_default(&p);
      p.mode = modes[i];
      report("defaults", p.mode, evaluate(st, idx, emb, q, nq, &p, verbose));
    }
    if (do_sweep)
      sweep(st, idx, emb, q, nq);
    for (size_t i = 0; i < nq; i++) {
      free(q[i].text);
      for (size_t t = 0; t < q[i].n_targets; t++)
        free(q[i].targets[t]);
    }
    free(q);
  }
  trove_index_destroy(idx);
  trove_embedder_close(emb);
  trove_store_close(st);
  for (size_t i = 0; i < n_paths; i++)
    free(paths[i]);
  free(paths);
  return 0;
}
