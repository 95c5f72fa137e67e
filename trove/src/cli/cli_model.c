/* cli_model.c: opening the embedding model and its vector index for a
 * command. The model directory is --model DIR, else $TROVE_MODEL, else what
 * trove_model_search_dir finds (model.h). A command that can do without vectors
 * (scan: keyword search still works, and the items stay pending for the
 * next scan with a model) gets a warning instead of an error when the model
 * is missing; semantic search cannot, and fails with the loader's message,
 * which says how to fetch the model. --no-model skips it on purpose. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

void cli_model_close(cli_model *m) {
  trove_vectors_close(m->vectors);
  trove_embedder_close(m->embedder);
  m->vectors = NULL;
  m->embedder = NULL;
}

int cli_embedder_open(const cli *c, const char *fallback, trove_embedder **out, trove_err *e) {
  int rc = trove_embedder_open_use_lite(c->model, out, e);
  const char *env = getenv("TROVE_KERNEL"), *kernel = c->kernel;
  if (!kernel && !(env && *env))
    kernel = fallback;
  if (!rc && kernel && (rc = trove_embedder_set_kernel(*out, kernel, e)) != 0) {
    trove_embedder_close(*out);
    *out = NULL;
  }
  return rc;
}

int cli_model_open(const cli *c, trove_store *st, bool required, bool for_queries,
                   cli_model *m) {
  m->embedder = NULL;
  m->vectors = NULL;
  if (c->no_model && !required)
    return CLI_OK;
  trove_err e = {0};
  int rc = c->no_model ? trove_err_set(&e, TROVE_EINVAL, "--no-model was given, but this "
                                       "needs the model")
                       : cli_embedder_open(c, for_queries ? "fp32" : NULL, &m->embedder, &e);
  if (rc && !required && !c->kernel) { /* a path asked for by name is never skipped */
    trove_term_line(stderr, "trove: warning: %s", e.msg);
    fputs("trove: indexing for keyword search only; a later scan with the model embeds what "
          "this one stored\n", stderr);
    return CLI_OK;
  }
  if (rc)
    return cli_fail(&e, rc);
  /* the pipelines spread calls over sluice's pool: one thread per call */
  trove_embedder_set_threads(m->embedder, 1);
  rc = trove_vectors_open(st, trove_embedder_name(m->embedder), trove_embedder_dim(m->embedder),
                          NULL, &m->vectors, &e);
  if (rc) {
    cli_model_close(m);
    return cli_fail(&e, rc);
  }
  if (c->verbose) {
    trove_term_line(stderr, "trove: model %s, kernel %s", trove_embedder_name(m->embedder),
                    trove_embedder_kernel(m->embedder));
    trove_term_line(stderr, "trove: vector index: %s", trove_vectors_note(m->vectors));
  }
  return CLI_OK;
}
