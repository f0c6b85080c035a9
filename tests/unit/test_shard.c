/* test_shard.c - rendezvous hashing of integration names onto shards
 * (shard.c): the documented hash pinned (SHA-256 of name, NUL, the 1-based
 * index in decimal; the first 8 bytes big-endian; highest wins), so a
 * script reproducing it agrees with us; the minimal-move property measured
 * on 1000 names (N 4 -> 5 moves about 1/5, each to the new shard; N 5 -> 4
 * moves only shard 5's); an even spread; and "K/N" parsing with its
 * refusals. The pinned values come from Python:
 *   int.from_bytes(hashlib.sha256(name.encode() + b"\0" + str(k).encode())
 *                  .digest()[:8], "big") */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "shard.h"

static void test_pinned(void **state)
{
	(void)state;
	assert_true(shard_weight("acme-eu", 1) == 0xfb6a91055c9bbda0ULL);
	assert_true(shard_weight("sim", 1) == 0xc89171ee471e8a8bULL);
	assert_int_equal(shard_of("acme-eu", 4), 1);
	assert_int_equal(shard_of("acme-us", 2), 2);
	assert_int_equal(shard_of("acme-us", 4), 4);
	assert_int_equal(shard_of("globex", 5), 2);
	assert_int_equal(shard_of("initech", 2), 2);
	assert_int_equal(shard_of("anything", 1), 1);
}

static void name_of(int i, char *buf, size_t n)
{
	snprintf(buf, n, "tenant-%d", i);
}

static void test_minimal_move(void **state)
{
	int moved = 0, back = 0;

	(void)state;
	for (int i = 0; i < 1000; i++) {
		char name[32];
		unsigned a, b;

		name_of(i, name, sizeof(name));
		a = shard_of(name, 4);
		b = shard_of(name, 5);
		if (a != b) {
			/* Only to the new collector: nothing moves between the old ones. */
			assert_int_equal(b, 5);
			moved++;
		}
		/* Shrinking again moves only what shard 5 had. */
		if (b != 5)
			assert_int_equal(shard_of(name, 4), b);
		back += b == 5;
	}
	/* 1/5 of 1000 is 200; 206 with these names (binomial sd 12.6). */
	assert_int_equal(moved, 206);
	assert_int_equal(back, moved);
}

static void test_spread(void **state)
{
	int per[9] = { 0 };

	(void)state;
	for (int i = 0; i < 1000; i++) {
		char name[32];

		name_of(i, name, sizeof(name));
		per[shard_of(name, 8)]++;
	}
	/* 125 each; 4 standard deviations (10.5) either side */
	for (int k = 1; k <= 8; k++) {
		assert_true(per[k] > 125 - 42);
		assert_true(per[k] < 125 + 42);
	}
}

static void test_takes(void **state)
{
	struct mw_shard all = { 0, 0 }, one = { 1, 2 }, two = { 2, 2 };

	(void)state;
	assert_true(shard_takes(&all, "acme-us"));
	assert_false(shard_takes(&one, "acme-us"));
	assert_true(shard_takes(&two, "acme-us"));
}

static void test_parse(void **state)
{
	static const char *bad[] = { "", "2", "0/4", "5/4", "1/0", "1/1025", "-1/4", "1/-4",
				     "a/4", "1/4x", "1/", "/4", "+1/4", "1 /4", " 1/4" };
	struct mw_shard sh;
	char err[160];

	(void)state;
	assert_int_equal(shard_parse("2/4", &sh, err, sizeof(err)), 0);
	assert_int_equal(sh.k, 2);
	assert_int_equal(sh.n, 4);
	assert_int_equal(shard_parse("1/1", &sh, err, sizeof(err)), 0);
	assert_int_equal(shard_parse("1024/1024", &sh, err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(shard_parse(bad[i], &sh, err, sizeof(err)), -1);
		/* every refusal names an example of the fix */
		assert_non_null(strstr(err, "--shard 2/4"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pinned),
		cmocka_unit_test(test_minimal_move),
		cmocka_unit_test(test_spread),
		cmocka_unit_test(test_takes),
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
