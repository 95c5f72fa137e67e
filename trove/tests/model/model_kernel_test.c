/* model_kernel_test.c: choosing the kernel path. Each path is forced by
 * name (trove_embedder_set_kernel) and by $TROVE_KERNEL; auto picks the
 * fastest path the CPU has; a path the CPU lacks is a clear error when
 * forced, and the embedder keeps its path. Run a second time with oneDNN
 * capped at AVX2 (DNNL_MAX_CPU_ISA=AVX2, argument "no-vnni"), where int8
 * and bf16 must be refused and auto must fall back to fp32, as on a CPU
 * without VNNI or AVX512_BF16. Every path's vector is checked to be a unit vector close to fp32's.
 * The model comes from the default dir (TROVE_MODEL or model/). */
#include "model_int.h"
#include "core_test_hooks.h" /* trove_alloc_fail_after */

#include "check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static trove_embedder *emb;
static bool expect_no_vnni;

static void embed_one(const char *text, float *out) {
  CHECK(trove_embedder_embed_batch(emb, &text, NULL, 1, out, NULL) == 0);
}

static bool starts_with(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void fp32_is_always_there(void) {
  trove_err err = {0};
  CHECK(trove_embedder_set_kernel(emb, "fp32", &err) == 0);
  CHECK(starts_with(trove_embedder_kernel(emb), "fp32 (oneDNN, "));
}

static void auto_picks_the_fastest_path_the_cpu_has(void) {
  CHECK(trove_embedder_set_kernel(emb, "auto", NULL) == 0);
  bool vnni = trove_model__path_available(USE_PATH_INT8);
  CHECK(!(expect_no_vnni && vnni));
  CHECK(starts_with(trove_embedder_kernel(emb), vnni ? "int8" : "fp32"));
}

/* Forcing a reduced-precision path: used when the CPU has what it needs
 * (feature names what), else refused with the path left unchanged. */
static void reduced_path_is_used_or_refused_clearly(use_path p, const char *feature) {
  const char *name = trove_model__path_name(p);
  CHECK(trove_embedder_set_kernel(emb, "fp32", NULL) == 0);
  trove_err err = {0};
  int rc = trove_embedder_set_kernel(emb, name, &err);
  if (!trove_model__path_available(p)) {
    CHECK(rc == TROVE_EUNSUPPORTED && err.code == rc);
    CHECK(strstr(err.msg, feature) && strstr(err.msg, trove_model__isa_name()) &&
          strstr(err.msg, "fp32"));
    CHECK(starts_with(trove_embedder_kernel(emb), "fp32")); /* unchanged */
    return;
  }
  CHECK(rc == 0 && starts_with(trove_embedder_kernel(emb), name));
  float ref[512], got[512];
  CHECK(trove_embedder_set_kernel(emb, "fp32", NULL) == 0);
  embed_one("how do I undo the last commit but keep my changes", ref);
  CHECK(trove_embedder_set_kernel(emb, name, NULL) == 0);
  embed_one("how do I undo the last commit but keep my changes", got);
  double dot = 0;
  for (int k = 0; k < 512; k++)
    dot += (double)ref[k] * got[k];
  CHECK(dot > 0.99);
}

static void int8_is_used_or_refused_clearly(void) {
  reduced_path_is_used_or_refused_clearly(USE_PATH_INT8, "VNNI");
}

static void bf16_is_used_or_refused_clearly(void) {
  reduced_path_is_used_or_refused_clearly(USE_PATH_BF16, "AVX512_BF16");
}

static void unknown_names_are_einval_listing_the_names(void) {
  trove_err err = {0};
  CHECK(trove_embedder_set_kernel(emb, "fp16", &err) == TROVE_EINVAL);
  CHECK(strstr(err.msg, "fp16") && strstr(err.msg, "auto, fp32, int8 or bf16"));
  CHECK(trove_embedder_set_kernel(emb, NULL, NULL) == TROVE_EINVAL);
  CHECK(trove_embedder_set_kernel(NULL, "fp32", NULL) == TROVE_EINVAL);
  CHECK(strcmp(trove_embedder_kernel(NULL), "") == 0);
}

static void trove_kernel_env_forces_the_path_at_open(void) {
  trove_embedder *e = NULL;
  trove_err err = {0};
  setenv("TROVE_KERNEL", "fp32", 1);
  CHECK(trove_embedder_open_use_lite(NULL, &e, &err) == 0);
  CHECK(e && starts_with(trove_embedder_kernel(e), "fp32"));
  trove_embedder_close(e);
  setenv("TROVE_KERNEL", "bogus", 1);
  CHECK(trove_embedder_open_use_lite(NULL, &e, &err) == TROVE_EINVAL && e == NULL);
  CHECK(strstr(err.msg, "TROVE_KERNEL=bogus") != NULL);
  setenv("TROVE_KERNEL", "int8", 1);
  int rc = trove_embedder_open_use_lite(NULL, &e, &err);
  CHECK(trove_model__path_available(USE_PATH_INT8) ? rc == 0
                                                   : rc == TROVE_EUNSUPPORTED && e == NULL);
  trove_embedder_close(e);
  unsetenv("TROVE_KERNEL");
}

/* Allocation failures while embedding, on each path: a clean ENOMEM. */
static void embed_allocation_failures_are_clean_on_every_path(void) {
  static const char *const names[] = {"fp32", "int8", "bf16"};
  for (size_t p = 0; p < 3; p++) {
    if (trove_embedder_set_kernel(emb, names[p], NULL))
      continue;
    for (long n = 0;; n++) {
      float out[2 * 512];
      const char *texts[2] = {"first text", "a second, somewhat longer text"};
      trove_err err = {0};
      trove_alloc_fail_after(n, false);
      int rc = trove_embedder_embed_batch(emb, texts, NULL, 2, out, &err);
      long failed = trove_alloc_fail_after(-1, false);
      if (rc == 0) {
        CHECK(failed == 0);
        break;
      }
      CHECK(rc == TROVE_ENOMEM && err.code == TROVE_ENOMEM && failed == 1);
      if (n > 1000) {
        CHECK(!"fault loop did not converge");
        break;
      }
    }
  }
}

int main(int argc, char **argv) {
  expect_no_vnni = argc > 1 && strcmp(argv[1], "no-vnni") == 0;
  unsetenv("TROVE_KERNEL");
  trove_err err = {0};
  if (trove_embedder_open_use_lite(NULL, &emb, &err)) {
    fprintf(stderr, "cannot open the model: %s\n", err.msg);
    return 1;
  }
  fprintf(stderr, "oneDNN ISA %s; default path %s\n", trove_model__isa_name(),
          trove_embedder_kernel(emb));
  trove_embedder_set_threads(emb, 1);
  RUN(fp32_is_always_there);
  RUN(auto_picks_the_fastest_path_the_cpu_has);
  RUN(int8_is_used_or_refused_clearly);
  RUN(bf16_is_used_or_refused_clearly);
  RUN(unknown_names_are_einval_listing_the_names);
  RUN(trove_kernel_env_forces_the_path_at_open);
  RUN(embed_allocation_failures_are_clean_on_every_path);
  trove_embedder_close(emb);
  return check_done("model_kernel_test");
}
