/* search_json_test.c: trove_search_json_write, the writer behind `trove
 * search --json` and the web API's /api/search: every field of every
 * result, in order, hostile strings quoted so that they parse back as they
 * were (and no control reaches a terminal), "why" only when explaining, an
 * empty array, bad arguments, and a fault loop in which every failure is
 * TROVE_ENOMEM and nothing leaks. */
#include "core_test_hooks.h" /* trove_alloc_fail_after */
#include "json.h"
#include "search.h"

#include "check.h"

#include <string.h>

static trove_search_result sample[2];

static void make_sample(void) {
  sample[0] = (trove_search_result){
      .item_id = 42, .score = 1.5, .keyword_rank = 1, .semantic_rank = 3, .cosine = 0.625f,
      .title = "<img src=x onerror=alert(1)> \"quoted\" \x1b[31m", .external_id = "/notes/a.md",
      .source = "notes", .type = TROVE_ITEM_LOCAL, .date = 1700000000, .passage_id = 7,
      .heading = "Intro", .passage = "One. Two.\n", .mark_start = 5, .mark_end = 9,
      .passage_by = TROVE_PASSAGE_WORDS};
  sample[1] = (trove_search_result){.item_id = 9, .type = TROVE_ITEM_WEB, .is_link_hub = true,
                                    .external_id = "https://example.org/"};
}

/* Writes r[0..n) into a fresh b through trove_search_json_write; the
 * writer's result. */
static int write_json(trove_buf *b, const trove_search_result *r, size_t n,
                      const trove_search_params *p) {
  trove_buf_reset(b);
  trove_json_out o = {.b = b};
  trove_search_json_write(&o, r, n, p);
  return trove_json_out_done(&o);
}

static void search_json_writes_every_field(void) {
  make_sample();
  trove_search_params p;
  trove_search_params_default(&p);
  trove_buf b = {0};
  CHECK(write_json(&b, sample, 2, &p) == 0);
  CHECK(!strchr(b.data, '\x1b')); /* safe on a terminal */
  trove_json_doc *doc = NULL;
  CHECK(trove_json_parse(b.data, b.len, 0, &doc, NULL) == 0);
  const trove_json *a = trove_json_root(doc);
  CHECK(trove_json_len(a) == 2);
  const trove_json *r = trove_json_at(a, 0);
  static const char *const keys[] = {"rank", "id", "score", "keyword_rank", "semantic_rank",
                                     "cosine", "type", "link_hub", "date", "title", "source",
                                     "path", "passage_id", "heading", "passage", "mark",
                                     "passage_by"};
  CHECK(trove_json_len(r) == sizeof keys / sizeof *keys);
  for (size_t i = 0; i < trove_json_len(r) && i < sizeof keys / sizeof *keys; i++)
    CHECK(strcmp(trove_json_key_at(r, i, NULL), keys[i]) == 0);
  CHECK(trove_json_get_i64(r, "rank", 0) == 1 && trove_json_get_i64(r, "id", 0) == 42);
  CHECK(trove_json_get_i64(r, "date", 0) == 1700000000);
  CHECK(strcmp(trove_json_get_str(r, "title", ""), sample[0].title) == 0);
  CHECK(strcmp(trove_json_get_str(r, "type", ""), "local") == 0);
  CHECK(strcmp(trove_json_get_str(r, "passage", ""), "One. Two.\n") == 0);
  CHECK(trove_json_i64(trove_json_at(trove_json_get(r, "mark"), 1), 0) == 9);
  CHECK(strcmp(trove_json_get_str(r, "passage_by", ""), "words") == 0);
  CHECK(trove_json_get(r, "why") == NULL);
  const trove_json *r2 = trove_json_at(a, 1);
  CHECK(trove_json_get_i64(r2, "rank", 0) == 2 && trove_json_get_bool(r2, "link_hub", false));
  CHECK(strcmp(trove_json_get_str(r2, "title", "x"), "") == 0); /* NULL strings: "" */
  CHECK(strcmp(trove_json_get_str(r2, "type", ""), "web") == 0);
  trove_json_free(doc);
  /* one result per line, the array closed on its own line */
  CHECK(strncmp(b.data, "[\n {\"rank\":1,", 13) == 0 && strstr(b.data, "},\n {\"rank\":2,"));
  CHECK(b.len >= 3 && strcmp(b.data + b.len - 3, "\n]\n") == 0);
  trove_buf_free(&b);
}

static void search_json_explains_when_asked(void) {
  make_sample();
  trove_search_params p;
  trove_search_params_default(&p);
  p.explain = true;
  sample[0].why = (trove_search_why){.bm25 = 7.5, .by_score = true, .hub_factor = 1};
  trove_buf b = {0};
  CHECK(write_json(&b, sample, 1, &p) == 0);
  trove_json_doc *doc = NULL;
  CHECK(trove_json_parse(b.data, b.len, 0, &doc, NULL) == 0);
  const trove_json *why = trove_json_get(trove_json_at(trove_json_root(doc), 0), "why");
  CHECK(strcmp(trove_json_get_str(why, "fusion", ""), "score") == 0);
  CHECK(trove_json_get_num(why, "bm25", 0) == 7.5);
  trove_json_free(doc);
  trove_buf_free(&b);
}

static void search_json_empty_and_bad_arguments(void) {
  trove_buf b = {0};
  CHECK(write_json(&b, NULL, 0, NULL) == 0);
  CHECK(strcmp(b.data, "[]\n") == 0);
  CHECK(write_json(&b, NULL, 1, NULL) == TROVE_EINVAL);
  trove_buf_free(&b);
}

/* Failing allocation 1, 2, 3 ... until the call succeeds: each failure is
 * TROVE_ENOMEM (ASan sees any leak), and the success writes it all. */
static void search_json_fault_loop(void) {
  make_sample();
  int rc = TROVE_ENOMEM, failures = 0;
  trove_buf b = {0};
  for (long k = 0; rc == TROVE_ENOMEM && k < 1000; k++) {
    trove_buf_free(&b);
    trove_alloc_fail_after(k, false);
    rc = write_json(&b, sample, 2, NULL);
    trove_alloc_fail_after(-1, false);
    failures += rc == TROVE_ENOMEM;
  }
  CHECK(failures > 0 && rc == 0 && strncmp(b.data, "[\n {\"rank\":1,", 13) == 0);
  trove_buf_free(&b);
}

int main(void) {
  RUN(search_json_writes_every_field);
  RUN(search_json_explains_when_asked);
  RUN(search_json_empty_and_bad_arguments);
  RUN(search_json_fault_loop);
  return check_done(__FILE__);
}
