/* http_api.c - the API's routes (http.h lists them): the bearer token, a table of paths
 * and methods, one function per route, and errors as JSON {"error": "one line"}.
 *
 * Evidence files are served only from inside the evidence folder: the store holds paths
 * relative to it, and one that is absolute or has a ".." step is refused (403) rather than
 * trusted, as is a symbolic link at its last step. A read is logged in the store's access
 * log before the file is sent; when the log cannot be written, the file is not sent. */
#include "serve/http_api.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/status.h"

#define JSON_TYPE "application/json"
#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define EVENTS_LIMIT 100      /* events a list returns unless ?limit= says otherwise */
#define EVENTS_LIMIT_MAX 1000
#define QUOTE_MAX 64          /* bytes of a client's value quoted back in an error */

/* ---- responses -------------------------------------------------------------------------- */

/* status with body (malloc()ed, owned from here on); a NULL body means memory ran out. */
static void reply(vg_http_response *res, int status, const char *type, char *body) {
    res->status = body ? status : 500;
    res->type = body ? type : JSON_TYPE;
    res->body = body;
    res->len = body ? strlen(body) : 0;
}

__attribute__((format(printf, 3, 4)))
static void reply_error(vg_http_response *res, int status, const char *fmt, ...) {
    char msg[sizeof ((vg_error *)0)->msg + 128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *o = cJSON_CreateObject();
    char *body = o && cJSON_AddStringToObject(o, "error", msg) ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    reply(res, status, JSON_TYPE, body);
}

/* A store's failure: 404 for an unknown event, 500 for anything else. */
static void reply_store_error(vg_http_response *res, const vg_error *err) {
    reply_error(res, err->code == VG_ERR_MISSING ? 404 : 500, "%s", err->msg);
}

static int need_store(const vg_http_handlers *h, vg_http_response *res) {
    if (!h->store) reply_error(res, 503, "this server has no event store");
    return h->store != NULL;
}

/* ---- authorisation ---------------------------------------------------------------------- */

/* Compares every byte of what the client sent, whatever matched before, so the time taken
 * tells nothing about how much of a guess was right (only its own length). */
static int same_secret(const char *given, const char *secret) {
    size_t n = strlen(given), m = strlen(secret);
    unsigned diff = n != m || m == 0;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)given[i] ^ (unsigned char)secret[m ? i % m : 0];
    return diff == 0;
}

int vg_http_authorized(const vg_http_handlers *h, const char *path, const char *authorization) {
    if (!h->token || !strcmp(path, "/healthz")) return 1;
    const char *a = authorization;
    return a && !strncasecmp(a, "Bearer ", 7) && same_secret(a + 7, h->token);
}

/* ---- query arguments -------------------------------------------------------------------- */

/* The query argument key as a number in [lo, hi] (whole when whole is 1) into *v, left as
 * it is when absent; 0 after answering 400 (expect: what it should be, for the message). */
static int query_number(const vg_http_request *req, const char *key, double lo, double hi,
                        int whole, const char *expect, double *v, vg_http_response *res) {
    const char *text = req->query ? req->query(req->ctx, key) : NULL;
    if (!text) return 1;
    char *end;
    double x = strtod(text, &end);
    if (end == text || *end || !(x >= lo && x <= hi) || (whole && x != floor(x))) {
        reply_error(res, 400, "%s '%.*s': expected %s", key, QUOTE_MAX, text, expect);
        return 0;
    }
    *v = x;
    return 1;
}

/* An event id: a positive decimal number; 0 for anything else. */
static long long parse_id(const char *text, size_t len) {
    long long id = 0;
    if (len == 0 || len > 18) return 0; /* 18 digits cannot overflow */
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9') return 0;
        id = id * 10 + (text[i] - '0');
    }
    return id;
}

/* ---- routes ------------------------------------------------------------------------------- */

static void get_health(const vg_http_handlers *h, const vg_http_request *req, long long id,
                       vg_http_response *res) {
    (void)req;
    (void)id;
    if (!h->health) {
        reply(res, 200, JSON_TYPE, strdup("{\"status\":\"ok\"}"));
        return;
    }
    char *json = NULL;
    int healthy = h->health(h->user, &json);
    reply(res, healthy ? 200 : 503, JSON_TYPE, json);
}

static void get_metrics(const vg_http_handlers *h, const vg_http_request *req, long long id,
                        vg_http_response *res) {
    (void)req;
    (void)id;
    if (!h->metrics) reply_error(res, 503, "this server keeps no metrics");
    else reply(res, 200, METRICS_TYPE, vg_metrics_render(h->metrics));
}

static void get_cameras(const vg_http_handlers *h, const vg_http_request *req, long long id,
                        vg_http_response *res) {
    (void)req;
    (void)id;
    reply(res, 200, JSON_TYPE, h->cameras ? h->cameras(h->user) : strdup("[]"));
}

static void get_events(const vg_http_handlers *h, const vg_http_request *req, long long id,
                       vg_http_response *res) {
    (void)id;
    double since = 0, limit = EVENTS_LIMIT;
    if (!need_store(h, res) ||
        !query_number(req, "since", 0, 1e15, 0, "Unix seconds, a number >= 0", &since, res) ||
        !query_number(req, "limit", 1, EVENTS_LIMIT_MAX, 1, "a whole number from 1 to 1000",
                      &limit, res))
        return;
    const char *camera = req->query ? req->query(req->ctx, "camera") : NULL;
    if (camera && !*camera) camera = NULL; /* ?camera= : all of them */
    char *json = NULL;
    vg_error err = {0};
    if (vg_store_events_json(h->store, camera, since, (int)limit, &json, &err) != VG_OK)
        reply_store_error(res, &err);
    else reply(res, 200, JSON_TYPE, json);
}

static void get_event(const vg_http_handlers *h, const vg_http_request *req, long long id,
                      vg_http_response *res) {
    (void)req;
    char *json = NULL;
    vg_error err = {0};
    if (!need_store(h, res)) return;
    if (vg_store_event_json(h->store, id, &json, &err) != VG_OK) reply_store_error(res, &err);
    else reply(res, 200, JSON_TYPE, json);
}

/* The verdict in a feedback body: *label "normal" or "anomaly", *note a string or NULL
 * (both point into root); 0 after answering 400. */
static int read_feedback(const cJSON *root, const char **label, const char **note,
                         vg_http_response *res) {
    if (!cJSON_IsObject(root)) {
        reply_error(res, 400, "feedback: expected a JSON object {\"label\": \"normal\" or "
                              "\"anomaly\", \"note\": \"...\"}");
        return 0;
    }
    for (const cJSON *item = root->child; item; item = item->next) {
        if (strcmp(item->string, "label") && strcmp(item->string, "note")) {
            reply_error(res, 400, "feedback: unknown key '%.*s' (expected label and note)",
                        QUOTE_MAX, item->string);
            return 0;
        }
    }
    *label = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "label"));
    if (!*label || (strcmp(*label, "normal") && strcmp(*label, "anomaly"))) {
        reply_error(res, 400, "feedback: label must be \"normal\" or \"anomaly\"");
        return 0;
    }
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(root, "note");
    *note = cJSON_GetStringValue(n);
    if (n && !*note && !cJSON_IsNull(n)) {
        reply_error(res, 400, "feedback: note must be a string");
        return 0;
    }
    return 1;
}

static void post_feedback(const vg_http_handlers *h, const vg_http_request *req, long long id,
                          vg_http_response *res) {
    if (!need_store(h, res)) return;
    cJSON *root = cJSON_ParseWithLength(req->body ? req->body : "", req->len);
    const char *label = NULL, *note = NULL;
    vg_error err = {0};
    char *json = NULL;
    if (!read_feedback(root, &label, &note, res)) {
        /* answered */
    } else if (vg_store_set_label(h->store, id, label, note, &err) != VG_OK) {
        reply_store_error(res, &err);
    } else if (h->feedback && h->feedback(h->user, id, label, &err) != VG_OK) {
        reply_error(res, 500, "feedback for event %lld was stored but not acted on: %s", id,
                    err.msg[0] ? err.msg : "the handler failed");
    } else if (vg_store_event_json(h->store, id, &json, &err) != VG_OK) {
        reply_store_error(res, &err);
    } else {
        reply(res, 200, JSON_TYPE, json);
    }
    cJSON_Delete(root);
}

/* ---- evidence files --------------------------------------------------------------------- */

static const struct {
    const char *ext, *type;
} content_types[] = {
    {".png", "image/png"},  {".jpg", "image/jpeg"},       {".jpeg", "image/jpeg"},
    {".mp4", "video/mp4"},  {".mkv", "video/x-matroska"}, {".webm", "video/webm"},
    {".json", JSON_TYPE},
};

static const char *content_type(const char *path) {
    const char *dot = strrchr(path, '.');
    if (dot && !strchr(dot, '/'))
        for (size_t i = 0; i < sizeof content_types / sizeof *content_types; i++)
            if (!strcasecmp(dot, content_types[i].ext)) return content_types[i].type;
    return "application/octet-stream";
}

/* A relative path with no ".." step: it cannot name anything outside its folder. */
static int stays_inside(const char *path) {
    if (!*path || *path == '/') return 0;
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 2 && !strncmp(p, "..", 2)) return 0;
        p += n + (p[n] == '/');
    }
    return 1;
}

static double wall_clock(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Opens dir/path (what: "snapshot" or "clip"), logs the read and makes it the response. */
static void send_file(const vg_http_handlers *h, const vg_http_request *req, const char *path,
                      const char *what, vg_http_response *res) {
    char full[PATH_MAX];
    int n = snprintf(full, sizeof full, "%s/%s", h->dir, path);
    if (n < 0 || (size_t)n >= sizeof full) {
        reply_error(res, 500, "%s path '%.*s' is too long", what, QUOTE_MAX, path);
        return;
    }
    int fd = open(full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0) {
        int e = errno;
        const char *why = e == ENOENT ? "no longer on disk (removed by retention?)"
                          : e == ELOOP ? "is a symbolic link, which is not followed"
                                       : strerror(e);
        reply_error(res, e == ENOENT ? 404 : e == ELOOP ? 403 : 500, "%s '%s': %s", what, path,
                    why);
        return;
    }
    vg_error err = {0};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        reply_error(res, 403, "%s '%s' is not a regular file", what, path);
    } else if (vg_store_log_access(h->store, req->client, path, wall_clock(), &err) != VG_OK) {
        reply_error(res, 500, "%s '%s' not sent: the access log failed: %s", what, path, err.msg);
    } else {
        res->status = 200;
        res->type = content_type(path);
        res->fd = fd;
        res->size = (long long)st.st_size;
        return;
    }
    close(fd);
}

static void send_evidence(const vg_http_handlers *h, const vg_http_request *req, long long id,
                          int want_clip, vg_http_response *res) {
    if (!need_store(h, res)) return;
    if (!h->dir) {
        reply_error(res, 503, "this server has no evidence folder");
        return;
    }
    char *snapshot = NULL, *clip = NULL;
    vg_error err = {0};
    if (vg_store_event_evidence(h->store, id, &snapshot, &clip, &err) != VG_OK) {
        reply_store_error(res, &err);
        return;
    }
    const char *what = want_clip ? "clip" : "snapshot", *path = want_clip ? clip : snapshot;
    if (!path) reply_error(res, 404, "event %lld has no %s", id, what);
    else if (!stays_inside(path))
        reply_error(res, 403, "%s path '%s' of event %lld leaves the evidence folder", what,
                    path, id);
    else send_file(h, req, path, what, res);
    free(snapshot);
    free(clip);
}

static void get_snapshot(const vg_http_handlers *h, const vg_http_request *req, long long id,
                         vg_http_response *res) {
    send_evidence(h, req, id, 0, res);
}

static void get_clip(const vg_http_handlers *h, const vg_http_request *req, long long id,
                     vg_http_response *res) {
    send_evidence(h, req, id, 1, res);
}

/* ---- routing ------------------------------------------------------------------------------ */

typedef void (*route_fn)(const vg_http_handlers *h, const vg_http_request *req, long long id,
                         vg_http_response *res);

/* One path and method each; '#' in a pattern stands for one path segment, an event id. */
static const struct route {
    const char *method, *pattern;
    route_fn handle;
} routes[] = {
    {"GET", "/healthz", get_health},
    {"GET", "/metrics", get_metrics},
    {"GET", "/api/cameras", get_cameras},
    {"GET", "/api/events", get_events},
    {"GET", "/api/events/#", get_event},
    {"POST", "/api/events/#/feedback", post_feedback},
    {"GET", "/api/events/#/snapshot", get_snapshot},
    {"GET", "/api/events/#/clip", get_clip},
};

/* Whether path fits pattern; *seg and *len get the segment '#' stood for (if any). */
static int match(const char *pattern, const char *path, const char **seg, size_t *len) {
    for (; *pattern; pattern++) {
        if (*pattern == '#') {
            *seg = path;
            *len = strcspn(path, "/");
            if (*len == 0) return 0;
            path += *len;
        } else if (*path++ != *pattern) {
            return 0;
        }
    }
    return *path == '\0';
}

/* GET routes answer HEAD too (libmicrohttpd then sends the headers only). */
static int method_fits(const struct route *r, const char *method) {
    return !strcmp(r->method, method) || (!strcmp(r->method, "GET") && !strcmp(method, "HEAD"));
}

void vg_http_route(const vg_http_handlers *h, const vg_http_request *req,
                   vg_http_response *res) {
    *res = (vg_http_response){.fd = -1};
    /* Before routing, so that a stranger learns nothing, not even which paths exist. */
    if (!vg_http_authorized(h, req->path, req->authorization)) {
        reply_error(res, 401, "missing or wrong bearer token (Authorization: Bearer TOKEN)");
        return;
    }
    const struct route *found = NULL;
    const char *seg = NULL;
    size_t len = 0;
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) {
        if (!match(routes[i].pattern, req->path, &seg, &len)) continue;
        found = &routes[i];
        if (method_fits(found, req->method)) break;
        /* each path has one method: no other route can fit it */
        res->allow = strcmp(found->method, "GET") ? found->method : "GET, HEAD";
        reply_error(res, 405, "%s does not take %s (only %s)", req->path, req->method, res->allow);
        return;
    }
    if (!found) {
        reply_error(res, 404, "no such route: %s %.*s", req->method, QUOTE_MAX, req->path);
        return;
    }
    long long id = seg ? parse_id(seg, len) : 0;
    if (seg && !id) {
        reply_error(res, 400, "event id '%.*s': expected a positive whole number",
                    (int)(len < QUOTE_MAX ? len : QUOTE_MAX), seg);
        return;
    }
    found->handle(h, req, id, res);
}
