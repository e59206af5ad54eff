/* decide.c - a score stream to events: smoothing, hysteresis, debounce, minimum duration,
 * merge gap, severity and confidence, in the order of SYSTEM.md "Decisions, events, alerts"
 * (the contract is in vigil.h).
 *
 * A decider is IDLE (counting a run of smoothed values >= threshold), PENDING (the run was
 * long enough, the excursion not yet min_duration long: nothing reported) or OPEN (NEW was
 * sent). PENDING and OPEN share one record of the excursion: its start, its latest value
 * >= exit, the dip below exit it is in, its peak. */
#include <math.h>
#include <stdlib.h>

#include "core/status.h"

typedef enum phase { IDLE, PENDING, OPEN } phase;

/* A frame: its number and timestamp. */
typedef struct mark {
    long long frame;
    double t;
} mark;

struct vg_decider {
    vg_decide_params p; /* exit resolved to a number */
    vg_smoother *smoother;
    long long next_id;
    long long last_frame; /* of the previous push, for the order check */
    int pushed;           /* a push since creation or the last flush */
    phase phase;
    int run;              /* IDLE: consecutive values >= threshold so far */
    /* the excursion (built up during IDLE's run) */
    long long id;
    mark start, last_above, peak_at;
    double peak, current;
    long long elapsed;    /* values since start, this one included */
    long long span;       /* values from start to last_above, inclusive */
    int below;            /* consecutive values below exit since last_above */
    int since_update;     /* OPEN: values since NEW or the last UPDATE */
};

/* Per class: debounce, minimum duration, merge gap. The model's score needs a sustained
 * excursion (3 values, reported from 5) and bridges a second-long dip at 10 fps; a check's
 * flag is nearly binary, so less confirmation. A freeze must last 3 frames: a single
 * repeated frame is routine (frame-rate conversion, a camera repeating a late frame). A
 * timestamp gap is one value, so signal loss reports at once. */
static const int class_defaults[VG_EVENT_CLASSES][3] = {
    [VG_EVENT_PREDICTION_ERROR] = {3, 5, 10},
    [VG_EVENT_FROZEN_FRAME] = {3, 3, 2},
    [VG_EVENT_BLACK_FRAME] = {2, 2, 2},
    [VG_EVENT_FLAT_FRAME] = {2, 2, 2},
    [VG_EVENT_SIGNAL_LOST] = {1, 1, 0},
    [VG_EVENT_DETAIL_LOSS] = {3, 3, 2},
};

const char *vg_event_class_name(vg_event_class c) {
    static const char *const names[VG_EVENT_CLASSES] = {
        "prediction_error", "frozen_frame", "black_frame", "flat_frame", "signal_lost",
        "detail_loss"};
    return (unsigned)c < VG_EVENT_CLASSES ? names[c] : "?";
}

vg_decide_params vg_decide_default_params(vg_event_class c) {
    int known = (unsigned)c < VG_EVENT_CLASSES;
    const int *d = class_defaults[known ? c : VG_EVENT_PREDICTION_ERROR];
    return (vg_decide_params){
        .event_class = c,
        .threshold = c == VG_EVENT_PREDICTION_ERROR ? NAN : 1,
        .exit = NAN,
        .smooth = 1,
        .debounce = d[0],
        .min_duration = d[1],
        .merge_gap = d[2],
        .margin = VG_MARGIN_RATIO,
        .medium = 1.5,
        .high = 2,
        .band_lo = NAN,
        .band_hi = NAN,
        .first_id = 1 + (known ? (long long)c : 0) * 1000000000LL,
    };
}

/* ---- parameters ------------------------------------------------------------------------ */

static int check_counts(const vg_decide_params *p, vg_error *err) {
    if (p->smooth < 1)
        return vg_fail(err, VG_ERR_ARG, "smoothing width %d, expected at least 1", p->smooth);
    if (p->debounce < 1)
        return vg_fail(err, VG_ERR_ARG, "debounce %d, expected at least 1 frame", p->debounce);
    if (p->min_duration < 1)
        return vg_fail(err, VG_ERR_ARG, "minimum duration %d, expected at least 1 frame",
                       p->min_duration);
    if (p->merge_gap < 0)
        return vg_fail(err, VG_ERR_ARG, "merge gap %d, expected 0 or more frames", p->merge_gap);
    if (p->update_every < 0)
        return vg_fail(err, VG_ERR_ARG, "update interval %d, expected 0 (never) or more frames",
                       p->update_every);
    return VG_OK;
}

static int check_levels(const vg_decide_params *p, vg_error *err) {
    if (!isfinite(p->threshold))
        return vg_fail(err, VG_ERR_ARG, "%s: threshold %g, expected a finite number (e.g. the "
                       "model's calibration)", vg_event_class_name(p->event_class), p->threshold);
    if (!isnan(p->exit) && !(isfinite(p->exit) && p->exit <= p->threshold))
        return vg_fail(err, VG_ERR_ARG, "exit level %g must be a number at or below the "
                       "threshold %g (an event holds until its score falls below it)",
                       p->exit, p->threshold);
    int none = isnan(p->band_lo) && isnan(p->band_hi);
    if (!none && !(isfinite(p->band_lo) && isfinite(p->band_hi) && p->band_lo <= p->threshold &&
                   p->threshold <= p->band_hi))
        return vg_fail(err, VG_ERR_ARG, "confidence band [%g, %g] must be two numbers around "
                       "the threshold %g (or both NaN: no band)", p->band_lo, p->band_hi,
                       p->threshold);
    return VG_OK;
}

static int check_margins(const vg_decide_params *p, vg_error *err) {
    if (p->margin == VG_MARGIN_RATIO) {
        if (!(p->threshold > 0))
            return vg_fail(err, VG_ERR_ARG, "ratio severity margins need a positive threshold, "
                           "not %g: use absolute margins for scores that can be negative "
                           "(such as -PSNR)", p->threshold);
        if (!(p->medium >= 1 && p->high >= p->medium && isfinite(p->high)))
            return vg_fail(err, VG_ERR_ARG, "severity ratios medium %g and high %g, expected "
                           "1 <= medium <= high", p->medium, p->high);
    } else if (p->margin == VG_MARGIN_ABSOLUTE) {
        if (!(p->medium >= 0 && p->high >= p->medium && isfinite(p->high)))
            return vg_fail(err, VG_ERR_ARG, "severity margins medium %g and high %g, expected "
                           "0 <= medium <= high", p->medium, p->high);
    } else {
        return vg_fail(err, VG_ERR_ARG, "severity margin mode %d, expected ratio or absolute",
                       (int)p->margin);
    }
    return VG_OK;
}

static int check_params(const vg_decide_params *p, vg_error *err) {
    if ((unsigned)p->event_class >= VG_EVENT_CLASSES)
        return vg_fail(err, VG_ERR_ARG, "event class %d, expected 0..%d", (int)p->event_class,
                       VG_EVENT_CLASSES - 1);
    int rc = check_counts(p, err);
    if (!rc) rc = check_levels(p, err);
    if (!rc) rc = check_margins(p, err);
    return rc;
}

int vg_decider_create(const vg_decide_params *p, vg_decider **out, vg_error *err) {
    if (!p || !out) return vg_fail(err, VG_ERR_ARG, "vg_decider_create: p and out must not be NULL");
    *out = NULL;
    int rc = check_params(p, err);
    if (rc) return rc;
    vg_decider *d = calloc(1, sizeof *d);
    if (!d) return vg_fail(err, VG_ERR_NOMEM, "no memory for a decider");
    rc = vg_smoother_create(p->smooth, &d->smoother, err);
    if (rc) {
        free(d);
        return rc;
    }
    d->p = *p;
    if (isnan(d->p.exit)) d->p.exit = p->threshold;
    d->next_id = p->first_id;
    *out = d;
    return VG_OK;
}

/* The confidence band keeps its place around a threshold that moved from old: scaled by
 * new / old for RATIO margins (old > 0 there), shifted by new - old for ABSOLUTE ones. The
 * clamps keep the threshold inside it when rounding would push an edge that was on it
 * past it by an ulp. NaN (no band) stays NaN. */
static void move_band(vg_decide_params *p, double old) {
    double t = p->threshold;
    if (p->margin == VG_MARGIN_RATIO) p->band_lo *= t / old, p->band_hi *= t / old;
    else p->band_lo += t - old, p->band_hi += t - old;
    if (isnan(p->band_lo)) return;
    p->band_lo = fmin(p->band_lo, t), p->band_hi = fmax(p->band_hi, t);
}

int vg_decider_set_threshold(vg_decider *d, double threshold, double exit, vg_error *err) {
    if (!d) return vg_fail(err, VG_ERR_ARG, "vg_decider_set_threshold: d must not be NULL");
    vg_decide_params p = d->p;
    p.threshold = threshold, p.exit = exit;
    int rc = check_margins(&p, err); /* first: the band's move needs a positive RATIO one */
    if (!rc) move_band(&p, d->p.threshold), rc = check_levels(&p, err);
    if (rc) return rc;
    if (isnan(p.exit)) p.exit = threshold;
    d->p = p;
    return VG_OK;
}

void vg_decider_free(vg_decider *d) {
    if (!d) return;
    vg_smoother_free(d->smoother);
    free(d);
}

/* ---- the event ------------------------------------------------------------------------- */

static vg_severity severity_of(const vg_decide_params *p, double peak) {
    int ratio = p->margin == VG_MARGIN_RATIO;
    double medium = ratio ? p->medium * p->threshold : p->threshold + p->medium;
    double high = ratio ? p->high * p->threshold : p->threshold + p->high;
    return peak >= high ? VG_SEVERITY_HIGH : peak >= medium ? VG_SEVERITY_MEDIUM : VG_SEVERITY_LOW;
}

static vg_confidence confidence_of(const vg_decide_params *p, double peak) {
    if (isnan(p->band_hi)) return VG_CONFIDENCE_NONE;
    return peak > p->band_hi ? VG_CONFIDENCE_HIGH : VG_CONFIDENCE_LOW;
}

static void fill_event(const vg_decider *d, vg_event_type type, vg_event *ev) {
    *ev = (vg_event){
        .id = d->id,
        .event_class = d->p.event_class,
        .type = type,
        .start_frame = d->start.frame,
        .end_frame = d->last_above.frame,
        .start_time = d->start.t,
        .end_time = d->last_above.t,
        .duration = d->last_above.t - d->start.t,
        .peak_frame = d->peak_at.frame,
        .peak_time = d->peak_at.t,
        .peak = d->peak,
        .current = d->current,
        .threshold = d->p.threshold,
        .severity = severity_of(&d->p, d->peak),
        .band_lo = d->p.band_lo,
        .band_hi = d->p.band_hi,
        .confidence = confidence_of(&d->p, d->peak),
    };
}

/* ---- the stages ------------------------------------------------------------------------ */

/* IDLE: debounce. The run's first value is the excursion's start; a run of `debounce`
 * values makes it PENDING. NaN compares false, so it breaks a run. */
static void idle_step(vg_decider *d, mark at, double s) {
    if (!(s >= d->p.threshold)) {
        d->run = 0;
        return;
    }
    if (d->run++ == 0) d->start = d->peak_at = at, d->peak = s;
    else if (s > d->peak) d->peak = s, d->peak_at = at;
    if (d->run < d->p.debounce) return;
    d->phase = PENDING;
    d->last_above = at;
    d->elapsed = d->span = d->run;
    d->below = 0;
}

/* PENDING or OPEN: hysteresis and merge gap. Returns 1 when the excursion is over: its
 * dip below exit has outlasted the merge gap. */
static int excursion_step(vg_decider *d, mark at, double s) {
    d->elapsed++;
    if (!(s >= d->p.exit)) return ++d->below > d->p.merge_gap;
    d->below = 0;
    d->last_above = at;
    d->span = d->elapsed;
    if (s > d->peak) d->peak = s, d->peak_at = at;
    return 0;
}

int vg_decider_push(vg_decider *d, long long frame, double t, double score, vg_event *ev,
                    int *emitted, vg_error *err) {
    if (!d || !ev || !emitted)
        return vg_fail(err, VG_ERR_ARG, "vg_decider_push: d, ev and emitted must not be NULL");
    *emitted = 0;
    if (d->pushed && frame <= d->last_frame)
        return vg_fail(err, VG_ERR_ARG, "frame %lld after frame %lld: frame numbers must "
                       "increase (flush between streams)", frame, d->last_frame);
    d->pushed = 1;
    d->last_frame = frame;
    double s = vg_smoother_push(d->smoother, score);
    d->current = s;
    mark at = {frame, t};
    if (d->phase == IDLE) {
        idle_step(d, at, s);
    } else if (excursion_step(d, at, s)) {
        if (d->phase == OPEN) fill_event(d, VG_EVENT_END, ev), *emitted = 1;
        d->phase = IDLE, d->run = 0; /* s is below exit, so no new run starts here */
        return VG_OK;
    }
    if (d->phase == PENDING && d->span >= d->p.min_duration) {
        d->phase = OPEN;
        d->id = d->next_id++;
        d->since_update = 0;
        fill_event(d, VG_EVENT_NEW, ev), *emitted = 1;
    } else if (d->phase == OPEN && d->p.update_every && ++d->since_update == d->p.update_every) {
        d->since_update = 0;
        fill_event(d, VG_EVENT_UPDATE, ev), *emitted = 1;
    }
    return VG_OK;
}

void vg_decider_flush(vg_decider *d, vg_event *ev, int *emitted) {
    *emitted = 0;
    if (d->phase == OPEN) fill_event(d, VG_EVENT_END, ev), *emitted = 1;
    d->phase = IDLE;
    d->run = 0;
    d->pushed = 0;
    vg_smoother_reset(d->smoother);
}
