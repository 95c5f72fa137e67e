/* cmd_stats.c: `trove stats`: items, passages and vectors in total and per
 * source, skipped items by reason, the database's size, and the model with
 * the kernel path it runs on. */
#include "cli.h"

#include <stdio.h>

static const char usage[] = "trove stats";

/* The model and its kernel path, or why there is none: stats still works
 * without a model. */
static void print_model(const cli *c) {
  trove_embedder *emb = NULL;
  trove_err e = {0};
  if (c->no_model)
    printf("model      none (--no-model)\n");
  else if (cli_embedder_open(c, NULL, &emb, &e))
    trove_term_line(stdout, "model      unavailable: %s", e.msg);
  else
    trove_term_line(stdout, "model      %s, kernel %s", trove_embedder_name(emb),
                    trove_embedder_kernel(emb));
  trove_embedder_close(emb);
}

int cmd_stats(const cli *c, int argc, char **argv) {
  if (cli_wants_help(argc, argv, usage))
    return CLI_OK;
  if (argc > 1)
    return cli_usage_error(usage, "unexpected argument \"%s\"", argv[1]);
  trove_store *st = NULL;
  trove_store_stats s = {0};
  trove_err e = {0};
  int rc = cli_open_read(c, &st);
  int trc = rc ? 0 : trove_store_stats_get(st, &s, &e);
  if (trc)
    rc = cli_fail(&e, trc);
  if (rc == CLI_OK) {
    trove_term_line(stdout, "database   %s (%.1f MB)", trove_store_path(st),
                    (double)s.db_bytes / 1e6);
    printf("items      %lld\npassages   %lld\nvectors    %lld\n", (long long)s.items,
           (long long)s.passages, (long long)s.vectors);
    for (size_t i = 0; i < s.n_sources; i++)
      trove_term_line(stdout, "source %-16s %lld items, %lld hidden, %lld skipped, %lld passages",
                      s.sources[i].name, (long long)s.sources[i].items,
                      (long long)s.sources[i].hidden, (long long)s.sources[i].skipped,
                      (long long)s.sources[i].passages);
    for (size_t i = 0; i < s.n_reasons; i++)
      trove_term_line(stdout, "skipped %-15s %lld", s.reasons[i].reason,
                      (long long)s.reasons[i].count);
    print_model(c);
  }
  trove_store_stats_clear(&s);
  trove_store_close(st);
  return rc;
}
