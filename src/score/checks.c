/* checks.c - deterministic signal checks beside the model: frozen, black and flat frames,
 * signal loss and loss of detail (the definitions and scores are in vigil.h).
 *
 * Every check works on an 8-bit luma plane, kept for the next frame's motion. Sums are
 * 64-bit integers (a 65536x65536 frame sums to < 2^49 squared levels), so the mean and
 * standard deviation carry no rounding from the order of the pixels. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/stats.h"
#include "core/status.h"
#include "train/footage.h"

#define SCORE_CAP 100 /* a measure of 0 scores limit / (limit / 100): "100x past the limit" */

struct vg_checks {
    vg_checks_params p;
    double frozen_level;
    unsigned char *plane[2]; /* luma planes, this frame's and the previous one, by turns */
    size_t cap;              /* pixels each plane holds */
    int cur;                 /* the plane the next frame goes to */
    int has_prev;            /* the other plane holds the previous frame, width x height */
    int width, height;
    double last_pts;
    int has_pts;             /* a frame has been pushed since create or reset */
    double min_step;         /* the smallest forward timestamp step seen (0: none yet) */
};

vg_checks_params vg_checks_default_params(void) {
    return (vg_checks_params){.motion = 0, .frozen_ratio = 0.2, .frozen_floor = 0.1,
                              .black_level = 20, .flat_level = 3, .fps = 0, .gap_frames = 5,
                              .detail = 0, .detail_ratio = 0.8};
}

static int check_params(const vg_checks_params *p, vg_error *err) {
    const struct {
        const char *name;
        double v, lo;
        int strict; /* v must exceed lo, else reach it */
    } rules[] = {
        {"normal motion", p->motion, 0, 0},      {"frozen ratio", p->frozen_ratio, 0, 0},
        {"frozen floor", p->frozen_floor, 0, 1}, {"black level", p->black_level, 0, 1},
        {"flat level", p->flat_level, 0, 1},     {"frame rate", p->fps, 0, 0},
        {"gap", p->gap_frames, 1, 1},            {"normal detail", p->detail, 0, 0},
        {"detail ratio", p->detail_ratio, 0, 1},
    };
    if (!(p->detail_ratio < 1))
        return vg_fail(err, VG_ERR_ARG, "checks: detail ratio %g, expected below 1", p->detail_ratio);
    for (size_t i = 0; i < sizeof rules / sizeof *rules; i++) {
        double v = rules[i].v, lo = rules[i].lo;
        if (isfinite(v) && (rules[i].strict ? v > lo : v >= lo)) continue;
        return vg_fail(err, VG_ERR_ARG, "checks: %s %g, expected a number %s %g", rules[i].name,
                       v, rules[i].strict ? "above" : "at least", lo);
    }
    return VG_OK;
}

int vg_checks_create(const vg_checks_params *p, vg_checks **out, vg_error *err) {
    if (!p || !out) return vg_fail(err, VG_ERR_ARG, "vg_checks_create: p and out must not be NULL");
    *out = NULL;
    int rc = check_params(p, err);
    if (rc) return rc;
    vg_checks *c = calloc(1, sizeof *c);
    if (!c) return vg_fail(err, VG_ERR_NOMEM, "no memory for the signal checks");
    c->p = *p;
    c->frozen_level = fmax(p->frozen_ratio * p->motion, p->frozen_floor);
    *out = c;
    return VG_OK;
}

void vg_checks_free(vg_checks *c) {
    if (!c) return;
    free(c->plane[0]);
    free(c->plane[1]);
    free(c);
}

void vg_checks_reset(vg_checks *c) {
    c->has_prev = 0;
    c->has_pts = 0;
    c->min_step = 0;
}

/* ---- measures -------------------------------------------------------------------------- */

/* BT.601 luma in 8-bit fixed point; the weights sum to 256, so white stays 255. */
static void to_luma(unsigned char *y, const unsigned char *rgb, size_t n) {
    for (size_t i = 0; i < n; i++, rgb += 3)
        y[i] = (unsigned char)((77 * rgb[0] + 150 * rgb[1] + 29 * rgb[2] + 128) >> 8);
}

/* Mean absolute difference of two luma planes of n pixels. */
static double motion_of(const unsigned char *a, const unsigned char *b, size_t n) {
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) sum += (uint64_t)abs(a[i] - b[i]);
    return (double)sum / (double)n;
}

/* Mean |horizontal| + |vertical| difference of neighbouring pixels of a w x h plane (at
 * least 2 x 2): fine detail, which blur, heavy compression and up-scaling take away. */
static double detail_of(const unsigned char *y, int w, int h) {
    uint64_t sum = 0;
    for (int r = 0; r + 1 < h; r++) {
        const unsigned char *row = y + (size_t)r * w, *below = row + w;
        for (int x = 0; x + 1 < w; x++)
            sum += (uint64_t)(abs(row[x] - row[x + 1]) + abs(row[x] - below[x]));
    }
    return (double)sum / ((double)(w - 1) * (h - 1));
}

static void moments(const unsigned char *y, size_t n, double *mean, double *std) {
    uint64_t s = 0, sq = 0;
    for (size_t i = 0; i < n; i++) s += y[i], sq += (uint64_t)y[i] * y[i];
    *mean = (double)s / (double)n;
    double var = (double)sq / (double)n - *mean * *mean;
    *std = var > 0 ? sqrt(var) : 0;
}

/* How far a measure is below its limit: limit / measure, capped at SCORE_CAP. */
static double below_limit(double measure, double limit) {
    return limit / fmax(measure, limit / SCORE_CAP);
}

/* The nominal frame interval: from the stated rate, else the smallest step seen. */
static double interval(const vg_checks *c) {
    return c->p.fps > 0 ? 1 / c->p.fps : c->min_step;
}

/* The timestamp step to pts in nominal intervals (NaN when there is no forward step),
 * learning the smallest step on the way. */
static double gap_to(vg_checks *c, double pts) {
    double step = c->has_pts ? pts - c->last_pts : NAN;
    if (!(step > 0) || !isfinite(step)) return NAN;
    if (!(c->min_step > 0) || step < c->min_step) c->min_step = step;
    return step / interval(c);
}

/* ---- per frame ------------------------------------------------------------------------- */

/* Room for two planes of n pixels. On failure the planes are as they were. */
static int reserve(vg_checks *c, size_t n, vg_error *err) {
    if (n <= c->cap) return VG_OK;
    for (int k = 0; k < 2; k++) {
        unsigned char *p = realloc(c->plane[k], n);
        if (!p) return vg_fail(err, VG_ERR_NOMEM, "checks: no memory for a frame of %zu pixels", n);
        c->plane[k] = p;
    }
    c->cap = n;
    return VG_OK;
}

/* A black frame is flat, and a run of black or flat frames barely moves and has no detail:
 * each is reported once, by its most specific check (black, else flat, else frozen and
 * detail loss). */
static void score_frame(const vg_checks *c, vg_checks_frame *f) {
    double *s = f->score;
    s[VG_EVENT_BLACK_FRAME] = below_limit(f->luma_mean, c->p.black_level);
    if (s[VG_EVENT_BLACK_FRAME] < 1)
        s[VG_EVENT_FLAT_FRAME] = below_limit(f->luma_std, c->p.flat_level);
    int plain = s[VG_EVENT_BLACK_FRAME] >= 1 || s[VG_EVENT_FLAT_FRAME] >= 1;
    if (!isnan(f->motion) && !plain)
        s[VG_EVENT_FROZEN_FRAME] = below_limit(f->motion, c->frozen_level);
    if (!isnan(f->detail) && c->p.detail > 0 && !plain)
        s[VG_EVENT_DETAIL_LOSS] = below_limit(f->detail, c->p.detail_ratio * c->p.detail);
    if (!isnan(f->gap)) s[VG_EVENT_SIGNAL_LOST] = f->gap / c->p.gap_frames;
}

int vg_checks_push(vg_checks *c, const unsigned char *rgb, int width, int height, double pts,
                   vg_checks_frame *out, vg_error *err) {
    if (!rgb || !out) return vg_fail(err, VG_ERR_ARG, "vg_checks_push: rgb and out must not be NULL");
    if (width < 1 || height < 1 || width > 65536 || height > 65536)
        return vg_fail(err, VG_ERR_ARG, "checks: frame size %dx%d, expected 1x1 .. 65536x65536",
                       width, height);
    size_t n = (size_t)width * height;
    int rc = reserve(c, n, err);
    if (rc) return rc;
    if (width != c->width || height != c->height) c->has_prev = 0;
    unsigned char *y = c->plane[c->cur];
    to_luma(y, rgb, n);
    memset(out, 0, sizeof *out);
    out->motion = c->has_prev ? motion_of(y, c->plane[!c->cur], n) : NAN;
    moments(y, n, &out->luma_mean, &out->luma_std);
    out->detail = width > 1 && height > 1 ? detail_of(y, width, height) : NAN;
    out->gap = gap_to(c, pts);
    score_frame(c, out);
    c->cur = !c->cur, c->has_prev = 1, c->width = width, c->height = height;
    c->last_pts = pts, c->has_pts = 1;
    return VG_OK;
}

void vg_checks_lost(vg_checks *c, double now, vg_checks_frame *out) {
    memset(out, 0, sizeof *out);
    out->motion = out->luma_mean = out->luma_std = out->detail = NAN;
    double step = c->has_pts ? now - c->last_pts : NAN;
    double nominal = interval(c);
    out->gap = step > 0 && nominal > 0 ? step / nominal : NAN;
    double score = out->gap / c->p.gap_frames;
    /* a failing source is lost however recent its last frame */
    out->score[VG_EVENT_SIGNAL_LOST] = score > 1 ? score : 1;
}

/* ---- normal levels ---------------------------------------------------------------------- */

/* The motions of the consecutive frame pairs of clip into m (frames - 1 of them) and the
 * details of its frames into d (frames of them). */
static void clip_levels(const vg_clip *clip, unsigned char *ya, unsigned char *yb, double *m,
                        double *d) {
    size_t n = (size_t)clip->width * clip->height;
    int big = clip->width > 1 && clip->height > 1;
    to_luma(ya, vg_clip_frame(clip, 0), n);
    d[0] = big ? detail_of(ya, clip->width, clip->height) : NAN;
    for (int k = 1; k < clip->frames; k++) {
        unsigned char *prev = k % 2 ? ya : yb, *cur = k % 2 ? yb : ya;
        to_luma(cur, vg_clip_frame(clip, k), n);
        m[k - 1] = motion_of(cur, prev, n);
        d[k] = big ? detail_of(cur, clip->width, clip->height) : NAN;
    }
}

/* The median of the n finite values of v (sorted in place); 0 when there are none. */
static double median_of(double *v, long long n) {
    long long k = 0;
    for (long long i = 0; i < n; i++)
        if (isfinite(v[i])) v[k++] = v[i];
    vg_sort(v, k);
    return k ? vg_percentile(v, k, 50) : 0;
}

int vg_checks_fit(const vg_footage *normal, vg_checks_params *p, vg_error *err) {
    if (!normal || !p) return vg_fail(err, VG_ERR_ARG, "vg_checks_fit: normal and p must not be NULL");
    long long pairs = 0, frames = 0;
    size_t plane = 0;
    for (int i = 0; i < normal->n; i++) {
        const vg_clip *cl = &normal->clips[i];
        if (cl->frames > 1) pairs += cl->frames - 1, frames += cl->frames;
        if ((size_t)cl->width * cl->height > plane) plane = (size_t)cl->width * cl->height;
    }
    if (!pairs)
        return vg_fail(err, VG_ERR_ARG, "normal footage has no clip of two frames or more: no "
                       "motion to learn");
    double *m = malloc((size_t)pairs * sizeof *m), *d = malloc((size_t)frames * sizeof *d);
    unsigned char *ya = malloc(plane), *yb = malloc(plane);
    int rc = m && d && ya && yb ? VG_OK : vg_fail(err, VG_ERR_NOMEM, "no memory to measure motion");
    long long km = 0, kd = 0;
    for (int i = 0; i < normal->n && !rc; i++)
        if (normal->clips[i].frames > 1) {
            clip_levels(&normal->clips[i], ya, yb, m + km, d + kd);
            km += normal->clips[i].frames - 1, kd += normal->clips[i].frames;
        }
    if (!rc) p->motion = median_of(m, pairs), p->detail = median_of(d, frames);
    free(m), free(d), free(ya), free(yb);
    return rc;
}
