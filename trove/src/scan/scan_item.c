/* scan_item.c: the life of a scan item (freeing it and its batch), the
 * run's fatal-error record, the skip-reason tally and the change hash. */
#include "scan_int.h"

#include "fetch.h"

#include <stdatomic.h>
#include <string.h>

void trove_scan__fields_clear(scan_fields *f) {
  if (!f)
    return;
  trove_free(f->title);
  trove_free(f->author);
  trove_free(f->description);
  trove_free(f->language);
  trove_free(f->headings);
  trove_free(f->text);
  trove_free(f->blocks);
  trove_passages_free(&f->passages);
  trove_free(f->vecs);
  memset(f, 0, sizeof *f);
}

void trove_scan__item_free(void *item, void *ctx) {
  (void)ctx;
  scan_item *it = item;
  if (!it)
    return;
  trove_free(it->external_id);
  trove_free(it->path);
  trove_free(it->browser_title);
  trove_free(it->raw);
  trove_free(it->error);
  trove_free(it->etag);
  trove_free(it->last_modified);
  trove_free(it->old_hash);
  trove_free(it->final_url);
  trove_scan__fields_clear(&it->f);
  trove_free(it);
}

void trove_scan__sl_batch_free(void *batch, void *ctx) {
  sl_batch *b = batch;
  for (size_t i = 0; b && i < b->n; i++)
    trove_scan__item_free(b->items[i], ctx);
  sl_batch_free(b);
}

void trove_scan__batch_free(void *batch, void *ctx) {
  scan_batch *b = batch;
  if (!b)
    return;
  for (size_t i = 0; i < b->n; i++)
    trove_scan__item_free(b->items[i], ctx);
  trove_free(b);
}

int trove_scan__fatal(scan_ctx *c, const trove_err *e, int code) {
  pthread_mutex_lock(&c->lock);
  if (!c->fatal.code)
    trove_err_set(&c->fatal, code, "%s", e && e->msg[0] ? e->msg : trove_scan__strerror(code));
  pthread_mutex_unlock(&c->lock);
  atomic_store_explicit(&c->stop, true, memory_order_relaxed); /* a hint, see scan_ctx */
  return code;
}

int trove_scan__check_stop(scan_ctx *c) {
  /* relaxed: the flag publishes no data, a stage only has to see it soon */
  if (!c->cancel || !atomic_load_explicit(c->cancel, memory_order_relaxed))
    return 0;
  trove_err e = {0};
  trove_err_set(&e, TROVE_ECANCELED, "the scan was stopped before it finished; what it stored "
                "stays, and the next scan completes it");
  return trove_scan__fatal(c, &e, TROVE_ECANCELED);
}

void trove_scan__count_reason(scan_counts *k, const char *reason) {
  size_t cap = sizeof k->reasons / sizeof *k->reasons;
  size_t i = 0;
  while (i < k->n_reasons && strcmp(k->reasons[i].name, reason) != 0)
    i++;
  if (i == k->n_reasons && i == cap) { /* full: the last slot becomes "other" */
    i = cap - 1;
    k->reasons[i].name = "other";
  } else if (i == k->n_reasons) {
    k->n_reasons++;
    k->reasons[i].name = reason;
  }
  k->reasons[i].count++;
}

bool trove_scan__reason_transient(const char *reason) {
  if (!reason)
    return false;
  if (strcmp(reason, "error") == 0 || strcmp(reason, "unreadable") == 0)
    return true;
  for (int r = TROVE_FETCH_OK + 1; r < TROVE_FETCH_REASON_COUNT; r++)
    if (strcmp(reason, trove_fetch_reason_name(r)) == 0)
      return !trove_fetch_reason_is_permanent(r);
  return false;
}

bool trove_scan__code_is_fatal(int code) {
  return code == TROVE_EIO || code == TROVE_EBUSY || code == TROVE_ECORRUPT ||
         code == TROVE_ENOMEM || code == TROVE_EDB || code == TROVE_ENOENT;
}

void trove_scan__hash(const void *data, size_t len, char out[17]) {
  static const char hex[] = "0123456789abcdef";
  uint64_t h = 14695981039346656037ull; /* FNV-1a 64 offset basis */
  const unsigned char *p = data;
  for (size_t i = 0; i < len; i++)
    h = (h ^ p[i]) * 1099511628211ull;
  for (int i = 15; i >= 0; i--, h >>= 4)
    out[i] = hex[h & 15];
  out[16] = 0;
}
