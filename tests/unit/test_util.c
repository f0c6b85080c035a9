/* test_util.c - durations, dates, encodings, GUIDs and file helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sanitize.h"
#include "util.h"

static void test_sizes(void **state)
{
	int64_t b;
	char buf[32];

	(void)state;
	assert_int_equal(mw_parse_size("20G", &b), 0);
	assert_int_equal(b, INT64_C(20) << 30);
	assert_int_equal(mw_parse_size("512K", &b), 0);
	assert_int_equal(b, 512 * 1024);
	assert_int_equal(mw_parse_size("3M", &b), 0);
	assert_int_equal(b, 3 << 20);
	assert_int_equal(mw_parse_size("2T", &b), 0);
	assert_int_equal(b, INT64_C(2) << 40);
	assert_int_equal(mw_parse_size("0K", &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(mw_parse_size("8388607T", &b), 0);
	assert_int_equal(b, INT64_C(8388607) << 40);
	const char *bad[] = { "", "20", "G", "-1G", "20 G", "20GB", "20g", "20Gi", "1.5G",
			      " 20G", "20G ", "20B", "20P", "8388608T", "99999999999999999999K",
			      NULL };
	for (int i = 0; bad[i]; i++) {
		b = -7;
		assert_int_equal(mw_parse_size(bad[i], &b), -1);
		assert_int_equal(b, -7);
	}
	mw_format_size(INT64_C(20) << 30, buf, sizeof(buf));
	assert_string_equal(buf, "20G");
	mw_format_size(1536 * 1024, buf, sizeof(buf));
	assert_string_equal(buf, "1536K");
	mw_format_size(INT64_C(3) << 40, buf, sizeof(buf));
	assert_string_equal(buf, "3T");
	mw_format_size(1000, buf, sizeof(buf));
	assert_string_equal(buf, "1K");
	for (int64_t v = 1024; v < (INT64_C(1) << 42); v = v * 3 + 1024 * 1024) {
		v -= v % 1024;
		mw_format_size(v, buf, sizeof(buf));
		assert_int_equal(mw_parse_size(buf, &b), 0);
		assert_int_equal(b, v);
	}
}

static void test_durations(void **state)
{
	int64_t s;
	char buf[32];

	(void)state;
	assert_int_equal(mw_parse_duration("30s", &s), 0);
	assert_int_equal(s, 30);
	assert_int_equal(mw_parse_duration("5m", &s), 0);
	assert_int_equal(s, 300);
	assert_int_equal(mw_parse_duration("48h", &s), 0);
	assert_int_equal(s, 172800);
	assert_int_equal(mw_parse_duration("30d", &s), 0);
	assert_int_equal(s, 2592000);
	assert_int_equal(mw_parse_duration("0s", &s), 0);
	assert_int_equal(s, 0);
	const char *bad[] = { "", "5", "m", "-5m", "5 m", "5min", "5m ", " 5m", "5M", "1.5h",
			      "99999999999999999999d", NULL };
	for (int i = 0; bad[i]; i++)
		assert_int_equal(mw_parse_duration(bad[i], &s), -1);
	mw_format_duration(300, buf, sizeof(buf));
	assert_string_equal(buf, "5m");
	mw_format_duration(86400, buf, sizeof(buf));
	assert_string_equal(buf, "1d");
	mw_format_duration(90, buf, sizeof(buf));
	assert_string_equal(buf, "90s");
	mw_format_duration(7200, buf, sizeof(buf));
	assert_string_equal(buf, "2h");
}

/* A deadline for pthread_cond_timedwait: ms on from the realtime clock,
 * tv_nsec always within [0, 1e9). */
static void test_deadline_in(void **state)
{
	(void)state;
	for (int64_t ms = 0; ms <= 2999; ms += 137) {
		struct timespec now, d;
		int64_t delta;

		clock_gettime(CLOCK_REALTIME, &now);
		d = mw_deadline_in(ms);
		assert_true(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L);
		delta = ((int64_t)d.tv_sec - now.tv_sec) * 1000 + (d.tv_nsec - now.tv_nsec) / 1000000;
		assert_true(delta >= ms && delta < ms + 1000);  /* never early, and in ms */
	}
}

static void test_dates(void **state)
{
	int64_t t;
	char buf[40];
	const char *d;

	(void)state;
	d = "2015-11-16T14:49:18+0000";
	assert_int_equal(mw_parse_mc_date(d, strlen(d), &t), 0);
	assert_int_equal(t, 1447685358);
	d = "2015-11-16T14:49:18+00:00";
	assert_int_equal(mw_parse_mc_date(d, strlen(d), &t), 0);
	assert_int_equal(t, 1447685358);
	d = "2015-11-16T14:49:18Z";
	assert_int_equal(mw_parse_mc_date(d, strlen(d), &t), 0);
	assert_int_equal(t, 1447685358);
	d = "2015-11-16T15:49:18.250+0100";
	assert_int_equal(mw_parse_mc_date(d, strlen(d), &t), 0);
	assert_int_equal(t, 1447685358);
	d = "2015-11-16T09:49:18-0500";
	assert_int_equal(mw_parse_mc_date(d, strlen(d), &t), 0);
	assert_int_equal(t, 1447685358);
	const char *bad[] = { "", "2015-11-16", "2015-11-16T14:49:18", "2015-13-16T14:49:18Z",
			      "2015-11-16T14:49:18+0700x", "2015/11/16T14:49:18Z", NULL };
	for (int i = 0; bad[i]; i++)
		assert_int_equal(mw_parse_mc_date(bad[i], strlen(bad[i]), &t), -1);
	mw_format_mc_date(1447685358, buf);
	assert_string_equal(buf, "2015-11-16T14:49:18+0000");
	mw_format_rfc3339(1447685358, buf);
	assert_string_equal(buf, "2015-11-16T14:49:18Z");
	mw_format_rfc3339(0, buf);
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	mw_format_rfc3339(951782399, buf);
	assert_string_equal(buf, "2000-02-28T23:59:59Z");
	mw_format_rfc3339(951868800, buf);
	assert_string_equal(buf, "2000-03-01T00:00:00Z");
	mw_format_rfc3339(-1, buf);
	assert_string_equal(buf, "1969-12-31T23:59:59Z");
	mw_format_rfc3339(4102444800, buf);
	assert_string_equal(buf, "2100-01-01T00:00:00Z");
	/* Agrees with gmtime over a wide range. */
	for (int64_t u = -86400 * 400; u < INT64_C(4102444800); u += 86400 * 37 + 3601) {
		char mc[32], want[32];
		mw_format_mc_date(u, mc);
		mw_format_rfc3339(u, buf);
		snprintf(want, sizeof(want), "%.19sZ", mc);
		assert_string_equal(buf, want);
	}
	mw_format_rfc1123(1448369411, buf);
	assert_string_equal(buf, "Tue, 24 Nov 2015 12:50:11 UTC");
	assert_int_equal(mw_parse_http_date("Tue, 24 Nov 2015 12:50:11 GMT", &t), 0);
	assert_int_equal(t, 1448369411);
	/* Pre-1970 and leap-year arithmetic. */
	d = "2024-02-29T00:00:00+0000";
	assert_int_equal(mw_parse_mc_date(d, strlen(d), &t), 0);
	assert_int_equal(t, 1709164800);
}

/* Issue 10 point 5: a date that does not exist is refused, never moved to
 * another day (timegm/mktime would make 2026-02-30 into 2026-03-02). */
static void test_dates_that_do_not_exist(void **state)
{
	int64_t t;
	const char *d;
	const char *bad[] = {
		"2026-02-30T10:00:00+0000", "2026-02-29T10:00:00+0000", /* 2026: no leap year */
		"2026-13-01T10:00:00+0000", "2026-00-10T10:00:00+0000",
		"2026-04-31T10:00:00Z", "2026-06-31T10:00:00Z", "2026-09-31T10:00:00Z",
		"2026-11-31T10:00:00Z", "2026-01-32T10:00:00Z", "2026-01-00T10:00:00Z",
		"1900-02-29T10:00:00Z", "2100-02-29T00:00:00Z",   /* centuries: not leap */
		"2026-03-01T24:00:00+0000", "2026-03-01T23:60:00+0000",
		"2026-03-01T10:00:60+0000",                        /* not a leap second */
		"2026-03-01T23:59:60Z", "2026-02-28T23:59:60Z",    /* no month's last day */
		"2016-12-31T23:59:60+0100",                        /* 22:59:60 UTC */
		"2026-03-01T10:00:00+2400", "2026-03-01T10:00:00+0060",
		NULL };

	(void)state;
	for (int i = 0; bad[i]; i++) {
		t = 12345;
		if (mw_parse_mc_date(bad[i], strlen(bad[i]), &t) != -1)
			fail_msg("%s was accepted as %lld", bad[i], (long long)t);
		assert_int_equal(t, 12345);   /* untouched */
	}
	/* The days that do exist around them. */
	d = "2026-02-28T10:00:00+0000";
	assert_int_equal(mw_parse_mc_date(d, strlen(d), &t), 0);
	assert_int_equal(t, 1772272800);
	d = "2000-02-29T00:00:00Z";            /* 2000: divisible by 400 */
	assert_int_equal(mw_parse_mc_date(d, strlen(d), &t), 0);
	assert_int_equal(t, 951782400);
	d = "2026-04-30T23:59:59Z";
	assert_int_equal(mw_parse_mc_date(d, strlen(d), &t), 0);
	assert_int_equal(t, 1777593599);
	d = "2026-12-31T23:59:59-2359";
	assert_int_equal(mw_parse_mc_date(d, strlen(d), &t), 0);
	assert_int_equal(t, 1798761599 + 23 * 3600 + 59 * 60);
	/* A leap second (23:59:60 UTC on the last day of March, June,
	 * September or December; here 2016-12-31, also written as 00:59:60
	 * at +0100) is kept on its day: it reads as 23:59:59 UTC. */
	d = "2016-12-31T23:59:60Z";
	assert_int_equal(mw_parse_mc_date(d, strlen(d), &t), 0);
	assert_int_equal(t, 1483228799);
	d = "2017-01-01T00:59:60+0100";
	assert_int_equal(mw_parse_mc_date(d, strlen(d), &t), 0);
	assert_int_equal(t, 1483228799);
	d = "2015-06-30T23:59:60+0000";
	assert_int_equal(mw_parse_mc_date(d, strlen(d), &t), 0);
	assert_int_equal(t, 1435708799);
	/* Every day of 1999..2101 that exists parses to the same day. */
	for (int64_t day = 10592; day < 48576; day++) {
		char mc[32], back[32];

		mw_format_mc_date(day * 86400 + 3723, mc);
		assert_int_equal(mw_parse_mc_date(mc, strlen(mc), &t), 0);
		mw_format_mc_date(t, back);
		assert_string_equal(back, mc);
	}
	/* The HTTP Date header: the same rule. */
	assert_int_equal(mw_parse_http_date("Mon, 30 Feb 2026 10:00:00 GMT", &t), -1);
	assert_int_equal(mw_parse_http_date("Thu, 31 Apr 2026 10:00:00 GMT", &t), -1);
	assert_int_equal(mw_parse_http_date("Sun, 29 Feb 2026 10:00:00 GMT", &t), -1);
	assert_int_equal(mw_parse_http_date("Sat, 28 Feb 2026 24:00:00 GMT", &t), -1);
	assert_int_equal(mw_parse_http_date("Sat, 28 Feb 2026 10:00:60 GMT", &t), -1);
	assert_int_equal(mw_parse_http_date("Sat, 28 Feb 2026 10:00:00 GMT", &t), 0);
	assert_int_equal(t, 1772272800);
	assert_int_equal(mw_parse_http_date("Sat, -8 Feb 2026 10:00:00 GMT", &t), -1);
	assert_int_equal(mw_parse_http_date("Sat, 28 Feb 2026 10:+0:00 GMT", &t), -1);
}

/* Issue 10 point 7: the headless commands' and the log's tenant text. */
static void test_sanitize_text(void **state)
{
	mw_buf b;
	char path[] = "/tmp/mw_log_XXXXXX", got[512];
	int fd, saved;
	ssize_t n;

	(void)state;
	mw_buf_init(&b);
	assert_string_equal(sanitize_text(&b, NULL), "");
	assert_string_equal(sanitize_text(&b, ""), "");
	assert_string_equal(sanitize_text(&b, "Acme Ltd"), "Acme Ltd");
	/* OSC title, clear screen, CR forging a line, BS, DEL, 8-bit CSI (raw
	 * and as UTF-8), NEL, bidi override, line separator, invalid UTF-8 */
	assert_string_equal(sanitize_text(&b, "A\x1b]0;T\x07\x1b[2J\rX\b\x7f\x9b" "1m\xc2\x9b"
					  "2m\xc2\x85\xe2\x80\xae" "e\xe2\x80\xa8" "f"),
			    "A\\x1b]0;T\\x07\\x1b[2J\\rX\\x08\\x7f\xef\xbf\xbd" "1m\\x9b2m\\x85"
			    "<U+202E>e<U+2028>f");
	/* mw_log: the same rules for the whole line */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	mw_log(0, "sim/url: %s", "forged\r\x1b[2Kline\n\xe2\x80\xae");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, got, sizeof(got) - 1, 0);
	assert_true(n > 0);
	got[n] = '\0';
	close(fd);
	unlink(path);
	assert_string_equal(got, "mimewatch: sim/url: forged\\r\\x1b[2Kline\\n<U+202E>\n");
	mw_buf_free(&b);
}

/* A fresh buffer's first reservation is a string already (the client and
 * the HTTP sinks reserve, then may read an empty answer as text). */
static void test_buf_reserve_is_a_string(void **state)
{
	mw_buf b;
	char *junk = malloc(256);

	(void)state;
	/* leave a non-zero block for the allocator to hand out next */
	assert_non_null(junk);
	memset(junk, 'x', 256);
	free(junk);
	mw_buf_init(&b);
	mw_buf_reserve(&b, 0);
	assert_non_null(b.data);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	mw_buf_free(&b);
}

static void test_encodings(void **state)
{
	unsigned char *out;
	size_t n;
	char *b;
	char g[37], hex[9];

	(void)state;
	assert_int_equal(mw_base64_decode("U2VjcmV0S2V5", 12, &out, &n), 0);
	assert_int_equal(n, 9);
	assert_memory_equal(out, "SecretKey", 9);
	free(out);
	assert_int_equal(mw_base64_decode("YQ==", 4, &out, &n), 0);
	assert_int_equal(n, 1);
	free(out);
	assert_int_equal(mw_base64_decode("YQ=", 3, &out, &n), -1);
	assert_int_equal(mw_base64_decode("Y=Q=", 4, &out, &n), -1);
	assert_int_equal(mw_base64_decode("a-b_", 4, &out, &n), -1);
	b = mw_base64_encode("SecretKey", 9);
	assert_string_equal(b, "U2VjcmV0S2V5");
	free(b);
	mw_hex((const unsigned char *)"\x01\xab\xff\x10", 4, hex);
	assert_string_equal(hex, "01abff10");
	mw_guid(g);
	assert_int_equal(strlen(g), 36);
	assert_true(mw_is_guid(g));
	assert_int_equal(g[14], '4');
	assert_true(mw_is_guid("ca16c415-658f-4c87-8fb6-E3E6957771DC"));
	assert_false(mw_is_guid("ca16c415-658f-4c87-8fb6-e3e6957771d"));
	assert_false(mw_is_guid("ca16c415658f-4c87-8fb6-e3e6957771dc0"));
	assert_false(mw_is_guid("ca16c415-658f-4c87-8fb6-e3e6957771dcX"));
	assert_false(mw_is_guid(""));
}

static void test_files(void **state)
{
	char dir[] = "/tmp/mwutilXXXXXX", path[256], sub[256], *data;
	size_t len;
	struct stat st;
	mw_err e;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/a/b/c", dir);
	assert_int_equal(mw_mkdir_p(sub, &e), 0);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/f.yaml", dir);
	assert_int_equal(mw_write_file_atomic(path, "hello\n", 6, &e), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(mw_read_file(path, 100, &data, &len, &e), 0);
	assert_int_equal(len, 6);
	assert_string_equal(data, "hello\n");
	free(data);
	assert_int_equal(mw_read_file(path, 3, &data, &len, &e), -1);
	assert_non_null(strstr(e.msg, "too large"));
	assert_int_equal(mw_check_private_file(path, "config", &e), 0);
	chmod(path, 0640);
	assert_int_equal(mw_check_private_file(path, "config", &e), -1);
	assert_non_null(strstr(e.msg, "permissions 0640 are too open"));
	assert_non_null(strstr(e.msg, "chmod 600"));
	assert_int_equal(mw_check_private_file(sub, "config", &e), -1);
	assert_non_null(strstr(e.msg, "not a regular file"));
	unlink(path);
}

/* Optional config values: NULL is equal only to NULL, never to "". */
static void test_str_same(void **state)
{
	(void)state;
	assert_true(mw_str_same(NULL, NULL));
	assert_true(mw_str_same("", ""));
	assert_true(mw_str_same("ca.pem", "ca.pem"));
	assert_false(mw_str_same(NULL, ""));
	assert_false(mw_str_same("", NULL));
	assert_false(mw_str_same("ca.pem", "ca.pem "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_deadline_in),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_dates_that_do_not_exist),
		cmocka_unit_test(test_sanitize_text),
		cmocka_unit_test(test_buf_reserve_is_a_string),
		cmocka_unit_test(test_encodings),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_str_same),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
