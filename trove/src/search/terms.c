/* terms.c: the query's words as search uses them outside FTS5: stop words
 * dropped (so an all-words BM25 query is not sunk by "how do I"), and a
 * loose match of a term against text (case-insensitive, one word a prefix of
 * the other when the shorter has 4+ letters: "socket" finds "sockets",
 * "delay" finds "delayed") for choosing the best passage and sentence. */
#include "search_int.h"

#include <string.h>

static const char *const stop[] = {
    "a",     "an",   "the",  "of",   "to",    "in",   "on",    "for",  "with", "and",
    "or",    "is",   "are",  "how",  "do",    "does", "i",     "what", "which", "by",
    "from",  "my",   "it",   "be",   "can",   "that", "this",  "into", "when", "at",
    "as",    "me",   "you",  "your", "there", "some", "way",   "get",  "its",  "if",
    "about", "want", "need", "should", "so",  "was",  "were",  "has",  "have", "not",
    "than",  "then", "them", "they", "we",    "our",  "one",   "any",  "all",  "out"};

static bool word_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c >= 0x80;
}

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }

void trove_search__terms_free(search_terms *t) {
  for (size_t i = 0; i < t->n; i++)
    trove_free(t->v[i]);
  t->n = 0;
}

int trove_search__terms_parse(const char *q, search_terms *t) {
  t->n = 0;
  if (!q)
    return 0;
  size_t i = 0, len = strlen(q);
  while (i < len && t->n < SEARCH_MAX_TERMS) {
    while (i < len && !word_char((unsigned char)q[i]))
      i++;
    size_t a = i;
    while (i < len && word_char((unsigned char)q[i]))
      i++;
    size_t wl = i - a;
    if (!wl || wl > 64)
      continue;
    char w[65];
    for (size_t k = 0; k < wl; k++)
      w[k] = lower(q[a + k]);
    w[wl] = '\0';
    bool skip = false;
    for (size_t k = 0; k < sizeof stop / sizeof *stop && !skip; k++)
      skip = strcmp(w, stop[k]) == 0;
    for (size_t k = 0; k < t->n && !skip; k++)
      skip = strcmp(w, t->v[k]) == 0;
    if (skip)
      continue;
    if (!(t->v[t->n] = trove_strdup(w))) {
      trove_search__terms_free(t);
      return TROVE_ENOMEM;
    }
    t->n++;
  }
  return 0;
}

/* Does text word [w, w+wl) (wl > 0) match term? The first letters are
 * compared before the term's length is taken: most words of a text fail
 * there, and this runs for every word of every result's passages. */
static bool word_matches(const char *w, size_t wl, const char *term) {
  if (lower(w[0]) != term[0])
    return false;
  size_t tl = strlen(term), m = wl < tl ? wl : tl;
  for (size_t k = 0; k < m; k++)
    if (lower(w[k]) != term[k])
      return false;
  return wl == tl || m >= 4;
}

double trove_search__overlap(const search_terms *t, const char *text, size_t len) {
  if (!t->n)
    return 0;
  bool seen[SEARCH_MAX_TERMS] = {false};
  size_t hits = 0, distinct = 0, i = 0;
  while (i < len) {
    while (i < len && !word_char((unsigned char)text[i]))
      i++;
    size_t a = i;
    while (i < len && word_char((unsigned char)text[i]))
      i++;
    for (size_t k = 0; k < t->n && i > a; k++)
      if (word_matches(text + a, i - a, t->v[k])) {
        hits++;
        if (!seen[k]) {
          seen[k] = true;
          distinct++;
        }
      }
  }
  /* distinct terms dominate; repeats break ties */
  return (double)distinct + 0.01 * (double)(hits < 100 ? hits : 100);
}
