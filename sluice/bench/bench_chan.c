/* bench_chan.c: workload chan (../shared/peers/README.md). Not written yet: it
 * prints a note and no result line, as the peers' CLI asks. */
#include "bench.h"

int bench_chan(unsigned threads, const char *variant) {
  (void)threads, (void)variant;
  fprintf(stderr, "# sluice-bench: workload chan not implemented yet\n");
  return 0;
}
