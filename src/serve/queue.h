/* queue.h - the bounded frame queue between a camera's decode thread and the inference
 * worker. Frames are copied into slots allocated once; when the queue is full the oldest
 * frame is dropped and counted, so a slow engine costs frames, never memory, and the
 * engine always works on the newest picture a camera has. One producer, one consumer. */
#ifndef VG_SERVE_QUEUE_H
#define VG_SERVE_QUEUE_H

#include <pthread.h>

#include "vigil/vigil.h"

typedef struct vg_queued {
    unsigned char *rgb;  /* the frame, the queue's size */
    long long seq;       /* the camera's frame number (increasing, across reconnects) */
    double wall;         /* when it arrived: Unix seconds */
    double arrival;      /* when it arrived: monotonic seconds, for latency */
    int first;           /* the first frame after a (re)connect: no context before it */
} vg_queued;

typedef struct vg_frame_queue vg_frame_queue;

/* A queue of capacity frames of bytes each; wake (may be NULL) is signalled, under lock,
 * after each push, so one consumer can wait on several queues. */
int vg_queue_create(int capacity, size_t bytes, pthread_mutex_t *lock, pthread_cond_t *wake,
                    vg_frame_queue **out, vg_error *err);
void vg_queue_free(vg_frame_queue *q); /* accepts NULL */

/* Copies f in (f->rgb: bytes bytes), dropping the oldest frame when full. Takes the lock. */
void vg_queue_push(vg_frame_queue *q, const vg_queued *f);

/* With the lock held: 1 and the oldest frame copied into *f (f->rgb must hold bytes
 * bytes), or 0 when empty. */
int vg_queue_pop_locked(vg_frame_queue *q, vg_queued *f);
int vg_queue_size_locked(const vg_frame_queue *q);

/* Frames dropped so far (any thread). */
long long vg_queue_dropped(const vg_frame_queue *q);

#endif
