/* scan_remove.c: taking items out on purpose, the index in step: `trove
 * forget` (trove_scan_items_remove) and the edit of a browser source's
 * excluded domains and retention (trove_scan_source_edit_web), which
 * deletes the pages of the domains it excludes. Both run in one
 * transaction wrapped by the vector index's begin and commit (vectors.h),
 * so the index loses exactly the passages the store lost, and save it. */
#include "scan.h"
#include "scan_int.h"
#include "sources.h" /* trove_url_in_domain */
#include "store.h"
#include "vectors.h"

#include <string.h>

/* Items of a source read per step while looking for excluded domains. */
#define REFS_CHUNK 4096

int trove_scan_items_remove(trove_store *st, trove_vectors *v, const int64_t *ids, size_t n,
                            bool remember, int64_t *removed, int64_t *passages,
                            trove_err *err) {
  if (!st || (n && !ids))
    return trove_err_set(err, TROVE_EINVAL, "trove_scan_items_remove: NULL argument");
  trove_vectors_changes ch = {0};
  int64_t count = 0;
  int rc = trove_store_begin(st, err);
  rc = rc || !v ? rc : trove_vectors_begin(v, st, err);
  rc = rc ? rc : trove_store_items_remove(st, ids, n, remember, &ch.removed, &count, err);
  if (rc)
    trove_store_rollback(st);
  else if (v)
    rc = trove_vectors_commit(v, st, &ch, err);
  else
    rc = trove_store_commit(st, err);
  if (rc == 0 && removed)
    *removed = count;
  if (rc == 0 && passages)
    *passages = (int64_t)ch.removed.n;
  trove_vectors_changes_free(&ch);
  /* without the index here, the store's vectors version moved on: the next
   * open of the index catches it up */
  return rc || !v ? rc : trove_vectors_save(v, st, err);
}

/* Appends to *ids the items of source_id on one of the domains. */
static int domain_items(trove_store *st, int64_t source_id, const char *const *domains,
                        size_t n_domains, trove_store_ids *ids, trove_err *err) {
  int64_t after = 0;
  for (;;) {
    trove_store_ref *r = NULL;
    size_t n = 0;
    int rc = trove_store_items_refs(st, source_id, after, REFS_CHUNK, &r, &n, err);
    if (rc || n == 0)
      return rc;
    for (size_t i = 0; rc == 0 && i < n; i++)
      for (size_t d = 0; d < n_domains; d++)
        if (trove_url_in_domain(r[i].external_id, domains[d])) {
          if (ids->n == ids->cap) {
            size_t cap = ids->cap ? 2 * ids->cap : 64;
            int64_t *g = trove_realloc(ids->v, cap * sizeof *g);
            if (!g) {
              rc = trove_err_set(err, TROVE_ENOMEM, "out of memory selecting items");
              break;
            }
            ids->v = g, ids->cap = cap;
          }
          ids->v[ids->n++] = r[i].id;
          break;
        }
    after = r[n - 1].id;
    trove_store_refs_free(r, n);
    if (rc)
      return rc;
  }
}

/* The config of s with ed applied into *out; checks ed fits s's type. */
static int edited_config(const trove_store_source *s, const trove_scan_web_edit *ed, char **out,
                         trove_err *err) {
  if (!trove_scan_type_web(s->type))
    return trove_err_set(err, TROVE_EINVAL, "source %s is an %s source: --exclude-domain and "
                         "--retention apply to browser sources", s->name, s->type);
  if (ed->retention != TROVE_RETENTION_DEFAULT && !trove_scan_type_history(s->type))
    return trove_err_set(err, TROVE_EINVAL, "source %s reads bookmarks, not history: "
                         "--retention applies to chromium-history and firefox sources",
                         s->name);
  trove_scan_web_config old;
  int rc = trove_scan_web_config_parse(s->config, &old, err);
  if (rc)
    return rc;
  trove_scan_config cfg = {
      .exclude_domains = ed->set_exclude_domains ? ed->exclude_domains
                                                 : (const char *const *)old.exclude_domains,
      .n_exclude_domains = ed->set_exclude_domains ? ed->n_exclude_domains
                                                   : old.n_exclude_domains,
      .retention = ed->retention != TROVE_RETENTION_DEFAULT ? ed->retention : old.retention};
  rc = trove_scan_config_build(&cfg, out, err);
  trove_scan_web_config_free(&old);
  return rc;
}

int trove_scan_source_edit_web(trove_store *st, const char *name, const trove_scan_web_edit *ed,
                               const trove_scan_opts *opts, int64_t *removed, trove_err *err) {
  if (!st || !name || !ed)
    return trove_err_set(err, TROVE_EINVAL, "trove_scan_source_edit_web: NULL argument");
  trove_vectors *v = opts ? opts->vectors : NULL;
  trove_store_source s = {0};
  trove_scan_web_config now = {0};
  trove_store_ids ids = {0};
  trove_vectors_changes ch = {0};
  char *config = NULL;
  int64_t count = 0;
  int rc = trove_scan__lock(st, opts, err);
  if (rc)
    return rc;
  if ((rc = trove_store_source_get(st, name, &s, err)) ||
      (rc = edited_config(&s, ed, &config, err)) ||
      (rc = trove_scan_web_config_parse(config, &now, err)))
    goto out_free;
  if ((rc = trove_store_begin(st, err)))
    goto out_free;
  rc = v ? trove_vectors_begin(v, st, err) : 0;
  rc = rc ? rc : trove_store_source_set_config(st, s.id, config, err);
  if (rc == 0 && now.n_exclude_domains)
    rc = domain_items(st, s.id, (const char *const *)now.exclude_domains, now.n_exclude_domains,
                      &ids, err);
  rc = rc ? rc : trove_store_items_remove(st, ids.v, ids.n, false, &ch.removed, &count, err);
  if (rc)
    trove_store_rollback(st);
  else
    rc = v ? trove_vectors_commit(v, st, &ch, err) : trove_store_commit(st, err);
  if (rc == 0 && v)
    rc = trove_vectors_save(v, st, err);
  if (rc == 0 && removed)
    *removed = count;
out_free:
  trove_vectors_changes_free(&ch);
  trove_store_ids_free(&ids);
  trove_scan_web_config_free(&now);
  trove_free(config);
  trove_store_source_clear(&s);
  trove_store_scan_unlock(st);
  return rc;
}
