/* scan.h: trove's two indexing pipelines, built on sluice's pipeline layer.
 *
 * scan:      source -> match -> fetch -> read -> batch -> embed -> write
 *   source   opens the stored source by its type and config (sources.h) and
 *            emits batches of up to 64 candidates;
 *   match    looks a whole batch up in ONE store query and classifies each
 *            candidate new / changed / unchanged;
 *   fetch    web items only: one libcurl multi fetcher per batch (fetch.h),
 *            conditional GET with the stored ETag / Last-Modified (304:
 *            unchanged); a failure becomes the item's skip reason, permanent
 *            ones (gone, unauthorized, not_text: title only) are not
 *            retried; then the batch is split into items;
 *   read     a parallel map on the pool: reads the file (trove_fs_read) and
 *            extracts it, or extracts the fetched page (extract.h);
 *            unchanged items pass straight through; a changed one whose
 *            bytes are as stored is unchanged after all, and one whose
 *            text (title, text, blocks) hashes as stored keeps its vectors;
 *   batch    regroups items by 64;
 *   embed    finds which new files are stored items renamed
 *            (scan_move.c), then splits the new and changed items whose
 *            vectors do not fit any more into passages and embeds them, as
 *            two parallel loops on the pool (scan_embed.c);
 *   write    the single writer: one transaction per batch; unchanged items
 *            are only touched; a failed item is recorded on the item.
 * reprocess: rows -> extract (parallel) -> batch -> embed -> write;
 *            only items whose extracted output changed are embedded and
 *            written.
 *
 * After a full scan, items still awaiting embedding under the model (scanned
 * before without one, or under another model) go through the reprocess
 * pipeline once; then the vector index is saved (vectors.h).
 *
 * Threads: each call runs its pipeline to completion on the calling thread
 * plus one thread per stage and the global sluice pool, and joins them all
 * before returning. Each holds the database's scan lock
 * (trove_store_scan_lock) from start to end, so scans, reprocesses and
 * source removals of one database, from any process, run one at a time.
 * `st` is the caller's handle, used as the writer (it must not be used
 * elsewhere during the call); the scan opens a second handle on the same
 * file that only reads, for the match (or rows) stage, and for an fs
 * source a third, for the embed stage's search for renamed files.
 */
#ifndef TROVE_SCAN_H
#define TROVE_SCAN_H

#include "core.h"
typedef struct trove_store trove_store; /* store.h; not included, as sources.h clashes with it */
#include "model.h"
#include "vectors.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* How progress is shown. */
typedef enum trove_progress_mode {
  TROVE_PROGRESS_AUTO = 0, /* redrawn line when the stream is a TTY, else log lines */
  TROVE_PROGRESS_TTY = 1,  /* one line redrawn every 200 ms */
  TROVE_PROGRESS_LOG = 2,  /* a plain line every 2 s */
  TROVE_PROGRESS_NONE = 3,
} trove_progress_mode;

/* One progress report of a running pipeline, for a caller that shows it
 * its own way (trove_scan_opts.on_progress; the web UI sends it to the
 * page). Valid during the call only. */
typedef struct trove_scan_stage_progress {
  const char *name; /* "source", "fetch", "read", "embed", "write"... */
  int64_t count;    /* items it has passed on (the writer: written); with
                       passages, the passages embedded */
  int64_t total;    /* with passages: the passages cut so far; else 0 */
  double rate;      /* count per second: since the stage's first passage
                       with passages, else since the start */
  bool passages;    /* the embed stage once passages were cut: it counts
                       passages, as the terminal line does */
} trove_scan_stage_progress;

typedef struct trove_scan_progress {
  const char *what; /* "scan docs", or "embed docs" for the pass that embeds
                       items stored without the model, "reprocess docs" */
  double elapsed;   /* seconds since this pipeline started */
  size_t n_stages;
  trove_scan_stage_progress stages[8]; /* in pipeline order; the batching
                                          stages left out */
  double eta;                          /* seconds left, estimated; < 0 while unknown */
  bool eta_lower_bound;                /* eta counts only what is known so far: the source
                                          is still yielding (the line shows "+") */
  const char *line;                    /* the same report as the one line a terminal shows */
} trove_scan_progress;

/* Receives progress reports: every 0.2 s while a pipeline runs, and once
 * at its end, on the thread that called trove_scan_source or
 * trove_reprocess. It must return quickly. */
typedef void (*trove_scan_progress_fn)(const trove_scan_progress *p, void *arg);

typedef struct trove_scan_opts {
  bool force;                         /* re-read and re-extract every item, and delete
                                         what is gone even when the source yielded
                                         nothing at all; an item whose text is the
                                         same keeps its passages and vectors */
  bool reembed;                       /* force, and embed every item again, its
                                         text the same or not */
  unsigned workers;                   /* read/extract jobs in flight; 0: 2 x cores */
  trove_progress_mode progress;       /* how progress is shown */
  FILE *progress_out;                 /* where; NULL: stderr */
  bool no_wait;                       /* another scan of the database running (the
                                         scan lock, store.h): fail with TROVE_EBUSY
                                         instead of waiting for it (saying so on
                                         progress_out) */
  trove_scan_progress_fn on_progress; /* besides `progress`, which may be
                                   TROVE_PROGRESS_NONE; NULL: none */
  void *progress_arg;                 /* on_progress's arg */
  const atomic_bool *stop;            /* NULL, or a flag another thread sets to
                                         stop the call early: it then fails with
                                         TROVE_ECANCELED within about one batch of
                                         work, keeping what was committed and
                                         saving the vector index, as any failure
                                         does */
  /* Embedding: both NULL (items are searchable by keyword only, and stay
   * pending for a later run with a model), or both set for the same model
   * (trove_vectors_open with the embedder's name and dimension). The
   * embedder should run one thread per call (trove_embedder_set_threads(e,
   * 1)): the pipeline spreads calls over the sluice pool itself. */
  const trove_embedder *embedder;
  trove_vectors *vectors;
  long fetch_timeout_ms; /* each web fetch, all of it; 0: 30 000 (fetch.h) */
} trove_scan_opts;

/* Most distinct skip reasons a report keeps (the rest are summed under
 * "other"). */
#define TROVE_SCAN_REASONS 12

/* What one scan or reprocess did. */
typedef struct trove_scan_report {
  int64_t seen;      /* candidates the source yielded (scan) or rows read */
  int64_t added;     /* new items written */
  int64_t changed;   /* items whose content changed, rewritten (reprocess:
                        output changed) */
  int64_t unchanged; /* items whose content is as stored: only touched, or
                        re-read (--force, a new mtime) and found the same
                        (reprocess: output identical) */
  int64_t moved;     /* new paths that are stored items renamed or moved
                        with the same content: kept, with their vectors
                        when the text is the same (fs only) */
  int64_t skipped;   /* items recorded with a skip reason, failures included */
  int64_t failed;    /* of those, items that failed (reason "error" etc.) */
  int64_t deleted;   /* items gone from the source, deleted at the end */
  /* Web pages not fetched because they, or their host, did not answer
   * before and their wait is not over: a URL waits an hour after its first
   * unanswered fetch (timeout, no connection), doubling with each one in a
   * row up to 30 days; a host that did not answer 3 times in a row waits
   * likewise, its URLs with it. --force fetches what earlier scans put off.
   * Deferred items are kept as they are and not counted elsewhere. */
  int64_t deferred;
  int64_t hosts_skipped;  /* hosts not contacted (for some or all of their URLs) */
  char host_skipped[128]; /* the first of them */
  int64_t host_retry_at;  /* when that one is tried again, Unix seconds */
  int64_t excluded;       /* pages left out: on a domain the source excludes */
  int64_t forgotten;      /* paths and URLs left out: `trove forget` removed them */
  int64_t expired;        /* gone from the browser's history past its expiry
                             horizon, kept (retention keep), the earlier ones too */
  int64_t expired_new;    /* of those, found gone by this scan */
  int64_t resumed;        /* items the killed scan this one resumed had finished:
                             not read, fetched or embedded again (in unchanged) */
  bool more;              /* trove_scan_recent: it read as many rows as it may
                             in one call, and more may wait: call it again */
  bool rewound;           /* trove_scan_recent: the browser's visit ids went
                             back (its history was cleared or replaced): a full
                             scan is due */
  int64_t kept_empty;     /* items kept because the source yielded nothing (an
                             unmounted drive looks empty); --force deletes them.
                             A source whose entries were all left out (excluded,
                             forgotten) yielded: it ends as any scan does */
  int64_t unread;         /* directories or files that exist but could not be read */
  int64_t kept;           /* items at or under them, kept though not seen */
  char unread_path[256];  /* the first of those paths, for messages */
  int64_t embedded;       /* items whose passages and vectors were (re)written */
  int64_t passages;       /* passages those items have */
  double embed_busy;      /* seconds the embed stage spent splitting and embedding */
  struct {
    char name[24];
    int64_t count;
  } reasons[TROVE_SCAN_REASONS]; /* skipped items by reason */
  size_t n_reasons;
  double seconds;     /* wall time of the whole call */
  char summary[2048]; /* per-stage items and times, and the bottleneck */
} trove_scan_report;

/* What a browser history source does with a page that is gone from the
 * browser's history. */
typedef enum trove_retention {
  TROVE_RETENTION_DEFAULT = 0, /* not set: keep */
  /* A page that vanished while its last visit is older than the browser's
   * expiry horizon was expired by the browser: it is kept, marked expired
   * from the source. One that vanished while more recent was deleted by
   * the person: it is deleted. Chromium's horizon is 90 days before the
   * scan (it deletes older history); Firefox's is the oldest last visit
   * still in places.sqlite (it expires the oldest pages first, as the
   * database grows). */
  TROVE_RETENTION_KEEP,
  TROVE_RETENTION_MIRROR, /* whatever vanished is deleted, expired items too */
} trove_retention;

/* "keep" or "mirror" (DEFAULT is keep). */
const char *trove_retention_name(trove_retention r);
/* Parses "keep" or "mirror" into *out: 0 or TROVE_EINVAL. */
int trove_retention_parse(const char *s, trove_retention *out);

/* A source's config, as trove_scan_config_build stores it. */
typedef struct trove_scan_config {
  const char *const *include; /* fs: include globs */
  size_t n_include;
  const char *const *exclude; /* fs: exclude globs */
  size_t n_exclude;
  /* browser sources: pages on these hosts and their subdomains are left out
   * before anything is fetched (trove_url_in_domain) */
  const char *const *exclude_domains;
  size_t n_exclude_domains;
  trove_retention retention; /* history sources; DEFAULT is not written */
} trove_scan_config;

/* Builds the config JSON stored with a source from cfg, the domains
 * normalised (trove_domain_normalize). *out is the caller's (trove_free).
 * Returns 0, TROVE_EINVAL (a NULL argument, a malformed glob or domain,
 * named in err) or TROVE_ENOMEM. */
int trove_scan_config_build(const trove_scan_config *cfg, char **out, trove_err *err);

/* The parts of a stored config that a browser source's edit and list
 * show: the excluded domains (pointing into doc) and the retention. */
typedef struct trove_scan_web_config {
  struct trove_json_doc *doc;
  const char **exclude_domains;
  size_t n_exclude_domains;
  trove_retention retention; /* DEFAULT when the config does not say */
} trove_scan_web_config;

/* Parses config (a source's stored JSON; NULL or "" is "{}") into *out
 * (free with trove_scan_web_config_free). Returns 0, TROVE_EINVAL (not
 * valid JSON, or a retention that is neither keep nor mirror) or
 * TROVE_ENOMEM. */
int trove_scan_web_config_parse(const char *config, trove_scan_web_config *out, trove_err *err);
void trove_scan_web_config_free(trove_scan_web_config *c);

struct trove_json_out;
/* Writes a browser source's excluded domains ("exclude_domains", an array)
 * and, for a history source, its retention ("retention") as members of
 * the object o is writing, from the source's type and stored config; nothing
 * for other types or a config that does not parse (its scan says why). */
void trove_scan_web_config_json(struct trove_json_out *o, const char *type, const char *config);

/* True for the browser source types (chromium-history, chromium-bookmarks,
 * firefox), whose items are web pages: --exclude-domain applies to them. */
bool trove_scan_type_web(const char *type);
/* True for the types that read a browser's history (chromium-history,
 * firefox): retention applies to them. */
bool trove_scan_type_history(const char *type);

/* Builds the config JSON stored with an fs source: include and exclude globs
 * (either list may be empty). *out is the caller's (trove_free). Returns 0,
 * TROVE_EINVAL (a NULL or malformed glob, named in err) or TROVE_ENOMEM. */
int trove_scan_fs_config(const char *const *include, size_t n_include, const char *const *exclude,
                         size_t n_exclude, char **out, trove_err *err);

/* True when type is a source type scan can open: "fs", "chromium-history",
 * "chromium-bookmarks" or "firefox". */
bool trove_scan_type_known(const char *type);

/* Adds the source called name, after checking that its location is what
 * its type reads (trove_source_check_location, sources.h), so a wrong one
 * fails now and not at the first scan, and that it does not overlap a
 * source already there: an fs source may not lie inside another fs
 * source's directory or contain one, and two sources of one type may not
 * read the same location, as either would index the same things twice.
 * The location is stored absolute, symbolic links resolved; *stored (may
 * be NULL) gets it (trove_free). config is as trove_store_source_add takes
 * it (NULL: "{}"). The check and the insert are one transaction. Returns 0;
 * TROVE_ENOENT (no such location); TROVE_EINVAL (an unknown type, or a
 * location that is not what the type reads: err says what to give);
 * TROVE_ECORRUPT, TROVE_EUNSUPPORTED (a browser file that is damaged or not
 * the browser's); TROVE_EEXIST (the name is taken, or the location
 * overlaps the source err names); the store's errors. Nothing is stored
 * after a failure. */
int trove_scan_source_add(trove_store *st, const char *name, const char *type, const char *location,
                          const char *config, char **stored, trove_err *err);

/* Glob changes for trove_scan_source_edit: a list whose set_ flag is true
 * replaces the source's list (n 0 empties it); one whose flag is false
 * stays as it is. */
typedef struct trove_scan_globs {
  const char *const *include;
  size_t n_include;
  bool set_include;
  const char *const *exclude;
  size_t n_exclude;
  bool set_exclude;
} trove_scan_globs;

/* Scans the source called name fully: adds new items, rewrites changed
 * ones, touches unchanged ones and, when the pipeline finished, deletes the
 * items the source no longer holds. Records the source's status (indexing,
 * then ready or error). *rep (may be NULL) gets the figures. Returns 0;
 * TROVE_EBUSY (opts->no_wait and another scan holds the scan lock: nothing
 * was done); the lock's TROVE_EIO (its file cannot be created);
 * TROVE_ENOENT (no such source); the source's open error (missing directory:
 * TROVE_ENOENT, a locked or damaged browser database: TROVE_ECORRUPT/EIO/...);
 * or the fatal error that canceled the pipeline (TROVE_EIO, TROVE_EBUSY: the
 * database cannot be written; TROVE_ENOMEM), or TROVE_ECANCELED (opts->stop
 * was set), with err naming it. Errors on
 * single items are not failures: they are recorded and counted. After a
 * failure, what was committed stays, and the next scan completes the work. */
int trove_scan_source(trove_store *st, const char *name, const trove_scan_opts *opts,
                      trove_scan_report *rep, trove_err *err);

/* Changes the globs of the fs source called name as g says and brings its
 * items in line, rescanning only what the change affects: files the new
 * globs select that have no item yet are read, extracted, embedded and
 * added; items of files they no longer select are deleted with their
 * passages and vectors; items both select are left as they are (stamped
 * seen, not re-read even when changed on disk: the next scan does that).
 * A walk that now yields nothing at all keeps every item, as a scan does
 * (`trove scan NAME --force` deletes them). The config is stored before the
 * rescan, so after a failure the next scan completes the work. Locks,
 * threads, progress and *rep as trove_scan_source; opts->force and
 * opts->reembed do not apply. Returns what trove_scan_source returns, and
 * TROVE_EINVAL (not an fs source, a malformed glob, the directory not a
 * directory: nothing changed), TROVE_ENOENT (no such source, or its
 * directory is gone: nothing changed). */
int trove_scan_source_edit(trove_store *st, const char *name, const trove_scan_globs *g,
                           const trove_scan_opts *opts, trove_scan_report *rep, trove_err *err);

/* Removes the items ids[0..n) on purpose, with their passages, vectors and
 * raw content (trove_store_items_remove; with remember each is recorded
 * as forgotten, so that its source's scans leave it out until it shows it
 * again: see scan_source.c), in one transaction; with v (may be NULL) the
 * vector index loses the same passages and is saved, so its count equals
 * the store's; without it the index catches up when next opened. The
 * caller holds the scan lock. *removed and *passages (either may be NULL)
 * get what went. Returns 0 or the store's or the index's error (nothing
 * removed when the transaction failed). */
int trove_scan_items_remove(trove_store *st, trove_vectors *v, const int64_t *ids, size_t n,
                            bool remember, int64_t *removed, int64_t *passages, trove_err *err);

/* Changes to a browser source's config for trove_scan_source_edit_web. */
typedef struct trove_scan_web_edit {
  const char *const *exclude_domains; /* replaces the list when set (n 0 empties it) */
  size_t n_exclude_domains;
  bool set_exclude_domains;
  trove_retention retention; /* DEFAULT: unchanged */
} trove_scan_web_edit;

/* Changes the excluded domains or the retention of the browser source
 * called name, and in the same transaction deletes its items on hosts the
 * new list excludes, with their passages and vectors (the vector index,
 * opts->vectors when set, is updated and saved; without it the index is
 * rebuilt when next opened). Nothing is fetched or rescanned: a retention
 * change applies from the next scan. Takes the scan lock as a scan does
 * (opts->no_wait). *removed (may be NULL) gets the items deleted. Returns
 * 0; TROVE_ENOENT (no such source); TROVE_EINVAL (not a browser source, a
 * retention on a bookmarks source, a malformed domain: nothing changed);
 * TROVE_EBUSY (no_wait and a scan runs); the store's errors. */
int trove_scan_source_edit_web(trove_store *st, const char *name, const trove_scan_web_edit *ed,
                               const trove_scan_opts *opts, int64_t *removed, trove_err *err);

/* Scans only the given paths of the fs source called name: what a full
 * scan would find at or under each (absolute, at or under the source's
 * directory; a file or directory, there or gone) is read, extracted,
 * embedded and written as by trove_scan_source (new files that are stored
 * items renamed keep their item), and the items at or under the paths that
 * it no longer finds are deleted, but those under a path that exists and
 * cannot be read. Items elsewhere are left as they are. Every directory on
 * the way down to a path is read, so .gitignore files and globs decide as
 * in a full scan: after a scan of every path that changed, the index is
 * what a full scan would make it. For a watcher (watch.h), after the
 * changes it saw. Unlike a full scan it embeds no other pending items and
 * does not save the vector index (trove_vectors_commit saves it every
 * minute; the caller saves it when it stops); the source's status is set
 * as by a scan, its last full scan's figures kept. n 0 does nothing.
 * Locks, threads, progress and *rep as trove_scan_source (rep->seen counts
 * the files found). Returns what trove_scan_source returns, and
 * TROVE_EINVAL (not an fs source, a path not absolute or not under the
 * source's directory: nothing changed). */
int trove_scan_paths(trove_store *st, const char *name, const char *const *paths, size_t n,
                     const trove_scan_opts *opts, trove_scan_report *rep, trove_err *err);

/* Most history rows one trove_scan_recent reads: what it holds at once
 * (about 0.3 KB a row) stays bounded whatever the size of the change. */
#define TROVE_SCAN_RECENT_ROWS 20000

/* Reads only what the history source called name (chromium-history or
 * firefox) holds visited after its last read (its seen_visit_us, which
 * every scan of it records), the oldest first and at most
 * TROVE_SCAN_RECENT_ROWS rows (rep->more: call again), and adds or
 * rewrites those pages as trove_scan_source does: fetched, extracted,
 * embedded, written. Nothing is deleted or expired, and no other pending
 * item is embedded: deletions and retention are left to full scans. The
 * vector index is not saved (as trove_scan_paths). A history whose visit
 * ids went back since the last read sets rep->rewound: scan it in full.
 * rep->seen counts the pages read. For a watcher (watch.h). Locks, threads,
 * progress and the other figures of *rep as trove_scan_source. Returns what
 * trove_scan_source returns, and TROVE_EINVAL (not a history source:
 * nothing changed). */
int trove_scan_recent(trove_store *st, const char *name, const trove_scan_opts *opts,
                      trove_scan_report *rep, trove_err *err);

/* Re-extracts the stored raw content of every item of the source called name
 * (every source when name is NULL), writing only items whose output changed
 * or whose process_version is older than the extractor's. Returns 0,
 * TROVE_ENOENT, the scan lock's errors (as trove_scan_source), the fatal
 * error that canceled the pipeline, or TROVE_ECANCELED (opts->stop). */
int trove_reprocess(trove_store *st, const char *name, const trove_scan_opts *opts,
                    trove_scan_report *rep, trove_err *err);

/* Writes the lines of rep that need a person's attention to out, each
 * indented by two spaces: items moved, items kept because the source looked
 * empty or could not be read, web pages and hosts put off. Nothing when
 * there are none. */
void trove_scan_report_notes(const trove_scan_report *rep, FILE *out);

/* Writes a human summary of rep (counts, reasons, stage lines) to out,
 * the notes of trove_scan_report_notes among them. */
void trove_scan_report_print(const trove_scan_report *rep, const char *what, FILE *out);

/* Makes sluice run trove's parallel loops (trove_parallel_for, core.h:
 * the vector index's batch build, embeds of many texts) from now on, each
 * loop isolated (sl_isolate) on the caller's pool, or the global one from a
 * thread in none. A program calls it once at start; trove's CLI does. */
void trove_scan_use_sluice(void);

#endif /* TROVE_SCAN_H */
