/* stats.c - order statistics shared by validation and calibration. */
#include "core/stats.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void vg_sort(double *v, long long n) { qsort(v, (size_t)n, sizeof *v, cmp_double); }

double vg_percentile(const double *v, long long n, double q) {
    double pos = q / 100.0 * (double)(n - 1);
    long long i = (long long)pos;
    return i + 1 < n ? v[i] + (pos - (double)i) * (v[i + 1] - v[i]) : v[n - 1];
}

void vg_mean_std(const double *v, long long n, double *mean, double *std) {
    double sum = 0, sq = 0;
    for (long long i = 0; i < n; i++) sum += v[i];
    *mean = sum / (double)n;
    for (long long i = 0; i < n; i++) sq += (v[i] - *mean) * (v[i] - *mean);
    *std = n > 1 ? sqrt(sq / (double)(n - 1)) : 0;
}

cJSON *vg_distribution_json(double *v, long long n) {
    static const double qs[] = {0.1, 0.5, 1, 10, 50, 90, 99, 99.5, 99.9};
    double mean, std;
    vg_mean_std(v, n, &mean, &std);
    vg_sort(v, n);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "mean", mean);
    cJSON_AddNumberToObject(o, "std", std);
    cJSON_AddNumberToObject(o, "min", v[0]);
    cJSON_AddNumberToObject(o, "max", v[n - 1]);
    cJSON *p = cJSON_AddObjectToObject(o, "percentiles");
    if (!p) return cJSON_Delete(o), NULL;
    for (size_t i = 0; i < sizeof qs / sizeof *qs; i++) {
        char key[16];
        snprintf(key, sizeof key, "%g", qs[i]);
        cJSON_AddNumberToObject(p, key, vg_percentile(v, n, qs[i]));
    }
    return o;
}
