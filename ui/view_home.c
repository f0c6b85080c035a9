/* view_home.c - the integrations screen: one row per integration with one
 * overall mark, a sub-row per chosen type with its live status, the error
 * and its remedy under a failing type, and the actions (fetch, pause,
 * validate, delete) sent to the collector as requests through the store. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errclass.h"
#include "logtypes.h"
#include "sanitize.h"
#include "status.h"
#include "ui.h"
#include "ui_main.h"
#include "util.h"

struct home_row {
	int integ;              /* index in cfg->integrations */
	int type;               /* index in mw_logtypes, -1: the integration's row */
};

struct home {
	struct store_status *st;
	size_t nst;
	struct home_row *rows;
	int nrows, cursor, top;
	int confirm_delete;
	char confirm_name[64];
	/* the request whose result is shown when it is done */
	int64_t req_id;
	char req_what[128];
	char *result;           /* its result lines, shown under the list */
	int result_failed;
	struct ui_logs_arg logs_arg;
	char arg_name[64];
};

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
	if (!cfg || !cfg->nintegrations)
		return;
	h->rows = mw_xcalloc(cfg->nintegrations * (mw_nlogtypes + 1), sizeof(*h->rows));
	for (size_t i = 0; i < cfg->nintegrations; i++) {
		h->rows[n++] = (struct home_row){ (int)i, -1 };
		for (size_t t = 0; t < mw_nlogtypes; t++)
			if (cfg->integrations[i].types & (1u << t))
				h->rows[n++] = (struct home_row){ (int)i, (int)t };
	}
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

static int64_t throttle_left(const struct store_status *s)
{
	int64_t left = s->throttled_until - mw_now_ms();

	return left > 0 ? (left + 999) / 1000 : 0;
}

/* How bad a type's state is, and the word for it. 0 is collecting fine. */
static int type_severity(const struct store_status *s, char *word, size_t n)
{
	if (!s) {
		snprintf(word, n, "starting");
		return 1;
	}
	if (!strcmp(s->state, "error") ||
	    (strcmp(s->err_class, "ok") && strcmp(s->err_class, "retry") && s->err_class[0])) {
		snprintf(word, n, "%s", mc_class_name(mc_class_from_key(s->err_class)));
		return 5;
	}
	if (!strcmp(s->state, "retrying")) {
		snprintf(word, n, "retrying");
		return 4;
	}
	if (!strcmp(s->state, "throttled")) {
		snprintf(word, n, "throttled %" PRId64 "s", throttle_left(s));
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

static int integration_severity(const struct home *h, const struct mw_integration *in,
				char *word, size_t n)
{
	int worst = 0;

	snprintf(word, n, "collecting");
	for (size_t t = 0; t < mw_nlogtypes; t++) {
		char w[64];
		int sev;

		if (!(in->types & (1u << t)))
			continue;
		sev = type_severity(find_status(h, in->name, mw_logtypes[t].name), w, sizeof(w));
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

/* Lines under a type row: the error with its remedy, the silence warning. */
static int extra_lines(const struct store_status *s, int width, int draw, int y, int x)
{
	char buf[1200];
	const char *warn;
	int n = 0, w = width - x - 1;

	if (!s)
		return 0;
	if (s->err_class[0] && strcmp(s->err_class, "ok") && strcmp(s->err_class, "retry")) {
		enum mc_class c = mc_class_from_key(s->err_class);
		char code[128] = "";

		if (s->http_status || s->err_code[0])
			snprintf(code, sizeof(code), " (%s%.0ld%s%s)", s->http_status ? "HTTP " : "",
				 s->http_status, s->http_status && s->err_code[0] ? " " : "",
				 s->err_code);
		/* The remedy on lines of its own, so that a permission string
		 * is not broken where it fits. */
		snprintf(buf, sizeof(buf), "%s%s", mc_class_name(c), code);
		n += ui_wrap(buf, w, draw, y + n, x, 2, ROLE_ERROR);
		snprintf(buf, sizeof(buf), "%s", s->remedy[0] ? s->remedy : mc_class_remedy(c));
		n += ui_wrap(buf, w - 2, draw, y + n, x + 2, 4, ROLE_NORMAL);
	}
	warn = status_silence_warning(s);
	if (warn)
		n += ui_wrap(warn, w, draw, y + n, x, 2, ROLE_WARNING);
	return n;
}

static int row_lines(struct ui_view *v, int r, int width)
{
	struct home *h = v->priv;
	const struct home_row *row = &h->rows[r];
	const struct mw_integration *in = &v->ctx->cfg->integrations[row->integ];

	if (row->type < 0)
		return 1;
	return 1 + extra_lines(find_status(h, in->name, mw_logtypes[row->type].name), width, 0,
			       0, 6);
}

/* ---- drawing ---------------------------------------------------------------------------- */

static void draw_integration(struct ui_view *v, const struct mw_integration *in, int y,
			     int width, int selected)
{
	struct home *h = v->priv;
	char word[128];
	int sev = integration_severity(h, in, word, sizeof(word));
	enum ui_role role = sev == 0 ? ROLE_OK : sev >= 4 ? ROLE_ERROR : ROLE_WARNING;
	const char *mark = sev == 0 ? ui_mark_ok() : ui_mark_bad();
	int x = 1, sx = col_x(C_STATE);

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

		snprintf(desc, sizeof(desc), "API %s%s%s", in->api == 2 ? "2.0" : "1.0",
			 in->description && *in->description ? " \xc2\xb7 " : "",
			 in->description ? in->description : "");
		if (ui_ascii)
			snprintf(desc, sizeof(desc), "API %s%s%s", in->api == 2 ? "2.0" : "1.0",
				 in->description && *in->description ? " - " : "",
				 in->description ? in->description : "");
		ui_text(y, x, width - x - 1, selected ? ROLE_SELECTION : ROLE_MUTED, desc,
			strlen(desc));
	}
}

static void draw_type(struct ui_view *v, const struct mw_integration *in, int t, int y,
		      int width, int selected, int ncols)
{
	struct home *h = v->priv;
	const struct store_status *s = find_status(h, in->name, mw_logtypes[t].name);
	char cell[C_NCOLS][64];
	enum ui_role base = selected ? ROLE_SELECTION : ROLE_NORMAL, srole;
	int64_t now = mw_now();

	memset(cell, 0, sizeof(cell));
	snprintf(cell[C_NAME], sizeof(cell[0]), "%s", mw_logtypes[t].name);
	if (!s) {
		snprintf(cell[C_STATE], sizeof(cell[0]), "starting");
		srole = ROLE_MUTED;
	} else {
		if (!strcmp(s->state, "throttled"))
			snprintf(cell[C_STATE], sizeof(cell[0]), "throttled %" PRId64 "s",
				 throttle_left(s));
		else
			snprintf(cell[C_STATE], sizeof(cell[0]), "%s",
				 s->paused && strcmp(s->state, "paused") ? "paused" : s->state);
		srole = !strcmp(s->state, "error") ? ROLE_ERROR
			: (!strcmp(s->state, "throttled") || !strcmp(s->state, "retrying") ||
			   !strcmp(s->state, "paused")) ? ROLE_WARNING
			: ROLE_OK;
		if (s->last_success) {
			short_duration(now - s->last_success, cell[C_LAST], sizeof(cell[0]));
			strcat(cell[C_LAST], " ago");
		} else {
			snprintf(cell[C_LAST], sizeof(cell[0]), "never");
		}
		snprintf(cell[C_24H], sizeof(cell[0]), "%" PRId64, s->records_24h);
		snprintf(cell[C_TOTAL], sizeof(cell[0]), "%" PRId64, s->total);
		if (s->horizon)
			short_duration(now - s->horizon, cell[C_LAG], sizeof(cell[0]));
		else
			snprintf(cell[C_LAG], sizeof(cell[0]), "-");
		if (s->paused || !strcmp(s->state, "paused") || !s->next_poll)
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
	extra_lines(s, width, 1, y + 1, 6);
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

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]) && (int)i < height - 1; i++)
		ui_text(y0 + 1 + (int)i, 2, width - 3, i == 0 ? ROLE_HEADING : ROLE_NORMAL,
			lines[i], strlen(lines[i]));
}

/* The finished request's result, wrapped; draw=0 only counts lines. */
static int result_block(const struct home *h, int draw, int y, int height, int width)
{
	const char *p;
	int line = 1;

	if (!h->result && !h->req_id)
		return 0;
	if (draw)
		ui_hline(y, 0, width);
	if (!h->result) {
		if (draw)
			ui_textf(y, 2, width - 4, ROLE_MUTED, " %s: waiting for the collector... ",
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
	int ncols = ncols_fitting(width), y, rl, list_h, r;

	(void)x0;
	if (!h->nrows) {
		draw_empty(y0, height, width);
		return;
	}
	rl = result_block(h, 0, 0, height / 2, width);
	list_h = height - 1 - rl;
	for (int k = 0; k < ncols; k++)
		ui_text(y0, col_x(k), cols[k].width - 1, ROLE_HEADING, cols[k].title,
			strlen(cols[k].title));
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
	y = y0 + 1;
	for (r = h->top; r < h->nrows && y < y0 + 1 + list_h; r++) {
		const struct home_row *row = &h->rows[r];
		const struct mw_integration *in = &v->ctx->cfg->integrations[row->integ];
		int lines = row_lines(v, r, width);

		if (y + lines > y0 + 1 + list_h && r != h->cursor && r > h->top)
			break;
		if (row->type < 0)
			draw_integration(v, in, y, width, r == h->cursor);
		else
			draw_type(v, in, row->type, y, width, r == h->cursor, ncols);
		y += lines;
	}
	if (rl)
		result_block(h, 1, y0 + height - rl, rl, width);
	/* Countdowns and "ago" move by the second. */
	ui_tick(1000);
}

/* ---- actions -------------------------------------------------------------------------- */

static const struct mw_integration *selected_integration(struct ui_view *v, int *type)
{
	struct home *h = v->priv;

	if (!h->nrows || !v->ctx->cfg)
		return NULL;
	if (type)
		*type = h->rows[h->cursor].type;
	return &v->ctx->cfg->integrations[h->rows[h->cursor].integ];
}

static void send_request(struct ui_view *v, const char *integ, const char *type,
			 const char *action, const char *what, int track)
{
	struct home *h = v->priv;
	struct ui_ctx *ctx = v->ctx;
	int64_t id = 0;
	mw_err e;

	if (!ctx->store) {
		ui_message(ctx, ROLE_ERROR, "no store open: nothing collects yet");
		return;
	}
	if (store_request_add(ctx->store, integ, type, action, "", &id, &e) < 0) {
		ui_message(ctx, ROLE_ERROR, "%s", e.msg);
		return;
	}
	if (track) {
		free(h->result);
		h->result = NULL;
		h->req_id = id;
		snprintf(h->req_what, sizeof(h->req_what), "%s", what);
	}
	if (!ctx->col && !ctx->attached)
		ui_message(ctx, ROLE_WARNING, "%s: requested, but no collector runs to carry it out",
			   what);
	else
		ui_message(ctx, ROLE_MUTED, "%s: requested%s", what,
			   ctx->attached ? " from the mimewatch run service" : "");
	ui_tick(300);
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
	ui_message(v->ctx, state == 2 ? ROLE_OK : ROLE_WARNING, "%s: %s", h->req_what,
		   state == 2 ? "done" : "finished with problems (below)");
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
	snprintf(what, sizeof(what), "%s %s%s%s", all_paused ? "resume" : "pause", in->name,
		 type >= 0 ? "/" : "", type >= 0 ? mw_logtypes[type].name : "");
	send_request(v, in->name, type >= 0 ? mw_logtypes[type].name : "",
		     all_paused ? "resume" : "pause", what, 0);
}

static void reload_config(struct ui_view *v)
{
	struct ui_ctx *ctx = v->ctx;
	struct mw_config *fresh = mw_xcalloc(1, sizeof(*fresh));
	mw_err e;

	if (config_load(ctx->config_path, fresh, &e) != 0) {
		ui_message(ctx, ROLE_ERROR, "%s", e.msg);
		free(fresh);
		return;
	}
	if (ctx->cfg) {
		config_free(ctx->cfg);
		free(ctx->cfg);
	}
	ctx->cfg = fresh;
}

static void delete_integration(struct ui_view *v, const char *name)
{
	struct ui_ctx *ctx = v->ctx;
	struct mw_config copy;
	mw_err e;
	size_t n = 0;
	int64_t id;

	if (!ctx->cfg || !config_find(ctx->cfg, name))
		return;
	/* A shallow copy without the entry: config_save splices the rest of
	 * the file unchanged, comments included. */
	copy = *ctx->cfg;
	copy.integrations = mw_xcalloc(ctx->cfg->nintegrations, sizeof(*copy.integrations));
	for (size_t i = 0; i < ctx->cfg->nintegrations; i++)
		if (strcmp(ctx->cfg->integrations[i].name, name))
			copy.integrations[n++] = ctx->cfg->integrations[i];
	copy.nintegrations = n;
	if (config_save(&copy, ctx->config_path, &e) < 0) {
		free(copy.integrations);
		ui_message(ctx, ROLE_ERROR, "%s", e.msg);
		return;
	}
	free(copy.integrations);
	/* The collector first drops the job (reload), then its records. */
	if (ctx->store && (store_request_add(ctx->store, "", "", "reload", "", &id, &e) < 0 ||
			   store_request_add(ctx->store, name, "", "delete", "", &id, &e) < 0))
		ui_message(ctx, ROLE_ERROR, "%s", e.msg);
	else
		ui_message(ctx, ROLE_OK, "deleted %s from %s", name, ctx->config_path);
	reload_config(v);
	rebuild_rows(v);
}

static int home_input(struct ui_view *v, wint_t ch, int is_key)
{
	struct home *h = v->priv;

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

static int home_action(struct ui_view *v, enum ui_action a)
{
	struct home *h = v->priv;
	struct ui_ctx *ctx = v->ctx;
	int type;
	const struct mw_integration *in = selected_integration(v, &type);
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
	case ACT_ENTER:
	case ACT_EDIT:
	case ACT_DELETE:
	case ACT_VALIDATE:
	case ACT_FETCH:
	case ACT_PAUSE:
	case ACT_TROUBLESHOOT:
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
	case ACT_EDIT:
		ui_push(ctx, &view_wizard, h->arg_name);
		return 1;
	case ACT_DELETE:
		h->confirm_delete = 1;
		snprintf(h->confirm_name, sizeof(h->confirm_name), "%s", in->name);
		ui_message(ctx, ROLE_WARNING, "delete %s from the config and its collected records? "
			   "y deletes, any other key keeps it", in->name);
		return 1;
	case ACT_VALIDATE:
		snprintf(what, sizeof(what), "validate %s", in->name);
		send_request(v, in->name, "", "validate", what, 1);
		return 1;
	case ACT_FETCH:
		snprintf(what, sizeof(what), "fetch %s%s%s", in->name, type >= 0 ? "/" : "",
			 type >= 0 ? mw_logtypes[type].name : "");
		send_request(v, in->name, type >= 0 ? mw_logtypes[type].name : "", "fetch", what, 0);
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

static void home_reload(struct ui_view *v)
{
	struct home *h = v->priv;
	mw_err e;

	free(h->st);
	h->st = NULL;
	h->nst = 0;
	if (v->ctx->store && store_list_status(v->ctx->store, &h->st, &h->nst, &e) < 0)
		ui_message(v->ctx, ROLE_ERROR, "%s", e.msg);
	rebuild_rows(v);
	poll_request(v);
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
};
