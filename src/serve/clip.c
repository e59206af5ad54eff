/* clip.c - the recorder (see clip.h): a ring of the last pre + lag seconds of frames, and
 * up to max_open clips, each a span [from, until] of frame times written by a clip writer
 * (clip_writer.c). A clip's span opens at start - pre; until is open (infinite) until the
 * event ends, then end + post. The first frame past it, or VG_CLIP_MAX_SECONDS after the
 * clip's first frame, finishes the clip. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "serve/clip.h"
#include "serve/clip_writer.h"

typedef struct clip {
    vg_clip_writer *writer; /* NULL: a free slot */
    long long key;
    char *path;
    double from, until;     /* frames with from <= t <= until go in */
    double first;           /* the time of its first frame */
    long long frames;
    vg_clip_done done;
    void *user;
} clip;

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

static int check_seconds(const char *name, double v, vg_error *err) {
    if (isfinite(v) && v >= 0) return VG_OK;
    return vg_fail(err, VG_ERR_ARG, "clip recorder: %s %g s: must be a finite number >= 0",
                   name, v);
}

static int check_params(const vg_recorder_params *p, vg_error *err) {
    if (p->width < 1 || p->height < 1 || p->width > 16384 || p->height > 16384)
        return vg_fail(err, VG_ERR_ARG, "clip recorder: frame size %dx%d: each side must be "
                       "1 to 16384 pixels", p->width, p->height);
    if (!(p->fps > 0 && p->fps <= 1000))
        return vg_fail(err, VG_ERR_ARG, "clip recorder: frame rate %g: must be above 0 and at "
                       "most 1000 frames a second", p->fps);
    int rc = check_seconds("pre", p->pre, err);
    if (rc == VG_OK) rc = check_seconds("post", p->post, err);
    if (rc == VG_OK) rc = check_seconds("lag", p->lag, err);
    if (rc != VG_OK) return rc;
    if (p->pre + p->lag > VG_CLIP_MAX_SECONDS)
        return vg_fail(err, VG_ERR_ARG, "clip recorder: pre + lag = %g s: the ring would hold "
                       "more than the longest clip (%g s)", p->pre + p->lag, VG_CLIP_MAX_SECONDS);
    if (p->max_open < 1)
        return vg_fail(err, VG_ERR_ARG, "clip recorder: max_open %d: at least 1 clip",
                       p->max_open);
    return VG_OK;
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

/* Ends clip c, whose writer is gone: complete (rc VG_OK, bytes long) or failed (why). Its
 * slot is free again before done hears of it. */
static void clip_close(clip *c, int rc, const vg_error *why, long long bytes) {
    clip was = *c;
    *c = (clip){0};
    if (was.done) was.done(was.user, was.key, was.path, bytes, rc == VG_OK ? NULL : why);
    free(was.path);
}

static void clip_finish(clip *c) {
    vg_error e = {0};
    long long bytes = 0;
    int rc = vg_clip_writer_finish(c->writer, &bytes, &e);
    clip_close(c, rc, &e, bytes);
}

static int clip_add(clip *c, const unsigned char *rgb, double t, vg_error *err) {
    if (c->frames++ == 0) c->first = t;
    return vg_clip_writer_add(c->writer, rgb, t, err);
}

/* Frame rgb at t for clip c: before its span, ignored; past it (or its length), the clip
 * is finished; else added, and a clip that fails to take it ends with that failure. */
static void clip_offer(clip *c, const unsigned char *rgb, double t) {
    if (t < c->from) return;
    if (t > c->until || (c->frames > 0 && t - c->first >= VG_CLIP_MAX_SECONDS)) {
        clip_finish(c);
        return;
    }
    vg_error e = {0};
    int rc = clip_add(c, rgb, t, &e);
    if (rc != VG_OK) {
        vg_clip_writer_abort(c->writer);
        clip_close(c, rc, &e, 0);
    }
}

void vg_recorder_free(vg_recorder *r) {
    if (!r) return;
    for (int i = 0; r->clips && i < r->p.max_open; i++)
        if (r->clips[i].writer) clip_finish(&r->clips[i]);
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

static clip *find_clip(vg_recorder *r, long long key) {
    for (int i = 0; i < r->p.max_open; i++)
        if (r->clips[i].writer && r->clips[i].key == key) return &r->clips[i];
    return NULL;
}

/* Why clip (key, path) cannot begin, before anything is opened. */
static int check_begin(vg_recorder *r, long long key, const char *path, double start,
                       clip **slot, vg_error *err) {
    if (!path || !*path) return vg_fail(err, VG_ERR_ARG, "clip %lld: no path given", key);
    if (!isfinite(start))
        return vg_fail(err, VG_ERR_ARG, "clip %s: start time %g: not a finite number", path,
                       start);
    if (find_clip(r, key))
        return vg_fail(err, VG_ERR_ARG, "clip %s: key %lld is being recorded already", path,
                       key);
    *slot = NULL;
    for (int i = 0; i < r->p.max_open; i++) {
        clip *c = &r->clips[i];
        if (c->writer && strcmp(c->path, path) == 0)
            return vg_fail(err, VG_ERR_ARG, "clip %s: that file is being recorded already "
                           "(key %lld)", path, c->key);
        if (!c->writer && !*slot) *slot = c;
    }
    if (!*slot)
        return vg_fail(err, VG_ERR_UNSUPPORTED, "clip %s: %d clips are being recorded "
                       "already (max_open)", path, r->p.max_open);
    return VG_OK;
}

int vg_recorder_begin(vg_recorder *r, long long key, const char *path, double start,
                      vg_clip_done done, void *user, vg_error *err) {
    clip *c = NULL;
    int rc = check_begin(r, key, path, start, &c, err);
    if (rc != VG_OK) return rc;
    clip made = {.key = key, .from = start - r->p.pre, .until = INFINITY, .done = done,
                 .user = user, .path = strdup(path)};
    if (!made.path) return vg_fail(err, VG_ERR_NOMEM, "clip %s: out of memory", path);
    rc = vg_clip_writer_open(path, r->p.width, r->p.height, r->p.fps, &made.writer, err);
    for (int i = 0; i < r->count && rc == VG_OK; i++) {
        int s = ring_slot(r, i);
        if (r->times[s] >= made.from)
            rc = clip_add(&made, r->pixels + (size_t)s * r->frame_bytes, r->times[s], err);
    }
    if (rc != VG_OK) {
        vg_clip_writer_abort(made.writer);
        free(made.path);
        return rc;
    }
    *c = made;
    return VG_OK;
}

void vg_recorder_end(vg_recorder *r, long long key, double end) {
    clip *c = find_clip(r, key);
    if (c && isfinite(end)) c->until = end + r->p.post;
}

int vg_recorder_buffered(const vg_recorder *r) {
    return r->count;
}

int vg_recorder_open_clips(const vg_recorder *r) {
    int n = 0;
    for (int i = 0; i < r->p.max_open; i++) n += r->clips[i].writer != NULL;
    return n;
}
