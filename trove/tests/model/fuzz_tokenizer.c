/* fuzz_tokenizer.c: libFuzzer target for the tokenizer. Any bytes are a
 * text; tokenizing must succeed (or fail with ENOMEM/ERANGE only) and give
 * ids inside the vocabulary and ordered byte offsets inside the text (on
 * valid UTF-8 the tokenizer test also checks character boundaries). The
 * vocabulary is the real model's vocab.json (TROVE_MODEL or the default dir),
 * loaded once.
 * Build: cmake -DTROVE_FUZZ=ON (scripts/fuzz.sh); fuzz_seeds.c runs the same
 * entry point over fuzz/tokenizer/ in every build. */
#include "model_int.h"

#include <stdio.h>
#include <stdlib.h>

static use_vocab vocab;
static int loaded; /* 1 loaded, -1 failed */

static int load(void) {
  if (loaded)
    return loaded;
  char *json;
  size_t len;
  trove_err err = {0};
  loaded = -1;
  if (trove_model__read_file(trove_model_default_dir(), "vocab.json", (size_t)64 << 20, &json, &len,
                             &err) == 0) {
    if (trove_model__vocab_parse(json, len, 6, &vocab, &err) == 0)
      loaded = 1;
    trove_free(json);
  }
  if (loaded < 0)
    fprintf(stderr, "fuzz_tokenizer: %s\n", err.msg);
  return loaded;
}

/* Returns 0, or 1 when an invariant is broken (the caller reports it). */
int fuzz_tokenizer_one(const uint8_t *data, size_t size) {
  if (load() < 0)
    return 1;
  trove_tokens t = {0};
  int rc = trove_model__tokenize(&vocab, (const char *)data, size, &t, NULL);
  int bad = rc != 0 && rc != TROVE_ENOMEM && rc != TROVE_ERANGE;
  for (size_t i = 0; !rc && i < t.n && !bad; i++) {
    bad |= t.ids[i] < 0 || (size_t)t.ids[i] >= vocab.n;
    bad |= t.start[i] > t.end[i] || t.end[i] > size;
    bad |= i > 0 && t.start[i] < t.start[i - 1];
  }
  trove_tokens_free(&t);
  return bad;
}
