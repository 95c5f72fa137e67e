/* api_search.c: GET /api/search?q=&mode=&n=&source=&type=&like=&explain=
 * &since=&until=, answering exactly what `trove search --json` prints for
 * the same search (search.h's trove_search_json_write writes both).
 * Parameters are checked as strictly as the CLI's options: n is a count
 * from 1 to 1000, mode hybrid|semantic|keyword, type local|web|bookmark (or
 * any), like an item id, explain 0 or 1, since and until times as
 * --since/--until take them (trove_search_time_parse, the CLI's parser;
 * empty: no bound); an unknown or repeated parameter is an error too, so
 * a typo never silently searches for something else. Without the model,
 * hybrid falls back to keyword search (as the CLI does) and semantic search
 * and like answer 503. */
#include "serve_int.h"
#include "search.h"

#include <string.h>

static const char *const known[] = {"q",    "mode",    "n",     "source", "type",
                                    "like", "explain", "since", "until"};
enum { N_KNOWN = sizeof known / sizeof *known };

typedef struct args {
  const char *bad;      /* an unknown parameter's name */
  const char *repeated; /* a known one given twice */
  unsigned seen[N_KNOWN];
} args;

static enum MHD_Result each_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value) {
  (void)kind, (void)value;
  args *a = cls;
  for (size_t i = 0; i < N_KNOWN; i++)
    if (strcmp(key, known[i]) == 0) {
      if (++a->seen[i] == 2 && !a->repeated)
        a->repeated = known[i];
      return MHD_YES;
    }
  if (!a->bad)
    a->bad = key;
  return MHD_YES;
}

static bool blank(const char *s) {
  for (; s && *s; s++)
    if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
      return false;
  return true;
}

/* Parses n: decimal digits only, 1..1000. */
static bool parse_n(const char *s, size_t *out) {
  int64_t v;
  if (!trove_serve__parse_id(s, &v) || v > 1000)
    return false;
  *out = (size_t)v;
  return true;
}

/* Reads the parameters into p and *q; answers and returns false on the
 * first bad one. */
static bool read_params(serve_req *r, trove_search_params *p, const char **q,
                        enum MHD_Result *ret) {
  args a = {0};
  MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, each_arg, &a);
  const char *v[N_KNOWN];
  for (size_t i = 0; i < N_KNOWN; i++)
    v[i] = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, known[i]);
  const char *mode = v[1], *n = v[2], *source = v[3], *type = v[4], *like = v[5];
  const char *explain = v[6], *since = v[7], *until = v[8];
  *q = v[0];
  if (a.bad) {
    *ret = trove_serve__reply_error(r, 400,
                                    "unknown parameter \"%.40s\"; /api/search takes q, mode, n, "
                                    "source, type, like, explain, since and until",
                                    a.bad);
  } else if (a.repeated) {
    *ret = trove_serve__reply_error(r, 400, "parameter \"%s\" is given twice", a.repeated);
  } else if (n && !parse_n(n, &p->n)) {
    *ret = trove_serve__reply_error(r, 400, "n must be a count from 1 to 1000, not \"%.40s\"", n);
  } else if (mode && trove_search_mode_parse(mode, &p->mode)) {
    *ret = trove_serve__reply_error(
        r, 400, "mode must be hybrid, semantic or keyword, not \"%.40s\"", mode);
  } else if (type && strcmp(type, "any") != 0 && strcmp(type, "") != 0 &&
             (p->type = trove_item_type_parse(type)) == TROVE_ITEM_ANY) {
    *ret = trove_serve__reply_error(
        r, 400, "type must be local, web, bookmark or any, not \"%.40s\"", type);
  } else if (like && !trove_serve__parse_id(like, &p->like)) {
    *ret = trove_serve__reply_error(r, 400, "like must be an item id, not \"%.40s\"", like);
  } else if (since && *since && !trove_search_time_parse(since, false, &p->since)) {
    *ret = trove_serve__reply_error(
        r, 400, "since takes " TROVE_SEARCH_TIME_FORMS ", not \"%.40s\"", since);
  } else if (until && *until && !trove_search_time_parse(until, true, &p->until)) {
    *ret = trove_serve__reply_error(
        r, 400, "until takes " TROVE_SEARCH_TIME_FORMS ", not \"%.40s\"", until);
  } else if (p->since && p->until && p->since > p->until) {
    *ret = trove_serve__reply_error(r, 400, "since is after until: nothing can match");
  } else if (explain && strcmp(explain, "0") != 0 && strcmp(explain, "1") != 0) {
    *ret = trove_serve__reply_error(r, 400, "explain must be 0 or 1, not \"%.40s\"", explain);
  } else if (p->like && *q) {
    *ret = trove_serve__reply_error(r, 400, "give either q or like, not both");
  } else if (!p->like && blank(*q)) {
    *ret = trove_serve__reply_error(r, 400, "q is empty: give words to search for (or like=ID)");
  } else if (*q && strlen(*q) > SERVE_QUERY_MAX) {
    *ret = trove_serve__reply_error(r, 414, "q is longer than %d bytes", SERVE_QUERY_MAX);
  } else if (p->like && p->mode == TROVE_SEARCH_KEYWORD) {
    *ret = trove_serve__reply_error(r, 400, "like compares vectors; it has no keyword mode");
  } else {
    p->source = source && *source ? source : NULL;
    p->explain = explain && strcmp(explain, "1") == 0;
    return true;
  }
  return false;
}

enum MHD_Result trove_serve__api_search(serve_req *r) {
  serve *s = r->s;
  trove_search_params p;
  trove_search_params_default(&p);
  const char *q = NULL;
  enum MHD_Result ret;
  if (!read_params(r, &p, &q, &ret))
    return ret;
  if (!s->embedder && (p.mode == TROVE_SEARCH_SEMANTIC || p.like))
    return trove_serve__reply_error(r, 503,
                                    "%s needs the model, which this server runs without "
                                    "(start trove serve with the model)",
                                    p.like ? "like" : "semantic search");
  if (!s->embedder)
    p.mode = TROVE_SEARCH_KEYWORD; /* hybrid without the model, as the CLI falls back */
  trove_store *st = NULL;
  trove_err e = {0};
  int rc = trove_serve__handles_get(&s->handles, &st, &e);
  if (rc)
    return trove_serve__reply_error(r, 500, "%s", e.msg);
  trove_search_result *res = NULL;
  size_t n = 0;
  rc = trove_search_run(st, trove_vectors_index(s->vectors), s->embedder, p.like ? NULL : q, &p,
                        &res, &n, &e);
  trove_serve__handles_put(&s->handles, st);
  if (rc) {
    trove_search_results_free(res, n);
    return trove_serve__reply_error(r, trove_serve__status_of(rc), "%s",
                                    e.msg[0] ? e.msg : trove_strerror(rc));
  }
  trove_buf b = {0};
  trove_json_out o = {.b = &b};
  trove_search_json_write(&o, res, n, &p);
  trove_search_results_free(res, n);
  return trove_serve__reply_json(r, 200, &o);
}
