/* version_test.c: sl_version() of the linked shared library agrees with the
 * SL_VERSION_* macros of sluice.h and with the build's project version
 * (argv[1]), the three places a version can be read. */
#include "check.h"
#include "sluice.h"

#include <stdio.h>
#include <string.h>

static const char *expected = "";

static void version_matches_header_and_build(void) {
  char hdr[32];
  snprintf(hdr, sizeof hdr, "%d.%d.%d", SL_VERSION_MAJOR, SL_VERSION_MINOR, SL_VERSION_PATCH);
  CHECK(strcmp(sl_version(), hdr) == 0);
  CHECK(strcmp(sl_version(), expected) == 0);
  if (strcmp(sl_version(), expected) != 0)
    fprintf(stderr, "  sl_version() %s, header %s, project %s\n", sl_version(), hdr, expected);
}

int main(int argc, char **argv) {
  if (argc > 1)
    expected = argv[1];
  RUN(version_matches_header_and_build);
  return check_done("version_test");
}
