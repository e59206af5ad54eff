/* clip.h - evidence clips for vigil watch: per event, a short MP4 video of what the camera
 * showed from `pre` seconds before the event started to `post` seconds after it ended.
 *
 * A recorder belongs to one camera and one thread (its frames' thread): every frame goes
 * through vg_recorder_push, which keeps the last pre + lag seconds in a ring (allocated
 * once, so memory stays bounded whatever happens) and encodes it into each open clip.
 * Encoding happens in that thread: H.264 (vg_synth_encoder's choice: libx264, preset
 * veryfast, crf 28, single-threaded; else another software H.264 encoder; else MPEG-4
 * part 2) in YUV 4:2:0, BT.601 limited range, timestamps from the frames' times (1 ms
 * steps), a keyframe every 2 s of the nominal rate, the index at the start of the file
 * (movflags +faststart). A clip is written to PATH.tmp and renamed to PATH once complete
 * (synced first), so PATH is a whole clip or absent; a failed clip leaves nothing.
 *
 *     vg_recorder_params p = vg_recorder_default_params();
 *     p.width = 256, p.height = 256;
 *     vg_recorder_create(&p, &rec, &err);
 *     for each frame:  vg_recorder_push(rec, rgb, t, &err);
 *     event opens:     vg_recorder_begin(rec, id, "clips/7.mp4", start, on_done, ctx, &err);
 *     event ends:      vg_recorder_end(rec, id, end);  ... on_done(ctx, id, path, bytes, NULL)
 *     vg_recorder_free(rec); */
#ifndef VG_SERVE_CLIP_H
#define VG_SERVE_CLIP_H

#include "vigil/vigil.h"

/* A clip is cut after this many seconds from its first frame (an event that lasts longer
 * keeps its first 10 minutes). */
#define VG_CLIP_MAX_SECONDS 600.0

typedef struct vg_recorder vg_recorder;

typedef struct vg_recorder_params {
    int width, height; /* the frames, RGB24; odd sizes are encoded one column or row larger,
                          the last one repeated (4:2:0 needs even sizes) */
    double fps;        /* nominal frame rate, default 25: sizes the ring and the keyframe
                          interval; the clips' timing comes from the frames' times */
    double pre, post;  /* seconds kept before an event's start / after its end, default 5, 5 */
    double lag;        /* seconds a begin may come after its event's start and still get
                          `pre` seconds before it (the decision's delay: debounce, minimum
                          duration, queueing), default 2. The ring holds pre + lag seconds
                          at the nominal rate: faster frames shorten it, never grow it. */
    int max_open;      /* clips recorded at once at most, default 4 */
} vg_recorder_params;

vg_recorder_params vg_recorder_default_params(void);

/* Called when a clip is over: failure NULL when the file at path is complete (bytes long),
 * else why it failed (the partial file removed, bytes 0). key is the caller's, from
 * vg_recorder_begin. Runs inside vg_recorder_push or vg_recorder_free, and must not call
 * the recorder. */
typedef void (*vg_clip_done)(void *user, long long key, const char *path, long long bytes,
                             const vg_error *failure);

/* A recorder with its ring allocated. VG_ERR_ARG for a size below 1 or above 16384, a
 * rate not in (0, 1000], a negative or non-finite pre, post or lag, pre + lag over
 * VG_CLIP_MAX_SECONDS, max_open below 1; VG_ERR_NOMEM. *out is NULL on failure. */
int vg_recorder_create(const vg_recorder_params *p, vg_recorder **out, vg_error *err);

/* Finishes the open clips as if their post time had passed now (each one's done is
 * called), then frees r. Accepts NULL. */
void vg_recorder_free(vg_recorder *r);

/* The camera's next frame (width * height * 3 bytes) shown at time t (seconds, any
 * origin, e.g. Unix time; never earlier than the frame before). It goes into the ring
 * and into each open clip whose span holds t; a clip whose span it passes is finished
 * first (its done is called). A clip that fails to write is finished with its failure;
 * the others go on. VG_ERR_ARG for a missing frame or a non-finite or earlier t, and
 * then nothing changes. */
int vg_recorder_push(vg_recorder *r, const unsigned char *rgb, double t, vg_error *err);

/* An event began at time start: opens a clip at path (its folder must exist) and gives it
 * the ring's frames from start - pre on (encoded now: up to (pre + lag) * fps frames at
 * once), then each pushed frame until the event's end + post (vg_recorder_end) or
 * VG_CLIP_MAX_SECONDS. key is the caller's id for it (the event
 * id), done (may be NULL) and user are called back when it is over. On failure done is
 * never called and nothing is left on disk: VG_ERR_ARG for a key or path already being
 * recorded, an empty path or a non-finite start; VG_ERR_UNSUPPORTED when max_open clips
 * are being recorded already or this FFmpeg has no encoder or MP4 muxer; VG_ERR_IO when
 * PATH.tmp cannot be created or written; VG_ERR_BACKEND, VG_ERR_NOMEM. */
int vg_recorder_begin(vg_recorder *r, long long key, const char *path, double start,
                      vg_clip_done done, void *user, vg_error *err);

/* The event of key ended at time end (finite): its clip goes on until end + post, and is
 * finished by the first frame pushed after that. An unknown key (a clip already finished,
 * or one that failed) is ignored. */
void vg_recorder_end(vg_recorder *r, long long key, double end);

/* Frames held in the ring now (at most ceil((pre + lag) * fps) + 2): for metrics and
 * tests. */
int vg_recorder_buffered(const vg_recorder *r);

/* Clips being recorded now. */
int vg_recorder_open_clips(const vg_recorder *r);

#endif
