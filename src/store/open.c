/* store/open.c - opening the local store: SQLite in WAL mode, one connection per thread.
 *
 * Durability: every write is a transaction; with journal_mode=WAL a
 * committed transaction is in the -wal file before COMMIT returns, so it
 * survives kill -9 of the process even with synchronous=NORMAL (NORMAL only
 * risks the last transactions on a power loss, never corruption). That is
 * the trade the 50,000 records/s target needs: no fsync per page.
 *
 * A new store is built under a temporary name and linked into place only
 * once its schema is committed, so an existing store.db is always a complete
 * store: an empty or truncated one is damage, never "not created yet".
 *
 * Also here: the schema (version 1 and its in-place upgrades to 2 ... 8), the
 * checks that refuse a damaged, foreign or newer store, and the collector
 * lock. */
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


/* Version 1.
 *
 * Rowids. Outputs remember the last rowid they wrote, so a rowid must never
 * be handed out twice, even after pruning or deleting the newest rows. The
 * page commit numbers its rows itself, past the highest rowid ever handed
 * out (db.c, ST_SEQ_GET), and whatever deletes records first keeps that
 * mark in meta (rowid_high, ST_ROWID_KEEP). Stores made before this kept
 * the mark with AUTOINCREMENT, which SQLite writes to sqlite_sequence at
 * every insert: a page in the WAL per page commit, 6% of its frames, for a
 * mark that only a delete needs. Those stores keep their AUTOINCREMENT, and
 * ST_SEQ_GET reads its mark too.
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
	"CREATE TABLE records(rowid INTEGER PRIMARY KEY,"
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

/* Version 3 adds revisions of keyed records (store_rec.keyed: an
 * impersonation id names one log line, and Mimecast may serve that line
 * again with a changed verdict):
 * - records.revision: 0 for records that are not keyed, 1 for a keyed
 *   record's first content, +1 each time the same id arrives with other
 *   content (store_commit_page);
 * - records_keyed: the keyed rows by (source, id), a partial index, so URL
 *   and attachment records (most of a backfill) pay nothing for it;
 * - status.revised: how many revisions a source has stored.
 * The keyed types' records already stored become revision 1 (keyed_sql).
 * ADD COLUMN with a constant default rewrites no row. */
static const char schema_v3[] =
	"ALTER TABLE records ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE status ADD COLUMN revised INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX records_keyed ON records(source,id) WHERE revision>0;"
	"UPDATE meta SET value='3' WHERE key='schema_version';";

/* Version 4 adds events: the collector's recent events (store.h,
 * "events.c"), bounded to the newest STORE_EVENTS_KEEP by id. A new table:
 * nothing already stored changes. */
static const char schema_v4[] =
	"CREATE TABLE events(id INTEGER PRIMARY KEY, time INTEGER NOT NULL,"
	" integration TEXT NOT NULL DEFAULT '', type TEXT NOT NULL DEFAULT '',"
	" kind TEXT NOT NULL, text TEXT NOT NULL);"
	"UPDATE meta SET value='4' WHERE key='schema_version';";

/* Version 5 adds coverage (store.h, "coverage.c"):
 * - spans: per source, the spans of record time that completed windows
 *   read, merged as they touch (a few rows a source);
 * - backfills: windows over one span each, queued from the console and
 *   read beside the source's cursor, resumable like it.
 * A store upgraded from version 4 never recorded its windows, so its spans
 * are seeded from what it does know (span_seed_sql). */
static const char schema_v5[] =
	"CREATE TABLE spans(source INTEGER NOT NULL, t_from INTEGER NOT NULL,"
	" t_to INTEGER NOT NULL, PRIMARY KEY(source,t_from)) WITHOUT ROWID;"
	"CREATE TABLE backfills(id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" source INTEGER NOT NULL, t_from INTEGER NOT NULL, t_to INTEGER NOT NULL,"
	" state INTEGER NOT NULL DEFAULT 0, win_from INTEGER NOT NULL,"
	" win_progress INTEGER NOT NULL, page_token TEXT NOT NULL DEFAULT '',"
	" win_received INTEGER NOT NULL DEFAULT 0, win_restarted INTEGER NOT NULL DEFAULT 0,"
	" created INTEGER NOT NULL, updated INTEGER NOT NULL);"
	"CREATE INDEX backfills_source ON backfills(source,state,id);"
	"UPDATE meta SET value='5' WHERE key='schema_version';";

/* The seed of an upgraded store's spans: per source with a horizon, one
 * span from its oldest record (leaving out records dated outside their
 * window, whose dates mean nothing) up to the horizon, which promises
 * everything before it; with no such record, the day before the horizon
 * (the default lookback: the store does not know the config's). A reset
 * forward before the upgrade is not known, so its gap reads as collected;
 * gaps from then on are exact. */
static const char span_seed_sql[] =
	"INSERT OR REPLACE INTO spans(source,t_from,t_to) "
	"SELECT c.source, min(c.horizon, coalesce((SELECT min(r.time) FROM records r"
	" WHERE r.source=c.source AND r.id NOT IN (SELECT o.id FROM outside_seen o"
	" WHERE o.source=c.source)), c.horizon-86400)), c.horizon "
	"FROM cursors c WHERE c.horizon>0";

/* Version 6 makes a page's commit write fewer pages (HACKING, "Performance
 * targets"): each row a commit touches is a 16 KiB page in the WAL and
 * again at the checkpoint. records_source_threat, inserted into at each
 * source's end (the middle of the index), cost about 2.5 such pages and 100
 * index inserts per page of records; the hourly table and the status row's
 * total one page each.
 * - runs: one row per commit that stored records, (source, first, last):
 *   the commit's rows are the rowids first..last (all of that source; a row
 *   deleted since leaves a hole), n of them still stored. The console reads
 *   a source newest first through it, and counts with sum(n): a row per
 *   100 records instead of an index entry per record.
 * - records_threat: the rows with threat=1 by (source, rowid), a partial
 *   index: the "threats only" preview, a few percent of records.
 * - records_source_threat goes.
 * - cursors.total, cursors.last_new_at: moved from status, whose row a
 *   commit no longer writes; cursors.hours: the records stored per
 *   collection hour, the last 24 hours as "HOUR:N,..." (hours since the
 *   epoch). The cursor row, which every page's commit writes anyway,
 *   carries them; the hourly table goes, status.total and
 *   status.last_new_at stay unused (status.last_new_at: what the collector
 *   last noted, still).
 * runs is filled from the rowids stored (gaps and islands: consecutive
 * rowids of one source are one run), before the index goes. */
static const char schema_v6[] =
	"CREATE TABLE runs(source INTEGER NOT NULL, first INTEGER NOT NULL,"
	" last INTEGER NOT NULL, n INTEGER NOT NULL, PRIMARY KEY(source,first)) WITHOUT ROWID;"
	"INSERT INTO runs(source,first,last,n) SELECT source,min(rowid),max(rowid),count(*)"
	" FROM (SELECT source,rowid,rowid-row_number() OVER (PARTITION BY source"
	" ORDER BY rowid) AS island FROM records) GROUP BY source,island;"
	"CREATE INDEX records_threat ON records(source) WHERE threat=1;"
	"DROP INDEX IF EXISTS records_source_threat;"
	"ALTER TABLE cursors ADD COLUMN total INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE cursors ADD COLUMN last_new_at INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE cursors ADD COLUMN hours TEXT NOT NULL DEFAULT '';"
	"INSERT OR IGNORE INTO cursors(source) SELECT source FROM status"
	" UNION SELECT source FROM hourly;"
	"UPDATE cursors SET total=coalesce((SELECT st.total FROM status st"
	" WHERE st.source=cursors.source),0),"
	" last_new_at=coalesce((SELECT st.last_new_at FROM status st"
	" WHERE st.source=cursors.source),0),"
	" hours=coalesce((SELECT group_concat(hour||':'||n,',') FROM (SELECT hour,n FROM"
	" hourly h WHERE h.source=cursors.source ORDER BY hour)),'');"
	"DROP TABLE hourly;"
	"UPDATE meta SET value='6' WHERE key='schema_version';";

/* Version 7 makes the runs carry what indexes did, and adds the filter's.
 *
 * The threats are counted in their runs (runs.t) instead of indexed.
 * records_threat took an index page per commit, 1.1 of the 15.6 pages a
 * page's commit wrote to the WAL, and its upkeep; the "threats only"
 * preview now reads the runs that hold a threat (all of them when threats
 * are a few percent of records, a handful when they are rare: a run's rows
 * then cost what the index did) and counts with sum(t). t is counted from
 * the records before the index goes.
 *
 * records_keyed goes too: a keyed record's earlier content is found by its
 * (source, time, id), through the index every record has. Mimecast's ids
 * are compressed data (MTOKEN:eNq..., zlib in base64), so an index by id
 * alone took a random page per record: a page's commit of impersonation
 * records wrote some 5 pages of it at 30,000 records stored and one per
 * record beyond a few hundred thousand. The same id at another time is
 * another record, both kept, as the unique (source, time, id) already
 * said.
 *
 * The filter's index (grams.c): each run's summary of its records' values
 * (a Bloom filter of their trigrams, 128 bytes to 2 KiB; about 1 KiB for a
 * page of 100) and their time span, written by the page commit in the
 * run's own row, which it writes anyway (a table of its own cost a page
 * more in the WAL per commit). Runs from before the upgrade have none
 * (NULL) and are read, as every run was. */
static const char schema_v7[] =
	"DROP INDEX IF EXISTS records_keyed;"
	"ALTER TABLE runs ADD COLUMN t INTEGER NOT NULL DEFAULT 0;"
	"DROP INDEX IF EXISTS records_threat;"
	"UPDATE runs SET t=(SELECT count(*) FROM records r WHERE r.rowid BETWEEN runs.first"
	" AND runs.last AND +r.source=runs.source AND r.threat=1);"
	"ALTER TABLE runs ADD COLUMN tmin INTEGER;"
	"ALTER TABLE runs ADD COLUMN tmax INTEGER;"
	"ALTER TABLE runs ADD COLUMN grams BLOB;"
	"UPDATE meta SET value='7' WHERE key='schema_version';";

/* Version 8 adds batch files (HACKING, "Batch files"): the ledger of the
 * files taken per (source, sub-type, day, file key), written by the commit
 * that stores the file's records, and per (source, sub-type) the day being
 * read and the last listing token, written by the same commits. */
static const char schema_v8[] =
	"CREATE TABLE IF NOT EXISTS batch_files(source INTEGER NOT NULL,subtype TEXT NOT NULL,"
	"day INTEGER NOT NULL,key TEXT NOT NULL,records INTEGER NOT NULL,taken INTEGER NOT NULL,"
	"PRIMARY KEY(source,subtype,day,key)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS batch_cursors(source INTEGER NOT NULL,subtype TEXT NOT NULL,"
	"day INTEGER NOT NULL,next_page TEXT NOT NULL,PRIMARY KEY(source,subtype)) WITHOUT ROWID;"
	"UPDATE meta SET value='8' WHERE key='schema_version';";

/* The records of the keyed log types (those with an id field of their own)
 * made revision 1: run once, when an older store is upgraded. */
static void keyed_sql(mw_buf *b)
{
	int first = 1;

	mw_buf_puts(b, "UPDATE records SET revision=1 WHERE source IN "
		       "(SELECT id FROM sources WHERE type IN (");
	for (size_t i = 0; i < mw_nlogtypes; i++) {
		if (!mw_logtypes[i].id_field)
			continue;
		mw_buf_printf(b, "%s'%s'", first ? "" : ",", mw_logtypes[i].name);
		first = 0;
	}
	if (first)
		mw_buf_puts(b, "''");
	mw_buf_puts(b, "))");
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
	if ((rc = grams_register(s->db)) != SQLITE_OK)
		return sdb_fail(s, rc, "registering the filter's index function", e);
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
		return sdb_fail(s, rc, "switching to WAL mode", e);
	/* Checkpoints (a copy and an fsync) every 1000 pages, 16 MiB of WAL,
	 * rather than SQLite's 4 MiB: a third more pages per second when backfilling; the
	 * WAL file is cut back to 64 MiB after it grew past that. */
	/* A 16 MiB page cache keeps the hot end of the (source, time, id) index
	 * and the pages of the record table in memory during a backfill. */
	rc = sdb_raw_exec(s->db, "PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=1000;"
			     "PRAGMA journal_size_limit=67108864; PRAGMA cache_size=-16384");
	if (rc != SQLITE_OK)
		return sdb_fail(s, rc, "setting up the connection", e);
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
	rc = sqlite3_open_v2(tmp, &t.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
			     sdb_vfs_name());
	if (rc != SQLITE_OK) {
		sdb_fail(&t, rc, "creating the store", e);
		sqlite3_close(t.db);
		return -1;
	}
	snprintf(sql, sizeof sql, "PRAGMA application_id=%d", STORE_APP_ID);
	/* 16 KiB pages: a record is ~1 KiB, so a page commit writes a quarter
	 * as many WAL frames (and syscalls) as with 4 KiB. Only settable before
	 * the switch to WAL. */
	if ((rc = sdb_raw_exec(t.db, "PRAGMA page_size=16384")) != SQLITE_OK) {
		sdb_fail(&t, rc, "setting the page size", e);
		goto fail;
	}
	if (setup_connection(&t, e) < 0)
		goto fail;
	if ((rc = sdb_raw_exec(t.db, sql)) != SQLITE_OK ||
	    (rc = sdb_raw_exec(t.db, "BEGIN IMMEDIATE")) != SQLITE_OK ||
	    (rc = sdb_raw_exec(t.db, schema_v1)) != SQLITE_OK ||
	    (rc = sdb_raw_exec(t.db, schema_v2)) != SQLITE_OK ||
	    (rc = sdb_raw_exec(t.db, schema_v3)) != SQLITE_OK ||
	    (rc = sdb_raw_exec(t.db, schema_v4)) != SQLITE_OK ||
	    (rc = sdb_raw_exec(t.db, schema_v5)) != SQLITE_OK ||
	    (rc = sdb_raw_exec(t.db, schema_v6)) != SQLITE_OK ||
	    (rc = sdb_raw_exec(t.db, schema_v7)) != SQLITE_OK ||
	    (rc = sdb_raw_exec(t.db, schema_v8)) != SQLITE_OK ||
	    (rc = sdb_raw_exec(t.db, "COMMIT")) != SQLITE_OK) {
		sdb_fail(&t, rc, "creating the schema", e);
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

/* Brings a store of an older schema up to STORE_SCHEMA_VERSION, each
 * version's change in turn, in one transaction. Two processes may open the
 * same old store at once: the version is read again inside the write
 * transaction, so only one of them applies the change. */
static int migrate(mw_store *s, mw_err *e)
{
	char ver[32];
	mw_buf keyed;
	int rc = SQLITE_OK, v;

	if (store_meta_get(s, "schema_version", ver, sizeof ver) < 0 ||
	    atoi(ver) >= STORE_SCHEMA_VERSION)
		return 0;
	if ((rc = sdb_raw_exec(s->db, "BEGIN IMMEDIATE")) != SQLITE_OK)
		return sdb_fail(s, rc, "upgrading the store's schema", e);
	if (store_meta_get(s, "schema_version", ver, sizeof ver) < 0 ||
	    (v = atoi(ver)) >= STORE_SCHEMA_VERSION) {
		sdb_raw_exec(s->db, "ROLLBACK");
		return 0;
	}
	if (v < 2)
		rc = sdb_raw_exec(s->db, schema_v2);
	if (rc == SQLITE_OK && v < 3 && (rc = sdb_raw_exec(s->db, schema_v3)) == SQLITE_OK) {
		mw_buf_init(&keyed);
		keyed_sql(&keyed);
		rc = sdb_raw_exec(s->db, keyed.data);
		mw_buf_free(&keyed);
	}
	if (rc == SQLITE_OK && v < 4)
		rc = sdb_raw_exec(s->db, schema_v4);
	if (rc == SQLITE_OK && v < 5 && (rc = sdb_raw_exec(s->db, schema_v5)) == SQLITE_OK)
		rc = sdb_raw_exec(s->db, span_seed_sql);
	if (rc == SQLITE_OK && v < 6)
		rc = sdb_raw_exec(s->db, schema_v6);
	if (rc == SQLITE_OK && v < 7)
		rc = sdb_raw_exec(s->db, schema_v7);
	if (rc == SQLITE_OK && v < 8)
		rc = sdb_raw_exec(s->db, schema_v8);
	if (rc != SQLITE_OK || (rc = sdb_raw_exec(s->db, "COMMIT")) != SQLITE_OK) {
		sdb_fail(s, rc, "upgrading the store's schema", e);
		sdb_raw_exec(s->db, "ROLLBACK");
		return -1;
	}
	mw_log(1, "%s: upgraded from schema version %d to %d", s->path, v, STORE_SCHEMA_VERSION);
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
		return sdb_fail(s, rc, "reading the header", e);
	if (appid != STORE_APP_ID) {
		int64_t ntables = 0;
		rc = query_int(s->db, "SELECT count(*) FROM sqlite_master", &ntables);
		if (rc != SQLITE_OK)
			return sdb_fail(s, rc, "reading the schema", e);
		if (appid == 0 && ntables == 0) {
			mw_err_set(e, "%s: %s", s->path, sdb_damaged_fix);
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
		return sdb_fail(s, rc, "reading the schema", e);
	if (!have_meta) {
		mw_err_set(e, "%s: %s", s->path, sdb_damaged_fix);
		return -1;
	}
	rc = query_int(s->db, "SELECT count(*) FROM meta WHERE key='schema_version'", &nmeta);
	if (rc != SQLITE_OK)
		return sdb_fail(s, rc, "reading the schema version", e);
	if (nmeta != 1 || store_meta_get(s, "schema_version", ver, sizeof ver) < 0) {
		mw_err_set(e, "%s: %s", s->path, sdb_damaged_fix);
		return -1;
	}
	char *end;
	long v = strtol(ver, &end, 10);
	if (*end || end == ver || v < 1) {
		mw_err_set(e, "%s: %s", s->path, sdb_damaged_fix);
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
			     sdb_vfs_name());
	if (rc != SQLITE_OK) {
		sdb_fail(s, rc, "opening", e);
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	/* Before the first read: check_schema's can meet SQLITE_BUSY too, e.g.
	 * while another process checkpoints or closes its connection. */
	sqlite3_busy_handler(s->db, busy_wait, NULL);
	if (check_schema(s, e) < 0 || setup_connection(s, e) < 0 || migrate(s, e) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	store_close(s);
	return -1;
}

void store_close(mw_store *s)
{
	mw_err e;

	if (!s)
		return;
	/* events noted for a page commit that never came (store_event_defer) */
	if (s->db && store_event_flush(s, &e) < 0)
		mw_log(1, "cannot record events: %s", e.msg);
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_finalize(s->multi);
	grams_free(s->grams);
	sqlite3_close(s->db);
	free(s->path);
	free(s);
}

/* ---- lock --------------------------------------------------------------- */

int store_lock(const char *state_dir, int *fd, long *pid, mw_err *e)
{
	char *path, buf[32];
	int lfd, tries = 0, got;
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
	/* A console's or status's probe (store_lock_holder) holds a shared lock
	 * for microseconds, a collector an exclusive one for as long as it
	 * runs.  A shared lock of our own tells them apart at once: it fails
	 * only while the exclusive one is held (a console attaching to a run
	 * waits for nothing).  Only when shared holders alone stand in the
	 * way, a few tries a little apart. */
	while ((got = flock(lfd, LOCK_EX | LOCK_NB)) < 0 && errno == EWOULDBLOCK && ++tries < 5) {
		if (flock(lfd, LOCK_SH | LOCK_NB) < 0)
			break;          /* errno EWOULDBLOCK: a collector holds it */
		flock(lfd, LOCK_UN);
		usleep(20 * 1000);
	}
	if (got < 0) {
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
