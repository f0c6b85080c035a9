/* test_config.c - the YAML config: every key, defaults, one test per kind of
 * error (exact file:line and field), secret files and modes, and saving that
 * keeps comments and order. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "logtypes.h"

#define GUID1 "01234567-89ab-cdef-0123-456789abcdef"
#define GUID2 "FEDCBA98-7654-3210-FEDC-BA9876543210"
#define B64 "c2VjcmV0LWtleS1mb3ItdGVzdHM="  /* "secret-key-for-tests" */

/* A valid v1 entry; its name line is line 2 when it follows "integrations:". */
#define V1(name) \
	"  - name: " name "\n" \
	"    base_url: https://eu-api.mimecast.com\n" \
	"    app_id: " GUID1 "\n" \
	"    app_key: " GUID2 "\n" \
	"    access_key: AKEY-1\n" \
	"    secret_key: " B64 "\n"

static char tmpdir[64];

static int setup(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/mw-test-config-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	setenv("XDG_STATE_HOME", "/tmp/mw-state-home", 1);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void path_in(char *buf, size_t n, const char *leaf)
{
	snprintf(buf, n, "%s/%s", tmpdir, leaf);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 20);
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Parses text that must fail and checks the whole message. */
static void expect_error(const char *text, const char *want)
{
	struct mw_config cfg;
	mw_err e;

	mw_err_clear(&e);
	assert_int_equal(config_parse("config.yaml", text, strlen(text), &cfg, &e), -1);
	assert_string_equal(e.msg, want);
	assert_int_equal(cfg.nintegrations, 0);  /* freed and zeroed on failure */
	assert_null(cfg.text);
}

static void parse_ok(const char *text, struct mw_config *cfg)
{
	mw_err e;

	mw_err_clear(&e);
	if (config_parse("config.yaml", text, strlen(text), cfg, &e) != 0)
		fail_msg("unexpected error: %s", e.msg);
}

/* ---- valid configs --------------------------------------------------------- */

static void test_full_config(void **state)
{
	char akfile[128], cafile[128], text[4096];
	struct mw_config cfg;
	const struct mw_integration *a, *b;

	(void)state;
	path_in(akfile, sizeof(akfile), "access.key");
	path_in(cafile, sizeof(cafile), "ca.pem");
	write_file(akfile, "AKEY-from-file\n", 0600);
	write_file(cafile, "-----BEGIN CERTIFICATE-----\n", 0644);
	setenv("MW_TEST_SECRET", B64, 1);
	snprintf(text, sizeof(text),
		 "# every key\n"
		 "state_dir: /var/lib/mimewatch\n"
		 "retention: 7d\n"
		 "integrations:\n"
		 "  - name: acme-eu\n"
		 "    description: \"Acme, EU tenant: #1\"\n"
		 "    api: v1\n"
		 "    base_url: https://eu-api.mimecast.com//\n"
		 "    app_id: %s\n"
		 "    app_key: %s\n"
		 "    access_key_file: %s\n"
		 "    secret_key_env: MW_TEST_SECRET\n"
		 "    types: [url, attachment]\n"
		 "    interval: 2m\n"
		 "    lookback: 48h\n"
		 "    lag: 1m\n"
		 "    overlap: 15m\n"
		 "    page_size: 50\n"
		 "    ca_file: %s\n"
		 "  - name: Acme_US.2\n"
		 "    api: v2\n"
		 "    client_id: cid-123\n"
		 "    client_secret: 'cs/+=x'\n"
		 "    types:\n"
		 "      - impersonation\n"
		 "outputs:\n"
		 "  - type: ndjson\n"
		 "    dir: /srv/out\n"
		 "  - type: ndjson\n"
		 "    name: archive\n"
		 "    dir: /srv/archive\n",
		 GUID1, GUID2, akfile, cafile);
	parse_ok(text, &cfg);
	assert_string_equal(cfg.path, "config.yaml");
	assert_string_equal(cfg.state_dir, "/var/lib/mimewatch");
	assert_int_equal(cfg.retention, 7 * 86400);
	assert_int_equal(cfg.nintegrations, 2);
	a = &cfg.integrations[0];
	assert_string_equal(a->name, "acme-eu");
	assert_string_equal(a->description, "Acme, EU tenant: #1");
	assert_int_equal(a->api, 1);
	assert_string_equal(a->base_url, "https://eu-api.mimecast.com");
	assert_string_equal(a->app_id, GUID1);
	assert_string_equal(a->app_key, GUID2);
	assert_int_equal(a->access_key.src, MW_SECRET_FILE);
	assert_string_equal(a->access_key.ref, akfile);
	assert_string_equal(a->access_key.value, "AKEY-from-file");
	assert_int_equal(a->secret_key.src, MW_SECRET_ENV);
	assert_string_equal(a->secret_key.ref, "MW_TEST_SECRET");
	assert_string_equal(a->secret_key.value, B64);
	assert_int_equal(a->client_secret.src, MW_SECRET_NONE);
	assert_null(a->client_id);
	assert_int_equal(a->types, (1u << logtype_index("url")) | (1u << logtype_index("attachment")));
	assert_int_equal(a->interval, 120);
	assert_int_equal(a->lookback, 48 * 3600);
	assert_int_equal(a->lag, 60);
	assert_int_equal(a->overlap, 900);
	assert_int_equal(a->page_size, 50);
	assert_string_equal(a->ca_file, cafile);
	assert_int_equal(a->line, 5);
	assert_int_equal(a->dirty, 0);
	/* the entry's text runs from its "  - " line to the end of its last line */
	assert_memory_equal(cfg.text + a->src_start, "  - name: acme-eu\n", 18);
	assert_int_equal(a->src_end, (size_t)(strstr(cfg.text, "  - name: Acme_US.2") - cfg.text));

	b = &cfg.integrations[1];
	assert_string_equal(b->name, "Acme_US.2");
	assert_int_equal(b->api, 2);
	assert_string_equal(b->base_url, "https://api.services.mimecast.com");
	assert_string_equal(b->client_id, "cid-123");
	assert_int_equal(b->client_secret.src, MW_SECRET_INLINE);
	assert_string_equal(b->client_secret.value, "cs/+=x");
	assert_null(b->client_secret.ref);
	assert_null(b->app_id);
	assert_int_equal(b->types, 1u << logtype_index("impersonation"));
	assert_int_equal(b->line, 20);
	assert_int_equal(b->src_end, (size_t)(strstr(cfg.text, "outputs:") - cfg.text));

	assert_int_equal(cfg.noutputs, 2);
	assert_int_equal(cfg.outputs_default, 0);
	assert_int_equal(cfg.outputs[0].kind, MW_OUT_NDJSON);
	assert_string_equal(cfg.outputs[0].name, "ndjson");
	assert_string_equal(cfg.outputs[0].dir, "/srv/out");
	assert_int_equal(cfg.outputs[0].line, 27);
	assert_string_equal(cfg.outputs[1].name, "archive");
	assert_string_equal(cfg.outputs[1].dir, "/srv/archive");

	assert_ptr_equal(config_find(&cfg, "Acme_US.2"), b);
	assert_null(config_find(&cfg, "acme-us"));
	config_free(&cfg);
	unsetenv("MW_TEST_SECRET");
}

static void test_defaults(void **state)
{
	struct mw_config cfg;
	const struct mw_integration *in;

	(void)state;
	parse_ok("integrations:\n" V1("acme-eu"), &cfg);
	assert_string_equal(cfg.state_dir, "/tmp/mw-state-home/mimewatch");
	assert_int_equal(cfg.retention, 30 * 86400);
	in = &cfg.integrations[0];
	assert_int_equal(in->api, 1);
	assert_null(in->description);
	assert_int_equal(in->types, 7);
	assert_int_equal(in->interval, 300);
	assert_int_equal(in->lookback, 86400);
	assert_int_equal(in->lag, 30);
	assert_int_equal(in->overlap, 600);
	assert_int_equal(in->page_size, 100);
	assert_null(in->ca_file);
	assert_int_equal(in->access_key.src, MW_SECRET_INLINE);
	assert_string_equal(in->access_key.value, "AKEY-1");
	assert_int_equal(cfg.noutputs, 1);
	assert_int_equal(cfg.outputs_default, 1);
	assert_string_equal(cfg.outputs[0].name, "ndjson");
	assert_string_equal(cfg.outputs[0].dir, "/tmp/mw-state-home/mimewatch/out");
	config_free(&cfg);

	/* an empty file is a config without integrations */
	parse_ok("", &cfg);
	assert_int_equal(cfg.nintegrations, 0);
	assert_int_equal(cfg.outputs_default, 1);
	config_free(&cfg);
	parse_ok("# only a comment\nintegrations:\n", &cfg);
	assert_int_equal(cfg.nintegrations, 0);
	config_free(&cfg);

	/* loopback http is allowed for the simulated tenant */
	parse_ok("integrations:\n"
		 "  - name: sim\n"
		 "    api: v2\n"
		 "    base_url: http://127.0.0.1:8443/\n"
		 "    client_id: c\n"
		 "    client_secret: s\n"
		 "  - name: sim6\n"
		 "    api: v2\n"
		 "    base_url: http://[::1]:8443\n"
		 "    client_id: c\n"
		 "    client_secret: s\n"
		 "  - name: simlocal\n"
		 "    api: v2\n"
		 "    base_url: http://LocalHost\n"
		 "    client_id: c\n"
		 "    client_secret: s\n"
		 "  - name: simmapped\n"
		 "    api: v2\n"
		 "    base_url: http://[::ffff:127.0.0.1]:8443\n"
		 "    client_id: c\n"
		 "    client_secret: s\n", &cfg);
	assert_string_equal(cfg.integrations[0].base_url, "http://127.0.0.1:8443");
	assert_string_equal(cfg.integrations[1].base_url, "http://[::1]:8443");
	assert_string_equal(cfg.integrations[2].base_url, "http://LocalHost");
	/* the same loopback test as the client's (netpolicy.c): they disagreed */
	assert_string_equal(cfg.integrations[3].base_url, "http://[::ffff:127.0.0.1]:8443");
	config_free(&cfg);
}

static void test_default_paths(void **state)
{
	char buf[256];

	(void)state;
	setenv("XDG_CONFIG_HOME", "/cfg/home", 1);
	config_default_path(buf, sizeof(buf));
	assert_string_equal(buf, "/cfg/home/mimewatch/config.yaml");
	unsetenv("XDG_CONFIG_HOME");
	setenv("HOME", "/home/alice", 1);
	config_default_path(buf, sizeof(buf));
	assert_string_equal(buf, "/home/alice/.config/mimewatch/config.yaml");
	setenv("XDG_STATE_HOME", "relative/ignored", 1);
	config_default_state_dir(buf, sizeof(buf));
	assert_string_equal(buf, "/home/alice/.local/state/mimewatch");
	setenv("XDG_STATE_HOME", "/tmp/mw-state-home", 1);
	config_default_state_dir(buf, sizeof(buf));
	assert_string_equal(buf, "/tmp/mw-state-home/mimewatch");
}

/* ---- errors: exact file:line, where and fix -------------------------------- */

static void test_error_bad_duration(void **state)
{
	(void)state;
	expect_error("integrations:\n" V1("acme-eu") "    interval: 5 minutes\n",
		     "config.yaml:8: integration 'acme-eu': interval: '5 minutes' is not a "
		     "duration; write e.g. 30s, 5m, 48h, 30d");
	expect_error("retention: 30\n",
		     "config.yaml:1: retention: '30' is not a duration; write e.g. 30s, 5m, "
		     "48h, 30d");
}

/* The store's budget and pass-through (HACKING, "The store's budget and
 * pass-through"). */
static void test_volume_keys(void **state)
{
	struct mw_config cfg;
	mw_buf b;
	mw_err e;

	(void)state;
	parse_ok("max_store: 20G\nkeep_delivered: false\noutputs:\n  - type: ndjson\n"
		 "    dir: /tmp/mw-out\n", &cfg);
	assert_int_equal(cfg.max_store, INT64_C(20) << 30);
	assert_int_equal(cfg.pass_through, 1);
	mw_buf_init(&b);
	assert_int_equal(config_render(&cfg, &b, &e), 0);
	assert_non_null(strstr(b.data, "max_store: 20G\nkeep_delivered: false\n"));
	mw_buf_free(&b);
	config_free(&cfg);
	parse_ok("keep_delivered: true\n", &cfg);
	assert_int_equal(cfg.pass_through, 0);
	assert_int_equal(cfg.max_store, 0);
	config_free(&cfg);
	expect_error("max_store: 20GB\n",
		     "config.yaml:1: max_store: '20GB' is not a size; write an integer and K, "
		     "M, G or T (KiB to TiB), e.g. max_store: 20G");
	expect_error("max_store: 20\n",
		     "config.yaml:1: max_store: '20' is not a size; write an integer and K, "
		     "M, G or T (KiB to TiB), e.g. max_store: 20G");
	expect_error("max_store: 512K\n",
		     "config.yaml:1: max_store: below 1M, the store's own tables would not fit; "
		     "give at least 1M, e.g. max_store: 20G, or remove the key for no budget");
	expect_error("keep_delivered: no\n",
		     "config.yaml:1: keep_delivered: 'no' is neither true nor false; write "
		     "keep_delivered: false to keep records only until every output has them");
	expect_error("state_dir: /x\nkeep_delivered: false\n",
		     "config.yaml:2: keep_delivered: false with no outputs: records would go to "
		     "the default NDJSON directory alone and be deleted from the store; list "
		     "the outputs that must have them under outputs:, or remove the key");
	expect_error("keep_delivered: false\noutputs: []\n",
		     "config.yaml:1: keep_delivered: false with no outputs: records would go to "
		     "the default NDJSON directory alone and be deleted from the store; list "
		     "the outputs that must have them under outputs:, or remove the key");
}

/* Issue 10 point 5: a date or clock time where a duration goes, including
 * days and times that do not exist, is refused with the field named. 25h is
 * a duration (digits and a unit) and stays accepted. */
static void test_error_dates_for_durations(void **state)
{
	struct mw_config cfg;

	(void)state;
	expect_error("integrations:\n" V1("acme-eu") "    lookback: 2026-02-30\n",
		     "config.yaml:8: integration 'acme-eu': lookback: '2026-02-30' is not a "
		     "duration; write e.g. 30s, 5m, 48h, 30d");
	expect_error("integrations:\n" V1("acme-eu") "    lookback: 2026-13-01T00:00:00Z\n",
		     "config.yaml:8: integration 'acme-eu': lookback: '2026-13-01T00:00:00Z' is "
		     "not a duration; write e.g. 30s, 5m, 48h, 30d");
	expect_error("integrations:\n" V1("acme-eu") "    interval: '24:00:00'\n",
		     "config.yaml:8: integration 'acme-eu': interval: '24:00:00' is not a "
		     "duration; write e.g. 30s, 5m, 48h, 30d");
	expect_error("integrations:\n" V1("acme-eu") "    overlap: 1h30m\n",
		     "config.yaml:8: integration 'acme-eu': overlap: '1h30m' is not a "
		     "duration; write e.g. 30s, 5m, 48h, 30d");
	expect_error("integrations:\n" V1("acme-eu") "    lag: 25H\n",
		     "config.yaml:8: integration 'acme-eu': lag: '25H' is not a "
		     "duration; write e.g. 30s, 5m, 48h, 30d");
	expect_error("retention: 2026-02-30\n",
		     "config.yaml:1: retention: '2026-02-30' is not a duration; write e.g. 30s, "
		     "5m, 48h, 30d");
	parse_ok("integrations:\n" V1("acme-eu") "    lookback: 25h\n", &cfg);
	assert_int_equal(cfg.integrations[0].lookback, 25 * 3600);
	config_free(&cfg);
}

static void test_error_interval_short(void **state)
{
	(void)state;
	expect_error("integrations:\n" V1("acme-eu") "    interval: 9s\n",
		     "config.yaml:8: integration 'acme-eu': interval: 9s is too short; poll at "
		     "least every 10s and at most every 36500d, e.g. interval: 5m");
}

static void test_error_bad_guid(void **state)
{
	(void)state;
	expect_error("integrations:\n"
		     "  - name: acme-eu\n"
		     "    base_url: https://eu-api.mimecast.com\n"
		     "    app_id: 01234567-89ab-cdef-0123-456789abcdeg\n",
		     "config.yaml:4: integration 'acme-eu': app_id: "
		     "'01234567-89ab-cdef-0123-456789abcdeg' is not a GUID; copy the "
		     "Application ID exactly, in the form 01234567-89ab-cdef-0123-456789abcdef");
}

static void test_error_unknown_type(void **state)
{
	(void)state;
	expect_error("integrations:\n" V1("acme-eu") "    types: [url, siems]\n",
		     "config.yaml:8: integration 'acme-eu': types: 'siems' is not a log type; "
		     "valid types: url, impersonation, attachment, audit, dlp, siem");
	expect_error("integrations:\n" V1("acme-eu") "    siem_types: [receipt, url]\n",
		     "config.yaml:8: integration 'acme-eu': siem_types: 'url' is not a SIEM type; "
		     "valid: receipt, process, delivery, av, spam, journal, "
		     "internal_email_protect, impersonation_protect, url_protect, "
		     "attachment_protect");
	expect_error("integrations:\n" V1("acme-eu") "    siem_types: receipt\n",
		     "config.yaml:8: integration 'acme-eu': siem_types: must be a list; write e.g. "
		     "siem_types: [receipt, delivery]; valid: receipt, process, delivery, av, spam, "
		     "journal, internal_email_protect, impersonation_protect, url_protect, "
		     "attachment_protect");
	expect_error("integrations:\n" V1("acme-eu") "    types: []\n",
		     "config.yaml:8: integration 'acme-eu': types: the list is empty; list at "
		     "least one of url, impersonation, attachment, audit, dlp, siem");
}

/* metrics_file: checked as every key, the directory and the name too. */
static void test_metrics_file(void **state)
{
	struct mw_config cfg;

	(void)state;
	expect_error("metrics_file: m.prom\n",
		     "config.yaml:1: metrics_file: 'm.prom' is not an absolute path; write a path "
		     "that starts with /");
	expect_error("metrics_file: /tmp/mimewatch.txt\n",
		     "config.yaml:1: metrics_file: '/tmp/mimewatch.txt' does not end in .prom; "
		     "node_exporter's textfile collector reads only *.prom files, e.g. "
		     "metrics_file: /var/lib/node_exporter/textfile/mimewatch.prom");
	expect_error("\nmetrics_file: /nonexistent-mimewatch/m.prom\n",
		     "config.yaml:2: metrics_file: the directory /nonexistent-mimewatch does not "
		     "exist; create it, or let this user write there");
	expect_error("metrics_file: [a]\n",
		     "config.yaml:1: config: metrics_file: must be a single value, not a list; "
		     "write metrics_file: value");
	parse_ok("metrics_file: /tmp/mimewatch.prom\n", &cfg);
	assert_string_equal(cfg.metrics_file, "/tmp/mimewatch.prom");
	config_free(&cfg);
	parse_ok("metrics_file:\n", &cfg);
	assert_null(cfg.metrics_file);
	config_free(&cfg);
}

static void test_error_unknown_key(void **state)
{
	(void)state;
	expect_error("integrations:\n" V1("acme-eu") "    intervall: 5m\n",
		     "config.yaml:8: integration 'acme-eu': unknown key 'intervall'; did you "
		     "mean 'interval'? valid keys: name, description, api, base_url, app_id, "
		     "app_key, access_key, access_key_file, access_key_env, "
		     "access_key_credential, secret_key, secret_key_file, secret_key_env, "
		     "secret_key_credential, client_id, client_secret, client_secret_file, "
		     "client_secret_env, client_secret_credential, types, interval, lookback, "
		     "lag, overlap, page_size, ca_file, proxy, proxy_user, proxy_password, "
		     "proxy_password_file, proxy_password_env, proxy_password_credential, "
		     "proxy_ca_file, siem_types");
	expect_error("state_dir: /x\nintegration:\n",
		     "config.yaml:2: config: unknown key 'integration'; did you mean "
		     "'integrations'? valid keys: state_dir, retention, integrations, outputs, "
		     "heartbeat, metrics_file, max_store, keep_delivered, proxy");
	expect_error("outputs:\n  - type: ndjson\n    directory: /x\n",
		     "config.yaml:3: output #1 (ndjson): unknown key 'directory'; valid keys: type, name, "
		     "dir, group, mode, keep, compress, start");
}

/* proxy: the integration's wins over the top level's, none turns it off,
 * silence leaves it to the environment; a dirty entry is written with its
 * own proxy keys and never the inherited one. */
static void test_proxy_keys(void **state)
{
	struct mw_config cfg;
	mw_err e;
	mw_buf b;
	char pw[256], text[2048];

	(void)state;
	path_in(pw, sizeof(pw), "proxy-pw");
	write_file(pw, "pw-1\n", 0600);
	snprintf(text, sizeof(text), "proxy: http://top.example:3128\nintegrations:\n"
		 V1("own") "    proxy: https://own.example:8443\n    proxy_user: u1\n"
		 "    proxy_password_file: %s\n    proxy_ca_file: %s\n"
		 V1("off") "    proxy: none\n" V1("silent"), pw, pw);
	mw_err_clear(&e);
	assert_int_equal(config_parse("config.yaml", text, strlen(text), &cfg, &e), 0);
	assert_string_equal(config_proxy_url(&cfg.integrations[0]), "https://own.example:8443");
	assert_string_equal(cfg.integrations[0].proxy.user, "u1");
	assert_string_equal(cfg.integrations[0].proxy.password.value, "pw-1");
	assert_string_equal(config_proxy_url(&cfg.integrations[1]), "");
	assert_string_equal(config_proxy_url(&cfg.integrations[2]), "http://top.example:3128");
	for (size_t i = 0; i < 3; i++)
		cfg.integrations[i].dirty = 1;
	mw_buf_init(&b);
	assert_int_equal(config_render(&cfg, &b, &e), 0);
	assert_non_null(strstr(b.data, "    proxy: https://own.example:8443\n    proxy_user: u1\n"
			       "    proxy_password_file: "));
	assert_non_null(strstr(b.data, "    proxy: none\n"));
	assert_null(strstr(strstr(b.data, "name: silent"), "proxy"));
	assert_non_null(strstr(b.data, "proxy: http://top.example:3128\n"));
	mw_buf_free(&b);
	config_free(&cfg);

	assert_int_equal(config_parse("config.yaml", "integrations:\n" V1("x"),
				      strlen("integrations:\n" V1("x")), &cfg, &e), 0);
	assert_null(config_proxy_url(&cfg.integrations[0]));
	config_free(&cfg);
}

static void test_error_proxy(void **state)
{
	(void)state;
	expect_error("integrations:\n" V1("a") "    proxy: http://u:secret-pw@p.example:3128\n",
		     "config.yaml:8: integration 'a': proxy: holds a user name or password (not "
		     "shown); keep the URL to scheme://host:port, put the user in proxy_user and "
		     "the password in proxy_password_file (or proxy_password_env)");
	expect_error("proxy: http://p.example\n",
		     "config.yaml:1: proxy: has no port; write it, e.g. "
		     "http://proxy.example:3128");
	expect_error("integrations:\n" V1("a") "    proxy: socks5://p.example:1080\n",
		     "config.yaml:8: integration 'a': proxy: scheme socks5 is not supported; "
		     "write http://host:port or https://host:port");
	expect_error("integrations:\n" V1("a") "    proxy: http://p.example:3128/x\n",
		     "config.yaml:8: integration 'a': proxy: has a path, query or fragment; "
		     "write only scheme://host:port");
	expect_error("integrations:\n" V1("a") "    proxy: p.example:3128\n",
		     "config.yaml:8: integration 'a': proxy: is not a URL; write "
		     "http://host:port or https://host:port (or none)");
	expect_error("integrations:\n" V1("a") "    proxy_user: u\n",
		     "config.yaml:8: integration 'a': proxy_user: has no password; add "
		     "proxy_password_file (a file of mode 0600) or proxy_password_env");
	expect_error("integrations:\n" V1("a") "    proxy_password_env: PW\n",
		     "config.yaml:8: integration 'a': proxy_password_env: the environment "
		     "variable PW is not set; export it before starting mimewatch");
	setenv("MW_TEST_PROXY_PW", "pw", 1);
	expect_error("integrations:\n" V1("a") "    proxy_password_env: MW_TEST_PROXY_PW\n",
		     "config.yaml:2: integration 'a': proxy_password: has no user; add "
		     "proxy_user");
	unsetenv("MW_TEST_PROXY_PW");
}

/* _credential: $CREDENTIALS_DIRECTORY/NAME, read and mode-checked as a
 * secret file; saved back as the name; each failure names the key and the
 * unit's LoadCredential=. */
static void test_credentials(void **state)
{
	struct mw_config cfg;
	mw_err e;
	mw_buf b;
	char dir[256], path[300];
	const char *text = "integrations:\n"
			   "  - name: c\n    base_url: https://eu-api.mimecast.com\n"
			   "    app_id: " GUID1 "\n    app_key: " GUID2 "\n"
			   "    access_key_credential: acme-access\n"
			   "    secret_key_credential: acme-secret\n"
			   "outputs:\n  - type: hec\n    url: https://s:8088/services/collector/event\n"
			   "    token_credential: hec-token\n";

	(void)state;
	path_in(dir, sizeof(dir), "creds");
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/acme-access", dir);
	write_file(path, "AKEY-CRED\n", 0400);
	snprintf(path, sizeof(path), "%s/acme-secret", dir);
	write_file(path, B64 "\n", 0400);
	snprintf(path, sizeof(path), "%s/hec-token", dir);
	write_file(path, "hec-tok\n", 0400);

	unsetenv("CREDENTIALS_DIRECTORY");
	expect_error(text, "config.yaml:6: integration 'c': access_key_credential: "
		     "$CREDENTIALS_DIRECTORY is not set (mimewatch was not started by systemd "
		     "with credentials); add LoadCredential=acme-access:/path/of/the/secret to "
		     "the [Service] section of its unit, or use access_key_file");
	setenv("CREDENTIALS_DIRECTORY", dir, 1);
	mw_err_clear(&e);
	assert_int_equal(config_parse("config.yaml", text, strlen(text), &cfg, &e), 0);
	assert_string_equal(cfg.integrations[0].access_key.value, "AKEY-CRED");
	assert_int_equal(cfg.integrations[0].secret_key.src, MW_SECRET_CREDENTIAL);
	assert_string_equal(cfg.integrations[0].secret_key.value, B64);
	assert_string_equal(cfg.outputs[0].token.value, "hec-tok");
	cfg.integrations[0].dirty = 1;
	mw_buf_init(&b);
	assert_int_equal(config_render(&cfg, &b, &e), 0);
	assert_non_null(strstr(b.data, "    access_key_credential: acme-access\n"));
	assert_null(strstr(b.data, "AKEY-CRED"));
	mw_buf_free(&b);
	config_free(&cfg);

	snprintf(path, sizeof(path), "%s/acme-secret", dir);
	unlink(path);
	{
		char want[768];

		snprintf(want, sizeof(want), "config.yaml:7: integration 'c': "
			 "secret_key_credential: there is no credential acme-secret in "
			 "$CREDENTIALS_DIRECTORY (%s); add LoadCredential=acme-secret:/path/of/the/"
			 "secret to the [Service] section of the unit and restart it", dir);
		expect_error(text, want);
	}
	expect_error("integrations:\n" V1("a") "    proxy_user: u\n"
		     "    proxy_password_credential: ../x\n",
		     "config.yaml:9: integration 'a': proxy_password_credential: is not a "
		     "credential name (not shown, in case it is the secret itself); write the "
		     "name the unit's LoadCredential= gives it (letters, digits, . _ -)");
	unsetenv("CREDENTIALS_DIRECTORY");
}

static void test_error_duplicate_name(void **state)
{
	(void)state;
	expect_error("integrations:\n" V1("acme-eu") V1("acme-eu"),
		     "config.yaml:8: integration 'acme-eu': name: already used by the "
		     "integration on line 2; give each integration its own name");
}

static void test_error_bad_name(void **state)
{
	(void)state;
	expect_error("integrations:\n" V1("acme/eu"),
		     "config.yaml:2: integration #1: name: 'acme/eu' is not a valid name; use 1 "
		     "to 64 letters, digits, '.', '_' or '-' (not only dots)");
	expect_error("integrations:\n" V1(".."),
		     "config.yaml:2: integration #1: name: '..' is not a valid name; use 1 to 64 "
		     "letters, digits, '.', '_' or '-' (not only dots)");
	expect_error("integrations:\n  - description: no name\n",
		     "config.yaml:2: integration #1: name: missing; add e.g. name: acme-eu "
		     "(letters, digits, . _ -)");
}

static void test_error_http_not_loopback(void **state)
{
	(void)state;
	expect_error("integrations:\n"
		     "  - name: acme-eu\n"
		     "    base_url: http://eu-api.mimecast.com\n",
		     "config.yaml:3: integration 'acme-eu': base_url: "
		     "'http://eu-api.mimecast.com' http:// is allowed only to this machine "
		     "(127.0.0.1, ::1, localhost); use https://");
	expect_error("integrations:\n"
		     "  - name: acme-eu\n"
		     "    base_url: http://127.0.0.1.evil.example\n",
		     "config.yaml:3: integration 'acme-eu': base_url: "
		     "'http://127.0.0.1.evil.example' http:// is allowed only to this machine "
		     "(127.0.0.1, ::1, localhost); use https://");
	expect_error("integrations:\n"
		     "  - name: acme-eu\n"
		     "    base_url: http://[::ffff:10.0.0.1]\n",
		     "config.yaml:3: integration 'acme-eu': base_url: "
		     "'http://[::ffff:10.0.0.1]' http:// is allowed only to this machine "
		     "(127.0.0.1, ::1, localhost); use https://");
	expect_error("integrations:\n"
		     "  - name: acme-eu\n"
		     "    base_url: ftp://x\n",
		     "config.yaml:3: integration 'acme-eu': base_url: 'ftp://x' must start with "
		     "https://; write e.g. https://eu-api.mimecast.com");
}

static void test_error_missing_base_url(void **state)
{
	(void)state;
	expect_error("integrations:\n"
		     "  - name: acme-eu\n"
		     "    app_id: " GUID1 "\n"
		     "    app_key: " GUID2 "\n"
		     "    access_key: AKEY-1\n"
		     "    secret_key: " B64 "\n",
		     "config.yaml:2: integration 'acme-eu': base_url: missing; add the API base "
		     "URL of your region, e.g. base_url: https://eu-api.mimecast.com");
}

static void test_error_two_secret_forms(void **state)
{
	(void)state;
	expect_error("integrations:\n" V1("acme-eu") "    access_key_file: /etc/key\n",
		     "config.yaml:8: integration 'acme-eu': access_key_file: access_key is "
		     "already given on line 6; keep only one of access_key, access_key_file, "
		     "access_key_env and access_key_credential");
}

static void test_error_env_unset(void **state)
{
	(void)state;
	unsetenv("MW_TEST_UNSET");
	setenv("MW_TEST_EMPTY", "", 1);
	expect_error("integrations:\n"
		     "  - name: acme-eu\n"
		     "    api: v2\n"
		     "    client_id: c\n"
		     "    client_secret_env: MW_TEST_UNSET\n",
		     "config.yaml:5: integration 'acme-eu': client_secret_env: the environment "
		     "variable MW_TEST_UNSET is not set; export it before starting mimewatch");
	expect_error("integrations:\n"
		     "  - name: acme-eu\n"
		     "    api: v2\n"
		     "    client_id: c\n"
		     "    client_secret_env: MW_TEST_EMPTY\n",
		     "config.yaml:5: integration 'acme-eu': client_secret_env: the environment "
		     "variable MW_TEST_EMPTY is empty; export it before starting mimewatch");
	unsetenv("MW_TEST_EMPTY");
}

static void test_error_secret_not_base64(void **state)
{
	(void)state;
	expect_error("integrations:\n"
		     "  - name: acme-eu\n"
		     "    secret_key: not*base64\n",
		     "config.yaml:3: integration 'acme-eu': secret_key: is not base64 (the Secret "
		     "Key looks like 'ab12...==' and its length is a multiple of 4); copy it "
		     "exactly as Mimecast showed it");
}

static void test_error_page_size(void **state)
{
	(void)state;
	expect_error("integrations:\n" V1("acme-eu") "    page_size: 0\n",
		     "config.yaml:8: integration 'acme-eu': page_size: 0 is out of range: Mimecast "
		     "documents pages of 1 to 100 records; write a number from 1 to 100 (default "
		     "100)");
	expect_error("integrations:\n" V1("acme-eu") "    page_size: 101\n",
		     "config.yaml:8: integration 'acme-eu': page_size: 101 is out of range: "
		     "Mimecast documents pages of 1 to 100 records; write a number from 1 to 100 "
		     "(default 100)");
	expect_error("integrations:\n" V1("acme-eu") "    page_size: -5\n",
		     "config.yaml:8: integration 'acme-eu': page_size: '-5' is not a number; "
		     "write a number from 1 to 100 (default 100)");
}

/* A lookback past the ~30 days Mimecast keeps is loaded, with a warning that
 * names the line; 30d is not warned about. */
static void test_warn_long_lookback(void **state)
{
	struct mw_config cfg;

	(void)state;
	parse_ok("integrations:\n" V1("acme-eu") "    lookback: 45d\n", &cfg);
	assert_int_equal(cfg.integrations[0].lookback, 45 * 86400);
	assert_non_null(cfg.warnings);
	assert_string_equal(cfg.warnings,
			    "config.yaml:8: integration 'acme-eu': lookback: 45d reaches past the "
			    "about 30 days Mimecast keeps TTP logs; what is older is no longer there "
			    "to collect (write lookback: 30d or less)\n");
	config_free(&cfg);
	parse_ok("integrations:\n" V1("acme-eu") "    lookback: 30d\n", &cfg);
	assert_null(cfg.warnings);
	config_free(&cfg);
	/* each type's own retention: audit and DLP are kept 60 days */
	parse_ok("integrations:\n" V1("acme-eu") "    types: [audit, dlp]\n    lookback: 45d\n",
		 &cfg);
	assert_null(cfg.warnings);
	assert_int_equal(cfg.integrations[0].types,
			 1u << logtype_index("audit") | 1u << logtype_index("dlp"));
	config_free(&cfg);
	parse_ok("integrations:\n" V1("acme-eu") "    types: [dlp]\n    lookback: 90d\n", &cfg);
	assert_non_null(cfg.warnings);
	assert_string_equal(cfg.warnings,
			    "config.yaml:9: integration 'acme-eu': lookback: 90d reaches past the "
			    "about 60 days Mimecast keeps DLP logs; what is older is no longer there "
			    "to collect (write lookback: 60d or less)\n");
	config_free(&cfg);
	/* a config naming no types collects the TTP three, as it always did */
	parse_ok("integrations:\n" V1("acme-eu"), &cfg);
	assert_int_equal(cfg.integrations[0].types, 7u);
	config_free(&cfg);
}

static void test_error_alias_anchor(void **state)
{
	(void)state;
	expect_error("integrations:\n  - &x\n    name: a\n  - *x\n",
		     "config.yaml:2: YAML anchors (&name) are not allowed; write each value out "
		     "in full");
	expect_error("a: [1, *x]\n",
		     "config.yaml:1: YAML aliases (*name) are not allowed; write the value out in "
		     "full");
}

static void test_error_syntax(void **state)
{
	(void)state;
	expect_error("integrations:\n  - name: a\n   base_url: x\n",
		     "config.yaml:3:4: YAML syntax error: did not find expected '-' indicator "
		     "while parsing a block collection; check the indentation (spaces only) and "
		     "quote values that contain ': ' or ' #'");
	expect_error("state_dir: /x\n\tretention: 1d\n",
		     "config.yaml:2:1: YAML syntax error: found a tab character that violates "
		     "indentation while scanning a plain scalar; check the indentation (spaces "
		     "only) and quote values that contain ': ' or ' #'");
}

static void test_error_outputs(void **state)
{
	(void)state;
	expect_error("outputs:\n  - type: ndjson\n    dir: /x\n  - type: kafka\n    topic: t\n",
		     "config.yaml:4: output #2 (kafka): brokers: missing; add e.g. brokers: "
		     "k1.example:9092,k2.example:9092");
	expect_error("outputs:\n  - type: kafka\n    brokers: k1\n",
		     "config.yaml:3: output #1 (kafka): brokers: 'k1' is not host:port (port 1 "
		     "to 65535, no scheme); write e.g. brokers: k1.example:9092,k2.example:9092");
	expect_error("outputs:\n  - type: kafka\n    brokers: k1.example:9092,k2.example\n",
		     "config.yaml:3: output #1 (kafka): brokers: 'k2.example' is not host:port "
		     "(port 1 to 65535, no scheme); write e.g. brokers: k1.example:9092,"
		     "k2.example:9092");
	expect_error("outputs:\n  - type: kafka\n    brokers: kafka://k1.example:9092\n",
		     "config.yaml:3: output #1 (kafka): brokers: 'kafka://k1.example:9092' is not "
		     "host:port (port 1 to 65535, no scheme); write e.g. brokers: "
		     "k1.example:9092,k2.example:9092");
	expect_error("outputs:\n  - type: kafka\n    brokers: k1:99999\n",
		     "config.yaml:3: output #1 (kafka): brokers: 'k1:99999' is not host:port "
		     "(port 1 to 65535, no scheme); write e.g. brokers: k1.example:9092,"
		     "k2.example:9092");
	expect_error("outputs:\n  - type: syslog\n    url: udp://h:514\n",
		     "config.yaml:3: output #1 (syslog): url: 'udp://h:514' is not a syslog url; "
		     "write e.g. url: relp://siem.example:2514 (tcp://, tls://, relp:// or "
		     "relp+tls://)");
	expect_error("outputs:\n  - type: syslog\n    url: tcp://h:514\n    ca_file: /etc/ca.pem\n",
		     "config.yaml:4: output #1 (syslog): ca_file: only a tls:// or relp+tls:// "
		     "url uses it; remove it or use tls:// or relp+tls://");
	expect_error("outputs:\n  - type: syslog\n    url: relp://h:2514\n    batch: 0\n",
		     "config.yaml:4: output #1 (syslog): batch: '0' is not a number from 1 to "
		     "10000 (records per send); e.g. batch: 500");
	expect_error("outputs:\n  - type: hec\n    url: https://s:8088/services/collector/event\n",
		     "config.yaml:2: output #1 (hec): token: missing; add token_file: (a file of "
		     "mode 0600 holding the HEC token), token_env: or token:");
	expect_error("outputs:\n  - type: hec\n    url: https://s:8088/services/collector/event\n"
		     "    token: a\n    token_env: B\n",
		     "config.yaml:4: output #1 (hec): give only one of token, token_file, "
		     "token_env and token_credential");
	expect_error("outputs:\n  - type: elasticsearch\n    url: https://es:9200\n    indx: x\n",
		     "config.yaml:4: output #1 (elasticsearch): unknown key 'indx'; did you mean "
		     "'index'? valid keys: type, name, url, ca_file, index, api_key, api_key_file, "
		     "api_key_env, api_key_credential, batch, batch_bytes, timeout, start, "
		     "client_cert, client_key, username, password, password_file, password_env, "
		     "password_credential");
	expect_error("outputs:\n  - type: hec\n    url: https://s:8088/services/collector/event\n"
		     "    token: a\n    batch_bytes: 100M\n",
		     "config.yaml:5: output #1 (hec): batch_bytes: '100M' is not a size from 1K "
		     "to 64M (an integer and K or M); e.g. batch_bytes: 512K");
	expect_error("outputs:\n  - type: ndjson\n    dir: /o\n    mode: 0660\n    mode2: 1\n",
		     "config.yaml:5: output #1 (ndjson): unknown key 'mode2'; did you mean "
		     "'mode'? valid keys: type, name, dir, group, mode, keep, compress, start");
	expect_error("outputs:\n  - type: ndjson\n    dir: /o\n    mode: 0664\n",
		     "config.yaml:4: output #1 (ndjson): mode: 0664 gives others access to the "
		     "records; leave the last digit 0, e.g. mode: 0640, and use group: for the "
		     "readers");
	expect_error("outputs:\n  - type: ndjson\n    dir: /o\n    start: latest\n",
		     "config.yaml:4: output #1 (ndjson): start: 'latest' is neither oldest nor "
		     "now; write start: now to deliver only records collected from now on");
	expect_error("outputs:\n  - type: elasticsearch\n    url: https://es:9200\n"
		     "    index: m-{tipe}\n",
		     "config.yaml:4: output #1 (elasticsearch): index: unknown placeholder in "
		     "'m-{tipe}'; only {integration} and {type} are replaced");
	expect_error("outputs:\n  - type: splunk\n",
		     "config.yaml:2: output #1: type: 'splunk' is not an output type; valid types: "
		     "ndjson, syslog, hec, elasticsearch, kafka");
	expect_error("heartbeat: 5s\n",
		     "config.yaml:1: heartbeat: keep it from 10s to 1d (how often each "
		     "integration's health record goes to the outputs), e.g. heartbeat: 5m");
	expect_error("outputs:\n  - type: ndjson\n",
		     "config.yaml:2: output #1 (ndjson): dir: missing; add the directory for the files, "
		     "e.g. dir: /var/lib/mimewatch/out");
	expect_error("outputs:\n  - type: ndjson\n    dir: /a\n  - type: ndjson\n    dir: /b\n",
		     "config.yaml:4: output #2: name: 'ndjson' is already used by the output on "
		     "line 2; give each output its own name: key");
}

/* Two NDJSON outputs in one directory, or one inside the other (issue 12):
 * compared as directories, not as strings. */
#define ND(name, dir) "  - type: ndjson\n    name: " name "\n    dir: " dir "\n"

static void test_error_output_dirs(void **state)
{
	char real[128], link[128], text[1024], want[1024];
	struct mw_config cfg;

	(void)state;
	expect_error("outputs:\n" ND("a", "/srv/out") ND("b", "/srv//out/./"),
		     "config.yaml:7: output 'b': dir: /srv//out/./ is the directory of output 'a' "
		     "(/srv/out, line 2); give each NDJSON output a directory of its own");
	expect_error("outputs:\n" ND("a", "/srv/out") ND("b", "/srv/x/../out/day"),
		     "config.yaml:7: output 'b': dir: /srv/x/../out/day is inside the directory of "
		     "output 'a' (/srv/out, line 2); give each NDJSON output a directory of its own");
	expect_error("outputs:\n" ND("a", "/srv/out/a")
		     "  - type: syslog\n    url: tcp://127.0.0.1:514\n" ND("b", "/srv/out/"),
		     "config.yaml:9: output 'b': dir: /srv/out/ contains the directory of output "
		     "'a' (/srv/out/a, line 2); give each NDJSON output a directory of its own");
	/* A prefix is not a parent; other kinds have no directory. */
	parse_ok("outputs:\n" ND("a", "/srv/out") ND("b", "/srv/out2")
		 "  - type: syslog\n    url: tcp://127.0.0.1:514\n", &cfg);
	assert_int_equal(cfg.noutputs, 3);
	config_free(&cfg);

	/* A symlink to the same place, existing or not yet created below it. */
	path_in(real, sizeof(real), "real");
	path_in(link, sizeof(link), "link");
	assert_int_equal(mkdir(real, 0700), 0);
	assert_int_equal(symlink(real, link), 0);
	snprintf(text, sizeof(text), "outputs:\n" ND("a", "%s") ND("b", "%s/"), real, link);
	snprintf(want, sizeof(want), "config.yaml:7: output 'b': dir: %s/ is the directory of "
		 "output 'a' (%s, line 2); give each NDJSON output a directory of its own", link,
		 real);
	expect_error(text, want);
	snprintf(text, sizeof(text), "outputs:\n" ND("a", "%s/new") ND("b", "%s/new/x"), real,
		 link);
	snprintf(want, sizeof(want), "config.yaml:7: output 'b': dir: %s/new/x is inside the "
		 "directory of output 'a' (%s/new, line 2); give each NDJSON output a directory "
		 "of its own", link, real);
	expect_error(text, want);
}

/* Every output kind with every key: parsed into the fields, then written
 * afresh (no text to splice) and parsed again to the same values. */
static void test_outputs_all_kinds(void **state)
{
	static const char text[] =
		"heartbeat: 5m\n"
		"integrations:\n" V1("acme-eu")
		"outputs:\n"
		"  - type: ndjson\n    dir: /var/lib/mw/out\n"
		"  - type: syslog\n    name: relay\n    url: tls://relay.example:6514\n"
		"    ca_file: /etc/ca.pem\n    hostname: collector-1\n    batch: 200\n"
		"    timeout: 30s\n    batch_bytes: 512K\n    start: now\n"
		"  - type: hec\n    url: https://splunk.example:8088/services/collector/event\n"
		"    token_env: MW_TEST_HEC_TOKEN\n    index: mimecast\n"
		"  - type: elasticsearch\n    url: https://es.example:9200\n"
		"    api_key: ES-KEY-1\n"
		"  - type: kafka\n    brokers: k1.example:9092,k2.example:9092\n";
	struct mw_config cfg, again;
	mw_buf out;
	mw_err e;
	char *saved;

	(void)state;
	setenv("MW_TEST_HEC_TOKEN", "hec-token-1", 1);
	assert_int_equal(config_parse("config.yaml", text, strlen(text), &cfg, &e), 0);
	assert_int_equal(cfg.heartbeat, 300);
	assert_int_equal(cfg.noutputs, 5);
	assert_int_equal(cfg.outputs[0].kind, MW_OUT_NDJSON);
	assert_string_equal(cfg.outputs[0].name, "ndjson");
	assert_int_equal(cfg.outputs[1].kind, MW_OUT_SYSLOG);
	assert_string_equal(cfg.outputs[1].name, "relay");
	assert_string_equal(cfg.outputs[1].url, "tls://relay.example:6514");
	assert_string_equal(cfg.outputs[1].ca_file, "/etc/ca.pem");
	assert_string_equal(cfg.outputs[1].hostname, "collector-1");
	assert_int_equal(cfg.outputs[1].batch, 200);
	assert_int_equal(cfg.outputs[1].timeout, 30);
	assert_int_equal(cfg.outputs[1].batch_bytes, 512 << 10);
	assert_int_equal(cfg.outputs[1].start_now, 1);
	assert_int_equal(cfg.outputs[2].batch_bytes, 0);
	assert_int_equal(cfg.outputs[2].start_now, 0);
	assert_string_equal(output_target(&cfg.outputs[1]), "tls://relay.example:6514");
	assert_int_equal(cfg.outputs[2].kind, MW_OUT_HEC);
	assert_string_equal(cfg.outputs[2].name, "hec");
	assert_string_equal(cfg.outputs[2].token.value, "hec-token-1");
	assert_int_equal(cfg.outputs[2].token.src, MW_SECRET_ENV);
	assert_string_equal(cfg.outputs[2].index, "mimecast");
	assert_int_equal(cfg.outputs[2].batch, 500);
	assert_int_equal(cfg.outputs[2].timeout, 10);
	assert_int_equal(cfg.outputs[3].kind, MW_OUT_ES);
	assert_string_equal(cfg.outputs[3].token.value, "ES-KEY-1");
	assert_string_equal(cfg.outputs[3].index, "mimecast-{type}");
	assert_int_equal(cfg.outputs[4].kind, MW_OUT_KAFKA);
	assert_string_equal(cfg.outputs[4].topic, "mimecast.{integration}.{type}");
	assert_string_equal(output_type_name(cfg.outputs[4].kind), "kafka");

	saved = cfg.text;
	cfg.text = NULL;  /* render afresh */
	mw_buf_init(&out);
	assert_int_equal(config_render(&cfg, &out, &e), 0);
	cfg.text = saved;
	assert_non_null(strstr(out.data, "heartbeat: 5m\n"));
	assert_non_null(strstr(out.data, "  - type: syslog\n    name: relay\n"));
	assert_non_null(strstr(out.data, "    token_env: MW_TEST_HEC_TOKEN\n"));
	assert_int_equal(config_parse("config.yaml", out.data, out.len, &again, &e), 0);
	assert_int_equal(again.noutputs, 5);
	assert_int_equal(again.heartbeat, 300);
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(again.outputs[i].kind, cfg.outputs[i].kind);
		assert_string_equal(again.outputs[i].name, cfg.outputs[i].name);
		assert_string_equal(output_target(&again.outputs[i]),
				    output_target(&cfg.outputs[i]));
		assert_int_equal(again.outputs[i].batch, cfg.outputs[i].batch);
		assert_int_equal(again.outputs[i].timeout, cfg.outputs[i].timeout);
		assert_int_equal(again.outputs[i].batch_bytes, cfg.outputs[i].batch_bytes);
		assert_int_equal(again.outputs[i].start_now, cfg.outputs[i].start_now);
		assert_int_equal(again.outputs[i].token.src, cfg.outputs[i].token.src);
	}
	assert_string_equal(again.outputs[3].token.value, "ES-KEY-1");
	config_free(&again);
	config_free(&cfg);
	mw_buf_free(&out);
	unsetenv("MW_TEST_HEC_TOKEN");
}

/* Client certificates (syslog tls:// and relp+tls://, hec, elasticsearch)
 * and Elasticsearch's basic auth (issue 16): parsed, rendered afresh and
 * parsed again; every misuse refused with the key and the fix. */
static void test_outputs_tls_keys(void **state)
{
	char cert[128], key[128], pw[128], text[2048], want[1024];
	struct mw_config cfg, again;
	mw_buf out;
	mw_err e;
	char *saved;

	(void)state;
	path_in(cert, sizeof(cert), "client.pem");
	path_in(key, sizeof(key), "client.key");
	path_in(pw, sizeof(pw), "es-password");
	write_file(cert, "-----BEGIN CERTIFICATE-----\n", 0644);
	write_file(key, "-----BEGIN PRIVATE KEY-----\n", 0640);
	write_file(pw, "es-pass-1\n", 0600);
	snprintf(text, sizeof(text),
		 "outputs:\n"
		 "  - type: syslog\n    url: relp+tls://relay.example:2514\n"
		 "    ca_file: /etc/ca.pem\n    client_cert: %s\n    client_key: %s\n"
		 "  - type: elasticsearch\n    url: https://es.example:9200\n"
		 "    username: mimewatch\n    password_file: %s\n"
		 "    client_cert: %s\n    client_key: %s\n", cert, key, pw, cert, key);
	parse_ok(text, &cfg);
	assert_int_equal(cfg.noutputs, 2);
	assert_string_equal(cfg.outputs[0].url, "relp+tls://relay.example:2514");
	assert_string_equal(cfg.outputs[0].client_cert, cert);
	assert_string_equal(cfg.outputs[0].client_key, key);
	assert_string_equal(cfg.outputs[1].username, "mimewatch");
	assert_string_equal(cfg.outputs[1].password.value, "es-pass-1");
	assert_int_equal(cfg.outputs[1].password.src, MW_SECRET_FILE);
	assert_null(cfg.outputs[1].token.value);
	saved = cfg.text;
	cfg.text = NULL;  /* render afresh */
	mw_buf_init(&out);
	assert_int_equal(config_render(&cfg, &out, &e), 0);
	cfg.text = saved;
	assert_null(strstr(out.data, "es-pass-1"));
	assert_int_equal(config_parse("config.yaml", out.data, out.len, &again, &e), 0);
	assert_string_equal(again.outputs[0].client_cert, cert);
	assert_string_equal(again.outputs[0].client_key, key);
	assert_string_equal(again.outputs[1].username, "mimewatch");
	assert_string_equal(again.outputs[1].password.value, "es-pass-1");
	assert_string_equal(again.outputs[1].password.ref, pw);
	assert_string_equal(again.outputs[1].client_cert, cert);
	config_free(&again);
	config_free(&cfg);
	mw_buf_free(&out);

	snprintf(text, sizeof(text), "outputs:\n  - type: syslog\n    url: tls://h:6514\n"
		 "    client_cert: %s\n", cert);
	expect_error(text, "config.yaml:4: output #1 (syslog): client_cert without client_key: "
		     "give both, client_cert (the PEM certificate, with any intermediates after "
		     "it) and client_key (its PEM private key)");
	snprintf(text, sizeof(text), "outputs:\n  - type: syslog\n    url: relp://h:2514\n"
		 "    client_cert: %s\n    client_key: %s\n", cert, key);
	expect_error(text, "config.yaml:4: output #1 (syslog): client_cert: only tls:// and "
		     "relp+tls:// urls use a client certificate; remove client_cert and "
		     "client_key or change url");
	snprintf(text, sizeof(text), "outputs:\n  - type: syslog\n    url: relp+tls://h:2514\n"
		 "    client_cert: %s\n    client_key: %s\n", cert, key);
	expect_error(text, "config.yaml:3: output #1 (syslog): url: relp+tls:// needs ca_file, "
		     "the PEM file of the CA that signed the receiver's certificate: RELP over "
		     "TLS does not read the system's trust store");
	expect_error("outputs:\n  - type: syslog\n    url: relp+tls://h:2514\n"
		     "    ca_file: /etc/ca.pem\n",
		     "config.yaml:3: output #1 (syslog): url: relp+tls:// needs client_cert and "
		     "client_key: librelp verifies the receiver's certificate only when it "
		     "presents one of its own");
	snprintf(text, sizeof(text), "outputs:\n  - type: syslog\n    url: tls://h:6514\n"
		 "    client_cert: %s/missing.pem\n    client_key: %s\n", tmpdir, key);
	snprintf(want, sizeof(want), "config.yaml:4: output #1 (syslog): client_cert: cannot "
		 "read %s/missing.pem: No such file or directory; give the path of a PEM file "
		 "holding this client's certificate (with any intermediates after it)", tmpdir);
	expect_error(text, want);
	snprintf(text, sizeof(text), "outputs:\n  - type: hec\n    url: http://127.0.0.1:8088/"
		 "services/collector/event\n    token: t\n    client_cert: %s\n"
		 "    client_key: %s\n", cert, key);
	expect_error(text, "config.yaml:5: output #1 (hec): client_cert: only https:// urls use "
		     "a client certificate; remove client_cert and client_key or change url");
	path_in(pw, sizeof(pw), "encrypted.key");
	write_file(pw, "-----BEGIN ENCRYPTED PRIVATE KEY-----\n", 0600);
	snprintf(text, sizeof(text), "outputs:\n  - type: syslog\n    url: tls://h:6514\n"
		 "    client_cert: %s\n    client_key: %s\n", cert, pw);
	snprintf(want, sizeof(want), "config.yaml:5: output #1 (syslog): client_key: %s is "
		 "encrypted with a passphrase, which mimewatch cannot type; write it without one "
		 "(openssl pkey -in KEY -out NEW, mode 0600)", pw);
	expect_error(text, want);
	expect_error("outputs:\n  - type: elasticsearch\n    url: https://es:9200\n"
		     "    api_key: K\n    username: u\n    password: p\n",
		     "config.yaml:5: output #1 (elasticsearch): api_key and username/password are "
		     "both given; keep one credential: the API key, or the user and password");
	expect_error("outputs:\n  - type: elasticsearch\n    url: https://es:9200\n"
		     "    username: u\n",
		     "config.yaml:4: output #1 (elasticsearch): username without password: add "
		     "password_file: (a file of mode 0600), password_env:, password_credential: "
		     "or password:");
	expect_error("outputs:\n  - type: elasticsearch\n    url: https://es:9200\n"
		     "    password: p\n",
		     "config.yaml:2: output #1 (elasticsearch): password without username: add "
		     "username:");
}

/* A Kafka output's security keys (issue 16): normalised, carried into a
 * fresh render with the password in the form it came; keys the protocol
 * does not use, a missing SASL key, an unreadable PEM file refused. */
static void test_kafka_security(void **state)
{
	char ca[128], cert[128], key[128], text[2048], want[1024];
	struct mw_config cfg, again;
	mw_buf out;
	mw_err e;
	char *saved;

	(void)state;
	path_in(ca, sizeof(ca), "kafka-ca.pem");
	path_in(cert, sizeof(cert), "kafka-client.pem");
	path_in(key, sizeof(key), "kafka-client.key");
	write_file(ca, "ca\n", 0644);
	write_file(cert, "cert\n", 0644);
	write_file(key, "key\n", 0600);
	setenv("MW_TEST_KAFKA_PASSWORD", "kafka-pass-1", 1);
	snprintf(text, sizeof(text), "outputs:\n  - type: kafka\n    brokers: k1.example:9093\n"
		 "    security_protocol: SASL_SSL\n    sasl_mechanism: scram-sha-512\n"
		 "    sasl_username: mw\n    sasl_password_env: MW_TEST_KAFKA_PASSWORD\n"
		 "    ca_file: %s\n    client_cert: %s\n    client_key: %s\n", ca, cert, key);
	parse_ok(text, &cfg);
	assert_string_equal(cfg.outputs[0].security_protocol, "sasl_ssl");
	assert_string_equal(cfg.outputs[0].sasl_mechanism, "SCRAM-SHA-512");
	assert_string_equal(cfg.outputs[0].sasl_username, "mw");
	assert_string_equal(cfg.outputs[0].sasl_password.value, "kafka-pass-1");
	assert_int_equal(cfg.outputs[0].sasl_password.src, MW_SECRET_ENV);
	assert_string_equal(cfg.outputs[0].ca_file, ca);
	assert_string_equal(cfg.outputs[0].client_cert, cert);
	assert_string_equal(cfg.outputs[0].client_key, key);
	saved = cfg.text;
	cfg.text = NULL;  /* render afresh */
	mw_buf_init(&out);
	assert_int_equal(config_render(&cfg, &out, &e), 0);
	cfg.text = saved;
	assert_non_null(strstr(out.data, "    sasl_password_env: MW_TEST_KAFKA_PASSWORD\n"));
	assert_null(strstr(out.data, "kafka-pass-1"));
	parse_ok(out.data, &again);
	assert_string_equal(again.outputs[0].security_protocol, "sasl_ssl");
	assert_string_equal(again.outputs[0].sasl_mechanism, "SCRAM-SHA-512");
	assert_string_equal(again.outputs[0].sasl_username, "mw");
	assert_string_equal(again.outputs[0].sasl_password.value, "kafka-pass-1");
	assert_string_equal(again.outputs[0].client_key, key);
	config_free(&again);
	config_free(&cfg);
	mw_buf_free(&out);

	expect_error("outputs:\n  - type: kafka\n    brokers: k:9092\n"
		     "    security_protocol: tls\n",
		     "config.yaml:4: output #1 (kafka): security_protocol: 'tls' is not one of "
		     "plaintext, ssl, sasl_plaintext and sasl_ssl; write e.g. "
		     "security_protocol: sasl_ssl");
	expect_error("outputs:\n  - type: kafka\n    brokers: k:9092\n"
		     "    security_protocol: sasl_plaintext\n    sasl_username: mw\n"
		     "    sasl_password: p\n",
		     "config.yaml:2: output #1 (kafka): sasl_mechanism: missing; "
		     "security_protocol sasl_plaintext needs one of PLAIN, SCRAM-SHA-256 and "
		     "SCRAM-SHA-512 (one the brokers' sasl.enabled.mechanisms lists)");
	expect_error("outputs:\n  - type: kafka\n    brokers: k:9092\n"
		     "    security_protocol: sasl_ssl\n    sasl_mechanism: GSSAPI\n",
		     "config.yaml:5: output #1 (kafka): sasl_mechanism: 'GSSAPI' is not one of "
		     "PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512; write e.g. sasl_mechanism: "
		     "SCRAM-SHA-512");
	expect_error("outputs:\n  - type: kafka\n    brokers: k:9092\n"
		     "    security_protocol: sasl_ssl\n    sasl_mechanism: PLAIN\n"
		     "    sasl_password: p\n",
		     "config.yaml:2: output #1 (kafka): sasl_username: missing; "
		     "security_protocol sasl_ssl needs the SASL user name, e.g. sasl_username: "
		     "mimewatch");
	expect_error("outputs:\n  - type: kafka\n    brokers: k:9092\n"
		     "    security_protocol: sasl_ssl\n    sasl_mechanism: PLAIN\n"
		     "    sasl_username: mw\n",
		     "config.yaml:2: output #1 (kafka): sasl_password: missing; add "
		     "sasl_password_file: (a file of mode 0600 holding the password), "
		     "sasl_password_env: or sasl_password:");
	expect_error("outputs:\n  - type: kafka\n    brokers: k:9092\n"
		     "    security_protocol: sasl_ssl\n    sasl_mechanism: PLAIN\n"
		     "    sasl_username: mw\n    sasl_password: p\n    sasl_password_file: /p\n",
		     "config.yaml:7: output #1 (kafka): give only one of sasl_password, "
		     "sasl_password_file, sasl_password_env and sasl_password_credential");
	expect_error("outputs:\n  - type: kafka\n    brokers: k:9092\n    sasl_username: mw\n",
		     "config.yaml:4: output #1 (kafka): sasl_username: security_protocol "
		     "plaintext uses no SASL; remove it or set security_protocol: sasl_ssl (or "
		     "sasl_plaintext)");
	expect_error("outputs:\n  - type: kafka\n    brokers: k:9092\n    ca_file: /etc/ca.pem\n",
		     "config.yaml:4: output #1 (kafka): ca_file: security_protocol plaintext "
		     "uses no TLS; remove it or set security_protocol: ssl (or sasl_ssl)");
	expect_error("outputs:\n  - type: kafka\n    brokers: k:9092\n"
		     "    security_protocol: sasl_plaintext\n    client_cert: /etc/c.pem\n",
		     "config.yaml:5: output #1 (kafka): client_cert: security_protocol "
		     "sasl_plaintext uses no TLS; remove it or set security_protocol: ssl (or "
		     "sasl_ssl)");
	expect_error("outputs:\n  - type: kafka\n    brokers: k:9092\n    security_protocol: ssl\n"
		     "    ca_file: /nonexistent/ca.pem\n",
		     "config.yaml:5: output #1 (kafka): ca_file: cannot read /nonexistent/ca.pem: "
		     "No such file or directory; give the path of a PEM file holding the CA "
		     "certificate that signed the brokers' certificates");
	snprintf(text, sizeof(text), "outputs:\n  - type: kafka\n    brokers: k:9092\n"
		 "    security_protocol: ssl\n    client_cert: %s\n", cert);
	snprintf(want, sizeof(want), "config.yaml:5: output #1 (kafka): client_cert without "
		 "client_key: give both, client_cert (the PEM certificate, with any "
		 "intermediates after it) and client_key (its PEM private key)");
	expect_error(text, want);
	unsetenv("MW_TEST_KAFKA_PASSWORD");
	expect_error("outputs:\n  - type: kafka\n    brokers: k:9092\n"
		     "    security_protocol: sasl_ssl\n    sasl_mechanism: PLAIN\n"
		     "    sasl_username: mw\n    sasl_password_env: MW_TEST_KAFKA_PASSWORD\n",
		     "config.yaml:7: output #1 (kafka): sasl_password_env: the environment "
		     "variable MW_TEST_KAFKA_PASSWORD is not set; export it before starting "
		     "mimewatch");
}

static void test_error_limits(void **state)
{
	char deep[256] = "a: ", *big;
	size_t n, i;

	(void)state;
	/* 17 nested flow lists */
	for (i = 0; i < 17; i++)
		strcat(deep, "[");
	for (i = 0; i < 17; i++)
		strcat(deep, "]");
	strcat(deep, "\n");
	expect_error(deep, "config.yaml:1: values nested more than 16 deep; a config needs at "
			   "most 4 levels");

	/* more than 1000 integrations */
	n = 1100 * 40 + 32;
	big = malloc(n);
	strcpy(big, "integrations:\n");
	for (i = 0; i < 1001; i++)
		sprintf(big + strlen(big), "  - name: n%zu\n", i);
	expect_error(big, "config.yaml:1002: integrations: more than 1000; split them over "
			  "several configs");
	free(big);

	/* more than 1 MiB */
	n = 1024 * 1024 + 2;
	big = malloc(n);
	memset(big, '#', n - 1);
	big[n - 1] = '\0';
	expect_error(big, "config.yaml: 1048577 bytes is more than a config may hold (1 MiB); "
			  "remove what is not config");
	free(big);
}

static void test_error_misc(void **state)
{
	(void)state;
	expect_error("integrations:\n  - name: a\n    api: v2\n    app_id: " GUID1 "\n",
		     "config.yaml:4: integration 'a': app_id: is an API 1.0 key, and this "
		     "integration has api: v2; to switch to API 2.0 replace app_id, app_key, "
		     "access_key and secret_key with client_id and client_secret and keep the "
		     "name (its cursors and records are kept), or set api: v1");
	expect_error("integrations:\n" V1("a") "    interval: 5m\n    interval: 6m\n",
		     "config.yaml:9: integration 'a': key 'interval' appears twice (also on line "
		     "8); keep one");
	expect_error("state_dir: /x\n---\nstate_dir: /y\n",
		     "config.yaml:2: a second YAML document ('---'); keep one document per "
		     "config file");
	expect_error("integrations:\n" V1("a") "    ca_file: /nonexistent/ca.pem\n",
		     "config.yaml:8: integration 'a': ca_file: cannot read /nonexistent/ca.pem: No "
		     "such file or directory; give the path of a PEM file holding the CA "
		     "certificate");
	expect_error("integrations:\n  - name: a\n    api: v3\n",
		     "config.yaml:3: integration 'a': api: 'v3' is not an API version; write v1 "
		     "(HMAC keys) or v2 (OAuth2 client credentials)");
	expect_error("state_dir: var/lib\n",
		     "config.yaml:1: state_dir: 'var/lib' is not an absolute path; write a path "
		     "that starts with /");
	expect_error("integrations: {name: a}\n",
		     "config.yaml:1: integrations: must be a list; start each entry with '- name: "
		     "...'");
	expect_error("integrations:\n  - name: a\n    types: url\n",
		     "config.yaml:3: integration 'a': types: must be a list; write e.g. types: "
		     "[url, impersonation, attachment, audit, dlp, siem]");
	expect_error("a: \"x\\0y\"\n",
		     "config.yaml:1: a value contains a NUL character (\\0); remove it");
	expect_error("integrations:\n  - name: a\n    api: v2\n    client_id: c\n",
		     "config.yaml:2: integration 'a': client_secret: missing; add client_secret, "
		     "client_secret_file (a file of mode 0600) or client_secret_env (an "
		     "environment variable)");
}

/* ---- secret files and modes ----------------------------------------------- */

static void test_secret_file(void **state)
{
	char key[128], cfgp[128], text[512], want[512];
	struct mw_config cfg;
	mw_err e;

	(void)state;
	path_in(key, sizeof(key), "secret.key");
	path_in(cfgp, sizeof(cfgp), "config.yaml");
	write_file(key, B64 "\n", 0644);
	snprintf(text, sizeof(text),
		 "integrations:\n"
		 "  - name: a\n"
		 "    base_url: https://eu-api.mimecast.com\n"
		 "    app_id: " GUID1 "\n"
		 "    app_key: " GUID2 "\n"
		 "    access_key_env: MW_TEST_AK\n"
		 "    secret_key_file: %s\n", key);
	setenv("MW_TEST_AK", "AKEY-env", 1);
	write_file(cfgp, text, 0644);  /* no inline secret: 0644 is fine for the config */

	/* a secret file others may read is refused, whoever runs the test */
	assert_int_equal(config_load(cfgp, &cfg, &e), -1);
	snprintf(want, sizeof(want), "%s:7: integration 'a': secret_key_file %s: permissions "
		 "0644 are too open: it holds secrets; run chmod 600 %s", cfgp, key, key);
	assert_string_equal(e.msg, want);

	assert_int_equal(chmod(key, 0600), 0);
	assert_int_equal(config_load(cfgp, &cfg, &e), 0);
	assert_string_equal(cfg.integrations[0].secret_key.value, B64);  /* newline stripped */
	assert_string_equal(cfg.integrations[0].access_key.value, "AKEY-env");
	assert_string_equal(cfg.path, cfgp);
	config_free(&cfg);

	/* an empty secret file */
	write_file(key, "\n", 0600);
	assert_int_equal(config_load(cfgp, &cfg, &e), -1);
	snprintf(want, sizeof(want), "%s:7: integration 'a': secret_key_file: %s is empty; put "
		 "the secret in it, on one line", cfgp, key);
	assert_string_equal(e.msg, want);
	unsetenv("MW_TEST_AK");
}

static void test_config_mode(void **state)
{
	char cfgp[128], want[512];
	struct mw_config cfg;
	mw_err e;

	(void)state;
	path_in(cfgp, sizeof(cfgp), "inline.yaml");
	write_file(cfgp, "integrations:\n" V1("a"), 0644);
	assert_int_equal(config_load(cfgp, &cfg, &e), -1);
	snprintf(want, sizeof(want), "%s: permissions 0644 are too open: it holds secrets; run "
		 "chmod 600 %s", cfgp, cfgp);
	assert_string_equal(e.msg, want);
	assert_null(cfg.integrations);

	assert_int_equal(chmod(cfgp, 0620), 0);  /* group-writable is refused too */
	assert_int_equal(config_load(cfgp, &cfg, &e), -1);
	snprintf(want, sizeof(want), "%s: permissions 0620 are too open: it holds secrets; run "
		 "chmod 600 %s", cfgp, cfgp);
	assert_string_equal(e.msg, want);

	assert_int_equal(chmod(cfgp, 0600), 0);
	assert_int_equal(config_load(cfgp, &cfg, &e), 0);
	assert_int_equal(cfg.nintegrations, 1);
	config_free(&cfg);

	path_in(cfgp, sizeof(cfgp), "missing.yaml");
	assert_int_equal(config_load(cfgp, &cfg, &e), -2);
}

/* ---- saving -------------------------------------------------------------- */

static const char round_trip_text[] =
	"# mimewatch config, hand-written\n"
	"state_dir: /var/lib/mimewatch   # keep on the data disk\n"
	"\n"
	"integrations:\n"
	"  # the EU tenant\n"
	"  - name: acme-eu\n"
	"    description: 'Acme: EU'   # quoted on purpose\n"
	"    base_url: https://eu-api.mimecast.com\n"
	"    app_id: " GUID1 "\n"
	"    app_key: " GUID2 "\n"
	"    access_key: AKEY-1\n"
	"    secret_key: " B64 "\n"
	"    types: [url]\n"
	"\n"
	"  # the US tenant, API 2.0\n"
	"  - name: acme-us\n"
	"    api: v2\n"
	"    client_id: cid\n"
	"    client_secret_env: MW_TEST_CS\n"
	"    interval: 1m\n"
	"  - name: acme-za   # last\n"
	"    api: v2\n"
	"    client_id: cid2\n"
	"    client_secret: zz\n"
	"\n"
	"outputs:\n"
	"  - type: ndjson\n"
	"    dir: /srv/out   # the SIEM reads here\n"
	"# end of file\n";

static void assert_same_integration(const struct mw_integration *a,
				    const struct mw_integration *b)
{
	assert_string_equal(a->name, b->name);
	if (a->description || b->description)
		assert_string_equal(a->description, b->description);
	assert_int_equal(a->api, b->api);
	assert_string_equal(a->base_url, b->base_url);
	assert_true((a->app_id == NULL) == (b->app_id == NULL));
	if (a->app_id)
		assert_string_equal(a->app_id, b->app_id);
	assert_true((a->client_id == NULL) == (b->client_id == NULL));
	if (a->client_id)
		assert_string_equal(a->client_id, b->client_id);
	assert_int_equal(a->access_key.src, b->access_key.src);
	assert_int_equal(a->secret_key.src, b->secret_key.src);
	assert_int_equal(a->client_secret.src, b->client_secret.src);
	if (a->client_secret.value)
		assert_string_equal(a->client_secret.value, b->client_secret.value);
	if (a->client_secret.ref)
		assert_string_equal(a->client_secret.ref, b->client_secret.ref);
	if (a->secret_key.value)
		assert_string_equal(a->secret_key.value, b->secret_key.value);
	if (a->access_key.value)
		assert_string_equal(a->access_key.value, b->access_key.value);
	assert_int_equal(a->types, b->types);
	assert_int_equal(a->interval, b->interval);
	assert_int_equal(a->lookback, b->lookback);
	assert_int_equal(a->lag, b->lag);
	assert_int_equal(a->overlap, b->overlap);
	assert_int_equal(a->page_size, b->page_size);
}

static void test_save_round_trip(void **state)
{
	char cfgp[128];
	struct mw_config cfg, again;
	struct stat st;
	mw_err e;
	char *saved;

	(void)state;
	setenv("MW_TEST_CS", "cs-env", 1);
	path_in(cfgp, sizeof(cfgp), "rt.yaml");
	write_file(cfgp, round_trip_text, 0600);
	assert_int_equal(config_load(cfgp, &cfg, &e), 0);
	assert_int_equal(cfg.nintegrations, 3);

	cfg.integrations[1].dirty = 1;
	cfg.integrations[1].interval = 900;
	assert_int_equal(config_save(&cfg, cfgp, &e), 0);
	assert_int_equal(stat(cfgp, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	saved = slurp(cfgp);
	/* only the dirty entry changed; everything else byte for byte, in order */
	assert_string_equal(saved,
			    "# mimewatch config, hand-written\n"
			    "state_dir: /var/lib/mimewatch   # keep on the data disk\n"
			    "\n"
			    "integrations:\n"
			    "  # the EU tenant\n"
			    "  - name: acme-eu\n"
			    "    description: 'Acme: EU'   # quoted on purpose\n"
			    "    base_url: https://eu-api.mimecast.com\n"
			    "    app_id: " GUID1 "\n"
			    "    app_key: " GUID2 "\n"
			    "    access_key: AKEY-1\n"
			    "    secret_key: " B64 "\n"
			    "    types: [url]\n"
			    "\n"
			    "  # the US tenant, API 2.0\n"
			    "  - name: acme-us\n"
			    "    api: v2\n"
			    "    base_url: https://api.services.mimecast.com\n"
			    "    client_id: cid\n"
			    "    client_secret_env: MW_TEST_CS\n"
			    "    types: [url, impersonation, attachment]\n"
			    "    interval: 15m\n"
			    "  - name: acme-za   # last\n"
			    "    api: v2\n"
			    "    client_id: cid2\n"
			    "    client_secret: zz\n"
			    "\n"
			    "outputs:\n"
			    "  - type: ndjson\n"
			    "    dir: /srv/out   # the SIEM reads here\n"
			    "# end of file\n");
	free(saved);

	assert_int_equal(config_load(cfgp, &again, &e), 0);
	assert_int_equal(again.nintegrations, 3);
	for (size_t i = 0; i < 3; i++)
		assert_same_integration(&cfg.integrations[i], &again.integrations[i]);
	assert_int_equal(again.integrations[1].interval, 900);
	assert_string_equal(again.outputs[0].dir, "/srv/out");
	config_free(&again);

	/* remove the first entry and swap the others: each keeps the comment above
	 * it, and the comment above the first entry stays with the list */
	{
		struct mw_integration first = cfg.integrations[0];

		cfg.integrations[0] = cfg.integrations[2];
		cfg.integrations[2] = first;
		cfg.nintegrations = 2;
		assert_int_equal(config_save(&cfg, cfgp, &e), 0);
		cfg.nintegrations = 3;
	}
	saved = slurp(cfgp);
	assert_string_equal(saved,
			    "# mimewatch config, hand-written\n"
			    "state_dir: /var/lib/mimewatch   # keep on the data disk\n"
			    "\n"
			    "integrations:\n"
			    "  # the EU tenant\n"
			    "  - name: acme-za   # last\n"
			    "    api: v2\n"
			    "    client_id: cid2\n"
			    "    client_secret: zz\n"
			    "\n"
			    "  # the US tenant, API 2.0\n"
			    "  - name: acme-us\n"
			    "    api: v2\n"
			    "    base_url: https://api.services.mimecast.com\n"
			    "    client_id: cid\n"
			    "    client_secret_env: MW_TEST_CS\n"
			    "    types: [url, impersonation, attachment]\n"
			    "    interval: 15m\n"
			    "\n"
			    "outputs:\n"
			    "  - type: ndjson\n"
			    "    dir: /srv/out   # the SIEM reads here\n"
			    "# end of file\n");
	free(saved);
	config_free(&cfg);
	unsetenv("MW_TEST_CS");
}

static void test_save_new_integration(void **state)
{
	char cfgp[128];
	struct mw_config cfg, again;
	struct mw_integration *in;
	struct stat st;
	mw_err e;
	char *saved;
	static const char *const tricky[] = {
		"Acme: EU # not a comment", "'single' and \"double\" \\ back", "yes", "null",
		"123", " leading and trailing ", "line one\nline two\ttab", "Société Générale €",
		"- dash", "", "ctl\x01\x7f\x65nd", "c1 \xc2\x85 nel \xe2\x80\xa8 ls", "@at", "a: b",
	};

	(void)state;
	path_in(cfgp, sizeof(cfgp), "new.yaml");
	write_file(cfgp, "# my config\nstate_dir: /srv/mw\n# trailing comment\n", 0600);
	assert_int_equal(config_load(cfgp, &cfg, &e), 0);
	assert_int_equal(cfg.nintegrations, 0);

	for (size_t t = 0; t < sizeof(tricky) / sizeof(tricky[0]); t++) {
		char name[16];

		cfg.integrations = realloc(cfg.integrations, (t + 1) * sizeof(*cfg.integrations));
		in = &cfg.integrations[t];
		config_integration_defaults(in);
		snprintf(name, sizeof(name), "n-%zu", t);
		in->name = strdup(name);
		in->description = strdup(tricky[t]);
		in->api = t % 2 ? 2 : 1;
		if (in->api == 1) {
			in->base_url = strdup("https://eu-api.mimecast.com:443/base");
			in->app_id = strdup(GUID1);
			in->app_key = strdup(GUID2);
			in->access_key.src = MW_SECRET_INLINE;
			in->access_key.value = strdup("mYk3y-with_+/=chars:#x");
			in->secret_key.src = MW_SECRET_INLINE;
			in->secret_key.value = strdup("/+8=");
		} else {
			in->base_url = strdup("http://127.0.0.1:8443");
			in->client_id = strdup("0123");
			in->client_secret.src = MW_SECRET_INLINE;
			in->client_secret.value = strdup("true");
			in->types = 1u << logtype_index("attachment");
			in->lookback = 90;
			in->page_size = 7;
		}
		assert_int_equal(config_check_integration(in, &e), 0);
		cfg.nintegrations = t + 1;
	}
	assert_int_equal(config_save(&cfg, cfgp, &e), 0);
	assert_int_equal(stat(cfgp, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	saved = slurp(cfgp);
	assert_memory_equal(saved, "# my config\nstate_dir: /srv/mw\nintegrations:\n  - name: n-0\n",
			    strlen("# my config\nstate_dir: /srv/mw\nintegrations:\n  - name: n-0\n"));
	assert_string_equal(saved + strlen(saved) - strlen("# trailing comment\n"),
			    "# trailing comment\n");
	free(saved);

	assert_int_equal(config_load(cfgp, &again, &e), 0);
	assert_int_equal(again.nintegrations, cfg.nintegrations);
	assert_string_equal(again.state_dir, "/srv/mw");
	for (size_t t = 0; t < cfg.nintegrations; t++) {
		const char *d = again.integrations[t].description;

		assert_same_integration(&cfg.integrations[t], &again.integrations[t]);
		/* an empty description reads back as none */
		assert_string_equal(d ? d : "", tricky[t]);
	}
	config_free(&again);
	config_free(&cfg);

	/* a config made from nothing (the wizard's first save) */
	memset(&cfg, 0, sizeof(cfg));
	cfg.integrations = calloc(1, sizeof(*cfg.integrations));
	in = &cfg.integrations[0];
	config_integration_defaults(in);
	in->name = strdup("first");
	in->api = 2;
	in->base_url = strdup("https://api.services.mimecast.com");
	in->client_id = strdup("cid");
	in->client_secret.src = MW_SECRET_ENV;
	in->client_secret.ref = strdup("MW_TEST_CS2");
	in->client_secret.value = strdup("v");
	cfg.nintegrations = 1;
	path_in(cfgp, sizeof(cfgp), "fresh.yaml");
	assert_int_equal(config_save(&cfg, cfgp, &e), 0);
	saved = slurp(cfgp);
	assert_string_equal(saved,
			    "# mimewatch configuration; see mimewatch.yaml(5)\n"
			    "integrations:\n"
			    "  - name: first\n"
			    "    api: v2\n"
			    "    base_url: https://api.services.mimecast.com\n"
			    "    client_id: cid\n"
			    "    client_secret_env: MW_TEST_CS2\n"
			    "    types: [url, impersonation, attachment]\n"
			    "    interval: 5m\n");
	free(saved);
	assert_int_equal(stat(cfgp, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	/* refused: what would not load back */
	free(in->client_id);
	in->client_id = NULL;
	assert_int_equal(config_save(&cfg, cfgp, &e), -1);
	assert_string_equal(e.msg, "integration 'first': client_id: missing; add the Client ID "
			    "of the API 2.0 application");
	config_free(&cfg);
}

static void test_save_flow_list_and_append(void **state)
{
	struct mw_config cfg;
	mw_buf b;
	mw_err e;

	(void)state;
	/* "integrations: []" is replaced by a block list */
	parse_ok("state_dir: /a\nintegrations: []   # none yet\noutputs:\n  - type: ndjson\n"
		 "    dir: /o\n", &cfg);
	cfg.integrations = calloc(1, sizeof(*cfg.integrations));
	config_integration_defaults(&cfg.integrations[0]);
	cfg.integrations[0].name = strdup("z");
	cfg.integrations[0].api = 2;
	cfg.integrations[0].base_url = strdup("https://api.services.mimecast.com");
	cfg.integrations[0].client_id = strdup("c");
	cfg.integrations[0].client_secret.src = MW_SECRET_INLINE;
	cfg.integrations[0].client_secret.value = strdup("s");
	cfg.integrations[0].interval = 10;
	cfg.nintegrations = 1;
	mw_buf_init(&b);
	assert_int_equal(config_render(&cfg, &b, &e), 0);
	assert_string_equal(b.data,
			    "state_dir: /a\n"
			    "integrations:\n"
			    "  - name: z\n"
			    "    api: v2\n"
			    "    base_url: https://api.services.mimecast.com\n"
			    "    client_id: c\n"
			    "    client_secret: s\n"
			    "    types: [url, impersonation, attachment]\n"
			    "    interval: 10s\n"
			    "outputs:\n"
			    "  - type: ndjson\n"
			    "    dir: /o\n");
	mw_buf_free(&b);
	config_free(&cfg);

	/* a list at indent 0 keeps its indentation; no final newline is mended */
	parse_ok("integrations:\n- name: a\n  api: v2\n  client_id: c\n  client_secret: s", &cfg);
	assert_int_equal(cfg.integrations[0].src_start, 14);
	assert_int_equal(cfg.integrations[0].src_end, cfg.text_len);
	cfg.integrations[0].dirty = 1;
	mw_buf_init(&b);
	assert_int_equal(config_render(&cfg, &b, &e), 0);
	assert_string_equal(b.data,
			    "integrations:\n"
			    "- name: a\n"
			    "  api: v2\n"
			    "  base_url: https://api.services.mimecast.com\n"
			    "  client_id: c\n"
			    "  client_secret: s\n"
			    "  types: [url, impersonation, attachment]\n"
			    "  interval: 5m\n");
	mw_buf_free(&b);
	config_free(&cfg);
}

/* Switching an integration from API 1.0 to 2.0 (issue 9, item 8): by hand,
 * a 1.0 key left behind or a missing client key is refused with the fix
 * spelled out; in the console, the switched entry is written afresh with
 * only the 2.0 keys while the rest of the file keeps its text. */
static void test_switch_v1_to_v2(void **state)
{
	static const char v1_text[] =
		"# mimewatch config\n"
		"integrations:\n"
		"  # the EU tenant, switching to API 2.0\n"
		"  - name: acme-eu\n"
		"    api: v1\n"
		"    base_url: https://eu-api.mimecast.com\n"
		"    app_id: " GUID1 "\n"
		"    app_key: " GUID2 "\n"
		"    access_key: AKEY-1\n"
		"    secret_key: " B64 "   # rotated yearly\n"
		"    types: [url]\n"
		"outputs:\n"
		"  - type: ndjson\n"
		"    dir: /srv/out   # the SIEM reads here\n";
	struct mw_config cfg;
	struct mw_integration *in;
	mw_buf b;
	mw_err e;

	(void)state;
	/* by hand: api changed, the 1.0 keys still there */
	expect_error("integrations:\n  - name: a\n    api: v2\n    client_id: c\n"
		     "    client_secret: s\n    access_key_file: /etc/mw/access\n",
		     "config.yaml:6: integration 'a': access_key_file: is an API 1.0 key, and this "
		     "integration has api: v2; to switch to API 2.0 replace app_id, app_key, "
		     "access_key and secret_key with client_id and client_secret and keep the "
		     "name (its cursors and records are kept), or set api: v1");
	expect_error("integrations:\n  - name: a\n    base_url: https://eu-api.mimecast.com\n"
		     "    secret_key: " B64 "\n    api: v2\n",
		     "config.yaml:4: integration 'a': secret_key: is an API 1.0 key, and this "
		     "integration has api: v2; to switch to API 2.0 replace app_id, app_key, "
		     "access_key and secret_key with client_id and client_secret and keep the "
		     "name (its cursors and records are kept), or set api: v1");
	/* the 1.0 keys removed, the 2.0 ones not yet added */
	expect_error("integrations:\n  - name: a\n    api: v2\n",
		     "config.yaml:2: integration 'a': client_id: missing; add the Client ID of the "
		     "API 2.0 application");
	/* the 2.0 keys added while api still says v1 */
	expect_error("integrations:\n" V1("a") "    client_id: c\n",
		     "config.yaml:8: integration 'a': client_id: is used only with api: v2, and "
		     "this integration has api: v1; remove it, or switch to API 2.0: set api: v2 "
		     "and remove app_id, app_key, access_key and secret_key");
	/* done right: same name, api v2, the two client keys */
	parse_ok("integrations:\n  - name: acme-eu\n    api: v2\n    client_id: cid\n"
		 "    client_secret: cs\n", &cfg);
	assert_string_equal(cfg.integrations[0].name, "acme-eu");
	assert_int_equal(cfg.integrations[0].api, 2);
	assert_string_equal(cfg.integrations[0].base_url, "https://api.services.mimecast.com");
	config_free(&cfg);

	/* the console's switch: the entry is rebuilt with the 2.0 keys only */
	parse_ok(v1_text, &cfg);
	in = &cfg.integrations[0];
	free(in->app_id);
	free(in->app_key);
	in->app_id = in->app_key = NULL;
	free(in->access_key.value);
	free(in->secret_key.value);
	memset(&in->access_key, 0, sizeof(in->access_key));
	memset(&in->secret_key, 0, sizeof(in->secret_key));
	free(in->base_url);
	in->base_url = strdup("https://uk-api.services.mimecast.com");
	in->api = 2;
	in->client_id = strdup("cid");
	in->client_secret.src = MW_SECRET_FILE;
	in->client_secret.ref = strdup("/etc/mimewatch/acme-eu.secret");
	in->client_secret.value = strdup("cs");
	in->dirty = 1;
	mw_buf_init(&b);
	assert_int_equal(config_render(&cfg, &b, &e), 0);
	assert_string_equal(b.data,
			    "# mimewatch config\n"
			    "integrations:\n"
			    "  # the EU tenant, switching to API 2.0\n"
			    "  - name: acme-eu\n"
			    "    api: v2\n"
			    "    base_url: https://uk-api.services.mimecast.com\n"
			    "    client_id: cid\n"
			    "    client_secret_file: /etc/mimewatch/acme-eu.secret\n"
			    "    types: [url]\n"
			    "    interval: 5m\n"
			    "outputs:\n"
			    "  - type: ndjson\n"
			    "    dir: /srv/out   # the SIEM reads here\n");
	mw_buf_free(&b);
	config_free(&cfg);
}

/* Saving over a file that changed since it was read (issue 12.2): the hand
 * edit (a comment, a second integration) is kept, this side's one field is
 * applied on top; a field both sides changed differently saves nothing. */
static void test_save_merged_concurrent_edit(void **state)
{
	char cfgp[256], *saved;
	struct mw_config cfg, cfg2;
	mw_buf rep;
	mw_err e;
	const char *edited = "# edited by hand\n"
			     "integrations:\n"
			     V1("acme")
			     "    types: [url]   # only URLs\n"
			     "  # the second tenant\n"
			     V1("beta")
			     "    types: [attachment]\n";

	(void)state;
	path_in(cfgp, sizeof(cfgp), "merged.yaml");
	write_file(cfgp, "integrations:\n" V1("acme") "    types: [url]   # only URLs\n", 0600);
	assert_int_equal(config_load(cfgp, &cfg, &e), 0);
	assert_int_equal(config_load(cfgp, &cfg2, &e), 0);
	/* nothing changed on disk: a plain save */
	mw_buf_init(&rep);
	assert_int_equal(config_save_merged(&cfg, cfgp, &rep, &e), 0);
	assert_int_equal(rep.len, 0);

	write_file(cfgp, edited, 0600);  /* the hand edit, after this side read the file */
	cfg.integrations[0].interval = 120;
	cfg.integrations[0].dirty = 1;
	assert_int_equal(config_save_merged(&cfg, cfgp, &rep, &e), 1);
	saved = slurp(cfgp);
	assert_string_equal(saved,
			    "# edited by hand\n"
			    "integrations:\n"
			    "  - name: acme\n"
			    "    api: v1\n"
			    "    base_url: https://eu-api.mimecast.com\n"
			    "    app_id: " GUID1 "\n"
			    "    app_key: " GUID2 "\n"
			    "    access_key: AKEY-1\n"
			    "    secret_key: " B64 "\n"
			    "    types: [url]\n"
			    "    interval: 2m\n"
			    "  # the second tenant\n"
			    V1("beta")
			    "    types: [attachment]\n");
	free(saved);
	assert_string_equal(rep.data, "the config changed on disk since this console read it: "
			    "integration 'beta' added; your change ('acme' interval 5m -> 2m) "
			    "was applied on top and saved");
	mw_buf_free(&rep);
	config_free(&cfg);

	/* cfg2 read the first version too; the file now has acme at 2m */
	cfg2.integrations[0].interval = 600;
	cfg2.integrations[0].dirty = 1;
	mw_buf_init(&rep);
	assert_int_equal(config_save_merged(&cfg2, cfgp, &rep, &e), 2);
	assert_string_equal(rep.data, "the config changed on disk since this console read it: "
			    "integration 'beta' added; 'acme': interval 5m -> 2m; not saved: "
			    "conflict on 'acme' interval: yours 10m, on disk 2m; edit again");
	saved = slurp(cfgp);
	assert_non_null(strstr(saved, "    interval: 2m\n"));
	assert_non_null(strstr(saved, "# the second tenant\n"));
	free(saved);
	mw_buf_free(&rep);
	config_free(&cfg2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_config),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_default_paths),
		cmocka_unit_test(test_volume_keys),
		cmocka_unit_test(test_error_bad_duration),
		cmocka_unit_test(test_error_interval_short),
		cmocka_unit_test(test_error_dates_for_durations),
		cmocka_unit_test(test_error_bad_guid),
		cmocka_unit_test(test_error_unknown_type),
		cmocka_unit_test(test_error_unknown_key),
		cmocka_unit_test(test_metrics_file),
		cmocka_unit_test(test_proxy_keys),
		cmocka_unit_test(test_error_proxy),
		cmocka_unit_test(test_credentials),
		cmocka_unit_test(test_error_duplicate_name),
		cmocka_unit_test(test_error_bad_name),
		cmocka_unit_test(test_error_http_not_loopback),
		cmocka_unit_test(test_error_missing_base_url),
		cmocka_unit_test(test_error_two_secret_forms),
		cmocka_unit_test(test_error_env_unset),
		cmocka_unit_test(test_error_secret_not_base64),
		cmocka_unit_test(test_error_page_size),
		cmocka_unit_test(test_warn_long_lookback),
		cmocka_unit_test(test_error_alias_anchor),
		cmocka_unit_test(test_error_syntax),
		cmocka_unit_test(test_error_outputs),
		cmocka_unit_test(test_kafka_security),
		cmocka_unit_test(test_error_output_dirs),
		cmocka_unit_test(test_outputs_all_kinds),
		cmocka_unit_test(test_outputs_tls_keys),
		cmocka_unit_test(test_error_limits),
		cmocka_unit_test(test_error_misc),
		cmocka_unit_test(test_secret_file),
		cmocka_unit_test(test_config_mode),
		cmocka_unit_test(test_save_round_trip),
		cmocka_unit_test(test_save_new_integration),
		cmocka_unit_test(test_save_flow_list_and_append),
		cmocka_unit_test(test_switch_v1_to_v2),
		cmocka_unit_test(test_save_merged_concurrent_edit),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
