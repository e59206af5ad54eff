/* schedule.c - training a model on footage: the thesis's schedule (Table 3.1) over a cache of
 * encoder features.
 *
 * Each epoch draws seqs_per_epoch windows of one clip, uniformly over all such windows of
 * the footage, in batches. A window spans T step + 1 consecutive frames, of which the
 * sequence takes every step-th: T inputs and the target. The encoder is frozen, so every
 * frame's features are computed once (with augmentation: once per frame and epoch, one
 * random transform per chunk of aug_chunk consecutive frames, the chunk grid shifted at
 * random each epoch so every window is used across epochs) and the trainer steps on
 * cached features. Draws come from counter-based streams keyed by (seed, epoch, index),
 * so a run resumed from a checkpoint takes exactly the batches it would have taken. */
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/status.h"
#include "train/augment.h"
#include "train/checkpoint.h"
#include "train/footage.h"

#define ENCODE_BATCH 8 /* frames per encoder call while filling the cache */

vg_schedule vg_schedule_default(void) {
    return (vg_schedule){.train = vg_train_default_params(), .epochs = 10,
                           .seqs_per_epoch = 4000, .aug = VG_AUG_NONE, .aug_chunk = 32};
}

typedef struct sched {
    vg_model *m;
    const vg_footage *f;
    const vg_schedule *p;
    vg_model_info info;
    int T, step, span;           /* span: frames from a window's first input to its target */
    long long frames, *first;    /* first[c]: global index of clip c's frame 0 */
    long long fsize[3];          /* feature floats per frame per tap */
    float *cache[3];             /* frames * fsize[k] */
    unsigned char *aug_rgb;      /* the epoch's augmented frames (augmentation only) */
    float *batch[3], *target, *frame_buf;
    size_t img;                  /* 3 * H * W */
} sched;

static const unsigned char *frame_rgb(const sched *ft, int clip, int k) {
    if (ft->aug_rgb) return ft->aug_rgb + (size_t)(ft->first[clip] + k) * ft->img;
    return vg_clip_frame(&ft->f->clips[clip], k);
}

/* ---- the feature cache -------------------------------------------------------------- */

static int encode_frames(sched *ft, long long g0, int n, vg_error *err) {
    float *out[3];
    for (int k = 0; k < 3; k++) out[k] = ft->fsize[k] ? ft->cache[k] + g0 * ft->fsize[k] : NULL;
    return vg_model_encode(ft->m, ft->frame_buf, n, out[0], out[1], out[2], err);
}

/* Encodes every frame (as frame_rgb gives it) into the cache. */
static int fill_cache(sched *ft, int epoch, vg_error *err) {
    int rc = VG_OK, n = 0;
    long long g = 0;
    for (int c = 0; c < ft->f->n && !rc; c++)
        for (int k = 0; k < ft->f->clips[c].frames && !rc; k++, g++) {
            vg_model_frame_from_rgb(ft->m, frame_rgb(ft, c, k), ft->frame_buf + n * ft->img);
            if (++n == ENCODE_BATCH || g + 1 == ft->frames) {
                rc = encode_frames(ft, g + 1 - n, n, err);
                n = 0;
                vg_progress pr = {.stage = "encode", .done = g + 1, .total = ft->frames,
                                  .epoch = epoch + 1, .epochs = ft->p->epochs};
                if (!rc && ft->p->progress && ft->p->progress(&pr, ft->p->user))
                    rc = vg_fail(err, VG_ERR_ABORTED, "training stopped while encoding");
            }
        }
    return rc;
}

/* The chunk grid's offset in epoch e (0 .. aug_chunk-1). */
static int chunk_offset(const sched *ft, int epoch) {
    uint64_t s = vg_seed_for(ft->p->train.seed, "aug.offset");
    return (int)(vg_rand_u64(s, (uint64_t)epoch) % (uint64_t)ft->p->aug_chunk);
}

static void augment_epoch(sched *ft, int epoch) {
    uint64_t seed = vg_seed_for(ft->p->train.seed + (uint64_t)epoch, "aug");
    int K = ft->p->aug_chunk, off = chunk_offset(ft, epoch);
    for (int c = 0; c < ft->f->n; c++) {
        const vg_clip *clip = &ft->f->clips[c];
        for (int k = 0; k < clip->frames; k++) {
            /* chunk ids are global, so no two chunks of the footage share a transform */
            uint64_t chunk = (uint64_t)((ft->first[c] + k + off) / K) + (uint64_t)c;
            vg_aug_transform t = vg_aug_draw(ft->p->aug, seed, chunk);
            vg_aug_apply(&t, vg_clip_frame(clip, k), ft->aug_rgb + (ft->first[c] + k) * ft->img,
                         clip->width, clip->height);
        }
    }
}

/* ---- sampling ------------------------------------------------------------------------- */

/* Windows of span + 1 frames in clip c. */
static long long clip_windows(const sched *ft, int c) {
    long long w = ft->f->clips[c].frames - ft->span;
    return w > 0 ? w : 0;
}

/* Window number i (0 .. total windows - 1) as (clip, start). */
static void window_at(const sched *ft, long long i, int *clip, int *start) {
    int c = 0;
    while (i >= clip_windows(ft, c)) i -= clip_windows(ft, c++);
    *clip = c;
    *start = (int)i;
}

/* Whether a window lies inside one augmentation chunk of the epoch. */
static int inside_chunk(const sched *ft, int epoch, int clip, int start) {
    if (ft->p->aug == VG_AUG_NONE) return 1;
    long long K = ft->p->aug_chunk, g = ft->first[clip] + start + chunk_offset(ft, epoch);
    return g / K == (g + ft->span) / K;
}

/* Draws sequence j of batch b of the epoch; a window crossing a chunk is drawn again from
 * the next numbers of the same stream. */
static void draw_window(const sched *ft, int epoch, long long j, long long windows, int *clip,
                        int *start) {
    uint64_t s = vg_seed_for(ft->p->train.seed + (uint64_t)epoch, "windows");
    for (uint64_t r = 0;; r++) {
        window_at(ft, (long long)(vg_rand_u64(s, (uint64_t)j * 64 + r) % (uint64_t)windows),
                  clip, start);
        if (inside_chunk(ft, epoch, *clip, *start) || r == 63) return;
    }
}

static void gather(sched *ft, int epoch, long long first_seq, long long windows) {
    int B = ft->p->train.batch;
    for (int b = 0; b < B; b++) {
        int clip, start;
        draw_window(ft, epoch, first_seq + b, windows, &clip, &start);
        long long g = ft->first[clip] + start;
        for (int k = 0; k < 3; k++)
            for (int t = 0; ft->fsize[k] && t < ft->T; t++)
                memcpy(ft->batch[k] + ((size_t)b * ft->T + t) * ft->fsize[k],
                       ft->cache[k] + (g + (long long)t * ft->step) * ft->fsize[k],
                       (size_t)ft->fsize[k] * sizeof(float));
        vg_model_frame_from_rgb(ft->m, frame_rgb(ft, clip, start + ft->span),
                                ft->target + (size_t)b * ft->img);
    }
}

/* ---- setup ---------------------------------------------------------------------------- */

static int sched_init(sched *ft, vg_model *m, const vg_footage *f, const vg_schedule *p,
                    long long *windows, vg_error *err) {
    *ft = (sched){.m = m, .f = f, .p = p, .info = vg_model_describe(m)};
    ft->T = ft->info.frames, ft->step = ft->info.step, ft->span = ft->info.context;
    ft->img = (size_t)3 * ft->info.width * ft->info.height;
    if (p->epochs <= 0 || p->seqs_per_epoch <= 0 || p->train.batch <= 0)
        return vg_fail(err, VG_ERR_ARG, "epochs, sequences per epoch and batch must be positive");
    if (p->aug != VG_AUG_NONE && p->aug_chunk < ft->span + 1)
        return vg_fail(err, VG_ERR_ARG, "augmentation chunk %d is shorter than a sequence (%d)",
                       p->aug_chunk, ft->span + 1);
    const vg_clip *c0 = &f->clips[0];
    if (c0->width != ft->info.width || c0->height != ft->info.height)
        return vg_fail(err, VG_ERR_SHAPE, "footage is %dx%d, the model takes %dx%d",
                       c0->width, c0->height, ft->info.width, ft->info.height);
    ft->first = malloc((size_t)f->n * sizeof *ft->first);
    if (!ft->first) return vg_fail(err, VG_ERR_NOMEM, "out of memory for training");
    *windows = 0;
    for (int c = 0; c < f->n; c++) {
        ft->first[c] = ft->frames;
        ft->frames += f->clips[c].frames;
        *windows += clip_windows(ft, c);
    }
    if (*windows == 0)
        return vg_fail(err, VG_ERR_ARG, "no clip has the %d consecutive frames a sequence needs",
                       ft->span + 1);
    vg_model_feature_sizes(m, ft->fsize);
    int B = p->train.batch, ok = 1;
    for (int k = 0; k < 3; k++)
        if (ft->fsize[k]) {
            ft->cache[k] = malloc((size_t)ft->frames * ft->fsize[k] * sizeof(float));
            ft->batch[k] = malloc((size_t)B * ft->T * ft->fsize[k] * sizeof(float));
            ok &= ft->cache[k] && ft->batch[k];
        }
    ft->target = malloc((size_t)B * ft->img * sizeof *ft->target);
    ft->frame_buf = malloc(ENCODE_BATCH * ft->img * sizeof *ft->frame_buf);
    if (p->aug != VG_AUG_NONE) ft->aug_rgb = malloc((size_t)ft->frames * ft->img);
    ok &= ft->target && ft->frame_buf && (p->aug == VG_AUG_NONE || ft->aug_rgb);
    return ok ? VG_OK
              : vg_fail(err, VG_ERR_NOMEM, "out of memory for the feature cache (%lld frames)",
                        ft->frames);
}

static void sched_free(sched *ft) {
    for (int k = 0; k < 3; k++) free(ft->cache[k]), free(ft->batch[k]);
    free(ft->first), free(ft->target), free(ft->frame_buf), free(ft->aug_rgb);
}

/* ---- the loop ------------------------------------------------------------------------- */

static int save(const sched *ft, vg_trainer *t, int epoch, int batch, vg_error *err) {
    if (!ft->p->checkpoint) return VG_OK;
    return vg_checkpoint_save(ft->p->checkpoint, ft->m, t, epoch, batch, err);
}

static int run_epoch(sched *ft, vg_trainer *t, int epoch, int first_batch, long long windows,
                     vg_error *err) {
    int B = ft->p->train.batch, batches = (ft->p->seqs_per_epoch + B - 1) / B, rc = VG_OK;
    double sum = 0;
    for (int b = first_batch; b < batches && !rc; b++) {
        gather(ft, epoch, (long long)b * B, windows);
        float loss;
        rc = vg_trainer_step_features(t, (const float *const *)ft->batch, ft->target, &loss,
                                      err);
        sum += loss;
        vg_progress pr = {.stage = "train", .done = (long long)(b + 1) * B,
                          .total = (long long)batches * B, .epoch = epoch + 1,
                          .epochs = ft->p->epochs, .loss = sum / (b + 1 - first_batch)};
        if (!rc && ft->p->progress && ft->p->progress(&pr, ft->p->user)) {
            rc = save(ft, t, epoch, b + 1, err);
            if (!rc) rc = vg_fail(err, VG_ERR_ABORTED, "training stopped in epoch %d, batch %d "
                                  "(checkpoint saved)", epoch + 1, b + 1);
        }
    }
    return rc ? rc : save(ft, t, epoch + 1, 0, err);
}

int vg_train_footage(vg_model *m, const vg_footage *train, const vg_schedule *p, vg_error *err) {
    sched ft;
    long long windows = 0;
    vg_trainer *t = NULL;
    int rc = sched_init(&ft, m, train, p, &windows, err);
    if (!rc) rc = vg_trainer_create(m, &p->train, &t, err);
    int epoch = 0, batch = 0;
    if (!rc && p->resume) rc = vg_checkpoint_load_state(p->checkpoint, t, &epoch, &batch, err);
    if (!rc && p->aug == VG_AUG_NONE && epoch < p->epochs) rc = fill_cache(&ft, epoch, err);
    for (; !rc && epoch < p->epochs; epoch++, batch = 0) {
        if (p->aug != VG_AUG_NONE) {
            augment_epoch(&ft, epoch);
            rc = fill_cache(&ft, epoch, err);
        }
        if (!rc) rc = run_epoch(&ft, t, epoch, batch, windows, err);
    }
    vg_trainer_free(t);
    sched_free(&ft);
    return rc;
}
