/* roc.h - a vg_roc built from groups of tied items, the highest-scoring group first: each
 * group adds the point that flags it and every group before. Used for exact curves (a
 * group: the items of one score), case-level curves and histograms (a group: one bin). */
#ifndef VG_EVAL_ROC_H
#define VG_EVAL_ROC_H

#include "core/status.h"

typedef struct vg_roc_build {
    vg_roc *r;
    long long cap, tp, fp; /* points allotted; anomalous and normal items flagged so far */
    double area2, tied;    /* twice the area times pos x neg; anomalous-normal pairs tied */
} vg_roc_build;

/* Starts r with the point (0, 0) and room for max_groups more; what names the items in
 * messages ("frames", "cases", "pixels"). VG_ERR_ARG without both classes. */
int vg_roc_build_begin(vg_roc_build *b, vg_roc *r, long long max_groups, long long pos,
                       long long neg, const char *what, vg_error *err);

/* Adds the group of pos anomalous and neg normal items at score threshold. */
void vg_roc_build_group(vg_roc_build *b, double threshold, long long pos, long long neg);

/* Sets the area and the equal error rate; binned: the groups are bins of distinct values,
 * so their ties bound the area's error (auc_bound), else ties are exact (bound 0). */
void vg_roc_build_end(vg_roc_build *b, int binned);

/* vg_roc_curve, with what naming the items in messages. */
int vg_roc_ranked(const double *score, const unsigned char *label, long long n,
                  const char *what, vg_roc *out, vg_error *err);

#endif
