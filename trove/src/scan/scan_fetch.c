/* scan_fetch.c: the fetch stage, a flat map from batches to items on its
 * own thread. For the web items of a batch that need it (new, or known and
 * not failed permanently), it runs one libcurl multi fetcher (fetch.h: many
 * transfers from this one thread, so pool workers stay free for
 * extraction): a known page is asked for with its stored ETag and
 * Last-Modified, and a 304 makes it unchanged, as does a body whose hash
 * equals the stored one (a 304 to a request without validators is an
 * error of that item). Failures become the item's skip reason (gone,
 * unauthorized, not_text keeps the title only...); transient ones are
 * retried by the next scan, except that pages and hosts that do not answer
 * at all (timeouts, no connection) are retried on a growing schedule
 * (scan_backoff.c), and a host that is waiting out its backoff is not
 * contacted: its URLs are deferred. Then every item of the batch goes on
 * alone.
 *
 * The fetcher belongs to the thread that made it, and a stage has no end
 * hook, so one is made and destroyed per batch that needs one (at most 64
 * requests; losing connection reuse between batches is the price). fs
 * batches pass through without one. */
#include "scan_int.h"

#include "fetch.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* How long one poll waits before checking for cancellation. */
#define FETCH_POLL_MS 100
/* Requests running at once: the fetcher's default. */
#define FETCH_CONCURRENT 8

static bool needs_fetch(const scan_item *it) {
  return it->type != TROVE_ITEM_LOCAL && (it->state == SCAN_NEW || it->state == SCAN_CHANGED);
}

static int kind_of(const char *content_type) {
  if (!content_type)
    return SCAN_KIND_HTML;
  if (strncasecmp(content_type, "text/plain", 10) == 0)
    return SCAN_KIND_TEXT;
  if (strncasecmp(content_type, "text/markdown", 13) == 0)
    return SCAN_KIND_MARKDOWN;
  return SCAN_KIND_HTML;
}

static void take_string(char **dst, char **src) {
  trove_free(*dst);
  *dst = *src;
  *src = NULL;
}

static void fail_item(scan_item *it, const char *reason, const char *msg) {
  it->state = SCAN_ERROR;
  it->skip_reason = reason;
  trove_free(it->error);
  it->error = trove_strdup(msg); /* NULL is benign */
}

/* Replaces res's body by its UTF-8 decoding when the Content-Type or the
 * body says it is in another charset, so the stored copy (which reprocess
 * re-extracts without the headers) is UTF-8. An HTML body is also decoded
 * by its <meta>, as trove_extract_html would. *guessed says whether the
 * charset was a guess (BOM-less UTF-16). 0 or TROVE_ENOMEM. */
static int to_utf8(int kind, trove_fetch_result *res, bool *guessed) {
  char *utf8 = NULL;
  size_t n = 0;
  unsigned flags = kind == SCAN_KIND_HTML ? TROVE_CHARSET_HTML : 0;
  int rc = trove_charset_to_utf8(res->body, res->body_len, res->content_type, flags, &utf8, &n,
                                 guessed);
  if (rc || !utf8)
    return rc;
  trove_free(res->body);
  res->body = utf8, res->body_len = n;
  return 0;
}

/* One web item of the batch on its way through the fetcher. */
typedef struct job {
  scan_item *it;
  char *host;   /* trove_fetch_url_host; NULL when the URL has none (the
                   fetcher refuses it without the network) */
  bool started; /* submitted, or settled without a request */
  bool counted; /* counted in its scan_host's in_flight */
} job;

/* The poll callback's context: the batch being fetched. */
typedef struct fetch_run {
  scan_ctx *c;
  int64_t now;
  size_t running; /* requests submitted and not yet delivered */
} fetch_run;

/* Applies one result to its item (the poll callback), and what it says of
 * the server to the item's and the host's backoff. A 304 answers a
 * conditional GET; to a request that sent no validators (trove has no copy
 * to keep: a new URL, a failed one, a forced refetch) it is that item's
 * transient failure, retried by the next scan, never "unchanged". */
static void on_result(void *ctx, trove_fetch_result *res) {
  fetch_run *run = ctx;
  job *j = res->user;
  scan_item *it = j->it;
  scan_host *h = trove_scan__hosts_find(&run->c->hosts, j->host);
  run->running--;
  if (j->counted && h)
    h->in_flight--;
  if (trove_fetch_reason_is_unanswered(res->reason)) {
    trove_scan__item_unanswered(it, run->now);
    trove_scan__host_unanswered(h ? h : trove_scan__hosts_add(&run->c->hosts, j->host), res->reason,
                                run->now, run->c->force);
  } else if (res->status > 0) { /* the server answered, whatever it said */
    it->fetch_failures = 0, it->retry_at = 0;
    trove_scan__host_answered(h);
  }
  if (res->reason == TROVE_FETCH_NOT_MODIFIED && !it->etag && !it->last_modified) {
    fail_item(it, trove_fetch_reason_name(res->reason), "the server answered 304 Not "
              "Modified to a request without validators, and trove has no copy of the page");
    trove_fetch_result_free(res);
    return;
  }
  if (res->reason == TROVE_FETCH_OK || res->reason == TROVE_FETCH_NOT_MODIFIED) {
    take_string(&it->etag, &res->etag);
    take_string(&it->last_modified, &res->last_modified);
  }
  if (res->reason == TROVE_FETCH_OK) {
    it->web_kind = kind_of(res->content_type);
    if (to_utf8(it->web_kind, res, &it->charset_guessed) != 0) {
      fail_item(it, "no_memory", "out of memory decoding the page to UTF-8");
      trove_fetch_result_free(res);
      return;
    }
    it->raw = res->body, it->raw_len = res->body_len;
    res->body = NULL;
    trove_scan__hash(it->raw, it->raw_len, it->hash);
    take_string(&it->final_url, &res->final_url);
    if (it->state == SCAN_CHANGED && it->old_hash && strcmp(it->old_hash, it->hash) == 0)
      it->state = SCAN_UNCHANGED; /* same bytes: nothing to redo */
  } else if (res->reason == TROVE_FETCH_NOT_MODIFIED) {
    it->state = SCAN_UNCHANGED;
  } else {
    bool permanent = trove_fetch_reason_is_permanent(res->reason);
    it->state = permanent ? SCAN_SKIP : SCAN_ERROR;
    it->skip_reason = trove_fetch_reason_name(res->reason);
    if (!permanent && res->error[0])
      it->error = trove_strdup(res->error); /* NULL is benign */
  }
  trove_fetch_result_free(res);
}

/* Leaves it unfetched because its host h is waiting out its backoff: a
 * known page stays as stored, a new one is recorded with the host's last
 * failure and waits as long as the host does. */
static void defer_to_host(scan_item *it, scan_host *h) {
  it->deferred = true;
  h->skipped++;
  if (it->state != SCAN_NEW) {
    it->state = SCAN_UNCHANGED;
    return;
  }
  char when[32] = "later", msg[256];
  time_t t = (time_t)h->retry_at;
  struct tm tm;
  if (localtime_r(&t, &tm))
    strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
  snprintf(msg, sizeof msg, "not fetched: its host %.120s did not answer the last %lld "
           "times; it is tried again after %s, or by `trove scan --force`", h->name,
           (long long)h->failures, when);
  fail_item(it, h->reason, msg);
  it->retry_at = h->retry_at;
}

/* Starts the jobs that may start, up to the fetcher's concurrency: a job
 * whose host is waiting out its backoff is deferred instead, and a host with
 * failures on record gets one request at a time, so that the decision to
 * give it up is made before its other URLs are sent. */
static void start_jobs(fetch_run *run, trove_fetch *f, job *jobs, size_t n) {
  scan_ctx *c = run->c;
  for (size_t i = 0; i < n && run->running < FETCH_CONCURRENT; i++) {
    job *j = &jobs[i];
    if (j->started)
      continue;
    scan_host *h = trove_scan__hosts_find(&c->hosts, j->host);
    if (trove_scan__host_skipped(h, run->now, c->force)) {
      defer_to_host(j->it, h);
      j->started = true;
      continue;
    }
    if (h && h->failures > 0 && h->in_flight > 0)
      continue; /* a suspect host: after its running request */
    scan_item *it = j->it;
    trove_fetch_req req = {.url = it->external_id, .etag = it->etag,
                           .last_modified = it->last_modified, .user = j};
    j->started = true;
    if (trove_fetch_submit(f, &req) != 0) {
      fail_item(it, "no_memory", "out of memory queueing the request");
      continue;
    }
    run->running++;
    if (h) {
      h->in_flight++;
      j->counted = true;
    }
  }
}

/* Fetches what b's web items need; failures are the items'. */
static void fetch_batch(scan_ctx *c, scan_batch *b) {
  job jobs[64];
  size_t n = 0;
  for (size_t i = 0; i < b->n; i++)
    if (needs_fetch(b->items[i])) {
      jobs[n] = (job){.it = b->items[i]};
      /* no host: the fetcher refuses the URL; out of memory: no backoff */
      trove_fetch_url_host(b->items[i]->external_id, &jobs[n].host);
      n++;
    }
  if (n == 0)
    return;
  trove_fetch *f = NULL;
  trove_err e = {0};
  trove_fetch_opts fo = {.max_concurrent = FETCH_CONCURRENT, .timeout_ms = c->fetch_timeout_ms,
                         .connect_timeout_ms = c->fetch_timeout_ms};
  int rc = trove_fetch_create(&fo, &f, &e);
  fetch_run run = {.c = c, .now = (int64_t)time(NULL)};
  for (size_t i = 0; rc && i < n; i++)
    fail_item(jobs[i].it, "network", e.msg);
  /* results only change items the batch still owns, so stopping early on
   * cancellation (destroy drops the rest) loses nothing */
  while (rc == 0 && !atomic_load_explicit(&c->stop, memory_order_relaxed)) { /* a hint, see scan_ctx */
    start_jobs(&run, f, jobs, n);
    if (run.running == 0)
      break; /* every job settled */
    int got = trove_fetch_poll(f, FETCH_POLL_MS, on_result, &run, &e);
    if (got < 0 && got != TROVE_ENOMEM)
      break; /* the multi handle failed: the rest stay as they were */
    run.now = (int64_t)time(NULL);
  }
  trove_fetch_destroy(f);
  for (size_t i = 0; i < n; i++)
    trove_free(jobs[i].host);
}

int trove_scan__fetch_stage(void *user, void *item, sl_emitter *out) {
  scan_ctx *c = user;
  scan_batch *b = item;
  fetch_batch(c, b);
  for (size_t i = 0; i < b->n; i++) {
    scan_item *it = b->items[i];
    b->items[i] = NULL; /* sl_emit owns it now, even when canceled */
    if (sl_emit(out, it) != 0)
      break;
  }
  trove_scan__batch_free(b, NULL); /* frees what was not emitted */
  return 0;
}
