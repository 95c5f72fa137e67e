/* guard.c: the checks a request passes before any endpoint sees it.
 *
 * Host allowlist, against DNS rebinding: a hostile page can make the
 * browser resolve its own name (evil.example) to 127.0.0.1 and then read
 * this server's answers as same-origin. The browser still sends
 * "Host: evil.example:PORT", so only names that can only mean this server
 * are accepted: localhost, 127.0.0.1 and [::1], with the server's port, and
 * the --listen address. Listening on every address (0.0.0.0 or ::), any IP
 * literal is accepted too: rebinding needs a DNS name, and the machine's
 * own addresses are not known in advance.
 *
 * The token: every request that changes something must carry the
 * process's random token in X-Trove-Token. Only the page has it (it is
 * written into the HTML, which another origin cannot read), and a custom
 * header also makes a cross-origin browser request need a CORS preflight
 * this server never grants. An Origin header, when sent, must be this
 * server's own as well. */
#include "serve_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

int trove_serve__token_new(serve *s, trove_err *e) {
  unsigned char raw[32];
  size_t got = 0;
  while (got < sizeof raw) {
    ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
    if (n <= 0)
      return trove_err_set(e, TROVE_EIO, "cannot read random bytes for the page's token");
    got += (size_t)n;
  }
  for (size_t i = 0; i < sizeof raw; i++)
    snprintf(s->token + 2 * i, 3, "%02x", raw[i]);
  return 0;
}

/* Splits "name:port" or "[v6]:port" (port optional) into name and port;
 * false when malformed. name keeps IPv6 brackets. */
static bool split_host(const char *host, char *name, size_t cap, unsigned *port) {
  const char *colon = NULL;
  if (host[0] == '[') {
    const char *close = strchr(host, ']');
    if (!close || (close[1] && close[1] != ':'))
      return false;
    colon = close[1] ? close + 1 : NULL;
  } else {
    colon = strchr(host, ':');
    if (colon && strchr(colon + 1, ':'))
      return false;
  }
  size_t len = colon ? (size_t)(colon - host) : strlen(host);
  if (len == 0 || len >= cap)
    return false;
  memcpy(name, host, len);
  name[len] = 0;
  *port = 80;
  if (colon) {
    unsigned v = 0;
    const char *p = colon + 1;
    if (!*p)
      return false;
    for (; *p; p++) {
      if (*p < '0' || *p > '9' || v > 65535)
        return false;
      v = v * 10 + (unsigned)(*p - '0');
    }
    *port = v;
  }
  return true;
}

/* Whether name is an IPv4 literal or a bracketed IPv6 literal. */
static bool ip_literal(const char *name) {
  unsigned char buf[16];
  if (inet_pton(AF_INET, name, buf) == 1)
    return true;
  size_t len = strlen(name);
  if (len < 3 || name[0] != '[' || name[len - 1] != ']' || len - 2 >= 64)
    return false;
  char v6[64];
  memcpy(v6, name + 1, len - 2);
  v6[len - 2] = 0;
  return inet_pton(AF_INET6, v6, buf) == 1;
}

bool trove_serve__host_allowed(const serve *s, const char *host) {
  char name[80];
  unsigned port;
  if (!host || !split_host(host, name, sizeof name, &port) || port != s->port)
    return false;
  for (char *p = name; *p; p++) /* host names are case-insensitive */
    if (*p >= 'A' && *p <= 'Z')
      *p = (char)(*p - 'A' + 'a');
  static const char *const loopback[] = {"localhost", "127.0.0.1", "[::1]"};
  for (size_t i = 0; i < sizeof loopback / sizeof *loopback; i++)
    if (strcmp(name, loopback[i]) == 0)
      return true;
  for (size_t i = 0; i < s->n_hosts; i++)
    if (strcmp(name, s->hosts[i]) == 0)
      return true;
  return s->any_ip_host && ip_literal(name);
}

bool trove_serve__origin_allowed(const serve *s, const char *origin) {
  if (!origin)
    return true; /* same-origin GETs and non-browser clients send none */
  if (strncmp(origin, "http://", 7) != 0)
    return false;
  return trove_serve__host_allowed(s, origin + 7);
}

bool trove_serve__token_ok(const serve *s, const char *token) {
  if (!token || strlen(token) != sizeof s->token - 1)
    return false;
  unsigned char diff = 0; /* every byte compared: no early exit to time */
  for (size_t i = 0; i < sizeof s->token - 1; i++)
    diff |= (unsigned char)(token[i] ^ s->token[i]);
  return diff == 0;
}
