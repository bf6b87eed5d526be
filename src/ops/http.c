/*
 * http: /metrics, /healthz, /readyz on libmicrohttpd. See http.h.
 *
 * The listening socket is made here rather than by libmicrohttpd so that a
 * failure says why ("address already in use") instead of a bare NULL.
 */
#include "ops/http.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Connection limits; see the MHD_start_daemon call. */
#define HTTP_IDLE_TIMEOUT_S 5
#define HTTP_PER_IP 16
#define HTTP_TOTAL 512

struct http_server {
    struct MHD_Daemon *daemon;
    http_config cfg;
    int port;
};

static void set_err(char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t err_size, const char *fmt, ...)
{
    va_list ap;

    if (!err || !err_size)
        return;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
}

int http_parse_listen(const char *listen, struct sockaddr_storage *addr,
                      socklen_t *addr_len, char *err, size_t err_size)
{
    char host[256];
    const char *colon, *port_s;
    struct addrinfo hints, *res = NULL;
    char *end;
    unsigned long port;
    size_t host_len;
    int rc;

    if (!listen || !*listen)
        goto syntax;
    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (!close || close[1] != ':')
            goto syntax;
        host_len = (size_t)(close - listen - 1);
        memcpy(host, listen + 1, host_len < sizeof(host) ? host_len : 0);
        port_s = close + 2;
    } else {
        colon = strrchr(listen, ':');
        if (!colon || memchr(listen, ':', (size_t)(colon - listen)))
            goto syntax; /* no port, or an unbracketed IPv6 address */
        host_len = (size_t)(colon - listen);
        memcpy(host, listen, host_len < sizeof(host) ? host_len : 0);
        port_s = colon + 1;
    }
    if (host_len >= sizeof(host))
        goto syntax;
    host[host_len] = '\0';
    if (!*port_s || *port_s == '-' || *port_s == '+')
        goto syntax;
    errno = 0;
    port = strtoul(port_s, &end, 10);
    if (*end || errno || port > 65535) {
        set_err(err, err_size, "http listen address '%s': port '%s' is not a "
                "number from 0 to 65535 (0 picks a free port)", listen, port_s);
        return -1;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
    rc = getaddrinfo(*host ? host : "127.0.0.1", port_s, &hints, &res);
    if (rc != 0 || !res) {
        set_err(err, err_size, "http listen address '%s': cannot resolve host "
                "'%s': %s", listen, host, gai_strerror(rc));
        if (res)
            freeaddrinfo(res);
        return -1;
    }
    memcpy(addr, res->ai_addr, res->ai_addrlen);
    *addr_len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;

syntax:
    set_err(err, err_size, "http listen address '%s': expected HOST:PORT, "
            "e.g. 127.0.0.1:9464, [::1]:9464 or :9464 (port 0 picks a free "
            "port)", listen ? listen : "");
    return -1;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status,
                             const char *content_type, char *body, size_t len,
                             enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;

    resp = MHD_create_response_from_buffer(len, body, mode);
    if (!resp) {
        if (mode == MHD_RESPMEM_MUST_FREE)
            free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET");
    ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn,
                                  unsigned status, const char *text)
{
    return reply(conn, status, "text/plain; charset=utf-8", (char *)text,
                 strlen(text), MHD_RESPMEM_MUST_COPY);
}

static enum MHD_Result serve_metrics(http_server *hs,
                                     struct MHD_Connection *conn)
{
    char *body;
    size_t len = 0;

    if (!hs->cfg.metrics)
        return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                          "no metrics registry\n");
    body = metrics_render(hs->cfg.metrics, &len);
    if (!body)
        return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
                          "out of memory rendering metrics\n");
    return reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
                 body, len, MHD_RESPMEM_MUST_FREE);
}

static enum MHD_Result serve_ready(http_server *hs,
                                   struct MHD_Connection *conn)
{
    char reason[200] = "", body[256];

    if (!hs->cfg.ready || hs->cfg.ready(hs->cfg.ready_opaque, reason,
                                        sizeof(reason)))
        return reply_text(conn, MHD_HTTP_OK, "ready\n");
    snprintf(body, sizeof(body), "not ready: %s\n",
             reason[0] ? reason : "unknown reason");
    return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, body);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn,
                              const char *url, const char *method,
                              const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    http_server *hs = cls;

    /* Answering on the first call is fine for bodiless GETs; anything
     * with a body is refused before it is read. */
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
        return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
                          "method not allowed: use GET\n");
    if (strcmp(url, "/metrics") == 0)
        return serve_metrics(hs, conn);
    if (strcmp(url, "/healthz") == 0)
        return reply_text(conn, MHD_HTTP_OK, "ok\n");
    if (strcmp(url, "/readyz") == 0)
        return serve_ready(hs, conn);
    if (hs->cfg.route) {
        char *body = NULL;
        size_t len = 0;
        const char *ctype = NULL;
        int r = hs->cfg.route(hs->cfg.route_opaque, url, &body, &len, &ctype);
        if (r > 0)
            return reply(conn, MHD_HTTP_OK, ctype, body, len, MHD_RESPMEM_MUST_FREE);
        if (r < 0)
            return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
    }
    return reply_text(conn, MHD_HTTP_NOT_FOUND,
                      "not found: try /metrics, /healthz or /readyz\n");
}

http_server *http_start(const http_config *cfg, char *err, size_t err_size)
{
    const char *listen_s = cfg->listen ? cfg->listen : HTTP_DEFAULT_LISTEN;
    struct sockaddr_storage addr, bound;
    socklen_t addr_len, bound_len = sizeof(bound);
    http_server *hs = NULL;
    int fd = -1, one = 1;

    if (http_parse_listen(listen_s, &addr, &addr_len, err, err_size))
        return NULL;
    hs = calloc(1, sizeof(*hs));
    if (!hs) {
        set_err(err, err_size, "http: out of memory");
        return NULL;
    }
    hs->cfg = *cfg;
    hs->cfg.listen = NULL; /* not ours to keep */

    fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        set_err(err, err_size, "http %s: socket: %s", listen_s, strerror(errno));
        goto err;
    }
    /* A restart must not wait out TIME_WAIT connections of the old one. */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&addr, addr_len) != 0) {
        set_err(err, err_size, "http %s: cannot bind: %s%s", listen_s,
                strerror(errno), errno == EADDRINUSE ?
                " (another process listens there; pick another port)" : "");
        goto err;
    }
    if (listen(fd, 128) != 0) {
        set_err(err, err_size, "http %s: listen: %s", listen_s, strerror(errno));
        goto err;
    }
    if (getsockname(fd, (struct sockaddr *)&bound, &bound_len) != 0) {
        set_err(err, err_size, "http %s: getsockname: %s", listen_s,
                strerror(errno));
        goto err;
    }
    hs->port = ntohs(bound.ss_family == AF_INET6
                         ? ((struct sockaddr_in6 *)&bound)->sin6_port
                         : ((struct sockaddr_in *)&bound)->sin_port);

    hs->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
            (addr.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
        (uint16_t)hs->port, NULL, NULL, handle, hs,
        MHD_OPTION_LISTEN_SOCKET, fd,
        /* Slowloris (issue 12 item 4): the timeout is an idle timeout that
         * every byte resets, and libmicrohttpd 0.9.75 has no absolute
         * request deadline, so a client trickling a byte a second keeps its
         * slot. A per-address cap bounds what one client holds; the total
         * is raised far above it (a slot is a descriptor and a few KiB) so
         * probes and scrapes from other addresses (kubelet, Prometheus)
         * always find one: it takes HTTP_TOTAL / HTTP_PER_IP addresses to
         * lock them out, not one. The short timeout frees slots of clients
         * that stop sending altogether. Limit left: a slow client on the
         * prober's own address can still exhaust that address's share. */
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_IDLE_TIMEOUT_S,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)HTTP_PER_IP,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_TOTAL,
        MHD_OPTION_END);
    if (!hs->daemon) {
        set_err(err, err_size, "http %s: libmicrohttpd could not start its "
                "server thread", listen_s);
        goto err;
    }
    return hs;

err:
    if (fd >= 0)
        close(fd);
    free(hs);
    return NULL;
}

int http_port(const http_server *hs)
{
    return hs->port;
}

void http_stop(http_server *hs)
{
    if (!hs)
        return;
    MHD_stop_daemon(hs->daemon); /* closes the listening socket too */
    free(hs);
}
