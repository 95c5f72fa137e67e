/* extract.h: turns a fetched or read document (HTML, Markdown or plain text)
 * into what trove stores and searches: a title, byline, excerpt, language,
 * and the main text split into typed blocks (headings, paragraphs, list
 * items, code, table rows), plus whether the page is a link hub (an index or
 * table of contents) that search should demote.
 *
 * HTML goes through a readability-style extractor on gumbo (score.c has the
 * essay on how it picks the article); Markdown and plain text have their own
 * small paths. Every output string is valid UTF-8 with whitespace normalised.
 *
 * Threads: every function here may run concurrently on different inputs from
 * any number of threads; nothing is shared between calls. One trove_doc
 * belongs to one thread at a time.
 */
#ifndef TROVE_EXTRACT_H
#define TROVE_EXTRACT_H

#include "core.h"

#include <stdbool.h>
#include <stddef.h>

/* The extractor's process_version. Raise it whenever a change can alter the
 * output for some input; `trove reprocess` re-extracts stored raw content of
 * items whose process_version is lower. */
enum { TROVE_EXTRACT_VERSION = 1 };

/* Inputs larger than this are refused with TROVE_ERANGE: gumbo needs roughly
 * ten times the input in memory, and no readable article is this big. */
enum { TROVE_EXTRACT_MAX_INPUT = 16 * 1024 * 1024 };

/* HTML whose tags nest deeper than this (estimated before parsing) is refused
 * with TROVE_EUNSUPPORTED: gumbo's tree building is quadratic in nesting
 * depth, so 100,000 unclosed <div>s would take minutes. */
enum { TROVE_EXTRACT_MAX_NESTING = 4096 };

/* What a document turned out to be. */
typedef enum trove_doc_kind {
  TROVE_DOC_ARTICLE = 0,  /* main text found */
  TROVE_DOC_LINK_HUB = 1, /* mostly links (index, contents); text holds the link texts */
  TROVE_DOC_NONE = 2,     /* no article (login form, gallery, empty, under 100 bytes
                             of prose): text is "", no blocks; title, byline,
                             excerpt and lang may still be set */
} trove_doc_kind;

/* The kind of one block of the text. */
typedef enum trove_block_kind {
  TROVE_BLOCK_PARA = 0,    /* a paragraph or other run of prose */
  TROVE_BLOCK_HEADING = 1, /* a heading; level 1..6 */
  TROVE_BLOCK_ITEM = 2,    /* a list item, written "- text" or "3. text";
                              level is its nesting (1 = top) */
  TROVE_BLOCK_CODE = 3,    /* preformatted text, kept verbatim (may hold newlines
                              and blank lines) */
  TROVE_BLOCK_ROW = 4,     /* a table row, cells joined by " | " */
  TROVE_BLOCK_QUOTE = 5,   /* a paragraph inside a blockquote */
} trove_block_kind;

/* One block: bytes [start, start + len) of trove_doc.text. Blocks are in text
 * order, do not overlap, and are separated in the text by "\n\n" (so a
 * splitter may cut at any block edge; a code block may hold "\n\n" itself). */
typedef struct trove_block {
  trove_block_kind kind;
  int level;    /* heading level 1..6; list nesting depth (1 = top) for items; 0 else */
  size_t start; /* byte offset into text */
  size_t len;   /* byte length, never 0 */
} trove_block;

/* An extracted document. Every string is non-NULL, NUL-terminated, valid
 * UTF-8 and owned by the document; "" means absent. */
typedef struct trove_doc {
  trove_doc_kind kind;
  char *title;   /* og:title, a cleaned <title>, or the first h1 */
  char *byline;  /* author, "By " stripped */
  char *excerpt; /* meta/og description, or the start of the first good paragraph */
  char *lang;    /* declared language tag ("en", "pt-BR"), "" when none */
  char *text;    /* the main text: blocks separated by "\n\n" */
  size_t text_len;
  trove_block *blocks; /* n_blocks blocks; NULL when n_blocks is 0 */
  size_t n_blocks;
  bool is_link_hub;    /* kind == TROVE_DOC_LINK_HUB, for callers that only ask that */
  double link_density; /* share of the page's readable text (boilerplate removed)
                          that sits inside links, 0..1; 0 for Markdown/text */
} trove_doc;

/* Extracts the article from len bytes of HTML (any encoding errors, broken or
 * truncated markup, NUL bytes allowed). The page is decoded as
 * trove_charset_to_utf8 does with TROVE_CHARSET_HTML (a UTF-16/32 byte-order
 * mark, a <meta> naming windows-1252 or an alias, BOM-less UTF-16/32 by its
 * NULs), else read as UTF-8; any invalid byte left becomes U+FFFD. A caller
 * that knows the charset from HTTP headers converts with
 * trove_charset_to_utf8 first.
 * base_url (may be NULL) is the page's address; its host helps strip a site
 * name from the title. On success *out is a new document the caller frees
 * with trove_doc_destroy; on failure *out is NULL and err (may be NULL) says
 * why. Any thread. Returns 0, TROVE_EINVAL (html or out NULL), TROVE_ERANGE
 * (len > TROVE_EXTRACT_MAX_INPUT), TROVE_EUNSUPPORTED (nesting deeper than
 * TROVE_EXTRACT_MAX_NESTING) or TROVE_ENOMEM. A page without an article is a
 * success with kind TROVE_DOC_NONE, not an error. gumbo's allocations go
 * through trove_malloc too; as gumbo cannot survive a NULL, a failed one is
 * served by plain malloc and the call then returns TROVE_ENOMEM. */
int trove_extract_html(const char *html, size_t len, const char *base_url, trove_doc **out,
                       trove_err *err);

/* Extracts a Markdown document: YAML front matter (between "---" lines at the
 * very top) gives title/name, description/summary, author/authors and
 * lang/language; the body is stripped to text keeping headings (ATX and
 * setext), list items, fenced and indented code, block quotes and tables.
 * Without front matter the title is the first level-1 heading and the excerpt
 * the first paragraph. Ownership, threads and returns as trove_extract_html,
 * except TROVE_EUNSUPPORTED which cannot happen. Kind is TROVE_DOC_NONE only
 * when the body has no text. */
int trove_extract_markdown(const char *md, size_t len, trove_doc **out, trove_err *err);

/* Extracts a plain-text document: line ends normalised to "\n", paragraphs
 * (runs of lines separated by blank lines) become blocks, lines inside a
 * paragraph keep their breaks. title is "" (the caller names the item, e.g.
 * after its file); the excerpt is the start of the first paragraph.
 * Ownership, threads and returns as trove_extract_markdown. */
int trove_extract_text(const char *txt, size_t len, trove_doc **out, trove_err *err);

/* Frees a document and everything it owns. NULL is allowed. */
void trove_doc_destroy(trove_doc *doc);

#endif /* TROVE_EXTRACT_H */
