/* markdown.c: the Markdown and plain-text entry points.
 *
 * Markdown is not rendered to HTML and extracted: we only need its text and
 * structure, so a line-by-line pass recognises the block syntax that matters
 * (ATX and setext headings, fenced and indented code, list items, block
 * quotes, pipe tables, rules, link definitions) and an inline pass strips
 * emphasis, links (keeping their text), images (keeping alt text), inline
 * code (keeping the code) and HTML tags. It is CommonMark-shaped, not
 * CommonMark-exact: lazy continuation and nested containers are simplified,
 * which costs nothing for search. YAML front matter is read the same
 * pragmatic way: top-level "key: value" lines, quoted (escapes decoded)
 * or plain (to a " #" comment), block scalars (| and >) and the first item
 * of a list. */
#include "extract_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- inline markup ------------------------------------------------------------ */

static bool alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (unsigned char)c >= 0x80;
}

static bool punct(char c) { return c > ' ' && c < 0x7F && !alnum(c); }

/* How far an inline construct may reach. Longer ones are taken as plain
 * text, which keeps hostile input ("[[[[..." or a thousand lone backticks)
 * linear instead of quadratic, and bounds the recursion of link texts. */
enum { REACH = 2048, MAX_NEST = 8 };

static size_t reach(size_t i, size_t n) { return n - i > REACH ? i + REACH : n; }

/* Index of the ']' closing a link text opened at s[i] == '[' when it is
 * followed by "(" or "[", else 0. */
static size_t link_close(const char *s, size_t n, size_t i) {
  int depth = 0;
  for (size_t k = i, end = reach(i, n); k < end; k++) {
    if (s[k] == '\\')
      k++;
    else if (s[k] == '[')
      depth++;
    else if (s[k] == ']' && --depth == 0)
      return k + 1 < n && (s[k + 1] == '(' || s[k + 1] == '[') ? k : 0;
  }
  return 0;
}

/* Index just past the ")" or "]" group that starts at s[i]; just past s[i]
 * when it does not close within reach. */
static size_t skip_group(const char *s, size_t n, size_t i) {
  char open = s[i], close = open == '(' ? ')' : ']';
  int depth = 0;
  for (size_t k = i, end = reach(i, n); k < end; k++) {
    if (s[k] == open)
      depth++;
    else if (s[k] == close && --depth == 0)
      return k + 1;
  }
  return i + 1;
}

static int md_inline(const char *s, size_t n, int nest, trove_buf *o);

/* Handles the construct at s[i]; returns bytes consumed, 0 when s[i] is
 * plain text. */
static size_t md_construct(const char *s, size_t n, size_t i, int nest, trove_buf *o, int *rc) {
  char c = s[i];
  if (c == '\\' && i + 1 < n && punct(s[i + 1]))
    return (*rc = trove_buf_putc(o, s[i + 1])), 2;
  if (c == '`') {
    size_t run = 0;
    while (i + run < n && s[i + run] == '`')
      run++;
    for (size_t k = i + run, end = reach(i, n); k + run <= end; k++)
      if (memcmp(s + k, s + i, run) == 0) {
        *rc = trove_buf_append(o, s + i + run, k - i - run);
        return k + run - i;
      }
    return (*rc = trove_buf_append(o, s + i, run)), run;
  }
  if (c == '!' && i + 1 < n && s[i + 1] == '[' && link_close(s, n, i + 1))
    return 1; /* an image: keep its alt text via the '[' case */
  if (c == '[' && nest < MAX_NEST) {
    size_t z = link_close(s, n, i);
    if (!z)
      return 0;
    *rc = md_inline(s + i + 1, z - i - 1, nest + 1, o);
    return skip_group(s, n, z + 1) - i;
  }
  if (c == '<') {
    const char *e = memchr(s + i, '>', reach(i, n) - i);
    if (!e || i + 1 >= n)
      return 0;
    size_t len = (size_t)(e - (s + i)) + 1;
    char d = s[i + 1];
    if (len > 3 && memchr(s + i, ':', len) && !memchr(s + i, ' ', len))
      return (*rc = trove_buf_append(o, s + i + 1, len - 2)), len; /* autolink */
    if (d == '/' || d == '!' || ((d | 32) >= 'a' && (d | 32) <= 'z'))
      return len; /* an HTML tag or comment */
    return 0;
  }
  if (c == '*') { /* a delimiter touches text on one side; "2 * 3" keeps it */
    bool before = i > 0 && s[i - 1] != ' ' && s[i - 1] != '*';
    bool after = i + 1 < n && s[i + 1] != ' ' && s[i + 1] != '*';
    bool run = (i > 0 && s[i - 1] == '*') || (i + 1 < n && s[i + 1] == '*');
    return before || after || run ? 1 : 0;
  }
  if (c == '~' && i + 1 < n && s[i + 1] == '~')
    return 2;
  if (c == '_') { /* emphasis only at a word edge: snake_case stays */
    bool left = i == 0 || !alnum(s[i - 1]), right = i + 1 >= n || !alnum(s[i + 1]);
    return left || right ? 1 : 0;
  }
  return 0;
}

static int md_inline(const char *s, size_t n, int nest, trove_buf *o) {
  size_t i = 0;
  while (i < n) {
    int rc = 0;
    size_t used = md_construct(s, n, i, nest, o, &rc);
    if (rc)
      return TROVE_ENOMEM;
    if (used) {
      i += used;
      continue;
    }
    if (trove_buf_putc(o, s[i]))
      return TROVE_ENOMEM;
    i++;
  }
  return 0;
}

/* ---- front matter ------------------------------------------------------------- */

typedef struct line {
  const char *s;
  size_t n;
} line;

/* The line starting at *pos (without its "\n" or "\r\n"); advances *pos. */
static line next_line(const char *s, size_t len, size_t *pos) {
  const char *p = s + *pos, *nl = memchr(p, '\n', len - *pos);
  size_t n = nl ? (size_t)(nl - p) : len - *pos;
  *pos += n + (nl != NULL);
  if (n > 0 && p[n - 1] == '\r')
    n--;
  return (line){p, n};
}

static bool is_rule_line(line l, char c) {
  size_t k = 0;
  while (k < l.n && l.s[k] == c)
    k++;
  if (k < 3)
    return false;
  while (k < l.n && (l.s[k] == ' ' || l.s[k] == '\t'))
    k++;
  return k == l.n;
}

/* Strips surrounding spaces and tabs. */
static line trim(line v) {
  while (v.n && (v.s[0] == ' ' || v.s[0] == '\t'))
    v.s++, v.n--;
  while (v.n && (v.s[v.n - 1] == ' ' || v.s[v.n - 1] == '\t'))
    v.n--;
  return v;
}

/* Strips surrounding spaces and one level of matching quotes. */
static line unquote(line v) {
  v = trim(v);
  if (v.n >= 2 && (v.s[0] == '"' || v.s[0] == '\'') && v.s[v.n - 1] == v.s[0])
    v.s++, v.n -= 2;
  return v;
}

static int hex_digit(char c) {
  return c >= '0' && c <= '9' ? c - '0'
         : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10
                                                  : -1;
}

/* Appends code point cp as UTF-8 (U+FFFD for what is not a scalar value). */
static int put_utf8(trove_buf *out, uint32_t cp) {
  char u[4];
  return trove_buf_append(out, u, trove_utf8_encode(cp, u));
}

/* The body of a double-quoted YAML scalar, its escapes decoded: \" \\ \/,
 * \t and \n (as a space: these are one-line fields), \xXX, \uXXXX and
 * \UXXXXXXXX. An escape YAML does not define is kept as written. */
static int put_double_quoted(trove_buf *out, line v) {
  for (size_t i = 0; i < v.n; i++) {
    char c = v.s[i];
    if (c != '\\' || i + 1 == v.n) {
      if (trove_buf_putc(out, c))
        return TROVE_ENOMEM;
      continue;
    }
    char e = v.s[++i];
    int digits = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : 0;
    uint32_t cp = 0;
    int k = 0;
    while (k < digits && i + 1 + (size_t)k < v.n && hex_digit(v.s[i + 1 + k]) >= 0)
      cp = cp << 4 | (uint32_t)hex_digit(v.s[i + 1 + k]), k++;
    int rc;
    if (digits && k == digits)
      rc = put_utf8(out, cp), i += (size_t)digits;
    else if (e == 'n' || e == 't' || e == 'r')
      rc = trove_buf_putc(out, ' ');
    else if (e == '"' || e == '\\' || e == '/' || e == ' ')
      rc = trove_buf_putc(out, e);
    else
      rc = trove_buf_putc(out, '\\') || trove_buf_putc(out, e);
    if (rc)
      return TROVE_ENOMEM;
  }
  return 0;
}

/* Appends the YAML scalar v as its value: a double-quoted one with its
 * escapes decoded, a single-quoted one with '' read as ', a plain one up to
 * a " #" comment. */
static int put_scalar(trove_buf *out, line v) {
  v = trim(v);
  if (v.n >= 2 && v.s[0] == '"' && v.s[v.n - 1] == '"')
    return put_double_quoted(out, (line){v.s + 1, v.n - 2});
  if (v.n >= 2 && v.s[0] == '\'' && v.s[v.n - 1] == '\'') {
    for (size_t i = 1; i + 1 < v.n; i++)
      if (trove_buf_putc(out, v.s[i]))
        return TROVE_ENOMEM;
      else if (v.s[i] == '\'' && v.s[i + 1] == '\'')
        i++;
    return 0;
  }
  for (size_t i = 0; i + 1 < v.n; i++)
    if ((v.s[i] == ' ' || v.s[i] == '\t') && v.s[i + 1] == '#') {
      v = trim((line){v.s, i});
      break;
    }
  return trove_buf_append(out, v.s, v.n);
}

/* The value of a front matter key whose inline value is v, reading
 * following indented lines for block scalars, lists and "name:" maps. */
static int fm_value(const char *s, size_t end, size_t *pos, line v, trove_buf *out) {
  v = trim(v);
  if (v.n && v.s[0] == '[') { /* inline list: first item */
    size_t k = 1;
    while (k < v.n && v.s[k] != ',' && v.s[k] != ']')
      k++;
    return put_scalar(out, (line){v.s + 1, k - 1});
  }
  bool block = v.n && (v.s[0] == '|' || v.s[0] == '>');
  if (v.n && !block)
    return put_scalar(out, v);
  while (*pos < end) {
    size_t save = *pos;
    line l = next_line(s, end, pos);
    if (l.n == 0 || !(l.s[0] == ' ' || l.s[0] == '\t' || l.s[0] == '-')) {
      *pos = save;
      break;
    }
    line t = trim(l);
    if (!block && t.n >= 2 && t.s[0] == '-' && t.s[1] == ' ') /* list: first item */
      return put_scalar(out, (line){t.s + 2, t.n - 2});
    if (!block && t.n > 5 && strncasecmp(t.s, "name:", 5) == 0)
      return put_scalar(out, (line){t.s + 5, t.n - 5});
    if (block && (trove_buf_putc(out, ' ') || trove_buf_append(out, t.s, t.n)))
      return TROVE_ENOMEM;
  }
  return 0;
}

static const struct {
  const char *key;
  int field; /* 0 title, 1 excerpt, 2 byline, 3 lang */
  int rank;  /* lower wins */
} fm_keys[] = {{"title", 0, 0},   {"name", 0, 1},       {"description", 1, 0}, {"summary", 1, 1},
               {"excerpt", 1, 2}, {"author", 2, 0},     {"authors", 2, 1},     {"lang", 3, 0},
               {"language", 3, 1}};

/* Reads front matter at the start of md; returns the offset of the body
 * (0 when there is none). */
static int front_matter(const char *md, size_t len, trove_doc *doc, size_t *body) {
  size_t pos = 0;
  *body = 0;
  if (len >= 3 && memcmp(md, "\xEF\xBB\xBF", 3) == 0)
    pos = 3;
  line first = next_line(md, len, &pos);
  if (!(first.n == 3 && memcmp(first.s, "---", 3) == 0))
    return 0;
  size_t start = pos, end = 0, after = 0;
  for (size_t p = pos; p < len;) {
    size_t at = p;
    line l = next_line(md, len, &p);
    if ((l.n == 3 && (memcmp(l.s, "---", 3) == 0 || memcmp(l.s, "...", 3) == 0))) {
      end = at, after = p;
      break;
    }
  }
  if (!after)
    return 0; /* no closing line: not front matter */
  char **slots[4] = {&doc->title, &doc->excerpt, &doc->byline, &doc->lang};
  int best[4] = {99, 99, 99, 99};
  for (pos = start; pos < end;) {
    line l = next_line(md, end, &pos);
    const char *colon = memchr(l.s, ':', l.n);
    if (!colon || l.s[0] == ' ' || l.s[0] == '\t' || l.s[0] == '#')
      continue;
    size_t kl = (size_t)(colon - l.s);
    for (size_t k = 0; k < sizeof fm_keys / sizeof fm_keys[0]; k++) {
      if (strlen(fm_keys[k].key) != kl || strncasecmp(l.s, fm_keys[k].key, kl) != 0 ||
          fm_keys[k].rank >= best[fm_keys[k].field])
        continue;
      trove_buf v = {0};
      int rc = fm_value(md, end, &pos, (line){colon + 1, l.n - kl - 1}, &v);
      if (!rc && v.len)
        rc = trove_extract__doc_set(slots[fm_keys[k].field], v.data, v.len);
      trove_buf_free(&v);
      if (rc)
        return TROVE_ENOMEM;
      best[fm_keys[k].field] = fm_keys[k].rank;
    }
  }
  *body = after;
  return 0;
}

/* ---- blocks -------------------------------------------------------------------- */

typedef struct md {
  xout *o;
  trove_buf para;         /* raw Markdown of the pending block */
  char prefix[48];        /* list marker written before it */
  trove_block_kind kind;
  int level;
  trove_buf code;         /* pending code block */
  bool fence_open, indented;
  char fence;
  size_t fence_n;
  int rc;
} md;

static void md_flush(md *m) {
  if (!m->rc && m->para.len) {
    trove_buf raw = {0}, t = {0};
    bool space = false;
    if (md_inline(m->para.data, m->para.len, 0, &raw) || trove_buf_puts(&t, m->prefix) ||
        trove_extract__fold_append(&t, raw.data ? raw.data : "", raw.len, &space))
      m->rc = TROVE_ENOMEM;
    else if (t.len > strlen(m->prefix))
      m->rc = trove_extract__out_block(m->o, m->kind, m->level, t.data, t.len);
    trove_buf_free(&raw);
    trove_buf_free(&t);
  }
  trove_buf_reset(&m->para);
  m->prefix[0] = '\0';
  m->kind = TROVE_BLOCK_PARA;
  m->level = 0;
}

static void md_code_flush(md *m) {
  if (!m->rc && m->code.len)
    m->rc = trove_extract__out_block(m->o, TROVE_BLOCK_CODE, 0, m->code.data, m->code.len);
  trove_buf_reset(&m->code);
  m->indented = false;
}

static void add(md *m, trove_buf *b, const char *s, size_t n) {
  if (!m->rc && trove_buf_append(b, s, n))
    m->rc = TROVE_ENOMEM;
}

/* Columns of leading indentation (a tab counts 4) and bytes it spans. */
static size_t indent_of(line l, size_t *bytes) {
  size_t cols = 0, k = 0;
  for (; k < l.n && (l.s[k] == ' ' || l.s[k] == '\t'); k++)
    cols += l.s[k] == '\t' ? 4 : 1;
  *bytes = k;
  return cols;
}

/* A list marker at t: its length (marker and spaces), 0 when none. */
static size_t list_marker(line t, bool *ordered, int *number) {
  size_t k = 0;
  *ordered = false;
  if (t.n >= 2 && (t.s[0] == '-' || t.s[0] == '*' || t.s[0] == '+') && t.s[1] == ' ')
    k = 1;
  else {
    int v = 0;
    while (k < t.n && k < 9 && t.s[k] >= '0' && t.s[k] <= '9')
      v = v * 10 + (t.s[k++] - '0');
    if (k == 0 || k + 1 >= t.n || (t.s[k] != '.' && t.s[k] != ')') || t.s[k + 1] != ' ')
      return 0;
    k++;
    *ordered = true;
    *number = v;
  }
  while (k < t.n && t.s[k] == ' ')
    k++;
  return k;
}

static void table_row(md *m, line t) {
  bool separator = true;
  for (size_t k = 0; k < t.n; k++)
    if (!strchr("|:- \t", t.s[k]))
      separator = false;
  if (separator)
    return;
  md_flush(m);
  size_t a = t.s[0] == '|' ? 1 : 0, z = t.n;
  while (z > a && (t.s[z - 1] == ' ' || t.s[z - 1] == '|'))
    z--;
  bool first = true;
  while (a < z) {
    size_t e = a;
    while (e < z && !(t.s[e] == '|' && (e == 0 || t.s[e - 1] != '\\')))
      e++;
    line cell = unquote((line){t.s + a, e - a});
    if (!first)
      add(m, &m->para, " | ", 3);
    add(m, &m->para, cell.s, cell.n);
    first = false;
    a = e + 1;
  }
  m->kind = TROVE_BLOCK_ROW;
  md_flush(m);
}

static bool fence_line(line t, char *c, size_t *n) {
  size_t k = 0;
  if (t.n < 3 || (t.s[0] != '`' && t.s[0] != '~'))
    return false;
  while (k < t.n && t.s[k] == t.s[0])
    k++;
  *c = t.s[0];
  *n = k;
  return k >= 3;
}

static void heading(md *m, line t) {
  size_t h = 0;
  while (h < t.n && t.s[h] == '#')
    h++;
  size_t a = h, z = t.n;
  while (z > a && (t.s[z - 1] == '#' || t.s[z - 1] == ' '))
    z--;
  md_flush(m);
  add(m, &m->para, t.s + a, z - a);
  m->kind = TROVE_BLOCK_HEADING;
  m->level = (int)h;
  md_flush(m);
}

/* Handles one line outside fenced code, with indentation already known. */
/* The run of '#' that starts t; bounded by t.n, as a line is not a string. */
static size_t hashes(line t) {
  size_t k = 0;
  while (k < t.n && t.s[k] == '#')
    k++;
  return k;
}

static void md_line(md *m, line l, line t, size_t cols) {
  bool ordered;
  int number = 0;
  size_t mk;
  if (t.n == 0) {
    md_flush(m);
  } else if (cols >= 4 && m->para.len == 0) {
    m->indented = true;
    size_t skip = 0, c = 0;
    for (; skip < l.n && c < 4; skip++)
      c += l.s[skip] == '\t' ? 4 : 1;
    add(m, &m->code, l.s + skip, l.n - skip);
    add(m, &m->code, "\n", 1);
  } else if (t.s[0] == '#' && hashes(t) <= 6 && (hashes(t) == t.n || t.s[hashes(t)] == ' ')) {
    heading(m, t);
  } else if (m->para.len && m->kind == TROVE_BLOCK_PARA && (is_rule_line(t, '=') ||
                                                             (t.n >= 2 && is_rule_line(t, '-')))) {
    m->kind = TROVE_BLOCK_HEADING;
    m->level = t.s[0] == '=' ? 1 : 2;
    md_flush(m);
  } else if (is_rule_line(t, '-') || is_rule_line(t, '*') || is_rule_line(t, '_')) {
    md_flush(m);
  } else if (t.n > 2 && t.s[0] == '[' && t.s[1] == '^' && memmem(t.s, t.n, "]:", 2)) {
    const char *c = memmem(t.s, t.n, "]:", 2) + 2; /* a footnote: its text is prose */
    md_flush(m);
    add(m, &m->para, c, (size_t)(t.s + t.n - c));
  } else if (t.s[0] == '[' && memmem(t.s, t.n, "]:", 2)) {
    /* a link reference definition: no text */
  } else if (t.s[0] == '>') {
    while (t.n && (t.s[0] == '>' || t.s[0] == ' '))
      t.s++, t.n--;
    if (m->kind != TROVE_BLOCK_QUOTE)
      md_flush(m);
    m->kind = TROVE_BLOCK_QUOTE;
    if (m->para.len)
      add(m, &m->para, " ", 1);
    add(m, &m->para, t.s, t.n);
  } else if ((mk = list_marker(t, &ordered, &number))) {
    md_flush(m);
    int depth = (int)(cols / 2);
    if (depth > 8)
      depth = 8;
    snprintf(m->prefix, sizeof m->prefix, ordered ? "%d. " : "- ", number);
    m->kind = TROVE_BLOCK_ITEM;
    m->level = depth + 1;
    add(m, &m->para, t.s + mk, t.n - mk);
  } else if (t.s[0] == '|') {
    table_row(m, t);
  } else {
    if (m->para.len)
      add(m, &m->para, " ", 1);
    add(m, &m->para, t.s, t.n);
  }
}

static void md_body(md *m, const char *s, size_t len) {
  for (size_t pos = 0; pos < len && !m->rc;) {
    line l = next_line(s, len, &pos);
    size_t ib, cols = indent_of(l, &ib);
    line t = {l.s + ib, l.n - ib};
    char fc;
    size_t fn;
    if (m->fence_open) {
      if (fence_line(t, &fc, &fn) && fc == m->fence && fn >= m->fence_n && cols < 4) {
        m->fence_open = false;
        md_code_flush(m);
      } else {
        add(m, &m->code, l.s, l.n);
        add(m, &m->code, "\n", 1);
      }
      continue;
    }
    if (m->indented && !(t.n == 0 || cols >= 4))
      md_code_flush(m);
    if (cols < 4 && fence_line(t, &fc, &fn)) {
      md_flush(m);
      md_code_flush(m);
      m->fence_open = true;
      m->fence = fc;
      m->fence_n = fn;
      continue;
    }
    md_line(m, l, t, cols);
  }
  md_flush(m);
  md_code_flush(m);
}

/* The first level-1 heading of o, or NULL. */
static const trove_block *first_h1(const xout *o) {
  for (size_t i = 0; i < o->n_blocks; i++)
    if (o->blocks[i].kind == TROVE_BLOCK_HEADING && o->blocks[i].level == 1)
      return &o->blocks[i];
  return NULL;
}

static int finish(trove_doc *doc, xout *o, trove_doc **out, trove_err *err, size_t len) {
  doc->kind = o->text.len ? TROVE_DOC_ARTICLE : TROVE_DOC_NONE;
  if (trove_extract__out_finish(o, doc)) {
    trove_doc_destroy(doc);
    return trove_err_set(err, TROVE_ENOMEM, "extract: out of memory on a %zu-byte document", len);
  }
  *out = doc;
  return 0;
}

static int check_args(const char *s, size_t len, trove_doc **out, trove_err *err) {
  if (out)
    *out = NULL;
  if (!s || !out)
    return trove_err_set(err, TROVE_EINVAL, "extract: no document or no output given");
  if (len > TROVE_EXTRACT_MAX_INPUT)
    return trove_err_set(err, TROVE_ERANGE,
                         "extract: document is %zu bytes, over the %d-byte limit; skip it",
                         len, TROVE_EXTRACT_MAX_INPUT);
  return 0;
}

int trove_extract_markdown(const char *s, size_t len, trove_doc **out, trove_err *err) {
  int rc = check_args(s, len, out, err);
  if (rc)
    return rc;
  md m = {.kind = TROVE_BLOCK_PARA};
  xout o = {0};
  m.o = &o;
  size_t body;
  trove_doc *doc = trove_extract__doc_new();
  if (!doc || front_matter(s, len, doc, &body))
    goto out_nomem;
  md_body(&m, s + body, len - body);
  if (m.rc)
    goto out_nomem;
  const trove_block *h1 = first_h1(&o);
  if (doc->title[0] == '\0' && h1 &&
      trove_extract__doc_set(&doc->title, o.text.data + h1->start, h1->len))
    goto out_nomem;
  trove_buf_free(&m.para);
  trove_buf_free(&m.code);
  return finish(doc, &o, out, err, len);
out_nomem:
  trove_buf_free(&m.para);
  trove_buf_free(&m.code);
  trove_extract__out_free(&o);
  trove_doc_destroy(doc);
  return trove_err_set(err, TROVE_ENOMEM, "extract: out of memory on a %zu-byte document", len);
}

int trove_extract_text(const char *s, size_t len, trove_doc **out, trove_err *err) {
  int rc = check_args(s, len, out, err);
  if (rc)
    return rc;
  xout o = {0};
  trove_buf para = {0};
  trove_doc *doc = trove_extract__doc_new();
  if (!doc)
    goto out_nomem;
  size_t pos = len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
  while (pos < len) {
    line l = next_line(s, len, &pos);
    while (l.n && (l.s[l.n - 1] == ' ' || l.s[l.n - 1] == '\t'))
      l.n--;
    if (l.n == 0 || pos >= len) {
      if (l.n && ((para.len && trove_buf_putc(&para, '\n')) || trove_buf_append(&para, l.s, l.n)))
        goto out_nomem;
      if (para.len && trove_extract__out_block(&o, TROVE_BLOCK_PARA, 0, para.data, para.len))
        goto out_nomem;
      trove_buf_reset(&para);
    } else if ((para.len && trove_buf_putc(&para, '\n')) || trove_buf_append(&para, l.s, l.n))
      goto out_nomem;
  }
  trove_buf_free(&para);
  return finish(doc, &o, out, err, len);
out_nomem:
  trove_buf_free(&para);
  trove_extract__out_free(&o);
  trove_doc_destroy(doc);
  return trove_err_set(err, TROVE_ENOMEM, "extract: out of memory on a %zu-byte document", len);
}
