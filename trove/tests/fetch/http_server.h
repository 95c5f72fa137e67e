/* http_server.h: a small threaded HTTP/1.1 server for the fetcher's tests.
 * It listens on 127.0.0.1 at an ephemeral port, reads GET requests (with
 * keep-alive), and hands each to a handler the test scripts. One thread
 * accepts, one thread serves each connection; http_server_stop ends and
 * joins them all, so nothing outlives the test. A real server over real
 * sockets, so curl is exercised as it is in production, not mocked.
 */
#ifndef TEST_HTTP_SERVER_H
#define TEST_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>

typedef struct http_server http_server;
typedef struct http_conn http_conn;

typedef struct http_req {
  char method[16];
  char path[1024];
  char headers[8192]; /* the raw header lines, NUL-terminated */
} http_req;

/* Serves one request: writes a response with http_respond or http_send.
 * Returns true to keep the connection open for the next request (only
 * after a response with a Content-Length). Runs on a connection thread. */
typedef bool (*http_handler)(void *ctx, const http_req *req, http_conn *c);

/* Starts a server; *port gets its port. NULL on failure (printed). */
http_server *http_server_start(http_handler handler, void *ctx, int *port);

/* Stops accepting, shuts every connection down, joins every thread and
 * frees the server. Handlers blocked in http_pause return at once. */
void http_server_stop(http_server *s);

/* Copies the value of request header name (case-insensitive) into out;
 * false when absent. */
bool http_req_header(const http_req *r, const char *name, char *out, size_t out_size);

/* Writes n bytes; false when the peer is gone or the server is stopping. */
bool http_send(http_conn *c, const void *p, size_t n);

/* Writes a whole response: status line, extra header lines (each ending in
 * \r\n, or NULL), Content-Type (NULL: none), Content-Length and body. */
bool http_respond(http_conn *c, int status, const char *extra, const char *type,
                  const void *body, size_t len);

/* Waits ms milliseconds in short steps; false (at once) when the server is
 * stopping. For slow responses; never used as synchronisation. */
bool http_pause(http_conn *c, int ms);

#endif /* TEST_HTTP_SERVER_H */
