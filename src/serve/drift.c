/* drift.c - per-camera drift control: binned rolling windows, PSI and KS against the
 * calibration's normal distribution, the drift state and the adaptive threshold (the
 * contract is in drift.h).
 *
 * Bins. Edge i is the reference's percentile i (i = 0..100); bin k holds the values v with
 * edge[k-1] < v <= edge[k] (bin 0: v <= edge[0], bin 101: v > edge[100]). So the count of
 * bins 0..i is exactly the number of values <= edge[i], and the sample's CDF is exact at
 * every edge. Ties in the reference (a score that takes few values) make empty bins of
 * zero width; the reference's CDF at a tied edge is then that of the last percentile equal
 * to it, which is what the reference's own values would give.
 *
 * Why PSI over deciles: with 100 bins of 1% each, a window of a few thousand values leaves
 * bins nearly empty by chance, and PSI's log ratio turns that noise into a large number;
 * ten bins of 10% keep its noise near 9 / n while a real shift still moves whole deciles.
 * Shares are floored at 1e-4 so that a decile the sample (or a tail the reference) leaves
 * empty gives a large but finite term. KS needs no merging: it is a CDF gap, not a ratio. */
#include "serve/drift.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/status.h"

enum {
    EDGES = 101,       /* the reference's percentiles 0..100 */
    BINS = EDGES + 1,  /* 100 between the edges, a tail each side */
    MINUTES = 60,      /* slots of the hour window */
    HOURS = 24,        /* of the day window */
    DAYS = 7,          /* of the week window */
    MIN_VALUES = 300   /* fewer values in a window: no verdict (PSI by chance is ~9/n:
                          0.03 at 300, well under psi_clear) */
};

enum { HOUR, DAY, WEEK, WINDOWS }; /* the report's order */

#define SHARE_FLOOR 1e-4  /* PSI: the smallest share a decile counts with */
/* The quantile the adaptive threshold follows. When the whole normal distribution scales
 * (or, for -PSNR, shifts), moving the threshold with any of its quantiles keeps the
 * threshold's FPR; the 99.5th is the default calibration's own (0.5% FPR) and sits in the
 * tail that decides false alarms, yet an hour at 25 fps holds some 450 values above it. */
#define ADAPT_Q 0.995
/* The adaptive threshold's time constant, seconds. The hour window already averages an
 * hour; the exponential average on top turns its jumps (a busy minute entering or leaving
 * the window) into a glide, and makes a change take hours: normal drift (light, season,
 * wear) is slow, while what changes faster is what the detector is there to flag. */
#define ADAPT_TAU 3600.0
#define MAX_TIME 1e15     /* |t| beyond this is not a clock reading (and would overflow a
                             slot number) */

/* A rolling window: a histogram per slot of slot_s seconds, in a ring, and their sum. */
typedef struct ring {
    double slot_s;
    int slots;
    int started;      /* newest is set */
    long long newest; /* floor(t / slot_s) of the newest slot */
    uint32_t *count;  /* slots x BINS, slot k at (k mod slots) */
    uint64_t sum[BINS];
    uint64_t n;
} ring;

struct vg_drift {
    vg_drift_params p;
    double edge[EDGES];    /* the reference, anomaly units, non-decreasing */
    double ref_cdf[EDGES]; /* the reference's share of values <= edge[i] */
    double threshold;      /* calibrated */
    double current;        /* in use */
    double lo, hi;         /* adaptive: the threshold's bounds */
    double q_ref;          /* adaptive: the reference's 99.5th percentile */
    double adapt_edge[EDGES]; /* adaptive: bins over the 99.5th percentiles that map into
                                 [lo, hi] (see adapt_bins) */
    ring win[WINDOWS];     /* every value, on edge */
    ring normal;           /* adaptive: the hour's values outside events, on adapt_edge */
    int in_event;          /* the latest push's */
    double above_since;    /* first check of the current run of checks with the hour's PSI
                              >= psi_alert; NAN: no run */
    int drifting;
    double adapted_at;     /* the latest check's time (adaptive); NAN: none yet */
    uint32_t storage[(MINUTES + HOURS + DAYS + MINUTES) * BINS]; /* the rings' slots */
};

vg_drift_params vg_drift_default_params(void) {
    return (vg_drift_params){.psi_alert = 0.25, .psi_clear = 0.10, .sustain = 600,
                             .adaptive = 0, .max_change = 0.5, .absolute = 0};
}

/* ---- bins and windows ------------------------------------------------------------------ */

/* The bin of v: how many edges lie below it. */
static int bin_of(const double edge[EDGES], double v) {
    int lo = 0, hi = EDGES;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (edge[mid] < v) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static int time_ok(double t) { return isfinite(t) && fabs(t) <= MAX_TIME; }

static uint32_t *slot(ring *r, long long k) {
    long long i = k % r->slots;
    return r->count + (size_t)(i < 0 ? i + r->slots : i) * BINS;
}

/* Moves the ring on to time t: the slots that fell out of the window are emptied. Never
 * back: an earlier t stays in the newest slot. */
static void ring_advance(ring *r, double t) {
    long long k = (long long)floor(t / r->slot_s);
    if (!r->started) {
        r->started = 1, r->newest = k;
        return;
    }
    if (k <= r->newest) return;
    long long gone = k - r->newest < r->slots ? k - r->newest : r->slots;
    for (long long j = 1; j <= gone; j++) {
        uint32_t *c = slot(r, r->newest + j);
        for (int b = 0; b < BINS; b++) r->sum[b] -= c[b], r->n -= c[b], c[b] = 0;
    }
    r->newest = k;
}

static void ring_add(ring *r, double t, int bin) {
    ring_advance(r, t);
    slot(r, r->newest)[bin]++;
    r->sum[bin]++;
    r->n++;
}

static void ring_init(ring *r, double slot_s, int slots, uint32_t *count) {
    *r = (ring){.slot_s = slot_s, .slots = slots, .count = count};
}

/* The window's CDF at each edge: its share of values <= edge[i]. */
static void window_cdf(const ring *r, double cdf[EDGES]) {
    uint64_t below = 0;
    for (int i = 0; i < EDGES; i++) below += r->sum[i], cdf[i] = (double)below / (double)r->n;
}

/* Quantile q of the window, interpolated linearly inside its bin; a quantile in a tail is
 * the edge it lies beyond (all the bins tell). */
static double window_quantile(const ring *r, const double edge[EDGES], double q) {
    double want = q * (double)r->n, below = 0;
    for (int k = 0; k < BINS; k++) {
        double c = (double)r->sum[k];
        if (below + c < want || c == 0) {
            below += c;
            continue;
        }
        if (k == 0) return edge[0];
        if (k == BINS - 1) return edge[EDGES - 1];
        return edge[k - 1] + (want - below) / c * (edge[k] - edge[k - 1]);
    }
    return edge[EDGES - 1];
}

/* ---- PSI and KS ------------------------------------------------------------------------ */

/* Decile k's share from a CDF at the edges; the tails belong to the first and last. */
static double decile_share(const double cdf[EDGES], int k) {
    double lo = k == 0 ? 0 : cdf[10 * k], hi = k == 9 ? 1 : cdf[10 * (k + 1)];
    return hi - lo;
}

static void compare(const vg_drift *d, const ring *r, double *psi, double *ks) {
    *psi = *ks = NAN;
    if (r->n < MIN_VALUES) return;
    double cdf[EDGES];
    window_cdf(r, cdf);
    *psi = *ks = 0;
    for (int i = 0; i < EDGES; i++) *ks = fmax(*ks, fabs(cdf[i] - d->ref_cdf[i]));
    for (int k = 0; k < 10; k++) {
        double s = fmax(decile_share(cdf, k), SHARE_FLOOR);
        double e = fmax(decile_share(d->ref_cdf, k), SHARE_FLOOR);
        *psi += (s - e) * log(s / e);
    }
}

/* ---- the adaptive threshold ------------------------------------------------------------ */

/* x moved as `from` moved to `to`: scaled for ratio-type values, shifted for logarithmic
 * ones. */
static double follow(const vg_drift *d, double x, double from, double to) {
    return d->p.absolute ? x + (to - from) : x * (to / from);
}

/* The calibrated threshold changed by the factor 1 + sign * max_change: as such for
 * ratio-type values; for logarithmic ones the same factor on MSE, in dB. */
static double bound(const vg_drift *d, double sign) {
    double f = 1 + sign * d->p.max_change;
    return d->p.absolute ? d->threshold + 10 * log10(f) : d->threshold * f;
}

/* The adaptive window's bins: 100 equal ones over the 99.5th percentiles that map into
 * [lo, hi]. The reference's own edges end at the normal maximum, just above its 99.5th
 * percentile, so they could not tell where a percentile that moved up by 20% went; outside
 * this range the threshold is clamped anyway, so the tails need no detail. */
static void adapt_bins(vg_drift *d) {
    d->lo = bound(d, -1), d->hi = bound(d, 1);
    double a = follow(d, d->q_ref, d->threshold, d->lo);
    double b = follow(d, d->q_ref, d->threshold, d->hi);
    for (int i = 0; i < EDGES; i++) d->adapt_edge[i] = a + (b - a) * i / (EDGES - 1);
}

/* One step at time t towards the threshold that the hour's 99.5th percentile calls for.
 * Frozen while an event is open: the event's values are not normal, and the decider's
 * levels should not move under an open event; the time it lasted does not count. */
static void adapt(vg_drift *d, double t) {
    double dt = isnan(d->adapted_at) ? 0 : t - d->adapted_at;
    if (isnan(d->adapted_at) || t > d->adapted_at) d->adapted_at = t;
    if (d->in_event || !(dt > 0) || d->normal.n < MIN_VALUES) return;
    double q = window_quantile(&d->normal, d->adapt_edge, ADAPT_Q);
    double target = fmin(fmax(follow(d, d->threshold, d->q_ref, q), d->lo), d->hi);
    d->current += (target - d->current) * -expm1(-dt / ADAPT_TAU);
}

/* ---- create, push, check --------------------------------------------------------------- */

/* The reference's 99.5th percentile, interpolated between its 99th and 100th. */
static double reference_q(const double ref[EDGES]) { return 0.5 * (ref[99] + ref[100]); }

static int check_reference(const double ref[EDGES], vg_error *err) {
    for (int i = 0; i < EDGES; i++) {
        if (!isfinite(ref[i]))
            return vg_fail(err, VG_ERR_ARG, "drift reference: percentile %d is %g, expected "
                           "a finite number", i, ref[i]);
        if (i > 0 && ref[i] < ref[i - 1])
            return vg_fail(err, VG_ERR_ARG, "drift reference: percentile %d (%g) is below "
                           "percentile %d (%g); expected increasing values", i, ref[i], i - 1,
                           ref[i - 1]);
    }
    return VG_OK;
}

static int check_params(const vg_drift_params *p, vg_error *err) {
    if (!(p->psi_alert > 0 && isfinite(p->psi_alert)))
        return vg_fail(err, VG_ERR_ARG, "drift psi_alert %g, expected a number above 0",
                       p->psi_alert);
    if (!(p->psi_clear > 0 && p->psi_clear <= p->psi_alert))
        return vg_fail(err, VG_ERR_ARG, "drift psi_clear %g, expected a number in (0, "
                       "psi_alert %g]", p->psi_clear, p->psi_alert);
    if (!(p->sustain >= 0 && isfinite(p->sustain)))
        return vg_fail(err, VG_ERR_ARG, "drift sustain %g s, expected 0 or more seconds",
                       p->sustain);
    if (!(p->max_change >= 0 && p->max_change < 1))
        return vg_fail(err, VG_ERR_ARG, "drift max_change %g, expected a number in [0, 1)",
                       p->max_change);
    return VG_OK;
}

static int check_args(const double ref[EDGES], double threshold, const vg_drift_params *p,
                      vg_error *err) {
    int rc = check_reference(ref, err);
    if (!rc) rc = check_params(p, err);
    if (rc) return rc;
    if (!isfinite(threshold))
        return vg_fail(err, VG_ERR_ARG, "drift threshold %g, expected a finite number (the "
                       "model's calibration)", threshold);
    /* ratios of the threshold and of the percentile: both must be positive */
    if (p->adaptive && !p->absolute && !(threshold > 0 && reference_q(ref) > 0))
        return vg_fail(err, VG_ERR_ARG, "an adaptive threshold on ratio-type values needs a "
                       "positive threshold and reference 99.5th percentile, not %g and %g "
                       "(set absolute for logarithmic values such as -PSNR)", threshold,
                       reference_q(ref));
    return VG_OK;
}

static void setup(vg_drift *d, const double ref[EDGES], double threshold,
                  const vg_drift_params *p) {
    d->p = *p;
    d->threshold = d->current = threshold;
    for (int i = EDGES - 1; i >= 0; i--) {
        d->edge[i] = ref[i];
        d->ref_cdf[i] = i < EDGES - 1 && ref[i] == ref[i + 1] ? d->ref_cdf[i + 1] : i / 100.0;
    }
    uint32_t *minutes = d->storage, *hours = minutes + MINUTES * BINS;
    uint32_t *days = hours + HOURS * BINS, *normal = days + DAYS * BINS;
    ring_init(&d->win[HOUR], 60, MINUTES, minutes);
    ring_init(&d->win[DAY], 3600, HOURS, hours);
    ring_init(&d->win[WEEK], 86400, DAYS, days);
    ring_init(&d->normal, 60, MINUTES, normal);
    d->above_since = d->adapted_at = NAN;
    d->q_ref = reference_q(ref);
    if (p->adaptive) adapt_bins(d);
}

int vg_drift_create(const double ref[101], double threshold, const vg_drift_params *p,
                    vg_drift **out, vg_error *err) {
    if (!ref || !p || !out)
        return vg_fail(err, VG_ERR_ARG, "vg_drift_create: ref, p and out must not be NULL");
    *out = NULL;
    int rc = check_args(ref, threshold, p, err);
    if (rc) return rc;
    vg_drift *d = calloc(1, sizeof *d);
    if (!d) return vg_fail(err, VG_ERR_NOMEM, "no memory for drift control");
    setup(d, ref, threshold, p);
    *out = d;
    return VG_OK;
}

void vg_drift_free(vg_drift *d) { free(d); }

void vg_drift_push(vg_drift *d, double t, double value, int in_event) {
    d->in_event = in_event != 0;
    if (!time_ok(t) || !isfinite(value)) return;
    int bin = bin_of(d->edge, value);
    for (int w = 0; w < WINDOWS; w++) ring_add(&d->win[w], t, bin);
    if (d->p.adaptive && !in_event) ring_add(&d->normal, t, bin_of(d->adapt_edge, value));
}

/* Drift starts once the hour's PSI has been >= psi_alert at every check for `sustain`
 * seconds, and ends at the first check where it is below psi_clear. A check without a
 * verdict (too few values) breaks a run but ends nothing: no data is no evidence. */
static void judge(vg_drift *d, double t, double psi, vg_drift_report *out) {
    if (psi >= d->p.psi_alert) {
        if (isnan(d->above_since)) d->above_since = t;
    } else {
        d->above_since = NAN;
    }
    if (!d->drifting && !isnan(d->above_since) && t - d->above_since >= d->p.sustain)
        d->drifting = out->started = 1;
    else if (d->drifting && psi < d->p.psi_clear)
        d->drifting = 0, out->ended = 1;
}

void vg_drift_check(vg_drift *d, double t, vg_drift_report *out) {
    *out = (vg_drift_report){0};
    int ok = time_ok(t);
    for (int w = 0; w < WINDOWS; w++) {
        if (ok) ring_advance(&d->win[w], t);
        compare(d, &d->win[w], &out->psi[w], &out->ks[w]);
        out->n[w] = (long long)d->win[w].n;
    }
    if (ok) {
        judge(d, t, out->psi[HOUR], out);
        if (d->p.adaptive) ring_advance(&d->normal, t), adapt(d, t);
    }
    out->drifting = d->drifting;
    out->threshold = d->current;
}
