/* api_items.c: one item. GET /api/items/ID answers its metadata and
 * extracted text as stored:
 *   {"id":12,"title":"...","type":"web","source":"history","path":"https://...",
 *    "author":"...","language":"en","description":"...","skipped":null,
 *    "error":null,"hidden":false,"date":1700000000,"updated_at":1700000100,
 *    "text":"..."}
 * (path is the URL of a web item or bookmark, the file of a local one; the
 * page shows it, and links a URL only when it is http or https). POST
 * /api/items/ID/hide and /unhide set whether search skips it. Nothing here
 * reads a file: the text is the database's. */
#include "serve_int.h"
#include "json.h"

#include <string.h>

static int put_str(trove_buf *b, const char *key, const char *v) {
  int rc = trove_buf_printf(b, ",\"%s\":", key);
  return rc ? rc : v ? trove_json_quote(b, v) : trove_buf_puts(b, "null");
}

/* The name of the item's source (the caller's: trove_free); NULL when it
 * cannot be found, which only a failed read gives. */
static char *source_name(trove_store *st, int64_t source_id) {
  trove_store_source *v = NULL;
  size_t n = 0;
  char *name = NULL;
  if (trove_store_source_list(st, &v, &n, NULL) == 0)
    for (size_t i = 0; i < n && !name; i++)
      if (v[i].id == source_id)
        name = trove_strdup(v[i].name);
  trove_store_sources_free(v, n);
  return name;
}

static int item_json(trove_buf *b, const trove_store_item *it, const char *source) {
  int64_t date = it->last_visited > 0 ? it->last_visited
                 : it->mtime_us > 0   ? it->mtime_us / 1000000
                                      : 0;
  int rc = trove_buf_printf(b, "{\"id\":%lld", (long long)it->id);
  rc = rc ? rc : put_str(b, "title", it->title);
  rc = rc ? rc : put_str(b, "type", trove_item_type_name(it->type));
  rc = rc ? rc : put_str(b, "source", source);
  rc = rc ? rc : put_str(b, "path", it->external_id);
  rc = rc ? rc : put_str(b, "author", it->author);
  rc = rc ? rc : put_str(b, "language", it->language);
  rc = rc ? rc : put_str(b, "description", it->description);
  rc = rc ? rc : put_str(b, "skipped", it->skip_reason);
  rc = rc ? rc : put_str(b, "error", it->error);
  rc = rc ? rc : trove_buf_printf(b, ",\"hidden\":%s,\"link_hub\":%s,\"date\":%lld,"
                                  "\"updated_at\":%lld", it->hidden_at ? "true" : "false",
                                  it->is_link_hub ? "true" : "false", (long long)date,
                                  (long long)it->updated_at);
  rc = rc ? rc : put_str(b, "text", it->text);
  return rc ? rc : trove_buf_puts(b, "}\n");
}

static enum MHD_Result get_item(serve_req *r, int64_t id) {
  trove_store *st = NULL;
  trove_err e = {0};
  int rc = serve_handles_get(&r->s->handles, &st, &e);
  if (rc)
    return serve_reply_error(r, 500, "%s", e.msg);
  trove_store_item it = {0};
  trove_buf b = {0};
  enum MHD_Result ret;
  if ((rc = trove_store_item_get(st, id, false, &it, &e)) != 0) {
    ret = rc == TROVE_ENOENT ? serve_reply_error(r, 404, "no item %lld", (long long)id)
                             : serve_reply_error(r, serve_status_of(rc), "%s", e.msg);
  } else {
    char *source = source_name(st, it.source_id);
    rc = item_json(&b, &it, source);
    trove_free(source);
    ret = rc ? serve_reply_error(r, 500, "out of memory") : serve_reply_json(r, 200, &b);
  }
  serve_handles_put(&r->s->handles, st);
  trove_store_item_clear(&it);
  trove_buf_free(&b);
  return ret;
}

static enum MHD_Result set_hidden(serve_req *r, int64_t id, bool hide) {
  trove_store *st = NULL;
  trove_err e = {0};
  int rc = serve_handles_get(&r->s->handles, &st, &e);
  if (rc)
    return serve_reply_error(r, 500, "%s", e.msg);
  rc = trove_store_item_set_hidden(st, id, hide, &e);
  serve_handles_put(&r->s->handles, st);
  if (rc == TROVE_ENOENT)
    return serve_reply_error(r, 404, "no item %lld", (long long)id);
  if (rc)
    return serve_reply_error(r, serve_status_of(rc), "%s", e.msg);
  trove_buf b = {0};
  rc = trove_buf_printf(&b, "{\"id\":%lld,\"hidden\":%s}\n", (long long)id,
                        hide ? "true" : "false");
  enum MHD_Result ret = rc ? serve_reply_error(r, 500, "out of memory")
                           : serve_reply_json(r, 200, &b);
  trove_buf_free(&b);
  return ret;
}

enum MHD_Result serve_api_item(serve_req *r, const char *rest) {
  char digits[24];
  const char *slash = strchr(rest, '/');
  size_t len = slash ? (size_t)(slash - rest) : strlen(rest);
  int64_t id = 0;
  if (len >= sizeof digits)
    len = sizeof digits - 1; /* too long for an id: fails below */
  memcpy(digits, rest, len);
  digits[len] = 0;
  if (!serve_parse_id(digits, &id))
    return serve_reply_error(r, 400, "an item id is a positive number, not \"%.40s\"", digits);
  bool get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
  if (!slash)
    return get ? get_item(r, id) : serve_reply_error(r, 405, "use GET");
  if (strcmp(slash, "/hide") == 0 || strcmp(slash, "/unhide") == 0)
    return strcmp(r->method, "POST") == 0 ? set_hidden(r, id, slash[1] == 'h')
                                          : serve_reply_error(r, 405, "use POST");
  return serve_reply_error(r, 404, "no such endpoint: /api/items/%lld%.40s", (long long)id, slash);
}
