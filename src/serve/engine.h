/* engine.h - vigil watch's inference worker: one thread that takes the oldest queued frame
 * of each camera in turn, up to batch frames, scores them batched per model (the cameras
 * of one model file are the lanes of one scorer), and decides prediction_error events
 * per camera. The first event frame's heat map is kept as the event's snapshot. Frames
 * that score as anomalous but match the camera's allowlist are suppressed (scored as 0)
 * and counted; the embeddings of an event's frames are stored when it ends, so that an
 * operator can vouch for it later. Each camera's smoothed scores feed its drift control,
 * checked every minute: a "drift" status when the scene has shifted from calibration, and
 * with an adaptive threshold, the decider's levels follow. */
#ifndef VG_SERVE_ENGINE_H
#define VG_SERVE_ENGINE_H

#include "serve/allowlist.h"
#include "serve/camera.h"
#include "serve/drift.h"

#define VG_LATENCY_BINS 10000 /* 1 ms bins: frame arrival to decision, up to 10 s */

typedef struct vg_engine vg_engine;

/* One camera as the engine sees it. */
typedef struct vg_engine_camera {
    vg_camera *cam;             /* its queue and config */
    vg_model *model;            /* loaded by the caller; cameras may share one */
    vg_operating_point op;      /* the model's operating point with the camera's overrides */
    vg_allowlist *allow;        /* rare-but-normal pictures of the camera (the caller's) */
} vg_engine_camera;

typedef struct vg_engine_params {
    vg_engine_camera *cameras;
    int n;
    int batch;                  /* frames per round at most */
    const char *dir;            /* snapshots go to DIR/snapshots/<camera>/<event>.png */
    vg_store *store;            /* evidence files are registered for retention */
    vg_emitter *emit;
    vg_metrics *metrics;
    int drift;                  /* drift control for cameras whose model has a reference */
    vg_drift_params drift_params;
    vg_log_fn log;
    void *log_user;
    pthread_mutex_t *lock;      /* the cameras' queues' lock and their wake-up */
    pthread_cond_t *wake;
    const atomic_int *stop;
} vg_engine_params;

int vg_engine_start(const vg_engine_params *p, vg_engine **out, vg_error *err);

/* After *stop was set (and the wake signalled): waits for the worker, which ends the open
 * events, and frees the engine. Accepts NULL. */
void vg_engine_join(vg_engine *e);

typedef struct vg_engine_stats {
    long long scored, rounds, latencies;
    double latency_p50, latency_p95, latency_p99, latency_max; /* seconds */
} vg_engine_stats;

/* Counters so far (any thread; approximate while running). */
void vg_engine_stats_get(const vg_engine *e, vg_engine_stats *out);

#endif
