/* fetch.c: the fetcher's transfer machinery on libcurl's multi interface.
 * One thread owns a fetcher and drives up to max_concurrent transfers with
 * curl_multi_perform / curl_multi_poll, so a scan's pool workers never
 * block on the network. What may be fetched and how answers are judged
 * lives in policy.c; the interface and its guarantees are in fetch.h.
 *
 * HOW IT WORKS. A request becomes an xfer, which owns its result from the
 * start and sits on exactly one of three lists:
 *   queue   submitted, waiting for a free transfer slot;
 *   running attached to an easy handle inside the multi handle;
 *   done    finished, its result filled in, waiting for a poll to hand it
 *           to the callback.
 * Requests refused before any network use (bad URL, blocked host) go
 * straight to done, so every accepted request reaches the callback once.
 *
 * Redirects are followed here, not by curl (FOLLOWLOCATION off): when a hop
 * answers 301/302/303/307/308 the next URL is checked against the policy
 * (http/https, blocked domains) before it is contacted, the hop count is
 * checked against the limit, and the same easy handle is re-added with the
 * new URL and the time left of the request's total timeout. curl would
 * follow a redirect to a blocked host without asking.
 *
 * The write callback keeps the body of a 2xx response only. On its first
 * call it looks at Content-Type and stops a non-text transfer at once (an
 * image is never downloaded whole); it stops any transfer whose decoded body
 * passes max_body (CURLOPT_MAXFILESIZE stops it earlier when the server
 * announces the length). Bodies of redirects and errors are thrown away.
 *
 * LIMITS. Strings from the network (validators, types, URLs) are copied as
 * they come; the store and extractor treat them as untrusted. curl's memory
 * goes through trove's hook only when trove initialised curl first (a
 * program that calls curl_global_init itself keeps its own allocator).
 */
#include "fetch_int.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum {
  DEF_CONCURRENT = 8,
  DEF_CONNECT_MS = 10000,
  DEF_TIMEOUT_MS = 30000,
  DEF_REDIRECTS = 8,
  DEF_MAX_BODY = 8 << 20, /* larger pages are rare, and never articles */
  MAX_DOMAIN = 253,       /* longest DNS name */
  STOP_DISCARD = -1,      /* write callback gave up on an error body: judge by status */
};

static const char default_agent[] = "trove/0.1 (personal search index)";

struct xfer {
  trove_fetch *f;
  trove_fetch_result *res;   /* owned until delivered */
  char *etag, *last_modified; /* the request's validators, or NULL */
  CURL *easy;                /* while running */
  struct curl_slist *headers;
  trove_buf body;            /* the kept body of the current hop */
  size_t discarded;          /* bytes of an error/redirect body thrown away */
  int stop;                  /* why the write callback stopped the hop: 0, a reason or STOP_DISCARD */
  bool type_checked;         /* Content-Type looked at for this hop */
  long long deadline_ms;     /* monotonic end of the whole request */
  char curl_msg[CURL_ERROR_SIZE];
  struct xfer *prev, *next;  /* on one of the fetcher's lists */
};

struct list {
  struct xfer *head, *tail;
  size_t n;
};

struct trove_fetch {
  CURLM *multi;
  int max_concurrent;
  long connect_ms, timeout_ms;
  int max_redirects;       /* 0 when redirects are not followed */
  size_t max_body;
  char *user_agent;
  char **blocked;          /* NULL-terminated, lower case */
  struct list queue, running, done;
  bool in_callback;        /* a poll is delivering results */
};

/* ---- small helpers ------------------------------------------------------ */

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void list_push(struct list *l, struct xfer *x) {
  x->next = NULL;
  x->prev = l->tail;
  if (l->tail)
    l->tail->next = x;
  else
    l->head = x;
  l->tail = x;
  l->n++;
}

static void list_push_front(struct list *l, struct xfer *x) {
  x->prev = NULL;
  x->next = l->head;
  if (l->head)
    l->head->prev = x;
  else
    l->tail = x;
  l->head = x;
  l->n++;
}

static void list_remove(struct list *l, struct xfer *x) {
  if (x->prev)
    x->prev->next = x->next;
  else
    l->head = x->next;
  if (x->next)
    x->next->prev = x->prev;
  else
    l->tail = x->prev;
  x->prev = x->next = NULL;
  l->n--;
}

/* Frees an xfer that is on no list and no longer in the multi handle. */
static void xfer_free(struct xfer *x) {
  if (!x)
    return;
  if (x->easy)
    curl_easy_cleanup(x->easy);
  curl_slist_free_all(x->headers);
  trove_buf_free(&x->body);
  trove_fetch_result_free(x->res);
  trove_free(x->etag);
  trove_free(x->last_modified);
  trove_free(x);
}

void trove_fetch_result_free(trove_fetch_result *res) {
  if (!res)
    return;
  trove_free(res->url);
  trove_free(res->final_url);
  trove_free(res->content_type);
  trove_free(res->etag);
  trove_free(res->last_modified);
  trove_free(res->body);
  trove_free(res);
}

/* A validator is sent only when it is printable: a CR or LF would let a
 * hostile stored value inject headers. */
static bool header_safe(const char *v) {
  if (!v || !v[0])
    return false;
  for (const unsigned char *p = (const unsigned char *)v; *p; p++)
    if (*p < 0x20 || *p == 0x7f)
      return false;
  return true;
}

/* ---- creating and destroying ------------------------------------------- */

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

/* curl_global_init is not thread-safe before curl 7.84; pthread_once makes
 * every fetcher in the process share one call. curl then allocates through
 * trove's hook too, so fault tests reach its paths (curl handles a failed
 * allocation as an error code, and its test suite fails each one in turn).
 * Never undone: curl's global state lives until exit. */
static void global_init(void) {
  global_rc = curl_global_init_mem(CURL_GLOBAL_DEFAULT, trove_malloc, trove_free, trove_realloc,
                                   trove_strdup, trove_calloc);
}

static int copy_blocked(trove_fetch *f, const char *const *list, trove_err *err) {
  size_t n = 0, bytes;
  while (list[n])
    n++;
  if (!trove_mul_ok(n + 1, sizeof *f->blocked, &bytes) || !(f->blocked = trove_calloc(1, bytes)))
    return trove_err_set(err, TROVE_ENOMEM, "cannot create fetcher: out of memory");
  for (size_t i = 0; i < n; i++) {
    const char *d = list[i];
    while (*d == '.') /* ".example.com" means example.com and below */
      d++;
    size_t len = strlen(d);
    if (len == 0 || len > MAX_DOMAIN)
      return trove_err_set(err, TROVE_EINVAL,
                           "cannot create fetcher: blocked domain #%zu is %s; give a host name "
                           "such as example.com", i + 1, len ? "too long" : "empty");
    if (!(f->blocked[i] = trove_strdup(d)))
      return trove_err_set(err, TROVE_ENOMEM, "cannot create fetcher: out of memory");
    for (char *p = f->blocked[i]; *p; p++)
      *p = (char)tolower((unsigned char)*p);
  }
  return 0;
}

static int apply_opts(trove_fetch *f, const trove_fetch_opts *o, trove_err *err) {
  if (o->max_concurrent < 0 || o->connect_timeout_ms < 0 || o->timeout_ms < 0)
    return trove_err_set(err, TROVE_EINVAL,
                         "cannot create fetcher: max_concurrent and timeouts must not be negative");
  f->max_concurrent = o->max_concurrent ? o->max_concurrent : DEF_CONCURRENT;
  f->connect_ms = o->connect_timeout_ms ? o->connect_timeout_ms : DEF_CONNECT_MS;
  f->timeout_ms = o->timeout_ms ? o->timeout_ms : DEF_TIMEOUT_MS;
  f->max_redirects = o->max_redirects < 0 ? 0 : o->max_redirects ? o->max_redirects : DEF_REDIRECTS;
  f->max_body = o->max_body ? o->max_body : DEF_MAX_BODY;
  f->user_agent = trove_strdup(o->user_agent ? o->user_agent : default_agent);
  if (!f->user_agent)
    return trove_err_set(err, TROVE_ENOMEM, "cannot create fetcher: out of memory");
  return copy_blocked(f, o->blocked_domains ? o->blocked_domains : trove_fetch_default_blocked(),
                      err);
}

int trove_fetch_create(const trove_fetch_opts *opts, trove_fetch **out, trove_err *err) {
  static const trove_fetch_opts defaults;
  if (!out)
    return trove_err_set(err, TROVE_EINVAL, "cannot create fetcher: no place for the result");
  *out = NULL;
  int rc = pthread_once(&global_once, global_init);
  if (rc != 0 || global_rc != CURLE_OK)
    return trove_err_set(err, TROVE_ENET, "cannot initialise libcurl: %s",
                         rc ? strerror(rc) : curl_easy_strerror(global_rc));
  trove_fetch *f = trove_calloc(1, sizeof *f);
  if (!f)
    return trove_err_set(err, TROVE_ENOMEM, "cannot create fetcher: out of memory");
  rc = apply_opts(f, opts ? opts : &defaults, err);
  if (rc)
    goto out_destroy;
  f->multi = curl_multi_init();
  if (!f->multi) {
    rc = trove_err_set(err, TROVE_ENOMEM, "cannot create fetcher: curl_multi_init failed");
    goto out_destroy;
  }
  /* Keep idle connections for reuse by later requests to the same hosts. */
  curl_multi_setopt(f->multi, CURLMOPT_MAXCONNECTS, (long)f->max_concurrent * 2);
  *out = f;
  return 0;
out_destroy:
  trove_fetch_destroy(f);
  return rc;
}

static void drop_list(trove_fetch *f, struct list *l) {
  while (l->head) {
    struct xfer *x = l->head;
    list_remove(l, x);
    if (x->easy && l == &f->running)
      curl_multi_remove_handle(f->multi, x->easy);
    xfer_free(x);
  }
}

/* Forgets every request: running ones are stopped. */
static void drop_all(trove_fetch *f) {
  drop_list(f, &f->running);
  drop_list(f, &f->queue);
  drop_list(f, &f->done);
}

void trove_fetch_destroy(trove_fetch *f) {
  if (!f)
    return;
  drop_all(f);
  if (f->multi)
    curl_multi_cleanup(f->multi);
  for (size_t i = 0; f->blocked && f->blocked[i]; i++)
    trove_free(f->blocked[i]);
  trove_free(f->blocked);
  trove_free(f->user_agent);
  trove_free(f);
}

size_t trove_fetch_pending(const trove_fetch *f) {
  return f ? f->queue.n + f->running.n + f->done.n : 0;
}

int trove_fetch_wakeup(trove_fetch *f) {
  if (!f)
    return TROVE_EINVAL;
  return curl_multi_wakeup(f->multi) == CURLM_OK ? 0 : TROVE_ENET;
}

/* ---- finishing a request ------------------------------------------------ */

/* Ends x with reason and a message (printf-style, may be NULL for none) and
 * moves it to done. x must be on no list and out of the multi handle. */
static void finish(trove_fetch *f, struct xfer *x, int reason, const char *what) {
  trove_fetch_result *r = x->res;
  r->reason = reason;
  if (reason != TROVE_FETCH_OK && reason != TROVE_FETCH_NOT_MODIFIED) {
    /* a longer message is cut to the field, still one line: benign */
    if (snprintf(r->error, sizeof r->error, "%s: %s", what ? what : trove_fetch_reason_name(reason),
                 trove_fetch__reason_hint(reason)) < 0)
      r->error[0] = '\0';
  }
  if (x->easy) {
    curl_easy_cleanup(x->easy);
    x->easy = NULL;
  }
  curl_slist_free_all(x->headers);
  x->headers = NULL;
  trove_buf_free(&x->body);
  list_push(&f->done, x);
}

/* Copies one response header's value into *dst (left NULL when absent).
 * False only when the copy could not be allocated. */
static bool copy_header(CURL *easy, const char *name, char **dst) {
  struct curl_header *h = NULL;
  if (curl_easy_header(easy, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK || !h->value)
    return true;
  *dst = trove_strdup(h->value);
  return *dst != NULL;
}

/* Fills in what the last response said: final URL, type, validators and,
 * for OK, the body. False when an allocation failed (the result then says
 * no_memory). */
static bool record_response(struct xfer *x, int reason) {
  trove_fetch_result *r = x->res;
  char *url = NULL, *ct = NULL;
  curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &r->status);
  curl_easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &url);
  curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ct);
  if (url && !(r->final_url = trove_strdup(url)))
    return false;
  if (ct && !(r->content_type = trove_strdup(ct)))
    return false;
  if (r->status > 0 && (!copy_header(x->easy, "ETag", &r->etag) ||
                        !copy_header(x->easy, "Last-Modified", &r->last_modified)))
    return false;
  if (reason == TROVE_FETCH_NOT_MODIFIED) { /* a 304 may leave validators out */
    if (!r->etag && x->etag && !(r->etag = trove_strdup(x->etag)))
      return false;
    if (!r->last_modified && x->last_modified &&
        !(r->last_modified = trove_strdup(x->last_modified)))
      return false;
  }
  if (reason == TROVE_FETCH_OK) {
    /* Appending nothing allocates and terminates an empty body, which
     * trove_buf_take alone leaves unterminated. */
    if (trove_buf_append(&x->body, "", 0))
      return false;
    r->body_len = x->body.len;
    r->body = trove_buf_take(&x->body);
  }
  return true;
}

/* Ends a hop that reached the server (or failed trying) with reason. */
static void finish_hop(trove_fetch *f, struct xfer *x, int reason, const char *what) {
  if (!record_response(x, reason)) {
    trove_free(x->res->body);
    x->res->body = NULL;
    x->res->body_len = 0;
    reason = TROVE_FETCH_NO_MEMORY;
    what = "out of memory storing the response";
  }
  finish(f, x, reason, what);
}

/* ---- starting and redirecting ------------------------------------------ */

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata);

/* Points x's easy handle at url with the time left of the request. */
static int aim(struct xfer *x, const char *url) {
  long long left = x->deadline_ms - now_ms();
  trove_buf_reset(&x->body);
  x->discarded = 0;
  x->stop = 0;
  x->type_checked = false;
  x->curl_msg[0] = '\0';
  if (curl_easy_setopt(x->easy, CURLOPT_URL, url) != CURLE_OK ||
      curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, (long)(left > 1 ? left : 1)) != CURLE_OK)
    return TROVE_ENOMEM;
  return 0;
}

static int add_validators(struct xfer *x) {
  char line[1024];
  const struct { const char *name, *value; } v[] = {
    {"If-None-Match", x->etag}, {"If-Modified-Since", x->last_modified},
  };
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    if (!v[i].value)
      continue;
    if (snprintf(line, sizeof line, "%s: %s", v[i].name, v[i].value) >= (int)sizeof line)
      continue; /* absurdly long: not worth a conditional request */
    struct curl_slist *l = curl_slist_append(x->headers, line);
    if (!l)
      return TROVE_ENOMEM;
    x->headers = l;
  }
  return 0;
}

/* Creates and configures x's easy handle; 0 or TROVE_ENOMEM. */
static int setup_easy(trove_fetch *f, struct xfer *x) {
  if (!(x->easy = curl_easy_init()) || add_validators(x))
    return TROVE_ENOMEM;
  CURL *e = x->easy;
  CURLcode c = CURLE_OK;
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85: the string form replaced the bitmask */
  c |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
  c |= curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  c |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  c |= curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""); /* every encoding curl decodes */
  c |= curl_easy_setopt(e, CURLOPT_USERAGENT, f->user_agent);
  c |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, f->connect_ms);
  c |= curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)f->max_body);
  c |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L); /* no SIGALRM: other threads run */
  c |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  c |= curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
  c |= curl_easy_setopt(e, CURLOPT_PRIVATE, x);
  c |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->curl_msg);
  c |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
  if (c != CURLE_OK)
    return TROVE_ENOMEM; /* the only way setopt fails for these options */
  x->deadline_ms = now_ms() + f->timeout_ms;
  return aim(x, x->res->url);
}

/* Starts queued requests while slots are free. 0, or TROVE_ENOMEM with the
 * failed request back at the head of the queue. */
static int start_queued(trove_fetch *f) {
  while (f->queue.head && f->running.n < (size_t)f->max_concurrent) {
    struct xfer *x = f->queue.head;
    list_remove(&f->queue, x);
    if (setup_easy(f, x) || curl_multi_add_handle(f->multi, x->easy) != CURLM_OK) {
      if (x->easy)
        curl_easy_cleanup(x->easy);
      x->easy = NULL;
      curl_slist_free_all(x->headers);
      x->headers = NULL;
      list_push_front(&f->queue, x); /* keeps submission order */
      return TROVE_ENOMEM;
    }
    list_push(&f->running, x);
  }
  return 0;
}

static bool is_redirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* Finds where a redirect hop points: TROVE_FETCH_OK with *next set, or a
 * reason with why filled in. *owned says *next must go to curl_free. The
 * target is resolved here from Location; when that fails for a reason other
 * than memory, curl's CURLINFO_REDIRECT_URL is the second opinion: curl's URL
 * parser reports some failed allocations as malformed input, and a single
 * failed allocation must not become a permanent bad_redirect. (curl's value
 * alone will not do: when its own parse fails it keeps Location as sent,
 * possibly relative.) */
static int redirect_target(trove_fetch *f, struct xfer *x, char **next, bool *owned, char *why,
                           size_t why_size) {
  struct curl_header *h = NULL;
  char *base = NULL;
  *next = NULL;
  *owned = false;
  curl_easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &base);
  if (curl_easy_header(x->easy, "Location", 0, CURLH_HEADER, -1, &h) != CURLHE_OK ||
      !h->value[0] || !base) {
    snprintf(why, why_size, "redirect without a Location from %.180s", x->res->url);
    return TROVE_FETCH_BAD_REDIRECT;
  }
  if (x->res->redirects >= f->max_redirects) {
    snprintf(why, why_size, "more than %d redirects from %.160s", f->max_redirects, x->res->url);
    return TROVE_FETCH_TOO_MANY_REDIRECTS;
  }
  int reason = trove_fetch__resolve(base, h->value, next, why, why_size);
  *owned = *next != NULL;
  if (reason == TROVE_FETCH_BAD_REDIRECT) {
    char *theirs = NULL;
    curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_URL, &theirs);
    if (theirs && trove_fetch__check_url(theirs, NULL, why, why_size) == TROVE_FETCH_OK) {
      *next = theirs;
      reason = TROVE_FETCH_OK;
    } else {
      snprintf(why, why_size, "unusable Location from %.180s", x->res->url);
    }
  }
  if (reason == TROVE_FETCH_OK)
    reason = trove_fetch__check_url(*next, f->blocked, why, why_size);
  if (reason == TROVE_FETCH_BAD_URL)
    reason = TROVE_FETCH_BAD_REDIRECT;
  if (reason == TROVE_FETCH_OK && now_ms() >= x->deadline_ms) {
    reason = TROVE_FETCH_TIMEOUT;
    snprintf(why, why_size, "timed out following redirects from %.180s", x->res->url);
  }
  return reason;
}

/* Follows a redirect hop if the policy allows it: re-adds x to the multi
 * handle and the running list. Otherwise finishes x. */
static void redirect(trove_fetch *f, struct xfer *x) {
  char why[256];
  char *next = NULL;
  bool owned = false;
  int reason = redirect_target(f, x, &next, &owned, why, sizeof why);
  if (reason == TROVE_FETCH_OK) {
    /* CURLOPT_URL copies next, which curl's next transfer would free. */
    if (aim(x, next) == 0 && curl_multi_add_handle(f->multi, x->easy) == CURLM_OK) {
      if (owned)
        curl_free(next);
      x->res->redirects++;
      list_push(&f->running, x);
      return;
    }
    reason = TROVE_FETCH_NO_MEMORY;
    snprintf(why, sizeof why, "cannot follow redirect from %.180s: out of memory", x->res->url);
  }
  if (owned)
    curl_free(next);
  finish_hop(f, x, reason, why);
}

/* Judges a hop curl reports done, x already out of the multi handle. */
static void hop_done(trove_fetch *f, struct xfer *x, CURLcode code) {
  char what[320];
  long status = 0;
  curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
  if (code == CURLE_FILESIZE_EXCEEDED && x->stop == 0) {
    /* curl refuses an announced length past max_body before any body
     * arrives, whatever the status or type: judge it as the write callback
     * would have, so a big 404 is gone and a big image is not_text. */
    char *ct = NULL;
    curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ct);
    if (status < 200 || status >= 300)
      x->stop = STOP_DISCARD;
    else
      x->stop = trove_fetch__is_text_type(ct) ? TROVE_FETCH_TOO_LARGE : TROVE_FETCH_NOT_TEXT;
  }
  if (x->stop > 0) {
    snprintf(what, sizeof what, "%s from %.180s", trove_fetch_reason_name(x->stop), x->res->url);
    finish_hop(f, x, x->stop, what);
  } else if (code != CURLE_OK && x->stop != STOP_DISCARD) {
    snprintf(what, sizeof what, "%.180s: %.120s", x->res->url,
             x->curl_msg[0] ? x->curl_msg : curl_easy_strerror(code));
    finish_hop(f, x, trove_fetch__reason_for_curl(code), what);
  } else if (is_redirect(status)) {
    redirect(f, x);
  } else {
    snprintf(what, sizeof what, "HTTP %ld from %.180s", status, x->res->url);
    finish_hop(f, x, trove_fetch_reason_for_status(status), what);
  }
}

/* Takes every finished hop from curl. */
static void collect(trove_fetch *f) {
  CURLMsg *m;
  int left;
  while ((m = curl_multi_info_read(f->multi, &left))) {
    if (m->msg != CURLMSG_DONE)
      continue;
    struct xfer *x = NULL;
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
    CURLcode code = m->data.result; /* m is invalid after remove_handle */
    curl_multi_remove_handle(f->multi, x->easy);
    list_remove(&f->running, x);
    hop_done(f, x, code);
  }
}

/* The write callback: keeps 2xx text bodies up to max_body. Returning
 * anything but n stops the transfer with CURLE_WRITE_ERROR; x->stop says
 * why. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata) {
  struct xfer *x = userdata;
  size_t n = size * nmemb; /* size is 1 by curl's contract */
  long status = 0;
  curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status >= 300) {
    x->discarded += n;
    if (x->discarded <= x->f->max_body)
      return n;
    x->stop = STOP_DISCARD;
    return 0;
  }
  if (!x->type_checked) {
    char *ct = NULL;
    curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ct);
    x->type_checked = true;
    if (!trove_fetch__is_text_type(ct)) {
      x->stop = TROVE_FETCH_NOT_TEXT;
      return 0;
    }
  }
  if (n > x->f->max_body - x->body.len) {
    x->stop = TROVE_FETCH_TOO_LARGE;
    return 0;
  }
  if (trove_buf_append(&x->body, data, n)) {
    x->stop = TROVE_FETCH_NO_MEMORY;
    return 0;
  }
  return n;
}

/* ---- the public driver -------------------------------------------------- */

int trove_fetch_submit(trove_fetch *f, const trove_fetch_req *req) {
  if (!f || !req || !req->url)
    return TROVE_EINVAL;
  struct xfer *x = trove_calloc(1, sizeof *x);
  if (!x)
    return TROVE_ENOMEM;
  x->f = f;
  if (!(x->res = trove_calloc(1, sizeof *x->res)) || !(x->res->url = trove_strdup(req->url)) ||
      (header_safe(req->etag) && !(x->etag = trove_strdup(req->etag))) ||
      (header_safe(req->last_modified) && !(x->last_modified = trove_strdup(req->last_modified)))) {
    xfer_free(x);
    return TROVE_ENOMEM;
  }
  x->res->user = req->user;
  char why[256];
  int reason = trove_fetch__check_url(req->url, f->blocked, why, sizeof why);
  if (reason != TROVE_FETCH_OK)
    finish(f, x, reason, why);
  else
    list_push(&f->queue, x);
  return 0;
}

/* Hands every done result to cb; returns how many. */
static int deliver(trove_fetch *f, trove_fetch_cb cb, void *ctx) {
  int n = 0;
  f->in_callback = true;
  while (f->done.head) { /* cb may submit, which can add to done */
    struct xfer *x = f->done.head;
    list_remove(&f->done, x);
    trove_fetch_result *r = x->res;
    x->res = NULL;
    xfer_free(x);
    cb(ctx, r);
    n++;
  }
  f->in_callback = false;
  return n;
}

static int multi_fail(CURLMcode mc, trove_err *err) {
  if (mc == CURLM_OUT_OF_MEMORY)
    return trove_err_set(err, TROVE_ENOMEM, "fetcher ran out of memory; poll again later");
  return trove_err_set(err, TROVE_ENET, "fetcher failed: %s; recreate the fetcher",
                       curl_multi_strerror(mc));
}

int trove_fetch_poll(trove_fetch *f, int timeout_ms, trove_fetch_cb cb, void *ctx,
                     trove_err *err) {
  if (!f || !cb)
    return trove_err_set(err, TROVE_EINVAL, "trove_fetch_poll: no fetcher or no callback");
  if (f->in_callback)
    return trove_err_set(err, TROVE_EBUSY, "trove_fetch_poll called from a fetch callback");
  int start_rc = start_queued(f);
  if (f->running.n && !f->done.n) {
    int still = 0;
    CURLMcode mc = curl_multi_perform(f->multi, &still);
    if (mc == CURLM_OK) {
      collect(f);
      if (!f->done.n && timeout_ms > 0)
        mc = curl_multi_poll(f->multi, NULL, 0, timeout_ms, NULL);
    }
    if (mc == CURLM_OK)
      mc = curl_multi_perform(f->multi, &still);
    if (mc != CURLM_OK)
      return multi_fail(mc, err);
    collect(f);
    if (!start_rc)
      start_rc = start_queued(f); /* slots freed by finished requests */
  }
  int n = deliver(f, cb, ctx);
  if (start_rc)
    return trove_err_set(err, start_rc, "cannot start a fetch: out of memory; it stays queued");
  return n;
}

static void keep_one(void *ctx, trove_fetch_result *res) {
  trove_fetch_result **slot = ctx;
  *slot = res; /* the fetcher was idle: this is the one request's result */
}

int trove_fetch_one(trove_fetch *f, const trove_fetch_req *req, trove_fetch_result **out,
                    trove_err *err) {
  if (!f || !req || !req->url || !out)
    return trove_err_set(err, TROVE_EINVAL, "trove_fetch_one: missing fetcher, request or result");
  *out = NULL;
  if (f->in_callback || trove_fetch_pending(f))
    return trove_err_set(err, TROVE_EBUSY,
                         "trove_fetch_one needs an idle fetcher; drain it with trove_fetch_poll");
  int rc = trove_fetch_submit(f, req);
  if (rc)
    return trove_err_set(err, rc, "cannot fetch %.200s: %s", req->url, trove_strerror(rc));
  trove_fetch_result *res = NULL;
  while (!res) {
    rc = trove_fetch_poll(f, 1000, keep_one, &res, err);
    if (rc < 0) {
      trove_fetch_result_free(res);
      drop_all(f);
      return rc;
    }
  }
  *out = res;
  return 0;
}
