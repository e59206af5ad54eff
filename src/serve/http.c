/* http.c - vigil watch's HTTP server: libmicrohttpd with its own pool of threads, turning
 * each request into a vg_http_request for the routes (http_api.c) and their response back.
 *
 * libmicrohttpd calls the access handler several times per request: once with the
 * headers, then once per piece of the body, then once with nothing left, when the answer
 * is due. A request without the token is answered (401) at the headers, so no stranger's
 * body is ever read. A body is kept up to BODY_MAX bytes: one declared larger is refused
 * at the headers too, one that grows larger without declaring its size (chunked) is read
 * to the end and dropped; 413 either way. */
#include "serve/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/status.h"
#include "serve/http_api.h"

#define BODY_MAX (64 * 1024) /* bytes of a request body: feedback is a few hundred */
#define POOL_THREADS 2u      /* requests are short (a query, a rendering, a file by sendfile) */
#define IDLE_TIMEOUT_S 30u   /* a connection silent this long is closed */
#define CONNECTIONS_MAX 64u

struct vg_http {
    struct MHD_Daemon *daemon;
    vg_http_handlers h;
    int port;
};

/* One request's body as it arrives (libmicrohttpd keeps it for us between calls). */
typedef struct upload {
    char *body;
    size_t len;
    int refused; /* 0, or the status to answer instead: 413 (too large), 500 (no memory) */
} upload;

/* ---- responses -------------------------------------------------------------------------- */

/* Queues res (consuming its body or file). Every answer forbids caching: events and
 * evidence are private and change as cameras run. */
static enum MHD_Result send_response(struct MHD_Connection *c, vg_http_response *res) {
    struct MHD_Response *r =
        res->fd >= 0 ? MHD_create_response_from_fd((size_t)res->size, res->fd)
                     : MHD_create_response_from_buffer(res->len, res->body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        if (res->fd >= 0) close(res->fd);
        free(res->body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, res->type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (res->allow) MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, res->allow);
    if (res->status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    enum MHD_Result queued = MHD_queue_response(c, (unsigned)res->status, r);
    MHD_destroy_response(r);
    return queued;
}

/* A body refused: 413 (too large) or 500 (no memory for it). */
static enum MHD_Result send_refusal(struct MHD_Connection *c, int status) {
    char text[96];
    if (status == MHD_HTTP_CONTENT_TOO_LARGE)
        snprintf(text, sizeof text, "{\"error\":\"request body larger than %d bytes\"}", BODY_MAX);
    else snprintf(text, sizeof text, "{\"error\":\"out of memory for the request body\"}");
    vg_http_response res = {.status = status, .type = "application/json", .fd = -1};
    res.body = strdup(text);
    res.len = res.body ? strlen(res.body) : 0;
    return send_response(c, &res);
}

/* ---- requests ----------------------------------------------------------------------------- */

static int declared_too_large(struct MHD_Connection *c) {
    const char *v =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    return v && strtoull(v, NULL, 10) > BODY_MAX;
}

static void take_body(upload *u, const char *data, size_t n) {
    if (u->refused) return; /* reading to the end, dropping it */
    if (n > BODY_MAX - u->len) {
        u->refused = MHD_HTTP_CONTENT_TOO_LARGE;
    } else {
        char *grown = realloc(u->body, u->len + n + 1);
        if (grown) {
            memcpy(grown + u->len, data, n);
            u->len += n;
            grown[u->len] = '\0';
            u->body = grown;
            return;
        }
        u->refused = MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
    free(u->body);
    u->body = NULL;
    u->len = 0;
}

/* The client's address as text, for the access log. */
static void client_address(struct MHD_Connection *c, char *out, size_t cap) {
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = info ? info->client_addr : NULL;
    const void *ip = NULL;
    if (sa && sa->sa_family == AF_INET) ip = &((const struct sockaddr_in *)sa)->sin_addr;
    if (sa && sa->sa_family == AF_INET6) ip = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    if (!ip || !inet_ntop(sa->sa_family, ip, out, (socklen_t)cap)) snprintf(out, cap, "unknown");
}

static const char *query_argument(void *ctx, const char *key) {
    return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, key);
}

static enum MHD_Result answer(vg_http *s, struct MHD_Connection *c, const char *url,
                              const char *method, const upload *u) {
    char client[INET6_ADDRSTRLEN];
    client_address(c, client, sizeof client);
    vg_http_request req = {
        .method = method,
        .path = url,
        .authorization =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
        .client = client,
        .body = u->body,
        .len = u->len,
        .query = query_argument,
        .ctx = c,
    };
    vg_http_response res;
    vg_http_route(&s->h, &req, &res);
    return send_response(c, &res);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_len, void **state) {
    (void)version;
    vg_http *s = cls;
    upload *u = *state;
    if (!u) { /* the headers have arrived: refuse now rather than after reading the body */
        if (!(*state = u = calloc(1, sizeof *u))) return MHD_NO;
        const char *auth =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        if (!vg_http_authorized(&s->h, url, auth)) return answer(s, c, url, method, u);
        return declared_too_large(c) ? send_refusal(c, MHD_HTTP_CONTENT_TOO_LARGE) : MHD_YES;
    }
    if (*data_len) { /* a piece of the body */
        take_body(u, data, *data_len);
        *data_len = 0;
        return MHD_YES;
    }
    return u->refused ? send_refusal(c, u->refused) : answer(s, c, url, method, u);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **state,
                         enum MHD_RequestTerminationCode why) {
    (void)cls;
    (void)c;
    (void)why;
    upload *u = *state;
    if (u) free(u->body);
    free(u);
    *state = NULL;
}

/* ---- the server --------------------------------------------------------------------------- */

/* bind:port as a socket address; 0 when bind is not a numeric IPv4 or IPv6 address. */
static int parse_address(const char *bind, int port, struct sockaddr_storage *addr,
                         int *loopback) {
    memset(addr, 0, sizeof *addr);
    struct sockaddr_in *v4 = (struct sockaddr_in *)addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)addr;
    if (inet_pton(AF_INET, bind, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *loopback = (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
        return 1;
    }
    if (inet_pton(AF_INET6, bind, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *loopback = !memcmp(&v6->sin6_addr, &in6addr_loopback, sizeof in6addr_loopback);
        return 1;
    }
    return 0;
}

static int check_start(const char *bind, int port, const vg_http_handlers *h,
                       struct sockaddr_storage *addr, vg_error *err) {
    int loopback = 0;
    if (!h) return vg_fail(err, VG_ERR_ARG, "vg_http_start: handlers must not be NULL");
    if (port < 0 || port > 65535)
        return vg_fail(err, VG_ERR_ARG, "http port %d: expected 0 (any free port) to 65535", port);
    if (!parse_address(bind, port, addr, &loopback))
        return vg_fail(err, VG_ERR_ARG, "http bind '%s': expected a numeric IPv4 or IPv6 address",
                       bind);
    if (h->token && !*h->token)
        return vg_fail(err, VG_ERR_ARG, "http token is empty: give a token or none at all");
    if (!h->token && !loopback)
        return vg_fail(err, VG_ERR_ARG,
                       "http bind '%s' without a token would open the API to the network: set "
                       "a token (only loopback addresses may go without)", bind);
    return VG_OK;
}

int vg_http_start(const char *bind, int port, const vg_http_handlers *h, vg_http **out,
                  vg_error *err) {
    *out = NULL;
    struct sockaddr_storage addr;
    if (!bind) bind = "127.0.0.1";
    int rc = check_start(bind, port, h, &addr, err);
    if (rc != VG_OK) return rc;
    vg_http *s = calloc(1, sizeof *s);
    if (!s) return vg_fail(err, VG_ERR_NOMEM, "out of memory for the HTTP server");
    s->h = *h;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
    if (addr.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
    errno = 0; /* libmicrohttpd leaves bind()'s reason here when it fails */
    s->daemon = MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE, POOL_THREADS,
        MHD_OPTION_CONNECTION_TIMEOUT, IDLE_TIMEOUT_S, MHD_OPTION_CONNECTION_LIMIT,
        CONNECTIONS_MAX, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
    const union MHD_DaemonInfo *info =
        s->daemon ? MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (!info) {
        const char *why = errno ? strerror(errno) : "the server could not start";
        vg_http_stop(s);
        return vg_fail(err, VG_ERR_IO, "http: cannot listen on %s port %d: %s", bind, port, why);
    }
    s->port = info->port;
    *out = s;
    return VG_OK;
}

int vg_http_port(const vg_http *s) {
    return s ? s->port : 0;
}

void vg_http_stop(vg_http *s) {
    if (!s) return;
    if (s->daemon) MHD_stop_daemon(s->daemon);
    free(s);
}
