/* test_sink_http.c - the HEC and Elasticsearch sinks against a strict
 * receiver (tests/lib/strict_http.py) that the test starts itself on
 * 127.0.0.1: exact bytes on the wire, order, batch limits, every fault the
 * receiver can inject retried by a caller loop like the output thread's with
 * no loss, idempotent Elasticsearch re-sends, per-item refusals, bad tokens,
 * timeouts, abort, TLS. Prints records/s for both sinks.
 *
 * Skips (77) when python3 is missing; the TLS case skips without openssl.
 * STRICT_HTTP overrides the receiver's path (for make distcheck's VPATH). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jsonscan.h"
#include "output/private.h"
#include "strictrx.h"
#include "testutil.h"
#include "util.h"

#define HEC_TOKEN STRICT_RX_HEC_TOKEN
#define ES_KEY STRICT_RX_ES_KEY

static char tmpdir[256];
static struct strict_rx plain;
static CURL *ctl;

/* ---- the receiver process --------------------------------------------------- */

/* One control request to the plain receiver; returns the HTTP status. */
static long ctl_req(const char *path, const char *post, mw_buf *out)
{
	return strict_rx_ctl(ctl, &plain, path, post, out);
}

static void rx_reset(void)
{
	assert_int_equal(ctl_req("/_ctl/reset", "{}", NULL), 200);
}

static void rx_fault(const char *json)
{
	assert_int_equal(ctl_req("/_ctl/fault", json, NULL), 200);
}

static void rx_config(const char *json)
{
	assert_int_equal(ctl_req("/_ctl/config", json, NULL), 200);
}

/* The receiver's state, parsed. */
struct rxstate {
	mw_buf raw;
	js_doc d;
};

static void rx_state(struct rxstate *st)
{
	mw_err e;

	mw_buf_init(&st->raw);
	js_init(&st->d);
	assert_int_equal(ctl_req("/_ctl/state", NULL, &st->raw), 200);
	assert_int_equal(js_parse(&st->d, st->raw.data, st->raw.len, &e), 0);
}

static void rx_state_free(struct rxstate *st)
{
	mw_buf_free(&st->raw);
	js_free(&st->d);
}

static int64_t rx_int(const struct rxstate *st, const char *path)
{
	int64_t v = -1;
	int t = js_path(&st->d, 0, path);

	if (t < 0 || js_int(&st->d, t, &v) < 0) {
		if (t >= 0 && st->d.toks[t].type == JS_ARRAY)
			return st->d.toks[t].size;
		fail_msg("receiver state has no integer %s", path);
	}
	return v;
}

static void rx_no_violations(const struct rxstate *st)
{
	int t = js_get(&st->d, 0, "violations");

	if (st->d.toks[t].size) {
		fprintf(stderr, "receiver violations: %.2000s\n", st->raw.data);
		fail_msg("the receiver saw %u protocol violations", st->d.toks[t].size);
	}
}

/* ---- records ------------------------------------------------------------------ */

struct recs {
	size_t n;
	struct sink_msg *m;
	char **lines, **ids;
};

static void recs_make(struct recs *r, size_t n, const char *integration, const char *type,
		      size_t pad)
{
	mw_buf b;

	mw_buf_init(&b);
	r->n = n;
	r->m = mw_xcalloc(n, sizeof(*r->m));
	r->lines = mw_xcalloc(n, sizeof(char *));
	r->ids = mw_xcalloc(n, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		char id[32];

		snprintf(id, sizeof(id), "id-%06zu", i);
		mw_buf_reset(&b);
		mw_buf_printf(&b, "{\"integration\":\"%s\",\"type\":\"%s\",\"id\":\"%s\","
			      "\"time\":\"2024-05-01T10:00:%02zuZ\",\"record\":{\"url\":"
			      "\"https://x.example/\\u001b[31m?q=%zu\",\"subject\":\"caf\xc3\xa9 \\\"q\\\"\","
			      "\"pad\":\"", integration, type, id, i % 60, i);
		for (size_t k = 0; k < pad; k++)
			mw_buf_putc(&b, (char)('a' + (i + k) % 26));
		mw_buf_puts(&b, "\"}}");
		r->lines[i] = mw_xstrdup(b.data);
		r->ids[i] = mw_xstrdup(id);
		r->m[i].line = r->lines[i];
		r->m[i].len = b.len;
		r->m[i].integration = integration;
		r->m[i].type = type;
		r->m[i].id = r->ids[i];
		r->m[i].time = 1714557600 + (int64_t)i;
		r->m[i].rowid = (int64_t)i + 1;
	}
	mw_buf_free(&b);
}

static void recs_free(struct recs *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->lines[i]);
		free(r->ids[i]);
	}
	free(r->lines);
	free(r->ids);
	free(r->m);
}

static void opts_hec(struct sink_opts *o, const struct strict_rx *r)
{
	memset(o, 0, sizeof(*o));
	o->name = "siem-hec";
	o->url = r->url_hec;
	o->token = HEC_TOKEN;
	o->hostname = "collector-1";
	o->timeout_ms = 10000;
}

static void opts_es(struct sink_opts *o, const struct strict_rx *r)
{
	memset(o, 0, sizeof(*o));
	o->name = "siem-es";
	o->url = r->url_es;
	o->token = ES_KEY;
	o->index = "mimecast-{integration}-{type}";
	o->timeout_ms = 10000;
}

/* What the output thread does: hand the rows from the offset in chunks,
 * move the offset past what was delivered, retry the rest on SINK_RETRY.
 * Returns the number of SINK_RETRY results; a FATAL fails the test. */
static int deliver_all(const struct sink_ops *ops, sink *s, const struct recs *r, size_t chunk)
{
	size_t off = 0;
	int retries = 0;

	while (off < r->n) {
		size_t n = r->n - off < chunk ? r->n - off : chunk, d = 99999;
		enum sink_fail why = SINK_FATAL;
		mw_err e;

		if (ops->send(s, r->m + off, n, &d, &why, &e) == 0) {
			assert_int_equal(d, n);
			assert_string_equal(e.msg, "");  /* nothing skipped */
		} else {
			if (why != SINK_RETRY)
				fail_msg("fatal: %s", e.msg);
			assert_true(d < n);
			retries++;
			if (retries > 100)
				fail_msg("no progress: %s", e.msg);
		}
		off += d;
	}
	return retries;
}

/* ids[] of the receiver's list name equal to the records' ids [from, to)
 * in order. */
static void assert_ids(const struct rxstate *st, const char *list, const struct recs *r,
		       size_t skip_at)
{
	int arr = js_get(&st->d, 0, list), t;
	size_t i, j;

	assert_true(arr >= 0);
	for (i = 0, j = 0, t = arr + 1; i < r->n; i++) {
		if (i == skip_at)
			continue;
		if (j >= st->d.toks[arr].size)
			fail_msg("%s: record %zu missing", list, i);
		if (!js_streq(&st->d, t, r->ids[i]))
			fail_msg("%s[%zu] is not %s", list, j, r->ids[i]);
		t = (int)st->d.toks[t].next;
		j++;
	}
	assert_int_equal(st->d.toks[arr].size, j);
}

/* ---- tests ----------------------------------------------------------------------- */

static void test_open_errors(void **state)
{
	struct sink_opts o;
	sink *s = (sink *)1;
	mw_err e;

	(void)state;
	opts_hec(&o, &plain);
	o.url = "ftp://127.0.0.1:1/services/collector/event";
	assert_int_equal(sink_hec_ops.open(&o, &s, &e), -1);
	assert_null(s);
	assert_string_equal(e.msg, "output \"siem-hec\": url: scheme \"ftp\" is not supported; use https://");
	o.url = "http://splunk.example:8088/services/collector/event";
	assert_int_equal(sink_hec_ops.open(&o, &s, &e), -1);
	assert_non_null(strstr(e.msg, "plain http:// is refused"));
	o.url = "https://splunk.example:8088/services/collector/raw";
	assert_int_equal(sink_hec_ops.open(&o, &s, &e), -1);
	assert_non_null(strstr(e.msg, "not HEC's event endpoint"));
	o.url = "https://u:p@splunk.example:8088/services/collector/event";
	assert_int_equal(sink_hec_ops.open(&o, &s, &e), -1);
	assert_non_null(strstr(e.msg, "no user, query or fragment"));
	opts_hec(&o, &plain);
	o.token = "";
	assert_int_equal(sink_hec_ops.open(&o, &s, &e), -1);
	assert_string_equal(e.msg, "output \"siem-hec\": token: missing; set token, token_file or token_env");
	o.token = "abc\r\nX-Evil: 1";
	assert_int_equal(sink_hec_ops.open(&o, &s, &e), -1);
	assert_non_null(strstr(e.msg, "control character"));
	opts_es(&o, &plain);
	o.token = NULL;  /* Elasticsearch without security takes no key */
	assert_int_equal(sink_es_ops.open(&o, &s, &e), 0);
	sink_es_ops.close(s);
	opts_es(&o, &plain);
	o.ca_file = "/nonexistent/ca.pem";
	assert_int_equal(sink_es_ops.open(&o, &s, &e), -1);
	assert_non_null(strstr(e.msg, "ca_file: cannot read /nonexistent/ca.pem"));
	/* Opening needs no receiver. */
	opts_es(&o, &plain);
	o.url = "https://127.0.0.1:1/";
	assert_int_equal(sink_es_ops.open(&o, &s, &e), 0);
	sink_es_ops.close(s);
	/* Basic auth and client certificates (issue 16). */
	opts_es(&o, &plain);
	o.username = "writer";
	o.password = "pw-123456";
	assert_int_equal(sink_es_ops.open(&o, &s, &e), -1);
	assert_string_equal(e.msg, "output \"siem-es\": api_key and username/password are both "
			    "given; keep one credential");
	o.token = NULL;
	assert_int_equal(sink_es_ops.open(&o, &s, &e), 0);
	sink_es_ops.close(s);
	o.password = NULL;
	assert_int_equal(sink_es_ops.open(&o, &s, &e), -1);
	assert_string_equal(e.msg, "output \"siem-es\": username without password: give both");
	o.username = "a:b";
	o.password = "pw-123456";
	assert_int_equal(sink_es_ops.open(&o, &s, &e), -1);
	assert_non_null(strstr(e.msg, "holding ':'"));
	opts_hec(&o, &plain);
	o.username = "writer";
	o.password = "pw-123456";
	assert_int_equal(sink_hec_ops.open(&o, &s, &e), -1);
	assert_non_null(strstr(e.msg, "username and password are for elasticsearch"));
	opts_hec(&o, &plain);
	o.client_cert = "/etc/hostname";
	assert_int_equal(sink_hec_ops.open(&o, &s, &e), -1);
	assert_string_equal(e.msg, "output \"siem-hec\": client_cert without client_key: give "
			    "both");
	o.client_key = "/etc/hostname";
	assert_int_equal(sink_hec_ops.open(&o, &s, &e), -1);
	assert_non_null(strstr(e.msg, "client_cert is only used with https:// urls"));
	o.url = "https://127.0.0.1:1/services/collector/event";
	o.client_key = "/nonexistent/k.pem";
	assert_int_equal(sink_hec_ops.open(&o, &s, &e), -1);
	assert_non_null(strstr(e.msg, "client_key: cannot read /nonexistent/k.pem"));
}

static void test_hec_exact_bytes(void **state)
{
	struct sink_opts o;
	struct recs r;
	sink *s;
	mw_err e;
	mw_buf got, want;
	size_t d;
	enum sink_fail why;

	(void)state;
	rx_reset();
	recs_make(&r, 2, "acme-eu", "url", 3);
	opts_hec(&o, &plain);
	assert_int_equal(sink_hec_ops.open(&o, &s, &e), 0);
	assert_int_equal(sink_hec_ops.send(s, r.m, 2, &d, &why, &e), 0);
	assert_int_equal(d, 2);
	assert_string_equal(e.msg, "");
	sink_hec_ops.close(s);

	mw_buf_init(&got);
	mw_buf_init(&want);
	for (size_t i = 0; i < 2; i++)
		mw_buf_printf(&want, "{\"time\":%lld,\"host\":\"collector-1\",\"source\":\"mimewatch\","
			      "\"sourcetype\":\"mimecast:url\",\"event\":%s}",
			      (long long)r.m[i].time, r.lines[i]);
	assert_int_equal(ctl_req("/_ctl/body?n=0", NULL, &got), 200);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.data, want.data, want.len);
	{
		struct rxstate st;
		rx_state(&st);
		rx_no_violations(&st);
		assert_int_equal(rx_int(&st, "hec_events"), 2);
		rx_state_free(&st);
	}
	mw_buf_free(&got);
	mw_buf_free(&want);
	recs_free(&r);
}

static void test_es_exact_bytes(void **state)
{
	struct sink_opts o;
	struct recs r;
	sink *s;
	mw_err e;
	mw_buf got, want;
	size_t d;
	enum sink_fail why;

	(void)state;
	rx_reset();
	recs_make(&r, 2, "acme-eu", "impersonation", 3);
	opts_es(&o, &plain);
	assert_int_equal(sink_es_ops.open(&o, &s, &e), 0);
	assert_int_equal(sink_es_ops.send(s, r.m, 2, &d, &why, &e), 0);
	assert_int_equal(d, 2);
	sink_es_ops.close(s);

	mw_buf_init(&got);
	mw_buf_init(&want);
	for (size_t i = 0; i < 2; i++)
		mw_buf_printf(&want, "{\"create\":{\"_index\":\"mimecast-acme-eu-impersonation\","
			      "\"_id\":\"%s\"}}\n%s\n", r.ids[i], r.lines[i]);
	assert_int_equal(ctl_req("/_ctl/body?n=0", NULL, &got), 200);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.data, want.data, want.len);
	{
		struct rxstate st;
		rx_state(&st);
		rx_no_violations(&st);
		assert_int_equal(rx_int(&st, "es_docs"), 2);
		rx_state_free(&st);
	}
	mw_buf_free(&got);
	mw_buf_free(&want);
	recs_free(&r);
}

/* Every request's record count and size within the limits; returns how
 * many requests there were. */
static size_t assert_batches(const struct rxstate *st, int max_n, size_t max_bytes)
{
	int arr = js_get(&st->d, 0, "requests"), t;
	size_t i;

	for (i = 0, t = arr + 1; i < st->d.toks[arr].size; i++, t = (int)st->d.toks[t].next) {
		int64_t n = -1, bytes = -1;

		js_int(&st->d, js_get(&st->d, t, "n"), &n);
		js_int(&st->d, js_get(&st->d, t, "bytes"), &bytes);
		assert_true(n >= 1 && n <= max_n);
		if (n > 1)
			assert_true((size_t)bytes <= max_bytes);
	}
	return i;
}

static void test_hec_order_and_count_batches(void **state)
{
	struct sink_opts o;
	struct recs r;
	struct rxstate st;
	sink *s;
	mw_err e;

	(void)state;
	rx_reset();
	recs_make(&r, 2000, "acme-eu", "url", 100);
	opts_hec(&o, &plain);
	o.batch_max = 64;
	assert_int_equal(sink_hec_ops.open(&o, &s, &e), 0);
	assert_int_equal(deliver_all(&sink_hec_ops, s, &r, 500), 0);
	sink_hec_ops.close(s);
	rx_state(&st);
	rx_no_violations(&st);
	assert_int_equal(rx_int(&st, "hec_events"), 2000);
	assert_ids(&st, "hec_ids", &r, SIZE_MAX);
	/* 4 chunks of 500 = 7 x 64 + 52 each */
	assert_int_equal(assert_batches(&st, 64, SIZE_MAX), 32);
	rx_state_free(&st);
	recs_free(&r);
}

/* The bytes record i takes on the wire, as the exact-bytes tests spell it. */
static size_t framed_len(int es, const struct recs *r, size_t i)
{
	mw_buf b;
	size_t n;

	mw_buf_init(&b);
	if (es)
		mw_buf_printf(&b, "{\"create\":{\"_index\":\"mimecast-%s-%s\",\"_id\":\"%s\"}}\n%s\n",
			      r->m[i].integration, r->m[i].type, r->ids[i], r->lines[i]);
	else
		mw_buf_printf(&b, "{\"time\":%lld,\"host\":\"collector-1\",\"source\":\"mimewatch\","
			      "\"sourcetype\":\"mimecast:%s\",\"event\":%s}",
			      (long long)r->m[i].time, r->m[i].type, r->lines[i]);
	n = b.len;
	mw_buf_free(&b);
	return n;
}

/* Greedy packing by count and bytes, one send of all records. */
static size_t expected_requests(int es, const struct recs *r, size_t max_n, size_t max_bytes)
{
	size_t req = 0, k = 0, bytes = 0;

	for (size_t i = 0; i < r->n; i++) {
		size_t f = framed_len(es, r, i);

		if (k && (k == max_n || bytes + f > max_bytes)) {
			req++;
			k = 0;
			bytes = 0;
		}
		k++;
		bytes += f;
	}
	return req + (k > 0);
}

static void test_byte_batches(void **state)
{
	struct sink_opts o;
	struct recs r, big;
	struct rxstate st;
	sink *s;
	mw_err e;
	size_t d, nreq;
	enum sink_fail why;

	(void)state;
	for (int es = 0; es < 2; es++) {
		const struct sink_ops *ops = es ? &sink_es_ops : &sink_hec_ops;

		rx_reset();
		recs_make(&r, 1000, "acme-eu", "attachment", 200);
		if (es)
			opts_es(&o, &plain);
		else
			opts_hec(&o, &plain);
		o.batch_bytes = 4000;
		assert_int_equal(ops->open(&o, &s, &e), 0);
		assert_int_equal(deliver_all(ops, s, &r, 1000), 0);
		/* A record larger than batch_bytes still goes, alone. */
		recs_make(&big, 1, "acme-eu", "attachment", 9000);
		assert_int_equal(ops->send(s, big.m, 1, &d, &why, &e), 0);
		assert_int_equal(d, 1);
		ops->close(s);
		rx_state(&st);
		rx_no_violations(&st);
		assert_int_equal(rx_int(&st, es ? "es_docs" : "hec_events"), 1000 + (es ? 0 : 1));
		nreq = assert_batches(&st, 500, 4000);
		assert_int_equal(nreq, expected_requests(es, &r, 500, 4000) + 1);
		rx_state_free(&st);
		recs_free(&r);
		recs_free(&big);
	}
}

static void test_hec_faults_retried(void **state)
{
	struct sink_opts o;
	struct recs r;
	struct rxstate st;
	sink *s;
	mw_err e;
	int retries;

	(void)state;
	rx_reset();
	recs_make(&r, 1000, "acme-eu", "url", 50);
	opts_hec(&o, &plain);
	o.batch_max = 100;
	assert_int_equal(sink_hec_ops.open(&o, &s, &e), 0);
	/* Requests 3..: two 503, a 429, a 500, one answer cut off after
	 * processing (the batch arrives twice) */
	rx_fault("{\"mode\":\"stall\",\"ms\":0,\"count\":2}");
	rx_fault("{\"mode\":\"503\",\"count\":2}");
	rx_fault("{\"mode\":\"429\"}");
	rx_fault("{\"mode\":\"500\"}");
	rx_fault("{\"mode\":\"close_after\"}");
	retries = deliver_all(&sink_hec_ops, s, &r, 1000);
	sink_hec_ops.close(s);
	assert_int_equal(retries, 5);
	rx_state(&st);
	rx_no_violations(&st);
	/* Batch 3 (records 200..299) arrived twice; nothing else did. */
	assert_int_equal(rx_int(&st, "hec_events"), 1100);
	{
		int arr = js_get(&st.d, 0, "hec_ids"), t = arr + 1;
		for (size_t i = 0; i < 1100; i++, t = (int)st.d.toks[t].next) {
			size_t want = i < 300 ? i : i - 100;
			assert_true(js_streq(&st.d, t, r.ids[want]));
		}
	}
	rx_state_free(&st);
	recs_free(&r);
}

static void test_es_faults_idempotent(void **state)
{
	struct sink_opts o;
	struct recs r;
	struct rxstate st;
	sink *s;
	mw_err e;
	int retries;

	(void)state;
	rx_reset();
	recs_make(&r, 1000, "acme-eu", "url", 50);
	opts_es(&o, &plain);
	o.batch_max = 100;
	assert_int_equal(sink_es_ops.open(&o, &s, &e), 0);
	rx_fault("{\"mode\":\"503\",\"count\":2}");
	rx_fault("{\"mode\":\"close_after\"}");
	rx_fault("{\"mode\":\"429\"}");
	rx_fault("{\"mode\":\"close_before\"}");
	rx_fault("{\"mode\":\"500\"}");
	retries = deliver_all(&sink_es_ops, s, &r, 1000);
	/* A restart: everything from offset 0 again. */
	assert_int_equal(deliver_all(&sink_es_ops, s, &r, 1000), 0);
	sink_es_ops.close(s);
	rx_state(&st);
	rx_no_violations(&st);
	/* 6 faults, 5 retries: the connection closed with no answer was a
	 * reused one, which libcurl itself retries once on a fresh connection
	 * (that request met the 500). */
	assert_int_equal(retries, 5);
	assert_int_equal(rx_int(&st, "es_docs"), 1000);
	assert_ids(&st, "es_ids", &r, SIZE_MAX);
	/* the cut-off batch's 100 re-sent, then all 1000 again */
	assert_int_equal(rx_int(&st, "es_conflicts"), 1100);
	rx_state_free(&st);
	recs_free(&r);
}

static void test_es_partial_items(void **state)
{
	struct sink_opts o;
	struct recs r;
	struct rxstate st;
	sink *s;
	mw_err e;
	size_t d;
	enum sink_fail why;

	(void)state;
	rx_reset();
	recs_make(&r, 10, "acme-eu", "url", 10);
	opts_es(&o, &plain);
	assert_int_equal(sink_es_ops.open(&o, &s, &e), 0);
	/* item 3 busy, item 6 a server error: the prefix 0..2 is delivered */
	rx_fault("{\"mode\":\"items\",\"statuses\":{\"3\":429,\"6\":503}}");
	assert_int_equal(sink_es_ops.send(s, r.m, 10, &d, &why, &e), -1);
	assert_int_equal(d, 3);
	assert_int_equal(why, SINK_RETRY);
	assert_string_equal(e.msg, "output \"siem-es\" (elasticsearch): record id id-000003: HTTP 429 "
			    "es_rejected_execution_exception: injected; will retry");
	/* the retry: 4, 5, 7, 8, 9 are there already (409), 3 and 6 are new */
	assert_int_equal(sink_es_ops.send(s, r.m + 3, 7, &d, &why, &e), 0);
	assert_int_equal(d, 7);
	assert_string_equal(e.msg, "");
	/* an item the index refuses for this API key: fatal from there */
	rx_reset();
	rx_fault("{\"mode\":\"items\",\"statuses\":{\"2\":403}}");
	assert_int_equal(sink_es_ops.send(s, r.m, 10, &d, &why, &e), -1);
	assert_int_equal(d, 2);
	assert_int_equal(why, SINK_FATAL);
	sink_es_ops.close(s);
	rx_state(&st);
	rx_no_violations(&st);
	assert_int_equal(rx_int(&st, "es_docs"), 9);  /* all but the refused one */
	rx_state_free(&st);
	recs_free(&r);
}

static void test_rejected_record_skipped(void **state)
{
	struct sink_opts o;
	struct recs r;
	struct rxstate st;
	sink *s;
	mw_err e;
	size_t d;
	enum sink_fail why;

	(void)state;
	for (int es = 0; es < 2; es++) {
		const struct sink_ops *ops = es ? &sink_es_ops : &sink_hec_ops;

		rx_reset();
		rx_config("{\"reject_ids\":[\"id-000005\"]}");
		recs_make(&r, 12, "acme-eu", "url", 10);
		if (es)
			opts_es(&o, &plain);
		else
			opts_hec(&o, &plain);
		assert_int_equal(ops->open(&o, &s, &e), 0);
		assert_int_equal(ops->send(s, r.m, 12, &d, &why, &e), 0);
		assert_int_equal(d, 12);
		if (es)
			assert_string_equal(e.msg, "output \"siem-es\" (elasticsearch): 1 record(s) "
					    "refused for good and skipped (last: id id-000005: HTTP 400 "
					    "document_parsing_exception: injected)");
		else
			assert_string_equal(e.msg, "output \"siem-hec\" (hec): 1 record(s) refused for "
					    "good and skipped (last: id id-000005: HEC code 6 \"Invalid "
					    "data format\")");
		ops->close(s);
		rx_state(&st);
		rx_no_violations(&st);
		assert_ids(&st, es ? "es_ids" : "hec_ids", &r, 5);
		rx_state_free(&st);
		recs_free(&r);
		rx_config("{\"reject_ids\":[]}");
	}
}

/* A line that would break the bulk framing never reaches the wire. */
static void test_malformed_line_skipped(void **state)
{
	struct sink_opts o;
	struct recs r;
	struct rxstate st;
	sink *s;
	mw_err e;
	size_t d;
	enum sink_fail why;
	char bad[] = "{\"integration\":\"acme-eu\",\"type\":\"url\",\"id\":\"id-000001\",\n\"x\":1}";

	(void)state;
	rx_reset();
	recs_make(&r, 3, "acme-eu", "url", 10);
	r.m[1].line = bad;
	r.m[1].len = strlen(bad);
	opts_es(&o, &plain);
	assert_int_equal(sink_es_ops.open(&o, &s, &e), 0);
	assert_int_equal(sink_es_ops.send(s, r.m, 3, &d, &why, &e), 0);
	assert_int_equal(d, 3);
	assert_string_equal(e.msg, "output \"siem-es\" (elasticsearch): 1 record(s) refused for good "
			    "and skipped (last: id id-000001: empty, without an id, or holding a "
			    "newline)");
	sink_es_ops.close(s);
	rx_state(&st);
	rx_no_violations(&st);
	assert_ids(&st, "es_ids", &r, 1);
	assert_int_equal(rx_int(&st, "requests"), 2);  /* record 0, then record 2 */
	rx_state_free(&st);
	recs_free(&r);
}

static void test_bad_token_fatal(void **state)
{
	struct sink_opts o;
	struct recs r;
	sink *s;
	mw_err e;
	size_t d;
	enum sink_fail why = SINK_RETRY;

	(void)state;
	rx_reset();
	recs_make(&r, 3, "acme-eu", "url", 10);
	opts_hec(&o, &plain);
	o.token = "wrong-token";
	assert_int_equal(sink_hec_ops.open(&o, &s, &e), 0);
	assert_int_equal(sink_hec_ops.send(s, r.m, 3, &d, &why, &e), -1);
	assert_int_equal(d, 0);
	assert_int_equal(why, SINK_FATAL);
	assert_string_equal(e.msg, "output \"siem-hec\" (hec): Splunk refused the token (HTTP 403, code "
			    "4 \"Invalid token\"); check token, token_file or token_env of this "
			    "output, and that the token is enabled");
	sink_hec_ops.close(s);

	opts_es(&o, &plain);
	o.token = "d3Jvbmc6a2V5";
	assert_int_equal(sink_es_ops.open(&o, &s, &e), 0);
	why = SINK_RETRY;
	assert_int_equal(sink_es_ops.send(s, r.m, 3, &d, &why, &e), -1);
	assert_int_equal(d, 0);
	assert_int_equal(why, SINK_FATAL);
	assert_string_equal(e.msg, "output \"siem-es\" (elasticsearch): the API key was refused (HTTP "
			    "401); check api_key, api_key_file or api_key_env of this output");
	sink_es_ops.close(s);
	/* A token revoked mid-stream: the same. */
	opts_hec(&o, &plain);
	assert_int_equal(sink_hec_ops.open(&o, &s, &e), 0);
	rx_fault("{\"mode\":\"badtoken\"}");
	assert_int_equal(sink_hec_ops.send(s, r.m, 3, &d, &why, &e), -1);
	assert_int_equal(why, SINK_FATAL);
	assert_non_null(strstr(e.msg, "refused the token"));
	sink_hec_ops.close(s);
	recs_free(&r);
}

static void test_index_errors_fatal(void **state)
{
	struct sink_opts o;
	struct recs r;
	struct rxstate st;
	sink *s;
	mw_err e;
	size_t d;
	enum sink_fail why = SINK_RETRY;

	(void)state;
	rx_reset();
	recs_make(&r, 6, "Acme", "url", 10);
	/* HEC: an index outside the token's list is refused at event 0 */
	rx_config("{\"hec_indexes\":[\"main\"]}");
	opts_hec(&o, &plain);
	o.index = "mimecast";
	assert_int_equal(sink_hec_ops.open(&o, &s, &e), 0);
	assert_int_equal(sink_hec_ops.send(s, r.m, 6, &d, &why, &e), -1);
	assert_int_equal(d, 0);
	assert_int_equal(why, SINK_FATAL);
	assert_string_equal(e.msg, "output \"siem-hec\" (hec): Splunk refused the index \"mimecast\" "
			    "(code 7 \"Incorrect index\"); add it to the token's allowed indexes or "
			    "fix index");
	sink_hec_ops.close(s);
	rx_config("{\"hec_indexes\":null}");
	/* Elasticsearch: "Acme" makes an upper-case index name; caught before
	 * anything is sent */
	opts_es(&o, &plain);
	why = SINK_RETRY;
	assert_int_equal(sink_es_ops.open(&o, &s, &e), 0);
	assert_int_equal(sink_es_ops.send(s, r.m, 6, &d, &why, &e), -1);
	assert_int_equal(d, 0);
	assert_int_equal(why, SINK_FATAL);
	assert_non_null(strstr(e.msg, "expands to \"mimecast-Acme-url\", not a valid index name"));
	sink_es_ops.close(s);
	rx_state(&st);
	assert_int_equal(rx_int(&st, "requests"), 1);  /* the HEC one only */
	rx_state_free(&st);
	recs_free(&r);
}

static void test_413_split(void **state)
{
	struct sink_opts o;
	struct recs r, big;
	struct rxstate st;
	sink *s;
	mw_err e;
	size_t d;
	enum sink_fail why;

	(void)state;
	for (int es = 0; es < 2; es++) {
		const struct sink_ops *ops = es ? &sink_es_ops : &sink_hec_ops;

		rx_reset();
		rx_config("{\"max_body\":3000}");
		recs_make(&r, 200, "acme-eu", "url", 100);
		if (es)
			opts_es(&o, &plain);
		else
			opts_hec(&o, &plain);
		assert_int_equal(ops->open(&o, &s, &e), 0);
		assert_int_equal(ops->send(s, r.m, 200, &d, &why, &e), 0);
		assert_int_equal(d, 200);
		/* one record above the limit cannot go at all: skipped */
		recs_make(&big, 1, "acme-eu", "url", 5000);
		assert_int_equal(ops->send(s, big.m, 1, &d, &why, &e), 0);
		assert_int_equal(d, 1);
		assert_non_null(strstr(e.msg, "1 record(s) refused for good"));
		ops->close(s);
		rx_state(&st);
		rx_no_violations(&st);
		assert_ids(&st, es ? "es_ids" : "hec_ids", &r, SIZE_MAX);
		rx_state_free(&st);
		recs_free(&r);
		recs_free(&big);
		rx_config("{\"max_body\":0}");
	}
}

static atomic_int abort_now;

static void *set_abort(void *arg)
{
	(void)arg;
	mw_sleep_ms(300);
	abort_now = 1;
	return NULL;
}

static void test_timeout_abort_down(void **state)
{
	struct sink_opts o;
	struct recs r;
	sink *s;
	mw_err e;
	size_t d;
	enum sink_fail why = SINK_FATAL;
	int64_t t0;
	pthread_t th;

	(void)state;
	rx_reset();
	recs_make(&r, 3, "acme-eu", "url", 10);
	opts_hec(&o, &plain);
	o.timeout_ms = 400;
	assert_int_equal(sink_hec_ops.open(&o, &s, &e), 0);
	rx_fault("{\"mode\":\"stall\",\"ms\":3000}");
	t0 = mw_mono_ms();
	assert_int_equal(sink_hec_ops.send(s, r.m, 3, &d, &why, &e), -1);
	assert_true(mw_mono_ms() - t0 < 2500);
	assert_int_equal(why, SINK_RETRY);
	assert_non_null(strstr(e.msg, "receiver unreachable: Operation timed out"));
	sink_hec_ops.close(s);

	/* abort: a 20 s timeout, the flag set after 0.3 s */
	opts_es(&o, &plain);
	o.timeout_ms = 20000;
	o.abort_flag = &abort_now;
	abort_now = 0;
	assert_int_equal(sink_es_ops.open(&o, &s, &e), 0);
	rx_fault("{\"mode\":\"stall\",\"ms\":5000}");
	pthread_create(&th, NULL, set_abort, NULL);
	t0 = mw_mono_ms();
	assert_int_equal(sink_es_ops.send(s, r.m, 3, &d, &why, &e), -1);
	assert_true(mw_mono_ms() - t0 < 1800);
	pthread_join(th, NULL);
	assert_int_equal(why, SINK_RETRY);
	assert_int_equal(d, 0);
	assert_string_equal(e.msg, "output \"siem-es\" (elasticsearch): stopped (shutting down)");
	sink_es_ops.close(s);

	/* nobody listening: retry */
	opts_es(&o, &plain);
	o.url = "http://127.0.0.1:1";
	assert_int_equal(sink_es_ops.open(&o, &s, &e), 0);
	why = SINK_FATAL;
	assert_int_equal(sink_es_ops.send(s, r.m, 3, &d, &why, &e), -1);
	assert_int_equal(why, SINK_RETRY);
	assert_non_null(strstr(e.msg, "receiver unreachable"));
	sink_es_ops.close(s);
	recs_free(&r);
}

static void test_tls(void **state)
{
	char cert[512], key[512], cmd[2048];
	struct strict_rx tls;
	struct sink_opts o;
	struct recs r;
	sink *s;
	mw_err e;
	size_t d;
	enum sink_fail why = SINK_RETRY;

	(void)state;
	snprintf(cert, sizeof(cert), "%s/cert.pem", tmpdir);
	snprintf(key, sizeof(key), "%s/key.pem", tmpdir);
	snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
		 "-nodes -days 2 -subj /CN=localhost -addext "
		 "subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout %s -out %s >/dev/null 2>&1",
		 key, cert);
	if (system(cmd) != 0)
		skip();
	memset(&tls, 0, sizeof(tls));
	assert_int_equal(strict_rx_start(&tls, tmpdir, "tls", cert, key), 0);
	recs_make(&r, 50, "acme-eu", "url", 10);
	for (int es = 0; es < 2; es++) {
		const struct sink_ops *ops = es ? &sink_es_ops : &sink_hec_ops;

		if (es)
			opts_es(&o, &tls);
		else
			opts_hec(&o, &tls);
		/* without the CA: refused for good */
		assert_int_equal(ops->open(&o, &s, &e), 0);
		assert_int_equal(ops->send(s, r.m, 50, &d, &why, &e), -1);
		assert_int_equal(why, SINK_FATAL);
		assert_int_equal(d, 0);
		assert_non_null(strstr(e.msg, "TLS failure"));
		ops->close(s);
		o.ca_file = cert;
		assert_int_equal(ops->open(&o, &s, &e), 0);
		assert_int_equal(ops->send(s, r.m, 50, &d, &why, &e), 0);
		assert_int_equal(d, 50);
		ops->close(s);
	}
	strict_rx_stop(&tls);
	recs_free(&r);
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	       ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

/* Figures, not pass/fail: records/s against the strict (python) receiver,
 * which parses and checks every object and is the bottleneck; and our CPU
 * per record. */
static void test_throughput(void **state)
{
	struct sink_opts o;
	struct recs r;
	struct rxstate st;
	sink *s;
	mw_err e;
	size_t n = 20000;

	(void)state;
	recs_make(&r, n, "acme-eu", "url", 400);
	for (int es = 0; es < 2; es++) {
		const struct sink_ops *ops = es ? &sink_es_ops : &sink_hec_ops;
		int64_t t0;
		double c0, secs, cpu;

		rx_reset();
		if (es)
			opts_es(&o, &plain);
		else
			opts_hec(&o, &plain);
		assert_int_equal(ops->open(&o, &s, &e), 0);
		t0 = mw_mono_ms();
		c0 = cpu_s();
		assert_int_equal(deliver_all(ops, s, &r, 500), 0);
		secs = (double)(mw_mono_ms() - t0) / 1000.0;
		cpu = cpu_s() - c0;
		ops->close(s);
		rx_state(&st);
		assert_int_equal(rx_int(&st, es ? "es_docs" : "hec_events"), (int64_t)n);
		rx_state_free(&st);
		printf("figure: %s sink: %zu records of %zu bytes in %.2f s = %.0f records/s; "
		       "client CPU %.1f us/record\n", ops->kind, n, r.m[0].len, secs,
		       (double)n / secs, cpu * 1e6 / (double)n);
	}
	recs_free(&r);
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/mw-sinkhttp-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	ctl = curl_easy_init();
	return strict_rx_start(&plain, tmpdir, "plain", NULL, NULL);
}

static int group_teardown(void **state)
{
	(void)state;
	strict_rx_stop(&plain);
	curl_easy_cleanup(ctl);
	rm_rf(tmpdir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_hec_exact_bytes),
		cmocka_unit_test(test_es_exact_bytes),
		cmocka_unit_test(test_hec_order_and_count_batches),
		cmocka_unit_test(test_byte_batches),
		cmocka_unit_test(test_hec_faults_retried),
		cmocka_unit_test(test_es_faults_idempotent),
		cmocka_unit_test(test_es_partial_items),
		cmocka_unit_test(test_rejected_record_skipped),
		cmocka_unit_test(test_malformed_line_skipped),
		cmocka_unit_test(test_bad_token_fatal),
		cmocka_unit_test(test_index_errors_fatal),
		cmocka_unit_test(test_413_split),
		cmocka_unit_test(test_timeout_abort_down),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_throughput),
	};

	if (system("python3 -c 'import http.server, ssl' >/dev/null 2>&1") != 0) {
		printf("skip: python3 with http.server and ssl is needed for the strict receiver\n");
		return 77;
	}
	if (access(strict_rx_path(), R_OK) < 0) {
		printf("skip: %s not found (set STRICT_HTTP)\n", strict_rx_path());
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
