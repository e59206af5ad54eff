/* footage.c - clips decoded once into memory as RGB24 at a model's size.
 *
 * Training samples sequences at random across the whole footage every epoch, so decoding
 * on demand would decode each frame many times; Ped2's 2,550 training frames at 224x288
 * take 490 MB. */
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "train/footage.h"

void vg_footage_free(vg_footage *f) {
    if (!f) return;
    for (int c = 0; c < f->n; c++) {
        free(f->clips[c].name);
        free(f->clips[c].rgb);
    }
    free(f->clips);
    free(f);
}

int vg_footage_clips(const vg_footage *f) { return f->n; }

long long vg_footage_frames(const vg_footage *f) {
    long long n = 0;
    for (int c = 0; c < f->n; c++) n += f->clips[c].frames;
    return n;
}

/* Appends frame to clip, growing its buffer geometrically. */
static int append(vg_clip *clip, const vg_frame *fr, size_t *cap, vg_error *err) {
    size_t size = (size_t)fr->width * fr->height * 3;
    if ((size_t)clip->frames + 1 > *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        unsigned char *p = realloc(clip->rgb, ncap * size);
        if (!p) return vg_fail(err, VG_ERR_NOMEM, "%s: out of memory for frames", clip->name);
        clip->rgb = p;
        *cap = ncap;
    }
    memcpy(clip->rgb + (size_t)clip->frames * size, fr->rgb, size);
    clip->frames++;
    clip->width = fr->width;
    clip->height = fr->height;
    return VG_OK;
}

typedef struct load_state {
    vg_progress_fn progress;
    void *user;
    long long done;
} load_state;

static int load_clip(vg_clip *clip, const vg_source_params *sp, load_state *ls,
                     vg_error *err) {
    vg_source *src = NULL;
    int rc = vg_source_open(clip->name, sp, &src, err);
    size_t cap = 0;
    vg_frame fr;
    while (!rc && (rc = vg_source_read(src, &fr, err)) == VG_OK) {
        rc = append(clip, &fr, &cap, err);
        ls->done++;
        vg_progress p = {.stage = "decode", .done = ls->done};
        if (!rc && ls->progress && ls->progress(&p, ls->user))
            rc = vg_fail(err, VG_ERR_ABORTED, "decoding stopped");
    }
    if (rc == VG_END) rc = VG_OK;
    clip->errors = src ? vg_source_errors(src) : 0;
    vg_source_close(src);
    if (!rc && clip->frames == 0) rc = vg_fail(err, VG_ERR_FORMAT, "%s: no frames", clip->name);
    return rc;
}

static int add_clips(vg_footage *f, const char *path, vg_error *err) {
    char **names = NULL;
    int n = 0;
    int rc = vg_clips_list(path, &names, &n, err);
    if (rc) return rc;
    vg_clip *c = realloc(f->clips, (size_t)(f->n + n) * sizeof *c);
    if (!c) {
        vg_clips_free(names, n);
        return vg_fail(err, VG_ERR_NOMEM, "out of memory listing clips");
    }
    f->clips = c;
    for (int i = 0; i < n; i++) f->clips[f->n++] = (vg_clip){.name = names[i]};
    free(names); /* the strings now belong to the clips */
    return VG_OK;
}

int vg_footage_load(const char *const *paths, int n, const vg_source_params *sp,
                    vg_progress_fn progress, void *user, vg_footage **out, vg_error *err) {
    *out = NULL;
    if (n <= 0) return vg_fail(err, VG_ERR_ARG, "no footage given");
    vg_footage *f = calloc(1, sizeof *f);
    if (!f) return vg_fail(err, VG_ERR_NOMEM, "out of memory for footage");
    int rc = VG_OK;
    for (int i = 0; i < n && !rc; i++) rc = add_clips(f, paths[i], err);
    load_state ls = {progress, user, 0};
    for (int c = 0; c < f->n && !rc; c++) rc = load_clip(&f->clips[c], sp, &ls, err);
    for (int c = 1; c < f->n && !rc; c++)
        if (f->clips[c].width != f->clips[0].width || f->clips[c].height != f->clips[0].height)
            rc = vg_fail(err, VG_ERR_SHAPE, "%s: frames of %dx%d, %s has %dx%d (give --size)",
                         f->clips[c].name, f->clips[c].width, f->clips[c].height,
                         f->clips[0].name, f->clips[0].width, f->clips[0].height);
    if (rc) {
        vg_footage_free(f);
        return rc;
    }
    *out = f;
    return VG_OK;
}
