/* charset.c: the one legacy encoding worth handling ourselves. gumbo parses
 * UTF-8 only. A page that declares ISO-8859-1, US-ASCII or windows-1252 in
 * a <meta> within its first 1024 bytes (where the HTML standard's prescan
 * looks) and is not valid UTF-8 is re-encoded from windows-1252 before
 * parsing: the standard maps all three labels to windows-1252, and together
 * they are most of the non-UTF-8 pages in a Western browser history. Other
 * legacy encodings (Shift_JIS, GBK, KOI8-R, ...) are not converted; their
 * bytes become U+FFFD like any other invalid UTF-8. A page that declares
 * nothing is taken as UTF-8, as the brief for trove asks. */
#include "extract_int.h"

#include <string.h>
#include <strings.h>

enum { PRESCAN = 1024 };

/* Whether label (n bytes) names windows-1252 or one of its aliases. */
static bool western_label(const char *label, size_t n) {
  static const char *const labels[] = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1",
                                       "windows-1252", "cp1252", "x-cp1252", "us-ascii",
                                       "ascii", "iso_8859-1", "cp819", "ibm819", NULL};
  for (const char *const *l = labels; *l; l++)
    if (strlen(*l) == n && strncasecmp(label, *l, n) == 0)
      return true;
  return false;
}

static bool label_char(char c) {
  return ((c | 32) >= 'a' && (c | 32) <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Whether a "charset=" in the first PRESCAN bytes names windows-1252. */
static bool declares_western(const char *s, size_t len) {
  size_t n = len < PRESCAN ? len : PRESCAN;
  for (size_t i = 0; i + 7 <= n; i++) {
    if (strncasecmp(s + i, "charset", 7) != 0)
      continue;
    size_t k = i + 7;
    while (k < n && (s[k] == ' ' || s[k] == '=' || s[k] == '"' || s[k] == '\''))
      k++;
    size_t a = k;
    while (k < n && label_char(s[k]))
      k++;
    return western_label(s + a, k - a); /* the first declaration decides */
  }
  return false;
}

/* windows-1252 bytes 0x80..0x9F; 0 marks the five unassigned ones. */
static const unsigned short cp1252_high[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};


int x_legacy_to_utf8(const char *s, size_t len, char **out, size_t *out_len) {
  *out = NULL;
  *out_len = 0;
  if (!declares_western(s, len) || x_utf8_valid(s, len))
    return 0;
  size_t cap;
  if (!trove_mul_ok(len, 3, &cap) || !(*out = trove_malloc(cap + 1)))
    return TROVE_ENOMEM;
  size_t n = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    unsigned cp = c < 0x80 || c >= 0xA0 ? c : cp1252_high[c - 0x80];
    n += trove_utf8_encode(cp ? cp : 0xFFFD, *out + n);
  }
  (*out)[n] = '\0';
  *out_len = n;
  return 0;
}
