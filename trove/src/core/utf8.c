/* utf8.c: encoding one code point as UTF-8, and finding an id in a sorted
 * list: small pieces several modules need (the JSON parser's \u escapes,
 * the legacy-charset converter, YAML front matter; the search's and the
 * vector sync's id filters), kept here so each is written once. */
#include "core.h"

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

bool trove_ids_contain(const int64_t *v, size_t n, int64_t id) {
  size_t lo = 0, hi = n; /* the answer, if any, is in v[lo, hi) */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (v[mid] == id)
      return true;
    if (v[mid] < id)
      lo = mid + 1;
    else
      hi = mid;
  }
  return false;
}
