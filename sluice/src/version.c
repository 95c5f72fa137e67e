/* version.c: sl_version, the library's own copy of sluice.h's version. */
#include "internal.h"

#define SL_STR_(x) #x
#define SL_STR(x) SL_STR_(x)

const char *sl_version(void) {
  return SL_STR(SL_VERSION_MAJOR) "." SL_STR(SL_VERSION_MINOR) "." SL_STR(SL_VERSION_PATCH);
}
