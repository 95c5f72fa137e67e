/* core.h: what every trove module shares: error codes with an error record,
 * the one allocation hook (so tests can fail the Nth allocation), and a
 * growable byte buffer. Nothing here knows about SQLite, HTTP or the model.
 *
 * Conventions (the whole of trove follows them):
 * - Actions return 0 or a negative TROVE_E* code. A function that can fail
 *   for a reason a user must act on also takes a `trove_err *` (may be NULL)
 *   and fills it with one line naming the object and the next step, e.g.
 *   "cannot read places.sqlite: database is locked; close Firefox".
 * - Every allocation goes through trove_malloc/trove_calloc/trove_realloc,
 *   and every byte count product is checked with trove_mul_ok first.
 * - Not thread-safe except where stated; an object belongs to one thread at
 *   a time. The allocation hook and trove_strerror are safe from any thread.
 */
#ifndef TROVE_CORE_H
#define TROVE_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- error codes -------------------------------------------------------- */

/* trove's codes run from -2001 down, apart from every code sluice returns
 * (sluice.h: -errno values, and -1001 down), so a sluice code that trove
 * passes on keeps its identity instead of turning into a trove code that
 * happens to have the same number. Each has a message of its own, distinct
 * from sluice's too (error_codes_test). */
enum {
  TROVE_OK = 0,
  TROVE_EINVAL = -2001,       /* bad argument or malformed input */
  TROVE_ENOMEM = -2002,       /* an allocation failed */
  TROVE_EIO = -2003,          /* a read or write failed */
  TROVE_ENOENT = -2004,       /* a file, item or source does not exist */
  TROVE_ECORRUPT = -2005,     /* a file or database is damaged */
  TROVE_EBUSY = -2006,        /* locked by another process */
  TROVE_EEXIST = -2007,       /* already exists */
  TROVE_EUNSUPPORTED = -2008, /* a format, type or version we do not handle */
  TROVE_ENET = -2009,         /* a network transfer failed */
  TROVE_ECANCELED = -2010,    /* stopped on request, or by another error */
  TROVE_ERANGE = -2011,       /* a size or count past its limit */
  TROVE_EDB = -2012,          /* the database refused a statement */
};

/* True when code is one of the TROVE_E* codes above (not 0, not sluice's). */
static inline bool trove_is_trove_code(int code) {
  return code <= TROVE_EINVAL && code >= TROVE_EDB;
}

/* One error with its message. Fill with trove_err_set; clear with
 * trove_err_clear. The message is always NUL-terminated. */
typedef struct trove_err {
  int code;      /* a TROVE_E* code, 0 when clear */
  char msg[512]; /* one line, no trailing newline */
} trove_err;

/* Returns a static English name for a TROVE_E* code ("allocation failed").
 * Any thread. Unknown codes (a sluice code among them: name it with
 * sl_strerror) give "unknown error". */
const char *trove_strerror(int code);

/* Sets err (when not NULL) to code and a printf-formatted message; returns
 * code so a caller can write `return trove_err_set(err, TROVE_EIO, ...)`. A
 * message longer than the buffer is cut. */
int trove_err_set(trove_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like trove_err_set but keeps an error already set: the first cause wins. */
int trove_err_keep(trove_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Clears err (when not NULL). */
void trove_err_clear(trove_err *err);

/* ---- item types ---------------------------------------------------------- */

/* What kind of thing an item is; shared by sources (which make items), the
 * store (which keeps them) and search (which filters on them). */
typedef enum trove_item_type {
  TROVE_ITEM_ANY = 0,      /* a search filter only, never an item's type */
  TROVE_ITEM_LOCAL = 1,    /* a file from an fs source */
  TROVE_ITEM_WEB = 2,      /* a page from browser history */
  TROVE_ITEM_BOOKMARK = 3, /* a bookmarked page */
} trove_item_type;

/* The stored name of a type: "local", "web", "bookmark", "any" for
 * TROVE_ITEM_ANY, "unknown" past the enum. Any thread. */
const char *trove_item_type_name(trove_item_type t);

/* Parses "local", "web" or "bookmark" (a CLI's -t); TROVE_ITEM_ANY when
 * unknown or NULL. Any thread. */
trove_item_type trove_item_type_parse(const char *s);

/* ---- machine ------------------------------------------------------------ */

/* The number of online CPUs, at least 1 (asked of the OS once, then cached).
 * Thread-safe. Callers cap it to what their own structures allow. */
size_t trove_online_cpus(void);

/* ---- SHA-256 (sha256.c) -------------------------------------------------- */

/* FIPS 180-4 SHA-256, to check files against recorded digests (the model's
 * SHA256SUMS) and to tell whether an item's extracted text changed (the
 * scan's text hash). Not for secrets: it makes no effort to run in constant
 * time. */
enum { TROVE_SHA256_LEN = 32 };

/* A running hash: trove_sha256_init, then trove_sha256_update any number of
 * times, then trove_sha256_final. Plain data on the caller's stack; one
 * thread at a time. */
typedef struct trove_sha256_ctx {
  uint32_t h[8];
  uint64_t bytes;        /* bytes hashed so far */
  unsigned char buf[64]; /* a partial block */
  size_t nbuf;
} trove_sha256_ctx;

/* Starts s as the hash of no bytes. */
void trove_sha256_init(trove_sha256_ctx *s);
/* Adds data[0..n) to s. data may be NULL when n is 0. */
void trove_sha256_update(trove_sha256_ctx *s, const void *data, size_t n);
/* Writes the digest of everything added to out; s must be initialised
 * again before further use. */
void trove_sha256_final(trove_sha256_ctx *s, unsigned char out[TROVE_SHA256_LEN]);
/* The digest of data[0..n) in one call. Any thread. */
void trove_sha256(const void *data, size_t n, unsigned char out[TROVE_SHA256_LEN]);

/* ---- small helpers (utf8.c) --------------------------------------------- */

/* Writes code point cp as UTF-8 into out and returns its length (1-4). A
 * value that is not a Unicode scalar (a surrogate, or above U+10FFFF)
 * becomes U+FFFD. */
size_t trove_utf8_encode(uint32_t cp, char out[4]);

/* The length (1-4) of the valid UTF-8 sequence at s[0..n), or 0 when it
 * is invalid or cut short (overlong forms, surrogates and values past
 * U+10FFFF are invalid). An ASCII byte, NUL included, is 1. */
size_t trove_utf8_seq(const char *s, size_t n);

/* True when the n bytes at s are valid UTF-8 (no overlong forms, surrogates
 * or code points past U+10FFFF; NUL allowed). Any thread. */
bool trove_utf8_valid(const char *s, size_t n);

/* A copy of the string s (trove_free) with every byte that is not part of
 * a valid UTF-8 sequence written as the four characters \xNN, as the
 * terminal sanitiser shows it: a file name in a legacy encoding made
 * fit for a title, the FTS index and JSON. NULL for NULL s or out of
 * memory. Any thread. */
char *trove_utf8_escape_dup(const char *s);

/* ---- decoding other charsets to UTF-8 (charset.c) ---------------------- */

/* What trove_charset_to_utf8 may look at besides a byte-order mark and a
 * declared label. */
enum {
  TROVE_CHARSET_HTML = 1,        /* a page: read a <meta> charset in the first
                                    1024 bytes, and sniff BOM-less UTF-16/32
                                    from NULs among the first four bytes */
  TROVE_CHARSET_GUESS_1252 = 2,  /* text that is not valid UTF-8 and declares
                                    nothing is read as windows-1252 */
  TROVE_CHARSET_GUESS_UTF16 = 4, /* sniff BOM-less UTF-16/32 as HTML does, for
                                    text (HTML's sniff and this one also
                                    check that the first 256 units read as
                                    text: no controls, no lone surrogates) */
};

/* Decodes len bytes of s to UTF-8 when they are not UTF-8 already. In order:
 * a UTF-16 or UTF-32 byte-order mark (LE or BE); the charset parameter of
 * content_type (an HTTP Content-Type value, may be NULL) when it names
 * UTF-16/32 and s holds a NUL byte; with TROVE_CHARSET_HTML or
 * TROVE_CHARSET_GUESS_UTF16, BOM-less UTF-16/32 sniffed from NULs among the
 * first four bytes (guessed); valid UTF-8 is left as it is (a UTF-8
 * mark included); a declared ISO-8859-1, US-ASCII or windows-1252 (header,
 * or <meta> with TROVE_CHARSET_HTML) reads s as windows-1252; then the
 * guesses that flags allow. Unpaired surrogates, unassigned bytes and a cut
 * final unit become U+FFFD. When s is decoded, *out is a new NUL-terminated
 * UTF-8 copy (at most 3 bytes per input byte; caller frees with trove_free)
 * of *out_len bytes; else *out is NULL and s is to be read as UTF-8.
 * *guessed (may be NULL) is set when the charset came from a guess, not a
 * mark or a label. Any thread. Returns 0 or TROVE_ENOMEM (*out NULL). */
int trove_charset_to_utf8(const char *s, size_t len, const char *content_type, unsigned flags,
                          char **out, size_t *out_len, bool *guessed);

/* Whether id is in v[0..n), which is sorted ascending (binary search). */
bool trove_ids_contain(const int64_t *v, size_t n, int64_t id);

/* ---- terminal output (term.c) ------------------------------------------- */

/* Every string trove writes for a person to read (names, titles, paths,
 * page text, error messages) goes through these, because any of them can
 * come from a hostile file name, page or browser profile: a raw ESC or C1
 * control could retitle the window, clear the screen or fake output. Each
 * C0 control (but the kept ones below), DEL, C1 control (U+0080..U+009F)
 * and byte that is not valid UTF-8 is written as a visible \xHH per byte
 * (ESC as \x1b); everything else, valid UTF-8 included, as it is. */
typedef enum trove_term_mode {
  TROVE_TERM_LINE = 0, /* one line: \n, \r and \t are escaped too */
  TROVE_TERM_TEXT = 1, /* running text: \n, \t and \r before \n are kept */
} trove_term_mode;

/* Writes s[0..n) to f escaped as above. Any thread (stdio locks f); never
 * allocates. Write errors are left in ferror(f). */
void trove_term_write(FILE *f, const char *s, size_t n, trove_term_mode mode);

/* Formats like fprintf, writes the result escaped as TROVE_TERM_LINE, then
 * one '\n': one line of output whatever the arguments hold. The format's
 * own text is escaped too, so it must not carry control codes. Never fails
 * for memory: an output longer than 4 KB that cannot get a buffer is cut,
 * ending in "...". Any thread. */
void trove_term_line(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void trove_term_vline(FILE *f, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* ---- allocation --------------------------------------------------------- */

/* malloc/calloc/realloc/free through one hook. They return NULL on failure,
 * and trove_realloc leaves the old block valid then. Any thread. */
void *trove_malloc(size_t n);
void *trove_calloc(size_t count, size_t size);
void *trove_realloc(void *p, size_t n);
void trove_free(void *p);
/* Copies s (NULL gives NULL, not a failure: check s first when it matters). */
char *trove_strdup(const char *s);
char *trove_strndup(const char *s, size_t n);

/* True when a*b fits in size_t; stores the product in *out. */
static inline bool trove_mul_ok(size_t a, size_t b, size_t *out) {
  return !__builtin_mul_overflow(a, b, out);
}

/* Tests make the Nth allocation fail with trove_alloc_fail_after
 * (core_test_hooks.h). */

/* ---- growable buffer ---------------------------------------------------- */

/* A byte buffer that stays NUL-terminated, so `data` is also a C string when
 * no NUL was appended. Start it zeroed (`trove_buf b = {0};`). After a failed
 * append the buffer is unchanged and still valid. */
typedef struct trove_buf {
  char *data; /* NULL until the first append */
  size_t len; /* bytes used, not counting the terminating NUL */
  size_t cap; /* bytes allocated */
} trove_buf;

/* Makes room for `extra` more bytes plus the NUL. 0 or TROVE_ENOMEM. */
int trove_buf_reserve(trove_buf *b, size_t extra);
/* Appends n bytes. 0 or TROVE_ENOMEM. */
int trove_buf_append(trove_buf *b, const void *p, size_t n);
/* Appends a C string. 0 or TROVE_ENOMEM. */
int trove_buf_puts(trove_buf *b, const char *s);
/* Appends one byte. 0 or TROVE_ENOMEM. */
int trove_buf_putc(trove_buf *b, char c);
/* Appends printf-formatted text. 0 or TROVE_ENOMEM. */
int trove_buf_printf(trove_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Forgets the contents, keeps the memory. */
void trove_buf_reset(trove_buf *b);
/* Hands the data to the caller (who frees it with trove_free) and empties the
 * buffer. Returns "" copied when nothing was appended; NULL only on ENOMEM. */
char *trove_buf_take(trove_buf *b);
/* Frees the memory; the buffer is empty and reusable after. */
void trove_buf_free(trove_buf *b);

#endif /* TROVE_CORE_H */
