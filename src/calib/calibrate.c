/* calibrate.c - the calibration procedure of seed 000 (SYSTEM.md "Thresholds and
 * calibration"): score held-out normal footage, choose the threshold from the normal
 * distribution of the smoothed anomaly value, measure recall on synthetic anomalies at it
 * (sweep.c), then ship the result: the model's metadata, calibration.json and report.html.
 * Recall that falls short is reported as such; nothing is re-tuned to hide it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "calib/calib.h"
#include "calib/threshold.h"
#include "core/stats.h"
#include "core/status.h"

vg_calibrate_params vg_calibrate_default_params(void) {
    return (vg_calibrate_params){.score = VG_SCORE_PATCH, .patch = VG_PATCH_DEFAULT,
                                 .smooth = 5, .strategy = VG_THRESHOLD_PERCENTILE,
                                 .fpr = 0.005, .recall = 0.9, .k_sigma = 3, .margin_db = 1,
                                 .burst = 10, .fps = 25, .synthetic = 1};
}

const char *vg_threshold_strategy_name(vg_threshold_strategy s) {
    static const char *names[] = {"percentile", "meanstd", "worst"};
    return (unsigned)s < STRATEGIES ? names[s] : "?";
}

double calib_display(const calib_run *r, double v) {
    return r->p->score == VG_SCORE_PSNR ? -v : v;
}

int calib_progress(calib_run *r, const char *stage, vg_error *err) {
    vg_progress pr = {.stage = stage, .done = ++r->done, .total = r->total};
    if (r->p->progress && r->p->progress(&pr, r->p->user))
        return vg_fail(err, VG_ERR_ABORTED, "calibration stopped");
    return VG_OK;
}

static int check_params(const vg_calibrate_params *p, vg_error *err) {
    if (p->patch < 1) return vg_fail(err, VG_ERR_ARG, "patch size %d must be positive", p->patch);
    if (p->smooth < 1) return vg_fail(err, VG_ERR_ARG, "smoothing width %d must be positive", p->smooth);
    if (!(p->fpr > 0 && p->fpr < 1)) return vg_fail(err, VG_ERR_ARG, "FPR %g is not in (0, 1)", p->fpr);
    if (!(p->recall > 0 && p->recall <= 1))
        return vg_fail(err, VG_ERR_ARG, "recall target %g is not in (0, 1]", p->recall);
    if (!(p->k_sigma >= 0) || !(p->margin_db >= 0) || !isfinite(p->k_sigma + p->margin_db))
        return vg_fail(err, VG_ERR_ARG, "k sigma and margin must be finite and >= 0");
    if (p->burst < 1) return vg_fail(err, VG_ERR_ARG, "burst length %d must be positive", p->burst);
    if (!(p->fps > 0 && p->fps < 1e4)) return vg_fail(err, VG_ERR_ARG, "frame rate %g is not positive", p->fps);
    if ((unsigned)p->strategy >= STRATEGIES || (unsigned)p->score > VG_SCORE_PSNR)
        return vg_fail(err, VG_ERR_ARG, "unknown threshold strategy or score");
    return VG_OK;
}

/* Scores one normal clip: raw anomaly values (NaN for the context frames) and the
 * frames a signal check flags. */
static int normal_clip(calib_run *r, const vg_clip *c, double *raw, vg_error *err) {
    vg_checks *ck = NULL;
    int rc = vg_checks_create(&r->checks, &ck, err);
    vg_scorer_reset(r->scorer);
    for (int k = 0; k < c->frames && !rc; k++) {
        vg_score s;
        vg_checks_frame cf;
        int scored = 0;
        rc = vg_scorer_push(r->scorer, vg_clip_frame(c, k), &s, NULL, NULL, &scored, err);
        raw[k] = scored ? vg_anomaly_value(r->p->score, &s) : NAN;
        if (!rc) rc = vg_checks_push(ck, vg_clip_frame(c, k), c->width, c->height,
                                     k / r->p->fps, &cf, err);
        int flagged = 0;
        for (int e = 0; !rc && e < VG_EVENT_CLASSES; e++) flagged |= cf.score[e] >= 1;
        r->check_flagged += !rc && flagged;
        r->check_frames++;
        if (!rc) rc = calib_progress(r, "calibrate", err);
    }
    vg_checks_free(ck);
    return rc;
}

/* The normal pass: every clip scored, smoothed within itself, the finite values sorted. */
static int normal_pass(calib_run *r, vg_error *err) {
    const vg_footage *f = r->f;
    r->raw = calloc((size_t)f->n, sizeof *r->raw);
    r->normal = malloc((size_t)vg_footage_frames(f) * sizeof *r->normal);
    if (!r->raw || !r->normal) return vg_fail(err, VG_ERR_NOMEM, "out of memory for scores");
    r->done = 0, r->total = vg_footage_frames(f);
    int rc = VG_OK;
    for (int c = 0; c < f->n && !rc; c++) {
        int n = f->clips[c].frames;
        double *sm = malloc((size_t)n * sizeof *sm);
        r->raw[c] = malloc((size_t)n * sizeof *r->raw[c]);
        rc = sm && r->raw[c] ? normal_clip(r, &f->clips[c], r->raw[c], err)
                             : vg_fail(err, VG_ERR_NOMEM, "out of memory for scores");
        if (!rc) vg_smooth(r->raw[c], sm, n, r->p->smooth);
        for (int k = 0; !rc && k < n; k++)
            if (isfinite(sm[k])) r->normal[r->n_normal++] = sm[k];
        free(sm);
    }
    if (!rc && r->n_normal < 2)
        rc = vg_fail(err, VG_ERR_ARG, "the normal footage has %lld scored frames; calibration "
                     "needs clips longer than %d frames", r->n_normal, r->context);
    if (!rc) vg_sort(r->normal, r->n_normal);
    return rc;
}

static void thresholds(calib_run *r) {
    const vg_calibrate_params *p = r->p;
    const double *v = r->normal;
    long long n = r->n_normal;
    r->threshold[VG_THRESHOLD_PERCENTILE] =
        vg_threshold_percentile(v, n, p->fpr, &r->band_lo, &r->band_hi);
    r->threshold[VG_THRESHOLD_MEANSTD] = vg_threshold_meanstd(v, n, p->k_sigma);
    r->threshold[VG_THRESHOLD_WORST] = vg_threshold_worst(v, n, p->margin_db, p->score);
    for (int s = 0; s < STRATEGIES; s++) r->fpr[s] = vg_fpr_at(v, n, r->threshold[s]);
    r->chosen = r->threshold[p->strategy];
    /* the band is the percentile's uncertainty; another strategy's threshold may lie
       outside it, and the band then reaches out to include it */
    r->band_lo = fmin(r->band_lo, r->chosen), r->band_hi = fmax(r->band_hi, r->chosen);
}

static void run_free(calib_run *r) {
    for (int c = 0; r->raw && c < r->f->n; c++) free(r->raw[c]);
    for (int i = 0; i < r->n_cases; i++) free(r->cases[i].peak);
    free(r->raw), free(r->normal), free(r->cases);
    vg_scorer_free(r->scorer);
}

int vg_calibrate(vg_model *m, const vg_footage *normal, const vg_calibrate_params *p,
                 char **json, vg_error *err) {
    *json = NULL;
    int rc = check_params(p, err);
    if (rc) return rc;
    vg_model_info info = vg_model_describe(m);
    calib_run r = {.m = m, .f = normal, .p = p, .context = info.context, .width = info.width,
                   .height = info.height, .checks = vg_checks_default_params()};
    r.checks.fps = p->fps;
    for (int c = 0; c < normal->n && !rc; c++)
        if (normal->clips[c].width != info.width || normal->clips[c].height != info.height)
            rc = vg_fail(err, VG_ERR_SHAPE, "%s: frames are %dx%d, the model takes %dx%d",
                         normal->clips[c].name, normal->clips[c].width,
                         normal->clips[c].height, info.width, info.height);
    if (!rc) rc = vg_checks_fit(normal, &r.checks, err);
    if (!rc) rc = vg_scorer_create(m, p->patch, &r.scorer, err);
    if (!rc) rc = normal_pass(&r, err);
    if (!rc) thresholds(&r);
    if (!rc && p->synthetic) rc = calib_sweep(&r, err);
    if (!rc && p->report) rc = calib_report(&r, err);
    if (!rc) rc = calib_store(&r, err);
    if (!rc && !(*json = calib_record(&r)))
        rc = vg_fail(err, VG_ERR_NOMEM, "out of memory for the calibration record");
    run_free(&r);
    return rc;
}
