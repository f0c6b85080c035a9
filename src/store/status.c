/* store/status.c - the per-source status the collector writes and the
 * console and `status` read; the meta table; the change mark a reader
 * checks before reading again. */
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

/* ---- status ----------------------------------------------------------------- */

int store_put_status(mw_store *s, const struct store_status *in, mw_err *e)
{
	sqlite3_stmt *st;
	int64_t source = in->source;

	if (source <= 0 && store_source(s, in->integration, in->type, &source, e) < 0)
		return -1;
	if (!(st = sdb_stmt(s, ST_STATUS_PUT, e)))
		return -1;
	sqlite3_bind_int64(st, 1, source);
	sdb_bind_str(st, 2, in->state[0] ? in->state : "idle");
	sqlite3_bind_int(st, 3, in->paused ? 1 : 0);
	sqlite3_bind_int64(st, 4, in->last_attempt);
	sqlite3_bind_int64(st, 5, in->last_success);
	sqlite3_bind_int64(st, 6, in->next_poll);
	sdb_bind_str(st, 7, in->err_class[0] ? in->err_class : "ok");
	sqlite3_bind_int64(st, 8, in->http_status);
	sdb_bind_str(st, 9, in->err_code);
	sdb_bind_str(st, 10, in->err_message);
	sdb_bind_str(st, 11, in->remedy);
	sqlite3_bind_int64(st, 12, in->records_last_poll);
	sqlite3_bind_int64(st, 13, in->last_new_at);
	sqlite3_bind_int64(st, 14, in->horizon);
	sqlite3_bind_int64(st, 15, in->last_record_time);
	sqlite3_bind_int64(st, 16, in->rl_limit);
	sqlite3_bind_int64(st, 17, in->rl_remaining);
	sqlite3_bind_int64(st, 18, in->rl_reset_ms);
	sqlite3_bind_int64(st, 19, in->throttled_until);
	sqlite3_bind_int64(st, 20, in->updated ? in->updated : mw_now_ms());
	sdb_bind_str(st, 21, in->warning);
	return sdb_done(s, st, "writing the status", e);
}

static int type_rank(const char *type)
{
	int i = logtype_index(type);

	return i < 0 ? INT_MAX : i;
}

static int status_cmp(const void *a, const void *b)
{
	const struct store_status *x = a, *y = b;
	int c = strcmp(x->integration, y->integration);

	if (c)
		return c;
	int rx = type_rank(x->type), ry = type_rank(y->type);
	if (rx != ry)
		return rx < ry ? -1 : 1;
	return strcmp(x->type, y->type);
}

int store_list_status(mw_store *s, struct store_status **out, size_t *n, mw_err *e)
{
	sqlite3_stmt *st = sdb_stmt(s, ST_STATUS_LIST, e);
	struct store_status *v = NULL;
	size_t len = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!st)
		return -1;
	/* 24 hourly buckets: the current hour and the 23 before it. */
	int64_t after_hour = (mw_now() - 86400) / 3600;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			v = mw_xrealloc(v, cap * sizeof *v);
		}
		struct store_status *x = &v[len++];
		memset(x, 0, sizeof *x);
		x->source = sqlite3_column_int64(st, 0);
		sdb_copy_col(x->integration, sizeof x->integration, st, 1);
		sdb_copy_col(x->type, sizeof x->type, st, 2);
		sdb_copy_col(x->state, sizeof x->state, st, 3);
		x->paused = sqlite3_column_int(st, 4);
		x->last_attempt = sqlite3_column_int64(st, 5);
		x->last_success = sqlite3_column_int64(st, 6);
		x->next_poll = sqlite3_column_int64(st, 7);
		sdb_copy_col(x->err_class, sizeof x->err_class, st, 8);
		x->http_status = (long)sqlite3_column_int64(st, 9);
		sdb_copy_col(x->err_code, sizeof x->err_code, st, 10);
		sdb_copy_col(x->err_message, sizeof x->err_message, st, 11);
		sdb_copy_col(x->remedy, sizeof x->remedy, st, 12);
		x->records_last_poll = sqlite3_column_int64(st, 13);
		x->records_24h = sdb_hours_sum((const char *)sqlite3_column_text(st, 14), after_hour);
		x->total = sqlite3_column_int64(st, 15);
		x->rejects = sqlite3_column_int64(st, 16);
		x->last_new_at = sqlite3_column_int64(st, 17);
		x->horizon = sqlite3_column_int64(st, 18);
		x->last_record_time = sqlite3_column_int64(st, 19);
		x->rl_limit = sqlite3_column_int64(st, 20);
		x->rl_remaining = sqlite3_column_int64(st, 21);
		x->rl_reset_ms = sqlite3_column_int64(st, 22);
		x->throttled_until = sqlite3_column_int64(st, 23);
		x->updated = sqlite3_column_int64(st, 24);
		sdb_copy_col(x->warning, sizeof x->warning, st, 25);
		x->outside = sqlite3_column_int64(st, 26);
		x->revised = sqlite3_column_int64(st, 27);
		x->in_window = sqlite3_column_int(st, 28);
		x->win_from = sqlite3_column_int64(st, 29);
		x->win_to = sqlite3_column_int64(st, 30);
		x->win_progress = sqlite3_column_int64(st, 31);
		x->win_received = sqlite3_column_int64(st, 32);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(v);
		return sdb_fail(s, rc, "listing the status", e);
	}
	if (len > 1)
		qsort(v, len, sizeof *v, status_cmp);
	*out = v;
	*n = len;
	return 0;
}

int store_add_rejects(mw_store *s, int64_t source, int64_t n, mw_err *e)
{
	sqlite3_stmt *st = sdb_stmt(s, ST_REJECTS_ADD, e);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, source);
	sqlite3_bind_int64(st, 2, n);
	return sdb_done(s, st, "counting rejects", e);
}

int store_delete_integration(mw_store *s, const char *integration, mw_err *e)
{
	static const char *const sql[] = {
		"DELETE FROM records WHERE source IN (SELECT id FROM sources WHERE integration=?1)",
		"DELETE FROM runs WHERE source IN (SELECT id FROM sources WHERE integration=?1)",
		"DELETE FROM status WHERE source IN (SELECT id FROM sources WHERE integration=?1)",
		"DELETE FROM cursors WHERE source IN (SELECT id FROM sources WHERE integration=?1)",
		"DELETE FROM outside_seen WHERE source IN (SELECT id FROM sources WHERE "
		"integration=?1)",
		"DELETE FROM spans WHERE source IN (SELECT id FROM sources WHERE integration=?1)",
		"DELETE FROM backfills WHERE source IN (SELECT id FROM sources WHERE "
		"integration=?1)",
		"DELETE FROM sources WHERE integration=?1",
	};
	sqlite3_stmt *st;
	int rc;

	if (sdb_begin(s, e) < 0)
		return -1;
	/* Its rows may be the last: their rowids must not be handed out again. */
	if (!(st = sdb_stmt(s, ST_ROWID_KEEP, e)) ||
	    sdb_done(s, st, "deleting an integration", e) < 0)
		return sdb_abort(s);
	for (size_t i = 0; i < NELEM(sql); i++) {
		rc = sqlite3_prepare_v2(s->db, sql[i], -1, &st, NULL);
		if (rc != SQLITE_OK) {
			sdb_fail(s, rc, "deleting an integration", e);
			return sdb_abort(s);
		}
		sdb_bind_str(st, 1, integration);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE) {
			sdb_fail(s, rc, "deleting an integration", e);
			return sdb_abort(s);
		}
		if (i == 0)     /* its records: cached counts must count again */
			store_note_deleted(s, sqlite3_changes(s->db));
	}
	if (sdb_commit(s, e) < 0)
		return sdb_abort(s);
	return 0;
}

/* One step of a rename: 0, or -1 with e set (the caller aborts). */
static int rename_step(mw_store *s, const char *sql, const char *from, const char *to,
		       int64_t *count, mw_err *e)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return sdb_fail(s, rc, "renaming an integration", e);
	sdb_bind_str(st, 1, from);
	if (to)
		sdb_bind_str(st, 2, to);
	rc = sqlite3_step(st);
	if (count)
		*count = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return sdb_fail(s, rc, "renaming an integration", e);
	return 0;
}

int store_rename_integration(mw_store *s, const char *from, const char *to, mw_err *e)
{
	int64_t n_from = 0, n_to = 0;

	if (sdb_begin(s, e) < 0)
		return -1;
	if (rename_step(s, "SELECT count(*) FROM sources WHERE integration=?1", from, NULL,
			&n_from, e) < 0 ||
	    rename_step(s, "SELECT count(*) FROM sources WHERE integration=?1", to, NULL,
			&n_to, e) < 0)
		return sdb_abort(s);
	if (n_to > 0) {
		sdb_abort(s);
		mw_err_set(e, "the store already holds records and cursors of '%s': pick another "
			      "name, or delete '%s' first", to, to);
		return -1;
	}
	/* Cursors, records, runs and status follow the source id; the
	 * name is kept as text only in sources and in requests not yet taken. */
	if (rename_step(s, "UPDATE sources SET integration=?2 WHERE integration=?1", from, to,
			NULL, e) < 0 ||
	    rename_step(s, "UPDATE requests SET integration=?2 WHERE integration=?1 AND state=0",
			from, to, NULL, e) < 0)
		return sdb_abort(s);
	if (sdb_commit(s, e) < 0)
		return sdb_abort(s);
	return 0;
}

int store_list_integrations(mw_store *s, struct store_integration **out, size_t *n, mw_err *e)
{
	static const char sql[] =
		"SELECT integration, (SELECT coalesce(sum(r.n),0) FROM runs r WHERE r.source IN "
		"(SELECT id FROM sources s2 WHERE s2.integration=s1.integration)) "
		"FROM sources s1 GROUP BY integration ORDER BY integration";
	struct store_integration *v = NULL;
	size_t len = 0;
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

	*out = NULL;
	*n = 0;
	if (rc != SQLITE_OK)
		return sdb_fail(s, rc, "listing integrations", e);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = mw_xrealloc(v, (len + 1) * sizeof(*v));
		sdb_copy_col(v[len].name, sizeof v[len].name, st, 0);
		v[len].records = sqlite3_column_int64(st, 1);
		len++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(v);
		return sdb_fail(s, rc, "listing integrations", e);
	}
	*out = v;
	*n = len;
	return 0;
}

/* ---- meta ---------------------------------------------------------------------- */

int store_meta_get(mw_store *s, const char *key, char *val, size_t n)
{
	mw_err e;
	sqlite3_stmt *st = sdb_stmt(s, ST_META_GET, &e);
	int rc;

	if (!st)
		return -1;
	sdb_bind_str(st, 1, key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (val && n)
			sdb_copy_col(val, n, st, 0);
		sqlite3_reset(st);
		return 0;
	}
	sqlite3_reset(st);
	return -1;
}

int store_meta_set(mw_store *s, const char *key, const char *val, mw_err *e)
{
	sqlite3_stmt *st = sdb_stmt(s, ST_META_SET, e);

	if (!st)
		return -1;
	if (strcmp(key, "schema_version") == 0) {
		mw_err_set(e, "%s: schema_version is kept by the store itself", s->path);
		return -1;
	}
	sdb_bind_str(st, 1, key);
	sdb_bind_str(st, 2, val);
	return sdb_done(s, st, "writing meta", e);
}

int store_change_mark(mw_store *s, struct store_mark *m)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "PRAGMA data_version", -1, &st, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	m->data_version = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_finalize(st);
	m->own_changes = sqlite3_total_changes(s->db);
	return m->data_version < 0 ? -1 : 0;
}

int64_t store_count(mw_store *s, int64_t source)
{
	return sdb_query_i64(s, ST_COUNT_SOURCE, source, 1);
}
