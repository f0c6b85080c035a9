/* test_scrub.c - secrets echoed by a server: every form of a secret (raw,
 * base64, percent-encoded, JSON-escaped), the keyword rules, short secrets
 * left alone, text that never grows, and why the scrub must come before a
 * message is cut to fit its buffer. */
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mimecast/mimecast.h"
#include "jsonscan.h"
#include "scrub.h"
#include "util.h"

#define SECRET "mwcanarySK+/=Zx9\"q\\7&k%w"   /* every kind of awkward byte */
#define TOKEN "mwtok-4b1f9c0e2d7a"

static scrub_set *set_with(const char *a, const char *b)
{
	scrub_set *s = scrub_set_new();

	scrub_set_add(s, a);
	scrub_set_add(s, b);
	return s;
}

/* Scrubs a copy of text and returns it (static). */
static const char *scrubbed(const scrub_set *s, const char *text, size_t *hits)
{
	static char buf[4096];
	size_t n;

	snprintf(buf, sizeof(buf), "%s", text);
	n = scrub_text(s, buf);
	if (hits)
		*hits = n;
	return buf;
}

static void percent(const char *in, char *out, int upper)
{
	const char *hex = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	for (; *in; in++) {
		unsigned char c = (unsigned char)*in;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    strchr("-._~", c)) {
			*out++ = (char)c;
		} else {
			*out++ = '%';
			*out++ = hex[c >> 4];
			*out++ = hex[c & 15];
		}
	}
	*out = '\0';
}

static void test_raw(void **state)
{
	scrub_set *s = set_with(SECRET, TOKEN);
	size_t hits;

	(void)state;
	assert_int_equal(scrub_set_count(s), 2);
	assert_string_equal(scrubbed(s, "key " SECRET " refused", &hits), "key [secret] refused");
	assert_int_equal(hits, 1);
	assert_string_equal(scrubbed(s, TOKEN TOKEN "-" SECRET, &hits), "[secret][secret]-[secret]");
	assert_int_equal(hits, 3);
	assert_string_equal(scrubbed(s, "nothing here", &hits), "nothing here");
	assert_int_equal(hits, 0);
	/* after a keyword, the whole secret goes, though a quote or '&' in it
	 * ends the keyword's value */
	assert_string_equal(scrubbed(s, "Bearer " SECRET " x", NULL), "Bearer [secret] x");
	assert_string_equal(scrubbed(s, "client_secret=ab" SECRET "&y", NULL),
			    "client_secret=[secret]&y");
	/* Adding a secret twice keeps one. */
	scrub_set_add(s, TOKEN);
	assert_int_equal(scrub_set_count(s), 2);
	scrub_set_free(s);
}

static void test_base64(void **state)
{
	scrub_set *s = set_with(SECRET, "passwd-1");
	char *b64 = mw_base64_encode(SECRET, strlen(SECRET));
	char text[256];

	(void)state;
	snprintf(text, sizeof(text), "sent %s as the key", b64);
	assert_string_equal(scrubbed(s, text, NULL), "sent [secret] as the key");
	/* padded, and unpadded as some encoders write it */
	assert_string_equal(scrubbed(s, "basic cGFzc3dkLTE= or cGFzc3dkLTE;", NULL),
			    "basic [secret] or [secret];");
	free(b64);
	scrub_set_free(s);
}

static void test_percent_encoded(void **state)
{
	scrub_set *s = set_with(SECRET, NULL);
	char enc[256], text[512];

	(void)state;
	percent(SECRET, enc, 1);
	assert_null(strstr(enc, "+"));  /* it really is encoded */
	snprintf(text, sizeof(text), "form: a=%s;b", enc);
	assert_string_equal(scrubbed(s, text, NULL), "form: a=[secret];b");
	percent(SECRET, enc, 0);
	snprintf(text, sizeof(text), "a=%s;b", enc);
	assert_string_equal(scrubbed(s, text, NULL), "a=[secret];b");
	scrub_set_free(s);
}

static void test_json_escaped(void **state)
{
	scrub_set *s = set_with(SECRET, NULL);
	char *b64 = mw_base64_encode(SECRET, strlen(SECRET));
	char text[512], esc[256];
	size_t j = 0;

	(void)state;
	/* minimal escaping: " and \ only */
	assert_string_equal(scrubbed(s, "{\"m\":\"mwcanarySK+/=Zx9\\\"q\\\\7&k%w\"}", NULL),
			    "{\"m\":\"[secret]\"}");
	/* json-c and PHP also escape '/' */
	assert_string_equal(scrubbed(s, "{\"m\":\"mwcanarySK+\\/=Zx9\\\"q\\\\7&k%w\"}", NULL),
			    "{\"m\":\"[secret]\"}");
	/* the base64 form, quoted by such an encoder */
	for (const char *p = b64; *p; p++) {
		if (*p == '/')
			esc[j++] = '\\';
		esc[j++] = *p;
	}
	esc[j] = '\0';
	snprintf(text, sizeof(text), "{\"m\":\"%s\"}", esc);
	assert_string_equal(scrubbed(s, text, NULL), "{\"m\":\"[secret]\"}");
	free(b64);
	scrub_set_free(s);
}

/* A message cut to its buffer (mc_result.message: 384 bytes) with the
 * secret across the cut: scrubbed first, nothing of it is left; cut first,
 * its first half survives. Every cut position inside the secret. */
static void test_truncation_boundary(void **state)
{
	scrub_set *s = set_with(SECRET, NULL);
	size_t sl = strlen(SECRET);
	char prefix[8];

	(void)state;
	memcpy(prefix, SECRET, 6);
	prefix[6] = '\0';
	for (size_t k = 6; k < sl; k++) {
		char full[1024], cut[384], bad[384];
		size_t pad = sizeof(cut) - 1 - k;

		memset(full, '.', pad);
		snprintf(full + pad, sizeof(full) - pad, "%s trailing words", SECRET);
		/* the right order: scrub the whole text, then cut */
		scrub_text(s, full);
		mc_sanitize_copy(cut, sizeof(cut), full, strlen(full));
		assert_null(strstr(cut, prefix));
		/* the wrong order leaks k bytes of the secret */
		memset(full, '.', pad);
		snprintf(full + pad, sizeof(full) - pad, "%s trailing words", SECRET);
		mc_sanitize_copy(bad, sizeof(bad), full, strlen(full));
		scrub_text(s, bad);
		assert_non_null(strstr(bad, prefix));
	}
	scrub_set_free(s);
}

static void test_keywords(void **state)
{
	size_t hits;

	(void)state;
	/* API 1.0 and 2.0 headers, quoted: scheme and credentials go */
	assert_string_equal(scrubbed(NULL, "refused Authorization: MC mwsim-access:c2lnbmF0dXJl "
				     "(check keys)", NULL), "refused Authorization: [secret] (check keys)");
	assert_string_equal(scrubbed(NULL, "authorization: bearer eyJhbGci.eyJzdWIi.c2ln", NULL),
			    "authorization: [secret]");
	assert_string_equal(scrubbed(NULL, "{'Authorization': 'Splunk hec-0123456789'}", NULL),
			    "{'Authorization': '[secret]'}");
	assert_string_equal(scrubbed(NULL, "{\"Authorization\":\"ApiKey ZXM6a2V5MTIzNA==\"}",
				     NULL), "{\"Authorization\":\"[secret]\"}");
	/* Bearer alone */
	assert_string_equal(scrubbed(NULL, "token Bearer 0a1b2c3d4e5f6a7b8c9d expired", NULL),
			    "token Bearer [secret] expired");
	/* a posted form: client_secret's value, up to the next & */
	assert_string_equal(scrubbed(NULL, "bad form client_id=mw&client_secret=s3cr3t%2B%2F%3Dxyz"
				     "&grant_type=client_credentials", NULL),
			    "bad form client_id=mw&client_secret=[secret]&grant_type=client_credentials");
	assert_string_equal(scrubbed(NULL, "{'client_secret': ['hunter2-hunter2']}", NULL),
			    "{'client_secret': ['[secret]']}");
	/* shorter than the marker: as many stars, the text never grows */
	assert_string_equal(scrubbed(NULL, "Bearer abc", NULL), "Bearer ***");
	/* only a scheme (letters) takes the credentials after it along */
	assert_string_equal(scrubbed(NULL, "Authorization=abc12345 and more", NULL),
			    "Authorization=[secret] and more");
	/* scrubbing twice changes nothing */
	assert_string_equal(scrubbed(NULL, "Authorization: [secret]; client_secret=[secret]&x; "
				     "Bearer ***", &hits),
			    "Authorization: [secret]; client_secret=[secret]&x; Bearer ***");
	assert_int_equal(hits, 0);
	assert_string_equal(scrubbed(NULL, "{'client_secret': ['[secret]']}", NULL),
			    "{'client_secret': ['[secret]']}");
	/* words that only look like a keyword stay */
	assert_string_equal(scrubbed(NULL, "Authorization failed; no bearer", NULL),
			    "Authorization failed; no bearer");
	assert_string_equal(scrubbed(NULL, "client_secret is wrong", NULL),
			    "client_secret is wrong");
}

/* Scrubbed JSON text is still JSON: a value ends before an escaped quote,
 * never inside an escape. */
static void test_json_stays_json(void **state)
{
	scrub_set *s = set_with(SECRET, TOKEN);
	const char *body = "{\"fail\":[{\"errors\":[{\"code\":\"err_xdk_auth\",\"message\":"
			   "\"header \\\"Authorization: Bearer " TOKEN "\\\" refused; form "
			   "client_secret=ab\\/cd\\u0026x\\\"; key mwcanarySK+\\/=Zx9\\\"q\\\\7&k%w"
			   "\\nBearer tail\"}]}]}";
	mw_buf b, dec;
	js_doc d;
	mw_err e;
	int msg;

	(void)state;
	mw_buf_init(&b);
	mw_buf_puts(&b, body);
	assert_true(scrub_buf(s, &b) >= 3);
	assert_int_equal(b.len, strlen(b.data));
	js_init(&d);
	assert_int_equal(js_parse(&d, b.data, b.len, &e), 0);
	msg = js_path(&d, 0, "fail[0].errors[0].message");
	assert_true(msg >= 0);
	mw_buf_init(&dec);
	assert_int_equal(js_str(&d, msg, &dec), 0);
	assert_string_equal(dec.data, "header \"Authorization: [secret]\" refused; form "
			    "client_secret=[secret]\"; key [secret]\nBearer ****");
	mw_buf_free(&dec);
	js_free(&d);
	mw_buf_free(&b);
	scrub_set_free(s);
}

static void test_short_secrets_ignored(void **state)
{
	scrub_set *s = scrub_set_new();

	(void)state;
	scrub_set_add(s, "abc12");     /* 5 bytes: would garble text, ignored */
	scrub_set_add(s, "");
	scrub_set_add(s, NULL);
	assert_int_equal(scrub_set_count(s), 0);
	assert_string_equal(scrubbed(s, "abc12 abc123", NULL), "abc12 abc123");
	scrub_set_add(s, "abc123");    /* SCRUB_MIN_SECRET bytes: taken */
	assert_int_equal(scrub_set_count(s), 1);
	/* shorter than the marker, so stars of the same length */
	assert_string_equal(scrubbed(s, "abc12 abc123.", NULL), "abc12 ******.");
	scrub_set_free(s);
}

/* The longest form at a position wins; text only ever shrinks, and what it
 * shrank from is cleared; NUL bytes inside a buffer are scanned past. */
static void test_buffers(void **state)
{
	scrub_set *s = set_with("abcdefgh", "abcdefghijkl");
	char buf[] = "x abcdefghijkl y";
	char mem[] = "pre\0abcdefghijkl\0post";
	size_t n, len = sizeof(mem) - 1;

	(void)state;
	assert_string_equal(scrubbed(s, "abcdefghijkl abcdefgh", NULL), "[secret] [secret]");
	n = scrub_mem(s, buf, strlen(buf));
	assert_int_equal(n, strlen("x [secret] y"));
	assert_memory_equal(buf, "x [secret] y", n);
	for (size_t i = n; i < sizeof(buf) - 1; i++)
		assert_int_equal(buf[i], 0);
	n = scrub_mem(s, mem, len);
	assert_int_equal(n, 4 + 8 + 5);
	assert_memory_equal(mem, "pre\0[secret]\0post", n);
	scrub_set_clear(s);
	assert_int_equal(scrub_set_count(s), 0);
	assert_string_equal(scrubbed(s, "abcdefghijkl", NULL), "abcdefghijkl");
	scrub_set_add(s, TOKEN);  /* usable after clear */
	assert_string_equal(scrubbed(s, TOKEN, NULL), "[secret]");
	scrub_set_free(s);
	scrub_set_free(NULL);
	assert_int_equal(scrub_text(NULL, NULL), 0);
}

/* ---- the Mimecast client: the whole answer is scrubbed, then cut ---------- */

#define ECHO_ACCESS_KEY "mwAccessKey-7f3e9a1c5b2d4e6f8a0b1c2d3e4f5a6b"
#define ECHO_CLIENT_SECRET "mwClientSecret+/=9c8b7a6f5e4d3c2b1a0f"

/* Every request gets a 401 whose message quotes a credential, after no
 * keyword, across the 383rd character, where mc_result.message ends:
 * the access key in a fail[] message, the client secret in the token
 * endpoint's error_description. */
static enum MHD_Result echo_handler(void *cls, struct MHD_Connection *conn, const char *url,
				    const char *method, const char *version, const char *upload,
				    size_t *upload_size, void **ptr)
{
	int token = strcmp(url, "/oauth/token") == 0;
	const char *secret = token ? ECHO_CLIENT_SECRET : ECHO_ACCESS_KEY;
	size_t pad = 383 - strlen("the key ") - strlen(secret) / 2;
	char msg[600], body[900];
	struct MHD_Response *r;
	enum MHD_Result ret;

	(void)cls, (void)method, (void)version, (void)upload;
	if (!*ptr) {
		*ptr = conn;
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0;
		return MHD_YES;
	}
	memset(msg, '.', pad);
	snprintf(msg + pad, sizeof(msg) - pad, "the key %s is not valid here", secret);
	if (token)
		snprintf(body, sizeof(body), "{\"error\":\"invalid_client\",\"error_description\":"
			 "\"%s\"}", msg);
	else
		snprintf(body, sizeof(body), "{\"meta\":{\"status\":401},\"data\":[],\"fail\":[{"
			 "\"errors\":[{\"code\":\"err_xdk_invalid_signature\",\"message\":\"%s\","
			 "\"retryable\":false}]}]}", msg);
	r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(r, "Content-Type", "application/json");
	ret = MHD_queue_response(conn, 401, r);
	MHD_destroy_response(r);
	return ret;
}

static void test_client_scrubs_before_cutting(void **state)
{
	struct sockaddr_in sa;
	struct MHD_Daemon *mhd;
	const union MHD_DaemonInfo *info;
	char base[64];

	(void)state;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  /* tests talk to loopback only */
	mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, echo_handler,
			       NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_END);
	assert_non_null(mhd);
	info = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_BIND_PORT);
	assert_non_null(info);
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", (int)info->port);
	for (int api = 1; api <= 2; api++) {
		struct mc_creds cr = { 0 };
		struct mc_account acct;
		struct mc_result res;
		mc_client *c;
		mw_err e;

		cr.api = api;
		cr.base_url = base;
		cr.app_id = "5f0e6d1c-1a2b-4c3d-9e8f-0a1b2c3d4e5f";
		cr.app_key = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
		cr.access_key = ECHO_ACCESS_KEY;
		cr.secret_key = "U2VjcmV0S2V5";
		cr.client_id = "mw-client";
		cr.client_secret = ECHO_CLIENT_SECRET;
		c = mc_client_new(&cr, &e);
		assert_non_null(c);
		mc_get_account(c, &acct, &res);
		assert_int_equal(res.http_status, 401);
		assert_int_equal(res.cls, MC_INVALID_SIGNATURE);
		/* reported, the key replaced; not its first half, cut off */
		assert_non_null(strstr(res.message, "the key [secret] is not"));
		assert_null(strstr(res.message, api == 1 ? "mwAccess" : "mwClient"));
		assert_null(strstr(res.remedy, api == 1 ? "mwAccess" : "mwClient"));
		mc_account_free(&acct);
		mc_client_free(c);
	}
	MHD_stop_daemon(mhd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_raw),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_percent_encoded),
		cmocka_unit_test(test_json_escaped),
		cmocka_unit_test(test_truncation_boundary),
		cmocka_unit_test(test_keywords),
		cmocka_unit_test(test_json_stays_json),
		cmocka_unit_test(test_short_secrets_ignored),
		cmocka_unit_test(test_buffers),
		cmocka_unit_test(test_client_scrubs_before_cutting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
