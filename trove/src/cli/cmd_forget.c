/* cmd_forget.c: `trove forget ID... | --url PATTERN | --domain DOMAIN`,
 * removing items on purpose: their text, passages, vectors (the index
 * file too) and stored content, in one transaction under the scan lock
 * (trove_scan_items_remove). Each forgotten path or URL is recorded in its
 * source (a tombstone, store.h trove_store_forgotten_get), so that its
 * scans leave it out until the source shows it again after the forget: a
 * page visited again, a file modified. To keep a whole domain out of a
 * browser source for good, `source edit --exclude-domain` is the tool. */
#include "cli.h"
#include "scan.h"
#include "sources.h" /* trove_url_in_domain, trove_domain_normalize */

#include <stdio.h>
#include <string.h>

static const char usage_forget[] =
    "trove forget ID... | --url PATTERN | --domain DOMAIN [-s SOURCE] [--json] [--no-wait]\n"
    "  removes items on purpose, with their text, passages, vectors and stored content.\n"
    "  Each forgotten path or URL is recorded in its source, and scans leave it out until\n"
    "  the source shows it again after the forget (a page visited again, a file modified)\n"
    "  ID...:        these items (trove search and trove print show ids)\n"
    "  --url P:      items whose URL or path matches P, where * stands for any run of\n"
    "                characters (https://mail.example.com/*); without a *, the whole URL\n"
    "  --domain D:   pages on host D and its subdomains\n"
    "  -s SOURCE:    only that source's items\n"
    "  --json:       what was removed, as one JSON object\n"
    "  --no-wait:    when another scan of the database is running, exit with code 3\n"
    "  exit 0 removed; 1 --url or --domain matched nothing; 4 an ID that names no item";

/* Items looked at per step while matching a pattern or a domain. */
#define FORGET_CHUNK 4096

typedef struct forget_args {
  const char *url, *domain, *source;
  bool json, no_wait;
} forget_args;

enum { F_URL, F_DOMAIN, F_SOURCE, F_JSON, F_NO_WAIT };
static const cli_opt forget_opts[] = {
    [F_URL] = {"url", 0, true},       [F_DOMAIN] = {"domain", 0, true},
    [F_SOURCE] = {"source", 's', true}, [F_JSON] = {"json", 0, false},
    [F_NO_WAIT] = {"no-wait", 0, false}, {0}};

static int on_forget_opt(void *ctx, int id, const char *val) {
  forget_args *a = ctx;
  if ((id == F_URL && a->url) || (id == F_DOMAIN && a->domain))
    return cli_usage_error(usage_forget, "give --%s once", forget_opts[id].name);
  if (id == F_URL)
    a->url = val;
  else if (id == F_DOMAIN)
    a->domain = val;
  else if (id == F_SOURCE)
    a->source = val;
  else if (id == F_JSON)
    a->json = true;
  else
    a->no_wait = true;
  return CLI_OK;
}

/* True when s matches pat whole, where '*' matches any run of characters
 * (slashes included) and every other character itself. */
static bool wild(const char *pat, const char *s) {
  const char *star = NULL, *resume = NULL;
  while (*s) {
    if (*pat == '*') {
      star = pat++;
      resume = s;
    } else if (*pat == *s) {
      pat++, s++;
    } else if (star) {
      pat = star + 1;
      s = ++resume;
    } else {
      return false;
    }
  }
  while (*pat == '*')
    pat++;
  return *pat == 0;
}

/* What is to go: ids[i] at path paths[i] of source sources[i]. */
typedef struct picked {
  int64_t *ids, *sources;
  char **paths;
  size_t n, cap;
} picked;

static void picked_free(picked *p) {
  for (size_t i = 0; i < p->n; i++)
    trove_free(p->paths[i]);
  trove_free(p->ids);
  trove_free(p->sources);
  trove_free(p->paths);
  memset(p, 0, sizeof *p);
}

/* Appends one item, taking its path. 0 or TROVE_ENOMEM. */
static int pick(picked *p, int64_t id, int64_t source, char **path) {
  if (p->n == p->cap) {
    size_t cap = p->cap ? 2 * p->cap : 16;
    int64_t *i = trove_realloc(p->ids, cap * sizeof *i);
    if (i)
      p->ids = i;
    int64_t *s = i ? trove_realloc(p->sources, cap * sizeof *s) : NULL;
    if (s)
      p->sources = s;
    char **q = s ? trove_realloc(p->paths, cap * sizeof *q) : NULL;
    if (!q)
      return TROVE_ENOMEM;
    p->paths = q, p->cap = cap;
  }
  p->ids[p->n] = id, p->sources[p->n] = source, p->paths[p->n] = *path;
  p->n++;
  *path = NULL;
  return 0;
}

/* Picks the items of source_id (0: all) that --url or --domain selects. */
static int pick_matching(trove_store *st, const forget_args *a, const char *domain,
                         int64_t source_id, picked *p, trove_err *e) {
  int64_t after = 0;
  for (;;) {
    trove_store_ref *r = NULL;
    size_t n = 0;
    int rc = trove_store_items_refs(st, source_id, after, FORGET_CHUNK, &r, &n, e);
    if (rc || n == 0)
      return rc;
    for (size_t i = 0; rc == 0 && i < n; i++) {
      bool hit = a->url ? wild(a->url, r[i].external_id)
                        : r[i].type != TROVE_ITEM_LOCAL &&
                              trove_url_in_domain(r[i].external_id, domain);
      if (hit && (rc = pick(p, r[i].id, r[i].source_id, &r[i].external_id)))
        trove_err_set(e, rc, "out of memory selecting items");
    }
    after = r[n - 1].id;
    trove_store_refs_free(r, n);
    if (rc)
      return rc;
  }
}

/* Picks the items named by id; one that does not exist is an error. */
static int pick_ids(trove_store *st, char **argv, int npos, int64_t source_id, picked *p,
                    trove_err *e) {
  for (int i = 1; i <= npos; i++) {
    int64_t id = 0;
    cli_parse_id(argv[i], &id); /* checked before */
    trove_store_item it = {0};
    int rc = trove_store_item_get(st, id, false, &it, e);
    if (rc == 0 && source_id && it.source_id != source_id)
      rc = trove_err_set(e, TROVE_ENOENT, "item %lld is not of the source given with -s",
                         (long long)id);
    char *path = rc ? NULL : (char *)it.external_id;
    it.external_id = NULL;
    if (rc == 0 && (rc = pick(p, id, it.source_id, &path)))
      trove_err_set(e, rc, "out of memory selecting items");
    trove_free(path);
    trove_store_item_clear(&it);
    if (rc)
      return rc;
  }
  return 0;
}

/* The name of source id in v, "?" when not there. */
static const char *name_of(const trove_store_source *v, size_t n, int64_t id) {
  for (size_t i = 0; i < n; i++)
    if (v[i].id == id)
      return v[i].name;
  return "?";
}

static int report(const forget_args *a, const picked *p, int64_t removed, int64_t passages,
                  const trove_store_source *v, size_t nv) {
  if (a->json) {
    trove_buf b = {0};
    trove_json_out o = {.b = &b};
    trove_json_out_object(&o, NULL);
    trove_json_out_int(&o, "forgotten", removed);
    trove_json_out_int(&o, "passages", passages);
    trove_json_out_array(&o, "items");
    for (size_t i = 0; i < p->n; i++) {
      trove_json_out_object(&o, NULL);
      trove_json_out_int(&o, "id", p->ids[i]);
      trove_json_out_str(&o, "source", name_of(v, nv, p->sources[i]));
      trove_json_out_str(&o, "path", p->paths[i]);
      trove_json_out_end(&o);
    }
    trove_json_out_end(&o);
    trove_json_out_end(&o);
    return cli_json_print(&o, 0);
  }
  for (size_t i = 0; i < p->n; i++)
    trove_term_line(stdout, "forgot %lld  %s  %s", (long long)p->ids[i],
                    name_of(v, nv, p->sources[i]), p->paths[i]);
  printf("forgot %lld items: their text, %lld passages with their vectors, and stored "
         "content; scans leave them out unless visited or modified again\n",
         (long long)removed, (long long)passages);
  return CLI_OK;
}

/* Checks the arguments: exactly one way of naming items. */
static int check_forget(const forget_args *a, char **argv, int npos, char **domain) {
  int ways = (npos > 0) + (a->url != NULL) + (a->domain != NULL);
  if (ways != 1)
    return cli_usage_error(usage_forget, ways ? "give IDs, --url or --domain, one of them"
                                              : "forget needs IDs, --url or --domain");
  for (int i = 1; i <= npos; i++) {
    int64_t id;
    if (!cli_parse_id(argv[i], &id))
      return cli_usage_error(usage_forget, "\"%s\" is not an item ID (a positive number)",
                             argv[i]);
  }
  if (a->url && !a->url[0])
    return cli_usage_error(usage_forget, "--url needs a pattern");
  if (a->domain && trove_domain_normalize(a->domain, domain) != 0)
    return cli_usage_error(usage_forget, "bad domain \"%s\": give a host name such as "
                           "example.com (its subdomains are included)", a->domain);
  return CLI_OK;
}

/* The id of source name into *id (0 when name is NULL). */
static int source_id_of(const trove_store_source *v, size_t n, const char *name, int64_t *id,
                        trove_err *e) {
  *id = 0;
  for (size_t i = 0; name && i < n; i++)
    if (strcmp(v[i].name, name) == 0)
      *id = v[i].id;
  return name && !*id ? trove_err_set(e, TROVE_ENOENT, "no source named %s; see `trove source "
                                      "list`", name)
                      : 0;
}

int cmd_forget(cli *c, int argc, char **argv) {
  forget_args a = {0};
  int npos = 0;
  char *domain = NULL;
  int rc = cli_parse(c, usage_forget, forget_opts, on_forget_opt, &a, argc, argv, &npos);
  rc = rc ? rc : check_forget(&a, argv, npos, &domain);
  if (rc) {
    trove_free(domain);
    return rc;
  }
  trove_store *st = NULL;
  cli_model m = {0};
  trove_store_source *v = NULL;
  size_t nv = 0;
  picked p = {0};
  trove_err e = {0};
  int64_t source = 0, removed = 0, passages = 0;
  rc = cli_open_existing(c, &st);
  /* the scan lock: a scan running meanwhile would store again what goes */
  if (rc || (rc = cli_scan_lock(st, a.no_wait)) ||
      (rc = cli_model_open(c, st, false, false, &m)))
    goto out_close;
  int trc = trove_store_source_list(st, &v, &nv, &e);
  trc = trc ? trc : source_id_of(v, nv, a.source, &source, &e);
  trc = trc ? trc
            : npos ? pick_ids(st, argv, npos, source, &p, &e)
                   : pick_matching(st, &a, domain, source, &p, &e);
  if (trc == 0 && p.n == 0) {
    fprintf(stderr, "trove: nothing to forget: no item matches\n");
    rc = CLI_NONE;
    goto out_close;
  }
  trc = trc ? trc
            : trove_scan_items_remove(st, m.vectors, p.ids, p.n, true, &removed, &passages, &e);
  rc = trc ? cli_fail(&e, trc) : report(&a, &p, removed, passages, v, nv);
out_close:
  picked_free(&p);
  trove_store_sources_free(v, nv);
  cli_model_close(&m);
  trove_store_close(st);
  trove_free(domain);
  return rc;
}
