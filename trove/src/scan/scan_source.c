/* scan_source.c: the scan pipeline's first stage. Opens the stored source by
 * its type and config (sources.h) and emits its candidates as scan batches
 * of up to 64, the unit the match stage looks up in one query. Candidate
 * strings are moved, not copied, out of the sources module's batch. */
#include "scan.h"
#include "scan_int.h"

#include "json.h"
#include "sources.h"

#include <stdatomic.h>
#include <string.h>

/* Globs read from an fs source's config; the strings point into doc. */
typedef struct fs_config {
  trove_json_doc *doc;
  const char **include, **exclude;
  size_t n_include, n_exclude;
} fs_config;

static void fs_config_free(fs_config *fc) {
  trove_json_free(fc->doc);
  trove_free(fc->include);
  trove_free(fc->exclude);
}

static int get_list(const trove_json *root, const char *key, const char ***v, size_t *n) {
  const trove_json *a = trove_json_get(root, key);
  *n = trove_json_len(a);
  if (trove_json_type_of(a) != TROVE_JSON_ARRAY || *n == 0) {
    *n = 0;
    return 0;
  }
  if (!(*v = trove_calloc(*n, sizeof **v)))
    return TROVE_ENOMEM;
  for (size_t i = 0; i < *n; i++)
    (*v)[i] = trove_json_str(trove_json_at(a, i), "");
  return 0;
}

static int fs_config_parse(const char *json, fs_config *fc, trove_err *err) {
  memset(fc, 0, sizeof *fc);
  const char *text = json && json[0] ? json : "{}";
  trove_err e = {0};
  int rc = trove_json_parse(text, strlen(text), 0, &fc->doc, &e);
  if (rc)
    return trove_err_set(err, rc, "the source's stored config is not valid JSON (%s); remove and add the source again", e.msg);
  const trove_json *root = trove_json_root(fc->doc);
  rc = get_list(root, "include", &fc->include, &fc->n_include);
  rc = rc ? rc : get_list(root, "exclude", &fc->exclude, &fc->n_exclude);
  if (rc)
    trove_err_set(err, rc, "out of memory reading the source config");
  return rc;
}

int scan_fs_config_edit(const char *old, const trove_scan_globs *g, char **out,
                        trove_err *err) {
  fs_config fc;
  int rc = fs_config_parse(old, &fc, err);
  if (rc == 0)
    rc = trove_scan_fs_config(g->set_include ? g->include : fc.include,
                              g->set_include ? g->n_include : fc.n_include,
                              g->set_exclude ? g->exclude : fc.exclude,
                              g->set_exclude ? g->n_exclude : fc.n_exclude, out, err);
  fs_config_free(&fc);
  return rc;
}

/* Opens the source c describes. */
static int open_source(scan_ctx *c, trove_source **src, trove_err *err) {
  if (strcmp(c->type, "fs") == 0) {
    fs_config fc;
    int rc = fs_config_parse(c->config, &fc, err);
    if (rc == 0) {
      trove_fs_options o = {.include = fc.include, .n_include = fc.n_include,
                            .exclude = fc.exclude, .n_exclude = fc.n_exclude,
                            .only = c->only, .n_only = c->n_only};
      rc = trove_source_open_fs(c->location, &o, src, err);
    }
    fs_config_free(&fc);
    return rc;
  }
  if (strcmp(c->type, "chromium-history") == 0)
    return trove_source_open_chromium_history(c->location, c->copies, src, err);
  if (strcmp(c->type, "chromium-bookmarks") == 0)
    return trove_source_open_chromium_bookmarks(c->location, src, err);
  if (strcmp(c->type, "firefox") == 0)
    return trove_source_open_firefox(c->location, TROVE_FIREFOX_HISTORY | TROVE_FIREFOX_BOOKMARKS,
                                     c->copies, src, err);
  return trove_err_set(err, TROVE_EUNSUPPORTED,
                       "unknown source type \"%s\"; use fs, chromium-history, chromium-bookmarks or firefox",
                       c->type);
}

/* Moves the candidates of tb into a new scan batch *out. */
static int take_batch(trove_batch *tb, scan_batch **out) {
  scan_batch *sb = trove_calloc(1, sizeof *sb);
  if (!sb)
    return TROVE_ENOMEM;
  for (size_t i = 0; i < tb->n && i < 64; i++) {
    trove_candidate *cd = &tb->items[i];
    scan_item *it = trove_calloc(1, sizeof *it);
    if (!it) {
      scan_batch_free(sb, NULL);
      return TROVE_ENOMEM;
    }
    it->external_id = cd->external_id, cd->external_id = NULL;
    it->path = cd->path, cd->path = NULL;
    it->browser_title = cd->title, cd->title = NULL;
    it->type = cd->type;
    bool local = it->type == TROVE_ITEM_LOCAL;
    it->mtime_us = local ? cd->time_us : 0;
    it->size = local ? cd->size : -1;
    it->visited = (cd->visited_us ? cd->visited_us : it->type == TROVE_ITEM_LOCAL ? 0 : cd->time_us) / 1000000;
    sb->items[sb->n++] = it;
  }
  *out = sb;
  return 0;
}

/* Copies the paths the source could not read into c, for the end of the
 * scan (the source is closed before). 0 or TROVE_ENOMEM. */
static int keep_unread_paths(scan_ctx *c, const trove_source *src) {
  const char *const *paths;
  size_t n;
  trove_source_unread_paths(src, &paths, &n);
  if (n == 0)
    return 0;
  if (!(c->unread = trove_calloc(n, sizeof *c->unread)))
    return TROVE_ENOMEM;
  for (; c->n_unread < n; c->n_unread++)
    if (!(c->unread[c->n_unread] = trove_strdup(paths[c->n_unread])))
      return TROVE_ENOMEM; /* what was copied is freed with the context */
  return 0;
}

int scan_source_stage(void *user, sl_emitter *out) {
  scan_ctx *c = user;
  trove_source *src = NULL;
  trove_batch tb = {0};
  trove_err e = {0};
  int rc = open_source(c, &src, &e);
  while (rc == 0) {
    if ((rc = scan_check_stop(c)))
      break; /* recorded: failing cancels the pipeline */
    int n = trove_source_next(src, &tb, &e);
    if (n <= 0) {
      rc = n;
      break;
    }
    atomic_fetch_add_explicit(&c->seen, n, memory_order_relaxed); /* read after the join */
    scan_batch *sb = NULL;
    if ((rc = take_batch(&tb, &sb)) != 0) {
      trove_err_set(&e, rc, "out of memory reading the source");
      break;
    }
    if (sl_emit(out, sb) != 0)
      break; /* canceled downstream: that stage recorded why */
  }
  if (rc == 0) /* the total is known now: the progress line can give an ETA */
    atomic_store_explicit(&c->source_done, true, memory_order_relaxed);
  if (rc == 0 && (rc = keep_unread_paths(c, src)))
    trove_err_set(&e, rc, "out of memory noting the paths the scan could not read");
  trove_batch_clear(&tb);
  trove_source_close(src);
  return rc ? scan_fatal(c, &e, rc) : 0;
}
