/* test_remux.c - evidence clips without re-encoding (src/serve/remux.h): an H.264 source is
 * made first with the re-encoding recorder (clip.h) from frames that carry their index
 * painted in (evidence.h: a white 8x8 block on a 20-column grid), 160x80 at 10 fps,
 * a keyframe every 20 frames. Read back through a vg_source at a model size of 80x40 with
 * a packet tap feeding a remuxer (pre 2 s, post 1 s), an event from 8.5 to 11 s gives a
 * clip from the last keyframe at or before 6.5 s (frame 60: up to one GOP, 20 frames,
 * before frame 65) to frame 120 (12 s) or a few frames more (packets are ended by their
 * decoding time, which B-frames put up to 4 frames after the frames shown before it).
 * Checked: the clip's frames and size (the source's, not the model's), that its packets
 * are the source's byte for byte, PATH.tmp while recording, the refusals, and the ring's
 * bound on bytes. */
#include <libavformat/avformat.h>
#include <sys/stat.h>

#include "serve/remux.h"
#include "test.h"
#include "evidence.h"
#include "video/video.h"

#define W 160
#define H 80 /* 10 rows: places for the 200 frames */
#define FPS 10.0
#define FRAMES 200
#define GOP 20     /* the recorder's keyframe interval: 2 s */
#define REORDER 4  /* frames a clip may run past its end: x264's B-frame delay, and 1 */

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* The source: frames 0 .. FRAMES-1 re-encoded into one MP4. VG_ERR_UNSUPPORTED: no
 * encoder in this FFmpeg. */
static int make_source(const char *path) {
    vg_recorder_params p = vg_recorder_default_params();
    p.width = W, p.height = H, p.fps = FPS, p.pre = 0, p.post = 0;
    vg_recorder *r = NULL;
    vg_error err = {0};
    int rc = vg_recorder_create(&p, &r, &err);
    unsigned char *rgb = malloc((size_t)W * H * 3);
    outcome o = {0};
    for (int k = 0; k < FRAMES && rc == VG_OK && rgb; k++) {
        paint_index(rgb, W, H, k);
        rc = vg_recorder_push(r, rgb, k / FPS, &err);
        if (k == 0 && rc == VG_OK) rc = vg_recorder_begin(r, 1, path, 0, on_done, &o, &err);
    }
    vg_recorder_free(r);
    free(rgb);
    if (rc != VG_OK) fprintf(stderr, "  source: %s\n", err.msg);
    return rc == VG_OK && o.ok ? VG_OK : rc == VG_OK ? VG_ERR_IO : rc;
}

static unsigned long long fnv1a(const unsigned char *p, int n) {
    unsigned long long h = 1469598103934665603ULL;
    for (int i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

/* What the tap saw: each packet of the source, in order. */
typedef struct seen {
    vg_remuxer *rx;
    int n, keys, errors;
    double t[4 * FRAMES];
    int key[4 * FRAMES], size[4 * FRAMES];
    unsigned long long hash[4 * FRAMES];
} seen;

static void on_packet(void *user, const AVPacket *pkt, const AVStream *st) {
    seen *s = user;
    double t = (double)(pkt->pts - (st->start_time == AV_NOPTS_VALUE ? 0 : st->start_time)) *
               av_q2d(st->time_base);
    vg_error err = {0};
    if (vg_remuxer_packet(s->rx, pkt, st, t, &err) != VG_OK) s->errors++;
    if (s->n == 4 * FRAMES) return;
    s->t[s->n] = t, s->key[s->n] = (pkt->flags & AV_PKT_FLAG_KEY) != 0;
    s->size[s->n] = pkt->size, s->hash[s->n] = fnv1a(pkt->data, pkt->size);
    s->keys += s->key[s->n++];
}

/* Compares the clip's packets with the source's (s) from packet `from` on: how many are
 * byte-identical, of *n; s NULL: only counts them. */
static int same_packets(const char *path, const seen *s, int from, int *n) {
    AVFormatContext *fmt = NULL;
    AVPacket *pkt = av_packet_alloc();
    int same = 0;
    *n = 0;
    if (pkt && avformat_open_input(&fmt, path, NULL, NULL) == 0) {
        while (av_read_frame(fmt, pkt) == 0) {
            int j = from + (*n)++;
            same += s && j < s->n && pkt->size == s->size[j] &&
                    fnv1a(pkt->data, pkt->size) == s->hash[j];
            av_packet_unref(pkt);
        }
        avformat_close_input(&fmt);
    }
    av_packet_free(&pkt);
    return same;
}

static void test_extension(void) {
    AVCodecParameters *par = avcodec_parameters_alloc();
    if (!par) return;
    enum AVCodecID mp4[] = {AV_CODEC_ID_H264, AV_CODEC_ID_HEVC, AV_CODEC_ID_MPEG4,
                            AV_CODEC_ID_MJPEG};
    for (int i = 0; i < 4; i++) {
        par->codec_id = mp4[i];
        const char *e = vg_remux_extension(par);
        printf("extension for %-10s %s\n", avcodec_get_name(mp4[i]), e ? e : "(none)");
        CHECK(e && strcmp(e, "mp4") == 0);
    }
    par->codec_id = AV_CODEC_ID_VP8; /* not in MP4 (this FFmpeg's muxer), in Matroska */
    const char *e = vg_remux_extension(par);
    CHECK(e && strcmp(e, "mkv") == 0);
    par->codec_id = AV_CODEC_ID_RAWVIDEO; /* re-encode instead */
    CHECK(vg_remux_extension(par) == NULL);
    avcodec_parameters_free(&par);
}

static void test_refusals(void) {
    vg_remuxer_params p = vg_remuxer_default_params();
    vg_remuxer *rx = NULL;
    vg_error err = {0};
    p.max_bytes = 0;
    CHECK(vg_remuxer_create(&p, &rx, &err) == VG_ERR_ARG && !rx && strstr(err.msg, "max_bytes"));
    p = vg_remuxer_default_params(), p.lag = -1;
    CHECK(vg_remuxer_create(&p, &rx, &err) == VG_ERR_ARG && strstr(err.msg, "lag"));
    p = vg_remuxer_default_params();
    CHECK_OK(vg_remuxer_create(&p, &rx, &err), &err);
    if (!rx) return;
    const char *path = test_path("early.mp4");
    CHECK(vg_remuxer_begin(rx, 1, path, 0, on_done, NULL, &err) == VG_ERR_ARG &&
          strstr(err.msg, "no packet") && !exists(path));
    vg_remuxer_free(rx);
}

/* The source read at model size with the tap on; the clip begun and ended as it plays. */
static void test_clip(const char *source) {
    vg_remuxer_params p = vg_remuxer_default_params();
    p.pre = 2, p.post = 1, p.lag = 3, p.max_open = 1;
    static seen s;
    vg_error err = {0};
    CHECK_OK(vg_remuxer_create(&p, &s.rx, &err), &err);
    vg_source_params sp = vg_source_default_params();
    sp.width = W / 2, sp.height = H / 2;
    vg_source *src = NULL;
    CHECK_OK(vg_source_open(source, &sp, &src, &err), &err);
    if (!s.rx || !src) return;
    vg_source_set_packet_tap(src, on_packet, &s);
    char path[512], missing[512], tmp[600]; /* test_path's buffers are reused */
    snprintf(path, sizeof path, "%s", test_path("event.mp4"));
    snprintf(missing, sizeof missing, "%s", test_path("no/such/folder.mp4"));
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    outcome o = {0}, other = {0};
    vg_frame f;
    int open_at_120 = 0;
    while (vg_source_read(src, &f, &err) == VG_OK) {
        if (f.index == 90) {
            CHECK(vg_remuxer_begin(s.rx, 2, missing, 8.5, on_done, &other, &err) == VG_ERR_IO);
            CHECK(!exists(missing) && vg_remuxer_open_clips(s.rx) == 0);
            CHECK(vg_remuxer_begin(s.rx, 2, test_path("clip.xyz"), 8.5, on_done, &other,
                                   &err) == VG_ERR_UNSUPPORTED && strstr(err.msg, "extension"));
            CHECK(!exists(test_path("clip.xyz.tmp")) && vg_remuxer_open_clips(s.rx) == 0);
        }
        if (f.index == 100) {
            CHECK_OK(vg_remuxer_begin(s.rx, 1, path, 8.5, on_done, &o, &err), &err);
            CHECK(vg_remuxer_begin(s.rx, 1, test_path("b.mp4"), 8.5, NULL, NULL, &err) ==
                  VG_ERR_ARG);
            CHECK(vg_remuxer_begin(s.rx, 3, test_path("c.mp4"), 8.5, NULL, NULL, &err) ==
                  VG_ERR_UNSUPPORTED && strstr(err.msg, "max_open"));
        }
        if (f.index == 110) CHECK(exists(tmp) && !exists(path) && o.calls == 0);
        if (f.index == 120) vg_remuxer_end(s.rx, 1, 11.0), open_at_120 = 1;
    }
    vg_source_close(src);
    printf("tap: %d packets, %d keyframes, first at %.2f s (key %d), %d refused; ring %d "
           "packets %lld bytes\n", s.n, s.keys, s.t[0], s.key[0], s.errors,
           vg_remuxer_buffered(s.rx), vg_remuxer_buffered_bytes(s.rx));
    CHECK(s.n == FRAMES && s.key[0] && s.t[0] == 0 && s.errors == 0 && open_at_120);
    CHECK(o.calls == 1 && vg_remuxer_open_clips(s.rx) == 0); /* ended by a later packet */
    CHECK(other.calls == 0);
    vg_remuxer_free(s.rx);
    /* the source's packet the clip must start with: the last keyframe at or before 6.5 s */
    int from = -1;
    for (int i = 0; i < s.n; i++)
        if (s.key[i] && s.t[i] <= 6.5 + 1e-9) from = i;
    int first = from >= 0 ? (int)lround(s.t[from] * FPS) : -1;
    decoded d = decode_clip(path, W, H);
    int n = 0, same = same_packets(path, &s, from, &n);
    printf("clip: done %d ok %d %lld bytes%s%s; %dx%d, frames %d..%d (%d, consecutive %d), "
           "want %d..%d-%d; %d of %d packets identical\n", o.calls, o.ok, o.bytes,
           o.ok ? "" : ": ", o.why, d.width, d.height, d.first, d.last, d.frames,
           d.consecutive, first, 120, 120 + REORDER, same, n);
    CHECK(o.ok && o.bytes > 0 && !exists(tmp));
    CHECK(d.rc == VG_OK && d.width == W && d.height == H); /* the source's size */
    CHECK(first >= 65 - GOP && first <= 65 && d.first == first);
    CHECK(d.last >= 120 && d.last <= 120 + REORDER && d.consecutive);
    CHECK(n == d.frames && same == n);
}

/* What the bounded tap saw: the most bytes the ring held. */
typedef struct bounded {
    vg_remuxer *rx;
    long long most;
} bounded;

static void on_packet_bounded(void *user, const AVPacket *pkt, const AVStream *st) {
    bounded *b = user;
    vg_error err = {0};
    double t = (double)pkt->pts * av_q2d(st->time_base);
    CHECK_OK(vg_remuxer_packet(b->rx, pkt, st, t, &err), &err);
    if (vg_remuxer_buffered_bytes(b->rx) > b->most) b->most = vg_remuxer_buffered_bytes(b->rx);
}

/* A ring bounded to 400 bytes (a GOP of this source is about 500): it drops whole GOPs,
 * never holds more than the bound, and a clip begun from it still decodes from its first
 * packet (it starts at a keyframe). The clip is a Matroska file: the other muxer. */
static void test_bytes_bound(const char *source) {
    vg_remuxer_params p = vg_remuxer_default_params();
    p.max_bytes = 400;
    bounded b = {0};
    vg_error err = {0};
    CHECK_OK(vg_remuxer_create(&p, &b.rx, &err), &err);
    vg_source_params sp = vg_source_default_params();
    vg_source *src = NULL;
    CHECK_OK(vg_source_open(source, &sp, &src, &err), &err);
    if (!b.rx || !src) return;
    vg_source_set_packet_tap(src, on_packet_bounded, &b);
    char path[512];
    snprintf(path, sizeof path, "%s", test_path("bounded.mkv"));
    outcome o = {0};
    vg_frame f;
    while (vg_source_read(src, &f, &err) == VG_OK)
        if (f.index == 150) CHECK_OK(vg_remuxer_begin(b.rx, 1, path, 14, on_done, &o, &err), &err);
    vg_source_close(src);
    vg_remuxer_free(b.rx);
    decoded d = decode_clip(path, W, H);
    int n = 0;
    same_packets(path, NULL, 0, &n);
    printf("bounded ring: at most %lld bytes (bound %lld); clip frames %d..%d (%d of %d "
           "packets), consecutive %d\n", b.most, p.max_bytes, d.first, d.last, d.frames, n,
           d.consecutive);
    CHECK(b.most > 0 && b.most <= p.max_bytes);
    CHECK(o.ok && d.rc == VG_OK && d.consecutive && d.last == FRAMES - 1);
    CHECK(d.frames > 0 && d.frames == n); /* every packet decodes: it starts at a keyframe */
}

int main(void) {
    test_tmpdir("remux");
    test_extension();
    test_refusals();
    char source[512];
    snprintf(source, sizeof source, "%s", test_path("source.mp4"));
    int rc = make_source(source);
    if (rc == VG_ERR_UNSUPPORTED) {
        printf("SKIP: no H.264 or MPEG-4 encoder to make the source\n");
        test_tmpdir_remove();
        return TEST_SKIP;
    }
    CHECK(rc == VG_OK);
    if (rc == VG_OK) test_clip(source);
    if (rc == VG_OK) test_bytes_bound(source);
    test_tmpdir_remove();
    return test_result();
}
