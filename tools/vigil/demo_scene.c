/* demo_scene.c - the conveyor belt of vigil demo (see demo_scene.h).
 *
 * Geometry scales with the frame: the belt is the middle 30% of the height, boxes are
 * spaced 31% of the width apart and everything on the belt moves 1/64 of the width per
 * frame, so the scene looks the same at any size. */
#include <math.h>
#include <stddef.h>

#include "demo_scene.h"

const char *demo_anomaly_name(demo_anomaly a) {
    static const char *const names[] = {"foreign object", "fallen box", "stopped belt",
                                        "lighting drop"};
    return a < DEMO_ANOMALIES ? names[a] : "?";
}

static uint64_t mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* A uniform value in [0, 1) for (seed, a, b, c). */
static float hash01(uint64_t seed, uint64_t a, uint64_t b, uint64_t c) {
    uint64_t z = mix(seed + 0x9E3779B97F4A7C15ull * (a + 1));
    z = mix(z + 0x9E3779B97F4A7C15ull * (b + 1));
    z = mix(z + 0x9E3779B97F4A7C15ull * (c + 1));
    return (float)(z >> 40) * (1.0f / 16777216.0f);
}

static const demo_event *active(const demo_scene *s, demo_anomaly kind, int f) {
    for (int i = 0; i < s->n_events; i++)
        if (s->events[i].kind == kind && f >= s->events[i].first && f <= s->events[i].last)
            return &s->events[i];
    return NULL;
}

/* Frames the belt has moved by frame f: it stands still while a stop event lasts. */
static float belt_time(const demo_scene *s, int f) {
    float t = (float)f;
    for (int i = 0; i < s->n_events; i++) {
        const demo_event *e = &s->events[i];
        if (e->kind != DEMO_STOPPED || f <= e->first) continue;
        int end = f < e->last + 1 ? f : e->last + 1;
        t -= (float)(end - e->first);
    }
    return t;
}

typedef struct layout {
    int W, H;
    float belt0, belt1, speed, spacing, pos;
} layout;

static layout make_layout(const demo_scene *s, int f) {
    layout l = {s->width, s->height, 0.35f * s->height, 0.65f * s->height, s->width / 64.f,
                0.3125f * s->width, 0};
    l.pos = l.speed * belt_time(s, f) + hash01(s->seed, 1, 2, 3) * l.spacing;
    return l;
}

static void put(unsigned char *rgb, const layout *l, int x, int y, const float c[3]) {
    if (x < 0 || y < 0 || x >= l->W || y >= l->H) return;
    unsigned char *p = rgb + ((size_t)y * l->W + x) * 3;
    for (int k = 0; k < 3; k++) p[k] = (unsigned char)fminf(fmaxf(c[k], 0.f), 255.f);
}

static void fill_rect(unsigned char *rgb, const layout *l, float cx, float cy, float w, float h,
                      const float c[3]) {
    for (int y = (int)floorf(cy - h / 2); y < (int)ceilf(cy + h / 2); y++)
        for (int x = (int)floorf(cx - w / 2); x < (int)ceilf(cx + w / 2); x++) put(rgb, l, x, y, c);
}

static void background(const demo_scene *s, const layout *l, unsigned char *rgb) {
    for (int y = 0; y < l->H; y++)
        for (int x = 0; x < l->W; x++) {
            float v;
            if (y >= l->belt0 && y < l->belt1) {
                /* the belt: grey with dark slats moving along */
                float u = fmodf((float)x - l->pos + 1000.f * l->spacing, 12.f);
                v = u < 2.f ? 70.f : 128.f;
            } else {
                /* the floor: a fixed blocky texture */
                v = 60.f + 20.f * hash01(s->seed, 7, (uint64_t)(x / 4), (uint64_t)(y / 4));
            }
            float c[3] = {v, v, v * 1.05f};
            put(rgb, l, x, y, c);
        }
}

/* Box k: its colour and size vary with k; the one that falls in a fallen event is drawn on
 * the floor instead. */
static void boxes(const demo_scene *s, const layout *l, int f, unsigned char *rgb) {
    const demo_event *fall = NULL;
    for (int i = 0; i < s->n_events; i++)
        if (s->events[i].kind == DEMO_FALLEN && f >= s->events[i].first) fall = &s->events[i];
    /* the box that falls is the one nearest the centre when the event starts */
    long fallen_k = -1;
    float fall_x = 0;
    if (fall) {
        layout l0 = make_layout(s, fall->first);
        fallen_k = lroundf((0.5f * l->W - l0.pos) / l0.spacing);
        fall_x = l0.pos + (float)fallen_k * l0.spacing;
    }
    float cy = 0.5f * (l->belt0 + l->belt1);
    long k0 = (long)floorf((-l->pos - l->spacing) / l->spacing);
    for (long k = k0; k <= k0 + (long)(l->W / l->spacing) + 3; k++) {
        float x = l->pos + (float)k * l->spacing;
        float size = l->W * (0.11f + 0.03f * hash01(s->seed, 11, (uint64_t)k, 0));
        float tone = hash01(s->seed, 13, (uint64_t)k, 0);
        float c[3] = {150.f + 40.f * tone, 110.f + 30.f * tone, 60.f + 20.f * tone};
        if (fall && k == fallen_k) {
            if (f > fall->last) continue; /* taken away after the event */
            /* slides down over 6 frames, then lies flat on the floor */
            float t = fminf((float)(f - fall->first) / 6.f, 1.f);
            float y = cy + t * (0.83f * l->H - cy);
            fill_rect(rgb, l, fall_x, y, size * (1 + 0.4f * t), size * (1 - 0.45f * t), c);
            continue;
        }
        fill_rect(rgb, l, x, cy, size, size * 0.85f, c);
    }
}

static void foreign(const demo_scene *s, const layout *l, int f, unsigned char *rgb) {
    const demo_event *e = active(s, DEMO_FOREIGN, f);
    if (!e) return;
    layout l0 = make_layout(s, e->first);
    float r = 0.05f * l->W, cx = l->pos - l0.pos - r, cy = 0.5f * (l->belt0 + l->belt1);
    float red[3] = {210.f, 30.f, 30.f};
    for (int y = (int)(cy - r); y <= (int)(cy + r); y++)
        for (int x = (int)(cx - r); x <= (int)(cx + r); x++)
            if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r) put(rgb, l, x, y, red);
}

void demo_render(const demo_scene *s, int f, unsigned char *rgb) {
    layout l = make_layout(s, f);
    background(s, &l, rgb);
    boxes(s, &l, f, rgb);
    foreign(s, &l, f, rgb);
    /* light: a slow 2% flicker, 60% during a lighting drop; sensor noise of +-4 levels */
    float light = 1.f + 0.02f * sinf(2.f * 3.14159265f * (float)f / 23.f);
    if (active(s, DEMO_DARK, f)) light *= 0.6f;
    size_t n = (size_t)l.W * l.H;
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 3; k++) {
            float noise = 8.f * hash01(s->seed, (uint64_t)f, i, (uint64_t)k) - 4.f;
            float v = light * rgb[3 * i + k] + noise;
            rgb[3 * i + k] = (unsigned char)fminf(fmaxf(v + .5f, 0.f), 255.f);
        }
}
