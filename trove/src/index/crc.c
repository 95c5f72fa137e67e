/* crc.c: CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the index
 * file's checksum. Chosen over CRC32 because x86-64 computes it in hardware
 * (SSE4.2 `crc32`), picked at run time like dot.c's kernels, with a
 * byte-wise table fallback. A load must check ~200 MB in a few tens of ms;
 * one crc32 chain retires 8 bytes per 3 cycles (the instruction's latency),
 * so the file is checksummed in independent blocks and trove_index__crc32c_blocks
 * runs three blocks' chains interleaved, which fills the pipeline. */
#include "index_int.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define HAVE_X86 1
#else
#define HAVE_X86 0
#endif

static uint32_t table[256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void table_init(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++)
      c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
    table[i] = c;
  }
}

/* Raw update, no pre/post inversion. */
static uint32_t raw_portable(uint32_t c, const uint8_t *p, size_t n) {
  pthread_once(&table_once, table_init);
  for (size_t i = 0; i < n; i++)
    c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
  return c;
}

uint32_t trove_index__crc32c_portable(uint32_t crc, const void *p, size_t n) {
  return ~raw_portable(~crc, p, n);
}

#if HAVE_X86
__attribute__((target("sse4.2"))) static uint32_t raw_hw(uint32_t c, const uint8_t *p,
                                                        size_t n) {
  uint64_t c64 = c;
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    c64 = _mm_crc32_u64(c64, w);
  }
  c = (uint32_t)c64;
  for (; n > 0; n--, p++)
    c = _mm_crc32_u8(c, *p);
  return c;
}

/* Three blocks of bs bytes (a multiple of 8) at once, each from crc 0. */
__attribute__((target("sse4.2"))) static void three_hw(const uint8_t *p, size_t bs,
                                                      uint32_t out[3]) {
  uint64_t a = ~0u, b = ~0u, c = ~0u;
  const uint8_t *p1 = p + bs, *p2 = p + 2 * bs;
  for (size_t i = 0; i < bs; i += 8) {
    uint64_t w0, w1, w2;
    memcpy(&w0, p + i, 8);
    memcpy(&w1, p1 + i, 8);
    memcpy(&w2, p2 + i, 8);
    a = _mm_crc32_u64(a, w0);
    b = _mm_crc32_u64(b, w1);
    c = _mm_crc32_u64(c, w2);
  }
  out[0] = ~(uint32_t)a;
  out[1] = ~(uint32_t)b;
  out[2] = ~(uint32_t)c;
}
#endif

static bool have_hw(void) {
#if HAVE_X86
  return __builtin_cpu_supports("sse4.2");
#else
  return false;
#endif
}

uint32_t trove_index__crc32c(uint32_t crc, const void *p, size_t n) {
#if HAVE_X86
  if (have_hw())
    return ~raw_hw(~crc, p, n);
#endif
  return trove_index__crc32c_portable(crc, p, n);
}

void trove_index__crc32c_blocks(const void *p, size_t n, size_t bs, uint32_t *out) {
  const uint8_t *b = p;
  size_t i = 0;
#if HAVE_X86
  if (have_hw() && bs % 8 == 0)
    for (; n - i >= 3 * bs; i += 3 * bs, out += 3)
      three_hw(b + i, bs, out);
#endif
  for (; i < n; i += bs)
    *out++ = trove_index__crc32c(0, b + i, n - i < bs ? n - i : bs);
}
