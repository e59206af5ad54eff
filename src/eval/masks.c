/* masks.c - pixel-level ground truth: one mask image per frame, as Ped2's 1-bit PNGs.
 *
 * Masks are drawn on the source frames, and the model sees those frames through the ROI
 * and fit of its vg_source_params (video/convert.c vg_fit_rects: the ROI, or its centre for
 * fit crop, scaled onto the output, or onto a centred part of it between black bars for
 * fit pad). A mask takes the same way by nearest neighbour, so each output pixel gets the
 * label of the source pixel nearest its centre: no label is invented between classes.
 * Source pixels outside the ROI are not seen by the model and so not scored; output pixels
 * on pad's bars show no frame pixel and are VG_LABEL_NONE. PNGs are read with libpng's
 * simplified API into 8-bit grey, any bit depth or colour type; not black = anomalous. */
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "video/video.h"

struct vg_masks {
    char *dir;
    char **paths;
    int n;
    int frame_w, frame_h, out_w, out_h;
    int *src_x, *src_y;  /* per output column / row: the source pixel, -1 outside the frame */
    unsigned char *grey; /* frame_h x frame_w: the mask being read */
};

/* dst pixel i of a dst_len span starting at dst0 -> the nearest of src_len source pixels
 * starting at src0; -1 for pixels outside the span. */
static void nearest(int *map, int len, int dst0, int dst_len, int src0, int src_len) {
    for (int i = 0; i < len; i++) {
        if (i < dst0 || i >= dst0 + dst_len) {
            map[i] = -1;
            continue;
        }
        long long s = ((long long)(i - dst0) * 2 + 1) * src_len / (2LL * dst_len);
        map[i] = src0 + (int)(s < src_len ? s : src_len - 1);
    }
}

static int make_maps(vg_masks *m, const vg_source_params *p, vg_error *err) {
    m->out_w = p->width ? p->width : p->roi_w ? p->roi_w : m->frame_w;
    m->out_h = p->height ? p->height : p->roi_h ? p->roi_h : m->frame_h;
    vg_rect src, dst;
    int rc = vg_fit_rects(m->frame_w, m->frame_h, p, m->out_w, m->out_h, &src, &dst, err);
    if (rc) return rc;
    m->src_x = malloc((size_t)m->out_w * sizeof *m->src_x);
    m->src_y = malloc((size_t)m->out_h * sizeof *m->src_y);
    m->grey = malloc((size_t)m->frame_w * m->frame_h);
    if (!m->src_x || !m->src_y || !m->grey)
        return vg_fail(err, VG_ERR_NOMEM, "out of memory for %dx%d masks", m->frame_w,
                       m->frame_h);
    nearest(m->src_x, m->out_w, dst.x, dst.w, src.x, src.w);
    nearest(m->src_y, m->out_h, dst.y, dst.h, src.y, src.h);
    return VG_OK;
}

int vg_masks_open(const char *dir, int frame_w, int frame_h, const vg_source_params *p,
                  vg_masks **out, vg_error *err) {
    *out = NULL;
    if (frame_w < 1 || frame_h < 1)
        return vg_fail(err, VG_ERR_ARG, "%s: frame size %dx%d for masks", dir, frame_w,
                       frame_h);
    vg_masks *m = calloc(1, sizeof *m);
    if (!m) return vg_fail(err, VG_ERR_NOMEM, "out of memory for masks");
    m->frame_w = frame_w, m->frame_h = frame_h;
    m->dir = strdup(dir);
    int rc = !m->dir ? vg_fail(err, VG_ERR_NOMEM, "out of memory for masks")
                     : vg_list_folder(dir, vg_keep_image, &m->paths, &m->n, err);
    if (!rc && !m->n) rc = vg_fail(err, VG_ERR_FORMAT, "%s: no mask images", dir);
    if (!rc && make_maps(m, p, err)) rc = vg_wrap(err, dir);
    if (rc) {
        vg_masks_free(m);
        return rc;
    }
    *out = m;
    return VG_OK;
}

int vg_masks_count(const vg_masks *m) { return m->n; }

void vg_masks_free(vg_masks *m) {
    if (!m) return;
    vg_clips_free(m->paths, m->n);
    free(m->dir), free(m->src_x), free(m->src_y), free(m->grey);
    free(m);
}

/* The mask at path into m->grey, checked against the frame size. */
static int read_grey(vg_masks *m, const char *path, vg_error *err) {
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&img, path))
        return vg_fail(err, VG_ERR_FORMAT, "%s: not a readable PNG mask (%s)", path, img.message);
    if ((int)img.width != m->frame_w || (int)img.height != m->frame_h) {
        png_image_free(&img);
        return vg_fail(err, VG_ERR_SHAPE, "%s: mask is %ux%u, the frames are %dx%d", path,
                       img.width, img.height, m->frame_w, m->frame_h);
    }
    img.format = PNG_FORMAT_GRAY;
    if (!png_image_finish_read(&img, NULL, m->grey, 0, NULL))
        return vg_fail(err, VG_ERR_FORMAT, "%s: corrupt PNG mask (%s)", path, img.message);
    return VG_OK;
}

int vg_masks_read(vg_masks *m, int k, unsigned char *out, vg_error *err) {
    if (k < 0 || k >= m->n)
        return vg_fail(err, VG_ERR_SHAPE, "%s: no mask for frame %d (%d masks)", m->dir, k,
                       m->n);
    int rc = read_grey(m, m->paths[k], err);
    if (rc) return rc;
    for (int y = 0; y < m->out_h; y++) {
        unsigned char *o = out + (size_t)y * m->out_w;
        int sy = m->src_y[y] < 0 ? 0 : m->src_y[y];
        const unsigned char *row = m->grey + (size_t)sy * m->frame_w;
        for (int x = 0; x < m->out_w; x++)
            o[x] = m->src_y[y] < 0 || m->src_x[x] < 0 ? VG_LABEL_NONE : row[m->src_x[x]] != 0;
    }
    return VG_OK;
}
