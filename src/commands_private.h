/* commands_private.h - what the headless commands' files share (commands.c,
 * commands_cursor.c: reset, rename and backfill; commands_shard.c: shards
 * and --shard; commands_state.c: state export and
 * import; commands_replay.c: replay): the exit statuses, loading the config,
 * checking names, the collector lock, handing a request to a running
 * collector and the terminal-safe text. Nothing else includes it. */
#ifndef MW_COMMANDS_PRIVATE_H
#define MW_COMMANDS_PRIVATE_H

#include "config/config.h"
#include "mimecast/mimecast.h"
#include "requests.h"
#include "shard.h"
#include "store/store.h"

struct json_object;

/* The longest duration an option takes, as the config's (src/config/): past it
 * a retry budget in ms overflows, a reset horizon leaves the calendar. */
#define OPT_DURATION_MAX ((int64_t)36500 * 86400)

#define EXIT_FAILED 1
#define EXIT_USAGE 2

/* s, made safe for one line of a terminal or log (a few rotating buffers,
 * so one printf can show several). */
const char *cmd_safe(const char *s);
/* A result's "HTTP 403 CODE", or "no response, CODE" when none came (one
 * static buffer: once per printf). */
const char *cmd_http_part(const struct mc_result *r);
/* t as RFC 3339 UTC, or "never" for 0. */
void cmd_fmt_time(int64_t t, char *buf, size_t n);
/* The config for a headless command, warnings on stderr; -1 (said) when
 * missing, bad or empty: exit 2. */
int cmd_load(const char *config, struct mw_config *cfg);
/* -1 (said, listing the configured names) unless every NAME is configured. */
int cmd_check_names(const struct mw_config *cfg, int argc, char **argv);
int cmd_is_help(const char *a);
/* The collector lock of cfg's state_dir for what ("fetch"): -1 said, naming
 * the holder. */
int cmd_take_lock(const struct mw_config *cfg, int *fd, const char *what);

/* The store of cfg opened and its collector lock tried: 1 this process
 * holds it (*lockfd), 0 a collector runs (*pid: hand the request over), -1
 * failed (printed). *s is to be closed in every case. */
int cmd_open_store_locked(const struct mw_config *cfg, mw_store **s, int *lockfd, long *pid);
/* Hands a request to the collector pid through the store and waits up to
 * 10 s: 0 carried out; -1 refused or unanswered (printed after who). */
int cmd_hand_over(mw_store *s, const char *integration, const char *type,
		  enum mw_request action, const char *arg, long pid, const char *who);

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
