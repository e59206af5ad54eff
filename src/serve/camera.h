/* camera.h - one camera of vigil watch: a thread that reads its source (reconnecting with
 * capped exponential backoff: 1, 2, 4 ... 30 s), blacks out its privacy masks, runs the
 * signal checks and their deciders, and queues each frame for the inference worker.
 * camera_lost / camera_found status messages mark an outage; signal_lost events stay open
 * while it lasts. A file that ends starts over when the camera loops, else the camera
 * stops ("camera_ended"); a live source that ends counts as lost. The thread also records
 * each event's evidence clip: copied from the source's own packets (its resolution and
 * quality, no re-encoding) when the camera has no privacy masks, the source is a stream
 * (not an image folder) and its codec goes into MP4; else re-encoded from the frames the
 * model sees, masks applied. */
#ifndef VG_SERVE_CAMERA_H
#define VG_SERVE_CAMERA_H

#include <pthread.h>
#include <stdatomic.h>

#include "serve/clip.h"
#include "serve/config.h"
#include "serve/emit.h"
#include "serve/queue.h"
#include "serve/remux.h"
#include "serve/store.h"
#include "video/video.h"

#define VG_CLIP_REQUESTS 16 /* clip begins and ends waiting for the camera's thread */

/* What the service tells its threads. */
typedef void (*vg_log_fn)(void *user, const char *line);

typedef struct vg_camera {
    const vg_camera_config *cfg;
    vg_source_params sp;        /* the model's size, with the camera's ROI and fit */
    vg_checks_params cp;        /* the model's scene levels */
    vg_frame_queue *queue;      /* to the inference worker */
    vg_emitter *emit;
    vg_log_fn log;
    void *log_user;
    const atomic_int *stop;
    const char *dir;            /* the store's folder: clips go to DIR/clips/<camera>/ */
    vg_store *store;            /* evidence files are registered for retention */
    double pre, post;           /* evidence clip seconds around an event */
    pthread_t thread;
    int started;
    /* clips asked for by any thread, recorded by the camera's */
    pthread_mutex_t req_lock;
    int req_n, req_dropped;
    struct vg_clip_request { long long id; double t; int end; } req[VG_CLIP_REQUESTS];
    vg_recorder *rec;           /* clips re-encoded from the frames: NULL until needed */
    vg_remuxer *remux;          /* clips copied from the source's packets, when it can */
    int remux_ok;               /* this connection's packets go to the remuxer */
    double pts_offset;          /* wall-clock time minus the packets' time */
    int offset_set;
    double fps;                 /* the source's stated rate (0: unknown) */
    /* the thread's own */
    vg_checks *checks;
    vg_track track[VG_EVENT_CLASSES]; /* the checks' classes (not prediction_error) */
    unsigned char *mask;        /* privacy mask at the model's size, NULL without polygons */
    vg_rect msrc, mdst;         /* the geometry it was made for */
    long long seq;              /* frame numbers, increasing across reconnects */
    double last_pts, last_mono; /* the last frame's timestamp, and when it came */
    /* read by others */
    atomic_int connected;
    atomic_int ended;
    vg_metric *frames_in, *decode_errors, *reconnects, *up;
} vg_camera;

/* Prepares camera c (fields above cfg .. post set by the caller) and starts its thread. */
int vg_camera_start(vg_camera *c, vg_metrics *metrics, vg_error *err);

/* Waits for the thread (after *stop was set), which first ends the open events; then
 * finishes the clips (call it after the last vg_camera_clip_* of other threads) and frees
 * what start made. Accepts a camera never started. */
void vg_camera_join(vg_camera *c);

/* From any thread: event id began at start (wall-clock seconds) / ended at end; its clip
 * (vg_clip_path) is recorded from start - pre to end + post. */
void vg_camera_clip_begin(vg_camera *c, long long id, double start);
void vg_camera_clip_end(vg_camera *c, long long id, double end);

#endif
