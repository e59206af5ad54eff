/* test_drift.c - drift control on synthetic streams with a known distribution, the clock
 * driven by the test (hours in milliseconds, no sleeping): no drift on the reference's own
 * distribution; a sustained shift starts a drift only after `sustain` and ends once the
 * hour is back; PSI and KS against a direct computation; the adaptive threshold follows a
 * slow drift, stays in its bounds, ignores event values; argument errors.
 *
 * The reference is the exact percentile function of the stream's distribution: values
 * Q(u) with u uniform, ref[i] = Q(i / 100). Tolerances:
 *   - PSI of the binned windows equals PSI computed directly from the sorted sample at the
 *     reference's decile edges (1e-12: the same counts, summed in another order);
 *   - binned KS is exact at the edges: it equals the direct maximum over the edges (1e-12),
 *     and the exact KS over all x (the reference's CDF linear between percentiles) lies
 *     between it and it + 0.01 + the sample's largest bin share (inside one bin each CDF
 *     moves by at most its share of the bin). */
#include "core/rng.h"
#include "core/stats.h"
#include "serve/drift.h"
#include "test.h"

#define FPS 5.0
#define HOUR_S 3600.0
#define MAX_CHECKS 4000
#define N_OF(a) ((int)(sizeof(a) / sizeof *(a)))

static vg_error err;

/* ---- streams ----------------------------------------------------------------------------- */

/* A patch-score-like distribution on [0.001, 0.003], dense at its low end. */
static double patch_q(double p) { return 0.001 + 0.002 * p * p; }

/* -PSNR in dB: PSNR between 34 and 40 dB. */
static double psnr_q(double p) { return -40 + 6 * p * p; }

static void reference_of(double (*q)(double), double ref[101]) {
    for (int i = 0; i <= 100; i++) ref[i] = q(i / 100.0);
}

static uint64_t next_draw;

static double uniform(void) { return vg_rand_unit(77, next_draw++); }

/* The stream: a value at time t from a uniform draw u, and whether an event is open. */
typedef struct scene {
    double (*value)(const struct scene *s, double t, double u);
    double (*q)(double);
    double factor;       /* ratio-type: values times factor */
    double shift;        /* logarithmic: values plus shift */
    double ramp_s;       /* ramp: the factor grows linearly from 1 over ramp_s seconds */
    int in_event;
} scene;

static double scaled(const scene *s, double t, double u) { (void)t; return s->q(u) * s->factor; }
static double shifted(const scene *s, double t, double u) { (void)t; return s->q(u) + s->shift; }
static double ramped(const scene *s, double t, double u) {
    return s->q(u) * (1 + (s->factor - 1) * fmin(t / s->ramp_s, 1));
}

static scene plain(double (*q)(double), double factor) {
    return (scene){.value = scaled, .q = q, .factor = factor};
}

/* Every check's time and report, in order. */
typedef struct checked {
    double t;
    vg_drift_report r;
} checked;

static checked checks[MAX_CHECKS];
static int n_checks;

/* Pushes s's values at FPS for t in [t0, t1), checking at each whole minute. */
static void run(vg_drift *d, const scene *s, double t0, double t1) {
    double next = (floor(t0 / 60) + 1) * 60;
    for (long long k = 0;; k++) {
        double t = t0 + (double)k / FPS;
        for (; next <= fmin(t, t1) && n_checks < MAX_CHECKS; next += 60) {
            checks[n_checks].t = next;
            vg_drift_check(d, next, &checks[n_checks++].r);
        }
        if (t >= t1) break;
        vg_drift_push(d, t, s->value(s, t, uniform()), s->in_event);
    }
}

static vg_drift *make(const double ref[101], double threshold, const vg_drift_params *p) {
    vg_drift *d = NULL;
    CHECK_OK(vg_drift_create(ref, threshold, p, &d, &err), &err);
    n_checks = 0;
    return d;
}

/* ---- the reference's own distribution ------------------------------------------------- */

static void test_stationary(void) {
    double ref[101];
    reference_of(patch_q, ref);
    vg_drift_params p = vg_drift_default_params();
    double threshold = patch_q(0.995);
    vg_drift *d = make(ref, threshold, &p);
    if (!d) return;
    vg_drift_report r;
    scene s = plain(patch_q, 1);
    run(d, &s, 0, 40); /* 200 values: too few for a verdict */
    vg_drift_check(d, 40, &r);
    CHECK(isnan(r.psi[0]) && isnan(r.ks[2]) && r.n[0] == 200 && r.n[2] == 200);
    n_checks = 0;
    run(d, &s, 40, 6 * HOUR_S);
    double psi_max = 0, ks_max = 0;
    int drifting = 0, same = 1;
    for (int i = 0; i < n_checks; i++) {
        const vg_drift_report *c = &checks[i].r;
        drifting |= c->drifting | c->started;
        same &= c->threshold == threshold;
        if (checks[i].t < HOUR_S) continue; /* a full hour: chance PSI ~ 9/n, KS ~ 1/sqrt(n) */
        for (int w = 0; w < 3; w++)
            psi_max = fmax(psi_max, c->psi[w]), ks_max = fmax(ks_max, c->ks[w]);
    }
    const vg_drift_report *last = &checks[n_checks - 1].r;
    printf("reference stream, 6 h at %g fps, %d checks: after 1 h PSI <= %.2g, KS <= %.3g, windows "
           "%lld / %lld / %lld values, drift %d\n", FPS, n_checks, psi_max, ks_max,
           last->n[0], last->n[1], last->n[2], drifting);
    CHECK(psi_max < 0.005 && ks_max < 0.02 && !drifting && same);
    /* the hour holds 59..60 minutes; the day and the week everything so far */
    CHECK(last->n[0] >= 59 * 60 * FPS && last->n[0] <= 60 * 60 * FPS);
    CHECK(last->n[1] == (long long)(6 * HOUR_S * FPS) && last->n[2] == last->n[1]);
    vg_drift_free(d);
}

/* A score that takes few values: tied percentiles must not read as a shift. */
static void test_ties(void) {
    enum { N = 100000 };
    static double sample[N];
    for (int i = 0; i < N; i++) sample[i] = floor(uniform() * 10); /* 0, 1, ..., 9 */
    vg_sort(sample, N);
    double ref[101];
    for (int i = 0; i <= 100; i++) ref[i] = vg_percentile(sample, N, i);
    vg_drift_params p = vg_drift_default_params();
    vg_drift *d = make(ref, 9, &p);
    if (!d) return;
    for (int i = 0; i < 20000; i++) vg_drift_push(d, i / 100.0, floor(uniform() * 10), 0);
    vg_drift_report r;
    vg_drift_check(d, 200, &r);
    printf("ten levels, tied percentiles: PSI %.2g, KS %.3g\n", r.psi[0], r.ks[0]);
    CHECK(r.psi[0] < 0.01 && r.ks[0] < 0.02);
    vg_drift_free(d);
}

/* ---- PSI and KS against a direct computation ------------------------------------------ */

/* The reference's CDF at x: linear between its percentiles (distinct here). */
static double ref_cdf(const double ref[101], double x) {
    if (x <= ref[0]) return 0;
    if (x >= ref[100]) return 1;
    int i = 0;
    while (ref[i + 1] <= x) i++;
    return (i + (x - ref[i]) / (ref[i + 1] - ref[i])) / 100;
}

/* Values of sorted v below (strict) or at most x. */
static long long count_below(const double *v, long long n, double x, int inclusive) {
    long long k = 0;
    while (k < n && (v[k] < x || (inclusive && v[k] == x))) k++;
    return k;
}

static double psi_term(double s, double e) {
    s = fmax(s, 1e-4), e = fmax(e, 1e-4);
    return (s - e) * log(s / e);
}

static void direct(const double ref[101], const double *v, long long n, double *psi,
                   double *ks_edges, double *ks_exact, double *max_bin) {
    double n_ = (double)n, cdf[101];
    *ks_edges = *max_bin = 0;
    for (int i = 0; i <= 100; i++) {
        cdf[i] = count_below(v, n, ref[i], 1) / n_;
        *ks_edges = fmax(*ks_edges, fabs(cdf[i] - i / 100.0));
        double left = count_below(v, n, ref[i], 0) / n_;
        *ks_exact = fmax(*ks_exact, fmax(*ks_edges, fabs(left - i / 100.0)));
        if (i) *max_bin = fmax(*max_bin, cdf[i] - cdf[i - 1]);
    }
    *max_bin = fmax(*max_bin, fmax(cdf[0], 1 - cdf[100]));
    for (long long j = 0; j < n; j++) {
        double f = ref_cdf(ref, v[j]);
        *ks_exact = fmax(*ks_exact, fmax(fabs(j / n_ - f), fabs((j + 1) / n_ - f)));
    }
    *psi = 0;
    for (int k = 0; k < 10; k++) {
        double lo = k ? cdf[10 * k] : 0, hi = k < 9 ? cdf[10 * k + 10] : 1;
        *psi += psi_term(hi - lo, 0.1);
    }
}

static void test_against_direct(void) {
    enum { N = 5000 };
    static double v[N];
    double ref[101];
    reference_of(patch_q, ref);
    const double factors[] = {1, 1.05, 1.2, 0.9, 1.5};
    vg_drift_params p = vg_drift_default_params();
    for (int c = 0; c < N_OF(factors); c++) {
        vg_drift *d = make(ref, patch_q(0.995), &p);
        if (!d) return;
        /* a mixture, so that both tails and the middle have values: 4/5 scaled, 1/5 not */
        for (int i = 0; i < N; i++) {
            v[i] = patch_q(uniform()) * (i % 5 ? factors[c] : 1);
            vg_drift_push(d, 100 + i * 0.01, v[i], 0);
        }
        vg_drift_report r;
        vg_drift_check(d, 160, &r);
        vg_sort(v, N);
        double psi, ks_edges, ks_exact = 0, max_bin;
        direct(ref, v, N, &psi, &ks_edges, &ks_exact, &max_bin);
        int ok = fabs(r.psi[0] - psi) <= 1e-12 * fmax(1, psi) &&
                 fabs(r.ks[0] - ks_edges) <= 1e-12 && r.ks[0] <= ks_exact + 1e-12 &&
                 ks_exact <= r.ks[0] + 0.01 + max_bin && r.psi[2] == r.psi[0] && r.n[1] == N;
        printf("x%-4g PSI %.6f (direct %.6f)  KS %.4f (at the edges %.4f, exact %.4f, "
               "bound +%.4f) %s\n", factors[c], r.psi[0], psi, r.ks[0], ks_edges, ks_exact,
               0.01 + max_bin, ok ? "ok" : "FAIL");
        if (!ok) test_failures++;
        vg_drift_free(d);
    }
}

/* ---- drift: starts after sustain, ends once back ---------------------------------------- */

static void test_shift(void) {
    double ref[101];
    reference_of(patch_q, ref);
    const double sustains[] = {600, 1800};
    for (int k = 0; k < N_OF(sustains); k++) {
        vg_drift_params p = vg_drift_default_params();
        p.sustain = sustains[k];
        vg_drift *d = make(ref, patch_q(0.995), &p);
        if (!d) return;
        scene normal = plain(patch_q, 1), high = plain(patch_q, 1.5);
        run(d, &normal, 0, 2 * HOUR_S);
        run(d, &high, 2 * HOUR_S, 5 * HOUR_S);
        run(d, &normal, 5 * HOUR_S, 8 * HOUR_S);
        int starts = 0, ends = 0, bad = 0;
        double run_from = NAN, t_alert = NAN, t_start = NAN, t_end = NAN, psi_end = NAN;
        for (int i = 0; i < n_checks; i++) {
            const vg_drift_report *r = &checks[i].r;
            double t = checks[i].t;
            if (!(r->psi[0] >= p.psi_alert)) run_from = NAN;
            else if (isnan(run_from)) run_from = t;
            if (r->started) starts++, t_start = t, t_alert = run_from;
            if (r->ended) ends++, t_end = t, psi_end = r->psi[0];
            /* on exactly from the start to the end */
            int on = !isnan(t_start) && isnan(t_end);
            bad |= r->drifting != on || (r->ended && !(r->psi[0] < p.psi_clear)) ||
                   (i && checks[i - 1].r.drifting && r->psi[0] < p.psi_clear && !r->ended);
        }
        printf("x1.5 from 2 h to 5 h, sustain %g s: PSI >= %.2g from %.0f min, drift from "
               "%.0f to %.0f min (PSI %.3f)\n", p.sustain, p.psi_alert, t_alert / 60,
               t_start / 60, t_end / 60, psi_end);
        CHECK(starts == 1 && ends == 1 && !bad);
        CHECK(t_start - t_alert >= p.sustain && t_start - t_alert <= p.sustain + 60);
        CHECK(t_alert > 2 * HOUR_S && t_end > 5 * HOUR_S && t_end <= 6 * HOUR_S + 60);
        vg_drift_free(d);
    }
}

/* A camera that stops sending: its windows empty; clocks stepping back lose nothing. */
static void test_clock(void) {
    double ref[101];
    reference_of(patch_q, ref);
    vg_drift_params p = vg_drift_default_params();
    vg_drift *d = make(ref, patch_q(0.995), &p);
    if (!d) return;
    for (int i = 0; i < 400; i++) vg_drift_push(d, 1000, patch_q(uniform()), 0);
    for (int i = 0; i < 100; i++) vg_drift_push(d, 900, patch_q(uniform()), 0);
    vg_drift_push(d, 1000, NAN, 0);
    vg_drift_push(d, NAN, 0.002, 0);
    vg_drift_report r;
    vg_drift_check(d, 1000, &r);
    CHECK(r.n[0] == 500 && r.n[1] == 500 && r.n[2] == 500);
    vg_drift_check(d, 1000 + HOUR_S + 60, &r);
    CHECK(r.n[0] == 0 && isnan(r.psi[0]) && r.n[1] == 500);
    vg_drift_check(d, 1000 + 8 * 86400, &r);
    printf("windows after silence: hour %lld, week %lld values\n", r.n[0], r.n[2]);
    CHECK(r.n[1] == 0 && r.n[2] == 0);
    vg_drift_free(d);
}

/* ---- the adaptive threshold ------------------------------------------------------------- */

static double threshold_at(double t) {
    double th = NAN;
    for (int i = 0; i < n_checks && checks[i].t <= t; i++) th = checks[i].r.threshold;
    return th;
}

/* Every check's threshold in [lo, hi]. */
static int within(double lo, double hi) {
    for (int i = 0; i < n_checks; i++)
        if (!(checks[i].r.threshold >= lo - 1e-12 && checks[i].r.threshold <= hi + 1e-12))
            return 0;
    return 1;
}

static void test_adaptive_follows(void) {
    double ref[101];
    reference_of(patch_q, ref);
    vg_drift_params p = vg_drift_default_params();
    p.adaptive = 1;
    double th = patch_q(0.995);
    vg_drift *d = make(ref, th, &p);
    if (!d) return;
    scene s = plain(patch_q, 1.2);
    s.value = ramped, s.ramp_s = 12 * HOUR_S;
    run(d, &s, 0, 18 * HOUR_S);
    double mid = threshold_at(6 * HOUR_S) / th, end = threshold_at(18 * HOUR_S) / th;
    double lo = INFINITY, hi = 0;
    for (int i = 0; i < n_checks; i++)
        lo = fmin(lo, checks[i].r.threshold / th), hi = fmax(hi, checks[i].r.threshold / th);
    printf("slow drift to x1.2 over 12 h: threshold x%.4f at 6 h (the values x1.100), "
           "x%.4f at 18 h, within x%.4f..x%.4f\n", mid, end, lo, hi);
    CHECK(mid > 1.05 && mid < 1.1 && fabs(end - 1.2) < 0.01 && lo > 0.99 && hi < 1.21);
    vg_drift_free(d);
}

static void test_adaptive_bounds(void) {
    double ref[101];
    reference_of(patch_q, ref);
    vg_drift_params p = vg_drift_default_params();
    p.adaptive = 1;
    double th = patch_q(0.995);
    const double factors[] = {5, 0.2};
    for (int k = 0; k < N_OF(factors); k++) {
        vg_drift *d = make(ref, th, &p);
        if (!d) return;
        scene s = plain(patch_q, factors[k]);
        run(d, &s, 0, 12 * HOUR_S);
        double end = threshold_at(12 * HOUR_S) / th, bound = 1 + (k ? -1 : 1) * p.max_change;
        printf("values x%g for 12 h: threshold x%.4f (bound x%g)\n", factors[k], end, bound);
        CHECK(within(0.5 * th, 1.5 * th) && fabs(end - bound) < 0.01);
        vg_drift_free(d);
    }
    /* -PSNR: shifts in dB; the bounds are MSE's factors 0.5 and 1.5 in dB */
    reference_of(psnr_q, ref);
    p.absolute = 1;
    th = psnr_q(0.995);
    const double shifts[] = {1, 10, -10};
    const double want[] = {1, 10 * log10(1.5), 10 * log10(0.5)};
    for (int k = 0; k < N_OF(shifts); k++) {
        vg_drift *d = make(ref, th, &p);
        if (!d) return;
        scene s = {.value = shifted, .q = psnr_q, .shift = shifts[k]};
        run(d, &s, 0, 12 * HOUR_S);
        double moved = threshold_at(12 * HOUR_S) - th;
        printf("-PSNR %+g dB for 12 h: threshold %+.3f dB (want %+.3f)\n", shifts[k], moved,
               want[k]);
        CHECK(fabs(moved - want[k]) < 0.03 &&
              within(th + 10 * log10(0.5), th + 10 * log10(1.5)));
        vg_drift_free(d);
    }
}

static void test_adaptive_events(void) {
    double ref[101];
    reference_of(patch_q, ref);
    vg_drift_params p = vg_drift_default_params();
    p.adaptive = 1;
    double th = patch_q(0.995);
    for (int flagged = 1; flagged >= 0; flagged--) {
        vg_drift *d = make(ref, th, &p);
        if (!d) return;
        scene normal = plain(patch_q, 1), event = plain(patch_q, 3);
        event.in_event = flagged;
        run(d, &normal, 0, 2 * HOUR_S);
        double before = threshold_at(2 * HOUR_S);
        int first = n_checks;
        run(d, &event, 2 * HOUR_S, 4 * HOUR_S);
        int frozen = 1;
        for (int i = first; i < n_checks; i++) frozen &= checks[i].r.threshold == before;
        run(d, &normal, 4 * HOUR_S, 6 * HOUR_S);
        double high = 0;
        for (int i = 0; i < n_checks; i++) high = fmax(high, checks[i].r.threshold / th);
        printf("2 h of x3 values %s an event: threshold at most x%.4f, %s during it\n",
               flagged ? "in" : "outside", high, frozen ? "frozen" : "moving");
        if (flagged) CHECK(frozen && fabs(high - 1) < 0.01);
        else CHECK(!frozen && high > 1.4);
        vg_drift_free(d);
    }
}

/* ---- argument errors ------------------------------------------------------------------- */

static void expect_error(const double ref[101], double threshold, vg_drift_params p,
                         const char *needle) {
    vg_drift *d = (vg_drift *)&p; /* must come back NULL */
    int rc = vg_drift_create(ref, threshold, &p, &d, &err);
    int ok = rc == VG_ERR_ARG && !d && strstr(err.msg, needle);
    printf("%-30s -> %s %s\n", needle, err.msg, ok ? "ok" : "FAIL");
    if (!ok) test_failures++;
    if (!rc) vg_drift_free(d);
}

static void test_errors(void) {
    double ref[101], bad[101];
    reference_of(patch_q, ref);
    vg_drift_params p = vg_drift_default_params(), q;
    vg_drift *d = NULL;
    CHECK(vg_drift_create(NULL, 1, &p, &d, &err) == VG_ERR_ARG && !d);
    CHECK(vg_drift_create(ref, 1, NULL, &d, &err) == VG_ERR_ARG);
    CHECK(vg_drift_create(ref, 1, &p, NULL, &err) == VG_ERR_ARG);
    memcpy(bad, ref, sizeof bad), bad[50] = NAN;
    expect_error(bad, 1, p, "percentile 50 is nan");
    memcpy(bad, ref, sizeof bad), bad[7] = 1;
    expect_error(bad, 1, p, "percentile 8 (");
    expect_error(ref, INFINITY, p, "drift threshold inf");
    q = p, q.psi_alert = 0, expect_error(ref, 1, q, "psi_alert 0");
    q = p, q.psi_clear = 0.3, expect_error(ref, 1, q, "psi_clear 0.3");
    q = p, q.psi_clear = 0, expect_error(ref, 1, q, "psi_clear 0,");
    q = p, q.sustain = -1, expect_error(ref, 1, q, "sustain -1");
    q = p, q.sustain = NAN, expect_error(ref, 1, q, "sustain nan");
    q = p, q.max_change = 1, expect_error(ref, 1, q, "max_change 1");
    q = p, q.max_change = -0.1, expect_error(ref, 1, q, "max_change -0.1");
    q = p, q.adaptive = 1, expect_error(ref, -2, q, "positive threshold");
    /* the same threshold is fine for logarithmic values, or when not adaptive */
    q.absolute = 1;
    CHECK_OK(vg_drift_create(ref, -2, &q, &d, &err), &err);
    vg_drift_free(d);
    CHECK_OK(vg_drift_create(ref, -2, &p, &d, &err), &err);
    vg_drift_free(d);
    vg_drift_free(NULL);
}

int main(void) {
    test_stationary();
    test_ties();
    test_against_direct();
    test_shift();
    test_clock();
    test_adaptive_follows();
    test_adaptive_bounds();
    test_adaptive_events();
    test_errors();
    return test_result();
}
