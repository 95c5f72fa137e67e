/* location_test.c: trove_source_check_location (location.c), the check a
 * source's location gets when it is added: an fs source needs a
 * directory; a browser source a profile directory holding the browser's
 * file (or that file), a SQLite database for History and places.sqlite
 * and Chromium's bookmarks JSON for Bookmarks. Each refusal has its code
 * and a message that says what to give. */
#include "sources.h"
#include "testdb.h"

#include "check.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static char work[256];

/* work/rel as a path in buf. */
static const char *at(char *buf, size_t n, const char *rel) {
  snprintf(buf, n, "%s/%s", work, rel);
  return buf;
}

static int check(const char *type, const char *location, trove_err *e) {
  memset(e, 0, sizeof *e);
  return trove_source_check_location(type, location, e);
}

static void fs_needs_a_directory(void) {
  char notes[300], file[300], gone[300];
  trove_err e;
  CHECK(mkdir(at(notes, sizeof notes, "notes"), 0700) == 0);
  CHECK(tdb_write(at(file, sizeof file, "notes/a.md"), "# A\n", 4));
  CHECK(check("fs", notes, &e) == 0);
  CHECK(check("fs", file, &e) == TROVE_EINVAL);
  CHECK(strstr(e.msg, "is not a directory: an fs source indexes a directory") != NULL);
  CHECK(check("fs", at(gone, sizeof gone, "gone"), &e) == TROVE_ENOENT);
  CHECK(strstr(e.msg, "does not exist") && strstr(e.msg, gone));
  CHECK(check("fs", "", &e) == TROVE_EINVAL && check(NULL, notes, &e) == TROVE_EINVAL);
  CHECK(check("ftp", notes, &e) == TROVE_EINVAL && strstr(e.msg, "unknown source type"));
}

/* The mistake of the issue: a notes directory given as a browser profile. */
static void a_notes_directory_is_no_browser_profile(void) {
  char notes[300], want[600];
  trove_err e;
  at(notes, sizeof notes, "notes");
  CHECK(check("chromium-history", notes, &e) == TROVE_ENOENT);
  snprintf(want, sizeof want, "%s holds no History: give a Chromium profile directory (such as "
           "~/.config/chromium/Default) or its History file", notes);
  CHECK(strcmp(e.msg, want) == 0);
  CHECK(check("firefox", notes, &e) == TROVE_ENOENT);
  CHECK(strstr(e.msg, "holds no places.sqlite: give a Firefox profile directory") != NULL);
  CHECK(check("chromium-bookmarks", notes, &e) == TROVE_ENOENT);
  CHECK(strstr(e.msg, "holds no Bookmarks: give a Chromium profile directory") != NULL);
}

static void browser_files_are_checked_by_their_content(void) {
  char prof[300], history[300], places[300], marks[300];
  trove_err e;
  CHECK(mkdir(at(prof, sizeof prof, "prof"), 0700) == 0);
  at(history, sizeof history, "prof/History");
  at(places, sizeof places, "prof/places.sqlite");
  at(marks, sizeof marks, "prof/Bookmarks");
  CHECK(tdb_write(history, "not a database at all, only text\n", 33));
  CHECK(check("chromium-history", prof, &e) == TROVE_ECORRUPT);
  CHECK(strstr(e.msg, "is not a SQLite database, so not Chromium's History") != NULL);
  CHECK(tdb_write(history, "", 0));
  CHECK(check("chromium-history", prof, &e) == TROVE_ECORRUPT && strstr(e.msg, "empty"));
  remove(history);
  CHECK(tdb_exec(history, tdb_chromium_schema) == SQLITE_OK);
  CHECK(check("chromium-history", prof, &e) == 0);
  CHECK(check("chromium-history", history, &e) == 0); /* the file itself */
  CHECK(tdb_exec(places, "CREATE TABLE moz_places(id INTEGER)") == SQLITE_OK);
  CHECK(check("firefox", prof, &e) == 0);
  CHECK(tdb_write(marks, "{\"version\":1}", 13));
  CHECK(check("chromium-bookmarks", prof, &e) == TROVE_ECORRUPT && strstr(e.msg, "roots"));
  CHECK(tdb_write(marks, "{\"roots\":{}}", 12));
  CHECK(check("chromium-bookmarks", prof, &e) == 0);
  CHECK(check("chromium-bookmarks", marks, &e) == 0);
}

int main(void) {
  if (!tdb_tempdir(work, sizeof work, "location"))
    return 1;
  RUN(fs_needs_a_directory);
  RUN(a_notes_directory_is_no_browser_profile);
  RUN(browser_files_are_checked_by_their_content);
  tdb_remove(work);
  return check_done(__FILE__);
}
