/* view_logs.c - the log preview: one table per type, newest at the top, with
 * the type's columns from the log-type table.
 *
 * Nothing here loads a whole source. The screen keeps a small buffer of rows
 * around what it shows and reads more from the store as it scrolls, through
 * store_query_page (a source's runs of rows). A text filter may
 * have to look at many rows to find a few, so every read is bounded (rows
 * per call, milliseconds per slice) and continues on the next tick: keys are
 * handled between slices and the screen says it is searching. Script mode's
 * wait-idle waits for that work through ui_busy().
 *
 * Following: while at the newest rows, new records appear at the top as the
 * collector stores them; paused (Space, or scrolling away), the rows stay
 * put and a counter says how many matching records arrived since.
 *
 * Columns and order come from logs_columns.c. Sorted by anything but the
 * time, newest first, the rows come from a bounded sort (store/sort.c, the
 * newest STORE_SORT_MAX matching records) made a slice per work step like
 * a filter's search, and read by rank; a row's pos is its place in either
 * list. A sorted list does not follow: new records are only counted. The
 * export (x) is logs_export.c's. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonscan.h"
#include "logtypes.h"
#include "session.h"
#include "store/store.h"
#include "ui.h"
#include "util.h"

#define MAX_COLS UI_MAX_COLS
#define MAX_WANT 120            /* rows on screen; taller terminals show this many */
#define MAX_ROWS (4 * MAX_WANT + 8)
#define SLICE_ROWS 2000         /* rows examined per store call with a text filter */
#define SLICE_MS 15             /* work per slice before keys get their turn */
#define FOLLOW_GAP 20000        /* more new rows than this: re-read from the newest */
#define TOP_LINES 3             /* tabs, state line, column headings */
#define BOTTOM_LINES 1          /* the prompt or progress line */
#define FILTER_PAUSE_MS 250     /* typing paused this long: the filter applies */

struct cellrow {
	int64_t rowid;
	int64_t pos;            /* its place in the list: the rowid, or in a sort the
				 * rank (struct store_scan's pos either way) */
	int64_t time;           /* the stored time: its cell is written when drawn, in
				 * the console's zone (ui_fmt_time) */
	int threat;
	char *cell[MAX_COLS];   /* decoded values; sanitised only when drawn */
	size_t len[MAX_COLS];   /* bytes: a value may hold NUL */
};

enum prompt { PROMPT_NONE, PROMPT_FILTER, PROMPT_EXPORT };

struct logs {
	char integration[64];
	int type;
	const struct mw_logtype *lt;
	int64_t source;         /* 0: nothing stored for this type yet */
	int collects;           /* the config collects this type for the integration */
	unsigned types;         /* the types the integration collects (all when unknown):
				 * the tabs and Tab's cycle; 1-9 still pick any by index */
	int64_t total;          /* records of the type (store status) */
	struct store_status st; /* the type's status, when source > 0 */
	/* max_store or pass-through deleted delivered records of the type up
	 * to this record time (0 none): the list holds `stored` of total. */
	int64_t pruned, stored;

	char text[256];         /* the filter */
	int threats;

	/* rows[0..nrows) newest first, all matching; rows[first..first+want)
	 * are on screen, rows[cur] is selected. */
	struct cellrow *rows;
	int nrows, first, cur, want;
	int at_top;             /* no matching row is newer than rows[0] (as of head) */
	struct store_scan fill; /* reading older rows resumes here */
	/* reading newer rows above rows[0] */
	int seek_rows;          /* rows still wanted */
	int seek_moves;         /* how many of them the window moves up by */
	int seek_end;           /* End: keep the cursor on the oldest row */
	struct store_scan up;

	int following;
	int64_t head;           /* every row up to head was looked at for the top */
	int64_t fresh;          /* paused: matching records that arrived */
	int64_t fresh_pos;
	int fresh_more;         /* the count of arrivals is still being made */

	int64_t count;          /* matching records up to cnt.pos */
	struct store_scan cnt;
	int count_ok;           /* cnt reached the newest row once */

	/* Sorted by a column (logs_columns.c): the bounded sort the rows come
	 * from, by rank, and what it was made for. NULL: the store's order. */
	store_sort *sort;
	int sort_col, sort_desc;
	int sort_failed;        /* a store error stopped making it: no retry loop */
	const struct store_scan *at;    /* the scan delivering rows: row_fill's pos */

	struct logs_export *exp;        /* x: logs_export.c */
	enum prompt prompt;
	struct ui_field field;
	char text_before[256];  /* the filter when its prompt opened (Esc) */
	struct store_filter_word words[16];  /* the filter's words, marked in the rows */
	size_t nwords;
	int64_t typed_at;       /* mono ms of the last edit not yet applied, 0 none */
	int busy;               /* holding ui_busy(+1) */
	int dir;                /* logs_step's direction, for take_one */
	struct ui_record_arg detail;    /* the record the detail shows, and J/K */
	int64_t shown;          /* the selected row's rowid at the last draw, 0 none */
	int rows_y;             /* the screen line of the first row drawn */
	char title[192];
	char export_next[4096]; /* a free name x proposes after "exists", or "" */
	char error[256];        /* the last store error, shown in place of rows */
	js_doc doc;
	mw_buf scratch;
};

/* `m` is kept across types; it filters only a type that has a verdict. */
static int threats_on(const struct logs *l)
{
	return l->threats && logtype_has_verdict(l->lt);
}

static struct store_query query_of(const struct logs *l)
{
	struct store_query q = { .source = l->source, .text = l->text,
				 .threats_only = threats_on(l) };

	return q;
}

static int filtered(const struct logs *l)
{
	return l->text[0] || threats_on(l);
}

static void note_error(struct logs *l, struct ui_ctx *ctx, const mw_err *e)
{
	mw_strlcpy(l->error, e->msg, sizeof(l->error));
	ui_message(ctx, ROLE_ERROR, "%s", e->msg);
}

/* ---- the row buffer --------------------------------------------------------- */

static void row_free(struct cellrow *r)
{
	for (int c = 0; c < MAX_COLS; c++) {
		free(r->cell[c]);
		r->cell[c] = NULL;
	}
}

/* The text of the value at tok: strings decoded (NUL included, so *len),
 * everything else as written. */
static char *value_text(struct logs *l, int tok, size_t *len)
{
	const js_tok *t = &l->doc.toks[tok];
	char *v;

	mw_buf_reset(&l->scratch);
	if (t->type == JS_STRING)
		js_str(&l->doc, tok, &l->scratch);
	else if (t->type != JS_NULL)
		mw_buf_append(&l->scratch, l->doc.buf + t->start, t->end - t->start);
	v = mw_xmalloc(l->scratch.len + 1);
	memcpy(v, l->scratch.data ? l->scratch.data : "", l->scratch.len);
	v[l->scratch.len] = '\0';
	*len = l->scratch.len;
	return v;
}

/* Whether the record meets the type's threat rule (for the row's colour). */
static int row_is_threat(struct logs *l)
{
	int tok = logtype_has_verdict(l->lt) ? js_get(&l->doc, 0, l->lt->threat_field) : -1;
	size_t n;
	char *v;
	int hit = 0;

	if (tok < 0)
		return 0;
	v = value_text(l, tok, &n);
	for (const char *const *tv = l->lt->threat_values; *tv && !hit; tv++)
		hit = strlen(*tv) == n && memcmp(v, *tv, n) == 0;
	free(v);
	return hit;
}

static void row_fill(struct logs *l, struct cellrow *r, const struct store_row *src)
{
	mw_err e;
	size_t ncols = l->lt->ncolumns < MAX_COLS ? l->lt->ncolumns : MAX_COLS;
	int parsed = js_parse(&l->doc, src->json, src->json_len, &e) == 0 && l->doc.ntoks &&
		     l->doc.toks[0].type == JS_OBJECT;

	memset(r, 0, sizeof(*r));
	r->rowid = src->rowid;
	r->pos = l->at ? l->at->pos : src->rowid;
	/* The stored time, uniform whatever the record's format. */
	r->time = src->time;
	for (size_t c = 0; c < ncols; c++) {
		const struct mw_column *col = &l->lt->columns[c];
		int tok;

		if (strcmp(col->field, l->lt->time_field) == 0)
			continue;
		tok = parsed ? js_get(&l->doc, 0, col->field) : -1;
		if (tok >= 0) {
			r->cell[c] = value_text(l, tok, &r->len[c]);
		} else {
			r->cell[c] = mw_xstrdup("");
			r->len[c] = 0;
		}
	}
	r->threat = parsed && row_is_threat(l);
}

static void buf_clear(struct logs *l)
{
	for (int i = 0; i < l->nrows; i++)
		row_free(&l->rows[i]);
	l->nrows = l->first = l->cur = 0;
}

static void buf_drop_back(struct logs *l, int k)
{
	if (k <= 0)
		return;
	if (k > l->nrows)
		k = l->nrows;
	for (int i = l->nrows - k; i < l->nrows; i++)
		row_free(&l->rows[i]);
	l->nrows -= k;
	/* Reading older rows resumes after the last one kept. */
	l->fill.pos = l->nrows ? l->rows[l->nrows - 1].pos : l->fill.pos;
	l->fill.done = 0;
	if (l->cur >= l->nrows)
		l->cur = l->nrows ? l->nrows - 1 : 0;
	if (l->first > l->cur)
		l->first = l->cur;
}

static void buf_drop_front(struct logs *l, int k)
{
	if (k <= 0)
		return;
	if (k > l->nrows)
		k = l->nrows;
	for (int i = 0; i < k; i++)
		row_free(&l->rows[i]);
	memmove(l->rows, l->rows + k, (size_t)(l->nrows - k) * sizeof(l->rows[0]));
	l->nrows -= k;
	l->first = l->first > k ? l->first - k : 0;
	l->cur = l->cur > k ? l->cur - k : 0;
	l->at_top = 0;
}

static int push_back(const struct store_row *row, void *ctx)
{
	struct logs *l = ctx;

	if (l->nrows >= MAX_ROWS)
		return 1;
	row_fill(l, &l->rows[l->nrows++], row);
	return 0;
}

/* Rows found above rows[0] arrive oldest first: each goes on top. */
static int push_front(const struct store_row *row, void *ctx)
{
	struct logs *l = ctx;

	if (l->nrows >= MAX_ROWS)
		buf_drop_back(l, 1);
	memmove(l->rows + 1, l->rows, (size_t)l->nrows * sizeof(l->rows[0]));
	row_fill(l, &l->rows[0], row);
	l->nrows++;
	if (l->nrows > 1) {
		l->first++;
		l->cur++;
	}
	if (l->seek_rows > 0)
		l->seek_rows--;
	if (l->seek_moves > 0) {
		l->seek_moves--;
		if (l->first > 0)
			l->first--;
		if (l->cur > 0)
			l->cur--;
	}
	if (l->seek_end) {
		l->cur = l->nrows - 1;
		l->first = l->nrows > l->want ? l->nrows - l->want : 0;
	}
	return l->seek_rows == 0;
}

static int count_one(const struct store_row *row, void *ctx)
{
	(void)row;
	(*(int64_t *)ctx)++;
	return 0;
}

/* ---- reading ---------------------------------------------------------------------- */

static int64_t max_rowid(struct ui_ctx *ctx)
{
	int64_t m = store_max_rowid(ctx->store);

	return m < 0 ? 0 : m;
}

/* Starts the page again from the newest matching record. */
static void reset_page(struct logs *l, struct ui_ctx *ctx)
{
	buf_clear(l);
	l->fill = (struct store_scan){ 0, l->source == 0 };
	l->up = (struct store_scan){ 0, 1 };
	l->seek_rows = l->seek_moves = l->seek_end = 0;
	l->at_top = 1;
	l->error[0] = '\0';
	/* A sort's top is its rank 1: what arrived since it began is still
	 * not in it, and still counted. */
	if (l->sort)
		return;
	/* Rows committed after this are newer than it: following and the
	 * paused counter look above it. */
	l->head = max_rowid(ctx);
	l->fresh = 0;
	l->fresh_pos = l->head;
}

static void reset_count(struct logs *l)
{
	l->count = 0;
	l->cnt = (struct store_scan){ 0, 0 };
	l->count_ok = 0;
}

static void pause_following(struct logs *l);
static void work(struct logs *l, struct ui_ctx *ctx);

/* Rows in the list's order from sc: the store's (newest first; up = newer)
 * or the sort's (by rank; up = towards rank 1). cb's rows take their place
 * from sc (row_fill). */
static int read_rows(struct logs *l, struct ui_ctx *ctx, int up, struct store_scan *sc,
		     size_t limit, size_t budget, int (*cb)(const struct store_row *, void *),
		     mw_err *e)
{
	struct store_query q = query_of(l);
	int r;

	l->at = sc;
	if (l->sort)
		r = store_sort_page(ctx->store, l->sort, up, sc, limit, cb, l, e);
	else
		r = store_query_page(ctx->store, &q, up, sc, limit, budget, cb, l, e);
	l->at = NULL;
	return r;
}

static int sort_building(const struct logs *l)
{
	struct store_sort_info si;

	if (!l->sort)
		return 0;
	store_sort_info(l->sort, &si);
	return !si.sorted;
}

/* The list from its top again, in the order logs_columns.c says: the
 * store's own, following (if it was), or a new bounded sort of what
 * matches now, which does not follow. */
static void sort_restart(struct logs *l, struct ui_ctx *ctx)
{
	struct store_query q = query_of(l);

	store_sort_free(l->sort);
	l->sort = NULL;
	l->sort_failed = 0;
	l->sort_col = columns_sort(l->type, &l->sort_desc);
	reset_page(l, ctx);
	if (columns_sorted(l->type) && l->source > 0) {
		pause_following(l);
		l->sort = store_sort_new(&q, columns_sort_field(l->type), l->sort_desc, 0,
					 l->head);
		l->fill.done = 0;
	}
}

/* The order changed under the list (s, S, the chooser): start it again. */
static void sort_sync(struct logs *l, struct ui_ctx *ctx)
{
	int desc, col = columns_sort(l->type, &desc);

	if (col == l->sort_col && desc == l->sort_desc && (l->sort_failed ||
	    (l->sort != NULL) == (columns_sorted(l->type) && l->source > 0)))
		return;
	sort_restart(l, ctx);
	work(l, ctx);
}

/* Rows the buffer should hold below the window: a page of lookahead. */
static int fill_target(const struct logs *l)
{
	int t = l->first + 2 * l->want + 1;

	return t > MAX_ROWS ? MAX_ROWS : t;
}

static size_t budget_of(const struct logs *l)
{
	return l->text[0] ? SLICE_ROWS : 0;
}

/* The pending work, most visible first. Each step returns 1 when it did a
 * slice and has more to do, 0 when it has nothing pending, -1 on a store
 * error (e set). */

/* Rows newer than the page: scrolling up, End, following with a filter. */
static int step_seek(struct logs *l, struct ui_ctx *ctx, mw_err *e)
{
	if (l->seek_rows <= 0 || l->up.done || sort_building(l))
		return 0;
	if (read_rows(l, ctx, 1, &l->up, (size_t)l->seek_rows, budget_of(l), push_front, e) < 0)
		return -1;
	if (l->up.done) {
		l->at_top = 1;
		l->seek_rows = l->seek_moves = 0;
		if (!l->sort && l->up.pos > l->head)
			l->head = l->up.pos;
	}
	if (l->seek_rows == 0)
		l->seek_end = 0;
	return l->seek_rows > 0 && !l->up.done;
}

/* Older rows below the window, a page of lookahead. */
static int step_fill(struct logs *l, struct ui_ctx *ctx, mw_err *e)
{
	if (l->fill.done || l->nrows >= fill_target(l) || sort_building(l))
		return 0;
	if (read_rows(l, ctx, 0, &l->fill, (size_t)(fill_target(l) - l->nrows), budget_of(l),
		      push_back, e) < 0)
		return -1;
	if (!l->sort && l->at_top && l->nrows && l->rows[0].rowid > l->head)
		l->head = l->rows[0].rowid;
	return !l->fill.done && l->nrows < fill_target(l);
}

/* Paused: how many matching records arrived since. */
static int step_fresh(struct logs *l, struct ui_ctx *ctx, mw_err *e)
{
	struct store_query q = query_of(l);
	int64_t m;

	l->fresh_more = 0;
	if (l->following || (m = max_rowid(ctx)) <= l->fresh_pos)
		return 0;
	if (!l->text[0]) {
		int64_t k = 0;

		if (store_query_count(ctx->store, &q, l->fresh_pos, m, &k, e) < 0)
			return -1;
		l->fresh += k;
		l->fresh_pos = m;
		return 0;
	}
	struct store_scan sc = { l->fresh_pos, 0 };

	if (store_query_page(ctx->store, &q, 1, &sc, 0, SLICE_ROWS, count_one, &l->fresh, e) < 0)
		return -1;
	/* Done: every row up to m was looked at (m was read before). */
	l->fresh_pos = sc.done ? m : sc.pos;
	l->fresh_more = !sc.done;
	return l->fresh_more;
}

/* How many records match the filter, kept up to date as rows arrive. */
static int step_count(struct logs *l, struct ui_ctx *ctx, mw_err *e)
{
	struct store_query q = query_of(l);
	int64_t m;

	if (!filtered(l))
		return 0;
	m = max_rowid(ctx);
	if (!l->text[0]) {
		if (m > l->cnt.pos) {
			int64_t k = 0;

			if (store_query_count(ctx->store, &q, l->cnt.pos, m, &k, e) < 0)
				return -1;
			l->count += k;
			l->cnt.pos = m;
		}
		l->cnt.done = l->count_ok = 1;
		return 0;
	}
	if (l->cnt.done && m <= l->cnt.pos)
		return 0;
	l->cnt.done = 0;
	if (store_query_page(ctx->store, &q, 1, &l->cnt, 0, SLICE_ROWS, count_one, &l->count,
			     e) < 0)
		return -1;
	if (l->cnt.done) {
		l->count_ok = 1;
		if (m > l->cnt.pos)
			l->cnt.pos = m;
	}
	return !l->cnt.done;
}

/* A sort being made: a slice of the records it reads. */
static int step_sort(struct logs *l, struct ui_ctx *ctx, mw_err *e)
{
	if (!sort_building(l))
		return 0;
	return store_sort_step(ctx->store, l->sort, SLICE_ROWS, e);
}

static int work_step(struct logs *l, struct ui_ctx *ctx, mw_err *e)
{
	int r;

	if (!l->source)
		return 0;
	if ((r = step_sort(l, ctx, e)) != 0 || (r = step_seek(l, ctx, e)) != 0 ||
	    (r = step_fill(l, ctx, e)) != 0 || (r = step_fresh(l, ctx, e)) != 0)
		return r;
	if (l->exp && (r = logs_export_step(ctx, &l->exp)) != 0)
		return r;
	return step_count(l, ctx, e);
}

static int pending(const struct logs *l)
{
	if (!l->source)
		return 0;
	if (sort_building(l))
		return 1;
	if (l->seek_rows > 0 && !l->up.done)
		return 1;
	if (!l->fill.done && l->nrows < fill_target(l))
		return 1;
	return l->exp || l->fresh_more || (filtered(l) && !l->cnt.done);
}

static void set_busy(struct logs *l, int b)
{
	if (b && !l->busy)
		ui_busy(+1);
	else if (!b && l->busy)
		ui_busy(-1);
	l->busy = b;
}

/* Runs pending work for one slice, then asks for a tick if more remains. */
static void work(struct logs *l, struct ui_ctx *ctx)
{
	int64_t deadline = mw_mono_ms() + SLICE_MS;
	mw_err e;
	int r;

	mw_err_clear(&e);
	do
		r = work_step(l, ctx, &e);
	while (r > 0 && mw_mono_ms() < deadline);
	if (r < 0) {
		note_error(l, ctx, &e);
		/* Stop what failed rather than retrying it forever. */
		l->fill.done = 1;
		l->up.done = 1;
		l->seek_rows = 0;
		l->cnt.done = 1;
		if (sort_building(l)) {
			store_sort_free(l->sort);
			l->sort = NULL;
			l->sort_failed = 1;
		}
		l->fresh_more = 0;
		if (l->exp)
			logs_export_finish(ctx, &l->exp, 0);
	}
	if (pending(l))
		ui_tick(1);
	set_busy(l, pending(l));
}

/* ---- moving ------------------------------------------------------------------------- */

static void pause_following(struct logs *l)
{
	if (!l->following)
		return;
	l->following = 0;
	l->fresh = 0;
	l->fresh_pos = l->head;
}

static void seek_up(struct logs *l, int rows, int moves, int end)
{
	if (l->at_top && !end)
		return;
	l->seek_rows = rows;
	l->seek_moves = moves;
	l->seek_end = end;
	l->up = (struct store_scan){ l->nrows ? l->rows[0].pos : 0, 0 };
}

static void move_down(struct logs *l, int k)
{
	if (!l->nrows)
		return;
	l->cur += k;
	if (l->cur >= l->nrows)
		l->cur = l->nrows - 1;
	if (l->cur >= l->first + l->want)
		l->first = l->cur - l->want + 1;
	/* Rows far above the window go; they are read again if needed. */
	if (l->first > 2 * l->want + 8)
		buf_drop_front(l, l->first - l->want);
}

static void move_up(struct logs *l, int k)
{
	int short_by = k - l->cur;

	if (!l->nrows)
		return;
	if (short_by > 0 && !l->at_top) {
		/* Above the buffer: read that many newer rows, then move. */
		pause_following(l);
		seek_up(l, short_by, short_by, 0);
	}
	l->cur = l->cur > k ? l->cur - k : 0;
	if (l->cur < l->first)
		l->first = l->cur;
}

/* Up, Down, PgUp, PgDn by page rows. */
static void move_by(struct logs *l, enum ui_action a, int page)
{
	int k, room;

	switch (a) {
	case ACT_UP: move_up(l, 1); break;
	case ACT_DOWN: move_down(l, 1); break;
	case ACT_PAGE_UP:
		/* The window and the selection move up a page together; what the
		 * buffer lacks above is read from the store. */
		k = l->first < page ? l->first : page;
		l->first -= k;
		l->cur -= k;
		if (k < page && !l->at_top) {
			pause_following(l);
			seek_up(l, page - k, page - k, 0);
		} else if (k == 0) {
			l->cur = l->first;
		}
		break;
	case ACT_PAGE_DOWN:
		room = l->nrows - l->want - l->first;
		k = room < page ? (room > 0 ? room : 0) : page;
		if (k > 0) {
			pause_following(l);
			l->first += k;
			l->cur += k;
		} else {
			l->cur = l->nrows ? l->nrows - 1 : 0;
		}
		move_down(l, 0);
		break;
	default:
		break;
	}
}

static int64_t selected_rowid(const struct logs *l)
{
	return l->cur < l->nrows ? l->rows[l->cur].rowid : 0;
}

/* Whether the rows read hold rowid (another type's rows never do). */
static int in_buffer(const struct logs *l, int64_t rowid)
{
	for (int i = 0; rowid && i < l->nrows; i++)
		if (l->rows[i].rowid == rowid)
			return 1;
	return 0;
}

static void go_newest(struct logs *l, struct ui_ctx *ctx)
{
	if (l->at_top) {
		l->first = l->cur = 0;
	} else {
		reset_page(l, ctx);
	}
	if (l->sort)
		return;
	l->fresh = 0;
	l->fresh_pos = l->head;
}

static void go_oldest(struct logs *l)
{
	if (!l->source)
		return;
	pause_following(l);
	if (l->fill.done) {
		l->cur = l->nrows ? l->nrows - 1 : 0;
		l->first = l->nrows > l->want ? l->nrows - l->want : 0;
		return;
	}
	/* Read the oldest page afresh, from the oldest record upwards. */
	buf_clear(l);
	l->at_top = 0;
	l->fill = (struct store_scan){ 0, 1 };
	seek_up(l, l->want, 0, 1);
	l->up = (struct store_scan){ 0, 0 };
}

/* ---- state changes ----------------------------------------------------------------------- */

/* Looks the source and its count up in the store's status. */
static void refresh_status(struct logs *l, struct ui_ctx *ctx)
{
	struct store_status *st = NULL;
	size_t n = 0;
	int64_t src = 0;
	mw_err e;

	mw_err_clear(&e);
	l->total = 0;
	if (store_list_status(ctx->store, &st, &n, &e) < 0) {
		note_error(l, ctx, &e);
		if (l->source < 0) {
			l->source = 0;
			reset_page(l, ctx);
		}
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(st[i].integration, l->integration) == 0 &&
		    strcmp(st[i].type, l->lt->name) == 0) {
			src = st[i].source;
			l->total = st[i].total;
			l->st = st[i];
		}
	}
	free(st);
	l->pruned = src > 0 ? store_pruned_before(ctx->store, src) : 0;
	l->stored = l->pruned ? store_count(ctx->store, src) : l->total;
	if (l->stored < 0)
		l->pruned = 0;  /* not counted: no note rather than a wrong one */
	if (src != l->source) {
		/* Stored for the first time (or deleted): start over. */
		l->source = src;
		sort_restart(l, ctx);
		reset_count(l);
	}
}

/* The filter's words for the type's columns (a name may stand for a
 * different field in each type). */
static void refresh_words(struct logs *l)
{
	l->nwords = store_filter_words(l->text, l->lt->name, l->words,
				       sizeof(l->words) / sizeof(l->words[0]));
}

static void set_type(struct logs *l, struct ui_ctx *ctx, int type)
{
	l->type = type;
	l->lt = &mw_logtypes[type];
	l->collects = 0;
	l->types = 0;
	if (ctx->cfg) {
		for (size_t i = 0; i < ctx->cfg->nintegrations; i++)
			if (strcmp(ctx->cfg->integrations[i].name, l->integration) == 0) {
				l->types = ctx->cfg->integrations[i].types;
				l->collects = !!(l->types & (1u << type));
			}
	}
	if (!l->types)
		l->types = ~0u;
	snprintf(l->title, sizeof(l->title), "%s %s %s", l->integration,
		 ui_dot(), l->lt->label);
	l->source = -1;         /* forces refresh_status to start over */
	refresh_words(l);
	refresh_status(l, ctx);
}

/* Another tab: this screen's message spoke of the last one. */
static void switch_type(struct logs *l, struct ui_ctx *ctx, int type)
{
	ui_message_clear(ctx);
	set_type(l, ctx, type);
}

static void filter_changed(struct logs *l, struct ui_ctx *ctx)
{
	int following = l->following;

	refresh_words(l);
	sort_restart(l, ctx);
	reset_count(l);
	l->following = following && !l->sort;
	work(l, ctx);
}

/* ---- ops ------------------------------------------------------------------------------------- */

static int logs_open(struct ui_view *v, void *arg)
{
	const struct ui_logs_arg *a = arg;
	struct logs *l;

	if (!a || !a->integration || a->type_index < 0 || (size_t)a->type_index >= mw_nlogtypes) {
		ui_message(v->ctx, ROLE_ERROR, "preview: no integration or type chosen");
		return -1;
	}
	if (!v->ctx->store) {
		ui_message(v->ctx, ROLE_ERROR, "preview: the store is not open yet; save an "
			   "integration first");
		return -1;
	}
	l = mw_xcalloc(1, sizeof(*l));
	l->rows = mw_xcalloc(MAX_ROWS, sizeof(l->rows[0]));
	mw_strlcpy(l->integration, a->integration, sizeof(l->integration));
	js_init(&l->doc);
	mw_buf_init(&l->scratch);
	l->following = 1;
	/* The body is the screen less the header and the footer's two lines;
	 * draw() corrects this if the frame differs. */
	l->want = LINES - 3 - TOP_LINES - BOTTOM_LINES;
	if (l->want < 1)
		l->want = 1;
	if (l->want > MAX_WANT)
		l->want = MAX_WANT;
	v->priv = l;
	columns_load(v->ctx);
	set_type(l, v->ctx, a->type_index);
	work(l, v->ctx);
	return 0;
}

static void logs_close(struct ui_view *v)
{
	struct logs *l = v->priv;

	if (!l)
		return;
	if (l->exp)
		logs_export_finish(v->ctx, &l->exp, 0);
	store_sort_free(l->sort);
	set_busy(l, 0);
	buf_clear(l);
	free(l->rows);
	js_free(&l->doc);
	mw_buf_free(&l->scratch);
	free(l);
	v->priv = NULL;
}

static void logs_reload(struct ui_view *v)
{
	struct logs *l = v->priv;
	struct ui_ctx *ctx = v->ctx;
	int64_t m;
	int offset;

	if (l->typed_at && l->prompt == PROMPT_FILTER) {
		int64_t wait = l->typed_at + FILTER_PAUSE_MS - mw_mono_ms();

		if (wait > 0) {
			ui_tick((int)wait);
		} else {
			/* typing paused: the filter as typed so far */
			l->typed_at = 0;
			l->field.buf[l->field.len] = '\0';
			if (strcmp(l->text, l->field.buf)) {
				mw_strlcpy(l->text, l->field.buf, sizeof(l->text));
				filter_changed(l, ctx);
				return;
			}
		}
	}

	refresh_status(l, ctx);
	m = max_rowid(ctx);
	if (!l->source || !l->following || !l->at_top || m <= l->head) {
		work(l, ctx);
		return;
	}
	/* Following, and something was committed since: the new rows go on
	 * top, and the selection keeps its place on the screen. */
	offset = l->cur - l->first;
	if (!l->text[0] || m - l->head > FOLLOW_GAP) {
		/* The newest page through the index costs a page, however
		 * much arrived. */
		reset_page(l, ctx);
	} else if (l->seek_rows == 0 || l->up.done) {
		/* A text filter: look only at what arrived. */
		l->seek_rows = MAX_WANT;
		l->seek_moves = l->seek_end = 0;
		l->up = (struct store_scan){ l->head, 0 };
	}
	work(l, ctx);
	if (l->text[0]) {
		l->first = 0;
		if (l->nrows > 2 * l->want + 1)
			buf_drop_back(l, l->nrows - (2 * l->want + 1));
		if (l->up.done && m > l->head)
			l->head = m;
	}
	l->cur = l->first + offset;
	if (l->cur >= l->nrows)
		l->cur = l->nrows ? l->nrows - 1 : 0;
}

/* A tab for each type the integration collects, and the one open. */
static int tab_shown(const struct logs *l, int t)
{
	return t == l->type || (t < 32 && (l->types & (1u << t)));
}

/* Tab: the next type with a tab, in table order, round. */
static int next_tab(const struct logs *l)
{
	int n = (int)mw_nlogtypes;

	for (int k = 1; k <= n; k++)
		if (tab_shown(l, (l->type + k) % n))
			return (l->type + k) % n;
	return l->type;
}

static void draw_tabs(struct logs *l, int y, int x, int width)
{
	int used = 1;

	for (size_t t = 0; t < mw_nlogtypes && used < width; t++) {
		char tab[64];
		int n;

		if (!tab_shown(l, (int)t))
			continue;
		n = snprintf(tab, sizeof(tab), " %zu %s ", t + 1, mw_logtypes[t].label);

		used += ui_text(y, x + used, width - used,
				(int)t == l->type ? ROLE_SELECTION : ROLE_MUTED, tab, (size_t)n);
		used += ui_text(y, x + used, width - used, ROLE_NORMAL, " ", 1);
	}
}

/* What the list no longer holds, and why: "1,832 stored; delivered ones to
 * TIME deleted (max_store)", the settings named from the config. */
static void pruned_note(const struct logs *l, const struct ui_ctx *ctx, char *line, size_t n)
{
	const struct mw_config *cfg = ctx->cfg;
	char kept[32], when[48];

	ui_fmt_count(l->stored, kept, sizeof(kept));
	ui_fmt_time(l->pruned, 0, when, sizeof(when));
	snprintf(line, n, "%s stored; delivered ones to %s deleted (%s)", kept, when,
		 cfg && cfg->pass_through && cfg->max_store ? "max_store, keep_delivered"
		 : cfg && cfg->pass_through ? "keep_delivered: false" : "max_store");
}

static void draw_state(struct logs *l, struct ui_ctx *ctx, int y, int x, int width)
{
	char line[640], n[32], dot[8];
	int used = 1;

	snprintf(dot, sizeof(dot), " %s ", ui_dot());

#define PUT(role, s, len) (used += ui_text(y, x + used, width - used, (role), (s), (len)))
	ui_fmt_count(l->total, n, sizeof(n));
	snprintf(line, sizeof(line), "%s record%s", n, l->total == 1 ? "" : "s");
	PUT(ROLE_NORMAL, line, strlen(line));
	if (l->pruned) {
		pruned_note(l, ctx, line, sizeof(line));
		PUT(ROLE_NORMAL, dot, strlen(dot));
		PUT(ROLE_WARNING, line, strlen(line));
	}
	if (l->text[0]) {
		PUT(ROLE_NORMAL, dot, strlen(dot));
		PUT(ROLE_NORMAL, "filter \"", 8);
		/* Typed by the admin, but drawn like any other string. */
		PUT(ROLE_INPUT, l->text, strlen(l->text));
		PUT(ROLE_NORMAL, "\"", 1);
	}
	if (threats_on(l)) {
		PUT(ROLE_NORMAL, dot, strlen(dot));
		PUT(ROLE_ERROR, "threats only", 12);
	}
	if (filtered(l)) {
		ui_fmt_count(l->count, n, sizeof(n));
		if (l->count_ok)
			snprintf(line, sizeof(line), "%s matching", n);
		else if (l->count)
			snprintf(line, sizeof(line), "%s+ matching, counting...", n);
		else
			snprintf(line, sizeof(line), "counting...");
		PUT(ROLE_NORMAL, dot, strlen(dot));
		PUT(ROLE_WARNING, line, strlen(line));
	}
	if (l->sort) {
		struct store_sort_info si;
		int desc, c = columns_sort(l->type, &desc);

		/* A bounded sort says what it holds. */
		store_sort_info(l->sort, &si);
		ui_fmt_count((int64_t)si.records, n, sizeof(n));
		snprintf(line, sizeof(line), "sorted by %s %s", l->lt->columns[c].title,
			 ui_mark_sort(desc));
		PUT(ROLE_NORMAL, dot, strlen(dot));
		PUT(ROLE_KEY, line, strlen(line));
		if (!si.sorted)
			snprintf(line, sizeof(line), ": sorting, %s read...", n);
		else if (si.capped)
			snprintf(line, sizeof(line), ": the %s %s only", si.oldest ? "oldest" :
				 "newest", n);
		else
			line[0] = '\0';
		PUT(ROLE_WARNING, line, strlen(line));
	}
	PUT(ROLE_NORMAL, dot, strlen(dot));
	if (l->following) {
		PUT(ROLE_OK, "following", 9);
		if (l->lt->shape == MW_SHAPE_BATCH && !l->sort) {
			/* no time order across files: say how to get one */
			snprintf(line, sizeof(line), " (newest file first; S: by time, oldest first)");
			PUT(ROLE_MUTED, line, strlen(line));
		}
	} else {
		ui_fmt_count(l->fresh, n, sizeof(n));
		snprintf(line, sizeof(line), "paused, %s new", n);
		PUT(ROLE_WARNING, line, strlen(line));
	}
#undef PUT
}

/* The API of the previewed integration: its error is named in its words. */
static int logs_api(const struct ui_ctx *ctx, const struct logs *l)
{
	const struct mw_integration *in = session_integration(ctx, l->integration);

	return in ? in->api : 1;
}

static void draw_empty(struct logs *l, struct ui_ctx *ctx, int y, int x, int width)
{
	char line[512];

	if (l->error[0]) {
		ui_text(y, x + 1, width - 2, ROLE_ERROR, l->error, strlen(l->error));
		return;
	}
	if (!l->collects && !l->source) {
		snprintf(line, sizeof(line), "%s does not collect %s records; add the type with "
			 "e on the integrations screen.", l->integration, l->lt->label);
		ui_text(y, x + 1, width - 2, ROLE_MUTED, line, strlen(line));
	} else if (l->source > 0 && l->total == 0 &&
		   ui_status_lines(&l->st, logs_api(ctx, l), NULL, x + width, 0, y + 1, x + 3) > 0) {
		/* Nothing collected because collecting fails: why, and the fix,
		 * as home shows them under the type. */
		snprintf(line, sizeof(line), "No %s records yet:", l->lt->label);
		ui_text(y, x + 1, width - 2, ROLE_MUTED, line, strlen(line));
		ui_status_lines(&l->st, logs_api(ctx, l), NULL, x + width, 1, y + 1, x + 3);
	} else if (!l->source || l->total == 0) {
		snprintf(line, sizeof(line), "No %s records yet; they appear here as they are "
			 "collected%s.", l->lt->label, ctx->col || ctx->attached ? "" :
			 " (the collector is not running)");
		ui_text(y, x + 1, width - 2, ROLE_MUTED, line, strlen(line));
	} else if (l->pruned && l->stored == 0) {
		pruned_note(l, ctx, line, sizeof(line));
		ui_text(y, x + 1, width - 2, ROLE_MUTED, line, strlen(line));
	} else if (sort_building(l)) {
		ui_text(y, x + 1, width - 2, ROLE_MUTED, "sorting...", 10);
	} else if (pending(l) && !l->fill.done) {
		ui_text(y, x + 1, width - 2, ROLE_MUTED, "searching...", 12);
	} else {
		static const char none[] = "No record matches the filter; Esc clears it.";

		ui_text(y, x + 1, width - 2, ROLE_MUTED, none, sizeof(none) - 1);
	}
}

static void draw_bottom(struct logs *l, int y, int x, int width)
{
	if (l->prompt != PROMPT_NONE) {
		const char *label = l->prompt == PROMPT_FILTER ? "Filter: " : "Export to file: ";
		int used = 1 + ui_text(y, x + 1, width - 2, ROLE_KEY, label, strlen(label));

		ui_field_draw(&l->field, y, x + used, width - used - 1, 1);
		return;
	}
	if (l->exp) {
		char n[32], line[4200];

		int64_t written;
		const char *path = logs_export_progress(l->exp, &written);

		ui_fmt_count(written, n, sizeof(n));
		snprintf(line, sizeof(line), "exporting to %s: %s written...", path, n);
		ui_text(y, x + 1, width - 2, ROLE_MUTED, line, strlen(line));
	} else if (pending(l) && l->text[0] && (!l->fill.done || l->seek_rows > 0)) {
		ui_text(y, x + 1, width - 2, ROLE_MUTED, "searching...", 12);
	}
}

static void logs_draw(struct ui_view *v, int y0, int x0, int height, int width)
{
	struct logs *l = v->priv;
	const struct mw_logtype *lt = l->lt;
	struct ui_cols cs;
	int want = height - TOP_LINES - BOTTOM_LINES, x;

	sort_sync(l, v->ctx);
	if (want < 1)
		want = 1;
	if (want > MAX_WANT)
		want = MAX_WANT;
	if (want != l->want) {
		/* A resize: read what the taller window lacks (one slice). */
		l->want = want;
		if (l->cur >= l->first + want)
			l->first = l->cur - want + 1;
		if (l->following && l->at_top)
			l->first = 0;
		work(l, v->ctx);
	}
	draw_tabs(l, y0, x0, width);
	draw_state(l, v->ctx, y0 + 1, x0, width);
	columns_layout(l->type, width, &cs);
	columns_headings(l->type, &cs, y0 + 2, x0 + 1);
	if (l->nrows == 0)
		draw_empty(l, v->ctx, y0 + TOP_LINES, x0, width);
	l->rows_y = y0 + TOP_LINES;
	for (int i = 0; i < want && l->first + i < l->nrows; i++) {
		const struct cellrow *r = &l->rows[l->first + i];
		int y = y0 + TOP_LINES + i, sel = l->first + i == l->cur;
		enum ui_role role = sel ? ROLE_SELECTION : r->threat ? ROLE_ERROR : ROLE_NORMAL;

		if (sel) {
			attrset(ui_attr(ROLE_SELECTION));
			mvhline(y, x0, ' ', width);
			attrset(A_NORMAL);
		}
		x = x0 + 1;
		for (int k = 0; k < cs.n; k++) {
			int c = cs.col[k];

			if (c == columns_time(l->type)) {
				char when[32];

				ui_fmt_time(r->time, 0, when, sizeof(when));
				ui_text(y, x, cs.w[k], role, when, strlen(when));
			} else {
				const char *mine[16];
				size_t nm = 0;

				/* the filter's words that may have matched here */
				for (size_t j = 0; j < l->nwords; j++)
					if (!l->words[j].field[0] ||
					    !strcmp(l->words[j].field, lt->columns[c].field))
						mine[nm++] = l->words[j].text;
				ui_text_marked(y, x, cs.w[k], role, r->cell[c] ? r->cell[c] : "",
					       r->cell[c] ? r->len[c] : 0, mine, nm);
			}
			x += cs.w[k] + 1;
		}
	}
	l->shown = selected_rowid(l);
	draw_bottom(l, y0 + height - 1, x0, width);
}

static int take_one(const struct store_row *row, void *ctx)
{
	struct logs *l = ctx;

	return (l->dir > 0 ? push_back : push_front)(row, l);
}

/* J and K in the detail (struct ui_record_arg): the record after rowid in
 * this list, older (dir 1) or newer (-1), becomes the selection, so going
 * back shows the last one viewed; rows past the buffer's ends are read
 * from the store as scrolling would. 0: none, or a store error (said). */
static int64_t logs_step(struct ui_ctx *ctx, void *list, int64_t rowid, int dir)
{
	struct logs *l = list;
	int i = 0;
	mw_err e;

	while (i < l->nrows && l->rows[i].rowid != rowid)
		i++;
	if (i == l->nrows)
		return 0;
	pause_following(l);
	l->cur = i;
	if ((dir > 0 && i + 1 == l->nrows) || (dir < 0 && i == 0)) {
		int before = l->nrows;

		/* fill.done: the oldest is read (and fill.pos may be 0, "from
		 * the newest", after End). */
		if (dir > 0 && l->fill.done)
			return 0;
		mw_err_clear(&e);
		if (dir > 0 && l->nrows >= MAX_ROWS)
			buf_drop_front(l, l->want);
		l->dir = dir;
		if (dir < 0) {
			/* The one above rows[0]: push_front puts it there. */
			l->seek_rows = l->seek_moves = 1;
			l->seek_end = 0;
			l->up = (struct store_scan){ l->rows[i].pos, 0 };
		}
		if (read_rows(l, ctx, dir < 0, dir > 0 ? &l->fill : &l->up, 1, 0, take_one,
			      &e) < 0) {
			note_error(l, ctx, &e);
			return 0;
		}
		l->seek_rows = l->seek_moves = 0;
		if (dir < 0 && l->nrows > before)
			l->at_top = 0;
		if (l->nrows == before)
			return 0;
		if (dir < 0) {
			l->cur = 0;
			l->first = 0;
			return l->rows[0].rowid;
		}
	}
	if (dir > 0)
		move_down(l, 1);
	else
		move_up(l, 1);
	return selected_rowid(l);
}

static void start_prompt(struct logs *l, enum prompt p, const char *initial)
{
	memset(&l->field, 0, sizeof(l->field));
	mw_strlcpy(l->field.buf, initial, sizeof(l->field.buf));
	l->field.len = l->field.cur = strlen(l->field.buf);
	l->prompt = p;
}

static int logs_action(struct ui_view *v, enum ui_action a)
{
	struct logs *l = v->priv;
	struct ui_ctx *ctx = v->ctx;
	int page = l->want > 1 ? l->want - 1 : 1;

	if (a >= ACT_TYPE && a < ACT_TYPE_END) {
		/* a type by its index in the table: the number on its tab */
		int t = (int)(a - ACT_TYPE);

		if ((size_t)t < mw_nlogtypes && t != l->type)
			switch_type(l, ctx, t);
		work(l, ctx);
		return 1;
	}
	if (a == ACT_UP || a == ACT_DOWN || a == ACT_PAGE_UP || a == ACT_PAGE_DOWN) {
		/* Moving the selection pauses following, as in less +F: new
		 * rows would otherwise slide another record under it. */
		int64_t was = selected_rowid(l);

		move_by(l, a, page);
		if (selected_rowid(l) != was)
			pause_following(l);
		work(l, ctx);
		return 1;
	}
	switch (a) {
	case ACT_FIRST: go_newest(l, ctx); break;
	case ACT_LAST: go_oldest(l); break;
	case ACT_NEXT_TYPE: switch_type(l, ctx, next_tab(l)); break;

	case ACT_FILTER:
		mw_strlcpy(l->text_before, l->text, sizeof(l->text_before));
		start_prompt(l, PROMPT_FILTER, l->text);
		return 1;
	case ACT_THREATS:
		if (!logtype_has_verdict(l->lt) && !l->threats) {
			/* the table says the type has no verdict */
			ui_message(ctx, ROLE_WARNING, "%s records have no threat verdict: m does "
				   "not apply", l->lt->label);
			return 1;
		}
		l->threats = !l->threats;
		filter_changed(l, ctx);
		return 1;
	case ACT_FOLLOW:
		if (l->following) {
			pause_following(l);
		} else if (columns_sorted(l->type)) {
			/* New records go on top only in the store's own order. */
			columns_follow(ctx, l->type);
			sort_restart(l, ctx);
			l->following = 1;
			ui_message(ctx, ROLE_MUTED, "following: back to the time order, newest "
				   "first");
		} else {
			l->following = 1;
			reset_page(l, ctx);
		}
		break;
	case ACT_ENTER:
		/* Following, rows that arrived since the last frame may have
		 * moved another record under the selection: open the one that
		 * was seen selected. Paused, only keys move it. */
		l->detail = (struct ui_record_arg){
			.rowid = l->following && in_buffer(l, l->shown) ? l->shown :
				 selected_rowid(l),
			.step = logs_step, .list = l };
		if (l->detail.rowid)
			ui_push(ctx, &view_record, &l->detail);
		return 1;
	case ACT_SORT:
	case ACT_SORT_REVERSE:
		if (a == ACT_SORT)
			columns_sort_next(ctx, l->type);
		else
			columns_sort_reverse(ctx, l->type);
		sort_restart(l, ctx);
		if (!l->sort)
			l->following = 1;
		break;
	case ACT_NARROW:
	case ACT_WIDEN:
		columns_resize(ctx, l->type, a == ACT_WIDEN ? 1 : -1, COLS);
		return 1;
	case ACT_COLUMNS:
		ui_push(ctx, &view_columns, &l->type);
		return 1;
	case ACT_EXPORT: {
		char def[4096];

		logs_export_name(l->integration, l->lt->name, l->export_next, def, sizeof(def));
		start_prompt(l, PROMPT_EXPORT, def);
		return 1;
	}
	default:
		return 0;
	}
	work(l, ctx);
	return 1;
}

/* A click on a row selects it; a new selection pauses following, as the
 * keys that move it do. */
static int logs_click(struct ui_view *v, int y, int x)
{
	struct logs *l = v->priv;
	int i = y - l->rows_y;

	(void)x;
	if (l->prompt != PROMPT_NONE || i < 0 || i >= l->want || l->first + i >= l->nrows)
		return 0;
	if (l->first + i != l->cur) {
		l->cur = l->first + i;
		pause_following(l);
	}
	return 1;
}

static int logs_input(struct ui_view *v, wint_t ch, int is_key)
{
	struct logs *l = v->priv;
	int enter = (!is_key && (ch == '\r' || ch == '\n')) || (is_key && ch == KEY_ENTER);

	if (l->prompt == PROMPT_NONE) {
		/* Esc clears a filter before it goes back (q always goes back). */
		if (!is_key && ch == 27 && filtered(l)) {
			l->text[0] = '\0';
			l->threats = 0;
			filter_changed(l, v->ctx);
			return 1;
		}
		return 0;
	}
	if (!is_key && ch == 27) {
		/* Esc leaves the filter as it was before the prompt */
		if (l->prompt == PROMPT_FILTER && strcmp(l->text, l->text_before)) {
			mw_strlcpy(l->text, l->text_before, sizeof(l->text));
			filter_changed(l, v->ctx);
		}
		l->prompt = PROMPT_NONE;
		l->typed_at = 0;
		return 1;
	}
	if (enter) {
		enum prompt p = l->prompt;

		l->prompt = PROMPT_NONE;
		l->typed_at = 0;
		l->field.buf[l->field.len] = '\0';
		if (p == PROMPT_FILTER) {
			mw_strlcpy(l->text, l->field.buf, sizeof(l->text));
			filter_changed(l, v->ctx);
		} else {
			if (l->exp)
				ui_message(v->ctx, ROLE_WARNING, "an export is still running; wait for "
					   "it to finish");
			else if (!l->source)
				ui_message(v->ctx, ROLE_WARNING, "nothing to export: no %s records are "
					   "stored yet", l->lt->label);
			else {
				struct store_query q = query_of(l);

				l->exp = logs_export_start(v->ctx, &q, l->field.buf, l->export_next,
							   sizeof(l->export_next));
			}
			work(l, v->ctx);
		}
		return 1;
	}
	/* Every other key edits the field or is ignored: a prompt is modal.
	 * The filter applies as it is typed, once typing pauses. */
	if (ui_field_input(&l->field, ch, is_key) && l->prompt == PROMPT_FILTER) {
		l->typed_at = mw_mono_ms();
		ui_tick(FILTER_PAUSE_MS);
	}
	return 1;
}

static const char *logs_title(struct ui_view *v)
{
	struct logs *l = v->priv;

	return l ? l->title : "preview";
}

const struct ui_view_ops view_logs = {
	.name = "preview",
	.open = logs_open,
	.close = logs_close,
	.reload = logs_reload,
	.draw = logs_draw,
	.action = logs_action,
	.input = logs_input,
	.title = logs_title,
	.click = logs_click,
};
