/* engine.c - the inference worker (see engine.h). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/file.h"
#include "core/status.h"
#include "serve/engine.h"

#define RECENT 32          /* anomalous frames' embeddings kept per camera for its events */
#define DRIFT_EVERY 60.0   /* seconds between drift checks */

/* The cameras that share one model: the lanes of one scorer. */
typedef struct group {
    vg_model *m;
    vg_scorer *scorer;
    int lanes, n;               /* lanes, and frames in this round */
    int *lane, *item, *scored;  /* per frame of the round: its lane and camera */
    const unsigned char **rgb;
    float **map;
    vg_score *out;
} group;

typedef struct cam {
    vg_engine_camera ec;
    int group, lane, have;      /* have: a frame was taken this round */
    vg_queued q;                /* the frame taken (q.rgb: the camera's buffer) */
    float *map;
    vg_track track;
    char snapshot[96];          /* the open event's, relative to the folder; "" none */
    long long dropped;          /* the queue's drops already counted */
    int dim;                    /* embedding size */
    float *emb;                 /* the embedding of the frame in hand */
    float *recent;              /* the last RECENT anomalous frames' embeddings, a ring by
                                   frame number */
    long long recent_seq[RECENT]; /* their frame numbers; -1: empty */
    vg_metric *scored, *dropped_m, *latency, *score, *suppressed;
    /* drift control: the smoothed value, whether an event is open, the next check */
    vg_drift *drift;            /* NULL: off */
    vg_smoother *smooth;
    int open;
    double next_check;
    double threshold;           /* the decider's enter level now (adaptive moves it) */
    vg_metric *psi, *ks, *threshold_m;
} cam;

struct vg_engine {
    vg_engine_params p;
    cam *cams;
    group *groups;
    int ngroups, rr;
    pthread_t thread;
    int started;
    atomic_llong scored, rounds, lat_n;
    atomic_llong lat[VG_LATENCY_BINS + 1]; /* the last bin: 10 s or more */
};

static void say(vg_engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(vg_engine *e, const char *fmt, ...) {
    if (!e->p.log) return;
    char line[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    e->p.log(e->p.log_user, line);
}

/* ---- a round: take, score, decide ------------------------------------------------------- */

static int any_queued(const vg_engine *e) {
    for (int i = 0; i < e->p.n; i++)
        if (vg_queue_size_locked(e->cams[i].ec.cam->queue)) return 1;
    return 0;
}

/* The oldest frame of each camera in turn, from where the last round stopped, up to
 * batch of them; the lock is held. */
static int take(vg_engine *e) {
    int taken = 0, n = e->p.n;
    for (int i = 0; i < n; i++) e->cams[i].have = 0; /* the cameras this round does not reach */
    for (int k = 0; k < n && taken < e->p.batch; k++) {
        cam *c = &e->cams[(e->rr + k) % n];
        c->have = vg_queue_pop_locked(c->ec.cam->queue, &c->q);
        if (c->have) taken++;
        if (taken == e->p.batch) e->rr = (e->rr + k + 1) % n;
    }
    return taken;
}

/* A heat-map colour scale that means the same on every camera: full colour at twice the
 * threshold's per-pixel error. */
static float map_vmax(const vg_operating_point *op) {
    double t = op->decide.threshold;
    double mse = op->score == VG_SCORE_PSNR ? pow(10, t / 10) : t;
    return mse > 0 ? (float)(2 * mse) : 0;
}

/* The event's heat map, written when it opens. */
static void snapshot(vg_engine *e, cam *c, const vg_event *ev) {
    const char *id = c->ec.cam->cfg->id;
    vg_model_info i = vg_model_describe(c->ec.model);
    char path[4096];
    vg_error err;
    snprintf(c->snapshot, sizeof c->snapshot, "snapshots/%s/%lld.png", id, ev->id);
    snprintf(path, sizeof path, "%s/%s", e->p.dir, c->snapshot);
    struct stat st;
    if (vg_heatmap_png(path, c->q.rgb, c->map, i.width, i.height, map_vmax(&c->ec.op), &err)) {
        say(e, "camera %s: snapshot of event %lld not written: %s", id, ev->id, err.msg);
        c->snapshot[0] = 0;
    } else if (!stat(path, &st) &&
               vg_store_add_file(e->p.store, c->snapshot, (long long)st.st_size, vg_wall_now(),
                                 &err)) {
        say(e, "camera %s: snapshot not registered for retention: %s", id, err.msg);
    }
}

/* The decider's exit level now: the configured one moved along with the threshold. */
static double exit_level(const cam *c) {
    const vg_decide_params *d = &c->ec.op.decide;
    if (isnan(d->exit)) return c->threshold;
    return d->margin == VG_MARGIN_ABSOLUTE ? d->exit + (c->threshold - d->threshold)
                                           : d->exit * (c->threshold / d->threshold);
}

/* An anomalous frame: suppressed when the allowlist knows it, else remembered for the
 * event it may belong to. Returns the value to decide on. */
static double screen(vg_engine *e, cam *c, double value) {
    if (!(value >= exit_level(c))) return value;
    group *g = &e->groups[c->group];
    vg_error err;
    if (vg_scorer_embedding(g->scorer, c->lane, c->emb, &err)) {
        say(e, "camera %s: no embedding: %s", c->ec.cam->cfg->id, err.msg);
        return value;
    }
    if (vg_allowlist_size(c->ec.allow) && vg_allowlist_match(c->ec.allow, c->emb, NULL)) {
        vg_metric_add(c->suppressed, 1);
        return 0;
    }
    int slot = (int)(c->q.seq % RECENT);
    memcpy(c->recent + (size_t)slot * c->dim, c->emb, (size_t)c->dim * sizeof *c->emb);
    c->recent_seq[slot] = c->q.seq;
    return value;
}

/* An ended event's frames' embeddings into the store. */
static void keep_embeddings(vg_engine *e, cam *c, const vg_event *ev) {
    float *v = malloc((size_t)RECENT * c->dim * sizeof *v);
    int n = 0;
    for (int k = 0; v && k < RECENT; k++)
        if (c->recent_seq[k] >= ev->start_frame && c->recent_seq[k] <= ev->end_frame)
            memcpy(v + (size_t)n++ * c->dim, c->recent + (size_t)k * c->dim,
                   (size_t)c->dim * sizeof *v);
    vg_error err;
    if (n && vg_store_add_embeddings(e->p.store, ev->id, v, c->dim, n, &err))
        say(e, "camera %s: event %lld's embeddings not stored: %s", c->ec.cam->cfg->id, ev->id,
            err.msg);
    free(v);
}

/* ---- drift ---------------------------------------------------------------------------- */

static void drift_status(vg_engine *e, cam *c, const char *status, const vg_drift_report *d) {
    const vg_camera_config *cfg = c->ec.cam->cfg;
    char detail[256];
    vg_error err;
    if (!strcmp(status, "drift"))
        snprintf(detail, sizeof detail, "the last hour's scores have shifted from calibration "
                 "(PSI %.2f, KS %.2f): retrain on recent normal footage", d->psi[0], d->ks[0]);
    else
        snprintf(detail, sizeof detail, "the last hour's scores are back near calibration "
                 "(PSI %.2f)", d->psi[0]);
    if (e->p.log) say(e, "camera %s: %s: %s", cfg->id, status, detail);
    if (vg_emit_status(e->p.emit, cfg->id, cfg->shadow, status, detail, &err))
        say(e, "camera %s: %s not stored: %s", cfg->id, status, err.msg);
}

static void drift_check(vg_engine *e, cam *c, double now) {
    vg_drift_report d;
    vg_drift_check(c->drift, now, &d);
    vg_metric_set(c->psi, d.psi[0]);
    vg_metric_set(c->ks, d.ks[0]);
    if (d.started) drift_status(e, c, "drift", &d);
    if (d.ended) drift_status(e, c, "drift_end", &d);
    vg_error err;
    if (d.threshold != c->threshold && !c->open) { /* an open event keeps its levels */
        double old = c->threshold;
        c->threshold = d.threshold;
        double exit = isnan(c->ec.op.decide.exit) ? NAN : exit_level(c);
        if (vg_decider_set_threshold(c->track.d, c->threshold, exit, &err)) {
            c->threshold = old;
            say(e, "camera %s: adaptive threshold refused: %s", c->ec.cam->cfg->id, err.msg);
        }
    }
    vg_metric_set(c->threshold_m, c->threshold);
}

/* The smoothed value into drift control; a check each minute. */
static void follow_drift(vg_engine *e, cam *c, double value) {
    double sm = vg_smoother_push(c->smooth, value);
    if (!c->drift) return;
    if (isfinite(sm)) vg_drift_push(c->drift, c->q.wall, sm, c->open);
    if (c->q.wall < c->next_check) return;
    c->next_check = c->q.wall + DRIFT_EVERY;
    drift_check(e, c, c->q.wall);
}

static void decide(vg_engine *e, cam *c, const vg_score *s) {
    const vg_camera_config *cfg = c->ec.cam->cfg;
    double value = screen(e, c, vg_anomaly_value(c->ec.op.score, s));
    vg_event ev;
    vg_error err;
    int got = 0;
    if (vg_track_push(&c->track, e->p.emit, c->q.seq, c->q.wall, value, &ev, &got, &err))
        say(e, "camera %s: decision failed: %s", cfg->id, err.msg);
    if (got) {
        char clip[96];
        vg_clip_path(clip, sizeof clip, cfg->id, ev.id);
        if (ev.type == VG_EVENT_NEW) snapshot(e, c, &ev), vg_camera_clip_begin(c->ec.cam, ev.id, ev.start_time);
        if (ev.type == VG_EVENT_END) keep_embeddings(e, c, &ev), vg_camera_clip_end(c->ec.cam, ev.id, ev.end_time);
        if (vg_emit_event(e->p.emit, cfg->id, cfg->shadow, &ev, c->snapshot[0] ? c->snapshot : NULL,
                          clip, &err))
            say(e, "camera %s: event %lld not stored: %s", cfg->id, ev.id, err.msg);
        if (ev.type == VG_EVENT_END) c->snapshot[0] = 0;
        c->open = ev.type != VG_EVENT_END;
    }
    follow_drift(e, c, value);
    vg_outbox_score(e->p.emit->outbox, cfg->id, c->q.wall, value, c->ec.op.decide.threshold);
    vg_metric_set(c->score, value);
    vg_metric_add(c->scored, 1);
}

static void count_latency(vg_engine *e, cam *c) {
    double lat = vg_mono_now() - c->q.arrival;
    long long bin = (long long)(lat * 1000);
    atomic_fetch_add(&e->lat[bin < 0 ? 0 : bin > VG_LATENCY_BINS ? VG_LATENCY_BINS : bin], 1);
    atomic_fetch_add(&e->lat_n, 1);
    vg_metric_observe(c->latency, lat);
}

static void score_group(vg_engine *e, group *g) {
    vg_error err;
    if (vg_scorer_push_lanes(g->scorer, g->n, g->lane, g->rgb, g->out, g->map, NULL, g->scored,
                             &err)) {
        say(e, "scoring failed: %s", err.msg);
        return;
    }
    for (int k = 0; k < g->n; k++) {
        cam *c = &e->cams[g->item[k]];
        if (g->scored[k]) decide(e, c, &g->out[k]);
        count_latency(e, c); /* a context frame is decided too: there is nothing to decide */
    }
    atomic_fetch_add(&e->scored, g->n);
}

static void round_(vg_engine *e) {
    for (int i = 0; i < e->ngroups; i++) e->groups[i].n = 0;
    for (int i = 0; i < e->p.n; i++) {
        cam *c = &e->cams[i];
        long long d = vg_queue_dropped(c->ec.cam->queue);
        vg_metric_add(c->dropped_m, (double)(d - c->dropped));
        c->dropped = d;
        if (!c->have) continue;
        group *g = &e->groups[c->group];
        if (c->q.first) vg_scorer_reset_lane(g->scorer, c->lane);
        g->lane[g->n] = c->lane, g->item[g->n] = i;
        g->rgb[g->n] = c->q.rgb, g->map[g->n] = c->map;
        g->n++;
    }
    for (int i = 0; i < e->ngroups; i++)
        if (e->groups[i].n) score_group(e, &e->groups[i]);
    atomic_fetch_add(&e->rounds, 1);
}

static void *engine_main(void *arg) {
    vg_engine *e = arg;
    for (;;) {
        pthread_mutex_lock(e->p.lock);
        while (!atomic_load(e->p.stop) && !any_queued(e)) pthread_cond_wait(e->p.wake, e->p.lock);
        int stop = atomic_load(e->p.stop);
        if (!stop) take(e);
        pthread_mutex_unlock(e->p.lock);
        if (stop) break;
        round_(e);
    }
    for (int i = 0; i < e->p.n; i++) {
        cam *c = &e->cams[i];
        vg_event ev;
        vg_error err;
        int got = 0;
        vg_track_flush(&c->track, e->p.emit, &ev, &got);
        if (!got) continue;
        char clip[96];
        vg_clip_path(clip, sizeof clip, c->ec.cam->cfg->id, ev.id);
        keep_embeddings(e, c, &ev);
        vg_camera_clip_end(c->ec.cam, ev.id, ev.end_time);
        if (vg_emit_event(e->p.emit, c->ec.cam->cfg->id, c->ec.cam->cfg->shadow, &ev,
                          c->snapshot[0] ? c->snapshot : NULL, clip, &err))
            say(e, "camera %s: event %lld not stored: %s", c->ec.cam->cfg->id, ev.id, err.msg);
    }
    return NULL;
}

/* ---- setting up ---------------------------------------------------------------------------- */

static int group_alloc(group *g, vg_error *err) {
    size_t n = (size_t)g->lanes;
    g->lane = malloc(n * sizeof *g->lane), g->item = malloc(n * sizeof *g->item);
    g->scored = malloc(n * sizeof *g->scored), g->rgb = malloc(n * sizeof *g->rgb);
    g->map = malloc(n * sizeof *g->map), g->out = malloc(n * sizeof *g->out);
    if (!g->lane || !g->item || !g->scored || !g->rgb || !g->map || !g->out)
        return vg_fail(err, VG_ERR_NOMEM, "out of memory for the inference worker");
    return VG_OK;
}

/* Cameras of one model pointer form a group; each camera is a lane of it. */
static int make_groups(vg_engine *e, vg_error *err) {
    e->groups = calloc((size_t)e->p.n, sizeof *e->groups);
    if (!e->groups) return vg_fail(err, VG_ERR_NOMEM, "out of memory for the inference worker");
    for (int i = 0; i < e->p.n; i++) {
        cam *c = &e->cams[i];
        int g = 0;
        while (g < e->ngroups && e->groups[g].m != c->ec.model) g++;
        if (g == e->ngroups) e->groups[e->ngroups++].m = c->ec.model;
        c->group = g, c->lane = e->groups[g].lanes++;
    }
    int rc = VG_OK;
    for (int g = 0; g < e->ngroups && !rc; g++) rc = group_alloc(&e->groups[g], err);
    return rc;
}

/* Each group's scorer, with the patch window its cameras agree on. */
static int make_scorers(vg_engine *e, vg_error *err) {
    for (int g = 0; g < e->ngroups; g++) {
        int patch = 0;
        for (int i = 0; i < e->p.n; i++) {
            cam *c = &e->cams[i];
            if (c->group != g) continue;
            if (patch && c->ec.op.patch != patch)
                return vg_fail(err, VG_ERR_ARG, "camera %s: patch window %d differs from %d of "
                               "another camera of the same model", c->ec.cam->cfg->id,
                               c->ec.op.patch, patch);
            patch = c->ec.op.patch;
        }
        int rc = vg_scorer_create_lanes(e->groups[g].m, patch, e->groups[g].lanes,
                                        &e->groups[g].scorer, err);
        if (rc) return rc;
    }
    return VG_OK;
}

/* Drift control for a camera whose threshold and reference come from one calibration. */
static int drift_init(vg_engine *e, cam *c, const char *labels, vg_error *err) {
    const char *id = c->ec.cam->cfg->id;
    c->psi = vg_metrics_gauge(e->p.metrics, "vigil_drift_psi",
                              "PSI of the last hour's smoothed scores against calibration", labels);
    c->ks = vg_metrics_gauge(e->p.metrics, "vigil_drift_ks",
                             "KS statistic of the last hour's smoothed scores against calibration",
                             labels);
    c->threshold_m = vg_metrics_gauge(e->p.metrics, "vigil_threshold",
                                      "The prediction_error enter level now", labels);
    vg_metric_set(c->threshold_m, c->threshold);
    if (!e->p.drift) return VG_OK;
    vg_calibration cal;
    double ref[101];
    vg_error why;
    int off = vg_model_calibration(c->ec.model, &cal, &why) ||
              vg_model_calibration_reference(c->ec.model, ref, &why);
    if (!off && cal.score != c->ec.op.score)
        off = 1, snprintf(why.msg, sizeof why.msg, "it decides on %s, calibrated on %s",
                          vg_score_kind_name(c->ec.op.score), vg_score_kind_name(cal.score));
    if (off) {
        say(e, "camera %s: drift control off: %s", id, why.msg);
        return VG_OK;
    }
    vg_drift_params dp = e->p.drift_params;
    dp.absolute = c->ec.op.decide.margin == VG_MARGIN_ABSOLUTE;
    int rc = vg_drift_create(ref, c->threshold, &dp, &c->drift, err);
    if (rc) {
        vg_error w = *err;
        return vg_fail(err, rc, "camera %s: drift: %s", id, w.msg);
    }
    return VG_OK;
}

static int cam_init(vg_engine *e, cam *c, vg_error *err) {
    const char *id = c->ec.cam->cfg->id;
    vg_model_info i = vg_model_describe(c->ec.model);
    char l[128], path[4096];
    snprintf(l, sizeof l, "camera=\"%s\"", id);
    static const double bounds[] = {.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
    c->scored = vg_metrics_counter(e->p.metrics, "vigil_frames_scored_total", "Frames scored", l);
    c->dropped_m = vg_metrics_counter(e->p.metrics, "vigil_frames_dropped_total",
                                      "Frames dropped from a full queue", l);
    c->latency = vg_metrics_histogram(e->p.metrics, "vigil_latency_seconds",
                                      "Frame arrival to decision", l, bounds, 10);
    c->score = vg_metrics_gauge(e->p.metrics, "vigil_score",
                                "The latest anomaly value (higher = more anomalous)", l);
    c->suppressed = vg_metrics_counter(e->p.metrics, "vigil_frames_allowlisted_total",
                                       "Anomalous frames suppressed by the allowlist", l);
    c->dim = vg_model_embedding_size(c->ec.model);
    for (int k = 0; k < RECENT; k++) c->recent_seq[k] = -1;
    c->q.rgb = malloc((size_t)i.width * i.height * 3);
    c->map = malloc((size_t)i.width * i.height * sizeof *c->map);
    c->emb = malloc((size_t)c->dim * sizeof *c->emb);
    c->recent = malloc((size_t)RECENT * c->dim * sizeof *c->recent);
    if (!c->q.rgb || !c->map || !c->emb || !c->recent)
        return vg_fail(err, VG_ERR_NOMEM, "camera %s: out of memory", id);
    snprintf(path, sizeof path, "%s/snapshots/%s", e->p.dir, id);
    int rc = vg_make_dir(path, err);
    c->threshold = c->ec.op.decide.threshold;
    if (!rc) rc = vg_track_init(&c->track, &c->ec.op.decide, e->p.emit, id, err);
    if (!rc) rc = vg_smoother_create(c->ec.op.decide.smooth, &c->smooth, err);
    if (!rc) rc = drift_init(e, c, l, err);
    return rc;
}

int vg_engine_start(const vg_engine_params *p, vg_engine **out, vg_error *err) {
    *out = NULL;
    vg_engine *e = calloc(1, sizeof *e);
    if (!e || !(e->cams = calloc((size_t)p->n, sizeof *e->cams))) {
        free(e);
        return vg_fail(err, VG_ERR_NOMEM, "out of memory for the inference worker");
    }
    e->p = *p;
    char path[4096];
    snprintf(path, sizeof path, "%s/snapshots", p->dir);
    int rc = vg_make_dir(path, err);
    for (int i = 0; i < p->n; i++) e->cams[i].ec = p->cameras[i];
    for (int i = 0; i < p->n && !rc; i++) rc = cam_init(e, &e->cams[i], err);
    if (!rc) rc = make_groups(e, err);
    if (!rc) rc = make_scorers(e, err);
    if (!rc && pthread_create(&e->thread, NULL, engine_main, e))
        rc = vg_fail(err, VG_ERR_NOMEM, "cannot start the inference worker");
    e->started = !rc;
    if (rc) {
        vg_engine_join(e);
        return rc;
    }
    *out = e;
    return VG_OK;
}

void vg_engine_join(vg_engine *e) {
    if (!e) return;
    if (e->started) pthread_join(e->thread, NULL);
    for (int i = 0; i < e->p.n; i++) {
        vg_track_free(&e->cams[i].track);
        vg_smoother_free(e->cams[i].smooth);
        vg_drift_free(e->cams[i].drift);
        free(e->cams[i].q.rgb), free(e->cams[i].map), free(e->cams[i].emb), free(e->cams[i].recent);
    }
    for (int g = 0; e->groups && g < e->ngroups; g++) {
        group *gr = &e->groups[g];
        vg_scorer_free(gr->scorer);
        free(gr->lane), free(gr->item), free(gr->scored), free(gr->rgb), free(gr->map), free(gr->out);
    }
    free(e->groups), free(e->cams);
    free(e);
}

/* The smallest latency with at least share q of the counts at or below it. */
static double quantile(const vg_engine *e, long long n, double q) {
    long long want = (long long)ceil(q * n), seen = 0;
    for (int b = 0; b <= VG_LATENCY_BINS; b++) {
        seen += atomic_load(&e->lat[b]);
        if (seen >= want && seen) return (b + 1) / 1000.0;
    }
    return NAN;
}

void vg_engine_stats_get(const vg_engine *e, vg_engine_stats *out) {
    long long n = atomic_load(&e->lat_n);
    *out = (vg_engine_stats){.scored = atomic_load(&e->scored), .rounds = atomic_load(&e->rounds),
                             .latencies = n};
    out->latency_p50 = quantile(e, n, .5);
    out->latency_p95 = quantile(e, n, .95);
    out->latency_p99 = quantile(e, n, .99);
    out->latency_max = quantile(e, n, 1);
}
