/* test_store.c - the SQLite store: creation modes, refusal of foreign and
 * damaged files, pages and duplicates, cursors, status, requests, output
 * offsets and the console's incremental counts of them, the change mark,
 * retention, the collector lock and a real disk-full. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1  /* unshare, mount, mkdtemp alongside -std=c11 */
#endif
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <ftw.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "testutil.h"
#include "store/private.h"   /* the connection, for counting VM steps */

/* 2024-11-17T17:02:30Z, pinned through MIMEWATCH_NOW before any clock use. */
#define NOW 1731862950LL
#define HOUR (NOW / 3600)

struct fx {
	char dir[64];
	char state[128];
	char db[160];
	mw_store *s;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);

	snprintf(f->dir, sizeof f->dir, "/tmp/mw_store.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->state, sizeof f->state, "%s/state/sub", f->dir);
	snprintf(f->db, sizeof f->db, "%s/store.db", f->state);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->s);
	rm_rf(f->dir);
	free(f);
	return 0;
}

static mw_store *open_ok(struct fx *f)
{
	mw_err e = { "" };

	assert_int_equal(store_open(f->state, &f->s, &e), 0);
	assert_non_null(f->s);
	return f->s;
}

static int64_t source_ok(mw_store *s, const char *in, const char *type)
{
	mw_err e;
	int64_t id = 0;

	assert_int_equal(store_source(s, in, type, &id, &e), 0);
	assert_true(id > 0);
	return id;
}

static void write_file(const char *path, const void *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	close(fd);
}

/* Takes a store back to version 5: the counts in the status row, no runs
 * or hours, the hourly table and records_source_threat (through version 6:
 * records_threat and records_keyed, runs without t). */
#define UNDO_V6 \
	"CREATE INDEX records_threat ON records(source) WHERE threat=1;" \
	"CREATE INDEX records_keyed ON records(source,id) WHERE revision>0;" \
	"ALTER TABLE runs DROP COLUMN t;" \
	"INSERT OR IGNORE INTO status(source) SELECT source FROM cursors;" \
	"UPDATE status SET total=(SELECT c.total FROM cursors c WHERE c.source=status.source)," \
	" last_new_at=(SELECT c.last_new_at FROM cursors c WHERE c.source=status.source);" \
	"ALTER TABLE cursors DROP COLUMN total; ALTER TABLE cursors DROP COLUMN last_new_at;" \
	"ALTER TABLE cursors DROP COLUMN hours; DROP TABLE runs; DROP INDEX records_threat;" \
	"CREATE TABLE hourly(source INTEGER NOT NULL, hour INTEGER NOT NULL," \
	" n INTEGER NOT NULL, PRIMARY KEY(source,hour)) WITHOUT ROWID;" \
	"CREATE INDEX records_source_threat ON records(source,threat);" \
	"UPDATE meta SET value='5' WHERE key='schema_version'"

static void raw_sql(const char *db, const char *sql)
{
	sqlite3 *h;

	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
}

/* The one integer an SQL query gives, read through a connection of its own
 * (WAL: it sees what the store committed). */
static int64_t sql_i64(const char *db, const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	int64_t v = -1;

	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

/* n records "p<prefix>-<i>" with times t0 + i. */
static void commit_n(mw_store *s, int64_t src, const char *prefix, int from, int to,
		     int64_t t0, struct store_page_result *r)
{
	struct store_rec *recs = calloc((size_t)(to - from), sizeof *recs);
	char (*ids)[32] = calloc((size_t)(to - from), sizeof *ids);
	char (*js)[96] = calloc((size_t)(to - from), sizeof *js);
	mw_err e = { "" };

	for (int i = from; i < to; i++) {
		int k = i - from;
		snprintf(ids[k], sizeof ids[k], "%s-%d", prefix, i);
		snprintf(js[k], sizeof js[k], "{\"n\":%d,\"url\":\"https://x.example/%s\"}", i,
			 prefix);
		recs[k].id = ids[k];
		recs[k].time = t0 + i;
		recs[k].threat = i % 2;
		recs[k].json = js[k];
		recs[k].json_len = strlen(js[k]);
	}
	assert_int_equal(store_commit_page(s, src, recs, (size_t)(to - from), NULL, r, &e), 0);
	free(recs);
	free(ids);
	free(js);
}

static void make_state_dir(struct fx *f)
{
	mw_err e;

	assert_int_equal(mw_mkdir_p(f->state, &e), 0);
}

static mode_t mode_of(const char *p)
{
	struct stat sb;

	assert_int_equal(stat(p, &sb), 0);
	return sb.st_mode & 07777;
}

/* ---- creation and refusal --------------------------------------------- */

static void test_open_modes(void **state)
{
	struct fx *f = *state;
	char p[256];
	mode_t old = umask(0);
	struct store_page_result r;

	mw_store *s = open_ok(f);
	int64_t src = source_ok(s, "acme", "url");
	commit_n(s, src, "a", 0, 3, NOW, &r);
	umask(old);
	assert_int_equal(mode_of(f->state), 0700);
	snprintf(p, sizeof p, "%s/state", f->dir);
	assert_int_equal(mode_of(p), 0700);
	assert_int_equal(mode_of(f->db), 0600);
	snprintf(p, sizeof p, "%s-wal", f->db);
	assert_int_equal(mode_of(p), 0600);
	snprintf(p, sizeof p, "%s-shm", f->db);
	assert_int_equal(mode_of(p), 0600);
	/* No temporary store is left behind. */
	snprintf(p, sizeof p, "%s/store.db.new.%ld", f->state, (long)getpid());
	assert_int_equal(access(p, F_OK), -1);

	char v[16];
	assert_int_equal(store_meta_get(s, "schema_version", v, sizeof v), 0);
	assert_string_equal(v, "8");
	/* Reopening an existing store keeps its contents. */
	store_close(s);
	f->s = NULL;
	s = open_ok(f);
	assert_int_equal(store_count(s, src), 3);
}

static void expect_refused(struct fx *f, const char *needle)
{
	mw_err e = { "" };
	mw_store *s = NULL;

	assert_int_equal(store_open(f->state, &s, &e), -1);
	assert_null(s);
	if (!strstr(e.msg, needle) || !strstr(e.msg, f->db))
		fail_msg("message '%s' lacks '%s' or the file name", e.msg, needle);
}

static void test_refuse_garbage(void **state)
{
	struct fx *f = *state;
	char junk[8192];
	struct stat sb;

	make_state_dir(f);
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (char)("not a database\n"[i % 15]);
	write_file(f->db, junk, sizeof junk);
	expect_refused(f, "store.db is damaged: move it aside (mv store.db store.db.damaged) "
			  "to start a new store");
	/* Never silently recreated. */
	assert_int_equal(stat(f->db, &sb), 0);
	assert_int_equal(sb.st_size, (off_t)sizeof junk);
}

static void test_refuse_empty(void **state)
{
	struct fx *f = *state;
	struct stat sb;

	make_state_dir(f);
	write_file(f->db, "", 0);
	expect_refused(f, "store.db is damaged");
	assert_int_equal(stat(f->db, &sb), 0);
	assert_int_equal(sb.st_size, 0);

	/* A valid SQLite file with nothing in it is no store of ours either. */
	unlink(f->db);
	raw_sql(f->db, "PRAGMA user_version=3");
	expect_refused(f, "store.db is damaged");
}

static void test_refuse_foreign_and_newer(void **state)
{
	struct fx *f = *state;

	make_state_dir(f);
	raw_sql(f->db, "CREATE TABLE music(artist TEXT)");
	expect_refused(f, "not a mimewatch store");
	unlink(f->db);

	open_ok(f);
	store_close(f->s);
	f->s = NULL;
	raw_sql(f->db, "UPDATE meta SET value='9' WHERE key='schema_version'");
	expect_refused(f, "schema version 9, newer than this mimewatch understands (8)");
}

static void test_refuse_truncated(void **state)
{
	struct fx *f = *state;
	struct store_page_result r;
	struct stat sb;

	mw_store *s = open_ok(f);
	int64_t src = source_ok(s, "acme", "url");
	commit_n(s, src, "t", 0, 2000, NOW, &r);
	store_close(s);
	f->s = NULL;
	assert_int_equal(stat(f->db, &sb), 0);
	assert_true(sb.st_size > 8 * 4096);
	assert_int_equal(truncate(f->db, sb.st_size / 2), 0);
	expect_refused(f, "store.db is damaged");
}

/* ---- pages, cursors ------------------------------------------------------ */

static void test_commit_page_dups(void **state)
{
	struct fx *f = *state;
	struct store_page_result r;
	mw_store *s = open_ok(f);
	int64_t a = source_ok(s, "acme", "url");
	int64_t b = source_ok(s, "acme", "impersonation");

	assert_int_equal(source_ok(s, "acme", "url"), a);
	assert_true(a != b);
	commit_n(s, a, "x", 0, 10, NOW, &r);
	assert_int_equal(r.inserted, 10);
	assert_int_equal(r.duplicates, 0);
	/* 5 already stored, 3 new; the same ids under another source are new. */
	commit_n(s, a, "x", 5, 13, NOW, &r);
	assert_int_equal(r.inserted, 3);
	assert_int_equal(r.duplicates, 5);
	commit_n(s, b, "x", 0, 4, NOW, &r);
	assert_int_equal(r.inserted, 4);
	assert_int_equal(r.duplicates, 0);
	/* An empty page still commits (the cursor moves with it). */
	commit_n(s, a, "x", 0, 0, NOW, &r);
	assert_int_equal(r.inserted, 0);
	assert_int_equal(store_count(s, a), 13);
	assert_int_equal(store_count(s, b), 4);

	struct store_status *st;
	size_t n;
	mw_err e;
	assert_int_equal(store_list_status(s, &st, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(st[0].type, "url");
	assert_int_equal(st[0].total, 13);
	assert_int_equal(st[0].records_24h, 13);
	assert_int_equal(st[0].last_new_at, NOW);
	assert_string_equal(st[1].type, "impersonation");
	assert_int_equal(st[1].total, 4);
	free(st);
}

static void test_cursor_round_trip(void **state)
{
	struct fx *f = *state;
	mw_err e;
	struct store_cursor c, got;
	struct store_page_result r;
	struct store_rec rec = { "id-1", NOW - 50, 1, "{\"a\":1}", 7 };
	mw_store *s = open_ok(f);
	int64_t src = source_ok(s, "acme", "url");

	assert_int_equal(store_get_cursor(s, src, &got, &e), 0);
	assert_int_equal(got.horizon, 0);
	assert_int_equal(got.in_window, 0);
	assert_string_equal(got.page_token, "");

	memset(&c, 0, sizeof c);
	c.horizon = NOW - 3600;
	c.in_window = 1;
	c.win_from = NOW - 4200;
	c.win_to = NOW - 30;
	c.win_progress = NOW - 50;
	snprintf(c.page_token, sizeof c.page_token, "eyJwYWdlIjoy'\"%s", "fin");
	assert_int_equal(store_commit_page(s, src, &rec, 1, &c, &r, &e), 0);
	assert_int_equal(store_get_cursor(s, src, &got, &e), 0);
	assert_int_equal(got.horizon, NOW - 3600);
	assert_int_equal(got.in_window, 1);
	assert_int_equal(got.win_from, NOW - 4200);
	assert_int_equal(got.win_to, NOW - 30);
	assert_int_equal(got.win_progress, NOW - 50);
	assert_string_equal(got.page_token, "eyJwYWdlIjoy'\"fin");
	/* The status list carries the window: the console's backfill progress. */
	{
		struct store_status *st;
		size_t n;

		assert_int_equal(store_list_status(s, &st, &n, &e), 0);
		assert_int_equal(n, 1);
		assert_int_equal(st[0].in_window, 1);
		assert_int_equal(st[0].win_from, NOW - 4200);
		assert_int_equal(st[0].win_to, NOW - 30);
		assert_int_equal(st[0].win_progress, NOW - 50);
		assert_int_equal(st[0].win_received, c.win_received);
		free(st);
	}

	assert_int_equal(store_reset_cursor(s, src, NOW - 86400, &e), 0);
	assert_int_equal(store_get_cursor(s, src, &got, &e), 0);
	assert_int_equal(got.horizon, NOW - 86400);
	assert_int_equal(got.in_window, 0);
	assert_int_equal(got.win_from, 0);
	assert_int_equal(got.win_to, 0);
	assert_string_equal(got.page_token, "");
	/* Reset moves the horizon only; stored records stay. */
	assert_int_equal(store_count(s, src), 1);
}

/* ---- status ---------------------------------------------------------------- */

static void test_status_list(void **state)
{
	struct fx *f = *state;
	mw_err e;
	struct store_page_result r;
	struct store_status in, *v;
	size_t n;
	char sql[256];
	mw_store *s = open_ok(f);
	int64_t z = source_ok(s, "zeta", "url");
	int64_t aa = source_ok(s, "acme", "attachment");
	int64_t au = source_ok(s, "acme", "url");
	int64_t ai = source_ok(s, "acme", "impersonation");

	commit_n(s, au, "u", 0, 5, NOW, &r);
	/* The horizon is the cursor's (the collector's status row copies it);
	 * the commit above made the cursor row, to hold the counts. */
	assert_int_equal(store_reset_cursor(s, au, NOW - 7200, &e), 0);
	/* Buckets at the edge of the 24 h: 23 hours back counts, 24 does not. */
	snprintf(sql, sizeof sql,
		 "UPDATE cursors SET hours='%lld:100,%lld:7,%lld:5' WHERE source=%lld",
		 (long long)(HOUR - 24), (long long)(HOUR - 23), (long long)HOUR, (long long)au);
	raw_sql(f->db, sql);

	memset(&in, 0, sizeof in);
	in.source = au;
	snprintf(in.state, sizeof in.state, "throttled");
	in.last_attempt = NOW - 5;
	in.last_success = NOW - 65;
	in.next_poll = NOW + 295;
	snprintf(in.err_class, sizeof in.err_class, "retry");
	in.http_status = 429;
	snprintf(in.err_code, sizeof in.err_code, "err_rate_limit");
	snprintf(in.err_message, sizeof in.err_message, "Too many requests");
	snprintf(in.remedy, sizeof in.remedy, "wait: mimewatch retries by itself");
	in.records_last_poll = 5;
	in.total = 999999;          /* store-owned: ignored */
	in.records_24h = 999999;    /* store-owned: ignored */
	in.horizon = NOW - 7200;
	in.last_record_time = NOW - 100;
	in.rl_limit = 50;
	in.rl_remaining = 0;
	in.rl_reset_ms = 1500;
	in.throttled_until = NOW * 1000 + 1500;
	in.updated = NOW * 1000;
	assert_int_equal(store_put_status(s, &in, &e), 0);
	assert_int_equal(store_add_rejects(s, au, 2, &e), 0);
	assert_int_equal(store_add_rejects(s, au, 1, &e), 0);

	/* By names when the source id is not known yet. */
	memset(&in, 0, sizeof in);
	snprintf(in.integration, sizeof in.integration, "zeta");
	snprintf(in.type, sizeof in.type, "url");
	snprintf(in.state, sizeof in.state, "paused");
	in.paused = 1;
	assert_int_equal(store_put_status(s, &in, &e), 0);

	assert_int_equal(store_list_status(s, &v, &n, &e), 0);
	assert_int_equal(n, 4);
	assert_string_equal(v[0].integration, "acme");
	assert_string_equal(v[0].type, "url");
	assert_string_equal(v[1].type, "impersonation");
	assert_string_equal(v[2].type, "attachment");
	assert_string_equal(v[3].integration, "zeta");
	assert_int_equal(v[0].source, au);
	assert_int_equal(v[1].source, ai);
	assert_int_equal(v[2].source, aa);
	assert_int_equal(v[3].source, z);

	assert_string_equal(v[0].state, "throttled");
	assert_int_equal(v[0].last_attempt, NOW - 5);
	assert_int_equal(v[0].last_success, NOW - 65);
	assert_int_equal(v[0].next_poll, NOW + 295);
	assert_string_equal(v[0].err_class, "retry");
	assert_int_equal(v[0].http_status, 429);
	assert_string_equal(v[0].err_code, "err_rate_limit");
	assert_string_equal(v[0].err_message, "Too many requests");
	assert_string_equal(v[0].remedy, "wait: mimewatch retries by itself");
	assert_int_equal(v[0].records_last_poll, 5);
	assert_int_equal(v[0].total, 5);
	assert_int_equal(v[0].records_24h, 12);
	assert_int_equal(v[0].rejects, 3);
	assert_int_equal(v[0].last_new_at, NOW);
	assert_int_equal(v[0].horizon, NOW - 7200);
	assert_int_equal(v[0].last_record_time, NOW - 100);
	assert_int_equal(v[0].rl_limit, 50);
	assert_int_equal(v[0].rl_remaining, 0);
	assert_int_equal(v[0].rl_reset_ms, 1500);
	assert_int_equal(v[0].throttled_until, NOW * 1000 + 1500);
	assert_int_equal(v[0].updated, NOW * 1000);

	/* Never collected: defaults. */
	assert_string_equal(v[1].state, "idle");
	assert_string_equal(v[1].err_class, "ok");
	assert_int_equal(v[1].total, 0);
	assert_int_equal(v[1].records_24h, 0);
	assert_int_equal(v[1].rl_limit, -1);

	assert_string_equal(v[3].state, "paused");
	assert_int_equal(v[3].paused, 1);
	free(v);

	/* The cursor's horizon is the truth once there is one. */
	assert_int_equal(store_reset_cursor(s, au, NOW - 60, &e), 0);
	assert_int_equal(store_list_status(s, &v, &n, &e), 0);
	assert_int_equal(v[0].horizon, NOW - 60);
	free(v);
}

static void test_delete_integration(void **state)
{
	struct fx *f = *state;
	mw_err e;
	struct store_page_result r;
	struct store_status *v;
	size_t n;
	mw_store *s = open_ok(f);
	int64_t a = source_ok(s, "acme", "url");
	int64_t b = source_ok(s, "beta", "url");

	commit_n(s, a, "a", 0, 20, NOW, &r);
	commit_n(s, b, "b", 0, 7, NOW, &r);
	assert_int_equal(store_reset_cursor(s, a, NOW, &e), 0);
	assert_int_equal(store_delete_integration(s, "acme", &e), 0);
	assert_int_equal(store_count(s, a), 0);
	assert_int_equal(store_count(s, b), 7);
	assert_int_equal(store_list_status(s, &v, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].integration, "beta");
	free(v);
	/* Recreated, it starts afresh with a new id (rowids are never reused). */
	int64_t a2 = source_ok(s, "acme", "url");
	struct store_cursor c;
	assert_int_equal(store_get_cursor(s, a2, &c, &e), 0);
	assert_int_equal(c.horizon, 0);
	int64_t max = store_max_rowid(s);
	commit_n(s, a2, "a", 0, 1, NOW, &r);
	assert_int_equal(r.inserted, 1);
	assert_int_equal(store_max_rowid(s), 28);
	assert_int_equal(max, 27);
}

/* Rowids are never handed out twice (open.c, "Rowids"), whatever deletes
 * the last rows: an output that wrote up to the last rowid would otherwise
 * skip the records given those numbers again. A new store numbers rows
 * itself: no AUTOINCREMENT mark is written per page commit. */
static void test_rowids_never_reused(void **state)
{
	struct fx *f = *state;
	struct store_page_result r;
	mw_err e = { "" };
	mw_store *s = open_ok(f);
	int64_t a = source_ok(s, "acme", "url");
	int64_t imp = source_ok(s, "acme", "impersonation");
	int64_t b = source_ok(s, "beta", "url");
	struct store_rec keyed = { .id = "MTOKEN:k", .time = NOW - 50, .json = "{\"v\":1}",
				   .json_len = 7, .keyed = 1 };

	assert_int_equal(sql_i64(f->db, "SELECT count(*) FROM sqlite_master WHERE name='records'"
				 " AND sql LIKE '%AUTOINCREMENT%'"), 0);
	commit_n(s, a, "a", 0, 10, NOW - 1000, &r);
	commit_n(s, b, "b", 0, 5, NOW, &r);
	assert_int_equal(r.first_rowid, 11);
	assert_int_equal(store_max_rowid(s), 15);
	/* The newest integration goes, rows 11 .. 15 with it. */
	assert_int_equal(store_delete_integration(s, "beta", &e), 0);
	assert_int_equal(store_max_rowid(s), 10);
	commit_n(s, a, "a", 10, 12, NOW - 990, &r);
	assert_int_equal(r.inserted, 2);
	assert_int_equal(r.first_rowid, 16);
	assert_int_equal(store_max_rowid(s), 17);
	/* A revision of the newest row: the new content gets a new rowid. */
	assert_int_equal(store_commit_page(s, imp, &keyed, 1, NULL, &r, &e), 0);
	assert_int_equal(r.first_rowid, 18);
	keyed.json = "{\"v\":2}";
	assert_int_equal(store_commit_page(s, imp, &keyed, 1, NULL, &r, &e), 0);
	assert_int_equal(r.revised, 1);
	assert_int_equal(store_max_rowid(s), 19);
	assert_int_equal(sql_i64(f->db, "SELECT count(*) FROM records WHERE rowid=18"), 0);
	/* Retention takes every record, the last ones included. */
	assert_int_equal(store_prune(s, NOW + 1, store_max_rowid(s), &e), 13);
	assert_int_equal(store_max_rowid(s), 0);
	commit_n(s, a, "a", 20, 23, NOW - 100, &r);
	assert_int_equal(r.first_rowid, 20);
	assert_int_equal(store_max_rowid(s), 22);
	/* ... and after a restart too. */
	store_close(f->s);
	s = open_ok(f);
	assert_int_equal(store_delete_integration(s, "acme", &e), 0);
	store_close(f->s);
	s = open_ok(f);
	a = source_ok(s, "acme", "url");
	commit_n(s, a, "a", 0, 1, NOW, &r);
	assert_int_equal(r.first_rowid, 23);
	assert_int_equal(sql_i64(f->db, "SELECT count(*) FROM sqlite_sequence WHERE name='records'"),
			 0);
}

/* Sources whose runs count a number of threats (runs.t, schema 7) other
 * than the threats stored. */
static int64_t threats_off(struct fx *f)
{
	return sql_i64(f->db, "SELECT count(*) FROM (SELECT source, sum(t) AS s FROM runs"
		       " GROUP BY source) x WHERE s != (SELECT count(*) FROM records r"
		       " WHERE r.source=x.source AND r.threat=1)");
}

/* The runs' threat counts stay exact through what changes records: pages
 * with duplicates, a revision that clears a verdict, retention. */
static void test_run_threats_exact(void **state)
{
	struct fx *f = *state;
	struct store_page_result r;
	struct store_query q = { .threats_only = 1 };
	mw_err e = { "" };
	mw_store *s = open_ok(f);
	int64_t a = source_ok(s, "acme", "url");
	int64_t imp = source_ok(s, "acme", "impersonation");
	int64_t n = 0;
	struct store_rec keyed = { .id = "MTOKEN:k", .time = NOW - 50, .json = "{\"v\":1}",
				   .json_len = 7, .keyed = 1, .threat = 1 };

	commit_n(s, a, "a", 0, 300, NOW - 1000, &r);
	assert_int_equal(threats_off(f), 0);
	/* 50 duplicates among 150: the threats are counted from the rows */
	commit_n(s, a, "a", 250, 400, NOW - 1000, &r);
	assert_int_equal(r.inserted, 100);
	assert_int_equal(threats_off(f), 0);
	q.source = a;
	assert_int_equal(store_query_count(s, &q, 0, store_max_rowid(s), &n, &e), 0);
	assert_int_equal(n, 200);
	/* a count across runs' ends: rows 101 .. 400 hold 100 + 25 threats */
	assert_int_equal(store_query_count(s, &q, 100, 400, &n, &e), 0);
	assert_int_equal(n, 125);
	assert_int_equal(store_commit_page(s, imp, &keyed, 1, NULL, &r, &e), 0);
	q.source = imp;
	assert_int_equal(store_query_count(s, &q, 0, store_max_rowid(s), &n, &e), 0);
	assert_int_equal(n, 1);
	keyed.json = "{\"v\":2}";
	keyed.threat = 0;
	assert_int_equal(store_commit_page(s, imp, &keyed, 1, NULL, &r, &e), 0);
	assert_int_equal(r.revised, 1);
	assert_int_equal(store_query_count(s, &q, 0, store_max_rowid(s), &n, &e), 0);
	assert_int_equal(n, 0);
	assert_int_equal(threats_off(f), 0);
	/* retention takes the oldest 120 url records, 60 of them threats */
	assert_int_equal(store_prune(s, NOW - 1000 + 120, store_max_rowid(s), &e), 120);
	assert_int_equal(threats_off(f), 0);
	q.source = a;
	assert_int_equal(store_query_count(s, &q, 0, store_max_rowid(s), &n, &e), 0);
	assert_int_equal(n, 140);
}

/* Rename (issue 12.3): the sources keep their ids, so cursors, records (with
 * their rowids: outputs do not deliver them again) and status follow; a
 * name the store already holds is refused and nothing changes. */
static void test_rename_integration(void **state)
{
	struct fx *f = *state;
	mw_err e;
	struct store_page_result r;
	struct store_status *v;
	struct store_integration *ints;
	struct store_cursor c;
	struct store_request req;
	size_t n;
	int64_t id, found, max;
	mw_store *s = open_ok(f);
	int64_t a = source_ok(s, "acme", "url");
	int64_t b = source_ok(s, "beta", "url");

	commit_n(s, a, "a", 0, 20, NOW, &r);
	commit_n(s, b, "b", 0, 7, NOW, &r);
	assert_int_equal(store_reset_cursor(s, a, NOW - 100, &e), 0);
	assert_int_equal(store_request_add(s, "acme", "", MW_REQ_FETCH, "", &id, &e), 0);
	max = store_max_rowid(s);

	/* taken: refused, nothing changed */
	assert_int_equal(store_rename_integration(s, "acme", "beta", &e), -1);
	assert_non_null(strstr(e.msg, "beta"));
	assert_int_equal(store_find_source(s, "acme", "url", &found, &e), 1);
	assert_int_equal(found, a);

	assert_int_equal(store_rename_integration(s, "acme", "acme2", &e), 0);
	assert_int_equal(store_find_source(s, "acme", "url", &found, &e), 0);
	assert_int_equal(store_find_source(s, "acme2", "url", &found, &e), 1);
	assert_int_equal(found, a);
	assert_int_equal(source_ok(s, "acme2", "url"), a);
	assert_int_equal(store_count(s, a), 20);
	assert_int_equal(store_max_rowid(s), max);
	assert_int_equal(store_get_cursor(s, a, &c, &e), 0);
	assert_int_equal(c.horizon, NOW - 100);
	assert_int_equal(store_list_status(s, &v, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].integration, "acme2");
	assert_int_equal(v[0].total, 20);
	free(v);
	assert_int_equal(store_list_integrations(s, &ints, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(ints[0].name, "acme2");
	assert_int_equal(ints[0].records, 20);
	assert_string_equal(ints[1].name, "beta");
	assert_int_equal(ints[1].records, 7);
	free(ints);
	/* a request not yet taken follows the name */
	assert_int_equal(store_request_take(s, &req, &e), 1);
	assert_string_equal(req.integration, "acme2");
	/* the same records again are duplicates, not new */
	commit_n(s, a, "a", 0, 20, NOW, &r);
	assert_int_equal(r.inserted, 0);
}

/* ---- requests ------------------------------------------------------------- */

static void test_requests(void **state)
{
	struct fx *f = *state;
	mw_err e;
	int64_t id1, id2;
	int st;
	char res[64];
	struct store_request r;
	mw_store *s = open_ok(f);

	assert_int_equal(store_request_add(s, "acme", "", MW_REQ_FETCH, "", &id1, &e), 0);
	assert_int_equal(store_request_add(s, "", "", MW_REQ_RELOAD, "/etc/x.yaml", &id2, &e), 0);
	assert_true(id2 > id1);
	assert_int_equal(store_request_get(s, id1, &st, res, sizeof res, &e), 0);
	assert_int_equal(st, 0);

	/* Finishing one that was never taken is refused. */
	assert_int_equal(store_request_finish(s, id1, 1, "x", &e), -1);

	assert_int_equal(store_request_take(s, &r, &e), 1);
	assert_int_equal(r.id, id1);
	assert_string_equal(r.integration, "acme");
	assert_int_equal(r.action, MW_REQ_FETCH);
	assert_string_equal(r.action_name, "fetch");
	assert_int_equal(store_request_get(s, id1, &st, res, sizeof res, &e), 0);
	assert_int_equal(st, 1);
	assert_int_equal(store_request_finish(s, id1, 1, "fetched 12 records", &e), 0);
	assert_int_equal(store_request_get(s, id1, &st, res, sizeof res, &e), 0);
	assert_int_equal(st, 2);
	assert_string_equal(res, "fetched 12 records");
	assert_int_equal(store_request_finish(s, id1, 0, "again", &e), -1);

	assert_int_equal(store_request_take(s, &r, &e), 1);
	assert_int_equal(r.id, id2);
	assert_string_equal(r.arg, "/etc/x.yaml");
	assert_int_equal(store_request_finish(s, id2, 0, "config: bad", &e), 0);
	assert_int_equal(store_request_get(s, id2, &st, res, sizeof res, &e), 0);
	assert_int_equal(st, 3);
	assert_string_equal(res, "config: bad");

	assert_int_equal(store_request_take(s, &r, &e), 0);
	assert_int_equal(store_request_get(s, id2 + 100, &st, res, sizeof res, &e), -1);
}

/* ---- records by rowid, output offsets, retention ------------------------- */

struct seen {
	int64_t rowid[64];
	char name[64][96];
	int n, stop_after;
};

static int see(const struct store_row *row, void *ctx)
{
	struct seen *sn = ctx;

	sn->rowid[sn->n] = row->rowid;
	snprintf(sn->name[sn->n], sizeof sn->name[0], "%s/%s/%s/%.*s", row->integration,
		 row->type, row->id, (int)row->json_len, row->json);
	sn->n++;
	return sn->stop_after && sn->n >= sn->stop_after;
}

static void test_each_after(void **state)
{
	struct fx *f = *state;
	mw_err e;
	struct store_page_result r;
	struct seen sn;
	mw_store *s = open_ok(f);
	int64_t a = source_ok(s, "acme", "url");
	int64_t b = source_ok(s, "beta", "attachment");

	assert_int_equal(store_max_rowid(s), 0);
	commit_n(s, a, "a", 0, 2, NOW, &r);
	commit_n(s, b, "b", 0, 2, NOW, &r);
	commit_n(s, a, "a", 2, 3, NOW, &r);
	assert_int_equal(store_max_rowid(s), 5);

	memset(&sn, 0, sizeof sn);
	assert_int_equal(store_each_after(s, 0, 3, see, &sn, &e), 0);
	assert_int_equal(sn.n, 3);
	assert_int_equal(sn.rowid[0], 1);
	assert_int_equal(sn.rowid[2], 3);
	assert_string_equal(sn.name[0], "acme/url/a-0/{\"n\":0,\"url\":\"https://x.example/a\"}");
	assert_string_equal(sn.name[2], "beta/attachment/b-0/{\"n\":0,\"url\":\"https://x.example/b\"}");

	memset(&sn, 0, sizeof sn);
	assert_int_equal(store_each_after(s, 3, 100, see, &sn, &e), 0);
	assert_int_equal(sn.n, 2);
	assert_int_equal(sn.rowid[0], 4);
	assert_int_equal(sn.rowid[1], 5);
	assert_string_equal(sn.name[1], "acme/url/a-2/{\"n\":2,\"url\":\"https://x.example/a\"}");

	memset(&sn, 0, sizeof sn);
	sn.stop_after = 1;
	assert_int_equal(store_each_after(s, 0, 100, see, &sn, &e), 0);
	assert_int_equal(sn.n, 1);

	memset(&sn, 0, sizeof sn);
	assert_int_equal(store_each_after(s, 5, 100, see, &sn, &e), 0);
	assert_int_equal(sn.n, 0);
}

static void test_output_offsets(void **state)
{
	struct fx *f = *state;
	mw_err e;
	int64_t last = -1;
	struct store_file_size *v, commit[2];
	size_t n;
	mw_store *s = open_ok(f);

	assert_int_equal(store_output_get(s, "ndjson", &last, &e), 0);
	assert_int_equal(last, 0);
	assert_int_equal(store_output_register(s, "ndjson", "/o/b.ndjson", 10, &e), 0);
	/* Registering again never moves a committed size. */
	assert_int_equal(store_output_register(s, "ndjson", "/o/b.ndjson", 99, &e), 0);
	assert_int_equal(store_output_register(s, "other", "/p/z.ndjson", 1, &e), 0);
	assert_int_equal(store_output_files(s, "ndjson", &v, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].path, "/o/b.ndjson");
	assert_int_equal(v[0].size, 10);
	free(v);

	memset(commit, 0, sizeof commit);
	snprintf(commit[0].path, sizeof commit[0].path, "/o/b.ndjson");
	commit[0].size = 250;
	snprintf(commit[1].path, sizeof commit[1].path, "/o/a.ndjson");
	commit[1].size = 40;
	assert_int_equal(store_output_commit(s, "ndjson", 17, commit, 2, &e), 0);
	assert_int_equal(store_output_get(s, "ndjson", &last, &e), 0);
	assert_int_equal(last, 17);
	assert_int_equal(store_output_get(s, "other", &last, &e), 0);
	assert_int_equal(last, 0);
	assert_int_equal(store_output_files(s, "ndjson", &v, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].path, "/o/a.ndjson");
	assert_int_equal(v[0].size, 40);
	assert_string_equal(v[1].path, "/o/b.ndjson");
	assert_int_equal(v[1].size, 250);
	free(v);

	assert_int_equal(store_output_forget(s, "ndjson", "/o/a.ndjson", &e), 0);
	assert_int_equal(store_output_files(s, "ndjson", &v, &n, &e), 0);
	assert_int_equal(n, 1);
	free(v);
	assert_int_equal(store_output_status(s, "ndjson", "error", "disk full", &e), 0);
	assert_int_equal(store_output_get(s, "ndjson", &last, &e), 0);
	assert_int_equal(last, 17);
}

static int count_steps(void *ctx)
{
	(*(int64_t *)ctx)++;
	return 0;
}

static void test_prune(void **state)
{
	struct fx *f = *state;
	mw_err e;
	struct store_page_result r;
	mw_store *s = open_ok(f);
	int64_t a = source_ok(s, "acme", "url");

	/* rowids 1..6000 with time NOW-10000+i-1; then 6001..6010 old again. */
	commit_n(s, a, "p", 0, 6000, NOW - 10000, &r);
	commit_n(s, a, "q", 0, 10, NOW - 20000, &r);
	assert_int_equal(store_count(s, a), 6010);
	/* Nothing old: found through the (source, time, id) index, not by
	 * reading the 6,010 rows (one VM step each, at least). */
	int64_t steps = 0;
	sqlite3_progress_handler(s->db, 1, count_steps, &steps);
	assert_int_equal(store_prune(s, NOW - 30000, 6010, &e), 0);
	sqlite3_progress_handler(s->db, 0, NULL, NULL);
	print_message("a prune that finds nothing: %lld VM steps\n", (long long)steps);
	assert_true(steps < 600);
	/* Delivered up to 5500; older than NOW-10000+3000: rowids 1..3000. */
	assert_int_equal(store_prune(s, NOW - 10000 + 3000, 5500, &e), 3000);
	assert_int_equal(store_count(s, a), 3010);
	assert_int_equal(sql_i64(f->db, "SELECT count(*) FROM records"), 3010);
	/* Old but undelivered records (6001..6010) stay until delivered. */
	assert_int_equal(store_prune(s, NOW, 6000, &e), 3000);
	assert_int_equal(store_count(s, a), 10);
	assert_int_equal(store_prune(s, NOW, 6010, &e), 10);
	assert_int_equal(store_count(s, a), 0);
	assert_int_equal(store_prune(s, NOW, 6010, &e), 0);
	/* Totals are history: pruning does not undo them. */
	struct store_status *v;
	size_t n;
	assert_int_equal(store_list_status(s, &v, &n, &e), 0);
	assert_int_equal(v[0].total, 6010);
	free(v);
	/* And rowids are not reused after the newest rows are gone. */
	commit_n(s, a, "z", 0, 1, NOW, &r);
	assert_int_equal(store_max_rowid(s), 6011);
}

/* max_store and pass-through (HACKING, "The store's budget and
 * pass-through"): only delivered records, and none a window may read
 * again: oldest first the newest record received less the overlap, newest
 * first the window's start, a queued backfill's start; no cursor, no
 * limit. */
static void set_window(mw_store *s, int64_t src, int in_window, int64_t horizon, int64_t from,
		       int64_t progress)
{
	struct store_cursor c = { .horizon = horizon, .in_window = in_window, .win_from = from,
				  .win_to = NOW, .win_progress = progress };
	mw_err e;

	assert_int_equal(store_commit_page(s, src, NULL, 0, &c, NULL, &e), 0);
}

static void test_prune_delivered(void **state)
{
	struct fx *f = *state;
	struct store_page_result r;
	struct store_size sz;
	mw_store *s = open_ok(f);
	int64_t url = source_ok(s, "acme", "url"), audit = source_ok(s, "acme", "audit");
	int64_t hb = source_ok(s, "acme", "heartbeat"), bf;
	mw_err e;

	commit_n(s, url, "u", 0, 1000, NOW - 10000, &r);   /* rowids 1..1000 */
	commit_n(s, audit, "a", 0, 100, NOW - 5000, &r);   /* 1001..1100 */
	commit_n(s, hb, "h", 0, 5, NOW - 100, &r);         /* 1101..1105 */
	set_window(s, url, 1, 0, NOW - 10000, NOW - 10000 + 600);
	set_window(s, audit, 1, 0, NOW - 5000 + 50, NOW - 5000 + 99);
	/* Delivered up to 500: those, all older than url's horizon (590). */
	assert_int_equal(store_prune_delivered(s, 500, 10, -1, &e), 500);
	/* All delivered: url to 589, audit before its window's start less the
	 * overlap (40; by its progress it would be 89), every heartbeat. */
	assert_int_equal(store_prune_delivered(s, 1105, 10, -1, &e), 90 + 40 + 5);
	assert_int_equal(store_count(s, url), 410);
	assert_int_equal(store_count(s, audit), 60);
	assert_int_equal(store_count(s, hb), 0);
	assert_int_equal(store_pruned_before(s, url), NOW - 10000 + 589);
	assert_int_equal(store_pruned_before(s, hb), NOW - 100 + 4);
	assert_int_equal(store_pruned_before(s, audit), NOW - 5000 + 39);
	/* Between windows the horizon counts; a queued backfill reads from its
	 * start. */
	set_window(s, url, 0, NOW - 10000 + 900, 0, 0);
	assert_int_equal(store_backfill_add(s, url, NOW - 10000 + 700, NOW - 10000 + 800, &bf, &e),
			 0);
	assert_int_equal(store_prune_delivered(s, 1105, 10, -1, &e), 100);
	/* A budget already kept deletes nothing. */
	assert_int_equal(store_size(s, &sz, &e), 0);
	assert_true(sz.used > 0 && sz.used % 16384 == 0);
	assert_int_equal(store_prune_delivered(s, 1105, 10, sz.used, &e), 0);
	assert_int_equal(store_count(s, url), 310);
	/* The rowids of deleted records are never handed out again. */
	commit_n(s, hb, "z", 0, 1, NOW, &r);
	assert_int_equal(store_max_rowid(s), 1106);
}

/* ---- what the console shows of an output, kept up incrementally ----------- */

/* store_output_info_cached agrees with the full count, and costs the VM
 * steps of what changed since the last call, not of the whole store. */
static int64_t info_steps(mw_store *s, const char *out, struct store_output_cache *c,
			  struct store_output_info *oi)
{
	struct store_output_info full;
	int64_t steps = 0;
	mw_err e = { "" };

	sqlite3_progress_handler(s->db, 1, count_steps, &steps);
	assert_int_equal(store_output_info_cached(s, out, c, oi, &e), 0);
	sqlite3_progress_handler(s->db, 0, NULL, NULL);
	assert_int_equal(store_output_info(s, out, &full, &e), 0);
	assert_int_equal(oi->delivered, full.delivered);
	assert_int_equal(oi->lag_records, full.lag_records);
	assert_int_equal(oi->last_rowid, full.last_rowid);
	assert_string_equal(oi->state, full.state);
	return steps;
}

static void deliver_to(mw_store *s, const char *out, int64_t rowid)
{
	mw_err e = { "" };

	assert_int_equal(store_output_commit(s, out, rowid, NULL, 0, &e), 0);
}

static void test_output_info_cached(void **state)
{
	struct fx *f = *state;
	struct store_output_cache c, other;
	struct store_output_info oi;
	struct store_page_result r;
	mw_err e = { "" };
	mw_store *s = open_ok(f);
	int64_t url = source_ok(s, "acme", "url");
	int64_t imp = source_ok(s, "acme", "impersonation");
	int64_t gone = source_ok(s, "beta", "url");
	int64_t full, step;
	struct store_rec keyed = { .id = "MTOKEN:k", .time = NOW - 50, .json = "{\"v\":1}",
				   .json_len = 7, .keyed = 1 };

	memset(&c, 0, sizeof c);
	memset(&other, 0, sizeof other);
	for (int i = 0; i < 20000; i += 1000)
		commit_n(s, url, "a", i, i + 1000, NOW - 30000, &r);
	commit_n(s, gone, "g", 0, 100, NOW - 100, &r);
	assert_int_equal(store_commit_page(s, imp, &keyed, 1, NULL, &r, &e), 0);
	deliver_to(s, "nd", 15000);
	full = info_steps(s, "nd", &c, &oi);
	assert_int_equal(oi.delivered, 15000);
	assert_int_equal(oi.lag_records, 5101);
	print_message("the first count of 20,101 records: %lld VM steps\n", (long long)full);
	/* Counted from the runs (db.c), not record by record. */
	assert_true(full < 20101 / 10);
	/* Idle: nothing moved. */
	step = info_steps(s, "nd", &c, &oi);
	print_message("idle: %lld VM steps\n", (long long)step);
	assert_true(step * 4 < full);
	/* The output catches up; then new records, a delivery: only those
	 * are counted. */
	deliver_to(s, "nd", store_max_rowid(s));
	info_steps(s, "nd", &c, &oi);
	assert_int_equal(oi.lag_records, 0);
	commit_n(s, url, "b", 0, 10, NOW - 10, &r);
	deliver_to(s, "nd", store_max_rowid(s) - 3);
	step = info_steps(s, "nd", &c, &oi);
	assert_int_equal(oi.lag_records, 3);
	print_message("10 new, 7 delivered: %lld VM steps\n", (long long)step);
	assert_true(step < 20101 / 10);
	/* A revision drops a row (below the offset): counted again, right. */
	keyed.json = "{\"v\":2}";
	assert_int_equal(store_commit_page(s, imp, &keyed, 1, NULL, &r, &e), 0);
	assert_int_equal(r.revised, 1);
	info_steps(s, "nd", &c, &oi);
	assert_int_equal(oi.lag_records, 4);
	/* Retention, then deleting an integration: right again. */
	assert_true(store_prune(s, NOW - 30000 + 500, store_max_rowid(s), &e) == 500);
	info_steps(s, "nd", &c, &oi);
	assert_int_equal(store_delete_integration(s, "beta", &e), 0);
	info_steps(s, "nd", &c, &oi);
	assert_int_equal(oi.delivered + oi.lag_records, 20000 - 500 + 10 + 1);
	/* An offset moved back, another output, one cache for two names. */
	deliver_to(s, "nd", 100);
	info_steps(s, "nd", &c, &oi);
	info_steps(s, "other", &other, &oi);
	assert_int_equal(oi.delivered, 0);
	assert_string_equal(oi.state, "idle");
	info_steps(s, "nd", &other, &oi);
	step = info_steps(s, "nd", &c, &oi);
	assert_true(step < 20101 / 10);
}

static void test_change_mark(void **state)
{
	struct fx *f = *state;
	struct store_mark a, b;
	struct store_page_result r;
	mw_store *s = open_ok(f), *other;
	mw_err e = { "" };
	int64_t url = source_ok(s, "acme", "url");

	assert_int_equal(store_open(f->state, &other, &e), 0);
	assert_int_equal(store_change_mark(s, &a), 0);
	assert_int_equal(store_change_mark(s, &b), 0);
	assert_memory_equal(&a, &b, sizeof a);
	/* This connection's own commit moves it, */
	commit_n(s, url, "m", 0, 2, NOW, &r);
	assert_int_equal(store_change_mark(s, &b), 0);
	assert_memory_not_equal(&a, &b, sizeof a);
	/* and so does another connection's. */
	a = b;
	assert_int_equal(store_meta_set(other, "x", "1", &e), 0);
	assert_int_equal(store_change_mark(s, &b), 0);
	assert_memory_not_equal(&a, &b, sizeof a);
	a = b;
	assert_int_equal(store_change_mark(s, &b), 0);
	assert_memory_equal(&a, &b, sizeof a);
	store_close(other);
}

static void test_meta(void **state)
{
	struct fx *f = *state;
	mw_err e;
	char v[32];
	mw_store *s = open_ok(f);

	assert_int_equal(store_meta_get(s, "collector_pid", v, sizeof v), -1);
	assert_int_equal(store_meta_set(s, "collector_pid", "4242", &e), 0);
	assert_int_equal(store_meta_set(s, "collector_pid", "4243", &e), 0);
	assert_int_equal(store_meta_get(s, "collector_pid", v, sizeof v), 0);
	assert_string_equal(v, "4243");
	assert_int_equal(store_meta_set(s, "schema_version", "9", &e), -1);
}

/* ---- lock ------------------------------------------------------------------ */

/* A version 1 store (before win_received, win_restarted, warning and
 * outside) is upgraded in place on open, keeping its cursors and records. */
static void test_upgrade_v1(void **state)
{
	struct fx *f = *state;
	mw_store *s = open_ok(f);
	int64_t src = source_ok(s, "acme", "url");
	struct store_cursor c, got;
	struct store_status st, *list = NULL;
	size_t n = 0;
	mw_err e = { "" };
	char v[16];

	commit_n(s, src, "r", 0, 5, 1000, NULL);
	memset(&c, 0, sizeof c);
	c.horizon = 4242;
	assert_int_equal(store_reset_cursor(s, src, 4242, &e), 0);
	store_close(s);
	f->s = NULL;
	raw_sql(f->db, UNDO_V6);
	raw_sql(f->db, "DROP INDEX records_keyed;"
		       "ALTER TABLE records DROP COLUMN revision;"
		       "ALTER TABLE status DROP COLUMN revised;"
		       "ALTER TABLE cursors DROP COLUMN win_received;"
		       "ALTER TABLE cursors DROP COLUMN win_restarted;"
		       "ALTER TABLE status DROP COLUMN warning;"
		       "ALTER TABLE status DROP COLUMN outside;"
		       "DROP TABLE outside_seen;"
		       "DROP TABLE events; DROP TABLE spans; DROP TABLE backfills;"
		       "UPDATE meta SET value='1' WHERE key='schema_version'");
	s = open_ok(f);
	assert_int_equal(store_meta_get(s, "schema_version", v, sizeof v), 0);
	assert_string_equal(v, "8");
	assert_int_equal(store_count(s, src), 5);
	assert_int_equal(store_get_cursor(s, src, &got, &e), 0);
	assert_int_equal(got.horizon, 4242);
	assert_int_equal(got.win_received, 0);
	/* The new columns work. */
	c.in_window = 1;
	c.win_from = 100;
	c.win_to = 200;
	c.win_received = 77;
	c.win_restarted = 1;
	assert_int_equal(store_commit_page(s, src, NULL, 0, &c, NULL, &e), 0);
	assert_int_equal(store_get_cursor(s, src, &got, &e), 0);
	assert_int_equal(got.win_received, 77);
	assert_int_equal(got.win_restarted, 1);
	memset(&st, 0, sizeof st);
	st.source = src;
	snprintf(st.warning, sizeof st.warning, "clock skew");
	assert_int_equal(store_put_status(s, &st, &e), 0);
	/* A record dated outside its window: stored and counted once; served
	 * again, even after retention pruned it, never stored again. */
	struct store_rec far = { .id = "far-1", .time = 86400, .json = "{\"d\":1}", .json_len = 7,
				 .outside = 1 };
	struct store_page_result pr;
	assert_int_equal(store_commit_page(s, src, &far, 1, NULL, &pr, &e), 0);
	assert_int_equal(pr.inserted, 1);
	assert_int_equal(pr.outside, 1);
	assert_int_equal(store_commit_page(s, src, &far, 1, NULL, &pr, &e), 0);
	assert_int_equal(pr.inserted, 0);
	raw_sql(f->db, "DELETE FROM records WHERE id='far-1'");
	assert_int_equal(store_commit_page(s, src, &far, 1, NULL, &pr, &e), 0);
	assert_int_equal(pr.inserted, 0);
	assert_int_equal(pr.duplicates, 1);
	assert_int_equal(sql_i64(f->db, "SELECT count(*) FROM records"), 5);
	assert_int_equal(store_list_status(s, &list, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].warning, "clock skew");
	assert_int_equal(list[0].outside, 1);
	free(list);
}

/* A version 2 store: its impersonation records become revision 1 (so a
 * changed line that arrives after the upgrade is a revision of them), the
 * others stay 0. */
static void test_upgrade_v2(void **state)
{
	struct fx *f = *state;
	mw_store *s = open_ok(f);
	int64_t url = source_ok(s, "acme", "url");
	int64_t imp = source_ok(s, "acme", "impersonation");
	struct store_rec a = { .id = "MTOKEN:a", .time = 1000, .json = "{\"v\":1}",
			       .json_len = 7, .keyed = 1 };
	struct store_page_result pr;
	mw_err e = { "" };
	char v[16];

	commit_n(s, url, "u", 0, 3, 1000, NULL);
	assert_int_equal(store_commit_page(s, imp, &a, 1, NULL, &pr, &e), 0);
	store_close(s);
	f->s = NULL;
	raw_sql(f->db, UNDO_V6);
	raw_sql(f->db, "DROP INDEX records_keyed;"
		       "ALTER TABLE records DROP COLUMN revision;"
		       "ALTER TABLE status DROP COLUMN revised;"
		       "DROP TABLE events; DROP TABLE spans; DROP TABLE backfills;"
		       "UPDATE meta SET value='2' WHERE key='schema_version'");
	s = open_ok(f);
	assert_int_equal(store_meta_get(s, "schema_version", v, sizeof v), 0);
	assert_string_equal(v, "8");
	assert_int_equal(sql_i64(f->db, "SELECT count(*) FROM records WHERE revision=1"), 1);
	assert_int_equal(sql_i64(f->db, "SELECT count(*) FROM records WHERE revision=0"), 3);
	/* the same content is a duplicate, other content revision 2 */
	assert_int_equal(store_commit_page(s, imp, &a, 1, NULL, &pr, &e), 0);
	assert_int_equal(pr.duplicates, 1);
	a.json = "{\"v\":2}";
	assert_int_equal(store_commit_page(s, imp, &a, 1, NULL, &pr, &e), 0);
	assert_int_equal(pr.revised, 1);
	assert_int_equal(sql_i64(f->db, "SELECT revision FROM records WHERE id='MTOKEN:a'"), 2);
}

/* A version 3 store gains the events table in place, keeping its records
 * and cursors; events work at once. */
static void test_upgrade_v3(void **state)
{
	struct fx *f = *state;
	mw_store *s = open_ok(f);
	int64_t src = source_ok(s, "acme", "url");
	struct store_cursor c = { .horizon = 4242 }, got;
	struct store_event *ev;
	size_t n;
	mw_err e = { "" };
	char v[16];

	commit_n(s, src, "u", 0, 5, 1000, NULL);
	assert_int_equal(store_commit_page(s, src, NULL, 0, &c, NULL, &e), 0);
	store_close(s);
	f->s = NULL;
	raw_sql(f->db, UNDO_V6);
	raw_sql(f->db, "DROP TABLE events; DROP TABLE spans; DROP TABLE backfills;"
		       "UPDATE meta SET value='3' WHERE key='schema_version'");
	assert_int_equal(sql_i64(f->db, "SELECT count(*) FROM sqlite_master WHERE "
					"name='events'"), 0);
	s = open_ok(f);
	assert_int_equal(store_meta_get(s, "schema_version", v, sizeof v), 0);
	assert_string_equal(v, "8");
	assert_int_equal(store_count(s, src), 5);
	assert_int_equal(store_get_cursor(s, src, &got, &e), 0);
	assert_int_equal(got.horizon, 4242);
	assert_int_equal(store_events_newest(s), 0);
	assert_int_equal(store_event_add(s, "acme", "url", "retry", "HTTP 503", &e), 0);
	assert_int_equal(store_events_list(s, 0, 0, &ev, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ev[0].kind, "retry");
	assert_int_equal(ev[0].time, NOW);
	free(ev);
}

/* Coverage (schema 5): a completed window's span merges with those it
 * touches or overlaps; one apart stays apart (a gap); a commit without
 * covered_to writes no span (pages pay nothing). */
static void test_spans_merge(void **state)
{
	struct fx *f = *state;
	mw_store *s = open_ok(f);
	int64_t src = source_ok(s, "acme", "url"), other = source_ok(s, "acme", "attachment");
	struct store_cursor c = { .horizon = 0, .in_window = 1, .win_from = 1000, .win_to = 2000 };
	struct store_coverage cov;
	mw_err e = { "" };

	assert_int_equal(store_commit_page(s, src, NULL, 0, &c, NULL, &e), 0);
	assert_int_equal(sql_i64(f->db, "SELECT count(*) FROM spans"), 0);
	c.in_window = 0;
	c.horizon = 2000;
	c.covered_from = 1000;
	c.covered_to = 2000;
	assert_int_equal(store_commit_page(s, src, NULL, 0, &c, NULL, &e), 0);
	assert_int_equal(store_span_add(s, src, 5000, 6000, &e), 0);
	assert_int_equal(store_span_add(s, other, 1500, 5500, &e), 0);
	assert_int_equal(store_coverage(s, src, 0, 10000, 0, &cov, &e), 0);
	assert_int_equal(cov.nspans, 2);
	assert_int_equal(cov.spans[0].from, 1000);
	assert_int_equal(cov.spans[0].to, 2000);
	assert_int_equal(cov.spans[1].from, 5000);
	assert_int_equal(cov.first_span, 1000);
	store_coverage_free(&cov);
	/* overlapping the first, touching (one second on) the second: one span */
	assert_int_equal(store_span_add(s, src, 1900, 4999, &e), 0);
	assert_int_equal(store_coverage(s, src, 0, 10000, 0, &cov, &e), 0);
	assert_int_equal(cov.nspans, 1);
	assert_int_equal(cov.spans[0].from, 1000);
	assert_int_equal(cov.spans[0].to, 6000);
	store_coverage_free(&cov);
	/* inside it: nothing changes; two seconds apart: a gap of one */
	assert_int_equal(store_span_add(s, src, 1200, 1300, &e), 0);
	assert_int_equal(store_span_add(s, src, 6002, 7000, &e), 0);
	assert_int_equal(store_coverage(s, src, 0, 10000, 0, &cov, &e), 0);
	assert_int_equal(cov.nspans, 2);
	assert_int_equal(cov.spans[0].to, 6000);
	assert_int_equal(cov.spans[1].from, 6002);
	store_coverage_free(&cov);
	/* the other source's span is its own */
	assert_int_equal(store_coverage(s, other, 0, 10000, 0, &cov, &e), 0);
	assert_int_equal(cov.nspans, 1);
	assert_int_equal(cov.spans[0].from, 1500);
	store_coverage_free(&cov);
	/* deleting the integration takes them */
	assert_int_equal(store_delete_integration(s, "acme", &e), 0);
	assert_int_equal(sql_i64(f->db, "SELECT count(*) FROM spans"), 0);
}

/* Records per hour of record time, and a reset's gap reason. */
static void test_coverage_counts(void **state)
{
	struct fx *f = *state;
	mw_store *s = open_ok(f);
	int64_t src = source_ok(s, "acme", "url");
	int64_t h0 = HOUR * 3600 - 10 * 3600;
	struct store_coverage cov;
	mw_err e = { "" };

	commit_n(s, src, "a", 0, 30, h0 + 3570, NULL);     /* 30 over two hours */
	commit_n(s, src, "b", 0, 5, h0 + 5 * 3600, NULL);
	commit_n(s, src, "c", 0, 5, h0 - 3600, NULL);      /* before the range */
	assert_int_equal(store_reset_cursor(s, src, h0 + 7200, &e), 0);
	assert_int_equal(store_reset_cursor(s, src, h0 + 9000, &e), 0);
	assert_int_equal(store_coverage(s, src, h0 + 100, h0 + 10 * 3600, 1, &cov, &e), 0);
	assert_int_equal(cov.from, h0);
	assert_int_equal(cov.nhours, 10);
	assert_int_equal(cov.hours[0], 30);
	assert_int_equal(cov.hours[1], 0);
	assert_int_equal(cov.hours[5], 5);
	assert_int_equal(cov.cur.horizon, h0 + 9000);
	assert_int_equal(cov.nresets, 2);
	assert_int_equal(cov.resets[0].from, 0);
	assert_int_equal(cov.resets[0].to, h0 + 7200);
	assert_int_equal(cov.resets[1].from, h0 + 7200);
	assert_int_equal(cov.resets[1].to, h0 + 9000);
	assert_int_equal(cov.resets[1].at, NOW);
	store_coverage_free(&cov);
}

/* A backfill's window commits to its own row, never the source's cursor;
 * its end marks it done and its span collected; a queued one is found
 * again after reopening (a restart resumes it). */
static void test_backfill_cursor(void **state)
{
	struct fx *f = *state;
	mw_store *s = open_ok(f);
	int64_t src = source_ok(s, "acme", "url"), id = 0, id2 = 0;
	struct store_cursor own = { .horizon = 90000 }, got;
	struct store_backfill b;
	struct store_coverage cov;
	mw_err e = { "" };

	assert_int_equal(store_commit_page(s, src, NULL, 0, &own, NULL, &e), 0);
	assert_int_equal(store_backfill_add(s, src, 2000, 1000, &id, &e), -1);
	assert_int_equal(store_backfill_add(s, src, 1000, 2000, &id, &e), 0);
	assert_int_equal(store_backfill_add(s, src, 3000, 4000, &id2, &e), 0);
	assert_true(id > 0 && id2 > id);
	/* retention keeps what a queued backfill will read again */
	assert_int_equal(store_reread_floor(s), 1000);
	assert_int_equal(store_backfill_next(s, src, &b, &e), 1);
	assert_int_equal(b.id, id);
	assert_int_equal(b.cur.backfill, id);
	assert_int_equal(b.cur.in_window, 1);
	assert_int_equal(b.cur.win_from, 1000);
	assert_int_equal(b.cur.win_to, 2000);
	/* a page of it: the records, and the position in its row */
	b.cur.win_progress = 1500;
	snprintf(b.cur.page_token, sizeof b.cur.page_token, "tok-1");
	b.cur.win_received = 7;
	assert_int_equal(store_commit_page(s, src, NULL, 0, &b.cur, NULL, &e), 0);
	assert_int_equal(store_get_cursor(s, src, &got, &e), 0);
	assert_int_equal(got.horizon, 90000);
	assert_int_equal(got.in_window, 0);
	store_close(s);
	f->s = NULL;
	s = open_ok(f);
	assert_int_equal(store_backfill_next(s, src, &b, &e), 1);
	assert_int_equal(b.id, id);
	assert_int_equal(b.cur.win_progress, 1500);
	assert_string_equal(b.cur.page_token, "tok-1");
	assert_int_equal(b.cur.win_received, 7);
	/* its end */
	b.cur.in_window = 0;
	b.cur.page_token[0] = '\0';
	b.cur.covered_from = b.from;
	b.cur.covered_to = b.to;
	assert_int_equal(store_commit_page(s, src, NULL, 0, &b.cur, NULL, &e), 0);
	assert_int_equal(store_backfill_next(s, src, &b, &e), 1);
	assert_int_equal(b.id, id2);
	assert_int_equal(store_coverage(s, src, 0, 5000, 0, &cov, &e), 0);
	assert_int_equal(cov.nspans, 1);
	assert_int_equal(cov.spans[0].from, 1000);
	assert_int_equal(cov.spans[0].to, 2000);
	assert_int_equal(cov.nbf, 2);
	assert_int_equal(cov.bf[0].state, STORE_BF_DONE);
	assert_int_equal(cov.bf[1].state, STORE_BF_QUEUED);
	assert_int_equal(cov.cur.horizon, 90000);
	store_coverage_free(&cov);
}

/* A version 4 store gains spans and backfills in place; each source with a
 * horizon is seeded with one span from its oldest record (records dated
 * outside their window left out) to the horizon, or the day before the
 * horizon when it has none. */
static void test_upgrade_v4(void **state)
{
	struct fx *f = *state;
	mw_store *s = open_ok(f);
	int64_t url = source_ok(s, "acme", "url"), att = source_ok(s, "acme", "attachment");
	int64_t imp = source_ok(s, "acme", "impersonation");
	struct store_cursor c = { .horizon = 500000 };
	struct store_rec out = { .id = "far", .time = 1000, .json = "{}", .json_len = 2,
				 .outside = 1 };
	struct store_coverage cov;
	mw_err e = { "" };
	char v[16];

	commit_n(s, url, "u", 0, 5, 200000, NULL);
	assert_int_equal(store_commit_page(s, url, &out, 1, &c, NULL, &e), 0);
	assert_int_equal(store_commit_page(s, att, NULL, 0, &c, NULL, &e), 0);
	(void)imp;  /* no horizon: no span */
	store_close(s);
	f->s = NULL;
	raw_sql(f->db, UNDO_V6);
	raw_sql(f->db, "DROP TABLE spans; DROP TABLE backfills;"
		       "UPDATE meta SET value='4' WHERE key='schema_version'");
	s = open_ok(f);
	assert_int_equal(store_meta_get(s, "schema_version", v, sizeof v), 0);
	assert_string_equal(v, "8");
	assert_int_equal(store_count(s, url), 6);
	assert_int_equal(sql_i64(f->db, "SELECT count(*) FROM spans"), 2);
	assert_int_equal(store_coverage(s, url, 0, 600000, 0, &cov, &e), 0);
	assert_int_equal(cov.nspans, 1);
	assert_int_equal(cov.spans[0].from, 200000);
	assert_int_equal(cov.spans[0].to, 500000);
	store_coverage_free(&cov);
	assert_int_equal(store_coverage(s, att, 0, 600000, 0, &cov, &e), 0);
	assert_int_equal(cov.nspans, 1);
	assert_int_equal(cov.spans[0].from, 500000 - 86400);
	assert_int_equal(cov.spans[0].to, 500000);
	store_coverage_free(&cov);
	assert_int_equal(store_backfill_next(s, url, &(struct store_backfill){ 0 }, &e), 0);
}

/* Events: newest first, paged by id, bounded to the newest
 * STORE_EVENTS_KEEP; deferred ones go with the next page commit (or the
 * next event written, or close) and are not lost when that commit fails. */
static void test_events(void **state)
{
	struct fx *f = *state;
	mw_store *s = open_ok(f);
	int64_t src = source_ok(s, "acme", "url");
	struct store_cursor c = { .horizon = 7 };
	struct store_event *ev;
	size_t n;
	mw_err e = { "" };
	char text[64];

	assert_int_equal(store_event_add(s, "acme", "url", "window started", "first", &e), 0);
	assert_int_equal(store_event_add(s, "", "", "config reloaded", "second", &e), 0);
	assert_int_equal(store_events_list(s, 0, 10, &ev, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(ev[0].text, "second");
	assert_string_equal(ev[0].integration, "");
	assert_string_equal(ev[1].text, "first");
	assert_string_equal(ev[1].integration, "acme");
	assert_string_equal(ev[1].type, "url");
	assert_string_equal(ev[1].kind, "window started");
	assert_true(ev[0].id > ev[1].id);
	free(ev);

	/* deferred: not written until the page commit, then in it */
	store_event_defer(s, "acme", "url", "window finished", "deferred");
	assert_int_equal(sql_i64(f->db, "SELECT count(*) FROM events"), 2);
	assert_int_equal(store_commit_page(s, src, NULL, 0, &c, NULL, &e), 0);
	assert_int_equal(sql_i64(f->db, "SELECT count(*) FROM events"), 3);
	assert_int_equal(sql_i64(f->db, "SELECT count(*) FROM events WHERE text='deferred'"), 1);
	/* written once: the next commit does not write it again */
	assert_int_equal(store_commit_page(s, src, NULL, 0, &c, NULL, &e), 0);
	assert_int_equal(sql_i64(f->db, "SELECT count(*) FROM events"), 3);
	/* close writes what is still deferred */
	store_event_defer(s, "acme", "url", "window started", "at close");
	store_close(s);
	f->s = NULL;
	assert_int_equal(sql_i64(f->db, "SELECT count(*) FROM events WHERE text='at close'"), 1);
	s = open_ok(f);

	/* an output's state: an event when its error is new or changed, and
	 * when it delivers again; none for the same error again */
	assert_int_equal(store_output_status(s, "hec", "ok", "", &e), 0);
	assert_int_equal(store_output_status(s, "hec", "retrying", "output hec: refused", &e), 0);
	assert_int_equal(store_output_status(s, "hec", "retrying", "output hec: refused", &e), 0);
	assert_int_equal(store_output_status(s, "hec", "error", "bad token", &e), 0);
	assert_int_equal(store_output_status(s, "hec", "ok", "", &e), 0);
	assert_int_equal(store_output_status(s, "hec", "ok", "", &e), 0);
	assert_int_equal(store_events_list(s, 0, 3, &ev, &n, &e), 0);
	assert_int_equal(n, 3);
	assert_string_equal(ev[0].kind, "output recovered");
	assert_string_equal(ev[0].text, "output 'hec': delivering again");
	assert_string_equal(ev[1].kind, "output error");
	assert_string_equal(ev[1].text, "output 'hec': bad token");
	assert_string_equal(ev[2].kind, "output retrying");
	assert_string_equal(ev[2].text, "output 'hec': refused");
	assert_string_equal(ev[2].integration, "");
	free(ev);
	assert_int_equal(sql_i64(f->db, "SELECT count(*) FROM events WHERE kind LIKE 'output%'"),
			 3);

	/* the bound: the newest KEEP stay, in the caller's transaction too */
	assert_int_equal(sdb_begin(s, &e), 0);
	for (int i = 0; i < STORE_EVENTS_KEEP + 50; i++) {
		snprintf(text, sizeof text, "e%d", i);
		assert_int_equal(store_event_add(s, "acme", "url", "retry", text, &e), 0);
	}
	assert_int_equal(sdb_commit(s, &e), 0);
	assert_int_equal(sql_i64(f->db, "SELECT count(*) FROM events"), STORE_EVENTS_KEEP);
	assert_int_equal(store_events_list(s, 0, 3, &ev, &n, &e), 0);
	assert_int_equal(n, 3);
	snprintf(text, sizeof text, "e%d", STORE_EVENTS_KEEP + 49);
	assert_string_equal(ev[0].text, text);
	assert_int_equal(store_events_newest(s), ev[0].id);
	{
		int64_t before = ev[2].id;
		struct store_event *more;
		size_t m;

		assert_int_equal(store_events_list(s, before, 0, &more, &m, &e), 0);
		assert_int_equal(m, STORE_EVENTS_KEEP - 3);
		assert_string_equal(more[m - 1].text, "e50");
		assert_true(more[0].id < before);
		free(more);
	}
	free(ev);
}

static int last_row(const struct store_row *row, void *ctx)
{
	struct store_row *out = ctx;

	*out = *row;
	out->json = NULL;  /* not valid after the callback */
	out->id = out->integration = out->type = NULL;
	return 0;
}

/* The revision rule (store_commit_page): a keyed record stored again with
 * other content replaces the old row as the next revision, at a new rowid;
 * the same content is a duplicate; an outside copy never replaces; records
 * that are not keyed are untouched by it. */
static void test_revisions(void **state)
{
	struct fx *f = *state;
	mw_store *s = open_ok(f);
	int64_t imp = source_ok(s, "acme", "impersonation");
	int64_t url = source_ok(s, "acme", "url");
	struct store_rec r[3] = {
		{ .id = "MTOKEN:a", .time = 1000, .json = "{\"act\":\"hold\"}", .json_len = 14,
		  .keyed = 1 },
		{ .id = "MTOKEN:b", .time = 1001, .json = "{\"act\":\"none\"}", .json_len = 14,
		  .keyed = 1 },
		{ .id = "MTOKEN:c", .time = 1002, .json = "{\"act\":\"none\"}", .json_len = 14,
		  .keyed = 1 },
	};
	struct store_page_result pr;
	struct store_status *st = NULL;
	struct store_row row;
	size_t n = 0;
	int64_t rowid_a;
	mw_err e = { "" };

	assert_int_equal(store_commit_page(s, imp, r, 3, NULL, &pr, &e), 0);
	assert_int_equal(pr.inserted, 3);
	assert_int_equal(pr.revised, 0);
	rowid_a = sql_i64(f->db, "SELECT rowid FROM records WHERE id='MTOKEN:a'");
	assert_int_equal(sql_i64(f->db, "SELECT min(revision) FROM records"), 1);

	/* the same page again: duplicates only */
	assert_int_equal(store_commit_page(s, imp, r, 3, NULL, &pr, &e), 0);
	assert_int_equal(pr.inserted, 0);
	assert_int_equal(pr.duplicates, 3);
	assert_int_equal(pr.revised, 0);

	/* a's verdict changed: revision 2, one row, a new rowid after c's */
	r[0].json = "{\"act\":\"none\"}";
	assert_int_equal(store_commit_page(s, imp, r, 3, NULL, &pr, &e), 0);
	assert_int_equal(pr.inserted, 0);
	assert_int_equal(pr.revised, 1);
	assert_int_equal(pr.duplicates, 2);
	assert_int_equal(store_count(s, imp), 3);
	assert_int_equal(sql_i64(f->db, "SELECT count(*) FROM records WHERE id='MTOKEN:a'"), 1);
	assert_true(sql_i64(f->db, "SELECT rowid FROM records WHERE id='MTOKEN:a'") > rowid_a);
	assert_int_equal(store_each_after(s, store_max_rowid(s) - 1, 10, last_row, &row, &e), 0);
	assert_int_equal(row.revision, 2);
	assert_int_equal(row.time, 1000);

	/* the same id at another time is another record (schema 7): both
	 * kept, as the unique (source, time, id) says */
	r[0].json = "{\"act\":\"hold\",\"t\":2}";
	r[0].json_len = strlen(r[0].json);
	r[0].time = 1005;
	assert_int_equal(store_commit_page(s, imp, &r[0], 1, NULL, &pr, &e), 0);
	assert_int_equal(pr.revised, 0);
	assert_int_equal(pr.inserted, 1);
	assert_int_equal(sql_i64(f->db, "SELECT count(*) FROM records WHERE id='MTOKEN:a'"), 2);
	assert_int_equal(sql_i64(f->db, "SELECT revision FROM records WHERE id='MTOKEN:a' AND "
				 "time=1005"), 1);
	assert_int_equal(sql_i64(f->db, "SELECT revision FROM records WHERE id='MTOKEN:a' AND "
				 "time=1000"), 2);

	/* a copy dated outside its window with other content: a duplicate */
	struct store_rec out = r[1];
	out.json = "{\"act\":\"hold\"}";
	out.outside = 1;
	assert_int_equal(store_commit_page(s, imp, &out, 1, NULL, &pr, &e), 0);
	assert_int_equal(pr.revised, 0);
	assert_int_equal(pr.duplicates, 1);
	assert_int_equal(sql_i64(f->db, "SELECT revision FROM records WHERE id='MTOKEN:b'"), 1);

	/* not keyed: revision 0, and the multi-row path is unchanged */
	commit_n(s, url, "u", 0, 40, 1000, &pr);
	assert_int_equal(pr.inserted, 40);
	assert_int_equal(sql_i64(f->db, "SELECT count(*) FROM records WHERE revision=0"), 40);

	assert_int_equal(store_list_status(s, &st, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(st[1].type, "impersonation");
	assert_int_equal(st[1].revised, 1);
	assert_int_equal(st[1].total, 4);
	assert_int_equal(st[0].revised, 0);
	free(st);
}

static void test_lock(void **state)
{
	struct fx *f = *state;
	mw_err e;
	int fd = -1, status;
	long pid = 0;
	char p[200];

	assert_int_equal(store_lock(f->state, &fd, &pid, &e), 1);
	assert_true(fd >= 0);
	snprintf(p, sizeof p, "%s/lock", f->state);
	assert_int_equal(mode_of(p), 0600);

	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		int cfd = -1;
		long who = 0;
		mw_err ce;
		int rc = store_lock(f->state, &cfd, &who, &ce);
		_exit(rc == 0 && cfd == -1 && who == (long)getppid() ? 0 : 1);
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	/* Released with its holder: the next one gets it. */
	close(fd);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		int cfd = -1;
		long who = 0;
		mw_err ce;
		_exit(store_lock(f->state, &cfd, &who, &ce) == 1 ? 0 : 1);
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_int_equal(WEXITSTATUS(status), 0);

	/* A probe (a console or status asking who collects) holds the lock
	 * shared for a moment: a collector starting then still gets it, and
	 * the probe neither takes it nor writes its pid. */
	int probe = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(probe >= 0);
	assert_int_equal(flock(probe, LOCK_SH | LOCK_NB), 0);
	{
		pid_t releaser = fork();

		assert_true(releaser >= 0);
		if (releaser == 0) {
			usleep(30 * 1000);
			flock(probe, LOCK_UN);
			_exit(0);
		}
		close(probe);  /* the releaser's copy of the descriptor holds it now */
		assert_int_equal(store_lock(f->state, &fd, &pid, &e), 1);
		assert_int_equal(waitpid(releaser, &status, 0), releaser);
	}
	close(fd);
	assert_int_equal(store_lock_holder(f->state, &pid), 0);
}

/* ---- disk full, for real: a 512 KiB tmpfs in a private mount namespace ---- */

static void test_disk_full(void **state)
{
	struct fx *f = *state;

	make_state_dir(f);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		mw_store *s;
		mw_err e;
		struct store_rec recs[50];
		char ids[50][16], *big = malloc(20000);
		struct store_page_result r;
		int64_t src, before;
		int rc = 0;

		if (private_tmpfs(f->state, "2m") < 0)
			_exit(77);
		if (store_open(f->state, &s, &e) < 0 ||
		    store_source(s, "acme", "url", &src, &e) < 0) {
			fprintf(stderr, "open: %s\n", e.msg);
			_exit(2);
		}
		memset(big, 'x', 20000);
		big[0] = '"';
		big[19999] = '"';
		for (int page = 0; page < 200 && rc == 0; page++) {
			for (int i = 0; i < 50; i++) {
				snprintf(ids[i], sizeof ids[i], "%d-%d", page, i);
				recs[i] = (struct store_rec){ ids[i], NOW, 0, big, 20000 };
			}
			before = store_count(s, src);
			rc = store_commit_page(s, src, recs, 50, NULL, &r, &e);
		}
		if (rc == 0) {
			fprintf(stderr, "the tmpfs never filled\n");
			_exit(3);
		}
		if (!strstr(e.msg, "disk full")) {
			fprintf(stderr, "message: %s\n", e.msg);
			_exit(4);
		}
		/* The failed page left nothing behind, and the store still works. */
		if (store_count(s, src) != before || before % 50 != 0) {
			fprintf(stderr, "count %lld before %lld\n",
				(long long)store_count(s, src), (long long)before);
			_exit(5);
		}
		store_close(s);
		_exit(0);
	}
	tmpfs_child_wait(child);
}

/* ---- batch files ------------------------------------------------------------ */

/* A batch file's records, its ledger row and its sub-type's listing cursor
 * commit together; the same file again is found taken. */
static void test_batch_ledger(void **state)
{
	struct fx *f = *state;
	mw_store *s = open_ok(f);
	int64_t src = source_ok(s, "acme", "siem"), day = 0;
	struct store_batch b = { "receipt", 86400 * 20000, "/siem-files/a.gz", "P1" };
	struct store_rec rec = { 0 };
	struct store_page_result r;
	mw_err e = { "" };
	char next[64];
	int taken = -1;

	assert_int_equal(store_batch_cursor(s, src, "receipt", &day, next, sizeof next, &e), 0);
	assert_int_equal(store_batch_taken(s, src, "receipt", b.day, b.file_key, &taken, &e), 0);
	assert_int_equal(taken, 0);
	rec.id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	rec.time = b.day + 5;
	rec.json = "{\"timestamp\":1}";
	rec.json_len = strlen(rec.json);
	assert_int_equal(store_commit_batch(s, src, &rec, 1, NULL, &b, &r, &e), 0);
	assert_int_equal(r.inserted, 1);
	assert_int_equal(store_batch_taken(s, src, "receipt", b.day, b.file_key, &taken, &e), 0);
	assert_int_equal(taken, 1);
	/* another sub-type, another day: not the same file */
	assert_int_equal(store_batch_taken(s, src, "process", b.day, b.file_key, &taken, &e), 0);
	assert_int_equal(taken, 0);
	assert_int_equal(store_batch_taken(s, src, "receipt", b.day + 86400, b.file_key, &taken,
					   &e), 0);
	assert_int_equal(taken, 0);
	assert_int_equal(store_batch_cursor(s, src, "receipt", &day, next, sizeof next, &e), 1);
	assert_int_equal(day, b.day);
	assert_string_equal(next, "P1");
	/* the cursor alone moves (a listing that ends a day) */
	b.file_key = NULL;
	b.day += 86400;
	b.next_page = "";
	assert_int_equal(store_commit_batch(s, src, NULL, 0, NULL, &b, &r, &e), 0);
	assert_int_equal(store_batch_cursor(s, src, "receipt", &day, next, sizeof next, &e), 1);
	assert_int_equal(day, b.day);
	assert_string_equal(next, "");
	assert_int_equal(sql_i64(f->db, "SELECT count(*) FROM batch_files"), 1);
	assert_int_equal(store_count(s, src), 1);
}

/* A version 7 store gains the batch tables in place, its records kept. */
static void test_upgrade_v7(void **state)
{
	struct fx *f = *state;
	mw_store *s = open_ok(f);
	int64_t src = source_ok(s, "acme", "url");
	mw_err e = { "" };
	char v[16];
	int taken = -1;

	commit_n(s, src, "r", 0, 4, 1000, NULL);
	store_close(s);
	f->s = NULL;
	raw_sql(f->db, "DROP TABLE batch_files; DROP TABLE batch_cursors;"
		       "UPDATE meta SET value='7' WHERE key='schema_version'");
	s = open_ok(f);
	assert_int_equal(store_meta_get(s, "schema_version", v, sizeof v), 0);
	assert_string_equal(v, "8");
	assert_int_equal(store_count(s, src), 4);
	assert_int_equal(store_batch_taken(s, src, "av", 0, "/k", &taken, &e), 0);
	assert_int_equal(taken, 0);
}

int main(void)
{
	setenv("MIMEWATCH_NOW", "1731862950", 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_foreign_and_newer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_v7, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_ledger, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_v2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_v3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revisions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_page_dups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cursor_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rowids_never_reused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_threats_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_integration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename_integration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_each_after, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_offsets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_delivered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_info_cached, setup, teardown),
		cmocka_unit_test_setup_teardown(test_change_mark, setup, teardown),
		cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spans_merge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_coverage_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backfill_cursor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_v4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk_full, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
