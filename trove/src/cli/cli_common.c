/* cli_common.c: the helpers every command uses: opening the database named
 * by --db / $TROVE_DB (or only an existing one), printing an error as one
 * line, usage errors, --help and id parsing. Messages go through
 * trove_term_line (core.h): they name files and pages, whose names can hold
 * terminal controls. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Says what the open did besides opening (sources restored into a new
 * database), on stderr. */
static int opened(trove_store *st) {
  const char *note = trove_store_open_note(st);
  if (note)
    trove_term_line(stderr, "trove: %s", note);
  return CLI_OK;
}

int cli_open(const cli *c, trove_store **out) {
  trove_err e = {0};
  trove_store_opts o = {.path = c->db};
  int rc = trove_store_open(&o, out, &e);
  return rc ? cli_fail(&e, rc) : opened(*out);
}

int cli_open_read(const cli *c, trove_store **out) {
  trove_err e = {0};
  trove_store_opts o = {.path = c->db, .read_only_ok = true};
  int rc = trove_store_open(&o, out, &e);
  return rc ? cli_fail(&e, rc) : opened(*out);
}

int cli_scan_lock(trove_store *st, bool no_wait) {
  trove_err e = {0};
  int rc = trove_store_scan_lock(st, !no_wait, stderr, &e);
  if (rc == TROVE_EBUSY) {
    trove_term_line(stderr, "trove: %s (or run without --no-wait to wait for it)", e.msg);
    return CLI_BUSY;
  }
  return rc ? cli_fail(&e, rc) : CLI_OK;
}

int cli_open_existing(const cli *c, trove_store **out) {
  trove_err e = {0};
  char *def = NULL;
  int rc = c->db ? 0 : trove_store_default_path(&def, &e);
  if (rc)
    return cli_fail(&e, rc);
  const char *path = c->db ? c->db : def;
  struct stat sb;
  if (stat(path, &sb) != 0) {
    fprintf(stderr, "trove: no database at %s: add a source and run `trove scan` first, or name "
            "one with --db\n", path);
    trove_free(def);
    return CLI_ERR;
  }
  trove_store_opts o = {.path = path, .read_only_ok = true};
  rc = trove_store_open(&o, out, &e);
  trove_free(def);
  return rc ? cli_fail(&e, rc) : opened(*out);
}

int cli_fail(const trove_err *e, int code) {
  trove_term_line(stderr, "trove: %s", e && e->msg[0] ? e->msg : trove_strerror(code));
  return CLI_ERR;
}

int cli_usage_error(const char *usage, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("trove: ", stderr);
  trove_term_vline(stderr, fmt, ap); /* the arguments a script passed may be file names */
  va_end(ap);
  fprintf(stderr, "usage: %s\n", usage);
  return CLI_USAGE;
}

bool cli_wants_help(int argc, char **argv, const char *usage) {
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      printf("usage: %s\n", usage);
      return true;
    }
  return false;
}

bool cli_parse_id(const char *s, int64_t *out) {
  if (!s || !*s)
    return false;
  char *end = NULL;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || *end || v <= 0)
    return false;
  *out = v;
  return true;
}
