/* cmd_info.c - `vigil info MODEL`: what a model file holds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_info(int argc, char **argv) {
    if (argc != 2 || !strcmp(argv[1], "--help")) {
        fprintf(argc == 2 ? stdout : stderr, "usage: vigil info MODEL.safetensors\n");
        return argc == 2 ? 0 : 2;
    }
    vg_model *m = NULL;
    vg_error err = {0};
    if (vg_model_load(argv[1], 1, &m, &err)) return cli_fail("info", &err);
    vg_model_info i = vg_model_describe(m);
    printf("model      %s\n", argv[1]);
    if (i.frozen_params)
        printf("encoder    %s (frozen, %lld parameters)\n", i.encoder, i.frozen_params);
    else
        printf("encoder    %s (trained from scratch)\n", i.encoder);
    printf("variant    %s\nframes     %d, step %d\ninput      %dx%d (WxH)\n"
           "mean       %.3f %.3f %.3f\nstd        %.3f %.3f %.3f\ntrainable  %lld parameters\n",
           i.variant, i.frames, i.step, i.width, i.height, i.mean[0], i.mean[1], i.mean[2], i.std[0],
           i.std[1], i.std[2], i.trainable_params);
    static const char *const sections[] = {"training", "validation", "calibration"};
    for (size_t k = 0; k < sizeof sections / sizeof *sections; k++) {
        char *s = vg_model_get_meta(m, sections[k]);
        if (s) printf("%-10s %s\n", sections[k], s);
        free(s);
    }
    vg_model_free(m);
    return 0;
}
