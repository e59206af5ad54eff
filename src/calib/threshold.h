/* threshold.h - thresholds from the normal distribution of an anomaly value (higher =
 * anomalous; a frame is flagged when its value is >= the threshold). All take the normal
 * values sorted ascending. */
#ifndef VG_THRESHOLD_H
#define VG_THRESHOLD_H

#include "vigil/vigil.h"

/* The share of normal values at or above t. */
double vg_fpr_at(const double *sorted, long long n, double t);

/* The lowest threshold whose normal FPR is at most fpr (midway between the last value let
 * through and the first one flagged), and the 95% distribution-free confidence interval of
 * that quantile from order statistics (binomial ranks) as [lo, hi]. */
double vg_threshold_percentile(const double *sorted, long long n, double fpr, double *lo,
                               double *hi);

/* The thesis's mean + k sigma of the anomaly value (PSNR: mean - k sigma in dB). */
double vg_threshold_meanstd(const double *sorted, long long n, double k);

/* The thesis's worst normal value with a margin of margin_db: for PSNR worst - margin dB;
 * for the patch score, a mean squared error, the same margin as a factor 10^(dB/10). */
double vg_threshold_worst(const double *sorted, long long n, double margin_db, vg_score_kind k);

#endif
