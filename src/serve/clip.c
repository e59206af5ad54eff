/* clip.c - the recorder (see clip.h): a ring of the last pre + lag seconds of frames, and
 * up to max_open clips (clip_slots.c), each a span [from, until] of frame times written by
 * a clip writer (clip_writer.c). A clip's span opens at start - pre; until is open
 * (infinite) until the event ends, then end + post. The first frame past it, or
 * VG_CLIP_MAX_SECONDS after the clip's first frame, finishes the clip. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "serve/clip.h"
#include "serve/clip_slots.h"
#include "serve/clip_writer.h"

typedef vg_clip_slot clip; /* its writer encodes frames (vg_clip_writer_open) */

struct vg_recorder {
    vg_recorder_params p;
    size_t frame_bytes;
    /* the ring: count frames, the oldest at head */
    unsigned char *pixels;
    double *times;
    int capacity, head, count;
    double last;            /* the time of the last frame pushed (when count > 0) */
    clip *clips;            /* max_open slots */
};

vg_recorder_params vg_recorder_default_params(void) {
    return (vg_recorder_params){.fps = 25, .pre = 5, .post = 5, .lag = 2, .max_open = 4};
}

static int check_params(const vg_recorder_params *p, vg_error *err) {
    if (p->width < 1 || p->height < 1 || p->width > 16384 || p->height > 16384)
        return vg_fail(err, VG_ERR_ARG, "clip recorder: frame size %dx%d: each side must be "
                       "1 to 16384 pixels", p->width, p->height);
    if (!(p->fps > 0 && p->fps <= 1000))
        return vg_fail(err, VG_ERR_ARG, "clip recorder: frame rate %g: must be above 0 and at "
                       "most 1000 frames a second", p->fps);
    return vg_clip_check_span("clip recorder", p->pre, p->post, p->lag, p->max_open, err);
}

int vg_recorder_create(const vg_recorder_params *p, vg_recorder **out, vg_error *err) {
    *out = NULL;
    int rc = check_params(p, err);
    if (rc != VG_OK) return rc;
    vg_recorder *r = calloc(1, sizeof *r);
    if (!r) return vg_fail(err, VG_ERR_NOMEM, "clip recorder: out of memory");
    r->p = *p;
    r->frame_bytes = (size_t)p->width * p->height * 3;
    /* the frames of pre + lag seconds at the nominal rate, both ends included, and one for
     * rounding */
    r->capacity = (int)ceil((p->pre + p->lag) * p->fps) + 2;
    r->pixels = malloc((size_t)r->capacity * r->frame_bytes);
    r->times = malloc((size_t)r->capacity * sizeof *r->times);
    r->clips = calloc((size_t)p->max_open, sizeof *r->clips);
    if (!r->pixels || !r->times || !r->clips) {
        rc = vg_fail(err, VG_ERR_NOMEM, "clip recorder: out of memory for %d frames of %dx%d "
                     "(%.0f MB)", r->capacity, p->width, p->height,
                     r->capacity * (double)r->frame_bytes / 1e6);
        vg_recorder_free(r);
        return rc;
    }
    *out = r;
    return VG_OK;
}

/* The ring's i-th frame, 0 the oldest. */
static int ring_slot(const vg_recorder *r, int i) {
    return (r->head + i) % r->capacity;
}

/* Keeps frame rgb at t, first letting go of frames older than pre + lag seconds, and of
 * the oldest when the ring is full (frames faster than the nominal rate). */
static void ring_put(vg_recorder *r, const unsigned char *rgb, double t) {
    double keep = r->p.pre + r->p.lag;
    while (r->count > 0 && (r->times[r->head] < t - keep || r->count == r->capacity)) {
        r->head = ring_slot(r, 1);
        r->count--;
    }
    int s = ring_slot(r, r->count++);
    memcpy(r->pixels + (size_t)s * r->frame_bytes, rgb, r->frame_bytes);
    r->times[s] = t;
}

static int clip_add(clip *c, const unsigned char *rgb, double t, vg_error *err) {
    vg_clip_slot_note(c, t);
    return vg_clip_writer_add(c->writer, rgb, t, err);
}

/* Frame rgb at t for clip c: before its span, ignored; past it (or its length), the clip
 * is finished; else added, and a clip that fails to take it ends with that failure. */
static void clip_offer(clip *c, const unsigned char *rgb, double t) {
    if (t < c->from) return;
    if (vg_clip_slot_over(c, t)) {
        vg_clip_slot_finish(c);
        return;
    }
    vg_error e = {0};
    int rc = clip_add(c, rgb, t, &e);
    if (rc != VG_OK) vg_clip_slot_fail(c, rc, &e);
}

void vg_recorder_free(vg_recorder *r) {
    if (!r) return;
    vg_clip_slots_finish(r->clips, r->p.max_open);
    free(r->pixels);
    free(r->times);
    free(r->clips);
    free(r);
}

int vg_recorder_push(vg_recorder *r, const unsigned char *rgb, double t, vg_error *err) {
    if (!rgb) return vg_fail(err, VG_ERR_ARG, "clip recorder: no frame given");
    if (!isfinite(t))
        return vg_fail(err, VG_ERR_ARG, "clip recorder: frame time %g: not a finite number", t);
    if (r->count > 0 && t < r->last)
        return vg_fail(err, VG_ERR_ARG, "clip recorder: frame time %.3f s is before the "
                       "previous frame's %.3f s: frames must come in time order", t, r->last);
    for (int i = 0; i < r->p.max_open; i++)
        if (r->clips[i].writer) clip_offer(&r->clips[i], rgb, t);
    ring_put(r, rgb, t);
    r->last = t;
    return VG_OK;
}

int vg_recorder_begin(vg_recorder *r, long long key, const char *path, double start,
                      vg_clip_done done, void *user, vg_error *err) {
    clip *c = NULL;
    int rc = vg_clip_slot_claim(r->clips, r->p.max_open, key, path, start, &c, err);
    if (rc != VG_OK) return rc;
    clip made;
    rc = vg_clip_slot_init(&made, key, path, start - r->p.pre, done, user, err);
    if (rc != VG_OK) return rc;
    rc = vg_clip_writer_open(path, r->p.width, r->p.height, r->p.fps, &made.writer, err);
    for (int i = 0; i < r->count && rc == VG_OK; i++) {
        int s = ring_slot(r, i);
        if (r->times[s] >= made.from)
            rc = clip_add(&made, r->pixels + (size_t)s * r->frame_bytes, r->times[s], err);
    }
    return vg_clip_slot_commit(c, &made, rc);
}

void vg_recorder_end(vg_recorder *r, long long key, double end) {
    vg_clip_slots_end(r->clips, r->p.max_open, key, end, r->p.post);
}

int vg_recorder_buffered(const vg_recorder *r) {
    return r->count;
}

int vg_recorder_open_clips(const vg_recorder *r) {
    return vg_clip_slots_open(r->clips, r->p.max_open);
}
