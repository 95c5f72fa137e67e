/* store_crash_test.c: kill -9 at random points. A child process runs full
 * scans in a loop (scan_begin, batches of 16 items with passages and
 * vectors, delete_unseen, scan_finish), reporting each committed batch on a
 * pipe; the parent kills it with SIGKILL after a random number of reports
 * plus a random delay, over several rounds. After each kill the parent
 * reopens the database and checks:
 *   - SQLite's integrity_check and the FTS index against the items
 *     (trove_store_check);
 *   - every batch is all there or not at all, written by one pass (one tag);
 *   - the last batch the child reported is there, with its tag;
 *   - every item has its passages and their vectors; the vector count
 *     matches;
 *   - keyword search for a tag finds exactly the items carrying it.
 * Finally the parent itself reruns a full scan to completion and checks the
 * result, as `trove scan` after a crash would. */
#include "fixture.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>

enum {
  ROUNDS = 8,
  PER_BATCH = 16,
  SLOTS = 20, /* batches per full pass */
  DIM = 8,
};

typedef struct note { /* one committed batch, as the child reports it */
  int32_t round, pass, slot;
} note;

static fx F;
static int64_t SRC;

static void tag_of(char *buf, size_t cap, int round, int pass) {
  snprintf(buf, cap, "tag%dx%d", round, pass);
}

/* Writes one batch: slot's PER_BATCH items, each with 2 passages and their
 * vectors, in one transaction. */
static int write_slot(trove_store *st, int64_t version, const char *tag, int slot,
                      trove_err *e) {
  int rc = trove_store_begin(st, e);
  for (int i = 0; i < PER_BATCH && rc == 0; i++) {
    char ext[32], text[160];
    snprintf(ext, sizeof ext, "%d/%d", slot, i);
    snprintf(text, sizeof text, "%s batch %d item %d words to index", tag, slot, i);
    trove_store_item it = fx_item(ext, tag, text, version);
    int64_t id, pid[2];
    trove_store_passage p[2] = {{.ordinal = 0, .start = 0, .end = 5},
                                {.ordinal = 1, .start = 6, .end = 12}};
    float v[2 * DIM] = {(float)slot, (float)i};
    v[DIM] = (float)slot, v[DIM + 1] = (float)i, v[DIM + 2] = 1; /* passage 1 */
    if ((rc = trove_store_item_upsert(st, SRC, &it, &id, e)) == 0)
      rc = trove_store_item_embed(st, id, "m", p, v, 2, DIM, pid, NULL, e);
  }
  if (rc == 0)
    return trove_store_commit(st, e);
  trove_store_rollback(st);
  return rc;
}

/* One full scan pass; reports each batch on fd (when >= 0). */
static int full_pass(trove_store *st, int round, int pass, int fd, trove_err *e) {
  char tag[32];
  int64_t version, deleted;
  tag_of(tag, sizeof tag, round, pass);
  int rc = trove_store_scan_begin(st, SRC, &version, e);
  int slots = SLOTS - (pass % 3) * 4; /* some passes see fewer: deletes happen */
  for (int s = 0; s < slots && rc == 0; s++) {
    rc = write_slot(st, version, tag, s, e);
    note n = {round, pass, s};
    if (rc == 0 && fd >= 0 && write(fd, &n, sizeof n) != sizeof n)
      rc = TROVE_EIO;
  }
  if (rc == 0)
    rc = trove_store_items_delete_unseen(st, SRC, version, &deleted, NULL, e);
  if (rc == 0)
    rc = trove_store_scan_finish(st, SRC, TROVE_SOURCE_READY, NULL, slots * PER_BATCH, 1, e);
  return rc;
}

static void child(int round, int fd) {
  trove_store *st = NULL;
  trove_err e = {0};
  trove_store_opts o = {.path = F.db};
  int rc = trove_store_open(&o, &st, &e);
  for (int pass = 0; rc == 0; pass++)
    rc = full_pass(st, round, pass, fd, &e);
  fprintf(stderr, "child: %s\n", e.msg);
  _exit(3);
}

/* Checks slot's items: all present with one tag, or none. Returns the
 * number present; *tag gets their title (the tag). */
static int check_slot(trove_store *st, int slot, char *tag, size_t cap) {
  char names[PER_BATCH][32];
  const char *ids[PER_BATCH];
  trove_store_match m[PER_BATCH];
  for (int i = 0; i < PER_BATCH; i++) {
    snprintf(names[i], sizeof names[i], "%d/%d", slot, i);
    ids[i] = names[i];
  }
  CHECK(trove_store_items_match(st, SRC, ids, PER_BATCH, m, NULL) == 0);
  int present = 0;
  tag[0] = '\0';
  for (int i = 0; i < PER_BATCH; i++) {
    if (!m[i].item_id)
      continue;
    present++;
    trove_store_item it;
    trove_store_passage *p = NULL;
    size_t np = 0, dim = 0;
    float *v = NULL;
    CHECK(trove_store_item_get(st, m[i].item_id, true, &it, NULL) == 0);
    CHECK(it.title && it.raw && strcmp(it.raw, it.text) == 0);
    if (it.title && !tag[0])
      snprintf(tag, cap, "%s", it.title);
    CHECK(it.title && strcmp(it.title, tag) == 0); /* one batch, one pass */
    CHECK(trove_store_passages_get(st, it.id, &p, &np, NULL) == 0 && np == 2);
    for (size_t k = 0; k < np; k++) {
      CHECK(trove_store_vector_get(st, p[k].id, "m", &v, &dim, NULL) == 0);
      CHECK(v && dim == DIM && v[0] == (float)slot && v[1] == (float)i && v[2] == (float)k);
      trove_free(v);
    }
    trove_store_passages_free(p, np);
    trove_store_item_clear(&it);
  }
  trove_store_match_clear(m, PER_BATCH);
  CHECK(present == 0 || present == PER_BATCH);
  return present;
}

static size_t search_count(trove_store *st, const char *tag) {
  trove_store_hit *h = NULL;
  size_t n = 0;
  trove_store_search_opts o = {.limit = 100000};
  CHECK(trove_store_search(st, tag, &o, &h, &n, NULL) == 0);
  trove_store_hits_free(h, n);
  return n;
}

/* All the invariants; `last` is the last batch reported (slot < 0: none). */
static void check_db(const note *last) {
  trove_store *st = fx_open(&F);
  if (!st)
    return;
  trove_err e = {0};
  int rc = trove_store_check(st, &e);
  if (rc)
    fprintf(stderr, "check: %s\n", e.msg);
  CHECK(rc == 0);
  char tags[SLOTS][32];
  int64_t items = 0;
  for (int s = 0; s < SLOTS; s++)
    items += check_slot(st, s, tags[s], sizeof tags[s]);
  if (last->slot >= 0) {
    char want[32];
    tag_of(want, sizeof want, last->round, last->pass);
    CHECK(strcmp(tags[last->slot], want) == 0);
    size_t with_tag = 0;
    for (int s = 0; s < SLOTS; s++)
      with_tag += strcmp(tags[s], want) == 0 ? PER_BATCH : 0;
    CHECK(search_count(st, want) == with_tag);
  }
  int64_t version, count;
  size_t dim;
  rc = trove_store_vectors_version(st, "m", &version, &dim, &count, &e);
  CHECK(items == 0 || (rc == 0 && count == 2 * items));
  trove_store_close(st);
}

/* One round: run a child, kill it at a random point, check the DB. */
static void crash_round(int round, unsigned *seed) {
  int fds[2];
  CHECK(pipe(fds) == 0);
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    child(round, fds[1]);
  }
  close(fds[1]);
  int want = 1 + (int)(rand_r(seed) % (3 * SLOTS));
  note n, last = {0, 0, -1};
  int got = 0;
  while (got < want && read(fds[0], &n, sizeof n) == sizeof n)
    last = n, got++;
  /* A random delay moves the kill point inside the next batch; nothing
   * waits on it, the kill is asynchronous to the child either way. */
  struct timespec d = {0, (long)(rand_r(seed) % 3000) * 1000};
  nanosleep(&d, NULL);
  CHECK(kill(pid, SIGKILL) == 0);
  int status = 0;
  CHECK(waitpid(pid, &status, 0) == pid);
  CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL); /* not an early exit */
  while (read(fds[0], &n, sizeof n) == sizeof n) /* reports sent before death */
    last = n;
  close(fds[0]);
  check_db(&last);
}

static void crash_kill9_leaves_db_consistent(void) {
  unsigned seed = (unsigned)check_seed("store_crash_test");
  for (int r = 0; r < ROUNDS; r++)
    crash_round(r, &seed);
}

static void crash_rerun_completes(void) {
  trove_store *st = fx_open(&F);
  trove_err e = {0};
  int rc = full_pass(st, ROUNDS, 0, -1, &e); /* pass 0: every slot */
  if (rc)
    fprintf(stderr, "rerun: %s\n", e.msg);
  CHECK(rc == 0);
  trove_store_stats s;
  CHECK(trove_store_stats_get(st, &s, &e) == 0 && s.items == SLOTS * PER_BATCH);
  trove_store_stats_clear(&s);
  trove_store_source src;
  CHECK(trove_store_source_get(st, "s", &src, &e) == 0 && src.status == TROVE_SOURCE_READY);
  trove_store_source_clear(&src);
  trove_store_close(st);
  note last = {ROUNDS, 0, SLOTS - 1};
  check_db(&last);
}

int main(void) {
  fx_init(&F);
  trove_store *st = fx_open(&F);
  CHECK(trove_store_source_add(st, "s", "fs", "/s", NULL, &SRC, NULL) == 0);
  trove_store_close(st);
  RUN(crash_kill9_leaves_db_consistent);
  RUN(crash_rerun_completes);
  fx_done(&F);
  return check_done("store_crash_test");
}
