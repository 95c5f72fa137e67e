/* dot.c: the dot-product kernels every distance in the index goes through,
 * and the choice between them. The build has no -march=native (binaries must
 * run on any x86-64 and be compared with peers built the same way), so the
 * AVX2+FMA kernel is compiled with a target attribute and picked at run time
 * by __builtin_cpu_supports; elsewhere the portable loop runs. The portable
 * loop keeps four partial sums so compilers vectorise it without -ffast-math.
 */
#include "index_int.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_X86 1
#else
#define HAVE_X86 0
#endif

float trove_index__dot_portable(const float *a, const float *b, size_t n) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; i++)
    s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

#if HAVE_X86
/* Four independent 8-wide accumulators hide the FMA latency (4 cycles, 2 per
 * cycle on Zen and recent Intel), 32 floats per iteration. */
__attribute__((target("avx2,fma"))) static float dot_avx2(const float *a, const float *b,
                                                          size_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
    s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
  }
  for (; i + 8 <= n; i += 8)
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  __m256 s = _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3));
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_movehdup_ps(h));
  float r = _mm_cvtss_f32(h);
  for (; i < n; i++)
    r += a[i] * b[i];
  return r;
}
#endif

trove_index__dot_fn trove_index__dot_pick(void) {
#if HAVE_X86
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return dot_avx2;
#endif
  return trove_index__dot_portable;
}
