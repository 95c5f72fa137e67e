/* scan_int.h: what the files of the scan module share: the item that travels
 * down the scan pipeline, the run context, and each stage's entry point.
 * It includes neither sources.h nor store.h (trove_store is forward
 * declared), so each stage file pulls in only the module it talks to. */
#ifndef TROVE_SCAN_INT_H
#define TROVE_SCAN_INT_H

#include "core.h"
#include "extract.h" /* trove_block */
#include "passage.h"
#include "scan.h" /* trove_scan_web_config */
#include "sluice.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct trove_store trove_store;
typedef struct trove_vectors trove_vectors;
typedef struct trove_vectors_changes trove_vectors_changes;
typedef struct trove_scan_opts trove_scan_opts;         /* scan.h */
typedef struct trove_scan_report trove_scan_report;     /* scan.h */
typedef struct trove_scan_progress trove_scan_progress; /* scan.h */

/* What the match stage decided, and what read turned it into. */
typedef enum scan_state {
  SCAN_NEW,       /* not in the database: read, extract, insert */
  SCAN_CHANGED,   /* mtime differs, older process_version, a retry, --force;
                     read may find the bytes the same and make it UNCHANGED */
  SCAN_UNCHANGED, /* only touched */
  SCAN_SKIP,      /* recorded with skip_reason (binary, not_utf8, ...) */
  SCAN_ERROR,     /* recorded with skip_reason and error, counted as failed */
} scan_state;

/* What extraction gives, every string owned ("" never NULL after a
 * successful trove_scan__extract). */
typedef struct scan_fields {
  char *title, *author, *description, *language, *headings, *text;
  bool is_link_hub;
  trove_block *blocks; /* the document's blocks, offsets into text */
  size_t n_blocks;
  /* the embed stage's output, when `embed` was set for it */
  bool embed;              /* wanted: the writer stores passages and vectors */
  trove_passages passages; /* passages of text, in order */
  float *vecs;             /* passages.n * dim floats */
} scan_fields;

/* One candidate on its way from the source to the writer; owned by one stage
 * at a time. */
typedef struct scan_item {
  char *external_id;   /* path or URL */
  char *path;          /* fs: the file to read; NULL for web items */
  char *browser_title; /* web: the browser's title; NULL for fs */
  trove_item_type type;
  int64_t mtime_us;    /* fs: Unix microseconds; 0 for web items */
  int64_t size;        /* fs: bytes; -1 for web items */
  int64_t visited;     /* Unix seconds of the last visit; 0 unknown */
  int64_t item_id;     /* set by match when the item is in the database */
  scan_state state;
  char *raw; /* read or fetched content (NUL-terminated), raw_len bytes */
  size_t raw_len;
  char hash[17]; /* FNV-1a 64 of raw, hex */
  /* what match found stored, for any known item ("" / 0 when none) */
  char stored_hash[17];       /* the content hash */
  char stored_text_hash[65];  /* the text hash (trove_scan__text_hash) */
  int64_t stored_version;     /* process_version */
  bool stored_skipped;        /* it carried a skip reason */
  /* decided once the item is read (scan_read.c) or matched to a renamed
   * file (scan_move.c) */
  char text_hash[65];   /* trove_scan__text_hash of f; "" until extracted */
  bool same_content;    /* raw bytes and extractor as stored: not a change */
  bool keep_vectors;    /* the stored passages and vectors fit f: no embedding */
  int64_t move_from;    /* a NEW file is this item renamed: move it, 0 none */
  /* web items: what match found stored, replaced by fetch with what the
   * server sent */
  char *etag, *last_modified; /* HTTP validators; NULL when none */
  char *old_hash;             /* the stored content hash; NULL when none */
  char *final_url;            /* after redirects, the base for links */
  int web_kind;               /* the fetched body's scan_kind; -1 unknown */
  int64_t fetch_failures;     /* web: unanswered fetches in a row, as stored,
                                 then as this fetch leaves them */
  int64_t retry_at;           /* web: no fetch before this Unix second (0: none) */
  bool deferred;              /* not fetched: it or its host is waiting out
                                 its backoff (scan_backoff.c) */
  bool finished;              /* stored by the killed scan this one resumes:
                                 only touched, never read, fetched or embedded */
  bool charset_guessed;       /* raw was decoded from a guessed charset */
  scan_fields f;
  const char *skip_reason; /* static string, for SKIP and ERROR */
  char *error;             /* the failure's message, for ERROR */
} scan_item;

/* What the source stage emits: up to 64 items, matched in one query. */
typedef struct scan_batch {
  size_t n;
  scan_item *items[64];
} scan_batch;

/* Per-run counters, written by the writer thread only (read after join). */
typedef struct scan_counts {
  int64_t added, changed, unchanged, skipped, failed, moved, deferred;
  int64_t resumed; /* finished items of the killed scan, counted in unchanged too */
  int64_t embedded, passages;
  struct {
    const char *name; /* static */
    int64_t count;
  } reasons[16];
  size_t n_reasons;
} scan_counts;

/* ---- backoff from web pages and hosts that do not answer (scan_backoff.c) */

/* A host the fetch stage knows to have failed without an answer. */
typedef struct scan_host {
  char *name;         /* lower case (trove_fetch_url_host); NULL: a free slot */
  int64_t failures;   /* unanswered fetches in a row */
  int64_t retry_at;   /* Unix seconds; not contacted before, once failures
                         reached SCAN_HOST_FAILURES */
  const char *reason; /* static: the last failure's reason name */
  bool tripped;       /* this scan set retry_at (even --force honours it) */
  bool dirty;         /* changed by this scan: saved at its end */
  int in_flight;      /* its requests running now (fetch stage) */
  int64_t skipped;    /* URLs this scan did not fetch because of it */
} scan_host;

/* The hosts with a recorded failure, by name (open addressing; cap is 0 or
 * a power of two). Loaded before the pipeline, used by the fetch stage's
 * thread alone while it runs, read and saved after the join. */
typedef struct scan_hosts {
  scan_host *v;
  size_t cap, n;
} scan_hosts;

/* Unanswered fetches in a row after which a host is not contacted for a
 * while: one could be a blip, three in a row with no answer between is a
 * host that is gone or unreachable from here. */
#define SCAN_HOST_FAILURES 3

/* Seconds to wait after the step-th failure in a row (step >= 1): an hour,
 * doubling each time, at most 30 days. */
int64_t trove_scan__backoff_delay(int64_t step);

/* Reads the recorded hosts into h (empty first). 0 or the store's code. */
int trove_scan__hosts_load(scan_hosts *h, trove_store *st, trove_err *err);
/* Writes the hosts this scan changed, in one transaction. 0 or the
 * store's code (nothing written). */
int trove_scan__hosts_save(const scan_hosts *h, trove_store *st, trove_err *err);
void trove_scan__hosts_free(scan_hosts *h);
/* The host called name, or NULL when none is recorded. */
scan_host *trove_scan__hosts_find(const scan_hosts *h, const char *name);
/* The host called name, added with no failure when missing; NULL when
 * memory ran out (benign: that host is then not backed off). */
scan_host *trove_scan__hosts_add(scan_hosts *h, const char *name);

/* True when h is not to be contacted now: it failed SCAN_HOST_FAILURES
 * times in a row and its wait is not over. force ignores a wait recorded
 * by earlier scans, not one this scan started. */
bool trove_scan__host_skipped(const scan_host *h, int64_t now, bool force);
/* Counts one unanswered fetch from h (a request that was running when h
 * was skipped adds nothing) and starts its wait at the threshold. */
void trove_scan__host_unanswered(scan_host *h, int reason, int64_t now, bool force);
/* The host answered (any HTTP status): it is forgotten. */
void trove_scan__host_answered(scan_host *h);
/* Counts one unanswered fetch of it and sets when it may be fetched again. */
void trove_scan__item_unanswered(scan_item *it, int64_t now);

/* The embed stage's progress, in passages: a batch of 64 long pages can
 * hold thousands, so items alone would stand still for minutes. Display
 * counters only: the embed stage and its loop bodies add with relaxed
 * stores, the progress display reads snapshots; nothing synchronises on
 * them. */
typedef struct scan_embed_progress {
  _Atomic int64_t items;    /* items that entered the embed stage */
  _Atomic int64_t split;    /* passages those items were cut into */
  _Atomic int64_t embedded; /* passages embedded */
  _Atomic int64_t t0_ns;    /* CLOCK_MONOTONIC when the first passage was
                               cut; 0 before */
} scan_embed_progress;

/* One scan's shared state. Fields above `lock` are set before the run and
 * only read during it. */
typedef struct scan_ctx {
  trove_store *writer; /* used by the write stage only */
  trove_store *reader; /* used by the match stage only */
  int64_t source_id, version;
  const char *type, *location, *config;
  char *copies;         /* "<db>.copies": where browser databases are copied */
  bool force;           /* re-read every item (--force, implied by reembed) */
  bool reembed;         /* embed every item read, even with its text unchanged */
  bool edit;            /* source edit: known items are only stamped seen */
  const char *const *only; /* fs: scan only at and under these n_only
                              paths (trove_scan_paths); none: the tree */
  size_t n_only;
  trove_store *finder;  /* fs scans: used by the embed stage only, to find
                           the item a renamed file was (scan_move.c) */
  int64_t *claimed;     /* items a renamed file took this run, n_claimed of
                           cap_claimed (embed stage only) */
  size_t n_claimed, cap_claimed;
  const trove_embedder *embedder; /* NULL: no embedding (keyword search only) */
  trove_vectors *vectors;         /* with embedder: the index kept in step */
  int64_t now;                    /* the scan's start, Unix seconds: what
                                     match compares retry_at with */
  long fetch_timeout_ms;          /* each fetch's whole time; 0: fetch.h's */
  scan_hosts hosts;               /* the fetch stage's alone while it runs */
  const atomic_bool *cancel;      /* the caller's stop request (trove_scan_opts.stop),
                                     or NULL; see trove_scan__check_stop */
  pthread_mutex_t lock; /* protects fatal */
  trove_err fatal;      /* the first fatal error; code 0 when none */
  _Atomic bool stop;    /* set with fatal: a hint for long loops to give up
                           early (relaxed; sluice's cancellation is the real stop) */
  _Atomic int64_t seen; /* candidates yielded (source stage adds; relaxed:
                           read only after the join) */
  _Atomic bool source_done; /* the source yielded everything (relaxed: for
                               the progress display's ETA only) */
  _Atomic int64_t written; /* items committed (writer adds; relaxed: a
                              progress display snapshot) */
  _Atomic int64_t through_embed; /* items the embed stage passed on (it adds;
                                    relaxed: likewise) */
  scan_embed_progress embed_progress; /* passages cut and embedded */
  scan_counts counts;   /* writer thread only */
  /* What the source must not index (scan_source.c), set before the run. */
  trove_scan_web_config web;             /* excluded domains, retention */
  struct trove_store_forgotten *forgotten; /* sorted by external id */
  size_t n_forgotten;
  int64_t killed; /* the version of the killed scan this one resumes (0:
                     none): what it stored and is still as it found is
                     finished, not redone (scan_match.c) */
  /* Written by the source stage alone, read after the join (which orders
   * them): candidates left out, and the oldest last visit of a history
   * page the browser still holds (Unix µs; 0 none), Firefox's horizon. */
  int64_t excluded, forgotten_skipped, oldest_visit_us;
  int64_t expire_before; /* the retention horizon, set after the join */
  char **unread;        /* paths the source could not read (the source stage
                           writes them at its end; read after the join) */
  size_t n_unread;
} scan_ctx;

/* Records the first fatal error of the run and returns its code. Any thread. */
int trove_scan__fatal(scan_ctx *c, const trove_err *e, int code);

/* Whether the caller asked the run to stop (c->cancel): then records
 * TROVE_ECANCELED as the run's fatal error and returns it, so the stage
 * that asks fails and the pipeline is canceled; else 0. The source, embed
 * and write stages ask once per batch (embed once per chunk of passages).
 * Any thread. */
int trove_scan__check_stop(scan_ctx *c);

/* Frees an item and all it owns; NULL is fine. Matches sl_item_free_fn. */
void trove_scan__item_free(void *item, void *ctx);
/* Frees a batch and its items. Matches sl_item_free_fn. */
void trove_scan__batch_free(void *batch, void *ctx);
/* Frees the strings of f and zeroes it. */
void trove_scan__fields_clear(scan_fields *f);

/* Counts one skipped item under reason (static string). Writer only. */
void trove_scan__count_reason(scan_counts *k, const char *reason);

/* Marks each NEW local file of b that is a stored item renamed (same
 * bytes, the item's file gone): sets move_from, and keep_vectors when the
 * text hash is the same too. The embed stage's thread only (it uses
 * c->finder and c->claimed); a no-op without c->finder. 0, or the store's
 * error recorded in c->fatal (scan_move.c). */
int trove_scan__find_moves(scan_ctx *c, sl_batch *b);

/* Builds into *out (trove_free) the config of an fs source whose config
 * was old, with the lists g sets replaced (scan_source.c). 0, TROVE_EINVAL
 * (a malformed glob, or old not valid JSON: err says which) or
 * TROVE_ENOMEM. */
typedef struct trove_scan_globs trove_scan_globs;
int trove_scan__fs_config_edit(const char *old, const trove_scan_globs *g, char **out,
                               trove_err *err);

/* Stage functions (user is the scan_ctx). */
int trove_scan__source_stage(void *user, sl_emitter *out);            /* scan_source.c */
int trove_scan__match_stage(void *user, void *item, void **out);      /* scan_match.c */
int trove_scan__fetch_stage(void *user, void *item, sl_emitter *out); /* scan_fetch.c */
int trove_scan__read_stage(void *user, void *item, void **out);       /* scan_read.c */
int trove_scan__write_stage(void *user, void *item);                  /* scan_write.c */

/* ---- embedding (scan_embed.c) --------------------------------------------- */

/* The embed stage of both pipelines, for either item type: for every item
 * of b that wanted() returns fields for (NULL: not this one), sets `embed`
 * and cuts and embeds them: passages (the tokenizer runs as a parallel loop
 * on the current pool), then their vectors in chunks of up to 64 passages,
 * as jobs on the same pool. A document whose passages cannot be cut (never
 * for valid input) is embedded with none. Without c->embedder b passes
 * untouched. Hands b on in *out, or frees it with free_batch and returns
 * TROVE_ENOMEM or the model's error, recorded in c->fatal. */
int trove_scan__embed_stage(scan_ctx *c, sl_batch *b, scan_fields *(*wanted)(void *item),
                            sl_item_free_fn free_batch, void **out);

/* Writer side: stores item_id's passages and vectors from f (after the
 * item itself was written in the open batch) and records the changes for
 * the index in ch (may be NULL without c->vectors). Without c->vectors or
 * f->embed it only drops the passages and vectors the write made stale
 * (trove_store_passages_drop_stale: a changed title or text), and keeps
 * those still valid. 0 or the store's code with e set. */
int trove_scan__write_embedding(scan_ctx *c, int64_t item_id, const scan_fields *f,
                                trove_vectors_changes *ch, trove_err *e);

/* The batch begin and commit every writer uses: trove_store_begin /
 * trove_store_commit, wrapped by trove_vectors_begin / _commit when c has
 * vectors. commit applies ch (may be NULL) to the index. */
int trove_scan__batch_begin(scan_ctx *c, trove_err *e);
int trove_scan__batch_commit(scan_ctx *c, const trove_vectors_changes *ch, trove_err *e);

/* True when a stored skip reason is worth another try on the next scan
 * (the file or server may be fine now): "error", "unreadable" and the
 * fetcher's transient reasons. */
bool trove_scan__reason_transient(const char *reason);

/* True when the writer must stop on this store code (the database cannot be
 * written, memory ran out), false when only the item failed. */
bool trove_scan__code_is_fatal(int code);

/* ---- extraction shared by scan and reprocess (scan_extract.c) ---------- */

typedef enum scan_kind { SCAN_KIND_TEXT, SCAN_KIND_MARKDOWN, SCAN_KIND_HTML } scan_kind;

/* Guesses a document's kind from its name's extension, else its first
 * bytes (<!doctype html / <html). */
scan_kind trove_scan__kind_guess(const char *name, const char *data, size_t len);

/* Extracts data as kind into *f (cleared first; fallback_title, which may
 * be NULL, is the title of a document without one, its bytes that are not
 * UTF-8 escaped as \xNN). Any thread. Returns 0 or the
 * extractor's code with err set; *f is empty after a failure. */
int trove_scan__extract(scan_kind kind, const char *data, size_t len, const char *base_url,
                        const char *fallback_title, scan_fields *f, trove_err *err);

/* The last segment of a path, to name a file without a title. */
const char *trove_scan__base_name(const char *path);

/* The skip reason stored for an extraction failure code. */
const char *trove_scan__extract_reason(int code);

/* Writes into out[65] the SHA-256, in hex, of what f's passages are cut
 * from: its title, text and block layout (kinds, levels, spans). Two
 * extractions with the same hash give the same passages and vectors, so a
 * stored item whose text hash equals a new extraction's keeps them. */
void trove_scan__text_hash(const scan_fields *f, char out[65]);

/* Writes a 16-hex-digit FNV-1a 64 hash of data into out[17]. */
void trove_scan__hash(const void *data, size_t len, char out[17]);

/* ---- progress (scan_progress.c) ------------------------------------------ */

typedef struct scan_progress {
  FILE *out;
  bool tty;        /* redraw one line; else log lines */
  bool drawn;      /* a TTY line is on screen */
  const char *what; /* "scan docs" */
  _Atomic int64_t *seen;    /* shown for the source stage (which emits batches) when set */
  _Atomic int64_t *written; /* shown for the last stage (which takes batches) when set */
  _Atomic int64_t *embedded; /* shown for the "embed" stage (which takes batches) when set */
  _Atomic bool *total_known; /* when set and true, *seen is the total: show an ETA */
  scan_embed_progress *embed; /* when set and passages were cut: the embed stage
                                 shows passages, and the ETA comes from them */
  bool quiet;      /* nothing written to out: the callback below only */
  double next_log; /* log mode: elapsed seconds of the next line */
  void (*fn)(const trove_scan_progress *, void *); /* trove_scan_opts.on_progress, or NULL */
  void *fn_arg;
} scan_progress;

/* The sl_progress_fn: arg is a scan_progress. */
void trove_scan__progress_fn(const sl_stage_stats *s, size_t n, double elapsed, void *arg);
/* Ends a redrawn line (newline) if one is on screen. */
void trove_scan__progress_end(scan_progress *p);

/* ---- shared by scan_run.c and reprocess.c ------------------------------- */

/* Takes st's scan lock as o asks (o may be NULL: wait, saying so on
 * stderr). 0 or trove_store_scan_lock's code with err set. */
int trove_scan__lock(trove_store *st, const trove_scan_opts *o, trove_err *err);
/* Read jobs in flight: opts->workers, else twice the cores. */
unsigned trove_scan__workers(const trove_scan_opts *o);
/* Sets up p from the options and hooks it into cfg (unless progress is off). */
void trove_scan__progress_init(scan_progress *p, const trove_scan_opts *o, const char *what,
                               sl_pipeline_config *cfg);
/* The message of a TROVE_E* or an SL_E* code: the scan runs on sluice, and a
 * sluice failure (a thread that could not start) passes through it as the
 * SL_E* code it is, the two sets being apart (core.h). */
const char *trove_scan__strerror(int code);
/* Maps sl_pipeline_run's result to a trove code, preferring c->fatal. */
int trove_scan__result(scan_ctx *c, int rc, trove_err *err);
/* Takes the embedder and vectors from o into c, checking they agree. */
int trove_scan__embedding(scan_ctx *c, const trove_scan_opts *o, trove_err *err);
/* Saves c->vectors; returns rc when non-zero (the earlier failure wins),
 * else the save's result. */
int trove_scan__save_vectors(scan_ctx *c, int rc, trove_err *err);
/* Adds c's embedded and passages counts to rep. */
void trove_scan__count_embedded(const scan_ctx *c, trove_scan_report *rep);
/* Runs the reprocess pipeline over c's source's items awaiting embedding
 * (reprocess.c); no-op without c->vectors. */
int trove_scan__embed_pending(scan_ctx *c, const trove_scan_opts *o, const char *name,
                              trove_scan_report *rep, trove_err *err);
/* Frees an sl_batch of scan_items. Matches sl_item_free_fn. */
void trove_scan__sl_batch_free(void *batch, void *ctx);

/* Copies c's counts and p's summary (p may be NULL) into rep. */
void trove_scan__fill_report(const scan_ctx *c, sl_pipeline *p, trove_scan_report *rep);

#endif /* TROVE_SCAN_INT_H */
