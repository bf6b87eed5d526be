/*
 * http: listen-address parsing, and a server on a free port answering
 * /metrics, /healthz, /readyz, unknown paths and other methods over a plain
 * socket, with exact status codes, headers and bodies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "ops/http.h"
#include "ops/metrics.h"

/* ---- a minimal HTTP/1.0 client ---- */

typedef struct http_reply {
    int status;
    char head[2048];  /* status line and headers */
    char *body;       /* NUL-terminated, malloc'ed */
    size_t body_len;
} http_reply;

static void fetch(int port, const char *method, const char *path,
                  http_reply *r)
{
    struct sockaddr_in sin;
    char req[512], *buf = NULL, *sep;
    size_t len = 0, cap = 0;
    ssize_t n;
    int fd, req_len;

    memset(r, 0, sizeof(*r));
    fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    req_len = snprintf(req, sizeof(req),
                       "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", method, path);
    assert_int_equal(write(fd, req, (size_t)req_len), req_len);
    for (;;) {
        if (cap - len < 4096) {
            cap = cap ? cap * 2 : 16384;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        n = read(fd, buf + len, cap - len - 1);
        assert_true(n >= 0);
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    sep = strstr(buf, "\r\n\r\n");
    assert_non_null(sep);
    assert_true((size_t)(sep - buf) < sizeof(r->head));
    memcpy(r->head, buf, (size_t)(sep - buf));
    r->head[sep - buf] = '\0';
    assert_int_equal(sscanf(buf, "HTTP/1.%*d %d ", &r->status), 1);
    r->body_len = len - (size_t)(sep + 4 - buf);
    r->body = malloc(r->body_len + 1);
    assert_non_null(r->body);
    memcpy(r->body, sep + 4, r->body_len + 1);
    free(buf);
}

/* The value of a header (case-insensitive name), or NULL. */
static const char *header(const http_reply *r, const char *name, char *out,
                          size_t out_size)
{
    const char *p = r->head;
    size_t nl = strlen(name);

    while ((p = strstr(p, "\r\n"))) {
        p += 2;
        if (!strncasecmp(p, name, nl) && p[nl] == ':') {
            const char *v = p + nl + 1, *end;
            while (*v == ' ')
                v++;
            end = strstr(v, "\r\n");
            if (!end)
                end = v + strlen(v);
            snprintf(out, out_size, "%.*s", (int)(end - v), v);
            return out;
        }
    }
    return NULL;
}

/* ---- listen addresses ---- */

static void test_parse_listen(void **state)
{
    struct sockaddr_storage ss;
    socklen_t len;
    char err[256], text[64];

    (void)state;
    assert_int_equal(http_parse_listen("127.0.0.1:9464", &ss, &len, err, sizeof(err)), 0);
    assert_int_equal(ss.ss_family, AF_INET);
    assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 9464);
    inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, text, sizeof(text));
    assert_string_equal(text, "127.0.0.1");

    assert_int_equal(http_parse_listen(":0", &ss, &len, err, sizeof(err)), 0);
    assert_int_equal(ss.ss_family, AF_INET);
    assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 0);
    inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, text, sizeof(text));
    assert_string_equal(text, "127.0.0.1"); /* empty host: loopback, not any */

    assert_int_equal(http_parse_listen("0.0.0.0:65535", &ss, &len, err, sizeof(err)), 0);
    assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 65535);

    assert_int_equal(http_parse_listen("[::1]:8080", &ss, &len, err, sizeof(err)), 0);
    assert_int_equal(ss.ss_family, AF_INET6);
    assert_int_equal(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 8080);
    assert_int_equal(len, sizeof(struct sockaddr_in6));

    assert_int_equal(http_parse_listen("9464", &ss, &len, err, sizeof(err)), -1);
    assert_string_equal(err, "http listen address '9464': expected HOST:PORT, "
                             "e.g. 127.0.0.1:9464, [::1]:9464 or :9464 (port 0 "
                             "picks a free port)");
    static const char *const syntax[] = {
        "", "::1:80", "[::1]80", "[::1", "127.0.0.1:", "127.0.0.1:+80",
        "127.0.0.1:-1",
    };
    for (size_t i = 0; i < sizeof(syntax) / sizeof(syntax[0]); i++) {
        err[0] = '\0';
        assert_int_equal(http_parse_listen(syntax[i], &ss, &len, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "expected HOST:PORT"));
    }
    assert_int_equal(http_parse_listen("127.0.0.1:65536", &ss, &len, err, sizeof(err)), -1);
    assert_string_equal(err, "http listen address '127.0.0.1:65536': port '65536' "
                             "is not a number from 0 to 65535 (0 picks a free port)");
    assert_int_equal(http_parse_listen("127.0.0.1:80x", &ss, &len, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "port '80x' is not a number"));
}

/* ---- the server ---- */

typedef struct readiness {
    atomic_int rules_loaded, partitions;
} readiness;

static int ready_cb(void *opaque, char *reason, size_t reason_size)
{
    readiness *r = opaque;

    if (!atomic_load(&r->rules_loaded)) {
        snprintf(reason, reason_size, "rules not loaded");
        return 0;
    }
    if (!atomic_load(&r->partitions)) {
        snprintf(reason, reason_size, "no partitions assigned");
        return 0;
    }
    return 1;
}

static void test_server_routes(void **state)
{
    static const char *const rules[] = {"wait.on_hold"};
    readiness rd = {0, 0};
    char err[256] = "", h[128];
    metrics *m = metrics_new(1, err, sizeof(err));
    http_config cfg = {"127.0.0.1:0", m, ready_cb, &rd, NULL, NULL};
    http_server *hs, *other;
    metrics_rules *mr;
    http_reply r;
    char *expected;
    int port;

    (void)state;
    assert_non_null(m);
    hs = http_start(&cfg, err, sizeof(err));
    assert_non_null(hs);
    port = http_port(hs);
    assert_true(port > 0 && port < 65536);

    /* /metrics is exactly the registry's rendering, with its type. */
    mr = metrics_rules_new(m, "v7", 1, rules, 0, NULL, err, sizeof(err));
    assert_non_null(mr);
    metrics_consumed(metrics_shard_get(m, 0), 7);
    metrics_rule_matched(metrics_shard_get(m, 0), mr, 0);
    fetch(port, "GET", "/metrics", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(header(&r, "Content-Type", h, sizeof(h)),
                        "text/plain; version=0.0.4; charset=utf-8");
    expected = metrics_render(m, NULL);
    assert_string_equal(r.body, expected);
    assert_non_null(strstr(r.body, "\nearshot_consumed_total 7\n"));
    assert_non_null(strstr(r.body, "\nearshot_rule_matches_total{rule=\"wait.on_hold\"} 1\n"));
    assert_non_null(strstr(r.body, "\nearshot_rules_info{version=\"v7\"} 1\n"));
    free(expected);
    free(r.body);

    /* A query string does not change the resource. */
    fetch(port, "GET", "/metrics?debug=1", &r);
    assert_int_equal(r.status, 200);
    free(r.body);

    fetch(port, "GET", "/healthz", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "ok\n");
    free(r.body);

    fetch(port, "GET", "/readyz", &r);
    assert_int_equal(r.status, 503);
    assert_string_equal(r.body, "not ready: rules not loaded\n");
    free(r.body);
    atomic_store(&rd.rules_loaded, 1);
    fetch(port, "GET", "/readyz", &r);
    assert_int_equal(r.status, 503);
    assert_string_equal(r.body, "not ready: no partitions assigned\n");
    free(r.body);
    atomic_store(&rd.partitions, 3);
    fetch(port, "GET", "/readyz", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "ready\n");
    free(r.body);

    fetch(port, "GET", "/nope", &r);
    assert_int_equal(r.status, 404);
    assert_string_equal(r.body, "not found: try /metrics, /healthz or /readyz\n");
    free(r.body);
    fetch(port, "GET", "/metrics/", &r);
    assert_int_equal(r.status, 404);
    free(r.body);

    fetch(port, "POST", "/metrics", &r);
    assert_int_equal(r.status, 405);
    assert_string_equal(header(&r, "Allow", h, sizeof(h)), "GET");
    assert_string_equal(r.body, "method not allowed: use GET\n");
    free(r.body);
    fetch(port, "DELETE", "/healthz", &r);
    assert_int_equal(r.status, 405);
    free(r.body);

    /* The port is taken: a second server says so. */
    {
        char listen_s[32];
        snprintf(listen_s, sizeof(listen_s), "127.0.0.1:%d", port);
        cfg.listen = listen_s;
        other = http_start(&cfg, err, sizeof(err));
        assert_null(other);
        assert_non_null(strstr(err, "cannot bind: Address already in use"));
        assert_non_null(strstr(err, listen_s));
    }

    http_stop(hs);
    metrics_rules_release(mr);
    metrics_free(m);
}

/* A route callback (the care dashboard's hook): its answers for its paths,
 * the built-in paths untouched, 404 when it declines, 500 when it fails. */
static int route_cb(void *opaque, const char *path, char **body, size_t *len,
                    const char **content_type)
{
    int *calls = opaque;
    (*calls)++;
    if (!strcmp(path, "/fail"))
        return -1;
    if (strcmp(path, "/") && strcmp(path, "/api/x"))
        return 0;
    *body = strdup(!strcmp(path, "/") ? "<!doctype html>" : "{\"ok\":true}");
    *len = strlen(*body);
    *content_type = !strcmp(path, "/") ? "text/html; charset=utf-8" : "application/json";
    return 1;
}

static void test_server_route(void **state)
{
    char err[256] = "", h[128];
    int calls = 0;
    http_config cfg = {"127.0.0.1:0", NULL, NULL, NULL, route_cb, &calls};
    http_server *hs = http_start(&cfg, err, sizeof(err));
    http_reply r;
    (void)state;

    assert_non_null(hs);
    fetch(http_port(hs), "GET", "/", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(header(&r, "Content-Type", h, sizeof(h)), "text/html; charset=utf-8");
    assert_string_equal(r.body, "<!doctype html>");
    free(r.body);
    fetch(http_port(hs), "GET", "/api/x", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(header(&r, "Content-Type", h, sizeof(h)), "application/json");
    assert_string_equal(r.body, "{\"ok\":true}");
    free(r.body);
    fetch(http_port(hs), "GET", "/healthz", &r); /* built-in: the route is not asked */
    assert_int_equal(r.status, 200);
    free(r.body);
    assert_int_equal(calls, 2);
    fetch(http_port(hs), "GET", "/api/y", &r);
    assert_int_equal(r.status, 404);
    free(r.body);
    fetch(http_port(hs), "GET", "/fail", &r);
    assert_int_equal(r.status, 500);
    free(r.body);
    fetch(http_port(hs), "POST", "/api/x", &r); /* GET only, as everywhere */
    assert_int_equal(r.status, 405);
    free(r.body);
    assert_int_equal(calls, 4);
    http_stop(hs);
}

static void test_server_without_callbacks(void **state)
{
    char err[256] = "";
    http_config cfg = {"127.0.0.1:0", NULL, NULL, NULL, NULL, NULL};
    http_server *hs;
    http_reply r;

    (void)state;
    hs = http_start(&cfg, err, sizeof(err));
    assert_non_null(hs);
    fetch(http_port(hs), "GET", "/readyz", &r);
    assert_int_equal(r.status, 200); /* no readiness callback: ready */
    free(r.body);
    fetch(http_port(hs), "GET", "/metrics", &r);
    assert_int_equal(r.status, 503); /* no registry */
    assert_string_equal(r.body, "no metrics registry\n");
    free(r.body);
    http_stop(hs);
    http_stop(NULL);

    cfg.listen = "127.0.0.1";
    assert_null(http_start(&cfg, err, sizeof(err)));
    assert_non_null(strstr(err, "expected HOST:PORT"));
}

/* ---- slowloris (issue 12 item 4) ---- */

#define SLOW_CLIENTS 80

/* A connection from source address src (127.0.0.x) that sends the start of
 * a request and never finishes it. -1 if the server refused it. */
static int slow_open(int port, const char *src)
{
    struct sockaddr_in sin;
    static const char start[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    assert_int_equal(inet_pton(AF_INET, src, &sin.sin_addr), 1);
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    sin.sin_port = htons((uint16_t)port);
    assert_int_equal(inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr), 1);
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
        send(fd, start, sizeof(start) - 1, MSG_NOSIGNAL) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* GET /healthz with a 2 s deadline; returns the status, 0 on timeout or a
 * closed connection. */
static int probe_healthz(int port, double *seconds)
{
    struct sockaddr_in sin;
    struct timeval tv = {2, 0};
    struct timespec t0, t1;
    static const char req[] = "GET /healthz HTTP/1.0\r\n\r\n";
    char buf[512];
    size_t len = 0;
    ssize_t n;
    int status = 0, fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
        send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof(req) - 1)) {
        while (len < sizeof(buf) - 1 &&
               (n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0)) > 0)
            len += (size_t)n;
        buf[len] = '\0';
        if (sscanf(buf, "HTTP/1.%*d %d ", &status) != 1)
            status = 0;
    }
    close(fd);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    *seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    return status;
}

/* 80 connections that trickle a header byte a second (one client address,
 * 127.0.0.2) must not keep a prober (127.0.0.1: kubelet, Prometheus) from
 * /healthz: each probe answers 200 within 2 s, while the trickle goes on
 * for longer than the connection timeout. */
static void test_server_slowloris(void **state)
{
    char err[256] = "";
    http_config cfg = {"127.0.0.1:0", NULL, NULL, NULL, NULL, NULL};
    int fds[SLOW_CLIENTS], held = 0;
    http_server *hs;

    (void)state;
    hs = http_start(&cfg, err, sizeof(err));
    assert_non_null(hs);
    for (int i = 0; i < SLOW_CLIENTS; i++)
        fds[i] = slow_open(http_port(hs), "127.0.0.2");
    for (int round = 0; round < 5; round++) {
        double secs;
        int status;

        held = 0;
        for (int i = 0; i < SLOW_CLIENTS; i++) {
            if (fds[i] >= 0 && send(fds[i], "a", 1, MSG_NOSIGNAL) == 1)
                held++;
        }
        status = probe_healthz(http_port(hs), &secs);
        if (status != 200 || secs > 2.0)
            fail_msg("round %d: /healthz status %d after %.2f s with %d slow "
                     "connections open", round, status, secs, held);
        sleep(1);
    }
    for (int i = 0; i < SLOW_CLIENTS; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    http_stop(hs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_listen),
        cmocka_unit_test(test_server_routes),
        cmocka_unit_test(test_server_without_callbacks),
        cmocka_unit_test(test_server_route),
        cmocka_unit_test(test_server_slowloris),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
