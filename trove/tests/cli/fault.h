/* fault.h: what the fault and race tests of the `trove` binary share: loop
 * counts from the environment, a tree of small notes, whether the model is
 * there, and the one consistency check every round ends with: SQLite's
 * integrity_check and the FTS index, the expected items and hidden flags,
 * no failure recorded, every item embedded, and the saved vector index
 * equal to the store (its tag is the store's vectors version and its ids
 * are exactly the store's passages). Header-only, on top of run.h. */
#ifndef TROVE_CLI_FAULT_H
#define TROVE_CLI_FAULT_H

#include "index.h"
#include "model.h"
#include "store.h"
#include "vectors.h"

#include "run.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdint.h>

/* A loop count: $name when set (the long runs of scripts/faults.sh), else
 * def, or under a sanitizer (check_scale), where every trove process runs
 * several times slower, san. */
static inline int fault_rounds(const char *name, int def, int san) {
  const char *v = getenv(name);
  if (v && *v)
    return atoi(v) > 0 ? atoi(v) : 1;
  return check_scale() > 1 ? san : def;
}

/* Whether the model opens here (once per process): without it the tests
 * run keyword-only and skip the index checks, saying so. */
static inline bool fault_have_model(void) {
  static int have = -1;
  if (have < 0) {
    trove_embedder *e = NULL;
    have = trove_embedder_open_use_lite(NULL, &e, NULL) == 0;
    trove_embedder_close(e);
    if (!have)
      fprintf(stderr, "  (no model: keyword only, vector index checks skipped)\n");
  }
  return have;
}

/* Writes n notes into tree/dNN/, each with its own word wN. */
static inline void fault_tree(const char *tree, int n) {
  CHECK(mkdir(tree, 0755) == 0 || errno == EEXIST);
  for (int d = 0; d < 10; d++) {
    char sub[512];
    snprintf(sub, sizeof sub, "%s/d%02d", tree, d);
    CHECK(mkdir(sub, 0755) == 0 || errno == EEXIST);
  }
  for (int i = 0; i < n; i++) {
    char rel[64], text[512];
    snprintf(rel, sizeof rel, "d%02d/n%05d.md", i % 10, i);
    snprintf(text, sizeof text, "# Note %d\n\nA note about topic %d, harbour ledger %d and the "
             "word w%d, kept for the fault tests of trove number %d.\n", i, i % 13, i * 7, i,
             i * 31);
    run_put(tree, rel, text);
  }
}

/* The first column of sql's first row on db (-1 when no row). */
static inline int64_t fault_sql(sqlite3 *db, const char *sql) {
  sqlite3_stmt *s = NULL;
  int64_t v = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
    v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return v;
}

static int fault_cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* The saved index against the store: a file that says it is current (its
 * tag is the store's version) holds exactly the store's passages. With
 * must_be_current, the file must also be there and current (after a
 * command that completed). Returns false with a line on stderr. */
static inline bool fault_index_ok(const char *db_path, sqlite3 *db, bool must_be_current) {
  sqlite3_stmt *s = NULL;
  bool ok = true;
  CHECK(sqlite3_prepare_v2(db, "SELECT id, name, version FROM vector_models", -1, &s, NULL) ==
        SQLITE_OK);
  while (ok && sqlite3_step(s) == SQLITE_ROW) {
    int64_t model_id = sqlite3_column_int64(s, 0), version = sqlite3_column_int64(s, 2);
    char *path = NULL;
    trove_err e = {0};
    CHECK(trove_vectors_default_path(db_path, (const char *)sqlite3_column_text(s, 1), &path,
                                     &e) == 0);
    trove_index *idx = NULL;
    int rc = path ? trove_index_load(path, 0, &idx, &e) : TROVE_ENOMEM;
    if (rc == TROVE_ENOENT && !must_be_current) {
      trove_free(path);
      continue; /* never saved yet: the next open builds it */
    }
    if (rc) {
      fprintf(stderr, "  index %s: %s\n", path ? path : "?", e.msg);
      ok = false;
    } else if ((int64_t)trove_index_tag(idx) == version) {
      uint64_t *ids = NULL;
      size_t n = 0;
      CHECK(trove_index_ids(idx, &ids, &n, &e) == 0);
      if (n)
        qsort(ids, n, sizeof *ids, fault_cmp_u64);
      sqlite3_stmt *p = NULL;
      CHECK(sqlite3_prepare_v2(db, "SELECT passage_id FROM passage_vectors WHERE model_id = ?1"
                               " ORDER BY passage_id", -1, &p, NULL) == SQLITE_OK);
      sqlite3_bind_int64(p, 1, model_id);
      size_t i = 0;
      while (ok && sqlite3_step(p) == SQLITE_ROW)
        ok = i < n && ids[i++] == (uint64_t)sqlite3_column_int64(p, 0);
      ok = ok && i == n;
      if (!ok)
        fprintf(stderr, "  index %s is tagged current but holds other ids than the store\n",
                path);
      sqlite3_finalize(p);
      trove_free(ids);
    } else if (must_be_current) {
      fprintf(stderr, "  index %s has tag %llu, the store is at version %lld\n", path,
              (unsigned long long)trove_index_tag(idx), (long long)version);
      ok = false;
    }
    trove_index_destroy(idx);
    trove_free(path);
  }
  sqlite3_finalize(s);
  return ok;
}

/* Everything a round must leave: integrity, FTS, items (-1: any) with no
 * skip or error recorded, hidden items (-1: any), and, when settled (a
 * command completed last), every item embedded and the index current.
 * CHECKs each; returns whether all held. */
static inline bool fault_consistent(const char *db_path, int64_t items, int64_t hidden,
                                    bool settled) {
  trove_store *st = NULL;
  trove_err e = {0};
  trove_store_opts o = {.path = db_path, .busy_timeout_ms = 10000};
  int rc = trove_store_open(&o, &st, &e);
  if (rc == 0)
    rc = trove_store_check(st, &e);
  if (rc)
    fprintf(stderr, "  %s: %s\n", db_path, e.msg);
  CHECK(rc == 0);
  trove_store_stats s = {0};
  bool ok = rc == 0 && trove_store_stats_get(st, &s, &e) == 0;
  int64_t hid = 0;
  for (size_t i = 0; ok && i < s.n_sources; i++)
    hid += s.sources[i].hidden;
  if (ok && ((items >= 0 && s.items != items) || (hidden >= 0 && hid != hidden) ||
             s.n_reasons != 0)) {
    fprintf(stderr, "  %lld items (want %lld), %lld hidden (want %lld), %zu skip reasons%s%s\n",
            (long long)s.items, (long long)items, (long long)hid, (long long)hidden, s.n_reasons,
            s.n_reasons ? ", first: " : "", s.n_reasons ? s.reasons[0].reason : "");
    ok = false;
  }
  trove_store_stats_clear(&s);
  trove_store_close(st);
  sqlite3 *db = NULL;
  CHECK(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
  sqlite3_busy_timeout(db, 10000);
  if (ok && settled && fault_have_model()) {
    int64_t pending = fault_sql(db, "SELECT count(*) FROM items WHERE skip_reason IS NULL AND"
                                    " id NOT IN (SELECT item_id FROM item_embeddings)");
    if (pending != 0)
      fprintf(stderr, "  %lld items not embedded\n", (long long)pending);
    ok = pending == 0;
  }
  ok = ok && fault_index_ok(db_path, db, settled && fault_have_model());
  sqlite3_close(db);
  CHECK(ok);
  return ok;
}

/* Starts `trove --db db [--no-model] args...` (NULL-terminated). */
static inline pid_t fault_start(const char *dir, const char *db, const char *const *args) {
  const char *argv[32];
  int n = 0;
  if (!fault_have_model())
    argv[n++] = "--no-model";
  for (int i = 0; args[i] && n < 31; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  return run_start(dir, db, argv);
}

/* Runs it to the end into *r (stdout and stderr in dir). */
static inline void fault_run(run_out *r, const char *dir, const char *db,
                             const char *const *args) {
  r->code = run_wait(fault_start(dir, db, args));
  char path[256];
  snprintf(path, sizeof path, "%s/stdout", dir);
  run_slurp(path, r->out, sizeof r->out);
  snprintf(path, sizeof path, "%s/stderr", dir);
  run_slurp(path, r->err, sizeof r->err);
}

#define FAULT_TROVE(r, dir, db, ...) fault_run((r), (dir), (db), (const char *const[]){__VA_ARGS__, NULL})

#endif /* TROVE_CLI_FAULT_H */
