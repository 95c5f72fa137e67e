/* glob_test.c: glob matching with "**" (glob.c) and .gitignore rules
 * (gitignore.c), each rule of gitignore(5) as its own claim. */
#include "sources.h"
#include "core_test_hooks.h" /* trove_alloc_fail_after */

#include "check.h"

#include <string.h>

static void glob_star_stays_within_a_segment(void) {
  CHECK(trove_glob_match("*.md", "a.md"));
  CHECK(!trove_glob_match("*.md", "d/a.md"));
  CHECK(trove_glob_match("d/*.md", "d/a.md"));
  CHECK(!trove_glob_match("d/*.md", "d/e/a.md"));
  CHECK(trove_glob_match("*", ".hidden"));
  CHECK(trove_glob_match("a*b*c", "aXbYbZc"));
  CHECK(!trove_glob_match("a*b*c", "aXbYbZ"));
  CHECK(trove_glob_match("*", ""));
  CHECK(!trove_glob_match("?", ""));
  CHECK(trove_glob_match("?.txt", "a.txt"));
  CHECK(!trove_glob_match("?.txt", "/.txt"));
}

static void glob_globstar_spans_directories(void) {
  CHECK(trove_glob_match("**/*.md", "a.md"));
  CHECK(trove_glob_match("**/*.md", "x/y/z/a.md"));
  CHECK(!trove_glob_match("**/*.md", "x/y/z/a.mdx"));
  CHECK(trove_glob_match("a/**/b", "a/b"));
  CHECK(trove_glob_match("a/**/b", "a/x/y/b"));
  CHECK(!trove_glob_match("a/**/b", "a/x/y/c"));
  CHECK(trove_glob_match("a/**", "a/x"));
  CHECK(trove_glob_match("a/**", "a/x/y"));
  CHECK(!trove_glob_match("a/**", "a"));
  CHECK(trove_glob_match("**", "anything/at/all"));
  CHECK(trove_glob_match("**/x/**/y", "p/x/q/r/y"));
  CHECK(!trove_glob_match("**/x/**/y", "p/x/q/r/z"));
  CHECK(trove_glob_match("a**b", "aXXb")); /* not a whole segment: a plain star */
  CHECK(!trove_glob_match("a**b", "aX/Xb"));
}

static void glob_sets_and_escapes(void) {
  CHECK(trove_glob_match("[abc].txt", "b.txt"));
  CHECK(!trove_glob_match("[abc].txt", "d.txt"));
  CHECK(trove_glob_match("[a-c]x", "bx"));
  CHECK(trove_glob_match("[!a-c]x", "dx"));
  CHECK(!trove_glob_match("[^a-c]x", "ax"));
  CHECK(trove_glob_match("[]]", "]"));
  CHECK(trove_glob_match("\\*", "*"));
  CHECK(!trove_glob_match("\\*", "a"));
  CHECK(trove_glob_match("a\\ b", "a b"));
  CHECK(trove_glob_match("*\\?", "what?"));
  CHECK(!trove_glob_match("*\\?", "what"));
}

static void glob_malformed_matches_nothing(void) {
  CHECK(!trove_glob_valid("[abc"));
  CHECK(!trove_glob_valid("abc\\"));
  CHECK(!trove_glob_valid("[a/b]"));
  CHECK(!trove_glob_valid(NULL));
  CHECK(trove_glob_valid("**/[a-z]*.md"));
  CHECK(!trove_glob_match("[abc", "[abc"));
  CHECK(!trove_glob_match("abc\\", "abc\\"));
  CHECK(!trove_glob_match(NULL, "a"));
  CHECK(!trove_glob_match("a", NULL));
}

static void glob_many_stars_stay_fast(void) {
  /* exponential backtracking would not finish; the greedy retry does */
  char path[4096], pat[256];
  memset(path, 'a', sizeof path - 1);
  path[sizeof path - 1] = '\0';
  strcpy(pat, "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b");
  CHECK(!trove_glob_match(pat, path));
  char deep[4096] = "";
  for (int i = 0; i < 500; i++)
    strcat(deep, "d/");
  strcat(deep, "f");
  CHECK(!trove_glob_match("**/x/**/x/**/x/**/x/**/y", deep));
  CHECK(trove_glob_match("**/d/**/d/**/f", deep));
}

static trove_gitignore *gi_of(const char *text) {
  trove_gitignore *gi = NULL;
  CHECK(trove_gitignore_parse(text, strlen(text), &gi) == 0 && gi);
  return gi;
}

static void gitignore_unanchored_matches_at_any_depth(void) {
  trove_gitignore *gi = gi_of("*.log\nbuild\n");
  CHECK(trove_gitignore_match(gi, "x.log", false) == 1);
  CHECK(trove_gitignore_match(gi, "a/b/x.log", false) == 1);
  CHECK(trove_gitignore_match(gi, "a/build", true) == 1);
  CHECK(trove_gitignore_match(gi, "a/build", false) == 1);
  CHECK(trove_gitignore_match(gi, "a/builder", true) == 0);
  CHECK(trove_gitignore_match(gi, "x.md", false) == 0);
  trove_gitignore_free(gi);
}

static void gitignore_slash_anchors(void) {
  trove_gitignore *gi = gi_of("/top.txt\ndoc/frotz\n");
  CHECK(trove_gitignore_match(gi, "top.txt", false) == 1);
  CHECK(trove_gitignore_match(gi, "a/top.txt", false) == 0);
  CHECK(trove_gitignore_match(gi, "doc/frotz", true) == 1);
  CHECK(trove_gitignore_match(gi, "a/doc/frotz", true) == 0);
  trove_gitignore_free(gi);
}

static void gitignore_trailing_slash_matches_dirs_only(void) {
  trove_gitignore *gi = gi_of("cache/\n");
  CHECK(trove_gitignore_match(gi, "cache", true) == 1);
  CHECK(trove_gitignore_match(gi, "x/cache", true) == 1);
  CHECK(trove_gitignore_match(gi, "cache", false) == 0);
  trove_gitignore_free(gi);
}

static void gitignore_last_rule_wins_and_negation_reincludes(void) {
  trove_gitignore *gi = gi_of("*.md\n!keep.md\n");
  CHECK(trove_gitignore_match(gi, "a.md", false) == 1);
  CHECK(trove_gitignore_match(gi, "keep.md", false) == -1);
  CHECK(trove_gitignore_match(gi, "sub/keep.md", false) == -1);
  trove_gitignore_free(gi);
  gi = gi_of("!keep.md\n*.md\n");
  CHECK(trove_gitignore_match(gi, "keep.md", false) == 1);
  trove_gitignore_free(gi);
}

static void gitignore_globstar_forms(void) {
  trove_gitignore *gi = gi_of("**/logs\nout/**\na/**/b\n");
  CHECK(trove_gitignore_match(gi, "logs", true) == 1);
  CHECK(trove_gitignore_match(gi, "x/y/logs", true) == 1);
  CHECK(trove_gitignore_match(gi, "out/x/y", false) == 1);
  CHECK(trove_gitignore_match(gi, "out", true) == 0);
  CHECK(trove_gitignore_match(gi, "a/b", false) == 1);
  CHECK(trove_gitignore_match(gi, "a/x/y/b", false) == 1);
  CHECK(trove_gitignore_match(gi, "x/a/b", false) == 0);
  trove_gitignore_free(gi);
}

static void gitignore_comments_blanks_escapes_and_spaces(void) {
  trove_gitignore *gi = gi_of("# a comment\n\n   \n\\#hash\n\\!bang\ntrail   \nkeep\\ \r\n[bad\n");
  CHECK(trove_gitignore_match(gi, "# a comment", false) == 0);
  CHECK(trove_gitignore_match(gi, "#hash", false) == 1);
  CHECK(trove_gitignore_match(gi, "!bang", false) == 1);
  CHECK(trove_gitignore_match(gi, "trail", false) == 1);
  CHECK(trove_gitignore_match(gi, "keep ", false) == 1);
  CHECK(trove_gitignore_match(gi, "keep", false) == 0);
  CHECK(trove_gitignore_match(gi, "[bad", false) == 0); /* malformed line ignored */
  trove_gitignore_free(gi);
}

static void gitignore_bad_arguments(void) {
  trove_gitignore *gi = NULL;
  CHECK(trove_gitignore_parse(NULL, 3, &gi) == TROVE_EINVAL);
  CHECK(trove_gitignore_parse("x", 1, NULL) == TROVE_EINVAL);
  CHECK(trove_gitignore_parse(NULL, 0, &gi) == 0 && gi);
  CHECK(trove_gitignore_match(gi, "x", false) == 0);
  trove_gitignore_free(gi);
  CHECK(trove_gitignore_match(NULL, "x", false) == 0);
  trove_gitignore_free(NULL);
  /* not NUL-terminated: only len bytes are read */
  gi = NULL;
  CHECK(trove_gitignore_parse("a.txtXXXX", 5, &gi) == 0);
  CHECK(trove_gitignore_match(gi, "a.txt", false) == 1);
  CHECK(trove_gitignore_match(gi, "a.txtXXXX", false) == 0);
  trove_gitignore_free(gi);
}

static void gitignore_parse_fault_loop_is_clean(void) {
  const char *text = "*.o\n!keep.o\n/build/\n";
  int rc = -1, n;
  for (n = 0; n < 100 && rc != 0; n++) {
    trove_gitignore *gi = (trove_gitignore *)1;
    trove_alloc_fail_after(n, false);
    rc = trove_gitignore_parse(text, strlen(text), &gi);
    trove_alloc_fail_after(-1, false);
    CHECK(rc == 0 || (rc == TROVE_ENOMEM && gi == NULL));
    if (rc == 0) {
      CHECK(trove_gitignore_match(gi, "build", true) == 1);
      trove_gitignore_free(gi);
    }
  }
  CHECK(rc == 0 && n > 1);
}

int main(void) {
  RUN(glob_star_stays_within_a_segment);
  RUN(glob_globstar_spans_directories);
  RUN(glob_sets_and_escapes);
  RUN(glob_malformed_matches_nothing);
  RUN(glob_many_stars_stay_fast);
  RUN(gitignore_unanchored_matches_at_any_depth);
  RUN(gitignore_slash_anchors);
  RUN(gitignore_trailing_slash_matches_dirs_only);
  RUN(gitignore_last_rule_wins_and_negation_reincludes);
  RUN(gitignore_globstar_forms);
  RUN(gitignore_comments_blanks_escapes_and_spaces);
  RUN(gitignore_bad_arguments);
  RUN(gitignore_parse_fault_loop_is_clean);
  return check_done("glob_test");
}
