/* roc.c - ROC curves, their area and equal error rate.
 *
 * The curve sorts the items by score, highest first, and adds one point per distinct score
 * (a group of tied items). Its area is summed from the counts by trapezoids, which counts a
 * tied anomalous-normal pair half: the Mann-Whitney U statistic, exact with ties. The EER
 * is read off the curve where FPR = 1 - TPR (FPR + TPR - 1 goes from -1 at (0, 0) to +1 at
 * (1, 1) and never decreases along it), interpolated linearly inside the segment that
 * crosses. */
#include "eval/roc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int vg_roc_build_begin(vg_roc_build *b, vg_roc *r, long long max_groups, long long pos,
                       long long neg, const char *what, vg_error *err) {
    memset(r, 0, sizeof *r);
    *b = (vg_roc_build){.r = r, .cap = max_groups + 1};
    if (pos == 0 || neg == 0)
        return vg_fail(err, VG_ERR_ARG, "a ROC needs both normal and anomalous %s (%lld of "
                       "%lld anomalous)", what, pos, pos + neg);
    size_t size = (size_t)b->cap * sizeof(double);
    r->fpr = malloc(size), r->tpr = malloc(size), r->threshold = malloc(size);
    if (!r->fpr || !r->tpr || !r->threshold) {
        vg_roc_free(r);
        return vg_fail(err, VG_ERR_NOMEM, "out of memory for a ROC of %lld points", b->cap);
    }
    r->pos = pos, r->neg = neg;
    r->fpr[0] = r->tpr[0] = 0, r->threshold[0] = INFINITY;
    r->n = 1;
    return VG_OK;
}

void vg_roc_build_group(vg_roc_build *b, double threshold, long long pos, long long neg) {
    vg_roc *r = b->r;
    if (pos == 0 && neg == 0) return;
    b->area2 += (double)neg * (double)(2 * b->tp + pos);
    b->tied += (double)pos * (double)neg;
    b->tp += pos, b->fp += neg;
    r->fpr[r->n] = (double)b->fp / (double)r->neg;
    r->tpr[r->n] = (double)b->tp / (double)r->pos;
    r->threshold[r->n++] = threshold;
}

/* Where the curve crosses FPR = 1 - TPR. */
static double equal_error_rate(const vg_roc *r) {
    for (long long i = 1; i < r->n; i++) {
        double g0 = r->fpr[i - 1] + r->tpr[i - 1] - 1, g1 = r->fpr[i] + r->tpr[i] - 1;
        if (g1 < 0) continue;
        double t = g1 > g0 ? -g0 / (g1 - g0) : 0;
        return r->fpr[i - 1] + t * (r->fpr[i] - r->fpr[i - 1]);
    }
    return NAN; /* not reached: the last point is (1, 1) */
}

void vg_roc_build_end(vg_roc_build *b, int binned) {
    vg_roc *r = b->r;
    double pairs = (double)r->pos * (double)r->neg;
    r->auc = b->area2 / (2 * pairs);
    r->auc_bound = binned ? b->tied / (2 * pairs) : 0;
    r->eer = equal_error_rate(r);
}

void vg_roc_free(vg_roc *r) {
    if (!r) return;
    free(r->fpr), free(r->tpr), free(r->threshold);
    memset(r, 0, sizeof *r);
}

typedef struct ranked {
    double score;
    unsigned char label;
} ranked;

static int by_score_down(const void *a, const void *b) {
    double x = ((const ranked *)a)->score, y = ((const ranked *)b)->score;
    return (x < y) - (x > y);
}

int vg_roc_ranked(const double *score, const unsigned char *label, long long n,
                  const char *what, vg_roc *out, vg_error *err) {
    memset(out, 0, sizeof *out);
    long long pos = 0;
    for (long long i = 0; i < n; i++) {
        if (!isfinite(score[i]))
            return vg_fail(err, VG_ERR_ARG, "score %lld is not a finite number (%g)", i,
                           score[i]);
        pos += label[i] != 0;
    }
    vg_roc_build b;
    int rc = vg_roc_build_begin(&b, out, n, pos, n - pos, what, err);
    if (rc) return rc;
    ranked *r = malloc((size_t)n * sizeof *r);
    if (!r) {
        vg_roc_free(out);
        return vg_fail(err, VG_ERR_NOMEM, "out of memory ranking %lld scores", n);
    }
    for (long long i = 0; i < n; i++) r[i] = (ranked){score[i], label[i] != 0};
    qsort(r, (size_t)n, sizeof *r, by_score_down);
    for (long long i = 0; i < n;) {
        long long j = i, p = 0;
        for (; j < n && r[j].score == r[i].score; j++) p += r[j].label;
        vg_roc_build_group(&b, r[i].score, p, j - i - p);
        i = j;
    }
    free(r);
    vg_roc_build_end(&b, 0);
    return VG_OK;
}

int vg_roc_curve(const double *score, const unsigned char *label, long long n, vg_roc *out,
                 vg_error *err) {
    return vg_roc_ranked(score, label, n, "frames", out, err);
}

int vg_roc_auc(const double *score, const unsigned char *label, long long n, double *auc,
               vg_error *err) {
    vg_roc r;
    int rc = vg_roc_curve(score, label, n, &r, err);
    if (!rc) *auc = r.auc;
    vg_roc_free(&r);
    return rc;
}
