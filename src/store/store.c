/* store.c - the local store: SQLite in WAL mode, one connection per thread.
 *
 * Durability: every write is a transaction; with journal_mode=WAL a
 * committed transaction is in the -wal file before COMMIT returns, so it
 * survives kill -9 of the process even with synchronous=NORMAL (NORMAL only
 * risks the last transactions on a power loss, never corruption). That is
 * the trade the 50,000 records/s target needs: no fsync per page.
 *
 * A new store is built under a temporary name and linked into place only
 * once its schema is committed, so an existing store.db is always a complete
 * store: an empty or truncated one is damage, never "not created yet". */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1  /* flock, pread, O_NOFOLLOW, gmtime_r alongside -std=c11 */
#endif
#include "store.h"

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

#include <sqlite3.h>

#include "jsonscan.h"
#include "logtypes.h"

#define STORE_SCHEMA_VERSION 2
/* PRAGMA application_id: "MWst", so another program's SQLite file is told
 * apart from a damaged store of ours. */
#define STORE_APP_ID 0x4d577374
#define STORE_BUSY_MS 5000
#define PRUNE_BATCH 5000

/* The way out must work: `reset` needs a readable store, so it is no cure
 * for a damaged one. */
static const char damaged_fix[] =
	"store.db is damaged: move it aside (mv store.db store.db.damaged) to start a new "
	"store, which collects again from lookback; move the NDJSON output files aside too, "
	"or they receive those records a second time";

/* Hot and repeated statements, prepared once per connection on first use. */
enum stmt_id {
	ST_BEGIN_IMM,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_INSERT_REC,
	ST_HOURLY_ADD,
	ST_STATUS_ADD_TOTAL,
	ST_CURSOR_PUT,
	ST_CURSOR_GET,
	ST_SOURCE_ADD,
	ST_SOURCE_GET,
	ST_EACH_AFTER,
	ST_MAX_ROWID,
	ST_OUT_GET,
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
	ST_PRUNE_RANGE,
	ST_MIN_ROWID,
	ST_REREAD_FLOOR,
	ST_OUT_INFO,
	ST_OUT_LAG,
	ST_OUT_OLDEST,
	ST_OUT_DONE,
	ST_SOURCE_NAME,
	ST_Q_OLDER_0,
	ST_Q_OLDER_1,
	ST_Q_NEWER_0,
	ST_Q_NEWER_1,
	ST_Q_COUNT,
	ST_GET_ROW,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN_IMM] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_INSERT_REC] = "INSERT OR IGNORE INTO records(source,id,time,collected,threat,json) "
			  "VALUES(?1,?2,?3,?4,?5,?6)",
	[ST_HOURLY_ADD] = "INSERT INTO hourly(source,hour,n) VALUES(?1,?2,?3) "
			  "ON CONFLICT(source,hour) DO UPDATE SET n=n+excluded.n",
	[ST_STATUS_ADD_TOTAL] =
		"INSERT INTO status(source,total,last_new_at) VALUES(?1,?2,?3) "
		"ON CONFLICT(source) DO UPDATE SET total=total+excluded.total, "
		"last_new_at=CASE WHEN excluded.total>0 THEN excluded.last_new_at "
		"ELSE last_new_at END",
	[ST_CURSOR_PUT] = "INSERT INTO cursors(source,horizon,in_window,win_from,win_to,"
			  "win_progress,page_token,win_received,win_restarted) "
			  "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9) "
			  "ON CONFLICT(source) DO UPDATE SET horizon=excluded.horizon,"
			  "in_window=excluded.in_window,win_from=excluded.win_from,"
			  "win_to=excluded.win_to,win_progress=excluded.win_progress,"
			  "page_token=excluded.page_token,win_received=excluded.win_received,"
			  "win_restarted=excluded.win_restarted",
	[ST_CURSOR_GET] = "SELECT horizon,in_window,win_from,win_to,win_progress,page_token,"
			  "win_received,win_restarted FROM cursors WHERE source=?1",
	[ST_SOURCE_ADD] = "INSERT OR IGNORE INTO sources(integration,type) VALUES(?1,?2)",
	[ST_SOURCE_GET] = "SELECT id FROM sources WHERE integration=?1 AND type=?2",
	[ST_EACH_AFTER] = "SELECT r.rowid,s.integration,s.type,r.id,r.time,r.collected,r.json "
			  "FROM records r JOIN sources s ON s.id=r.source "
			  "WHERE r.rowid>?1 ORDER BY r.rowid LIMIT ?2",
	[ST_MAX_ROWID] = "SELECT coalesce(max(rowid),0) FROM records",
	[ST_OUT_GET] = "SELECT last_rowid FROM outputs WHERE name=?1",
	[ST_OUT_FILES] = "SELECT path,size FROM output_files WHERE output=?1 ORDER BY path",
	[ST_OUT_REGISTER] = "INSERT OR IGNORE INTO output_files(output,path,size) "
			    "VALUES(?1,?2,?3)",
	[ST_OUT_SET_ROWID] = "INSERT INTO outputs(name,last_rowid,state,error,updated) "
			     "VALUES(?1,?2,'ok','',?3) ON CONFLICT(name) DO UPDATE SET "
			     "last_rowid=excluded.last_rowid,updated=excluded.updated",
	[ST_OUT_SET_SIZE] = "INSERT INTO output_files(output,path,size) VALUES(?1,?2,?3) "
			    "ON CONFLICT(output,path) DO UPDATE SET size=excluded.size",
	[ST_OUT_STATUS] = "INSERT INTO outputs(name,last_rowid,state,error,updated) "
			  "VALUES(?1,0,?2,?3,?4) ON CONFLICT(name) DO UPDATE SET "
			  "state=excluded.state,error=excluded.error,updated=excluded.updated",
	[ST_OUT_FORGET] = "DELETE FROM output_files WHERE output=?1 AND path=?2",
	[ST_OUT_INFO] = "SELECT state,error,updated,last_rowid FROM outputs WHERE name=?1",
	[ST_OUT_LAG] = "SELECT count(*) FROM records WHERE rowid>?1",
	[ST_OUT_OLDEST] = "SELECT collected FROM records WHERE rowid>?1 ORDER BY rowid LIMIT 1",
	[ST_OUT_DONE] = "SELECT count(*) FROM records WHERE rowid<=?1",
	[ST_STATUS_PUT] =
		"INSERT INTO status(source,state,paused,last_attempt,last_success,next_poll,"
		"err_class,http_status,err_code,err_message,remedy,records_last_poll,"
		"last_new_at,horizon,last_record_time,rl_limit,rl_remaining,rl_reset_ms,"
		"throttled_until,updated,warning) "
		"VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,"
		"?21) "
		"ON CONFLICT(source) DO UPDATE SET state=excluded.state,paused=excluded.paused,"
		"last_attempt=excluded.last_attempt,last_success=excluded.last_success,"
		"next_poll=excluded.next_poll,err_class=excluded.err_class,"
		"http_status=excluded.http_status,err_code=excluded.err_code,"
		"err_message=excluded.err_message,remedy=excluded.remedy,"
		"records_last_poll=excluded.records_last_poll,"
		"last_new_at=max(last_new_at,excluded.last_new_at),"
		"horizon=excluded.horizon,last_record_time=excluded.last_record_time,"
		"rl_limit=excluded.rl_limit,rl_remaining=excluded.rl_remaining,"
		"rl_reset_ms=excluded.rl_reset_ms,throttled_until=excluded.throttled_until,"
		"updated=excluded.updated,warning=excluded.warning",
	[ST_STATUS_LIST] =
		"SELECT s.id,s.integration,s.type,coalesce(st.state,'idle'),"
		"coalesce(st.paused,0),coalesce(st.last_attempt,0),coalesce(st.last_success,0),"
		"coalesce(st.next_poll,0),coalesce(st.err_class,'ok'),"
		"coalesce(st.http_status,0),coalesce(st.err_code,''),"
		"coalesce(st.err_message,''),coalesce(st.remedy,''),"
		"coalesce(st.records_last_poll,0),"
		"(SELECT coalesce(sum(h.n),0) FROM hourly h WHERE h.source=s.id AND h.hour>?1),"
		"coalesce(st.total,0),coalesce(st.rejects,0),coalesce(st.last_new_at,0),"
		"coalesce(c.horizon,st.horizon,0),coalesce(st.last_record_time,0),"
		"coalesce(st.rl_limit,-1),coalesce(st.rl_remaining,-1),"
		"coalesce(st.rl_reset_ms,-1),coalesce(st.throttled_until,0),"
		"coalesce(st.updated,0),coalesce(st.warning,''),coalesce(st.outside,0) "
		"FROM sources s LEFT JOIN status st ON st.source=s.id "
		"LEFT JOIN cursors c ON c.source=s.id "
		/* heartbeat records (collector.c) are for the outputs only */
		"WHERE s.type<>'heartbeat' ORDER BY s.integration,s.type",
	[ST_REJECTS_ADD] = "INSERT INTO status(source,rejects) VALUES(?1,?2) "
			   "ON CONFLICT(source) DO UPDATE SET rejects=rejects+excluded.rejects",
	[ST_OUTSIDE_SEEN] = "SELECT 1 FROM outside_seen WHERE source=?1 AND id=?2",
	[ST_OUTSIDE_ANY] = "SELECT 1 FROM outside_seen WHERE source=?1 LIMIT 1",
	/* No index serves id alone: a scan of the source, run only for a
	 * record dated outside its window, which is rare. */
	[ST_ID_STORED] = "SELECT 1 FROM records WHERE source=?1 AND id=?2 LIMIT 1",
	[ST_OUTSIDE_ADD] = "INSERT OR IGNORE INTO outside_seen(source,id) VALUES(?1,?2)",
	[ST_OUTSIDE_COUNT] = "UPDATE status SET outside=outside+?2 WHERE source=?1",
	[ST_NEWEST_IN] = "SELECT max(time) FROM records WHERE source=?1 AND time>=?2 AND time<=?3",
	[ST_REQ_ADD] = "INSERT INTO requests(integration,type,action,arg,state,result,created,"
		       "updated) VALUES(?1,?2,?3,?4,0,'',?5,?5)",
	[ST_REQ_OLDEST] = "SELECT id,integration,type,action,arg FROM requests WHERE state=0 "
			  "ORDER BY id LIMIT 1",
	[ST_REQ_RUN] = "UPDATE requests SET state=1,updated=?2 WHERE id=?1 AND state=0",
	[ST_REQ_FINISH] = "UPDATE requests SET state=?2,result=?3,updated=?4 "
			  "WHERE id=?1 AND state=1",
	[ST_REQ_GET] = "SELECT state,result FROM requests WHERE id=?1",
	[ST_META_GET] = "SELECT value FROM meta WHERE key=?1",
	[ST_META_SET] = "INSERT INTO meta(key,value) VALUES(?1,?2) "
			"ON CONFLICT(key) DO UPDATE SET value=excluded.value",
	[ST_COUNT_SOURCE] = "SELECT count(*) FROM records WHERE source=?1",
	[ST_PRUNE_RANGE] = "DELETE FROM records WHERE rowid>=?1 AND rowid<?2 AND time<?3",
	[ST_MIN_ROWID] = "SELECT coalesce(min(rowid),0) FROM records",
	[ST_REREAD_FLOOR] = "SELECT coalesce(min(CASE WHEN in_window AND win_from<horizon"
			    " OR horizon=0 THEN win_from ELSE horizon END),-1) FROM cursors"
			    " WHERE horizon>0 OR in_window",
	[ST_SOURCE_NAME] = "SELECT integration,type FROM sources WHERE id=?1",
	/* The preview's pages: one ordered stream per threat value, merged in C,
	 * so a single index serves both "all" and "threats only". _0 and _1 are
	 * the same statement twice: both streams are stepped at once. */
	[ST_Q_OLDER_0] = "SELECT rowid,id,time,collected,json FROM records "
			 "WHERE source=?1 AND threat=?2 AND rowid<?3 ORDER BY rowid DESC",
	[ST_Q_OLDER_1] = "SELECT rowid,id,time,collected,json FROM records "
			 "WHERE source=?1 AND threat=?2 AND rowid<?3 ORDER BY rowid DESC",
	[ST_Q_NEWER_0] = "SELECT rowid,id,time,collected,json FROM records "
			 "WHERE source=?1 AND threat=?2 AND rowid>?3 ORDER BY rowid",
	[ST_Q_NEWER_1] = "SELECT rowid,id,time,collected,json FROM records "
			 "WHERE source=?1 AND threat=?2 AND rowid>?3 ORDER BY rowid",
	[ST_Q_COUNT] = "SELECT count(*) FROM records WHERE source=?1 AND threat=?2 "
		       "AND rowid>?3 AND rowid<=?4",
	[ST_GET_ROW] = "SELECT r.rowid,s.integration,s.type,r.id,r.time,r.collected,r.json "
		       "FROM records r JOIN sources s ON s.id=r.source WHERE r.rowid=?1",
};

/* Version 1. AUTOINCREMENT on records: outputs remember the last rowid they
 * wrote, so a rowid must never be handed out twice, even after pruning or
 * deleting the newest rows.
 *
 * Records are unique on (source, time, id), not (source, id): the same
 * constraint in practice, since a URL or attachment id is the hash of the
 * whole record, time included, and an impersonation id names one log line
 * with its one eventTime (should Mimecast ever re-time an id, both are kept:
 * nothing is dropped). But keys that arrive in time order land at the right
 * edge of the index, where random SHA-256 keys dirtied a random leaf page per
 * record: the WAL then carried a 16 KiB page per record, and a 600,000-record
 * backfill took 30 s instead of 11. */
static const char schema_v1[] =
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE sources(id INTEGER PRIMARY KEY, integration TEXT NOT NULL,"
	" type TEXT NOT NULL, UNIQUE(integration,type));"
	"CREATE TABLE records(rowid INTEGER PRIMARY KEY AUTOINCREMENT,"
	" source INTEGER NOT NULL, id TEXT NOT NULL, time INTEGER NOT NULL,"
	" collected INTEGER NOT NULL, threat INTEGER NOT NULL DEFAULT 0,"
	" json TEXT NOT NULL, UNIQUE(source,time,id));"
	"CREATE TABLE cursors(source INTEGER PRIMARY KEY, horizon INTEGER NOT NULL DEFAULT 0,"
	" in_window INTEGER NOT NULL DEFAULT 0, win_from INTEGER NOT NULL DEFAULT 0,"
	" win_to INTEGER NOT NULL DEFAULT 0, win_progress INTEGER NOT NULL DEFAULT 0,"
	" page_token TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE status(source INTEGER PRIMARY KEY, state TEXT NOT NULL DEFAULT 'idle',"
	" paused INTEGER NOT NULL DEFAULT 0, last_attempt INTEGER NOT NULL DEFAULT 0,"
	" last_success INTEGER NOT NULL DEFAULT 0, next_poll INTEGER NOT NULL DEFAULT 0,"
	" err_class TEXT NOT NULL DEFAULT 'ok', http_status INTEGER NOT NULL DEFAULT 0,"
	" err_code TEXT NOT NULL DEFAULT '', err_message TEXT NOT NULL DEFAULT '',"
	" remedy TEXT NOT NULL DEFAULT '', records_last_poll INTEGER NOT NULL DEFAULT 0,"
	" total INTEGER NOT NULL DEFAULT 0, rejects INTEGER NOT NULL DEFAULT 0,"
	" last_new_at INTEGER NOT NULL DEFAULT 0, horizon INTEGER NOT NULL DEFAULT 0,"
	" last_record_time INTEGER NOT NULL DEFAULT 0, rl_limit INTEGER NOT NULL DEFAULT -1,"
	" rl_remaining INTEGER NOT NULL DEFAULT -1, rl_reset_ms INTEGER NOT NULL DEFAULT -1,"
	" throttled_until INTEGER NOT NULL DEFAULT 0, updated INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE hourly(source INTEGER NOT NULL, hour INTEGER NOT NULL,"
	" n INTEGER NOT NULL, PRIMARY KEY(source,hour)) WITHOUT ROWID;"
	"CREATE TABLE requests(id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" integration TEXT NOT NULL, type TEXT NOT NULL, action TEXT NOT NULL,"
	" arg TEXT NOT NULL, state INTEGER NOT NULL, result TEXT NOT NULL,"
	" created INTEGER NOT NULL, updated INTEGER NOT NULL);"
	"CREATE INDEX requests_state ON requests(state,id);"
	"CREATE INDEX records_source_threat ON records(source,threat);"
	"CREATE TABLE outputs(name TEXT PRIMARY KEY, last_rowid INTEGER NOT NULL DEFAULT 0,"
	" state TEXT NOT NULL DEFAULT 'ok', error TEXT NOT NULL DEFAULT '',"
	" updated INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE output_files(output TEXT NOT NULL, path TEXT NOT NULL,"
	" size INTEGER NOT NULL, PRIMARY KEY(output,path)) WITHOUT ROWID;"
	"INSERT INTO meta(key,value) VALUES('schema_version','1');";

/* Version 2 adds, to version 1's tables:
 * - cursors.win_received: records received in the window in progress (stored
 *   or duplicate), which totalCount is compared with when the window ends;
 *   cursors.win_restarted: the window is already the one restart that a
 *   totalCount above what was received earns (window.h);
 * - status.warning: what collection goes on despite (clock skew, a horizon
 *   pulled back, a pagination loop cut short), "" when nothing;
 *   status.outside: records dated outside the window that asked for them;
 * - outside_seen: the ids of those records, kept after retention prunes the
 *   records themselves (their own time may be years ago), so a tenant that
 *   serves one again never gets it delivered twice. Few rows: such records
 *   are rare. 
 * Applied in place by store_open, once, under BEGIN IMMEDIATE. */
static const char schema_v2[] =
	"ALTER TABLE cursors ADD COLUMN win_received INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE cursors ADD COLUMN win_restarted INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE status ADD COLUMN warning TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE status ADD COLUMN outside INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE outside_seen(source INTEGER NOT NULL, id TEXT NOT NULL,"
	" PRIMARY KEY(source,id)) WITHOUT ROWID;"
	"UPDATE meta SET value='2' WHERE key='schema_version';";

/* Records are inserted MULTI_ROWS at a time: one statement step per row was
 * a tenth of a backfill's CPU in the VDBE alone. */
#define MULTI_ROWS 32

struct mw_store {
	sqlite3 *db;
	char *path;     /* state_dir/store.db, for messages */
	sqlite3_stmt *st[ST_COUNT];
	sqlite3_stmt *multi;  /* INSERT OR IGNORE of MULTI_ROWS records */
};

/* ---- errors ------------------------------------------------------------ */

static int is_disk_full(sqlite3 *db, int rc)
{
	int ext = db ? sqlite3_extended_errcode(db) : rc;
	return (rc & 0xff) == SQLITE_FULL || (ext & 0xff) == SQLITE_FULL ||
	       (db && (ext & 0xff) == SQLITE_IOERR && sqlite3_system_errno(db) == ENOSPC);
}

/* Turns an SQLite failure into a message that says what to do. */
static int db_fail(mw_store *s, int rc, const char *what, mw_err *e)
{
	const char *msg = s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
	int prim = rc & 0xff;

	if (is_disk_full(s->db, rc)) {
		/* "disk full: free space on <dir>": the one wording status, fetch
		 * and the console show for every full file system. */
		const char *slash = strrchr(s->path, '/');
		int dirlen = slash && slash != s->path ? (int)(slash - s->path)
						       : (int)strlen(s->path);

		mw_err_set(e, "disk full: free space on %.*s (%s: %s); nothing is lost, "
			   "collection resumes where it stopped", dirlen, s->path, s->path, what);
	} else if (prim == SQLITE_CORRUPT || prim == SQLITE_NOTADB)
		mw_err_set(e, "%s: %s", s->path, damaged_fix);
	else if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
		mw_err_set(e, "%s: %s: the store stayed locked by another process for %d ms; "
			   "try again", s->path, what, STORE_BUSY_MS);
	else if (prim == SQLITE_READONLY || prim == SQLITE_PERM || prim == SQLITE_CANTOPEN)
		mw_err_set(e, "%s: %s: %s; check that this user owns the state directory and "
			   "its files", s->path, what, msg);
	else if (prim == SQLITE_IOERR && s->db && sqlite3_system_errno(s->db))
		/* "disk I/O error" alone does not say which: EIO, ENOSPC, ... */
		mw_err_set(e, "%s: %s: %s (%s); check the disk, then try again", s->path, what,
			   msg, strerror(sqlite3_system_errno(s->db)));
	else
		mw_err_set(e, "%s: %s: %s", s->path, what, msg);
	return -1;
}

static sqlite3_stmt *stmt(mw_store *s, enum stmt_id id, mw_err *e)
{
	sqlite3_stmt *st = s->st[id];
	int rc;

	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return st;
	}
	rc = sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
	if (rc != SQLITE_OK) {
		db_fail(s, rc, "preparing a statement", e);
		return NULL;
	}
	s->st[id] = st;
	return st;
}

/* Steps a statement that returns no rows; leaves it reset. */
static int exec_done(mw_store *s, sqlite3_stmt *st, const char *what, mw_err *e)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail(s, rc, what, e);
	return 0;
}

static int exec_simple(mw_store *s, enum stmt_id id, const char *what, mw_err *e)
{
	sqlite3_stmt *st = stmt(s, id, e);

	return st ? exec_done(s, st, what, e) : -1;
}

static int tx_begin(mw_store *s, mw_err *e)
{
	return exec_simple(s, ST_BEGIN_IMM, "starting a transaction", e);
}

static int tx_commit(mw_store *s, mw_err *e)
{
	return exec_simple(s, ST_COMMIT, "committing", e);
}

/* Undoes an open transaction after a failure; the first error stays in e. */
static int tx_abort(mw_store *s)
{
	mw_err ignored;

	for (int i = 0; i < ST_COUNT; i++)
		if (s->st[i])
			sqlite3_reset(s->st[i]);
	if (!sqlite3_get_autocommit(s->db))
		exec_simple(s, ST_ROLLBACK, "rolling back", &ignored);
	return -1;
}

static void copy_col(char *dst, size_t n, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(dst, n, "%s", t ? (const char *)t : "");
}

static void bind_str(sqlite3_stmt *st, int i, const char *v)
{
	sqlite3_bind_text(st, i, v ? v : "", -1, SQLITE_STATIC);
}

/* ---- open -------------------------------------------------------------- */

static char *path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = mw_xmalloc(n);

	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

/* Checks store.db is a regular file before SQLite opens it. An empty file
 * (which SQLite would take for a new database) is refused by check_schema,
 * any other non-database by SQLite (SQLITE_NOTADB). (A truncated one SQLite
 * refuses itself when a read transaction finds fewer pages than the header
 * counts; checking sizes here, outside its locks, would race a checkpoint
 * extending the file.) 0 fine, -1 damaged or unreadable (e set). */
static int check_header(const char *path, mw_err *e)
{
	struct stat sb;

	/* stat(), never open(): closing any descriptor of store.db drops every
	 * POSIX lock this process holds on it, including the shared lock of a
	 * connection already open here (the collector's, when the output
	 * thread or the console opens the store). Without that lock the next
	 * process to close its connection deletes the WAL under us, and what
	 * we commit afterwards goes to an unlinked file. */
	if (stat(path, &sb) < 0) {
		mw_err_set(e, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		mw_err_set(e, "%s: not a regular file; move it aside", path);
		return -1;
	}
	return 0;
}

static int raw_exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* SQLite's own busy handler sleeps in growing steps (up to 100 ms), which
 * left the collector and the output thread sleeping on each other for most
 * of a backfill. Their transactions are short: poll every millisecond. */
static int busy_wait(void *arg, int tries)
{
	struct timespec ts = { 0, 1000000 };

	(void)arg;
	if (tries >= STORE_BUSY_MS)
		return 0;
	nanosleep(&ts, NULL);
	return 1;
}

static int setup_connection(mw_store *s, mw_err *e)
{
	int rc;
	sqlite3_stmt *st = NULL;

	sqlite3_busy_handler(s->db, busy_wait, NULL);
	rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			const unsigned char *m = sqlite3_column_text(st, 0);
			rc = (m && strcmp((const char *)m, "wal") == 0) ? SQLITE_OK : SQLITE_ERROR;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK && rc != SQLITE_DONE)
		return db_fail(s, rc, "switching to WAL mode", e);
	/* Checkpoints (a copy and an fsync) every 1000 pages, 16 MiB of WAL,
	 * rather than SQLite's 4 MiB: a third more pages per second when backfilling; the
	 * WAL file is cut back to 64 MiB after it grew past that. */
	/* A 16 MiB page cache keeps the (source, id) index, whose keys arrive in
	 * random order, mostly in memory during a backfill. */
	rc = raw_exec(s->db, "PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=1000;"
			     "PRAGMA journal_size_limit=67108864; PRAGMA cache_size=-16384");
	if (rc != SQLITE_OK)
		return db_fail(s, rc, "setting up the connection", e);
	return 0;
}

/* Builds a complete empty store at tmp. */
static int create_at(const char *tmp, mw_err *e)
{
	mw_store t = { .db = NULL, .path = (char *)tmp };
	char sql[64];
	int rc, fd;

	/* Created by us at 0600 so SQLite, which gives -wal and -shm the mode of
	 * the database file, creates those at 0600 too. */
	fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		mw_err_set(e, "%s: cannot create: %s", tmp, strerror(errno));
		return -1;
	}
	if (fchmod(fd, 0600) < 0) {
		mw_err_set(e, "%s: chmod 0600: %s", tmp, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	rc = sqlite3_open_v2(tmp, &t.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		db_fail(&t, rc, "creating the store", e);
		sqlite3_close(t.db);
		return -1;
	}
	snprintf(sql, sizeof sql, "PRAGMA application_id=%d", STORE_APP_ID);
	/* 16 KiB pages: a record is ~1 KiB, so a page commit writes a quarter
	 * as many WAL frames (and syscalls) as with 4 KiB. Only settable before
	 * the switch to WAL. */
	if ((rc = raw_exec(t.db, "PRAGMA page_size=16384")) != SQLITE_OK) {
		db_fail(&t, rc, "setting the page size", e);
		goto fail;
	}
	if (setup_connection(&t, e) < 0)
		goto fail;
	if ((rc = raw_exec(t.db, sql)) != SQLITE_OK ||
	    (rc = raw_exec(t.db, "BEGIN IMMEDIATE")) != SQLITE_OK ||
	    (rc = raw_exec(t.db, schema_v1)) != SQLITE_OK ||
	    (rc = raw_exec(t.db, schema_v2)) != SQLITE_OK ||
	    (rc = raw_exec(t.db, "COMMIT")) != SQLITE_OK) {
		db_fail(&t, rc, "creating the schema", e);
		goto fail;
	}
	/* Closing the last connection checkpoints the WAL into the file. */
	if ((rc = sqlite3_close(t.db)) != SQLITE_OK) {
		t.db = NULL;
		mw_err_set(e, "%s: closing the new store: %s", tmp, sqlite3_errstr(rc));
		return -1;
	}
	fd = open(tmp, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0) {
		mw_err_set(e, "%s: fsync: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	{
		/* A checkpoint that failed for want of space leaves the file empty
		 * and sqlite3_close() still says OK. */
		struct stat sb;

		unsigned char h[100];
		char wal[4200];
		struct stat wb;
		int64_t psize, npages;

		if (fstat(fd, &sb) < 0 || sb.st_size < 100) {
			close(fd);
			mw_err_set(e, "%s: the new store could not be written: disk full? free "
				      "space on its file system and try again", tmp);
			return -1;
		}
		/* A checkpoint cut short by an I/O error leaves fewer pages than
		 * the header counts, and the rest only in the -wal, which is
		 * removed with the temporary name: never link such a store. */
		snprintf(wal, sizeof wal, "%s-wal", tmp);
		psize = 0;
		npages = 0;
		if (pread(fd, h, sizeof h, 0) == (ssize_t)sizeof h) {
			psize = (h[16] << 8) | h[17];
			if (psize == 1)
				psize = 65536;
			npages = ((int64_t)h[28] << 24) | (h[29] << 16) | (h[30] << 8) | h[31];
		}
		if (psize == 0 || npages == 0 || sb.st_size < psize * npages ||
		    (stat(wal, &wb) == 0 && wb.st_size > 0)) {
			close(fd);
			mw_err_set(e, "%s: the new store could not be written completely (disk I/O "
				      "error or disk full); check the disk and try again", tmp);
			return -1;
		}
	}
	close(fd);
	return 0;
fail:
	sqlite3_close(t.db);
	return -1;
}

static void unlink_db_files(const char *db)
{
	size_t n = strlen(db) + 8;
	char *p = mw_xmalloc(n);

	unlink(db);
	snprintf(p, n, "%s-wal", db);
	unlink(p);
	snprintf(p, n, "%s-shm", db);
	unlink(p);
	free(p);
}

/* Creates store.db unless it exists. link() never replaces, so two
 * processes starting at once end up sharing one store. */
static int create_store(const char *dir, const char *path, mw_err *e)
{
	char name[64];
	char *tmp;
	int rc = 0;

	snprintf(name, sizeof name, "store.db.new.%ld", (long)getpid());
	tmp = path_join(dir, name);
	unlink_db_files(tmp);
	if (create_at(tmp, e) < 0) {
		unlink_db_files(tmp);
		free(tmp);
		return -1;
	}
	if (link(tmp, path) < 0 && errno != EEXIST) {
		mw_err_set(e, "%s: cannot create: %s", path, strerror(errno));
		rc = -1;
	}
	unlink_db_files(tmp);
	free(tmp);
	if (rc == 0 && mw_fsync_dir(dir) < 0) {
		mw_err_set(e, "%s: fsync: %s", dir, strerror(errno));
		rc = -1;
	}
	return rc;
}

static int query_int(sqlite3 *db, const char *sql, int64_t *v)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*v = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

/* Indexes added after version 1 shipped. An index changes no table, so a
 * store that has it is still a version 1 store to every mimewatch that
 * reads version 1: adding it needs no version bump. records_source_threat
 * (key source, threat, rowid) lets the console read a source newest first, a
 * page at a time, with or without only threats. Built once, on the first
 * open of an older store. */
static int ensure_indexes(mw_store *s, mw_err *e)
{
	int64_t have = 0;
	int rc = query_int(s->db, "SELECT count(*) FROM sqlite_master WHERE type='index' "
				  "AND name='records_source_threat'", &have);

	if (rc != SQLITE_OK)
		return db_fail(s, rc, "reading the schema", e);
	if (have)
		return 0;
	rc = raw_exec(s->db, "CREATE INDEX IF NOT EXISTS records_source_threat "
			     "ON records(source,threat)");
	if (rc != SQLITE_OK)
		return db_fail(s, rc, "adding the preview index", e);
	return 0;
}

/* Brings a store of an older schema up to STORE_SCHEMA_VERSION. Two
 * processes may open the same old store at once: the version is read again
 * inside the write transaction, so only one of them applies the change. */
static int migrate(mw_store *s, mw_err *e)
{
	char ver[32];
	int rc;

	if (store_meta_get(s, "schema_version", ver, sizeof ver) < 0 || atoi(ver) >= 2)
		return 0;
	if ((rc = raw_exec(s->db, "BEGIN IMMEDIATE")) != SQLITE_OK)
		return db_fail(s, rc, "upgrading the store to schema version 2", e);
	if (store_meta_get(s, "schema_version", ver, sizeof ver) < 0 || atoi(ver) >= 2) {
		raw_exec(s->db, "ROLLBACK");
		return 0;
	}
	if ((rc = raw_exec(s->db, schema_v2)) != SQLITE_OK ||
	    (rc = raw_exec(s->db, "COMMIT")) != SQLITE_OK) {
		db_fail(s, rc, "upgrading the store to schema version 2", e);
		raw_exec(s->db, "ROLLBACK");
		return -1;
	}
	mw_log(1, "%s: upgraded to schema version 2", s->path);
	return 0;
}

/* Is this our store, and one we understand? */
static int check_schema(mw_store *s, mw_err *e)
{
	int64_t appid = 0, nmeta = 0, have_meta = 0;
	char ver[32];
	int rc;

	rc = query_int(s->db, "PRAGMA application_id", &appid);
	if (rc != SQLITE_OK)
		return db_fail(s, rc, "reading the header", e);
	if (appid != STORE_APP_ID) {
		int64_t ntables = 0;
		rc = query_int(s->db, "SELECT count(*) FROM sqlite_master", &ntables);
		if (rc != SQLITE_OK)
			return db_fail(s, rc, "reading the schema", e);
		if (appid == 0 && ntables == 0) {
			mw_err_set(e, "%s: %s", s->path, damaged_fix);
			return -1;
		}
		mw_err_set(e, "%s: an SQLite database but not a mimewatch store; point "
			   "state_dir elsewhere or move the file aside", s->path);
		return -1;
	}
	rc = query_int(s->db,
		       "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='meta'",
		       &have_meta);
	if (rc != SQLITE_OK)
		return db_fail(s, rc, "reading the schema", e);
	if (!have_meta) {
		mw_err_set(e, "%s: %s", s->path, damaged_fix);
		return -1;
	}
	rc = query_int(s->db, "SELECT count(*) FROM meta WHERE key='schema_version'", &nmeta);
	if (rc != SQLITE_OK)
		return db_fail(s, rc, "reading the schema version", e);
	if (nmeta != 1 || store_meta_get(s, "schema_version", ver, sizeof ver) < 0) {
		mw_err_set(e, "%s: %s", s->path, damaged_fix);
		return -1;
	}
	char *end;
	long v = strtol(ver, &end, 10);
	if (*end || end == ver || v < 1) {
		mw_err_set(e, "%s: %s", s->path, damaged_fix);
		return -1;
	}
	if (v > STORE_SCHEMA_VERSION) {
		mw_err_set(e, "%s: the store has schema version %ld, newer than this mimewatch "
			   "understands (%d); run a newer mimewatch or point state_dir elsewhere",
			   s->path, v, STORE_SCHEMA_VERSION);
		return -1;
	}
	return 0;
}

int store_open(const char *state_dir, mw_store **out, mw_err *e)
{
	mw_store *s;
	struct stat sb;
	int rc;

	*out = NULL;
	if (!state_dir || !*state_dir) {
		mw_err_set(e, "state_dir is empty; set state_dir in the config");
		return -1;
	}
	if (mw_mkdir_p(state_dir, e) < 0)
		return -1;
	s = mw_xcalloc(1, sizeof *s);
	s->path = path_join(state_dir, "store.db");
	if (lstat(s->path, &sb) < 0) {
		if (errno != ENOENT) {
			mw_err_set(e, "%s: %s", s->path, strerror(errno));
			goto fail;
		}
		if (create_store(state_dir, s->path, e) < 0)
			goto fail;
	} else if (S_ISLNK(sb.st_mode)) {
		/* SQLite would put -wal and -shm beside the link's target, out of
		 * the lock's sight; and a dangling link would create a store
		 * wherever it points. */
		mw_err_set(e, "%s: a symbolic link, not the store itself; replace the link with "
			   "the file it names (mv), or point state_dir at that file's directory",
			   s->path);
		goto fail;
	} else if (S_ISREG(sb.st_mode) && (sb.st_mode & 077) && sb.st_uid == geteuid()) {
		/* An older or hand-copied store: tighten it, and SQLite then
		 * creates -wal and -shm alike. */
		chmod(s->path, 0600);
	}
	if (check_header(s->path, e) < 0)
		goto fail;
	rc = sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		db_fail(s, rc, "opening", e);
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	/* Before the first read: check_schema's can meet SQLITE_BUSY too, e.g.
	 * while another process checkpoints or closes its connection. */
	sqlite3_busy_handler(s->db, busy_wait, NULL);
	if (check_schema(s, e) < 0 || setup_connection(s, e) < 0 || migrate(s, e) < 0 ||
	    ensure_indexes(s, e) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	store_close(s);
	return -1;
}

void store_close(mw_store *s)
{
	if (!s)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_finalize(s->multi);
	sqlite3_close(s->db);
	free(s->path);
	free(s);
}

/* ---- lock --------------------------------------------------------------- */

int store_lock(const char *state_dir, int *fd, long *pid, mw_err *e)
{
	char *path, buf[32];
	int lfd;
	ssize_t n;

	*fd = -1;
	if (pid)
		*pid = 0;
	if (mw_mkdir_p(state_dir, e) < 0)
		return -1;
	path = path_join(state_dir, "lock");
	lfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lfd < 0) {
		mw_err_set(e, "%s: cannot open the lock file: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	if (flock(lfd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno;
		if (err == EWOULDBLOCK || err == EINTR) {
			n = pread(lfd, buf, sizeof buf - 1, 0);
			if (pid && n > 0) {
				buf[n] = 0;
				*pid = strtol(buf, NULL, 10);
			}
			close(lfd);
			free(path);
			return 0;
		}
		mw_err_set(e, "%s: flock: %s", path, strerror(err));
		close(lfd);
		free(path);
		return -1;
	}
	n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (ftruncate(lfd, 0) < 0 || pwrite(lfd, buf, (size_t)n, 0) != n) {
		mw_err_set(e, "%s: cannot write our pid: %s", path, strerror(errno));
		close(lfd);
		free(path);
		return -1;
	}
	free(path);
	*fd = lfd;
	return 1;
}

/* ---- sources and cursors ------------------------------------------------- */

int store_source(mw_store *s, const char *integration, const char *type, int64_t *id,
		 mw_err *e)
{
	sqlite3_stmt *st = stmt(s, ST_SOURCE_GET, e);
	int rc;

	for (int pass = 0; st && pass < 2; pass++) {
		bind_str(st, 1, integration);
		bind_str(st, 2, type);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*id = sqlite3_column_int64(st, 0);
			sqlite3_reset(st);
			return 0;
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return db_fail(s, rc, "looking up a source", e);
		if (pass == 0) {
			sqlite3_stmt *add = stmt(s, ST_SOURCE_ADD, e);
			if (!add)
				return -1;
			bind_str(add, 1, integration);
			bind_str(add, 2, type);
			if (exec_done(s, add, "adding a source", e) < 0)
				return -1;
			st = stmt(s, ST_SOURCE_GET, e);
		}
	}
	if (st)
		mw_err_set(e, "%s: source %s/%s vanished while being created", s->path,
			   integration, type);
	return -1;
}

int store_get_cursor(mw_store *s, int64_t source, struct store_cursor *c, mw_err *e)
{
	sqlite3_stmt *st = stmt(s, ST_CURSOR_GET, e);
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
		copy_col(c->page_token, sizeof c->page_token, st, 5);
		c->win_received = sqlite3_column_int64(st, 6);
		c->win_restarted = sqlite3_column_int(st, 7);
		rc = SQLITE_DONE;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail(s, rc, "reading a cursor", e);
	return 0;
}

static int cursor_put(mw_store *s, int64_t source, const struct store_cursor *c, mw_err *e)
{
	sqlite3_stmt *st = stmt(s, ST_CURSOR_PUT, e);

	if (!st)
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
	return exec_done(s, st, "writing the cursor", e);
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
	mw_buf_puts(&sql, "INSERT OR IGNORE INTO records(source,id,time,collected,threat,json) VALUES");
	for (int k = 0; k < MULTI_ROWS; k++)
		mw_buf_puts(&sql, k ? ",(?,?,?,?,?,?)" : "(?,?,?,?,?,?)");
	rc = sqlite3_prepare_v3(s->db, sql.data, -1, SQLITE_PREPARE_PERSISTENT, &s->multi, NULL);
	mw_buf_free(&sql);
	if (rc != SQLITE_OK) {
		db_fail(s, rc, "preparing a statement", e);
		s->multi = NULL;
		return NULL;
	}
	return s->multi;
}

/* 1 in *seen when the query (source, id bound) finds a row. */
static int exists(mw_store *s, enum stmt_id q, int64_t source, const char *id, int *seen,
		  mw_err *e)
{
	sqlite3_stmt *st = stmt(s, q, e);
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
		return db_fail(s, rc, "looking up a record's id", e);
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
	sqlite3_stmt *st = stmt(s, ST_OUTSIDE_ADD, e);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, source);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	return exec_done(s, st, "keeping the id of a record outside its window", e);
}

int store_newest_in(mw_store *s, int64_t source, int64_t from, int64_t to, int64_t *t,
		    mw_err *e)
{
	sqlite3_stmt *st = stmt(s, ST_NEWEST_IN, e);
	int rc;

	*t = 0;
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, source);
	sqlite3_bind_int64(st, 2, from);
	sqlite3_bind_int64(st, 3, to);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*t = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(s, rc, "finding the newest record of a window", e);
	return 0;
}

int store_commit_page(mw_store *s, int64_t source, const struct store_rec *recs, size_t n,
		      const struct store_cursor *c, struct store_page_result *r, mw_err *e)
{
	int64_t now = mw_now(), inserted = 0, outside = 0;
	sqlite3_stmt *st;
	int rc, has_outside = 0, any_outside = 0;

	if (r)
		r->inserted = r->duplicates = r->outside = 0;
	if (tx_begin(s, e) < 0)
		return -1;
	if (!(st = stmt(s, ST_INSERT_REC, e)))
		return tx_abort(s);
	sqlite3_bind_int64(st, 1, source);
	sqlite3_bind_int64(st, 4, now);
	for (size_t i = 0; i < n; i++) {
		if (!recs[i].id || !recs[i].json || recs[i].json_len > INT_MAX) {
			mw_err_set(e, "%s: record %zu of the page has no id or no JSON", s->path, i);
			return tx_abort(s);
		}
		has_outside |= recs[i].outside;
	}
	if (n && exists(s, ST_OUTSIDE_ANY, source, NULL, &any_outside, e) < 0)
		return tx_abort(s);
	has_outside |= any_outside;
	/* A page with a record dated outside its window (rare) goes one row at
	 * a time: each such record is checked against, and added to, the
	 * outside_seen ids. */
	for (size_t i = 0; !has_outside && i + MULTI_ROWS <= n; i += MULTI_ROWS) {
		sqlite3_stmt *m = multi_insert(s, e);

		if (!m)
			return tx_abort(s);
		for (int k = 0; k < MULTI_ROWS; k++) {
			const struct store_rec *rec = &recs[i + (size_t)k];
			int p = k * 6;

			sqlite3_bind_int64(m, p + 1, source);
			sqlite3_bind_text(m, p + 2, rec->id, -1, SQLITE_STATIC);
			sqlite3_bind_int64(m, p + 3, rec->time);
			sqlite3_bind_int64(m, p + 4, now);
			sqlite3_bind_int(m, p + 5, rec->threat ? 1 : 0);
			sqlite3_bind_text(m, p + 6, rec->json, (int)rec->json_len, SQLITE_STATIC);
		}
		rc = sqlite3_step(m);
		sqlite3_reset(m);
		if (rc != SQLITE_DONE) {
			db_fail(s, rc, "storing records", e);
			return tx_abort(s);
		}
		inserted += sqlite3_changes(s->db);
	}
	for (size_t i = has_outside ? 0 : n - n % MULTI_ROWS; i < n; i++) {
		const struct store_rec *rec = &recs[i];
		int seen = 0;

		if (seen_elsewhere(s, source, rec, any_outside, &seen, e) < 0)
			return tx_abort(s);
		if (seen)
			continue;  /* delivered once already, perhaps pruned since */
		/* Bindings survive reset, so only the per-record ones change. */
		sqlite3_bind_text(st, 2, rec->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, rec->time);
		sqlite3_bind_int(st, 5, rec->threat ? 1 : 0);
		sqlite3_bind_text(st, 6, rec->json, (int)rec->json_len, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			db_fail(s, rc, "storing records", e);
			return tx_abort(s);
		}
		/* INSERT OR IGNORE: 0 changes means the id was already stored. */
		inserted += sqlite3_changes(s->db);
		if (rec->outside) {
			outside += sqlite3_changes(s->db);
			if (outside_add(s, source, rec->id, e) < 0)
				return tx_abort(s);
		}
	}
	if (inserted > 0) {
		if (!(st = stmt(s, ST_HOURLY_ADD, e)))
			return tx_abort(s);
		sqlite3_bind_int64(st, 1, source);
		sqlite3_bind_int64(st, 2, now / 3600);
		sqlite3_bind_int64(st, 3, inserted);
		if (exec_done(s, st, "counting records", e) < 0)
			return tx_abort(s);
	}
	if (!(st = stmt(s, ST_STATUS_ADD_TOTAL, e)))
		return tx_abort(s);
	sqlite3_bind_int64(st, 1, source);
	sqlite3_bind_int64(st, 2, inserted);
	sqlite3_bind_int64(st, 3, now);
	if (exec_done(s, st, "counting records", e) < 0)
		return tx_abort(s);
	if (outside > 0) {
		if (!(st = stmt(s, ST_OUTSIDE_COUNT, e)))
			return tx_abort(s);
		sqlite3_bind_int64(st, 1, source);
		sqlite3_bind_int64(st, 2, outside);
		if (exec_done(s, st, "counting records outside their window", e) < 0)
			return tx_abort(s);
	}
	if (c && cursor_put(s, source, c, e) < 0)
		return tx_abort(s);
	if (tx_commit(s, e) < 0)
		return tx_abort(s);
	if (r) {
		r->inserted = inserted;
		r->duplicates = (int64_t)n - inserted;
		r->outside = outside;
	}
	return 0;
}

int store_reset_cursor(mw_store *s, int64_t source, int64_t horizon, mw_err *e)
{
	struct store_cursor c;

	memset(&c, 0, sizeof c);
	c.horizon = horizon;
	return cursor_put(s, source, &c, e);
}

/* ---- status ----------------------------------------------------------------- */

int store_put_status(mw_store *s, const struct store_status *in, mw_err *e)
{
	sqlite3_stmt *st;
	int64_t source = in->source;

	if (source <= 0 && store_source(s, in->integration, in->type, &source, e) < 0)
		return -1;
	if (!(st = stmt(s, ST_STATUS_PUT, e)))
		return -1;
	sqlite3_bind_int64(st, 1, source);
	bind_str(st, 2, in->state[0] ? in->state : "idle");
	sqlite3_bind_int(st, 3, in->paused ? 1 : 0);
	sqlite3_bind_int64(st, 4, in->last_attempt);
	sqlite3_bind_int64(st, 5, in->last_success);
	sqlite3_bind_int64(st, 6, in->next_poll);
	bind_str(st, 7, in->err_class[0] ? in->err_class : "ok");
	sqlite3_bind_int64(st, 8, in->http_status);
	bind_str(st, 9, in->err_code);
	bind_str(st, 10, in->err_message);
	bind_str(st, 11, in->remedy);
	sqlite3_bind_int64(st, 12, in->records_last_poll);
	sqlite3_bind_int64(st, 13, in->last_new_at);
	sqlite3_bind_int64(st, 14, in->horizon);
	sqlite3_bind_int64(st, 15, in->last_record_time);
	sqlite3_bind_int64(st, 16, in->rl_limit);
	sqlite3_bind_int64(st, 17, in->rl_remaining);
	sqlite3_bind_int64(st, 18, in->rl_reset_ms);
	sqlite3_bind_int64(st, 19, in->throttled_until);
	sqlite3_bind_int64(st, 20, in->updated ? in->updated : mw_now_ms());
	bind_str(st, 21, in->warning);
	return exec_done(s, st, "writing the status", e);
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
	sqlite3_stmt *st = stmt(s, ST_STATUS_LIST, e);
	struct store_status *v = NULL;
	size_t len = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!st)
		return -1;
	/* 24 hourly buckets: the current hour and the 23 before it. */
	sqlite3_bind_int64(st, 1, (mw_now() - 86400) / 3600);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			v = mw_xrealloc(v, cap * sizeof *v);
		}
		struct store_status *x = &v[len++];
		memset(x, 0, sizeof *x);
		x->source = sqlite3_column_int64(st, 0);
		copy_col(x->integration, sizeof x->integration, st, 1);
		copy_col(x->type, sizeof x->type, st, 2);
		copy_col(x->state, sizeof x->state, st, 3);
		x->paused = sqlite3_column_int(st, 4);
		x->last_attempt = sqlite3_column_int64(st, 5);
		x->last_success = sqlite3_column_int64(st, 6);
		x->next_poll = sqlite3_column_int64(st, 7);
		copy_col(x->err_class, sizeof x->err_class, st, 8);
		x->http_status = (long)sqlite3_column_int64(st, 9);
		copy_col(x->err_code, sizeof x->err_code, st, 10);
		copy_col(x->err_message, sizeof x->err_message, st, 11);
		copy_col(x->remedy, sizeof x->remedy, st, 12);
		x->records_last_poll = sqlite3_column_int64(st, 13);
		x->records_24h = sqlite3_column_int64(st, 14);
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
		copy_col(x->warning, sizeof x->warning, st, 25);
		x->outside = sqlite3_column_int64(st, 26);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(v);
		return db_fail(s, rc, "listing the status", e);
	}
	if (len > 1)
		qsort(v, len, sizeof *v, status_cmp);
	*out = v;
	*n = len;
	return 0;
}

int store_add_rejects(mw_store *s, int64_t source, int64_t n, mw_err *e)
{
	sqlite3_stmt *st = stmt(s, ST_REJECTS_ADD, e);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, source);
	sqlite3_bind_int64(st, 2, n);
	return exec_done(s, st, "counting rejects", e);
}

int store_delete_integration(mw_store *s, const char *integration, mw_err *e)
{
	static const char *const sql[] = {
		"DELETE FROM records WHERE source IN (SELECT id FROM sources WHERE integration=?1)",
		"DELETE FROM hourly WHERE source IN (SELECT id FROM sources WHERE integration=?1)",
		"DELETE FROM status WHERE source IN (SELECT id FROM sources WHERE integration=?1)",
		"DELETE FROM cursors WHERE source IN (SELECT id FROM sources WHERE integration=?1)",
		"DELETE FROM outside_seen WHERE source IN (SELECT id FROM sources WHERE "
		"integration=?1)",
		"DELETE FROM sources WHERE integration=?1",
	};
	sqlite3_stmt *st;
	int rc;

	if (tx_begin(s, e) < 0)
		return -1;
	for (size_t i = 0; i < NELEM(sql); i++) {
		rc = sqlite3_prepare_v2(s->db, sql[i], -1, &st, NULL);
		if (rc != SQLITE_OK) {
			db_fail(s, rc, "deleting an integration", e);
			return tx_abort(s);
		}
		bind_str(st, 1, integration);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE) {
			db_fail(s, rc, "deleting an integration", e);
			return tx_abort(s);
		}
	}
	if (tx_commit(s, e) < 0)
		return tx_abort(s);
	return 0;
}

/* ---- requests ------------------------------------------------------------------ */

int store_request_add(mw_store *s, const char *integration, const char *type,
		      enum mw_request action, const char *arg, int64_t *id, mw_err *e)
{
	sqlite3_stmt *st;

	if (action < 0 || action >= MW_REQ_COUNT) {
		mw_err_set(e, "a request needs one of the actions of requests.h");
		return -1;
	}
	if (!(st = stmt(s, ST_REQ_ADD, e)))
		return -1;
	bind_str(st, 1, integration);
	bind_str(st, 2, type);
	bind_str(st, 3, mw_request_name(action));
	bind_str(st, 4, arg);
	sqlite3_bind_int64(st, 5, mw_now_ms());
	if (exec_done(s, st, "adding a request", e) < 0)
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
	if (tx_begin(s, e) < 0)
		return -1;
	if (!(st = stmt(s, ST_REQ_OLDEST, e)))
		return tx_abort(s);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return tx_commit(s, e) < 0 ? tx_abort(s) : 0;
	}
	if (rc != SQLITE_ROW) {
		db_fail(s, rc, "reading requests", e);
		return tx_abort(s);
	}
	r->id = sqlite3_column_int64(st, 0);
	copy_col(r->integration, sizeof r->integration, st, 1);
	copy_col(r->type, sizeof r->type, st, 2);
	copy_col(r->action_name, sizeof r->action_name, st, 3);
	r->action = mw_request_from_name(r->action_name);
	copy_col(r->arg, sizeof r->arg, st, 4);
	sqlite3_reset(st);
	if (!(st = stmt(s, ST_REQ_RUN, e)))
		return tx_abort(s);
	sqlite3_bind_int64(st, 1, r->id);
	sqlite3_bind_int64(st, 2, mw_now_ms());
	if (exec_done(s, st, "taking a request", e) < 0 || tx_commit(s, e) < 0)
		return tx_abort(s);
	return 1;
}

int store_request_finish(mw_store *s, int64_t id, int ok, const char *result, mw_err *e)
{
	sqlite3_stmt *st = stmt(s, ST_REQ_FINISH, e);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, ok ? 2 : 3);
	bind_str(st, 3, result);
	sqlite3_bind_int64(st, 4, mw_now_ms());
	if (exec_done(s, st, "finishing a request", e) < 0)
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
	sqlite3_stmt *st = stmt(s, ST_REQ_GET, e);
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*state = sqlite3_column_int(st, 0);
		if (result && n)
			copy_col(result, n, st, 1);
		sqlite3_reset(st);
		return 0;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail(s, rc, "reading a request", e);
	mw_err_set(e, "%s: no request %" PRId64, s->path, id);
	return -1;
}

/* ---- records for outputs ------------------------------------------------------- */

int store_each_after(mw_store *s, int64_t after_rowid, size_t limit,
		     int (*cb)(const struct store_row *row, void *ctx), void *ctx, mw_err *e)
{
	sqlite3_stmt *st = stmt(s, ST_EACH_AFTER, e);
	struct store_row row;
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, after_rowid);
	sqlite3_bind_int64(st, 2, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row.rowid = sqlite3_column_int64(st, 0);
		row.integration = (const char *)sqlite3_column_text(st, 1);
		row.type = (const char *)sqlite3_column_text(st, 2);
		row.id = (const char *)sqlite3_column_text(st, 3);
		row.time = sqlite3_column_int64(st, 4);
		row.collected = sqlite3_column_int64(st, 5);
		row.json = (const char *)sqlite3_column_text(st, 6);
		row.json_len = (size_t)sqlite3_column_bytes(st, 6);
		if (!row.integration || !row.type || !row.id || !row.json) {
			sqlite3_reset(st);
			mw_err_set(e, "%s: record %" PRId64 " has a NULL field: %s", s->path,
				   row.rowid, damaged_fix);
			return -1;
		}
		if (cb(&row, ctx)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail(s, rc, "reading records", e);
	return 0;
}

static int64_t query_i64(mw_store *s, enum stmt_id id, int64_t bind1, int has_bind)
{
	mw_err e;
	sqlite3_stmt *st = stmt(s, id, &e);
	int64_t v = -1;

	if (!st)
		return -1;
	if (has_bind)
		sqlite3_bind_int64(st, 1, bind1);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return v;
}

int64_t store_max_rowid(mw_store *s)
{
	return query_i64(s, ST_MAX_ROWID, 0, 0);
}

/* ---- output offsets --------------------------------------------------------- */

int store_output_get(mw_store *s, const char *output, int64_t *last_rowid, mw_err *e)
{
	sqlite3_stmt *st = stmt(s, ST_OUT_GET, e);
	int rc;

	*last_rowid = 0;
	if (!st)
		return -1;
	bind_str(st, 1, output);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*last_rowid = sqlite3_column_int64(st, 0);
		rc = SQLITE_DONE;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail(s, rc, "reading an output offset", e);
	return 0;
}

int store_output_files(mw_store *s, const char *output, struct store_file_size **out,
		       size_t *n, mw_err *e)
{
	sqlite3_stmt *st = stmt(s, ST_OUT_FILES, e);
	struct store_file_size *v = NULL;
	size_t len = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!st)
		return -1;
	bind_str(st, 1, output);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			v = mw_xrealloc(v, cap * sizeof *v);
		}
		copy_col(v[len].path, sizeof v[len].path, st, 0);
		v[len].size = sqlite3_column_int64(st, 1);
		len++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(v);
		return db_fail(s, rc, "reading output files", e);
	}
	*out = v;
	*n = len;
	return 0;
}

int store_output_register(mw_store *s, const char *output, const char *path, int64_t size,
			  mw_err *e)
{
	sqlite3_stmt *st = stmt(s, ST_OUT_REGISTER, e);

	if (!st)
		return -1;
	bind_str(st, 1, output);
	bind_str(st, 2, path);
	sqlite3_bind_int64(st, 3, size);
	return exec_done(s, st, "registering an output file", e);
}

int store_output_forget(mw_store *s, const char *output, const char *path, mw_err *e)
{
	sqlite3_stmt *st = stmt(s, ST_OUT_FORGET, e);

	if (!st)
		return -1;
	bind_str(st, 1, output);
	bind_str(st, 2, path);
	return exec_done(s, st, "forgetting an output file", e);
}

int store_output_commit(mw_store *s, const char *output, int64_t last_rowid,
			const struct store_file_size *files, size_t n, mw_err *e)
{
	sqlite3_stmt *st;

	if (tx_begin(s, e) < 0)
		return -1;
	if (!(st = stmt(s, ST_OUT_SET_ROWID, e)))
		return tx_abort(s);
	bind_str(st, 1, output);
	sqlite3_bind_int64(st, 2, last_rowid);
	sqlite3_bind_int64(st, 3, mw_now_ms());
	if (exec_done(s, st, "saving an output offset", e) < 0)
		return tx_abort(s);
	for (size_t i = 0; i < n; i++) {
		if (!(st = stmt(s, ST_OUT_SET_SIZE, e)))
			return tx_abort(s);
		bind_str(st, 1, output);
		bind_str(st, 2, files[i].path);
		sqlite3_bind_int64(st, 3, files[i].size);
		if (exec_done(s, st, "saving an output file size", e) < 0)
			return tx_abort(s);
	}
	if (tx_commit(s, e) < 0)
		return tx_abort(s);
	return 0;
}

int store_output_status(mw_store *s, const char *output, const char *state,
			const char *error, mw_err *e)
{
	sqlite3_stmt *st = stmt(s, ST_OUT_STATUS, e);

	if (!st)
		return -1;
	bind_str(st, 1, output);
	bind_str(st, 2, state);
	bind_str(st, 3, error);
	sqlite3_bind_int64(st, 4, mw_now_ms());
	return exec_done(s, st, "saving an output state", e);
}

/* ---- retention --------------------------------------------------------------- */

int store_output_info(mw_store *s, const char *output, struct store_output_info *out,
		      mw_err *e)
{
	sqlite3_stmt *st = stmt(s, ST_OUT_INFO, e);
	int rc;

	memset(out, 0, sizeof(*out));
	snprintf(out->state, sizeof(out->state), "idle");
	if (!st)
		return -1;
	bind_str(st, 1, output);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		copy_col(out->state, sizeof(out->state), st, 0);
		copy_col(out->error, sizeof(out->error), st, 1);
		out->updated_ms = sqlite3_column_int64(st, 2);
		out->last_rowid = sqlite3_column_int64(st, 3);
		rc = SQLITE_DONE;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		db_fail(s, rc, "reading an output's state", e);
		return -1;
	}
	out->lag_records = query_i64(s, ST_OUT_LAG, out->last_rowid, 1);
	out->delivered = query_i64(s, ST_OUT_DONE, out->last_rowid, 1);
	if (out->lag_records > 0) {
		int64_t oldest = query_i64(s, ST_OUT_OLDEST, out->last_rowid, 1);

		out->lag_seconds = oldest > 0 && mw_now() > oldest ? mw_now() - oldest : 0;
	}
	if (out->lag_records < 0 || out->delivered < 0) {
		mw_err_set(e, "%s: counting an output's records failed: %s", s->path,
			   sqlite3_errmsg(s->db));
		return -1;
	}
	return 0;
}

int64_t store_reread_floor(mw_store *s)
{
	int64_t v = query_i64(s, ST_REREAD_FLOOR, 0, 0);

	return v < 0 ? INT64_MAX : v;
}

int64_t store_prune(mw_store *s, int64_t before, int64_t max_rowid, mw_err *e)
{
	int64_t lo = query_i64(s, ST_MIN_ROWID, 0, 0), total = 0;
	sqlite3_stmt *st;
	int rc;

	if (lo < 0) {
		mw_err_set(e, "%s: reading the oldest record failed: %s", s->path,
			   sqlite3_errmsg(s->db));
		return -1;
	}
	/* Small rowid ranges, each its own transaction, so the collector is
	 * never held up for long and no time index is needed. */
	while (lo > 0 && lo <= max_rowid) {
		int64_t hi = max_rowid - lo < PRUNE_BATCH ? max_rowid + 1 : lo + PRUNE_BATCH;
		if (!(st = stmt(s, ST_PRUNE_RANGE, e)))
			return -1;
		sqlite3_bind_int64(st, 1, lo);
		sqlite3_bind_int64(st, 2, hi);
		sqlite3_bind_int64(st, 3, before);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			db_fail(s, rc, "pruning records", e);
			return -1;
		}
		total += sqlite3_changes(s->db);
		lo = hi;
	}
	/* Housekeeping that needs no batching: old hourly buckets and
	 * finished requests. */
	char sql[160];
	snprintf(sql, sizeof sql, "DELETE FROM hourly WHERE hour<%" PRId64 ";"
		 "DELETE FROM requests WHERE state>=2 AND updated<%" PRId64,
		 mw_now() / 3600 - 48, mw_now_ms() - (int64_t)7 * 86400000);
	rc = raw_exec(s->db, sql);
	if (rc != SQLITE_OK) {
		db_fail(s, rc, "pruning counters", e);
		return -1;
	}
	return total;
}

/* ---- meta ---------------------------------------------------------------------- */

int store_meta_get(mw_store *s, const char *key, char *val, size_t n)
{
	mw_err e;
	sqlite3_stmt *st = stmt(s, ST_META_GET, &e);
	int rc;

	if (!st)
		return -1;
	bind_str(st, 1, key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (val && n)
			copy_col(val, n, st, 0);
		sqlite3_reset(st);
		return 0;
	}
	sqlite3_reset(st);
	return -1;
}

int store_meta_set(mw_store *s, const char *key, const char *val, mw_err *e)
{
	sqlite3_stmt *st = stmt(s, ST_META_SET, e);

	if (!st)
		return -1;
	if (strcmp(key, "schema_version") == 0) {
		mw_err_set(e, "%s: schema_version is kept by the store itself", s->path);
		return -1;
	}
	bind_str(st, 1, key);
	bind_str(st, 2, val);
	return exec_done(s, st, "writing meta", e);
}

int64_t store_count(mw_store *s, int64_t source)
{
	return query_i64(s, ST_COUNT_SOURCE, source, 1);
}

/* ---- reading records for the console's preview ------------------------------ */

int store_find_source(mw_store *s, const char *integration, const char *type, int64_t *id,
		      mw_err *e)
{
	sqlite3_stmt *st = stmt(s, ST_SOURCE_GET, e);
	int rc;

	*id = 0;
	if (!st)
		return -1;
	bind_str(st, 1, integration);
	bind_str(st, 2, type);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(s, rc, "looking up a source", e);
	return rc == SQLITE_ROW;
}

/* Simple case folding, enough for what administrators type: ASCII, Latin-1,
 * Latin Extended-A, Greek and Cyrillic capitals map to their small letters.
 * No character outside ASCII folds into ASCII (U+0130 and U+212A stay), which
 * is what lets an ASCII filter skip records by their raw bytes. */
static uint32_t fold_cp(uint32_t c)
{
	if (c < 0x80)
		return c >= 'A' && c <= 'Z' ? c + 32 : c;
	if (c >= 0xC0 && c <= 0xDE && c != 0xD7)
		return c + 32;
	if ((c >= 0x100 && c <= 0x12F) || (c >= 0x132 && c <= 0x137) ||
	    (c >= 0x14A && c <= 0x177))
		return c | 1;
	if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
		return (c & 1) ? c + 1 : c;
	if (c == 0x178)
		return 0xFF;
	if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2)
		return c + 32;
	if (c == 0x386)
		return 0x3AC;
	if (c >= 0x388 && c <= 0x38A)
		return c + 37;
	if (c == 0x38C)
		return 0x3CC;
	if (c == 0x38E || c == 0x38F)
		return c + 63;
	if (c >= 0x410 && c <= 0x42F)
		return c + 32;
	if (c >= 0x400 && c <= 0x40F)
		return c + 80;
	return c;
}

static void fold_append(mw_buf *out, uint32_t cp)
{
	char enc[4];

	if (cp == JS_CP_INVALID)
		cp = 0xFFFD;
	mw_buf_append(out, enc, js_utf8_encode(fold_cp(cp), enc));
}

/* A compiled text filter, reused across the rows of one scan. */
struct matcher {
	mw_buf needle;          /* folded UTF-8 */
	int ascii;              /* the needle is printable ASCII: raw prefilter */
	js_doc doc;
	mw_buf value;           /* a string value, decoded and folded */
};

static void matcher_init(struct matcher *m, const char *text)
{
	const unsigned char *p = (const unsigned char *)text, *end = p + strlen(text);

	mw_buf_init(&m->needle);
	mw_buf_init(&m->value);
	js_init(&m->doc);
	m->ascii = 1;
	while (p < end) {
		uint32_t cp;

		p += js_utf8_decode(p, end, &cp);
		if (cp < 0x20 || cp >= 0x7F)
			m->ascii = 0;
		fold_append(&m->needle, cp);
	}
}

static void matcher_free(struct matcher *m)
{
	mw_buf_free(&m->needle);
	mw_buf_free(&m->value);
	js_free(&m->doc);
}

/* Case-insensitive (ASCII) search of a lower-case ASCII needle. */
static int ascii_ci_find(const char *h, size_t hn, const char *n, size_t nn)
{
	if (nn == 0)
		return 1;
	for (size_t i = 0; i + nn <= hn; i++) {
		size_t k = 0;

		while (k < nn) {
			unsigned char c = (unsigned char)h[i + k];
			if (c >= 'A' && c <= 'Z')
				c = (unsigned char)(c + 32);
			if (c != (unsigned char)n[k])
				break;
			k++;
		}
		if (k == nn)
			return 1;
	}
	return 0;
}

static int string_matches(struct matcher *m, const js_tok *t)
{
	const unsigned char *p = (const unsigned char *)m->doc.buf + t->start;
	const unsigned char *end = (const unsigned char *)m->doc.buf + t->end;

	mw_buf_reset(&m->value);
	while (p < end)
		fold_append(&m->value, js_decode_char(&p, end));
	return memmem(m->value.data, m->value.len, m->needle.data, m->needle.len) != NULL;
}

/* Does any string value in the subtree at tok match? Keys are skipped. */
static int subtree_matches(struct matcher *m, size_t tok)
{
	const js_tok *t = &m->doc.toks[tok];
	size_t i, stop = t->next;

	switch (t->type) {
	case JS_STRING:
		return string_matches(m, t);
	case JS_OBJECT:
		/* key, value subtree, key, value subtree ... */
		for (i = tok + 1; i < stop; i = m->doc.toks[i + 1].next)
			if (subtree_matches(m, i + 1))
				return 1;
		return 0;
	case JS_ARRAY:
		for (i = tok + 1; i < stop; i = m->doc.toks[i].next)
			if (subtree_matches(m, i))
				return 1;
		return 0;
	default:
		return 0;
	}
}

static int matcher_test(struct matcher *m, const char *json, size_t len)
{
	mw_err ignored;

	if (m->needle.len == 0)
		return 1;
	/* Without a backslash every string is its raw bytes, and no non-ASCII
	 * character folds into ASCII: an ASCII needle absent from the raw
	 * text (keys included) cannot be in a value. Most rows stop here. */
	if (m->ascii && !memchr(json, '\\', len) &&
	    !ascii_ci_find(json, len, m->needle.data, m->needle.len))
		return 0;
	if (js_parse(&m->doc, json, len, &ignored) < 0) {
		/* Stored records are valid JSON; a damaged one is still
		 * searched, as plain text. */
		return m->ascii && ascii_ci_find(json, len, m->needle.data, m->needle.len);
	}
	return m->doc.ntoks > 0 && subtree_matches(m, 0);
}

int store_record_matches(const char *json, size_t len, const char *text)
{
	struct matcher m;
	int r;

	if (!text || !*text)
		return 1;
	matcher_init(&m, text);
	r = matcher_test(&m, json, len);
	matcher_free(&m);
	return r;
}

/* One of the (up to two) ordered streams a query merges. */
struct qstream {
	sqlite3_stmt *st;
	int live;               /* st holds a row */
	int64_t rowid;
};

static int qstream_step(mw_store *s, struct qstream *q, mw_err *e)
{
	int rc = sqlite3_step(q->st);

	if (rc == SQLITE_ROW) {
		q->live = 1;
		q->rowid = sqlite3_column_int64(q->st, 0);
		return 0;
	}
	q->live = 0;
	if (rc != SQLITE_DONE)
		return db_fail(s, rc, "reading records", e);
	return 0;
}

static int source_names(mw_store *s, int64_t source, char **integration, char **type,
			mw_err *e)
{
	sqlite3_stmt *st = stmt(s, ST_SOURCE_NAME, e);
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
		return db_fail(s, rc, "looking up a source", e);
	return 0;
}

int store_query_page(mw_store *s, const struct store_query *q, int newer,
		     struct store_scan *sc, size_t limit, size_t budget,
		     int (*cb)(const struct store_row *row, void *ctx), void *ctx, mw_err *e)
{
	struct qstream qs[2];
	struct matcher m;
	struct store_row row;
	char *integration = NULL, *type = NULL;
	int64_t bound = sc->pos, delivered = 0;
	size_t examined = 0, nq = 0;
	int have_text = q->text && *q->text, rc = -1;

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
	/* threat is 0 or 1 (store_commit_page): "all" merges both streams. */
	for (int threat = q->threats_only ? 1 : 0; threat <= 1; threat++) {
		enum stmt_id id = newer ? (nq ? ST_Q_NEWER_1 : ST_Q_NEWER_0)
					: (nq ? ST_Q_OLDER_1 : ST_Q_OLDER_0);
		struct qstream *x = &qs[nq];

		if (!(x->st = stmt(s, id, e)))
			goto out_reset;
		nq++;
		sqlite3_bind_int64(x->st, 1, q->source);
		sqlite3_bind_int(x->st, 2, threat);
		sqlite3_bind_int64(x->st, 3, bound);
		if (qstream_step(s, x, e) < 0)
			goto out_reset;
	}
	if (have_text)
		matcher_init(&m, q->text);
	row.integration = integration;
	row.type = type;
	for (;;) {
		struct qstream *x = NULL;

		for (size_t i = 0; i < nq; i++)
			if (qs[i].live && (!x || (newer ? qs[i].rowid < x->rowid
							: qs[i].rowid > x->rowid)))
				x = &qs[i];
		if (!x) {
			sc->done = 1;
			break;
		}
		if (budget && examined >= budget)
			break;
		examined++;
		row.rowid = x->rowid;
		row.id = (const char *)sqlite3_column_text(x->st, 1);
		row.time = sqlite3_column_int64(x->st, 2);
		row.collected = sqlite3_column_int64(x->st, 3);
		row.json = (const char *)sqlite3_column_text(x->st, 4);
		row.json_len = (size_t)sqlite3_column_bytes(x->st, 4);
		sc->pos = row.rowid;
		if (!row.id || !row.json) {
			mw_err_set(e, "%s: record %" PRId64 " has a NULL field: %s", s->path,
				   row.rowid, damaged_fix);
			goto out;
		}
		if (!have_text || matcher_test(&m, row.json, row.json_len)) {
			delivered++;
			if (cb(&row, ctx) || (limit && (size_t)delivered >= limit)) {
				/* Whether anything is left is the next call's to find. */
				break;
			}
		}
		if (qstream_step(s, x, e) < 0)
			goto out;
	}
	rc = 0;
out:
	if (have_text)
		matcher_free(&m);
out_reset:
	for (size_t i = 0; i < nq; i++)
		sqlite3_reset(qs[i].st);
	free(integration);
	free(type);
	return rc < 0 ? -1 : (int)(delivered > INT32_MAX ? INT32_MAX : delivered);
}

int store_query_count(mw_store *s, const struct store_query *q, int64_t after, int64_t upto,
		      int64_t *n, mw_err *e)
{
	int64_t total = 0;

	*n = 0;
	if (q->text && *q->text) {
		mw_err_set(e, "store_query_count: a text filter needs a scan; use "
			   "store_query_page");
		return -1;
	}
	for (int threat = q->threats_only ? 1 : 0; threat <= 1; threat++) {
		sqlite3_stmt *st = stmt(s, ST_Q_COUNT, e);
		int rc;

		if (!st)
			return -1;
		sqlite3_bind_int64(st, 1, q->source);
		sqlite3_bind_int(st, 2, threat);
		sqlite3_bind_int64(st, 3, after);
		sqlite3_bind_int64(st, 4, upto);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			total += sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		if (rc != SQLITE_ROW)
			return db_fail(s, rc, "counting records", e);
	}
	*n = total;
	return 0;
}

int store_get_row(mw_store *s, int64_t rowid,
		  int (*cb)(const struct store_row *row, void *ctx), void *ctx, mw_err *e)
{
	sqlite3_stmt *st = stmt(s, ST_GET_ROW, e);
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
		return db_fail(s, rc, "reading a record", e);
	}
	row.rowid = sqlite3_column_int64(st, 0);
	row.integration = (const char *)sqlite3_column_text(st, 1);
	row.type = (const char *)sqlite3_column_text(st, 2);
	row.id = (const char *)sqlite3_column_text(st, 3);
	row.time = sqlite3_column_int64(st, 4);
	row.collected = sqlite3_column_int64(st, 5);
	row.json = (const char *)sqlite3_column_text(st, 6);
	row.json_len = (size_t)sqlite3_column_bytes(st, 6);
	if (!row.integration || !row.type || !row.id || !row.json) {
		sqlite3_reset(st);
		mw_err_set(e, "%s: record %" PRId64 " has a NULL field: %s", s->path, rowid,
			   damaged_fix);
		return -1;
	}
	cb(&row, ctx);
	sqlite3_reset(st);
	return 1;
}
