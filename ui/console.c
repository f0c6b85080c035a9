/* console.c - the console's start and end and its main loop: the config
 * and the collector through session.c (--demo's tenants from demo.c first),
 * curses on and off (bracketed paste; script mode draws into /dev/null),
 * fd 2 into state_dir/console.log while the screen is up, the signals
 * (SIGINT, SIGTERM, SIGHUP end the loop; SIGWINCH, SIGTSTP and SIGCONT only
 * raise flags that the loop handles), and the poll loop.
 *
 * The UI thread sleeps in poll() on the terminal, its own wake pipe (signals
 * and worker threads) and the collector's wake pipe; a timer only runs when
 * something on screen counts down, when attached to another process (or
 * waiting for a new one after it exited: session_watch_collector, once a
 * second), or in script mode (script.c). */
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "console.h"
#include "demo.h"
#include "script.h"
#include "session.h"
#include "ui.h"
#include "util.h"

#define RELOAD_GAP_MS 200       /* collector wake-ups coalesce to 5 a second */

static struct {
	int wake[2];                    /* self-pipe: signals, workers, ui_wake */
	volatile sig_atomic_t signo;
	volatile sig_atomic_t winch, tstp, cont;  /* terminal signals, handled in the loop */
	atomic_int busy;
	atomic_llong tick_at;           /* mono ms of the next reload tick, 0 none */
	int script_mode;
	int saved_stderr;               /* fd 2 as it was, while the screen is up */
	FILE *err;                      /* messages for the person (script errors) */
} ui = { .wake = { -1, -1 }, .saved_stderr = -1 };

/* ---- waking and ticking --------------------------------------------------------- */

int ui_term_write(const char *s, size_t n)
{
	const char *path = getenv("MIMEWATCH_OSC52_FILE");
	int fd, rc = 0;

	if (!ui.script_mode) {
		/* curses flushed its buffer at the end of the last frame */
		fflush(stdout);
		return fwrite(s, 1, n, stdout) == n && fflush(stdout) == 0 ? 0 : -1;
	}
	if (!path || !*path)
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (write(fd, s, n) != (ssize_t)n)
		rc = -1;
	close(fd);
	return rc;
}

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

/* ---- the terminal's signals ---------------------------------------------------------- */

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
	frame_resized();
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
	frame_full_redraw();
	terminal_resized();
}

static void read_mouse(struct ui_ctx *ctx)
{
	MEVENT ev;

	if (getmouse(&ev) != OK)
		return;
	if (ev.bstate & BUTTON4_PRESSED)
		frame_mouse(ctx, UI_WHEEL_UP, ev.y, ev.x);
	else if (ev.bstate & BUTTON5_PRESSED)
		frame_mouse(ctx, UI_WHEEL_DOWN, ev.y, ev.x);
	else if (ev.bstate & BUTTON1_DOUBLE_CLICKED)
		frame_mouse(ctx, UI_DOUBLE_CLICK, ev.y, ev.x);
	else if (ev.bstate & BUTTON1_CLICKED)
		frame_mouse(ctx, UI_CLICK, ev.y, ev.x);
}

static void read_terminal(struct ui_ctx *ctx)
{
	wint_t ch;
	int r;

	while ((r = get_wch(&ch)) != ERR) {
		if (r == KEY_CODE_YES && ch == KEY_MOUSE) {
			read_mouse(ctx);
			continue;
		}
		frame_key(ctx, ch, r == KEY_CODE_YES);
		if (ctx->quit)
			break;
	}
}

/* ---- the loop ------------------------------------------------------------------------------ */

static int loop_timeout(struct ui_ctx *ctx)
{
	int64_t now = mw_mono_ms(), t = -1;
	long long tick = atomic_load(&ui.tick_at);

	if (tick)
		t = tick > now ? tick - now : 0;
	if ((ctx->attached || ctx->exited_pid) && (t < 0 || t > 1000))
		t = 1000;
	if (ui.script_mode)
		t = script_timeout((int)(t > 60000 ? 60000 : t));
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

		if (frame_is_dirty())
			frame_draw();
		if (ui.script_mode) {
			script_step(ctx);
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
		if (session_wake_fd(ctx) >= 0) {
			ic = np;
			p[np].fd = session_wake_fd(ctx);
			p[np++].events = POLLIN;
		}
		if (poll(p, (nfds_t)np, loop_timeout(ctx)) < 0 && errno != EINTR)
			break;
		now = mw_mono_ms();
		if (iw >= 0 && (p[iw].revents & POLLIN))
			drain_fd(ui.wake[0]), frame_reload_top();
		if (ic >= 0 && (p[ic].revents & POLLIN)) {
			drain_fd(p[ic].fd);
			/* Collecting at full speed wakes us per page: coalesce. */
			if (now - frame_last_reload() >= RELOAD_GAP_MS)
				frame_reload_top();
			else
				ui_tick((int)(RELOAD_GAP_MS - (now - frame_last_reload())));
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
			frame_reload_top();
		}
		if ((ctx->attached || ctx->exited_pid) && now - last_attach_check >= 1000) {
			/* Whether the run still holds the lock (it may have exited,
			 * or a new one started), then what it committed. */
			int moved = session_watch_collector(ctx);

			last_attach_check = now;
			if (session_store_changed(ctx) || moved)
				frame_reload_top();
		}
		if (ui.script_mode)
			script_after_poll(ctx, now, atomic_load(&ui.busy) > 0);
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

/* Home, End, PgUp, PgDn and Delete as terminals really send them: terminfo
 * knows one encoding per key (xterm-256color's Home is ESC O H; vt100 has no
 * Home at all), while tmux, screen, PuTTY, rxvt and the Linux console send
 * ESC [ 1 ~ and the like whatever TERM says. Unknown, such a key was read as
 * Esc and then "[4~": End went back a screen. */
static const struct {
	const char *seq;
	int key;
} key_encodings[] = {
	{ "\033[1~", KEY_HOME }, { "\033[7~", KEY_HOME }, { "\033[H", KEY_HOME },
	{ "\033OH", KEY_HOME },
	{ "\033[4~", KEY_END }, { "\033[8~", KEY_END }, { "\033[F", KEY_END },
	{ "\033OF", KEY_END },
	{ "\033[5~", KEY_PPAGE }, { "\033[6~", KEY_NPAGE }, { "\033[3~", KEY_DC },
};

static void define_key_encodings(void)
{
	for (size_t i = 0; i < NELEM(key_encodings); i++)
		if (key_defined(key_encodings[i].seq) != key_encodings[i].key)
			define_key(key_encodings[i].seq, key_encodings[i].key);
}

static int mouse_reported(void)
{
	char name[] = "kmous";
	const char *km = tigetstr(name);
	const char *term = getenv("TERM");

	/* The Linux console's entry has kmous too, but there ncurses talks
	 * to the gpm daemon through libgpm, which it loads for the purpose
	 * (and whose allocation outlives it): no mouse on "linux" terms. */
	if (term && strncmp(term, "linux", 5) == 0)
		return 0;
	return km && km != (const char *)-1 && *km;
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
		define_key_encodings();
		define_key("\033[200~", KEY_PASTE_BEGIN);
		define_key("\033[201~", KEY_PASTE_END);
		fputs("\033[?2004h", stdout);
		fflush(stdout);
		/* Clicks and the wheel, unless --no-mouse leaves the mouse to
		 * the terminal (to select text), and only where the terminal
		 * reports them itself (kmous in terminfo: xterm and its kind,
		 * tmux, screen; vt100 has none). */
		if (!o->no_mouse && mouse_reported())
			mousemask(BUTTON1_CLICKED | BUTTON1_DOUBLE_CLICKED | BUTTON4_PRESSED |
				  BUTTON5_PRESSED, NULL);
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
	SCREEN *scr = NULL;
	FILE *fout = NULL, *fin = NULL;
	mw_err e;
	int rc;

	mw_err_clear(&e);
	ui.script_mode = o->script != NULL;
	ctx->demo = o->demo;
	ctx->shard_k = o->shard_k;
	ctx->shard_n = o->shard_n;
	frame_init(ctx, !ui.script_mode);
	if (!ui.script_mode && !terminal_usable()) {
		fprintf(stderr, "mimewatch: the console needs a terminal (TERM is %s). Without one, "
			"use the headless commands: mimewatch validate, mimewatch fetch, mimewatch "
			"run, mimewatch status (see mimewatch --help).\n",
			getenv("TERM") && *getenv("TERM") ? "dumb" : "not set");
		free(ctx);
		return 2;
	}
	if (ui.script_mode && script_open(ctx, o->script, &e) < 0) {
		fprintf(stderr, "mimewatch: %s\n", e.msg);
		free(ctx);
		return 2;
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
		char path[sizeof(ctx->config_path)];

		if (demo_start(path, sizeof(path), &e) < 0) {
			fprintf(stderr, "mimewatch: %s\n", e.msg);
			rc = 2;
			goto out;
		}
		rc = session_open(ctx, path, &e);
	} else {
		rc = session_open(ctx, o->config, &e);
	}
	if (rc < 0) {
		fprintf(stderr, "mimewatch: %s\n", e.msg);
		rc = 2;
		goto out;
	}
	stderr_to_log(ctx);
	script_set_err(ui.err);
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
	if (!ctx->cfg)
		ui_push(ctx, &view_wizard, NULL);
	else if (ctx->cfg->warnings) {
		/* What loading found worth saying (e.g. a lookback past the ~30
		 * days Mimecast keeps): its first line, on the status line. */
		size_t len = strcspn(ctx->cfg->warnings, "\n");

		ui_app_message(ctx, ROLE_WARNING, "warning: %.*s", (int)len, ctx->cfg->warnings);
	}
	if (ctx->demo)
		ui_app_message(ctx, ROLE_MUTED, "demo: two simulated tenants on 127.0.0.1; "
			   "records arrive every few seconds");
	frame_dirty();
	run_loop(ctx);
	rc = ui.script_mode && script_failed() ? 2 : 0;
	if (ui.signo)
		rc = 128 + ui.signo;
out:
	frame_close_all();
	end_curses(scr, fout, fin);
	/* After the terminal is back: joining may take up to a second. A
	 * wizard check left running was told to abort when its screen
	 * closed; let it finish before exit tears libcrypto down. */
	session_stop_collector(ctx);
	wizard_wait_workers(3000);
	script_set_err(NULL);
	stderr_restore();
	session_close(ctx);
	demo_stop();
	script_close();
	for (int i = 0; i < 2; i++) {
		if (ui.wake[i] >= 0)
			close(ui.wake[i]);
		ui.wake[i] = -1;
	}
	free(ctx);
	return rc;
}
