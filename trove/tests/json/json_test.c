/* json_test.c: the strict JSON parser: every value type, escapes and
 * surrogates, number grammar and int64 exactness, UTF-8 and grammar
 * rejections with byte offsets, nesting limits, lookups with defaults, a
 * large Bookmarks-shaped document, random mutations of valid input and a
 * fault loop over every allocation; and the writer, whose output parses
 * back, with its sticky errors. */
#include "json.h"
#include "core_test_hooks.h" /* trove_alloc_fail_after */

#include "check.h"

#include <math.h>
#include <string.h>

static trove_json_doc *parse_ok(const char *s) {
  trove_json_doc *d = NULL;
  trove_err e = {0};
  int rc = trove_json_parse(s, strlen(s), 0, &d, &e);
  if (rc)
    fprintf(stderr, "unexpected failure on %s: %s\n", s, e.msg);
  CHECK(rc == 0 && d);
  return d;
}

/* Parses s (n bytes) expecting code; returns the error message's offset
 * ("at byte N") or -1. */
static long parse_fails(const char *s, size_t n, int code) {
  trove_json_doc *d = (trove_json_doc *)1;
  trove_err e = {0};
  int rc = trove_json_parse(s, n, 0, &d, &e);
  CHECK(rc == code);
  CHECK(d == NULL);
  CHECK(e.code == code);
  const char *at = strstr(e.msg, "at byte ");
  if (rc != code)
    fprintf(stderr, "input %.*s gave %d (%s)\n", (int)n, s, rc, e.msg);
  return at ? strtol(at + 8, NULL, 10) : -1;
}

static void parses_every_value_type(void) {
  trove_json_doc *d = parse_ok(" {\"a\": [1, -2.5, true, false, null, \"x\", {}, []], \"b\": {}}\n");
  const trove_json *r = trove_json_root(d), *a = trove_json_get(r, "a");
  CHECK(trove_json_type_of(r) == TROVE_JSON_OBJECT && trove_json_len(r) == 2);
  CHECK(trove_json_len(a) == 8);
  CHECK(trove_json_i64(trove_json_at(a, 0), 0) == 1);
  CHECK(trove_json_num(trove_json_at(a, 1), 0) == -2.5);
  CHECK(trove_json_bool(trove_json_at(a, 2), false) == true);
  CHECK(trove_json_bool(trove_json_at(a, 3), true) == false);
  CHECK(trove_json_type_of(trove_json_at(a, 4)) == TROVE_JSON_NULL);
  CHECK(strcmp(trove_json_str(trove_json_at(a, 5), ""), "x") == 0);
  CHECK(trove_json_type_of(trove_json_at(a, 6)) == TROVE_JSON_OBJECT);
  CHECK(trove_json_type_of(trove_json_at(a, 7)) == TROVE_JSON_ARRAY);
  CHECK(trove_json_at(a, 8) == NULL);
  size_t kl = 0;
  CHECK(strcmp(trove_json_key_at(r, 1, &kl), "b") == 0 && kl == 1);
  CHECK(trove_json_key_at(a, 0, NULL) == NULL);
  trove_json_free(d);
  d = parse_ok("\"top\"");
  CHECK(strcmp(trove_json_str(trove_json_root(d), NULL), "top") == 0);
  trove_json_free(d);
}

static void strings_decode_every_escape(void) {
  trove_json_doc *d = parse_ok("\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t \\u00e9\\u20AC \\ud83d\\ude00 caf\xc3\xa9\"");
  const char *want = "q\" b\\ s/ \b\f\n\r\t \xc3\xa9\xe2\x82\xac \xf0\x9f\x98\x80 caf\xc3\xa9";
  CHECK(strcmp(trove_json_str(trove_json_root(d), ""), want) == 0);
  CHECK(trove_json_str_len(trove_json_root(d)) == strlen(want));
  trove_json_free(d);
}

static void lone_surrogate_decodes_to_replacement_char(void) {
  /* high without low, low alone, high followed by a non-surrogate escape */
  trove_json_doc *d = parse_ok("[\"a\\ud800b\", \"\\udc00\", \"\\ud800\\u0041\", \"\\ud800\"]");
  const trove_json *r = trove_json_root(d);
  CHECK(strcmp(trove_json_str(trove_json_at(r, 0), ""), "a\xef\xbf\xbd" "b") == 0);
  CHECK(strcmp(trove_json_str(trove_json_at(r, 1), ""), "\xef\xbf\xbd") == 0);
  CHECK(strcmp(trove_json_str(trove_json_at(r, 2), ""), "\xef\xbf\xbd" "A") == 0);
  CHECK(strcmp(trove_json_str(trove_json_at(r, 3), ""), "\xef\xbf\xbd") == 0);
  trove_json_free(d);
}

static void nul_escape_is_kept_with_its_length(void) {
  trove_json_doc *d = parse_ok("\"a\\u0000b\"");
  const trove_json *r = trove_json_root(d);
  CHECK(trove_json_str_len(r) == 3 && memcmp(trove_json_str(r, ""), "a\0b", 4) == 0);
  trove_json_free(d);
}

static void numbers_keep_exact_int64_and_double(void) {
  trove_json_doc *d = parse_ok("[0, -0, 9223372036854775807, -9223372036854775808, "
                               "9223372036854775808, 1e3, 2.0, 1.5, 1E-2, 1e400, -1e400, "
                               "123456789012345678, 13245678901234567]");
  const trove_json *r = trove_json_root(d);
  int64_t i;
  CHECK(trove_json_int(trove_json_at(r, 0), &i) && i == 0);
  CHECK(trove_json_int(trove_json_at(r, 1), &i) && i == 0);
  CHECK(signbit(trove_json_num(trove_json_at(r, 1), 0)));
  CHECK(trove_json_int(trove_json_at(r, 2), &i) && i == INT64_MAX);
  CHECK(trove_json_int(trove_json_at(r, 3), &i) && i == INT64_MIN);
  CHECK(!trove_json_int(trove_json_at(r, 4), &i));
  CHECK(trove_json_num(trove_json_at(r, 4), 0) == 9223372036854775808.0);
  CHECK(trove_json_i64(trove_json_at(r, 5), 0) == 1000);
  CHECK(trove_json_i64(trove_json_at(r, 6), 0) == 2);
  CHECK(!trove_json_int(trove_json_at(r, 7), NULL) && trove_json_num(trove_json_at(r, 7), 0) == 1.5);
  CHECK(trove_json_num(trove_json_at(r, 8), 0) == 0.01);
  CHECK(isinf(trove_json_num(trove_json_at(r, 9), 0)) && !trove_json_int(trove_json_at(r, 9), NULL));
  CHECK(trove_json_num(trove_json_at(r, 10), 0) < 0);
  CHECK(trove_json_i64(trove_json_at(r, 11), 0) == 123456789012345678);
  CHECK(trove_json_i64(trove_json_at(r, 12), 0) == 13245678901234567);
  trove_json_free(d);
}

static void number_grammar_violations_are_rejected(void) {
  const char *bad[] = {"01", "-", "1.", ".5", "1e", "1e+", "+1", "0x10", "NaN", "Infinity",
                       "-Infinity", "1.e5", "--1", "[1,]", "- 1"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    parse_fails(bad[i], strlen(bad[i]), TROVE_EINVAL);
}

static void invalid_utf8_is_rejected_with_offset(void) {
  struct { const char *s; long at; } bad[] = {
      {"\"ab\xc0\x80\"", 3},           /* overlong NUL */
      {"\"\xe0\x80\xaf\"", 1},         /* overlong '/' */
      {"\"x\xed\xa0\x80\"", 2},        /* encoded surrogate */
      {"\"\xf4\x90\x80\x80\"", 1},     /* above U+10FFFF */
      {"\"\xe2\x82\"", 1},             /* truncated sequence */
      {"\"\x80\"", 1},                 /* stray continuation */
      {"\"\xff\"", 1},
      {"\xef\xbb\xbf{}", 0},           /* byte-order mark */
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    CHECK(parse_fails(bad[i].s, strlen(bad[i].s), TROVE_EINVAL) == bad[i].at);
}

static void malformed_and_truncated_input_is_rejected_with_offset(void) {
  struct { const char *s; long at; } bad[] = {
      {"", 0}, {"   ", 3}, {"{", 1}, {"[1, 2", 5}, {"{\"a\" 1}", 5}, {"{\"a\":1,}", 7},
      {"{a:1}", 1}, {"[1 2]", 3}, {"\"abc", 4}, {"tru", 0}, {"nul", 0}, {"{} x", 3},
      {"[] []", 3}, {"'a'", 0}, {"\"\\x\"", 1}, {"\"\\u12\"", 1}, {"\"\\u12", 5},
      {"\"a\nb\"", 2}, {"\"\t\"", 1}, {"[1]/* c */", 3}, {"{\"a\":}", 5}, {"\"\\", 2},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    long at = parse_fails(bad[i].s, strlen(bad[i].s), TROVE_EINVAL);
    if (at != bad[i].at)
      fprintf(stderr, "input %s: offset %ld, expected %ld\n", bad[i].s, at, bad[i].at);
    CHECK(at == bad[i].at);
  }
  /* an embedded NUL byte is not whitespace */
  parse_fails("[1]\0", 4, TROVE_EINVAL);
}

static char *nested(size_t depth) {
  char *s = malloc(2 * depth + 1);
  memset(s, '[', depth);
  memset(s + depth, ']', depth);
  s[2 * depth] = '\0';
  return s;
}

static void nesting_past_the_limit_is_erange(void) {
  char *s = nested(TROVE_JSON_DEFAULT_DEPTH);
  trove_json_doc *d = parse_ok(s);
  trove_json_free(d);
  free(s);
  s = nested(TROVE_JSON_DEFAULT_DEPTH + 1);
  CHECK(parse_fails(s, strlen(s), TROVE_ERANGE) == TROVE_JSON_DEFAULT_DEPTH);
  free(s);
  /* a caller's limit, and a huge one clamped instead of blowing the stack */
  CHECK(trove_json_parse("[[[1]]]", 7, 2, &d, NULL) == TROVE_ERANGE);
  CHECK(trove_json_parse("[[1]]", 5, 2, &d, NULL) == 0);
  trove_json_free(d);
  s = nested(200000);
  CHECK(trove_json_parse(s, strlen(s), (size_t)1 << 40, &d, NULL) == TROVE_ERANGE);
  free(s);
}

static void duplicate_keys_return_the_last(void) {
  trove_json_doc *d = parse_ok("{\"k\":1,\"k\":2,\"kk\":3}");
  CHECK(trove_json_get_i64(trove_json_root(d), "k", 0) == 2);
  CHECK(trove_json_len(trove_json_root(d)) == 3);
  trove_json_free(d);
}

static void accessors_give_defaults_for_null_and_wrong_types(void) {
  trove_json_doc *d = parse_ok("{\"s\":\"x\",\"n\":1.5,\"b\":true,\"a\":[1]}");
  const trove_json *r = trove_json_root(d);
  CHECK(strcmp(trove_json_get_str(r, "n", "def"), "def") == 0);
  CHECK(strcmp(trove_json_get_str(r, "s", "def"), "x") == 0);
  CHECK(trove_json_get_num(r, "s", 7) == 7 && trove_json_get_num(r, "n", 0) == 1.5);
  CHECK(trove_json_get_i64(r, "n", 9) == 9 && trove_json_get_i64(r, "missing", 4) == 4);
  CHECK(trove_json_get_bool(r, "b", false) && trove_json_get_bool(r, "s", true));
  CHECK(trove_json_get(trove_json_get(r, "missing"), "x") == NULL);
  CHECK(trove_json_get(trove_json_get(r, "a"), "x") == NULL && trove_json_get(r, NULL) == NULL);
  CHECK(trove_json_len(trove_json_get(r, "s")) == 0 && trove_json_at(NULL, 0) == NULL);
  CHECK(trove_json_str_len(NULL) == 0 && trove_json_type_of(NULL) == TROVE_JSON_NULL);
  CHECK(trove_json_root(NULL) == NULL);
  trove_json_free(d);
  trove_json_free(NULL);
}

static void null_arguments_are_einval(void) {
  trove_json_doc *d;
  trove_err e = {0};
  CHECK(trove_json_parse("1", 1, 0, NULL, &e) == TROVE_EINVAL && e.code == TROVE_EINVAL);
  CHECK(trove_json_parse(NULL, 1, 0, &d, NULL) == TROVE_EINVAL && d == NULL);
  CHECK(trove_json_parse(NULL, 0, 0, &d, NULL) == TROVE_EINVAL); /* empty input */
}

/* A Chromium Bookmarks-shaped document with n urls in nested folders. */
static char *bookmarks(size_t n, size_t *len) {
  trove_buf b = {0};
  trove_buf_puts(&b, "{\"checksum\":\"abc\",\"roots\":{\"bookmark_bar\":{\"children\":[");
  for (size_t i = 0; i < n; i++) {
    if (i % 100 == 0)
      trove_buf_printf(&b, "%s{\"type\":\"folder\",\"name\":\"F%zu \\u00e9\",\"children\":[",
                       i ? "]}," : "", i);
    trove_buf_printf(&b,
                     "%s{\"date_added\":\"1324567890%06zu\",\"guid\":\"%08zx-0000\",\"id\":\"%zu\","
                     "\"name\":\"Page \\\"%zu\\\" caf\xc3\xa9 \xe6\x97\xa5\",\"type\":\"url\","
                     "\"url\":\"https://example.com/p/%zu?q=1\"}",
                     i % 100 ? "," : "", i, i, i, i, i);
  }
  trove_buf_puts(&b, "]}]}},\"version\":1}");
  *len = b.len;
  return trove_buf_take(&b);
}

static void large_bookmarks_file_parses_completely(void) {
  size_t len, n = 50000;
  char *s = bookmarks(n, &len);
  CHECK(s != NULL);
  trove_json_doc *d = NULL;
  trove_err e = {0};
  CHECK(trove_json_parse(s, len, 0, &d, &e) == 0);
  const trove_json *bar =
      trove_json_get(trove_json_get(trove_json_get(trove_json_root(d), "roots"), "bookmark_bar"),
                     "children");
  CHECK(trove_json_len(bar) == n / 100);
  size_t count = 0;
  for (size_t f = 0; f < trove_json_len(bar); f++) {
    const trove_json *kids = trove_json_get(trove_json_at(bar, f), "children");
    for (size_t k = 0; k < trove_json_len(kids); k++, count++) {
      char want[64];
      snprintf(want, sizeof want, "https://example.com/p/%zu?q=1", count);
      CHECK(strcmp(trove_json_get_str(trove_json_at(kids, k), "url", ""), want) == 0);
    }
  }
  CHECK(count == n);
  trove_json_free(d);
  trove_free(s);
}

/* Random byte edits of a valid document: each parse either succeeds or
 * fails cleanly (ASan checks no read leaves the input). */
static void random_mutations_never_read_out_of_bounds(void) {
  unsigned long seed = check_seed("json_test");
  const char *base = "{\"a\":[1,-2.5e3,true,null,\"x\\u00e9\\ud83d\\ude00\\n\"],\"b\":{\"c\":\"caf\xc3\xa9\"}}";
  size_t n = strlen(base);
  char *buf = malloc(n);
  const char alphabet[] = "{}[]\",:\\u0123456789eE+-.tfn \x80\xc3\xed\xf4";
  for (int iter = 0; iter < 20000; iter++) {
    memcpy(buf, base, n);
    size_t len = n;
    for (int k = 0; k < 1 + iter % 4; k++) {
      seed = seed * 6364136223846793005UL + 1442695040888963407UL;
      size_t at = (seed >> 33) % n;
      if ((seed >> 20) % 5 == 0)
        len = at; /* truncate */
      else
        buf[at] = alphabet[(seed >> 40) % (sizeof alphabet - 1)];
    }
    char *exact = malloc(len ? len : 1); /* exact size so ASan sees overreads */
    memcpy(exact, buf, len);
    trove_json_doc *d = NULL;
    int rc = trove_json_parse(exact, len, 0, &d, NULL);
    CHECK(rc == 0 || rc == TROVE_EINVAL);
    CHECK((rc == 0) == (d != NULL));
    trove_json_free(d);
    free(exact);
  }
  free(buf);
}

static void allocation_failures_are_clean(void) {
  size_t len;
  char *s = bookmarks(300, &len);
  for (long n = 0;; n++) {
    trove_json_doc *d = (trove_json_doc *)1;
    trove_err e = {0};
    trove_alloc_fail_after(n, false);
    int rc = trove_json_parse(s, len, 0, &d, &e);
    long failed = trove_alloc_fail_after(-1, false);
    if (rc == 0) {
      CHECK(failed == 0);
      CHECK(trove_json_len(trove_json_get(trove_json_root(d), "roots")) == 1);
      trove_json_free(d);
      break;
    }
    CHECK(rc == TROVE_ENOMEM && e.code == TROVE_ENOMEM && d == NULL && failed == 1);
    if (n > 10000) {
      CHECK(!"fault loop did not converge");
      break;
    }
  }
  trove_free(s);
}

/* The writer: commas, keys and brackets placed, a top-level member per
 * line, strings quoted with controls escaped (C1 and DEL too), NULL and
 * non-finite numbers as null, and what it wrote parses back. */
static void writer_output_parses_back(void) {
  trove_buf b = {0};
  trove_json_out o = {.b = &b};
  trove_json_out_object(&o, NULL);
  trove_json_out_str(&o, "s", "a\"b\\c\x1b[2J\xc2\x9b\x7f\xff");
  trove_json_out_str(&o, "none", NULL);
  trove_json_out_int(&o, "i", -42);
  trove_json_out_num(&o, "f", 0.5, 3);
  trove_json_out_num(&o, "g", 1e300 * 1e300, -1);
  trove_json_out_bool(&o, "t", true);
  trove_json_out_array(&o, "a");
  trove_json_out_int(&o, NULL, 1);
  trove_json_out_object(&o, NULL);
  trove_json_out_end(&o);
  trove_json_out_array(&o, NULL);
  trove_json_out_end(&o);
  trove_json_out_end(&o);
  trove_json_out_end(&o);
  CHECK(trove_json_out_done(&o) == 0);
  CHECK(strcmp(b.data, "{\n \"s\":\"a\\\"b\\\\c\\u001b[2J\\u009b\\u007f\\ufffd\",\n \"none\":null,"
                       "\n \"i\":-42,\n \"f\":0.500,\n \"g\":null,\n \"t\":true,\n \"a\":[1,{},[]]\n}\n") == 0);
  trove_json_doc *doc = NULL;
  CHECK(trove_json_parse(b.data, b.len, 0, &doc, NULL) == 0);
  CHECK(strcmp(trove_json_get_str(trove_json_root(doc), "s", ""), "a\"b\\c\x1b[2J\xc2\x9b\x7f\xef\xbf\xbd") == 0);
  trove_json_free(doc);
  trove_buf_free(&b);
  /* an empty top-level array, and errors that stick */
  trove_json_out e = {.b = &b};
  trove_json_out_array(&e, NULL);
  trove_json_out_end(&e);
  CHECK(trove_json_out_done(&e) == 0 && strcmp(b.data, "[]\n") == 0);
  trove_buf_free(&b);
  trove_json_out u = {.b = &b};
  trove_json_out_end(&u); /* an end without a start */
  trove_json_out_int(&u, NULL, 1);
  CHECK(trove_json_out_done(&u) == TROVE_EINVAL && b.len == 0);
  trove_json_out d = {.b = &b};
  for (int k = 0; k < TROVE_JSON_OUT_DEPTH + 1; k++)
    trove_json_out_array(&d, NULL);
  CHECK(trove_json_out_done(&d) == TROVE_EINVAL);
  trove_buf_free(&b);
  trove_json_out open = {.b = &b};
  trove_json_out_object(&open, NULL);
  CHECK(trove_json_out_done(&open) == TROVE_EINVAL); /* left open */
  trove_buf_free(&b);
  trove_json_out none = {0};
  trove_json_out_int(&none, NULL, 1);
  CHECK(trove_json_out_done(&none) == TROVE_EINVAL);
  for (long k = 0;; k++) { /* memory: a clean TROVE_ENOMEM at every step */
    trove_json_out m = {.b = &b};
    trove_alloc_fail_after(k, false);
    trove_json_out_array(&m, NULL);
    trove_json_out_str(&m, NULL, "a string long enough to grow the buffer more than once");
    trove_json_out_end(&m);
    int rc = trove_json_out_done(&m);
    long failed = trove_alloc_fail_after(-1, false);
    trove_buf_free(&b);
    if (!failed) {
      CHECK(rc == 0);
      break;
    }
    CHECK(rc == TROVE_ENOMEM);
  }
}

int main(void) {
  RUN(parses_every_value_type);
  RUN(strings_decode_every_escape);
  RUN(lone_surrogate_decodes_to_replacement_char);
  RUN(nul_escape_is_kept_with_its_length);
  RUN(numbers_keep_exact_int64_and_double);
  RUN(number_grammar_violations_are_rejected);
  RUN(invalid_utf8_is_rejected_with_offset);
  RUN(malformed_and_truncated_input_is_rejected_with_offset);
  RUN(nesting_past_the_limit_is_erange);
  RUN(duplicate_keys_return_the_last);
  RUN(accessors_give_defaults_for_null_and_wrong_types);
  RUN(null_arguments_are_einval);
  RUN(large_bookmarks_file_parses_completely);
  RUN(random_mutations_never_read_out_of_bounds);
  RUN(allocation_failures_are_clean);
  RUN(writer_output_parses_back);
  return check_done("json_test");
}
