/* classify.c: reading one file of an fs source and deciding what it is:
 * UTF-8 text, Markdown or HTML, or a skip reason the scan counts (empty,
 * too_large, binary, not_utf8, not_file). Runs on the reader workers of the
 * scan pipeline, so it keeps no state and is safe from any thread.
 *
 * The order of checks is cheapest first: fstat gives empty and too_large
 * without reading; a NUL byte anywhere means binary (the rule git and grep
 * use, on the whole file rather than a prefix, since we read it all anyway);
 * then UTF-8 validation. Before those, a file in another charset is
 * decoded by trove_charset_to_utf8, the decoder web pages go through: HTML
 * by its byte-order mark, <meta> charset or UTF-16 NULs, text and Markdown
 * by its mark or UTF-16 NULs; either, when it is not UTF-8 and says nothing,
 * as windows-1252. A charset found by NULs or taken as windows-1252 is a
 * guess, and flagged (charset_guessed). So every file ends up UTF-8: only a
 * caller that needs the bytes to be UTF-8 already (Bookmarks JSON) refuses
 * a guessed one, as not_utf8. The kind comes from the extension, else from the
 * first bytes ("<!doctype html" or "<html"). Markdown front matter is NOT
 * parsed here: trove_extract_markdown owns it.
 *
 * The size is checked twice: by fstat, and by reading at most cap + 1 bytes,
 * so a file that grows while read is still caught.
 */
#include "sources.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

const char *trove_skip_name(trove_skip s) {
  switch (s) {
  case TROVE_SKIP_NONE: return "";
  case TROVE_SKIP_EMPTY: return "empty";
  case TROVE_SKIP_TOO_LARGE: return "too_large";
  case TROVE_SKIP_BINARY: return "binary";
  case TROVE_SKIP_NOT_UTF8: return "not_utf8";
  case TROVE_SKIP_NOT_FILE: return "not_file";
  default: return "unknown";
  }
}

void trove_skip_count(trove_skip_counts *c, trove_skip s) {
  if (c && (unsigned)s < TROVE_SKIP_COUNT_)
    /* Relaxed: a statistic, read only after the counting threads joined. */
    atomic_fetch_add_explicit(&c->n[s], 1, memory_order_relaxed);
}

static bool has_ext(const char *path, const char *const *exts) {
  const char *slash = strrchr(path, '/');
  const char *dot = strrchr(slash ? slash : path, '.');
  if (!dot)
    return false;
  for (; *exts; exts++)
    if (strcasecmp(dot + 1, *exts) == 0)
      return true;
  return false;
}

static bool starts_ci(const char *s, size_t n, const char *prefix) {
  size_t k = strlen(prefix);
  return n >= k && strncasecmp(s, prefix, k) == 0;
}

static trove_content_kind kind_of(const char *path, const char *data, size_t len) {
  static const char *const md[] = {"md", "markdown", "mdown", "mkd", "mkdn", NULL};
  static const char *const html[] = {"html", "htm", "xhtml", NULL};
  if (has_ext(path, md))
    return TROVE_CONTENT_MARKDOWN;
  if (has_ext(path, html))
    return TROVE_CONTENT_HTML;
  size_t i = 0;
  while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
    i++;
  if (starts_ci(data + i, len - i, "<!doctype html") || starts_ci(data + i, len - i, "<html"))
    return TROVE_CONTENT_HTML;
  return TROVE_CONTENT_TEXT;
}

/* Reads up to cap + 1 bytes of fd into a new NUL-terminated buffer. Returns
 * 0, TROVE_EIO (errno kept) or TROVE_ENOMEM. *len > cap means too large. */
static int read_capped(int fd, size_t hint, size_t cap, char **out, size_t *len) {
  size_t want = cap + 1;                       /* cap <= SIZE_MAX / 2: no overflow */
  size_t size = hint < want ? hint + 1 : want; /* +1: see growth */
  size_t used = 0;
  char *buf = trove_malloc(size + 1);
  if (!buf)
    return TROVE_ENOMEM;
  for (;;) {
    if (used == size) { /* the file grew past its fstat size */
      if (size >= want)
        break;
      size_t bigger = size > want / 2 ? want : size * 2;
      char *nb = trove_realloc(buf, bigger + 1);
      if (!nb) {
        trove_free(buf);
        return TROVE_ENOMEM;
      }
      buf = nb, size = bigger;
    }
    ssize_t r = read(fd, buf + used, size - used);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      int e = errno;
      trove_free(buf);
      errno = e;
      return TROVE_EIO;
    }
    if (r == 0)
      break;
    used += (size_t)r;
  }
  buf[used] = '\0';
  *out = buf;
  *len = used;
  return 0;
}

/* Replaces *data by its UTF-8 decoding when it is in another charset
 * (trove_charset_to_utf8: a page by its mark, <meta> or NULs, text by its
 * mark or NULs; either, when not UTF-8 and declaring nothing, guessed as
 * windows-1252). 0 or TROVE_ENOMEM (*data kept). */
static int decode(const char *path, char **data, size_t *len, trove_file *f) {
  unsigned flags = TROVE_CHARSET_GUESS_1252 |
                   (kind_of(path, *data, *len) == TROVE_CONTENT_HTML ? TROVE_CHARSET_HTML
                                                                     : TROVE_CHARSET_GUESS_UTF16);
  char *utf8 = NULL;
  size_t n = 0;
  int rc = trove_charset_to_utf8(*data, *len, NULL, flags, &utf8, &n, &f->charset_guessed);
  if (rc || !utf8)
    return rc;
  trove_free(*data);
  *data = utf8, *len = n;
  return 0;
}

/* Fills f from the bytes read: a skip reason, or the data and its kind.
 * 0 or TROVE_ENOMEM (f untouched, data freed). */
static int classify(const char *path, char *data, size_t len, size_t cap, trove_file *f) {
  if (len > 0 && len <= cap && decode(path, &data, &len, f) != 0) {
    trove_free(data);
    return TROVE_ENOMEM;
  }
  f->skip = len == 0                       ? TROVE_SKIP_EMPTY
            : len > cap                    ? TROVE_SKIP_TOO_LARGE
            : memchr(data, '\0', len)      ? TROVE_SKIP_BINARY
            : !trove_utf8_valid(data, len) ? TROVE_SKIP_NOT_UTF8
                                           : TROVE_SKIP_NONE;
  if (f->skip == TROVE_SKIP_NONE && len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
    memmove(data, data + 3, len - 3 + 1); /* drop a byte-order mark */
    len -= 3;
    if (len == 0)
      f->skip = TROVE_SKIP_EMPTY; /* nothing but the mark */
  }
  if (f->skip != TROVE_SKIP_NONE) {
    trove_free(data);
    f->charset_guessed = false;
    return 0;
  }
  f->data = data;
  f->len = len;
  f->kind = kind_of(path, data, len);
  return 0;
}

int trove_fs_read(const char *path, size_t max_bytes, trove_file *out, trove_err *err) {
  if (!out)
    return trove_err_set(err, TROVE_EINVAL, "trove_fs_read: NULL output");
  memset(out, 0, sizeof *out);
  if (!path)
    return trove_err_set(err, TROVE_EINVAL, "trove_fs_read: NULL path");
  size_t cap = max_bytes && max_bytes < SIZE_MAX / 2 ? max_bytes : SIZE_MAX / 2;
  int rc = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    int e = errno;
    return trove_err_set(err, e == ENOENT ? TROVE_ENOENT : TROVE_EIO, "cannot open %s: %s%s", path,
                         strerror(e), e == EACCES ? "; check its permissions" : "");
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    rc = trove_err_set(err, TROVE_EIO, "cannot stat %s: %s", path, strerror(errno));
    goto out_close_fd;
  }
  if (!S_ISREG(st.st_mode)) {
    out->skip = TROVE_SKIP_NOT_FILE;
    goto out_close_fd;
  }
  if (st.st_size > 0 && (uint64_t)st.st_size > (uint64_t)cap) {
    out->skip = TROVE_SKIP_TOO_LARGE;
    goto out_close_fd;
  }
  char *data = NULL;
  size_t len = 0;
  rc = read_capped(fd, (size_t)st.st_size, cap, &data, &len);
  if (rc == TROVE_EIO)
    rc = trove_err_set(err, rc, "cannot read %s: %s", path, strerror(errno));
  else if (rc == TROVE_ENOMEM)
    rc = trove_err_set(err, rc, "out of memory reading %s (%lld bytes)", path,
                       (long long)st.st_size);
  else if ((rc = classify(path, data, len, cap, out)))
    rc = trove_err_set(err, rc, "out of memory decoding %s to UTF-8", path);

out_close_fd:
  close(fd);
  return rc;
}

void trove_file_free(trove_file *f) {
  if (!f)
    return;
  trove_free(f->data);
  memset(f, 0, sizeof *f);
}
