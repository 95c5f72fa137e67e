/* fixture.h: what the scan tests share: a temporary tree of 3 indexable
 * and 3 skipped files, a database with one fs source "tree" over it, and
 * small helpers (scan, reasons, keyword hits, item count). Header-only,
 * static functions: each test is one executable. */
#ifndef SCAN_FIXTURE_H
#define SCAN_FIXTURE_H

#include "scan.h"
#include "store.h"

#include "check.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

typedef struct fx {
  char dir[64];  /* the temporary directory */
  char tree[96]; /* the source tree inside it */
  char db[96];
  trove_store *st;
} fx;

static inline void put(const fx *f, const char *rel, const void *data, size_t len) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s", f->tree, rel);
  FILE *fp = fopen(path, "wb");
  CHECK(fp != NULL);
  if (!fp)
    return;
  CHECK(fwrite(data, 1, len, fp) == len);
  fclose(fp);
}

static inline void puts_file(const fx *f, const char *rel, const char *text) {
  put(f, rel, text, strlen(text));
}

/* Moves rel's mtime forward by whole seconds. */
static inline void bump_mtime(const fx *f, const char *rel, int secs) {
  char path[256];
  struct stat sb;
  snprintf(path, sizeof path, "%s/%s", f->tree, rel);
  CHECK(stat(path, &sb) == 0);
  struct timeval tv[2] = {{sb.st_atime, 0}, {sb.st_mtime + secs, 0}};
  CHECK(utimes(path, tv) == 0);
}

/* The tree every case starts from: 3 indexable files, 3 skipped ones. */
static inline void fx_init(fx *f) {
  snprintf(f->dir, sizeof f->dir, "/tmp/trove-scan-XXXXXX");
  if (!mkdtemp(f->dir)) {
    perror("mkdtemp");
    exit(2);
  }
  snprintf(f->tree, sizeof f->tree, "%s/tree", f->dir);
  snprintf(f->db, sizeof f->db, "%s/trove.db", f->dir);
  CHECK(mkdir(f->tree, 0755) == 0);
  char sub[128];
  snprintf(sub, sizeof sub, "%s/sub", f->tree);
  CHECK(mkdir(sub, 0755) == 0);
  puts_file(f, "notes.md", "---\ntitle: Garden notes\n---\n\nThe tomatoes need staking before July.\n");
  puts_file(f, "plain.txt", "A plain file about lighthouse keepers and their lamps.\n");
  puts_file(f, "sub/page.html",
            "<!doctype html><html><head><title>Harbour page</title></head><body><article>"
            "<h1>Harbour</h1><p>The harbour master keeps a ledger of every ship that docks, "
            "with its cargo, its crew and the weather on the day it arrived.</p>"
            "<p>Old ledgers are kept in the archive room for a century.</p></article></body></html>");
  put(f, "blob.dat", "bin\0ary\0data", 12);
  put(f, "image.png", "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
  put(f, "empty.txt", "", 0);
  trove_err e = {0};
  trove_store_opts o = {.path = f->db, .busy_timeout_ms = 200};
  CHECK(trove_store_open(&o, &f->st, &e) == 0);
  CHECK(trove_store_source_add(f->st, "tree", "fs", f->tree, NULL, NULL, &e) == 0);
}

static inline int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(path);
}

/* Empties the source directory (what an unmounted drive's mount point
 * shows), keeping the directory itself. */
static inline void fx_empty_tree(fx *f) {
  nftw(f->tree, rm_one, 16, FTW_DEPTH | FTW_PHYS);
  CHECK(mkdir(f->tree, 0755) == 0);
}

static inline void fx_done(fx *f) {
  trove_store_close(f->st);
  nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static const trove_scan_opts quiet = {.progress = TROVE_PROGRESS_NONE};

static inline int scan(fx *f, trove_scan_report *rep) {
  trove_err e = {0};
  int rc = trove_scan_source(f->st, "tree", &quiet, rep, &e);
  if (rc)
    fprintf(stderr, "scan: %s\n", e.msg);
  return rc;
}

static inline int64_t reason(const trove_scan_report *r, const char *name) {
  for (size_t i = 0; i < r->n_reasons; i++)
    if (strcmp(r->reasons[i].name, name) == 0)
      return r->reasons[i].count;
  return 0;
}

static inline size_t hits(fx *f, const char *query) {
  trove_store_hit *h = NULL;
  size_t n = 0;
  CHECK(trove_store_search(f->st, query, NULL, &h, &n, NULL) == 0);
  trove_store_hits_free(h, n);
  return n;
}

static inline int64_t items(fx *f) {
  trove_store_stats s = {0};
  CHECK(trove_store_stats_get(f->st, &s, NULL) == 0);
  int64_t n = s.items;
  trove_store_stats_clear(&s);
  return n;
}

#endif /* SCAN_FIXTURE_H */
