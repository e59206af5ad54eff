/* test_decide.c - the decision module on hand-made score sequences with known events, the
 * streaming smoother against the batch vg_smooth, the event JSON, and invariants of the
 * lifecycle over random sequences and parameters.
 *
 * Tolerance: the smoother against vg_smooth, 1e-12 relative, for real values (a running
 * sum against vg_smooth's running sum taken from the other end); bit-identical for
 * integer values, whose sums are exact in either order. */
#include <cjson/cJSON.h>

#include "core/rng.h"
#include "test.h"
#include "vigil/vigil.h"

#define MAX_EVENTS 512 /* more than the longest sequence pushed: one event a push at most */

/* Draws of a counter-based stream: the next uniform value in [0, 1). */
typedef struct draws {
    uint64_t seed, i;
} draws;

static double draw(draws *g) { return vg_rand_unit(g->seed, g->i++); }

/* The events of a run: scores pushed as frames 0, 1, ... at 10 fps, then a flush.
 * at[k]: the frame whose push (or -1: the flush) gave event k. */
typedef struct run {
    vg_event ev[MAX_EVENTS];
    long long at[MAX_EVENTS];
    int n;
} run;

static run decide(const vg_decide_params *p, const double *score, int n) {
    run r = {.n = 0};
    vg_decider *d = NULL;
    vg_error err = {0};
    CHECK_OK(vg_decider_create(p, &d, &err), &err);
    if (!d) return r;
    vg_event ev;
    int got = 0;
    for (int i = 0; i < n; i++) {
        CHECK_OK(vg_decider_push(d, i, i / 10.0, score[i], &ev, &got, &err), &err);
        if (got && r.n < MAX_EVENTS) r.ev[r.n] = ev, r.at[r.n++] = i;
    }
    vg_decider_flush(d, &ev, &got);
    if (got && r.n < MAX_EVENTS) r.ev[r.n] = ev, r.at[r.n++] = -1;
    vg_decider_free(d);
    return r;
}

/* Params for hand-made sequences: threshold 1, nothing smoothed, debounced or merged. */
static vg_decide_params plain(void) {
    vg_decide_params p = vg_decide_default_params(VG_EVENT_PREDICTION_ERROR);
    p.threshold = 1;
    p.debounce = p.min_duration = 1;
    p.merge_gap = 0;
    return p;
}

/* Event k is of type, frames start..end, pushed at frame `at` (-1: the flush). */
static int is_event(const run *r, int k, vg_event_type type, long long start, long long end,
                    long long at) {
    if (k >= r->n) return 0;
    const vg_event *e = &r->ev[k];
    return e->type == type && e->start_frame == start && e->end_frame == end && r->at[k] == at;
}

#define N_OF(a) ((int)(sizeof(a) / sizeof *(a)))

/* ---- the stages ------------------------------------------------------------------------ */

static void test_debounce(void) {
    vg_decide_params p = plain();
    p.debounce = 3;
    const double spike[] = {0, 0, 5, 0, 0, 2, 2, 0, 0};
    run r = decide(&p, spike, N_OF(spike));
    printf("debounce 3: a 1-frame spike and a 2-frame excursion give %d events\n", r.n);
    CHECK(r.n == 0);
    const double held[] = {0, 2, 2, 2, 2, 0, 0};
    r = decide(&p, held, N_OF(held));
    printf("debounce 3: a 4-frame excursion: %d events, NEW on frame %lld from frame %lld\n",
           r.n, r.n ? r.at[0] : -1, r.n ? r.ev[0].start_frame : -1);
    CHECK(r.n == 2 && is_event(&r, 0, VG_EVENT_NEW, 1, 3, 3) &&
          is_event(&r, 1, VG_EVENT_END, 1, 4, 5));
    CHECK(r.n == 2 && r.ev[1].start_time == 0.1 && r.ev[1].end_time == 0.4 &&
          fabs(r.ev[1].duration - 0.3) < 1e-12);
    const double broken[] = {2, 2, 0.5, 2, 2, 0}; /* a value below the threshold breaks it */
    r = decide(&p, broken, N_OF(broken));
    CHECK(r.n == 0);
}

static void test_min_duration(void) {
    vg_decide_params p = plain();
    p.debounce = 2;
    p.min_duration = 4;
    const double short3[] = {0, 2, 2, 2, 0, 0, 0};
    run r = decide(&p, short3, N_OF(short3));
    printf("min duration 4: a 3-frame excursion gives %d events\n", r.n);
    CHECK(r.n == 0);
    const double long4[] = {0, 2, 2, 2, 2, 0};
    r = decide(&p, long4, N_OF(long4));
    printf("min duration 4: a 4-frame excursion: NEW on frame %lld\n", r.n ? r.at[0] : -1);
    CHECK(r.n == 2 && is_event(&r, 0, VG_EVENT_NEW, 1, 4, 4) &&
          is_event(&r, 1, VG_EVENT_END, 1, 4, 5));
    /* an excursion still short at the end of the stream is dropped by the flush */
    const double tail[] = {0, 0, 2, 2, 2};
    r = decide(&p, tail, N_OF(tail));
    CHECK(r.n == 0);
}

static void test_merge_gap(void) {
    vg_decide_params p = plain();
    p.merge_gap = 2;
    const double joined[] = {2, 2, 0, 0, 2, 2, 0, 0, 0, 0};
    run r = decide(&p, joined, N_OF(joined));
    printf("merge gap 2: excursions 2 frames apart: %d events (NEW, END on frame %lld)\n", r.n,
           r.n > 1 ? r.at[1] : -1);
    CHECK(r.n == 2 && is_event(&r, 0, VG_EVENT_NEW, 0, 0, 0) &&
          is_event(&r, 1, VG_EVENT_END, 0, 5, 8)); /* decided on the 3rd value below exit */
    const double split[] = {2, 2, 0, 0, 0, 2, 2, 0, 0, 0};
    r = decide(&p, split, N_OF(split));
    printf("merge gap 2: excursions 3 frames apart: %d events\n", r.n);
    CHECK(r.n == 4 && is_event(&r, 1, VG_EVENT_END, 0, 1, 4) &&
          is_event(&r, 2, VG_EVENT_NEW, 5, 5, 5) && r.ev[2].id == r.ev[0].id + 1);
    /* the gap is bridged before NEW too: two 2-frame flickers make one 5-frame excursion */
    p.min_duration = 5;
    const double flicker[] = {2, 2, 0, 2, 2, 0, 0, 0};
    r = decide(&p, flicker, N_OF(flicker));
    CHECK(r.n == 2 && is_event(&r, 0, VG_EVENT_NEW, 0, 4, 4) &&
          is_event(&r, 1, VG_EVENT_END, 0, 4, 7));
}

static void test_hysteresis(void) {
    vg_decide_params p = plain();
    const double s[] = {0, 2, 2, 0.7, 0.7, 0.4, 0, 0};
    run r = decide(&p, s, N_OF(s));
    CHECK(r.n == 2 && is_event(&r, 1, VG_EVENT_END, 1, 2, 3));
    p.exit = 0.5;
    r = decide(&p, s, N_OF(s));
    printf("exit 0.5: the event holds through 0.7 and ends on frame %lld\n",
           r.n > 1 ? r.ev[1].end_frame : -1);
    CHECK(r.n == 2 && is_event(&r, 1, VG_EVENT_END, 1, 4, 5));
    CHECK(r.n == 2 && r.ev[1].current == 0.4 && r.ev[1].threshold == 1);
    /* values between exit and threshold do not open an event */
    const double low[] = {0.7, 0.7, 0.7, 0};
    r = decide(&p, low, N_OF(low));
    CHECK(r.n == 0);
}

static void test_smoothing_first(void) {
    /* a single 3 smoothed over 3 values holds 1 for three frames: enough for debounce 3 */
    vg_decide_params p = plain();
    p.smooth = 3;
    p.debounce = 3;
    const double s[] = {0, 0, 3, 0, 0, 0, 0};
    run r = decide(&p, s, N_OF(s));
    CHECK(r.n == 2 && is_event(&r, 0, VG_EVENT_NEW, 2, 4, 4) && r.ev[0].peak == 1);
    /* NaN scores: left out of the mean; a window with none counts as below exit */
    p = plain();
    const double gaps[] = {2, NAN, 2, 0};
    r = decide(&p, gaps, N_OF(gaps));
    CHECK(r.n == 4 && is_event(&r, 1, VG_EVENT_END, 0, 0, 1) && isnan(r.ev[1].current));
}

static void test_severity(void) {
    vg_decide_params p = plain();
    const double tiers[][4] = {{0, 1.2, 0, 0}, {0, 1.5, 0, 0}, {0, 1.9, 2.5, 0}};
    const vg_severity want[] = {VG_SEVERITY_LOW, VG_SEVERITY_MEDIUM, VG_SEVERITY_HIGH};
    for (int k = 0; k < 3; k++) {
        run r = decide(&p, tiers[k], 4);
        CHECK(r.n == 2 && r.ev[1].severity == want[k]);
    }
    /* the tier follows the peak: NEW medium, then UPDATE high */
    p.update_every = 1;
    run r = decide(&p, tiers[2], 4);
    CHECK(r.n == 3 && r.ev[0].severity == VG_SEVERITY_MEDIUM && r.ev[1].type == VG_EVENT_UPDATE &&
          r.ev[1].severity == VG_SEVERITY_HIGH && r.ev[1].peak_frame == 2);
    /* -PSNR: threshold -25 dB, absolute margins of 10 log10(1.5) and 10 log10(2) dB */
    p = plain();
    p.threshold = -25, p.margin = VG_MARGIN_ABSOLUTE;
    p.medium = 10 * log10(1.5), p.high = 10 * log10(2);
    const double psnr[][3] = {{-30, -24, -30}, {-30, -23, -30}, {-30, -21.9, -30}};
    for (int k = 0; k < 3; k++) {
        r = decide(&p, psnr[k], 3);
        CHECK(r.n == 2 && r.ev[1].severity == want[k] && r.ev[1].threshold == -25);
    }
    printf("severity: ratio 1.2/1.5/2.5x -> low/medium/high; -PSNR margins alike\n");
}

static void test_confidence(void) {
    vg_decide_params p = plain();
    p.band_lo = 0.9, p.band_hi = 1.3;
    const double inside[] = {0, 1.2, 0}, above[] = {0, 1.4, 0};
    run r = decide(&p, inside, 3);
    CHECK(r.n == 2 && r.ev[1].confidence == VG_CONFIDENCE_LOW && r.ev[1].band_lo == 0.9 &&
          r.ev[1].band_hi == 1.3);
    r = decide(&p, above, 3);
    CHECK(r.n == 2 && r.ev[1].confidence == VG_CONFIDENCE_HIGH);
    p = plain();
    r = decide(&p, above, 3);
    CHECK(r.n == 2 && r.ev[1].confidence == VG_CONFIDENCE_NONE && isnan(r.ev[1].band_lo));
    printf("confidence: peak inside the band low, above it high, no band none\n");
}

static void test_updates_and_flush(void) {
    vg_decide_params p = plain();
    p.update_every = 3;
    p.merge_gap = 1;
    double s[14];
    for (int i = 0; i < 14; i++) s[i] = i >= 2 && i <= 11 ? 2 : 0;
    run r = decide(&p, s, 14);
    /* NEW at 2, UPDATE at 5, 8, 11; the update due at 14 would come after END (frame 13) */
    printf("update every 3: %d events:", r.n);
    for (int k = 0; k < r.n; k++) printf(" %d@%lld", (int)r.ev[k].type, r.at[k]);
    printf("\n");
    CHECK(r.n == 5 && r.at[0] == 2 && r.at[1] == 5 && r.at[2] == 8 && r.at[3] == 11 &&
          is_event(&r, 4, VG_EVENT_END, 2, 11, 13));
    CHECK(r.n == 5 && r.ev[1].type == VG_EVENT_UPDATE && r.ev[1].end_frame == 5);
    /* END replaces an UPDATE due on the same value */
    p.update_every = 2;
    const double e[] = {2, 2, 0, 0};
    r = decide(&p, e, 4);
    CHECK(r.n == 3 && r.ev[1].type == VG_EVENT_UPDATE && r.at[1] == 2 &&
          is_event(&r, 2, VG_EVENT_END, 0, 1, 3));
    /* a stream ending inside an event: the flush ends it, from its last value >= exit */
    p.update_every = 0;
    const double open[] = {0, 2, 2, 0};
    r = decide(&p, open, 4);
    CHECK(r.n == 2 && is_event(&r, 1, VG_EVENT_END, 1, 2, -1));
}

static void test_ids_and_streams(void) {
    vg_decide_params p = plain();
    p.first_id = 100;
    vg_decider *d = NULL;
    vg_error err = {0};
    CHECK_OK(vg_decider_create(&p, &d, &err), &err);
    if (!d) return;
    vg_event ev;
    int got = 0;
    CHECK_OK(vg_decider_push(d, 7, 0.7, 2, &ev, &got, &err), &err);
    CHECK(got && ev.id == 100 && ev.type == VG_EVENT_NEW);
    CHECK(vg_decider_push(d, 7, 0.7, 2, &ev, &got, &err) == VG_ERR_ARG && !got);
    printf("frame order: %s\n", err.msg);
    CHECK(strstr(err.msg, "frame 7 after frame 7") != NULL);
    vg_decider_flush(d, &ev, &got);
    CHECK(got && ev.type == VG_EVENT_END && ev.id == 100);
    vg_decider_flush(d, &ev, &got);
    CHECK(!got);
    /* after a flush a new stream starts from frame 0; ids go on */
    CHECK_OK(vg_decider_push(d, 0, 0, 3, &ev, &got, &err), &err);
    CHECK(got && ev.id == 101 && ev.start_frame == 0);
    vg_decider_free(d);
    vg_decide_params q = vg_decide_default_params(VG_EVENT_SIGNAL_LOST);
    CHECK(q.first_id == 4000000001LL && q.threshold == 1 && q.debounce == 1);
    CHECK(isnan(vg_decide_default_params(VG_EVENT_PREDICTION_ERROR).threshold));
    CHECK(!strcmp(vg_event_class_name(VG_EVENT_FLAT_FRAME), "flat_frame") &&
          !strcmp(vg_event_class_name(VG_EVENT_CLASSES), "?"));
}

/* ---- parameter errors ------------------------------------------------------------------ */

static void expect_error(vg_decide_params p, const char *needle) {
    vg_decider *d = (vg_decider *)&p; /* must come back NULL */
    vg_error err = {0};
    int rc = vg_decider_create(&p, &d, &err);
    int ok = rc == VG_ERR_ARG && d == NULL && strstr(err.msg, needle);
    printf("%-28s -> %s %s\n", needle, err.msg, ok ? "ok" : "FAIL");
    if (!ok) test_failures++;
}

static void test_param_errors(void) {
    vg_decide_params p = vg_decide_default_params(VG_EVENT_PREDICTION_ERROR);
    expect_error(p, "threshold nan");
    p = plain();
    vg_decide_params q = p;
    q.exit = 1.5, expect_error(q, "exit level 1.5");
    q = p, q.smooth = 0, expect_error(q, "smoothing width 0");
    q = p, q.debounce = 0, expect_error(q, "debounce 0");
    q = p, q.min_duration = 0, expect_error(q, "minimum duration 0");
    q = p, q.merge_gap = -1, expect_error(q, "merge gap -1");
    q = p, q.update_every = -2, expect_error(q, "update interval -2");
    q = p, q.band_lo = 1.1, q.band_hi = 1.3, expect_error(q, "confidence band [1.1, 1.3]");
    q = p, q.band_lo = 0.9, expect_error(q, "confidence band [0.9, nan]");
    q = p, q.threshold = -25, expect_error(q, "need a positive threshold");
    q = p, q.medium = 0.5, expect_error(q, "severity ratios medium 0.5");
    q = p, q.high = 1.2, expect_error(q, "high 1.2");
    q = p, q.margin = VG_MARGIN_ABSOLUTE, q.medium = -1, expect_error(q, "margins medium -1");
    char unknown[32];
    snprintf(unknown, sizeof unknown, "event class %d", VG_EVENT_CLASSES);
    q = p, q.event_class = VG_EVENT_CLASSES, expect_error(q, unknown);
}

/* ---- invariants over random sequences ---------------------------------------------------
 * Whatever the parameters: ids go NEW (UPDATE ...) END one at a time; a reported event
 * spans at least min_duration values; END comes merge_gap + 1 values after the event's
 * end; NEW comes on a value >= exit and END on one below it; events are separated by more
 * than merge_gap values. */

static void check_lifecycle(const vg_decide_params *p, const run *r, const double *sm,
                            int *bad) {
    long long open_id = -1, prev_end = -1000;
    for (int k = 0; k < r->n; k++) {
        const vg_event *e = &r->ev[k];
        long long at = r->at[k];
        if (e->type == VG_EVENT_NEW) {
            *bad |= open_id != -1 || e->start_frame - prev_end <= p->merge_gap + 1 ||
                    !(sm[at] >= p->exit) || e->end_frame - e->start_frame + 1 < p->min_duration;
            open_id = e->id;
        } else {
            *bad |= e->id != open_id;
        }
        if (e->type != VG_EVENT_END) continue;
        *bad |= e->end_frame - e->start_frame + 1 < p->min_duration ||
                (at >= 0 && (at != e->end_frame + p->merge_gap + 1 || sm[at] >= p->exit));
        *bad |= e->peak < p->threshold || e->peak_frame < e->start_frame ||
                e->peak_frame > e->end_frame;
        open_id = -1, prev_end = e->end_frame;
    }
    *bad |= open_id != -1;
}

static void test_random_invariants(void) {
    enum { N = 400, RUNS = 300 };
    double s[N], sm[N];
    int bad = 0, events = 0;
    for (int t = 0; t < RUNS; t++) {
        draws g = {1000 + (uint64_t)t, 0};
        vg_decide_params p = plain();
        p.smooth = 1 + (int)(draw(&g) * 4);
        p.debounce = 1 + (int)(draw(&g) * 4);
        p.min_duration = 1 + (int)(draw(&g) * 8);
        p.merge_gap = (int)(draw(&g) * 5);
        p.update_every = (int)(draw(&g) * 4);
        p.exit = 1 - draw(&g) * 0.5;
        for (int i = 0; i < N; i++) /* bursts of high values over noise */
            s[i] = draw(&g) * 1.2 + (sin(i * 0.05 * (1 + t % 7)) > 0.6 ? 0.8 : 0);
        vg_smooth(s, sm, N, p.smooth);
        run r = decide(&p, s, N);
        events += r.n;
        check_lifecycle(&p, &r, sm, &bad);
    }
    printf("lifecycle invariants over %d random runs (%d events): %s\n", RUNS, events,
           bad ? "FAIL" : "ok");
    CHECK(!bad && events > RUNS);
}

/* ---- the smoother ----------------------------------------------------------------------- */

static void test_smoother(void) {
    enum { N = 300 };
    double in[N], want[N], ints[N], want_ints[N];
    draws g = {7, 0};
    for (int i = 0; i < N; i++) {
        in[i] = 30 + 5 * sin(i * 0.7) + draw(&g);
        ints[i] = (double)(int)(draw(&g) * 200) - 100;
    }
    for (int i = 40; i < 52; i++) in[i] = ints[i] = NAN; /* windows with no finite value */
    in[90] = ints[90] = INFINITY, in[91] = ints[91] = -INFINITY;
    const int widths[] = {1, 2, 3, 5, 10, 64, N + 5};
    for (int w = 0; w < N_OF(widths); w++) {
        vg_smooth(in, want, N, widths[w]);
        vg_smooth(ints, want_ints, N, widths[w]);
        vg_smoother *s = NULL, *si = NULL;
        vg_error err = {0};
        CHECK_OK(vg_smoother_create(widths[w], &s, &err), &err);
        CHECK_OK(vg_smoother_create(widths[w], &si, &err), &err);
        if (!s || !si) return;
        double worst = 0;
        int same_nan = 1, identical = 1;
        for (int i = 0; i < N; i++) {
            double got = vg_smoother_push(s, in[i]), got_i = vg_smoother_push(si, ints[i]);
            if (isfinite(want[i])) worst = fmax(worst, fabs(got - want[i]) / fabs(want[i]));
            else same_nan &= isnan(want[i]) ? isnan(got) : got == want[i];
            identical &= memcmp(&got_i, &want_ints[i], sizeof got_i) == 0;
        }
        printf("smoother width %-3d vs vg_smooth: max rel diff %.2g, NaN and infinities "
               "alike %s, integers bit-identical %s\n", widths[w], worst,
               same_nan ? "yes" : "NO", identical ? "yes" : "NO");
        CHECK(worst <= 1e-12 && same_nan && identical);
        vg_smoother_reset(s);
        CHECK(vg_smoother_push(s, 4) == 4); /* reset forgets everything */
        vg_smoother_free(s);
        vg_smoother_free(si);
    }
    /* a huge value leaves no trace once it has left the window (a live stream never
     * empties its window, so rounding must not stick) */
    vg_smoother *s = NULL;
    vg_error err = {0};
    CHECK_OK(vg_smoother_create(4, &s, &err), &err);
    if (!s) return;
    vg_smoother_push(s, 1e30);
    double last = 0;
    for (int i = 0; i < 20; i++) last = vg_smoother_push(s, 0.5 + (i % 2) * 0.25);
    printf("smoother after 1e30 left the window: %.17g (want 0.625)\n", last);
    CHECK(fabs(last - 0.625) <= 1e-15);
    vg_smoother_free(s);
    s = (vg_smoother *)&err;
    CHECK(vg_smoother_create(0, &s, &err) == VG_ERR_ARG && !s &&
          strstr(err.msg, "smoothing width 0"));
}

/* ---- JSON ------------------------------------------------------------------------------- */

static void test_json(void) {
    vg_decide_params p = plain();
    p.band_lo = 0.8, p.band_hi = 1.2;
    const double s[] = {0, 2.5, 2.5, 0};
    run r = decide(&p, s, 4);
    CHECK(r.n == 2);
    if (r.n != 2) return;
    char *text = vg_event_json(&r.ev[1], "cam \"1\"", "hm/frame_000001.png", NULL);
    printf("event JSON: %s\n", text ? text : "(null)");
    cJSON *o = cJSON_Parse(text);
    CHECK(o != NULL);
    const cJSON *band = cJSON_GetObjectItemCaseSensitive(o, "band");
    CHECK(cJSON_GetObjectItemCaseSensitive(o, "id")->valuedouble == 1);
    CHECK(!strcmp(cJSON_GetObjectItemCaseSensitive(o, "camera")->valuestring, "cam \"1\""));
    CHECK(!strcmp(cJSON_GetObjectItemCaseSensitive(o, "class")->valuestring, "prediction_error"));
    CHECK(!strcmp(cJSON_GetObjectItemCaseSensitive(o, "type")->valuestring, "end"));
    CHECK(!strcmp(cJSON_GetObjectItemCaseSensitive(o, "severity")->valuestring, "high"));
    CHECK(!strcmp(cJSON_GetObjectItemCaseSensitive(o, "confidence")->valuestring, "high"));
    CHECK(cJSON_GetArraySize(band) == 2 && cJSON_GetArrayItem(band, 1)->valuedouble == 1.2);
    CHECK(cJSON_GetObjectItemCaseSensitive(o, "duration")->valuedouble == 0.1);
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "clip")));
    CHECK(cJSON_GetObjectItemCaseSensitive(o, "end_frame")->valuedouble == 2);
    cJSON_Delete(o);
    free(text);
    /* seconds are written to the microsecond, without a difference's float noise */
    vg_event e = r.ev[1];
    e.start_time = 0.1, e.end_time = 0.4, e.duration = e.end_time - e.start_time;
    text = vg_event_json(&e, NULL, NULL, NULL);
    CHECK(text && strstr(text, "\"duration\":0.3,") && strstr(text, "\"end_time\":0.4,"));
    free(text);
    /* no band: null band and confidence; a NaN current: null */
    e = r.ev[1];
    e.band_lo = e.band_hi = e.current = NAN;
    text = vg_event_json(&e, NULL, NULL, NULL);
    o = cJSON_Parse(text);
    CHECK(o && cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "band")) &&
          cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "confidence")) &&
          cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "current")) &&
          cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "camera")));
    cJSON_Delete(o);
    free(text);
    CHECK(vg_event_json(NULL, NULL, NULL, NULL) == NULL);
}

/* ---- moving the threshold (an adaptive one) -------------------------------------------- */

/* Pushes score as the next frame of d: 1 and *ev when it gave an event. */
static int push_one(vg_decider *d, long long *frame, double score, vg_event *ev) {
    vg_error err = {0};
    int got = 0;
    CHECK_OK(vg_decider_push(d, (*frame)++, 0, score, ev, &got, &err), &err);
    return got;
}

static void test_set_threshold(void) {
    vg_decide_params p = plain();
    p.band_lo = 0.9, p.band_hi = 1.2;
    vg_decider *d = NULL;
    vg_error err = {0};
    CHECK_OK(vg_decider_create(&p, &d, &err), &err);
    if (!d) return;
    vg_event ev;
    long long f = 0;
    CHECK(push_one(d, &f, 1.5, &ev) && ev.type == VG_EVENT_NEW && push_one(d, &f, 0, &ev));
    CHECK_OK(vg_decider_set_threshold(d, 2, NAN, &err), &err);
    CHECK(!push_one(d, &f, 1.5, &ev)); /* under the new threshold */
    /* the band moved with it (x2: [1.8, 2.4]); severity tiers are 3 and 4 now */
    CHECK(push_one(d, &f, 2.3, &ev) && ev.type == VG_EVENT_NEW && ev.threshold == 2);
    printf("threshold 1 -> 2: band [%g, %g], peak 2.3 confidence %d severity %d\n", ev.band_lo,
           ev.band_hi, (int)ev.confidence, (int)ev.severity);
    CHECK(fabs(ev.band_lo - 1.8) < 1e-12 && fabs(ev.band_hi - 2.4) < 1e-12);
    CHECK(ev.confidence == VG_CONFIDENCE_LOW && ev.severity == VG_SEVERITY_LOW);
    CHECK(push_one(d, &f, 1.99, &ev) && ev.type == VG_EVENT_END); /* exit = threshold */
    CHECK(push_one(d, &f, 3.5, &ev) && ev.confidence == VG_CONFIDENCE_HIGH &&
          ev.severity == VG_SEVERITY_MEDIUM);
    CHECK(push_one(d, &f, 0, &ev) && ev.type == VG_EVENT_END);
    /* a bad level is refused and leaves the decider as it was */
    CHECK(vg_decider_set_threshold(d, 2, 2.5, &err) == VG_ERR_ARG &&
          strstr(err.msg, "exit level 2.5"));
    printf("exit over the threshold: %s\n", err.msg);
    CHECK(vg_decider_set_threshold(d, -1, NAN, &err) == VG_ERR_ARG &&
          strstr(err.msg, "positive threshold"));
    CHECK(vg_decider_set_threshold(d, NAN, NAN, &err) == VG_ERR_ARG);
    CHECK(vg_decider_set_threshold(NULL, 1, NAN, &err) == VG_ERR_ARG);
    CHECK(!push_one(d, &f, 1.9, &ev));
    CHECK_OK(vg_decider_set_threshold(d, 2, 1, &err), &err); /* hysteresis down to 1 */
    CHECK(push_one(d, &f, 2.1, &ev) && ev.type == VG_EVENT_NEW &&
          fabs(ev.band_lo - 1.8) < 1e-12);
    CHECK(!push_one(d, &f, 1.2, &ev) && push_one(d, &f, 0.5, &ev) && ev.type == VG_EVENT_END);
    vg_decider_free(d);

    /* ABSOLUTE margins (-PSNR dB): the band shifts, the tiers stay threshold + margin */
    p = plain();
    p.margin = VG_MARGIN_ABSOLUTE, p.medium = 1.76, p.high = 3.01;
    p.threshold = -30, p.band_lo = -30.5, p.band_hi = -29;
    CHECK_OK(vg_decider_create(&p, &d, &err), &err);
    if (!d) return;
    f = 0;
    CHECK_OK(vg_decider_set_threshold(d, -31, NAN, &err), &err);
    CHECK(push_one(d, &f, -29.5, &ev) && ev.type == VG_EVENT_NEW);
    printf("threshold -30 -> -31 dB: band [%g, %g], peak -29.5 confidence %d severity %d\n",
           ev.band_lo, ev.band_hi, (int)ev.confidence, (int)ev.severity);
    CHECK(fabs(ev.band_lo + 31.5) < 1e-12 && fabs(ev.band_hi + 30) < 1e-12);
    CHECK(ev.confidence == VG_CONFIDENCE_HIGH && ev.severity == VG_SEVERITY_LOW);
    vg_decider_free(d);
}

int main(void) {
    test_debounce();
    test_min_duration();
    test_merge_gap();
    test_hysteresis();
    test_smoothing_first();
    test_severity();
    test_confidence();
    test_updates_and_flush();
    test_ids_and_streams();
    test_param_errors();
    test_set_threshold();
    test_random_invariants();
    test_smoother();
    test_json();
    return test_result();
}
