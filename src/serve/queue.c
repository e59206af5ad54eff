/* queue.c - a ring of frame slots with drop-oldest (see queue.h). The lock is the
 * consumer's, shared by all the queues it serves, so that it can sleep on one condition
 * until any camera has a frame. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "serve/queue.h"

struct vg_frame_queue {
    pthread_mutex_t *lock;
    pthread_cond_t *wake;
    vg_queued *slot;
    unsigned char *pixels;
    size_t bytes;
    int capacity, head, size;
    atomic_llong dropped;
};

int vg_queue_create(int capacity, size_t bytes, pthread_mutex_t *lock, pthread_cond_t *wake,
                    vg_frame_queue **out, vg_error *err) {
    *out = NULL;
    if (capacity < 1) return vg_fail(err, VG_ERR_ARG, "a frame queue holds at least 1 frame");
    vg_frame_queue *q = calloc(1, sizeof *q);
    if (q) {
        q->slot = calloc((size_t)capacity, sizeof *q->slot);
        q->pixels = malloc((size_t)capacity * bytes);
    }
    if (!q || !q->slot || !q->pixels) {
        vg_queue_free(q);
        return vg_fail(err, VG_ERR_NOMEM, "out of memory for a queue of %d frames", capacity);
    }
    q->lock = lock, q->wake = wake, q->bytes = bytes, q->capacity = capacity;
    for (int i = 0; i < capacity; i++) q->slot[i].rgb = q->pixels + (size_t)i * bytes;
    atomic_init(&q->dropped, 0);
    *out = q;
    return VG_OK;
}

void vg_queue_free(vg_frame_queue *q) {
    if (!q) return;
    free(q->slot), free(q->pixels);
    free(q);
}

void vg_queue_push(vg_frame_queue *q, const vg_queued *f) {
    pthread_mutex_lock(q->lock);
    int first = 0; /* a dropped first frame hands its mark on: context starts later */
    if (q->size == q->capacity) {
        first = q->slot[q->head].first;
        q->head = (q->head + 1) % q->capacity;
        q->size--;
        atomic_fetch_add(&q->dropped, 1);
        if (first && q->size) q->slot[q->head].first = 1, first = 0;
    }
    vg_queued *s = &q->slot[(q->head + q->size) % q->capacity];
    unsigned char *keep = s->rgb;
    *s = *f;
    s->rgb = keep;
    s->first |= first;
    memcpy(s->rgb, f->rgb, q->bytes);
    q->size++;
    if (q->wake) pthread_cond_signal(q->wake);
    pthread_mutex_unlock(q->lock);
}

int vg_queue_pop_locked(vg_frame_queue *q, vg_queued *f) {
    if (!q->size) return 0;
    const vg_queued *s = &q->slot[q->head];
    unsigned char *dst = f->rgb;
    *f = *s;
    f->rgb = dst;
    memcpy(dst, s->rgb, q->bytes);
    q->head = (q->head + 1) % q->capacity;
    q->size--;
    return 1;
}

int vg_queue_size_locked(const vg_frame_queue *q) { return q->size; }

long long vg_queue_dropped(const vg_frame_queue *q) { return atomic_load(&q->dropped); }
