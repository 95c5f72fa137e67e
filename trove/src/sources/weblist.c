/* weblist.c: the web candidates of a browser source, collected whole, then
 * normalised, sorted and merged so each URL appears once. Browsers keep one
 * row per URL-with-fragment (and Firefox one per bookmark too), so
 * "https://a/x#top" and "https://A/x" are one page to trove.
 *
 * Collect-then-sort was chosen over a hash map: the list must be held whole
 * anyway (the database copy is deleted at open), sorting is O(n log n) with
 * no extra memory, and merging neighbours needs no allocation, so finishing
 * cannot fail. The merge rules are in sources_int.h beside trove_sources__weblist_finish. */
#include "sources_int.h"

#include <stdlib.h>
#include <string.h>

static void cand_free(trove_candidate *c) {
  trove_free(c->external_id);
  trove_free(c->title);
  trove_free(c->path);
  memset(c, 0, sizeof *c);
}

int trove_sources__weblist_add(weblist *l, trove_source_stats *st, const char *url,
                               const char *title, trove_item_type type, int64_t time_us,
                               int64_t visited_us) {
  if (!url || !trove_utf8_valid(url, strlen(url))) {
    st->bad_rows++;
    return 0;
  }
  char *norm = NULL;
  int rc = trove_url_normalize(url, &norm);
  if (rc == TROVE_EINVAL) {
    st->not_http++;
    return 0;
  }
  if (rc)
    return rc;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 256, bytes;
    trove_candidate *v = NULL;
    if (trove_mul_ok(cap, sizeof *v, &bytes))
      v = trove_realloc(l->v, bytes);
    if (!v)
      goto fail_free_norm;
    l->v = v;
    l->cap = cap;
  }
  char *t = NULL;
  if (title && *title && trove_utf8_valid(title, strlen(title)) && !(t = trove_strdup(title)))
    goto fail_free_norm;
  l->v[l->n++] = (trove_candidate){.external_id = norm,
                                   .title = t,
                                   .path = NULL,
                                   .type = type,
                                   .time_us = time_us,
                                   .visited_us = visited_us,
                                   .size = -1};
  return 0;

fail_free_norm:
  trove_free(norm);
  return TROVE_ENOMEM;
}

static int cmp_int64(int64_t a, int64_t b) { return (a > b) - (a < b); }

/* Orders by URL, then bookmarks first, then by time, then title, so the
 * merge below sees a deterministic order. */
static int cand_cmp(const void *pa, const void *pb) {
  const trove_candidate *a = pa, *b = pb;
  int c = strcmp(a->external_id, b->external_id);
  if (c)
    return c;
  if (a->type != b->type)
    return a->type == TROVE_ITEM_BOOKMARK ? -1 : 1;
  if ((c = cmp_int64(a->time_us, b->time_us)))
    return c;
  return strcmp(a->title ? a->title : "", b->title ? b->title : "");
}

/* Merges b into acc (same URL; acc sorts first, so a bookmark, if any, is
 * acc) and frees b's strings. */
static void merge(trove_candidate *acc, trove_candidate *b) {
  bool b_wins; /* b's time and, when it has one, b's title replace acc's */
  if (acc->type != b->type)
    b_wins = false; /* acc is the bookmark */
  else if (acc->type == TROVE_ITEM_BOOKMARK)
    b_wins = b->time_us != 0 && (acc->time_us == 0 || b->time_us < acc->time_us);
  else
    b_wins = b->time_us > acc->time_us;
  if (b_wins)
    acc->time_us = b->time_us;
  if ((b_wins && b->title) || !acc->title) {
    char *t = acc->title;
    acc->title = b->title;
    b->title = t;
  }
  if (b->visited_us > acc->visited_us)
    acc->visited_us = b->visited_us;
  cand_free(b);
}

void trove_sources__weblist_finish(weblist *l, trove_source_stats *st) {
  if (l->n == 0)
    return;
  qsort(l->v, l->n, sizeof *l->v, cand_cmp);
  size_t out = 0;
  for (size_t i = 1; i < l->n; i++) {
    if (strcmp(l->v[out].external_id, l->v[i].external_id) == 0) {
      merge(&l->v[out], &l->v[i]);
      st->duplicates++;
    } else {
      l->v[++out] = l->v[i];
    }
  }
  l->n = out + 1;
  l->pos = 0;
}

void trove_sources__weblist_free(weblist *l) {
  for (size_t i = l->pos; i < l->n; i++)
    cand_free(&l->v[i]);
  trove_free(l->v);
  memset(l, 0, sizeof *l);
}

typedef struct web_source {
  trove_source base;
  weblist list;
} web_source;

/* Moves candidates into the batch: no allocation, so it never fails. */
static int web_next(trove_source *src, trove_batch *b, trove_err *err) {
  (void)err;
  web_source *w = (web_source *)src;
  while (b->n < TROVE_SOURCE_BATCH && w->list.pos < w->list.n) {
    b->items[b->n++] = w->list.v[w->list.pos];
    memset(&w->list.v[w->list.pos++], 0, sizeof(trove_candidate));
  }
  return 0;
}

static void web_destroy(trove_source *src) {
  web_source *w = (web_source *)src;
  trove_sources__weblist_free(&w->list);
  trove_free(w);
}

static const source_ops web_ops = {web_next, web_destroy};

int trove_sources__weblist_source(weblist *l, const trove_source_stats *st, trove_source **out) {
  web_source *w = trove_calloc(1, sizeof *w);
  if (!w) {
    trove_sources__weblist_free(l);
    return TROVE_ENOMEM;
  }
  w->base.ops = &web_ops;
  w->base.stats = *st;
  w->list = *l;
  memset(l, 0, sizeof *l);
  *out = &w->base;
  return 0;
}
