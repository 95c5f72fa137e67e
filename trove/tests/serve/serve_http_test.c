/* serve_http_test.c: `trove serve` over HTTP, from a plain socket client:
 * the guards (a Host that is not the server's gets 421, a request that
 * changes something without the token or from another Origin gets 403),
 * clear JSON 4xx errors for bad parameters (n=-1, n=abc, an unknown mode,
 * a since or until that is no time, an id that does not exist, 100 KB of
 * query...), /api/search answering byte for byte what `trove search
 * --json` prints (since and until too), hide and unhide,
 * sources added, edited (a browser source's retention and excluded
 * domains) and removed, a background scan followed over Server-Sent
 * Events while searches go on, 200 concurrent requests all answered, the
 * page's security headers and size, a database in a read-only place
 * searched (writes refused, saying why; not watched), and Ctrl-C ending the server with
 * exit code 0 (under ASan and TSan a report would change that code).
 * Runs with --no-model: keyword search, so every build can run it fast.
 * Usage: serve_http_test PATH_TO_TROVE. */
#include "json.h"
#include "serve_proc.h"

#include <pthread.h>
#include <sched.h>
#include <sys/mount.h>

typedef struct fx {
  char dir[64], tree[96], more[96], db[96];
  server s;
} fx;

static const char *const no_model[] = {"--no-model", NULL};
/* The fixture's server does not watch: these tests change the tree while it
 * runs and count what a page scan finds (serve_watch_test.c tests the
 * watcher). */
static const char *const no_watch[] = {"--no-watch", NULL};

static void fx_init(fx *f) {
  run_tempdir(f->dir, sizeof f->dir, "serve");
  snprintf(f->tree, sizeof f->tree, "%s/tree", f->dir);
  snprintf(f->more, sizeof f->more, "%s/more", f->dir);
  snprintf(f->db, sizeof f->db, "%s/trove.db", f->dir);
  CHECK(mkdir(f->tree, 0755) == 0 && mkdir(f->more, 0755) == 0);
  run_put(f->tree, "otters.md", "# Otters\n\nOtters hold hands while they sleep.\n");
  run_put(f->tree, "rivers.txt", "Otters and beavers both build near rivers.\n");
  run_put(f->tree, "evil.md", "---\ntitle: <img src=x onerror=alert(1)>\n---\n\nA hostile "
          "title on a page about otters.\n");
  run_put(f->more, "granite.txt", "Granite is an igneous rock, and otters never mention it.\n");
  static run_out r;
  RUN_TROVE(&r, f->dir, f->db, "--no-model", "source", "add", "notes", "fs", f->tree);
  CHECK(r.code == 0);
  RUN_TROVE(&r, f->dir, f->db, "--no-model", "scan");
  CHECK(r.code == 0);
  CHECK(server_start_ex(&f->s, f->dir, f->db, no_model, no_watch));
  CHECK(server_token(&f->s));
}

static void fx_done(fx *f) {
  int code = server_stop(&f->s, SIGINT);
  if (code != 0) {
    static char err[4096];
    run_slurp(f->s.err, err, sizeof err);
    fprintf(stderr, "  trove serve exited %d: %s\n", code, err);
  }
  CHECK(code == 0); /* Ctrl-C is a clean stop; a sanitizer report is not */
  run_rmdir(f->dir);
}

/* A JSON error: status, an {"error":...,"status":N} body naming `word`. */
static bool json_error(const reply *r, int status, const char *word) {
  trove_json_doc *doc = NULL;
  bool ok = r->status == status && r->body &&
            trove_json_parse(r->body, r->len, 0, &doc, NULL) == 0 &&
            trove_json_get_i64(trove_json_root(doc), "status", 0) == status &&
            strstr(trove_json_get_str(trove_json_root(doc), "error", ""), word) != NULL;
  const char *type = reply_header(r, "Content-Type");
  ok = ok && type && strncmp(type, "application/json", 16) == 0;
  if (!ok)
    fprintf(stderr, "  wanted %d naming \"%s\", got %d: %s\n", status, word, r->status,
            r->body ? r->body : "(no answer)");
  trove_json_free(doc);
  return ok;
}

/* The number of results of a search answer, -1 when it is not an array. */
static long results(const reply *r) {
  trove_json_doc *doc = NULL;
  long n = -1;
  if (r->status == 200 && trove_json_parse(r->body, r->len, 0, &doc, NULL) == 0 &&
      trove_json_type_of(trove_json_root(doc)) == TROVE_JSON_ARRAY)
    n = (long)trove_json_len(trove_json_root(doc));
  trove_json_free(doc);
  return n;
}

static void serve_wrong_host_gets_421(void) {
  fx f;
  fx_init(&f);
  char wrong_port[64];
  snprintf(wrong_port, sizeof wrong_port, "127.0.0.1:%u", f.s.port + 1);
  const char *bad[] = {"evil.example", "evil.example:80", wrong_port, "localhost.evil.example",
                       "127.0.0.1", "[::1]", "127.0.0.2:1"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    reply r = http(&f.s, "GET", "/api/search?q=otters", bad[i], NULL, NULL);
    CHECK(json_error(&r, 421, "DNS rebinding"));
    reply_free(&r);
  }
  /* the page itself too: a rebinding page must not read the token */
  reply r = http(&f.s, "GET", "/", "evil.example", NULL, NULL);
  CHECK(r.status == 421 && !strstr(r.body, f.s.token));
  reply_free(&r);
  char ok[3][64];
  snprintf(ok[0], sizeof ok[0], "localhost:%u", f.s.port);
  snprintf(ok[1], sizeof ok[1], "LOCALHOST:%u", f.s.port);
  snprintf(ok[2], sizeof ok[2], "[::1]:%u", f.s.port);
  for (size_t i = 0; i < 3; i++) {
    r = http(&f.s, "GET", "/api/search?q=otters", ok[i], NULL, NULL);
    CHECK(results(&r) == 3);
    reply_free(&r);
  }
  fx_done(&f);
}

static void serve_changes_need_the_token(void) {
  fx f;
  fx_init(&f);
  reply r = http(&f.s, "POST", "/api/items/1/hide", f.s.host, NULL, NULL);
  CHECK(json_error(&r, 403, "token"));
  reply_free(&r);
  r = http(&f.s, "POST", "/api/items/1/hide", f.s.host,
           "X-Trove-Token: 0000000000000000000000000000000000000000000000000000000000000000\r\n",
           NULL);
  CHECK(json_error(&r, 403, "token"));
  reply_free(&r);
  r = http(&f.s, "DELETE", "/api/sources/notes", f.s.host, NULL, NULL);
  CHECK(json_error(&r, 403, "token"));
  reply_free(&r);
  r = http(&f.s, "POST", "/api/scan", f.s.host, NULL, "{}");
  CHECK(json_error(&r, 403, "token"));
  reply_free(&r);
  /* with the token, but sent by another origin's page */
  char h[200];
  snprintf(h, sizeof h, "X-Trove-Token: %s\r\nOrigin: http://evil.example\r\n", f.s.token);
  r = http(&f.s, "POST", "/api/items/1/hide", f.s.host, h, NULL);
  CHECK(json_error(&r, 403, "origin"));
  reply_free(&r);
  r = get(&f.s, "/api/search?q=otters");
  CHECK(results(&r) == 3); /* nothing was hidden */
  reply_free(&r);
  /* with the token: hidden, then found again once unhidden */
  r = post(&f.s, "POST", "/api/items/1/hide", NULL);
  CHECK(r.status == 200 && strstr(r.body, "\"hidden\":true"));
  reply_free(&r);
  r = get(&f.s, "/api/search?q=otters");
  CHECK(results(&r) == 2);
  reply_free(&r);
  r = get(&f.s, "/api/items/1");
  CHECK(r.status == 200 && strstr(r.body, "\"hidden\":true"));
  reply_free(&r);
  r = post(&f.s, "POST", "/api/items/1/unhide", NULL);
  CHECK(r.status == 200 && strstr(r.body, "\"hidden\":false"));
  reply_free(&r);
  r = get(&f.s, "/api/search?q=otters");
  CHECK(results(&r) == 3);
  reply_free(&r);
  fx_done(&f);
}

static void serve_bad_parameters_get_json_4xx(void) {
  fx f;
  fx_init(&f);
  static const struct {
    const char *path;
    int status;
    const char *word;
  } cases[] = {
      {"/api/search?q=otters&n=-1", 400, "n must be"},
      {"/api/search?q=otters&n=abc", 400, "n must be"},
      {"/api/search?q=otters&n=0", 400, "n must be"},
      {"/api/search?q=otters&n=1001", 400, "n must be"},
      {"/api/search?q=otters&n=", 400, "n must be"},
      {"/api/search?q=otters&mode=fuzzy", 400, "mode must be"},
      {"/api/search?q=otters&type=video", 400, "type must be"},
      {"/api/search?q=otters&like=abc", 400, "like must be"},
      {"/api/search?q=otters&explain=yes", 400, "explain must be"},
      {"/api/search?q=otters&since=yesterday", 400, "since takes YYYY-MM-DD"},
      {"/api/search?q=otters&until=2024-02-30", 400, "until takes YYYY-MM-DD"},
      {"/api/search?q=otters&since=7x", 400, "since takes"},
      {"/api/search?q=otters&since=2024-05-02&until=2024-05-01", 400, "since is after until"},
      {"/api/search?q=otters&until=1d&until=2d", 400, "given twice"},
      {"/api/search?q=otters&color=red", 400, "unknown parameter"},
      {"/api/search?q=otters&q=beavers", 400, "given twice"},
      {"/api/search", 400, "q is empty"},
      {"/api/search?q=%20%20", 400, "q is empty"},
      {"/api/search?q=otters&source=nosuch", 404, "nosuch"},
      {"/api/search?like=1", 503, "model"},
      {"/api/search?q=otters&mode=semantic", 503, "model"},
      {"/api/items/999999", 404, "no item 999999"},
      {"/api/items/abc", 400, "positive number"},
      {"/api/items/0", 400, "positive number"},
      {"/api/items/1/bogus", 404, "no such endpoint"},
      {"/api/nothing", 404, "no such endpoint"},
      {"/nothing.html", 404, "no such page"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    reply r = get(&f.s, cases[i].path);
    if (!json_error(&r, cases[i].status, cases[i].word))
      fprintf(stderr, "  case %s\n", cases[i].path);
    CHECK(json_error(&r, cases[i].status, cases[i].word));
    reply_free(&r);
  }
  /* 100 KB of query: a JSON 414, not the HTTP library's own page */
  size_t big = 100 * 1024;
  char *path = malloc(big + 32);
  strcpy(path, "/api/search?q=");
  memset(path + strlen(path), 'a', big);
  path[14 + big] = 0;
  reply r = get(&f.s, path);
  CHECK(json_error(&r, 414, "longer than"));
  reply_free(&r);
  free(path);
  /* wrong methods, a body too large, a body that is not JSON */
  r = post(&f.s, "PUT", "/api/search?q=otters", NULL);
  CHECK(json_error(&r, 405, "GET"));
  reply_free(&r);
  r = post(&f.s, "GET", "/api/items/1/hide", NULL);
  CHECK(json_error(&r, 405, "POST"));
  reply_free(&r);
  char *body = malloc(70 * 1024);
  memset(body, ' ', 70 * 1024 - 1);
  body[70 * 1024 - 1] = 0;
  r = post(&f.s, "POST", "/api/sources", body);
  CHECK(json_error(&r, 413, "over"));
  reply_free(&r);
  free(body);
  r = post(&f.s, "POST", "/api/sources", "{\"name\":");
  CHECK(json_error(&r, 400, "JSON"));
  reply_free(&r);
  r = post(&f.s, "POST", "/api/sources", "[1,2]");
  CHECK(json_error(&r, 400, "JSON object"));
  reply_free(&r);
  r = post(&f.s, "POST", "/api/scan", "{\"source\":7}");
  CHECK(json_error(&r, 400, "source"));
  reply_free(&r);
  fx_done(&f);
}

/* One writer serves the CLI and the API: the same bytes for one search. */
static void serve_search_is_what_the_cli_prints(void) {
  fx f;
  fx_init(&f);
  static run_out out;
  const char *queries[][2] = {{"otters", "/api/search?q=otters&mode=keyword"},
                              {"otters", "/api/search?q=otters&mode=keyword&n=2&explain=1"},
                              {"beavers rivers", "/api/search?q=beavers%20rivers&mode=keyword&type=local"},
                              {"hostile", "/api/search?q=hostile&source=notes"},
                              {"otters", "/api/search?q=otters&since=2000-01-01&until=2100-12-31"},
                              {"otters", "/api/search?q=otters&since=&until=2000-01-01T12:00"},
                              {"otters", "/api/search?q=otters&since=1h"}};
  const char *extra[][6] = {{"--mode", "keyword", NULL},
                            {"--mode", "keyword", "-n", "2", "--explain", NULL},
                            {"--mode", "keyword", "-t", "local", NULL},
                            {"-s", "notes", NULL},
                            {"--since", "2000-01-01", "--until", "2100-12-31", NULL},
                            {"--until", "2000-01-01T12:00", NULL},
                            {"--since", "1h", NULL}};
  for (size_t i = 0; i < sizeof queries / sizeof *queries; i++) {
    const char *args[12] = {"--no-model", "search", queries[i][0], "--json"};
    for (int k = 0; extra[i][k]; k++)
      args[4 + k] = extra[i][k];
    run_v(&out, f.dir, f.db, args);
    reply r = get(&f.s, queries[i][1]);
    CHECK(r.status == 200 && r.body && strcmp(r.body, out.out) == 0);
    if (!r.body || strcmp(r.body, out.out) != 0)
      fprintf(stderr, "  %s\n  api: %s\n  cli: %s\n", queries[i][1], r.body, out.out);
    reply_free(&r);
  }
  /* the bounds filter: every note was written just now */
  reply r = get(&f.s, "/api/search?q=otters&since=2000-01-01");
  CHECK(results(&r) == 3);
  reply_free(&r);
  r = get(&f.s, "/api/search?q=otters&until=2000-01-01");
  CHECK(results(&r) == 0);
  reply_free(&r);
  /* the hostile title arrives as a JSON string, for the page to show as text */
  r = get(&f.s, "/api/search?q=hostile");
  CHECK(strstr(r.body, "\"title\":\"<img src=x onerror=alert(1)>\"") != NULL);
  reply_free(&r);
  fx_done(&f);
}

static void serve_sources_added_and_removed(void) {
  fx f;
  fx_init(&f);
  char body[512];
  snprintf(body, sizeof body, "{\"name\":\"more\",\"type\":\"fs\",\"location\":\"%s\","
           "\"include\":[\"*.txt\"],\"exclude\":[]}", f.more);
  reply r = post(&f.s, "POST", "/api/sources", body);
  CHECK(r.status == 201 && strstr(r.body, "\"name\":\"more\""));
  reply_free(&r);
  r = post(&f.s, "POST", "/api/sources", body);
  CHECK(json_error(&r, 409, "more"));
  reply_free(&r);
  /* checked as `trove source add` checks: a place another source reads,
   * a file for a directory, a profile without the browser's file */
  snprintf(body, sizeof body, "{\"name\":\"again\",\"type\":\"fs\",\"location\":\"%s\"}",
           f.tree);
  r = post(&f.s, "POST", "/api/sources", body);
  CHECK(json_error(&r, 409, "source notes already reads"));
  reply_free(&r);
  snprintf(body, sizeof body, "{\"name\":\"file\",\"type\":\"fs\",\"location\":\"%s/otters.md\"}",
           f.tree);
  r = post(&f.s, "POST", "/api/sources", body);
  CHECK(json_error(&r, 400, "is not a directory"));
  reply_free(&r);
  snprintf(body, sizeof body, "{\"name\":\"web\",\"type\":\"chromium-history\","
           "\"location\":\"%s\"}", f.dir);
  r = post(&f.s, "POST", "/api/sources", body);
  CHECK(json_error(&r, 400, "holds no History"));
  reply_free(&r);
  const char *bad[][2] = {
      {"{\"name\":\"x\",\"type\":\"ftp\",\"location\":\"/tmp\"}", "type must be"},
      {"{\"name\":\"\",\"type\":\"fs\",\"location\":\"/tmp\"}", "name"},
      {"{\"name\":\"a/b\",\"type\":\"fs\",\"location\":\"/tmp\"}", "name"},
      {"{\"name\":\"x\",\"type\":\"fs\",\"location\":\"/no/such/dir\"}", "does not exist"},
      {"{\"name\":\"x\",\"type\":\"fs\",\"location\":\"/tmp\",\"include\":\"*.md\"}", "arrays"},
      {"{\"name\":\"x\",\"type\":\"fs\",\"location\":\"/tmp\",\"include\":[\"[\"]}", "glob"},
      {"{\"name\":\"x\",\"type\":\"firefox\",\"location\":\"/tmp\",\"include\":[\"*\"]}", "fs"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    r = post(&f.s, "POST", "/api/sources", bad[i][0]);
    CHECK(json_error(&r, 400, bad[i][1]));
    reply_free(&r);
  }
  r = get(&f.s, "/api/sources");
  CHECK(r.status == 200 && strstr(r.body, "\"name\":\"notes\"") && strstr(r.body, "\"name\":\"more\""));
  CHECK(strstr(r.body, "\"items\":3") != NULL);
  reply_free(&r);
  r = post(&f.s, "DELETE", "/api/sources/more", NULL);
  CHECK(r.status == 200 && strstr(r.body, "\"removed\":\"more\""));
  reply_free(&r);
  r = post(&f.s, "DELETE", "/api/sources/more", NULL);
  CHECK(json_error(&r, 404, "more"));
  reply_free(&r);
  r = get(&f.s, "/api/stats");
  CHECK(r.status == 200 && strstr(r.body, "\"items\":3") && strstr(r.body, "\"model\":null"));
  reply_free(&r);
  fx_done(&f);
}

/* A browser source's retention and excluded domains, edited over the API
 * with the call `trove source edit` makes, and listed back. */
static void serve_browser_source_edited(void) {
  fx f;
  fx_init(&f);
  char profile[128], path[160], body[512];
  snprintf(profile, sizeof profile, "%s/profile", f.dir);
  snprintf(path, sizeof path, "%s/History", profile);
  CHECK(mkdir(profile, 0755) == 0);
  FILE *fp = fopen(path, "wb"); /* what adding one checks: an SQLite file is there */
  CHECK(fp && fwrite("SQLite format 3\0", 1, 16, fp) == 16);
  if (fp)
    fclose(fp);
  snprintf(body, sizeof body, "{\"name\":\"web\",\"type\":\"chromium-history\","
           "\"location\":\"%s\"}", profile);
  reply r = post(&f.s, "POST", "/api/sources", body);
  CHECK(r.status == 201);
  reply_free(&r);
  r = get(&f.s, "/api/sources");
  CHECK(r.status == 200 && strstr(r.body, "\"exclude_domains\":[],\"retention\":\"keep\""));
  reply_free(&r);
  const char *edit = "{\"retention\":\"mirror\",\"exclude_domains\":[\"Bank.example\"]}";
  r = http(&f.s, "POST", "/api/sources/web", f.s.host, NULL, edit);
  CHECK(json_error(&r, 403, "token"));
  reply_free(&r);
  r = post(&f.s, "POST", "/api/sources/web", edit);
  CHECK(r.status == 200 && strstr(r.body, "\"name\":\"web\"") && strstr(r.body, "\"removed\":0"));
  reply_free(&r);
  r = get(&f.s, "/api/sources");
  CHECK(r.status == 200 &&
        strstr(r.body, "\"exclude_domains\":[\"bank.example\"],\"retention\":\"mirror\""));
  reply_free(&r);
  r = post(&f.s, "POST", "/api/sources/web", "{\"exclude_domains\":[]}"); /* retention kept */
  CHECK(r.status == 200);
  reply_free(&r);
  r = get(&f.s, "/api/sources");
  CHECK(r.status == 200 && strstr(r.body, "\"exclude_domains\":[],\"retention\":\"mirror\""));
  reply_free(&r);
  static const struct {
    const char *path, *body;
    int status;
    const char *word;
  } bad[] = {
      {"/api/sources/web", "{\"retention\":\"forever\"}", 400, "retention must be"},
      {"/api/sources/web", "{\"retention\":1}", 400, "retention must be"},
      {"/api/sources/web", "{\"exclude_domains\":\"bank.example\"}", 400, "array"},
      {"/api/sources/web", "{\"exclude_domains\":[\"bank.example/login\"]}", 400,
       "bank.example/login"},
      {"/api/sources/web", "{}", 400, "give retention or exclude_domains"},
      {"/api/sources/web", "[\"mirror\"]", 400, "JSON object"},
      {"/api/sources/web", "{\"retention\":", 400, "JSON"},
      {"/api/sources/notes", "{\"retention\":\"keep\"}", 400, "notes"},
      {"/api/sources/nosuch", "{\"retention\":\"keep\"}", 404, "nosuch"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    r = post(&f.s, "POST", bad[i].path, bad[i].body);
    if (!json_error(&r, bad[i].status, bad[i].word))
      fprintf(stderr, "  case %s %s\n", bad[i].path, bad[i].body);
    CHECK(json_error(&r, bad[i].status, bad[i].word));
    reply_free(&r);
  }
  r = post(&f.s, "PUT", "/api/sources/web", "{}");
  CHECK(json_error(&r, 405, "POST to edit"));
  reply_free(&r);
  r = get(&f.s, "/api/sources"); /* the refused edits changed nothing */
  CHECK(r.status == 200 && strstr(r.body, "\"exclude_domains\":[],\"retention\":\"mirror\""));
  reply_free(&r);
  fx_done(&f);
}

/* A scan started over the API runs in the background: its progress and end
 * arrive as events, and searches answer meanwhile. */
static void serve_scan_in_background_with_events(void) {
  fx f;
  fx_init(&f);
  for (int i = 0; i < 300; i++) { /* enough that the scan takes a while */
    char name[32], text[128];
    snprintf(name, sizeof name, "n%03d.md", i);
    snprintf(text, sizeof text, "# Note %d\n\nOtters and note %d, about rivers and stones.\n", i, i);
    run_put(f.tree, name, text);
  }
  events ev;
  CHECK(events_open(&ev, &f.s));
  CHECK(events_wait(&ev, "\"state\":\"idle\"") != NULL); /* the state when the stream opens */
  reply r = post(&f.s, "POST", "/api/scan", "{\"source\":\"notes\"}");
  CHECK(r.status == 202);
  reply_free(&r);
  int searches = 0;
  for (; searches < 20; searches++) { /* while it runs (or after: both must answer) */
    r = get(&f.s, "/api/search?q=otters&n=5");
    CHECK(results(&r) >= 1);
    reply_free(&r);
  }
  CHECK(events_wait(&ev, "\"state\":\"running\"") != NULL);
  CHECK(events_wait(&ev, "{\"name\":\"write\",\"count\":") != NULL); /* per-stage progress */
  CHECK(events_wait(&ev, "\"state\":\"done\"") != NULL);
  CHECK(events_wait(&ev, "\"ok\":true") != NULL);
  events_close(&ev);
  r = get(&f.s, "/api/scan");
  CHECK(r.status == 200 && strstr(r.body, "\"state\":\"done\"") && strstr(r.body, "\"added\":300"));
  reply_free(&r);
  r = get(&f.s, "/api/stats");
  CHECK(r.status == 200 && strstr(r.body, "\"items\":303"));
  reply_free(&r);
  r = post(&f.s, "POST", "/api/scan/stop", NULL);
  CHECK(json_error(&r, 409, "no scan"));
  reply_free(&r);
  r = post(&f.s, "POST", "/api/scan", "{\"source\":\"nosuch\"}");
  CHECK(r.status == 202); /* accepted; the scan itself reports the missing source */
  reply_free(&r);
  for (int i = 0; i < 100; i++) { /* until it ended: the state says so */
    r = get(&f.s, "/api/scan");
    bool done = r.body && strstr(r.body, "\"state\":\"done\"");
    if (done)
      CHECK(strstr(r.body, "\"ok\":false") && strstr(r.body, "nosuch"));
    reply_free(&r);
    if (done)
      break;
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL); /* polling an end state, not timing anything */
  }
  fx_done(&f);
}

typedef struct hammer {
  const server *s;
  int index;
  int status;
} hammer;

static void *hammer_one(void *arg) {
  hammer *h = arg;
  static const char *const paths[] = {"/api/search?q=otters", "/api/items/1", "/api/sources",
                                      "/api/stats", "/app.js", "/", "/api/scan",
                                      "/api/search?q=rivers&mode=keyword&n=3"};
  reply r = get(h->s, paths[h->index % 8]);
  h->status = r.status;
  reply_free(&r);
  return NULL;
}

static void serve_answers_200_concurrent_requests(void) {
  fx f;
  fx_init(&f);
  enum { N = 200 };
  static hammer h[N];
  static pthread_t t[N];
  for (int i = 0; i < N; i++) {
    h[i] = (hammer){.s = &f.s, .index = i};
    CHECK(pthread_create(&t[i], NULL, hammer_one, &h[i]) == 0);
  }
  int ok = 0;
  for (int i = 0; i < N; i++) {
    pthread_join(t[i], NULL);
    ok += h[i].status == 200;
  }
  if (ok != N)
    fprintf(stderr, "  %d of %d answered 200\n", ok, N);
  CHECK(ok == N);
  reply r = get(&f.s, "/api/search?q=otters");
  CHECK(results(&r) == 3); /* still serving */
  reply_free(&r);
  fx_done(&f);
}

static void serve_page_is_self_contained_and_guarded(void) {
  fx f;
  fx_init(&f);
  reply r = get(&f.s, "/");
  CHECK(r.status == 200 && strstr(reply_header(&r, "Content-Type"), "text/html"));
  const char *csp = reply_header(&r, "Content-Security-Policy");
  CHECK(csp && strstr(csp, "script-src 'self'") && !strstr(csp, "unsafe-inline") &&
        strstr(csp, "default-src 'none'"));
  CHECK(strcmp(reply_header(&r, "X-Content-Type-Options"), "nosniff") == 0);
  CHECK(strcmp(reply_header(&r, "Cache-Control"), "no-store") == 0); /* it holds the token */
  CHECK(!strstr(r.body, "<script>") && !strstr(r.body, "http://") && !strstr(r.body, "https://"));
  CHECK(strstr(r.body, f.s.token) != NULL);
  reply_free(&r);
  size_t total = 0;
  const char *files[] = {"/app.js", "/app.css"};
  for (size_t i = 0; i < 2; i++) {
    r = get(&f.s, files[i]);
    CHECK(r.status == 200 && !strstr(r.body, "http://") && !strstr(r.body, "https://"));
    CHECK(!strstr(r.body, "innerHTML") && !strstr(r.body, "eval(")); /* DOM text only */
    total += r.len;
    reply_free(&r);
  }
  CHECK(total < 50 * 1024);
  r = get(&f.s, "/icon.svg");
  CHECK(r.status == 200 && strstr(reply_header(&r, "Content-Type"), "image/svg+xml"));
  reply_free(&r);
  r = get(&f.s, "/index.html"); /* the page is served at / only, with its token */
  CHECK(r.status == 404);
  reply_free(&r);
  fx_done(&f);
}

/* Reads one response with a Content-Length from fd into buf; its length,
 * 0 on failure. */
static size_t read_one(int fd, char *buf, size_t cap) {
  size_t got = 0;
  struct pollfd p = {.fd = fd, .events = POLLIN};
  while (got + 1 < cap && poll(&p, 1, SERVE_WAIT_MS) == 1) {
    ssize_t k = recv(fd, buf + got, cap - 1 - got, 0);
    if (k <= 0)
      break;
    got += (size_t)k;
    buf[got] = 0;
    const char *end = strstr(buf, "\r\n\r\n"), *len = strcasestr(buf, "Content-Length:");
    if (end && len && got >= (size_t)(end + 4 - buf) + strtoul(len + 15, NULL, 10))
      return got;
  }
  return 0;
}

/* A browser's connection carries the page, its files and its searches: the
 * server keeps it open between requests (a reply queued before the request
 * was complete used to close it). */
static void serve_keeps_connections_alive(void) {
  fx f;
  fx_init(&f);
  int fd = connect_to(f.s.port);
  CHECK(fd >= 0);
  char req[256], buf[65536];
  snprintf(req, sizeof req, "GET /api/search?q=otters HTTP/1.1\r\nHost: %s\r\n\r\n", f.s.host);
  for (int i = 0; i < 3; i++) {
    CHECK(send_all(fd, req, strlen(req)));
    CHECK(read_one(fd, buf, sizeof buf) > 0);
    CHECK(strncmp(buf, "HTTP/1.1 200", 12) == 0);
    CHECK(!strcasestr(buf, "Connection: close"));
  }
  close(fd);
  fx_done(&f);
}

/* --listen 0.0.0.0: every address, with a warning; the Host may then be any
 * IP literal (DNS rebinding needs a name), still never a name. */
static void serve_listening_everywhere_warns_and_takes_ip_hosts(void) {
  fx f;
  fx_init(&f);
  server all;
  const char *const listen[] = {"--listen", "0.0.0.0", "--no-watch", NULL};
  CHECK(server_start_ex(&all, f.dir, f.db, no_model, listen));
  static char err[4096];
  run_slurp(all.err, err, sizeof err);
  CHECK(strstr(err, "warning: listening on 0.0.0.0") != NULL);
  char host[64];
  snprintf(host, sizeof host, "192.0.2.7:%u", all.port);
  reply r = http(&all, "GET", "/api/search?q=otters", host, NULL, NULL);
  CHECK(results(&r) == 3);
  reply_free(&r);
  snprintf(host, sizeof host, "evil.example:%u", all.port);
  r = http(&all, "GET", "/api/search?q=otters", host, NULL, NULL);
  CHECK(json_error(&r, 421, "DNS rebinding"));
  reply_free(&r);
  CHECK(server_stop(&all, SIGTERM) == 0);
  fx_done(&f);
}

/* Indexes tree into db, makes db's folder read-only (a read-only mount as
 * root, which ignores permissions; else its mode) and serves it: searches
 * and items answer, a hide is refused naming the cause, and a scan reports
 * that the database cannot be written. Runs in a child process (its own
 * mount namespace); returns 0, 77 when root cannot mount, or the number of
 * the check that failed. */
static int read_only_child(const char *dir, const char *tree, const char *db) {
  static run_out r;
  bool root = geteuid() == 0;
  if (root && (unshare(CLONE_NEWNS) != 0 ||
               mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
               mount("tmpfs", dir, "tmpfs", 0, "size=16m") != 0))
    return 77;
  RUN_TROVE(&r, dir, db, "--no-model", "source", "add", "notes", "fs", tree);
  if (r.code)
    return 1;
  RUN_TROVE(&r, dir, db, "--no-model", "scan");
  if (r.code)
    return 2;
  if (root ? mount(NULL, dir, NULL, MS_REMOUNT | MS_RDONLY, NULL) != 0 : chmod(dir, 0555) != 0)
    return 3;
  server s;
  char logs[128];
  snprintf(logs, sizeof logs, "%s.logs", dir); /* the server's stderr, outside the mount */
  if (mkdir(logs, 0755) != 0 || !server_start(&s, logs, db, no_model) || !server_token(&s))
    return 4;
  int failed = 0;
  reply rep = get(&s, "/api/search?q=otters");
  failed = failed ? failed : results(&rep) >= 1 ? 0 : 5;
  reply_free(&rep);
  rep = get(&s, "/api/items/1");
  failed = failed ? failed : rep.status == 200 ? 0 : 6;
  reply_free(&rep);
  rep = post(&s, "POST", "/api/items/1/hide", NULL);
  failed = failed ? failed : rep.status >= 400 && rep.body && strstr(rep.body, "read-only") ? 0 : 7;
  reply_free(&rep);
  int code = server_stop(&s, SIGINT);
  failed = failed ? failed : code == 0 ? 0 : 8;
  static char err[4096]; /* it serves, without watching, and says why */
  run_slurp(s.err, err, sizeof err);
  failed = failed ? failed : strstr(err, "read-only; serving without watching") ? 0 : 9;
  if (!root)
    chmod(dir, 0755);
  return failed;
}

/* The server answers from a database it cannot write, as search does. */
static void serve_reads_a_database_in_a_read_only_folder(void) {
  char base[64], dir[96], tree[96], db[128];
  run_tempdir(base, sizeof base, "serve-ro");
  snprintf(dir, sizeof dir, "%s/ro", base);
  snprintf(tree, sizeof tree, "%s/tree", base);
  snprintf(db, sizeof db, "%s/trove.db", dir);
  CHECK(mkdir(dir, 0755) == 0 && mkdir(tree, 0755) == 0);
  run_put(tree, "otters.md", "# Otters\n\nOtters hold hands while they sleep.\n");
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0)
    _exit(read_only_child(dir, tree, db));
  int rc = run_wait(pid);
  if (rc == 77)
    fprintf(stderr, "  skipped: root cannot mount a tmpfs here\n");
  else if (rc)
    fprintf(stderr, "  check %d failed\n", rc);
  CHECK(rc == 0 || rc == 77);
  chmod(dir, 0755);
  run_rmdir(base);
}

static void serve_usage_errors_exit_2(void) {
  char dir[64], db[96];
  run_tempdir(dir, sizeof dir, "serve-usage");
  snprintf(db, sizeof db, "%s/trove.db", dir);
  static run_out r;
  RUN_TROVE(&r, dir, db, "serve", "--help");
  CHECK(r.code == 0 && strstr(r.out, "usage: trove serve") && strstr(r.out, "--listen"));
  RUN_TROVE(&r, dir, db, "--help");
  CHECK(r.code == 0 && strstr(r.out, "serve [--port N]") && strstr(r.out, "interactive prompt"));
  const char *const cases[][3] = {{"--port", "abc"}, {"--port", "70000"}, {"--port", "-1"},
                                  {"--port"},        {"--listen", "example.com"}, {"--bogus"}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    RUN_TROVE(&r, dir, db, "--no-model", "source", "add", "x", "fs", dir); /* a database */
    const char *args[5] = {"--no-model", "serve", cases[i][0], cases[i][1], NULL};
    run_v(&r, dir, db, args);
    if (r.code != 2)
      fprintf(stderr, "  serve %s %s: exit %d: %s\n", cases[i][0], cases[i][1] ? cases[i][1] : "",
              r.code, r.err);
    CHECK(r.code == 2 && strstr(r.err, "usage: trove serve"));
  }
  setenv("TROVE_FETCH_TIMEOUT", "abc", 1); /* the page's scans take it as `trove scan` does */
  RUN_TROVE(&r, dir, db, "--no-model", "serve", "--port", "0");
  unsetenv("TROVE_FETCH_TIMEOUT");
  CHECK(r.code == 2 && strstr(r.err, "TROVE_FETCH_TIMEOUT"));
  char nodb[128];
  snprintf(nodb, sizeof nodb, "%s/none/trove.db", dir);
  RUN_TROVE(&r, dir, nodb, "--no-model", "serve", "--port", "0");
  CHECK(r.code != 0 && r.code != 2 && strstr(r.err, "no database")); /* never made by serve */
  run_rmdir(dir);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: serve_http_test PATH_TO_TROVE\n");
    return 2;
  }
  trove_bin = argv[1];
  signal(SIGPIPE, SIG_IGN);
  RUN(serve_wrong_host_gets_421);
  RUN(serve_changes_need_the_token);
  RUN(serve_bad_parameters_get_json_4xx);
  RUN(serve_search_is_what_the_cli_prints);
  RUN(serve_sources_added_and_removed);
  RUN(serve_browser_source_edited);
  RUN(serve_scan_in_background_with_events);
  RUN(serve_answers_200_concurrent_requests);
  RUN(serve_page_is_self_contained_and_guarded);
  RUN(serve_keeps_connections_alive);
  RUN(serve_listening_everywhere_warns_and_takes_ip_hosts);
  RUN(serve_usage_errors_exit_2);
  RUN(serve_reads_a_database_in_a_read_only_folder);
  return check_done(__FILE__);
}
