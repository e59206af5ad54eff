/* stats.h - the few order statistics the scoring, validation and calibration code share. */
#ifndef VG_STATS_H
#define VG_STATS_H

/* Sorts v ascending (NaN-free input). */
void vg_sort(double *v, long long n);

/* Percentile q (0..100) of sorted v by linear interpolation (NumPy's default); n >= 1. */
double vg_percentile(const double *v, long long n, double q);

/* Mean and sample standard deviation (0 for n < 2); n >= 1. */
void vg_mean_std(const double *v, long long n, double *mean, double *std);

/* {"mean", "std", "min", "max", "percentiles": {"0.1": .., "0.5", "1", "10", "50", "90",
 * "99", "99.5", "99.9"}} of v (sorted in place; n >= 1): both tails, since PSNR falls and
 * errors rise on anomalies. NULL when out of memory. */
struct cJSON *vg_distribution_json(double *v, long long n);

#endif
