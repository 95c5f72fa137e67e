/* embed_test.c: the embed stage with the real model (USE-lite from the
 * model/ folder) on the scan fixture's tree. Proves: new and changed items
 * are embedded and nothing else is; the vector index always holds exactly
 * the store's vectors and is saved so the next open loads it; deleted items
 * leave no vector behind; a scan without the model leaves items pending and
 * the next scan with it embeds them; reprocess re-embeds only changed
 * output; a damaged index file is rebuilt; semantic search finds a page by
 * words it does not contain; a touch, --force and a rename do not call the
 * model at all, and --reembed embeds everything again. Run a second time by ctest with "one-worker":
 * a sluice pool of ONE worker, the seed's deadlock shape (the read stage's
 * jobs and the embed stage's parallel loops on the same single-thread pool,
 * with full channels between them), which must finish all the same. */
#include "model.h"
#include "search.h"
#include "vectors.h"

#include "fixture.h"

static trove_embedder *E;

typedef struct model_fx {
  fx f;
  trove_vectors *v;
  trove_scan_opts o;
} model_fx;

static void open_vectors(model_fx *m, const char *expect) {
  trove_err e = {0};
  CHECK(trove_vectors_open(m->f.st, trove_embedder_name(E), trove_embedder_dim(E), NULL, &m->v,
                           &e) == 0);
  if (expect && m->v && !strstr(trove_vectors_note(m->v), expect)) {
    fprintf(stderr, "note \"%s\" lacks \"%s\"\n", trove_vectors_note(m->v), expect);
    CHECK(!"unexpected vector index note");
  }
  m->o = quiet;
  m->o.embedder = E;
  m->o.vectors = m->v;
}

static void mfx_init(model_fx *m) {
  fx_init(&m->f);
  open_vectors(m, "no index file");
}

static void mfx_done(model_fx *m) {
  trove_vectors_close(m->v);
  fx_done(&m->f);
}

static int scan_with(model_fx *m, trove_scan_report *r) {
  trove_err e = {0};
  int rc = trove_scan_source(m->f.st, "tree", &m->o, r, &e);
  if (rc)
    fprintf(stderr, "scan: %s\n", e.msg);
  return rc;
}

/* The store's vector count for the model, checked against the index. */
static int64_t vectors_in_step(model_fx *m) {
  int64_t version = 0, count = 0;
  size_t dim = 0;
  CHECK(trove_store_vectors_version(m->f.st, trove_embedder_name(E), &version, &dim, &count,
                                    NULL) == 0);
  CHECK(trove_index_count(trove_vectors_index(m->v)) == (size_t)count);
  CHECK(!trove_vectors_stale(m->v));
  return count;
}

/* The title of the top semantic hit for query. */
static void top_semantic(model_fx *m, const char *query, const char *want_title) {
  trove_search_params p;
  trove_search_params_default(&p);
  p.mode = TROVE_SEARCH_SEMANTIC;
  p.n = 3;
  trove_search_result *res = NULL;
  size_t n = 0;
  trove_err e = {0};
  CHECK(trove_search_run(m->f.st, trove_vectors_index(m->v), E, query, &p, &res, &n, &e) == 0);
  CHECK(n >= 1 && res[0].title && strcmp(res[0].title, want_title) == 0);
  if (n && res[0].title && strcmp(res[0].title, want_title) != 0)
    fprintf(stderr, "top hit for \"%s\": %s\n", query, res[0].title);
  trove_search_results_free(res, n);
}

static void scan_embeds_new_and_changed_items_only(void) {
  model_fx m;
  mfx_init(&m);
  trove_scan_report r;
  CHECK(scan_with(&m, &r) == 0);
  CHECK(r.added == 3 && r.embedded == 3 && r.passages >= 3);
  CHECK(vectors_in_step(&m) == r.passages);
  top_semantic(&m, "vessels arriving at the port", "Harbour page");

  CHECK(scan_with(&m, &r) == 0); /* nothing changed: nothing embedded */
  CHECK(r.unchanged == 6 && r.embedded == 0);

  puts_file(&m.f, "plain.txt", "A plain file about submarine cables under the ocean now.\n");
  bump_mtime(&m.f, "plain.txt", 10);
  CHECK(scan_with(&m, &r) == 0);
  CHECK(r.changed == 1 && r.embedded == 1);
  int64_t before = vectors_in_step(&m);
  top_semantic(&m, "undersea telecommunication wires", "plain.txt");

  char path[160];
  snprintf(path, sizeof path, "%s/sub/page.html", m.f.tree);
  CHECK(unlink(path) == 0);
  CHECK(scan_with(&m, &r) == 0);
  CHECK(r.deleted == 1 && r.embedded == 0);
  CHECK(vectors_in_step(&m) < before);

  trove_vectors_close(m.v); /* the scan saved the index: the next open loads it */
  open_vectors(&m, "loaded");
  vectors_in_step(&m);
  mfx_done(&m);
}

static void keyword_only_scan_leaves_items_pending(void) {
  model_fx m;
  mfx_init(&m);
  trove_scan_report r;
  CHECK(scan(&m.f, &r) == 0); /* no model */
  CHECK(r.added == 3 && r.embedded == 0);
  CHECK(scan_with(&m, &r) == 0); /* unchanged, but pending: embedded now */
  CHECK(r.unchanged == 6 && r.embedded == 3 && r.passages >= 3);
  CHECK(vectors_in_step(&m) == r.passages);
  CHECK(scan_with(&m, &r) == 0);
  CHECK(r.embedded == 0);
  top_semantic(&m, "ships and their cargo records", "Harbour page");
  mfx_done(&m);
}

static void reprocess_reembeds_only_changed_output(void) {
  model_fx m;
  mfx_init(&m);
  trove_scan_report r;
  CHECK(scan_with(&m, &r) == 0 && r.embedded == 3);
  trove_err e = {0};
  CHECK(trove_reprocess(m.f.st, "tree", &m.o, &r, &e) == 0);
  CHECK(r.changed == 0 && r.embedded == 0);
  vectors_in_step(&m);
  mfx_done(&m);
}

static void move_file(const fx *f, const char *from, const char *to) {
  char a[256], b[256];
  snprintf(a, sizeof a, "%s/%s", f->tree, from);
  snprintf(b, sizeof b, "%s/%s", f->tree, to);
  CHECK(rename(a, b) == 0);
}

/* Work is not redone, counted at the embedder: a touched file, a forced
 * scan and a file renamed with its title inside it give the model no
 * passage at all and keep every vector; a file titled by its name is
 * embedded again when renamed (its passages begin with the title). A
 * source edit embeds only the files it adds. --reembed embeds every
 * passage again. */
static void unchanged_text_is_never_embedded_again(void) {
  model_fx m;
  mfx_init(&m);
  trove_scan_report r;
  CHECK(scan_with(&m, &r) == 0 && r.embedded == 3);
  int64_t vectors = vectors_in_step(&m);
  uint64_t calls = trove_embedder_texts(E);

  bump_mtime(&m.f, "notes.md", 10); /* touch */
  bump_mtime(&m.f, "plain.txt", 10);
  CHECK(scan_with(&m, &r) == 0 && r.changed == 0 && r.unchanged == 6 && r.embedded == 0);
  CHECK(trove_embedder_texts(E) == calls && vectors_in_step(&m) == vectors);

  m.o.force = true;
  CHECK(scan_with(&m, &r) == 0 && r.changed == 0 && r.unchanged == 3 && r.embedded == 0);
  m.o.force = false;
  CHECK(trove_embedder_texts(E) == calls && vectors_in_step(&m) == vectors);

  move_file(&m.f, "notes.md", "kept.md"); /* titled "Garden notes" inside */
  CHECK(scan_with(&m, &r) == 0 && r.moved == 1 && r.added == 0 && r.embedded == 0);
  CHECK(trove_embedder_texts(E) == calls && vectors_in_step(&m) == vectors);
  top_semantic(&m, "when to tie up tomato plants", "Garden notes");
  calls = trove_embedder_texts(E); /* the query was embedded */

  move_file(&m.f, "plain.txt", "lamps.txt"); /* titled by its name */
  CHECK(scan_with(&m, &r) == 0 && r.moved == 1 && r.embedded == 1);
  CHECK(trove_embedder_texts(E) == calls + (uint64_t)r.passages && r.passages >= 1);
  CHECK(vectors_in_step(&m) == vectors);
  calls = trove_embedder_texts(E);

  const char *html[] = {"*.html"};
  trove_scan_globs g = {.exclude = html, .n_exclude = 1, .set_exclude = true};
  trove_err e = {0};
  CHECK(trove_scan_source_edit(m.f.st, "tree", &g, &m.o, &r, &e) == 0);
  CHECK(r.deleted == 1 && r.unchanged == 5 && r.embedded == 0); /* sub/page.html */
  CHECK(trove_embedder_texts(E) == calls && vectors_in_step(&m) < vectors);
  g.n_exclude = 0;
  CHECK(trove_scan_source_edit(m.f.st, "tree", &g, &m.o, &r, &e) == 0);
  CHECK(r.added == 1 && r.skipped == 0 && r.unchanged == 5 && r.embedded == 1);
  CHECK(trove_embedder_texts(E) == calls + (uint64_t)r.passages);
  CHECK(vectors_in_step(&m) == vectors);
  calls = trove_embedder_texts(E);

  m.o.reembed = true;
  CHECK(scan_with(&m, &r) == 0 && r.embedded == 3 && r.passages == vectors);
  CHECK(trove_embedder_texts(E) == calls + (uint64_t)vectors && vectors_in_step(&m) == vectors);
  mfx_done(&m);
}

static void damaged_index_file_is_rebuilt(void) {
  model_fx m;
  mfx_init(&m);
  trove_scan_report r;
  CHECK(scan_with(&m, &r) == 0 && r.embedded == 3);
  char path[256];
  snprintf(path, sizeof path, "%s", trove_vectors_path(m.v));
  trove_vectors_close(m.v);
  FILE *fp = fopen(path, "r+b");
  CHECK(fp != NULL);
  if (fp) {
    fseek(fp, 200, SEEK_SET);
    fputs("garbage over the vectors", fp);
    fclose(fp);
  }
  open_vectors(&m, "built");
  vectors_in_step(&m);
  top_semantic(&m, "vessels arriving at the port", "Harbour page");
  mfx_done(&m);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "one-worker") == 0)
    setenv("SLUICE_THREADS", "1", 1); /* before the global pool exists */
  trove_err e = {0};
  if (trove_embedder_open_use_lite(NULL, &E, &e)) {
    fprintf(stderr, "embed_test: %s\n", e.msg);
    return 1;
  }
  trove_embedder_set_threads(E, 1);
  RUN(scan_embeds_new_and_changed_items_only);
  RUN(keyword_only_scan_leaves_items_pending);
  RUN(reprocess_reembeds_only_changed_output);
  RUN(damaged_index_file_is_rebuilt);
  RUN(unchanged_text_is_never_embedded_again);
  trove_embedder_close(E);
  return check_done("embed_test");
}
