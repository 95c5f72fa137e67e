/* scan_move.c: finding renamed files. A file the walk yields at a new path
 * whose bytes hash like those of a stored item of the same source, where
 * that item's own file is gone from disk, is that item renamed or moved.
 * The writer then gives the item the new path (trove_store_item_move)
 * instead of inserting a new item and deleting the old one at the end of
 * the scan, so the item keeps its id and hidden flag, and its passages and
 * vectors when its text hash is the same too. (A file without a title of
 * its own is titled by its name, so renaming it changes what its passages
 * are embedded with: it is embedded again, still as the same item.)
 *
 * The hash is known only once the file is read, so this runs in the embed
 * stage, just before embedding: a serial stage, whose own store handle
 * (c->finder) reads the last committed batch, and whose list of items
 * already taken needs no lock. Each stored item is taken by one new path
 * per scan at most; an identical second copy is a new item. A candidate
 * must be gone from disk, so a copy whose original is still there is new
 * too. If the writer cannot move the item after all (another path took
 * it), the file is stored as new, and the pending pass at the end of the
 * scan embeds it. */
#include "scan_int.h"

#include "store.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

/* Stored items with the same bytes looked at per new file: many copies of
 * one file (a licence in every folder) need not all be stat-ed. */
enum { MOVE_CANDIDATES = 16 };

static bool taken(const scan_ctx *c, int64_t id) {
  for (size_t i = 0; i < c->n_claimed; i++)
    if (c->claimed[i] == id)
      return true;
  return false;
}

static int take(scan_ctx *c, int64_t id) {
  if (c->n_claimed == c->cap_claimed) {
    size_t cap = c->cap_claimed ? 2 * c->cap_claimed : 16, bytes;
    int64_t *v;
    if (!trove_mul_ok(cap, sizeof *v, &bytes) || !(v = trove_realloc(c->claimed, bytes)))
      return TROVE_ENOMEM;
    c->claimed = v;
    c->cap_claimed = cap;
  }
  c->claimed[c->n_claimed++] = id;
  return 0;
}

/* True when nothing is at path any more; a path that cannot be checked
 * (permissions) is not taken for gone. */
static bool gone(const char *path) {
  struct stat sb;
  return lstat(path, &sb) != 0 && (errno == ENOENT || errno == ENOTDIR);
}

static int find_one(scan_ctx *c, scan_item *it, trove_err *e) {
  trove_store_twin *t = NULL;
  size_t n = 0;
  int rc = trove_store_items_same_content(c->finder, c->source_id, it->hash, MOVE_CANDIDATES,
                                          &t, &n, e);
  for (size_t i = 0; rc == 0 && i < n; i++) {
    if (strcmp(t[i].external_id, it->external_id) == 0 || taken(c, t[i].id) ||
        !gone(t[i].external_id))
      continue;
    if ((rc = take(c, t[i].id)) != 0) {
      trove_err_set(e, rc, "out of memory noting a renamed file");
      break;
    }
    it->move_from = t[i].id;
    it->keep_vectors = !c->reembed && t[i].text_hash && strcmp(t[i].text_hash, it->text_hash) == 0;
    break;
  }
  trove_store_twins_free(t, n);
  return rc;
}

int trove_scan__find_moves(scan_ctx *c, sl_batch *b) {
  for (size_t i = 0; c->finder && i < b->n; i++) {
    scan_item *it = b->items[i];
    if (it->state != SCAN_NEW || it->type != TROVE_ITEM_LOCAL || !it->raw || !it->text_hash[0])
      continue;
    trove_err e = {0};
    int rc = find_one(c, it, &e);
    if (rc)
      return trove_scan__fatal(c, &e, rc);
  }
  return 0;
}
