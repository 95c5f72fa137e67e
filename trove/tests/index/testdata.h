/* testdata.h: synthetic vectors for the index tests and benchmark. Uniform
 * random unit vectors in high dimension are all nearly orthogonal (every
 * neighbour is about as far as every other), which no real embedding looks
 * like and which makes any graph index look bad; so the data is clustered:
 * random unit centroids plus Gaussian noise, normalised. Deterministic from
 * the seed. Plain malloc on purpose: fault-injection loops must fail only
 * the index's own allocations. */
#ifndef TROVE_INDEX_TESTDATA_H
#define TROVE_INDEX_TESTDATA_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static inline uint64_t td_next(uint64_t *s) { /* splitmix64 */
  uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static inline double td_unit(uint64_t *s) { /* (0, 1] */
  return ((double)(td_next(s) >> 11) + 1.0) * 0x1.0p-53;
}

static inline float td_gauss(uint64_t *s) { /* Box-Muller */
  return (float)(sqrt(-2.0 * log(td_unit(s))) * cos(6.283185307179586 * td_unit(s)));
}

static inline void td_normalize(float *v, size_t d) {
  double ss = 0;
  for (size_t i = 0; i < d; i++)
    ss += (double)v[i] * v[i];
  float inv = (float)(1.0 / sqrt(ss));
  for (size_t i = 0; i < d; i++)
    v[i] *= inv;
}

/* n unit vectors of dimension d around `clusters` random centroids; noise
 * is the per-coordinate standard deviation relative to a unit centroid
 * (0.5/sqrt(d)-ish spreads a cluster, larger blurs clusters together). */
static inline float *td_clustered(size_t n, size_t d, size_t clusters, float noise,
                                  uint64_t seed) {
  float *c = malloc(clusters * d * sizeof(float)), *v = malloc(n * d * sizeof(float));
  if (!c || !v) {
    free(c);
    free(v);
    return NULL;
  }
  uint64_t s = seed;
  for (size_t i = 0; i < clusters * d; i++)
    c[i] = td_gauss(&s);
  for (size_t i = 0; i < clusters; i++)
    td_normalize(c + i * d, d);
  for (size_t i = 0; i < n; i++) {
    const float *ci = c + (td_next(&s) % clusters) * d;
    for (size_t j = 0; j < d; j++)
      v[i * d + j] = ci[j] + noise * td_gauss(&s);
    td_normalize(v + i * d, d);
  }
  free(c);
  return v;
}

#endif /* TROVE_INDEX_TESTDATA_H */
