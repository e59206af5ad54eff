/* cmd_demo.c - vigil demo: the whole job on a synthetic conveyor belt, with no input.
 *
 * Renders normal footage (six clips), held-out normal footage and a test clip with four
 * known anomalies (demo_scene.h) as PNG folders, trains a model on the normal clips,
 * learns the normal score range from the held-out clip, scores the test clip and reports
 * which anomalies were caught and how many frames were false alarms. Heat maps of the
 * flagged frames and a score timeline show the result. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "demo_scene.h"

#define NORMAL_CLIPS 6
#define NORMAL_FRAMES 240
#define TEST_FRAMES 400

typedef struct demo_opts {
    const char *dir;
    vg_model_params model;
    vg_schedule sched;
    int fp32; /* no bf16 even where the CPU has it */
} demo_opts;

static void help(FILE *f) {
    fprintf(f,
            "usage: vigil demo [--out DIR] [--size WxH] [--epochs N] [--seqs-per-epoch N]\n"
            "                  [--encoder NAME --weights FILE] [--threads N] [--fp32]\n"
            "Renders a synthetic conveyor belt (normal clips, a held-out clip and a test clip\n"
            "with a foreign object, a fallen box, a stopped belt and a lighting drop),\n"
            "trains on the normal clips, scores the test clip and reports what was caught.\n"
            "Everything goes to DIR (default vigil-demo): footage/, model.safetensors,\n"
            "scores.csv, timeline.svg and heatmaps/ of the flagged frames.\n"
            "Defaults: unet encoder (no pretrained weights), 128x128, 5 epochs x 800\n"
            "sequences, bf16 where the CPU has AVX512_BF16 (--fp32: never).\n");
}

static int on_flag(void *opts, const char *a) {
    if (strcmp(a, "--fp32")) return 0;
    ((demo_opts *)opts)->fp32 = 1;
    return 1;
}

static int on_option(void *opts, const char *a, const char *v) {
    demo_opts *o = opts;
    long n = 0;
    int ok = 1;
    if (!strcmp(a, "--out")) o->dir = v;
    else if (!strcmp(a, "--size")) ok = cli_size(a, v, &o->model.width, &o->model.height);
    else if (!strcmp(a, "--epochs")) ok = cli_int(a, v, 1, 1000, &n), o->sched.epochs = (int)n;
    else if (!strcmp(a, "--seqs-per-epoch"))
        ok = cli_int(a, v, 1, 1000000, &n), o->sched.seqs_per_epoch = (int)n;
    else if (!strcmp(a, "--encoder")) o->model.encoder = v;
    else if (!strcmp(a, "--weights")) o->model.encoder_weights = v;
    else if (!strcmp(a, "--threads")) ok = cli_int(a, v, 0, 1024, &n), o->model.threads = (int)n;
    else return -1;
    return ok;
}

static int parse(int argc, char **argv, demo_opts *o) {
    *o = (demo_opts){.dir = "vigil-demo", .model = vg_model_default_params(),
                     .sched = vg_schedule_default()};
    o->model.encoder = "unet";
    o->model.width = o->model.height = 128;
    o->sched.epochs = 5;
    o->sched.seqs_per_epoch = 800;
    o->sched.train.batch = 16;
    static const cli_parser parser = {"demo", help, on_flag, NULL, on_option};
    return cli_parse(&parser, o, argc, argv);
}

/* ---- footage ------------------------------------------------------------------------- */

static const demo_event TEST_EVENTS[] = {
    {DEMO_FOREIGN, 40, 110}, /* enters at the left edge, leaves at the right */
    {DEMO_FALLEN, 150, 190},
    {DEMO_STOPPED, 230, 270},
    {DEMO_DARK, 320, 350},
};
#define N_EVENTS (int)(sizeof TEST_EVENTS / sizeof *TEST_EVENTS)

static int write_clip(const char *dir, const demo_scene *s, int frames, unsigned char *rgb,
                      vg_error *err) {
    char path[4096];
    int rc = cli_make_dir(dir, err);
    for (int f = 0; f < frames && !rc; f++) {
        demo_render(s, f, rgb);
        if (snprintf(path, sizeof path, "%s/%04d.png", dir, f) >= (int)sizeof path)
            return cli_set_error(err, VG_ERR_ARG, "%s: path too long", dir);
        rc = vg_png_write(path, rgb, s->width, s->height, err);
    }
    return rc;
}

static int write_footage(const demo_opts *o, vg_error *err) {
    char path[4096];
    int W = o->model.width, H = o->model.height;
    unsigned char *rgb = malloc((size_t)W * H * 3);
    if (!rgb) return cli_set_error(err, VG_ERR_NOMEM, "out of memory for frames");
    snprintf(path, sizeof path, "%s/footage", o->dir);
    int rc = cli_make_dir(o->dir, err);
    if (!rc) rc = cli_make_dir(path, err);
    snprintf(path, sizeof path, "%s/footage/normal", o->dir);
    if (!rc) rc = cli_make_dir(path, err);
    for (int c = 0; c < NORMAL_CLIPS && !rc; c++) {
        demo_scene s = {W, H, 100 + (uint64_t)c, NULL, 0};
        snprintf(path, sizeof path, "%s/footage/normal/clip%02d", o->dir, c + 1);
        rc = write_clip(path, &s, NORMAL_FRAMES, rgb, err);
    }
    demo_scene val = {W, H, 200, NULL, 0}, test = {W, H, 300, TEST_EVENTS, N_EVENTS};
    snprintf(path, sizeof path, "%s/footage/heldout", o->dir);
    if (!rc) rc = write_clip(path, &val, NORMAL_FRAMES, rgb, err);
    snprintf(path, sizeof path, "%s/footage/test", o->dir);
    if (!rc) rc = write_clip(path, &test, TEST_FRAMES, rgb, err);
    free(rgb);
    return rc;
}

/* ---- model --------------------------------------------------------------------------- */

static int load(const demo_opts *o, const char *sub, cli_progress *bar, vg_footage **out,
                vg_error *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/footage/%s", o->dir, sub);
    const char *paths[1] = {path};
    vg_source_params sp = vg_source_default_params();
    int rc = vg_footage_load(paths, 1, &sp, cli_progress_cb, bar, out, err);
    cli_progress_end(bar);
    return rc;
}

static int train(const demo_opts *o, vg_model **m, cli_progress *bar, vg_error *err) {
    vg_footage *normal = NULL, *heldout = NULL;
    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors", o->dir);
    vg_schedule sched = o->sched;
    sched.progress = cli_progress_cb;
    sched.user = bar;
    int rc = vg_model_create(&o->model, m, err);
    /* bf16 where the CPU has it, unless asked for float32: the demo should be quick */
    if (!rc && !o->fp32) {
        vg_error probe = {0};
        sched.train.bf16 = vg_model_set_bf16(*m, 1, &probe) == VG_OK;
    }
    if (!rc) rc = load(o, "normal", bar, &normal, err);
    if (!rc) rc = load(o, "heldout", bar, &heldout, err);
    if (!rc) rc = vg_train_footage(*m, normal, &sched, err);
    cli_progress_end(bar);
    if (!rc) rc = vg_validate(*m, heldout, VG_PATCH_DEFAULT, cli_progress_cb, bar, err);
    cli_progress_end(bar);
    if (!rc) rc = vg_model_save(*m, path, err);
    vg_footage_free(normal);
    vg_footage_free(heldout);
    return rc;
}

/* The decision threshold: the largest patch score of the held-out normal clip, so that
 * normal footage like it raises no alarm. */
static double threshold(const vg_model *m) {
    static const char *const path[] = {"patch_score", "max"};
    double t = 0;
    vg_model_meta_number(m, "validation", path, 2, &t);
    return t;
}

/* ---- scoring ------------------------------------------------------------------------- */

typedef struct outcome {
    double *patch;        /* per test frame, NaN for the model's context */
    unsigned char *truth; /* per test frame */
    int first_hit[N_EVENTS];
    int false_frames, normal_frames;
} outcome;

/* The event frame f belongs to, or -1. The context frames after an event's end count as
 * its own: the model predicts them from frames that still show it (the return to normal
 * is itself a change), so an alarm there is not a false one. */
static int event_of(int f, int context) {
    for (int e = 0; e < N_EVENTS; e++)
        if (f >= TEST_EVENTS[e].first && f <= TEST_EVENTS[e].last + context) return e;
    return -1;
}

static int score_test(const demo_opts *o, vg_model *m, double thr, outcome *out,
                      vg_error *err) {
    char path[4096];
    int W = o->model.width, H = o->model.height;
    demo_scene test = {W, H, 300, TEST_EVENTS, N_EVENTS};
    unsigned char *rgb = malloc((size_t)W * H * 3);
    float *emap = malloc((size_t)W * H * sizeof *emap);
    vg_scorer *sc = NULL;
    int context = vg_model_describe(m).context;
    int rc = rgb && emap ? vg_scorer_create(m, VG_PATCH_DEFAULT, &sc, err)
                         : cli_set_error(err, VG_ERR_NOMEM, "out of memory for scoring");
    snprintf(path, sizeof path, "%s/heatmaps", o->dir);
    if (!rc) rc = cli_make_dir(path, err);
    for (int e = 0; e < N_EVENTS; e++) out->first_hit[e] = -1;
    for (int f = 0; f < TEST_FRAMES && !rc; f++) {
        vg_score s;
        int scored = 0;
        demo_render(&test, f, rgb);
        rc = vg_scorer_push(sc, rgb, &s, emap, NULL, &scored, err);
        int e = event_of(f, context);
        out->truth[f] = e >= 0 && f <= TEST_EVENTS[e].last;
        out->patch[f] = scored ? s.patch : 0.0 / 0.0;
        if (rc || !scored) continue;
        int flagged = s.patch > thr;
        if (e < 0) out->normal_frames++, out->false_frames += flagged;
        if (!flagged) continue;
        if (e >= 0 && out->first_hit[e] < 0) out->first_hit[e] = f;
        snprintf(path, sizeof path, "%s/heatmaps/%04d.png", o->dir, f);
        rc = vg_heatmap_png(path, rgb, emap, W, H, 0, err);
    }
    vg_scorer_free(sc);
    free(rgb);
    free(emap);
    return rc;
}

static int write_timeline(const demo_opts *o, const outcome *out, double thr, vg_error *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/timeline.svg", o->dir);
    vg_timeline tl = {.title = "vigil demo: test clip (red: injected anomalies)",
                      .ylabel = "patch score", .score = out->patch, .n = TEST_FRAMES,
                      .threshold = thr, .has_threshold = 1, .truth = out->truth};
    return vg_timeline_svg(path, &tl, err);
}

static void report(const demo_opts *o, const outcome *out, double thr, double secs) {
    printf("\nvigil demo: test clip of %d frames, threshold %.5f (patch score; the held-out\n"
           "normal clip's maximum)\n\n", TEST_FRAMES, thr);
    printf("  %-16s %-11s %s\n", "anomaly", "frames", "result");
    int caught = 0;
    for (int e = 0; e < N_EVENTS; e++) {
        const demo_event *ev = &TEST_EVENTS[e];
        char frames[32];
        snprintf(frames, sizeof frames, "%d-%d", ev->first, ev->last);
        if (out->first_hit[e] >= 0) {
            caught++;
            int late = out->first_hit[e] - ev->first;
            printf("  %-16s %-11s caught, %d frame%s after it began\n",
                   demo_anomaly_name(ev->kind), frames, late, late == 1 ? "" : "s");
        } else {
            printf("  %-16s %-11s missed\n", demo_anomaly_name(ev->kind), frames);
        }
    }
    printf("\n  caught %d of %d anomalies; false alarms on %d of %d normal frames (the T\n"
           "  frames after an anomaly, predicted from frames showing it, count as its own)\n",
           caught, N_EVENTS, out->false_frames, out->normal_frames);
    printf("  %s/heatmaps: flagged frames with their error; %s/timeline.svg: the scores\n",
           o->dir, o->dir);
    printf("  total time %.0f s\n", secs);
}

int cmd_demo(int argc, char **argv) {
    demo_opts o;
    int rc = parse(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    cli_progress bar;
    cli_progress_init(&bar);
    cli_catch_interrupt();
    vg_error err = {0};
    vg_model *m = NULL;
    double patch[TEST_FRAMES];
    unsigned char truth[TEST_FRAMES];
    outcome out = {.patch = patch, .truth = truth};
    fprintf(stderr, "vigil demo: rendering the conveyor belt into %s/footage\n", o.dir);
    rc = write_footage(&o, &err);
    if (!rc) rc = train(&o, &m, &bar, &err);
    double thr = m ? threshold(m) : 0;
    if (!rc) rc = score_test(&o, m, thr, &out, &err);
    if (!rc) rc = write_timeline(&o, &out, thr, &err);
    vg_model_free(m);
    if (rc) return cli_fail("demo", &err);
    report(&o, &out, thr, cli_now() - bar.t0);
    return 0;
}
