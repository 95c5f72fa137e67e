/* scan_progress.c: progress of a running pipeline on stderr. On a TTY one
 * line is redrawn (sluice calls back every 200 ms): each stage's output
 * count and rate, e.g.
 *   scan docs 3.1s  source 530 | read 412 133/s | embed 1800/6300 passages 95/s | write 384
 * Elsewhere (a log, a pipe) the same line is printed plainly every 2 s, so
 * logs stay readable.
 * The embed stage counts passages (cut so far, and embedded): one batch of
 * long pages can hold thousands, and counted in items it would show 0 for
 * minutes. The ETA comes from passages too, once the first chunk is
 * embedded: the passages still to embed (those cut, plus the items the
 * embed stage has not seen yet at the passages per item so far) at the
 * rate since the first passage was cut; while the source is still yielding
 * it is a lower bound, shown with a "+". Without embedding it is the items
 * not yet written at the writer's rate, once the source has yielded
 * everything (a directory walk does not know its total up front). The same
 * figures go to the caller's on_progress callback (scan.h), if any, as
 * numbers and as the line. Runs on the thread that called
 * sl_pipeline_run. */
#include "scan.h"
#include "scan_int.h"

#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

/* Formats seconds as "45s", "3m20s" or "1h05m". */
static void put_duration(char *out, size_t cap, double s) {
  long t = s < 0 ? 0 : s > 360000 ? 360000 : (long)(s + 0.5);
  if (t < 60)
    snprintf(out, cap, "%lds", t);
  else if (t < 3600)
    snprintf(out, cap, "%ldm%02lds", t / 60, t % 60);
  else
    snprintf(out, cap, "%ldh%02ldm", t / 3600, t % 3600 / 60);
}

/* Seconds since the CLOCK_MONOTONIC time t0_ns. */
static double since_ns(int64_t t0_ns) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ((double)ts.tv_sec * 1e9 + (double)ts.tv_nsec - (double)t0_ns) * 1e-9;
}

/* The ETA from passages (see the top) into *eta, *lower set when it is a
 * lower bound; false when there is none yet. */
static bool embed_eta(const scan_progress *p, double *eta, bool *lower) {
  /* display snapshots (scan_embed_progress) */
  double items = (double)atomic_load_explicit(&p->embed->items, memory_order_relaxed);
  double split = (double)atomic_load_explicit(&p->embed->split, memory_order_relaxed);
  double done = (double)atomic_load_explicit(&p->embed->embedded, memory_order_relaxed);
  int64_t t0 = atomic_load_explicit(&p->embed->t0_ns, memory_order_relaxed);
  double seen = p->seen ? (double)atomic_load_explicit(p->seen, memory_order_relaxed) : items;
  bool final = p->total_known && atomic_load_explicit(p->total_known, memory_order_relaxed);
  double since = t0 ? since_ns(t0) : 0;
  if (!t0 || done <= 0 || items <= 0 || since <= 0)
    return false;
  double left = split - done + (seen > items ? seen - items : 0) * (split / items);
  *eta = left / (done / since);
  *lower = !final && p->seen;
  return true;
}

void trove_scan__progress_fn(const sl_stage_stats *s, size_t n, double elapsed, void *arg) {
  scan_progress *p = arg;
  char line[512];
  trove_scan_progress r = {.what = p->what, .elapsed = elapsed, .eta = -1, .line = line};
  size_t used = (size_t)snprintf(line, sizeof line, "%s %.1fs ", p->what, elapsed);
  for (size_t i = 0; i < n && used < sizeof line; i++) {
    if (strcmp(s[i].name, "batch") == 0 || strcmp(s[i].name, "match") == 0)
      continue; /* they count batches, not items (the summary shows them) */
    uint64_t count = i + 1 == n ? s[i].items_in : s[i].items_out; /* a sink emits nothing */
    if (p->seen && i == 0) /* the source emits batches; show candidates */
      count = (uint64_t)atomic_load_explicit(p->seen, memory_order_relaxed); /* a display snapshot */
    if (p->written && i + 1 == n) /* the writer takes batches; show items */
      count = (uint64_t)atomic_load_explicit(p->written, memory_order_relaxed); /* likewise */
    if (p->embedded && strcmp(s[i].name, "embed") == 0) /* so does embed */
      count = (uint64_t)atomic_load_explicit(p->embedded, memory_order_relaxed); /* likewise */
    int64_t split = p->embed ? atomic_load_explicit(&p->embed->split, memory_order_relaxed) : 0;
    if (split > 0 && strcmp(s[i].name, "embed") == 0) { /* passages: see the top */
      int64_t done = atomic_load_explicit(&p->embed->embedded, memory_order_relaxed);
      int64_t t0 = atomic_load_explicit(&p->embed->t0_ns, memory_order_relaxed);
      double since = t0 ? since_ns(t0) : 0, rate = since > 0 ? (double)done / since : 0.0;
      used += (size_t)snprintf(line + used, sizeof line - used, "%s embed %lld/%lld passages "
                               "%.0f/s", i ? " |" : "", (long long)done, (long long)split, rate);
      if (r.n_stages < sizeof r.stages / sizeof *r.stages)
        r.stages[r.n_stages++] = (trove_scan_stage_progress){s[i].name, done, split, rate, true};
      continue;
    }
    double rate = elapsed > 0 ? (double)count / elapsed : 0;
    used += (size_t)snprintf(line + used, sizeof line - used, "%s %s %llu %.0f/s",
                             i ? " |" : "", s[i].name, (unsigned long long)count, rate);
    if (r.n_stages < sizeof r.stages / sizeof *r.stages)
      r.stages[r.n_stages++] = (trove_scan_stage_progress){s[i].name, (int64_t)count, 0, rate,
                                                           false};
  }
  if (p->embed && embed_eta(p, &r.eta, &r.eta_lower_bound)) {
    char d[32];
    put_duration(d, sizeof d, r.eta);
    if (used < sizeof line)
      used += (size_t)snprintf(line + used, sizeof line - used, " | ETA %s%s", d,
                               r.eta_lower_bound ? "+" : "");
  } else if (p->seen && p->written && p->total_known &&
             atomic_load_explicit(p->total_known, memory_order_relaxed)) { /* display snapshots */
    double done = (double)atomic_load_explicit(p->written, memory_order_relaxed);
    double total = (double)atomic_load_explicit(p->seen, memory_order_relaxed);
    if (done > 0 && total >= done && elapsed > 0) {
      r.eta = (total - done) / (done / elapsed);
      if (used < sizeof line)
        used += (size_t)snprintf(line + used, sizeof line - used, " | ETA %.0fs", r.eta);
    }
  }
  if (p->fn)
    p->fn(&r, p->fn_arg);
  if (p->quiet || (p->fn && !p->tty && elapsed < p->next_log))
    return; /* log lines stay 2 s apart when the callback wants ticks */
  p->next_log = elapsed + 2.0;
  if (p->tty) {
    struct winsize ws;
    /* a wrapped line cannot be redrawn with \r: cut it to the terminal */
    if (ioctl(fileno(p->out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 && ws.ws_col < sizeof line &&
        used >= ws.ws_col)
      line[ws.ws_col - 1] = 0;
    fputs("\r\033[K", p->out);
    trove_term_write(p->out, line, strlen(line), TROVE_TERM_LINE); /* p->what names a source */
    p->drawn = true;
  } else {
    trove_term_line(p->out, "%s", line);
  }
  fflush(p->out);
}

void trove_scan__progress_end(scan_progress *p) {
  if (p && p->tty && p->drawn) {
    fputc('\n', p->out);
    p->drawn = false;
  }
}
