/* clip_slots.h - the open clips of a clip recorder, whichever way its clip writers fill
 * them (clip.c encodes frames, remux.c copies the source's packets): max_open slots, each a
 * clip's writer, key, path, span of times and done callback, with the rules both recorders
 * follow: which begins are refused, when a clip's span or length is over, how its end is
 * reported. */
#ifndef VG_SERVE_CLIP_SLOTS_H
#define VG_SERVE_CLIP_SLOTS_H

#include "serve/clip.h"
#include "serve/clip_writer.h"

typedef struct vg_clip_slot {
    vg_clip_writer *writer; /* NULL: a free slot */
    long long key;
    char *path;
    double from, until; /* times from <= t <= until go in; until is INFINITY until the end */
    double first;       /* the time of its first frame or packet */
    long long items;    /* frames or packets written */
    vg_clip_done done;
    void *user;
} vg_clip_slot;

/* Checks the span parameters both recorders take: pre, post, lag finite and >= 0, pre +
 * lag at most VG_CLIP_MAX_SECONDS, max_open >= 1. Messages start "WHO: ". */
int vg_clip_check_span(const char *who, double pre, double post, double lag, int max_open,
                       vg_error *err);

/* Why clip (key, path) starting at start cannot begin (VG_ERR_ARG: no path, a non-finite
 * start, a key or path being recorded; VG_ERR_UNSUPPORTED: all n slots taken), else
 * VG_OK and *slot the free slot for it. */
int vg_clip_slot_claim(vg_clip_slot *slots, int n, long long key, const char *path,
                       double start, vg_clip_slot **slot, vg_error *err);

/* A clip for key at path (copied) whose span starts at from and is open-ended, its writer
 * not opened yet: VG_ERR_NOMEM. */
int vg_clip_slot_init(vg_clip_slot *made, long long key, const char *path, double from,
                      vg_clip_done done, void *user, vg_error *err);

/* The end of a begin: when rc is VG_OK clip made (its writer open, the ring's items
 * written) takes slot; else its writer is abandoned and its path freed. Returns rc. */
int vg_clip_slot_commit(vg_clip_slot *slot, vg_clip_slot *made, int rc);

/* Counts an item of time t written into c. */
void vg_clip_slot_note(vg_clip_slot *c, double t);

/* Whether time t is past c's span, or VG_CLIP_MAX_SECONDS past its first item: the clip
 * is over. */
int vg_clip_slot_over(const vg_clip_slot *c, double t);

/* Completes c's file and reports it (done), freeing the slot first: done sees it free. */
void vg_clip_slot_finish(vg_clip_slot *c);

/* Abandons c, whose writer failed (rc, why), and reports that. */
void vg_clip_slot_fail(vg_clip_slot *c, int rc, const vg_error *why);

/* Finishes every open clip. */
void vg_clip_slots_finish(vg_clip_slot *slots, int n);

/* The event of key ended at end (finite): its clip goes on until end + post. */
void vg_clip_slots_end(vg_clip_slot *slots, int n, long long key, double end, double post);

/* Slots in use. */
int vg_clip_slots_open(const vg_clip_slot *slots, int n);

#endif
