/* test_privacy.c - privacy masks and the frame queue of vigil watch.
 *
 * Masks: a polygon drawn on source frames is mapped through the ROI and scaling onto the
 * model's input and blacked out there, with a one-pixel margin; every pixel whose centre is
 * inside is covered, and nothing beyond the margin is. Queue: bounded, drop-oldest, counted,
 * and a dropped first-of-clip mark is handed on. */
#include <string.h>

#include "serve/privacy.h"
#include "serve/queue.h"
#include "test.h"

/* A square 20..40 x 10..30 in a 100x100 source, the ROI 0,0,100,100 scaled to 50x50. */
static void test_mask_square(void) {
    vg_polygon sq = {4, (double[]){20, 10, 40, 10, 40, 30, 20, 30}};
    unsigned char mask[50 * 50];
    long long covered = vg_privacy_mask(&sq, 1, (vg_rect){0, 0, 100, 100}, (vg_rect){0, 0, 50, 50},
                                        50, 50, mask);
    /* inside: x 10..19, y 5..14 (centres 10.5..19.5 < 20); margin one more on each side */
    int inside_ok = 1, outside_ok = 1;
    for (int y = 0; y < 50; y++)
        for (int x = 0; x < 50; x++) {
            int core = x >= 10 && x < 20 && y >= 5 && y < 15;
            int near = x >= 9 && x < 21 && y >= 4 && y < 16;
            if (core && !mask[y * 50 + x]) inside_ok = 0;
            if (!near && mask[y * 50 + x]) outside_ok = 0;
        }
    printf("%-44s %lld pixels (12 x 12 with the margin) inside %s outside %s\n",
           "square through a x1/2 scale", covered, inside_ok ? "ok" : "FAIL",
           outside_ok ? "ok" : "FAIL");
    CHECK(covered == 144 && inside_ok && outside_ok);

    unsigned char rgb[50 * 50 * 3];
    memset(rgb, 200, sizeof rgb);
    vg_privacy_apply(rgb, mask, 50, 50);
    CHECK(rgb[3 * (10 * 50 + 15)] == 0 && rgb[3 * (40 * 50 + 40)] == 200);
}

/* A triangle under a ROI offset: the mapping shifts by the ROI's corner. */
static void test_mask_roi(void) {
    vg_polygon tri = {3, (double[]){60, 60, 80, 60, 60, 80}};
    unsigned char mask[40 * 40];
    long long covered = vg_privacy_mask(&tri, 1, (vg_rect){50, 50, 40, 40}, (vg_rect){0, 0, 40, 40},
                                        40, 40, mask);
    int ok = mask[12 * 40 + 12] && !mask[30 * 40 + 30] && !mask[2 * 40 + 2] && covered > 200 &&
             covered < 320;
    printf("%-44s %lld pixels, corner (12,12) covered, (30,30) not %s\n", "triangle under a ROI",
           covered, ok ? "ok" : "FAIL");
    CHECK(ok);
}

static void test_queue(void) {
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    vg_frame_queue *q = NULL;
    vg_error err = {0};
    CHECK_OK(vg_queue_create(3, 4, &lock, NULL, &q, &err), &err);
    if (!q) return;
    unsigned char px[4];
    for (int i = 0; i < 5; i++) {
        memset(px, i, sizeof px);
        vg_queue_push(q, &(vg_queued){.rgb = px, .seq = i, .first = i == 0});
    }
    unsigned char got[4];
    vg_queued f = {.rgb = got};
    pthread_mutex_lock(&lock);
    int size = vg_queue_size_locked(q), ok = 1;
    long long seq[3] = {-1, -1, -1};
    int first = 0;
    for (int i = 0; i < 3 && vg_queue_pop_locked(q, &f); i++) {
        seq[i] = f.seq;
        ok &= got[0] == (unsigned char)f.seq;
        first |= f.seq == 2 && f.first;
    }
    int empty = !vg_queue_pop_locked(q, &f);
    pthread_mutex_unlock(&lock);
    printf("%-44s size %d, kept %lld %lld %lld, dropped %lld, first mark on 2: %d %s\n",
           "5 frames into a queue of 3", size, seq[0], seq[1], seq[2], vg_queue_dropped(q), first,
           size == 3 && seq[0] == 2 && seq[2] == 4 && vg_queue_dropped(q) == 2 && first && ok && empty
               ? "ok" : "FAIL");
    CHECK(size == 3 && seq[0] == 2 && seq[2] == 4 && vg_queue_dropped(q) == 2 && first && ok && empty);
    vg_queue_free(q);
    CHECK(vg_queue_create(0, 4, &lock, NULL, &q, &err) == VG_ERR_ARG);
}

int main(void) {
    test_mask_square();
    test_mask_roi();
    test_queue();
    return test_result();
}
