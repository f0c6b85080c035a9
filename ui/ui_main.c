/* ui_main.c - the console's frame: start-up (config, store, lock, the
 * in-process collector or attaching to a service, --demo with mimewatch-sim
 * as child processes), the screen stack, header and footer, the one place
 * that handles resize, signals, and the script mode that drives the real
 * console from a file for the UI tests.
 *
 * The UI thread sleeps in poll() on the terminal, its own wake pipe (signals
 * and worker threads) and the collector's wake pipe; a timer only runs when
 * something on screen counts down or when attached to another process. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <langinfo.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wchar.h>

#include <sqlite3.h>

#include "console.h"
#include "logtypes.h"
#include "sanitize.h"
#include "ui.h"
#include "ui_main.h"
#include "util.h"

#define MIN_COLS 60
#define MIN_ROWS 15
#define MAX_VIEWS 16
#define RELOAD_GAP_MS 200       /* collector wake-ups coalesce to 5 a second */
#define WAIT_IDLE_MS 30000

/* Bracketed paste (xterm's mode 2004): the terminal wraps pasted text in
 * these, so a pasted newline is text, not Enter. */
#define KEY_PASTE_BEGIN (KEY_MAX + 1)
#define KEY_PASTE_END (KEY_MAX + 2)

int ui_cursor_y = -1, ui_cursor_x = -1;

static struct {
	struct ui_view stack[MAX_VIEWS];
	int depth;
	struct ui_ctx *ctx;
	int wake[2];                    /* self-pipe: signals, workers, ui_wake */
	volatile sig_atomic_t signo;
	volatile sig_atomic_t winch, tstp, cont;  /* terminal signals, handled in the loop */
	atomic_int busy;
	atomic_llong tick_at;           /* mono ms of the next reload tick, 0 none */
	int dirty, full_redraw;
	int pasting;
	int64_t last_reload;
	int lock_fd;
	struct mw_config col_cfg;       /* the collector's own copy of the config */
	int have_col_cfg;
	sqlite3 *probe;                 /* read-only: pending requests, data_version */
	int64_t data_version;
	/* script mode */
	int script_mode;
	FILE *script;
	int script_line;
	int64_t wait_until;             /* sleep deadline (mono ms) */
	int64_t idle_deadline;          /* wait-idle deadline, 0 when not waiting */
	int exit_code;
	int saved_stderr;               /* fd 2 as it was, while the screen is up */
	FILE *err;                      /* messages for the person (script errors) */
	/* demo */
	char demo_dir[1024];      /* short enough for every path under it */
	pid_t sim_pid[2];        /* the mimewatch-sim children, 0: none */
} ui = { .wake = { -1, -1 }, .lock_fd = -1, .saved_stderr = -1 };

/* ---- waking and ticking --------------------------------------------------------- */

void ui_wake(void)
{
	int saved = errno;

	if (ui.wake[1] >= 0) {
		ssize_t r = write(ui.wake[1], "w", 1);

		(void)r;        /* a full pipe already wakes the loop */
	}
	errno = saved;
}

void ui_busy(int delta)
{
	atomic_fetch_add(&ui.busy, delta);
}

void ui_tick(int ms)
{
	long long at = (long long)(mw_mono_ms() + (ms > 0 ? ms : 0));
	long long cur = atomic_load(&ui.tick_at);

	while (cur == 0 || at < cur) {
		if (atomic_compare_exchange_weak(&ui.tick_at, &cur, at))
			break;
	}
}

static void drain_fd(int fd)
{
	char buf[256];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static void on_signal(int sig)
{
	ui.signo = sig;
	ui_wake();
}

/* The terminal's own signals only raise a flag: curses is not
 * async-signal-safe, and any thread may take the signal. */
static void on_term_signal(int sig)
{
	if (sig == SIGWINCH)
		ui.winch = 1;
	else if (sig == SIGTSTP)
		ui.tstp = 1;
	else
		ui.cont = 1;
	ui_wake();
}

/* ---- messages and the screen stack ------------------------------------------------ */

void ui_message(struct ui_ctx *ctx, enum ui_role role, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->message, sizeof(ctx->message), fmt, ap);
	va_end(ap);
	ctx->message_role = role;
	ui.dirty = 1;
}

static struct ui_view *top_view(void)
{
	return ui.depth > 0 ? &ui.stack[ui.depth - 1] : NULL;
}

int ui_push(struct ui_ctx *ctx, const struct ui_view_ops *ops, void *arg)
{
	struct ui_view *v;

	if (ui.depth >= MAX_VIEWS) {
		ui_message(ctx, ROLE_ERROR, "too many screens open; press q to go back first");
		return -1;
	}
	v = &ui.stack[ui.depth++];
	memset(v, 0, sizeof(*v));
	v->ops = ops;
	v->ctx = ctx;
	if (ops->open && ops->open(v, arg) != 0) {
		/* Only undo our own slot: open() may have reported and left. */
		if (ui.depth > 0 && &ui.stack[ui.depth - 1] == v)
			ui.depth--;
		ui.dirty = 1;
		return -1;
	}
	ui.dirty = 1;
	return 0;
}

void ui_pop(struct ui_ctx *ctx)
{
	struct ui_view *v = top_view();

	if (!v)
		return;
	if (v->ops->close)
		v->ops->close(v);
	ui.depth--;
	ui.dirty = 1;
	if (ui.depth == 0) {
		ctx->quit = 1;
		return;
	}
	v = top_view();
	/* The screen below missed the changes made while it was covered. */
	if (v->ops->reload)
		v->ops->reload(v);
}

static void reload_top(void)
{
	struct ui_view *v = top_view();

	ui.last_reload = mw_mono_ms();
	if (v && v->ops->reload)
		v->ops->reload(v);
	ui.dirty = 1;
}

/* ---- drawing ------------------------------------------------------------------------ */

static const char *view_title(struct ui_view *v)
{
	const char *t = v && v->ops->title ? v->ops->title(v) : NULL;

	return t ? t : (v ? v->ops->name : "");
}

static void collector_state(const struct ui_ctx *ctx, char *buf, size_t n)
{
	if (ctx->attached)
		snprintf(buf, n, "attached to mimewatch run (pid %ld)", ctx->attached_pid);
	else if (ctx->col && ctx->demo)
		snprintf(buf, n, "demo \xc2\xb7 collecting");
	else if (ctx->col)
		snprintf(buf, n, "collecting");
	else
		snprintf(buf, n, "not collecting");
}

static void draw_header(struct ui_view *v)
{
	char state[128];
	int used, sw;

	collector_state(ui.ctx, state, sizeof(state));
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

static void draw_footer(struct ui_view *v)
{
	const char *scope = v ? v->ops->name : "*";
	int y = LINES - 2, x = 1;

	mvhline(y, 0, ' ', COLS);
	/* The screen's own keys first, then the global ones it does not rebind. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < ui_nkeys && x < COLS - 1; i++) {
			const struct ui_keybinding *k = &ui_keys[i];

			if (!k->in_footer || !k->keyname || !k->help)
				continue;
			if (pass == 0 ? strcmp(k->scope, scope) != 0
				      : strcmp(k->scope, "*") != 0 || scope_binds(scope, k->key))
				continue;
			/* A hint cut in half ("? h...") names a key without saying
			 * what it does: draw whole hints only. */
			if (x + sanitize_width(k->keyname, strlen(k->keyname)) + 1 +
			    sanitize_width(k->help, hint_len(k->help)) > COLS - 1) {
				x = COLS - 1;
				break;
			}
			x += ui_text(y, x, COLS - 1 - x, ROLE_KEY, k->keyname, strlen(k->keyname));
			x += ui_text(y, x, COLS - 1 - x, ROLE_NORMAL, " ", 1);
			x += ui_text(y, x, COLS - 1 - x, ROLE_MUTED, k->help, hint_len(k->help));
			x += ui_text(y, x, COLS - 1 - x, ROLE_NORMAL, "  ", 2);
		}
	}
	mvhline(LINES - 1, 0, ' ', COLS);
	ui_text(LINES - 1, 1, COLS - 2, ui.ctx->message_role, ui.ctx->message,
		strlen(ui.ctx->message));
}

static void draw_too_small(void)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "terminal too small (need %dx%d)", MIN_COLS, MIN_ROWS);
	int y = LINES / 2, x = COLS > n ? (COLS - n) / 2 : 0;

	ui_text(y, x, COLS - x, ROLE_WARNING, line, (size_t)n);
	n = snprintf(line, sizeof(line), "now %dx%d; q quits", COLS, LINES);
	if (y + 1 < LINES)
		ui_text(y + 1, COLS > n ? (COLS - n) / 2 : 0, COLS, ROLE_MUTED, line, (size_t)n);
}

static void draw_all(void)
{
	struct ui_view *v = top_view();

	if (ui.full_redraw) {
		clearok(curscr, TRUE);
		ui.full_redraw = 0;
	}
	erase();
	ui_cursor_y = ui_cursor_x = -1;
	if (COLS < MIN_COLS || LINES < MIN_ROWS) {
		draw_too_small();
	} else {
		draw_header(v);
		/* A focused field (ui_field_draw) sets where typing goes. */
		if (v && v->ops->draw)
			v->ops->draw(v, 1, 0, LINES - 3, COLS);
		draw_footer(v);
	}
	if (ui_cursor_y >= 0 && !ui.script_mode) {
		move(ui_cursor_y, ui_cursor_x);
		curs_set(1);
	} else {
		curs_set(0);
	}
	wnoutrefresh(stdscr);
	doupdate();
	ui.dirty = 0;
}

/* ---- keys ------------------------------------------------------------------------------ */

static void handle_resize(void)
{
	struct ui_view *v = top_view();

	/* Screens lay out in draw(); a reload lets them re-page for the new height. */
	if (v && v->ops->reload)
		v->ops->reload(v);
	ui.full_redraw = 1;
	ui.dirty = 1;
}

/* SIGWINCH: the size the terminal has now, whatever came in between. */
static void terminal_resized(void)
{
	struct winsize ws;

	ui.winch = 0;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 &&
	    ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0)
		return;
	if (ws.ws_row < 1 || ws.ws_col < 1)
		return;
	if (ws.ws_row != LINES || ws.ws_col != COLS)
		resize_term(ws.ws_row, ws.ws_col);
	handle_resize();
}

/* SIGTSTP (^Z): give the shell its terminal back as it was, stop the whole
 * job as the default action would, and take the terminal again on SIGCONT.
 * In an orphaned process group the kernel drops the stop: we just go on. */
static void suspend(void)
{
	struct sigaction dfl, old;
	sigset_t set, oldset;

	ui.tstp = 0;
	fputs("\033[?2004l", stdout);
	fflush(stdout);
	endwin();
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(SIGTSTP, &dfl, &old);
	sigemptyset(&set);
	sigaddset(&set, SIGTSTP);
	pthread_sigmask(SIG_UNBLOCK, &set, &oldset);
	kill(0, SIGTSTP);
	/* Continued. */
	pthread_sigmask(SIG_SETMASK, &oldset, NULL);
	sigaction(SIGTSTP, &old, NULL);
	fputs("\033[?2004h", stdout);
	fflush(stdout);
	ui.cont = 1;
}

/* SIGCONT (after ^Z or a plain SIGSTOP): the shell may have changed the
 * terminal meanwhile; set it up again and draw everything. */
static void resumed(void)
{
	ui.cont = 0;
	reset_prog_mode();
	ui.full_redraw = 1;
	terminal_resized();
}

static void generic_action(struct ui_ctx *ctx, enum ui_action a)
{
	struct ui_view *v = top_view();

	switch (a) {
	case ACT_QUIT:
		ctx->quit = 1;
		break;
	case ACT_BACK:
		if (ui.depth > 1)
			ui_pop(ctx);
		break;
	case ACT_HELP:
		if (v && v->ops != &view_help)
			ui_push(ctx, &view_help, (void *)v->ops->name);
		break;
	case ACT_REDRAW:
		ui.full_redraw = 1;
		break;
	default:
		break;
	}
}

static void dispatch_key(struct ui_ctx *ctx, wint_t ch, int is_key)
{
	struct ui_view *v = top_view();
	enum ui_action a;

	ui.dirty = 1;
	if (is_key && ch == KEY_RESIZE) {
		handle_resize();
		return;
	}
	if (is_key && (ch == KEY_PASTE_BEGIN || ch == KEY_PASTE_END)) {
		ui.pasting = ch == KEY_PASTE_BEGIN;
		return;
	}
	if (!v)
		return;
	if (COLS < MIN_COLS || LINES < MIN_ROWS) {
		/* Nothing to act on that cannot be seen; q still leaves. */
		if (!is_key && (ch == 'q' || ch == 3))
			ctx->quit = 1;
		return;
	}
	if (ui.pasting) {
		/* Pasted text only ever goes into a field; a pasted newline or
		 * a pasted "q" must never act as a key. */
		if (v->ops->input && !(!is_key && (ch == '\r' || ch == '\n')))
			v->ops->input(v, ch, is_key);
		return;
	}
	if (v->ops->input && v->ops->input(v, ch, is_key))
		return;
	if (!is_key && ch > 0x7f)
		return;         /* no binding is a non-ASCII character */
	a = ui_key_action(v->ops->name, (int)ch);
	if (a == ACT_NONE)
		return;
	if (v->ops->action && v->ops->action(v, a))
		return;
	generic_action(ctx, a);
}

static void read_terminal(struct ui_ctx *ctx)
{
	wint_t ch;
	int r;

	while ((r = get_wch(&ch)) != ERR) {
		dispatch_key(ctx, ch, r == KEY_CODE_YES);
		if (ctx->quit)
			break;
	}
}

/* ---- the store: attaching, idle checks ------------------------------------------------- */

static void probe_open(const struct ui_ctx *ctx)
{
	char path[PATH_MAX];

	if (ui.probe || !ctx->cfg || !ctx->cfg->state_dir)
		return;
	snprintf(path, sizeof(path), "%s/store.db", ctx->cfg->state_dir);
	/* A second, read-only connection for two cheap questions store.h does
	 * not ask: has anyone committed (data_version), and are requests
	 * pending (script mode's wait-idle). It never writes. */
	if (sqlite3_open_v2(path, &ui.probe, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(ui.probe);
		ui.probe = NULL;
		return;
	}
	sqlite3_busy_timeout(ui.probe, 200);
}

static int64_t probe_int(const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

	if (!ui.probe || sqlite3_prepare_v2(ui.probe, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* 1 when another process committed since the last call. */
static int store_changed(void)
{
	int64_t v = probe_int("PRAGMA data_version");

	if (v < 0 || v == ui.data_version)
		return 0;
	ui.data_version = v;
	return 1;
}

/* wait-idle: no worker busy, no request new or running, no output that is
 * fine left behind, every configured (integration, type) attempted at
 * least once and none mid-window. */
static int ui_is_idle(struct ui_ctx *ctx)
{
	struct store_status *st = NULL;
	size_t n = 0;
	mw_err e;
	int idle = 1;

	if (atomic_load(&ui.busy) > 0)
		return 0;
	if (!ctx->store || !ctx->cfg || (!ctx->col && !ctx->attached))
		return 1;
	probe_open(ctx);
	if (probe_int("SELECT count(*) FROM requests WHERE state<2") > 0)
		return 0;
	/* A fetch (resume, reset) is done when the collector has merely made
	 * its collections due: until one of them writes its status again, the
	 * collection it ordered has not started, and that is not idle. */
	{
		char sql[512];

		snprintf(sql, sizeof(sql),
			 "SELECT count(*) FROM requests r JOIN sources s ON "
			 "(r.integration='' OR s.integration=r.integration) AND "
			 "(r.type='' OR s.type=r.type) JOIN status st ON st.source=s.id "
			 "WHERE r.state=2 AND r.action IN ('fetch','resume','reset') AND "
			 "st.paused=0 AND st.updated<r.updated AND r.updated>%" PRId64,
			 mw_now_ms() - WAIT_IDLE_MS);
		if (probe_int(sql) > 0)
			return 0;
	}
	/* An output that is fine but has records to deliver is about to
	 * deliver them; one retrying or in error waits for the receiver, not
	 * for us, and is idle. */
	for (size_t i = 0; i < ctx->cfg->noutputs; i++) {
		struct store_output_info oi;

		if (store_output_info(ctx->store, ctx->cfg->outputs[i].name, &oi, &e) == 0 &&
		    oi.lag_records > 0 && (!strcmp(oi.state, "ok") || !strcmp(oi.state, "idle")))
			return 0;
	}
	if (store_list_status(ctx->store, &st, &n, &e) < 0)
		return 1;
	for (size_t i = 0; i < ctx->cfg->nintegrations && idle; i++) {
		const struct mw_integration *in = &ctx->cfg->integrations[i];

		for (size_t t = 0; t < mw_nlogtypes && idle; t++) {
			const struct store_status *s = NULL;
			struct store_cursor cur;

			if (!(in->types & (1u << t)))
				continue;
			for (size_t k = 0; k < n; k++)
				if (!strcmp(st[k].integration, in->name) &&
				    !strcmp(st[k].type, mw_logtypes[t].name))
					s = &st[k];
			if (!s) {
				idle = 0;
				break;
			}
			if (s->paused || !strcmp(s->state, "paused") || !strcmp(s->state, "error"))
				continue;
			if (!strcmp(s->state, "collecting") || s->last_attempt == 0) {
				idle = 0;
				break;
			}
			if (store_get_cursor(ctx->store, s->source, &cur, &e) == 0 && cur.in_window)
				idle = 0;
		}
	}
	free(st);
	return idle;
}

int ui_start_collector(struct ui_ctx *ctx)
{
	struct collector_opts opts;
	mw_err e;
	long pid = 0;
	int r;

	if (ctx->col || ctx->attached)
		return 0;
	if (!ctx->cfg) {
		ui_message(ctx, ROLE_ERROR, "no config yet: add an integration first (a)");
		return -1;
	}
	mw_err_clear(&e);
	if (!ctx->store && store_open(ctx->cfg->state_dir, &ctx->store, &e) < 0) {
		ui_message(ctx, ROLE_ERROR, "%s", e.msg);
		return -1;
	}
	if (ui.lock_fd < 0) {
		r = store_lock(ctx->cfg->state_dir, &ui.lock_fd, &pid, &e);
		if (r < 0) {
			ui_message(ctx, ROLE_ERROR, "%s", e.msg);
			return -1;
		}
		if (r == 0) {
			ctx->attached = 1;
			ctx->attached_pid = pid;
			ui.dirty = 1;
			return 0;
		}
	}
	/* The collector keeps its own copy: screens may swap ctx->cfg (the
	 * wizard reloads it after saving) while the collector runs. */
	if (!ui.have_col_cfg) {
		if (config_load(ctx->config_path, &ui.col_cfg, &e) != 0) {
			ui_message(ctx, ROLE_ERROR, "%s", e.msg);
			return -1;
		}
		ui.have_col_cfg = 1;
	}
	memset(&opts, 0, sizeof(opts));
	opts.deliver = 1;
	ctx->col = collector_new(&ui.col_cfg, &opts, &e);
	if (!ctx->col) {
		ui_message(ctx, ROLE_ERROR, "%s", e.msg);
		return -1;
	}
	if (collector_start(ctx->col, &e) < 0) {
		collector_free(ctx->col);
		ctx->col = NULL;
		ui_message(ctx, ROLE_ERROR, "%s", e.msg);
		return -1;
	}
	ui.dirty = 1;
	return 0;
}

static void stop_collector(struct ui_ctx *ctx)
{
	if (ctx->col) {
		collector_stop(ctx->col);
		collector_join(ctx->col);
		collector_free(ctx->col);
		ctx->col = NULL;
	}
	if (ui.have_col_cfg) {
		config_free(&ui.col_cfg);
		ui.have_col_cfg = 0;
	}
}

/* ---- --demo -------------------------------------------------------------------------- */

/* mimewatch-sim's built-in credentials, as mimewatch-sim(1) documents them
 * (the console links no part of the simulator; a change there shows at once
 * as failing integrations on the demo's home screen and in test_home). */
#define DEMO_APP_ID "5f0e6d1c-1a2b-4c3d-9e8f-0a1b2c3d4e5f"
#define DEMO_APP_KEY "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
#define DEMO_ACCESS_KEY \
	"mwsim-access-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_0123456789abcdef"
#define DEMO_SECRET_KEY \
	"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=="
#define DEMO_CLIENT_ID "mwsim-client"
#define DEMO_CLIENT_SECRET "mwsim-client-secret-0123456789"

#define DEMO_START_MS 15000     /* a sim that has not written its port by then failed */
#define DEMO_STOP_MS 3000       /* SIGTERM, then SIGKILL */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

/* Stops and reaps every sim still running: SIGTERM, then SIGKILL for one
 * that has not exited within DEMO_STOP_MS. */
static void demo_reap(void)
{
	int64_t until = mw_mono_ms() + DEMO_STOP_MS;

	for (int i = 0; i < 2; i++)
		if (ui.sim_pid[i] > 0)
			kill(ui.sim_pid[i], SIGTERM);
	for (int i = 0; i < 2; i++) {
		while (ui.sim_pid[i] > 0) {
			pid_t r = waitpid(ui.sim_pid[i], NULL, WNOHANG);

			if (r == ui.sim_pid[i] || (r < 0 && errno != EINTR)) {
				ui.sim_pid[i] = 0;
			} else if (mw_mono_ms() >= until) {
				kill(ui.sim_pid[i], SIGKILL);
				while (waitpid(ui.sim_pid[i], NULL, 0) < 0 && errno == EINTR)
					;
				ui.sim_pid[i] = 0;
			} else {
				mw_sleep_ms(10);
			}
		}
	}
}

static void demo_stop(void)
{
	demo_reap();
	if (ui.demo_dir[0]) {
		nftw(ui.demo_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		ui.demo_dir[0] = '\0';
	}
}

static int executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* mimewatch-sim: $MIMEWATCH_SIM when set; else next to this program (in a
 * build tree, where libtool may run the real binary from .libs/, also one
 * level up), then in bindir, then in libexecdir/mimewatch. The places
 * looked at go into tried, for the message when none has it. */
static int demo_find_sim(char *path, size_t n, mw_buf *tried)
{
	const char *env = getenv("MIMEWATCH_SIM");
	char self[PATH_MAX], cand[4][PATH_MAX];
	int ncand = 0, w;
	ssize_t len;

	if (env && *env) {
		mw_buf_printf(tried, "%s (MIMEWATCH_SIM)", env);
		if (!executable(env))
			return -1;
		mw_strlcpy(path, env, n);
		return 0;
	}
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len > 0) {
		char *slash;

		self[len] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			w = snprintf(cand[ncand], PATH_MAX, "%s/mimewatch-sim", self);
			ncand += w > 0 && w < PATH_MAX;
			slash = strrchr(self, '/');
			if (slash && !strcmp(slash + 1, ".libs")) {
				*slash = '\0';
				w = snprintf(cand[ncand], PATH_MAX, "%s/mimewatch-sim", self);
				ncand += w > 0 && w < PATH_MAX;
			}
		}
	}
	snprintf(cand[ncand++], PATH_MAX, "%s/mimewatch-sim", BINDIR);
	snprintf(cand[ncand++], PATH_MAX, "%s/mimewatch/mimewatch-sim", LIBEXECDIR);
	for (int i = 0; i < ncand; i++) {
		mw_buf_printf(tried, "%s%s", i ? ", " : "", cand[i]);
		if (executable(cand[i])) {
			mw_strlcpy(path, cand[i], n);
			return 0;
		}
	}
	return -1;
}

/* The first line of what sim i wrote on stderr (its log in the demo dir),
 * for a message; "" when it wrote nothing. */
static void demo_sim_said(int i, char *out, size_t n)
{
	char logpath[PATH_MAX], *text = NULL;
	size_t len = 0;
	mw_err e;

	out[0] = '\0';
	snprintf(logpath, sizeof(logpath), "%s/sim-%d.log", ui.demo_dir, i);
	if (mw_read_file(logpath, 65536, &text, &len, &e) < 0)
		return;
	if (len) {
		len = strcspn(text, "\n");
		snprintf(out, n, ": %.*s", (int)len, text);
	}
	free(text);
}

/* Starts `sim argv...` as sim i: stdin and stdout /dev/null, stderr into
 * the demo dir's sim-i.log, in its own process group (the terminal's keys
 * and job control are the console's), and SIGTERM when the console dies,
 * however it dies. Then waits until it has written its port. */
static int demo_spawn(int i, const char *sim, const char *const argv[], int *port, mw_err *e)
{
	char logpath[PATH_MAX], portpath[PATH_MAX], said[300];
	pid_t parent = getpid(), pid;
	int64_t until;
	int devnull, logfd, status;
	sigset_t none;

	snprintf(logpath, sizeof(logpath), "%s/sim-%d.log", ui.demo_dir, i);
	snprintf(portpath, sizeof(portpath), "%s/sim-%d.port", ui.demo_dir, i);
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	logfd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (devnull < 0 || logfd < 0) {
		mw_err_set(e, "--demo: cannot open %s: %s", devnull < 0 ? "/dev/null" : logpath,
			   strerror(errno));
		goto fail_fds;
	}
	sigemptyset(&none);
	pid = fork();
	if (pid < 0) {
		mw_err_set(e, "--demo: cannot start %s: %s", sim, strerror(errno));
		goto fail_fds;
	}
	if (pid == 0) {
		/* Only async-signal-safe calls from here to exec. */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
			_exit(127);
		setpgid(0, 0);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(logfd, 2) < 0)
			_exit(127);
		execv(sim, (char *const *)argv);
		_exit(127);
	}
	ui.sim_pid[i] = pid;
	close(devnull);
	close(logfd);
	until = mw_mono_ms() + DEMO_START_MS;
	for (;;) {
		char *text = NULL;
		size_t len = 0;
		mw_err re;
		pid_t r;

		if (mw_read_file(portpath, 64, &text, &len, &re) == 0) {
			char *end;
			long v = strtol(text, &end, 10);

			free(text);
			if (end != text && v > 0 && v <= 65535) {
				*port = (int)v;
				return 0;
			}
		}
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid) {
			ui.sim_pid[i] = 0;
			demo_sim_said(i, said, sizeof(said));
			if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && !said[0])
				mw_err_set(e, "--demo: cannot run %s", sim);
			else if (WIFEXITED(status))
				mw_err_set(e, "--demo: %s exited with status %d%s", sim,
					   WEXITSTATUS(status), said);
			else
				mw_err_set(e, "--demo: %s died of signal %d%s", sim,
					   WTERMSIG(status), said);
			return -1;
		}
		if (mw_mono_ms() >= until) {
			demo_sim_said(i, said, sizeof(said));
			mw_err_set(e, "--demo: %s did not report its port within %d s%s", sim,
				   DEMO_START_MS / 1000, said);
			return -1;
		}
		mw_sleep_ms(20);
	}

fail_fds:
	if (devnull >= 0)
		close(devnull);
	if (logfd >= 0)
		close(logfd);
	return -1;
}

static void yaml_integration(mw_buf *b, const char *name, const char *desc, int api, int port)
{
	mw_buf_printf(b, "  - name: %s\n    description: %s\n    api: v%d\n", name, desc, api);
	mw_buf_printf(b, "    base_url: https://127.0.0.1:%d\n    ca_file: %s/sim-ca.pem\n", port,
		      ui.demo_dir);
	if (api == 1)
		mw_buf_printf(b, "    app_id: %s\n    app_key: %s\n    access_key: %s\n"
			      "    secret_key: %s\n", DEMO_APP_ID, DEMO_APP_KEY, DEMO_ACCESS_KEY,
			      DEMO_SECRET_KEY);
	else
		mw_buf_printf(b, "    client_id: %s\n    client_secret: %s\n", DEMO_CLIENT_ID,
			      DEMO_CLIENT_SECRET);
	mw_buf_puts(b, "    types: [url, impersonation, attachment]\n"
		       "    interval: 10s\n    lookback: 2h\n    lag: 0s\n    overlap: 1m\n"
		       "    page_size: 100\n");
}

/* Two simulated tenants (mimewatch-sim child processes) on 127.0.0.1 and a
 * config for them, all inside a fresh 0700 directory that is removed on
 * exit. Records keep arriving (no --records), one every 2 s per type over
 * the last 2 hours. */
static int demo_start(char *config_path, size_t n, mw_err *e)
{
	const char *tmp = getenv("TMPDIR");
	char sim[PATH_MAX], cfgpath[PATH_MAX], portfile[2][PATH_MAX];
	mw_buf y, tried;
	int port[2], rc;

	mw_buf_init(&tried);
	rc = demo_find_sim(sim, sizeof(sim), &tried);
	if (rc < 0)
		mw_err_set(e, "--demo needs mimewatch-sim, and it is not an executable file at %s; "
			   "install it, or set MIMEWATCH_SIM to its path", tried.data);
	mw_buf_free(&tried);
	if (rc < 0)
		return -1;
	snprintf(ui.demo_dir, sizeof(ui.demo_dir), "%s/mimewatch-demo.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(ui.demo_dir)) {
		mw_err_set(e, "--demo: cannot create a temporary directory in %s: %s; set TMPDIR "
			   "to a writable directory", tmp && *tmp ? tmp : "/tmp", strerror(errno));
		ui.demo_dir[0] = '\0';
		return -1;
	}
	chmod(ui.demo_dir, 0700);
	/* One after the other: the second reuses the certificate the first
	 * wrote into the shared --cert-dir, so one ca_file serves both. */
	for (int i = 0; i < 2; i++) {
		const char *argv[32];
		int a = 0;

		snprintf(portfile[i], sizeof(portfile[i]), "%s/sim-%d.port", ui.demo_dir, i);
		argv[a++] = sim;
		argv[a++] = "--bind";
		argv[a++] = "127.0.0.1";
		argv[a++] = "--port";
		argv[a++] = "0";
		argv[a++] = "--port-file";
		argv[a++] = portfile[i];
		argv[a++] = "--tls";
		argv[a++] = "--cert-dir";
		argv[a++] = ui.demo_dir;
		argv[a++] = "--span";
		argv[a++] = "2h";
		argv[a++] = "--spacing-ms";
		argv[a++] = "2000";
		argv[a++] = "--seed";
		argv[a++] = i == 0 ? "1" : "2";
		argv[a++] = "--quiet";
		if (i == 0) {
			/* A real bucket that a burst of fetches can empty, and a few
			 * scheduled 429s with a long reset, so the throttled state
			 * and its countdown show now and then without slowing the
			 * first backfill down to a crawl. */
			argv[a++] = "--rate-limit";
			argv[a++] = "30";
			/* 10 calls a second: the 2-hour backfill at Mimecast's page
			 * size of 100 (~220 pages) takes about 20 s. */
			argv[a++] = "--refill-ms";
			argv[a++] = "100";
			argv[a++] = "--fault";
			argv[a++] = "429:type=url,after=24,count=1,reset=12000";
			argv[a++] = "--fault";
			argv[a++] = "429:type=attachment,after=40,count=1,reset=9000";
		} else {
			argv[a++] = "--deny-permission";
			argv[a++] = "impersonation";
		}
		argv[a] = NULL;
		if (demo_spawn(i, sim, argv, &port[i], e) < 0) {
			demo_stop();
			return -1;
		}
	}
	mw_buf_init(&y);
	mw_buf_printf(&y, "# mimewatch --demo: two simulated tenants on 127.0.0.1\n"
		      "state_dir: %s/state\nintegrations:\n", ui.demo_dir);
	yaml_integration(&y, "acme-eu", "Acme, EU tenant (healthy)", 1, port[0]);
	yaml_integration(&y, "acme-v2", "Acme on API 2.0", 2, port[0]);
	yaml_integration(&y, "globex-us", "Globex, service user lacks a permission", 1, port[1]);
	mw_buf_printf(&y, "outputs:\n  - type: ndjson\n    dir: %s/out\n", ui.demo_dir);
	snprintf(cfgpath, sizeof(cfgpath), "%s/config.yaml", ui.demo_dir);
	rc = mw_write_file_atomic(cfgpath, y.data, y.len, e);
	mw_buf_free(&y);
	if (rc < 0) {
		demo_stop();
		return -1;
	}
	chmod(cfgpath, 0600);
	mw_strlcpy(config_path, cfgpath, n);
	return 0;
}

/* ---- script mode ------------------------------------------------------------------------ */

static const struct {
	const char *name;
	int code;
	int is_key;
} script_keys[] = {
	{ "Enter", '\r', 0 }, { "Esc", 27, 0 }, { "Tab", '\t', 0 }, { "BackTab", KEY_BTAB, 1 },
	{ "Up", KEY_UP, 1 }, { "Down", KEY_DOWN, 1 }, { "Left", KEY_LEFT, 1 },
	{ "Right", KEY_RIGHT, 1 }, { "PgUp", KEY_PPAGE, 1 }, { "PgDn", KEY_NPAGE, 1 },
	{ "Home", KEY_HOME, 1 }, { "End", KEY_END, 1 }, { "Backspace", KEY_BACKSPACE, 1 },
	{ "Delete", KEY_DC, 1 }, { "Space", ' ', 0 }, { "F1", KEY_F(1), 1 },
};

static size_t utf8_decode(const char *s, size_t n, wint_t *out)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t k;
	wint_t c;

	if (u[0] < 0x80) {
		*out = u[0];
		return 1;
	}
	if ((u[0] & 0xE0) == 0xC0) {
		k = 2;
		c = u[0] & 0x1F;
	} else if ((u[0] & 0xF0) == 0xE0) {
		k = 3;
		c = u[0] & 0x0F;
	} else if ((u[0] & 0xF8) == 0xF0) {
		k = 4;
		c = u[0] & 0x07;
	} else {
		*out = 0xFFFD;
		return 1;
	}
	if (k > n) {
		*out = 0xFFFD;
		return 1;
	}
	for (size_t i = 1; i < k; i++) {
		if ((u[i] & 0xC0) != 0x80) {
			*out = 0xFFFD;
			return i;
		}
		c = (c << 6) | (u[i] & 0x3F);
	}
	*out = c;
	return k;
}

static void type_text(struct ui_ctx *ctx, const char *s)
{
	size_t n = strlen(s), i = 0;

	while (i < n && !ctx->quit) {
		wint_t c;

		i += utf8_decode(s + i, n - i, &c);
		dispatch_key(ctx, c, 0);
	}
}

static int script_key(struct ui_ctx *ctx, const char *name)
{
	if (name[0] == 'C' && name[1] == '-' && name[2] && !name[3]) {
		dispatch_key(ctx, (wint_t)(name[2] & 0x1f), 0);
		return 0;
	}
	for (size_t i = 0; i < sizeof(script_keys) / sizeof(script_keys[0]); i++) {
		if (!strcmp(name, script_keys[i].name)) {
			dispatch_key(ctx, (wint_t)script_keys[i].code, script_keys[i].is_key);
			return 0;
		}
	}
	{
		wint_t c;
		size_t n = strlen(name);

		if (n && utf8_decode(name, n, &c) == n) {
			dispatch_key(ctx, c, 0);
			return 0;
		}
	}
	return -1;
}

static void put_utf8(FILE *f, wchar_t c)
{
	unsigned u = (unsigned)c;

	if (u < 0x80) {
		fputc((int)u, f);
	} else if (u < 0x800) {
		fputc((int)(0xC0 | (u >> 6)), f);
		fputc((int)(0x80 | (u & 0x3F)), f);
	} else if (u < 0x10000) {
		fputc((int)(0xE0 | (u >> 12)), f);
		fputc((int)(0x80 | ((u >> 6) & 0x3F)), f);
		fputc((int)(0x80 | (u & 0x3F)), f);
	} else {
		fputc((int)(0xF0 | (u >> 18)), f);
		fputc((int)(0x80 | ((u >> 12) & 0x3F)), f);
		fputc((int)(0x80 | ((u >> 6) & 0x3F)), f);
		fputc((int)(0x80 | (u & 0x3F)), f);
	}
}

/* The screen as UTF-8 text, one line per row, trailing spaces trimmed. */
static int script_dump(const char *path, mw_err *e)
{
	cchar_t *cells = mw_xcalloc((size_t)COLS + 1, sizeof(cchar_t));
	wchar_t *line = mw_xcalloc((size_t)COLS * (CCHARW_MAX + 1) + 1, sizeof(wchar_t));
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (!f) {
		mw_err_set(e, "dump %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(cells);
		free(line);
		return -1;
	}
	for (int y = 0; y < LINES; y++) {
		size_t len = 0, keep = 0;

		mvin_wchnstr(y, 0, cells, COLS);
		for (int x = 0, col = 0; x < COLS && col < COLS; x++) {
			wchar_t wch[CCHARW_MAX + 1];
			attr_t at;
			short pair;
			int w;

			if (getcchar(&cells[x], wch, &at, &pair, NULL) == ERR || !wch[0]) {
				line[len++] = L' ';
				col++;
				continue;
			}
			for (int i = 0; wch[i]; i++)
				line[len++] = wch[i];
			w = wcwidth(wch[0]);
			col += w > 0 ? w : 1;
			if (wch[0] != L' ')
				keep = len;
		}
		for (size_t i = 0; i < keep; i++)
			put_utf8(f, line[i]);
		fputc('\n', f);
	}
	free(cells);
	free(line);
	if (fclose(f) != 0) {
		mw_err_set(e, "dump %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static void script_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void script_fail(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(ui.err ? ui.err : stderr, "mimewatch: script line %d: %s\n", ui.script_line, msg);
	fflush(ui.err ? ui.err : stderr);
	ui.exit_code = 2;
	ui.ctx->quit = 1;
}

/* Runs script commands until one has to wait for the loop (sleep,
 * wait-idle) or the script ends. */
static void script_run(struct ui_ctx *ctx)
{
	char line[4096];

	while (!ctx->quit && !ui.wait_until && !ui.idle_deadline) {
		char *cmd, *arg;
		size_t n;
		mw_err e;

		if (ui.dirty)
			draw_all();
		if (!fgets(line, sizeof(line), ui.script)) {
			ctx->quit = 1;
			return;
		}
		ui.script_line++;
		n = strlen(line);
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		cmd = line;
		while (*cmd == ' ' || *cmd == '\t')
			cmd++;
		if (!*cmd || *cmd == '#')
			continue;
		arg = cmd + strcspn(cmd, " ");
		if (*arg)
			*arg++ = '\0';
		if (!strcmp(cmd, "key")) {
			if (script_key(ctx, arg) < 0)
				script_fail("unknown key '%s' (a character, C-x, or one of Enter Esc "
					    "Tab BackTab Up Down Left Right PgUp PgDn Home End "
					    "Backspace Delete Space F1)", arg);
		} else if (!strcmp(cmd, "type")) {
			type_text(ctx, arg);
		} else if (!strcmp(cmd, "paste")) {
			dispatch_key(ctx, KEY_PASTE_BEGIN, 1);
			type_text(ctx, arg);
			dispatch_key(ctx, KEY_PASTE_END, 1);
		} else if (!strcmp(cmd, "wait-idle")) {
			ui.idle_deadline = mw_mono_ms() + WAIT_IDLE_MS;
		} else if (!strcmp(cmd, "sleep")) {
			char *end;
			long ms = strtol(arg, &end, 10);

			if (end == arg || *end || ms < 0)
				script_fail("sleep needs milliseconds, e.g. sleep 500");
			else
				ui.wait_until = mw_mono_ms() + ms;
		} else if (!strcmp(cmd, "resize")) {
			int c, r;

			if (sscanf(arg, "%d %d", &c, &r) != 2 || c < 1 || r < 1 || c > 1000 ||
			    r > 1000) {
				script_fail("resize needs COLS ROWS, e.g. resize 80 24");
			} else {
				resize_term(r, c);
				handle_resize();
			}
		} else if (!strcmp(cmd, "dump")) {
			if (!*arg) {
				script_fail("dump needs a FILE");
			} else {
				draw_all();
				if (script_dump(arg, &e) < 0)
					script_fail("%s", e.msg);
			}
		} else if (!strcmp(cmd, "quit")) {
			ctx->quit = 1;
		} else {
			script_fail("unknown command '%s' (key type paste wait-idle sleep resize "
				    "dump quit)", cmd);
		}
		/* Whatever the collector reported meanwhile shows before the
		 * next command, as it would between two keystrokes. */
		return;
	}
}

/* ---- the loop ------------------------------------------------------------------------------ */

static int loop_timeout(struct ui_ctx *ctx)
{
	int64_t now = mw_mono_ms(), t = -1;
	long long tick = atomic_load(&ui.tick_at);

	if (tick)
		t = tick > now ? tick - now : 0;
	if (ctx->attached && (t < 0 || t > 1000))
		t = 1000;
	if (ui.script_mode) {
		if (ui.wait_until)
			t = ui.wait_until > now ? ui.wait_until - now : 0;
		else if (ui.idle_deadline)
			t = t >= 0 && t < 50 ? t : 50;
		else
			t = 0;
	}
	return (int)(t > 60000 ? 60000 : t);
}

static void run_loop(struct ui_ctx *ctx)
{
	int64_t last_attach_check = 0;

	while (!ctx->quit && !ui.signo) {
		struct pollfd p[3];
		int np = 0, ifd = -1, iw = -1, ic = -1;
		int64_t now;
		long long tick;

		if (ui.dirty)
			draw_all();
		if (ui.script_mode && !ui.wait_until && !ui.idle_deadline) {
			script_run(ctx);
			if (ctx->quit)
				break;
		}
		if (!ui.script_mode) {
			ifd = np;
			p[np].fd = STDIN_FILENO;
			p[np++].events = POLLIN;
		}
		iw = np;
		p[np].fd = ui.wake[0];
		p[np++].events = POLLIN;
		if (ctx->col) {
			ic = np;
			p[np].fd = collector_wake_fd(ctx->col);
			p[np++].events = POLLIN;
		}
		if (poll(p, (nfds_t)np, loop_timeout(ctx)) < 0 && errno != EINTR)
			break;
		now = mw_mono_ms();
		if (iw >= 0 && (p[iw].revents & POLLIN))
			drain_fd(ui.wake[0]), reload_top();
		if (ic >= 0 && (p[ic].revents & POLLIN)) {
			drain_fd(p[ic].fd);
			/* Collecting at full speed wakes us per page: coalesce. */
			if (now - ui.last_reload >= RELOAD_GAP_MS)
				reload_top();
			else
				ui_tick((int)(RELOAD_GAP_MS - (now - ui.last_reload)));
		}
		if (ifd >= 0 && (p[ifd].revents & (POLLHUP | POLLERR | POLLNVAL))) {
			/* The terminal went away (an SSH drop): a hang-up can come
			 * with POLLIN and a read of 0 bytes every time, and no
			 * SIGHUP when it is not our controlling terminal. */
			ui.signo = SIGHUP;
			break;
		}
		if (ifd >= 0 && (p[ifd].revents & POLLIN))
			read_terminal(ctx);
		if (ui.tstp)
			suspend();
		if (ui.cont)
			resumed();
		if (ui.winch)
			terminal_resized();
		tick = atomic_load(&ui.tick_at);
		if (tick && tick <= now) {
			atomic_store(&ui.tick_at, 0);
			reload_top();
		}
		if (ctx->attached && now - last_attach_check >= 1000) {
			last_attach_check = now;
			probe_open(ctx);
			if (store_changed())
				reload_top();
		}
		if (ui.script_mode && ui.wait_until && now >= ui.wait_until)
			ui.wait_until = 0;
		if (ui.script_mode && ui.idle_deadline) {
			if (ui_is_idle(ctx)) {
				ui.idle_deadline = 0;
				reload_top();
			} else if (now >= ui.idle_deadline) {
				fprintf(ui.err ? ui.err : stderr, "mimewatch: script line %d: "
					"wait-idle gave up after %d s (still busy)\n", ui.script_line,
					WAIT_IDLE_MS / 1000);
				ui.idle_deadline = 0;
				reload_top();
			}
		}
	}
}

/* ---- start and end ------------------------------------------------------------------------- */

static int terminal_usable(void)
{
	const char *term = getenv("TERM");

	return term && *term && strcmp(term, "dumb") != 0;
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* Installed before curses starts, so ncurses leaves them to us. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (!ui.script_mode) {
		/* ncurses' own SIGWINCH and SIGTSTP handlers would run curses
		 * in whichever thread takes the signal, and its resize only
		 * shows at the next key press: ours go through the loop. */
		sa.sa_handler = on_term_signal;
		sa.sa_flags = SA_RESTART;
		sigaction(SIGWINCH, &sa, NULL);
		sigaction(SIGTSTP, &sa, NULL);
		sigaction(SIGCONT, &sa, NULL);
		sa.sa_flags = 0;
	}
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

static SCREEN *start_curses(const struct console_opts *o, FILE **fout, FILE **fin, mw_err *e)
{
	SCREEN *scr;

	if (ui.script_mode) {
		char buf[16];
		const char *term = getenv("TERM");

		/* Nothing reaches the real terminal: output goes to /dev/null, and
		 * the size comes from LINES and COLUMNS. */
		*fout = fopen("/dev/null", "w");
		*fin = fopen("/dev/null", "r");
		if (!*fout || !*fin) {
			mw_err_set(e, "script mode: cannot open /dev/null: %s", strerror(errno));
			return NULL;
		}
		snprintf(buf, sizeof(buf), "%d", o->rows > 0 ? o->rows : 30);
		setenv("LINES", buf, 1);
		snprintf(buf, sizeof(buf), "%d", o->cols > 0 ? o->cols : 100);
		setenv("COLUMNS", buf, 1);
		use_env(TRUE);
		scr = newterm(term && *term && strcmp(term, "dumb") ? term : "xterm", *fout, *fin);
		if (!scr)
			scr = newterm("xterm", *fout, *fin);
		if (!scr)
			scr = newterm("vt100", *fout, *fin);
	} else {
		*fout = *fin = NULL;
		scr = ui_term_known(STDOUT_FILENO) == 0 ? newterm(NULL, stdout, stdin) : NULL;
	}
	if (!scr) {
		mw_err_set(e, "cannot start the terminal (TERM=%s: unknown to terminfo, or it "
			   "cannot move the cursor); set TERM to your terminal's type, e.g. "
			   "TERM=xterm-256color, or use the headless commands: mimewatch validate, "
			   "fetch, run, status",
			   getenv("TERM") ? getenv("TERM") : "");
		return NULL;
	}
	set_term(scr);
	cbreak();
	noecho();
	nonl();
	intrflush(stdscr, FALSE);
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	ui_colors_init();
	if (!ui.script_mode) {
		define_key("\033[200~", KEY_PASTE_BEGIN);
		define_key("\033[201~", KEY_PASTE_END);
		fputs("\033[?2004h", stdout);
		fflush(stdout);
	}
	return scr;
}

static void end_curses(SCREEN *scr, FILE *fout, FILE *fin)
{
	if (!scr)
		return;
	if (!ui.script_mode) {
		fputs("\033[?2004l", stdout);
		fflush(stdout);
	}
	endwin();
	delscreen(scr);
	if (fout)
		fclose(fout);
	if (fin)
		fclose(fin);
}

/* While the screen is up, the collector's log lines must not scribble on
 * it: fd 2 goes to state_dir/console.log (0600) and comes back after. */
static void stderr_to_log(const struct ui_ctx *ctx)
{
	char path[PATH_MAX];
	int fd, dupfd;

	if (ctx->cfg && ctx->cfg->state_dir)
		snprintf(path, sizeof(path), "%s/console.log", ctx->cfg->state_dir);
	else
		snprintf(path, sizeof(path), "/dev/null");
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	fflush(stderr);
	ui.saved_stderr = fcntl(2, F_DUPFD_CLOEXEC, 3);
	dupfd = ui.saved_stderr >= 0 ? fcntl(ui.saved_stderr, F_DUPFD_CLOEXEC, 3) : -1;
	if (dupfd >= 0)
		ui.err = fdopen(dupfd, "w");
	if (ui.saved_stderr >= 0)
		dup2(fd, 2);
	close(fd);
}

static void stderr_restore(void)
{
	if (ui.saved_stderr < 0)
		return;
	fflush(stderr);
	dup2(ui.saved_stderr, 2);
	close(ui.saved_stderr);
	ui.saved_stderr = -1;
	if (ui.err)
		fclose(ui.err);
	ui.err = NULL;
}

static int utf8_locale(void)
{
	const char *cs = nl_langinfo(CODESET);

	return cs && (!strcasecmp(cs, "UTF-8") || !strcasecmp(cs, "utf8"));
}

int console_main(const struct console_opts *o)
{
	struct ui_ctx *ctx = mw_xcalloc(1, sizeof(*ctx));
	struct mw_config *cfg = NULL;
	SCREEN *scr = NULL;
	FILE *fout = NULL, *fin = NULL;
	mw_err e;
	int rc;

	mw_err_clear(&e);
	ui.ctx = ctx;
	ui.exit_code = 0;
	ui.script_mode = o->script != NULL;
	ctx->demo = o->demo;
	if (!ui.script_mode && !terminal_usable()) {
		fprintf(stderr, "mimewatch: the console needs a terminal (TERM is %s). Without one, "
			"use the headless commands: mimewatch validate, mimewatch fetch, mimewatch "
			"run, mimewatch status (see mimewatch --help).\n",
			getenv("TERM") && *getenv("TERM") ? "dumb" : "not set");
		free(ctx);
		return 2;
	}
	if (ui.script_mode) {
		ui.script = fopen(o->script, "r");
		if (!ui.script) {
			fprintf(stderr, "mimewatch: --script %s: %s\n", o->script, strerror(errno));
			free(ctx);
			return 2;
		}
	}
	ui_ascii = !utf8_locale();
	/* The UI thread's wake pipe, non-blocking both ends (a signal handler
	 * writes to it). */
	if (pipe(ui.wake) < 0 || fcntl(ui.wake[0], F_SETFL, O_NONBLOCK) < 0 ||
	    fcntl(ui.wake[1], F_SETFL, O_NONBLOCK) < 0) {
		fprintf(stderr, "mimewatch: cannot create a pipe: %s\n", strerror(errno));
		rc = 2;
		goto out;
	}
	fcntl(ui.wake[0], F_SETFD, FD_CLOEXEC);
	fcntl(ui.wake[1], F_SETFD, FD_CLOEXEC);
	install_signals();
	if (o->demo) {
		if (demo_start(ctx->config_path, sizeof(ctx->config_path), &e) < 0) {
			fprintf(stderr, "mimewatch: %s\n", e.msg);
			rc = 2;
			goto out;
		}
	} else if (o->config) {
		mw_strlcpy(ctx->config_path, o->config, sizeof(ctx->config_path));
	} else {
		config_default_path(ctx->config_path, sizeof(ctx->config_path));
	}
	cfg = mw_xcalloc(1, sizeof(*cfg));
	rc = config_load(ctx->config_path, cfg, &e);
	if (rc == -2) {
		free(cfg);      /* no file yet: the wizard creates it */
		cfg = NULL;
	} else if (rc != 0) {
		fprintf(stderr, "mimewatch: %s\n", e.msg);
		free(cfg);
		rc = 2;
		goto out;
	}
	ctx->cfg = cfg;
	if (cfg) {
		/* Store problems are reported before the screen takes over. */
		if (store_open(cfg->state_dir, &ctx->store, &e) < 0) {
			fprintf(stderr, "mimewatch: %s\n", e.msg);
			rc = 2;
			goto out;
		}
		if (ui_start_collector(ctx) < 0) {
			fprintf(stderr, "mimewatch: %s\n", ctx->message);
			rc = 2;
			goto out;
		}
		ctx->message[0] = '\0';
	}
	stderr_to_log(ctx);
	scr = start_curses(o, &fout, &fin, &e);
	if (!scr) {
		stderr_restore();
		fprintf(stderr, "mimewatch: %s\n", e.msg);
		rc = 2;
		goto out;
	}
	if (ui_push(ctx, &view_home, NULL) < 0) {
		end_curses(scr, fout, fin);
		scr = NULL;
		stderr_restore();
		fprintf(stderr, "mimewatch: %s\n", ctx->message);
		rc = 2;
		goto out;
	}
	if (!cfg)
		ui_push(ctx, &view_wizard, NULL);
	else if (cfg->warnings) {
		/* What loading found worth saying (e.g. a lookback past the ~30
		 * days Mimecast keeps): its first line, on the status line. */
		size_t len = strcspn(cfg->warnings, "\n");

		ui_message(ctx, ROLE_WARNING, "warning: %.*s", (int)len, cfg->warnings);
	}
	if (ctx->demo)
		ui_message(ctx, ROLE_MUTED, "demo: two simulated tenants on 127.0.0.1; "
			   "records arrive every few seconds");
	ui.dirty = 1;
	run_loop(ctx);
	rc = ui.exit_code;
	if (ui.signo)
		rc = 128 + ui.signo;
out:
	while (ui.depth > 0) {
		struct ui_view *v = top_view();

		if (v->ops->close)
			v->ops->close(v);
		ui.depth--;
	}
	end_curses(scr, fout, fin);
	/* After the terminal is back: joining may take up to a second. A
	 * wizard check left running was told to abort when its screen
	 * closed; let it finish before exit tears libcrypto down. */
	stop_collector(ctx);
	wizard_wait_workers(3000);
	stderr_restore();
	if (ui.probe)
		sqlite3_close(ui.probe);
	ui.probe = NULL;
	if (ctx->store)
		store_close(ctx->store);
	if (ui.lock_fd >= 0)
		close(ui.lock_fd);
	ui.lock_fd = -1;
	if (ctx->cfg) {
		config_free(ctx->cfg);
		free(ctx->cfg);
	}
	demo_stop();
	if (ui.script)
		fclose(ui.script);
	ui.script = NULL;
	for (int i = 0; i < 2; i++) {
		if (ui.wake[i] >= 0)
			close(ui.wake[i]);
		ui.wake[i] = -1;
	}
	free(ctx);
	return rc;
}
