/* fuzz_tmp.h: a private scratch directory for the fuzz targets that must
 * hand their input to a reader as a file (sources/fuzz_bookmarks.c,
 * sources/fuzz_browser_db.c, index/fuzz_index.c): created once per process
 * under $TMPDIR or /tmp, one file rewritten per input, removed at exit. */
#ifndef TROVE_FUZZ_TMP_H
#define TROVE_FUZZ_TMP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char fuzz_dir[512];

static void fuzz_dir_remove(void) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", fuzz_dir);
  if (system(cmd) != 0)
    fprintf(stderr, "fuzz: cannot remove %s\n", fuzz_dir);
}

/* The scratch directory, or NULL when it cannot be made. */
static inline const char *fuzz_tmpdir(void) {
  if (fuzz_dir[0])
    return fuzz_dir;
  const char *t = getenv("TMPDIR");
  snprintf(fuzz_dir, sizeof fuzz_dir, "%s/trove-fuzz-XXXXXX", t && *t ? t : "/tmp");
  if (!mkdtemp(fuzz_dir)) {
    fuzz_dir[0] = '\0';
    return NULL;
  }
  atexit(fuzz_dir_remove);
  return fuzz_dir;
}

/* Writes data to <scratch>/name, replacing it; the path into path. True on
 * success. */
static inline bool fuzz_write(const char *name, const uint8_t *data, size_t size, char *path,
                              size_t path_size) {
  const char *dir = fuzz_tmpdir();
  if (!dir)
    return false;
  snprintf(path, path_size, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f)
    return false;
  bool ok = fwrite(data, 1, size, f) == size;
  return fclose(f) == 0 && ok;
}

#endif /* TROVE_FUZZ_TMP_H */
