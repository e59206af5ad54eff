/* clip_slots.c - the open clips of a clip recorder (see clip_slots.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "serve/clip_slots.h"

static int check_seconds(const char *who, const char *name, double v, vg_error *err) {
    if (isfinite(v) && v >= 0) return VG_OK;
    return vg_fail(err, VG_ERR_ARG, "%s: %s %g s: must be a finite number >= 0", who, name, v);
}

int vg_clip_check_span(const char *who, double pre, double post, double lag, int max_open,
                       vg_error *err) {
    int rc = check_seconds(who, "pre", pre, err);
    if (rc == VG_OK) rc = check_seconds(who, "post", post, err);
    if (rc == VG_OK) rc = check_seconds(who, "lag", lag, err);
    if (rc != VG_OK) return rc;
    if (pre + lag > VG_CLIP_MAX_SECONDS)
        return vg_fail(err, VG_ERR_ARG, "%s: pre + lag = %g s: the ring would hold more than "
                       "the longest clip (%g s)", who, pre + lag, VG_CLIP_MAX_SECONDS);
    if (max_open < 1)
        return vg_fail(err, VG_ERR_ARG, "%s: max_open %d: at least 1 clip", who, max_open);
    return VG_OK;
}

/* The slot recording key, or NULL. */
static vg_clip_slot *find(vg_clip_slot *slots, int n, long long key) {
    for (int i = 0; i < n; i++)
        if (slots[i].writer && slots[i].key == key) return &slots[i];
    return NULL;
}

int vg_clip_slot_claim(vg_clip_slot *slots, int n, long long key, const char *path,
                       double start, vg_clip_slot **slot, vg_error *err) {
    *slot = NULL;
    if (!path || !*path) return vg_fail(err, VG_ERR_ARG, "clip %lld: no path given", key);
    if (!isfinite(start))
        return vg_fail(err, VG_ERR_ARG, "clip %s: start time %g: not a finite number", path,
                       start);
    if (find(slots, n, key))
        return vg_fail(err, VG_ERR_ARG, "clip %s: key %lld is being recorded already", path,
                       key);
    vg_clip_slot *free_slot = NULL;
    for (int i = 0; i < n; i++) {
        vg_clip_slot *c = &slots[i];
        if (c->writer && strcmp(c->path, path) == 0)
            return vg_fail(err, VG_ERR_ARG, "clip %s: that file is being recorded already "
                           "(key %lld)", path, c->key);
        if (!c->writer && !free_slot) free_slot = c;
    }
    if (!free_slot)
        return vg_fail(err, VG_ERR_UNSUPPORTED, "clip %s: %d clips are being recorded "
                       "already (max_open)", path, n);
    *slot = free_slot;
    return VG_OK;
}

int vg_clip_slot_init(vg_clip_slot *made, long long key, const char *path, double from,
                      vg_clip_done done, void *user, vg_error *err) {
    *made = (vg_clip_slot){.key = key, .from = from, .until = INFINITY, .done = done,
                           .user = user, .path = strdup(path)};
    return made->path ? VG_OK : vg_fail(err, VG_ERR_NOMEM, "clip %s: out of memory", path);
}

int vg_clip_slot_commit(vg_clip_slot *slot, vg_clip_slot *made, int rc) {
    if (rc == VG_OK) {
        *slot = *made;
        return VG_OK;
    }
    vg_clip_writer_abort(made->writer);
    free(made->path);
    return rc;
}

void vg_clip_slot_note(vg_clip_slot *c, double t) {
    if (c->items++ == 0) c->first = t;
}

int vg_clip_slot_over(const vg_clip_slot *c, double t) {
    return t > c->until || (c->items > 0 && t - c->first >= VG_CLIP_MAX_SECONDS);
}

/* Reports the end of c, whose writer is gone: complete (rc VG_OK, bytes long) or failed
 * (why), and frees the slot. */
static void slot_close(vg_clip_slot *c, int rc, const vg_error *why, long long bytes) {
    vg_clip_slot was = *c;
    *c = (vg_clip_slot){0};
    if (was.done) was.done(was.user, was.key, was.path, bytes, rc == VG_OK ? NULL : why);
    free(was.path);
}

void vg_clip_slot_finish(vg_clip_slot *c) {
    vg_error e = {0};
    long long bytes = 0;
    int rc = vg_clip_writer_finish(c->writer, &bytes, &e);
    slot_close(c, rc, &e, bytes);
}

void vg_clip_slot_fail(vg_clip_slot *c, int rc, const vg_error *why) {
    vg_clip_writer_abort(c->writer);
    slot_close(c, rc, why, 0);
}

void vg_clip_slots_finish(vg_clip_slot *slots, int n) {
    for (int i = 0; slots && i < n; i++)
        if (slots[i].writer) vg_clip_slot_finish(&slots[i]);
}

void vg_clip_slots_end(vg_clip_slot *slots, int n, long long key, double end, double post) {
    vg_clip_slot *c = find(slots, n, key);
    if (c && isfinite(end)) c->until = end + post;
}

int vg_clip_slots_open(const vg_clip_slot *slots, int n) {
    int open = 0;
    for (int i = 0; i < n; i++) open += slots[i].writer != NULL;
    return open;
}
