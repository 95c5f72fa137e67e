/* core_test.c: the error record, the allocation hook's fault injection and
 * the growable buffer, including a fault loop over every allocation; the
 * UTF-8 and terminal helpers; SHA-256 against the FIPS 180-4 vectors. */
#include "core.h"
#include "core_test_hooks.h" /* trove_alloc_fail_after */

#include "check.h"

#include <pthread.h>
#include <string.h>
#include <unistd.h>

static void err_first_cause_wins(void) {
  trove_err e;
  trove_err_clear(&e);
  CHECK(trove_err_set(&e, TROVE_EIO, "cannot read %s", "a.txt") == TROVE_EIO);
  CHECK(strcmp(e.msg, "cannot read a.txt") == 0);
  trove_err_keep(&e, TROVE_ENOMEM, "later");
  CHECK(e.code == TROVE_EIO && strcmp(e.msg, "cannot read a.txt") == 0);
  CHECK(trove_err_set(NULL, TROVE_EINVAL, "x") == TROVE_EINVAL);
  CHECK(strcmp(trove_strerror(TROVE_ENOMEM), "allocation failed") == 0);
  CHECK(strcmp(trove_strerror(12345), "unknown error") == 0);
}

static void alloc_fails_nth_then_recovers(void) {
  trove_alloc_fail_after(2, false);
  void *a = trove_malloc(8), *b = trove_malloc(8), *c = trove_malloc(8), *d = trove_malloc(8);
  CHECK(a && b && !c && d);
  CHECK(trove_alloc_fail_after(-1, false) == 1);
  trove_free(a), trove_free(b), trove_free(d);
  trove_alloc_fail_after(0, true);
  CHECK(!trove_malloc(1) && !trove_strdup("x") && !trove_calloc(2, 2));
  CHECK(trove_alloc_fail_after(-1, false) == 3);
}

static int build_text(char **out) {
  trove_buf b = {0};
  for (int i = 0; i < 100; i++)
    if (trove_buf_printf(&b, "%d,", i) || trove_buf_puts(&b, "x")) {
      trove_buf_free(&b);
      return TROVE_ENOMEM;
    }
  *out = trove_buf_take(&b);
  return *out ? 0 : TROVE_ENOMEM;
}

static void buf_fault_loop_is_clean(void) {
  char *s = NULL;
  int n, rc = -1;
  for (n = 0; n < 1000 && rc != 0; n++) {
    trove_alloc_fail_after(n, false);
    rc = build_text(&s);
    CHECK(rc == 0 || (rc == TROVE_ENOMEM && s == NULL));
  }
  trove_alloc_fail_after(-1, false);
  CHECK(rc == 0 && n > 1);
  CHECK(s && strncmp(s, "0,x1,x2,x", 9) == 0 && strlen(s) == 390);
  trove_free(s);
  trove_buf e = {0};
  char *empty = trove_buf_take(&e);
  CHECK(empty && empty[0] == '\0');
  trove_free(empty);
}

/* A reserve that no append follows still leaves a string: trove_extract__clean_dup of
 * control characters only took such a buffer (found by fuzz_charset). */
static void buf_reserve_alone_leaves_an_empty_string(void) {
  trove_buf b = {0};
  CHECK(trove_buf_reserve(&b, 100) == 0);
  CHECK(b.data && b.data[0] == '\0');
  char *s = trove_buf_take(&b);
  CHECK(s && strlen(s) == 0);
  trove_free(s);
}

static void online_cpus_matches_the_os(void) {
  long os = sysconf(_SC_NPROCESSORS_ONLN);
  size_t n = trove_online_cpus();
  CHECK(n >= 1);
  CHECK(os < 1 || n == (size_t)os);
  CHECK(trove_online_cpus() == n); /* cached: the same answer again */
}

static void *alloc_many(void *arg) {
  (void)arg;
  for (int i = 0; i < 2000; i++)
    trove_free(trove_malloc(16));
  return NULL;
}

/* Threads that reach the Nth allocation together: exactly one fails. */
static void one_failure_across_threads(void) {
  for (long round = 0; round < 200; round++) {
    trove_alloc_fail_after(1000 + round, false);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
      CHECK(pthread_create(&t[i], NULL, alloc_many, NULL) == 0);
    for (int i = 0; i < 4; i++)
      pthread_join(t[i], NULL);
    CHECK(trove_alloc_fail_after(-1, false) == 1);
  }
}

static bool encodes(uint32_t cp, const char *want) {
  char u[4];
  size_t n = trove_utf8_encode(cp, u);
  return n == strlen(want) && memcmp(u, want, n) == 0;
}

static void utf8_encode_covers_every_length_and_replaces_non_scalars(void) {
  CHECK(encodes(0x41, "A") && encodes(0x7F, "\x7f"));
  CHECK(encodes(0x80, "\xc2\x80") && encodes(0xE9, "\xc3\xa9") && encodes(0x7FF, "\xdf\xbf"));
  CHECK(encodes(0x800, "\xe0\xa0\x80") && encodes(0x20AC, "\xe2\x82\xac"));
  CHECK(encodes(0x1F600, "\xf0\x9f\x98\x80") && encodes(0x10FFFF, "\xf4\x8f\xbf\xbf"));
  CHECK(encodes(0xD800, "\xef\xbf\xbd") && encodes(0xDFFF, "\xef\xbf\xbd"));
  CHECK(encodes(0x110000, "\xef\xbf\xbd"));
}

static void utf8_seq_measures_valid_sequences_only(void) {
  CHECK(trove_utf8_seq("A", 1) == 1 && trove_utf8_seq("", 1) == 1 && trove_utf8_seq("A", 0) == 0);
  CHECK(trove_utf8_seq("\xc3\xa9", 2) == 2 && trove_utf8_seq("\xe2\x82\xac", 3) == 3);
  CHECK(trove_utf8_seq("\xf0\x9f\x98\x80", 4) == 4 && trove_utf8_seq("\xf0\x9f\x98", 3) == 0);
  CHECK(trove_utf8_seq("\xc0\x80", 2) == 0 && trove_utf8_seq("\xe0\x80\x80", 3) == 0);
  CHECK(trove_utf8_seq("\xed\xa0\x80", 3) == 0 && trove_utf8_seq("\xf4\x90\x80\x80", 4) == 0);
  CHECK(trove_utf8_seq("\x80", 1) == 0 && trove_utf8_seq("\xff", 1) == 0);
}

/* What trove_term_write makes of s in mode. */
static bool term_shows(const char *s, trove_term_mode mode, const char *want) {
  char out[256] = {0};
  FILE *f = fmemopen(out, sizeof out - 1, "w");
  if (!f)
    return false;
  trove_term_write(f, s, strlen(s), mode);
  fclose(f);
  if (strcmp(out, want) != 0)
    fprintf(stderr, "  term_write(\"%s\") gave \"%s\"\n", s, out);
  return strcmp(out, want) == 0;
}

/* Invalid bytes become \xNN, valid sequences (multibyte ones too) stay; a
 * failed allocation gives NULL. */
static void utf8_escape_dup_escapes_only_invalid_bytes(void) {
  char *s = trove_utf8_escape_dup("caf\xe9 \xc3\xa9t\xc3\xa9 \xf0\x9f\x98 ok\xff");
  CHECK(s && strcmp(s, "caf\\xe9 \xc3\xa9t\xc3\xa9 \\xf0\\x9f\\x98 ok\\xff") == 0);
  CHECK(s && trove_utf8_valid(s, strlen(s)));
  trove_free(s);
  s = trove_utf8_escape_dup("");
  CHECK(s && s[0] == 0);
  trove_free(s);
  CHECK(trove_utf8_escape_dup(NULL) == NULL);
  trove_alloc_fail_after(0, false);
  CHECK(trove_utf8_escape_dup("x\xff") == NULL);
  trove_alloc_fail_after(-1, false);
}

static void term_write_escapes_every_control_visibly(void) {
  const char *evil = "a\033]0;PWNED\007\033[2Jb";
  CHECK(term_shows(evil, TROVE_TERM_LINE, "a\\x1b]0;PWNED\\x07\\x1b[2Jb"));
  CHECK(term_shows(evil, TROVE_TERM_TEXT, "a\\x1b]0;PWNED\\x07\\x1b[2Jb"));
  CHECK(term_shows("x\xc2\x9b" "31m\x7f", TROVE_TERM_LINE, "x\\xc2\\x9b31m\\x7f")); /* C1, DEL */
  const char *fine = "caf\xc3\xa9 \xe2\x82\xac \\n"; /* UTF-8 and a backslash pass */
  CHECK(term_shows(fine, TROVE_TERM_LINE, fine));
  CHECK(term_shows("bad \x9b\xff", TROVE_TERM_LINE, "bad \\x9b\\xff")); /* not UTF-8 */
  CHECK(term_shows("l1\r\nl2\tx\ry\n", TROVE_TERM_TEXT, "l1\r\nl2\tx\\x0dy\n"));
  CHECK(term_shows("l1\nl2\t", TROVE_TERM_LINE, "l1\\x0al2\\x09"));
  char out[64] = {0};
  FILE *f = fmemopen(out, sizeof out - 1, "w");
  CHECK(f != NULL);
  if (f) {
    trove_term_line(f, "name %s: %d", "x\033[2J\n", 7);
    fclose(f);
  }
  CHECK(strcmp(out, "name x\\x1b[2J\\x0a: 7\n") == 0);
}

static void ids_contain_finds_exactly_the_listed_ids(void) {
  const int64_t v[] = {-5, 1, 2, 9, 100, INT64_MAX};
  size_t n = sizeof v / sizeof *v;
  for (size_t i = 0; i < n; i++)
    CHECK(trove_ids_contain(v, n, v[i]));
  CHECK(!trove_ids_contain(v, n, 0) && !trove_ids_contain(v, n, 3) && !trove_ids_contain(v, n, -6));
  CHECK(!trove_ids_contain(v, n, 101) && !trove_ids_contain(NULL, 0, 1));
  CHECK(trove_ids_contain(v, 1, -5) && !trove_ids_contain(v, 1, 1));
}

static void hex32(const unsigned char d[TROVE_SHA256_LEN], char out[65]) {
  for (int i = 0; i < TROVE_SHA256_LEN; i++)
    snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* The FIPS 180-4 example vectors (one block, two blocks, a million 'a'),
 * the empty message, and lengths around the padding boundary hashed in one
 * call and byte by byte giving the same digest. */
static void sha256_matches_the_fips_vectors_however_fed(void) {
  static const struct {
    const char *msg, *hex;
  } v[] = {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlm"
       "nopqrsmnopqrstnopqrstu",
       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
  };
  unsigned char d[TROVE_SHA256_LEN];
  char hex[65];
  for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
    trove_sha256(v[i].msg, strlen(v[i].msg), d);
    hex32(d, hex);
    CHECK(strcmp(hex, v[i].hex) == 0);
  }
  static char a[1000000];
  memset(a, 'a', sizeof a);
  trove_sha256(a, sizeof a, d);
  hex32(d, hex);
  CHECK(strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0);
  for (size_t n = 50; n < 140; n++) {
    unsigned char one[TROVE_SHA256_LEN], bytewise[TROVE_SHA256_LEN];
    trove_sha256(a, n, one);
    trove_sha256_ctx s;
    trove_sha256_init(&s);
    for (size_t i = 0; i < n; i++)
      trove_sha256_update(&s, a + i, 1);
    trove_sha256_final(&s, bytewise);
    CHECK(memcmp(one, bytewise, sizeof one) == 0);
  }
  trove_sha256(a, 55, d); /* the longest message whose padding fits its block */
  hex32(d, hex);
  CHECK(strcmp(hex, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318") == 0);
  trove_sha256(a, 64, d);
  hex32(d, hex);
  CHECK(strcmp(hex, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb") == 0);
}

int main(void) {
  RUN(err_first_cause_wins);
  RUN(alloc_fails_nth_then_recovers);
  RUN(buf_fault_loop_is_clean);
  RUN(buf_reserve_alone_leaves_an_empty_string);
  RUN(online_cpus_matches_the_os);
  RUN(one_failure_across_threads);
  RUN(utf8_encode_covers_every_length_and_replaces_non_scalars);
  RUN(utf8_seq_measures_valid_sequences_only);
  RUN(utf8_escape_dup_escapes_only_invalid_bytes);
  RUN(term_write_escapes_every_control_visibly);
  RUN(ids_contain_finds_exactly_the_listed_ids);
  RUN(sha256_matches_the_fips_vectors_however_fed);
  return check_done("core_test");
}
