/* calibration.c - reading a model's operating point and normal reference distribution back
 * from its "calibration" metadata section, and the one place that says which direction of
 * which score is anomalous. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"

const char *vg_score_kind_name(vg_score_kind k) { return k == VG_SCORE_PSNR ? "psnr" : "patch"; }

double vg_anomaly_value(vg_score_kind k, const vg_score *s) {
    return k == VG_SCORE_PSNR ? -s->psnr : s->patch;
}

/* A finite number at key, else 0. */
static int number(const cJSON *o, const char *key, double *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) return 0;
    *out = v->valuedouble;
    return 1;
}

/* The JSON stores thresholds in the score's own units (PSNR in dB, low = anomalous), as a
 * user reads them; the struct holds anomaly values, as the deciders compare them. */
static int parse(const cJSON *o, vg_calibration *c) {
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(o, "score");
    const cJSON *band = cJSON_GetObjectItemCaseSensitive(o, "band");
    double patch, smooth, lo, hi;
    if (!cJSON_IsString(kind) || !number(o, "patch", &patch) || !number(o, "smooth", &smooth) ||
        !number(o, "threshold", &c->threshold) || !number(o, "fpr", &c->fpr) ||
        !cJSON_IsArray(band) || cJSON_GetArraySize(band) != 2)
        return 0;
    if (!strcmp(kind->valuestring, "psnr")) c->score = VG_SCORE_PSNR;
    else if (!strcmp(kind->valuestring, "patch")) c->score = VG_SCORE_PATCH;
    else return 0;
    const cJSON *a = cJSON_GetArrayItem(band, 0), *b = cJSON_GetArrayItem(band, 1);
    if (!cJSON_IsNumber(a) || !cJSON_IsNumber(b) || patch < 1 || smooth < 1 || patch > 1e4 ||
        smooth > 1e6)
        return 0;
    lo = a->valuedouble, hi = b->valuedouble;
    c->patch = (int)patch, c->smooth = (int)smooth;
    double sign = c->score == VG_SCORE_PSNR ? -1 : 1;
    c->threshold *= sign;
    c->band_lo = fmin(sign * lo, sign * hi);
    c->band_hi = fmax(sign * lo, sign * hi);
    return c->band_lo <= c->threshold && c->threshold <= c->band_hi;
}

/* The calibration section of m parsed into *o (cJSON_Delete it; NULL on failure) and its
 * operating point into c. */
static int load(const vg_model *m, cJSON **o, vg_calibration *c, vg_error *err) {
    memset(c, 0, sizeof *c);
    char *text = vg_model_get_meta(m, "calibration");
    *o = NULL;
    if (!text)
        return vg_fail(err, VG_ERR_MISSING, "the model has no calibration (run vigil calibrate)");
    *o = cJSON_Parse(text);
    free(text);
    if (*o && parse(*o, c)) return VG_OK;
    cJSON_Delete(*o);
    *o = NULL;
    return vg_fail(err, VG_ERR_FORMAT, "the model's calibration section is malformed");
}

int vg_model_calibration(const vg_model *m, vg_calibration *out, vg_error *err) {
    cJSON *o;
    int rc = load(m, &o, out, err);
    cJSON_Delete(o);
    return rc;
}

/* The "reference" array as increasing anomaly values: PSNR's percentiles (dB, rising
 * towards normal) negated and reversed. 0 unless it is 101 finite non-decreasing numbers. */
static int parse_reference(const cJSON *a, vg_score_kind k, double ref[101]) {
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != 101) return 0;
    int psnr = k == VG_SCORE_PSNR, i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, a) {
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) return 0;
        ref[psnr ? 100 - i : i] = psnr ? -v->valuedouble : v->valuedouble;
        i++;
    }
    for (i = 1; i <= 100; i++)
        if (ref[i] < ref[i - 1]) return 0;
    return 1;
}

int vg_model_calibration_reference(const vg_model *m, double ref[101], vg_error *err) {
    cJSON *o;
    vg_calibration c;
    int rc = load(m, &o, &c, err);
    if (rc) return rc;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "reference");
    double got[101];
    if (!a)
        rc = vg_fail(err, VG_ERR_MISSING, "the model's calibration has no normal reference "
                     "distribution (an older vigil calibrated it: run vigil calibrate again)");
    else if (!parse_reference(a, c.score, got))
        rc = vg_fail(err, VG_ERR_FORMAT, "the model's calibration reference is not 101 "
                     "increasing numbers");
    else
        memcpy(ref, got, sizeof got);
    cJSON_Delete(o);
    return rc;
}
