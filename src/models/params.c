/* params.c - parameter tables (see params.h). */
#include "models/params.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/rng.h"

void vg_param_add(vg_param_table *t, const char *name, int ndim, int64_t a, int64_t b,
                  int64_t c, int64_t d) {
    vg_param *p = &t->p[t->n++];
    snprintf(p->name, sizeof p->name, "%s", name);
    p->ndim = ndim;
    int64_t s[4] = {a, b, c, d};
    p->count = 1;
    for (int i = 0; i < 4; i++) {
        p->shape[i] = i < ndim ? s[i] : 0;
        if (i < ndim) p->count *= (size_t)s[i];
    }
    p->offset = t->total;
    t->total += p->count;
}

void vg_param_end_trainable(vg_param_table *t) {
    t->n_trainable = t->n;
    t->trainable = t->total;
}

const vg_param *vg_param_find(const vg_param_table *t, const char *name) {
    for (int i = 0; i < t->n; i++)
        if (!strcmp(t->p[i].name, name)) return &t->p[i];
    return NULL;
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

void vg_params_init(const vg_param_table *t, float *params, uint64_t seed) {
    for (int i = 0; i < t->n; i++) {
        const vg_param *p = &t->p[i];
        float *x = params + p->offset;
        float fill = 0.f;
        if (strstr(p->name, ".bn.")) {
            fill = ends_with(p->name, ".weight") || ends_with(p->name, "running_var");
            for (size_t k = 0; k < p->count; k++) x[k] = fill;
            continue;
        }
        /* kaiming_uniform(a=sqrt(5)) and the bias rule both give 1/sqrt(fan_in), where
         * PyTorch's fan_in is weight.size(1) * kh * kw, for transposed convs too. */
        const vg_param *w = p->ndim == 4 ? p : p - 1;
        double fan_in = (double)w->shape[1] * w->shape[2] * w->shape[3];
        float b = (float)(1.0 / sqrt(fan_in));
        vg_fill_uniform(x, p->count, vg_seed_for(seed, p->name), -b, b);
    }
}
