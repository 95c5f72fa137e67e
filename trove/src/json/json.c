/* json.c: the strict JSON parser of json.h, a recursive descent over bytes.
 *
 * Why it is built this way: trove parses whole files it then only reads
 * (Chromium's Bookmarks, model.json, vocab.json), so the tree is immutable
 * and lives in an arena of large blocks taken through trove_malloc: a node is
 * a bump of a pointer and the free is one walk over a few blocks. While a
 * container is being parsed its children wait on one shared growable stack;
 * when the container closes they are copied into the arena as one contiguous
 * array, so an element lookup is an index and nothing is ever reallocated in
 * the arena. A string's decoded form is never longer than its raw form, so a
 * quick scan to the closing quote sizes the arena slot and the decoder writes
 * straight into it, returning the unused tail. Runs of plain characters are
 * copied with memcpy; only escapes and non-ASCII bytes take the slow path.
 *
 * Recursion depth is bounded by max_depth, itself clamped to MAX_DEPTH so
 * hostile input can never exhaust the C stack. Numbers are checked against
 * the RFC grammar by hand, then converted with strtod_l in the "C" locale
 * (a process that sets LC_NUMERIC to a comma locale still parses "1.5");
 * short integers skip strtod entirely. Every error names its byte offset.
 */
#include "json.h"

#include <locale.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* A hard cap on nesting whatever the caller asks: each level costs one
 * recursion of about a hundred bytes of stack, so 10,000 levels stay under
 * 2 MB, well inside an 8 MB main stack and a default 8 MB pthread stack. */
enum { MAX_DEPTH = 10000 };

/* The first arena block; each next one doubles, up to BLOCK_MAX, so a 30 MB
 * file costs a handful of allocations and small files waste little. */
enum { BLOCK_FIRST = 16 * 1024, BLOCK_MAX = 8 * 1024 * 1024 };

struct trove_json {
  uint8_t type;        /* a trove_json_type */
  bool is_int;         /* number only: u.num.i holds the exact value */
  const char *key;     /* member key when the parent is an object, else NULL */
  size_t key_len;
  union {
    struct { double d; int64_t i; } num;
    struct { const char *s; size_t len; } str;
    struct { trove_json *items; size_t n; } kids; /* array or object */
  } u;
};

typedef struct block {
  struct block *next;
  size_t cap, used;
  _Alignas(max_align_t) unsigned char data[];
} block;

struct trove_json_doc {
  block *blocks; /* newest first; the head is the one being filled */
  trove_json *root;
};

typedef struct parser {
  const unsigned char *s;
  size_t len, pos, max_depth, next_block;
  trove_json_doc *doc;
  trove_json *stack; /* children of the containers being parsed */
  size_t sp, cap;
  trove_err *err;
} parser;

/* ---- errors and the arena ----------------------------------------------- */

static int fail_at(parser *p, size_t at, const char *what) {
  if (at >= p->len)
    return trove_err_set(p->err, TROVE_EINVAL, "JSON error at byte %zu: unexpected end of input, %s",
                         p->len, what);
  return trove_err_set(p->err, TROVE_EINVAL, "JSON error at byte %zu: %s", at, what);
}

static int nomem(parser *p) {
  return trove_err_set(p->err, TROVE_ENOMEM, "out of memory parsing JSON at byte %zu", p->pos);
}

/* Returns n bytes (8-aligned) from the arena, or NULL. */
static void *arena(parser *p, size_t n) {
  if (n > SIZE_MAX - 8 - sizeof(block))
    return NULL;
  n = (n + 7) & ~(size_t)7;
  block *b = p->doc->blocks;
  if (!b || b->cap - b->used < n) {
    size_t cap = p->next_block > n ? p->next_block : n;
    b = trove_malloc(cap + sizeof(block));
    if (!b)
      return NULL;
    b->next = p->doc->blocks, b->cap = cap, b->used = 0;
    p->doc->blocks = b;
    if (p->next_block < BLOCK_MAX)
      p->next_block *= 2;
  }
  void *r = b->data + b->used;
  b->used += n;
  return r;
}

/* Gives back the tail of the most recent arena allocation: it was `had`
 * bytes at ptr and only `keep` are used. */
static void arena_shrink(parser *p, void *ptr, size_t had, size_t keep) {
  block *b = p->doc->blocks;
  had = (had + 7) & ~(size_t)7;
  keep = (keep + 7) & ~(size_t)7;
  if (b && (unsigned char *)ptr + had == b->data + b->used)
    b->used -= had - keep;
}

static int push(parser *p, const trove_json *v) {
  if (p->sp == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 64, bytes;
    if (!trove_mul_ok(cap, sizeof *p->stack, &bytes))
      return nomem(p);
    trove_json *s = trove_realloc(p->stack, bytes);
    if (!s)
      return nomem(p);
    p->stack = s, p->cap = cap;
  }
  p->stack[p->sp++] = *v;
  return 0;
}

static void skip_ws(parser *p) {
  while (p->pos < p->len) {
    unsigned char c = p->s[p->pos];
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t')
      return;
    p->pos++;
  }
}

/* ---- strings ------------------------------------------------------------ */

/* Reads 4 hex digits at p->pos; -1 when they are not all there. */
static long hex4(parser *p) {
  if (p->len - p->pos < 4)
    return -1;
  long v = 0;
  for (int i = 0; i < 4; i++) {
    unsigned char c = p->s[p->pos + (size_t)i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
          : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0)
      return -1;
    v = v * 16 + d;
  }
  p->pos += 4;
  return v;
}

/* Decodes the \u escape whose 'u' was just consumed into o; returns bytes
 * written, or 0 after setting the error. */
static size_t unicode_escape(parser *p, unsigned char *o) {
  size_t at = p->pos - 2;
  long hi = hex4(p);
  if (hi < 0)
    return fail_at(p, at, "\\u must be followed by 4 hex digits"), 0;
  uint32_t cp = (uint32_t)hi;
  if (hi >= 0xD800 && hi <= 0xDBFF && p->len - p->pos >= 6 && p->s[p->pos] == '\\' &&
      p->s[p->pos + 1] == 'u') {
    size_t save = p->pos;
    p->pos += 2;
    long lo = hex4(p);
    if (lo >= 0xDC00 && lo <= 0xDFFF)
      cp = 0x10000 + (uint32_t)((hi - 0xD800) << 10 | (lo - 0xDC00));
    else
      p->pos = save; /* not a low half: re-read it as its own escape */
  }
  return trove_utf8_encode(cp, (char *)o); /* a lone surrogate gives U+FFFD (json.h) */
}

/* Parses the string whose opening quote is at p->pos into the arena. */
static int string(parser *p, const char **out, size_t *out_len) {
  size_t start = ++p->pos, end = start;
  while (end < p->len && p->s[end] != '"')
    end += p->s[end] == '\\' ? 2 : 1;
  if (end >= p->len)
    return trove_err_set(p->err, TROVE_EINVAL,
                         "JSON error at byte %zu: unexpected end of input in the string opened "
                         "at byte %zu", p->len, start - 1);
  size_t cap = end - start + 1;
  unsigned char *o = arena(p, cap), *w = o;
  if (!o)
    return nomem(p);
  while (p->pos < end) {
    size_t run = p->pos;
    while (run < end && p->s[run] >= 0x20 && p->s[run] < 0x80 && p->s[run] != '\\')
      run++;
    memcpy(w, p->s + p->pos, run - p->pos);
    w += run - p->pos;
    p->pos = run;
    if (run == end)
      break;
    unsigned char c = p->s[p->pos];
    if (c < 0x20)
      return fail_at(p, p->pos, "control character in a string (escape it as \\u00XX)");
    if (c >= 0x80) {
      size_t n = trove_utf8_seq((const char *)p->s + p->pos, end - p->pos);
      if (!n)
        return fail_at(p, p->pos, "invalid UTF-8 in a string");
      memcpy(w, p->s + p->pos, n);
      w += n, p->pos += n;
      continue;
    }
    char e = (char)p->s[p->pos + 1]; /* c is '\\' and pos + 1 < end */
    p->pos += 2;
    switch (e) {
    case '"': *w++ = '"'; break;
    case '\\': *w++ = '\\'; break;
    case '/': *w++ = '/'; break;
    case 'b': *w++ = '\b'; break;
    case 'f': *w++ = '\f'; break;
    case 'n': *w++ = '\n'; break;
    case 'r': *w++ = '\r'; break;
    case 't': *w++ = '\t'; break;
    case 'u': {
      size_t n = unicode_escape(p, w);
      if (!n)
        return TROVE_EINVAL;
      w += n;
      break;
    }
    default: return fail_at(p, p->pos - 2, "unknown escape (only \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u)");
    }
  }
  if (p->pos != end) /* an escape ran over the closing quote: \u12" */
    return fail_at(p, end, "\\u must be followed by 4 hex digits");
  *w = '\0';
  *out = (const char *)o;
  *out_len = (size_t)(w - o);
  arena_shrink(p, o, cap, *out_len + 1);
  p->pos = end + 1;
  return 0;
}

/* ---- numbers ------------------------------------------------------------ */

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static void make_c_locale(void) { c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0); }

static size_t digits(parser *p) {
  size_t n = 0;
  while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
    p->pos++, n++;
  return n;
}

/* Converts the validated token s[start, end) with strtod in the C locale. */
static int to_double(parser *p, size_t start, size_t end, double *d) {
  char small[64], *buf = small;
  size_t n = end - start;
  if (n >= sizeof small && !(buf = trove_malloc(n + 1)))
    return nomem(p);
  memcpy(buf, p->s + start, n);
  buf[n] = '\0';
  pthread_once(&c_locale_once, make_c_locale);
  char *stop;
  *d = c_locale ? strtod_l(buf, &stop, c_locale) : strtod(buf, &stop);
  int rc = stop == buf + n ? 0 : fail_at(p, start, "number not understood by strtod");
  if (buf != small)
    trove_free(buf);
  return rc;
}

static int number(parser *p, trove_json *v) {
  size_t start = p->pos;
  bool neg = p->s[p->pos] == '-', integral = true;
  if (neg)
    p->pos++;
  if (p->pos < p->len && p->s[p->pos] == '0')
    p->pos++;
  else if (!digits(p))
    return fail_at(p, p->pos, "expected a digit");
  size_t int_end = p->pos;
  if (p->pos < p->len && p->s[p->pos] == '.') {
    p->pos++, integral = false;
    if (!digits(p))
      return fail_at(p, p->pos, "expected a digit after the decimal point");
  }
  if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
    p->pos++, integral = false;
    if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
      p->pos++;
    if (!digits(p))
      return fail_at(p, p->pos, "expected a digit in the exponent");
  }
  v->type = TROVE_JSON_NUMBER;
  size_t ndig = int_end - start - neg;
  if (integral && ndig <= 19) { /* 19 digits always fit in uint64 */
    uint64_t u = 0, limit = (uint64_t)INT64_MAX + neg;
    for (size_t k = start + neg; k < int_end; k++)
      u = u * 10 + (uint64_t)(p->s[k] - '0');
    if (u <= limit) {
      v->is_int = true;
      v->u.num.i = neg ? (int64_t)(0 - u) : (int64_t)u; /* two's complement: -2^63 fits */
      if (ndig <= 15) { /* exact in a double too, no strtod needed */
        v->u.num.d = neg ? -(double)u : (double)u;
        return 0;
      }
    }
  }
  int rc = to_double(p, start, p->pos, &v->u.num.d);
  double d = v->u.num.d;
  /* The range test comes first: casting an out-of-range double is UB. */
  if (!rc && !v->is_int && d >= -9223372036854775808.0 && d < 9223372036854775808.0 &&
      (double)(int64_t)d == d) {
    v->is_int = true;
    v->u.num.i = (int64_t)d;
  }
  return rc;
}

/* ---- values ------------------------------------------------------------- */

static int value(parser *p, size_t depth);

static int literal(parser *p, const char *word, trove_json_type t) {
  size_t n = strlen(word);
  if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
    return fail_at(p, p->pos, "expected a value (object, array, string, number, true, false "
                              "or null)");
  p->pos += n;
  trove_json v = {.type = (uint8_t)t};
  return push(p, &v);
}

/* Moves the children stack[base..sp) into the arena as v's items. */
static int close_container(parser *p, size_t base, trove_json *v) {
  size_t n = p->sp - base, bytes;
  v->u.kids.n = n;
  v->u.kids.items = NULL;
  if (n) {
    if (!trove_mul_ok(n, sizeof(trove_json), &bytes) || !(v->u.kids.items = arena(p, bytes)))
      return nomem(p);
    memcpy(v->u.kids.items, p->stack + base, bytes);
  }
  p->sp = base;
  return push(p, v);
}

static int array(parser *p, size_t depth) {
  size_t base = p->sp;
  p->pos++; /* '[' */
  skip_ws(p);
  if (p->pos < p->len && p->s[p->pos] == ']')
    p->pos++;
  else
    for (;;) {
      int rc = value(p, depth + 1);
      if (rc)
        return rc;
      skip_ws(p);
      if (p->pos < p->len && p->s[p->pos] == ',') {
        p->pos++;
        continue;
      }
      if (p->pos < p->len && p->s[p->pos] == ']') {
        p->pos++;
        break;
      }
      return fail_at(p, p->pos, "expected ',' or ']' after an array element");
    }
  trove_json v = {.type = TROVE_JSON_ARRAY};
  return close_container(p, base, &v);
}

static int object(parser *p, size_t depth) {
  size_t base = p->sp;
  p->pos++; /* '{' */
  skip_ws(p);
  if (p->pos < p->len && p->s[p->pos] == '}')
    p->pos++;
  else
    for (;;) {
      skip_ws(p);
      if (p->pos >= p->len || p->s[p->pos] != '"')
        return fail_at(p, p->pos, "expected '\"' to start an object key");
      const char *key;
      size_t key_len;
      int rc = string(p, &key, &key_len);
      if (rc)
        return rc;
      skip_ws(p);
      if (p->pos >= p->len || p->s[p->pos] != ':')
        return fail_at(p, p->pos, "expected ':' after an object key");
      p->pos++;
      if ((rc = value(p, depth + 1)))
        return rc;
      p->stack[p->sp - 1].key = key;
      p->stack[p->sp - 1].key_len = key_len;
      skip_ws(p);
      if (p->pos < p->len && p->s[p->pos] == ',') {
        p->pos++;
        continue;
      }
      if (p->pos < p->len && p->s[p->pos] == '}') {
        p->pos++;
        break;
      }
      return fail_at(p, p->pos, "expected ',' or '}' after an object member");
    }
  trove_json v = {.type = TROVE_JSON_OBJECT};
  return close_container(p, base, &v);
}

/* Parses one value at p->pos (after whitespace) and pushes it. depth counts
 * the containers around it. */
static int value(parser *p, size_t depth) {
  skip_ws(p);
  if (p->pos >= p->len)
    return fail_at(p, p->pos, "expected a value");
  unsigned char c = p->s[p->pos];
  if ((c == '[' || c == '{') && depth >= p->max_depth)
    return trove_err_set(p->err, TROVE_ERANGE,
                         "JSON error at byte %zu: nesting deeper than %zu levels", p->pos,
                         p->max_depth);
  switch (c) {
  case '[': return array(p, depth);
  case '{': return object(p, depth);
  case 't': return literal(p, "true", TROVE_JSON_TRUE);
  case 'f': return literal(p, "false", TROVE_JSON_FALSE);
  case 'n': return literal(p, "null", TROVE_JSON_NULL);
  case '"': {
    trove_json v = {.type = TROVE_JSON_STRING};
    int rc = string(p, &v.u.str.s, &v.u.str.len);
    return rc ? rc : push(p, &v);
  }
  default:
    if (c == '-' || (c >= '0' && c <= '9')) {
      trove_json v = {0};
      int rc = number(p, &v);
      return rc ? rc : push(p, &v);
    }
    return fail_at(p, p->pos, "expected a value (object, array, string, number, true, false "
                              "or null)");
  }
}

int trove_json_parse(const char *text, size_t len, size_t max_depth, trove_json_doc **out,
                     trove_err *err) {
  if (!out)
    return trove_err_set(err, TROVE_EINVAL, "trove_json_parse: out is NULL");
  *out = NULL;
  if (!text && len)
    return trove_err_set(err, TROVE_EINVAL, "trove_json_parse: text is NULL");
  parser p = {.s = (const unsigned char *)text, .len = len, .err = err,
              .max_depth = max_depth ? max_depth : TROVE_JSON_DEFAULT_DEPTH,
              .next_block = BLOCK_FIRST};
  if (p.max_depth > MAX_DEPTH)
    p.max_depth = MAX_DEPTH;
  int rc = TROVE_ENOMEM;
  if (!(p.doc = trove_calloc(1, sizeof *p.doc))) {
    nomem(&p);
    goto out_free_stack;
  }
  rc = value(&p, 0);
  if (!rc) {
    skip_ws(&p);
    if (p.pos < p.len)
      rc = fail_at(&p, p.pos, "unexpected data after the JSON value");
  }
  if (!rc && !(p.doc->root = arena(&p, sizeof(trove_json))))
    rc = nomem(&p);
  if (rc)
    goto out_free_doc;
  *p.doc->root = p.stack[0];
  *out = p.doc;
  goto out_free_stack;
out_free_doc:
  trove_json_free(p.doc);
out_free_stack:
  trove_free(p.stack);
  return rc;
}

void trove_json_free(trove_json_doc *doc) {
  if (!doc)
    return;
  for (block *b = doc->blocks, *next; b; b = next) {
    next = b->next;
    trove_free(b);
  }
  trove_free(doc);
}

/* ---- accessors ---------------------------------------------------------- */

const trove_json *trove_json_root(const trove_json_doc *doc) { return doc ? doc->root : NULL; }

trove_json_type trove_json_type_of(const trove_json *v) {
  return v ? (trove_json_type)v->type : TROVE_JSON_NULL;
}

static bool is_container(const trove_json *v) {
  return v && (v->type == TROVE_JSON_ARRAY || v->type == TROVE_JSON_OBJECT);
}

size_t trove_json_len(const trove_json *v) { return is_container(v) ? v->u.kids.n : 0; }

const trove_json *trove_json_at(const trove_json *v, size_t i) {
  return is_container(v) && i < v->u.kids.n ? &v->u.kids.items[i] : NULL;
}

const char *trove_json_key_at(const trove_json *v, size_t i, size_t *key_len) {
  if (!v || v->type != TROVE_JSON_OBJECT || i >= v->u.kids.n)
    return NULL;
  if (key_len)
    *key_len = v->u.kids.items[i].key_len;
  return v->u.kids.items[i].key;
}

const trove_json *trove_json_get(const trove_json *v, const char *key) {
  if (!v || v->type != TROVE_JSON_OBJECT || !key)
    return NULL;
  size_t n = strlen(key);
  for (size_t i = v->u.kids.n; i-- > 0;) {
    const trove_json *m = &v->u.kids.items[i];
    if (m->key_len == n && memcmp(m->key, key, n) == 0)
      return m;
  }
  return NULL;
}

const char *trove_json_str(const trove_json *v, const char *def) {
  return v && v->type == TROVE_JSON_STRING ? v->u.str.s : def;
}

size_t trove_json_str_len(const trove_json *v) {
  return v && v->type == TROVE_JSON_STRING ? v->u.str.len : 0;
}

double trove_json_num(const trove_json *v, double def) {
  return v && v->type == TROVE_JSON_NUMBER ? v->u.num.d : def;
}

bool trove_json_int(const trove_json *v, int64_t *out) {
  if (!v || v->type != TROVE_JSON_NUMBER || !v->is_int)
    return false;
  if (out)
    *out = v->u.num.i;
  return true;
}

int64_t trove_json_i64(const trove_json *v, int64_t def) {
  int64_t i;
  return trove_json_int(v, &i) ? i : def;
}

bool trove_json_bool(const trove_json *v, bool def) {
  if (v && v->type == TROVE_JSON_TRUE)
    return true;
  if (v && v->type == TROVE_JSON_FALSE)
    return false;
  return def;
}

const char *trove_json_get_str(const trove_json *obj, const char *key, const char *def) {
  return trove_json_str(trove_json_get(obj, key), def);
}

double trove_json_get_num(const trove_json *obj, const char *key, double def) {
  return trove_json_num(trove_json_get(obj, key), def);
}

int64_t trove_json_get_i64(const trove_json *obj, const char *key, int64_t def) {
  return trove_json_i64(trove_json_get(obj, key), def);
}

bool trove_json_get_bool(const trove_json *obj, const char *key, bool def) {
  return trove_json_bool(trove_json_get(obj, key), def);
}
