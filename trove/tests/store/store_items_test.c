/* store_items_test.c: the item life cycle a scan drives: batch match,
 * upsert, touch, skip, delete-unseen; listing item paths; reading back with raw content through
 * zstd (and a damaged blob failing cleanly); keyset pagination; hiding;
 * passages and vectors of the embedding slot; stats. */
#include "fixture.h"

#include "store_int.h" /* white-box: the batch-lost and disk-full cases */

#include <sqlite3.h>

static void items_match_reports_what_change_detection_needs(void) {
  env v;
  env_init(&v);
  trove_err e = {0};
  trove_store_item it = fx_item("/a.md", "A", "alpha", 1);
  it.etag = "\"e1\"";
  it.last_modified = "Tue, 01 Jan 2030 00:00:00 GMT";
  it.mtime_us = 77;
  it.size = 5;
  it.process_version = 3;
  int64_t a, b;
  CHECK(trove_store_item_upsert(v.st, v.src, &it, &a, &e) == 0);
  trove_store_item sk = fx_item("/b.bin", NULL, NULL, 1);
  sk.skip_reason = "binary";
  CHECK(trove_store_item_skip(v.st, v.src, &sk, &b, &e) == 0 && b != a);
  const char *ids[] = {"/new", "/b.bin", "/a.md", "/a.md"};
  trove_store_match m[4];
  CHECK(trove_store_items_match(v.st, v.src, ids, 4, m, &e) == 0);
  CHECK(m[0].item_id == 0 && m[0].content_hash == NULL);
  CHECK(m[1].item_id == b && m[1].skip_reason && strcmp(m[1].skip_reason, "binary") == 0);
  CHECK(m[2].item_id == a && m[3].item_id == a && m[2].skip_reason == NULL);
  CHECK(m[2].content_hash && strcmp(m[2].content_hash, "h1") == 0);
  CHECK(m[2].etag && strcmp(m[2].etag, "\"e1\"") == 0);
  CHECK(m[2].last_modified && strstr(m[2].last_modified, "2030"));
  CHECK(m[2].mtime_us == 77 && m[2].size == 5 && m[2].process_version == 3);
  CHECK(m[2].text_hash == NULL); /* none given */
  trove_store_match_clear(m, 4);
  it.text_hash = "t1";
  CHECK(trove_store_item_upsert(v.st, v.src, &it, NULL, &e) == 0);
  CHECK(trove_store_items_match(v.st, v.src, ids, 4, m, &e) == 0);
  CHECK(m[2].text_hash && strcmp(m[2].text_hash, "t1") == 0);
  trove_store_match_clear(m, 4);
  trove_store_item got = {0};
  CHECK(trove_store_item_get(v.st, a, false, &got, &e) == 0 && got.text_hash &&
        strcmp(got.text_hash, "t1") == 0);
  trove_store_item_clear(&got);
  CHECK(trove_store_items_match(v.st, v.src + 1, ids, 4, m, &e) == 0 && m[2].item_id == 0);
  trove_store_match_clear(m, 4);
  env_done(&v);
}

static void items_match_bad_batches_are_refused(void) {
  env v;
  env_init(&v);
  trove_err e = {0};
  static const char *many[TROVE_STORE_MATCH_MAX + 1];
  static trove_store_match m[TROVE_STORE_MATCH_MAX + 1];
  for (size_t i = 0; i <= TROVE_STORE_MATCH_MAX; i++)
    many[i] = "/x";
  CHECK(trove_store_items_match(v.st, v.src, many, TROVE_STORE_MATCH_MAX + 1, m, &e) ==
        TROVE_ERANGE);
  CHECK(trove_store_items_match(v.st, v.src, many, TROVE_STORE_MATCH_MAX, m, &e) == 0);
  trove_store_match_clear(m, TROVE_STORE_MATCH_MAX);
  const char *holes[] = {"/a", NULL};
  CHECK(trove_store_items_match(v.st, v.src, holes, 2, m, &e) == TROVE_EINVAL);
  CHECK(trove_store_items_match(v.st, v.src, NULL, 0, NULL, &e) == 0);
  env_done(&v);
}

static void items_paths_lists_visible_items_in_id_order(void) {
  env v;
  env_init(&v);
  trove_err e = {0};
  const char *paths[] = {"/doc/b.html", "/doc/a.html", "/doc/hidden.html"};
  int64_t id = 0;
  for (size_t i = 0; i < 3; i++) {
    trove_store_item it = fx_item(paths[i], "T", "text", 1);
    CHECK(trove_store_item_upsert(v.st, v.src, &it, &id, &e) == 0);
  }
  CHECK(trove_store_item_set_hidden(v.st, id, true, &e) == 0);
  char **out = NULL;
  size_t n = 0;
  CHECK(trove_store_items_paths(v.st, &out, &n, &e) == 0 && n == 2);
  CHECK(n == 2 && strcmp(out[0], "/doc/b.html") == 0 && strcmp(out[1], "/doc/a.html") == 0);
  trove_store_paths_free(out, n);
  CHECK(trove_store_items_paths(NULL, &out, &n, &e) == TROVE_EINVAL);
  trove_store_paths_free(NULL, 0);
  env_done(&v);
}

static void items_upsert_replaces_content_keeps_id_and_hidden(void) {
  env v;
  env_init(&v);
  trove_err e = {0};
  int64_t id, id2;
  trove_store_item it = fx_item("/a", "Old", "old words", 1);
  CHECK(trove_store_item_upsert(v.st, v.src, &it, &id, &e) == 0);
  CHECK(trove_store_item_set_hidden(v.st, id, true, &e) == 0);
  it = fx_item("/a", "New", "new words", 2);
  it.author = "Ann";
  it.is_link_hub = true;
  it.type = TROVE_ITEM_WEB;
  CHECK(trove_store_item_upsert(v.st, v.src, &it, &id2, &e) == 0 && id2 == id);
  trove_store_item got;
  CHECK(trove_store_item_get(v.st, id, false, &got, &e) == 0);
  CHECK(strcmp(got.title, "New") == 0 && strcmp(got.text, "new words") == 0);
  CHECK(strcmp(got.author, "Ann") == 0 && got.is_link_hub && got.type == TROVE_ITEM_WEB);
  trove_store_hit *h = NULL; /* hidden: search skips it; unhidden below */
  size_t n = 9;
  CHECK(trove_store_search(v.st, "new", NULL, &h, &n, &e) == 0 && n == 0);
  CHECK(got.hidden_at > 0 && got.seen_in_scan == 2 && got.raw == NULL);
  CHECK(strcmp(got.external_id, "/a") == 0 && got.source_id == v.src);
  trove_store_item_clear(&got);
  CHECK(trove_store_item_set_hidden(v.st, id, false, &e) == 0);
  CHECK(trove_store_item_get(v.st, id, false, &got, &e) == 0 && got.hidden_at == 0);
  trove_store_item_clear(&got);
  CHECK(trove_store_search(v.st, "new", NULL, &h, &n, &e) == 0 && n == 1);
  CHECK(n == 1 && h[0].is_link_hub && h[0].type == TROVE_ITEM_WEB);
  trove_store_hits_free(h, n);
  CHECK(trove_store_check(v.st, &e) == 0);
  env_done(&v);
}

static void items_upsert_bad_input_is_refused(void) {
  env v;
  env_init(&v);
  trove_err e = {0};
  trove_store_item it = fx_item(NULL, "T", "x", 1);
  CHECK(trove_store_item_upsert(v.st, v.src, &it, NULL, &e) == TROVE_EINVAL);
  it.external_id = "";
  CHECK(trove_store_item_upsert(v.st, v.src, &it, NULL, &e) == TROVE_EINVAL);
  it.external_id = "/x";
  it.type = TROVE_ITEM_ANY;
  CHECK(trove_store_item_upsert(v.st, v.src, &it, NULL, &e) == TROVE_EINVAL);
  it.type = TROVE_ITEM_LOCAL;
  it.raw = NULL;
  CHECK(trove_store_item_upsert(v.st, v.src, &it, NULL, &e) == TROVE_EINVAL);
  it = fx_item("/x", "T", "x", 1);
  CHECK(trove_store_item_upsert(v.st, v.src + 99, &it, NULL, &e) == TROVE_ENOENT);
  CHECK(strstr(e.msg, "no source") != NULL);
  CHECK(trove_store_item_upsert(NULL, v.src, &it, NULL, &e) == TROVE_EINVAL);
  it.raw_len = (size_t)300 << 20; /* refused before a byte of raw is read */
  CHECK(trove_store_item_upsert(v.st, v.src, &it, NULL, &e) == TROVE_ERANGE);
  CHECK(trove_store_items_delete_unseen(NULL, v.src, 1, NULL, NULL, &e) == TROVE_EINVAL);
  CHECK(trove_store_item_get(v.st, 12345, false, &(trove_store_item){0}, &e) == TROVE_ENOENT);
  CHECK(trove_store_item_set_hidden(v.st, 12345, true, &e) == TROVE_ENOENT);
  CHECK(trove_store_item_touch(v.st, 12345, 1, 0, 0, -1, &e) == TROVE_ENOENT);
  env_done(&v);
}

static void items_touch_changes_only_seen_visit_mtime_and_size(void) {
  env v;
  env_init(&v);
  trove_err e = {0};
  int64_t id;
  trove_store_item it = fx_item("/a", "T", "text", 1);
  it.last_visited = 100;
  CHECK(trove_store_item_upsert(v.st, v.src, &it, &id, &e) == 0);
  CHECK(trove_store_item_touch(v.st, id, 5, 50, 0, -1, &e) == 0); /* older visit: kept 100 */
  trove_store_item got;
  CHECK(trove_store_item_get(v.st, id, false, &got, &e) == 0);
  CHECK(got.seen_in_scan == 5 && got.last_visited == 100 && strcmp(got.title, "T") == 0);
  CHECK(got.mtime_us == it.mtime_us && got.size == it.size); /* size -1: both kept */
  trove_store_item_clear(&got);
  CHECK(trove_store_item_touch(v.st, id, 6, 200, 1234567, 42, &e) == 0);
  CHECK(trove_store_item_get(v.st, id, false, &got, &e) == 0);
  CHECK(got.seen_in_scan == 6 && got.last_visited == 200);
  CHECK(got.mtime_us == 1234567 && got.size == 42);
  trove_store_item_clear(&got);
  env_done(&v);
}

static void items_skip_records_reason_and_keeps_content(void) {
  env v;
  env_init(&v);
  trove_err e = {0};
  int64_t id, id2, fresh;
  trove_store_item it = fx_item("https://x/a", "Page", "kept words", 1);
  it.type = TROVE_ITEM_WEB;
  CHECK(trove_store_item_upsert(v.st, v.src, &it, &id, &e) == 0);
  trove_store_item sk = {.external_id = "https://x/a", .type = TROVE_ITEM_WEB,
                         .skip_reason = "error", .error = "HTTP 500", .seen_in_scan = 2};
  CHECK(trove_store_item_skip(v.st, v.src, &sk, &id2, &e) == 0 && id2 == id);
  trove_store_item got;
  CHECK(trove_store_item_get(v.st, id, false, &got, &e) == 0);
  CHECK(strcmp(got.text, "kept words") == 0 && strcmp(got.skip_reason, "error") == 0);
  CHECK(strcmp(got.error, "HTTP 500") == 0 && got.seen_in_scan == 2);
  trove_store_item_clear(&got);
  sk = (trove_store_item){.external_id = "https://x/new", .type = TROVE_ITEM_BOOKMARK,
                          .title = "Saved", .skip_reason = "unauthorized"};
  CHECK(trove_store_item_skip(v.st, v.src, &sk, &fresh, &e) == 0);
  CHECK(trove_store_item_get(v.st, fresh, false, &got, &e) == 0);
  CHECK(strcmp(got.title, "Saved") == 0 && got.text == NULL && got.type == TROVE_ITEM_BOOKMARK);
  trove_store_item_clear(&got);
  sk.skip_reason = NULL;
  CHECK(trove_store_item_skip(v.st, v.src, &sk, NULL, &e) == TROVE_EINVAL);
  sk.skip_reason = "gone";
  CHECK(trove_store_item_skip(v.st, v.src + 5, &sk, NULL, &e) == TROVE_ENOENT);
  CHECK(trove_store_item_upsert(v.st, v.src, &it, NULL, &e) == 0); /* fixed: reason cleared */
  CHECK(trove_store_item_get(v.st, id, false, &got, &e) == 0 && got.skip_reason == NULL);
  trove_store_item_clear(&got);
  env_done(&v);
}

static void items_delete_unseen_removes_only_what_the_scan_missed(void) {
  env v;
  env_init(&v);
  trove_err e = {0};
  int64_t other, ver, ids[4];
  CHECK(trove_store_source_add(v.st, "other", "fs", "/o", NULL, &other, &e) == 0);
  CHECK(trove_store_scan_begin(v.st, v.src, &ver, &e) == 0 && ver == 1);
  const char *names[] = {"/0", "/1", "/2", "/3"};
  CHECK(trove_store_begin(v.st, &e) == 0);
  for (int i = 0; i < 4; i++) {
    trove_store_item it = fx_item(names[i], "T", "some words here", ver);
    CHECK(trove_store_item_upsert(v.st, v.src, &it, &ids[i], &e) == 0);
  }
  trove_store_item it = fx_item("/0", "T", "some words here", ver);
  CHECK(trove_store_item_upsert(v.st, other, &it, NULL, &e) == 0);
  trove_store_passage p = {.ordinal = 0, .start = 0, .end = 4};
  int64_t pid;
  CHECK(trove_store_passages_replace(v.st, ids[3], &p, 1, &pid, NULL, &e) == 0);
  CHECK(trove_store_commit(v.st, &e) == 0);
  CHECK(trove_store_scan_begin(v.st, v.src, &ver, &e) == 0 && ver == 2);
  CHECK(trove_store_item_touch(v.st, ids[0], ver, 0, 0, -1, &e) == 0);
  it = fx_item("/1", "T2", "changed words", ver);
  CHECK(trove_store_item_upsert(v.st, v.src, &it, NULL, &e) == 0);
  trove_store_item sk = {.external_id = "/2", .type = TROVE_ITEM_LOCAL, .skip_reason = "binary",
                         .seen_in_scan = ver};
  CHECK(trove_store_item_skip(v.st, v.src, &sk, NULL, &e) == 0);
  trove_store_ids gone = {0};
  int64_t deleted = -1;
  CHECK(trove_store_items_delete_unseen(v.st, v.src, ver, &deleted, &gone, &e) == 0);
  CHECK(deleted == 1 && gone.n == 1 && gone.v[0] == pid);
  trove_store_item got;
  CHECK(trove_store_item_get(v.st, ids[3], false, &got, &e) == TROVE_ENOENT);
  for (int i = 0; i < 3; i++) {
    CHECK(trove_store_item_get(v.st, ids[i], false, &got, &e) == 0);
    trove_store_item_clear(&got);
  }
  CHECK(trove_store_items_delete_unseen(v.st, v.src, ver, &deleted, NULL, &e) == 0 &&
        deleted == 0);
  trove_store_stats s; /* the other source's item is untouched */
  CHECK(trove_store_stats_get(v.st, &s, &e) == 0 && s.items == 4 && s.passages == 0);
  trove_store_stats_clear(&s);
  CHECK(trove_store_check(v.st, &e) == 0);
  trove_store_ids_free(&gone);
  env_done(&v);
}

static void items_upsert_keep_raw_leaves_stored_content(void) {
  env v;
  env_init(&v);
  trove_err e = {0};
  int64_t id;
  trove_store_item it = fx_item("/k", "Old", "<p>stored raw</p>", 1);
  CHECK(trove_store_item_upsert(v.st, v.src, &it, &id, &e) == 0);
  it = fx_item("/k", "New", "re-extracted", 1); /* what reprocess writes */
  it.raw = NULL;
  it.raw_len = 0;
  it.keep_raw = true;
  it.process_version = 2;
  CHECK(trove_store_item_upsert(v.st, v.src, &it, NULL, &e) == 0);
  trove_store_item got;
  CHECK(trove_store_item_get(v.st, id, true, &got, &e) == 0);
  CHECK(got.raw && strcmp(got.raw, "<p>stored raw</p>") == 0 && got.raw_len == 17);
  CHECK(strcmp(got.text, "re-extracted") == 0 && got.process_version == 2);
  trove_store_item_clear(&got);
  it.keep_raw = false; /* without the flag, NULL raw means none */
  CHECK(trove_store_item_upsert(v.st, v.src, &it, NULL, &e) == 0);
  CHECK(trove_store_item_get(v.st, id, true, &got, &e) == 0 && got.raw == NULL);
  trove_store_item_clear(&got);
  env_done(&v);
}

static void items_writes_after_a_lost_batch_are_eio(void) {
  env v;
  env_init(&v);
  trove_err e = {0};
  int64_t id;
  trove_store_item it = fx_item("/a", "A", "text", 1);
  CHECK(trove_store_begin(v.st, &e) == 0);
  CHECK(trove_store_item_upsert(v.st, v.src, &it, &id, &e) == 0);
  /* What SQLite does on some I/O and memory errors: roll it all back. */
  CHECK(sqlite3_exec(v.st->db, "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK);
  it.external_id = "/b";
  CHECK(trove_store_item_upsert(v.st, v.src, &it, NULL, &e) == TROVE_EIO);
  CHECK(strstr(e.msg, "redo the batch") != NULL);
  CHECK(trove_store_item_touch(v.st, id, 2, 0, 0, -1, &e) == TROVE_EIO);
  CHECK(trove_store_items_delete_unseen(v.st, v.src, 5, NULL, NULL, &e) == TROVE_EIO);
  CHECK(trove_store_commit(v.st, &e) == TROVE_EIO);
  const char *ids[] = {"/a", "/b"}; /* nothing was written outside the batch */
  trove_store_match m[2];
  CHECK(trove_store_items_match(v.st, v.src, ids, 2, m, &e) == 0);
  CHECK(m[0].item_id == 0 && m[1].item_id == 0);
  trove_store_match_clear(m, 2);
  env_done(&v);
}

/* After a COMMIT failed and its ROLLBACK failed too (memory kept failing),
 * SQLite is still inside the transaction while the store has closed the
 * batch; the next batch must start anyway. */
static void begin_recovers_from_a_transaction_left_open(void) {
  env v;
  env_init(&v);
  trove_err e = {0};
  CHECK(trove_store_begin(v.st, &e) == 0);
  v.st->in_batch = false; /* the state such a double failure leaves */
  CHECK(!sqlite3_get_autocommit(v.st->db));
  CHECK(trove_store_begin(v.st, &e) == 0);
  trove_store_item it = fx_item("/after", "A", "text", 1);
  CHECK(trove_store_item_upsert(v.st, v.src, &it, NULL, &e) == 0);
  CHECK(trove_store_commit(v.st, &e) == 0);
  env_done(&v);
}

static void items_disk_full_is_eio_and_changes_nothing(void) {
  env v;
  env_init(&v);
  trove_err e = {0};
  /* A database that may not grow stands in for a full disk. */
  CHECK(sqlite3_exec(v.st->db, "PRAGMA max_page_count = 1", NULL, NULL, NULL) ==
        SQLITE_OK);
  static char big[200000];
  memset(big, 'x', sizeof big - 1);
  trove_store_item it = fx_item("/big", "Big", big, 1);
  CHECK(trove_store_item_upsert(v.st, v.src, &it, NULL, &e) == TROVE_EIO);
  CHECK(strstr(e.msg, "disk full") != NULL);
  const char *id = "/big";
  trove_store_match m;
  CHECK(trove_store_items_match(v.st, v.src, &id, 1, &m, &e) == 0 && m.item_id == 0);
  CHECK(trove_store_check(v.st, &e) == 0);
  env_done(&v);
}

static void items_raw_content_round_trips_through_zstd(void) {
  env v;
  env_init(&v);
  trove_err e = {0};
  size_t n = 100000;
  unsigned char *raw = malloc(n);
  for (size_t i = 0; i < n; i++)
    raw[i] = (unsigned char)(i % 251 == 0 ? 0 : "<p>hello world</p>"[i % 18]);
  trove_store_item it = fx_item("/r", "R", "hello", 1);
  it.raw = raw;
  it.raw_len = n;
  int64_t id, empty;
  CHECK(trove_store_item_upsert(v.st, v.src, &it, &id, &e) == 0);
  trove_store_item got;
  CHECK(trove_store_item_get(v.st, id, true, &got, &e) == 0);
  CHECK(got.raw_len == n && got.raw && memcmp(got.raw, raw, n) == 0);
  trove_store_item_clear(&got);
  it = fx_item("/empty", "E", "", 1); /* zero bytes of raw is still raw */
  it.raw = "";
  CHECK(trove_store_item_upsert(v.st, v.src, &it, &empty, &e) == 0);
  CHECK(trove_store_item_get(v.st, empty, true, &got, &e) == 0);
  CHECK(got.raw && got.raw_len == 0);
  trove_store_item_clear(&got);
  free(raw);
  env_done(&v);
}

static void items_damaged_blob_is_ecorrupt_not_a_crash(void) {
  env v;
  env_init(&v);
  trove_err e = {0};
  int64_t id;
  trove_store_item it = fx_item("/r", "R", "hello world hello world", 1);
  CHECK(trove_store_item_upsert(v.st, v.src, &it, &id, &e) == 0);
  static const char *damage[] = {
      "UPDATE items SET raw = x'00112233'",              /* not a frame */
      "UPDATE items SET raw_size = raw_size + 1",        /* size disagrees */
      "UPDATE items SET raw = substr(raw, 1, length(raw) - 3)", /* truncated */
      "UPDATE items SET raw_size = 1000000000000",       /* absurd size */
  };
  for (size_t i = 0; i < sizeof damage / sizeof damage[0]; i++) {
    CHECK(trove_store_item_upsert(v.st, v.src, &it, &id, &e) == 0);
    raw_exec(v.f.db, damage[i]);
    trove_store_item got;
    CHECK(trove_store_item_get(v.st, id, true, &got, &e) == TROVE_ECORRUPT);
    CHECK(strstr(e.msg, "damaged") && strstr(e.msg, "scan --force"));
    CHECK(trove_store_item_get(v.st, id, false, &got, &e) == 0); /* text still readable */
    trove_store_item_clear(&got);
    trove_store_item *page = NULL;
    size_t n = 9;
    CHECK(trove_store_items_next(v.st, v.src, NULL, 0, 10, &page, &n, &e) == TROVE_ECORRUPT);
    CHECK(page == NULL && n == 0);
  }
  env_done(&v);
}

static void items_next_pages_every_raw_item_once_in_id_order(void) {
  env v;
  env_init(&v);
  trove_err e = {0};
  char name[16];
  int64_t want[10];
  size_t nwant = 0;
  CHECK(trove_store_begin(v.st, &e) == 0);
  for (int i = 0; i < 10; i++) {
    snprintf(name, sizeof name, "/%d", i);
    trove_store_item it = fx_item(name, "T", name, 1);
    if (i % 4 == 1) { /* skipped: no raw, not for reprocess */
      it.raw = NULL;
      it.raw_len = 0;
    }
    int64_t id;
    CHECK(trove_store_item_upsert(v.st, v.src, &it, &id, &e) == 0);
    if (i % 4 != 1)
      want[nwant++] = id;
  }
  CHECK(trove_store_commit(v.st, &e) == 0);
  size_t seen = 0;
  int64_t after = 0;
  for (int round = 0; round < 20; round++) {
    trove_store_item *page = NULL;
    size_t n = 0;
    CHECK(trove_store_items_next(v.st, v.src, NULL, after, 3, &page, &n, &e) == 0);
    if (n == 0)
      break;
    CHECK(n <= 3);
    for (size_t i = 0; i < n; i++) {
      CHECK(seen < nwant && page[i].id == want[seen]);
      CHECK(page[i].raw && strcmp(page[i].raw, page[i].external_id) == 0);
      seen++;
    }
    after = page[n - 1].id;
    trove_store_items_free(page, n);
  }
  CHECK(seen == nwant);
  trove_store_item *page;
  size_t n;
  CHECK(trove_store_items_next(v.st, v.src, NULL, 0, 0, &page, &n, &e) == TROVE_EINVAL);
  env_done(&v);
}

static size_t count_pending(env *v, const char *model) {
  trove_store_item *page = NULL;
  size_t n = 0;
  CHECK(trove_store_items_next(v->st, v->src, model, 0, 100, &page, &n, NULL) == 0);
  trove_store_items_free(page, n);
  return n;
}

static void item_embed_marks_until_the_text_changes(void) {
  env v;
  env_init(&v);
  trove_err e = {0};
  int64_t a, b;
  trove_store_item ia = fx_item("/a", "A", "alpha text here", 1);
  trove_store_item ib = fx_item("/b", "B", "beta text", 1);
  CHECK(trove_store_item_upsert(v.st, v.src, &ia, &a, &e) == 0);
  CHECK(trove_store_item_upsert(v.st, v.src, &ib, &b, &e) == 0);
  CHECK(count_pending(&v, "m") == 2 && count_pending(&v, "other") == 2);
  trove_store_passage p[2] = {{.ordinal = 0, .start = 0, .end = 5, .heading = "H"},
                              {.ordinal = 1, .start = 6, .end = 10}};
  float vec[2 * 4] = {1, 0, 0, 0, 0, 1, 0, 0};
  int64_t ids[2];
  CHECK(trove_store_item_embed(v.st, a, "m", p, vec, 2, 4, ids, NULL, &e) == 0);
  CHECK(trove_store_item_embed(v.st, b, "m", NULL, NULL, 0, 4, NULL, NULL, &e) == 0);
  CHECK(count_pending(&v, "m") == 0 && count_pending(&v, "other") == 2);
  float *got = NULL;
  size_t dim = 0;
  CHECK(trove_store_vector_get(v.st, ids[1], "m", &got, &dim, &e) == 0 && dim == 4 && got[1] == 1);
  trove_free(got);
  /* a wrong dimension or a missing item changes nothing */
  CHECK(trove_store_item_embed(v.st, a, "m", p, vec, 1, 8, ids, NULL, &e) == TROVE_EINVAL);
  CHECK(trove_store_item_embed(v.st, 9999, "m", NULL, NULL, 0, 4, NULL, NULL, &e) == TROVE_ENOENT);
  CHECK(count_pending(&v, "m") == 0);
  /* same text: still embedded; new text: pending again */
  CHECK(trove_store_item_upsert(v.st, v.src, &ia, NULL, &e) == 0);
  CHECK(count_pending(&v, "m") == 0);
  ia.text = "alpha text changed";
  CHECK(trove_store_item_upsert(v.st, v.src, &ia, NULL, &e) == 0);
  CHECK(count_pending(&v, "m") == 1);
  /* re-embedding reports the old passages for the index's tombstones */
  trove_store_ids removed = {0};
  CHECK(trove_store_item_embed(v.st, a, "m", p, vec, 1, 4, ids, &removed, &e) == 0);
  CHECK(removed.n == 2 && count_pending(&v, "m") == 0);
  trove_store_ids_free(&removed);
  env_done(&v);
}

/* A renamed file: the item takes the new path and keeps its id, hidden
 * flag, passages, vectors and embedded mark. */
static void item_move_keeps_everything_but_the_path(void) {
  env v;
  env_init(&v);
  trove_err e = {0};
  int64_t a, b;
  trove_store_item ia = fx_item("/old.md", "A", "alpha text here", 1);
  trove_store_item ib = fx_item("/b.md", "B", "beta text", 1);
  CHECK(trove_store_item_upsert(v.st, v.src, &ia, &a, &e) == 0);
  CHECK(trove_store_item_upsert(v.st, v.src, &ib, &b, &e) == 0);
  trove_store_passage p = {.ordinal = 0, .start = 0, .end = 5};
  float vec[4] = {1, 0, 0, 0};
  int64_t pid = 0;
  CHECK(trove_store_item_embed(v.st, a, "m", &p, vec, 1, 4, &pid, NULL, &e) == 0);
  CHECK(trove_store_item_set_hidden(v.st, a, true, &e) == 0);
  int64_t version = 0;
  size_t dim = 0;
  CHECK(trove_store_vectors_version(v.st, "m", &version, &dim, NULL, &e) == 0);

  CHECK(trove_store_item_move(v.st, a, "/new.md", &e) == 0);
  trove_store_item got = {0};
  CHECK(trove_store_item_get(v.st, a, false, &got, &e) == 0);
  CHECK(strcmp(got.external_id, "/new.md") == 0 && got.hidden_at > 0 &&
        strcmp(got.text, "alpha text here") == 0);
  trove_store_item_clear(&got);
  int64_t after = 0;
  CHECK(trove_store_vectors_version(v.st, "m", &after, &dim, NULL, &e) == 0 && after == version);
  CHECK(count_pending(&v, "m") == 1); /* b only: a is still embedded */
  trove_store_passage *ps = NULL;
  size_t n = 0;
  CHECK(trove_store_passages_get(v.st, a, &ps, &n, &e) == 0 && n == 1 && ps[0].id == pid);
  trove_store_passages_free(ps, n);

  CHECK(trove_store_item_move(v.st, a, "/b.md", &e) == TROVE_EEXIST && strstr(e.msg, "/b.md"));
  CHECK(trove_store_item_move(v.st, 9999, "/c.md", &e) == TROVE_ENOENT);
  CHECK(trove_store_item_move(v.st, a, "", &e) == TROVE_EINVAL);
  CHECK(trove_store_item_get(v.st, a, false, &got, &e) == 0 &&
        strcmp(got.external_id, "/new.md") == 0);
  trove_store_item_clear(&got);
  env_done(&v);
}

/* The items of a source with given raw bytes: where a scan looks for the
 * item a renamed file was. Skipped items and other sources do not count. */
static void items_same_content_finds_one_sources_copies(void) {
  env v;
  env_init(&v);
  trove_err e = {0};
  int64_t other = 0, a, b, c;
  CHECK(trove_store_source_add(v.st, "other", "fs", "/o", NULL, &other, &e) == 0);
  trove_store_item ia = fx_item("/a", "A", "same", 1), ib = fx_item("/b", "B", "same", 1);
  trove_store_item ic = fx_item("/c", "C", "other", 1);
  ia.content_hash = ib.content_hash = "hx";
  ia.text_hash = "ta";
  ic.content_hash = "hy";
  CHECK(trove_store_item_upsert(v.st, v.src, &ia, &a, &e) == 0);
  CHECK(trove_store_item_upsert(v.st, v.src, &ib, &b, &e) == 0);
  CHECK(trove_store_item_upsert(v.st, v.src, &ic, &c, &e) == 0);
  CHECK(trove_store_item_upsert(v.st, other, &ia, NULL, &e) == 0);
  trove_store_twin *t = NULL;
  size_t n = 0;
  CHECK(trove_store_items_same_content(v.st, v.src, "hx", 16, &t, &n, &e) == 0 && n == 2);
  CHECK(t[0].id == a && strcmp(t[0].external_id, "/a") == 0 && strcmp(t[0].text_hash, "ta") == 0);
  CHECK(t[1].id == b && t[1].text_hash == NULL);
  trove_store_twins_free(t, n);
  CHECK(trove_store_items_same_content(v.st, v.src, "hx", 1, &t, &n, &e) == 0 && n == 1);
  trove_store_twins_free(t, n);
  trove_store_item sk = fx_item("/a", NULL, NULL, 2);
  sk.skip_reason = "binary";
  CHECK(trove_store_item_skip(v.st, v.src, &sk, NULL, &e) == 0);
  CHECK(trove_store_items_same_content(v.st, v.src, "hx", 16, &t, &n, &e) == 0 && n == 1 &&
        t[0].id == b);
  trove_store_twins_free(t, n);
  CHECK(trove_store_items_same_content(v.st, v.src, "none", 16, &t, &n, &e) == 0 && n == 0);
  CHECK(trove_store_items_same_content(v.st, v.src, "hx", 0, &t, &n, &e) == TROVE_EINVAL);
  env_done(&v);
}

static void source_set_config_replaces_only_the_config(void) {
  env v;
  env_init(&v);
  trove_err e = {0};
  CHECK(trove_store_source_set_config(v.st, v.src, "{\"include\":[\"*.md\"]}", &e) == 0);
  trove_store_source s = {0};
  CHECK(trove_store_source_get(v.st, "docs", &s, &e) == 0 && strstr(s.config, "*.md") &&
        strcmp(s.location, "/d") == 0);
  trove_store_source_clear(&s);
  CHECK(trove_store_source_set_config(v.st, v.src, "{not json", &e) == TROVE_EINVAL);
  CHECK(trove_store_source_set_config(v.st, 9999, "{}", &e) == TROVE_ENOENT);
  CHECK(trove_store_source_get(v.st, "docs", &s, &e) == 0 && strstr(s.config, "*.md"));
  trove_store_source_clear(&s);
  env_done(&v);
}

static void passages_replace_reports_old_ids_and_checks_spans(void) {
  env v;
  env_init(&v);
  trove_err e = {0};
  int64_t item;
  trove_store_item it = fx_item("/p", "P", "0123456789", 1);
  CHECK(trove_store_item_upsert(v.st, v.src, &it, &item, &e) == 0);
  trove_store_passage p[3] = {{.ordinal = 0, .start = 0, .end = 4, .heading = "Intro"},
                              {.ordinal = 1, .start = 4, .end = 8},
                              {.ordinal = 2, .start = 8, .end = 10, .heading = "End"}};
  int64_t ids[3], ids2[2];
  CHECK(trove_store_passages_replace(v.st, item, p, 3, ids, NULL, &e) == 0);
  trove_store_passage *got = NULL;
  size_t n = 0;
  CHECK(trove_store_passages_get(v.st, item, &got, &n, &e) == 0 && n == 3);
  CHECK(n == 3 && got[0].id == ids[0] && strcmp(got[0].heading, "Intro") == 0);
  CHECK(n == 3 && got[1].heading == NULL && got[2].start == 8 && got[2].end == 10);
  trove_store_passages_free(got, n);
  trove_store_ids removed = {0};
  trove_store_passage bad = {.ordinal = 0, .start = 5, .end = 11};
  CHECK(trove_store_passages_replace(v.st, item, &bad, 1, NULL, &removed, &e) == TROVE_EINVAL);
  CHECK(removed.n == 0 && strstr(e.msg, "outside"));
  trove_store_passage twice[2] = {{.ordinal = 1, .end = 1}, {.ordinal = 1, .end = 2}};
  CHECK(trove_store_passages_replace(v.st, item, twice, 2, ids2, &removed, &e) ==
        TROVE_EINVAL);
  CHECK(removed.n == 0 && ids2[0] == 0);
  CHECK(trove_store_passages_get(v.st, item, &got, &n, &e) == 0 && n == 3); /* intact */
  trove_store_passages_free(got, n);
  CHECK(trove_store_passages_replace(v.st, item, p, 2, ids2, &removed, &e) == 0);
  CHECK(removed.n == 3 && removed.v[0] == ids[0] && removed.v[2] == ids[2]);
  CHECK(ids2[0] > ids[2] && ids2[1] > ids2[0]); /* never reused */
  trove_store_passage one;
  int64_t owner = 0;
  CHECK(trove_store_passage_get(v.st, ids2[1], &owner, &one, &e) == 0 && owner == item);
  CHECK(one.id == ids2[1] && one.ordinal == 1 && one.start == 4 && one.end == 8 && !one.heading);
  CHECK(trove_store_passage_get(v.st, ids2[0], &owner, &one, &e) == 0);
  CHECK(one.heading && strcmp(one.heading, "Intro") == 0);
  trove_free((void *)one.heading);
  CHECK(trove_store_passage_get(v.st, ids[0], &owner, &one, &e) == TROVE_ENOENT); /* replaced */
  CHECK(trove_store_passages_replace(v.st, item + 50, p, 1, NULL, NULL, &e) == TROVE_ENOENT);
  CHECK(trove_store_passages_get(v.st, item + 50, &got, &n, &e) == 0 && n == 0 && !got);
  trove_store_ids_free(&removed);
  env_done(&v);
}

/* The items of a list of passages, in one call: repeated ids answered each
 * time, unknown ids zeroed, the filter columns read back. */
static void passage_owners_reads_a_list_in_one_call(void) {
  env v;
  env_init(&v);
  trove_err e = {0};
  int64_t a, b;
  trove_store_item ia = fx_item("/a", "A", "0123456789", 1);
  trove_store_item ib = fx_item("/b", "B", "abcdefghij", 1);
  ib.type = TROVE_ITEM_WEB;
  ib.last_visited = 5000;
  ib.is_link_hub = true;
  CHECK(trove_store_item_upsert(v.st, v.src, &ia, &a, &e) == 0);
  CHECK(trove_store_item_upsert(v.st, v.src, &ib, &b, &e) == 0);
  trove_store_passage p[2] = {{.ordinal = 0, .start = 0, .end = 5},
                              {.ordinal = 1, .start = 5, .end = 10}};
  int64_t pa[2], pb[2];
  CHECK(trove_store_passages_replace(v.st, a, p, 2, pa, NULL, &e) == 0);
  CHECK(trove_store_passages_replace(v.st, b, p, 2, pb, NULL, &e) == 0);
  CHECK(trove_store_item_set_hidden(v.st, b, true, &e) == 0);
  int64_t ids[6] = {pb[1], pa[0], 999999, pa[0], pb[0], -3};
  trove_store_passage_owner o[6];
  memset(o, 0x5a, sizeof o);
  CHECK(trove_store_passage_owners(v.st, ids, 6, o, &e) == 0);
  CHECK(o[0].item_id == b && o[0].source_id == v.src && o[0].type == TROVE_ITEM_WEB);
  CHECK(o[0].time == 5000 && o[0].hidden_at > 0 && o[0].is_link_hub);
  CHECK(o[1].item_id == a && o[1].type == TROVE_ITEM_LOCAL && o[1].hidden_at == 0);
  CHECK(o[1].time == 1000 && !o[1].is_link_hub); /* no visit: the mtime, in seconds */
  CHECK(o[2].item_id == 0 && o[2].source_id == 0 && o[2].time == 0); /* no such passage */
  CHECK(o[3].item_id == a && o[4].item_id == b);                      /* repeated */
  CHECK(o[5].item_id == 0);
  /* a passage replaced since is gone, like one never stored */
  int64_t pa2[2];
  CHECK(trove_store_passages_replace(v.st, a, p, 2, pa2, NULL, &e) == 0);
  CHECK(trove_store_passage_owners(v.st, pa, 2, o, &e) == 0);
  CHECK(o[0].item_id == 0 && o[1].item_id == 0);
  CHECK(trove_store_passage_owners(v.st, pa2, 2, o, &e) == 0);
  CHECK(o[0].item_id == a && o[1].item_id == a);
  CHECK(trove_store_passage_owners(v.st, NULL, 0, NULL, &e) == 0);
  CHECK(trove_store_passage_owners(v.st, NULL, 2, o, &e) == TROVE_EINVAL);
  CHECK(trove_store_passage_owners(NULL, ids, 2, o, &e) == TROVE_EINVAL);
  env_done(&v);
}

/* Five vectors {i, 0.5, -i}, one per passage of item `item`, with ids in
 * pid; vec[2 * 3] (passage 2's first float) is `two`. */
static int embed_five(env *v, int64_t item, float two, int64_t *pid, trove_err *e) {
  trove_store_passage p[5];
  float vec[5 * 3];
  for (int i = 0; i < 5; i++) {
    p[i] = (trove_store_passage){.ordinal = i, .start = i, .end = i + 1};
    vec[i * 3] = (float)i, vec[i * 3 + 1] = 0.5f, vec[i * 3 + 2] = -1.0f * (float)i;
  }
  vec[2 * 3] = two;
  return trove_store_item_embed(v->st, item, "use", p, vec, 5, 3, pid, NULL, e);
}

static void vectors_embed_get_iterate_and_version(void) {
  env v;
  env_init(&v);
  trove_err e = {0};
  int64_t item, pid[5], old[5], ver0, ver1, count;
  size_t dim;
  trove_store_item it = fx_item("/v", "V", "0123456789", 1);
  CHECK(trove_store_item_upsert(v.st, v.src, &it, &item, &e) == 0);
  CHECK(trove_store_vectors_version(v.st, "use", &ver0, &dim, &count, &e) == TROVE_ENOENT);
  CHECK(embed_five(&v, item, 2, old, &e) == 0);
  CHECK(trove_store_vectors_version(v.st, "use", &ver0, &dim, &count, &e) == 0);
  CHECK(dim == 3 && count == 5);
  CHECK(embed_five(&v, item, 42, pid, &e) == 0); /* re-embedding replaces every vector */
  CHECK(trove_store_vectors_version(v.st, "use", &ver1, &dim, &count, &e) == 0);
  CHECK(ver1 > ver0 && count == 5);
  float *got = NULL;
  CHECK(trove_store_vector_get(v.st, pid[2], "use", &got, &dim, &e) == 0 && dim == 3);
  CHECK(got && got[0] == 42 && got[1] == 0.5f);
  trove_free(got);
  CHECK(trove_store_vector_get(v.st, old[2], "use", &got, &dim, &e) == TROVE_ENOENT && !got);
  trove_store_passage p = {.ordinal = 0, .start = 0, .end = 1};
  float vec[4] = {1, 0.5f, -1, 0};
  int64_t scratch; /* a failed call zeroes its ids: keep pid[] out of it */
  CHECK(trove_store_item_embed(v.st, item, "use", &p, vec, 1, 4, &scratch, NULL, &e) ==
        TROVE_EINVAL);
  CHECK(trove_store_item_embed(v.st, item + 9, "use", &p, vec, 1, 3, &scratch, NULL, &e) ==
        TROVE_ENOENT);
  CHECK(trove_store_item_embed(v.st, item, "", &p, vec, 1, 3, &scratch, NULL, &e) ==
        TROVE_EINVAL);
  CHECK(trove_store_vectors_version(v.st, "use", &ver0, &dim, &count, &e) == 0);
  CHECK(ver0 == ver1 && count == 5); /* the refused calls changed nothing */
  CHECK(trove_store_vector_get(v.st, pid[0], "other", &got, &dim, &e) == TROVE_ENOENT);
  int64_t ids[2];
  float buf[6];
  size_t n, total = 0;
  int64_t after = 0;
  do {
    CHECK(trove_store_vectors_next(v.st, "use", after, 2, 3, ids, buf, &n, &e) == 0);
    for (size_t i = 0; i < n; i++, total++)
      CHECK(total < 5 && ids[i] == pid[total] && buf[i * 3 + 1] == 0.5f);
    if (n)
      after = ids[n - 1];
  } while (n && total < 10);
  CHECK(total == 5);
  CHECK(trove_store_vectors_next(v.st, "use", 0, 2, 4, ids, buf, &n, &e) == TROVE_EINVAL);
  CHECK(trove_store_vectors_next(v.st, "nope", 0, 2, 3, ids, buf, &n, &e) == TROVE_ENOENT);
  CHECK(trove_store_passages_replace(v.st, item, &p, 1, NULL, NULL, &e) == 0);
  CHECK(trove_store_vectors_version(v.st, "use", &ver0, &dim, &count, &e) == 0);
  CHECK(count == 0 && ver0 > ver1); /* cascaded deletes bump the version too */
  CHECK(trove_store_item_embed(v.st, item, "use", &p, vec, 1, 3, pid, NULL, &e) == 0);
  raw_exec(v.f.db, "UPDATE passage_vectors SET vec = x'0011'");
  CHECK(trove_store_vector_get(v.st, pid[0], "use", &got, &dim, &e) == TROVE_ECORRUPT);
  CHECK(got == NULL);
  CHECK(trove_store_vectors_next(v.st, "use", 0, 2, 3, ids, buf, &n, &e) == TROVE_ECORRUPT);
  env_done(&v);
}

static void stats_count_sources_reasons_and_size(void) {
  env v;
  env_init(&v);
  trove_err e = {0};
  int64_t other, id;
  CHECK(trove_store_source_add(v.st, "aaa", "fs", "/o", NULL, &other, &e) == 0);
  trove_store_item it = fx_item("/1", "T", "text", 1);
  CHECK(trove_store_item_upsert(v.st, v.src, &it, &id, &e) == 0);
  CHECK(trove_store_item_set_hidden(v.st, id, true, &e) == 0);
  const char *reasons[] = {"binary", "gone", "binary"};
  for (int i = 0; i < 3; i++) {
    char name[8];
    snprintf(name, sizeof name, "/s%d", i);
    trove_store_item sk = {.external_id = name, .type = TROVE_ITEM_LOCAL,
                           .skip_reason = reasons[i]};
    CHECK(trove_store_item_skip(v.st, i ? v.src : other, &sk, NULL, &e) == 0);
  }
  trove_store_stats s;
  CHECK(trove_store_stats_get(v.st, &s, &e) == 0);
  CHECK(s.items == 4 && s.n_sources == 2 && s.n_reasons == 2 && s.db_bytes > 0);
  CHECK(s.n_sources == 2 && strcmp(s.sources[0].name, "aaa") == 0 && s.sources[0].items == 1);
  CHECK(s.n_sources == 2 && s.sources[1].items == 3 && s.sources[1].hidden == 1 &&
        s.sources[1].skipped == 2);
  CHECK(s.n_reasons == 2 && strcmp(s.reasons[0].reason, "binary") == 0 &&
        s.reasons[0].count == 2);
  trove_store_stats_clear(&s);
  trove_store_stats_clear(&s); /* twice is harmless */
  env_done(&v);
}

/* The fetch backoff figures: an item's go through skip and upsert (touch
 * keeps them), a host's are recorded, replaced and forgotten. */
static void backoff_of_items_and_hosts_round_trips(void) {
  env v;
  env_init(&v);
  trove_err e = {0};
  int64_t id, id2;
  trove_store_item sk = {.external_id = "http://a/", .type = TROVE_ITEM_WEB,
                         .skip_reason = "timeout", .fetch_failures = 2, .retry_at = 1234};
  CHECK(trove_store_item_skip(v.st, v.src, &sk, &id, &e) == 0);
  CHECK(trove_store_item_touch(v.st, id, 5, 0, 0, -1, &e) == 0);
  trove_store_item got;
  CHECK(trove_store_item_get(v.st, id, false, &got, &e) == 0 && got.fetch_failures == 2 &&
        got.retry_at == 1234);
  trove_store_item_clear(&got);
  const char *ext = "http://a/";
  trove_store_match m;
  CHECK(trove_store_items_match(v.st, v.src, &ext, 1, &m, &e) == 0 && m.fetch_failures == 2 &&
        m.retry_at == 1234);
  trove_store_match_clear(&m, 1);
  trove_store_item ok = fx_item("http://a/", "A", "answered at last", 1);
  ok.type = TROVE_ITEM_WEB;
  CHECK(trove_store_item_upsert(v.st, v.src, &ok, &id2, &e) == 0 && id2 == id);
  CHECK(trove_store_item_get(v.st, id, false, &got, &e) == 0 && got.fetch_failures == 0 &&
        got.retry_at == 0 && !got.skip_reason);
  trove_store_item_clear(&got);

  trove_store_host h = {.host = "b.example", .failures = 3, .retry_at = 99, .reason = "timeout"};
  CHECK(trove_store_host_set(v.st, &h, &e) == 0);
  h = (trove_store_host){.host = "a.example:8080", .failures = 1, .reason = "network"};
  CHECK(trove_store_host_set(v.st, &h, &e) == 0);
  h.failures = 2; /* replaces */
  CHECK(trove_store_host_set(v.st, &h, &e) == 0);
  trove_store_host *hv = NULL;
  size_t n = 0;
  CHECK(trove_store_hosts_get(v.st, &hv, &n, &e) == 0 && n == 2);
  CHECK(n == 2 && strcmp(hv[0].host, "a.example:8080") == 0 && hv[0].failures == 2 &&
        strcmp(hv[0].reason, "network") == 0 && hv[1].retry_at == 99);
  trove_store_hosts_free(hv, n);
  h.failures = 0; /* it answered: forgotten */
  CHECK(trove_store_host_set(v.st, &h, &e) == 0);
  CHECK(trove_store_hosts_get(v.st, &hv, &n, &e) == 0 && n == 1);
  trove_store_hosts_free(hv, n);
  trove_store_host bad[] = {{.host = "", .failures = 1, .reason = "timeout"},
                            {.host = "x", .failures = -1, .reason = "timeout"},
                            {.host = "x", .failures = 1}};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    CHECK(trove_store_host_set(v.st, &bad[i], &e) == TROVE_EINVAL);
  CHECK(trove_store_host_set(v.st, NULL, &e) == TROVE_EINVAL);
  CHECK(trove_store_hosts_get(NULL, &hv, &n, &e) == TROVE_EINVAL);
  env_done(&v);
}

/* trove_store_items_skipped: skipped and hidden items of one source or all,
 * with reason and error; with a version, only the skipped ones that scan
 * saw. */
static void skipped_lists_skipped_and_hidden_items(void) {
  env v;
  env_init(&v);
  trove_err e = {0};
  int64_t other, ok, bin, gone, hid;
  CHECK(trove_store_source_add(v.st, "web", "chromium-history", "/p", NULL, &other, &e) == 0);
  trove_store_item it = fx_item("/ok", "ok", "fine", 1);
  CHECK(trove_store_item_upsert(v.st, v.src, &it, &ok, &e) == 0);
  it = fx_item("/bin", "bin", NULL, 2);
  it.skip_reason = "binary";
  CHECK(trove_store_item_upsert(v.st, v.src, &it, &bin, &e) == 0);
  it = fx_item("https://gone", "gone", NULL, 3);
  it.type = TROVE_ITEM_WEB;
  it.skip_reason = "network";
  it.error = "connection refused";
  CHECK(trove_store_item_skip(v.st, other, &it, &gone, &e) == 0);
  it = fx_item("/hid", "hid", "secret", 1);
  CHECK(trove_store_item_upsert(v.st, v.src, &it, &hid, &e) == 0);
  CHECK(trove_store_item_set_hidden(v.st, hid, true, &e) == 0);
  trove_store_skip *s = NULL;
  size_t n = 0;
  CHECK(trove_store_items_skipped(v.st, 0, 0, &s, &n, &e) == 0 && n == 3);
  /* by source name, then id: docs (bin, hid), web (gone) */
  CHECK(n == 3 && s[0].id == bin && strcmp(s[0].skip_reason, "binary") == 0 && !s[0].error);
  CHECK(n == 3 && s[1].id == hid && !s[1].skip_reason && s[1].hidden_at > 0 &&
        strcmp(s[1].external_id, "/hid") == 0 && strcmp(s[1].source, "docs") == 0);
  CHECK(n == 3 && s[2].id == gone && strcmp(s[2].error, "connection refused") == 0 &&
        strcmp(s[2].source, "web") == 0 && strcmp(s[2].title, "gone") == 0);
  trove_store_skips_free(s, n);
  CHECK(trove_store_items_skipped(v.st, other, 0, &s, &n, &e) == 0 && n == 1 && s[0].id == gone);
  trove_store_skips_free(s, n);
  CHECK(trove_store_items_skipped(v.st, v.src, 2, &s, &n, &e) == 0 && n == 1 && s[0].id == bin);
  trove_store_skips_free(s, n);
  CHECK(trove_store_items_skipped(v.st, v.src, 7, &s, &n, &e) == 0 && n == 0 && !s);
  CHECK(trove_store_items_skipped(NULL, 0, 0, &s, &n, &e) == TROVE_EINVAL);
  env_done(&v);
}

/* A source's item count is counted, not what its last scan saw. */
static void source_reads_back_its_item_count(void) {
  env v;
  env_init(&v);
  trove_err e = {0};
  for (int i = 0; i < 3; i++) {
    char ext[16];
    snprintf(ext, sizeof ext, "/%d", i);
    trove_store_item it = fx_item(ext, "t", "text", 1);
    CHECK(trove_store_item_upsert(v.st, v.src, &it, NULL, &e) == 0);
  }
  CHECK(trove_store_scan_finish(v.st, v.src, TROVE_SOURCE_READY, NULL, 0, 1, &e) == 0);
  trove_store_source s = {0};
  CHECK(trove_store_source_get(v.st, "docs", &s, &e) == 0 && s.items == 3 && s.scanned == 0);
  trove_store_source_clear(&s);
  trove_store_source *l = NULL;
  size_t n = 0;
  CHECK(trove_store_source_list(v.st, &l, &n, &e) == 0 && n == 1 && l[0].items == 3);
  trove_store_sources_free(l, n);
  env_done(&v);
}

/* A scan that resumes a killed one runs under a new version and learns
 * the killed one's; after a finished scan there is none to resume. */
static void scan_resume_names_the_killed_scans_version(void) {
  env v;
  env_init(&v);
  trove_err e = {0};
  int64_t v1 = 0, v2 = 0, v3 = 0, killed = -1;
  CHECK(trove_store_scan_lock(v.st, false, NULL, &e) == 0);
  CHECK(trove_store_scan_resume(v.st, v.src, &v1, &killed, &e) == 0 && killed == 0 && v1 == 1);
  /* the process dies here: the source stays "indexing" */
  CHECK(trove_store_scan_resume(v.st, v.src, &v2, &killed, &e) == 0 && killed == v1 && v2 == 2);
  CHECK(trove_store_scan_finish(v.st, v.src, TROVE_SOURCE_READY, NULL, 0, 1, &e) == 0);
  CHECK(trove_store_scan_resume(v.st, v.src, &v3, &killed, &e) == 0 && killed == 0 && v3 == 3);
  CHECK(trove_store_scan_resume(v.st, 999, &v3, &killed, &e) == TROVE_ENOENT);
  trove_store_scan_unlock(v.st);
  env_done(&v);
}

/* Retention marks old unseen web pages and keeps them; remove takes items
 * with their passages and remembers them when asked; refs pages by id. */
static void expire_remove_and_refs(void) {
  env v;
  env_init(&v);
  trove_err e = {0};
  int64_t ids[4];
  const char *urls[4] = {"http://a/old", "http://a/new", "http://a/unknown", "/file"};
  int64_t visited[4] = {100, 5000, 0, 100};
  for (int i = 0; i < 4; i++) {
    trove_store_item it = fx_item(urls[i], "t", "some text", 1);
    it.type = i < 3 ? TROVE_ITEM_WEB : TROVE_ITEM_LOCAL;
    it.last_visited = visited[i];
    CHECK(trove_store_item_upsert(v.st, v.src, &it, &ids[i], &e) == 0);
  }
  int64_t kept = -1, newly = -1, deleted = -1;
  CHECK(trove_store_items_expire_unseen(v.st, v.src, 2, 1000, 77, &kept, &newly, &e) == 0);
  CHECK(kept == 1 && newly == 1);
  CHECK(trove_store_items_delete_unseen(v.st, v.src, 2, &deleted, NULL, &e) == 0 && deleted == 3);
  trove_store_item got = {0};
  CHECK(trove_store_item_get(v.st, ids[0], false, &got, &e) == 0 && got.expired_at == 77);
  trove_store_item_clear(&got);
  /* a later scan keeps it without marking it again, and one that sees it clears the mark */
  CHECK(trove_store_items_expire_unseen(v.st, v.src, 3, 0, 99, &kept, &newly, &e) == 0);
  CHECK(kept == 1 && newly == 0);
  CHECK(trove_store_item_touch(v.st, ids[0], 4, 0, 0, -1, &e) == 0);
  CHECK(trove_store_item_get(v.st, ids[0], false, &got, &e) == 0 && got.expired_at == 0);
  trove_store_item_clear(&got);
  /* remove, remembered; passages go with it */
  trove_store_passage p = {.ordinal = 0, .start = 0, .end = 4};
  CHECK(trove_store_passages_replace(v.st, ids[0], &p, 1, NULL, NULL, &e) == 0);
  trove_store_ids gone = {0};
  int64_t removed = 0;
  int64_t two[2] = {ids[0], 424242};
  CHECK(trove_store_items_remove(v.st, two, 2, true, &gone, &removed, &e) == 0);
  CHECK(removed == 1 && gone.n == 1);
  trove_store_ids_free(&gone);
  CHECK(trove_store_item_get(v.st, ids[0], false, &got, &e) == TROVE_ENOENT);
  trove_store_forgotten *fg = NULL;
  size_t n = 0;
  CHECK(trove_store_forgotten_get(v.st, v.src, &fg, &n, &e) == 0 && n == 1 &&
        strcmp(fg[0].external_id, "http://a/old") == 0 && fg[0].forgotten_at > 0);
  trove_store_forgotten_free(fg, n);
  trove_store_ref *r = NULL;
  CHECK(trove_store_items_refs(v.st, 0, 0, 10, &r, &n, &e) == 0 && n == 0);
  trove_store_refs_free(r, n);
  CHECK(trove_store_items_refs(v.st, v.src, 0, 0, &r, &n, &e) == TROVE_EINVAL);
  env_done(&v);
}

int main(void) {
  RUN(items_match_reports_what_change_detection_needs);
  RUN(items_match_bad_batches_are_refused);
  RUN(items_paths_lists_visible_items_in_id_order);
  RUN(items_upsert_replaces_content_keeps_id_and_hidden);
  RUN(items_upsert_bad_input_is_refused);
  RUN(items_touch_changes_only_seen_visit_mtime_and_size);
  RUN(items_skip_records_reason_and_keeps_content);
  RUN(items_delete_unseen_removes_only_what_the_scan_missed);
  RUN(items_upsert_keep_raw_leaves_stored_content);
  RUN(items_writes_after_a_lost_batch_are_eio);
  RUN(begin_recovers_from_a_transaction_left_open);
  RUN(items_disk_full_is_eio_and_changes_nothing);
  RUN(items_raw_content_round_trips_through_zstd);
  RUN(items_damaged_blob_is_ecorrupt_not_a_crash);
  RUN(items_next_pages_every_raw_item_once_in_id_order);
  RUN(item_embed_marks_until_the_text_changes);
  RUN(item_move_keeps_everything_but_the_path);
  RUN(items_same_content_finds_one_sources_copies);
  RUN(source_set_config_replaces_only_the_config);
  RUN(passages_replace_reports_old_ids_and_checks_spans);
  RUN(passage_owners_reads_a_list_in_one_call);
  RUN(vectors_embed_get_iterate_and_version);
  RUN(stats_count_sources_reasons_and_size);
  RUN(backoff_of_items_and_hosts_round_trips);
  RUN(skipped_lists_skipped_and_hidden_items);
  RUN(source_reads_back_its_item_count);
  RUN(scan_resume_names_the_killed_scans_version);
  RUN(expire_remove_and_refs);
  return check_done("store_items_test");
}
