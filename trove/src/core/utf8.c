/* utf8.c: encoding one code point as UTF-8, measuring one valid sequence,
 * escaping invalid bytes: small pieces several modules need (the JSON
 * parser's \u escapes, the legacy-charset converter, YAML front matter;
 * UTF-8 validation, JSON quoting and terminal escaping; a file name's
 * invalid bytes escaped for its title), kept here so each is written once. */
#include "core.h"

#include <stdint.h>
#include <string.h>

size_t trove_utf8_encode(uint32_t cp, char out[4]) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    cp = 0xFFFD; /* not a Unicode scalar value */
  if (cp < 0x80) {
    out[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (char)(0xC0 | cp >> 6), out[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (char)(0xE0 | cp >> 12), out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | cp >> 18), out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
  out[2] = (char)(0x80 | (cp >> 6 & 0x3F)), out[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

size_t trove_utf8_seq(const char *str, size_t n) {
  const unsigned char *s = (const unsigned char *)str;
  if (n == 0)
    return 0;
  if (s[0] < 0x80)
    return 1;
  size_t need;
  unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
  if (s[0] >= 0xC2 && s[0] <= 0xDF) {
    need = 1;
  } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
    need = 2;
    lo = s[0] == 0xE0 ? 0xA0 : lo; /* no overlong forms */
    hi = s[0] == 0xED ? 0x9F : hi; /* no surrogates */
  } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
    need = 3;
    lo = s[0] == 0xF0 ? 0x90 : lo;
    hi = s[0] == 0xF4 ? 0x8F : hi; /* nothing past U+10FFFF */
  } else {
    return 0; /* a continuation byte, an overlong lead (C0, C1) or F5..FF */
  }
  if (n <= need || s[1] < lo || s[1] > hi)
    return 0;
  for (size_t k = 2; k <= need; k++)
    if ((s[k] & 0xC0) != 0x80)
      return 0;
  return need + 1;
}

char *trove_utf8_escape_dup(const char *s) {
  if (!s)
    return NULL;
  size_t n = strlen(s), bad = 0;
  for (size_t i = 0, k; i < n; i += k ? k : 1)
    bad += (k = trove_utf8_seq(s + i, n - i)) == 0;
  char *out = bad <= (SIZE_MAX - n - 1) / 3 ? trove_malloc(n + 3 * bad + 1) : NULL;
  if (!out)
    return NULL;
  static const char hex[] = "0123456789abcdef";
  char *o = out;
  for (size_t i = 0, k; i < n; i += k) {
    if ((k = trove_utf8_seq(s + i, n - i)) != 0) {
      memcpy(o, s + i, k);
      o += k;
      continue;
    }
    unsigned char c = (unsigned char)s[i];
    *o++ = '\\', *o++ = 'x', *o++ = hex[c >> 4], *o++ = hex[c & 15];
    k = 1;
  }
  *o = '\0';
  return out;
}

bool trove_utf8_valid(const char *str, size_t n) {
  for (size_t i = 0, k; i < n; i += k)
    if ((k = trove_utf8_seq(str + i, n - i)) == 0)
      return false;
  return true;
}
