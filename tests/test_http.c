/* test_http.c - vigil watch's HTTP server, spoken to over loopback with libcurl: health,
 * the bearer token, metrics, events, feedback, evidence downloads and the access log,
 * evidence paths that try to leave the folder, and every error status. */
#include <curl/curl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "serve/http.h"
#include "test.h"

#define TOKEN "s3cret-token"
#define BIG_BODY 70000 /* over the server's 64 KiB body limit */

/* ---- the server's side: handlers that record what they were asked ------------------------- */

typedef struct app {
    int healthy;
    int feedback_calls;
    long long feedback_id;
    char feedback_label[16];
    int feedback_fails;
} app;

static int app_health(void *user, char **json) {
    const app *a = user;
    *json = strdup(a->healthy ? "{\"status\":\"ok\",\"cameras\":[]}"
                              : "{\"status\":\"degraded\",\"cameras\":[]}");
    return a->healthy;
}

static char *app_cameras(void *user) {
    (void)user;
    return strdup("[{\"id\":\"gate\",\"state\":\"running\"}]");
}

static int app_feedback(void *user, long long id, const char *label, vg_error *err) {
    app *a = user;
    a->feedback_calls++;
    a->feedback_id = id;
    snprintf(a->feedback_label, sizeof a->feedback_label, "%s", label);
    if (a->feedback_fails) {
        snprintf(err->msg, sizeof err->msg, "allowlist is full");
        return VG_ERR_IO;
    }
    return VG_OK;
}

/* ---- the client's side -------------------------------------------------------------------- */

typedef struct reply {
    long status;
    char *body; /* 0-terminated */
    size_t len;
    char type[128];
    char allow[64];
    int bearer_challenge; /* a WWW-Authenticate: Bearer header came */
} reply;

typedef struct upload {
    size_t left;
} upload;

static size_t on_body(char *data, size_t size, size_t n, void *user) {
    reply *r = user;
    char *grown = realloc(r->body, r->len + size * n + 1);
    if (!grown) return 0;
    memcpy(grown + r->len, data, size * n);
    r->len += size * n;
    grown[r->len] = '\0';
    r->body = grown;
    return size * n;
}

static size_t on_header(char *data, size_t size, size_t n, void *user) {
    reply *r = user;
    size_t len = size * n;
    if (len > 7 && !strncasecmp(data, "Allow: ", 7))
        snprintf(r->allow, sizeof r->allow, "%.*s", (int)(len - 9), data + 7); /* no CRLF */
    if (len >= 24 && !strncasecmp(data, "WWW-Authenticate: Bearer", 24)) r->bearer_challenge = 1;
    return len;
}

static size_t on_read(char *buf, size_t size, size_t n, void *user) {
    upload *u = user;
    size_t k = size * n < u->left ? size * n : u->left;
    memset(buf, 'x', k);
    u->left -= k;
    return k;
}

static const char *host_of_test = "127.0.0.1"; /* the server spoken to */
static int port_of_test;

/* method path (with its query) with the token (NULL: none; an Authorization header given
 * whole when it has a space), a body (NULL: none) of len bytes, or a chunked body of
 * chunked bytes. The reply's body is to be freed. */
static reply request(const char *method, const char *path, const char *auth, const char *body,
                     size_t len, size_t chunked) {
    reply r = {0};
    CURL *c = curl_easy_init();
    if (!c) return r;
    char url[512], header[256];
    snprintf(url, sizeof url, "http://%s:%d%s", host_of_test, port_of_test, path);
    struct curl_slist *headers = NULL;
    if (auth) {
        snprintf(header, sizeof header, strchr(auth, ' ') ? "Authorization: %s"
                                                          : "Authorization: Bearer %s", auth);
        headers = curl_slist_append(headers, header);
    }
    upload up = {chunked};
    if (chunked) {
        headers = curl_slist_append(headers, "Transfer-Encoding: chunked");
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, &up);
    } else if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
    }
    if (!strcmp(method, "HEAD")) curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(c, CURLOPT_PROXY, ""); /* never through an http_proxy from the environment */
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK) {
        char *type = NULL;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
        curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type);
        if (type) snprintf(r.type, sizeof r.type, "%s", type);
    } else {
        fprintf(stderr, "curl %s %s: %s\n", method, path, curl_easy_strerror(rc));
    }
    if (!r.body) r.body = calloc(1, 1);
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    return r;
}

static reply get(const char *path, const char *auth) {
    return request("GET", path, auth, NULL, 0, 0);
}

static reply post(const char *path, const char *auth, const char *body) {
    return request("POST", path, auth, body, strlen(body), 0);
}

/* The status of method path (body freed); an error's body must be JSON {"error": "..."}. */
static long status_of(const char *method, const char *path, const char *auth, const char *body) {
    reply r = request(method, path, auth, body, body ? strlen(body) : 0, 0);
    if (r.status >= 400) {
        cJSON *o = cJSON_Parse(r.body);
        const char *msg = cJSON_GetStringValue(cJSON_GetObjectItem(o, "error"));
        CHECK(msg && *msg && !strchr(msg, '\n'));
        CHECK(!strcmp(r.type, "application/json"));
        printf("  %-6s %-34s -> %ld %s\n", method, path, r.status, msg ? msg : r.body);
        cJSON_Delete(o);
    }
    free(r.body);
    return r.status;
}

/* ---- the store's contents ----------------------------------------------------------------- */

static void add_event(vg_store *s, long long id, const char *camera, double t,
                      const char *snapshot, const char *clip) {
    char json[256];
    snprintf(json, sizeof json,
             "{\"id\":%lld,\"camera\":\"%s\",\"type\":\"new\",\"start_time\":%g,"
             "\"end_time\":%g,\"peak\":31.5,\"severity\":\"high\"}", id, camera, t, t);
    vg_message m = {.camera = camera, .event_id = id, .kind = "prediction_error",
                    .type = "new", .time = t, .json = json, .snapshot = snapshot, .clip = clip};
    vg_error err = {0};
    CHECK_OK(vg_store_add(s, &m, NULL, 0, NULL, &err), &err);
}

/* The number of events in a JSON array reply, -1 when it is not one. */
static int count_events(const reply *r) {
    cJSON *a = cJSON_Parse(r->body);
    int n = cJSON_IsArray(a) ? cJSON_GetArraySize(a) : -1;
    cJSON_Delete(a);
    return n;
}

/* The id of the first event in a JSON array reply. */
static long long first_id(const reply *r) {
    cJSON *a = cJSON_Parse(r->body);
    const cJSON *id = cJSON_GetObjectItem(cJSON_GetArrayItem(a, 0), "id");
    long long v = cJSON_IsNumber(id) ? (long long)id->valuedouble : -1;
    cJSON_Delete(a);
    return v;
}

/* The access log's rows "who what;" in order, from the database itself. */
static void access_log(const char *db_path, char *out, size_t cap) {
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    out[0] = '\0';
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT who, what FROM access_log ORDER BY id", -1, &st, NULL) ==
            SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            size_t used = strlen(out);
            snprintf(out + used, cap - used, "%s %s;", sqlite3_column_text(st, 0),
                     sqlite3_column_text(st, 1));
        }
    } else {
        snprintf(out, cap, "(cannot read: %s)", sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* ---- the checks --------------------------------------------------------------------------- */

static void check_start_errors(const vg_http_handlers *h) {
    vg_error err = {0};
    vg_http *s = NULL;
    CHECK(vg_http_start("localhost:80", 0, h, &s, &err) == VG_ERR_ARG && !s);
    printf("bad bind: %s\n", err.msg);
    CHECK(vg_http_start("127.0.0.1", 70000, h, &s, &err) == VG_ERR_ARG && !s);
    printf("bad port: %s\n", err.msg);
    vg_http_handlers open = *h;
    open.token = NULL;
    CHECK(vg_http_start("0.0.0.0", 0, &open, &s, &err) == VG_ERR_ARG && !s);
    printf("open to the network: %s\n", err.msg);
    open.token = "";
    CHECK(vg_http_start("127.0.0.1", 0, &open, &s, &err) == VG_ERR_ARG && !s);
    CHECK(vg_http_start("127.0.0.1", port_of_test, h, &s, &err) == VG_ERR_IO && !s);
    CHECK(strstr(err.msg, "in use") != NULL);
    printf("port in use: %s\n", err.msg);
}

static void check_health_and_auth(app *a) {
    reply r = get("/healthz", NULL);
    CHECK(r.status == 200 && strstr(r.body, "\"ok\"") && !strcmp(r.type, "application/json"));
    free(r.body);
    a->healthy = 0;
    r = get("/healthz", NULL);
    CHECK(r.status == 503 && strstr(r.body, "degraded"));
    free(r.body);
    a->healthy = 1;

    r = get("/metrics", NULL);
    CHECK(r.status == 401 && r.bearer_challenge);
    free(r.body);
    CHECK(status_of("GET", "/metrics", "wrong-token", NULL) == 401);
    CHECK(status_of("GET", "/metrics", "s3cret-toke", NULL) == 401);   /* a prefix */
    CHECK(status_of("GET", "/metrics", TOKEN "x", NULL) == 401);       /* longer */
    CHECK(status_of("GET", "/metrics", "Basic " TOKEN, NULL) == 401);  /* other scheme */
    CHECK(status_of("GET", "/nowhere", NULL, NULL) == 401);            /* routes stay hidden */
    /* a stranger's body is refused before it is read, whatever its size */
    for (int i = 0; i < 20; i++) {
        reply p = post("/api/events/1/feedback", "wrong", "{\"label\": \"normal\"}");
        CHECK(p.status == 401);
        free(p.body);
    }
    r = request("POST", "/api/events/1/feedback", NULL, NULL, 0, BIG_BODY);
    CHECK(r.status == 401);
    free(r.body);
    CHECK(status_of("GET", "/api/events", "bearer " TOKEN, NULL) == 200); /* scheme: any case */
}

static void check_metrics_and_cameras(void) {
    reply r = get("/metrics", TOKEN);
    CHECK(r.status == 200 && !strncmp(r.type, "text/plain; version=0.0.4", 25));
    CHECK(strstr(r.body, "# TYPE vigil_test_total counter\nvigil_test_total 2\n") != NULL);
    free(r.body);
    r = get("/api/cameras", TOKEN);
    CHECK(r.status == 200 && !strcmp(r.body, "[{\"id\":\"gate\",\"state\":\"running\"}]"));
    free(r.body);
}

static void check_events(void) {
    reply r = get("/api/events", TOKEN);
    CHECK(r.status == 200 && count_events(&r) == 4 && first_id(&r) == 4); /* newest first */
    free(r.body);
    r = get("/api/events?camera=gate", TOKEN);
    CHECK(r.status == 200 && count_events(&r) == 3);
    free(r.body);
    r = get("/api/events?since=2500&limit=1", TOKEN);
    CHECK(r.status == 200 && count_events(&r) == 1 && first_id(&r) == 4);
    free(r.body);
    r = get("/api/events?since=2500&camera=dock", TOKEN);
    CHECK(r.status == 200 && count_events(&r) == 0);
    free(r.body);
    CHECK(status_of("GET", "/api/events?limit=0", TOKEN, NULL) == 400);
    CHECK(status_of("GET", "/api/events?limit=2.5", TOKEN, NULL) == 400);
    CHECK(status_of("GET", "/api/events?since=yesterday", TOKEN, NULL) == 400);
    r = get("/api/events/1", TOKEN);
    cJSON *o = cJSON_Parse(r.body);
    const cJSON *id = cJSON_GetObjectItem(o, "id");
    CHECK(r.status == 200 && cJSON_IsNumber(id) && id->valuedouble == 1);
    CHECK(!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(o, "camera")), "gate"));
    cJSON_Delete(o);
    free(r.body);
    CHECK(status_of("GET", "/api/events/99", TOKEN, NULL) == 404);
    CHECK(status_of("GET", "/api/events/abc", TOKEN, NULL) == 400);
    CHECK(status_of("GET", "/api/events/0", TOKEN, NULL) == 400);
    CHECK(status_of("GET", "/api/events/1/", TOKEN, NULL) == 404);
    CHECK(status_of("GET", "/api/nothing", TOKEN, NULL) == 404);
    CHECK(status_of("HEAD", "/api/events/1", TOKEN, NULL) == 200);
}

static void check_methods(void) {
    reply r = request("DELETE", "/api/events", TOKEN, NULL, 0, 0);
    CHECK(r.status == 405 && !strcmp(r.allow, "GET, HEAD"));
    free(r.body);
    r = get("/api/events/1/feedback", TOKEN);
    CHECK(r.status == 405 && !strcmp(r.allow, "POST"));
    free(r.body);
    CHECK(status_of("POST", "/metrics", TOKEN, "{}") == 405);
    CHECK(status_of("PUT", "/healthz", NULL, NULL) == 405);
}

static void check_feedback(vg_store *store, app *a) {
    reply r = post("/api/events/1/feedback", TOKEN,
                   "{\"label\": \"anomaly\", \"note\": \"a real intruder\"}");
    CHECK(r.status == 200 && strstr(r.body, "\"label\":\"anomaly\""));
    free(r.body);
    CHECK(a->feedback_calls == 1 && a->feedback_id == 1 &&
          !strcmp(a->feedback_label, "anomaly"));
    char *json = NULL;
    vg_error err = {0};
    CHECK_OK(vg_store_event_json(store, 1, &json, &err), &err);
    cJSON *o = cJSON_Parse(json);
    CHECK(!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(o, "label")), "anomaly"));
    CHECK(!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(o, "note")), "a real intruder"));
    cJSON_Delete(o);
    free(json);

    const char *bad[] = {"{label", "[]", "{\"label\": \"maybe\"}", "{\"note\": \"x\"}",
                         "{\"label\": \"normal\", \"note\": 3}",
                         "{\"label\": \"normal\", \"colour\": \"red\"}", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(status_of("POST", "/api/events/1/feedback", TOKEN, bad[i]) == 400);
    CHECK(status_of("POST", "/api/events/99/feedback", TOKEN, "{\"label\": \"normal\"}") == 404);
    CHECK(a->feedback_calls == 1); /* none of those reached the handler */

    a->feedback_fails = 1;
    CHECK(status_of("POST", "/api/events/2/feedback", TOKEN,
                    "{\"label\": \"normal\", \"note\": null}") == 500);
    a->feedback_fails = 0;
    CHECK(a->feedback_calls == 2 && a->feedback_id == 2 && !strcmp(a->feedback_label, "normal"));

    char *big = malloc(BIG_BODY + 1);
    if (big) {
        memset(big, ' ', BIG_BODY);
        big[BIG_BODY] = '\0';
        r = request("POST", "/api/events/1/feedback", TOKEN, big, BIG_BODY, 0);
        CHECK(r.status == 413);
        free(r.body);
        free(big);
    }
    r = request("POST", "/api/events/1/feedback", TOKEN, NULL, 0, BIG_BODY);
    CHECK(r.status == 413);
    free(r.body);
    printf("feedback: stored, handler called; bad bodies 400, unknown event 404, "
           "handler failure 500, %d-byte bodies 413 (declared and chunked)\n", BIG_BODY);
}

static void check_evidence(const char *db_path, const char *png, size_t png_len) {
    reply r = get("/api/events/1/snapshot", TOKEN);
    CHECK(r.status == 200 && !strcmp(r.type, "image/png"));
    CHECK(r.len == png_len && !memcmp(r.body, png, png_len));
    printf("snapshot: %zu bytes, %s the file\n", r.len,
           r.len == png_len && !memcmp(r.body, png, png_len) ? "equal to" : "DIFFERENT from");
    free(r.body);
    CHECK(status_of("GET", "/api/events/1/clip", TOKEN, NULL) == 404);      /* none */
    CHECK(status_of("GET", "/api/events/2/snapshot", TOKEN, NULL) == 403);  /* ../ */
    CHECK(status_of("GET", "/api/events/2/clip", TOKEN, NULL) == 403);      /* absolute */
    CHECK(status_of("GET", "/api/events/3/snapshot", TOKEN, NULL) == 404);  /* gone */
    CHECK(status_of("GET", "/api/events/4/snapshot", TOKEN, NULL) == 403);  /* a symlink out */
    CHECK(status_of("GET", "/api/events/4/clip", TOKEN, NULL) == 403);      /* a folder */
    char log[512];
    access_log(db_path, log, sizeof log);
    printf("access log: %s\n", log);
    CHECK(!strcmp(log, "127.0.0.1 snapshots/e1.png;")); /* refused reads are not logged */
}

/* Several clients at once, through both of the server's threads. */
static void *hammer(void *arg) {
    int *ok = arg;
    for (int i = 0; i < 10; i++) {
        reply r = get(i % 2 ? "/api/events?limit=2" : "/metrics", TOKEN);
        *ok += r.status == 200;
        free(r.body);
    }
    return NULL;
}

static void check_concurrent(void) {
    pthread_t t[4];
    int ok[4] = {0}, started = 0;
    for (; started < 4; started++)
        if (pthread_create(&t[started], NULL, hammer, &ok[started]) != 0) break;
    int total = 0;
    for (int i = 0; i < started; i++) {
        pthread_join(t[i], NULL);
        total += ok[i];
    }
    CHECK(started == 4 && total == 40);
    printf("concurrent: %d of 40 requests answered 200\n", total);
}

/* An IPv6 loopback server, where this machine has IPv6. */
static void check_ipv6(const vg_http_handlers *h) {
    vg_http *s = NULL;
    vg_error err = {0};
    int rc = vg_http_start("::1", 0, h, &s, &err);
    if (rc == VG_ERR_IO) {
        printf("ipv6: skipped (%s)\n", err.msg);
        return;
    }
    CHECK_OK(rc, &err);
    host_of_test = "[::1]";
    port_of_test = vg_http_port(s);
    CHECK(status_of("GET", "/healthz", NULL, NULL) == 200);
    CHECK(status_of("GET", "/api/events/1", TOKEN, NULL) == 200);
    printf("ipv6: [::1]:%d answers\n", port_of_test);
    host_of_test = "127.0.0.1";
    vg_http_stop(s);
}

/* A server with no store, metrics or callbacks answers cleanly. */
static void check_bare_server(void) {
    vg_http_handlers h = {0};
    vg_http *s = NULL;
    vg_error err = {0};
    CHECK_OK(vg_http_start(NULL, 0, &h, &s, &err), &err); /* NULL: 127.0.0.1 */
    if (!s) return;
    int saved = port_of_test;
    port_of_test = vg_http_port(s);
    CHECK(status_of("GET", "/healthz", NULL, NULL) == 200);
    CHECK(status_of("GET", "/metrics", NULL, NULL) == 503);
    CHECK(status_of("GET", "/api/events", NULL, NULL) == 503);
    CHECK(status_of("GET", "/api/events/1", NULL, NULL) == 503);
    CHECK(status_of("GET", "/api/events/1/snapshot", NULL, NULL) == 503);
    CHECK(status_of("POST", "/api/events/1/feedback", NULL, "{\"label\":\"normal\"}") == 503);
    reply r = get("/api/cameras", NULL);
    CHECK(r.status == 200 && !strcmp(r.body, "[]"));
    free(r.body);
    vg_http_stop(s);
    port_of_test = saved;
}

/* Writes the evidence folder: a snapshot, a file outside, a symlink out, a folder. */
static int make_evidence(const char *dir, char *png, size_t len) {
    for (size_t i = 0; i < len; i++) png[i] = (char)(i * 7 + (i >> 8)); /* zeros included */
    char path[600], target[600];
    snprintf(path, sizeof path, "%s/snapshots", dir);
    if (mkdir(path, 0755) != 0) return 0;
    snprintf(path, sizeof path, "%s/snapshots/e1.png", dir);
    if (!test_write_file(path, png, len)) return 0;
    if (!test_write_file(test_path("outside.png"), "secret", 6)) return 0;
    snprintf(path, sizeof path, "%s/snapshots/link.png", dir);
    snprintf(target, sizeof target, "%s", test_path("outside.png"));
    if (symlink(target, path) != 0) return 0;
    snprintf(path, sizeof path, "%s/clips.mp4", dir);
    return mkdir(path, 0755) == 0;
}

int main(void) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "FAIL: curl_global_init\n");
        return 1;
    }
    test_tmpdir("http");
    char dir[512], db_path[600], png[3000];
    snprintf(dir, sizeof dir, "%s", test_path("data"));
    snprintf(db_path, sizeof db_path, "%s/events.db", dir);
    vg_error err = {0};
    vg_store *store = NULL;
    vg_metrics *metrics = NULL;
    CHECK(mkdir(dir, 0755) == 0 && make_evidence(dir, png, sizeof png));
    CHECK_OK(vg_store_open(db_path, &store, &err), &err);
    CHECK_OK(vg_metrics_create(&metrics, &err), &err);
    if (!store || !metrics) return test_result();
    add_event(store, 1, "gate", 1000, "snapshots/e1.png", NULL);
    add_event(store, 2, "dock", 2000, "../outside.png", "/etc/passwd");
    add_event(store, 3, "gate", 3000, "snapshots/gone.png", NULL);
    add_event(store, 4, "gate", 4000, "snapshots/link.png", "clips.mp4");
    vg_metric_add(vg_metrics_counter(metrics, "vigil_test_total", "A test counter.", NULL), 2);

    app a = {.healthy = 1};
    vg_http_handlers h = {.metrics = metrics, .store = store, .dir = dir, .token = TOKEN,
                          .health = app_health, .cameras = app_cameras,
                          .feedback = app_feedback, .user = &a};
    vg_http *server = NULL;
    CHECK_OK(vg_http_start("127.0.0.1", 0, &h, &server, &err), &err);
    port_of_test = vg_http_port(server);
    CHECK(port_of_test > 0);
    printf("listening on 127.0.0.1:%d\n", port_of_test);
    if (server) {
        check_start_errors(&h);
        check_health_and_auth(&a);
        check_metrics_and_cameras();
        check_events();
        check_methods();
        check_feedback(store, &a);
        check_evidence(db_path, png, sizeof png);
        check_concurrent();
    }
    vg_http_stop(server);
    vg_http_stop(NULL);
    check_ipv6(&h);
    check_bare_server();
    vg_store_close(store);
    vg_metrics_free(metrics);
    curl_global_cleanup();
    test_tmpdir_remove();
    return test_result();
}
