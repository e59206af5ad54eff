/* drift.h - drift control for one camera (SYSTEM.md "Drift"): the rolling distribution of
 * its smoothed anomaly value over the last hour, day and week, compared with the normal
 * distribution its threshold was calibrated on; a sustained shift becomes a drift, for
 * which the advice is to retrain on recent normal footage; optionally a threshold that
 * follows slow normal drift.
 *
 * Values are counted, never stored: each falls into one of 102 bins cut at the reference's
 * percentiles (100 between them, a tail on each side), and a window is a ring of per-slot
 * histograms (60 minutes for the hour, 24 hours for the day, 7 days for the week; the
 * adaptive threshold keeps one more hour of the values outside events). Memory is fixed at
 * about 66 KiB a camera whatever its frame rate and uptime, a push is O(1) and a check
 * O(bins x windows). Counts are 32-bit per slot: up to 49,000 values a second.
 *
 * Windows are the slots of the latest 60 minutes, 24 hours or 7 days by the clock (the
 * current one partly filled), so a camera that stops sending empties its windows. Every
 * value counts, those of events too: a shift that lifts the level over the threshold is
 * the alert storm drift control is there to explain. A drift belongs to one thread at a
 * time. */
#ifndef VG_SERVE_DRIFT_H
#define VG_SERVE_DRIFT_H

#include "vigil/vigil.h"

typedef struct vg_drift_params {
    double psi_alert;  /* 0.25: the hour's PSI at or above it is a significant shift (the
                          usual reading of PSI: < 0.1 none, 0.1 - 0.25 moderate) */
    double psi_clear;  /* 0.10, in (0, psi_alert]: a drift ends when the hour's PSI is back
                          below it (hysteresis, so a drift does not flap at the limit) */
    double sustain;    /* 600 s, >= 0: the hour's PSI must stay at or above psi_alert at
                          every check for this long before a drift starts */
    int adaptive;      /* 0: the threshold stays as calibrated; 1: it follows the shift of
                          the 99.5th percentile of the last hour's values outside events */
    double max_change; /* 0.5, in [0, 1): the adaptive threshold stays within a factor
                          1 - max_change .. 1 + max_change of the calibrated one; for
                          logarithmic values that factor is on MSE, i.e. within
                          10 log10(1 -+ max_change) dB (-3.01 .. +1.76 dB at 0.5), so one
                          setting means the same for the patch score and PSNR */
    int absolute;      /* 1 when values are logarithmic (-PSNR dB): shifts are differences,
                          not ratios; 0 (default): ratio-type values such as the patch score */
} vg_drift_params;

vg_drift_params vg_drift_default_params(void);

typedef struct vg_drift vg_drift;

/* A drift monitor. ref: 101 non-decreasing finite quantiles, the percentiles 0..100 of the
 * calibration's smoothed normal values in anomaly units (vg_model_calibration_reference);
 * threshold: the calibrated one, same units (finite; > 0 for an adaptive ratio-type one,
 * whose reference 99.5th percentile must be > 0 too). VG_ERR_ARG (one line naming the
 * field) for bad arguments; *out is NULL on failure. */
int vg_drift_create(const double ref[101], double threshold, const vg_drift_params *p,
                    vg_drift **out, vg_error *err);
void vg_drift_free(vg_drift *d); /* accepts NULL */

/* One smoothed anomaly value at wall-clock time t (seconds, e.g. since the epoch; |t| <=
 * 1e15); in_event: an event is open on this camera, so the adaptive threshold neither
 * learns from the value nor moves until a value comes outside an event. A value earlier
 * than the newest slot counts in it (a clock stepping back loses nothing); a non-finite
 * value (a smoothing window with no score) or time is left out. O(1), no allocation. */
void vg_drift_push(vg_drift *d, double t, double value, int in_event);

typedef struct vg_drift_report {
    double psi[3], ks[3]; /* hour, day, week windows against the reference: population
                             stability index over the reference's deciles, and the largest
                             gap between the CDFs (exact at the 101 percentile edges); NAN
                             when the window has fewer than 300 values */
    long long n[3];       /* values in each window */
    int drifting;         /* 1 while a drift is on: retraining on recent normal footage is
                             recommended */
    int started, ended;   /* 1 when this call found it starting / ending */
    double threshold;     /* the threshold to use now: the calibrated one unless adaptive */
} vg_drift_report;

/* The state at time t (not earlier than the previous check's): windows move on to t,
 * drift starts or ends, the adaptive threshold takes a step. Call about once a minute,
 * the pace `sustain` is judged at; cheap: O(bins x windows). */
void vg_drift_check(vg_drift *d, double t, vg_drift_report *out);

#endif
