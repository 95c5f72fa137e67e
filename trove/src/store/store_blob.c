/* store_blob.c: raw content compression. Items keep the bytes as read or
 * fetched so `trove reprocess` can re-extract without refetching; zstd at
 * level 3 (the usual speed/ratio knee) shrinks HTML
 * about fivefold. One compression and one decompression context per store
 * handle are made on first use through trove's allocation hook (zstd's
 * customMem), and reused, which also saves zstd's per-call setup.
 *
 * A stored blob is hostile input: its frame header must state its size,
 * which must equal the raw_size column and stay under MAX_RAW, before any
 * allocation; then the decoded length must match. Anything else is
 * TROVE_ECORRUPT naming the item, never a crash or a huge allocation.
 */
#include "store_int.h"

#include <zstd_errors.h>

enum {
  LEVEL = 3,
  MAX_RAW = 256 << 20, /* far above the fetcher's body limit */
};

static void *zalloc(void *opaque, size_t n) {
  (void)opaque;
  return trove_malloc(n);
}

static void zfree(void *opaque, void *p) {
  (void)opaque;
  trove_free(p);
}

static const ZSTD_customMem mem = {zalloc, zfree, NULL};

int trove_store__compress(trove_store *st, const void *src, size_t len, void **out, size_t *out_len,
                          trove_err *err) {
  *out = NULL;
  *out_len = 0;
  if (len > MAX_RAW)
    return trove_err_set(err, TROVE_ERANGE, "raw content of %zu bytes is past the %d byte "
                         "limit", len, MAX_RAW);
  if (!st->cctx && !(st->cctx = ZSTD_createCCtx_advanced(mem)))
    return trove_err_set(err, TROVE_ENOMEM, "out of memory compressing raw content");
  size_t cap = ZSTD_compressBound(len);
  void *buf = trove_malloc(cap);
  if (!buf)
    return trove_err_set(err, TROVE_ENOMEM, "out of memory compressing raw content");
  size_t n = ZSTD_compressCCtx(st->cctx, buf, cap, src, len, LEVEL);
  if (ZSTD_isError(n)) {
    trove_free(buf);
    /* With a bound-sized buffer the only failure left is memory. */
    return trove_err_set(err, TROVE_ENOMEM, "cannot compress raw content: %s",
                         ZSTD_getErrorName(n));
  }
  *out = buf;
  *out_len = n;
  return 0;
}

int trove_store__decompress(trove_store *st, int64_t item_id, const void *src, size_t len,
                            int64_t expect, void **out, trove_err *err) {
  *out = NULL;
  unsigned long long size = ZSTD_getFrameContentSize(src, len);
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN ||
      size > MAX_RAW || expect < 0 || size != (unsigned long long)expect)
    return trove_err_set(err, TROVE_ECORRUPT, "raw content of item %lld is damaged (bad "
                         "zstd header); run `trove scan --force` to fetch it again",
                         (long long)item_id);
  if (!st->dctx && !(st->dctx = ZSTD_createDCtx_advanced(mem)))
    return trove_err_set(err, TROVE_ENOMEM, "out of memory decompressing item %lld",
                         (long long)item_id);
  char *buf = trove_malloc((size_t)size + 1);
  if (!buf)
    return trove_err_set(err, TROVE_ENOMEM, "out of memory decompressing item %lld",
                         (long long)item_id);
  size_t n = ZSTD_decompressDCtx(st->dctx, buf, (size_t)size, src, len);
  if (ZSTD_isError(n) || n != size) {
    trove_free(buf);
    if (ZSTD_isError(n) && ZSTD_getErrorCode(n) == ZSTD_error_memory_allocation)
      return trove_err_set(err, TROVE_ENOMEM, "out of memory decompressing item %lld",
                           (long long)item_id);
    return trove_err_set(err, TROVE_ECORRUPT, "raw content of item %lld is damaged (%s); "
                         "run `trove scan --force` to fetch it again", (long long)item_id,
                         ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short frame");
  }
  buf[n] = '\0';
  *out = buf;
  return 0;
}

void trove_store__codec_free(trove_store *st) {
  ZSTD_freeCCtx(st->cctx);
  ZSTD_freeDCtx(st->dctx);
  st->cctx = NULL;
  st->dctx = NULL;
}
