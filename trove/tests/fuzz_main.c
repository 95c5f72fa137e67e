/* fuzz_main.c: libFuzzer's entry point for one fuzz target. add_fuzz_target
 * (trove/CMakeLists.txt) compiles it with FUZZ_ONE defined as the target's
 * fuzz_NAME_one, which checks one input and returns 1 when an invariant
 * broke; fuzz_seeds.c runs the same function over the seeds in every build. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int FUZZ_ONE(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (FUZZ_ONE(data, size))
    abort(); /* an invariant broke: libFuzzer saves the input */
  return 0;
}
