/* logs_columns.c - the preview's columns: which of a log type's columns
 * (its preview columns in logtypes.c) are shown, in what order and how wide,
 * and which one the list is sorted by; the chooser screen (C); and the file
 * that remembers all of it per log type, state_dir/console.json.
 *
 * The sort column is also the selected column: its heading carries the
 * direction's mark, and < and > narrow and widen it. The time column, in
 * its default direction (newest first), is the store's own order, which
 * follows new records; any other choice is a bounded sort (store/sort.c)
 * that view_logs.c runs in its work steps.
 *
 * The file is read once per state directory, when a preview first opens;
 * a damaged one is ignored (the defaults apply) with a message naming it,
 * and is replaced by the next change. Every change is written at once,
 * atomically (temp file, fsync, rename), 0600, never through a symlink. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "jsonscan.h"
#include "logtypes.h"
#include "ui.h"
#include "util.h"

#define MAX_TYPES 16
#define WIDTH_MIN 4
#define WIDTH_MAX 400
#define WIDTH_STEP 2
#define STATE_FILE "console.json"

struct prefs {
	int order[UI_MAX_COLS];         /* indices in the type's columns, left to right */
	unsigned char hidden[UI_MAX_COLS];
	int width[UI_MAX_COLS];         /* 0: the table's */
	int sort;                       /* index of the sort column */
	int desc;
};

static struct prefs prefs[MAX_TYPES];
static int prefs_ready;
static char loaded_dir[4096];   /* the state directory the prefs came from */

static size_t ncols(int type)
{
	size_t n = mw_logtypes[type].ncolumns;

	return n < UI_MAX_COLS ? n : UI_MAX_COLS;
}

int columns_time(int type)
{
	const struct mw_logtype *lt = &mw_logtypes[type];

	for (size_t c = 0; c < ncols(type); c++)
		if (strcmp(lt->columns[c].field, lt->time_field) == 0)
			return (int)c;
	return 0;
}

static void defaults(int type, struct prefs *p)
{
	memset(p, 0, sizeof(*p));
	for (size_t c = 0; c < ncols(type); c++)
		p->order[c] = (int)c;
	p->sort = columns_time(type);
	p->desc = 1;
}

static void ensure_ready(void)
{
	if (prefs_ready)
		return;
	for (size_t t = 0; t < mw_nlogtypes && t < MAX_TYPES; t++)
		defaults((int)t, &prefs[t]);
	prefs_ready = 1;
}

static struct prefs *prefs_of(int type)
{
	ensure_ready();
	return &prefs[type < MAX_TYPES ? type : 0];
}

static int column_by_field(int type, const js_doc *d, int tok)
{
	for (size_t c = 0; c < ncols(type); c++)
		if (js_streq(d, tok, mw_logtypes[type].columns[c].field))
			return (int)c;
	return -1;
}

/* The columns a list of names in the file names (what: its key), at most
 * 64; a name the table no longer has is dropped quietly. How many, or -1
 * with what is wrong. */
static int names(int type, const js_doc *d, int tok, const char *what, int *out, char *why,
		 size_t n)
{
	int e, k, m = 0;

	if (d->toks[tok].type != JS_ARRAY) {
		snprintf(why, n, "columns.%s.%s is not a list", mw_logtypes[type].name, what);
		return -1;
	}
	for (size_t i = 0; (e = js_at(d, tok, i)) >= 0; i++) {
		if (d->toks[e].type != JS_STRING) {
			snprintf(why, n, "columns.%s.%s holds something other than column names",
				 mw_logtypes[type].name, what);
			return -1;
		}
		if ((k = column_by_field(type, d, e)) >= 0 && m < 64)
			out[m++] = k;
	}
	return m;
}

/* One type's object of the file into p; 0, or -1 with what is wrong. */
static int parse_type(int type, const js_doc *d, int obj, struct prefs *p, char *why, size_t n)
{
	const struct mw_logtype *lt = &mw_logtypes[type];
	int tok, k, got, list[64];
	int64_t v;

	defaults(type, p);
	if (d->toks[obj].type != JS_OBJECT) {
		snprintf(why, n, "columns.%s is not an object", lt->name);
		return -1;
	}
	if ((tok = js_get(d, obj, "order")) >= 0) {
		int seen[UI_MAX_COLS] = { 0 }, m = 0;

		if ((got = names(type, d, tok, "order", list, why, n)) < 0)
			return -1;
		for (int i = 0; i < got; i++)
			if (!seen[list[i]]) {
				seen[list[i]] = 1;
				p->order[m++] = list[i];
			}
		/* Columns the table gained since go at the end. */
		for (size_t c = 0; c < ncols(type); c++)
			if (!seen[c])
				p->order[m++] = (int)c;
	}
	if ((tok = js_get(d, obj, "hidden")) >= 0) {
		if ((got = names(type, d, tok, "hidden", list, why, n)) < 0)
			return -1;
		for (int i = 0; i < got; i++)
			if (list[i] != columns_time(type))
				p->hidden[list[i]] = 1;
	}
	if ((tok = js_get(d, obj, "widths")) >= 0) {
		if (d->toks[tok].type != JS_OBJECT) {
			snprintf(why, n, "columns.%s.widths is not an object", lt->name);
			return -1;
		}
		for (size_t c = 0; c < ncols(type); c++) {
			int w = js_get(d, tok, lt->columns[c].field);

			if (w < 0)
				continue;
			if (js_int(d, w, &v) < 0 || v < WIDTH_MIN || v > WIDTH_MAX) {
				snprintf(why, n, "columns.%s.widths.%s is not a width from %d to %d",
					 lt->name, lt->columns[c].field, WIDTH_MIN, WIDTH_MAX);
				return -1;
			}
			p->width[c] = (int)v;
		}
	}
	if ((tok = js_get(d, obj, "sort")) >= 0) {
		if (d->toks[tok].type != JS_STRING) {
			snprintf(why, n, "columns.%s.sort is not a column name", lt->name);
			return -1;
		}
		if ((k = column_by_field(type, d, tok)) >= 0 && !p->hidden[k])
			p->sort = k;
	}
	if ((tok = js_get(d, obj, "descending")) >= 0) {
		if (d->toks[tok].type != JS_TRUE && d->toks[tok].type != JS_FALSE) {
			snprintf(why, n, "columns.%s.descending is not true or false", lt->name);
			return -1;
		}
		p->desc = d->toks[tok].type == JS_TRUE;
	}
	return 0;
}

static void state_path(const struct ui_ctx *ctx, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s", ctx->cfg->state_dir, STATE_FILE);
}

void columns_load(struct ui_ctx *ctx)
{
	struct prefs got[MAX_TYPES];
	char path[4200], why[1200];
	char *text = NULL;
	size_t len = 0;
	struct stat st;
	js_doc d;
	mw_err e;
	int cols = -1;

	if (!ctx->cfg || !ctx->cfg->state_dir || !strcmp(loaded_dir, ctx->cfg->state_dir))
		return;
	mw_strlcpy(loaded_dir, ctx->cfg->state_dir, sizeof(loaded_dir));
	prefs_ready = 0;
	ensure_ready();
	state_path(ctx, path, sizeof(path));
	mw_err_clear(&e);
	if (lstat(path, &st) < 0 && errno == ENOENT)
		return;         /* nothing chosen yet */
	if (mw_read_file(path, 1 << 20, &text, &len, &e) < 0) {
		ui_message(ctx, ROLE_ERROR, "%s; the columns are the defaults", e.msg);
		return;
	}
	js_init(&d);
	why[0] = '\0';
	if (js_parse(&d, text, len, &e) < 0)
		snprintf(why, sizeof(why), "not valid JSON (%s)", e.msg);
	else if (!d.ntoks || d.toks[0].type != JS_OBJECT)
		snprintf(why, sizeof(why), "not a JSON object");
	else if ((cols = js_get(&d, 0, "columns")) >= 0 && d.toks[cols].type != JS_OBJECT)
		snprintf(why, sizeof(why), "\"columns\" is not an object");
	else
		for (size_t t = 0; t < mw_nlogtypes && t < MAX_TYPES && !why[0]; t++) {
			int obj = cols >= 0 ? js_get(&d, cols, mw_logtypes[t].name) : -1;

			if (obj < 0)
				defaults((int)t, &got[t]);
			else
				parse_type((int)t, &d, obj, &got[t], why, sizeof(why));
		}
	if (why[0])
		ui_message(ctx, ROLE_ERROR, "ignored %s: %s; the columns are the defaults until "
			   "a change rewrites it", path, why);
	else
		memcpy(prefs, got, sizeof(prefs[0]) * (mw_nlogtypes < MAX_TYPES ? mw_nlogtypes :
							MAX_TYPES));
	js_free(&d);
	free(text);
}

static void save(struct ui_ctx *ctx)
{
	char path[4200];
	mw_buf b;
	mw_err e;

	if (!ctx->cfg || !ctx->cfg->state_dir)
		return;
	state_path(ctx, path, sizeof(path));
	mw_buf_init(&b);
	/* Names come from the log-type table: plain ASCII, nothing to escape. */
	mw_buf_printf(&b, "{\"columns\":{");
	for (size_t t = 0; t < mw_nlogtypes && t < MAX_TYPES; t++) {
		const struct mw_logtype *lt = &mw_logtypes[t];
		const struct prefs *p = &prefs[t];
		const char *sep = "";

		mw_buf_printf(&b, "%s\n\"%s\":{\"order\":[", t ? "," : "", lt->name);
		for (size_t c = 0; c < ncols((int)t); c++)
			mw_buf_printf(&b, "%s\"%s\"", c ? "," : "", lt->columns[p->order[c]].field);
		mw_buf_printf(&b, "],\"hidden\":[");
		for (size_t c = 0; c < ncols((int)t); c++)
			if (p->hidden[c]) {
				mw_buf_printf(&b, "%s\"%s\"", sep, lt->columns[c].field);
				sep = ",";
			}
		mw_buf_printf(&b, "],\"widths\":{");
		sep = "";
		for (size_t c = 0; c < ncols((int)t); c++)
			if (p->width[c]) {
				mw_buf_printf(&b, "%s\"%s\":%d", sep, lt->columns[c].field,
					      p->width[c]);
				sep = ",";
			}
		mw_buf_printf(&b, "},\"sort\":\"%s\",\"descending\":%s}",
			      lt->columns[p->sort].field, p->desc ? "true" : "false");
	}
	mw_buf_printf(&b, "}}\n");
	mw_err_clear(&e);
	if (mw_mkdir_p(ctx->cfg->state_dir, &e) < 0 ||
	    mw_write_file_atomic(path, b.data, b.len, &e) < 0)
		ui_message(ctx, ROLE_ERROR, "columns not kept: %s", e.msg);
	mw_buf_free(&b);
}

/* ---- what the preview asks --------------------------------------------------------- */

int columns_sort(int type, int *desc)
{
	const struct prefs *p = prefs_of(type);

	*desc = p->desc;
	return p->sort;
}

int columns_sorted(int type)
{
	const struct prefs *p = prefs_of(type);

	return p->sort != columns_time(type) || !p->desc;
}

const char *columns_sort_field(int type)
{
	const struct prefs *p = prefs_of(type);

	return p->sort == columns_time(type) ? NULL : mw_logtypes[type].columns[p->sort].field;
}

void columns_follow(struct ui_ctx *ctx, int type)
{
	struct prefs *p = prefs_of(type);

	if (!columns_sorted(type))
		return;
	p->sort = columns_time(type);
	p->desc = 1;
	save(ctx);
}

/* Sorts by column c: a new column ascending (the time newest first), the
 * same column the other way round. */
static void sort_by(struct ui_ctx *ctx, int type, int c)
{
	struct prefs *p = prefs_of(type);

	if (p->sort == c)
		p->desc = !p->desc;
	else {
		p->sort = c;
		p->desc = c == columns_time(type);
	}
	save(ctx);
}

void columns_sort_next(struct ui_ctx *ctx, int type)
{
	struct prefs *p = prefs_of(type);
	int time = columns_time(type), cycle[UI_MAX_COLS], n = 0, at = 0;

	/* The time first (today's order), then the others as shown. */
	cycle[n++] = time;
	for (size_t i = 0; i < ncols(type); i++) {
		int c = p->order[i];

		if (c != time && !p->hidden[c])
			cycle[n++] = c;
	}
	for (int i = 0; i < n; i++)
		if (cycle[i] == p->sort)
			at = i;
	p->sort = cycle[(at + 1) % n];
	p->desc = p->sort == time;
	save(ctx);
}

void columns_sort_reverse(struct ui_ctx *ctx, int type)
{
	struct prefs *p = prefs_of(type);

	p->desc = !p->desc;
	save(ctx);
}

/* The width column c takes at width (as the preview draws it); *rest: it
 * is the column that takes what the others leave. */
static int drawn_width(int type, int width, int c, int *rest)
{
	struct ui_cols cs;

	columns_layout(type, width, &cs);
	for (int i = 0; i < cs.n; i++)
		if (cs.col[i] == c) {
			if (rest)
				*rest = i == cs.flex;
			return cs.w[i];
		}
	if (rest)
		*rest = 0;
	return mw_logtypes[type].columns[c].width;
}

static void resize(struct ui_ctx *ctx, int type, int c, int delta, int width)
{
	struct prefs *p = prefs_of(type);
	int now = drawn_width(type, width, c, NULL), w = now + delta;
	int min = c == columns_time(type) ? 19 : WIDTH_MIN;

	if (w < min)
		w = min;
	if (w > WIDTH_MAX)
		w = WIDTH_MAX;
	if (w == now) {
		ui_message(ctx, ROLE_MUTED, "%s: %d columns, as %s as it goes",
			   mw_logtypes[type].columns[c].title, now, delta < 0 ? "narrow" : "wide");
		return;
	}
	p->width[c] = w;
	save(ctx);
}

void columns_resize(struct ui_ctx *ctx, int type, int delta, int width)
{
	resize(ctx, type, prefs_of(type)->sort, delta * WIDTH_STEP, width);
}

/* Column widths for the screen width, the shown columns in their order:
 * fixed columns as chosen (else as the table says), the flexible one (width
 * 0 in the table, not resized) the rest; with none shown, the last column
 * takes what is left. When that leaves the flexible one too little, the
 * widest fixed columns give up a column at a time; the time column keeps
 * its 19. */
void columns_layout(int type, int width, struct ui_cols *out)
{
	const struct mw_logtype *lt = &mw_logtypes[type];
	const struct prefs *p = prefs_of(type);
	int fixed = 0, flex = -1, avail, minflex, minw[UI_MAX_COLS], sized[UI_MAX_COLS];

	out->n = 0;
	out->flex = -1;
	for (size_t i = 0; i < ncols(type); i++) {
		int c = p->order[i];

		if (p->hidden[c])
			continue;
		out->col[out->n] = c;
		out->w[out->n] = p->width[c] ? p->width[c] : lt->columns[c].width;
		sized[out->n] = p->width[c] != 0;
		minw[out->n] = c == columns_time(type) ? 19 : WIDTH_MIN;
		if (minw[out->n] > out->w[out->n] && out->w[out->n] > 0)
			minw[out->n] = out->w[out->n];
		if (out->w[out->n] > 0)
			fixed += out->w[out->n];
		else if (flex < 0)
			flex = out->n;
		else
			out->w[out->n] = 16;        /* a second flexible column: fixed */
		out->n++;
	}
	avail = width - 1 - (out->n - 1);
	if (flex < 0 && out->n > 0) {
		/* The last column shown takes the rest (or keeps its own). */
		flex = out->n - 1;
		minflex = out->w[flex];
		fixed -= out->w[flex];
		out->w[flex] = 0;
	} else {
		minflex = 16;
	}
	if (flex < 0)
		return;
	out->flex = flex;
	/* Columns the admin sized give way last: widening one must not be
	 * undone by the squeeze. */
	while (fixed > avail - (minflex < 16 ? minflex : 16)) {
		int widest = -1;

		for (int pass = 0; pass < 2 && widest < 0; pass++)
			for (int i = 0; i < out->n; i++)
				if (i != flex && out->w[i] > minw[i] && sized[i] == pass &&
				    (widest < 0 || out->w[i] > out->w[widest]))
					widest = i;
		if (widest < 0)
			break;
		out->w[widest]--;
		fixed--;
	}
	out->w[flex] = avail - fixed > 1 ? avail - fixed : 1;
}

void columns_headings(int type, const struct ui_cols *cs, int y, int x)
{
	const struct mw_logtype *lt = &mw_logtypes[type];
	const struct prefs *p = prefs_of(type);

	for (int i = 0; i < cs->n; i++) {
		int c = cs->col[i], used;
		char head[96];

		if (c == columns_time(type)) {
			char zone[16];

			/* "Time (UTC)": the zone's label fits the 19 columns the
			 * time column keeps, the sort mark too. */
			ui_time_zone(zone, sizeof(zone));
			snprintf(head, sizeof(head), "%s (%s)", lt->columns[c].title, zone);
		} else {
			snprintf(head, sizeof(head), "%s", lt->columns[c].title);
		}
		/* A batch type's own order is its files' (a file, then the
		 * next sub-type's): time marks it only once sorted. */
		if (c != p->sort || (lt->shape == MW_SHAPE_BATCH && !columns_sorted(type))) {
			ui_text(y, x, cs->w[i], ROLE_HEADING, head, strlen(head));
		} else {
			/* The mark always shows: a narrow heading is cut for it. */
			const char *m = ui_mark_sort(p->desc);

			used = ui_text(y, x, cs->w[i] - 2 > 0 ? cs->w[i] - 2 : 1, ROLE_HEADING, head,
				       strlen(head));
			if (used + 2 <= cs->w[i])
				used += ui_text(y, x + used, 1, ROLE_HEADING, " ", 1);
			ui_text(y, x + used, 1, ROLE_KEY, m, strlen(m));
		}
		x += cs->w[i] + 1;
	}
}

/* ---- the chooser (C) ------------------------------------------------------------------- */

struct chooser {
	int type;
	struct ui_list list;    /* over the type's columns in their order */
	int rows;               /* list rows at the last draw (PgUp, PgDn) */
	char title[128];
};

static int chooser_open(struct ui_view *v, void *arg)
{
	const int *type = arg;
	struct chooser *ch;

	if (!type || *type < 0 || (size_t)*type >= mw_nlogtypes)
		return -1;
	ch = mw_xcalloc(1, sizeof(*ch));
	ch->type = *type;
	ch->list.count = (int)ncols(ch->type);
	snprintf(ch->title, sizeof(ch->title), "columns %s %s", ui_dot(),
		 mw_logtypes[ch->type].label);
	v->priv = ch;
	return 0;
}

static void chooser_close(struct ui_view *v)
{
	free(v->priv);
	v->priv = NULL;
}

static void chooser_draw(struct ui_view *v, int y0, int x0, int height, int width)
{
	struct chooser *ch = v->priv;
	const struct mw_logtype *lt = &mw_logtypes[ch->type];
	const struct prefs *p = prefs_of(ch->type);
	int rows = height - 3;

	ui_textf(y0, x0 + 1, width - 2, ROLE_MUTED, "%s columns, left to right (+: takes the "
		 "rest of the width)", lt->label);
	ui_textf(y0 + 1, x0 + 1, width - 2, ROLE_HEADING, "%-5s %-22s %-7s %s", "Shown",
		 "Column", "Width", "Sort");
	ch->rows = rows > 1 ? rows : 1;
	ui_list_clamp(&ch->list, rows);
	for (int i = 0; i < rows && ch->list.top + i < ch->list.count; i++) {
		int at = ch->list.top + i, c = p->order[at], y = y0 + 2 + i;
		int sel = at == ch->list.cursor, rest, w = drawn_width(ch->type, width, c, &rest);
		enum ui_role role = sel ? ROLE_SELECTION : p->hidden[c] ? ROLE_MUTED : ROLE_NORMAL;
		char line[256], sort[64] = "";

		if (c == p->sort)
			snprintf(sort, sizeof(sort), "%s %s", ui_mark_sort(p->desc),
				 c == columns_time(ch->type) ? (p->desc ? "newest first" :
								"oldest first")
				 : p->desc ? "Z to A, largest first" : "A to Z, smallest first");
		snprintf(line, sizeof(line), "%-5s %-22s %-7s %s", p->hidden[c] ? "[ ]" : "[x]",
			 lt->columns[c].title, "", sort);
		if (sel) {
			attrset(ui_attr(ROLE_SELECTION));
			mvhline(y, x0, ' ', width);
			attrset(A_NORMAL);
		}
		ui_text(y, x0 + 1, width - 2, role, line, strlen(line));
		if (!p->hidden[c])
			ui_textf(y, x0 + 1 + 29, 7, role, "%d%s", w, rest ? "+" : "");
	}
}

static void move_column(struct prefs *p, struct ui_list *l, int by)
{
	int to = l->cursor + by, t;

	if (to < 0 || to >= l->count)
		return;
	t = p->order[to];
	p->order[to] = p->order[l->cursor];
	p->order[l->cursor] = t;
	l->cursor = to;
}

static int chooser_action(struct ui_view *v, enum ui_action a)
{
	struct chooser *ch = v->priv;
	struct prefs *p = prefs_of(ch->type);
	int c = p->order[ch->list.cursor];

	switch (a) {
	case ACT_TOGGLE:
		if (c == columns_time(ch->type)) {
			ui_message(v->ctx, ROLE_WARNING, "the time column stays: it is the "
				   "list's own order");
			return 1;
		}
		p->hidden[c] = !p->hidden[c];
		if (p->hidden[c] && p->sort == c) {
			/* A hidden column sorts nothing: back to the time. */
			p->sort = columns_time(ch->type);
			p->desc = 1;
		}
		break;
	case ACT_MOVE_EARLIER: move_column(p, &ch->list, -1); break;
	case ACT_MOVE_LATER: move_column(p, &ch->list, 1); break;
	case ACT_NARROW:
	case ACT_WIDEN:
		if (p->hidden[c]) {
			ui_message(v->ctx, ROLE_WARNING, "%s is hidden: Space shows it",
				   mw_logtypes[ch->type].columns[c].title);
			return 1;
		}
		resize(v->ctx, ch->type, c, a == ACT_WIDEN ? WIDTH_STEP : -WIDTH_STEP, COLS);
		return 1;
	case ACT_SORT:
		if (p->hidden[c]) {
			ui_message(v->ctx, ROLE_WARNING, "%s is hidden: Space shows it",
				   mw_logtypes[ch->type].columns[c].title);
			return 1;
		}
		sort_by(v->ctx, ch->type, c);
		return 1;
	case ACT_SORT_REVERSE:
		columns_sort_reverse(v->ctx, ch->type);
		return 1;
	case ACT_ENTER:
		ui_pop(v->ctx);
		return 1;
	default:
		return ui_list_action(&ch->list, a, ch->rows ? ch->rows : 1);
	}
	save(v->ctx);
	return 1;
}

static const char *chooser_title(struct ui_view *v)
{
	struct chooser *ch = v->priv;

	return ch ? ch->title : "columns";
}

const struct ui_view_ops view_columns = {
	.name = "columns",
	.open = chooser_open,
	.close = chooser_close,
	.draw = chooser_draw,
	.action = chooser_action,
	.title = chooser_title,
};
