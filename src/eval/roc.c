/* roc.c - the area under the ROC curve of scores against 0/1 labels.
 *
 * AUC is the probability that a random anomalous frame scores above a random normal one
 * (ties count half): the Mann-Whitney U statistic from the ranks of the pooled scores,
 * O(n log n), exact with ties. */
#include <math.h>
#include <stdlib.h>

#include "core/status.h"

typedef struct ranked {
    double score;
    unsigned char label;
} ranked;

static int by_score(const void *a, const void *b) {
    double x = ((const ranked *)a)->score, y = ((const ranked *)b)->score;
    return (x > y) - (x < y);
}

int vg_roc_auc(const double *score, const unsigned char *label, long long n, double *auc,
               vg_error *err) {
    long long pos = 0;
    for (long long i = 0; i < n; i++) {
        if (!isfinite(score[i]))
            return vg_fail(err, VG_ERR_ARG, "score %lld is not a finite number", i);
        pos += label[i] != 0;
    }
    if (pos == 0 || pos == n)
        return vg_fail(err, VG_ERR_ARG, "AUC needs both normal and anomalous frames (%lld of %lld "
                       "anomalous)", pos, n);
    ranked *r = malloc((size_t)n * sizeof *r);
    if (!r) return vg_fail(err, VG_ERR_NOMEM, "out of memory ranking %lld scores", n);
    for (long long i = 0; i < n; i++) r[i] = (ranked){score[i], label[i] != 0};
    qsort(r, (size_t)n, sizeof *r, by_score);
    /* sum of the anomalous frames' ranks, tied groups sharing their mean rank */
    double rank_sum = 0;
    for (long long i = 0; i < n;) {
        long long j = i, k;
        while (j < n && r[j].score == r[i].score) j++;
        double mean_rank = 0.5 * (double)(i + 1 + j);
        for (k = i; k < j; k++) rank_sum += r[k].label ? mean_rank : 0;
        i = j;
    }
    free(r);
    double neg = (double)(n - pos);
    *auc = (rank_sum - (double)pos * (double)(pos + 1) / 2) / ((double)pos * neg);
    return VG_OK;
}
