/* store/coverage.c - what was collected (spans) and the backfills of what
 * was not (store.h, "coverage.c"; schema 5 in open.c).
 *
 * A span is written by the commit that completes a window (cursors.c), one
 * merge per window: the page commits pay nothing. Records per hour are
 * counted from the unique index on (source, time, id) alone, a range of it
 * per source and hour: at a million records of one source over the 30 days
 * the console shows, about a quarter of a second on a 2-core machine, which
 * the coverage view pays only when it opens and when records arrived, at
 * most every few seconds. The hourly table counts
 * by the hour of collection, which is not when a record happened. */
#include "private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int store_span_add(mw_store *s, int64_t source, int64_t from, int64_t to, mw_err *e)
{
	sqlite3_stmt *st = sdb_stmt(s, ST_SPAN_FIND, e);
	int64_t lo = from, hi = to;
	int rc;

	if (!st)
		return -1;
	if (to < from)
		return 0;
	sqlite3_bind_int64(st, 1, source);
	sqlite3_bind_int64(st, 2, from);
	sqlite3_bind_int64(st, 3, to);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		lo = sqlite3_column_int64(st, 0);
		hi = sqlite3_column_int64(st, 1);
		rc = SQLITE_DONE;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sdb_fail(s, rc, "reading the collected spans", e);
	if (!(st = sdb_stmt(s, ST_SPAN_DROP, e)))
		return -1;
	sqlite3_bind_int64(st, 1, source);
	sqlite3_bind_int64(st, 2, from);
	sqlite3_bind_int64(st, 3, to);
	if (sdb_done(s, st, "merging the collected spans", e) < 0)
		return -1;
	if (!(st = sdb_stmt(s, ST_SPAN_ADD, e)))
		return -1;
	sqlite3_bind_int64(st, 1, source);
	sqlite3_bind_int64(st, 2, lo);
	sqlite3_bind_int64(st, 3, hi);
	return sdb_done(s, st, "recording a collected span", e);
}

/* ---- backfills ------------------------------------------------------------ */

static int exec_bound(mw_store *s, const char *sql, const int64_t *v, int nv, const char *what,
		      mw_err *e)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return sdb_fail(s, rc, what, e);
	for (int i = 0; i < nv; i++)
		sqlite3_bind_int64(st, i + 1, v[i]);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sdb_fail(s, rc, what, e);
	return 0;
}

int store_backfill_add(mw_store *s, int64_t source, int64_t from, int64_t to, int64_t *id,
		       mw_err *e)
{
	int64_t now = mw_now(), v[] = { source, from, to, now };

	*id = 0;
	if (to < from) {
		mw_err_set(e, "a backfill from %lld to %lld ends before it starts",
			   (long long)from, (long long)to);
		return -1;
	}
	if (exec_bound(s, "INSERT INTO backfills(source,t_from,t_to,state,win_from,win_progress,"
			  "created,updated) VALUES(?1,?2,?3,0,?2,?2,?4,?4)", v, 4,
		       "queueing a backfill", e) < 0)
		return -1;
	*id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

#define BF_COLS "id,source,t_from,t_to,state,win_from,win_progress,page_token,win_received," \
		"win_restarted,created,updated"

static void bf_row(sqlite3_stmt *st, struct store_backfill *b)
{
	memset(b, 0, sizeof *b);
	b->id = sqlite3_column_int64(st, 0);
	b->source = sqlite3_column_int64(st, 1);
	b->from = sqlite3_column_int64(st, 2);
	b->to = sqlite3_column_int64(st, 3);
	b->state = sqlite3_column_int(st, 4);
	b->cur.backfill = b->id;
	b->cur.in_window = b->state == STORE_BF_QUEUED;
	b->cur.win_from = sqlite3_column_int64(st, 5);
	b->cur.win_to = b->to;
	b->cur.win_progress = sqlite3_column_int64(st, 6);
	sdb_copy_col(b->cur.page_token, sizeof b->cur.page_token, st, 7);
	b->cur.win_received = sqlite3_column_int64(st, 8);
	b->cur.win_restarted = sqlite3_column_int(st, 9);
	b->created = sqlite3_column_int64(st, 10);
	b->updated = sqlite3_column_int64(st, 11);
}

/* Rows of sql (its ?1 .. ?nv bound to v) into a malloc'd array. */
static int bf_list(mw_store *s, const char *sql, const int64_t *v, int nv,
		   struct store_backfill **out, size_t *n, mw_err *e)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

	*out = NULL;
	*n = 0;
	if (rc != SQLITE_OK)
		return sdb_fail(s, rc, "reading backfills", e);
	for (int i = 0; i < nv; i++)
		sqlite3_bind_int64(st, i + 1, v[i]);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*out = mw_xrealloc(*out, cap * sizeof **out);
		}
		bf_row(st, &(*out)[(*n)++]);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(*out);
		*out = NULL;
		*n = 0;
		return sdb_fail(s, rc, "reading backfills", e);
	}
	return 0;
}

int store_backfill_next(mw_store *s, int64_t source, struct store_backfill *b, mw_err *e)
{
	struct store_backfill *v;
	size_t n;
	int64_t src = source;

	if (bf_list(s, "SELECT " BF_COLS " FROM backfills WHERE source=?1 AND state=0 "
		       "ORDER BY id LIMIT 1", &src, 1, &v, &n, e) < 0)
		return -1;
	if (n)
		*b = v[0];
	free(v);
	return n ? 1 : 0;
}

/* ---- the coverage of a source -------------------------------------------- */

static int read_spans(mw_store *s, struct store_coverage *c, int64_t source, mw_err *e)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc = sqlite3_prepare_v2(s->db, "SELECT t_from,t_to FROM spans WHERE source=?1 "
					   "ORDER BY t_from", -1, &st, NULL);

	if (rc != SQLITE_OK)
		return sdb_fail(s, rc, "reading the collected spans", e);
	sqlite3_bind_int64(st, 1, source);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_span sp = { sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1) };

		if (!c->first_span)
			c->first_span = sp.from;
		if (sp.to < c->from || sp.from >= c->to)
			continue;
		if (c->nspans == cap) {
			cap = cap ? cap * 2 : 16;
			c->spans = mw_xrealloc(c->spans, cap * sizeof *c->spans);
		}
		c->spans[c->nspans++] = sp;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sdb_fail(s, rc, "reading the collected spans", e);
}

/* One count an hour, each a range of the (source, time, id) index: a
 * GROUP BY over the whole month sorted a temporary B-tree of every record
 * (0.6 s at a million records of one source; these 720 ranges 0.25 s). */
int store_count_hours(mw_store *s, int64_t source, int64_t from, size_t nhours, int64_t *hours,
		      int64_t lo, int64_t hi, mw_err *e)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, "SELECT count(*) FROM records "
					   "WHERE source=?1 AND time>=?2 AND time<?3", -1, &st, NULL);

	if (rc != SQLITE_OK)
		return sdb_fail(s, rc, "counting records per hour", e);
	sqlite3_bind_int64(st, 1, source);
	rc = SQLITE_ROW;
	for (size_t k = 0; k < nhours; k++) {
		int64_t a = from + (int64_t)k * 3600, b = a + 3600;

		if (b <= lo || a >= hi)
			continue;
		sqlite3_bind_int64(st, 2, a);
		sqlite3_bind_int64(st, 3, b);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			hours[k] = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		if (rc != SQLITE_ROW)
			break;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : sdb_fail(s, rc, "counting records per hour", e);
}

static int count_hours(mw_store *s, struct store_coverage *c, int64_t source, mw_err *e)
{
	c->nhours = (size_t)((c->to - c->from + 3599) / 3600);
	c->hours = mw_xcalloc(c->nhours + 1, sizeof *c->hours);
	return store_count_hours(s, source, c->from, c->nhours, c->hours, c->from, c->to, e);
}

/* "horizon moved from A to B" (store_reset_cursor's words) of this source's
 * "reset" events, while the bounded events table keeps them. */
static int read_resets(mw_store *s, struct store_coverage *c, int64_t source, mw_err *e)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc = sqlite3_prepare_v2(s->db, "SELECT e.time,e.text FROM events e JOIN sources s "
					   "ON s.integration=e.integration AND s.type=e.type "
					   "WHERE s.id=?1 AND e.kind='reset' ORDER BY e.id",
				    -1, &st, NULL);

	if (rc != SQLITE_OK)
		return sdb_fail(s, rc, "reading resets", e);
	sqlite3_bind_int64(st, 1, source);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 1);
		const char *a = t ? strstr(t, " from ") : NULL, *b = t ? strstr(t, " to ") : NULL;
		struct store_reset r = { sqlite3_column_int64(st, 0), 0, 0 };

		if (!a || !b || b < a)
			continue;
		a += 6;
		if (strncmp(a, "never", 5) != 0 && mw_parse_mc_date(a, (size_t)(b - a), &r.from) < 0)
			continue;
		b += 4;
		if (mw_parse_mc_date(b, strlen(b), &r.to) < 0)
			continue;
		if (c->nresets == cap) {
			cap = cap ? cap * 2 : 8;
			c->resets = mw_xrealloc(c->resets, cap * sizeof *c->resets);
		}
		c->resets[c->nresets++] = r;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sdb_fail(s, rc, "reading resets", e);
}

int store_coverage(mw_store *s, int64_t source, int64_t from, int64_t to, int counts,
		   struct store_coverage *c, mw_err *e)
{
	int64_t v[3];
	int rc;

	memset(c, 0, sizeof *c);
	c->from = from - from % 3600;
	c->to = to;
	v[0] = source;
	v[1] = c->from;
	v[2] = to;
	/* one read transaction: spans, backfills and cursor agree */
	if ((rc = sdb_raw_exec(s->db, "BEGIN")) != SQLITE_OK)
		return sdb_fail(s, rc, "reading the coverage", e);
	if (read_spans(s, c, source, e) < 0 || (counts && count_hours(s, c, source, e) < 0) ||
	    bf_list(s, "SELECT " BF_COLS " FROM backfills WHERE source=?1 AND (state=0 OR "
		       "(t_to>=?2 AND t_from<?3)) ORDER BY id", v, 3, &c->bf, &c->nbf, e) < 0 ||
	    read_resets(s, c, source, e) < 0 || store_get_cursor(s, source, &c->cur, e) < 0) {
		sdb_raw_exec(s->db, "ROLLBACK");
		store_coverage_free(c);
		return -1;
	}
	sdb_raw_exec(s->db, "COMMIT");
	return 0;
}

void store_coverage_free(struct store_coverage *c)
{
	free(c->spans);
	free(c->hours);
	free(c->bf);
	free(c->resets);
	c->spans = NULL;
	c->hours = NULL;
	c->bf = NULL;
	c->resets = NULL;
	c->nspans = c->nhours = c->nbf = c->nresets = 0;
}
