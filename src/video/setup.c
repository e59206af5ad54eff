/* setup.c - the process-wide FFmpeg state vigil sets, once. */
#include <libavdevice/avdevice.h>
#include <libavutil/log.h>
#include <pthread.h>

#include "video/video.h"

static pthread_once_t setup_once = PTHREAD_ONCE_INIT;

static void setup(void) {
    /* FFmpeg logs to stderr by default; vigil reports through vg_error instead. The level is
     * global to the process, which is why this runs once rather than per source. */
    av_log_set_level(AV_LOG_QUIET);
    avdevice_register_all();
}

void vg_video_setup(void) {
    pthread_once(&setup_once, setup);
}
