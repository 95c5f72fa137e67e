/* watch_fs.c: an fs source's inotify watches, and the changed paths its
 * events name.
 *
 * HOW IT WORKS. Each fs source has its own inotify instance, so a queue
 * overflow names the source to rescan. Every directory under the root is
 * watched but hidden ones (".git" among them): the scan never reads a
 * name starting with '.', so nothing there can change the index. Symbolic
 * links to directories are not followed (a limit: changes behind one are
 * seen by the next full scan only). Watches map to paths in an array
 * sorted by wd, as the kernel hands wds out increasing.
 *
 * An event becomes a changed path: the entry it names, or for a .gitignore
 * the directory it rules (any file below may be in or out now). A
 * directory created or moved in is watched at once, its whole subtree, and
 * is itself the changed path, so files made in it before its watch existed
 * are found by the scan's walk of it. A directory moved out or deleted
 * loses its watches (a moved one would report events under its old path)
 * and is the changed path, so its items go. A rename within the tree is
 * both. Hidden names are dropped but .gitignore: an editor's ".x.swp" or a
 * temporary file renamed over the real one is seen by its final name.
 *
 * LIMITS. The watch limit (ENOSPC, or max_watches) or no inotify at all
 * leave some directories unwatched: the source then rescans in full every
 * fallback_s, saying so once. A directory renamed between its readdir and
 * its watch keeps a stale path until the next full scan.
 */
#include "watch_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

/* What a directory watch reports: entries made, removed, renamed in or
 * out, written, or their mode changed (a file made readable); the
 * directory itself removed or renamed. */
#define WATCH_MASK                                                                        \
  (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | IN_MODIFY |    \
   IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW)

/* a + "/" + b. NULL on ENOMEM. */
static char *join(const char *a, const char *b) {
  size_t na = strlen(a), nb = strlen(b);
  bool slash = na && a[na - 1] == '/';
  char *s = trove_malloc(na + nb + 2);
  if (s) {
    memcpy(s, a, na);
    if (!slash)
      s[na++] = '/';
    memcpy(s + na, b, nb + 1);
  }
  return s;
}

/* True when path is dir or lies under it. */
static bool at_or_under(const char *path, const char *dir) {
  size_t n = strlen(dir);
  while (n > 1 && dir[n - 1] == '/')
    n--;
  return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* The index of the first watch whose wd is not below wd. */
static size_t dir_lower(const watch_source *s, int wd) {
  size_t lo = 0, hi = s->n_dirs;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (s->dirs[mid].wd < wd)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static watch_dir *dir_find(watch_source *s, int wd) {
  size_t i = dir_lower(s, wd);
  return i < s->n_dirs && s->dirs[i].wd == wd ? &s->dirs[i] : NULL;
}

static void dir_remove_at(watch_source *s, size_t i) {
  trove_free(s->dirs[i].path);
  memmove(&s->dirs[i], &s->dirs[i + 1], (s->n_dirs - i - 1) * sizeof *s->dirs);
  s->n_dirs--;
}

/* Records wd as watching path (a copy): a new wd is inserted in order, a
 * known one (the directory watched again under a new name) renamed.
 * 0 or TROVE_ENOMEM. */
static int dir_put(watch_source *s, int wd, const char *path) {
  char *p = trove_strdup(path);
  if (!p)
    return TROVE_ENOMEM;
  size_t i = dir_lower(s, wd);
  if (i < s->n_dirs && s->dirs[i].wd == wd) {
    trove_free(s->dirs[i].path);
    s->dirs[i].path = p;
    return 0;
  }
  if (s->n_dirs == s->cap_dirs) {
    size_t cap = s->cap_dirs ? 2 * s->cap_dirs : 64, bytes;
    watch_dir *nv = trove_mul_ok(cap, sizeof *nv, &bytes) ? trove_realloc(s->dirs, bytes) : NULL;
    if (!nv) {
      trove_free(p);
      return TROVE_ENOMEM;
    }
    s->dirs = nv, s->cap_dirs = cap;
  }
  memmove(&s->dirs[i + 1], &s->dirs[i], (s->n_dirs - i) * sizeof *s->dirs);
  s->dirs[i] = (watch_dir){wd, p};
  s->n_dirs++;
  return 0;
}

/* Stops watching path and everything under it. */
static void forget_under(watch_source *s, const char *path) {
  for (size_t i = s->n_dirs; i-- > 0;)
    if (at_or_under(s->dirs[i].path, path)) {
      inotify_rm_watch(s->ifd, s->dirs[i].wd); /* fails harmlessly when gone */
      dir_remove_at(s, i);
    }
}

/* The source has unwatched directories now: periodic full scans from here
 * on, and one warning. */
static void fall_back(trove_watch *w, watch_source *s, const char *why) {
  if (!s->fallback)
    trove_watch__log(w,
                     "warning: %s: %s; it is rescanned in full every %d s instead (raise "
                     "fs.inotify.max_user_watches for instant updates)",
                     s->name, why, w->o.fallback_s);
  s->fallback = true;
  s->needs_full = true;
}

/* Watches dir (no trailing '/') and every non-hidden directory under it,
 * depth first without recursion. Directories that vanish or cannot be
 * read meanwhile are passed over (the scan reports what it cannot read).
 * 0 or TROVE_ENOMEM; the watch limit makes s fall back. */
static int add_tree(trove_watch *w, watch_source *s, const char *dir) {
  char **stack = NULL;
  size_t n = 0, cap = 0;
  int rc = 0;
  char *top = trove_strdup(dir);
  if (!top)
    return TROVE_ENOMEM;
  for (;;) {
    if (!top) {
      if (n == 0)
        break;
      top = stack[--n];
    }
    bool limit = w->o.max_watches && s->n_dirs >= w->o.max_watches;
    int wd = limit ? -1 : inotify_add_watch(s->ifd, top, WATCH_MASK);
    if (wd < 0 && (limit || errno == ENOSPC)) {
      fall_back(w, s, "the inotify watch limit is reached");
      break;
    }
    if (wd < 0 && errno == ENOMEM) {
      rc = TROVE_ENOMEM;
      break;
    }
    DIR *d = wd >= 0 ? opendir(top) : NULL; /* gone or unreadable: skip */
    if (wd >= 0 && (rc = dir_put(s, wd, top)) != 0) {
      if (d)
        closedir(d);
      break;
    }
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
      if (e->d_name[0] == '.')
        continue; /* ".", "..", and hidden names the scan never reads */
      bool is_dir = e->d_type == DT_DIR;
      char *child = NULL;
      if (e->d_type == DT_UNKNOWN) { /* some file systems do not say */
        struct stat sb;
        if (!(child = join(top, e->d_name))) {
          rc = TROVE_ENOMEM;
          break;
        }
        is_dir = lstat(child, &sb) == 0 && S_ISDIR(sb.st_mode);
      }
      if (!is_dir) {
        trove_free(child);
        continue;
      }
      if (!child && !(child = join(top, e->d_name))) {
        rc = TROVE_ENOMEM;
        break;
      }
      if (n == cap) {
        size_t ncap = cap ? 2 * cap : 16, bytes;
        char **nv = trove_mul_ok(ncap, sizeof *nv, &bytes) ? trove_realloc(stack, bytes) : NULL;
        if (!nv) {
          trove_free(child);
          rc = TROVE_ENOMEM;
          break;
        }
        stack = nv, cap = ncap;
      }
      stack[n++] = child;
    }
    if (d)
      closedir(d);
    trove_free(top);
    top = NULL;
    if (rc)
      break;
  }
  trove_free(top);
  while (n > 0)
    trove_free(stack[--n]);
  trove_free(stack);
  return rc;
}

int trove_watch__fs_start(trove_watch *w, watch_source *s) {
  s->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (s->ifd < 0) {
    fall_back(w, s, strerror(errno));
    return 0;
  }
  return add_tree(w, s, s->location);
}

void trove_watch__fs_clear(watch_source *s) {
  for (size_t i = 0; i < s->n_pending; i++)
    trove_free(s->pending[i]);
  s->n_pending = 0;
  s->first_at = s->last_at = 0;
}

/* Adds path (taken) to the pending changes; past max_pending the source is
 * rescanned instead, which bounds the memory a burst can take. */
static int pend(trove_watch *w, watch_source *s, char *path) {
  double now = trove_watch__now();
  if (s->first_at == 0)
    s->first_at = now;
  s->last_at = now;
  if (s->needs_full && s->full_at == 0) { /* a full scan comes at the burst's end */
    trove_free(path);
    return 0;
  }
  if (s->n_pending >= w->o.max_pending) {
    trove_free(path);
    trove_watch__fs_clear(s);
    s->needs_full = true;
    s->first_at = s->last_at = now;
    return 0;
  }
  if (s->n_pending == s->cap_pending) {
    size_t cap = s->cap_pending ? 2 * s->cap_pending : 64, bytes;
    char **nv = trove_mul_ok(cap, sizeof *nv, &bytes) ? trove_realloc(s->pending, bytes) : NULL;
    if (!nv) {
      trove_free(path);
      return TROVE_ENOMEM;
    }
    s->pending = nv, s->cap_pending = cap;
  }
  s->pending[s->n_pending++] = path;
  return 0;
}

/* A full scan of s, wanted now: an overflow or the root gone. */
static void want_full(watch_source *s) {
  trove_watch__fs_clear(s);
  s->needs_full = true;
  s->full_at = 0;
  s->first_at = s->last_at = trove_watch__now();
}

/* Turns one event into watches and changed paths. */
static int on_event(trove_watch *w, watch_source *s, const struct inotify_event *ev) {
  if (ev->mask & IN_Q_OVERFLOW) {
    trove_watch__log(w, "%s: the change queue overflowed; rescanning the source", s->name);
    want_full(s);
    return 0;
  }
  watch_dir *d = dir_find(s, ev->wd);
  if (ev->mask & IN_IGNORED) { /* the watch is gone (its directory removed) */
    if (d)
      dir_remove_at(s, (size_t)(d - s->dirs));
    return 0;
  }
  if (!d)
    return 0; /* a watch already forgotten */
  const char *name = ev->len ? ev->name : "";
  if (!name[0]) { /* about the directory itself */
    if ((ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) && strcmp(d->path, s->location) == 0)
      want_full(s); /* the root: the scan says what became of it */
    return 0;
  }
  if (name[0] == '.' && strcmp(name, ".gitignore") != 0)
    return 0;
  char *path = strcmp(name, ".gitignore") == 0 ? trove_strdup(d->path) : join(d->path, name);
  if (!path)
    return TROVE_ENOMEM;
  int rc = 0;
  if (ev->mask & IN_ISDIR) {
    if (ev->mask & (IN_MOVED_FROM | IN_DELETE))
      forget_under(s, path);
    else if (ev->mask & (IN_CREATE | IN_MOVED_TO))
      rc = add_tree(w, s, path);
  }
  return rc ? (trove_free(path), rc) : pend(w, s, path);
}

int trove_watch__fs_read(trove_watch *w, watch_source *s) {
  if (s->fake_overflow) {
    s->fake_overflow = false;
    struct inotify_event ev = {.wd = -1, .mask = IN_Q_OVERFLOW};
    on_event(w, s, &ev);
  }
  if (s->ifd < 0)
    return 0;
  /* aligned as inotify(7) asks; holds many events, at least one of any size */
  char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
  for (;;) {
    ssize_t len = read(s->ifd, buf, sizeof buf);
    if (len < 0 && errno == EINTR)
      continue;
    if (len < 0 && errno == EAGAIN)
      return 0;
    if (len <= 0)
      return TROVE_EIO;
    for (char *p = buf; p < buf + len;) {
      const struct inotify_event *ev = (const struct inotify_event *)p;
      int rc = on_event(w, s, ev);
      if (rc)
        return rc;
      p += sizeof *ev + ev->len;
    }
  }
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* True when one of path's ancestors (cut at each '/') is among the sorted
 * v[0..n). */
static bool ancestor_in(char *path, char *const *v, size_t n) {
  for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
    *p = '\0';
    bool hit = bsearch(&(const char *){path}, v, n, sizeof *v, cmp_str) != NULL;
    *p = '/';
    if (hit)
      return true;
  }
  return false;
}

void trove_watch__fs_compact(watch_source *s) {
  if (s->n_pending > 1)
    qsort(s->pending, s->n_pending, sizeof *s->pending, cmp_str);
  /* sorted, every ancestor of a path comes before it; one that was dropped
   * as covered has its own covering ancestor kept, which covers the path */
  size_t k = 0;
  for (size_t i = 0; i < s->n_pending; i++) {
    char *p = s->pending[i];
    if ((k && strcmp(s->pending[k - 1], p) == 0) || ancestor_in(p, s->pending, k))
      trove_free(p);
    else
      s->pending[k++] = p;
  }
  s->n_pending = k;
}

void trove_watch__fs_close(watch_source *s) {
  trove_watch__fs_clear(s);
  trove_free(s->pending);
  s->pending = NULL, s->cap_pending = 0;
  for (size_t i = 0; i < s->n_dirs; i++)
    trove_free(s->dirs[i].path);
  trove_free(s->dirs);
  s->dirs = NULL, s->n_dirs = s->cap_dirs = 0;
  if (s->ifd >= 0)
    close(s->ifd); /* drops every watch */
  s->ifd = -1;
}
