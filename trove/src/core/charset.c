/* charset.c: the one decoder from other charsets to UTF-8, shared by web
 * pages (the fetch stage passes the Content-Type, the HTML extractor the
 * page alone) and local files (classify.c). gumbo and everything after it
 * read UTF-8 only.
 *
 * HOW IT WORKS. The charset is picked in the order the HTML standard's
 * "encoding sniffing" uses, cut to what is worth handling ourselves:
 *   1. a UTF-16 or UTF-32 byte-order mark (UTF-32LE's FF FE 00 00 is tested
 *      before UTF-16LE's FF FE);
 *   2. a Content-Type charset naming UTF-16/32, believed only when the body
 *      holds a NUL (a UTF-16 page of ASCII is all NULs and letters; a body
 *      without one was mislabelled and is really ASCII-compatible);
 *   3. valid UTF-8 stays as it is;
 *   4. a Content-Type or <meta> charset (first 1024 bytes, where the
 *      standard's prescan looks) naming ISO-8859-1, US-ASCII or
 *      windows-1252: the standard maps all three to windows-1252, and
 *      together they are most non-UTF-8 pages of a Western history;
 *   5. guesses: a page (or, when asked, a text file) whose first bytes
 *      alternate with NULs is BOM-less UTF-16/32 (as in XML 1.0 appendix F's
 *      detection) when its first 256 units read as text (no controls or
 *      lone surrogates), tested before step 3 since UTF-16 of ASCII is
 *      valid UTF-8; text that is not UTF-8 is windows-1252, the common
 *      legacy encoding of Western text files (and of pages that declare
 *      nothing, when asked).
 * A <meta> naming UTF-16 is not believed (the standard reads it as UTF-8:
 * a prescan that found it proves the bytes ASCII-compatible).
 *
 * LIMITS. Other legacy encodings (Shift_JIS, GBK, KOI8-R, ...) are not
 * converted: their bytes become U+FFFD in the extractor, or windows-1252
 * mojibake for a text file, which is still searchable by its ASCII words.
 * A web page that is not UTF-8 and declares nothing stays with U+FFFD. */
#include "core.h"

#include <string.h>
#include <strings.h>

enum { PRESCAN = 1024 };

typedef enum enc {
  ENC_NONE,
  ENC_UTF8,
  ENC_1252,
  ENC_UTF16, /* endianness from the NUL bytes */
  ENC_UTF16LE,
  ENC_UTF16BE,
  ENC_UTF32, /* endianness from the NUL bytes */
  ENC_UTF32LE,
  ENC_UTF32BE,
} enc;

static bool is_wide(enc e) { return e >= ENC_UTF16; }

/* The encoding a charset label (n bytes) names; ENC_NONE for any other. */
static enc label_enc(const char *label, size_t n) {
  static const struct {
    const char *name;
    enc e;
  } labels[] = {{"iso-8859-1", ENC_1252}, {"iso8859-1", ENC_1252},   {"latin1", ENC_1252},
                {"latin-1", ENC_1252},    {"l1", ENC_1252},          {"windows-1252", ENC_1252},
                {"cp1252", ENC_1252},     {"x-cp1252", ENC_1252},    {"us-ascii", ENC_1252},
                {"ascii", ENC_1252},      {"iso_8859-1", ENC_1252},  {"cp819", ENC_1252},
                {"ibm819", ENC_1252},     {"utf-8", ENC_UTF8},       {"utf8", ENC_UTF8},
                {"utf-16", ENC_UTF16},    {"utf-16le", ENC_UTF16LE}, {"utf-16be", ENC_UTF16BE},
                {"utf-32", ENC_UTF32},    {"utf-32le", ENC_UTF32LE}, {"utf-32be", ENC_UTF32BE},
                {"ucs-2", ENC_UTF16},     {"unicode", ENC_UTF16}};
  for (size_t i = 0; i < sizeof labels / sizeof *labels; i++)
    if (strlen(labels[i].name) == n && strncasecmp(label, labels[i].name, n) == 0)
      return labels[i].e;
  return ENC_NONE;
}

static bool label_char(char c) {
  return ((c | 32) >= 'a' && (c | 32) <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* The encoding the first "charset=" in s[0..n) names: a <meta> or a
 * Content-Type parameter, read the same way. */
static enc declared(const char *s, size_t n) {
  for (size_t i = 0; i + 7 <= n; i++) {
    if (strncasecmp(s + i, "charset", 7) != 0)
      continue;
    size_t k = i + 7;
    while (k < n && (s[k] == ' ' || s[k] == '=' || s[k] == '"' || s[k] == '\''))
      k++;
    size_t a = k;
    while (k < n && label_char(s[k]))
      k++;
    return label_enc(s + a, k - a); /* the first declaration decides */
  }
  return ENC_NONE;
}

/* A UTF-16/32 byte-order mark at s: its encoding, *skip its length. */
static enc bom(const unsigned char *s, size_t len, size_t *skip) {
  if (len >= 4 && s[0] == 0xFF && s[1] == 0xFE && s[2] == 0 && s[3] == 0)
    return *skip = 4, ENC_UTF32LE;
  if (len >= 4 && s[0] == 0 && s[1] == 0 && s[2] == 0xFE && s[3] == 0xFF)
    return *skip = 4, ENC_UTF32BE;
  if (len >= 2 && s[0] == 0xFF && s[1] == 0xFE)
    return *skip = 2, ENC_UTF16LE;
  if (len >= 2 && s[0] == 0xFE && s[1] == 0xFF)
    return *skip = 2, ENC_UTF16BE;
  return ENC_NONE;
}

static uint32_t unit(const unsigned char *p, size_t size, bool be);

/* BOM-less UTF-16/32 by the NULs among the first four bytes. */
static enc sniff_wide(const unsigned char *s, size_t len) {
  if (len >= 4 && s[0] && !s[1] && !s[2] && !s[3])
    return ENC_UTF32LE;
  if (len >= 4 && !s[0] && !s[1] && !s[2] && s[3])
    return ENC_UTF32BE;
  if (len >= 2 && s[0] && !s[1])
    return ENC_UTF16LE;
  if (len >= 2 && !s[0] && s[1])
    return ENC_UTF16BE;
  return ENC_NONE;
}

/* Whether s read as e looks like text: whole units, and among the first
 * 256 no NUL, no C0 control but tab, newline, form feed and carriage
 * return, no lone surrogate, no U+FFFE/FFFF. What keeps a binary file that happens to start
 * with a byte and a NUL from being taken for BOM-less UTF-16. */
static bool looks_like_text(enc e, const unsigned char *s, size_t len) {
  size_t size = e == ENC_UTF32LE || e == ENC_UTF32BE ? 4 : 2;
  bool be = e == ENC_UTF16BE || e == ENC_UTF32BE;
  if (len % size)
    return false; /* whole units only: "a\0b" is a byte string with a NUL */
  size_t end = len < 256 * size ? len : 256 * size;
  for (size_t i = 0; i < end; i += size) {
    uint32_t u = unit(s + i, size, be);
    if ((u < 0x20 && u != '\t' && u != '\n' && u != '\f' && u != '\r') || u == 0xFFFE ||
        u == 0xFFFF || u > 0x10FFFF)
      return false;
    if (size == 2 && u >= 0xD800 && u <= 0xDFFF) { /* only a high one and then its low one */
      if (u > 0xDBFF || i + 4 > len)
        return false;
      uint32_t lo = unit(s + i + 2, 2, be);
      if (lo < 0xDC00 || lo > 0xDFFF)
        return false;
      i += 2;
    } else if (u >= 0xD800 && u <= 0xDFFF) {
      return false;
    }
  }
  return end > 0;
}

/* Settles a label's open endianness by where the first NUL falls. */
static enc endian(enc e, const unsigned char *s, size_t len) {
  bool be = len > 0 && s[0] == 0;
  if (e == ENC_UTF16)
    return be ? ENC_UTF16BE : ENC_UTF16LE;
  if (e == ENC_UTF32)
    return be ? ENC_UTF32BE : ENC_UTF32LE;
  return e;
}

/* windows-1252 bytes 0x80..0x9F; 0 marks the five unassigned ones. */
static const unsigned short cp1252_high[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

static uint32_t unit(const unsigned char *p, size_t size, bool be) {
  uint32_t u = 0;
  for (size_t i = 0; i < size; i++)
    u |= (uint32_t)p[be ? i : size - 1 - i] << (8 * (size - 1 - i));
  return u;
}

/* Writes s decoded from e into out (room for 3 bytes per input byte);
 * returns the bytes written. */
static size_t decode(enc e, const unsigned char *s, size_t len, char *out) {
  size_t n = 0;
  if (e == ENC_1252) {
    for (size_t i = 0; i < len; i++) {
      unsigned cp = s[i] < 0x80 || s[i] >= 0xA0 ? s[i] : cp1252_high[s[i] - 0x80];
      /* a NUL stays one, so a binary file read as windows-1252 still
       * shows it is binary (classify.c); an unassigned byte is U+FFFD */
      n += trove_utf8_encode(cp || !s[i] ? cp : 0xFFFD, out + n);
    }
    return n;
  }
  size_t size = e == ENC_UTF32LE || e == ENC_UTF32BE ? 4 : 2;
  bool be = e == ENC_UTF16BE || e == ENC_UTF32BE;
  size_t i = 0;
  for (; i + size <= len; i += size) {
    uint32_t cp = unit(s + i, size, be);
    if (size == 2 && cp >= 0xD800 && cp <= 0xDBFF && i + 4 <= len) {
      uint32_t lo = unit(s + i + 2, 2, be);
      if (lo >= 0xDC00 && lo <= 0xDFFF) {
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        i += 2;
      }
    }
    n += trove_utf8_encode(cp, out + n); /* a lone surrogate becomes U+FFFD */
  }
  if (i < len)
    n += trove_utf8_encode(0xFFFD, out + n); /* a cut final unit */
  return n;
}

/* Which encoding s is in, ENC_NONE when it is to be read as UTF-8. */
static enc pick(const unsigned char *s, size_t len, const char *content_type, unsigned flags,
                size_t *skip, bool *guessed) {
  enc e = bom(s, len, skip);
  if (e)
    return e;
  enc header = content_type ? declared(content_type, strlen(content_type)) : ENC_NONE;
  bool nul = memchr(s, 0, len) != NULL;
  if (is_wide(header) && nul)
    return endian(header, s, len);
  /* before the UTF-8 test: UTF-16 of ASCII is valid UTF-8, NULs and all */
  if ((flags & (TROVE_CHARSET_HTML | TROVE_CHARSET_GUESS_UTF16)) && nul &&
      (e = sniff_wide(s, len)) && looks_like_text(e, s, len))
    return *guessed = true, e;
  if (trove_utf8_valid((const char *)s, len))
    return ENC_NONE;
  if (header == ENC_1252)
    return ENC_1252;
  if ((flags & TROVE_CHARSET_HTML) &&
      declared((const char *)s, len < PRESCAN ? len : PRESCAN) == ENC_1252)
    return ENC_1252;
  if (flags & TROVE_CHARSET_GUESS_1252)
    return *guessed = true, ENC_1252;
  return ENC_NONE;
}

int trove_charset_to_utf8(const char *s, size_t len, const char *content_type, unsigned flags,
                          char **out, size_t *out_len, bool *guessed) {
  *out = NULL;
  *out_len = 0;
  bool guess = false;
  size_t skip = 0;
  enc e = pick((const unsigned char *)s, len, content_type, flags, &skip, &guess);
  if (guessed)
    *guessed = guess;
  if (e == ENC_NONE)
    return 0;
  size_t cap;
  if (!trove_mul_ok(len, 3, &cap) || !(*out = trove_malloc(cap + 1)))
    return TROVE_ENOMEM;
  *out_len = decode(e, (const unsigned char *)s + skip, len - skip, *out);
  (*out)[*out_len] = '\0';
  return 0;
}
