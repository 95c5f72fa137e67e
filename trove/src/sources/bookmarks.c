/* bookmarks.c: the chromium-bookmarks source. Reads a profile's `Bookmarks`
 * file, JSON of the shape
 *   {"roots": {"bookmark_bar": {"type": "folder", "children": [...]},
 *              "other": {...}, "synced": {...}}, "version": 1}
 * where a node is a folder (with "children") or a url node
 *   {"type": "url", "name": "...", "url": "...", "date_added": "13300000000000000"}.
 * date_added is a STRING of microseconds since 1601-01-01 UTC (not Unix
 * seconds: read as those, every bookmark would date thousands of years
 * ahead); it is converted to Unix µs here. Every root object is walked, not just the three
 * known ones, so roots added by newer versions are not missed.
 *
 * The file is read with trove_fs_read (size cap, UTF-8 check) and parsed
 * with the project's strict JSON parser (json.h); the tree is walked
 * recursively, which is bounded because the parser caps nesting depth. */
#include "sources_int.h"

#include "json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Bookmarks files are a few MB even for heavy users. */
#define BOOKMARKS_MAX ((size_t)256 << 20)

/* date_added: a string of decimal µs since 1601 (a number is accepted too).
 * 0 when absent or malformed. */
static int64_t date_added(const trove_json *node) {
  const trove_json *v = trove_json_get(node, "date_added");
  int64_t t = 0;
  if (trove_json_type_of(v) == TROVE_JSON_STRING) {
    const char *s = trove_json_str(v, "");
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
      return 0;
    t = x;
  } else if (!trove_json_int(v, &t)) {
    return 0;
  }
  return chromium_to_unix_us(t);
}

/* Adds every url node under node. 0 or TROVE_ENOMEM. */
static int walk(const trove_json *node, weblist *l, trove_source_stats *st) {
  const char *type = trove_json_get_str(node, "type", "");
  if (strcmp(type, "url") == 0) {
    const trove_json *url = trove_json_get(node, "url");
    if (trove_json_type_of(url) != TROVE_JSON_STRING ||
        strlen(trove_json_str(url, "")) != trove_json_str_len(url)) { /* holds a NUL */
      st->bad_rows++;
      return 0;
    }
    return trove_sources__weblist_add(l, st, trove_json_str(url, ""),
                                      trove_json_get_str(node, "name", NULL), TROVE_ITEM_BOOKMARK,
                                      date_added(node), 0);
  }
  const trove_json *children = trove_json_get(node, "children");
  for (size_t i = 0; i < trove_json_len(children); i++) {
    int rc = walk(trove_json_at(children, i), l, st);
    if (rc)
      return rc;
  }
  return 0;
}

/* Reads and parses path into *doc, with a message naming the file. */
static int load(const char *path, trove_json_doc **doc, trove_err *err) {
  trove_file f;
  trove_err jerr = {0};
  int rc = trove_fs_read(path, BOOKMARKS_MAX, &f, err);
  if (rc)
    return rc;
  if (f.skip == TROVE_SKIP_NONE && f.charset_guessed) { /* JSON is UTF-8 (RFC 8259) */
    trove_file_free(&f);
    f.skip = TROVE_SKIP_NOT_UTF8;
  }
  switch (f.skip) {
  case TROVE_SKIP_NONE: break;
  case TROVE_SKIP_TOO_LARGE:
    return trove_err_set(err, TROVE_ERANGE, "Chromium bookmarks %s is larger than %zu MiB", path,
                         BOOKMARKS_MAX >> 20);
  default:
    return trove_err_set(err, TROVE_ECORRUPT, "Chromium bookmarks %s is not JSON text (%s)", path,
                         trove_skip_name(f.skip));
  }
  rc = trove_json_parse(f.data, f.len, 0, doc, &jerr);
  trove_file_free(&f);
  if (rc == TROVE_ENOMEM)
    return trove_err_set(err, rc, "out of memory parsing %s", path);
  if (rc)
    return trove_err_set(err, TROVE_ECORRUPT, "Chromium bookmarks %s is damaged: %s", path,
                         jerr.msg);
  return 0;
}

int trove_source_open_chromium_bookmarks(const char *location, trove_source **out, trove_err *err) {
  if (!out)
    return trove_err_set(err, TROVE_EINVAL, "trove_source_open_chromium_bookmarks: NULL output");
  *out = NULL;
  if (!location || !*location)
    return trove_err_set(err, TROVE_EINVAL,
                         "chromium-bookmarks source: no profile directory given");
  char *path = NULL;
  trove_json_doc *doc = NULL;
  weblist l = {0};
  trove_source_stats st = {0};
  int rc =
      trove_sources__browser_profile_file(location, "Bookmarks", "Chromium bookmarks", &path, err);
  if (rc)
    return rc;
  if ((rc = load(path, &doc, err)) != 0)
    goto out_free_path;
  const trove_json *roots = trove_json_get(trove_json_root(doc), "roots");
  if (trove_json_type_of(roots) != TROVE_JSON_OBJECT) {
    rc = trove_err_set(err, TROVE_ECORRUPT,
                       "%s is not a Chromium Bookmarks file: it has no \"roots\" object", path);
    goto out_free_doc;
  }
  for (size_t i = 0; rc == 0 && i < trove_json_len(roots); i++)
    rc = walk(trove_json_at(roots, i), &l, &st);
  if (rc) {
    rc = trove_err_set(err, rc, "out of memory reading %s", path);
    trove_sources__weblist_free(&l);
    goto out_free_doc;
  }
  trove_sources__weblist_finish(&l, &st);
  if ((rc = trove_sources__weblist_source(&l, &st, out)) != 0)
    rc = trove_err_set(err, rc, "out of memory reading %s", path);

out_free_doc:
  trove_json_free(doc);
out_free_path:
  trove_free(path);
  return rc;
}
