/* cli_common.c: the helpers every command uses: opening the database named
 * by --db / $TROVE_DB (or only an existing one), printing an error as one
 * line, usage errors, id parsing and writing --json output. Messages go through
 * trove_term_line (core.h): they name files and pages, whose names can hold
 * terminal controls. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

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
  /* the synopsis only: the details start at the first line indented by
   * exactly two spaces, and --help has them */
  const char *cut = usage;
  while ((cut = strchr(cut, '\n')) && !(cut[1] == ' ' && cut[2] == ' ' && cut[3] != ' '))
    cut++;
  fprintf(stderr, "usage: %.*s\n", cut ? (int)(cut - usage) : (int)strlen(usage), usage);
  if (cut)
    fputs("(--help for more)\n", stderr);
  return CLI_USAGE;
}

int cli_fetch_timeout(long *ms) {
  const char *v = getenv("TROVE_FETCH_TIMEOUT");
  if (!v || !*v)
    return CLI_OK;
  char *end = NULL;
  double s = strtod(v, &end);
  if (*end || !(s >= 0.001 && s <= 3600)) {
    fprintf(stderr, "trove: TROVE_FETCH_TIMEOUT=\"%s\" is not a number of seconds between "
            "0.001 and 3600; unset it for the default 30\n", v);
    return CLI_USAGE;
  }
  *ms = (long)(s * 1000);
  return CLI_OK;
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

int cli_json_print(trove_json_out *o, int rc) {
  rc = rc ? rc : trove_json_out_done(o);
  if (rc == 0 && fwrite(o->b->data, 1, o->b->len, stdout) != o->b->len)
    rc = TROVE_EIO;
  trove_buf_free(o->b);
  return rc ? cli_fail(NULL, rc) : CLI_OK;
}

const char *cli_format_time(int64_t t, char buf[32]) {
  time_t tt = (time_t)t;
  struct tm tm;
  if (!t || !localtime_r(&tt, &tm) || !strftime(buf, 32, "%Y-%m-%d %H:%M", &tm))
    return "never";
  return buf;
}
