/* extract_bench.c: extraction throughput on a directory tree of HTML pages
 * (by default the Python documentation, the demo corpus), one core. Prints
 * CPU seconds for gumbo's parse alone and for the whole extraction, the
 * count of pages of each kind, and a `peer=trove` line. Not a test: timings
 * are reported, never asserted. Usage: extract_bench [DIR] */
#define _XOPEN_SOURCE 700
#include "extract.h"

#include <ftw.h>
#include <gumbo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double parse_s, extract_s;
static size_t bytes, pages, kinds[3], failed;

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw) {
  (void)ftw;
  size_t n = strlen(path);
  if (type != FTW_F || n < 5 || strcmp(path + n - 5, ".html") != 0)
    return 0;
  FILE *f = fopen(path, "rb");
  char *b = f ? malloc((size_t)st->st_size + 1) : NULL;
  size_t len = b ? fread(b, 1, (size_t)st->st_size, f) : 0;
  if (f)
    fclose(f);
  if (!b)
    return 0;
  double t0 = cpu_now();
  GumboOptions opt = kGumboDefaultOptions;
  opt.max_errors = 0; /* as the extractor parses */
  GumboOutput *g = gumbo_parse_with_options(&opt, b, len);
  gumbo_destroy_output(&opt, g);
  double t1 = cpu_now();
  trove_doc *d = NULL;
  int rc = trove_extract_html(b, len, NULL, &d, NULL);
  double t2 = cpu_now();
  parse_s += t1 - t0;
  extract_s += t2 - t1;
  bytes += len;
  pages++;
  if (rc)
    failed++;
  else
    kinds[d->kind]++;
  trove_doc_destroy(d);
  free(b);
  return 0;
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : "/usr/share/doc/python3.11/html";
  if (nftw(dir, visit, 16, FTW_PHYS) != 0) {
    fprintf(stderr, "extract_bench: cannot walk %s\n", dir);
    return 1;
  }
  printf("%zu pages, %.1f MB: %zu articles, %zu link hubs, %zu without article, %zu failed\n",
         pages, (double)bytes / 1e6, kinds[TROVE_DOC_ARTICLE], kinds[TROVE_DOC_LINK_HUB],
         kinds[TROVE_DOC_NONE], failed);
  printf("gumbo parse alone %.2f s CPU; full extraction %.2f s CPU (%.1f MB/s, %.2f ms/page)\n",
         parse_s, extract_s, (double)bytes / 1e6 / extract_s, extract_s * 1e3 / (double)pages);
  printf("peer=trove bench=extract pages=%zu cpu_s=%.3f mb_per_s=%.2f\n", pages, extract_s,
         (double)bytes / 1e6 / extract_s);
  return 0;
}
