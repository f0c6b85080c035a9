/* test_errclass.c - error classes, the classifier against every shape of
 * HACKING, "Error shapes", rate-limit parsing, the region table, and the
 * client's HTTP rules against a tiny libmicrohttpd server on 127.0.0.1. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mimecast/mimecast.h"
#include "netpolicy.h"
#include "jsonscan.h"
#include "logtypes.h"
#include "util.h"

#define PERM_URL "Monitoring | URL Protection | Read"

/* ---- classifier helpers ----------------------------------------------- */

static struct mc_result classify_ctx(long status, const char *body,
				     const struct mc_classify_ctx *ctx, int64_t server_date)
{
	struct mc_result r;
	js_doc d;
	mw_err e;
	int root = -1;

	mc_result_init(&r);
	r.server_date = server_date;
	js_init(&d);
	if (body && *body && js_parse(&d, body, strlen(body), &e) == 0)
		root = 0;
	mc_classify(&r, status, &d, root, ctx);
	js_free(&d);
	return r;
}

static struct mc_result classify_full(long status, const char *body, const char *perm,
				      int known_region, int64_t server_date, int64_t local_now)
{
	struct mc_classify_ctx ctx = { perm, local_now, known_region, 1 };

	return classify_ctx(status, body, &ctx, server_date);
}

static struct mc_result classify_api(long status, const char *body, int api)
{
	struct mc_classify_ctx ctx = { PERM_URL, 1700000000, 1, api };

	return classify_ctx(status, body, &ctx, 0);
}

static struct mc_result classify(long status, const char *body)
{
	return classify_full(status, body, PERM_URL, 1, 0, 1700000000);
}

static const char *fail_body(const char *code, const char *msg, int retryable, int meta)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf),
		 "{\"meta\":{\"status\":%d},\"data\":[],\"fail\":[{\"errors\":[{\"code\":\"%s\","
		 "\"message\":\"%s\",\"retryable\":%s}]}]}",
		 meta, code, msg, retryable ? "true" : "false");
	return buf;
}

#define assert_starts(hay, prefix) \
	do { \
		if (strncmp((hay), (prefix), strlen(prefix)) != 0) \
			fail_msg("\"%s\" does not start with \"%s\"", (hay), (prefix)); \
	} while (0)

#define assert_contains(hay, needle) \
	do { \
		if (!strstr((hay), (needle))) \
			fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle)); \
	} while (0)

/* ---- names ------------------------------------------------------------- */

static void test_names_keys(void **state)
{
	static const char *const names[MC_CLASS_COUNT] = {
		"ok", "retry later", "invalid signature", "binding expired", "permission missing",
		"bad Application ID", "IP not allowed", "TTP package not licensed", "wrong region",
		"certificate or host-name failure", "proxy failure", "bad request", "unknown",
		"store over max_store",
	};
	(void)state;
	for (int i = 0; i < MC_CLASS_COUNT; i++) {
		assert_string_equal(mc_class_name((enum mc_class)i), names[i]);
		assert_string_equal(mc_class_label((enum mc_class)i, 1), names[i]);
		if (i != MC_INVALID_SIGNATURE)
			assert_string_equal(mc_class_label((enum mc_class)i, 2), names[i]);
		assert_int_equal(mc_class_from_key(mc_class_key((enum mc_class)i)), i);
		assert_true(strlen(mc_class_key((enum mc_class)i)) < 24);  /* store column */
		assert_true(strlen(mc_class_remedy((enum mc_class)i)) > 5);
	}
	/* The console's name for 2.0, which signs nothing; the key stays. */
	assert_string_equal(mc_class_label(MC_INVALID_SIGNATURE, 2), "invalid client ID or secret");
	assert_string_equal(mc_class_key(MC_RETRY), "retry");
	assert_int_equal(mc_class_from_key("nonsense"), MC_UNKNOWN);
	assert_int_equal(mc_class_from_key(NULL), MC_UNKNOWN);
}

/* ---- HACKING, "Error shapes", shape by shape ----------------------------- */

static void test_ok(void **state)
{
	struct mc_result r;

	(void)state;
	r = classify(200, "{\"meta\":{\"status\":200,\"pagination\":{\"next\":\"x\"}},"
			  "\"data\":[{\"clickLogs\":[]}],\"fail\":[]}");
	assert_int_equal(r.cls, MC_OK);
	assert_int_equal(r.http_status, 200);
	assert_int_equal(r.retryable, 0);
	/* meta.status and fail absent are fine too */
	r = classify(200, "{\"data\":[{\"clickLogs\":[]}]}");
	assert_int_equal(r.cls, MC_OK);
}

static void test_wrong_app_id(void **state)
{
	struct mc_result r;

	(void)state;
	r = classify(200, fail_body("err_developer_key", "App ID is invalid: INVALID", 0, 200));
	assert_int_equal(r.cls, MC_BAD_APP_ID);
	assert_string_equal(r.code, "err_developer_key");
	assert_string_equal(r.message, "App ID is invalid: INVALID");
	assert_contains(r.remedy, "Application ID in the config does not match");
	assert_contains(r.remedy, "Administration > Services > API and Platform Integrations");
	assert_int_equal(r.retryable, 0);
}

static void test_invalid_signature(void **state)
{
	const char *b = fail_body("err_xdk_invalid_signature", "0004 Invalid Signature", 0, 401);
	struct mc_result r;

	(void)state;
	/* known region, Date agrees: the keys */
	r = classify_full(401, b, PERM_URL, 1, 1700000030, 1700000000);
	assert_int_equal(r.cls, MC_INVALID_SIGNATURE);
	assert_int_equal(r.http_status, 401);
	assert_string_equal(r.code, "err_xdk_invalid_signature");
	assert_string_equal(r.message, "0004 Invalid Signature");
	assert_contains(r.remedy, "Application Key, Access Key or Secret Key is wrong");
	/* unknown host: the region */
	r = classify_full(401, b, PERM_URL, 0, 1700000000, 1700000000);
	assert_int_equal(r.cls, MC_WRONG_REGION);
	assert_contains(r.remedy, "eu, de, us, usb, ca, za, au, je");
	/* no Date header at all: still the keys */
	r = classify_full(401, b, PERM_URL, 1, 0, 1700000000);
	assert_int_equal(r.cls, MC_INVALID_SIGNATURE);
	assert_contains(r.remedy, "copy them again");
}

static void test_clock_skew(void **state)
{
	const char *b = fail_body("err_xdk_invalid_signature", "0004 Invalid Signature", 0, 401);
	struct mc_result r;

	(void)state;
	/* host 300 s behind */
	r = classify_full(401, b, PERM_URL, 1, 1700000300, 1700000000);
	assert_int_equal(r.cls, MC_INVALID_SIGNATURE);
	assert_string_equal(r.remedy,
			    "this host's clock is 300 s behind Mimecast's; sync it with NTP");
	/* host 1000 s ahead; skew beats the region check */
	r = classify_full(401, b, PERM_URL, 0, 1700000000, 1700001000);
	assert_int_equal(r.cls, MC_INVALID_SIGNATURE);
	assert_string_equal(r.remedy,
			    "this host's clock is 1000 s ahead of Mimecast's; sync it with NTP");
	/* exactly 2 minutes is tolerated, 121 s is not */
	r = classify_full(401, b, PERM_URL, 1, 1700000120, 1700000000);
	assert_contains(r.remedy, "Application Key, Access Key or Secret Key");
	r = classify_full(401, b, PERM_URL, 1, 1700000121, 1700000000);
	assert_contains(r.remedy, "121 s behind");
}

static void test_binding_expired(void **state)
{
	struct mc_result r;

	(void)state;
	r = classify(418, fail_body("err_xdk_binding_expired", "Binding Expired", 0, 418));
	assert_int_equal(r.cls, MC_BINDING_EXPIRED);
	assert_string_equal(r.code, "err_xdk_binding_expired");
	assert_contains(r.remedy, "Authentication Cache TTL to Never Expire");
	assert_contains(r.remedy, "create new Access and Secret keys");
	r = classify(418, "");  /* no body at all */
	assert_int_equal(r.cls, MC_BINDING_EXPIRED);
}

static void test_permission(void **state)
{
	const char *b = fail_body("err_xdk_forbidden", "Forbidden", 0, 403);
	struct mc_result r;

	(void)state;
	r = classify_full(403, b, "Monitoring | Impersonation Protection | Read", 1, 0, 0);
	assert_int_equal(r.cls, MC_PERMISSION);
	assert_starts(r.remedy, "add `Monitoring | Impersonation Protection | Read` to the "
		      "service user's role; if the service user's authentication profile limits "
		      "source addresses, allow this host (");
	r = classify_full(403, b, NULL, 1, 0, 0);  /* get-account */
	assert_int_equal(r.cls, MC_PERMISSION);
	assert_starts(r.remedy, "add `Accounts | Dashboard | Read` to the service user's role");
	/* API 2.0's words: the application's role, never the service user */
	r = classify_api(403, b, 2);
	assert_int_equal(r.cls, MC_PERMISSION);
	assert_starts(r.remedy, "add `" PERM_URL "` to the API 2.0 application's role");
	assert_null(strstr(r.remedy, "service user"));
	/* ... naming the type's product, which only a new application changes */
	{
		struct mc_classify_ctx ctx = { "Account | Logs | Read", 1700000000, 1, 2,
					       "Audit Events" };

		r = classify_ctx(403, b, &ctx, 0);
		assert_int_equal(r.cls, MC_PERMISSION);
		assert_starts(r.remedy, "add `Account | Logs | Read` to the API 2.0 application's "
			      "role; its products must include \"Audit Events\" (fixed when it "
			      "was made: otherwise make a new application)");
	}
	/* "Address" is no IP address */
	r = classify(403, fail_body("err_xdk_operation_forbidden_for_address",
				    "0003 Forbidden To Perform Operation For Address", 0, 403));
	assert_int_equal(r.cls, MC_PERMISSION);
	assert_contains(r.remedy, "`" PERM_URL "`");
}

static void test_ip_not_allowed(void **state)
{
	struct mc_result r;

	(void)state;
	r = classify(401, fail_body("err_xdk_ip_not_permitted",
				    "0018 Source IP 203.0.113.7 is not in the permitted IP ranges", 0,
				    401));
	assert_int_equal(r.cls, MC_IP_NOT_ALLOWED);
	assert_contains(r.remedy, "this host's address (");
	assert_contains(r.remedy, "Mimecast may see a NAT address");
	/* an address in the message is no evidence: only words that say the
	 * address is refused are (the allow-list is then a hint in the remedy) */
	r = classify(403, fail_body("err_xdk_forbidden", "request from 2001:db8::42", 0, 403));
	assert_int_equal(r.cls, MC_PERMISSION);
	assert_contains(r.remedy, "limits source addresses, allow this host (");
	r = classify(401, fail_body("err_other", "denied for 198.51.100.9.", 0, 401));
	assert_int_equal(r.cls, MC_INVALID_SIGNATURE);
	r = classify(401, fail_body("err_other", "IP address not allowed", 0, 401));
	assert_int_equal(r.cls, MC_IP_NOT_ALLOWED);
	/* the code alone is enough */
	r = classify(403, fail_body("err_xdk_ip_not_permitted", "not permitted", 0, 403));
	assert_int_equal(r.cls, MC_IP_NOT_ALLOWED);
}

static void test_other_401(void **state)
{
	struct mc_result r;

	(void)state;
	/* 401 0001: authentication type not supported */
	r = classify(401, fail_body("err_xdk_auth_type", "0001 Credentials are missing", 0, 401));
	assert_int_equal(r.cls, MC_INVALID_SIGNATURE);
	r = classify(401, "");
	assert_int_equal(r.cls, MC_INVALID_SIGNATURE);
	/* API 2.0: any 401 on a bearer request is a token to renew (the client
	 * then asks once more); the flat 2.0 shape is read */
	r = classify_api(401, "{\"fail\":[{\"code\":\"token_expired\","
			      "\"message\":\"Access Token Expired\"}]}", 2);
	assert_int_equal(r.cls, MC_RETRY);
	assert_string_equal(r.code, "token_expired");
	assert_string_equal(r.message, "Access Token Expired");
	assert_int_equal(r.retryable, 1);
	r = classify_api(401, "{\"fail\":[{\"code\":\"unauthorized\",\"message\":\"x\"}]}", 2);
	assert_int_equal(r.cls, MC_RETRY);
	assert_string_equal(r.code, "unauthorized");
	/* API 1.0 words stay with 1.0 */
	r = classify(401, fail_body("err_xdk_invalid_signature", "0004 Invalid Signature", 0, 401));
	assert_contains(r.remedy, "Access Key");
	/* binding expired inside fail[], whatever the status */
	r = classify(200, fail_body("err_xdk_binding_expired", "Binding Expired", 0, 418));
	assert_int_equal(r.cls, MC_BINDING_EXPIRED);
	r = classify(401, fail_body("err_xdk_binding_expired", "Binding Expired", 0, 401));
	assert_int_equal(r.cls, MC_BINDING_EXPIRED);
}

static void test_bad_request_statuses(void **state)
{
	static const long st[] = { 400, 404, 405, 409, 413 };
	struct mc_result r;

	(void)state;
	for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
		r = classify(st[i], fail_body("err_xdk_credentials_missing",
					      "0001 Credentials are missing from the request", 0,
					      (int)st[i]));
		assert_int_equal(r.cls, MC_BAD_REQUEST);
		assert_int_equal(r.http_status, st[i]);
		assert_int_equal(r.retryable, 0);
	}
	r = classify(404, "<html>not found</html>");
	assert_int_equal(r.cls, MC_BAD_REQUEST);
	r = classify(302, "");
	assert_int_equal(r.cls, MC_BAD_REQUEST);
	assert_contains(r.remedy, "check base_url");
}

static void test_retry_statuses(void **state)
{
	static const long st[] = { 429, 500, 502, 503, 504, 408 };
	struct mc_result r;

	(void)state;
	for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
		r = classify(st[i], "{\"detail\":\"Over throttling limit (10000/hour)\"}");
		assert_int_equal(r.cls, MC_RETRY);
		assert_int_equal(r.retryable, 1);
	}
	assert_string_equal(r.message, "Over throttling limit (10000/hour)");
	r = classify(500, "<html>Internal Server Error</html>");
	assert_int_equal(r.cls, MC_RETRY);
}

static void test_unknown_status(void **state)
{
	struct mc_result r;

	(void)state;
	r = classify(402, fail_body("err_payment", "Pay up", 0, 402));
	assert_int_equal(r.cls, MC_UNKNOWN);
	assert_contains(r.remedy, "HTTP 402");
	assert_contains(r.remedy, "err_payment");
	assert_contains(r.remedy, "Pay up");
	r = classify(999, "");
	assert_int_equal(r.cls, MC_UNKNOWN);
}

static void test_fail_never_ok(void **state)
{
	static const char *const bodies[] = {
		"{\"meta\":{\"status\":200},\"data\":[{\"clickLogs\":[]}],\"fail\":[{\"errors\":["
		"{\"code\":\"err_internal\",\"message\":\"Temporary failure\",\"retryable\":true}]}]}",
		"{\"meta\":{\"status\":200},\"data\":[],\"fail\":[{\"errors\":[{\"code\":"
		"\"err_validation_blank\",\"message\":\"from cannot be blank\",\"retryable\":false}]}]}",
		"{\"meta\":{\"status\":200},\"data\":[],\"fail\":[{\"errors\":[{\"code\":"
		"\"err_audit_log_incorrect_region\",\"message\":\"Incorrect region\"}]}]}",
		"{\"data\":[{\"clickLogs\":[]}],\"fail\":[{}]}",
		"{\"data\":[{\"clickLogs\":[]}],\"fail\":[{\"errors\":[]}]}",
		"{\"data\":[{\"clickLogs\":[]}],\"fail\":{}}",
	};
	static const enum mc_class want[] = { MC_RETRY, MC_BAD_REQUEST, MC_UNKNOWN,
					      MC_UNKNOWN, MC_UNKNOWN, MC_RETRY };
	struct mc_result r;

	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		r = classify(200, bodies[i]);
		assert_int_not_equal(r.cls, MC_OK);
		assert_int_equal(r.cls, want[i]);
	}
	r = classify(200, bodies[0]);
	assert_string_equal(r.code, "err_internal");
	assert_int_equal(r.retryable, 1);
	r = classify(200, bodies[2]);
	assert_contains(r.remedy, "err_audit_log_incorrect_region");
	assert_contains(r.remedy, "Incorrect region");
	/* a function-level status inside a 200 counts */
	r = classify(200, fail_body("x", "y", 0, 401));  /* fail[] non-empty wins */
	assert_int_equal(r.cls, MC_UNKNOWN);
	r = classify(200, "{\"meta\":{\"status\":403},\"data\":[],\"fail\":[]}");
	assert_int_equal(r.cls, MC_PERMISSION);
}

static void test_truncated_malformed(void **state)
{
	static const char *const bodies[] = {
		"{\"meta\":{\"status\":200},\"data\":[{\"clickLogs\":[{\"url\":\"http://a",
		"", "<html>gateway</html>", "[1,2]", "\"ok\"",
		"{\"meta\":[],\"data\":[]}", "{\"meta\":{},\"data\":{}}",
		"{\"meta\":{\"status\":\"abc\"},\"data\":[]}",
		"{\"data\":[]} trailing",
	};
	struct mc_result r;

	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		r = classify(200, bodies[i]);
		assert_int_equal(r.cls, MC_RETRY);
		assert_string_equal(r.remedy, "the response was cut short or malformed; will retry");
		assert_int_equal(r.retryable, 1);
	}
	r = classify_full(200, NULL, NULL, 1, 0, 0);
	assert_int_equal(r.cls, MC_RETRY);
}

static void test_sanitise(void **state)
{
	char body[2048], longmsg[1200];
	struct mc_result r;

	(void)state;
	/* ESC, a C1 and a bidi override as JSON escapes, "é" as raw UTF-8 */
	r = classify(401, "{\"fail\":[{\"errors\":[{\"code\":\"err_\\u001b[31m\","
			  "\"message\":\"caf\xc3\xa9 \\u009b2J \\u202e!\"}]}]}");
	assert_string_equal(r.code, "err_?[31m");
	assert_string_equal(r.message, "caf? ?2J ?!");
	memset(longmsg, 'A', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';
	snprintf(body, sizeof(body), "{\"fail\":[{\"errors\":[{\"code\":\"c\",\"message\":\"%s\"}]}]}",
		 longmsg);
	r = classify(500, body);
	assert_int_equal(strlen(r.message), sizeof(r.message) - 1);
	char out[8];
	mc_sanitize_copy(out, sizeof(out), "a\tb\x7f\x80z", 6);
	assert_string_equal(out, "a?b??z");
}

/* ---- rate limits -------------------------------------------------------- */

static void test_reset_parse(void **state)
{
	(void)state;
	assert_int_equal(mc_parse_reset_ms("1500"), 1500);
	assert_int_equal(mc_parse_reset_ms("-1"), -1);
	assert_int_equal(mc_parse_reset_ms("0"), 0);
	assert_int_equal(mc_parse_reset_ms("abc"), -1);
	assert_int_equal(mc_parse_reset_ms(""), -1);
	assert_int_equal(mc_parse_reset_ms("1e20"), -1);
	assert_int_equal(mc_parse_reset_ms(" 15 "), 15);
	assert_int_equal(mc_parse_reset_ms("   "), -1);
	assert_int_equal(mc_parse_reset_ms(NULL), -1);
	assert_int_equal(mc_parse_reset_ms("86400000"), 86400000);
	assert_int_equal(mc_parse_reset_ms("86400001"), -1);
	assert_int_equal(mc_parse_reset_ms("99999999999999999999999"), -1);
	assert_int_equal(mc_parse_reset_ms("12 34"), -1);
	assert_int_equal(mc_parse_reset_ms("+5"), -1);
	assert_int_equal(mc_parse_reset_ms("1.5"), -1);
}

static void test_clamp(void **state)
{
	(void)state;
	assert_int_equal(mc_clamp_wait_ms(-1), 5000);
	assert_int_equal(mc_clamp_wait_ms(0), 100);
	assert_int_equal(mc_clamp_wait_ms(99), 100);
	assert_int_equal(mc_clamp_wait_ms(1500), 1500);
	assert_int_equal(mc_clamp_wait_ms(900000), 900000);
	assert_int_equal(mc_clamp_wait_ms(86400000), 900000);
	/* the bogus headers end where HACKING says ("Retries, backoff and the
	 * 429 gate") */
	assert_int_equal(mc_clamp_wait_ms(mc_parse_reset_ms("1e20")), 5000);
	assert_int_equal(mc_clamp_wait_ms(mc_parse_reset_ms("0")), 100);
}

/* ---- regions ------------------------------------------------------------- */

static void test_regions(void **state)
{
	const struct mw_region *b;
	struct mw_region *f = NULL;
	size_t nb = regions_list(&b), nf = 0;
	mw_err e;
#ifdef SRCDATADIR
	const char *path = SRCDATADIR "/regions.tsv";
#else
	const char *path = "data/regions.tsv";
#endif
	static const char *const want[] = { "eu", "de", "us", "usb", "ca", "za", "au", "je" };

	(void)state;
	assert_int_equal(regions_load_file(path, &f, &nf, &e), 0);
	assert_int_equal(nf, nb);
	for (size_t i = 0; i < nb; i++) {
		assert_string_equal(f[i].code, b[i].code);
		assert_string_equal(f[i].name, b[i].name);
		assert_string_equal(f[i].base_url, b[i].base_url);
		assert_string_equal(f[i].prefix, b[i].prefix);
	}
	free(f);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_string_equal(b[i].code, want[i]);
	assert_string_equal(b[0].base_url, "https://eu-api.mimecast.com");
	assert_string_equal(b[3].prefix, "CUSB");

	assert_true(regions_known_host("https://eu-api.mimecast.com"));
	assert_true(regions_known_host("https://JE-API.mimecast.com/"));
	assert_true(regions_known_host("https://api.services.mimecast.com"));
	assert_true(regions_known_host("https://uk-api.services.mimecast.com"));
	assert_true(regions_known_host("http://127.0.0.1:8443"));
	assert_false(regions_known_host("https://xdr-api.mimecast.com"));
	assert_false(regions_known_host("https://eu-api.mimecast.com.evil.example"));
	assert_false(regions_known_host("https://eu-api.mimecast.com@evil.example/"));
	assert_false(regions_known_host("not a url"));

	assert_true(net_url_is_loopback("http://127.0.0.1:1234"));
	assert_true(net_url_is_loopback("http://127.9.8.7"));
	assert_true(net_url_is_loopback("http://[::1]:80"));
	assert_true(net_url_is_loopback("http://localhost:99"));
	assert_true(net_url_is_loopback("http://LOCALHOST./"));
	assert_false(net_url_is_loopback("http://128.0.0.1"));
	assert_false(net_url_is_loopback("http://localhost.evil.example"));
	assert_false(net_url_is_loopback("http://127.0.0.1.evil.example"));
	assert_false(net_url_is_loopback("http://127.0.0.1@evil.example"));
	assert_false(net_url_is_loopback("http://[::2]"));
	assert_true(net_url_is_loopback("http://[::ffff:127.0.0.1]:8443"));
	assert_false(net_url_is_loopback("http://[::ffff:10.0.0.1]"));

	assert_int_equal(regions_load_file("/nonexistent/regions.tsv", &f, &nf, &e), -1);
	assert_contains(e.msg, "/nonexistent/regions.tsv");
}

/* ---- the client against a local server ----------------------------------------- */

static struct MHD_Daemon *mhd;
static int port;
static int target_hits, token_requests, v2_log_requests;
/* validation scenarios: 0 off; 1 all packages; 2 no Attachment package;
 * 3 get-account says err_developer_key once, then answers */
static int vmode, v_account_calls, v_attach_calls;
static char last_reqid[64], last_appid[64], last_auth[256], last_body[2048];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

#define BIG_SIZE (17u * 1024 * 1024)

struct conn {
	mw_buf body;
};

static ssize_t big_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)cls;
	if (pos >= BIG_SIZE)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (max > BIG_SIZE - pos)
		max = (size_t)(BIG_SIZE - pos);
	memset(buf, 'a', max);
	return (ssize_t)max;
}

static ssize_t short_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)cls;
	if (pos >= 20)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (max > 20 - pos)
		max = (size_t)(20 - pos);
	memcpy(buf, &"{\"data\":[{\"clickLogs\""[pos], max);
	return (ssize_t)max;
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *body,
				 const char *const *hdrs)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
								 MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	for (; hdrs && hdrs[0]; hdrs += 2)
		MHD_add_response_header(r, hdrs[0], hdrs[1]);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static void copy_header(struct MHD_Connection *c, const char *name, char *dst, size_t n)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);

	snprintf(dst, n, "%s", v ? v : "");
}

static const char page1[] =
	"{\"meta\":{\"status\":200,\"pagination\":{\"pageSize\":2,\"next\":\"tok2\"}},"
	"\"data\":[{\"clickLogs\":[{\"url\":\"https://a.example/\",\"date\":"
	"\"2024-11-17T17:02:30+0000\"},{\"url\":\"https://b.example/\",\"date\":"
	"\"2024-11-17T17:02:31+0000\"}]}],\"fail\":[]}";
static const char page2[] =
	"{\"meta\":{\"status\":200,\"pagination\":{\"pageSize\":2}},"
	"\"data\":[{\"clickLogs\":[{\"url\":\"https://c.example/\",\"date\":"
	"\"2024-11-17T17:02:32+0000\"}]}],\"fail\":[]}";

static const char fail_fmt[] = "{\"meta\":{\"status\":%d},\"data\":[],\"fail\":[{\"errors\""
			       ":[{\"code\":\"%s\",\"message\":\"%s\",\"retryable\":false}]}]}";

/* The tenant validate_integration talks to: url works, impersonation lacks
 * the permission, attachment is throttled once and then refuses the
 * signature (an IP rule, since the keys work for url). */
static enum MHD_Result validation_answer(struct MHD_Connection *c, const char *path)
{
	int mode = __atomic_load_n(&vmode, __ATOMIC_SEQ_CST);
	char b[512];

	if (strcmp(path, "/api/account/get-account") == 0) {
		int n = __atomic_add_fetch(&v_account_calls, 1, __ATOMIC_SEQ_CST);

		if (mode == 3 && n == 1) {
			snprintf(b, sizeof(b), fail_fmt, 200, "err_developer_key",
				 "App ID is invalid: x");
			return send_text(c, 200, b, NULL);
		}
		snprintf(b, sizeof(b), "{\"meta\":{\"status\":200},\"data\":[{\"accountName\":"
			 "\"Acme \u00e9\",\"accountCode\":\"CUSA00SIM1\",\"packages\":[\"URL "
			 "Protection (Site) [1043]\",\"Impersonation Protection [1060]\"%s]}],"
			 "\"fail\":[]}", mode == 2 ? "" : ",\"Attachment Protection (Pro) [1059]\"");
		return send_text(c, 200, b, NULL);
	}
	if (strcmp(path, "/api/ttp/url/get-logs") == 0)
		return send_text(c, 200, page2, NULL);
	if (strcmp(path, "/api/ttp/impersonation/get-logs") == 0) {
		snprintf(b, sizeof(b), fail_fmt, 403, "err_xdk_forbidden", "Forbidden");
		return send_text(c, 403, b, NULL);
	}
	if (strcmp(path, "/api/ttp/attachment/get-logs") == 0) {
		if (__atomic_add_fetch(&v_attach_calls, 1, __ATOMIC_SEQ_CST) == 1) {
			const char *h[] = { "X-RateLimit-Reset", "300", NULL };
			return send_text(c, 429, "", h);
		}
		snprintf(b, sizeof(b), fail_fmt, 401, "err_xdk_invalid_signature",
			 "0004 Invalid Signature");
		return send_text(c, 401, b, NULL);
	}
	return send_text(c, 404, "{}", NULL);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	struct conn *cc = *con_cls;
	struct MHD_Response *r;
	enum MHD_Result ret;
	char loc[128];

	(void)cls, (void)method, (void)version;
	if (!cc) {
		cc = calloc(1, sizeof(*cc));
		mw_buf_init(&cc->body);
		*con_cls = cc;
		return MHD_YES;
	}
	if (*upload_size) {
		mw_buf_append(&cc->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&mu);
	copy_header(c, "x-mc-req-id", last_reqid, sizeof(last_reqid));
	copy_header(c, "x-mc-app-id", last_appid, sizeof(last_appid));
	copy_header(c, "Authorization", last_auth, sizeof(last_auth));
	snprintf(last_body, sizeof(last_body), "%s", cc->body.data ? cc->body.data : "");
	pthread_mutex_unlock(&mu);

	if (__atomic_load_n(&vmode, __ATOMIC_SEQ_CST) && strncmp(url, "/val/", 5) == 0)
		return validation_answer(c, url + 4);
	if (strcmp(url, "/target") == 0) {
		__atomic_add_fetch(&target_hits, 1, __ATOMIC_SEQ_CST);
		return send_text(c, 200, "{\"data\":[]}", NULL);
	}
	if (strcmp(url, "/redirect") == 0) {
		snprintf(loc, sizeof(loc), "http://127.0.0.1:%d/target", port);
		const char *h[] = { "Location", loc, NULL };
		return send_text(c, 302, "", h);
	}
	if (strcmp(url, "/big") == 0 || strcmp(url, "/bigcl") == 0) {
		r = MHD_create_response_from_callback(strcmp(url, "/big") == 0 ? MHD_SIZE_UNKNOWN
						      : BIG_SIZE, 64 * 1024, big_reader, NULL, NULL);
		ret = MHD_queue_response(c, 200, r);
		MHD_destroy_response(r);
		return ret;
	}
	if (strcmp(url, "/truncated") == 0) {
		r = MHD_create_response_from_callback(1000, 1024, short_reader, NULL, NULL);
		ret = MHD_queue_response(c, 200, r);
		MHD_destroy_response(r);
		return ret;
	}
	if (strcmp(url, "/ratelimit") == 0) {
		const char *h[] = { "X-RateLimit-Limit", "800", "x-ratelimit-remaining", "0",
				    "X-RATELIMIT-RESET", "1500", NULL };
		return send_text(c, 429, "", h);
	}
	if (strcmp(url, "/ratelimit-bogus") == 0) {
		const char *h[] = { "X-RateLimit-Reset", "1e20", NULL };
		return send_text(c, 429, "", h);
	}
	if (strcmp(url, "/pace") == 0) {
		const char *h[] = { "X-RateLimit-Limit", "800", "X-RateLimit-Remaining", "1",
				    "X-RateLimit-Reset", "700", NULL };
		return send_text(c, 200, "{\"meta\":{\"status\":200},\"data\":[],\"fail\":[]}", h);
	}
	if (strcmp(url, "/skew") == 0) {
		char date[40];

		/* the server thinks it is an hour later than we do */
		mw_format_rfc1123(mw_now() + 3600, date);
		memcpy(date + strlen(date) - 3, "GMT", 3);
		const char *h[] = { "Date", date, NULL };
		return send_text(c, 401, "{\"meta\":{\"status\":401},\"data\":[],\"fail\":[{\"errors\":"
				 "[{\"code\":\"err_xdk_invalid_signature\",\"message\":\"0004 Invalid "
				 "Signature\",\"retryable\":false}]}]}", h);
	}
	if (strcmp(url, "/api/ttp/url/get-logs") == 0)
		return send_text(c, 200, strstr(cc->body.data, "\"pageToken\":\"tok2\"") ? page2
				 : page1, NULL);
	if (strcmp(url, "/api/ttp/impersonation/get-logs") == 0)
		return send_text(c, 403, "{\"meta\":{\"status\":403},\"data\":[],\"fail\":[{\"errors\""
				 ":[{\"code\":\"err_xdk_forbidden\",\"message\":\"Forbidden\"}]}]}", NULL);
	if (strcmp(url, "/api/account/get-account") == 0)
		return send_text(c, 200, "{\"meta\":{\"status\":200},\"data\":[{\"accountName\":"
				 "\"Acme\",\"accountCode\":\"CUSA00SIM1\",\"region\":\"us\",\"packages\":"
				 "[\"URL Protection (Site) [1043]\",\"Impersonation Protection [1060]\"]}],"
				 "\"fail\":[]}", NULL);
	if (strcmp(url, "/api/login/discover-authentication") == 0) {
		char b[256];

		snprintf(b, sizeof(b), "{\"meta\":{\"status\":200},\"data\":[{\"region\":{\"api\":"
			 "\"http://127.0.0.1:%d/\"}}],\"fail\":[]}", port);
		if (strstr(cc->body.data, "nobody@"))
			return send_text(c, 200, "{\"meta\":{\"status\":200},\"data\":[{}],\"fail\":[]}",
					 NULL);
		return send_text(c, 200, b, NULL);
	}
	if (strcmp(url, "/v2/oauth/token") == 0) {
		int n = __atomic_add_fetch(&token_requests, 1, __ATOMIC_SEQ_CST);

		if (strstr(cc->body.data, "client_id=revoked&"))
			return send_text(c, 200, "{\"access_token\":\"tokR\",\"expires_in\":1799}",
					 NULL);
		if (!strstr(cc->body.data, "client_secret=s%26cret") ||
		    !strstr(cc->body.data, "grant_type=client_credentials"))
			return send_text(c, 401, "{\"error\":\"invalid_client\"}", NULL);
		return send_text(c, 200, n == 1 ? "{\"access_token\":\"tokA\",\"expires_in\":1799}"
				 : "{\"access_token\":\"tokB\",\"expires_in\":1799}", NULL);
	}
	if (strcmp(url, "/v2/api/ttp/url/get-logs") == 0) {
		const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
		int n = __atomic_add_fetch(&v2_log_requests, 1, __ATOMIC_SEQ_CST);

		/* tokA works once, then is revoked before its announced expiry
		 * with the flat 2.0 error shape and no token_expired; tokR never
		 * works. */
		if (a && (strcmp(a, "Bearer tokB") == 0 || (n == 1 && strcmp(a, "Bearer tokA") == 0)))
			return send_text(c, 200, page2, NULL);
		return send_text(c, 401, "{\"meta\":{\"status\":401},\"data\":[],\"fail\":[{\"code\""
				 ":\"unauthorized\",\"message\":\"Unauthorized\"}]}", NULL);
	}
	return send_text(c, 404, "{}", NULL);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct conn *cc = *con_cls;

	(void)cls, (void)c, (void)toe;
	if (cc) {
		mw_buf_free(&cc->body);
		free(cc);
	}
	*con_cls = NULL;
}

static int server_up(void **state)
{
	const union MHD_DaemonInfo *info;
	struct sockaddr_in sa;

	(void)state;
	/* loopback only: tests never listen on or talk to anything else */
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
			       handler, NULL, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
			       MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_END);
	if (!mhd)
		return -1;
	info = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_BIND_PORT);
	port = info ? info->port : 0;
	return port ? 0 : -1;
}

static int server_down(void **state)
{
	(void)state;
	if (mhd)
		MHD_stop_daemon(mhd);
	return 0;
}

static mc_client *local_client(const char *suffix, int api)
{
	char base[128];
	struct mc_creds cr = { 0 };
	mw_err e;
	mc_client *c;

	snprintf(base, sizeof(base), "http://127.0.0.1:%d%s", port, suffix);
	cr.api = api;
	cr.base_url = base;
	cr.app_id = "5f0e6d1c-1a2b-4c3d-9e8f-0a1b2c3d4e5f";
	cr.app_key = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
	cr.access_key = "AccessKey";
	cr.secret_key = "U2VjcmV0S2V5";
	cr.client_id = "mw client";
	cr.client_secret = "s&cret";
	c = mc_client_new(&cr, &e);
	if (!c)
		fail_msg("mc_client_new: %s", e.msg);
	return c;
}

static void test_client_new_urls(void **state)
{
	struct mc_creds cr = { 0 };
	mw_err e;
	mc_client *c;

	(void)state;
	cr.api = 1;
	cr.app_id = cr.app_key = cr.access_key = cr.secret_key = "x";
	cr.base_url = "http://eu-api.mimecast.com";
	assert_null(mc_client_new(&cr, &e));
	assert_contains(e.msg, "base_url");
	assert_contains(e.msg, "https://");
	cr.base_url = "http://127.0.0.1.evil.example";
	assert_null(mc_client_new(&cr, &e));
	cr.base_url = "ftp://127.0.0.1/";
	assert_null(mc_client_new(&cr, &e));
	cr.base_url = "https://eu-api.mimecast.com?x=1";
	assert_null(mc_client_new(&cr, &e));
	cr.base_url = "";
	assert_null(mc_client_new(&cr, &e));
	cr.base_url = "https://eu-api.mimecast.com/";
	c = mc_client_new(&cr, &e);
	assert_non_null(c);
	mc_client_free(c);
	cr.base_url = "http://[::1]:8080";
	c = mc_client_new(&cr, &e);
	assert_non_null(c);
	mc_client_free(c);
	cr.secret_key = "";
	assert_null(mc_client_new(&cr, &e));
	assert_contains(e.msg, "secret_key");
	cr.api = 2;
	cr.base_url = "https://api.services.mimecast.com";
	assert_null(mc_client_new(&cr, &e));
	assert_contains(e.msg, "client_id");
}

static void test_redirect_refused(void **state)
{
	mc_client *c = local_client("", 1);
	mw_buf resp;
	struct mc_result r;

	(void)state;
	mw_buf_init(&resp);
	assert_int_equal(mc_post(c, "/redirect", "{\"data\":[]}", &resp, NULL, &r), 0);
	assert_int_equal(r.cls, MC_BAD_REQUEST);
	assert_int_equal(r.http_status, 302);
	assert_string_equal(r.remedy, "redirect to 127.0.0.1 refused; check base_url");
	assert_int_equal(__atomic_load_n(&target_hits, __ATOMIC_SEQ_CST), 0);
	mw_buf_free(&resp);
	mc_client_free(c);
}

static void test_big_refused(void **state)
{
	mc_client *c = local_client("", 1);
	mw_buf resp;
	struct mc_result r;

	(void)state;
	mw_buf_init(&resp);
	/* chunked: the write callback stops it */
	assert_int_equal(mc_post(c, "/big", "{}", &resp, NULL, &r), 0);
	assert_int_equal(r.cls, MC_UNKNOWN);
	assert_string_equal(r.message, "response larger than 16 MiB refused");
	assert_true(resp.len <= MC_MAX_RESPONSE);
	/* announced size: refused before the body */
	assert_int_equal(mc_post(c, "/bigcl", "{}", &resp, NULL, &r), 0);
	assert_int_equal(r.cls, MC_UNKNOWN);
	assert_string_equal(r.message, "response larger than 16 MiB refused");
	assert_int_equal(resp.len, 0);
	/* the connection is usable afterwards */
	assert_int_equal(mc_post(c, "/pace", "{}", &resp, NULL, &r), 0);
	assert_int_equal(r.cls, MC_OK);
	mw_buf_free(&resp);
	mc_client_free(c);
}

static void test_429_gate(void **state)
{
	mc_client *c = local_client("", 1);
	mw_buf resp;
	struct mc_result r;
	int64_t before, after, lim, rem, reset;

	(void)state;
	mw_buf_init(&resp);
	/* The gate is shared by every client of these credentials: an earlier
	 * test's pacing may still hold it; let it open first. */
	while (mc_client_not_before(c) > mw_mono_ms())
		mw_sleep_ms(10);
	before = mw_mono_ms();
	assert_int_equal(mc_post(c, "/ratelimit", "{}", &resp, NULL, &r), 0);
	after = mw_mono_ms();
	assert_int_equal(r.cls, MC_RETRY);
	assert_int_equal(r.http_status, 429);
	assert_int_equal(r.rl_limit, 800);
	assert_int_equal(r.rl_remaining, 0);
	assert_int_equal(r.rl_reset_ms, 1500);
	assert_true(mc_client_not_before(c) >= before + 1500);
	assert_true(mc_client_not_before(c) <= after + 1500 + 150);  /* jitter <= 10% */
	mc_client_ratelimit(c, &lim, &rem, &reset);
	assert_int_equal(lim, 800);
	assert_int_equal(rem, 0);
	assert_int_equal(reset, 1500);
	{
		/* A second client of the same credentials (a validation while the
		 * collector waits) is held by the same gate; other keys are not. */
		mc_client *same = local_client("", 1);
		struct mc_creds cr = { 0 };
		mw_err e;
		char base[128];
		mc_client *other;

		assert_int_equal(mc_client_not_before(same), mc_client_not_before(c));
		snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
		cr.api = 1;
		cr.base_url = base;
		cr.app_id = "5f0e6d1c-1a2b-4c3d-9e8f-0a1b2c3d4e5f";
		cr.app_key = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
		cr.access_key = "AnotherAccessKey";
		cr.secret_key = "U2VjcmV0S2V5";
		other = mc_client_new(&cr, &e);
		assert_non_null(other);
		assert_int_equal(mc_client_not_before(other), 0);
		/* ... and a hold set through one is seen by the other. */
		mc_client *other2 = mc_client_new(&cr, &e);

		assert_non_null(other2);
		mc_client_hold_until(other, 12345);
		assert_int_equal(mc_client_not_before(other2), 12345);
		mc_client_free(other2);
		mc_client_free(other);
		mc_client_free(same);
	}
	mc_client_free(c);

	/* a bogus reset waits the default 5 s */
	c = local_client("", 1);
	before = mw_mono_ms();
	assert_int_equal(mc_post(c, "/ratelimit-bogus", "{}", &resp, NULL, &r), 0);
	after = mw_mono_ms();
	assert_int_equal(r.rl_reset_ms, -1);
	assert_true(mc_client_not_before(c) >= before + 5000);
	assert_true(mc_client_not_before(c) <= after + 5500);
	mc_client_free(c);

	/* pacing: Remaining 1 with Reset known holds the next request back */
	c = local_client("", 1);
	before = mw_mono_ms();
	assert_int_equal(mc_post(c, "/pace", "{}", &resp, NULL, &r), 0);
	assert_int_equal(r.cls, MC_OK);
	assert_int_equal(r.rl_remaining, 1);
	assert_true(mc_client_not_before(c) >= before + 700);
	mw_buf_free(&resp);
	mc_client_free(c);
}

static void test_truncated_transfer(void **state)
{
	mc_client *c = local_client("", 1);
	mw_buf resp;
	struct mc_result r;

	(void)state;
	mw_buf_init(&resp);
	assert_int_equal(mc_post(c, "/truncated", "{}", &resp, NULL, &r), 0);
	assert_int_equal(r.cls, MC_RETRY);
	assert_contains(r.message, "truncated body");
	assert_int_equal(r.retryable, 1);
	mw_buf_free(&resp);
	mc_client_free(c);
}

static void test_skew_from_date_header(void **state)
{
	mc_client *c = local_client("", 1);
	mw_buf resp;
	struct mc_result r;

	(void)state;
	mw_buf_init(&resp);
	assert_int_equal(mc_post(c, "/skew", "{}", &resp, NULL, &r), 0);
	assert_int_equal(r.cls, MC_INVALID_SIGNATURE);
	assert_true(r.server_date > mw_now() + 3500);
	assert_contains(r.remedy, "s behind Mimecast's; sync it with NTP");
	mw_buf_free(&resp);
	mc_client_free(c);
}

static void test_pages_signed(void **state)
{
	mc_client *c = local_client("", 1);
	struct mc_page_req req = { 0 };
	struct mc_page page;
	struct mc_result r;
	mw_buf resp;
	char reqid1[64];

	(void)state;
	mw_buf_init(&resp);
	mc_page_init(&page);
	req.lt = logtype_find("url");
	req.from = 1700000000;
	req.to = 1700003600;
	req.page_size = 2;
	assert_int_equal(mc_get_logs_page(c, &req, &resp, &page, &r), 0);
	assert_int_equal(r.cls, MC_OK);
	assert_int_equal(page.nrecords, 2);
	assert_int_equal(page.doc.toks[page.records].type, JS_ARRAY);
	assert_string_equal(page.next, "tok2");
	pthread_mutex_lock(&mu);
	assert_string_equal(last_appid, "5f0e6d1c-1a2b-4c3d-9e8f-0a1b2c3d4e5f");
	assert_int_equal(strncmp(last_auth, "MC AccessKey:", 13), 0);
	assert_int_equal(strlen(last_auth), 13 + 28);
	assert_int_equal(strlen(last_reqid), 36);
	assert_string_equal(last_body,
			    "{\"meta\":{\"pagination\":{\"pageSize\":2}},\"data\":[{\"from\":"
			    "\"2023-11-14T22:13:20+0000\",\"to\":\"2023-11-14T23:13:20+0000\","
			    "\"oldestFirst\":true,\"route\":\"all\",\"scanResult\":\"all\"}]}");
	snprintf(reqid1, sizeof(reqid1), "%s", last_reqid);
	pthread_mutex_unlock(&mu);

	req.page_token = page.next;
	page.next = NULL;
	assert_int_equal(mc_get_logs_page(c, &req, &resp, &page, &r), 0);
	free((char *)req.page_token);
	assert_int_equal(r.cls, MC_OK);
	assert_int_equal(page.nrecords, 1);
	assert_null(page.next);
	pthread_mutex_lock(&mu);
	assert_string_not_equal(last_reqid, reqid1);  /* fresh every attempt */
	assert_contains(last_body, "\"pageToken\":\"tok2\"");
	assert_contains(last_body, "\"data\":[{\"from\":");
	pthread_mutex_unlock(&mu);

	/* a 403 on a type names that type's permission */
	req.lt = logtype_find("impersonation");
	req.page_token = NULL;
	assert_int_equal(mc_get_logs_page(c, &req, &resp, &page, &r), 0);
	assert_int_equal(r.cls, MC_PERMISSION);
	assert_starts(r.remedy, "add `Monitoring | Impersonation Protection | Read` to the "
		      "service user's role");
	assert_int_equal(page.records, -1);
	mc_page_free(&page);
	mw_buf_free(&resp);
	mc_client_free(c);
}

static void test_account_discover(void **state)
{
	mc_client *c = local_client("", 1);
	struct mc_account a;
	struct mc_result r;
	char base[64], *found = NULL;
	struct mc_creds net = { 0 };

	(void)state;
	assert_int_equal(mc_get_account(c, &a, &r), 0);
	assert_int_equal(r.cls, MC_OK);
	assert_string_equal(a.account_name, "Acme");
	assert_string_equal(a.account_code, "CUSA00SIM1");
	assert_int_equal(a.npackages, 2);
	assert_string_equal(a.packages[1], "Impersonation Protection [1060]");
	mc_account_free(&a);
	mc_client_free(c);

	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	net.base_url = base;
	net.app_id = "app";
	assert_int_equal(mc_discover(&net, "svc@acme.example", &found, &r), 0);
	assert_int_equal(r.cls, MC_OK);
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	assert_string_equal(found, base);
	pthread_mutex_lock(&mu);
	assert_string_equal(last_auth, "");  /* unsigned */
	assert_string_equal(last_appid, "app");
	assert_string_equal(last_body, "{\"data\":[{\"emailAddress\":\"svc@acme.example\"}]}");
	pthread_mutex_unlock(&mu);
	free(found);
	assert_int_equal(mc_discover(&net, "nobody@acme.example", &found, &r), 0);
	assert_int_equal(r.cls, MC_BAD_REQUEST);
	assert_null(found);
	assert_contains(r.remedy, "nobody@acme.example");
}

static void test_v2_token_refresh(void **state)
{
	mc_client *c = local_client("/v2", 2);
	struct mc_page_req req = { 0 };
	struct mc_page page;
	struct mc_result r;
	mw_buf resp;

	(void)state;
	mw_buf_init(&resp);
	mc_page_init(&page);
	req.lt = logtype_find("url");
	req.from = 1700000000;
	req.to = 1700003600;
	req.page_size = 100;
	/* tokA works once */
	assert_int_equal(mc_get_logs_page(c, &req, &resp, &page, &r), 0);
	assert_int_equal(r.cls, MC_OK);
	assert_int_equal(__atomic_load_n(&token_requests, __ATOMIC_SEQ_CST), 1);
	/* then is refused before its expiry without saying token_expired: one
	 * new token, one repeat, then ok */
	assert_int_equal(mc_get_logs_page(c, &req, &resp, &page, &r), 0);
	assert_int_equal(r.cls, MC_OK);
	assert_int_equal(page.nrecords, 1);
	assert_int_equal(__atomic_load_n(&token_requests, __ATOMIC_SEQ_CST), 2);
	pthread_mutex_lock(&mu);
	assert_string_equal(last_auth, "Bearer tokB");
	pthread_mutex_unlock(&mu);
	/* the cached token is reused */
	assert_int_equal(mc_get_logs_page(c, &req, &resp, &page, &r), 0);
	assert_int_equal(r.cls, MC_OK);
	assert_int_equal(__atomic_load_n(&token_requests, __ATOMIC_SEQ_CST), 2);
	mc_client_free(c);

	/* a third token is tokB again; a client whose secret is wrong is told so */
	{
		char base[128];
		struct mc_creds cr = { 0 };
		mw_err e;

		snprintf(base, sizeof(base), "http://127.0.0.1:%d/v2", port);
		cr.api = 2;
		cr.base_url = base;
		cr.client_id = "id";
		cr.client_secret = "wrong";
		c = mc_client_new(&cr, &e);
		assert_non_null(c);
		assert_int_equal(mc_get_logs_page(c, &req, &resp, &page, &r), 0);
		assert_int_equal(r.cls, MC_INVALID_SIGNATURE);
		assert_int_equal(r.http_status, 401);
		assert_string_equal(r.code, "invalid_client");
		assert_contains(r.remedy, "the Client ID or Client Secret was refused");
		assert_null(strstr(r.remedy, "Access Key"));
		assert_null(strstr(r.remedy, "Secret Key"));
		mc_client_free(c);

		/* a token refused right after it was issued is the credentials'
		 * fault: no second token, no loop */
		cr.client_id = "revoked";
		c = mc_client_new(&cr, &e);
		assert_non_null(c);
		int before = __atomic_load_n(&token_requests, __ATOMIC_SEQ_CST);
		assert_int_equal(mc_get_logs_page(c, &req, &resp, &page, &r), 0);
		assert_int_equal(r.cls, MC_INVALID_SIGNATURE);
		assert_int_equal(r.http_status, 401);
		assert_int_equal(__atomic_load_n(&token_requests, __ATOMIC_SEQ_CST), before + 1);
		assert_contains(r.remedy, "refused a token it had just issued");
		assert_null(strstr(r.remedy, "Access Key"));
		mc_client_free(c);
	}
	mc_page_free(&page);
	mw_buf_free(&resp);
}

static void test_abort_and_refused(void **state)
{
	mc_client *c = local_client("", 1);
	atomic_int flag = 1;
	mw_buf resp;
	struct mc_result r;
	struct mc_creds cr = { 0 };
	mw_err e;

	(void)state;
	mw_buf_init(&resp);
	mc_client_set_abort(c, &flag);
	assert_int_equal(mc_post(c, "/pace", "{}", &resp, NULL, &r), 0);
	assert_int_equal(r.cls, MC_RETRY);
	assert_string_equal(r.code, "CURLE_ABORTED_BY_CALLBACK");
	mc_client_free(c);

	/* nothing listens on port 1 of loopback: a transport error, retried */
	cr.api = 1;
	cr.base_url = "http://127.0.0.1:1";
	cr.app_id = cr.app_key = cr.access_key = "x";
	cr.secret_key = "U2VjcmV0S2V5";
	c = mc_client_new(&cr, &e);
	assert_non_null(c);
	assert_int_equal(mc_post(c, "/x", "{}", &resp, NULL, &r), 0);
	assert_int_equal(r.cls, MC_RETRY);
	assert_string_equal(r.code, "CURLE_COULDNT_CONNECT");
	assert_int_equal(r.http_status, 0);
	mc_client_free(c);

	/* a secret that is not base64 is a local failure */
	cr.base_url = "http://127.0.0.1:1";
	cr.secret_key = "not base64!";
	c = mc_client_new(&cr, &e);
	assert_int_equal(mc_post(c, "/x", "{}", &resp, NULL, &r), -1);
	assert_int_equal(r.cls, MC_UNKNOWN);
	assert_contains(r.remedy, "Secret Key");
	mc_client_free(c);
	mw_buf_free(&resp);
}

static void test_page_parse(void **state)
{
	const struct mw_logtype *lt = logtype_find("impersonation");
	struct mc_classify_ctx ctx = { NULL, 0, 1 };
	struct mc_page page;
	struct mc_result r;
	static const char empty[] = "{\"meta\":{\"status\":200,\"pagination\":{\"pageSize\":0,"
				    "\"totalCount\":0,\"next\":\"next\"}},\"data\":[],\"fail\":[]}";
	static const char wrong[] = "{\"meta\":{\"status\":200},\"data\":[{\"clickLogs\":[]}],"
				    "\"fail\":[]}";
	static const char nodata[] = "{\"meta\":{\"status\":200},\"fail\":[]}";

	(void)state;
	mc_page_init(&page);
	/* Mimecast's empty answer: ok, no records, next kept */
	mc_page_parse(&page, lt, 200, empty, strlen(empty), &ctx, &r);
	assert_int_equal(r.cls, MC_OK);
	assert_int_equal(page.records, -1);
	assert_int_equal(page.nrecords, 0);
	assert_string_equal(page.next, "next");
	/* data[0] without this type's array: malformed, retry */
	mc_page_parse(&page, lt, 200, wrong, strlen(wrong), &ctx, &r);
	assert_int_equal(r.cls, MC_RETRY);
	assert_contains(r.message, "data[0].impersonationLogs");
	assert_null(page.next);
	mc_page_parse(&page, lt, 200, nodata, strlen(nodata), &ctx, &r);
	assert_int_equal(r.cls, MC_RETRY);
	mc_page_free(&page);
}

static void run_validation(int mode, struct validate_report *rep, int *rc)
{
	char base[128];
	struct mw_integration in;

	memset(&in, 0, sizeof(in));
	snprintf(base, sizeof(base), "http://127.0.0.1:%d/val", port);
	in.name = (char *)"t";
	in.api = 1;
	in.base_url = base;
	in.app_id = (char *)"5f0e6d1c-1a2b-4c3d-9e8f-0a1b2c3d4e5f";
	in.app_key = (char *)"9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
	in.access_key.value = (char *)"AccessKey";
	in.secret_key.value = (char *)"U2VjcmV0S2V5";
	in.types = 7;
	__atomic_store_n(&v_account_calls, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&v_attach_calls, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&vmode, mode, __ATOMIC_SEQ_CST);
	*rc = validate_integration(&in, rep, NULL);
	__atomic_store_n(&vmode, 0, __ATOMIC_SEQ_CST);
}

static void test_validate_rows(void **state)
{
	struct validate_report rep;
	int64_t t0 = mw_mono_ms();
	int rc;

	(void)state;
	run_validation(1, &rep, &rc);
	assert_int_equal(rc, 1);
	assert_int_equal(rep.account_ok, 1);
	assert_string_equal(rep.account_name, "Acme \xc3\xa9");
	assert_string_equal(rep.account_code, "CUSA00SIM1");
	assert_int_equal(rep.nrows, 3);
	assert_string_equal(rep.rows[0].lt->name, "url");
	assert_int_equal(rep.rows[0].res.cls, MC_OK);
	assert_int_equal(rep.rows[0].records_seen, 1);
	assert_string_equal(rep.rows[1].lt->name, "impersonation");
	assert_int_equal(rep.rows[1].res.cls, MC_PERMISSION);
	assert_starts(rep.rows[1].res.remedy, "add `Monitoring | Impersonation Protection | "
		      "Read` to the service user's role");
	/* the 429 was waited out, then the 401: an allow-list would refuse
	 * every call, so a 401 on one type is no IP block; the remedy names the
	 * allow-list as a possible cause */
	assert_int_equal(rep.rows[2].res.cls, MC_INVALID_SIGNATURE);
	assert_int_equal(rep.rows[2].res.http_status, 401);
	assert_contains(rep.rows[2].res.remedy, "allow this host (");
	assert_int_equal(__atomic_load_n(&v_attach_calls, __ATOMIC_SEQ_CST), 2);
	assert_true(mw_mono_ms() - t0 >= 300);
	assert_int_equal(rep.ok_types, 1);

	run_validation(2, &rep, &rc);
	assert_int_equal(rep.rows[0].res.cls, MC_OK);
	assert_int_equal(rep.rows[2].res.cls, MC_NOT_LICENSED);
	assert_string_equal(rep.rows[2].res.remedy, "the account has no Attachment Protect package: "
			    "ask Mimecast to license it");

	/* err_developer_key is retried once before it counts */
	run_validation(3, &rep, &rc);
	assert_int_equal(__atomic_load_n(&v_account_calls, __ATOMIC_SEQ_CST), 2);
	assert_int_equal(rep.account_ok, 1);
	assert_int_equal(rep.account_res.cls, MC_OK);
}

static void test_validate_bad_config(void **state)
{
	struct validate_report rep;
	struct mw_integration in;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.api = 1;
	in.base_url = (char *)"http://eu-api.mimecast.com";
	in.types = 1;
	assert_int_equal(validate_integration(&in, &rep, NULL), 1);
	assert_int_equal(rep.nrows, 1);
	assert_int_equal(rep.rows[0].res.cls, MC_BAD_REQUEST);
	assert_contains(rep.rows[0].res.remedy, "base_url");
	assert_int_equal(rep.account_ok, 0);
}

int main(void)
{
	const struct CMUnitTest classify_tests[] = {
		cmocka_unit_test(test_names_keys),
		cmocka_unit_test(test_ok),
		cmocka_unit_test(test_wrong_app_id),
		cmocka_unit_test(test_invalid_signature),
		cmocka_unit_test(test_clock_skew),
		cmocka_unit_test(test_binding_expired),
		cmocka_unit_test(test_permission),
		cmocka_unit_test(test_ip_not_allowed),
		cmocka_unit_test(test_other_401),
		cmocka_unit_test(test_bad_request_statuses),
		cmocka_unit_test(test_retry_statuses),
		cmocka_unit_test(test_unknown_status),
		cmocka_unit_test(test_fail_never_ok),
		cmocka_unit_test(test_truncated_malformed),
		cmocka_unit_test(test_sanitise),
		cmocka_unit_test(test_reset_parse),
		cmocka_unit_test(test_clamp),
		cmocka_unit_test(test_regions),
		cmocka_unit_test(test_page_parse),
	};
	const struct CMUnitTest client_tests[] = {
		cmocka_unit_test(test_client_new_urls),
		cmocka_unit_test(test_redirect_refused),
		cmocka_unit_test(test_big_refused),
		cmocka_unit_test(test_429_gate),
		cmocka_unit_test(test_truncated_transfer),
		cmocka_unit_test(test_skew_from_date_header),
		cmocka_unit_test(test_pages_signed),
		cmocka_unit_test(test_account_discover),
		cmocka_unit_test(test_v2_token_refresh),
		cmocka_unit_test(test_abort_and_refused),
		cmocka_unit_test(test_validate_rows),
		cmocka_unit_test(test_validate_bad_config),
	};
	int failed = cmocka_run_group_tests(classify_tests, NULL, NULL);

	failed += cmocka_run_group_tests(client_tests, server_up, server_down);
	return failed ? 1 : 0;
}
