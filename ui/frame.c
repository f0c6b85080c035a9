/* frame.c - the console's frame: the screen stack, the status line's
 * messages, the header (title and whether this process collects) and the
 * footer generated from the key table (? and q always in it), the "terminal
 * too small" notice, and key dispatch: a screen's input(), then the key
 * table's action for the screen, then the generic actions (back, quit, help,
 * redraw, the time zone); a key bound nowhere says so on the status line.
 * Curses drawing happens here and in the screens, on the UI thread only. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1  /* explicit_bzero alongside -std=c11 */
#endif
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "jsonscan.h"
#include "sanitize.h"
#include "session.h"
#include "ui.h"
#include "util.h"

#define MAX_VIEWS 16

int ui_cursor_y = -1, ui_cursor_x = -1;

static struct {
	struct ui_view stack[MAX_VIEWS];
	int depth;
	struct ui_ctx *ctx;
	int dirty, full_redraw;
	int pasting;
	char paste[UI_PASTE_MAX + 4];   /* a paste for a screen's paste op */
	size_t paste_len;
	int show_cursor;
	int64_t last_reload;
	/* The status line's owner: the serial of the screen that said it (the
	 * message goes when that screen is covered or closed), 0 the app's
	 * (the collector, the config: kept from screen to screen). */
	unsigned serial[MAX_VIEWS], next_serial, msg_owner;
} fr;

void frame_init(struct ui_ctx *ctx, int show_cursor)
{
	fr.ctx = ctx;
	fr.show_cursor = show_cursor;
	fr.dirty = 1;
}

void frame_dirty(void)
{
	fr.dirty = 1;
}

int frame_is_dirty(void)
{
	return fr.dirty;
}

int64_t frame_last_reload(void)
{
	return fr.last_reload;
}

void frame_full_redraw(void)
{
	fr.full_redraw = 1;
	fr.dirty = 1;
}

void frame_close_all(void)
{
	while (fr.depth > 0) {
		struct ui_view *v = &fr.stack[fr.depth - 1];

		if (v->ops->close)
			v->ops->close(v);
		fr.depth--;
	}
}

/* ---- messages and the screen stack ------------------------------------------------ */

static void set_message(struct ui_ctx *ctx, enum ui_role role, unsigned owner,
			const char *fmt, va_list ap)
{
	vsnprintf(ctx->message, sizeof(ctx->message), fmt, ap);
	ctx->message_role = role;
	fr.msg_owner = owner;
	fr.dirty = 1;
}

void ui_message(struct ui_ctx *ctx, enum ui_role role, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_message(ctx, role, fr.depth > 0 ? fr.serial[fr.depth - 1] : 0, fmt, ap);
	va_end(ap);
}

void ui_app_message(struct ui_ctx *ctx, enum ui_role role, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_message(ctx, role, 0, fmt, ap);
	va_end(ap);
}

void ui_message_to_below(void)
{
	if (fr.depth > 1 && fr.msg_owner == fr.serial[fr.depth - 1])
		fr.msg_owner = fr.serial[fr.depth - 2];
}

/* Leaving a screen (covered or closed) takes its message with it. */
static void drop_message_of(struct ui_ctx *ctx, int level)
{
	if (level >= 0 && fr.msg_owner && fr.msg_owner == fr.serial[level]) {
		ctx->message[0] = '\0';
		ctx->message_role = ROLE_NORMAL;
		fr.msg_owner = 0;
		fr.dirty = 1;
	}
}

void ui_message_clear(struct ui_ctx *ctx)
{
	drop_message_of(ctx, fr.depth - 1);
}

static struct ui_view *top_view(void)
{
	return fr.depth > 0 ? &fr.stack[fr.depth - 1] : NULL;
}

int ui_push(struct ui_ctx *ctx, const struct ui_view_ops *ops, void *arg)
{
	struct ui_view *v;

	if (fr.depth >= MAX_VIEWS) {
		ui_message(ctx, ROLE_ERROR, "too many screens open; press q to go back first");
		return -1;
	}
	drop_message_of(ctx, fr.depth - 1);
	fr.serial[fr.depth] = ++fr.next_serial;
	v = &fr.stack[fr.depth++];
	memset(v, 0, sizeof(*v));
	v->ops = ops;
	v->ctx = ctx;
	if (ops->open && ops->open(v, arg) != 0) {
		/* Only undo our own slot: open() may have reported and left;
		 * what it reported stays, on the screen below. */
		if (fr.depth > 0 && &fr.stack[fr.depth - 1] == v) {
			ui_message_to_below();
			fr.depth--;
		}
		fr.dirty = 1;
		return -1;
	}
	fr.dirty = 1;
	return 0;
}

void ui_pop(struct ui_ctx *ctx)
{
	struct ui_view *v = top_view();

	if (!v)
		return;
	if (v->ops->close)
		v->ops->close(v);
	drop_message_of(ctx, fr.depth - 1);
	fr.depth--;
	fr.dirty = 1;
	if (fr.depth == 0) {
		ctx->quit = 1;
		return;
	}
	v = top_view();
	/* The screen below missed the changes made while it was covered. */
	if (v->ops->reload)
		v->ops->reload(v);
}

void frame_reload_top(void)
{
	struct ui_view *v = top_view();

	fr.last_reload = mw_mono_ms();
	if (v && v->ops->reload)
		v->ops->reload(v);
	fr.dirty = 1;
}

/* ---- drawing ------------------------------------------------------------------------ */

static const char *view_title(struct ui_view *v)
{
	const char *t = v && v->ops->title ? v->ops->title(v) : NULL;

	return t ? t : (v ? v->ops->name : "");
}

static void header_state(const struct ui_ctx *ctx, char *buf, size_t n)
{
	if (ctx->attached)
		snprintf(buf, n, "attached to mimewatch run (pid %ld)%s%s", ctx->attached_pid,
			 ctx->shard[0] ? ", " : "", ctx->shard);
	else if (ctx->exited_pid && !ctx->col)
		snprintf(buf, n, "mimewatch run (pid %ld) exited: not collecting", ctx->exited_pid);
	else if (ctx->col && ctx->took_over)
		snprintf(buf, n, "collecting in this console%s%s", ctx->shard[0] ? ", " : "",
			 ctx->shard);
	else if (ctx->col && ctx->demo)
		snprintf(buf, n, "demo %s collecting", ui_dot());
	else if (ctx->col)
		snprintf(buf, n, "collecting%s%s", ctx->shard[0] ? ", " : "", ctx->shard);
	else
		snprintf(buf, n, "not collecting");
}

static void draw_header(struct ui_view *v)
{
	char state[128];
	int used, sw;

	header_state(fr.ctx, state, sizeof(state));
	attrset(ui_attr(ROLE_TITLE));
	mvhline(0, 0, ' ', COLS);
	used = ui_text(0, 1, COLS - 2, ROLE_TITLE, "mimewatch", 9);
	used += ui_text(0, 1 + used, COLS - 2 - used, ROLE_TITLE, ui_ascii ? " - " : " \xe2\x80\x94 ",
			ui_ascii ? 3 : 5);
	sw = sanitize_width(state, strlen(state));
	used += ui_text(0, 1 + used, COLS - 4 - used - sw, ROLE_TITLE, view_title(v),
			strlen(view_title(v)));
	if (1 + used + 2 + sw < COLS)
		ui_text(0, COLS - 1 - sw, sw, ROLE_TITLE, state, strlen(state));
	attrset(A_NORMAL);
}

/* The hint of a key: the help text up to its colon, or its first word. */
static size_t hint_len(const char *help)
{
	const char *colon = strchr(help, ':');
	size_t sp = strcspn(help, " ");

	return colon && (size_t)(colon - help) <= 24 ? (size_t)(colon - help) : sp;
}

static int scope_binds(const char *scope, int key)
{
	for (size_t i = 0; i < ui_nkeys; i++)
		if (ui_keys[i].key == key && strcmp(ui_keys[i].scope, scope) == 0)
			return 1;
	return 0;
}

/* The footer's hints: the screen's own keys first, then the global ones it
 * does not rebind. ? and q are never dropped: a person who knows nothing
 * else must find help and the way out. */
static int footer_essential(const struct ui_keybinding *k)
{
	return k->key == '?' || k->key == 'q';
}

static int hint_width(const struct ui_keybinding *k)
{
	return sanitize_width(k->keyname, strlen(k->keyname)) + 1 +
	       sanitize_width(k->help, hint_len(k->help));
}

/* The status line's message takes the bottom lines it needs, up to
 * UI_MESSAGE_LINES (an export's full path, a long error): the body gives
 * up the rows above, the key hints stay above the message. */
static int message_lines(void)
{
	int n = ui_wrap(fr.ctx->message, COLS - 2, 0, 0, 0, UI_MESSAGE_LINES, ROLE_NORMAL);

	return n < 1 ? 1 : n;
}

static void draw_footer(struct ui_view *v, int mlines)
{
	const char *scope = v ? v->ops->name : "*";
	const struct ui_keybinding *hint[64];
	int y = LINES - 1 - mlines, x = 1, n = 0, width = 0;

	mvhline(y, 0, ' ', COLS);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < ui_nkeys && n < (int)NELEM(hint); i++) {
			const struct ui_keybinding *k = &ui_keys[i];

			if (!k->in_footer || !k->keyname || !k->help)
				continue;
			if (pass == 0 ? strcmp(k->scope, scope) != 0
				      : strcmp(k->scope, "*") != 0 || scope_binds(scope, k->key))
				continue;
			hint[n++] = k;
			width += (width ? 2 : 0) + hint_width(k);
		}
	}
	/* Too wide: the last hints go first, ? and q stay. A hint cut in half
	 * ("? h...") names a key without saying what it does. */
	for (int i = n - 1; i >= 0 && 1 + width > COLS - 1; i--) {
		if (footer_essential(hint[i]))
			continue;
		width -= hint_width(hint[i]) + 2;
		memmove(&hint[i], &hint[i + 1], (size_t)(n - i - 1) * sizeof(hint[0]));
		n--;
	}
	for (int i = 0; i < n; i++) {
		const struct ui_keybinding *k = hint[i];

		if (x + hint_width(k) > COLS - 1)
			break;
		if (i)
			x += ui_text(y, x, COLS - 1 - x, ROLE_NORMAL, "  ", 2);
		x += ui_text(y, x, COLS - 1 - x, ROLE_KEY, k->keyname, strlen(k->keyname));
		x += ui_text(y, x, COLS - 1 - x, ROLE_NORMAL, " ", 1);
		x += ui_text(y, x, COLS - 1 - x, ROLE_MUTED, k->help, hint_len(k->help));
	}
	for (int i = 1; i <= mlines; i++)
		mvhline(LINES - i, 0, ' ', COLS);
	ui_wrap(fr.ctx->message, COLS - 2, 1, LINES - mlines, 1, mlines, fr.ctx->message_role);
}

static void draw_too_small(void)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "terminal too small (need %dx%d)", UI_MIN_COLS, UI_MIN_ROWS);
	int y = LINES / 2, x = COLS > n ? (COLS - n) / 2 : 0;

	ui_text(y, x, COLS - x, ROLE_WARNING, line, (size_t)n);
	n = snprintf(line, sizeof(line), "now %dx%d; q quits", COLS, LINES);
	if (y + 1 < LINES)
		ui_text(y + 1, COLS > n ? (COLS - n) / 2 : 0, COLS, ROLE_MUTED, line, (size_t)n);
}

void frame_draw(void)
{
	struct ui_view *v = top_view();

	if (fr.full_redraw) {
		clearok(curscr, TRUE);
		fr.full_redraw = 0;
	}
	erase();
	ui_cursor_y = ui_cursor_x = -1;
	if (COLS < UI_MIN_COLS || LINES < UI_MIN_ROWS) {
		draw_too_small();
	} else {
		int mlines = message_lines();

		draw_header(v);
		/* A focused field (ui_field_draw) sets where typing goes. */
		if (v && v->ops->draw)
			v->ops->draw(v, 1, 0, LINES - 2 - mlines, COLS);
		draw_footer(v, mlines);
	}
	if (ui_cursor_y >= 0 && fr.show_cursor) {
		move(ui_cursor_y, ui_cursor_x);
		curs_set(1);
	} else {
		curs_set(0);
	}
	wnoutrefresh(stdscr);
	doupdate();
	fr.dirty = 0;
}

/* ---- keys ------------------------------------------------------------------------------ */

void frame_resized(void)
{
	struct ui_view *v = top_view();

	/* Screens lay out in draw(); a reload lets them re-page for the new height. */
	if (v && v->ops->reload)
		v->ops->reload(v);
	fr.full_redraw = 1;
	fr.dirty = 1;
}


static void generic_action(struct ui_ctx *ctx, enum ui_action a)
{
	struct ui_view *v = top_view();

	switch (a) {
	case ACT_QUIT:
		ctx->quit = 1;
		break;
	case ACT_BACK:
		if (fr.depth > 1)
			ui_pop(ctx);
		break;
	case ACT_HELP:
		if (v && v->ops != &view_help)
			ui_push(ctx, &view_help, (void *)v->ops->name);
		break;
	case ACT_REDRAW:
		fr.full_redraw = 1;
		break;
	case ACT_EVENTS:
		if (v && v->ops != &view_events)
			ui_push(ctx, &view_events, NULL);
		break;
	case ACT_COLLECT:
		session_collect_here(ctx);
		frame_reload_top();
		break;
	case ACT_TIME_ZONE: {
		char zone[16];

		/* Screens read the choice as they draw: a redraw is all it takes. */
		ui_time_set_local(!ui_time_is_local());
		ui_time_zone(zone, sizeof(zone));
		if (ui_time_is_local())
			ui_message(ctx, ROLE_NORMAL, "times in local time (%s)", zone);
		else
			ui_message(ctx, ROLE_NORMAL, "times in UTC");
		break;
	}
	default:
		break;
	}
}

static const char unknown_key_msg[] = "unknown key: press ? for help";

void frame_mouse(struct ui_ctx *ctx, enum ui_mouse m, int y, int x)
{
	struct ui_view *v = top_view();

	if (!v || fr.pasting || COLS < UI_MIN_COLS || LINES < UI_MIN_ROWS)
		return;
	fr.dirty = 1;
	if (m == UI_WHEEL_UP || m == UI_WHEEL_DOWN) {
		enum ui_action a = m == UI_WHEEL_UP ? ACT_UP : ACT_DOWN;

		for (int i = 0; i < UI_WHEEL_STEP && v->ops->action; i++)
			v->ops->action(v, a);
		return;
	}
	if (!v->ops->click || !v->ops->click(v, y, x))
		return;
	if (m == UI_DOUBLE_CLICK && v->ops->action)
		v->ops->action(v, ACT_ENTER);
}

void frame_key(struct ui_ctx *ctx, wint_t ch, int is_key)
{
	struct ui_view *v = top_view();
	enum ui_action a;

	fr.dirty = 1;
	if (is_key && ch == KEY_RESIZE) {
		frame_resized();
		return;
	}
	if (is_key && (ch == KEY_PASTE_BEGIN || ch == KEY_PASTE_END)) {
		fr.pasting = ch == KEY_PASTE_BEGIN;
		if (!fr.pasting && v && v->ops->paste && fr.paste_len)
			v->ops->paste(v, fr.paste, fr.paste_len);
		/* it may hold a secret */
		explicit_bzero(fr.paste, sizeof(fr.paste));
		fr.paste_len = 0;
		return;
	}
	if (!v)
		return;
	if (COLS < UI_MIN_COLS || LINES < UI_MIN_ROWS) {
		/* Nothing to act on that cannot be seen; q still leaves. */
		if (!is_key && (ch == 'q' || ch == 3))
			ctx->quit = 1;
		return;
	}
	if (fr.pasting && v->ops->paste) {
		/* Kept whole for the screen, which reads it at the end. */
		if (!is_key && fr.paste_len + 4 <= UI_PASTE_MAX)
			fr.paste_len += js_utf8_encode(ch == '\r' ? '\n' : (uint32_t)ch,
						       fr.paste + fr.paste_len);
		return;
	}
	if (fr.pasting) {
		/* Pasted text only ever goes into a field; a pasted newline or
		 * a pasted "q" must never act as a key. */
		if (v->ops->input && !(!is_key && (ch == '\r' || ch == '\n')))
			v->ops->input(v, ch, is_key);
		return;
	}
	if (v->ops->input && v->ops->input(v, ch, is_key))
		return;
	/* No binding is a non-ASCII character (one could equal a KEY_ code). */
	if ((!is_key && ch > 0x7f) ||
	    (!scope_binds(v->ops->name, (int)ch) && !scope_binds("*", (int)ch))) {
		ui_message(ctx, ROLE_MUTED, "%s", unknown_key_msg);
		return;
	}
	if (!strcmp(ctx->message, unknown_key_msg))
		ui_message(ctx, ROLE_NORMAL, "%s", "");
	a = ui_key_action(v->ops->name, (int)ch);
	if (a == ACT_NONE)
		return;
	if (v->ops->action && v->ops->action(v, a))
		return;
	generic_action(ctx, a);
}
