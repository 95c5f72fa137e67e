/* highlight.c: the best passage of a result item and the sentence in it to
 * mark. A passage that holds the query's words explains a result best, so
 * the passage is the item's best vector hit when it holds a query term (or
 * the search is semantic), else the passage sharing the most terms, else
 * (a paraphrase: no passage holds one) the best vector hit still; items
 * found by keyword only get the passage sharing the most terms. The result
 * says which (passage_by). The sentence is the one sharing the most
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

const char *trove_passage_by_name(trove_passage_by b) {
  return b == TROVE_PASSAGE_WORDS ? "words" : b == TROVE_PASSAGE_MEANING ? "meaning" : "none";
}

/* How many query terms the span [a, b) of text holds (trove_search__overlap);
 * 0 for a span outside the text. */
static double span_overlap(const search_terms *t, const char *text, size_t tlen, int64_t a,
                           int64_t b) {
  if (a < 0 || b > (int64_t)tlen || a >= b)
    return 0;
  return trove_search__overlap(t, text + a, (size_t)(b - a));
}

int trove_search__highlight(trove_store *st, const trove_embedder *e, const trove_store_item *it,
                            int64_t passage_id, const search_terms *terms, const float *qv,
                            bool prefer_words, trove_search_result *r, trove_err *err) {
  const char *text = it->text ? it->text : "";
  size_t tlen = strlen(text);
  int64_t a = 0, b = 0;
  const char *heading = NULL;
  trove_store_passage one = {0}, *all = NULL;
  size_t n_all = 0;
  trove_spans s = {0};
  int rc = 0;
  r->passage_by = TROVE_PASSAGE_NONE;
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
      r->passage_by = span_overlap(terms, text, tlen, a, b) > 0 ? TROVE_PASSAGE_WORDS
                                                                : TROVE_PASSAGE_MEANING;
    }
  }
  /* no vector passage (or it is gone), or one without the query's words
   * where another passage has them: the passage with the most terms */
  if (passage_id <= 0 || (prefer_words && terms->n && r->passage_by == TROVE_PASSAGE_MEANING)) {
    if ((rc = trove_store_passages_get(st, it->id, &all, &n_all, err)))
      goto out;
    double best = passage_id > 0 ? 0 : -1; /* a vector passage is replaced only by words */
    for (size_t i = 0; i < n_all; i++) {
      if (all[i].start < 0 || all[i].end > (int64_t)tlen || all[i].start >= all[i].end)
        continue;
      double o = span_overlap(terms, text, tlen, all[i].start, all[i].end);
      if (o > best) {
        best = o;
        a = all[i].start;
        b = all[i].end;
        heading = all[i].heading;
        r->passage_id = all[i].id;
        r->passage_by = o > 0 ? TROVE_PASSAGE_WORDS : TROVE_PASSAGE_NONE;
      }
    }
  }
  if (a < 0 || b > (int64_t)tlen || a > b)
    a = b = 0; /* a span outside the text: the store guards this; be safe */
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
      double o = trove_search__overlap(terms, r->passage + s.v[i].start, s.v[i].end - s.v[i].start);
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
