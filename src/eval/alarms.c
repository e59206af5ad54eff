/* alarms.c - what a fixed threshold does on labelled footage: frame TPR and FPR, anomalous
 * intervals caught, and false alarms. An alarm is raised when the flagged state rises (a
 * flagged frame after an unflagged one, or at the start of a clip); it is false when that
 * frame is normal. An alarm raised inside an anomaly that outlasts it into normal frames
 * is not counted again: an operator sees one alarm. */
#include "eval/runs.h"

#include <math.h>
#include <string.h>

int vg_alarm_stats_at(const double *score, const unsigned char *label, const int *clip,
                      long long n, double threshold, vg_alarm_stats *out, vg_error *err) {
    memset(out, 0, sizeof *out);
    if (isnan(threshold)) return vg_fail(err, VG_ERR_ARG, "alarm threshold is not a number");
    int caught = 0; /* the current anomalous run has a flagged frame */
    for (long long i = 0; i < n; i++) {
        int start = i == 0 || clip[i] != clip[i - 1];
        int flagged = score[i] >= threshold, was = !start && score[i - 1] >= threshold;
        if (label[i]) {
            if (vg_run_starts(label, clip, i)) out->cases++, caught = 0;
            out->anomalous++, out->hits += flagged;
            out->cases_detected += flagged && !caught;
            caught |= flagged;
        } else {
            out->normal++, out->false_hits += flagged;
            out->false_alarms += flagged && !was;
        }
    }
    out->tpr = out->anomalous ? (double)out->hits / (double)out->anomalous : NAN;
    out->fpr = out->normal ? (double)out->false_hits / (double)out->normal : NAN;
    return VG_OK;
}
