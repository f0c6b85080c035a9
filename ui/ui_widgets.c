/* ui_widgets.c - the drawing helpers every screen uses. All text reaches the
 * terminal through ui_text(), which sanitises it and cuts it by display
 * columns: subjects, URLs and file names come from attackers. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <wchar.h>

#include "mimecast/mimecast.h"
#include "sanitize.h"
#include "status.h"
#include "ui.h"
#include "util.h"

int ui_text(int y, int x, int max_cols, enum ui_role role, const char *s, size_t n)
{
	mw_buf b;
	int cols;

	if (max_cols <= 0 || !s)
		return 0;
	mw_buf_init(&b);
	cols = sanitize_display(&b, s, n, max_cols, ui_ascii);
	attrset(ui_attr(role));
	mvaddnstr(y, x, b.data ? b.data : "", (int)b.len);
	attrset(A_NORMAL);
	mw_buf_free(&b);
	return cols;
}

int ui_text_marked(int y, int x, int max_cols, enum ui_role role, const char *s, size_t n,
		   const char *const *words, size_t nwords)
{
	mw_buf b;
	unsigned char *mark;
	int cols;

	if (max_cols <= 0 || !s)
		return 0;
	if (!nwords)
		return ui_text(y, x, max_cols, role, s, n);
	mw_buf_init(&b);
	cols = sanitize_display(&b, s, n, max_cols, ui_ascii);
	mark = mw_xcalloc(b.len + 1, 1);
	for (size_t w = 0; w < nwords; w++) {
		size_t wl = strlen(words[w]);

		for (size_t i = 0; wl && i + wl <= b.len; i++)
			if (strncasecmp(b.data + i, words[w], wl) == 0)
				memset(mark + i, 1, wl);
	}
	move(y, x);
	for (size_t i = 0; i < b.len;) {
		size_t j = i;

		while (j < b.len && mark[j] == mark[i])
			j++;
		attrset(ui_attr(mark[i] ? ROLE_MATCH : role));
		addnstr(b.data + i, (int)(j - i));
		i = j;
	}
	attrset(A_NORMAL);
	free(mark);
	mw_buf_free(&b);
	return cols;
}

int ui_textf(int y, int x, int max_cols, enum ui_role role, const char *fmt, ...)
{
	char small[512], *p = small;
	va_list ap;
	int len, cols;

	va_start(ap, fmt);
	len = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (len < 0)
		return 0;
	if ((size_t)len >= sizeof(small)) {
		p = mw_xmalloc((size_t)len + 1);
		va_start(ap, fmt);
		vsnprintf(p, (size_t)len + 1, fmt, ap);
		va_end(ap);
	}
	cols = ui_text(y, x, max_cols, role, p, (size_t)len);
	if (p != small)
		free(p);
	return cols;
}

void ui_hline(int y, int x, int width)
{
	cchar_t c;
	/* A real box-drawing character rather than ACS_HLINE: it reads back as
	 * itself in script-mode dumps and needs no alternate charset. */
	wchar_t w[2] = { ui_ascii ? L'-' : 0x2500, 0 };

	if (width <= 0)
		return;
	setcchar(&c, w, ui_attr(ROLE_MUTED), 0, NULL);
	mvhline_set(y, x, &c, width);
}

const char *ui_mark_ok(void)
{
	return ui_ascii ? "OK" : "\u2714";
}

const char *ui_mark_bad(void)
{
	return ui_ascii ? "!!" : "\u2718";
}

const char *ui_dot(void)
{
	return ui_ascii ? "-" : "\u00b7";
}

/* The coverage view's cells: U+2501, U+2591, U+2592, U+2504; with
 * ui_ascii "=", ".", "~", "-". */
const char *ui_cov_mark(enum ui_cov c)
{
	static const char *const utf8[] = { "\u2501", "\u2591", "\u2592", "\u2504", " " };
	static const char *const ascii[] = { "=", ".", "~", "-", " " };

	return (ui_ascii ? ascii : utf8)[c];
}

/* Eight levels of block (U+2581 .. U+2588), or " .:-=+*#%" with ui_ascii;
 * level 0 is a blank. */
const char *ui_spark(int level)
{
	static const char *const utf8[] = { " ", "\u2581", "\u2582", "\u2583", "\u2584",
					     "\u2585", "\u2586", "\u2587", "\u2588" };
	static const char *const ascii[] = { " ", ".", ":", "-", "=", "+", "*", "#", "%" };

	if (level < 0)
		level = 0;
	if (level > 8)
		level = 8;
	return (ui_ascii ? ascii : utf8)[level];
}

const char *ui_ellipsis(void)
{
	return ui_ascii ? "..." : "\u2026";
}

const char *ui_mark_sort(int desc)
{
	if (ui_ascii)
		return desc ? "v" : "^";
	return desc ? "\u25bc" : "\u25b2";
}

const char *ui_mark_idle(void)
{
	return ui_ascii ? "--" : "-";
}

/* ---- lists ------------------------------------------------------------------- */

void ui_list_clamp(struct ui_list *l, int height)
{
	if (height < 1)
		height = 1;
	if (l->count <= 0) {
		l->cursor = l->top = 0;
		return;
	}
	if (l->cursor >= l->count)
		l->cursor = l->count - 1;
	if (l->cursor < 0)
		l->cursor = 0;
	if (l->top > l->cursor)
		l->top = l->cursor;
	if (l->cursor >= l->top + height)
		l->top = l->cursor - height + 1;
	/* No empty space below the last row while there is more above. */
	if (l->top > l->count - height)
		l->top = l->count - height;
	if (l->top < 0)
		l->top = 0;
}

int ui_list_action(struct ui_list *l, enum ui_action a, int height)
{
	int page = height > 1 ? height - 1 : 1;

	switch (a) {
	case ACT_UP: l->cursor--; break;
	case ACT_DOWN: l->cursor++; break;
	case ACT_PAGE_UP: l->cursor -= page; l->top -= page; break;
	case ACT_PAGE_DOWN: l->cursor += page; l->top += page; break;
	case ACT_FIRST: l->cursor = 0; break;
	case ACT_LAST: l->cursor = l->count - 1; break;
	default: return 0;
	}
	if (l->cursor < 0)
		l->cursor = 0;
	if (l->top < 0)
		l->top = 0;
	ui_list_clamp(l, height);
	return 1;
}

/* ---- one-line text fields ------------------------------------------------------ */

static size_t utf8_prev(const char *s, size_t i)
{
	if (i == 0)
		return 0;
	i--;
	while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
		i--;
	return i;
}

static size_t utf8_next(const char *s, size_t len, size_t i)
{
	if (i >= len)
		return len;
	i++;
	while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
		i++;
	return i;
}

static void field_delete(struct ui_field *f, size_t from, size_t to)
{
	if (to <= from)
		return;
	memmove(f->buf + from, f->buf + to, f->len - to + 1);
	f->len -= to - from;
	if (f->cur > to)
		f->cur -= to - from;
	else if (f->cur > from)
		f->cur = from;
}

static int field_insert(struct ui_field *f, wint_t ch)
{
	char enc[8];
	size_t k;

	/* Encoded as UTF-8 whatever the locale: the config is UTF-8. */
	if (ch < 0x80) {
		enc[0] = (char)ch;
		k = 1;
	} else if (ch < 0x800) {
		enc[0] = (char)(0xC0 | (ch >> 6));
		enc[1] = (char)(0x80 | (ch & 0x3F));
		k = 2;
	} else if (ch < 0x10000) {
		if (ch >= 0xD800 && ch <= 0xDFFF)
			return 1;
		enc[0] = (char)(0xE0 | (ch >> 12));
		enc[1] = (char)(0x80 | ((ch >> 6) & 0x3F));
		enc[2] = (char)(0x80 | (ch & 0x3F));
		k = 3;
	} else if (ch <= 0x10FFFF) {
		enc[0] = (char)(0xF0 | (ch >> 18));
		enc[1] = (char)(0x80 | ((ch >> 12) & 0x3F));
		enc[2] = (char)(0x80 | ((ch >> 6) & 0x3F));
		enc[3] = (char)(0x80 | (ch & 0x3F));
		k = 4;
	} else {
		return 1;
	}
	if (f->len + k >= sizeof(f->buf))
		return 1;       /* full: the key is still consumed, nothing grows */
	memmove(f->buf + f->cur + k, f->buf + f->cur, f->len - f->cur + 1);
	memcpy(f->buf + f->cur, enc, k);
	f->len += k;
	f->cur += k;
	return 1;
}

int ui_field_input(struct ui_field *f, wint_t ch, int is_key)
{
	f->buf[f->len] = '\0';
	if (is_key) {
		switch (ch) {
		case KEY_LEFT: f->cur = utf8_prev(f->buf, f->cur); return 1;
		case KEY_RIGHT: f->cur = utf8_next(f->buf, f->len, f->cur); return 1;
		case KEY_HOME: f->cur = 0; return 1;
		case KEY_END: f->cur = f->len; return 1;
		case KEY_BACKSPACE: field_delete(f, utf8_prev(f->buf, f->cur), f->cur); return 1;
		case KEY_DC: field_delete(f, f->cur, utf8_next(f->buf, f->len, f->cur)); return 1;
		default: return 0;
		}
	}
	switch (ch) {
	case 0x7f: case 0x08:   /* Backspace as DEL or C-h */
		field_delete(f, utf8_prev(f->buf, f->cur), f->cur);
		return 1;
	case 0x01: f->cur = 0; return 1;            /* C-a */
	case 0x05: f->cur = f->len; return 1;       /* C-e */
	case 0x02: f->cur = utf8_prev(f->buf, f->cur); return 1;       /* C-b */
	case 0x06: f->cur = utf8_next(f->buf, f->len, f->cur); return 1; /* C-f */
	case 0x04: field_delete(f, f->cur, utf8_next(f->buf, f->len, f->cur)); return 1;
	case 0x0b: field_delete(f, f->cur, f->len); return 1;          /* C-k */
	case 0x15: field_delete(f, 0, f->cur); return 1;               /* C-u */
	case 0x17: {                                                   /* C-w */
		size_t i = f->cur;

		while (i > 0 && f->buf[i - 1] == ' ')
			i--;
		while (i > 0 && f->buf[i - 1] != ' ')
			i--;
		field_delete(f, i, f->cur);
		return 1;
	}
	default:
		break;
	}
	/* Other controls (Enter, Tab, Esc, and pasted CR/LF) are not text. */
	if (ch < 0x20 || (ch >= 0x7f && ch < 0xa0))
		return 0;
	return field_insert(f, ch);
}

/* Display columns of f->buf[from..to) as drawn (masked: one per character). */
static int field_cols(const struct ui_field *f, size_t from, size_t to)
{
	mw_buf b;
	int w = 0;

	if (f->masked) {
		for (size_t i = from; i < to; i = utf8_next(f->buf, to, i))
			w++;
		return w;
	}
	mw_buf_init(&b);
	w = sanitize_display(&b, f->buf + from, to - from, -1, ui_ascii);
	mw_buf_free(&b);
	return w;
}

void ui_field_draw(const struct ui_field *f, int y, int x, int width, int focused)
{
	size_t start = 0, len = f->len < sizeof(f->buf) ? f->len : sizeof(f->buf) - 1;
	size_t cur = f->cur <= len ? f->cur : len;
	if (width <= 0)
		return;
	/* Scroll so that the cursor stays inside the field, one column spare. */
	while (start < cur && field_cols(f, start, cur) > width - 1)
		start = utf8_next(f->buf, len, start);
	attrset(ui_attr(focused ? ROLE_INPUT : ROLE_NORMAL) | (focused ? A_NORMAL : A_UNDERLINE));
	mvhline(y, x, ' ', width);
	attrset(A_NORMAL);
	if (f->masked) {
		char stars[1024];
		int n = 0;

		for (size_t i = start; i < len && n < width && n < (int)sizeof(stars) - 1;
		     i = utf8_next(f->buf, len, i))
			stars[n++] = '*';
		stars[n] = '\0';
		attrset(ui_attr(ROLE_INPUT));
		mvaddnstr(y, x, stars, n);
		attrset(A_NORMAL);
	} else {
		ui_text(y, x, width, ROLE_INPUT, f->buf + start, len - start);
	}
	if (focused) {
		int cx = field_cols(f, start, cur);

		ui_cursor_y = y;
		ui_cursor_x = x + (cx < width ? cx : width - 1);
		move(ui_cursor_y, ui_cursor_x);
	}
}

/* ---- wrapped text and pages ------------------------------------------------------ */

/* Bytes of p that make its next wrapped line: up to the last space that
 * fits in w columns, or mid-word when one word is wider. */
static size_t wrap_cut(const char *p, int w)
{
	size_t len = strlen(p), fit = 0, sp = 0;

	if (sanitize_width(p, len) <= w)
		return len;
	for (size_t i = 1; i <= len; i++) {
		if (sanitize_width(p, i) > w)
			break;
		fit = i;
		if (p[i] == ' ')
			sp = i;
	}
	return sp ? sp : (fit ? fit : 1);
}

static const char *wrap_next(const char *p, size_t cut)
{
	p += cut;
	while (*p == ' ')
		p++;
	return p;
}

int ui_wrap(const char *text, int w, int draw, int y, int x, int max, enum ui_role role)
{
	const char *p = text;
	int lines = 0;

	if (w < 10)
		w = 10;
	while (*p && lines < max) {
		size_t cut = wrap_cut(p, w);

		if (draw)
			ui_text(y + lines, x, w, role, p, cut);
		lines++;
		p = wrap_next(p, cut);
	}
	return lines;
}

static void doc_addv(struct ui_doc *d, enum ui_role lead_role, const char *lead,
		     enum ui_role role, int indent, const char *fmt, va_list ap)
{
	mw_buf b;
	va_list ap2;
	int len;

	mw_buf_init(&b);
	mw_buf_reserve(&b, 128);
	b.data[0] = '\0';
	va_copy(ap2, ap);
	len = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (len > 0) {
		mw_buf_reserve(&b, (size_t)len + 1);
		vsnprintf(b.data, (size_t)len + 1, fmt, ap);
		b.len = (size_t)len;
	}
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 32;
		d->lines = mw_xrealloc(d->lines, d->cap * sizeof(*d->lines));
	}
	d->lines[d->n].role = role;
	d->lines[d->n].indent = indent;
	d->lines[d->n].text = b.data ? b.data : mw_xstrdup("");
	d->lines[d->n].lead = lead ? mw_xstrdup(lead) : NULL;
	d->lines[d->n].lead_role = lead_role;
	d->n++;
}

void ui_doc_add(struct ui_doc *d, enum ui_role role, int indent, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	doc_addv(d, ROLE_NORMAL, NULL, role, indent, fmt, ap);
	va_end(ap);
}

void ui_doc_add_lead(struct ui_doc *d, enum ui_role lead_role, const char *lead,
		     enum ui_role role, int indent, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	doc_addv(d, lead_role, lead, role, indent, fmt, ap);
	va_end(ap);
}

void ui_doc_clear(struct ui_doc *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->lines[i].text);
		free(d->lines[i].lead);
	}
	free(d->lines);
	d->lines = NULL;
	d->n = d->cap = 0;
}

/* Columns of a paragraph's text: what its indent and lead leave. */
static int doc_text_width(const struct ui_doc_line *l, int width)
{
	return width - 2 - l->indent - (l->lead ? sanitize_width(l->lead, strlen(l->lead)) : 0);
}

static int doc_line_rows(const struct ui_doc_line *l, int width)
{
	return l->text[0] ? ui_wrap(l->text, doc_text_width(l, width), 0, 0, 0, 1000, l->role)
			  : 1;
}

void ui_more_hint(int y, int width, int above, int below)
{
	const char *s;
	int w;

	if (!above && !below)
		return;
	if (ui_ascii)
		s = !below ? "more above (PgUp)" : !above ? "more below (PgDn)"
			   : "more above and below (PgUp, PgDn)";
	else
		s = !below ? "more above \xe2\x86\x91 (PgUp)" : !above ? "more below \xe2\x86\x93 (PgDn)"
			   : "more above \xe2\x86\x91 and below \xe2\x86\x93 (PgUp, PgDn)";
	w = sanitize_width(s, strlen(s));
	ui_text(y, width - 1 - w > 1 ? width - 1 - w : 1, width - 2, ROLE_MUTED, s, strlen(s));
}

void ui_doc_draw(struct ui_doc *d, int y0, int height, int width)
{
	int line = 0, y = y0, rows;

	d->total = 0;
	for (size_t i = 0; i < d->n; i++)
		d->total += doc_line_rows(&d->lines[i], width);
	/* A page that does not fit keeps its last row to say there is more. */
	rows = d->total > height && height > 1 ? height - 1 : height;
	d->rows = rows;
	if (d->top > d->total - rows)
		d->top = d->total - rows;
	if (d->top < 0)
		d->top = 0;
	for (size_t i = 0; i < d->n && y < y0 + rows; i++) {
		const struct ui_doc_line *l = &d->lines[i];
		int w = doc_text_width(l, width), x = 1 + l->indent;
		int n = doc_line_rows(l, width);
		const char *p = l->text;

		if (line + n <= d->top) {
			line += n;
			continue;
		}
		if (line >= d->top) {
			if (l->lead)
				x += ui_text(y, x, width - 1 - x, l->lead_role, l->lead,
					     strlen(l->lead));
		} else {
			/* A paragraph cut by the top edge: skip its hidden lines. */
			int ww = w < 10 ? 10 : w;

			if (l->lead)
				x += sanitize_width(l->lead, strlen(l->lead));
			for (int k = line; k < d->top && *p; k++)
				p = wrap_next(p, wrap_cut(p, ww));
		}
		if (*p)
			y += ui_wrap(p, w, 1, y, x, y0 + rows - y, l->role);
		else
			y++;
		line += n;
	}
	if (rows < height)
		ui_more_hint(y0 + height - 1, width, d->top > 0, d->top + rows < d->total);
}

int ui_doc_action(struct ui_doc *d, enum ui_action a, int height)
{
	int rows = d->rows > 0 ? d->rows : height;
	int page = rows > 1 ? rows - 1 : 1;

	switch (a) {
	case ACT_UP: d->top--; break;
	case ACT_DOWN: d->top++; break;
	case ACT_PAGE_UP: d->top -= page; break;
	case ACT_PAGE_DOWN: d->top += page; break;
	case ACT_FIRST: d->top = 0; break;
	case ACT_LAST: d->top = d->total; break;
	default: return 0;
	}
	if (d->top > d->total - rows)
		d->top = d->total - rows;
	if (d->top < 0)
		d->top = 0;
	return 1;
}

/* ---- counts ------------------------------------------------------------------ */

void ui_fmt_count(int64_t v, char *buf, size_t n)
{
	char digits[32];
	int len, lead;
	size_t o = 0;

	if (n == 0)
		return;
	if (v < 0)
		v = 0;
	len = snprintf(digits, sizeof(digits), "%" PRId64, v);
	lead = len % 3 ? len % 3 : 3;
	for (int i = 0; i < len && o + 2 < n; i++) {
		if (i && (i - lead) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = 0;
}

/* ---- times --------------------------------------------------------------------- */

#define ZONE_MAX 10             /* "Time (" label ")" fits the time column's 19 */

/* The UI thread's alone, like everything drawn. */
static int time_local;

void ui_time_set_local(int local)
{
	/* POSIX lets localtime_r skip reading TZ; tzset reads it, so the zone
	 * shown is the environment's as it is now. */
	if (local)
		tzset();
	time_local = local;
}

int ui_time_is_local(void)
{
	return time_local;
}

/* The label of tm's local zone: its abbreviation when short and plain
 * (TZ may hold anything), else its offset. */
static void zone_label(const struct tm *tm, char *buf, size_t n)
{
	char z[64];
	size_t len = strftime(z, sizeof(z), "%Z", tm);
	int plain = len > 0 && len <= ZONE_MAX;

	for (size_t i = 0; plain && i < len; i++)
		plain = (z[i] >= 'A' && z[i] <= 'Z') || (z[i] >= 'a' && z[i] <= 'z') ||
			(z[i] >= '0' && z[i] <= '9') || z[i] == '+' || z[i] == '-';
	if (!plain && !strftime(z, sizeof(z), "%z", tm))
		snprintf(z, sizeof(z), "local");
	snprintf(buf, n, "%s", z);
}

static int time_tm(int64_t t, struct tm *tm)
{
	time_t tt = (time_t)t;

	return (time_local ? localtime_r(&tt, tm) : gmtime_r(&tt, tm)) != NULL;
}

void ui_fmt_time(int64_t t, int with_zone, char *buf, size_t n)
{
	struct tm tm;
	size_t len;

	if (n == 0)
		return;
	if (!time_tm(t, &tm) || !(len = strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm))) {
		snprintf(buf, n, "%" PRId64, t);
		return;
	}
	if (with_zone) {
		char zone[ZONE_MAX + 1];

		if (time_local)
			zone_label(&tm, zone, sizeof(zone));
		else
			snprintf(zone, sizeof(zone), "UTC");
		snprintf(buf + len, n - len, " %s", zone);
	}
}

void ui_time_zone(char *buf, size_t n)
{
	struct tm tm;

	/* Now's label: a date in summer time still converts by its own rule
	 * (ui_fmt_time), only the heading names the zone as it is today. */
	if (time_local && time_tm(mw_now(), &tm))
		zone_label(&tm, buf, n);
	else
		snprintf(buf, n, "UTC");
}

/* ---- a type's status ---------------------------------------------------------- */

int64_t ui_throttle_left(const struct store_status *s)
{
	int64_t left = s->throttled_until - mw_now_ms();

	return left > 0 ? (left + 999) / 1000 : 0;
}

/* A type's status lines: the error with its remedy, the gateway's throttle,
 * the collector's warning or the silence rule's (home under the type's row,
 * the preview of a type that has no records). Each is wrapped in full: a
 * remedy cut mid-sentence hides the fix, and home counts these lines
 * (draw 0) to scroll its list. */
#define STATUS_MAX_LINES 1000  /* no limit: the store's fields bound them */

int ui_status_lines(const struct store_status *s, int api, const char *note, int width,
		    int draw, int y, int x)
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
		snprintf(buf, sizeof(buf), "%s%s%s%s", mc_class_label(c, api), code,
			 note && note[0] ? " " : "", note ? note : "");
		n += ui_wrap(buf, w, draw, y + n, x, STATUS_MAX_LINES, ROLE_ERROR);
		if (!note || note[0]) {
			ui_form_words(s->remedy[0] ? s->remedy : mc_class_remedy(c), buf, sizeof(buf));
			n += ui_wrap(buf, w - 2, draw, y + n, x + 2, STATUS_MAX_LINES, ROLE_NORMAL);
		}
	}
	if (!strcmp(s->state, "throttled") &&
	    !strncmp(s->remedy, "throttled by the API gateway", 28)) {
		/* The gateway gave no reset of its own: say whose wait it is,
		 * counting down live. */
		snprintf(buf, sizeof(buf), "throttled by the API gateway: next request in %" PRId64
			 "s (mimewatch backs off by itself)", ui_throttle_left(s));
		n += ui_wrap(buf, w, draw, y + n, x, STATUS_MAX_LINES, ROLE_WARNING);
	}
	/* The collector's own warning (clock skew, a horizon pulled back, a
	 * window cut short) before the silence rule's guess. */
	warn = s->warning[0] ? s->warning : status_silence_warning(s);
	if (warn)
		n += ui_wrap(warn, w, draw, y + n, x, STATUS_MAX_LINES, ROLE_WARNING);
	return n;
}
