/* json_write.c: writing JSON: the string quoting every --json output, the
 * stored source configs and the web API share, so one function decides what
 * a title or a path from a hostile page turns into. */
#include "json.h"

#include <string.h>

/* Whether the character at p (n bytes of UTF-8) is a control that JSON
 * lets through raw but a terminal would act on: DEL and the C1 controls
 * U+0080..U+009F (CSI is U+009B). */
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
