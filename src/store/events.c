/* store/events.c - the collector's recent events (store.h, "events.c"):
 * a bounded table, written a few rows per window, read newest first. */
#include "private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fill(struct store_event *ev, const char *integration, const char *type,
		 const char *kind, const char *text)
{
	memset(ev, 0, sizeof(*ev));
	ev->time = mw_now();
	snprintf(ev->integration, sizeof(ev->integration), "%s", integration ? integration : "");
	snprintf(ev->type, sizeof(ev->type), "%s", type ? type : "");
	snprintf(ev->kind, sizeof(ev->kind), "%s", kind ? kind : "");
	snprintf(ev->text, sizeof(ev->text), "%s", text ? text : "");
}

static int insert(mw_store *s, const struct store_event *ev, mw_err *e)
{
	sqlite3_stmt *st = sdb_stmt(s, ST_EVENT_ADD, e);
	int64_t id;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, ev->time);
	sdb_bind_str(st, 2, ev->integration);
	sdb_bind_str(st, 3, ev->type);
	sdb_bind_str(st, 4, ev->kind);
	sdb_bind_str(st, 5, ev->text);
	if (sdb_done(s, st, "recording an event", e) < 0)
		return -1;
	/* Ids only grow (nothing else inserts), so the newest KEEP rows are
	 * those above id - KEEP: a range delete, empty but for one row. */
	id = sqlite3_last_insert_rowid(s->db);
	if (id <= STORE_EVENTS_KEEP)
		return 0;
	if (!(st = sdb_stmt(s, ST_EVENT_PRUNE, e)))
		return -1;
	sqlite3_bind_int64(st, 1, id - STORE_EVENTS_KEEP);
	return sdb_done(s, st, "pruning old events", e);
}

int sdb_events_write(mw_store *s, mw_err *e)
{
	for (size_t i = 0; i < s->npend; i++)
		if (insert(s, &s->pend[i], e) < 0)
			return -1;
	return 0;
}

void sdb_events_committed(mw_store *s)
{
	s->npend = 0;
}

/* Writes the pending events and ev (if any) in one transaction, or in the
 * caller's when one is open. */
static int write_now(mw_store *s, const struct store_event *ev, mw_err *e)
{
	int own = sqlite3_get_autocommit(s->db);

	if (own && sdb_begin(s, e) < 0)
		return -1;
	if (sdb_events_write(s, e) < 0 || (ev && insert(s, ev, e) < 0))
		return own ? sdb_abort(s) : -1;
	if (own && sdb_commit(s, e) < 0)
		return sdb_abort(s);
	sdb_events_committed(s);
	return 0;
}

int store_event_add(mw_store *s, const char *integration, const char *type, const char *kind,
		    const char *text, mw_err *e)
{
	struct store_event ev;

	fill(&ev, integration, type, kind, text);
	return write_now(s, &ev, e);
}

void store_event_defer(mw_store *s, const char *integration, const char *type,
		       const char *kind, const char *text)
{
	mw_err e;

	if (s->npend == STORE_EVENTS_PENDING && write_now(s, NULL, &e) < 0) {
		mw_log(1, "cannot record events: %s", e.msg);
		s->npend = 0;
	}
	fill(&s->pend[s->npend++], integration, type, kind, text);
}

int store_event_flush(mw_store *s, mw_err *e)
{
	return s->npend ? write_now(s, NULL, e) : 0;
}

int store_events_list(mw_store *s, int64_t before, size_t limit, struct store_event **out,
		      size_t *n, mw_err *e)
{
	sqlite3_stmt *st = sdb_stmt(s, ST_EVENT_LIST, e);
	struct store_event *v = NULL;
	size_t cnt = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, before > 0 ? before : INT64_MAX);
	sqlite3_bind_int64(st, 2, limit > 0 && limit < (size_t)INT64_MAX ? (int64_t)limit : -1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 64;
			v = mw_xrealloc(v, cap * sizeof(*v));
		}
		memset(&v[cnt], 0, sizeof(v[cnt]));
		v[cnt].id = sqlite3_column_int64(st, 0);
		v[cnt].time = sqlite3_column_int64(st, 1);
		sdb_copy_col(v[cnt].integration, sizeof(v[cnt].integration), st, 2);
		sdb_copy_col(v[cnt].type, sizeof(v[cnt].type), st, 3);
		sdb_copy_col(v[cnt].kind, sizeof(v[cnt].kind), st, 4);
		sdb_copy_col(v[cnt].text, sizeof(v[cnt].text), st, 5);
		cnt++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(v);
		return sdb_fail(s, rc, "reading events", e);
	}
	*out = v;
	*n = cnt;
	return 0;
}

int64_t store_events_newest(mw_store *s)
{
	return sdb_query_i64(s, ST_EVENT_NEWEST, 0, 0);
}
