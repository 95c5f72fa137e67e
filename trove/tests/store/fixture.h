/* fixture.h: what the store tests share: a fresh temporary directory per
 * case (removed afterwards), a database opened in it (alone, or with one
 * source: env), a plain SQLite connection's view of the file, and a few
 * items with deterministic content. Header-only, static functions: each test is one
 * executable. */
#ifndef STORE_FIXTURE_H
#define STORE_FIXTURE_H

#include "store.h"

#include "check.h"

#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A temporary directory, and the database path inside it. */
typedef struct fx {
  char dir[64];
  char db[128];
} fx;

static inline void fx_init(fx *f) {
  snprintf(f->dir, sizeof f->dir, "/tmp/trove-store-XXXXXX");
  if (!mkdtemp(f->dir)) {
    perror("mkdtemp");
    exit(2);
  }
  snprintf(f->db, sizeof f->db, "%s/trove.db", f->dir);
}

static inline int fx_rm_one(const char *path, const struct stat *sb, int flag,
                            struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(path);
}

static inline void fx_done(fx *f) { nftw(f->dir, fx_rm_one, 16, FTW_DEPTH | FTW_PHYS); }

/* Opens f->db with a short busy timeout; CHECKs that it worked. */
static inline trove_store *fx_open(fx *f) {
  trove_store *st = NULL;
  trove_err e = {0};
  trove_store_opts o = {.path = f->db, .busy_timeout_ms = 200};
  int rc = trove_store_open(&o, &st, &e);
  if (rc)
    fprintf(stderr, "open %s: %s\n", f->db, e.msg);
  CHECK(rc == 0 && st);
  return st;
}

/* Writes n bytes of `fill` over the file at path from offset. */
static inline void fx_scribble(const char *path, long offset, size_t n, int fill) {
  FILE *fp = fopen(path, "r+b");
  CHECK(fp != NULL);
  if (!fp)
    return;
  fseek(fp, offset, SEEK_SET);
  for (size_t i = 0; i < n; i++)
    fputc(fill, fp);
  fclose(fp);
}

/* An item whose text mentions `word`; strings point into static storage or
 * the caller's. */
static inline trove_store_item fx_item(const char *external_id, const char *title,
                                       const char *text, int64_t version) {
  trove_store_item it = {0};
  it.external_id = external_id;
  it.type = TROVE_ITEM_LOCAL;
  it.title = title;
  it.text = text;
  it.raw = text;
  it.raw_len = text ? strlen(text) : 0;
  it.content_hash = "h1";
  it.process_version = 1;
  it.mtime_us = 1000 * INT64_C(1000000);
  it.size = (int64_t)it.raw_len;
  it.seen_in_scan = version;
  return it;
}

/* Runs sql on path with a plain SQLite connection (the test's own view). */
static inline void raw_exec(const char *path, const char *sql) {
  sqlite3 *db = NULL;
  CHECK(sqlite3_open(path, &db) == SQLITE_OK);
  int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    fprintf(stderr, "raw_exec: %s\n", sqlite3_errmsg(db));
  CHECK(rc == SQLITE_OK);
  sqlite3_close(db);
}

/* An open store with one source "docs"; where most cases start. */
typedef struct env {
  fx f;
  trove_store *st;
  int64_t src;
} env;

static inline void env_init(env *v) {
  fx_init(&v->f);
  v->st = fx_open(&v->f);
  CHECK(trove_store_source_add(v->st, "docs", "fs", "/d", NULL, &v->src, NULL) == 0);
}

static inline void env_done(env *v) {
  trove_store_close(v->st);
  fx_done(&v->f);
}

#endif /* STORE_FIXTURE_H */
