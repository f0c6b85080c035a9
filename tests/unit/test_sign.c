/* test_sign.c - the API 1.0 signing vectors (HACKING, "Signing (API 1.0)"):
 * the public one from go-mimecast's tests and our own, byte for byte,
 * including the "wrong URI form" negatives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "mimecast/mimecast.h"

#define PUB_DATE "Sun, 21 Aug 2022 13:49:40 UTC"
#define PUB_REQ "3d796b76-4180-40e5-8f7c-6e0fd643b1a9"
#define SELF_DATE "Tue, 24 Nov 2015 12:50:11 UTC"
#define SELF_REQ "8578FCFC-A305-4D9A-99CB-F4D5ECEFE297"
#define SECRET "U2VjcmV0S2V5"

static void expect_sig(const char *date, const char *req, const char *path, const char *secret,
		       const char *want)
{
	char sig[64];

	assert_int_equal(mcsign_signature(date, req, path, "ApplicationKey", secret, sig,
					  sizeof(sig)), 0);
	assert_string_equal(sig, want);
}

static void test_public_vector(void **state)
{
	char auth[128];

	(void)state;
	assert_int_equal(mcsign_authorization(PUB_DATE, PUB_REQ, "/api/test/some-url",
					      "ApplicationKey", "AccessKey", SECRET, auth,
					      sizeof(auth)), 0);
	assert_string_equal(auth, "MC AccessKey:WOywLsnZlsE+D6bp/ug6uch5kxc=");
}

static void test_wrong_forms(void **state)
{
	(void)state;
	/* Older go-mimecast: EDT date and the full URL. */
	expect_sig("Sun, 21 Aug 2022 13:49:40 EDT", PUB_REQ,
		   "https://us-api.mimecast.com/api/test/some-url", SECRET,
		   "HlokhZ93dzw5P6xGgeveOR4JhiM=");
	/* UTC date, full URL. */
	expect_sig(PUB_DATE, PUB_REQ, "https://us-api.mimecast.com/api/test/some-url", SECRET,
		   "WE9ghQUSvunwT+QCFCHzaKJXTjE=");
	/* EDT date, path only. */
	expect_sig("Sun, 21 Aug 2022 13:49:40 EDT", PUB_REQ, "/api/test/some-url", SECRET,
		   "Phz1Ig0xLLb3cYx2LuCMFlt1CfY=");
}

static void test_ttp_paths(void **state)
{
	(void)state;
	expect_sig(SELF_DATE, SELF_REQ, "/api/ttp/url/get-logs", SECRET,
		   "ujrz4xP3pHPA9qZb+7qRWaHqAiY=");
	expect_sig(SELF_DATE, SELF_REQ, "/api/ttp/impersonation/get-logs", SECRET,
		   "ZODVdj/AbIgTXdouempLOQm9eng=");
	expect_sig(SELF_DATE, SELF_REQ, "/api/ttp/attachment/get-logs", SECRET,
		   "VOX9VszAlqwBvr/v8rCZOHh8f9Y=");
	expect_sig(SELF_DATE, SELF_REQ, "/api/account/get-account", SECRET,
		   "tI0299BLtB2OiuEhhPU9J4IW1qg=");
}

static void test_realistic_secret(void **state)
{
	(void)state;
	expect_sig(SELF_DATE, SELF_REQ, "/api/ttp/url/get-logs",
		   "FgHrtydiP4TynI+rTZF42Qu0FtGuhJtuNM5bDh82goJQHed9kJZ5t/ORwGnI5r2hkl/bzCosZ+KVapJFeaf3Yw==",
		   "8VJY/n0Grwhovpu7Hm8cg0unqk4=");
}

static void test_bad_secret(void **state)
{
	char sig[64];

	(void)state;
	assert_int_equal(mcsign_signature(SELF_DATE, SELF_REQ, "/x", "k", "not base64!", sig,
					  sizeof(sig)), -1);
	assert_int_equal(mcsign_signature(SELF_DATE, SELF_REQ, "/x", "k", SECRET, sig, 10), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_public_vector),
		cmocka_unit_test(test_wrong_forms),
		cmocka_unit_test(test_ttp_paths),
		cmocka_unit_test(test_realistic_secret),
		cmocka_unit_test(test_bad_secret),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
