/* score_events.c - vigil score --events (see score_events.h): where the threshold comes
 * from, a decider per event class, and the JSON Lines they write. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "score_events.h"

struct score_events {
    FILE *f;
    const char *path, *camera, *heatmaps;
    vg_score_kind kind;
    double fps;
    vg_checks *checks;
    vg_decider *dec[VG_EVENT_CLASSES];
    long long last_frame; /* of the last frame read (-1: none) */
    double last_pts;
};

void score_events_defaults(score_events_opts *o) {
    *o = (score_events_opts){.kind = VG_SCORE_PATCH, .threshold = NAN, .exit = NAN,
                             .debounce = -1, .min_duration = -1, .merge_gap = -1, .update = -1};
}

void score_events_help(FILE *f) {
    vg_decide_params d = vg_decide_default_params(VG_EVENT_PREDICTION_ERROR);
    fprintf(f,
            "  --events FILE|-   write events as JSON Lines: the model's (prediction_error) and\n"
            "                    the signal checks' (frozen_frame, black_frame, flat_frame,\n"
            "                    signal_lost), each new / update / end with id, camera, start,\n"
            "                    end, duration, peak, threshold, severity, confidence band\n"
            "  --threshold X     in the score's units (patch score, or PSNR dB: anomalous at or\n"
            "                    below); default: the model's calibration, else the 99.5th\n"
            "                    percentile of its validation's patch scores (0.5th of PSNR)\n"
            "  --score NAME      patch | psnr: the score that decides (default: the\n"
            "                    calibration's, else patch)\n"
            "  --exit X          an event lasts until the score is back past X (default: the\n"
            "                    threshold)\n"
            "  --debounce N      frames at or past the threshold before an event opens (%d)\n"
            "  --min-duration N  frames an event must last to be reported (%d)\n"
            "  --merge-gap N     frames below the exit level bridged within one event (%d)\n"
            "  --update N        an update every N frames while an event is open (0: never)\n"
            "  --camera NAME     camera id in the events (default: SOURCE)\n"
            "Event scores are anomaly values, higher = more anomalous: the patch score, or\n"
            "minus PSNR; the checks' scores are multiples of their limit (threshold 1).\n"
            "The checks keep their own decision settings; frozen frames are judged against\n"
            "the scene's normal motion when the model's metadata has it (\"checks\": {\"motion\"}),\n"
            "else only near-exact repeats count.\n",
            d.debounce, d.min_duration, d.merge_gap);
}

int score_events_option(score_events_opts *o, const char *a, const char *v) {
    long n = 0;
    int ok = 1, k = 0;
    if (!strcmp(a, "--events")) o->path = v;
    else if (!strcmp(a, "--camera")) o->camera = v;
    else if (!strcmp(a, "--score"))
        ok = cli_choice(a, v, cli_score_names, 2, &k), o->kind = (vg_score_kind)k, o->has_kind = ok;
    else if (!strcmp(a, "--threshold")) ok = cli_double(a, v, -1e300, 1e300, &o->threshold);
    else if (!strcmp(a, "--exit")) ok = cli_double(a, v, -1e300, 1e300, &o->exit);
    else if (!strcmp(a, "--debounce")) ok = cli_int(a, v, 1, 100000, &n), o->debounce = (int)n;
    else if (!strcmp(a, "--min-duration")) ok = cli_int(a, v, 1, 100000, &n), o->min_duration = (int)n;
    else if (!strcmp(a, "--merge-gap")) ok = cli_int(a, v, 0, 100000, &n), o->merge_gap = (int)n;
    else if (!strcmp(a, "--update")) ok = cli_int(a, v, 0, 100000, &n), o->update = (int)n;
    else return -1;
    if (strcmp(a, "--events") && !o->first) o->first = a;
    return ok;
}

/* ---- the model's decider ---------------------------------------------------------------- */

/* Where the threshold of the model's events comes from, in anomaly values (higher =
 * more anomalous; PSNR negated), with the patch window and smoothing it was measured with
 * (0: any; PSNR has no patch window). */
typedef struct operating_point {
    vg_score_kind kind;
    double threshold, band_lo, band_hi;
    int patch, smooth;
    const char *from;
} operating_point;

/* The validation's percentile (99.5th of patch scores, 0.5th of PSNR): the threshold of
 * a model that was never calibrated. 0 when the model has no validation. */
static int from_validation(const vg_model *m, vg_score_kind kind, operating_point *op) {
    int psnr = kind == VG_SCORE_PSNR;
    const char *const path[] = {psnr ? "psnr" : "patch_score", "percentiles", psnr ? "0.5" : "99.5"};
    const char *const patch_key[] = {"patch"};
    double v, patch = 0;
    if (!cli_meta_number(m, "validation", path, 3, &v)) return 0;
    cli_meta_number(m, "validation", patch_key, 1, &patch);
    *op = (operating_point){kind, psnr ? -v : v, NAN, NAN, psnr ? 0 : (int)patch, 0,
                            "the validation"};
    fprintf(stderr, "vigil: score: note: the model has no calibration for %s; events use the "
            "validation's %s percentile, %g%s, as the threshold (vigil calibrate sets one)\n",
            vg_score_kind_name(kind), psnr ? "0.5th" : "99.5th", v, psnr ? " dB" : "");
    return 1;
}

static int find_threshold(const score_events_opts *o, const vg_model *m, operating_point *op,
                          vg_error *err) {
    vg_calibration cal;
    int rc = vg_model_calibration(m, &cal, err);
    if (rc && rc != VG_ERR_MISSING) return rc;
    int calibrated = rc == VG_OK;
    vg_score_kind kind = o->has_kind || !calibrated ? o->kind : cal.score;
    if (!isnan(o->threshold)) {
        double t = kind == VG_SCORE_PSNR ? -o->threshold : o->threshold;
        *op = (operating_point){kind, t, NAN, NAN, 0, 0, "--threshold"};
    } else if (calibrated && cal.score == kind) {
        *op = (operating_point){kind, cal.threshold, cal.band_lo, cal.band_hi,
                                kind == VG_SCORE_PATCH ? cal.patch : 0, cal.smooth,
                                "the model's calibration"};
    } else if (!from_validation(m, kind, op)) {
        return cli_set_error(err, VG_ERR_ARG, "--events needs a threshold: the model has no "
                             "calibration or validation for %s; give --threshold",
                             vg_score_kind_name(kind));
    }
    return VG_OK;
}

/* The scoring's patch window and smoothing: given ones must match the threshold's. */
static int adopt_scoring(const operating_point *op, int *patch, int *smooth, vg_error *err) {
    if (op->patch && *patch && *patch != op->patch)
        return cli_set_error(err, VG_ERR_ARG, "--patch %d: the threshold (%s) was set on %d-pixel "
                             "patches; leave --patch out or give --threshold", *patch, op->from,
                             op->patch);
    if (op->smooth && *smooth && *smooth != op->smooth)
        return cli_set_error(err, VG_ERR_ARG, "--smooth %d: the threshold (%s) is for a %d-frame "
                             "moving average; leave --smooth out or give --threshold", *smooth,
                             op->from, op->smooth);
    if (!*patch) *patch = op->patch ? op->patch : VG_PATCH_DEFAULT;
    if (!*smooth) *smooth = op->smooth ? op->smooth : 1;
    return VG_OK;
}

/* The exit level as an anomaly value, checked against the threshold in the user's units. */
static int exit_level(const score_events_opts *o, const operating_point *op, double *exit,
                      vg_error *err) {
    int psnr = op->kind == VG_SCORE_PSNR;
    *exit = NAN;
    if (isnan(o->exit)) return VG_OK;
    *exit = psnr ? -o->exit : o->exit;
    if (*exit <= op->threshold) return VG_OK;
    return psnr ? cli_set_error(err, VG_ERR_ARG, "--exit %g dB is below the threshold %g dB: an "
                                "event ends when PSNR is back above the exit level, so it must "
                                "be at least the threshold", o->exit, -op->threshold)
                : cli_set_error(err, VG_ERR_ARG, "--exit %g is above the threshold %g: an event "
                                "ends when the score falls below the exit level, so it must be "
                                "at most the threshold", o->exit, op->threshold);
}

static int model_params(const score_events_opts *o, const operating_point *op, int smooth,
                        vg_decide_params *p, vg_error *err) {
    *p = vg_decide_default_params(VG_EVENT_PREDICTION_ERROR);
    if (op->kind == VG_SCORE_PATCH && !(op->threshold > 0))
        return cli_set_error(err, VG_ERR_ARG, "threshold %g (%s): a patch-score threshold must "
                             "be above 0", op->threshold, op->from);
    p->threshold = op->threshold;
    p->band_lo = op->band_lo, p->band_hi = op->band_hi;
    p->smooth = smooth;
    if (op->kind == VG_SCORE_PSNR) { /* the ratio tiers of MSE, 1.5x and 2x, in dB */
        p->margin = VG_MARGIN_ABSOLUTE;
        p->medium = 10 * log10(p->medium), p->high = 10 * log10(p->high);
    }
    if (o->debounce >= 0) p->debounce = o->debounce;
    if (o->min_duration >= 0) p->min_duration = o->min_duration;
    if (o->merge_gap >= 0) p->merge_gap = o->merge_gap;
    if (o->update >= 0) p->update_every = o->update;
    return exit_level(o, op, &p->exit, err);
}

/* ---- the checks ------------------------------------------------------------------------- */

static int open_checks(score_events *e, const vg_model *m, vg_error *err) {
    vg_checks_params cp = vg_checks_default_params();
    const char *const motion[] = {"motion"}, *const detail[] = {"detail"};
    cli_meta_number(m, "checks", motion, 1, &cp.motion);
    cli_meta_number(m, "checks", detail, 1, &cp.detail);
    cp.fps = e->fps;
    int rc = vg_checks_create(&cp, &e->checks, err);
    for (int k = VG_EVENT_FROZEN_FRAME; k < VG_EVENT_CLASSES && !rc; k++) {
        vg_decide_params p = vg_decide_default_params((vg_event_class)k);
        rc = vg_decider_create(&p, &e->dec[k], err);
    }
    return rc;
}

int score_events_open(const score_events_opts *o, const vg_model *m, double fps, int *patch,
                      int *smooth, score_events **out, vg_error *err) {
    operating_point op = {0};
    vg_decide_params p;
    *out = NULL;
    int rc = find_threshold(o, m, &op, err);
    if (!rc) rc = adopt_scoring(&op, patch, smooth, err);
    if (!rc) rc = model_params(o, &op, *smooth, &p, err);
    if (rc) return rc;
    score_events *e = calloc(1, sizeof *e);
    if (!e) return cli_set_error(err, VG_ERR_NOMEM, "out of memory for events");
    *e = (score_events){.path = o->path, .camera = o->camera, .heatmaps = o->heatmaps,
                        .kind = op.kind, .fps = fps, .last_frame = -1};
    e->f = strcmp(o->path, "-") ? fopen(o->path, "w") : stdout;
    if (!e->f) rc = cli_set_error(err, VG_ERR_IO, "%s: cannot write (%s)", o->path, strerror(errno));
    if (!rc) rc = vg_decider_create(&p, &e->dec[VG_EVENT_PREDICTION_ERROR], err);
    if (!rc) rc = open_checks(e, m, err);
    if (rc) {
        vg_error ignored;
        score_events_close(e, &ignored);
        return rc;
    }
    *out = e;
    return VG_OK;
}

/* ---- events ------------------------------------------------------------------------------ */

void score_heatmap_path(char *buf, size_t size, const char *dir, long long frame) {
    snprintf(buf, size, "%s/frame_%06lld.png", dir, frame);
}

/* One line; the model's events point at the heat map of their peak frame. */
static int write_event(score_events *e, const vg_event *ev, vg_error *err) {
    char snap[4096];
    int has_snap = e->heatmaps && ev->event_class == VG_EVENT_PREDICTION_ERROR;
    if (has_snap) score_heatmap_path(snap, sizeof snap, e->heatmaps, ev->peak_frame);
    char *line = vg_event_json(ev, e->camera, has_snap ? snap : NULL, NULL);
    if (!line) return cli_set_error(err, VG_ERR_NOMEM, "out of memory for an event");
    int ok = fprintf(e->f, "%s\n", line) > 0 && !fflush(e->f);
    free(line);
    return ok ? VG_OK : cli_set_error(err, VG_ERR_IO, "%s: cannot write (%s)", e->path, strerror(errno));
}

static int decide(score_events *e, vg_event_class k, long long frame, double t, double score,
                  vg_error *err) {
    vg_event ev;
    int got = 0;
    int rc = vg_decider_push(e->dec[k], frame, t, score, &ev, &got, err);
    return rc || !got ? rc : write_event(e, &ev, err);
}

int score_events_frame(score_events *e, const vg_frame *fr, const vg_score *sc, vg_error *err) {
    vg_checks_frame cf;
    int rc = vg_checks_push(e->checks, fr->rgb, fr->width, fr->height, fr->pts, &cf, err);
    if (!rc && sc)
        rc = decide(e, VG_EVENT_PREDICTION_ERROR, fr->index, fr->pts, vg_anomaly_value(e->kind, sc), err);
    for (int k = VG_EVENT_FROZEN_FRAME; k < VG_EVENT_CLASSES && !rc; k++)
        rc = decide(e, (vg_event_class)k, fr->index, fr->pts, cf.score[k], err);
    e->last_frame = fr->index, e->last_pts = fr->pts;
    return rc;
}

int score_events_lost(score_events *e, vg_error *err) {
    /* noticed when the next frame was due */
    double now = e->last_frame < 0 ? 0 : e->last_pts + (e->fps > 0 ? 1 / e->fps : 0);
    vg_checks_frame cf;
    vg_checks_lost(e->checks, now, &cf);
    return decide(e, VG_EVENT_SIGNAL_LOST, e->last_frame + 1, now, cf.score[VG_EVENT_SIGNAL_LOST], err);
}

int score_events_close(score_events *e, vg_error *err) {
    if (!e) return VG_OK;
    int rc = VG_OK;
    for (int k = 0; k < VG_EVENT_CLASSES; k++) {
        vg_event ev;
        int got = 0;
        if (e->dec[k]) vg_decider_flush(e->dec[k], &ev, &got);
        if (got && !rc && e->f) rc = write_event(e, &ev, err);
        vg_decider_free(e->dec[k]);
    }
    if (e->f && e->f != stdout && fclose(e->f) && !rc)
        rc = cli_set_error(err, VG_ERR_IO, "%s: cannot write (%s)", e->path, strerror(errno));
    vg_checks_free(e->checks);
    free(e);
    return rc;
}
