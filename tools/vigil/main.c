/* main.c - the vigil command: dispatches to one cmd_<verb>.c per command. */
#include <stdio.h>
#include <string.h>

#include "vigil/vigil.h"

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        printf("usage: vigil <command> [options]\n");
        return argc < 2 ? 2 : 0;
    }
    fprintf(stderr, "vigil: unknown command '%s' (try 'vigil --help')\n", argv[1]);
    return 2;
}
