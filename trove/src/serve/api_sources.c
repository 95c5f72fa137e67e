/* api_sources.c: the sources page's endpoints.
 *   GET    /api/sources        {"sources":[{"name","type","location","status",
 *                              "status_msg","items","hidden","skipped","passages",
 *                              "scanned","last_scan_at","last_scan_ms"}]}, and
 *                              for browser sources "exclude_domains" and (history
 *                              ones) "retention", as `trove source list --json`
 *   POST   /api/sources        add: {"name","type","location","include":[],"exclude":[]}
 *                              as `trove source add` checks and stores it
 *                              (trove_scan_source_add: the location fits its type
 *                              and overlaps no other source; stored absolute):
 *                              201 {"name","location"}; 400 a location that is
 *                              missing or not what the type reads, 409 a name
 *                              taken or an overlap
 *   DELETE /api/sources/NAME   remove it with its items, as `trove source
 *                              remove`: 409 while a scan runs, here or in
 *                              another process
 *   POST   /api/sources/NAME   edit a browser source, as `trove source edit
 *                              --retention/--exclude-domain`
 *                              (trove_scan_source_edit_web): {"retention":
 *                              "keep"|"mirror", "exclude_domains":[hosts]},
 *                              either or both; the list replaces the old
 *                              one ([] empties it) and the source's pages on
 *                              the hosts it adds are deleted at once:
 *                              200 {"name","removed"}; 400 a bad value or
 *                              not a browser source, 404 no such source,
 *                              409 while a scan runs
 *   GET    /api/stats          what `trove stats` says, as JSON */
#include "serve_int.h"
#include "scan.h"

#include <string.h>

/* Borrows a handle, answering 500 itself when none opens. */
static bool borrow(serve_req *r, trove_store **st, enum MHD_Result *ret) {
  trove_err e = {0};
  if (trove_serve__handles_get(&r->s->handles, st, &e) == 0)
    return true;
  *ret = trove_serve__reply_error(r, 500, "%s", e.msg);
  return false;
}

/* ---- GET /api/sources ------------------------------------------------------ */

static const trove_store_source_stats *stats_of(const trove_store_stats *s, const char *name) {
  for (size_t i = 0; i < s->n_sources; i++)
    if (strcmp(s->sources[i].name, name) == 0)
      return &s->sources[i];
  return NULL;
}

static void sources_json(trove_json_out *o, const trove_store_source *v, size_t n,
                         const trove_store_stats *stats) {
  trove_json_out_object(o, NULL);
  trove_json_out_array(o, "sources");
  for (size_t i = 0; i < n; i++) {
    const trove_store_source_stats *c = stats_of(stats, v[i].name);
    trove_json_out_object(o, NULL);
    trove_json_out_str(o, "name", v[i].name);
    trove_json_out_str(o, "type", v[i].type);
    trove_json_out_str(o, "location", v[i].location);
    trove_json_out_str(o, "status", trove_source_status_name(v[i].status));
    trove_json_out_str(o, "status_msg", v[i].status_msg);
    trove_json_out_int(o, "items", c ? c->items : 0);
    trove_json_out_int(o, "hidden", c ? c->hidden : 0);
    trove_json_out_int(o, "skipped", c ? c->skipped : 0);
    trove_json_out_int(o, "passages", c ? c->passages : 0);
    trove_json_out_int(o, "scanned", v[i].scanned);
    trove_json_out_int(o, "last_scan_at", v[i].last_scan_at);
    trove_json_out_int(o, "last_scan_ms", v[i].last_scan_ms);
    trove_scan_web_config_json(o, v[i].type, v[i].config);
    trove_json_out_end(o);
  }
  trove_json_out_end(o);
  trove_json_out_end(o);
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
  int rc = trove_store_source_list(st, &v, &n, &e);
  rc = rc ? rc : trove_store_stats_get(st, &stats, &e);
  trove_serve__handles_put(&r->s->handles, st);
  if (rc) {
    ret = trove_serve__reply_error(r, trove_serve__status_of(rc), "%s", e.msg);
  } else {
    trove_buf b = {0};
    trove_json_out o = {.b = &b};
    sources_json(&o, v, n, &stats);
    ret = trove_serve__reply_json(r, 200, &o);
  }
  trove_store_stats_clear(&stats);
  trove_store_sources_free(v, n);
  return ret;
}

/* ---- POST /api/sources ------------------------------------------------------ */

/* Collects the strings of array `key` of obj into a new array *out of *n
 * (the strings stay the document's). false when it is not an array of
 * strings, or for memory. */
static bool str_array(const trove_json *obj, const char *key, const char ***out, size_t *n) {
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

/* The status of a failed trove_scan_source_add: a location that is missing
 * or not what the type reads is the request's fault, a taken name or an
 * overlap a conflict. */
static unsigned add_status(int rc) {
  switch (rc) {
  case TROVE_ENOENT:
  case TROVE_ECORRUPT:
  case TROVE_EUNSUPPORTED:
    return 400;
  default:
    return trove_serve__status_of(rc);
  }
}

/* Checks the body as `trove source add` checks its arguments, and adds the
 * source through st as it does (trove_scan_source_add). Answers the
 * request. */
static enum MHD_Result add_checked(serve_req *r, trove_store *st, const trove_json *o) {
  const char *name = trove_json_get_str(o, "name", NULL);
  const char *type = trove_json_get_str(o, "type", NULL);
  const char *loc = trove_json_get_str(o, "location", NULL);
  const char **inc = NULL, **exc = NULL;
  size_t ni = 0, ne = 0;
  char *config = NULL, *stored = NULL;
  trove_err e = {0};
  enum MHD_Result ret;
  int rc;
  if (!name || !name[0] || strlen(name) > 64 || strchr(name, '/'))
    ret = trove_serve__reply_error(r, 400, "a source needs a name: 1 to 64 characters, no '/'");
  else if (!type || !trove_scan_type_known(type))
    ret = trove_serve__reply_error(r, 400,
                                   "type must be fs, chromium-history, chromium-bookmarks or "
                                   "firefox");
  else if (!loc || !loc[0])
    ret = trove_serve__reply_error(r, 400,
                                   "a source needs a location: a directory, or a browser "
                                   "profile directory");
  else if (!str_array(o, "include", &inc, &ni) || !str_array(o, "exclude", &exc, &ne))
    ret = trove_serve__reply_error(r, 400, "include and exclude are arrays of glob strings");
  else if (strcmp(type, "fs") != 0 && (ni || ne))
    ret = trove_serve__reply_error(r, 400, "include and exclude apply to fs sources only");
  else if (trove_scan_fs_config(inc, ni, exc, ne, &config, &e))
    ret = trove_serve__reply_error(r, 400, "%s", e.msg);
  else if ((rc = trove_scan_source_add(st, name, type, loc, config, &stored, &e)) != 0)
    ret = trove_serve__reply_error(r, add_status(rc), "%s", e.msg);
  else {
    trove_serve__watcher_reload(r->s); /* the watcher takes the new source up */
    trove_buf b = {0};
    trove_json_out out = {.b = &b};
    trove_json_out_object(&out, NULL);
    trove_json_out_str(&out, "name", name);
    trove_json_out_str(&out, "location", stored);
    trove_json_out_end(&out);
    ret = trove_serve__reply_json(r, 201, &out);
  }
  trove_free(stored);
  trove_free(config);
  trove_free(inc);
  trove_free(exc);
  return ret;
}

static enum MHD_Result add(serve_req *r) {
  trove_json_doc *doc = NULL;
  trove_err e = {0};
  if (trove_json_parse(r->body.data ? r->body.data : "", r->body.len, 32, &doc, &e))
    return trove_serve__reply_error(r, 400, "the body must be a JSON object: %s", e.msg);
  const trove_json *o = trove_json_root(doc);
  trove_store *st = NULL;
  enum MHD_Result ret;
  if (trove_json_type_of(o) != TROVE_JSON_OBJECT)
    ret = trove_serve__reply_error(r, 400, "the body must be a JSON object");
  else if (borrow(r, &st, &ret)) {
    ret = add_checked(r, st, o);
    trove_serve__handles_put(&r->s->handles, st);
  }
  trove_json_free(doc);
  return ret;
}

/* ---- DELETE /api/sources/NAME ----------------------------------------------- */

static enum MHD_Result remove_one(serve_req *r, const char *name) {
  serve *s = r->s;
  if (pthread_mutex_trylock(&s->writer) != 0)
    return trove_serve__reply_error(r, 409, "a scan is running; remove the source when it ends");
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
  trove_serve__handles_put(&s->handles, st);
  pthread_mutex_unlock(&s->writer);
  if (rc == TROVE_ENOENT)
    return trove_serve__reply_error(r, 404, "no source named \"%s\"", name);
  if (rc)
    return trove_serve__reply_error(r, trove_serve__status_of(rc), "%s", e.msg);
  trove_serve__watcher_reload(s); /* the watcher drops it */
  trove_buf b = {0};
  trove_json_out o = {.b = &b};
  trove_json_out_object(&o, NULL);
  trove_json_out_str(&o, "removed", name);
  trove_json_out_end(&o);
  return trove_serve__reply_json(r, 200, &o);
}

/* ---- POST /api/sources/NAME ------------------------------------------------- */

/* The status of a failed trove_scan_source_edit_web. */
static unsigned edit_status(int rc) {
  switch (rc) {
  case TROVE_ENOENT:
    return 404;
  case TROVE_EINVAL:
    return 400;
  case TROVE_EBUSY:
    return 409;
  default:
    return trove_serve__status_of(rc);
  }
}

/* Reads the edit from the body o into *w (domains pointing into o's
 * document, in *doms: the caller frees the array). Answers and returns
 * false on a bad body. */
static bool read_edit(serve_req *r, const trove_json *o, trove_scan_web_edit *w,
                      const char ***doms, enum MHD_Result *ret) {
  const trove_json *ret_v = trove_json_get(o, "retention");
  size_t nd = 0;
  *doms = NULL;
  if (ret_v && (trove_json_type_of(ret_v) != TROVE_JSON_STRING ||
                trove_retention_parse(trove_json_str(ret_v, ""), &w->retention))) {
    *ret = trove_serve__reply_error(r, 400, "retention must be keep or mirror");
    return false;
  }
  if (!str_array(o, "exclude_domains", doms, &nd)) {
    *ret = trove_serve__reply_error(r, 400, "exclude_domains is an array of host names");
    return false;
  }
  w->set_exclude_domains = trove_json_get(o, "exclude_domains") != NULL;
  w->exclude_domains = *doms;
  w->n_exclude_domains = nd;
  if (!ret_v && !w->set_exclude_domains) {
    *ret = trove_serve__reply_error(r, 400, "give retention or exclude_domains to change");
    return false;
  }
  return true;
}

/* Edits a browser source with trove_scan_source_edit_web, the call behind
 * `trove source edit --retention/--exclude-domain`, holding the writer as a
 * removal does: its deletions go through the vector index. */
static enum MHD_Result edit_one(serve_req *r, const char *name) {
  serve *s = r->s;
  trove_json_doc *doc = NULL;
  trove_err e = {0};
  if (trove_json_parse(r->body.data ? r->body.data : "", r->body.len, 32, &doc, &e))
    return trove_serve__reply_error(r, 400, "the body must be a JSON object: %s", e.msg);
  const trove_json *o = trove_json_root(doc);
  trove_scan_web_edit w = {0};
  const char **doms = NULL;
  enum MHD_Result ret;
  trove_store *st = NULL;
  if (trove_json_type_of(o) != TROVE_JSON_OBJECT) {
    ret = trove_serve__reply_error(r, 400, "the body must be a JSON object");
  } else if (!read_edit(r, o, &w, &doms, &ret)) {
    /* answered */
  } else if (pthread_mutex_trylock(&s->writer) != 0) {
    ret = trove_serve__reply_error(r, 409, "a scan is running; edit the source when it ends");
  } else {
    int64_t removed = 0;
    int rc = 0;
    if (borrow(r, &st, &ret)) {
      trove_scan_opts so = {.progress = TROVE_PROGRESS_NONE, .no_wait = true,
                            .vectors = s->vectors};
      rc = trove_scan_source_edit_web(st, name, &w, &so, &removed, &e);
      trove_serve__handles_put(&s->handles, st);
      if (rc) {
        ret = trove_serve__reply_error(r, edit_status(rc), "%s", e.msg);
      } else {
        trove_buf b = {0};
        trove_json_out out = {.b = &b};
        trove_json_out_object(&out, NULL);
        trove_json_out_str(&out, "name", name);
        trove_json_out_int(&out, "removed", removed);
        trove_json_out_end(&out);
        ret = trove_serve__reply_json(r, 200, &out);
      }
    }
    pthread_mutex_unlock(&s->writer);
  }
  trove_free(doms);
  trove_json_free(doc);
  return ret;
}

enum MHD_Result trove_serve__api_sources(serve_req *r, const char *rest) {
  bool get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
  if (!rest[0]) {
    if (get)
      return list(r);
    return strcmp(r->method, "POST") == 0 ? add(r)
                                          : trove_serve__reply_error(r, 405, "use GET or POST");
  }
  if (strcmp(r->method, "POST") == 0)
    return edit_one(r, rest);
  if (strcmp(r->method, "DELETE") != 0)
    return trove_serve__reply_error(r, 405, "use DELETE to remove a source, POST to edit one");
  return remove_one(r, rest);
}

/* ---- GET /api/stats ------------------------------------------------------- */

static void stats_json(trove_json_out *o, serve *s, const trove_store_stats *st) {
  trove_json_out_object(o, NULL);
  trove_json_out_str(o, "database", s->db_path);
  trove_json_out_int(o, "bytes", st->db_bytes);
  trove_json_out_int(o, "items", st->items);
  trove_json_out_int(o, "passages", st->passages);
  trove_json_out_int(o, "vectors", st->vectors);
  trove_json_out_str(o, "model", s->model_note);
  trove_json_out_int(o, "indexed",
                     s->vectors ? (int64_t)trove_index_count(trove_vectors_index(s->vectors)) : 0);
  trove_json_out_array(o, "sources");
  for (size_t i = 0; i < st->n_sources; i++) {
    const trove_store_source_stats *c = &st->sources[i];
    trove_json_out_object(o, NULL);
    trove_json_out_str(o, "name", c->name);
    trove_json_out_int(o, "items", c->items);
    trove_json_out_int(o, "hidden", c->hidden);
    trove_json_out_int(o, "skipped", c->skipped);
    trove_json_out_int(o, "passages", c->passages);
    trove_json_out_end(o);
  }
  trove_json_out_end(o);
  trove_json_out_array(o, "skipped");
  for (size_t i = 0; i < st->n_reasons; i++) {
    trove_json_out_object(o, NULL);
    trove_json_out_str(o, "reason", st->reasons[i].reason);
    trove_json_out_int(o, "count", st->reasons[i].count);
    trove_json_out_end(o);
  }
  trove_json_out_end(o);
  trove_json_out_end(o);
}

enum MHD_Result trove_serve__api_stats(serve_req *r) {
  trove_store *st = NULL;
  enum MHD_Result ret;
  if (!borrow(r, &st, &ret))
    return ret;
  trove_store_stats stats = {0};
  trove_err e = {0};
  int rc = trove_store_stats_get(st, &stats, &e);
  trove_serve__handles_put(&r->s->handles, st);
  if (rc) {
    ret = trove_serve__reply_error(r, trove_serve__status_of(rc), "%s", e.msg);
  } else {
    trove_buf b = {0};
    trove_json_out o = {.b = &b};
    stats_json(&o, r->s, &stats);
    ret = trove_serve__reply_json(r, 200, &o);
  }
  trove_store_stats_clear(&stats);
  return ret;
}
