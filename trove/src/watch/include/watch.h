/* watch.h: keeping sources fresh by themselves (`trove watch`).
 *
 * A watcher holds a set of sources of one database and rescans what
 * changes, on the calling thread, until stopped:
 *   fs sources       inotify on every directory under the root (hidden ones
 *                    and .git, which a scan never reads, excepted), added
 *                    for new directories as they appear. Changed paths are
 *                    gathered and, once the burst is quiet (debounce) or
 *                    has lasted max_hold_ms, go through trove_scan_paths:
 *                    extract, embed, write, and delete what is gone. A
 *                    queue overflow, more changed paths than max_pending,
 *                    or the watch limit rescan the source instead; without
 *                    watches (the limit, no inotify) it is scanned every
 *                    fallback_s, with one warning.
 *   browser sources  the profile's database files (History or
 *                    places.sqlite, their -wal; Bookmarks) are stat'ed every
 *                    browser_poll_s; when a size or mtime changed, the
 *                    source is scanned (trove_scan_source: incremental, its
 *                    reader working on a copy, never on the browser's
 *                    files or lock).
 * Every source is scanned in full when the watcher starts, so what changed
 * while nobody watched is caught up. Between changes the watcher sleeps in
 * poll(2): no timer runs but the next due deadline.
 *
 * Locks: one watcher per database (an exclusive flock on "<db>.watch",
 * holding the watcher's pid for the refusal's message; the kernel drops it
 * when the process dies). The scan lock (store.h) is taken by each scan
 * only, so `trove scan` and searches run beside a watcher.
 *
 * Threads: a watcher belongs to the thread that opened it, except
 * trove_watch_stop, which any thread or a signal handler may call. The
 * scans it runs use the sluice pool as trove_scan_source does.
 */
#ifndef TROVE_WATCH_H
#define TROVE_WATCH_H

#include "core.h"
#include "scan.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct trove_store trove_store;
typedef struct trove_watch trove_watch;

typedef struct trove_watch_opts {
  /* What every scan the watcher runs is given: the embedder and vectors
   * (kept open across scans; saved when the watcher closes), progress
   * (used for the full scans; the scans of a few paths show none). */
  trove_scan_opts scan;
  FILE *log;          /* one line per scan of a change, and warnings; NULL: silent */
  int debounce_ms;    /* quiet time that ends a burst; 0: 300 */
  int max_hold_ms;    /* longest a burst holds its changes back; 0: 2000 */
  int browser_poll_s; /* between looks at a browser's files; 0: 60 */
  int fallback_s;     /* between scans of a source without watches; 0: 300 */
  size_t max_pending; /* changed paths held per source before the source is
                         rescanned instead (bounds memory); 0: 16384 */
  size_t max_watches; /* watches per source before it counts as the watch
                         limit (a test hook; 0: the kernel's limit only) */
} trove_watch_opts;

/* Opens a watcher over the sources called names[0..n) of st's database
 * (n 0: every source), taking the watch lock and setting up the inotify
 * watches; nothing is scanned yet (the first trove_watch_step does). st
 * stays the caller's and must outlive the watcher; the watcher uses it as
 * its scans' writer. *out is the caller's (trove_watch_close). Returns 0;
 * TROVE_EBUSY (another watcher holds the database: the message names its
 * pid); TROVE_ENOENT (no such source, or no sources at all); TROVE_EIO (the
 * lock file cannot be created); TROVE_ENOMEM; the store's errors. */
int trove_watch_open(trove_store *st, const char *const *names, size_t n, const trove_watch_opts *o,
                     trove_watch **out, trove_err *err);

/* Sets the embedder and vectors the watcher's scans use (both NULL: keyword
 * only), as trove_scan_opts takes them; for a caller that opens the model
 * after trove_watch_open, so that a second watcher is refused before the
 * model's load. Not during a step. Returns 0 or TROVE_EINVAL (one set
 * without the other). */
int trove_watch_set_model(trove_watch *w, const trove_embedder *e, trove_vectors *v);

/* One round: waits up to timeout_ms (-1: until the next deadline) for
 * changes or a stop, reads the changes, and scans every source whose work
 * is due (with flush: every source that has any, now, without waiting for
 * its burst to be quiet, browser files looked at whether due or not). A change made before this
 * call by the calling thread is seen by it: inotify queues events before the system call that made
 * them returns. A failed scan is logged and tried again later; it is not this call's failure.
 * Returns 0, or TROVE_ENOMEM / TROVE_EIO (reading inotify failed), after which the watcher can only
 * be closed. */
int trove_watch_step(trove_watch *w, int timeout_ms, bool flush, trove_err *err);

/* Runs rounds until trove_watch_stop, then returns 0, or the error of a
 * failed round. Pending changes not yet scanned at the stop are dropped:
 * the next start's full scans find them. */
int trove_watch_run(trove_watch *w, trove_err *err);

/* Asks trove_watch_run to return after the scan under way, if any. Any
 * thread; async-signal-safe (one write(2) to a pipe). */
void trove_watch_stop(trove_watch *w);

/* True once trove_watch_stop was called. */
bool trove_watch_stopped(const trove_watch *w);

/* Saves the vector index when one was given (waiting for the scan lock to
 * do so), releases the watch lock and frees w. NULL is fine. Returns 0 or
 * the save's error (w is freed all the same). */
int trove_watch_close(trove_watch *w, trove_err *err);

/* Test hook: makes the next read of the fs source called name report a
 * queue overflow (IN_Q_OVERFLOW), as a full kernel queue would. 0 or
 * TROVE_ENOENT. */
int trove_watch_test_overflow(trove_watch *w, const char *name);

/* Test hook: whether the fs source called name has fallen back to
 * periodic scans (the watch limit was hit, or inotify is unavailable). */
bool trove_watch_test_fallback(const trove_watch *w, const char *name);

#endif /* TROVE_WATCH_H */
