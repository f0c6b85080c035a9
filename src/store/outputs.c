/* store/outputs.c - what the outputs read: records after a rowid, each
 * output's durable offset and file sizes; what status and the console show
 * of an output (the console's counts kept up incrementally); and retention
 * (pruning only what every output has delivered and no overlap will read
 * again). */
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

/* ---- records for outputs ------------------------------------------------------- */

/* Calls cb for each row st gives (cb returns non-zero to stop). */
static int each_row(mw_store *s, sqlite3_stmt *st,
		    int (*cb)(const struct store_row *row, void *ctx), void *ctx, mw_err *e)
{
	struct store_row row;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sdb_read_row(s, st, &row, e) < 0) {
			sqlite3_reset(st);
			return -1;
		}
		if (cb(&row, ctx)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sdb_fail(s, rc, "reading records", e);
	return 0;
}

int store_each_after(mw_store *s, int64_t after_rowid, size_t limit,
		     int (*cb)(const struct store_row *row, void *ctx), void *ctx, mw_err *e)
{
	sqlite3_stmt *st = sdb_stmt(s, ST_EACH_AFTER, e);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, after_rowid);
	sqlite3_bind_int64(st, 2, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
	return each_row(s, st, cb, ctx, e);
}

int store_each_in_span(mw_store *s, const struct store_time_span *sp, int64_t after_rowid,
		       size_t limit, int (*cb)(const struct store_row *row, void *ctx),
		       void *ctx, mw_err *e)
{
	sqlite3_stmt *st = sdb_stmt(s, ST_EACH_SPAN, e);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, after_rowid);
	sqlite3_bind_int64(st, 2, sp->since);
	sqlite3_bind_int64(st, 3, sp->until);
	if (sp->integration)
		sdb_bind_str(st, 4, sp->integration);
	else
		sqlite3_bind_null(st, 4);
	if (sp->type)
		sdb_bind_str(st, 5, sp->type);
	else
		sqlite3_bind_null(st, 5);
	sqlite3_bind_int64(st, 6, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
	return each_row(s, st, cb, ctx, e);
}


int64_t store_max_rowid(mw_store *s)
{
	return sdb_query_i64(s, ST_MAX_ROWID, 0, 0);
}

/* ---- output offsets --------------------------------------------------------- */

int store_output_get(mw_store *s, const char *output, int64_t *last_rowid, mw_err *e)
{
	sqlite3_stmt *st = sdb_stmt(s, ST_OUT_GET, e);
	int rc;

	*last_rowid = 0;
	if (!st)
		return -1;
	sdb_bind_str(st, 1, output);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*last_rowid = sqlite3_column_int64(st, 0);
		rc = SQLITE_DONE;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sdb_fail(s, rc, "reading an output offset", e);
	return 0;
}

int store_output_begin_now(mw_store *s, const char *output, mw_err *e)
{
	sqlite3_stmt *st = sdb_stmt(s, ST_OUT_BEGIN, e);

	if (!st)
		return -1;
	sdb_bind_str(st, 1, output);
	sqlite3_bind_int64(st, 2, mw_now_ms());
	if (sdb_done(s, st, "making an output offset", e) < 0)
		return -1;
	return sqlite3_changes(s->db) > 0;
}

int store_output_files(mw_store *s, const char *output, struct store_file_size **out,
		       size_t *n, mw_err *e)
{
	sqlite3_stmt *st = sdb_stmt(s, ST_OUT_FILES, e);
	struct store_file_size *v = NULL;
	size_t len = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!st)
		return -1;
	sdb_bind_str(st, 1, output);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			v = mw_xrealloc(v, cap * sizeof *v);
		}
		sdb_copy_col(v[len].path, sizeof v[len].path, st, 0);
		v[len].size = sqlite3_column_int64(st, 1);
		len++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(v);
		return sdb_fail(s, rc, "reading output files", e);
	}
	*out = v;
	*n = len;
	return 0;
}

int store_output_register(mw_store *s, const char *output, const char *path, int64_t size,
			  mw_err *e)
{
	sqlite3_stmt *st = sdb_stmt(s, ST_OUT_REGISTER, e);

	if (!st)
		return -1;
	sdb_bind_str(st, 1, output);
	sdb_bind_str(st, 2, path);
	sqlite3_bind_int64(st, 3, size);
	return sdb_done(s, st, "registering an output file", e);
}

int store_output_forget(mw_store *s, const char *output, const char *path, mw_err *e)
{
	sqlite3_stmt *st = sdb_stmt(s, ST_OUT_FORGET, e);

	if (!st)
		return -1;
	sdb_bind_str(st, 1, output);
	sdb_bind_str(st, 2, path);
	return sdb_done(s, st, "forgetting an output file", e);
}

int store_output_commit(mw_store *s, const char *output, int64_t last_rowid,
			const struct store_file_size *files, size_t n, mw_err *e)
{
	sqlite3_stmt *st;

	if (sdb_begin(s, e) < 0)
		return -1;
	if (!(st = sdb_stmt(s, ST_OUT_SET_ROWID, e)))
		return sdb_abort(s);
	sdb_bind_str(st, 1, output);
	sqlite3_bind_int64(st, 2, last_rowid);
	sqlite3_bind_int64(st, 3, mw_now_ms());
	if (sdb_done(s, st, "saving an output offset", e) < 0)
		return sdb_abort(s);
	for (size_t i = 0; i < n; i++) {
		if (!(st = sdb_stmt(s, ST_OUT_SET_SIZE, e)))
			return sdb_abort(s);
		sdb_bind_str(st, 1, output);
		sdb_bind_str(st, 2, files[i].path);
		sqlite3_bind_int64(st, 3, files[i].size);
		if (sdb_done(s, st, "saving an output file size", e) < 0)
			return sdb_abort(s);
	}
	if (sdb_commit(s, e) < 0)
		return sdb_abort(s);
	return 0;
}

/* The event a change of an output's state makes (store.h, "events.c"):
 * a new or changed error, or delivering again after one; "" none. */
static void output_event(mw_store *s, const char *output, const char *state,
			 const char *error, char *kind, size_t nk, char *text, size_t nt)
{
	sqlite3_stmt *st;
	char old_state[16] = "", old_error[1024] = "";
	mw_err e;

	kind[0] = text[0] = '\0';
	if (!(st = sdb_stmt(s, ST_OUT_INFO, &e)))
		return;
	sdb_bind_str(st, 1, output);
	if (sqlite3_step(st) == SQLITE_ROW) {
		sdb_copy_col(old_state, sizeof(old_state), st, 0);
		sdb_copy_col(old_error, sizeof(old_error), st, 1);
	}
	sqlite3_reset(st);
	if (strcmp(state, "ok") == 0 || strcmp(state, "idle") == 0) {
		if (strcmp(old_state, "error") == 0 || strcmp(old_state, "retrying") == 0) {
			snprintf(kind, nk, "output recovered");
			snprintf(text, nt, "output '%.100s': delivering again", output);
		}
	} else if (strcmp(state, old_state) != 0 || strcmp(error ? error : "", old_error) != 0) {
		const char *why = error ? error : "";
		char named[160];

		/* an error that names its output already says it once */
		snprintf(named, sizeof(named), "output %s: ", output);
		if (strncmp(why, named, strlen(named)) == 0)
			why += strlen(named);
		snprintf(kind, nk, "output %s", state);
		snprintf(text, nt, "output '%.100s': %.280s", output, why);
	}
}

int store_output_status(mw_store *s, const char *output, const char *state,
			const char *error, mw_err *e)
{
	sqlite3_stmt *st;
	char kind[24], text[400];

	output_event(s, output, state, error, kind, sizeof(kind), text, sizeof(text));
	if (kind[0] && sdb_begin(s, e) < 0)
		return -1;
	if (!(st = sdb_stmt(s, ST_OUT_STATUS, e)))
		return kind[0] ? sdb_abort(s) : -1;
	sdb_bind_str(st, 1, output);
	sdb_bind_str(st, 2, state);
	sdb_bind_str(st, 3, error);
	sqlite3_bind_int64(st, 4, mw_now_ms());
	if (sdb_done(s, st, "saving an output state", e) < 0)
		return kind[0] ? sdb_abort(s) : -1;
	if (!kind[0])
		return 0;
	/* in this transaction: the state and its event together */
	if (store_event_add(s, "", "", kind, text, e) < 0 || sdb_commit(s, e) < 0)
		return sdb_abort(s);
	return 0;
}

/* ---- retention --------------------------------------------------------------- */

/* meta's count of records deleted other than by a revision. */
#define META_DELETED "records_deleted"

/* The records with after < rowid <= upto (ST_OUT_COUNT_BETWEEN), or -1. */
static int64_t count_between(mw_store *s, int64_t after, int64_t upto)
{
	sqlite3_stmt *st;
	int64_t v = 0;
	mw_err e;

	if (upto <= after)
		return 0;
	if (!(st = sdb_stmt(s, ST_OUT_COUNT_BETWEEN, &e)))
		return -1;
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int64(st, 2, upto);
	return sdb_one_i64(s, st, &v, "counting an output's records", &e) < 0 ? -1 : v;
}

/* What changes whenever a stored record is deleted: a revision drops the
 * old row (status.revised counts it, in the same transaction), retention
 * and deleting an integration bump meta's records_deleted. */
static int deletions_mark(mw_store *s, int64_t *revised, int64_t *deleted)
{
	char val[32];

	*revised = sdb_query_i64(s, ST_REVISED_SUM, 0, 0);
	*deleted = store_meta_get(s, META_DELETED, val, sizeof(val)) == 0
		? strtoll(val, NULL, 10) : 0;
	return *revised < 0 ? -1 : 0;
}

void store_note_deleted(mw_store *s, int64_t n)
{
	char val[32];
	int64_t was = 0;
	mw_err e;

	if (n <= 0)
		return;
	if (store_meta_get(s, META_DELETED, val, sizeof(val)) == 0)
		was = strtoll(val, NULL, 10);
	snprintf(val, sizeof(val), "%" PRId64, was + n);
	/* Only a hint for readers' caches: failing to write it costs them a
	 * stale count until the next change, never a record. */
	if (store_meta_set(s, META_DELETED, val, &e) < 0)
		mw_log(0, "%s", e.msg);
}

int store_output_info_cached(mw_store *s, const char *output, struct store_output_cache *c,
			     struct store_output_info *out, mw_err *e)
{
	sqlite3_stmt *st = sdb_stmt(s, ST_OUT_INFO, e);
	int64_t max_rowid = 0, revised = 0, deleted = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	snprintf(out->state, sizeof(out->state), "idle");
	if (!st)
		return -1;
	sdb_bind_str(st, 1, output);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		sdb_copy_col(out->state, sizeof(out->state), st, 0);
		sdb_copy_col(out->error, sizeof(out->error), st, 1);
		out->updated_ms = sqlite3_column_int64(st, 2);
		out->last_rowid = sqlite3_column_int64(st, 3);
		rc = SQLITE_DONE;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		sdb_fail(s, rc, "reading an output's state", e);
		return -1;
	}
	if (c) {
		max_rowid = store_max_rowid(s);
		if (max_rowid < 0 || deletions_mark(s, &revised, &deleted) < 0)
			c->valid = 0;
	}
	if (c && c->valid && !strcmp(c->output, output) && c->revised == revised &&
	    c->deleted == deleted && out->last_rowid >= c->last_rowid &&
	    max_rowid >= c->max_rowid) {
		/* Nothing deleted since: only the rows between the two offsets
		 * and the rows added are counted. */
		int64_t newly = count_between(s, c->last_rowid, out->last_rowid);
		int64_t added = count_between(s, c->max_rowid, max_rowid);

		out->delivered = newly < 0 ? -1 : c->delivered + newly;
		out->lag_records = newly < 0 || added < 0 ? -1
			: c->delivered + c->lag_records + added - out->delivered;
	} else if (c) {
		/* Bounded by max_rowid as read above, so that rows committed
		 * meanwhile are counted once, by the next call. */
		out->delivered = count_between(s, 0, out->last_rowid);
		out->lag_records = count_between(s, out->last_rowid, max_rowid);
	} else {
		out->lag_records = sdb_query_i64(s, ST_OUT_LAG, out->last_rowid, 1);
		out->delivered = sdb_query_i64(s, ST_OUT_DONE, out->last_rowid, 1);
	}
	if (out->lag_records > 0) {
		int64_t oldest = sdb_query_i64(s, ST_OUT_OLDEST, out->last_rowid, 1);

		out->lag_seconds = oldest > 0 && mw_now() > oldest ? mw_now() - oldest : 0;
	}
	if (out->lag_records < 0 || out->delivered < 0) {
		if (c)
			c->valid = 0;
		mw_err_set(e, "%s: counting an output's records failed: %s", s->path,
			   sqlite3_errmsg(s->db));
		return -1;
	}
	if (c) {
		*c = (struct store_output_cache){ .valid = 1, .last_rowid = out->last_rowid,
						  .max_rowid = max_rowid, .delivered = out->delivered,
						  .lag_records = out->lag_records, .revised = revised,
						  .deleted = deleted };
		mw_strlcpy(c->output, output, sizeof(c->output));
	}
	return 0;
}

int store_output_info(mw_store *s, const char *output, struct store_output_info *out,
		      mw_err *e)
{
	return store_output_info_cached(s, output, NULL, out, e);
}

int64_t store_reread_floor(mw_store *s)
{
	int64_t v = sdb_query_i64(s, ST_REREAD_FLOOR, 0, 0);

	return v < 0 ? INT64_MAX : v;
}

/* A record retention deletes: its run counts it, and its threat, no more. */
struct prune_pick {
	int64_t rowid;
	int threat;
};

/* One batch of a source's old records: up to PRUNE_BATCH picked through
 * the index, deleted one by one with their runs counting them no more, in
 * one transaction (so the collector is never held up for long). The
 * number deleted, or -1. */
static int64_t prune_batch(mw_store *s, int64_t source, int64_t before, int64_t max_rowid,
			   struct prune_pick *picks, mw_err *e)
{
	sqlite3_stmt *st;
	int64_t n = 0, top = 0;
	int rc;

	if (sdb_begin(s, e) < 0)
		return -1;
	if (!(st = sdb_stmt(s, ST_PRUNE_PICK, e)))
		return sdb_abort(s);
	sqlite3_bind_int64(st, 1, source);
	sqlite3_bind_int64(st, 2, before);
	sqlite3_bind_int64(st, 3, max_rowid);
	sqlite3_bind_int64(st, 4, PRUNE_BATCH);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		picks[n].rowid = sqlite3_column_int64(st, 0);
		picks[n++].threat = sqlite3_column_int(st, 1) != 0;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		sdb_fail(s, rc, "pruning records", e);
		return sdb_abort(s);
	}
	/* The last rows may go: their rowids must not be handed out again. */
	if (n > 0 && (!(st = sdb_stmt(s, ST_ROWID_KEEP, e)) ||
		      sdb_done(s, st, "pruning records", e) < 0))
		return sdb_abort(s);
	for (int64_t i = 0; i < n; i++) {
		if (sdb_drop_record(s, source, picks[i].rowid, picks[i].threat, "pruning records",
				    e) < 0)
			return sdb_abort(s);
		if (picks[i].rowid > top)
			top = picks[i].rowid;
	}
	if (n > 0) {
		if (!(st = sdb_stmt(s, ST_PRUNE_RUNS_EMPTY, e)))
			return sdb_abort(s);
		sqlite3_bind_int64(st, 1, source);
		sqlite3_bind_int64(st, 2, top);
		if (sdb_done(s, st, "pruning records", e) < 0)
			return sdb_abort(s);
	}
	if (sdb_commit(s, e) < 0)
		return sdb_abort(s);
	return n;
}

int64_t store_prune(mw_store *s, int64_t before, int64_t max_rowid, mw_err *e)
{
	struct prune_pick *picks = mw_xmalloc(PRUNE_BATCH * sizeof *picks);
	int64_t *sources = NULL;
	int64_t total = 0, n;
	size_t nsources = 0;
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, "SELECT id FROM sources ORDER BY id", -1, &st, NULL);

	if (rc != SQLITE_OK) {
		free(picks);
		return sdb_fail(s, rc, "pruning records", e);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sources = mw_xrealloc(sources, (nsources + 1) * sizeof *sources);
		sources[nsources++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(picks);
		free(sources);
		return sdb_fail(s, rc, "pruning records", e);
	}
	for (size_t i = 0; i < nsources; i++) {
		do {
			if ((n = prune_batch(s, sources[i], before, max_rowid, picks, e)) < 0) {
				free(picks);
				free(sources);
				return -1;
			}
			total += n;
		} while (n == PRUNE_BATCH);
	}
	free(picks);
	free(sources);
	store_note_deleted(s, total);
	/* Housekeeping that needs no batching: finished requests. */
	char sql[160];
	snprintf(sql, sizeof sql, "DELETE FROM requests WHERE state>=2 AND updated<%" PRId64,
		 mw_now_ms() - (int64_t)7 * 86400000);
	rc = sdb_raw_exec(s->db, sql);
	if (rc != SQLITE_OK) {
		sdb_fail(s, rc, "pruning counters", e);
		return -1;
	}
	return total;
}
