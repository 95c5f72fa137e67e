/* forward.c: USE-lite's transformer ("KonaTransformer"), batched.
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
 * every dense layer of a chunk is one matrix product (M = rows) on the
 * model's kernel path (dense.c), which is where nearly all of the ~1.24
 * GFLOP per 128-token text goes; attention is a few small fp32 products per
 * text and head. Biases are written into the output first and the product
 * accumulates, so no extra pass adds them.
 */
#include "model_int.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* Rows per chunk: 2048 rows keep the sgemms near peak (M large) while the
 * scratch stays at ~27 MB instead of ~110 MB for a full 64 x 128 batch. */
enum { CHUNK_TOKENS = 2048 };

/* Floats of scratch per row: x (512), h (512), qkv/ffn (1536), a (512), x0
 * (256), then the int8 path's int32 sums (1536), quantized activations (1536
 * bytes) and row scale and zero point. */
enum { ROW_FLOATS = 512 + 512 + 1536 + 512 + 256 + 1536 + 1536 / 4 + 2 };

/* ---- binding the weights ------------------------------------------------ */

#define KT "module_apply_default/Encoder_en/KonaTransformer/Encode/"

static float scalar(const use_weights *w, const char *name, int *rc, trove_err *err) {
  const float *p = trove_model__f32(w, name, 0, NULL, err);
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
  {offsetof(use_layer, qkv.w), "module/Encoder_en/KonaTransformer/Encode/Layer_%d/TransformerLayer/MultiheadAttention/qkv_transform_single/kernel/part_0", 4, {1, 1, IN, IN3}, false},
  {offsetof(use_layer, qkv_b), KT "Layer_%d/TransformerLayer/MultiheadAttention/qkv_transform_single/bias/ConcatPartitions/concat", 1, {IN3}, false},
  {offsetof(use_layer, out.w), "module/Encoder_en/KonaTransformer/Encode/Layer_%d/TransformerLayer/MultiheadAttention/output_transform_single/kernel/part_0", 4, {1, 1, IN, USE_HID}, false},
  {offsetof(use_layer, out_b), KT "Layer_%d/TransformerLayer/MultiheadAttention/output_transform_single/bias/ConcatPartitions/concat", 1, {USE_HID}, false},
  {offsetof(use_layer, ffn_s), KT "Layer_%d/TransformerLayer/FFN/layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat", 1, {USE_HID}, false},
  {offsetof(use_layer, ffn_b), KT "Layer_%d/TransformerLayer/FFN/layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat", 1, {USE_HID}, false},
  {offsetof(use_layer, w1.w), KT "TransformerStack/Layer_%d/TransformerLayer/FFN/conv1/Tensordot/Reshape_1", 2, {USE_HID, USE_FFN}, false},
  {offsetof(use_layer, b1), KT "Layer_%d/TransformerLayer/FFN/conv1/bias/ConcatPartitions/concat", 1, {USE_FFN}, false},
  {offsetof(use_layer, w2.w), KT "TransformerStack/Layer_%d/TransformerLayer/FFN/conv2/Tensordot/Reshape_1", 2, {USE_FFN, USE_HID}, false},
  {offsetof(use_layer, b2), KT "Layer_%d/TransformerLayer/FFN/conv2/bias/ConcatPartitions/concat", 1, {USE_HID}, false},
  {offsetof(use_layer, res.w), KT "Layer_%d/TransformerLayer/dense/kernel/ConcatPartitions/concat", 2, {USE_EMB, USE_HID}, true},
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
    const float *p = trove_model__f32(w, name, lt->rank, shape, err);
    if (!p)
      return TROVE_ECORRUPT;
    memcpy((char *)L + lt->off, &p, sizeof p);
  }
  L->qkv.k = L->in, L->qkv.n = 3 * L->in;
  L->out.k = L->in, L->out.n = USE_HID;
  L->res.k = l == 0 ? USE_EMB : 0, L->res.n = l == 0 ? USE_HID : 0;
  L->w1.k = USE_HID, L->w1.n = USE_FFN;
  L->w2.k = USE_FFN, L->w2.n = USE_HID;
  int rc = 0;
  snprintf(name, sizeof name, KT "TransformerStack/Layer_%d/TransformerLayer/MultiheadAttention/mul/y", l);
  L->q_scale = scalar(w, name, &rc, err);
  return rc;
}

enum { USE_DENSE_MAX = 5 * USE_LAYERS + 1 };

/* The model's dense layers (those bound: layer 1 has no residual
 * projection) into d; returns how many. */
static size_t dense_layers(use_model *m, use_dense **d) {
  size_t n = 0;
  for (int l = 0; l < USE_LAYERS; l++) {
    use_layer *L = &m->layer[l];
    use_dense *all[] = {&L->qkv, &L->out, &L->res, &L->w1, &L->w2};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
      if (all[i]->w)
        d[n++] = all[i];
  }
  if (m->tanh.w)
    d[n++] = &m->tanh;
  return n;
}

int trove_model__model_prepare(use_model *m, use_path p, trove_err *err) {
  use_dense *d[USE_DENSE_MAX];
  int rc = 0;
  if (p == USE_PATH_BF16 && !m->engine)
    rc = trove_model__engine_create(&m->engine, err);
  for (size_t i = 0, n = dense_layers(m, d); i < n && !rc; i++)
    if (p == USE_PATH_INT8 && !d[i]->w8)
      rc = trove_model__dense_quantize(d[i], err);
    else if (p == USE_PATH_BF16 && !d[i]->wbf)
      rc = trove_model__dense_prepare_bf16(d[i], m->engine, err);
  return rc;
}

int trove_model__model_bind(const use_weights *w, use_model *m, trove_err *err) {
  memset(m, 0, sizeof *m);
  size_t timing[2] = {1, USE_EMB / 2}, tw[2] = {USE_HID, USE_HID}, tb[1] = {USE_HID};
  int rc = 0;
  for (size_t i = 0; i < w->n && !m->emb; i++)
    if (strcmp(w->t[i].name, "module/Embeddings_en") == 0 && w->t[i].rank == 2)
      m->rows = w->t[i].shape[0];
  size_t emb[2] = {m->rows, USE_EMB};
  if (!(m->emb = trove_model__f32(w, "module/Embeddings_en", 2, emb, err)) ||
      !(m->inv_timescale = trove_model__f32(
            w, KT "TransformerStack/Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1", 2, timing,
            err)) ||
      !(m->tanh.w = trove_model__f32(w, "module/Encoder_en/hidden_layers/tanh_layer_0/weights", 2,
                                     tw, err)) ||
      !(m->tanh_b =
            trove_model__f32(w, "module/Encoder_en/hidden_layers/tanh_layer_0/bias", 1, tb, err)))
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
  m->tanh.k = USE_HID, m->tanh.n = USE_HID;
  m->tanh.fp32_only = m->layer[0].qkv.fp32_only = true; /* why: dense.c */
  m->path = USE_PATH_FP32;
  return rc;
}

void trove_model__model_free(use_model *m) {
  if (!m)
    return;
  trove_free(m->timing);
  m->timing = NULL;
  use_dense *d[USE_DENSE_MAX];
  for (size_t i = 0, n = dense_layers(m, d); i < n; i++)
    trove_model__dense_free(d[i]);
  trove_model__engine_free(m->engine);
  m->engine = NULL;
}

/* ---- the layers --------------------------------------------------------- */

/* Sum of x[0..w) in 8 float lanes (w is a multiple of 8), so -O3 can
 * vectorize it; over 512 values the error stays far below the 1e-5 budget. */
USE_VECTOR_CLONES
static float lane_sum(const float *x, size_t w) {
  float acc[8] = {0};
  for (size_t i = 0; i < w; i += 8)
    for (size_t j = 0; j < 8; j++)
      acc[j] += x[i + j];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/* out[r] = LN(x[r]) for rows rows of width w (a multiple of 8). out is
 * first used as scratch for the squared deviations. */
USE_VECTOR_CLONES
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
USE_VECTOR_CLONES
static void fill_bias(float *c, size_t rows, size_t w, const float *bias) {
  for (size_t r = 0; r < rows; r++)
    memcpy(c + r * w, bias, w * sizeof *c);
}

/* p[0..16) = e^p[i] for 16 values <= 0 (expf is a call per value, and the
 * autovectorizer will not build 2^n from bits): x = n ln2 + r with |r| <=
 * ln2 / 2 (ln2 in two parts, so r is exact), e^r by its degree-6 Taylor
 * polynomial (truncation below 2e-7 relative), 2^n put in the exponent
 * bits. x is clamped at -87, where expf turns denormal: e^-87 (1.6e-38) is
 * what no softmax sum can tell from 0. Vectors stay inside: passing them by
 * value would tie the ABI to an ISA. */
static inline void exp16_nonpositive(float *p) {
  use_v16f x;
  memcpy(&x, p, sizeof x);
  use_v16i low = x < -87.0f;
  x = (use_v16f)(((use_v16i)x & ~low) | ((use_v16i)(x * 0.0f - 87.0f) & low));
  use_v16i ni = __builtin_convertvector(x * 1.44269504f - 0.5f, use_v16i); /* rounds: x <= 0 */
  use_v16f n = __builtin_convertvector(ni, use_v16f);
  use_v16f r = (x - n * 0.693145752f) - n * 1.42860677e-6f;
  use_v16f e = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 +
                                                                    r * (1.0f / 720))))));
  e *= (use_v16f)((ni + 127) << 23);
  memcpy(p, &e, sizeof e);
}

/* x[i] = e^x[i] for n values <= 0, 16 at a time; the tail through a
 * padded copy. */
static inline void exp_nonpositive_all(float *x, size_t n) {
  size_t body = n / 16 * 16;
  for (size_t i = 0; i < body; i += 16)
    exp16_nonpositive(x + i);
  if (body < n) {
    float tail[16] = {0};
    memcpy(tail, x + body, (n - body) * sizeof *x);
    exp16_nonpositive(tail);
    memcpy(x + body, tail, (n - body) * sizeof *x);
  }
}

/* Each row of the len x len scores s becomes its softmax. The max and the
 * sum run in 16 lanes (a float reduction in one accumulator does not
 * vectorize), and the exponentials of all rows in one pass. */
USE_VECTOR_CLONES
static void softmax_rows(float *s, size_t len) {
  size_t body = len / 16 * 16;
  for (size_t r = 0; r < len; r++) {
    float *row = s + r * len, lo = row[0], mx = row[0];
    trove_model__range16(row, body, &lo, &mx);
    for (size_t j = body; j < len; j++)
      mx = row[j] > mx ? row[j] : mx;
    for (size_t j = 0; j < len; j++)
      row[j] -= mx;
  }
  exp_nonpositive_all(s, len * len);
  for (size_t r = 0; r < len; r++) {
    float *row = s + r * len, sum16[16] = {0}, sum = 0;
    for (size_t i = 0; i < body; i += 16)
      for (size_t j = 0; j < 16; j++)
        sum16[j] += row[i + j];
    for (size_t j = 0; j < 16; j++)
      sum += sum16[j];
    for (size_t j = body; j < len; j++)
      sum += row[j];
    float inv = 1.0f / sum;
    for (size_t j = 0; j < len; j++)
      row[j] *= inv;
  }
}

/* Self-attention of one text of len rows: qkv (len x 3w) in, a (len x w)
 * out, heads of w / USE_HEADS columns. s is len x len scratch. */
static int attention(float *qkv, float *a, size_t len, size_t w, float scale, float *s,
                     trove_err *err) {
  size_t dh = w / USE_HEADS, ld = 3 * w;
  for (size_t r = 0; r < len; r++)
    for (size_t i = 0; i < w; i++)
      qkv[r * ld + i] *= scale;
  for (size_t h = 0; h < USE_HEADS; h++) {
    const float *q = qkv + h * dh, *k = qkv + w + h * dh, *v = qkv + 2 * w + h * dh;
    int rc = trove_model__sgemm(true, len, len, dh, q, ld, k, ld, 0.0f, s, len, err);
    if (rc)
      return rc;
    softmax_rows(s, len);
    rc = trove_model__sgemm(false, len, dh, len, s, len, v, ld, 0.0f, a + h * dh, w, err);
    if (rc)
      return rc;
  }
  return 0;
}

/* Scratch of one chunk. */
typedef struct chunk {
  float *x, *h, *big, *a, *x0, *scores;
  use_qwork qw;
  size_t rows;
} chunk;

/* y (rows x d->n) += x (rows x d->k) W on the model's path. */
static int dense(const use_model *m, const use_dense *d, const float *x, size_t rows, float *y,
                 chunk *c, trove_err *err) {
  return trove_model__dense_apply(d, m->path, x, d->k, rows, y, d->n, &c->qw, err);
}

/* x = max(x, 0) over n floats. */
USE_VECTOR_CLONES
static void relu(float *x, size_t n) {
  for (size_t i = 0; i < n; i++)
    x[i] = x[i] > 0 ? x[i] : 0;
}

/* x += b, row by row, for rows rows of width USE_HID. */
USE_VECTOR_CLONES
static void add_rows(float *x, size_t rows, const float *b) {
  for (size_t r = 0; r < rows; r++)
    for (size_t i = 0; i < USE_HID; i++)
      x[r * USE_HID + i] += b[i];
}

/* One transformer layer over the chunk's texts (lens[0..n)). */
static int layer(const use_model *m, int l, chunk *c, const size_t *lens, size_t n,
                 trove_err *err) {
  const use_layer *L = &m->layer[l];
  size_t in = L->in, rows = c->rows;
  const float *x_in = l ? c->x : c->x0;
  layer_norm(x_in, c->h, rows, in, L->ln_s, L->ln_b, m->ln_eps);
  fill_bias(c->big, rows, 3 * in, L->qkv_b);
  int rc = dense(m, &L->qkv, c->h, rows, c->big, c, err);
  for (size_t t = 0, r = 0; t < n && !rc; r += lens[t++])
    if (lens[t])
      rc = attention(c->big + r * 3 * in, c->a + r * in, lens[t], in, L->q_scale, c->scores,
                     err);
  if (rc)
    return rc;
  if (l == 0) { /* x = (a Wo + bo) + (x0 Wd + bd) */
    for (size_t r = 0; r < rows; r++)
      for (size_t i = 0; i < USE_HID; i++)
        c->x[r * USE_HID + i] = L->out_b[i] + L->res_b[i];
    rc = dense(m, &L->res, c->x0, rows, c->x, c, err);
  } else { /* x = (a Wo + bo) + x */
    add_rows(c->x, rows, L->out_b);
  }
  rc = rc ? rc : dense(m, &L->out, c->a, rows, c->x, c, err);
  if (rc)
    return rc;
  /* FFN: x += relu(LN(x) W1 + b1) W2 + b2 */
  layer_norm(c->x, c->h, rows, USE_HID, L->ffn_s, L->ffn_b, m->ln_eps);
  fill_bias(c->big, rows, USE_FFN, L->b1);
  rc = dense(m, &L->w1, c->h, rows, c->big, c, err);
  if (rc)
    return rc;
  relu(c->big, rows * USE_FFN);
  add_rows(c->x, rows, L->b2);
  return dense(m, &L->w2, c->big, rows, c->x, c, err);
}

/* x0 = E + (E + T) for every token of the chunk. */
USE_VECTOR_CLONES
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
static int head(const use_model *m, chunk *c, const size_t *lens, size_t n, float *out,
                trove_err *err) {
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
  int rc = dense(m, &m->tanh, c->h, n, out, c, err);
  for (size_t t = 0; t < n && !rc; t++) {
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
  return rc;
}

void trove_model__work_free(use_work *ws) {
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

/* Points c's arrays into buf, laid out for chunk_rows rows (ROW_FLOATS
 * each) and max_tokens^2 attention scores; returns where the 64 pooled rows
 * of the head go. */
static float *chunk_layout(chunk *c, float *buf, size_t chunk_rows, size_t max_tokens) {
  c->x = buf;
  c->h = c->x + chunk_rows * USE_HID;
  c->big = c->h + chunk_rows * USE_HID;
  c->a = c->big + chunk_rows * USE_FFN;
  c->x0 = c->a + chunk_rows * USE_HID;
  c->scores = c->x0 + chunk_rows * USE_EMB;
  float *pooled = c->scores + max_tokens * max_tokens;
  float *rest = pooled + 64 * USE_HID;
  c->qw.acc = (int32_t *)rest;
  c->qw.sa = rest + chunk_rows * USE_FFN;
  c->qw.zp = (int32_t *)(c->qw.sa + chunk_rows);
  c->qw.q = (uint8_t *)(c->qw.zp + chunk_rows);
  return pooled;
}

int trove_model__forward(const use_model *m, const int32_t *const *ids, const size_t *lens_in,
                         size_t n, float *out, use_work *ws, trove_err *err) {
  size_t max = m->max_tokens, lens[64];
  /* rows of scratch: a chunk never exceeds CHUNK_TOKENS rows, nor 64 texts,
   * except one text longer than that (max_tokens) which gets a chunk alone */
  size_t chunk_rows = CHUNK_TOKENS > max ? CHUNK_TOKENS : max;
  size_t floats = chunk_rows * ROW_FLOATS + max * max + 64 * USE_HID;
  int rc = work_reserve(ws, floats, err);
  if (rc)
    return rc;
  trove_model__dense_thread_init();
  for (size_t t0 = 0; t0 < n && !rc;) {
    chunk c = {0};
    size_t k = 0;
    while (t0 + k < n && k < 64) {
      size_t len = lens_in[t0 + k] < max ? lens_in[t0 + k] : max;
      if (k && c.rows + len > chunk_rows)
        break;
      lens[k++] = len;
      c.rows += len;
    }
    float *pooled = chunk_layout(&c, ws->buf, chunk_rows, max);
    c.qw.engine = m->engine;
    if (c.rows) {
      embed_tokens(m, &c, ids + t0, lens, k);
      for (int l = 0; l < USE_LAYERS && !rc; l++)
        rc = layer(m, l, &c, lens, k, err);
    }
    chunk hc = c;
    hc.h = pooled;
    rc = rc ? rc : head(m, &hc, lens, k, out + t0 * USE_HID, err);
    t0 += k;
  }
  return rc;
}
