/* store/watch.c - the cheap questions the console polls (HACKING,
 * "Parts and their rules": the console reaches the collector through the
 * store): has another connection committed since I last looked (PRAGMA
 * data_version), is a request still waiting for the collector (script
 * mode's wait-idle, and what an exited collector left), both on a
 * connection of its own, opened read-only and never writing, so asking
 * costs the console neither a lock nor a write; and does another process
 * still hold the collector lock (an attached console noticing that its
 * `mimewatch run` exited, or that a new one started). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"

#define WATCH_BUSY_MS 200       /* the console polls: never wait long */

struct store_watch {
	sqlite3 *db;
	sqlite3_stmt *version;
	sqlite3_stmt *open_req;
	sqlite3_stmt *due_req;
	int64_t data_version;
};

/* The requests after which the collector makes collections due (the
 * console waits until one of them writes its status again). */
static const enum mw_request due_requests[] = { MW_REQ_FETCH, MW_REQ_RESUME, MW_REQ_RESET };

int store_watch_open(const char *state_dir, store_watch **out, mw_err *e)
{
	char path[PATH_MAX];
	store_watch *w;
	int rc;

	*out = NULL;
	if (snprintf(path, sizeof(path), "%s/store.db", state_dir) >= (int)sizeof(path)) {
		mw_err_set(e, "%s/store.db: path too long", state_dir);
		return -1;
	}
	w = mw_xcalloc(1, sizeof(*w));
	w->data_version = -1;
	rc = sqlite3_open_v2(path, &w->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		mw_err_set(e, "%s: %s", path, w->db ? sqlite3_errmsg(w->db) : sqlite3_errstr(rc));
		store_watch_close(w);
		return -1;
	}
	sqlite3_busy_timeout(w->db, WATCH_BUSY_MS);
	*out = w;
	return 0;
}

void store_watch_close(store_watch *w)
{
	if (!w)
		return;
	sqlite3_finalize(w->version);
	sqlite3_finalize(w->open_req);
	sqlite3_finalize(w->due_req);
	sqlite3_close(w->db);
	free(w);
}

/* The first column of st's first row, or -1 (st reset after). */
static int64_t one_int(store_watch *w, sqlite3_stmt **st, const char *sql)
{
	int64_t v = -1;

	if (!*st && sqlite3_prepare_v2(w->db, sql, -1, st, NULL) != SQLITE_OK) {
		sqlite3_finalize(*st);
		*st = NULL;
		return -1;
	}
	if (sqlite3_step(*st) == SQLITE_ROW)
		v = sqlite3_column_int64(*st, 0);
	sqlite3_reset(*st);
	sqlite3_clear_bindings(*st);
	return v;
}

int store_watch_changed(store_watch *w)
{
	int64_t v;

	if (!w)
		return 0;
	v = one_int(w, &w->version, "PRAGMA data_version");
	if (v < 0 || v == w->data_version)
		return 0;
	w->data_version = v;
	return 1;
}

int store_watch_pending(store_watch *w, int64_t since_ms)
{
	int64_t n;

	if (!w)
		return -1;
	n = one_int(w, &w->open_req, "SELECT count(*) FROM requests WHERE state<2");
	if (n != 0)
		return n > 0 ? 1 : -1;
	/* A fetch (resume, reset) is done when the collector has merely made
	 * its collections due: until one of them writes its status again, the
	 * collection it ordered has not started. */
	if (!w->due_req &&
	    sqlite3_prepare_v2(w->db,
			       "SELECT count(*) FROM requests r JOIN sources s ON "
			       "(r.integration='' OR s.integration=r.integration) AND "
			       "(r.type='' OR s.type=r.type) JOIN status st ON st.source=s.id "
			       "WHERE r.state=2 AND r.action IN (?1,?2,?3) AND "
			       "st.paused=0 AND st.updated<r.updated AND r.updated>?4",
			       -1, &w->due_req, NULL) != SQLITE_OK) {
		sqlite3_finalize(w->due_req);
		w->due_req = NULL;
		return -1;
	}
	for (int i = 0; i < (int)NELEM(due_requests); i++)
		sqlite3_bind_text(w->due_req, i + 1, mw_request_name(due_requests[i]), -1,
				  SQLITE_STATIC);
	sqlite3_bind_int64(w->due_req, 4, since_ms);
	n = one_int(w, &w->due_req, NULL);
	return n > 0 ? 1 : n == 0 ? 0 : -1;
}

int store_watch_open_requests(store_watch *w)
{
	int64_t n;

	if (!w)
		return -1;
	n = one_int(w, &w->open_req, "SELECT count(*) FROM requests WHERE state<2");
	return n < 0 ? -1 : n > INT_MAX ? INT_MAX : (int)n;
}

/* A shared flock on a descriptor of our own, dropped at once: it fails
 * only while someone holds store_lock's exclusive one (the kernel releases
 * that when its process dies, kill -9 included). The lock file is neither
 * created nor written, so `mimewatch status` and a collector starting up
 * read it as they would without us. */
int store_lock_holder(const char *state_dir, long *pid)
{
	char path[PATH_MAX], buf[32];
	ssize_t n;
	int fd, held;

	*pid = 0;
	if (snprintf(path, sizeof(path), "%s/lock", state_dir) >= (int)sizeof(path))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;        /* no lock file: nobody ever collected */
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		close(fd);      /* closing releases it: we only asked */
		return 0;
	}
	held = errno == EWOULDBLOCK || errno == EINTR;
	if (held) {
		/* The holder writes its pid just after taking the lock: until
		 * then this reads the previous holder's, or nothing. */
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		if (n > 0) {
			buf[n] = '\0';
			*pid = strtol(buf, NULL, 10);
		}
	}
	close(fd);
	return held ? 1 : -1;
}
