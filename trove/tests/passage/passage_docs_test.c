/* passage_docs_test.c: every page of a real HTML tree (argv[1], the Python
 * 3.11 docs) through extract and the splitter; every passage's model input
 * is re-tokenized with the real tokenizer and must fit 128 tokens, the
 * passages must cover the text and carry the heading they sit under.
 * Reports skipped (exit 77) when the tree is absent. Prints the passage
 * figures. */
#include "passage.h"

#include "check.h"

#include <ftw.h>
#include <stdlib.h>
#include <string.h>

static trove_embedder *emb;
static const char *root;
static size_t pages, passages, tokens_sum, full, over, uncovered, bad_heading, step_i;

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc((size_t)n + 1);
  if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
    free(b);
    b = NULL;
  }
  fclose(f);
  *len = (size_t)n;
  return b;
}

static bool space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

static int one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)ftw;
  size_t pl = strlen(path);
  if (flag != FTW_F || pl < 5 || strcmp(path + pl - 5, ".html") != 0)
    return 0;
  if (step_i++ % check_scale())
    return 0;
  size_t len;
  char *html = slurp(path, &len);
  if (!html)
    return 0;
  trove_doc *doc = NULL;
  if (trove_extract_html(html, len, NULL, &doc, NULL) == 0) {
    trove_passages ps = {0};
    trove_err err = {0};
    int rc = trove_passage_split(emb, doc->title, doc->text, doc->text_len, doc->blocks,
                                 doc->n_blocks, NULL, &ps, &err);
    CHECK(rc == 0);
    if (rc)
      fprintf(stderr, "%s: %s\n", path, err.msg);
    pages++;
    trove_tokens t = {0};
    size_t covered = 0;
    for (size_t i = 0; i < ps.n; i++) {
      trove_passage *p = &ps.v[i];
      CHECK(trove_embedder_tokenize(emb, p->input, p->input_len, &t, NULL) == 0);
      if (t.n > 128 || t.n != p->tokens)
        over++;
      tokens_sum += t.n;
      full += t.n >= 100;
      for (size_t b = covered; b < p->start; b++)
        uncovered += !space(doc->text[b]);
      covered = p->end > covered ? p->end : covered;
      /* the heading is the text of a heading block starting at or before */
      if (p->heading) {
        bool found = false;
        for (size_t b = 0; b < doc->n_blocks && doc->blocks[b].start <= p->start; b++)
          found |= doc->blocks[b].kind == TROVE_BLOCK_HEADING &&
                   doc->blocks[b].len == strlen(p->heading) &&
                   memcmp(doc->text + doc->blocks[b].start, p->heading, doc->blocks[b].len) == 0;
        bad_heading += !found;
      }
    }
    for (size_t b = covered; b < doc->text_len; b++)
      uncovered += !space(doc->text[b]);
    passages += ps.n;
    trove_tokens_free(&t);
    trove_passages_free(&ps);
  }
  trove_doc_destroy(doc);
  free(html);
  return 0;
}

static void python_docs_passages_fit_and_cover(void) {
  nftw(root, one, 16, FTW_PHYS);
  fprintf(stderr, "pages=%zu passages=%zu mean_tokens=%.1f share_100plus=%.2f\n", pages,
          passages, passages ? (double)tokens_sum / (double)passages : 0.0,
          passages ? (double)full / (double)passages : 0.0);
  CHECK(pages > 0);
  CHECK(over == 0);
  CHECK(uncovered == 0);
  CHECK(bad_heading == 0);
}

int main(int argc, char **argv) {
  root = argc > 1 ? argv[1] : "/usr/share/doc/python3.11/html";
  struct stat st;
  if (stat(root, &st) != 0) {
    char why[512];
    snprintf(why, sizeof why, "%s is absent (scripts/deps.sh demo installs python3.11-doc)", root);
    return check_skip(__FILE__, why);
  }
  trove_err err = {0};
  if (trove_embedder_open_use_lite(NULL, &emb, &err)) {
    fprintf(stderr, "cannot open the model: %s\n", err.msg);
    return 1;
  }
  RUN(python_docs_passages_fit_and_cover);
  trove_embedder_close(emb);
  return check_done(__FILE__);
}
