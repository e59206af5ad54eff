/* synth.c - the standard sweep of synthetic anomalies and their injection into a span of a
 * clip (SYSTEM.md "Thresholds and calibration"; seed 000, steps 1 and 2).
 *
 * The sweep is one table of recipes, listed by category and mildest first; a case's
 * severity is its rank within its category, counted from the table, so reordering rows is
 * the only way to change it. Where a category mixes kinds (colour), the order is by the
 * change each makes to 8-bit values spread evenly over 0..255, as PSNR against the
 * original: white balance 5% 32.8 dB, 10% 26.9, gamma 1.2 26.1, gamma 0.8 24.4, white
 * balance 20% 21.2, gamma 1.5 19.3, a channel swap 9.5 (independent channels; real
 * colours are correlated, so less). Of the two swaps, GRB moves green, the channel that
 * carries most of the luma, so it comes last.
 *
 * Injection makes the span's new frames in a buffer of their own, then compares each with
 * the frame it replaces (the truth) and copies it in, so a failure leaves the clip as it
 * was. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "calib/synth.h"

typedef enum kind {
    H264,      /* value: bitrate class in Mbps */
    SCALE,     /* value: down-scale factor */
    GAMMA,     /* value: exponent */
    WHITE,     /* value: red gain - 1 = 1 - blue gain */
    SWAP,      /* order: the input channel of each output channel */
    FREEZE,    /* the frame before the span, repeated */
    STUTTER,   /* every other frame of the span is the one before it */
    LETTERBOX, /* value: the picture's share of the height */
    PILLARBOX, /* value: the picture's share of the width */
    BLACK,
    BARS
} kind;

typedef struct recipe {
    vg_synth_category category;
    const char *name;
    int operational;
    int frames; /* the span a freeze takes; 0: any */
    kind kind;
    double value;
    const char *order;
} recipe;

/* Operational severities: those named by the calibration targets (SYSTEM.md). */
static const recipe recipes[] = {
    {VG_SYNTH_COMPRESSION, "h264 8 Mbps", 0, 0, H264, 8, NULL},
    {VG_SYNTH_COMPRESSION, "h264 4 Mbps", 0, 0, H264, 4, NULL},
    {VG_SYNTH_COMPRESSION, "h264 2 Mbps", 0, 0, H264, 2, NULL},
    {VG_SYNTH_COMPRESSION, "h264 1 Mbps", 1, 0, H264, 1, NULL},
    {VG_SYNTH_RESOLUTION, "scale x1/2", 0, 0, SCALE, 1 / 2., NULL},
    {VG_SYNTH_RESOLUTION, "scale x1/4", 1, 0, SCALE, 1 / 4., NULL},
    {VG_SYNTH_RESOLUTION, "scale x1/8", 0, 0, SCALE, 1 / 8., NULL},
    {VG_SYNTH_COLOUR, "white balance 5%", 0, 0, WHITE, 0.05, NULL},
    {VG_SYNTH_COLOUR, "white balance 10%", 0, 0, WHITE, 0.10, NULL},
    {VG_SYNTH_COLOUR, "gamma 1.2", 0, 0, GAMMA, 1.2, NULL},
    {VG_SYNTH_COLOUR, "gamma 0.8", 0, 0, GAMMA, 0.8, NULL},
    {VG_SYNTH_COLOUR, "white balance 20%", 0, 0, WHITE, 0.20, NULL},
    {VG_SYNTH_COLOUR, "gamma 1.5", 1, 0, GAMMA, 1.5, NULL},
    {VG_SYNTH_COLOUR, "swap BGR", 1, 0, SWAP, 0, "BGR"},
    {VG_SYNTH_COLOUR, "swap GRB", 1, 0, SWAP, 0, "GRB"},
    {VG_SYNTH_FREEZE, "freeze 1", 0, 1, FREEZE, 0, NULL},
    {VG_SYNTH_FREEZE, "stutter x2", 0, 0, STUTTER, 0, NULL},
    {VG_SYNTH_FREEZE, "freeze 2", 0, 2, FREEZE, 0, NULL},
    {VG_SYNTH_FREEZE, "freeze 5", 1, 5, FREEZE, 0, NULL},
    {VG_SYNTH_FREEZE, "freeze 10", 1, 10, FREEZE, 0, NULL},
    {VG_SYNTH_FREEZE, "freeze 25", 1, 25, FREEZE, 0, NULL},
    /* 3/4: a 16:9 picture in a 4:3 frame (letterbox), 4:3 in 16:9 (pillarbox) */
    {VG_SYNTH_FORMAT, "letterbox", 0, 0, LETTERBOX, 3 / 4., NULL},
    {VG_SYNTH_FORMAT, "pillarbox", 0, 0, PILLARBOX, 3 / 4., NULL},
    {VG_SYNTH_FORMAT, "colour bars", 0, 0, BARS, 0, NULL},
    {VG_SYNTH_FORMAT, "black frames", 1, 0, BLACK, 0, NULL},
};

#define NCASES ((int)(sizeof recipes / sizeof *recipes))

/* Bitrate classes are for a 12 Mbps 1920x1080 source at 25 fps; a class keeps its bits per
 * pixel and frame at any size and rate. Bits per pixel is what fixes the damage to a first
 * approximation (small frames suffer somewhat more at equal bits per pixel, as every
 * block costs header bits). */
#define CLASS_PIXEL_RATE (1920.0 * 1080.0 * 25.0)

/* A frame counts as changed when a value moved by more than this (of 255): less is what
 * 8-bit rounding of a colour conversion can do to a frame left alone. */
#define TOLERANCE 2

static const char *const category_names[VG_SYNTH_CATEGORIES] = {
    "compression", "resolution", "colour", "freeze", "format"};

const char *vg_synth_category_name(vg_synth_category c) {
    return (unsigned)c < VG_SYNTH_CATEGORIES ? category_names[c] : "?";
}

static vg_synth_case sweep[NCASES];
static pthread_once_t sweep_once = PTHREAD_ONCE_INIT;

static void build_sweep(void) {
    int rank[VG_SYNTH_CATEGORIES] = {0};
    for (int i = 0; i < NCASES; i++) {
        const recipe *r = &recipes[i];
        sweep[i] = (vg_synth_case){r->category, r->name, rank[r->category]++, r->operational,
                                   r->frames};
    }
}

const vg_synth_case *vg_synth_sweep(int *n) {
    pthread_once(&sweep_once, build_sweep);
    *n = NCASES;
    return sweep;
}

static const recipe *find_recipe(const char *name) {
    for (int i = 0; name && i < NCASES; i++)
        if (!strcmp(recipes[i].name, name)) return &recipes[i];
    return NULL;
}

/* The recipe of c, once c and the span are known to be usable on clip. */
static int check(const vg_synth_case *c, const vg_synth_clip *clip, int start, int len,
                 const recipe **out, vg_error *err) {
    if (!c) return vg_fail(err, VG_ERR_ARG, "no synthetic case given");
    const recipe *r = *out = find_recipe(c->name);
    if (!r)
        return vg_fail(err, VG_ERR_ARG, "synthetic case '%s' is not in the sweep",
                       c->name ? c->name : "(null)");
    if (!clip || !clip->rgb) return vg_fail(err, VG_ERR_ARG, "%s: no clip given", r->name);
    if (clip->n < 1) return vg_fail(err, VG_ERR_ARG, "%s: the clip has no frames", r->name);
    if (clip->width < 1 || clip->height < 1)
        return vg_fail(err, VG_ERR_ARG, "%s: clip frames of %dx%d: need at least 1x1", r->name,
                       clip->width, clip->height);
    if (!(clip->fps > 0) || !isfinite(clip->fps))
        return vg_fail(err, VG_ERR_ARG, "%s: clip frame rate %g is not a positive number",
                       r->name, clip->fps);
    if (start < 0 || len < 1 || start > clip->n - len)
        return vg_fail(err, VG_ERR_ARG,
                       "%s: span of %d frames from frame %d is not inside the clip of %d frames",
                       r->name, len, start, clip->n);
    if (r->kind == FREEZE && start < 1)
        return vg_fail(err, VG_ERR_ARG,
                       "%s: the span starts at frame 0, with no frame before it to repeat",
                       r->name);
    if (r->frames && len != r->frames)
        return vg_fail(err, VG_ERR_ARG, "%s: spans exactly %d frames, not %d", r->name,
                       r->frames, len);
    return VG_OK;
}

static vg_synth_colour colour_of(const recipe *r) {
    vg_synth_colour t = vg_synth_colour_identity();
    if (r->kind == GAMMA) vg_synth_colour_gamma(&t, r->value);
    if (r->kind == WHITE) vg_synth_colour_gains(&t, (double[3]){1 + r->value, 1, 1 - r->value});
    if (r->kind == SWAP) vg_synth_colour_order(&t, r->order);
    return t;
}

/* The new frames of the span, into out. */
static int make(const recipe *r, const vg_synth_clip *clip, int start, int len,
                unsigned char *out, vg_error *err) {
    int w = clip->width, h = clip->height;
    size_t frame = (size_t)w * h * 3;
    const unsigned char *span = clip->rgb + start * frame;
    switch (r->kind) {
    case H264:
        return vg_synth_reencode(clip->rgb, w, h, clip->fps, start, len,
                                 r->value * 1e6 / CLASS_PIXEL_RATE, out, err);
    case SCALE: return vg_synth_rescale(span, len, w, h, r->value, out, err);
    case LETTERBOX: return vg_synth_box(span, len, w, h, 1, r->value, out, err);
    case PILLARBOX: return vg_synth_box(span, len, w, h, 0, r->value, out, err);
    case GAMMA:
    case WHITE:
    case SWAP: {
        vg_synth_colour t = colour_of(r);
        vg_synth_colour_apply(&t, span, (size_t)len * w * h, out);
        return VG_OK;
    }
    case FREEZE:
        for (int k = 0; k < len; k++) memcpy(out + k * frame, span - frame, frame);
        return VG_OK;
    case STUTTER:
        for (int k = 0; k < len; k++) memcpy(out + k * frame, span + (k - k % 2) * frame, frame);
        return VG_OK;
    case BLACK: memset(out, 0, (size_t)len * frame); return VG_OK;
    case BARS:
        vg_synth_colour_bars(out, w, h);
        for (int k = 1; k < len; k++) memcpy(out + k * frame, out, frame);
        return VG_OK;
    }
    return vg_fail(err, VG_ERR_ARG, "%s: unknown kind of anomaly", r->name);
}

static int changed(const unsigned char *a, const unsigned char *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (abs(a[i] - b[i]) > TOLERANCE) return 1;
    return 0;
}

int vg_synth_apply(const vg_synth_case *c, vg_synth_clip *clip, int start, int len,
                   unsigned char *truth, vg_error *err) {
    const recipe *r = NULL;
    int rc = check(c, clip, start, len, &r, err);
    if (rc != VG_OK) return rc;
    size_t frame = (size_t)clip->width * clip->height * 3;
    unsigned char *out = malloc((size_t)len * frame);
    if (!out)
        return vg_fail(err, VG_ERR_NOMEM, "%s: out of memory for %d frames of %dx%d", r->name,
                       len, clip->width, clip->height);
    rc = make(r, clip, start, len, out, err);
    if (rc != VG_OK) {
        free(out);
        return vg_wrap(err, r->name);
    }
    if (truth) memset(truth, 0, (size_t)clip->n);
    for (int k = 0; k < len; k++) {
        unsigned char *dst = clip->rgb + (start + k) * frame;
        if (truth) truth[start + k] = (unsigned char)changed(out + k * frame, dst, frame);
        memcpy(dst, out + k * frame, frame);
    }
    free(out);
    return VG_OK;
}
