/* fuzz_charset.c: libFuzzer target for charset decoding: pages decoded
 * from windows-1252 or UTF-16/32 (core/charset.c), the UTF-8 repair every
 * extracted string goes through (trove_extract__utf8_append, trove_extract__clean_dup) and the
 * sequence reader under them (trove_utf8_seq). Invariants: the output is
 * valid UTF-8 at most 3 bytes per input byte, re-encoding happens only to
 * input that is not UTF-8, and trove_utf8_valid agrees with trove_utf8_seq.
 * Build: cmake -DTROVE_FUZZ=ON (scripts/fuzz.sh); fuzz_seeds.c runs the same
 * entry point over fuzz/charset/ in every build. */
#include "extract_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Whether s[0..n) is valid UTF-8 by trove_utf8_seq alone (NUL allowed). */
static bool seq_valid(const char *s, size_t n) {
  for (size_t i = 0, k; i < n; i += k)
    if (!(k = trove_utf8_seq(s + i, n - i)))
      return false;
  return true;
}

/* Returns 0, or 1 when an invariant is broken. */
int fuzz_charset_one(const uint8_t *data, size_t size) {
  const char *s = (const char *)data;
  int bad = 0;
  bool valid = trove_utf8_valid(s, size);
  bad |= valid != seq_valid(s, size);

  char *out = NULL;
  size_t out_len = 0;
  int rc = trove_charset_to_utf8(s, size, NULL, TROVE_CHARSET_HTML, &out, &out_len, NULL);
  if (rc == 0 && out) { /* decoded: not UTF-8, or UTF-16/32 of ASCII (NULs and all) */
    bad |= (valid && !memchr(s, 0, size)) || out_len > 3 * size || strlen(out) > out_len ||
            !seq_valid(out, out_len);
  } else
    bad |= rc != 0 && rc != TROVE_ENOMEM;
  trove_free(out);

  trove_buf b = {0};
  if (trove_extract__utf8_append(&b, s, size) == 0)
    bad |= !seq_valid(b.data ? b.data : "", b.len) || memchr(b.data ? b.data : "", 0, b.len);
  trove_buf_free(&b);

  char *clean = trove_extract__clean_dup(s, size);
  if (clean)
    bad |= !seq_valid(clean, strlen(clean));
  trove_free(clean);
  return bad;
}
