/* main.c - the mimewatch command line: global options, then the subcommand
 * (design.md, "Commands"). --config, --help and --version are accepted
 * before or after the subcommand. */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <curl/curl.h>

#include "commands.h"
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
	"  mimewatch run                  collect and deliver until SIGTERM or SIGINT\n"
	"  mimewatch status   [--json]    every integration, type and output with its state\n"
	"  mimewatch reset    NAME [TYPE] move a horizon back (asks, or --yes)\n"
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
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

int main(int argc, char **argv)
{
	const char *config = NULL;
	int cmd = -1, help = 0, version = 0, demo = 0, nrest = 0, rc;
	char **rest = calloc((size_t)argc + 1, sizeof(char *));
	struct rlimit nocore = { 0, 0 };

	/* Secrets live in this process's memory: never leave them in a core. */
	setrlimit(RLIMIT_CORE, &nocore);
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
		(void)demo;
		fprintf(stderr, "mimewatch: this build has no console yet (it arrives with the "
				"console issue); use one of the commands below.\n\n%s", usage);
		free(rest);
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = commands[cmd].fn(config, nrest, rest);
	curl_global_cleanup();
	free(rest);
	return rc;
}
