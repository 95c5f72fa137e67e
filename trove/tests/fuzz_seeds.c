/* fuzz_seeds.c: runs one fuzz target's entry point (FUZZ_ONE, defined per
 * target by add_fuzz_target in trove/CMakeLists.txt) over its committed seed
 * corpus, the directory argv[1], and over fixed mutations of every seed
 * (truncations, byte changes, deletions, duplicated runs), so each build
 * exercises the parsers' error paths without clang. The seed of the
 * mutations is fixed and each input is a fresh allocation of its exact size,
 * so a failure repeats and an over-read is caught by ASan. A failing input
 * is written to <target>-failed-<n> in the current directory. */
#include "check.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int FUZZ_ONE(const uint8_t *data, size_t size);

#define STR2(x) #x
#define STR(x) STR2(x)

/* Mutations per seed: enough to reach the early error paths of each parser
 * while every target's test stays under a few seconds under ASan. */
enum { MUTATIONS = 200, MAX_SEED = 1 << 20 };

static unsigned long rng = 12345;
static unsigned next(void) {
  rng = rng * 6364136223846793005UL + 1442695040888963407UL;
  return (unsigned)(rng >> 33);
}

static int failures;

static void run(const uint8_t *data, size_t len, const char *what) {
  uint8_t *copy = malloc(len ? len : 1);
  CHECK(copy != NULL);
  if (!copy)
    return;
  memcpy(copy, data, len);
  if (FUZZ_ONE(copy, len)) {
    char name[64];
    snprintf(name, sizeof name, "%s-failed-%d", STR(FUZZ_ONE), failures++);
    FILE *f = fopen(name, "wb");
    if (f) {
      fwrite(data, 1, len, f);
      fclose(f);
    }
    fprintf(stderr, "%s: an invariant broke on %s (%zu bytes, saved as %s)\n", STR(FUZZ_ONE), what,
            len, name);
    CHECK(0);
  }
  free(copy);
}

/* Mutates base (n bytes) into buf (room for 2n + 16); returns the new length. */
static size_t mutate(const uint8_t *base, size_t n, uint8_t *buf) {
  memcpy(buf, base, n);
  size_t len = n;
  for (unsigned k = 0, edits = 1 + next() % 4; k < edits && len; k++) {
    size_t at = next() % len;
    switch (next() % 5) {
    case 0: len = at; break;                     /* truncate */
    case 1: buf[at] = (uint8_t)next(); break;    /* random byte */
    case 2: buf[at] ^= (uint8_t)(1u << next() % 8); break; /* bit flip */
    case 3: memmove(buf + at, buf + at + 1, len - at - 1), len--; break; /* delete */
    default: {                                   /* duplicate a run, within room */
      size_t run_len = 1 + next() % 16;
      if (run_len > len - at)
        run_len = len - at;
      if (len + run_len <= 2 * n + 16) {
        memmove(buf + at + run_len, buf + at, len - at);
        len += run_len;
      }
    }
    }
  }
  return len;
}

static void seeds_hold(const char *dir) {
  DIR *d = opendir(dir);
  CHECK(d != NULL);
  if (!d) {
    fprintf(stderr, "cannot open seed corpus %s\n", dir);
    return;
  }
  int seeds = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.')
      continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (!f)
      continue;
    uint8_t *data = malloc(MAX_SEED), *buf = malloc(2 * MAX_SEED + 16);
    size_t n = data ? fread(data, 1, MAX_SEED, f) : 0;
    fclose(f);
    CHECK(data && buf);
    if (data && buf) {
      run(data, n, path);
      for (int i = 0; i < MUTATIONS; i++)
        run(buf, mutate(data, n, buf), path);
    }
    free(data);
    free(buf);
    seeds++;
  }
  closedir(d);
  CHECK(seeds > 0);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s SEED_DIR\n", argv[0]);
    return 2;
  }
  seeds_hold(argv[1]);
  printf("%s: seeds of %s\n", STR(FUZZ_ONE), argv[1]);
  return check_done(STR(FUZZ_ONE));
}
