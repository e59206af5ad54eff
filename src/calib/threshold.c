/* threshold.c - the strategies users ask for (SYSTEM.md "Thresholds and calibration"):
 * a percentile of the normal scores, the thesis's mean - k sigma of PSNR, and its worst
 * normal PSNR - margin. */
#include "calib/threshold.h"

#include <math.h>

#include "core/stats.h"

double vg_fpr_at(const double *sorted, long long n, double t) {
    long long lo = 0, hi = n; /* first index with sorted[i] >= t */
    while (lo < hi) {
        long long mid = lo + (hi - lo) / 2;
        if (sorted[mid] < t) lo = mid + 1;
        else hi = mid;
    }
    return n ? (double)(n - lo) / (double)n : 0;
}

static long long clamp_rank(double r, long long n) {
    return r < 0 ? 0 : r > (double)(n - 1) ? n - 1 : (long long)r;
}

double vg_threshold_percentile(const double *sorted, long long n, double fpr, double *lo,
                               double *hi) {
    long long k = (long long)floor(fpr * (double)n + 1e-9); /* normal frames allowed over */
    double t = k == 0 ? nextafter(sorted[n - 1], INFINITY)
                      : 0.5 * (sorted[n - k - 1] + sorted[n - k]);
    /* the (1 - fpr) quantile's rank is binomial(n, 1 - fpr): +-1.96 sd of it in ranks */
    double p = 1 - fpr, r = p * (double)n, sd = sqrt((double)n * p * fpr);
    *lo = fmin(t, sorted[clamp_rank(floor(r - 1.96 * sd) - 1, n)]);
    *hi = fmax(t, sorted[clamp_rank(ceil(r + 1.96 * sd) - 1, n)]);
    return t;
}

double vg_threshold_meanstd(const double *sorted, long long n, double k) {
    double mean, std;
    vg_mean_std(sorted, n, &mean, &std);
    return mean + k * std;
}

double vg_threshold_worst(const double *sorted, long long n, double margin_db, vg_score_kind k) {
    double worst = sorted[n - 1];
    return k == VG_SCORE_PSNR ? worst + margin_db : worst * pow(10, margin_db / 10);
}
