/* fuzz_url.c: libFuzzer target for URL normalisation (url.c), which makes
 * the external id of every web item. Any bytes up to the first NUL are a
 * URL. Invariants: a URL that normalises is an http(s) URL with a host,
 * without a fragment, and normalising it again gives the same string (two
 * spellings of one page must not become two items); the host and fragment
 * finders stay inside the string.
 * Build: cmake -DTROVE_FUZZ=ON (scripts/fuzz.sh); fuzz_seeds.c runs the same
 * entry point over fuzz/url/ in every build. */
#include "sources.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Returns 0, or 1 when an invariant is broken. */
int fuzz_url_one(const uint8_t *data, size_t size) {
  char *url = malloc(size + 1);
  if (!url)
    return 0;
  memcpy(url, data, size);
  url[size] = '\0';
  size_t n = strlen(url);
  int bad = trove_url_fragment_start(url) > n;
  const char *host;
  size_t host_len;
  if (trove_url_host(url, &host, &host_len) == 0)
    bad |= host < url || host + host_len > url + n || host_len == 0;
  (void)trove_url_is_http(url);

  char *norm = NULL, *again = NULL;
  int rc = trove_url_normalize(url, &norm);
  if (rc == 0) {
    bad |= !norm || !trove_url_is_http(norm) || strchr(norm, '#') ||
           trove_url_host(norm, &host, &host_len) != 0;
    if (!bad && trove_url_normalize(norm, &again) == 0)
      bad |= strcmp(norm, again) != 0;
    else
      bad = 1;
  } else
    bad |= norm != NULL || (rc != TROVE_EINVAL && rc != TROVE_ENOMEM);
  trove_free(norm);
  trove_free(again);
  free(url);
  return bad;
}
