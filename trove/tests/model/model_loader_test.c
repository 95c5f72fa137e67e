/* model_loader_test.c: the model loader rejects every kind of damage with a
 * clear error and no crash: damaged copies of the real model are built in a
 * temporary folder (unchanged files are symlinks to the originals) and each
 * must fail with the documented code and a message naming the problem.
 * Also: the intact copy opens, bad arguments, and a fault loop over every
 * allocation of trove_embedder_open_use_lite. */
#include "model_int.h"
#include "core_test_hooks.h" /* trove_alloc_fail_after */

#include "check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *src;   /* the real model folder */
static char tmp[256];     /* the damaged copy */

static const char *files[] = {"model.json", "vocab.json", "group1-shard1of7", "group1-shard2of7",
                              "group1-shard3of7", "group1-shard4of7", "group1-shard5of7",
                              "group1-shard6of7", "group1-shard7of7"};
enum { NFILES = sizeof files / sizeof *files };

static void path_of(char *out, size_t n, const char *dir, const char *name) {
  snprintf(out, n, "%s/%s", dir, name);
}

/* Resets the copy: every file a symlink to the original, no SHA256SUMS. */
static void fresh_copy(void) {
  char a[1024], b[1024];
  path_of(b, sizeof b, tmp, "SHA256SUMS");
  unlink(b);
  for (int i = 0; i < NFILES; i++) {
    path_of(a, sizeof a, src, files[i]);
    path_of(b, sizeof b, tmp, files[i]);
    unlink(b);
    CHECK(symlink(a, b) == 0);
  }
}

static char *read_orig(const char *name, size_t *len) {
  char *data = NULL;
  int rc = trove_model__read_file(src, name, (size_t)1 << 30, &data, len, NULL);
  CHECK(rc == 0);
  return rc == 0 ? data : NULL;
}

/* Writes the copy's SHA256SUMS (sha256sum's format) from the copy's files
 * as they are now, leaving out the file called skip (NULL: none). */
static void write_sums_skipping(const char *skip) {
  trove_buf b = {0};
  for (int i = 0; i < NFILES; i++) {
    if (skip && strcmp(files[i], skip) == 0)
      continue;
    char *data;
    size_t len;
    CHECK(trove_model__read_file(tmp, files[i], (size_t)1 << 30, &data, &len, NULL) == 0);
    unsigned char d[TROVE_SHA256_LEN];
    trove_sha256(data, len, d);
    for (int j = 0; j < TROVE_SHA256_LEN; j++)
      trove_buf_printf(&b, "%02x", d[j]);
    trove_buf_printf(&b, "  %s\n", files[i]);
    trove_free(data);
  }
  char p[1024];
  path_of(p, sizeof p, tmp, "SHA256SUMS");
  FILE *f = fopen(p, "wb");
  CHECK(f && fwrite(b.data, 1, b.len, f) == b.len);
  fclose(f);
  trove_buf_free(&b);
}

static void write_sums(void) { write_sums_skipping(NULL); }

/* Replaces name in the copy by len bytes of data. */
static void write_copy(const char *name, const char *data, size_t len) {
  char p[1024];
  path_of(p, sizeof p, tmp, name);
  unlink(p);
  FILE *f = fopen(p, "wb");
  CHECK(f && fwrite(data, 1, len, f) == len);
  fclose(f);
}

/* Replaces the first `from` in the copy's file name by `to`, searching
 * after the weightsManifest key and then after `anchor` when not NULL. */
static void edit_at(const char *name, const char *anchor, const char *from, const char *to) {
  size_t len;
  char *d = read_orig(name, &len), *at = strstr(d, "\"weightsManifest\"");
  at = at ? at : d;
  if (anchor)
    at = strstr(at, anchor);
  CHECK(at != NULL);
  at = at ? strstr(at, from) : NULL;
  CHECK(at != NULL);
  trove_buf b = {0};
  trove_buf_append(&b, d, (size_t)(at - d));
  trove_buf_puts(&b, to);
  trove_buf_append(&b, at + strlen(from), len - (size_t)(at - d) - strlen(from));
  write_copy(name, b.data, b.len);
  trove_buf_free(&b);
  trove_free(d);
}

static void edit_copy(const char *name, const char *from, const char *to) {
  edit_at(name, NULL, from, to);
}

static const char EMB[] = "\"module/Embeddings_en\"";
static const char TANH[] = "\"module/Encoder_en/hidden_layers/tanh_layer_0/weights\"";

/* Opens the copy expecting code, with msg_part in the message. */
static void expect(int code, const char *msg_part) {
  trove_embedder *e = (trove_embedder *)1;
  trove_err err = {0};
  int rc = trove_embedder_open_use_lite(tmp, &e, &err);
  if (rc != code || !strstr(err.msg, msg_part))
    fprintf(stderr, "  got %d (%s), want %d with \"%s\"\n", rc, err.msg, code, msg_part);
  CHECK(rc == code && err.code == code);
  CHECK(strstr(err.msg, msg_part) != NULL);
  CHECK(e == NULL);
  fresh_copy();
}

static void intact_copy_opens_and_embeds_a_unit_vector(void) {
  trove_embedder *e;
  trove_err err = {0};
  CHECK(trove_embedder_open_use_lite(tmp, &e, &err) == 0);
  float v[512];
  const char *t = "hello";
  CHECK(trove_embedder_embed_batch(e, &t, NULL, 1, v, NULL) == 0);
  double sq = 0;
  for (int i = 0; i < 512; i++)
    sq += (double)v[i] * v[i];
  CHECK(fabs(sq - 1) < 1e-5);
  trove_embedder_close(e);
}

static void missing_files_are_enoent_naming_the_file(void) {
  static const char *which[] = {"model.json", "vocab.json", "group1-shard4of7"};
  for (int i = 0; i < 3; i++) {
    char p[1024];
    path_of(p, sizeof p, tmp, which[i]);
    unlink(p);
    expect(TROVE_ENOENT, which[i]);
  }
  char p[1024];
  snprintf(p, sizeof p, "%s/does-not-exist", tmp);
  trove_embedder *e;
  CHECK(trove_embedder_open_use_lite(p, &e, NULL) == TROVE_ENOENT);
}

static void unreadable_file_is_eio(void) {
  char p[1024];
  path_of(p, sizeof p, tmp, "vocab.json");
  unlink(p);
  CHECK(mkdir(p, 0700) == 0); /* opens, but every read fails (EISDIR) */
  trove_embedder *e = (trove_embedder *)1;
  trove_err err = {0};
  CHECK(trove_embedder_open_use_lite(tmp, &e, &err) == TROVE_EIO && e == NULL);
  CHECK(strstr(err.msg, "vocab.json") != NULL);
  rmdir(p);
  fresh_copy();
}

static void truncated_shard_is_ecorrupt_naming_it(void) {
  size_t len;
  char *d = read_orig("group1-shard3of7", &len);
  write_copy("group1-shard3of7", d, 1000);
  expect(TROVE_ECORRUPT, "group1-shard3of7 is truncated");
  write_copy("group1-shard3of7", d, 0);
  expect(TROVE_ECORRUPT, "group1-shard3of7 is truncated");
  trove_free(d);
  d = read_orig("group1-shard7of7", &len);
  write_copy("group1-shard7of7", d, len - 4);
  expect(TROVE_ECORRUPT, "group1-shard7of7 is truncated");
  trove_free(d);
}

static void manifest_sizes_disagreeing_with_shards_are_ecorrupt(void) {
  /* the manifest lists fewer bytes than the shards hold */
  edit_at("model.json", EMB, "8002,", "8001,");
  expect(TROVE_ECORRUPT, "disagree");
  /* a shard longer than the manifest allows */
  size_t len;
  char *d = read_orig("group1-shard7of7", &len);
  char *more = malloc(len + 16);
  memcpy(more, d, len);
  memset(more + len, 0, 16);
  write_copy("group1-shard7of7", more, len + 16);
  expect(TROVE_ECORRUPT, "disagree");
  free(more);
  trove_free(d);
  /* a tensor whose shape the model does not expect, sizes still adding up */
  edit_at("model.json", TANH, "512,\n            512", "256,\n            1024");
  expect(TROVE_ECORRUPT, "unexpected shape");
}

static void wrong_dtype_is_rejected(void) {
  edit_copy("model.json", "\"dtype\": \"float32\"", "\"dtype\": \"float16\"");
  expect(TROVE_EUNSUPPORTED, "float16");
  edit_copy("model.json", "\"dtype\": \"float32\"", "\"dtype\": \"int32\"");
  expect(TROVE_ECORRUPT, "is not float32");
  edit_copy("model.json", "\"dtype\": \"float32\"",
            "\"dtype\": \"float32\", \"quantization\": {\"dtype\": \"uint8\"}");
  expect(TROVE_EUNSUPPORTED, "quantized");
}

static void corrupt_vocab_is_ecorrupt(void) {
  size_t len;
  char *d = read_orig("vocab.json", &len);
  write_copy("vocab.json", d, len / 2); /* truncated JSON */
  expect(TROVE_ECORRUPT, "vocab.json is damaged");
  trove_free(d);
  edit_copy("vocab.json", "[\"<s>\",0]", "[\"<s>\"]");
  expect(TROVE_ECORRUPT, "entry 1 is not a [piece, score] pair");
  edit_copy("vocab.json", "[\"s\",-3.34484124184]", "[\"s\",\"x\"]");
  expect(TROVE_ECORRUPT, "entry 7");
  edit_copy("vocab.json", "[\"s\",-3.34484124184]", "[\"\",-3.34484124184]");
  expect(TROVE_ECORRUPT, "empty piece");
  write_copy("vocab.json", "{\"a\":1}", 7);
  expect(TROVE_ECORRUPT, "must be an array");
  /* more pieces than the embedding table has rows */
  d = read_orig("vocab.json", &len);
  trove_buf b = {0};
  trove_buf_append(&b, d, len);
  while (b.len && b.data[b.len - 1] != ']') /* trailing whitespace */
    b.len--;
  b.len--; /* the outer ']' */
  for (int i = 0; i < 10; i++)
    trove_buf_printf(&b, ",[\"zz%d\",-20]", i);
  trove_buf_puts(&b, "]");
  write_copy("vocab.json", b.data, b.len);
  expect(TROVE_ECORRUPT, "does not belong to this model");
  trove_buf_free(&b);
  trove_free(d);
}

static void damaged_manifest_is_ecorrupt(void) {
  write_copy("model.json", "{\"weightsManifest\": [", 21);
  expect(TROVE_ECORRUPT, "model.json is damaged");
  write_copy("model.json", "{}", 2);
  expect(TROVE_ECORRUPT, "no weightsManifest");
  edit_copy("model.json", "\"group1-shard2of7\"", "\"../group1-shard2of7\"");
  expect(TROVE_ECORRUPT, "not a plain file name");
  edit_copy("model.json", EMB, "\"module/Other\"");
  expect(TROVE_ECORRUPT, "module/Embeddings_en is missing");
  edit_at("model.json", EMB, "8002,", "-8002,");
  expect(TROVE_ECORRUPT, "bad dimension");
  edit_at("model.json", EMB, "8002,", "4611686018427387904,");
  expect(TROVE_ECORRUPT, "bad dimension");
}

/* 64 KB of zeros inside a shard keep every size right. */
static void zero_inside_shard(const char *name) {
  size_t len;
  char *d = read_orig(name, &len);
  CHECK(len > (size_t)192 << 10);
  memset(d + len / 2, 0, (size_t)64 << 10);
  write_copy(name, d, len);
  trove_free(d);
}

static void open_copy_ok(void) {
  trove_embedder *e = NULL;
  trove_err err = {0};
  int rc = trove_embedder_open_use_lite(tmp, &e, &err);
  if (rc)
    fprintf(stderr, "  open failed: %d (%s)\n", rc, err.msg);
  CHECK(rc == 0 && e != NULL);
  trove_embedder_close(e);
}

static void intact_copy_with_sums_opens(void) {
  write_sums();
  open_copy_ok();
  fresh_copy();
}

static void damage_keeping_sizes_is_ecorrupt_against_sums_naming_the_file(void) {
  write_sums(); /* recorded intact, then damaged */
  zero_inside_shard("group1-shard4of7");
  expect(TROVE_ECORRUPT, "group1-shard4of7 does not match its SHA-256");
  write_sums();
  zero_inside_shard("group1-shard4of7");
  expect(TROVE_ECORRUPT, "run scripts/fetch-model.sh again");
  /* the vocabulary cut to its first 7 entries, still valid JSON */
  write_sums();
  size_t len;
  char *d = read_orig("vocab.json", &len), *at = d;
  for (int i = 0; i < 7 && at; i++)
    at = strstr(at + 1, "],");
  CHECK(at != NULL);
  trove_buf b = {0};
  trove_buf_append(&b, d, (size_t)(at - d));
  trove_buf_puts(&b, "]]");
  write_copy("vocab.json", b.data, b.len);
  trove_buf_free(&b);
  trove_free(d);
  expect(TROVE_ECORRUPT, "vocab.json does not match its SHA-256");
  write_sums();
  edit_at("model.json", EMB, "8002,", "8002 ,"); /* the same manifest, other bytes */
  expect(TROVE_ECORRUPT, "model.json does not match its SHA-256");
}

static void sums_file_missing_an_entry_or_malformed_is_ecorrupt(void) {
  write_sums_skipping("group1-shard7of7");
  expect(TROVE_ECORRUPT, "group1-shard7of7 is not listed in SHA256SUMS");
  write_copy("SHA256SUMS", "abc  model.json\n", 16);
  expect(TROVE_ECORRUPT, "SHA256SUMS line 1");
}

static void copy_without_sums_is_only_size_checked(void) {
  zero_inside_shard("group1-shard4of7"); /* not seen without recorded digests */
  open_copy_ok();
  fresh_copy();
}

/* NaN weights in the last dense layer give NaN vectors; embedding names the
 * model as damaged instead of handing them on. fp32: the int8 path would
 * quantize the NaNs at open. */
static void non_finite_vector_names_the_model_damaged(void) {
  use_weights w;
  CHECK(trove_model__weights_load(src, &w, NULL) == 0);
  const char *tanh = "module/Encoder_en/hidden_layers/tanh_layer_0/weights";
  size_t k = 0;
  while (k < w.n && strcmp(w.t[k].name, tanh) != 0)
    k++;
  CHECK(k < w.n);
  float nan = NAN;
  for (size_t i = 0; i < w.t[k].count; i++)
    memcpy(w.data + w.t[k].offset + 4 * i, &nan, 4);
  /* cut the weights back into the shards they came from */
  size_t off = 0;
  for (size_t i = 0; i < w.npaths; i++) {
    char p[1024];
    struct stat st;
    path_of(p, sizeof p, src, w.paths[i]);
    CHECK(stat(p, &st) == 0);
    write_copy(w.paths[i], (const char *)w.data + off, (size_t)st.st_size);
    off += (size_t)st.st_size;
  }
  trove_model__weights_free(&w);
  CHECK(setenv("TROVE_KERNEL", "fp32", 1) == 0);
  trove_embedder *e = NULL;
  trove_err err = {0};
  CHECK(trove_embedder_open_use_lite(tmp, &e, &err) == 0);
  unsetenv("TROVE_KERNEL");
  float v[2 * 512];
  const char *t[] = {"hello", "a query"};
  int rc = trove_embedder_embed_batch(e, t, NULL, 2, v, &err);
  if (rc != TROVE_ECORRUPT)
    fprintf(stderr, "  got %d (%s)\n", rc, err.msg);
  CHECK(rc == TROVE_ECORRUPT && strstr(err.msg, "non-finite") &&
        strstr(err.msg, "model files are damaged") && strstr(err.msg, "fetch-model.sh"));
  trove_embedder_close(e);
  fresh_copy();
}

static void trove_model_env_overrides_the_default_dir(void) {
  const char *builtin = trove_model_default_dir();
  CHECK(setenv("TROVE_MODEL", tmp, 1) == 0);
  CHECK(strcmp(trove_model_default_dir(), tmp) == 0);
  trove_embedder *e;
  CHECK(trove_embedder_open_use_lite(NULL, &e, NULL) == 0); /* NULL dir: the default */
  trove_embedder_close(e);
  char p[1024];
  path_of(p, sizeof p, tmp, "vocab.json");
  unlink(p); /* proves the copy, not the built-in folder, was read */
  CHECK(trove_embedder_open_use_lite(NULL, &e, NULL) == TROVE_ENOENT);
  fresh_copy();
  CHECK(setenv("TROVE_MODEL", "", 1) == 0); /* empty: ignored */
  CHECK(strcmp(trove_model_default_dir(), builtin) == 0);
  unsetenv("TROVE_MODEL");
}

static void null_out_is_einval(void) {
  trove_err err = {0};
  CHECK(trove_embedder_open_use_lite(tmp, NULL, &err) == TROVE_EINVAL && err.code == TROVE_EINVAL);
  trove_embedder_close(NULL);
}

static void open_allocation_failures_are_clean(void) {
  for (long n = 0;; n++) {
    trove_embedder *e = (trove_embedder *)1;
    trove_err err = {0};
    trove_alloc_fail_after(n, false);
    int rc = trove_embedder_open_use_lite(tmp, &e, &err);
    long failed = trove_alloc_fail_after(-1, false);
    if (rc == 0) {
      CHECK(failed == 0);
      fprintf(stderr, "  open succeeded after %ld failing runs\n", n);
      trove_embedder_close(e);
      break;
    }
    if (rc != TROVE_ENOMEM || err.code != TROVE_ENOMEM || e != NULL || failed != 1)
      fprintf(stderr, "  n=%ld: rc %d (%s)\n", n, rc, err.msg);
    CHECK(rc == TROVE_ENOMEM && err.code == TROVE_ENOMEM && e == NULL && failed == 1);
    if (n > 5000) {
      CHECK(!"fault loop did not converge");
      break;
    }
  }
}

int main(void) {
  static char src_copy[1024]; /* the default dir, before the test sets TROVE_MODEL */
  snprintf(src_copy, sizeof src_copy, "%s", trove_model_default_dir());
  src = src_copy;
  const char *base = getenv("TMPDIR");
  snprintf(tmp, sizeof tmp, "%s/trove-model-XXXXXX", base && *base ? base : "/tmp");
  if (!mkdtemp(tmp)) {
    perror("mkdtemp");
    return 1;
  }
  fresh_copy();
  RUN(intact_copy_opens_and_embeds_a_unit_vector);
  RUN(missing_files_are_enoent_naming_the_file);
  RUN(unreadable_file_is_eio);
  RUN(truncated_shard_is_ecorrupt_naming_it);
  RUN(manifest_sizes_disagreeing_with_shards_are_ecorrupt);
  RUN(wrong_dtype_is_rejected);
  RUN(corrupt_vocab_is_ecorrupt);
  RUN(damaged_manifest_is_ecorrupt);
  RUN(intact_copy_with_sums_opens);
  RUN(damage_keeping_sizes_is_ecorrupt_against_sums_naming_the_file);
  RUN(sums_file_missing_an_entry_or_malformed_is_ecorrupt);
  RUN(copy_without_sums_is_only_size_checked);
  RUN(non_finite_vector_names_the_model_damaged);
  RUN(trove_model_env_overrides_the_default_dir);
  RUN(null_out_is_einval);
  RUN(open_allocation_failures_are_clean);
  char p[1024];
  path_of(p, sizeof p, tmp, "SHA256SUMS");
  unlink(p);
  for (int i = 0; i < NFILES; i++) {
    path_of(p, sizeof p, tmp, files[i]);
    unlink(p);
  }
  rmdir(tmp);
  return check_done("model_loader_test");
}
