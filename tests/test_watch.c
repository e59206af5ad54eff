/* test_watch.c - vigil watch end to end, with real parts: cameras are image folders played
 * at their real rate; events go through the store to a JSON Lines file, to a webhook (an
 * HTTP receiver on loopback that fails at first and comes back) and to a real mosquitto
 * broker (when installed; realparts.h); the HTTP server answers on loopback.
 *
 *   camera a  40 frames of a moving stripe pattern, frames 20-29 black: a black_frame
 *             event (new, end) with its evidence clip, then the file ends ("camera_ended").
 *             Its threshold is below any score, so prediction_error opens once (with a heat
 *             map) and ends at the stop.
 *   camera c  an H.264 file of the same: its clips are copied from the file's packets.
 *   camera b  a folder that is missing at the start ("camera_lost"), appears a moment
 *             later ("camera_found"), goes away and comes back: reconnection with backoff.
 * Then an operator marks a's event normal: its pictures are suppressed at the next run.
 * And a crash: a watch killed with SIGKILL in the middle of an event keeps every message it
 * had committed, and a restart delivers what the sinks were still owed. */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <string.h>

#include "serve/clip.h"
#include "serve/store.h"
#include "test.h"
#include "clips.h"
#include "realparts.h"

#define W 32
#define H 32

static void paint(unsigned char *rgb, int w, int h, int c, int k) {
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            unsigned char v = k >= 20 && k < 30 ? 0 : ((x + 2 * k + c) % 16 < 8 ? 200 : 60);
            memset(rgb + 3 * ((size_t)y * w + x), v, 3);
        }
}


/* A U-Net model (untrained: its scores are high) whose calibration threshold is far below
 * any score, so that every scored frame is anomalous. */
static void write_model(const char *path) {
    vg_model_params mp = vg_model_default_params();
    mp.encoder = "unet", mp.width = W, mp.height = H, mp.frames = 2, mp.threads = 1;
    vg_model *m = NULL;
    vg_error err = {0};
    CHECK_OK(vg_model_create(&mp, &m, &err), &err);
    CHECK_OK(vg_model_set_meta(m, "calibration",
                               "{\"score\": \"patch\", \"patch\": 8, \"smooth\": 1, "
                               "\"threshold\": 1e-9, \"band\": [1e-9, 1e-9], \"fpr\": 0.005}",
                               &err), &err);
    CHECK_OK(vg_model_save(m, path, &err), &err);
    vg_model_free(m);
}

/* Removes a folder of test_write_clip frames. */
static void remove_clip(const char *folder, int frames) {
    char f[700];
    for (int k = 0; k < frames; k++) {
        snprintf(f, sizeof f, "%s/%03d.png", folder, k);
        unlink(f);
    }
    CHECK(rmdir(folder) == 0);
}

typedef struct body {
    char text[65536];
    size_t len;
} body;

static size_t keep(char *data, size_t size, size_t n, void *user) {
    body *b = user;
    size_t k = size * n, room = sizeof b->text - 1 - b->len;
    memcpy(b->text + b->len, data, k < room ? k : room);
    b->len += k < room ? k : room;
    b->text[b->len] = 0;
    return k;
}

/* POST json to url (or GET when json is NULL): the status, and the answer into *b. */
static long http_call(const char *url, const char *json, body *b) {
    CURL *c = curl_easy_init();
    long status = 0;
    b->len = 0, b->text[0] = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    if (json) curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    return status;
}

/* Where the sinks are: webhook and MQTT ports, 0 for none. */
typedef struct sinks {
    const char *jsonl;
    int webhook, mqtt;
} sinks;

static void write_config(const char *path, const char *model, const char *a, const char *b,
                         const char *c, const char *dir, const sinks *k, int port) {
    char text[4096], hook[128] = "", mqtt[128] = "", cam_c[700] = "";
    if (c)
        snprintf(cam_c, sizeof cam_c, "  - id: c\n    source: %s\n    model: %s\n"
                 "    decide: {debounce: 2, min_duration: 2}\n", c, model);
    if (k->webhook)
        snprintf(hook, sizeof hook, "  webhook: {url: \"http://127.0.0.1:%d/hook\", "
                 "backoff_max: 1s}\n", k->webhook);
    if (k->mqtt) snprintf(mqtt, sizeof mqtt, "  mqtt: {host: 127.0.0.1, port: %d}\n", k->mqtt);
    snprintf(text, sizeof text,
             "cameras:\n"
             "  - id: a\n"
             "    source: %s\n"
             "    model: %s\n"
             "    decide: {debounce: 2, min_duration: 2}\n"
             "  - id: b\n"
             "    source: %s\n"
             "    model: %s\n"
             "    loop: true\n"
             "%s"
             "sinks:\n"
             "  jsonl: %s\n%s%s"
             "storage:\n"
             "  dir: %s\n"
             "  evidence: {pre: 1s, post: 1s}\n"
             "http:\n"
             "  port: %d\n"
             "engine:\n"
             "  threads: 1\n",
             a, model, b, model, cam_c, k->jsonl, hook, mqtt, dir, port);
    CHECK(test_write_file(path, text, strlen(text)));
}

/* Lines of the JSON Lines file that match camera, kind (class or status) and type. */
static int count_lines(const char *path, const char *camera, const char *kind, const char *type) {
    size_t len = 0;
    char *text = test_read_file(path, &len), *save = NULL;
    int n = 0;
    for (char *line = text ? strtok_r(text, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        cJSON *o = cJSON_Parse(line);
        const cJSON *cam = cJSON_GetObjectItem(o, "camera"), *t = cJSON_GetObjectItem(o, "type");
        const cJSON *k = cJSON_GetObjectItem(o, !strcmp(type, "status") ? "status" : "class");
        n += cJSON_IsString(cam) && cJSON_IsString(t) && cJSON_IsString(k) &&
             !strcmp(cam->valuestring, camera) && !strcmp(t->valuestring, type) &&
             !strcmp(k->valuestring, kind);
        cJSON_Delete(o);
    }
    free(text);
    return n;
}

/* Waits up to seconds for the line to appear. */
static int wait_line(const char *path, const char *camera, const char *kind, const char *type,
                     double seconds) {
    for (int i = 0; i < seconds * 20; i++) {
        if (count_lines(path, camera, kind, type)) return 1;
        nap(0.05);
    }
    return 0;
}

static void expect_line(const char *path, const char *camera, const char *kind, const char *type,
                        double seconds) {
    int ok = wait_line(path, camera, kind, type, seconds);
    char what[128];
    snprintf(what, sizeof what, "camera %s: %s %s", camera, kind, type);
    printf("%-44s %s\n", what, ok ? "ok" : "FAIL");
    CHECK(ok);
}

/* The events of camera in the store under dir (vg_store_events_json, parsed; cJSON_Delete
 * it), or NULL when there is no store yet. */
static cJSON *camera_events(const char *dir, const char *camera) {
    char db[600];
    snprintf(db, sizeof db, "%s/events.db", dir);
    vg_store *st = NULL;
    char *json = NULL;
    vg_error err = {0};
    if (access(db, F_OK) || vg_store_open(db, &st, &err)) return NULL;
    CHECK_OK(vg_store_events_json(st, camera, 0, 100, &json, &err), &err);
    vg_store_close(st);
    cJSON *events = cJSON_Parse(json);
    free(json);
    return events;
}

/* The evidence of camera a's events: a heat map for prediction_error, clips that decode. */
static void check_evidence(const char *dir) {
    char path[700];
    vg_error err = {0};
    cJSON *events = camera_events(dir, "a");
    int n = cJSON_GetArraySize(events), ended = 0, snapshots = 0, clips = 0, frames = 0;
    vg_source_params sp = vg_source_default_params();
    const cJSON *e;
    cJSON_ArrayForEach(e, events) {
        const cJSON *state = cJSON_GetObjectItem(e, "state"), *snap = cJSON_GetObjectItem(e, "snapshot");
        const cJSON *clip = cJSON_GetObjectItem(e, "clip");
        ended += cJSON_IsString(state) && !strcmp(state->valuestring, "ended");
        if (cJSON_IsString(snap)) {
            snprintf(path, sizeof path, "%s/%s", dir, snap->valuestring);
            snapshots += access(path, R_OK) == 0;
        }
        if (!cJSON_IsString(clip)) continue;
        snprintf(path, sizeof path, "%s/%s", dir, clip->valuestring);
        vg_source *src = NULL;
        vg_frame f;
        if (vg_source_open(path, &sp, &src, &err)) {
            printf("    clip %s: %s\n", clip->valuestring, err.msg);
            continue;
        }
        clips++;
        while (!vg_source_read(src, &f, &err)) frames++;
        vg_source_close(src);
    }
    int ok = n >= 2 && ended == n && snapshots >= 1 && clips == n && frames > 20;
    printf("%-44s %d events of camera a, %d ended, %d heat maps, %d clips (%d frames) %s\n",
           "store and evidence", n, ended, snapshots, clips, frames, ok ? "ok" : "FAIL");
    CHECK(ok);
    cJSON_Delete(events);
}

/* The alerts of the JSON Lines file all reached the webhook (once it came back) and MQTT. */
static void check_sinks(const char *jsonl, receiver *hook, subscriber *sub) {
    int lines = count_lines(jsonl, "a", "black_frame", "new") + count_lines(jsonl, "a", "black_frame", "end");
    size_t len = 0;
    char *text = test_read_file(jsonl, &len);
    int all = 0;
    for (size_t i = 0; text && i < len; i++) all += text[i] == '\n';
    free(text);
    WAIT_FOR(received_ok(hook) >= all, PATIENCE);
    int failed = received_all(hook) - received_ok(hook), ok_hook = received_ok(hook) >= all && failed > 0;
    printf("%-44s %d lines; webhook %d delivered after %d refusals; mqtt %d events, %d scores %s\n",
           "sinks", all, received_ok(hook), failed, sub ? sub_events(sub) : -1,
           sub ? sub_scores(sub) : -1, ok_hook && lines == 2 ? "ok" : "FAIL");
    CHECK(ok_hook && lines == 2);
    if (!sub) return;
    WAIT_FOR(sub_events(sub) >= all, PATIENCE);
    CHECK(sub_events(sub) >= all && sub_scores(sub) > 0);
}

/* The service's log, indented into the test's output. */
static void log_line(void *user, const char *line) {
    (void)user;
    printf("    watch: %s\n", line);
}

/* The id of camera a's prediction_error event in the store under dir (the last one
 * listed; only an open one when open is 1), or 0. */
static long long find_event(const char *dir, int open) {
    cJSON *events = camera_events(dir, "a");
    long long id = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, events) {
        const cJSON *state = cJSON_GetObjectItem(e, "state"), *cls = cJSON_GetObjectItem(e, "class");
        if (cJSON_IsString(state) && (!open || !strcmp(state->valuestring, "open")) &&
            cJSON_IsString(cls) && !strcmp(cls->valuestring, "prediction_error"))
            id = (long long)cJSON_GetObjectItem(e, "id")->valuedouble;
    }
    cJSON_Delete(events);
    return id;
}

/* The value of metric line name (e.g. "vigil_x{camera=\"a\"}") in the /metrics text at
 * port, or -1. */
static double metric(int port, const char *name) {
    char url[128];
    static body b;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", port);
    if (http_call(url, NULL, &b) != 200) return -1;
    const char *at = strstr(b.text, name);
    return at ? atof(at + strlen(name)) : -1;
}

/* An operator marks camera a's prediction_error event normal: at the next start its frames
 * are allowlisted, and the same pictures are suppressed, not alerted; the HTTP feedback
 * route adds them again while running. */
static void test_feedback(const char *cfg, const char *dir, const char *jsonl, int port) {
    char db[600], url[160];
    snprintf(db, sizeof db, "%s/events.db", dir);
    long long id = find_event(dir, 0);
    vg_store *st = NULL;
    vg_error err = {0};
    CHECK_OK(vg_store_open(db, &st, &err), &err);
    if (st) CHECK_OK(vg_store_set_label(st, id, "normal", "a test", &err), &err);
    vg_store_close(st);
    vg_watch *w = NULL;
    vg_watch_params wp = vg_watch_default_params();
    wp.log = log_line;
    CHECK_OK(vg_watch_start(cfg, &wp, &w, &err), &err);
    if (!w) return;
    const char *name = "vigil_frames_allowlisted_total{camera=\"a\"}";
    /* a has played its 40 frames, and the worker has scored them (38: 2 are context) */
    WAIT_FOR(count_lines(jsonl, "a", "camera_ended", "status") == 2 &&
                 metric(port, "vigil_frames_scored_total{camera=\"a\"}") >= 38,
             PATIENCE);
    double suppressed = metric(port, name);
    static body b;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/api/events/%lld/feedback", port, id);
    long status = http_call(url, "{\"label\": \"normal\"}", &b);
    vg_watch_stop(w);
    printf("%-44s event %lld: %g frames of camera a suppressed; feedback POST %ld %s\n",
           "allowlist", id, suppressed, status, suppressed >= 20 && status == 200 ? "ok" : "FAIL");
    CHECK(suppressed >= 20 && status == 200);
}

/* A 64x48 H.264 file of the stripes (black frames 20-29), 60 frames at 25 fps: a camera
 * whose clips are copied from its packets, at its own size, not the model's. */
static void write_video(const char *path) {
    enum { VW = 64, VH = 48, N = 60 };
    vg_recorder_params p = vg_recorder_default_params();
    p.width = VW, p.height = VH, p.fps = 25, p.pre = 0, p.post = 0;
    vg_recorder *r = NULL;
    vg_error err = {0};
    unsigned char rgb[VW * VH * 3];
    CHECK_OK(vg_recorder_create(&p, &r, &err), &err);
    for (int k = 0; k < N && r; k++) {
        paint(rgb, VW, VH, 0, k);
        CHECK_OK(vg_recorder_push(r, rgb, k / 25.0, &err), &err);
        if (!k) CHECK_OK(vg_recorder_begin(r, 1, path, 0, NULL, NULL, &err), &err);
    }
    if (r) vg_recorder_end(r, 1, (N - 1) / 25.0);
    vg_recorder_free(r);
}

/* Camera c's black_frame clip: copied from the file's packets, so at the file's size. */
static void check_remuxed(const char *dir) {
    char path[700];
    vg_error err = {0};
    int width = 0, frames = 0;
    cJSON *events = camera_events(dir, "c");
    const cJSON *e;
    cJSON_ArrayForEach(e, events) {
        const cJSON *cls = cJSON_GetObjectItem(e, "class"), *clip = cJSON_GetObjectItem(e, "clip");
        if (!cJSON_IsString(cls) || strcmp(cls->valuestring, "black_frame") || !cJSON_IsString(clip)) continue;
        snprintf(path, sizeof path, "%s/%s", dir, clip->valuestring);
        vg_source_params sp = vg_source_default_params();
        vg_source *src = NULL;
        vg_frame f;
        if (vg_source_open(path, &sp, &src, &err)) printf("    clip %s: %s\n", path, err.msg);
        while (src && !vg_source_read(src, &f, &err)) frames++, width = f.width;
        vg_source_close(src);
    }
    printf("%-44s %d frames at width %d (the file's 64, not the model's %d) %s\n",
           "camera c: black_frame clip copied from packets", frames, width, W,
           width == 64 && frames > 10 ? "ok" : "FAIL");
    CHECK(width == 64 && frames > 10);
    cJSON_Delete(events);
}

static void test_run(const char *model, int broker) {
    char a[512], b[512], c[512], dir[512], jsonl[512], cfg[512];
    snprintf(a, sizeof a, "%s", test_path("a"));
    snprintf(c, sizeof c, "%s", test_path("c.mp4"));
    write_video(c);
    snprintf(b, sizeof b, "%s", test_path("b"));
    snprintf(dir, sizeof dir, "%s", test_path("data"));
    snprintf(jsonl, sizeof jsonl, "%s", test_path("events.jsonl"));
    snprintf(cfg, sizeof cfg, "%s", test_path("watch.yaml"));
    test_write_clip(a, 0, 40, W, H, paint);
    receiver hook;
    subscriber sub;
    CHECK(receiver_start(&hook) == 0);
    atomic_store(&hook.answer, 500); /* the webhook is down at first */
    int subscribed = broker && subscriber_start(&sub, broker, "vigil/#") == 0;
    int port = free_port();
    sinks k = {jsonl, hook.port, broker};
    write_config(cfg, model, a, b, c, dir, &k, port);
    vg_error err = {0};
    char *summary = NULL;
    /* b is missing: --check says so before anything runs */
    int rc = vg_watch_check(cfg, &summary, &err);
    printf("%-44s -> %d \"%s\"\n", "check with camera b missing", rc, err.msg);
    CHECK(rc == VG_ERR_IO && strstr(err.msg, "camera b: ") && !summary);

    vg_watch *w = NULL;
    vg_watch_params wp = vg_watch_default_params();
    wp.log = log_line;
    CHECK_OK(vg_watch_start(cfg, &wp, &w, &err), &err);
    if (!w) return;
    expect_line(jsonl, "b", "camera_lost", "status", 10);
    test_write_clip(b, 1, 12, W, H, paint);
    expect_line(jsonl, "b", "camera_found", "status", 10);
    remove_clip(b, 12); /* the source goes away, and comes back */
    WAIT_FOR(count_lines(jsonl, "b", "camera_lost", "status") == 2, PATIENCE);
    test_write_clip(b, 1, 12, W, H, paint);
    WAIT_FOR(count_lines(jsonl, "b", "camera_found", "status") == 2, PATIENCE);
    int back = count_lines(jsonl, "b", "camera_lost", "status") == 2 &&
               count_lines(jsonl, "b", "camera_found", "status") == 2;
    printf("%-44s %s\n", "camera b: gone and back (lost, found again)", back ? "ok" : "FAIL");
    CHECK(back);
    expect_line(jsonl, "a", "black_frame", "new", 10);
    expect_line(jsonl, "a", "black_frame", "end", 10);
    atomic_store(&hook.answer, 200); /* and comes back */
    expect_line(jsonl, "a", "prediction_error", "new", 10);
    expect_line(jsonl, "a", "camera_ended", "status", 10);
    expect_line(jsonl, "b", "prediction_error", "new", 10);
    expect_line(jsonl, "c", "black_frame", "end", 10);
    vg_watch_stats s;
    vg_watch_get_stats(w, &s);
    printf("stats: %lld frames in, %lld scored, %lld dropped, p95 %.0f ms, http port %d\n",
           s.frames_in, s.scored, s.dropped, 1e3 * s.latency_p95, s.http_port);
    CHECK(s.frames_in >= 40 && s.scored > 0 && s.http_port == port);
    char url[128];
    static body page; /* 64 KiB: not on the stack */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/healthz", port);
    long health = http_call(url, NULL, &page);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", port);
    long metrics = http_call(url, NULL, &page);
    int counted = strstr(page.text, "vigil_frames_in_total{camera=\"a\"}") != NULL;
    printf("%-44s healthz %ld, metrics %ld (%zu bytes, per camera: %d) %s\n", "HTTP", health,
           metrics, page.len, counted, health == 200 && metrics == 200 && counted ? "ok" : "FAIL");
    CHECK(health == 200 && metrics == 200 && counted);
    vg_watch_stop(w);
    /* the open prediction_error events ended at the stop */
    int ended = count_lines(jsonl, "b", "prediction_error", "end");
    printf("%-44s %d %s\n", "b's open event ended at the stop", ended, ended == 1 ? "ok" : "FAIL");
    CHECK(ended == 1);
    check_evidence(dir);
    check_remuxed(dir);
    check_sinks(jsonl, &hook, subscribed ? &sub : NULL);
    test_feedback(cfg, dir, jsonl, port);
    if (subscribed) subscriber_stop(&sub);
    receiver_stop(&hook);
}

/* A watch of one clip under the name NAME: the clip NAME-a, storage in NAME/, events in
 * NAME.jsonl, cameras a and b both on the clip, in NAME.yaml. */
typedef struct one_clip {
    char a[512], dir[512], jsonl[512], cfg[512];
} one_clip;

static one_clip one_clip_write(const char *name, const char *model) {
    one_clip o;
    snprintf(o.a, sizeof o.a, "%s-a", test_path(name));
    snprintf(o.dir, sizeof o.dir, "%s", test_path(name));
    snprintf(o.jsonl, sizeof o.jsonl, "%s.jsonl", test_path(name));
    snprintf(o.cfg, sizeof o.cfg, "%s.yaml", test_path(name));
    test_write_clip(o.a, 0, 40, W, H, paint);
    sinks k = {o.jsonl, 0, 0};
    write_config(o.cfg, model, o.a, o.a, NULL, o.dir, &k, 0);
    return o;
}

/* ---- a reload ----------------------------------------------------------------------------- */

/* SIGHUP's work: a valid new file replaces the running configuration; an invalid one is
 * refused with the reason, and the configuration that ran goes on running. */
static void test_reload(const char *model) {
    one_clip o = one_clip_write("reload", model);
    vg_watch *w = NULL;
    vg_error err = {0};
    CHECK_OK(vg_watch_start(o.cfg, NULL, &w, &err), &err);
    sinks k = {o.jsonl, 0, 0};
    write_config(o.cfg, model, o.a, o.a, o.a, o.dir, &k, 0);
    int rc = vg_watch_reload(w, &err);
    vg_watch_stats s;
    vg_watch_get_stats(w, &s);
    printf("%-44s rc %d, %d cameras (want 0, 3) %s\n", "reload: a third camera", rc, s.cameras,
           !rc && s.cameras == 3 ? "ok" : "FAIL");
    CHECK(!rc && s.cameras == 3);
    char text[1200];
    snprintf(text, sizeof text, "cameras:\n  - id: a\n    source: %s\n    model: %s.gone\n",
             o.a, model);
    CHECK(test_write_file(o.cfg, text, strlen(text)));
    rc = vg_watch_reload(w, &err);
    vg_watch_get_stats(w, &s);
    int named = rc && strstr(err.msg, ".gone") != NULL;
    printf("%-44s %s; %d cameras still running %s\n", "reload: a missing model is refused",
           rc ? err.msg : "accepted", s.cameras, named && s.cameras == 3 ? "ok" : "FAIL");
    CHECK(named && s.cameras == 3);
    vg_watch_stop(w);
}

/* ---- a crash ------------------------------------------------------------------------------ */

/* A watch in a child process, killed with SIGKILL once an event is open: the event is
 * still in the store, and a restart delivers what was owed. Runs before this process
 * starts any thread (the child forks from a single-threaded parent). */
static void test_crash(const char *model) {
    one_clip o = one_clip_write("crash", model);
    char db[600];
    snprintf(db, sizeof db, "%s/events.db", o.dir);
    pid_t child = fork();
    if (child == 0) {
        vg_watch *w = NULL;
        vg_error err;
        if (vg_watch_start(o.cfg, NULL, &w, &err)) _exit(3);
        for (;;) pause();
    }
    long long id = 0;
    WAIT_FOR((id = find_event(o.dir, 1)) != 0, PATIENCE);
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    int killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    long long still = find_event(o.dir, 1);
    printf("%-44s event %lld open when killed, %s after %s %s\n", "kill -9 mid-event", id,
           still == id ? "still there" : "LOST", killed ? "SIGKILL" : "another end",
           id && still == id && killed ? "ok" : "FAIL");
    CHECK(id && still == id && killed);
    /* a restart delivers what the dead process owed its sinks */
    vg_watch *w = NULL;
    vg_error err = {0};
    CHECK_OK(vg_watch_start(o.cfg, NULL, &w, &err), &err);
    vg_watch_stop(w);
    vg_store *st = NULL;
    CHECK_OK(vg_store_open(db, &st, &err), &err);
    long long owed = st ? vg_store_owed(st, "jsonl") : -1;
    vg_store_close(st);
    int lines = count_lines(o.jsonl, "a", "prediction_error", "new");
    printf("%-44s jsonl owed %lld, new lines %d %s\n", "restart after the crash", owed, lines,
           owed == 0 && lines >= 1 ? "ok" : "FAIL");
    CHECK(owed == 0 && lines >= 1);
}

int main(void) {
    test_tmpdir("watch");
    char model[512];
    snprintf(model, sizeof model, "%s", test_path("m.safetensors"));
    write_model(model);
    test_crash(model);
    mosquitto_lib_init();
    const char *binary = mosquitto_binary();
    int broker_port = binary ? free_port() : 0;
    pid_t broker = binary ? start_broker(binary, broker_port) : -1;
    if (broker <= 0) printf("no mosquitto broker (%s): MQTT not checked\n", binary ? "did not start" : "not installed");
    test_run(model, broker > 0 ? broker_port : 0);
    test_reload(model);
    if (broker > 0) stop_broker(broker);
    mosquitto_lib_cleanup();
    test_tmpdir_remove();
    return test_result();
}
