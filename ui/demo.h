/* demo.h - demo.c: --demo's simulated tenants (for console.c). Free of
 * curses. */
#ifndef MW_UI_DEMO_H
#define MW_UI_DEMO_H

#include <stddef.h>

#include "util.h"

/* Starts two mimewatch-sim children on 127.0.0.1 and writes a config for
 * them into a fresh 0700 directory; its path goes into config_path. 0, or
 * -1 with the reason (nothing left running). */
int demo_start(char *config_path, size_t n, mw_err *e);
/* Stops and reaps the children and removes the directory. */
void demo_stop(void);

#endif
