/* source.c: the source iterator every kind shares. A source is an object
 * whose first member is struct trove_source (sources_int.h); this file fills
 * batches through the kind's ops, keeps the yielded count, and frees. The
 * kinds live in fs_walk.c, chromium.c, bookmarks.c and firefox.c. */
#include "sources_int.h"

#include <string.h>

void trove_batch_clear(trove_batch *b) {
  if (!b)
    return;
  for (size_t i = 0; i < b->n && i < TROVE_SOURCE_BATCH; i++) {
    trove_candidate *c = &b->items[i];
    trove_free(c->external_id);
    trove_free(c->title);
    trove_free(c->path);
    memset(c, 0, sizeof *c);
  }
  b->n = 0;
}

int trove_source_next(trove_source *src, trove_batch *b, trove_err *err) {
  if (!src || !b)
    return trove_err_set(err, TROVE_EINVAL, "trove_source_next: NULL %s", src ? "batch" : "source");
  trove_batch_clear(b);
  trove_err e = {0};
  int rc = src->ops->next(src, b, &e);
  if (rc != 0 && b->n == 0)
    return trove_err_set(err, rc, "%s", e.msg);
  /* a partial batch after ENOMEM is still a success: nothing was lost, and
   * the next call retries where this one stopped */
  src->stats.yielded += b->n;
  return (int)b->n;
}

void trove_source_get_stats(const trove_source *src, trove_source_stats *out) {
  if (!out)
    return;
  if (src)
    *out = src->stats;
  else
    memset(out, 0, sizeof *out);
}

void trove_source_unread_paths(const trove_source *src, const char *const **paths, size_t *n) {
  *paths = src ? (const char *const *)src->unread : NULL;
  *n = src ? src->n_unread : 0;
}

void trove_source_close(trove_source *src) {
  if (!src)
    return;
  for (size_t i = 0; i < src->n_unread; i++)
    trove_free(src->unread[i]);
  trove_free(src->unread);
  src->ops->destroy(src);
}
