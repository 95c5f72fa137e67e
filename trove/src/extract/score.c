/* score.c: choosing the article of a page, readability-style.
 *
 * HOW IT WORKS
 * The idea is Arc90's Readability (2009), as later kept by Mozilla's
 * Readability.js: prose lives in paragraphs, and the element that holds the
 * most prose is the article. dom.c has already dropped what is boilerplate by
 * its tag, role, visibility or class/id words, and counted, for every node,
 * the visible characters, the characters inside links, commas, paragraphs,
 * images, inputs and so on over its subtree.
 *  1. Every paragraph-like element (p, pre, td, blockquote, and a div, dd or
 *     li holding no block-level child) with 25 or more characters scores
 *     1 + its commas + one point per 100 characters (at most 3). An element
 *     mixing blocks with 25+ characters of loose text scores that text too.
 *  2. The score goes to the parent whole, the grandparent half, and the
 *     three ancestors above that a sixth, a ninth and a twelfth. An element
 *     first reached this way becomes a candidate with a base score by tag
 *     (div +5; pre, td, blockquote +3; lists, forms -3; headings, th -5) plus
 *     its class/id weight (+-25 for each of class and id).
 *  3. Each candidate's score is multiplied by 1 - its link density: an
 *     element whose text is mostly links is navigation, however long.
 *  4. The best candidate wins. If three or more other candidates within 75%
 *     of it share an ancestor, that ancestor wins instead (an article split
 *     into sections). Then we climb while the parent scores higher than the
 *     child (and at least a third of the winner), and while the winner is an
 *     only child.
 *  5. Siblings of the winner join it when their score reaches a fifth of its
 *     score (at least 10; same class earns a bonus), or when they are
 *     paragraphs of real prose (80+ characters with little linking, or a
 *     short unlinked sentence). A heading joins when the sibling after it
 *     joins (a glossary's h1 above its winning <dl>).
 *  6. Inside the chosen parts, divs, sections, tables, lists, forms and
 *     fieldsets are cleaned away when they look like junk: a negative
 *     weight, more images than paragraphs, form inputs, heavy linking, a
 *     lone embed, or almost no text (code blocks and headings excepted).
 *
 * INVARIANTS
 * - Scores only ever attach to elements (never text nodes) inside the
 *   mirror; dropped subtrees contribute nothing to any count.
 * - The parts are in document order and none contains another; every part
 *   is the winner or a sibling of it.
 * - Nothing here allocates except the parts array: the whole pass is
 *   O(nodes x 5) for scoring plus O(nodes) for cleaning.
 *
 * LIMITS
 * - Pages that split one article across unrelated containers keep only
 *   the best one. Pages whose article is a list of short items (a recipe
 *   ingredient list without prose) may be judged "no article".
 * - The weights are Readability's, tuned on news and blogs; doc pages work
 *   because Sphinx-like markup is prose-heavy, but a page of tables with
 *   link-heavy cells can lose those tables to step 6.
 */
#include "extract_int.h"

#include <string.h>

static double tag_base(GumboTag t) {
  switch (t) {
  case GUMBO_TAG_DIV: case GUMBO_TAG_ARTICLE: case GUMBO_TAG_MAIN: case GUMBO_TAG_SECTION:
    return 5;
  case GUMBO_TAG_PRE: case GUMBO_TAG_TD: case GUMBO_TAG_BLOCKQUOTE:
    return 3;
  case GUMBO_TAG_ADDRESS: case GUMBO_TAG_OL: case GUMBO_TAG_UL: case GUMBO_TAG_DL:
  case GUMBO_TAG_DD: case GUMBO_TAG_DT: case GUMBO_TAG_LI: case GUMBO_TAG_FORM:
    return -3;
  case GUMBO_TAG_H1: case GUMBO_TAG_H2: case GUMBO_TAG_H3: case GUMBO_TAG_H4:
  case GUMBO_TAG_H5: case GUMBO_TAG_H6: case GUMBO_TAG_TH:
    return -5;
  default:
    return 0;
  }
}

static bool paragraph_like(const xnode *x) {
  switch (x->tag) {
  case GUMBO_TAG_P: case GUMBO_TAG_PRE: case GUMBO_TAG_TD: case GUMBO_TAG_BLOCKQUOTE:
    return true;
  case GUMBO_TAG_DIV: case GUMBO_TAG_DD: case GUMBO_TAG_LI:
    return !x->has_block;
  default:
    return false;
  }
}

/* Gives score c to node `from` and its ancestors, as step 2 says; `from`
 * itself is level 0 when self is true (loose text), else its parent is. */
static void spread(xdom *d, int from, double c, bool self) {
  int a = self ? from : d->n[from].parent;
  for (int level = 0; level < 5 && a >= 0; level++, a = d->n[a].parent) {
    xnode *x = &d->n[a];
    if (!x->candidate) {
      x->candidate = true;
      x->score = tag_base(x->tag) + x->weight;
    }
    x->score += c / (level == 0 ? 1.0 : level == 1 ? 2.0 : level * 3.0);
  }
}

static double para_score(double chars, int commas) {
  double hundreds = (double)(int)(chars / 100);
  return 1.0 + commas + (hundreds < 3 ? hundreds : 3);
}

static void score_all(xdom *d) {
  for (int i = 0; i < d->count; i++) {
    xnode *x = &d->n[i];
    if (x->kind != XN_ELEM || x->drop)
      continue;
    if (paragraph_like(x) && x->chars >= 25)
      spread(d, i, para_score(x->chars, x->commas), false);
    else if (x->has_block && x->own_chars >= 25)
      spread(d, i, para_score(x->own_chars, 0), true);
  }
  for (int i = 0; i < d->count; i++)
    if (d->n[i].candidate)
      d->n[i].score *= 1.0 - trove_extract__link_density(d, i);
}

static bool is_under(const xdom *d, int i, int anc) {
  for (; i >= 0; i = d->n[i].parent)
    if (i == anc)
      return true;
  return false;
}

enum { TOP_N = 5, MIN_SHARED = 3 };

/* The TOP_N best candidates into best[], best first; returns how many. */
static int best_candidates(const xdom *d, int best[TOP_N]) {
  int nb = 0;
  for (int i = 0; i < d->count; i++) {
    if (!d->n[i].candidate || d->n[i].drop)
      continue;
    int k;
    if (nb < TOP_N)
      k = nb++;
    else if (d->n[i].score > d->n[best[TOP_N - 1]].score)
      k = TOP_N - 1;
    else
      continue;
    best[k] = i;
    for (; k > 0 && d->n[best[k]].score > d->n[best[k - 1]].score; k--) {
      int t = best[k];
      best[k] = best[k - 1];
      best[k - 1] = t;
    }
  }
  return nb;
}

/* The nearest ancestor of best[0] holding MIN_SHARED rivals within 75% of
 * its score (an article split into sections), else best[0]. */
static int shared_ancestor(const xdom *d, const int *best, int nb) {
  double ts = d->n[best[0]].score;
  for (int a = d->n[best[0]].parent; a >= 0 && a != d->body; a = d->n[a].parent) {
    int shared = 0;
    for (int k = 1; k < nb; k++)
      if (ts > 0 && d->n[best[k]].score / ts >= 0.75 && is_under(d, best[k], a))
        shared++;
    if (shared >= MIN_SHARED)
      return a;
  }
  return best[0];
}

/* Step 4: the best candidate, then the shared ancestor of close rivals,
 * then the climb. Returns -1 when nothing scored. */
static int choose_top(const xdom *d) {
  int best[TOP_N], nb = best_candidates(d, best);
  if (nb == 0)
    return -1;
  int top = shared_ancestor(d, best, nb);
  double last = d->n[top].score, floor = last / 3;
  for (int a = d->n[top].parent; a >= 0 && a != d->body; a = d->n[a].parent) {
    if (!d->n[a].candidate)
      continue;
    if (d->n[a].score < floor)
      break;
    if (d->n[a].score > last) {
      top = a;
      break;
    }
    last = d->n[a].score;
  }
  while (top != d->body && d->n[top].parent >= 0 && d->n[top].parent != d->body) {
    const xnode *p = &d->n[d->n[top].parent];
    int elems = 0;
    for (int c = p->first_child; c >= 0; c = d->n[c].next)
      elems += d->n[c].kind == XN_ELEM && !d->n[c].drop;
    if (elems != 1)
      break;
    top = d->n[top].parent;
  }
  return top;
}

static bool same_class(const xnode *a, const xnode *b) {
  const char *x = trove_extract__attr(a->g, "class"), *y = trove_extract__attr(b->g, "class");
  return x && y && x[0] && strcmp(x, y) == 0;
}

/* Whether a short unlinked paragraph reads as a sentence. A failed
 * allocation here is benign: the paragraph is judged not a sentence. */
static bool sentence_like(const xnode *x) {
  trove_buf b = {0};
  bool yes = false;
  if (trove_extract__node_text(x->g, &b) == 0 && b.len > 0)
    yes = b.data[b.len - 1] == '.' || strstr(b.data, ". ") != NULL;
  trove_buf_free(&b);
  return yes;
}

/* Step 5: whether sibling s joins the winner t. */
static bool sibling_joins(const xdom *d, int t, int s) {
  const xnode *x = &d->n[s], *top = &d->n[t];
  if (x->kind != XN_ELEM || x->drop)
    return false;
  double threshold = top->score * 0.2 > 10 ? top->score * 0.2 : 10;
  double bonus = same_class(x, top) ? top->score * 0.2 : 0;
  if (x->candidate && x->score + bonus >= threshold)
    return true;
  if (x->tag != GUMBO_TAG_P)
    return false;
  double ld = trove_extract__link_density(d, s);
  if (x->chars > 80 && ld < 0.25)
    return true;
  return x->chars > 0 && x->chars <= 80 && ld == 0 && sentence_like(x);
}

/* Step 6: whether element x inside the article part `root` is junk. An
 * element holding most of the part's text is the article itself, never an
 * inset to clean. */
static bool junk(const xdom *d, int i, int root) {
  const xnode *x = &d->n[i];
  if (x->chars > 0.5 * d->n[root].chars)
    return false;
  switch (x->tag) {
  case GUMBO_TAG_DIV: case GUMBO_TAG_SECTION: case GUMBO_TAG_TABLE: case GUMBO_TAG_UL:
  case GUMBO_TAG_OL: case GUMBO_TAG_FORM: case GUMBO_TAG_FIELDSET:
    break;
  default:
    return false;
  }
  if (x->weight < 0 && x->weight + (x->candidate ? x->score : 0) < 0)
    return true; /* only a bad class/id: a list's own base score is negative */
  if (x->commas >= 10)
    return false;
  bool list = x->tag == GUMBO_TAG_UL || x->tag == GUMBO_TAG_OL;
  double ld = trove_extract__link_density(d, i), p = x->paras;
  if (x->imgs > 1 && p / x->imgs < 0.5 && x->tag != GUMBO_TAG_TABLE)
    return true;
  if (!list && x->inputs > p / 3)
    return true; /* a task list's checkboxes are not a form */
  if (!list && x->chars < 25 && (x->imgs == 0 || x->imgs > 2) && x->heads == 0 && x->pres == 0)
    return true;
  if (!list && x->weight < 25 && ld > (x->tag == GUMBO_TAG_TABLE ? 0.4 : 0.3))
    return true;
  if (list && ld > 0.6 && x->links >= 3)
    return true;
  if (x->weight >= 25 && ld > 0.5)
    return true;
  return (x->embeds == 1 && x->chars < 75) || x->embeds > 1;
}

/* Cleans the subtree of part (not part itself) and totals what is left. */
static void clean_part(xdom *d, xpick *p, int part) {
  xnode *root = &d->n[part];
  p->article_chars += root->chars;
  p->article_link_chars += root->link_chars;
  for (int i = part + 1; i < root->end;) {
    xnode *x = &d->n[i];
    if (x->kind == XN_ELEM && !x->drop && junk(d, i, part)) {
      x->clean = true;
      p->article_chars -= x->chars;
      p->article_link_chars -= x->link_chars;
      i = x->end;
      continue;
    }
    i++;
  }
}

static bool is_heading(GumboTag t) { return t >= GUMBO_TAG_H1 && t <= GUMBO_TAG_H6; }

/* Step 5 over the children of parent, in order, into p->parts. A heading
 * joins when the element after it joins: the title of the article body
 * or of a joined section. */
static void join_siblings(const xdom *d, int top, int parent, xpick *p) {
  int pending = -1; /* a heading waiting for the next element */
  for (int c = d->n[parent].first_child; c >= 0; c = d->n[c].next) {
    const xnode *x = &d->n[c];
    if (x->kind != XN_ELEM || x->drop)
      continue;
    bool joins = c == top || sibling_joins(d, top, c);
    if (joins && pending >= 0)
      p->parts[p->n_parts++] = pending;
    pending = !joins && is_heading(x->tag) ? c : -1;
    if (joins)
      p->parts[p->n_parts++] = c;
  }
}

int trove_extract__score_pick(xdom *d, xpick *p) {
  *p = (xpick){.top = -1};
  if (d->count == 0)
    return 0;
  score_all(d);
  int top = choose_top(d);
  if (top < 0)
    top = d->body;
  p->top = top;
  int parent = d->n[top].parent, n = 0;
  if (top == d->body || parent < 0) {
    n = 1;
  } else {
    for (int c = d->n[parent].first_child; c >= 0; c = d->n[c].next)
      n++;
  }
  size_t bytes;
  if (!trove_mul_ok((size_t)n, sizeof *p->parts, &bytes) || !(p->parts = trove_malloc(bytes)))
    return TROVE_ENOMEM;
  if (n == 1)
    p->parts[p->n_parts++] = top;
  else
    join_siblings(d, top, parent, p);
  for (int k = 0; k < p->n_parts; k++)
    clean_part(d, p, p->parts[k]);
  return 0;
}

void trove_extract__pick_free(xpick *p) {
  trove_free(p->parts);
  p->parts = NULL;
  p->n_parts = 0;
}
