/* commands_cursor.c - the commands that move an integration's cursors or
 * name: `mimewatch reset` (the horizon back to a time), `rename` (an
 * integration's new name, store and config together) and `backfill` (a
 * span read again beside the regular collection). A running collector is
 * handed the change through the store (cmd_hand_over); otherwise the
 * command makes it itself under the collector lock (HACKING, "Commands
 * and exit status"). */
#include "commands.h"
#include "commands_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector.h"
#include "logtypes.h"
#include "util.h"

/* ---- reset ------------------------------------------------------------------------ */

static const char reset_usage[] =
	"usage: mimewatch reset [--config FILE] [--yes] [--since DURATION] NAME [TYPE]\n"
	"Moves the horizon of NAME (every type, or only TYPE) back to now - lookback\n"
	"(or now - DURATION), so the next collection reads that period again; records\n"
	"already stored are not duplicated. Asks for confirmation unless --yes.\n";

int cmd_reset(const char *config, int argc, char **argv)
{
	struct mw_config cfg;
	const struct mw_integration *in;
	const char *name = NULL, *type = NULL;
	int yes = 0, lockfd = -1, locked, rc = 0;
	int64_t since = -1;
	long pid = 0;
	mw_store *s = NULL;
	mw_err e;

	for (int i = 0; i < argc; i++) {
		if (cmd_is_help(argv[i])) {
			fputs(reset_usage, stdout);
			return 0;
		} else if (strcmp(argv[i], "--yes") == 0 || strcmp(argv[i], "-y") == 0) {
			yes = 1;
		} else if (strcmp(argv[i], "--since") == 0 || strncmp(argv[i], "--since=", 8) == 0) {
			/* as fetch's --retry-budget: a missing value is named, not
			 * called an unknown option */
			const char *v = argv[i][7] == '=' ? argv[i] + 8 : (i + 1 < argc ? argv[++i] : "");

			if (mw_parse_duration(v, &since) < 0) {
				fprintf(stderr, "mimewatch reset: --since '%s' is not a duration; "
						"write e.g. 48h, 7d\n", cmd_safe(v));
				return EXIT_USAGE;
			}
			if (since > OPT_DURATION_MAX) {
				fprintf(stderr, "mimewatch reset: --since '%s' is out of range; give at "
						"most 36500d, e.g. 7d\n", cmd_safe(v));
				return EXIT_USAGE;
			}
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "mimewatch reset: unknown option %s\n%s", argv[i], reset_usage);
			return EXIT_USAGE;
		} else if (!name) {
			name = argv[i];
		} else if (!type) {
			type = argv[i];
		} else {
			fprintf(stderr, "%s", reset_usage);
			return EXIT_USAGE;
		}
	}
	if (!name) {
		fprintf(stderr, "mimewatch reset: which integration?\n%s", reset_usage);
		return EXIT_USAGE;
	}
	if (cmd_load(config, &cfg) < 0)
		return EXIT_USAGE;
	in = config_find(&cfg, name);
	if (!in) {
		cmd_check_names(&cfg, 1, (char **)&name);
		config_free(&cfg);
		return EXIT_USAGE;
	}
	if (type && (logtype_index(type) < 0 || !(in->types & (1u << logtype_index(type))))) {
		fprintf(stderr, "mimewatch reset: '%s' is not a type collected by %s\n", type, name);
		config_free(&cfg);
		return EXIT_USAGE;
	}
	{
		int64_t h = mw_now() - (since >= 0 ? since : in->lookback);
		char when[40];

		cmd_fmt_time(h, when, sizeof(when));
		if (!yes) {
			char answer[16] = "";

			if (!isatty(STDIN_FILENO)) {
				fprintf(stderr, "mimewatch reset: refusing without --yes when not on a "
						"terminal\n");
				config_free(&cfg);
				return EXIT_USAGE;
			}
			printf("Reset %s%s%s: collect again from %s? [y/N] ", name, type ? "/" : "",
			       type ? type : "", when);
			fflush(stdout);
			if (!fgets(answer, sizeof(answer), stdin) ||
			    (answer[0] != 'y' && answer[0] != 'Y')) {
				printf("nothing changed\n");
				config_free(&cfg);
				return 0;
			}
		}
		locked = cmd_open_store_locked(&cfg, &s, &lockfd, &pid);
		if (locked == 1) {
			for (size_t t = 0; t < mw_nlogtypes; t++) {
				int64_t src;

				if (!(in->types & (1u << t)) || (type && strcmp(type, mw_logtypes[t].name)))
					continue;
				if (store_source(s, name, mw_logtypes[t].name, &src, &e) < 0 ||
				    store_reset_cursor(s, src, h, &e) < 0) {
					fprintf(stderr, "mimewatch: %s\n", e.msg);
					rc = EXIT_FAILED;
					continue;
				}
				printf("%s/%s: horizon reset to %s\n", name, mw_logtypes[t].name, when);
			}
			close(lockfd);
		} else if (locked == 0) {
			/* A collector is running: ask it, through the store. */
			char arg[32];

			snprintf(arg, sizeof(arg), "%lld", (long long)h);
			if (cmd_hand_over(s, name, type ? type : "", MW_REQ_RESET, arg, pid, "mimewatch") < 0)
				rc = EXIT_FAILED;
			else
				printf("%s%s%s: horizon reset to %s by the running collector (pid %ld)\n",
				       name, type ? "/" : "", type ? type : "", when, pid);
		} else {
			rc = EXIT_FAILED;
		}
	}
	if (rc == 0 && in->api == 1)
		for (size_t t = 0; t < mw_nlogtypes; t++)
			if ((in->types & (1u << t)) && mw_logtypes[t].shape == MW_SHAPE_BATCH &&
			    (!type || strcmp(type, mw_logtypes[t].name) == 0))
				printf("%s/%s: API 1.0's get-siem-logs goes on from its token, "
				       "which cannot go back to a time: nothing of it is read "
				       "again\n", name, mw_logtypes[t].name);
	store_close(s);
	config_free(&cfg);
	return rc;
}

/* ---- rename ----------------------------------------------------------------------- */

static const char rename_usage[] =
	"usage: mimewatch rename [--config FILE] OLD NEW\n"
	"Renames integration OLD to NEW in the config file and in the store: its cursors\n"
	"and stored records stay, so nothing is collected or delivered again. A running\n"
	"collector (mimewatch run, a console) does it when asked through the store.\n"
	"Exit 0 renamed, 1 refused or failed, 2 on bad usage.\n";

int cmd_rename(const char *config, int argc, char **argv)
{
	struct mw_config cfg;
	const char *from = NULL, *to = NULL;
	int lockfd = -1, locked, rc = 0;
	long pid = 0;
	mw_store *s = NULL;
	mw_err e;

	for (int i = 0; i < argc; i++) {
		if (cmd_is_help(argv[i])) {
			fputs(rename_usage, stdout);
			return 0;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "mimewatch rename: unknown option %s\n%s", cmd_safe(argv[i]),
				rename_usage);
			return EXIT_USAGE;
		} else if (!from) {
			from = argv[i];
		} else if (!to) {
			to = argv[i];
		} else {
			fprintf(stderr, "%s", rename_usage);
			return EXIT_USAGE;
		}
	}
	if (!to) {
		fprintf(stderr, "mimewatch rename: which integration, and its new name?\n%s",
			rename_usage);
		return EXIT_USAGE;
	}
	if (cmd_load(config, &cfg) < 0)
		return EXIT_USAGE;
	if (!config_find(&cfg, from)) {
		cmd_check_names(&cfg, 1, (char **)&from);
		config_free(&cfg);
		return EXIT_USAGE;
	}
	/* the new name checked as loading checks it, before anything changes */
	if (config_rename_integration(&cfg, from, to, &e) < 0) {
		fprintf(stderr, "mimewatch rename: %s\n", cmd_safe(e.msg));
		config_free(&cfg);
		return EXIT_USAGE;
	}
	locked = cmd_open_store_locked(&cfg, &s, &lockfd, &pid);
	if (locked == 1) {
		if (collector_rename_integration(s, cfg.path, from, to, &e) < 0) {
			fprintf(stderr, "mimewatch rename: %s\n", cmd_safe(e.msg));
			rc = EXIT_FAILED;
		} else {
			printf("renamed %s to %s in %s; cursors and records kept\n", from, to,
			       cmd_safe(cfg.path));
		}
		close(lockfd);
	} else if (locked == 0) {
		/* A collector is running: it renames, saves and reloads. */
		if (cmd_hand_over(s, from, "", MW_REQ_RENAME, to, pid, "mimewatch rename") < 0)
			rc = EXIT_FAILED;
		else
			printf("renamed %s to %s in %s by the running collector (pid %ld); "
			       "cursors and records kept\n", from, to, cmd_safe(cfg.path), pid);
	} else {
		rc = EXIT_FAILED;
	}
	store_close(s);
	config_free(&cfg);
	return rc;
}

/* ---- backfill ---------------------------------------------------------------------- */

static const char backfill_usage[] =
	"usage: mimewatch backfill [--config FILE] NAME TYPE --since TIME --until TIME\n"
	"Reads again exactly [--since, --until] of NAME's TYPE, beside its regular\n"
	"collection (a gap the console's coverage view shows, say). TIME is epoch\n"
	"seconds or a date such as 2024-11-17T15:00:00Z. A running collector starts it\n"
	"at once; otherwise the next `mimewatch fetch` or `run` does. Records already\n"
	"stored are not duplicated.\n";

int cmd_backfill(const char *config, int argc, char **argv)
{
	struct mw_config cfg;
	const struct mw_integration *in;
	const char *name = NULL, *type = NULL, *since = NULL, *until = NULL;
	char arg[96];
	int lockfd = -1, locked, rc = 0, known = 0;
	int64_t id, from, to;
	long pid = 0;
	mw_store *s = NULL;
	mw_err e;

	for (int i = 0; i < argc; i++) {
		const char **opt = NULL;

		if (cmd_is_help(argv[i])) {
			fputs(backfill_usage, stdout);
			return 0;
		} else if (!strncmp(argv[i], "--since", 7) && (!argv[i][7] || argv[i][7] == '=')) {
			opt = &since;
		} else if (!strncmp(argv[i], "--until", 7) && (!argv[i][7] || argv[i][7] == '=')) {
			opt = &until;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "mimewatch backfill: unknown option %s\n%s", cmd_safe(argv[i]),
				backfill_usage);
			return EXIT_USAGE;
		} else if (!name) {
			name = argv[i];
		} else if (!type) {
			type = argv[i];
		} else {
			fprintf(stderr, "%s", backfill_usage);
			return EXIT_USAGE;
		}
		if (opt)
			*opt = argv[i][7] == '=' ? argv[i] + 8 : (i + 1 < argc ? argv[++i] : "");
	}
	if (!type || !since || !until) {
		fprintf(stderr, "mimewatch backfill: NAME, TYPE, --since and --until, please\n%s",
			backfill_usage);
		return EXIT_USAGE;
	}
	/* the collector reads the same forms (collector_requests.c) */
	if ((mw_parse_mc_date(since, strlen(since), &from) < 0 &&
	     (from = strtoll(since, NULL, 10)) <= 0) ||
	    (mw_parse_mc_date(until, strlen(until), &to) < 0 &&
	     (to = strtoll(until, NULL, 10)) <= 0) || to <= from) {
		fprintf(stderr, "mimewatch backfill: --since '%s' and --until '%s' are not a span: "
				"give epoch seconds or dates, --since first\n", cmd_safe(since),
			cmd_safe(until));
		return EXIT_USAGE;
	}
	if (cmd_load(config, &cfg) < 0)
		return EXIT_USAGE;
	if (!(in = config_find(&cfg, name))) {
		cmd_check_names(&cfg, 1, (char **)&name);
		config_free(&cfg);
		return EXIT_USAGE;
	}
	for (size_t t = 0; t < mw_nlogtypes; t++)
		known |= (in->types & (1u << t)) && !strcmp(type, mw_logtypes[t].name);
	if (!known) {
		fprintf(stderr, "mimewatch backfill: '%s' is not a type collected by %s\n",
			cmd_safe(type), name);
		config_free(&cfg);
		return EXIT_USAGE;
	}
	if (mw_logtypes[logtype_index(type)].shape == MW_SHAPE_BATCH) {
		/* said now: queued, it would be refused only when a collector
		 * takes it up */
		fprintf(stderr, "mimewatch backfill: %s is read from its batch files day by day, "
				"each file once: there is no span to read again; `mimewatch reset "
				"--since DURATION %s %s` reads the days since again\n", type, name,
			type);
		config_free(&cfg);
		return EXIT_USAGE;
	}
	snprintf(arg, sizeof arg, "%lld %lld", (long long)from, (long long)to);
	locked = cmd_open_store_locked(&cfg, &s, &lockfd, &pid);
	if (locked == 1) {
		close(lockfd);
		if (store_request_add(s, name, type, MW_REQ_BACKFILL, arg, &id, &e) < 0) {
			fprintf(stderr, "mimewatch backfill: %s\n", e.msg);
			rc = EXIT_FAILED;
		} else {
			printf("%s/%s: backfill queued; the next `mimewatch fetch` or `run` reads it\n",
			       name, type);
		}
	} else if (locked == 0) {
		if (cmd_hand_over(s, name, type, MW_REQ_BACKFILL, arg, pid, "mimewatch backfill") < 0)
			rc = EXIT_FAILED;
		else
			printf("%s/%s: backfill started by the running collector (pid %ld)\n", name,
			       type, pid);
	} else {
		rc = EXIT_FAILED;
	}
	store_close(s);
	config_free(&cfg);
	return rc;
}
