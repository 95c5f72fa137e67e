/* api_sources.c: the sources page's endpoints.
 *   GET    /api/sources        {"sources":[{"name","type","location","status",
 *                              "status_msg","items","hidden","skipped","passages",
 *                              "scanned","last_scan_at","last_scan_ms"}]}
 *   POST   /api/sources        add: {"name","type","location","include":[],"exclude":[]}
 *                              as `trove source add` checks it (an fs LOCATION is
 *                              stored as an absolute path): 201 {"name":...}
 *   DELETE /api/sources/NAME   remove it with its items, as `trove source
 *                              remove`: 409 while a scan runs, here or in
 *                              another process
 *   GET    /api/stats          what `trove stats` says, as JSON */
#include "serve_int.h"
#include "json.h"
#include "scan.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int put_str(trove_buf *b, const char *key, const char *v) {
  int rc = trove_buf_printf(b, "\"%s\":", key);
  return rc ? rc : v ? trove_json_quote(b, v) : trove_buf_puts(b, "null");
}

static const char *status_name(trove_source_status s) {
  return s == TROVE_SOURCE_READY ? "ready" : s == TROVE_SOURCE_INDEXING ? "indexing" : "error";
}

/* Borrows a handle, answering 500 itself when none opens. */
static bool borrow(serve_req *r, trove_store **st, enum MHD_Result *ret) {
  trove_err e = {0};
  if (serve_handles_get(&r->s->handles, st, &e) == 0)
    return true;
  *ret = serve_reply_error(r, 500, "%s", e.msg);
  return false;
}

/* ---- GET /api/sources ------------------------------------------------------ */

static const trove_store_source_stats *stats_of(const trove_store_stats *s, const char *name) {
  for (size_t i = 0; i < s->n_sources; i++)
    if (strcmp(s->sources[i].name, name) == 0)
      return &s->sources[i];
  return NULL;
}

static int sources_json(trove_buf *b, const trove_store_source *v, size_t n,
                        const trove_store_stats *stats) {
  int rc = trove_buf_puts(b, "{\"sources\":[");
  for (size_t i = 0; rc == 0 && i < n; i++) {
    const trove_store_source_stats *c = stats_of(stats, v[i].name);
    rc = trove_buf_puts(b, i ? ",\n{" : "\n{");
    rc = rc ? rc : put_str(b, "name", v[i].name);
    rc = rc ? rc : trove_buf_putc(b, ',');
    rc = rc ? rc : put_str(b, "type", v[i].type);
    rc = rc ? rc : trove_buf_putc(b, ',');
    rc = rc ? rc : put_str(b, "location", v[i].location);
    rc = rc ? rc : trove_buf_putc(b, ',');
    rc = rc ? rc : put_str(b, "status", status_name(v[i].status));
    rc = rc ? rc : trove_buf_putc(b, ',');
    rc = rc ? rc : put_str(b, "status_msg", v[i].status_msg);
    rc = rc ? rc : trove_buf_printf(
                       b, ",\"items\":%lld,\"hidden\":%lld,\"skipped\":%lld,\"passages\":%lld,"
                       "\"scanned\":%lld,\"last_scan_at\":%lld,\"last_scan_ms\":%lld}",
                       (long long)(c ? c->items : 0), (long long)(c ? c->hidden : 0),
                       (long long)(c ? c->skipped : 0), (long long)(c ? c->passages : 0),
                       (long long)v[i].scanned, (long long)v[i].last_scan_at,
                       (long long)v[i].last_scan_ms);
  }
  return rc ? rc : trove_buf_puts(b, "\n]}\n");
}

static enum MHD_Result list(serve_req *r) {
  trove_store *st = NULL;
  enum MHD_Result ret;
  if (!borrow(r, &st, &ret))
    return ret;
  trove_store_source *v = NULL;
  size_t n = 0;
  trove_store_stats stats = {0};
  trove_err e = {0};
  trove_buf b = {0};
  int rc = trove_store_source_list(st, &v, &n, &e);
  rc = rc ? rc : trove_store_stats_get(st, &stats, &e);
  serve_handles_put(&r->s->handles, st);
  if (rc)
    ret = serve_reply_error(r, serve_status_of(rc), "%s", e.msg);
  else if (sources_json(&b, v, n, &stats))
    ret = serve_reply_error(r, 500, "out of memory");
  else
    ret = serve_reply_json(r, 200, &b);
  trove_buf_free(&b);
  trove_store_stats_clear(&stats);
  trove_store_sources_free(v, n);
  return ret;
}

/* ---- POST /api/sources ------------------------------------------------------ */

/* Collects the strings of array `key` of obj into a new array *out of *n
 * (the strings stay the document's). false when it is not an array of
 * strings, or for memory. */
static bool globs(const trove_json *obj, const char *key, const char ***out, size_t *n) {
  const trove_json *a = trove_json_get(obj, key);
  *out = NULL;
  *n = 0;
  if (!a)
    return true;
  if (trove_json_type_of(a) != TROVE_JSON_ARRAY)
    return false;
  size_t len = trove_json_len(a);
  if (len && !(*out = trove_calloc(len, sizeof **out)))
    return false;
  for (size_t i = 0; i < len; i++) {
    const trove_json *g = trove_json_at(a, i);
    if (trove_json_type_of(g) != TROVE_JSON_STRING) {
      trove_free(*out);
      *out = NULL;
      return false;
    }
    (*out)[(*n)++] = trove_json_str(g, "");
  }
  return true;
}

/* Checks the body as `trove source add` checks its arguments, and adds the
 * source through st. Answers the request. */
static enum MHD_Result add_checked(serve_req *r, trove_store *st, const trove_json *o) {
  const char *name = trove_json_get_str(o, "name", NULL);
  const char *type = trove_json_get_str(o, "type", NULL);
  const char *loc = trove_json_get_str(o, "location", NULL);
  const char **inc = NULL, **exc = NULL;
  size_t ni = 0, ne = 0;
  char *config = NULL, abs[PATH_MAX];
  trove_err e = {0};
  enum MHD_Result ret;
  struct stat sb;
  if (!name || !name[0] || strlen(name) > 64 || strchr(name, '/'))
    ret = serve_reply_error(r, 400, "a source needs a name: 1 to 64 characters, no '/'");
  else if (!type || !trove_scan_type_known(type))
    ret = serve_reply_error(r, 400, "type must be fs, chromium-history, chromium-bookmarks or "
                            "firefox");
  else if (!loc || !loc[0])
    ret = serve_reply_error(r, 400, "a source needs a location: a directory, or a browser "
                            "profile directory");
  else if (!globs(o, "include", &inc, &ni) || !globs(o, "exclude", &exc, &ne))
    ret = serve_reply_error(r, 400, "include and exclude are arrays of glob strings");
  else if (strcmp(type, "fs") != 0 && (ni || ne))
    ret = serve_reply_error(r, 400, "include and exclude apply to fs sources only");
  else if (!realpath(loc, abs) || stat(abs, &sb) != 0)
    ret = serve_reply_error(r, 400, "%s does not exist; give the %s to index", loc,
                            strcmp(type, "fs") == 0 ? "directory" : "browser profile directory");
  else if (trove_scan_fs_config(inc, ni, exc, ne, &config, &e))
    ret = serve_reply_error(r, 400, "%s", e.msg);
  else {
    int rc = trove_store_source_add(st, name, type, abs, config, NULL, &e);
    trove_buf b = {0};
    if (rc)
      ret = serve_reply_error(r, serve_status_of(rc), "%s", e.msg);
    else if (trove_buf_puts(&b, "{") || put_str(&b, "name", name) || trove_buf_puts(&b, ",") ||
             put_str(&b, "location", abs) || trove_buf_puts(&b, "}\n"))
      ret = serve_reply_error(r, 500, "out of memory");
    else
      ret = serve_reply_json(r, 201, &b);
    trove_buf_free(&b);
  }
  trove_free(config);
  trove_free(inc);
  trove_free(exc);
  return ret;
}

static enum MHD_Result add(serve_req *r) {
  trove_json_doc *doc = NULL;
  trove_err e = {0};
  if (trove_json_parse(r->body.data ? r->body.data : "", r->body.len, 32, &doc, &e))
    return serve_reply_error(r, 400, "the body must be a JSON object: %s", e.msg);
  const trove_json *o = trove_json_root(doc);
  trove_store *st = NULL;
  enum MHD_Result ret;
  if (trove_json_type_of(o) != TROVE_JSON_OBJECT)
    ret = serve_reply_error(r, 400, "the body must be a JSON object");
  else if (borrow(r, &st, &ret)) {
    ret = add_checked(r, st, o);
    serve_handles_put(&r->s->handles, st);
  }
  trove_json_free(doc);
  return ret;
}

/* ---- DELETE /api/sources/NAME ----------------------------------------------- */

static enum MHD_Result remove_one(serve_req *r, const char *name) {
  serve *s = r->s;
  if (pthread_mutex_trylock(&s->writer) != 0)
    return serve_reply_error(r, 409, "a scan is running; remove the source when it ends");
  trove_store *st = NULL;
  enum MHD_Result ret;
  if (!borrow(r, &st, &ret)) {
    pthread_mutex_unlock(&s->writer);
    return ret;
  }
  trove_err e = {0};
  int rc = trove_store_scan_lock(st, false, NULL, &e); /* a scan in another process */
  if (rc == 0) {
    rc = trove_vectors_remove_source(s->vectors, st, name, &e);
    trove_store_scan_unlock(st);
  }
  serve_handles_put(&s->handles, st);
  pthread_mutex_unlock(&s->writer);
  if (rc == TROVE_ENOENT)
    return serve_reply_error(r, 404, "no source named \"%s\"", name);
  if (rc)
    return serve_reply_error(r, serve_status_of(rc), "%s", e.msg);
  trove_buf b = {0};
  if (trove_buf_puts(&b, "{") || put_str(&b, "removed", name) || trove_buf_puts(&b, "}\n"))
    ret = serve_reply_error(r, 500, "out of memory");
  else
    ret = serve_reply_json(r, 200, &b);
  trove_buf_free(&b);
  return ret;
}

enum MHD_Result serve_api_sources(serve_req *r, const char *rest) {
  bool get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
  if (!rest[0]) {
    if (get)
      return list(r);
    return strcmp(r->method, "POST") == 0 ? add(r) : serve_reply_error(r, 405, "use GET or POST");
  }
  if (strcmp(r->method, "DELETE") != 0)
    return serve_reply_error(r, 405, "use DELETE to remove a source");
  return remove_one(r, rest);
}

/* ---- GET /api/stats ------------------------------------------------------- */

static int stats_json(trove_buf *b, serve *s, const trove_store_stats *st) {
  int rc = trove_buf_puts(b, "{");
  rc = rc ? rc : put_str(b, "database", s->db_path);
  rc = rc ? rc : trove_buf_printf(b, ",\"bytes\":%lld,\"items\":%lld,\"passages\":%lld,"
                                  "\"vectors\":%lld,", (long long)st->db_bytes,
                                  (long long)st->items, (long long)st->passages,
                                  (long long)st->vectors);
  rc = rc ? rc : put_str(b, "model", s->model_note);
  rc = rc ? rc : trove_buf_printf(b, ",\"indexed\":%zu,\"sources\":[",
                                  s->vectors ? trove_index_count(trove_vectors_index(s->vectors))
                                             : 0);
  for (size_t i = 0; rc == 0 && i < st->n_sources; i++) {
    const trove_store_source_stats *c = &st->sources[i];
    rc = trove_buf_puts(b, i ? ",{" : "{");
    rc = rc ? rc : put_str(b, "name", c->name);
    rc = rc ? rc : trove_buf_printf(b, ",\"items\":%lld,\"hidden\":%lld,\"skipped\":%lld,"
                                    "\"passages\":%lld}", (long long)c->items,
                                    (long long)c->hidden, (long long)c->skipped,
                                    (long long)c->passages);
  }
  rc = rc ? rc : trove_buf_puts(b, "],\"skipped\":[");
  for (size_t i = 0; rc == 0 && i < st->n_reasons; i++) {
    rc = trove_buf_puts(b, i ? ",{" : "{");
    rc = rc ? rc : put_str(b, "reason", st->reasons[i].reason);
    rc = rc ? rc : trove_buf_printf(b, ",\"count\":%lld}", (long long)st->reasons[i].count);
  }
  return rc ? rc : trove_buf_puts(b, "]}\n");
}

enum MHD_Result serve_api_stats(serve_req *r) {
  trove_store *st = NULL;
  enum MHD_Result ret;
  if (!borrow(r, &st, &ret))
    return ret;
  trove_store_stats stats = {0};
  trove_err e = {0};
  trove_buf b = {0};
  int rc = trove_store_stats_get(st, &stats, &e);
  serve_handles_put(&r->s->handles, st);
  if (rc)
    ret = serve_reply_error(r, serve_status_of(rc), "%s", e.msg);
  else if (stats_json(&b, r->s, &stats))
    ret = serve_reply_error(r, 500, "out of memory");
  else
    ret = serve_reply_json(r, 200, &b);
  trove_buf_free(&b);
  trove_store_stats_clear(&stats);
  return ret;
}
