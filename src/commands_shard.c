/* commands_shard.c - several collectors sharing one config (HACKING, "Many
 * tenants, several machines"): the --shard K/N option of run and fetch, and
 * `mimewatch shards`, which shows an operator where each integration goes
 * and what a new N moves. */
#include "commands.h"
#include "commands_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "collector.h"
#include "util.h"

int cmd_shard_option(const char *cmd, int argc, char **argv, int *i, struct mw_shard *sh)
{
	const char *a = argv[*i], *v;
	char why[160];

	if (strncmp(a, "--shard=", 8) == 0)
		v = a + 8;
	else if (strcmp(a, "--shard") == 0)
		v = *i + 1 < argc ? argv[++*i] : "";
	else
		return 0;
	if (shard_parse(v, sh, why, sizeof(why)) < 0) {
		fprintf(stderr, "mimewatch %s: --shard '%s': %s\n", cmd, cmd_safe(v), why);
		return -1;
	}
	return 1;
}

int cmd_shard_check_names(const struct mw_shard *sh, int argc, char **argv)
{
	/* A NAME another shard takes would be collected by two machines. */
	for (int i = 0; i < argc; i++)
		if (!shard_takes(sh, argv[i])) {
			fprintf(stderr, "mimewatch fetch: %s goes to shard %u/%u, not %u/%u: fetch it "
					"there, or drop it or --shard (mimewatch shards %u lists them)\n",
				argv[i], shard_of(argv[i], sh->n), sh->n, sh->k, sh->n, sh->n);
			return -1;
		}
	return 0;
}

struct json_object *cmd_shard_json(const struct mw_config *cfg, const struct mw_shard *sh)
{
	json_object *o;

	if (!sh->n)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "k", json_object_new_int64(sh->k));
	json_object_object_add(o, "n", json_object_new_int64(sh->n));
	json_object_object_add(o, "integrations",
			       json_object_new_int64((int64_t)collector_shard_count(cfg, sh)));
	json_object_object_add(o, "configured", json_object_new_int64((int64_t)cfg->nintegrations));
	return o;
}

static const char shards_usage[] =
	"usage: mimewatch shards [--config FILE] N [--from M]\n"
	"Prints, for N collectors sharing this config (each `mimewatch run --shard K/N`,\n"
	"K from 1 to N), the shard of each integration, then how many each takes.\n"
	"--from M also names the integrations that move when M collectors become N:\n"
	"export their state on the old owner and import it on the new one (mimewatch\n"
	"state). The assignment depends only on the names (rendezvous hashing, see\n"
	"mimewatch(1)). Exit 0, 2 on bad usage.\n";

/* N or M of shards: 1..SHARD_MAX, or -1 said. */
static int shards_count_arg(const char *what, const char *v)
{
	char *end;
	long n = strtol(v, &end, 10);

	if (end == v || *end || n < 1 || n > SHARD_MAX) {
		fprintf(stderr, "mimewatch shards: %s '%s' is not a number of collectors; give "
				"1..%d, e.g. mimewatch shards 4\n", what, cmd_safe(v), SHARD_MAX);
		return -1;
	}
	return (int)n;
}

int cmd_shards(const char *config, int argc, char **argv)
{
	struct mw_config cfg;
	int n = 0, from = 0, moved = 0;
	size_t *per;

	for (int i = 0; i < argc; i++) {
		if (cmd_is_help(argv[i])) {
			fputs(shards_usage, stdout);
			return 0;
		}
		if (strcmp(argv[i], "--from") == 0 || strncmp(argv[i], "--from=", 7) == 0) {
			const char *v = argv[i][6] == '=' ? argv[i] + 7 : (i + 1 < argc ? argv[++i] : "");

			if ((from = shards_count_arg("--from", v)) < 0)
				return EXIT_USAGE;
		} else if (argv[i][0] != '-' && n == 0) {
			if ((n = shards_count_arg("N", argv[i])) < 0)
				return EXIT_USAGE;
		} else {
			fprintf(stderr, "mimewatch shards: unexpected argument %s\n%s",
				cmd_safe(argv[i]), shards_usage);
			return EXIT_USAGE;
		}
	}
	if (n == 0) {
		fprintf(stderr, "mimewatch shards: how many collectors? e.g. mimewatch shards 4\n%s",
			shards_usage);
		return EXIT_USAGE;
	}
	if (cmd_load(config, &cfg) < 0)
		return EXIT_USAGE;
	per = mw_xcalloc((size_t)n + 1, sizeof(*per));
	for (size_t i = 0; i < cfg.nintegrations; i++) {
		const char *name = cfg.integrations[i].name;
		unsigned k = shard_of(name, (unsigned)n);

		per[k]++;
		printf("%s  shard %u/%d", name, k, n);
		if (from && shard_of(name, (unsigned)from) != k) {
			printf("  moves from %u/%d", shard_of(name, (unsigned)from), from);
			moved++;
		}
		printf("\n");
	}
	for (int k = 1; k <= n; k++)
		printf("shard %d/%d: %zu of %zu integrations\n", k, n, per[k], cfg.nintegrations);
	if (from)
		printf("%d of %zu integrations move from %d to %d collectors\n", moved,
		       cfg.nintegrations, from, n);
	free(per);
	config_free(&cfg);
	return 0;
}
