/* render.c: writes chosen mirror nodes as typed blocks of text.
 *
 * One recursive walk over the mirror (whose depth dom.c caps, so the
 * recursion is shallow) with one pending block: inline content folds into
 * it, a block-level element flushes it before and after. Headings become
 * HEADING blocks with their level, <pre> becomes a verbatim CODE block,
 * list items become "- text" / "3. text" ITEM blocks (level = nesting),
 * data tables become one ROW block per row with cells joined by " | ", and
 * blockquote paragraphs become QUOTE blocks. A table holding headings,
 * nested tables or code, or having a single column, is a layout table and
 * renders as ordinary blocks; so does one whose cells hold lists (a
 * genindex column). <br> is a line break; two make a new block. */
#include "extract_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_LISTS = 32 };

typedef struct rs {
  const xdom *d;
  bool use_clean;
  xout *o;
  trove_buf para;          /* the pending block */
  size_t prefix_len;       /* bytes of list marker at its start */
  trove_block_kind kind;
  int level;
  bool space;              /* a space is pending in para */
  int lists;               /* list nesting */
  int counter[MAX_LISTS];  /* next number per ordered list, 0 for bullets */
  int quote, pre, table, cells;
  int rc;
} rs;

static void flush(rs *r) {
  if (r->rc)
    return;
  if (r->para.len > r->prefix_len)
    r->rc = trove_extract__out_block(r->o, r->kind, r->level, r->para.data, r->para.len);
  trove_buf_reset(&r->para);
  r->prefix_len = 0;
  r->kind = r->quote ? TROVE_BLOCK_QUOTE : TROVE_BLOCK_PARA;
  r->level = 0;
  r->space = false;
}

static void put(rs *r, const char *s, size_t n) {
  if (!r->rc && trove_buf_append(&r->para, s, n))
    r->rc = TROVE_ENOMEM;
}

static void render(rs *r, int i);

static void children(rs *r, int i) {
  for (int c = r->d->n[i].first_child; c >= 0 && !r->rc; c = r->d->n[c].next)
    render(r, c);
}

static void text(rs *r, const xnode *x) {
  const char *t = x->g->v.text.text;
  if (r->pre)
    put(r, t, strlen(t));
  else if (!r->rc && trove_extract__fold_append(&r->para, t, strlen(t), &r->space))
    r->rc = TROVE_ENOMEM;
}

static bool is_row_group(GumboTag t) {
  return t == GUMBO_TAG_TBODY || t == GUMBO_TAG_THEAD || t == GUMBO_TAG_TFOOT;
}

static int cells_of(const xdom *d, int tr) {
  int n = 0;
  for (int c = d->n[tr].first_child; c >= 0; c = d->n[c].next)
    n += d->n[c].tag == GUMBO_TAG_TD || d->n[c].tag == GUMBO_TAG_TH;
  return n;
}

/* A table used for layout rather than data: see the file comment. */
static bool layout_table(const xdom *d, int t) {
  const xnode *x = &d->n[t];
  if (x->heads > 0 || x->tables > 1 || x->pres > 0 || x->lis > 0)
    return true;
  int most = 0;
  for (int c = x->first_child; c >= 0; c = d->n[c].next) {
    if (d->n[c].tag == GUMBO_TAG_TR && cells_of(d, c) > most)
      most = cells_of(d, c);
    else if (is_row_group(d->n[c].tag))
      for (int g = d->n[c].first_child; g >= 0; g = d->n[g].next)
        if (d->n[g].tag == GUMBO_TAG_TR && cells_of(d, g) > most)
          most = cells_of(d, g);
  }
  return most <= 1;
}

static void heading(rs *r, int i, GumboTag t) {
  flush(r);
  r->kind = TROVE_BLOCK_HEADING;
  r->level = (int)(t - GUMBO_TAG_H1) + 1;
  children(r, i);
  flush(r);
}

static void list(rs *r, int i, GumboTag t) {
  flush(r);
  int depth = r->lists < MAX_LISTS ? r->lists : MAX_LISTS - 1;
  int saved = r->counter[depth];
  const char *start = trove_extract__attr(r->d->n[i].g, "start");
  r->counter[depth] = t == GUMBO_TAG_OL ? (start ? atoi(start) : 1) : 0;
  r->lists++;
  children(r, i);
  flush(r);
  r->lists--;
  r->counter[depth] = saved;
}

static void item(rs *r, int i) {
  flush(r);
  int depth = r->lists > 0 ? r->lists - 1 : 0;
  if (depth >= MAX_LISTS)
    depth = MAX_LISTS - 1;
  char marker[32];
  int n = r->counter[depth] ? snprintf(marker, sizeof marker, "%d. ", r->counter[depth]++)
                            : snprintf(marker, sizeof marker, "- ");
  put(r, marker, (size_t)n);
  r->prefix_len = r->para.len;
  r->kind = TROVE_BLOCK_ITEM;
  r->level = depth + 1;
  children(r, i);
  flush(r);
}

static void table_part(rs *r, int i, GumboTag t) {
  if (t == GUMBO_TAG_TABLE) {
    flush(r);
    bool data = !layout_table(r->d, i);
    r->table += data;
    children(r, i);
    flush(r);
    r->table -= data;
  } else if (t == GUMBO_TAG_TR && r->table) {
    flush(r);
    r->kind = TROVE_BLOCK_ROW;
    r->cells = 0;
    children(r, i);
    flush(r);
  } else if ((t == GUMBO_TAG_TD || t == GUMBO_TAG_TH) && r->table) {
    if (r->cells++ > 0 && r->para.len > 0)
      put(r, " | ", 3);
    r->space = false;
    children(r, i);
    r->space = true;
  } else {
    children(r, i);
  }
}

static void block(rs *r, int i) {
  if (r->table) { /* inside a data cell everything is inline */
    r->space = true;
    children(r, i);
    r->space = true;
    return;
  }
  if (!(r->kind == TROVE_BLOCK_ITEM && r->para.len == r->prefix_len))
    flush(r); /* a list item's first paragraph stays the item */
  children(r, i);
  flush(r);
}

static void element(rs *r, int i) {
  GumboTag t = r->d->n[i].tag;
  if (t >= GUMBO_TAG_H1 && t <= GUMBO_TAG_H6 && !r->table)
    heading(r, i, t);
  else if (t == GUMBO_TAG_PRE && !r->table) {
    flush(r);
    r->pre++;
    r->kind = TROVE_BLOCK_CODE;
    children(r, i);
    flush(r);
    r->pre--;
  } else if ((t == GUMBO_TAG_UL || t == GUMBO_TAG_OL) && !r->table)
    list(r, i, t);
  else if (t == GUMBO_TAG_LI && !r->table)
    item(r, i);
  else if (t == GUMBO_TAG_TABLE || t == GUMBO_TAG_TR || t == GUMBO_TAG_TD || t == GUMBO_TAG_TH)
    table_part(r, i, t);
  else if (t == GUMBO_TAG_BLOCKQUOTE && !r->table) {
    flush(r);
    r->quote++;
    r->kind = TROVE_BLOCK_QUOTE;
    children(r, i);
    r->quote--;
    flush(r);
  } else if (t == GUMBO_TAG_BR && r->table) {
    r->space = true;
  } else if (t == GUMBO_TAG_BR && !r->pre) {
    if (r->para.len > 0 && r->para.data[r->para.len - 1] == '\n')
      flush(r);
    else if (r->para.len > r->prefix_len) {
      trove_extract__rtrim(&r->para);
      put(r, "\n", 1);
      r->space = false;
    }
  } else if (t == GUMBO_TAG_HR)
    flush(r);
  else if (trove_extract__is_block_tag(t))
    block(r, i);
  else
    children(r, i);
}

static void render(rs *r, int i) {
  const xnode *x = &r->d->n[i];
  if (r->rc || x->drop || (r->use_clean && x->clean))
    return;
  if (x->kind == XN_TEXT)
    text(r, x);
  else
    element(r, i);
}

int trove_extract__render(const xdom *d, int i, bool use_clean, xout *o) {
  if (i < 0 || i >= d->count)
    return 0;
  rs r = {.d = d, .use_clean = use_clean, .o = o, .kind = TROVE_BLOCK_PARA};
  render(&r, i);
  flush(&r);
  trove_buf_free(&r.para);
  return r.rc;
}
