/* json.h: a strict JSON (RFC 8259) parser that builds a read-only tree, and
 * the writer every --json output, web API reply and stored config goes
 * through. trove reads Chromium's Bookmarks file (tens of MB), the embedding
 * model's model.json and vocab.json, and the web API's request bodies with
 * the parser.
 *
 * A parsed document owns every node and string in a few large arena blocks,
 * so freeing it is one call and nodes need no individual frees. Values are
 * read through accessors that accept NULL and wrong types, returning a
 * default, so a lookup chain such as
 *   trove_json_get_str(trove_json_get(root, "roots"), "name", "")
 * never needs a NULL check in between.
 *
 * Threads: a document is immutable after trove_json_parse returns, so any
 * number of threads may read it at once; trove_json_free must not race
 * with readers.
 */
#ifndef TROVE_JSON_H
#define TROVE_JSON_H

#include "core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct trove_json_doc trove_json_doc; /* owns every node */
typedef struct trove_json trove_json;         /* one value inside a doc */

typedef enum trove_json_type {
  TROVE_JSON_NULL,
  TROVE_JSON_FALSE,
  TROVE_JSON_TRUE,
  TROVE_JSON_NUMBER,
  TROVE_JSON_STRING,
  TROVE_JSON_ARRAY,
  TROVE_JSON_OBJECT,
} trove_json_type;

/* Nesting limit used when trove_json_parse is given max_depth 0. Deeper
 * input is rejected (TROVE_ERANGE) instead of exhausting the stack. */
#define TROVE_JSON_DEFAULT_DEPTH 512

/* Parses the len bytes at text as one JSON value (whitespace around it is
 * allowed; anything else after it is an error). The input need not be
 * NUL-terminated and is not referenced after the call.
 *
 * Strict: UTF-8 must be valid (no overlong forms, no encoded surrogates,
 * nothing above U+10FFFF; a leading byte-order mark is an error); no
 * comments, trailing commas, single quotes, NaN or leading zeros. Escapes
 * are decoded, \u surrogate pairs into one code point. A lone surrogate
 * escape (\uD800 without a low half, or a stray \uDC00) decodes to U+FFFD,
 * the replacement character, as a JavaScript string holding one does when
 * encoded as UTF-8. \u0000 gives a NUL byte inside the string (see
 * trove_json_str_len). Duplicate object keys are kept; trove_json_get
 * returns the last, as JavaScript's JSON.parse does.
 *
 * max_depth bounds the nesting of arrays and objects (0: the default;
 * values above 10,000 are taken as 10,000). The parser recurses once per
 * level, at about 150 bytes of C stack each (several times more under
 * ASan): the default needs ~80 KB, so a thread with a small stack passes a
 * smaller max_depth.
 * On success *out owns the tree (free with trove_json_free). Any thread.
 * Returns 0; TROVE_EINVAL for NULL text/out or malformed input, with err
 * giving the byte offset and what was expected ("JSON error at byte 17:
 * expected ',' or '}' after an object member"); TROVE_ERANGE for nesting
 * deeper than max_depth; TROVE_ENOMEM. On failure *out is NULL. */
int trove_json_parse(const char *text, size_t len, size_t max_depth, trove_json_doc **out,
                     trove_err *err);

/* Frees the document and every node and string in it. NULL is fine. */
void trove_json_free(trove_json_doc *doc);

/* The top-level value; valid until trove_json_free. NULL doc gives NULL. */
const trove_json *trove_json_root(const trove_json_doc *doc);

/* ---- reading values ------------------------------------------------------
 * Every function below accepts NULL for the value and then returns its
 * default (NULL, 0, false or the def argument). Returned pointers stay
 * valid until the document is freed. */

/* The value's type; NULL gives TROVE_JSON_NULL. */
trove_json_type trove_json_type_of(const trove_json *v);

/* Number of elements of an array or members of an object; 0 otherwise. */
size_t trove_json_len(const trove_json *v);

/* Element i of an array, or the value of member i of an object (in input
 * order); NULL when v is neither or i is out of range. */
const trove_json *trove_json_at(const trove_json *v, size_t i);

/* The key of member i of an object, NUL-terminated (its byte length in
 * *key_len when not NULL); NULL when v is not an object or i is out of
 * range. */
const char *trove_json_key_at(const trove_json *v, size_t i, size_t *key_len);

/* The value of the last member of object v whose key equals the C string
 * key; NULL when absent or v is not an object. Linear in the member count. */
const trove_json *trove_json_get(const trove_json *v, const char *key);

/* The string's bytes, NUL-terminated (UTF-8, may contain NUL from \u0000);
 * def when v is not a string. */
const char *trove_json_str(const trove_json *v, const char *def);
/* The string's length in bytes; 0 when v is not a string. */
size_t trove_json_str_len(const trove_json *v);

/* The number as a double; def when v is not a number. Numbers beyond the
 * double range parse as +-HUGE_VAL (infinity). */
double trove_json_num(const trove_json *v, double def);

/* True when v is a number whose value is an integer that fits in int64
 * exactly (1, -7, 1e3, 2.0; not 1.5, not 1e300); then *out gets it. */
bool trove_json_int(const trove_json *v, int64_t *out);

/* The integer value when trove_json_int succeeds, def otherwise. */
int64_t trove_json_i64(const trove_json *v, int64_t def);

/* true/false; def for any other type. */
bool trove_json_bool(const trove_json *v, bool def);

/* Shorthands for trove_json_str/num/i64/bool(trove_json_get(obj, key), def). */
const char *trove_json_get_str(const trove_json *obj, const char *key, const char *def);
double trove_json_get_num(const trove_json *obj, const char *key, double def);
int64_t trove_json_get_i64(const trove_json *obj, const char *key, int64_t def);
bool trove_json_get_bool(const trove_json *obj, const char *key, bool def);

/* ---- writing -------------------------------------------------------------- */

/* Appends s (NULL: "") to b as a JSON string literal: quotes, escapes of "
 * and \, and every control a terminal would act on (C0, DEL and the C1
 * range become \u00XX, so the output is safe to print); invalid UTF-8 bytes
 * become \ufffd. 0 or TROVE_ENOMEM. */
int trove_json_quote(trove_buf *b, const char *s);

/* Most nesting a trove_json_out writes. */
#define TROVE_JSON_OUT_DEPTH 16

/* A writer of one JSON value into a trove_buf: it places the commas, keys
 * and brackets, and quotes strings with trove_json_quote. Start it zeroed
 * with b set. Each member of the outermost container goes on a line of
 * its own (one result per line for a reader or `grep`), the rest is
 * compact. Errors are sticky: after the first (memory, nesting past
 * TROVE_JSON_OUT_DEPTH, an end without a start) every call does nothing and
 * trove_json_out_done returns it, so a caller checks once. `key` names the
 * member inside an object and must be NULL inside an array or at the top. */
typedef struct trove_json_out {
  trove_buf *b;
  int rc;                           /* the first error; 0 while none */
  unsigned depth;                   /* containers open */
  char close[TROVE_JSON_OUT_DEPTH]; /* their closing brackets */
  bool more[TROVE_JSON_OUT_DEPTH];  /* a member was written in each */
} trove_json_out;

void trove_json_out_object(trove_json_out *o, const char *key); /* opens { */
void trove_json_out_array(trove_json_out *o, const char *key);  /* opens [ */
void trove_json_out_end(trove_json_out *o);                     /* closes the innermost container */
void trove_json_out_str(trove_json_out *o, const char *key, const char *v); /* NULL: null */
void trove_json_out_int(trove_json_out *o, const char *key, int64_t v);
/* A number with `digits` decimals (digits < 0: %.6g); NaN or infinity is
 * written as null, which JSON has instead. */
void trove_json_out_num(trove_json_out *o, const char *key, double v, int digits);
void trove_json_out_bool(trove_json_out *o, const char *key, bool v);
/* Ends the output with a newline: 0 with every container closed, else the first error
 * (TROVE_ENOMEM, or TROVE_EINVAL for unbalanced or too deep nesting). */
int trove_json_out_done(trove_json_out *o);

#endif /* TROVE_JSON_H */
