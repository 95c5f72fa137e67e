/* scan_config.c: the JSON a source keeps in the store (its include and
 * exclude globs), built here and parsed in scan_source.c. The config is a plain
 * object, {"include":["*.html"],"exclude":["_static"]}, so that options
 * can be added later without a schema change. */
#include "scan.h"

#include "json.h"
#include "sources.h" /* trove_glob_valid; this file never names an item type */

#include <string.h>

bool trove_scan_type_known(const char *type) {
  static const char *const types[] = {"fs", "chromium-history", "chromium-bookmarks", "firefox"};
  for (size_t i = 0; type && i < sizeof types / sizeof *types; i++)
    if (strcmp(type, types[i]) == 0)
      return true;
  return false;
}

static int put_list(trove_buf *b, const char *key, const char *const *v, size_t n,
                    trove_err *err) {
  int rc = trove_buf_printf(b, "\"%s\":[", key);
  for (size_t i = 0; rc == 0 && i < n; i++) {
    if (!v[i] || !v[i][0] || !trove_glob_valid(v[i]))
      return trove_err_set(err, TROVE_EINVAL, "bad %s glob \"%s\": close every [ and do not end with \\",
                           key, v[i] ? v[i] : "");
    rc = i ? trove_buf_putc(b, ',') : 0;
    rc = rc ? rc : trove_json_quote(b, v[i]);
  }
  return rc ? rc : trove_buf_putc(b, ']');
}

int trove_scan_fs_config(const char *const *include, size_t n_include,
                         const char *const *exclude, size_t n_exclude, char **out,
                         trove_err *err) {
  if (!out || (n_include && !include) || (n_exclude && !exclude))
    return trove_err_set(err, TROVE_EINVAL, "trove_scan_fs_config: NULL argument");
  *out = NULL;
  trove_buf b = {0};
  int rc = trove_buf_putc(&b, '{');
  rc = rc ? rc : put_list(&b, "include", include, n_include, err);
  rc = rc ? rc : trove_buf_putc(&b, ',');
  rc = rc ? rc : put_list(&b, "exclude", exclude, n_exclude, err);
  rc = rc ? rc : trove_buf_putc(&b, '}');
  if (rc == 0 && !(*out = trove_buf_take(&b)))
    rc = TROVE_ENOMEM;
  trove_buf_free(&b);
  if (rc == TROVE_ENOMEM)
    trove_err_keep(err, rc, "out of memory building the source config");
  return rc;
}
