/*
 * http: the operations endpoint, a small libmicrohttpd server with its own
 * polling thread:
 *   GET /metrics  200, the registry (metrics_render), Content-Type
 *                 "text/plain; version=0.0.4; charset=utf-8"
 *   GET /healthz  200 "ok\n" while the process serves (liveness)
 *   GET /readyz   200 "ready\n" when the readiness callback says so (or there
 *                 is none), else 503 "not ready: <reason>\n"
 *   other paths   the route callback's answer when there is one (the care
 *                 dashboard: /, /api/...), else 404; methods other than
 *                 GET: 405 with "Allow: GET"
 *
 * It binds 127.0.0.1 unless told otherwise: metrics name brands and rules,
 * which are not for the open network.
 *
 * Thread-safety: the handlers run on libmicrohttpd's thread; they call
 * metrics_render (takes the registry mutex) and the readiness callback,
 * which must therefore be safe to call from another thread. http_start and
 * http_stop are called by the owner (main), once each.
 * Cost: one render per scrape; nothing on the workers' path.
 */
#ifndef EARSHOT_OPS_HTTP_H
#define EARSHOT_OPS_HTTP_H

#include <stddef.h>
#include <sys/socket.h>

#include "ops/metrics.h"

/* Returns 1 when ready; else 0 with a short reason written into reason
 * (e.g. "rules not loaded", "no partitions assigned"). */
typedef int (*http_ready_fn)(void *opaque, char *reason, size_t reason_size);

/* Answers a GET of path: 1 with a malloc'ed body (freed by the server) and
 * its content type (static), 0 when the path is not its own, -1 out of
 * memory (500). Runs on the server's thread. */
typedef int (*http_route_fn)(void *opaque, const char *path, char **body, size_t *len,
                             const char **content_type);

typedef struct http_config {
    const char *listen;     /* "HOST:PORT"; NULL -> HTTP_DEFAULT_LISTEN */
    metrics *metrics;       /* rendered on /metrics; NULL -> 503 there */
    http_ready_fn ready;    /* NULL -> always ready */
    void *ready_opaque;
    http_route_fn route;    /* NULL -> only the paths above */
    void *route_opaque;
} http_config;

#define HTTP_DEFAULT_LISTEN "127.0.0.1:9464"

typedef struct http_server http_server;

/* Parses "HOST:PORT" into an address to bind. HOST is an IPv4 address, a
 * bracketed IPv6 address ("[::1]:9464"), a host name (its first address) or
 * empty (":9464" means 127.0.0.1); PORT is 0..65535, 0 picks a free port.
 * Returns 0, or -1 + err naming the text and what is expected. */
int http_parse_listen(const char *listen, struct sockaddr_storage *addr,
                      socklen_t *addr_len, char *err, size_t err_size);

/* Binds, listens and starts the server thread. NULL + err on failure (bad
 * address, port in use, ...). */
http_server *http_start(const http_config *cfg, char *err, size_t err_size);
/* The port bound (the one picked when PORT was 0). */
int http_port(const http_server *hs);
/* Stops the thread, closes the socket and frees hs. NULL is a no-op. */
void http_stop(http_server *hs);

#endif
