/* view_record.c - one stored record in detail: where it came from, then every
 * field of the record; scalar values as text, nested values as indented JSON.
 * Long values wrap rather than being cut, so nothing of a record is hidden;
 * the screen scrolls.
 *
 * Every key and value comes from Mimecast and so from attackers: the text is
 * sanitised (controls and bidi overrides shown as escapes, never
 * interpreted) before it is wrapped, and wrapping counts display columns and
 * never splits an escape. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "jsonscan.h"
#include "logtypes.h"
#include "sanitize.h"
#include "store/store.h"
#include "ui.h"
#include "util.h"

#define CONT_INDENT 4           /* continuation lines of a wrapped value */

/* A logical line: optional key, then text, at an indent. Raw UTF-8. */
struct rline {
	int indent;
	enum ui_role role;
	char *key;              /* NULL: none */
	size_t key_len;
	char *text;             /* may hold NUL: Mimecast strings are binary-safe */
	size_t len;
};

/* A line on screen after wrapping: sanitised text. */
struct dline {
	int indent;
	enum ui_role role;
	int is_key;             /* the key part of a logical line */
	char *text;
	size_t len;
	int key_cols;           /* columns of the key (and ": ") drawn before text */
	char *key;
	size_t key_len;
};

struct record {
	int64_t rowid;
	int found;
	char title[192];
	struct rline *lines;
	size_t nlines, cap;
	struct dline *dl;
	size_t ndl, dcap;
	int wrap_width;
	int top, height;
	int local;              /* the lines' times are in local time (ui_time_is_local) */
	/* filled by the store callback */
	mw_buf json;
	char integration[64], type[16], id[256];
	int64_t time, collected;
};

static char *dup_bytes(const char *p, size_t n)
{
	char *d = mw_xmalloc(n + 1);

	if (n)
		memcpy(d, p, n);
	d[n] = '\0';
	return d;
}

static void add_kline(struct record *r, int indent, enum ui_role role, const char *key,
		      size_t key_len, const char *text, size_t len)
{
	struct rline *l;

	if (r->nlines == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 64;
		r->lines = mw_xrealloc(r->lines, r->cap * sizeof(*r->lines));
	}
	l = &r->lines[r->nlines++];
	l->indent = indent;
	l->role = role;
	l->key = key ? dup_bytes(key, key_len) : NULL;
	l->key_len = key ? key_len : 0;
	l->text = dup_bytes(text ? text : "", len);
	l->len = len;
}

static void add_line(struct record *r, int indent, enum ui_role role, const char *key,
		     const char *text, size_t len)
{
	add_kline(r, indent, role, key, key ? strlen(key) : 0, text, len);
}

static void add_text(struct record *r, int indent, enum ui_role role, const char *key,
		     const char *text)
{
	add_line(r, indent, role, key, text, strlen(text));
}

static void time_line(struct record *r, const char *key, int64_t t)
{
	char buf[64];

	if (t > 0) {
		ui_fmt_time(t, 1, buf, sizeof(buf));
		add_text(r, 2, ROLE_NORMAL, key, buf);
	} else {
		add_text(r, 2, ROLE_MUTED, key, "unknown");
	}
}

/* ---- building the lines ------------------------------------------------------- */

/* A string as JSON would write it, with controls left for the sanitiser to
 * show: only the quote and the backslash need escaping to read right. */
static void json_quoted(const js_doc *d, int tok, mw_buf *out)
{
	mw_buf raw;

	mw_buf_init(&raw);
	js_str(d, tok, &raw);
	mw_buf_putc(out, '"');
	for (size_t i = 0; i < raw.len; i++) {
		if (raw.data[i] == '"' || raw.data[i] == '\\')
			mw_buf_putc(out, '\\');
		mw_buf_putc(out, raw.data[i]);
	}
	mw_buf_putc(out, '"');
	mw_buf_free(&raw);
}

static void scalar_text(const js_doc *d, int tok, mw_buf *out, int quoted)
{
	const js_tok *t = &d->toks[tok];

	if (t->type == JS_STRING) {
		if (quoted)
			json_quoted(d, tok, out);
		else
			js_str(d, tok, out);
	} else {
		mw_buf_append(out, d->buf + t->start, t->end - t->start);
	}
}

/* Pretty JSON of the value at tok, one element per line, two columns a level. */
static void pretty(struct record *r, const js_doc *d, int tok, int indent, const char *prefix,
		   size_t plen, int comma)
{
	const js_tok *t = &d->toks[tok];
	mw_buf b;

	mw_buf_init(&b);
	mw_buf_append(&b, prefix, plen);
	if (t->type != JS_OBJECT && t->type != JS_ARRAY) {
		scalar_text(d, tok, &b, 1);
		if (comma)
			mw_buf_putc(&b, ',');
		add_line(r, indent, ROLE_NORMAL, NULL, b.data, b.len);
		mw_buf_free(&b);
		return;
	}
	if (t->size == 0) {
		mw_buf_puts(&b, t->type == JS_OBJECT ? "{}" : "[]");
		if (comma)
			mw_buf_putc(&b, ',');
		add_line(r, indent, ROLE_NORMAL, NULL, b.data, b.len);
		mw_buf_free(&b);
		return;
	}
	mw_buf_putc(&b, t->type == JS_OBJECT ? '{' : '[');
	add_line(r, indent, ROLE_NORMAL, NULL, b.data, b.len);
	if (t->type == JS_OBJECT) {
		uint32_t k = 0;

		for (size_t i = (size_t)tok + 1; i < t->next; i = d->toks[i + 1].next, k++) {
			mw_buf key;

			mw_buf_init(&key);
			json_quoted(d, (int)i, &key);
			mw_buf_puts(&key, ": ");
			pretty(r, d, (int)i + 1, indent + 2, key.data, key.len, k + 1 < t->size);
			mw_buf_free(&key);
		}
	} else {
		uint32_t k = 0;

		for (size_t i = (size_t)tok + 1; i < t->next; i = d->toks[i].next, k++)
			pretty(r, d, (int)i, indent + 2, "", 0, k + 1 < t->size);
	}
	mw_buf_reset(&b);
	mw_buf_putc(&b, t->type == JS_OBJECT ? '}' : ']');
	if (comma)
		mw_buf_putc(&b, ',');
	add_line(r, indent, ROLE_NORMAL, NULL, b.data, b.len);
	mw_buf_free(&b);
}

static void build_fields(struct record *r)
{
	js_doc d;
	mw_err e;
	char head[64];

	js_init(&d);
	if (js_parse(&d, r->json.data ? r->json.data : "", r->json.len, &e) < 0 || !d.ntoks) {
		add_text(r, 0, ROLE_ERROR, NULL, "The stored record is not valid JSON; as stored:");
		add_line(r, 2, ROLE_NORMAL, NULL, r->json.data ? r->json.data : "", r->json.len);
		js_free(&d);
		return;
	}
	if (d.toks[0].type != JS_OBJECT) {
		add_text(r, 0, ROLE_HEADING, NULL, "Record");
		pretty(r, &d, 0, 2, "", 0, 0);
		js_free(&d);
		return;
	}
	snprintf(head, sizeof(head), "Fields (%u)", (unsigned)d.toks[0].size);
	add_text(r, 0, ROLE_HEADING, NULL, head);
	for (size_t i = 1; i < d.toks[0].next; i = d.toks[i + 1].next) {
		const js_tok *v = &d.toks[i + 1];
		mw_buf key, b;

		mw_buf_init(&key);
		mw_buf_init(&b);
		js_str(&d, (int)i, &key);
		if ((v->type == JS_OBJECT || v->type == JS_ARRAY) && v->size > 0) {
			add_kline(r, 2, ROLE_KEY, key.data ? key.data : "", key.len, "", 0);
			pretty(r, &d, (int)i + 1, 2 + CONT_INDENT, "", 0, 0);
		} else {
			if (v->type == JS_OBJECT || v->type == JS_ARRAY)
				mw_buf_puts(&b, v->type == JS_OBJECT ? "{}" : "[]");
			else
				scalar_text(&d, (int)i + 1, &b, 0);
			add_kline(r, 2, ROLE_NORMAL, key.data ? key.data : "", key.len,
				  b.data ? b.data : "", b.len);
		}
		mw_buf_free(&b);
		mw_buf_free(&key);
	}
	js_free(&d);
}

static int take_row(const struct store_row *row, void *ctx)
{
	struct record *r = ctx;

	mw_strlcpy(r->integration, row->integration, sizeof(r->integration));
	mw_strlcpy(r->type, row->type, sizeof(r->type));
	mw_strlcpy(r->id, row->id, sizeof(r->id));
	r->time = row->time;
	r->collected = row->collected;
	mw_buf_append(&r->json, row->json, row->json_len);
	return 0;
}

static void build(struct record *r)
{
	const struct mw_logtype *lt = logtype_find(r->type);
	char buf[128];

	r->local = ui_time_is_local();
	add_text(r, 0, ROLE_HEADING, NULL, "Stored record");
	add_text(r, 2, ROLE_NORMAL, "integration", r->integration);
	snprintf(buf, sizeof(buf), "%s (%s)", lt ? lt->label : r->type, r->type);
	add_text(r, 2, ROLE_NORMAL, "type", buf);
	add_text(r, 2, ROLE_NORMAL, "id", r->id);
	time_line(r, "time", r->time);
	time_line(r, "collected", r->collected);
	snprintf(buf, sizeof(buf), "%" PRId64, r->rowid);
	add_text(r, 2, ROLE_MUTED, "store row", buf);
	add_text(r, 0, ROLE_NORMAL, NULL, "");
	build_fields(r);
}

/* ---- wrapping ------------------------------------------------------------------- */

/* Length in bytes and columns of the display unit at p: an escape the
 * sanitiser wrote ("\x1b", "\n", "<U+202E>") is one unit, so a wrap never
 * splits it; otherwise one character. */
static size_t unit_at(const char *p, const char *end, int *cols)
{
	size_t left = (size_t)(end - p);
	uint32_t cp;
	size_t n;
	int w;

	if (p[0] == '\\' && left >= 4 && p[1] == 'x') {
		*cols = 4;
		return 4;
	}
	if (p[0] == '\\' && left >= 2 && strchr("trn", p[1])) {
		*cols = 2;
		return 2;
	}
	if (p[0] == '<' && left >= 8 && p[1] == 'U' && p[2] == '+') {
		const char *gt = memchr(p, '>', left < 12 ? left : 12);

		if (gt) {
			*cols = (int)(gt - p + 1);
			return (size_t)(gt - p + 1);
		}
	}
	n = js_utf8_decode((const unsigned char *)p, (const unsigned char *)end, &cp);
	w = cp < 0x80 ? 1 : wcwidth((wchar_t)cp);
	*cols = w < 0 ? 1 : w;
	return n;
}

static void add_dline(struct record *r, const struct rline *l, int indent, const char *text,
		      size_t len, int first)
{
	struct dline *d;

	if (r->ndl == r->dcap) {
		r->dcap = r->dcap ? 2 * r->dcap : 128;
		r->dl = mw_xrealloc(r->dl, r->dcap * sizeof(*r->dl));
	}
	d = &r->dl[r->ndl++];
	memset(d, 0, sizeof(*d));
	d->indent = indent;
	d->role = l->role;
	d->text = mw_xstrndup(text, len);
	d->len = len;
	if (first && l->key) {
		mw_buf kb;

		mw_buf_init(&kb);
		sanitize_display(&kb, l->key, l->key_len, -1, ui_ascii);
		mw_buf_puts(&kb, ": ");
		d->key_cols = sanitize_width(kb.data, kb.len);
		d->key = mw_xstrndup(kb.data, kb.len);
		d->key_len = kb.len;
		d->is_key = 1;
		mw_buf_free(&kb);
	}
}

static void free_dlines(struct record *r)
{
	for (size_t i = 0; i < r->ndl; i++) {
		free(r->dl[i].text);
		free(r->dl[i].key);
	}
	r->ndl = 0;
}

static void free_lines(struct record *r)
{
	for (size_t i = 0; i < r->nlines; i++) {
		free(r->lines[i].key);
		free(r->lines[i].text);
	}
	r->nlines = 0;
}

static void wrap_all(struct record *r, int width)
{
	mw_buf s;

	free_dlines(r);
	mw_buf_init(&s);
	for (size_t i = 0; i < r->nlines; i++) {
		const struct rline *l = &r->lines[i];
		const char *p, *end, *start;
		int first = 1, room, used = 0, key_cols = 0;

		mw_buf_reset(&s);
		sanitize_display(&s, l->text, l->len, -1, ui_ascii);
		if (l->key) {
			mw_buf kb;

			mw_buf_init(&kb);
			sanitize_display(&kb, l->key, l->key_len, -1, ui_ascii);
			key_cols = sanitize_width(kb.data, kb.len) + 2;
			mw_buf_free(&kb);
		}
		p = start = s.data ? s.data : "";
		end = p + s.len;
		room = width - l->indent - key_cols;
		/* A key too long for the line leaves its value for the next. */
		if (room < 8) {
			add_dline(r, l, l->indent, "", 0, 1);
			first = 0;
			room = width - l->indent - CONT_INDENT;
		}
		if (room < 1)
			room = 1;
		while (p < end) {
			int cols;
			size_t n = unit_at(p, end, &cols);

			if (used + cols > room && p > start) {
				add_dline(r, l, first ? l->indent : l->indent + CONT_INDENT, start,
					  (size_t)(p - start), first);
				first = 0;
				start = p;
				used = 0;
				room = width - l->indent - CONT_INDENT;
				if (room < 1)
					room = 1;
			}
			used += cols;
			p += n;
		}
		if (p > start || first)
			add_dline(r, l, first ? l->indent : l->indent + CONT_INDENT, start,
				  (size_t)(p - start), first);
	}
	mw_buf_free(&s);
	r->wrap_width = width;
}

/* ---- ops ------------------------------------------------------------------------------ */

static int record_open(struct ui_view *v, void *arg)
{
	const int64_t *rowid = arg;
	struct record *r;
	mw_err e;
	int rc;

	if (!rowid || !v->ctx->store) {
		ui_message(v->ctx, ROLE_ERROR, "detail: no record chosen");
		return -1;
	}
	r = mw_xcalloc(1, sizeof(*r));
	r->rowid = *rowid;
	mw_buf_init(&r->json);
	mw_err_clear(&e);
	rc = store_get_row(v->ctx->store, r->rowid, take_row, r, &e);
	if (rc <= 0) {
		if (rc == 0)
			ui_message(v->ctx, ROLE_WARNING, "that record is no longer stored (retention "
				   "removed it)");
		else
			ui_message(v->ctx, ROLE_ERROR, "%s", e.msg);
		mw_buf_free(&r->json);
		free(r);
		return -1;
	}
	r->found = 1;
	build(r);
	snprintf(r->title, sizeof(r->title), "%s %s %s record", r->integration,
		 ui_dot(), logtype_find(r->type) ? logtype_find(r->type)->label
								   : r->type);
	v->priv = r;
	return 0;
}

static void record_close(struct ui_view *v)
{
	struct record *r = v->priv;

	if (!r)
		return;
	free_dlines(r);
	free(r->dl);
	free_lines(r);
	free(r->lines);
	mw_buf_free(&r->json);
	free(r);
	v->priv = NULL;
}

static void clamp_top(struct record *r)
{
	int max = (int)r->ndl - r->height;

	if (r->top > max)
		r->top = max;
	if (r->top < 0)
		r->top = 0;
}

static void record_draw(struct ui_view *v, int y0, int x0, int height, int width)
{
	struct record *r = v->priv;
	char pos[96];
	int body = height - 1, plen;

	if (r->local != ui_time_is_local()) {
		/* T since the lines were made: their times again, in the new zone. */
		free_lines(r);
		build(r);
		r->wrap_width = -1;
	}
	if (width - 2 != r->wrap_width)
		wrap_all(r, width - 2);
	r->height = body > 1 ? body : 1;
	clamp_top(r);
	plen = snprintf(pos, sizeof(pos), "lines %d-%d of %zu", r->ndl ? r->top + 1 : 0,
			r->top + r->height < (int)r->ndl ? r->top + r->height : (int)r->ndl,
			r->ndl);
	ui_text(y0, x0 + 1, width - plen - 3, ROLE_HEADING, r->title, strlen(r->title));
	if (plen < width - 2)
		ui_text(y0, x0 + width - 1 - plen, plen, ROLE_MUTED, pos, (size_t)plen);
	for (int i = 0; i < r->height && r->top + i < (int)r->ndl; i++) {
		const struct dline *d = &r->dl[r->top + i];
		int x = x0 + 1 + d->indent, room = width - 2 - d->indent;

		if (d->is_key) {
			int k = ui_text(y0 + 1 + i, x, room, ROLE_KEY, d->key, d->key_len);

			x += k;
			room -= k;
		}
		ui_text(y0 + 1 + i, x, room, d->role, d->text, d->len);
	}
}

static int record_action(struct ui_view *v, enum ui_action a)
{
	struct record *r = v->priv;
	int page = r->height > 1 ? r->height - 1 : 1;

	switch (a) {
	case ACT_UP: r->top--; break;
	case ACT_DOWN: r->top++; break;
	case ACT_PAGE_UP: r->top -= page; break;
	case ACT_PAGE_DOWN: r->top += page; break;
	case ACT_FIRST: r->top = 0; break;
	case ACT_LAST: r->top = (int)r->ndl; break;
	case ACT_ENTER: return 1;
	default: return 0;
	}
	clamp_top(r);
	return 1;
}

static const char *record_title(struct ui_view *v)
{
	struct record *r = v->priv;

	return r ? r->title : "record";
}

const struct ui_view_ops view_record = {
	.name = "record",
	.open = record_open,
	.close = record_close,
	.draw = record_draw,
	.action = record_action,
	.title = record_title,
};
