/* http_api.h - the routes of vigil watch's HTTP API (http.h lists them), apart from the
 * HTTP server: one request in, one response out. http.c turns libmicrohttpd's requests
 * into these structs and the responses back, so the routes know nothing of the server. */
#ifndef VG_SERVE_HTTP_API_H
#define VG_SERVE_HTTP_API_H

#include <stddef.h>

#include "serve/http.h"

typedef struct vg_http_request {
    const char *method;        /* "GET", "POST", ... */
    const char *path;          /* decoded, without the query string */
    const char *authorization; /* the Authorization header, or NULL */
    const char *client;        /* the client's address, for the access log */
    const char *body;          /* the request body, 0-terminated, len bytes (may be NULL) */
    size_t len;
    /* The query argument key (decoded), or NULL when absent. */
    const char *(*query)(void *ctx, const char *key);
    void *ctx;
} vg_http_request;

typedef struct vg_http_response {
    int status;                /* an HTTP status code */
    const char *type;          /* Content-Type (a static string) */
    char *body;                /* malloc()ed, len bytes; NULL: empty */
    size_t len;
    int fd;                    /* >= 0: send this open file of size bytes instead of body;
                                  the response owns it */
    long long size;
    const char *allow;         /* 405: the methods the path takes, for the Allow header */
} vg_http_response;

/* Whether a request for path with this Authorization header (may be NULL) may go on:
 * always without a token and for /healthz, else "Bearer TOKEN" (the scheme in any case),
 * compared in constant time. The server asks before reading a body, so a stranger cannot
 * make it buffer one. */
int vg_http_authorized(const vg_http_handlers *h, const char *path, const char *authorization);

/* Answers req into *res (which it fills in whole): authorisation, routing, the handler.
 * Never fails: any problem is an error response. Called from the server's threads,
 * several at a time. */
void vg_http_route(const vg_http_handlers *h, const vg_http_request *req,
                   vg_http_response *res);

#endif
