/* store_test.c: opening trove's database (new, 0-byte, reopened, WAL
 * checked), every open error (corrupt, another program's file, a newer
 * schema, no WAL, read-only directory, unmakeable directory, locked), the
 * default path, batches, and sources. Items, search, faults, crashes and
 * concurrency have their own test files. */
#include "fixture.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>

static void raw_text(const char *path, const char *sql, char *out, size_t cap) {
  sqlite3 *db = NULL;
  sqlite3_stmt *s = NULL;
  out[0] = '\0';
  CHECK(sqlite3_open(path, &db) == SQLITE_OK);
  CHECK(sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK);
  if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
    snprintf(out, cap, "%s", (const char *)sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
  sqlite3_close(db);
}

static void store_open_creates_dirs_schema_and_wal(void) {
  fx f;
  fx_init(&f);
  snprintf(f.db, sizeof f.db, "%s/a/b/trove.db", f.dir);
  trove_store *st = fx_open(&f);
  CHECK(st && strcmp(trove_store_path(st), f.db) == 0);
  trove_err e = {0};
  CHECK(trove_store_check(st, &e) == 0);
  CHECK(trove_store_source_add(st, "docs", "fs", "/d", NULL, NULL, &e) == 0);
  trove_store_close(st);
  char mode[32], ver[32];
  raw_text(f.db, "PRAGMA journal_mode", mode, sizeof mode);
  raw_text(f.db, "PRAGMA user_version", ver, sizeof ver);
  CHECK(strcmp(mode, "wal") == 0);
  CHECK(atoi(ver) >= 2);
  st = fx_open(&f); /* reopen: nothing to migrate, data kept */
  trove_store_source src;
  CHECK(trove_store_source_get(st, "docs", &src, &e) == 0 && strcmp(src.location, "/d") == 0);
  trove_store_source_clear(&src);
  trove_store_close(st);
  fx_done(&f);
}

static void store_open_migrates_an_older_schema_step_by_step(void) {
  fx f;
  fx_init(&f);
  trove_store *st = fx_open(&f);
  trove_err e = {0};
  int64_t src, item;
  CHECK(trove_store_source_add(st, "docs", "fs", "/d", NULL, &src, &e) == 0);
  trove_store_item it = fx_item("/a", "A", "kept across the upgrade", 1);
  CHECK(trove_store_item_upsert(st, src, &it, &item, &e) == 0);
  trove_store_close(st);
  /* Back to version 1: the embedding tables did not exist yet, mtime was
   * whole seconds with no size, items had no text hash, nothing recorded
   * fetch backoff, expiry, forgotten items or where a history's reads got. */
  raw_exec(f.db, "ALTER TABLE sources DROP COLUMN seen_visit_us;"
                 " ALTER TABLE sources DROP COLUMN seen_visit_id;"
                 " DROP TABLE forgotten; ALTER TABLE items DROP COLUMN expired_at;"
                 " DROP TABLE fetch_hosts; ALTER TABLE items DROP COLUMN fetch_failures;"
                 " ALTER TABLE items DROP COLUMN retry_at;"
                 " ALTER TABLE items DROP COLUMN charset_guessed;"
                 " DROP INDEX items_content; ALTER TABLE items DROP COLUMN text_hash;"
                 " DROP TRIGGER items_embedding_stale; DROP TABLE item_embeddings;"
                 " DROP TABLE passage_vectors; DROP TABLE vector_models;"
                 " DROP TABLE passages; ALTER TABLE items DROP COLUMN size;"
                 " ALTER TABLE items RENAME COLUMN mtime_us TO mtime;"
                 " UPDATE items SET mtime = 1000; PRAGMA user_version=1;");
  st = fx_open(&f);
  char ver[32];
  raw_text(f.db, "PRAGMA user_version", ver, sizeof ver);
  CHECK(atoi(ver) == 8);
  trove_store_passage p = {.ordinal = 0, .start = 0, .end = 4};
  CHECK(trove_store_passages_replace(st, item, &p, 1, NULL, NULL, &e) == 0);
  trove_store_item got;
  CHECK(trove_store_item_get(st, item, false, &got, &e) == 0 &&
        strcmp(got.text, "kept across the upgrade") == 0);
  CHECK(got.mtime_us == INT64_C(1000) * 1000000 && got.size == -1); /* seconds -> us */
  CHECK(got.fetch_failures == 0 && got.retry_at == 0 && !got.charset_guessed);
  trove_store_item_clear(&got);
  trove_store_source sg; /* step 8: a history's reads start from nothing known */
  CHECK(trove_store_source_get(st, "docs", &sg, &e) == 0 && sg.seen_visit_us == 0 &&
        sg.seen_visit_id == 0);
  trove_store_source_clear(&sg);
  CHECK(trove_store_source_set_visits(st, src, 1700000000000000, 42, &e) == 0);
  CHECK(trove_store_source_get(st, "docs", &sg, &e) == 0 &&
        sg.seen_visit_us == 1700000000000000 && sg.seen_visit_id == 42);
  trove_store_source_clear(&sg);
  CHECK(trove_store_source_set_visits(st, 999, 1, 1, &e) == TROVE_ENOENT);
  CHECK(trove_store_check(st, &e) == 0);
  trove_store_close(st);
  fx_done(&f);
}

static void store_open_zero_byte_file_is_new_db(void) {
  fx f;
  fx_init(&f);
  FILE *fp = fopen(f.db, "wb");
  CHECK(fp != NULL);
  if (fp)
    fclose(fp);
  trove_store *st = fx_open(&f);
  CHECK(st && trove_store_check(st, NULL) == 0);
  trove_store_close(st);
  fx_done(&f);
}

/* Whether dir holds a file called name. */
static bool has_file(const char *dir, const char *name) {
  char p[256];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  return access(p, F_OK) == 0;
}

/* A file that is not SQLite at all (a mistyped --db: /etc/passwd, notes) is
 * not a damaged trove database: no "move it away and rebuild", and SQLite
 * never opens it, so no journal, WAL or lock file appears beside it. */
static void store_open_a_file_that_is_not_sqlite_is_not_trove_s(void) {
  fx f;
  fx_init(&f);
  FILE *fp = fopen(f.db, "wb");
  for (int i = 0; fp && i < 8192; i++)
    fputc((i * 7919) & 0xff, fp);
  if (fp)
    fclose(fp);
  trove_store *st = NULL;
  trove_err e = {0};
  trove_store_opts o = {.path = f.db};
  CHECK(trove_store_open(&o, &st, &e) == TROVE_EUNSUPPORTED && st == NULL);
  CHECK(e.code == TROVE_EUNSUPPORTED && strstr(e.msg, f.db) &&
        strstr(e.msg, "is not a trove database") && !strstr(e.msg, "move it away"));
  fp = fopen(f.db, "wb"); /* shorter than the SQLite header */
  if (fp) {
    fputs("root:x:0:0\n", fp);
    fclose(fp);
  }
  CHECK(trove_store_open(&o, &st, &e) == TROVE_EUNSUPPORTED && st == NULL);
  char after[32] = {0};
  fp = fopen(f.db, "rb");
  CHECK(fp && fread(after, 1, sizeof after - 1, fp) == 11 && strcmp(after, "root:x:0:0\n") == 0);
  if (fp)
    fclose(fp);
  CHECK(!has_file(f.dir, "trove.db-wal") && !has_file(f.dir, "trove.db-shm") &&
        !has_file(f.dir, "trove.db-journal"));
  fx_done(&f);
}

static void store_open_scribbled_db_is_corrupt(void) {
  fx f;
  fx_init(&f);
  trove_store *st = fx_open(&f);
  trove_store_close(st);
  fx_scribble(f.db, 16, 84, 0x5a); /* the header after its magic string */
  trove_err e = {0};
  trove_store_opts o = {.path = f.db};
  CHECK(trove_store_open(&o, &st, &e) == TROVE_ECORRUPT && st == NULL);
  CHECK(strstr(e.msg, "corrupt") && strstr(e.msg, "move it away"));
  fx_done(&f);

  fx_init(&f); /* garbage over the pages after the header */
  st = fx_open(&f);
  trove_store_close(st);
  struct stat sb;
  CHECK(stat(f.db, &sb) == 0 && sb.st_size > 8192);
  fx_scribble(f.db, 4096, (size_t)sb.st_size - 4096, 0xa5);
  int rc = trove_store_open(&o, &st, &e);
  if (rc == 0) /* the damage may only show in a full check */
    rc = trove_store_check(st, &e);
  CHECK(rc == TROVE_ECORRUPT && e.code == TROVE_ECORRUPT);
  trove_store_close(st);
  fx_done(&f);
}

static void store_open_foreign_db_is_unsupported(void) {
  fx f;
  fx_init(&f);
  raw_exec(f.db, "CREATE TABLE moz_places(id INTEGER PRIMARY KEY, url TEXT)");
  trove_store *st = NULL;
  trove_err e = {0};
  trove_store_opts o = {.path = f.db};
  CHECK(trove_store_open(&o, &st, &e) == TROVE_EUNSUPPORTED && !st);
  CHECK(strstr(e.msg, "another program") != NULL);
  fx_done(&f);
}

/* The whole of path into a new buffer (free()); NULL when unreadable. */
static char *slurp_all(const char *path, size_t *len) {
  FILE *fp = fopen(path, "rb");
  char *b = fp ? malloc(1 << 20) : NULL;
  *len = b ? fread(b, 1, 1 << 20, fp) : 0;
  if (fp)
    fclose(fp);
  return b;
}

/* Refusing another program's file writes nothing to it first: not even the
 * journal-mode pragma (it stays "delete", no -wal appears), byte for byte. */
static void store_open_foreign_db_changes_nothing(void) {
  fx f;
  fx_init(&f);
  raw_exec(f.db, "PRAGMA journal_mode=DELETE; CREATE TABLE notes(id INTEGER PRIMARY KEY, t TEXT);"
                 "INSERT INTO notes(t) VALUES ('keep me')");
  size_t n0 = 0, n1 = 0;
  char *before = slurp_all(f.db, &n0);
  CHECK(before && n0 > 100 && before[18] == 1 && before[19] == 1); /* rollback journal */
  trove_store *st = NULL;
  trove_err e = {0};
  trove_store_opts o = {.path = f.db};
  CHECK(trove_store_open(&o, &st, &e) == TROVE_EUNSUPPORTED && !st);
  CHECK(strstr(e.msg, "another program") != NULL);
  char *after = slurp_all(f.db, &n1);
  CHECK(after && n1 == n0 && memcmp(before, after, n0) == 0);
  char wal[160];
  snprintf(wal, sizeof wal, "%s-wal", f.db);
  CHECK(access(wal, F_OK) != 0);
  free(before);
  free(after);
  fx_done(&f);
}

static void store_open_a_directory_says_so(void) {
  fx f;
  fx_init(&f);
  trove_store *st = NULL;
  trove_err e = {0};
  trove_store_opts o = {.path = f.dir};
  CHECK(trove_store_open(&o, &st, &e) == TROVE_EINVAL && !st);
  CHECK(strstr(e.msg, "is a directory") && strstr(e.msg, "trove.db"));
  fx_done(&f);
}

static void store_open_newer_schema_is_unsupported(void) {
  fx f;
  fx_init(&f);
  trove_store_close(fx_open(&f));
  raw_exec(f.db, "PRAGMA user_version=999");
  trove_store *st = NULL;
  trove_err e = {0};
  trove_store_opts o = {.path = f.db};
  CHECK(trove_store_open(&o, &st, &e) == TROVE_EUNSUPPORTED && !st);
  CHECK(strstr(e.msg, "upgrade trove") != NULL);
  fx_done(&f);
}

static void store_open_without_wal_is_refused(void) {
  trove_store *st = NULL;
  trove_err e = {0};
  trove_store_opts o = {.path = ":memory:"};
  CHECK(trove_store_open(&o, &st, &e) == TROVE_EUNSUPPORTED && !st);
  CHECK(strstr(e.msg, "WAL") && strstr(e.msg, "memory"));
}

/* Tries to open path in a child process that drops root (which ignores
 * permissions); the exit code says what happened: 0 when the open failed
 * with TROVE_EIO and a message naming the file and containing `want`. */
static int open_as_nobody(const char *path, const char *want) {
  if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
    return 10;
  trove_store *st = NULL;
  trove_err e = {0};
  trove_store_opts o = {.path = path};
  int rc = trove_store_open(&o, &st, &e);
  trove_store_close(st);
  if (rc != TROVE_EIO)
    return 11;
  return strstr(e.msg, path) && strstr(e.msg, want) ? 0 : 12;
}

static int run_as_nobody(const char *path, const char *want) {
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0)
    _exit(open_as_nobody(path, want));
  int status = -1;
  CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void store_open_readonly_dir_or_file_fails_with_eio(void) {
  fx f;
  fx_init(&f);
  char ro[96], fresh[128];
  snprintf(ro, sizeof ro, "%s/ro", f.dir);
  CHECK(mkdir(ro, 0755) == 0 && chmod(f.dir, 0755) == 0);
  snprintf(f.db, sizeof f.db, "%s/trove.db", ro);
  snprintf(fresh, sizeof fresh, "%s/new.db", ro);
  trove_store_close(fx_open(&f)); /* an existing database, then made read-only */
  CHECK(chmod(f.db, 0444) == 0 && chmod(ro, 0555) == 0);
  CHECK(run_as_nobody(fresh, "TROVE_DB") == 0);  /* cannot be created */
  CHECK(run_as_nobody(f.db, "read-only") == 0);  /* cannot be written */
  fx_done(&f);
}

/* In a child that drops root (which ignores permissions): a reader allowed
 * to (read_only_ok) opens the database in a read-only folder read-only,
 * reads and searches it, and every write is refused as read-only; without
 * the option the open fails as before. The exit code says which check
 * failed (0: all held). */
enum { RO_CLEAN, RO_WAL_HELD, RO_OLD_SCHEMA };

static int read_as_nobody(const char *path, int how) {
  if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
    return 10;
  trove_store *st = NULL;
  trove_err e = {0};
  trove_store_opts o = {.path = path};
  /* without the option: refused, unless the files a writer keeps open let
   * SQLite read it (then it is read-only all the same) */
  int rc = trove_store_open(&o, &st, &e);
  bool ro = trove_store_read_only(st);
  trove_store_close(st);
  if (how == RO_WAL_HELD ? rc != 0 || !ro : rc != TROVE_EIO)
    return 11;
  o.read_only_ok = true;
  rc = trove_store_open(&o, &st, &e);
  if (how == RO_OLD_SCHEMA) { /* it cannot be upgraded here: say so, do not guess */
    if (rc != TROVE_EUNSUPPORTED || !strstr(e.msg, "write access"))
      fprintf(stderr, "  old schema: %d %s\n", rc, e.msg);
    return rc == TROVE_EUNSUPPORTED && strstr(e.msg, "write access") ? 0 : 12;
  }
  if (rc != 0 || !trove_store_read_only(st))
    return 13;
  trove_store_item it;
  trove_store_hit *h = NULL;
  size_t n = 0;
  int bad = trove_store_item_get(st, 1, true, &it, &e) != 0 || strcmp(it.text, "kept text") ||
            trove_store_search(st, "kept", NULL, &h, &n, &e) != 0 || n != 1;
  trove_store_item_clear(&it);
  trove_store_hits_free(h, n);
  if (bad)
    return 14;
  if (trove_store_source_add(st, "x", "fs", "/x", NULL, NULL, &e) != TROVE_EIO ||
      !strstr(e.msg, "read-only") || trove_store_item_set_hidden(st, 1, true, &e) != TROVE_EIO)
    return 15;
  trove_store_close(st);
  return 0;
}

static int fork_and_wait(int (*fn)(const char *, int), const char *path, int arg) {
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0)
    _exit(fn(path, arg));
  int status = -1;
  CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A database whose folder and file cannot be written: a cleanly closed one
 * (no -wal or -shm file, which cannot be made there), one a writer holds
 * open with commits still in its WAL, and one with an older schema. */
static void store_open_read_only_ok_reads_a_read_only_folder(void) {
  fx f;
  fx_init(&f);
  char ro[96];
  snprintf(ro, sizeof ro, "%s/ro", f.dir);
  CHECK(mkdir(ro, 0755) == 0 && chmod(f.dir, 0755) == 0);
  snprintf(f.db, sizeof f.db, "%s/trove.db", ro);
  trove_store *st = fx_open(&f);
  int64_t src, id;
  CHECK(trove_store_source_add(st, "docs", "fs", "/d", NULL, &src, NULL) == 0);
  trove_store_item it = fx_item("/a", "A", "kept text", 1);
  CHECK(trove_store_item_upsert(st, src, &it, &id, NULL) == 0 && id == 1);
  trove_store_close(st);
  CHECK(chmod(f.db, 0444) == 0 && chmod(ro, 0555) == 0);
  int rc = fork_and_wait(read_as_nobody, f.db, RO_CLEAN);
  if (rc)
    fprintf(stderr, "  clean: check %d failed\n", rc);
  CHECK(rc == 0);

  /* a writer (root, or the owner) holds it open: the WAL has the commit */
  CHECK(chmod(ro, 0755) == 0 && chmod(f.db, 0644) == 0);
  sqlite3 *db = NULL;
  CHECK(sqlite3_open(f.db, &db) == SQLITE_OK);
  CHECK(sqlite3_exec(db, "PRAGMA wal_autocheckpoint=0; UPDATE items SET text = 'kept text'"
                     " WHERE id = 1;", NULL, NULL, NULL) == SQLITE_OK);
  char wal[160], shm[160];
  snprintf(wal, sizeof wal, "%s-wal", f.db);
  snprintf(shm, sizeof shm, "%s-shm", f.db);
  struct stat sb;
  CHECK(stat(wal, &sb) == 0 && sb.st_size > 0);
  CHECK(chmod(ro, 0555) == 0 && chmod(f.db, 0444) == 0 && chmod(wal, 0444) == 0 &&
        chmod(shm, 0444) == 0);
  rc = fork_and_wait(read_as_nobody, f.db, RO_WAL_HELD);
  if (rc)
    fprintf(stderr, "  open WAL: check %d failed\n", rc);
  CHECK(rc == 0);
  CHECK(chmod(ro, 0755) == 0 && chmod(f.db, 0644) == 0 && chmod(wal, 0644) == 0 &&
        chmod(shm, 0644) == 0);
  sqlite3_close(db);

  raw_exec(f.db, "PRAGMA user_version=4");
  CHECK(chmod(ro, 0555) == 0);
  CHECK(fork_and_wait(read_as_nobody, f.db, RO_OLD_SCHEMA) == 0);
  CHECK(chmod(ro, 0755) == 0);
  fx_done(&f);
}

static void store_open_unmakeable_dir_fails_with_eio(void) {
  fx f;
  fx_init(&f);
  char file[96];
  snprintf(file, sizeof file, "%s/file", f.dir);
  FILE *fp = fopen(file, "w");
  if (fp)
    fclose(fp);
  snprintf(f.db, sizeof f.db, "%s/sub/trove.db", file);
  trove_store *st = NULL;
  trove_err e = {0};
  trove_store_opts o = {.path = f.db};
  CHECK(trove_store_open(&o, &st, &e) == TROVE_EIO && !st);
  CHECK(strstr(e.msg, "cannot create directory") != NULL);
  fx_done(&f);
}

static void store_open_bad_arguments_are_einval(void) {
  trove_store *st = NULL;
  trove_err e = {0};
  trove_store_opts o = {.path = ""};
  CHECK(trove_store_open(&o, NULL, &e) == TROVE_EINVAL);
  CHECK(trove_store_open(&o, &st, &e) == TROVE_EINVAL && !st);
  CHECK(trove_store_default_path(NULL, &e) == TROVE_EINVAL);
  CHECK(trove_store_begin(NULL, &e) == TROVE_EINVAL);
  CHECK(trove_store_check(NULL, &e) == TROVE_EINVAL);
  trove_store_close(NULL);
  trove_store_rollback(NULL);
  CHECK(trove_store_path(NULL) == NULL);
}

static void store_default_path_follows_env(void) {
  char *saved_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
  char *p = NULL;
  trove_err e = {0};
  setenv("TROVE_DB", "/x/t.db", 1);
  CHECK(trove_store_default_path(&p, &e) == 0 && strcmp(p, "/x/t.db") == 0);
  trove_free(p);
  setenv("TROVE_DB", "", 1);
  setenv("XDG_DATA_HOME", "/xdg", 1);
  CHECK(trove_store_default_path(&p, &e) == 0 && strcmp(p, "/xdg/trove/trove.db") == 0);
  trove_free(p);
  setenv("XDG_DATA_HOME", "relative", 1); /* the spec says ignore it */
  setenv("HOME", "/home/u", 1);
  CHECK(trove_store_default_path(&p, &e) == 0 &&
        strcmp(p, "/home/u/.local/share/trove/trove.db") == 0);
  trove_free(p);
  unsetenv("XDG_DATA_HOME");
  unsetenv("HOME");
  CHECK(trove_store_default_path(&p, &e) == TROVE_EINVAL && p == NULL);
  CHECK(strstr(e.msg, "TROVE_DB") != NULL);
  fx f; /* and open(NULL) goes where TROVE_DB says */
  fx_init(&f);
  setenv("TROVE_DB", f.db, 1);
  trove_store *st = NULL;
  CHECK(trove_store_open(NULL, &st, &e) == 0 && strcmp(trove_store_path(st), f.db) == 0);
  trove_store_close(st);
  unsetenv("TROVE_DB");
  if (saved_home)
    setenv("HOME", saved_home, 1);
  free(saved_home);
  fx_done(&f);
}

static void store_second_writer_gets_ebusy_after_timeout(void) {
  fx f;
  fx_init(&f);
  trove_store *a = fx_open(&f), *b = fx_open(&f);
  trove_err e = {0};
  int64_t src;
  CHECK(trove_store_source_add(a, "s", "fs", "/d", NULL, &src, &e) == 0);
  CHECK(trove_store_begin(a, &e) == 0);
  trove_store_item it = fx_item("x", "T", "text", 1);
  CHECK(trove_store_item_upsert(a, src, &it, NULL, &e) == 0);
  CHECK(trove_store_begin(b, &e) == TROVE_EBUSY);
  CHECK(strstr(e.msg, "locked") && strstr(e.msg, f.db));
  CHECK(trove_store_item_upsert(b, src, &it, NULL, &e) == TROVE_EBUSY);
  trove_store_source s; /* reading is never blocked in WAL */
  CHECK(trove_store_source_get(b, "s", &s, &e) == 0);
  trove_store_source_clear(&s);
  CHECK(trove_store_commit(a, &e) == 0);
  CHECK(trove_store_begin(b, &e) == 0);
  CHECK(trove_store_commit(b, &e) == 0);
  trove_store_close(a);
  trove_store_close(b);
  fx_done(&f);
}

static void store_open_locked_file_is_ebusy(void) {
  fx f;
  fx_init(&f);
  sqlite3 *db = NULL; /* a new file held exclusively: not even WAL can be set */
  CHECK(sqlite3_open(f.db, &db) == SQLITE_OK);
  CHECK(sqlite3_exec(db, "BEGIN EXCLUSIVE; CREATE TABLE t(x);", NULL, NULL, NULL) ==
        SQLITE_OK);
  trove_store *st = NULL;
  trove_err e = {0};
  trove_store_opts o = {.path = f.db, .busy_timeout_ms = 50};
  CHECK(trove_store_open(&o, &st, &e) == TROVE_EBUSY && !st);
  CHECK(strstr(e.msg, "locked") && strstr(e.msg, "50 ms"));
  sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
  sqlite3_close(db);
  st = fx_open(&f); /* once released, it opens */
  trove_store_close(st);
  fx_done(&f);
}

static void store_alloc_hook_after_sqlite_use_is_ebusy(void) {
  /* Earlier cases already used SQLite: too late to swap its allocator. */
  CHECK(trove_store_use_alloc_hook() == TROVE_EBUSY);
}

static void store_batch_misuse_is_einval_and_rollback_discards(void) {
  fx f;
  fx_init(&f);
  trove_store *st = fx_open(&f);
  trove_err e = {0};
  CHECK(trove_store_commit(st, &e) == TROVE_EINVAL);
  CHECK(trove_store_begin(st, &e) == 0);
  CHECK(trove_store_begin(st, &e) == TROVE_EINVAL);
  CHECK(trove_store_source_add(st, "gone", "fs", "/d", NULL, NULL, &e) == 0);
  trove_store_rollback(st);
  trove_store_rollback(st); /* no batch: a no-op */
  trove_store_source s;
  CHECK(trove_store_source_get(st, "gone", &s, &e) == TROVE_ENOENT);
  CHECK(trove_store_begin(st, &e) == 0); /* a batch left open is rolled back at close */
  CHECK(trove_store_source_add(st, "gone", "fs", "/d", NULL, NULL, &e) == 0);
  trove_store_close(st);
  st = fx_open(&f);
  CHECK(trove_store_source_get(st, "gone", &s, &e) == TROVE_ENOENT);
  trove_store_close(st);
  fx_done(&f);
}

static void store_sources_add_get_list_and_errors(void) {
  fx f;
  fx_init(&f);
  trove_store *st = fx_open(&f);
  trove_err e = {0};
  int64_t a, b;
  CHECK(trove_store_source_add(st, "web", "chromium-history", "/p", "{\"x\":1}", &b, &e) == 0);
  CHECK(trove_store_source_add(st, "docs", "fs", "/d", NULL, &a, &e) == 0 && a != b);
  CHECK(trove_store_source_add(st, "docs", "fs", "/e", NULL, NULL, &e) == TROVE_EEXIST);
  CHECK(strstr(e.msg, "docs") != NULL);
  CHECK(trove_store_source_add(st, "", "fs", "/e", NULL, NULL, &e) == TROVE_EINVAL);
  CHECK(trove_store_source_add(st, "n", NULL, "/e", NULL, NULL, &e) == TROVE_EINVAL);
  CHECK(trove_store_source_add(st, "n", "fs", "/e", "{bad", NULL, &e) == TROVE_EINVAL);
  CHECK(strstr(e.msg, "JSON") != NULL);
  trove_store_source s;
  CHECK(trove_store_source_get(st, "nope", &s, &e) == TROVE_ENOENT);
  CHECK(strstr(e.msg, "trove source list") != NULL);
  trove_store_source *v = NULL;
  size_t n = 0;
  CHECK(trove_store_source_list(st, &v, &n, &e) == 0 && n == 2);
  CHECK(n == 2 && strcmp(v[0].name, "docs") == 0 && strcmp(v[1].name, "web") == 0);
  CHECK(n == 2 && strcmp(v[0].config, "{}") == 0 && strcmp(v[1].config, "{\"x\":1}") == 0);
  CHECK(n == 2 && v[0].status == TROVE_SOURCE_READY && v[0].scan_version == 0);
  trove_store_sources_free(v, n);
  CHECK(trove_store_source_names(st, &v, &n, &e) == 0 && n == 2); /* ids and names only */
  CHECK(n == 2 && v[0].id == a && strcmp(v[0].name, "docs") == 0 && !v[0].type && !v[0].config);
  CHECK(n == 2 && v[1].id == b && strcmp(v[1].name, "web") == 0 && !v[1].location);
  trove_store_sources_free(v, n);
  CHECK(trove_store_source_names(st, NULL, &n, &e) == TROVE_EINVAL);
  char *name = NULL;
  CHECK(trove_store_source_name(st, a, &name, &e) == 0 && name && strcmp(name, "docs") == 0);
  trove_free(name);
  CHECK(trove_store_source_name(st, a + b + 1, &name, &e) == 0 && name == NULL);
  CHECK(trove_store_source_name(st, a, NULL, &e) == TROVE_EINVAL);
  trove_store_close(st);
  fx_done(&f);
}

static void store_scan_begin_and_finish_record_status(void) {
  fx f;
  fx_init(&f);
  trove_store *st = fx_open(&f);
  trove_err e = {0};
  int64_t id, v1, v2;
  CHECK(trove_store_source_add(st, "docs", "fs", "/d", NULL, &id, &e) == 0);
  CHECK(trove_store_scan_begin(st, id, &v1, &e) == 0);
  CHECK(trove_store_scan_begin(st, id, &v2, &e) == 0 && v2 == v1 + 1);
  trove_store_source s;
  /* indexing only while a scan holds the lock; else it was interrupted */
  CHECK(trove_store_source_get(st, "docs", &s, &e) == 0 && s.status == TROVE_SOURCE_INTERRUPTED);
  trove_store_source_clear(&s);
  CHECK(trove_store_scan_lock(st, false, NULL, &e) == 0);
  CHECK(trove_store_source_get(st, "docs", &s, &e) == 0 && s.status == TROVE_SOURCE_INDEXING);
  trove_store_source_clear(&s);
  trove_store *other = fx_open(&f); /* another handle sees the lock too */
  trove_store_source *v = NULL;
  size_t n = 0;
  CHECK(trove_store_source_list(other, &v, &n, &e) == 0 && n == 1 &&
        v[0].status == TROVE_SOURCE_INDEXING);
  trove_store_sources_free(v, n);
  trove_store_close(other);
  trove_store_scan_unlock(st);
  CHECK(trove_store_scan_finish(st, id, TROVE_SOURCE_ERROR, "disk gone", 12, 345, &e) == 0);
  CHECK(trove_store_source_get(st, "docs", &s, &e) == 0);
  CHECK(s.status == TROVE_SOURCE_ERROR && strcmp(s.status_msg, "disk gone") == 0);
  CHECK(s.scanned == 12 && s.last_scan_ms == 345 && s.last_scan_at > 0 && s.scan_version == v2);
  trove_store_source_clear(&s);
  CHECK(trove_store_scan_begin(st, id + 100, &v1, &e) == TROVE_ENOENT);
  CHECK(trove_store_scan_finish(st, id + 100, TROVE_SOURCE_READY, NULL, 0, 0, &e) ==
        TROVE_ENOENT);
  CHECK(trove_store_scan_finish(st, id, (trove_source_status)7, NULL, 0, 0, &e) ==
        TROVE_EINVAL);
  CHECK(trove_store_scan_finish(st, id, TROVE_SOURCE_READY, NULL, -1, 0, &e) == TROVE_EINVAL);
  trove_store_close(st);
  fx_done(&f);
}

static void store_source_remove_takes_items_passages_vectors(void) {
  fx f;
  fx_init(&f);
  trove_store *st = fx_open(&f);
  trove_err e = {0};
  int64_t a, b, item, keep;
  CHECK(trove_store_source_add(st, "a", "fs", "/a", NULL, &a, &e) == 0);
  CHECK(trove_store_source_add(st, "b", "fs", "/b", NULL, &b, &e) == 0);
  trove_store_item it = fx_item("one", "Title one", "alpha beta gamma", 1);
  CHECK(trove_store_item_upsert(st, a, &it, &item, &e) == 0);
  CHECK(trove_store_item_upsert(st, b, &it, &keep, &e) == 0);
  trove_store_passage p[2] = {{.ordinal = 0, .start = 0, .end = 5},
                              {.ordinal = 1, .start = 6, .end = 10}};
  int64_t pid[2];
  float vec[2 * 4] = {1, 2, 3, 4, 5, 6, 7, 8};
  CHECK(trove_store_item_embed(st, item, "m", p, vec, 2, 4, pid, NULL, &e) == 0);
  trove_store_ids gone = {0};
  CHECK(trove_store_source_remove(st, "nope", &gone, &e) == TROVE_ENOENT && gone.n == 0);
  CHECK(trove_store_source_remove(st, "a", &gone, &e) == 0);
  CHECK(gone.n == 2 && gone.v[0] == pid[0] && gone.v[1] == pid[1]);
  trove_store_item got;
  CHECK(trove_store_item_get(st, item, false, &got, &e) == TROVE_ENOENT);
  CHECK(trove_store_item_get(st, keep, false, &got, &e) == 0);
  trove_store_item_clear(&got);
  int64_t version, count;
  size_t dim;
  CHECK(trove_store_vectors_version(st, "m", &version, &dim, &count, &e) == 0 && count == 0);
  CHECK(trove_store_check(st, &e) == 0); /* the FTS rows went with the cascade */
  trove_store_ids_free(&gone);
  trove_store_close(st);
  fx_done(&f);
}

int main(void) {
  RUN(store_open_creates_dirs_schema_and_wal);
  RUN(store_open_migrates_an_older_schema_step_by_step);
  RUN(store_open_zero_byte_file_is_new_db);
  RUN(store_open_a_file_that_is_not_sqlite_is_not_trove_s);
  RUN(store_open_scribbled_db_is_corrupt);
  RUN(store_open_foreign_db_is_unsupported);
  RUN(store_open_foreign_db_changes_nothing);
  RUN(store_open_a_directory_says_so);
  RUN(store_open_newer_schema_is_unsupported);
  RUN(store_open_without_wal_is_refused);
  RUN(store_open_readonly_dir_or_file_fails_with_eio);
  RUN(store_open_read_only_ok_reads_a_read_only_folder);
  RUN(store_open_unmakeable_dir_fails_with_eio);
  RUN(store_open_bad_arguments_are_einval);
  RUN(store_default_path_follows_env);
  RUN(store_second_writer_gets_ebusy_after_timeout);
  RUN(store_open_locked_file_is_ebusy);
  RUN(store_alloc_hook_after_sqlite_use_is_ebusy);
  RUN(store_batch_misuse_is_einval_and_rollback_discards);
  RUN(store_sources_add_get_list_and_errors);
  RUN(store_scan_begin_and_finish_record_status);
  RUN(store_source_remove_takes_items_passages_vectors);
  return check_done("store_test");
}
