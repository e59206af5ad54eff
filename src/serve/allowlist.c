/* allowlist.c - embeddings kept unit-length, so that cosine distance is 1 - a dot
 * product; a linear scan, since a camera's list holds at most a few thousand. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "serve/allowlist.h"

struct vg_allowlist {
    pthread_mutex_t lock;
    int dim, n, next; /* next: the slot to overwrite once full */
    double radius;
    float *v;         /* VG_ALLOWLIST_MAX x dim, unit vectors */
};

int vg_allowlist_create(int dim, double radius, vg_allowlist **out, vg_error *err) {
    *out = NULL;
    if (dim < 1 || !(radius >= 0 && radius <= 2))
        return vg_fail(err, VG_ERR_ARG, "allowlist: dimension %d or radius %g out of range", dim, radius);
    vg_allowlist *a = calloc(1, sizeof *a);
    if (!a || !(a->v = malloc((size_t)VG_ALLOWLIST_MAX * dim * sizeof *a->v))) {
        free(a);
        return vg_fail(err, VG_ERR_NOMEM, "out of memory for an allowlist");
    }
    pthread_mutex_init(&a->lock, NULL);
    a->dim = dim, a->radius = radius;
    *out = a;
    return VG_OK;
}

void vg_allowlist_free(vg_allowlist *a) {
    if (!a) return;
    pthread_mutex_destroy(&a->lock);
    free(a->v);
    free(a);
}

static double norm(const float *v, int dim) {
    double s = 0;
    for (int i = 0; i < dim; i++) s += (double)v[i] * v[i];
    return sqrt(s);
}

int vg_allowlist_add(vg_allowlist *a, const float *v, int n, vg_error *err) {
    (void)err;
    pthread_mutex_lock(&a->lock);
    for (int k = 0; k < n; k++) {
        const float *e = v + (size_t)k * a->dim;
        double len = norm(e, a->dim);
        if (!(len > 0) || !isfinite(len)) continue;
        int slot = a->n < VG_ALLOWLIST_MAX ? a->n++ : a->next++ % VG_ALLOWLIST_MAX;
        float *dst = a->v + (size_t)slot * a->dim;
        for (int i = 0; i < a->dim; i++) dst[i] = (float)(e[i] / len);
    }
    pthread_mutex_unlock(&a->lock);
    return VG_OK;
}

int vg_allowlist_match(vg_allowlist *a, const float *e, double *distance) {
    double len = norm(e, a->dim), best = 2;
    pthread_mutex_lock(&a->lock);
    for (int k = 0; k < a->n && len > 0; k++) {
        const float *u = a->v + (size_t)k * a->dim;
        double dot = 0;
        for (int i = 0; i < a->dim; i++) dot += (double)u[i] * e[i];
        double d = 1 - dot / len;
        best = d < best ? d : best;
    }
    int hit = best <= a->radius;
    pthread_mutex_unlock(&a->lock);
    if (distance) *distance = best;
    return hit;
}

int vg_allowlist_size(vg_allowlist *a) {
    pthread_mutex_lock(&a->lock);
    int n = a->n;
    pthread_mutex_unlock(&a->lock);
    return n;
}
