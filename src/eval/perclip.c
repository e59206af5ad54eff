/* perclip.c - figures taken clip by clip: the macro AUC (the mean of per-clip AUCs) and
 * per-clip min-max normalisation, the protocol of FFP, MNAD and MemAE. Normalising by each
 * test clip's own min and max uses statistics a detector cannot know online (the clip's
 * future included), which is why SYSTEM.md pools raw scores and shows this apart. A
 * monotone map per clip leaves each per-clip AUC as it was, so the macro AUC is the same
 * with and without normalisation. */
#include "eval/roc.h"
#include "eval/runs.h"

#include <math.h>

int vg_roc_macro_auc(const double *score, const unsigned char *label, const int *clip,
                     long long n, double *auc, int *used, vg_error *err) {
    double sum = 0;
    int clips = 0, k = 0;
    for (long long a = 0; a < n; k++) {
        long long b = vg_clip_end(clip, n, a), pos = 0;
        for (long long i = a; i < b; i++) pos += label[i] != 0;
        if (pos > 0 && pos < b - a) {
            double one;
            int rc = vg_roc_auc(score + a, label + a, b - a, &one, err);
            if (rc) return rc;
            sum += one, clips++;
        }
        a = b;
    }
    *used = clips;
    if (!clips)
        return vg_fail(err, VG_ERR_ARG, "macro AUC: none of the %d clips has both normal and "
                       "anomalous frames", k);
    *auc = sum / clips;
    return VG_OK;
}

void vg_minmax_per_clip(const double *in, const int *clip, long long n, double *out) {
    for (long long a = 0; a < n;) {
        long long b = vg_clip_end(clip, n, a);
        double lo = INFINITY, hi = -INFINITY;
        for (long long i = a; i < b; i++)
            if (isfinite(in[i])) lo = fmin(lo, in[i]), hi = fmax(hi, in[i]);
        for (long long i = a; i < b; i++)
            out[i] = !isfinite(in[i]) ? in[i] : hi > lo ? (in[i] - lo) / (hi - lo) : 0;
        a = b;
    }
}
