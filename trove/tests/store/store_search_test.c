/* store_search_test.c: keyword search over FTS5: column weights, filters,
 * hidden items not shortening the list (perceive's bug), user text that is
 * never FTS5 syntax, prefixes, stemming, snippets, the index following
 * updates and deletes, and trove_store_check catching an index out of sync.
 */
#include "fixture.h"

#include <sqlite3.h>

static int64_t put(env *v, const char *ext, const char *title, const char *headings,
                   const char *text) {
  trove_store_item it = fx_item(ext, title, text, 1);
  it.headings = headings;
  int64_t id = 0;
  CHECK(trove_store_item_upsert(v->st, v->src, &it, &id, NULL) == 0);
  return id;
}

/* Searches and returns the number of hits; hits[0] goes to *first. */
static size_t count_hits(env *v, const char *q, const trove_store_search_opts *o,
                         int64_t *first) {
  trove_store_hit *h = NULL;
  size_t n = 99;
  trove_err e = {0};
  int rc = trove_store_search(v->st, q, o, &h, &n, &e);
  if (rc)
    fprintf(stderr, "search %s: %s\n", q, e.msg);
  CHECK(rc == 0);
  if (first)
    *first = n ? h[0].item_id : 0;
  for (size_t i = 1; i < n; i++)
    CHECK(h[i - 1].score >= h[i].score);
  trove_store_hits_free(h, n);
  return rc ? 0 : n;
}

static void search_weights_put_title_and_headings_first(void) {
  env v;
  env_init(&v);
  int64_t in_title = put(&v, "/t", "Zebra care", NULL, "animals of the plain and their habits");
  int64_t in_body = put(&v, "/b", "Savanna", NULL,
                        "the zebra and the zebra foal run with zebra herds");
  int64_t in_head = put(&v, "/h", "Grassland", "Zebra stripes", "about patterns in nature");
  int64_t first;
  CHECK(count_hits(&v, "zebra", NULL, &first) == 3 && first == in_title);
  trove_store_search_opts o = {.w_title = 0.01, .w_headings = 0.01, .w_text = 10};
  CHECK(count_hits(&v, "zebra", &o, &first) == 3 && first == in_body);
  o = (trove_store_search_opts){.w_title = 0.01, .w_headings = 50, .w_text = 1};
  CHECK(count_hits(&v, "zebra", &o, &first) == 3 && first == in_head);
  env_done(&v);
}

static void search_hidden_items_do_not_shorten_the_list(void) {
  env v;
  env_init(&v);
  trove_err e = {0};
  int64_t ids[15];
  char ext[16], title[32];
  CHECK(trove_store_begin(v.st, &e) == 0);
  for (int i = 0; i < 15; i++) {
    snprintf(ext, sizeof ext, "/%d", i);
    snprintf(title, sizeof title, i < 5 ? "needle needle %d" : "hay %d", i);
    ids[i] = put(&v, ext, title, NULL, "a needle in the haystack");
  }
  CHECK(trove_store_commit(v.st, &e) == 0);
  for (int i = 0; i < 5; i++) /* the five best matches */
    CHECK(trove_store_item_set_hidden(v.st, ids[i], true, &e) == 0);
  trove_store_search_opts o = {.limit = 10};
  trove_store_hit *h = NULL;
  size_t n = 0;
  CHECK(trove_store_search(v.st, "needle", &o, &h, &n, &e) == 0 && n == 10);
  for (size_t i = 0; i < n; i++)
    CHECK(h[i].item_id > ids[4]);
  trove_store_hits_free(h, n);
  CHECK(count_hits(&v, "needle", &(trove_store_search_opts){.limit = 100}, NULL) == 10);
  CHECK(trove_store_item_set_hidden(v.st, ids[0], false, &e) == 0);
  CHECK(count_hits(&v, "needle", &(trove_store_search_opts){.limit = 100}, NULL) == 11);
  env_done(&v);
}

static void search_filters_by_source_and_type(void) {
  env v;
  env_init(&v);
  trove_err e = {0};
  int64_t web;
  CHECK(trove_store_source_add(v.st, "hist", "chromium-history", "/p", NULL, &web, &e) == 0);
  int64_t local = put(&v, "/l", "Rust notes", NULL, "ownership");
  trove_store_item it = fx_item("https://x", "Rust blog", "borrowing", 1);
  it.type = TROVE_ITEM_WEB;
  int64_t w;
  CHECK(trove_store_item_upsert(v.st, web, &it, &w, &e) == 0);
  it = fx_item("https://y", "Rust book", "lifetimes", 1);
  it.type = TROVE_ITEM_BOOKMARK;
  CHECK(trove_store_item_upsert(v.st, web, &it, NULL, &e) == 0);
  int64_t first;
  CHECK(count_hits(&v, "rust", NULL, NULL) == 3);
  CHECK(count_hits(&v, "rust", &(trove_store_search_opts){.source = "docs"}, &first) == 1 &&
        first == local);
  CHECK(count_hits(&v, "rust", &(trove_store_search_opts){.source = "hist"}, NULL) == 2);
  CHECK(count_hits(&v, "rust", &(trove_store_search_opts){.type = TROVE_ITEM_WEB}, &first) ==
        1 && first == w);
  CHECK(count_hits(&v, "rust", &(trove_store_search_opts){.source = "hist",
                   .type = TROVE_ITEM_LOCAL}, NULL) == 0);
  trove_store_hit *h = NULL;
  size_t n;
  CHECK(trove_store_search(v.st, "rust", &(trove_store_search_opts){.source = "nope"}, &h, &n,
                           &e) == TROVE_ENOENT);
  CHECK(strstr(e.msg, "nope") != NULL);
  CHECK(trove_store_search(v.st, "rust", &(trove_store_search_opts){.type = 9}, &h, &n, &e) ==
        TROVE_EINVAL);
  CHECK(trove_store_search(v.st, NULL, NULL, &h, &n, &e) == TROVE_EINVAL);
  CHECK(trove_item_type_parse("web") == TROVE_ITEM_WEB);
  CHECK(trove_item_type_parse("nope") == TROVE_ITEM_ANY);
  CHECK(strcmp(trove_item_type_name(TROVE_ITEM_BOOKMARK), "bookmark") == 0);
  env_done(&v);
}

/* --since/--until: a page by its last visit, a file by its mtime, an item
 * with neither only without bounds; the keyword search and the passage
 * list a filtered vector search uses agree. */
static void search_filters_by_time(void) {
  env v;
  env_init(&v);
  trove_err e = {0};
  int64_t web, page, file, mark;
  CHECK(trove_store_source_add(v.st, "hist", "chromium-history", "/p", NULL, &web, &e) == 0);
  trove_store_item it = fx_item("https://x", "Otter page", "otters", 1);
  it.type = TROVE_ITEM_WEB;
  it.mtime_us = 0;
  it.last_visited = 1000000; /* visited: its time, whatever the mtime */
  CHECK(trove_store_item_upsert(v.st, web, &it, &page, &e) == 0);
  it = fx_item("/f", "Otter file", "otters", 1);
  it.mtime_us = INT64_C(2000000) * 1000000 + 999999;
  CHECK(trove_store_item_upsert(v.st, v.src, &it, &file, &e) == 0);
  it = fx_item("https://y", "Otter mark", "otters", 1);
  it.type = TROVE_ITEM_BOOKMARK;
  it.mtime_us = 0;
  CHECK(trove_store_item_upsert(v.st, web, &it, &mark, &e) == 0);
  int64_t first = 0;
  CHECK(count_hits(&v, "otters", NULL, NULL) == 3);
  CHECK(count_hits(&v, "otters", &(trove_store_search_opts){.since = 1500000}, &first) == 1 &&
        first == file);
  CHECK(count_hits(&v, "otters", &(trove_store_search_opts){.until = 1500000}, &first) == 1 &&
        first == page);
  CHECK(count_hits(&v, "otters", &(trove_store_search_opts){.since = 1000000,
                   .until = 2000000}, NULL) == 2); /* both bounds inclusive, to the second */
  CHECK(count_hits(&v, "otters", &(trove_store_search_opts){.since = 1000001,
                   .until = 1999999}, NULL) == 0);
  trove_store_item got = {0};
  CHECK(trove_store_item_get(v.st, file, false, &got, &e) == 0 &&
        trove_store_item_time(&got) == 2000000);
  trove_store_item_clear(&got);
  CHECK(trove_store_item_get(v.st, page, false, &got, &e) == 0 &&
        trove_store_item_time(&got) == 1000000);
  trove_store_item_clear(&got);
  int64_t ids[3] = {page, file, mark};
  for (int i = 0; i < 3; i++) {
    trove_store_passage p = {.ordinal = 0, .start = 0, .end = 6};
    CHECK(trove_store_passages_replace(v.st, ids[i], &p, 1, NULL, NULL, &e) == 0);
  }
  trove_store_ids all = {0}, late = {0}, early = {0};
  CHECK(trove_store_passage_ids_where(v.st, 0, TROVE_ITEM_ANY, 0, 0, &all, &e) == 0);
  CHECK(trove_store_passage_ids_where(v.st, 0, TROVE_ITEM_ANY, 1500000, 0, &late, &e) == 0);
  CHECK(trove_store_passage_ids_where(v.st, web, TROVE_ITEM_ANY, 0, 1500000, &early, &e) == 0);
  CHECK(all.n == 3 && late.n == 1 && early.n == 1);
  trove_store_ids_free(&all);
  trove_store_ids_free(&late);
  trove_store_ids_free(&early);
  env_done(&v);
}

static void search_user_text_is_never_fts_syntax(void) {
  env v;
  env_init(&v);
  put(&v, "/c", "C++ templates", NULL, "a \"quoted\" NEAR(thing) with title:colons AND more");
  static const char *queries[] = {
      "C++", "\"unbalanced", "NEAR(", "title:foo", "AND", "OR NOT", "*", "(", ")", "-x",
      "a\"b", "", "   \t\n", "\"\"", "^start", "col:*", "{title}:x", "x + y", "NOT",
      "\xe6\x97\xa5\xe6\x9c\xac", "caf\xc3\xa9", "\xff\xfe broken utf8", "a*b", "**"};
  for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
    trove_store_hit *h = NULL;
    size_t n = 99;
    trove_err e = {0};
    int rc = trove_store_search(v.st, queries[i], NULL, &h, &n, &e);
    if (rc)
      fprintf(stderr, "query %zu (%s): %s\n", i, queries[i], e.msg);
    CHECK(rc == 0);
    trove_store_hits_free(h, n);
  }
  CHECK(count_hits(&v, "c++", NULL, NULL) == 1);
  CHECK(count_hits(&v, "\"quoted", NULL, NULL) == 1);
  CHECK(count_hits(&v, "NEAR(thing)", NULL, NULL) == 1);
  CHECK(count_hits(&v, "title:colons", NULL, NULL) == 1);
  CHECK(count_hits(&v, "", NULL, NULL) == 0);
  CHECK(count_hits(&v, "templates absent", NULL, NULL) == 0); /* words are ANDed */
  env_done(&v);
}

static void search_prefix_stemming_and_diacritics_match(void) {
  env v;
  env_init(&v);
  put(&v, "/p", "Parser", NULL, "we parse the caf\xc3\xa9 menu");
  CHECK(count_hits(&v, "pars*", NULL, NULL) == 1);
  CHECK(count_hits(&v, "parsing", NULL, NULL) == 1);
  CHECK(count_hits(&v, "cafe", NULL, NULL) == 1);
  CHECK(count_hits(&v, "menus", NULL, NULL) == 1);
  CHECK(count_hits(&v, "parz*", NULL, NULL) == 0);
  env_done(&v);
}

static void search_snippet_marks_the_matching_words(void) {
  env v;
  env_init(&v);
  int64_t id = put(&v, "/s", "Title", NULL,
                   "long text before the interesting word comes along and then more text");
  trove_store_search_opts o = {.mark_open = "<b>", .mark_close = "</b>", .snippet_tokens = 6};
  trove_store_hit *h = NULL;
  size_t n = 0;
  trove_err e = {0};
  CHECK(trove_store_search(v.st, "interesting", &o, &h, &n, &e) == 0 && n == 1);
  CHECK(n == 1 && h[0].item_id == id && h[0].score > 0);
  CHECK(n == 1 && strstr(h[0].snippet, "<b>interesting</b>") != NULL);
  CHECK(n == 1 && strcmp(h[0].title, "Title") == 0 && strcmp(h[0].external_id, "/s") == 0);
  CHECK(n == 1 && strcmp(h[0].source, "docs") == 0 && h[0].type == TROVE_ITEM_LOCAL);
  CHECK(n == 1 && !h[0].is_link_hub);
  trove_store_hits_free(h, n);
  CHECK(trove_store_search(v.st, "interesting", NULL, &h, &n, &e) == 0 && n == 1);
  CHECK(n == 1 && strstr(h[0].snippet, "[interesting]") != NULL);
  trove_store_hits_free(h, n);
  env_done(&v);
}

static void search_index_follows_updates_and_deletes(void) {
  env v;
  env_init(&v);
  trove_err e = {0};
  put(&v, "/u", "Fruit", NULL, "apple");
  CHECK(count_hits(&v, "apple", NULL, NULL) == 1);
  put(&v, "/u", "Fruit", NULL, "banana");
  CHECK(count_hits(&v, "apple", NULL, NULL) == 0);
  CHECK(count_hits(&v, "banana", NULL, NULL) == 1);
  int64_t id;
  trove_store_item it = fx_item("/u", "Fruit", "banana", 1);
  CHECK(trove_store_item_upsert(v.st, v.src, &it, &id, &e) == 0);
  CHECK(trove_store_item_touch(v.st, id, 7, 0, 0, -1, &e) == 0); /* no FTS change */
  CHECK(count_hits(&v, "banana", NULL, NULL) == 1);
  CHECK(trove_store_items_delete_unseen(v.st, v.src, 8, NULL, NULL, &e) == 0);
  CHECK(count_hits(&v, "banana", NULL, NULL) == 0);
  CHECK(trove_store_check(v.st, &e) == 0);
  env_done(&v);
}

static void store_check_catches_an_index_out_of_sync(void) {
  env v;
  env_init(&v);
  put(&v, "/x", "Title", NULL, "original words");
  CHECK(trove_store_check(v.st, NULL) == 0);
  sqlite3 *db = NULL; /* change the text behind the index's back */
  CHECK(sqlite3_open(v.f.db, &db) == SQLITE_OK);
  CHECK(sqlite3_exec(db, "DROP TRIGGER items_fts_update; UPDATE items SET text = 'other'",
                     NULL, NULL, NULL) == SQLITE_OK);
  sqlite3_close(db);
  trove_err e = {0};
  CHECK(trove_store_check(v.st, &e) == TROVE_ECORRUPT);
  CHECK(strstr(e.msg, "corrupt") && strstr(e.msg, "trove scan"));
  env_done(&v);
}

int main(void) {
  RUN(search_weights_put_title_and_headings_first);
  RUN(search_hidden_items_do_not_shorten_the_list);
  RUN(search_filters_by_source_and_type);
  RUN(search_filters_by_time);
  RUN(search_user_text_is_never_fts_syntax);
  RUN(search_prefix_stemming_and_diacritics_match);
  RUN(search_snippet_marks_the_matching_words);
  RUN(search_index_follows_updates_and_deletes);
  RUN(store_check_catches_an_index_out_of_sync);
  return check_done("store_search_test");
}
