/* store/requests.c - requests from the console to the collector (the
 * actions of requests.h): added, taken in order, finished with a result. */
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

/* ---- requests ------------------------------------------------------------------ */

int store_request_add(mw_store *s, const char *integration, const char *type,
		      enum mw_request action, const char *arg, int64_t *id, mw_err *e)
{
	sqlite3_stmt *st;

	if (action < 0 || action >= MW_REQ_COUNT) {
		mw_err_set(e, "a request needs one of the actions of requests.h");
		return -1;
	}
	if (!(st = sdb_stmt(s, ST_REQ_ADD, e)))
		return -1;
	sdb_bind_str(st, 1, integration);
	sdb_bind_str(st, 2, type);
	sdb_bind_str(st, 3, mw_request_name(action));
	sdb_bind_str(st, 4, arg);
	sqlite3_bind_int64(st, 5, mw_now_ms());
	if (sdb_done(s, st, "adding a request", e) < 0)
		return -1;
	if (id)
		*id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int store_request_take(mw_store *s, struct store_request *r, mw_err *e)
{
	sqlite3_stmt *st;
	int rc;

	memset(r, 0, sizeof *r);
	if (sdb_begin(s, e) < 0)
		return -1;
	if (!(st = sdb_stmt(s, ST_REQ_OLDEST, e)))
		return sdb_abort(s);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return sdb_commit(s, e) < 0 ? sdb_abort(s) : 0;
	}
	if (rc != SQLITE_ROW) {
		sdb_fail(s, rc, "reading requests", e);
		return sdb_abort(s);
	}
	r->id = sqlite3_column_int64(st, 0);
	sdb_copy_col(r->integration, sizeof r->integration, st, 1);
	sdb_copy_col(r->type, sizeof r->type, st, 2);
	sdb_copy_col(r->action_name, sizeof r->action_name, st, 3);
	r->action = mw_request_from_name(r->action_name);
	sdb_copy_col(r->arg, sizeof r->arg, st, 4);
	sqlite3_reset(st);
	if (!(st = sdb_stmt(s, ST_REQ_RUN, e)))
		return sdb_abort(s);
	sqlite3_bind_int64(st, 1, r->id);
	sqlite3_bind_int64(st, 2, mw_now_ms());
	if (sdb_done(s, st, "taking a request", e) < 0 || sdb_commit(s, e) < 0)
		return sdb_abort(s);
	return 1;
}

int store_request_finish(mw_store *s, int64_t id, int ok, const char *result, mw_err *e)
{
	sqlite3_stmt *st = sdb_stmt(s, ST_REQ_FINISH, e);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, ok ? 2 : 3);
	sdb_bind_str(st, 3, result);
	sqlite3_bind_int64(st, 4, mw_now_ms());
	if (sdb_done(s, st, "finishing a request", e) < 0)
		return -1;
	if (sqlite3_changes(s->db) != 1) {
		mw_err_set(e, "%s: request %" PRId64 " is not running (only a taken request "
			   "can be finished)", s->path, id);
		return -1;
	}
	return 0;
}

int store_request_get(mw_store *s, int64_t id, int *state, char *result, size_t n, mw_err *e)
{
	sqlite3_stmt *st = sdb_stmt(s, ST_REQ_GET, e);
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*state = sqlite3_column_int(st, 0);
		if (result && n)
			sdb_copy_col(result, n, st, 1);
		sqlite3_reset(st);
		return 0;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sdb_fail(s, rc, "reading a request", e);
	mw_err_set(e, "%s: no request %" PRId64, s->path, id);
	return -1;
}
