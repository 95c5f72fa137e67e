/* cli_search_test.c: what `trove search` shows. A blank QUERY is a usage
 * error, as an empty one is; made-up words that no item holds and nothing
 * is close to get "no good matches" (exit 1) in hybrid and semantic mode
 * instead of a page of whatever is nearest; each result says whether its
 * passage holds the query's words or was picked by meaning; --since and
 * --until filter by a file's mtime (a page's last visit; store tests cover
 * that side) in every mode, and print shows the time.
 * Usage: cli_search_test PATH_TO_TROVE. */
#include "json.h"

#include "run.h"

#include <sys/time.h>
#include <time.h>

typedef struct fx {
  char dir[64], tree[96], db[96];
  int64_t old_t, new_t; /* the two files' mtimes */
} fx;

/* Local time t of Y-M-D h:m as Unix seconds. */
static int64_t local_time(int y, int mo, int d, int h, int mi) {
  struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
                  .tm_min = mi, .tm_isdst = -1};
  return (int64_t)mktime(&tm);
}

static void set_mtime(const char *dir, const char *name, int64_t t) {
  char p[192];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  struct timeval tv[2] = {{(time_t)t, 0}, {(time_t)t, 0}};
  CHECK(utimes(p, tv) == 0);
}

static void fx_init(fx *f) {
  static run_out r;
  run_tempdir(f->dir, sizeof f->dir, "search");
  snprintf(f->tree, sizeof f->tree, "%s/tree", f->dir);
  snprintf(f->db, sizeof f->db, "%s/trove.db", f->dir);
  CHECK(mkdir(f->tree, 0755) == 0);
  run_put(f->tree, "old.md", "# Otters of old\n\nOtters hold hands while they sleep.\n");
  run_put(f->tree, "new.md", "# Otters today\n\nOtters crack shells open with stones.\n");
  f->old_t = local_time(2020, 1, 15, 12, 0);
  f->new_t = local_time(2023, 6, 1, 9, 30);
  set_mtime(f->tree, "old.md", f->old_t);
  set_mtime(f->tree, "new.md", f->new_t);
  RUN_TROVE(&r, f->dir, f->db, "source", "add", "notes", "fs", f->tree);
  RUN_TROVE(&r, f->dir, f->db, "scan");
  CHECK(r.code == 0);
}

static void fx_done(fx *f) { run_rmdir(f->dir); }

static void cli_blank_query_is_a_usage_error(void) {
  fx f;
  fx_init(&f);
  static run_out r;
  const char *const blanks[] = {"", "   ", " \t\n "};
  for (size_t i = 0; i < sizeof blanks / sizeof *blanks; i++) {
    RUN_TROVE(&r, f.dir, f.db, "search", blanks[i]);
    CHECK(r.code == 2 && strstr(r.err, "trove: the QUERY is blank: give words to search for\n"));
    CHECK(r.out[0] == 0);
  }
  RUN_TROVE(&r, f.dir, f.db, "search", "", "  ");
  CHECK(r.code == 2);
  RUN_TROVE(&r, f.dir, f.db, "search");
  CHECK(r.code == 2 && strstr(r.err, "trove: search needs a QUERY\n"));
  fx_done(&f);
}

static void cli_junk_has_no_good_matches(void) {
  fx f;
  fx_init(&f);
  static run_out r;
  const char *const modes[] = {"hybrid", "semantic"};
  for (size_t i = 0; i < 2; i++) {
    RUN_TROVE(&r, f.dir, f.db, "search", "xyzzyplugh", "--mode", modes[i]);
    CHECK(r.code == 1 && strcmp(r.out, "no good matches: no item holds a word of the query, and "
                                       "none is close in meaning\n") == 0);
    RUN_TROVE(&r, f.dir, f.db, "search", "qwzx", "vbnmk", "--mode", modes[i], "--json");
    CHECK(r.code == 1 && strcmp(r.out, "[]\n") == 0);
    /* a word an item holds is a match, however far its meaning */
    RUN_TROVE(&r, f.dir, f.db, "search", "xyzzyplugh", "shells", "--mode", modes[i]);
    CHECK(r.code == 0 && strstr(r.out, "new.md"));
  }
  RUN_TROVE(&r, f.dir, f.db, "search", "xyzzyplugh", "--mode", "keyword");
  CHECK(r.code == 1 && strcmp(r.out, "no results\n") == 0);
  fx_done(&f);
}

/* The paths of a --json result list, joined by spaces. */
static void paths(const char *out, char *buf, size_t cap) {
  trove_json_doc *doc = NULL;
  buf[0] = 0;
  if (trove_json_parse(out, strlen(out), 0, &doc, NULL) != 0)
    return;
  for (size_t i = 0; i < trove_json_len(trove_json_root(doc)); i++) {
    const char *p = trove_json_get_str(trove_json_at(trove_json_root(doc), i), "path", "");
    const char *slash = strrchr(p, '/');
    size_t used = strlen(buf);
    snprintf(buf + used, cap - used, "%s%s", used ? " " : "", slash ? slash + 1 : p);
  }
  trove_json_free(doc);
}

static void cli_since_and_until_filter_by_time(void) {
  fx f;
  fx_init(&f);
  static run_out r;
  char got[256];
  const char *const modes[] = {"keyword", "semantic", "hybrid"};
  for (size_t m = 0; m < 3; m++) {
    RUN_TROVE(&r, f.dir, f.db, "search", "otters", "--mode", modes[m], "--json");
    paths(r.out, got, sizeof got);
    CHECK(r.code == 0 && strstr(got, "old.md") && strstr(got, "new.md"));
    RUN_TROVE(&r, f.dir, f.db, "search", "otters", "--mode", modes[m], "--json",
              "--since", "2021-01-01");
    paths(r.out, got, sizeof got);
    CHECK(r.code == 0 && strcmp(got, "new.md") == 0);
    /* a day given alone for --until is the whole day */
    RUN_TROVE(&r, f.dir, f.db, "search", "otters", "--mode", modes[m], "--json",
              "--until=2020-01-15");
    paths(r.out, got, sizeof got);
    CHECK(r.code == 0 && strcmp(got, "old.md") == 0);
    RUN_TROVE(&r, f.dir, f.db, "search", "otters", "--mode", modes[m], "--json",
              "--since", "2020-01-15T12:00", "--until", "2023-06-01 09:30:00");
    paths(r.out, got, sizeof got);
    CHECK(r.code == 0 && strstr(got, "old.md") && strstr(got, "new.md"));
    RUN_TROVE(&r, f.dir, f.db, "search", "otters", "--mode", modes[m], "--json",
              "--since", "2020-01-16", "--until", "2023-05-31");
    CHECK(r.code == 1 && strcmp(r.out, "[]\n") == 0);
    RUN_TROVE(&r, f.dir, f.db, "search", "otters", "--mode", modes[m], "--json",
              "--since", "2000w");
    paths(r.out, got, sizeof got);
    CHECK(r.code == 0 && strstr(got, "old.md") && strstr(got, "new.md"));
  }
  RUN_TROVE(&r, f.dir, f.db, "search", "otters", "--since", "2023-01-01", "--until",
            "2022-01-01");
  CHECK(r.code == 2 && strstr(r.err, "--since is after --until"));
  /* print shows the time */
  RUN_TROVE(&r, f.dir, f.db, "search", "hands", "--mode", "keyword", "--json");
  trove_json_doc *doc = NULL;
  CHECK(trove_json_parse(r.out, strlen(r.out), 0, &doc, NULL) == 0);
  char id[24];
  snprintf(id, sizeof id, "%lld",
           (long long)trove_json_get_i64(trove_json_at(trove_json_root(doc), 0), "id", 0));
  trove_json_free(doc);
  RUN_TROVE(&r, f.dir, f.db, "print", id);
  CHECK(r.code == 0 && strstr(r.out, "\nmodified     2020-01-15 12:00\n"));
  RUN_TROVE(&r, f.dir, f.db, "print", id, "--json");
  CHECK(trove_json_parse(r.out, strlen(r.out), 0, &doc, NULL) == 0);
  CHECK(trove_json_get_i64(trove_json_root(doc), "modified", 0) == f.old_t);
  trove_json_free(doc);
  fx_done(&f);
}

static void cli_result_says_why_its_passage(void) {
  fx f;
  fx_init(&f);
  static run_out r;
  RUN_TROVE(&r, f.dir, f.db, "search", "shells", "--mode", "keyword");
  CHECK(r.code == 0 && strstr(r.out, "new.md  (id ") && strstr(r.out, ", by words)\n"));
  RUN_TROVE(&r, f.dir, f.db, "search", "shells", "--json", "-n", "1");
  CHECK(r.code == 0 && strstr(r.out, "\"passage_by\":\"words\""));
  /* no word of it is in the notes: the passage is the closest in meaning */
  RUN_TROVE(&r, f.dir, f.db, "search", "sea", "mammals", "using", "tools", "-n", "1");
  CHECK(r.code == 0 && strstr(r.out, ", by meaning)\n"));
  RUN_TROVE(&r, f.dir, f.db, "search", "sea", "mammals", "using", "tools", "-n", "1", "--json");
  CHECK(r.code == 0 && strstr(r.out, "\"passage_by\":\"meaning\""));
  fx_done(&f);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: cli_search_test PATH_TO_TROVE\n");
    return 2;
  }
  trove_bin = argv[1];
  RUN(cli_blank_query_is_a_usage_error);
  RUN(cli_junk_has_no_good_matches);
  RUN(cli_since_and_until_filter_by_time);
  RUN(cli_result_says_why_its_passage);
  return check_done(__FILE__);
}
