/* scan_backoff.c: how a scan stops paying for web pages and hosts that do
 * not answer. A fetch that times out or gets no connection costs up to the
 * fetch timeout (30 s), and a history holds many pages of hosts that are
 * gone; retried on every scan, a thousand of them cost an hour each time.
 *
 * Per URL: each unanswered fetch in a row pushes the item's retry_at out by
 * trove_scan__backoff_delay(failures) (an hour, doubling, at most 30 days); until
 * then the match stage leaves the item as it is (deferred). Any answer from
 * the server, even an error status, resets it.
 *
 * Per host: the fetch stage counts unanswered fetches per host, across
 * scans (the fetch_hosts table). A host with any failure on record is sent
 * one request at a time, so a dead host with 500 pages in a batch costs one
 * timeout, not eight in parallel; once it reaches SCAN_HOST_FAILURES in a
 * row it is not contacted until its own retry_at (same schedule, counted
 * from the threshold), and its URLs are deferred. When the wait is over one
 * request probes it: an answer forgets the host, another failure doubles
 * the wait. `scan --force` ignores waits recorded by earlier scans but not
 * one its own failures start.
 *
 * The table is small (only hosts with failures), loaded before the pipeline
 * and saved after it, and used meanwhile by the fetch stage's one thread.
 */
#include "scan_int.h"

#include "fetch.h"
#include "store.h"

#include <string.h>

enum {
  FIRST_WAIT_S = 3600,          /* a blip is over in an hour; a scan an hour
                                   later tries again */
  MAX_WAIT_S = 30 * 24 * 3600,  /* a month: a host that comes back is
                                   fetched within a month of it */
};

int64_t trove_scan__backoff_delay(int64_t step) {
  if (step < 1)
    return 0;
  if (step > 16) /* 2^15 hours is far past the cap; keeps the shift defined */
    return MAX_WAIT_S;
  int64_t d = (int64_t)FIRST_WAIT_S << (step - 1);
  return d < MAX_WAIT_S ? d : MAX_WAIT_S;
}

/* FNV-1a, for the table's slots. */
static size_t hash(const char *s) {
  uint64_t h = 14695981039346656037ull;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return (size_t)h;
}

static scan_host *slot(const scan_hosts *h, const char *name) {
  size_t mask = h->cap - 1;
  for (size_t i = hash(name) & mask;; i = (i + 1) & mask)
    if (!h->v[i].name || strcmp(h->v[i].name, name) == 0)
      return &h->v[i];
}

scan_host *trove_scan__hosts_find(const scan_hosts *h, const char *name) {
  if (!h->cap || !name)
    return NULL;
  scan_host *s = slot(h, name);
  return s->name ? s : NULL;
}

/* Doubles the table (or makes its first 64 slots). 0 or TROVE_ENOMEM. */
static int grow(scan_hosts *h) {
  size_t cap = h->cap ? 2 * h->cap : 64;
  scan_host *v = trove_calloc(cap, sizeof *v);
  if (!v)
    return TROVE_ENOMEM;
  scan_hosts bigger = {v, cap, h->n};
  for (size_t i = 0; i < h->cap; i++)
    if (h->v[i].name)
      *slot(&bigger, h->v[i].name) = h->v[i];
  trove_free(h->v);
  *h = bigger;
  return 0;
}

scan_host *trove_scan__hosts_add(scan_hosts *h, const char *name) {
  scan_host *s = trove_scan__hosts_find(h, name);
  if (s || !name)
    return s;
  if (2 * (h->n + 1) > h->cap && grow(h)) /* at most half full: short probes */
    return NULL;
  s = slot(h, name);
  if (!(s->name = trove_strdup(name)))
    return NULL;
  s->reason = "timeout";
  h->n++;
  return s;
}

void trove_scan__hosts_free(scan_hosts *h) {
  for (size_t i = 0; i < h->cap; i++)
    trove_free(h->v[i].name);
  trove_free(h->v);
  memset(h, 0, sizeof *h);
}

/* The static name of a stored reason; "timeout" for one this trove does
 * not know. */
static const char *static_reason(const char *name) {
  for (int r = 0; name && r < TROVE_FETCH_REASON_COUNT; r++)
    if (strcmp(name, trove_fetch_reason_name(r)) == 0)
      return trove_fetch_reason_name(r);
  return "timeout";
}

int trove_scan__hosts_load(scan_hosts *h, trove_store *st, trove_err *err) {
  trove_scan__hosts_free(h);
  trove_store_host *v = NULL;
  size_t n = 0;
  int rc = trove_store_hosts_get(st, &v, &n, err);
  for (size_t i = 0; rc == 0 && i < n; i++) {
    scan_host *s = trove_scan__hosts_add(h, v[i].host);
    if (!s) {
      rc = trove_err_set(err, TROVE_ENOMEM, "out of memory reading the hosts that do not answer");
      break;
    }
    s->failures = v[i].failures;
    s->retry_at = v[i].retry_at;
    s->reason = static_reason(v[i].reason);
  }
  trove_store_hosts_free(v, n);
  if (rc)
    trove_scan__hosts_free(h);
  return rc;
}

int trove_scan__hosts_save(const scan_hosts *h, trove_store *st, trove_err *err) {
  bool any = false;
  for (size_t i = 0; i < h->cap && !any; i++)
    any = h->v[i].name && h->v[i].dirty;
  if (!any)
    return 0;
  int rc = trove_store_begin(st, err);
  for (size_t i = 0; rc == 0 && i < h->cap; i++) {
    const scan_host *s = &h->v[i];
    if (!s->name || !s->dirty)
      continue;
    trove_store_host sh = {.host = s->name, .failures = s->failures, .retry_at = s->retry_at,
                           .reason = (char *)s->reason};
    rc = trove_store_host_set(st, &sh, err);
  }
  if (rc == 0)
    return trove_store_commit(st, err);
  trove_store_rollback(st);
  return rc;
}

bool trove_scan__host_skipped(const scan_host *h, int64_t now, bool force) {
  return h && h->failures >= SCAN_HOST_FAILURES && h->retry_at > now && (!force || h->tripped);
}

void trove_scan__host_unanswered(scan_host *h, int reason, int64_t now, bool force) {
  if (!h || trove_scan__host_skipped(h, now, force))
    return; /* it was running when the host was given up: no new evidence */
  h->failures++;
  h->reason = trove_fetch_reason_name(reason);
  h->dirty = true;
  if (h->failures >= SCAN_HOST_FAILURES) {
    h->retry_at = now + trove_scan__backoff_delay(h->failures - SCAN_HOST_FAILURES + 1);
    h->tripped = true;
  }
}

void trove_scan__host_answered(scan_host *h) {
  if (!h || h->failures == 0)
    return;
  h->failures = 0;
  h->retry_at = 0;
  h->tripped = false;
  h->dirty = true;
}

void trove_scan__item_unanswered(scan_item *it, int64_t now) {
  it->fetch_failures++;
  it->retry_at = now + trove_scan__backoff_delay(it->fetch_failures);
}
