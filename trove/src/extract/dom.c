/* dom.c: the flat mirror of gumbo's tree that scoring and rendering work on.
 *
 * gumbo's nodes have no slot for our data, so rather than a hash map from
 * node to score we copy the useful part of the tree into one array in
 * document order (preorder). That makes bottom-up counting a single reverse
 * loop (every descendant of node i has an index above i), keeps the hot data
 * compact, and lets us cap the depth: elements deeper than X_MAX_DEPTH fold
 * into their ancestor, so the recursive renderer never runs deep even on a
 * hostile page. Walking gumbo's tree is iterative (parent pointers), never
 * recursive, for the same reason.
 *
 * Boilerplate is dropped here, before any counting, by tag (script, style,
 * nav, header, footer, aside, iframe, ...), by ARIA role (navigation,
 * banner, contentinfo, ...), when hidden (hidden, aria-hidden, display:none)
 * and by class/id words (comment, sidebar, share, ad, cookie, related, ...).
 * A form is dropped once its counts show it is a form (inputs, little prose)
 * rather than a page wrapped in one. */
#include "extract_int.h"

#include <string.h>
#include <strings.h>

/* ---- walking gumbo -------------------------------------------------------- */

static GumboVector *kids(GumboNode *g) {
  if (g->type == GUMBO_NODE_DOCUMENT)
    return &g->v.document.children;
  if (g->type == GUMBO_NODE_ELEMENT || g->type == GUMBO_NODE_TEMPLATE)
    return &g->v.element.children;
  return NULL;
}

/* The sibling after g, or NULL. */
static GumboNode *next_sibling(GumboNode *g) {
  GumboVector *pk = g->parent ? kids(g->parent) : NULL;
  if (!pk)
    return NULL;
  size_t i = g->index_within_parent;
  if (i >= pk->length || pk->data[i] != g) /* defensive: find it */
    for (i = 0; i < pk->length && pk->data[i] != g; i++)
      ;
  return i + 1 < pk->length ? pk->data[i + 1] : NULL;
}

void trove_extract__walk(GumboNode *root, int (*enter)(GumboNode *, void *),
                         void (*leave)(GumboNode *, void *), void *ud) {
  GumboNode *cur = root;
  for (;;) {
    int r = enter(cur, ud);
    if (r == X_WALK_STOP)
      return;
    GumboVector *k = kids(cur);
    if (r == X_WALK_DESCEND && k && k->length > 0) {
      cur = k->data[0];
      continue;
    }
    if (r == X_WALK_DESCEND && k && leave)
      leave(cur, ud);
    for (;;) { /* on to the next sibling, climbing out of finished parents */
      if (cur == root)
        return;
      GumboNode *s = next_sibling(cur);
      if (s) {
        cur = s;
        break;
      }
      cur = cur->parent;
      if (leave)
        leave(cur, ud);
    }
  }
}

typedef struct text_walk {
  trove_buf *b;
  int rc;
} text_walk;

static int text_enter(GumboNode *g, void *ud) {
  text_walk *w = ud;
  if (g->type == GUMBO_NODE_TEXT || g->type == GUMBO_NODE_WHITESPACE ||
      g->type == GUMBO_NODE_CDATA) {
    bool space = false;
    const char *t = g->v.text.text;
    if (trove_extract__fold_append(w->b, t, strlen(t), &space) ||
        (space && w->b->len > 0 && w->b->data[w->b->len - 1] != ' ' && trove_buf_putc(w->b, ' ')))
      return w->rc = TROVE_ENOMEM, X_WALK_STOP;
    return X_WALK_SKIP;
  }
  if (g->type != GUMBO_NODE_ELEMENT)
    return g->type == GUMBO_NODE_COMMENT ? X_WALK_SKIP : X_WALK_DESCEND;
  GumboTag t = g->v.element.tag;
  if (t == GUMBO_TAG_SCRIPT || t == GUMBO_TAG_STYLE)
    return X_WALK_SKIP;
  if ((trove_extract__is_block_tag(t) || t == GUMBO_TAG_BR) && w->b->len > 0 &&
      w->b->data[w->b->len - 1] != ' ' && trove_buf_putc(w->b, ' '))
    return w->rc = TROVE_ENOMEM, X_WALK_STOP; /* blocks never run words together */
  return X_WALK_DESCEND;
}

int trove_extract__node_text(GumboNode *g, trove_buf *b) {
  text_walk w = {.b = b, .rc = 0};
  trove_extract__walk(g, text_enter, NULL, &w);
  trove_extract__rtrim(b);
  return w.rc;
}

/* ---- attributes and hints --------------------------------------------------- */

const char *trove_extract__attr(const GumboNode *g, const char *name) {
  if (g->type != GUMBO_NODE_ELEMENT && g->type != GUMBO_NODE_TEMPLATE)
    return NULL;
  GumboAttribute *a = gumbo_get_attribute(&g->v.element.attributes, name);
  return a ? a->value : NULL;
}

/* Class/id words. HARD drops the element even when a GOOD word is there too
 * (a "post-comments" block is comments); SOFT drops it unless a GOOD word is
 * there ("entry-header" is the article's own header); WEAK only lowers the
 * score. Every word but GOOD ones lowers the weight. */
enum { HINT_HARD = 1, HINT_SOFT = 2, HINT_WEAK = 4, HINT_GOOD = 8 };

typedef struct hint_word {
  const char *s;
  unsigned char n, bit;
} hint_word;

#define HW(s, bit) {s, sizeof(s) - 1, bit} /* data only: a table entry */
static const hint_word hint_words[] = {
    HW("comment", HINT_HARD), HW("comments", HINT_HARD), HW("disqus", HINT_HARD),
    HW("sidebar", HINT_HARD), HW("share", HINT_HARD), HW("sharing", HINT_HARD),
    HW("sharebar", HINT_HARD), HW("sharethis", HINT_HARD), HW("social", HINT_HARD),
    HW("sponsor", HINT_HARD), HW("sponsored", HINT_HARD), HW("promo", HINT_HARD),
    HW("advert", HINT_HARD), HW("advertisement", HINT_HARD), HW("cookie", HINT_HARD),
    HW("cookies", HINT_HARD), HW("consent", HINT_HARD), HW("gdpr", HINT_HARD),
    HW("newsletter", HINT_HARD), HW("related", HINT_HARD), HW("outbrain", HINT_HARD),
    HW("taboola", HINT_HARD), HW("popup", HINT_HARD), HW("modal", HINT_HARD),
    HW("subscribe", HINT_HARD), HW("ad", HINT_HARD), HW("ads", HINT_HARD),
    HW("adsbygoogle", HINT_HARD), HW("adslot", HINT_HARD), HW("adbox", HINT_HARD),
    HW("signature", HINT_HARD),
    HW("nav", HINT_SOFT), HW("navbar", HINT_SOFT), HW("navigation", HINT_SOFT),
    HW("topnav", HINT_SOFT), HW("subnav", HINT_SOFT), HW("sitenav", HINT_SOFT),
    HW("mainnav", HINT_SOFT), HW("menu", HINT_SOFT), HW("header", HINT_SOFT),
    HW("footer", HINT_SOFT), HW("masthead", HINT_SOFT), HW("banner", HINT_SOFT),
    HW("breadcrumb", HINT_SOFT), HW("breadcrumbs", HINT_SOFT), HW("pagination", HINT_SOFT),
    HW("pager", HINT_SOFT), HW("widget", HINT_SOFT), HW("skip", HINT_SOFT),
    HW("toolbar", HINT_SOFT), HW("tags", HINT_SOFT), HW("rss", HINT_SOFT),
    HW("signup", HINT_SOFT), HW("login", HINT_SOFT),
    HW("foot", HINT_WEAK), HW("meta", HINT_WEAK), HW("hidden", HINT_WEAK),
    HW("scroll", HINT_WEAK), HW("shopping", HINT_WEAK), HW("tool", HINT_WEAK),
    HW("contact", HINT_WEAK), HW("media", HINT_WEAK), HW("footnote", HINT_WEAK),
    HW("legal", HINT_WEAK), HW("copyright", HINT_WEAK),
    HW("article", HINT_GOOD), HW("content", HINT_GOOD), HW("main", HINT_GOOD),
    HW("post", HINT_GOOD), HW("entry", HINT_GOOD), HW("hentry", HINT_GOOD),
    HW("body", HINT_GOOD), HW("text", HINT_GOOD), HW("story", HINT_GOOD),
    HW("document", HINT_GOOD),
};
#undef HW

static bool alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool same_ci(const char *a, const char *b, size_t n) {
  for (size_t i = 0; i < n; i++)
    if ((a[i] | 32) != b[i])
      return false;
  return true;
}

/* The hint bits of token t (n bytes): a word matches when equal, or for
 * words of six letters or more when starting or ending the token
 * ("sphinxsidebar", "commentlist"). Shorter words match whole tokens only,
 * so "shared" is not "share" and "thread" is not "ad". */
static unsigned token_bits(const char *t, size_t n) {
  unsigned bits = 0;
  for (size_t i = 0; i < sizeof hint_words / sizeof hint_words[0]; i++) {
    const hint_word *w = &hint_words[i];
    if (n == w->n ? same_ci(t, w->s, n)
                  : (w->n >= 6 && n > w->n &&
                     (same_ci(t, w->s, w->n) || same_ci(t + n - w->n, w->s, w->n))))
      bits |= w->bit;
  }
  return bits;
}

/* The hint bits of every alphanumeric token of s (NULL gives 0). */
static unsigned hint_bits(const char *s) {
  unsigned bits = 0;
  for (const char *p = s; p && *p;) {
    while (*p && !alnum(*p))
      p++;
    const char *t = p;
    while (alnum(*p))
      p++;
    if (p > t)
      bits |= token_bits(t, (size_t)(p - t));
  }
  return bits;
}

/* An id of three tokens or more ("module-http.cookies", "the-header-
 * registry") is a slug made from heading text, not a hint about the
 * element: it names what the section is about, not what kind it is. */
static const char *hint_id(const GumboNode *g) {
  const char *id = trove_extract__attr(g, "id");
  int tokens = 0;
  for (const char *p = id; p && *p;) {
    while (*p && !alnum(*p))
      p++;
    tokens += alnum(*p);
    while (alnum(*p))
      p++;
  }
  return tokens <= 2 ? id : NULL;
}

/* Weight from the bits of one attribute: -25 for any bad word, +25 for any
 * good one. */
static int weight_of(unsigned bits) {
  return ((bits & (HINT_HARD | HINT_SOFT | HINT_WEAK)) ? -25 : 0) + ((bits & HINT_GOOD) ? 25 : 0);
}

bool trove_extract__is_block_tag(GumboTag t) {
  switch (t) {
  case GUMBO_TAG_ADDRESS: case GUMBO_TAG_ARTICLE: case GUMBO_TAG_ASIDE:
  case GUMBO_TAG_BLOCKQUOTE: case GUMBO_TAG_DETAILS: case GUMBO_TAG_DD: case GUMBO_TAG_DIV:
  case GUMBO_TAG_DL: case GUMBO_TAG_DT: case GUMBO_TAG_FIELDSET: case GUMBO_TAG_FIGCAPTION:
  case GUMBO_TAG_FIGURE: case GUMBO_TAG_FOOTER: case GUMBO_TAG_FORM: case GUMBO_TAG_H1:
  case GUMBO_TAG_H2: case GUMBO_TAG_H3: case GUMBO_TAG_H4: case GUMBO_TAG_H5: case GUMBO_TAG_H6:
  case GUMBO_TAG_HEADER: case GUMBO_TAG_HR: case GUMBO_TAG_LI: case GUMBO_TAG_MAIN:
  case GUMBO_TAG_NAV: case GUMBO_TAG_OL: case GUMBO_TAG_P: case GUMBO_TAG_PRE:
  case GUMBO_TAG_SECTION: case GUMBO_TAG_TABLE: case GUMBO_TAG_UL: case GUMBO_TAG_TR:
  case GUMBO_TAG_TD: case GUMBO_TAG_TH: case GUMBO_TAG_CAPTION: case GUMBO_TAG_TBODY:
  case GUMBO_TAG_THEAD: case GUMBO_TAG_TFOOT: case GUMBO_TAG_SUMMARY: case GUMBO_TAG_BODY:
  case GUMBO_TAG_HTML:
    return true;
  default:
    return false;
  }
}

static bool is_heading(GumboTag t) { return t >= GUMBO_TAG_H1 && t <= GUMBO_TAG_H6; }

/* Tags whose whole subtree is boilerplate or not text. */
static bool boilerplate_tag(GumboTag t) {
  switch (t) {
  case GUMBO_TAG_SCRIPT: case GUMBO_TAG_STYLE: case GUMBO_TAG_NOSCRIPT: case GUMBO_TAG_IFRAME:
  case GUMBO_TAG_NAV: case GUMBO_TAG_HEADER: case GUMBO_TAG_FOOTER: case GUMBO_TAG_ASIDE:
  case GUMBO_TAG_SVG: case GUMBO_TAG_MATH: case GUMBO_TAG_BUTTON: case GUMBO_TAG_SELECT:
  case GUMBO_TAG_TEXTAREA: case GUMBO_TAG_INPUT: case GUMBO_TAG_TEMPLATE: case GUMBO_TAG_OBJECT:
  case GUMBO_TAG_EMBED: case GUMBO_TAG_CANVAS: case GUMBO_TAG_AUDIO: case GUMBO_TAG_VIDEO:
  case GUMBO_TAG_MAP: case GUMBO_TAG_MENU: case GUMBO_TAG_HEAD:
  case GUMBO_TAG_FRAMESET: case GUMBO_TAG_NOFRAMES: case GUMBO_TAG_APPLET: case GUMBO_TAG_IMG:
  case GUMBO_TAG_LABEL: case GUMBO_TAG_OPTION: case GUMBO_TAG_DATALIST: case GUMBO_TAG_KEYGEN:
    return true;
  default:
    return false;
  }
}

static bool hidden(const GumboNode *g) {
  if (trove_extract__attr(g, "hidden"))
    return true;
  const char *a = trove_extract__attr(g, "aria-hidden");
  if (a && strcasecmp(a, "true") == 0)
    return true;
  const char *s = trove_extract__attr(g, "style");
  return s && (strcasestr(s, "display:none") || strcasestr(s, "display: none") ||
               strcasestr(s, "visibility:hidden") || strcasestr(s, "visibility: hidden"));
}

static bool boilerplate_role(const GumboNode *g) {
  static const char *const roles[] = {"navigation", "banner", "contentinfo", "complementary",
                                      "menu", "menubar", "dialog", "alertdialog", "search",
                                      "toolbar", NULL};
  const char *r = trove_extract__attr(g, "role");
  if (!r)
    return false;
  for (const char *const *w = roles; *w; w++)
    if (strcasecmp(r, *w) == 0)
      return true;
  return false;
}

/* A permalink anchor such as Sphinx's "¶": an in-page link whose text is a
 * symbol or two. */
static bool symbol_anchor(const GumboNode *g) {
  const char *href = trove_extract__attr(g, "href");
  const GumboVector *k = &g->v.element.children;
  if (!href || href[0] != '#' || k->length != 1)
    return false;
  const GumboNode *c = k->data[0];
  if (c->type != GUMBO_NODE_TEXT)
    return false;
  const char *t = c->v.text.text;
  if (strlen(t) > 4)
    return false;
  for (; *t; t++)
    if ((*t >= '0' && *t <= '9') || (*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z'))
      return false;
  return true;
}

/* Whether element g is boilerplate; *weight gets its class/id weight. */
static bool drop_element(const GumboNode *g, int *weight) {
  GumboTag t = g->v.element.tag;
  *weight = 0;
  if (g->type == GUMBO_NODE_TEMPLATE || boilerplate_tag(t) || hidden(g) || boilerplate_role(g))
    return true;
  if (t == GUMBO_TAG_A && symbol_anchor(g))
    return true;
  unsigned c = hint_bits(trove_extract__attr(g, "class")), i = hint_bits(hint_id(g));
  *weight = weight_of(c) + weight_of(i);
  if (t == GUMBO_TAG_HTML || t == GUMBO_TAG_BODY || t == GUMBO_TAG_MAIN || t == GUMBO_TAG_ARTICLE)
    return false;
  unsigned all = c | i;
  return (all & HINT_HARD) || ((all & HINT_SOFT) && !(all & HINT_GOOD));
}

/* ---- building the mirror ---------------------------------------------------- */

typedef struct build {
  xdom *d;
  int cur;    /* mirror index new nodes attach to */
  int depth;  /* mirror depth of cur */
  int rc;
} build;

static int add_node(build *b, GumboNode *g, unsigned char kind) {
  xdom *d = b->d;
  if (d->count == d->cap) {
    size_t cap = d->cap ? (size_t)d->cap * 2 : 256, bytes;
    if (cap > 0x7fffffff || !trove_mul_ok(cap, sizeof *d->n, &bytes))
      return -1;
    xnode *nn = trove_realloc(d->n, bytes);
    if (!nn)
      return -1;
    d->n = nn;
    d->cap = (int)cap;
  }
  int i = d->count++;
  xnode *x = &d->n[i];
  *x = (xnode){.g = g, .parent = b->cur, .first_child = -1, .last_child = -1, .next = -1,
               .kind = kind, .tag = GUMBO_TAG_UNKNOWN};
  if (b->cur >= 0) {
    xnode *p = &d->n[b->cur];
    if (p->last_child >= 0)
      d->n[p->last_child].next = i;
    else
      p->first_child = i;
    p->last_child = i;
    x->in_link = p->in_link;
    x->hash_link = p->hash_link;
  }
  return i;
}

/* Counts a text node: visible characters (UTF-8 lead bytes that are not
 * whitespace) and commas (ASCII and fullwidth). */
static void count_text(xnode *x, const char *t) {
  size_t chars = 0;
  int commas = 0;
  for (const unsigned char *p = (const unsigned char *)t; *p; p++) {
    if (*p == ',')
      commas++;
    else if (p[0] == 0xEF && p[1] == 0xBC && p[2] == 0x8C)
      commas++;
    if ((*p & 0xC0) != 0x80 && *p != ' ' && !(*p >= '\t' && *p <= '\r'))
      chars++;
  }
  x->chars = (double)chars;
  x->commas = commas;
  x->link_chars = x->in_link ? (x->hash_link ? 0.3 : 1.0) * (double)chars : 0.0;
}

/* Notes what a skipped element means for the counts of its ancestor. */
static void count_skipped(xnode *p, GumboTag t) {
  if (t == GUMBO_TAG_IMG)
    p->imgs++;
  else if (t == GUMBO_TAG_INPUT || t == GUMBO_TAG_SELECT || t == GUMBO_TAG_TEXTAREA ||
           t == GUMBO_TAG_BUTTON)
    p->inputs++;
  else if (t == GUMBO_TAG_IFRAME || t == GUMBO_TAG_EMBED || t == GUMBO_TAG_OBJECT ||
           t == GUMBO_TAG_VIDEO)
    p->embeds++;
}

static void init_element(xnode *x, GumboNode *g, int weight) {
  GumboTag t = g->v.element.tag;
  x->tag = t;
  x->weight = weight;
  x->paras = t == GUMBO_TAG_P;
  x->lis = t == GUMBO_TAG_LI;
  x->heads = is_heading(t);
  x->tables = t == GUMBO_TAG_TABLE;
  x->pres = t == GUMBO_TAG_PRE;
  if (t == GUMBO_TAG_A) {
    const char *href = trove_extract__attr(g, "href");
    if (href) {
      x->links = 1;
      x->in_link = true;
      x->hash_link = href[0] == '#';
    }
  }
}

static int build_enter(GumboNode *g, void *ud) {
  build *b = ud;
  if (g->type == GUMBO_NODE_TEXT || g->type == GUMBO_NODE_WHITESPACE ||
      g->type == GUMBO_NODE_CDATA) {
    int i = add_node(b, g, XN_TEXT);
    if (i < 0)
      return b->rc = TROVE_ENOMEM, X_WALK_STOP;
    b->d->n[i].end = i + 1;
    count_text(&b->d->n[i], g->v.text.text);
    return X_WALK_SKIP;
  }
  if (g->type != GUMBO_NODE_ELEMENT && g->type != GUMBO_NODE_TEMPLATE)
    return X_WALK_SKIP; /* comments; the document node is never passed */
  int weight;
  if (drop_element(g, &weight)) {
    if (b->cur >= 0)
      count_skipped(&b->d->n[b->cur], g->v.element.tag);
    return X_WALK_SKIP;
  }
  if (b->depth >= X_MAX_DEPTH) {
    b->d->n[b->cur].depth_folded = 1;
    return X_WALK_DESCEND; /* not mirrored: its text folds into cur */
  }
  int i = add_node(b, g, XN_ELEM);
  if (i < 0)
    return b->rc = TROVE_ENOMEM, X_WALK_STOP;
  init_element(&b->d->n[i], g, weight);
  if (g->v.element.tag == GUMBO_TAG_BODY)
    b->d->body = i;
  b->cur = i;
  b->depth++;
  return X_WALK_DESCEND;
}

static void build_leave(GumboNode *g, void *ud) {
  build *b = ud;
  if (b->rc || b->cur < 0 || b->d->n[b->cur].g != g)
    return; /* an element folded past the depth cap */
  b->d->n[b->cur].end = b->d->count;
  b->cur = b->d->n[b->cur].parent;
  b->depth--;
}

/* Adds the counts of node i into its parent; decides a form's fate first. */
static void roll_up(xdom *d, int i) {
  xnode *x = &d->n[i];
  if (x->tag == GUMBO_TAG_FORM && x->inputs > 0 && x->paras < 3)
    x->drop = true;
  if (x->drop || x->parent < 0)
    return;
  xnode *p = &d->n[x->parent];
  p->chars += x->chars;
  p->link_chars += x->link_chars;
  p->commas += x->commas;
  p->paras += x->paras;
  p->imgs += x->imgs;
  p->lis += x->lis;
  p->inputs += x->inputs;
  p->embeds += x->embeds;
  p->links += x->links;
  p->heads += x->heads;
  p->tables += x->tables;
  p->pres += x->pres;
  if (x->kind == XN_TEXT)
    p->own_chars += x->chars;
  else if (trove_extract__is_block_tag(x->tag) || x->has_block)
    p->has_block = true;
}

int trove_extract__dom_build(xdom *d, GumboNode *root) {
  build b = {.d = d, .cur = -1, .depth = 0, .rc = 0};
  d->body = 0;
  if (!root || root->type != GUMBO_NODE_ELEMENT)
    return 0;
  trove_extract__walk(root, build_enter, build_leave, &b);
  if (b.rc)
    return b.rc;
  for (int i = d->count - 1; i >= 0; i--)
    roll_up(d, i);
  for (int i = 1; i < d->count; i++) /* a dropped form drops its subtree */
    if (d->n[d->n[i].parent].drop)
      d->n[i].drop = true;
  return 0;
}

void trove_extract__dom_free(xdom *d) {
  trove_free(d->n);
  *d = (xdom){0};
}

double trove_extract__link_density(const xdom *d, int i) {
  const xnode *x = &d->n[i];
  return x->chars > 0 ? x->link_chars / x->chars : 0.0;
}
