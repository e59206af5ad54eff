/* cmd_watch.c - vigil watch: the service.
 *
 *   vigil watch CONFIG              run until SIGINT or SIGTERM; SIGHUP reloads CONFIG
 *   vigil watch --check CONFIG      validate and describe, start nothing
 *
 * Signals are blocked in every thread and taken here with sigtimedwait, so no handler
 * runs inside the library. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

typedef struct watch_opts {
    const char *config, *stats;
    int check;
    double duration; /* seconds; 0: until a signal */
} watch_opts;

static void help(FILE *f) {
    fprintf(f,
            "usage: vigil watch [--check] CONFIG\n"
            "Watches the cameras CONFIG lists (YAML; annotated example: examples/watch.yaml):\n"
            "events go to the store (DIR/events.db) and the sinks, heat maps to DIR/snapshots,\n"
            "metrics and the events API to HTTP. SIGINT/SIGTERM stop gracefully (open events\n"
            "end and are delivered); SIGHUP reloads CONFIG (an invalid file keeps the old one).\n"
            "  --check           validate CONFIG (models, thresholds, sources) and exit\n"
            "  --duration S      stop after S seconds (benchmarks, tests)\n"
            "  --stats FILE      write the run's figures as JSON at the end (frames, drops,\n"
            "                    latency percentiles, events)\n");
}

static int on_flag(void *opts, const char *a) {
    watch_opts *o = opts;
    if (!strcmp(a, "--check")) return o->check = 1;
    return 0;
}

static int on_config(void *opts, const char *a) {
    watch_opts *o = opts;
    if (o->config) return fprintf(stderr, "vigil: watch: one CONFIG only ('%s' and '%s')\n", o->config, a), 0;
    o->config = a;
    return 1;
}

static int on_option(void *opts, const char *a, const char *v) {
    watch_opts *o = opts;
    if (!strcmp(a, "--duration")) return cli_double(a, v, 0.001, 1e9, &o->duration);
    if (!strcmp(a, "--stats")) return o->stats = v, 1;
    return -1;
}

static void log_line(void *user, const char *line) {
    (void)user;
    time_t now = time(NULL);
    struct tm tm;
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", localtime_r(&now, &tm));
    fprintf(stderr, "vigil: watch: %s %s\n", when, line);
}

static void print_stats(const vg_watch_stats *s, const char *prefix) {
    char latency[96] = "no latency yet";
    if (!isnan(s->latency_p50))
        snprintf(latency, sizeof latency, "latency p50 %.0f ms p95 %.0f ms p99 %.0f ms",
                 1e3 * s->latency_p50, 1e3 * s->latency_p95, 1e3 * s->latency_p99);
    fprintf(stderr, "vigil: watch: %s%d/%d cameras up, %lld frames in, %lld scored, %lld dropped, "
            "%s, %lld events, %lld deliveries owed\n", prefix, s->up, s->cameras, s->frames_in,
            s->scored, s->dropped, latency, s->events, s->owed);
}

static int write_stats(const char *path, const vg_watch_stats *s) {
    FILE *f = fopen(path, "w");
    if (!f) return fprintf(stderr, "vigil: watch: %s: cannot write (%s)\n", path, strerror(errno)), 1;
    fprintf(f, "{\"seconds\": %.3f, \"cameras\": %d, \"frames_in\": %lld, \"scored\": %lld, "
            "\"dropped\": %lld, \"events\": %lld, \"owed\": %lld, \"latency_p50\": %.4f, "
            "\"latency_p95\": %.4f, \"latency_p99\": %.4f, \"latency_max\": %.4f}\n",
            s->seconds, s->cameras, s->frames_in, s->scored, s->dropped, s->events, s->owed,
            s->latency_p50, s->latency_p95, s->latency_p99, s->latency_max);
    return fclose(f) ? (fprintf(stderr, "vigil: watch: %s: cannot write\n", path), 1) : 0;
}

static int check(const char *config) {
    char *summary = NULL;
    vg_error err = {0};
    if (vg_watch_check(config, &summary, &err)) return cli_fail("watch", &err);
    printf("%s: valid\n%s", config, summary ? summary : "");
    free(summary);
    return 0;
}

/* Takes the signals until a stop; a status line every minute (every 10 s on a terminal). */
static void serve(vg_watch *w, const watch_opts *o, sigset_t *set) {
    double start = (double)time(NULL), every = isatty(2) ? 10 : 60, next = start + every;
    for (;;) {
        struct timespec wait = {1, 0};
        int sig = sigtimedwait(set, NULL, &wait);
        double now = (double)time(NULL);
        if (sig == SIGINT || sig == SIGTERM) break;
        if (o->duration > 0 && now - start >= o->duration) break;
        if (sig == SIGHUP) {
            vg_error err = {0};
            if (vg_watch_reload(w, &err))
                fprintf(stderr, "vigil: watch: reload refused, still running the previous "
                        "configuration: %s\n", err.msg);
        }
        if (now >= next) {
            vg_watch_stats s;
            vg_watch_get_stats(w, &s);
            print_stats(&s, "");
            next = now + every;
        }
    }
}

int cmd_watch(int argc, char **argv) {
    watch_opts o = {0};
    static const cli_parser parser = {"watch", help, on_flag, on_config, on_option};
    int rc = cli_parse(&parser, &o, argc, argv);
    if (rc) return rc < 0 ? 0 : rc;
    if (!o.config) return fprintf(stderr, "vigil: watch: no CONFIG (see vigil watch --help)\n"), 2;
    if (o.check) return check(o.config);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT), sigaddset(&set, SIGTERM), sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* before any thread starts: they inherit it */
    vg_watch_params p = vg_watch_default_params();
    p.log = log_line;
    vg_watch *w = NULL;
    vg_error err = {0};
    if (vg_watch_start(o.config, &p, &w, &err)) return cli_fail("watch", &err);
    fprintf(stderr, "vigil: watch: running %s (SIGINT or SIGTERM stops, SIGHUP reloads)\n", o.config);
    serve(w, &o, &set);
    vg_watch_stats s;
    vg_watch_get_stats(w, &s);
    vg_watch_stop(w);
    print_stats(&s, "stopped: ");
    return o.stats ? write_stats(o.stats, &s) : 0;
}
