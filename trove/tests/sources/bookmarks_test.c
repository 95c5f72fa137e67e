/* bookmarks_test.c: the chromium-bookmarks source (bookmarks.c) over
 * Bookmarks files written here in Chromium's real format: nested folders in
 * every root, date_added as a string of µs since 1601 (perceive's bug was
 * reading it as Unix seconds), duplicates, non-http URLs, odd nodes, and
 * failures: missing, 0 bytes, truncated or invalid JSON, not a Bookmarks
 * file, binary; plus a fault loop. */
#include "sources.h"
#include "core_test_hooks.h" /* trove_alloc_fail_after */
#include "testdb.h"

#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char work[256], profile[300], bookmarks[400];

/* 2023-11-14 22:13:20 UTC as Chromium writes it, and its Unix µs. */
#define DATE1 "13344473600000000"
#define UNIX1 INT64_C(1700000000000000)
#define DATE2 "13344473660000000"
#define UNIX2 INT64_C(1700000060000000)

static const char real[] =
    "{\n"
    "   \"checksum\": \"0123456789abcdef0123456789abcdef\",\n"
    "   \"roots\": {\n"
    "      \"bookmark_bar\": {\n"
    "         \"children\": [ {\n"
    "            \"date_added\": \"" DATE1 "\", \"date_last_used\": \"0\",\n"
    "            \"guid\": \"00000000-0000-4000-a000-000000000001\", \"id\": \"5\",\n"
    "            \"meta_info\": { \"power_bookmark_meta\": \"\" },\n"
    "            \"name\": \"Example \\u00e9t\\u00e9\", \"type\": \"url\",\n"
    "            \"url\": \"https://example.com/#intro\"\n"
    "         }, {\n"
    "            \"children\": [ { \"children\": [ {\n"
    "               \"date_added\": \"" DATE2 "\", \"id\": \"8\", \"name\": \"Deep\",\n"
    "               \"type\": \"url\", \"url\": \"https://deep.example/a?b=c\" } ],\n"
    "               \"date_added\": \"" DATE1 "\", \"id\": \"7\", \"name\": \"Inner\",\n"
    "               \"type\": \"folder\" } ],\n"
    "            \"date_added\": \"" DATE1 "\", \"date_modified\": \"" DATE2 "\",\n"
    "            \"id\": \"6\", \"name\": \"Folder\", \"type\": \"folder\"\n"
    "         } ],\n"
    "         \"date_added\": \"" DATE1 "\", \"id\": \"1\", \"name\": \"Bookmarks bar\",\n"
    "         \"type\": \"folder\"\n"
    "      },\n"
    "      \"other\": {\n"
    "         \"children\": [\n"
    "           { \"date_added\": \"" DATE2 "\", \"name\": \"\", \"type\": \"url\",\n"
    "             \"url\": \"https://EXAMPLE.com/\" },\n"
    "           { \"date_added\": \"" DATE1 "\", \"name\": \"JS\", \"type\": \"url\",\n"
    "             \"url\": \"javascript:alert(1)\" },\n"
    "           { \"date_added\": \"not a number\", \"name\": \"No date\", \"type\": \"url\",\n"
    "             \"url\": \"http://nodate.example/\" },\n"
    "           { \"name\": \"No url\", \"type\": \"url\" },\n"
    "           { \"name\": \"Number url\", \"type\": \"url\", \"url\": 42 },\n"
    "           \"not an object\", 7, null\n"
    "         ],\n"
    "         \"date_added\": \"" DATE1 "\", \"id\": \"2\", \"name\": \"Other bookmarks\",\n"
    "         \"type\": \"folder\"\n"
    "      },\n"
    "      \"synced\": {\n"
    "         \"children\": [ { \"date_added\": 13344473600000000, \"name\": \"Synced\",\n"
    "             \"type\": \"url\", \"url\": \"https://synced.example/\" } ],\n"
    "         \"id\": \"3\", \"name\": \"Mobile bookmarks\", \"type\": \"folder\"\n"
    "      }\n"
    "   },\n"
    "   \"version\": 1\n"
    "}\n";

static void write_bookmarks(const char *text, size_t len) {
  tdb_remove(profile);
  CHECK(mkdir(profile, 0700) == 0);
  CHECK(tdb_write(bookmarks, text, len));
}

typedef struct got {
  trove_batch b;
  trove_source_stats st;
} got;

static int collect(const char *location, got *g, trove_err *e) {
  memset(g, 0, sizeof *g);
  trove_source *src = NULL;
  int rc = trove_source_open_chromium_bookmarks(location, &src, e);
  if (rc) {
    CHECK(src == NULL);
    return rc;
  }
  CHECK(trove_source_next(src, &g->b, NULL) >= 0);
  trove_batch rest = {0};
  CHECK(trove_source_next(src, &rest, NULL) == 0);
  trove_source_get_stats(src, &g->st);
  trove_source_close(src);
  return 0;
}

static const trove_candidate *find(const got *g, const char *url) {
  for (size_t i = 0; i < g->b.n; i++)
    if (strcmp(g->b.items[i].external_id, url) == 0)
      return &g->b.items[i];
  return NULL;
}

static got g;

static void bookmarks_walks_every_root_and_folder(void) {
  write_bookmarks(real, sizeof real - 1);
  trove_err e = {0};
  CHECK(collect(profile, &g, &e) == 0);
  CHECK(g.b.n == 4);
  const trove_candidate *ex = find(&g, "https://example.com/");
  CHECK(ex && ex->type == TROVE_ITEM_BOOKMARK && ex->path == NULL && ex->visited_us == 0);
  CHECK(ex && ex->time_us == UNIX1); /* the earlier of the two, converted from 1601 µs */
  CHECK(ex && ex->title && strcmp(ex->title, "Example \xc3\xa9t\xc3\xa9") == 0);
  const trove_candidate *deep = find(&g, "https://deep.example/a?b=c");
  CHECK(deep && deep->time_us == UNIX2 && strcmp(deep->title, "Deep") == 0);
  const trove_candidate *nd = find(&g, "http://nodate.example/");
  CHECK(nd && nd->time_us == 0);
  const trove_candidate *sy = find(&g, "https://synced.example/");
  CHECK(sy && sy->time_us == UNIX1); /* a numeric date_added is accepted too */
  CHECK(g.st.not_http == 1 && g.st.bad_rows == 2 && g.st.duplicates == 1 && g.st.yielded == 4);
  trove_batch_clear(&g.b);
}

static void bookmarks_times_are_not_unix_seconds(void) {
  /* perceive's bug: 13344473600000000 read as seconds is the year ~4e8 */
  write_bookmarks(real, sizeof real - 1);
  CHECK(collect(bookmarks, &g, NULL) == 0); /* the file itself as location */
  for (size_t i = 0; i < g.b.n; i++) {
    int64_t t = g.b.items[i].time_us;
    CHECK(t == 0 || (t > INT64_C(946684800000000) && t < INT64_C(4102444800000000)));
  }
  trove_batch_clear(&g.b);
}

static void bookmarks_bad_files_give_clear_errors(void) {
  trove_err e = {0};
  char p[500];
  snprintf(p, sizeof p, "%s/missing-profile", work);
  CHECK(collect(p, &g, &e) == TROVE_ENOENT && strstr(e.msg, "missing-profile"));
  tdb_remove(profile);
  CHECK(mkdir(profile, 0700) == 0);
  CHECK(collect(profile, &g, &e) == TROVE_ENOENT && strstr(e.msg, "no Bookmarks in"));
  write_bookmarks("", 0);
  CHECK(collect(profile, &g, &e) == TROVE_ECORRUPT && strstr(e.msg, "empty"));
  write_bookmarks(real, sizeof real / 2); /* truncated mid-file */
  CHECK(collect(profile, &g, &e) == TROVE_ECORRUPT);
  CHECK(strstr(e.msg, "damaged") && strstr(e.msg, "Bookmarks"));
  write_bookmarks("{\"roots\": {,}}", 14);
  CHECK(collect(profile, &g, &e) == TROVE_ECORRUPT && strstr(e.msg, "byte"));
  write_bookmarks("[1, 2, 3]", 9);
  CHECK(collect(profile, &g, &e) == TROVE_ECORRUPT && strstr(e.msg, "roots"));
  write_bookmarks("{\"roots\": []}", 13);
  CHECK(collect(profile, &g, &e) == TROVE_ECORRUPT);
  write_bookmarks("{\"roots\"\0: {}}", 14);
  CHECK(collect(profile, &g, &e) == TROVE_ECORRUPT && strstr(e.msg, "binary"));
  const char *latin1 = "{\"roots\": {\"x\": \"caf\xe9\"}}";
  write_bookmarks(latin1, strlen(latin1));
  CHECK(collect(profile, &g, &e) == TROVE_ECORRUPT && strstr(e.msg, "not_utf8"));
  write_bookmarks("{}", 2); /* then grown, sparse, past the 256 MiB cap */
  CHECK(truncate(bookmarks, (off_t)257 << 20) == 0);
  CHECK(collect(profile, &g, &e) == TROVE_ERANGE && strstr(e.msg, "256 MiB"));
  trove_source *src = (trove_source *)1;
  CHECK(trove_source_open_chromium_bookmarks(NULL, &src, &e) == TROVE_EINVAL && src == NULL);
  CHECK(trove_source_open_chromium_bookmarks(profile, NULL, &e) == TROVE_EINVAL);
}

static void bookmarks_empty_roots_yield_nothing(void) {
  const char *empty = "{\"roots\": {\"bookmark_bar\": {\"children\": [], \"type\": \"folder\"}}}";
  write_bookmarks(empty, strlen(empty));
  CHECK(collect(profile, &g, NULL) == 0 && g.b.n == 0);
}

static void bookmarks_fault_loop_is_clean(void) {
  write_bookmarks(real, sizeof real - 1);
  long failed = 1;
  int n;
  for (n = 0; n < 500 && failed; n++) {
    trove_alloc_fail_after(n, false);
    int rc = collect(profile, &g, NULL);
    failed = trove_alloc_fail_after(-1, false);
    CHECK(rc == 0 || rc == TROVE_ENOMEM);
    if (rc == 0)
      CHECK(g.b.n == 4);
    trove_batch_clear(&g.b);
  }
  CHECK(failed == 0 && n > 5);
}

int main(void) {
  if (!tdb_tempdir(work, sizeof work, "bookmarks"))
    return 1;
  snprintf(profile, sizeof profile, "%s/Default", work);
  snprintf(bookmarks, sizeof bookmarks, "%s/Bookmarks", profile);
  RUN(bookmarks_walks_every_root_and_folder);
  RUN(bookmarks_times_are_not_unix_seconds);
  RUN(bookmarks_bad_files_give_clear_errors);
  RUN(bookmarks_empty_roots_yield_nothing);
  RUN(bookmarks_fault_loop_is_clean);
  tdb_remove(work);
  return check_done("bookmarks_test");
}
