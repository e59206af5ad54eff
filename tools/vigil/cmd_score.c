/* cmd_score.c - vigil score: per-frame anomaly scores of a video or stream.
 *
 *   vigil score -m MODEL [options] SOURCE
 *
 * Each frame is encoded once and scored against the model's prediction of it from the T
 * frames before (frames 0..T-1 are context and get no score). Output: CSV or JSON Lines
 * per scored frame; optionally heat maps, a timeline plot with the model's normal band
 * from validation, and events (score_events.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "score_events.h"

typedef struct score_opts {
    const char *model, *source, *out, *heatmaps, *timeline;
    int smooth, patch, threads, jsonl, roi[4], has_roi, bf16; /* smooth, patch 0: default */
    score_events_opts events;
} score_opts;

static void help(FILE *f) {
    fprintf(f,
            "usage: vigil score -m MODEL [options] SOURCE\n"
            "Scores every frame of SOURCE (video file, image folder, URL or V4L2 device).\n"
            "  -m MODEL          model file from vigil train\n"
            "  -o FILE           scores (default stdout); .jsonl/.json: JSON Lines, else CSV\n"
            "  --smooth N        causal moving average over N frames (default: the\n"
            "                    calibration's with --events, else 1: none)\n"
            "  --patch N         patch score window in pixels (default: the calibration's with\n"
            "                    --events, else %d)\n"
            "  --heatmaps DIR    write DIR/frame_NNNNNN.png: the frame with its error overlaid\n"
            "  --timeline FILE   write an SVG plot of PSNR over time with the normal band\n"
            "  --roi x,y,w,h     crop (default: the ROI the model was trained with)\n"
            "  --threads N       (default: all cores)\n"
            "  --bf16            score in bfloat16 (AVX512_BF16 CPUs; about 2x faster)\n",
            VG_PATCH_DEFAULT);
    score_events_help(f);
    fprintf(f, "Columns: frame, pts (s), psnr (dB), mse, patch, psnr_smooth, patch_smooth.\n");
}

static int on_flag(void *opts, const char *a) {
    if (strcmp(a, "--bf16")) return 0;
    ((score_opts *)opts)->bf16 = 1;
    return 1;
}

static int on_source(void *opts, const char *a) {
    score_opts *o = opts;
    if (o->source) return fprintf(stderr, "vigil: score: one SOURCE at a time\n"), 0;
    o->source = a;
    return 1;
}

static int on_option(void *opts, const char *a, const char *v) {
    score_opts *o = opts;
    long n = 0;
    int ok = 1;
    if (!strcmp(a, "-m")) o->model = v;
    else if (!strcmp(a, "-o")) o->out = v;
    else if (!strcmp(a, "--heatmaps")) o->heatmaps = v;
    else if (!strcmp(a, "--timeline")) o->timeline = v;
    else if (!strcmp(a, "--smooth")) ok = cli_int(a, v, 1, 10000, &n), o->smooth = (int)n;
    else if (!strcmp(a, "--patch")) ok = cli_int(a, v, 1, 4096, &n), o->patch = (int)n;
    else if (!strcmp(a, "--threads")) ok = cli_int(a, v, 0, 1024, &n), o->threads = (int)n;
    else if (!strcmp(a, "--roi")) ok = cli_roi(a, v, o->roi), o->has_roi = 1;
    else return score_events_option(&o->events, a, v);
    return ok;
}

static int parse(int argc, char **argv, score_opts *o) {
    *o = (score_opts){0};
    score_events_defaults(&o->events);
    static const cli_parser parser = {"score", help, on_flag, on_source, on_option};
    int rc = cli_parse(&parser, o, argc, argv);
    if (rc) return rc;
    if (!o->model) return fprintf(stderr, "vigil: score: -m MODEL is required\n"), 2;
    if (!o->source) return fprintf(stderr, "vigil: score: no SOURCE given\n"), 2;
    if (!o->events.path && o->events.first)
        return fprintf(stderr, "vigil: score: %s applies to events: add --events FILE\n",
                       o->events.first), 2;
    if (o->events.path && !strcmp(o->events.path, "-") && !o->out)
        return fprintf(stderr, "vigil: score: --events -: the scores already go to stdout; "
                       "give -o FILE for them\n"), 2;
    const char *dot = o->out ? strrchr(o->out, '.') : NULL;
    o->jsonl = dot && (!strcmp(dot, ".jsonl") || !strcmp(dot, ".json"));
    o->events.heatmaps = o->heatmaps;
    if (!o->events.camera) o->events.camera = o->source;
    return 0;
}

/* The source parameters the model was trained with, or the ROI asked for. */
static vg_source_params source_params(const vg_model *m, const score_opts *o) {
    vg_source_params sp = vg_model_source_params(m);
    if (o->has_roi)
        sp.roi_x = o->roi[0], sp.roi_y = o->roi[1], sp.roi_w = o->roi[2], sp.roi_h = o->roi[3];
    return sp;
}

/* PSNR over time, kept for the timeline. */
typedef struct series {
    double *t, *psnr, *psnr_s;
    long long n, cap;
} series;

static int series_push(series *s, double t, double psnr, double psnr_s) {
    if (s->n == s->cap) {
        long long cap = s->cap ? 2 * s->cap : 1024;
        double **cols[] = {&s->t, &s->psnr, &s->psnr_s};
        for (size_t k = 0; k < 3; k++) {
            double *p = realloc(*cols[k], (size_t)cap * sizeof *p);
            if (!p) return 0;
            *cols[k] = p;
        }
        s->cap = cap;
    }
    s->t[s->n] = t, s->psnr[s->n] = psnr, s->psnr_s[s->n] = psnr_s;
    s->n++;
    return 1;
}

static void series_free(series *s) { free(s->t), free(s->psnr), free(s->psnr_s); }

static void write_row(FILE *f, const score_opts *o, const vg_frame *fr, const vg_score *sc,
                      double ps, double pa) {
    if (o->jsonl)
        fprintf(f, "{\"frame\":%lld,\"pts\":%.6f,\"psnr\":%.4f,\"mse\":%.8g,\"patch\":%.8g,"
                   "\"psnr_smooth\":%.4f,\"patch_smooth\":%.8g}\n",
                fr->index, fr->pts, sc->psnr, sc->mse, sc->patch, ps, pa);
    else
        fprintf(f, "%lld,%.6f,%.4f,%.8g,%.8g,%.4f,%.8g\n", fr->index, fr->pts, sc->psnr,
                sc->mse, sc->patch, ps, pa);
}

/* The validation band of PSNR (0.5th .. 99.5th percentile) from the model, if any. */
static int psnr_band(const vg_model *m, double *lo, double *hi) {
    static const char *const p_lo[] = {"psnr", "percentiles", "0.5"};
    static const char *const p_hi[] = {"psnr", "percentiles", "99.5"};
    return vg_model_meta_number(m, "validation", p_lo, 3, lo) &&
           vg_model_meta_number(m, "validation", p_hi, 3, hi);
}

static int write_timeline(const score_opts *o, int smooth, const vg_model *m, const series *s,
                          vg_error *err) {
    vg_timeline tl = {.title = o->source, .ylabel = "PSNR dB", .t = s->t, .score = s->psnr,
                      .smooth = smooth > 1 ? s->psnr_s : NULL, .n = (int)s->n,
                      .higher_is_normal = 1};
    psnr_band(m, &tl.band_lo, &tl.band_hi);
    return vg_timeline_svg(o->timeline, &tl, err);
}

typedef struct scoring {
    const score_opts *o;
    int patch, smooth;            /* as given, or the threshold's (score_events_open) */
    vg_model *m;
    vg_source *src;
    vg_scorer *sc;
    vg_smoother *psnr_s, *patch_s;
    score_events *events;         /* NULL without --events */
    FILE *out;
    float *emap;
    series s;
} scoring;

static int score_frame(scoring *st, const vg_frame *fr, vg_error *err) {
    vg_score sc;
    int scored = 0;
    int rc = vg_scorer_push(st->sc, fr->rgb, &sc, st->emap, NULL, &scored, err);
    if (!rc && st->events) rc = score_events_frame(st->events, fr, scored ? &sc : NULL, err);
    if (rc || !scored) return rc;
    double ps = vg_smoother_push(st->psnr_s, sc.psnr), pa = vg_smoother_push(st->patch_s, sc.patch);
    if (!series_push(&st->s, fr->pts, sc.psnr, ps))
        return cli_set_error(err, VG_ERR_NOMEM, "out of memory for scores");
    write_row(st->out, st->o, fr, &sc, ps, pa);
    if (!st->o->heatmaps) return VG_OK;
    char path[4096];
    score_heatmap_path(path, sizeof path, st->o->heatmaps, fr->index);
    /* 0.02 mean squared error (about 17 dB) is drawn fully opaque */
    return vg_heatmap_png(path, fr->rgb, st->emap, fr->width, fr->height, 0.02f, err);
}

/* Every frame of the source. A read that fails mid-stream is a signal_lost event before it
 * is the command's error. */
static int score_all(scoring *st, vg_error *err) {
    vg_frame fr;
    while (!cli_interrupted()) {
        int rc = vg_source_read(st->src, &fr, err);
        if (rc == VG_END) return VG_OK;
        if (rc && st->events) {
            vg_error ignored; /* the read failure is the error to report */
            score_events_lost(st->events, &ignored);
        }
        if (!rc) rc = score_frame(st, &fr, err);
        if (rc) return rc;
    }
    return VG_OK;
}

/* The model, the source, the events (which may set the patch window and smoothing), then
 * the scorer and smoothers. */
static int open_all(scoring *st, vg_source_params *sp, vg_error *err) {
    const score_opts *o = st->o;
    st->patch = o->patch, st->smooth = o->smooth;
    int rc = vg_model_load(o->model, o->threads, &st->m, err);
    if (!rc && o->bf16) rc = vg_model_set_bf16(st->m, 1, err);
    if (rc) return rc;
    *sp = source_params(st->m, o);
    rc = vg_source_open(o->source, sp, &st->src, err);
    if (!rc && o->events.path)
        rc = score_events_open(&o->events, st->m, vg_source_fps(st->src), &st->patch,
                               &st->smooth, &st->events, err);
    if (!st->patch) st->patch = VG_PATCH_DEFAULT;
    if (!st->smooth) st->smooth = 1;
    if (!rc) rc = vg_scorer_create(st->m, st->patch, &st->sc, err);
    if (!rc) rc = vg_smoother_create(st->smooth, &st->psnr_s, err);
    if (!rc) rc = vg_smoother_create(st->smooth, &st->patch_s, err);
    return rc;
}

static int run(scoring *st, vg_error *err) {
    const score_opts *o = st->o;
    vg_source_params sp;
    int rc = open_all(st, &sp, err);
    if (!rc && !(st->emap = malloc((size_t)sp.width * sp.height * sizeof *st->emap)))
        rc = cli_set_error(err, VG_ERR_NOMEM, "out of memory for the error map");
    if (!rc && o->heatmaps) rc = cli_make_dir(o->heatmaps, err);
    if (!rc && !o->jsonl) fprintf(st->out, "frame,pts,psnr,mse,patch,psnr_smooth,patch_smooth\n");
    if (!rc) rc = score_all(st, err);
    if (!rc && vg_source_errors(st->src))
        fprintf(stderr, "vigil: score: %s: %lld frames could not be decoded and were skipped\n",
                o->source, vg_source_errors(st->src));
    if (!rc && o->timeline && st->s.n) rc = write_timeline(o, st->smooth, st->m, &st->s, err);
    return rc;
}

int cmd_score(int argc, char **argv) {
    score_opts o;
    int rc = parse(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    scoring st = {.o = &o, .out = stdout};
    if (o.out && !(st.out = fopen(o.out, "w"))) {
        fprintf(stderr, "vigil: score: %s: cannot write (%s)\n", o.out, strerror(errno));
        return 1;
    }
    cli_catch_interrupt();
    vg_error err = {0};
    rc = run(&st, &err);
    if (st.out != stdout && fclose(st.out) && !rc)
        rc = cli_set_error(&err, VG_ERR_IO, "%s: cannot write (%s)", o.out, strerror(errno));
    else if (st.out == stdout) fflush(stdout);
    vg_error end_err = {0}; /* ending the events writes their END lines, even after a failure */
    int end_rc = score_events_close(st.events, &end_err);
    if (end_rc && !rc) rc = end_rc, err = end_err;
    vg_smoother_free(st.psnr_s);
    vg_smoother_free(st.patch_s);
    vg_scorer_free(st.sc);
    vg_source_close(st.src);
    vg_model_free(st.m);
    free(st.emap);
    series_free(&st.s);
    if (rc) return cli_fail("score", &err);
    if (cli_interrupted()) fprintf(stderr, "vigil: score: stopped after %lld scored frames\n", st.s.n);
    return 0;
}
