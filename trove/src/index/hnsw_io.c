/* hnsw_io.c: the index file: save (atomic: temp file, fsync, rename, fsync
 * of the folder) and load (mmap, checks, arrays used in place).
 *
 * Format, version 1, little-endian, sections 64-byte aligned:
 *   header   128 bytes, struct file_hdr below, its own CRC32C last
 *   ids      u64[n]              caller ids per node
 *   vecs     f32[n*dim]          node-major
 *   levels   u8[n]               top level per node
 *   dead     u8[n]               1 = tombstone
 *   l0       u32[n*(1+2M)]       level-0 lists: count, then slots
 *   upper    u32[up_words]       levels >= 1, (1+M) words per level per node
 *   table    u32[nblocks]        CRC32C of each 1 MiB block of ids..upper
 * Section offsets are not stored: they follow from the header's counts
 * (layout_of), so a size that disagrees with them is caught at once.
 *
 * Why this shape: 100k x 512 is 205 MB of vectors; loading must take <= 50
 * ms, so nothing is parsed or copied: the file is mapped and vecs and l0 are
 * used in place until the first insert copies them. Not MAP_POPULATE: the
 * checksum pass touches every page anyway, and the kernel's fault-around
 * maps a warm file faster that way (bench/RESULTS.md). The checksum is per
 * block so it can run three interleaved hardware CRC chains
 * (crc.c). Load never trusts the file: the header CRC and block CRCs catch
 * damage, then every list count, neighbour id and level is range-checked
 * (a file with valid CRCs but bad structure, e.g. written by a bug, must
 * not make the search read out of bounds), and duplicate live ids are
 * rejected while the id map is rebuilt.
 *
 * Limits: while an index is loaded, its file must not be truncated or
 * rewritten in place (the mapping would fault); trove_index_save never does
 * that, it renames a new file over the old one. The file is little-endian
 * and the build refuses big-endian hosts.
 */
#include "index_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the index file format is little-endian; add byte swapping for this host"
#endif

static const char MAGIC[8] = {'T', 'R', 'V', 'H', 'N', 'S', 'W', '\n'};
enum { VERSION = 1, HDR_SIZE = 128, BLOCK = 1 << 20, ALIGN = 64 };

typedef struct file_hdr {
  char magic[8];
  uint32_t version, hdr_size;
  uint32_t dim, m, ef_construction, ef_search;
  uint32_t flat_threshold;
  int32_t max_level;
  uint32_t entry, block_size;
  uint64_t n, n_dead, up_words;
  uint64_t rng, seed;
  double compact_ratio;
  uint64_t file_size;
  uint32_t table_crc;  /* CRC32C of the block table */
  uint32_t reserved;
  uint64_t tag;        /* the caller's tag (trove_index_set_tag); 0 in old files */
  uint32_t reserved2;
  uint32_t hdr_crc;    /* CRC32C of the 124 bytes before it */
} file_hdr;
_Static_assert(sizeof(file_hdr) == HDR_SIZE, "file_hdr must have no padding");

/* Byte offsets of the sections; all derived from the header. */
typedef struct layout {
  size_t ids, vecs, levels, dead, l0, upper, table, nblocks, size;
} layout;

/* Places a section of count*item bytes at *off (aligned); false on overflow. */
static bool section(size_t *off, size_t count, size_t item, size_t *at) {
  size_t bytes, end;
  if (*off > SIZE_MAX - ALIGN)
    return false;
  *at = (*off + ALIGN - 1) & ~(size_t)(ALIGN - 1);
  if (!trove_mul_ok(count, item, &bytes) || __builtin_add_overflow(*at, bytes, &end))
    return false;
  *off = end;
  return true;
}

static bool layout_of(const file_hdr *h, layout *L) {
  size_t off = HDR_SIZE, n = h->n, l0w, payload;
  if (h->n > SIZE_MAX || h->up_words > SIZE_MAX)
    return false;
  if (!trove_mul_ok(n, 1 + 2 * (size_t)h->m, &l0w))
    return false;
  if (!section(&off, n, 8, &L->ids) || !section(&off, n, (size_t)h->dim * 4, &L->vecs) ||
      !section(&off, n, 1, &L->levels) || !section(&off, n, 1, &L->dead) ||
      !section(&off, l0w, 4, &L->l0) || !section(&off, h->up_words, 4, &L->upper) ||
      !section(&off, 0, 1, &L->table))
    return false;
  payload = L->table - HDR_SIZE;
  L->nblocks = payload / BLOCK + (payload % BLOCK != 0);
  return trove_mul_ok(L->nblocks, 4, &L->size) &&
         !__builtin_add_overflow(L->size, L->table, &L->size);
}

static uint32_t hdr_crc(const file_hdr *h) {
  return trove_index__crc32c(0, h, offsetof(file_hdr, hdr_crc));
}

/* ---- save ---------------------------------------------------------------- */

/* Writes the payload, keeping a CRC per BLOCK bytes as it goes. */
typedef struct writer {
  int fd;
  size_t off;       /* bytes written so far, header included */
  uint32_t *table;  /* block CRCs */
  size_t nb;        /* blocks finished */
  uint32_t crc;     /* CRC of the block in progress */
} writer;

static int write_all(int fd, const void *p, size_t n) {
  const char *c = p;
  while (n > 0) {
    ssize_t w = write(fd, c, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    c += w;
    n -= (size_t)w;
  }
  return 0;
}

static int put(writer *w, const void *p, size_t n) {
  const char *c = p;
  while (n > 0) {
    size_t fill = (w->off - HDR_SIZE) % BLOCK, take = BLOCK - fill < n ? BLOCK - fill : n;
    w->crc = trove_index__crc32c(w->crc, c, take);
    if (write_all(w->fd, c, take))
      return -1;
    w->off += take;
    c += take;
    n -= take;
    if (fill + take == BLOCK) {
      w->table[w->nb++] = w->crc;
      w->crc = 0;
    }
  }
  return 0;
}

/* Pads with zeros up to offset at, then writes n bytes. */
static int put_at(writer *w, size_t at, const void *p, size_t n) {
  static const char zeros[ALIGN];
  if (at > w->off && put(w, zeros, at - w->off))
    return -1;
  return put(w, p, n);
}

static void fill_hdr(const trove_index__graph *g, uint64_t tag, file_hdr *h) {
  memset(h, 0, sizeof *h);
  h->tag = tag;
  memcpy(h->magic, MAGIC, sizeof MAGIC);
  h->version = VERSION;
  h->hdr_size = HDR_SIZE;
  h->dim = g->p.dim;
  h->m = g->p.m;
  h->ef_construction = g->p.ef_construction;
  h->ef_search = g->p.ef_search;
  h->flat_threshold = g->p.flat_threshold;
  h->max_level = g->max_level;
  h->entry = g->entry;
  h->block_size = BLOCK;
  h->n = g->n;
  h->n_dead = g->n_dead;
  h->up_words = g->up_len;
  h->rng = g->rng;
  h->seed = g->p.seed;
  h->compact_ratio = g->p.compact_ratio;
}

/* Writes header, sections and table to fd. 0 or -1 (errno set). */
static int write_file(const trove_index__graph *g, int fd, const layout *L, file_hdr *h,
                      uint32_t *table) {
  writer w = {.fd = fd, .off = HDR_SIZE, .table = table};
  size_t n = g->n;
  if (write_all(fd, h, HDR_SIZE) || put_at(&w, L->ids, g->ids, n * 8) ||
      put_at(&w, L->vecs, g->vecs, n * g->p.dim * 4) || put_at(&w, L->levels, g->levels, n) ||
      put_at(&w, L->dead, g->dead, n) ||
      put_at(&w, L->l0, g->l0, n * (1 + (size_t)g->m0) * 4) ||
      put_at(&w, L->upper, g->upper, g->up_len * 4) || put_at(&w, L->table, NULL, 0))
    return -1;
  if ((w.off - HDR_SIZE) % BLOCK != 0)
    table[w.nb++] = w.crc; /* the last, partial block */
  h->table_crc = trove_index__crc32c(0, table, L->nblocks * 4);
  h->file_size = L->size;
  h->hdr_crc = hdr_crc(h);
  if (write_all(fd, table, L->nblocks * 4) || pwrite(fd, h, HDR_SIZE, 0) != HDR_SIZE)
    return -1;
  return fsync(fd);
}

/* The folder holding path ("." when none), for the fsync after rename. */
static char *dir_of(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash)
    return trove_strdup(".");
  return trove_strndup(path, (size_t)(slash - path) + (slash == path));
}

/* fsync of a folder, so a rename in it is durable. */
static int sync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

static int save_locked(const trove_index__graph *g, uint64_t tag, const char *path,
                       trove_err *err) {
  file_hdr h;
  layout L;
  fill_hdr(g, tag, &h);
  if (!layout_of(&h, &L))
    return trove_err_set(err, TROVE_EIO, "cannot save index %s: too large", path);
  int rc = TROVE_ENOMEM, fd = -1;
  char *tmp = NULL, *dir = dir_of(path);
  uint32_t *table = trove_calloc(L.nblocks ? L.nblocks : 1, 4);
  trove_buf b = {0};
  if (!dir || !table || trove_buf_printf(&b, "%s.tmp.XXXXXX", path) ||
      !(tmp = trove_buf_take(&b))) {
    trove_err_set(err, rc, "out of memory saving index %s", path);
    goto out_free;
  }
  fd = mkstemp(tmp);
  if (fd < 0) {
    rc = trove_err_set(err, TROVE_EIO,
                       "cannot create %s: %s; check the folder exists and is writable", tmp,
                       strerror(errno));
    goto out_free;
  }
  int bad = write_file(g, fd, &L, &h, table), saved = errno;
  if (close(fd) && !bad)
    bad = -1, saved = errno;
  fd = -1;
  if (bad) {
    rc = trove_err_set(err, TROVE_EIO, "cannot write index %s: %s; is the disk full?", tmp,
                       strerror(saved));
    goto out_unlink;
  }
  if (rename(tmp, path)) {
    rc = trove_err_set(err, TROVE_EIO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
    goto out_unlink;
  }
  rc = 0;
  if (sync_dir(dir))
    rc = trove_err_set(err, TROVE_EIO, "index %s saved, but syncing folder %s failed: %s", path,
                       dir, strerror(errno));
  goto out_free;
out_unlink:
  unlink(tmp);
out_free:
  trove_free(dir);
  trove_free(tmp);
  trove_free(table);
  trove_buf_free(&b);
  return rc;
}

int trove_index_save(trove_index *x, const char *path, trove_err *err) {
  if (!x || !path)
    return trove_err_set(err, TROVE_EINVAL, "trove_index_save: NULL argument");
  if (pthread_rwlock_rdlock(&x->lock))
    return trove_err_set(err, TROVE_EINVAL, "trove_index_save: cannot lock the index");
  int rc = save_locked(&x->g, trove_index_tag(x), path, err);
  pthread_rwlock_unlock(&x->lock);
  return rc;
}

/* ---- load ---------------------------------------------------------------- */

static int corrupt(trove_err *err, const char *path, const char *what) {
  return trove_err_set(err, TROVE_ECORRUPT,
                       "index %s is damaged (%s); rebuild it from the database", path, what);
}

/* Header checks before anything else is read. */
static int check_hdr(const file_hdr *h, size_t size, uint32_t expect_dim, layout *L,
                     const char *path, trove_err *err) {
  if (memcmp(h->magic, MAGIC, sizeof MAGIC))
    return corrupt(err, path, "bad magic: not a trove index");
  if (h->version != VERSION)
    return trove_err_set(err, TROVE_EUNSUPPORTED,
                         "index %s has format version %u, this trove reads %u; rebuild it", path,
                         h->version, VERSION);
  if (h->hdr_crc != hdr_crc(h))
    return corrupt(err, path, "header checksum mismatch");
  trove_index_params p = {h->dim, h->m, h->ef_construction, h->ef_search, h->flat_threshold,
                          h->compact_ratio, h->seed};
  if (h->hdr_size != HDR_SIZE || h->block_size != BLOCK || trove_index__params_check(&p, NULL))
    return corrupt(err, path, "header fields out of range");
  if (h->n >= UINT32_MAX - 1 || h->n_dead > h->n || h->max_level > TROVE_INDEX__MAX_LEVEL ||
      (h->n == 0) != (h->max_level < 0) || (h->n > 0 && h->entry >= h->n))
    return corrupt(err, path, "node counts out of range");
  if (!layout_of(h, L) || L->size != size || h->file_size != size)
    return corrupt(err, path, "file size disagrees with its header: truncated?");
  if (expect_dim && h->dim != expect_dim)
    return trove_err_set(err, TROVE_ERANGE,
                         "index %s has dimension %u, the model gives %u; rebuild it", path,
                         h->dim, expect_dim);
  return 0;
}

static int check_crcs(const uint8_t *base, const file_hdr *h, const layout *L,
                      const char *path, trove_err *err) {
  const uint8_t *table = base + L->table;
  if (trove_index__crc32c(0, table, L->nblocks * 4) != h->table_crc)
    return corrupt(err, path, "checksum table mismatch");
  uint32_t *got = trove_malloc(L->nblocks ? L->nblocks * 4 : 1);
  if (!got)
    return trove_err_set(err, TROVE_ENOMEM, "out of memory loading index %s", path);
  trove_index__crc32c_blocks(base + HDR_SIZE, L->table - HDR_SIZE, BLOCK, got);
  int rc = memcmp(got, table, L->nblocks * 4) ? corrupt(err, path, "data checksum mismatch") : 0;
  trove_free(got);
  return rc;
}

/* One list: count within cap, neighbours < n with a level-l list. */
static bool list_ok(const trove_index__graph *g, const uint32_t *l, uint32_t cap, int level) {
  if (l[0] > cap)
    return false;
  for (uint32_t j = 1; j <= l[0]; j++)
    if (l[j] >= g->n || g->levels[l[j]] < level)
      return false;
  return true;
}

/* Levels, tombstones, offsets and every list of the graph. */
static bool graph_ok(trove_index__graph *g, uint64_t up_words) {
  size_t off = 0, dead = 0, per = 1 + (size_t)g->p.m;
  for (size_t i = 0; i < g->n; i++) {
    if (g->levels[i] > g->max_level || g->dead[i] > 1)
      return false;
    dead += g->dead[i];
    g->up_off[i] = off;
    off += g->levels[i] * per;
  }
  if (off != up_words || dead != g->n_dead ||
      (g->n > 0 && g->levels[g->entry] != g->max_level))
    return false;
  for (size_t i = 0; i < g->n; i++)
    for (int l = 0; l <= g->levels[i]; l++)
      if (!list_ok(g, trove_index__links(g, (uint32_t)i, l), l ? g->p.m : g->m0, l))
        return false;
  return true;
}

static int copy_in(void **dst, const uint8_t *src, size_t bytes) {
  *dst = trove_malloc(bytes ? bytes : 1);
  if (!*dst)
    return TROVE_ENOMEM;
  memcpy(*dst, src, bytes);
  return 0;
}

/* Builds the graph over the mapped, checksummed file. */
static int build(trove_index__graph *g, uint8_t *base, size_t size, const file_hdr *h,
                 const layout *L, const char *path, trove_err *err) {
  trove_index_params p = {h->dim, h->m, h->ef_construction, h->ef_search, h->flat_threshold,
                          h->compact_ratio, h->seed};
  trove_index__graph_init(g, &p);
  size_t n = h->n;
  g->n = g->cap = n;
  g->n_dead = h->n_dead;
  g->entry = h->entry;
  g->max_level = h->max_level;
  g->rng = h->rng;
  g->up_len = g->up_cap = h->up_words;
  if (copy_in((void **)&g->ids, base + L->ids, n * 8) ||
      copy_in((void **)&g->levels, base + L->levels, n) ||
      copy_in((void **)&g->dead, base + L->dead, n) ||
      copy_in((void **)&g->upper, base + L->upper, h->up_words * 4) ||
      !(g->up_off = trove_malloc(n ? n * 8 : 1)) ||
      trove_index__idmap_reserve(&g->map, n - g->n_dead))
    return trove_err_set(err, TROVE_ENOMEM, "out of memory loading index %s", path);
  g->vecs = (float *)(base + L->vecs); /* valid only once map_base is set below */
  g->l0 = (uint32_t *)(base + L->l0);
  if (!graph_ok(g, h->up_words))
    return corrupt(err, path, "graph structure out of range");
  for (size_t i = 0; i < n; i++)
    if (!g->dead[i] && trove_index__idmap_put(&g->map, g->ids[i], (uint32_t)i))
      return corrupt(err, path, "duplicate id");
  g->map_base = base;
  g->map_len = size;
  return 0;
}

/* Maps path read-only. 0 or an error code with err filled. */
static int map_file(const char *path, uint8_t **base, size_t *size, trove_err *err) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return trove_err_set(err, errno == ENOENT ? TROVE_ENOENT : TROVE_EIO,
                         "cannot open index %s: %s", path, strerror(errno));
  struct stat st;
  int rc = 0;
  if (fstat(fd, &st)) {
    rc = trove_err_set(err, TROVE_EIO, "cannot stat index %s: %s", path, strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    rc = trove_err_set(err, TROVE_EIO, "index %s is not a regular file; remove it", path);
  } else if ((uint64_t)st.st_size < HDR_SIZE) {
    rc = corrupt(err, path, "shorter than its header: truncated");
  } else {
    *size = (size_t)st.st_size;
    void *p = mmap(NULL, *size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED)
      rc = trove_err_set(err, TROVE_EIO, "cannot map index %s: %s", path, strerror(errno));
    else
      *base = p;
  }
  close(fd);
  return rc;
}

int trove_index_load(const char *path, uint32_t expect_dim, trove_index **out,
                     trove_err *err) {
  if (out)
    *out = NULL;
  if (!path || !out)
    return trove_err_set(err, TROVE_EINVAL, "trove_index_load: NULL argument");
  uint8_t *base = NULL;
  size_t size = 0;
  int rc = map_file(path, &base, &size, err);
  if (rc)
    return rc;
  file_hdr h;
  layout L;
  trove_index__graph g = {0};
  memcpy(&h, base, HDR_SIZE);
  rc = check_hdr(&h, size, expect_dim, &L, path, err);
  if (!rc)
    rc = check_crcs(base, &h, &L, path, err);
  if (!rc)
    rc = build(&g, base, size, &h, &L, path, err);
  if (!rc && trove_index__wrap(&g, out))
    rc = trove_err_set(err, TROVE_ENOMEM, "out of memory loading index %s", path);
  if (!rc) {
    trove_index_set_tag(*out, h.tag);
    return 0;
  }
  if (!g.map_base)
    munmap(base, size);
  g.vecs = NULL; /* never owned unless map_base was set; free() must not see them */
  g.l0 = NULL;
  trove_index__graph_free(&g);
  return rc;
}
