/* record.c - what a calibration ships (seed 000 step 7): calibration.json, the whole record
 * (threshold, strategy, smoothing, FPR on the held-out normal frames, the percentiles of
 * the normal values that drift control compares with, each strategy's threshold, per-case
 * and per-category recall, fingerprints of the footage, vigil's version), and the compact
 * operating point in the model's "calibration" section, which vg_model_calibration reads
 * back. Numbers are in the score's own units (PSNR in dB). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calib/calib.h"
#include "core/stats.h"
#include "core/status.h"

/* FNV-1a 64 of a clip's decoded frames (at the model's size): the same footage decoded the
 * same way gives the same print. */
static void fingerprint(const vg_clip *c, char out[24]) {
    uint64_t h = 0xcbf29ce484222325ull;
    size_t n = (size_t)c->frames * c->width * c->height * 3;
    for (size_t i = 0; i < n; i++) h = (h ^ c->rgb[i]) * 0x100000001b3ull;
    snprintf(out, 24, "%016llx", (unsigned long long)h);
}

static void add_band(const calib_run *r, cJSON *o) {
    double a = calib_display(r, r->band_lo), b = calib_display(r, r->band_hi);
    double band[2] = {fmin(a, b), fmax(a, b)};
    cJSON_AddItemToObject(o, "band", cJSON_CreateDoubleArray(band, 2));
}

/* The percentiles 0, 1, ..., 100 of the smoothed normal values, in display units: the
 * normal distribution drift control compares a camera's live values with. PSNR's
 * percentile i is minus the anomaly value's percentile 100 - i. */
static void add_reference(const calib_run *r, cJSON *o) {
    double ref[101];
    int psnr = r->p->score == VG_SCORE_PSNR;
    for (int i = 0; i <= 100; i++)
        ref[i] = calib_display(r, vg_percentile(r->normal, r->n_normal, psnr ? 100 - i : i));
    cJSON_AddItemToObject(o, "reference", cJSON_CreateDoubleArray(ref, 101));
}

/* The operating point: what vg_model_calibration needs, and how it was obtained. */
static void add_operating_point(const calib_run *r, cJSON *o) {
    const vg_calibrate_params *p = r->p;
    cJSON_AddStringToObject(o, "score", vg_score_kind_name(p->score));
    cJSON_AddNumberToObject(o, "patch", p->patch);
    cJSON_AddNumberToObject(o, "smooth", p->smooth);
    cJSON_AddStringToObject(o, "strategy", vg_threshold_strategy_name(p->strategy));
    cJSON_AddNumberToObject(o, "threshold", calib_display(r, r->chosen));
    add_band(r, o);
    add_reference(r, o);
    cJSON_AddNumberToObject(o, "fpr", r->fpr[p->strategy]);
    cJSON_AddNumberToObject(o, "normal_frames", (double)r->n_normal);
    cJSON_AddStringToObject(o, "vigil_version", vg_version());
}

static cJSON *strategies(const calib_run *r) {
    cJSON *o = cJSON_CreateObject();
    for (int s = 0; s < STRATEGIES; s++) {
        cJSON *e = cJSON_AddObjectToObject(o, vg_threshold_strategy_name((vg_threshold_strategy)s));
        cJSON_AddNumberToObject(e, "threshold", calib_display(r, r->threshold[s]));
        cJSON_AddNumberToObject(e, "fpr", r->fpr[s]);
    }
    cJSON_AddNumberToObject(cJSON_GetObjectItem(o, "percentile"), "target_fpr", r->p->fpr);
    cJSON_AddNumberToObject(cJSON_GetObjectItem(o, "meanstd"), "k_sigma", r->p->k_sigma);
    cJSON_AddNumberToObject(cJSON_GetObjectItem(o, "worst"), "margin_db", r->p->margin_db);
    return o;
}

static cJSON *normal_footage(const calib_run *r) {
    cJSON *o = cJSON_CreateObject(), *clips = cJSON_AddArrayToObject(o, "clips");
    for (int c = 0; c < r->f->n; c++) {
        char print[24];
        fingerprint(&r->f->clips[c], print);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", r->f->clips[c].name);
        cJSON_AddNumberToObject(e, "frames", r->f->clips[c].frames);
        cJSON_AddStringToObject(e, "fingerprint", print);
        cJSON_AddItemToArray(clips, e);
    }
    cJSON_AddNumberToObject(o, "scored_frames", (double)r->n_normal);
    double *v = malloc((size_t)r->n_normal * sizeof *v);
    for (long long i = 0; v && i < r->n_normal; i++) v[i] = calib_display(r, r->normal[i]);
    if (v) cJSON_AddItemToObject(o, "smoothed_score", vg_distribution_json(v, r->n_normal));
    free(v);
    cJSON_AddNumberToObject(o, "motion", r->checks.motion);
    cJSON_AddNumberToObject(o, "detail", r->checks.detail);
    cJSON_AddNumberToObject(o, "checks_fpr", r->check_frames ? (double)r->check_flagged /
                                                                   (double)r->check_frames : 0);
    return o;
}

static double ratio(long long a, long long b) { return b ? (double)a / (double)b : NAN; }

static cJSON *case_json(const case_result *cr) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", cr->c->name);
    cJSON_AddStringToObject(o, "category", vg_synth_category_name(cr->c->category));
    cJSON_AddNumberToObject(o, "severity", cr->c->severity);
    cJSON_AddBoolToObject(o, "operational", cr->c->operational);
    cJSON_AddNumberToObject(o, "bursts", cr->bursts);
    cJSON_AddNumberToObject(o, "applicable", cr->applicable);
    cJSON_AddNumberToObject(o, "recall", ratio(cr->caught, cr->applicable));
    cJSON_AddNumberToObject(o, "recall_with_checks", ratio(cr->caught_any, cr->applicable));
    cJSON_AddNumberToObject(o, "frame_recall", ratio(cr->frames_caught, cr->truth_frames));
    return o;
}

/* A category's verdict at its operational severities: the worst of its operational cases
 * that apply to this footage. */
static cJSON *category_json(const calib_run *r, vg_synth_category cat) {
    double model = INFINITY, with = INFINITY;
    for (int i = 0; i < r->n_cases; i++) {
        const case_result *cr = &r->cases[i];
        if (cr->c->category != cat || !cr->c->operational || !cr->applicable) continue;
        model = fmin(model, ratio(cr->caught, cr->applicable));
        with = fmin(with, ratio(cr->caught_any, cr->applicable));
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", vg_synth_category_name(cat));
    int none = isinf(model);
    cJSON_AddNumberToObject(o, "recall", none ? NAN : model);
    cJSON_AddNumberToObject(o, "recall_with_checks", none ? NAN : with);
    cJSON_AddStringToObject(o, "verdict", none ? "not applicable to this footage"
                                          : with >= r->p->recall ? "ok"
                                                                 : "needs a better model");
    return o;
}

static cJSON *synthetic(const calib_run *r) {
    cJSON *o = cJSON_CreateObject();
    const char *enc = vg_synth_encoder();
    cJSON_AddStringToObject(o, "encoder", enc ? enc : "none");
    cJSON_AddNumberToObject(o, "burst", r->p->burst);
    cJSON_AddNumberToObject(o, "recall_target", r->p->recall);
    cJSON *cats = cJSON_AddArrayToObject(o, "categories");
    for (int c = 0; c < VG_SYNTH_CATEGORIES; c++)
        cJSON_AddItemToArray(cats, category_json(r, (vg_synth_category)c));
    cJSON *cases = cJSON_AddArrayToObject(o, "cases");
    for (int i = 0; i < r->n_cases; i++) cJSON_AddItemToArray(cases, case_json(&r->cases[i]));
    return o;
}

char *calib_record(const calib_run *r) {
    cJSON *o = cJSON_CreateObject();
    add_operating_point(r, o);
    cJSON_AddItemToObject(o, "strategies", strategies(r));
    cJSON_AddItemToObject(o, "normal", normal_footage(r));
    if (r->p->synthetic) cJSON_AddItemToObject(o, "synthetic", synthetic(r));
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    return s;
}

/* Stores o (deleted here) as a metadata section of m. */
static int set_section(vg_model *m, const char *name, cJSON *o, vg_error *err) {
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    int rc = s ? vg_model_set_meta(m, name, s, err)
               : vg_fail(err, VG_ERR_NOMEM, "out of memory for the %s section", name);
    free(s);
    return rc;
}

int calib_store(const calib_run *r, vg_error *err) {
    cJSON *o = cJSON_CreateObject();
    add_operating_point(r, o);
    if (r->p->synthetic) {
        cJSON *cats = cJSON_AddArrayToObject(o, "categories");
        for (int c = 0; c < VG_SYNTH_CATEGORIES; c++)
            cJSON_AddItemToArray(cats, category_json(r, (vg_synth_category)c));
    }
    int rc = set_section(r->m, "calibration", o, err);
    /* the frozen-frame and detail-loss checks' yardsticks: this scene's normal levels */
    cJSON *checks = cJSON_CreateObject();
    cJSON_AddNumberToObject(checks, "motion", r->checks.motion);
    cJSON_AddNumberToObject(checks, "detail", r->checks.detail);
    return rc ? (cJSON_Delete(checks), rc) : set_section(r->m, "checks", checks, err);
}
