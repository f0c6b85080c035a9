/* test_commands.c - the headless commands' argument handling (commands.c),
 * each cmd_* called in-process with standard output and error captured:
 * bad usage is exit 2 with a message naming the argument (and the usage
 * where the command gives it), --help is exit 0 with the usage on standard
 * output, a missing, empty or broken config is exit 2 naming the file, an
 * unknown integration or type is exit 2 naming it and what is configured,
 * and `status` (--json and text) on a state directory that is empty or not
 * there yet. No command here reaches the network: every call stops at its
 * arguments, its config or the store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "status.h"
#include "testutil.h"
#include "util.h"

static char tmpdir[256];
static char cfg_path[320], state_dir[320], missing[320], empty_cfg[320], bad_cfg[320];

typedef int (*cmd_fn)(const char *config, int argc, char **argv);

struct out {
	int rc;
	char *out, *err;
};

static char *slurp_fd(int fd)
{
	mw_buf b;
	char chunk[4096];
	ssize_t n;

	mw_buf_init(&b);
	mw_buf_append(&b, "", 0);  /* a string even when nothing was written */
	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		mw_buf_append(&b, chunk, (size_t)n);
	return b.data;
}

/* Runs fn(config, argv...) with stdout and stderr in temp files and stdin
 * from /dev/null (not a terminal). */
static struct out run(cmd_fn fn, const char *config, const char *a0, ...)
{
	char *argv[16];
	int argc = 0, fo, fe, fi, so, se, si;
	char po[300], pe[300];
	struct out r;
	va_list ap;

	va_start(ap, a0);
	for (const char *a = a0; a && argc < 15; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	snprintf(po, sizeof(po), "%s/stdout", tmpdir);
	snprintf(pe, sizeof(pe), "%s/stderr", tmpdir);
	fflush(stdout);
	fflush(stderr);
	fo = open(po, O_RDWR | O_CREAT | O_TRUNC, 0600);
	fe = open(pe, O_RDWR | O_CREAT | O_TRUNC, 0600);
	fi = open("/dev/null", O_RDONLY);
	assert_true(fo >= 0 && fe >= 0 && fi >= 0);
	so = dup(1);
	se = dup(2);
	si = dup(0);
	dup2(fo, 1);
	dup2(fe, 2);
	dup2(fi, 0);
	r.rc = fn(config, argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	dup2(si, 0);
	close(so);
	close(se);
	close(si);
	close(fi);
	r.out = slurp_fd(fo);
	r.err = slurp_fd(fe);
	close(fo);
	close(fe);
	return r;
}

static void out_free(struct out *r)
{
	free(r->out);
	free(r->err);
}

/* rc, exact stderr and empty stdout */
static void expect(struct out r, int rc, const char *err)
{
	if (r.rc != rc || strcmp(r.err, err) != 0)
		fail_msg("exit %d, want %d\nstderr: [%s]\nwant:   [%s]", r.rc, rc, r.err, err);
	assert_string_equal(r.out, "");
	out_free(&r);
}

static void write_file(const char *path, const char *text)
{
	mw_err e;

	if (mw_write_file_atomic(path, text, strlen(text), &e) < 0)
		fail_msg("%s", e.msg);
}

#define VALIDATE_USAGE                                                                       \
	"usage: mimewatch validate [--config FILE] [NAME...]\n"                               \
	"Checks each integration's credentials against the Mimecast API, and each chosen\n"   \
	"log type's permission, with one row per integration and type: ok, or the error\n"    \
	"class and its remedy. Exit 0 when every row is ok, 1 otherwise, 2 on bad usage.\n"
#define FETCH_USAGE_START                                                                    \
	"usage: mimewatch fetch [--config FILE] [--retry-budget DURATION] [--shard K/N] [NAME...]\n"
#define RUN_USAGE                                                                            \
	"usage: mimewatch run [--config FILE] [--shard K/N]\n"                                \
	"Collects and delivers until SIGTERM or SIGINT; SIGHUP reloads the config\n"          \
	"without losing position. Logs go to stderr. A console started meanwhile\n"          \
	"attaches to this service through the store.\n"                                      \
	"--shard K/N: this is collector K (from 1) of N sharing the config; it takes\n"     \
	"only the integrations shard K takes (mimewatch shards N lists them).\n"
#define STATUS_USAGE_START "usage: mimewatch status [--config FILE] [--json] [--events | --coverage | --metrics]\n"
#define RESET_USAGE                                                                          \
	"usage: mimewatch reset [--config FILE] [--yes] [--since DURATION] NAME [TYPE]\n"     \
	"Moves the horizon of NAME (every type, or only TYPE) back to now - lookback\n"       \
	"(or now - DURATION), so the next collection reads that period again; records\n"     \
	"already stored are not duplicated. Asks for confirmation unless --yes.\n"

static char *no_config_msg(const char *path)
{
	static char m[600];

	snprintf(m, sizeof(m), "mimewatch: no config at %s: run `mimewatch` to create one with "
		 "the wizard, or pass --config FILE\n", path);
	return m;
}

static char *unknown_name_msg(const char *name)
{
	static char m[600];

	snprintf(m, sizeof(m), "mimewatch: no integration named '%s' in %s (configured: sim "
		 "other)\n", name, cfg_path);
	return m;
}

/* ---- per command ------------------------------------------------------------- */

static void test_validate_args(void **state)
{
	struct out r;

	(void)state;
	expect(run(cmd_validate, cfg_path, "--bogus", NULL), 2,
	       "mimewatch validate: unknown option --bogus\n" VALIDATE_USAGE);
	/* an option after a name is still an option */
	expect(run(cmd_validate, cfg_path, "sim", "-x", NULL), 2,
	       "mimewatch validate: unknown option -x\n" VALIDATE_USAGE);
	expect(run(cmd_validate, cfg_path, "nosuch", NULL), 2, unknown_name_msg("nosuch"));
	expect(run(cmd_validate, cfg_path, "sim", "nosuch", NULL), 2, unknown_name_msg("nosuch"));
	expect(run(cmd_validate, missing, NULL), 2, no_config_msg(missing));
	r = run(cmd_validate, missing, "--help", NULL);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, VALIDATE_USAGE);
	assert_string_equal(r.err, "");
	out_free(&r);
	r = run(cmd_validate, cfg_path, "-h", NULL);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, VALIDATE_USAGE);
	out_free(&r);
}

static void test_fetch_args(void **state)
{
	struct out r;

	(void)state;
	r = run(cmd_fetch, cfg_path, "--frobnicate", NULL);
	assert_int_equal(r.rc, 2);
	assert_memory_equal(r.err, "mimewatch fetch: unknown option --frobnicate\n" FETCH_USAGE_START,
			    strlen("mimewatch fetch: unknown option --frobnicate\n" FETCH_USAGE_START));
	out_free(&r);
	expect(run(cmd_fetch, cfg_path, "--retry-budget", "soon", NULL), 2,
	       "mimewatch fetch: --retry-budget 'soon' is not a duration; write e.g. 30s, 10m\n");
	expect(run(cmd_fetch, cfg_path, "--retry-budget=-5m", NULL), 2,
	       "mimewatch fetch: --retry-budget '-5m' is not a duration; write e.g. 30s, 10m\n");
	/* the value missing at the end */
	expect(run(cmd_fetch, cfg_path, "--retry-budget", NULL), 2,
	       "mimewatch fetch: --retry-budget '' is not a duration; write e.g. 30s, 10m\n");
	expect(run(cmd_fetch, cfg_path, "--retry-budget=36501d", NULL), 2,
	       "mimewatch fetch: --retry-budget '36501d' is out of range; give at most 36500d, "
	       "e.g. 10m\n");
	expect(run(cmd_fetch, cfg_path, "--retry-budget", "1m", "nosuch", NULL), 2,
	       unknown_name_msg("nosuch"));
	/* the budget is checked before the config is read */
	expect(run(cmd_fetch, missing, "--retry-budget", "x", NULL), 2,
	       "mimewatch fetch: --retry-budget 'x' is not a duration; write e.g. 30s, 10m\n");
	expect(run(cmd_fetch, missing, "--shard", NULL), 2,
	       "mimewatch fetch: --shard '': give K/N, this collector's shard K of N collectors "
	       "(K counts from 1), e.g. --shard 2/4\n");
	expect(run(cmd_fetch, missing, NULL), 2, no_config_msg(missing));
	r = run(cmd_fetch, missing, "--help", NULL);
	assert_int_equal(r.rc, 0);
	assert_memory_equal(r.out, FETCH_USAGE_START, strlen(FETCH_USAGE_START));
	out_free(&r);
	/* none of it took the collector lock or made the state directory */
	assert_int_equal(access(state_dir, F_OK), -1);
}

static void test_run_args(void **state)
{
	struct out r;

	(void)state;
	expect(run(cmd_run, cfg_path, "sim", NULL), 2,
	       "mimewatch run: unexpected argument sim\n" RUN_USAGE);
	expect(run(cmd_run, cfg_path, "--once", NULL), 2,
	       "mimewatch run: unexpected argument --once\n" RUN_USAGE);
	/* a bad shard is refused before the config is read */
	expect(run(cmd_run, missing, "--shard", "0/4", NULL), 2,
	       "mimewatch run: --shard '0/4': K must be 1..N and N 1..1024 (K counts from 1), "
	       "e.g. --shard 2/4\n");
	expect(run(cmd_run, missing, "--shard=4", NULL), 2,
	       "mimewatch run: --shard '4': give K/N, this collector's shard K of N collectors "
	       "(K counts from 1), e.g. --shard 2/4\n");
	expect(run(cmd_run, missing, NULL), 2, no_config_msg(missing));
	r = run(cmd_run, missing, "--help", NULL);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, RUN_USAGE);
	out_free(&r);
	assert_int_equal(access(state_dir, F_OK), -1);
}

/* shards and state: bad usage is exit 2 before the config is read, and
 * touches no state directory */
static void test_shards_state_args(void **state)
{
	(void)state;
	expect(run(cmd_shards, missing, "0", NULL), 2,
	       "mimewatch shards: N '0' is not a number of collectors; give 1..1024, e.g. "
	       "mimewatch shards 4\n");
	expect(run(cmd_shards, missing, "4", "--from", "1025", NULL), 2,
	       "mimewatch shards: --from '1025' is not a number of collectors; give 1..1024, "
	       "e.g. mimewatch shards 4\n");
	expect(run(cmd_shards, missing, "4", NULL), 2, no_config_msg(missing));
	expect(run(cmd_state, missing, "export", "sim", "--output", NULL), 2,
	       "mimewatch state: --output needs a FILE\n");
	expect(run(cmd_state, missing, "import", "--output", "x", "f", NULL), 2,
	       "mimewatch state: give export NAME [--output FILE] or import [--force] FILE\n"
	       "usage: mimewatch state [--config FILE] export NAME [--output FILE]\n"
	       "       mimewatch state [--config FILE] import [--force] FILE\n"
	       "export writes integration NAME's cursors (per type: the horizon, the window\n"
	       "under way and its page token, queued backfills, the spans collected, a batch\n"
	       "type's listing per sub-type; never records) as JSON to FILE (0600) or stdout.\n"
	       "import writes them into this config's store, so its collector goes on from\n"
	       "there. It refuses another format version, an integration or type this config\n"
	       "lacks, and a type this store already holds further ahead (unless --force); and\n"
	       "runs only while no collector holds the store (stop it first). Exit 0, 1\n"
	       "failed, 2 refused.\n");
	expect(run(cmd_state, cfg_path, "export", "nosuch", NULL), 2, unknown_name_msg("nosuch"));
	assert_int_equal(access(state_dir, F_OK), -1);
}

static void test_status_args(void **state)
{
	struct out r;

	(void)state;
	r = run(cmd_status, cfg_path, "--yaml", NULL);
	assert_int_equal(r.rc, 2);
	assert_memory_equal(r.err, "mimewatch status: unexpected argument --yaml\n" STATUS_USAGE_START,
			    strlen("mimewatch status: unexpected argument --yaml\n" STATUS_USAGE_START));
	assert_string_equal(r.out, "");
	out_free(&r);
	r = run(cmd_status, cfg_path, "--json", "sim", NULL);
	assert_int_equal(r.rc, 2);
	assert_memory_equal(r.err, "mimewatch status: unexpected argument sim\n", 42);
	out_free(&r);
	expect(run(cmd_status, missing, "--json", NULL), 2, no_config_msg(missing));
	expect(run(cmd_status, missing, "--events", NULL), 2, no_config_msg(missing));
	r = run(cmd_status, cfg_path, "--events", "sim", NULL);
	assert_int_equal(r.rc, 2);
	assert_memory_equal(r.err, "mimewatch status: unexpected argument sim\n", 42);
	out_free(&r);
	expect(run(cmd_status, missing, "--metrics", NULL), 2, no_config_msg(missing));
	r = run(cmd_status, cfg_path, "--metrics", "--json", NULL);
	assert_int_equal(r.rc, 2);
	assert_non_null(strstr(r.err, "--metrics prints Prometheus text alone"));
	out_free(&r);
}

#define BACKFILL_USAGE_START "usage: mimewatch backfill [--config FILE] NAME TYPE --since TIME --until TIME\n"

/* backfill: NAME, TYPE and the span, each checked before anything is queued */
static void test_backfill_args(void **state)
{
	struct out r;

	(void)state;
	r = run(cmd_backfill, cfg_path, "sim", "url", "--since", "100", NULL);
	assert_int_equal(r.rc, 2);
	assert_non_null(strstr(r.err, BACKFILL_USAGE_START));
	out_free(&r);
	r = run(cmd_backfill, cfg_path, "sim", "url", "--since", "200", "--until", "100", NULL);
	assert_int_equal(r.rc, 2);
	assert_non_null(strstr(r.err, "are not a span"));
	out_free(&r);
	r = run(cmd_backfill, cfg_path, "sim", "url", "--since", "yesterday", "--until=100", NULL);
	assert_int_equal(r.rc, 2);
	assert_non_null(strstr(r.err, "are not a span"));
	out_free(&r);
	r = run(cmd_backfill, cfg_path, "sim", "nosuch", "--since", "100", "--until", "200", NULL);
	assert_int_equal(r.rc, 2);
	assert_non_null(strstr(r.err, "'nosuch' is not a type collected by sim"));
	out_free(&r);
	r = run(cmd_backfill, cfg_path, "sim", "url", "--since", "100", "--until", "200", "--now",
		NULL);
	assert_int_equal(r.rc, 2);
	assert_non_null(strstr(r.err, "unknown option --now"));
	out_free(&r);
	expect(run(cmd_backfill, missing, "sim", "url", "--since", "100", "--until", "200", NULL),
	       2, no_config_msg(missing));
}

/* replay: OUTPUT and the span checked before anything is delivered; an
 * unknown output names the configured ones. */
static void test_replay_args(void **state)
{
	struct out r;

	(void)state;
	r = run(cmd_replay, cfg_path, "ndjson", NULL);
	assert_int_equal(r.rc, 2);
	assert_non_null(strstr(r.err, "OUTPUT and --since, please"));
	out_free(&r);
	r = run(cmd_replay, cfg_path, "ndjson", "--since", "200", "--until", "100", NULL);
	assert_int_equal(r.rc, 2);
	assert_non_null(strstr(r.err, "are not a span"));
	out_free(&r);
	r = run(cmd_replay, cfg_path, "ndjson", "--since=100x", NULL);
	assert_int_equal(r.rc, 2);
	assert_non_null(strstr(r.err, "are not a span"));
	out_free(&r);
	r = run(cmd_replay, cfg_path, "nosuch", "--since", "100", NULL);
	assert_int_equal(r.rc, 2);
	assert_non_null(strstr(r.err, "no output named 'nosuch'"));
	assert_non_null(strstr(r.err, "(configured: ndjson)"));
	out_free(&r);
	r = run(cmd_replay, cfg_path, "ndjson", "--since", "100", "--integration", "nosuch", NULL);
	assert_int_equal(r.rc, 2);
	assert_non_null(strstr(r.err, "no integration named 'nosuch'"));
	out_free(&r);
	r = run(cmd_replay, cfg_path, "ndjson", "extra", "--since", "100", NULL);
	assert_int_equal(r.rc, 2);
	assert_non_null(strstr(r.err, "unexpected extra"));
	out_free(&r);
	r = run(cmd_replay, cfg_path, "--help", NULL);
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.out, "usage: mimewatch replay"));
	out_free(&r);
	expect(run(cmd_replay, missing, "ndjson", "--since", "100", NULL), 2,
	       no_config_msg(missing));
}

static void test_reset_args(void **state)
{
	(void)state;
	expect(run(cmd_reset, cfg_path, NULL), 2, "mimewatch reset: which integration?\n" RESET_USAGE);
	expect(run(cmd_reset, cfg_path, "--yes", NULL), 2,
	       "mimewatch reset: which integration?\n" RESET_USAGE);
	expect(run(cmd_reset, cfg_path, "--now", "sim", NULL), 2,
	       "mimewatch reset: unknown option --now\n" RESET_USAGE);
	expect(run(cmd_reset, cfg_path, "--since", "lately", "sim", NULL), 2,
	       "mimewatch reset: --since 'lately' is not a duration; write e.g. 48h, 7d\n");
	expect(run(cmd_reset, cfg_path, "--since", "36501d", "sim", NULL), 2,
	       "mimewatch reset: --since '36501d' is out of range; give at most 36500d, e.g. 7d\n");
	expect(run(cmd_reset, cfg_path, "sim", "url", "extra", NULL), 2, RESET_USAGE);
	expect(run(cmd_reset, cfg_path, "--yes", "nosuch", NULL), 2, unknown_name_msg("nosuch"));
	expect(run(cmd_reset, cfg_path, "--yes", "sim", "audit", NULL), 2,
	       "mimewatch reset: 'audit' is not a type collected by sim\n");
	/* a known type the integration does not collect */
	expect(run(cmd_reset, cfg_path, "--yes", "other", "impersonation", NULL), 2,
	       "mimewatch reset: 'impersonation' is not a type collected by other\n");
	/* no terminal to ask on */
	expect(run(cmd_reset, cfg_path, "sim", NULL), 2,
	       "mimewatch reset: refusing without --yes when not on a terminal\n");
	expect(run(cmd_reset, missing, "--yes", "sim", NULL), 2, no_config_msg(missing));
	assert_int_equal(access(state_dir, F_OK), -1);
}

static void test_bad_configs(void **state)
{
	struct out r;
	char want[1200];
	static const cmd_fn fns[] = { cmd_validate, cmd_fetch, cmd_run, cmd_status };

	(void)state;
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		snprintf(want, sizeof(want), "mimewatch: %s configures no integration (is it empty or "
			 "cut short?); restore it from a backup, or run `mimewatch --config %s` "
			 "to add one with the wizard\n", empty_cfg, empty_cfg);
		expect(run(fns[i], empty_cfg, NULL), 2, want);
		r = run(fns[i], bad_cfg, NULL);
		assert_int_equal(r.rc, 2);
		/* file and line of the mistake */
		snprintf(want, sizeof(want), "mimewatch: %s:3: ", bad_cfg);
		if (strncmp(r.err, want, strlen(want)) != 0)
			fail_msg("stderr: %s", r.err);
		assert_non_null(strstr(r.err, "interval"));
		assert_string_equal(r.out, "");
		out_free(&r);
	}
	snprintf(want, sizeof(want), "mimewatch: %s configures no integration (is it empty or "
		 "cut short?); restore it from a backup, or run `mimewatch --config %s` "
		 "to add one with the wizard\n", empty_cfg, empty_cfg);
	expect(run(cmd_reset, empty_cfg, "--yes", "sim", NULL), 2, want);
}

/* ---- status on a state directory with nothing in it yet ---------------------- */

static json_object *jget(json_object *o, const char *k)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, k, &v))
		fail_msg("no member %s in %s", k, json_object_to_json_string(o));
	return v;
}

static void check_status_json(const char *text)
{
	json_object *root = json_tokener_parse(text), *ints, *types, *outs, *o;
	static const char *const tn[] = { "url", "impersonation", "attachment" };
	char dir[400];

	if (!root)
		fail_msg("not JSON: %s", text);
	assert_string_equal(json_object_get_string(jget(root, "state_dir")), state_dir);
	assert_false(json_object_get_boolean(jget(root, "disk_full")));
	assert_null(jget(root, "collector_pid"));
	ints = jget(root, "integrations");
	assert_int_equal(json_object_array_length(ints), 2);
	o = json_object_array_get_idx(ints, 0);
	assert_string_equal(json_object_get_string(jget(o, "name")), "sim");
	assert_string_equal(json_object_get_string(jget(o, "api")), "v1");
	assert_string_equal(json_object_get_string(jget(o, "base_url")), "http://127.0.0.1:9");
	types = jget(o, "types");
	assert_int_equal(json_object_array_length(types), 3);
	for (size_t t = 0; t < 3; t++) {
		json_object *jt = json_object_array_get_idx(types, t);

		assert_string_equal(json_object_get_string(jget(jt, "type")), tn[t]);
		assert_string_equal(json_object_get_string(jget(jt, "state")), "new");
		assert_false(json_object_get_boolean(jget(jt, "paused")));
		assert_null(jget(jt, "last_success"));
		assert_null(jget(jt, "horizon"));
		assert_null(jget(jt, "lag_seconds"));
		assert_null(jget(jt, "warning"));
		assert_int_equal(json_object_get_int64(jget(jt, "records_total")), 0);
		assert_string_equal(json_object_get_string(jget(jt, "class")), "ok");
		assert_string_equal(json_object_get_string(jget(jt, "class_name")), "ok");
		assert_int_equal(json_object_get_int64(jget(jt, "ratelimit_remaining")), -1);
	}
	o = json_object_array_get_idx(ints, 1);
	assert_string_equal(json_object_get_string(jget(o, "name")), "other");
	assert_string_equal(json_object_get_string(jget(o, "api")), "v2");
	assert_int_equal(json_object_array_length(jget(o, "types")), 1);
	outs = jget(root, "outputs");
	assert_int_equal(json_object_array_length(outs), 1);
	o = json_object_array_get_idx(outs, 0);
	snprintf(dir, sizeof(dir), "%s/out", state_dir);
	assert_string_equal(json_object_get_string(jget(o, "name")), "ndjson");
	assert_string_equal(json_object_get_string(jget(o, "type")), "ndjson");
	assert_string_equal(json_object_get_string(jget(o, "dir")), dir);
	assert_string_equal(json_object_get_string(jget(o, "state")), "idle");
	assert_string_equal(json_object_get_string(jget(o, "error")), "");
	assert_int_equal(json_object_get_int64(jget(o, "delivered")), 0);
	assert_int_equal(json_object_get_int64(jget(o, "lag_records")), 0);
	json_object_put(root);
}

static void test_status_empty_state(void **state)
{
	struct out r;
	char want[600];

	(void)state;
	/* not there yet: healthy, nothing collected, and nothing created */
	r = run(cmd_status, cfg_path, "--json", NULL);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.err, "");
	check_status_json(r.out);
	out_free(&r);
	assert_int_equal(access(state_dir, F_OK), -1);
	r = run(cmd_status, cfg_path, NULL);
	assert_int_equal(r.rc, 0);
	snprintf(want, sizeof(want), "state %s; no collector running\n\nsim  http://127.0.0.1:9 "
		 "(API 1.0)\n  url            new        last success never; records: last poll 0, "
		 "24 h 0, total 0\n", state_dir);
	assert_memory_equal(r.out, want, strlen(want));
	assert_string_equal(r.err, "");
	out_free(&r);
	assert_int_equal(access(state_dir, F_OK), -1);

	/* there but empty: the same answer */
	assert_int_equal(mkdir(state_dir, 0700), 0);
	r = run(cmd_status, cfg_path, "--json", NULL);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.err, "");
	check_status_json(r.out);
	out_free(&r);
	rm_rf(state_dir);
}

/* ---- fixtures ------------------------------------------------------------------- */

static int group_setup(void **state)
{
	char text[2048];

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/mw-commands-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(cfg_path, sizeof(cfg_path), "%s/config.yaml", tmpdir);
	snprintf(state_dir, sizeof(state_dir), "%s/state", tmpdir);
	snprintf(missing, sizeof(missing), "%s/no-such-config.yaml", tmpdir);
	snprintf(empty_cfg, sizeof(empty_cfg), "%s/empty.yaml", tmpdir);
	snprintf(bad_cfg, sizeof(bad_cfg), "%s/bad.yaml", tmpdir);
	snprintf(text, sizeof(text),
		 "state_dir: %s\n"
		 "integrations:\n"
		 "  - name: sim\n"
		 "    api: v1\n"
		 "    base_url: http://127.0.0.1:9\n"
		 "    app_id: 5f0e6d1c-1a2b-4c3d-9e8f-0a1b2c3d4e5f\n"
		 "    app_key: 9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d\n"
		 "    access_key: mwsim-access-0123456789\n"
		 "    secret_key: AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
		 "  - name: other\n"
		 "    api: v2\n"
		 "    base_url: http://127.0.0.1:9\n"
		 "    client_id: mwsim-client\n"
		 "    client_secret: mwsim-client-secret-0123456789\n"
		 "    types: [url]\n", state_dir);
	write_file(cfg_path, text);
	write_file(empty_cfg, "");
	snprintf(text, sizeof(text),
		 "integrations:\n"
		 "  - name: sim\n"
		 "    interval: often\n");
	write_file(bad_cfg, text);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	rm_rf(tmpdir);
	return 0;
}

/* The 24-hour silence rule says why for a TTP type; audit events and DLP
 * hits may well not come for a day, so they are not warned (issue 15). */
static void test_silence_per_type(void **state)
{
	struct store_status st;
	const char *w;

	(void)state;
	memset(&st, 0, sizeof(st));
	st.last_success = 1796000000;
	st.horizon = 1796000000;
	st.last_record_time = st.horizon - 2 * 86400;
	snprintf(st.type, sizeof(st.type), "url");
	w = status_silence_warning(&st);
	assert_non_null(w);
	assert_non_null(strstr(w, "no records for 24 hours: Enhanced Logging may be off"));
	snprintf(st.type, sizeof(st.type), "audit");
	assert_null(status_silence_warning(&st));
	snprintf(st.type, sizeof(st.type), "dlp");
	assert_null(status_silence_warning(&st));
	/* a record within the day: no warning for any type */
	snprintf(st.type, sizeof(st.type), "url");
	st.last_record_time = st.horizon - 3600;
	assert_null(status_silence_warning(&st));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validate_args),
		cmocka_unit_test(test_fetch_args),
		cmocka_unit_test(test_run_args),
		cmocka_unit_test(test_shards_state_args),
		cmocka_unit_test(test_status_args),
		cmocka_unit_test(test_reset_args),
		cmocka_unit_test(test_backfill_args),
		cmocka_unit_test(test_replay_args),
		cmocka_unit_test(test_bad_configs),
		cmocka_unit_test(test_status_empty_state),
		cmocka_unit_test(test_silence_per_type),
	};

	/* the XDG defaults must not be what a test reads */
	setenv("XDG_CONFIG_HOME", "/nonexistent/mw-test-config", 1);
	setenv("XDG_STATE_HOME", "/nonexistent/mw-test-state", 1);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
