/* fuzz_http.c: libFuzzer target for what trove decides from an HTTP reply
 * (policy.c; libcurl itself parses the header lines): the Content-Type test,
 * the status's reason, and the redirect policy, a Location resolved against
 * the URL that sent it, then checked against the scheme and blocked-domain
 * rules. The input is four lines: Content-Type, status, base URL, Location.
 * Invariants: the codes are the documented ones, a refusal writes a
 * NUL-terminated reason, and a redirect the policy lets through is http(s).
 * Build: cmake -DTROVE_FUZZ=ON (scripts/fuzz.sh); fuzz_seeds.c runs the same
 * entry point over fuzz/http/ in every build. */
#include "fetch_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Returns 0, or 1 when an invariant is broken. */
int fuzz_http_one(const uint8_t *data, size_t size) {
  char *buf = malloc(size + 1);
  if (!buf)
    return 0;
  memcpy(buf, data, size);
  buf[size] = '\0';
  char *line[4] = {"", "", "", ""};
  char *p = buf;
  for (int i = 0; i < 4 && p; i++) {
    line[i] = p;
    if ((p = strchr(p, '\n')))
      *p++ = '\0';
  }
  int bad = 0;
  (void)trove_fetch__is_text_type(line[0]);
  int reason = trove_fetch_reason_for_status(strtol(line[1], NULL, 10));
  bad |= trove_fetch_reason_name(reason) == NULL;

  char why[256], *to = NULL;
  why[0] = '\0';
  reason = trove_fetch__resolve(line[2], line[3], &to, why, sizeof why);
  if (reason == TROVE_FETCH_OK) {
    bad |= to == NULL;
    why[0] = '\0';
    reason =
        trove_fetch__check_url(to, (char *const *)trove_fetch_default_blocked(), why, sizeof why);
    if (reason == TROVE_FETCH_OK)
      bad |= strncasecmp(to, "http://", 7) != 0 && strncasecmp(to, "https://", 8) != 0;
    else
      bad |= (reason != TROVE_FETCH_BAD_URL && reason != TROVE_FETCH_BLOCKED &&
              reason != TROVE_FETCH_NO_MEMORY) || !memchr(why, '\0', sizeof why);
  } else
    bad |= to != NULL || (reason != TROVE_FETCH_BAD_REDIRECT && reason != TROVE_FETCH_NO_MEMORY);
  curl_free(to);
  free(buf);
  return bad;
}
