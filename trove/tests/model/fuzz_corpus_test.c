/* fuzz_corpus_test.c: the libFuzzer entry points of fuzz_tokenizer.c and
 * fuzz_manifest.c, run over a small fixed corpus in every build: hand-made
 * edge cases, and deterministic mutations of a real manifest fragment and of
 * real text (fixed seed, so a failure repeats). */
#include "check.h"

#include <stdint.h>
#include <string.h>

int fuzz_tokenizer_one(const uint8_t *data, size_t size);
int fuzz_manifest_one(const uint8_t *data, size_t size);

static const char *const texts[] = {
    "", " ", "a", "hello world", "caf\xc3\xa9", "e\xcc\x81", "\xef\xbc\xa6\xef\xbc\xb5",
    "\xff", "\xc3", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe6\x97\xa5\xe6\x9c\xac",
    "\xf0\x9f\x98\x80\xf0\x9f\x98\x80", "\xef\xb7\xba", "tab\there", "\x00\x01\x02",
    ":30 :00 :) \xe2\x80\x9d" "5",
};

static const char manifest[] =
    "{\"weightsManifest\":[{\"paths\":[\"group1-shard1of1\"],\"weights\":["
    "{\"name\":\"a\",\"shape\":[2,3],\"dtype\":\"float32\"},"
    "{\"name\":\"b\",\"shape\":[],\"dtype\":\"int32\"},"
    "{\"name\":\"c\",\"shape\":[4],\"dtype\":\"float16\"}]}]}";
static const char vocab[] = "[[\"\xef\xbf\xbd\",0],[\"<s>\",0],[\"</s>\",0],[\"x\",0],[\"y\",0],"
                            "[\"z\",0],[\"\xe2\x96\x81the\",-3.5],[\"s\",null],[\"s\",-2]]";

static unsigned long rng = 12345;
static unsigned next(void) {
  rng = rng * 6364136223846793005UL + 1442695040888963407UL;
  return (unsigned)(rng >> 33);
}

/* Mutates a copy of base (n bytes) into buf; returns the new length. */
static size_t mutate(const char *base, size_t n, uint8_t *buf) {
  memcpy(buf, base, n);
  size_t len = n;
  for (unsigned k = 0, edits = 1 + next() % 4; k < edits && len; k++) {
    size_t at = next() % len;
    switch (next() % 4) {
    case 0: len = at; break;                                 /* truncate */
    case 1: buf[at] = (uint8_t)next(); break;                /* random byte */
    case 2: buf[at] = (uint8_t)"{}[]\",:0-9en\\"[next() % 14]; break;
    default: memmove(buf + at, buf + at + 1, len - at - 1), len--; /* delete */
    }
  }
  return len;
}

static void tokenizer_entry_point_holds_on_the_corpus(void) {
  for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
    CHECK(fuzz_tokenizer_one((const uint8_t *)texts[i], strlen(texts[i]) + (i == 15 ? 3 : 0)) == 0);
  uint8_t buf[512];
  const char *base = "The caf\xc3\xa9 \xef\xbc\xa6 na\xc3\xafve \xe6\x97\xa5 e\xcc\x81 :30 ok";
  for (int i = 0; i < 2000; i++)
    CHECK(fuzz_tokenizer_one(buf, mutate(base, strlen(base), buf)) == 0);
}

static void manifest_entry_point_holds_on_the_corpus(void) {
  CHECK(fuzz_manifest_one((const uint8_t *)manifest, sizeof manifest - 1) == 0);
  CHECK(fuzz_manifest_one((const uint8_t *)vocab, sizeof vocab - 1) == 0);
  uint8_t buf[1024];
  for (int i = 0; i < 3000; i++) {
    CHECK(fuzz_manifest_one(buf, mutate(manifest, sizeof manifest - 1, buf)) == 0);
    CHECK(fuzz_manifest_one(buf, mutate(vocab, sizeof vocab - 1, buf)) == 0);
  }
}

int main(void) {
  RUN(tokenizer_entry_point_holds_on_the_corpus);
  RUN(manifest_entry_point_holds_on_the_corpus);
  return check_done("model_fuzz_corpus_test");
}
