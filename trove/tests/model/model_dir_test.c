/* model_dir_test.c: where trove looks for the model without --model or
 * $TROVE_MODEL (trove_model_search_dir): the XDG data directory's copy
 * first, $HOME/.local/share when XDG_DATA_HOME is unset or relative, a
 * folder only when it holds model.json, then the source tree's folder, and
 * the XDG place when nothing holds the model. The installed prefix's folder
 * (found from the running program) is proved by cli/install_test.sh. */
#include "check.h"
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp[256];

/* mkdir -p for the folders under tmp the cases use. */
static void make_dir(const char *rel) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", tmp, rel);
  for (char *s = p + strlen(tmp) + 1; *s; s++)
    if (*s == '/') {
      *s = '\0';
      mkdir(p, 0755);
      *s = '/';
    }
  mkdir(p, 0755);
}

static void put_model_json(const char *rel) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s/model.json", tmp, rel);
  FILE *f = fopen(p, "w");
  CHECK(f != NULL);
  if (f)
    fclose(f);
}

/* True when the search gives tmp/rel. */
static bool search_gives(const char *rel) {
  char got[1024], want[512];
  snprintf(want, sizeof want, "%s/%s", tmp, rel);
  int rc = trove_model_search_dir(got, sizeof got);
  if (rc || strcmp(got, want) != 0)
    fprintf(stderr, "  search gave %s (rc %d), not %s\n", rc ? "nothing" : got, rc, want);
  return rc == 0 && strcmp(got, want) == 0;
}

/* The source tree's folder when it holds the model, else the given place. */
static bool search_gives_tree_or(const char *rel) {
  char p[1024];
  snprintf(p, sizeof p, "%s/model.json", TROVE_MODEL_DIR);
  if (access(p, R_OK) != 0)
    return search_gives(rel);
  char got[1024];
  return trove_model_search_dir(got, sizeof got) == 0 && strcmp(got, TROVE_MODEL_DIR) == 0;
}

static void xdg_copy_comes_first(void) {
  char xdg[512];
  snprintf(xdg, sizeof xdg, "%s/xdg", tmp);
  setenv("XDG_DATA_HOME", xdg, 1);
  make_dir("xdg/trove/model");
  put_model_json("xdg/trove/model");
  CHECK(search_gives("xdg/trove/model"));
}

static void home_local_share_when_xdg_is_relative_or_unset(void) {
  char home[512];
  snprintf(home, sizeof home, "%s/home", tmp);
  setenv("HOME", home, 1);
  make_dir("home/.local/share/trove/model");
  put_model_json("home/.local/share/trove/model");
  setenv("XDG_DATA_HOME", "relative/data", 1); /* the XDG spec: ignore it */
  CHECK(search_gives("home/.local/share/trove/model"));
  unsetenv("XDG_DATA_HOME");
  CHECK(search_gives("home/.local/share/trove/model"));
}

static void a_folder_without_model_json_is_passed_over(void) {
  char xdg[512];
  snprintf(xdg, sizeof xdg, "%s/empty", tmp);
  setenv("XDG_DATA_HOME", xdg, 1);
  make_dir("empty/trove/model"); /* there, but holds nothing */
  CHECK(search_gives_tree_or("empty/trove/model"));
}

static void without_home_the_source_tree_is_named(void) {
  unsetenv("XDG_DATA_HOME");
  unsetenv("HOME");
  char got[1024];
  CHECK(trove_model_search_dir(got, sizeof got) == 0 && strcmp(got, TROVE_MODEL_DIR) == 0);
}

static void trove_model_env_wins_and_bad_buffers_are_errors(void) {
  setenv("TROVE_MODEL", "/somewhere/else", 1);
  CHECK(strcmp(trove_model_default_dir(), "/somewhere/else") == 0);
  unsetenv("TROVE_MODEL");
  char small[4];
  CHECK(trove_model_search_dir(small, sizeof small) == TROVE_ERANGE);
  CHECK(trove_model_search_dir(NULL, 64) == TROVE_EINVAL);
  CHECK(trove_model_search_dir(small, 0) == TROVE_EINVAL);
}

int main(void) {
  const char *base = getenv("TMPDIR");
  snprintf(tmp, sizeof tmp, "%s/trove-model-dir-XXXXXX", base && *base ? base : "/tmp");
  if (!mkdtemp(tmp)) {
    perror("mkdtemp");
    return 1;
  }
  unsetenv("TROVE_MODEL");
  RUN(xdg_copy_comes_first);
  RUN(home_local_share_when_xdg_is_relative_or_unset);
  RUN(a_folder_without_model_json_is_passed_over);
  RUN(without_home_the_source_tree_is_named);
  RUN(trove_model_env_wins_and_bad_buffers_are_errors);
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
  CHECK(system(cmd) == 0);
  return check_done("model_dir_test");
}
