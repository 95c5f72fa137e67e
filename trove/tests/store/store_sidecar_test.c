/* store_sidecar_test.c: the sources' copy beside the database
 * ("<db>.sources.json"): written when sources change (inside a batch too,
 * at its commit), made for a database that has none, named by the
 * corrupt-database advice, and read back into a database file created in
 * the damaged one's place; a sidecar that cannot be used never stops the
 * open. */
#include "fixture.h"

#include <sys/stat.h>

static void sidecar_of(const fx *f, char *out, size_t cap) {
  snprintf(out, cap, "%s.sources.json", f->db);
}

static void slurp(const char *path, char *out, size_t cap) {
  FILE *fp = fopen(path, "rb");
  size_t n = fp ? fread(out, 1, cap - 1, fp) : 0;
  out[n] = '\0';
  if (fp)
    fclose(fp);
}

static size_t count_sources(trove_store *st) {
  trove_store_source *v = NULL;
  size_t n = 0;
  CHECK(trove_store_source_list(st, &v, &n, NULL) == 0);
  trove_store_sources_free(v, n);
  return n;
}

/* The sidecar follows every add and remove, and a source added inside a
 * batch reaches it when the batch commits (not when it is rolled back). */
static void sidecar_follows_source_changes(void) {
  fx f;
  fx_init(&f);
  char side[160], text[4096];
  sidecar_of(&f, side, sizeof side);
  trove_store *st = fx_open(&f);
  trove_store_opts o = {.path = f.db};
  CHECK(trove_store_open_note(st) == NULL);
  CHECK(trove_store_source_add(st, "docs", "fs", "/d", "{\"include\":[\"**/*.md\"]}", NULL,
                               NULL) == 0);
  CHECK(trove_store_source_add(st, "web", "chromium-history", "/p", NULL, NULL, NULL) == 0);
  slurp(side, text, sizeof text);
  CHECK(strstr(text, "\"name\":\"docs\"") && strstr(text, "\"include\":[\"**/*.md\"]") &&
        strstr(text, "\"name\":\"web\"") && strstr(text, "\"location\":\"/p\""));
  CHECK(trove_store_source_remove(st, "web", NULL, NULL) == 0);
  slurp(side, text, sizeof text);
  CHECK(strstr(text, "docs") && !strstr(text, "web"));
  CHECK(trove_store_begin(st, NULL) == 0);
  CHECK(trove_store_source_add(st, "rolled", "fs", "/r", NULL, NULL, NULL) == 0);
  trove_store_rollback(st);
  CHECK(trove_store_begin(st, NULL) == 0);
  CHECK(trove_store_source_add(st, "batched", "fs", "/b", NULL, NULL, NULL) == 0);
  slurp(side, text, sizeof text);
  CHECK(!strstr(text, "batched")); /* not before the commit */
  CHECK(trove_store_commit(st, NULL) == 0);
  slurp(side, text, sizeof text);
  CHECK(strstr(text, "batched") && !strstr(text, "rolled"));
  trove_store_close(st);
  /* a database from before the sidecar gets one at its next open */
  CHECK(unlink(side) == 0);
  CHECK(trove_store_open(&o, &st, NULL) == 0 && trove_store_open_note(st) == NULL);
  slurp(side, text, sizeof text);
  CHECK(strstr(text, "docs") && strstr(text, "batched"));
  trove_store_close(st);
  fx_done(&f);
}

/* The whole recovery: a damaged database names the copy in its advice; the
 * database moved away, the next open creates a new one with the same
 * sources (config included) and says so once. */
static void a_new_database_gets_the_sources_back(void) {
  fx f;
  fx_init(&f);
  trove_store *st = fx_open(&f);
  CHECK(trove_store_source_add(st, "docs", "fs", "/d", "{\"exclude\":[\"tmp/**\"]}", NULL,
                               NULL) == 0);
  CHECK(trove_store_source_add(st, "web", "firefox", "/profile", NULL, NULL, NULL) == 0);
  trove_store_close(st);
  fx_scribble(f.db, 16, 84, 0x5a); /* the header after its magic string */
  trove_err e = {0};
  trove_store_opts o = {.path = f.db};
  CHECK(trove_store_open(&o, &st, &e) == TROVE_ECORRUPT && !st);
  CHECK(strstr(e.msg, "move it away") && strstr(e.msg, "sources back") &&
        strstr(e.msg, ".sources.json"));
  char moved[160];
  snprintf(moved, sizeof moved, "%s.damaged", f.db);
  CHECK(rename(f.db, moved) == 0);
  CHECK(trove_store_open(&o, &st, &e) == 0);
  const char *note = trove_store_open_note(st);
  CHECK(note && strstr(note, "restored 2 sources (docs, web)") && strstr(note, "trove scan"));
  trove_store_source s;
  CHECK(trove_store_source_get(st, "docs", &s, &e) == 0 && strcmp(s.type, "fs") == 0 &&
        strcmp(s.location, "/d") == 0 && strcmp(s.config, "{\"exclude\":[\"tmp/**\"]}") == 0);
  trove_store_source_clear(&s);
  CHECK(trove_store_source_get(st, "web", &s, &e) == 0 && strcmp(s.config, "{}") == 0);
  trove_store_source_clear(&s);
  trove_store_close(st);
  CHECK(trove_store_open(&o, &st, &e) == 0 && trove_store_open_note(st) == NULL);
  CHECK(count_sources(st) == 2); /* once */
  trove_store_close(st);
  fx_done(&f);
}

/* Without a copy the advice says to add the sources again. */
static void without_a_copy_the_advice_says_add_them_again(void) {
  fx f;
  fx_init(&f);
  trove_store_close(fx_open(&f)); /* new and without sources: nothing to keep */
  char side[160];
  sidecar_of(&f, side, sizeof side);
  CHECK(access(side, F_OK) != 0);
  fx_scribble(f.db, 16, 84, 0x5a); /* the header after its magic string */
  trove_store *st = NULL;
  trove_err e = {0};
  trove_store_opts o = {.path = f.db};
  CHECK(trove_store_open(&o, &st, &e) == TROVE_ECORRUPT);
  CHECK(strstr(e.msg, "trove source add") && strstr(e.msg, "trove scan"));
  fx_done(&f);
}

/* A damaged, hostile or unreadable sidecar: the new database opens with no
 * sources and the note says why; nothing is half restored. */
static void a_bad_copy_never_stops_the_open(void) {
  const char *bad[] = {
      "[{\"name\":\"a\",\"type\":\"fs\",\"location\":\"/a\"},{\"name\":\"a\",\"type\":\"fs\","
      "\"location\":\"/b\"}]",                      /* a name twice */
      "[{\"name\":\"a\"}]",                         /* no type or location */
      "{\"not\":\"a list\"",                        /* not JSON */
      "[{\"name\":\"a\",\"type\":\"fs\",\"location\":\"/a\",\"config\":\"x\"}]", /* config not an object */
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    fx f;
    fx_init(&f);
    char side[160];
    sidecar_of(&f, side, sizeof side);
    FILE *fp = fopen(side, "w");
    CHECK(fp && fputs(bad[i], fp) >= 0);
    if (fp)
      fclose(fp);
    trove_store *st = NULL;
    trove_err e = {0};
    trove_store_opts o = {.path = f.db};
    CHECK(trove_store_open(&o, &st, &e) == 0);
    const char *note = trove_store_open_note(st);
    size_t n = st ? count_sources(st) : 99;
    if (i == 3) { /* a string config is valid JSON: kept as given */
      CHECK(n == 1 && note && strstr(note, "restored 1"));
    } else {
      if (!note || n)
        fprintf(stderr, "  case %zu: %zu sources, note %s\n", i, n, note ? note : "(none)");
      CHECK(note && strstr(note, "could not restore") && strstr(note, "trove source add"));
      CHECK(n == 0);
    }
    trove_store_close(st);
    fx_done(&f);
  }
}

int main(void) {
  RUN(sidecar_follows_source_changes);
  RUN(a_new_database_gets_the_sources_back);
  RUN(without_a_copy_the_advice_says_add_them_again);
  RUN(a_bad_copy_never_stops_the_open);
  return check_done(__FILE__);
}
