/* outside.c: a program outside the sluice tree, built against an installed
 * sluice (install_test.sh builds it with pkg-config and with CMake's
 * find_package). It checks the library it runs with is the header's
 * version, sums 1..N on a pool and passes the parts through a channel, and
 * prints "outside: ok" when every answer is right. */
#include <sluice.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum { N = 100000 };

static void add_range(void *ctx, size_t lo, size_t hi, void *acc) {
  (void)ctx;
  for (size_t i = lo; i < hi; i++)
    *(uint64_t *)acc += i + 1;
}

static void merge(void *ctx, void *acc, const void *other) {
  (void)ctx;
  *(uint64_t *)acc += *(const uint64_t *)other;
}

int main(void) {
  char hdr[32];
  snprintf(hdr, sizeof hdr, "%d.%d.%d", SL_VERSION_MAJOR, SL_VERSION_MINOR, SL_VERSION_PATCH);
  if (strcmp(sl_version(), hdr) != 0) {
    fprintf(stderr, "outside: library %s, header %s\n", sl_version(), hdr);
    return 1;
  }
  uint64_t zero = 0, sum = 0;
  int rc = sl_map_reduce(0, N, 1000, sizeof sum, &zero, add_range, merge, NULL, &sum);
  if (rc || sum != (uint64_t)N * (N + 1) / 2) {
    fprintf(stderr, "outside: sum %llu, rc %s\n", (unsigned long long)sum, sl_strerror(rc));
    return 1;
  }
  sl_chan *ch = NULL;
  if ((rc = sl_chan_create(&ch, "outside", sizeof sum, 1)) != 0 ||
      (rc = sl_chan_send(ch, &sum)) != 0) {
    fprintf(stderr, "outside: channel: %s\n", sl_strerror(rc));
    return 1;
  }
  uint64_t got = 0;
  rc = sl_chan_recv(ch, &got);
  sl_chan_drop_sender(ch); /* both handles gone: the channel is freed */
  sl_chan_drop_receiver(ch);
  if (rc || got != sum) {
    fprintf(stderr, "outside: received %llu, rc %s\n", (unsigned long long)got, sl_strerror(rc));
    return 1;
  }
  printf("outside: ok (sluice %s, sum %llu)\n", sl_version(), (unsigned long long)sum);
  return 0;
}
