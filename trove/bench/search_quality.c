/* search_quality.c: indexing and search quality on the benchmark corpora.
 * For each corpus it builds (once, cached) a trove database and vector index
 * with the scan pipeline itself, printing the indexing figures when it
 * embeds:
 *   peer=trove workload=index-CORPUS threads=T param=scan-e2e seconds=WALL
 *       metric=P unit=passages/s         (and param=embed-stage: the embed
 *                                          stage's own time)
 * then evaluates the corpus's query set in keyword, semantic and hybrid mode
 * with the evaluation module (eval.h, the code behind `trove eval`): a table
 * per mode (recall@10, MRR@10, nDCG@10 for all queries and each kind, warm
 * p50 and mean latency) and the same figures as peers result lines
 * (/work/shared/peers/README.md), param=CORPUS-MODE-KIND. After the last
 * corpus it prints the mean across corpora (each corpus weighs the same), as
 * corpus "mean".
 *
 * Usage: search_quality [--build-only] [--sweep] [--grid SPEC] [--no-model]
 *                       [-v] [--corpora FILE] [CORPUS|all [DIR]]
 *   CORPUS     a corpus name, or all (the default)
 *   --corpora  the corpus list; default: the output of
 *              `scripts/corpora.sh list`, or the Python docs alone
 *              (/usr/share/doc/python3.11/html with
 *              trove/bench/queries/python-docs.tsv) when there is no script.
 *              One corpus a line:
 *              name<TAB>html_root<TAB>include_globs<TAB>exclude_dirs<TAB>queries
 *              (globs and dirs comma-separated; relative paths are relative
 *              to the repository root)
 *   DIR        $TROVE_BENCH_DIR or /tmp/trove-bench: DIR/CORPUS/ holds that
 *              corpus's database and index (the scan embeds only new and
 *              changed pages, so an interrupted build resumes). Delete it to
 *              start over, e.g. after changing a corpus's globs.
 *   --no-model builds keyword-only databases and evaluates keyword mode.
 *   --sweep    also evaluates hybrid mode on a grid of fusion parameters per
 *              corpus (param=CORPUS-hybrid-SETTINGS-KIND, then their mean
 *              across corpora) and, with several corpora, a leave-one-
 *              corpus-out table: for each corpus the setting best on the
 *              others and its figures on the one left out. How the defaults
 *              in search.h are chosen: a setting is kept only if it holds up
 *              on every corpus left out.
 *   --grid     the sweep's grid (implies --sweep): "name=v,v,...;name=v,..."
 *              over trove_search_params fields, e.g.
 *              "w_title=10,20;w_semantic=0.4,0.6" (the default grid is
 *              w_title x w_headings x w_semantic; at most 96 points).
 *   -v         prints each query's rank and top page to stderr.
 * Embedding a corpus of ~50,000 passages takes many minutes on 2 cores; later
 * runs take seconds.
 */
#include "eval.h"
#include "model.h"
#include "scan.h"
#include "search.h"
#include "sluice.h"
#include "store.h"
#include "vectors.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef TROVE_ROOT
#define TROVE_ROOT "."
#endif

enum { MAX_CORPORA = 32, MAX_GLOBS = 16, N_MODES = 3, N_GRID = 96, MAX_AXES = 6,
       MAX_VALUES = 12 };

static const char python_corpus[] = "python\t/usr/share/doc/python3.11/html\t**/*.html\t"
                                    "_static,_sources,_images\ttrove/bench/queries/python-docs.tsv\n";

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- the corpus list --------------------------------------------------------- */

typedef struct corpus {
  char *line; /* owns the strings below */
  const char *name, *root, *queries;
  const char *inc[MAX_GLOBS], *exc[MAX_GLOBS];
  size_t n_inc, n_exc;
} corpus;

/* A path as given, or relative to the repository root; in buf. */
static const char *from_root(const char *path, char *buf, size_t cap) {
  if (path[0] == '/')
    return path;
  snprintf(buf, cap, "%s/%s", TROVE_ROOT, path);
  return buf;
}

/* Cuts the comma-separated list s into v[0..*n); false when over cap. */
static bool split_list(char *s, const char **v, size_t cap, size_t *n) {
  *n = 0;
  for (char *t = strtok(s, ","); t; t = strtok(NULL, ","))
    if (*n == cap)
      return false;
    else
      v[(*n)++] = t;
  return true;
}

/* Parses one list line (its newline removed) into c, which takes it. */
static bool parse_corpus(char *line, corpus *c) {
  char *f[5], *p = line;
  size_t n = 0;
  while (p && n < 5) {
    f[n++] = p;
    if ((p = strchr(p, '\t')) != NULL)
      *p++ = '\0';
  }
  memset(c, 0, sizeof *c);
  c->line = line;
  if (n != 5 || p || !f[0][0] || !f[1][0] || !f[2][0] || !f[4][0])
    return false;
  c->name = f[0];
  c->root = f[1];
  c->queries = f[4];
  return split_list(f[2], c->inc, MAX_GLOBS, &c->n_inc) &&
         split_list(f[3], c->exc, MAX_GLOBS, &c->n_exc);
}

/* Reads the corpus list from in: v[0..*n) of them, those named `want` (or
 * all). Returns 0, or 1 after saying what is wrong. */
static int read_corpora(FILE *in, const char *from, const char *want, corpus *v, size_t *n) {
  char buf[8192];
  *n = 0;
  for (size_t line = 1; fgets(buf, sizeof buf, in); line++) {
    buf[strcspn(buf, "\r\n")] = '\0';
    if (!buf[0] || buf[0] == '#')
      continue;
    char *copy = strdup(buf);
    corpus c;
    if (!copy || !parse_corpus(copy, &c)) {
      fprintf(stderr, "search_quality: %s:%zu: expected name<TAB>html_root<TAB>globs<TAB>"
              "exclude_dirs<TAB>queries_file\n", from, line);
      free(copy);
      return 1;
    }
    if ((strcmp(want, "all") != 0 && strcmp(want, c.name) != 0) || *n == MAX_CORPORA)
      free(copy);
    else
      v[(*n)++] = c;
  }
  if (*n == 0)
    fprintf(stderr, "search_quality: no corpus \"%s\" in %s\n", want, from);
  return *n == 0;
}

/* The corpora to run: from `file`, else from scripts/corpora.sh, else the
 * Python docs. Returns 0 or 1 (said why). */
static int list_corpora(const char *file, const char *want, corpus *v, size_t *n) {
  char script[4096];
  snprintf(script, sizeof script, "%s/scripts/corpora.sh", TROVE_ROOT);
  FILE *in = NULL;
  int rc = 1;
  if (file) {
    if ((in = fopen(file, "r")) == NULL)
      perror(file);
    rc = in ? read_corpora(in, file, want, v, n) : 1;
    if (in)
      fclose(in);
  } else if (access(script, X_OK) == 0) {
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "'%s' list", script);
    if ((in = popen(cmd, "r")) == NULL)
      perror(script);
    rc = in ? read_corpora(in, script, want, v, n) : 1;
    if (in && pclose(in) != 0 && rc == 0) {
      fprintf(stderr, "search_quality: %s list failed\n", script);
      rc = 1;
    }
  } else {
    in = fmemopen((void *)python_corpus, sizeof python_corpus - 1, "r");
    rc = in ? read_corpora(in, "the built-in list", want, v, n) : 1;
    if (in)
      fclose(in);
  }
  return rc;
}

/* ---- building a corpus -------------------------------------------------------- */

/* Adds the corpus as an fs source of st named after it (kept when it is
 * there already: its globs then stay as first built). */
static int add_source(trove_store *st, const corpus *c, trove_err *err) {
  char root[4096], *config = NULL;
  int rc = trove_scan_fs_config(c->inc, c->n_inc, c->exc, c->n_exc, &config, err);
  rc = rc ? rc : trove_store_source_add(st, c->name, "fs", from_root(c->root, root, sizeof root),
                                        config, NULL, err);
  trove_free(config);
  if (rc == TROVE_EEXIST) {
    trove_err_clear(err);
    rc = 0;
  }
  return rc;
}

/* Prints the indexing figures of a scan that embedded: wall time against the
 * embed stage's own time (the end-to-end goal is wall <= 1.1 x embed stage:
 * the other stages hide behind it). */
static void report_scan(const corpus *c, const trove_scan_report *rep, double wall) {
  int threads = (int)sl_current_num_threads();
  printf("peer=trove workload=index-%s threads=%d param=scan-e2e seconds=%.3f metric=%.1f "
         "unit=passages/s\n", c->name, threads, wall, (double)rep->passages / wall);
  printf("peer=trove workload=index-%s threads=%d param=embed-stage seconds=%.3f metric=%.1f "
         "unit=passages/s\n", c->name, threads, rep->embed_busy,
         (double)rep->passages / rep->embed_busy);
  fprintf(stderr, "# %lld pages, %lld passages; wall %.1f s = %.3f x the embed stage's %.1f s\n",
          (long long)rep->embedded, (long long)rep->passages, wall, wall / rep->embed_busy,
          rep->embed_busy);
  fflush(stdout);
}

/* Builds the corpus database in dir, or brings it up to date, with trove's
 * own scan pipeline (what `trove scan` runs; the vector index kept in step
 * and saved), leaving *st and *vec open (*vec NULL without a model). */
static int build(const corpus *c, const char *dir, const trove_embedder *emb, trove_store **st,
                 trove_vectors **vec, trove_err *err) {
  char db[4096];
  if (snprintf(db, sizeof db, "%s/trove.db", dir) >= (int)sizeof db)
    return trove_err_set(err, TROVE_ERANGE, "the path %s is too long", dir);
  mkdir(dir, 0755);
  trove_store_opts so = {.path = db};
  int rc = trove_store_open(&so, st, err);
  rc = rc ? rc : add_source(*st, c, err);
  if (!rc && emb)
    rc = trove_vectors_open(*st, trove_embedder_name(emb), trove_embedder_dim(emb), NULL, vec,
                            err);
  if (rc)
    return rc;
  trove_scan_opts o = {.progress = TROVE_PROGRESS_LOG, .embedder = emb, .vectors = *vec};
  trove_scan_report rep;
  double t0 = now();
  if ((rc = trove_scan_source(*st, c->name, &o, &rep, err)))
    return rc;
  if (rep.embedded > 0) {
    char title[128];
    snprintf(title, sizeof title, "# scan %s", c->name);
    trove_scan_report_print(&rep, title, stderr);
    report_scan(c, &rep, now() - t0);
  }
  return 0;
}

/* ---- evaluating ------------------------------------------------------------- */

/* What every evaluation of the run shares. */
typedef struct bench {
  trove_embedder *emb; /* NULL: --no-model */
  bool sweep, verbose;
  trove_search_mode modes[N_MODES];
  size_t n_modes;
  trove_eval_result res[MAX_CORPORA][N_MODES];
  trove_eval_result grid[N_GRID][MAX_CORPORA];
  char grid_name[N_GRID][128];
  size_t n_grid, n_axes;
  struct axis *axes;
} bench;

/* ---- the sweep grid ------------------------------------------------------------ */

/* A ranking field of trove_search_params the grid may vary, by name. */
typedef struct knob {
  const char *name;
  size_t offset;
  bool is_size; /* a size_t field; else a double */
} knob;

#define KNOB_D(f) {#f, offsetof(trove_search_params, f), false}
#define KNOB_Z(f) {#f, offsetof(trove_search_params, f), true}
static const knob knobs[] = {
    KNOB_D(w_title),         KNOB_D(w_headings),      KNOB_D(w_text),
    KNOB_D(rrf_k),           KNOB_D(w_keyword),       KNOB_D(w_semantic),
    KNOB_D(all_words_boost), KNOB_D(no_match_semantic), KNOB_D(keyword_margin),
    KNOB_D(cosine_window),   KNOB_D(hub_weight),      KNOB_D(agg_decay),
    KNOB_D(fusion_alpha),    KNOB_D(fusion_rrf),
    KNOB_Z(keyword_depth),   KNOB_Z(vector_depth),    KNOB_Z(agg_top),
};

/* One axis of the grid: a knob and its values. */
typedef struct axis {
  const knob *k;
  double v[MAX_VALUES];
  size_t n;
} axis;

static const char default_grid[] = "w_title=5,10,20,40;w_headings=1,4,8;w_semantic=0.4,0.6";

static const knob *knob_find(const char *name, size_t len) {
  for (size_t i = 0; i < sizeof knobs / sizeof *knobs; i++)
    if (strlen(knobs[i].name) == len && strncmp(knobs[i].name, name, len) == 0)
      return &knobs[i];
  return NULL;
}

/* Parses SPEC, "name=v,v,...;name=v,...", into axes a[0..*n). Returns 0,
 * or 1 after saying what is wrong. */
static int grid_parse(const char *spec, axis *a, size_t *n) {
  *n = 0;
  for (const char *p = spec; *p;) {
    const char *end = p + strcspn(p, ";"), *eq = memchr(p, '=', (size_t)(end - p));
    const knob *k = eq ? knob_find(p, (size_t)(eq - p)) : NULL;
    if (!k || *n == MAX_AXES) {
      fprintf(stderr, "search_quality: --grid: \"%.*s\" is not name=value,...; names:",
              (int)(end - p), p);
      for (size_t i = 0; i < sizeof knobs / sizeof *knobs; i++)
        fprintf(stderr, " %s", knobs[i].name);
      fprintf(stderr, " (at most %d of them)\n", MAX_AXES);
      return 1;
    }
    axis *x = &a[(*n)++];
    *x = (axis){.k = k};
    for (const char *v = eq + 1; v < end && x->n < MAX_VALUES;) {
      char *stop;
      x->v[x->n++] = strtod(v, &stop);
      if (stop == v || (stop < end && *stop != ',')) {
        fprintf(stderr, "search_quality: --grid: bad value in \"%.*s\"\n", (int)(end - p), p);
        return 1;
      }
      v = stop < end ? stop + 1 : end;
    }
    p = *end ? end + 1 : end;
  }
  return 0;
}

/* Sets grid point g (mixed radix over the axes, the last fastest) in p and
 * its name in name. */
static void grid_point(const axis *a, size_t n_axes, size_t g, trove_search_params *p,
                       char *name, size_t cap) {
  size_t len = 0;
  name[0] = '\0';
  for (size_t i = n_axes; i-- > 0;) {
    double v = a[i].v[g % a[i].n];
    g /= a[i].n;
    char *field = (char *)p + a[i].k->offset;
    if (a[i].k->is_size)
      *(size_t *)field = (size_t)v;
    else
      *(double *)field = v;
  }
  for (size_t i = 0; i < n_axes && len < cap; i++) {
    double v = a[i].k->is_size ? (double)*(const size_t *)((const char *)p + a[i].k->offset)
                               : *(const double *)((const char *)p + a[i].k->offset);
    len += (size_t)snprintf(name + len, cap - len, "%s%s%g", i ? "-" : "", a[i].k->name, v);
  }
}

/* Hybrid mode at every point of the grid into b->grid[..][ci], printed as it
 * goes. */
static int sweep(bench *b, size_t ci, const corpus *c, trove_store *st, trove_index *idx,
                 const trove_eval_set *s, trove_err *err) {
  for (size_t g = 0; g < b->n_grid; g++) {
    trove_search_params p;
    trove_search_params_default(&p);
    p.no_highlight = true; /* ranking only: the highlight does not change it */
    grid_point(b->axes, b->n_axes, g, &p, b->grid_name[g], sizeof b->grid_name[g]);
    int rc = trove_eval_run(st, idx, b->emb, s, &p, false, NULL, &b->grid[g][ci], err);
    if (rc || (rc = trove_eval_print_peers(stdout, c->name, b->grid_name[g], &b->grid[g][ci], 1)))
      return rc;
  }
  return 0;
}

/* recall@10 + MRR@10 of all queries: what the leave-one-out choice maximises. */
static double merit(const trove_eval_result *r) {
  return r->cells[0].mean.recall + r->cells[0].mean.mrr;
}

/* Leave-one-corpus-out: for each corpus, the grid point best on the mean of
 * the others, and how that choice does on the corpus left out, beside the
 * keyword mode and the defaults there. A setting generalises when the row
 * holds up on every corpus. */
static void print_loco(const bench *b, const corpus *cs, size_t n) {
  printf("\nleave-one-corpus-out (recall@10 / MRR@10, all queries)\n");
  printf("  %-12s %-44s %-15s %-15s %-15s\n", "left out", "chosen on the others", "chosen",
         "hybrid default", "keyword");
  for (size_t out = 0; out < n; out++) {
    size_t best = 0;
    double best_m = -1;
    for (size_t g = 0; g < b->n_grid; g++) {
      double m = 0;
      for (size_t ci = 0; ci < n; ci++)
        m += ci == out ? 0 : merit(&b->grid[g][ci]);
      if (m > best_m)
        best_m = m, best = g;
    }
    const trove_eval_score *ch = &b->grid[best][out].cells[0].mean,
                           *hy = &b->res[out][N_MODES - 1].cells[0].mean,
                           *kw = &b->res[out][0].cells[0].mean;
    printf("  %-12s %-44s %.3f / %.3f   %.3f / %.3f   %.3f / %.3f\n", cs[out].name,
           b->grid_name[best], ch->recall, ch->mrr, hy->recall, hy->mrr, kw->recall, kw->mrr);
  }
}

/* Evaluates corpus c's query set on its database in every mode, into
 * b->res[ci], and prints the table and lines. */
static int evaluate(bench *b, size_t ci, const corpus *c, trove_store *st, trove_index *idx,
                    trove_err *err) {
  char buf[4096];
  trove_eval_set s = {0};
  int rc = trove_eval_set_load(from_root(c->queries, buf, sizeof buf), &s, err);
  rc = rc ? rc : trove_eval_set_check(&s, st, err);
  for (size_t m = 0; m < b->n_modes && !rc; m++) {
    trove_search_params p;
    trove_search_params_default(&p);
    p.mode = b->modes[m];
    rc = trove_eval_run(st, idx, b->emb, &s, &p, true, b->verbose ? stderr : NULL,
                        &b->res[ci][m], err);
  }
  if (!rc) {
    printf("\ncorpus %s: %zu queries\n\n", c->name, s.n);
    rc = trove_eval_print_table(stdout, b->res[ci], b->n_modes);
  }
  rc = rc ? rc : trove_eval_print_peers(stdout, c->name, NULL, b->res[ci], b->n_modes);
  if (!rc && b->sweep && idx)
    rc = sweep(b, ci, c, st, idx, &s, err);
  fflush(stdout);
  trove_eval_set_free(&s);
  return rc;
}

/* Builds and evaluates corpus c in DIR/NAME. */
/* Puts the embedder on $TROVE_KERNEL's path, else on fallback. */
static int use_kernel(bench *b, const char *fallback, trove_err *err) {
  const char *env = getenv("TROVE_KERNEL");
  return b->emb ? trove_embedder_set_kernel(b->emb, env && *env ? env : fallback, err) : 0;
}

/* The corpus is indexed on the default kernel path and its queries run on
 * fp32, as trove scan and trove search do (cli.h). */
static int run_corpus(bench *b, size_t ci, const corpus *c, const char *dir, bool build_only) {
  char sub[4096];
  snprintf(sub, sizeof sub, "%s/%s", dir, c->name);
  trove_store *st = NULL;
  trove_vectors *vec = NULL;
  trove_err err = {0};
  double t0 = now();
  int rc = use_kernel(b, "auto", &err);
  rc = rc ? rc : build(c, sub, b->emb, &st, &vec, &err);
  trove_index *idx = vec ? trove_vectors_index(vec) : NULL;
  if (!rc)
    fprintf(stderr, "# corpus %s ready in %.1fs (%zu vectors, cache %s)\n", c->name, now() - t0,
            idx ? trove_index_count(idx) : 0, sub);
  if (!rc && !build_only && !(rc = use_kernel(b, "fp32", &err)))
    rc = evaluate(b, ci, c, st, idx, &err);
  if (rc)
    fprintf(stderr, "search_quality: corpus %s: %s\n", c->name,
            err.msg[0] ? err.msg : trove_strerror(rc));
  trove_vectors_close(vec);
  trove_store_close(st);
  return rc;
}

/* Prints the mean across the n corpora: of each mode, and of each grid point. */
static void print_means(bench *b, size_t n) {
  trove_eval_result mean[N_MODES], col[MAX_CORPORA];
  for (size_t m = 0; m < b->n_modes; m++) {
    for (size_t ci = 0; ci < n; ci++)
      col[ci] = b->res[ci][m];
    trove_eval_mean(col, n, &mean[m]);
  }
  printf("\nmean of %zu corp%s\n\n", n, n == 1 ? "us" : "ora");
  trove_eval_print_table(stdout, mean, b->n_modes);
  trove_eval_print_peers(stdout, "mean", NULL, mean, b->n_modes);
  for (size_t g = 0; b->sweep && b->emb && g < b->n_grid; g++) {
    trove_eval_mean(b->grid[g], n, &mean[0]);
    trove_eval_print_peers(stdout, "mean", b->grid_name[g], mean, 1);
  }
}

int main(int argc, char **argv) {
  trove_scan_use_sluice(); /* tasks on sluice workers, as in trove */
  static bench b;
  bool build_only = false, no_model = false;
  const char *pos[2] = {"all", NULL}, *list = NULL, *grid = default_grid;
  static axis axes[MAX_AXES];
  size_t np = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--build-only") == 0)
      build_only = true;
    else if (strcmp(argv[i], "--sweep") == 0)
      b.sweep = true;
    else if (strcmp(argv[i], "--grid") == 0 && i + 1 < argc)
      b.sweep = true, grid = argv[++i];
    else if (strcmp(argv[i], "--no-model") == 0)
      no_model = true;
    else if (strcmp(argv[i], "-v") == 0)
      b.verbose = true;
    else if (strcmp(argv[i], "--corpora") == 0 && i + 1 < argc)
      list = argv[++i];
    else if (argv[i][0] != '-' && np < 2)
      pos[np++] = argv[i];
    else {
      fprintf(stderr, "usage: search_quality [--build-only] [--sweep] [--grid SPEC] [--no-model] [-v] "
              "[--corpora FILE] [CORPUS|all [DIR]]\n");
      return 2;
    }
  }
  if (grid_parse(grid, axes, &b.n_axes))
    return 2;
  b.axes = axes;
  b.n_grid = 1;
  for (size_t i = 0; i < b.n_axes; i++)
    b.n_grid *= axes[i].n;
  if (b.n_grid > N_GRID) {
    fprintf(stderr, "search_quality: --grid has %zu points; at most %d\n", b.n_grid, N_GRID);
    return 2;
  }
  const char *dir = pos[1] ? pos[1] : getenv("TROVE_BENCH_DIR");
  if (!dir || !*dir)
    dir = "/tmp/trove-bench";
  static corpus cs[MAX_CORPORA];
  size_t n = 0;
  if (list_corpora(list, pos[0], cs, &n))
    return 1;
  trove_err err = {0};
  if (!no_model && trove_embedder_open_use_lite(NULL, &b.emb, &err)) {
    fprintf(stderr, "search_quality: %s (or run with --no-model)\n", err.msg);
    return 1;
  }
  if (b.emb)
    trove_embedder_set_threads(b.emb, 1); /* the pipeline spreads calls over the pool */
  static const trove_search_mode modes[] = {TROVE_SEARCH_KEYWORD, TROVE_SEARCH_SEMANTIC,
                                            TROVE_SEARCH_HYBRID};
  memcpy(b.modes, modes, sizeof modes);
  b.n_modes = b.emb ? N_MODES : 1;
  mkdir(dir, 0755);
  int rc = 0;
  for (size_t i = 0; i < n && !rc; i++)
    rc = run_corpus(&b, i, &cs[i], dir, build_only);
  if (!rc && !build_only)
    print_means(&b, n);
  if (!rc && !build_only && b.sweep && b.emb && n > 1)
    print_loco(&b, cs, n);
  for (size_t i = 0; i < n; i++)
    free(cs[i].line);
  trove_embedder_close(b.emb);
  return rc != 0;
}
