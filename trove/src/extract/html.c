/* html.c: trove_extract_html, the HTML entry point. It checks the input,
 * estimates tag nesting before gumbo sees it (gumbo is quadratic in depth),
 * decodes a page that is not UTF-8 (core/charset.c), parses, reads
 * metadata (meta.c), mirrors the tree (dom.c), picks the
 * article (score.c) and renders it (render.c), then decides what the page
 * is:
 * - a link hub when it has at least 8 links and either they carry half of
 *   the readable text of the page (boilerplate removed: genindex, contents)
 *   or half of the text sits in link-led entries, list items, rows or terms
 *   that start with a link and add under 200 characters of prose (a module
 *   index: a name, then a line of description). Both lines were set on the
 *   530 Python doc pages: every page past either is an index, a module
 *   table or a table of contents (78 pages), while the most link-led real
 *   article there (c-api/descriptor) has a share of 0.42 and density 0.24.
 *   Its text is the whole page's, uncleaned, so keyword search still finds
 *   it; search demotes it.
 * - when what would be written holds under 100 bytes outside headings, the
 *   page is short: a note, a login form, a gallery, a script-only page. It
 *   is an article, the body's visible text, when it holds a sentence of its
 *   own: a paragraph (<p>, or text straight in the body or a <div>) of at
 *   least 3 words outside links, under half of it link text. Otherwise it
 *   has no article: forms, navigation, scripts and styles are already
 *   dropped (dom.c), and what is left of a login page or a gallery is
 *   headings, captions, link text and two-word lines ("New here?"). The
 *   words are counted rather than bytes so a one-line note ("zanzibar
 *   password hint") is kept.
 * - an article otherwise. When the chosen part holds under 500 characters of
 *   prose but the page holds more than twice that, the whole page is
 *   rendered instead (a page the scorer misread).
 */
#include "extract_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { HUB_MIN_LINKS = 8, PROSE_MIN_BYTES = 100, PROSE_FALLBACK = 500, SENTENCE_MIN_WORDS = 3 };
static const double HUB_MIN_DENSITY = 0.5, HUB_MIN_ENTRY_SHARE = 0.5;

/* ---- nesting estimate ------------------------------------------------------- */

static bool name_is(const char *s, size_t n, const char *name) {
  return strlen(name) == n && strncasecmp(s, name, n) == 0;
}

/* Elements that never hold children, or close themselves when a sibling
 * starts, so they do not deepen the tree. */
static bool flat_element(const char *s, size_t n) {
  static const char *const names[] = {
      "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
      "source", "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup",
      "colgroup", "thead", "tbody", "tfoot", "rp", "rt", "keygen", "basefont", "frame", NULL};
  for (const char *const *w = names; *w; w++)
    if (name_is(s, n, *w))
      return true;
  return false;
}

static const char *find_ci(const char *p, const char *end, const char *needle) {
  size_t n = strlen(needle);
  for (; p + n <= end; p++)
    if (strncasecmp(p, needle, n) == 0)
      return p;
  return NULL;
}

/* The end of the tag starting at p ('<' already passed): past its '>',
 * skipping quoted attribute values. */
static const char *tag_end(const char *p, const char *end, bool *self_closing) {
  char q = 0, prev = 0;
  for (; p < end; prev = *p, p++) {
    if (q) {
      if (*p == q)
        q = 0;
    } else if (*p == '"' || *p == '\'')
      q = *p;
    else if (*p == '>') {
      *self_closing = prev == '/';
      return p + 1;
    }
  }
  return end;
}

/* Estimates the deepest element nesting of the page: start tags of
 * elements that can nest, minus end tags, skipping comments and raw text.
 * Stops counting once past limit. */
static int estimate_nesting(const char *s, size_t len, int limit) {
  const char *p = s, *end = s + len;
  int depth = 0, most = 0;
  while (p < end && most <= limit) {
    p = memchr(p, '<', (size_t)(end - p));
    if (!p)
      break;
    p++;
    if (end - p >= 3 && memcmp(p, "!--", 3) == 0) {
      const char *c = find_ci(p + 3, end, "-->");
      p = c ? c + 3 : end;
      continue;
    }
    bool closing = p < end && *p == '/';
    const char *n = p + closing, *ne = n;
    while (ne < end && (((*ne | 32) >= 'a' && (*ne | 32) <= 'z') || (*ne >= '0' && *ne <= '9')))
      ne++;
    if (ne == n)
      continue; /* "<" in text, "<!DOCTYPE", "<?xml" */
    bool self = false;
    p = tag_end(ne, end, &self);
    size_t nl = (size_t)(ne - n);
    if (closing) {
      if (!flat_element(n, nl) && depth > 0)
        depth--;
      continue;
    }
    if (name_is(n, nl, "script") || name_is(n, nl, "style") || name_is(n, nl, "textarea") ||
        name_is(n, nl, "title") || name_is(n, nl, "xmp")) {
      char close[16] = "</";
      memcpy(close + 2, n, nl);
      close[2 + nl] = '\0';
      const char *c = find_ci(p, end, close);
      p = c ? c : end;
      continue;
    }
    if (!self && !flat_element(n, nl) && ++depth > most)
      most = depth;
  }
  return most;
}

/* ---- gumbo's allocations ---------------------------------------------------------- */

/* gumbo allocates through these, so its memory goes through trove's hook
 * and fault tests reach it. gumbo never checks for NULL (its header says
 * so), so a failed trove_malloc is recorded and served by plain malloc:
 * gumbo finishes its parse and the extraction then reports TROVE_ENOMEM.
 * Per-parse state lives in the options' userdata, so parses on different
 * threads share nothing. */
typedef struct gumbo_mem {
  bool failed;
} gumbo_mem;

static void *gumbo_alloc(void *ud, size_t n) {
  void *p = trove_malloc(n);
  if (!p) {
    ((gumbo_mem *)ud)->failed = true;
    p = malloc(n ? n : 1);
  }
  return p;
}

static void gumbo_free(void *ud, void *p) {
  (void)ud;
  trove_free(p); /* trove_free is free(), which also takes the fallback blocks */
}

/* ---- extraction ---------------------------------------------------------------- */

/* Whether entry i (a list item, table row or term) starts with a link: its
 * first visible text is inside one, as in an index or a module table. */
static bool link_led(const xdom *d, int i) {
  for (int k = i + 1; k < d->n[i].end;) {
    const xnode *x = &d->n[k];
    if (x->drop) {
      k = x->end;
      continue;
    }
    if (x->kind == XN_TEXT && x->chars > 0)
      return x->in_link;
    k++;
  }
  return false;
}

/* Share of the page's characters inside link-led entries whose own prose
 * is short (a name and a line of description, not a paragraph). */
static double link_led_share(const xdom *d) {
  enum { ENTRY_MAX_PROSE = 200 };
  const xnode *body = &d->n[d->body];
  double in_entries = 0;
  for (int i = d->body + 1; i < body->end;) {
    const xnode *x = &d->n[i];
    bool entry = x->tag == GUMBO_TAG_LI || x->tag == GUMBO_TAG_TR || x->tag == GUMBO_TAG_DT;
    if (x->drop) {
      i = x->end;
    } else if (x->kind == XN_ELEM && entry && x->chars - x->link_chars < ENTRY_MAX_PROSE &&
               link_led(d, i)) {
      in_entries += x->chars;
      i = x->end;
    } else {
      i++;
    }
  }
  return body->chars > 0 ? in_entries / body->chars : 0;
}

/* Bytes of the text of o outside headings. */
static size_t prose_bytes(const xout *o) {
  size_t n = 0;
  for (size_t i = 0; i < o->n_blocks; i++)
    if (o->blocks[i].kind != TROVE_BLOCK_HEADING)
      n += o->blocks[i].len;
  return n;
}

/* Words (runs of non-space bytes) of text node x. */
static int text_words(const xnode *x) {
  const char *t = x->g->v.text.text;
  int words = 0;
  for (bool in = false; t && *t; t++) {
    bool space = *t == ' ' || *t == '\n' || *t == '\t' || *t == '\r' || *t == '\f';
    words += !space && !in;
    in = !space;
  }
  return words;
}

/* Words outside links in the text under element i; only its direct text
 * children when own_only (the text straight in a <div> or the body). */
static int prose_words(const xdom *d, int i, bool own_only) {
  int words = 0;
  for (int k = i + 1; k < d->n[i].end;) {
    const xnode *x = &d->n[k];
    if (x->drop || (own_only && x->kind == XN_ELEM)) {
      k = x->end;
      continue;
    }
    if (x->kind == XN_TEXT && !x->in_link && x->g->type == GUMBO_NODE_TEXT)
      words += text_words(x);
    k++;
  }
  return words;
}

/* Whether the body holds a sentence of its own (see the top of the file). */
static bool has_sentence(const xdom *d) {
  const xnode *body = &d->n[d->body];
  for (int i = d->body; i < body->end;) {
    const xnode *x = &d->n[i];
    if (x->drop) {
      i = x->end;
      continue;
    }
    bool para = x->tag == GUMBO_TAG_P;
    bool holder = x->tag == GUMBO_TAG_DIV || x->tag == GUMBO_TAG_BODY;
    if (x->kind == XN_ELEM && (para || (holder && x->own_chars > 0)) &&
        trove_extract__link_density(d, i) < 0.5 && prose_words(d, i, !para) >= SENTENCE_MIN_WORDS)
      return true;
    i++;
  }
  return false;
}

/* Decides the kind of the page and writes its text into o. */
static int extract_body(xdom *d, trove_doc *doc, xout *o) {
  xpick pick;
  int rc = trove_extract__score_pick(d, &pick);
  if (rc)
    goto out_free_pick;
  const xnode *body = &d->n[d->body];
  doc->link_density = trove_extract__link_density(d, d->body);
  double page_prose = body->chars - body->link_chars;
  double prose = pick.article_chars - pick.article_link_chars;
  if (body->links >= HUB_MIN_LINKS &&
      (doc->link_density >= HUB_MIN_DENSITY || link_led_share(d) >= HUB_MIN_ENTRY_SHARE)) {
    doc->kind = TROVE_DOC_LINK_HUB;
    rc = trove_extract__render(d, d->body, false, o);
    goto out_free_pick;
  }
  doc->kind = TROVE_DOC_ARTICLE;
  if (prose < PROSE_FALLBACK && page_prose > 2 * prose)
    rc = trove_extract__render(d, d->body, true, o);
  else
    for (int k = 0; k < pick.n_parts && !rc; k++)
      rc = trove_extract__render(d, pick.parts[k], true, o);
  if (!rc && prose_bytes(o) < PROSE_MIN_BYTES) {
    trove_extract__out_free(o);
    if (has_sentence(d))
      rc = trove_extract__render(d, d->body, true, o);
    else
      doc->kind = TROVE_DOC_NONE;
  }
out_free_pick:
  trove_extract__pick_free(&pick);
  return rc;
}

int trove_extract_html(const char *html, size_t len, const char *base_url, trove_doc **out,
                       trove_err *err) {
  if (out)
    *out = NULL;
  if (!html || !out)
    return trove_err_set(err, TROVE_EINVAL, "extract: no HTML or no output given");
  if (len > TROVE_EXTRACT_MAX_INPUT)
    return trove_err_set(err, TROVE_ERANGE,
                         "extract: HTML is %zu bytes, over the %d-byte limit; skip the item or "
                         "lower the fetch body limit",
                         len, TROVE_EXTRACT_MAX_INPUT);
  if (estimate_nesting(html, len, TROVE_EXTRACT_MAX_NESTING) > TROVE_EXTRACT_MAX_NESTING)
    return trove_err_set(err, TROVE_EUNSUPPORTED,
                         "extract: HTML nests tags deeper than %d levels; the page is broken or "
                         "hostile, skip it",
                         TROVE_EXTRACT_MAX_NESTING);
  int rc = TROVE_ENOMEM;
  xdom d = {0};
  xout o = {0};
  char *recoded = NULL;
  size_t recoded_len = 0;
  trove_doc *doc = trove_extract__doc_new();
  if (!doc || trove_charset_to_utf8(html, len, NULL, TROVE_CHARSET_HTML, &recoded, &recoded_len, NULL))
    goto out_free_doc;
  if (recoded) {
    html = recoded;
    len = recoded_len;
  }
  gumbo_mem mem = {.failed = false};
  GumboOptions opt = kGumboDefaultOptions;
  opt.max_errors = 0; /* we never read parse errors: do not collect them */
  opt.allocator = gumbo_alloc;
  opt.deallocator = gumbo_free;
  opt.userdata = &mem;
  GumboOutput *g = gumbo_parse_with_options(&opt, html, len);
  if (!g)
    goto out_free_doc;
  if (mem.failed)
    goto out_free_parse;
  if ((rc = trove_extract__meta(g, base_url, doc)) || (rc = trove_extract__dom_build(&d, g->root)))
    goto out_free_parse;
  if (d.count > 0 && (rc = extract_body(&d, doc, &o)))
    goto out_free_parse;
  if ((rc = trove_extract__out_finish(&o, doc)))
    goto out_free_parse;
  doc->is_link_hub = doc->kind == TROVE_DOC_LINK_HUB;
  gumbo_destroy_output(&opt, g);
  trove_extract__dom_free(&d);
  trove_free(recoded);
  *out = doc;
  return 0;
out_free_parse:
  gumbo_destroy_output(&opt, g);
  trove_extract__dom_free(&d);
  trove_extract__out_free(&o);
out_free_doc:
  trove_doc_destroy(doc);
  trove_free(recoded);
  return trove_err_set(err, rc, "extract: out of memory while extracting a %zu-byte page", len);
}
