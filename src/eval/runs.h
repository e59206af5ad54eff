/* runs.h - frames of several clips one after another (clip[i] identifies frame i's clip;
 * a clip's frames are consecutive), and the runs of equal labels inside each clip: the
 * cases of thesis 4.1. */
#ifndef VG_EVAL_RUNS_H
#define VG_EVAL_RUNS_H

#include "core/status.h"

/* The end (one past the last frame) of the clip whose first frame is a. */
static inline long long vg_clip_end(const int *clip, long long n, long long a) {
    long long b = a + 1;
    while (b < n && clip[b] == clip[a]) b++;
    return b;
}

/* Whether frame i starts a run: the first frame of a clip, or a change of label. */
static inline int vg_run_starts(const unsigned char *label, const int *clip, long long i) {
    return i == 0 || clip[i] != clip[i - 1] || !label[i] != !label[i - 1];
}

/* Each run as a case: its largest score and its label (0/1), *count of them, in two
 * arrays freed with free(). VG_ERR_ARG for a score that is not finite. */
int vg_cases_split(const double *score, const unsigned char *label, const int *clip,
                   long long n, double **case_score, unsigned char **case_label,
                   long long *count, vg_error *err);

#endif
