/* script.c - script mode, the test driver (--script FILE --size CxR): the
 * real console, drawn into curses' own screen with nothing reaching the
 * terminal, driven by commands read from a file (key, type, paste,
 * click, dclick, wheel, wait-idle, sleep, resize, dump, quit). dump writes the screen as UTF-8
 * text, which tests/ui/ compares with tests/ui/expected/. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include "script.h"
#include "session.h"
#include "ui.h"
#include "util.h"

#define WAIT_IDLE_MS 30000

static struct {
	struct ui_ctx *ctx;
	FILE *file;
	int line;
	int64_t wait_until;             /* sleep deadline (mono ms) */
	int64_t idle_deadline;          /* wait-idle deadline, 0 when not waiting */
	int failed;
	FILE *err;                      /* messages for the person (script errors) */
} sc;

int script_open(struct ui_ctx *ctx, const char *path, mw_err *e)
{
	sc.ctx = ctx;
	sc.file = fopen(path, "r");
	if (!sc.file) {
		mw_err_set(e, "--script %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

void script_close(void)
{
	if (sc.file)
		fclose(sc.file);
	sc.file = NULL;
}

void script_set_err(FILE *err)
{
	sc.err = err;
}

int script_failed(void)
{
	return sc.failed;
}

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
		frame_key(ctx, c, 0);
	}
}

static int script_key(struct ui_ctx *ctx, const char *name)
{
	if (name[0] == 'C' && name[1] == '-' && name[2] && !name[3]) {
		frame_key(ctx, (wint_t)(name[2] & 0x1f), 0);
		return 0;
	}
	for (size_t i = 0; i < sizeof(script_keys) / sizeof(script_keys[0]); i++) {
		if (!strcmp(name, script_keys[i].name)) {
			frame_key(ctx, (wint_t)script_keys[i].code, script_keys[i].is_key);
			return 0;
		}
	}
	{
		wint_t c;
		size_t n = strlen(name);

		if (n && utf8_decode(name, n, &c) == n) {
			frame_key(ctx, c, 0);
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
	fprintf(sc.err ? sc.err : stderr, "mimewatch: script line %d: %s\n", sc.line, msg);
	fflush(sc.err ? sc.err : stderr);
	sc.failed = 1;
	sc.ctx->quit = 1;
}

/* Runs script commands until one has to wait for the loop (sleep,
 * wait-idle) or the script ends. */
static void script_run(struct ui_ctx *ctx)
{
	char line[4096];

	while (!ctx->quit && !sc.wait_until && !sc.idle_deadline) {
		char *cmd, *arg;
		size_t n;
		mw_err e;

		if (frame_is_dirty())
			frame_draw();
		if (!fgets(line, sizeof(line), sc.file)) {
			ctx->quit = 1;
			return;
		}
		sc.line++;
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
			/* "\\n" in a paste is a newline: a pasted block of lines */
			frame_key(ctx, KEY_PASTE_BEGIN, 1);
			for (char *p = arg;;) {
				char *nl = strstr(p, "\\n");

				if (nl)
					*nl = '\0';
				type_text(ctx, p);
				if (!nl)
					break;
				frame_key(ctx, '\n', 0);
				p = nl + 2;
			}
			frame_key(ctx, KEY_PASTE_END, 1);
		} else if (!strcmp(cmd, "wait-idle")) {
			sc.idle_deadline = mw_mono_ms() + WAIT_IDLE_MS;
		} else if (!strcmp(cmd, "sleep")) {
			char *end;
			long ms = strtol(arg, &end, 10);

			if (end == arg || *end || ms < 0)
				script_fail("sleep needs milliseconds, e.g. sleep 500");
			else
				sc.wait_until = mw_mono_ms() + ms;
		} else if (!strcmp(cmd, "click") || !strcmp(cmd, "dclick")) {
			int c, r;

			if (sscanf(arg, "%d %d", &c, &r) != 2 || c < 0 || r < 0)
				script_fail("%s needs COL ROW (from 0), e.g. %s 10 5", cmd, cmd);
			else
				frame_mouse(ctx, cmd[0] == 'd' ? UI_DOUBLE_CLICK : UI_CLICK, r, c);
		} else if (!strcmp(cmd, "wheel")) {
			if (strcmp(arg, "up") && strcmp(arg, "down"))
				script_fail("wheel needs up or down");
			else
				frame_mouse(ctx, arg[0] == 'u' ? UI_WHEEL_UP : UI_WHEEL_DOWN, 0, 0);
		} else if (!strcmp(cmd, "resize")) {
			int c, r;

			if (sscanf(arg, "%d %d", &c, &r) != 2 || c < 1 || r < 1 || c > 1000 ||
			    r > 1000) {
				script_fail("resize needs COLS ROWS, e.g. resize 80 24");
			} else {
				resize_term(r, c);
				frame_resized();
			}
		} else if (!strcmp(cmd, "dump")) {
			if (!*arg) {
				script_fail("dump needs a FILE");
			} else {
				frame_draw();
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


void script_step(struct ui_ctx *ctx)
{
	if (!sc.wait_until && !sc.idle_deadline)
		script_run(ctx);
}

int script_timeout(int t)
{
	int64_t now = mw_mono_ms();

	if (sc.wait_until)
		return (int)(sc.wait_until > now ? sc.wait_until - now : 0);
	if (sc.idle_deadline)
		return t >= 0 && t < 50 ? t : 50;
	return 0;
}

void script_after_poll(struct ui_ctx *ctx, int64_t now, int busy)
{
	if (sc.wait_until && now >= sc.wait_until)
		sc.wait_until = 0;
	if (!sc.idle_deadline)
		return;
	if (!busy && session_idle(ctx, mw_now_ms() - WAIT_IDLE_MS)) {
		sc.idle_deadline = 0;
		frame_reload_top();
	} else if (now >= sc.idle_deadline) {
		fprintf(sc.err ? sc.err : stderr, "mimewatch: script line %d: "
			"wait-idle gave up after %d s (still busy)\n", sc.line, WAIT_IDLE_MS / 1000);
		sc.idle_deadline = 0;
		frame_reload_top();
	}
}
