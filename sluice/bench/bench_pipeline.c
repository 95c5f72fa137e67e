/* bench_pipeline.c: workload pipeline (../shared/peers/README.md). Not written yet: it
 * prints a note and no result line, as the peers' CLI asks. */
#include "bench.h"

int bench_pipeline(unsigned threads, const char *variant) {
  (void)threads, (void)variant;
  fprintf(stderr, "# sluice-bench: workload pipeline not implemented yet\n");
  return 0;
}
