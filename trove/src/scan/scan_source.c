/* scan_source.c: the scan pipeline's first stage. Opens the stored source by
 * its type and config (sources.h) and emits its candidates as scan batches
 * of up to 64, the unit the match stage looks up in one query. Candidate
 * strings are moved, not copied, out of the sources module's batch. What
 * the source must not index is dropped here, before any lookup or fetch: a
 * page on an excluded domain (the config's exclude_domains), and a path or
 * URL `trove forget` removed, unless the source shows it again after the
 * forget (a visit or a modification later than it). Also parses the
 * config's parts. */
#include "scan.h"
#include "scan_int.h"

#include "json.h"
#include "sources.h"

#include <stdatomic.h>
#include <string.h>

/* Globs read from an fs source's config; the strings point into doc. */
typedef struct fs_config {
  trove_json_doc *doc;
  const char **include, **exclude, **domains;
  size_t n_include, n_exclude, n_domains;
} fs_config;

static void fs_config_free(fs_config *fc) {
  trove_json_free(fc->doc);
  trove_free(fc->include);
  trove_free(fc->exclude);
  trove_free(fc->domains);
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
  rc = rc ? rc : get_list(root, "exclude_domains", &fc->domains, &fc->n_domains);
  if (rc)
    trove_err_set(err, rc, "out of memory reading the source config");
  return rc;
}

int trove_scan__fs_config_edit(const char *old, const trove_scan_globs *g, char **out,
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

int trove_scan_web_config_parse(const char *config, trove_scan_web_config *out,
                                trove_err *err) {
  if (!out)
    return trove_err_set(err, TROVE_EINVAL, "trove_scan_web_config_parse: NULL argument");
  memset(out, 0, sizeof *out);
  fs_config fc;
  int rc = fs_config_parse(config, &fc, err);
  const char *r = rc ? NULL
                     : trove_json_get_str(trove_json_root(fc.doc), "retention", NULL);
  if (rc == 0 && r && trove_retention_parse(r, &out->retention) != 0)
    rc = trove_err_set(err, TROVE_EINVAL, "the source's stored retention \"%s\" is neither "
                       "keep nor mirror; set it with trove source edit NAME --retention", r);
  if (rc) {
    fs_config_free(&fc);
    memset(out, 0, sizeof *out);
    return rc;
  }
  out->doc = fc.doc, out->exclude_domains = fc.domains, out->n_exclude_domains = fc.n_domains;
  trove_free(fc.include);
  trove_free(fc.exclude);
  return 0;
}

void trove_scan_web_config_json(trove_json_out *o, const char *type, const char *config) {
  trove_scan_web_config w;
  if (!trove_scan_type_web(type) || trove_scan_web_config_parse(config, &w, NULL) != 0)
    return;
  trove_json_out_array(o, "exclude_domains");
  for (size_t i = 0; i < w.n_exclude_domains; i++)
    trove_json_out_str(o, NULL, w.exclude_domains[i]);
  trove_json_out_end(o);
  if (trove_scan_type_history(type))
    trove_json_out_str(o, "retention", trove_retention_name(w.retention));
  trove_scan_web_config_free(&w);
}

void trove_scan_web_config_free(trove_scan_web_config *c) {
  if (!c)
    return;
  trove_json_free(c->doc);
  trove_free(c->exclude_domains);
  memset(c, 0, sizeof *c);
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
  if (c->recent)
    return trove_source_open_history_since(c->type, c->location, c->copies, c->since_us,
                                           c->max_rows, src, err);
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

/* True when the path or URL was forgotten and the source shows nothing of
 * it since: its time (a visit, a modification, a date added) is not after
 * the forget. */
static bool forgotten(const scan_ctx *c, const trove_candidate *cd) {
  size_t lo = 0, hi = c->n_forgotten;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int cmp = strcmp(c->forgotten[mid].external_id, cd->external_id);
    if (cmp == 0) {
      int64_t t = cd->visited_us > cd->time_us ? cd->visited_us : cd->time_us;
      return t / 1000000 <= c->forgotten[mid].forgotten_at;
    }
    if (cmp < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return false;
}

/* True when cd is a page on a domain the source excludes. */
static bool excluded(const scan_ctx *c, const trove_candidate *cd) {
  for (size_t i = 0; cd->type != TROVE_ITEM_LOCAL && i < c->web.n_exclude_domains; i++)
    if (trove_url_in_domain(cd->external_id, c->web.exclude_domains[i]))
      return true;
  return false;
}

/* Moves the candidates of tb into a new scan batch *out, leaving out what
 * the source must not index (counted in c); *out is NULL when nothing is
 * left. Notes the oldest and newest visits of the history's pages (the
 * source stage's alone while it runs). */
static int take_batch(scan_ctx *c, trove_batch *tb, scan_batch **out) {
  *out = NULL;
  scan_batch *sb = trove_calloc(1, sizeof *sb);
  if (!sb)
    return TROVE_ENOMEM;
  for (size_t i = 0; i < tb->n && i < 64; i++) {
    trove_candidate *cd = &tb->items[i];
    if (cd->type == TROVE_ITEM_WEB && cd->visited_us > 0 &&
        (c->oldest_visit_us == 0 || cd->visited_us < c->oldest_visit_us))
      c->oldest_visit_us = cd->visited_us;
    if (cd->type != TROVE_ITEM_LOCAL && cd->visited_us > c->newest_visit_us)
      c->newest_visit_us = cd->visited_us;
    if (excluded(c, cd)) {
      c->excluded++;
      continue;
    }
    if (c->n_forgotten && forgotten(c, cd)) {
      c->forgotten_skipped++;
      continue;
    }
    scan_item *it = trove_calloc(1, sizeof *it);
    if (!it) {
      trove_scan__batch_free(sb, NULL);
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
  if (sb->n)
    *out = sb;
  else
    trove_scan__batch_free(sb, NULL);
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

int trove_scan__source_stage(void *user, sl_emitter *out) {
  scan_ctx *c = user;
  trove_source *src = NULL;
  trove_batch tb = {0};
  trove_err e = {0};
  int rc = open_source(c, &src, &e);
  while (rc == 0) {
    if ((rc = trove_scan__check_stop(c)))
      break; /* recorded: failing cancels the pipeline */
    int n = trove_source_next(src, &tb, &e);
    if (n <= 0) {
      rc = n;
      break;
    }
    scan_batch *sb = NULL;
    if ((rc = take_batch(c, &tb, &sb)) != 0) {
      trove_err_set(&e, rc, "out of memory reading the source");
      break;
    }
    if (!sb)
      continue; /* all of it left out */
    /* relaxed: read after the join, and by the progress display */
    atomic_fetch_add_explicit(&c->seen, (int64_t)sb->n, memory_order_relaxed);
    if (sl_emit(out, sb) != 0)
      break; /* canceled downstream: that stage recorded why */
  }
  if (rc == 0) /* the total is known now: the progress line can give an ETA */
    atomic_store_explicit(&c->source_done, true, memory_order_relaxed);
  if (rc == 0 && (rc = keep_unread_paths(c, src)))
    trove_err_set(&e, rc, "out of memory noting the paths the scan could not read");
  trove_source_stats ss;
  trove_source_get_stats(src, &ss);
  c->rows = (int64_t)ss.rows, c->max_visit_id = ss.max_visit_id;
  trove_batch_clear(&tb);
  trove_source_close(src);
  return rc ? trove_scan__fatal(c, &e, rc) : 0;
}
