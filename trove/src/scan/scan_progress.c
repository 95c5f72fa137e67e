/* scan_progress.c: progress of a running pipeline on stderr. On a TTY one
 * line is redrawn (sluice calls back every 200 ms): each stage's output
 * count and rate, e.g.
 *   scan docs 3.1s  source 530 | match 530 | read 412 133/s | embed 400 | write 384
 * Elsewhere (a log, a pipe) the same line is printed plainly every 2 s, so
 * logs stay readable. An ETA appears once the source has yielded everything
 * (a directory walk does not know its total up front): the items not yet
 * written at the writer's average rate so far. The same figures go to the
 * caller's on_progress callback (scan.h), if any, as numbers and as the
 * line. Runs on the thread that called sl_pipeline_run. */
#include "scan.h"
#include "scan_int.h"

#include <string.h>
#include <sys/ioctl.h>

void scan_progress_fn(const sl_stage_stats *s, size_t n, double elapsed, void *arg) {
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
    double rate = elapsed > 0 ? (double)count / elapsed : 0;
    used += (size_t)snprintf(line + used, sizeof line - used, "%s %s %llu %.0f/s",
                             i ? " |" : "", s[i].name, (unsigned long long)count, rate);
    if (r.n_stages < sizeof r.stages / sizeof *r.stages)
      r.stages[r.n_stages++] = (trove_scan_stage_progress){s[i].name, (int64_t)count, rate};
  }
  if (p->seen && p->written && p->total_known && used < sizeof line &&
      atomic_load_explicit(p->total_known, memory_order_relaxed)) { /* display snapshots */
    double done = (double)atomic_load_explicit(p->written, memory_order_relaxed);
    double total = (double)atomic_load_explicit(p->seen, memory_order_relaxed);
    if (done > 0 && total >= done && elapsed > 0) {
      r.eta = (total - done) / (done / elapsed);
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

void scan_progress_end(scan_progress *p) {
  if (p && p->tty && p->drawn) {
    fputc('\n', p->out);
    p->drawn = false;
  }
}
