/* highlight.c: the best passage of a result item and the sentence in it to
 * mark. The passage is the item's best vector hit when it has one (the
 * model judged it closest); otherwise (keyword-only hits) the passage
 * sharing the most query terms. The sentence is the one sharing the most
 * terms; when none shares any (a paraphrase), the sentences of that one
 * passage are embedded and the closest to the query vector is marked: at
 * most MAX_SENT short texts per result, so a page of 10 results costs about
 * one embed batch. */
#include "search_int.h"

#include "passage.h"

#include <string.h>

enum { MAX_SENT = 24 }; /* sentences embedded per passage, at most */

static int pick_by_cosine(const trove_embedder *e, const char *text, const trove_spans *s,
                          const float *qv, size_t *best, trove_err *err) {
  size_t n = s->n < MAX_SENT ? s->n : MAX_SENT, dim = trove_embedder_dim(e), bytes;
  if (!trove_mul_ok(n * dim, sizeof(float), &bytes))
    return TROVE_ENOMEM;
  float *v = trove_malloc(bytes);
  const char *texts[MAX_SENT];
  size_t lens[MAX_SENT];
  if (!v)
    return TROVE_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    texts[i] = text + s->v[i].start;
    lens[i] = s->v[i].end - s->v[i].start;
  }
  int rc = trove_embedder_embed_batch(e, texts, lens, n, v, err);
  if (!rc) {
    float bs = -2;
    for (size_t i = 0; i < n; i++) {
      float d = 0;
      for (size_t k = 0; k < dim; k++)
        d += v[i * dim + k] * qv[k];
      if (d > bs) {
        bs = d;
        *best = i;
      }
    }
  }
  trove_free(v);
  return rc;
}

int search__highlight(trove_store *st, const trove_embedder *e, const trove_store_item *it,
                      int64_t passage_id, const search_terms *terms, const float *qv,
                      trove_search_result *r, trove_err *err) {
  const char *text = it->text ? it->text : "";
  size_t tlen = strlen(text);
  int64_t a = 0, b = 0;
  const char *heading = NULL;
  trove_store_passage one = {0}, *all = NULL;
  size_t n_all = 0;
  int rc = 0;
  if (passage_id > 0) {
    int64_t item = 0;
    rc = trove_store_passage_get(st, passage_id, &item, &one, err);
    if (rc == TROVE_ENOENT || (rc == 0 && item != it->id)) {
      /* a scan rewrote the item since the search found the passage: its
       * passages are new, so the best of them by the terms stands in */
      trove_free((char *)one.heading);
      memset(&one, 0, sizeof one);
      trove_err_clear(err);
      passage_id = 0, rc = 0;
    } else if (rc) {
      return rc;
    } else {
      a = one.start;
      b = one.end;
      heading = one.heading;
      r->passage_id = passage_id;
    }
  }
  if (passage_id <= 0) {
    if ((rc = trove_store_passages_get(st, it->id, &all, &n_all, err)))
      return rc;
    double best = -1;
    for (size_t i = 0; i < n_all; i++) {
      if (all[i].start < 0 || all[i].end > (int64_t)tlen || all[i].start >= all[i].end)
        continue;
      double o = search__overlap(terms, text + all[i].start, (size_t)(all[i].end - all[i].start));
      if (o > best) {
        best = o;
        a = all[i].start;
        b = all[i].end;
        heading = all[i].heading;
        r->passage_id = all[i].id;
      }
    }
  }
  if (a < 0 || b > (int64_t)tlen || a > b)
    a = b = 0; /* a span outside the text: the store guards this; be safe */
  trove_spans s = {0};
  if (b > a) {
    r->passage = trove_strndup(text + a, (size_t)(b - a));
    if (heading)
      r->heading = trove_strdup(heading);
    if (!r->passage || (heading && !r->heading)) {
      rc = TROVE_ENOMEM;
      goto out;
    }
    size_t plen = (size_t)(b - a);
    if ((rc = trove_sentences_split(r->passage, plen, &s)))
      goto out;
    size_t best_i = 0;
    double best = 0;
    for (size_t i = 0; i < s.n; i++) {
      double o = search__overlap(terms, r->passage + s.v[i].start, s.v[i].end - s.v[i].start);
      if (o > best) {
        best = o;
        best_i = i;
      }
    }
    if (best == 0 && qv && e && s.n > 1)
      rc = pick_by_cosine(e, r->passage, &s, qv, &best_i, err);
    if (!rc && s.n) {
      r->mark_start = s.v[best_i].start;
      r->mark_end = s.v[best_i].end;
    }
  }
out:
  if (rc == TROVE_ENOMEM)
    trove_err_keep(err, rc, "search: out of memory building a highlight");
  trove_spans_free(&s);
  trove_free((char *)one.heading);
  trove_store_passages_free(all, n_all);
  return rc;
}
