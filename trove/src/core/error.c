/* error.c: trove's error codes and the error record that carries one line a
 * user can act on. See core.h for the conventions. */
#include "core.h"

#include <stdio.h>
#include <string.h>

const char *trove_strerror(int code) {
  switch (code) {
  case TROVE_OK: return "success";
  case TROVE_EINVAL: return "invalid argument or input";
  case TROVE_ENOMEM: return "allocation failed";
  case TROVE_EIO: return "input/output error";
  case TROVE_ENOENT: return "not found";
  case TROVE_ECORRUPT: return "damaged file or database";
  case TROVE_EBUSY: return "locked by another process";
  case TROVE_EEXIST: return "already exists";
  case TROVE_EUNSUPPORTED: return "not supported";
  case TROVE_ENET: return "network error";
  case TROVE_ECANCELED: return "stopped";
  case TROVE_ERANGE: return "size or count out of range";
  case TROVE_EDB: return "database error";
  default: return "unknown error";
  }
}

static int err_vset(trove_err *err, int code, const char *fmt, va_list ap) {
  if (err) {
    err->code = code;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  }
  return code;
}

int trove_err_set(trove_err *err, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  err_vset(err, code, fmt, ap);
  va_end(ap);
  return code;
}

int trove_err_keep(trove_err *err, int code, const char *fmt, ...) {
  if (err && err->code != 0)
    return code;
  va_list ap;
  va_start(ap, fmt);
  err_vset(err, code, fmt, ap);
  va_end(ap);
  return code;
}

void trove_err_clear(trove_err *err) {
  if (err) {
    err->code = 0;
    err->msg[0] = '\0';
  }
}
