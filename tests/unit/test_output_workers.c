/* test_output_workers.c - the network outputs' workers (output/workers.c)
 * with a real store (records committed as the collector commits them) and
 * the strict HTTP receiver (tests/lib/strict_http.py) as a Splunk HEC
 * endpoint: every record delivered exactly once and in order, the output's
 * durable offset moved past them, NDJSON outputs left to their own thread,
 * a receiver that refuses and then accepts (retried with backoff, nothing
 * lost or repeated), fetch's finish giving up after the retry budget (or at
 * once on a refused token) with an error naming the output, run mode with
 * kicks, reload adding an output that starts from its own offset, stop
 * during a backoff, and "send test record" (output_send_test).
 *
 * Skips (77) when python3 is missing. STRICT_HTTP overrides the receiver's
 * path (make check sets it). */
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
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "output/output.h"
#include "store/store.h"
#include "strictrx.h"
#include "testutil.h"
#include "util.h"

#define HEC_TOKEN STRICT_RX_HEC_TOKEN
#define T0 1731862950LL  /* record times: 2024-11-17T17:02:30Z on */

static char tmpdir[256];
static struct strict_rx rx;
static CURL *ctl;

/* ---- the receiver process --------------------------------------------------- */

static long ctl_req(const char *path, const char *post, mw_buf *out)
{
	return strict_rx_ctl(ctl, &rx, path, post, out);
}

static void rx_reset(void)
{
	assert_int_equal(ctl_req("/_ctl/reset", "{}", NULL), 200);
}

static void rx_fault(const char *json)
{
	assert_int_equal(ctl_req("/_ctl/fault", json, NULL), 200);
}

/* The receiver's state (json-c; put it when done). */
static json_object *rx_state(void)
{
	mw_buf b;
	json_object *o;

	mw_buf_init(&b);
	assert_int_equal(ctl_req("/_ctl/state", NULL, &b), 200);
	o = json_tokener_parse(b.data);
	assert_non_null(o);
	mw_buf_free(&b);
	return o;
}

static json_object *jget(json_object *o, const char *k)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, k, &v))
		fail_msg("receiver state without %s", k);
	return v;
}

static int64_t rx_events(void)
{
	json_object *st = rx_state();
	int64_t n = json_object_get_int64(jget(st, "hec_events"));

	json_object_put(st);
	return n;
}

/* The receiver got exactly the ids [0, n) of the fixture's records, in
 * order, each once, in `requests` accepted requests, and saw no protocol
 * violation. */
static void assert_delivered(int n, int requests_ok)
{
	json_object *st = rx_state(), *ids = jget(st, "hec_ids"), *reqs = jget(st, "requests");
	int ok = 0;

	if (json_object_array_length(jget(st, "violations")))
		fail_msg("receiver violations: %s", json_object_to_json_string(jget(st, "violations")));
	assert_int_equal(json_object_get_int64(jget(st, "hec_events")), n);
	assert_int_equal(json_object_array_length(ids), n);
	for (int i = 0; i < n; i++) {
		char want[32];

		snprintf(want, sizeof(want), "rec-%05d", i);
		assert_string_equal(json_object_get_string(json_object_array_get_idx(ids, i)), want);
	}
	for (size_t i = 0; i < json_object_array_length(reqs); i++)
		ok += json_object_get_int(jget(json_object_array_get_idx(reqs, i), "status")) == 200;
	if (requests_ok >= 0)
		assert_int_equal(ok, requests_ok);
	json_object_put(st);
}

/* ---- the store and the outputs ------------------------------------------------ */

struct fx {
	char state[300];
	mw_store *s;
	int64_t src;
	int nrecs;
	struct mw_output o[3];
	struct output_set cfg;
};

static struct mw_output hec_output(const char *name, int batch)
{
	struct mw_output o;

	memset(&o, 0, sizeof(o));
	o.kind = MW_OUT_HEC;
	o.name = (char *)name;
	o.url = rx.url_hec;
	o.token.value = (char *)HEC_TOKEN;
	o.batch = batch;
	o.timeout = 10;
	return o;
}

static int setup(void **state)
{
	static int n;
	struct fx *f = calloc(1, sizeof(*f));
	mw_err e;

	snprintf(f->state, sizeof(f->state), "%s/state-%d", tmpdir, ++n);
	if (store_open(f->state, &f->s, &e) < 0 ||
	    store_source(f->s, "acme-eu", "url", &f->src, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return -1;
	}
	f->o[0] = hec_output("siem", 50);
	f->cfg.state_dir = f->state;
	f->cfg.outputs = f->o;
	f->cfg.noutputs = 1;
	rx_reset();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->s);
	rm_rf(f->state);
	free(f);
	return 0;
}

/* Commits records [f->nrecs, f->nrecs + n) as the collector does: pages
 * of up to 100 in one transaction each. */
static void add(struct fx *f, int n)
{
	while (n > 0) {
		struct store_rec recs[100];
		char ids[100][32], js[100][96];
		struct store_page_result r;
		int k = n < 100 ? n : 100;
		mw_err e;

		for (int i = 0; i < k; i++) {
			int at = f->nrecs + i;

			snprintf(ids[i], sizeof(ids[i]), "rec-%05d", at);
			snprintf(js[i], sizeof(js[i]), "{\"n\":%d,\"subject\":\"caf\xc3\xa9 %d\"}", at,
				 at);
			recs[i] = (struct store_rec){ ids[i], T0 + at, 0, js[i], strlen(js[i]), 0 };
		}
		assert_int_equal(store_commit_page(f->s, f->src, recs, (size_t)k, NULL, &r, &e), 0);
		assert_int_equal(r.inserted, k);
		f->nrecs += k;
		n -= k;
	}
}

static int64_t offset(struct fx *f, const char *name)
{
	int64_t last = -1;
	mw_err e;

	assert_int_equal(store_output_get(f->s, name, &last, &e), 0);
	return last;
}

static void info(struct fx *f, const char *name, struct store_output_info *oi)
{
	mw_err e;

	assert_int_equal(store_output_info(f->s, name, oi, &e), 0);
}

/* Waits up to ms for the output's offset to reach want. */
static int wait_offset(struct fx *f, const char *name, int64_t want, int ms)
{
	int64_t t0 = mw_mono_ms();

	while (mw_mono_ms() - t0 < ms) {
		if (offset(f, name) == want)
			return 1;
		mw_sleep_ms(20);
	}
	return offset(f, name) == want;
}

/* ---- tests ----------------------------------------------------------------------- */

static void test_once_delivers_all_in_order(void **state)
{
	struct fx *f = *state;
	struct store_output_info oi;
	sink_workers *w;
	mw_err e;

	add(f, 230);
	assert_int_equal(offset(f, "siem"), 0);
	assert_int_equal(sink_workers_start(&f->cfg, 1, 0, &w, &e), 0);
	assert_int_equal(sink_workers_finish(w, &e), 0);
	sink_workers_stop(w);
	/* 230 records in batches of 50: five requests */
	assert_delivered(230, 5);
	assert_int_equal(offset(f, "siem"), store_max_rowid(f->s));
	info(f, "siem", &oi);
	assert_string_equal(oi.state, "ok");
	assert_string_equal(oi.error, "");
	assert_int_equal(oi.lag_records, 0);
	assert_int_equal(oi.delivered, 230);

	/* the next fetch sends only what is new */
	add(f, 20);
	assert_int_equal(sink_workers_start(&f->cfg, 1, 0, &w, &e), 0);
	assert_int_equal(sink_workers_finish(w, &e), 0);
	sink_workers_stop(w);
	assert_delivered(250, 6);
	assert_int_equal(offset(f, "siem"), store_max_rowid(f->s));

	/* nothing new: nothing sent */
	assert_int_equal(sink_workers_start(&f->cfg, 1, 0, &w, &e), 0);
	assert_int_equal(sink_workers_finish(w, &e), 0);
	sink_workers_stop(w);
	assert_delivered(250, 6);
}

static void test_ndjson_outputs_have_no_worker(void **state)
{
	struct fx *f = *state;
	sink_workers *w;
	mw_err e;

	memset(&f->o[1], 0, sizeof(f->o[1]));
	f->o[1].kind = MW_OUT_NDJSON;
	f->o[1].name = (char *)"files";
	f->o[1].dir = (char *)"/nonexistent/never-written";
	f->cfg.noutputs = 2;
	add(f, 30);
	assert_int_equal(sink_workers_start(&f->cfg, 1, 0, &w, &e), 0);
	assert_int_equal(sink_workers_finish(w, &e), 0);
	sink_workers_stop(w);
	assert_delivered(30, 1);
	assert_int_equal(offset(f, "siem"), store_max_rowid(f->s));
	assert_int_equal(offset(f, "files"), 0);
	/* no network output at all: finish has nothing to wait for */
	f->cfg.outputs = &f->o[1];
	f->cfg.noutputs = 1;
	assert_int_equal(sink_workers_start(&f->cfg, 1, 0, &w, &e), 0);
	assert_int_equal(sink_workers_finish(w, &e), 0);
	sink_workers_stop(w);
	assert_int_equal(offset(f, "files"), 0);
}

static void test_refused_then_accepted(void **state)
{
	struct fx *f = *state;
	struct store_output_info oi;
	sink_workers *w;
	mw_err e;
	int64_t t0;

	add(f, 120);
	/* the first two requests are refused (503, then 429), then accepted:
	 * retried after 1 s and 2 s */
	rx_fault("{\"mode\":\"503\",\"count\":1}");
	rx_fault("{\"mode\":\"429\",\"count\":1}");
	t0 = mw_mono_ms();
	assert_int_equal(sink_workers_start(&f->cfg, 1, 0, &w, &e), 0);
	assert_int_equal(sink_workers_finish(w, &e), 0);
	sink_workers_stop(w);
	assert_true(mw_mono_ms() - t0 >= 3000);
	/* nothing lost, nothing twice: refused requests store nothing */
	assert_delivered(120, 3);
	assert_int_equal(offset(f, "siem"), store_max_rowid(f->s));
	info(f, "siem", &oi);
	assert_string_equal(oi.state, "ok");
	assert_string_equal(oi.error, "");
}

static void test_retrying_state_in_run_mode(void **state)
{
	struct fx *f = *state;
	struct store_output_info oi;
	sink_workers *w;
	mw_err e;
	int64_t t0;

	add(f, 40);
	rx_fault("{\"mode\":\"503\",\"count\":1000}");
	assert_int_equal(sink_workers_start(&f->cfg, 0, 0, &w, &e), 0);
	/* the failure goes to the store, for status and the console */
	t0 = mw_mono_ms();
	do {
		mw_sleep_ms(20);
		info(f, "siem", &oi);
	} while (strcmp(oi.state, "retrying") != 0 && mw_mono_ms() - t0 < 5000);
	assert_string_equal(oi.state, "retrying");
	assert_non_null(strstr(oi.error, "503"));
	assert_non_null(strstr(oi.error, "; retrying with backoff, nothing is lost: delivery "
				      "resumes where it stopped"));
	assert_int_equal(oi.lag_records, 40);
	assert_int_equal(offset(f, "siem"), 0);
	/* the receiver comes back: delivered, and the state says so */
	rx_reset();
	assert_true(wait_offset(f, "siem", store_max_rowid(f->s), 8000));
	info(f, "siem", &oi);
	assert_string_equal(oi.state, "ok");
	assert_string_equal(oi.error, "");
	/* run mode: new records go out on a kick */
	add(f, 10);
	sink_workers_kick(w);
	assert_true(wait_offset(f, "siem", store_max_rowid(f->s), 5000));
	sink_workers_stop(w);
	assert_delivered(50, -1);
}

static void test_once_gives_up_after_budget(void **state)
{
	struct fx *f = *state;
	struct store_output_info oi;
	sink_workers *w;
	mw_err e;
	int64_t t0;

	add(f, 10);
	rx_fault("{\"mode\":\"503\",\"count\":1000}");
	t0 = mw_mono_ms();
	assert_int_equal(sink_workers_start(&f->cfg, 1, 1500, &w, &e), 0);
	assert_int_equal(sink_workers_finish(w, &e), -1);
	sink_workers_stop(w);
	/* tried at 0, 1 s and 3 s: the budget of 1.5 s had run out by then */
	assert_true(mw_mono_ms() - t0 >= 1500);
	assert_true(mw_mono_ms() - t0 < 10000);
	assert_memory_equal(e.msg, "output \"siem\" (hec): ", 21);
	assert_non_null(strstr(e.msg, "503"));
	assert_int_equal(offset(f, "siem"), 0);
	info(f, "siem", &oi);
	assert_string_equal(oi.state, "retrying");
	assert_int_equal(oi.lag_records, 10);
	assert_int_equal(rx_events(), 0);
	{
		json_object *st = rx_state();

		assert_int_equal(json_object_array_length(jget(st, "requests")), 3);
		json_object_put(st);
	}
}

static void test_once_refused_token_gives_up_at_once(void **state)
{
	struct fx *f = *state;
	struct store_output_info oi;
	sink_workers *w;
	mw_err e;
	int64_t t0;

	add(f, 10);
	f->o[0].token.value = (char *)"wrong-token";
	t0 = mw_mono_ms();
	assert_int_equal(sink_workers_start(&f->cfg, 1, 60000, &w, &e), 0);
	assert_int_equal(sink_workers_finish(w, &e), -1);
	sink_workers_stop(w);
	assert_true(mw_mono_ms() - t0 < 5000);
	assert_string_equal(e.msg, "output \"siem\" (hec): Splunk refused the token (HTTP 403, code "
			    "4 \"Invalid token\"); check token, token_file or token_env of this "
			    "output, and that the token is enabled");
	info(f, "siem", &oi);
	assert_string_equal(oi.state, "error");
	assert_non_null(strstr(oi.error, "; fix the output's settings (or the receiver) and "
				      "reload the config; retried every 5 minutes meanwhile"));
	assert_int_equal(offset(f, "siem"), 0);
	assert_int_equal(rx_events(), 0);
}

static void test_stop_during_backoff(void **state)
{
	struct fx *f = *state;
	sink_workers *w;
	mw_err e;
	int64_t t0;

	add(f, 5);
	rx_fault("{\"mode\":\"503\",\"count\":1000}");
	assert_int_equal(sink_workers_start(&f->cfg, 0, 0, &w, &e), 0);
	mw_sleep_ms(1500);  /* failed twice; waiting 2 s */
	t0 = mw_mono_ms();
	sink_workers_stop(w);
	assert_true(mw_mono_ms() - t0 < 1500);
	assert_int_equal(offset(f, "siem"), 0);
	sink_workers_stop(NULL);
	sink_workers_kick(NULL);
	assert_int_equal(sink_workers_finish(NULL, &e), 0);
}

static void test_reload_adds_output_from_its_own_offset(void **state)
{
	struct fx *f = *state;
	struct output_set two;
	sink_workers *w;
	mw_err e;

	add(f, 60);
	assert_int_equal(sink_workers_start(&f->cfg, 0, 0, &w, &e), 0);
	assert_true(wait_offset(f, "siem", store_max_rowid(f->s), 5000));
	/* a second output: all 60 again, to it; the first sends nothing more */
	f->o[1] = hec_output("siem-2", 50);
	two = f->cfg;
	two.noutputs = 2;
	sink_workers_reload(w, &two);
	assert_true(wait_offset(f, "siem-2", store_max_rowid(f->s), 5000));
	mw_sleep_ms(200);
	assert_int_equal(rx_events(), 120);
	/* and back to the second alone: new records go to it only */
	two.outputs = &f->o[1];
	two.noutputs = 1;
	sink_workers_reload(w, &two);
	add(f, 5);
	sink_workers_kick(w);
	assert_true(wait_offset(f, "siem-2", store_max_rowid(f->s), 5000));
	sink_workers_stop(w);
	assert_int_equal(rx_events(), 125);
	assert_int_equal(offset(f, "siem"), store_max_rowid(f->s) - 5);
}

static void test_send_test_record(void **state)
{
	struct fx *f = *state;
	mw_buf res;
	char want[1000], ndjson_dir[400];
	json_object *st;

	mw_buf_init(&res);
	assert_int_equal(output_send_test(&f->cfg, "siem", NULL, &res), 0);
	assert_memory_equal(res.data, "test record test-", 17);
	snprintf(want, sizeof(want), " delivered to hec %s in ", rx.url_hec);
	assert_non_null(strstr(res.data, want));
	st = rx_state();
	assert_int_equal(json_object_get_int64(jget(st, "hec_events")), 1);
	assert_memory_equal(json_object_get_string(json_object_array_get_idx(jget(st, "hec_ids"),
									       0)), "test-", 5);
	assert_int_equal(json_object_array_length(jget(st, "violations")), 0);
	json_object_put(st);
	/* the store is not touched */
	assert_int_equal(offset(f, "siem"), 0);

	mw_buf_reset(&res);
	assert_int_equal(output_send_test(&f->cfg, "nope", NULL, &res), -1);
	assert_string_equal(res.data, "no output named 'nope' in the config");

	/* a refused token: fix the settings */
	mw_buf_reset(&res);
	f->o[0].token.value = (char *)"wrong-token";
	assert_int_equal(output_send_test(&f->cfg, "siem", NULL, &res), -1);
	assert_memory_equal(res.data, "output \"siem\" (hec): Splunk refused the token", 45);
	assert_non_null(strstr(res.data, "; fix the output's settings (url, token or key, "
				      "ca_file) or the receiver's"));
	f->o[0].token.value = (char *)HEC_TOKEN;

	/* a receiver refusing for now: check that it runs */
	mw_buf_reset(&res);
	rx_fault("{\"mode\":\"503\",\"count\":1}");
	assert_int_equal(output_send_test(&f->cfg, "siem", NULL, &res), -1);
	assert_non_null(strstr(res.data, "; check that the receiver runs and this host can "
				      "reach it (records wait in the store meanwhile)"));
	assert_int_equal(rx_events(), 1);

	/* NDJSON: a probe file only, removed again */
	snprintf(ndjson_dir, sizeof(ndjson_dir), "%s/out", f->state);
	memset(&f->o[1], 0, sizeof(f->o[1]));
	f->o[1].kind = MW_OUT_NDJSON;
	f->o[1].name = (char *)"files";
	f->o[1].dir = ndjson_dir;
	f->cfg.noutputs = 2;
	mw_buf_reset(&res);
	assert_int_equal(output_send_test(&f->cfg, "files", NULL, &res), 0);
	snprintf(want, sizeof(want), "%s is writable: records go to %s/<integration>/<type>/",
		 ndjson_dir, ndjson_dir);
	assert_string_equal(res.data, want);
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s')\"", ndjson_dir);
		assert_int_equal(system(cmd), 0);
	}
	mw_buf_free(&res);
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/mw-workers-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	ctl = curl_easy_init();
	return strict_rx_start(&rx, tmpdir, "rx", NULL, NULL);
}

static int group_teardown(void **state)
{
	(void)state;
	strict_rx_stop(&rx);
	curl_easy_cleanup(ctl);
	rm_rf(tmpdir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_once_delivers_all_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ndjson_outputs_have_no_worker, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_then_accepted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retrying_state_in_run_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_once_gives_up_after_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_once_refused_token_gives_up_at_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stop_during_backoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_adds_output_from_its_own_offset, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_send_test_record, setup, teardown),
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
