/* store_hosts.c: the fetch_hosts table, what the scan's per-host backoff
 * (scan_backoff.c) remembers between scans: a row per web host whose last
 * fetches got no answer, gone as soon as the host answers. The schedule is
 * the scan's; the store only keeps the figures. */
#include "store_int.h"

#include <string.h>

static int host_row(trove_store *st, sqlite3_stmt *s, void *elem, trove_err *err) {
  (void)st;
  trove_store_host *h = elem;
  memset(h, 0, sizeof *h);
  h->failures = sqlite3_column_int64(s, 1);
  h->retry_at = sqlite3_column_int64(s, 2);
  if (trove_store__col_dup(s, 0, &h->host) && trove_store__col_dup(s, 3, &h->reason))
    return 0;
  trove_free(h->host);
  trove_free(h->reason);
  memset(h, 0, sizeof *h);
  return trove_err_set(err, TROVE_ENOMEM, "out of memory reading the hosts that do not answer");
}

void trove_store_hosts_free(trove_store_host *v, size_t n) {
  for (size_t i = 0; v && i < n; i++) {
    trove_free(v[i].host);
    trove_free(v[i].reason);
  }
  trove_free(v);
}

static void free_hosts(void *v, size_t n) { trove_store_hosts_free(v, n); }

int trove_store_hosts_get(trove_store *st, trove_store_host **out, size_t *n, trove_err *err) {
  if (!st || !out || !n)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_hosts_get: NULL argument");
  *out = NULL;
  *n = 0;
  sqlite3_stmt *s = NULL;
  int rc = sqlite3_prepare_v2(st->db, "SELECT host, failures, retry_at, reason FROM fetch_hosts"
                              " ORDER BY host", -1, &s, NULL);
  if (rc != SQLITE_OK)
    return trove_store__fail(st, rc, "reading the hosts that do not answer", err);
  void *v = NULL;
  rc = trove_store__read_rows(st, s, sizeof **out, host_row, free_hosts, &v, n,
                              "reading the hosts that do not answer", err);
  *out = v;
  sqlite3_finalize(s);
  return rc;
}

int trove_store_host_set(trove_store *st, const trove_store_host *h, trove_err *err) {
  if (!st || !h || !h->host || !h->host[0] || h->failures < 0 || (h->failures && !h->reason))
    return trove_err_set(err, TROVE_EINVAL, "trove_store_host_set: bad argument");
  int rc = trove_store__writable(st, err);
  if (rc)
    return rc;
  sqlite3_stmt *s = NULL;
  rc = sqlite3_prepare_v2(st->db, h->failures
                          ? "INSERT OR REPLACE INTO fetch_hosts(host, failures, retry_at, reason)"
                            " VALUES(?1, ?2, ?3, ?4)"
                          : "DELETE FROM fetch_hosts WHERE host = ?1", -1, &s, NULL);
  if (rc == SQLITE_OK) {
    trove_store__bind_text(s, 1, h->host);
    if (h->failures) {
      sqlite3_bind_int64(s, 2, h->failures);
      sqlite3_bind_int64(s, 3, h->retry_at);
      trove_store__bind_text(s, 4, h->reason);
    }
    rc = sqlite3_step(s);
  }
  sqlite3_finalize(s);
  return rc == SQLITE_DONE
             ? 0
             : trove_store__fail(st, rc, "recording a host that does not answer", err);
}
