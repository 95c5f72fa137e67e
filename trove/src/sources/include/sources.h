/* sources.h: what trove indexes, enumerated. A source is a directory of files
 * (fs), a Chromium profile's History database or Bookmarks file, or a Firefox
 * profile's places.sqlite. This module only ENUMERATES a source's items as
 * candidates, in batches of TROVE_SOURCE_BATCH (the scan pipeline matches one
 * batch against the database per query); it neither extracts nor stores.
 * For fs items it also offers the reading helper trove_fs_read, which reads a
 * file with a size cap and classifies it (text, Markdown, HTML, or a counted
 * skip reason); fetching web items is the fetcher's job, not this module's.
 *
 * The parts, one file each: glob.c (globs with **), gitignore.c (.gitignore
 * rules), fs_walk.c (the directory walker), classify.c (reading a file),
 * url.c (URL helpers), weblist.c (collecting, normalising and deduplicating
 * web candidates), browser_db.c (copying a locked browser database),
 * chromium.c (History), bookmarks.c (Bookmarks JSON), firefox.c
 * (places.sqlite), source.c (the iterator and batches), location.c
 * (checking a location when a source is added).
 *
 * Times: every time in a candidate is Unix time in MICROSECONDS (since
 * 1970-01-01 UTC), whatever the browser's own epoch; 0 means unknown.
 *
 * Threads: a trove_source belongs to one thread at a time (it may move
 * between threads); distinct sources are independent. trove_fs_read, the glob,
 * gitignore-matching and URL functions are safe from any thread on distinct
 * arguments (a trove_gitignore may be read by many threads at once).
 */
#ifndef TROVE_SOURCES_H
#define TROVE_SOURCES_H

#include "core.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- candidates and batches ---------------------------------------------- */

/* Candidates per batch: what the scan pipeline matches in one query. */
#define TROVE_SOURCE_BATCH 64

/* Item types (trove_item_type, trove_item_type_name) are in core.h. */

/* One item a source holds. Strings are NUL-terminated UTF-8 owned by the
 * batch that holds the candidate. */
typedef struct trove_candidate {
  char *external_id; /* absolute path (fs) or normalised http(s) URL */
  char *title;       /* the browser's title; NULL when unknown (always for fs) */
  char *path;        /* fs: the file to read (same as external_id); NULL for web */
  trove_item_type type;
  int64_t time_us;    /* Unix µs: file mtime (fs), last visit (history), date
                         added (bookmark); 0 when unknown */
  int64_t visited_us; /* Unix µs of the last visit when the browser knows it
                         (history, Firefox bookmarks), else 0 */
  int64_t size;       /* fs: file size in bytes; -1 for web items */
} trove_candidate;

/* A batch of candidates. Start it zeroed (`trove_batch b = {0};`); the
 * source fills it; trove_batch_clear frees the strings. */
typedef struct trove_batch {
  trove_candidate items[TROVE_SOURCE_BATCH];
  size_t n; /* candidates in items[0..n) */
} trove_batch;

/* Frees the strings of every candidate and sets n to 0. NULL is fine. */
void trove_batch_clear(trove_batch *b);

/* ---- sources -------------------------------------------------------------- */

typedef struct trove_source trove_source;

/* What a source counted while enumerating, for the scan summary. Read it with
 * trove_source_get_stats at any point; counts only grow. */
typedef struct trove_source_stats {
  uint64_t yielded; /* candidates returned by trove_source_next */
  /* web sources */
  uint64_t not_http;   /* URLs dropped: not http(s) or not parseable */
  uint64_t duplicates; /* rows merged into another with the same URL */
  uint64_t bad_rows;   /* rows or nodes without a usable URL (NULL, not
                          a string, not UTF-8) */
  /* fs sources */
  uint64_t dirs;          /* directories entered */
  uint64_t ignored;       /* entries skipped by a .gitignore rule */
  uint64_t excluded;      /* entries skipped by an exclude glob, or files
                             matching no include glob */
  uint64_t hidden;        /* dot-entries skipped (include_hidden false) */
  uint64_t symlink_loops; /* directories reached again (symlink loop or a
                             second link to one directory), skipped */
  uint64_t bad_names;     /* entries whose name is not valid UTF-8: walked
                             like any other (the path keeps the bytes; a
                             scan titles the file with them escaped) */
  uint64_t unreadable;    /* entries or directories we could not stat or
                             open (permissions, dangling symlinks, races) */
  uint64_t special;       /* sockets, FIFOs, devices; symlinks when
                             no_follow_symlinks */
} trove_source_stats;

/* Options of an fs source. Zeroed options mean: every file, no excludes,
 * hidden entries skipped, symlinks followed.
 *
 * Globs (see trove_glob_match): a glob holding no '/' is matched against
 * the entry's name at any depth ("*.html"); one holding a '/' is matched
 * against the path relative to the source directory ("notes/a.md"), where a
 * "**" segment crosses directories. Includes select files; excludes prune
 * files and whole directories. */
typedef struct trove_fs_options {
  const char *const *include; /* n_include globs; none: every file */
  size_t n_include;
  const char *const *exclude; /* n_exclude globs */
  size_t n_exclude;
  bool include_hidden;     /* also walk names starting with '.' (".git"
                              is skipped always) */
  bool no_follow_symlinks; /* skip symlinks instead of following them */
  /* The scope: when n_only > 0, the walk yields only what the full walk
   * yields at or under these paths (absolute under dir, or relative to
   * it), and the unread paths among them. Every directory on the way down
   * is read, so .gitignore rules and globs decide as in the full walk; a
   * path that names dir itself scopes the whole tree. For re-reading the
   * few paths a watcher saw change. */
  const char *const *only;
  size_t n_only;
} trove_fs_options;

/* Opens an fs source over directory `dir`, honouring the .gitignore files
 * found in it at every level (see gitignore.c for the rules and limits). The
 * walk itself happens lazily in trove_source_next; the options are copied.
 * Order: a directory's files, by name (byte order), then each subdirectory
 * in name order, depth first. Web sources yield in URL order.
 * On success *out owns the source (trove_source_close). Returns 0;
 * TROVE_EINVAL (NULL argument, a malformed glob, dir not a directory, or a
 * scope path not under it);
 * TROVE_ENOENT (dir does not exist; err names it); TROVE_EIO (dir cannot be
 * read); TROVE_ENOMEM. On failure *out is NULL. */
int trove_source_open_fs(const char *dir, const trove_fs_options *opt, trove_source **out,
                         trove_err *err);

/* Opens a Chromium (Chrome, Chromium, Edge, Brave) history source.
 * `location` is a profile directory holding `History`, or the History file
 * itself. The file (and its -wal, when present) is copied first, because the
 * browser keeps it locked, into a new private directory inside copy_dir
 * (created 0700 when missing; a scan passes the one beside its database,
 * trove_source_copy_dir, so that a copy a kill left behind is found and
 * removed by the next scan) or, when copy_dir is NULL, inside $TMPDIR or
 * /tmp. The copy is read read-only and removed before this returns. Keeps http(s) URLs
 * only, strips #fragments and merges duplicates, keeping the latest visit and
 * the latest non-empty title. Candidates are TROVE_ITEM_WEB.
 * Returns 0; TROVE_EINVAL (NULL or empty argument, or History is not a
 * regular file); TROVE_ENOENT (no such profile directory, or no History in
 * it); TROVE_ECORRUPT (the file is empty, damaged or not a SQLite database);
 * TROVE_EUNSUPPORTED (a database without Chromium's urls table and
 * columns); TROVE_EIO (copying failed, e.g. no space in copy_dir); TROVE_EDB
 * (SQLite failed otherwise); TROVE_ENOMEM. On failure *out is NULL. The
 * err message names the file and what to check. */
int trove_source_open_chromium_history(const char *location, const char *copy_dir,
                                       trove_source **out, trove_err *err);

/* Opens a Chromium bookmarks source: `location` is a profile directory
 * holding `Bookmarks`, or that JSON file itself. Walks every root
 * (bookmark_bar, other, synced, ...) and nested folder; each url node gives
 * a TROVE_ITEM_BOOKMARK with its name as title and date_added (a string of
 * µs since 1601) as time. URLs as for history; a URL bookmarked twice keeps
 * the earliest date and a non-empty name. Returns 0; TROVE_EINVAL (NULL or
 * empty argument, or Bookmarks is not a regular file); TROVE_ENOENT (no such
 * directory or file); TROVE_ECORRUPT (0 bytes, binary, not UTF-8, not valid
 * JSON, or not a Bookmarks file: no "roots" object); TROVE_ERANGE (larger
 * than 256 MiB); TROVE_EIO; TROVE_ENOMEM. On failure *out is NULL. */
int trove_source_open_chromium_bookmarks(const char *location, trove_source **out, trove_err *err);

/* What a Firefox source yields. */
enum {
  TROVE_FIREFOX_HISTORY = 1,   /* moz_places rows with a last visit */
  TROVE_FIREFOX_BOOKMARKS = 2, /* moz_bookmarks of type 1 (URL bookmarks) */
};

/* Opens a Firefox source: `location` is a profile directory holding
 * places.sqlite, or that file itself; `items` is a non-zero OR of
 * TROVE_FIREFOX_*. Copies the file (and -wal) into copy_dir first, as for
 * Chromium. History
 * gives TROVE_ITEM_WEB candidates timed by last_visit_date; bookmarks give
 * TROVE_ITEM_BOOKMARK timed by dateAdded with visited_us from the page. A URL
 * both visited and bookmarked yields the bookmark only (one candidate per
 * URL). URLs as for Chromium. Returns the codes of
 * trove_source_open_chromium_history (TROVE_EUNSUPPORTED: no moz_places /
 * moz_bookmarks tables), and TROVE_EINVAL for a bad `items`. */
int trove_source_open_firefox(const char *location, int items, const char *copy_dir,
                              trove_source **out, trove_err *err);

/* Checks, before a source is added, that location is what a source of
 * `type` reads: a directory for "fs"; for "chromium-history",
 * "chromium-bookmarks" and "firefox" a profile directory holding History,
 * Bookmarks or places.sqlite (or that file itself), where History and
 * places.sqlite start as a SQLite database (their tables are checked at
 * scan: the browser keeps them locked) and Bookmarks parses as Chromium's
 * bookmarks JSON. Any thread. Returns 0; TROVE_ENOENT (no such directory,
 * or no such file in it); TROVE_EINVAL (an unknown type, a NULL or empty
 * argument, not a directory, not a regular file); TROVE_ECORRUPT (empty,
 * not SQLite, not Bookmarks JSON); TROVE_ERANGE (a Bookmarks file over 256
 * MiB); TROVE_EIO; TROVE_ENOMEM. err says what to give instead. */
int trove_source_check_location(const char *type, const char *location, trove_err *err);

/* The private directory beside database db_path that scans copy browser
 * databases into, "<db_path>.copies", into *out (the caller's: trove_free).
 * 0 or TROVE_ENOMEM. */
int trove_source_copy_dir(const char *db_path, char **out, trove_err *err);

/* Removes copy directory dir and everything in it (the copies of a scan
 * that was killed or interrupted); never follows a symbolic link, and
 * removes one that stands at dir itself. For the one scan of a database
 * that holds its scan lock: a copy being read meanwhile would be lost.
 * Returns 0 (removed, or there was none) or TROVE_EIO with err naming what
 * could not be removed and why. */
int trove_source_copies_remove(const char *dir, trove_err *err);

/* Fills b with the next candidates (up to TROVE_SOURCE_BATCH), first
 * clearing what b held. Returns the number of candidates (> 0), 0 when the
 * source is exhausted (b->n is 0; later calls return 0 again), or a negative
 * code: TROVE_EINVAL (NULL argument), TROVE_ENOMEM (b is empty; the source
 * stays usable and retrying continues where it stopped). An unreadable
 * subdirectory is not an error: it is counted and skipped. */
int trove_source_next(trove_source *src, trove_batch *b, trove_err *err);

/* Copies the counters so far into *out. NULL src gives zeroes. */
void trove_source_get_stats(const trove_source *src, trove_source_stats *out);

/* The paths (absolute) of the directories and entries the walk so far
 * could not open or stat for a reason other than their being gone:
 * permissions, I/O errors, a path too long, no descriptors left. What they
 * hold was not seen, but nothing says it was deleted, so a full scan must
 * keep the items at and under them. *paths stays valid until the next
 * trove_source_next or trove_source_close; sources that skip nothing (and
 * NULL src) give *n = 0. */
void trove_source_unread_paths(const trove_source *src, const char *const **paths, size_t *n);

/* Frees the source and everything it holds. NULL is fine. */
void trove_source_close(trove_source *src);

/* ---- reading fs files ------------------------------------------------------ */

typedef enum trove_content_kind {
  TROVE_CONTENT_TEXT,     /* plain UTF-8 text */
  TROVE_CONTENT_MARKDOWN, /* by extension: .md .markdown .mdown .mkd .mkdn */
  TROVE_CONTENT_HTML,     /* by extension (.html .htm .xhtml) or content
                             starting with <!doctype html or <html */
} trove_content_kind;

/* Why a file is not indexed. The names (trove_skip_name) are stable: they
 * are stored in the database as the item's skip reason. */
typedef enum trove_skip {
  TROVE_SKIP_NONE,      /* "" : indexed */
  TROVE_SKIP_EMPTY,     /* "empty": 0 bytes */
  TROVE_SKIP_TOO_LARGE, /* "too_large": more bytes than the cap */
  TROVE_SKIP_BINARY,    /* "binary": holds a NUL byte */
  TROVE_SKIP_NOT_UTF8,  /* "not_utf8": not UTF-8 where it must be (a
                           Bookmarks file); trove_fs_read decodes the rest */
  TROVE_SKIP_NOT_FILE,  /* "not_file": not a regular file (any more) */
  TROVE_SKIP_COUNT_
} trove_skip;

/* The stored name of a skip reason; "unknown" past the enum. Any thread. */
const char *trove_skip_name(trove_skip s);

/* A file's contents as trove_fs_read returns them. */
typedef struct trove_file {
  char *data;              /* contents, NUL-terminated, UTF-8 without a byte-
                              order mark; NULL when skipped. Free with
                              trove_file_free. */
  size_t len;              /* bytes in data, not counting the NUL */
  trove_content_kind kind; /* meaningful when skip is TROVE_SKIP_NONE */
  trove_skip skip;         /* TROVE_SKIP_NONE, or why it is not indexed */
  bool charset_guessed;    /* data was decoded from a charset guessed, not
                              marked or declared: a file that was not UTF-8
                              read as windows-1252, or BOM-less UTF-16/32
                              found by its NULs */
} trove_file;

/* Reads the file at path whole, when it has at most max_bytes bytes (0, or
 * anything above SIZE_MAX / 2, means SIZE_MAX / 2), and classifies it. Any
 * thread. Returns 0 with *out filled: either data and kind (skip TROVE_SKIP_NONE) or a skip reason
 * and no data. Errors: TROVE_EINVAL (NULL argument), TROVE_ENOENT (the file vanished), TROVE_EIO
 * (cannot open or read it, e.g. permission denied: err names the path and the system's reason),
 * TROVE_ENOMEM. On error *out is zeroed. */
int trove_fs_read(const char *path, size_t max_bytes, trove_file *out, trove_err *err);

/* Frees f's data and zeroes it. NULL is fine. */
void trove_file_free(trove_file *f);

/* Skip-reason counters for one scan, shared by the reader workers: zero it,
 * then any thread may count with trove_skip_count. */
typedef struct trove_skip_counts {
  _Atomic uint64_t n[TROVE_SKIP_COUNT_];
} trove_skip_counts;

/* Adds one to reason s (ignored past the enum). Any thread; relaxed, as the
 * counts are only read after the readers are joined. */
void trove_skip_count(trove_skip_counts *c, trove_skip s);

/* ---- globs and .gitignore ------------------------------------------------ */

/* True when `path` (segments separated by '/') matches glob `pat` whole.
 * '*' matches any run of characters within one segment, '?' one character
 * but '/', [abc] [a-z] [!a-z] [^a-z] sets, '\' escapes the next character;
 * a segment that is exactly "**" matches zero or more whole segments (the
 * segments a, **, b joined by slashes match a/b and a/x/y/b), except a
 * trailing one, which needs at least one (a, ** match a/x but not a).
 * Leading dots are not special.
 * A malformed glob (unterminated [ or trailing \) matches nothing. Any
 * thread; no allocation. */
bool trove_glob_match(const char *pat, const char *path);

/* True when glob pat is well formed (sets closed, no trailing '\'). */
bool trove_glob_valid(const char *pat);

/* The rules of one .gitignore file, parsed. */
typedef struct trove_gitignore trove_gitignore;

/* Parses the len bytes of a .gitignore file's text (need not be
 * NUL-terminated; CRLF and a missing final newline are fine; invalid lines
 * are ignored as git ignores them). On success *out owns the rules
 * (trove_gitignore_free). Returns 0, TROVE_EINVAL (NULL text with len > 0,
 * or NULL out), TROVE_ENOMEM (*out is NULL). */
int trove_gitignore_parse(const char *text, size_t len, trove_gitignore **out);

/* Frees the rules. NULL is fine. */
void trove_gitignore_free(trove_gitignore *gi);

/* Matches `rel`, a path relative to the .gitignore's directory ("a/b.md"),
 * against the rules; is_dir says whether it names a directory. The last
 * matching rule decides. Returns 1 when it is ignored, -1 when a negated
 * rule (!) re-includes it, 0 when no rule matches (ask the parent
 * directory's .gitignore then). NULL gi gives 0. */
int trove_gitignore_match(const trove_gitignore *gi, const char *rel, bool is_dir);

/* ---- URLs ------------------------------------------------------------------ */

/* True when url is an absolute http:// or https:// URL (scheme in any case)
 * with a non-empty host. Any thread. */
bool trove_url_is_http(const char *url);

/* The length of url without its #fragment (strlen(url) when it has none). */
size_t trove_url_fragment_start(const char *url);

/* Finds url's host: *host points into url at it, *len is its length
 * ("example.com" for "https://user@Example.com:8080/x"; for an IPv6 literal
 * the brackets are included). Returns 0, or TROVE_EINVAL when url is not an
 * absolute URL with an authority ("scheme://host...") or the host is empty. */
int trove_url_host(const char *url, const char **host, size_t *len);

/* Normalises an http(s) URL for use as an external id: trims surrounding
 * whitespace, lower-cases scheme and host, drops the #fragment, the default
 * port (:80 for http, :443 for https) and an empty userinfo "@", and gives an
 * empty path "/". The path, query and percent-escapes are kept as they are.
 * On success *out is a new string (trove_free). Returns 0, TROVE_EINVAL (NULL
 * argument, not an http(s) URL, empty host, or control characters or spaces
 * inside), TROVE_ENOMEM; *out is NULL on failure. */
int trove_url_normalize(const char *url, char **out);

/* Normalises a domain as `--exclude-domain` and `forget --domain` take
 * it: lower case, without a leading "*." or "." (a domain always includes
 * its subdomains) or a trailing ".". On success *out is a new string
 * (trove_free). Returns 0, TROVE_EINVAL (NULL, empty, or holding a
 * character no host name has: '/', ':', a space, two dots in a row) or
 * TROVE_ENOMEM. Any thread. */
int trove_domain_normalize(const char *domain, char **out);

/* True when url's host is domain (normalised, trove_domain_normalize) or
 * one of its subdomains: "mail.bank.com" is in "bank.com", "notbank.com" is
 * not; an IP address is only in itself. False for a URL without a host. Any thread; no allocation.
 */
bool trove_url_in_domain(const char *url, const char *domain);

#endif /* TROVE_SOURCES_H */
