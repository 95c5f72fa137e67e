/* embedder.c: the trove_embedder interface of model.h and USE-lite behind it.
 *
 * An embedder is a small table of operations plus the model's facts (name,
 * dimension, token limit, threads), so a second model is a second
 * constructor filling the same struct; nothing outside this file knows which
 * model it holds.
 *
 * USE-lite's embed splits the texts of a call into one contiguous share per
 * thread (passage-level parallelism, chosen by measurement: see model.h);
 * each share is tokenized and run through the batched forward pass 64 texts
 * at a time with single-threaded kernels. The forward pass needs ~27 MB of
 * scratch; the embedder keeps SLOTS of them, each behind a mutex that is
 * only ever try-locked, and a share that finds all of them taken (more
 * concurrent callers than slots) allocates its own, so no call ever waits
 * for another.
 */
#include "model_int.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The first pieces of vocab.json (<unk>, <s>, </s>, 3 extra ids) are never
 * produced by the trie, as in the reference. */
enum { RESERVED_PIECES = 6, BATCH = 64, SLOTS = 8, MAX_THREADS = 64 };

typedef struct embedder_ops {
  void (*destroy)(trove_embedder *e);
  int (*tokenize)(const trove_embedder *e, const char *text, size_t len, trove_tokens *out,
                  trove_err *err);
  int (*embed)(const trove_embedder *e, const char *const *texts, const size_t *lens, size_t n,
               float *out, trove_err *err);
  int (*set_kernel)(trove_embedder *e, const char *name, trove_err *err);
} embedder_ops;

struct trove_embedder {
  const embedder_ops *ops;
  const char *name;
  size_t dim, max_tokens;
  size_t threads; /* embed splits a call across this many threads */
  char kernel[64]; /* the kernel path in use, for people: "int8 (oneDNN, avx512-vnni)" */
  _Atomic uint64_t texts; /* texts embedded since open (relaxed: a tally that
                             orders nothing, read by trove_embedder_texts) */
};

typedef struct scratch {
  pthread_mutex_t lock; /* guards work; only ever try-locked */
  use_work work;
} scratch;

typedef struct use_lite {
  trove_embedder base; /* first, so a trove_embedder * is a use_lite * */
  use_weights w;
  use_vocab v;
  use_model m;
  scratch slot[SLOTS];
  size_t nslots; /* slots whose mutex was initialized */
} use_lite;

/* Online CPUs, at least 1, at most MAX_THREADS. */
static size_t default_threads(void) {
  size_t n = trove_online_cpus();
  return n > MAX_THREADS ? MAX_THREADS : n;
}

/* ---- USE-lite ----------------------------------------------------------- */

static void use_destroy(trove_embedder *e) {
  use_lite *u = (use_lite *)e;
  trove_model__weights_free(&u->w);
  trove_model__vocab_free(&u->v);
  trove_model__model_free(&u->m);
  for (size_t i = 0; i < u->nslots; i++) {
    trove_model__work_free(&u->slot[i].work);
    pthread_mutex_destroy(&u->slot[i].lock);
  }
  trove_free(u);
}

static int use_tokenize(const trove_embedder *e, const char *text, size_t len, trove_tokens *out,
                        trove_err *err) {
  return trove_model__tokenize(&((const use_lite *)e)->v, text, len, out, err);
}

/* Embeds at most BATCH texts. toks has BATCH entries, reused across calls. */
static int use_batch(const use_lite *u, const char *const *texts, const size_t *lens, size_t n,
                     trove_tokens *toks, float *out, trove_err *err) {
  const int32_t *ids[BATCH];
  size_t counts[BATCH];
  for (size_t i = 0; i < n; i++) {
    if (!texts[i])
      return trove_err_set(err, TROVE_EINVAL, "embed: text %zu is NULL", i);
    size_t len = lens ? lens[i] : strlen(texts[i]);
    int rc = trove_model__tokenize(&u->v, texts[i], len, &toks[i], err);
    if (rc)
      return rc;
    ids[i] = toks[i].ids;
    counts[i] = toks[i].n;
  }
  /* Cast away const for the scratch only: each slot is guarded by its lock. */
  use_lite *mu = (use_lite *)u;
  for (size_t i = 0; i < mu->nslots; i++)
    if (pthread_mutex_trylock(&mu->slot[i].lock) == 0) {
      int rc = trove_model__forward(&u->m, ids, counts, n, out, &mu->slot[i].work, err);
      pthread_mutex_unlock(&mu->slot[i].lock);
      return rc;
    }
  use_work own = {0};
  int rc = trove_model__forward(&u->m, ids, counts, n, out, &own, err);
  trove_model__work_free(&own);
  return rc;
}

/* One thread's share of a call: texts[0..n) in batches of 64. */
typedef struct share {
  const use_lite *u;
  const char *const *texts;
  const size_t *lens;
  size_t n;
  float *out;
  int rc;
  trove_err err;
} share;

static void *run_share(void *arg) {
  share *s = arg;
  trove_tokens toks[BATCH];
  memset(toks, 0, sizeof toks);
  for (size_t i = 0; i < s->n && !s->rc; i += BATCH) {
    size_t k = s->n - i < BATCH ? s->n - i : BATCH;
    s->rc = use_batch(s->u, s->texts + i, s->lens ? s->lens + i : NULL, k, toks,
                      s->out + i * USE_HID, &s->err);
  }
  for (size_t i = 0; i < BATCH; i++)
    trove_tokens_free(&toks[i]);
  return NULL;
}

static int use_embed(const trove_embedder *e, const char *const *texts, const size_t *lens,
                     size_t n, float *out, trove_err *err) {
  size_t t = e->threads < n ? e->threads : n, per = (n + t - 1) / t;
  share sh[MAX_THREADS];
  pthread_t tid[MAX_THREADS];
  bool started[MAX_THREADS] = {false};
  for (size_t i = 0; i < t; i++) {
    size_t from = i * per < n ? i * per : n, k = n - from < per ? n - from : per;
    sh[i] = (share){(const use_lite *)e, texts + from, lens ? lens + from : NULL, k,
                    out + from * USE_HID, 0, {0}};
    /* the last share runs here; a thread that cannot start runs here too */
    started[i] = i + 1 < t && pthread_create(&tid[i], NULL, run_share, &sh[i]) == 0;
  }
  for (size_t i = 0; i < t; i++)
    if (!started[i])
      run_share(&sh[i]);
  int rc = 0;
  for (size_t i = 0; i < t; i++) {
    if (started[i]) /* cannot fail: a joinable thread of ours, joined once */
      (void)pthread_join(tid[i], NULL);
    if (sh[i].rc && !rc) {
      rc = sh[i].rc;
      if (err)
        *err = sh[i].err;
    }
  }
  return rc;
}

static void describe_kernel(use_lite *u) {
  snprintf(u->base.kernel, sizeof u->base.kernel, "%s (oneDNN, %s)",
           trove_model__path_name(u->m.path), trove_model__isa_name());
}

static int use_set_kernel(trove_embedder *e, const char *name, trove_err *err) {
  use_lite *u = (use_lite *)e;
  use_path p;
  if (trove_model__path_parse(name, &p))
    return trove_err_set(err, TROVE_EINVAL, "unknown kernel path \"%s\": use auto, fp32, int8 "
                         "or bf16", name);
  if (p == USE_PATH_AUTO)
    p = trove_model__path_best();
  if (!trove_model__path_available(p))
    return trove_err_set(err, TROVE_EUNSUPPORTED,
                         "kernel path %s needs a CPU with %s; this "
                         "one offers %s: use fp32 or auto",
                         trove_model__path_name(p),
                         p == USE_PATH_BF16 ? "AVX512_BF16" : "VNNI (AVX512_VNNI or AVX-VNNI)",
                         trove_model__isa_name());
  int rc = trove_model__model_prepare(&u->m, p, err);
  if (!rc) {
    u->m.path = p;
    describe_kernel(u);
  }
  return rc;
}

static const embedder_ops use_ops = {use_destroy, use_tokenize, use_embed, use_set_kernel};

/* The kernel path at open: $TROVE_KERNEL when set, else auto. */
static int choose_kernel(use_lite *u, trove_err *err) {
  const char *forced = getenv("TROVE_KERNEL");
  if (!forced || !*forced)
    return use_set_kernel(&u->base, "auto", err);
  trove_err why = {0};
  int rc = use_set_kernel(&u->base, forced, &why);
  return rc ? trove_err_set(err, rc, "TROVE_KERNEL=%s: %s", forced, why.msg) : 0;
}

/* Loads vocab.json and checks it against the embedding table. */
static int load_vocab(const char *dir, use_lite *u, trove_err *err) {
  char *json;
  size_t len;
  int rc = trove_model__read_file(dir, "vocab.json", (size_t)64 << 20, &json, &len, err);
  if (rc)
    return rc == TROVE_ERANGE ? trove_err_set(err, TROVE_ECORRUPT, "%s is over 64 MB; it is "
                                              "not the USE-lite model's", "vocab.json")
                              : rc;
  rc = trove_model__sums_check(&u->w.sums, "vocab.json", json, len, err);
  if (!rc)
    rc = trove_model__vocab_parse(json, len, RESERVED_PIECES, &u->v, err);
  trove_free(json);
  if (!rc && u->v.n > u->m.rows)
    rc = trove_err_set(err, TROVE_ECORRUPT,
                       "vocab.json has %zu pieces but the model embeds only %zu; the vocabulary "
                       "does not belong to this model, reinstall it (scripts/fetch-model.sh)",
                       u->v.n, u->m.rows);
  return rc;
}

int trove_embedder_open_use_lite(const char *dir, trove_embedder **out, trove_err *err) {
  if (!out)
    return trove_err_set(err, TROVE_EINVAL, "trove_embedder_open_use_lite: out is NULL");
  *out = NULL;
  if (!dir)
    dir = trove_model_default_dir();
  use_lite *u = trove_calloc(1, sizeof *u);
  if (!u)
    return trove_err_set(err, TROVE_ENOMEM, "out of memory opening the model");
  for (; u->nslots < SLOTS; u->nslots++)
    if (pthread_mutex_init(&u->slot[u->nslots].lock, NULL))
      break; /* fewer slots only means more private scratch */
  u->base = (trove_embedder){.ops = &use_ops, .name = "use-lite-en-0.2.0", .dim = USE_HID,
                             .threads = default_threads()};
  int rc;
  rc = trove_model__weights_load(dir, &u->w, err);
  if (!rc)
    rc = trove_model__model_bind(&u->w, &u->m, err);
  if (!rc)
    rc = load_vocab(dir, u, err);
  if (!rc)
    rc = choose_kernel(u, err);
  if (rc) {
    use_destroy(&u->base);
    return rc;
  }
  u->base.max_tokens = u->m.max_tokens;
  *out = &u->base;
  return 0;
}

/* ---- the interface ------------------------------------------------------ */

void trove_embedder_close(trove_embedder *e) {
  if (e)
    e->ops->destroy(e);
}

const char *trove_embedder_name(const trove_embedder *e) { return e ? e->name : ""; }
size_t trove_embedder_dim(const trove_embedder *e) { return e ? e->dim : 0; }
size_t trove_embedder_max_tokens(const trove_embedder *e) { return e ? e->max_tokens : 0; }

int trove_embedder_set_threads(trove_embedder *e, size_t threads) {
  if (!e)
    return TROVE_EINVAL;
  e->threads = threads == 0 ? default_threads() : threads > MAX_THREADS ? MAX_THREADS : threads;
  return 0;
}

int trove_embedder_set_kernel(trove_embedder *e, const char *name, trove_err *err) {
  if (!e || !name)
    return trove_err_set(err, TROVE_EINVAL, "trove_embedder_set_kernel: NULL argument");
  return e->ops->set_kernel(e, name, err);
}

const char *trove_embedder_kernel(const trove_embedder *e) { return e ? e->kernel : ""; }

bool trove_embedder_kernel_known(const char *name) {
  use_path p;
  return name && trove_model__path_parse(name, &p) == 0;
}

int trove_embedder_tokenize(const trove_embedder *e, const char *text, size_t len,
                            trove_tokens *out, trove_err *err) {
  if (!e || !out || (!text && len))
    return trove_err_set(err, TROVE_EINVAL, "trove_embedder_tokenize: NULL argument");
  return e->ops->tokenize(e, text ? text : "", len, out, err);
}

uint64_t trove_embedder_texts(const trove_embedder *e) {
  return e ? atomic_load_explicit(&e->texts, memory_order_relaxed) : 0;
}

int trove_embedder_embed_batch(const trove_embedder *e, const char *const *texts,
                               const size_t *lens, size_t n, float *out, trove_err *err) {
  size_t total;
  if (!e || (n && (!texts || !out)))
    return trove_err_set(err, TROVE_EINVAL, "trove_embedder_embed_batch: NULL argument");
  if (!trove_mul_ok(n, e->dim, &total) || !trove_mul_ok(total, sizeof(float), &total))
    return trove_err_set(err, TROVE_ERANGE, "trove_embedder_embed_batch: %zu texts is too many",
                         n);
  int rc = n ? e->ops->embed(e, texts, lens, n, out, err) : 0;
  /* e is const to callers but never a const object (trove_calloc'd) */
  atomic_fetch_add_explicit(&((trove_embedder *)e)->texts, n, memory_order_relaxed);
  /* A model computes finite vectors from any text; a NaN or infinity means
   * damaged weights that passed the checks at open (no SHA256SUMS). */
  for (size_t i = 0; !rc && i < n * e->dim; i++)
    if (!isfinite(out[i]))
      rc = trove_err_set(err, TROVE_ECORRUPT,
                         "the vector of text %zu has a non-finite value: the model files are "
                         "damaged; run scripts/fetch-model.sh again (or point TROVE_MODEL at an "
                         "intact copy)", i / e->dim);
  return rc;
}
