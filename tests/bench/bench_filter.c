/* bench_filter.c - the preview's filter over a million records: the time
 * to its first screen (25 matches, or the end) of a filter that matches
 * nothing, of one that matches three records, of a field term, of a
 * time bound and of a structured id's number, ".777@mail" (every aligned
 * trigram of the messageIds' "@mail.acme.example>" is in every run; the
 * number between its delimiters is in one run: grams.c), with the filter's index (store/grams.c: each run's summary)
 * and without it (the summaries dropped: every run read, as before schema
 * 7). The store is seeded as `mimewatch fetch` fills it: pages of 100 URL
 * Protect records parsed, their safe form and tokens handed to
 * store_commit_page. Figures, not a test: make bench-console prints them.
 * Usage: bench_filter [records] (default 1000000) */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1  /* mkdtemp, nftw alongside -std=c11 */
#endif
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "jsonout.h"
#include "jsonscan.h"
#include "store/store.h"

#define PAGE 100
#define SCREEN 25

static double now_ms(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static const char *const subjects[] = {
	"Your parcel is on its way", "Urgent wire transfer", "Q4 planning", "Invoice overdue",
	"Password expiry notice", "Re: meeting notes", "Shared document: budget.xlsx",
	"Voicemail from +44 20 7946 0958", "Payroll update \\u2013 action required",
	"Benefits enrolment", "Out of office", "Board pack (draft)",
};
static const char *const hosts[] = {
	"portal.bank.example", "login.micros0ft.example", "cdn.files.example",
	"docs.partner.example", "track.mailer.example", "sharepoint.acme.example",
};

static void build_page(mw_buf *b, long first, long n, long total)
{
	mw_buf_putc(b, '[');
	for (long k = 0; k < n; k++) {
		long i = first + k;
		unsigned h = (unsigned)(i * 2654435761u);

		mw_buf_printf(b,
			"%s{\"userEmailAddress\":\"user%ld@acme.example\","
			"\"fromUserEmailAddress\":\"sender%u@%s\","
			"\"url\":\"https://%s/r/%08x?id=%u\","
			"\"ttpDefinition\":\"Default Inbound URL Protect Definition\","
			"\"subject\":\"%s%s\",\"action\":\"%s\",\"adminOverride\":\"N/A\","
			"\"userOverride\":\"None\",\"scanResult\":\"%s\",\"category\":\"%s\","
			"\"sendingIp\":\"198.51.100.%u\",\"userAwarenessAction\":\"N/A\","
			"\"date\":\"2026-12-05T08:%02ld:%02ld+0000\",\"route\":\"inbound\","
			"\"creationMethod\":\"User Click\",\"emailPartsDescription\":[\"Body\"],"
			"\"messageId\":\"<%08x.%ld@mail.acme.example>\"}",
			k ? "," : "", i % 977, h % 5000, hosts[(h >> 8) % 6], hosts[h % 6], h,
			h >> 7, subjects[(h >> 3) % 12],
			/* three records hold the rare term: at 10%, 50% and 90% */
			i == total / 10 || i == total / 2 || i == total * 9 / 10 ?
			" rare-needle-4711" : "",
			h % 7 ? "allow" : "block", h % 7 ? "clean" : "malicious",
			h % 7 ? "Business" : "Phishing", h % 250, (i / 60) % 60, i % 60, h, i);
	}
	mw_buf_putc(b, ']');
}

struct seen {
	int n;
};

static int count_row(const struct store_row *row, void *ctx)
{
	(void)row;
	((struct seen *)ctx)->n++;
	return 0;
}

/* The first screen of text as the preview reads it: newest first until
 * SCREEN matches or the end. Wall ms; *n the matches. */
static double first_screen(mw_store *s, int64_t src, const char *text, int *n)
{
	struct store_query q = { .source = src, .text = text };
	struct store_scan sc = { 0, 0 };
	struct seen seen = { 0 };
	mw_err e = { "" };
	double t0 = now_ms(CLOCK_MONOTONIC);

	while (!sc.done && seen.n < SCREEN) {
		if (store_query_page(s, &q, 0, &sc, (size_t)(SCREEN - seen.n), 0, count_row, &seen,
				     &e) < 0) {
			fprintf(stderr, "bench_filter: %s\n", e.msg);
			exit(1);
		}
	}
	*n = seen.n;
	return now_ms(CLOCK_MONOTONIC) - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median_of(mw_store *s, int64_t src, const char *text, int reps, int *n)
{
	double t[9];

	for (int r = 0; r < reps; r++)
		t[r] = first_screen(s, src, text, n);
	qsort(t, (size_t)reps, sizeof *t, cmp_double);
	return t[reps / 2];
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int main(int argc, char **argv)
{
	static const char *const filters[] = {
		"nosuchsender@nowhere.example", "rare-needle-4711", "user:nobody-at-all",
		"to:2001-01-01", ".777@mail",
	};
	/* the matches each should find (record 777's messageId alone) */
	static const int expect[] = { 0, 3, 0, 0, 1 };
	enum { NF = sizeof filters / sizeof *filters };
	long total = argc > 1 ? atol(argv[1]) : 1000000;
	const char *tmp = getenv("TMPDIR");
	char dir[256], path[300];
	double with[NF], without[NF], seed_wall, seed_cpu, load[3] = { 0, 0, 0 };
	int found[NF], found_without[NF];
	mw_store *s;
	int64_t src;
	mw_buf page, safe;
	js_doc doc;
	mw_err e = { "" };
	struct stat sb;

	if (total < PAGE) {
		fprintf(stderr, "usage: bench_filter [records >= %d]\n", PAGE);
		return 2;
	}
	snprintf(dir, sizeof dir, "%s/bench_filter.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir) || store_open(dir, &s, &e) < 0 ||
	    store_source(s, "bench", "url", &src, &e) < 0) {
		fprintf(stderr, "bench_filter: %s\n", e.msg[0] ? e.msg : "cannot create a store");
		return 1;
	}
	mw_buf_init(&page);
	mw_buf_init(&safe);
	js_init(&doc);
	seed_wall = now_ms(CLOCK_MONOTONIC);
	seed_cpu = now_ms(CLOCK_PROCESS_CPUTIME_ID);
	for (long first = 0; first < total; first += PAGE) {
		long n = total - first < PAGE ? total - first : PAGE;
		struct store_rec recs[PAGE];
		char ids[PAGE][24];
		size_t offs[PAGE];
		int tok = 1;

		mw_buf_reset(&page);
		mw_buf_reset(&safe);
		build_page(&page, first, n, total);
		if (js_parse(&doc, page.data, page.len, &e) < 0) {
			fprintf(stderr, "bench_filter: %s\n", e.msg);
			return 1;
		}
		for (long k = 0; k < n; k++, tok = (int)doc.toks[tok].next) {
			offs[k] = safe.len;
			jsonout_safe(&safe, &doc, tok);
			snprintf(ids[k], sizeof ids[k], "b%ld", first + k);
			/* a month of records, oldest first */
			recs[k] = (struct store_rec){
				.id = ids[k], .threat = (first + k) % 7 == 0,
				.time = 1764547200 + (first + k) * 2592000 / total,
				.doc = &doc, .tok = tok };
		}
		for (long k = 0; k < n; k++) {
			recs[k].json = safe.data + offs[k];
			recs[k].json_len = (k + 1 < n ? offs[k + 1] : safe.len) - offs[k];
		}
		if (store_commit_page(s, src, recs, (size_t)n, NULL, NULL, &e) < 0) {
			fprintf(stderr, "bench_filter: %s\n", e.msg);
			return 1;
		}
	}
	seed_wall = now_ms(CLOCK_MONOTONIC) - seed_wall;
	seed_cpu = now_ms(CLOCK_PROCESS_CPUTIME_ID) - seed_cpu;
	js_free(&doc);
	mw_buf_free(&page);
	mw_buf_free(&safe);
	snprintf(path, sizeof path, "%s/store.db", dir);
	stat(path, &sb);
	if (getloadavg(load, 3) < 0)
		load[0] = -1;
	printf("bench_filter: %ld URL Protect records in pages of %d (%.1f s, %.1f us CPU a "
	       "record to commit), store.db %.0f MiB; load %.2f\n", total, PAGE, seed_wall / 1e3,
	       seed_cpu * 1e3 / (double)total, (double)sb.st_size / 1048576.0, load[0]);
	first_screen(s, src, "warm-the-cache-up", &found[0]);
	for (int i = 0; i < NF; i++)
		with[i] = median_of(s, src, filters[i], 5, &found[i]);
	/* The same store as before schema 7: no run has a summary. */
	{
		sqlite3 *h;

		if (sqlite3_open(path, &h) != SQLITE_OK ||
		    sqlite3_exec(h, "UPDATE runs SET grams=NULL", NULL, NULL, NULL) != SQLITE_OK) {
			fprintf(stderr, "bench_filter: %s: %s\n", path, sqlite3_errmsg(h));
			return 1;
		}
		sqlite3_close(h);
	}
	for (int i = 0; i < NF; i++)
		without[i] = median_of(s, src, filters[i], 3, &found_without[i]);
	printf("%-32s %8s %14s %14s  (first screen: %d matches or the end; wall ms, median)\n",
	       "filter", "matches", "with index", "without", SCREEN);
	for (int i = 0; i < NF; i++)
		printf("%-32s %8d %11.1f ms %11.1f ms%s%s\n", filters[i], found[i], with[i],
		       without[i], found[i] != found_without[i] ? "  DIFFERENT ANSWERS" : "",
		       found[i] != expect[i] && total >= 1000 ? "  NOT THE EXPECTED COUNT" : "");
	if (getloadavg(load, 3) < 0)
		load[0] = -1;
	printf("bench_filter: target < 200 ms at a million records; load at the end %.2f\n",
	       load[0]);
	store_close(s);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	for (int i = 0; i < NF; i++)
		if (found[i] != found_without[i] || (found[i] != expect[i] && total >= 1000))
			return 1;
	return 0;
}
