/* term.c: the one sanitiser for text written to a terminal (see core.h).
 * Escaping is byte-wise and visible (\x1b, \xc2\x9b) rather than dropping
 * the bytes, so a name with a control in it can still be told apart from
 * one without, and a person can find the file. Backslashes are left alone:
 * escaping them would mangle every Windows path and regex in page text,
 * and the sequences written here cannot act on a terminal either way. */
#include "core.h"

#include <stdlib.h>

enum { LINE_STACK = 4096 }; /* bytes formatted without allocating */

/* Whether the character at s passes through raw in mode: n is its length
 * from trove_utf8_seq (0 for an invalid byte), left the bytes from s on. */
static bool is_plain(const unsigned char *s, size_t n, size_t left, trove_term_mode mode) {
  if (n == 0)
    return false; /* not UTF-8: on a Latin-1 terminal 0x80..0x9F are C1 */
  if (n == 2)
    return !(s[0] == 0xC2 && s[1] < 0xA0); /* C1 controls in UTF-8 form */
  if (n > 1 || (s[0] >= 0x20 && s[0] != 0x7F))
    return true;
  if (mode != TROVE_TERM_TEXT)
    return false;
  return s[0] == '\n' || s[0] == '\t' || (s[0] == '\r' && left > 1 && s[1] == '\n');
}

void trove_term_write(FILE *f, const char *s, size_t n, trove_term_mode mode) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0, run = 0; /* p[run, i) is plain and not yet written */
  while (i < n) {
    size_t k = trove_utf8_seq(s + i, n - i);
    if (is_plain(p + i, k, n - i, mode)) {
      i += k;
      continue;
    }
    fwrite(p + run, 1, i - run, f);
    for (size_t e = i + (k ? k : 1); i < e; i++)
      fprintf(f, "\\x%02x", p[i]);
    run = i;
  }
  fwrite(p + run, 1, i - run, f);
}

void trove_term_vline(FILE *f, const char *fmt, va_list ap) {
  char stack[LINE_STACK], *heap = NULL;
  va_list again;
  va_copy(again, ap);
  int n = vsnprintf(stack, sizeof stack, fmt, ap);
  const char *out = stack;
  size_t len = n < 0 ? 0 : (size_t)n;
  if (len >= sizeof stack && (heap = trove_malloc(len + 1)) != NULL) {
    vsnprintf(heap, len + 1, fmt, again);
    out = heap;
  } else if (len >= sizeof stack) {
    len = sizeof stack - 1; /* benign: the line is cut, and says so */
  }
  va_end(again);
  trove_term_write(f, out, len, TROVE_TERM_LINE);
  fputs(out == stack && n >= (int)sizeof stack ? "...\n" : "\n", f);
  trove_free(heap);
}

void trove_term_line(FILE *f, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  trove_term_vline(f, fmt, ap);
  va_end(ap);
}
