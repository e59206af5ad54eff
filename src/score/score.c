/* score.c - how far a predicted frame is from the frame that came (MSE, PSNR, the per-pixel
 * error map, the patch score) and the causal smoothing of a score series.
 *
 * The patch score reads each window's sum off a summed-area table of the error map (four
 * look-ups a window), so it costs O(H W) whatever the patch size. The table is double: a
 * float one would hold running sums near H W * mean error with a 24-bit mantissa and lose
 * the differences of neighbouring entries that make a window's sum. */
#include "core/status.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PSNR_MAX 100.0 /* dB: a perfect prediction, and the cap for near-perfect ones */

/* Fills sat ((H+1) x (W+1); row 0 and column 0 are zero, sat[y][x] = sum of e over the
 * pixels above and left of (y, x)) with the per-pixel error e = mean over the channels of
 * (pred - frame)^2, and error_map (H, W) with e when it is not NULL.
 *   pred, frame (3, H, W) */
static void error_table(double *sat, float *error_map, const float *pred, const float *frame,
                        int W, int H) {
    size_t plane = (size_t)W * H, sw = (size_t)W + 1;
    memset(sat, 0, sw * sizeof *sat);
    for (int y = 0; y < H; y++) {
        double *row = sat + (size_t)(y + 1) * sw, run = 0;
        const double *above = row - sw;
        row[0] = 0;
        for (int x = 0; x < W; x++) {
            size_t i = (size_t)y * W + x;
            double d0 = (double)pred[i] - frame[i];
            double d1 = (double)pred[plane + i] - frame[plane + i];
            double d2 = (double)pred[2 * plane + i] - frame[2 * plane + i];
            double e = (d0 * d0 + d1 * d1 + d2 * d2) / 3;
            if (error_map) error_map[i] = (float)e;
            run += e;
            row[x + 1] = above[x + 1] + run;
        }
    }
}

/* The start of the window after the one at `at` along an axis of len pixels, windows of win
 * pixels (win <= len), or -1 after the last. Windows step by stride and always lie inside
 * the frame: where the next step would cross the far edge, the last window is placed flush
 * with it, so the edge strip is covered and every window averages the same pixel count. */
static int next_start(int at, int stride, int win, int len) {
    if (at + win >= len) return -1;
    int next = at + stride;
    return next + win > len ? len - win : next;
}

/* The largest mean error of a patch x patch window, stride patch / 2 (at least 1); a frame
 * narrower or lower than a patch is one window across that axis. */
static double max_window_mean(const double *sat, int W, int H, int patch) {
    int pw = patch < W ? patch : W, ph = patch < H ? patch : H;
    int stride = patch / 2 > 0 ? patch / 2 : 1;
    size_t sw = (size_t)W + 1;
    double best = 0; /* errors are >= 0; a rounding-negative window sum never wins */
    for (int y = 0; y >= 0; y = next_start(y, stride, ph, H)) {
        const double *top = sat + (size_t)y * sw, *bottom = sat + (size_t)(y + ph) * sw;
        for (int x = 0; x >= 0; x = next_start(x, stride, pw, W)) {
            double sum = bottom[x + pw] - bottom[x] - top[x + pw] + top[x];
            if (sum > best) best = sum;
        }
    }
    return best / ((double)pw * ph);
}

/* 10 log10(1 / mse), capped at PSNR_MAX so that a perfect prediction (mse 0) has a finite
 * score and no near-perfect one ranks above it. */
static double psnr_of(double mse) {
    if (mse <= 0) return PSNR_MAX;
    double db = -10 * log10(mse);
    return db < PSNR_MAX ? db : PSNR_MAX;
}

static int check_score_args(const float *pred, const float *frame, int width, int height,
                            int patch, const vg_score *out, vg_error *err) {
    if (!pred || !frame || !out)
        return vg_fail(err, VG_ERR_ARG, "vg_score_frame: pred, frame and out must not be NULL");
    if (width < 1 || height < 1)
        return vg_fail(err, VG_ERR_ARG, "vg_score_frame: frame size %dx%d, expected at least 1x1",
                       width, height);
    if (patch < 1)
        return vg_fail(err, VG_ERR_ARG, "vg_score_frame: patch %d, expected at least 1 pixel",
                       patch);
    return VG_OK;
}

int vg_score_frame(const float *pred, const float *frame, int width, int height, int patch,
                   vg_score *out, float *error_map, vg_error *err) {
    int rc = check_score_args(pred, frame, width, height, patch, out, err);
    if (rc != VG_OK) return rc;
    size_t cells = ((size_t)width + 1) * ((size_t)height + 1);
    double *sat = cells <= SIZE_MAX / sizeof(double) ? malloc(cells * sizeof(double)) : NULL;
    if (!sat)
        return vg_fail(err, VG_ERR_NOMEM,
                       "vg_score_frame: no memory for the %dx%d summed-area table", width, height);
    error_table(sat, error_map, pred, frame, width, height);
    double mse = sat[cells - 1] / ((double)width * height); /* the table's total is sum e */
    double patch_mean = max_window_mean(sat, width, height, patch);
    free(sat);
    if (!isfinite(mse)) /* a diverged model: say so rather than hand a NaN to thresholds */
        return vg_fail(err, VG_ERR_ARG,
                       "vg_score_frame: the prediction or the frame holds NaN or infinity");
    *out = (vg_score){.mse = mse, .psnr = psnr_of(mse), .patch = patch_mean};
    return VG_OK;
}

/* ---- smoothing ------------------------------------------------------------------------ */

/* The finite values in a moving window: their sum and count. */
typedef struct window {
    double sum;
    int count;
} window;

static void window_add(window *w, double v) {
    if (!isfinite(v)) return;
    w->sum += v;
    w->count++;
}

static void window_drop(window *w, double v) {
    if (!isfinite(v)) return;
    /* An empty window restarts from an exact 0, so rounding does not drift across gaps. */
    w->sum = --w->count ? w->sum - v : 0;
}

/* Runs from the end so that in == out needs no scratch: out[i] overwrites in[i] only after
 * every window that still needs in[i] (those of i .. i + width - 1) has been summed. */
void vg_smooth(const double *in, double *out, int n, int width) {
    if (!in || !out || n <= 0) return;
    if (width <= 1) {
        if (in != out) memmove(out, in, (size_t)n * sizeof *out);
        return;
    }
    if (width > n) width = n;
    window w = {0, 0};
    for (int k = n - width; k < n; k++) window_add(&w, in[k]);
    for (int i = n - 1; i >= 0; i--) {
        double leaving = in[i]; /* read before out[i] may overwrite it */
        out[i] = w.count ? w.sum / w.count : NAN;
        window_drop(&w, leaving);
        if (i - width >= 0) window_add(&w, in[i - width]);
    }
}
