/* cmd_bench.c - `vigil bench`: streaming inference and cached-feature training speed.
 *
 * Each phase runs in a child process so that its peak RSS is its own (wait4 reports it).
 * Weights are random: speed does not depend on them. bench/run puts these numbers beside
 * PyTorch's for the same model in the same invocation. */
#define _DEFAULT_SOURCE /* wait4 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* FMA peaks of the dev machine, 2 threads (SYSTEM.md "Performance") */
#define FMA_PEAK_GFLOPS 447.0
#define BF16_PEAK_GFLOPS 888.0

typedef struct bench_opts {
    vg_model_params model;
    double seconds;
    int json;
    int bf16; /* compute in bf16 */
    char phases[64];
} bench_opts;

typedef struct result {
    double rate, p50_ms, p95_ms, flops_per_item, rss_mb;
} result;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void fill_random(float *x, size_t n, unsigned *state) {
    for (size_t i = 0; i < n; i++) {
        *state = *state * 1664525u + 1013904223u;
        x[i] = (float)(*state >> 8) / 16777216.0f * 2 - 1;
    }
}

static int fail(const vg_error *err) {
    fprintf(stderr, "vigil: bench: %s\n", err->msg);
    return 1;
}

static int phase_stream(const bench_opts *o, result *r) {
    vg_error err = {0};
    vg_model *m = NULL;
    vg_stream *s = NULL;
    if (vg_model_create(&o->model, &m, &err) || vg_model_set_bf16(m, o->bf16, &err) ||
        vg_stream_create(m, &s, &err))
        return fail(&err);
    size_t img = (size_t)3 * o->model.width * o->model.height;
    float *frame = malloc(img * sizeof *frame), *pred = malloc(img * sizeof *pred);
    size_t cap = 100000, n = 0;
    double *lat = malloc(cap * sizeof *lat);
    unsigned st = 1;
    fill_random(frame, img, &st);
    int ready, rc = 0;
    for (int i = 0; i < o->model.frames + 3 && !rc; i++) /* warm-up: plans and caches */
        rc = vg_stream_push(s, frame, pred, &ready, &err);
    double t0 = now();
    while (!rc && n < cap && now() - t0 < o->seconds) {
        double t = now();
        rc = vg_stream_push(s, frame, pred, &ready, &err);
        lat[n++] = (now() - t) * 1e3;
    }
    double total = now() - t0, train;
    if (!rc) {
        qsort(lat, n, sizeof *lat, cmp_double);
        r->rate = n / total;
        r->p50_ms = lat[n / 2];
        r->p95_ms = lat[(size_t)(n * 0.95)];
        vg_model_flops(m, &r->flops_per_item, &train);
    }
    free(frame), free(pred), free(lat);
    vg_stream_free(s);
    vg_model_free(m);
    return rc ? fail(&err) : 0;
}

/* One batch of random windows from a pool of cached features. */
static void gather(float *const batch[3], float *const pool[3], const long long sz[3], int B,
                   int T, int pool_n, unsigned *st) {
    for (int b = 0; b < B; b++) {
        *st = *st * 1664525u + 1013904223u;
        int start = (int)((*st >> 8) % (unsigned)(pool_n - T));
        for (int k = 0; k < 3; k++)
            if (sz[k])
                memcpy(batch[k] + (size_t)b * T * sz[k], pool[k] + (size_t)start * sz[k],
                       (size_t)T * sz[k] * sizeof(float));
    }
}

static int phase_train(const bench_opts *o, int B, result *r) {
    vg_error err = {0};
    vg_model *m = NULL;
    vg_trainer *t = NULL;
    vg_train_params tp = vg_train_default_params();
    tp.batch = B;
    tp.bf16 = o->bf16;
    if (vg_model_create(&o->model, &m, &err) || vg_trainer_create(m, &tp, &t, &err))
        return fail(&err);
    const int pool_n = 40, T = o->model.frames;
    long long sz[3];
    vg_model_feature_sizes(m, sz);
    float *pool[3] = {0}, *batch[3] = {0};
    unsigned st = 7;
    for (int k = 0; k < 3; k++)
        if (sz[k]) {
            pool[k] = malloc((size_t)pool_n * sz[k] * sizeof(float));
            batch[k] = malloc((size_t)B * T * sz[k] * sizeof(float));
            fill_random(pool[k], (size_t)pool_n * sz[k], &st);
        }
    size_t img = (size_t)3 * o->model.width * o->model.height;
    float *target = malloc((size_t)B * img * sizeof *target), loss;
    fill_random(target, (size_t)B * img, &st);
    int rc = 0, steps = 0;
    for (int i = 0; i < 2 && !rc; i++) { /* warm-up */
        gather(batch, pool, sz, B, T, pool_n, &st);
        rc = vg_trainer_step_features(t, (const float *const *)batch, target, &loss, &err);
    }
    double t0 = now();
    while (!rc && (now() - t0 < o->seconds || steps < 3)) {
        gather(batch, pool, sz, B, T, pool_n, &st);
        rc = vg_trainer_step_features(t, (const float *const *)batch, target, &loss, &err);
        steps++;
    }
    double total = now() - t0, stream;
    if (!rc) {
        r->rate = steps * B / total;
        r->p50_ms = total / steps * 1e3;
        r->p95_ms = 0;
        vg_model_flops(m, &stream, &r->flops_per_item);
    }
    for (int k = 0; k < 3; k++) free(pool[k]), free(batch[k]);
    free(target);
    vg_trainer_free(t);
    vg_model_free(m);
    return rc ? fail(&err) : 0;
}

/* Runs one phase in a child; its result comes back through a pipe, its RSS from wait4. */
static int run_phase(const bench_opts *o, const char *phase, result *r) {
    int fd[2];
    if (pipe(fd)) return 1;
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        result mine = {0};
        int rc = !strcmp(phase, "stream") ? phase_stream(o, &mine)
                                          : phase_train(o, atoi(phase + 5), &mine);
        if (!rc && write(fd[1], &mine, sizeof mine) != (ssize_t)sizeof mine) rc = 1;
        _exit(rc);
    }
    close(fd[1]);
    ssize_t got = pid > 0 ? read(fd[0], r, sizeof *r) : -1;
    close(fd[0]);
    int status = 1;
    struct rusage ru;
    if (pid > 0 && wait4(pid, &status, 0, &ru) == pid) r->rss_mb = ru.ru_maxrss / 1024.0;
    return got == (ssize_t)sizeof *r && WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : 1;
}

static void print_result(const bench_opts *o, const char *phase, const result *r, int first) {
    double gflops = r->rate * r->flops_per_item * 1e-9;
    int stream = !strcmp(phase, "stream"), bf16 = o->bf16;
    double peak = bf16 ? BF16_PEAK_GFLOPS : FMA_PEAK_GFLOPS;
    if (o->json) {
        printf("%s\"%s\":{\"rate\":%.3f,\"p50_ms\":%.3f,\"p95_ms\":%.3f,\"gflop_per_item\":%.4f,"
               "\"gflops\":%.1f,\"peak_pct\":%.1f,\"rss_mb\":%.1f}",
               first ? "" : ",", phase, r->rate, r->p50_ms, r->p95_ms, r->flops_per_item * 1e-9,
               gflops, 100 * gflops / peak, r->rss_mb);
        return;
    }
    printf("%-8s %8.1f %-7s  p50 %7.2f ms  p95 %7.2f ms  %6.2f GFLOP/item  %6.1f GFLOP/s "
           "(%4.1f%% of %s peak)  peak RSS %6.0f MB\n",
           phase, r->rate, stream ? "fps" : "seq/s", r->p50_ms, r->p95_ms,
           r->flops_per_item * 1e-9, gflops, 100 * gflops / peak, bf16 ? "bf16" : "fp32",
           r->rss_mb);
}

static void help(FILE *f) {
    fprintf(f, "usage: vigil bench [--encoder resnet18|mobilenet_v2] [--variant base|skiptwice|...]\n"
               "                   [--size N] [--frames T] [--threads N] [--seconds S]\n"
               "                   [--phases stream,train32,train8] [--bf16] [--json]\n"
               "Streaming inference (one new frame per call, each frame encoded once) and\n"
               "training from cached encoder features, random weights, H = W = size.\n"
               "--bf16: compute in bfloat16 (float32 accumulation; training keeps float32\n"
               "weights and Adam).\n");
}

static int on_flag(void *opts, const char *a) {
    bench_opts *o = opts;
    if (!strcmp(a, "--json")) return o->json = 1;
    if (!strcmp(a, "--bf16")) return o->bf16 = 1;
    return 0;
}

static int on_option(void *opts, const char *a, const char *v) {
    bench_opts *o = opts;
    long n = 0;
    int ok = 1;
    if (!strcmp(a, "--encoder")) o->model.encoder = v;
    else if (!strcmp(a, "--variant")) o->model.variant = v;
    else if (!strcmp(a, "--phases")) snprintf(o->phases, sizeof o->phases, "%s", v);
    else if (!strcmp(a, "--size")) ok = cli_int(a, v, 32, 4096, &n), o->model.width = o->model.height = (int)n;
    else if (!strcmp(a, "--frames")) ok = cli_int(a, v, 1, 64, &n), o->model.frames = (int)n;
    else if (!strcmp(a, "--threads")) ok = cli_int(a, v, 0, 1024, &n), o->model.threads = (int)n;
    else if (!strcmp(a, "--seconds")) ok = cli_int(a, v, 1, 3600, &n), o->seconds = (double)n;
    else return -1;
    return ok;
}

/* Returns 0, 2 on a bad option, -1 after --help. */
static int parse(int argc, char **argv, bench_opts *o) {
    o->model = vg_model_default_params();
    o->model.threads = 2;
    o->seconds = 5;
    snprintf(o->phases, sizeof o->phases, "stream,train32,train8");
    static const cli_parser parser = {"bench", help, on_flag, NULL, on_option};
    return cli_parse(&parser, o, argc, argv);
}

int cmd_bench(int argc, char **argv) {
    bench_opts o;
    int rc = parse(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    vg_model *probe = NULL;
    vg_error err = {0};
    if (vg_model_create(&o.model, &probe, &err)) return fail(&err); /* options check */
    vg_model_free(probe);
    if (o.json) printf("{\"encoder\":\"%s\",\"variant\":\"%s\",\"size\":%d,\"threads\":%d,",
                       o.model.encoder, o.model.variant, o.model.width, o.model.threads);
    else printf("vigil bench: %s %s %dx%d, T=%d, %d threads, random weights\n", o.model.encoder,
                o.model.variant, o.model.width, o.model.height, o.model.frames, o.model.threads);
    int first = 1;
    char phases[64];
    snprintf(phases, sizeof phases, "%s", o.phases);
    for (char *save = NULL, *p = strtok_r(phases, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        if (strcmp(p, "stream") && strcmp(p, "train32") && strcmp(p, "train8")) {
            fprintf(stderr, "vigil: bench: unknown phase '%s' (stream, train32, train8)\n", p);
            return 2;
        }
        result r = {0};
        fflush(stdout);
        if (run_phase(&o, p, &r)) {
            fprintf(stderr, "vigil: bench: phase %s failed\n", p);
            return 1;
        }
        print_result(&o, p, &r, first);
        first = 0;
        fflush(stdout);
    }
    if (o.json) printf("}\n");
    return 0;
}
