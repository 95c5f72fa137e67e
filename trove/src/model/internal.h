/* internal.h: what the files of trove/src/model share and nothing outside
 * uses (the public interface is model.h). Prefix use__ for USE-lite parts:
 *   loader.c    model.json's weightsManifest and the weight shards
 *   vocab.c     vocab.json and the piece trie
 *   tokenizer.c NFKC, the unigram Viterbi, byte offsets
 *   forward.c   the transformer, batched on OpenBLAS
 *   embedder.c  the trove_embedder interface and USE-lite behind it
 * Tests and fuzz targets include this header to reach the parsers directly.
 */
#ifndef TROVE_MODEL_INTERNAL_H
#define TROVE_MODEL_INTERNAL_H

#include "model.h"

#include <pthread.h>
#include <stdbool.h>

/* Largest text tokenized or embedded: the Viterbi keeps ~24 bytes per code point. */
#define USE_MAX_TEXT ((size_t)16 << 20)

/* ---- weights (loader.c) ------------------------------------------------- */

enum { USE_F32 = 1, USE_I32 = 2 };

typedef struct use_tensor {
  char *name;
  int dtype;        /* USE_F32 or USE_I32 */
  int rank;         /* 0..4 */
  size_t shape[4];
  size_t count;     /* product of shape (1 for a scalar) */
  size_t offset;    /* byte offset in use_weights.data */
} use_tensor;

typedef struct use_weights {
  use_tensor *t;
  size_t n;
  char **paths;       /* shard file names in read order */
  size_t npaths;
  size_t *group_end;  /* per group: index one past its last path */
  size_t *group_bytes;/* per group: bytes its tensors need */
  size_t ngroups;
  unsigned char *data; /* every shard, concatenated */
  size_t size;
} use_weights;

/* Parses model.json text: the weightsManifest's groups, shard names and
 * tensors (name, dtype, shape), with byte offsets computed and checked for
 * overflow. Reads no shard. 0, TROVE_ECORRUPT, TROVE_EUNSUPPORTED or
 * TROVE_ENOMEM; on failure w is freed. */
int use__manifest_parse(const char *json, size_t len, use_weights *w, trove_err *err);

/* Parses dir/model.json and reads every shard into w->data, checking each
 * group's shards hold exactly the bytes its tensors need. Codes of
 * trove_embedder_open_use_lite; on failure w is freed. */
int use__weights_load(const char *dir, use_weights *w, trove_err *err);

/* Frees what w holds and zeroes it. */
void use__weights_free(use_weights *w);

/* The float32 tensor called name with exactly the given rank and shape, or
 * NULL with err set (TROVE_ECORRUPT naming the tensor and what was wrong). */
const float *use__f32(const use_weights *w, const char *name, int rank, const size_t *shape,
                      trove_err *err);

/* Reads dir/name whole into a trove_malloc'ed buffer (NUL-terminated, *len
 * without it), at most max bytes. 0, TROVE_ENOENT, TROVE_EIO, TROVE_ERANGE
 * (larger than max) or TROVE_ENOMEM. */
int use__read_file(const char *dir, const char *name, size_t max, char **data, size_t *len,
                   trove_err *err);

/* ---- vocabulary (vocab.c) ----------------------------------------------- */

typedef struct use_trie_slot {
  uint32_t parent; /* node id + 1; 0 marks an empty slot */
  uint32_t cp;     /* code point of the edge */
  uint32_t child;  /* node id */
} use_trie_slot;

typedef struct use_vocab {
  size_t n;              /* pieces, reserved ones included */
  double *score;         /* per piece; JSON null reads as 0, as in JavaScript */
  uint32_t *utf16_len;   /* per piece: its JavaScript .length (see tokenizer.c) */
  int32_t *node_piece;   /* per trie node: the piece ending there, or -1 */
  size_t nodes;          /* trie nodes; node 0 is the root */
  use_trie_slot *slots;  /* open-addressing edge table, power-of-two size */
  size_t mask;           /* slots - 1 */
} use_vocab;

/* Parses vocab.json ([[piece, score], ...]) and builds the trie of pieces
 * reserved..n-1 (a later duplicate replaces an earlier one, as in the
 * reference). 0, TROVE_ECORRUPT (not an array of [string, number|null], an
 * empty or invalid piece, fewer than reserved + 1 pieces) or TROVE_ENOMEM;
 * on failure v is freed. */
int use__vocab_parse(const char *json, size_t len, size_t reserved, use_vocab *v,
                     trove_err *err);

/* The trie child of node along code point cp, or -1. */
long use__trie_child(const use_vocab *v, uint32_t node, uint32_t cp);

void use__vocab_free(use_vocab *v);

/* ---- tokenizer (tokenizer.c) -------------------------------------------- */

/* Tokenizes text as the reference does (see tokenizer.c). Codes of
 * trove_embedder_tokenize. */
int use__tokenize(const use_vocab *v, const char *text, size_t len, trove_tokens *out,
                  trove_err *err);

/* ---- the transformer (forward.c) ---------------------------------------- */

enum { USE_LAYERS = 2, USE_EMB = 256, USE_HID = 512, USE_FFN = 1536, USE_HEADS = 4 };

typedef struct use_layer {
  size_t in;                 /* input width: 256 for layer 0, 512 for layer 1 */
  const float *ln_s, *ln_b;  /* attention pre-norm, width in */
  const float *qkv_w, *qkv_b;/* in x 3*in, 3*in */
  const float *out_w, *out_b;/* in x 512, 512 */
  const float *res_w, *res_b;/* layer 0 only: 256 x 512 residual projection */
  const float *ffn_s, *ffn_b;/* FFN pre-norm, 512 */
  const float *w1, *b1;      /* 512 x 1536 */
  const float *w2, *b2;      /* 1536 x 512 */
  float q_scale;             /* from the graph: 1/sqrt(head width) */
} use_layer;

typedef struct use_model {
  const float *emb;          /* rows x 256 */
  size_t rows;
  const float *inv_timescale;/* 128 */
  use_layer layer[USE_LAYERS];
  const float *tanh_w, *tanh_b; /* 512 x 512, 512 */
  float ln_eps, l2_eps;
  size_t max_tokens;
  float *timing;             /* max_tokens x 256: the timing signal, computed once */
} use_model;

/* Finds and checks every tensor the graph uses and precomputes the timing
 * signal. 0, TROVE_ECORRUPT or TROVE_ENOMEM; free with use__model_free. */
int use__model_bind(const use_weights *w, use_model *m, trove_err *err);

/* Frees what use__model_bind allocated. */
void use__model_free(use_model *m);

/* Scratch space of the forward pass, grown on demand. Zeroed to start. */
typedef struct use_work {
  float *buf;
  size_t cap; /* floats */
} use_work;

/* Embeds n token sequences (ids[i] of lens[i] tokens; only the first
 * max_tokens count) into out (n x 512). Ids must be < m->rows (the caller's
 * tokenizer guarantees it). 0 or TROVE_ENOMEM. */
int use__forward(const use_model *m, const int32_t *const *ids, const size_t *lens, size_t n,
                 float *out, use_work *ws, trove_err *err);

void use__work_free(use_work *ws);

#endif /* TROVE_MODEL_INTERNAL_H */
