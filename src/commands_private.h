/* commands_private.h - what commands.c shares with commands_shard.c (the
 * shards and state commands): the exit statuses, loading the config,
 * checking names, the collector lock and the terminal-safe text. For these
 * two files alone. */
#ifndef MW_COMMANDS_PRIVATE_H
#define MW_COMMANDS_PRIVATE_H

#include "config/config.h"
#include "shard.h"

struct json_object;

#define EXIT_FAILED 1
#define EXIT_USAGE 2

/* s, made safe for one line of a terminal or log (a few rotating buffers,
 * so one printf can show several). */
const char *cmd_safe(const char *s);
/* The config for a headless command, warnings on stderr; -1 (said) when
 * missing, bad or empty: exit 2. */
int cmd_load(const char *config, struct mw_config *cfg);
/* -1 (said, listing the configured names) unless every NAME is configured. */
int cmd_check_names(const struct mw_config *cfg, int argc, char **argv);
int cmd_is_help(const char *a);
/* The collector lock of cfg's state_dir for what ("fetch"): -1 said, naming
 * the holder. */
int cmd_take_lock(const struct mw_config *cfg, int *fd, const char *what);

/* commands_shard.c: argv[*i] is --shard K/N or --shard=K/N: 1 taken (*i
 * past its value), 0 another argument, -1 bad (said, naming the fix: exit
 * 2). cmd names the command for the message. */
int cmd_shard_option(const char *cmd, int argc, char **argv, int *i, struct mw_shard *sh);
/* -1 (said) when a NAME of fetch goes to another shard than sh. */
int cmd_shard_check_names(const struct mw_shard *sh, int argc, char **argv);
/* status --json's "shard": {k, n, integrations, configured}, or NULL
 * (JSON null) when unsharded. */
struct json_object *cmd_shard_json(const struct mw_config *cfg, const struct mw_shard *sh);

#endif
