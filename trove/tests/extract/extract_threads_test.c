/* extract_threads_test.c: extraction of different documents runs safely in
 * parallel, as the reprocess pipeline does it. Several threads extract the
 * whole corpus over and over, in different orders, and every result must
 * equal the single-threaded reference byte for byte. Under TSan this also
 * proves there is no shared mutable state (gumbo's included).
 * Run with the corpus directory as its argument. */
#include "extract.h"

#include "check.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { THREADS = 4, ROUNDS = 6 };

static const char *const files[] = {"doc.html",   "blog.html",  "news.html",      "forum.html",
                                    "login.html", "links.html", "truncated.html", "note.md",
                                    "plain.txt"};
enum { NFILES = sizeof files / sizeof files[0] };

static char *input[NFILES];
static size_t input_len[NFILES];
static trove_doc *reference[NFILES];

static int extract(int i, trove_doc **d) {
  const char *f = files[i];
  size_t n = strlen(f);
  if (n > 3 && strcmp(f + n - 3, ".md") == 0)
    return trove_extract_markdown(input[i], input_len[i], d, NULL);
  if (n > 4 && strcmp(f + n - 4, ".txt") == 0)
    return trove_extract_text(input[i], input_len[i], d, NULL);
  return trove_extract_html(input[i], input_len[i], "https://example.org/page", d, NULL);
}

static bool same(const trove_doc *a, const trove_doc *b) {
  return a->kind == b->kind && a->text_len == b->text_len && strcmp(a->text, b->text) == 0 &&
         strcmp(a->title, b->title) == 0 && strcmp(a->byline, b->byline) == 0 &&
         strcmp(a->excerpt, b->excerpt) == 0 && strcmp(a->lang, b->lang) == 0 &&
         a->n_blocks == b->n_blocks &&
         (a->n_blocks == 0 || memcmp(a->blocks, b->blocks, a->n_blocks * sizeof *a->blocks) == 0) &&
         a->link_density == b->link_density;
}

static void *worker(void *arg) {
  long id = (long)arg, *mismatches = malloc(sizeof *mismatches);
  *mismatches = 0;
  for (int r = 0; r < ROUNDS; r++)
    for (int k = 0; k < NFILES; k++) {
      int i = (int)((k * (id + 1) + r) % NFILES); /* each thread its own order */
      trove_doc *d = NULL;
      if (extract(i, &d) != 0 || !same(d, reference[i]))
        ++*mismatches;
      trove_doc_destroy(d);
    }
  return mismatches;
}

static void parallel_extraction_matches_serial(void) {
  pthread_t t[THREADS];
  for (long i = 0; i < THREADS; i++)
    CHECK(pthread_create(&t[i], NULL, worker, (void *)i) == 0);
  for (int i = 0; i < THREADS; i++) {
    void *res = NULL;
    CHECK(pthread_join(t[i], &res) == 0);
    CHECK(res && *(long *)res == 0);
    free(res);
  }
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : "corpus";
  for (int i = 0; i < NFILES; i++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, files[i]);
    FILE *f = fopen(path, "rb");
    if (!f) {
      fprintf(stderr, "cannot open %s\n", path);
      return 1;
    }
    fseek(f, 0, SEEK_END);
    input_len[i] = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    input[i] = malloc(input_len[i] + 1);
    if (fread(input[i], 1, input_len[i], f) != input_len[i])
      return 1;
    fclose(f);
    if (extract(i, &reference[i]) != 0)
      return 1;
  }
  RUN(parallel_extraction_matches_serial);
  for (int i = 0; i < NFILES; i++) {
    trove_doc_destroy(reference[i]);
    free(input[i]);
  }
  return check_done("extract_threads_test");
}
