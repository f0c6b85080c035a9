/* test_sim.c - the simulated tenant: exact dates, index arithmetic, late
 * records, JSON validity of every record shape (hostile ones included),
 * filters agreeing with the text, the fault parser; and over real HTTP the
 * page-size cap, the opt-in checks and the faults token_revoked,
 * gateway429, emptyend, emptynext's shapes, binding_fail and echo. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <json-c/json.h>

#include "mimecast/mimecast.h"
#include "sim/sim.h"
#include "sim/records.h"

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
			/* audit events concern no message [MC-AUDIT] */
			if (t != SIM_AUDIT)
				assert_string_equal(str_field(o, "messageId"), want);
			sim_records_format_date(1700000000 + i / 4, d);
			assert_string_equal(str_field(o, sim_records_logtype(t)->time_field), d);
			if (t == SIM_IMPERSONATION || t == SIM_AUDIT)
				assert_memory_equal(str_field(o, "id"), "MTOKEN:", 7);
			/* records 49, 99, ... are hostile, the others plain */
			const char *subj = str_field(o, t == SIM_AUDIT ? "eventInfo" : "subject");
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

/* timeshift and baddate: the time field moved or replaced, nothing else;
 * the corpus's impersonation id of line breaks and quotes. */
static void test_records_time_override(void **state)
{
	struct sim_recset rs;
	mw_buf a, b;

	(void)state;
	rs_init(&rs, 1000000, 100);
	mw_buf_init(&a);
	mw_buf_init(&b);
	for (int t = 0; t < SIM_NTYPES; t++) {
		const char *const time_key[1] = { sim_records_logtype(t)->time_field };
		json_object *o, *p;
		char d[25];

		mw_buf_reset(&a);
		mw_buf_reset(&b);
		sim_records_append(&a, &rs, t, 49);  /* a hostile one */
		sim_records_append_at(&b, &rs, t, 49, -300000000, NULL);
		o = parse_strict(a.data, a.len);
		p = parse_strict(b.data, b.len);
		sim_records_format_date(1700000000 + 49 - 300000000, d);
		assert_string_equal(str_field(p, time_key[0]), d);
		/* every other field as it was */
		json_object_object_del(o, time_key[0]);
		json_object_object_del(p, time_key[0]);
		assert_true(json_object_equal(o, p));
		json_object_put(o);
		json_object_put(p);
		mw_buf_reset(&b);
		sim_records_append_at(&b, &rs, t, 3, 36000, NULL);
		p = parse_strict(b.data, b.len);
		sim_records_format_date(1700000000 + 3 + 36000, d);
		assert_string_equal(str_field(p, time_key[0]), d);
		json_object_put(p);
		mw_buf_reset(&b);
		sim_records_append_at(&b, &rs, t, 3, 0, "2026-02-30T10:00:00+0000 \"\\\x01");
		p = parse_strict(b.data, b.len);
		assert_string_equal(str_field(p, time_key[0]), "2026-02-30T10:00:00+0000 \"\\\x01");
		json_object_put(p);
	}
	/* --hostile-corpus, every record hostile: corpus entry 11 (the marks)
	 * gives its place in the id to CR, LF, U+0085 and '"', without NUL */
	rs.hostile_every = 1;
	rs.corpus = 1;
	int found = 0;

	for (int64_t i = 0; i < 13; i++) {
		json_object *o;
		const char *id;

		mw_buf_reset(&a);
		sim_records_append(&a, &rs, SIM_IMPERSONATION, i);
		o = parse_strict(a.data, a.len);
		id = str_field(o, "id");
		if (strstr(id, "PWNED-IDBREAK")) {
			found++;
			assert_non_null(strchr(id, '\r'));
			assert_non_null(strchr(id, '\n'));
			assert_non_null(strchr(id, '"'));
			assert_non_null(strstr(id, "\xC2\x85" "raw"));
			assert_non_null(strstr(id, "\xC2\x85" "esc"));
			assert_int_equal(json_object_get_string_len(json_object_object_get(o, "id")),
					 (int)strlen(id));  /* no NUL inside */
		}
		json_object_put(o);
	}
	assert_int_equal(found, 1);
	mw_buf_free(&a);
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
			} else if (t == SIM_URL || t == SIM_ATTACHMENT) {
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
	assert_int_equal(sim_fault_check("500:type=dlp", &e), 0);
	assert_int_equal(sim_fault_check("500:type=siem", &e), 0);
	assert_int_equal(sim_fault_check("siem_cut:count=2", &e), 0);
	assert_int_equal(sim_fault_check("500:type=siems", &e), -1);
	assert_non_null(strstr(e.msg, "type=siems"));
	assert_int_equal(sim_fault_check("500:count=-1", &e), -1);
	assert_int_equal(sim_fault_check("500:reset=5", &e), -1);
	assert_int_equal(sim_fault_check("slow:bytes=0", &e), -1);
	assert_int_equal(sim_fault_check("418:after", &e), -1);
	/* the newer kinds and their keys */
	assert_int_equal(sim_fault_check("token_revoked", &e), 0);
	assert_int_equal(sim_fault_check("token_revoked:code=invalid_token,count=0", &e), 0);
	assert_int_equal(sim_fault_check("token_revoked:code=", &e), -1);
	assert_int_equal(sim_fault_check("gateway429:hold=5,retry_after=3,type=url", &e), 0);
	assert_int_equal(sim_fault_check("gateway429:retry_after_date=1", &e), 0);
	assert_int_equal(sim_fault_check("gateway429:hold=0", &e), -1);
	assert_int_equal(sim_fault_check("gateway429:retry_after_date=2", &e), -1);
	assert_int_equal(sim_fault_check("emptyend:shape=nested,next=0,total=+3", &e), 0);
	assert_int_equal(sim_fault_check("emptyend:total=none", &e), 0);
	assert_int_equal(sim_fault_check("emptyend:total=12,shape=flat,next=1", &e), 0);
	assert_int_equal(sim_fault_check("emptyend:total=-1", &e), -1);
	assert_int_equal(sim_fault_check("emptyend:shape=round", &e), -1);
	assert_int_equal(sim_fault_check("emptynext:shape=flat,total=real", &e), 0);
	assert_int_equal(sim_fault_check("emptynext:next=0", &e), -1);
	assert_int_equal(sim_fault_check("binding_fail:status=418", &e), 0);
	assert_int_equal(sim_fault_check("binding_fail:status=99", &e), -1);
	assert_int_equal(sim_fault_check("echo:what=form", &e), 0);
	assert_int_equal(sim_fault_check("echo:what=body", &e), -1);
	assert_int_equal(sim_fault_check("429:hold=5", &e), -1);
	/* the hostile-tenant kinds */
	assert_int_equal(sim_fault_check("timeshift", &e), -1);
	assert_non_null(strstr(e.msg, "offset"));
	assert_int_equal(sim_fault_check("timeshift:type=url,every=3", &e), -1);
	assert_int_equal(sim_fault_check("timeshift:offset=-300000000,every=3,sticky=1", &e), 0);
	assert_int_equal(sim_fault_check("timeshift:offset=+36000,type=attachment", &e), 0);
	assert_int_equal(sim_fault_check("timeshift:offset=1e5", &e), -1);
	assert_int_equal(sim_fault_check("timeshift:offset=9999999999", &e), -1);
	assert_int_equal(sim_fault_check("timeshift:offset=5,sticky=2", &e), -1);
	assert_int_equal(sim_fault_check("timeshift:offset=5,every=0", &e), -1);
	assert_int_equal(sim_fault_check("nextloop", &e), 0);
	assert_int_equal(sim_fault_check("nextloop:period=3,after=2", &e), 0);
	assert_int_equal(sim_fault_check("nextloop:period=0", &e), -1);
	assert_int_equal(sim_fault_check("repeatpages:type=url,after=3", &e), 0);
	assert_int_equal(sim_fault_check("repeatpages:period=2", &e), -1);
	assert_int_equal(sim_fault_check("baddate", &e), 0);
	assert_int_equal(sim_fault_check("baddate:value=2026-02-30T10:00:00+0000", &e), 0);
	assert_int_equal(sim_fault_check("hostile_account:count=0", &e), 0);
	assert_int_equal(sim_fault_check("slow:bytes=50,minsize=50,count=0", &e), 0);
	assert_int_equal(sim_fault_check("drip:minsize=-1", &e), -1);
	assert_int_equal(sim_fault_check("500:minsize=1", &e), -1);
	assert_int_equal(sim_fault_check("bogus", &e), -1);
	assert_non_null(strstr(e.msg, "gateway429"));
	assert_int_equal(sim_type_bits("all"), 31u);   /* every log type, audit and DLP too */
	assert_int_equal(sim_type_bits("dlp"), 1u << SIM_DLP);
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
	assert_int_equal(sim_visible_records(s, "dlp"), 500);
	assert_int_equal(sim_visible_records(s, "siem"), -1);
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


/* ---- over HTTP: a real sim on loopback, requests by libcurl ---------------- */

struct resp {
	long status;
	mw_buf body, headers;
	json_object *json;        /* the body parsed, or NULL */
};

static size_t on_data(char *p, size_t size, size_t n, void *cls)
{
	mw_buf_append(cls, p, size * n);
	return size * n;
}

static void resp_free(struct resp *r)
{
	mw_buf_free(&r->body);
	mw_buf_free(&r->headers);
	json_object_put(r->json);
	memset(r, 0, sizeof(*r));
}

/* POST body to base+path with the given header lines (NULL-ended). */
static void post(const struct sim *s, const char *path, const char *body,
		 const char *const *hdrs, struct resp *r)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hl = NULL;
	char url[300];

	assert_non_null(c);
	memset(r, 0, sizeof(*r));
	mw_buf_init(&r->body);
	mw_buf_init(&r->headers);
	snprintf(url, sizeof(url), "%s%s", sim_base_url(s), path);
	for (int k = 0; hdrs && hdrs[k]; k++)
		hl = curl_slist_append(hl, hdrs[k]);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	} else {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &r->headers);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	if (r->body.len)
		r->json = json_tokener_parse(r->body.data);
}

/* The value of response header name (case-insensitive), or NULL. */
static const char *resp_header(const struct resp *r, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);

	for (const char *p = r->headers.data; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;
			size_t k = 0;

			while (*v == ' ')
				v++;
			while (v[k] && v[k] != '\r' && v[k] != '\n' && k + 1 < n) {
				out[k] = v[k];
				k++;
			}
			out[k] = '\0';
			return out;
		}
	}
	return NULL;
}

/* A signed API 1.0 request dated `when` with request id rid (NULL: fresh). */
static void post_v1_at(const struct sim *s, const char *path, const char *body, int64_t when,
		       const char *rid, struct resp *r)
{
	char date[64], id[64], sig[64], h_date[96], h_id[96], h_auth[256];
	const char *hdrs[] = { h_date, h_id, h_auth, "x-mc-app-id: " SIM_APP_ID,
			       "Content-Type: application/json", NULL };
	static unsigned serial;
	time_t t = (time_t)when;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S UTC", &tm);
	if (!rid) {
		snprintf(id, sizeof(id), "3d796b76-4180-40e5-8f7c-%012u", ++serial);
		rid = id;
	}
	assert_int_equal(mcsign_signature(date, rid, path, SIM_APP_KEY, SIM_SECRET_KEY, sig,
					  sizeof(sig)), 0);
	snprintf(h_date, sizeof(h_date), "x-mc-date: %s", date);
	snprintf(h_id, sizeof(h_id), "x-mc-req-id: %s", rid);
	snprintf(h_auth, sizeof(h_auth), "Authorization: MC %s:%s", SIM_ACCESS_KEY, sig);
	post(s, path, body, hdrs, r);
}

static void post_v1(const struct sim *s, const char *path, const char *body, struct resp *r)
{
	post_v1_at(s, path, body, mw_now(), NULL, r);
}

static void new_token(const struct sim *s, char *out, size_t n)
{
	struct resp r;
	json_object *v;

	post(s, "/oauth/token", "client_id=" SIM_CLIENT_ID "&client_secret=" SIM_CLIENT_SECRET
	     "&grant_type=client_credentials", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_true(json_object_object_get_ex(r.json, "access_token", &v));
	snprintf(out, n, "%s", json_object_get_string(v));
	resp_free(&r);
}

static void post_v2(const struct sim *s, const char *path, const char *body, const char *tok,
		    struct resp *r)
{
	char auth[200];
	const char *hdrs[] = { auth, "Content-Type: application/json", NULL };

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
	post(s, path, body, hdrs, r);
}

static void set_faults(struct sim *s, const char *text)
{
	mw_err e;

	assert_int_equal(sim_set_faults(s, text, &e), 0);
}

/* A sim with 250 records a type in the hour from 1600000000. */
static struct sim *small_sim(const char *fault, int date_window, int reqid)
{
	struct sim_opts o;
	struct sim *s;
	mw_err e;

	sim_opts_init(&o);
	o.quiet = 1;
	o.records = 250;
	o.span = 3600;
	o.start = 1600000000;
	o.date_window = date_window;
	o.reject_reused_req_id = reqid;
	if (fault)
		o.faults[o.nfaults++] = fault;
	s = sim_start(&o, &e);
	assert_non_null(s);
	return s;
}

#define PATH_URL "/api/ttp/url/get-logs"
#define PATH_IMP "/api/ttp/impersonation/get-logs"
#define PATH_ATT "/api/ttp/attachment/get-logs"
#define WINDOW "\"from\":\"2020-09-13T00:00:00+0000\",\"to\":\"2020-09-14T00:00:00+0000\""

/* json path lookups */
static json_object *jget(json_object *o, const char *k)
{
	json_object *v = NULL;

	if (!o || !json_object_object_get_ex(o, k, &v))
		return NULL;
	return v;
}

static json_object *pagination(const struct resp *r)
{
	return jget(jget(r->json, "meta"), "pagination");
}

static int64_t page_records(const struct resp *r, const char *key)
{
	json_object *d = jget(r->json, "data");

	assert_non_null(d);
	if (json_object_array_length(d) == 0)
		return -1;  /* the flat empty shape */
	return (int64_t)json_object_array_length(jget(json_object_array_get_idx(d, 0), key));
}

static const char *next_of(const struct resp *r)
{
	json_object *v = jget(pagination(r), "next");

	return v ? json_object_get_string(v) : NULL;
}

static int64_t stat_i64(struct sim *s, const char *a, const char *b)
{
	mw_buf buf;
	json_object *st, *v;
	int64_t n;

	mw_buf_init(&buf);
	sim_stats_json(s, &buf);
	st = json_tokener_parse(buf.data);
	v = jget(st, a);
	if (b)
		v = jget(v, b);
	n = v ? json_object_get_int64(v) : 0;
	json_object_put(st);
	mw_buf_free(&buf);
	return n;
}

static void test_page_size_cap(void **state)
{
	struct sim *s = small_sim(NULL, 0, 0);
	struct resp r;

	(void)state;
	/* 500 asked: at most 100 given, no error (elastic/integrations#4921) */
	post_v1(s, PATH_URL, "{\"meta\":{\"pagination\":{\"pageSize\":500}},\"data\":[{"
		WINDOW ",\"oldestFirst\":true}]}", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(page_records(&r, "clickLogs"), 100);
	assert_int_equal(json_object_get_int(jget(pagination(&r), "pageSize")), 100);
	assert_int_equal(json_object_get_int(jget(pagination(&r), "totalCount")), 250);
	assert_non_null(next_of(&r));
	char tok[200];

	snprintf(tok, sizeof(tok), "%s", next_of(&r));
	resp_free(&r);
	/* the token keeps the capped size */
	char body[400];

	snprintf(body, sizeof(body), "{\"meta\":{\"pagination\":{\"pageToken\":\"%s\"}}}", tok);
	post_v1(s, PATH_URL, body, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(page_records(&r, "clickLogs"), 100);
	resp_free(&r);
	/* no invented page-size error: 0 and a string take the default */
	post_v1(s, PATH_URL, "{\"meta\":{\"pagination\":{\"pageSize\":0}},\"data\":[{" WINDOW "}]}",
		&r);
	assert_int_equal(r.status, 200);
	assert_int_equal(page_records(&r, "clickLogs"), 100);
	resp_free(&r);
	post_v1(s, PATH_URL, "{\"meta\":{\"pagination\":{\"pageSize\":\"7\"}},\"data\":[{" WINDOW
		"}]}", &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	post_v1(s, PATH_URL, "{\"meta\":{\"pagination\":{\"pageSize\":7}},\"data\":[{" WINDOW "}]}",
		&r);
	assert_int_equal(page_records(&r, "clickLogs"), 7);
	resp_free(&r);
	/* every attachment result the message lists is accepted, clean too */
	static const char *const results[] = { "clean", "safe", "malicious", "timeout",
					       "unknown", "error", "unsafe", "all" };

	for (size_t k = 0; k < sizeof(results) / sizeof(results[0]); k++) {
		snprintf(body, sizeof(body), "{\"data\":[{" WINDOW ",\"result\":\"%s\"}]}",
			 results[k]);
		post_v1(s, PATH_ATT, body, &r);
		assert_int_equal(r.status, 200);
		resp_free(&r);
	}
	post_v1(s, PATH_ATT, "{\"data\":[{" WINDOW ",\"result\":\"bogus\"}]}", &r);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body.data, "clean"));
	resp_free(&r);
	sim_stop(s);
}

static void test_opt_in_checks(void **state)
{
	struct sim *s = small_sim(NULL, 0, 0);
	struct resp r;
	const char *rid = "8578fcfc-a305-4d9a-99cb-f4d5ecefe297";

	(void)state;
	/* off by default: a date an hour old and a reused request id pass */
	post_v1_at(s, PATH_URL, "{\"data\":[]}", mw_now() - 3600, rid, &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	post_v1_at(s, PATH_URL, "{\"data\":[]}", mw_now(), rid, &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	sim_stop(s);

	s = small_sim(NULL, 900, 1);
	post_v1_at(s, PATH_URL, "{\"data\":[]}", mw_now() - 3600, NULL, &r);
	assert_int_equal(r.status, 401);
	assert_non_null(strstr(r.body.data, "outside the allowed window"));
	resp_free(&r);
	post_v1_at(s, PATH_URL, "{\"data\":[]}", mw_now() - 60, rid, &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	post_v1_at(s, PATH_URL, "{\"data\":[]}", mw_now(), rid, &r);
	assert_int_equal(r.status, 401);
	assert_non_null(strstr(r.body.data, "request id reused"));
	resp_free(&r);
	sim_stop(s);
}

/* fail[0] of a flat API 2.0 error: {code, message}, no errors[] */
static const char *flat_code(const struct resp *r)
{
	json_object *f = jget(r->json, "fail");

	assert_non_null(f);
	assert_int_equal(json_object_array_length(f), 1);
	f = json_object_array_get_idx(f, 0);
	assert_null(jget(f, "errors"));
	assert_non_null(jget(f, "message"));
	return json_object_get_string(jget(f, "code"));
}

static void test_token_revoked(void **state)
{
	struct sim *s = small_sim(NULL, 0, 0);
	struct resp r;
	char a[128], b[128], c[128];

	(void)state;
	new_token(s, a, sizeof(a));
	post_v2(s, PATH_URL, "{\"data\":[]}", a, &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	set_faults(s, "token_revoked:type=url");
	post_v2(s, PATH_URL, "{\"data\":[]}", a, &r);
	assert_int_equal(r.status, 401);
	assert_string_equal(flat_code(&r), "unauthorized");
	assert_int_equal(json_object_get_int(jget(jget(r.json, "meta"), "status")), 401);
	assert_int_equal(json_object_array_length(jget(r.json, "data")), 0);
	resp_free(&r);
	/* revoked for good: the same token fails again, on every path */
	post_v2(s, PATH_URL, "{\"data\":[]}", a, &r);
	assert_int_equal(r.status, 401);
	resp_free(&r);
	post_v2(s, PATH_IMP, "{\"data\":[]}", a, &r);
	assert_int_equal(r.status, 401);
	resp_free(&r);
	/* a new token works */
	new_token(s, b, sizeof(b));
	post_v2(s, PATH_URL, "{\"data\":[]}", b, &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	/* count=0: even fresh tokens fail; API 1.0 is not concerned */
	set_faults(s, "token_revoked:count=0,code=invalid_token");
	new_token(s, c, sizeof(c));
	post_v2(s, PATH_ATT, "{\"data\":[]}", c, &r);
	assert_int_equal(r.status, 401);
	assert_string_equal(flat_code(&r), "invalid_token");
	resp_free(&r);
	new_token(s, c, sizeof(c));
	post_v2(s, PATH_ATT, "{\"data\":[]}", c, &r);
	assert_int_equal(r.status, 401);
	resp_free(&r);
	post_v1(s, PATH_ATT, "{\"data\":[]}", &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	sim_stop(s);
}

static void test_gateway429(void **state)
{
	struct sim *s = small_sim(NULL, 0, 0);
	struct resp r;
	char tok[128], h[100];
	int64_t t0;

	(void)state;
	new_token(s, tok, sizeof(tok));
	set_faults(s, "gateway429:type=url,hold=2,retry_after=7");
	t0 = mw_mono_ms();
	post_v2(s, PATH_URL, "{\"data\":[]}", tok, &r);
	assert_int_equal(r.status, 429);
	assert_string_equal(json_object_get_string(jget(r.json, "detail")),
			    "Over throttling limit (10000/hour)");
	assert_null(resp_header(&r, "X-RateLimit-Limit", h, sizeof(h)));
	assert_null(resp_header(&r, "X-RateLimit-Remaining", h, sizeof(h)));
	assert_null(resp_header(&r, "X-RateLimit-Reset", h, sizeof(h)));
	assert_non_null(resp_header(&r, "Retry-After", h, sizeof(h)));
	assert_string_equal(h, "7");
	resp_free(&r);
	/* the whole hold: API 1.0 too; other types pass */
	post_v1(s, PATH_URL, "{\"data\":[]}", &r);
	assert_int_equal(r.status, 429);
	resp_free(&r);
	post_v2(s, PATH_IMP, "{\"data\":[]}", tok, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(resp_header(&r, "X-RateLimit-Limit", h, sizeof(h)));
	resp_free(&r);
	assert_true(mw_mono_ms() - t0 < 2000);
	mw_buf buf;
	json_object *st, *v;

	mw_buf_init(&buf);
	sim_stats_json(s, &buf);
	st = json_tokener_parse(buf.data);
	v = jget(jget(jget(st, "status_by_path"), PATH_URL), "429");
	assert_non_null(v);
	assert_int_equal(json_object_get_int(v), 2);
	v = json_object_array_get_idx(jget(st, "faults"), 0);
	assert_int_equal(json_object_get_int(jget(v, "holds")), 1);
	assert_int_equal(json_object_get_int(jget(v, "fired")), 2);
	json_object_put(st);
	mw_buf_free(&buf);
	/* after the hold (count=1: one hold) the path answers again */
	while (mw_mono_ms() - t0 < 2100)
		mw_sleep_ms(50);
	post_v2(s, PATH_URL, "{\"data\":[]}", tok, &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	/* retry_after_date=1: an HTTP-date; none at all by default */
	set_faults(s, "gateway429:type=url,hold=5,retry_after_date=1");
	post_v2(s, PATH_URL, "{\"data\":[]}", tok, &r);
	assert_int_equal(r.status, 429);
	assert_non_null(resp_header(&r, "Retry-After", h, sizeof(h)));
	assert_int_equal(strlen(h), 29);
	assert_string_equal(h + 25, " GMT");
	int64_t when;

	assert_int_equal(mw_parse_http_date(h, &when), 0);
	assert_true(when >= mw_now() + 3 && when <= mw_now() + 6);
	resp_free(&r);
	set_faults(s, "gateway429:type=url");
	post_v2(s, PATH_URL, "{\"data\":[]}", tok, &r);
	assert_int_equal(r.status, 429);
	assert_null(resp_header(&r, "Retry-After", h, sizeof(h)));
	resp_free(&r);
	sim_stop(s);
}

/* Follows a window of 250 records of a type, oldest first, 100 a page:
 * fills last with the response that ended the records, which has next or
 * not as last_next says. */
static void walk_to_last(struct sim *s, const char *path, const char *key, int last_next,
			 struct resp *last)
{
	char body[400];
	struct resp r;
	int64_t want[3] = { 100, 100, 50 };

	post_v1(s, path, "{\"meta\":{\"pagination\":{\"pageSize\":100}},\"data\":[{" WINDOW
		",\"oldestFirst\":true}]}", &r);
	for (int k = 0; k < 3; k++) {
		assert_int_equal(r.status, 200);
		assert_int_equal(page_records(&r, key), want[k]);
		if (k == 2) {
			assert_int_equal(next_of(&r) != NULL, last_next);
			break;
		}
		assert_non_null(next_of(&r));
		snprintf(body, sizeof(body), "{\"meta\":{\"pagination\":{\"pageToken\":\"%s\"}}}",
			 next_of(&r));
		resp_free(&r);
		post_v1(s, path, body, &r);
	}
	*last = r;
}

static void follow(struct sim *s, const char *path, const struct resp *from, struct resp *r)
{
	char body[400];

	snprintf(body, sizeof(body), "{\"meta\":{\"pagination\":{\"pageToken\":\"%s\"}}}",
		 next_of(from));
	post_v1(s, path, body, r);
	assert_int_equal(r->status, 200);
}

static void test_emptyend(void **state)
{
	struct sim *s = small_sim("emptyend:type=url", 0, 0);
	struct resp last, e1, e2;

	(void)state;
	struct resp r;

	/* other types are not concerned: their last page has no next */
	walk_to_last(s, PATH_IMP, "impersonationLogs", 0, &last);
	resp_free(&last);
	/* flat (default): the last records page carries next, then data:[] */
	walk_to_last(s, PATH_URL, "clickLogs", 1, &last);
	follow(s, PATH_URL, &last, &e1);
	assert_int_equal(page_records(&e1, "clickLogs"), -1);
	assert_int_equal(json_object_get_int(jget(pagination(&e1), "pageSize")), 0);
	assert_int_equal(json_object_get_int(jget(pagination(&e1), "totalCount")), 250);
	assert_non_null(next_of(&e1));
	assert_int_equal(json_object_array_length(jget(e1.json, "fail")), 0);
	assert_int_equal(stat_i64(s, "empty_end_pages", NULL), 1);
	assert_int_equal(stat_i64(s, "empty_end_followed", NULL), 0);
	/* following next from the empty page: the same again, counted */
	follow(s, PATH_URL, &e1, &e2);
	assert_int_equal(page_records(&e2, "clickLogs"), -1);
	assert_non_null(next_of(&e2));
	assert_int_equal(stat_i64(s, "empty_end_followed", NULL), 1);
	resp_free(&last);
	resp_free(&e1);
	resp_free(&e2);

	/* nested impersonation, totalCount real+5, no next on the empty page */
	set_faults(s, "emptyend:type=impersonation,shape=nested,total=+5,next=0");
	walk_to_last(s, PATH_IMP, "impersonationLogs", 1, &last);
	follow(s, PATH_IMP, &last, &e1);
	assert_int_equal(page_records(&e1, "impersonationLogs"), 0);
	assert_int_equal(json_object_get_int(jget(json_object_array_get_idx(
		jget(e1.json, "data"), 0), "resultCount")), 0);
	assert_int_equal(json_object_get_int(jget(pagination(&e1), "totalCount")), 255);
	assert_null(next_of(&e1));
	resp_free(&last);
	resp_free(&e1);

	/* an empty query answers in the shape; total=none, total=N */
	set_faults(s, "emptyend:type=attachment,total=none,count=0");
	post_v1(s, PATH_ATT, "{\"data\":[{\"from\":\"2000-01-01T00:00:00+0000\","
		"\"to\":\"2000-01-02T00:00:00+0000\"}]}", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(page_records(&r, "attachmentLogs"), -1);
	assert_null(jget(pagination(&r), "totalCount"));
	assert_non_null(next_of(&r));
	follow(s, PATH_ATT, &r, &e1);
	assert_int_equal(page_records(&e1, "attachmentLogs"), -1);
	resp_free(&r);
	resp_free(&e1);
	set_faults(s, "emptyend:type=url,total=7,shape=nested");
	post_v1(s, PATH_URL, "{\"data\":[{\"from\":\"2000-01-01T00:00:00+0000\","
		"\"to\":\"2000-01-02T00:00:00+0000\"}]}", &r);
	assert_int_equal(page_records(&r, "clickLogs"), 0);
	assert_int_equal(json_object_get_int(jget(pagination(&r), "totalCount")), 7);
	resp_free(&r);
	sim_stop(s);
}

static void test_emptynext_shapes(void **state)
{
	struct sim *s = small_sim("emptynext:type=url,shape=flat,total=none", 0, 0);
	struct resp r, n;

	(void)state;
	post_v1(s, PATH_URL, "{\"data\":[{" WINDOW ",\"oldestFirst\":true}]}", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(page_records(&r, "clickLogs"), -1);
	assert_null(jget(pagination(&r), "totalCount"));
	assert_non_null(next_of(&r));
	/* its next resumes the window: nothing was skipped */
	follow(s, PATH_URL, &r, &n);
	assert_int_equal(page_records(&n, "clickLogs"), 100);
	assert_non_null(strstr(n.body.data, "<sim-url-0@1.sim.example>"));
	resp_free(&r);
	resp_free(&n);
	/* the default keeps the records array and the real total */
	set_faults(s, "emptynext:type=url");
	post_v1(s, PATH_URL, "{\"data\":[{" WINDOW ",\"oldestFirst\":true}]}", &r);
	assert_int_equal(page_records(&r, "clickLogs"), 0);
	assert_int_equal(json_object_get_int(jget(pagination(&r), "totalCount")), 250);
	assert_non_null(next_of(&r));
	resp_free(&r);
	set_faults(s, "emptynext:type=url,total=+3");
	post_v1(s, PATH_URL, "{\"data\":[{" WINDOW ",\"oldestFirst\":true}]}", &r);
	assert_int_equal(json_object_get_int(jget(pagination(&r), "totalCount")), 253);
	resp_free(&r);
	sim_stop(s);
}

static void test_binding_fail(void **state)
{
	struct sim *s = small_sim("binding_fail:type=url", 0, 0);
	struct resp r;
	json_object *err;

	(void)state;
	post_v1(s, PATH_URL, "{\"data\":[]}", &r);
	assert_int_equal(r.status, 200);
	err = json_object_array_get_idx(jget(json_object_array_get_idx(jget(r.json, "fail"), 0),
					     "errors"), 0);
	assert_string_equal(json_object_get_string(jget(err, "code")), "err_xdk_binding_expired");
	assert_string_equal(json_object_get_string(jget(err, "message")), "Binding Expired");
	resp_free(&r);
	set_faults(s, "binding_fail:status=418,type=account");
	post_v1(s, "/api/account/get-account", "{\"data\":[]}", &r);
	assert_int_equal(r.status, 418);
	assert_non_null(strstr(r.body.data, "err_xdk_binding_expired"));
	resp_free(&r);
	set_faults(s, "binding_fail:status=500");
	post_v1(s, PATH_ATT, "{\"data\":[]}", &r);
	assert_int_equal(r.status, 500);
	assert_non_null(strstr(r.body.data, "err_xdk_binding_expired"));
	resp_free(&r);
	sim_stop(s);
}

static void test_echo(void **state)
{
	struct sim *s = small_sim("echo:type=url", 0, 0);
	struct resp r;
	char tok[128];

	(void)state;
	post_v1(s, PATH_URL, "{\"data\":[]}", &r);
	assert_int_equal(r.status, 401);
	assert_non_null(strstr(r.body.data, "Authorization: MC " SIM_ACCESS_KEY ":"));
	resp_free(&r);
	new_token(s, tok, sizeof(tok));
	set_faults(s, "echo:what=auth,type=all");
	post_v2(s, PATH_IMP, "{\"data\":[]}", tok, &r);
	assert_int_equal(r.status, 401);
	assert_non_null(strstr(r.body.data, tok));
	resp_free(&r);
	/* what=form: the token endpoint quotes the posted secret */
	set_faults(s, "echo:what=form");
	post(s, "/oauth/token", "client_id=" SIM_CLIENT_ID "&client_secret=" SIM_CLIENT_SECRET
	     "&grant_type=client_credentials", NULL, &r);
	assert_int_equal(r.status, 401);
	assert_non_null(strstr(r.body.data, "client_secret=" SIM_CLIENT_SECRET));
	resp_free(&r);
	/* fired once (count=1): the next token request succeeds */
	new_token(s, tok, sizeof(tok));
	sim_stop(s);
}

/* pageToken body for a token */
static void follow_tok(struct sim *s, const char *path, const char *tok, struct resp *r)
{
	char body[400];

	snprintf(body, sizeof(body), "{\"meta\":{\"pagination\":{\"pageToken\":\"%s\"}}}", tok);
	post_v1(s, path, body, r);
	assert_int_equal(r->status, 200);
}

/* messageId of the first record of a page */
static const char *first_mid(const struct resp *r, const char *key)
{
	json_object *a = jget(json_object_array_get_idx(jget(r->json, "data"), 0), key);

	return json_object_get_string(jget(json_object_array_get_idx(a, 0), "messageId"));
}

#define FIRST100 "{\"meta\":{\"pagination\":{\"pageSize\":100}},\"data\":[{" WINDOW \
	",\"oldestFirst\":true}]}"

static void test_timeshift_baddate(void **state)
{
	struct sim *s = small_sim("timeshift:type=url,offset=-300000000,sticky=1", 0, 0);
	struct resp r, n;
	json_object *a;
	char d[25];

	(void)state;
	post_v1(s, PATH_URL, FIRST100, &r);
	assert_int_equal(page_records(&r, "clickLogs"), 100);
	a = jget(json_object_array_get_idx(jget(r.json, "data"), 0), "clickLogs");
	/* the first record moved back, the second as it was */
	sim_records_format_date(1600000000 - 300000000, d);
	assert_string_equal(json_object_get_string(jget(json_object_array_get_idx(a, 0), "date")),
			    d);
	assert_string_equal(first_mid(&r, "clickLogs"), "<sim-url-0@1.sim.example>");
	sim_records_format_date(1600000000 + 14, d);  /* 3600 s / 250 records */
	assert_string_equal(json_object_get_string(jget(json_object_array_get_idx(a, 1), "date")),
			    d);
	assert_int_equal(stat_i64(s, "sticky", NULL), 1);
	/* sticky: first in every later answer, this type only, any window */
	follow(s, PATH_URL, &r, &n);
	assert_int_equal(page_records(&n, "clickLogs"), 101);
	assert_string_equal(first_mid(&n, "clickLogs"), "<sim-url-0@1.sim.example>");
	resp_free(&n);
	post_v1(s, PATH_URL, "{\"data\":[{\"from\":\"2000-01-01T00:00:00+0000\","
		"\"to\":\"2000-01-02T00:00:00+0000\"}]}", &n);
	assert_int_equal(page_records(&n, "clickLogs"), 1);
	assert_null(next_of(&n));
	resp_free(&n);
	post_v1(s, PATH_IMP, FIRST100, &n);
	assert_int_equal(page_records(&n, "impersonationLogs"), 100);
	resp_free(&n);
	resp_free(&r);
	/* every=N: every Nth record of the page; no sticky: not served again */
	set_faults(s, "timeshift:type=attachment,offset=36000,every=25");
	post_v1(s, PATH_ATT, FIRST100, &r);
	a = jget(json_object_array_get_idx(jget(r.json, "data"), 0), "attachmentLogs");
	for (int k = 0; k < 100; k++) {
		int64_t want = 1600000000 + k * 3600 / 250 + (k % 25 == 24 ? 36000 : 0);

		sim_records_format_date(want, d);
		assert_string_equal(json_object_get_string(jget(json_object_array_get_idx(a,
			(size_t)k), "date")), d);
	}
	follow(s, PATH_ATT, &r, &n);
	assert_int_equal(page_records(&n, "attachmentLogs"), 100);
	resp_free(&n);
	resp_free(&r);
	/* baddate: the first record's time field holds the text */
	set_faults(s, "baddate:type=impersonation,value=2026-04-31T10:00:00+0000");
	post_v1(s, PATH_IMP, FIRST100, &r);
	a = jget(json_object_array_get_idx(jget(r.json, "data"), 0), "impersonationLogs");
	assert_string_equal(json_object_get_string(jget(json_object_array_get_idx(a, 0),
							"eventTime")), "2026-04-31T10:00:00+0000");
	assert_string_equal(first_mid(&r, "impersonationLogs"),
			    "<sim-impersonation-0@1.sim.example>");
	resp_free(&r);
	sim_stop(s);
}

/* The first record's messageId of the pages a walk of k pages sees,
 * starting at FIRST100; tokens kept in toks. */
static void walk(struct sim *s, int k, char mids[][64], char toks[][128])
{
	struct resp r;

	post_v1(s, PATH_URL, FIRST100, &r);
	for (int j = 0; j < k; j++) {
		assert_int_equal(r.status, 200);
		snprintf(mids[j], 64, "%s", first_mid(&r, "clickLogs"));
		assert_non_null(next_of(&r));
		snprintf(toks[j], 128, "%s", next_of(&r));
		resp_free(&r);
		if (j + 1 < k)
			follow_tok(s, PATH_URL, toks[j], &r);
	}
}

static void test_nextloop_repeatpages(void **state)
{
	struct sim *s = small_sim("nextloop:type=url,after=1", 0, 0);
	char mids[8][64], toks[8][128];

	(void)state;
	/* period 1 from page 2: page 2 for ever, the same token each time */
	walk(s, 5, mids, toks);
	assert_string_equal(mids[0], "<sim-url-0@1.sim.example>");
	for (int j = 1; j < 5; j++)
		assert_string_equal(mids[j], "<sim-url-100@1.sim.example>");
	for (int j = 2; j < 5; j++)
		assert_string_equal(toks[j], toks[1]);
	assert_string_not_equal(toks[0], toks[1]);
	/* period 2 from page 3 (the last, which then still has next): pages
	 * 2, 3, 2, 3 ... and the tokens cycle */
	set_faults(s, "nextloop:type=url,after=2,period=2");
	walk(s, 7, mids, toks);
	static const char *const want[7] = { "0", "100", "200", "100", "200", "100", "200" };

	for (int j = 0; j < 7; j++) {
		char m[64];

		snprintf(m, sizeof(m), "<sim-url-%s@1.sim.example>", want[j]);
		assert_string_equal(mids[j], m);
	}
	assert_string_equal(toks[4], toks[2]);
	assert_string_equal(toks[5], toks[3]);
	assert_true(stat_i64(s, "loop_pages", NULL) >= 4);
	/* repeatpages from page 2: pages 1, 2, 1, 2 ... with new tokens */
	set_faults(s, "repeatpages:type=url,after=1");
	walk(s, 7, mids, toks);
	for (int j = 0; j < 7; j++)
		assert_string_equal(mids[j], j % 2 ? "<sim-url-100@1.sim.example>" :
				     "<sim-url-0@1.sim.example>");
	for (int j = 0; j < 7; j++)
		for (int k = 0; k < j; k++)
			assert_string_not_equal(toks[j], toks[k]);
	sim_stop(s);
}

static void test_hostile_account_requests(void **state)
{
	struct sim *s = small_sim("hostile_account:type=url", 0, 0);
	struct resp r;
	json_object *d, *pk;
	int pwned = 0, real = 0;

	(void)state;
	post_v1(s, "/api/account/get-account", "{\"data\":[]}", &r);
	assert_int_equal(r.status, 200);
	d = json_object_array_get_idx(jget(r.json, "data"), 0);
	assert_non_null(strstr(json_object_get_string(jget(d, "accountName")),
			       "PWNED-ACCT-NAME\x1b[2J"));
	assert_non_null(strstr(json_object_get_string(jget(d, "accountName")), "\xE2\x80\xAE"));
	assert_non_null(strstr(json_object_get_string(jget(d, "accountCode")), "\r\xC2\x9B"));
	assert_non_null(strstr(r.body.data, "\x9B" "1m"));  /* raw, invalid UTF-8 */
	pk = jget(d, "packages");
	for (size_t k = 0; k < json_object_array_length(pk); k++) {
		const char *p = json_object_get_string(json_object_array_get_idx(pk, k));

		pwned += strstr(p, "PWNED-ACCT-PKG\x1b[2J\x1b]0;") != NULL;
		real += strcmp(p, "URL Protection (Site) [1043]") == 0;
	}
	assert_int_equal(pwned, 1);
	assert_int_equal(real, 1);
	resp_free(&r);
	/* fired once (count=1) */
	post_v1(s, "/api/account/get-account", "{\"data\":[]}", &r);
	assert_non_null(strstr(r.body.data, "\"accountName\":\"Simulated Tenant\""));
	resp_free(&r);
	/* /_sim/requests: the get-logs requests as asked */
	post_v1(s, PATH_URL, "{\"meta\":{\"pagination\":{\"pageSize\":7}},\"data\":[{" WINDOW
		",\"oldestFirst\":true}]}", &r);
	resp_free(&r);
	post(s, "/_sim/requests", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.data, "{\"n\":0,\"type\":\"url\",\"status\":200,"
			       "\"from\":1599955200,\"to\":1600041600,\"pageSize\":7,"
			       "\"token\":false,\"loop\":0,\"records\":7}\n"));
	resp_free(&r);
	sim_stop(s);
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
		cmocka_unit_test(test_page_size_cap),
		cmocka_unit_test(test_opt_in_checks),
		cmocka_unit_test(test_token_revoked),
		cmocka_unit_test(test_gateway429),
		cmocka_unit_test(test_emptyend),
		cmocka_unit_test(test_emptynext_shapes),
		cmocka_unit_test(test_binding_fail),
		cmocka_unit_test(test_echo),
		cmocka_unit_test(test_records_time_override),
		cmocka_unit_test(test_timeshift_baddate),
		cmocka_unit_test(test_nextloop_repeatpages),
		cmocka_unit_test(test_hostile_account_requests),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
