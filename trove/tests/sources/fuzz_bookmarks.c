/* fuzz_bookmarks.c: libFuzzer target for JSON: the strict parser (json.c),
 * whose tree is walked whole, and the Chromium Bookmarks reader on it
 * (bookmarks.c, fed the bytes as a Bookmarks file). The parser must accept
 * or refuse with a documented code; every string it gives is as long as it
 * says; the reader yields only normalised http(s) URLs (fuzz_drain.h).
 * Build: cmake -DTROVE_FUZZ=ON (scripts/fuzz.sh); fuzz_seeds.c runs the same
 * entry point over fuzz/bookmarks/ in every build. */
#include "fuzz_drain.h"
#include "../fuzz_tmp.h"
#include "json.h"

#include <stdint.h>
#include <stdlib.h>

/* Walks v whole (depth is bounded by the parser's max_depth). Returns 1
 * when a string or key length disagrees with its bytes. */
static int walk(const trove_json *v) {
  int bad = 0;
  switch (trove_json_type_of(v)) {
  case TROVE_JSON_STRING: {
    const char *s = trove_json_str(v, NULL);
    bad |= !s || s[trove_json_str_len(v)] != '\0';
    break;
  }
  case TROVE_JSON_NUMBER: {
    int64_t i;
    (void)trove_json_num(v, 0);
    (void)trove_json_int(v, &i);
    break;
  }
  case TROVE_JSON_OBJECT:
    for (size_t i = 0; i < trove_json_len(v); i++) {
      size_t kl = 0;
      const char *k = trove_json_key_at(v, i, &kl);
      bad |= !k || k[kl] != '\0';
    }
    /* the members' values, below */
    __attribute__((fallthrough));
  case TROVE_JSON_ARRAY:
    for (size_t i = 0; i < trove_json_len(v) && !bad; i++)
      bad |= walk(trove_json_at(v, i));
    break;
  default:
    break;
  }
  return bad;
}

/* Returns 0, or 1 when an invariant is broken. */
int fuzz_bookmarks_one(const uint8_t *data, size_t size) {
  trove_json_doc *doc = NULL;
  int bad = 0, rc = trove_json_parse((const char *)data, size, 0, &doc, NULL);
  if (rc == 0)
    bad |= !doc || walk(trove_json_root(doc));
  else
    bad |= doc != NULL || (rc != TROVE_ECORRUPT && rc != TROVE_ERANGE && rc != TROVE_ENOMEM &&
                           rc != TROVE_EINVAL);
  trove_json_free(doc);

  char path[600];
  if (!fuzz_write("Bookmarks", data, size, path, sizeof path))
    return bad;
  trove_source *src = NULL;
  rc = trove_source_open_chromium_bookmarks(path, &src, NULL);
  if (rc == 0)
    bad |= fuzz_drain(src);
  else
    bad |= src != NULL || (rc != TROVE_ECORRUPT && rc != TROVE_ERANGE && rc != TROVE_ENOMEM);
  return bad;
}
