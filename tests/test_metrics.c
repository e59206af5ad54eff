/* test_metrics.c - the metrics registry: the exact Prometheus text of a small registry,
 * misuse refused, and updates from several threads adding up exactly. */
#include <pthread.h>

#include "serve/metrics.h"
#include "test.h"

#define THREADS 8
#define UPDATES 100000

static const char expected_text[] =
    "# HELP vigil_frames_total Frames scored.\n"
    "# TYPE vigil_frames_total counter\n"
    "vigil_frames_total{camera=\"gate\"} 3.5\n"
    "vigil_frames_total{camera=\"dock\"} 1\n"
    "vigil_frames_total{camera=\"a\\\"b\\\\c\\nd\"} 0\n"
    "# HELP vigil_up Help with \\\\ and\\nnewline.\n"
    "# TYPE vigil_up gauge\n"
    "vigil_up 0.75\n"
    "# HELP vigil_latency_seconds Latency.\n"
    "# TYPE vigil_latency_seconds histogram\n"
    "vigil_latency_seconds_bucket{camera=\"gate\",le=\"0.1\"} 0\n"
    "vigil_latency_seconds_bucket{camera=\"gate\",le=\"0.25\"} 2\n"
    "vigil_latency_seconds_bucket{camera=\"gate\",le=\"1\"} 3\n"
    "vigil_latency_seconds_bucket{camera=\"gate\",le=\"+Inf\"} 4\n"
    "vigil_latency_seconds_sum{camera=\"gate\"} 5.125\n"
    "vigil_latency_seconds_count{camera=\"gate\"} 4\n"
    "# TYPE vigil_queue_wait histogram\n"
    "vigil_queue_wait_bucket{le=\"+Inf\"} 1\n"
    "vigil_queue_wait_sum 0.5\n"
    "vigil_queue_wait_count 1\n"
    "# HELP vigil_odd Odd values.\n"
    "# TYPE vigil_odd gauge\n"
    "vigil_odd{v=\"nan\"} NaN\n"
    "vigil_odd{v=\"inf\"} -Inf\n"
    "vigil_odd{v=\"tenth\"} 0.1\n";

static void fill_small_registry(vg_metrics *r) {
    vg_metric *gate = vg_metrics_counter(r, "vigil_frames_total", "Frames scored.",
                                         "camera=\"gate\"");
    vg_metric *dock = vg_metrics_counter(r, "vigil_frames_total", "Another help (ignored).",
                                         "camera=\"dock\"");
    char value[64], labels[80];
    CHECK(vg_metrics_escape(value, sizeof value, "a\"b\\c\nd") == 10);
    snprintf(labels, sizeof labels, "camera=\"%s\"", value);
    CHECK(vg_metrics_counter(r, "vigil_frames_total", NULL, labels) != NULL);
    vg_metric *up = vg_metrics_gauge(r, "vigil_up", "Help with \\ and\nnewline.", NULL);
    const double bounds[] = {0.1, 0.25, 1};
    vg_metric *lat = vg_metrics_histogram(r, "vigil_latency_seconds", "Latency.",
                                          "camera=\"gate\"", bounds, 3);
    vg_metric *wait = vg_metrics_histogram(r, "vigil_queue_wait", NULL, "", NULL, 0);
    CHECK(gate && dock && up && lat && wait);

    vg_metric_add(gate, 3);
    vg_metric_add(gate, 0.5);
    vg_metric_add(dock, 1);
    vg_metric_add(dock, -1);   /* a counter never goes down: ignored */
    vg_metric_set(dock, 7);    /* set is for gauges: ignored */
    vg_metric_observe(gate, 1); /* observe is for histograms: ignored */
    vg_metric_set(up, 1);
    vg_metric_add(up, -0.25);
    const double seen[] = {0.125, 0.25, 0.75, 4};
    for (int i = 0; i < 4; i++) vg_metric_observe(lat, seen[i]);
    vg_metric_observe(wait, 0.5);
    vg_metric_add(lat, 9);     /* add is not for histograms: ignored */

    vg_metric_set(vg_metrics_gauge(r, "vigil_odd", "Odd values.", "v=\"nan\""), NAN);
    vg_metric_set(vg_metrics_gauge(r, "vigil_odd", NULL, "v=\"inf\""), -INFINITY);
    vg_metric_set(vg_metrics_gauge(r, "vigil_odd", NULL, "v=\"tenth\""), 0.1);

    CHECK(vg_metric_value(gate) == 3.5);
    CHECK(vg_metric_value(dock) == 1);
    CHECK(vg_metric_value(up) == 0.75);
    CHECK(vg_metric_value(lat) == 4);
    CHECK(isnan(vg_metric_value(NULL)));
    vg_metric_add(NULL, 1); /* ignored, no crash */
}

static void test_render(void) {
    vg_error err = {0};
    vg_metrics *r = NULL;
    CHECK_OK(vg_metrics_create(&r, &err), &err);
    if (!r) return;
    fill_small_registry(r);
    char *text = vg_metrics_render(r);
    CHECK(text && !strcmp(text, expected_text));
    if (text && strcmp(text, expected_text))
        fprintf(stderr, "rendered:\n%s\nexpected:\n%s", text, expected_text);
    printf("render: %zu bytes, %s\n", text ? strlen(text) : 0,
           text && !strcmp(text, expected_text) ? "exact" : "DIFFERENT");
    free(text);
    vg_metrics_free(r);
}

static void test_misuse(void) {
    vg_error err = {0};
    vg_metrics *r = NULL;
    CHECK_OK(vg_metrics_create(&r, &err), &err);
    if (!r) return;
    const double b[] = {1, 2}, unsorted[] = {2, 1}, other[] = {1, 3}, inf[] = {1, INFINITY};
    vg_metric *c = vg_metrics_counter(r, "vigil_x_total", "X.", "a=\"1\"");
    CHECK(c != NULL);
    CHECK(vg_metrics_counter(r, "vigil_x_total", NULL, "a=\"1\"") == c); /* same metric */
    CHECK(vg_metrics_counter(r, "vigil_x_total", NULL, "a=\"2\"") != c);
    CHECK(vg_metrics_gauge(r, "vigil_x_total", NULL, "a=\"1\"") == NULL); /* kind clash */
    CHECK(vg_metrics_counter(r, "1vigil", NULL, NULL) == NULL);
    CHECK(vg_metrics_counter(r, "vigil-x", NULL, NULL) == NULL);
    CHECK(vg_metrics_counter(r, "", NULL, NULL) == NULL);
    CHECK(vg_metrics_counter(r, NULL, NULL, NULL) == NULL);
    CHECK(vg_metrics_counter(r, "vigil:ok_total", NULL, NULL) != NULL);
    const char *bad_labels[] = {"a=1", "a=\"1", "a=\"x\\q\"", "a=\"1\",", "=\"1\"",
                                "a=\"1\" b=\"2\"", "a=\"line\nbreak\"", "a=\"1\"x", "a=\"\\"};
    for (size_t i = 0; i < sizeof bad_labels / sizeof *bad_labels; i++)
        CHECK(vg_metrics_counter(r, "vigil_y_total", NULL, bad_labels[i]) == NULL);
    CHECK(vg_metrics_counter(r, "vigil_y_total", NULL, "a=\"\\\\\\\"\\n\",b_2=\"\"") != NULL);
    CHECK(vg_metrics_histogram(r, "vigil_h", NULL, "le=\"1\"", b, 2) == NULL);
    CHECK(vg_metrics_histogram(r, "vigil_h", NULL, NULL, unsorted, 2) == NULL);
    CHECK(vg_metrics_histogram(r, "vigil_h", NULL, NULL, inf, 2) == NULL);
    CHECK(vg_metrics_histogram(r, "vigil_h", NULL, NULL, NULL, 2) == NULL);
    CHECK(vg_metrics_histogram(r, "vigil_h", NULL, NULL, b, 2) != NULL);
    CHECK(vg_metrics_histogram(r, "vigil_h", NULL, "c=\"1\"", other, 2) == NULL);
    CHECK(vg_metrics_histogram(r, "vigil_h", NULL, "c=\"1\"", b, 2) != NULL);
    CHECK(vg_metrics_counter(NULL, "vigil_x_total", NULL, NULL) == NULL);
    CHECK(vg_metrics_render(NULL) == NULL);

    char small[6];
    CHECK(vg_metrics_escape(small, sizeof small, "ab\"cd") == 6);
    CHECK(!strcmp(small, "ab\\\"c")); /* whole escapes only, cut at the end */
    CHECK(vg_metrics_escape(small, 4, "ab\"cd") == 6 && !strcmp(small, "ab"));
    CHECK(vg_metrics_escape(NULL, 0, "x\n") == 3);
    vg_metrics_free(r);
    vg_metrics_free(NULL);
    printf("misuse: refused\n");
}

typedef struct hammer {
    vg_metric *counter, *gauge, *histogram;
} hammer;

static void *hammer_run(void *arg) {
    const hammer *h = arg;
    for (int i = 0; i < UPDATES; i++) {
        vg_metric_add(h->counter, 1);
        vg_metric_add(h->gauge, 0.5);
        vg_metric_observe(h->histogram, (i % 4) * 0.25); /* exact in binary */
    }
    return NULL;
}

static void test_threads(void) {
    vg_error err = {0};
    vg_metrics *r = NULL;
    CHECK_OK(vg_metrics_create(&r, &err), &err);
    if (!r) return;
    const double bounds[] = {0.3};
    hammer h = {vg_metrics_counter(r, "vigil_hits_total", "Hits.", NULL),
                vg_metrics_gauge(r, "vigil_level", "Level.", NULL),
                vg_metrics_histogram(r, "vigil_seen", "Seen.", NULL, bounds, 1)};
    CHECK(h.counter && h.gauge && h.histogram);
    pthread_t threads[THREADS];
    int started = 0;
    for (; started < THREADS; started++)
        if (pthread_create(&threads[started], NULL, hammer_run, &h) != 0) break;
    CHECK(started == THREADS);
    char *during = vg_metrics_render(r); /* rendering while others write */
    CHECK(during != NULL);
    free(during);
    for (int i = 0; i < started; i++) pthread_join(threads[i], NULL);
    const double n = (double)started * UPDATES;
    CHECK(vg_metric_value(h.counter) == n);
    CHECK(vg_metric_value(h.gauge) == n / 2);
    CHECK(vg_metric_value(h.histogram) == n);
    char *text = vg_metrics_render(r), want[256];
    snprintf(want, sizeof want,
             "vigil_seen_bucket{le=\"0.3\"} %.0f\nvigil_seen_bucket{le=\"+Inf\"} %.0f\n"
             "vigil_seen_sum %.0f\nvigil_seen_count %.0f\n",
             n / 2, n, n * 1.5 / 4, n);
    CHECK(text && strstr(text, want));
    printf("threads: %d x %d updates: counter %.0f, gauge %.1f, histogram %.0f (want %.0f)\n",
           started, UPDATES, vg_metric_value(h.counter), vg_metric_value(h.gauge),
           vg_metric_value(h.histogram), n);
    free(text);
    vg_metrics_free(r);
}

int main(void) {
    test_render();
    test_misuse();
    test_threads();
    return test_result();
}
