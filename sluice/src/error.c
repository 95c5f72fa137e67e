/* error.c: names for sluice's error codes, and the monotonic clock. */
#include "internal.h"

#include <time.h>

const char *sl_strerror(int code) {
  switch (code) {
  case SL_OK: return "success";
  case SL_EINVAL: return "invalid argument";
  case SL_ENOMEM: return "out of memory";
  case SL_EAGAIN: return "cannot create a thread";
  case SL_EBUSY: return "object in use";
  case SL_ETIMEDOUT: return "timed out";
  case SL_ECANCELED: return "canceled";
  case SL_ECLOSED: return "channel closed";
  case SL_EFULL: return "channel full";
  case SL_EEMPTY: return "nothing ready";
  case SL_ESTALL: return "stalled: no progress";
  default: return "unknown error";
  }
}

int64_t sl_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
