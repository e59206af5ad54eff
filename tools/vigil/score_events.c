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

static vg_operating_overrides overrides_of(const score_events_opts *o, int patch, int smooth) {
    vg_operating_overrides v = vg_operating_default_overrides();
    v.has_score = o->has_kind, v.score = o->kind;
    v.threshold = o->threshold, v.exit = o->exit;
    v.patch = patch, v.smooth = smooth;
    v.debounce = o->debounce, v.min_duration = o->min_duration, v.merge_gap = o->merge_gap;
    v.update_every = o->update;
    return v;
}

/* ---- the checks ------------------------------------------------------------------------- */

static int open_checks(score_events *e, const vg_model *m, vg_error *err) {
    vg_checks_params cp = vg_checks_default_params();
    vg_model_checks_params(m, &cp);
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
    vg_operating_overrides v = overrides_of(o, *patch, *smooth);
    vg_operating_point op;
    *out = NULL;
    int rc = vg_model_operating_point(m, &v, &op, err);
    if (rc) {
        vg_error why = *err;
        return cli_set_error(err, rc, "--events: %s", why.msg);
    }
    if (op.source == VG_FROM_VALIDATION)
        fprintf(stderr, "vigil: score: note: the model has no calibration for %s; events use "
                "the validation's %s percentile, %g%s, as the threshold (vigil calibrate sets "
                "one)\n", vg_score_kind_name(op.score), op.score == VG_SCORE_PSNR ? "0.5th" : "99.5th",
                op.score == VG_SCORE_PSNR ? -op.decide.threshold : op.decide.threshold,
                op.score == VG_SCORE_PSNR ? " dB" : "");
    *patch = op.patch, *smooth = op.decide.smooth;
    score_events *e = calloc(1, sizeof *e);
    if (!e) return cli_set_error(err, VG_ERR_NOMEM, "out of memory for events");
    *e = (score_events){.path = o->path, .camera = o->camera, .heatmaps = o->heatmaps,
                        .kind = op.score, .fps = fps, .last_frame = -1};
    e->f = strcmp(o->path, "-") ? fopen(o->path, "w") : stdout;
    if (!e->f) rc = cli_set_error(err, VG_ERR_IO, "%s: cannot write (%s)", o->path, strerror(errno));
    if (!rc) rc = vg_decider_create(&op.decide, &e->dec[VG_EVENT_PREDICTION_ERROR], err);
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
