/* store/volume.c - the store's volume controls (HACKING, "The store's
 * budget and pass-through"): the bytes the budget counts, each source's
 * dedup horizon, and deleting the records every output delivered and no
 * re-read can bring back, oldest first. */
#include "private.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "logtypes.h"

/* Rows looked at per transaction: small enough that a budget is not
 * undershot by much (a few hundred KiB at Mimecast's record sizes) and the
 * collector is never held up for long. */
#define VOLUME_SCAN 512
/* meta's key for a source's newest record time deleted by these controls
 * (the console's "pruned" note); one key a source, so no schema change. */
#define META_PRUNED "volume_pruned:"

static int pragma_i64(mw_store *s, const char *sql, int64_t *v, mw_err *e)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return sdb_fail(s, rc, "measuring the store", e);
	rc = sqlite3_step(st);
	*v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : sdb_fail(s, rc, "measuring the store", e);
}

static int64_t file_bytes(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (int64_t)sb.st_size : 0;
}

int store_size(mw_store *s, struct store_size *out, mw_err *e)
{
	int64_t pages, free_pages, page_size;
	char wal[4200];

	memset(out, 0, sizeof(*out));
	/* As this connection sees the database: pages still in the WAL count. */
	if (pragma_i64(s, "PRAGMA page_count", &pages, e) < 0 ||
	    pragma_i64(s, "PRAGMA freelist_count", &free_pages, e) < 0 ||
	    pragma_i64(s, "PRAGMA page_size", &page_size, e) < 0)
		return -1;
	snprintf(wal, sizeof(wal), "%s-wal", s->path);
	out->file_bytes = file_bytes(s->path);
	out->wal_bytes = file_bytes(wal);
	out->free_bytes = free_pages * page_size;
	out->used = (pages - free_pages) * page_size;
	return 0;
}

/* ---- dedup horizons ---------------------------------------------------------- */

struct horizon {
	int64_t source, from;   /* records at or after `from` may be read again */
};

/* Where a window, in progress or to come, may read again from: a window
 * in progress oldest first from the newest record it received (restarts
 * and a short totalCount re-read from there, less the overlap); newest
 * first from its start (it is read again whole); a source between windows
 * from its horizon (the next window starts there, less the overlap). No
 * horizon and no window: never collected (a reset always sets one), or
 * heartbeats, which nothing reads again. */
static int64_t reread_from(const char *type, int in_window, int64_t horizon, int64_t win_from,
			   int64_t win_progress, int64_t overlap)
{
	const struct mw_logtype *lt = logtype_find(type);

	if (!in_window)
		return horizon > 0 ? horizon - overlap : INT64_MAX;
	if ((lt && lt->newest_first) || win_progress < win_from)
		return win_from - overlap;
	return win_progress - overlap;
}

static void horizon_lower(struct horizon **v, size_t *n, int64_t source, int64_t from)
{
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i].source == source) {
			if (from < (*v)[i].from)
				(*v)[i].from = from;
			return;
		}
	*v = mw_xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[*n] = (struct horizon){ source, from };
	(*n)++;
}

/* Each source's dedup horizon: its cursor's and its queued backfills'. */
static int dedup_horizons(mw_store *s, int64_t overlap, struct horizon **out, size_t *n,
			  mw_err *e)
{
	static const char sql[] =
		"SELECT s.id,s.type,c.in_window,c.horizon,c.win_from,c.win_progress FROM sources s"
		" JOIN cursors c ON c.source=s.id UNION ALL"
		" SELECT s.id,s.type,1,0,b.win_from,b.win_progress FROM backfills b"
		" JOIN sources s ON s.id=b.source WHERE b.state=0";
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

	*out = NULL;
	*n = 0;
	if (rc != SQLITE_OK)
		return sdb_fail(s, rc, "reading the dedup horizons", e);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *type = (const char *)sqlite3_column_text(st, 1);

		horizon_lower(out, n, sqlite3_column_int64(st, 0),
			      reread_from(type ? type : "", sqlite3_column_int(st, 2),
					  sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4),
					  sqlite3_column_int64(st, 5), overlap));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(*out);
		*out = NULL;
		return sdb_fail(s, rc, "reading the dedup horizons", e);
	}
	return 0;
}

static int64_t horizon_of(const struct horizon *v, size_t n, int64_t source)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].source == source)
			return v[i].from;
	return INT64_MAX;  /* no cursor (heartbeats): nothing reads it again */
}

/* ---- deleting ------------------------------------------------------------------ */

struct pick {
	int64_t rowid, source, time;
	int threat;
};

/* Per source, the newest rowid and record time this batch deleted. */
struct touched {
	int64_t source, top, newest;
};

static void touch(struct touched *t, size_t *n, const struct pick *p)
{
	size_t i;

	for (i = 0; i < *n && t[i].source != p->source; i++)
		;
	if (i == *n) {
		t[i] = (struct touched){ p->source, p->rowid, p->time };
		(*n)++;
		return;
	}
	if (p->rowid > t[i].top)
		t[i].top = p->rowid;
	if (p->time > t[i].newest)
		t[i].newest = p->time;
}

/* The newest record time deleted of each source touched, for the console. */
static int note_pruned(mw_store *s, const struct touched *t, size_t n, mw_err *e)
{
	for (size_t i = 0; i < n; i++) {
		char key[64], val[32];
		int64_t was = 0;

		snprintf(key, sizeof(key), META_PRUNED "%" PRId64, t[i].source);
		if (store_meta_get(s, key, val, sizeof(val)) == 0)
			was = strtoll(val, NULL, 10);
		if (t[i].newest <= was)
			continue;
		snprintf(val, sizeof(val), "%" PRId64, t[i].newest);
		if (store_meta_set(s, key, val, e) < 0)
			return -1;
	}
	return 0;
}

/* The deletable rows among the next VOLUME_SCAN after *after: delivered to
 * every output (rowid <= max_rowid) and older than their source's dedup
 * horizon. *after moves past the rows looked at; *end is set when none is
 * left. */
static int scan_batch(mw_store *s, int64_t *after, int64_t max_rowid, const struct horizon *h,
		      size_t nh, struct pick *picks, size_t *npicks, int *end, mw_err *e)
{
	static const char sql[] = "SELECT rowid,source,time,threat FROM records"
				  " WHERE rowid>?1 AND rowid<=?2 ORDER BY rowid LIMIT ?3";
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	size_t seen = 0;

	*npicks = 0;
	if (rc != SQLITE_OK)
		return sdb_fail(s, rc, "pruning records", e);
	sqlite3_bind_int64(st, 1, *after);
	sqlite3_bind_int64(st, 2, max_rowid);
	sqlite3_bind_int(st, 3, VOLUME_SCAN);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct pick p = { sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
				  sqlite3_column_int64(st, 2), sqlite3_column_int(st, 3) != 0 };

		seen++;
		*after = p.rowid;
		if (p.time < horizon_of(h, nh, p.source))
			picks[(*npicks)++] = p;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sdb_fail(s, rc, "pruning records", e);
	*end = seen < VOLUME_SCAN;
	return 0;
}

/* Deletes picks in one transaction: their runs count them no more (an
 * emptied run goes), the highest rowid is kept in meta first. */
static int drop_picks(mw_store *s, const struct pick *picks, size_t n, mw_err *e)
{
	struct touched t[VOLUME_SCAN];
	size_t nt = 0;
	sqlite3_stmt *st;

	if (sdb_begin(s, e) < 0)
		return -1;
	if (!(st = sdb_stmt(s, ST_ROWID_KEEP, e)) || sdb_done(s, st, "pruning records", e) < 0)
		return sdb_abort(s);
	for (size_t i = 0; i < n; i++) {
		if (sdb_drop_record(s, picks[i].source, picks[i].rowid, picks[i].threat,
				    "pruning records", e) < 0)
			return sdb_abort(s);
		touch(t, &nt, &picks[i]);
	}
	for (size_t i = 0; i < nt; i++) {
		if (!(st = sdb_stmt(s, ST_PRUNE_RUNS_EMPTY, e)))
			return sdb_abort(s);
		sqlite3_bind_int64(st, 1, t[i].source);
		sqlite3_bind_int64(st, 2, t[i].top);
		if (sdb_done(s, st, "pruning records", e) < 0)
			return sdb_abort(s);
	}
	if (note_pruned(s, t, nt, e) < 0 || sdb_commit(s, e) < 0)
		return sdb_abort(s);
	return 0;
}

int64_t store_prune_delivered(mw_store *s, int64_t max_rowid, int64_t overlap, int64_t target,
			      mw_err *e)
{
	struct pick *picks = mw_xmalloc(VOLUME_SCAN * sizeof(*picks));
	struct horizon *h = NULL;
	struct store_size sz;
	size_t nh = 0, npicks;
	int64_t after = 0, total = 0;
	int end = 0, rc = 0;

	if (dedup_horizons(s, overlap, &h, &nh, e) < 0) {
		free(picks);
		return -1;
	}
	while (!end) {
		if (target >= 0 && ((rc = store_size(s, &sz, e)) < 0 || sz.used <= target))
			break;
		if ((rc = scan_batch(s, &after, max_rowid, h, nh, picks, &npicks, &end, e)) < 0)
			break;
		if (npicks && (rc = drop_picks(s, picks, npicks, e)) < 0)
			break;
		total += (int64_t)npicks;
	}
	free(picks);
	free(h);
	store_note_deleted(s, total);
	return rc < 0 ? -1 : total;
}

int64_t store_pruned_before(mw_store *s, int64_t source)
{
	char key[64], val[32];

	snprintf(key, sizeof(key), META_PRUNED "%" PRId64, source);
	return store_meta_get(s, key, val, sizeof(val)) == 0 ? strtoll(val, NULL, 10) : 0;
}
