/* cli_version.c: `trove --version`: trove's version, the sluice it runs on,
 * and the model and kernel paths the commands would use, so a user can see
 * which install answers and what this CPU computes with. It opens the model
 * as a command would (--model, $TROVE_MODEL, else the search of model.h)
 * and never fails for want of one: "model unavailable" says why. */
#include "cli.h"
#include "sluice.h"

#include <stdio.h>
#include <stdlib.h>

#ifndef TROVE_VERSION
#error "TROVE_VERSION comes from trove/CMakeLists.txt"
#endif

int cli_version(const cli *c) {
  printf("trove %s\n", TROVE_VERSION);
  printf("sluice %s\n", sl_version());
  if (c->no_model) {
    printf("model none (--no-model)\n");
    return CLI_OK;
  }
  trove_embedder *emb = NULL;
  trove_err e = {0};
  if (cli_embedder_open(c, NULL, &emb, &e)) {
    trove_term_line(stdout, "model unavailable: %s", e.msg);
    return CLI_OK;
  }
  trove_term_line(stdout, "model %s in %s", trove_embedder_name(emb),
                  c->model ? c->model : trove_model_default_dir());
  const char *env = getenv("TROVE_KERNEL");
  if (c->kernel || (env && *env)) { /* one path for passages and queries */
    trove_term_line(stdout, "kernel %s", trove_embedder_kernel(emb));
  } else {
    trove_term_line(stdout, "kernel %s for passages", trove_embedder_kernel(emb));
    /* queries run on fp32 (cli.h, cli_model_open) */
    if (trove_embedder_set_kernel(emb, "fp32", &e) == 0)
      trove_term_line(stdout, "kernel %s for queries", trove_embedder_kernel(emb));
  }
  trove_embedder_close(emb);
  return CLI_OK;
}
