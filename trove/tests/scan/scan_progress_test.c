/* scan_progress_test.c: the progress line (trove_scan__progress_fn) counts the
 * embed stage in passages and gives an ETA from them as soon as the first
 * chunk is embedded, long before the first batch of items is written:
 * with 64 items holding 1000 passages, counting items showed "embed 0"
 * and no ETA for minutes. The ETA is a lower bound ("+") while the source
 * is still yielding. The on_progress callback gets the same figures as
 * numbers. Called directly with made-up stage figures. */
#include "scan.h"
#include "scan_int.h"

#include "check.h"

#include <string.h>
#include <time.h>

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The line trove_scan__progress_fn prints for p, into out. */
static void line(scan_progress *p, char *out, size_t cap) {
  static const sl_stage_stats st[] = {
      {.name = "source", .items_out = 2}, {.name = "read", .items_out = 128},
      {.name = "batch", .items_out = 2},  {.name = "embed", .items_out = 0},
      {.name = "write", .items_in = 0}};
  FILE *f = tmpfile();
  CHECK(f != NULL);
  if (!f)
    return;
  p->out = f;
  trove_scan__progress_fn(st, sizeof st / sizeof *st, 10.0, p);
  rewind(f);
  size_t n = fread(out, 1, cap - 1, f);
  out[n] = 0;
  fclose(f);
}

static void embed_counts_passages_and_gives_an_early_eta(void) {
  scan_embed_progress e = {0};
  _Atomic int64_t seen = 128, written = 0, through = 0;
  _Atomic bool total_known = true;
  scan_progress p = {.what = "scan docs", .seen = &seen, .written = &written,
                     .embedded = &through, .total_known = &total_known, .embed = &e};
  char out[1024];
  line(&p, out, sizeof out); /* nothing cut yet: items, no ETA */
  CHECK(strstr(out, "| embed 0 0/s |") && !strstr(out, "ETA"));
  atomic_store(&e.items, 64);
  atomic_store(&e.split, 1000);
  atomic_store(&e.t0_ns, now_ns() - 10 * INT64_C(1000000000));
  line(&p, out, sizeof out); /* cut, none embedded yet: no rate, no ETA */
  CHECK(strstr(out, "| embed 0/1000 passages 0/s |") && !strstr(out, "ETA"));
  atomic_store(&e.embedded, 100);
  line(&p, out, sizeof out);
  /* 900 passages left of the 1000 cut, and 64 more items at 1000/64 each:
   * 1900 at 10/s */
  CHECK(strstr(out, "| embed 100/1000 passages 10/s |") && strstr(out, "| ETA 3m10s\n"));
  if (!strstr(out, "ETA 3m10s"))
    fprintf(stderr, "  %s", out);
  atomic_store(&total_known, false); /* more to come: a lower bound */
  line(&p, out, sizeof out);
  CHECK(strstr(out, "| ETA 3m10s+\n") != NULL);
  /* without embedding, the writer's ETA once the total is known */
  scan_progress q = {.what = "scan docs", .seen = &seen, .written = &written,
                     .embedded = &through, .total_known = &total_known};
  atomic_store(&total_known, true);
  atomic_store(&written, 64);
  line(&q, out, sizeof out);
  CHECK(strstr(out, "| embed 0 0/s |") && strstr(out, "| ETA 10s\n"));
}

/* The last report the callback got: the embed stage's figures, copied. */
typedef struct got {
  int calls;
  trove_scan_stage_progress embed;
  double eta;
  bool lower;
} got;

static void record(const trove_scan_progress *r, void *arg) {
  got *g = arg;
  g->calls++;
  g->eta = r->eta;
  g->lower = r->eta_lower_bound;
  g->embed = (trove_scan_stage_progress){0};
  for (size_t i = 0; i < r->n_stages; i++)
    if (strcmp(r->stages[i].name, "embed") == 0)
      g->embed = r->stages[i];
}

/* The callback sees passages and the ETA as the line shows them, and the
 * stage's items (no ETA) before any passage is cut. */
static void the_callback_gets_passages_and_the_eta(void) {
  scan_embed_progress e = {0};
  _Atomic int64_t seen = 128, written = 0, through = 3;
  _Atomic bool total_known = false;
  got g = {0};
  scan_progress p = {.what = "scan docs", .seen = &seen, .written = &written,
                     .embedded = &through, .total_known = &total_known, .embed = &e,
                     .fn = record, .fn_arg = &g};
  char out[1024];
  line(&p, out, sizeof out);
  CHECK(g.calls == 1 && !g.embed.passages && g.embed.count == 3 && g.embed.total == 0);
  CHECK(g.eta < 0 && !g.lower);
  atomic_store(&e.items, 64);
  atomic_store(&e.split, 1000);
  atomic_store(&e.embedded, 100);
  atomic_store(&e.t0_ns, now_ns() - 10 * INT64_C(1000000000));
  line(&p, out, sizeof out);
  CHECK(g.calls == 2 && g.embed.passages && g.embed.count == 100 && g.embed.total == 1000);
  CHECK(g.embed.rate > 9 && g.embed.rate <= 10); /* 100 in a little over 10 s */
  CHECK(g.eta >= 190 && g.eta < 200 && g.lower); /* 1900 at 10/s, more to come */
  atomic_store(&total_known, true);
  line(&p, out, sizeof out);
  CHECK(g.calls == 3 && !g.lower);
}

int main(void) {
  RUN(embed_counts_passages_and_gives_an_early_eta);
  RUN(the_callback_gets_passages_and_the_eta);
  return check_done(__FILE__);
}
