/* store_lock_test.c: the scan lock (trove_store_scan_lock). Proves: a second
 * handle, in this process or another, is refused with TROVE_EBUSY naming
 * the holder's pid; the holder may take it again (reentrant) and only the
 * last unlock releases it; closing the handle releases it; a holder killed
 * with SIGKILL leaves no stale lock; trove_store_scan_running tells a held
 * lock from a free one without creating the lock file, and its probe never
 * makes a --no-wait lock fail. */
#include "store.h"

#include "check.h"

#include <sqlite3.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64], db[96];

static trove_store *open_db(void) {
  trove_store *st = NULL;
  trove_store_opts o = {.path = db};
  trove_err e = {0};
  CHECK(trove_store_open(&o, &st, &e) == 0);
  return st;
}

static bool try_lock(trove_store *st, trove_err *e) {
  return trove_store_scan_lock(st, false, NULL, e) == 0;
}

static void second_handle_is_refused_until_last_unlock(void) {
  trove_store *a = open_db(), *b = open_db();
  trove_err e = {0};
  CHECK(try_lock(a, &e) && try_lock(a, &e)); /* reentrant */
  CHECK(trove_store_scan_lock(b, false, NULL, &e) == TROVE_EBUSY);
  char pid[32];
  snprintf(pid, sizeof pid, "pid %ld", (long)getpid());
  CHECK(strstr(e.msg, "another scan") && strstr(e.msg, pid) && strstr(e.msg, db));
  trove_store_scan_unlock(a);
  CHECK(!try_lock(b, &e)); /* still held once */
  trove_store_scan_unlock(a);
  CHECK(try_lock(b, &e));
  CHECK(!try_lock(a, &e));
  trove_store_close(b); /* closing releases it */
  CHECK(try_lock(a, &e));
  trove_store_scan_unlock(a);
  trove_store_scan_unlock(a); /* one too many: a no-op */
  trove_store_scan_unlock(NULL);
  CHECK(trove_store_scan_lock(NULL, true, NULL, &e) == TROVE_EINVAL);
  trove_store_close(a);
}

static void killed_holder_leaves_no_stale_lock(void) {
  int ready[2];
  CHECK(pipe(ready) == 0);
  fflush(NULL);
  pid_t child = fork();
  if (child == 0) {
    trove_store *st = open_db();
    char ok = st && try_lock(st, NULL) ? 'y' : 'n';
    if (write(ready[1], &ok, 1) != 1)
      _exit(1);
    for (;;)
      pause(); /* holds the lock until killed */
  }
  char ok = 0;
  CHECK(read(ready[0], &ok, 1) == 1 && ok == 'y');
  trove_store *st = open_db();
  trove_err e = {0};
  char pid[32];
  snprintf(pid, sizeof pid, "pid %ld", (long)child);
  CHECK(trove_store_scan_lock(st, false, NULL, &e) == TROVE_EBUSY && strstr(e.msg, pid));
  CHECK(kill(child, SIGKILL) == 0);
  int status = 0;
  CHECK(waitpid(child, &status, 0) == child && WIFSIGNALED(status));
  CHECK(try_lock(st, &e));
  trove_store_close(st);
  close(ready[0]);
  close(ready[1]);
}

static void scan_running_probes_without_creating_the_file(void) {
  trove_store *a = open_db(), *b = open_db();
  trove_err e = {0};
  char lock[128];
  snprintf(lock, sizeof lock, "%s.lock", db);
  unlink(lock);
  CHECK(!trove_store_scan_running(a) && access(lock, F_OK) != 0); /* no file: none ran */
  CHECK(try_lock(a, &e));
  CHECK(trove_store_scan_running(a) && trove_store_scan_running(b));
  trove_store_scan_unlock(a);
  CHECK(!trove_store_scan_running(a) && !trove_store_scan_running(b));
  CHECK(!trove_store_scan_running(NULL));
  trove_store_close(a);
  trove_store_close(b);
}

static _Atomic bool probing_done;

static void *prober(void *arg) {
  trove_store *st = arg;
  while (!atomic_load_explicit(&probing_done, memory_order_relaxed)) /* a stop flag only */
    trove_store_scan_running(st);
  return NULL;
}

/* A probe holds a shared lock for microseconds; a scan's non-blocking
 * attempt meanwhile must not report the lock held. */
static void probe_never_fails_a_no_wait_lock(void) {
  trove_store *a = open_db(), *p = open_db();
  trove_err e = {0};
  pthread_t t;
  CHECK(pthread_create(&t, NULL, prober, p) == 0);
  int refused = 0;
  for (int i = 0; i < 300; i++) {
    if (!try_lock(a, &e))
      refused++;
    else
      trove_store_scan_unlock(a);
  }
  atomic_store_explicit(&probing_done, true, memory_order_relaxed);
  CHECK(pthread_join(t, NULL) == 0);
  CHECK(refused == 0);
  trove_store_close(a);
  trove_store_close(p);
}

/* Sources in the database as a fresh connection sees them; -1 on error. */
static int count_sources(void) {
  sqlite3 *c = NULL;
  sqlite3_stmt *s = NULL;
  int n = -1;
  if (sqlite3_open_v2(db, &c, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
      sqlite3_prepare_v2(c, "SELECT count(*) FROM sources", -1, &s, NULL) == SQLITE_OK &&
      sqlite3_step(s) == SQLITE_ROW)
    n = sqlite3_column_int(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(c);
  return n;
}

/* A process that, once told (a byte on the pipe *go), counts the sources
 * and exits with the count. Forked while this process has no connection
 * open, so its SQLite starts clean: a fork copies SQLite's table of open
 * files and their lock counts, which would make it skip the very locks
 * under test. */
static pid_t counter(int *go) {
  int p[2];
  if (pipe(p) != 0)
    return -1;
  pid_t pid = fork();
  if (pid == 0) {
    char c;
    close(p[1]);
    _exit(read(p[0], &c, 1) == 1 ? count_sources() & 0x7f : 0x7f);
  }
  close(p[0]);
  *go = p[1];
  return pid;
}

/* Tells the counter to count; its count, or -1. */
static int counted(pid_t pid, int go) {
  int status = 0;
  ssize_t w = write(go, "x", 1);
  close(go);
  if (w != 1 || pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
    return -1;
  return WEXITSTATUS(status);
}

/* A second handle opened beside a first (a scan's reader beside its
 * writer, a watcher's scans) must not drop the first's file locks: another
 * process closing its last connection would then take the database for
 * unused, checkpoint and delete the WAL under the first, and what the first
 * commits after is lost to every other process. */
static void a_second_open_keeps_the_first_handles_wal(void) {
  int go1 = -1, go2 = -1;
  pid_t c1 = counter(&go1), c2 = counter(&go2);
  trove_store *a = open_db(), *b = NULL;
  trove_err e = {0};
  CHECK(trove_store_source_add(a, "one", "fs", "/tmp", NULL, NULL, &e) == 0);
  b = open_db();
  trove_store_close(b);
  CHECK(counted(c1, go1) == 1); /* opens, reads, closes its last connection */
  CHECK(trove_store_source_add(a, "two", "fs", "/var", NULL, NULL, &e) == 0);
  CHECK(counted(c2, go2) == 2);
  trove_store_close(a);
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/trove-lock-XXXXXX");
  if (!mkdtemp(dir))
    return 2;
  snprintf(db, sizeof db, "%s/trove.db", dir);
  RUN(killed_holder_leaves_no_stale_lock); /* first: fork before any thread */
  RUN(a_second_open_keeps_the_first_handles_wal);
  RUN(second_handle_is_refused_until_last_unlock);
  RUN(scan_running_probes_without_creating_the_file);
  RUN(probe_never_fails_a_no_wait_lock);
  char path[128];
  const char *suffix[] = {"", ".lock", "-wal", "-shm", ".sources"};
  for (size_t i = 0; i < sizeof suffix / sizeof *suffix; i++) {
    snprintf(path, sizeof path, "%s%s", db, suffix[i]);
    unlink(path);
  }
  rmdir(dir);
  return check_done(__FILE__);
}
