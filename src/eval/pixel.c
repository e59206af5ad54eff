/* pixel.c - a ROC over very many items (every pixel of every frame: Ped2 has about 120 M)
 * in fixed memory: per-class counts over log-spaced bins.
 *
 * Bin b holds values in [lo r^b, lo r^(b+1)) with r = (hi/lo)^(1/bins); values below lo
 * (zero errors included) count in bin 0, values from hi up in the last bin. Squared pixel
 * errors spread over decades, so log spacing keeps every bin equally fine in relative
 * terms (4096 bins over [1e-9, 1]: 0.5%).
 *
 * The curve has a point at each bin edge, highest first. Inside a bin the order of items is
 * lost: the trapezoid area counts each anomalous-normal pair that shares a bin as half
 * (as for exact ties), while the exact AUC counts it 0 or 1. So the exact AUC lies within
 * sum_b pos_b neg_b / (2 P N) of this one, a bound computed from the counts and reported
 * with the curve (auc_bound), not assumed. */
#include "eval/roc.h"

#include <math.h>
#include <stdlib.h>

#define MAX_BINS (1 << 20)

struct vg_roc_hist {
    double log_lo, per_log; /* bin = (log v - log lo) * per_log */
    double lo, hi;
    int bins;
    unsigned long long *count[2]; /* normal, anomalous */
};

int vg_roc_hist_create(double lo, double hi, int bins, vg_roc_hist **out, vg_error *err) {
    *out = NULL;
    if (!(lo > 0 && hi > lo && isfinite(hi)))
        return vg_fail(err, VG_ERR_ARG, "ROC histogram range [%g, %g]: expected 0 < lo < hi",
                       lo, hi);
    if (bins < 2 || bins > MAX_BINS)
        return vg_fail(err, VG_ERR_ARG, "ROC histogram of %d bins: expected 2..%d", bins,
                       MAX_BINS);
    vg_roc_hist *h = calloc(1, sizeof *h);
    if (h) h->count[0] = calloc((size_t)bins, sizeof(unsigned long long));
    if (h) h->count[1] = calloc((size_t)bins, sizeof(unsigned long long));
    if (!h || !h->count[0] || !h->count[1]) {
        vg_roc_hist_free(h);
        return vg_fail(err, VG_ERR_NOMEM, "out of memory for a ROC histogram of %d bins", bins);
    }
    h->lo = lo, h->hi = hi, h->bins = bins;
    h->log_lo = log(lo), h->per_log = bins / (log(hi) - log(lo));
    *out = h;
    return VG_OK;
}

void vg_roc_hist_free(vg_roc_hist *h) {
    if (!h) return;
    free(h->count[0]), free(h->count[1]);
    free(h);
}

static int bin_of(const vg_roc_hist *h, float v) {
    if (!(v > h->lo)) return 0;
    if (v >= h->hi) return h->bins - 1;
    int b = (int)((log(v) - h->log_lo) * h->per_log);
    return b < 0 ? 0 : b >= h->bins ? h->bins - 1 : b; /* rounding at the edges */
}

int vg_roc_hist_add(vg_roc_hist *h, const float *value, const unsigned char *label,
                    long long n, vg_error *err) {
    for (long long i = 0; i < n; i++)
        if (isnan(value[i]) && label[i] != VG_LABEL_NONE)
            return vg_fail(err, VG_ERR_ARG, "ROC histogram: value %lld is not a number", i);
    for (long long i = 0; i < n; i++)
        if (label[i] != VG_LABEL_NONE) h->count[label[i] != 0][bin_of(h, value[i])]++;
    return VG_OK;
}

int vg_roc_hist_curve(const vg_roc_hist *h, vg_roc *out, vg_error *err) {
    long long pos = 0, neg = 0;
    for (int b = 0; b < h->bins; b++)
        pos += (long long)h->count[1][b], neg += (long long)h->count[0][b];
    vg_roc_build build;
    int rc = vg_roc_build_begin(&build, out, h->bins, pos, neg, "pixels", err);
    if (rc) return rc;
    for (int b = h->bins - 1; b >= 0; b--) {
        double edge = b ? exp(h->log_lo + b / h->per_log) : -INFINITY; /* bin 0: all below */
        vg_roc_build_group(&build, edge, (long long)h->count[1][b], (long long)h->count[0][b]);
    }
    vg_roc_build_end(&build, 1);
    return VG_OK;
}
