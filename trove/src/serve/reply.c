/* reply.c: every response goes out through trove_serve__reply, which adds the
 * headers that make the page safe with hostile content in it:
 * - Content-Security-Policy: scripts, styles and connections from this
 *   server only, no inline script or style, no plugins, no framing; images
 *   only from this server (a stored page's <img> never loads: the page
 *   shows text, but the policy holds even if that ever slipped);
 * - X-Content-Type-Options: nosniff, so a JSON answer holding HTML is
 *   never run as a page; Referrer-Policy: no-referrer, so opening a
 *   result's URL does not tell that site where it came from.
 * Errors are JSON: {"error":"...","status":N}. */
#include "serve_int.h"
#include "json.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char csp[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

enum MHD_Result trove_serve__reply(serve_req *r, unsigned status, const char *type,
                                   const char *body, size_t len, const char *cache) {
  struct MHD_Response *resp =
      MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
  if (!resp)
    return MHD_NO; /* MHD closes the connection */
  MHD_add_response_header(resp, "Content-Type", type);
  MHD_add_response_header(resp, "Content-Security-Policy", csp);
  MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
  MHD_add_response_header(resp, "X-Frame-Options", "DENY");
  MHD_add_response_header(resp, "Cache-Control", cache ? cache : "no-store");
  enum MHD_Result ret = MHD_queue_response(r->conn, status, resp);
  MHD_destroy_response(resp);
  return ret;
}

static const char json_type[] = "application/json; charset=utf-8";

enum MHD_Result trove_serve__reply_json_text(serve_req *r, unsigned status, const char *json) {
  return trove_serve__reply(r, status, json_type, json, strlen(json), NULL);
}

enum MHD_Result trove_serve__reply_json(serve_req *r, unsigned status, trove_json_out *o) {
  static const char nomem[] = "{\"error\":\"out of memory\",\"status\":500}\n";
  int rc = trove_json_out_done(o);
  enum MHD_Result ret = rc ? trove_serve__reply(r, 500, json_type, nomem, sizeof nomem - 1, NULL)
                           : trove_serve__reply(r, status, json_type, o->b->data, o->b->len, NULL);
  trove_buf_free(o->b);
  return ret;
}

enum MHD_Result trove_serve__reply_error(serve_req *r, unsigned status, const char *fmt, ...) {
  char msg[600];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  trove_buf b = {0};
  trove_json_out o = {.b = &b};
  trove_json_out_object(&o, NULL);
  trove_json_out_str(&o, "error", msg);
  trove_json_out_int(&o, "status", status);
  trove_json_out_end(&o);
  return trove_serve__reply_json(r, status, &o);
}

unsigned trove_serve__status_of(int code) {
  switch (code) {
  case TROVE_EINVAL:
  case TROVE_EUNSUPPORTED:
    return 400;
  case TROVE_ENOENT:
    return 404;
  case TROVE_EEXIST:
  case TROVE_EBUSY:
  case TROVE_ERANGE:
    return 409;
  default:
    return 500;
  }
}
