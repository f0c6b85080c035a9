/* store/query.c - reading records for the console's preview: pages older
 * or newer than a row, filtered by type, threat and the filter's terms
 * (filter.c), skipping the runs whose summary excludes them (grams.c). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1  /* flock, pread, O_NOFOLLOW, gmtime_r alongside -std=c11 */
#endif
#include "private.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "jsonscan.h"
#include "logtypes.h"

/* ---- reading records for the console's preview ------------------------------ */

int store_record_matches(const char *json, size_t len, const char *text)
{
	struct filter f;
	mw_err e;
	int r;

	if (!text || !*text)
		return 1;
	if (filter_init(&f, text, NULL, &e) < 0)
		return 0;
	r = filter_test(&f, json, len, 0);
	filter_free(&f);
	return r;
}

static int source_names(mw_store *s, int64_t source, char **integration, char **type,
			mw_err *e)
{
	sqlite3_stmt *st = sdb_stmt(s, ST_SOURCE_NAME, e);
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, source);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*integration = mw_xstrdup((const char *)sqlite3_column_text(st, 0));
		*type = mw_xstrdup((const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc != SQLITE_DONE)
		return sdb_fail(s, rc, "looking up a source", e);
	return 0;
}

int store_query_page(mw_store *s, const struct store_query *q, int newer,
		     struct store_scan *sc, size_t limit, size_t budget,
		     int (*cb)(const struct store_row *row, void *ctx), void *ctx, mw_err *e)
{
	sqlite3_stmt *st;
	struct filter m;
	mw_buf probe;
	struct store_row row;
	char *integration = NULL, *type = NULL;
	int64_t bound = sc->pos, delivered = 0;
	size_t examined = 0;
	int step, rc = -1, use_grams = 0;

	sc->done = 0;
	switch (source_names(s, q->source, &integration, &type, e)) {
	case -1:
		return -1;
	case 0:
		sc->done = 1;   /* no such source: nothing to show */
		return 0;
	}
	if (!newer && bound <= 0)
		bound = INT64_MAX;
	if (filter_init(&m, q->text, type, e) < 0) {
		free(integration);
		free(type);
		return -1;
	}
	/* All records through the source's runs, threats through their
	 * index (db.c); a filter its index can answer skips the runs whose
	 * summary excludes it (grams.c). */
	mw_buf_init(&probe);
	if (q->threats_only)
		st = sdb_stmt(s, newer ? ST_Q_NEWER_THREATS : ST_Q_OLDER_THREATS, e);
	else if ((use_grams = grams_probe(&m, &probe)))
		st = sdb_stmt(s, newer ? ST_Q_NEWER_GRAMS : ST_Q_OLDER_GRAMS, e);
	else
		st = sdb_stmt(s, newer ? ST_Q_NEWER_ALL : ST_Q_OLDER_ALL, e);
	if (!st) {
		filter_free(&m);
		mw_buf_free(&probe);
		free(integration);
		free(type);
		return -1;
	}
	sqlite3_bind_int64(st, 1, q->source);
	sqlite3_bind_int64(st, 2, bound);
	if (use_grams)
		sqlite3_bind_blob(st, 3, probe.data, (int)probe.len, SQLITE_STATIC);
	row.integration = integration;
	row.type = type;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (budget && examined >= budget)
			break;
		examined++;
		row.rowid = sqlite3_column_int64(st, 0);
		row.id = (const char *)sqlite3_column_text(st, 1);
		row.time = sqlite3_column_int64(st, 2);
		row.collected = sqlite3_column_int64(st, 3);
		row.json = (const char *)sqlite3_column_text(st, 4);
		row.json_len = (size_t)sqlite3_column_bytes(st, 4);
		row.revision = sqlite3_column_int64(st, 5);
		sc->pos = row.rowid;
		if (!row.id || !row.json) {
			mw_err_set(e, "%s: record %" PRId64 " has a NULL field: %s", s->path,
				   row.rowid, sdb_damaged_fix);
			goto out;
		}
		if (filter_test(&m, row.json, row.json_len, row.time)) {
			delivered++;
			if (cb(&row, ctx) || (limit && (size_t)delivered >= limit)) {
				/* Whether anything is left is the next call's to find. */
				break;
			}
		}
	}
	if (step == SQLITE_DONE)
		sc->done = 1;
	else if (step != SQLITE_ROW) {
		sdb_fail(s, step, "reading records", e);
		goto out;
	}
	rc = 0;
out:
	filter_free(&m);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	mw_buf_free(&probe);
	free(integration);
	free(type);
	return rc < 0 ? -1 : (int)(delivered > INT32_MAX ? INT32_MAX : delivered);
}

int store_query_count(mw_store *s, const struct store_query *q, int64_t after, int64_t upto,
		      int64_t *n, mw_err *e)
{
	sqlite3_stmt *st;
	int rc;

	*n = 0;
	if (q->text && *q->text) {
		mw_err_set(e, "store_query_count: a text filter needs a scan; use "
			   "store_query_page");
		return -1;
	}
	if (!(st = sdb_stmt(s, q->threats_only ? ST_Q_COUNT_THREATS : ST_Q_COUNT_ALL, e)))
		return -1;
	sqlite3_bind_int64(st, 1, q->source);
	sqlite3_bind_int64(st, 2, after);
	sqlite3_bind_int64(st, 3, upto);
	rc = sdb_one_i64(s, st, n, "counting records", e);
	return rc < 0 ? -1 : 0;
}

int store_get_row(mw_store *s, int64_t rowid,
		  int (*cb)(const struct store_row *row, void *ctx), void *ctx, mw_err *e)
{
	sqlite3_stmt *st = sdb_stmt(s, ST_GET_ROW, e);
	struct store_row row;
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, rowid);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return 0;
	}
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return sdb_fail(s, rc, "reading a record", e);
	}
	if (sdb_read_row(s, st, &row, e) < 0)
		return -1;
	cb(&row, ctx);
	sqlite3_reset(st);
	return 1;
}
