/* dense.c: the matrix products of the forward pass, one path per precision.
 *
 * HOW IT WORKS
 * Every dense layer of USE-lite (y += x W, W of k x n) goes through
 * use__dense_apply, which runs it on the embedder's kernel path:
 *   fp32  dnnl_sgemm on the weights as the package stores them. The
 *         reference path: it matches the package's JavaScript to 1e-5.
 *   int8  W is quantized per output column once, at load: W ~ w8 * scale[c]
 *         with w8 in -127..127. The activations are quantized per row at
 *         each call, asymmetrically so the whole 0..255 range is used:
 *         x ~ sa[r] * (q - zp[r]). dnnl_gemm_u8s8s32 gives the int32 sums
 *         acc = q w8 (VNNI's vpdpbusd), and one pass dequantizes them and
 *         removes the zero point through the column sums of w8:
 *           y[r][c] += sa[r] * scale[c] * (acc[r][c] - zp[r] * colsum[c]).
 * The attention's small products (QK^T, softmax V) stay fp32 on every path
 * (use__sgemm): they are a few percent of the work and feed a softmax. So do
 * two dense layers marked fp32_only: the first layer's QKV projection (4% of
 * the FLOPs), whose int8 rounding moves the softmax over raw embeddings the
 * most of any layer (measured layer by layer with bench/embed_accuracy.c,
 * figures in bench/RESULTS.md), and the tanh head, which runs on one pooled
 * row per text, not per token.
 *
 * WHY ONEDNN
 * Kernels must be chosen by what the CPU can do, never by a table of CPU
 * models. oneDNN (Debian's libdnnl 2.6) JIT-compiles its GEMMs for the ISA
 * cpuid reports (AVX2, AVX-512, VNNI, ...), with no setting. Rejected:
 * OpenBLAS, which picks its kernels from a table of CPU models and falls
 * back to generic SSE3 kernels on a model it does not know; BLIS 0.9 from
 * Debian, which ran its generic kernels. The measurements that chose, and
 * their machines, are in bench/RESULTS.md.
 *
 * LIMITS
 * int8 needs VNNI (AVX512_VNNI or AVX-VNNI): without it oneDNN's u8 x s8
 * products pass through saturating 16-bit sums (vpmaddubsw), which 8-bit
 * activations overflow; use__path_available says no and fp32 runs instead.
 * oneDNN is built with OpenMP here; each thread that calls in asks for
 * teams of one (use__dense_thread_init), because trove parallelises across
 * passages on its own threads.
 */
#include "internal.h"

#include <math.h>
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#include <string.h>

/* ---- paths ---------------------------------------------------------------- */

static const char *const path_names[] = {[USE_PATH_AUTO] = "auto", [USE_PATH_FP32] = "fp32",
                                         [USE_PATH_INT8] = "int8"};

const char *use__path_name(use_path p) {
  return p >= USE_PATH_AUTO && p <= USE_PATH_INT8 ? path_names[p] : "?";
}

int use__path_parse(const char *name, use_path *out) {
  for (int p = USE_PATH_AUTO; p <= USE_PATH_INT8; p++)
    if (strcmp(name, path_names[p]) == 0) {
      *out = (use_path)p;
      return 0;
    }
  return TROVE_EINVAL;
}

const char *use__isa_name(void) {
  switch (dnnl_get_effective_cpu_isa()) {
  case dnnl_cpu_isa_sse41: return "sse4.1";
  case dnnl_cpu_isa_avx: return "avx";
  case dnnl_cpu_isa_avx2: return "avx2";
  case dnnl_cpu_isa_avx2_vnni: return "avx2-vnni";
  case dnnl_cpu_isa_avx512_mic:
  case dnnl_cpu_isa_avx512_mic_4ops: return "avx512-mic";
  case dnnl_cpu_isa_avx512_core: return "avx512";
  case dnnl_cpu_isa_avx512_core_vnni: return "avx512-vnni";
  case dnnl_cpu_isa_avx512_core_bf16: return "avx512-bf16";
  case dnnl_cpu_isa_avx512_core_amx: return "avx512-amx";
  default: return "generic";
  }
}

bool use__path_available(use_path p) {
  if (p != USE_PATH_INT8)
    return p == USE_PATH_FP32;
  dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
  /* the ISA values are nested bit sets: avx512_core_vnni's bits are in
   * every later AVX-512 level */
  return isa == dnnl_cpu_isa_avx2_vnni ||
         (isa & dnnl_cpu_isa_avx512_core_vnni) == dnnl_cpu_isa_avx512_core_vnni;
}

use_path use__path_best(void) {
  return use__path_available(USE_PATH_INT8) ? USE_PATH_INT8 : USE_PATH_FP32;
}

void use__dense_thread_init(void) { omp_set_num_threads(1); }

/* ---- weights -------------------------------------------------------------- */

int use__dense_quantize(use_dense *d, trove_err *err) {
  size_t k = d->k, n = d->n;
  if (d->fp32_only)
    return 0;
  d->w8 = trove_malloc(k * n);
  d->scale = trove_malloc(n * sizeof *d->scale);
  d->colsum = trove_calloc(n, sizeof *d->colsum);
  d->zcorr = trove_malloc(n * sizeof *d->zcorr);
  if (!d->w8 || !d->scale || !d->colsum || !d->zcorr) {
    use__dense_free(d);
    return trove_err_set(err, TROVE_ENOMEM, "out of memory quantizing the model");
  }
  for (size_t c = 0; c < n; c++) {
    float mx = 0;
    for (size_t i = 0; i < k; i++)
      mx = fabsf(d->w[i * n + c]) > mx ? fabsf(d->w[i * n + c]) : mx;
    d->scale[c] = mx > 0 ? mx / 127.0f : 1.0f;
  }
  for (size_t i = 0; i < k; i++)
    for (size_t c = 0; c < n; c++) {
      long v = lrintf(d->w[i * n + c] / d->scale[c]);
      d->w8[i * n + c] = (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v);
      d->colsum[c] += d->w8[i * n + c];
    }
  for (size_t c = 0; c < n; c++)
    d->zcorr[c] = d->scale[c] * (float)d->colsum[c];
  return 0;
}

void use__dense_free(use_dense *d) {
  trove_free(d->w8);
  trove_free(d->scale);
  trove_free(d->colsum);
  trove_free(d->zcorr);
  d->zcorr = NULL;
  d->w8 = NULL;
  d->scale = NULL;
  d->colsum = NULL;
}

/* ---- products ------------------------------------------------------------- */

/* Rows per int8 product: 256 x 1536 int32 sums (1.5 MB) stay in a core's L2
 * between the product and the dequantization, and M = 256 keeps the GEMM
 * near its peak. */
enum { INT8_BLOCK_ROWS = 256 };

static int dnnl_fail(dnnl_status_t s, const char *what, trove_err *err) {
  if (s == dnnl_out_of_memory)
    return trove_err_set(err, TROVE_ENOMEM, "out of memory in oneDNN's %s", what);
  return trove_err_set(err, TROVE_EUNSUPPORTED, "oneDNN's %s failed (status %d)", what, (int)s);
}

int use__sgemm(bool trans_b, size_t m, size_t n, size_t k, const float *a, size_t lda,
               const float *b, size_t ldb, float beta, float *c, size_t ldc, trove_err *err) {
  dnnl_status_t s = dnnl_sgemm('N', trans_b ? 'T' : 'N', (dnnl_dim_t)m, (dnnl_dim_t)n,
                               (dnnl_dim_t)k, 1.0f, a, (dnnl_dim_t)lda, b, (dnnl_dim_t)ldb,
                               beta, c, (dnnl_dim_t)ldc);
  return s == dnnl_success ? 0 : dnnl_fail(s, "sgemm", err);
}

/* q[r] = x[r] quantized to 0..255 with sa[r] and zp[r], for rows rows of
 * width k (a multiple of 16: every layer width of USE-lite is). The range always holds 0, so zero (ReLU's output, mostly) is
 * exact and a row of zeros gets zp 0. */
USE_VECTOR_CLONES
static void quantize_rows(const float *x, size_t ldx, size_t rows, size_t k, uint8_t *q,
                          float *sa, int32_t *zp) {
  for (size_t r = 0; r < rows; r++) {
    const float *xr = x + r * ldx;
    float lo = 0, hi = 0;
    use__range16(xr, k, &lo, &hi);
    float s = hi > lo ? (hi - lo) / 255.0f : 1.0f, inv = 1.0f / s;
    float z = nearbyintf(-lo * inv);
    sa[r] = s;
    zp[r] = (int32_t)z;
    uint8_t *qr = q + r * k;
    for (size_t i = 0; i < k; i++) {
      float v = xr[i] * inv + z + 0.5f; /* >= 0 up to rounding: truncation rounds */
      v = v < 0 ? 0 : v > 255 ? 255 : v;
      qr[i] = (uint8_t)(int32_t)v;
    }
  }
}

/* y[r] += dequantized acc[r]: see HOW IT WORKS, with scale[c] * colsum[c]
 * taken from d->zcorr. */
USE_VECTOR_CLONES
static void dequantize_add(const use_dense *d, const int32_t *acc, size_t rows, const float *sa,
                           const int32_t *zp, float *y, size_t ldy) {
  size_t n = d->n;
  for (size_t r = 0; r < rows; r++) {
    const int32_t *ar = acc + r * n;
    float *yr = y + r * ldy, f = sa[r], fz = sa[r] * (float)zp[r];
    for (size_t c = 0; c < n; c++)
      yr[c] += f * (d->scale[c] * (float)ar[c]) - fz * d->zcorr[c];
  }
}

int use__dense_apply(const use_dense *d, use_path path, const float *x, size_t ldx, size_t rows,
                     float *y, size_t ldy, use_qwork *qw, trove_err *err) {
  if (path != USE_PATH_INT8 || d->fp32_only)
    return use__sgemm(false, rows, d->n, d->k, x, ldx, d->w, d->n, 1.0f, y, ldy, err);
  /* in blocks of rows, so each block's int32 sums are still in the core's
   * cache when they are dequantized */
  for (size_t r0 = 0; r0 < rows; r0 += INT8_BLOCK_ROWS) {
    size_t m = rows - r0 < INT8_BLOCK_ROWS ? rows - r0 : INT8_BLOCK_ROWS;
    quantize_rows(x + r0 * ldx, ldx, m, d->k, qw->q, qw->sa, qw->zp);
    int32_t co = 0;
    dnnl_status_t s = dnnl_gemm_u8s8s32('N', 'N', 'F', (dnnl_dim_t)m, (dnnl_dim_t)d->n,
                                        (dnnl_dim_t)d->k, 1.0f, qw->q, (dnnl_dim_t)d->k, 0, d->w8,
                                        (dnnl_dim_t)d->n, 0, 0.0f, qw->acc, (dnnl_dim_t)d->n, &co);
    if (s != dnnl_success)
      return dnnl_fail(s, "gemm_u8s8s32", err);
    dequantize_add(d, qw->acc, m, qw->sa, qw->zp, y + r0 * ldy, ldy);
  }
  return 0;
}
