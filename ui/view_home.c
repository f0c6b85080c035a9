/* view_home.c - the integrations screen: one row per integration with one
 * overall mark, a sub-row per chosen type with its live status, the error
 * and its remedy under a failing type, and the actions (fetch, pause,
 * validate, delete) sent to the collector as requests through the store.
 * Below them the outputs: one row per configured output with its state,
 * lag and deliveries as the store records them, its last error under a
 * failing one, and "send test record" (t) as a request like the others.
 * When nothing collects (the `mimewatch run` it was attached to exited) no
 * row claims to be collecting, and the requests left in the store are
 * counted as waiting for a collector. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mimecast/mimecast.h"
#include "logtypes.h"
#include "sanitize.h"
#include "status.h"
#include "session.h"
#include "ui.h"
#include "util.h"

struct home_row {
	int integ;              /* index in cfg->integrations, -1: an output's row */
	int type;               /* index in mw_logtypes, -1: the integration's row */
	int out;                /* index in cfg->outputs, -1: not an output's row */
};

/* A backfill's recent pace, for its ETA: two samples of its window's
 * position (the newest record time inside it) by the clock, the older
 * replaced every BACKFILL_SAMPLE_MS, so the rate is the last 10-20 s. */
#define BACKFILL_SPAN 3600          /* a window this long is a backfill */
#define BACKFILL_SAMPLE_MS 10000
#define MAX_BACKFILLS 32
struct backfill {
	int64_t source, win_from;
	int64_t t_ms[2], pos[2];
};

/* What the store says about one configured output. */
struct home_output {
	int have;               /* 0: no store yet, or it could not be read */
	struct store_output_info info;
	struct store_output_cache cache;   /* the counts, kept up between reloads */
};

struct home {
	struct store_status *st;
	size_t nst;
	struct home_output *outs;   /* one per cfg->outputs, same order */
	size_t nouts;
	struct home_row *rows;
	int nrows, cursor, top;
	int list_y, list_h, list_w;     /* where the last draw put the rows (clicks) */
	int confirm_delete;
	char confirm_name[64];
	/* R: the new name being typed for rename_from (a modal prompt) */
	int renaming;
	char rename_from[64];
	struct ui_field rename_field;
	/* the request whose result is shown when it is done */
	int64_t req_id;
	char req_what[128];
	char *result;           /* its result lines, shown under the list */
	int result_failed;
	int req_test;           /* the request is a test record: its result goes
				 * to the status line (and below if it failed or
				 * the status line cuts it) */
	/* fetch, pause, resume: the request whose outcome replaces its
	 * "requested" on the status line. A fetch's outcome is its types'
	 * next poll: their new records, or the class they failed with. */
	int64_t line_id;
	char line_what[128];
	int line_fetch;         /* 1 a fetch: then its types' poll is awaited */
	int line_polling;       /* the collector took it; now the poll */
	char line_integ[64], line_type[16];
	int64_t line_since;     /* epoch s the fetch was asked */
	int64_t line_base;      /* its types' records then */
	struct backfill bf[MAX_BACKFILLS];
	int nbf;
	struct ui_logs_arg logs_arg;
	char arg_name[64];
	int waiting;            /* requests left for a collector while none runs */
	/* What the last read of the store saw: a reload with the store, the
	 * config and the hour (of the 24 h counts) unchanged reads nothing. */
	int have_read;
	struct store_mark mark;
	const struct mw_config *read_cfg;
	int64_t read_hour;
	int64_t read_at;        /* mw_now() of that read: lag ages grow from it */
};

/* Whether anything collects: this console or the `mimewatch run` it is
 * attached to. */
static int collecting(const struct ui_ctx *ctx)
{
	return ctx->col || ctx->attached;
}

/* ---- reading the status --------------------------------------------------------- */

static const struct store_status *find_status(const struct home *h, const char *integ,
					      const char *type)
{
	for (size_t i = 0; i < h->nst; i++)
		if (!strcmp(h->st[i].integration, integ) && !strcmp(h->st[i].type, type))
			return &h->st[i];
	return NULL;
}

static void rebuild_rows(struct ui_view *v)
{
	struct home *h = v->priv;
	const struct mw_config *cfg = v->ctx->cfg;
	int n = 0;

	free(h->rows);
	h->rows = NULL;
	h->nrows = 0;
	/* Without an integration the screen is the first-run text: there is
	 * nothing to deliver yet. */
	if (!cfg || !cfg->nintegrations)
		return;
	h->rows = mw_xcalloc(cfg->nintegrations * (mw_nlogtypes + 1) + cfg->noutputs,
			     sizeof(*h->rows));
	for (size_t i = 0; i < cfg->nintegrations; i++) {
		h->rows[n++] = (struct home_row){ (int)i, -1, -1 };
		for (size_t t = 0; t < mw_nlogtypes; t++)
			if (cfg->integrations[i].types & (1u << t))
				h->rows[n++] = (struct home_row){ (int)i, (int)t, -1 };
	}
	for (size_t o = 0; o < cfg->noutputs; o++)
		h->rows[n++] = (struct home_row){ -1, -1, (int)o };
	h->nrows = n;
	if (h->cursor >= n)
		h->cursor = n - 1;
	if (h->cursor < 0)
		h->cursor = 0;
}

static void short_duration(int64_t s, char *buf, size_t n)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(buf, n, "%" PRId64 "s", s);
	else if (s < 3600)
		snprintf(buf, n, "%" PRId64 "m", s / 60);
	else if (s < 86400)
		snprintf(buf, n, "%" PRId64 "h", s / 3600);
	else
		snprintf(buf, n, "%" PRId64 "d", s / 86400);
}

/* ---- backfill progress -------------------------------------------------------------- */

static int backfilling(const struct store_status *s)
{
	return s && s->in_window && s->win_to - s->win_from >= BACKFILL_SPAN &&
	       strcmp(s->state, "paused") && !s->paused;
}

/* How far the window is read, 0-100. */
static int backfill_percent(const struct store_status *s)
{
	int pct;
	int64_t pos = s->win_progress > s->win_from ? s->win_progress : s->win_from;

	if (pos > s->win_to)
		pos = s->win_to;
	/* 100% is for a window complete, which is no longer a backfill. */
	pct = (int)((pos - s->win_from) * 100 / (s->win_to - s->win_from));
	return pct > 99 ? 99 : pct;
}

/* After each read of the store: a sample of every backfill's position. */
static void backfill_sample(struct home *h)
{
	int64_t now = mw_mono_ms();

	for (size_t i = 0; i < h->nst; i++) {
		const struct store_status *s = &h->st[i];
		struct backfill *b = NULL;

		if (!backfilling(s))
			continue;
		for (int k = 0; k < h->nbf && !b; k++)
			if (h->bf[k].source == s->source)
				b = &h->bf[k];
		if (!b) {
			if (h->nbf == MAX_BACKFILLS)
				continue;
			b = &h->bf[h->nbf++];
			b->source = s->source;
			b->win_from = -1;
		}
		if (b->win_from != s->win_from) {       /* a new window: start over */
			b->win_from = s->win_from;
			b->t_ms[0] = b->t_ms[1] = now;
			b->pos[0] = b->pos[1] = s->win_progress;
		} else if (now - b->t_ms[1] >= BACKFILL_SAMPLE_MS) {
			b->t_ms[0] = b->t_ms[1];
			b->pos[0] = b->pos[1];
			b->t_ms[1] = now;
			b->pos[1] = s->win_progress;
		}
	}
}

/* "backfill 2026-11-20 14:00 of 2026-11-06..now, 37% · 12,345 records ·
 * ETA 4m": where the window is, what it brought, and when it should end
 * at its recent pace (no ETA until there is one). */
static void backfill_line(const struct home *h, const struct store_status *s, char *buf,
			  size_t n)
{
	char pos[32], from[32], to[32], count[32], eta[32] = "";
	int64_t now_ms = mw_mono_ms(), p = s->win_progress > s->win_from ? s->win_progress
									: s->win_from;

	for (int k = 0; k < h->nbf; k++) {
		const struct backfill *b = &h->bf[k];

		if (b->source != s->source || b->win_from != s->win_from)
			continue;
		if (p > b->pos[0] && now_ms - b->t_ms[0] >= 2000) {
			double rate = (double)(p - b->pos[0]) / (double)(now_ms - b->t_ms[0]);
			char d[16];

			short_duration((int64_t)((double)(s->win_to - p) / rate / 1000.0), d,
				       sizeof(d));
			snprintf(eta, sizeof(eta), " %s ETA %s", ui_dot(), d);
		}
	}
	ui_fmt_time(p, 0, pos, sizeof(pos));
	pos[16] = '\0';                     /* to the minute */
	ui_fmt_time(s->win_from, 0, from, sizeof(from));
	from[10] = '\0';                    /* the day */
	if (s->win_to >= mw_now() - BACKFILL_SPAN) {
		snprintf(to, sizeof(to), "now");
	} else {
		ui_fmt_time(s->win_to, 0, to, sizeof(to));
		to[10] = '\0';
	}
	ui_fmt_count(s->win_received, count, sizeof(count));
	snprintf(buf, n, "backfill %s of %s..%s, %d%% %s %s record%s%s", pos, from, to,
		 backfill_percent(s), ui_dot(), count, s->win_received == 1 ? "" : "s", eta);
}

/* Whether type t's error is one the integration's other types share
 * (binding expired: the keys, not the type, are at fault): its remedy is
 * then shown once, under the first of them. NULL: its own; "": under an
 * earlier type; else the note for the first, naming the others. */
static const char *shared_remedy(const struct home *h, const struct mw_integration *in, int t,
				 char *note, size_t n)
{
	const struct store_status *s = find_status(h, in->name, mw_logtypes[t].name);
	int others = 0, all = 1;
	size_t len;

	if (!s || !s->err_class[0] || !strcmp(s->err_class, "ok") || !strcmp(s->err_class, "retry"))
		return NULL;
	snprintf(note, n, "(also ");
	for (size_t u = 0; u < mw_nlogtypes; u++) {
		const struct store_status *o;

		if ((int)u == t || !(in->types & (1u << u)))
			continue;
		o = find_status(h, in->name, mw_logtypes[u].name);
		if (!o || strcmp(o->err_class, s->err_class) || strcmp(o->remedy, s->remedy)) {
			all = 0;
			continue;
		}
		if ((int)u < t)
			return "";
		len = strlen(note);
		snprintf(note + len, n - len, "%s%s", others++ ? ", " : "", mw_logtypes[u].name);
	}
	if (!others)
		return NULL;
	if (all)
		snprintf(note, n, "(all types)");
	else {
		len = strlen(note);
		snprintf(note + len, n - len, ")");
	}
	return note;
}

/* How bad a type's state is, and the word for it. 0 is collecting fine. */
static int type_severity(const struct store_status *s, int api, char *word, size_t n)
{
	if (!s) {
		snprintf(word, n, "starting");
		return 1;
	}
	if (!strcmp(s->state, "error") ||
	    (strcmp(s->err_class, "ok") && strcmp(s->err_class, "retry") && s->err_class[0])) {
		snprintf(word, n, "%s", mc_class_label(mc_class_from_key(s->err_class), api));
		return 5;
	}
	if (!strcmp(s->state, "retrying")) {
		snprintf(word, n, "retrying");
		return 4;
	}
	if (!strcmp(s->state, "throttled")) {
		snprintf(word, n, "throttled %" PRId64 "s", ui_throttle_left(s));
		return 3;
	}
	if (s->paused || !strcmp(s->state, "paused")) {
		snprintf(word, n, "paused");
		return 2;
	}
	if (!s->last_attempt) {
		snprintf(word, n, "starting");
		return 1;
	}
	snprintf(word, n, "collecting");
	return 0;
}

static int integration_severity(const struct ui_ctx *ctx, const struct home *h,
				const struct mw_integration *in, char *word, size_t n)
{
	int worst = 0;

	if (!session_collects(ctx, in->name)) {
		/* a shard that is not this one collects it: nothing to wait for */
		snprintf(word, n, "another shard's");
		return 1;
	}
	snprintf(word, n, "collecting");
	for (size_t t = 0; t < mw_nlogtypes; t++) {
		char w[64];
		int sev;

		if (!(in->types & (1u << t)))
			continue;
		sev = type_severity(find_status(h, in->name, mw_logtypes[t].name), in->api, w,
				    sizeof(w));
		if (sev > worst) {
			worst = sev;
			snprintf(word, n, "%s", w);
		}
	}
	return worst;
}

/* ---- layout --------------------------------------------------------------------------- */

/* Columns of a type's sub-row; the narrowest screens drop them from the right. */
enum { C_NAME, C_STATE, C_LAST, C_24H, C_TOTAL, C_LAG, C_NEXT, C_BUDGET, C_NCOLS };
static const struct { const char *title; int width; } cols[C_NCOLS] = {
	{ "integration / type", 22 }, { "state", 16 }, { "last success", 13 },
	{ "24 h", 9 }, { "total", 10 }, { "lag", 6 }, { "next poll", 10 }, { "budget", 9 },
};

static int ncols_fitting(int width)
{
	int x = 1, k = 0;

	while (k < C_NCOLS && x + cols[k].width <= width)
		x += cols[k++].width;
	return k;
}

static int col_x(int k)
{
	int x = 1;

	for (int i = 0; i < k; i++)
		x += cols[i].width;
	return x;
}

/* ---- the outputs --------------------------------------------------------------------- */

/* Columns of an output's row. Narrow screens drop columns from the right,
 * so how it is doing comes first; the target (a path or URL of any length)
 * is last and takes what is left. */
enum { O_NAME, O_STATE, O_LAG, O_DELIVERED, O_TYPE, O_TARGET, O_NCOLS };
static const struct { const char *title; int width; } ocols[O_NCOLS] = {
	{ "outputs", 18 }, { "state", 10 }, { "lag", 18 }, { "delivered", 12 },
	{ "type", 14 }, { "target", 0 },
};
/* Where the target column needs at least this many columns to be worth drawing. */
#define O_TARGET_MIN 8

static int ocol_x(int k)
{
	int x = 1;

	for (int i = 0; i < k; i++)
		x += ocols[i].width;
	return x;
}

static int oncols_fitting(int width)
{
	int k = 0;

	while (k < O_TARGET && ocol_x(k + 1) <= width)
		k++;
	if (k == O_TARGET && ocol_x(O_TARGET) + O_TARGET_MIN < width)
		k++;
	return k;
}

/* The severity of an output's state, on the integrations' scale (0 fine,
 * 1 not started, 4 retrying, 5 needs a person), so its mark and colours
 * mean what they mean on an integration's row. */
static int output_severity(const struct home_output *o)
{
	if (!o || !o->have || !strcmp(o->info.state, "idle") || !o->info.state[0])
		return 1;
	if (!strcmp(o->info.state, "ok"))
		return 0;
	if (!strcmp(o->info.state, "retrying"))
		return 4;
	return 5;
}

static enum ui_role output_state_role(int sev)
{
	return sev == 0 ? ROLE_OK : sev == 1 ? ROLE_MUTED : sev == 4 ? ROLE_WARNING : ROLE_ERROR;
}

/* The target as shown: a URL's user:password@ part is never drawn. */
static void target_shown(const struct mw_output *o, char *buf, size_t n)
{
	const char *t = output_target(o), *scheme, *at, *end;

	if (!t)
		t = "";
	scheme = strstr(t, "://");
	if (scheme) {
		end = scheme + 3 + strcspn(scheme + 3, "/?#");
		at = memchr(scheme + 3, '@', (size_t)(end - scheme - 3));
		if (at) {
			snprintf(buf, n, "%.*s***%s", (int)(scheme + 3 - t), t, at);
			return;
		}
	}
	snprintf(buf, n, "%s", t);
}

/* Columns s takes once sanitised (controls drawn as escapes). */
static int text_width(const char *s, size_t n)
{
	mw_buf b;
	int w;

	mw_buf_init(&b);
	w = sanitize_display(&b, s, n, -1, ui_ascii);
	mw_buf_free(&b);
	return w;
}

/* A directory that does not fit loses its start, not its end: the last
 * components say where records go ("…/state/mimewatch/out"). */
static void draw_path(int y, int x, int w, enum ui_role role, const char *s)
{
	mw_buf b;
	size_t off = 0;
	const char *cut = ui_ellipsis();
	int cw = sanitize_width(cut, strlen(cut));

	if (w <= cw || text_width(s, strlen(s)) <= w) {
		ui_text(y, x, w, role, s, strlen(s));
		return;
	}
	mw_buf_init(&b);
	sanitize_display(&b, s, strlen(s), -1, ui_ascii);
	/* Every column holds at most 4 bytes of UTF-8: start no further back
	 * than that, on a character's first byte, then drop characters until
	 * the rest fits beside the mark. */
	if (b.len > (size_t)w * 4)
		off = b.len - (size_t)w * 4;
	while (off < b.len && ((unsigned char)b.data[off] & 0xc0) == 0x80)
		off++;
	while (off < b.len && sanitize_width(b.data + off, b.len - off) > w - cw) {
		off++;
		while (off < b.len && ((unsigned char)b.data[off] & 0xc0) == 0x80)
			off++;
	}
	/* Whole components read better than half a name. */
	if (off > 0 && b.data[off - 1] != '/') {
		const char *slash = memchr(b.data + off, '/', b.len - off);

		if (slash && (size_t)(slash - b.data) + 1 < b.len)
			off = (size_t)(slash - b.data);
	}
	x += ui_text(y, x, cw, role, cut, strlen(cut));
	ui_text(y, x, w - cw, role, b.data + off, b.len - off);
	mw_buf_free(&b);
}

/* The error line(s) under a failing output; draw=0 only counts. */
static int output_error_lines(const struct home_output *o, int width, int draw, int y)
{
	int sev = output_severity(o);

	if (sev < 4 || !o->info.error[0])
		return 0;
	/* The whole error and its fix, as an integration's (ui_status_lines). */
	return ui_wrap(o->info.error, width - 5 - 1, draw, y, 5, 1000,
		       sev == 4 ? ROLE_WARNING : ROLE_ERROR);
}

/* The outputs' heading (a blank line, then the column titles) goes with
 * the first output's row, so that it scrolls with the list; once the list
 * starts at an output, the titles take the top line instead. */
static int output_heading_lines(const struct home *h, int r)
{
	return r > 0 && r != h->top && h->rows[r - 1].out < 0 ? 2 : 0;
}

static void draw_output_heading(int y, int width)
{
	int ncols = oncols_fitting(width);

	for (int k = 0; k < ncols; k++) {
		int w = k == O_TARGET ? width - ocol_x(k) - 1 : ocols[k].width - 1;

		ui_text(y, ocol_x(k), w, ROLE_HEADING, ocols[k].title, strlen(ocols[k].title));
	}
}

static void draw_output(struct ui_view *v, int oi, int y, int width, int selected)
{
	struct home *h = v->priv;
	const struct mw_output *o = &v->ctx->cfg->outputs[oi];
	const struct home_output *ho = (size_t)oi < h->nouts ? &h->outs[oi] : NULL;
	int sev = output_severity(ho), ncols = oncols_fitting(width), x;
	enum ui_role base = selected ? ROLE_SELECTION : ROLE_NORMAL;
	/* Idle (nothing to send yet) is no failure: a neutral mark, muted. */
	enum ui_role mrole = sev == 0 ? ROLE_OK : sev == 1 ? ROLE_MUTED
			   : sev >= 4 ? ROLE_ERROR : ROLE_WARNING;
	const char *mark = sev == 0 ? ui_mark_ok() : sev == 1 ? ui_mark_idle() : ui_mark_bad();
	char cell[O_TARGET][64], target[4200];

	memset(cell, 0, sizeof(cell));
	snprintf(cell[O_TYPE], sizeof(cell[0]), "%s", output_type_name(o->kind));
	target_shown(o, target, sizeof(target));
	if (ho && ho->have) {
		char n[32], age[24];

		snprintf(cell[O_STATE], sizeof(cell[0]), "%s",
			 ho->info.state[0] ? ho->info.state : "idle");
		ui_fmt_count(ho->info.lag_records, n, sizeof(n));
		if (ho->info.lag_records > 0) {
			short_duration(ho->info.lag_seconds + mw_now() - h->read_at, age,
				       sizeof(age));
			snprintf(cell[O_LAG], sizeof(cell[0]), "%s behind, %s", n, age);
		} else {
			snprintf(cell[O_LAG], sizeof(cell[0]), "0 behind");
		}
		ui_fmt_count(ho->info.delivered, cell[O_DELIVERED], sizeof(cell[0]));
	} else {
		snprintf(cell[O_STATE], sizeof(cell[0]), "idle");
		snprintf(cell[O_LAG], sizeof(cell[0]), "-");
		snprintf(cell[O_DELIVERED], sizeof(cell[0]), "-");
	}
	if (selected) {
		attrset(ui_attr(ROLE_SELECTION));
		mvhline(y, 0, ' ', width);
		attrset(A_NORMAL);
		ui_text(y, 0, 1, ROLE_SELECTION, ">", 1);
	}
	/* The mark and the name, as on an integration's row. */
	x = 1 + ui_text(y, 1, ocols[O_NAME].width - 1, selected ? ROLE_SELECTION : mrole, mark,
			strlen(mark));
	x += 1;
	ui_text(y, x, ocol_x(O_NAME + 1) - x - 1, selected ? ROLE_SELECTION : ROLE_HEADING,
		o->name, strlen(o->name));
	for (int k = O_NAME + 1; k < ncols; k++) {
		int w = k == O_TARGET || k == ncols - 1 ? width - ocol_x(k) - 1
							: ocols[k].width - 1;
		enum ui_role role = selected ? base
			: k == O_STATE ? output_state_role(sev)
			: k == O_TARGET ? ROLE_MUTED : base;

		if (k == O_TARGET && o->kind == MW_OUT_NDJSON)
			draw_path(y, ocol_x(k), w, role, target);
		else if (k == O_TARGET)
			ui_text(y, ocol_x(k), w, role, target, strlen(target));
		else
			ui_text(y, ocol_x(k), w, role, cell[k], strlen(cell[k]));
	}
	output_error_lines(ho, width, 1, y + 1);
}

static int row_lines(struct ui_view *v, int r, int width)
{
	struct home *h = v->priv;
	const struct home_row *row = &h->rows[r];
	const struct mw_integration *in;
	char note[64];

	if (row->out >= 0)
		return output_heading_lines(h, r) + 1 +
		       ((size_t)row->out < h->nouts
				? output_error_lines(&h->outs[row->out], width, 0, 0) : 0);
	in = &v->ctx->cfg->integrations[row->integ];
	if (row->type < 0)
		return 1;
	return 1 + backfilling(find_status(h, in->name, mw_logtypes[row->type].name)) +
	       ui_status_lines(find_status(h, in->name, mw_logtypes[row->type].name), in->api,
			       shared_remedy(h, in, row->type, note, sizeof(note)), width, 0, 0, 6);
}

/* Lines the rows from `from` to the last take when the list starts there. */
static int lines_from(struct ui_view *v, int from, int width)
{
	struct home *h = v->priv;
	int top = h->top, n = 0;

	h->top = from;  /* the outputs' heading depends on where the list starts */
	for (int r = from; r < h->nrows; r++)
		n += row_lines(v, r, width);
	h->top = top;
	return n;
}

/* ---- drawing ---------------------------------------------------------------------------- */

static void draw_integration(struct ui_view *v, const struct mw_integration *in, int y,
			     int width, int selected)
{
	struct home *h = v->priv;
	char word[128];
	int sev = integration_severity(v->ctx, h, in, word, sizeof(word));
	enum ui_role role;
	const char *mark;
	int x = 1, sx = col_x(C_STATE);

	if (sev <= 1 && !collecting(v->ctx) && session_collects(v->ctx, in->name)) {
		snprintf(word, sizeof(word), "not collecting");
		sev = 2;
	}
	role = sev == 0 ? ROLE_OK : sev == 1 ? ROLE_MUTED : sev >= 4 ? ROLE_ERROR : ROLE_WARNING;
	/* Starting, paused and throttled (waiting out a rate limit, as the
	 * quota asks) are no failure: a neutral mark; the cross is for a type
	 * that fails or retries. */
	mark = sev == 0 ? ui_mark_ok() : sev <= 3 ? ui_mark_idle() : ui_mark_bad();

	if (selected) {
		attrset(ui_attr(ROLE_SELECTION));
		mvhline(y, 0, ' ', width);
		attrset(A_NORMAL);
		ui_text(y, 0, 1, ROLE_SELECTION, ">", 1);
	}
	x += ui_text(y, x, width - x, selected ? ROLE_SELECTION : role, mark, strlen(mark));
	x += 1;
	ui_text(y, x, sx - x - 1, selected ? ROLE_SELECTION : ROLE_HEADING, in->name,
		strlen(in->name));
	x = sx;
	x += ui_text(y, x, width - x - 1, selected ? ROLE_SELECTION : role, word, strlen(word));
	x += 2;
	if (x < width - 10) {
		char desc[256];
		int k = snprintf(desc, sizeof(desc), "API %s", in->api == 2 ? "2.0" : "1.0");

		if (in->description && *in->description)
			snprintf(desc + k, sizeof(desc) - (size_t)k, " %s %s", ui_dot(),
				 in->description);
		ui_text(y, x, width - x - 1, selected ? ROLE_SELECTION : ROLE_MUTED, desc,
			strlen(desc));
	}
}

static void draw_type(struct ui_view *v, const struct mw_integration *in, int t, int y,
		      int width, int selected, int ncols)
{
	struct home *h = v->priv;
	const struct store_status *s = find_status(h, in->name, mw_logtypes[t].name);
	char cell[C_NCOLS][64], note[64];
	enum ui_role base = selected ? ROLE_SELECTION : ROLE_NORMAL, srole;
	int64_t now = mw_now();
	int live = collecting(v->ctx);

	memset(cell, 0, sizeof(cell));
	snprintf(cell[C_NAME], sizeof(cell[0]), "%s", mw_logtypes[t].name);
	if (!s) {
		snprintf(cell[C_STATE], sizeof(cell[0]), "%s",
			 session_collects(v->ctx, in->name) ? "starting" : "-");
		srole = ROLE_MUTED;
	} else {
		if (!strcmp(s->state, "throttled"))
			snprintf(cell[C_STATE], sizeof(cell[0]), "throttled %" PRId64 "s",
				 ui_throttle_left(s));
		else if (!live && !strcmp(s->state, "collecting"))
			/* what a collector killed mid-page left in the store */
			snprintf(cell[C_STATE], sizeof(cell[0]), "not collecting");
		else
			snprintf(cell[C_STATE], sizeof(cell[0]), "%s",
				 s->paused && strcmp(s->state, "paused") ? "paused" : s->state);
		srole = !strcmp(s->state, "error") ? ROLE_ERROR
			: (!strcmp(s->state, "throttled") || !strcmp(s->state, "retrying") ||
			   !strcmp(s->state, "paused") || !live) ? ROLE_WARNING
			: ROLE_OK;
		if (backfilling(s)) {
			snprintf(cell[C_LAST], sizeof(cell[0]), "backfill %d%%", backfill_percent(s));
		} else if (s->last_success) {
			short_duration(now - s->last_success, cell[C_LAST], sizeof(cell[0]));
			strcat(cell[C_LAST], " ago");
		} else {
			snprintf(cell[C_LAST], sizeof(cell[0]), "never");
		}
		ui_fmt_count(s->records_24h, cell[C_24H], sizeof(cell[0]));
		ui_fmt_count(s->total, cell[C_TOTAL], sizeof(cell[0]));
		if (s->horizon)
			short_duration(now - s->horizon, cell[C_LAG], sizeof(cell[0]));
		else
			snprintf(cell[C_LAG], sizeof(cell[0]), "-");
		if (s->paused || !strcmp(s->state, "paused") || !s->next_poll || !live)
			snprintf(cell[C_NEXT], sizeof(cell[0]), "-");
		else if (s->next_poll <= now || !strcmp(s->state, "collecting"))
			snprintf(cell[C_NEXT], sizeof(cell[0]), "now");
		else {
			snprintf(cell[C_NEXT], sizeof(cell[0]), "in ");
			short_duration(s->next_poll - now, cell[C_NEXT] + 3, sizeof(cell[0]) - 3);
		}
		if (s->rl_limit >= 0 && s->rl_remaining >= 0)
			snprintf(cell[C_BUDGET], sizeof(cell[0]), "%" PRId64 "/%" PRId64,
				 s->rl_remaining, s->rl_limit);
		else
			snprintf(cell[C_BUDGET], sizeof(cell[0]), "-");
	}
	if (selected) {
		attrset(ui_attr(ROLE_SELECTION));
		mvhline(y, 0, ' ', width);
		attrset(A_NORMAL);
		ui_text(y, 0, 1, ROLE_SELECTION, ">", 1);
	}
	for (int k = 0; k < ncols; k++) {
		int x = col_x(k) + (k == C_NAME ? 3 : 0);
		int w = cols[k].width - (k == C_NAME ? 3 : 0) - 1;

		if (k == ncols - 1)
			w = width - x - 1;
		ui_text(y, x, w, k == C_STATE && !selected ? srole : base, cell[k],
			strlen(cell[k]));
	}
	if (backfilling(s)) {
		char line[256];

		backfill_line(h, s, line, sizeof(line));
		ui_text(y + 1, 6, width - 7, ROLE_MUTED, line, strlen(line));
		y++;
	}
	ui_status_lines(s, in->api, shared_remedy(h, in, t, note, sizeof(note)), width, 1, y + 1,
			6);
}

static void draw_empty(int y0, int height, int width)
{
	static const char *const lines[] = {
		"No integrations yet.",
		"",
		"Press a to add one: the setup wizard walks through the Mimecast side",
		"(Enhanced Logging, the API application, the service user and its role)",
		"and checks the keys live before saving.",
		"",
		"Waiting for keys? Mimecast lets you create them only 30 minutes after",
		"the API application. Meanwhile, try the console on the simulated",
		"tenant: mimewatch --demo",
	};

	for (size_t i = 0; i < NELEM(lines) && (int)i < height - 1; i++)
		ui_text(y0 + 1 + (int)i, 2, width - 3, i == 0 ? ROLE_HEADING : ROLE_NORMAL,
			lines[i], strlen(lines[i]));
}

/* 1 when "what: result" (a test record's status line) needs more than the
 * status line's lines at this width, or has a line break of its own. */
static int status_cut(const struct ui_view *v, int width)
{
	const struct home *h = v->priv;
	char *line;
	int cut;

	if (strchr(h->result, '\n'))
		return 1;
	line = mw_xcalloc(1, strlen(h->req_what) + strlen(h->result) + 3);
	sprintf(line, "%s: %s", h->req_what, h->result);
	cut = strlen(line) >= sizeof(v->ctx->message) ||
	      ui_wrap(line, width - 2, 0, 0, 0, UI_MESSAGE_LINES + 1, ROLE_NORMAL) >
		      UI_MESSAGE_LINES;
	free(line);
	return cut;
}

/* The finished request's result, wrapped; draw=0 only counts lines. */
static int result_block(const struct ui_view *v, int draw, int y, int height, int width)
{
	const struct home *h = v->priv;
	const char *p;
	int line = 1;

	if (!h->result && !h->req_id)
		return 0;
	/* A test record's result is on the status line; it comes down here
	 * too when it failed (the whole error and remedy) or when the status
	 * line had to cut it. */
	if (h->req_test && (!h->result || (!h->result_failed && !status_cut(v, width))))
		return 0;
	if (draw)
		ui_hline(y, 0, width);
	if (!h->result) {
		if (draw && collecting(v->ctx))
			ui_textf(y, 2, width - 4, ROLE_MUTED, " %s: waiting for the collector... ",
				 h->req_what);
		else if (draw)
			ui_textf(y, 2, width - 4, ROLE_WARNING, " %s: waiting for a collector ",
				 h->req_what);
		return 1;
	}
	if (draw)
		ui_textf(y, 2, width - 4, h->result_failed ? ROLE_WARNING : ROLE_OK, " %s ",
			 h->req_what);
	for (p = h->result; *p && line < height;) {
		size_t n = strcspn(p, "\n");
		char *one = mw_xstrndup(p, n);
		enum ui_role role = n >= 4 && !memcmp(p + n - 4, ": ok", 4)
			? ROLE_OK : (h->result_failed ? ROLE_ERROR : ROLE_NORMAL);

		line += ui_wrap(one, width - 4, draw, y + line, 2, height - line, role);
		free(one);
		p += n;
		if (*p == '\n')
			p++;
	}
	return line;
}

static void home_draw(struct ui_view *v, int y0, int x0, int height, int width)
{
	struct home *h = v->priv;
	int ncols = ncols_fitting(width), y, rl, wl, list_h, r;

	(void)x0;
	if (!h->nrows) {
		draw_empty(y0, height, width);
		return;
	}
	rl = result_block(v, 0, 0, height / 2, width);
	wl = h->waiting > 0;
	list_h = height - 1 - rl - wl;
	/* Scroll so the cursor's row and the lines under it are on screen. */
	if (h->top > h->cursor)
		h->top = h->cursor;
	for (;;) {
		int used = 0;

		for (r = h->top; r <= h->cursor; r++)
			used += row_lines(v, r, width);
		if (used <= list_h || h->top >= h->cursor)
			break;
		h->top++;
	}
	/* After the terminal grew (or rows went away), the rows hidden above
	 * come back as long as the rest still fits below them. */
	while (h->top > 0 && lines_from(v, h->top - 1, width) <= list_h)
		h->top--;
	/* The titles of the columns below: the outputs' own once the list
	 * starts at an output. */
	if (h->rows[h->top].out >= 0)
		draw_output_heading(y0, width);
	else
		for (int k = 0; k < ncols; k++)
			ui_text(y0, col_x(k), cols[k].width - 1, ROLE_HEADING, cols[k].title,
				strlen(cols[k].title));
	h->list_y = y = y0 + 1;
	h->list_h = list_h;
	h->list_w = width;
	for (r = h->top; r < h->nrows && y < y0 + 1 + list_h; r++) {
		const struct home_row *row = &h->rows[r];
		const struct mw_integration *in;
		int lines = row_lines(v, r, width);

		if (y + lines > y0 + 1 + list_h && r != h->cursor && r > h->top)
			break;
		if (row->out >= 0) {
			int head = output_heading_lines(h, r);

			if (head)
				draw_output_heading(y + head - 1, width);
			draw_output(v, row->out, y + head, width, r == h->cursor);
			y += lines;
			continue;
		}
		in = &v->ctx->cfg->integrations[row->integ];
		if (row->type < 0)
			draw_integration(v, in, y, width, r == h->cursor);
		else
			draw_type(v, in, row->type, y, width, r == h->cursor, ncols);
		y += lines;
	}
	if (rl)
		result_block(v, 1, y0 + height - rl, rl, width);
	if (h->renaming) {
		char label[96];
		int used;

		snprintf(label, sizeof(label), "Rename %s to: ", h->rename_from);
		used = 1 + ui_text(y0 + height - 1, 1, width - 2, ROLE_KEY, label, strlen(label));
		ui_field_draw(&h->rename_field, y0 + height - 1, used, width - used - 1, 1);
	}
	if (wl)
		ui_textf(y0 + height - rl - 1, 1, width - 2, ROLE_WARNING,
			 "%d request%s waiting for a collector: press C to collect in this console",
			 h->waiting, h->waiting == 1 ? "" : "s");
	/* Countdowns and "ago" move by the second. */
	ui_tick(1000);
}

/* ---- actions -------------------------------------------------------------------------- */

static const struct mw_integration *selected_integration(struct ui_view *v, int *type)
{
	struct home *h = v->priv;

	if (!h->nrows || !v->ctx->cfg || h->rows[h->cursor].integ < 0)
		return NULL;
	if (type)
		*type = h->rows[h->cursor].type;
	return &v->ctx->cfg->integrations[h->rows[h->cursor].integ];
}

static const struct mw_output *selected_output(struct ui_view *v)
{
	struct home *h = v->priv;

	if (!h->nrows || !v->ctx->cfg || h->rows[h->cursor].out < 0 ||
	    (size_t)h->rows[h->cursor].out >= v->ctx->cfg->noutputs)
		return NULL;
	return &v->ctx->cfg->outputs[h->rows[h->cursor].out];
}

static int64_t fetch_records(const struct home *h);

/* track: 0 the status line says it was requested, then its outcome; 1 its result is shown
 * under the list when done; 2 (a test record) its result goes to the
 * status line, and under the list too when it failed. */
static void send_request(struct ui_view *v, const char *integ, const char *type,
			 enum mw_request action, const char *arg, const char *what, int track)
{
	struct home *h = v->priv;
	struct ui_ctx *ctx = v->ctx;
	int64_t id = 0;
	mw_err e;

	if (ui_request(ctx, integ, type, action, arg, &id, &e) < 0) {
		ui_message(ctx, ROLE_ERROR, "%s", e.msg);
		return;
	}
	if (track) {
		free(h->result);
		h->result = NULL;
		h->req_id = id;
		h->req_test = track == 2;
		snprintf(h->req_what, sizeof(h->req_what), "%s", what);
	} else {
		h->line_id = id;
		h->line_fetch = action == MW_REQ_FETCH;
		h->line_polling = 0;
		snprintf(h->line_what, sizeof(h->line_what), "%s", what);
		snprintf(h->line_integ, sizeof(h->line_integ), "%s", integ);
		snprintf(h->line_type, sizeof(h->line_type), "%s", type);
		h->line_since = mw_now();
		h->line_base = fetch_records(h);
	}
	if (!collecting(ctx))
		ui_message(ctx, ROLE_WARNING, "%s: requested; waiting for a collector (none runs: "
			   "C collects in this console)", what);
	else if (track == 2)
		ui_message(ctx, ROLE_MUTED, "sending %s...", what);
	else
		ui_message(ctx, ROLE_MUTED, "%s: requested%s", what,
			   ctx->attached ? " from the mimewatch run service" : "");
	ui_tick(300);
}

/* Records stored so far of the types a fetch on the status line asked. */
static int64_t fetch_records(const struct home *h)
{
	int64_t n = 0;

	for (size_t i = 0; i < h->nst; i++)
		if (!strcmp(h->st[i].integration, h->line_integ) &&
		    (!h->line_type[0] || !strcmp(h->st[i].type, h->line_type)))
			n += h->st[i].total;
	return n;
}

/* A fetch is over when each of its types (not paused) has polled since it
 * was asked and is neither collecting nor waiting out a throttle: then
 * its new records, or the class of the first type that failed. 0 while
 * not over. */
static int fetch_outcome(struct ui_view *v, char *out, size_t n, int *failed)
{
	struct home *h = v->priv;
	const struct mw_integration *in = session_integration(v->ctx, h->line_integ);
	const struct store_status *bad = NULL;
	char count[32];
	int64_t got;
	int asked = 0, known = 0;

	for (size_t i = 0; i < h->nst; i++) {
		const struct store_status *s = &h->st[i];

		if (strcmp(s->integration, h->line_integ) ||
		    (h->line_type[0] && strcmp(s->type, h->line_type)))
			continue;
		known++;
		if (s->paused || !strcmp(s->state, "paused"))
			continue;
		if (s->last_attempt < h->line_since || !strcmp(s->state, "collecting") ||
		    !strcmp(s->state, "throttled"))
			return 0;
		asked++;
		if (!bad && s->err_class[0] && strcmp(s->err_class, "ok"))
			bad = s;
	}
	if (!known)
		return 0;       /* not polled even once yet: its first poll will say */
	*failed = bad != NULL;
	if (!asked) {
		snprintf(out, n, "nothing fetched: paused (p resumes)");
		return 1;
	}
	if (bad) {
		snprintf(out, n, "failed: %s%s%s", h->line_type[0] ? "" : bad->type,
			 h->line_type[0] ? "" : ": ",
			 mc_class_label(mc_class_from_key(bad->err_class), in ? in->api : 1));
		return 1;
	}
	got = fetch_records(h) - h->line_base;
	ui_fmt_count(got > 0 ? got : 0, count, sizeof(count));
	snprintf(out, n, "%s new record%s", count, got == 1 ? "" : "s");
	return 1;
}

static void poll_line(struct ui_view *v)
{
	struct home *h = v->priv;
	char res[512];
	int state, failed = 0;
	mw_err e;

	if (!h->line_id || !v->ctx->store)
		return;
	if (!h->line_polling) {
		if (store_request_get(v->ctx->store, h->line_id, &state, res, sizeof(res), &e) < 0) {
			h->line_id = 0;
			return;
		}
		if (state < 2) {
			ui_tick(500);
			return;
		}
		if (state != 2 || !h->line_fetch) {
			res[strcspn(res, "\n")] = '\0';
			ui_message(v->ctx, state == 2 ? ROLE_OK : ROLE_ERROR, "%s: %s%s", h->line_what,
				   state == 2 ? "" : "failed: ", res[0] ? res : "done");
			h->line_id = 0;
			return;
		}
		h->line_polling = 1;
	}
	if (!fetch_outcome(v, res, sizeof(res), &failed)) {
		ui_tick(500);
		return;
	}
	ui_message(v->ctx, failed ? ROLE_ERROR : ROLE_OK, "%s: %s", h->line_what, res);
	h->line_id = 0;
}

/* A validation's result is a line per type ("acme url: ok" or its
 * class and fix, collector_requests.c): the status line counts them. */
static void validate_outcome(struct ui_view *v, int state)
{
	struct home *h = v->priv;
	int n = 0, good = 0;

	for (const char *p = h->result; *p;) {
		size_t len = strcspn(p, "\n");

		n++;
		good += len >= 4 && !strncmp(p + len - 4, ": ok", 4);
		p += len + (p[len] == '\n');
	}
	if (!n)
		ui_message(v->ctx, state == 2 ? ROLE_OK : ROLE_WARNING, "%s: %s", h->req_what,
			   state == 2 ? "done" : "finished with problems (below)");
	else
		ui_message(v->ctx, good == n ? ROLE_OK : ROLE_WARNING, "%s: %d of %d type%s ok%s",
			   h->req_what, good, n, n == 1 ? "" : "s", good == n ? "" : " (below)");
}

static void poll_request(struct ui_view *v)
{
	struct home *h = v->priv;
	char res[4096];
	int state;
	mw_err e;

	if (!h->req_id || h->result || !v->ctx->store)
		return;
	if (store_request_get(v->ctx->store, h->req_id, &state, res, sizeof(res), &e) < 0) {
		h->req_id = 0;
		return;
	}
	if (state < 2) {
		ui_tick(500);
		return;
	}
	h->result = mw_xstrdup(res[0] ? res : (state == 2 ? "done" : "failed"));
	h->result_failed = state != 2;
	if (h->req_test)
		ui_message(v->ctx, state == 2 ? ROLE_OK : ROLE_ERROR, "%s: %s", h->req_what,
			   h->result);
	else
		validate_outcome(v, state);
}

static void toggle_pause(struct ui_view *v)
{
	struct home *h = v->priv;
	int type;
	const struct mw_integration *in = selected_integration(v, &type);
	int all_paused = 1;
	char what[128];

	if (!in)
		return;
	for (size_t t = 0; t < mw_nlogtypes; t++) {
		const struct store_status *s;

		if (!(in->types & (1u << t)) || (type >= 0 && (int)t != type))
			continue;
		s = find_status(h, in->name, mw_logtypes[t].name);
		if (!s || !(s->paused || !strcmp(s->state, "paused")))
			all_paused = 0;
	}
	snprintf(what, sizeof(what), "%s %s%s%s",
		 mw_request_name(all_paused ? MW_REQ_RESUME : MW_REQ_PAUSE), in->name,
		 type >= 0 ? "/" : "", type >= 0 ? mw_logtypes[type].name : "");
	send_request(v, in->name, type >= 0 ? mw_logtypes[type].name : "",
		     all_paused ? MW_REQ_RESUME : MW_REQ_PAUSE, "", what, 0);
}

/* The config without it (session_save_config: save, reload, swap), then
 * its records. */
static void delete_integration(struct ui_view *v, const char *name)
{
	struct ui_ctx *ctx = v->ctx;
	mw_err e;
	int rc;

	if (!session_integration(ctx, name))
		return;
	mw_err_clear(&e);
	rc = session_delete_integration(ctx, name, &e);
	if (rc == -1) {
		ui_message(ctx, ROLE_ERROR, "%s", e.msg);
		return;
	}
	if (rc == 0)
		ui_message(ctx, ROLE_OK, "deleted %s from %s", name, ctx->config_path);
	else if (rc == 2)  /* the file had changed: what changed, and ours applied on top */
		ui_message(ctx, ROLE_WARNING, "%s", e.msg);
	else  /* -3: a conflict, nothing saved */
		ui_message(ctx, ROLE_ERROR, "%s", e.msg);
	rebuild_rows(v);
}

/* R's prompt done: the collector (or this console, when nothing collects)
 * renames in the store and the config, keeping cursors and records. */
static void rename_integration(struct ui_view *v, const char *from, const char *to)
{
	struct ui_ctx *ctx = v->ctx;
	mw_err e;
	int rc;

	if (!to[0] || strcmp(from, to) == 0) {
		ui_message(ctx, ROLE_MUTED, "kept the name %s", from);
		return;
	}
	mw_err_clear(&e);
	rc = session_rename_integration(ctx, from, to, &e);
	if (rc == 0)
		ui_message(ctx, ROLE_OK, "renamed %s to %s; its cursors and records are kept", from,
			   to);
	else if (rc == 1)
		ui_message(ctx, ROLE_WARNING, "%s", e.msg);
	else
		ui_message(ctx, ROLE_ERROR, "%s", e.msg);
	rebuild_rows(v);
}

static int home_input(struct ui_view *v, wint_t ch, int is_key)
{
	struct home *h = v->priv;

	if (h->renaming) {
		int enter = (!is_key && (ch == '\r' || ch == '\n')) || (is_key && ch == KEY_ENTER);

		if (!is_key && ch == 27) {
			h->renaming = 0;
			ui_message(v->ctx, ROLE_MUTED, "kept the name %s", h->rename_from);
		} else if (enter) {
			h->renaming = 0;
			h->rename_field.buf[h->rename_field.len] = '\0';
			rename_integration(v, h->rename_from, h->rename_field.buf);
		} else {
			/* a prompt is modal: every other key edits the field */
			ui_field_input(&h->rename_field, ch, is_key);
		}
		return 1;
	}
	if (!h->confirm_delete)
		return 0;
	h->confirm_delete = 0;
	if (!is_key && (ch == 'y' || ch == 'Y')) {
		delete_integration(v, h->confirm_name);
	} else {
		ui_message(v->ctx, ROLE_MUTED, "kept %s", h->confirm_name);
	}
	return 1;
}

/* The row drawn at screen line y, found as home_draw laid the rows out. */
static int home_click(struct ui_view *v, int y, int x)
{
	struct home *h = v->priv;
	int at = h->list_y;

	(void)x;
	if (h->renaming || h->confirm_delete || h->list_w <= 0)
		return 0;
	for (int r = h->top; r < h->nrows && at < h->list_y + h->list_h; r++) {
		int lines = row_lines(v, r, h->list_w);

		if (y >= at && y < at + lines) {
			h->cursor = r;
			return 1;
		}
		at += lines;
	}
	return 0;
}

static int home_action(struct ui_view *v, enum ui_action a)
{
	struct home *h = v->priv;
	struct ui_ctx *ctx = v->ctx;
	int type;
	const struct mw_integration *in = selected_integration(v, &type);
	const struct mw_output *out;
	char what[128];

	switch (a) {
	case ACT_UP:
	case ACT_DOWN:
	case ACT_PAGE_UP:
	case ACT_PAGE_DOWN:
	case ACT_FIRST:
	case ACT_LAST: {
		struct ui_list l = { h->nrows, h->cursor, h->top };

		ui_list_action(&l, a, LINES > 8 ? (LINES - 6) / 2 : 1);
		h->cursor = l.cursor;
		return 1;
	}
	case ACT_ADD:
		ui_push(ctx, &view_wizard, NULL);
		return 1;
	case ACT_TROUBLESHOOT:
		/* t: on an output's row "send test record"; on an integration's
		 * row troubleshooting (below). */
		if ((out = selected_output(v)) != NULL) {
			snprintf(what, sizeof(what), "test record to %s", out->name);
			send_request(v, "", "", MW_REQ_TEST_OUTPUT, out->name, what, 2);
			return 1;
		}
		/* fall through */
	case ACT_ENTER:
	case ACT_COVERAGE:
	case ACT_EDIT:
	case ACT_DELETE:
	case ACT_RENAME:
	case ACT_VALIDATE:
	case ACT_FETCH:
	case ACT_PAUSE:
		if (!in && selected_output(v)) {
			ui_message(ctx, ROLE_MUTED, "this is an output: t sends it a test record; "
				   "the other keys act on an integration's rows");
			return 1;
		}
		if (!in) {
			ui_message(ctx, ROLE_MUTED, "no integration yet: press a to add one");
			return 1;
		}
		break;
	default:
		return 0;
	}
	snprintf(h->arg_name, sizeof(h->arg_name), "%s", in->name);
	switch (a) {
	case ACT_ENTER:
		h->logs_arg.integration = h->arg_name;
		h->logs_arg.type_index = type;
		/* An integration row opens its first chosen type in table order. */
		for (size_t t = 0; h->logs_arg.type_index < 0 && t < mw_nlogtypes; t++)
			if (in->types & (1u << t))
				h->logs_arg.type_index = (int)t;
		ui_push(ctx, &view_logs, &h->logs_arg);
		return 1;
	case ACT_COVERAGE:
		/* every type, the selected one (or the first) under the cursor */
		h->logs_arg.integration = h->arg_name;
		h->logs_arg.type_index = type;
		ui_push(ctx, &view_coverage, &h->logs_arg);
		return 1;
	case ACT_EDIT:
		ui_push(ctx, &view_wizard, h->arg_name);
		return 1;
	case ACT_DELETE:
		h->confirm_delete = 1;
		snprintf(h->confirm_name, sizeof(h->confirm_name), "%s", in->name);
		ui_message(ctx, ROLE_WARNING, "delete %s from the config and its collected records? "
			   "y deletes, any other key keeps it", in->name);
		return 1;
	case ACT_RENAME:
		h->renaming = 1;
		snprintf(h->rename_from, sizeof(h->rename_from), "%s", in->name);
		memset(&h->rename_field, 0, sizeof(h->rename_field));
		mw_strlcpy(h->rename_field.buf, in->name, sizeof(h->rename_field.buf));
		h->rename_field.len = h->rename_field.cur = strlen(h->rename_field.buf);
		ui_message(ctx, ROLE_MUTED, "the new name, then Enter (Esc keeps %s); its cursors "
			   "and records stay", in->name);
		return 1;
	case ACT_VALIDATE:
		snprintf(what, sizeof(what), "validate %s", in->name);
		send_request(v, in->name, "", MW_REQ_VALIDATE, "", what, 1);
		return 1;
	case ACT_FETCH:
		snprintf(what, sizeof(what), "fetch %s%s%s", in->name, type >= 0 ? "/" : "",
			 type >= 0 ? mw_logtypes[type].name : "");
		send_request(v, in->name, type >= 0 ? mw_logtypes[type].name : "", MW_REQ_FETCH, "",
			     what, 0);
		return 1;
	case ACT_PAUSE:
		toggle_pause(v);
		return 1;
	case ACT_TROUBLESHOOT:
		ui_push(ctx, &view_trouble, h->arg_name);
		return 1;
	default:
		return 0;
	}
}

/* ---- life cycle ------------------------------------------------------------------------ */

/* Each configured output's state, lag and deliveries, read from the store
 * on the same refresh as the integrations' status (the store is where the
 * output threads record them); the counts go on from the last read. */
static int reload_outputs(struct ui_view *v)
{
	struct home *h = v->priv;
	const struct mw_config *cfg = v->ctx->cfg;
	int reported = 0;
	mw_err e;

	if (!cfg || !cfg->noutputs) {
		free(h->outs);
		h->outs = NULL;
		h->nouts = 0;
		return 0;
	}
	if (h->nouts != cfg->noutputs) {
		free(h->outs);
		h->outs = mw_xcalloc(cfg->noutputs, sizeof(*h->outs));
		h->nouts = cfg->noutputs;
	}
	for (size_t i = 0; i < cfg->noutputs; i++) {
		struct home_output *o = &h->outs[i];

		o->have = 0;
		if (!v->ctx->store)
			continue;
		/* The cache knows its output by name: a renamed or reordered
		 * output counts afresh. */
		if (store_output_info_cached(v->ctx->store, cfg->outputs[i].name, &o->cache,
					     &o->info, &e) == 0) {
			o->have = 1;
		} else if (!reported) {
			ui_message(v->ctx, ROLE_ERROR, "%s", e.msg);
			reported = 1;
		}
	}
	return reported ? -1 : 0;
}

/* 1 when nothing the screen shows from the store can have changed since
 * the last read: the 1 s ticks of countdowns and ages read nothing. */
static int store_unchanged(struct ui_view *v, struct store_mark *m)
{
	struct home *h = v->priv;

	if (!v->ctx->store || store_change_mark(v->ctx->store, m) < 0)
		return 0;
	return h->have_read && h->read_cfg == v->ctx->cfg && h->read_hour == mw_now() / 3600 &&
	       m->data_version == h->mark.data_version && m->own_changes == h->mark.own_changes;
}

static void home_reload(struct ui_view *v)
{
	struct home *h = v->priv;
	struct store_mark m = { -1, -1 };
	mw_err e;

	if (!store_unchanged(v, &m)) {
		free(h->st);
		h->st = NULL;
		h->nst = 0;
		h->have_read = 0;
		if (v->ctx->store && store_list_status(v->ctx->store, &h->st, &h->nst, &e) < 0)
			ui_message(v->ctx, ROLE_ERROR, "%s", e.msg);
		else if (v->ctx->store)
			h->have_read = 1;
		backfill_sample(h);
		if (reload_outputs(v) < 0)
			h->have_read = 0;   /* try again at the next tick */
		h->mark = m;
		h->read_cfg = v->ctx->cfg;
		h->read_hour = mw_now() / 3600;
		h->read_at = mw_now();
	}
	rebuild_rows(v);
	poll_request(v);
	poll_line(v);
	h->waiting = collecting(v->ctx) ? 0 : session_requests_waiting(v->ctx);
}

static int home_open(struct ui_view *v, void *arg)
{
	(void)arg;
	v->priv = mw_xcalloc(1, sizeof(struct home));
	home_reload(v);
	return 0;
}

static void home_close(struct ui_view *v)
{
	struct home *h = v->priv;

	if (!h)
		return;
	free(h->st);
	free(h->outs);
	free(h->rows);
	free(h->result);
	free(h);
	v->priv = NULL;
}

static const char *home_title(struct ui_view *v)
{
	(void)v;
	return "integrations";
}

const struct ui_view_ops view_home = {
	.name = "home",
	.open = home_open,
	.close = home_close,
	.reload = home_reload,
	.draw = home_draw,
	.action = home_action,
	.input = home_input,
	.title = home_title,
	.click = home_click,
};
