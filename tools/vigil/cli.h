/* cli.h - what the command files share: one entry point per command and small helpers
 * for parsing numbers with a clear error. */
#ifndef VIGIL_CLI_H
#define VIGIL_CLI_H

#include "vigil/vigil.h"

int cmd_bench(int argc, char **argv);
int cmd_info(int argc, char **argv);

/* Parses an integer option value in [lo, hi]; prints "vigil: OPTION: ..." and returns 0
 * on failure. */
int cli_int(const char *option, const char *value, long lo, long hi, long *out);

#endif
