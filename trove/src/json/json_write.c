/* json_write.c: JSON output (json.h): string quoting and a small writer
 * that places commas, keys and brackets, so every --json of the CLI, and
 * the config a source keeps, are written by one piece of code and escaped
 * the same way. The quoting also escapes DEL and the C1 controls, which
 * JSON lets through raw: the output is printed, and a terminal would act
 * on them (U+009B is CSI). */
#include "json.h"

#include <math.h>
#include <string.h>

/* Whether the character at p (n bytes of UTF-8) is a control that JSON
 * lets through raw but a terminal would act on: DEL and the C1 controls
 * U+0080..U+009F. */
static bool raw_control(const unsigned char *p, size_t n) {
  return (n == 1 && *p == 0x7F) || (n == 2 && p[0] == 0xC2 && p[1] < 0xA0);
}

int trove_json_quote(trove_buf *b, const char *s) {
  int rc = trove_buf_putc(b, '"');
  const unsigned char *p = (const unsigned char *)(s ? s : "");
  size_t left = strlen((const char *)p);
  while (rc == 0 && left) {
    size_t n = trove_utf8_seq((const char *)p, left);
    if (*p == '"' || *p == '\\') {
      char esc[3] = {'\\', (char)*p, 0};
      rc = trove_buf_puts(b, esc);
    } else if (*p < 0x20 || raw_control(p, n)) {
      rc = trove_buf_printf(b, "\\u%04x", n == 2 ? p[1] : *p);
    } else if (n == 0) {
      rc = trove_buf_puts(b, "\\ufffd"); /* an invalid byte */
    } else {
      rc = trove_buf_append(b, p, n);
    }
    p += n ? n : 1;
    left -= n ? n : 1;
  }
  return rc ? rc : trove_buf_putc(b, '"');
}

/* Writes what goes before a value: the comma, the line break of a
 * top-level member, and the key. False when the writer has failed. */
static bool lead(trove_json_out *o, const char *key) {
  if (o->rc)
    return false;
  if (!o->b)
    return (o->rc = TROVE_EINVAL), false;
  int rc = 0;
  if (o->depth > 0) {
    if (o->more[o->depth - 1])
      rc = trove_buf_putc(o->b, ',');
    o->more[o->depth - 1] = true;
    if (!rc && o->depth == 1)
      rc = trove_buf_puts(o->b, "\n ");
  }
  if (!rc && key && o->depth > 0 && o->close[o->depth - 1] == '}') {
    rc = trove_json_quote(o->b, key);
    rc = rc ? rc : trove_buf_putc(o->b, ':');
  }
  o->rc = rc;
  return rc == 0;
}

static void open_container(trove_json_out *o, const char *key, char open, char close) {
  if (!lead(o, key))
    return;
  if (o->depth == TROVE_JSON_OUT_DEPTH) {
    o->rc = TROVE_EINVAL;
    return;
  }
  o->close[o->depth] = close;
  o->more[o->depth++] = false;
  o->rc = trove_buf_putc(o->b, open);
}

void trove_json_out_object(trove_json_out *o, const char *key) { open_container(o, key, '{', '}'); }

void trove_json_out_array(trove_json_out *o, const char *key) { open_container(o, key, '[', ']'); }

void trove_json_out_end(trove_json_out *o) {
  if (o->rc)
    return;
  if (o->depth == 0) {
    o->rc = TROVE_EINVAL;
    return;
  }
  o->depth--;
  if (o->depth == 0 && o->more[0])
    o->rc = trove_buf_putc(o->b, '\n');
  if (!o->rc)
    o->rc = trove_buf_putc(o->b, o->close[o->depth]);
}

void trove_json_out_str(trove_json_out *o, const char *key, const char *v) {
  if (lead(o, key))
    o->rc = v ? trove_json_quote(o->b, v) : trove_buf_puts(o->b, "null");
}

void trove_json_out_int(trove_json_out *o, const char *key, int64_t v) {
  if (lead(o, key))
    o->rc = trove_buf_printf(o->b, "%lld", (long long)v);
}

void trove_json_out_num(trove_json_out *o, const char *key, double v, int digits) {
  if (!lead(o, key))
    return;
  if (!isfinite(v))
    o->rc = trove_buf_puts(o->b, "null");
  else if (digits < 0)
    o->rc = trove_buf_printf(o->b, "%.6g", v);
  else
    o->rc = trove_buf_printf(o->b, "%.*f", digits, v);
}

void trove_json_out_bool(trove_json_out *o, const char *key, bool v) {
  if (lead(o, key))
    o->rc = trove_buf_puts(o->b, v ? "true" : "false");
}

int trove_json_out_done(trove_json_out *o) {
  if (!o->rc && o->depth)
    o->rc = TROVE_EINVAL;
  if (!o->rc && o->b)
    o->rc = trove_buf_putc(o->b, '\n');
  return o->rc;
}
