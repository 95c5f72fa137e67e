/* fuzz_manifest.c: libFuzzer target for the model loader's parsers. The
 * same bytes are read as a model.json (weightsManifest) and as a vocab.json;
 * each must return 0 or a documented error code, never crash or leak, and a
 * manifest that parses must have offsets that add up without overflow.
 * Build: cmake -DTROVE_FUZZ=ON (scripts/fuzz.sh); fuzz_seeds.c runs the same
 * entry point over fuzz/manifest/ in every build. */
#include "model_int.h"

#include <stdlib.h>

/* Returns 0, or 1 when an invariant is broken. */
int fuzz_manifest_one(const uint8_t *data, size_t size) {
  use_weights w;
  int bad = 0;
  int rc = trove_model__manifest_parse((const char *)data, size, &w, NULL);
  if (rc == 0) {
    size_t end = 0;
    for (size_t i = 0; i < w.n; i++) {
      bad |= w.t[i].offset != end;
      end = w.t[i].offset + 4 * w.t[i].count;
    }
    bad |= end != w.size;
    trove_model__weights_free(&w);
  } else
    bad |= rc != TROVE_ECORRUPT && rc != TROVE_EUNSUPPORTED && rc != TROVE_ENOMEM;
  use_vocab v;
  rc = trove_model__vocab_parse((const char *)data, size, 6, &v, NULL);
  if (rc == 0) {
    for (size_t i = 0; i < v.nodes; i++)
      bad |= v.node_piece[i] >= (int32_t)v.n;
    trove_model__vocab_free(&v);
  } else
    bad |= rc != TROVE_ECORRUPT && rc != TROVE_ENOMEM;
  return bad;
}
