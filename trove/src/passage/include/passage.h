/* passage.h: cuts an extracted document into the passages trove embeds, and
 * text into sentences (for per-sentence scoring and the highlight).
 *
 * A passage is a byte span of the item's text plus the heading it sits
 * under. The model reads at most max_tokens tokens (128 for USE-lite) and
 * ignores the rest, so passages are sized with the embedder's own tokenizer:
 * the exact string the model is given, "<title> - <heading>: <passage
 * text>", is tokenized and never holds more than max_tokens tokens. The
 * model therefore sees all of every passage: cutting by words instead would
 * let the model truncate a passage's tail unseen.
 * How cuts are chosen is the essay atop split.c.
 *
 * Threads: no state is shared between calls; any thread may split with the
 * same embedder at once (its tokenizer is safe for that). A trove_passages
 * or trove_spans belongs to one thread at a time.
 */
#ifndef TROVE_PASSAGE_H
#define TROVE_PASSAGE_H

#include "core.h"
#include "extract.h"
#include "model.h"

#include <stdbool.h>
#include <stddef.h>

/* ---- sentences ------------------------------------------------------------ */

/* A byte span [start, end) of some text. */
typedef struct trove_span {
  size_t start, end;
} trove_span;

/* A growable list of spans. Start it zeroed; free with trove_spans_free. */
typedef struct trove_spans {
  trove_span *v;
  size_t n, cap;
} trove_spans;

/* Releases s's array; s is empty and reusable after. NULL is fine. */
void trove_spans_free(trove_spans *s);

/* Splits len bytes of text into sentences, appended to out in text order
 * (out is emptied first). A sentence ends after '.', '!' or '?' (and any
 * closing quotes or brackets) followed by whitespace and then an upper-case
 * letter, a digit, an opening quote or bracket, a non-ASCII character or the
 * end; not after a single letter ("J. Smith") or a common abbreviation
 * ("e.g.", "Mr.", "etc."). A blank line ("\n\n", how extract.h separates
 * blocks) always ends one. Each span is trimmed of surrounding whitespace
 * and never empty; together they hold every non-whitespace byte; all edges
 * sit on UTF-8 character starts. Any thread. Returns 0, TROVE_EINVAL (NULL
 * out, or NULL text with len > 0) or TROVE_ENOMEM (out is then empty). */
int trove_sentences_split(const char *text, size_t len, trove_spans *out);

/* ---- passages ------------------------------------------------------------- */

/* Splitter settings. Fill with trove_passage_opts_default, change fields. */
typedef struct trove_passage_opts {
  size_t max_tokens; /* model tokens per passage, prefix included; 0: the
                        embedder's limit (128 for USE-lite) */
  size_t overlap;    /* tokens repeated from the end of one passage at the
                        start of the next, about; default 16 (the brief's
                        figure: a sentence cut by a passage edge is whole in
                        one of the two). 0 disables it. */
  size_t max_bytes;  /* bytes of text per passage, at most; default 4096. A
                        run of characters unknown to the model is ONE token,
                        so without this a passage of emoji or CJK could be
                        megabytes long. */
  bool no_prefix;    /* true: the model input is the passage text alone */
} trove_passage_opts;

/* Fills o with the defaults above. */
void trove_passage_opts_default(trove_passage_opts *o);

/* One passage: bytes [start, end) of the text split, trimmed of leading and
 * trailing whitespace. */
typedef struct trove_passage {
  size_t start, end;
  char *heading; /* text of the nearest heading block at or before start
                    (NUL-terminated, owned by the list); NULL when none */
  char *input;   /* what to embed: prefix + passage text, NUL-terminated,
                    owned by the list */
  size_t input_len;
  size_t tokens; /* tokens of input, <= max_tokens */
} trove_passage;

/* The passages of one text, in text order. Start zeroed; free with
 * trove_passages_free. */
typedef struct trove_passages {
  trove_passage *v;
  size_t n, cap;
} trove_passages;

/* Frees every passage's strings and the array; p is empty and reusable
 * after. NULL is fine. */
void trove_passages_free(trove_passages *p);

/* Splits text (len bytes, valid UTF-8 as extract.h guarantees; invalid bytes
 * are tolerated) into passages appended to out (emptied first). title (NULL
 * or "" for none) and each passage's heading prefix the model input; blocks
 * (may be NULL when n_blocks is 0) are the document's blocks, used to prefer
 * cuts at headings and paragraph edges and to name headings; they must lie
 * inside the text. Guarantees, for every passage: tokens(input) <=
 * max_tokens with the embedder's tokenizer; start < end on character
 * starts; each passage starts after the previous one and no later than its
 * end, so every non-whitespace byte is in some passage. Text that is empty
 * or only whitespace gives no passage. o NULL means the defaults. Any
 * thread. Returns 0; TROVE_EINVAL (NULL e or out, NULL text with len > 0, a
 * block outside the text, max_tokens below 8); TROVE_ERANGE (len above the
 * tokenizer's 16 MiB); TROVE_ENOMEM. After a failure out is empty. */
int trove_passage_split(const trove_embedder *e, const char *title, const char *text, size_t len,
                        const trove_block *blocks, size_t n_blocks, const trove_passage_opts *o,
                        trove_passages *out, trove_err *err);

#endif /* TROVE_PASSAGE_H */
