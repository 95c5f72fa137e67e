/* store.c: opening and closing trove's database, and the plumbing the other
 * store files share: the statement cache, savepoints, batches, and the one
 * place SQLite's result codes become TROVE_E* codes with a next step.
 *
 * Open order matters: the busy timeout is set first so every later pragma
 * waits for another writer instead of failing; the ownership check
 * (schema.c: trove's application_id, or an empty file) is the first read of
 * the file, before anything writes to it, so another program's database is
 * refused untouched and a file that is not a database fails there with a
 * clear message. `PRAGMA journal_mode=WAL` comes next (it rewrites the
 * header of a file in another mode); its answer is checked, since SQLite
 * silently keeps another mode where WAL is impossible (and ignores a
 * misspelt pragma the same way). Then foreign keys (per connection, off by
 * default) make item deletes cascade to passages and vectors, and
 * synchronous=NORMAL: in WAL mode a crash may lose the last commits but
 * never corrupts, and a rescan redoes them. schema.c migrates last.
 *
 * Write calls are atomic on their own (a savepoint inside a caller's batch,
 * BEGIN IMMEDIATE outside one; see trove_store__save), so they compose inside a
 * batch (BEGIN IMMEDIATE ... COMMIT) and outside it.
 */
#include "store_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { DEFAULT_BUSY_MS = 5000 };

/* ---- errors ---------------------------------------------------------------- */

/* What to do with a damaged database: move it away and rebuild, with the
 * sources coming back from the sidecar (store_sidecar.c) when it is there,
 * else added again by hand. */
static const char *corrupt_advice(const trove_store *st) {
  if (st && st->path && trove_store__sources_kept(st))
    return "move it away and run `trove scan` to rebuild: the new database gets its "
           "sources back from the copy kept beside it (.sources.json)";
  return "move it away, add its sources again with `trove source add` and run `trove scan` "
         "to rebuild";
}

static const char *why(trove_store *st, int rc) {
  if (st && st->db && (sqlite3_errcode(st->db) & 0xff) == (rc & 0xff))
    return sqlite3_errmsg(st->db);
  return sqlite3_errstr(rc);
}

int trove_store__step_one(trove_store *st, sqlite3_stmt *s, const char *what, trove_err *err,
                          const char *missing_fmt, ...) {
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW)
    return 0;
  if (rc != SQLITE_DONE)
    return trove_store__fail(st, rc, what, err);
  char msg[sizeof err->msg];
  va_list ap;
  va_start(ap, missing_fmt);
  vsnprintf(msg, sizeof msg, missing_fmt, ap);
  va_end(ap);
  return trove_err_set(err, TROVE_ENOENT, "%s", msg);
}

int trove_store__fail(trove_store *st, int rc, const char *what, trove_err *err) {
  const char *path = st && st->path ? st->path : "(unknown)";
  const char *msg = why(st, rc);
  if (rc == SQLITE_IOERR_NOMEM)
    rc = SQLITE_NOMEM;
  switch (rc & 0xff) {
  case SQLITE_NOMEM:
    return trove_err_set(err, TROVE_ENOMEM, "out of memory while %s", what);
  case SQLITE_NOTADB:
  case SQLITE_CORRUPT:
    return trove_err_set(err, TROVE_ECORRUPT, "database %s is corrupt (%s) while %s; %s",
                         path, msg, what, corrupt_advice(st));
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    return trove_err_set(err, TROVE_EBUSY,
                         "database %s is locked by another trove process (waited %d ms) "
                         "while %s; wait for it to finish or stop it", path,
                         st ? st->busy_ms : 0, what);
  case SQLITE_READONLY:
    return trove_err_set(err, TROVE_EIO,
                         "database %s is read-only (%s) while %s; check the permissions "
                         "of the file and its directory, or set TROVE_DB", path, msg, what);
  case SQLITE_CANTOPEN:
  case SQLITE_PERM:
    return trove_err_set(err, TROVE_EIO,
                         "cannot open database %s (%s); check that its directory is "
                         "writable, or set TROVE_DB", path, msg);
  case SQLITE_FULL:
    return trove_err_set(err, TROVE_EIO, "disk full writing database %s while %s; free "
                         "space and rerun", path, what);
  case SQLITE_IOERR:
    return trove_err_set(err, TROVE_EIO, "I/O error on database %s (%s) while %s; check "
                         "the disk", path, msg, what);
  default:
    return trove_err_set(err, TROVE_EDB, "database %s refused %s: %s", path, what, msg);
  }
}

/* ---- statements ---------------------------------------------------------------- */

int trove_store__stmt(trove_store *st, enum trove_store__slot slot, const char *sql,
                      sqlite3_stmt **out, trove_err *err) {
  if (!st->stmt[slot]) {
    int rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[slot],
                                NULL);
    if (rc != SQLITE_OK) {
      st->stmt[slot] = NULL;
      return trove_store__fail(st, rc, "preparing a statement", err);
    }
  }
  *out = st->stmt[slot];
  return 0;
}

void trove_store__done(sqlite3_stmt *s) {
  if (s) {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
}

int trove_store__exec(trove_store *st, const char *sql, const char *what, trove_err *err) {
  int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
  return rc == SQLITE_OK ? 0 : trove_store__fail(st, rc, what, err);
}

static int run_slot(trove_store *st, enum trove_store__slot slot, const char *sql, trove_err *err) {
  sqlite3_stmt *s = NULL;
  int rc = trove_store__stmt(st, slot, sql, &s, err);
  if (rc)
    return rc;
  int src = sqlite3_step(s);
  trove_store__done(s);
  return src == SQLITE_DONE ? 0 : trove_store__fail(st, src, "running a savepoint", err);
}

int trove_store__writable(trove_store *st, trove_err *err) {
  if (st->in_batch && sqlite3_get_autocommit(st->db))
    return trove_err_set(err, TROVE_EIO, "database %s rolled the batch back after an "
                         "earlier error; roll back and redo the batch", st->path);
  return 0;
}

int trove_store__save(trove_store *st, bool *own, trove_err *err) {
  int rc = trove_store__writable(st, err);
  if (rc)
    return rc;
  *own = sqlite3_get_autocommit(st->db) != 0;
  if (*own) /* take the write lock first: see store_int.h */
    return trove_store__exec(st, "BEGIN IMMEDIATE", "starting a write", err);
  return run_slot(st, SLOT_SAVEPOINT, "SAVEPOINT op", err);
}

int trove_store__release(trove_store *st, bool own, trove_err *err) {
  int rc = own ? trove_store__exec(st, "COMMIT", "committing a write", err)
               : run_slot(st, SLOT_RELEASE, "RELEASE op", err);
  if (rc)
    trove_store__undo(st, own);
  return rc;
}

void trove_store__undo(trove_store *st, bool own) {
  /* Benign when SQLite already rolled everything back (after an I/O error
   * or OOM it may): the transaction or savepoint is gone and this fails
   * harmlessly. */
  if (own) {
    if (!sqlite3_get_autocommit(st->db))
      sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return;
  }
  run_slot(st, SLOT_ROLLBACK_TO, "ROLLBACK TO op", NULL);
  run_slot(st, SLOT_RELEASE, "RELEASE op", NULL);
}

int trove_store__bind_text(sqlite3_stmt *s, int i, const char *v) {
  /* STATIC, not TRANSIENT: a copy could fail for memory and silently leave
   * the parameter NULL. The caller's string outlives the binding, since
   * every statement is reset and unbound (trove_store__done) or finalized before
   * the call that bound it returns. */
  return v ? sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(s, i);
}

bool trove_store__col_dup(sqlite3_stmt *s, int i, char **out) {
  const unsigned char *t = sqlite3_column_text(s, i);
  if (!t) {
    *out = NULL;
    /* NULL text is either SQL NULL or SQLite failing to convert (OOM). */
    return sqlite3_column_type(s, i) == SQLITE_NULL;
  }
  *out = trove_strndup((const char *)t, (size_t)sqlite3_column_bytes(s, i));
  return *out != NULL;
}

int trove_store__grow(void **v, size_t *cap, size_t len, size_t size) {
  if (len < *cap)
    return 0;
  size_t ncap = *cap ? *cap * 2 : 16, bytes;
  if (ncap < *cap || !trove_mul_ok(ncap, size, &bytes))
    return TROVE_ENOMEM;
  void *nv = trove_realloc(*v, bytes);
  if (!nv)
    return TROVE_ENOMEM;
  *v = nv;
  *cap = ncap;
  return 0;
}

int trove_store__ids_push(trove_store_ids *ids, int64_t id) {
  void *v = ids->v;
  if (trove_store__grow(&v, &ids->cap, ids->n, sizeof *ids->v))
    return TROVE_ENOMEM;
  ids->v = v;
  ids->v[ids->n++] = id;
  return 0;
}

int trove_store__collect_rows(trove_store *st, int prep_rc, sqlite3_stmt *s, trove_store_ids *ids,
                              const char *what, trove_err *err) {
  size_t keep = ids->n;
  int rc = prep_rc;
  if (rc == SQLITE_OK)
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
      if (trove_store__ids_push(ids, sqlite3_column_int64(s, 0))) {
        rc = SQLITE_NOMEM;
        break;
      }
  sqlite3_finalize(s);
  if (rc == SQLITE_DONE)
    return 0;
  ids->n = keep;
  return trove_store__fail(st, rc, what, err);
}

int trove_store__read_rows(trove_store *st, sqlite3_stmt *s, size_t elem_size,
                           trove_store__row_fn read, trove_store__rows_free_fn free_rows,
                           void **out, size_t *n, const char *what, trove_err *err) {
  void *v = NULL;
  size_t len = 0, cap = 0;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (trove_store__grow(&v, &cap, len, elem_size)) {
      rc = trove_err_set(err, TROVE_ENOMEM, "out of memory %s", what);
      break;
    }
    if ((rc = read(st, s, (char *)v + len * elem_size, err)))
      break;
    len++;
  }
  if (rc == SQLITE_DONE) {
    *out = v;
    *n = len;
    return 0;
  }
  free_rows(v, len);
  return rc < 0 ? rc : trove_store__fail(st, rc, what, err); /* < 0: a trove code, err set */
}

int trove_store__collect_ids(trove_store *st, const char *sql, int64_t a, int64_t b,
                             trove_store_ids *ids, trove_err *err) {
  sqlite3_stmt *s = NULL;
  int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_int64(s, 1, a);
    if (sqlite3_bind_parameter_count(s) >= 2)
      sqlite3_bind_int64(s, 2, b);
  }
  return trove_store__collect_rows(st, rc, s, ids, "collecting ids", err);
}

void trove_store_ids_free(trove_store_ids *ids) {
  if (ids) {
    trove_free(ids->v);
    ids->v = NULL;
    ids->n = ids->cap = 0;
  }
}

/* ---- path ------------------------------------------------------------------------ */

int trove_store_default_path(char **out, trove_err *err) {
  if (!out)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_default_path: NULL out");
  *out = NULL;
  const char *env = getenv("TROVE_DB");
  trove_buf b = {0};
  int rc;
  if (env && *env) {
    rc = trove_buf_puts(&b, env);
  } else {
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    if (xdg && xdg[0] == '/')
      rc = trove_buf_printf(&b, "%s/trove/trove.db", xdg);
    else if (home && *home)
      rc = trove_buf_printf(&b, "%s/.local/share/trove/trove.db", home);
    else
      return trove_err_set(err, TROVE_EINVAL, "cannot place the database: HOME is not set; "
                           "set TROVE_DB or pass --db PATH");
  }
  if (rc == 0 && !(*out = trove_buf_take(&b)))
    rc = TROVE_ENOMEM;
  trove_buf_free(&b);
  return rc ? trove_err_set(err, rc, "out of memory resolving the database path") : 0;
}

/* Creates every missing directory above the file at path (mkdir -p). */
static int make_parent_dirs(const char *path, trove_err *err) {
  char *dir = trove_strdup(path);
  if (!dir)
    return trove_err_set(err, TROVE_ENOMEM, "out of memory creating %s", path);
  int rc = 0;
  char *slash = strrchr(dir, '/');
  if (slash && slash != dir) {
    *slash = '\0';
    for (char *p = dir + 1; rc == 0; p++) {
      if (*p != '/' && *p != '\0')
        continue;
      char c = *p;
      *p = '\0';
      if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        rc = trove_err_set(err, TROVE_EIO, "cannot create directory %s for the database "
                           "(%s); create it or set TROVE_DB", dir, strerror(errno));
      *p = c;
      if (c == '\0')
        break;
    }
  }
  trove_free(dir);
  return rc;
}

/* ---- open / close ------------------------------------------------------------------ */

/* The database files this process has open, by device and inode, with
 * how many handles each: check_magic must not open one of them. A POSIX
 * record lock belongs to the process and the file, and close(2) of ANY
 * descriptor of the file drops all of the process's locks on it, SQLite's
 * included: the shared lock every WAL-mode connection holds on the
 * database file. Without it another process closing its last connection
 * takes the exclusive lock, checkpoints and deletes the WAL under this
 * one, whose later commits then go to an unlinked file (lost, and "disk
 * I/O error" after). SQLite itself shares one descriptor per file among a
 * process's connections for this reason; a file already open passed the
 * check anyway. Protected by open_files_lock. */
typedef struct open_file {
  dev_t dev;
  ino_t ino;
  size_t refs;
} open_file;
static pthread_mutex_t open_files_lock = PTHREAD_MUTEX_INITIALIZER;
static open_file *open_files;
static size_t n_open_files, cap_open_files;

/* The entry of (dev, ino), or NULL. open_files_lock held. */
static open_file *open_file_find_locked(dev_t dev, ino_t ino) {
  for (size_t i = 0; i < n_open_files; i++)
    if (open_files[i].dev == dev && open_files[i].ino == ino)
      return &open_files[i];
  return NULL;
}

static bool open_file_known(const struct stat *sb) {
  pthread_mutex_lock(&open_files_lock);
  bool known = open_file_find_locked(sb->st_dev, sb->st_ino) != NULL;
  pthread_mutex_unlock(&open_files_lock);
  return known;
}

/* Counts st's file as open (its identity kept in st). 0 or TROVE_ENOMEM. */
static int open_file_add(trove_store *st, trove_err *err) {
  struct stat sb;
  if (stat(st->path, &sb) != 0)
    return 0; /* nothing to protect from check_magic: it opens nothing */
  int rc = 0;
  pthread_mutex_lock(&open_files_lock);
  open_file *f = open_file_find_locked(sb.st_dev, sb.st_ino);
  if (!f && n_open_files == cap_open_files) {
    size_t cap = cap_open_files ? 2 * cap_open_files : 4, bytes;
    open_file *nv = trove_mul_ok(cap, sizeof *nv, &bytes) ? trove_realloc(open_files, bytes)
                                                          : NULL;
    if (nv)
      open_files = nv, cap_open_files = cap;
    else
      rc = trove_err_set(err, TROVE_ENOMEM, "out of memory opening %s", st->path);
  }
  if (rc == 0 && !f)
    (f = &open_files[n_open_files++])->refs = 0, f->dev = sb.st_dev, f->ino = sb.st_ino;
  if (rc == 0) {
    f->refs++;
    st->file_dev = sb.st_dev, st->file_ino = sb.st_ino, st->file_counted = true;
  }
  pthread_mutex_unlock(&open_files_lock);
  return rc;
}

static void open_file_drop(trove_store *st) {
  if (!st->file_counted)
    return;
  pthread_mutex_lock(&open_files_lock);
  open_file *f = open_file_find_locked(st->file_dev, st->file_ino);
  if (f && --f->refs == 0)
    *f = open_files[--n_open_files];
  if (n_open_files == 0) { /* nothing left: give the memory back (leak checkers) */
    trove_free(open_files);
    open_files = NULL, cap_open_files = 0;
  }
  pthread_mutex_unlock(&open_files_lock);
  st->file_counted = false;
}

/* Refuses a file that exists, is not empty and does not start with the
 * SQLite header: a mistyped --db (/etc/passwd, a notes file) is not a
 * damaged trove database, and "move it away and rebuild" would be bad
 * advice for it. Checked before SQLite opens the file, so nothing is
 * written, not even a journal. A file that cannot be read here, or is not
 * a regular file, is left to SQLite's open, whose message names the cause. */
static int check_magic(const char *path, trove_err *err) {
  static const char magic[16] = "SQLite format 3"; /* and its NUL */
  struct stat pre;
  if (stat(path, &pre) == 0 && open_file_known(&pre))
    return 0; /* open here already, so checked; and opening it would unlock it */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK); /* a FIFO must not block */
  if (fd < 0)
    return 0;
  struct stat sb;
  char head[16];
  ssize_t n = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) ? read(fd, head, sizeof head) : 0;
  close(fd);
  if (n == 0 || (n == (ssize_t)sizeof head && memcmp(head, magic, sizeof magic) == 0) || n < 0)
    return 0;
  return trove_err_set(err, TROVE_EUNSUPPORTED, "%s is not a trove database (not an SQLite "
                       "file; left untouched); pass the right path with --db or TROVE_DB",
                       path);
}

/* Runs `PRAGMA journal_mode=WAL`, retrying while another connection holds
 * the file. SQLite does not call the busy handler for every lock this
 * pragma needs: when several processes open a brand-new file at once, one
 * holding a shared lock while another converts the file fails at once with
 * SQLITE_BUSY. So it is retried here, within the same busy timeout. */
static int step_wal_pragma(trove_store *st, sqlite3_stmt **s) {
  int waited_ms = 0;
  for (;;) {
    int rc = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1, s, NULL);
    if (rc == SQLITE_OK)
      rc = sqlite3_step(*s);
    if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
      return rc;
    if (waited_ms >= st->busy_ms)
      return rc;
    sqlite3_finalize(*s);
    *s = NULL;
    waited_ms += sqlite3_sleep(5);
  }
}

/* Sets WAL mode and checks SQLite really uses it. */
static int set_wal(trove_store *st, trove_err *err) {
  sqlite3_stmt *s = NULL;
  int rc = step_wal_pragma(st, &s);
  if (rc != SQLITE_ROW) {
    rc = trove_store__fail(st, rc, "setting WAL mode", err);
    goto out_finalize;
  }
  const char *mode = (const char *)sqlite3_column_text(s, 0);
  if (!mode || strcmp(mode, "wal") != 0)
    rc = trove_err_set(err, TROVE_EUNSUPPORTED,
                       "database %s cannot use WAL mode (journal_mode is %s); put it on a "
                       "local filesystem or set TROVE_DB", st->path, mode ? mode : "unknown");
  else
    rc = 0;
out_finalize:
  sqlite3_finalize(s);
  return rc;
}

static int configure(trove_store *st, trove_err *err) {
  sqlite3_extended_result_codes(st->db, 1);
  int rc = sqlite3_busy_timeout(st->db, st->busy_ms);
  if (rc != SQLITE_OK)
    return trove_store__fail(st, rc, "setting the busy timeout", err);
  bool created = false;
  if ((rc = trove_store__check_owner(st, &created, err)) || (rc = set_wal(st, err)))
    return rc;
  if ((rc = trove_store__exec(st, "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;",
                              "setting pragmas", err)) ||
      (rc = trove_store__migrate(st, err)))
    return rc;
  /* a new file gets the sources its predecessor kept beside it; an existing
   * one from before the sidecar gets a sidecar */
  if (created)
    trove_store__sources_restore(st);
  else if (!trove_store__sources_kept(st))
    trove_store__sources_keep(st); /* no write lock: a search must not wait for a scan */
  return 0;
}

/* ---- read-only ------------------------------------------------------------- */

/* path as an SQLite URI file name with immutable=1 ("file:/a%3Fb?immutable=1"):
 * '%', '?' and '#' and bytes outside printable ASCII are percent-escaped. */
static char *immutable_uri(const char *path) {
  trove_buf b = {0};
  int rc = trove_buf_puts(&b, "file:");
  for (const unsigned char *p = (const unsigned char *)path; rc == 0 && *p; p++)
    rc = *p == '%' || *p == '?' || *p == '#' || *p <= ' ' || *p >= 0x7f
             ? trove_buf_printf(&b, "%%%02X", *p)
             : trove_buf_putc(&b, (char)*p);
  rc = rc ? rc : trove_buf_puts(&b, "?immutable=1");
  if (rc) {
    trove_buf_free(&b);
    return NULL;
  }
  return b.data;
}

/* True when the WAL file beside the database is missing or empty: every
 * commit is then in the main file. */
static bool wal_empty(const char *path) {
  trove_buf b = {0};
  struct stat sb;
  bool empty = trove_buf_printf(&b, "%s-wal", path) == 0 &&
               (stat(b.data, &sb) != 0 ? errno == ENOENT : sb.st_size == 0);
  trove_buf_free(&b);
  return empty;
}

/* Opens name read-only (flags adds SQLITE_OPEN_URI for a URI) and checks it
 * is a current trove database. */
static int open_ro_as(trove_store *st, const char *name, int flags, trove_err *err) {
  sqlite3_close_v2(st->db);
  st->db = NULL;
  int rc = sqlite3_open_v2(name, &st->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | flags,
                           NULL);
  if (rc != SQLITE_OK)
    return trove_store__fail(st, rc, "opening read-only", err);
  sqlite3_extended_result_codes(st->db, 1);
  if ((rc = sqlite3_busy_timeout(st->db, st->busy_ms)) != SQLITE_OK)
    return trove_store__fail(st, rc, "setting the busy timeout", err);
  if ((rc = trove_store__check_current(st, err)))
    return rc;
  return trove_store__exec(st, "PRAGMA query_only=1", "opening read-only", err);
}

/* Opens st->path for reading only, when its folder or file cannot be
 * written. A WAL database is read through its -wal and -shm files; when
 * they are not there and cannot be made (a read-only folder, after the last
 * writer closed cleanly and removed them), every commit is in the main
 * file and nobody can be writing (a writer needs those files), so it is
 * opened immutable: no locks and no shared memory. */
static int open_read_only(trove_store *st, trove_err *err) {
  for (int i = 0; i < SLOT_COUNT; i++) { /* nothing prepared on the old handle survives */
    sqlite3_finalize(st->stmt[i]);
    st->stmt[i] = NULL;
  }
  trove_err e = {0};
  int rc = open_ro_as(st, st->path, 0, &e);
  if ((rc == TROVE_EIO || rc == TROVE_EBUSY) && wal_empty(st->path)) {
    char *uri = immutable_uri(st->path);
    rc = uri ? open_ro_as(st, uri, SQLITE_OPEN_URI, &e)
             : trove_err_set(&e, TROVE_ENOMEM, "out of memory opening the database");
    trove_free(uri);
  }
  if (rc)
    return trove_err_set(err, rc, "%s", e.msg);
  st->read_only = true;
  return 0;
}

bool trove_store_read_only(const trove_store *st) { return st && st->read_only; }

/* Reads the file's first `bytes` through a memory map (SQLite's
 * mmap_size). SQLite maps no more than the file holds, remaps as it grows,
 * and caps the size at its compile-time SQLITE_MAX_MMAP_SIZE (0 on builds
 * without mmap, where this is a no-op). */
static int set_mmap(trove_store *st, int64_t bytes, trove_err *err) {
  char sql[64];
  snprintf(sql, sizeof sql, "PRAGMA mmap_size=%lld", (long long)bytes);
  sqlite3_stmt *s = NULL;
  int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(s);
    rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
  }
  sqlite3_finalize(s);
  return rc == SQLITE_OK ? 0 : trove_store__fail(st, rc, "mapping the database into memory", err);
}

int trove_store_open(const trove_store_opts *opts, trove_store **out, trove_err *err) {
  if (!out)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_open: NULL out");
  *out = NULL;
  trove_store *st = trove_calloc(1, sizeof *st);
  if (!st)
    return trove_err_set(err, TROVE_ENOMEM, "out of memory opening the database");
  st->busy_ms = opts && opts->busy_timeout_ms > 0 ? opts->busy_timeout_ms : DEFAULT_BUSY_MS;
  int rc;
  if (opts && opts->path) {
    if (!opts->path[0]) {
      rc = trove_err_set(err, TROVE_EINVAL, "empty database path; pass a file name");
      goto out_free;
    }
    rc = (st->path = trove_strdup(opts->path)) ? 0
         : trove_err_set(err, TROVE_ENOMEM, "out of memory opening the database");
  } else {
    rc = trove_store_default_path(&st->path, err);
  }
  struct stat sb;
  if (rc == 0 && stat(st->path, &sb) == 0 && S_ISDIR(sb.st_mode))
    rc = trove_err_set(err, TROVE_EINVAL, "database path %s is a directory; give a file, "
                       "e.g. %s/trove.db", st->path, st->path);
  if (rc || (rc = check_magic(st->path, err)) || (rc = make_parent_dirs(st->path, err)))
    goto out_free;
  int src = sqlite3_open_v2(st->path, &st->db,
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                            NULL);
  rc = src != SQLITE_OK ? trove_store__fail(st, src, "opening", err) : configure(st, err);
  /* a reader in a read-only place: the file is there, it or its folder
   * cannot be written (TROVE_EIO); the read-write error stays the one
   * reported when reading fails too */
  if (rc == TROVE_EIO && opts && opts->read_only_ok && stat(st->path, &sb) == 0) {
    trove_err ro = {0};
    int rrc = open_read_only(st, &ro);
    /* it read the file and refused it (damaged, an old schema...): that is
     * the news; it could not read it either: the first error is */
    if (rrc == 0)
      rc = 0, trove_err_clear(err);
    else if (rrc != TROVE_EIO && rrc != TROVE_EBUSY)
      rc = trove_err_set(err, rrc, "%s", ro.msg);
  }
  if (rc == 0)
    rc = open_file_add(st, err);
  if (rc == 0 && opts && opts->mmap_bytes > 0)
    rc = set_mmap(st, opts->mmap_bytes, err);
  if (rc)
    goto out_free;
  /* SQLite opens a file it may not write read-only without a word */
  st->read_only = st->read_only || sqlite3_db_readonly(st->db, "main") == 1;
  *out = st;
  return 0;
out_free:
  trove_store_close(st);
  return rc;
}

void trove_store_close(trove_store *st) {
  if (!st)
    return;
  for (int i = 0; i < SLOT_COUNT; i++)
    sqlite3_finalize(st->stmt[i]);
  sqlite3_finalize(st->match);
  if (st->lock_depth > 0) { /* a lock the caller forgot ends with the handle */
    st->lock_depth = 1;
    trove_store_scan_unlock(st);
  }
  /* close_v2 rolls back an open batch; every statement is finalized, so it
   * cannot be left a zombie. */
  sqlite3_close_v2(st->db);
  open_file_drop(st);
  trove_store__codec_free(st);
  trove_free(st->path);
  trove_free(st);
}

const char *trove_store_path(const trove_store *st) { return st ? st->path : NULL; }

/* ---- batches ------------------------------------------------------------------------ */

int trove_store_begin(trove_store *st, trove_err *err) {
  if (!st || st->in_batch)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_begin: %s",
                         st ? "a batch is already open" : "NULL store");
  /* A failed COMMIT whose ROLLBACK also failed (out of memory) can leave
   * SQLite inside a transaction with no batch open here: end it first, or
   * every later batch would fail with "transaction within a transaction". */
  if (!sqlite3_get_autocommit(st->db))
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
  int rc = trove_store__exec(st, "BEGIN IMMEDIATE", "starting a write batch", err);
  if (rc == 0)
    st->in_batch = true;
  return rc;
}

int trove_store_commit(trove_store *st, trove_err *err) {
  if (!st || !st->in_batch)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_commit: no batch is open");
  st->in_batch = false;
  bool sources = st->sources_dirty;
  st->sources_dirty = false;
  if (sqlite3_get_autocommit(st->db))
    return trove_err_set(err, TROVE_EIO, "database %s rolled the batch back after an "
                         "earlier error; rerun the scan", st->path);
  if (sources) /* still inside the batch's write transaction: see store_sidecar.c */
    trove_store__sources_keep(st);
  int rc = trove_store__exec(st, "COMMIT", "committing a batch", err);
  if (rc)
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
  return rc;
}

void trove_store_rollback(trove_store *st) {
  if (!st || !st->in_batch)
    return;
  st->in_batch = false;
  st->sources_dirty = false;
  if (!sqlite3_get_autocommit(st->db))
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- checks ---------------------------------------------------------------------------- */

int trove_store_check(trove_store *st, trove_err *err) {
  if (!st)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_check: NULL store");
  sqlite3_stmt *s = NULL;
  int rc = sqlite3_prepare_v2(st->db, "PRAGMA integrity_check", -1, &s, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_step(s);
  if (rc != SQLITE_ROW) {
    rc = trove_store__fail(st, rc, "checking integrity", err);
  } else {
    const char *res = (const char *)sqlite3_column_text(s, 0);
    rc = res && strcmp(res, "ok") == 0 ? 0
         : trove_err_set(err, TROVE_ECORRUPT, "database %s is corrupt (%s); %s", st->path,
                         res ? res : "?", corrupt_advice(st));
  }
  sqlite3_finalize(s);
  if (rc)
    return rc;
  /* rank 1: compare the index with the items table, not only with itself. */
  return trove_store__exec(st,
                           "INSERT INTO items_fts(items_fts, rank) VALUES('integrity-check', 1)",
                           "checking the search index", err);
}

/* ---- SQLite's allocator -------------------------------------------------------------------- */

/* Each block carries its size in a 16-byte header (xSize needs it; 16 keeps
 * the user part aligned for any type). */
enum { HDR = 16 };

static void *hook_malloc(int n) {
  if (n <= 0)
    return NULL;
  char *p = trove_malloc((size_t)n + HDR);
  if (!p)
    return NULL;
  *(size_t *)p = (size_t)n;
  return p + HDR;
}

static void hook_free(void *p) {
  if (p)
    trove_free((char *)p - HDR);
}

static void *hook_realloc(void *p, int n) {
  if (!p)
    return hook_malloc(n);
  if (n <= 0)
    return NULL;
  char *q = trove_realloc((char *)p - HDR, (size_t)n + HDR);
  if (!q)
    return NULL;
  *(size_t *)q = (size_t)n;
  return q + HDR;
}

static int hook_size(void *p) { return p ? (int)*(size_t *)((char *)p - HDR) : 0; }
static int hook_roundup(int n) { return (n + 7) & ~7; }
static int hook_init(void *app) { (void)app; return SQLITE_OK; }
static void hook_shutdown(void *app) { (void)app; }

int trove_store_use_alloc_hook(void) {
  static const sqlite3_mem_methods methods = {
      hook_malloc, hook_free, hook_realloc, hook_size, hook_roundup, hook_init,
      hook_shutdown, NULL};
  return sqlite3_config(SQLITE_CONFIG_MALLOC, &methods) == SQLITE_OK ? 0 : TROVE_EBUSY;
}
