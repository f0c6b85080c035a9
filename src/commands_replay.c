/* commands_replay.c - mimewatch replay (HACKING, "Commands and exit
 * status"): a span of stored records delivered once more to one output
 * after a loss downstream, through output_replay; the output's offset is
 * not moved. Without a collector it holds state_dir's lock (and an NDJSON
 * output's directory lock) as fetch does and replays itself; while one
 * runs, the replay is handed to it through the store (MW_REQ_REPLAY),
 * which runs it beside collection. */
#include "commands.h"
#include "commands_private.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output/output.h"
#include "store/store.h"
#include "util.h"

static const char replay_usage[] =
	"usage: mimewatch replay [--config FILE] OUTPUT --since T [--until T]\n"
	"                        [--integration NAME] [--type TYPE]\n"
	"Delivers the stored records whose time is in [since, until) once more to\n"
	"OUTPUT, as they were delivered the first time (same lines and ids), without\n"
	"moving its position: for a receiver that lost them. T: epoch seconds or a\n"
	"date (2024-11-05T17:00:00Z); --until defaults to now. While `mimewatch run`\n"
	"collects, it runs the replay. Exit 0 done (or started by the running\n"
	"collector), 1 the replay stopped (status shows how far it got), 2 bad usage.\n";

/* A time as backfill takes it: a date, or epoch seconds. */
static int parse_time(const char *s, int64_t *t)
{
	if (mw_parse_mc_date(s, strlen(s), t) == 0)
		return 0;
	*t = strtoll(s, NULL, 10);
	return *t > 0 && strspn(s, "0123456789") == strlen(s) ? 0 : -1;
}

static const struct mw_output *find_output(const struct mw_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->noutputs; i++)
		if (!strcmp(cfg->outputs[i].name, name))
			return &cfg->outputs[i];
	fprintf(stderr, "mimewatch replay: no output named '%s' in %s (configured:",
		cmd_safe(name), cmd_safe(cfg->path ? cfg->path : "the config"));
	for (size_t i = 0; i < cfg->noutputs; i++)
		fprintf(stderr, " %s", cfg->outputs[i].name);
	fprintf(stderr, ")\n");
	return NULL;
}

/* Options and OUTPUT; -1 (printed) on bad usage, 1 for --help. */
static int parse_args(int argc, char **argv, const char **name, const char **since,
		      const char **until, struct store_time_span *sp)
{
	static const char *const opts[] = { "--since", "--until", "--integration", "--type" };

	for (int i = 0; i < argc; i++) {
		const char **dst[] = { since, until, &sp->integration, &sp->type };
		int k = -1;

		if (cmd_is_help(argv[i])) {
			fputs(replay_usage, stdout);
			return 1;
		}
		for (int j = 0; j < 4 && k < 0; j++) {
			size_t l = strlen(opts[j]);

			if (!strncmp(argv[i], opts[j], l) && (!argv[i][l] || argv[i][l] == '='))
				k = j;
		}
		if (k >= 0) {
			size_t l = strlen(opts[k]);

			*dst[k] = argv[i][l] == '=' ? argv[i] + l + 1 : (i + 1 < argc ? argv[++i] : "");
		} else if (argv[i][0] == '-' || *name) {
			fprintf(stderr, "mimewatch replay: unexpected %s\n%s", cmd_safe(argv[i]),
				replay_usage);
			return -1;
		} else {
			*name = argv[i];
		}
	}
	if (!*name || !*since) {
		fprintf(stderr, "mimewatch replay: OUTPUT and --since, please\n%s", replay_usage);
		return -1;
	}
	return 0;
}

/* A collector holds the lock: it runs the replay in a thread of its own,
 * beside collection; status follows it. */
static int hand_over(mw_store *s, const char *name, const struct store_time_span *sp, long pid)
{
	char arg[256];

	snprintf(arg, sizeof(arg), "%s %lld %lld", name, (long long)sp->since,
		 (long long)sp->until);
	if (cmd_hand_over(s, sp->integration ? sp->integration : "", sp->type ? sp->type : "",
			  MW_REQ_REPLAY, arg, pid, "mimewatch replay") < 0)
		return EXIT_FAILED;
	printf("output %s: replay started by the running collector (pid %ld); mimewatch "
	       "status shows its progress\n", cmd_safe(name), pid);
	return 0;
}

int cmd_replay(const char *config, int argc, char **argv)
{
	struct store_time_span sp = { 0, 0, NULL, NULL };
	const char *name = NULL, *since = NULL, *until = NULL;
	const struct mw_output *o;
	struct mw_config cfg;
	struct output_set os;
	output_dir_locks *dl = NULL;
	mw_store *s = NULL;
	int lockfd = -1, rc, locked;
	long pid = 0;
	int64_t done = 0;
	mw_err e;

	if ((rc = parse_args(argc, argv, &name, &since, &until, &sp)) != 0)
		return rc > 0 ? 0 : EXIT_USAGE;
	sp.until = mw_now() + 1;
	if (parse_time(since, &sp.since) < 0 || (until && parse_time(until, &sp.until) < 0) ||
	    sp.until <= sp.since) {
		fprintf(stderr, "mimewatch replay: --since '%s' and --until '%s' are not a span: "
				"give epoch seconds or dates, --since first\n", cmd_safe(since),
			cmd_safe(until ? until : "now"));
		return EXIT_USAGE;
	}
	if (cmd_load(config, &cfg) < 0)
		return EXIT_USAGE;
	if (!(o = find_output(&cfg, name)) ||
	    (sp.integration && !config_find(&cfg, sp.integration))) {
		if (o)
			fprintf(stderr, "mimewatch replay: no integration named '%s'\n",
				cmd_safe(sp.integration));
		config_free(&cfg);
		return EXIT_USAGE;
	}
	os = config_output_set(&cfg);
	os.outputs = o;
	os.noutputs = 1;
	rc = EXIT_FAILED;
	signal(SIGPIPE, SIG_IGN);  /* a receiver that hangs up is an error, not death */
	locked = cmd_open_store_locked(&cfg, &s, &lockfd, &pid);
	if (locked != 1)
		lockfd = -1;  /* not ours to close */
	if (locked == 0) {
		rc = hand_over(s, name, &sp, pid);
		goto out;
	}
	if (locked < 0)
		goto out;
	if (outputs_lock_dirs(&os, &dl, &e) < 0) {
		fprintf(stderr, "mimewatch replay: %s\n", e.msg);
		goto out;
	}
	if (output_replay(&os, name, &sp, s, NULL, &done, &e) < 0) {
		fprintf(stderr, "mimewatch replay: output '%s': %s (%lld records re-delivered "
				"before; its position is unchanged)\n", cmd_safe(name),
			cmd_safe(e.msg), (long long)done);
		goto out;
	}
	printf("output %s: %lld records re-delivered; its position is unchanged\n",
	       cmd_safe(name), (long long)done);
	rc = 0;
out:
	if (s)
		store_close(s);
	outputs_unlock_dirs(dl);
	if (lockfd >= 0)
		close(lockfd);
	config_free(&cfg);
	return rc;
}
