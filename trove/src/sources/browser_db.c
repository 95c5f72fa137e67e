/* browser_db.c: opening a browser's SQLite database safely while the browser
 * runs. Chromium holds History locked and Firefox keeps places.sqlite in WAL
 * mode, so reading the live file either fails with SQLITE_BUSY or risks
 * seeing a half-written state. Instead the bytes are copied (POSIX locks
 * are advisory, so reading the bytes works whatever lock is held) into a
 * fresh private directory, with the -wal file when there is one so that
 * recent, not yet checkpointed visits are seen, and the copy is opened
 * read-only. The copy is deleted when the reader is done (trove_sources__browser_db_close),
 * which the readers do before open returns. A scan makes its copies inside
 * "<db>.copies" beside its database, not in /tmp: a copy of a History (a
 * person's browsing) left there by a kill or Ctrl-C is then found and
 * removed by the next scan (trove_source_copies_remove), where one in /tmp
 * stayed for good.
 *
 * This file, chromium.c and firefox.c are the only places with SQL outside
 * trove's storage module: they read the browsers' databases, not trove's.
 *
 * LIMITS: a copy taken in the middle of a browser's write transaction in
 * rollback-journal mode may be inconsistent; SQLite then reports corruption
 * and the next scan retries. The -journal file is not copied: replaying it
 * would need a writable open. */
#include "sources_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Copies src to dst (created, must not exist). 0, or TROVE_ENOENT when src
 * does not exist (optional -wal), or TROVE_EIO with errno kept. */
static int copy_file(const char *src, const char *dst) {
  int in = open(src, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (in < 0)
    return errno == ENOENT ? TROVE_ENOENT : TROVE_EIO;
  int rc = 0, out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (out < 0) {
    rc = TROVE_EIO;
    goto out_close_in;
  }
  char buf[1 << 16];
  for (;;) {
    ssize_t r = read(in, buf, sizeof buf);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0) {
      rc = r < 0 ? TROVE_EIO : 0;
      break;
    }
    for (ssize_t done = 0; done < r;) {
      ssize_t w = write(out, buf + done, (size_t)(r - done));
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0) {
        rc = TROVE_EIO;
        goto out_close_out;
      }
      done += w;
    }
  }
out_close_out:
  if (close(out) != 0 && rc == 0)
    rc = TROVE_EIO;
out_close_in : {
  int e = errno;
  close(in);
  errno = e;
}
  return rc;
}

/* dir + "/" + name. */
static char *path_join(const char *dir, const char *name) {
  char *s = trove_malloc(strlen(dir) + strlen(name) + 2);
  if (s)
    strcat(strcat(strcpy(s, dir), "/"), name);
  return s;
}

int trove_sources__browser_profile_file(const char *location, const char *name, const char *what,
                                        char **path, trove_err *err) {
  struct stat st;
  *path = NULL;
  if (stat(location, &st) != 0) {
    int e = errno;
    if (e == ENOENT || e == ENOTDIR)
      return trove_err_set(err, TROVE_ENOENT,
                           "%s profile directory %s does not exist; check the path given", what,
                           location);
    return trove_err_set(err, TROVE_EIO, "cannot access %s profile %s: %s", what, location,
                         strerror(e));
  }
  char *p = S_ISDIR(st.st_mode) ? path_join(location, name) : trove_strdup(location);
  if (!p)
    return trove_err_set(err, TROVE_ENOMEM, "out of memory opening %s", location);
  int rc = 0;
  if (stat(p, &st) != 0)
    rc = trove_err_set(err, TROVE_ENOENT,
                       "no %s in %s (%s); is this the browser's profile directory?", name, location,
                       strerror(errno));
  else if (!S_ISREG(st.st_mode))
    rc = trove_err_set(err, TROVE_EINVAL, "%s file %s is not a regular file", what, p);
  else if (st.st_size == 0)
    rc = trove_err_set(err, TROVE_ECORRUPT,
                       "%s file %s is empty (0 bytes); is the profile damaged?", what, p);
  if (rc)
    trove_free(p);
  else
    *path = p;
  return rc;
}

/* name with a suffix appended, e.g. "History-wal". */
static char *suffixed(const char *path, const char *suffix) {
  char *s = trove_malloc(strlen(path) + strlen(suffix) + 1);
  if (s)
    strcat(strcpy(s, path), suffix);
  return s;
}

/* Copies the database and its -wal into a new private directory inside
 * copy_dir (NULL: $TMPDIR or /tmp). */
static int make_copy(browser_db *bdb, const char *name, const char *what, const char *copy_dir,
                     trove_err *err) {
  const char *tmp = getenv("TMPDIR");
  const char *parent = copy_dir ? copy_dir : tmp && *tmp ? tmp : "/tmp";
  if (copy_dir && mkdir(copy_dir, 0700) != 0 && errno != EEXIST)
    return trove_err_set(err, TROVE_EIO, "cannot create %s to copy %s into: %s; check that the "
                         "database's folder is writable", copy_dir, bdb->src, strerror(errno));
  char *tmpl = suffixed(parent, "/trove-copy-XXXXXX");
  if (!tmpl)
    return trove_err_set(err, TROVE_ENOMEM, "out of memory copying %s", bdb->src);
  if (!mkdtemp(tmpl)) {
    int e = errno;
    trove_free(tmpl);
    return trove_err_set(err, TROVE_EIO, "cannot create a temporary directory in %s to copy "
                         "%s: %s; %s", parent, bdb->src, strerror(e),
                         copy_dir ? "check that the database's folder is writable" : "set TMPDIR");
  }
  bdb->dir = tmpl;
  char *wal_src = NULL, *wal_dst = NULL;
  int rc = TROVE_ENOMEM;
  if (!(bdb->file = path_join(bdb->dir, name)) || !(wal_src = suffixed(bdb->src, "-wal")) ||
      !(wal_dst = suffixed(bdb->file, "-wal"))) {
    rc = trove_err_set(err, TROVE_ENOMEM, "out of memory copying %s", bdb->src);
    goto out_free;
  }
  rc = copy_file(bdb->src, bdb->file);
  if (rc == 0) {
    rc = copy_file(wal_src, wal_dst);
    if (rc == TROVE_ENOENT)
      rc = 0; /* no -wal: nothing uncheckpointed */
  }
  if (rc)
    rc = trove_err_set(err, rc == TROVE_ENOENT ? TROVE_ENOENT : TROVE_EIO,
                       "cannot copy %s %s to %s: %s", what, bdb->src, bdb->dir, strerror(errno));
out_free:
  trove_free(wal_src);
  trove_free(wal_dst);
  return rc;
}

/* Maps a SQLite result to a trove code and message. */
static int sqlite_fail(browser_db *bdb, int rc, const char *what, trove_err *err) {
  const char *msg = bdb->db ? sqlite3_errmsg(bdb->db) : sqlite3_errstr(rc);
  int prim = rc & 0xff;
  if (prim == SQLITE_NOTADB || prim == SQLITE_CORRUPT)
    return trove_err_set(err, TROVE_ECORRUPT,
                         "%s file %s is damaged or not a SQLite database (%s)", what, bdb->src,
                         msg);
  if (prim == SQLITE_NOMEM)
    return trove_err_set(err, TROVE_ENOMEM, "out of memory reading %s %s", what, bdb->src);
  if (prim == SQLITE_ERROR && (strstr(msg, "no such table") || strstr(msg, "no such column")))
    return trove_err_set(err, TROVE_EUNSUPPORTED,
                         "%s is not a %s database (%s); is it the right file or a newer format?",
                         bdb->src, what, msg);
  return trove_err_set(err, TROVE_EDB, "cannot read %s %s: %s", what, bdb->src, msg);
}

int trove_sources__browser_db_open(const char *location, const char *name, const char *what,
                                   const char *copy_dir, browser_db *bdb, trove_err *err) {
  memset(bdb, 0, sizeof *bdb);
  int rc = trove_sources__browser_profile_file(location, name, what, &bdb->src, err);
  if (rc == 0)
    rc = make_copy(bdb, name, what, copy_dir, err);
  if (rc == 0) {
    int s = sqlite3_open_v2(bdb->file, &bdb->db, SQLITE_OPEN_READONLY, NULL);
    if (s != SQLITE_OK)
      rc = sqlite_fail(bdb, s, what, err);
  }
  if (rc)
    trove_sources__browser_db_close(bdb);
  return rc;
}

int trove_sources__browser_db_prepare(browser_db *bdb, const char *sql, const char *what,
                                      sqlite3_stmt **stmt, trove_err *err) {
  int s = sqlite3_prepare_v2(bdb->db, sql, -1, stmt, NULL);
  return s == SQLITE_OK ? 0 : sqlite_fail(bdb, s, what, err);
}

static int64_t col_time(sqlite3_stmt *q, int col, bool chromium_epoch) {
  if (sqlite3_column_type(q, col) != SQLITE_INTEGER)
    return 0; /* NULL (never visited) or junk */
  int64_t t = sqlite3_column_int64(q, col);
  return chromium_epoch ? chromium_to_unix_us(t) : (t > 0 ? t : 0);
}

int trove_sources__browser_db_collect(browser_db *bdb, const char *sql, const char *what,
                                      trove_item_type type, bool chromium_epoch, weblist *l,
                                      trove_source_stats *st, trove_err *err) {
  sqlite3_stmt *q = NULL;
  int rc = trove_sources__browser_db_prepare(bdb, sql, what, &q, err);
  if (rc)
    return rc;
  bool has_visit = sqlite3_column_count(q) > 3;
  int s;
  while ((s = sqlite3_step(q)) == SQLITE_ROW) {
    const char *url = (const char *)sqlite3_column_text(q, 0);
    const char *title = (const char *)sqlite3_column_text(q, 1);
    int64_t t = col_time(q, 2, chromium_epoch);
    int64_t visited = has_visit ? col_time(q, 3, chromium_epoch) : t;
    if ((rc = trove_sources__weblist_add(l, st, url, title, type, t, visited)) != 0) {
      rc = trove_err_set(err, rc, "out of memory reading %s %s", what, bdb->src);
      goto out_finalize;
    }
  }
  if (s != SQLITE_DONE)
    rc = sqlite_fail(bdb, s, what, err);
out_finalize:
  sqlite3_finalize(q);
  return rc;
}

/* Allocation-free, so cleanup works even when memory has run out. */
static void unlink_suffixed(const char *file, const char *suffix) {
  char p[PATH_MAX];
  if (snprintf(p, sizeof p, "%s%s", file, suffix) < (int)sizeof p)
    unlink(p);
}

void trove_sources__browser_db_close(browser_db *bdb) {
  if (bdb->db)
    sqlite3_close_v2(bdb->db);
  if (bdb->file) {
    unlink(bdb->file);
    unlink_suffixed(bdb->file, "-wal");
    unlink_suffixed(bdb->file, "-shm");
    unlink_suffixed(bdb->file, "-journal");
  }
  if (bdb->dir)
    rmdir(bdb->dir);
  trove_free(bdb->src);
  trove_free(bdb->dir);
  trove_free(bdb->file);
  memset(bdb, 0, sizeof *bdb);
}

/* ---- the copy directory of a database --------------------------------------- */

int trove_source_copy_dir(const char *db_path, char **out, trove_err *err) {
  *out = db_path ? suffixed(db_path, ".copies") : NULL;
  return *out ? 0 : trove_err_set(err, TROVE_ENOMEM, "out of memory naming the copy directory");
}

/* Empties the directory open at dfd (which this closes), descending at
 * most depth levels (a copy directory holds one level of them). 0 or an
 * errno, with the entry that failed in bad. */
static int empty_dir_at(int dfd, int depth, char *bad, size_t cap) {
  DIR *d = fdopendir(dfd);
  if (!d) {
    int e = errno;
    close(dfd);
    return e;
  }
  int e = 0;
  for (struct dirent *de; e == 0 && (errno = 0, de = readdir(d)) != NULL;) {
    const char *n = de->d_name;
    if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 || unlinkat(dirfd(d), n, 0) == 0)
      continue;
    if (errno != EISDIR && errno != EPERM) /* Linux says EISDIR for a directory, POSIX EPERM */
      e = errno;
    else if (depth == 0)
      e = ENOTEMPTY;
    else {
      int sub = openat(dirfd(d), n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      e = sub < 0 ? errno : empty_dir_at(sub, depth - 1, bad, cap);
      if (e == 0 && unlinkat(dirfd(d), n, AT_REMOVEDIR) != 0)
        e = errno;
    }
    if (e && !bad[0])
      snprintf(bad, cap, "%s", n);
  }
  e = e ? e : errno; /* readdir's own failure */
  closedir(d);
  return e;
}

int trove_source_copies_remove(const char *dir, trove_err *err) {
  if (!dir)
    return trove_err_set(err, TROVE_EINVAL, "trove_source_copies_remove: NULL directory");
  enum { DEPTH = 2 }; /* dir/trove-copy-XXXXXX/History, and one level of slack */
  char bad[256] = "";
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  int e = fd < 0 ? errno : empty_dir_at(fd, DEPTH, bad, sizeof bad);
  if (fd < 0 && (e == ELOOP || e == ENOTDIR)) /* not ours to descend: a link or a file */
    e = unlink(dir) == 0 ? 0 : errno;
  else if (fd >= 0 && e == 0 && rmdir(dir) != 0)
    e = errno;
  if (e == 0 || e == ENOENT)
    return 0;
  return trove_err_set(err, TROVE_EIO, "cannot remove %s%s%s, browser database copies an "
                       "interrupted scan left: %s; remove it by hand", dir, bad[0] ? "/" : "",
                       bad, strerror(e));
}
