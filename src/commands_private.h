/* commands_private.h - what the headless commands' files (commands.c,
 * commands_replay.c) share: commands.c's loading, locking and printing
 * helpers. Nothing else includes it. */
#ifndef MW_COMMANDS_PRIVATE_H
#define MW_COMMANDS_PRIVATE_H

#include "config/config.h"

#define EXIT_FAILED 1
#define EXIT_USAGE 2

/* Loads the config for a headless command; -1 (printed): exit 2. */
int cmd_load(const char *config, struct mw_config *cfg);
/* Text that is not ours, made safe for one line of a terminal (a few
 * buffers in turn, so one printf can show several). */
const char *cmd_safe(const char *s);
int cmd_is_help(const char *a);
/* state_dir's lock for a command that delivers; -1 (printed) when another
 * process holds it: exit 1. */
int cmd_take_lock(const struct mw_config *cfg, int *fd, const char *what);

#endif
