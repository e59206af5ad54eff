/* operating.c - where a model's prediction_error events get their threshold: the
 * operator's override, else the model's calibration, else (for a model never calibrated)
 * its validation's 99.5th percentile, with the smoothing and patch window the threshold was
 * measured with. vigil score --events and vigil watch both decide through it. */
#include <math.h>

#include "core/status.h"

vg_operating_overrides vg_operating_default_overrides(void) {
    return (vg_operating_overrides){.score = VG_SCORE_PATCH, .threshold = NAN, .exit = NAN,
                                    .debounce = -1, .min_duration = -1, .merge_gap = -1,
                                    .update_every = -1};
}

/* The validation's percentile (99.5th of patch scores, 0.5th of PSNR); 0 when absent. */
static int from_validation(const vg_model *m, vg_score_kind kind, vg_operating_point *op) {
    int psnr = kind == VG_SCORE_PSNR;
    const char *const path[] = {psnr ? "psnr" : "patch_score", "percentiles", psnr ? "0.5" : "99.5"};
    const char *const patch_key[] = {"patch"};
    double v, patch = 0;
    if (!vg_model_meta_number(m, "validation", path, 3, &v)) return 0;
    vg_model_meta_number(m, "validation", patch_key, 1, &patch);
    op->decide.threshold = psnr ? -v : v;
    op->patch = psnr ? 0 : (int)patch;
    op->source = VG_FROM_VALIDATION;
    return 1;
}

static int find_threshold(const vg_model *m, const vg_operating_overrides *o,
                          vg_operating_point *op, vg_error *err) {
    vg_calibration cal;
    int rc = vg_model_calibration(m, &cal, err);
    if (rc && rc != VG_ERR_MISSING) return rc;
    int calibrated = rc == VG_OK;
    vg_score_kind kind = o->has_score || !calibrated ? o->score : cal.score;
    op->score = kind;
    if (!isnan(o->threshold)) {
        op->decide.threshold = kind == VG_SCORE_PSNR ? -o->threshold : o->threshold;
        op->source = VG_FROM_OVERRIDE;
    } else if (calibrated && cal.score == kind) {
        op->decide.threshold = cal.threshold;
        op->decide.band_lo = cal.band_lo, op->decide.band_hi = cal.band_hi;
        op->patch = kind == VG_SCORE_PATCH ? cal.patch : 0;
        op->decide.smooth = cal.smooth;
        op->source = VG_FROM_CALIBRATION;
    } else if (!from_validation(m, kind, op)) {
        return vg_fail(err, VG_ERR_ARG, "no threshold: the model has no calibration or "
                       "validation for %s; give one", vg_score_kind_name(kind));
    }
    return VG_OK;
}

/* The scoring's patch window and smoothing: given ones must match the threshold's. */
static int adopt_scoring(const vg_operating_overrides *o, vg_operating_point *op,
                         vg_error *err) {
    const char *from = vg_operating_source_name(op->source);
    if (op->patch && o->patch && o->patch != op->patch)
        return vg_fail(err, VG_ERR_ARG, "patch %d: the threshold (%s) was set on %d-pixel "
                       "patches; leave the patch out or give a threshold", o->patch, from,
                       op->patch);
    if (op->decide.smooth > 0 && o->smooth && o->smooth != op->decide.smooth)
        return vg_fail(err, VG_ERR_ARG, "smooth %d: the threshold (%s) is for a %d-frame "
                       "moving average; leave the smoothing out or give a threshold", o->smooth,
                       from, op->decide.smooth);
    if (!op->patch) op->patch = o->patch ? o->patch : VG_PATCH_DEFAULT;
    if (op->decide.smooth <= 0) op->decide.smooth = o->smooth ? o->smooth : 1;
    return VG_OK;
}

/* The exit level as an anomaly value, checked against the threshold in the user's units. */
static int exit_level(const vg_operating_overrides *o, vg_operating_point *op, vg_error *err) {
    int psnr = op->score == VG_SCORE_PSNR;
    double t = op->decide.threshold;
    if (isnan(o->exit)) return VG_OK;
    op->decide.exit = psnr ? -o->exit : o->exit;
    if (op->decide.exit <= t) return VG_OK;
    return psnr ? vg_fail(err, VG_ERR_ARG, "exit %g dB is below the threshold %g dB: an event "
                          "ends when PSNR is back above the exit level, so it must be at least "
                          "the threshold", o->exit, -t)
                : vg_fail(err, VG_ERR_ARG, "exit %g is above the threshold %g: an event ends "
                          "when the score falls below the exit level, so it must be at most "
                          "the threshold", o->exit, t);
}

int vg_model_operating_point(const vg_model *m, const vg_operating_overrides *o,
                             vg_operating_point *op, vg_error *err) {
    *op = (vg_operating_point){.decide = vg_decide_default_params(VG_EVENT_PREDICTION_ERROR)};
    vg_decide_params *p = &op->decide;
    p->smooth = 0;
    int rc = find_threshold(m, o, op, err);
    if (!rc) rc = adopt_scoring(o, op, err);
    if (rc) return rc;
    if (op->score == VG_SCORE_PATCH && !(p->threshold > 0))
        return vg_fail(err, VG_ERR_ARG, "threshold %g (%s): a patch-score threshold must be "
                       "above 0", p->threshold, vg_operating_source_name(op->source));
    if (op->score == VG_SCORE_PSNR) { /* the ratio tiers of MSE, 1.5x and 2x, in dB */
        p->margin = VG_MARGIN_ABSOLUTE;
        p->medium = 10 * log10(p->medium), p->high = 10 * log10(p->high);
    }
    if (o->debounce >= 0) p->debounce = o->debounce;
    if (o->min_duration >= 0) p->min_duration = o->min_duration;
    if (o->merge_gap >= 0) p->merge_gap = o->merge_gap;
    if (o->update_every >= 0) p->update_every = o->update_every;
    return exit_level(o, op, err);
}

const char *vg_operating_source_name(vg_operating_source s) {
    switch (s) {
    case VG_FROM_OVERRIDE: return "the threshold given";
    case VG_FROM_CALIBRATION: return "the model's calibration";
    case VG_FROM_VALIDATION: return "the validation";
    }
    return "?";
}

void vg_model_checks_params(const vg_model *m, vg_checks_params *p) {
    const char *const motion[] = {"motion"}, *const detail[] = {"detail"};
    vg_model_meta_number(m, "checks", motion, 1, &p->motion);
    vg_model_meta_number(m, "checks", detail, 1, &p->detail);
}
