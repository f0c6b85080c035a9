/* test_metrics.c - metrics.c: label values escaped as the text format
 * wants, every family with HELP and TYPE, the tally's totals kept in the
 * store across tallies (a restart), the file's atomic write and mode. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics.h"
#include "testutil.h"
#include "util.h"

static char dir[] = "/tmp/mw-test-metrics-XXXXXX";

/* A config built by hand: the loader's name rules would keep out the
 * characters the format escapes, and the renderer must not rely on them. */
static void hostile_config(struct mw_config *cfg, struct mw_integration *in,
			   struct mw_output *o, char *state_dir)
{
	memset(cfg, 0, sizeof(*cfg));
	memset(in, 0, sizeof(*in));
	memset(o, 0, sizeof(*o));
	in->name = "a\"b\\c\nd";
	in->types = 1;  /* the table's first type */
	in->interval = 12;
	o->name = "out\"1";
	cfg->state_dir = state_dir;
	cfg->integrations = in;
	cfg->nintegrations = 1;
	cfg->outputs = o;
	cfg->noutputs = 1;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void test_escapes_and_families(void **state)
{
	struct mw_config cfg;
	struct mw_integration in;
	struct mw_output o;
	mw_buf b;
	mw_err e;

	(void)state;
	hostile_config(&cfg, &in, &o, dir);
	mw_buf_init(&b);
	assert_int_equal(metrics_render(NULL, &cfg, 1, NULL, &b, &e), 0);
	assert_non_null(strstr(b.data, "integration=\"a\\\"b\\\\c\\nd\""));
	assert_non_null(strstr(b.data, "mimewatch_output_up{output=\"out\\\"1\"} 1\n"));
	assert_non_null(strstr(b.data, "\nmimewatch_up 1\n"));
	/* never collected: no time to show, every count 0 */
	assert_null(strstr(b.data, "mimewatch_collection_lag_seconds{"));
	assert_null(strstr(b.data, "mimewatch_last_success_timestamp_seconds{"));
	assert_non_null(strstr(b.data, ",class=\"permission\"} 0\n"));
	assert_null(strstr(b.data, "class=\"ok\""));
	assert_int_equal(count(b.data, "# HELP "), count(b.data, "# TYPE "));
	assert_int_equal(count(b.data, "# TYPE "), 17);
	/* one line a sample: no raw newline inside a label */
	assert_int_equal(count(b.data, "\nd\""), 0);
	assert_int_equal(metrics_every(&cfg), 12);
	mw_buf_free(&b);
}

static int64_t value_of(const char *text, const char *series)
{
	const char *p = strstr(text, series);

	assert_non_null(p);
	return strtoll(p + strlen(series), NULL, 10);
}

static void test_tally_totals_and_write(void **state)
{
	struct mw_config cfg;
	struct mw_integration in;
	struct mw_output o;
	char path[256], tmp[256];
	const char *type;
	metrics_tally *t;
	mw_store *s;
	struct stat st;
	mw_buf b;
	mw_err e;

	(void)state;
	hostile_config(&cfg, &in, &o, dir);
	in.name = "acme";
	type = mw_logtypes[0].name;
	assert_int_equal(store_open(dir, &s, &e), 0);
	for (int round = 1; round <= 2; round++) {
		/* a new tally each round, as after a restart */
		t = metrics_tally_new();
		metrics_tally_add(t, "acme", type, MX_REQUESTS, 3);
		metrics_tally_add(t, "acme", type, MX_ERRORS + MC_PERMISSION, 1);
		metrics_tally_add(t, "acme", type, MX_RATE_LIMIT_WAITS, 0);
		assert_int_equal(metrics_tally_save(t, s, &e), 0);
		assert_int_equal(metrics_tally_save(t, s, &e), 0);  /* emptied: adds nothing */
		metrics_tally_free(t);
		mw_buf_init(&b);
		assert_int_equal(metrics_render(s, &cfg, 0, NULL, &b, &e), 0);
		snprintf(tmp, sizeof(tmp), "mimewatch_api_requests_total{integration=\"acme\","
			 "type=\"%s\"} ", type);
		assert_int_equal(value_of(b.data, tmp), 3 * round);
		snprintf(tmp, sizeof(tmp), "mimewatch_errors_total{integration=\"acme\",type=\"%s\","
			 "class=\"permission\"} ", type);
		assert_int_equal(value_of(b.data, tmp), round);
		snprintf(tmp, sizeof(tmp), "mimewatch_rate_limit_waits_total{integration=\"acme\","
			 "type=\"%s\"} ", type);
		assert_int_equal(value_of(b.data, tmp), 0);
		mw_buf_free(&b);
	}
	mw_buf_init(&b);
	mw_buf_puts(&b, "# HELP x y\n");
	snprintf(path, sizeof(path), "%s/m.prom", dir);
	umask(077);
	assert_int_equal(metrics_write(path, &b, &e), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);  /* not the umask's */
	assert_int_equal(st.st_size, (off_t)b.len);
	snprintf(tmp, sizeof(tmp), "%s/m.prom.tmp.%ld", dir, (long)getpid());
	assert_int_equal(access(tmp, F_OK), -1);
	mw_buf_free(&b);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escapes_and_families),
		cmocka_unit_test(test_tally_totals_and_write),
	};
	int rc;

	if (!mkdtemp(dir))
		return 99;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rm_rf(dir);
	return rc;
}
