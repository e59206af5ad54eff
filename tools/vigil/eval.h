/* eval.h - what vigil eval's two files share: cmd_eval.c scores the footage into the
 * per-frame arrays below, eval_report.c turns them into figures, the table on stdout and
 * the HTML report. */
#ifndef VIGIL_EVAL_H
#define VIGIL_EVAL_H

#include "cli.h"

#define EVAL_MAX_SOURCES 256
#define EVAL_KINDS 2 /* vg_score_kind: patch, psnr */

typedef struct eval_opts {
    const char *model, *labels, *masks, *report, *out;
    const char *sources[EVAL_MAX_SOURCES];
    int n_sources, patch, smooth, threads, bf16;
    int has_patch, has_threshold;
    double threshold;   /* --threshold, in the score's own units (PSNR: dB) */
    vg_score_kind score; /* the score --threshold applies to */
    double fps;         /* --fps; 0: as the footage states it */
} eval_opts;

/* One clip: its scored frames are first .. first + n - 1 of the arrays. */
typedef struct eval_clip {
    char name[256];
    long long first, n;
    int frames;             /* all of them: the first T are context, not scored */
    unsigned char *truth;   /* frames labels */
    double fps;             /* 0: unknown (an image folder without --fps) */
    int best;               /* the frame of the highest patch score, for the heat map */
    double best_patch;
    char heatmap[4096];     /* its heat map's file ("" without --report) */
} eval_clip;

/* The operating point the threshold figures are taken at. */
typedef struct eval_point {
    int known;
    vg_score_kind score;
    double threshold; /* on the anomaly value (higher = anomalous: PSNR negated) */
    int smooth;
    const char *from; /* "the model's calibration" or "--threshold" */
} eval_point;

typedef struct eval_data {
    const eval_opts *o;
    vg_model *m;
    eval_point point;
    double *value[EVAL_KINDS]; /* raw anomaly values per scored frame (vg_anomaly_value) */
    unsigned char *label;
    int *clip, *frame;         /* clip index and frame number in the clip */
    long long n, cap;
    eval_clip *clips;
    int n_clips, cap_clips;
    vg_roc_hist *pixels;       /* pixel errors against the masks; NULL without masks */
    double seconds;            /* scoring wall time */
} eval_data;

/* Each clip's values smoothed by a causal moving average of width w, into out. */
void eval_smooth(const eval_data *d, const double *in, int w, double *out);

/* Prints the figures and, with --report, writes DIR/report.html. */
int eval_report(const eval_data *d, vg_error *err);

#endif
