/* serve.h: `trove serve`, trove's local web UI: an HTTP server (GNU
 * libmicrohttpd) that keeps the model and the vector index loaded, serves
 * one self-contained page (HTML, CSS and plain JS compiled into the
 * binary: nothing is fetched from anywhere) and the JSON API under /api/
 * the page uses:
 *
 *   GET    /api/search?q=&mode=&n=&source=&type=&like=&explain=&since=&until=
 *                                what `trove search --json` prints
 *   GET    /api/items/ID         one item: metadata and extracted text
 *   POST   /api/items/ID/hide    and .../unhide
 *   GET    /api/sources          each source with its counts and last scan
 *   POST   /api/sources          add one: {"name","type","location",
 *                                "include":[globs],"exclude":[globs]}
 *   DELETE /api/sources/NAME     remove one, with its items
 *   POST   /api/sources/NAME     edit a browser source: {"retention":
 *                                "keep"|"mirror","exclude_domains":[hosts]}
 *   GET    /api/stats            what `trove stats` says
 *   GET    /api/scan             the background scan's state
 *   POST   /api/scan             start one: {"source":"NAME"} or {} for all
 *   POST   /api/scan/stop        stop it (what it stored stays)
 *   GET    /api/events           Server-Sent Events: "scan" progress
 *
 * Errors are {"error":"...","status":N} with a status that fits: 400 a bad
 * parameter, 403 a missing token or foreign Origin, 404 no such item,
 * source or path, 405 a wrong method, 409 a scan is running (or a source
 * name taken, or a location another source overlaps), 413 a body
 * over 64 KB, 414 a query over 4 KB, 421 a Host not allowed, 503 the model
 * is needed but not loaded, 500 the database failed.
 *
 * Security (titles and text come from hostile pages; see server.c):
 * - the page's Content-Security-Policy allows only its own script and
 *   style, no inline script; the page puts every stored string into the
 *   DOM as text, never as HTML;
 * - a Host allowlist (localhost, 127.0.0.1 and [::1] with the port, and
 *   the --listen address) answers anything else with 421, against DNS
 *   rebinding;
 * - every request that changes something (any method but GET and HEAD)
 *   must carry the per-process random token in X-Trove-Token, which only
 *   the page knows (it is written into the page as served): 403 without;
 * - no endpoint reads a file: items come from the database only.
 *
 * Threads: one thread per connection (searches run concurrently, each on a
 * store handle of its own, at most search_threads at once); a background
 * scan runs on a one-worker sluice pool of its own while searches go on
 * (SQLite's WAL: readers see the last committed batch); the watcher
 * (watch.h, as `trove watch` runs it) on a thread of its own, its scans
 * taking turns with the page's, their progress sent to the page alike.
 */
#ifndef TROVE_SERVE_H
#define TROVE_SERVE_H

#include "core.h"
#include "model.h"
#include "vectors.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct trove_serve trove_serve;

typedef struct trove_serve_opts {
  const char *db_path; /* the database; it must exist */
  const char *listen;  /* a numeric IPv4 or IPv6 address; NULL: 127.0.0.1 */
  unsigned port;       /* 0: any free port (trove_serve_port tells) */
  /* The model, or both NULL for keyword search only (then hybrid search
   * falls back to keyword, and semantic and like answer 503). With it, the
   * server uses vectors as its writer (scans and source removals keep it in
   * step) until trove_serve_stop; the caller still owns and closes both. */
  const trove_embedder *embedder;
  trove_vectors *vectors;
  const trove_embedder *scan_embedder; /* what scans embed passages with, the
                              same model on another kernel path (as `trove
                              scan` and `trove search` differ, cli.h);
                              NULL: embedder */
  unsigned search_threads;             /* searches at once; 0: the cores, at least 2 */
  long fetch_timeout_ms;               /* each web fetch of a scan (trove_scan_opts);
                                          0: the fetcher's 30 s */
  const char *model_note;              /* what /api/stats says of the model (copied);
                                          NULL: nothing */
  /* Keeping every source fresh while serving, as `trove watch` does
   * (sources added or removed through the API included): unless no_watch,
   * the server runs the watcher; it does not when another process watches
   * the database (said once on watch_log), nor on a read-only database. */
  bool no_watch;
  FILE *watch_log; /* the watcher's lines and warnings; NULL: silent */
  int browser_poll_s;     /* trove_watch_opts'; 0: 60 */
} trove_serve_opts;

/* Opens the database, binds the address and starts serving. *out is the
 * caller's (trove_serve_stop). Returns 0; TROVE_EINVAL (NULL opts or out,
 * no db_path, an address that is not numeric, vectors without embedder);
 * TROVE_EIO (the address cannot be bound: the message names it, e.g. the
 * port is in use); the store's open errors; TROVE_ENOMEM. */
int trove_serve_start(const trove_serve_opts *opts, trove_serve **out, trove_err *err);

/* The port the server listens on. */
unsigned trove_serve_port(const trove_serve *s);

/* The page's address, "http://127.0.0.1:PORT/" (an IPv6 address in
 * brackets); valid until trove_serve_stop. */
const char *trove_serve_url(const trove_serve *s);

/* The token that requests which change something must carry (serve.h's
 * top); 64 hex digits, valid until trove_serve_stop. For tests. */
const char *trove_serve_token(const trove_serve *s);

/* Stops the watcher and a running scan (each saves the vector index and
 * keeps what it stored, as trove_scan_opts.stop says), saves the index
 * when a removal changed it, closes every connection (event streams end),
 * and frees s.
 * NULL is a no-op. Call from the thread that started it, once. */
void trove_serve_stop(trove_serve *s);

#endif /* TROVE_SERVE_H */
