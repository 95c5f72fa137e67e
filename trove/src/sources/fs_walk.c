/* fs_walk.c: the fs source: a depth-first walk of a directory that yields
 * the files matching the include globs, skipping what .gitignore files,
 * exclude globs and hidden names rule out, the .git directory, and loops.
 *
 * HOW IT WORKS. A stack of pending directories replaces recursion, so depth
 * costs heap, not C stack, and the walk can stop after any batch and resume
 * in the next trove_source_next. Loading a directory reads all its names at
 * once and closes it (one open descriptor at a time, whatever the depth),
 * sorts them (a stable, testable order), reads its .gitignore, stats each
 * entry with fstatat (relative to the open directory: no path rebuilding per
 * entry), and decides: matching files go to the current file list, which
 * next() drains into batches; subdirectories are pushed, in reverse so they
 * pop in name order. A 10,000-file directory is one readdir pass, one sort
 * and 10,000 fstatat calls.
 *
 * .gitignore rules chain: each loaded directory with a .gitignore adds a
 * level whose parent is the level in force in its parent directory; levels
 * are refcounted because pending subdirectories share them. An entry asks
 * the levels deepest first, and the first that decides wins (gitignore.c).
 *
 * Symlinks are followed (unless no_follow_symlinks). Loops and repeats are
 * cut by remembering the (device, inode) of every directory entered: one
 * reached again is skipped and counted, so a link to an ancestor ends the
 * descent instead of looping.
 *
 * Failure: loading a directory is transactional. Everything it needs
 * (names, file list, stack room, visited-set room) is allocated before any
 * state changes, so ENOMEM leaves the walk exactly where it was and a retry
 * continues. Unreadable directories and entries are counted, not fatal. A
 * directory or entry that exists but cannot be read (EACCES, EIO, ...) is
 * also listed (trove_source_unread_paths): a scan must not take its silence
 * for the deletion of everything at and under it. One that vanished
 * (ENOENT, ENOTDIR) or a link that leads nowhere (ELOOP) is gone.
 *
 * A scoped walk (trove_fs_options.only) yields the part of the full walk
 * that lies at or under the given paths, and nothing else: it enters the
 * root and each directory on the way down to a path (so every .gitignore in
 * force there is read, as the full walk reads it), takes from those only
 * the entries on the way, and walks whatever lies at or under a path in
 * full. Entries off the way are not even stat'ed, so a scope of a few paths
 * costs a few directory reads however big the tree. Paths are kept sorted:
 * "is this a path" and "does a path lie under this" are binary searches.
 */
#include "sources_int.h"
#include "sources_test_hooks.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* .gitignore files larger than this are not read: real ones are a few KB. */
#define GITIGNORE_MAX (1u << 20)

/* One directory level's .gitignore, shared by the pending subdirectories
 * below it. */
typedef struct ignore_level {
  trove_gitignore *gi;
  char *base;                  /* directory relative to the root; "" for it */
  struct ignore_level *parent; /* the level in force above; a ref is held */
  unsigned refs;
} ignore_level;

typedef struct pending_dir {
  char *rel;             /* relative to the root, "" for the root */
  ignore_level *ignores; /* rules in force in its parent; a ref is held */
  bool inside;           /* at or under a scope path (always, unscoped):
                            every entry is taken */
} pending_dir;

typedef struct file_ent {
  char *rel;
  int64_t mtime_us, size;
} file_ent;

typedef struct devino {
  dev_t dev;
  ino_t ino;
  bool used;
} devino;

typedef struct glob {
  char *pat;
  bool by_name; /* no '/': matched against the entry's name only */
} glob;

typedef struct fs_source {
  trove_source base;
  char *root; /* absolute, canonical, no trailing '/' (except "/") */
  glob *include, *exclude;
  size_t n_include, n_exclude;
  bool hidden, no_follow;
  char **only; /* the scope: sorted paths relative to root; none: all */
  size_t n_only;
  pending_dir *stack;
  size_t n_stack, cap_stack;
  file_ent *files; /* matched files of the last directory loaded */
  size_t n_files, pos_files;
  devino *seen; /* open-addressed set of directories entered */
  size_t n_seen, cap_seen;
} fs_source;

/* ---- small helpers ------------------------------------------------------- */

static void level_unref(ignore_level *l) {
  while (l && --l->refs == 0) {
    ignore_level *parent = l->parent;
    trove_gitignore_free(l->gi);
    trove_free(l->base);
    trove_free(l);
    l = parent;
  }
}

static ignore_level *level_ref(ignore_level *l) {
  if (l)
    l->refs++;
  return l;
}

/* a + "/" + b, or b alone when a is empty. NULL on ENOMEM. */
static char *join(const char *a, const char *b) {
  size_t na = strlen(a), nb = strlen(b);
  char *s = trove_malloc(na + nb + 2);
  if (!s)
    return NULL;
  size_t k = 0;
  if (na) {
    memcpy(s, a, na);
    k = na;
    if (a[na - 1] != '/')
      s[k++] = '/';
  }
  memcpy(s + k, b, nb + 1);
  return s;
}

static size_t seen_slot(const fs_source *fs, dev_t dev, ino_t ino) {
  size_t h = ((size_t)ino * 0x9E3779B97F4A7C15u) ^ (size_t)dev;
  size_t i = h & (fs->cap_seen - 1);
  while (fs->seen[i].used && !(fs->seen[i].dev == dev && fs->seen[i].ino == ino))
    i = (i + 1) & (fs->cap_seen - 1);
  return i;
}

static bool seen_has(const fs_source *fs, dev_t dev, ino_t ino) {
  return fs->cap_seen && fs->seen[seen_slot(fs, dev, ino)].used;
}

/* Makes room for one more entry (load kept under one half). */
static int seen_reserve(fs_source *fs) {
  if (2 * (fs->n_seen + 1) <= fs->cap_seen)
    return 0;
  size_t cap = fs->cap_seen ? fs->cap_seen * 2 : 64;
  devino *old = fs->seen;
  size_t old_cap = fs->cap_seen;
  devino *nv = trove_calloc(cap, sizeof *nv);
  if (!nv)
    return TROVE_ENOMEM;
  fs->seen = nv;
  fs->cap_seen = cap;
  for (size_t i = 0; i < old_cap; i++)
    if (old[i].used)
      fs->seen[seen_slot(fs, old[i].dev, old[i].ino)] = old[i];
  trove_free(old);
  return 0;
}

/* Adds a directory; room was reserved, so it cannot fail. */
static void seen_add(fs_source *fs, dev_t dev, ino_t ino) {
  size_t i = seen_slot(fs, dev, ino);
  if (!fs->seen[i].used) {
    fs->seen[i] = (devino){dev, ino, true};
    fs->n_seen++;
  }
}

static bool glob_hit(const glob *g, size_t n, const char *rel, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (trove_glob_match(g[i].pat, g[i].by_name ? name : rel))
      return true;
  return false;
}

/* Asks the .gitignore levels, deepest first. True when rel is ignored. */
static bool gitignored(const ignore_level *l, const char *rel, bool is_dir) {
  for (; l; l = l->parent) {
    size_t nb = strlen(l->base);
    const char *sub = nb ? rel + nb + 1 : rel; /* rel starts with base + "/" */
    int m = trove_gitignore_match(l->gi, sub, is_dir);
    if (m != 0)
      return m > 0;
  }
  return false;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_strs(char **v, size_t n) {
  for (size_t i = 0; i < n; i++)
    trove_free(v[i]);
  trove_free(v);
}

/* ---- loading one directory ------------------------------------------------- */

/* What loading one directory produced, not yet committed to the walk. */
typedef struct loaded {
  char **names;
  size_t n_names;
  ignore_level *level; /* this directory's rules (own or inherited; a ref) */
  file_ent *files;
  size_t n_files;
  pending_dir *subdirs;
  size_t n_subdirs;
  trove_source_stats stats; /* counted here, added on commit */
  bool entered;             /* read whole; false: skipped (counted) */
  char **unread;            /* absolute paths of what exists but could not be read */
  size_t n_unread;
} loaded;

static void loaded_free(loaded *ld) {
  free_strs(ld->unread, ld->n_unread);
  free_strs(ld->names, ld->n_names);
  for (size_t i = 0; i < ld->n_files; i++)
    trove_free(ld->files[i].rel);
  trove_free(ld->files);
  for (size_t i = 0; i < ld->n_subdirs; i++) {
    trove_free(ld->subdirs[i].rel);
    level_unref(ld->subdirs[i].ignores);
  }
  trove_free(ld->subdirs);
  level_unref(ld->level);
  memset(ld, 0, sizeof *ld);
}

/* Reads every name of the open directory dfd (closing it) into ld->names,
 * sorted. 0, TROVE_EIO (errno kept) or TROVE_ENOMEM. */
static int read_names(int dfd, loaded *ld) {
  DIR *d = fdopendir(dfd);
  if (!d) {
    close(dfd);
    return TROVE_EIO;
  }
  size_t cap = 0;
  int rc = 0;
  struct dirent *e;
  errno = 0;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    if (ld->n_names == cap) {
      size_t ncap = cap ? cap * 2 : 32, bytes;
      char **nv = trove_mul_ok(ncap, sizeof *nv, &bytes) ? trove_realloc(ld->names, bytes) : NULL;
      if (!nv) {
        rc = TROVE_ENOMEM;
        break;
      }
      ld->names = nv, cap = ncap;
    }
    if (!(ld->names[ld->n_names] = trove_strdup(e->d_name))) {
      rc = TROVE_ENOMEM;
      break;
    }
    ld->n_names++;
    errno = 0;
  }
  if (rc == 0 && errno != 0)
    rc = TROVE_EIO;
  closedir(d);
  if (rc == 0 && ld->n_names > 1)
    qsort(ld->names, ld->n_names, sizeof *ld->names, cmp_str);
  return rc;
}

/* Reads dir/.gitignore, when present, into a level above `parent`. An
 * unreadable or odd .gitignore is treated as absent. 0 or TROVE_ENOMEM. */
static int load_gitignore(const fs_source *fs, const char *rel, ignore_level *parent,
                          ignore_level **out) {
  *out = level_ref(parent);
  char *dir = join(fs->root, rel), *path = dir ? join(dir, ".gitignore") : NULL;
  trove_free(dir);
  if (!path)
    return TROVE_ENOMEM;
  trove_file f;
  int rc = trove_fs_read(path, GITIGNORE_MAX, &f, NULL);
  trove_free(path);
  if (rc == TROVE_ENOMEM)
    return rc;
  if (rc != 0 || f.skip != TROVE_SKIP_NONE)
    return 0;
  ignore_level *l = trove_calloc(1, sizeof *l);
  if (!l || !(l->base = trove_strdup(rel)) || trove_gitignore_parse(f.data, f.len, &l->gi)) {
    if (l)
      trove_free(l->base);
    trove_free(l);
    trove_file_free(&f);
    return TROVE_ENOMEM;
  }
  trove_file_free(&f);
  l->refs = 1;
  l->parent = *out; /* takes the reference taken above */
  *out = l;
  return 0;
}

static int64_t mtime_us(const struct stat *st) {
  return (int64_t)st->st_mtim.tv_sec * 1000000 + st->st_mtim.tv_nsec / 1000;
}

/* What stat_entry found. */
enum { ENTRY_SKIP, ENTRY_OK, ENTRY_UNREAD };

/* The test hook's name (trove_fs_test_fail_path); "" when off. */
static char fail_name[NAME_MAX + 1];

void trove_fs_test_fail_path(const char *name) {
  snprintf(fail_name, sizeof fail_name, "%s", name ? name : "");
}

/* fstatat, unless the test hook says this name cannot be read. */
static int stat_at(int dfd, const char *name, struct stat *st, int flags) {
  if (fail_name[0] && strcmp(name, fail_name) == 0) {
    errno = EACCES;
    return -1;
  }
  return fstatat(dfd, name, st, flags);
}

/* Whether a failed open or stat leaves the thing in place: not when it is
 * gone (ENOENT, ENOTDIR: vanished meanwhile) or a link leads nowhere
 * (ELOOP); yes for permissions, I/O errors and the like. */
static bool still_there(int err) { return err != ENOENT && err != ENOTDIR && err != ELOOP; }

/* Stats entry `name` of the open directory dfd, following symlinks unless
 * told not to. ENTRY_OK: a file or directory in *st; ENTRY_SKIP: counted
 * and passed over; ENTRY_UNREAD: it exists but could not be read. */
static int stat_entry(const fs_source *fs, int dfd, const char *name, struct stat *st,
                      trove_source_stats *stats) {
  if (stat_at(dfd, name, st, AT_SYMLINK_NOFOLLOW) != 0) {
    stats->unreadable++;
    return still_there(errno) ? ENTRY_UNREAD : ENTRY_SKIP;
  }
  if (S_ISLNK(st->st_mode)) {
    if (fs->no_follow) {
      stats->special++;
      return ENTRY_SKIP;
    }
    if (fstatat(dfd, name, st, 0) != 0) { /* dangling or looping link, or no access */
      stats->unreadable++;
      return still_there(errno) ? ENTRY_UNREAD : ENTRY_SKIP;
    }
  }
  if (!S_ISDIR(st->st_mode) && !S_ISREG(st->st_mode)) {
    stats->special++;
    return ENTRY_SKIP;
  }
  return ENTRY_OK;
}

/* Adds path (taken, even on failure) to ld's unread list. 0 or ENOMEM. */
static int note_unread(loaded *ld, char *path) {
  size_t bytes;
  char **nu = trove_mul_ok(ld->n_unread + 1, sizeof *nu, &bytes)
                  ? trove_realloc(ld->unread, bytes)
                  : NULL;
  if (!nu) {
    trove_free(path);
    return TROVE_ENOMEM;
  }
  ld->unread = nu;
  ld->unread[ld->n_unread++] = path;
  return 0;
}

/* ---- the scope ------------------------------------------------------------ */

/* The index of the first scope path not below key (n_only when none). */
static size_t scope_lower(const fs_source *fs, const char *key) {
  size_t lo = 0, hi = fs->n_only;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (strcmp(fs->only[mid], key) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* Where entry child (relative) stands: SCOPE_IN (a scope path, or under
 * one: take it as the full walk would), SCOPE_WAY (a scope path lies under
 * it: enter it when it is a directory) or SCOPE_OUT. */
enum { SCOPE_OUT, SCOPE_WAY, SCOPE_IN };

static int scope_of(const fs_source *fs, const char *child) {
  size_t i = scope_lower(fs, child);
  if (i < fs->n_only && strcmp(fs->only[i], child) == 0)
    return SCOPE_IN;
  /* paths under child sort after child + "/", and every one between child
   * and child + "/" ("a-b", "a.b" for "a") starts with a byte below '/';
   * so the first path not below child + "/" tells */
  size_t n = strlen(child);
  char key[PATH_MAX];
  if (n + 2 > sizeof key)
    return SCOPE_OUT;
  memcpy(key, child, n);
  key[n] = '/', key[n + 1] = '\0';
  i = scope_lower(fs, key);
  return i < fs->n_only && strncmp(fs->only[i], key, n + 1) == 0 ? SCOPE_WAY : SCOPE_OUT;
}

/* Decides one entry of directory rel: appends it to ld->files or
 * ld->subdirs, or counts why it is skipped. 0 or TROVE_ENOMEM. */
static int take_entry(const fs_source *fs, int dfd, const pending_dir *pd, const char *name,
                      loaded *ld) {
  const char *rel = pd->rel;
  trove_source_stats *stats = &ld->stats;
  int scope = SCOPE_IN;
  if (!pd->inside) { /* a directory on the way to the scope's paths */
    char *c = join(rel, name);
    if (!c)
      return TROVE_ENOMEM;
    scope = scope_of(fs, c);
    trove_free(c);
    if (scope == SCOPE_OUT)
      return 0;
  }
  if (strcmp(name, ".git") == 0) {
    stats->ignored++;
    return 0;
  }
  if (name[0] == '.' && !fs->hidden) {
    stats->hidden++;
    return 0;
  }
  /* not UTF-8 (a name from a legacy-encoding system): walked all the
   * same, its bytes kept in the path; what shows it escapes them */
  stats->bad_names += !trove_utf8_valid(name, strlen(name));
  struct stat st;
  int found = stat_entry(fs, dfd, name, &st, stats);
  if (found == ENTRY_UNREAD) {
    char *child = join(rel, name), *path = child ? join(fs->root, child) : NULL;
    trove_free(child);
    return path ? note_unread(ld, path) : TROVE_ENOMEM;
  }
  if (found == ENTRY_SKIP)
    return 0;
  bool is_dir = S_ISDIR(st.st_mode);
  char *child = join(rel, name);
  if (!child)
    return TROVE_ENOMEM;
  if (gitignored(ld->level, child, is_dir)) {
    stats->ignored++;
  } else if (glob_hit(fs->exclude, fs->n_exclude, child, name) ||
             (!is_dir && fs->n_include && !glob_hit(fs->include, fs->n_include, child, name))) {
    stats->excluded++;
  } else if (is_dir) {
    ld->subdirs[ld->n_subdirs++] = (pending_dir){child, level_ref(ld->level), scope == SCOPE_IN};
    return 0;
  } else if (scope == SCOPE_WAY) { /* a file where the scope has a directory */
  } else {
    ld->files[ld->n_files++] = (file_ent){child, mtime_us(&st), (int64_t)st.st_size};
    return 0;
  }
  trove_free(child);
  return 0;
}

/* Drops the trailing '/' join leaves on the root's path ("/" stays). */
static void trim_slash(char *path) {
  size_t n = strlen(path);
  while (n > 1 && path[n - 1] == '/')
    path[--n] = '\0';
}

/* Opens the directory at path (no trailing '/') for reading its names; -1
 * with errno set. */
static int open_dir(const char *path) {
  const char *slash = strrchr(path, '/');
  if (fail_name[0] && strcmp(slash ? slash + 1 : path, fail_name) == 0) {
    errno = EACCES;
    return -1;
  }
  return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* Loads pd: everything is prepared in ld (and the directory's identity in
 * *dst), then committed by commit_dir. Returns 0 (ld ready; ld->entered false
 * when the directory was skipped and counted) or TROVE_ENOMEM (nothing
 * changed). */
static int load_dir(fs_source *fs, const pending_dir *pd, loaded *ld, struct stat *dst) {
  memset(ld, 0, sizeof *ld);
  char *path = join(fs->root, pd->rel);
  if (!path)
    return TROVE_ENOMEM;
  trim_slash(path);
  int dfd = open_dir(path);
  int ddup = -1, rc = 0;
  if (dfd < 0 || fstat(dfd, dst) != 0 || (ddup = dup(dfd)) < 0) {
    ld->stats.unreadable++;
    if (dfd >= 0 || still_there(errno)) /* it is there: keep what lies under it */
      rc = note_unread(ld, path), path = NULL;
    goto out_close_dfd;
  }
  if (seen_has(fs, dst->st_dev, dst->st_ino)) {
    close(ddup);
    ld->stats.symlink_loops++;
    goto out_close_dfd;
  }
  rc = read_names(ddup, ld); /* closes ddup; dfd stays open for fstatat */
  if (rc == 0 && ld->n_names && /* bsearch wants a real array, even for 0 names */
      bsearch(&(const char *){".gitignore"}, ld->names, ld->n_names, sizeof *ld->names, cmp_str))
    rc = load_gitignore(fs, pd->rel, pd->ignores, &ld->level);
  else if (rc == 0)
    ld->level = level_ref(pd->ignores);
  size_t b1 = 0, b2 = 0;
  if (rc == 0 && (!trove_mul_ok(ld->n_names + 1, sizeof *ld->files, &b1) ||
                  !trove_mul_ok(ld->n_names + 1, sizeof *ld->subdirs, &b2)))
    rc = TROVE_ENOMEM;
  if (rc == 0 && (!(ld->files = trove_malloc(b1)) || !(ld->subdirs = trove_malloc(b2))))
    rc = TROVE_ENOMEM;
  for (size_t i = 0; rc == 0 && i < ld->n_names; i++)
    rc = take_entry(fs, dfd, pd, ld->names[i], ld);
  if (rc == TROVE_EIO) { /* reading the names failed midway */
    loaded_free(ld);
    ld->stats.unreadable++;
    rc = note_unread(ld, path), path = NULL;
  } else if (rc == 0) {
    ld->entered = true;
  } else {
    loaded_free(ld);
  }

out_close_dfd:
  if (dfd >= 0)
    close(dfd);
  trove_free(path);
  return rc;
}

static void stats_add(trove_source_stats *d, const trove_source_stats *s) {
  d->dirs += s->dirs;
  d->ignored += s->ignored;
  d->excluded += s->excluded;
  d->hidden += s->hidden;
  d->symlink_loops += s->symlink_loops;
  d->bad_names += s->bad_names;
  d->unreadable += s->unreadable;
  d->special += s->special;
}

/* Pops the directory just loaded and applies ld: its files become the
 * current list, its subdirectories are pushed so the first name pops first.
 * Room is reserved before anything changes: 0 or TROVE_ENOMEM (nothing
 * changed; the caller frees ld). */
static int commit_dir(fs_source *fs, loaded *ld, const struct stat *dst) {
  size_t need = fs->n_stack - 1 + ld->n_subdirs;
  if (need > fs->cap_stack) {
    size_t cap = fs->cap_stack * 2 > need ? fs->cap_stack * 2 : need, bytes;
    pending_dir *nv =
        trove_mul_ok(cap, sizeof *nv, &bytes) ? trove_realloc(fs->stack, bytes) : NULL;
    if (!nv)
      return TROVE_ENOMEM;
    fs->stack = nv, fs->cap_stack = cap;
  }
  if (ld->entered && seen_reserve(fs))
    return TROVE_ENOMEM;
  if (ld->n_unread) {
    size_t bytes;
    char **nu = trove_mul_ok(fs->base.n_unread + ld->n_unread, sizeof *nu, &bytes)
                    ? trove_realloc(fs->base.unread, bytes)
                    : NULL;
    if (!nu)
      return TROVE_ENOMEM;
    fs->base.unread = nu;
  }
  /* from here on nothing fails */
  for (size_t i = 0; i < ld->n_unread; i++)
    fs->base.unread[fs->base.n_unread++] = ld->unread[i];
  ld->n_unread = 0;
  pending_dir *top = &fs->stack[--fs->n_stack];
  trove_free(top->rel);
  level_unref(top->ignores);
  if (ld->entered) {
    seen_add(fs, dst->st_dev, dst->st_ino);
    ld->stats.dirs++;
  }
  for (size_t i = fs->pos_files; i < fs->n_files; i++) /* none left, normally */
    trove_free(fs->files[i].rel);
  trove_free(fs->files);
  fs->files = ld->files;
  fs->n_files = ld->n_files;
  fs->pos_files = 0;
  for (size_t i = ld->n_subdirs; i-- > 0;)
    fs->stack[fs->n_stack++] = ld->subdirs[i];
  stats_add(&fs->base.stats, &ld->stats);
  ld->files = NULL, ld->n_files = 0, ld->n_subdirs = 0;
  loaded_free(ld);
  return 0;
}

/* ---- the source --------------------------------------------------------------- */

static int fs_next(trove_source *src, trove_batch *b, trove_err *err) {
  fs_source *fs = (fs_source *)src;
  while (b->n < TROVE_SOURCE_BATCH) {
    if (fs->pos_files < fs->n_files) {
      file_ent *f = &fs->files[fs->pos_files];
      char *id = join(fs->root, f->rel), *path = id ? trove_strdup(id) : NULL;
      if (!path) {
        trove_free(id);
        return trove_err_set(err, TROVE_ENOMEM, "out of memory listing files under %s", fs->root);
      }
      b->items[b->n++] = (trove_candidate){.external_id = id,
                                           .path = path,
                                           .type = TROVE_ITEM_LOCAL,
                                           .time_us = f->mtime_us,
                                           .size = f->size};
      trove_free(f->rel);
      f->rel = NULL;
      fs->pos_files++;
      continue;
    }
    if (fs->n_stack == 0)
      return 0;
    loaded ld;
    struct stat dst;
    int rc = load_dir(fs, &fs->stack[fs->n_stack - 1], &ld, &dst);
    if (rc == 0 && (rc = commit_dir(fs, &ld, &dst)) != 0)
      loaded_free(&ld);
    if (rc)
      return trove_err_set(err, rc, "out of memory walking %s", fs->root);
  }
  return 0;
}

static void free_globs(glob *g, size_t n) {
  for (size_t i = 0; i < n; i++)
    trove_free(g[i].pat);
  trove_free(g);
}

static void fs_destroy(trove_source *src) {
  fs_source *fs = (fs_source *)src;
  for (size_t i = 0; i < fs->n_stack; i++) {
    trove_free(fs->stack[i].rel);
    level_unref(fs->stack[i].ignores);
  }
  trove_free(fs->stack);
  for (size_t i = fs->pos_files; i < fs->n_files; i++)
    trove_free(fs->files[i].rel);
  trove_free(fs->files);
  trove_free(fs->seen);
  for (size_t i = 0; i < fs->n_only; i++)
    trove_free(fs->only[i]);
  trove_free(fs->only);
  free_globs(fs->include, fs->n_include);
  free_globs(fs->exclude, fs->n_exclude);
  trove_free(fs->root);
  trove_free(fs);
}

static const source_ops fs_ops = {fs_next, fs_destroy};

/* Copies n globs, checking each; a leading '/' is dropped (every glob with a
 * '/' is relative to the source directory anyway). */
static int copy_globs(const char *const *src, size_t n, const char *what, glob **out,
                      trove_err *err) {
  *out = NULL;
  if (n == 0)
    return 0;
  if (!src)
    return trove_err_set(err, TROVE_EINVAL, "fs source: %zu %s globs given as NULL", n, what);
  size_t bytes;
  glob *g = trove_mul_ok(n, sizeof *g, &bytes) ? trove_calloc(1, bytes) : NULL;
  if (!g)
    return trove_err_set(err, TROVE_ENOMEM, "out of memory copying %s globs", what);
  for (size_t i = 0; i < n; i++) {
    const char *p = src[i];
    if (!p || !*p || !trove_glob_valid(p)) {
      free_globs(g, n);
      return trove_err_set(err, TROVE_EINVAL,
                           "%s glob '%s' is malformed (empty, unclosed '[' or trailing '\\')", what,
                           p ? p : "(null)");
    }
    while (*p == '/')
      p++;
    g[i].by_name = strchr(p, '/') == NULL;
    if (!(g[i].pat = trove_strdup(p))) {
      free_globs(g, n);
      return trove_err_set(err, TROVE_ENOMEM, "out of memory copying %s globs", what);
    }
  }
  *out = g;
  return 0;
}

/* Copies the scope: each path made relative to fs->root (an absolute one
 * must lie at or under it), without '/' at either end, sorted, repeats
 * dropped. A path naming the root itself scopes the whole tree: no scope. */
static int copy_scope(fs_source *fs, const char *const *only, size_t n, trove_err *err) {
  if (n == 0)
    return 0;
  if (!only)
    return trove_err_set(err, TROVE_EINVAL, "fs source: %zu scope paths given as NULL", n);
  if (!(fs->only = trove_calloc(n, sizeof *fs->only)))
    return trove_err_set(err, TROVE_ENOMEM, "out of memory copying the scope of %s", fs->root);
  size_t nr = strlen(fs->root);
  bool whole = false;
  for (size_t i = 0; i < n; i++) {
    const char *p = only[i];
    if (!p)
      return trove_err_set(err, TROVE_EINVAL, "fs source: a NULL scope path");
    if (p[0] == '/') {
      bool under = strcmp(fs->root, "/") == 0 ||
                   (strncmp(p, fs->root, nr) == 0 && (p[nr] == '/' || p[nr] == '\0'));
      if (!under)
        return trove_err_set(err, TROVE_EINVAL, "scope path %s is not under %s", p, fs->root);
      p += strcmp(fs->root, "/") == 0 ? 0 : nr;
    }
    while (*p == '/')
      p++;
    size_t len = strlen(p);
    while (len > 0 && p[len - 1] == '/')
      len--;
    if (len == 0) {
      whole = true;
      continue;
    }
    char *c = trove_malloc(len + 1);
    if (!c)
      return trove_err_set(err, TROVE_ENOMEM, "out of memory copying the scope of %s", fs->root);
    memcpy(c, p, len);
    c[len] = '\0';
    fs->only[fs->n_only++] = c;
  }
  if (fs->n_only > 1)
    qsort(fs->only, fs->n_only, sizeof *fs->only, cmp_str);
  size_t k = 0;
  for (size_t i = 0; i < fs->n_only; i++) {
    if (k && strcmp(fs->only[k - 1], fs->only[i]) == 0)
      trove_free(fs->only[i]);
    else
      fs->only[k++] = fs->only[i];
  }
  fs->n_only = k;
  if (whole) { /* the root itself: the whole tree, as unscoped */
    for (size_t i = 0; i < fs->n_only; i++)
      trove_free(fs->only[i]);
    fs->n_only = 0;
  }
  return 0;
}

/* Checks dir and makes it absolute and canonical into *root. */
static int resolve_root(const char *dir, char **root, trove_err *err) {
  struct stat st;
  if (stat(dir, &st) != 0) {
    int e = errno;
    if (e == ENOENT || e == ENOTDIR)
      return trove_err_set(err, TROVE_ENOENT,
                           "fs source directory %s does not exist; check the path", dir);
    return trove_err_set(err, TROVE_EIO, "cannot access fs source directory %s: %s", dir,
                         strerror(e));
  }
  if (!S_ISDIR(st.st_mode))
    return trove_err_set(err, TROVE_EINVAL,
                         "fs source %s is not a directory; give the folder holding the files", dir);
  if (access(dir, R_OK | X_OK) != 0)
    return trove_err_set(err, TROVE_EIO, "cannot read fs source directory %s: %s", dir,
                         strerror(errno));
  char buf[PATH_MAX];
  if (!realpath(dir, buf))
    return trove_err_set(err, TROVE_EIO, "cannot resolve fs source directory %s: %s", dir,
                         strerror(errno));
  if (!(*root = trove_strdup(buf)))
    return trove_err_set(err, TROVE_ENOMEM, "out of memory opening %s", dir);
  return 0;
}

int trove_source_open_fs(const char *dir, const trove_fs_options *opt, trove_source **out,
                         trove_err *err) {
  if (!out)
    return trove_err_set(err, TROVE_EINVAL, "trove_source_open_fs: NULL output");
  *out = NULL;
  if (!dir || !*dir)
    return trove_err_set(err, TROVE_EINVAL, "fs source: no directory given");
  static const trove_fs_options defaults;
  if (!opt)
    opt = &defaults;
  fs_source *fs = trove_calloc(1, sizeof *fs);
  if (!fs)
    return trove_err_set(err, TROVE_ENOMEM, "out of memory opening %s", dir);
  fs->base.ops = &fs_ops;
  fs->hidden = opt->include_hidden;
  fs->no_follow = opt->no_follow_symlinks;
  int rc = resolve_root(dir, &fs->root, err);
  if (rc == 0 && (rc = copy_globs(opt->include, opt->n_include, "include", &fs->include, err)) == 0)
    fs->n_include = opt->n_include;
  if (rc == 0 && (rc = copy_globs(opt->exclude, opt->n_exclude, "exclude", &fs->exclude, err)) == 0)
    fs->n_exclude = opt->n_exclude;
  if (rc == 0)
    rc = copy_scope(fs, opt->only, opt->n_only, err);
  if (rc == 0 && !(fs->stack = trove_malloc(sizeof *fs->stack)))
    rc = trove_err_set(err, TROVE_ENOMEM, "out of memory opening %s", dir);
  if (rc == 0 && !(fs->stack[0].rel = trove_strdup("")))
    rc = trove_err_set(err, TROVE_ENOMEM, "out of memory opening %s", dir);
  if (rc) {
    fs_destroy(&fs->base);
    return rc;
  }
  fs->stack[0].ignores = NULL;
  fs->stack[0].inside = fs->n_only == 0;
  fs->n_stack = fs->cap_stack = 1;
  *out = &fs->base;
  return 0;
}
