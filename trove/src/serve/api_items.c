/* api_items.c: one item. GET /api/items/ID answers its metadata and
 * extracted text as stored:
 *   {"id":12,"title":"...","type":"web","source":"history","path":"https://...",
 *    "author":"...","language":"en","description":"...","skipped":null,
 *    "error":null,"hidden":false,"link_hub":false,"date":1700000000,
 *    "updated_at":1700000100,"text":"..."}
 * (path is the URL of a web item or bookmark, the file of a local one; the
 * page shows it, and links a URL only when it is http or https). POST
 * /api/items/ID/hide and /unhide set whether search skips it. Nothing here
 * reads a file: the text is the database's. */
#include "serve_int.h"

#include <string.h>

/* The item as GET /api/items/ID answers it (see the top). */
static void item_json(trove_json_out *o, const trove_store_item *it, const char *source) {
  int64_t date = it->last_visited > 0 ? it->last_visited
                 : it->mtime_us > 0   ? it->mtime_us / 1000000
                                      : 0;
  trove_json_out_object(o, NULL);
  trove_json_out_int(o, "id", it->id);
  trove_json_out_str(o, "title", it->title);
  trove_json_out_str(o, "type", trove_item_type_name(it->type));
  trove_json_out_str(o, "source", source);
  trove_json_out_str(o, "path", it->external_id);
  trove_json_out_str(o, "author", it->author);
  trove_json_out_str(o, "language", it->language);
  trove_json_out_str(o, "description", it->description);
  trove_json_out_str(o, "skipped", it->skip_reason);
  trove_json_out_str(o, "error", it->error);
  trove_json_out_bool(o, "hidden", it->hidden_at != 0);
  trove_json_out_bool(o, "link_hub", it->is_link_hub);
  trove_json_out_int(o, "date", date);
  trove_json_out_int(o, "updated_at", it->updated_at);
  trove_json_out_str(o, "text", it->text);
  trove_json_out_end(o);
}

static enum MHD_Result get_item(serve_req *r, int64_t id) {
  trove_store *st = NULL;
  trove_err e = {0};
  int rc = trove_serve__handles_get(&r->s->handles, &st, &e);
  if (rc)
    return trove_serve__reply_error(r, 500, "%s", e.msg);
  trove_store_item it = {0};
  char *source = NULL;
  enum MHD_Result ret;
  rc = trove_store_item_get(st, id, false, &it, &e);
  rc = rc ? rc : trove_store_source_name(st, it.source_id, &source, &e);
  trove_serve__handles_put(&r->s->handles, st);
  if (rc == TROVE_ENOENT) {
    ret = trove_serve__reply_error(r, 404, "no item %lld", (long long)id);
  } else if (rc) {
    ret = trove_serve__reply_error(r, trove_serve__status_of(rc), "%s", e.msg);
  } else {
    trove_buf b = {0};
    trove_json_out o = {.b = &b};
    item_json(&o, &it, source);
    ret = trove_serve__reply_json(r, 200, &o);
  }
  trove_free(source);
  trove_store_item_clear(&it);
  return ret;
}

static enum MHD_Result set_hidden(serve_req *r, int64_t id, bool hide) {
  trove_store *st = NULL;
  trove_err e = {0};
  int rc = trove_serve__handles_get(&r->s->handles, &st, &e);
  if (rc)
    return trove_serve__reply_error(r, 500, "%s", e.msg);
  rc = trove_store_item_set_hidden(st, id, hide, &e);
  trove_serve__handles_put(&r->s->handles, st);
  if (rc == TROVE_ENOENT)
    return trove_serve__reply_error(r, 404, "no item %lld", (long long)id);
  if (rc)
    return trove_serve__reply_error(r, trove_serve__status_of(rc), "%s", e.msg);
  trove_buf b = {0};
  trove_json_out o = {.b = &b};
  trove_json_out_object(&o, NULL);
  trove_json_out_int(&o, "id", id);
  trove_json_out_bool(&o, "hidden", hide);
  trove_json_out_end(&o);
  return trove_serve__reply_json(r, 200, &o);
}

enum MHD_Result trove_serve__api_item(serve_req *r, const char *rest) {
  char digits[24];
  const char *slash = strchr(rest, '/');
  size_t len = slash ? (size_t)(slash - rest) : strlen(rest);
  int64_t id = 0;
  if (len >= sizeof digits)
    len = sizeof digits - 1; /* too long for an id: fails below */
  memcpy(digits, rest, len);
  digits[len] = 0;
  if (!trove_serve__parse_id(digits, &id))
    return trove_serve__reply_error(r, 400, "an item id is a positive number, not \"%.40s\"",
                                    digits);
  bool get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
  if (!slash)
    return get ? get_item(r, id) : trove_serve__reply_error(r, 405, "use GET");
  if (strcmp(slash, "/hide") == 0 || strcmp(slash, "/unhide") == 0)
    return strcmp(r->method, "POST") == 0 ? set_hidden(r, id, slash[1] == 'h')
                                          : trove_serve__reply_error(r, 405, "use POST");
  return trove_serve__reply_error(r, 404, "no such endpoint: /api/items/%lld%.40s", (long long)id,
                                  slash);
}
