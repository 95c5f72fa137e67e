/* scan_sources.c: trove_scan_source_add. A source is checked before it is
 * stored, so that a mistake fails at `trove source add`, with what to do,
 * instead of at every scan or silently:
 *   - its location must be what its type reads (sources.h,
 *     trove_source_check_location);
 *   - it must not overlap a source already there. Two fs sources where one
 *     directory holds the other would index the files they share twice,
 *     as two items each with their own vectors, and a search would list
 *     both; two sources of one type at one location would do the same with
 *     everything. Sharing items between sources was rejected: an item
 *     belongs to one source (its scan version, its removal with the
 *     source), and one source per directory, narrowed with its globs
 *     (`trove source edit`), says the same thing.
 * Locations are compared resolved (realpath), so a symbolic link to a
 * source's directory is caught too; the check and the insert share one
 * transaction, so two adds at once cannot both pass it. */
#include "scan.h"

#include "sources.h"
#include "store.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* True when path is dir or lies under it (both absolute, resolved). */
static bool inside(const char *dir, const char *path) {
  size_t n = strlen(dir);
  while (n > 0 && dir[n - 1] == '/')
    n--; /* "/" holds everything */
  return strncmp(path, dir, n) == 0 && (path[n] == 0 || path[n] == '/');
}

/* Refuses abs (of `type`) when it overlaps source o; 0 when it does not. */
static int check_one(const char *type, const char *abs, const trove_store_source *o,
                     trove_err *err) {
  if (strcmp(o->type, type) != 0)
    return 0;
  char buf[PATH_MAX];
  const char *other = realpath(o->location, buf) ? buf : o->location; /* gone: as stored */
  if (strcmp(other, abs) == 0)
    return trove_err_set(err, TROVE_EEXIST, "source %s already reads %s; change what it "
                         "indexes with `trove source edit %s`, or remove it first", o->name,
                         abs, o->name);
  if (strcmp(type, "fs") != 0)
    return 0;
  if (inside(other, abs))
    return trove_err_set(err, TROVE_EEXIST, "%s lies inside %s, the directory of source %s, "
                         "which indexes it already; change what %s indexes with `trove source "
                         "edit %s --glob ...`", abs, other, o->name, o->name, o->name);
  if (inside(abs, other))
    return trove_err_set(err, TROVE_EEXIST, "%s holds %s, the directory of source %s, whose "
                         "files would be indexed twice; remove %s first (`trove source remove "
                         "%s`), or exclude its directory and use one source", abs, other,
                         o->name, o->name, o->name);
  return 0;
}

/* Checks abs against every source, then stores it; in st's open batch. */
static int check_and_add(trove_store *st, const char *name, const char *type, const char *abs,
                         const char *config, trove_err *err) {
  trove_store_source *v = NULL;
  size_t n = 0;
  int rc = trove_store_source_list(st, &v, &n, err);
  bool taken = false; /* then the add says so, whatever else is wrong */
  for (size_t i = 0; rc == 0 && i < n; i++)
    taken |= strcmp(v[i].name, name) == 0;
  for (size_t i = 0; rc == 0 && !taken && i < n; i++)
    rc = check_one(type, abs, &v[i], err);
  trove_store_sources_free(v, n);
  return rc ? rc : trove_store_source_add(st, name, type, abs, config, NULL, err);
}

int trove_scan_source_add(trove_store *st, const char *name, const char *type,
                          const char *location, const char *config, char **stored,
                          trove_err *err) {
  if (stored)
    *stored = NULL;
  if (!st || !name || !type || !location)
    return trove_err_set(err, TROVE_EINVAL, "trove_scan_source_add: NULL argument");
  int rc = trove_source_check_location(type, location, err);
  if (rc)
    return rc;
  char abs[PATH_MAX];
  if (!realpath(location, abs))
    return trove_err_set(err, errno == ENOENT ? TROVE_ENOENT : TROVE_EIO,
                         "cannot resolve %s: %s", location, strerror(errno));
  char *copy = stored ? trove_strdup(abs) : NULL;
  if (stored && !copy)
    return trove_err_set(err, TROVE_ENOMEM, "out of memory adding source %s", name);
  if ((rc = trove_store_begin(st, err)) == 0) {
    rc = check_and_add(st, name, type, abs, config, err);
    if (rc)
      trove_store_rollback(st);
    else
      rc = trove_store_commit(st, err);
  }
  if (rc)
    trove_free(copy);
  else if (stored)
    *stored = copy;
  return rc;
}
