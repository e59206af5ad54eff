/* loss.c - MSE + gradient + SSIM loss and its analytic backward, streamed row by row.
 *
 * Each (image, channel) plane is one task. A plane is streamed top to bottom so the working
 * set stays in L1/L2 (about 100 KB at W = 224) instead of ~2 MB of full-plane maps:
 *   input row r  -> p, t, p*p, t*t, p*t in pixel space -> horizontal 'valid' blur into a
 *                   ring of the last 11 rows (hring)
 *   once r >= 10 -> output row y = r - 10: vertical blur of the ring gives the five local
 *                   moments (mu_p, mu_t, E[pp], E[tt], E[pt]); the SSIM map row, and its
 *                   partials d total / d {mu_p, E[pp], E[pt]} go into a second ring (dring)
 *                -> input row y now has every contribution it will get (output rows
 *                   y-10..y), so its gradient is finished: the transposed blur ('full'
 *                   correlation) of the three partials, vertical then horizontal, plus the
 *                   MSE and gradient-loss terms, times scale[c], written once to dpred.
 *   the last 10 input rows are finished after the loop.
 * SSIM backward: S = A1*A2 / (B1*B2) with A1 = 2 mp mt + C1, A2 = 2 (Ept - mp mt) + C2,
 * B1 = mp^2 + mt^2 + C1, B2 = (Epp - mp^2) + (Ett - mt^2) + C2. Only mp, Epp, Ept depend on
 * p; with R = 1 / (B1 B2):
 *   dS/dmp  = 2 R (mt (A2 - A1) - mp S (B2 - B1))
 *   dS/dEpp = -S B1 R              dS/dEpt = 2 A1 R
 * and since Epp = blur(p*p), Ept = blur(p*t):
 *   dL/dp = blur^T(dmp) + 2 p blur^T(dEpp) + t blur^T(dEpt).
 * Sums are per plane in double, stored per plane and added in plane order, so the result
 * does not depend on the thread count. */
#include "nn/loss.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
static int max_threads(void) { return omp_get_max_threads(); }
static int thread_id(void) { return omp_get_thread_num(); }
#else
static int max_threads(void) { return 1; }
static int thread_id(void) { return 0; }
#endif

/* The build targets baseline x86-64 (SSE2, 4 floats a vector). The per-plane kernel, with
 * every helper inlined into it (flatten), is also compiled for x86-64-v3 (AVX2) and v4
 * (AVX-512) and the CPU's best is picked once at load time (GCC function multi-versioning,
 * an ifunc): 1.5x faster on the 2-core AVX-512 training machine, where wider vectors halve
 * the loads of the L2-bound blurs. The clones give the same bits (no reassociation: sums go
 * through row_sum; no contraction in ISO C mode). */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12 && defined(__x86_64__) && \
    defined(__linux__)
#define VG_SIMD_CLONES \
    __attribute__((flatten, target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define VG_SIMD_CLONES
#endif

#define WIN VG_SSIM_WIN
#define HALO (WIN - 1) /* rows / columns the 'valid' blur loses */
#define ALIGN_FLOATS 16 /* 64 bytes: one cache line, one AVX-512 vector */
#define N_SUMS 4        /* per plane: sum (p-t)^2, sum |dx|, sum |dy|, sum SSIM */

void vg_ssim_window(float g[VG_SSIM_WIN]) {
    double e[WIN], sum = 0;
    for (int i = 0; i < WIN; i++) {
        double x = i - (WIN - 1) / 2.0;
        e[i] = exp(-x * x / (2 * VG_SSIM_SIGMA * VG_SSIM_SIGMA));
        sum += e[i];
    }
    for (int i = 0; i < WIN; i++) g[i] = (float)(e[i] / sum);
}

/* ---- per-thread working rows ---------------------------------------------------------- */

/* Views into one thread's slot of the scratch; W = row width, Wo = W - 10, and the rings'
 * rows are Ws = ring_stride(W) apart: whole cache lines, so the vertical blur's 11 loads per
 * vector are aligned. */
typedef struct loss_ws {
    float *x[5];     /* (W) input row r: p, t, p*p, t*t, p*t */
    float *prev[2];  /* (W) p, t of row r - 1, for the forward dy term */
    float *hring[5]; /* (11, Ws) horizontal blurs of the last 11 input rows of each map */
    float *mu[5];    /* (Wo) vertical blur: mu_p, mu_t, E[pp], E[tt], E[pt] of output row y */
    float *dring[3]; /* (11, Ws) d total/d {mu_p, E[pp], E[pt]} of the last 11 output rows */
    float *dv[3];    /* (W + 10) the vertical transposed blur, 10 zeros either side */
    float *dh[3];    /* (W) the full transposed blur of one input row */
    float *bp[3];    /* (W) p of input rows i-1, i, i+1 (backward) */
    float *bt[3];    /* (W) t of the same rows */
    float *sy[2];    /* (W) the signed dy weights between rows i-1, i and rows i, i+1 */
    float *sx;       /* (W + 1) the signed dx weights of row i, zero at both ends */
    float *term[3];  /* (W) per-element (p-t)^2, |dx|, |dy| or SSIM of one row, to sum */
} loss_ws;

static size_t round_up(size_t n) { return (n + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS; }

static size_t ring_stride(int W) { return round_up((size_t)W - HALO); }

/* Carves a slot starting at base (NULL: only measures); returns its size in floats. */
static size_t ws_carve(loss_ws *w, float *base, int W) {
    size_t Wv = round_up((size_t)W), Wo = (size_t)W - HALO, Ws = ring_stride(W), off = 0;
    float **rows[] = {w->x, w->prev, w->hring, w->mu, w->dring, w->dv, w->dh, w->bp, w->bt,
                      w->sy, &w->sx, w->term};
    const int count[] = {5, 2, 5, 5, 3, 3, 3, 3, 3, 2, 1, 3};
    const size_t len[] = {Wv, Wv, WIN * Ws, round_up(Wo), WIN * Ws,
                          round_up((size_t)W + HALO), Wv, Wv, Wv, Wv, round_up((size_t)W + 1),
                          Wv};
    for (size_t a = 0; a < sizeof count / sizeof *count; a++)
        for (int i = 0; i < count[a]; i++, off += len[a])
            if (base) rows[a][i] = base + off;
    return off;
}

/* Bytes before the first slot: alignment slack, then the per-plane sums. */
static size_t sums_bytes(int B) {
    return 64 + round_up((size_t)B * 3 * N_SUMS * sizeof(double) / sizeof(float)) * sizeof(float);
}

size_t vg_loss_scratch_size(int B, int W, int nthreads) {
    if (B < 1 || W < WIN) return 0;
    if (nthreads <= 0) nthreads = max_threads();
    loss_ws w;
    return sums_bytes(B) + (size_t)nthreads * ws_carve(&w, NULL, W) * sizeof(float);
}

/* ---- forward rows --------------------------------------------------------------------- */

/* Sum of v[0..n-1] in 16 partial sums of a fixed order: vectorises at any SIMD width and
 * gives the same bits at each (so do the elementwise loops), keeping the SIMD clones
 * bit-identical. Float is enough for one row; rows are added up in double. */
static double row_sum(const float *restrict v, int n) {
    float lane[16] = {0};
    int x = 0;
    for (; x + 16 <= n; x += 16)
        for (int l = 0; l < 16; l++) lane[l] += v[x + l];
    for (int l = 0; x + l < n; l++) lane[l] += v[x + l];
    double sum = 0;
    for (int l = 0; l < 16; l++) sum += lane[l];
    return sum;
}

/* The five maps of input row r in pixel space, and its pixel-term sums added to sums[0..2]:
 * (p-t)^2, |dx p - dx t| and (weighted by wy: 0 for the first row) |dy p - dy t| with the
 * row above (pu, tu; finite). e0..e2 are working rows. */
static void load_row(double sums[3], float *restrict p, float *restrict t, float *restrict pp,
                     float *restrict tt, float *restrict pt, float *restrict e0,
                     float *restrict e1, float *restrict e2, const float *restrict pu,
                     const float *restrict tu, double wy, const float *restrict pred,
                     const float *restrict target, float s, float m, int W) {
    for (int j = 0; j < W; j++) {
        float a = pred[j] * s + m, b = target[j] * s + m; /* torch: mul, then add */
        p[j] = a;
        t[j] = b;
        pp[j] = a * a;
        tt[j] = b * b;
        pt[j] = a * b;
        e0[j] = (a - b) * (a - b);
        e2[j] = fabsf((a - pu[j]) - (b - tu[j]));
    }
    for (int j = 0; j < W - 1; j++) e1[j] = fabsf((p[j + 1] - p[j]) - (t[j + 1] - t[j]));
    sums[0] += row_sum(e0, W);
    sums[1] += row_sum(e1, W - 1);
    sums[2] += wy * row_sum(e2, W);
}

/* out[x] = sum_k g[k] in[x + k] for x < n: the 'valid' correlation along a row. g is
 * symmetric, so taps k and 10 - k share a multiply (6 instead of 11). */
static void blur_row(float *restrict out, const float *restrict in, const float *restrict g,
                     int n) {
    for (int x = 0; x < n; x++) {
        float acc = g[5] * in[x + 5];
        for (int k = 0; k < 5; k++) acc += g[k] * (in[x + k] + in[x + 10 - k]);
        out[x] = acc;
    }
}

/* out[x] = sum_k g[k] ring[(y + k) mod 11][x] for x < n: the vertical blur over a ring of
 * the last 11 rows, row r in slot r mod 11, rows stride apart (symmetric taps as in
 * blur_row). */
static void blur_col(float *restrict out, const float *restrict ring, size_t stride,
                     const float *restrict g, int y, int n) {
    const float *r[WIN];
    for (int k = 0; k < WIN; k++) r[k] = ring + (size_t)(((y + k) % WIN + WIN) % WIN) * stride;
    for (int x = 0; x < n; x++) {
        float acc = g[5] * r[5][x];
        for (int k = 0; k < 5; k++) acc += g[k] * (r[k][x] + r[10 - k][x]);
        out[x] = acc;
    }
}

/* The SSIM map of one output row from its five moments, into s. */
static void ssim_row(float *restrict s, const float *restrict mp, const float *restrict mt,
                     const float *restrict epp, const float *restrict ett,
                     const float *restrict ept, int n) {
    for (int x = 0; x < n; x++) {
        float mp2 = mp[x] * mp[x], mt2 = mt[x] * mt[x], mpt = mp[x] * mt[x];
        float a1 = 2 * mpt + VG_SSIM_C1, a2 = 2 * (ept[x] - mpt) + VG_SSIM_C2;
        float b1 = mp2 + mt2 + VG_SSIM_C1, b2 = (epp[x] - mp2) + (ett[x] - mt2) + VG_SSIM_C2;
        s[x] = a1 * a2 / (b1 * b2);
    }
}

/* ssim_row plus the partials of total (gs = d total / d S(x) = -0.15 / map size) with
 * respect to mu_p, E[pp] and E[pt], written to dmp, dpp, dpt. */
static void ssim_row_grad(float *restrict s, float *restrict dmp, float *restrict dpp,
                          float *restrict dpt, const float *restrict mp,
                          const float *restrict mt, const float *restrict epp,
                          const float *restrict ett, const float *restrict ept, float gs,
                          int n) {
    for (int x = 0; x < n; x++) {
        float mp2 = mp[x] * mp[x], mt2 = mt[x] * mt[x], mpt = mp[x] * mt[x];
        float a1 = 2 * mpt + VG_SSIM_C1, a2 = 2 * (ept[x] - mpt) + VG_SSIM_C2;
        float b1 = mp2 + mt2 + VG_SSIM_C1, b2 = (epp[x] - mp2) + (ett[x] - mt2) + VG_SSIM_C2;
        float den = b1 * b2, sx = a1 * a2 / den, r = 1 / den; /* sx exactly as ssim_row */
        s[x] = sx;
        dmp[x] = gs * 2 * r * (mt[x] * (a2 - a1) - mp[x] * sx * (b2 - b1));
        dpp[x] = -gs * sx * b1 * r;
        dpt[x] = gs * 2 * a1 * r;
    }
}

/* ---- backward rows -------------------------------------------------------------------- */

/* The gradient factors of one plane: d total / d (per-element term). */
typedef struct loss_coef {
    float mse;  /* 2 * 0.6 / (B*3*H*W), times (p - t) */
    float dx;   /* 0.25 / (B*3*H*(W-1)), times sign(dx p - dx t) */
    float dy;   /* 0.25 / (B*3*(H-1)*W) */
    float ssim; /* -0.15 / (B*3*(H-10)*(W-10)): d total / d S(x) */
} loss_coef;

static float sgn(float e) { return (float)(e > 0) - (float)(e < 0); } /* torch: sign(0) = 0 */

/* The transposed blur ('full' correlation) of the ring of partials into input row i:
 * dh[j] = sum_{y, k} g[i - y] g[k] ring[y][j - k] over rows i-10..i and 0 <= j - k < Wo.
 * Rows outside the map are zero rows of the ring, columns outside are the zeros of dv. */
static void blur_t_row(float *restrict dh, float *restrict dv, const float *restrict ring,
                       const float *restrict g, int i, int W) {
    blur_col(dv + HALO, ring, ring_stride(W), g, i - HALO, W - HALO); /* pads stay zero */
    blur_row(dh, dv, g, W); /* g is symmetric, so this correlation is the transposed one */
}

/* p and t of input row i in pixel space. */
static void map_row(float *restrict p, float *restrict t, const float *restrict pred,
                    const float *restrict target, float s, float m, int W) {
    for (int j = 0; j < W; j++) {
        p[j] = pred[j] * s + m;
        t[j] = target[j] * s + m;
    }
}

/* d total / d pred of input row i: the SSIM part from the transposed blurs, plus the MSE
 * and gradient-loss parts, times the channel scale. bp/bt hold rows i-1, i, i+1 (row i+1
 * is row i itself for the last row, so its dy signs are 0); sy[0] holds the dy weights
 * between rows i-1 and i (0 for the first row), sy[1] receives those of rows i and i+1. */
static void finish_row(float *restrict out, const loss_ws *w, const loss_coef *c, float s,
                       int W) {
    const float *restrict p = w->bp[1], *restrict t = w->bt[1];
    const float *restrict pd = w->bp[2], *restrict td = w->bt[2];
    const float *restrict h0 = w->dh[0], *restrict h1 = w->dh[1], *restrict h2 = w->dh[2];
    const float *restrict up = w->sy[0];
    float *restrict down = w->sy[1], *restrict sx = w->sx;
    float cm = c->mse, cx = c->dx, cy = c->dy;
    sx[0] = sx[W] = 0; /* sx[j+1] = weight of sign(dx) at j; dx p[j] = p[j+1] - p[j] */
    for (int j = 0; j < W - 1; j++) sx[j + 1] = cx * sgn((p[j + 1] - p[j]) - (t[j + 1] - t[j]));
    for (int j = 0; j < W; j++) {
        down[j] = cy * sgn((pd[j] - p[j]) - (td[j] - t[j]));
        float gs = h0[j] + 2 * p[j] * h1[j] + t[j] * h2[j];
        float gp = cm * (p[j] - t[j]) + (sx[j] - sx[j + 1]) + (up[j] - down[j]);
        out[j] = (gs + gp) * s;
    }
}

/* Moves the backward's window of pixel rows to i-1, i, i+1 (rows are finished in order). */
static void advance_rows(loss_ws *w, const float *pred, const float *target, float s,
                         float m, int i, int H, int W) {
    float *p0 = w->bp[0], *t0 = w->bt[0], *sy = w->sy[0];
    w->bp[0] = w->bp[1], w->bp[1] = w->bp[2], w->bp[2] = p0;
    w->bt[0] = w->bt[1], w->bt[1] = w->bt[2], w->bt[2] = t0;
    w->sy[0] = w->sy[1], w->sy[1] = sy;
    if (i == 0) { /* a fresh plane: row 0, and no pair above it */
        map_row(w->bp[1], w->bt[1], pred, target, s, m, W);
        memset(w->sy[0], 0, (size_t)W * sizeof(float));
    }
    if (i + 1 < H) {
        size_t o = (size_t)(i + 1) * W;
        map_row(w->bp[2], w->bt[2], pred + o, target + o, s, m, W);
    } else {
        memcpy(w->bp[2], w->bp[1], (size_t)W * sizeof(float));
        memcpy(w->bt[2], w->bt[1], (size_t)W * sizeof(float));
    }
}

/* Finishes input row i of the plane into dplane. */
static void backward_row(float *dplane, loss_ws *w, const loss_coef *c, const float *pred,
                         const float *target, float s, float m, const float *g, int i,
                         int H, int W) {
    for (int a = 0; a < 3; a++) blur_t_row(w->dh[a], w->dv[a], w->dring[a], g, i, W);
    advance_rows(w, pred, target, s, m, i, H, W);
    finish_row(dplane + (size_t)i * W, w, c, s, W);
}

/* ---- one plane ------------------------------------------------------------------------ */

/* Streams one (H, W) plane: adds its N_SUMS sums to sums, and writes its gradient to dplane
 * when that is not NULL. */
VG_SIMD_CLONES
static void loss_plane(double sums[N_SUMS], float *dplane, const float *pred,
                       const float *target, float s, float m, const float *g,
                       const loss_coef *c, loss_ws *w, int H, int W) {
    int Wo = W - HALO;
    size_t Ws = ring_stride(W);
    for (int a = 0; a < 3; a++) { /* zero pads, and zero output rows -10..-1 for blur_t_row */
        memset(w->dv[a], 0, (size_t)(W + HALO) * sizeof(float));
        memset(w->dring[a], 0, WIN * Ws * sizeof(float));
    }
    memset(w->x[0], 0, (size_t)W * sizeof(float)); /* finite 'row -1' (weighted 0) */
    memset(w->x[1], 0, (size_t)W * sizeof(float));
    for (int r = 0; r < H; r++) {
        float *tmp;
        tmp = w->prev[0], w->prev[0] = w->x[0], w->x[0] = tmp; /* keep row r-1 for dy */
        tmp = w->prev[1], w->prev[1] = w->x[1], w->x[1] = tmp;
        load_row(sums, w->x[0], w->x[1], w->x[2], w->x[3], w->x[4], w->term[0], w->term[1],
                 w->term[2], w->prev[0], w->prev[1], r > 0, pred + (size_t)r * W,
                 target + (size_t)r * W, s, m, W);
        for (int a = 0; a < 5; a++)
            blur_row(w->hring[a] + (size_t)(r % WIN) * Ws, w->x[a], g, Wo);
        if (r < HALO) continue;
        int y = r - HALO;
        for (int a = 0; a < 5; a++) blur_col(w->mu[a], w->hring[a], Ws, g, y, Wo);
        if (!dplane) {
            ssim_row(w->term[0], w->mu[0], w->mu[1], w->mu[2], w->mu[3], w->mu[4], Wo);
            sums[3] += row_sum(w->term[0], Wo);
            continue;
        }
        size_t slot = (size_t)(y % WIN) * Ws;
        ssim_row_grad(w->term[0], w->dring[0] + slot, w->dring[1] + slot, w->dring[2] + slot,
                      w->mu[0], w->mu[1], w->mu[2], w->mu[3], w->mu[4], c->ssim, Wo);
        sums[3] += row_sum(w->term[0], Wo);
        backward_row(dplane, w, c, pred, target, s, m, g, y, H, W);
    }
    for (int i = H - HALO; dplane && i < H; i++) {
        for (int a = 0; a < 3; a++) /* output row i (past the map) is a zero row */
            memset(w->dring[a] + (size_t)(i % WIN) * Ws, 0, (size_t)Wo * sizeof(float));
        backward_row(dplane, w, c, pred, target, s, m, g, i, H, W);
    }
}

/* ---- the batch ------------------------------------------------------------------------ */

static loss_coef make_coef(int B, int H, int W) {
    double planes = (double)B * 3;
    loss_coef c = {
        .mse = (float)(2.0 * VG_LOSS_W_MSE / (planes * H * W)),
        .dx = (float)(VG_LOSS_W_GRAD / (planes * H * (W - 1))),
        .dy = (float)(VG_LOSS_W_GRAD / (planes * (H - 1) * W)),
        .ssim = (float)(-VG_LOSS_W_SSIM / (planes * (H - HALO) * (W - HALO))),
    };
    return c;
}

/* Means of the per-plane sums, added in plane order. */
static vg_loss_terms reduce_terms(const double *sums, int B, int H, int W) {
    double t[N_SUMS] = {0}, planes = (double)B * 3;
    for (int q = 0; q < B * 3; q++)
        for (int k = 0; k < N_SUMS; k++) t[k] += sums[(size_t)q * N_SUMS + k];
    double mse = t[0] / (planes * H * W);
    double grad = t[1] / (planes * H * (W - 1)) + t[2] / (planes * (H - 1) * W);
    double ssim = t[3] / (planes * (H - HALO) * (W - HALO));
    vg_loss_terms out = {
        .total = (float)(VG_LOSS_W_MSE * mse + VG_LOSS_W_GRAD * grad +
                         VG_LOSS_W_SSIM * (1 - ssim)),
        .mse = (float)mse, .grad = (float)grad, .ssim = (float)ssim,
    };
    return out;
}

int vg_loss_forward_backward(float *dpred, vg_loss_terms *out, const float *pred,
                             const float *target, const float scale[3], const float shift[3],
                             int B, int H, int W, void *scratch, size_t scratch_size,
                             vg_error *err) {
    if (B < 1 || H < WIN || W < WIN)
        return vg_fail(err, VG_ERR_ARG, "loss: batch %d of %dx%d images; need B >= 1 and "
                       "H, W >= %d (the SSIM window)", B, H, W, WIN);
    loss_ws w0;
    size_t slot = ws_carve(&w0, NULL, W), planes = (size_t)B * 3;
    size_t fixed = sums_bytes(B);
    if (!scratch || scratch_size < fixed + slot * sizeof(float))
        return vg_fail(err, VG_ERR_ARG, "loss: scratch of %zu bytes, need %zu",
                       scratch_size, vg_loss_scratch_size(B, W, 1));
    /* 64-byte aligned: the sums, then one slot of working rows per thread. */
    uintptr_t base = ((uintptr_t)scratch + 63) / 64 * 64;
    double *sums = (double *)base;
    float *slots = (float *)(base + fixed - 64);
    size_t fit = (scratch_size - fixed) / (slot * sizeof(float));
    int nt = max_threads();
    if ((size_t)nt > fit) nt = (int)fit;
    float g[WIN];
    vg_ssim_window(g);
    loss_coef c = make_coef(B, H, W);
#pragma omp parallel num_threads(nt)
    {
        loss_ws w;
        ws_carve(&w, slots + (size_t)thread_id() * slot, W);
#pragma omp for schedule(dynamic, 1)
        for (size_t q = 0; q < planes; q++) {
            size_t off = q * (size_t)H * W;
            int ch = (int)(q % 3);
            double acc[N_SUMS] = {0}; /* on the stack: no false sharing of sums' lines */
            loss_plane(acc, dpred ? dpred + off : NULL, pred + off, target + off, scale[ch],
                       shift[ch], g, &c, &w, H, W);
            memcpy(sums + q * N_SUMS, acc, sizeof acc);
        }
    }
    *out = reduce_terms(sums, B, H, W);
    return VG_OK;
}
