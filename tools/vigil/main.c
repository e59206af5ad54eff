/* main.c - the vigil command: dispatches to one cmd_<verb>.c per command. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct command {
    const char *name, *help;
    int (*run)(int argc, char **argv);
} commands[] = {
    {"bench", "measure inference and training speed (see bench/run for PyTorch ratios)", cmd_bench},
    {"info", "describe a model file", cmd_info},
};

int cli_int(const char *option, const char *value, long lo, long hi, long *out) {
    char *end = NULL;
    errno = 0;
    long v = value ? strtol(value, &end, 10) : 0;
    if (!value || !*value || *end || errno || v < lo || v > hi) {
        fprintf(stderr, "vigil: %s: '%s' is not an integer in %ld..%ld\n", option,
                value ? value : "", lo, hi);
        return 0;
    }
    *out = v;
    return 1;
}

static void usage(FILE *f) {
    fprintf(f, "usage: vigil <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n'vigil <command> --help' describes a command's options.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "vigil: unknown command '%s' (try 'vigil --help')\n", argv[1]);
    return 2;
}
