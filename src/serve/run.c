/* run.c - one configuration running (see run.h): models, store, sinks, cameras, the
 * inference worker, HTTP, and a housekeeping thread for retention and sink figures. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/file.h"
#include "core/status.h"
#include "serve/run.h"

#define SOURCE_TIMEOUT_MS 5000 /* network waits: a camera gone this long is lost */
#define RETENTION_EVERY 60.0   /* seconds between retention passes */

struct vg_run {
    const vg_watch_config *cfg;
    vg_log_fn log;
    void *user;
    vg_run_models *models;
    vg_store *store;
    vg_metrics *metrics;
    vg_outbox *outbox;
    vg_emitter emit;
    vg_camera *cams;
    vg_engine_camera *ecams;
    vg_allowlist **allow;     /* per camera */
    vg_engine *engine;
    vg_http *http;
    pthread_mutex_t lock;     /* the frame queues' and the housekeeper's */
    pthread_cond_t wake, tick;
    atomic_int stop;
    pthread_t keeper;
    int keeper_started, started_cams;
    vg_metric *sink_owed[3], *sink_up[3], *uptime;
    vg_metric **fps;          /* per camera: frames in per second over the last second */
    double *frames_before, figures_at;
    double t0;
    long long first_id;       /* the first event id of this run */
};

static void say(vg_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(vg_run *r, const char *fmt, ...) {
    if (!r->log) return;
    char line[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    r->log(r->user, line);
}

/* ---- models and operating points --------------------------------------------------------- */

/* Each distinct model file loaded once; camera i scores with models[camera[i]]. */
struct vg_run_models {
    vg_model **models;
    int n_models;
    int *camera;
};

void vg_run_models_free(vg_run_models *m) {
    if (!m) return;
    for (int i = 0; i < m->n_models; i++) vg_model_free(m->models[i]);
    free(m->models), free(m->camera), free(m);
}

static vg_model *model_of(const vg_run_models *m, int camera) {
    return m->models[m->camera[camera]];
}

static int load_models(const vg_watch_config *cfg, vg_run_models *m, vg_error *err) {
    m->models = calloc((size_t)cfg->n_cameras, sizeof *m->models);
    m->camera = calloc((size_t)cfg->n_cameras, sizeof *m->camera);
    if (!m->models || !m->camera) return vg_fail(err, VG_ERR_NOMEM, "out of memory for the models");
    for (int i = 0; i < cfg->n_cameras; i++) {
        int j = 0;
        while (j < i && strcmp(cfg->cameras[j].model, cfg->cameras[i].model)) j++;
        if (j < i) {
            m->camera[i] = m->camera[j];
            continue;
        }
        vg_model **slot = &m->models[m->n_models];
        int rc = vg_model_load(cfg->cameras[i].model, cfg->threads, slot, err);
        if (rc) return rc;
        m->camera[i] = m->n_models++;
        if (cfg->bf16 && (rc = vg_model_set_bf16(*slot, 1, err))) return rc;
    }
    return VG_OK;
}

static vg_operating_overrides overrides_of(const vg_camera_config *c) {
    vg_operating_overrides o = vg_operating_default_overrides();
    o.has_score = c->has_score, o.score = c->score;
    o.threshold = c->threshold, o.exit = c->exit;
    o.smooth = c->smooth > 0 ? c->smooth : 0;
    o.debounce = c->debounce, o.min_duration = c->min_duration, o.merge_gap = c->merge_gap;
    o.update_every = c->update_every;
    return o;
}

static int operating_point(const vg_camera_config *c, const vg_model *m, vg_operating_point *op,
                           vg_error *err) {
    vg_operating_overrides o = overrides_of(c);
    int rc = vg_model_operating_point(m, &o, op, err);
    if (rc) {
        vg_error why = *err;
        return vg_fail(err, rc, "camera %s (%s): %s", c->id, c->model, why.msg);
    }
    return VG_OK;
}

/* The source as the model saw its footage, with the camera's own ROI and fit. */
static vg_source_params source_of(const vg_camera_config *c, const vg_model *m) {
    vg_source_params sp = vg_model_source_params(m);
    if (c->roi[2] > 0) sp.roi_x = c->roi[0], sp.roi_y = c->roi[1], sp.roi_w = c->roi[2], sp.roi_h = c->roi[3];
    if (c->has_fit) sp.fit = c->fit;
    sp.realtime = c->realtime;
    sp.timeout_ms = SOURCE_TIMEOUT_MS;
    return sp;
}

/* ---- the HTTP server's view ------------------------------------------------------------- */

static char *cameras_json(void *user) {
    vg_run *r = user;
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < r->cfg->n_cameras; i++) {
        const vg_camera *c = &r->cams[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", c->cfg->id);
        cJSON_AddStringToObject(o, "state", atomic_load(&c->connected) ? "up"
                                            : atomic_load(&c->ended)   ? "ended" : "down");
        cJSON_AddNumberToObject(o, "frames", vg_metric_value(c->frames_in));
        cJSON_AddNumberToObject(o, "dropped", (double)vg_queue_dropped(c->queue));
        cJSON_AddNumberToObject(o, "threshold", r->ecams[i].op.decide.threshold);
        cJSON_AddStringToObject(o, "score", vg_score_kind_name(r->ecams[i].op.score));
        cJSON_AddBoolToObject(o, "shadow", c->cfg->shadow);
        cJSON_AddItemToArray(a, o);
    }
    char *s = a ? cJSON_PrintUnformatted(a) : NULL;
    cJSON_Delete(a);
    return s;
}

/* Healthy while every camera delivers or has ended; 503 when none delivers. */
static int health(void *user, char **json) {
    vg_run *r = user;
    int up = 0, ended = 0;
    for (int i = 0; i < r->cfg->n_cameras; i++)
        up += atomic_load(&r->cams[i].connected), ended += atomic_load(&r->cams[i].ended);
    const char *status = up + ended == r->cfg->n_cameras ? "ok" : up ? "degraded" : "down";
    char *cams = cameras_json(r);
    size_t n = 96 + (cams ? strlen(cams) : 4);
    *json = malloc(n);
    if (*json) snprintf(*json, n, "{\"status\":\"%s\",\"cameras\":%s}", status, cams ? cams : "[]");
    free(cams);
    return up > 0 || ended == r->cfg->n_cameras;
}

/* The camera called id, or -1. */
static int camera_index(const vg_run *r, const char *id) {
    for (int i = 0; i < r->cfg->n_cameras; i++)
        if (!strcmp(r->cfg->cameras[i].id, id)) return i;
    return -1;
}

/* The frames of event id join its camera's allowlist. */
static int allow_event(vg_run *r, long long id, int *added, vg_error *err) {
    char *camera = NULL;
    float *v = NULL;
    int dim = 0, n = 0;
    *added = 0;
    int rc = vg_store_event_embeddings(r->store, id, &camera, &v, &dim, &n, err);
    int i = rc ? -1 : camera_index(r, camera);
    if (i >= 0 && n && dim == vg_model_embedding_size(r->ecams[i].model)) {
        rc = vg_allowlist_add(r->allow[i], v, n, err);
        *added = rc ? 0 : n;
    }
    free(camera), free(v);
    return rc;
}

/* An operator's verdict: "normal" allowlists the event's frames. */
static int feedback(void *user, long long id, const char *label, vg_error *err) {
    vg_run *r = user;
    int added = 0;
    if (strcmp(label, "normal")) {
        say(r, "event %lld confirmed as %s by an operator", id, label);
        return VG_OK;
    }
    int rc = allow_event(r, id, &added, err);
    if (!rc) say(r, "event %lld marked normal by an operator: %d frames allowlisted", id, added);
    return rc;
}

/* The allowlist of camera i: the frames of its events operators marked normal. */
static int load_allowlist(vg_run *r, int i, vg_error *err) {
    const vg_camera_config *c = &r->cfg->cameras[i];
    long long *ids = NULL;
    int n = 0, added = 0, total = 0;
    int rc = vg_allowlist_create(vg_model_embedding_size(r->ecams[i].model), c->allowlist_radius,
                                 &r->allow[i], err);
    r->ecams[i].allow = r->allow[i];
    if (!rc) rc = vg_store_labelled(r->store, c->id, "normal", &ids, &n, err);
    for (int k = 0; k < n && !rc; k++, total += added) rc = allow_event(r, ids[k], &added, err);
    free(ids);
    if (!rc && total) say(r, "camera %s: %d allowlisted frames from %d events marked normal", c->id, total, n);
    return rc;
}

/* ---- housekeeping ----------------------------------------------------------------------- */

static void retention(vg_run *r) {
    char **paths = NULL;
    int n = 0;
    vg_error err;
    double before = r->cfg->max_age > 0 ? vg_wall_now() - r->cfg->max_age : 0;
    if (vg_store_expire(r->store, before, r->cfg->max_size, &paths, &n, &err)) {
        say(r, "retention: %s", err.msg);
        return;
    }
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", r->cfg->dir, paths[i]);
        if (unlink(path) && errno != ENOENT) say(r, "retention: %s: cannot delete (%s)", path, strerror(errno));
        free(paths[i]);
    }
    free(paths);
}

static void sink_figures(vg_run *r) {
    vg_sink_stats st[3];
    int n = 0;
    vg_outbox_stats(r->outbox, st, &n);
    for (int i = 0; i < n && i < 3; i++) {
        char l[64];
        snprintf(l, sizeof l, "sink=\"%s\"", st[i].name);
        if (!r->sink_owed[i])
            r->sink_owed[i] = vg_metrics_gauge(r->metrics, "vigil_sink_owed",
                                               "Messages waiting for delivery", l),
            r->sink_up[i] = vg_metrics_gauge(r->metrics, "vigil_sink_up",
                                             "1 when the sink's last delivery succeeded", l);
        vg_metric_set(r->sink_owed[i], (double)st[i].owed);
        vg_metric_set(r->sink_up[i], st[i].up);
    }
    vg_metric_set(r->uptime, vg_mono_now() - r->t0);
}

static void camera_figures(vg_run *r) {
    double now = vg_mono_now(), dt = now - r->figures_at;
    for (int i = 0; i < r->cfg->n_cameras && dt > 0; i++) {
        double frames = vg_metric_value(r->cams[i].frames_in);
        if (r->figures_at > 0) vg_metric_set(r->fps[i], (frames - r->frames_before[i]) / dt);
        r->frames_before[i] = frames;
    }
    r->figures_at = now;
}

static void *keeper_main(void *arg) {
    vg_run *r = arg;
    double next_retention = 0;
    pthread_mutex_lock(&r->lock);
    while (!atomic_load(&r->stop)) {
        pthread_mutex_unlock(&r->lock);
        sink_figures(r);
        camera_figures(r);
        if (vg_mono_now() >= next_retention) {
            retention(r);
            next_retention = vg_mono_now() + RETENTION_EVERY;
        }
        pthread_mutex_lock(&r->lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        if (!atomic_load(&r->stop)) pthread_cond_timedwait(&r->tick, &r->lock, &until);
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

/* ---- start and stop ------------------------------------------------------------------- */

static int open_store(vg_run *r, vg_error *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/events.db", r->cfg->dir);
    int rc = vg_make_dir(r->cfg->dir, err);
    if (!rc) rc = vg_store_open(path, &r->store, err);
    if (!rc) rc = vg_metrics_create(&r->metrics, err);
    if (!rc) rc = vg_outbox_create(r->cfg, r->store, &r->outbox, err);
    r->emit.outbox = r->outbox, r->emit.metrics = r->metrics;
    if (!rc) r->first_id = vg_store_next_event_id(r->store);
    atomic_init(&r->emit.next_id, r->first_id);
    return rc;
}

static int plan_cameras(vg_run *r, vg_error *err) {
    const vg_watch_config *cfg = r->cfg;
    r->cams = calloc((size_t)cfg->n_cameras, sizeof *r->cams);
    r->ecams = calloc((size_t)cfg->n_cameras, sizeof *r->ecams);
    r->allow = calloc((size_t)cfg->n_cameras, sizeof *r->allow);
    r->fps = calloc((size_t)cfg->n_cameras, sizeof *r->fps);
    r->frames_before = calloc((size_t)cfg->n_cameras, sizeof *r->frames_before);
    if (!r->cams || !r->ecams || !r->allow || !r->fps || !r->frames_before)
        return vg_fail(err, VG_ERR_NOMEM, "out of memory for the cameras");
    int rc = VG_OK;
    for (int i = 0; i < cfg->n_cameras && !rc; i++) {
        const vg_camera_config *cc = &cfg->cameras[i];
        vg_model *m = model_of(r->models, i);
        vg_camera *c = &r->cams[i];
        c->cfg = cc, c->sp = source_of(cc, m), c->cp = vg_checks_default_params();
        vg_model_checks_params(m, &c->cp);
        c->emit = &r->emit, c->log = r->log, c->log_user = r->user, c->stop = &r->stop;
        c->dir = cfg->dir, c->store = r->store, c->pre = cfg->pre, c->post = cfg->post;
        char labels[128];
        snprintf(labels, sizeof labels, "camera=\"%s\"", cc->id);
        r->fps[i] = vg_metrics_gauge(r->metrics, "vigil_fps", "Frames in per second", labels);
        r->ecams[i] = (vg_engine_camera){.cam = c, .model = m};
        rc = operating_point(cc, m, &r->ecams[i].op, err);
        if (!rc) rc = load_allowlist(r, i, err);
        if (!rc)
            rc = vg_queue_create(cfg->queue, (size_t)c->sp.width * c->sp.height * 3, &r->lock,
                                 &r->wake, &c->queue, err);
    }
    return rc;
}

static vg_drift_params drift_params(const vg_watch_config *cfg) {
    vg_drift_params p = vg_drift_default_params();
    p.psi_alert = cfg->drift_psi_alert, p.psi_clear = cfg->drift_psi_clear;
    p.sustain = cfg->drift_sustain, p.adaptive = cfg->drift_adaptive;
    p.max_change = cfg->drift_max_change;
    return p;
}

static int start_threads(vg_run *r, vg_error *err) {
    vg_engine_params ep = {.cameras = r->ecams, .n = r->cfg->n_cameras, .batch = r->cfg->batch,
                           .dir = r->cfg->dir, .store = r->store, .emit = &r->emit,
                           .metrics = r->metrics, .drift = r->cfg->drift,
                           .drift_params = drift_params(r->cfg), .log = r->log,
                           .log_user = r->user,
                           .lock = &r->lock, .wake = &r->wake, .stop = &r->stop};
    int rc = vg_engine_start(&ep, &r->engine, err);
    r->t0 = vg_mono_now();
    for (; !rc && r->started_cams < r->cfg->n_cameras; r->started_cams++)
        rc = vg_camera_start(&r->cams[r->started_cams], r->metrics, err);
    if (!rc && pthread_create(&r->keeper, NULL, keeper_main, r))
        rc = vg_fail(err, VG_ERR_NOMEM, "cannot start the housekeeping thread");
    r->keeper_started = !rc;
    return rc;
}

static int start_http(vg_run *r, vg_error *err) {
    if (!r->cfg->http_port) return VG_OK;
    vg_http_handlers h = {.metrics = r->metrics, .store = r->store, .dir = r->cfg->dir,
                          .token = r->cfg->token, .health = health, .cameras = cameras_json,
                          .feedback = feedback, .user = r};
    int rc = vg_http_start(r->cfg->http_bind, r->cfg->http_port, &h, &r->http, err);
    if (!rc) say(r, "HTTP on %s:%d", r->cfg->http_bind, vg_http_port(r->http));
    return rc;
}

int vg_run_start(const vg_watch_config *cfg, vg_run_models *models, vg_log_fn log, void *user,
                 vg_run **out, vg_error *err) {
    *out = NULL;
    vg_run *r = calloc(1, sizeof *r);
    if (!r) {
        vg_run_models_free(models);
        return vg_fail(err, VG_ERR_NOMEM, "out of memory for vigil watch");
    }
    r->cfg = cfg, r->models = models, r->log = log, r->user = user;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->wake, NULL);
    pthread_cond_init(&r->tick, NULL);
    atomic_init(&r->stop, 0);
    int rc = open_store(r, err);
    if (!rc) r->uptime = vg_metrics_gauge(r->metrics, "vigil_uptime_seconds", "Seconds running", NULL);
    if (!rc) rc = plan_cameras(r, err);
    if (!rc) rc = start_threads(r, err);
    if (!rc) rc = start_http(r, err);
    if (rc) {
        vg_run_stop(r, 0);
        return rc;
    }
    *out = r;
    return VG_OK;
}

void vg_run_stop(vg_run *r, double deadline) {
    if (!r) return;
    vg_http_stop(r->http);
    pthread_mutex_lock(&r->lock);
    atomic_store(&r->stop, 1);
    pthread_cond_broadcast(&r->wake);
    pthread_cond_broadcast(&r->tick);
    pthread_mutex_unlock(&r->lock);
    vg_engine_join(r->engine); /* first: its last events ask the cameras for clip ends */
    for (int i = 0; i < r->started_cams; i++) vg_camera_join(&r->cams[i]);
    if (r->keeper_started) pthread_join(r->keeper, NULL);
    vg_outbox_free(r->outbox, deadline);
    for (int i = 0; r->cams && i < r->cfg->n_cameras; i++) vg_queue_free(r->cams[i].queue);
    for (int i = 0; r->allow && i < r->cfg->n_cameras; i++) vg_allowlist_free(r->allow[i]);
    vg_store_close(r->store);
    vg_metrics_free(r->metrics);
    vg_run_models_free(r->models);
    free(r->cams), free(r->ecams), free(r->allow), free(r->fps);
    free(r->frames_before);
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->wake);
    pthread_cond_destroy(&r->tick);
    free(r);
}

/* ---- checking ----------------------------------------------------------------------------- */

int vg_run_models_load(const vg_watch_config *cfg, vg_run_models **out, vg_error *err) {
    *out = NULL;
    vg_run_models *m = calloc(1, sizeof *m);
    if (!m) return vg_fail(err, VG_ERR_NOMEM, "out of memory for the models");
    int rc = load_models(cfg, m, err);
    for (int i = 0; i < cfg->n_cameras && !rc; i++) {
        vg_operating_point op;
        rc = operating_point(&cfg->cameras[i], model_of(m, i), &op, err);
    }
    if (rc) {
        vg_run_models_free(m);
        return rc;
    }
    *out = m;
    return VG_OK;
}

int vg_run_check_sources(const vg_watch_config *cfg, vg_error *err) {
    for (int i = 0; i < cfg->n_cameras; i++) {
        const vg_camera_config *c = &cfg->cameras[i];
        int errnum = 0;
        if (vg_uri_classify(c->source, &errnum) != VG_URI_MISSING) continue;
        int rc = vg_uri_missing(c->source, errnum, err);
        vg_error why = *err;
        return vg_fail(err, rc, "camera %s: %s", c->id, why.msg);
    }
    return VG_OK;
}

void vg_run_stats(vg_run *r, vg_watch_stats *out) {
    vg_engine_stats es;
    vg_engine_stats_get(r->engine, &es);
    *out = (vg_watch_stats){.cameras = r->cfg->n_cameras, .scored = es.scored,
                            .latency_p50 = es.latency_p50, .latency_p95 = es.latency_p95,
                            .latency_p99 = es.latency_p99, .latency_max = es.latency_max,
                            .http_port = r->http ? vg_http_port(r->http) : 0,
                            .seconds = vg_mono_now() - r->t0};
    for (int i = 0; i < r->cfg->n_cameras; i++) {
        out->frames_in += (long long)vg_metric_value(r->cams[i].frames_in);
        out->dropped += vg_queue_dropped(r->cams[i].queue);
        out->up += atomic_load(&r->cams[i].connected);
    }
    out->events = atomic_load(&r->emit.next_id) - r->first_id;
    vg_sink_stats st[3];
    int n = 0;
    vg_outbox_stats(r->outbox, st, &n);
    for (int i = 0; i < n; i++) out->owed += st[i].owed;
}
