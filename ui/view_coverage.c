/* view_coverage.c - coverage (c on home): per type of one integration, a
 * timeline of the last 30 days as wide as the terminal, each cell some
 * hours: what was collected, the gaps (a reset forward, before the first
 * collection, a collector that stopped), the backfills under way, and the
 * records per cell as a sparkline. A cursor moves over the cells; the line
 * under the timelines says what the selected cell holds and why a gap is
 * one. Enter on a gap asks the collector, through the store, for a
 * backfill of that whole gap (MW_REQ_BACKFILL), whose progress then shows.
 *
 * Everything comes from store_coverage (store.h, "coverage.c"): spans,
 * backfills, the cursor, resets; the records per hour, the one read that
 * costs (an index range an hour), in full only now and then (load). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logtypes.h"
#include "session.h"
#include "ui.h"
#include "util.h"

#define DAYS 30
#define HOURS (DAYS * 24)
#define COUNTS_EVERY_MS 5000
#define RECENT_S 86400          /* recounts reach this far before the horizon */
#define TYPE_LINES 4            /* title, sparkline, marks, the cursor's caret */
#define LATE_S 3600             /* a horizon this far behind is a gap, not "next" */

struct cov_type {
	int lt;                         /* index in mw_logtypes */
	int64_t source;                 /* 0: nothing collected yet */
	struct store_coverage cov;
	int64_t total;                  /* records in the 30 days */
	char state[16], err_class[24];  /* from store_status */
	int64_t bf_id, bf_seen;         /* the backfill under way, its progress counted */
};

struct coverage {
	char integration[128];
	struct cov_type t[16];
	size_t n;
	int sel, cell;                  /* the selected type and cell */
	int cell_pinned;                /* moved by a key: stays, else follows "now" */
	int ncells;                     /* at the last draw */
	int64_t from, to;               /* the 30 days, on hour bounds */
	struct store_mark mark;
	int have;
	int64_t counts_at;              /* mono ms of the last count */
	int counts_stale;               /* records may have come since */
	int64_t counted_from;           /* from at that count (hours[0]'s start) */
	size_t queued;                  /* backfills queued at the last read */
	int64_t req_id;                 /* the backfill asked for, until answered */
	char req_what[256];
	char error[1024];
};

/* ---- reading ------------------------------------------------------------------------ */

/* Counts the hours again where records can have come since the last
 * count: from a day before where the regular windows read (the horizon, or
 * a window under way) to now, and around each backfill's progress. */
static void recount(struct ui_ctx *ctx, const struct coverage *c, struct cov_type *t,
		    mw_err *e, int *failed)
{
	const struct store_cursor *cur = &t->cov.cur;
	int64_t lo = cur->horizon;

	if (cur->in_window && cur->win_from < lo)
		lo = cur->win_from;
	if (store_count_hours(ctx->store, t->source, t->cov.from, t->cov.nhours, t->cov.hours,
			      lo > 0 ? lo - RECENT_S : c->from, c->to, e) < 0)
		*failed = 1;
	for (size_t k = 0; k < t->cov.nbf && !*failed; k++) {
		const struct store_backfill *f = &t->cov.bf[k];

		if (f->state == STORE_BF_QUEUED &&
		    store_count_hours(ctx->store, t->source, t->cov.from, t->cov.nhours,
				      t->cov.hours, (f->id == t->bf_id ? t->bf_seen : f->from) - 3600,
				      f->cur.win_progress + 3600, e) < 0)
			*failed = 1;
		if (f->state == STORE_BF_QUEUED) {
			t->bf_id = f->id;
			t->bf_seen = f->cur.win_progress;
		}
	}
}

/* Reads the store again when it changed. The counts per hour: all of them
 * on opening, when the hour turns and when a backfill began or ended; in
 * between, at most every COUNTS_EVERY_MS, only where records can have come
 * (recount): a month of a million records costs a quarter of a second, the
 * day a window reads a thirtieth of that. (A record dated outside its
 * window, rare, counts from the next full count.) */
static void load(struct ui_view *v, int force_counts)
{
	struct coverage *c = v->priv;
	struct ui_ctx *ctx = v->ctx;
	struct store_mark m = { -1, -1 };
	struct store_status *st = NULL;
	size_t nst = 0, q = 0;
	int full, part, failed = 0;
	int64_t now_ms = mw_mono_ms();
	mw_err e;

	if (!ctx->store)
		return;
	c->to = (mw_now() / 3600 + 1) * 3600;
	c->from = c->to - (int64_t)HOURS * 3600;
	full = force_counts || !c->have || c->from != c->counted_from;
	part = !full && now_ms - c->counts_at >= COUNTS_EVERY_MS;
	if (store_change_mark(ctx->store, &m) == 0 && c->have &&
	    m.data_version == c->mark.data_version && m.own_changes == c->mark.own_changes &&
	    !force_counts && !(c->counts_stale && part))
		return;
	if (store_list_status(ctx->store, &st, &nst, &e) < 0) {
		snprintf(c->error, sizeof(c->error), "%s", e.msg);
		return;
	}
	c->error[0] = '\0';
	for (size_t i = 0; i < c->n && !failed; i++) {
		struct cov_type *t = &c->t[i];
		struct store_coverage cov;
		int found = store_find_source(ctx->store, c->integration, mw_logtypes[t->lt].name,
					      &t->source, &e);

		if (found < 0) {
			failed = 1;
			break;
		}
		if (!found) {
			store_coverage_free(&t->cov);
			t->source = 0;
			continue;
		}
		if (store_coverage(ctx->store, t->source, c->from, c->to, full || !t->cov.hours,
				   &cov, &e) < 0) {
			failed = 1;
			break;
		}
		if (!cov.hours) {
			/* the last counts stand, but where records can have come */
			cov.hours = t->cov.hours;
			cov.nhours = t->cov.nhours;
			t->cov.hours = NULL;
		}
		store_coverage_free(&t->cov);
		t->cov = cov;
		if (!full && part)
			recount(ctx, c, t, &e, &failed);
		t->total = 0;
		for (size_t k = 0; k < t->cov.nhours; k++)
			t->total += t->cov.hours[k];
		for (size_t k = 0; k < t->cov.nbf; k++)
			q += t->cov.bf[k].state == STORE_BF_QUEUED;
		for (size_t k = 0; k < nst; k++)
			if (st[k].source == t->source) {
				snprintf(t->state, sizeof(t->state), "%s", st[k].state);
				snprintf(t->err_class, sizeof(t->err_class), "%s", st[k].err_class);
			}
	}
	free(st);
	if (failed) {
		snprintf(c->error, sizeof(c->error), "%s", e.msg);
		return;
	}
	/* a backfill ended (or began): its records count at once, everywhere */
	if (q != c->queued && !full) {
		c->queued = q;
		load(v, 1);
		return;
	}
	c->queued = q;
	if (full)
		c->counted_from = c->from;
	if (full || part)
		c->counts_at = now_ms;
	c->counts_stale = !full && !part;
	c->mark = m;
	c->have = 1;
}

/* The backfill asked for: its answer on the status line, once. */
static void poll_request(struct ui_view *v)
{
	struct coverage *c = v->priv;
	char result[512];
	int state = 0;
	mw_err e;

	if (!c->req_id || !v->ctx->store)
		return;
	if (store_request_get(v->ctx->store, c->req_id, &state, result, sizeof(result), &e) < 0 ||
	    state < 2) {
		ui_tick(500);
		return;
	}
	if (state == 2)
		ui_message(v->ctx, ROLE_OK, "%s", result[0] ? result : c->req_what);
	else
		ui_message(v->ctx, ROLE_ERROR, "%s: %s", c->req_what, result);
	c->req_id = 0;
}

/* ---- what a cell holds -------------------------------------------------------------- */

/* The cell's seconds [*a, *b). */
static void cell_span(const struct coverage *c, int cell, int64_t *a, int64_t *b)
{
	*a = c->from + (int64_t)cell * HOURS / c->ncells * 3600;
	*b = c->from + (int64_t)(cell + 1) * HOURS / c->ncells * 3600;
}

/* The horizon: the regular collection reads on from there to now (gaps
 * are looked for before it). 0 when never collected. */
static int64_t horizon_of(const struct cov_type *t)
{
	return t->cov.cur.horizon;
}

/* The queued backfill overlapping [a, b), or NULL. */
static const struct store_backfill *backfill_in(const struct cov_type *t, int64_t a, int64_t b)
{
	for (size_t i = 0; i < t->cov.nbf; i++) {
		const struct store_backfill *f = &t->cov.bf[i];

		if (f->state == STORE_BF_QUEUED && f->from < b && f->to >= a)
			return f;
	}
	return NULL;
}

/* The first gap (not covered by a span) within [a, b) before the horizon:
 * 1 with [*ga, *gb] the whole gap it belongs to (clipped to the 30 days and
 * to the horizon), 0 when [a, b) is covered there. */
static int gap_in(const struct coverage *c, const struct cov_type *t, int64_t a, int64_t b,
		  int64_t *ga, int64_t *gb)
{
	int64_t h = horizon_of(t), now = mw_now(), pos = c->from, end;

	end = h > 0 ? h : now;
	if (end > now)
		end = now;
	if (b > end)
		b = end;
	if (a >= b)
		return 0;
	/* the uncovered stretches between spans, oldest first */
	for (size_t i = 0; i <= t->cov.nspans; i++) {
		int64_t s = i < t->cov.nspans ? t->cov.spans[i].from : end;
		int64_t gfrom = pos, gto = s < end ? s : end;

		if (gto > gfrom && gfrom < b && gto > a) {
			*ga = gfrom;
			*gb = gto;
			return 1;
		}
		if (i < t->cov.nspans && t->cov.spans[i].to + 1 > pos)
			pos = t->cov.spans[i].to + 1;
		if (pos >= end)
			break;
	}
	return 0;
}

static enum ui_cov cell_mark(const struct coverage *c, const struct cov_type *t, int cell)
{
	int64_t a, b, ga, gb, now = mw_now(), h = horizon_of(t);

	cell_span(c, cell, &a, &b);
	if (a >= now)
		return UI_COV_NONE;
	if (backfill_in(t, a, b < now ? b : now))
		return UI_COV_BACKFILL;
	if (!t->source || h == 0 || gap_in(c, t, a, b, &ga, &gb))
		return UI_COV_GAP;
	if (b > h) {
		/* after the horizon: read next, unless it fell behind */
		if (now - h > LATE_S || strcmp(t->err_class, "ok") != 0)
			return a < h ? UI_COV_COLLECTED : UI_COV_GAP;
		return a < h ? UI_COV_COLLECTED : UI_COV_PENDING;
	}
	return UI_COV_COLLECTED;
}

static int64_t cell_count(const struct coverage *c, const struct cov_type *t, int cell)
{
	int64_t n = 0;

	if (!t->cov.hours)
		return 0;
	for (int64_t k = (int64_t)cell * HOURS / c->ncells;
	     k < (int64_t)(cell + 1) * HOURS / c->ncells && (size_t)k < t->cov.nhours; k++)
		n += t->cov.hours[k];
	return n;
}

/* Why [ga, gb] was not collected, as far as the store knows. */
static void gap_reason(const struct cov_type *t, int64_t ga, int64_t gb, char *buf, size_t n)
{
	char when[40], was[40];

	for (size_t i = t->cov.nresets; i-- > 0;) {
		const struct store_reset *r = &t->cov.resets[i];

		if (r->to >= gb && (r->from == 0 || r->from <= ga + 60)) {
			ui_fmt_time(r->at, 0, when, sizeof(when));
			if (r->from == 0) {
				snprintf(buf, n, "never collected before the horizon was reset "
					 "on %s", when);
			} else {
				ui_fmt_time(r->from, 0, was, sizeof(was));
				snprintf(buf, n, "the horizon was reset forward on %s, from %s", when,
					 was);
			}
			return;
		}
	}
	if (!t->cov.first_span || gb <= t->cov.first_span)
		snprintf(buf, n, "before the first collection (its lookback)");
	else
		snprintf(buf, n, "not collected");
}

/* "2d 14h", "5h 30m", "12m" */
static void fmt_len(int64_t s, char *buf, size_t n)
{
	if (s >= 86400)
		snprintf(buf, n, "%lldd %lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
	else if (s >= 3600)
		snprintf(buf, n, "%lldh %lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
	else
		snprintf(buf, n, "%lldm", (long long)(s / 60));
}

/* The selected cell in words. */
static void describe(const struct coverage *c, char *buf, size_t n)
{
	const struct cov_type *t = &c->t[c->sel];
	int64_t a, b, ga, gb, now = mw_now();
	char fa[40], fb[40], cnt[32], len[32], why[256];
	const struct store_backfill *f;
	enum ui_cov m = cell_mark(c, t, c->cell);

	cell_span(c, c->cell, &a, &b);
	if (b > now)
		b = now;
	ui_fmt_time(a, 0, fa, sizeof(fa));
	ui_fmt_time(b, 0, fb, sizeof(fb));
	ui_fmt_count(cell_count(c, t, c->cell), cnt, sizeof(cnt));
	switch (m) {
	case UI_COV_NONE:
		snprintf(buf, n, "%s: not yet", fa);
		return;
	case UI_COV_BACKFILL:
		f = backfill_in(t, a, b);
		ui_fmt_time(f->from, 0, fa, sizeof(fa));
		ui_fmt_time(f->to, 0, fb, sizeof(fb));
		if (f->cur.page_token[0] || f->cur.win_progress > f->from) {
			char at[40], got[32];
			int64_t pct = f->to > f->from
					      ? (f->cur.win_progress - f->from) * 100 / (f->to - f->from)
					      : 0;

			ui_fmt_time(f->cur.win_progress, 0, at, sizeof(at));
			ui_fmt_count(f->cur.win_received, got, sizeof(got));
			snprintf(buf, n, "backfilling %s to %s: at %s (%lld%%), %s records "
				 "received", fa, fb, at, (long long)pct, got);
		} else {
			snprintf(buf, n, "backfill of %s to %s queued for the collector", fa, fb);
		}
		return;
	case UI_COV_PENDING:
		ui_fmt_time(horizon_of(t), 0, fb, sizeof(fb));
		snprintf(buf, n, "%s records; the regular collection reads on from %s next", cnt, fb);
		return;
	case UI_COV_COLLECTED:
		snprintf(buf, n, "%s to %s: %s records, collected", fa, fb, cnt);
		return;
	case UI_COV_GAP:
		break;
	}
	if (!t->source || horizon_of(t) == 0) {
		snprintf(buf, n, "%s to %s: gap, never collected (%s)", fa, fb,
			 t->state[0] ? t->state : "no collection yet");
		return;
	}
	if (gap_in(c, t, a, b, &ga, &gb)) {
		ui_fmt_time(ga, 0, fa, sizeof(fa));
		ui_fmt_time(gb, 0, fb, sizeof(fb));
		fmt_len(gb - ga, len, sizeof(len));
		gap_reason(t, ga, gb, why, sizeof(why));
		snprintf(buf, n, "gap %s to %s (%s), %s records: %s; Enter backfills it", fa, fb, len,
			 cnt, why);
		return;
	}
	ui_fmt_time(horizon_of(t), 0, fb, sizeof(fb));
	snprintf(buf, n, "gap: not collected since %s (%s); the regular collection reads it "
		 "next, f on home fetches now", fb,
		 strcmp(t->err_class, "ok") ? t->err_class
		 : t->state[0] && strcmp(t->state, "idle") ? t->state : "no collector ran");
}

/* ---- drawing -------------------------------------------------------------------------- */

static int cells_for(int width)
{
	int w = width - 2;

	return w > HOURS ? HOURS : w < 10 ? 10 : w;
}

/* Dates under the timelines where a day begins, as many as fit. */
static void draw_axis(const struct coverage *c, int y, int x0)
{
	double per_day = (double)c->ncells / DAYS;
	int step = 1, last = -100;

	while (step * per_day < 7)
		step++;
	for (int d = 1; d <= DAYS; d += step) {
		int64_t t = c->from - c->from % 86400 + (int64_t)d * 86400;
		int col = (int)((t - c->from) * c->ncells / ((int64_t)HOURS * 3600));
		char when[40];

		if (col + 5 > c->ncells || col < last + 7)
			continue;
		ui_fmt_time(t, 0, when, sizeof(when));
		ui_text(y, x0 + col, 5, ROLE_MUTED, when + 5, 5);
		last = col;
	}
}

static void draw_type(struct coverage *c, size_t i, int y, int x0, int width)
{
	struct cov_type *t = &c->t[i];
	const struct mw_logtype *lt = &mw_logtypes[t->lt];
	int64_t max = 1, n;
	char tot[32], line[160];
	int x = x0 + 1, sel = (int)i == c->sel;
	const struct store_backfill *f = NULL;

	for (size_t k = 0; k < t->cov.nbf && !f; k++)
		if (t->cov.bf[k].state == STORE_BF_QUEUED)
			f = &t->cov.bf[k];
	ui_fmt_count(t->total, tot, sizeof(tot));
	x += ui_text(y, x, width - 2, sel ? ROLE_TITLE : ROLE_HEADING, lt->label,
		     strlen(lt->label));
	snprintf(line, sizeof(line), "  %s records in %d days%s", tot, DAYS,
		 !t->source ? ", nothing collected yet" : "");
	x += ui_text(y, x, x0 + width - 1 - x, ROLE_MUTED, line, strlen(line));
	if (f) {
		int64_t pct = f->to > f->from ? (f->cur.win_progress - f->from) * 100 /
						       (f->to - f->from) : 0;

		snprintf(line, sizeof(line), "  backfilling: %lld%%", (long long)pct);
		ui_text(y, x, x0 + width - 1 - x, ROLE_WARNING, line, strlen(line));
	}
	for (int k = 0; k < c->ncells; k++)
		if ((n = cell_count(c, t, k)) > max)
			max = n;
	for (int k = 0; k < c->ncells; k++) {
		enum ui_cov m = cell_mark(c, t, k);
		int64_t cnt = cell_count(c, t, k);
		int level = cnt ? 1 + (int)((cnt * 7 + max - 1) / max) : 0;
		enum ui_role r = m == UI_COV_GAP ? ROLE_ERROR : m == UI_COV_BACKFILL ? ROLE_WARNING
				 : m == UI_COV_COLLECTED ? ROLE_OK : ROLE_MUTED;
		const char *s;

		if (level > 8)
			level = 8;
		s = ui_spark(level);
		ui_text(y + 1, x0 + 1 + k, 1, ROLE_NORMAL, s, strlen(s));
		s = ui_cov_mark(m);
		ui_text(y + 2, x0 + 1 + k, 1, sel && k == c->cell ? ROLE_SELECTION : r, s, strlen(s));
	}
	if (sel)
		ui_text(y + 3, x0 + 1 + c->cell, 1, ROLE_SELECTION, "^", 1);
}

static void coverage_draw(struct ui_view *v, int y0, int x0, int height, int width)
{
	struct coverage *c = v->priv;
	char zone[16], head[256], len[32], detail[768];
	int y = y0, per;

	c->ncells = cells_for(width);
	if (!c->cell_pinned || c->cell >= c->ncells)
		c->cell = c->ncells - 1;
	per = HOURS * 60 / c->ncells;
	fmt_len((int64_t)per * 60, len, sizeof(len));
	ui_time_zone(zone, sizeof(zone));
	snprintf(head, sizeof(head), "%s: %d days (%s), a cell %s   %s collected  %s gap  "
		 "%s backfill  %s next", c->integration, DAYS, zone, len,
		 ui_cov_mark(UI_COV_COLLECTED), ui_cov_mark(UI_COV_GAP),
		 ui_cov_mark(UI_COV_BACKFILL), ui_cov_mark(UI_COV_PENDING));
	y += ui_wrap(head, width - 2, 1, y, x0 + 1, 2, ROLE_NORMAL);
	if (c->error[0]) {
		ui_wrap(c->error, width - 2, 1, y + 1, x0 + 1, height - 2, ROLE_ERROR);
		return;
	}
	draw_axis(c, y, x0 + 1);
	y++;
	for (size_t i = 0; i < c->n && y + TYPE_LINES <= y0 + height - 3; i++) {
		draw_type(c, i, y, x0, width);
		y += TYPE_LINES;
	}
	if (c->n == 0) {
		ui_wrap("This integration collects no type.", width - 2, 1, y, x0 + 1, 2, ROLE_MUTED);
		return;
	}
	describe(c, detail, sizeof(detail));
	ui_hline(y, x0, width);
	ui_wrap(detail, width - 2, 1, y + 1, x0 + 1, y0 + height - y - 1, ROLE_NORMAL);
}

/* ---- actions ---------------------------------------------------------------------------- */

static void ask_backfill(struct ui_view *v)
{
	struct coverage *c = v->priv;
	const struct cov_type *t = &c->t[c->sel];
	const char *type = mw_logtypes[t->lt].name;
	int64_t a, b, ga, gb, id;
	char arg[64], fa[40], fb[40];
	mw_err e;

	cell_span(c, c->cell, &a, &b);
	if (cell_mark(c, t, c->cell) != UI_COV_GAP) {
		ui_message(v->ctx, ROLE_MUTED, "no gap under the cursor: Left and Right move to one");
		return;
	}
	if (!t->source || horizon_of(t) == 0 || !gap_in(c, t, a, b, &ga, &gb)) {
		ui_message(v->ctx, ROLE_MUTED, "the regular collection reads this next (f on home "
			   "fetches now); a backfill is for gaps behind it");
		return;
	}
	snprintf(arg, sizeof(arg), "%lld %lld", (long long)ga, (long long)gb);
	if (ui_request(v->ctx, c->integration, type, MW_REQ_BACKFILL, arg, &id, &e) < 0) {
		ui_message(v->ctx, ROLE_ERROR, "%s", e.msg);
		return;
	}
	ui_fmt_time(ga, 0, fa, sizeof(fa));
	ui_fmt_time(gb, 0, fb, sizeof(fb));
	c->req_id = id;
	snprintf(c->req_what, sizeof(c->req_what), "backfill of %s/%s from %s to %s",
		 c->integration, type, fa, fb);
	ui_message(v->ctx, ROLE_MUTED, "%s: requested%s", c->req_what,
		   v->ctx->col || v->ctx->attached ? ""
		   : "; waiting for a collector (none runs: C collects in this console)");
	ui_tick(300);
}

static int coverage_action(struct ui_view *v, enum ui_action a)
{
	struct coverage *c = v->priv;
	int last = c->ncells > 0 ? c->ncells - 1 : 0;

	switch (a) {
	case ACT_LEFT:
	case ACT_RIGHT:
		c->cell += a == ACT_LEFT ? -1 : 1;
		c->cell = c->cell < 0 ? 0 : c->cell > last ? last : c->cell;
		c->cell_pinned = c->cell != last;
		return 1;
	case ACT_FIRST:
	case ACT_LAST:
		c->cell = a == ACT_FIRST ? 0 : last;
		c->cell_pinned = c->cell != last;
		return 1;
	case ACT_UP:
	case ACT_PAGE_UP:
		if (c->sel > 0)
			c->sel--;
		return 1;
	case ACT_DOWN:
	case ACT_PAGE_DOWN:
		if (c->sel + 1 < (int)c->n)
			c->sel++;
		return 1;
	case ACT_ENTER:
		if (c->n)
			ask_backfill(v);
		return 1;
	case ACT_COVERAGE:
		return 1;
	default:
		return 0;
	}
}

/* ---- life cycle ------------------------------------------------------------------------- */

static int coverage_open(struct ui_view *v, void *arg)
{
	const struct ui_logs_arg *la = arg;
	struct coverage *c = mw_xcalloc(1, sizeof(*c));
	const struct mw_integration *in = NULL;

	v->priv = c;
	snprintf(c->integration, sizeof(c->integration), "%s", la->integration);
	for (size_t i = 0; v->ctx->cfg && i < v->ctx->cfg->nintegrations; i++)
		if (!strcmp(v->ctx->cfg->integrations[i].name, la->integration))
			in = &v->ctx->cfg->integrations[i];
	for (size_t t = 0; t < mw_nlogtypes && c->n < NELEM(c->t); t++) {
		if (in && !(in->types & (1u << t)))
			continue;
		if ((int)t == la->type_index)
			c->sel = (int)c->n;
		c->t[c->n++].lt = (int)t;
	}
	c->ncells = cells_for(COLS);
	c->cell = c->ncells - 1;
	load(v, 1);
	return 0;
}

static void coverage_close(struct ui_view *v)
{
	struct coverage *c = v->priv;

	for (size_t i = 0; i < c->n; i++)
		store_coverage_free(&c->t[i].cov);
	free(c);
}

static void coverage_reload(struct ui_view *v)
{
	struct coverage *c = v->priv;

	load(v, 0);
	poll_request(v);
	/* counts skipped while records kept coming are read at a tick */
	if (c->counts_stale)
		ui_tick((int)(COUNTS_EVERY_MS - (mw_mono_ms() - c->counts_at)) + 10);
}

static const char *coverage_title(struct ui_view *v)
{
	(void)v;
	return "coverage";
}

const struct ui_view_ops view_coverage = {
	.name = "coverage",
	.open = coverage_open,
	.close = coverage_close,
	.reload = coverage_reload,
	.draw = coverage_draw,
	.action = coverage_action,
	.title = coverage_title,
};
