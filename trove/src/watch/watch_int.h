/* watch_int.h: what the watcher's files share: the watched source and the
 * watcher itself. watch.c runs the loop and the browser sources;
 * watch_fs.c keeps an fs source's inotify watches and turns events into
 * changed paths. */
#ifndef TROVE_WATCH_INT_H
#define TROVE_WATCH_INT_H

#include "watch.h"

#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* One watched directory: inotify's descriptor for it and its path. */
typedef struct watch_dir {
  int wd;
  char *path; /* absolute, as the source's root spells it */
} watch_dir;

/* A browser file's identity as stat gives it; size -1: missing. */
typedef struct watch_stamp {
  int64_t size, mtime_ns;
} watch_stamp;

/* One watched source. */
typedef struct watch_source {
  char *name, *type, *location;
  bool is_fs;
  /* a full scan: wanted (at the start, an overflow, a change of a browser
   * file, a fallback period) and due at full_at (monotonic seconds) */
  bool needs_full;
  double full_at;
  /* fs: the inotify instance, its watches (sorted by wd: the kernel hands
   * them out increasing) and the changed paths gathered since the last scan */
  int ifd;            /* -1: none (fallback) */
  watch_dir *dirs;
  size_t n_dirs, cap_dirs;
  bool fallback;      /* not every directory is watched: periodic scans */
  bool fake_overflow; /* test hook: the next read reports an overflow */
  char **pending;
  size_t n_pending, cap_pending;
  double first_at, last_at; /* the burst's first and last event; 0: none */
  /* browser: the files whose stamps are compared */
  char *files[2];
  size_t n_files;
  watch_stamp stamps[2];
  double poll_at;
} watch_source;

struct trove_watch {
  trove_store *st;
  trove_watch_opts o;   /* defaults filled in */
  int lock_fd;          /* the flock on "<db>.watch" */
  int stop_pipe[2];     /* trove_watch_stop writes, the loop polls */
  _Atomic bool stopped; /* set by trove_watch_stop (relaxed: the pipe is
                           what wakes the loop; this only answers
                           trove_watch_stopped) */
  watch_source *src;
  size_t n_src;
  struct pollfd *fds;   /* room for the stop pipe and every source */
};

/* Monotonic seconds. */
double trove_watch__now(void);

/* Sets up s's inotify watches over its root (s->location). Without
 * inotify, or at the watch limit, s falls back to periodic scans (logged
 * once). 0 or TROVE_ENOMEM. */
int trove_watch__fs_start(trove_watch *w, watch_source *s);

/* Reads every event queued for s and gathers the changed paths (or wants
 * a full scan: an overflow, too many paths, the root gone). 0, TROVE_ENOMEM
 * or TROVE_EIO (the read failed). */
int trove_watch__fs_read(trove_watch *w, watch_source *s);

/* Drops s's pending paths. */
void trove_watch__fs_clear(watch_source *s);

/* Sorts s's pending paths, dropping repeats and paths under another one. */
void trove_watch__fs_compact(watch_source *s);

/* Removes every watch and frees what s's fs part holds. */
void trove_watch__fs_close(watch_source *s);

/* Logs one line ("trove: " + fmt) to w's log, when it has one. */
void trove_watch__log(const trove_watch *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* TROVE_WATCH_INT_H */
