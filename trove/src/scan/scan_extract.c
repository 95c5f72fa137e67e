/* scan_extract.c: one document to scan_fields, shared by the scan's read
 * stage and reprocess: picks the extractor by kind, collects the headings
 * (the store indexes them as their own FTS column), names a document
 * without a title after its file, and hashes what its passages are cut
 * from. Any thread: nothing here is shared. */
#include "scan_int.h"

#include "extract.h"

#include <string.h>
#include <strings.h>

const char *trove_scan__base_name(const char *path) {
  const char *s = path ? strrchr(path, '/') : NULL;
  return s && s[1] ? s + 1 : path ? path : "";
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

scan_kind trove_scan__kind_guess(const char *name, const char *data, size_t len) {
  static const char *const md[] = {".md", ".markdown", ".mdown", ".mkd", ".mkdn"};
  static const char *const html[] = {".html", ".htm", ".xhtml"};
  for (size_t i = 0; name && i < sizeof md / sizeof *md; i++)
    if (ends_with(name, md[i]))
      return SCAN_KIND_MARKDOWN;
  for (size_t i = 0; name && i < sizeof html / sizeof *html; i++)
    if (ends_with(name, html[i]))
      return SCAN_KIND_HTML;
  size_t k = 0;
  while (data && k < len && (data[k] == ' ' || data[k] == '\n' || data[k] == '\r' || data[k] == '\t'))
    k++;
  if (data && (len - k >= 14 && strncasecmp(data + k, "<!doctype html", 14) == 0))
    return SCAN_KIND_HTML;
  if (data && (len - k >= 5 && strncasecmp(data + k, "<html", 5) == 0))
    return SCAN_KIND_HTML;
  return name && strncasecmp(name, "http", 4) == 0 ? SCAN_KIND_HTML : SCAN_KIND_TEXT;
}

const char *trove_scan__extract_reason(int code) {
  switch (code) {
  case TROVE_ERANGE: return "too_large";
  case TROVE_EUNSUPPORTED: return "unsupported";
  default: return "error";
  }
}

/* The heading blocks of doc, one per line. */
static char *join_headings(const trove_doc *doc) {
  trove_buf b = {0};
  int rc = trove_buf_puts(&b, "");
  for (size_t i = 0; rc == 0 && i < doc->n_blocks; i++) {
    const trove_block *bl = &doc->blocks[i];
    if (bl->kind != TROVE_BLOCK_HEADING)
      continue;
    rc = b.len ? trove_buf_putc(&b, '\n') : 0;
    rc = rc ? rc : trove_buf_append(&b, doc->text + bl->start, bl->len);
  }
  char *s = rc ? NULL : trove_buf_take(&b);
  trove_buf_free(&b);
  return s;
}

int trove_scan__extract(scan_kind kind, const char *data, size_t len, const char *base_url,
                        const char *fallback_title, scan_fields *f, trove_err *err) {
  memset(f, 0, sizeof *f);
  trove_doc *doc = NULL;
  int rc = kind == SCAN_KIND_HTML       ? trove_extract_html(data, len, base_url, &doc, err)
           : kind == SCAN_KIND_MARKDOWN ? trove_extract_markdown(data, len, &doc, err)
                                        : trove_extract_text(data, len, &doc, err);
  if (rc)
    return rc;
  /* a file name may hold bytes that are not UTF-8: shown escaped */
  f->title = doc->title[0] ? trove_strdup(doc->title)
                           : trove_utf8_escape_dup(fallback_title ? fallback_title : "");
  f->author = trove_strdup(doc->byline);
  f->description = trove_strdup(doc->excerpt);
  f->language = trove_strdup(doc->lang);
  f->text = trove_strndup(doc->text, doc->text_len);
  f->headings = join_headings(doc);
  f->is_link_hub = doc->is_link_hub;
  bool blocks_ok = true;
  if (doc->n_blocks && (f->blocks = trove_malloc(doc->n_blocks * sizeof *f->blocks))) {
    memcpy(f->blocks, doc->blocks, doc->n_blocks * sizeof *f->blocks);
    f->n_blocks = doc->n_blocks;
  } else {
    blocks_ok = doc->n_blocks == 0;
  }
  trove_doc_destroy(doc);
  if (!f->title || !f->author || !f->description || !f->language || !f->text || !f->headings ||
      !blocks_ok) {
    trove_scan__fields_clear(f);
    return trove_err_set(err, TROVE_ENOMEM, "out of memory extracting a document");
  }
  return 0;
}

/* Adds v to s as 8 bytes, little-endian, whatever the host. */
static void hash_u64(trove_sha256_ctx *s, uint64_t v) {
  unsigned char b[8];
  for (int i = 0; i < 8; i++, v >>= 8)
    b[i] = (unsigned char)(v & 0xFF);
  trove_sha256_update(s, b, sizeof b);
}

void trove_scan__text_hash(const scan_fields *f, char out[65]) {
  static const char hex[] = "0123456789abcdef";
  trove_sha256_ctx s;
  trove_sha256_init(&s);
  const char *title = f->title ? f->title : "", *text = f->text ? f->text : "";
  size_t tl = strlen(title), xl = strlen(text);
  /* each part length-prefixed, so no two documents hash the same bytes */
  hash_u64(&s, tl);
  trove_sha256_update(&s, title, tl);
  hash_u64(&s, xl);
  trove_sha256_update(&s, text, xl);
  hash_u64(&s, f->n_blocks);
  for (size_t i = 0; i < f->n_blocks; i++) {
    hash_u64(&s, (uint64_t)f->blocks[i].kind);
    hash_u64(&s, (uint64_t)(int64_t)f->blocks[i].level);
    hash_u64(&s, f->blocks[i].start);
    hash_u64(&s, f->blocks[i].len);
  }
  unsigned char d[TROVE_SHA256_LEN];
  trove_sha256_final(&s, d);
  for (int i = 0; i < TROVE_SHA256_LEN; i++) {
    out[2 * i] = hex[d[i] >> 4];
    out[2 * i + 1] = hex[d[i] & 15];
  }
  out[64] = 0;
}
