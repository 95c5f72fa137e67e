/* queries.c: reading a query set (eval.h) and checking its targets against a
 * database. The file is read whole and cut in place: every string of the set
 * points into one copy of it, so freeing is three calls. A set is written by
 * hand, so the parser is strict and says where: the first bad line fails the
 * whole set, its message "FILE:LINE: what is wrong". Unknown targets are
 * found only against a database, after the parse.
 */
#include "eval.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_FILE = 64 << 20 };
/* The messages below spell these limits out. */
_Static_assert(TROVE_EVAL_MAX_KINDS == 8 && TROVE_EVAL_KIND_MAX == 23 &&
               TROVE_EVAL_MAX_TARGETS == 32, "update the parser's messages");

/* The kinds a table lists first, in this order. */
static const char *const known_kinds[] = {"keyword", "paraphrase", "question"};

void trove_eval_set_free(trove_eval_set *s) {
  if (!s)
    return;
  for (size_t i = 0; s->q && i < s->n; i++)
    trove_free(s->q[i].targets);
  trove_free(s->q);
  trove_free(s->text);
  trove_free(s->name);
  memset(s, 0, sizeof *s);
}

/* A parse in progress: the set being filled and the line being read. */
typedef struct parser {
  trove_eval_set *s;
  size_t cap, line;
  trove_err *err;
} parser;

/* Fails the current line: "NAME:LINE: what", then arg and a closing quote
 * when arg is given (what then ends with the opening one). */
static int bad(parser *p, int code, const char *what, const char *arg) {
  return trove_err_set(p->err, code, "%s:%zu: %s%s%s", p->s->name, p->line, what,
                       arg ? arg : "", arg ? "\"" : "");
}

static bool word_byte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '-';
}

/* The index of kind k in the set, adding it when new. */
static int kind_index(parser *p, const char *k, size_t *out) {
  size_t len = strlen(k);
  bool word = len > 0;
  for (size_t i = 0; i < len && word; i++)
    word = word_byte(k[i]);
  if (!word || len > TROVE_EVAL_KIND_MAX)
    return bad(p, TROVE_EINVAL, "the kind must be one word of letters, digits, - or _ (at most "
               "23 bytes), not \"", k);
  if (strcmp(k, "all") == 0)
    return bad(p, TROVE_EINVAL, "\"all\" names every query; it cannot be a kind", NULL);
  for (size_t i = 0; i < p->s->n_kinds; i++)
    if (strcmp(p->s->kinds[i], k) == 0) {
      *out = i;
      return 0;
    }
  if (p->s->n_kinds == TROVE_EVAL_MAX_KINDS)
    return bad(p, TROVE_ERANGE, "more than 8 kinds of query; this one is \"", k);
  p->s->kinds[p->s->n_kinds] = k;
  *out = p->s->n_kinds++;
  return 0;
}

/* Trims spaces from both ends of s in place. */
static char *trim(char *s) {
  while (*s == ' ')
    s++;
  size_t n = strlen(s);
  while (n && s[n - 1] == ' ')
    s[--n] = '\0';
  return s;
}

/* Cuts the comma-separated targets in list into q. */
static int split_targets(parser *p, char *list, trove_eval_query *q) {
  size_t n = 1;
  for (const char *c = list; *c; c++)
    n += *c == ',';
  if (n > TROVE_EVAL_MAX_TARGETS)
    return bad(p, TROVE_ERANGE, "more than 32 targets", NULL);
  if (!(q->targets = trove_calloc(n, sizeof *q->targets)))
    return trove_err_set(p->err, TROVE_ENOMEM, "out of memory reading %s", p->s->name);
  for (char *t = list, *next; t; t = next) {
    next = strchr(t, ',');
    if (next)
      *next++ = '\0';
    t = trim(t);
    if (!*t)
      return bad(p, TROVE_EINVAL, n == 1 ? "no targets after the second tab"
                                         : "an empty target between commas", NULL);
    for (size_t i = 0; i < q->n_targets; i++)
      if (strcmp(q->targets[i], t) == 0)
        return bad(p, TROVE_EINVAL, "a target listed twice: \"", t);
    q->targets[q->n_targets++] = t;
  }
  return 0;
}

/* Parses one line (not blank, not a comment), cut in place, into a new query. */
static int parse_line(parser *p, char *line) {
  char *tab1 = strchr(line, '\t'), *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
  if (!tab2)
    return bad(p, TROVE_EINVAL, "expected kind<TAB>query<TAB>target,target; a tab is missing",
               NULL);
  if (strchr(tab2 + 1, '\t'))
    return bad(p, TROVE_EINVAL, "a third tab; targets are separated by commas", NULL);
  *tab1 = *tab2 = '\0';
  char *text = trim(tab1 + 1);
  if (!*text)
    return bad(p, TROVE_EINVAL, "the query is empty", NULL);
  trove_eval_set *s = p->s;
  if (s->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 64, bytes;
    trove_eval_query *q = trove_mul_ok(cap, sizeof *q, &bytes) ? trove_realloc(s->q, bytes) : NULL;
    if (!q)
      return trove_err_set(p->err, TROVE_ENOMEM, "out of memory reading %s", s->name);
    s->q = q;
    p->cap = cap;
  }
  trove_eval_query *q = &s->q[s->n++];
  memset(q, 0, sizeof *q);
  q->line = p->line;
  q->text = text;
  int rc = kind_index(p, trim(line), &q->kind);
  return rc ? rc : split_targets(p, tab2 + 1, q);
}

/* Puts the known kinds first (keyword, paraphrase, question), the others
 * after them in the order seen, and renumbers the queries' kinds. */
static void order_kinds(trove_eval_set *s) {
  size_t map[TROVE_EVAL_MAX_KINDS], k = 0;
  const char *sorted[TROVE_EVAL_MAX_KINDS];
  for (size_t pass = 0; pass <= 3; pass++)
    for (size_t i = 0; i < s->n_kinds; i++) {
      size_t known = 3;
      for (size_t j = 0; j < 3; j++)
        if (strcmp(s->kinds[i], known_kinds[j]) == 0)
          known = j;
      if (known == pass) {
        map[i] = k;
        sorted[k++] = s->kinds[i];
      }
    }
  memcpy(s->kinds, sorted, s->n_kinds * sizeof *sorted);
  for (size_t i = 0; i < s->n; i++)
    s->q[i].kind = map[s->q[i].kind];
}

static int parse_lines(parser *p, char *text, size_t len) {
  char *stop = text + len; /* text[len] is a NUL the parse may overwrite */
  for (char *line = text; line < stop; p->line++) {
    char *end = memchr(line, '\n', (size_t)(stop - line));
    if (!end)
      end = stop;
    if (memchr(line, '\0', (size_t)(end - line)))
      return bad(p, TROVE_EINVAL, "a NUL byte; a query set is text", NULL);
    char *next = end + 1;
    *end = '\0';
    if (end > line && end[-1] == '\r')
      end[-1] = '\0';
    size_t lead = strspn(line, " \t");
    int rc = line[lead] && line[lead] != '#' ? parse_line(p, line) : 0;
    if (rc)
      return rc;
    line = next;
  }
  return 0;
}

int trove_eval_set_parse(const char *name, const char *text, size_t len, trove_eval_set *out,
                         trove_err *err) {
  if (!out)
    return trove_err_set(err, TROVE_EINVAL, "trove_eval_set_parse: NULL set");
  memset(out, 0, sizeof *out);
  if (!name || (!text && len))
    return trove_err_set(err, TROVE_EINVAL, "trove_eval_set_parse: NULL name or text");
  parser p = {.s = out, .line = 1, .err = err};
  out->name = trove_strdup(name);
  out->text = trove_malloc(len + 1);
  if (!out->name || !out->text) {
    trove_eval_set_free(out);
    return trove_err_set(err, TROVE_ENOMEM, "out of memory reading %s", name);
  }
  if (len)
    memcpy(out->text, text, len);
  out->text[len] = '\0';
  int rc = parse_lines(&p, out->text, len);
  if (!rc && !out->n)
    rc = trove_err_set(err, TROVE_EINVAL, "%s: no queries (lines kind<TAB>query<TAB>targets)",
                       name);
  if (rc) {
    trove_eval_set_free(out);
    return rc;
  }
  order_kinds(out);
  return 0;
}

/* Reads the whole file at path into a new buffer *out of *len bytes. */
static int read_file(const char *path, char **out, size_t *len, trove_err *err) {
  *out = NULL;
  *len = 0;
  FILE *f = fopen(path, "rb");
  if (!f)
    return trove_err_set(err, errno == ENOENT ? TROVE_ENOENT : TROVE_EIO,
                         "cannot open the query set %s: %s", path, strerror(errno));
  trove_buf b = {0};
  char chunk[65536];
  size_t got;
  int rc = 0;
  while (!rc && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
    if (b.len + got > MAX_FILE)
      rc = trove_err_set(err, TROVE_EIO, "%s is over 64 MiB: not a query set", path);
    else if (trove_buf_append(&b, chunk, got))
      rc = trove_err_set(err, TROVE_ENOMEM, "out of memory reading %s", path);
  if (!rc && ferror(f))
    rc = trove_err_set(err, TROVE_EIO, "cannot read the query set %s", path);
  fclose(f);
  if (rc) {
    trove_buf_free(&b);
    return rc;
  }
  *len = b.len;
  *out = trove_buf_take(&b);
  return *out ? 0 : trove_err_set(err, TROVE_ENOMEM, "out of memory reading %s", path);
}

int trove_eval_set_load(const char *path, trove_eval_set *out, trove_err *err) {
  if (!out || !path)
    return trove_err_set(err, TROVE_EINVAL, "trove_eval_set_load: NULL argument");
  memset(out, 0, sizeof *out);
  char *text = NULL;
  size_t len = 0;
  int rc = read_file(path, &text, &len, err);
  rc = rc ? rc : trove_eval_set_parse(path, text, len, out, err);
  trove_free(text);
  return rc;
}

/* Whether target names one of paths[0..n), as a ranking would match it. */
static bool names_one(char *const *paths, size_t n, const char *target) {
  for (size_t i = 0; i < n; i++)
    if (trove_eval_path_matches(paths[i], target))
      return true;
  return false;
}

int trove_eval_set_check(const trove_eval_set *s, trove_store *st, trove_err *err) {
  if (!s || !st)
    return trove_err_set(err, TROVE_EINVAL, "trove_eval_set_check: NULL argument");
  char **paths = NULL;
  size_t n_paths = 0, unknown = 0;
  int rc = trove_store_items_paths(st, &paths, &n_paths, err);
  if (rc)
    return rc;
  const trove_eval_query *first = NULL;
  const char *first_target = NULL;
  for (size_t i = 0; i < s->n; i++)
    for (size_t t = 0; t < s->q[i].n_targets; t++)
      if (!names_one(paths, n_paths, s->q[i].targets[t]) && unknown++ == 0) {
        first = &s->q[i];
        first_target = s->q[i].targets[t];
      }
  trove_store_paths_free(paths, n_paths);
  if (!unknown)
    return 0;
  trove_err_set(err, TROVE_ENOENT, "%s:%zu: target \"%s\" is not in the database (no visible "
                "item has that path)", s->name, first->line, first_target);
  if (unknown > 1 && err) {
    size_t used = strlen(err->msg);
    snprintf(err->msg + used, sizeof err->msg - used, "; and %zu more unknown target%s",
             unknown - 1, unknown > 2 ? "s" : "");
  }
  return TROVE_ENOENT;
}
