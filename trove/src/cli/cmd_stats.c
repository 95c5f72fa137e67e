/* cmd_stats.c: what the database holds: `trove stats` (items, passages and
 * vectors in total and per source with its status, skipped items by
 * reason, the items kept after their browser expired them (retention
 * keep), the database's size, and the model with the kernel path it runs
 * on) and `trove skipped [SOURCE]` (each item a search cannot return:
 * skipped or failed, with the reason and error, and hidden). Both read the
 * same counts as `source list`, so the three agree; both take --json. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "trove stats [--json]\n"
    "  items, passages and vectors in all and per source, the items kept after\n"
    "  their browser expired them, skip reasons, the model";
static const char usage_skipped[] =
    "trove skipped [SOURCE] [--json]\n"
    "  the items search cannot return: skipped or failed (with the reason and the\n"
    "  error), and hidden (trove unhide ID); with -v, scan names them as it goes";

static const cli_opt json_opt[] = {{"json", 0, false}, {0}};

static int on_json(void *ctx, int id, const char *val) {
  (void)id, (void)val;
  *(bool *)ctx = true;
  return CLI_OK;
}

/* The model and its kernel path into *emb, or why there is none into e:
 * stats still works without a model. */
static void open_model(const cli *c, trove_embedder **emb, trove_err *e) {
  if (c->no_model)
    snprintf(e->msg, sizeof e->msg, "none (--no-model)");
  else if (cli_embedder_open(c, NULL, emb, e)) {
    trove_err why = *e; /* not formatted into itself */
    trove_err_set(e, why.code, "unavailable: %s", why.msg);
  }
}

/* Each source's status, by name, from the source list. */
static const char *status_of(const trove_store_source *v, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(v[i].name, name) == 0)
      return trove_source_status_name(v[i].status);
  return "ready";
}

static int stats_json(const trove_store *st, const trove_store_stats *s,
                      const trove_store_source *src, size_t n_src, const trove_embedder *emb,
                      const trove_err *model_err) {
  trove_buf b = {0};
  trove_json_out o = {.b = &b};
  trove_json_out_object(&o, NULL);
  trove_json_out_str(&o, "database", trove_store_path(st));
  trove_json_out_int(&o, "bytes", s->db_bytes);
  trove_json_out_int(&o, "items", s->items);
  trove_json_out_int(&o, "passages", s->passages);
  trove_json_out_int(&o, "vectors", s->vectors);
  trove_json_out_int(&o, "expired", s->expired);
  trove_json_out_array(&o, "sources");
  for (size_t i = 0; i < s->n_sources; i++) {
    const trove_store_source_stats *x = &s->sources[i];
    trove_json_out_object(&o, NULL);
    trove_json_out_str(&o, "name", x->name);
    trove_json_out_str(&o, "status", status_of(src, n_src, x->name));
    trove_json_out_int(&o, "items", x->items);
    trove_json_out_int(&o, "hidden", x->hidden);
    trove_json_out_int(&o, "skipped", x->skipped);
    trove_json_out_int(&o, "passages", x->passages);
    trove_json_out_int(&o, "expired", x->expired);
    trove_json_out_end(&o);
  }
  trove_json_out_end(&o);
  trove_json_out_array(&o, "skipped");
  for (size_t i = 0; i < s->n_reasons; i++) {
    trove_json_out_object(&o, NULL);
    trove_json_out_str(&o, "reason", s->reasons[i].reason);
    trove_json_out_int(&o, "count", s->reasons[i].count);
    trove_json_out_end(&o);
  }
  trove_json_out_end(&o);
  trove_json_out_object(&o, "model");
  trove_json_out_str(&o, "name", emb ? trove_embedder_name(emb) : NULL);
  trove_json_out_str(&o, "kernel", emb ? trove_embedder_kernel(emb) : NULL);
  trove_json_out_str(&o, "unavailable", emb ? NULL : model_err->msg);
  trove_json_out_end(&o);
  trove_json_out_end(&o);
  return cli_json_print(&o, 0);
}

static void stats_text(const trove_store *st, const trove_store_stats *s,
                       const trove_store_source *src, size_t n_src, const trove_embedder *emb,
                       const trove_err *model_err) {
  trove_term_line(stdout, "database   %s (%.1f MB)", trove_store_path(st),
                  (double)s->db_bytes / 1e6);
  printf("items      %lld\npassages   %lld\nvectors    %lld\n", (long long)s->items,
         (long long)s->passages, (long long)s->vectors);
  if (s->expired)
    printf("expired    %lld (kept after the browser expired them)\n", (long long)s->expired);
  for (size_t i = 0; i < s->n_sources; i++) {
    const trove_store_source_stats *x = &s->sources[i];
    const char *status = status_of(src, n_src, x->name);
    char expired[48] = "";
    if (x->expired)
      snprintf(expired, sizeof expired, ", %lld expired", (long long)x->expired);
    trove_term_line(stdout,
                    "source %-16s %lld items, %lld hidden, %lld skipped, %lld passages%s%s%s",
                    x->name, (long long)x->items, (long long)x->hidden, (long long)x->skipped,
                    (long long)x->passages, expired, strcmp(status, "ready") ? ", " : "",
                    strcmp(status, "ready") ? status : "");
  }
  for (size_t i = 0; i < s->n_reasons; i++)
    trove_term_line(stdout, "skipped %-15s %lld", s->reasons[i].reason,
                    (long long)s->reasons[i].count);
  if (s->n_reasons)
    printf("           (trove skipped lists them)\n");
  if (emb)
    trove_term_line(stdout, "model      %s, kernel %s", trove_embedder_name(emb),
                    trove_embedder_kernel(emb));
  else
    trove_term_line(stdout, "model      %s", model_err->msg);
}

int cmd_stats(cli *c, int argc, char **argv) {
  bool json = false;
  int npos = 0;
  int rc = cli_parse(c, usage, json_opt, on_json, &json, argc, argv, &npos);
  if (rc)
    return rc;
  if (npos > 0)
    return cli_usage_error(usage, "unexpected argument \"%s\"", argv[1]);
  trove_store *st = NULL;
  trove_store_stats s = {0};
  trove_store_source *src = NULL;
  size_t n_src = 0;
  trove_embedder *emb = NULL;
  trove_err e = {0}, me = {0};
  rc = cli_open_existing(c, &st);
  int trc = rc ? 0 : trove_store_stats_get(st, &s, &e);
  trc = rc || trc ? trc : trove_store_source_list(st, &src, &n_src, &e);
  if (trc)
    rc = cli_fail(&e, trc);
  if (rc == CLI_OK) {
    open_model(c, &emb, &me);
    if (json)
      rc = stats_json(st, &s, src, n_src, emb, &me);
    else
      stats_text(st, &s, src, n_src, emb, &me);
  }
  trove_embedder_close(emb);
  trove_store_sources_free(src, n_src);
  trove_store_stats_clear(&s);
  trove_store_close(st);
  return rc;
}

/* ---- skipped ------------------------------------------------------------------- */

static int skipped_json(const trove_store_skip *v, size_t n) {
  trove_buf b = {0};
  trove_json_out o = {.b = &b};
  trove_json_out_array(&o, NULL);
  for (size_t i = 0; i < n; i++) {
    trove_json_out_object(&o, NULL);
    trove_json_out_int(&o, "id", v[i].id);
    trove_json_out_str(&o, "source", v[i].source);
    trove_json_out_str(&o, "path", v[i].external_id);
    trove_json_out_str(&o, "title", v[i].title);
    trove_json_out_str(&o, "reason", v[i].skip_reason);
    trove_json_out_str(&o, "error", v[i].error);
    trove_json_out_bool(&o, "hidden", v[i].hidden_at != 0);
    trove_json_out_end(&o);
  }
  trove_json_out_end(&o);
  return cli_json_print(&o, 0);
}

void cli_print_skips(FILE *f, const trove_store_skip *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const char *why = v[i].skip_reason ? v[i].skip_reason : "hidden";
    trove_term_line(f, "%6lld  %-12s %-12s %s", (long long)v[i].id, v[i].source, why,
                    v[i].external_id);
    if (v[i].error && v[i].error[0])
      trove_term_line(f, "%8s%s", "", v[i].error);
    if (v[i].skip_reason && v[i].hidden_at)
      trove_term_line(f, "%8salso hidden (trove unhide %lld)", "", (long long)v[i].id);
  }
}

int cmd_skipped(cli *c, int argc, char **argv) {
  bool json = false;
  int npos = 0;
  int rc = cli_parse(c, usage_skipped, json_opt, on_json, &json, argc, argv, &npos);
  if (rc)
    return rc;
  if (npos > 1)
    return cli_usage_error(usage_skipped, "unexpected argument \"%s\"", argv[2]);
  trove_store *st = NULL;
  trove_store_source src = {0};
  trove_store_skip *v = NULL;
  size_t n = 0;
  trove_err e = {0};
  rc = cli_open_existing(c, &st);
  int trc = rc || npos == 0 ? 0 : trove_store_source_get(st, argv[1], &src, &e);
  trc = rc || trc ? trc : trove_store_items_skipped(st, src.id, 0, &v, &n, &e);
  if (trc)
    rc = cli_fail(&e, trc);
  else if (rc == CLI_OK && json)
    rc = skipped_json(v, n);
  else if (rc == CLI_OK && n == 0)
    trove_term_line(stdout, "nothing skipped or hidden%s%s", npos ? " in " : "",
                    npos ? src.name : "");
  else if (rc == CLI_OK)
    cli_print_skips(stdout, v, n);
  trove_store_skips_free(v, n);
  trove_store_source_clear(&src);
  trove_store_close(st);
  return rc;
}
