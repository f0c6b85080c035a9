/* test_mcapi.c - the Mimecast client's tokens and its 429 gate
 * (mimecast/client.c), against the simulated tenant run in-process
 * (libmwsim), one fresh tenant per test so every test has gates of its own
 * (a gate is keyed by api, base URL and key id, and the sim's port is new):
 *
 * - API 2.0: a token is fetched once and reused across requests, fetched
 *   again shortly before it expires; any 401 on a bearer request drops the
 *   token and asks once more with a new one (sim fault token_revoked); a
 *   refusal of a token fetched for that very request, or of the token
 *   request itself, is "invalid signature" and asks no more.
 * - The 429 gate (mc_client_not_before): X-RateLimit-Reset honoured and
 *   clamped, shared by every client of the same credentials and by none
 *   other, raised (never lowered) by mc_client_hold_until; pacing on
 *   X-RateLimit-Remaining.
 * - A 429 without X-RateLimit-Reset (sim fault gateway429): Retry-After
 *   when given, else 5 s doubling, shared by the credentials
 *   (mc_client_gateway_backoff), and reset by a 2xx from a log endpoint.
 *
 * Counts come from the sim's own statistics (GET /_sim/stats). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <json-c/json.h>

#include "mimecast/mimecast.h"
#include "simtest.h"
#include "sim/sim.h"
#include "util.h"

#define PATH_URL "/api/ttp/url/get-logs"
#define PATH_IMP "/api/ttp/impersonation/get-logs"
#define PATH_ACCOUNT "/api/account/get-account"
#define PATH_TOKEN "/oauth/token"
/* jitter adds 0..10% of a wait; the rest is the time a request took */
#define SLACK_MS 300

/* ---- the tenant ------------------------------------------------------------ */

static int64_t answered(struct sim *s, const char *path, const char *status)
{
	return simtest_stat(s, "status_by_path", path, status);
}

/* ---- clients ------------------------------------------------------------- */

static mc_client *client_v1(struct sim *s, const char *access_key)
{
	struct mc_creds cr;
	mc_client *c;
	mw_err e;

	memset(&cr, 0, sizeof(cr));
	cr.api = 1;
	cr.base_url = sim_base_url(s);
	cr.app_id = SIM_APP_ID;
	cr.app_key = SIM_APP_KEY;
	cr.access_key = access_key ? access_key : SIM_ACCESS_KEY;
	cr.secret_key = SIM_SECRET_KEY;
	c = mc_client_new(&cr, &e);
	if (!c)
		fail_msg("mc_client_new: %s", e.msg);
	return c;
}

static mc_client *client_v2(struct sim *s, const char *client_id, const char *secret)
{
	struct mc_creds cr;
	mc_client *c;
	mw_err e;

	memset(&cr, 0, sizeof(cr));
	cr.api = 2;
	cr.base_url = sim_base_url(s);
	cr.client_id = client_id ? client_id : SIM_CLIENT_ID;
	cr.client_secret = secret ? secret : SIM_CLIENT_SECRET;
	c = mc_client_new(&cr, &e);
	if (!c)
		fail_msg("mc_client_new: %s", e.msg);
	return c;
}

/* One page of 10 records of type from the last day; returns its records. */
static long page(mc_client *c, const char *type, struct mc_result *res)
{
	struct mc_page_req req;
	struct mc_page pg;
	mw_buf resp;
	long n;

	memset(&req, 0, sizeof(req));
	req.lt = logtype_find(type);
	assert_non_null(req.lt);
	req.to = mw_now();
	req.from = req.to - 86400;
	req.page_size = 10;
	mc_page_init(&pg);
	mw_buf_init(&resp);
	assert_int_equal(mc_get_logs_page(c, &req, &resp, &pg, res), 0);
	n = (long)pg.nrecords;
	mc_page_free(&pg);
	mw_buf_free(&resp);
	return n;
}

static void assert_ok_page(mc_client *c, const char *type)
{
	struct mc_result res;
	long n = page(c, type, &res);

	if (res.cls != MC_OK)
		fail_msg("%s page: %s (HTTP %ld %s): %s", type, mc_class_key(res.cls),
			 res.http_status, res.code, res.message);
	assert_int_equal(res.http_status, 200);
	assert_int_equal(n, 10);
}

/* The "next request in N s" of a gateway remedy. */
static long remedy_wait_s(const struct mc_result *res)
{
	const char *p = strstr(res->remedy, "next request in ");

	if (!p)
		fail_msg("no wait in remedy: %s", res->remedy);
	return strtol(p + 16, NULL, 10);
}

/* ---- API 2.0 tokens --------------------------------------------------------- */

static void test_token_fetched_once_and_reused(void **state)
{
	struct sim *s = simtest_start(0, 0, 0);
	mc_client *c = client_v2(s, NULL, NULL);
	struct mc_account acct;
	struct mc_result res;

	(void)state;
	assert_int_equal(simtest_requests(s, PATH_TOKEN), 0);
	assert_ok_page(c, "url");
	assert_int_equal(simtest_requests(s, PATH_TOKEN), 1);
	assert_ok_page(c, "url");
	assert_ok_page(c, "impersonation");
	assert_int_equal(mc_get_account(c, &acct, &res), 0);
	assert_int_equal(res.cls, MC_OK);
	mc_account_free(&acct);
	assert_int_equal(simtest_requests(s, PATH_TOKEN), 1);
	assert_int_equal(simtest_requests(s, PATH_URL), 2);
	assert_int_equal(simtest_requests(s, PATH_IMP), 1);
	assert_int_equal(simtest_requests(s, PATH_ACCOUNT), 1);
	/* token requests are not counted as requests */
	assert_int_equal(mc_client_requests(c), 4);
	mc_client_free(c);
	sim_stop(s);
}

static void test_token_refreshed_before_expiry(void **state)
{
	/* expires_in 2: refreshed once less than a quarter of it is left */
	struct sim *s = simtest_start(2, 0, 0);
	mc_client *c = client_v2(s, NULL, NULL);
	int64_t t0 = mw_mono_ms();

	(void)state;
	assert_ok_page(c, "url");
	assert_ok_page(c, "url");
	assert_int_equal(simtest_requests(s, PATH_TOKEN), 1);
	if (mw_mono_ms() - t0 > 1200)
		skip();  /* too slow a host to tell fresh from stale */
	while (mw_mono_ms() - t0 < 1600)
		mw_sleep_ms(50);
	assert_ok_page(c, "url");
	assert_int_equal(simtest_requests(s, PATH_TOKEN), 2);
	assert_ok_page(c, "url");
	assert_int_equal(simtest_requests(s, PATH_TOKEN), 2);
	/* no 401 was needed for it */
	assert_int_equal(answered(s, PATH_URL, "401"), 0);
	assert_int_equal(mc_client_requests(c), 4);
	mc_client_free(c);
	sim_stop(s);
}

static void test_401_drops_token_and_refetches_once(void **state)
{
	struct sim *s = simtest_start(0, 0, 0);
	mc_client *c = client_v2(s, NULL, NULL);

	(void)state;
	assert_ok_page(c, "url");
	assert_int_equal(simtest_requests(s, PATH_TOKEN), 1);
	/* every token issued so far is refused from the next url request on */
	simtest_faults(s, "token_revoked:type=url");
	assert_ok_page(c, "url");
	assert_int_equal(simtest_requests(s, PATH_TOKEN), 2);
	assert_int_equal(simtest_requests(s, PATH_URL), 3);  /* ok, 401, ok again */
	assert_int_equal(answered(s, PATH_URL, "401"), 1);
	assert_int_equal(answered(s, PATH_URL, "200"), 2);
	assert_int_equal(mc_client_requests(c), 3);  /* the repeat counts */
	/* the new token is kept */
	assert_ok_page(c, "url");
	assert_ok_page(c, "impersonation");
	assert_int_equal(simtest_requests(s, PATH_TOKEN), 2);
	assert_int_equal(answered(s, PATH_URL, "401"), 1);
	mc_client_free(c);
	sim_stop(s);
}

static void test_refused_token_is_invalid_signature(void **state)
{
	struct sim *s = simtest_start(0, 0, 0);
	mc_client *c = client_v2(s, NULL, NULL), *fresh;
	struct mc_result res;

	(void)state;
	assert_ok_page(c, "url");
	/* count=0: every bearer request fails, fresh tokens too */
	simtest_faults(s, "token_revoked:count=0");
	assert_int_equal(page(c, "url", &res), 0);
	assert_int_equal(res.cls, MC_INVALID_SIGNATURE);
	assert_int_equal(res.http_status, 401);
	assert_int_equal(res.retryable, 0);
	assert_string_equal(res.code, "unauthorized");
	assert_memory_equal(res.remedy, "Mimecast refused a token it had just issued for this "
			    "Client ID", 60);
	/* one new token, one repeat: no loop */
	assert_int_equal(simtest_requests(s, PATH_TOKEN), 2);
	assert_int_equal(simtest_requests(s, PATH_URL), 3);
	assert_int_equal(mc_client_requests(c), 3);

	/* a token fetched for this very request and refused: asked once */
	fresh = client_v2(s, NULL, NULL);
	assert_int_equal(page(fresh, "url", &res), 0);
	assert_int_equal(res.cls, MC_INVALID_SIGNATURE);
	assert_int_equal(res.http_status, 401);
	assert_int_equal(simtest_requests(s, PATH_TOKEN), 3);
	assert_int_equal(simtest_requests(s, PATH_URL), 4);
	assert_int_equal(mc_client_requests(fresh), 1);
	mc_client_free(fresh);
	mc_client_free(c);
	sim_stop(s);
}

static void test_wrong_secret_refused_at_token(void **state)
{
	struct sim *s = simtest_start(0, 0, 0);
	mc_client *c = client_v2(s, NULL, "not-the-client-secret-42");
	struct mc_result res;

	(void)state;
	assert_int_equal(page(c, "url", &res), 0);
	assert_int_equal(res.cls, MC_INVALID_SIGNATURE);
	assert_int_equal(res.http_status, 401);
	assert_int_equal(res.retryable, 0);
	assert_memory_equal(res.remedy, "the Client ID or Client Secret was refused", 42);
	assert_null(strstr(res.remedy, "not-the-client-secret-42"));
	assert_null(strstr(res.message, "not-the-client-secret-42"));
	/* the log endpoint was never asked */
	assert_int_equal(simtest_requests(s, PATH_TOKEN), 1);
	assert_int_equal(simtest_requests(s, PATH_URL), 0);
	assert_int_equal(mc_client_requests(c), 0);
	/* a wrong client id: the same */
	mc_client_free(c);
	c = client_v2(s, "not-the-client", NULL);
	assert_int_equal(page(c, "url", &res), 0);
	assert_int_equal(res.cls, MC_INVALID_SIGNATURE);
	assert_int_equal(simtest_requests(s, PATH_URL), 0);
	mc_client_free(c);
	sim_stop(s);
}

/* ---- the 429 gate ------------------------------------------------------------- */

static void test_429_reset_honoured_and_shared(void **state)
{
	struct sim *s = simtest_start(0, 0, 0);
	mc_client *a = client_v1(s, NULL), *b = client_v1(s, NULL);
	mc_client *other_key = client_v1(s, "mwsim-access-someone-else");
	mc_client *v2 = client_v2(s, NULL, NULL), *late;
	struct mc_result res;
	int64_t t0, t1, nb, limit, remaining, reset;

	(void)state;
	assert_int_equal(mc_client_not_before(a), 0);
	assert_int_equal(mc_client_not_before(b), 0);
	simtest_faults(s, "429:type=url,reset=1500");
	t0 = mw_mono_ms();
	assert_int_equal(page(a, "url", &res), 0);
	t1 = mw_mono_ms();
	assert_int_equal(res.cls, MC_RETRY);
	assert_int_equal(res.http_status, 429);
	assert_int_equal(res.rl_reset_ms, 1500);
	mc_client_ratelimit(a, &limit, &remaining, &reset);
	assert_int_equal(reset, 1500);
	nb = mc_client_not_before(a);
	assert_true(nb >= t0 + 1500);
	assert_true(nb <= t1 + 1650);
	/* a reset was given: this is no gateway backoff */
	assert_int_equal(mc_client_gateway_backoff(a), 0);
	/* the same credentials wait too; other credentials do not */
	assert_int_equal(mc_client_not_before(b), nb);
	assert_int_equal(mc_client_not_before(other_key), 0);
	assert_int_equal(mc_client_not_before(v2), 0);
	/* b never asked: nothing of the 429 in its own figures */
	mc_client_ratelimit(b, &limit, &remaining, &reset);
	assert_int_equal(reset, -1);

	/* hold_until: shared both ways, only ever raised */
	mc_client_hold_until(b, nb + 5000);
	assert_int_equal(mc_client_not_before(a), nb + 5000);
	mc_client_hold_until(a, nb);
	assert_int_equal(mc_client_not_before(a), nb + 5000);
	assert_int_equal(mc_client_not_before(b), nb + 5000);
	mc_client_hold_until(other_key, nb + 100);
	assert_int_equal(mc_client_not_before(other_key), nb + 100);
	assert_int_equal(mc_client_not_before(a), nb + 5000);
	assert_int_equal(mc_client_not_before(v2), 0);
	/* a client made later with the same credentials (a reload) joins it */
	late = client_v1(s, NULL);
	assert_int_equal(mc_client_not_before(late), nb + 5000);
	mc_client_free(late);
	mc_client_free(a);
	mc_client_free(b);
	mc_client_free(other_key);
	mc_client_free(v2);
	sim_stop(s);
}

static void test_429_reset_clamped(void **state)
{
	struct sim *s = simtest_start(0, 0, 0);
	mc_client *c = client_v1(s, NULL);
	struct mc_result res;
	int64_t t0, t1, nb;

	(void)state;
	/* 0 ms: at least 100 ms */
	simtest_faults(s, "429:type=url,reset=0");
	t0 = mw_mono_ms();
	page(c, "url", &res);
	t1 = mw_mono_ms();
	assert_int_equal(res.http_status, 429);
	assert_int_equal(res.rl_reset_ms, 0);
	nb = mc_client_not_before(c);
	assert_true(nb >= t0 + 100);
	assert_true(nb <= t1 + 110);
	/* unreadable: 5 s, as for no reset at all */
	simtest_faults(s, "429:type=url,reset=abc");
	t0 = mw_mono_ms();
	page(c, "url", &res);
	t1 = mw_mono_ms();
	assert_int_equal(res.http_status, 429);
	assert_int_equal(res.rl_reset_ms, -1);
	nb = mc_client_not_before(c);
	assert_true(nb >= t0 + 5000);
	assert_true(nb <= t1 + 5500);
	/* an hour: at most 15 minutes */
	simtest_faults(s, "429:type=url,reset=3600000");
	t0 = mw_mono_ms();
	page(c, "url", &res);
	t1 = mw_mono_ms();
	assert_int_equal(res.http_status, 429);
	assert_int_equal(res.rl_reset_ms, 3600000);
	nb = mc_client_not_before(c);
	assert_true(nb >= t0 + 900000);
	assert_true(nb <= t1 + 990000);
	mc_client_free(c);
	sim_stop(s);
}

static void test_pacing_on_remaining(void **state)
{
	/* a bucket of 3, one back every 2 s */
	struct sim *s = simtest_start(0, 3, 2000);
	mc_client *c = client_v1(s, NULL);
	struct mc_result res;
	int64_t t1;

	(void)state;
	assert_int_equal(page(c, "url", &res), 10);
	assert_int_equal(res.cls, MC_OK);
	assert_int_equal(res.rl_limit, 3);
	assert_int_equal(res.rl_remaining, 2);
	assert_int_equal(mc_client_not_before(c), 0);
	page(c, "url", &res);
	t1 = mw_mono_ms();
	assert_int_equal(res.cls, MC_OK);
	assert_int_equal(res.rl_remaining, 1);
	/* one left: hold until the bucket gives one back */
	assert_true(res.rl_reset_ms > 0 && res.rl_reset_ms <= 2000);
	assert_true(mc_client_not_before(c) >= t1 - SLACK_MS + res.rl_reset_ms);
	assert_true(mc_client_not_before(c) <= t1 + res.rl_reset_ms);
	assert_int_equal(simtest_stat(s, "early_requests", NULL, NULL), 0);
	mc_client_free(c);
	sim_stop(s);
}

/* ---- the gateway's 429 without a reset --------------------------------------- */

static void test_gateway_backoff_doubles_shared_and_resets(void **state)
{
	struct sim *s = simtest_start(0, 0, 0);
	mc_client *a = client_v1(s, NULL), *b = client_v1(s, NULL);
	mc_client *other_key = client_v1(s, "mwsim-access-someone-else");
	struct mc_result res;
	int64_t t0, t1, nb;

	(void)state;
	simtest_faults(s, "gateway429:type=url,hold=60");
	t0 = mw_mono_ms();
	page(a, "url", &res);
	t1 = mw_mono_ms();
	assert_int_equal(res.cls, MC_RETRY);
	assert_int_equal(res.http_status, 429);
	assert_int_equal(res.rl_reset_ms, -1);
	nb = mc_client_not_before(a);
	assert_true(nb >= t0 + 5000);
	assert_true(nb <= t1 + 5500);
	assert_true(remedy_wait_s(&res) >= 5 && remedy_wait_s(&res) <= 6);
	assert_non_null(strstr(res.remedy, "throttled by the API gateway"));
	assert_non_null(strstr(res.remedy, "no reset given: backing off, doubling up to 15 min"));
	assert_int_equal(mc_client_gateway_backoff(a), 1);
	assert_int_equal(mc_client_gateway_backoff(b), 1);
	assert_int_equal(mc_client_gateway_backoff(other_key), 0);
	assert_int_equal(mc_client_not_before(b), nb);
	assert_int_equal(mc_client_not_before(other_key), 0);

	/* doubling: 10 s, then 20 s through the other client of the keys */
	t0 = mw_mono_ms();
	page(a, "url", &res);
	t1 = mw_mono_ms();
	assert_int_equal(res.http_status, 429);
	nb = mc_client_not_before(a);
	assert_true(nb >= t0 + 10000);
	assert_true(nb <= t1 + 11000);
	assert_true(remedy_wait_s(&res) >= 10 && remedy_wait_s(&res) <= 11);
	t0 = mw_mono_ms();
	page(b, "url", &res);
	t1 = mw_mono_ms();
	assert_int_equal(res.http_status, 429);
	nb = mc_client_not_before(a);
	assert_true(nb >= t0 + 20000);
	assert_true(nb <= t1 + 22000);
	assert_int_equal(mc_client_not_before(b), nb);
	assert_true(remedy_wait_s(&res) >= 20 && remedy_wait_s(&res) <= 22);
	assert_int_equal(answered(s, PATH_URL, "429"), 3);

	/* get-account answering is no log endpoint: the backoff stays */
	{
		struct mc_account acct;

		assert_int_equal(mc_get_account(b, &acct, &res), 0);
		assert_int_equal(res.cls, MC_OK);
		mc_account_free(&acct);
	}
	assert_int_equal(mc_client_gateway_backoff(a), 1);
	/* a 2xx from a log endpoint (impersonation is not throttled) ends it */
	assert_ok_page(b, "impersonation");
	assert_int_equal(mc_client_gateway_backoff(a), 0);
	assert_int_equal(mc_client_gateway_backoff(b), 0);
	/* ... so the next throttled answer starts again from 5 s */
	page(a, "url", &res);
	assert_int_equal(res.http_status, 429);
	assert_true(remedy_wait_s(&res) >= 5 && remedy_wait_s(&res) <= 6);
	assert_int_equal(mc_client_gateway_backoff(b), 1);
	mc_client_free(a);
	mc_client_free(b);
	mc_client_free(other_key);
	sim_stop(s);
}

static void test_gateway_retry_after_honoured(void **state)
{
	struct sim *s = simtest_start(0, 0, 0);
	mc_client *c = client_v1(s, NULL);
	struct mc_result res;
	int64_t t0, t1, nb;

	(void)state;
	simtest_faults(s, "gateway429:type=url,hold=60,retry_after=7");
	t0 = mw_mono_ms();
	page(c, "url", &res);
	t1 = mw_mono_ms();
	assert_int_equal(res.http_status, 429);
	nb = mc_client_not_before(c);
	assert_true(nb >= t0 + 7000);
	assert_true(nb <= t1 + 7700);
	assert_non_null(strstr(res.remedy, "(Retry-After)"));
	assert_true(remedy_wait_s(&res) >= 7 && remedy_wait_s(&res) <= 8);
	/* the server named its wait: no backoff of ours to double */
	assert_int_equal(mc_client_gateway_backoff(c), 0);
	page(c, "url", &res);
	assert_int_equal(res.http_status, 429);
	assert_true(remedy_wait_s(&res) >= 7 && remedy_wait_s(&res) <= 8);
	mc_client_free(c);
	sim_stop(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_fetched_once_and_reused),
		cmocka_unit_test(test_token_refreshed_before_expiry),
		cmocka_unit_test(test_401_drops_token_and_refetches_once),
		cmocka_unit_test(test_refused_token_is_invalid_signature),
		cmocka_unit_test(test_wrong_secret_refused_at_token),
		cmocka_unit_test(test_429_reset_honoured_and_shared),
		cmocka_unit_test(test_429_reset_clamped),
		cmocka_unit_test(test_pacing_on_remaining),
		cmocka_unit_test(test_gateway_backoff_doubles_shared_and_resets),
		cmocka_unit_test(test_gateway_retry_after_honoured),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
