/* api_scan.c: the background scan's endpoints (scanner.c runs it).
 *   GET  /api/scan        its state: the last "scan" event's JSON
 *   POST /api/scan        start: body {"source":"NAME"}, or {} (or none) for
 *                         every source; 202 {"started":true}, 409 when one runs
 *   POST /api/scan/stop   stop the running one: 202, or 409 when none runs */
#include "serve_int.h"

#include <string.h>

/* 202 {key:true}. */
static enum MHD_Result accepted(serve_req *r, const char *key) {
  trove_buf b = {0};
  trove_json_out o = {.b = &b};
  trove_json_out_object(&o, NULL);
  trove_json_out_bool(&o, key, true);
  trove_json_out_end(&o);
  return trove_serve__reply_json(r, 202, &o);
}

static enum MHD_Result start(serve_req *r) {
  trove_json_doc *doc = NULL;
  trove_err e = {0};
  const char *name = NULL;
  if (r->body.len) {
    if (trove_json_parse(r->body.data, r->body.len, 32, &doc, &e))
      return trove_serve__reply_error(r, 400, "the body must be a JSON object: %s", e.msg);
    const trove_json *o = trove_json_root(doc);
    const trove_json *src = trove_json_get(o, "source");
    if (trove_json_type_of(o) != TROVE_JSON_OBJECT ||
        (src && trove_json_type_of(src) != TROVE_JSON_STRING &&
         trove_json_type_of(src) != TROVE_JSON_NULL)) {
      trove_json_free(doc);
      return trove_serve__reply_error(r, 400,
                                      "the body is {\"source\":\"NAME\"}, or {} for every source");
    }
    name = trove_json_str(src, NULL);
    if (name && !name[0])
      name = NULL;
  }
  int rc = trove_serve__scanner_start(r->s, name, &e);
  trove_json_free(doc);
  if (rc)
    return trove_serve__reply_error(r,
                                    rc == TROVE_EBUSY       ? 409
                                    : rc == TROVE_ECANCELED ? 503
                                                            : 500,
                                    "%s", e.msg);
  return accepted(r, "started");
}

enum MHD_Result trove_serve__api_scan(serve_req *r, const char *rest) {
  bool get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
  bool post = strcmp(r->method, "POST") == 0;
  if (!rest[0] && get) {
    char *state = trove_serve__scanner_state(r->s);
    enum MHD_Result ret = state ? trove_serve__reply_json_text(r, 200, state)
                                : trove_serve__reply_error(r, 500, "out of memory");
    trove_free(state);
    return ret;
  }
  if (!rest[0])
    return post ? start(r) : trove_serve__reply_error(r, 405, "use GET or POST");
  if (strcmp(rest, "stop") == 0) {
    if (!post)
      return trove_serve__reply_error(r, 405, "use POST");
    return trove_serve__scanner_stop(r->s) ? accepted(r, "stopping")
                                           : trove_serve__reply_error(r, 409, "no scan is running");
  }
  return trove_serve__reply_error(r, 404, "no such endpoint: /api/scan/%.40s", rest);
}
