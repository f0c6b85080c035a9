/* batch.c - the ledger of batch files and their listing cursors (see
 * store.h and HACKING, "Batch files"). */
#include "private.h"

#include <string.h>

int sdb_batch_put(mw_store *s, int64_t source, const struct store_batch *b, int64_t records,
		  mw_err *e)
{
	sqlite3_stmt *st;

	if (b->file_key) {
		if (!(st = sdb_stmt(s, ST_BATCH_FILE_ADD, e)))
			return -1;
		sqlite3_bind_int64(st, 1, source);
		sdb_bind_str(st, 2, b->subtype);
		sqlite3_bind_int64(st, 3, b->day);
		sdb_bind_str(st, 4, b->file_key);
		sqlite3_bind_int64(st, 5, records);
		sqlite3_bind_int64(st, 6, mw_now());
		if (sdb_done(s, st, "noting a batch file taken", e) < 0)
			return -1;
	}
	if (!(st = sdb_stmt(s, ST_BATCH_CUR_PUT, e)))
		return -1;
	sqlite3_bind_int64(st, 1, source);
	sdb_bind_str(st, 2, b->subtype);
	sqlite3_bind_int64(st, 3, b->day);
	sdb_bind_str(st, 4, b->next_page ? b->next_page : "");
	return sdb_done(s, st, "writing a batch listing's cursor", e);
}

int store_batch_taken(mw_store *s, int64_t source, const char *subtype, int64_t day,
		      const char *file_key, int *taken, mw_err *e)
{
	sqlite3_stmt *st = sdb_stmt(s, ST_BATCH_TAKEN, e);
	int64_t n = 0;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, source);
	sdb_bind_str(st, 2, subtype);
	sqlite3_bind_int64(st, 3, day);
	sdb_bind_str(st, 4, file_key);
	if (sdb_one_i64(s, st, &n, "reading the batch files taken", e) < 0)
		return -1;
	*taken = n > 0;
	return 0;
}

int store_batch_cursor(mw_store *s, int64_t source, const char *subtype, int64_t *day,
		       char *next_page, size_t n, mw_err *e)
{
	sqlite3_stmt *st = sdb_stmt(s, ST_BATCH_CUR_GET, e);
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, source);
	sdb_bind_str(st, 2, subtype);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*day = sqlite3_column_int64(st, 0);
		sdb_copy_col(next_page, n, st, 1);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return sdb_fail(s, rc, "reading a batch listing's cursor", e);
}
