/* http.h - vigil watch's HTTP server (libmicrohttpd, its own threads):
 *   GET  /healthz                      200 {"status": "ok", ...} or 503 (no auth)
 *   GET  /metrics                      Prometheus text
 *   GET  /api/cameras                  the cameras' state (JSON)
 *   GET  /api/events[?camera=&since=&limit=]   events, newest first (JSON)
 *   GET  /api/events/ID                one event
 *   POST /api/events/ID/feedback       {"label": "normal"|"anomaly", "note": "..."}
 *   GET  /api/events/ID/snapshot       the heat-map PNG
 *   GET  /api/events/ID/clip           the evidence clip (video/mp4)
 * Everything but /healthz needs "Authorization: Bearer TOKEN" when a token is set (401
 * otherwise, for unknown paths too, before any body is read); the token is compared in
 * constant time. GET routes answer HEAD too. Events are listed 100 at a time unless
 * ?limit= (1 to 1000) says otherwise; since is in Unix seconds. Feedback answers with the
 * event as it now is. Snapshot and clip reads go into the store's access log (who: the
 * client's address) before they are sent; an evidence path that is absolute, has a ".."
 * step or ends in a symbolic link is refused. Errors are JSON {"error": "one line"} with
 * 400 (a bad id, query or body), 401, 403 (evidence outside dir), 404 (no such route,
 * event or file), 405 (with Allow), 413 (a body over 64 KiB), 500, or 503 (no store or
 * metrics registry was given). Every answer says Cache-Control: no-store. */
#ifndef VG_SERVE_HTTP_H
#define VG_SERVE_HTTP_H

#include "serve/metrics.h"
#include "serve/store.h"

/* What the server serves. Any member may be NULL: the routes that need it answer 503
 * (metrics, store, dir), or a default (health: 200 {"status": "ok"}; cameras: []; feedback:
 * only stored). The callbacks run on the server's threads, two at a time at most. */
typedef struct vg_http_handlers {
    vg_metrics *metrics;
    vg_store *store;
    const char *dir;   /* evidence paths in the store are relative to it */
    const char *token; /* NULL: no auth (loopback binds only); never "" */
    /* {"status": "ok"|"degraded"|..., "cameras": [...]} into *json (free()); returns 1
     * when healthy (200) or 0 (503). */
    int (*health)(void *user, char **json);
    /* The cameras' state as a JSON array (free()). */
    char *(*cameras)(void *user);
    /* An operator marked event id label ("normal" or "anomaly"; already stored): e.g. add
     * its frames to the allowlist. VG_OK or an error for the client (500). */
    int (*feedback)(void *user, long long id, const char *label, vg_error *err);
    void *user;
} vg_http_handlers;

typedef struct vg_http vg_http;

/* Listens on bind:port: bind a numeric IPv4 or IPv6 address (NULL: 127.0.0.1), port 0 a
 * free port (see vg_http_port). VG_ERR_ARG for a bad address or port, an empty token, or
 * no token on an address other than loopback; VG_ERR_IO when the address cannot be bound
 * (the message says why). The handlers' pointers must outlive the server. */
int vg_http_start(const char *bind, int port, const vg_http_handlers *h, vg_http **out,
                  vg_error *err);
int vg_http_port(const vg_http *s); /* the port it listens on */
void vg_http_stop(vg_http *s); /* waits for requests in flight; accepts NULL */

#endif
