/* store/db.c - the statements every part of the store runs, prepared once
 * per connection, and the helpers around them: errors that name the file
 * and the way out (disk full, damaged store), transactions. */
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

/* The way out must work: `reset` needs a readable store, so it is no cure
 * for a damaged one. */
const char sdb_damaged_fix[] =
	"store.db is damaged: move it aside (mv store.db store.db.damaged) to start a new "
	"store, which collects again from lookback; move the NDJSON output files aside too, "
	"or they receive those records a second time";

/* For the runs p of source SRC: those that may hold a rowid above AFTER
 * (the one starting at or below it, and every later one), found by the
 * primary key. */
#define RUN_FROM(SRC, AFTER) \
	"p.first>=coalesce((SELECT max(q.first) FROM runs q WHERE q.source=" SRC \
	" AND q.first<=" AFTER "),0)"
/* Of run p, the records with AFTER < rowid <= UPTO that are WHERE: the
 * run's own count FIELD when the run is inside, else its rows in the range
 * counted. RUN_COUNT all of them (n), RUN_THREATS its threats (t). */
#define RUN_SUM(FIELD, WHERE, AFTER, UPTO) \
	"CASE WHEN p.first>" AFTER " AND p.last<=" UPTO " THEN p." FIELD " ELSE (SELECT " \
	"count(*) FROM records r WHERE r.rowid>max(p.first-1," AFTER ") AND " \
	"r.rowid<=min(p.last," UPTO ") AND +r.source=p.source" WHERE ") END"
#define RUN_COUNT(AFTER, UPTO) RUN_SUM("n", "", AFTER, UPTO)
#define RUN_THREATS(AFTER, UPTO) RUN_SUM("t", " AND r.threat=1", AFTER, UPTO)

/* The counts a commit adds to its source's cursor row: the total, when
 * the last new record came, the hours (HOURS NULL: kept). */
#define CURSOR_COUNTS(HOURS) \
	"total=total+excluded.total,last_new_at=CASE WHEN excluded.total>0 THEN " \
	"excluded.last_new_at ELSE last_new_at END,hours=coalesce(" HOURS ",hours)"

static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN_IMM] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_INSERT_REC] = "INSERT OR IGNORE INTO records(source,id,time,collected,threat,json,"
			  "revision,rowid) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
	/* store_commit_page: the highest rowid ever handed out, so a commit's
	 * rows are seq+1 .. its last (open.c, "Rowids"): the last row's, the
	 * high mark a delete of the last rows left in meta, or, in a store
	 * whose records table was made with AUTOINCREMENT, SQLite's mark. */
	[ST_SEQ_GET] = "SELECT max(coalesce((SELECT max(rowid) FROM records),0),"
		       "coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key='rowid_high'),0),"
		       "coalesce((SELECT seq FROM sqlite_sequence WHERE name='records'),0))",
	/* Before records are deleted: the highest rowid handed out so far, kept
	 * in meta, since SQLite would hand out the last rows' rowids again. */
	[ST_ROWID_KEEP] = "INSERT INTO meta(key,value) SELECT 'rowid_high',m FROM (SELECT max(rowid)"
			  " AS m FROM records) WHERE m IS NOT NULL ON CONFLICT(key) DO UPDATE SET"
			  " value=max(CAST(value AS INTEGER),CAST(excluded.value AS INTEGER))",
	[ST_RUN_ADD] = "INSERT INTO runs(source,first,last,n,t,tmin,tmax,grams) "
		       "VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
	/* A commit that dropped duplicates: its threats counted from its rows */
	[ST_RUN_THREATS] = "SELECT count(*) FROM records WHERE rowid BETWEEN ?1 AND ?2 AND threat=1",
	[ST_CURSOR_HOURS_GET] = "SELECT hours FROM cursors WHERE source=?1",
	/* The counts (cursors.c): ?2 records stored at ?3, ?4 the new hours or
	 * NULL to keep them. */
	[ST_CURSOR_ADD_COUNTS] =
		"INSERT INTO cursors(source,total,last_new_at,hours) VALUES(?1,?2,?3,coalesce(?4,'')) "
		"ON CONFLICT(source) DO UPDATE SET " CURSOR_COUNTS("?4"),
	[ST_CURSOR_PUT] = "INSERT INTO cursors(source,horizon,in_window,win_from,win_to,"
			  "win_progress,page_token,win_received,win_restarted,total,last_new_at,"
			  "hours) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,coalesce(?12,'')) "
			  "ON CONFLICT(source) DO UPDATE SET horizon=excluded.horizon,"
			  "in_window=excluded.in_window,win_from=excluded.win_from,"
			  "win_to=excluded.win_to,win_progress=excluded.win_progress,"
			  "page_token=excluded.page_token,win_received=excluded.win_received,"
			  "win_restarted=excluded.win_restarted," CURSOR_COUNTS("?12"),
	[ST_CURSOR_GET] = "SELECT horizon,in_window,win_from,win_to,win_progress,page_token,"
			  "win_received,win_restarted FROM cursors WHERE source=?1",
	[ST_SOURCE_ADD] = "INSERT OR IGNORE INTO sources(integration,type) VALUES(?1,?2)",
	[ST_SOURCE_GET] = "SELECT id FROM sources WHERE integration=?1 AND type=?2",
	[ST_EACH_AFTER] = "SELECT r.rowid,s.integration,s.type,r.id,r.time,r.collected,r.json,"
			  "r.revision "
			  "FROM records r JOIN sources s ON s.id=r.source "
			  "WHERE r.rowid>?1 ORDER BY r.rowid LIMIT ?2",
	[ST_EACH_SPAN] = "SELECT r.rowid,s.integration,s.type,r.id,r.time,r.collected,r.json,"
			 "r.revision "
			 "FROM records r JOIN sources s ON s.id=r.source "
			 "WHERE r.rowid>?1 AND r.time>=?2 AND r.time<?3 "
			 "AND (?4 IS NULL OR s.integration=?4) AND (?5 IS NULL OR s.type=?5) "
			 "ORDER BY r.rowid LIMIT ?6",
	[ST_MAX_ROWID] = "SELECT coalesce(max(rowid),0) FROM records",
	[ST_OUT_GET] = "SELECT last_rowid FROM outputs WHERE name=?1",
	[ST_OUT_BEGIN] = "INSERT INTO outputs(name,last_rowid,state,error,updated) "
			 "VALUES(?1,(SELECT coalesce(max(rowid),0) FROM records),'ok','',?2) "
			 "ON CONFLICT(name) DO NOTHING",
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
	/* The records with ?1 < rowid <= ?2 (the console's counts), from the
	 * runs: n of a run inside the range, a count of the rows of the (at
	 * most two per source) runs across its ends. Never a scan of the
	 * table's pages. */
	[ST_OUT_COUNT_BETWEEN] = "SELECT coalesce(sum(" RUN_COUNT("?1", "?2") "),0) "
				 "FROM sources s CROSS JOIN runs p ON p.source=s.id AND "
				 RUN_FROM("s.id", "?1") " AND p.first<=?2 AND p.last>?1",
	[ST_REVISED_SUM] = "SELECT coalesce(sum(revised),0) FROM status",
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
		"coalesce(c.hours,''),"
		"coalesce(c.total,0),coalesce(st.rejects,0),"
		"max(coalesce(st.last_new_at,0),coalesce(c.last_new_at,0)),"
		"coalesce(c.horizon,st.horizon,0),coalesce(st.last_record_time,0),"
		"coalesce(st.rl_limit,-1),coalesce(st.rl_remaining,-1),"
		"coalesce(st.rl_reset_ms,-1),coalesce(st.throttled_until,0),"
		"coalesce(st.updated,0),coalesce(st.warning,''),coalesce(st.outside,0),"
		"coalesce(st.revised,0),coalesce(c.in_window,0),coalesce(c.win_from,0),"
		"coalesce(c.win_to,0),coalesce(c.win_progress,0),coalesce(c.win_received,0) "
		"FROM sources s LEFT JOIN status st ON st.source=s.id "
		"LEFT JOIN cursors c ON c.source=s.id "
		/* heartbeat records (collector.c) are for the outputs only */
		"WHERE s.type<>'heartbeat' ORDER BY s.integration,s.type",
	[ST_REJECTS_ADD] = "INSERT INTO status(source,rejects) VALUES(?1,?2) "
			   "ON CONFLICT(source) DO UPDATE SET rejects=rejects+excluded.rejects",
	[ST_OUTSIDE_SEEN] = "SELECT 1 FROM outside_seen WHERE source=?1 AND id=?2",
	[ST_OUTSIDE_ANY] = "SELECT 1 FROM outside_seen WHERE source=?1 LIMIT 1",
	/* No index serves id alone: a scan of the source's (source, time, id)
	 * entries, run only for a record dated outside its window, which is
	 * rare. */
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
	[ST_COUNT_SOURCE] = "SELECT coalesce(sum(n),0) FROM runs WHERE source=?1",
	/* Retention (outputs.c): a source's old records delivered to every
	 * output, found through the (source, time, id) index, never by reading
	 * the table; each one's run counts it no more. */
	[ST_PRUNE_PICK] = "SELECT rowid,threat FROM records WHERE source=?1 AND time<?2 AND rowid<=?3 "
			  "LIMIT ?4",
	[ST_PRUNE_ONE] = "DELETE FROM records WHERE rowid=?1",
	[ST_RUN_DROP_ONE] = "UPDATE runs SET n=n-1,t=t-?3 WHERE source=?1 AND first=(SELECT max(q.first) "
			    "FROM runs q WHERE q.source=?1 AND q.first<=?2)",
	[ST_PRUNE_RUNS_EMPTY] = "DELETE FROM runs WHERE source=?1 AND first<=?2 AND n<=0",
	/* a queued backfill reads its span again (coverage.c): its start counts */
	[ST_REREAD_FLOOR] = "SELECT coalesce(min(f),-1) FROM (SELECT CASE WHEN in_window AND"
			    " win_from<horizon OR horizon=0 THEN win_from ELSE horizon END AS f"
			    " FROM cursors WHERE horizon>0 OR in_window"
			    " UNION ALL SELECT win_from FROM backfills WHERE state=0)",
	[ST_SOURCE_NAME] = "SELECT integration,type FROM sources WHERE id=?1",
	/* The preview's pages, ?1 the source, ?2 the bound: all records through
	 * the runs (a run's rows are in rowid order, runs do not overlap, so
	 * first then rowid is rowid order with no sort), threats through the
	 * runs that hold one (t > 0). r.source is checked too, since a run is a range of
	 * rowids; its unary + keeps SQLite from reading the (source, time, id)
	 * index for it instead of the run's rowid range (test_store_query
	 * checks the plans). */
	[ST_Q_OLDER_ALL] = "SELECT r.rowid,r.id,r.time,r.collected,r.json,r.revision "
			   "FROM runs p JOIN records r ON r.rowid BETWEEN p.first AND p.last "
			   "WHERE p.source=?1 AND p.first<?2 AND r.rowid<?2 AND +r.source=?1 "
			   "ORDER BY p.first DESC, r.rowid DESC",
	[ST_Q_NEWER_ALL] = "SELECT r.rowid,r.id,r.time,r.collected,r.json,r.revision "
			   "FROM runs p JOIN records r ON r.rowid BETWEEN p.first AND p.last "
			   "WHERE p.source=?1 AND " RUN_FROM("?1", "?2") " AND r.rowid>?2 "
			   "AND +r.source=?1 ORDER BY p.first, r.rowid",
	/* The same with a filter its index can answer (grams.c), ?3 the
	 * probe: a run whose summary excludes it is skipped whole, before any
	 * of its records is read; one without (from before schema 7) is read. */
	[ST_Q_OLDER_GRAMS] = "SELECT r.rowid,r.id,r.time,r.collected,r.json,r.revision "
			     "FROM runs p JOIN records r ON r.rowid BETWEEN p.first AND p.last "
			     "WHERE p.source=?1 AND p.first<?2 AND (p.grams IS NULL OR "
			     "mw_run_may(p.tmin,p.tmax,p.grams,?3)) AND r.rowid<?2 AND "
			     "+r.source=?1 ORDER BY p.first DESC, r.rowid DESC",
	[ST_Q_NEWER_GRAMS] = "SELECT r.rowid,r.id,r.time,r.collected,r.json,r.revision "
			     "FROM runs p JOIN records r ON r.rowid BETWEEN p.first AND p.last "
			     "WHERE p.source=?1 AND " RUN_FROM("?1", "?2") " AND (p.grams IS "
			     "NULL OR mw_run_may(p.tmin,p.tmax,p.grams,?3)) AND r.rowid>?2 "
			     "AND +r.source=?1 ORDER BY p.first, r.rowid",
	[ST_Q_OLDER_THREATS] = "SELECT r.rowid,r.id,r.time,r.collected,r.json,r.revision "
			       "FROM runs p JOIN records r ON r.rowid BETWEEN p.first AND p.last "
			       "WHERE p.source=?1 AND p.first<?2 AND p.t>0 AND r.rowid<?2 AND "
			       "+r.source=?1 AND r.threat=1 ORDER BY p.first DESC, r.rowid DESC",
	[ST_Q_NEWER_THREATS] = "SELECT r.rowid,r.id,r.time,r.collected,r.json,r.revision "
			       "FROM runs p JOIN records r ON r.rowid BETWEEN p.first AND p.last "
			       "WHERE p.source=?1 AND " RUN_FROM("?1", "?2") " AND p.t>0 AND "
			       "r.rowid>?2 AND +r.source=?1 AND r.threat=1 "
			       "ORDER BY p.first, r.rowid",
	/* ?1 the source, ?2 < rowid <= ?3 */
	[ST_Q_COUNT_ALL] = "SELECT coalesce(sum(" RUN_COUNT("?2", "?3") "),0) FROM runs p "
			   "WHERE p.source=?1 AND " RUN_FROM("?1", "?2") " AND p.first<=?3 "
			   "AND p.last>?2",
	[ST_Q_COUNT_THREATS] = "SELECT coalesce(sum(" RUN_THREATS("?2", "?3") "),0) FROM runs p "
			       "WHERE p.source=?1 AND " RUN_FROM("?1", "?2") " AND p.first<=?3 "
			       "AND p.last>?2 AND p.t>0",
	[ST_GET_ROW] = "SELECT r.rowid,s.integration,s.type,r.id,r.time,r.collected,r.json,"
		       "r.revision FROM records r JOIN sources s ON s.id=r.source WHERE r.rowid=?1",
	/* A keyed record (store_rec.keyed) by its id and time, through the
	 * (source, time, id) index (schema 7: an index by id alone took a
	 * random page per record, since Mimecast's ids are compressed data). */
	[ST_KEYED_GET] = "SELECT rowid,revision,json,threat FROM records WHERE source=?1 AND "
			 "time=?3 AND id=?2 AND revision>0",
	/* ... and by its id alone, at any time: only for an id that came dated
	 * outside its window (outside_seen), whose real version is then an
	 * update of that row. A scan of the source's index entries, rare. */
	[ST_KEYED_GET_ID] = "SELECT rowid,revision,json,threat FROM records WHERE source=?1 AND "
			    "id=?2 AND revision>0 ORDER BY rowid DESC LIMIT 1",
	[ST_REVISED_ADD] = "INSERT INTO status(source,revised) VALUES(?1,?2) "
			   "ON CONFLICT(source) DO UPDATE SET revised=revised+excluded.revised",
	/* events.c: the bound is a rowid range below the newest id, one seek */
	[ST_EVENT_ADD] = "INSERT INTO events(time,integration,type,kind,text) "
			 "VALUES(?1,?2,?3,?4,?5)",
	[ST_EVENT_PRUNE] = "DELETE FROM events WHERE id<=?1",
	[ST_EVENT_LIST] = "SELECT id,time,integration,type,kind,text FROM events "
			  "WHERE id<?1 ORDER BY id DESC LIMIT ?2",
	[ST_EVENT_NEWEST] = "SELECT coalesce(max(id),0) FROM events",
	/* coverage.c: the spans [?2, ?3] touches or overlaps, merged */
	[ST_SPAN_FIND] = "SELECT min(coalesce(min(t_from),?2),?2),max(coalesce(max(t_to),?3),?3) "
			 "FROM spans "
			 "WHERE source=?1 AND t_from<=?3+1 AND t_to>=?2-1",
	[ST_SPAN_DROP] = "DELETE FROM spans WHERE source=?1 AND t_from<=?3+1 AND t_to>=?2-1",
	[ST_SPAN_ADD] = "INSERT OR REPLACE INTO spans(source,t_from,t_to) VALUES(?1,?2,?3)",
	[ST_BF_PUT] = "UPDATE backfills SET win_from=?2,win_progress=?3,page_token=?4,"
		      "win_received=?5,win_restarted=?6,state=CASE WHEN ?7 THEN 0 ELSE 2 END,"
		      "updated=?8 WHERE id=?1",
	/* batch.c: the ledger of batch files and the listing cursors */
	[ST_BATCH_TAKEN] = "SELECT count(*) FROM batch_files WHERE source=?1 AND subtype=?2 AND "
			   "day=?3 AND key=?4",
	[ST_BATCH_FILE_ADD] = "INSERT OR IGNORE INTO batch_files(source,subtype,day,key,records,"
			      "taken) VALUES(?1,?2,?3,?4,?5,?6)",
	[ST_BATCH_CUR_PUT] = "INSERT INTO batch_cursors(source,subtype,day,next_page) "
			     "VALUES(?1,?2,?3,?4) ON CONFLICT(source,subtype) DO UPDATE SET "
			     "day=excluded.day,next_page=excluded.next_page",
	[ST_BATCH_CUR_GET] = "SELECT day,next_page FROM batch_cursors WHERE source=?1 AND "
			     "subtype=?2",
	[ST_BATCH_CUR_LIST] = "SELECT subtype,day,next_page FROM batch_cursors WHERE source=?1 "
			      "ORDER BY subtype",
	[ST_BATCH_FILES_OF] = "SELECT key,records FROM batch_files WHERE source=?1 AND "
			      "subtype=?2 AND day=?3 ORDER BY key",
	/* a reset: every dated listing (API 1.0's stream has day 0 and only
	 * its token, which cannot go back) from ?2's start, its files again */
	[ST_BATCH_RESET_CUR] = "UPDATE batch_cursors SET day=?2,next_page='' WHERE source=?1 "
			       "AND day>0",
	[ST_BATCH_RESET_FILES] = "DELETE FROM batch_files WHERE source=?1 AND day>=?2",
};

/* ---- errors ------------------------------------------------------------ */

static int is_disk_full(sqlite3 *db, int rc)
{
	int ext = db ? sqlite3_extended_errcode(db) : rc;
	return (rc & 0xff) == SQLITE_FULL || (ext & 0xff) == SQLITE_FULL ||
	       (db && (ext & 0xff) == SQLITE_IOERR && sqlite3_system_errno(db) == ENOSPC);
}

/* Turns an SQLite failure into a message that says what to do. */
int sdb_fail(mw_store *s, int rc, const char *what, mw_err *e)
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
		mw_err_set(e, "%s: %s", s->path, sdb_damaged_fix);
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

sqlite3_stmt *sdb_stmt(mw_store *s, enum stmt_id id, mw_err *e)
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
		sdb_fail(s, rc, "preparing a statement", e);
		return NULL;
	}
	s->st[id] = st;
	return st;
}

/* Steps a statement that returns no rows; leaves it reset. */
int sdb_done(mw_store *s, sqlite3_stmt *st, const char *what, mw_err *e)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sdb_fail(s, rc, what, e);
	return 0;
}

int sdb_simple(mw_store *s, enum stmt_id id, const char *what, mw_err *e)
{
	sqlite3_stmt *st = sdb_stmt(s, id, e);

	return st ? sdb_done(s, st, what, e) : -1;
}

int sdb_begin(mw_store *s, mw_err *e)
{
	return sdb_simple(s, ST_BEGIN_IMM, "starting a transaction", e);
}

int sdb_commit(mw_store *s, mw_err *e)
{
	return sdb_simple(s, ST_COMMIT, "committing", e);
}

/* Undoes an open transaction after a failure; the first error stays in e. */
int sdb_abort(mw_store *s)
{
	mw_err ignored;

	for (int i = 0; i < ST_COUNT; i++)
		if (s->st[i])
			sqlite3_reset(s->st[i]);
	if (!sqlite3_get_autocommit(s->db))
		sdb_simple(s, ST_ROLLBACK, "rolling back", &ignored);
	return -1;
}

void sdb_copy_col(char *dst, size_t n, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(dst, n, "%s", t ? (const char *)t : "");
}

void sdb_bind_str(sqlite3_stmt *st, int i, const char *v)
{
	sqlite3_bind_text(st, i, v ? v : "", -1, SQLITE_STATIC);
}

int sdb_raw_exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

int sdb_read_row(mw_store *s, sqlite3_stmt *st, struct store_row *row, mw_err *e)
{
	row->rowid = sqlite3_column_int64(st, 0);
	row->integration = (const char *)sqlite3_column_text(st, 1);
	row->type = (const char *)sqlite3_column_text(st, 2);
	row->id = (const char *)sqlite3_column_text(st, 3);
	row->time = sqlite3_column_int64(st, 4);
	row->collected = sqlite3_column_int64(st, 5);
	row->json = (const char *)sqlite3_column_text(st, 6);
	row->json_len = (size_t)sqlite3_column_bytes(st, 6);
	row->revision = sqlite3_column_int64(st, 7);
	if (!row->integration || !row->type || !row->id || !row->json) {
		sqlite3_reset(st);
		mw_err_set(e, "%s: record %" PRId64 " has a NULL field: %s", s->path, row->rowid,
			   sdb_damaged_fix);
		return -1;
	}
	return 0;
}

int sdb_one_i64(mw_store *s, sqlite3_stmt *st, int64_t *v, const char *what, mw_err *e)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sdb_fail(s, rc, what, e);
	return rc == SQLITE_ROW;
}

int sdb_drop_record(mw_store *s, int64_t source, int64_t rowid, int threat, const char *what,
		    mw_err *e)
{
	sqlite3_stmt *st = sdb_stmt(s, ST_PRUNE_ONE, e);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, rowid);
	if (sdb_done(s, st, what, e) < 0 || !(st = sdb_stmt(s, ST_RUN_DROP_ONE, e)))
		return -1;
	sqlite3_bind_int64(st, 1, source);
	sqlite3_bind_int64(st, 2, rowid);
	sqlite3_bind_int(st, 3, threat);
	return sdb_done(s, st, what, e);
}

int64_t sdb_query_i64(mw_store *s, enum stmt_id id, int64_t bind1, int has_bind)
{
	mw_err e;
	sqlite3_stmt *st = sdb_stmt(s, id, &e);
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

/* ---- cursors.hours ----------------------------------------------------------- */

/* Calls fn for each "HOUR:N" of text; stops at anything else (a damaged
 * value counts for what parsed). */
static void hours_each(const char *text, void (*fn)(int64_t hour, int64_t n, void *ctx),
		       void *ctx)
{
	const char *p = text ? text : "";

	while (*p) {
		char *end;
		long long h = strtoll(p, &end, 10), n;

		if (end == p || *end != ':')
			return;
		p = end + 1;
		n = strtoll(p, &end, 10);
		if (end == p || (*end && *end != ','))
			return;
		fn(h, n, ctx);
		p = *end ? end + 1 : end;
	}
}

struct hours_out {
	mw_buf *b;
	int64_t hour, n, oldest;
	int added;
};

static void hours_keep(int64_t hour, int64_t n, void *ctx)
{
	struct hours_out *o = ctx;

	if (hour < o->oldest || hour > o->hour)
		return;
	if (hour == o->hour) {
		n += o->n;
		o->added = 1;
	}
	mw_buf_printf(o->b, "%s%" PRId64 ":%" PRId64, o->b->len ? "," : "", hour, n);
}

void sdb_hours_add(mw_buf *out, const char *old, int64_t hour, int64_t n)
{
	struct hours_out o = { out, hour, n, hour - (STORE_HOURS - 1), 0 };

	mw_buf_reset(out);
	hours_each(old, hours_keep, &o);
	if (!o.added)
		mw_buf_printf(out, "%s%" PRId64 ":%" PRId64, out->len ? "," : "", hour, n);
}

struct hours_sum {
	int64_t after, total;
};

static void hours_add_up(int64_t hour, int64_t n, void *ctx)
{
	struct hours_sum *x = ctx;

	if (hour > x->after)
		x->total += n;
}

int64_t sdb_hours_sum(const char *hours, int64_t after_hour)
{
	struct hours_sum x = { after_hour, 0 };

	hours_each(hours, hours_add_up, &x);
	return x.total;
}
