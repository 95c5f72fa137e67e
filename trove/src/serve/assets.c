/* assets.c: the page and its files, compiled in (serve_files.c, generated
 * by embed.cmake from assets/). index.html is served at / with the
 * process's token written into it (a <meta> the script reads), so it is
 * never cached; the script, style and icon hold nothing secret. Nothing
 * here touches the file system. */
#include "serve_int.h"

#include <string.h>

struct serve_file {
  const char *name;
  const unsigned char *data;
  size_t len;
};
extern const struct serve_file trove_serve__files[]; /* ends with a NULL name */

static const struct serve_file *find(const char *name) {
  for (const struct serve_file *f = trove_serve__files; f->name; f++)
    if (strcmp(f->name, name) == 0)
      return f;
  return NULL;
}

int trove_serve__page_build(serve *s) {
  static const char mark[] = "{{TOKEN}}";
  const struct serve_file *f = find("index.html");
  const char *html = f ? (const char *)f->data : "";
  const char *at = strstr(html, mark);
  trove_buf b = {0};
  int rc = at ? trove_buf_append(&b, html, (size_t)(at - html)) : trove_buf_puts(&b, html);
  rc = rc || !at ? rc : trove_buf_puts(&b, s->token);
  rc = rc || !at ? rc : trove_buf_puts(&b, at + sizeof mark - 1);
  if (rc) {
    trove_buf_free(&b);
    return rc;
  }
  s->page_len = b.len;
  s->page = trove_buf_take(&b);
  return s->page ? 0 : TROVE_ENOMEM;
}

static const char *type_of(const char *name) {
  const char *dot = strrchr(name, '.');
  if (dot && strcmp(dot, ".css") == 0)
    return "text/css; charset=utf-8";
  if (dot && strcmp(dot, ".js") == 0)
    return "text/javascript; charset=utf-8";
  if (dot && strcmp(dot, ".svg") == 0)
    return "image/svg+xml";
  return "text/html; charset=utf-8";
}

bool trove_serve__asset(serve_req *r, const char *path, enum MHD_Result *ret) {
  bool read = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
  if (strcmp(path, "/") == 0) {
    *ret = read ? trove_serve__reply(r, 200, "text/html; charset=utf-8", r->s->page, r->s->page_len,
                                     "no-store")
                : trove_serve__reply_error(r, 405, "use GET");
    return true;
  }
  const struct serve_file *f = path[0] == '/' && strcmp(path + 1, "index.html") != 0
                                   ? find(path + 1) : NULL;
  if (!f)
    return false;
  *ret =
      read ? trove_serve__reply(r, 200, type_of(f->name), (const char *)f->data, f->len, "no-cache")
           : trove_serve__reply_error(r, 405, "use GET");
  return true;
}
