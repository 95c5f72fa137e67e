/* extract_int.h: what the files of the extractor share and nobody else sees.
 * out.c builds a trove_doc (UTF-8 repair, whitespace folding, blocks);
 * dom.c mirrors gumbo's tree into a flat array with per-subtree counts;
 * score.c picks the article on that array (its essay is the one to read);
 * render.c writes the chosen nodes as blocks; meta.c finds title, byline,
 * excerpt and language; html.c and markdown.c are the entry points. */
#ifndef TROVE_EXTRACT_INT_H
#define TROVE_EXTRACT_INT_H

#include "extract.h"

#include <gumbo.h>

/* ---- out.c: building a document ---------------------------------------- */

typedef struct xout {
  trove_buf text;
  trove_block *blocks;
  size_t n_blocks, cap_blocks;
} xout;

/* Appends s[0..n) to b as valid UTF-8: invalid sequences become U+FFFD, NUL
 * and C0 controls other than '\n' and '\t' are dropped, "\r\n" and '\r'
 * become '\n'. 0 or TROVE_ENOMEM (b unchanged in length on failure). */
int trove_extract__utf8_append(trove_buf *b, const char *s, size_t n);

/* Appends s[0..n) to b folding every run of whitespace (ASCII, NBSP and the
 * other Unicode spaces) into one space. *space carries a pending space across
 * calls: set it when a run ends the piece, and a space is written before the
 * next visible character only if b is not empty. 0 or TROVE_ENOMEM. */
int trove_extract__fold_append(trove_buf *b, const char *s, size_t n, bool *space);

/* A new string holding s[0..n) repaired and folded, trimmed. NULL on ENOMEM. */
char *trove_extract__clean_dup(const char *s, size_t n);

/* Trims trailing spaces and newlines of b in place. */
void trove_extract__rtrim(trove_buf *b);

/* Appends a block of the given kind holding s[0..n) (repaired, trimmed of
 * surrounding blank lines and spaces). An empty block is skipped. 0 or
 * TROVE_ENOMEM. */
int trove_extract__out_block(xout *o, trove_block_kind kind, int level, const char *s, size_t n);

/* Moves the text and blocks of o into doc (o is emptied), and fills an empty
 * excerpt from the first paragraph of at least 80 bytes (or any first block).
 * 0 or TROVE_ENOMEM (o is then freed, doc keeps what it had). */
int trove_extract__out_finish(xout *o, trove_doc *doc);

/* Frees o's memory. */
void trove_extract__out_free(xout *o);

/* A new document with every string "" and kind TROVE_DOC_NONE. NULL on ENOMEM. */
trove_doc *trove_extract__doc_new(void);

/* Replaces *slot (a document string) by a cleaned copy of s[0..n); an empty
 * result leaves "" in place. 0 or TROVE_ENOMEM (slot unchanged). */
int trove_extract__doc_set(char **slot, const char *s, size_t n);

/* A short excerpt of s: at most ~300 bytes cut at a word boundary with "…"
 * appended when cut. NULL on ENOMEM. */
char *trove_extract__excerpt(const char *s, size_t n);

/* ---- dom.c: the flat mirror of gumbo's tree ----------------------------- */

/* Mirror nodes deeper than this are folded into their ancestor at this depth
 * (their text is kept, their structure is not), so the recursive renderer
 * stays shallow whatever the page does. */
enum { X_MAX_DEPTH = 200 };

enum { XN_ELEM = 0, XN_TEXT = 1 };

typedef struct xnode {
  GumboNode *g;      /* the element or text node */
  int parent;        /* index of the parent, -1 for the root */
  int first_child;   /* -1 when none */
  int last_child;    /* -1 when none */
  int next;          /* next sibling, -1 when none */
  int end;           /* index just past the subtree */
  unsigned char kind; /* XN_ELEM or XN_TEXT */
  unsigned char depth_folded; /* text folded here from deeper elements */
  bool drop;         /* boilerplate: skipped by counts, scoring and rendering */
  bool clean;        /* removed by the conditional clean of score.c */
  bool in_link;      /* inside an <a href> */
  bool hash_link;    /* inside an in-page <a href="#..."> (counts 0.3) */
  bool has_block;    /* some child is a block-level element */
  bool candidate;    /* has a score */
  GumboTag tag;      /* GUMBO_TAG_UNKNOWN for text */
  int weight;        /* class/id hint weight, -50..50 */
  /* Counts over the subtree, dropped parts excluded. */
  double chars;      /* visible characters (whitespace runs count 0) */
  double link_chars; /* of which inside links ("#" links count 0.3) */
  double own_chars;  /* characters of direct text children */
  int commas, paras, imgs, lis, inputs, embeds, links, heads, tables, pres;
  double score;      /* readability content score when candidate */
} xnode;

typedef struct xdom {
  xnode *n;
  int count, cap;
  int body;          /* index of <body>, or the root when none */
} xdom;

/* Mirrors the tree under root into d (zeroed by the caller), marking
 * boilerplate as dropped and computing every count. 0 or TROVE_ENOMEM (d
 * must still be freed with trove_extract__dom_free). */
int trove_extract__dom_build(xdom *d, GumboNode *root);

void trove_extract__dom_free(xdom *d);

/* Link density of node i: link_chars / chars, 0 when it has no text. */
double trove_extract__link_density(const xdom *d, int i);

/* The value of attribute name on an element node, or NULL. */
const char *trove_extract__attr(const GumboNode *g, const char *name);

/* True when tag is block-level (starts a new block of text). */
bool trove_extract__is_block_tag(GumboTag tag);

/* Calls enter(g, ud) for every node under root (root included) in document
 * order without recursion; enter returns X_WALK_DESCEND, X_WALK_SKIP (not
 * into the children) or X_WALK_STOP. leave (may be NULL) is called after the
 * children of a descended element. */
enum { X_WALK_DESCEND = 0, X_WALK_SKIP = 1, X_WALK_STOP = 2 };
void trove_extract__walk(GumboNode *root, int (*enter)(GumboNode *, void *),
                         void (*leave)(GumboNode *, void *), void *ud);

/* Appends the folded text of every text node under g to b. 0 or TROVE_ENOMEM. */
int trove_extract__node_text(GumboNode *g, trove_buf *b);

/* ---- score.c: choosing the article -------------------------------------- */

typedef struct xpick {
  int top;            /* the chosen candidate, -1 when none */
  int *parts;         /* nodes to render in document order (top and siblings) */
  int n_parts;
  double article_chars;      /* visible characters of the parts after cleaning */
  double article_link_chars;
} xpick;

/* Scores candidates, picks the article and marks junk inside it clean.
 * 0 or TROVE_ENOMEM. p must be freed with trove_extract__pick_free. */
int trove_extract__score_pick(xdom *d, xpick *p);
void trove_extract__pick_free(xpick *p);

/* ---- render.c: writing blocks ------------------------------------------- */

/* Writes node i and its subtree as blocks to o, skipping dropped nodes and,
 * when use_clean, nodes marked clean. 0 or TROVE_ENOMEM. */
int trove_extract__render(const xdom *d, int i, bool use_clean, xout *o);

/* ---- meta.c: title, byline, excerpt, language --------------------------- */

/* Fills title, byline, excerpt (meta only) and lang of doc from the whole
 * parsed page. base_url may be NULL. 0 or TROVE_ENOMEM. */
int trove_extract__meta(GumboOutput *g, const char *base_url, trove_doc *doc);

/* Cleans a <title>: removes a site-name part separated by " | ", " - ",
 * " — " and the like, using site (may be NULL: og:site_name or the host) and
 * h1 (may be NULL) as hints. Returns a new string or NULL on ENOMEM. */
char *trove_extract__clean_title(const char *title, const char *site, const char *h1);

#endif /* TROVE_EXTRACT_INT_H */
