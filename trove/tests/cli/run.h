/* run.h: what the CLI tests share: running the built `trove` binary (its
 * path is argv[1], given by ctest) with a temporary database, capturing
 * its exit code, stdout and stderr. Header-only: each test is one
 * executable. */
#ifndef TROVE_CLI_RUN_H
#define TROVE_CLI_RUN_H

#include "check.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *trove_bin; /* argv[1] */

typedef struct run_out {
  int code;         /* exit code; 128 + signal when killed */
  char out[65536];  /* stdout, cut */
  char err[4096];   /* stderr, cut */
} run_out;

static inline void run_slurp(const char *path, char *buf, size_t cap) {
  FILE *fp = fopen(path, "rb");
  size_t n = fp ? fread(buf, 1, cap - 1, fp) : 0;
  buf[n] = 0;
  if (fp)
    fclose(fp);
}

/* Starts `trove --db DB args...` (db NULL: `trove args...`) with stdout
 * and stderr going to files in dir; returns the child's pid (-1 on
 * failure). args end with NULL. */
static inline pid_t run_start(const char *dir, const char *db, const char *const *args) {
  const char *argv[64] = {trove_bin, "--db", db};
  int n = db ? 3 : 1;
  for (int i = 0; args[i] && n < 63; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  char out[256], err[256];
  snprintf(out, sizeof out, "%s/stdout", dir);
  snprintf(err, sizeof err, "%s/stderr", dir);
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int fe = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fo < 0 || fe < 0 || dup2(fo, 1) < 0 || dup2(fe, 2) < 0)
      _exit(126);
    execv(trove_bin, (char *const *)argv);
    _exit(127);
  }
  return pid;
}

/* Waits for pid; returns its exit code (128 + signal when killed). */
static inline int run_wait(pid_t pid) {
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid)
    return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Runs trove with the args (NULL-terminated) to completion into *r. */
static inline void run_v(run_out *r, const char *dir, const char *db, const char *const *args) {
  r->code = run_wait(run_start(dir, db, args));
  char path[256];
  snprintf(path, sizeof path, "%s/stdout", dir);
  run_slurp(path, r->out, sizeof r->out);
  snprintf(path, sizeof path, "%s/stderr", dir);
  run_slurp(path, r->err, sizeof r->err);
}

#define RUN_TROVE(r, dir, db, ...) run_v((r), (dir), (db), (const char *const[]){__VA_ARGS__, NULL})

static inline int run_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(path);
}

static inline void run_rmdir(const char *dir) { nftw(dir, run_rm_one, 16, FTW_DEPTH | FTW_PHYS); }

/* Makes a fresh temporary directory into buf (exits on failure). */
static inline void run_tempdir(char *buf, size_t n, const char *tag) {
  snprintf(buf, n, "/tmp/trove-%s-XXXXXX", tag);
  if (!mkdtemp(buf)) {
    perror("mkdtemp");
    exit(2);
  }
}

/* Writes text to dir/rel. */
static inline void run_put(const char *dir, const char *rel, const char *text) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, rel);
  FILE *fp = fopen(path, "wb");
  CHECK(fp != NULL);
  if (fp) {
    fputs(text, fp);
    fclose(fp);
  }
}

#endif /* TROVE_CLI_RUN_H */
