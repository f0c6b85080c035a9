/* store/private.h - for src/store/ alone (and its unit tests): the
 * connection, the prepared statements and the helpers every file of the
 * store uses. Only src/store/ includes sqlite3.h. */
#ifndef MW_STORE_PRIVATE_H
#define MW_STORE_PRIVATE_H

#include <stdint.h>
#include <sqlite3.h>

#include "jsonscan.h"
#include "store.h"

#define STORE_SCHEMA_VERSION 8

/* ---- filter.c: the preview's filter, compiled once per scan ---- */
#define FILTER_MAX_TERMS 16
#define FILTER_MAX_KEYS 4
struct filter_term {
	mw_buf needle;              /* folded UTF-8 */
	int ascii;                  /* printable ASCII: the raw prefilter applies */
	const char *keys[FILTER_MAX_KEYS];  /* a field term's JSON keys; 0: any value */
	size_t nkeys;
	char raw_key[64];           /* a key typed that no column names */
};
struct filter {
	struct filter_term terms[FILTER_MAX_TERMS];
	size_t nterms;
	int64_t from, to;           /* record time bounds (inclusive), 0 none */
	js_doc doc;
	mw_buf value;
};
/* Compiles text for the records of log type `type` (NULL: fields by JSON
 * key only); -1 with the fix in e for a bad time term or too many terms. */
int filter_init(struct filter *f, const char *text, const char *type, mw_err *e);
void filter_free(struct filter *f);
/* 1 when the record (its JSON and time) passes every term. */
int filter_test(struct filter *f, const char *json, size_t len, int64_t time);
/* The filter's case folding of one character (never into ASCII or out of
 * it, and never to another length of UTF-8). */
uint32_t filter_fold(uint32_t cp);

/* ---- grams.c: the filter's index, a summary per run (schema 7) ---- */
#define GRAMS_LOG_BITS 14
#define GRAMS_MAX_BITS (1 << GRAMS_LOG_BITS)
/* The bitmap of delimited numbers (grams.c): TOKENS_MIN_BITS to
 * TOKENS_MAX_BITS bits. */
#define TOKENS_LOG_BITS 15
#define TOKENS_MAX_BITS (1 << TOKENS_LOG_BITS)
#define TOKENS_MIN_BITS 512
struct grams;
struct grams *grams_new(void);
void grams_free(struct grams *g);
/* Starts a page's summary; grams_add each of its records (kept or not: a
 * summary may hold more than its run, never less). */
void grams_reset(struct grams *g);
void grams_add(struct grams *g, const struct store_rec *rec);
/* The summary (valid until the next grams_reset: the trigrams' bitmap,
 * the numbers' and a byte, grams.c), its size in bytes, and the records'
 * time span. */
size_t grams_finish(struct grams *g, const void **blob, int64_t *tmin, int64_t *tmax);
/* The probe of a compiled filter for mw_run_may, into out: 1 when it can
 * exclude a run (a term holds five ASCII characters in a row, or a number
 * between two delimiters, or a time bound), 0 when every run must be
 * read. */
int grams_probe(const struct filter *f, mw_buf *out);
/* Registers mw_run_may(tmin, tmax, bits, probe) on a connection. */
int grams_register(sqlite3 *db);

/* PRAGMA application_id: "MWst", so another program's SQLite file is told
 * apart from a damaged store of ours. */
#define STORE_APP_ID 0x4d577374
#define STORE_BUSY_MS 5000
#define PRUNE_BATCH 5000

/* Hot and repeated statements, prepared once per connection on first use. */
enum stmt_id {
	ST_BEGIN_IMM,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_INSERT_REC,
	ST_SEQ_GET,
	ST_RUN_THREATS,
	ST_ROWID_KEEP,
	ST_RUN_ADD,
	ST_CURSOR_HOURS_GET,
	ST_CURSOR_ADD_COUNTS,
	ST_CURSOR_PUT,
	ST_CURSOR_GET,
	ST_SOURCE_ADD,
	ST_SOURCE_GET,
	ST_EACH_AFTER,
	ST_MAX_ROWID,
	ST_EACH_SPAN,
	ST_OUT_GET,
	ST_OUT_BEGIN,
	ST_OUT_FILES,
	ST_OUT_REGISTER,
	ST_OUT_SET_ROWID,
	ST_OUT_SET_SIZE,
	ST_OUT_STATUS,
	ST_OUT_FORGET,
	ST_STATUS_PUT,
	ST_STATUS_LIST,
	ST_REJECTS_ADD,
	ST_OUTSIDE_SEEN,
	ST_OUTSIDE_ANY,
	ST_ID_STORED,
	ST_OUTSIDE_ADD,
	ST_NEWEST_IN,
	ST_OUTSIDE_COUNT,
	ST_REQ_ADD,
	ST_REQ_OLDEST,
	ST_REQ_RUN,
	ST_REQ_FINISH,
	ST_REQ_GET,
	ST_META_GET,
	ST_META_SET,
	ST_COUNT_SOURCE,
	ST_PRUNE_PICK,
	ST_PRUNE_ONE,
	ST_RUN_DROP_ONE,
	ST_PRUNE_RUNS_EMPTY,
	ST_REREAD_FLOOR,
	ST_OUT_INFO,
	ST_OUT_LAG,
	ST_OUT_OLDEST,
	ST_OUT_DONE,
	ST_OUT_COUNT_BETWEEN,
	ST_REVISED_SUM,
	ST_SOURCE_NAME,
	ST_Q_OLDER_ALL,
	ST_Q_NEWER_ALL,
	ST_Q_OLDER_THREATS,
	ST_Q_NEWER_THREATS,
	ST_Q_OLDER_GRAMS,
	ST_Q_NEWER_GRAMS,
	ST_Q_COUNT_ALL,
	ST_Q_COUNT_THREATS,
	ST_GET_ROW,
	ST_KEYED_GET,
	ST_KEYED_GET_ID,
	ST_REVISED_ADD,
	ST_EVENT_ADD,
	ST_EVENT_PRUNE,
	ST_EVENT_LIST,
	ST_EVENT_NEWEST,
	ST_SPAN_FIND,
	ST_SPAN_DROP,
	ST_SPAN_ADD,
	ST_BF_PUT,
	ST_BATCH_TAKEN,
	ST_BATCH_FILE_ADD,
	ST_BATCH_CUR_PUT,
	ST_BATCH_CUR_GET,
	ST_BATCH_CUR_LIST,
	ST_BATCH_FILES_OF,
	ST_BATCH_RESET_CUR,
	ST_BATCH_RESET_FILES,
	ST_COUNT
};

/* Records are inserted MULTI_ROWS at a time: one statement step per row was
 * a tenth of a backfill's CPU in the VDBE alone. */
#define MULTI_ROWS 32

struct mw_store {
	sqlite3 *db;
	char *path;     /* state_dir/store.db, for messages */
	sqlite3_stmt *st[ST_COUNT];
	sqlite3_stmt *multi;  /* INSERT OR IGNORE of MULTI_ROWS records */
	/* events.c: events noted for the next transaction of this connection
	 * (store_event_defer) */
	struct store_event pend[STORE_EVENTS_PENDING];
	size_t npend;
	struct grams *grams;  /* the page commit's run summary, made on first use */
};

/* ---- events.c ---- */
/* Writes the deferred events and prunes past STORE_EVENTS_KEEP, inside the
 * caller's open transaction; the pending list is emptied only once that
 * transaction commits (sdb_events_committed). */
int sdb_events_write(mw_store *s, mw_err *e);
/* batch.c: inside a commit's transaction, a batch file's ledger row (when
 * b->file_key) and its sub-type's listing cursor. */
int sdb_batch_put(mw_store *s, int64_t source, const struct store_batch *b, int64_t records,
		  mw_err *e);
void sdb_events_committed(mw_store *s);

/* ---- db.c ---- */
/* cursors.hours: the records stored per collection hour (hours since the
 * epoch), "HOUR:N,..." ascending, the newest STORE_HOURS hours. */
#define STORE_HOURS 24
/* out = old with n added to hour, hours older than STORE_HOURS before it
 * dropped. */
void sdb_hours_add(mw_buf *out, const char *old, int64_t hour, int64_t n);
/* The records of the hours after after_hour. */
int64_t sdb_hours_sum(const char *hours, int64_t after_hour);
/* The advice for a damaged store.db. */
extern const char sdb_damaged_fix[];
/* The prepared statement id on s (prepared on first use); NULL with e set. */
sqlite3_stmt *sdb_stmt(mw_store *s, enum stmt_id id, mw_err *e);
/* walvfs.c: the VFS the store's read-write connections open with (it
 * writes a transaction's WAL frames in one call), or NULL for SQLite's
 * default should it fail to register. */
const char *sdb_vfs_name(void);
/* The write calls that have reached WAL files through it in this process
 * (for its unit test, which checks that a commit is one call). */
long sdb_vfs_wal_writes(void);
/* Sets e for a failed SQLite call (naming the store, disk full and damage
 * told apart) and returns -1. */
int sdb_fail(mw_store *s, int rc, const char *what, mw_err *e);
/* Steps st to the end and resets it; -1 with e set on failure. */
int sdb_done(mw_store *s, sqlite3_stmt *st, const char *what, mw_err *e);
/* Runs the statement id once (no bindings). */
int sdb_simple(mw_store *s, enum stmt_id id, const char *what, mw_err *e);
/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. */
int sdb_begin(mw_store *s, mw_err *e);
int sdb_commit(mw_store *s, mw_err *e);
int sdb_abort(mw_store *s);
/* Copies a text column into dst (cut to n). */
void sdb_copy_col(char *dst, size_t n, sqlite3_stmt *st, int col);
/* Binds v (NULL binds NULL) as text. */
void sdb_bind_str(sqlite3_stmt *st, int i, const char *v);
/* sqlite3_exec without callback: an SQLITE_ result code. */
int sdb_raw_exec(sqlite3 *db, const char *sql);
/* The record on st's current row (columns rowid, integration, type, id,
 * time, collected, json, revision, as every record query selects them); pointers
 * valid until st steps again. -1 (st reset, e set) when a column is NULL:
 * the store is damaged. */
int sdb_read_row(mw_store *s, sqlite3_stmt *st, struct store_row *row, mw_err *e);
/* Steps st (bound by the caller) once: 1 with *v the first column of the
 * row, 0 when there is none (*v untouched), -1 with e naming what. */
int sdb_one_i64(mw_store *s, sqlite3_stmt *st, int64_t *v, const char *what, mw_err *e);
/* Deletes record rowid of source, a threat or not, and its run counts it
 * no more (retention, a revision replacing it): 0, or -1 with e naming
 * what. Inside the caller's transaction. */
int sdb_drop_record(mw_store *s, int64_t source, int64_t rowid, int threat, const char *what,
		    mw_err *e);
/* The first column of the first row of statement id, or -1. */
int64_t sdb_query_i64(mw_store *s, enum stmt_id id, int64_t bind1, int has_bind);

#endif
