/* camera.c - a camera's decode thread (see camera.h). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/file.h"
#include "core/status.h"
#include "serve/camera.h"
#include "serve/privacy.h"

#define BACKOFF_MAX 30.0 /* seconds between reconnection attempts at most */

static void say(vg_camera *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(vg_camera *c, const char *fmt, ...) {
    if (!c->log) return;
    char line[768];
    int k = snprintf(line, sizeof line, "camera %s: ", c->cfg->id);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + k, sizeof line - (size_t)k, fmt, ap);
    va_end(ap);
    c->log(c->log_user, line);
}

/* Sleeps up to seconds, waking early when the service stops. */
static void nap(vg_camera *c, double seconds) {
    for (double t = 0; t < seconds && !atomic_load(c->stop); t += 0.05)
        nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
}

static void post_event(vg_camera *c, const vg_event *ev) {
    vg_error err;
    char clip[96];
    vg_clip_path(clip, sizeof clip, c->cfg->id, ev->id);
    if (ev->type == VG_EVENT_NEW) vg_camera_clip_begin(c, ev->id, ev->start_time);
    if (ev->type == VG_EVENT_END) vg_camera_clip_end(c, ev->id, ev->end_time);
    if (vg_emit_event(c->emit, c->cfg->id, c->cfg->shadow, ev, NULL, clip, &err))
        say(c, "event %lld not stored: %s", ev->id, err.msg);
}

/* ---- evidence clips ---------------------------------------------------------------------- */

static void request(vg_camera *c, long long id, double t, int end) {
    pthread_mutex_lock(&c->req_lock);
    if (c->req_n < VG_CLIP_REQUESTS) c->req[c->req_n++] = (struct vg_clip_request){id, t, end};
    else c->req_dropped++;
    pthread_mutex_unlock(&c->req_lock);
}

void vg_camera_clip_begin(vg_camera *c, long long id, double start) { request(c, id, start, 0); }
void vg_camera_clip_end(vg_camera *c, long long id, double end) { request(c, id, end, 1); }

/* A clip is written: registered for retention, or its failure said. */
static void clip_done(void *user, long long id, const char *path, long long bytes,
                      const vg_error *failure) {
    vg_camera *c = user;
    vg_error err;
    size_t k = strlen(c->dir) + 1; /* the store keeps paths relative to its folder */
    if (failure) say(c, "clip of event %lld: %s", id, failure->msg);
    else if (vg_store_add_file(c->store, path + k, bytes, vg_wall_now(), &err))
        say(c, "clip of event %lld not registered for retention: %s", id, err.msg);
}

/* Applies the clip requests that came in since the last frame. */
static void serve_requests(vg_camera *c) {
    struct vg_clip_request req[VG_CLIP_REQUESTS];
    pthread_mutex_lock(&c->req_lock);
    int n = c->req_n, dropped = c->req_dropped;
    memcpy(req, c->req, (size_t)n * sizeof *req);
    c->req_n = c->req_dropped = 0;
    pthread_mutex_unlock(&c->req_lock);
    if (dropped) say(c, "%d clip requests dropped (too many at once)", dropped);
    for (int i = 0; i < n && (c->rec || c->remux); i++) {
        char rel[96], path[4096];
        vg_error err;
        if (req[i].end) {
            if (c->remux) vg_remuxer_end(c->remux, req[i].id, req[i].t);
            else vg_recorder_end(c->rec, req[i].id, req[i].t);
            continue;
        }
        vg_clip_path(rel, sizeof rel, c->cfg->id, req[i].id);
        snprintf(path, sizeof path, "%s/%s", c->dir, rel);
        int rc = c->remux ? vg_remuxer_begin(c->remux, req[i].id, path, req[i].t, clip_done, c, &err)
                          : vg_recorder_begin(c->rec, req[i].id, path, req[i].t, clip_done, c, &err);
        if (rc) say(c, "clip of event %lld not recorded: %s", req[i].id, err.msg);
    }
}

/* The source's packets, as they are read: into the remuxer's ring, timed on the wall
 * clock (the events' clock) by an offset taken at the connection's first packet. */
static void on_packet(void *user, const AVPacket *pkt, const AVStream *st) {
    vg_camera *c = user;
    vg_error err;
    if (!c->remux_ok) return;
    if (!c->remux) {
        const char *ext = vg_remux_extension(st->codecpar);
        vg_remuxer_params p = vg_remuxer_default_params();
        p.pre = c->pre, p.post = c->post;
        /* clip paths end in .mp4 (vg_clip_path); other codecs are re-encoded */
        if (!ext || strcmp(ext, "mp4") || vg_remuxer_create(&p, &c->remux, &err)) {
            c->remux_ok = 0;
            return;
        }
    }
    int64_t ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
    double t = ts != AV_NOPTS_VALUE ? ts * av_q2d(st->time_base) : NAN;
    if (!c->offset_set && isfinite(t)) c->pts_offset = vg_wall_now() - t, c->offset_set = 1;
    t = isfinite(t) ? t + c->pts_offset : vg_wall_now();
    if (vg_remuxer_packet(c->remux, pkt, st, t, &err)) say(c, "clip: %s", err.msg);
}

/* A new connection: its packets feed the remuxer when clips can be copied from them. */
static void tap(vg_camera *c, vg_source *s, vg_uri_kind kind) {
    c->offset_set = 0;
    c->fps = vg_source_fps(s);
    c->remux_ok = !c->cfg->n_masks && kind != VG_URI_FOLDER && (c->remux || !c->rec);
    vg_source_set_packet_tap(s, c->remux_ok ? on_packet : NULL, c);
}

/* The re-encoding recorder, for a camera whose clips cannot be copied from its packets. */
static void make_recorder(vg_camera *c) {
    vg_recorder_params p = vg_recorder_default_params();
    p.width = c->sp.width, p.height = c->sp.height;
    p.fps = c->fps > 0 ? c->fps : p.fps;
    p.pre = c->pre, p.post = c->post;
    vg_error err;
    if (vg_recorder_create(&p, &c->rec, &err)) say(c, "no evidence clips: %s", err.msg);
    c->remux_ok = 0;
}

static void post_status(vg_camera *c, const char *status, const char *detail) {
    vg_error err;
    say(c, "%s%s%s", status, detail ? ": " : "", detail ? detail : "");
    if (vg_emit_status(c->emit, c->cfg->id, c->cfg->shadow, status, detail, &err))
        say(c, "%s not stored: %s", status, err.msg);
}

/* The checks' scores through their deciders. */
static void decide_checks(vg_camera *c, const vg_checks_frame *cf, double wall) {
    c->seq++;
    for (int k = VG_EVENT_FROZEN_FRAME; k < VG_EVENT_CLASSES; k++) {
        vg_event ev;
        vg_error err;
        int got = 0;
        if (vg_track_push(&c->track[k], c->emit, c->seq, wall, cf->score[k], &ev, &got, &err))
            say(c, "%s decision failed: %s", vg_event_class_name((vg_event_class)k), err.msg);
        else if (got)
            post_event(c, &ev);
    }
}

/* Rebuilds the privacy mask when the source's geometry changed (a new stream). */
static int update_mask(vg_camera *c, vg_source *s, const vg_frame *f) {
    vg_rect src, dst;
    vg_source_rects(s, &src, &dst);
    if (!memcmp(&src, &c->msrc, sizeof src) && !memcmp(&dst, &c->mdst, sizeof dst)) return 1;
    c->msrc = src, c->mdst = dst;
    return vg_privacy_mask(c->cfg->masks, c->cfg->n_masks, src, dst, f->width, f->height,
                           c->mask) >= 0;
}

static void on_frame(vg_camera *c, vg_source *s, const vg_frame *f, int first) {
    if (c->mask) {
        if (!update_mask(c, s, f)) { /* never let an unmasked picture through */
            say(c, "out of memory for the privacy mask: frame dropped");
            return;
        }
        vg_privacy_apply((unsigned char *)f->rgb, c->mask, f->width, f->height);
    }
    double wall = vg_wall_now(), mono = vg_mono_now();
    vg_checks_frame cf;
    vg_error err;
    if (!c->remux && !c->rec) make_recorder(c); /* no packets were copied: re-encode */
    serve_requests(c);
    if (c->rec && vg_recorder_push(c->rec, f->rgb, wall, &err)) say(c, "clip: %s", err.msg);
    c->last_pts = f->pts, c->last_mono = mono;
    if (vg_checks_push(c->checks, f->rgb, f->width, f->height, f->pts, &cf, &err))
        say(c, "checks failed: %s", err.msg);
    else
        decide_checks(c, &cf, wall);
    vg_queued q = {.rgb = (unsigned char *)f->rgb, .seq = c->seq, .wall = wall,
                   .arrival = mono, .first = first};
    vg_queue_push(c->queue, &q);
    vg_metric_add(c->frames_in, 1);
}

/* Reads an open source until it ends, fails or the service stops: VG_END for a file's
 * end, VG_OK when stopped, else the failure. */
static int run_source(vg_camera *c, vg_source *s, vg_error *err) {
    long long errors = 0;
    for (int first = 1; !atomic_load(c->stop); first = 0) {
        vg_frame f;
        int rc = vg_source_read(s, &f, err);
        long long e = vg_source_errors(s);
        vg_metric_add(c->decode_errors, (double)(e - errors));
        errors = e;
        if (rc) return rc;
        on_frame(c, s, &f, first);
    }
    return VG_OK;
}

/* The source is down: keep signal_lost open and say so once per outage. */
static void lost(vg_camera *c, int *down, const char *why) {
    vg_checks_frame cf;
    /* the checks keep the source's clock: its last timestamp and the time since */
    vg_checks_lost(c->checks, c->last_pts + (vg_mono_now() - c->last_mono), &cf);
    decide_checks(c, &cf, vg_wall_now());
    if (*down) return;
    *down = 1;
    atomic_store(&c->connected, 0);
    vg_metric_set(c->up, 0);
    post_status(c, "camera_lost", why);
}

/* vg_source_params.abort: a network wait gives up when the service stops. */
static int stopping(void *user) {
    const vg_camera *c = user;
    return atomic_load(c->stop);
}

static void *camera_main(void *arg) {
    vg_camera *c = arg;
    int errnum = 0, down = 0;
    vg_uri_kind kind = vg_uri_classify(c->cfg->source, &errnum);
    c->sp.abort = stopping, c->sp.abort_user = c;
    int live = kind == VG_URI_URL || kind == VG_URI_DEVICE;
    double backoff = 1;
    while (!atomic_load(c->stop)) {
        vg_source *s = NULL;
        vg_error err;
        if (vg_source_open(c->cfg->source, &c->sp, &s, &err)) {
            if (atomic_load(c->stop)) break; /* interrupted by the stop */
            lost(c, &down, err.msg);
            nap(c, backoff);
            backoff = backoff * 2 < BACKOFF_MAX ? backoff * 2 : BACKOFF_MAX;
            vg_metric_add(c->reconnects, 1);
            continue;
        }
        tap(c, s, kind);
        if (down) post_status(c, "camera_found", NULL);
        down = 0, backoff = 1;
        atomic_store(&c->connected, 1);
        vg_metric_set(c->up, 1);
        vg_checks_reset(c->checks);
        int rc = run_source(c, s, &err);
        vg_source_close(s);
        if (rc == VG_OK || atomic_load(c->stop)) break; /* stopped */
        if (rc == VG_END && !live) {
            if (c->cfg->loop) continue;
            atomic_store(&c->connected, 0);
            atomic_store(&c->ended, 1);
            vg_metric_set(c->up, 0);
            post_status(c, "camera_ended", "the file ended");
            break;
        }
        lost(c, &down, rc == VG_END ? "the stream ended" : err.msg);
    }
    for (int k = VG_EVENT_FROZEN_FRAME; k < VG_EVENT_CLASSES; k++) {
        vg_event ev;
        int got = 0;
        vg_track_flush(&c->track[k], c->emit, &ev, &got);
        if (got) post_event(c, &ev);
    }
    return NULL;
}

static void camera_metrics(vg_camera *c, vg_metrics *r) {
    char l[128];
    snprintf(l, sizeof l, "camera=\"%s\"", c->cfg->id);
    c->frames_in = vg_metrics_counter(r, "vigil_frames_in_total", "Frames decoded", l);
    c->decode_errors = vg_metrics_counter(r, "vigil_decode_errors_total",
                                          "Frames that failed to decode and were skipped", l);
    c->reconnects = vg_metrics_counter(r, "vigil_reconnects_total",
                                       "Failed attempts to open the source", l);
    c->up = vg_metrics_gauge(r, "vigil_camera_up", "1 while the source delivers", l);
}

int vg_camera_start(vg_camera *c, vg_metrics *metrics, vg_error *err) {
    camera_metrics(c, metrics);
    int rc = vg_checks_create(&c->cp, &c->checks, err);
    for (int k = VG_EVENT_FROZEN_FRAME; k < VG_EVENT_CLASSES && !rc; k++) {
        vg_decide_params p = vg_decide_default_params((vg_event_class)k);
        rc = vg_track_init(&c->track[k], &p, c->emit, c->cfg->id, err);
    }
    if (!rc && c->cfg->n_masks && !(c->mask = malloc((size_t)c->sp.width * c->sp.height)))
        rc = vg_fail(err, VG_ERR_NOMEM, "camera %s: out of memory for its privacy mask", c->cfg->id);
    char path[4096];
    snprintf(path, sizeof path, "%s/clips", c->dir);
    if (!rc) rc = vg_make_dir(path, err);
    snprintf(path, sizeof path, "%s/clips/%s", c->dir, c->cfg->id);
    if (!rc) rc = vg_make_dir(path, err);
    pthread_mutex_init(&c->req_lock, NULL);
    if (!rc && pthread_create(&c->thread, NULL, camera_main, c))
        rc = vg_fail(err, VG_ERR_NOMEM, "camera %s: cannot start its thread", c->cfg->id);
    c->started = !rc;
    return rc;
}

void vg_camera_join(vg_camera *c) {
    if (c->started) pthread_join(c->thread, NULL);
    if (c->started) {
        serve_requests(c); /* the ends of events the worker ended at the stop */
        vg_recorder_free(c->rec);
        vg_remuxer_free(c->remux);
        c->rec = NULL, c->remux = NULL;
        pthread_mutex_destroy(&c->req_lock);
    }
    c->started = 0;
    for (int k = 0; k < VG_EVENT_CLASSES; k++) vg_track_free(&c->track[k]);
    vg_checks_free(c->checks);
    free(c->mask);
    c->checks = NULL, c->mask = NULL;
}
