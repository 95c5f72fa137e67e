/* url.c: the few URL operations trove needs to turn a browser's URL into a
 * stable external id, and that the fetcher reuses (host for the never-fetch
 * domain list, http(s) check). Deliberately not a full WHATWG URL parser:
 * browsers hand us URLs they already canonicalised, so we only make
 * equivalent spellings of one page equal (scheme and host case, fragment,
 * default port, empty path) and leave path, query and escapes untouched,
 * since servers may treat those as significant. */
#include "sources.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* Length of the scheme when url starts with "scheme://", else 0. */
static size_t scheme_len(const char *url) {
  size_t i = 0;
  if (!isalpha((unsigned char)url[0]))
    return 0;
  while (isalnum((unsigned char)url[i]) || url[i] == '+' || url[i] == '-' || url[i] == '.')
    i++;
  return strncmp(url + i, "://", 3) == 0 ? i : 0;
}

/* Splits the authority after "scheme://": [userinfo@]host[:port]. *auth_end
 * is where the path, query or fragment begins. */
static void split_authority(const char *a, size_t *host_off, size_t *host_len, size_t *auth_end) {
  size_t end = strcspn(a, "/?#");
  size_t at = 0;
  for (size_t i = 0; i < end; i++)
    if (a[i] == '@')
      at = i + 1; /* the last '@' ends the userinfo */
  size_t h = at, hend;
  if (a[h] == '[') { /* IPv6 literal: up to and including ']' */
    const char *close = memchr(a + h, ']', end - h);
    hend = close ? (size_t)(close - a) + 1 : end;
  } else {
    const char *colon = memchr(a + h, ':', end - h);
    hend = colon ? (size_t)(colon - a) : end;
  }
  *host_off = h;
  *host_len = hend - h;
  *auth_end = end;
}

bool trove_url_is_http(const char *url) {
  if (!url)
    return false;
  size_t n = scheme_len(url);
  if (!((n == 4 && strncasecmp(url, "http", 4) == 0) ||
        (n == 5 && strncasecmp(url, "https", 5) == 0)))
    return false;
  size_t off, len, end;
  split_authority(url + n + 3, &off, &len, &end);
  return len > 0;
}

size_t trove_url_fragment_start(const char *url) {
  if (!url)
    return 0;
  const char *hash = strchr(url, '#');
  return hash ? (size_t)(hash - url) : strlen(url);
}

int trove_url_host(const char *url, const char **host, size_t *len) {
  if (!url || !host || !len)
    return TROVE_EINVAL;
  size_t n = scheme_len(url);
  if (n == 0)
    return TROVE_EINVAL;
  size_t off, hlen, end;
  const char *a = url + n + 3;
  split_authority(a, &off, &hlen, &end);
  if (hlen == 0)
    return TROVE_EINVAL;
  *host = a + off;
  *len = hlen;
  return 0;
}

static bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f';
}

/* Normalises url, which is trimmed and holds no fragment: the authority
 * parsers scan to the NUL, so they must not see the trailing whitespace or
 * the fragment that trove_url_normalize cut (a host would run into them). */
static int normalize_trimmed(const char *url, size_t total, char **out) {
  for (size_t i = 0; i < total; i++)
    if ((unsigned char)url[i] < 0x20 || url[i] == ' ' || url[i] == 0x7f)
      return TROVE_EINVAL;
  if (!trove_url_is_http(url))
    return TROVE_EINVAL;
  size_t sch = scheme_len(url);
  bool https = sch == 5;
  const char *a = url + sch + 3;
  size_t h, hlen, aend;
  split_authority(a, &h, &hlen, &aend);
  const char *port = a + h + hlen;    /* ":port" or the path */
  size_t port_len = aend - h - hlen;
  if ((port_len == 3 && !https && strncmp(port, ":80", 3) == 0) ||
      (port_len == 4 && https && strncmp(port, ":443", 4) == 0) || port_len == 1)
    port_len = 0;                  /* default port, or a bare ':' */
  size_t user_len = h > 1 ? h : 0; /* keep "user@", drop an empty "@" */
  const char *rest = a + aend;
  size_t rest_len = total - (size_t)(rest - url);
  trove_buf b = {0};
  int rc = trove_buf_reserve(&b, sch + 3 + user_len + hlen + port_len + rest_len + 1);
  if (rc)
    return rc;
  for (size_t i = 0; i < sch; i++)
    trove_buf_putc(&b, (char)tolower((unsigned char)url[i]));
  trove_buf_append(&b, "://", 3);
  trove_buf_append(&b, a, user_len);
  for (size_t i = 0; i < hlen; i++)
    trove_buf_putc(&b, (char)tolower((unsigned char)a[h + i]));
  trove_buf_append(&b, port, port_len);
  if (rest_len == 0 || rest[0] != '/')
    trove_buf_putc(&b, '/'); /* "http://a" and "http://a?q" get their path */
  trove_buf_append(&b, rest, rest_len);
  *out = trove_buf_take(&b); /* the reserve above makes every append succeed */
  return *out ? 0 : TROVE_ENOMEM;
}

int trove_url_normalize(const char *url, char **out) {
  if (!out)
    return TROVE_EINVAL;
  *out = NULL;
  if (!url)
    return TROVE_EINVAL;
  while (is_space(*url))
    url++;
  size_t total = trove_url_fragment_start(url);
  while (total > 0 && is_space(url[total - 1]))
    total--;
  char *copy = trove_strndup(url, total);
  if (!copy)
    return TROVE_ENOMEM;
  int rc = normalize_trimmed(copy, total, out);
  trove_free(copy);
  return rc;
}

int trove_domain_normalize(const char *domain, char **out) {
  if (!out)
    return TROVE_EINVAL;
  *out = NULL;
  if (!domain)
    return TROVE_EINVAL;
  while (*domain == '.' || (domain[0] == '*' && domain[1] == '.'))
    domain += *domain == '*' ? 2 : 1; /* "*.bank.com" and ".bank.com" mean bank.com */
  size_t n = strlen(domain);
  while (n > 0 && domain[n - 1] == '.')
    n--;
  if (n == 0 || n > 253)
    return TROVE_EINVAL;
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)domain[i];
    if (!(isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch >= 0x80) ||
        (ch == '.' && i > 0 && domain[i - 1] == '.'))
      return TROVE_EINVAL;
  }
  char *s = trove_malloc(n + 1);
  if (!s)
    return TROVE_ENOMEM;
  for (size_t i = 0; i < n; i++)
    s[i] = (char)tolower((unsigned char)domain[i]);
  s[n] = 0;
  *out = s;
  return 0;
}

bool trove_url_in_domain(const char *url, const char *domain) {
  const char *host;
  size_t hlen, dlen = domain ? strlen(domain) : 0;
  if (!url || dlen == 0 || trove_url_host(url, &host, &hlen) != 0)
    return false;
  while (hlen > 0 && host[hlen - 1] == '.')
    hlen--; /* "bank.com." is bank.com */
  if (hlen < dlen || strncasecmp(host + hlen - dlen, domain, dlen) != 0)
    return false;
  if (hlen == dlen)
    return true;
  /* an IPv4 address has no subdomains: 0.1 is not a domain of 127.0.0.1 */
  bool address = strspn(host, "0123456789.") >= hlen;
  return !address && host[hlen - dlen - 1] == '.';
}
