/* location.c: checking a source's location when it is added, so that a
 * notes directory given as a browser profile (or a file given as an fs
 * directory) is refused at `trove source add`, with what to give instead,
 * rather than failing at every scan. The check is cheap and reads nothing
 * a scan would not: the directory for fs; the browser file's existence and
 * its first bytes (SQLite's header) for history and places, which a
 * running browser keeps locked, so they are not opened here; the whole
 * Bookmarks file, which is small JSON and read without copying. */
#include "sources_int.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The start of every SQLite database file (https://sqlite.org/fileformat.html). */
static const char sqlite_magic[16] = "SQLite format 3";

static int check_dir(const char *location, trove_err *err) {
  struct stat st;
  if (stat(location, &st) != 0) {
    int e = errno;
    return e == ENOENT || e == ENOTDIR
               ? trove_err_set(err, TROVE_ENOENT, "directory %s does not exist; give the "
                               "directory to index", location)
               : trove_err_set(err, TROVE_EIO, "cannot access %s: %s", location, strerror(e));
  }
  if (!S_ISDIR(st.st_mode))
    return trove_err_set(err, TROVE_EINVAL, "%s is not a directory: an fs source indexes a "
                         "directory (pick files in it with --glob)", location);
  return 0;
}

/* Finds the browser's file `name` at location (a profile directory, or
 * the file itself) into *path (trove_free), as trove_sources__browser_profile_file does,
 * with a message that says what to give when it is not there. */
static int find_file(const char *location, const char *name, const char *what,
                     const char *example, char **path, trove_err *err) {
  trove_err e = {0};
  int rc = trove_sources__browser_profile_file(location, name, what, path, &e);
  if (rc == TROVE_ENOENT)
    return trove_err_set(err, rc, "%s holds no %s: give a %s profile directory (such as %s) "
                         "or its %s file", location, name, what, example, name);
  return rc ? trove_err_set(err, rc, "%s", e.msg) : 0;
}

/* Checks that the browser's file `name` is at location and starts as a
 * SQLite database. */
static int check_db(const char *location, const char *name, const char *what,
                    const char *example, trove_err *err) {
  char *path = NULL;
  int rc = find_file(location, name, what, example, &path, err);
  if (rc)
    return rc;
  char head[16] = {0};
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  ssize_t got = fd < 0 ? -1 : read(fd, head, sizeof head);
  int saved = errno;
  if (fd >= 0)
    close(fd);
  if (got < 0)
    rc = trove_err_set(err, TROVE_EIO, "cannot read %s: %s", path, strerror(saved));
  else if (got != (ssize_t)sizeof head || memcmp(head, sqlite_magic, sizeof head) != 0)
    rc = trove_err_set(err, TROVE_ECORRUPT, "%s is not a SQLite database, so not %s's %s; give "
                       "a %s profile directory (such as %s)", path, what, name, what, example);
  trove_free(path);
  return rc;
}

int trove_source_check_location(const char *type, const char *location, trove_err *err) {
  if (!type || !location || !location[0])
    return trove_err_set(err, TROVE_EINVAL, "a source needs a type and a location");
  if (strcmp(type, "fs") == 0)
    return check_dir(location, err);
  if (strcmp(type, "chromium-history") == 0)
    return check_db(location, "History", "Chromium", "~/.config/chromium/Default", err);
  if (strcmp(type, "firefox") == 0)
    return check_db(location, "places.sqlite", "Firefox", "~/.mozilla/firefox/xxxx.default",
                    err);
  if (strcmp(type, "chromium-bookmarks") == 0) {
    char *path = NULL;
    trove_source *src = NULL;
    int rc = find_file(location, "Bookmarks", "Chromium", "~/.config/chromium/Default", &path,
                       err);
    rc = rc ? rc : trove_source_open_chromium_bookmarks(path, &src, err);
    trove_source_close(src);
    trove_free(path);
    return rc;
  }
  return trove_err_set(err, TROVE_EINVAL, "unknown source type \"%s\"; use fs, "
                       "chromium-history, chromium-bookmarks or firefox", type);
}
