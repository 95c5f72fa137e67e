/* passage_test.c: the sentence splitter and the passage splitter on
 * synthetic text, with the real USE-lite tokenizer: the token budget is
 * never exceeded (every input re-tokenized), overlap is present, every
 * non-whitespace byte is covered, headings are attached, long sentences,
 * huge words, unknown-character runs and NFKC-rewritten stretches are split
 * on character starts, empty text gives nothing, bad arguments are EINVAL,
 * and a fault loop. */
#include "passage.h"
#include "core_test_hooks.h" /* trove_alloc_fail_after */

#include "check.h"

#include <stdlib.h>
#include <string.h>

static trove_embedder *emb;

static size_t count_tokens(const char *s, size_t len) {
  trove_tokens t = {0};
  CHECK(trove_embedder_tokenize(emb, s, len, &t, NULL) == 0);
  size_t n = t.n;
  trove_tokens_free(&t);
  return n;
}

static bool space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

static bool char_start(const char *s, size_t len, size_t p) {
  return p >= len || ((unsigned char)s[p] & 0xC0) != 0x80;
}

/* The invariants every split must hold. Returns how many consecutive pairs
 * overlap. */
static size_t check_split(const char *text, size_t len, const trove_passages *ps, size_t max) {
  size_t overlaps = 0, covered = 0;
  for (size_t i = 0; i < ps->n; i++) {
    const trove_passage *p = &ps->v[i];
    CHECK(p->start < p->end && p->end <= len);
    CHECK(char_start(text, len, p->start) && char_start(text, len, p->end));
    CHECK(!space(text[p->start]) && !space(text[p->end - 1]));
    CHECK(p->tokens <= max);
    CHECK(p->input && strlen(p->input) == p->input_len);
    CHECK(count_tokens(p->input, p->input_len) == p->tokens); /* the real count */
    CHECK(p->input_len >= p->end - p->start &&
          memcmp(p->input + p->input_len - (p->end - p->start), text + p->start,
                 p->end - p->start) == 0);
    if (i > 0) {
      CHECK(p->start > ps->v[i - 1].start);
      /* no gap but whitespace */
      for (size_t b = ps->v[i - 1].end; b < p->start; b++)
        CHECK(space(text[b]));
      if (p->start < ps->v[i - 1].end)
        overlaps++;
    }
    covered = p->end;
  }
  for (size_t b = 0; ps->n && b < ps->v[0].start; b++)
    CHECK(space(text[b]));
  for (size_t b = covered; b < len; b++)
    CHECK(space(text[b]));
  return overlaps;
}

/* Appends a block to a synthetic document. */
typedef struct synth {
  trove_buf text;
  trove_block blocks[512];
  size_t nb;
} synth;

static void add_block(synth *d, trove_block_kind k, int level, const char *s) {
  if (d->text.len)
    CHECK(trove_buf_puts(&d->text, "\n\n") == 0);
  CHECK(d->nb < 512);
  d->blocks[d->nb++] = (trove_block){k, level, d->text.len, strlen(s)};
  CHECK(trove_buf_puts(&d->text, s) == 0);
}

static const char *words[] = {"the", "process", "returns", "a", "socket", "while", "every",
                              "thread", "waits", "for", "data", "and", "then", "writes",
                              "buffered", "output", "to", "its", "file", "descriptor"};

/* A paragraph of n sentences of 6-20 words each. */
static void para(trove_buf *b, unsigned *seed, int n) {
  for (int s = 0; s < n; s++) {
    int w = 6 + (int)(rand_r(seed) % 15);
    for (int i = 0; i < w; i++) {
      const char *x = words[rand_r(seed) % 20];
      if (i == 0) {
        char cap[32];
        snprintf(cap, sizeof cap, "%c%s", x[0] - 32, x + 1);
        trove_buf_puts(b, cap);
      } else {
        trove_buf_printf(b, " %s", x);
      }
    }
    trove_buf_puts(b, s + 1 < n ? ". " : ".");
  }
}

static void sentences_split_prose_and_keep_abbreviations(void) {
  const char *t = "Hello world. This is e.g. a test, by J. Smith! Is it? Yes.\n\nNew "
                  "block here. version 3.11 is out. os.path.join works";
  trove_spans s = {0};
  CHECK(trove_sentences_split(t, strlen(t), &s) == 0);
  const char *want[] = {"Hello world.", "This is e.g. a test, by J. Smith!", "Is it?", "Yes.",
                        "New block here. version 3.11 is out. os.path.join works"};
  CHECK(s.n == 5);
  for (size_t i = 0; i < s.n && i < 5; i++) {
    CHECK(s.v[i].end - s.v[i].start == strlen(want[i]));
    CHECK(memcmp(t + s.v[i].start, want[i], strlen(want[i])) == 0);
  }
  CHECK(trove_sentences_split("", 0, &s) == 0 && s.n == 0);
  CHECK(trove_sentences_split(NULL, 0, &s) == 0 && s.n == 0);
  CHECK(trove_sentences_split("  \n\n ", 5, &s) == 0 && s.n == 0);
  CHECK(trove_sentences_split(NULL, 3, &s) == TROVE_EINVAL);
  CHECK(trove_sentences_split("a", 1, NULL) == TROVE_EINVAL);
  const char *u = "Ça va. Élan vital! «Quote» here.";
  CHECK(trove_sentences_split(u, strlen(u), &s) == 0 && s.n == 3);
  trove_spans_free(&s);
  trove_spans_free(NULL);
}

static void sentences_cover_every_non_space_byte(void) {
  unsigned seed = 7;
  trove_buf b = {0};
  for (int i = 0; i < 20; i++) {
    para(&b, &seed, 1 + i % 5);
    trove_buf_puts(&b, i % 3 ? "\n\n" : "  ");
  }
  trove_spans s = {0};
  CHECK(trove_sentences_split(b.data, b.len, &s) == 0 && s.n >= 40);
  size_t prev = 0;
  for (size_t i = 0; i < s.n; i++) {
    CHECK(s.v[i].start < s.v[i].end);
    for (size_t p = prev; p < s.v[i].start; p++)
      CHECK(space(b.data[p]));
    prev = s.v[i].end;
  }
  for (size_t p = prev; p < b.len; p++)
    CHECK(space(b.data[p]));
  trove_spans_free(&s);
  trove_buf_free(&b);
}

static void split_synthetic_document_keeps_budget_overlap_and_headings(void) {
  synth d = {0};
  unsigned seed = 42;
  char h[64];
  for (int sec = 0; sec < 8; sec++) {
    snprintf(h, sizeof h, "Section %d on sockets", sec);
    add_block(&d, TROVE_BLOCK_HEADING, 2, h);
    for (int p = 0; p < 4; p++) {
      trove_buf b = {0};
      para(&b, &seed, 2 + (sec + p) % 9);
      add_block(&d, TROVE_BLOCK_PARA, 0, b.data);
      trove_buf_free(&b);
    }
    add_block(&d, TROVE_BLOCK_CODE, 0, "int fd = socket(AF_INET, SOCK_STREAM, 0);\n"
                                       "if (fd < 0)\n\n  return -1;");
  }
  trove_passages ps = {0};
  trove_err err = {0};
  CHECK(trove_passage_split(emb, "The socket guide", d.text.data, d.text.len, d.blocks, d.nb,
                            NULL, &ps, &err) == 0);
  CHECK(ps.n > 16);
  size_t ov = check_split(d.text.data, d.text.len, &ps, 128);
  CHECK(ov > 0);
  size_t full = 0;
  for (size_t i = 0; i < ps.n; i++) {
    CHECK(ps.v[i].heading && strncmp(ps.v[i].heading, "Section ", 8) == 0);
    CHECK(strncmp(ps.v[i].input, "The socket guide - Section ", 27) == 0);
    /* the heading is the last one at or before the start */
    const char *at = strstr(d.text.data, ps.v[i].heading);
    CHECK(at && (size_t)(at - d.text.data) <= ps.v[i].start);
    if (ps.v[i].tokens >= 96)
      full++;
  }
  CHECK(full * 3 >= ps.n); /* passages are filled, not cut tiny */
  /* a passage starts at each heading (no passage spans two sections'
   * starts without starting at the second heading) */
  size_t at_heading = 0;
  for (size_t i = 0; i < ps.n; i++)
    for (size_t b = 0; b < d.nb; b++)
      if (d.blocks[b].kind == TROVE_BLOCK_HEADING && d.blocks[b].start == ps.v[i].start)
        at_heading++;
  CHECK(at_heading >= 6);
  /* smaller budget, no prefix, no overlap */
  trove_passage_opts o;
  trove_passage_opts_default(&o);
  o.max_tokens = 32;
  o.overlap = 0;
  o.no_prefix = true;
  CHECK(trove_passage_split(emb, "T", d.text.data, d.text.len, d.blocks, d.nb, &o, &ps, NULL) ==
        0);
  CHECK(check_split(d.text.data, d.text.len, &ps, 32) == 0);
  CHECK(ps.n > 40 && strncmp(ps.v[0].input, "Section 0", 9) == 0);
  trove_passages_free(&ps);
  trove_buf_free(&d.text);
}

static void split_long_sentence_and_huge_words_safely(void) {
  trove_buf b = {0};
  unsigned seed = 3;
  for (int i = 0; i < 3000; i++) /* one sentence, no punctuation */
    trove_buf_printf(&b, "%s%s", i ? " " : "", words[rand_r(&seed) % 20]);
  trove_buf_puts(&b, " ");
  for (int i = 0; i < 20000; i++) /* a 20,000-letter word */
    trove_buf_putc(&b, (char)('a' + i % 26));
  trove_buf_puts(&b, " ");
  for (int i = 0; i < 3000; i++) /* CJK: unknown to the model, one token per run */
    trove_buf_puts(&b, "語");
  trove_buf_puts(&b, " ");
  for (int i = 0; i < 2000; i++) /* full-width: NFKC rewrites, one range per stretch */
    trove_buf_puts(&b, "ＡＢ");
  trove_buf_puts(&b, " ");
  for (int i = 0; i < 1000; i++)
    trove_buf_puts(&b, "e\xcc\x81😀"); /* combining accent, emoji */
  trove_passages ps = {0};
  trove_err err = {0};
  CHECK(trove_passage_split(emb, "A title", b.data, b.len, NULL, 0, NULL, &ps, &err) == 0);
  check_split(b.data, b.len, &ps, 128);
  for (size_t i = 0; i < ps.n; i++)
    CHECK(ps.v[i].end - ps.v[i].start <= 4096 && ps.v[i].heading == NULL);
  CHECK(ps.n > 100);
  trove_passages_free(&ps);
  trove_buf_free(&b);
}

static void split_invalid_utf8_and_tiny_budgets(void) {
  char t[3000];
  for (size_t i = 0; i < sizeof t; i++)
    t[i] = (char)(i % 7 == 0 ? ' ' : 0x80 + i % 64); /* stray continuation bytes */
  t[1] = 'x';
  trove_passages ps = {0};
  trove_passage_opts o;
  trove_passage_opts_default(&o);
  o.max_tokens = 8;
  CHECK(trove_passage_split(emb, "a very long title that alone would take many tokens", t,
                            sizeof t, NULL, 0, &o, &ps, NULL) == 0);
  CHECK(ps.n > 0);
  for (size_t i = 0; i < ps.n; i++) {
    CHECK(ps.v[i].tokens <= 8);
    CHECK(count_tokens(ps.v[i].input, ps.v[i].input_len) <= 8);
    CHECK(i == 0 || ps.v[i].start > ps.v[i - 1].start);
  }
  trove_passages_free(&ps);
}

static void split_empty_and_whitespace_give_nothing(void) {
  trove_passages ps = {0};
  CHECK(trove_passage_split(emb, "Title", "", 0, NULL, 0, NULL, &ps, NULL) == 0 && ps.n == 0);
  CHECK(trove_passage_split(emb, NULL, NULL, 0, NULL, 0, NULL, &ps, NULL) == 0 && ps.n == 0);
  CHECK(trove_passage_split(emb, "T", " \n\n\t ", 5, NULL, 0, NULL, &ps, NULL) == 0 && ps.n == 0);
  CHECK(trove_passage_split(emb, "", "x", 1, NULL, 0, NULL, &ps, NULL) == 0 && ps.n == 1);
  CHECK(ps.v[0].start == 0 && ps.v[0].end == 1 && strcmp(ps.v[0].input, "x") == 0);
  trove_passages_free(&ps);
  trove_passages_free(NULL);
}

static void split_bad_arguments_are_einval(void) {
  trove_passages ps = {0};
  trove_err err = {0};
  trove_block bad = {TROVE_BLOCK_PARA, 0, 2, 5};
  CHECK(trove_passage_split(NULL, "", "abc", 3, NULL, 0, NULL, &ps, &err) == TROVE_EINVAL);
  CHECK(trove_passage_split(emb, "", "abc", 3, NULL, 0, NULL, NULL, &err) == TROVE_EINVAL);
  CHECK(trove_passage_split(emb, "", NULL, 3, NULL, 0, NULL, &ps, &err) == TROVE_EINVAL);
  CHECK(trove_passage_split(emb, "", "abc", 3, NULL, 1, NULL, &ps, &err) == TROVE_EINVAL);
  CHECK(trove_passage_split(emb, "", "abc", 3, &bad, 1, NULL, &ps, &err) == TROVE_EINVAL);
  CHECK(strstr(err.msg, "block 0") != NULL);
  trove_passage_opts o;
  trove_passage_opts_default(&o);
  o.max_tokens = 7;
  CHECK(trove_passage_split(emb, "", "abc", 3, NULL, 0, &o, &ps, &err) == TROVE_EINVAL);
  CHECK(strstr(err.msg, "below 8") != NULL && ps.n == 0);
}

static void split_fault_loop_fails_cleanly(void) {
  synth d = {0};
  unsigned seed = 9;
  add_block(&d, TROVE_BLOCK_HEADING, 1, "Intro");
  trove_buf b = {0};
  para(&b, &seed, 30);
  add_block(&d, TROVE_BLOCK_PARA, 0, b.data);
  trove_buf_free(&b);
  trove_passages ps = {0};
  long n;
  for (n = 0; n < 10000; n++) {
    trove_err err = {0};
    trove_alloc_fail_after(n, false);
    int rc = trove_passage_split(emb, "T", d.text.data, d.text.len, d.blocks, d.nb, NULL, &ps,
                                 &err);
    long failed = trove_alloc_fail_after(-1, false);
    if (rc == 0 && failed == 0)
      break;
    CHECK(rc == TROVE_ENOMEM && ps.n == 0 && ps.v == NULL);
    CHECK(err.code == TROVE_ENOMEM);
  }
  CHECK(n > 5 && n < 10000);
  check_split(d.text.data, d.text.len, &ps, 128);
  trove_passages_free(&ps);
  trove_buf_free(&d.text);
}

int main(void) {
  trove_err err = {0};
  if (trove_embedder_open_use_lite(NULL, &emb, &err)) {
    fprintf(stderr, "cannot open the model: %s\n", err.msg);
    return 1;
  }
  RUN(sentences_split_prose_and_keep_abbreviations);
  RUN(sentences_cover_every_non_space_byte);
  RUN(split_synthetic_document_keeps_budget_overlap_and_headings);
  RUN(split_long_sentence_and_huge_words_safely);
  RUN(split_invalid_utf8_and_tiny_budgets);
  RUN(split_empty_and_whitespace_give_nothing);
  RUN(split_bad_arguments_are_einval);
  RUN(split_fault_loop_fails_cleanly);
  trove_embedder_close(emb);
  return check_done(__FILE__);
}
