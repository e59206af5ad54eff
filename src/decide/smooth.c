/* smooth.c - the causal moving average of a score stream, one value at a time.
 *
 * It gives what the batch vg_smooth gives (src/score/score.c): the mean of the finite
 * values among the last `width` pushed, NaN while the window holds none; width 1 passes
 * values through unchanged, infinities included, as vg_smooth copies them. The window's
 * values wait in a ring so that the one leaving can be taken out of the running sum: O(1)
 * a value, `width` doubles of memory.
 *
 * A live stream never ends, so the running sum is rebuilt from the ring each time the ring
 * wraps (O(width) once every width values: still O(1) a value). Without that, rounding
 * would drift without bound over days, and one huge value would wipe out the low digits
 * of the sum for good: 1e30 + 0.5 - 1e30 is 0, and the window never empties again. */
#include <math.h>
#include <stdlib.h>

#include "core/status.h"

struct vg_smoother {
    int width;
    int next;     /* ring slot the next value goes to */
    int filled;   /* values in the ring (<= width) */
    int count;    /* finite values among them */
    double sum;   /* their sum */
    double ring[]; /* width values, non-finite ones included (they count as slots) */
};

int vg_smoother_create(int width, vg_smoother **out, vg_error *err) {
    if (!out) return vg_fail(err, VG_ERR_ARG, "vg_smoother_create: out must not be NULL");
    *out = NULL;
    if (width < 1)
        return vg_fail(err, VG_ERR_ARG, "smoothing width %d, expected at least 1 frame", width);
    vg_smoother *s = malloc(sizeof *s + (size_t)width * sizeof s->ring[0]);
    if (!s) return vg_fail(err, VG_ERR_NOMEM, "no memory for a smoothing window of %d", width);
    s->width = width;
    vg_smoother_reset(s);
    *out = s;
    return VG_OK;
}

void vg_smoother_reset(vg_smoother *s) {
    if (!s) return;
    s->next = s->filled = s->count = 0;
    s->sum = 0;
}

void vg_smoother_free(vg_smoother *s) { free(s); }

/* The sum and count of the finite values in the ring, added up afresh. */
static void resum(vg_smoother *s) {
    s->sum = 0;
    s->count = 0;
    for (int i = 0; i < s->filled; i++)
        if (isfinite(s->ring[i])) s->sum += s->ring[i], s->count++;
}

double vg_smoother_push(vg_smoother *s, double v) {
    if (s->width == 1) return v; /* vg_smooth copies at width 1, infinities included */
    if (s->filled == s->width) { /* the oldest value leaves the window */
        double leaving = s->ring[s->next];
        if (isfinite(leaving))
            s->sum = --s->count ? s->sum - leaving : 0; /* empty: an exact 0, as vg_smooth */
    } else {
        s->filled++;
    }
    s->ring[s->next] = v;
    if (isfinite(v)) s->sum += v, s->count++;
    if (++s->next == s->width) {
        s->next = 0;
        resum(s);
    }
    return s->count ? s->sum / s->count : NAN;
}
