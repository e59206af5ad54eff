/* validate.c - the normal score distribution of held-out footage, kept in the model file
 * so that scoring can show the normal band and calibration can start from it. */
#include <cjson/cJSON.h>
#include <stdlib.h>

#include "core/stats.h"
#include "core/status.h"
#include "train/footage.h"

/* Scores every frame of every clip after its first T. */
static int score_all(vg_model *m, const vg_footage *f, int patch, double *psnr, double *pscore,
                     long long *n, vg_progress_fn progress, void *user, vg_error *err) {
    vg_scorer *s = NULL;
    int rc = vg_scorer_create(m, patch, &s, err);
    long long done = 0, total = vg_footage_frames(f);
    *n = 0;
    for (int c = 0; c < f->n && !rc; c++) {
        vg_scorer_reset(s);
        for (int k = 0; k < f->clips[c].frames && !rc; k++) {
            vg_score sc;
            int scored = 0;
            rc = vg_scorer_push(s, vg_clip_frame(&f->clips[c], k), &sc, NULL, NULL, &scored,
                                err);
            if (!rc && scored) psnr[*n] = sc.psnr, pscore[(*n)++] = sc.patch;
            vg_progress pr = {.stage = "validate", .done = ++done, .total = total};
            if (!rc && progress && progress(&pr, user))
                rc = vg_fail(err, VG_ERR_ABORTED, "validation stopped");
        }
    }
    vg_scorer_free(s);
    return rc;
}

int vg_validate(vg_model *m, const vg_footage *val, int patch, vg_progress_fn progress,
                void *user, vg_error *err) {
    long long total = vg_footage_frames(val), n = 0;
    double *psnr = malloc((size_t)total * sizeof *psnr);
    double *pscore = malloc((size_t)total * sizeof *pscore);
    int rc = psnr && pscore ? VG_OK : vg_fail(err, VG_ERR_NOMEM, "out of memory for scores");
    if (!rc) rc = score_all(m, val, patch, psnr, pscore, &n, progress, user, err);
    if (!rc && n == 0)
        rc = vg_fail(err, VG_ERR_ARG, "validation footage has no clip longer than %d frames",
                     vg_model_describe(m).context);
    if (!rc) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "frames", (double)n);
        cJSON_AddNumberToObject(o, "patch", patch);
        cJSON_AddItemToObject(o, "psnr", vg_distribution_json(psnr, n));
        cJSON_AddItemToObject(o, "patch_score", vg_distribution_json(pscore, n));
        char *s = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        rc = s ? vg_model_set_meta(m, "validation", s, err)
               : vg_fail(err, VG_ERR_NOMEM, "out of memory for validation statistics");
        free(s);
    }
    free(psnr);
    free(pscore);
    return rc;
}
