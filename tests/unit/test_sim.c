/* test_sim.c - the simulated tenant's record generator and library API.
 * The HTTP behaviour is covered by the integration tests; here: exact
 * dates, index arithmetic, late records, JSON validity of every record
 * shape (hostile ones included), filters agreeing with the text, and the
 * fault parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "sim.h"
#include "sim_records.h"

static void rs_init(struct sim_recset *rs, int64_t spacing_us, int64_t count)
{
	memset(rs, 0, sizeof(*rs));
	rs->seed = 7;
	rs->start_us = 1700000000LL * 1000000;
	for (int t = 0; t < SIM_NTYPES; t++)
		rs->spacing_us[t] = spacing_us;
	rs->count = count;
	rs->hostile_every = 50;
}

static json_object *parse_strict(const char *s, size_t n)
{
	json_tokener *tok = json_tokener_new();
	json_object *o;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, s, (int)n);
	assert_int_equal(json_tokener_get_error(tok), json_tokener_success);
	assert_int_equal(json_tokener_get_parse_end(tok), n);
	json_tokener_free(tok);
	return o;
}

static const char *str_field(json_object *o, const char *key)
{
	json_object *v;

	assert_true(json_object_object_get_ex(o, key, &v));
	return json_object_get_string(v);
}

static void test_format_date(void **state)
{
	char d[25];

	(void)state;
	sim_records_format_date(0, d);
	assert_string_equal(d, "1970-01-01T00:00:00+0000");
	sim_records_format_date(1731862950, d);
	assert_string_equal(d, "2024-11-17T17:02:30+0000");
	sim_records_format_date(951782400, d);
	assert_string_equal(d, "2000-02-29T00:00:00+0000");
	sim_records_format_date(4102444799LL, d);
	assert_string_equal(d, "2099-12-31T23:59:59+0000");
}

static void test_index_math(void **state)
{
	struct sim_recset rs;
	int64_t s0 = 1700000000LL * 1000000;

	(void)state;
	rs_init(&rs, 500000, 10); /* two records a second, ten of them */
	assert_int_equal(sim_records_time_us(&rs, SIM_URL, 3), s0 + 1500000);
	assert_int_equal(sim_records_first_at(&rs, SIM_URL, s0 - 5), 0);
	assert_int_equal(sim_records_first_at(&rs, SIM_URL, s0 + 1000000), 2);
	assert_int_equal(sim_records_first_at(&rs, SIM_URL, s0 + 1000001), 3);
	assert_int_equal(sim_records_first_at(&rs, SIM_URL, s0 + 99000000), 10);
	assert_int_equal(sim_records_end(&rs, SIM_URL, s0 - 1), 0);
	assert_int_equal(sim_records_end(&rs, SIM_URL, s0), 1);
	assert_int_equal(sim_records_end(&rs, SIM_URL, s0 + 1499999), 3);
	assert_int_equal(sim_records_end(&rs, SIM_URL, s0 + 1500000), 4);
	assert_int_equal(sim_records_end(&rs, SIM_URL, s0 + 99000000), 10);
	assert_int_equal(sim_records_visible_count(&rs, SIM_URL, s0 + 99000000), 10);
	rs.count = -1;
	assert_int_equal(sim_records_end(&rs, SIM_URL, s0 + 99000000), 199);
}

static void test_late(void **state)
{
	struct sim_recset rs;
	int64_t s0 = 1700000000LL * 1000000, now = s0 + 999 * 1000000LL;
	int64_t hidden = 0;

	(void)state;
	rs_init(&rs, 1000000, 1000);
	rs.late_fraction = 0.5;
	rs.late_delay_us = 100 * 1000000LL;
	for (int64_t i = 0; i < 1000; i++) {
		int vis = sim_records_visible(&rs, SIM_URL, i, now);

		/* only records younger than the delay can be hidden */
		if (i < 899)
			assert_int_equal(vis, 1);
		hidden += !vis;
	}
	assert_true(hidden > 20 && hidden < 80);
	assert_int_equal(sim_records_visible_count(&rs, SIM_URL, now), 1000 - hidden);
	/* once the delay has passed every record shows */
	assert_int_equal(sim_records_visible_count(&rs, SIM_URL, now + 100 * 1000000LL), 1000);
}

static void test_records_valid_json(void **state)
{
	static const char *const time_key[SIM_NTYPES] = { "date", "eventTime", "date" };
	struct sim_recset rs;
	mw_buf b;

	(void)state;
	rs_init(&rs, 250000, 1000);
	mw_buf_init(&b);
	for (int t = 0; t < SIM_NTYPES; t++) {
		for (int64_t i = 0; i < 300; i++) {
			char want[96], d[25];
			json_object *o;

			mw_buf_reset(&b);
			sim_records_append(&b, &rs, t, i);
			o = parse_strict(b.data, b.len);
			snprintf(want, sizeof(want), "<sim-%s-%lld@7.sim.example>",
				 sim_records_type_name(t), (long long)i);
			assert_string_equal(str_field(o, "messageId"), want);
			sim_records_format_date(1700000000 + i / 4, d);
			assert_string_equal(str_field(o, time_key[t]), d);
			if (t == SIM_IMPERSONATION)
				assert_memory_equal(str_field(o, "id"), "MTOKEN:", 7);
			/* records 49, 99, ... are hostile, the others plain */
			const char *subj = str_field(o, "subject");
			int hostile = i % 50 == 49;

			assert_int_equal(strchr(subj, 0x1b) != NULL, hostile);
			assert_int_equal(strstr(subj, "\xE2\x80\xAE") != NULL, hostile);
			assert_int_equal(strstr(b.data, "\xC2\x9B") != NULL, hostile);
			if (hostile)
				assert_non_null(strstr(b.data, "\\u0000"));
			if (hostile && t == SIM_URL)
				assert_true(strlen(str_field(o, "url")) > 3000);
			json_object_put(o);
		}
	}
	mw_buf_free(&b);
}

static void test_deterministic(void **state)
{
	struct sim_recset a, c;
	mw_buf x, y;

	(void)state;
	rs_init(&a, 1000000, 100);
	rs_init(&c, 1000000, 100);
	mw_buf_init(&x);
	mw_buf_init(&y);
	sim_records_append(&x, &a, SIM_ATTACHMENT, 42);
	sim_records_append(&y, &c, SIM_ATTACHMENT, 42);
	assert_string_equal(x.data, y.data);
	c.seed = 8;
	mw_buf_reset(&y);
	sim_records_append(&y, &c, SIM_ATTACHMENT, 42);
	assert_string_not_equal(x.data, y.data);
	mw_buf_free(&x);
	mw_buf_free(&y);
}

static void test_filters_agree(void **state)
{
	static const char *const routes[] = { "inbound", "outbound", "internal" };
	struct sim_recset rs;
	mw_buf b;
	int malicious = 0, tagged = 0;

	(void)state;
	rs_init(&rs, 1000000, 2000);
	mw_buf_init(&b);
	for (int64_t i = 0; i < 2000; i++) {
		for (int t = 0; t < SIM_NTYPES; t++) {
			json_object *o, *v;

			mw_buf_reset(&b);
			sim_records_append(&b, &rs, t, i);
			o = parse_strict(b.data, b.len);
			if (t == SIM_IMPERSONATION) {
				struct sim_filter f = { SIM_ANY, NULL, 1 };

				assert_true(json_object_object_get_ex(o, "taggedMalicious", &v));
				assert_int_equal(sim_records_match(&rs, t, i, &f),
						 json_object_get_boolean(v));
				tagged += json_object_get_boolean(v);
			} else {
				const char *verdict = str_field(o, t == SIM_URL ? "scanResult" : "result");
				struct sim_filter fm = { SIM_ANY, "malicious", SIM_ANY };

				for (int r = 0; r < 3; r++) {
					struct sim_filter fr = { r, NULL, SIM_ANY };

					assert_int_equal(sim_records_match(&rs, t, i, &fr),
							 strcmp(str_field(o, "route"), routes[r]) == 0);
				}
				assert_int_equal(sim_records_match(&rs, t, i, &fm),
						 strcmp(verdict, "malicious") == 0);
				malicious += strcmp(verdict, "malicious") == 0;
			}
			json_object_put(o);
		}
	}
	/* the mix is realistic: threats present, but a minority */
	assert_true(malicious > 100 && malicious < 600);
	assert_true(tagged > 400 && tagged < 1000);
	mw_buf_free(&b);
}

static void test_fault_specs(void **state)
{
	mw_err e;

	(void)state;
	assert_int_equal(sim_fault_check("429", &e), 0);
	assert_int_equal(sim_fault_check("429:reset=", &e), 0);
	assert_int_equal(sim_fault_check("429:reset=1e20,type=account,after=3,count=0", &e), 0);
	assert_int_equal(sim_fault_check("slow:bytes=10", &e), 0);
	assert_int_equal(sim_fault_check("nope", &e), -1);
	assert_non_null(strstr(e.msg, "unknown kind"));
	assert_int_equal(sim_fault_check("500:type=dlp", &e), -1);
	assert_non_null(strstr(e.msg, "type=dlp"));
	assert_int_equal(sim_fault_check("500:count=-1", &e), -1);
	assert_int_equal(sim_fault_check("500:reset=5", &e), -1);
	assert_int_equal(sim_fault_check("slow:bytes=0", &e), -1);
	assert_int_equal(sim_fault_check("418:after", &e), -1);
	assert_int_equal(sim_type_bits("all"), 7u);
	assert_int_equal(sim_type_bits("account"), SIM_BIT_ACCOUNT);
	assert_int_equal(sim_type_bits("impersonation"), 2u);
	assert_int_equal(sim_type_bits("x"), 0u);
}

static void test_server_api(void **state)
{
	struct sim_opts o;
	struct sim *s;
	mw_err e;
	mw_buf b;
	json_object *st, *v;

	(void)state;
	sim_opts_init(&o);
	o.quiet = 1;
	o.records = 500;
	o.span = 3600;
	o.start = 1600000000;
	o.faults[o.nfaults++] = "503:count=0";
	s = sim_start(&o, &e);
	assert_non_null(s);
	assert_true(sim_port(s) > 0);
	assert_null(sim_ca_file(s));
	assert_memory_equal(sim_base_url(s), "http://127.0.0.1:", 17);
	assert_int_equal(sim_visible_records(s, "url"), 500);
	assert_int_equal(sim_visible_records(s, "dlp"), -1);
	/* a bad line leaves the faults as they were */
	assert_int_equal(sim_set_faults(s, "418\nbogus\n", &e), -1);
	mw_buf_init(&b);
	sim_stats_json(s, &b);
	st = parse_strict(b.data, b.len - 1); /* minus the newline */
	assert_true(json_object_object_get_ex(st, "faults", &v));
	assert_int_equal(json_object_array_length(v), 1);
	json_object_put(st);
	assert_int_equal(sim_set_faults(s, "  418:type=url  \n\n429:reset=abc\n", &e), 0);
	mw_buf_reset(&b);
	sim_stats_json(s, &b);
	st = parse_strict(b.data, b.len - 1);
	assert_true(json_object_object_get_ex(st, "faults", &v));
	assert_int_equal(json_object_array_length(v), 2);
	json_object_put(st);
	mw_buf_free(&b);
	sim_stop(s);

	o.bind = "localhost";
	assert_null(sim_start(&o, &e));
	assert_non_null(strstr(e.msg, "--bind localhost"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_date),
		cmocka_unit_test(test_index_math),
		cmocka_unit_test(test_late),
		cmocka_unit_test(test_records_valid_json),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_filters_agree),
		cmocka_unit_test(test_fault_specs),
		cmocka_unit_test(test_server_api),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
