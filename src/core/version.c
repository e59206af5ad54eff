/* version.c - the version the build system stamps into the library. */
#include "vigil/vigil.h"

const char *vg_version(void) { return VIGIL_VERSION; }
