/* remux.c - the packet recorder (see remux.h): a ring of the source's packets since the
 * keyframe before the last pre + lag seconds, and up to max_open clips (clip_slots.c),
 * each written by a clip writer in copy mode (clip_writer.c). The packets are referenced,
 * never copied or decoded. */
#include <libavcodec/avcodec.h>
#include <math.h>
#include <stdlib.h>

#include "core/status.h"
#include "serve/clip_slots.h"
#include "serve/clip_writer.h"
#include "serve/remux.h"

typedef vg_clip_slot clip; /* its writer copies packets (vg_clip_writer_open_copy) */

typedef struct held {
    AVPacket *pkt;
    double t; /* its wall time */
} held;

struct vg_remuxer {
    vg_remuxer_params p;
    held *ring; /* count packets, the oldest at head; grows by doubling */
    int capacity, head, count;
    long long bytes;          /* of the ring's packets */
    double newest;            /* the latest t seen (count > 0) */
    const AVStream *st;       /* the stream of the packets seen, NULL: none yet */
    AVCodecParameters *par;   /* its parameters, time base and rate, for the clips to come */
    AVRational tb;
    double fps;
    clip *clips; /* max_open slots */
};

vg_remuxer_params vg_remuxer_default_params(void) {
    return (vg_remuxer_params){.pre = 5, .post = 5, .lag = 2, .max_open = 4,
                               .max_bytes = 64LL << 20};
}

const char *vg_remux_extension(const AVCodecParameters *par) {
    if (par->codec_id == AV_CODEC_ID_RAWVIDEO) return NULL;
    static const char *const formats[][2] = {{"mp4", "mp4"}, {"matroska", "mkv"}};
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        const AVOutputFormat *f = av_guess_format(formats[i][0], NULL, NULL);
        if (f && avformat_query_codec(f, par->codec_id, FF_COMPLIANCE_NORMAL) == 1)
            return formats[i][1];
    }
    return NULL;
}

int vg_remuxer_create(const vg_remuxer_params *p, vg_remuxer **out, vg_error *err) {
    *out = NULL;
    int rc = vg_clip_check_span("clip remuxer", p->pre, p->post, p->lag, p->max_open, err);
    if (rc != VG_OK) return rc;
    if (p->max_bytes < 1)
        return vg_fail(err, VG_ERR_ARG, "clip remuxer: max_bytes %lld: must be at least 1",
                       p->max_bytes);
    vg_remuxer *r = calloc(1, sizeof *r);
    if (r) r->clips = calloc((size_t)p->max_open, sizeof *r->clips);
    if (r) r->par = avcodec_parameters_alloc();
    if (!r || !r->clips || !r->par) {
        vg_remuxer_free(r);
        return vg_fail(err, VG_ERR_NOMEM, "clip remuxer: out of memory");
    }
    r->p = *p;
    *out = r;
    return VG_OK;
}

static held *ring_at(const vg_remuxer *r, int i) {
    return &r->ring[(r->head + i) % r->capacity];
}

static int is_key(const held *h) {
    return (h->pkt->flags & AV_PKT_FLAG_KEY) != 0;
}

/* Lets go of the n oldest packets. */
static void ring_drop(vg_remuxer *r, int n) {
    for (int i = 0; i < n; i++) {
        held *h = ring_at(r, 0);
        r->bytes -= h->pkt->size;
        av_packet_free(&h->pkt);
        r->head = (r->head + 1) % r->capacity;
        r->count--;
    }
}

/* The place of the last keyframe at or before time t, 0 (the oldest, a keyframe) when
 * there is none that early. */
static int key_at_or_before(const vg_remuxer *r, double t) {
    int at = 0;
    for (int i = 1; i < r->count; i++) {
        const held *h = ring_at(r, i);
        if (!is_key(h)) continue;
        if (h->t > t) break;
        at = i;
    }
    return at;
}

/* Drops what no clip can need: packets before the keyframe the oldest clip would start
 * at, then whole GOPs while the ring's data exceed max_bytes. */
static void ring_trim(vg_remuxer *r) {
    ring_drop(r, key_at_or_before(r, r->newest - (r->p.pre + r->p.lag)));
    while (r->bytes > r->p.max_bytes && r->count > 0) {
        int n = 1;
        while (n < r->count && !is_key(ring_at(r, n))) n++;
        ring_drop(r, n);
    }
}

/* Doubles the ring's room, keeping its order. */
static int ring_grow(vg_remuxer *r) {
    int capacity = r->capacity ? 2 * r->capacity : 64;
    held *ring = malloc((size_t)capacity * sizeof *ring);
    if (!ring) return VG_ERR_NOMEM;
    for (int i = 0; i < r->count; i++) ring[i] = *ring_at(r, i);
    free(r->ring);
    r->ring = ring, r->capacity = capacity, r->head = 0;
    return VG_OK;
}

/* Keeps a reference to pkt at t; a ring only ever starts at a keyframe. */
static int ring_put(vg_remuxer *r, const AVPacket *pkt, double t, vg_error *err) {
    if (r->count == 0 && !(pkt->flags & AV_PKT_FLAG_KEY)) return VG_OK;
    AVPacket *ref = r->count < r->capacity || ring_grow(r) == VG_OK ? av_packet_clone(pkt)
                                                                     : NULL;
    if (!ref) return vg_fail(err, VG_ERR_NOMEM, "clip remuxer: out of memory for a packet");
    *ring_at(r, r->count++) = (held){ref, t};
    r->bytes += ref->size;
    r->newest = r->count == 1 ? t : fmax(r->newest, t);
    ring_trim(r);
    return VG_OK;
}

static int clip_add(clip *c, const AVPacket *pkt, double t, vg_error *err) {
    vg_clip_slot_note(c, t);
    return vg_clip_writer_add_packet(c->writer, pkt, t, err);
}

/* When pkt (shown at t) is decoded: t less the gap between its pts and dts. Packets come
 * in decoding order, so this time rises where t, with B-frames, does not; ending a clip
 * by it keeps the frames shown before its end whose packets come after a later one's. */
static double decode_time(const AVPacket *pkt, AVRational tb, double t) {
    if (pkt->pts == AV_NOPTS_VALUE || pkt->dts == AV_NOPTS_VALUE) return t;
    return t - (double)(pkt->pts - pkt->dts) * av_q2d(tb);
}

/* Packet pkt at t for clip c: one without packets waits for a keyframe; past its span
 * or length, the clip is finished; else written, and a clip that fails to take it ends
 * with that failure. */
static void clip_offer(clip *c, const AVPacket *pkt, double t, AVRational tb) {
    if (c->items == 0 && !(pkt->flags & AV_PKT_FLAG_KEY)) return;
    if (vg_clip_slot_over(c, decode_time(pkt, tb, t))) {
        vg_clip_slot_finish(c);
        return;
    }
    vg_error e = {0};
    int rc = clip_add(c, pkt, t, &e);
    if (rc != VG_OK) vg_clip_slot_fail(c, rc, &e);
}

void vg_remuxer_free(vg_remuxer *r) {
    if (!r) return;
    vg_clip_slots_finish(r->clips, r->p.max_open);
    ring_drop(r, r->count);
    free(r->ring);
    avcodec_parameters_free(&r->par);
    free(r->clips);
    free(r);
}

/* Whether st is not the stream of the packets seen so far. */
static int new_stream(const vg_remuxer *r, const AVStream *st) {
    const AVCodecParameters *a = r->par, *b = st->codecpar;
    return st != r->st || a->codec_id != b->codec_id || a->width != b->width ||
           a->height != b->height || av_cmp_q(r->tb, st->time_base) != 0;
}

/* Takes st as the stream: the open clips, of another, are finished, the ring emptied. */
static int adopt(vg_remuxer *r, const AVStream *st, vg_error *err) {
    if (avcodec_parameters_copy(r->par, st->codecpar) < 0)
        return vg_fail(err, VG_ERR_NOMEM, "clip remuxer: out of memory");
    vg_clip_slots_finish(r->clips, r->p.max_open);
    ring_drop(r, r->count);
    r->st = st;
    r->tb = st->time_base;
    AVRational rate = st->avg_frame_rate.num > 0 ? st->avg_frame_rate : st->r_frame_rate;
    r->fps = rate.num > 0 && rate.den > 0 ? av_q2d(rate) : 0;
    return VG_OK;
}

int vg_remuxer_packet(vg_remuxer *r, const AVPacket *pkt, const AVStream *st, double t,
                      vg_error *err) {
    if (!pkt || !st) return vg_fail(err, VG_ERR_ARG, "clip remuxer: no packet or stream given");
    if (!isfinite(t))
        return vg_fail(err, VG_ERR_ARG, "clip remuxer: packet time %g: not a finite number", t);
    if (new_stream(r, st)) {
        int rc = adopt(r, st, err);
        if (rc != VG_OK) return rc;
    }
    for (int i = 0; i < r->p.max_open; i++)
        if (r->clips[i].writer) clip_offer(&r->clips[i], pkt, t, r->tb);
    return ring_put(r, pkt, t, err);
}

int vg_remuxer_begin(vg_remuxer *r, long long key, const char *path, double start,
                     vg_clip_done done, void *user, vg_error *err) {
    clip *c = NULL;
    int rc = vg_clip_slot_claim(r->clips, r->p.max_open, key, path, start, &c, err);
    if (rc != VG_OK) return rc;
    if (!r->st)
        return vg_fail(err, VG_ERR_ARG, "clip %s: no packet seen yet: the stream to copy is "
                       "not known", path);
    clip made;
    rc = vg_clip_slot_init(&made, key, path, start - r->p.pre, done, user, err);
    if (rc != VG_OK) return rc;
    rc = vg_clip_writer_open_copy(path, r->par, r->tb, r->fps, &made.writer, err);
    for (int i = key_at_or_before(r, made.from); i < r->count && rc == VG_OK; i++)
        rc = clip_add(&made, ring_at(r, i)->pkt, ring_at(r, i)->t, err);
    return vg_clip_slot_commit(c, &made, rc);
}

void vg_remuxer_end(vg_remuxer *r, long long key, double end) {
    vg_clip_slots_end(r->clips, r->p.max_open, key, end, r->p.post);
}

int vg_remuxer_buffered(const vg_remuxer *r) {
    return r->count;
}

long long vg_remuxer_buffered_bytes(const vg_remuxer *r) {
    return r->bytes;
}

int vg_remuxer_open_clips(const vg_remuxer *r) {
    return vg_clip_slots_open(r->clips, r->p.max_open);
}
