/* fetch.h: trove's HTTP fetcher. It downloads web items (browser history and
 * bookmarks) with libcurl's multi interface, so one thread drives many
 * transfers at once while the pool's workers stay free for extraction.
 *
 * The scan pipeline's fetch stage owns one fetcher. It feeds requests in with
 * trove_fetch_submit and takes results out with trove_fetch_poll, which waits
 * on the network and hands each finished request to a callback. Every
 * accepted request yields exactly one result, whether it was fetched, refused
 * (blocked domain, bad URL) or failed; the result says why with a reason code
 * (trove_fetch_reason) that the scan stores as the item's skip reason.
 *
 * What the fetcher does for each request:
 * - only http and https, on every hop;
 * - never contacts a blocked domain (the host or any subdomain of a listed
 *   domain), including one reached by a redirect: redirects are followed by
 *   the fetcher itself, up to a limit, and each hop's host is checked first;
 * - sends the stored validators as a conditional GET (If-None-Match with the
 *   ETag, If-Modified-Since with Last-Modified), so a 304 means unchanged;
 *   the result carries the response's new validators;
 * - asks for gzip/deflate (and whatever else curl decodes) and limits the
 *   decoded body to a maximum size, stopping the transfer past it;
 * - keeps bodies of text types only (HTML, XHTML, plain text, Markdown);
 *   other types stop the transfer early and give reason "not_text", so the
 *   item keeps its title only.
 *
 * Threads: a fetcher belongs to the one thread that created it; every call
 * on it must come from that thread, except trove_fetch_wakeup (any thread).
 * Different fetchers may be used from different threads at once. Results
 * are independent objects that may move to any thread.
 *
 * Memory: every allocation, the fetcher's, the results' and libcurl's (set
 * with curl_global_init_mem when the first fetcher is created), goes through
 * trove_malloc, so fault tests reach them all.
 */
#ifndef TROVE_FETCH_H
#define TROVE_FETCH_H

#include "core.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct trove_fetch trove_fetch;

/* Why a request ended as it did. "Permanent" reasons are not retried by the
 * next scan (trove_fetch_reason_is_permanent); transient ones are. The short
 * names (trove_fetch_reason_name) are what the database stores. */
typedef enum trove_fetch_reason {
  TROVE_FETCH_OK = 0,             /* "ok": 2xx with a text body */
  TROVE_FETCH_NOT_MODIFIED,       /* "not_modified": 304, unchanged */
  TROVE_FETCH_NOT_TEXT,           /* "not_text": 2xx of a non-text type, no body (permanent) */
  TROVE_FETCH_TOO_LARGE,          /* "too_large": body past max_body (permanent) */
  TROVE_FETCH_UNAUTHORIZED,       /* "unauthorized": 401 or 403 (permanent) */
  TROVE_FETCH_GONE,               /* "gone": 404 or 410 (permanent) */
  TROVE_FETCH_CLIENT_ERROR,       /* "client_error": other 4xx, e.g. 400, 405, 451 (permanent) */
  TROVE_FETCH_RETRY_LATER,        /* "retry_later": 408 or 429 (transient) */
  TROVE_FETCH_SERVER_ERROR,       /* "server_error": 5xx (transient) */
  TROVE_FETCH_NETWORK,            /* "network": refused, reset, DNS, TLS, truncated (transient) */
  TROVE_FETCH_TIMEOUT,            /* "timeout": connect or total timeout (transient) */
  TROVE_FETCH_TOO_MANY_REDIRECTS, /* "too_many_redirects": a loop or a long chain (permanent) */
  TROVE_FETCH_BAD_REDIRECT,       /* "bad_redirect": 3xx without a usable Location, or to a
                                     scheme other than http(s) (permanent) */
  TROVE_FETCH_BLOCKED,            /* "blocked": the host is on the blocked list (permanent) */
  TROVE_FETCH_BAD_URL,            /* "bad_url": not a parsable http(s) URL (permanent) */
  TROVE_FETCH_NO_MEMORY,          /* "no_memory": an allocation failed (transient) */
  TROVE_FETCH_OTHER_STATUS,       /* "other_status": 1xx/3xx/6xx+ final status (transient) */
  TROVE_FETCH_REASON_COUNT
} trove_fetch_reason;

/* Returns the stored short name of a reason ("gone"), or "unknown" for a
 * value outside the enum. Any thread. */
const char *trove_fetch_reason_name(int reason);

/* True when a request that ended with this reason should not be retried by
 * the next scan (only a forced scan refetches it). OK and NOT_MODIFIED are
 * not failures and give false, as do unknown values. Any thread. */
bool trove_fetch_reason_is_permanent(int reason);

/* Maps a final HTTP status (after redirects) to a reason: 2xx OK, 304
 * NOT_MODIFIED, other 3xx BAD_REDIRECT (a followable one never ends a
 * request), 401/403 UNAUTHORIZED, 404/410 GONE, 408/429 RETRY_LATER (the
 * server asks to come back), other 4xx CLIENT_ERROR (the request itself is
 * refused and would be again), 5xx SERVER_ERROR, anything else OTHER_STATUS.
 * Any thread. */
int trove_fetch_reason_for_status(long status);

/* True for the reasons that mean the server never answered (TIMEOUT,
 * NETWORK: no connection, or none that gave a reply): what a scan backs
 * off from, per URL and per host, rather than retrying on every scan. Any
 * thread. */
bool trove_fetch_reason_is_unanswered(int reason);

/* The server of an absolute URL: its host, lower case, without a trailing
 * dot, and ":PORT" when the URL names a port other than its scheme's
 * ("http://Example.COM.:8080/x" gives "example.com:8080", "https://a.b:443/"
 * gives "a.b"), into a new string *out (trove_free). The key a scan backs
 * off per host by: two ports of one host are often two services (a dead
 * development server beside a live one). Any thread. Returns 0;
 * TROVE_EINVAL (NULL, or no URL with a host: *out NULL) or TROVE_ENOMEM. */
int trove_fetch_url_host(const char *url, char **out);

/* The domains never fetched when trove_fetch_opts.blocked_domains is NULL:
 * sign-in pages, ad servers and cloud consoles, which give nothing worth
 * indexing. A NULL-terminated static array. Any thread. */
const char *const *trove_fetch_default_blocked(void);

/* Settings for trove_fetch_create. Zero-initialise and set what you need;
 * every 0 / NULL field takes the default given beside it. */
typedef struct trove_fetch_opts {
  int max_concurrent;      /* transfers in flight at once; 0: 8 */
  long connect_timeout_ms; /* per connection attempt; 0: 10 000 */
  long timeout_ms;         /* whole request, all redirect hops; 0: 30 000 */
  int max_redirects;       /* hops followed; 0: 8; negative: none (a redirect then
                              ends as too_many_redirects) */
  size_t max_body;         /* decoded body limit in bytes; 0: 8 MiB */
  const char *user_agent;  /* NULL: "trove/0.1 (personal search index)" */
  /* NULL-terminated domains never fetched, matched case-insensitively
   * against the host itself and its parent domains ("google.com" blocks
   * "mail.google.com" but not "notgoogle.com"). NULL: the default list; a
   * list holding only NULL blocks nothing. Copied by trove_fetch_create. */
  const char *const *blocked_domains;
} trove_fetch_opts;

/* One URL to fetch. Strings are copied by trove_fetch_submit. A validator
 * holding a control character (CR, LF, ...) is hostile and not sent. */
typedef struct trove_fetch_req {
  const char *url;           /* http or https URL (required) */
  const char *etag;          /* stored ETag to send as If-None-Match, or NULL */
  const char *last_modified; /* stored Last-Modified to send as If-Modified-Since, or NULL */
  void *user;                /* handed back untouched in the result */
} trove_fetch_req;

/* What became of one request. Owned by whoever received it (the poll
 * callback, or the caller of trove_fetch_one); free with
 * trove_fetch_result_free. Every string is NUL-terminated or NULL. */
typedef struct trove_fetch_result {
  void *user;         /* the request's user pointer */
  char *url;          /* the URL as requested */
  char *final_url;    /* the URL of the last hop contacted (the same as url without
                         redirects); NULL when nothing was contacted */
  int reason;         /* a trove_fetch_reason */
  long status;        /* HTTP status of the last response; 0 when none came */
  int redirects;      /* redirect hops followed */
  char *content_type; /* the last response's Content-Type, or NULL */
  /* Validators to store. From the response when it sent them; for
   * NOT_MODIFIED a validator the 304 left out is the request's. NULL when
   * unknown. */
  char *etag;
  char *last_modified;
  /* The decoded body, only for OK (NULL otherwise); body_len bytes plus a
   * NUL, "" for an empty 2xx (the extractor judges emptiness). It may
   * contain NUL bytes and is not checked to be UTF-8. The owner may take it
   * (set body to NULL) and free it later with trove_free. */
  char *body;
  size_t body_len;
  char error[256]; /* for a failure, one line saying what happened; else "" */
} trove_fetch_result;

/* Frees a result and everything it still owns. NULL is fine. Any thread. */
void trove_fetch_result_free(trove_fetch_result *res);

/* Called by trove_fetch_poll for each finished request; takes ownership of
 * res. It may call trove_fetch_submit (the new request is started by this
 * or a later poll) and trove_fetch_pending, but not trove_fetch_poll,
 * trove_fetch_one or trove_fetch_destroy (they return TROVE_EBUSY / must
 * not be called). */
typedef void (*trove_fetch_cb)(void *ctx, trove_fetch_result *res);

/* Creates a fetcher with the given settings (NULL: all defaults) and
 * initialises libcurl once per process (thread-safe). The calling thread
 * owns the fetcher. On success *out is the fetcher (free with
 * trove_fetch_destroy). Returns 0; TROVE_EINVAL for a NULL out, a negative
 * max_concurrent / timeout, or an empty or over-long blocked domain;
 * TROVE_ENOMEM; TROVE_ENET when libcurl cannot be initialised. On failure
 * *out is NULL and err says why. */
int trove_fetch_create(const trove_fetch_opts *opts, trove_fetch **out, trove_err *err);

/* Stops every transfer in flight and drops queued requests without calling
 * back (their results and user pointers are not handed back; drain with
 * trove_fetch_poll until trove_fetch_pending is 0 first when every result
 * matters). Then frees the fetcher. NULL is fine. Owner thread only, never
 * from inside a poll callback. */
void trove_fetch_destroy(trove_fetch *f);

/* Queues one request; it starts when fewer than max_concurrent transfers
 * are in flight, during a trove_fetch_poll. The request's strings are
 * copied. Once accepted, exactly one result for it reaches a poll callback
 * (a blocked host or a bad URL too, without touching the network). Owner
 * thread only; never blocks. Returns 0; TROVE_EINVAL for NULL f, req or
 * req->url; TROVE_ENOMEM (nothing queued, no callback will come). */
int trove_fetch_submit(trove_fetch *f, const trove_fetch_req *req);

/* Requests submitted and not yet handed to a callback (queued, in flight or
 * finished awaiting delivery). 0 for NULL. Owner thread only. */
size_t trove_fetch_pending(const trove_fetch *f);

/* Drives the transfers: starts queued requests up to the concurrency limit,
 * moves data, and calls cb(ctx, result) for every request that finished.
 * Waits up to timeout_ms (0: do not wait, negative: treated as 0) for
 * network activity when nothing finished yet, and returns early when a
 * result was delivered or trove_fetch_wakeup was called. Returns at once when
 * nothing is pending. Owner thread only.
 * Returns the number of results delivered (>= 0); TROVE_EINVAL for NULL f or
 * cb; TROVE_EBUSY when called from inside a callback; TROVE_ENOMEM when a
 * queued request could not be started (it stays queued and the next poll
 * retries it; results that finished were still delivered) or libcurl ran
 * out of memory; TROVE_ENET when libcurl's multi handle fails otherwise
 * (err says how; the fetcher should be destroyed). */
int trove_fetch_poll(trove_fetch *f, int timeout_ms, trove_fetch_cb cb, void *ctx, trove_err *err);

/* Makes a trove_fetch_poll that is waiting, or the next one, return early.
 * Any thread (the one call that is); for a stage that must also notice
 * cancellation or new input while waiting on the network. Returns 0,
 * TROVE_EINVAL for NULL f, or TROVE_ENET. */
int trove_fetch_wakeup(trove_fetch *f);

/* Fetches one URL and waits for it: the blocking convenience for the CLI
 * and tests. f must be idle (trove_fetch_pending(f) == 0). On success
 * *out is the result (free with trove_fetch_result_free), whatever its
 * reason: a 404 is a result, not an error. Owner thread only; blocks up to
 * the fetcher's timeout. Returns 0; TROVE_EINVAL for NULL arguments;
 * TROVE_EBUSY when f has pending requests or inside a callback;
 * TROVE_ENOMEM; TROVE_ENET when libcurl fails. On failure *out is NULL. */
int trove_fetch_one(trove_fetch *f, const trove_fetch_req *req, trove_fetch_result **out,
                    trove_err *err);

#endif /* TROVE_FETCH_H */
