/* commands.h - the headless commands (HACKING, "Commands and exit
 * status"). Each takes the arguments after the subcommand (global --config
 * already removed) and returns the exit status: 0 ok, 1 failed for at
 * least one integration or type, 2 bad usage or config. */
#ifndef MW_COMMANDS_H
#define MW_COMMANDS_H

int cmd_validate(const char *config, int argc, char **argv);
int cmd_fetch(const char *config, int argc, char **argv);
int cmd_run(const char *config, int argc, char **argv);
int cmd_status(const char *config, int argc, char **argv);
int cmd_reset(const char *config, int argc, char **argv);
int cmd_rename(const char *config, int argc, char **argv);
int cmd_backfill(const char *config, int argc, char **argv);
/* commands_shard.c */
int cmd_shards(const char *config, int argc, char **argv);
/* commands_state.c */
int cmd_state(const char *config, int argc, char **argv);
/* commands_replay.c */
int cmd_replay(const char *config, int argc, char **argv);

#endif
