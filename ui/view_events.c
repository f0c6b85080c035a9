/* view_events.c - the collector's recent events (E, from any screen):
 * windows started and finished, retries with their reason, 429 waits,
 * token refreshes, config reloads, output errors; newest first, read
 * through store.h (store_events_list), again only when a newer event is
 * there (store_events_newest). The selection stays on its event as new
 * ones arrive above it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui.h"
#include "util.h"

/* The console shows this many of the newest; `mimewatch status --events`
 * prints all the store keeps. */
#define EVENTS_SHOWN 1000
#define TIME_COLS 19
#define WHO_COLS 26
#define TOP_LINES 1     /* the heading */
#define PANE_LINES 4    /* the selected event in full, at most */

struct events {
	struct store_event *ev;
	size_t n;
	int64_t newest;         /* the newest id read, 0 none */
	struct ui_list list;
	int rows;               /* list rows at the last draw */
	char error[1024];
};

static void load(struct events *s, struct ui_ctx *ctx)
{
	struct store_event *ev;
	size_t n;
	int64_t newest, keep = 0;
	mw_err e;

	if (!ctx->store)
		return;
	newest = store_events_newest(ctx->store);
	if (newest < 0 || newest == s->newest)
		return;
	if (store_events_list(ctx->store, 0, EVENTS_SHOWN, &ev, &n, &e) < 0) {
		snprintf(s->error, sizeof(s->error), "%s", e.msg);
		return;
	}
	s->error[0] = '\0';
	/* Below the newest, the selected event stays selected. */
	if (s->list.cursor > 0 && (size_t)s->list.cursor < s->n)
		keep = s->ev[s->list.cursor].id;
	free(s->ev);
	s->ev = ev;
	s->n = n;
	s->newest = newest;
	s->list.count = (int)n;
	if (keep) {
		for (size_t i = 0; i < n; i++) {
			if (s->ev[i].id == keep) {
				s->list.top += (int)i - s->list.cursor;
				s->list.cursor = (int)i;
				break;
			}
		}
	}
	ui_list_clamp(&s->list, s->rows > 0 ? s->rows : 1);
}

static int events_open(struct ui_view *v, void *arg)
{
	struct events *s = mw_xcalloc(1, sizeof(*s));

	(void)arg;
	v->priv = s;
	load(s, v->ctx);
	return 0;
}

static void events_close(struct ui_view *v)
{
	struct events *s = v->priv;

	free(s->ev);
	free(s);
}

static void events_reload(struct ui_view *v)
{
	load(v->priv, v->ctx);
}

/* "integration/type", the integration alone, or "-" (a reload, an output) */
static void who_of(const struct store_event *ev, char *buf, size_t n)
{
	if (ev->integration[0] && ev->type[0])
		snprintf(buf, n, "%s/%s", ev->integration, ev->type);
	else
		snprintf(buf, n, "%s", ev->integration[0] ? ev->integration : "-");
}

static void events_draw(struct ui_view *v, int y0, int x0, int height, int width)
{
	struct events *s = v->priv;
	char zone[16], head[64], who[96], full[sizeof(s->ev->kind) + sizeof(s->ev->text) + 2];
	int rows, who_w = 16, pane = 0, more, text_x, text_w;

	/* the who column as wide as its widest, "Integration/type" at least */
	for (size_t i = 0; i < s->n; i++) {
		who_of(&s->ev[i], who, sizeof(who));
		if ((int)strlen(who) > who_w)
			who_w = (int)strlen(who);
	}
	if (who_w > WHO_COLS)
		who_w = WHO_COLS;
	text_x = x0 + 1 + TIME_COLS + 2 + who_w + 2;
	text_w = x0 + width - text_x - 1;
	/* The selected event in full under a rule: a row cuts what does not fit. */
	if (s->n > 0 && !s->error[0]) {
		const struct store_event *sel = &s->ev[s->list.cursor < (int)s->n ? s->list.cursor : 0];

		snprintf(full, sizeof(full), "%s: %s", sel->kind, sel->text);
		pane = ui_wrap(full, width - 2, 0, 0, 0, PANE_LINES, ROLE_NORMAL);
		if (height - TOP_LINES - pane - 1 >= 3) {
			ui_hline(y0 + height - pane - 1, x0, width);
			ui_wrap(full, width - 2, 1, y0 + height - pane, x0 + 1, pane, ROLE_NORMAL);
			pane++;
		} else {
			pane = 0;
		}
	}
	rows = height - TOP_LINES - pane;
	/* a list taller than its rows gives its last row to saying so */
	more = s->list.count > rows;
	if (more)
		rows--;
	if (rows < 1)
		return;
	s->rows = rows;
	ui_list_clamp(&s->list, rows);
	/* "Time (UTC)": the zone of the times below */
	ui_time_zone(zone, sizeof(zone));
	snprintf(head, sizeof(head), "Time (%s)", zone);
	ui_text(y0, x0 + 1, TIME_COLS + 1, ROLE_HEADING, head, strlen(head));
	ui_text(y0, x0 + 1 + TIME_COLS + 2, who_w, ROLE_HEADING, "Integration/type", 16);
	ui_text(y0, text_x, text_w, ROLE_HEADING, "Event", 5);
	if (s->error[0]) {
		ui_wrap(s->error, width - 2, 1, y0 + TOP_LINES, x0 + 1, rows, ROLE_ERROR);
		return;
	}
	if (s->n == 0) {
		ui_wrap("No events yet. Windows started and finished, retries with their reason, "
			"429 waits, token refreshes, config reloads and output errors appear here, "
			"newest first, as the collector records them.", width - 2, 1,
			y0 + TOP_LINES, x0 + 1, rows, ROLE_MUTED);
		return;
	}
	for (int i = 0; i < rows && s->list.top + i < s->list.count; i++) {
		const struct store_event *ev = &s->ev[s->list.top + i];
		int y = y0 + TOP_LINES + i, sel = s->list.top + i == s->list.cursor;
		int bad = strstr(ev->kind, "error") || strstr(ev->kind, "gave up") ||
			  strstr(ev->text, "refused");
		enum ui_role role = sel ? ROLE_SELECTION : bad ? ROLE_ERROR : ROLE_NORMAL;
		char when[40];
		int x;

		if (sel) {
			attrset(ui_attr(ROLE_SELECTION));
			mvhline(y, x0, ' ', width);
			attrset(A_NORMAL);
			/* as home marks its cursor: seen without colour too */
			ui_text(y, x0, 1, ROLE_SELECTION, ">", 1);
		}
		ui_fmt_time(ev->time, 0, when, sizeof(when));
		ui_text(y, x0 + 1, TIME_COLS, role, when, strlen(when));
		who_of(ev, who, sizeof(who));
		ui_text(y, x0 + 1 + TIME_COLS + 2, who_w, role, who, strlen(who));
		x = text_x + ui_text(y, text_x, text_w, sel || bad ? role : ROLE_HEADING, ev->kind,
				     strlen(ev->kind));
		if (x < text_x + text_w - 2) {
			x += ui_text(y, x, text_x + text_w - x, role, ": ", 2);
			ui_text(y, x, text_x + text_w - x, role, ev->text, strlen(ev->text));
		}
	}
	if (more)
		ui_more_hint(y0 + TOP_LINES + rows, width, s->list.top > 0,
			     s->list.top + rows < s->list.count);
}

static int events_action(struct ui_view *v, enum ui_action a)
{
	struct events *s = v->priv;

	if (a == ACT_EVENTS)
		return 1;       /* already here */
	return ui_list_action(&s->list, a, s->rows > 0 ? s->rows : 1);
}

static const char *events_title(struct ui_view *v)
{
	(void)v;
	return "events";
}

const struct ui_view_ops view_events = {
	.name = "events",
	.open = events_open,
	.close = events_close,
	.reload = events_reload,
	.draw = events_draw,
	.action = events_action,
	.title = events_title,
};
