/* batch.c - the ledger of batch files and their listing cursors (see
 * store.h and HACKING, "Batch files"). */
#include "private.h"

#include <stdlib.h>
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

/* The files of one sub-type's day, appended to b. */
static int files_of(mw_store *s, int64_t source, struct store_batch_state *b, mw_err *e)
{
	sqlite3_stmt *st = sdb_stmt(s, ST_BATCH_FILES_OF, e);
	size_t cap = 0;
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, source);
	sdb_bind_str(st, 2, b->subtype);
	sqlite3_bind_int64(st, 3, b->day);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *key = sqlite3_column_text(st, 0);

		if (b->nfiles == cap) {
			cap = cap ? cap * 2 : 8;
			b->keys = mw_xrealloc(b->keys, cap * sizeof(*b->keys));
			b->records = mw_xrealloc(b->records, cap * sizeof(*b->records));
		}
		b->keys[b->nfiles] = mw_xstrdup(key ? (const char *)key : "");
		b->records[b->nfiles++] = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : sdb_fail(s, rc, "reading the batch files taken", e);
}

int store_batch_states(mw_store *s, int64_t source, struct store_batch_state **out, size_t *n,
		       mw_err *e)
{
	sqlite3_stmt *st = sdb_stmt(s, ST_BATCH_CUR_LIST, e);
	struct store_batch_state *b = NULL;
	size_t cap = 0, got = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, source);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (got == cap) {
			cap = cap ? cap * 2 : 4;
			b = mw_xrealloc(b, cap * sizeof(*b));
		}
		memset(&b[got], 0, sizeof(*b));
		sdb_copy_col(b[got].subtype, sizeof(b[got].subtype), st, 0);
		b[got].day = sqlite3_column_int64(st, 1);
		sdb_copy_col(b[got].next_page, sizeof(b[got].next_page), st, 2);
		got++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_batch_states_free(b, got);
		return sdb_fail(s, rc, "reading the batch listings' cursors", e);
	}
	/* the statement is reset: the files' query may run now */
	for (size_t i = 0; i < got; i++) {
		if (files_of(s, source, &b[i], e) < 0) {
			store_batch_states_free(b, got);
			return -1;
		}
	}
	*out = b;
	*n = got;
	return 0;
}

void store_batch_states_free(struct store_batch_state *b, size_t n)
{
	for (size_t i = 0; b && i < n; i++) {
		for (size_t k = 0; k < b[i].nfiles; k++)
			free(b[i].keys[k]);
		free(b[i].keys);
		free(b[i].records);
	}
	free(b);
}

int store_batch_import(mw_store *s, int64_t source, const struct store_batch_state *b,
		       size_t n, mw_err *e)
{
	if (sdb_begin(s, e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		/* the cursor row, then each file's ledger row with its count */
		struct store_batch sb = { b[i].subtype, b[i].day, NULL, b[i].next_page };

		if (sdb_batch_put(s, source, &sb, 0, e) < 0)
			return sdb_abort(s);
		for (size_t k = 0; k < b[i].nfiles; k++) {
			sb.file_key = b[i].keys[k];
			if (sdb_batch_put(s, source, &sb, b[i].records[k], e) < 0)
				return sdb_abort(s);
		}
	}
	return sdb_commit(s, e);
}
