/* scan_run.c: trove_scan_source, trove_scan_source_edit, trove_scan_paths
 * and trove_scan_recent, the scan pipeline put together:
 *   source -(batches)-> match -> fetch -(items)-> read [parallel]
 *          -> batch(64) -> embed [parallel loops] -> write
 * then, when every stage finished, the end-of-scan delete of items the
 * source no longer holds (for a scan of some paths: of the items at and
 * under those paths that it did not see; for a history's recent rows: none),
 * where a history's reads got, the items still awaiting embedding (reprocess.c),
 * the vector index's save, and the source's status. A fatal error in any
 * stage cancels the pipeline (sluice joins every thread and releases every
 * item in flight) and the source is marked error; what was committed stays.
 * Also the report printer shared with reprocess. */
#include "scan.h"
#include "scan_int.h"
#include "sources.h" /* the browser copy directory */
#include "store.h"
#include "vectors.h"

#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* What the embed stage embeds of a scan item: new and changed ones, but
 * those whose stored passages and vectors still fit. */
static scan_fields *scan_wants_embedding(void *item) {
  scan_item *it = item;
  return (it->state == SCAN_NEW || it->state == SCAN_CHANGED) && !it->keep_vectors ? &it->f
                                                                                   : NULL;
}

static int embed_stage(void *user, void *item, void **out) {
  int rc = trove_scan__find_moves(user, item); /* which new files are renamed items */
  if (rc) {
    trove_scan__sl_batch_free(item, NULL);
    return rc;
  }
  return trove_scan__embed_stage(user, item, scan_wants_embedding, trove_scan__sl_batch_free, out);
}

int trove_scan__lock(trove_store *st, const trove_scan_opts *o, trove_err *err) {
  FILE *notice = o && o->progress_out ? o->progress_out : stderr;
  return trove_store_scan_lock(st, !(o && o->no_wait), notice, err);
}

unsigned trove_scan__workers(const trove_scan_opts *o) {
  if (o && o->workers)
    return o->workers;
  size_t n = trove_online_cpus();
  return n < 64 ? 2 * (unsigned)n : 128;
}

void trove_scan__progress_init(scan_progress *p, const trove_scan_opts *o, const char *what,
                               sl_pipeline_config *cfg) {
  trove_progress_mode mode = o ? o->progress : TROVE_PROGRESS_AUTO;
  p->out = o && o->progress_out ? o->progress_out : stderr;
  p->what = what;
  p->tty = mode == TROVE_PROGRESS_TTY || (mode == TROVE_PROGRESS_AUTO && isatty(fileno(p->out)));
  p->quiet = mode == TROVE_PROGRESS_NONE;
  p->fn = o ? o->on_progress : NULL;
  p->fn_arg = o ? o->progress_arg : NULL;
  if (p->quiet && !p->fn)
    return;
  cfg->progress = trove_scan__progress_fn;
  cfg->progress_arg = p;
  /* log lines every 2 s (trove_scan__progress_fn skips the ticks between) */
  cfg->progress_interval = p->tty || p->fn ? 0.2 : 2.0;
}

const char *trove_scan__strerror(int code) {
  return code == 0 || trove_is_trove_code(code) ? trove_strerror(code) : sl_strerror(code);
}

/* Maps a pipeline result to a trove code with c->fatal explaining it. */
int trove_scan__result(scan_ctx *c, int rc, trove_err *err) {
  if (c->fatal.code)
    return trove_err_set(err, c->fatal.code, "%s", c->fatal.msg);
  if (rc == 0)
    return 0;
  return trove_err_set(err, rc, "the pipeline failed: %s", trove_scan__strerror(rc));
}

void trove_scan__fill_report(const scan_ctx *c, sl_pipeline *p, trove_scan_report *rep) {
  rep->added = c->counts.added;
  rep->changed = c->counts.changed;
  rep->unchanged = c->counts.unchanged;
  rep->moved = c->counts.moved;
  rep->skipped = c->counts.skipped;
  rep->failed = c->counts.failed;
  rep->deferred = c->counts.deferred;
  rep->resumed = c->counts.resumed;
  rep->excluded = c->excluded;  /* after the join */
  rep->forgotten = c->forgotten_skipped;
  rep->seen = atomic_load_explicit(&c->seen, memory_order_relaxed); /* after the join */
  for (size_t i = 0; i < c->counts.n_reasons && i < TROVE_SCAN_REASONS; i++) {
    snprintf(rep->reasons[i].name, sizeof rep->reasons[i].name, "%s", c->counts.reasons[i].name);
    rep->reasons[i].count = c->counts.reasons[i].count;
    rep->n_reasons = i + 1;
  }
  if (!p)
    return;
  sl_pipeline_summary(p, rep->summary, sizeof rep->summary);
  sl_stage_stats st[16];
  size_t n = sl_pipeline_stats(p, st, 16);
  for (size_t i = 0; i < n && i < 16; i++)
    if (strcmp(st[i].name, "embed") == 0)
      rep->embed_busy += st[i].busy;
}

static int run_pipeline(scan_ctx *c, const trove_scan_opts *o, const char *what,
                        trove_scan_report *rep) {
  scan_progress prog = {.seen = &c->seen, .written = &c->written, .embedded = &c->through_embed,
                        .total_known = &c->source_done, .embed = &c->embed_progress};
  sl_pipeline_config cfg = {.name = "scan", .item_free = trove_scan__item_free};
  trove_scan__progress_init(&prog, o, what, &cfg);
  sl_pipeline *p = NULL;
  int rc = sl_pipeline_create(&p, &cfg);
  if (rc)
    return rc;
  sl_stage *src = sl_pipeline_source(p, "source", trove_scan__source_stage, c);
  sl_stage *match = sl_pipeline_map(p, "match", trove_scan__match_stage, c, 1, SL_MAP_ORDERED);
  sl_stage *fetch = sl_pipeline_flat_map(p, "fetch", trove_scan__fetch_stage, c);
  sl_stage *read = sl_pipeline_map(p, "read", trove_scan__read_stage, c, trove_scan__workers(o),
                                   SL_MAP_UNORDERED);
  sl_stage *batch = sl_pipeline_batch(p, "batch", 64, 0.05);
  sl_stage *embed = sl_pipeline_map(p, "embed", embed_stage, c, 1, SL_MAP_ORDERED);
  sl_stage *write = sl_pipeline_sink(p, "write", trove_scan__write_stage, c);
  sl_stage_set_free(src, trove_scan__batch_free, NULL);
  sl_stage_set_free(match, trove_scan__batch_free, NULL);
  sl_stage_set_free(embed, trove_scan__sl_batch_free, NULL);
  sl_pipeline_connect(p, src, match, "batches", 4);
  sl_pipeline_connect(p, match, fetch, "matched", 4);
  sl_pipeline_connect(p, fetch, read, "fetched", 128);
  sl_pipeline_connect(p, read, batch, "extracted", 64);
  sl_pipeline_connect(p, batch, embed, "to_embed", 2);
  sl_pipeline_connect(p, embed, write, "to_write", 2);
  rc = sl_pipeline_run(p);
  trove_scan__progress_end(&prog);
  trove_scan__fill_report(c, p, rep);
  sl_pipeline_destroy(p);
  return rc;
}

/* Keeps the items at and under the paths the source could not read: not
 * seen, but not known to be gone either. */
static int keep_unread(scan_ctx *c, trove_scan_report *rep, trove_err *err) {
  int rc = 0;
  for (size_t i = 0; i < c->n_unread && rc == 0; i++) {
    int64_t kept = 0;
    rc = trove_store_items_keep_under(c->writer, c->source_id, c->version, c->unread[i], &kept,
                                      err);
    rep->kept += kept;
  }
  rep->unread = (int64_t)c->n_unread;
  if (c->n_unread)
    snprintf(rep->unread_path, sizeof rep->unread_path, "%s", c->unread[0]);
  return rc;
}

/* Chromium deletes history older than 90 days (its expire_backend's
 * kExpireDaysThreshold). */
#define CHROMIUM_EXPIRY_DAYS 90

/* The retention horizon of the finished scan into c->expire_before (Unix
 * seconds; 0: nothing is kept as expired): a page gone from the history
 * and last visited before it was expired by the browser.
 * LIMITS, Firefox: it expires the oldest visits first (down to a page cap
 * it computes from the disk and memory it sees, not kept in places.sqlite)
 * and records neither what it expired nor what the person deleted
 * (moz_bookmarks_deleted is for bookmarks, for Sync). A page the person
 * deleted while older than every page left is thus indistinguishable from
 * one expired, and kept as expired. The oldest visit of moz_historyvisits
 * would not tell them apart either: a page's own visits go with it both
 * ways. README says so; forget, or retention mirror, is the way out. */
static void retention_horizon(scan_ctx *c) {
  c->expire_before = 0;
  if (c->web.retention == TROVE_RETENTION_MIRROR)
    return;
  if (strcmp(c->type, "chromium-history") == 0)
    c->expire_before = c->now - (int64_t)CHROMIUM_EXPIRY_DAYS * 86400;
  else if (strcmp(c->type, "firefox") == 0) /* the oldest visit it still holds */
    c->expire_before = c->oldest_visit_us / 1000000;
}

/* Deletes what the finished scan did not see (but what lies at or under a
 * path it could not read, and the pages the browser expired while the
 * source's retention keeps them), in one transaction, and their passages
 * from the vector index. */
static int finish_full_scan(scan_ctx *c, trove_scan_report *rep, trove_err *err) {
  trove_vectors_changes ch = {0};
  int rc = trove_scan__batch_begin(c, err);
  if (rc)
    return rc;
  retention_horizon(c);
  rc = keep_unread(c, rep, err);
  /* A source that yields nothing at all while it held items is more likely
   * an unmounted drive or a cleared browser profile than a deliberate wipe:
   * keep everything unless forced. One whose every entry was left out
   * (excluded domains, forgotten items) did yield: the scan ends as any. */
  if (rc == 0 && rep->seen == 0 && rep->excluded == 0 && rep->forgotten == 0 && !c->force)
    rc = trove_store_items_count_unseen(c->writer, c->source_id, c->version, &rep->kept_empty,
                                        err);
  if (rc == 0 && rep->kept_empty == 0 && c->expire_before > 0)
    rc = trove_store_items_expire_unseen(c->writer, c->source_id, c->version, c->expire_before,
                                         c->now, &rep->expired, &rep->expired_new, err);
  if (rc == 0 && rep->kept_empty == 0)
    rc = trove_store_items_delete_unseen(c->writer, c->source_id, c->version, &rep->deleted,
                                         &ch.removed, err);
  if (rc == 0)
    rc = trove_scan__batch_commit(c, &ch, err);
  else
    trove_store_rollback(c->writer);
  trove_vectors_changes_free(&ch);
  return rc;
}

/* The end of a scan of some paths: deletes the items at or under each that
 * the scan did not see, but those under a path it could not read, in one
 * transaction, and their passages from the vector index. */
static int finish_paths_scan(scan_ctx *c, trove_scan_report *rep, trove_err *err) {
  trove_vectors_changes ch = {0};
  int rc = trove_scan__batch_begin(c, err);
  if (rc)
    return rc;
  rc = keep_unread(c, rep, err);
  for (size_t i = 0; rc == 0 && i < c->n_only; i++) {
    int64_t n = 0;
    rc = trove_store_items_delete_under(c->writer, c->source_id, c->version, c->only[i], &n,
                                        c->vectors ? &ch.removed : NULL, err);
    rep->deleted += n;
  }
  if (rc == 0)
    rc = trove_scan__batch_commit(c, &ch, err);
  else
    trove_store_rollback(c->writer);
  trove_vectors_changes_free(&ch);
  return rc;
}

/* Names in rep the hosts the fetch stage gave up on (after the join). */
static void report_hosts(const scan_ctx *c, trove_scan_report *rep) {
  for (size_t i = 0; i < c->hosts.cap; i++) {
    const scan_host *h = &c->hosts.v[i];
    if (!h->name || !h->skipped)
      continue;
    if (rep->hosts_skipped++ == 0) {
      snprintf(rep->host_skipped, sizeof rep->host_skipped, "%s", h->name);
      rep->host_retry_at = h->retry_at;
    }
  }
}

/* Names the database's copy directory into c and removes what an
 * interrupted scan left in it: a copy of a person's browser history. The
 * scan lock is held, so no other scan is reading a copy there. */
static int copies_clean(scan_ctx *c, trove_store *st, trove_err *err) {
  int rc = trove_source_copy_dir(trove_store_path(st), &c->copies, err);
  return rc ? rc : trove_source_copies_remove(c->copies, err);
}

static int open_reader(trove_store *st, trove_store **reader, trove_err *err) {
  trove_store_opts ro = {.path = trove_store_path(st)};
  return trove_store_open(&ro, reader, err);
}

/* For source edit: checks that s is an fs source whose directory is
 * there, and stores its config with g applied; *config gets the new one. */
static int apply_edit(trove_store *st, const trove_store_source *s, const trove_scan_globs *g,
                      char **config, trove_err *err) {
  if (strcmp(s->type, "fs") != 0)
    return trove_err_set(err, TROVE_EINVAL, "source %s is a %s source: only fs sources have "
                         "globs to edit", s->name, s->type);
  int rc = trove_source_check_location("fs", s->location, err);
  rc = rc ? rc : trove_scan__fs_config_edit(s->config, g, config, err);
  return rc ? rc : trove_store_source_set_config(st, s->id, *config, err);
}

/* Frees what the run context c owns. */
static void ctx_free(scan_ctx *c) {
  for (size_t i = 0; i < c->n_unread; i++)
    trove_free(c->unread[i]);
  trove_free(c->unread);
  if (c->copies) /* the folder; what cannot go now, the next scan names */
    trove_source_copies_remove(c->copies, NULL);
  trove_free(c->copies);
  trove_free(c->claimed);
  trove_scan__hosts_free(&c->hosts);
  trove_scan_web_config_free(&c->web);
  trove_store_forgotten_free(c->forgotten, c->n_forgotten);
  pthread_mutex_destroy(&c->lock);
}

/* Records where the reads of history source s got to, after scan c of it
 * succeeded: a full scan read every row, a recent one those after
 * s->seen_visit_us. A recent read cut at its row limit notes a visit just
 * before its newest, so that the rows of that same microsecond the limit
 * left out are read next time. Sets rep->more and rep->rewound. */
static int note_visits(const scan_ctx *c, const trove_store_source *s, trove_scan_report *rep,
                       trove_err *err) {
  int64_t visit = c->newest_visit_us;
  if (c->recent) {
    rep->rewound = c->max_visit_id < s->seen_visit_id;
    rep->more = c->rows >= (int64_t)c->max_rows && visit > s->seen_visit_us + 1;
    if (rep->more)
      visit--;
    if (visit < s->seen_visit_us)
      visit = s->seen_visit_us;
  }
  return trove_store_source_set_visits(c->writer, s->id, visit, c->max_visit_id, err);
}

/* A full scan of the source called name; with edit, the rescan after its
 * globs change; with n_only > 0, the scan of those paths; with recent, the
 * read of a history's recent rows (see scan.h). */
static int scan_run(trove_store *st, const char *name, const trove_scan_globs *edit,
                    const char *const *only, size_t n_only, bool recent,
                    const trove_scan_opts *opts, trove_scan_report *rep, trove_err *err) {
  trove_scan_report local;
  rep = rep ? rep : &local;
  memset(rep, 0, sizeof *rep);
  if (!st || !name)
    return trove_err_set(err, TROVE_EINVAL, "trove_scan_source: NULL argument");
  double t0 = now_s();
  trove_err e = {0};
  trove_store_source s = {0};
  char *config = NULL;
  bool reembed = opts && opts->reembed && !edit;
  scan_ctx c = {.writer = st, .force = (opts && opts->force && !edit) || reembed,
                .reembed = reembed, .edit = edit != NULL, .now = (int64_t)time(NULL),
                .only = only, .n_only = n_only, .recent = recent,
                .max_rows = recent ? TROVE_SCAN_RECENT_ROWS : 0,
                .fetch_timeout_ms = opts ? opts->fetch_timeout_ms : 0,
                .cancel = opts ? opts->stop : NULL};
  int rc = trove_scan__lock(st, opts, &e);
  if (rc)
    return trove_err_set(err, rc, "%s", e.msg);
  pthread_mutex_init(&c.lock, NULL);
  if ((rc = trove_scan__embedding(&c, opts, &e)) || (rc = copies_clean(&c, st, &e)) ||
      (rc = trove_store_source_get(st, name, &s, &e)) ||
      (edit && (rc = apply_edit(st, &s, edit, &config, &e))))
    goto out_free;
  if (n_only && strcmp(s.type, "fs") != 0) {
    rc = trove_err_set(&e, TROVE_EINVAL, "source %s is a %s source: only fs sources are "
                       "scanned by path", s.name, s.type);
    goto out_free;
  }
  bool history = trove_scan_type_history(s.type);
  if (recent && !history) {
    rc = trove_err_set(&e, TROVE_EINVAL, "source %s is a %s source: only history sources are "
                       "read by time", s.name, s.type);
    goto out_free;
  }
  c.since_us = s.seen_visit_us;
  /* a scan of a part: n_only paths, or a history's recent rows */
  bool part = n_only || recent;
  c.source_id = s.id, c.type = s.type, c.location = s.location;
  c.config = config ? config : s.config;
  if ((strcmp(s.type, "fs") != 0 && (rc = trove_scan__hosts_load(&c.hosts, st, &e))) ||
      (rc = open_reader(st, &c.reader, &e)) ||
      (strcmp(s.type, "fs") == 0 && (rc = open_reader(st, &c.finder, &e))))
    goto out_close_reader;
  if ((rc = trove_scan_web_config_parse(c.config, &c.web, &e)) ||
      (rc = trove_store_forgotten_get(st, s.id, &c.forgotten, &c.n_forgotten, &e)))
    goto out_close_reader;
  /* a forced scan redoes everything, and an edit or a scan of some paths
   * (which changed) is not the scan that stopped */
  rc = c.force || edit || part
           ? trove_store_scan_begin(st, s.id, &c.version, &e)
           : trove_store_scan_resume(st, s.id, &c.version, &c.killed, &e);
  if (rc)
    goto out_close_reader;
  char what[96];
  snprintf(what, sizeof what, "%s %s", edit ? "edit" : part ? "update" : "scan", name);
  rc = trove_scan__result(&c, run_pipeline(&c, opts, what, rep), &e);
  report_hosts(&c, rep);
  /* even after a failure: what the fetches learnt of the hosts holds */
  int hrc = trove_scan__hosts_save(&c.hosts, st, rc ? NULL : &e);
  rc = rc ? rc : hrc;
  if (rc == 0 && !recent) /* a history's recent rows: nothing to delete */
    rc = n_only ? finish_paths_scan(&c, rep, &e) : finish_full_scan(&c, rep, &e);
  if (rc == 0 && history && !edit)
    rc = note_visits(&c, &s, rep, &e);
  if (rc == 0 && !part)
    rc = trove_scan__embed_pending(&c, opts, name, rep, &e);
  /* even after a failure: what was committed is in the index; a scan of
   * a part leaves the save to its caller (trove_vectors_commit saves
   * every minute meanwhile) */
  if (c.vectors && !part)
    rc = trove_scan__save_vectors(&c, rc, &e);
  trove_scan__count_embedded(&c, rep);
  rep->seconds = now_s() - t0;
  /* best effort: when the database cannot be written this fails too; when
   * another writer holds it, the person is not kept waiting a second time */
  if (rc != TROVE_EBUSY) /* a scan of some paths keeps the last full scan's figures */
    trove_store_scan_finish(st, s.id, rc ? TROVE_SOURCE_ERROR : TROVE_SOURCE_READY,
                            rc ? e.msg : NULL, part ? s.scanned : rep->seen,
                            part ? s.last_scan_ms : (int64_t)(rep->seconds * 1000), NULL);
out_close_reader:
  trove_store_close(c.finder);
  trove_store_close(c.reader);
out_free:
  trove_store_source_clear(&s);
  trove_free(config);
  ctx_free(&c);
  trove_store_scan_unlock(st);
  rep->seconds = now_s() - t0;
  return rc ? trove_err_set(err, rc, "%s", e.msg[0] ? e.msg : trove_strerror(rc)) : 0;
}

int trove_scan_source(trove_store *st, const char *name, const trove_scan_opts *opts,
                      trove_scan_report *rep, trove_err *err) {
  return scan_run(st, name, NULL, NULL, 0, false, opts, rep, err);
}

int trove_scan_recent(trove_store *st, const char *name, const trove_scan_opts *opts,
                      trove_scan_report *rep, trove_err *err) {
  return scan_run(st, name, NULL, NULL, 0, true, opts, rep, err);
}

int trove_scan_paths(trove_store *st, const char *name, const char *const *paths, size_t n,
                     const trove_scan_opts *opts, trove_scan_report *rep, trove_err *err) {
  if (n == 0 || !paths) {
    if (rep)
      memset(rep, 0, sizeof *rep);
    return n ? trove_err_set(err, TROVE_EINVAL, "trove_scan_paths: NULL paths") : 0;
  }
  for (size_t i = 0; i < n; i++)
    if (!paths[i] || paths[i][0] != '/') {
      if (rep)
        memset(rep, 0, sizeof *rep);
      return trove_err_set(err, TROVE_EINVAL, "trove_scan_paths: \"%s\" is not an absolute "
                           "path", paths[i] ? paths[i] : "(null)");
    }
  return scan_run(st, name, NULL, paths, n, false, opts, rep, err);
}

int trove_scan_source_edit(trove_store *st, const char *name, const trove_scan_globs *g,
                           const trove_scan_opts *opts, trove_scan_report *rep, trove_err *err) {
  if (!g) {
    if (rep)
      memset(rep, 0, sizeof *rep);
    return trove_err_set(err, TROVE_EINVAL, "trove_scan_source_edit: NULL globs");
  }
  return scan_run(st, name, g, NULL, 0, false, opts, rep, err);
}

int trove_scan__embedding(scan_ctx *c, const trove_scan_opts *o, trove_err *err) {
  if (!o || (!o->embedder && !o->vectors))
    return 0;
  if (!o->embedder || !o->vectors ||
      strcmp(trove_embedder_name(o->embedder), trove_vectors_model(o->vectors)) != 0 ||
      trove_embedder_dim(o->embedder) != trove_vectors_dim(o->vectors))
    return trove_err_set(err, TROVE_EINVAL, "scan options: embedder and vectors must both be "
                         "set, for the same model and dimension");
  c->embedder = o->embedder;
  c->vectors = o->vectors;
  return 0;
}

int trove_scan__save_vectors(scan_ctx *c, int rc, trove_err *err) {
  trove_err se = {0};
  int src = trove_vectors_save(c->vectors, c->writer, &se);
  if (rc)
    return rc; /* the first failure is the one to report */
  return src ? trove_err_set(err, src, "%s", se.msg) : 0;
}

void trove_scan__count_embedded(const scan_ctx *c, trove_scan_report *rep) {
  rep->embedded += c->counts.embedded;
  rep->passages += c->counts.passages;
}

void trove_scan_report_notes(const trove_scan_report *rep, FILE *out) {
  if (rep->resumed)
    fprintf(out, "  resumed the interrupted scan: %lld items it had finished were not read, "
            "fetched or embedded again\n", (long long)rep->resumed);
  if (rep->excluded)
    fprintf(out, "  left out %lld pages on excluded domains\n", (long long)rep->excluded);
  if (rep->forgotten)
    fprintf(out, "  left out %lld forgotten items (trove forget)\n", (long long)rep->forgotten);
  if (rep->expired_new)
    fprintf(out, "  kept %lld pages the browser expired from its history (retention keep; "
            "%lld expired items in all)\n", (long long)rep->expired_new,
            (long long)rep->expired);
  if (rep->moved)
    fprintf(out, "  %lld moved: files renamed or moved with their content, kept as the same "
            "items\n", (long long)rep->moved);
  if (rep->kept_empty)
    fprintf(out, "  the source yielded nothing, so its %lld items were kept (an unmounted drive?); "
            "scan again with --force to delete them\n", (long long)rep->kept_empty);
  if (rep->seen == 0 && (rep->excluded || rep->forgotten))
    fprintf(out, "  every entry the source yielded was left out (%lld on excluded domains, %lld "
            "forgotten)\n", (long long)rep->excluded, (long long)rep->forgotten);
  if (rep->unread)
    trove_term_line(out, "  kept %lld items at or under %lld paths that could not be read "
                    "(first: %s); check their permissions", (long long)rep->kept,
                    (long long)rep->unread, rep->unread_path);
  if (rep->deferred)
    fprintf(out, "  deferred %lld web pages that did not answer lately: each is asked again "
            "after a wait that grows with every failure in a row; `trove scan --force` asks "
            "now\n", (long long)rep->deferred);
  if (rep->hosts_skipped) {
    char when[32] = "later";
    time_t t = (time_t)rep->host_retry_at;
    struct tm tm;
    if (localtime_r(&t, &tm))
      strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
    trove_term_line(out, "  not contacted: %lld hosts that did not answer %d times in a row "
                    "(first: %s, until %s)", (long long)rep->hosts_skipped,
                    SCAN_HOST_FAILURES, rep->host_skipped, when);
  }
}

void trove_scan_report_print(const trove_scan_report *rep, const char *what, FILE *out) {
  /* what and the unread path name a source and a file: escaped (core.h) */
  trove_term_line(out, "%s: %lld seen, %lld new, %lld changed, %lld unchanged, %lld skipped "
                  "(%lld failed), %lld deleted in %.2f s", what, (long long)rep->seen,
                  (long long)rep->added, (long long)rep->changed, (long long)rep->unchanged,
                  (long long)rep->skipped, (long long)rep->failed, (long long)rep->deleted,
                  rep->seconds);
  trove_scan_report_notes(rep, out);
  if (rep->embedded)
    fprintf(out, "  embedded %lld items: %lld passages in %.1f s of the embed stage (%.0f "
            "passages/s)\n", (long long)rep->embedded, (long long)rep->passages,
            rep->embed_busy, rep->embed_busy > 0 ? (double)rep->passages / rep->embed_busy : 0.0);
  for (size_t i = 0; i < rep->n_reasons; i++)
    fprintf(out, "  skipped %-12s %lld\n", rep->reasons[i].name, (long long)rep->reasons[i].count);
  if (rep->summary[0])
    fputs(rep->summary, out);
}
