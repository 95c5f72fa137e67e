/* buf.c: a growable byte buffer, kept NUL-terminated so it doubles as a
 * string builder. Growth doubles, so n appends cost O(n) copies. */
#include "core.h"

#include <stdio.h>
#include <string.h>

int trove_buf_reserve(trove_buf *b, size_t extra) {
  size_t need;
  if (__builtin_add_overflow(b->len, extra, &need) || __builtin_add_overflow(need, 1, &need))
    return TROVE_ENOMEM;
  if (need <= b->cap)
    return 0;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need)
    cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  char *p = trove_realloc(b->data, cap);
  if (!p)
    return TROVE_ENOMEM;
  p[b->len] = '\0'; /* a first reserve must leave a string too: take() may follow */
  b->data = p;
  b->cap = cap;
  return 0;
}

int trove_buf_append(trove_buf *b, const void *p, size_t n) {
  if (trove_buf_reserve(b, n))
    return TROVE_ENOMEM;
  if (n)
    memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return 0;
}

int trove_buf_puts(trove_buf *b, const char *s) { return trove_buf_append(b, s, strlen(s)); }

int trove_buf_putc(trove_buf *b, char c) { return trove_buf_append(b, &c, 1); }

int trove_buf_printf(trove_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || trove_buf_reserve(b, (size_t)n))
    return TROVE_ENOMEM;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return 0;
}

void trove_buf_reset(trove_buf *b) {
  b->len = 0;
  if (b->data)
    b->data[0] = '\0';
}

char *trove_buf_take(trove_buf *b) {
  if (!b->data) {
    if (trove_buf_reserve(b, 0))
      return NULL;
    b->data[0] = '\0';
  }
  char *p = b->data;
  b->data = NULL;
  b->len = b->cap = 0;
  return p;
}

void trove_buf_free(trove_buf *b) {
  trove_free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}
