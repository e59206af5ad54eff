/* calib.h - the state of one calibration run, shared by its stages: the normal pass
 * (calibrate.c), the synthetic sweep (sweep.c), the record (record.c) and the report
 * (report.c). */
#ifndef VG_CALIB_H
#define VG_CALIB_H

#include "train/footage.h"
#include "vigil/vigil.h"

/* What one case of the synthetic sweep gave. A burst is caught when a smoothed value at or
 * above the threshold falls in it or in the smoothing delay after it (smooth - 1 frames). */
typedef struct case_result {
    const vg_synth_case *c;
    int bursts;              /* injected */
    int applicable;          /* bursts the case changed at all (see vg_synth_apply) */
    int caught, caught_any;  /* at the threshold: by the model; by the model or a check */
    long long truth_frames, frames_caught; /* changed frames; those at or over it */
    double *peak;            /* applicable bursts' largest smoothed anomaly value */
    char example[64];        /* heat map picture in the report folder, "" for none */
} case_result;

#define STRATEGIES 3 /* vg_threshold_strategy values */

typedef struct calib_run {
    vg_model *m;
    const vg_footage *f;
    const vg_calibrate_params *p;
    int context, width, height; /* context: frames pushed before the first score */
    vg_scorer *scorer;
    vg_checks_params checks;    /* with the scene's motion fitted on the normal footage */
    double **raw;               /* per clip and frame: anomaly value, NaN for context */
    double *normal;             /* smoothed normal values, sorted */
    long long n_normal;
    long long check_flagged, check_frames; /* normal frames a signal check flags */
    double threshold[STRATEGIES], fpr[STRATEGIES], band_lo, band_hi;
    double chosen;              /* the threshold of p->strategy */
    case_result *cases;
    int n_cases;
    long long done, total;      /* progress of the current stage */
} calib_run;

/* Scores the bursts of every case of the sweep (sweep.c). */
int calib_sweep(calib_run *r, vg_error *err);

/* The calibration.json record, and the model's compact "calibration" section (record.c). */
char *calib_record(const calib_run *r);
int calib_store(const calib_run *r, vg_error *err);

/* report.html in p->report with its pictures (report.c). */
int calib_report(const calib_run *r, vg_error *err);

/* A value shown to people: PSNR in dB (anomaly values hold -dB), else as is. */
double calib_display(const calib_run *r, double v);

/* A vg_progress_fn step of stage; VG_ERR_ABORTED when the callback says stop. */
int calib_progress(calib_run *r, const char *stage, vg_error *err);

#endif
