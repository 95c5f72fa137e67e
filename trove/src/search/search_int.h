/* search_int.h: what the files of trove/src/search/ share (search__ calls).
 * Not part of the module's interface; search.h is. */
#ifndef TROVE_SEARCH_INT_H
#define TROVE_SEARCH_INT_H

#include "search.h"

enum { SEARCH_MAX_TERMS = 16 }; /* query words used outside FTS5 */

/* The query's content words, lower-case, stop words and repeats dropped. */
typedef struct search_terms {
  char *v[SEARCH_MAX_TERMS];
  size_t n;
} search_terms;

/* Fills t from q (NULL gives none). 0 or TROVE_ENOMEM (t empty). */
int trove_search__terms_parse(const char *q, search_terms *t);
void trove_search__terms_free(search_terms *t);
/* How well len bytes of text match t: distinct terms found, plus 0.01 per
 * occurrence (capped). 0 when none. */
double trove_search__overlap(const search_terms *t, const char *text, size_t len);

/* Fills r's passage, heading, mark and passage_by for item `it` (its text
 * loaded): passage_id when > 0 is the best vector passage, kept when it
 * holds a query term or !prefer_words; otherwise, or when it is gone since
 * (a scan rewrote the item meanwhile), the passage with the best term
 * overlap is chosen (with passage_id > 0 still there, only one that has a
 * term). qv (dim floats, may be NULL) scores sentences by cosine when no
 * sentence shares a term with the query. */
int trove_search__highlight(trove_store *st, const trove_embedder *e, const trove_store_item *it,
                            int64_t passage_id, const search_terms *terms, const float *qv,
                            bool prefer_words, trove_search_result *r, trove_err *err);

#endif /* TROVE_SEARCH_INT_H */
