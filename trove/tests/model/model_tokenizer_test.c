/* model_tokenizer_test.c: tokenizer edge cases beyond the golden ids:
 * empty and bad arguments, byte offsets (exact and contiguous on ASCII,
 * covering on rewritten text, on character boundaries always), unknown runs
 * merged, invalid UTF-8, no truncation at the model's limit, piecewise NFKC
 * equal to whole-text NFKC on random text full of combining marks and
 * compatibility characters, and a fault loop. */
#include "model.h"
#include "core_test_hooks.h" /* trove_alloc_fail_after */

#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

static trove_embedder *emb;
static unsigned long seed;

static size_t tok(const char *s, size_t len, trove_tokens *t) {
  CHECK(trove_embedder_tokenize(emb, s, len, t, NULL) == 0);
  return t->n;
}

/* Offsets are ordered, inside the text and on UTF-8 character starts. */
static void check_offsets(const char *s, size_t len, const trove_tokens *t) {
  for (size_t i = 0; i < t->n; i++) {
    CHECK(t->start[i] <= t->end[i] && t->end[i] <= len);
    CHECK(i == 0 || t->start[i] >= t->start[i - 1]);
    CHECK(t->start[i] == len || ((unsigned char)s[t->start[i]] & 0xC0) != 0x80);
    CHECK(t->end[i] == len || ((unsigned char)s[t->end[i]] & 0xC0) != 0x80);
  }
}

static void empty_text_has_no_tokens(void) {
  trove_tokens t = {0};
  CHECK(tok("", 0, &t) == 0);
  CHECK(trove_embedder_tokenize(emb, NULL, 0, &t, NULL) == 0 && t.n == 0);
  trove_tokens_free(&t);
  trove_tokens_free(NULL);
}

static void bad_arguments_are_einval_or_erange(void) {
  trove_tokens t = {0};
  trove_err err = {0};
  CHECK(trove_embedder_tokenize(NULL, "a", 1, &t, &err) == TROVE_EINVAL && err.code == TROVE_EINVAL);
  CHECK(trove_embedder_tokenize(emb, "a", 1, NULL, NULL) == TROVE_EINVAL);
  CHECK(trove_embedder_tokenize(emb, NULL, 3, &t, NULL) == TROVE_EINVAL);
  static const char small[8];
  CHECK(trove_embedder_tokenize(emb, small, ((size_t)16 << 20) + 1, &t, &err) == TROVE_ERANGE);
  CHECK(strstr(err.msg, "split it first") != NULL);
  float v[512];
  const char *texts[2] = {"a", NULL};
  CHECK(trove_embedder_embed_batch(emb, texts, NULL, 2, v, NULL) == TROVE_EINVAL);
  CHECK(trove_embedder_embed_batch(emb, NULL, NULL, 1, v, NULL) == TROVE_EINVAL);
  CHECK(trove_embedder_embed_batch(NULL, texts, NULL, 1, v, NULL) == TROVE_EINVAL);
  CHECK(trove_embedder_embed_batch(emb, texts, NULL, SIZE_MAX / 4, v, NULL) == TROVE_ERANGE);
  CHECK(trove_embedder_embed_batch(emb, texts, NULL, 0, NULL, NULL) == 0);
  size_t huge = ((size_t)16 << 20) + 1; /* never read: the length is checked first */
  CHECK(trove_embedder_embed_batch(emb, texts, &huge, 1, v, &err) == TROVE_ERANGE);
}

static void ascii_offsets_are_exact_and_contiguous(void) {
  const char *s = "Hello, world! int main(void) { return 0; }  tabs\tand\nnewlines";
  size_t len = strlen(s);
  trove_tokens t = {0};
  CHECK(tok(s, len, &t) > 5);
  CHECK(t.start[0] == 0 && t.end[t.n - 1] == len);
  for (size_t i = 1; i < t.n; i++)
    CHECK(t.start[i] == t.end[i - 1]);
  check_offsets(s, len, &t);
  CHECK(tok("the cat sat", 11, &t) == 3); /* "▁the" "▁cat" "▁sat" */
  CHECK(t.start[0] == 0 && t.end[0] == 3 && t.start[1] == 3 && t.end[1] == 7);
  CHECK(t.start[2] == 7 && t.end[2] == 11);
  trove_tokens_free(&t);
}

static void unknown_runs_merge_into_one_token_spanning_them(void) {
  trove_tokens t = {0};
  const char *s = "日本語のテキスト"; /* 8 unknown characters, 24 bytes */
  CHECK(tok(s, strlen(s), &t) == 2);
  CHECK(t.ids[0] == 30 && t.ids[1] == 0);
  CHECK(t.start[1] == 0 && t.end[1] == strlen(s));
  trove_tokens_free(&t);
}

static void rewritten_text_maps_to_its_whole_stretch(void) {
  trove_tokens t = {0};
  const char *s = "x ＦＵＬＬ y"; /* full-width letters normalize to ASCII */
  size_t len = strlen(s);
  CHECK(tok(s, len, &t) >= 3);
  check_offsets(s, len, &t);
  CHECK(t.start[0] == 0 && t.end[t.n - 1] == len);
  for (size_t i = 0; i < t.n; i++) /* every token inside the text, none past it */
    CHECK(t.end[i] <= len);
  trove_tokens_free(&t);
}

static void invalid_utf8_reads_as_replacement_chars(void) {
  trove_tokens t = {0};
  const char s[] = "ok \xff\xfe\xc3 \xed\xa0\x80 end\xe2\x82";
  size_t len = sizeof s - 1;
  CHECK(tok(s, len, &t) >= 4);
  check_offsets(s, len, &t);
  bool unk = false;
  for (size_t i = 0; i < t.n; i++)
    unk |= t.ids[i] == 0;
  CHECK(unk);
  trove_tokens_free(&t);
}

static void long_text_is_not_truncated_by_the_tokenizer(void) {
  trove_buf b = {0};
  for (int i = 0; i < 300; i++)
    trove_buf_puts(&b, i ? " word" : "word");
  trove_tokens t = {0};
  CHECK(tok(b.data, b.len, &t) == 300);
  CHECK(trove_embedder_max_tokens(emb) == 128);
  /* embedding sees only the first 128: 300 words equal 200 words */
  float v[2][512];
  const char *texts[2] = {b.data, b.data};
  size_t lens[2] = {b.len, 200 * 5 - 1};
  CHECK(trove_embedder_embed_batch(emb, texts, lens, 2, v[0], NULL) == 0);
  CHECK(memcmp(v[0], v[1], sizeof v[0]) == 0);
  trove_tokens_free(&t);
  trove_buf_free(&b);
}

/* A random string from characters that stress normalization. */
static size_t random_text(char *out, size_t cap) {
  static const uint32_t alphabet[] = {
      'e', 'a', 'A', ' ', ' ', 'x', '\t', 0x0301, 0x0308, 0x0327, 0x0323, 0x1100, 0x1161, 0x11A8,
      0xAC00, 0xFF21, 0xFB01, 0x2460, 0x00C5, 0x212B, 0x0F73, 0x1E0B, 0x3099, 0x304B, 0x00A0,
      0x3000, 0xFDFA, 0x1F600, 0x00E9, 0x0041, 0x0345, 0x03B9, 0x1FB3};
  size_t n = 0;
  seed = seed * 6364136223846793005UL + 1442695040888963407UL;
  size_t count = (seed >> 33) % 24;
  for (size_t i = 0; i < count && n + 4 < cap; i++) {
    seed = seed * 6364136223846793005UL + 1442695040888963407UL;
    n += (size_t)utf8proc_encode_char(
        (utf8proc_int32_t)alphabet[(seed >> 33) % (sizeof alphabet / sizeof *alphabet)],
        (utf8proc_uint8_t *)out + n);
  }
  return n;
}

static void piecewise_nfkc_equals_whole_text_nfkc(void) {
  seed = check_seed("model_tokenizer_test");
  trove_tokens a = {0}, b = {0};
  char s[256];
  for (int iter = 0; iter < 3000; iter++) {
    size_t len = random_text(s, sizeof s);
    s[len] = '\0';
    utf8proc_uint8_t *whole = NULL;
    utf8proc_ssize_t wl = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &whole,
                                       UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE);
    CHECK(wl >= 0);
    tok(s, len, &a);
    tok((const char *)whole, (size_t)wl, &b);
    bool same = a.n == b.n;
    for (size_t i = 0; same && i < a.n; i++)
      same = a.ids[i] == b.ids[i];
    if (!same)
      fprintf(stderr, "  piecewise and whole NFKC differ on \"%s\"\n", s);
    CHECK(same);
    check_offsets(s, len, &a);
    free(whole);
  }
  trove_tokens_free(&a);
  trove_tokens_free(&b);
}

static void tokenize_allocation_failures_keep_the_old_tokens(void) {
  const char *s = "café ＦＵＬＬ 日本 some longer text to need several allocations";
  trove_tokens t = {0};
  tok("hello", 5, &t);
  size_t old_n = t.n;
  int32_t old_id = t.ids[0];
  for (long n = 0;; n++) {
    trove_err err = {0};
    trove_alloc_fail_after(n, false);
    int rc = trove_embedder_tokenize(emb, s, strlen(s), &t, &err);
    long failed = trove_alloc_fail_after(-1, false);
    if (rc == 0) {
      CHECK(failed == 0 && t.n > old_n);
      break;
    }
    CHECK(rc == TROVE_ENOMEM && err.code == TROVE_ENOMEM && failed == 1);
    CHECK(t.n == old_n && t.ids[0] == old_id);
    if (n > 1000) {
      CHECK(!"fault loop did not converge");
      break;
    }
  }
  trove_tokens_free(&t);
}

int main(void) {
  trove_err err = {0};
  if (trove_embedder_open_use_lite(NULL, &emb, &err)) {
    fprintf(stderr, "cannot open the model: %s\n", err.msg);
    return 1;
  }
  RUN(empty_text_has_no_tokens);
  RUN(bad_arguments_are_einval_or_erange);
  RUN(ascii_offsets_are_exact_and_contiguous);
  RUN(unknown_runs_merge_into_one_token_spanning_them);
  RUN(rewritten_text_maps_to_its_whole_stretch);
  RUN(invalid_utf8_reads_as_replacement_chars);
  RUN(long_text_is_not_truncated_by_the_tokenizer);
  RUN(piecewise_nfkc_equals_whole_text_nfkc);
  RUN(tokenize_allocation_failures_keep_the_old_tokens);
  trove_embedder_close(emb);
  return check_done("model_tokenizer_test");
}
