/* cmd_info.c - `vigil info MODEL`: what a model file holds. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_info(int argc, char **argv) {
    if (argc != 2 || !strcmp(argv[1], "--help")) {
        fprintf(argc == 2 ? stdout : stderr, "usage: vigil info MODEL.safetensors\n");
        return argc == 2 ? 0 : 2;
    }
    vg_model *m = NULL;
    vg_error err = {0};
    if (vg_model_load(argv[1], 1, &m, &err)) {
        fprintf(stderr, "vigil: %s\n", err.msg);
        return 1;
    }
    vg_model_info i = vg_model_describe(m);
    printf("model      %s\nencoder    %s (frozen, %lld parameters)\nvariant    %s\n"
           "frames     %d\ninput      %dx%d\nmean       %.3f %.3f %.3f\nstd        %.3f %.3f %.3f\n"
           "trainable  %lld parameters\n",
           argv[1], i.encoder, i.frozen_params, i.variant, i.frames, i.width, i.height,
           i.mean[0], i.mean[1], i.mean[2], i.std[0], i.std[1], i.std[2], i.trainable_params);
    vg_model_free(m);
    return 0;
}
