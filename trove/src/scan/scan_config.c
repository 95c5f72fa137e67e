/* scan_config.c: the JSON a source keeps in the store, built here and
 * parsed in scan_source.c. The config is a plain object,
 * {"include":["*.html"],"exclude":["_static"]} for an fs source's globs,
 * with "exclude_domains":["bank.com"] and "retention":"keep"|"mirror" for
 * a browser source when set, so that options can be added later without a
 * schema change. */
#include "scan.h"

#include "json.h"
#include "sources.h" /* trove_glob_valid; this file never names an item type */

#include <string.h>

bool trove_scan_type_web(const char *type) {
  return type && (strcmp(type, "chromium-history") == 0 ||
                  strcmp(type, "chromium-bookmarks") == 0 || strcmp(type, "firefox") == 0);
}

bool trove_scan_type_history(const char *type) {
  return type && (strcmp(type, "chromium-history") == 0 || strcmp(type, "firefox") == 0);
}

const char *trove_retention_name(trove_retention r) {
  return r == TROVE_RETENTION_MIRROR ? "mirror" : "keep";
}

int trove_retention_parse(const char *s, trove_retention *out) {
  if (s && strcmp(s, "keep") == 0)
    *out = TROVE_RETENTION_KEEP;
  else if (s && strcmp(s, "mirror") == 0)
    *out = TROVE_RETENTION_MIRROR;
  else
    return TROVE_EINVAL;
  return 0;
}

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

/* The domains, normalised (trove_domain_normalize), as a JSON list. */
static int put_domains(trove_buf *b, const char *const *v, size_t n, trove_err *err) {
  int rc = trove_buf_puts(b, ",\"exclude_domains\":[");
  for (size_t i = 0; rc == 0 && i < n; i++) {
    char *d = NULL;
    rc = trove_domain_normalize(v[i], &d);
    if (rc == TROVE_EINVAL)
      return trove_err_set(err, rc, "bad domain \"%s\": give a host name such as bank.com "
                           "(its subdomains are included)", v[i] ? v[i] : "");
    rc = rc ? rc : i ? trove_buf_putc(b, ',') : 0;
    rc = rc ? rc : trove_json_quote(b, d);
    trove_free(d);
  }
  return rc ? rc : trove_buf_putc(b, ']');
}

int trove_scan_config_build(const trove_scan_config *cfg, char **out, trove_err *err) {
  if (!out || !cfg || (cfg->n_include && !cfg->include) || (cfg->n_exclude && !cfg->exclude) ||
      (cfg->n_exclude_domains && !cfg->exclude_domains))
    return trove_err_set(err, TROVE_EINVAL, "trove_scan_config_build: NULL argument");
  *out = NULL;
  trove_buf b = {0};
  int rc = trove_buf_putc(&b, '{');
  rc = rc ? rc : put_list(&b, "include", cfg->include, cfg->n_include, err);
  rc = rc ? rc : trove_buf_putc(&b, ',');
  rc = rc ? rc : put_list(&b, "exclude", cfg->exclude, cfg->n_exclude, err);
  if (rc == 0 && cfg->n_exclude_domains)
    rc = put_domains(&b, cfg->exclude_domains, cfg->n_exclude_domains, err);
  if (rc == 0 && cfg->retention != TROVE_RETENTION_DEFAULT)
    rc = trove_buf_printf(&b, ",\"retention\":\"%s\"", trove_retention_name(cfg->retention));
  rc = rc ? rc : trove_buf_putc(&b, '}');
  if (rc == 0 && !(*out = trove_buf_take(&b)))
    rc = TROVE_ENOMEM;
  trove_buf_free(&b);
  if (rc == TROVE_ENOMEM)
    trove_err_keep(err, rc, "out of memory building the source config");
  return rc;
}

int trove_scan_fs_config(const char *const *include, size_t n_include,
                         const char *const *exclude, size_t n_exclude, char **out,
                         trove_err *err) {
  trove_scan_config cfg = {.include = include, .n_include = n_include, .exclude = exclude,
                           .n_exclude = n_exclude};
  return trove_scan_config_build(&cfg, out, err);
}
