/* fuzz_drain.h: reads a source to its end for the fuzz targets of the
 * browser readers, checking what sources.h promises of each web candidate. */
#ifndef TROVE_FUZZ_DRAIN_H
#define TROVE_FUZZ_DRAIN_H

#include "sources.h"

#include <string.h>

/* Drains src and closes it. Returns 0, or 1 when a candidate is not a
 * normalised http(s) URL without a fragment, or next fails otherwise than
 * by running out of memory. */
static inline int fuzz_drain(trove_source *src) {
  trove_batch b = {0};
  int bad = 0, rc;
  while (!bad && (rc = trove_source_next(src, &b, NULL)) > 0) {
    for (size_t i = 0; i < b.n; i++) {
      const trove_candidate *c = &b.items[i];
      bad |= !c->external_id || !trove_url_is_http(c->external_id) ||
             strchr(c->external_id, '#') || c->path != NULL;
    }
  }
  if (!bad)
    bad = rc < 0 && rc != TROVE_ENOMEM;
  trove_batch_clear(&b);
  trove_source_close(src);
  return bad;
}

#endif /* TROVE_FUZZ_DRAIN_H */
