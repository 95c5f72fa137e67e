/* meta.c: a page's title, byline, declared excerpt and language.
 *
 * One walk over the whole parsed page collects the <title>, the first <h1>,
 * <meta> tags (Open Graph, Twitter, Dublin Core, name=author/description),
 * <html lang>, and the first byline-looking element (rel=author,
 * itemprop=author, class or id "byline"/"author") outside comments and
 * navigation. Titles prefer og:title, then a <title> with its site-name part
 * removed, then the h1. A <title> like "Coroutines and Tasks — Python 3.11.2
 * documentation" loses its suffix when the suffix names the site (og:site_name
 * or the host of the base URL), when the h1 is the other part, or when it is
 * a short tail (six words or fewer) after a title of two words or more, or
 * a tail of three words or more after a one-word title ("Index — Python
 * 3.11.2 documentation"); "Python - Wikipedia" stays whole. */
#include "extract_int.h"

#include <string.h>
#include <strings.h>

typedef struct meta {
  GumboNode *title, *h1;
  const char *og_title, *tw_title, *desc, *og_desc, *tw_desc, *author, *site, *lang,
      *lang_meta, *locale;
  char *byline; /* owned */
  int rc;
} meta;

static bool token_is(const char *s, const char *word) {
  const char *p = s ? strcasestr(s, word) : NULL;
  size_t n = strlen(word);
  for (; p; p = strcasestr(p + 1, word)) {
    bool left = p == s || !((p[-1] | 32) >= 'a' && (p[-1] | 32) <= 'z');
    char r = p[n];
    bool right = !((r | 32) >= 'a' && (r | 32) <= 'z');
    if (left && right)
      return true;
  }
  return false;
}

static void set_first(const char **slot, const char *v) {
  if (!*slot && v && v[0])
    *slot = v;
}

static void read_meta(meta *m, const GumboNode *g) {
  const char *key = trove_extract__attr(g, "property");
  if (!key)
    key = trove_extract__attr(g, "name");
  if (!key)
    key = trove_extract__attr(g, "itemprop");
  const char *v = trove_extract__attr(g, "content"), *eq = trove_extract__attr(g, "http-equiv");
  if (eq && strcasecmp(eq, "content-language") == 0)
    set_first(&m->lang_meta, v);
  if (!key || !v)
    return;
  static const struct {
    const char *key;
    size_t off;
  } map[] = {
      {"og:title", offsetof(meta, og_title)},        {"twitter:title", offsetof(meta, tw_title)},
      {"description", offsetof(meta, desc)},         {"og:description", offsetof(meta, og_desc)},
      {"twitter:description", offsetof(meta, tw_desc)}, {"author", offsetof(meta, author)},
      {"article:author", offsetof(meta, author)},    {"dc.creator", offsetof(meta, author)},
      {"og:site_name", offsetof(meta, site)},        {"application-name", offsetof(meta, site)},
      {"language", offsetof(meta, lang_meta)},       {"dc.language", offsetof(meta, lang_meta)},
      {"og:locale", offsetof(meta, locale)},
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcasecmp(key, map[i].key) == 0) {
      const char **slot = (const char **)((char *)m + map[i].off);
      /* An author given as a profile URL names nobody. */
      if (!(map[i].off == offsetof(meta, author) && strstr(v, "://")))
        set_first(slot, v);
    }
}

/* Removes "By ", "Written by " and the like from a byline. */
static const char *byline_start(const char *s) {
  static const char *const lead[] = {"written by ", "posted by ", "by ", "author: ", "von ", NULL};
  while (*s == ' ')
    s++;
  for (const char *const *l = lead; *l; l++)
    if (strncasecmp(s, *l, strlen(*l)) == 0)
      return s + strlen(*l);
  return s;
}

static bool byline_like(const GumboNode *g) {
  const char *rel = trove_extract__attr(g, "rel"), *ip = trove_extract__attr(g, "itemprop");
  if ((rel && token_is(rel, "author")) || (ip && token_is(ip, "author")))
    return true;
  const char *c = trove_extract__attr(g, "class"), *id = trove_extract__attr(g, "id");
  return token_is(c, "byline") || token_is(c, "author") || token_is(id, "byline") ||
         token_is(id, "author");
}

static void try_byline(meta *m, GumboNode *g) {
  trove_buf b = {0};
  if (trove_extract__node_text(g, &b)) {
    m->rc = TROVE_ENOMEM;
    goto out_free;
  }
  const char *s = b.data ? byline_start(b.data) : "";
  size_t n = strlen(s);
  if (n >= 2 && n <= 100 && !(m->byline = trove_strdup(s)))
    m->rc = TROVE_ENOMEM;
out_free:
  trove_buf_free(&b);
}

static bool skip_for_meta(const GumboNode *g) {
  GumboTag t = g->v.element.tag;
  if (t == GUMBO_TAG_SCRIPT || t == GUMBO_TAG_STYLE || t == GUMBO_TAG_NAV ||
      t == GUMBO_TAG_FOOTER || t == GUMBO_TAG_ASIDE || t == GUMBO_TAG_SVG ||
      t == GUMBO_TAG_NOSCRIPT || t == GUMBO_TAG_TEMPLATE)
    return true;
  const char *c = trove_extract__attr(g, "class"), *id = trove_extract__attr(g, "id");
  return token_is(c, "comment") || token_is(c, "comments") || token_is(id, "comments") ||
         token_is(id, "comment") || token_is(c, "sidebar") || token_is(id, "sidebar");
}

static int meta_enter(GumboNode *g, void *ud) {
  meta *m = ud;
  if (m->rc)
    return X_WALK_STOP;
  if (g->type != GUMBO_NODE_ELEMENT)
    return X_WALK_SKIP;
  GumboTag t = g->v.element.tag;
  if (t == GUMBO_TAG_HTML)
    set_first(&m->lang, trove_extract__attr(g, "lang"));
  if (t == GUMBO_TAG_TITLE) {
    if (!m->title)
      m->title = g;
    return X_WALK_SKIP;
  }
  if (t == GUMBO_TAG_META) {
    read_meta(m, g);
    return X_WALK_SKIP;
  }
  if (t == GUMBO_TAG_LINK || skip_for_meta(g))
    return X_WALK_SKIP;
  if (t == GUMBO_TAG_H1 && !m->h1)
    m->h1 = g;
  if (!m->byline && byline_like(g)) {
    try_byline(m, g);
    if (m->byline)
      return X_WALK_SKIP;
  }
  return X_WALK_DESCEND;
}

/* ---- titles -------------------------------------------------------------------- */

static const char *const separators[] = {" | ", " - ", " \xE2\x80\x93 ", " \xE2\x80\x94 ",
                                         " :: ", " \xC2\xB7 ", " \xC2\xBB ", " / ", " ~ ", NULL};

static int words(const char *s, size_t n) {
  int w = 0;
  bool in = false;
  for (size_t i = 0; i < n; i++) {
    bool sp = s[i] == ' ';
    w += !sp && !in;
    in = !sp;
  }
  return w;
}

/* Lowercase letters and digits of s[0..n), for loose comparison. */
static void squash(const char *s, size_t n, char *out, size_t cap) {
  size_t k = 0;
  for (size_t i = 0; i < n && k + 1 < cap; i++) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z')
      c = (char)(c + 32);
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (unsigned char)c >= 0x80)
      out[k++] = c;
  }
  out[k] = '\0';
}

/* Whether the title part s[0..n) names the site: equal to it once squashed,
 * or to the main label of a host ("examplenews" for news.examplenews.com). */
static bool names_site(const char *s, size_t n, const char *site) {
  char a[256], b[256];
  if (!site || !site[0])
    return false;
  squash(s, n, a, sizeof a);
  if (!a[0])
    return false;
  squash(site, strlen(site), b, sizeof b);
  if (strcmp(a, b) == 0)
    return true;
  const char *dot = strrchr(site, '.');
  if (!dot)
    return false;
  const char *lab = dot;
  while (lab > site && lab[-1] != '.')
    lab--;
  squash(lab, (size_t)(dot - lab), b, sizeof b);
  return b[0] && strcmp(a, b) == 0;
}

/* Finds the first and last separator of t. */
static void find_separators(const char *t, const char **first, size_t *first_len,
                            const char **last, size_t *last_len) {
  *first = *last = NULL;
  for (const char *const *s = separators; *s; s++) {
    size_t n = strlen(*s);
    for (const char *p = strstr(t, *s); p; p = strstr(p + 1, *s)) {
      if (!*first || p < *first)
        *first = p, *first_len = n;
      if (!*last || p > *last)
        *last = p, *last_len = n;
    }
  }
}

char *trove_extract__clean_title(const char *t, const char *site, const char *h1) {
  const char *first, *last;
  size_t fl = 0, ll = 0;
  find_separators(t, &first, &fl, &last, &ll);
  if (!first)
    return trove_strdup(t);
  size_t n = strlen(t), hl = h1 ? strlen(h1) : 0;
  if (hl && ((size_t)(first - t) == hl || (size_t)(t + n - (last + ll)) == hl) &&
      (strncmp(t, h1, hl) == 0 || strcmp(t + n - hl, h1) == 0))
    return trove_strdup(h1); /* the h1 is one end of the title */
  if (names_site(last + ll, strlen(last + ll), site))
    return trove_strndup(t, (size_t)(last - t));
  if (names_site(t, (size_t)(first - t), site))
    return trove_strdup(first + fl);
  int tail = words(last + ll, strlen(last + ll)), head = words(t, (size_t)(last - t));
  if (tail <= 6 && (head >= 2 || tail >= 3))
    return trove_strndup(t, (size_t)(last - t));
  return trove_strdup(t);
}

/* The host of a URL without "www.", in buf; "" when there is none. */
static const char *url_host(const char *url, char *buf, size_t cap) {
  buf[0] = '\0';
  const char *p = url ? strstr(url, "://") : NULL;
  if (!p)
    return buf;
  p += 3;
  if (strncasecmp(p, "www.", 4) == 0)
    p += 4;
  size_t n = strcspn(p, "/:?#@");
  if (n >= cap)
    n = cap - 1;
  memcpy(buf, p, n);
  buf[n] = '\0';
  return buf;
}

/* Text of an element, folded, with a trailing permalink symbol removed. */
static char *node_text(GumboNode *g) {
  trove_buf b = {0};
  if (trove_extract__node_text(g, &b)) {
    trove_buf_free(&b);
    return NULL;
  }
  for (;;) {
    trove_extract__rtrim(&b);
    if (b.len >= 2 && (unsigned char)b.data[b.len - 2] == 0xC2 &&
        ((unsigned char)b.data[b.len - 1] == 0xB6 || (unsigned char)b.data[b.len - 1] == 0xA7))
      b.len -= 2; /* ¶ or § */
    else if (b.len >= 1 && b.data[b.len - 1] == '#')
      b.len -= 1;
    else
      break;
    b.data[b.len] = '\0';
  }
  return trove_buf_take(&b);
}

static int set_title(meta *m, const char *base_url, trove_doc *doc) {
  char host[256];
  const char *site = m->site ? m->site : url_host(base_url, host, sizeof host);
  char *h1 = m->h1 ? node_text(m->h1) : trove_strdup("");
  char *raw = m->title ? node_text(m->title) : trove_strdup("");
  char *og =
      m->og_title ? trove_extract__clean_dup(m->og_title, strlen(m->og_title)) : trove_strdup("");
  char *t = NULL;
  int rc = TROVE_ENOMEM;
  if (!h1 || !raw || !og)
    goto out_free;
  if (og[0])
    t = trove_extract__clean_title(og, site, h1);
  else if (raw[0])
    t = trove_extract__clean_title(raw, site, h1);
  else
    t = trove_strdup(m->tw_title ? m->tw_title : h1);
  if (t)
    rc = trove_extract__doc_set(&doc->title, t, strlen(t));
out_free:
  trove_free(t);
  trove_free(og);
  trove_free(raw);
  trove_free(h1);
  return rc;
}

/* A language tag as declared, if it looks like one ("en", "pt_BR" -> "pt-BR"). */
static int set_lang(const char *v, trove_doc *doc) {
  char tag[36];
  size_t k = 0;
  while (v && *v == ' ')
    v++;
  for (; v && *v && *v != ',' && *v != ';' && *v != ' '; v++) {
    char c = *v == '_' ? '-' : *v;
    if (k + 1 >= sizeof tag ||
        !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'))
      return 0; /* not a language tag: ignore */
    tag[k++] = c;
  }
  tag[k] = '\0';
  return k ? trove_extract__doc_set(&doc->lang, tag, k) : 0;
}

int trove_extract__meta(GumboOutput *out, const char *base_url, trove_doc *doc) {
  meta m = {0};
  if (out->root)
    trove_extract__walk(out->root, meta_enter, NULL, &m);
  int rc = m.rc;
  if (!rc)
    rc = set_title(&m, base_url, doc);
  const char *by = m.author ? byline_start(m.author) : m.byline;
  if (!rc && by)
    rc = trove_extract__doc_set(&doc->byline, by, strlen(by));
  const char *d = m.desc ? m.desc : m.og_desc ? m.og_desc : m.tw_desc;
  if (!rc && d) {
    char *e = trove_extract__excerpt(d, strlen(d));
    rc = e ? trove_extract__doc_set(&doc->excerpt, e, strlen(e)) : TROVE_ENOMEM;
    trove_free(e);
  }
  const char *lang = m.lang ? m.lang : m.lang_meta ? m.lang_meta : m.locale;
  if (!rc && lang)
    rc = set_lang(lang, doc);
  trove_free(m.byline);
  return rc;
}
