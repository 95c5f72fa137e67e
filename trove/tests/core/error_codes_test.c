/* error_codes_test.c: trove's and sluice's error codes cannot be taken for
 * one another. Every TROVE_E* and SL_E* code has a message of its own
 * (never "unknown error", never another code's message, across both sets),
 * and no trove code equals a sluice code. The codes are listed here from the
 * compiled enums; the headers (argv[1] sluice.h, argv[2] core.h) are read
 * too, so a code added to either without a line here fails the test. */
#include "check.h"
#include "core.h"
#include "sluice.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

typedef struct code {
  const char *name;
  int value;
} code;

#define C(x) {#x, x}
static const code sl_codes[] = {
    C(SL_EINVAL),    C(SL_ENOMEM), C(SL_EAGAIN), C(SL_EBUSY), C(SL_ETIMEDOUT), C(SL_ECANCELED),
    C(SL_ECLOSED),   C(SL_EFULL),  C(SL_EEMPTY), C(SL_ESTALL),
};
static const code trove_codes[] = {
    C(TROVE_EINVAL), C(TROVE_ENOMEM),      C(TROVE_EIO),  C(TROVE_ENOENT),
    C(TROVE_ECORRUPT), C(TROVE_EBUSY),     C(TROVE_EEXIST), C(TROVE_EUNSUPPORTED),
    C(TROVE_ENET),   C(TROVE_ECANCELED),   C(TROVE_ERANGE), C(TROVE_EDB),
};
#undef C
enum { N_SL = sizeof sl_codes / sizeof *sl_codes, N_TROVE = sizeof trove_codes / sizeof *trove_codes };

static const char *sl_header = "", *trove_header = "";

/* Counts the enumerators "PREFIX_E<NAME> = " in the header at path, and
 * checks each is one of list[0..n). -1 when the file cannot be read. */
static int header_codes(const char *path, const char *prefix, const code *list, size_t n) {
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "  cannot read %s\n", path);
    return -1;
  }
  char line[512], name[64];
  int found = 0;
  size_t plen = strlen(prefix);
  while (fgets(line, sizeof line, f)) {
    const char *p = line;
    while (isspace((unsigned char)*p))
      p++;
    if (strncmp(p, prefix, plen) != 0 || p[plen] != 'E')
      continue;
    size_t k = 0;
    while (k + 1 < sizeof name && (isupper((unsigned char)p[k]) || p[k] == '_'))
      name[k] = p[k], k++;
    name[k] = '\0';
    const char *q = p + k;
    while (*q == ' ')
      q++;
    if (*q != '=')
      continue; /* a use in a comment or a macro, not an enumerator */
    found++;
    bool listed = false;
    for (size_t i = 0; i < n; i++)
      listed |= strcmp(list[i].name, name) == 0;
    if (!listed)
      fprintf(stderr, "  %s declares %s, which this test does not list\n", path, name);
    CHECK(listed);
  }
  fclose(f);
  return found;
}

static void every_code_in_the_headers_is_listed(void) {
  CHECK(header_codes(sl_header, "SL_", sl_codes, N_SL) == N_SL);
  CHECK(header_codes(trove_header, "TROVE_", trove_codes, N_TROVE) == N_TROVE);
}

static void no_trove_code_equals_a_sluice_code(void) {
  for (size_t i = 0; i < N_TROVE; i++) {
    CHECK(trove_codes[i].value < 0 && trove_is_trove_code(trove_codes[i].value));
    for (size_t k = 0; k < N_SL; k++) {
      if (trove_codes[i].value == sl_codes[k].value)
        fprintf(stderr, "  %s == %s\n", trove_codes[i].name, sl_codes[k].name);
      CHECK(trove_codes[i].value != sl_codes[k].value);
    }
  }
  for (size_t k = 0; k < N_SL; k++)
    CHECK(sl_codes[k].value < 0 && !trove_is_trove_code(sl_codes[k].value));
}

static void every_code_has_a_message_of_its_own(void) {
  const char *msg[N_SL + N_TROVE];
  const char *name[N_SL + N_TROVE];
  size_t n = 0;
  for (size_t i = 0; i < N_SL; i++)
    name[n] = sl_codes[i].name, msg[n++] = sl_strerror(sl_codes[i].value);
  for (size_t i = 0; i < N_TROVE; i++)
    name[n] = trove_codes[i].name, msg[n++] = trove_strerror(trove_codes[i].value);
  for (size_t i = 0; i < n; i++) {
    CHECK(msg[i] && msg[i][0] && strcmp(msg[i], "unknown error") != 0);
    for (size_t k = i + 1; k < n; k++) {
      if (strcmp(msg[i], msg[k]) == 0)
        fprintf(stderr, "  %s and %s both say \"%s\"\n", name[i], name[k], msg[i]);
      CHECK(strcmp(msg[i], msg[k]) != 0);
    }
  }
  /* each library names only its own codes */
  for (size_t i = 0; i < N_TROVE; i++)
    CHECK(strcmp(sl_strerror(trove_codes[i].value), "unknown error") == 0);
  for (size_t i = 0; i < N_SL; i++)
    CHECK(strcmp(trove_strerror(sl_codes[i].value), "unknown error") == 0);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: error_codes_test SLUICE_H CORE_H\n");
    return 2;
  }
  sl_header = argv[1];
  trove_header = argv[2];
  RUN(every_code_in_the_headers_is_listed);
  RUN(no_trove_code_equals_a_sluice_code);
  RUN(every_code_has_a_message_of_its_own);
  return check_done("error_codes_test");
}
