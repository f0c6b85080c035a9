/* store/store.h - the local store (SQLite, WAL): the single source of truth.
 *
 * May include: the C library, SQLite (in its .c files only: src/store/ is
 * the only place that includes sqlite3.h), util.h, jsonscan.h, logtypes.h,
 * requests.h. Never config/, the Mimecast client, the outputs, the
 * collector or curses. Files: open.c (open, schema, upgrade, lock), db.c
 * (statements, errors, transactions), cursors.c (sources, cursors, page
 * commits), status.c (status, meta), requests.c (console requests),
 * outputs.c (output offsets, retention), query.c (the console's preview),
 * filter.c and grams.c (its filter, and the filter's index: a summary per run),
 * sort.c (the preview sorted by a column),
 * watch.c (what the console polls: changes, open requests, the lock holder),
 * events.c (the collector's recent events), coverage.c (collected spans,
 * backfills), volume.c (max_store and pass-through: the store's size,
 * deleting what every output delivered);
 * private.h is for src/store/ alone.
 *
 * The collector writes records, cursors and status; outputs read records by
 * rowid and keep their own offsets; the console reads everything and writes
 * only requests. Each thread opens its own mw_store (one connection each).
 * Every file created is 0600, the state directory 0700. */
#ifndef MW_STORE_H
#define MW_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "requests.h"
#include "util.h"

struct js_doc;

typedef struct mw_store mw_store;

/* Opens (creating if needed) state_dir/store.db. A store that is not a
 * mimewatch store, is corrupt, or is of a newer schema is refused with a
 * message naming the file and the way out; never silently recreated. */
int store_open(const char *state_dir, mw_store **out, mw_err *e);
void store_close(mw_store *s);

/* The collector lock: flock(LOCK_EX|LOCK_NB) on state_dir/lock, released
 * when the process dies. 1 acquired (*fd set, keep it open), 0 another
 * process holds it (*pid set when known), -1 error. */
int store_lock(const char *state_dir, int *fd, long *pid, mw_err *e);

/* The id of (integration, type), created on first use. */
int store_source(mw_store *s, const char *integration, const char *type, int64_t *id,
		 mw_err *e);

/* Per source: every record older than horizon has been collected. A window
 * in progress is [win_from, win_to], resumed at page_token; win_progress is
 * the newest record time stored in it (the fallback when a token expires). */
struct store_cursor {
	int64_t horizon;        /* 0: never collected */
	int in_window;
	int64_t win_from, win_to, win_progress;
	char page_token[1024];  /* "" for the window's first page */
	int64_t win_received;   /* records received in the window so far */
	int win_restarted;      /* the window is the one restart window.h allows */
	/* Coverage (schema 5, "coverage.c" below). backfill: the backfill whose
	 * window this is (store_backfill_add), 0 for the source's own cursor;
	 * its commits write that backfill's row, never the horizon. covered_to
	 * > covered_from: the commit also marks [covered_from, covered_to]
	 * collected (set only on the commit that completes a window: one small
	 * write per window, none per page). */
	int64_t backfill;
	int64_t covered_from, covered_to;
};
int store_get_cursor(mw_store *s, int64_t source, struct store_cursor *c, mw_err *e);

struct store_rec {
	const char *id;
	int64_t time;           /* record time, epoch seconds */
	int threat;             /* matches the type's threat rule */
	const char *json;       /* the record, safe-encoded */
	size_t json_len;
	int outside;            /* dated outside the window that asked for it:
	                           stored and delivered once, ever */
	int keyed;              /* id is the record's own (impersonation), not a
	                           digest of its content: the same id with other
	                           content is a revision (store_commit_page) */
	const struct js_doc *doc;  /* the parsed page json was encoded from, and */
	int tok;                /* the record's token in it: the run's summary
	                           (grams.c) reads the values there; NULL: the
	                           store parses json itself */
};

struct store_page_result {
	int64_t inserted, duplicates;
	int64_t revised;        /* keyed records stored again as a new revision */
	int64_t first_rowid;    /* when every record was stored as a new row:
	                           the first's rowid (the others follow it in
	                           order, one apart); 0 otherwise */
	int64_t outside;        /* of inserted, records dated outside their window */
};

/* One transaction: inserts the records (dropping ids already stored),
 * notes their run, updates the total and hours, and writes the cursor (the new
 * resumption point, or the completed window's horizon).
 *
 * A keyed record whose id is stored already with other content (a verdict
 * changed at Mimecast) replaces it: the old row goes, the new one gets the
 * next rowid (so every output delivers it again) and revision = the old
 * revision + 1 (a keyed record's first revision is 1; records that are not
 * keyed have revision 0). The same content again is a duplicate. Revisions
 * count in r->revised and the source's status, not in inserted or total:
 * the record is still one record. */
int store_commit_page(mw_store *s, int64_t source, const struct store_rec *recs, size_t n,
		      const struct store_cursor *c, struct store_page_result *r, mw_err *e);

/* ---- batch.c: batch files (HACKING, "Batch files") ----------------------
 * A log type served as files per (sub-type, day) (SIEM on API 2.0): each
 * file's records commit with its ledger row and the sub-type's listing
 * cursor in one transaction, so a file is taken once and a kill -9 mid-file
 * takes it again whole. */
struct store_batch {
	const char *subtype;    /* "receipt" */
	int64_t day;            /* the day's 00:00 UTC, epoch s */
	const char *file_key;   /* the file's key (its URL path), or NULL: the
				   listing cursor alone moves */
	const char *next_page;  /* where the day's listing resumes, "" its start */
};
/* Commits as store_commit_page, and b in the same transaction. */
int store_commit_batch(mw_store *s, int64_t source, const struct store_rec *recs, size_t n,
		       const struct store_cursor *c, const struct store_batch *b,
		       struct store_page_result *r, mw_err *e);
/* *taken 1 when the file was committed before. */
int store_batch_taken(mw_store *s, int64_t source, const char *subtype, int64_t day,
		      const char *file_key, int *taken, mw_err *e);
/* The sub-type's day and listing token: 1 found, 0 never read, -1 error. */
int store_batch_cursor(mw_store *s, int64_t source, const char *subtype, int64_t *day,
		       char *next_page, size_t n, mw_err *e);
/* A sub-type's reading as state export carries it to another store: the
 * day being read, its listing token and the files of that day taken (the
 * listing resumes on a page it may have taken files from already). */
struct store_batch_state {
	char subtype[64];
	int64_t day;
	char next_page[1024];
	size_t nfiles;
	char **keys;            /* the day's files taken, with their records */
	int64_t *records;
};
/* Every sub-type's reading of source (*n 0: none); free with
 * store_batch_states_free. */
int store_batch_states(mw_store *s, int64_t source, struct store_batch_state **out, size_t *n,
		       mw_err *e);
void store_batch_states_free(struct store_batch_state *b, size_t n);
/* Writes b's readings for source in one transaction, replacing each
 * sub-type's cursor and adding its files to the ledger. */
int store_batch_import(mw_store *s, int64_t source, const struct store_batch_state *b,
		       size_t n, mw_err *e);

/* The newest stored record time of source within [from, to], 0 if none. */
int store_newest_in(mw_store *s, int64_t source, int64_t from, int64_t to, int64_t *t,
		    mw_err *e);

/* Explicit reset (mimewatch reset): horizon = value, window cleared; a
 * "reset" event says from where to where (the coverage view's reason for
 * the gap a reset forward leaves). A batch type's dated listings restart
 * at the day of value, their files from that day on taken again (API
 * 1.0's SIEM token cannot go back and stays). */
int store_reset_cursor(mw_store *s, int64_t source, int64_t horizon, mw_err *e);
/* mimewatch state import: the source's own cursor (horizon, window, page
 * token) becomes c, with an "import" event; records stay as they are. */
int store_import_cursor(mw_store *s, int64_t source, const struct store_cursor *c, mw_err *e);

/* Live status of a source. The collector writes it; status, the console and
 * `status --json` read it. */
struct store_status {
	char integration[64];
	char type[16];
	int64_t source;
	char state[16];         /* idle collecting throttled retrying error paused */
	int paused;
	int64_t last_attempt, last_success; /* epoch s, 0 never */
	int64_t next_poll;      /* epoch s */
	char err_class[24];     /* mc_class_key, "ok" when fine */
	long http_status;
	char err_code[96], err_message[384], remedy[512];
	int64_t records_last_poll, records_24h, total, rejects;
	int64_t last_new_at;    /* when a record last arrived, epoch s */
	int64_t horizon, last_record_time;
	int64_t rl_limit, rl_remaining, rl_reset_ms;
	int64_t throttled_until; /* epoch ms, 0 none */
	char warning[384];       /* collection goes on despite this; "" none */
	int64_t outside;         /* records dated outside the window that asked */
	int64_t revised;         /* keyed records stored again with new content */
	int64_t updated;         /* epoch ms */
	/* From the cursor, read by store_list_status only (the console's
	 * backfill progress): the window being read, the newest record time
	 * inside it so far, and the records it received. */
	int in_window;
	int64_t win_from, win_to, win_progress, win_received;
};
/* Writes the collector-owned fields (total, records_24h and rejects are
 * kept by the store itself). */
int store_put_status(mw_store *s, const struct store_status *st, mw_err *e);
/* All sources, ordered by integration then type order; malloc'd array. */
int store_list_status(mw_store *s, struct store_status **out, size_t *n, mw_err *e);
int store_add_rejects(mw_store *s, int64_t source, int64_t n, mw_err *e);
/* Removes one integration's sources, cursors, status and records. */
int store_delete_integration(mw_store *s, const char *integration, mw_err *e);
/* Renames an integration in one transaction: its sources (and so cursors,
 * records with their rowids and runs, status) and the requests
 * not yet taken. Refused when the store already has sources under to. */
int store_rename_integration(mw_store *s, const char *from, const char *to, mw_err *e);
/* Every integration the store has sources of, with its record count. */
struct store_integration {
	char name[128];
	int64_t records;
};
int store_list_integrations(mw_store *s, struct store_integration **out, size_t *n,
			    mw_err *e);

/* Requests from the console (or any process) to the collector. */
struct store_request {
	int64_t id;
	char integration[64];   /* "" for all */
	char type[16];          /* "" for all */
	enum mw_request action; /* MW_REQ_UNKNOWN: a name this build does not know */
	char action_name[24];   /* as stored */
	char arg[256];
};
int store_request_add(mw_store *s, const char *integration, const char *type,
		      enum mw_request action, const char *arg, int64_t *id, mw_err *e);
/* Takes the oldest new request: 1 got one (now "running"), 0 none, -1 error. */
int store_request_take(mw_store *s, struct store_request *r, mw_err *e);
int store_request_finish(mw_store *s, int64_t id, int ok, const char *result, mw_err *e);
/* state: 0 new, 1 running, 2 done ok, 3 failed. */
int store_request_get(mw_store *s, int64_t id, int *state, char *result, size_t n, mw_err *e);

/* Records for outputs, by rowid. cb returns non-zero to stop. */
struct store_row {
	int64_t rowid;
	const char *integration, *type, *id;
	int64_t time, collected;
	const char *json;
	size_t json_len;
	int64_t revision;       /* 0 not keyed, 1 first revision, 2.. revised */
};
int store_each_after(mw_store *s, int64_t after_rowid, size_t limit,
		     int (*cb)(const struct store_row *row, void *ctx), void *ctx, mw_err *e);
/* A span of records by record time (replay): from after_rowid on, time in
 * [since, until), of one integration and one type when they are not NULL. */
struct store_time_span {
	int64_t since, until;
	const char *integration, *type;
};
int store_each_in_span(mw_store *s, const struct store_time_span *sp, int64_t after_rowid,
		       size_t limit, int (*cb)(const struct store_row *row, void *ctx),
		       void *ctx, mw_err *e);
int64_t store_max_rowid(mw_store *s);

/* Output offsets: last rowid delivered, and per file the committed size. */
int store_output_get(mw_store *s, const char *output, int64_t *last_rowid, mw_err *e);
/* Makes an output's offset at the newest record unless it has one: 1 made,
 * 0 it had one (start: now, output.h outputs_begin). */
int store_output_begin_now(mw_store *s, const char *output, mw_err *e);
struct store_file_size { char path[4096]; int64_t size; };
int store_output_files(mw_store *s, const char *output, struct store_file_size **out,
		       size_t *n, mw_err *e);
/* Registers files before they are first written to, at their current size. */
int store_output_register(mw_store *s, const char *output, const char *path, int64_t size,
			  mw_err *e);
/* Drops a file from an output's list (it was moved away or deleted by the
 * admin, so there is nothing left to cut back). */
int store_output_forget(mw_store *s, const char *output, const char *path, mw_err *e);
/* One transaction: the new offset and the committed sizes of the files. */
int store_output_commit(mw_store *s, const char *output, int64_t last_rowid,
			const struct store_file_size *files, size_t n, mw_err *e);
int store_output_status(mw_store *s, const char *output, const char *state,
			const char *error, mw_err *e);

/* What the console and `status` show of an output. */
struct store_output_info {
	char state[16];         /* "ok", "retrying", "error" (needs a person), "idle" */
	char error[1024];       /* the last error with its remedy; "" when ok */
	int64_t updated_ms;     /* the last state change or delivery */
	int64_t last_rowid;     /* the offset */
	int64_t lag_records;    /* stored records not yet delivered to it */
	int64_t lag_seconds;    /* age (since collected) of the oldest of them; 0 if none */
	int64_t delivered;      /* records in the store it has delivered */
};
int store_output_info(mw_store *s, const char *output, struct store_output_info *out,
		      mw_err *e);
/* The same, for a reader that asks again and again (the console, after
 * every change): c keeps the counts between calls, so a call costs the
 * records added and delivered since the last one, not a count of the whole
 * store; after a deletion (a revision, retention, deleting an integration)
 * it counts everything once. Start with c zeroed; one c per output. */
struct store_output_cache {
	int valid;
	char output[128];
	int64_t last_rowid, max_rowid, delivered, lag_records;
	int64_t revised, deleted;       /* what moves when records are deleted */
};
int store_output_info_cached(mw_store *s, const char *output, struct store_output_cache *c,
			     struct store_output_info *out, mw_err *e);
/* n records were deleted other than by a revision (retention, deleting an
 * integration): store_output_info_cached's readers count again. */
void store_note_deleted(mw_store *s, int64_t n);

/* Retention: deletes records older than `before` (record time) that every
 * output has delivered (rowid <= max_rowid). Returns rows deleted or -1. */
int64_t store_prune(mw_store *s, int64_t before, int64_t max_rowid, mw_err *e);
/* The store's size (volume.c): used, the database's pages in use wherever
 * they are (the database file or the WAL), is what max_store counts; its
 * free pages (deleted records' pages, reused before the file grows) and the
 * WAL file (reused after each checkpoint, cut back to 64 MiB) are not. */
struct store_size {
	int64_t used, free_bytes, file_bytes, wal_bytes;
};
int store_size(mw_store *s, struct store_size *out, mw_err *e);
/* max_store and pass-through (HACKING, "The store's budget and
 * pass-through"): deletes records every output has delivered (rowid <=
 * max_rowid) that no window can read again (each source's dedup horizon,
 * less overlap), oldest rowid first, a batch per transaction, until
 * store_size's used is at most target (target < 0: every such record).
 * Returns the records deleted, or -1. */
int64_t store_prune_delivered(mw_store *s, int64_t max_rowid, int64_t overlap, int64_t target,
			      mw_err *e);
/* The newest record time of source that those deleted, 0 none: what the
 * console says its preview no longer holds. */
int64_t store_pruned_before(mw_store *s, int64_t source);
/* The oldest point a window still in the store's cursors starts from (the
 * horizon, an open window's start, a queued backfill's), INT64_MAX when
 * nothing was collected:
 * with the overlap subtracted, records from there on may be asked for again
 * and must stay to be recognised as duplicates, whatever the retention. */
int64_t store_reread_floor(mw_store *s);

/* Small key/value table (schema version, collector pid, ...). */
int store_meta_get(mw_store *s, const char *key, char *val, size_t n);
int store_meta_set(mw_store *s, const char *key, const char *val, mw_err *e);

/* Where this connection's view of the store stands: it moves whenever this
 * connection or another commits (PRAGMA data_version and this connection's
 * own changes), so a reader can skip reading again what cannot have
 * changed. Reads no table. 0, or -1 on error. */
struct store_mark {
	int64_t data_version, own_changes;
};
int store_change_mark(mw_store *s, struct store_mark *m);

/* Test and tooling seam: the records stored for a source, from its runs
 * (exact while records go only through the store's own deletes). */
int64_t store_count(mw_store *s, int64_t source);

/* ---- reading records for the console's preview ------------------------------
 * Pages are read through the source's runs (a row per page committed) or,
 * threats only, their partial index, never by loading a whole source, so
 * the preview stays instant with millions of records stored. */

/* The id of (integration, type) if it exists: 1 found, 0 none, -1 error.
 * Unlike store_source it never creates one (the console only reads). */
int store_find_source(mw_store *s, const char *integration, const char *type, int64_t *id,
		      mw_err *e);

/* Which records of one source the preview shows. text (NULL or "": none)
 * matches case-insensitively inside any string value of the record, at any
 * depth; keys, numbers and booleans are not searched. threats_only keeps the
 * records that matched the type's threat rule when stored. */
struct store_query {
	int64_t source;
	const char *text;
	int threats_only;
};

/* Where a scan resumes. pos is an exclusive rowid bound: 0 is the start (the
 * newest record when scanning older, the oldest when scanning newer). */
struct store_scan {
	int64_t pos;
	int done;               /* set once no record is left beyond pos */
};

/* Scans the records of q->source from sc->pos, newest first (newer = 0) or
 * oldest first (newer = 1), and calls cb for each one matching q until limit
 * matches were delivered (0: no limit), cb returned non-zero, or budget rows
 * were examined (0: no limit; bounds the work of a text filter per call).
 * sc->pos is left on the last row examined, so the next call continues
 * after it. cb must not use s. Returns the matches delivered, or -1. */
int store_query_page(mw_store *s, const struct store_query *q, int newer,
		     struct store_scan *sc, size_t limit, size_t budget,
		     int (*cb)(const struct store_row *row, void *ctx), void *ctx, mw_err *e);

/* Exact count of the records of q->source with after < rowid <= upto that
 * match q; answered from the index alone. q->text must be empty: a text
 * filter needs a scan (store_query_page). */
int store_query_count(mw_store *s, const struct store_query *q, int64_t after, int64_t upto,
		      int64_t *n, mw_err *e);

/* The words of a filter, for the console to mark where they matched: each
 * with the JSON key of the field it is limited to ("" for any), one entry
 * per field a name stands for; time bounds are left out. Returns how many
 * (at most max). */
struct store_filter_word {
	char field[64];
	char text[256];
};
size_t store_filter_words(const char *text, const char *type, struct store_filter_word *out,
			  size_t max);

/* 1 when the record passes the filter text (store_query's; a field named
 * by its JSON key alone), else 0. json is a stored record. */
int store_record_matches(const char *json, size_t len, const char *text);

/* One record by rowid (the detail view): calls cb once and returns 1, 0 when
 * there is no such record, -1 on error. cb must not use s. */
int store_get_row(mw_store *s, int64_t rowid,
		  int (*cb)(const struct store_row *row, void *ctx), void *ctx, mw_err *e);

/* ---- sort.c: the preview sorted by a column ---------------------------------
 * No index orders records by a value inside their JSON, so a sort is
 * bounded: the newest STORE_SORT_MAX records matching a query (for the
 * stored time in ascending order, the oldest), read a budget of rows per
 * step so a caller can stay responsive, their column values sorted in
 * memory (equal values: the newer record first). Pages are read by rank. */
#define STORE_SORT_MAX 100000
typedef struct store_sort store_sort;
/* field: the record key whose value orders the list (JSON numbers by
 * value, before text; text case-insensitively by its first 47 bytes;
 * missing or empty first), or NULL for the stored time. desc: largest
 * first. max: the bound (0: STORE_SORT_MAX). upto: the newest rowid taken
 * (store_max_rowid when the sort starts). q->text is copied. */
store_sort *store_sort_new(const struct store_query *q, const char *field, int desc,
			   size_t max, int64_t upto);
void store_sort_free(store_sort *ss);
/* Reads at most budget rows (0: no bound) towards the sort: 1 more to do,
 * 0 sorted, -1 error. */
int store_sort_step(mw_store *s, store_sort *ss, size_t budget, mw_err *e);
struct store_sort_info {
	int sorted;             /* store_sort_step has returned 0 */
	size_t records;         /* records in the sort (so far) */
	int capped;             /* more records matched than the bound took */
	int oldest;             /* the bound took the oldest, not the newest */
	size_t max;
};
void store_sort_info(const store_sort *ss, struct store_sort_info *out);
/* The sorted records from rank sc->pos (1-based; exclusive; 0 is the start),
 * down the list (up = 0: ranks pos+1, pos+2 ...) or up it (up = 1: pos-1 ...;
 * pos 0 starts from the last), as store_query_page does: sc->pos is left on
 * the rank of the last row read, and is already that row's rank when cb is
 * called. Records deleted since the sort are skipped. Returns the rows
 * delivered, or -1. */
int store_sort_page(mw_store *s, store_sort *ss, int up, struct store_scan *sc, size_t limit,
		    int (*cb)(const struct store_row *row, void *ctx), void *ctx, mw_err *e);

/* ---- events.c: the collector's recent events -------------------------------
 * What happened, newest first, for the console's events view and `status
 * --events`: windows started and finished, retries with their reason, 429
 * waits, token refreshes, config reloads, output errors and recoveries. A
 * few rows per window, never one per page. The table keeps the newest
 * STORE_EVENTS_KEEP rows: each insert deletes what fell below that bound by
 * id, one index seek. */
#define STORE_EVENTS_KEEP 10000
#define STORE_EVENTS_PENDING 4
struct store_event {
	int64_t id;             /* increasing: the order they happened in */
	int64_t time;           /* epoch s */
	char integration[64];   /* "" when none (an output, a reload) */
	char type[16];          /* "" when none */
	char kind[24];          /* e.g. "window started", "429 wait", "retry" */
	char text[400];         /* one line, no secrets */
};
/* Adds an event now, in a transaction of its own, or in the caller's
 * transaction when one is open on s. */
int store_event_add(mw_store *s, const char *integration, const char *type, const char *kind,
		    const char *text, mw_err *e);
/* Notes an event to be written by the next store_commit_page of s, in its
 * transaction (a window's start and end go with the page that records
 * them), or by store_event_add / store_event_flush, whichever comes first.
 * At most STORE_EVENTS_PENDING wait; more are written at once. */
void store_event_defer(mw_store *s, const char *integration, const char *type,
		       const char *kind, const char *text);
/* Writes the deferred events, if any, in a transaction of their own. */
int store_event_flush(mw_store *s, mw_err *e);
/* Up to limit events with id < before (0: from the newest), newest first;
 * malloc'd array in *out (NULL when none). */
int store_events_list(mw_store *s, int64_t before, size_t limit, struct store_event **out,
		      size_t *n, mw_err *e);
/* The newest event's id (0 when none, -1 on error): a reader polls it to
 * know whether there is anything new to read. */
int64_t store_events_newest(mw_store *s);

/* ---- coverage.c: what was collected, and backfills of what was not --------
 * Per source, the spans of record time a completed window read (spans,
 * merged as they touch: a handful of rows), so "collected" survives a reset
 * and a restart; the gaps are what lies between. A backfill is a window over
 * one span, queued by the console (MW_REQ_BACKFILL) and read by the
 * collector beside the source's own cursor, resumed from its row after a
 * crash like a cursor; the span is covered when it completes. */
struct store_span {
	int64_t from, to;       /* record time, epoch s, inclusive */
};
/* A backfill is never given up: a failing one is tried again, as a window is. */
enum { STORE_BF_QUEUED = 0, STORE_BF_DONE = 2 };
struct store_backfill {
	int64_t id, source;
	int64_t from, to;       /* the span asked for */
	int state;              /* STORE_BF_*; QUEUED also while it is read */
	struct store_cursor cur;/* where it resumes (cur.backfill = id) */
	int64_t created, updated;
};
/* Queues a backfill of [from, to] of source: *id its id. */
int store_backfill_add(mw_store *s, int64_t source, int64_t from, int64_t to, int64_t *id,
		       mw_err *e);
/* The oldest queued backfill of source: 1 found (b set), 0 none, -1 error. */
int store_backfill_next(mw_store *s, int64_t source, struct store_backfill *b, mw_err *e);
/* [from, to] collected (merged with the spans it touches or overlaps). */
int store_span_add(mw_store *s, int64_t source, int64_t from, int64_t to, mw_err *e);

struct store_reset {
	int64_t at;             /* when (epoch s) */
	int64_t from, to;       /* the horizon before and after; from 0: none */
};
/* A source's coverage over [from, to). */
struct store_coverage {
	int64_t from, to;
	struct store_span *spans;       /* those touching [from, to), oldest first */
	size_t nspans;
	int64_t first_span;             /* the start of the source's oldest span, 0 none */
	int64_t *hours;                 /* records per hour of record time: hours[k]
					   counts [from + 3600 k, + 3600); NULL
					   unless asked for */
	size_t nhours;
	struct store_backfill *bf;      /* queued ones, and those done within
					   [from, to), oldest first */
	size_t nbf;
	struct store_reset *resets;     /* from the events the store still keeps */
	size_t nresets;
	struct store_cursor cur;        /* the source's own cursor */
};
/* Reads it; counts = 1 also counts records per hour (from the records'
 * unique index on (source, time, id), no table row read: see coverage.c
 * for its cost). from is rounded down to the hour. */
int store_coverage(mw_store *s, int64_t source, int64_t from, int64_t to, int counts,
		   struct store_coverage *c, mw_err *e);
void store_coverage_free(struct store_coverage *c);
/* Counts again only the hours of hours[] (hours[k] is [from + 3600 k,
 * + 3600)) that meet [lo, hi): a reader that keeps the counts recounts
 * where records can have come since (the windows under way), not the
 * month. */
int store_count_hours(mw_store *s, int64_t source, int64_t from, size_t nhours, int64_t *hours,
		      int64_t lo, int64_t hi, mw_err *e);

/* ---- watch.c: what the console polls (a read-only connection of its own; the lock) ---- */

typedef struct store_watch store_watch;

/* Opens state_dir/store.db read-only (never creating nor writing it): 0, or
 * -1 with the reason (e.g. no store yet). */
int store_watch_open(const char *state_dir, store_watch **out, mw_err *e);
void store_watch_close(store_watch *w);
/* 1 when another connection committed since the last call (PRAGMA
 * data_version; the first call counts as a change), else 0. */
int store_watch_changed(store_watch *w);
/* 1 when a request is new or running, or when a fetch, resume or reset
 * finished after since_ms (wall clock) but a collection it made due, not
 * paused, has not written its status since (not begun yet); 0 when none;
 * -1 on error. */
int store_watch_pending(store_watch *w, int64_t since_ms);
/* How many requests are new or running (no collector has finished them),
 * or -1 on error. */
int store_watch_open_requests(store_watch *w);
/* Whether another process holds the collector lock (store_lock), asked
 * without taking it for longer than a system call, nor creating or writing
 * the lock file: 1 held (*pid the pid the holder wrote, 0 while it has not
 * yet; the previous holder's for a moment after a new one took it), 0 free,
 * -1 error. A process holding the lock itself must not ask: its own lock
 * would answer "held". */
int store_lock_holder(const char *state_dir, long *pid);

#endif
