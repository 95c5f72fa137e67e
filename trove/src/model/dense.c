/* dense.c: the matrix products of the forward pass, one path per precision.
 *
 * HOW IT WORKS
 * Every dense layer of USE-lite (y += x W, W of k x n) goes through
 * trove_model__dense_apply, which runs it on the embedder's kernel path:
 *   fp32  dnnl_sgemm on the weights as the package stores them. The
 *         reference path: it matches the package's JavaScript to 1e-5.
 *   int8  W is quantized per output column once, at load: W ~ w8 * scale[c]
 *         with w8 in -127..127. The activations are quantized per row at
 *         each call, asymmetrically so the whole 0..255 range is used:
 *         x ~ sa[r] * (q - zp[r]). dnnl_gemm_u8s8s32 gives the int32 sums
 *         acc = q w8 (VNNI's vpdpbusd), and one pass dequantizes them and
 *         removes the zero point through the column sums of w8:
 *           y[r][c] += sa[r] * scale[c] * (acc[r][c] - zp[r] * colsum[c]).
 *   bf16  W is rounded to bfloat16 once, at prepare, and the activations at
 *         each call (round to nearest even); a oneDNN matmul primitive,
 *         created per layer with the row count left to run time, sums in
 *         fp32 (AVX512_BF16's vdpbf16ps) and adds into y (a sum post-op).
 *         oneDNN's BLAS-like API has no bf16 GEMM, hence the primitive.
 * The attention's small products (QK^T, softmax V) stay fp32 on every path
 * (trove_model__sgemm): they are a few percent of the work and feed a softmax. So do
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
 * activations overflow; trove_model__path_available says no and fp32 runs instead.
 * bf16 needs AVX512_BF16 (oneDNN would emulate it elsewhere, slower than
 * fp32); where it exists VNNI does too, and int8 is faster, so auto never
 * picks bf16: it is there to be forced, the closer of the fast paths to fp32.
 * oneDNN is built with OpenMP here; each thread that calls in asks for
 * teams of one (trove_model__dense_thread_init), because trove parallelises across
 * passages on its own threads.
 */
#include "model_int.h"

#include <math.h>
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#include <string.h>

/* ---- paths ---------------------------------------------------------------- */

static const char *const path_names[] = {[USE_PATH_AUTO] = "auto", [USE_PATH_FP32] = "fp32",
                                         [USE_PATH_INT8] = "int8", [USE_PATH_BF16] = "bf16"};

const char *trove_model__path_name(use_path p) {
  return p >= USE_PATH_AUTO && p < USE_PATHS ? path_names[p] : "?";
}

int trove_model__path_parse(const char *name, use_path *out) {
  for (int p = USE_PATH_AUTO; p < USE_PATHS; p++)
    if (strcmp(name, path_names[p]) == 0) {
      *out = (use_path)p;
      return 0;
    }
  return TROVE_EINVAL;
}

const char *trove_model__isa_name(void) {
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

bool trove_model__path_available(use_path p) {
  dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
  /* the ISA values are nested bit sets: avx512_core_vnni's bits are in
   * every later AVX-512 level, avx512_core_bf16's in AMX's */
  switch (p) {
  case USE_PATH_FP32: return true;
  case USE_PATH_INT8:
    return isa == dnnl_cpu_isa_avx2_vnni ||
           (isa & dnnl_cpu_isa_avx512_core_vnni) == dnnl_cpu_isa_avx512_core_vnni;
  case USE_PATH_BF16:
    return (isa & dnnl_cpu_isa_avx512_core_bf16) == dnnl_cpu_isa_avx512_core_bf16;
  default: return false;
  }
}

/* bf16 is never the automatic choice: every CPU with AVX512_BF16 has VNNI,
 * and int8 runs faster there at the accuracy bar. */
use_path trove_model__path_best(void) {
  return trove_model__path_available(USE_PATH_INT8) ? USE_PATH_INT8 : USE_PATH_FP32;
}

void trove_model__dense_thread_init(void) { omp_set_num_threads(1); }

/* ---- weights -------------------------------------------------------------- */

int trove_model__dense_quantize(use_dense *d, trove_err *err) {
  size_t k = d->k, n = d->n;
  if (d->fp32_only)
    return 0;
  d->w8 = trove_malloc(k * n);
  d->scale = trove_malloc(n * sizeof *d->scale);
  d->colsum = trove_calloc(n, sizeof *d->colsum);
  d->zcorr = trove_malloc(n * sizeof *d->zcorr);
  if (!d->w8 || !d->scale || !d->colsum || !d->zcorr) {
    trove_model__dense_free(d);
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

void trove_model__dense_free(use_dense *d) {
  if (d->bf_prim)
    dnnl_primitive_destroy(d->bf_prim);
  d->bf_prim = NULL;
  trove_free(d->wbf);
  d->wbf = NULL;
  trove_free(d->w8);
  trove_free(d->scale);
  trove_free(d->colsum);
  trove_free(d->zcorr);
  d->zcorr = NULL;
  d->w8 = NULL;
  d->scale = NULL;
  d->colsum = NULL;
}

/* ---- bf16 ---------------------------------------------------------------- */

typedef uint16_t use_v16h __attribute__((vector_size(32)));

/* out[i] = x[i] in bf16, rounded to nearest even, for n floats (a multiple
 * of 16): the top half of each float's bits after the rounding carry. */
USE_VECTOR_CLONES
static void to_bf16(const float *x, size_t n, uint16_t *out) {
  for (size_t i = 0; i < n; i += 16) {
    use_v16f v;
    memcpy(&v, x + i, sizeof v);
    use_v16i u = (use_v16i)v;
    u += 0x7fff + ((u >> 16) & 1);
    use_v16h h = __builtin_convertvector((u >> 16) & 0xffff, use_v16h);
    memcpy(out + i, &h, sizeof h);
  }
}

int trove_model__engine_create(void **engine, trove_err *err) {
  dnnl_engine_t e;
  if (dnnl_engine_create(&e, dnnl_cpu, 0) != dnnl_success)
    return trove_err_set(err, TROVE_EUNSUPPORTED, "oneDNN could not open its CPU engine");
  *engine = e;
  return 0;
}

void trove_model__engine_free(void *engine) {
  if (engine)
    dnnl_engine_destroy(engine);
}

/* A matmul of bf16 x (M x k, M given at each run) by bf16 W (k x n) that
 * adds its fp32 result to y (the sum post-op): y += x W. */
static dnnl_status_t make_bf16_matmul(const use_dense *d, dnnl_engine_t engine,
                                      dnnl_primitive_t *out) {
  dnnl_memory_desc_t x, w, y;
  dnnl_dims_t xd = {DNNL_RUNTIME_DIM_VAL, (dnnl_dim_t)d->k}, wd = {(dnnl_dim_t)d->k, (dnnl_dim_t)d->n},
              yd = {DNNL_RUNTIME_DIM_VAL, (dnnl_dim_t)d->n};
  dnnl_matmul_desc_t md;
  dnnl_post_ops_t po = NULL;
  dnnl_primitive_attr_t attr = NULL;
  dnnl_primitive_desc_t pd = NULL;
  dnnl_status_t s = dnnl_memory_desc_init_by_tag(&x, 2, xd, dnnl_bf16, dnnl_ab);
  s = s ? s : dnnl_memory_desc_init_by_tag(&w, 2, wd, dnnl_bf16, dnnl_ab);
  s = s ? s : dnnl_memory_desc_init_by_tag(&y, 2, yd, dnnl_f32, dnnl_ab);
  s = s ? s : dnnl_matmul_desc_init(&md, &x, &w, NULL, &y);
  s = s ? s : dnnl_post_ops_create(&po);
  s = s ? s : dnnl_post_ops_append_sum(po, 1.0f);
  s = s ? s : dnnl_primitive_attr_create(&attr);
  s = s ? s : dnnl_primitive_attr_set_post_ops(attr, po);
  s = s ? s : dnnl_primitive_desc_create(&pd, &md, attr, engine, NULL);
  s = s ? s : dnnl_primitive_create(out, pd);
  dnnl_primitive_desc_destroy(pd);
  dnnl_primitive_attr_destroy(attr);
  dnnl_post_ops_destroy(po);
  return s;
}

int trove_model__dense_prepare_bf16(use_dense *d, void *engine, trove_err *err) {
  if (d->fp32_only)
    return 0;
  if (!(d->wbf = trove_malloc(d->k * d->n * sizeof *d->wbf)))
    return trove_err_set(err, TROVE_ENOMEM, "out of memory converting the model to bf16");
  to_bf16(d->w, d->k * d->n, d->wbf);
  dnnl_primitive_t p = NULL;
  dnnl_status_t s = make_bf16_matmul(d, engine, &p);
  if (s != dnnl_success) {
    trove_model__dense_free(d);
    return s == dnnl_out_of_memory
               ? trove_err_set(err, TROVE_ENOMEM, "out of memory in oneDNN's bf16 matmul")
               : trove_err_set(err, TROVE_EUNSUPPORTED, "oneDNN has no bf16 matmul here "
                               "(status %d): use fp32 or int8", (int)s);
  }
  d->bf_prim = p;
  return 0;
}

/* y (rows x d->n) += x (rows x d->k) W in bf16, x converted into xb. */
static dnnl_status_t apply_bf16(const use_dense *d, void *engine, const float *x, size_t rows,
                                uint16_t *xb, float *y) {
  to_bf16(x, rows * d->k, xb);
  dnnl_memory_desc_t xd, wd, yd;
  dnnl_dims_t xs = {(dnnl_dim_t)rows, (dnnl_dim_t)d->k}, ws = {(dnnl_dim_t)d->k, (dnnl_dim_t)d->n},
              ys = {(dnnl_dim_t)rows, (dnnl_dim_t)d->n};
  dnnl_memory_t xm = NULL, wm = NULL, ym = NULL;
  dnnl_stream_t st = NULL;
  dnnl_status_t s = dnnl_memory_desc_init_by_tag(&xd, 2, xs, dnnl_bf16, dnnl_ab);
  s = s ? s : dnnl_memory_desc_init_by_tag(&wd, 2, ws, dnnl_bf16, dnnl_ab);
  s = s ? s : dnnl_memory_desc_init_by_tag(&yd, 2, ys, dnnl_f32, dnnl_ab);
  s = s ? s : dnnl_memory_create(&xm, &xd, engine, xb);
  s = s ? s : dnnl_memory_create(&wm, &wd, engine, d->wbf);
  s = s ? s : dnnl_memory_create(&ym, &yd, engine, y);
  s = s ? s : dnnl_stream_create(&st, engine, dnnl_stream_default_flags);
  dnnl_exec_arg_t args[] = {{DNNL_ARG_SRC, xm}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DST, ym}};
  s = s ? s : dnnl_primitive_execute(d->bf_prim, st, 3, args);
  s = s ? s : dnnl_stream_wait(st);
  dnnl_stream_destroy(st);
  dnnl_memory_destroy(ym);
  dnnl_memory_destroy(wm);
  dnnl_memory_destroy(xm);
  return s;
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

int trove_model__sgemm(bool trans_b, size_t m, size_t n, size_t k, const float *a, size_t lda,
                       const float *b, size_t ldb, float beta, float *c, size_t ldc,
                       trove_err *err) {
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
    trove_model__range16(xr, k, &lo, &hi);
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

int trove_model__dense_apply(const use_dense *d, use_path path, const float *x, size_t ldx,
                             size_t rows, float *y, size_t ldy, use_qwork *qw, trove_err *err) {
  if (path == USE_PATH_BF16 && d->bf_prim) { /* x and y are dense: ldx == k, ldy == n */
    dnnl_status_t s = apply_bf16(d, qw->engine, x, rows, (uint16_t *)qw->acc, y);
    return s == dnnl_success ? 0 : dnnl_fail(s, "bf16 matmul", err);
  }
  if (path != USE_PATH_INT8 || d->fp32_only)
    return trove_model__sgemm(false, rows, d->n, d->k, x, ldx, d->w, d->n, 1.0f, y, ldy, err);
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
