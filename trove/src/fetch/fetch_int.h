/* fetch_int.h: what fetch.c (the multi driver) uses from policy.c (what may
 * be fetched and how an answer is judged). Not part of trove's interface. */
#ifndef TROVE_FETCH_INTERNAL_H
#define TROVE_FETCH_INTERNAL_H

#include "fetch.h"

#include <curl/curl.h>

/* True when a Content-Type names a body we keep: HTML, XHTML, plain text
 * or Markdown, with any parameters (";charset=..."). A missing type (NULL)
 * counts as text: the extractor checks UTF-8 and binary content later. */
bool trove_fetch__is_text_type(const char *content_type);

/* Checks that url is an absolute http(s) URL whose host is not blocked.
 * blocked is a NULL-terminated list of lower-case domains. Returns
 * TROVE_FETCH_OK, TROVE_FETCH_BAD_URL, TROVE_FETCH_BLOCKED or
 * TROVE_FETCH_NO_MEMORY, and on failure writes what is wrong to why. */
int trove_fetch__check_url(const char *url, char *const *blocked, char *why, size_t why_size);

/* Resolves a redirect's Location against the URL that sent it. On
 * TROVE_FETCH_OK *out is the absolute URL (free with curl_free); else *out
 * is NULL, the reason is TROVE_FETCH_BAD_REDIRECT or TROVE_FETCH_NO_MEMORY,
 * and why says what is wrong. The result is not checked against the policy:
 * pass it to trove_fetch__check_url. */
int trove_fetch__resolve(const char *base, const char *location, char **out, char *why,
                         size_t why_size);

/* Maps a failed transfer's curl code to a reason (timeouts, size limit,
 * bad URL, memory; everything else is a transient network failure). */
int trove_fetch__reason_for_curl(CURLcode code);

/* The next step a user can take for a failure reason, as a clause to put
 * after the message ("it will be retried on the next scan"). */
const char *trove_fetch__reason_hint(int reason);

#endif /* TROVE_FETCH_INTERNAL_H */
