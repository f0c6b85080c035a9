/* sanitize.c - attacker-controlled text made safe for a terminal.
 *
 * The text is cut into display units: one character with its width, or the
 * visible escape standing for a control. Escapes are ASCII and atomic, so a
 * cut never leaves half of "\x1b" or half of a wide character on screen.
 *
 * Rules, in order:
 *   TAB CR LF                  -> \t \r \n
 *   other C0, DEL, C1          -> \xHH (lower-case hex of the code point)
 *   bidi controls U+061C, U+200E/F, U+202A-202E, U+2066-2069, zero-width
 *   U+200B-200D, U+2060, U+FEFF, and U+2028/U+2029 (line breaks to some
 *   terminals)               -> <U+XXXX>
 *   these escapes are ASCII, so they are kept when ascii=1 as well;
 *   ascii=1: any other non-ASCII character (and invalid UTF-8) -> '?'
 *   invalid UTF-8              -> U+FFFD (one per maximal bad sequence)
 *   wcwidth() < 0 (unassigned or unprintable in the locale) -> <U+XXXX>
 *   wcwidth() == 0 (combining) -> kept, at most 4 after one base character;
 *                                 with no base before it in the string,
 *                                 <U+XXXX> (else the terminal puts it on
 *                                 the cell before: another column's)
 *   otherwise the character, wcwidth() columns. */
#include "sanitize.h"
#include "jsonscan.h"

#include <stdio.h>
#include <string.h>
#include <wchar.h>

#define MAX_MARKS 4

struct unit {
	char text[16];
	size_t len;
	int cols;
	int mark; /* zero-width combining character */
	uint32_t cp;
};

static int is_invisible_control(uint32_t cp)
{
	return cp == 0x061C || (cp >= 0x200B && cp <= 0x200F) ||
	       (cp >= 0x2028 && cp <= 0x202E) || cp == 0x2060 ||
	       (cp >= 0x2066 && cp <= 0x2069) || cp == 0xFEFF;
}

static void unit_escape_cp(struct unit *u, uint32_t cp)
{
	int n = snprintf(u->text, sizeof(u->text), "<U+%04X>", (unsigned)cp);

	u->len = (size_t)n;
	u->cols = n;
}

/* Decodes the next unit at *pp. */
static void next_unit(const unsigned char **pp, const unsigned char *end, int ascii,
		      struct unit *u)
{
	const unsigned char *p = *pp;
	uint32_t cp;
	size_t n = js_utf8_decode(p, end, &cp);
	int w;

	*pp = p + n;
	u->mark = 0;
	u->cp = cp;
	if (cp == '\t' || cp == '\r' || cp == '\n') {
		u->text[0] = '\\';
		u->text[1] = cp == '\t' ? 't' : cp == '\r' ? 'r' : 'n';
		u->len = 2;
		u->cols = 2;
		return;
	}
	if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) {
		static const char hx[] = "0123456789abcdef";

		u->text[0] = '\\';
		u->text[1] = 'x';
		u->text[2] = hx[cp >> 4];
		u->text[3] = hx[cp & 0xF];
		u->len = 4;
		u->cols = 4;
		return;
	}
	if (cp < 0x80) {
		u->text[0] = (char)cp;
		u->len = 1;
		u->cols = 1;
		return;
	}
	if (cp != JS_CP_INVALID && is_invisible_control(cp)) {
		unit_escape_cp(u, cp);
		return;
	}
	if (ascii) {
		u->text[0] = '?';
		u->len = 1;
		u->cols = 1;
		return;
	}
	if (cp == JS_CP_INVALID) {
		memcpy(u->text, "\xEF\xBF\xBD", 3);
		u->len = 3;
		u->cols = 1;
		return;
	}
	w = wcwidth((wchar_t)cp);
	if (w < 0) {
		unit_escape_cp(u, cp);
		return;
	}
	memcpy(u->text, p, n); /* valid UTF-8: copy as is */
	u->len = n;
	u->cols = w;
	u->mark = w == 0;
}

int sanitize_display(mw_buf *out, const char *s, size_t n, int max_cols, int ascii)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	size_t cut_len = out->len;
	int used = 0, cut_used = 0, marks = 0, based = 0;
	/* The mark of a cut: an ellipsis, or in ASCII as many of "..." as
	 * fit (a lone "~" read as a home directory). */
	int mark = ascii ? (max_cols < 3 ? max_cols : 3) : 1;

	if (max_cols == 0)
		return 0;
	while (p < end) {
		struct unit u;

		next_unit(&p, end, ascii, &u);
		if (u.mark && !based) {
			unit_escape_cp(&u, u.cp);
			u.mark = 0;
		}
		if (u.mark) {
			/* a flood of combining marks would stack without
			 * end on one cell; keep a few, drop the rest */
			if (marks >= MAX_MARKS)
				continue;
			marks++;
		} else {
			marks = 0;
			based = 1;
		}
		if (max_cols > 0 && used + u.cols > max_cols) {
			/* go back to the last point that leaves a column
			 * for the ellipsis */
			out->len = cut_len;
			if (out->data)
				out->data[out->len] = '\0';
			if (ascii)
				mw_buf_append(out, "...", (size_t)mark);
			else
				mw_buf_append(out, "\xE2\x80\xA6", 3);
			return cut_used + mark;
		}
		mw_buf_append(out, u.text, u.len);
		used += u.cols;
		if (max_cols < 0 || used <= max_cols - mark) {
			cut_len = out->len;
			cut_used = used;
		}
	}
	return used;
}

const char *sanitize_text(mw_buf *out, const char *s)
{
	mw_buf_reset(out);
	mw_buf_append(out, "", 0);   /* allocated and terminated even when empty */
	if (s)
		sanitize_display(out, s, strlen(s), -1, 0);
	return out->data;
}

int sanitize_width(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	int cols = 0, based = 0;

	while (p < end) {
		struct unit u;

		next_unit(&p, end, 0, &u);
		if (u.mark && !based) {
			unit_escape_cp(&u, u.cp);  /* as sanitize_display shows it */
			u.mark = 0;
		}
		based |= !u.mark;
		cols += u.cols;
	}
	return cols;
}
