/* test_walvfs.c - the store's VFS (src/store/walvfs.c): a commit reaches
 * the WAL in one write call, yet every committed transaction is there for
 * another connection (opened with SQLite's default VFS) at once, whatever
 * its size; a process that dies with a transaction open leaves nothing of
 * it, and one that dies right after COMMIT leaves all of it. A full disk
 * during a checkpoint fails it and loses nothing. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1  /* mkdtemp, nftw alongside -std=c11 */
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "testutil.h"
#include "store/private.h"

struct fx {
	char dir[64];
	char db[128];
	sqlite3 *w;	/* through the store's VFS */
};

static void exec_ok(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &err);

	if (rc != SQLITE_OK)
		fail_msg("%s: %s", sql, err ? err : sqlite3_errstr(rc));
}

static sqlite3 *open_store_vfs(const char *path)
{
	sqlite3 *db = NULL;

	assert_non_null(sdb_vfs_name());
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
					 sdb_vfs_name()), SQLITE_OK);
	exec_ok(db, "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
		    "PRAGMA wal_autocheckpoint=0");
	return db;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);

	snprintf(f->dir, sizeof f->dir, "/tmp/mw_walvfs.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof f->db, "%s/t.db", f->dir);
	f->w = open_store_vfs(f->db);
	exec_ok(f->w, "CREATE TABLE t(k INTEGER PRIMARY KEY, v BLOB NOT NULL)");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	sqlite3_close(f->w);
	rm_rf(f->dir);
	free(f);
	return 0;
}

/* Rows k in [from, from+n), each v bytes of a pattern that depends on k. */
static void insert_rows(sqlite3 *db, int from, int n, int v)
{
	sqlite3_stmt *st;
	char *buf = malloc((size_t)v);

	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO t(k,v) VALUES(?1,?2)", -1, &st, NULL),
			 SQLITE_OK);
	for (int k = from; k < from + n; k++) {
		for (int i = 0; i < v; i++)
			buf[i] = (char)(k * 31 + i);
		sqlite3_bind_int(st, 1, k);
		sqlite3_bind_blob(st, 2, buf, v, SQLITE_STATIC);
		assert_int_equal(sqlite3_step(st), SQLITE_DONE);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	free(buf);
}

/* Through another connection, SQLite's default VFS: the row count, and
 * that every row has its pattern. */
static int count_checked(const char *path, int v)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st;
	int n = 0;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT k, v FROM t ORDER BY k", -1, &st, NULL),
			 SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int k = sqlite3_column_int(st, 0);
		const unsigned char *b = sqlite3_column_blob(st, 1);

		assert_int_equal(sqlite3_column_bytes(st, 1), v);
		for (int i = 0; i < v; i++)
			if (b[i] != (unsigned char)(char)(k * 31 + i))
				fail_msg("row %d byte %d differs", k, i);
		n++;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* A commit of about 20 frames is one write call (two per frame without
 * the VFS), and the other connection sees it at once. */
static void test_commit_is_one_write(void **state)
{
	struct fx *f = *state;
	long before;

	exec_ok(f->w, "BEGIN");
	insert_rows(f->w, 0, 100, 3000);	/* 300 KB: about 20 pages */
	before = sdb_vfs_wal_writes();
	exec_ok(f->w, "COMMIT");
	/* 300 KB in pieces of 120 KiB: 3 calls, against about 40. */
	assert_in_range(sdb_vfs_wal_writes() - before, 1, 4);
	assert_int_equal(count_checked(f->db, 3000), 100);
	for (int i = 1; i <= 20; i++) {
		exec_ok(f->w, "BEGIN");
		insert_rows(f->w, i * 100, 100, 500);
		before = sdb_vfs_wal_writes();
		exec_ok(f->w, "COMMIT");
		assert_int_equal(sdb_vfs_wal_writes() - before, 1);
	}
	exec_ok(f->w, "DELETE FROM t WHERE k>=100");
	assert_int_equal(count_checked(f->db, 3000), 100);
}

/* Larger than what is held in memory at most (4 MiB): it goes out in
 * parts before the commit, and all of it is there after. */
static void test_large_transaction(void **state)
{
	struct fx *f = *state;

	exec_ok(f->w, "BEGIN");
	insert_rows(f->w, 0, 3000, 3000);	/* 9 MB */
	exec_ok(f->w, "COMMIT");
	assert_int_equal(count_checked(f->db, 3000), 3000);
	/* A checkpoint reads the WAL back through the VFS. */
	exec_ok(f->w, "PRAGMA wal_checkpoint(TRUNCATE)");
	assert_int_equal(count_checked(f->db, 3000), 3000);
	exec_ok(f->w, "BEGIN");
	insert_rows(f->w, 3000, 10, 3000);
	exec_ok(f->w, "COMMIT");
	assert_int_equal(count_checked(f->db, 3000), 3010);
}

/* A child process writes through the VFS and dies without closing
 * anything: committed (1) or in the middle of a transaction (0). */
static void die_after(const char *path, int commit)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		sqlite3 *db = open_store_vfs(path);

		exec_ok(db, "PRAGMA cache_size=10");	/* spills frames mid-transaction */
		exec_ok(db, "BEGIN");
		insert_rows(db, 10000, 500, 3000);
		if (commit)
			exec_ok(db, "COMMIT");
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_process_dies(void **state)
{
	struct fx *f = *state;
	sqlite3 *db = NULL;
	sqlite3_stmt *st;

	exec_ok(f->w, "BEGIN");
	insert_rows(f->w, 0, 50, 3000);
	exec_ok(f->w, "COMMIT");
	sqlite3_close(f->w);
	f->w = NULL;

	die_after(f->db, 0);
	assert_int_equal(count_checked(f->db, 3000), 50);
	die_after(f->db, 1);
	assert_int_equal(count_checked(f->db, 3000), 550);

	assert_int_equal(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	sqlite3_close(db);
	f->w = open_store_vfs(f->db);
}

/* The database file fills up during a checkpoint (which reads the WAL
 * back through the VFS): the checkpoint fails, and every committed row is
 * still read, from the WAL. */
static void test_checkpoint_disk_full(void **state)
{
	struct fx *f = *state;
	pid_t pid;

	sqlite3_close(f->w);
	f->w = NULL;
	rm_rf(f->dir);
	assert_int_equal(mkdir(f->dir, 0700), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		sqlite3 *db;
		int rc, n = 0;

		if (private_tmpfs(f->dir, "3m") < 0)
			_exit(77);
		db = open_store_vfs(f->db);
		exec_ok(db, "CREATE TABLE t(k INTEGER PRIMARY KEY, v BLOB NOT NULL)");
		/* About 1.7 MB in the WAL: the copy into the database needs as
		 * much again, which the 3 MiB file system does not have. */
		for (int i = 0; i < 17; i++) {
			exec_ok(db, "BEGIN");
			insert_rows(db, i * 30, 30, 3000);
			exec_ok(db, "COMMIT");
			n += 30;
		}
		rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		if ((rc & 0xff) != SQLITE_FULL && (rc & 0xff) != SQLITE_IOERR) {
			fprintf(stderr, "checkpoint returned %d, not a full disk\n", rc);
			_exit(3);
		}
		if (count_checked(f->db, 3000) != n) {
			fprintf(stderr, "rows lost after the failed checkpoint\n");
			_exit(4);
		}
		sqlite3_close(db);
		_exit(0);
	}
	tmpfs_child_wait(pid);
	f->w = open_store_vfs(f->db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_commit_is_one_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_process_dies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint_disk_full, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
