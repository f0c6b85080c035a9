/* store/cursors.c - sources, cursors and the one transaction that commits
 * a page: records (each stored once: unique on (source, time, id)), their
 * run with its summary for the filter, the hours and the cursor move,
 * together or not at all. */
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

/* ---- sources and cursors ------------------------------------------------- */

int store_find_source(mw_store *s, const char *integration, const char *type, int64_t *id,
		      mw_err *e)
{
	sqlite3_stmt *st = sdb_stmt(s, ST_SOURCE_GET, e);

	*id = 0;
	if (!st)
		return -1;
	sdb_bind_str(st, 1, integration);
	sdb_bind_str(st, 2, type);
	return sdb_one_i64(s, st, id, "looking up a source", e);
}

int store_source(mw_store *s, const char *integration, const char *type, int64_t *id,
		 mw_err *e)
{
	sqlite3_stmt *add;
	int rc = store_find_source(s, integration, type, id, e);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	add = sdb_stmt(s, ST_SOURCE_ADD, e);
	if (!add)
		return -1;
	sdb_bind_str(add, 1, integration);
	sdb_bind_str(add, 2, type);
	if (sdb_done(s, add, "adding a source", e) < 0)
		return -1;
	rc = store_find_source(s, integration, type, id, e);
	if (rc == 0)
		mw_err_set(e, "%s: source %s/%s vanished while being created", s->path,
			   integration, type);
	return rc == 1 ? 0 : -1;
}

int store_get_cursor(mw_store *s, int64_t source, struct store_cursor *c, mw_err *e)
{
	sqlite3_stmt *st = sdb_stmt(s, ST_CURSOR_GET, e);
	int rc;

	memset(c, 0, sizeof *c);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, source);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		c->horizon = sqlite3_column_int64(st, 0);
		c->in_window = sqlite3_column_int(st, 1);
		c->win_from = sqlite3_column_int64(st, 2);
		c->win_to = sqlite3_column_int64(st, 3);
		c->win_progress = sqlite3_column_int64(st, 4);
		sdb_copy_col(c->page_token, sizeof c->page_token, st, 5);
		c->win_received = sqlite3_column_int64(st, 6);
		c->win_restarted = sqlite3_column_int(st, 7);
		rc = SQLITE_DONE;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sdb_fail(s, rc, "reading a cursor", e);
	return 0;
}

/* A backfill's window (c->backfill) resumes from its own row; its end
 * marks it done. */
static int backfill_put(mw_store *s, const struct store_cursor *c, mw_err *e)
{
	sqlite3_stmt *st = sdb_stmt(s, ST_BF_PUT, e);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, c->backfill);
	sqlite3_bind_int64(st, 2, c->win_from);
	sqlite3_bind_int64(st, 3, c->win_progress);
	sqlite3_bind_text(st, 4, c->page_token, (int)strnlen(c->page_token,
							      sizeof c->page_token),
			  SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, c->win_received);
	sqlite3_bind_int(st, 6, c->win_restarted ? 1 : 0);
	sqlite3_bind_int(st, 7, c->in_window ? 1 : 0);
	sqlite3_bind_int64(st, 8, mw_now());
	return sdb_done(s, st, "writing a backfill's position", e);
}

/* The source's counts (store_commit_page): records stored by the commit,
 * its time, and the new hours (NULL: unchanged). */
struct counts {
	int64_t inserted, now;
	const mw_buf *hours;
};

static void bind_counts(sqlite3_stmt *st, int at, const struct counts *k)
{
	sqlite3_bind_int64(st, at, k ? k->inserted : 0);
	sqlite3_bind_int64(st, at + 1, k ? k->now : 0);
	if (k && k->hours)
		sqlite3_bind_text(st, at + 2, k->hours->data, (int)k->hours->len, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, at + 2);
}

/* Writes the cursor and adds the counts, k (or none: NULL), to its row:
 * the one row of the source a page's commit writes. A backfill's window
 * has a row of its own (backfill_put); its counts still go here. */
static int cursor_put(mw_store *s, int64_t source, const struct store_cursor *c,
		      const struct counts *k, mw_err *e)
{
	sqlite3_stmt *st;

	if (!c || c->backfill) {
		if (c && backfill_put(s, c, e) < 0)
			return -1;
		if (!k || k->inserted == 0)
			return 0;
		if (!(st = sdb_stmt(s, ST_CURSOR_ADD_COUNTS, e)))
			return -1;
		sqlite3_bind_int64(st, 1, source);
		bind_counts(st, 2, k);
		return sdb_done(s, st, "counting records", e);
	}
	if (!(st = sdb_stmt(s, ST_CURSOR_PUT, e)))
		return -1;
	sqlite3_bind_int64(st, 1, source);
	sqlite3_bind_int64(st, 2, c->horizon);
	sqlite3_bind_int(st, 3, c->in_window ? 1 : 0);
	sqlite3_bind_int64(st, 4, c->win_from);
	sqlite3_bind_int64(st, 5, c->win_to);
	sqlite3_bind_int64(st, 6, c->win_progress);
	sqlite3_bind_text(st, 7, c->page_token, (int)strnlen(c->page_token,
							      sizeof c->page_token),
			  SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, c->win_received);
	sqlite3_bind_int(st, 9, c->win_restarted ? 1 : 0);
	bind_counts(st, 10, k);
	return sdb_done(s, st, "writing the cursor", e);
}

static sqlite3_stmt *multi_insert(mw_store *s, mw_err *e)
{
	mw_buf sql;
	int rc;

	if (s->multi) {
		sqlite3_reset(s->multi);
		return s->multi;
	}
	mw_buf_init(&sql);
	mw_buf_puts(&sql, "INSERT OR IGNORE INTO records(source,id,time,collected,threat,json,"
		    "rowid) VALUES");
	for (int k = 0; k < MULTI_ROWS; k++)
		mw_buf_puts(&sql, k ? ",(?,?,?,?,?,?,?)" : "(?,?,?,?,?,?,?)");
	rc = sqlite3_prepare_v3(s->db, sql.data, -1, SQLITE_PREPARE_PERSISTENT, &s->multi, NULL);
	mw_buf_free(&sql);
	if (rc != SQLITE_OK) {
		sdb_fail(s, rc, "preparing a statement", e);
		s->multi = NULL;
		return NULL;
	}
	return s->multi;
}

/* 1 in *seen when the query (source, id bound) finds a row. */
static int exists(mw_store *s, enum stmt_id q, int64_t source, const char *id, int *seen,
		  mw_err *e)
{
	sqlite3_stmt *st = sdb_stmt(s, q, e);
	int rc;

	*seen = 0;
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, source);
	if (id)
		sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*seen = rc == SQLITE_ROW;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sdb_fail(s, rc, "looking up a record's id", e);
	return 0;
}

/* Whether a record of id was delivered already under another time: an
 * impersonation id names one log line, whatever time a tenant gives it.
 * For a record dated outside its window: its id among those of earlier
 * such records, or among every stored record of the source. For any
 * other record, once the source has had such records: among their ids. */
static int seen_elsewhere(mw_store *s, int64_t source, const struct store_rec *rec,
			  int any_outside, int *seen, mw_err *e)
{
	*seen = 0;
	if (!rec->outside && !any_outside)
		return 0;
	if (exists(s, ST_OUTSIDE_SEEN, source, rec->id, seen, e) < 0)
		return -1;
	if (!*seen && rec->outside)
		return exists(s, ST_ID_STORED, source, rec->id, seen, e);
	return 0;
}

static int outside_add(mw_store *s, int64_t source, const char *id, mw_err *e)
{
	sqlite3_stmt *st = sdb_stmt(s, ST_OUTSIDE_ADD, e);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, source);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	return sdb_done(s, st, "keeping the id of a record outside its window", e);
}

/* A keyed record (rec->keyed) checked against the row stored under its
 * (time, id), or its id alone when anytime (schema 7: open.c):
 * 1 the same content is stored (a duplicate); 0 it is to be inserted with
 * *revision: 1 when the id is new, the stored revision + 1 when other
 * content was stored (that row is deleted here). A record dated outside its
 * window never replaces one: what a tenant serves out of place is stored
 * once, ever (a hostile tenant that serves a wrongly dated copy of a line in
 * every answer beside the real one would otherwise make a revision of
 * each). */
static int keyed_check(mw_store *s, int64_t source, const struct store_rec *rec, int anytime,
		       int64_t *revision, mw_err *e)
{
	sqlite3_stmt *st = sdb_stmt(s, anytime ? ST_KEYED_GET_ID : ST_KEYED_GET, e);
	const void *json;
	size_t len;
	int64_t rowid;
	int rc, same, threat;

	*revision = 1;
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, source);
	sqlite3_bind_text(st, 2, rec->id, -1, SQLITE_STATIC);
	if (!anytime)
		sqlite3_bind_int64(st, 3, rec->time);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? 0 : sdb_fail(s, rc, "looking up a record's id", e);
	}
	rowid = sqlite3_column_int64(st, 0);
	*revision = sqlite3_column_int64(st, 1) + 1;
	json = sqlite3_column_blob(st, 2);
	len = (size_t)sqlite3_column_bytes(st, 2);
	threat = sqlite3_column_int(st, 3) != 0;
	same = len == rec->json_len && (len == 0 || memcmp(json, rec->json, len) == 0);
	sqlite3_reset(st);
	if (same || rec->outside)
		return 1;
	/* The old content goes; its run counts it, and its threat, no more. */
	return sdb_drop_record(s, source, rowid, threat, "replacing a revised record", e);
}

int store_newest_in(mw_store *s, int64_t source, int64_t from, int64_t to, int64_t *t,
		    mw_err *e)
{
	sqlite3_stmt *st = sdb_stmt(s, ST_NEWEST_IN, e);

	*t = 0;
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, source);
	sqlite3_bind_int64(st, 2, from);
	sqlite3_bind_int64(st, 3, to);
	return sdb_one_i64(s, st, t, "finding the newest record of a window", e) < 0 ? -1 : 0;
}

/* The source's hours with the commit's records added, into out. */
static int hours_now(mw_store *s, int64_t source, int64_t inserted, int64_t now, mw_buf *out,
		     mw_err *e)
{
	sqlite3_stmt *st = sdb_stmt(s, ST_CURSOR_HOURS_GET, e);
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, source);
	rc = sqlite3_step(st);
	sdb_hours_add(out, rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : "",
		      now / 3600, inserted);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sdb_fail(s, rc, "counting records", e);
	return 0;
}

/* store_commit_page, and with b a batch file's (store_commit_batch). */
static int commit(mw_store *s, int64_t source, const struct store_rec *recs, size_t n,
		  const struct store_cursor *c, const struct store_batch *b,
		  struct store_page_result *r, mw_err *e)
{
	int64_t now = mw_now(), inserted = 0, outside = 0, revised = 0, first_rowid = 0, seq = 0;
	int64_t next_rowid, threats = 0, tmin, tmax;
	const void *bits;
	size_t len;
	sqlite3_stmt *st, *seq_st;
	struct counts cnt;
	mw_buf hours;
	int rc, one_by_one = 0, any_outside = 0, count_threats = 0;

	if (r)
		r->inserted = r->duplicates = r->outside = r->revised = r->first_rowid = 0;
	if (sdb_begin(s, e) < 0)
		return -1;
	if (!(st = sdb_stmt(s, ST_INSERT_REC, e)))
		return sdb_abort(s);
	sqlite3_bind_int64(st, 1, source);
	sqlite3_bind_int64(st, 4, now);
	for (size_t i = 0; i < n; i++) {
		if (!recs[i].id || !recs[i].json || recs[i].json_len > INT_MAX) {
			mw_err_set(e, "%s: record %zu of the page has no id or no JSON", s->path, i);
			return sdb_abort(s);
		}
		one_by_one |= recs[i].outside || recs[i].keyed;
	}
	if (n && exists(s, ST_OUTSIDE_ANY, source, NULL, &any_outside, e) < 0)
		return sdb_abort(s);
	if (n && (!(seq_st = sdb_stmt(s, ST_SEQ_GET, e)) ||
		  sdb_one_i64(s, seq_st, &seq, "reading the last rowid", e) < 0))
		return sdb_abort(s);
	/* Every row gets its rowid here, past any handed out before (open.c,
	 * "Rowids"); a row ignored as a duplicate leaves its number unused. */
	next_rowid = seq + 1;
	one_by_one |= any_outside;
	/* A page with a record dated outside its window (rare) goes one row at
	 * a time: each such record is checked against, and added to, the
	 * outside_seen ids. So do keyed records (impersonation: small pages),
	 * each looked up by its id. */
	for (size_t i = 0; !one_by_one && i + MULTI_ROWS <= n; i += MULTI_ROWS) {
		sqlite3_stmt *m = multi_insert(s, e);

		if (!m)
			return sdb_abort(s);
		for (int k = 0; k < MULTI_ROWS; k++) {
			const struct store_rec *rec = &recs[i + (size_t)k];
			int p = k * 7;

			sqlite3_bind_int64(m, p + 1, source);
			sqlite3_bind_text(m, p + 2, rec->id, -1, SQLITE_STATIC);
			sqlite3_bind_int64(m, p + 3, rec->time);
			sqlite3_bind_int64(m, p + 4, now);
			sqlite3_bind_int(m, p + 5, rec->threat ? 1 : 0);
			sqlite3_bind_text(m, p + 6, rec->json, (int)rec->json_len, SQLITE_STATIC);
			sqlite3_bind_int64(m, p + 7, next_rowid++);
		}
		rc = sqlite3_step(m);
		sqlite3_reset(m);
		if (rc != SQLITE_DONE) {
			sdb_fail(s, rc, "storing records", e);
			return sdb_abort(s);
		}
		inserted += sqlite3_changes(s->db);
		/* The run's threats: these rows', unless some were duplicates
		 * (then counted from the rows stored, below). */
		if (sqlite3_changes(s->db) == MULTI_ROWS) {
			for (int k = 0; k < MULTI_ROWS; k++)
				threats += recs[i + (size_t)k].threat ? 1 : 0;
		} else {
			count_threats = 1;
		}
	}
	for (size_t i = one_by_one ? 0 : n - n % MULTI_ROWS; i < n; i++) {
		const struct store_rec *rec = &recs[i];
		int64_t revision = 0;
		int seen = 0, known = 0;  /* known: seen is seen_elsewhere's answer */

		if (rec->keyed) {
			/* Its row by (time, id); by id alone when the id came dated
			 * outside its window before (its real version updates it).
			 * For a record inside its window, that is all seen_elsewhere
			 * would ask. */
			int k;

			if (any_outside && !rec->outside) {
				if (exists(s, ST_OUTSIDE_SEEN, source, rec->id, &seen, e) < 0)
					return sdb_abort(s);
				known = 1;
			}
			k = keyed_check(s, source, rec, seen, &revision, e);
			if (k < 0)
				return sdb_abort(s);
			if (k > 0)
				continue;  /* the same content */
		}
		/* A revision replaces a row just deleted: its id was seen, by
		 * design. */
		if (revision >= 2)
			seen = 0;
		else if (!known && seen_elsewhere(s, source, rec, any_outside, &seen, e) < 0)
			return sdb_abort(s);
		if (seen)
			continue;  /* delivered once already, perhaps pruned since */
		/* Bindings survive reset, so only the per-record ones change. */
		sqlite3_bind_text(st, 2, rec->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, rec->time);
		sqlite3_bind_int(st, 5, rec->threat ? 1 : 0);
		sqlite3_bind_text(st, 6, rec->json, (int)rec->json_len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 7, revision);
		sqlite3_bind_int64(st, 8, next_rowid++);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			sdb_fail(s, rc, "storing records", e);
			return sdb_abort(s);
		}
		if (sqlite3_changes(s->db) > 0 && rec->threat)
			threats++;
		if (revision >= 2) {
			revised++;  /* still one record: not in inserted */
			continue;
		}
		/* INSERT OR IGNORE: 0 changes means the id was already stored. */
		inserted += sqlite3_changes(s->db);
		if (rec->outside) {
			outside += sqlite3_changes(s->db);
			if (outside_add(s, source, rec->id, e) < 0)
				return sdb_abort(s);
		}
	}
	/* Read before any other insert changes it: with every record a new
	 * row, their rowids are consecutive (numbered above, one writer) and
	 * end here. */
	if (n && inserted == (int64_t)n && revised == 0)
		first_rowid = sqlite3_last_insert_rowid(s->db) - (int64_t)n + 1;
	/* The new rows, seq+1 .. the last inserted, are this source's run. */
	if (inserted + revised > 0) {
		int64_t last = sqlite3_last_insert_rowid(s->db);

		if (count_threats) {
			if (!(st = sdb_stmt(s, ST_RUN_THREATS, e)))
				return sdb_abort(s);
			sqlite3_bind_int64(st, 1, seq + 1);
			sqlite3_bind_int64(st, 2, last);
			if (sdb_one_i64(s, st, &threats, "counting the page's threats", e) < 0)
				return sdb_abort(s);
		}
		if (!(st = sdb_stmt(s, ST_RUN_ADD, e)))
			return sdb_abort(s);
		sqlite3_bind_int64(st, 1, source);
		sqlite3_bind_int64(st, 2, seq + 1);
		sqlite3_bind_int64(st, 3, last);
		sqlite3_bind_int64(st, 4, inserted + revised);
		sqlite3_bind_int64(st, 5, threats);
		/* its summary for the filter (grams.c): of every record of the
		 * page, duplicates too (it may hold more than the run, never
		 * less) */
		if (!s->grams)
			s->grams = grams_new();
		grams_reset(s->grams);
		for (size_t i = 0; i < n; i++)
			grams_add(s->grams, &recs[i]);
		len = grams_finish(s->grams, &bits, &tmin, &tmax);
		sqlite3_bind_int64(st, 6, tmin);
		sqlite3_bind_int64(st, 7, tmax);
		sqlite3_bind_blob(st, 8, bits, (int)len, SQLITE_STATIC);
		rc = sdb_done(s, st, "noting the page's rows", e);
		sqlite3_bind_null(st, 8);
		if (rc < 0)
			return sdb_abort(s);
	}
	if (outside > 0) {
		if (!(st = sdb_stmt(s, ST_OUTSIDE_COUNT, e)))
			return sdb_abort(s);
		sqlite3_bind_int64(st, 1, source);
		sqlite3_bind_int64(st, 2, outside);
		if (sdb_done(s, st, "counting records outside their window", e) < 0)
			return sdb_abort(s);
	}
	if (revised > 0) {
		if (!(st = sdb_stmt(s, ST_REVISED_ADD, e)))
			return sdb_abort(s);
		sqlite3_bind_int64(st, 1, source);
		sqlite3_bind_int64(st, 2, revised);
		if (sdb_done(s, st, "counting revised records", e) < 0)
			return sdb_abort(s);
	}
	mw_buf_init(&hours);
	if (inserted > 0 && hours_now(s, source, inserted, now, &hours, e) < 0) {
		mw_buf_free(&hours);
		return sdb_abort(s);
	}
	cnt = (struct counts){ inserted, now, inserted > 0 ? &hours : NULL };
	rc = cursor_put(s, source, c, &cnt, e);
	mw_buf_free(&hours);
	if (rc < 0 || (b && sdb_batch_put(s, source, b, (int64_t)n, e) < 0))
		return sdb_abort(s);
	/* a window's end: one merge of spans per window, never per page */
	if (c && c->covered_to > c->covered_from &&
	    store_span_add(s, source, c->covered_from, c->covered_to, e) < 0)
		return sdb_abort(s);
	/* a window's start and end, noted by the collector (store_event_defer) */
	if (s->npend && sdb_events_write(s, e) < 0)
		return sdb_abort(s);
	if (sdb_commit(s, e) < 0)
		return sdb_abort(s);
	sdb_events_committed(s);
	if (r) {
		r->inserted = inserted;
		r->revised = revised;
		r->first_rowid = first_rowid;
		r->duplicates = (int64_t)n - inserted - revised;
		r->outside = outside;
	}
	return 0;
}

int store_commit_page(mw_store *s, int64_t source, const struct store_rec *recs, size_t n,
		      const struct store_cursor *c, struct store_page_result *r, mw_err *e)
{
	return commit(s, source, recs, n, c, NULL, r, e);
}

int store_commit_batch(mw_store *s, int64_t source, const struct store_rec *recs, size_t n,
		       const struct store_cursor *c, const struct store_batch *b,
		       struct store_page_result *r, mw_err *e)
{
	return commit(s, source, recs, n, c, b, r, e);
}

/* Replaces source's cursor with c in one transaction with an event of
 * kind, its text: lead, the old horizon ("never"), mid, c's horizon. */
/* A batch type's listings from day on (a reset), inside the caller's
 * transaction: each sub-type's cursor at day's start, the ledger's files
 * of that day and after forgotten, so they are taken again (their records
 * are duplicates the store drops). */
static int batch_reset(mw_store *s, int64_t source, int64_t day, mw_err *e)
{
	sqlite3_stmt *st;

	if (!(st = sdb_stmt(s, ST_BATCH_RESET_CUR, e)))
		return -1;
	sqlite3_bind_int64(st, 1, source);
	sqlite3_bind_int64(st, 2, day);
	if (sdb_done(s, st, "resetting the batch listings", e) < 0 ||
	    !(st = sdb_stmt(s, ST_BATCH_RESET_FILES, e)))
		return -1;
	sqlite3_bind_int64(st, 1, source);
	sqlite3_bind_int64(st, 2, day);
	return sdb_done(s, st, "forgetting the batch files taken", e);
}

/* reset: also moves a batch type's listings (batch_reset) */
static int cursor_replace(mw_store *s, int64_t source, const struct store_cursor *c,
			  const char *kind, const char *lead, const char *mid, int reset,
			  mw_err *e)
{
	struct store_cursor old;
	sqlite3_stmt *st;
	char in[64] = "", type[16] = "", was[32] = "never", to[32], text[128];

	if (store_get_cursor(s, source, &old, e) < 0)
		return -1;
	if ((st = sdb_stmt(s, ST_SOURCE_NAME, e)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, source);
	if (sqlite3_step(st) == SQLITE_ROW) {
		sdb_copy_col(in, sizeof in, st, 0);
		sdb_copy_col(type, sizeof type, st, 1);
	}
	sqlite3_reset(st);
	if (old.horizon > 0)
		mw_format_rfc3339(old.horizon, was);
	mw_format_rfc3339(c->horizon, to);
	snprintf(text, sizeof text, "%s%s%s%s", lead, was, mid, to);
	if (sdb_begin(s, e) < 0)
		return -1;
	if (cursor_put(s, source, c, NULL, e) < 0 ||
	    (reset && batch_reset(s, source, c->horizon - c->horizon % 86400, e) < 0) ||
	    store_event_add(s, in, type, kind, text, e) < 0 || sdb_commit(s, e) < 0)
		return sdb_abort(s);
	return 0;
}

int store_reset_cursor(mw_store *s, int64_t source, int64_t horizon, mw_err *e)
{
	struct store_cursor c;

	memset(&c, 0, sizeof c);
	c.horizon = horizon;
	/* The coverage view reads the gap a reset forward leaves from this
	 * event (store_coverage): the two times, in this form. */
	return cursor_replace(s, source, &c, "reset", "horizon moved from ", " to ", 1, e);
}

int store_import_cursor(mw_store *s, int64_t source, const struct store_cursor *c, mw_err *e)
{
	struct store_cursor own = *c;

	own.backfill = 0;
	own.covered_from = own.covered_to = 0;
	return cursor_replace(s, source, &own, "import",
			      "cursor imported: horizon moved from ", " to ", 0, e);
}
