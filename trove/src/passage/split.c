/* split.c: the passage splitter (passage.h).
 *
 * HOW IT WORKS
 * The whole text is tokenized once with the embedder's tokenizer, which
 * gives each token its byte range. Every byte p of the text gets a cut
 * priority: how good a place p is for one passage to end and the next to
 * begin:
 *   5  the start of a heading block      (a new section: also no overlap)
 *   4  the start of any other block      (paragraph, item, code, row, quote)
 *   3  the start of a sentence           (sentence.c)
 *   2  the start of a line
 *   1  the start of a word
 *   0  any other character start
 *   -  a UTF-8 continuation byte         (never a cut)
 * A passage starting at s takes the `budget` tokens that start at or after
 * s (budget = max_tokens minus the prefix's tokens minus a margin of 2 for
 * joining effects), giving a furthest end e0 (capped at max_bytes). It is
 * cut at the first heading past a quarter of [s, e0], else at the
 * best-priority byte in its back half, the furthest one among equals.
 * Then the exact model input, prefix + trimmed passage, is tokenized
 * again: when it holds more than max_tokens (tokens at the join, or a
 * stretch the tokenizer reports as one range), the end moves to where
 * token max_tokens begins and the cut is chosen again before it, until it
 * fits. The next passage starts about `overlap` tokens before the
 * cut, at the best-priority byte among the tokens 3/2 to 1/2 of the
 * overlap back (nearest the overlap among equals); after a heading cut it
 * starts at the cut.
 *
 * INVARIANTS
 * Every passage's input tokenizes to <= max_tokens (checked, not
 * estimated). Starts strictly increase and each is at most the previous
 * end, so the passages cover every non-whitespace byte and the loop ends.
 * Edges are character starts, never inside a UTF-8 sequence.
 *
 * MEASURED on the 530 pages of the Python 3.11 docs (passage_docs_test):
 * 46,930 passages, mean 105.7 of 128 tokens (prefix included), 70% at 100
 * or more; none over; every non-whitespace byte covered.
 *
 * LIMITS
 * The per-byte priority array costs one byte per text byte (16 MiB at the
 * tokenizer's limit). Each passage is tokenized at least twice (whole text
 * once, then its input); tokenizing is ~1% of embedding, so this is cheap.
 * Where NFKC rewrote a stretch the tokenizer reports the whole stretch for
 * each of its tokens; such a stretch is cut by bytes, at character starts.
 */
#include "passage.h"

#include <string.h>

void trove_passage_opts_default(trove_passage_opts *o) {
  memset(o, 0, sizeof *o);
  o->overlap = 16;
  o->max_bytes = 4096;
}

void trove_passages_free(trove_passages *p) {
  if (!p)
    return;
  for (size_t i = 0; i < p->n; i++) {
    trove_free(p->v[i].heading);
    trove_free(p->v[i].input);
  }
  trove_free(p->v);
  p->v = NULL;
  p->n = p->cap = 0;
}

enum { P_NONE = 0xFF, P_CHAR = 0, P_WORD = 1, P_LINE = 2, P_SENT = 3, P_BLOCK = 4, P_HEAD = 5 };

typedef struct splitter {
  const trove_embedder *e;
  const char *text;
  size_t len;
  const trove_block *blocks;
  size_t nb;
  size_t max, overlap, max_bytes;
  bool no_prefix;
  const char *title;
  unsigned char *prio; /* len + 1 entries; prio[len] is the end */
  trove_tokens tok;    /* of the whole text */
  trove_tokens scratch; /* of one model input */
  trove_buf prefix;
  size_t prefix_tokens;
  trove_buf input;
  trove_err *err;
} splitter;

static bool is_space(unsigned char c) {
  return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* First token whose start is >= x (tok.n when none). */
static size_t token_at(const trove_tokens *t, size_t x) {
  size_t lo = 0, hi = t->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (t->start[mid] < x)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static int fill_priorities(splitter *sp) {
  const char *t = sp->text;
  for (size_t p = 0; p < sp->len; p++) {
    unsigned char c = (unsigned char)t[p];
    if ((c & 0xC0) == 0x80)
      sp->prio[p] = P_NONE;
    else if (p > 0 && t[p - 1] == '\n' && !is_space(c))
      sp->prio[p] = P_LINE;
    else if (p > 0 && is_space((unsigned char)t[p - 1]) && !is_space(c))
      sp->prio[p] = P_WORD;
    else
      sp->prio[p] = P_CHAR;
  }
  sp->prio[sp->len] = P_HEAD;
  trove_spans sent = {0};
  if (trove_sentences_split(t, sp->len, &sent))
    return TROVE_ENOMEM;
  for (size_t i = 0; i < sent.n; i++)
    if (sp->prio[sent.v[i].start] < P_SENT)
      sp->prio[sent.v[i].start] = P_SENT;
  trove_spans_free(&sent);
  for (size_t i = 0; i < sp->nb; i++)
    sp->prio[sp->blocks[i].start] =
        sp->blocks[i].kind == TROVE_BLOCK_HEADING ? P_HEAD : P_BLOCK;
  return 0;
}

/* The best cut in [lo, hi] (both > s): highest priority; among equals the
 * one nearest `near` (ties to the later one). hi when none qualifies. */
static size_t best_cut(const splitter *sp, size_t lo, size_t hi, size_t near) {
  size_t best = hi, bd = SIZE_MAX;
  int bp = -1;
  for (size_t p = hi + 1; p-- > lo;) {
    int pr = sp->prio[p];
    if (pr == P_NONE)
      continue;
    size_t d = p > near ? p - near : near - p;
    if (pr > bp || (pr == bp && d < bd)) {
      bp = pr;
      bd = d;
      best = p;
    }
  }
  return best;
}

/* Steps back from p to a character start (p itself when it is one). */
static size_t char_floor(const splitter *sp, size_t p) {
  while (p > 0 && p < sp->len && sp->prio[p] == P_NONE)
    p--;
  return p;
}

/* Steps forward from p past one character. */
static size_t char_next(const splitter *sp, size_t p) {
  p++;
  while (p < sp->len && sp->prio[p] == P_NONE)
    p++;
  return p;
}

/* Index of the heading block in effect at s: the last heading starting at
 * or before s, else `cur` (nb at first, meaning none). *cursor walks the
 * blocks once, as they are in order and s only grows. */
static size_t heading_at(const splitter *sp, size_t s, size_t *cursor, size_t cur) {
  while (*cursor < sp->nb && sp->blocks[*cursor].start <= s) {
    if (sp->blocks[*cursor].kind == TROVE_BLOCK_HEADING)
      cur = *cursor;
    (*cursor)++;
  }
  return cur;
}

/* Sets sp->prefix to "<title> - <heading>: " (the parts present), at most
 * max/4 tokens, and sp->prefix_tokens. */
static int build_prefix(splitter *sp, const char *head, size_t hlen) {
  trove_buf_reset(&sp->prefix);
  sp->prefix_tokens = 0;
  if (sp->no_prefix)
    return 0;
  size_t tl = sp->title ? strlen(sp->title) : 0;
  if (hlen == tl && tl && memcmp(head, sp->title, tl) == 0)
    hlen = 0; /* the heading repeats the title */
  if (!tl && !hlen)
    return 0;
  int rc = 0;
  if (tl)
    rc = trove_buf_append(&sp->prefix, sp->title, tl);
  if (!rc && tl && hlen)
    rc = trove_buf_puts(&sp->prefix, " - ");
  if (!rc && hlen)
    rc = trove_buf_append(&sp->prefix, head, hlen);
  if (rc)
    return rc;
  size_t cap = sp->max / 4;
  rc = trove_embedder_tokenize(sp->e, sp->prefix.data, sp->prefix.len, &sp->scratch, sp->err);
  if (rc)
    return rc;
  if (sp->scratch.n + 1 > cap) { /* keep cap - 1 tokens, then ": " */
    size_t keep = sp->scratch.start[cap - 1];
    sp->prefix.len = keep;
    sp->prefix.data[keep] = '\0';
  }
  if ((rc = trove_buf_puts(&sp->prefix, ": ")))
    return rc;
  rc = trove_embedder_tokenize(sp->e, sp->prefix.data, sp->prefix.len, &sp->scratch, sp->err);
  sp->prefix_tokens = sp->scratch.n;
  return rc;
}

/* Builds the model input for [s, end) into sp->input and tokenizes it into
 * sp->scratch. */
static int compose(splitter *sp, size_t s, size_t end) {
  trove_buf_reset(&sp->input);
  int rc = trove_buf_append(&sp->input, sp->prefix.data ? sp->prefix.data : "", sp->prefix.len);
  if (!rc)
    rc = trove_buf_append(&sp->input, sp->text + s, end - s);
  if (!rc)
    rc = trove_embedder_tokenize(sp->e, sp->input.data, sp->input.len, &sp->scratch, sp->err);
  return rc;
}

static size_t trim_end(const splitter *sp, size_t s, size_t end) {
  while (end > s && is_space((unsigned char)sp->text[end - 1]))
    end--;
  return end;
}

static int push(splitter *sp, trove_passages *out, size_t s, size_t end, size_t hb) {
  if (out->n == out->cap) {
    size_t cap = out->cap ? out->cap * 2 : 16, bytes;
    if (!trove_mul_ok(cap, sizeof *out->v, &bytes))
      return TROVE_ENOMEM;
    trove_passage *v = trove_realloc(out->v, bytes);
    if (!v)
      return TROVE_ENOMEM;
    out->v = v;
    out->cap = cap;
  }
  trove_passage *p = &out->v[out->n];
  memset(p, 0, sizeof *p);
  if (hb < sp->nb) {
    p->heading = trove_strndup(sp->text + sp->blocks[hb].start, sp->blocks[hb].len);
    if (!p->heading)
      return TROVE_ENOMEM;
  }
  p->input_len = sp->input.len;
  p->input = trove_buf_take(&sp->input);
  if (!p->input) {
    trove_free(p->heading);
    return TROVE_ENOMEM;
  }
  p->start = s;
  p->end = end;
  p->tokens = sp->scratch.n;
  out->n++;
  return 0;
}

/* Tokens of passage text per passage: the limit less the prefix and a
 * margin of 2 for tokens that differ at the join; at least 4. */
static size_t budget_of(const splitter *sp) {
  return sp->max > sp->prefix_tokens + 6 ? sp->max - sp->prefix_tokens - 2 : 4;
}

/* Cuts the passage starting at s (a non-space character start); sets *end
 * (trimmed) and *cut (where the next passage may at most start). */
static int fit_one(splitter *sp, size_t s, size_t *end, size_t *cut) {
  size_t budget = budget_of(sp);
  size_t ts = token_at(&sp->tok, s);
  size_t e0 = ts + budget < sp->tok.n ? sp->tok.start[ts + budget] : sp->len;
  if (e0 - s > sp->max_bytes)
    e0 = char_floor(sp, s + sp->max_bytes);
  if (e0 <= s)
    e0 = char_next(sp, s);
  size_t c = e0 >= sp->len ? sp->len : best_cut(sp, s + (e0 - s + 1) / 2, e0, e0);
  /* A section should not start in a passage's tail: the first heading past
   * a quarter of the window ends the passage (a short last passage of a
   * section beats one embedding two topics). */
  for (size_t p = s + (e0 - s) / 4 + 1; p < e0; p++)
    if (sp->prio[p] == P_HEAD) {
      c = p;
      break;
    }
  for (;;) {
    size_t t = trim_end(sp, s, c);
    int rc = compose(sp, s, t);
    if (rc)
      return rc;
    if (sp->scratch.n <= sp->max) {
      *end = t;
      *cut = c;
      return 0;
    }
    /* Too long: end where token `max` of the input begins, then re-choose
     * the cut in the back half before it. c strictly shrinks: this ends. */
    size_t over = sp->scratch.start[sp->max];
    size_t lim = over > sp->prefix.len ? s + (over - sp->prefix.len) : s;
    if (lim >= c)
      lim = c - 1;
    lim = char_floor(sp, lim);
    if (lim <= s)
      lim = char_next(sp, s);
    if (lim >= c) /* one character over budget: cannot happen with a capped prefix */
      return trove_err_set(sp->err, TROVE_ERANGE,
                           "passage split: one character needs more than %zu tokens", sp->max);
    size_t lo = s + (lim - s + 1) / 2;
    c = best_cut(sp, lo > s ? lo : lim, lim, lim);
  }
}

/* Where the passage after a cut at c (of a passage starting at s) begins. */
static size_t next_start(const splitter *sp, size_t s, size_t c) {
  size_t n = c;
  size_t ov = sp->overlap;
  if (ov && sp->prio[c] != P_HEAD) {
    size_t tc = token_at(&sp->tok, c);
    size_t back_far = ov + ov / 2, back_near = ov / 2 ? ov / 2 : 1;
    if (tc > back_near) {
      size_t lo = sp->tok.start[tc > back_far ? tc - back_far : 0];
      size_t hi = sp->tok.start[tc - back_near];
      size_t target = sp->tok.start[tc > ov ? tc - ov : 0];
      if (lo <= s)
        lo = char_next(sp, s);
      if (lo <= hi && hi < c) {
        size_t b = best_cut(sp, lo, hi, target);
        if (b > s && b < c && sp->prio[b] != P_NONE)
          n = b;
      }
    }
  }
  while (n < sp->len && is_space((unsigned char)sp->text[n]))
    n++;
  return n;
}

int trove_passage_split(const trove_embedder *e, const char *title, const char *text,
                        size_t len, const trove_block *blocks, size_t n_blocks,
                        const trove_passage_opts *o, trove_passages *out, trove_err *err) {
  if (!e || !out || (!text && len > 0) || (!blocks && n_blocks > 0))
    return trove_err_set(err, TROVE_EINVAL, "passage split: NULL embedder, text or output");
  trove_passages_free(out);
  trove_passage_opts def;
  if (!o) {
    trove_passage_opts_default(&def);
    o = &def;
  }
  splitter sp = {.e = e, .text = text, .len = len, .blocks = blocks, .nb = n_blocks,
                 .title = title, .no_prefix = o->no_prefix, .err = err};
  sp.max = o->max_tokens ? o->max_tokens : trove_embedder_max_tokens(e);
  sp.max_bytes = o->max_bytes ? o->max_bytes : 4096;
  if (sp.max < 8)
    return trove_err_set(err, TROVE_EINVAL, "passage split: max_tokens %zu is below 8", sp.max);
  for (size_t i = 0; i < n_blocks; i++)
    if (blocks[i].start >= len || blocks[i].len > len - blocks[i].start ||
        (i > 0 && blocks[i].start < blocks[i - 1].start))
      return trove_err_set(err, TROVE_EINVAL,
                           "passage split: block %zu lies outside the text or out of order", i);
  int rc = 0;
  size_t s = 0;
  while (s < len && is_space((unsigned char)text[s]))
    s++;
  if (s == len)
    return 0;
  sp.prio = trove_malloc(len + 1);
  if (!sp.prio) {
    rc = TROVE_ENOMEM;
    goto out;
  }
  if ((rc = fill_priorities(&sp)))
    goto out;
  if ((rc = trove_embedder_tokenize(e, text, len, &sp.tok, err)))
    goto out;
  size_t cursor = 0, hb = n_blocks, prefix_for = SIZE_MAX;
  while (s < len) {
    hb = heading_at(&sp, s, &cursor, hb);
    if (hb != prefix_for) {
      const char *h = hb < n_blocks ? text + blocks[hb].start : "";
      size_t hl = hb < n_blocks ? blocks[hb].len : 0;
      if ((rc = build_prefix(&sp, h, hl)))
        goto out;
      prefix_for = hb;
    }
    /* a budget that leaves no room for overlap progress is clamped */
    size_t budget = budget_of(&sp);
    sp.overlap = o->overlap < budget / 4 ? o->overlap : budget / 4;
    size_t end = 0, c = 0;
    if ((rc = fit_one(&sp, s, &end, &c)))
      goto out;
    if ((rc = push(&sp, out, s, end, hb)))
      goto out;
    if (c >= len)
      break;
    s = next_start(&sp, s, c);
  }
out:
  if (rc) {
    if (rc == TROVE_ENOMEM)
      trove_err_keep(err, rc, "passage split: out of memory splitting %zu bytes", len);
    trove_passages_free(out);
  }
  trove_free(sp.prio);
  trove_tokens_free(&sp.tok);
  trove_tokens_free(&sp.scratch);
  trove_buf_free(&sp.prefix);
  trove_buf_free(&sp.input);
  return rc;
}
