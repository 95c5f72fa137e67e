/* store_lock.c: the scan lock, one per database. A scan, a reprocess and a
 * source removal each change many items over many transactions, and two of
 * them interleaved lose data: one scan's end-of-scan delete removes what the
 * other stamped with an older version, and a forced rewrite then inserts
 * the item again under a new id, without its hide flag. So they hold this
 * lock from start to end; readers (search, print, stats) and single-row
 * writes (hide) never take it.
 *
 * HOW IT WORKS: an exclusive flock(2) on "<db>.lock" beside the database.
 * Rejected: a row taken in a transaction, which outlives a killed holder
 * (a stale lock a user must clear) or, held as an open transaction, blocks
 * every other writer and the WAL checkpoint for the whole scan. The kernel
 * drops a flock when the holder's last descriptor closes, kill -9 included,
 * so the lock never goes stale. Each handle opens the file itself: two
 * open file descriptions exclude each other even inside one process.
 * The holder writes its pid into the file, read only for the waiter's
 * message (racy by design: a waiter may read it half-written or empty, and
 * then names no pid). The file is never unlinked: a waiter that opened it
 * before the unlink would lock a file nobody else sees.
 *
 * trove_store_scan_running probes the lock with a shared flock taken and
 * dropped at once (a held exclusive lock refuses it). For those few
 * microseconds a scan's own non-blocking attempt would fail, so the
 * scanner retries briefly (PROBE_GRACE_MS) before it reports the lock held
 * or waits saying so: a probe never delays a scan, nor fails --no-wait.
 */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

/* The pid the holder wrote, 0 when unknown. */
static long holder_pid(int fd) {
  char buf[24] = {0};
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  return n > 0 ? strtol(buf, NULL, 10) : 0;
}

/* Writes our pid into the lock file (best effort: only a message uses it). */
static void note_pid(int fd) {
  char buf[24];
  int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
  ssize_t w = ftruncate(fd, 0) == 0 ? pwrite(fd, buf, (size_t)n, 0) : -1;
  (void)w; /* benign: the lock holds without the pid */
}

static int open_lock_file(trove_store *st, int *fd, trove_err *err) {
  size_t n = strlen(st->path) + sizeof ".lock";
  char *path = trove_malloc(n);
  if (!path)
    return trove_err_set(err, TROVE_ENOMEM, "out of memory locking database %s", st->path);
  snprintf(path, n, "%s.lock", st->path);
  *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  int rc = *fd < 0 ? trove_err_set(err, TROVE_EIO, "cannot open the scan lock %s (%s); check "
                                   "that the database's directory is writable", path,
                                   strerror(errno))
                   : 0;
  trove_free(path);
  return rc;
}

/* flock(fd, op), retried on EINTR. 0 or errno. */
static int flock_retry(int fd, int op) {
  while (flock(fd, op) != 0)
    if (errno != EINTR)
      return errno;
  return 0;
}

/* How long a non-blocking attempt keeps retrying before it takes the lock
 * for held: far longer than a probe holds its shared lock. */
enum { PROBE_GRACE_MS = 20 };

/* LOCK_EX | LOCK_NB, retried for PROBE_GRACE_MS while refused. */
static int try_exclusive(int fd) {
  int e = flock_retry(fd, LOCK_EX | LOCK_NB);
  for (int ms = 0; e == EWOULDBLOCK && ms < PROBE_GRACE_MS; ms++) {
    struct timespec ts = {0, 1000000L};
    nanosleep(&ts, NULL);
    e = flock_retry(fd, LOCK_EX | LOCK_NB);
  }
  return e;
}

bool trove_store_scan_running(trove_store *st) {
  if (!st)
    return false;
  if (st->lock_depth > 0)
    return true;
  size_t n = strlen(st->path) + sizeof ".lock";
  char *path = trove_malloc(n);
  if (!path)
    return true; /* unknown: do not call a live scan interrupted */
  snprintf(path, n, "%s.lock", st->path);
  int fd = open(path, O_RDONLY | O_CLOEXEC); /* no O_CREAT: a reader creates nothing */
  trove_free(path);
  if (fd < 0)
    return errno != ENOENT; /* no file: no scan ever locked this database */
  int e = flock_retry(fd, LOCK_SH | LOCK_NB);
  close(fd); /* releases the shared lock, if it was taken */
  return e != 0;
}

int trove_store_scan_lock(trove_store *st, bool wait, FILE *notice, trove_err *err) {
  if (!st)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_scan_lock: NULL store");
  if (st->lock_depth > 0) {
    st->lock_depth++;
    return 0;
  }
  int fd = -1, rc = open_lock_file(st, &fd, err);
  if (rc)
    return rc;
  int e = try_exclusive(fd);
  if (e == EWOULDBLOCK) {
    long pid = holder_pid(fd);
    char who[40] = "";
    if (pid > 0)
      snprintf(who, sizeof who, " (pid %ld)", pid);
    if (!wait) {
      close(fd);
      return trove_err_set(err, TROVE_EBUSY, "another scan of %s is running%s; try again "
                           "when it has finished", st->path, who);
    }
    if (notice) {
      trove_term_line(notice, "trove: another scan of %s is running%s; waiting for it to "
                      "finish", st->path, who);
      fflush(notice);
    }
    e = flock_retry(fd, LOCK_EX);
  }
  if (e) {
    close(fd);
    return trove_err_set(err, TROVE_EIO, "cannot lock %s.lock (%s)", st->path, strerror(e));
  }
  note_pid(fd);
  st->lock_fd = fd;
  st->lock_depth = 1;
  return 0;
}

void trove_store_scan_unlock(trove_store *st) {
  if (!st || st->lock_depth == 0 || --st->lock_depth > 0)
    return;
  /* truncating first would let a waiter that just locked it lose its pid;
   * the close alone releases the lock, and the next holder rewrites it */
  close(st->lock_fd);
  st->lock_fd = -1;
}
