/* store_search.c: keyword search over the FTS5 index, and the counts of
 * `trove stats`.
 *
 * User text never reaches FTS5's query parser as syntax. Each
 * whitespace-separated word becomes a quoted string ("C++" -> "C++", with
 * inner quotes doubled), so operators, parentheses, column filters and
 * stray quotes are just words, and a query can never be a syntax error. The
 * words are ANDed (FTS5's implicit operator), as a search box is expected
 * to behave. A trailing `*` is kept outside the quotes as a prefix search,
 * the one operator worth keeping. A word that tokenizes to nothing ("!!")
 * is an empty phrase, which FTS5 ignores.
 *
 * Ranking is bm25() with per-column weights bound as parameters: title,
 * headings and text (default 10, 4, 1). Hidden items and the source, type
 * and time filters are in the WHERE clause, before LIMIT: filtering after
 * taking the top N would make each hidden item cost the user a result.
 */
#include "store_int.h"

#include <string.h>

enum { DEFAULT_LIMIT = 10, DEFAULT_SNIPPET = 24, MAX_SNIPPET = 64 /* FTS5's cap */ };

/* Appends word[0..len) as a quoted FTS5 string, prefix-marked when it ends
 * in `*`, after `sep` when b holds words already. */
static int quote_word(trove_buf *b, const char *word, size_t len, const char *sep) {
  bool prefix = false;
  while (len > 1 && word[len - 1] == '*') {
    prefix = true;
    len--;
  }
  int rc = b->len ? trove_buf_puts(b, sep) : 0;
  rc = rc ? rc : trove_buf_putc(b, '"');
  for (size_t i = 0; i < len && rc == 0; i++)
    rc = word[i] == '"' ? trove_buf_puts(b, "\"\"") : trove_buf_putc(b, word[i]);
  return rc ? rc : trove_buf_puts(b, prefix ? "\"*" : "\"");
}

/* Turns user text into a safe FTS5 query in b, its words ANDed or (any)
 * ORed; b->len == 0 when no words. */
static int safe_query(const char *q, bool any, trove_buf *b) {
  const char *p = q;
  while (*p) {
    while (*p && strchr(" \t\r\n\f\v", *p))
      p++;
    const char *w = p;
    while (*p && !strchr(" \t\r\n\f\v", *p))
      p++;
    if (p > w && quote_word(b, w, (size_t)(p - w), any ? " OR " : " "))
      return TROVE_ENOMEM;
  }
  return 0;
}

/* The top `limit` items by BM25 are found first (the inner query, which
 * the sort needs for every match), and only they get a snippet: snippet()
 * re-reads an item's text, 1-4 ms for a long page, so computing it for
 * every match made a common word cost half a second. ?7 = 0: no snippet. */
static const char search_sql[] =
    "SELECT t.id, t.score, i.title, i.external_id,"
    " CASE WHEN ?7 > 0 THEN (SELECT snippet(items_fts, -1, ?5, ?6, '\xe2\x80\xa6', ?7)"
    "  FROM items_fts WHERE items_fts MATCH ?1 AND items_fts.rowid = t.id) END,"
    " s.name, i.type, i.is_link_hub"
    " FROM (SELECT items_fts.rowid AS id, -bm25(items_fts, ?2, ?3, ?4) AS score"
    "  FROM items_fts JOIN items j ON j.id = items_fts.rowid"
    "  WHERE items_fts MATCH ?1 AND j.hidden_at IS NULL"
    "  AND (?8 IS NULL OR j.source_id = ?8) AND (?9 IS NULL OR j.type = ?9)"
    "  AND (?11 = 0 OR " ST_ITEM_TIME("j") " >= ?11)"
    "  AND (?12 = 0 OR " ST_ITEM_TIME("j") " BETWEEN 1 AND ?12)"
    "  ORDER BY score DESC, items_fts.rowid LIMIT ?10) t"
    " JOIN items i ON i.id = t.id JOIN sources s ON s.id = i.source_id"
    " ORDER BY t.score DESC, t.id";

static void bind_search(sqlite3_stmt *s, const trove_buf *q, const trove_store_search_opts *o,
                        int64_t source_id) {
  int tokens = o->snippet_tokens > 0 ? o->snippet_tokens : o->snippet_tokens < 0 ? 0
                                                                        : DEFAULT_SNIPPET;
  sqlite3_bind_text64(s, 1, q->data, q->len, SQLITE_STATIC, SQLITE_UTF8);
  sqlite3_bind_double(s, 2, o->w_title > 0 ? o->w_title : 10.0);
  sqlite3_bind_double(s, 3, o->w_headings > 0 ? o->w_headings : 4.0);
  sqlite3_bind_double(s, 4, o->w_text > 0 ? o->w_text : 1.0);
  trove_store__bind_text(s, 5, o->mark_open ? o->mark_open : "[");
  trove_store__bind_text(s, 6, o->mark_close ? o->mark_close : "]");
  sqlite3_bind_int(s, 7, tokens < MAX_SNIPPET ? tokens : MAX_SNIPPET);
  if (source_id)
    sqlite3_bind_int64(s, 8, source_id);
  if (o->type != TROVE_ITEM_ANY)
    trove_store__bind_text(s, 9, trove_item_type_name(o->type));
  sqlite3_bind_int64(s, 10, o->limit ? (int64_t)o->limit : DEFAULT_LIMIT);
  sqlite3_bind_int64(s, 11, o->since);
  sqlite3_bind_int64(s, 12, o->until);
}

static void clear_hit(trove_store_hit *h) {
  trove_free(h->title);
  trove_free(h->external_id);
  trove_free(h->source);
  trove_free(h->snippet);
}

static int read_hit(sqlite3_stmt *s, trove_store_hit *h) {
  memset(h, 0, sizeof *h);
  h->item_id = sqlite3_column_int64(s, 0);
  h->score = sqlite3_column_double(s, 1);
  h->type = trove_item_type_parse((const char *)sqlite3_column_text(s, 6));
  h->is_link_hub = sqlite3_column_int(s, 7) != 0;
  if (trove_store__col_dup(s, 2, &h->title) && trove_store__col_dup(s, 3, &h->external_id) &&
      trove_store__col_dup(s, 4, &h->snippet) && trove_store__col_dup(s, 5, &h->source))
    return 0;
  clear_hit(h);
  return TROVE_ENOMEM;
}

static int hit_row(trove_store *st, sqlite3_stmt *s, void *elem, trove_err *err) {
  (void)st;
  return read_hit(s, elem) ? trove_err_set(err, TROVE_ENOMEM, "out of memory searching") : 0;
}

static void free_hits(void *v, size_t n) { trove_store_hits_free(v, n); }

static int run_search(trove_store *st, const trove_buf *q, const trove_store_search_opts *o,
                      int64_t source_id, trove_store_hit **out, size_t *n, trove_err *err) {
  sqlite3_stmt *s = NULL;
  int rc = sqlite3_prepare_v2(st->db, search_sql, -1, &s, NULL);
  if (rc != SQLITE_OK)
    return trove_store__fail(st, rc, "searching", err);
  bind_search(s, q, o, source_id);
  void *v = NULL;
  rc = trove_store__read_rows(st, s, sizeof **out, hit_row, free_hits, &v, n, "searching", err);
  *out = v;
  sqlite3_finalize(s);
  return rc;
}

int trove_store_search(trove_store *st, const char *query, const trove_store_search_opts *opts,
                       trove_store_hit **out, size_t *n, trove_err *err) {
  if (!st || !query || !out || !n)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_search: NULL argument");
  *out = NULL;
  *n = 0;
  trove_store_search_opts none = {0};
  const trove_store_search_opts *o = opts ? opts : &none;
  if ((unsigned)o->type > TROVE_ITEM_BOOKMARK)
    return trove_err_set(err, TROVE_EINVAL, "bad item type filter %d", (int)o->type);
  int64_t source_id = 0;
  int rc = o->source ? trove_store__source_id(st, o->source, &source_id, err) : 0;
  if (rc)
    return rc;
  trove_buf q = {0};
  if (safe_query(query, o->any_word, &q)) {
    rc = trove_err_set(err, TROVE_ENOMEM, "out of memory searching");
  } else if (q.len) {
    rc = run_search(st, &q, o, source_id, out, n, err);
  }
  trove_buf_free(&q);
  return rc;
}

void trove_store_hits_free(trove_store_hit *h, size_t n) {
  for (size_t i = 0; h && i < n; i++)
    clear_hit(&h[i]);
  trove_free(h);
}

static const char fields_sql[] =
    "SELECT -bm25(items_fts, 1, 0, 0), -bm25(items_fts, 0, 1, 0), -bm25(items_fts, 0, 0, 1)"
    " FROM items_fts WHERE items_fts MATCH ?1 AND items_fts.rowid = ?2";

int trove_store_bm25_fields(trove_store *st, const char *query,
                            const trove_store_search_opts *opts, int64_t item_id,
                            double out[3], trove_err *err) {
  if (!st || !query || !out)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_bm25_fields: NULL argument");
  out[0] = out[1] = out[2] = 0;
  trove_buf q = {0};
  sqlite3_stmt *s = NULL;
  int rc = safe_query(query, opts && opts->any_word, &q) ? SQLITE_NOMEM : SQLITE_OK;
  if (rc == SQLITE_OK && q.len) {
    rc = sqlite3_prepare_v2(st->db, fields_sql, -1, &s, NULL);
    if (rc == SQLITE_OK) {
      sqlite3_bind_text64(s, 1, q.data, q.len, SQLITE_STATIC, SQLITE_UTF8);
      sqlite3_bind_int64(s, 2, item_id);
      rc = sqlite3_step(s);
      for (int i = 0; rc == SQLITE_ROW && i < 3; i++)
        out[i] = sqlite3_column_double(s, i);
      rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    sqlite3_finalize(s);
  }
  trove_buf_free(&q);
  return rc == SQLITE_OK ? 0 : trove_store__fail(st, rc, "explaining a keyword score", err);
}

/* ---- stats ------------------------------------------------------------------ */

static int stats_sources(trove_store *st, trove_store_stats *out, trove_err *err) {
  sqlite3_stmt *s = NULL;
  size_t cap = 0;
  int rc = sqlite3_prepare_v2(st->db,
      "SELECT s.name, count(i.id), count(i.hidden_at), count(i.skip_reason),"
      " (SELECT count(*) FROM passages p JOIN items j ON j.id = p.item_id"
      "  WHERE j.source_id = s.id), count(nullif(i.expired_at, 0))"
      " FROM sources s LEFT JOIN items i ON i.source_id = s.id GROUP BY s.id ORDER BY s.name",
      -1, &s, NULL);
  while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    rc = SQLITE_OK; /* keep stepping */
    void *v = out->sources;
    if (trove_store__grow(&v, &cap, out->n_sources, sizeof *out->sources)) {
      rc = SQLITE_NOMEM;
      break;
    }
    out->sources = v;
    trove_store_source_stats *x = &out->sources[out->n_sources];
    *x = (trove_store_source_stats){.items = sqlite3_column_int64(s, 1),
                                    .hidden = sqlite3_column_int64(s, 2),
                                    .skipped = sqlite3_column_int64(s, 3),
                                    .passages = sqlite3_column_int64(s, 4),
                                    .expired = sqlite3_column_int64(s, 5)};
    out->expired += x->expired;
    if (!trove_store__col_dup(s, 0, &x->name)) {
      rc = SQLITE_NOMEM;
      break;
    }
    out->n_sources++;
  }
  sqlite3_finalize(s);
  return rc == SQLITE_DONE ? 0 : trove_store__fail(st, rc, "counting items", err);
}

static int stats_reasons(trove_store *st, trove_store_stats *out, trove_err *err) {
  sqlite3_stmt *s = NULL;
  size_t cap = 0;
  int rc = sqlite3_prepare_v2(st->db, "SELECT skip_reason, count(*) FROM items WHERE"
                              " skip_reason IS NOT NULL GROUP BY skip_reason"
                              " ORDER BY 2 DESC, 1", -1, &s, NULL);
  while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    rc = SQLITE_OK; /* keep stepping */
    void *v = out->reasons;
    if (trove_store__grow(&v, &cap, out->n_reasons, sizeof *out->reasons)) {
      rc = SQLITE_NOMEM;
      break;
    }
    out->reasons = v;
    trove_store_reason_count *x = &out->reasons[out->n_reasons];
    x->count = sqlite3_column_int64(s, 1);
    if (!trove_store__col_dup(s, 0, &x->reason)) {
      rc = SQLITE_NOMEM;
      break;
    }
    out->n_reasons++;
  }
  sqlite3_finalize(s);
  return rc == SQLITE_DONE ? 0 : trove_store__fail(st, rc, "counting skip reasons", err);
}

static int stats_totals(trove_store *st, trove_store_stats *out, trove_err *err) {
  sqlite3_stmt *s = NULL;
  int rc = sqlite3_prepare_v2(st->db,
      "SELECT (SELECT count(*) FROM items), (SELECT count(*) FROM passages),"
      " (SELECT count(*) FROM passage_vectors),"
      " (SELECT c.page_count * z.page_size FROM pragma_page_count() c, pragma_page_size() z)",
      -1, &s, NULL);
  if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    out->items = sqlite3_column_int64(s, 0);
    out->passages = sqlite3_column_int64(s, 1);
    out->vectors = sqlite3_column_int64(s, 2);
    out->db_bytes = sqlite3_column_int64(s, 3);
    rc = SQLITE_DONE;
  }
  sqlite3_finalize(s);
  return rc == SQLITE_DONE ? 0 : trove_store__fail(st, rc, "counting totals", err);
}

int trove_store_stats_get(trove_store *st, trove_store_stats *out, trove_err *err) {
  if (!st || !out)
    return trove_err_set(err, TROVE_EINVAL, "trove_store_stats_get: NULL argument");
  memset(out, 0, sizeof *out);
  int rc = stats_sources(st, out, err);
  if (rc == 0)
    rc = stats_reasons(st, out, err);
  if (rc == 0)
    rc = stats_totals(st, out, err);
  if (rc)
    trove_store_stats_clear(out);
  return rc;
}

void trove_store_stats_clear(trove_store_stats *s) {
  if (!s)
    return;
  for (size_t i = 0; s->sources && i < s->n_sources; i++)
    trove_free(s->sources[i].name);
  for (size_t i = 0; s->reasons && i < s->n_reasons; i++)
    trove_free(s->reasons[i].reason);
  trove_free(s->sources);
  trove_free(s->reasons);
  memset(s, 0, sizeof *s);
}
