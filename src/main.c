/* main.c - the mimewatch command line: global options, then the subcommand
 * (HACKING, "Commands and exit status"). --config, --help and --version
 * are accepted before or after the subcommand. */
#include <locale.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <curl/curl.h>

#include "commands.h"
#include "netpolicy.h"
#include "shard.h"
#include "../ui/console.h"
#include "util.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

static const char usage[] =
	"usage: mimewatch [--config FILE] [COMMAND [ARGS]]\n"
	"\n"
	"Collects Mimecast Email Security TTP logs (URL Protect, Impersonation Protect,\n"
	"Attachment Protect) into a local store, exactly once, and forwards them.\n"
	"\n"
	"  mimewatch validate [NAME...]   check credentials and each type's permission\n"
	"  mimewatch fetch    [NAME...]   collect everything up to now - lag, deliver, exit\n"
	"  mimewatch run    [--shard K/N] collect and deliver until SIGTERM or SIGINT\n"
	"  mimewatch status   [--json]    every integration, type and output with its state\n"
	"                     --events    the collector's recent events, newest first\n"
	"  mimewatch reset    NAME [TYPE] move a horizon back (asks, or --yes)\n"
	"  mimewatch rename   OLD NEW     rename an integration, keeping its cursors and records\n"
	"  mimewatch backfill NAME TYPE --since T --until T   read that span again\n"
	"  mimewatch shards   N [--from M] which of N collectors (run --shard K/N) takes\n"
	"                                 each integration, and what moves from M\n"
	"  mimewatch state    export NAME [--output FILE] | import [--force] FILE\n"
	"                                 carry an integration's cursors to another store\n"
	"  mimewatch replay   OUTPUT --since T [--until T]    deliver a span again\n"
	"\n"
	"Without a command: the console (the setup wizard when there is no config yet).\n"
	"  --demo          the console on two built-in simulated tenants (127.0.0.1 only)\n"
	"  --no-mouse      leave the mouse to the terminal (clicks select text, not rows)\n"
	"  --shard K/N     on a config N collectors share, collect only shard K's\n"
	"                  integrations (as run --shard K/N; mimewatch shards N lists them)\n"
	"\n"
	"  --config FILE   default $XDG_CONFIG_HOME/mimewatch/config.yaml\n"
	"  --verbose       more detail on stderr (never secrets)\n"
	"  --help, --version\n"
	"\n"
	"Each command takes --help. See mimewatch(1) and mimewatch.yaml(5).\n";

static const struct {
	const char *name;
	int (*fn)(const char *config, int argc, char **argv);
} commands[] = {
	{ "validate", cmd_validate },
	{ "fetch", cmd_fetch },
	{ "run", cmd_run },
	{ "status", cmd_status },
	{ "reset", cmd_reset },
	{ "rename", cmd_rename },
	{ "backfill", cmd_backfill },
	{ "shards", cmd_shards },
	{ "state", cmd_state },
	{ "replay", cmd_replay },
};

#define NCOMMANDS NELEM(commands)

int main(int argc, char **argv)
{
	const char *config = NULL;
	int cmd = -1, help = 0, version = 0, demo = 0, no_mouse = 0, nrest = 0, rc;
	const char *script = NULL, *size = NULL;
	struct mw_shard shard = { 0, 0 };
	char **rest = calloc((size_t)argc + 1, sizeof(char *));
	struct rlimit nocore = { 0, 0 };

	/* Secrets live in this process's memory: never leave them in a core,
	 * and keep other processes of the same user from reading it (ptrace,
	 * /proc/PID/mem, environ: a _env secret) or piping a core away (a
	 * core_pattern handler ignores RLIMIT_CORE; dumpable 0 it does not). */
	setrlimit(RLIMIT_CORE, &nocore);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#if defined(M_TRIM_THRESHOLD) && defined(M_MMAP_THRESHOLD)
	/* A backfill allocates and frees the same sizes page after page (a
	 * response, its parsed tokens, the committed page kept for the
	 * outputs): glibc's defaults gave the freed top of the heap back to
	 * the kernel and the next page faulted it in again, a third of the
	 * page faults of a fetch and a few percent of its CPU. Kept up to
	 * 32 MiB instead; blocks up to 4 MiB come from the heap, not mmap. */
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	mallopt(M_TRIM_THRESHOLD, 32 << 20);
#endif
	setlocale(LC_ALL, "");
	if (!rest)
		return 2;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--config") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "mimewatch: --config needs a FILE\n");
				free(rest);
				return 2;
			}
			config = argv[++i];
		} else if (strncmp(a, "--config=", 9) == 0) {
			config = a + 9;
		} else if (strcmp(a, "--version") == 0) {
			version = 1;
		} else if (strcmp(a, "--verbose") == 0) {
			mw_log_level = 2;
		} else if (strcmp(a, "--demo") == 0 && cmd < 0) {
			demo = 1;
		} else if (strcmp(a, "--no-mouse") == 0 && cmd < 0) {
			no_mouse = 1;
		} else if ((strcmp(a, "--shard") == 0 || strncmp(a, "--shard=", 8) == 0) &&
			   cmd < 0) {
			const char *v = a[7] == '=' ? a + 8 : (i + 1 < argc ? argv[++i] : "");
			char why[160];

			if (shard_parse(v, &shard, why, sizeof(why)) < 0) {
				fprintf(stderr, "mimewatch: --shard: %s\n", why);
				free(rest);
				return 2;
			}
		} else if ((strcmp(a, "--script") == 0 || strcmp(a, "--size") == 0) && cmd < 0) {
			/* Hidden test options of the console (script mode). */
			if (i + 1 >= argc) {
				fprintf(stderr, "mimewatch: %s needs a value\n", a);
				free(rest);
				return 2;
			}
			if (a[2] == 's' && a[3] == 'c')
				script = argv[++i];
			else
				size = argv[++i];
		} else if ((strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) && cmd < 0) {
			help = 1;
		} else if (cmd < 0 && a[0] != '-') {
			for (size_t k = 0; k < NCOMMANDS; k++)
				if (strcmp(a, commands[k].name) == 0)
					cmd = (int)k;
			if (cmd < 0) {
				fprintf(stderr, "mimewatch: unknown command '%s'\n\n%s", a, usage);
				free(rest);
				return 2;
			}
		} else if (cmd >= 0) {
			rest[nrest++] = argv[i];
		} else {
			fprintf(stderr, "mimewatch: unknown option %s\n\n%s", a, usage);
			free(rest);
			return 2;
		}
	}
	if (version) {
		printf("mimewatch %s\n", PACKAGE_VERSION);
		free(rest);
		return 0;
	}
	if (help && cmd < 0) {
		fputs(usage, stdout);
		free(rest);
		return 0;
	}
	if (help) {
		static char help_arg[] = "--help";

		rest[nrest++] = help_arg;
	}
	if (cmd < 0) {
		struct console_opts co = { .config = config, .demo = demo, .script = script,
					   .cols = 100, .rows = 30, .no_mouse = no_mouse,
					   .shard_k = shard.k, .shard_n = shard.n };
		char extra;

		if (size && (sscanf(size, "%dx%d%c", &co.cols, &co.rows, &extra) != 2 ||
			     co.cols < 1 || co.rows < 1 || co.cols > 1000 || co.rows > 1000)) {
			fprintf(stderr, "mimewatch: --size %s: give COLSxROWS, e.g. --size 100x30\n",
				size);
			free(rest);
			return 2;
		}
		if (demo && shard.n) {
			fprintf(stderr, "mimewatch: --demo collects its own tenants; drop --shard\n");
			free(rest);
			return 2;
		}
		if (demo && config) {
			fprintf(stderr, "mimewatch: --demo makes its own config; drop --config\n");
			free(rest);
			return 2;
		}
		free(rest);
		net_curl_init();
		rc = console_main(&co);
		curl_global_cleanup();
		return rc;
	}
	if (demo || no_mouse || script || size) {
		fprintf(stderr, "mimewatch: --demo, --no-mouse, --script and --size belong to the "
				"console, not to '%s'\n", commands[cmd].name);
		free(rest);
		return 2;
	}
	net_curl_init();
	rc = commands[cmd].fn(config, nrest, rest);
	curl_global_cleanup();
	free(rest);
	return rc;
}
