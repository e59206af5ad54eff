/* cases.c - case-level ROC (thesis 4.1): "each anomalous or non-anomalous interval [is]
 * one single case. If the model detects any of the frames within one of these intervals,
 * then the whole interval is interpreted as having been classified anomalous." An interval
 * is a maximal run of equal labels inside one clip; it is flagged at a threshold when any
 * frame is, i.e. when its largest score reaches it, so the case's score is that maximum. A
 * run cut by a clip boundary is two cases: clips are separate recordings. */
#include "eval/roc.h"
#include "eval/runs.h"

#include <math.h>
#include <stdlib.h>

int vg_cases_split(const double *score, const unsigned char *label, const int *clip,
                   long long n, double **case_score, unsigned char **case_label,
                   long long *count, vg_error *err) {
    *case_score = NULL, *case_label = NULL, *count = 0;
    long long runs = 0;
    for (long long i = 0; i < n; i++) {
        if (!isfinite(score[i]))
            return vg_fail(err, VG_ERR_ARG, "score %lld is not a finite number (%g)", i,
                           score[i]);
        runs += vg_run_starts(label, clip, i);
    }
    double *s = malloc((size_t)(runs ? runs : 1) * sizeof *s);
    unsigned char *l = malloc((size_t)(runs ? runs : 1));
    if (!s || !l) {
        free(s), free(l);
        return vg_fail(err, VG_ERR_NOMEM, "out of memory for %lld cases", runs);
    }
    long long k = -1;
    for (long long i = 0; i < n; i++) {
        if (vg_run_starts(label, clip, i)) s[++k] = score[i], l[k] = label[i] != 0;
        else s[k] = fmax(s[k], score[i]);
    }
    *case_score = s, *case_label = l, *count = runs;
    return VG_OK;
}

int vg_roc_cases(const double *score, const unsigned char *label, const int *clip,
                 long long n, vg_roc *out, vg_error *err) {
    double *s;
    unsigned char *l;
    long long cases;
    int rc = vg_cases_split(score, label, clip, n, &s, &l, &cases, err);
    if (!rc) rc = vg_roc_ranked(s, l, cases, "cases", out, err);
    if (rc) vg_roc_free(out);
    free(s), free(l);
    return rc;
}
