/* commands.c - validate, fetch, run, status, reset, rename and
 * backfill (replay: commands_replay.c) (HACKING,
 * "Commands and exit status"). Exit status: 0 ok, 1 failed for at least
 * one integration or type (the others still done; reasons on stderr, one
 * line each, with the remedy), 2 bad usage, unknown NAME, missing or bad
 * config. */
#include "commands.h"
#include "commands_private.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <json-c/json.h>

#include "collector.h"
#include "service.h"
#include "config/config.h"
#include "mimecast/mimecast.h"
#include "jsonout.h"
#include "jsonscan.h"
#include "logtypes.h"
#include "output/output.h"
#include "sanitize.h"
#include "metrics.h"
#include "status.h"
#include "store/store.h"
#include "util.h"


/* ---- shared ---------------------------------------------------------------- */

/* Text that is not ours (the tenant's account name and code, Mimecast's error
 * codes and messages, whatever a receiver answered and the store kept) for
 * one line of output: the console's rules (sanitize.h), so no control
 * character, bidi override or invalid UTF-8 reaches the terminal or the log
 * raw. Each call takes the next of a few buffers, so one printf can show
 * several. */
#define NSAFE 12
static mw_buf safe_bufs[NSAFE];
static unsigned safe_next;

const char *cmd_safe(const char *s)
{
	return sanitize_text(&safe_bufs[safe_next++ % NSAFE], s);
}

/* "HTTP 403 CODE", "HTTP 403", or for a failure before any response (TLS,
 * DNS, a refused connection) "no response" with the code: never "HTTP 0". */
const char *cmd_http_part(const struct mc_result *r)
{
	static char buf[160];

	if (r->http_status > 0)
		snprintf(buf, sizeof(buf), "HTTP %ld%s%s", r->http_status, r->code[0] ? " " : "",
			 cmd_safe(r->code));
	else
		snprintf(buf, sizeof(buf), "no response%s%s", r->code[0] ? ", " : "",
			 cmd_safe(r->code));
	return buf;
}

/* Invisible characters that reorder or break a line on a terminal: bidi
 * marks, overrides and isolates, zero-width characters, the BOM, and the
 * line and paragraph separators (the set sanitize.c shows as <U+XXXX>). */
static int is_invisible(uint32_t cp)
{
	return cp == 0x061C || (cp >= 0x200B && cp <= 0x200F) ||
	       (cp >= 0x2028 && cp <= 0x202E) || cp == 0x2060 ||
	       (cp >= 0x2066 && cp <= 0x2069) || cp == 0xFEFF;
}

/* json-c leaves DEL, C1 and invalid UTF-8 raw inside strings and writes
 * \n, \t... as short escapes. Re-encodes its text as the NDJSON lines are
 * (jsonout.h): inside strings every U+0000-U+001F, U+007F and U+0080-U+009F
 * as \u00xx in lower-case hex, invalid UTF-8 as U+FFFD; and, since this goes
 * to a terminal, the invisible characters above as \uxxxx too. The values
 * a JSON parser reads are unchanged. */
static void json_safe_text(mw_buf *out, const char *text)
{
	static const char hx[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)text, *end = p + strlen(text);
	int in_str = 0;

	while (p < end) {
		uint32_t cp;
		size_t n;

		if (!in_str || *p == '"') {
			in_str ^= *p == '"';
			mw_buf_putc(out, (char)*p++);
			continue;
		}
		if (*p == '\\' && p + 1 < end) {
			const char *shorts = "b\bt\tn\nf\fr\r", *k;

			k = p[1] ? strchr(shorts, p[1]) : NULL;
			if (k && (k - shorts) % 2 == 0) {
				cp = (unsigned char)k[1];
				p += 2;
			} else if (p[1] == 'u' && end - p >= 6) {
				mw_buf_puts(out, "\\u");
				for (int i = 2; i < 6; i++)
					mw_buf_putc(out, (char)(p[i] >= 'A' && p[i] <= 'F' ? p[i] - 'A' + 'a'
										 : p[i]));
				p += 6;
				continue;
			} else {
				mw_buf_append(out, p, 2);
				p += 2;
				continue;
			}
		} else {
			n = js_utf8_decode(p, end, &cp);
			if (cp == JS_CP_INVALID) {
				mw_buf_append(out, "\xEF\xBF\xBD", 3);
				p += n;
				continue;
			}
			if (!(cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || is_invisible(cp))) {
				mw_buf_append(out, p, n);
				p += n;
				continue;
			}
			p += n;
		}
		{
			char esc[6] = { '\\', 'u', hx[cp >> 12 & 0xF], hx[cp >> 8 & 0xF],
					hx[cp >> 4 & 0xF], hx[cp & 0xF] };

			mw_buf_append(out, esc, sizeof(esc));
		}
	}
}

static const char *config_path(const char *config, char *buf, size_t n)
{
	if (config)
		return config;
	config_default_path(buf, n);
	return buf;
}

/* Loads the config for a headless command: a missing file is exit 2. */
int cmd_load(const char *config, struct mw_config *cfg)
{
	char buf[4096];
	const char *path = config_path(config, buf, sizeof(buf));
	mw_err e;
	int rc = config_load(path, cfg, &e);

	if (rc == -2) {
		fprintf(stderr, "mimewatch: no config at %s: run `mimewatch` to create one with "
				"the wizard, or pass --config FILE\n", path);
		return -1;
	}
	if (rc != 0) {
		fprintf(stderr, "mimewatch: %s\n", e.msg);
		return -1;
	}
	if (cfg->warnings) {
		/* Loaded, but worth knowing (each line names file, line and fix). */
		for (const char *l = cfg->warnings; *l;) {
			const char *nl = strchr(l, '\n');
			int len = nl ? (int)(nl - l) : (int)strlen(l);

			fprintf(stderr, "mimewatch: warning: %.*s\n", len, l);
			l += len + (nl != NULL);
		}
	}
	if (cfg->nintegrations == 0) {
		/* An empty or cut-short file would otherwise "succeed" at nothing,
		 * against the default state_dir. */
		fprintf(stderr, "mimewatch: %s configures no integration (is it empty or cut "
				"short?); restore it from a backup, or run `mimewatch --config %s` "
				"to add one with the wizard\n", path, path);
		config_free(cfg);
		return -1;
	}
	return 0;
}

/* Checks that every NAME is configured. */
int cmd_check_names(const struct mw_config *cfg, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		if (!config_find(cfg, argv[i])) {
			fprintf(stderr, "mimewatch: no integration named '%s' in %s (configured:",
				cmd_safe(argv[i]), cmd_safe(cfg->path ? cfg->path : "the config"));
			for (size_t k = 0; k < cfg->nintegrations; k++)
				fprintf(stderr, " %s", cfg->integrations[k].name);
			fprintf(stderr, ")\n");
			return -1;
		}
	}
	return 0;
}

static int wants(int argc, char **argv, const char *name)
{
	if (argc == 0)
		return 1;
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return 1;
	return 0;
}

int cmd_is_help(const char *a)
{
	return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

void cmd_fmt_time(int64_t t, char *buf, size_t n)
{
	char tmp[32];

	if (t <= 0) {
		snprintf(buf, n, "never");
		return;
	}
	mw_format_rfc3339(t, tmp);
	snprintf(buf, n, "%s", tmp);
}

/* Below this many free bytes a file system counts as full: SQLite needs a
 * few pages for any transaction, the output a line. */
#define DISK_FULL_BYTES (256 * 1024)

/* 1 when the file system holding path (or its nearest existing parent) has
 * less than DISK_FULL_BYTES available to us. */
static int disk_full(const char *path)
{
	char p[4096];
	struct statvfs v;

	snprintf(p, sizeof(p), "%s", path);
	while (statvfs(p, &v) < 0) {
		char *slash = strrchr(p, '/');

		if (errno != ENOENT || !slash || slash == p)
			return 0;
		*slash = '\0';
	}
	return (unsigned long long)v.f_bavail * v.f_frsize < DISK_FULL_BYTES;
}

static collector *active;

static void on_stop_signal(int sig)
{
	(void)sig;
	if (active)
		collector_stop(active);
}

static void on_hup(int sig)
{
	(void)sig;
	if (active)
		collector_request_reload(active);
}

static void install_signals(int with_reload)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (with_reload) {
		sa.sa_handler = on_hup;
		sigaction(SIGHUP, &sa, NULL);
	}
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

int cmd_take_lock(const struct mw_config *cfg, int *fd, const char *what)
{
	mw_err e;
	long pid = 0;
	int rc;

	if (mw_mkdir_p(cfg->state_dir, &e) < 0) {
		fprintf(stderr, "mimewatch: %s\n", e.msg);
		return -1;
	}
	rc = store_lock(cfg->state_dir, fd, &pid, &e);
	if (rc < 0) {
		fprintf(stderr, "mimewatch: %s\n", e.msg);
		return -1;
	}
	if (rc == 0) {
		fprintf(stderr, "mimewatch: %s refused: another mimewatch (pid %ld) is collecting "
				"into %s; stop it first, or let it collect (mimewatch status shows "
				"its progress)\n", what, pid, cfg->state_dir);
		return -1;
	}
	return 0;
}

/* ---- validate ------------------------------------------------------------------ */

static const char validate_usage[] =
	"usage: mimewatch validate [--config FILE] [NAME...]\n"
	"Checks each integration's credentials against the Mimecast API, and each chosen\n"
	"log type's permission, with one row per integration and type: ok, or the error\n"
	"class and its remedy. Exit 0 when every row is ok, 1 otherwise, 2 on bad usage.\n";

int cmd_validate(const char *config, int argc, char **argv)
{
	struct mw_config cfg;
	int failed = 0;

	for (int i = 0; i < argc; i++) {
		if (cmd_is_help(argv[i])) {
			fputs(validate_usage, stdout);
			return 0;
		}
		if (argv[i][0] == '-') {
			fprintf(stderr, "mimewatch validate: unknown option %s\n%s", argv[i],
				validate_usage);
			return EXIT_USAGE;
		}
	}
	if (cmd_load(config, &cfg) < 0)
		return EXIT_USAGE;
	if (cmd_check_names(&cfg, argc, argv) < 0) {
		config_free(&cfg);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < cfg.nintegrations; i++) {
		const struct mw_integration *in = &cfg.integrations[i];
		struct validate_report rep;

		if (!wants(argc, argv, in->name))
			continue;
		validate_integration(in, &rep, NULL);
		if (rep.account_ok)
			printf("%-20s %-14s %s (%s)\n", in->name, "account", cmd_safe(rep.account_name),
			       cmd_safe(rep.account_code));
		else
			printf("%-20s %-14s not readable (%s); the log types are checked below\n",
			       in->name, "account", mc_class_name(rep.account_res.cls));
		for (size_t k = 0; k < rep.nrows; k++) {
			const struct validate_row *r = &rep.rows[k];

			if (r->res.cls == MC_OK) {
				printf("%-20s %-14s ok\n", in->name, r->lt->name);
				continue;
			}
			failed = 1;
			printf("%-20s %-14s %s (%s): %s\n", in->name, r->lt->name,
			       mc_class_name(r->res.cls), cmd_http_part(&r->res),
			       cmd_safe(r->res.remedy));
			fprintf(stderr, "mimewatch: %s/%s: %s: %s%s%s\n", in->name, r->lt->name,
				mc_class_name(r->res.cls), cmd_safe(r->res.message),
				r->res.message[0] ? "; " : "", cmd_safe(r->res.remedy));
		}
	}
	config_free(&cfg);
	return failed ? EXIT_FAILED : 0;
}

/* ---- fetch and run ---------------------------------------------------------------- */

static const char fetch_usage[] =
	"usage: mimewatch fetch [--config FILE] [--retry-budget DURATION] [--shard K/N] [NAME...]\n"
	"Collects every configured type of each integration up to now - lag, delivers it\n"
	"to every output, prints per integration and type the new records, duplicates\n"
	"dropped, requests, retries and the new horizon, then exits. An integration that\n"
	"keeps failing is given up after the retry budget (default 10m). Exit 0 when all\n"
	"succeeded, 1 when at least one failed (reasons on stderr), 2 on bad usage.\n"
	"--shard K/N: only the integrations shard K of N takes (mimewatch shards N).\n";

static void print_reports(collector *c, const struct mw_config *cfg)
{
	const struct collector_report *r;
	size_t n;

	r = collector_reports(c, &n);
	for (size_t i = 0; i < n; i++) {
		char h[40];

		cmd_fmt_time(r[i].horizon, h, sizeof(h));
		char rev[48] = "";

		if (r[i].revised > 0)
			snprintf(rev, sizeof(rev), ", %lld revised", (long long)r[i].revised);
		printf("%s/%s: %lld new, %lld duplicates dropped%s, %lld requests, %lld retries, "
		       "%lld rejected, horizon %s%s\n",
		       r[i].integration, r[i].lt->name, (long long)r[i].new_records,
		       (long long)r[i].duplicates, rev, (long long)r[i].requests,
		       (long long)r[i].retries, (long long)r[i].rejects, h,
		       r[i].failed ? " (FAILED)" : "");
		if (r[i].failed)
			fprintf(stderr, "mimewatch: %s/%s: %s (%s)%s%s; remedy: %s\n",
				r[i].integration, r[i].lt->name, mc_class_name(r[i].last.cls),
				cmd_http_part(&r[i].last), r[i].last.message[0] ? ": " : "",
				cmd_safe(r[i].last.message),
				cmd_safe(r[i].last.remedy[0] ? r[i].last.remedy
							 : mc_class_remedy(r[i].last.cls)));
	}
	for (size_t i = 0; i < cfg->noutputs; i++) {
		char dir[4096];

		if (cfg->outputs[i].kind == MW_OUT_NDJSON)
			printf("records in %s\n",
			       cmd_safe(outputs_ndjson_dir(cfg->state_dir, &cfg->outputs[i], dir, sizeof(dir))));
		else
			printf("output %s: %s %s\n", cmd_safe(cfg->outputs[i].name),
			       output_type_name(cfg->outputs[i].kind),
			       cmd_safe(output_target(&cfg->outputs[i])));
	}
}

int cmd_fetch(const char *config, int argc, char **argv)
{
	struct mw_config cfg;
	struct collector_opts opts;
	collector *c;
	mw_err e;
	int lockfd = -1, rc, nnames = 0, sh;
	char **names = mw_xcalloc((size_t)argc + 1, sizeof(char *));

	memset(&opts, 0, sizeof(opts));
	opts.once = 1;
	opts.deliver = 1;
	opts.retry_budget_ms = 10 * 60 * 1000;
	for (int i = 0; i < argc; i++) {
		int64_t secs;

		if (cmd_is_help(argv[i])) {
			fputs(fetch_usage, stdout);
			free(names);
			return 0;
		}
		if (strcmp(argv[i], "--retry-budget") == 0 ||
		    strncmp(argv[i], "--retry-budget=", 15) == 0) {
			const char *v = argv[i][14] == '=' ? argv[i] + 15 : (i + 1 < argc ? argv[++i] : "");

			if (mw_parse_duration(v, &secs) < 0) {
				fprintf(stderr, "mimewatch fetch: --retry-budget '%s' is not a "
						"duration; write e.g. 30s, 10m\n", cmd_safe(v));
				free(names);
				return EXIT_USAGE;
			}
			if (secs > OPT_DURATION_MAX) {
				fprintf(stderr, "mimewatch fetch: --retry-budget '%s' is out of range; "
						"give at most 36500d, e.g. 10m\n", cmd_safe(v));
				free(names);
				return EXIT_USAGE;
			}
			opts.retry_budget_ms = secs * 1000;
			continue;
		}
		if ((sh = cmd_shard_option("fetch", argc, argv, &i, &opts.shard)) != 0) {
			if (sh > 0)
				continue;
			free(names);
			return EXIT_USAGE;
		}
		if (argv[i][0] == '-') {
			fprintf(stderr, "mimewatch fetch: unknown option %s\n%s", argv[i], fetch_usage);
			free(names);
			return EXIT_USAGE;
		}
		names[nnames++] = argv[i];
	}
	if (cmd_load(config, &cfg) < 0) {
		free(names);
		return EXIT_USAGE;
	}
	if (cmd_check_names(&cfg, nnames, names) < 0 || nnames > 64 ||
	    cmd_shard_check_names(&opts.shard, nnames, names) < 0) {
		config_free(&cfg);
		free(names);
		return EXIT_USAGE;
	}
	for (int i = 0; i < nnames; i++)
		opts.only[opts.nonly++] = names[i];
	if (cmd_take_lock(&cfg, &lockfd, "fetch") < 0) {
		config_free(&cfg);
		free(names);
		return EXIT_FAILED;
	}
	c = collector_new(&cfg, &opts, &e);
	if (!c) {
		fprintf(stderr, "mimewatch: %s\n", e.msg);
		config_free(&cfg);
		free(names);
		close(lockfd);
		return EXIT_FAILED;
	}
	active = c;
	install_signals(0);
	rc = collector_run(c);
	active = NULL;
	print_reports(c, &cfg);
	collector_free(c);
	config_free(&cfg);
	free(names);
	close(lockfd);
	return rc ? EXIT_FAILED : 0;
}

static const char run_usage[] =
	"usage: mimewatch run [--config FILE] [--shard K/N]\n"
	"Collects and delivers until SIGTERM or SIGINT; SIGHUP reloads the config\n"
	"without losing position. Logs go to stderr. A console started meanwhile\n"
	"attaches to this service through the store.\n"
	"--shard K/N: this is collector K (from 1) of N sharing the config; it takes\n"
	"only the integrations shard K takes (mimewatch shards N lists them).\n";

int cmd_run(const char *config, int argc, char **argv)
{
	struct mw_config cfg;
	struct collector_opts opts;
	collector *c;
	mw_err e;
	int lockfd = -1, rc, sh;
	char what[96] = "";

	memset(&opts, 0, sizeof(opts));
	for (int i = 0; i < argc; i++) {
		if (cmd_is_help(argv[i])) {
			fputs(run_usage, stdout);
			return 0;
		}
		if ((sh = cmd_shard_option("run", argc, argv, &i, &opts.shard)) > 0)
			continue;
		if (sh < 0)
			return EXIT_USAGE;
		fprintf(stderr, "mimewatch run: unexpected argument %s\n%s", argv[i], run_usage);
		return EXIT_USAGE;
	}
	if (cmd_load(config, &cfg) < 0)
		return EXIT_USAGE;
	if (cmd_take_lock(&cfg, &lockfd, "run") < 0) {
		config_free(&cfg);
		return EXIT_FAILED;
	}
	opts.deliver = 1;
	c = collector_new(&cfg, &opts, &e);
	if (!c) {
		fprintf(stderr, "mimewatch: %s\n", e.msg);
		config_free(&cfg);
		close(lockfd);
		return EXIT_FAILED;
	}
	active = c;
	install_signals(1);
	if (opts.shard.n)
		snprintf(what, sizeof(what), "shard %u/%u: %zu of %zu integrations", opts.shard.k,
			 opts.shard.n, collector_shard_count(&cfg, &opts.shard), cfg.nintegrations);
	else
		snprintf(what, sizeof(what), "%zu integration%s", cfg.nintegrations,
			 cfg.nintegrations == 1 ? "" : "s");
	mw_log(1, "collecting %s into %s", what, cfg.state_dir);
	{
		char st[256];

		snprintf(st, sizeof(st), "collecting %s", what);
		service_ready(st);
	}
	rc = collector_run(c);
	active = NULL;
	mw_log(1, "stopped; everything collected is committed");
	collector_free(c);
	config_free(&cfg);
	close(lockfd);
	return rc ? EXIT_FAILED : 0;
}

/* ---- status ----------------------------------------------------------------------- */

static const char status_usage[] =
	"usage: mimewatch status [--config FILE] [--json] [--events | --coverage | --metrics]\n"
	"Prints every integration, type and output with its state: last success, records\n"
	"(last poll, 24 h, total), lag, next poll, rate-limit budget and the last error\n"
	"with its remedy. Exit 0 when all are healthy, 1 when any is in error.\n"
	"When the store's collector is a shard (run --shard K/N), only its integrations.\n"
	"--events prints the collector's recent events instead, newest first, one a line:\n"
	"time (UTC), integration/type, what happened (windows, retries, 429 waits, token\n"
	"refreshes, config reloads, output errors). Exit 0, 1 when the store is unreadable.\n"
	"--coverage prints, per integration and type, the last 30 days: records, what was\n"
	"collected, the gaps between, and backfills queued or under way (as the console's\n"
	"coverage view shows them). Exit 0, 1 when the store is unreadable.\n"
	"--metrics prints the Prometheus text that metrics_file receives, from the store\n"
	"(mimewatch_up 1 while a collector runs). Exit 0, 1 when the store is unreadable.\n";

static const struct store_status *find_status(const struct store_status *sts, size_t n,
					      const char *integration, const char *type)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(sts[i].integration, integration) && !strcmp(sts[i].type, type))
			return &sts[i];
	return NULL;
}

static void json_add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

static void json_add_int(json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

static void json_add_time(json_object *o, const char *k, int64_t t)
{
	char buf[32];

	if (t <= 0) {
		json_object_object_add(o, k, NULL);
		return;
	}
	mw_format_rfc3339(t, buf);
	json_add_str(o, k, buf);
}

/* status --events: the store's events, newest first (store.h, "events.c"). */
/* Prints root pretty, every string terminal-safe (json_safe_text), and
 * frees it: status --json and status --events --json. */
static void print_json(json_object *root)
{
	mw_buf jb;

	mw_buf_init(&jb);
	json_safe_text(&jb, json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
	puts(jb.data ? jb.data : "");
	mw_buf_free(&jb);
	json_object_put(root);
}

static int print_events(const struct mw_config *cfg, int as_json)
{
	struct store_event *ev = NULL;
	size_t n = 0;
	mw_store *s = NULL;
	mw_err e;
	char when[32];

	if (access(cfg->state_dir, F_OK) == 0) {
		if (store_open(cfg->state_dir, &s, &e) < 0 ||
		    store_events_list(s, 0, 0, &ev, &n, &e) < 0) {
			fprintf(stderr, "mimewatch: %s\n", e.msg);
			store_close(s);
			return EXIT_FAILED;
		}
		store_close(s);
	}
	if (as_json) {
		json_object *root = json_object_new_object(), *arr = json_object_new_array();

		for (size_t i = 0; i < n; i++) {
			json_object *jo = json_object_new_object();

			json_add_time(jo, "time", ev[i].time);
			json_add_str(jo, "integration", ev[i].integration);
			json_add_str(jo, "type", ev[i].type);
			json_add_str(jo, "kind", ev[i].kind);
			json_add_str(jo, "text", ev[i].text);
			json_object_array_add(arr, jo);
		}
		json_object_object_add(root, "events", arr);
		print_json(root);
	} else {
		for (size_t i = 0; i < n; i++) {
			char who[96];

			mw_format_rfc3339(ev[i].time, when);
			if (ev[i].integration[0] && ev[i].type[0])
				snprintf(who, sizeof(who), "%s/%s", ev[i].integration, ev[i].type);
			else
				snprintf(who, sizeof(who), "%s",
					 ev[i].integration[0] ? ev[i].integration : "-");
			printf("%s  %s  %s: %s\n", when, cmd_safe(who), cmd_safe(ev[i].kind),
			       cmd_safe(ev[i].text));
		}
	}
	free(ev);
	return 0;
}

#define COVERAGE_DAYS 30

/* One stretch of a source's coverage, as a line or a JSON object. */
static void coverage_item(json_object *arr, const char *what, int64_t from, int64_t to)
{
	char f[32], t[32];

	if (arr) {
		json_object *jo = json_object_new_object();

		json_add_time(jo, "from", from);
		json_add_time(jo, "to", to);
		json_object_array_add(arr, jo);
		return;
	}
	mw_format_rfc3339(from, f);
	mw_format_rfc3339(to, t);
	printf("  %-10s %s  %s\n", what, f, t);
}

/* status --coverage: per configured (integration, type), the last 30 days
 * of store_coverage: spans, the gaps between them up to the horizon, and
 * the backfills queued. */
static int print_coverage(const struct mw_config *cfg, int as_json)
{
	int64_t now = mw_now(), from = now - COVERAGE_DAYS * 86400;
	json_object *root = NULL, *arr = NULL;
	mw_store *s = NULL;
	mw_err e;

	if (access(cfg->state_dir, F_OK) == 0 && store_open(cfg->state_dir, &s, &e) < 0) {
		fprintf(stderr, "mimewatch: %s\n", e.msg);
		return EXIT_FAILED;
	}
	if (as_json) {
		root = json_object_new_object();
		arr = json_object_new_array();
	}
	for (size_t i = 0; i < cfg->nintegrations; i++) {
		const struct mw_integration *in = &cfg->integrations[i];

		for (size_t t = 0; t < mw_nlogtypes; t++) {
			struct store_coverage cov;
			json_object *jo = NULL, *jspans = NULL, *jgaps = NULL, *jbf = NULL;
			int64_t src = 0, total = 0, pos, end;
			char h[32];

			if (!(in->types & (1u << t)))
				continue;
			memset(&cov, 0, sizeof(cov));
			cov.from = from - from % 3600;  /* as store_coverage: nothing stored yet */
			cov.to = now;
			if (s && (store_find_source(s, in->name, mw_logtypes[t].name, &src, &e) < 0 ||
				  (src && store_coverage(s, src, from, now, 1, &cov, &e) < 0))) {
				fprintf(stderr, "mimewatch: %s\n", e.msg);
				store_close(s);
				json_object_put(root);
				json_object_put(arr);
				return EXIT_FAILED;
			}
			for (size_t k = 0; k < cov.nhours; k++)
				total += cov.hours[k];
			if (as_json) {
				jo = json_object_new_object();
				json_add_str(jo, "integration", in->name);
				json_add_str(jo, "type", mw_logtypes[t].name);
				json_add_int(jo, "records_30d", total);
				json_add_time(jo, "horizon", cov.cur.horizon);
				jspans = json_object_new_array();
				jgaps = json_object_new_array();
				jbf = json_object_new_array();
			} else {
				mw_format_rfc3339(cov.cur.horizon, h);
				printf("%s/%s: %lld records in %d days, horizon %s\n", in->name,
				       mw_logtypes[t].name, (long long)total, COVERAGE_DAYS,
				       cov.cur.horizon ? h : "never");
			}
			/* spans and the gaps between them, up to the horizon */
			pos = cov.from;
			end = cov.cur.horizon > 0 && cov.cur.horizon < now ? cov.cur.horizon : now;
			for (size_t k = 0; k <= cov.nspans; k++) {
				int64_t sf = k < cov.nspans ? cov.spans[k].from : end;

				if (sf > pos && pos < end)
					coverage_item(jgaps, "gap", pos, sf < end ? sf : end);
				if (k == cov.nspans)
					break;
				coverage_item(jspans, "collected", cov.spans[k].from, cov.spans[k].to);
				if (cov.spans[k].to > pos)
					pos = cov.spans[k].to;
			}
			for (size_t k = 0; k < cov.nbf; k++) {
				const struct store_backfill *b = &cov.bf[k];
				int64_t pct = b->to > b->from ? (b->cur.win_progress - b->from) * 100 /
								(b->to - b->from) : 0;
				const char *st = b->state == STORE_BF_DONE ? "done"
						 : "queued";

				if (b->state == STORE_BF_DONE)
					pct = 100;
				if (jbf) {
					json_object *jb = json_object_new_object();

					json_add_time(jb, "from", b->from);
					json_add_time(jb, "to", b->to);
					json_add_str(jb, "state", st);
					json_add_int(jb, "progress", pct);
					json_object_array_add(jbf, jb);
				} else {
					char f[32], to[32];

					mw_format_rfc3339(b->from, f);
					mw_format_rfc3339(b->to, to);
					printf("  %-10s %s  %s  %s %lld%%\n", "backfill", f, to, st,
					       (long long)pct);
				}
			}
			if (jo) {
				json_object_object_add(jo, "collected", jspans);
				json_object_object_add(jo, "gaps", jgaps);
				json_object_object_add(jo, "backfills", jbf);
				json_object_array_add(arr, jo);
			}
			store_coverage_free(&cov);
		}
	}
	store_close(s);
	if (root) {
		json_object_object_add(root, "coverage", arr);
		print_json(root);
	}
	return 0;
}

/* status --metrics: the exposition metrics_file gets (metrics.h), read
 * from the store alone, so it needs no collector. */
static int print_metrics(const struct mw_config *cfg)
{
	mw_store *s = NULL;
	mw_buf b;
	mw_err e;
	long pid = 0;
	int rc = 0;

	if (access(cfg->state_dir, F_OK) == 0 && store_open(cfg->state_dir, &s, &e) < 0) {
		fprintf(stderr, "mimewatch: %s\n", e.msg);
		return EXIT_FAILED;
	}
	mw_buf_init(&b);
	if (metrics_render(s, cfg, s && store_lock_holder(cfg->state_dir, &pid) == 1, NULL, &b,
			   &e) < 0) {
		fprintf(stderr, "mimewatch: %s\n", e.msg);
		rc = EXIT_FAILED;
	} else {
		fwrite(b.data ? b.data : "", 1, b.len, stdout);
	}
	mw_buf_free(&b);
	store_close(s);
	return rc;
}

int cmd_status(const char *config, int argc, char **argv)
{
	struct mw_config cfg;
	struct store_status *sts = NULL;
	size_t nsts = 0;
	mw_store *s = NULL;
	mw_err e;
	int as_json = 0, bad = 0, events = 0, coverage = 0, metrics = 0;
	long pid = 0;
	int64_t now = mw_now();
	json_object *root = NULL, *jints = NULL, *jouts = NULL;
	int collecting;
	struct mw_shard shard;

	for (int i = 0; i < argc; i++) {
		if (cmd_is_help(argv[i])) {
			fputs(status_usage, stdout);
			return 0;
		}
		if (strcmp(argv[i], "--json") == 0) {
			as_json = 1;
			continue;
		}
		if (strcmp(argv[i], "--coverage") == 0) {
			coverage = 1;
			continue;
		}
		if (strcmp(argv[i], "--events") == 0) {
			events = 1;
			continue;
		}
		if (strcmp(argv[i], "--metrics") == 0) {
			metrics = 1;
			continue;
		}
		fprintf(stderr, "mimewatch status: unexpected argument %s\n%s", argv[i],
			status_usage);
		return EXIT_USAGE;
	}
	if (metrics && (as_json || events || coverage)) {
		fprintf(stderr, "mimewatch status: --metrics prints Prometheus text alone; drop "
			"--json, --events and --coverage\n%s", status_usage);
		return EXIT_USAGE;
	}
	if (cmd_load(config, &cfg) < 0)
		return EXIT_USAGE;
	if (metrics) {
		int rc = print_metrics(&cfg);

		config_free(&cfg);
		return rc;
	}
	if (events || coverage) {
		int rc = events ? print_events(&cfg, as_json) : print_coverage(&cfg, as_json);

		config_free(&cfg);
		return rc;
	}
	if (access(cfg.state_dir, F_OK) == 0) {
		if (store_open(cfg.state_dir, &s, &e) < 0) {
			fprintf(stderr, "mimewatch: %s\n", e.msg);
			config_free(&cfg);
			return EXIT_FAILED;
		}
		if (store_list_status(s, &sts, &nsts, &e) < 0) {
			fprintf(stderr, "mimewatch: %s\n", e.msg);
			store_close(s);
			config_free(&cfg);
			return EXIT_FAILED;
		}
	}
	/* Is someone collecting? Asked without taking the lock or writing to
	 * its file, so a run starting now is not refused, nor its pid hidden. */
	collecting = s && store_lock_holder(cfg.state_dir, &pid) == 1;
	collector_shard_of_store(s, &shard);
	if (disk_full(cfg.state_dir)) {
		/* The collector cannot even record that in a full store. */
		bad = 1;
		if (!as_json)
			printf("disk full: free space on %s; collection is paused, nothing is lost, "
			       "and it resumes where it stopped\n", cmd_safe(cfg.state_dir));
	}
	if (as_json) {
		root = json_object_new_object();
		json_add_str(root, "state_dir", cfg.state_dir);
		json_object_object_add(root, "disk_full",
				       json_object_new_boolean(disk_full(cfg.state_dir)));
		json_object_object_add(root, "collector_pid",
				       collecting ? json_object_new_int64(pid) : NULL);
		json_object_object_add(root, "shard", cmd_shard_json(&cfg, &shard));
		jints = json_object_new_array();
		jouts = json_object_new_array();
	} else {
		printf("state %s; %s\n", cmd_safe(cfg.state_dir),
		       collecting ? "collecting" : "no collector running");
		if (collecting)
			printf("collector pid %ld\n", pid);
		if (shard.n)
			printf("shard %u/%u: %zu of %zu integrations (the others are other shards')\n",
			       shard.k, shard.n, collector_shard_count(&cfg, &shard), cfg.nintegrations);
	}
	for (size_t i = 0; i < cfg.nintegrations; i++) {
		const struct mw_integration *in = &cfg.integrations[i];
		json_object *ji = NULL, *jtypes = NULL;

		if (!shard_takes(&shard, in->name))
			continue;
		if (as_json) {
			ji = json_object_new_object();
			json_add_str(ji, "name", in->name);
			json_add_str(ji, "description", in->description);
			json_add_str(ji, "api", in->api == 2 ? "v2" : "v1");
			json_add_str(ji, "base_url", in->base_url);
			jtypes = json_object_new_array();
		} else {
			printf("\n%s  %s (%s)\n", in->name, cmd_safe(in->base_url),
			       in->api == 2 ? "API 2.0" : "API 1.0");
		}
		for (size_t t = 0; t < mw_nlogtypes; t++) {
			const struct store_status *st;
			struct store_status none;
			char ls[40], hz[40], np[40];
			const char *warn;
			int64_t lag;

			if (!(in->types & (1u << t)))
				continue;
			st = find_status(sts, nsts, in->name, mw_logtypes[t].name);
			if (!st) {
				memset(&none, 0, sizeof(none));
				snprintf(none.state, sizeof(none.state), "new");
				snprintf(none.err_class, sizeof(none.err_class), "ok");
				none.rl_limit = none.rl_remaining = none.rl_reset_ms = -1;
				st = &none;
			}
			/* Failing for good, or given up on (a fetch's retry budget). */
			if ((strcmp(st->err_class, "ok") != 0 && strcmp(st->err_class, "retry") != 0) ||
			    strcmp(st->state, "error") == 0)
				bad = 1;
			lag = st->horizon ? now - st->horizon : -1;
			/* The collector's own warning (it knows why) before the
			 * 24-hour silence rule's guess. */
			warn = st->warning[0] ? st->warning : status_silence_warning(st);
			if (as_json) {
				json_object *jt = json_object_new_object();

				json_add_str(jt, "type", mw_logtypes[t].name);
				json_add_str(jt, "state", st->state);
				json_object_object_add(jt, "paused", json_object_new_boolean(st->paused));
				json_add_time(jt, "last_success", st->last_success);
				json_add_time(jt, "last_attempt", st->last_attempt);
				json_add_time(jt, "next_poll", st->next_poll);
				json_add_time(jt, "horizon", st->horizon);
				json_object_object_add(jt, "lag_seconds",
						       lag >= 0 ? json_object_new_int64(lag) : NULL);
				json_add_int(jt, "records_last_poll", st->records_last_poll);
				json_add_int(jt, "records_24h", st->records_24h);
				json_add_int(jt, "records_total", st->total);
				json_add_int(jt, "rejected", st->rejects);
				json_add_int(jt, "outside_window", st->outside);
				json_add_int(jt, "revised", st->revised);
				json_add_str(jt, "class", st->err_class);
				json_add_str(jt, "class_name",
					     mc_class_name(mc_class_from_key(st->err_class)));
				json_add_int(jt, "http_status", st->http_status);
				json_add_str(jt, "code", st->err_code);
				json_add_str(jt, "message", st->err_message);
				json_add_str(jt, "remedy", st->remedy);
				json_add_int(jt, "ratelimit_limit", st->rl_limit);
				json_add_int(jt, "ratelimit_remaining", st->rl_remaining);
				json_add_int(jt, "ratelimit_reset_ms", st->rl_reset_ms);
				json_add_time(jt, "throttled_until",
					      st->throttled_until > now * 1000
						      ? st->throttled_until / 1000 : 0);
				json_object_object_add(jt, "warning",
						       warn ? json_object_new_string(warn) : NULL);
				json_object_array_add(jtypes, jt);
				continue;
			}
			cmd_fmt_time(st->last_success, ls, sizeof(ls));
			cmd_fmt_time(st->horizon, hz, sizeof(hz));
			cmd_fmt_time(st->next_poll, np, sizeof(np));
			printf("  %-14s %-10s last success %s; records: last poll %lld, 24 h %lld, "
			       "total %lld", mw_logtypes[t].name, cmd_safe(st->state), ls,
			       (long long)st->records_last_poll, (long long)st->records_24h,
			       (long long)st->total);
			if (lag >= 0)
				printf("; lag %llds", (long long)lag);
			if (!strcmp(st->state, "throttled") && st->throttled_until > now * 1000)
				printf("; next request in %llds",
				       (long long)((st->throttled_until - now * 1000 + 999) / 1000));
			if (st->next_poll > now)
				printf("; next poll %s", np);
			if (st->rl_remaining >= 0)
				printf("; rate budget %lld/%lld", (long long)st->rl_remaining,
				       (long long)st->rl_limit);
			if (st->rejects)
				printf("; %lld rejected", (long long)st->rejects);
			if (st->outside)
				printf("; %lld dated outside their window", (long long)st->outside);
			if (st->revised)
				printf("; %lld revised", (long long)st->revised);
			printf("\n");
			if (strcmp(st->err_class, "ok") != 0 && st->http_status > 0)
				printf("    %s (HTTP %ld%s%s): %s\n    remedy: %s\n",
				       mc_class_name(mc_class_from_key(st->err_class)), st->http_status,
				       st->err_code[0] ? " " : "", cmd_safe(st->err_code),
				       cmd_safe(st->err_message), cmd_safe(st->remedy));
			else if (strcmp(st->err_class, "ok") != 0) /* no response: a local failure */
				printf("    %s (%s): %s\n    remedy: %s\n",
				       mc_class_name(mc_class_from_key(st->err_class)),
				       cmd_safe(st->err_code[0] ? st->err_code : "no response"),
				       cmd_safe(st->err_message), cmd_safe(st->remedy));
			if (warn)
				printf("    warning: %s\n", cmd_safe(warn));
		}
		if (as_json) {
			json_object_object_add(ji, "types", jtypes);
			json_object_array_add(jints, ji);
		}
	}
	for (size_t i = 0; i < cfg.noutputs; i++) {
		const struct mw_output *o = &cfg.outputs[i];
		struct store_output_info oi;
		char dir[4096], target[4096], age[32], replay[1400];
		int full = 0;

		memset(&oi, 0, sizeof(oi));
		snprintf(oi.state, sizeof(oi.state), "idle");
		if (s && store_output_info(s, o->name, &oi, &e) < 0) {
			snprintf(oi.state, sizeof(oi.state), "error");
			snprintf(oi.error, sizeof(oi.error), "%s", e.msg);
		}
		if (o->kind == MW_OUT_NDJSON) {
			outputs_ndjson_dir(cfg.state_dir, o, dir, sizeof(dir));
			snprintf(target, sizeof(target), "%s", dir);
			full = disk_full(dir);
			if (full) {
				snprintf(oi.state, sizeof(oi.state), "error");
				snprintf(oi.error, sizeof(oi.error), "disk full: free space on "
					 "%.900s; delivery resumes where it stopped", dir);
			}
		} else {
			snprintf(target, sizeof(target), "%s", output_target(o));
		}
		output_replay_state(s, o->name, replay, sizeof(replay));
		/* An output that never ran but has nothing to deliver is fine. */
		if (strcmp(oi.state, "ok") != 0 && (strcmp(oi.state, "idle") != 0 ||
						    oi.lag_records > 0))
			bad = 1;
		if (as_json) {
			json_object *jo = json_object_new_object();

			json_add_str(jo, "name", o->name);
			json_add_str(jo, "type", output_type_name(o->kind));
			json_add_str(jo, "target", target);
			if (o->kind == MW_OUT_NDJSON)
				json_add_str(jo, "dir", dir);
			json_add_int(jo, "delivered_rowid", oi.last_rowid);
			json_add_int(jo, "delivered", oi.delivered);
			json_add_int(jo, "lag_records", oi.lag_records);
			json_add_int(jo, "lag_seconds", oi.lag_seconds);
			json_add_str(jo, "state", oi.state);
			json_add_str(jo, "error", oi.error);
			json_object_object_add(jo, "disk_full", json_object_new_boolean(full));
			json_add_str(jo, "replay", replay);
			json_object_array_add(jouts, jo);
		} else {
			mw_format_duration(oi.lag_seconds, age, sizeof(age));
			printf("\noutput %s (%s) %s: %s, %lld delivered, %lld records waiting%s%s\n",
			       cmd_safe(o->name), output_type_name(o->kind), cmd_safe(target), cmd_safe(oi.state),
			       (long long)oi.delivered, (long long)oi.lag_records,
			       oi.lag_records ? ", oldest collected " : "",
			       oi.lag_records ? age : "");
			if (oi.error[0])
				printf("    error: %s\n", cmd_safe(oi.error));
			if (replay[0])
				printf("    replay: %s\n", cmd_safe(replay));
		}
	}
	if (as_json) {
		json_object_object_add(root, "integrations", jints);
		json_object_object_add(root, "outputs", jouts);
		print_json(root);
	}
	free(sts);
	if (s)
		store_close(s);
	config_free(&cfg);
	return bad ? EXIT_FAILED : 0;
}

/* Hands a request to the collector that holds the lock (pid), through the
 * store, and waits up to 10 s for it: 0 carried out; -1 refused, not
 * answered in time (it stays queued) or not written, said on stderr after
 * who ("mimewatch", "mimewatch rename"). */
int cmd_hand_over(mw_store *s, const char *integration, const char *type,
		     enum mw_request action, const char *arg, long pid, const char *who)
{
	char result[512] = "";
	int64_t id;
	int state = 0;
	mw_err e;

	if (store_request_add(s, integration, type, action, arg, &id, &e) < 0) {
		fprintf(stderr, "%s: %s\n", who, e.msg);
		return -1;
	}
	for (int i = 0; i < 100 && state < 2; i++) {
		mw_sleep_ms(100);
		store_request_get(s, id, &state, result, sizeof(result), &e);
	}
	if (state == 2)
		return 0;
	fprintf(stderr, "%s: the running collector (pid %ld) %s\n", who, pid,
		state == 3 ? cmd_safe(result) : "did not answer within 10 s; the request stays queued");
	return -1;
}

/* The store of cfg opened and its collector lock tried: 1 this process holds
 * the lock (*lockfd: the caller acts itself, then closes it), 0 a collector
 * runs (*pid: the change is handed to it, hand_over), -1 failed (said on
 * stderr). *s is to be closed in every case. */
int cmd_open_store_locked(const struct mw_config *cfg, mw_store **s, int *lockfd,
			     long *pid)
{
	mw_err e;
	int locked;

	*s = NULL;
	if (mw_mkdir_p(cfg->state_dir, &e) < 0 || store_open(cfg->state_dir, s, &e) < 0) {
		fprintf(stderr, "mimewatch: %s\n", e.msg);
		return -1;
	}
	locked = store_lock(cfg->state_dir, lockfd, pid, &e);
	if (locked < 0)
		fprintf(stderr, "mimewatch: %s\n", e.msg);
	return locked;
}
