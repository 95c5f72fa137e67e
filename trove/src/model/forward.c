/* forward.c: USE-lite's transformer ("KonaTransformer"), batched on OpenBLAS.
 *
 * The graph, read op by op from model.json's node list (not guessed):
 *   x0   = E + (E + T)   embedding rows E (256) plus the sinusoidal timing T
 *                        [sin(p*inv), cos(p*inv)] of position p; the graph
 *                        gathers E, adds T, and adds E again: 2E + T.
 *   layer 0 (width 256 -> 512), pre-norm, 4 heads of 64:
 *     h = LN(x0); q,k,v = split(h Wqkv + b); a = softmax((0.125 q) k^T) v
 *     x = (a Wo + bo) + (x0 Wd + bd)        the dense residual projection
 *     x = (relu(LN(x) W1 + b1) W2 + b2) + x
 *   layer 1 (512), the same with 4 heads of 128, scale 0.0884 and x as the
 *     residual;
 *   e    = mean of x over the text's tokens (sum / max(n, 1))
 *   out  = l2normalize(tanh(e Wt + bt)), norm floored at sqrt(1e-12).
 * LN is (x - mean) * rsqrt(var + 1e-6) * scale + bias over the last axis.
 * The graph clips to the first 128 tokens and pads a batch to its longest
 * text, masking padded keys with -1e9 before the softmax; exp() of that is
 * exactly 0 in float32, so each text's result does not depend on its batch
 * and we pack texts without padding instead. Scales, epsilons and the token
 * limit are read from the weights, not hard-coded.
 *
 * Batching: texts are packed into chunks of at most CHUNK_TOKENS rows and
 * every dense layer of a chunk is one sgemm (M = rows), which is where
 * nearly all of the ~1.24 GFLOP per 128-token text goes; attention is a few
 * small sgemms per text and head. Biases are written into the output first
 * and the sgemm accumulates (beta = 1), so no extra pass adds them.
 */
#include "internal.h"

#include <cblas.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* Rows per chunk: 2048 rows keep the sgemms near peak (M large) while the
 * scratch stays at ~27 MB instead of ~110 MB for a full 64 x 128 batch. */
enum { CHUNK_TOKENS = 2048 };

/* Floats of scratch per row: x (512), h (512), qkv/ffn (1536), a (512), x0 (256). */
enum { ROW_FLOATS = 512 + 512 + 1536 + 512 + 256 };

/* ---- binding the weights ------------------------------------------------ */

#define KT "module_apply_default/Encoder_en/KonaTransformer/Encode/"

static float scalar(const use_weights *w, const char *name, int *rc, trove_err *err) {
  const float *p = use__f32(w, name, 0, NULL, err);
  if (!p) {
    *rc = TROVE_ECORRUPT;
    return 0;
  }
  return *p;
}

/* The tensors of one layer: where they go, their name (%d is the layer)
 * and shape, with dimensions IN (the layer's input width) and IN3 (3 x IN)
 * filled in per layer. Layer 0 alone has the residual projection. */
enum { IN = -1, IN3 = -2 };
static const struct layer_tensor {
  size_t off;
  const char *fmt;
  int rank;
  long dims[4];
  bool layer0_only;
} layer_tensors[] = {
  {offsetof(use_layer, ln_s), KT "Layer_%d/TransformerLayer/layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat", 1, {IN}, false},
  {offsetof(use_layer, ln_b), KT "Layer_%d/TransformerLayer/layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat", 1, {IN}, false},
  {offsetof(use_layer, qkv_w), "module/Encoder_en/KonaTransformer/Encode/Layer_%d/TransformerLayer/MultiheadAttention/qkv_transform_single/kernel/part_0", 4, {1, 1, IN, IN3}, false},
  {offsetof(use_layer, qkv_b), KT "Layer_%d/TransformerLayer/MultiheadAttention/qkv_transform_single/bias/ConcatPartitions/concat", 1, {IN3}, false},
  {offsetof(use_layer, out_w), "module/Encoder_en/KonaTransformer/Encode/Layer_%d/TransformerLayer/MultiheadAttention/output_transform_single/kernel/part_0", 4, {1, 1, IN, USE_HID}, false},
  {offsetof(use_layer, out_b), KT "Layer_%d/TransformerLayer/MultiheadAttention/output_transform_single/bias/ConcatPartitions/concat", 1, {USE_HID}, false},
  {offsetof(use_layer, ffn_s), KT "Layer_%d/TransformerLayer/FFN/layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat", 1, {USE_HID}, false},
  {offsetof(use_layer, ffn_b), KT "Layer_%d/TransformerLayer/FFN/layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat", 1, {USE_HID}, false},
  {offsetof(use_layer, w1), KT "TransformerStack/Layer_%d/TransformerLayer/FFN/conv1/Tensordot/Reshape_1", 2, {USE_HID, USE_FFN}, false},
  {offsetof(use_layer, b1), KT "Layer_%d/TransformerLayer/FFN/conv1/bias/ConcatPartitions/concat", 1, {USE_FFN}, false},
  {offsetof(use_layer, w2), KT "TransformerStack/Layer_%d/TransformerLayer/FFN/conv2/Tensordot/Reshape_1", 2, {USE_FFN, USE_HID}, false},
  {offsetof(use_layer, b2), KT "Layer_%d/TransformerLayer/FFN/conv2/bias/ConcatPartitions/concat", 1, {USE_HID}, false},
  {offsetof(use_layer, res_w), KT "Layer_%d/TransformerLayer/dense/kernel/ConcatPartitions/concat", 2, {USE_EMB, USE_HID}, true},
  {offsetof(use_layer, res_b), KT "Layer_%d/TransformerLayer/dense/bias/ConcatPartitions/concat", 1, {USE_HID}, true},
};

static int bind_layer(const use_weights *w, int l, use_layer *L, trove_err *err) {
  char name[320];
  L->in = l ? USE_HID : USE_EMB;
  for (size_t i = 0; i < sizeof layer_tensors / sizeof *layer_tensors; i++) {
    const struct layer_tensor *lt = &layer_tensors[i];
    if (lt->layer0_only && l != 0)
      continue;
    size_t shape[4];
    for (int d = 0; d < lt->rank; d++)
      shape[d] = lt->dims[d] == IN ? L->in : lt->dims[d] == IN3 ? 3 * L->in : (size_t)lt->dims[d];
    snprintf(name, sizeof name, lt->fmt, l);
    const float *p = use__f32(w, name, lt->rank, shape, err);
    if (!p)
      return TROVE_ECORRUPT;
    memcpy((char *)L + lt->off, &p, sizeof p);
  }
  int rc = 0;
  snprintf(name, sizeof name, KT "TransformerStack/Layer_%d/TransformerLayer/MultiheadAttention/mul/y", l);
  L->q_scale = scalar(w, name, &rc, err);
  return rc;
}

int use__model_bind(const use_weights *w, use_model *m, trove_err *err) {
  memset(m, 0, sizeof *m);
  size_t timing[2] = {1, USE_EMB / 2}, tw[2] = {USE_HID, USE_HID}, tb[1] = {USE_HID};
  int rc = 0;
  for (size_t i = 0; i < w->n && !m->emb; i++)
    if (strcmp(w->t[i].name, "module/Embeddings_en") == 0 && w->t[i].rank == 2)
      m->rows = w->t[i].shape[0];
  size_t emb[2] = {m->rows, USE_EMB};
  if (!(m->emb = use__f32(w, "module/Embeddings_en", 2, emb, err)) ||
      !(m->inv_timescale = use__f32(w, KT "TransformerStack/Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1", 2, timing, err)) ||
      !(m->tanh_w = use__f32(w, "module/Encoder_en/hidden_layers/tanh_layer_0/weights", 2, tw, err)) ||
      !(m->tanh_b = use__f32(w, "module/Encoder_en/hidden_layers/tanh_layer_0/bias", 1, tb, err)))
    return TROVE_ECORRUPT;
  for (int l = 0; l < USE_LAYERS && !rc; l++)
    rc = bind_layer(w, l, &m->layer[l], err);
  if (!rc)
    m->ln_eps = scalar(w, KT "TransformerStack/Layer_1/TransformerLayer/FFN/layer_prepostprocess/layer_norm/Cast/x", &rc, err);
  if (!rc)
    m->l2_eps = scalar(w, "module_apply_default/Encoder_en/hidden_layers/l2_normalize/Maximum/y", &rc, err);
  for (size_t i = 0; i < w->n && !rc; i++) /* the clip length is an int32 scalar */
    if (strcmp(w->t[i].name, "module_apply_default/Encoder_en/KonaTransformer/ClipToMaxLength/Less/y") == 0 &&
        w->t[i].dtype == USE_I32 && w->t[i].count == 1) {
      int32_t v;
      memcpy(&v, w->data + w->t[i].offset, sizeof v);
      m->max_tokens = v > 0 && v <= 4096 ? (size_t)v : 0;
    }
  if (!rc && !m->max_tokens)
    rc = trove_err_set(err, TROVE_ECORRUPT, "model.json: the token limit (ClipToMaxLength) is "
                       "missing or invalid");
  if (!rc && (m->rows < 1 || !(m->ln_eps > 0) || !(m->l2_eps > 0)))
    rc = trove_err_set(err, TROVE_ECORRUPT, "model weights hold invalid constants");
  if (!rc && !(m->timing = trove_malloc(m->max_tokens * USE_EMB * sizeof *m->timing)))
    rc = trove_err_set(err, TROVE_ENOMEM, "out of memory for the timing signal");
  /* [sin(p * inv), cos(p * inv)]: the product in float32 as the graph's Mul,
   * sin and cos correctly rounded from double as tfjs's Math.sin does */
  for (size_t p = 0; !rc && p < m->max_tokens; p++)
    for (size_t i = 0; i < USE_EMB / 2; i++) {
      float arg = (float)p * m->inv_timescale[i];
      m->timing[p * USE_EMB + i] = (float)sin((double)arg);
      m->timing[p * USE_EMB + USE_EMB / 2 + i] = (float)cos((double)arg);
    }
  return rc;
}

void use__model_free(use_model *m) {
  if (m) {
    trove_free(m->timing);
    m->timing = NULL;
  }
}

/* ---- the layers --------------------------------------------------------- */

/* Sum of x[0..w) in 8 float lanes (w is a multiple of 8), so -O3 can
 * vectorize it; over 512 values the error stays far below the 1e-5 budget. */
static float lane_sum(const float *x, size_t w) {
  float acc[8] = {0};
  for (size_t i = 0; i < w; i += 8)
    for (size_t j = 0; j < 8; j++)
      acc[j] += x[i + j];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/* out[r] = LN(x[r]) for rows rows of width w (a multiple of 8). out is
 * first used as scratch for the squared deviations. */
static void layer_norm(const float *x, float *out, size_t rows, size_t w, const float *s,
                       const float *b, float eps) {
  for (size_t r = 0; r < rows; r++) {
    const float *xr = x + r * w;
    float *o = out + r * w;
    float mean = lane_sum(xr, w) / (float)w;
    for (size_t i = 0; i < w; i++)
      o[i] = (xr[i] - mean) * (xr[i] - mean);
    float rs = 1.0f / sqrtf(lane_sum(o, w) / (float)w + eps);
    for (size_t i = 0; i < w; i++)
      o[i] = s[i] * rs * (xr[i] - mean) + b[i];
  }
}

/* c[r] = bias for rows rows of width w (then an sgemm accumulates). */
static void fill_bias(float *c, size_t rows, size_t w, const float *bias) {
  for (size_t r = 0; r < rows; r++)
    memcpy(c + r * w, bias, w * sizeof *c);
}

/* c (rows x n, ldc) += a (rows x k, lda) * b (k x n). */
static void gemm(const float *a, size_t lda, const float *b, float *c, size_t ldc, size_t rows,
                 size_t k, size_t n) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)n, (int)k, 1.0f, a,
              (int)lda, b, (int)n, 1.0f, c, (int)ldc);
}

/* Self-attention of one text of len rows: qkv (len x 3w) in, a (len x w)
 * out, heads of w / USE_HEADS columns. s is len x len scratch. */
static void attention(float *qkv, float *a, size_t len, size_t w, float scale, float *s) {
  size_t dh = w / USE_HEADS, ld = 3 * w;
  for (size_t r = 0; r < len; r++)
    for (size_t i = 0; i < w; i++)
      qkv[r * ld + i] *= scale;
  for (size_t h = 0; h < USE_HEADS; h++) {
    const float *q = qkv + h * dh, *k = qkv + w + h * dh, *v = qkv + 2 * w + h * dh;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)len, (int)len, (int)dh, 1.0f, q,
                (int)ld, k, (int)ld, 0.0f, s, (int)len);
    for (size_t r = 0; r < len; r++) {
      float *row = s + r * len, mx = row[0];
      for (size_t j = 1; j < len; j++)
        mx = row[j] > mx ? row[j] : mx;
      float sum = 0;
      for (size_t j = 0; j < len; j++)
        sum += row[j] = expf(row[j] - mx);
      for (size_t j = 0; j < len; j++)
        row[j] /= sum;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)len, (int)dh, (int)len, 1.0f, s,
                (int)len, v, (int)ld, 0.0f, a + h * dh, (int)w);
  }
}

/* Scratch of one chunk. */
typedef struct chunk {
  float *x, *h, *big, *a, *x0, *scores;
  size_t rows;
} chunk;

/* One transformer layer over the chunk's texts (lens[0..n)). */
static void layer(const use_model *m, int l, chunk *c, const size_t *lens, size_t n) {
  const use_layer *L = &m->layer[l];
  size_t in = L->in, rows = c->rows;
  const float *x_in = l ? c->x : c->x0;
  layer_norm(x_in, c->h, rows, in, L->ln_s, L->ln_b, m->ln_eps);
  fill_bias(c->big, rows, 3 * in, L->qkv_b);
  gemm(c->h, in, L->qkv_w, c->big, 3 * in, rows, in, 3 * in);
  for (size_t t = 0, r = 0; t < n; r += lens[t++])
    if (lens[t])
      attention(c->big + r * 3 * in, c->a + r * in, lens[t], in, L->q_scale, c->scores);
  if (l == 0) { /* x = (a Wo + bo) + (x0 Wd + bd) */
    for (size_t r = 0; r < rows; r++)
      for (size_t i = 0; i < USE_HID; i++)
        c->x[r * USE_HID + i] = L->out_b[i] + L->res_b[i];
    gemm(c->x0, USE_EMB, L->res_w, c->x, USE_HID, rows, USE_EMB, USE_HID);
  } else { /* x = (a Wo + bo) + x */
    for (size_t r = 0; r < rows; r++)
      for (size_t i = 0; i < USE_HID; i++)
        c->x[r * USE_HID + i] += L->out_b[i];
  }
  gemm(c->a, in, L->out_w, c->x, USE_HID, rows, in, USE_HID);
  /* FFN: x += relu(LN(x) W1 + b1) W2 + b2 */
  layer_norm(c->x, c->h, rows, USE_HID, L->ffn_s, L->ffn_b, m->ln_eps);
  fill_bias(c->big, rows, USE_FFN, L->b1);
  gemm(c->h, USE_HID, L->w1, c->big, USE_FFN, rows, USE_HID, USE_FFN);
  for (size_t i = 0; i < rows * USE_FFN; i++)
    c->big[i] = c->big[i] > 0 ? c->big[i] : 0;
  for (size_t r = 0; r < rows; r++)
    for (size_t i = 0; i < USE_HID; i++)
      c->x[r * USE_HID + i] += L->b2[i];
  gemm(c->big, USE_FFN, L->w2, c->x, USE_HID, rows, USE_FFN, USE_HID);
}

/* x0 = E + (E + T) for every token of the chunk. */
static void embed_tokens(const use_model *m, chunk *c, const int32_t *const *ids,
                         const size_t *lens, size_t n) {
  for (size_t t = 0, r = 0; t < n; t++)
    for (size_t p = 0; p < lens[t]; p++, r++) {
      const float *e = m->emb + (size_t)ids[t][p] * USE_EMB, *ts = m->timing + p * USE_EMB;
      float *o = c->x0 + r * USE_EMB;
      for (size_t i = 0; i < USE_EMB; i++)
        o[i] = e[i] + (e[i] + ts[i]);
    }
}

/* Mean pool, tanh layer and L2 normalization into out (n x 512). */
static void head(const use_model *m, chunk *c, const size_t *lens, size_t n, float *out) {
  for (size_t t = 0, r = 0; t < n; r += lens[t++]) {
    float *pooled = c->h + t * USE_HID, div = (float)(lens[t] ? lens[t] : 1);
    memset(pooled, 0, USE_HID * sizeof *pooled);
    for (size_t p = 0; p < lens[t]; p++) /* row by row: x is row-major */
      for (size_t i = 0; i < USE_HID; i++)
        pooled[i] += c->x[(r + p) * USE_HID + i];
    for (size_t i = 0; i < USE_HID; i++)
      pooled[i] /= div;
    memcpy(out + t * USE_HID, m->tanh_b, USE_HID * sizeof *out);
  }
  gemm(c->h, USE_HID, m->tanh_w, out, USE_HID, n, USE_HID, USE_HID);
  for (size_t t = 0; t < n; t++) {
    float *o = out + t * USE_HID;
    double sq = 0;
    for (size_t i = 0; i < USE_HID; i++) {
      o[i] = tanhf(o[i]);
      sq += (double)o[i] * o[i];
    }
    float norm = (float)sq > m->l2_eps ? (float)sq : m->l2_eps;
    float inv = 1.0f / sqrtf(norm);
    for (size_t i = 0; i < USE_HID; i++)
      o[i] *= inv;
  }
}

void use__work_free(use_work *ws) {
  if (!ws)
    return;
  trove_free(ws->buf);
  ws->buf = NULL;
  ws->cap = 0;
}

static int work_reserve(use_work *ws, size_t floats, trove_err *err) {
  if (floats <= ws->cap)
    return 0;
  float *b = trove_malloc(floats * sizeof *b);
  if (!b)
    return trove_err_set(err, TROVE_ENOMEM, "out of memory for %zu MB of model scratch",
                         floats * sizeof *b >> 20);
  trove_free(ws->buf);
  ws->buf = b;
  ws->cap = floats;
  return 0;
}

int use__forward(const use_model *m, const int32_t *const *ids, const size_t *lens_in, size_t n,
                 float *out, use_work *ws, trove_err *err) {
  size_t max = m->max_tokens, lens[64];
  /* rows of scratch: a chunk never exceeds CHUNK_TOKENS rows, nor 64 texts,
   * except one text longer than that (max_tokens) which gets a chunk alone */
  size_t chunk_rows = CHUNK_TOKENS > max ? CHUNK_TOKENS : max;
  size_t floats = chunk_rows * ROW_FLOATS + max * max + 64 * USE_HID;
  int rc = work_reserve(ws, floats, err);
  if (rc)
    return rc;
  for (size_t t0 = 0; t0 < n;) {
    chunk c = {0};
    size_t k = 0;
    while (t0 + k < n && k < 64) {
      size_t len = lens_in[t0 + k] < max ? lens_in[t0 + k] : max;
      if (k && c.rows + len > chunk_rows)
        break;
      lens[k++] = len;
      c.rows += len;
    }
    c.x = ws->buf;
    c.h = c.x + chunk_rows * 512;
    c.big = c.h + chunk_rows * 512;
    c.a = c.big + chunk_rows * 1536;
    c.x0 = c.a + chunk_rows * 512;
    c.scores = c.x0 + chunk_rows * 256;
    if (c.rows) {
      embed_tokens(m, &c, ids + t0, lens, k);
      for (int l = 0; l < USE_LAYERS; l++)
        layer(m, l, &c, lens, k);
    }
    /* the pooled rows (k <= 64) go after the scores */
    float *pooled = c.scores + max * max;
    chunk hc = c;
    hc.h = pooled;
    head(m, &hc, lens, k, out + t0 * USE_HID);
    t0 += k;
  }
  return 0;
}
