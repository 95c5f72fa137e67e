/* classify_test.c: reading and classifying fs files (classify.c): every
 * kind, every skip reason, the size cap, UTF-8 validation, errors, and a
 * fault loop. Files are made in a fresh temporary directory. */
#include "sources.h"
#include "core_test_hooks.h" /* trove_alloc_fail_after */

#include "check.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static const char *put(const char *name, const void *data, size_t len) {
  static char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL);
  if (f) {
    fwrite(data, 1, len, f);
    fclose(f);
  }
  return path;
}

static trove_file read_ok(const char *name, const void *data, size_t len, size_t cap) {
  trove_file f;
  trove_err e = {0};
  int rc = trove_fs_read(put(name, data, len), cap, &f, &e);
  CHECK(rc == 0);
  if (rc)
    fprintf(stderr, "  %s\n", e.msg);
  return f;
}

static void read_classifies_kind_by_extension_and_content(void) {
  trove_file f = read_ok("a.md", "# Title\n", 8, 0);
  CHECK(f.skip == TROVE_SKIP_NONE && f.kind == TROVE_CONTENT_MARKDOWN && f.len == 8);
  CHECK(f.data && strcmp(f.data, "# Title\n") == 0);
  trove_file_free(&f);
  f = read_ok("b.HTML", "hello", 5, 0);
  CHECK(f.kind == TROVE_CONTENT_HTML);
  trove_file_free(&f);
  f = read_ok("c.txt", "\n  <!DOCTYPE html><p>x", 22, 0);
  CHECK(f.kind == TROVE_CONTENT_HTML);
  trove_file_free(&f);
  f = read_ok("noext", "<html><body>x", 13, 0);
  CHECK(f.kind == TROVE_CONTENT_HTML);
  trove_file_free(&f);
  f = read_ok("d.txt", "plain <b>not html at start</b>", 30, 0);
  CHECK(f.kind == TROVE_CONTENT_TEXT);
  trove_file_free(&f);
  f = read_ok("e.markdown", "x", 1, 0);
  CHECK(f.kind == TROVE_CONTENT_MARKDOWN);
  trove_file_free(&f);
  f = read_ok("dir.md.d", "x", 1, 0); /* the extension is the last one */
  CHECK(f.kind == TROVE_CONTENT_TEXT);
  trove_file_free(&f);
}

static void read_skips_empty_and_binary(void) {
  trove_file f = read_ok("empty.txt", "", 0, 0);
  CHECK(f.skip == TROVE_SKIP_EMPTY && f.data == NULL);
  CHECK(strcmp(trove_skip_name(f.skip), "empty") == 0);
  f = read_ok("bin.txt", "abc\0def", 7, 0);
  CHECK(f.skip == TROVE_SKIP_BINARY && f.data == NULL);
  CHECK(strcmp(trove_skip_name(f.skip), "binary") == 0);
  /* a byte and a NUL, as BOM-less UTF-16 starts, but then controls */
  f = read_ok("bin2.txt", "A\0\x01\0\x02\0\x03\0", 8, 0);
  CHECK(f.skip == TROVE_SKIP_BINARY && f.data == NULL);
  CHECK(strcmp(trove_skip_name(TROVE_SKIP_NOT_UTF8), "not_utf8") == 0);
}

/* Files in a legacy charset are decoded as web pages are: HTML by its
 * <meta> charset or byte-order mark, text by its mark; BOM-less UTF-16 by
 * its NULs, and either, when it is not UTF-8 and declares nothing, as
 * windows-1252: those two flagged as a guess. */
static void read_decodes_legacy_charsets(void) {
  trove_file f = read_ok("latin1.txt", "caf\xe9 au lait \x80", 14, 0);
  CHECK(f.skip == TROVE_SKIP_NONE && f.charset_guessed && f.kind == TROVE_CONTENT_TEXT);
  CHECK(f.data && strcmp(f.data, "caf\xc3\xa9 au lait \xe2\x82\xac") == 0);
  trove_file_free(&f);
  f = read_ok("cut.md", "abc\xe2\x82", 5, 0); /* a cut sequence: not UTF-8 */
  CHECK(f.skip == TROVE_SKIP_NONE && f.charset_guessed && f.kind == TROVE_CONTENT_MARKDOWN);
  trove_file_free(&f);
  static const char page[] = "<html><head><meta charset=\"iso-8859-1\"></head><p>cr\xe8me";
  f = read_ok("menu.html", page, sizeof page - 1, 0);
  CHECK(f.skip == TROVE_SKIP_NONE && !f.charset_guessed && f.kind == TROVE_CONTENT_HTML);
  CHECK(f.data && strstr(f.data, "cr\xc3\xa8me") != NULL);
  trove_file_free(&f);
  f = read_ok("wide.txt", "\xff\xfeh\0\xe9\0", 6, 0); /* UTF-16LE with its mark */
  CHECK(f.skip == TROVE_SKIP_NONE && !f.charset_guessed && f.data &&
        strcmp(f.data, "h\xc3\xa9") == 0);
  trove_file_free(&f);
  f = read_ok("latin1.html", "<p>caf\xe9 au lait", 15, 0); /* declares nothing */
  CHECK(f.skip == TROVE_SKIP_NONE && f.charset_guessed && f.kind == TROVE_CONTENT_HTML);
  CHECK(f.data && strcmp(f.data, "<p>caf\xc3\xa9 au lait") == 0);
  trove_file_free(&f);
  f = read_ok("nobom.txt", "c\0a\0f\0\xe9\0\n\0", 10, 0); /* UTF-16LE, no mark */
  CHECK(f.skip == TROVE_SKIP_NONE && f.charset_guessed && f.kind == TROVE_CONTENT_TEXT &&
        f.data && strcmp(f.data, "caf\xc3\xa9\n") == 0);
  trove_file_free(&f);
  f = read_ok("nobom-be.md", "\0#\0 \0T\0i\0t\0l\0e", 14, 0); /* UTF-16BE, no mark */
  CHECK(f.skip == TROVE_SKIP_NONE && f.charset_guessed && f.data &&
        strcmp(f.data, "# Title") == 0);
  trove_file_free(&f);
  f = read_ok("wide-page", "\xfe\xff\0<\0h\0t\0m\0l\0>", 14, 0); /* UTF-16BE: kind after */
  CHECK(f.skip == TROVE_SKIP_NONE && f.kind == TROVE_CONTENT_HTML && f.data &&
        strcmp(f.data, "<html>") == 0);
  trove_file_free(&f);
}

static void read_caps_size(void) {
  char big[100];
  memset(big, 'x', sizeof big);
  trove_file f = read_ok("big.txt", big, sizeof big, 99);
  CHECK(f.skip == TROVE_SKIP_TOO_LARGE && f.data == NULL);
  CHECK(strcmp(trove_skip_name(f.skip), "too_large") == 0);
  f = read_ok("fits.txt", big, sizeof big, 100);
  CHECK(f.skip == TROVE_SKIP_NONE && f.len == 100);
  trove_file_free(&f);
}

static void read_strips_byte_order_mark(void) {
  trove_file f = read_ok("bom.txt", "\xEF\xBB\xBFhi", 5, 0);
  CHECK(f.skip == TROVE_SKIP_NONE && f.len == 2 && strcmp(f.data, "hi") == 0);
  trove_file_free(&f);
  f = read_ok("bom-only.txt", "\xEF\xBB\xBF", 3, 0);
  CHECK(f.skip == TROVE_SKIP_EMPTY && f.data == NULL);
}

static void read_non_regular_is_skipped(void) {
  trove_file f;
  CHECK(trove_fs_read(dir, 0, &f, NULL) == 0 && f.skip == TROVE_SKIP_NOT_FILE);
  char fifo[512];
  snprintf(fifo, sizeof fifo, "%s/fifo", dir);
  CHECK(mkfifo(fifo, 0600) == 0);
  CHECK(trove_fs_read(fifo, 0, &f, NULL) == 0 && f.skip == TROVE_SKIP_NOT_FILE);
  CHECK(strcmp(trove_skip_name(f.skip), "not_file") == 0);
  unlink(fifo);
}

static void read_errors_name_the_path(void) {
  trove_file f;
  trove_err e = {0};
  char path[512];
  snprintf(path, sizeof path, "%s/missing.txt", dir);
  CHECK(trove_fs_read(path, 0, &f, &e) == TROVE_ENOENT);
  CHECK(strstr(e.msg, "missing.txt") != NULL && f.data == NULL);
  CHECK(trove_fs_read(NULL, 0, &f, &e) == TROVE_EINVAL);
  CHECK(trove_fs_read(path, 0, NULL, &e) == TROVE_EINVAL);
  /* a regular file whose read fails: /proc/self/mem at offset 0 gives EIO */
  if (access("/proc/self/mem", R_OK) == 0) {
    CHECK(trove_fs_read("/proc/self/mem", 0, &f, &e) == TROVE_EIO);
    CHECK(strstr(e.msg, "/proc/self/mem") != NULL && f.data == NULL);
  }
  if (geteuid() != 0) { /* root reads anything */
    const char *p = put("secret.txt", "x", 1);
    chmod(p, 0);
    CHECK(trove_fs_read(p, 0, &f, &e) == TROVE_EIO);
    CHECK(strstr(e.msg, "secret.txt") && strstr(e.msg, "permission"));
  }
  trove_file_free(NULL);
}

static void utf8_validation_rejects_overlong_surrogates_and_range(void) {
  CHECK(trove_utf8_valid("", 0));
  CHECK(trove_utf8_valid("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80", 15));
  CHECK(!trove_utf8_valid("\xc0\xaf", 2));         /* overlong '/' */
  CHECK(!trove_utf8_valid("\xe0\x80\xaf", 3));     /* overlong */
  CHECK(!trove_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
  CHECK(!trove_utf8_valid("\xf4\x90\x80\x80", 4)); /* past U+10FFFF */
  CHECK(!trove_utf8_valid("\xf5\x80\x80\x80", 4));
  CHECK(!trove_utf8_valid("\x80", 1));
  CHECK(!trove_utf8_valid("\xe2\x82", 2));
  CHECK(trove_utf8_valid("\xf4\x8f\xbf\xbf", 4)); /* U+10FFFF itself */
}

static void skip_counts_add_up(void) {
  trove_skip_counts c = {0};
  trove_skip_count(&c, TROVE_SKIP_BINARY);
  trove_skip_count(&c, TROVE_SKIP_BINARY);
  trove_skip_count(&c, TROVE_SKIP_EMPTY);
  trove_skip_count(&c, (trove_skip)99);
  trove_skip_count(NULL, TROVE_SKIP_EMPTY);
  CHECK(c.n[TROVE_SKIP_BINARY] == 2 && c.n[TROVE_SKIP_EMPTY] == 1 && c.n[TROVE_SKIP_NOT_UTF8] == 0);
  CHECK(strcmp(trove_skip_name((trove_skip)99), "unknown") == 0);
}

/* Reader workers share one trove_skip_counts: 4 threads read the same five
 * files 100 times each; every count must come out exact. */
static const char *const shared_names[] = {"t-ok.md", "t-empty.txt", "t-bin.txt", "t-latin.html",
                                           "t-ok.html"};
static trove_skip_counts shared_counts;
static char shared_paths[5][512];

static void *reader(void *arg) {
  (void)arg;
  for (int round = 0; round < 100; round++)
    for (int i = 0; i < 5; i++) {
      trove_file f;
      if (trove_fs_read(shared_paths[i], 0, &f, NULL) == 0)
        trove_skip_count(&shared_counts, f.skip);
      trove_file_free(&f);
    }
  return NULL;
}

static void read_from_many_threads_counts_exactly(void) {
  static const char *const data[] = {"# x\n", "", "a\0b", "<p>\xe9", "<p>x</p>"};
  static const size_t lens[] = {4, 0, 3, 4, 8};
  for (int i = 0; i < 5; i++)
    snprintf(shared_paths[i], sizeof shared_paths[i], "%s", put(shared_names[i], data[i], lens[i]));
  pthread_t t[4];
  for (int i = 0; i < 4; i++)
    CHECK(pthread_create(&t[i], NULL, reader, NULL) == 0);
  for (int i = 0; i < 4; i++)
    CHECK(pthread_join(t[i], NULL) == 0);
  CHECK(shared_counts.n[TROVE_SKIP_NONE] == 1200); /* t-latin.html: read as windows-1252 */
  CHECK(shared_counts.n[TROVE_SKIP_EMPTY] == 400);
  CHECK(shared_counts.n[TROVE_SKIP_BINARY] == 400);
}

static void read_fault_loop_is_clean(void) {
  const char *p = put("fault.md", "# hello\nworld\n", 14);
  int rc = -1, n;
  for (n = 0; n < 50 && rc != 0; n++) {
    trove_file f;
    trove_alloc_fail_after(n, false);
    rc = trove_fs_read(p, 0, &f, NULL);
    trove_alloc_fail_after(-1, false);
    CHECK(rc == 0 || (rc == TROVE_ENOMEM && f.data == NULL));
    if (rc == 0)
      CHECK(f.kind == TROVE_CONTENT_MARKDOWN && f.len == 14);
    trove_file_free(&f);
  }
  CHECK(rc == 0 && n > 1);
}

int main(void) {
  snprintf(dir, sizeof dir, "%s/trove-classify-XXXXXX",
           getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  if (!mkdtemp(dir))
    return 1;
  RUN(read_classifies_kind_by_extension_and_content);
  RUN(read_skips_empty_and_binary);
  RUN(read_decodes_legacy_charsets);
  RUN(read_caps_size);
  RUN(read_strips_byte_order_mark);
  RUN(read_non_regular_is_skipped);
  RUN(read_errors_name_the_path);
  RUN(utf8_validation_rejects_overlong_surrogates_and_range);
  RUN(skip_counts_add_up);
  RUN(read_from_many_threads_counts_exactly);
  RUN(read_fault_loop_is_clean);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0)
    fprintf(stderr, "could not remove %s\n", dir);
  return check_done("classify_test");
}
