/* commands_private.h - what the headless commands' files (commands.c,
 * commands_replay.c) share: commands.c's loading, locking and printing
 * helpers. Nothing else includes it. */
#ifndef MW_COMMANDS_PRIVATE_H
#define MW_COMMANDS_PRIVATE_H

#include "config/config.h"
#include "requests.h"
#include "store/store.h"

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

/* The store of cfg opened and its collector lock tried: 1 this process
 * holds it (*lockfd), 0 a collector runs (*pid: hand the request over), -1
 * failed (printed). *s is to be closed in every case. */
int cmd_open_store_locked(const struct mw_config *cfg, mw_store **s, int *lockfd, long *pid);
/* Hands a request to the collector pid through the store and waits up to
 * 10 s: 0 carried out; -1 refused or unanswered (printed after who). */
int cmd_hand_over(mw_store *s, const char *integration, const char *type,
		  enum mw_request action, const char *arg, long pid, const char *who);

#endif
