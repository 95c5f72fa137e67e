/* scan_read_test.c: the read stage on files in other charsets. A file that
 * is not UTF-8 is decoded and indexed, HTML that declares no charset
 * included; BOM-less UTF-16 text is found by its NULs; the item records
 * whether its charset was guessed, and keeps the mark through reprocess
 * and rescans; a binary file that is not UTF-8 either stays binary. */
#include "fixture.h"

/* The item whose path ends in name (after a scan); 0 when none. */
static int64_t item_of(fx *f, const char *name, trove_store_item *out) {
  char **paths = NULL;
  size_t n = 0;
  int64_t id = 0;
  CHECK(trove_store_items_paths(f->st, &paths, &n, NULL) == 0);
  for (size_t i = 0; i < n && !id; i++) {
    size_t a = strlen(paths[i]), b = strlen(name);
    if (a >= b && strcmp(paths[i] + a - b, name) == 0)
      id = (int64_t)i + 1; /* ids follow insertion order in a fresh database */
  }
  trove_store_paths_free(paths, n);
  memset(out, 0, sizeof *out);
  if (id)
    CHECK(trove_store_item_get(f->st, id, false, out, NULL) == 0);
  return id;
}

static void legacy_charsets_are_indexed_and_marked_guessed(void) {
  fx f;
  fx_init(&f);
  put(&f, "menu.html", "<html><body><p>Caf\xe9 cr\xe8me br\xfbl\xe9" "e every morning</p></body></html>",
      64);
  put(&f, "note.txt", "Na\xefve \x93quoted\x94 walrus\n", 22);
  static const char wide[] = "p\0e\0n\0g\0u\0i\0n\0 \0c\0o\0l\0o\0n\0y\0\n\0";
  put(&f, "wide.txt", wide, sizeof wide - 1);
  put(&f, "blob.txt", "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\xff\xfe", 18); /* binary, not UTF-8 */
  trove_scan_report r;
  CHECK(scan(&f, &r) == 0);
  CHECK(r.seen == 10 && r.added == 6 && reason(&r, "binary") == 3 && reason(&r, "not_utf8") == 0);
  CHECK(hits(&f, "crème") == 1 && hits(&f, "brûlée") == 1);
  CHECK(hits(&f, "naïve") == 1 && hits(&f, "penguin") == 1);
  const char *guessed[] = {"menu.html", "note.txt", "wide.txt"};
  for (int round = 0; round < 3; round++) {
    for (size_t i = 0; i < 3; i++) {
      trove_store_item it;
      CHECK(item_of(&f, guessed[i], &it) > 0 && it.charset_guessed && !it.skip_reason);
      trove_store_item_clear(&it);
    }
    trove_store_item it;
    CHECK(item_of(&f, "notes.md", &it) > 0 && !it.charset_guessed); /* UTF-8 */
    trove_store_item_clear(&it);
    trove_err e = {0};
    if (round == 0)
      CHECK(trove_reprocess(f.st, "tree", &quiet, &r, &e) == 0 && r.failed == 0);
    else if (round == 1) {
      trove_scan_opts force = quiet;
      force.force = true;
      /* every file read and decoded again, the same text found */
      CHECK(trove_scan_source(f.st, "tree", &force, &r, &e) == 0 && r.unchanged == 6 &&
            r.changed == 0);
    }
  }
  fx_done(&f);
}

int main(void) {
  RUN(legacy_charsets_are_indexed_and_marked_guessed);
  return check_done(__FILE__);
}
