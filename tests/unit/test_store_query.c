/* test_store_query.c - the store's reads for the console's preview: pages
 * newest and oldest first through the source's runs, the threats-only
 * stream, the text filter (string values only, case-folded, escapes
 * decoded), bounded scans that resume, counts, single rows, the bounded
 * sort by a field (sort.c), a version 5 store upgraded to runs, and the
 * filter's index (grams.c, schema 7): runs whose summary excludes a filter
 * (by trigrams, or by numbers between delimiters) are skipped, its answers
 * equal a full scan's, summaries from before the numbers and damaged ones
 * are read as such, a version 6 store upgraded. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1  /* mkdtemp, nftw alongside -std=c11 */
#endif
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "testutil.h"
#include "jsonout.h"
#include "jsonscan.h"
#include "store/private.h"   /* the connection: VM steps, summaries dropped */
#include "store/store.h"

#define NOW 1731862950LL

struct fx {
	char dir[64];
	char db[128];
	mw_store *s;
	int64_t url, imp;
	/* rowids of the url records, in insertion order */
	int64_t rowid[12];
};

/* The url source's records: threat on every third; subjects and nesting
 * chosen so that each filter below has a known answer. */
static const char *const url_json[12] = {
	"{\"subject\":\"Quarterly report\",\"n\":42}",
	"{\"subject\":\"Hello W\\u00d6rld\",\"n\":1}",
	"{\"subject\":\"plain\",\"nested\":{\"deep\":[\"x\",\"needle-TOKEN\"]}}",
	"{\"subject\":\"esc \\u001b[31mred\",\"n\":3}",
	"{\"keyonlyword\":\"value\"}",
	"{\"subject\":\"\\u041f\\u0420\\u0418\\u0412\\u0415\\u0422\"}",
	"{\"subject\":\"quote \\\" and back\\\\slash\"}",
	"{\"subject\":\"Quarterly REPORT again\",\"flag\":true}",
	"{\"subject\":\"n42 in a string\"}",
	"{\"subject\":\"last but two\"}",
	"{\"subject\":\"last but one\"}",
	"{\"subject\":\"the newest\"}",
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct store_rec rec;
	mw_err e = { "" };
	char id[32];

	snprintf(f->dir, sizeof f->dir, "/tmp/mw_query.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->db, sizeof f->db, "%s/store.db", f->dir);
	if (store_open(f->dir, &f->s, &e) < 0 ||
	    store_source(f->s, "acme", "url", &f->url, &e) < 0 ||
	    store_source(f->s, "acme", "impersonation", &f->imp, &e) < 0)
		return -1;
	/* Interleaved with another source, one record a page, so rowids of
	 * the url source are not contiguous. */
	for (int i = 0; i < 12; i++) {
		snprintf(id, sizeof id, "u%d", i);
		rec = (struct store_rec){ .id = id, .time = NOW + i, .threat = i % 3 == 0,
					  .json = url_json[i], .json_len = strlen(url_json[i]) };
		if (store_commit_page(f->s, f->url, &rec, 1, NULL, NULL, &e) < 0)
			return -1;
		f->rowid[i] = store_max_rowid(f->s);
		snprintf(id, sizeof id, "i%d", i);
		rec = (struct store_rec){ .id = id, .time = NOW + i, .threat = 1,
					  .json = "{\"subject\":\"Quarterly report\"}",
					  .json_len = 31 };
		if (store_commit_page(f->s, f->imp, &rec, 1, NULL, NULL, &e) < 0)
			return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->s);
	rm_rf(f->dir);
	free(f);
	return 0;
}

struct got {
	int64_t rowid[32];
	char id[32][16];
	int n, stop_after;
};

static int collect(const struct store_row *row, void *ctx)
{
	struct got *g = ctx;

	assert_true(g->n < 32);
	assert_string_equal(row->integration, "acme");
	g->rowid[g->n] = row->rowid;
	snprintf(g->id[g->n], sizeof g->id[g->n], "%s", row->id);
	g->n++;
	return g->stop_after && g->n >= g->stop_after;
}

/* Runs one query to its end in one call; returns the ids joined by ','. */
static const char *ids_of(struct fx *f, const struct store_query *q, int newer)
{
	static char out[256];
	struct store_scan sc = { 0, 0 };
	struct got g = { .n = 0 };
	mw_err e = { "" };
	int n = store_query_page(f->s, q, newer, &sc, 0, 0, collect, &g, &e);

	assert_int_equal(n, g.n);
	assert_int_equal(sc.done, 1);
	out[0] = '\0';
	for (int i = 0; i < g.n; i++) {
		strcat(out, i ? "," : "");
		strcat(out, g.id[i]);
	}
	return out;
}

static void test_pages_newest_first(void **state)
{
	struct fx *f = *state;
	struct store_query q = { .source = f->url };
	struct store_scan sc = { 0, 0 };
	struct got g = { .n = 0 };
	mw_err e = { "" };

	/* A page of 4 from the newest, then the next from where it stopped. */
	assert_int_equal(store_query_page(f->s, &q, 0, &sc, 4, 0, collect, &g, &e), 4);
	assert_int_equal(sc.done, 0);
	assert_int_equal(sc.pos, f->rowid[8]);
	assert_int_equal(g.rowid[0], f->rowid[11]);
	assert_int_equal(g.rowid[3], f->rowid[8]);
	assert_int_equal(store_query_page(f->s, &q, 0, &sc, 4, 0, collect, &g, &e), 4);
	assert_string_equal(g.id[4], "u7");
	assert_string_equal(g.id[7], "u4");
	assert_int_equal(store_query_page(f->s, &q, 0, &sc, 100, 0, collect, &g, &e), 4);
	assert_int_equal(sc.done, 1);
	assert_string_equal(g.id[11], "u0");
	/* Past the oldest: nothing, done. */
	assert_int_equal(store_query_page(f->s, &q, 0, &sc, 100, 0, collect, &g, &e), 0);
	assert_int_equal(sc.done, 1);

	assert_string_equal(ids_of(f, &q, 0), "u11,u10,u9,u8,u7,u6,u5,u4,u3,u2,u1,u0");
	assert_string_equal(ids_of(f, &q, 1), "u0,u1,u2,u3,u4,u5,u6,u7,u8,u9,u10,u11");

	/* Oldest first from a bound: strictly after it. */
	sc = (struct store_scan){ f->rowid[9], 0 };
	g.n = 0;
	assert_int_equal(store_query_page(f->s, &q, 1, &sc, 0, 0, collect, &g, &e), 2);
	assert_string_equal(g.id[0], "u10");
	assert_string_equal(g.id[1], "u11");

	/* A callback that stops: the position is on the row it took. */
	sc = (struct store_scan){ 0, 0 };
	g = (struct got){ .n = 0, .stop_after = 2 };
	assert_int_equal(store_query_page(f->s, &q, 0, &sc, 0, 0, collect, &g, &e), 2);
	assert_int_equal(sc.pos, f->rowid[10]);
	assert_int_equal(sc.done, 0);
}

static void test_threats_only(void **state)
{
	struct fx *f = *state;
	struct store_query q = { .source = f->url, .threats_only = 1 };
	int64_t n = -1;
	mw_err e = { "" };

	assert_string_equal(ids_of(f, &q, 0), "u9,u6,u3,u0");
	assert_string_equal(ids_of(f, &q, 1), "u0,u3,u6,u9");
	assert_int_equal(store_query_count(f->s, &q, 0, INT64_MAX, &n, &e), 0);
	assert_int_equal(n, 4);
	/* (rowid of u3, rowid of u9]: u6 and u9. */
	assert_int_equal(store_query_count(f->s, &q, f->rowid[3], f->rowid[9], &n, &e), 0);
	assert_int_equal(n, 2);
	q.threats_only = 0;
	assert_int_equal(store_query_count(f->s, &q, 0, INT64_MAX, &n, &e), 0);
	assert_int_equal(n, 12);
	assert_int_equal(store_query_count(f->s, &q, f->rowid[3], f->rowid[9], &n, &e), 0);
	assert_int_equal(n, 6);
	q.text = "x";
	assert_int_equal(store_query_count(f->s, &q, 0, INT64_MAX, &n, &e), -1);
	assert_non_null(strstr(e.msg, "store_query_page"));
}

static void test_text_filter(void **state)
{
	struct fx *f = *state;
	struct store_query q = { .source = f->url };

	q.text = "quarterly REPORT";
	assert_string_equal(ids_of(f, &q, 0), "u7,u0");
	/* A decoded escape, folded outside ASCII. */
	q.text = "w\xc3\xb6rld";
	assert_string_equal(ids_of(f, &q, 0), "u1");
	q.text = "\xd0\xbf\xd1\x80\xd0\xb8";   /* lower-case Cyrillic "при" */
	assert_string_equal(ids_of(f, &q, 0), "u5");
	/* Nested string values count; keys, numbers and booleans do not. */
	q.text = "needle-token";
	assert_string_equal(ids_of(f, &q, 0), "u2");
	q.text = "keyonly";
	assert_string_equal(ids_of(f, &q, 0), "");
	q.text = "42";
	assert_string_equal(ids_of(f, &q, 0), "u8");
	q.text = "true";
	assert_string_equal(ids_of(f, &q, 0), "");
	/* Escaped characters match as what they stand for. */
	q.text = "\x1b[31m";
	assert_string_equal(ids_of(f, &q, 0), "u3");
	q.text = "\" and back\\";
	assert_string_equal(ids_of(f, &q, 0), "u6");
	/* With threats only, both filters apply. */
	q.text = "quarterly";
	q.threats_only = 1;
	assert_string_equal(ids_of(f, &q, 0), "u0");
	/* Another source is never mixed in. */
	q = (struct store_query){ .source = f->imp, .text = "quarterly" };
	assert_string_equal(ids_of(f, &q, 0), "i11,i10,i9,i8,i7,i6,i5,i4,i3,i2,i1,i0");

	assert_int_equal(store_record_matches("{\"a\":\"AbC\"}", 11, "abc"), 1);
	assert_int_equal(store_record_matches("{\"abc\":1}", 9, "abc"), 0);
	assert_int_equal(store_record_matches("{\"a\":1}", 7, ""), 1);
}

/* The filter's terms (store/filter.c): fields, AND, phrases, times. */
static void test_filter_terms(void **state)
{
	struct fx *f = *state;
	struct store_query q = { .source = f->url };
	struct store_scan sc = { 0, 0 };
	struct got g = { .n = 0 };
	mw_err e = { "" };

	/* a field by its JSON key (no url column is "subject"), at any depth */
	q.text = "subject:quarterly";
	assert_string_equal(ids_of(f, &q, 0), "u7,u0");
	q.text = "deep:NEEDLE";
	assert_string_equal(ids_of(f, &q, 0), "u2");
	q.text = "subject:needle";
	assert_string_equal(ids_of(f, &q, 0), "");
	/* a field's number or literal as written; a plain term only in strings */
	q.text = "n:42";
	assert_string_equal(ids_of(f, &q, 0), "u0");
	q.text = "42";
	assert_string_equal(ids_of(f, &q, 0), "u8");
	q.text = "flag:true";
	assert_string_equal(ids_of(f, &q, 0), "u7");
	/* terms are ANDed; a quoted phrase is one term */
	q.text = "quarterly again";
	assert_string_equal(ids_of(f, &q, 0), "u7");
	q.text = "\"report again\"";
	assert_string_equal(ids_of(f, &q, 0), "u7");
	q.text = "\"report quarterly\"";
	assert_string_equal(ids_of(f, &q, 0), "");
	q.text = "subject:\"but one\"";
	assert_string_equal(ids_of(f, &q, 0), "u10");
	/* a URL and a clock time are text, not fields */
	q.text = "https://nowhere";
	assert_string_equal(ids_of(f, &q, 0), "");
	q.text = "10:00";
	assert_string_equal(ids_of(f, &q, 0), "");
	/* the record's time (NOW + i), UTC, inclusive */
	q.text = "from:2024-11-17T17:02:39Z";
	assert_string_equal(ids_of(f, &q, 0), "u11,u10,u9");
	q.text = "to:\"2024-11-17 17:02:31\"";
	assert_string_equal(ids_of(f, &q, 0), "u1,u0");
	q.text = "to:2024-11-17 last";
	assert_string_equal(ids_of(f, &q, 0), "u10,u9");
	q.text = "from:2024-11-18";
	assert_string_equal(ids_of(f, &q, 0), "");
	/* the clock is pinned at NOW, the oldest record's time */
	q.text = "since:1h last";
	assert_string_equal(ids_of(f, &q, 0), "u10,u9");
	/* a bad time term says the fix */
	q.text = "since:2x";
	assert_int_equal(store_query_page(f->s, &q, 0, &sc, 0, 0, collect, &g, &e), -1);
	assert_non_null(strstr(e.msg, "since:2x is not a duration; write e.g. since:2h"));
	q.text = "from:yesterday";
	assert_int_equal(store_query_page(f->s, &q, 0, &sc, 0, 0, collect, &g, &e), -1);
	assert_non_null(strstr(e.msg, "from:yesterday is not a date"));
}

static void test_budget_resumes(void **state)
{
	struct fx *f = *state;
	/* a term too short for the filter's index (grams.c): every row is
	 * read, as before it */
	struct store_query q = { .source = f->url, .text = "RT" };
	struct store_scan sc = { 0, 0 };
	struct got g = { .n = 0 };
	mw_err e = { "" };
	int calls = 0;

	/* Three rows examined per call: u11 u10 u9, then u8 u7 u6 (u7 found),
	 * ... until the oldest; the matches are the same as in one go. */
	assert_int_equal(store_query_page(f->s, &q, 0, &sc, 0, 3, collect, &g, &e), 0);
	assert_int_equal(sc.pos, f->rowid[9]);
	assert_int_equal(sc.done, 0);
	while (!sc.done) {
		assert_true(store_query_page(f->s, &q, 0, &sc, 0, 3, collect, &g, &e) >= 0);
		assert_true(++calls < 10);
	}
	assert_int_equal(calls, 3);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.id[0], "u7");
	assert_string_equal(g.id[1], "u0");
}

static int take_row(const struct store_row *row, void *ctx)
{
	char *out = ctx;

	snprintf(out, 200, "%s/%s/%s/%lld/%.*s", row->integration, row->type, row->id,
		 (long long)row->time, (int)row->json_len, row->json);
	return 0;
}

static void test_get_row_and_find_source(void **state)
{
	struct fx *f = *state;
	char got[200] = "";
	int64_t id = -1;
	mw_err e = { "" };

	assert_int_equal(store_get_row(f->s, f->rowid[4], take_row, got, &e), 1);
	assert_string_equal(got, "acme/url/u4/1731862954/{\"keyonlyword\":\"value\"}");
	assert_int_equal(store_get_row(f->s, 999999, take_row, got, &e), 0);

	assert_int_equal(store_find_source(f->s, "acme", "impersonation", &id, &e), 1);
	assert_int_equal(id, f->imp);
	assert_int_equal(store_find_source(f->s, "acme", "attachment", &id, &e), 0);
	assert_int_equal(id, 0);
	/* Looking did not create it. */
	assert_int_equal(store_find_source(f->s, "acme", "attachment", &id, &e), 0);

	/* A source that does not exist reads as empty. */
	struct store_query q = { .source = 4242 };
	assert_string_equal(ids_of(f, &q, 0), "");
}

static const char *sorted_ids(struct fx *f, const struct store_query *q, const char *field,
			      int desc, size_t max, struct store_sort_info *si)
{
	static char out[256];
	store_sort *ss = store_sort_new(q, field, desc, max, store_max_rowid(f->s));
	struct store_scan sc = { 0, 0 };
	struct got g = { .n = 0 };
	mw_err e = { "" };
	int r, steps = 0;

	while ((r = store_sort_step(f->s, ss, 2, &e)) == 1)
		steps++;
	assert_int_equal(r, 0);
	/* Two rows a step: never all of it in one. */
	assert_true(steps >= 1);
	while (!sc.done)
		assert_true(store_sort_page(f->s, ss, 0, &sc, 3, collect, &g, &e) >= 0);
	store_sort_info(ss, si);
	assert_int_equal(g.n, (int)si->records);
	out[0] = '\0';
	for (int i = 0; i < g.n; i++) {
		strcat(out, i ? "," : "");
		strcat(out, g.id[i]);
	}
	store_sort_free(ss);
	return out;
}

static void test_sort_by_a_field(void **state)
{
	struct fx *f = *state;
	struct store_query q = { .source = f->url };
	struct store_sort_info si;
	store_sort *ss;
	struct store_scan sc;
	struct got g = { .n = 0 };
	mw_err e = { "" };

	/* Text case-insensitively (ASCII), missing first, UTF-8 after ASCII. */
	assert_string_equal(sorted_ids(f, &q, "subject", 0, 0, &si),
			    "u4,u3,u1,u10,u9,u8,u2,u0,u7,u6,u11,u5");
	assert_int_equal(si.capped, 0);
	assert_string_equal(sorted_ids(f, &q, "subject", 1, 0, &si),
			    "u5,u11,u6,u7,u0,u2,u8,u9,u10,u1,u3,u4");
	/* Numbers by value; equal (missing) values newer first. */
	assert_string_equal(sorted_ids(f, &q, "n", 0, 0, &si),
			    "u11,u10,u9,u8,u7,u6,u5,u4,u2,u1,u3,u0");
	/* Bounded: the newest five, and it says so. */
	assert_string_equal(sorted_ids(f, &q, "subject", 0, 5, &si), "u10,u9,u8,u7,u11");
	assert_int_equal(si.capped, 1);
	assert_int_equal(si.oldest, 0);
	/* The time ascending: the oldest five. */
	assert_string_equal(sorted_ids(f, &q, NULL, 0, 5, &si), "u0,u1,u2,u3,u4");
	assert_int_equal(si.capped, 1);
	assert_int_equal(si.oldest, 1);
	/* With threats only and a text filter. */
	q.threats_only = 1;
	assert_string_equal(sorted_ids(f, &q, "subject", 0, 0, &si), "u3,u9,u0,u6");
	q.threats_only = 0;
	q.text = "last";
	assert_string_equal(sorted_ids(f, &q, "subject", 1, 0, &si), "u9,u10");
	q.text = NULL;

	/* Up the list by rank, as scrolling back does: from rank 3, then
	 * from the end (pos 0). */
	ss = store_sort_new(&q, "subject", 0, 0, store_max_rowid(f->s));
	assert_int_equal(store_sort_step(f->s, ss, 0, &e), 0);
	sc = (struct store_scan){ 3, 0 };
	assert_int_equal(store_sort_page(f->s, ss, 1, &sc, 0, collect, &g, &e), 2);
	assert_string_equal(g.id[0], "u3");
	assert_string_equal(g.id[1], "u4");
	assert_int_equal(sc.pos, 1);
	assert_int_equal(sc.done, 1);
	sc = (struct store_scan){ 0, 0 };
	assert_int_equal(store_sort_page(f->s, ss, 1, &sc, 1, collect, &g, &e), 1);
	assert_string_equal(g.id[2], "u5");
	assert_int_equal(sc.pos, 12);
	store_sort_free(ss);

	/* Records after upto are not taken (they arrived after the sort began). */
	ss = store_sort_new(&q, "subject", 0, 0, f->rowid[5]);
	assert_int_equal(store_sort_step(f->s, ss, 0, &e), 0);
	store_sort_info(ss, &si);
	assert_int_equal(si.records, 6);
	store_sort_free(ss);
}

static int64_t sql_i64(const char *db, const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	int64_t n = -1;

	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return n;
}

/* Each line of the plan SQLite gives for sql, joined by '|'. */
static const char *plan_of(const char *db, const char *sql)
{
	static char out[1024];
	char q[1024];
	sqlite3 *h;
	sqlite3_stmt *st;

	out[0] = '\0';
	snprintf(q, sizeof q, "EXPLAIN QUERY PLAN %s", sql);
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, q, -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		strncat(out, (const char *)sqlite3_column_text(st, 3), sizeof out - strlen(out) - 2);
		strcat(out, "|");
	}
	sqlite3_finalize(st);
	sqlite3_close(h);
	return out;
}

static int64_t count_of(struct fx *f, int threats, int64_t after, int64_t upto)
{
	struct store_query q = { .source = f->url, .threats_only = threats };
	int64_t n = -1;
	mw_err e = { "" };

	assert_int_equal(store_query_count(f->s, &q, after, upto, &n, &e), 0);
	return n;
}

/* Version 6 reads a source through its runs (one row per commit), version
 * 7 its threats through the runs that hold one (runs.t). A version 5 store
 * (records_source_threat, the hourly table) is upgraded in place: runs from
 * the rowids stored (a deleted row splits its run), their threats counted,
 * the hours from the hourly table; pages and counts read as before. And the
 * plans read rowid ranges, with no sort. */
static void test_upgrade_v6(void **state)
{
	struct fx *f = *state;
	struct store_rec recs[5];
	struct store_status *list = NULL;
	size_t nlist = 0;
	char ids[5][8], ver[16] = "", sql[1024], before_old[256], before_new[256];
	mw_err e = { "" };
	sqlite3 *h;
	int64_t hour = NOW / 3600;

	/* One commit of five: one run; its middle record deleted below. */
	for (int i = 0; i < 5; i++) {
		snprintf(ids[i], sizeof ids[i], "m%d", i);
		recs[i] = (struct store_rec){ .id = ids[i], .time = NOW + 20 + i, .threat = i == 4,
					      .json = "{\"subject\":\"many\"}", .json_len = 18 };
	}
	assert_int_equal(store_commit_page(f->s, f->url, recs, 5, NULL, NULL, &e), 0);
	assert_int_equal(sql_i64(f->db, "SELECT count(*) FROM runs"), 25);
	assert_int_equal(count_of(f, 0, 0, INT64_MAX), 17);
	assert_int_equal(count_of(f, 1, 0, INT64_MAX), 5);
	store_close(f->s);
	f->s = NULL;

	/* Back to version 5, with hourly counts and a row deleted from the
	 * middle of the five. */
	snprintf(sql, sizeof sql,
		 "UPDATE status SET total=(SELECT c.total FROM cursors c WHERE c.source=status.source);"
		 "ALTER TABLE cursors DROP COLUMN total; ALTER TABLE cursors DROP COLUMN last_new_at;"
		 "ALTER TABLE cursors DROP COLUMN hours; DROP TABLE runs;"
		 "CREATE TABLE hourly(source INTEGER NOT NULL, hour INTEGER NOT NULL,"
		 " n INTEGER NOT NULL, PRIMARY KEY(source,hour)) WITHOUT ROWID;"
		 "INSERT INTO hourly VALUES(%lld,%lld,4),(%lld,%lld,13);"
		 "CREATE INDEX records_source_threat ON records(source,threat);"
		 "DELETE FROM records WHERE id='m2';"
		 "UPDATE meta SET value='5' WHERE key='schema_version'",
		 (long long)f->url, (long long)(hour - 30), (long long)f->url, (long long)hour);
	assert_int_equal(sqlite3_open(f->db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);

	assert_int_equal(store_open(f->dir, &f->s, &e), 0);
	assert_int_equal(store_meta_get(f->s, "schema_version", ver, sizeof ver), 0);
	assert_string_equal(ver, "8");
	assert_int_equal(sql_i64(f->db, "SELECT count(*) FROM sqlite_master WHERE "
					"name IN ('records_source_threat','hourly','records_threat')"),
			 0);
	/* the url source's runs count its threats, u0 u3 u6 u9 and m4 */
	snprintf(sql, sizeof sql, "SELECT sum(t)*100+count(nullif(t,0)) FROM runs WHERE source=%lld",
		 (long long)f->url);
	assert_int_equal(sql_i64(f->db, sql), 5 * 100 + 5);
	/* 24 single-record runs, and m0 m1 | m3 m4 */
	assert_int_equal(sql_i64(f->db, "SELECT count(*) FROM runs"), 26);
	assert_int_equal(sql_i64(f->db, "SELECT sum(n) FROM runs"), 28);
	assert_int_equal(count_of(f, 0, 0, INT64_MAX), 16);
	assert_int_equal(count_of(f, 1, 0, INT64_MAX), 5);
	/* a count across runs' ends: after u5, up to m3 */
	assert_int_equal(count_of(f, 0, f->rowid[5], store_max_rowid(f->s) - 1), 6 + 3);
	struct store_query q = { .source = f->url };
	snprintf(before_old, sizeof before_old, "%s", ids_of(f, &q, 0));
	assert_string_equal(before_old, "m4,m3,m1,m0,u11,u10,u9,u8,u7,u6,u5,u4,u3,u2,u1,u0");
	snprintf(before_new, sizeof before_new, "%s", ids_of(f, &q, 1));
	assert_string_equal(before_new, "u0,u1,u2,u3,u4,u5,u6,u7,u8,u9,u10,u11,m0,m1,m3,m4");
	q.threats_only = 1;
	assert_string_equal(ids_of(f, &q, 0), "m4,u9,u6,u3,u0");
	/* The hours came along: 13 this hour, the one 30 hours back is past. */
	assert_int_equal(store_list_status(f->s, &list, &nlist, &e), 0);
	assert_int_equal(nlist, 2);
	assert_int_equal(list[0].records_24h, 13);
	free(list);
	/* New records after the upgrade: a run of their own, the hours add up. */
	recs[0].id = "after";
	assert_int_equal(store_commit_page(f->s, f->url, recs, 1, NULL, NULL, &e), 0);
	assert_int_equal(count_of(f, 0, 0, INT64_MAX), 17);
	assert_int_equal(store_list_status(f->s, &list, &nlist, &e), 0);
	assert_int_equal(list[0].records_24h, 14);
	free(list);
	snprintf(sql, sizeof sql, "SELECT hours='%lld:14' FROM cursors WHERE source=%lld",
		 (long long)hour, (long long)f->url);
	assert_int_equal(sql_i64(f->db, sql), 1);

	/* The plans: a run's rowid range, no sort, for threats too. */
	assert_string_equal(plan_of(f->db, "SELECT r.json FROM runs p JOIN records r ON r.rowid "
				"BETWEEN p.first AND p.last WHERE p.source=1 AND p.first<9 AND "
				"r.rowid<9 AND +r.source=1 ORDER BY p.first DESC, r.rowid DESC"),
			    "SEARCH p USING PRIMARY KEY (source=? AND first<?)|"
			    "SEARCH r USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)|");
	assert_string_equal(plan_of(f->db, "SELECT r.json FROM runs p JOIN records r ON r.rowid "
				"BETWEEN p.first AND p.last WHERE p.source=1 AND p.first<9 AND "
				"p.t>0 AND r.rowid<9 AND +r.source=1 AND r.threat=1 "
				"ORDER BY p.first DESC, r.rowid DESC"),
			    "SEARCH p USING PRIMARY KEY (source=? AND first<?)|"
			    "SEARCH r USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)|");
}


/* ---- the filter's index (grams.c) ------------------------------------------ */

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

static const char *const words[] = {
	"alice", "Bob.Smith", "PAYROLL", "invoice", "evil-domain", "Wörld", "ÉCOLE",
	"\\u00c9cole", "paypa1", "Quarterly", "report", "ПРИВЕТ", "hr", "zeta", "reset-password",
	"x", "ab", "\\\"quoted\\\"", "back\\\\slash", "tab\\there", "\\u0041BC", "caf\\u00e9",
	"\\ud83d\\ude00smile", "99", "2026-12-05T08:12:18+0000", "sim.example", "Safe",
	"Z\u00fcrich-Stra\u00dfe-Nord", "na\u00efve-caf\u00e9-au-lait", "ab\u20accdefghij\u20ackl",
	"\xc3(invalid\xe2\x82-utf8-bytes", "de\xc3\xa9" "fghi\xc3\xa9" "jklmnopqr",
	"v1.2.30", "10.0.0.7", "x-7-y", "<x-y-7@", "a\u00e97\u00e9b", "\u00e912-3", "A7B-77-",
	"9.99.999",
};

static void rand_text(mw_buf *b, int nwords)
{
	for (int i = 0; i < nwords; i++) {
		const char *w = words[rnd(sizeof words / sizeof *words)];

		if (i)
			mw_buf_putc(b, rnd(3) ? ' ' : (char)('a' + rnd(26)));
		if (rnd(4) == 0 && !strchr(w, '\\')) {
			/* a word with letters changed: a near miss */
			for (const char *c = w; *c; c++)
				mw_buf_putc(b, (*c >= 'a' && *c <= 'z' && rnd(5) == 0) ?
					   (char)('a' + rnd(26)) : *c);
		} else {
			mw_buf_puts(b, w);
		}
		if (rnd(3) == 0)
			mw_buf_printf(b, "%u", rnd(100000));
	}
}

/* A url record of the seeded store: the type's columns and more, nested
 * values, escapes, text outside ASCII, numbers. */
static void rand_record(mw_buf *b, int i)
{
	mw_buf_puts(b, "{\"userEmailAddress\":\"");
	rand_text(b, 1);
	mw_buf_puts(b, "@sim.example\",\"url\":\"https://");
	rand_text(b, 1 + (int)rnd(3));
	mw_buf_printf(b, "/p?id=%x\",\"action\":\"%s\",\"scanResult\":\"%s\",\"subject\":\"",
		      rnd(1u << 30), rnd(3) ? "allow" : "Block", rnd(4) ? "clean" : "malicious");
	rand_text(b, 1 + (int)rnd(5));
	mw_buf_puts(b, "\",\"tag\":\"");
	mw_buf_puts(b, words[rnd(sizeof words / sizeof *words)]);
	mw_buf_printf(b, "\",\"hits\":%d,\"flag\":%s,\"parts\":[\"", i, rnd(2) ? "true" : "null");
	rand_text(b, 1 + (int)rnd(2));
	mw_buf_puts(b, "\",{\"deep\":\"");
	rand_text(b, 1);
	mw_buf_puts(b, "\"}],\"messageId\":\"<");
	rand_text(b, 1);
	mw_buf_printf(b, "-%d@mail.example>\"}", i);
}

#define SEED_PAGES 120
#define SEED_PER_PAGE 25
static int seeded;      /* records seeded */

/* SEED_PAGES pages of the source, every third of SEED_PER_PAGE records,
 * the others of one to three (a run of few records shows a trigram its
 * summary lacks); even pages as the collector commits them
 * (the page parsed, each record's safe form, its token), odd ones as JSON
 * alone (the store parses it); one page holds a record that is not JSON. */
static void seed_random(struct fx *f, int64_t src, int64_t t0)
{
	mw_buf page, safe;
	js_doc doc;
	mw_err e = { "" };

	mw_buf_init(&page);
	mw_buf_init(&safe);
	js_init(&doc);
	seeded = 0;
	for (int pg = 0; pg < SEED_PAGES; pg++) {
		struct store_rec recs[SEED_PER_PAGE];
		char ids[SEED_PER_PAGE][16];
		size_t offs[SEED_PER_PAGE], lens[SEED_PER_PAGE];
		int tok, nrec = pg % 3 ? 1 + (int)rnd(3) : SEED_PER_PAGE;

		mw_buf_reset(&page);
		mw_buf_putc(&page, '[');
		for (int k = 0; k < nrec; k++) {
			if (k)
				mw_buf_putc(&page, ',');
			rand_record(&page, seeded + k);
		}
		mw_buf_putc(&page, ']');
		assert_int_equal(js_parse(&doc, page.data, page.len, &e), 0);
		mw_buf_reset(&safe);
		tok = 1;
		for (int k = 0; k < nrec; k++, tok = (int)doc.toks[tok].next) {
			offs[k] = safe.len;
			jsonout_safe(&safe, &doc, tok);
			lens[k] = safe.len - offs[k];
			recs[k] = (struct store_rec){ .time = t0 + seeded + k,
						      .threat = k % 5 == 0 };
			recs[k].doc = pg % 2 ? NULL : &doc;
			recs[k].tok = tok;
			snprintf(ids[k], sizeof ids[k], "r%d", seeded + k);
			recs[k].id = ids[k];
		}
		for (int k = 0; k < nrec; k++) {
			recs[k].json = safe.data + offs[k];
			recs[k].json_len = lens[k];
		}
		if (pg == 9) {
			recs[3].json = "not JSON: Evil-Domain \\u0041 \"url\":\"xyz\"";
			recs[3].json_len = strlen(recs[3].json);
		}
		assert_int_equal(store_commit_page(f->s, src, recs, (size_t)nrec, NULL, NULL, &e),
				 0);
		seeded += nrec;
	}
	js_free(&doc);
	mw_buf_free(&page);
	mw_buf_free(&safe);
}

/* A random filter: pieces of stored values (case changed, at any offset),
 * words, near misses, field terms, phrases, time bounds; 1 to 3 terms. */
static void rand_filter(struct fx *f, int64_t src, int64_t t0, char *out, size_t n)
{
	static const char *const fields[] = { "", "", "", "user:", "url:", "action:", "tag:",
					      "subject:", "deep:", "hits:", "flag:", "result:" };
	mw_buf b;
	int nterms = rnd(3) ? 1 : 2 + (int)rnd(2);
	char sql[160];
	sqlite3_stmt *st;
	js_doc doc;
	mw_err e = { "" };

	/* the record the pieces of this filter come from */
	js_init(&doc);
	snprintf(sql, sizeof sql, "SELECT json FROM records WHERE source=%lld ORDER BY rowid "
		 "LIMIT 1 OFFSET %u", (long long)src, rnd((uint32_t)seeded));
	assert_int_equal(sqlite3_prepare_v2(f->s->db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	if (js_parse(&doc, (const char *)sqlite3_column_text(st, 0),
		     (size_t)sqlite3_column_bytes(st, 0), &e) < 0)
		doc.ntoks = 0;
	mw_buf_init(&b);
	for (int t = 0; t < nterms; t++) {
		int kind = (int)rnd(10);

		if (t)
			mw_buf_putc(&b, ' ');
		if (kind == 0) {
			mw_buf_printf(&b, "%s:%lld", rnd(2) ? "from" : "to",
				      (long long)(t0 + rnd((uint32_t)seeded + 40) - 20));
			/* a plain number is no date: make it one */
			b.len = b.len - strlen(strrchr(b.data, ':') + 1);
			b.data[b.len] = '\0';
			{
				char d[40];

				mw_format_rfc3339(t0 + rnd((uint32_t)seeded + 40) - 20, d);
				mw_buf_puts(&b, d);
			}
			continue;
		}
		mw_buf_puts(&b, fields[rnd(sizeof fields / sizeof *fields)]);
		if (kind <= 5) {
			/* a piece of a value of this filter's record, decoded */
			mw_buf v;
			size_t at, k, want = 2 + rnd(12);
			int tok, tries = 0;

			mw_buf_init(&v);
			if (doc.ntoks) {
				do {
					tok = (int)rnd((uint32_t)doc.ntoks);
				} while (doc.toks[tok].type != JS_STRING && ++tries < 50);
				if (doc.toks[tok].type == JS_STRING)
					js_str(&doc, tok, &v);
			} else {
				mw_buf_puts(&v, "Evil-Domain \\u0041");  /* the record not JSON */
			}
			/* a piece at the start, at the end, or anywhere */
			switch (rnd(3)) {
			case 0:
				at = 0;
				break;
			case 1:
				at = v.len > want ? v.len - want : 0;
				break;
			default:
				at = v.len ? rnd((uint32_t)v.len) : 0;
			}
			mw_buf_putc(&b, '"');
			for (k = 0; k < want && at + k < v.len; k++) {
				unsigned char c = (unsigned char)v.data[at + k];

				if (c == '"' || c < 0x20)
					continue;       /* a term holds neither */
				if (c >= 'a' && c <= 'z' && rnd(2))
					c = (unsigned char)(c - 32);
				mw_buf_putc(&b, (char)c);
			}
			mw_buf_putc(&b, '"');
			mw_buf_free(&v);
		} else if (kind == 6) {
			/* the messageId's number with its delimiters, "<x-y-7@"
			 * (its own, another record's or none) */
			mw_buf v;
			int tok = 0;
			const char *at;

			mw_buf_init(&v);
			for (int k = 1; k + 1 < (int)doc.ntoks; k++)
				if (doc.toks[k].type == JS_STRING &&
				    doc.toks[k].end - doc.toks[k].start == 9 &&
				    !memcmp(doc.buf + doc.toks[k].start, "messageId", 9))
					tok = k + 1;
			if (tok)
				js_str(&doc, tok, &v);
			at = v.data ? strrchr(v.data, '@') : NULL;
			if (at) {
				const char *dash = at;
				long num;

				while (dash > v.data && dash[-1] != '-')
					dash--;
				num = strtol(dash, NULL, 10) + (rnd(3) ? 0 : (long)rnd(5) - 2);
				mw_buf_putc(&b, '"');
				for (const char *c = rnd(2) || dash == v.data ? v.data : dash - 1; c < dash;
				     c++)
					if (*c != '"' && (unsigned char)*c >= 0x20)
						mw_buf_putc(&b, *c);
				mw_buf_printf(&b, "%ld@%s\"", num, rnd(2) ? "mail" : "");
			} else {
				mw_buf_puts(&b, "\"-7@\"");
			}
			mw_buf_free(&v);
		} else if (kind <= 7) {
			mw_buf_putc(&b, '"');
			rand_text(&b, 1 + (int)rnd(2));
			mw_buf_putc(&b, '"');
		} else {
			mw_buf_printf(&b, "zq%xj", rnd(1u << 20));
		}
	}
	snprintf(out, n, "%s", b.data);
	mw_buf_free(&b);
	sqlite3_finalize(st);
	js_free(&doc);
}

struct idlist {
	mw_buf ids;
	int n;
};

static int note_id(const struct store_row *row, void *ctx)
{
	struct idlist *l = ctx;

	mw_buf_printf(&l->ids, "%s,", row->id);
	l->n++;
	return 0;
}

/* Every match of q, newest first (or oldest first), a few rows a call as
 * the preview reads them. */
static void all_matches(struct fx *f, const struct store_query *q, int newer, mw_buf *out)
{
	struct store_scan sc = { 0, 0 };
	struct idlist l;
	mw_err e = { "" };
	int calls = 0;

	mw_buf_init(&l.ids);
	l.n = 0;
	while (!sc.done) {
		assert_true(store_query_page(f->s, q, newer, &sc, 7, 50, note_id, &l, &e) >= 0);
		assert_true(++calls < 100000);
	}
	mw_buf_reset(out);
	mw_buf_append(out, l.ids.data ? l.ids.data : "", l.ids.len);
	mw_buf_free(&l.ids);
}

/* For random filters over a seeded store the answer with the summaries is
 * the answer of a full scan (the summaries dropped), record for record:
 * the index only ever skips runs that cannot match. */
static void test_index_equals_scan(void **state)
{
	enum { NFILTERS = 1000 };
	struct fx *f = *state;
	static char text[NFILTERS][160];
	mw_buf *indexed = calloc(NFILTERS, sizeof *indexed), scan;
	int64_t src, t0 = NOW - 100000, nonempty = 0;
	mw_err e = { "" };

	rng_state = 0x9E3779B97F4A7C15ull;
	assert_int_equal(store_source(f->s, "seeded", "url", &src, &e), 0);
	seed_random(f, src, t0);
	assert_int_equal(sql_i64(f->db, "SELECT count(*) FROM runs WHERE grams IS NOT NULL "
					"AND source=(SELECT id FROM sources WHERE "
					"integration='seeded')"), SEED_PAGES);
	for (int i = 0; i < NFILTERS; i++) {
		struct store_query q = { .source = src, .text = text[i] };

		rand_filter(f, src, t0, text[i], sizeof text[i]);
		mw_buf_init(&indexed[i]);
		all_matches(f, &q, i % 4 == 3, &indexed[i]);
	}
	assert_int_equal(sqlite3_exec(f->s->db, "UPDATE runs SET grams=NULL", NULL, NULL, NULL),
			 SQLITE_OK);
	mw_buf_init(&scan);
	for (int i = 0; i < NFILTERS; i++) {
		struct store_query q = { .source = src, .text = text[i] };

		all_matches(f, &q, i % 4 == 3, &scan);
		if (scan.len != indexed[i].len ||
		    memcmp(scan.data ? scan.data : "", indexed[i].data ? indexed[i].data : "",
			   scan.len) != 0)
			fail_msg("filter '%s': with the index %s, a full scan %s", text[i],
				 indexed[i].data ? indexed[i].data : "",
				 scan.data ? scan.data : "");
		nonempty += scan.len > 0;
		mw_buf_free(&indexed[i]);
	}
	print_message("%d random filters, %lld with matches: the same with and without the "
		      "index\n", NFILTERS, (long long)nonempty);
	/* both kinds were drawn */
	assert_true(nonempty > NFILTERS / 5 && nonempty < NFILTERS * 4 / 5);
	mw_buf_free(&scan);
	free(indexed);
}

static int count_steps(void *ctx)
{
	(*(int64_t *)ctx)++;
	return 0;
}

/* VM steps of the first screen (25 matches at most) of a filter. */
static int64_t first_screen_steps(struct fx *f, int64_t src, const char *text, int *found)
{
	struct store_query q = { .source = src, .text = text };
	struct store_scan sc = { 0, 0 };
	struct idlist l;
	int64_t steps = 0;
	mw_err e = { "" };

	mw_buf_init(&l.ids);
	l.n = 0;
	sqlite3_progress_handler(f->s->db, 1, count_steps, &steps);
	while (!sc.done && l.n < 25)
		assert_true(store_query_page(f->s, &q, 0, &sc, 25 - (size_t)l.n, 0, note_id, &l,
					     &e) >= 0);
	sqlite3_progress_handler(f->s->db, 0, NULL, NULL);
	*found = l.n;
	mw_buf_free(&l.ids);
	return steps;
}

/* 300 pages of 20 records, record i's JSON from make: 300 runs, 6,000
 * records, into source src. */
static void seed_runs(struct fx *f, int64_t src, void (*make)(char *js, size_t n, int i))
{
	mw_err e = { "" };

	for (int pg = 0; pg < 300; pg++) {
		struct store_rec recs[20];
		static char js[20][160], ids[20][16];

		for (int k = 0; k < 20; k++) {
			int i = pg * 20 + k;

			make(js[k], sizeof js[k], i);
			snprintf(ids[k], sizeof ids[k], "m%d", i);
			recs[k] = (struct store_rec){ .id = ids[k], .time = NOW - 6000 + i,
						      .json = js[k], .json_len = strlen(js[k]) };
		}
		assert_int_equal(store_commit_page(f->s, src, recs, 20, NULL, NULL, &e), 0);
	}
}

static void acme_record(char *js, size_t n, int i)
{
	snprintf(js, n, "{\"userEmailAddress\":\"user%d@acme.example\","
		 "\"url\":\"https://acme.example/p/%d\",\"action\":\"allow\","
		 "\"subject\":\"%s\"}", i % 977, i,
		 i == 1234 ? "a rare-needle-77 here" : "weekly report");
}

/* messageIds "<sim-url-N@1.sim.example>": every aligned trigram of
 * "<sim-url-" in every run */
static void id_record(char *js, size_t n, int i)
{
	snprintf(js, n, "{\"subject\":\"weekly report %d\",\"messageId\":"
		 "\"<sim-url-%d@1.sim.example>\"}", i % 7, i);
}

/* Each filter finds its expected matches with the summaries and without
 * them (dropped), and reads only the runs its index cannot exclude: a few
 * VM steps a run, not a few a record. */
static void assert_skips(struct fx *f, int64_t src, const char *const *filters,
			 const int *expect, int n)
{
	int64_t with[8], without[8];
	int found;

	assert_true(n <= 8);
	for (int i = 0; i < n; i++) {
		with[i] = first_screen_steps(f, src, filters[i], &found);
		assert_int_equal(found, expect[i]);
	}
	assert_int_equal(sqlite3_exec(f->s->db, "UPDATE runs SET grams=NULL", NULL, NULL, NULL),
			 SQLITE_OK);
	for (int i = 0; i < n; i++) {
		without[i] = first_screen_steps(f, src, filters[i], &found);
		assert_int_equal(found, expect[i]);
		print_message("'%s': %lld VM steps with the index, %lld without\n", filters[i],
			      (long long)with[i], (long long)without[i]);
		/* 300 runs, 6,000 records: a few steps a run, not a record
		 * (and a few runs read, the summaries being Bloom filters) */
		assert_true(without[i] > 6000 * 5);
		assert_true(with[i] * 8 < without[i]);
	}
}

/* A filter that matches nothing, or one record, reads only the runs its
 * index cannot exclude. */
static void test_index_skips_runs(void **state)
{
	struct fx *f = *state;
	static const char *const filters[] = {
		"nosuchsenderanywhere", "rare-needle-77", "subject:evil action:allow zzqjxkv",
		"to:2001-01-01",
	};
	static const int expect[] = { 0, 1, 0, 0 };
	mw_err e = { "" };
	int64_t src;

	assert_int_equal(store_source(f->s, "many", "url", &src, &e), 0);
	seed_runs(f, src, acme_record);
	assert_skips(f, src, filters, expect, 4);
}

/* A term whose aligned trigrams are in every run, "<sim-url-7@": a run
 * lacking its number between its delimiters, (-,7,@), is skipped, the one
 * holding it is read. */
static void test_index_skips_by_numbers(void **state)
{
	struct fx *f = *state;
	static const char *const filters[] = { "<sim-url-7@", "url-4321@1.sim", "-5@" };
	static const int expect[] = { 1, 1, 1 };
	mw_err e = { "" };
	int64_t src;

	assert_int_equal(store_source(f->s, "ids", "url", &src, &e), 0);
	seed_runs(f, src, id_record);
	assert_skips(f, src, filters, expect, 3);
}

/* Only values with an '@' keep their numbers, and only a needle with one
 * asks for them: without, the number tells nothing and the run is read
 * (a needle asking for a number never kept would lose its match). */
static void dotted_record(char *js, size_t n, int i)
{
	snprintf(js, n, "{\"subject\":\"weekly report %d\",\"messageId\":"
		 "\"<sim-url-%d.1.sim.example>\"}", i % 7, i);
}

static void test_index_numbers_only_with_at(void **state)
{
	struct fx *f = *state;
	mw_err e = { "" };
	int64_t src;
	int found;

	assert_int_equal(store_source(f->s, "dotted", "url", &src, &e), 0);
	seed_runs(f, src, dotted_record);
	first_screen_steps(f, src, "<sim-url-7.", &found);
	assert_int_equal(found, 1);
	first_screen_steps(f, src, "-4321.1.sim", &found);
	assert_int_equal(found, 1);
}

/* Summaries of another form: one written before the numbers' bitmap (a
 * power of two, the trigrams' alone) still skips by its trigrams and never
 * by numbers; a blob whose last byte does not describe it is no summary
 * (the run is read). Each answer stays the full scan's. */
static void test_index_old_and_bad_blobs(void **state)
{
	struct fx *f = *state;
	int64_t src, now, old, bad, none;
	mw_err e = { "" };
	int found;

	assert_int_equal(store_source(f->s, "ids", "url", &src, &e), 0);
	seed_runs(f, src, id_record);
	now = first_screen_steps(f, src, "<sim-url-7@", &found);
	assert_int_equal(found, 1);
	/* the trigrams' part alone: the blob less the numbers' bitmap (2^b
	 * bytes, b its last byte) and that byte */
	assert_int_equal(sqlite3_exec(f->s->db, "UPDATE runs SET grams=substr(grams,1,"
				      "length(grams)-1-(1<<unicode(substr(grams,-1,1))))",
				      NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sql_i64(f->db, "SELECT count(*) FROM runs WHERE length(grams) "
				 "NOT IN (128,256,512,1024,2048)"), 0);
	old = first_screen_steps(f, src, "<sim-url-7@", &found);
	assert_int_equal(found, 1);
	/* no run excluded by numbers: every one read */
	assert_true(old > now * 8);
	/* ... but still by trigrams */
	assert_true(first_screen_steps(f, src, "nosuchsenderanywhere", &found) * 8 < old);
	assert_int_equal(found, 0);
	/* a trailer naming a bitmap larger than the blob, out of range, or one
	 * leaving a trigrams' part of no allowed size: read as no summary */
	assert_int_equal(sqlite3_exec(f->s->db, "UPDATE runs SET grams=CASE first / 20 % 4 "
				      "WHEN 0 THEN grams||zeroblob(64)||x'0c' "
				      "WHEN 1 THEN grams||zeroblob(64)||x'ff' "
				      "WHEN 2 THEN substr(grams,1,100)||zeroblob(64)||x'06' "
				      "ELSE grams||zeroblob(4096)||x'0c' END", NULL, NULL, NULL),
		     SQLITE_OK);
	bad = first_screen_steps(f, src, "nosuchsenderanywhere", &found);
	assert_int_equal(found, 0);
	bad += first_screen_steps(f, src, "<sim-url-7@", &found);
	assert_int_equal(found, 1);
	assert_int_equal(sqlite3_exec(f->s->db, "UPDATE runs SET grams=NULL", NULL, NULL, NULL),
			 SQLITE_OK);
	none = first_screen_steps(f, src, "nosuchsenderanywhere", &found);
	none += first_screen_steps(f, src, "<sim-url-7@", &found);
	/* every run read but the one in four with a valid 4 KiB numbers'
	 * bitmap (all zero: no number) */
	assert_true(bad * 10 > none * 7);
}

/* A version 6 store (runs without summaries or threat counts, the indexes
 * records_threat and records_keyed) is upgraded in place: its runs are
 * read as before, by every filter, and count their threats; runs committed
 * after the upgrade have summaries and are skipped. */
static void test_upgrade_v7(void **state)
{
	struct fx *f = *state;
	char ver[16] = "";
	mw_err e = { "" };
	sqlite3 *h;
	int found;

	store_close(f->s);
	f->s = NULL;
	assert_int_equal(sqlite3_open(f->db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "ALTER TABLE runs DROP COLUMN grams;"
				      "ALTER TABLE runs DROP COLUMN tmax;"
				      "ALTER TABLE runs DROP COLUMN tmin;"
				      "ALTER TABLE runs DROP COLUMN t;"
				      "CREATE INDEX records_threat ON records(source) WHERE threat=1;"
				      "CREATE INDEX records_keyed ON records(source,id)"
				      " WHERE revision>0;"
				      "UPDATE meta SET value='6' WHERE key='schema_version'",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	assert_int_equal(store_open(f->dir, &f->s, &e), 0);
	assert_int_equal(store_meta_get(f->s, "schema_version", ver, sizeof ver), 0);
	assert_string_equal(ver, "8");
	assert_int_equal(sql_i64(f->db, "SELECT count(*) FROM runs WHERE grams IS NULL"), 24);
	assert_int_equal(sql_i64(f->db, "SELECT count(*) FROM sqlite_master WHERE "
				 "name IN ('records_threat','records_keyed')"), 0);
	/* their threats counted: every third url record of 12, every imp one */
	assert_int_equal(sql_i64(f->db, "SELECT sum(t) FROM runs"), 4 + 12);
	/* the old runs answer as before */
	struct store_query q = { .source = f->url, .text = "quarterly" };
	assert_string_equal(ids_of(f, &q, 0), "u7,u0");
	q.text = "needle-token";
	assert_string_equal(ids_of(f, &q, 1), "u2");
	/* a new run: summarised, skipped by a filter it cannot match */
	struct store_rec rec = { .id = "new", .time = NOW + 50,
				 .json = "{\"subject\":\"after the upgrade\"}", .json_len = 32 };
	assert_int_equal(store_commit_page(f->s, f->url, &rec, 1, NULL, NULL, &e), 0);
	assert_int_equal(sql_i64(f->db, "SELECT count(*) FROM runs WHERE grams IS NOT NULL"), 1);
	q.text = "upgrade";
	assert_string_equal(ids_of(f, &q, 0), "new");
	q.text = "quarterly";
	assert_string_equal(ids_of(f, &q, 0), "u7,u0");
	/* 12 old runs read, the new one skipped */
	assert_true(first_screen_steps(f, f->url, "quarterly", &found) > 0);
	assert_int_equal(found, 2);
}

int main(void)
{
	setenv("MIMEWATCH_NOW", "1731862950", 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pages_newest_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threats_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_filter_terms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_budget_resumes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_row_and_find_source, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sort_by_a_field, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_v6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_equals_scan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_skips_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_skips_by_numbers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_numbers_only_with_at, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_old_and_bad_blobs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_v7, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
