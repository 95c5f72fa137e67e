/* fs_walk_test.c: the fs source (fs_walk.c) over trees built in a temporary
 * directory: globs, .gitignore at several levels, hidden names, .git,
 * symlink loops, bad names, vanished directories, a 10,000-file directory,
 * bad arguments, and a fault loop proving ENOMEM loses nothing. */
#include "sources.h"
#include "sources_test_hooks.h" /* trove_fs_test_fail_path */
#include "core_test_hooks.h" /* trove_alloc_fail_after */

#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[256];

static void mk(const char *rel, const char *text) {
  char path[1024], *slash;
  snprintf(path, sizeof path, "%s/%s", root, rel);
  for (slash = strchr(path + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
    *slash = '\0';
    mkdir(path, 0755);
    *slash = '/';
  }
  if (text) {
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
      fputs(text, f);
      fclose(f);
    }
  } else {
    mkdir(path, 0755);
  }
}

/* A new empty root under base (NULL: $TMPDIR or /tmp). */
static void fresh_root_in(const char *base, const char *name) {
  if (root[0]) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    CHECK(system(cmd) == 0);
  }
  if (!base)
    base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  snprintf(root, sizeof root, "%s/trove-fs-%s-XXXXXX", base, name);
  CHECK(mkdtemp(root) != NULL);
}

static void fresh_root(const char *name) { fresh_root_in(NULL, name); }

/* Every candidate's path relative to root, joined by ' ' in walk order. */
typedef struct listing {
  char text[1 << 16];
  size_t count, batches;
  int last_rc;
} listing;

static int drain(trove_source *src, listing *l, bool retry_enomem) {
  trove_batch b = {0};
  int rc;
  l->text[0] = '\0';
  l->count = l->batches = 0;
  size_t rlen = strlen(root);
  for (;;) {
    rc = trove_source_next(src, &b, NULL);
    if (rc == TROVE_ENOMEM && retry_enomem)
      continue;
    if (rc <= 0)
      break;
    CHECK((size_t)rc == b.n && b.n <= TROVE_SOURCE_BATCH);
    l->batches++;
    for (size_t i = 0; i < b.n; i++) {
      trove_candidate *c = &b.items[i];
      CHECK(c->type == TROVE_ITEM_LOCAL && c->title == NULL && c->size >= 0);
      CHECK(c->path && strcmp(c->path, c->external_id) == 0);
      CHECK(strncmp(c->external_id, root, rlen) == 0 && c->external_id[rlen] == '/');
      CHECK(c->time_us > INT64_C(1500000000) * 1000000); /* a plausible Unix µs mtime */
      if (strlen(l->text) + strlen(c->external_id) + 2 < sizeof l->text) {
        if (l->text[0])
          strcat(l->text, " ");
        strcat(l->text, c->external_id + rlen + 1);
      }
      l->count++;
    }
  }
  trove_batch_clear(&b);
  l->last_rc = rc;
  return rc;
}

static listing lst;

static trove_source *open_ok(const trove_fs_options *o) {
  trove_source *src = NULL;
  trove_err e = {0};
  int rc = trove_source_open_fs(root, o, &src, &e);
  CHECK(rc == 0 && src);
  if (rc)
    fprintf(stderr, "  open: %s\n", e.msg);
  return src;
}

/* One whole walk of root with options o: opens, drains into lst, reads the
 * stats into *st (when st is not NULL) and closes. Returns lst.text. */
static const char *walk(const trove_fs_options *o, trove_source_stats *st) {
  trove_source *src = open_ok(o);
  drain(src, &lst, false);
  if (st)
    trove_source_get_stats(src, st);
  trove_source_close(src);
  return lst.text;
}

static void walk_yields_every_file_sorted_with_metadata(void) {
  fresh_root("all");
  mk("b.txt", "bb");
  mk("a.md", "a");
  mk("sub/c.html", "<p>c</p>");
  mk("sub/deeper/d.txt", "dddd");
  mk("z/e.txt", "e");
  trove_source *src = open_ok(NULL);
  CHECK(drain(src, &lst, false) == 0);
  CHECK(strcmp(lst.text, "a.md b.txt sub/c.html sub/deeper/d.txt z/e.txt") == 0);
  trove_source_stats st;
  trove_source_get_stats(src, &st);
  CHECK(st.yielded == 5 && st.dirs == 4);
  /* after the end, next keeps returning 0 */
  trove_batch b = {0};
  CHECK(trove_source_next(src, &b, NULL) == 0 && b.n == 0);
  trove_source_close(src);
  fprintf(stderr, "  %s\n", lst.text);
}

static void walk_include_and_exclude_globs(void) {
  fresh_root("globs");
  mk("a.md", "x");
  mk("a.txt", "x");
  mk("docs/b.md", "x");
  mk("docs/c.html", "x");
  mk("docs/api/d.md", "x");
  mk("node_modules/pkg/readme.md", "x");
  mk("notes/e.md", "x");
  const char *inc[] = {"**/*.md", "*.html"};
  const char *exc[] = {"node_modules", "docs/api/**"};
  trove_fs_options o = {.include = inc, .n_include = 2, .exclude = exc, .n_exclude = 2};
  trove_source_stats st;
  CHECK(strcmp(walk(&o, &st), "a.md docs/b.md docs/c.html notes/e.md") == 0);
  CHECK(st.excluded == 3); /* a.txt, node_modules, docs/api/d.md */
  /* an anchored include is relative to the root */
  const char *inc2[] = {"/docs/*.md"};
  o = (trove_fs_options){.include = inc2, .n_include = 1};
  CHECK(strcmp(walk(&o, NULL), "docs/b.md") == 0);
}

static void walk_respects_gitignore_at_every_level(void) {
  fresh_root("gitignore");
  mk(".gitignore", "# root rules\n*.log\nbuild/\n/top.md\n");
  mk("top.md", "x");
  mk("keep.md", "x");
  mk("x.log", "x");
  mk("build/out.md", "x");
  mk("sub/top.md", "x"); /* /top.md is anchored to the root */
  mk("sub/.gitignore", "!keep.log\n*.tmp\n");
  mk("sub/keep.log", "x");
  mk("sub/other.log", "x");
  mk("sub/a.tmp", "x");
  mk("sub/deep/b.tmp", "x");
  mk("sub/deep/build", "a file named build is not a directory");
  mk("other/a.tmp", "x"); /* sub's rules do not reach here */
  mk(".git/HEAD", "ref: refs/heads/main\n");
  const char *want = "keep.md other/a.tmp sub/keep.log sub/top.md sub/deep/build";
  trove_source_stats st;
  CHECK(strcmp(walk(NULL, &st), want) == 0);
  CHECK(st.ignored == 7); /* top.md x.log build other.log a.tmp b.tmp .git */
  fprintf(stderr, "  %s\n", lst.text);
}

/* A scoped walk yields what the full walk yields at or under its paths,
 * .gitignore rules on the way included, and nothing else. */
static void walk_scoped_to_paths_yields_that_part_of_the_walk(void) {
  fresh_root("scope");
  mk(".gitignore", "*.log\n");
  mk("a/b/c.txt", "x");
  mk("a/b/skip.log", "x");
  mk("a/x.txt", "x");
  mk("a/z.log", "x");
  mk("a-b/y.txt", "x");
  mk("d/y.txt", "x");
  mk("d/.hidden.txt", "x");
  mk("e/gone-later.txt", "x");
  char abs_d[400];
  snprintf(abs_d, sizeof abs_d, "%s/d/", root); /* absolute, trailing '/' */
  const char *only[] = {"a/b", "a/z.log", abs_d, "a/b/c.txt", "missing/file.txt", "d/.hidden.txt"};
  trove_fs_options o = {.only = only, .n_only = 6};
  trove_source_stats st;
  CHECK(strcmp(walk(&o, &st), "a/b/c.txt d/y.txt") == 0);
  fprintf(stderr, "  %s\n", lst.text);
  /* the root itself scopes the whole tree */
  const char *whole[] = {"a", root};
  o = (trove_fs_options){.only = whole, .n_only = 2};
  CHECK(strcmp(walk(&o, NULL), "a/x.txt a/b/c.txt a-b/y.txt d/y.txt e/gone-later.txt") == 0);
  /* a path outside the root is refused */
  const char *outside[] = {"/elsewhere/f.txt"};
  o = (trove_fs_options){.only = outside, .n_only = 1};
  trove_source *src = NULL;
  trove_err e = {0};
  CHECK(trove_source_open_fs(root, &o, &src, &e) == TROVE_EINVAL && !src);
  CHECK(strstr(e.msg, "/elsewhere/f.txt") != NULL);
}

static void walk_hidden_skipped_unless_asked_but_git_always(void) {
  fresh_root("hidden");
  mk(".hidden/a.md", "x");
  mk(".b.md", "x");
  mk("c.md", "x");
  mk(".git/config", "x");
  trove_source_stats st;
  CHECK(strcmp(walk(NULL, &st), "c.md") == 0);
  CHECK(st.hidden == 2 && st.ignored == 1);
  trove_fs_options o = {.include_hidden = true};
  CHECK(strcmp(walk(&o, NULL), ".b.md c.md .hidden/a.md") == 0);
  fprintf(stderr, "  %s\n", lst.text);
}

static void walk_survives_symlink_loops(void) {
  fresh_root("loops");
  mk("a/f.txt", "x");
  mk("a/b/g.txt", "x");
  char p[1024], t[1024];
  snprintf(p, sizeof p, "%s/a/b/up", root);
  CHECK(symlink("..", p) == 0); /* a/b/up -> a: a loop */
  snprintf(p, sizeof p, "%s/self", root);
  snprintf(t, sizeof t, "%s", root);
  CHECK(symlink(t, p) == 0); /* self -> root */
  snprintf(p, sizeof p, "%s/link.txt", root);
  CHECK(symlink("a/f.txt", p) == 0); /* a file link is followed */
  snprintf(p, sizeof p, "%s/dangling.txt", root);
  CHECK(symlink("nowhere", p) == 0);
  trove_source_stats st;
  CHECK(strcmp(walk(NULL, &st), "link.txt a/f.txt a/b/g.txt") == 0);
  fprintf(stderr, "  %s\n", lst.text);
  CHECK(st.symlink_loops == 2 && st.unreadable == 1);
  trove_fs_options o = {.no_follow_symlinks = true};
  CHECK(strcmp(walk(&o, &st), "a/f.txt a/b/g.txt") == 0);
  CHECK(st.special == 4 && st.symlink_loops == 0);
}

/* Names that are not UTF-8 are walked, with their bytes, and counted. */
static void walk_yields_and_counts_invalid_utf8_names(void) {
  fresh_root("names");
  mk("ok.md", "x");
  mk("caf\xe9.md", "latin-1 name");
  mk("bad\xff/inner.md", "x");
  trove_source_stats st;
  CHECK(strcmp(walk(NULL, &st), "caf\xe9.md ok.md bad\xff/inner.md") == 0);
  CHECK(st.bad_names == 2);
}

static void walk_counts_vanished_directory(void) {
  fresh_root("vanish");
  char name[64];
  for (int i = 0; i < 70; i++) { /* more than a batch, so sub is still pending */
    snprintf(name, sizeof name, "f%03d.txt", i);
    mk(name, "x");
  }
  mk("sub/x.txt", "x");
  trove_source *src = open_ok(NULL);
  trove_batch b = {0};
  CHECK(trove_source_next(src, &b, NULL) == TROVE_SOURCE_BATCH);
  char p[1024];
  snprintf(p, sizeof p, "%s/sub/x.txt", root);
  CHECK(unlink(p) == 0);
  snprintf(p, sizeof p, "%s/sub", root);
  CHECK(rmdir(p) == 0);
  CHECK(trove_source_next(src, &b, NULL) == 6);
  CHECK(trove_source_next(src, &b, NULL) == 0);
  trove_source_stats st;
  trove_source_get_stats(src, &st);
  CHECK(st.unreadable == 1 && st.yielded == 70);
  const char *const *dirs;
  size_t n_dirs;
  trove_source_unread_paths(src, &dirs, &n_dirs);
  CHECK(n_dirs == 0); /* gone, not unreadable: its files are gone too */
  trove_batch_clear(&b);
  trove_source_close(src);
}

/* A directory that exists but cannot be opened, or a file that cannot be
 * stat'ed, is counted and listed, so a scan can keep what it held; the walk
 * goes on around it, and running out of memory while listing it loses
 * nothing either. */
static void walk_lists_unreadable_directories(void) {
  fresh_root("locked");
  mk("a.md", "x");
  mk("locked/secret.md", "x");
  mk("locked/deeper/more.md", "x");
  mk("open/b.md", "x");
  char want_dir[1024];
  snprintf(want_dir, sizeof want_dir, "%s/locked", root);
  trove_fs_test_fail_path("locked");
  long failed = 1;
  int n;
  for (n = 0; n < 300 && failed; n++) {
    trove_source *src = NULL;
    trove_alloc_fail_after(n, false);
    if (trove_source_open_fs(root, NULL, &src, NULL) == 0) {
      drain(src, &lst, true);
      CHECK(lst.last_rc == 0 && strcmp(lst.text, "a.md open/b.md") == 0);
      trove_source_stats st;
      trove_source_get_stats(src, &st);
      const char *const *dirs;
      size_t n_dirs;
      trove_source_unread_paths(src, &dirs, &n_dirs);
      CHECK(st.unreadable == 1 && n_dirs == 1 && strcmp(dirs[0], want_dir) == 0);
      trove_source_close(src);
    }
    failed = trove_alloc_fail_after(-1, false);
  }
  CHECK(failed == 0 && n > 5);

  trove_fs_test_fail_path("a.md"); /* a file whose stat fails is listed too */
  trove_source *src = open_ok(NULL);
  drain(src, &lst, false);
  const char *const *paths;
  size_t n_paths;
  trove_source_unread_paths(src, &paths, &n_paths);
  char want_file[1024];
  snprintf(want_file, sizeof want_file, "%s/a.md", root);
  CHECK(n_paths == 1 && strcmp(paths[0], want_file) == 0 && !strstr(lst.text, "a.md"));
  trove_source_close(src);
  trove_fs_test_fail_path(NULL);
  trove_source_stats st;
  CHECK(strcmp(walk(NULL, &st), "a.md locked/secret.md locked/deeper/more.md open/b.md") == 0);
  CHECK(st.unreadable == 0);
}

static void walk_ten_thousand_files(void) {
  /* tmpfs when there is one: creating 10,000 files on a disk takes long
   * and proves nothing about the walker */
  fresh_root_in(access("/dev/shm", W_OK) == 0 ? "/dev/shm" : NULL, "10k");
  char path[1024];
  for (int i = 0; i < 10000; i++) {
    snprintf(path, sizeof path, "%s/n%05d.md", root, i);
    int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    CHECK(fd >= 0 && write(fd, "x", 1) == 1);
    if (fd < 0)
      break;
    close(fd);
  }
  const char *inc[] = {"*.md"};
  trove_fs_options o = {.include = inc, .n_include = 1};
  double t0 = check_now();
  walk(&o, NULL);
  fprintf(stderr, "  walked 10000 files in %.3fs (not asserted)\n", check_now() - t0);
  CHECK(lst.count == 10000 && lst.batches == (10000 + 63) / 64);
  CHECK(strncmp(lst.text, "n00000.md n00001.md", 19) == 0);
}

static void open_errors_are_clear(void) {
  fresh_root("errors");
  mk("file.txt", "x");
  trove_source *src = (trove_source *)1;
  trove_err e = {0};
  char p[1024];
  snprintf(p, sizeof p, "%s/no-such-dir", root);
  CHECK(trove_source_open_fs(p, NULL, &src, &e) == TROVE_ENOENT && src == NULL);
  CHECK(strstr(e.msg, "no-such-dir") && strstr(e.msg, "does not exist"));
  snprintf(p, sizeof p, "%s/file.txt", root);
  CHECK(trove_source_open_fs(p, NULL, &src, &e) == TROVE_EINVAL);
  CHECK(strstr(e.msg, "not a directory") != NULL);
  snprintf(p, sizeof p, "%s/loop", root);
  CHECK(symlink("loop", p) == 0); /* stat fails with ELOOP: not "missing" */
  CHECK(trove_source_open_fs(p, NULL, &src, &e) == TROVE_EIO);
  CHECK(strstr(e.msg, "cannot access") && strstr(e.msg, "loop"));
  const char *bad[] = {"[unclosed"};
  trove_fs_options o = {.include = bad, .n_include = 1};
  CHECK(trove_source_open_fs(root, &o, &src, &e) == TROVE_EINVAL);
  CHECK(strstr(e.msg, "[unclosed") != NULL);
  o = (trove_fs_options){.exclude = NULL, .n_exclude = 2};
  CHECK(trove_source_open_fs(root, &o, &src, &e) == TROVE_EINVAL);
  CHECK(trove_source_open_fs(NULL, NULL, &src, &e) == TROVE_EINVAL);
  CHECK(trove_source_open_fs("", NULL, &src, &e) == TROVE_EINVAL);
  CHECK(trove_source_open_fs(root, NULL, NULL, &e) == TROVE_EINVAL);
  trove_batch b = {0};
  CHECK(trove_source_next(NULL, &b, &e) == TROVE_EINVAL);
  src = open_ok(NULL);
  CHECK(trove_source_next(src, NULL, &e) == TROVE_EINVAL);
  trove_source_close(src);
  trove_source_close(NULL);
  trove_batch_clear(NULL);
  trove_source_stats st;
  trove_source_get_stats(NULL, &st);
  CHECK(st.yielded == 0);
}

static void item_type_names_are_stable(void) {
  CHECK(strcmp(trove_item_type_name(TROVE_ITEM_LOCAL), "local") == 0);
  CHECK(strcmp(trove_item_type_name(TROVE_ITEM_WEB), "web") == 0);
  CHECK(strcmp(trove_item_type_name(TROVE_ITEM_BOOKMARK), "bookmark") == 0);
  CHECK(strcmp(trove_item_type_name((trove_item_type)42), "unknown") == 0);
}

static void walk_fault_loop_loses_nothing(void) {
  fresh_root("fault");
  mk(".gitignore", "*.log\n");
  mk("a.md", "x");
  mk("a.log", "x");
  mk("d1/.gitignore", "!keep.log\n");
  mk("d1/keep.log", "x");
  mk("d1/d2/b.md", "x");
  mk("d3/c.md", "x");
  const char *inc[] = {"**/*.md", "*.log"};
  trove_fs_options o = {.include = inc, .n_include = 2};
  const char *want = "a.md d1/keep.log d1/d2/b.md d3/c.md";
  long failed = 1;
  int n;
  for (n = 0; n < 500 && failed; n++) {
    trove_source *src = NULL;
    trove_alloc_fail_after(n, false);
    int rc = trove_source_open_fs(root, &o, &src, NULL);
    CHECK(rc == 0 || (rc == TROVE_ENOMEM && src == NULL));
    if (rc == 0) {
      drain(src, &lst, true); /* a failed next is retried and must resume */
      CHECK(lst.last_rc == 0);
      CHECK(strcmp(lst.text, want) == 0);
      if (strcmp(lst.text, want) != 0)
        fprintf(stderr, "  n=%d: %s\n", n, lst.text);
      trove_source_close(src);
    }
    failed = trove_alloc_fail_after(-1, false);
  }
  CHECK(failed == 0 && n > 10);
}

int main(void) {
  RUN(walk_yields_every_file_sorted_with_metadata);
  RUN(walk_include_and_exclude_globs);
  RUN(walk_respects_gitignore_at_every_level);
  RUN(walk_scoped_to_paths_yields_that_part_of_the_walk);
  RUN(walk_hidden_skipped_unless_asked_but_git_always);
  RUN(walk_survives_symlink_loops);
  RUN(walk_yields_and_counts_invalid_utf8_names);
  RUN(walk_counts_vanished_directory);
  RUN(walk_lists_unreadable_directories);
  RUN(walk_ten_thousand_files);
  RUN(open_errors_are_clear);
  RUN(item_type_names_are_stable);
  RUN(walk_fault_loop_loses_nothing);
  fresh_root("done");
  rmdir(root);
  return check_done("fs_walk_test");
}
