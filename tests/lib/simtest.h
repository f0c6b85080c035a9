/* simtest.h - for the unit tests that run the simulated tenant in-process
 * (libmwsim: test_mcapi, test_validate): a fresh tenant, its faults, and
 * its own statistics (what GET /_sim/stats answers), so counts come from
 * the server's side. cmocka failures end the test. */
#ifndef MW_SIMTEST_H
#define MW_SIMTEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "sim/sim.h"
#include "util.h"

/* A tenant of 200 records over the last hour; token_ttl (s), rate_limit
 * (requests a bucket) and refill_ms change the sim's defaults when not 0. */
static inline struct sim *simtest_start(int token_ttl, int rate_limit, int refill_ms)
{
	struct sim_opts o;
	struct sim *s;
	mw_err e;

	sim_opts_init(&o);
	o.quiet = 1;
	o.records = 200;
	o.span = 3600;
	if (token_ttl)
		o.token_ttl = token_ttl;
	if (rate_limit)
		o.rate_limit = rate_limit;
	if (refill_ms)
		o.refill_ms = refill_ms;
	s = sim_start(&o, &e);
	if (!s)
		fail_msg("sim_start: %s", e.msg);
	return s;
}

/* Replaces the tenant's faults (the --faults file's lines). */
static inline void simtest_faults(struct sim *s, const char *text)
{
	mw_err e;

	if (sim_set_faults(s, text, &e) < 0)
		fail_msg("sim_set_faults(%s): %s", text, e.msg);
}

/* stats.a.b.c (b and c may be NULL), 0 when absent. */
static inline int64_t simtest_stat(struct sim *s, const char *a, const char *b, const char *c)
{
	mw_buf buf;
	json_object *st, *v = NULL;
	int64_t n;

	mw_buf_init(&buf);
	sim_stats_json(s, &buf);
	st = json_tokener_parse(buf.data);
	assert_non_null(st);
	json_object_object_get_ex(st, a, &v);
	if (b && v && !json_object_object_get_ex(v, b, &v))
		v = NULL;
	if (c && v && !json_object_object_get_ex(v, c, &v))
		v = NULL;
	n = v ? json_object_get_int64(v) : 0;
	json_object_put(st);
	mw_buf_free(&buf);
	return n;
}

/* Requests the tenant received on path. */
static inline int64_t simtest_requests(struct sim *s, const char *path)
{
	return simtest_stat(s, "requests", path, NULL);
}

#endif
