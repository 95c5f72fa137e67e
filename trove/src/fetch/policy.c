/* policy.c: the fetcher's judgement, kept apart from the transfer machinery
 * in fetch.c so it can be read (and changed) in one place: which URLs may
 * be fetched (http/https only, blocked domains), which bodies are kept
 * (text types), and what each HTTP status or curl failure means for the
 * item (the skip reason, and whether the next scan retries it).
 *
 * The retry rule: a network error must not become a permanent skip, or one
 * flaky night would lose pages for good. Only answers that the server
 * would give again (401/403, 404/410, other 4xx, a redirect
 * loop, a non-text type, an oversized body, a blocked or malformed URL) are
 * permanent; 5xx, 408/429, timeouts and every network failure are
 * transient.
 */
#include "fetch_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Indexed by trove_fetch_reason; the names are what the database stores,
 * so they never change once released. */
static const struct {
  const char *name;
  bool permanent;
  const char *hint;
} reasons[TROVE_FETCH_REASON_COUNT] = {
  [TROVE_FETCH_OK] = {"ok", false, "nothing to do"},
  [TROVE_FETCH_NOT_MODIFIED] = {"not_modified", false, "the stored copy is current"},
  [TROVE_FETCH_NOT_TEXT] = {"not_text", true, "only its title is kept"},
  [TROVE_FETCH_TOO_LARGE] = {"too_large", true,
                             "raise the body size limit and force a scan to keep it"},
  [TROVE_FETCH_UNAUTHORIZED] = {"unauthorized", true,
                                "it needs a login; it is skipped until a forced scan"},
  [TROVE_FETCH_GONE] = {"gone", true, "it is skipped until a forced scan"},
  [TROVE_FETCH_CLIENT_ERROR] = {"client_error", true,
                                "the server refuses the request; it is skipped until a forced scan"},
  [TROVE_FETCH_RETRY_LATER] = {"retry_later", false,
                               "the server asked to come back; it is retried on the next scan"},
  [TROVE_FETCH_SERVER_ERROR] = {"server_error", false, "it is retried on the next scan"},
  [TROVE_FETCH_NETWORK] = {"network", false,
                           "check the connection; it is retried by a later scan, each "
                           "failure in a row waiting longer"},
  [TROVE_FETCH_TIMEOUT] = {"timeout", false,
                           "the server was too slow; it is retried by a later scan, each "
                           "failure in a row waiting longer"},
  [TROVE_FETCH_TOO_MANY_REDIRECTS] = {"too_many_redirects", true,
                                      "the site redirects in a loop or too far; it is skipped"},
  [TROVE_FETCH_BAD_REDIRECT] = {"bad_redirect", true,
                                "the redirect cannot be followed; it is skipped"},
  [TROVE_FETCH_BLOCKED] = {"blocked", true,
                           "its domain is on the blocked list; edit the list to fetch it"},
  [TROVE_FETCH_BAD_URL] = {"bad_url", true, "only http and https URLs are fetched"},
  [TROVE_FETCH_NO_MEMORY] = {"no_memory", false, "it is retried on the next scan"},
  [TROVE_FETCH_OTHER_STATUS] = {"other_status", false, "it is retried on the next scan"},
};

const char *trove_fetch_reason_name(int reason) {
  if (reason < 0 || reason >= TROVE_FETCH_REASON_COUNT)
    return "unknown";
  return reasons[reason].name;
}

bool trove_fetch_reason_is_permanent(int reason) {
  if (reason < 0 || reason >= TROVE_FETCH_REASON_COUNT)
    return false;
  return reasons[reason].permanent;
}

bool trove_fetch_reason_is_unanswered(int reason) {
  return reason == TROVE_FETCH_TIMEOUT || reason == TROVE_FETCH_NETWORK;
}

int trove_fetch_url_host(const char *url, char **out) {
  if (!out)
    return TROVE_EINVAL;
  *out = NULL;
  if (!url)
    return TROVE_EINVAL;
  CURLU *u = curl_url();
  if (!u)
    return TROVE_ENOMEM;
  char *host = NULL, *port = NULL;
  CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
  if (uc == CURLUE_OK)
    uc = curl_url_get(u, CURLUPART_HOST, &host, 0);
  if (uc == CURLUE_OK) { /* only a port the URL gives that is not its scheme's */
    CURLUcode pc = curl_url_get(u, CURLUPART_PORT, &port, CURLU_NO_DEFAULT_PORT);
    uc = pc == CURLUE_NO_PORT ? CURLUE_OK : pc;
  }
  int rc = uc == CURLUE_OUT_OF_MEMORY ? TROVE_ENOMEM : TROVE_EINVAL;
  if (uc == CURLUE_OK && host[0]) {
    size_t n = strlen(host);
    if (n > 1 && host[n - 1] == '.') /* "example.com." is example.com */
      host[--n] = '\0';
    for (char *p = host; *p; p++)
      *p = (char)tolower((unsigned char)*p);
    trove_buf b = {0};
    rc = port ? trove_buf_printf(&b, "%s:%s", host, port) : trove_buf_puts(&b, host);
    *out = rc == 0 ? b.data : NULL;
    if (rc)
      trove_buf_free(&b);
  }
  curl_free(port);
  curl_free(host);
  curl_url_cleanup(u);
  return rc;
}

const char *trove_fetch__reason_hint(int reason) {
  if (reason < 0 || reason >= TROVE_FETCH_REASON_COUNT)
    return "it is retried on the next scan";
  return reasons[reason].hint;
}

int trove_fetch_reason_for_status(long status) {
  if (status >= 200 && status < 300)
    return TROVE_FETCH_OK;
  if (status == 304)
    return TROVE_FETCH_NOT_MODIFIED;
  if (status >= 300 && status < 400)
    return TROVE_FETCH_BAD_REDIRECT;
  if (status == 401 || status == 403)
    return TROVE_FETCH_UNAUTHORIZED;
  if (status == 404 || status == 410)
    return TROVE_FETCH_GONE;
  if (status == 408 || status == 429)
    return TROVE_FETCH_RETRY_LATER;
  if (status >= 400 && status < 500)
    return TROVE_FETCH_CLIENT_ERROR;
  if (status >= 500 && status < 600)
    return TROVE_FETCH_SERVER_ERROR;
  return TROVE_FETCH_OTHER_STATUS;
}

int trove_fetch__reason_for_curl(CURLcode code) {
  switch (code) {
  case CURLE_OPERATION_TIMEDOUT: return TROVE_FETCH_TIMEOUT;
  case CURLE_FILESIZE_EXCEEDED: return TROVE_FETCH_TOO_LARGE;
  case CURLE_URL_MALFORMAT: return TROVE_FETCH_BAD_URL;
  /* URLs are checked before curl sees them, so CURLE_UNSUPPORTED_PROTOCOL
   * means a garbled reply (HTTP/0.9), a network failure like the rest. */
  case CURLE_OUT_OF_MEMORY: return TROVE_FETCH_NO_MEMORY;
  case CURLE_TOO_MANY_REDIRECTS: return TROVE_FETCH_TOO_MANY_REDIRECTS;
  default: return TROVE_FETCH_NETWORK; /* refused, reset, DNS, TLS, truncated, ... */
  }
}

/* Sign-in pages, ad servers and cloud consoles: fetching them yields a login
 * form or a tracking pixel, never the page the person read. */
static const char *const default_blocked[] = {
  "accounts.google.com",
  "ad.doubleclick.net",
  "console.aws.amazon.com",
  "signin.aws.amazon.com",
  "console.cloud.google.com",
  "login.microsoftonline.com",
  "login.live.com",
  "portal.azure.com",
  "appleid.apple.com",
  "googleadservices.com",
  "googlesyndication.com",
  NULL,
};

const char *const *trove_fetch_default_blocked(void) { return default_blocked; }

/* Content types whose bodies the extractor reads. */
static const char *const text_types[] = {
  "text/html", "application/xhtml+xml", "text/plain", "text/markdown", "text/x-markdown", NULL,
};

bool trove_fetch__is_text_type(const char *ct) {
  if (!ct)
    return true;
  while (*ct == ' ' || *ct == '\t')
    ct++;
  size_t n = strcspn(ct, "; \t");
  for (int i = 0; text_types[i]; i++)
    if (strlen(text_types[i]) == n && strncasecmp(ct, text_types[i], n) == 0)
      return true;
  return false;
}

/* True when host (lower case) is d or a subdomain of d. */
static bool host_matches(const char *host, const char *d) {
  size_t hl = strlen(host), dl = strlen(d);
  if (hl == dl)
    return memcmp(host, d, hl) == 0;
  return hl > dl && host[hl - dl - 1] == '.' && memcmp(host + hl - dl, d, dl) == 0;
}

static bool host_blocked(char *host, char *const *blocked) {
  for (char *p = host; *p; p++)
    *p = (char)tolower((unsigned char)*p);
  size_t n = strlen(host);
  if (n && host[n - 1] == '.') /* "example.com." is example.com */
    host[n - 1] = '\0';
  for (size_t i = 0; blocked && blocked[i]; i++)
    if (host_matches(host, blocked[i]))
      return true;
  return false;
}

static int url_fail(int reason, char *why, size_t why_size, const char *what, const char *url) {
  snprintf(why, why_size, "%s: %.180s", what, url);
  return reason;
}

/* Maps a URL parser failure: out of memory is transient, the rest mean the
 * URL itself is unusable (reason `bad`). */
static int parse_fail(CURLUcode uc, int bad, char *why, size_t why_size, const char *url) {
  if (uc == CURLUE_OUT_OF_MEMORY)
    return url_fail(TROVE_FETCH_NO_MEMORY, why, why_size, "out of memory parsing URL", url);
  return url_fail(bad, why, why_size, "not an absolute http(s) URL with a host", url);
}

int trove_fetch__check_url(const char *url, char *const *blocked, char *why, size_t why_size) {
  int reason = TROVE_FETCH_OK;
  char *scheme = NULL, *host = NULL;
  CURLU *u = curl_url();
  if (!u)
    return parse_fail(CURLUE_OUT_OF_MEMORY, 0, why, why_size, url);
  CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
  if (uc == CURLUE_OK)
    uc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
  if (uc == CURLUE_OK)
    uc = curl_url_get(u, CURLUPART_HOST, &host, 0);
  if (uc != CURLUE_OK || !host[0]) {
    reason = parse_fail(uc, TROVE_FETCH_BAD_URL, why, why_size, url);
    goto out_free_parts;
  }
  if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0) {
    reason = url_fail(TROVE_FETCH_BAD_URL, why, why_size, "not an http or https URL", url);
    goto out_free_parts;
  }
  if (host_blocked(host, blocked))
    reason = url_fail(TROVE_FETCH_BLOCKED, why, why_size, "blocked domain", url);
out_free_parts:
  curl_free(scheme);
  curl_free(host);
  curl_url_cleanup(u);
  return reason;
}

int trove_fetch__resolve(const char *base, const char *location, char **out, char *why,
                         size_t why_size) {
  *out = NULL;
  CURLU *u = curl_url();
  if (!u)
    return parse_fail(CURLUE_OUT_OF_MEMORY, 0, why, why_size, location);
  /* Setting a URL on a handle that holds one resolves it as a reference
   * relative to the old one (RFC 3986 section 5). The flags are the ones
   * curl uses when it follows a Location itself. */
  CURLUcode uc = curl_url_set(u, CURLUPART_URL, base, 0);
  if (uc == CURLUE_OK)
    uc = curl_url_set(u, CURLUPART_URL, location, CURLU_URLENCODE | CURLU_ALLOW_SPACE);
  if (uc == CURLUE_OK)
    uc = curl_url_get(u, CURLUPART_URL, out, 0);
  curl_url_cleanup(u);
  if (uc == CURLUE_OK)
    return TROVE_FETCH_OK;
  *out = NULL;
  return parse_fail(uc, TROVE_FETCH_BAD_REDIRECT, why, why_size, location);
}
