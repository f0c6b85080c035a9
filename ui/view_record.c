/* view_record.c - one stored record in detail: where it came from, then every
 * field of the record; scalar values as text, nested values as indented JSON.
 * Long values wrap rather than being cut, so nothing of a record is hidden;
 * the screen scrolls with a cursor line. r shows the stored JSON instead,
 * / searches the lines shown (n, N), J and K step through the preview's
 * list, y copies the field under the cursor with OSC 52.
 *
 * Every key and value comes from Mimecast and so from attackers: the text is
 * sanitised (controls and bidi overrides shown as escapes, never
 * interpreted) before it is wrapped, and wrapping counts display columns and
 * never splits an escape. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wchar.h>

#include "jsonscan.h"
#include "logtypes.h"
#include "sanitize.h"
#include "store/store.h"
#include "ui.h"
#include "util.h"

#define CONT_INDENT 4           /* continuation lines of a wrapped value */
#define COPY_MAX (64 * 1024)    /* the most y sends: terminals cap OSC 52 near 100k */

/* A value y can copy: a field of the record (or of "Stored record"), raw. */
struct field {
	char *key;
	size_t key_len;
	char *val;              /* may hold NUL */
	size_t len;
};

/* A logical line: optional key, then text, at an indent. Raw UTF-8. */
struct rline {
	int indent;
	enum ui_role role;
	char *key;              /* NULL: none */
	size_t key_len;
	char *text;             /* may hold NUL: Mimecast strings are binary-safe */
	size_t len;
	int field;              /* the field the line shows (index in fields), -1 none */
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
	int field;              /* as its logical line's */
	size_t line;            /* its logical line (index in lines) */
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
	int cur;                /* the cursor's line in dl; -1 - n: logical line n,
				 * placed by refresh_lines */
	size_t home;            /* the logical line the cursor starts on */
	int width;              /* the lines' width at the last draw */
	int local;              /* the lines' times are in local time (ui_time_is_local) */
	int raw;                /* r: the stored JSON instead of the fields */
	struct field *fields;
	size_t nfields, fcap;
	int in_field;           /* while building: the field lines belong to, or -1 */
	int prompting;          /* / is being typed */
	struct ui_field field;
	char search[256];       /* "" none */
	struct ui_record_arg arg;
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
	l->field = r->in_field;
}

/* A field y may copy; the lines added until end_field show it. */
static void begin_field(struct record *r, const char *key, size_t key_len, const char *val,
			size_t len)
{
	struct field *f;

	if (r->nfields == r->fcap) {
		r->fcap = r->fcap ? 2 * r->fcap : 32;
		r->fields = mw_xrealloc(r->fields, r->fcap * sizeof(*r->fields));
	}
	f = &r->fields[r->nfields];
	f->key = dup_bytes(key, key_len);
	f->key_len = key_len;
	f->val = dup_bytes(val, len);
	f->len = len;
	r->in_field = (int)r->nfields++;
}

static void end_field(struct record *r)
{
	r->in_field = -1;
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

/* A line of "Stored record" that y copies as shown. */
static void add_copyable(struct record *r, enum ui_role role, const char *key, const char *text)
{
	begin_field(r, key, strlen(key), text, strlen(text));
	add_text(r, 2, role, key, text);
	end_field(r);
}

static void time_line(struct record *r, const char *key, int64_t t)
{
	char buf[64];

	if (t > 0) {
		ui_fmt_time(t, 1, buf, sizeof(buf));
		add_copyable(r, ROLE_NORMAL, key, buf);
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

/* The member whose key is at tok becomes the field its lines show: a
 * string's value decoded, anything else as the record holds it. */
static void field_begin_member(struct record *r, const js_doc *d, int tok)
{
	const js_tok *v = &d->toks[tok + 1];
	mw_buf key, val;

	mw_buf_init(&key);
	mw_buf_init(&val);
	js_str(d, tok, &key);
	if (v->type == JS_STRING)
		js_str(d, tok + 1, &val);
	else
		mw_buf_append(&val, d->buf + v->start, v->end - v->start);
	begin_field(r, key.data ? key.data : "", key.len, val.data ? val.data : "", val.len);
	mw_buf_free(&val);
	mw_buf_free(&key);
}

/* r: the stored record as pretty JSON, each top-level member's lines its field. */

/* Parses the stored record into d (js_init'ed); a record that is not valid
 * JSON is shown as stored instead, d freed, and -1 returned. */
static int parse_stored(struct record *r, js_doc *d)
{
	mw_err e;

	if (js_parse(d, r->json.data ? r->json.data : "", r->json.len, &e) == 0 && d->ntoks)
		return 0;
	add_text(r, 0, ROLE_ERROR, NULL, "The stored record is not valid JSON; as stored:");
	add_line(r, 2, ROLE_NORMAL, NULL, r->json.data ? r->json.data : "", r->json.len);
	js_free(d);
	return -1;
}
static void build_raw(struct record *r)
{
	js_doc d;
	char head[64];
	const js_tok *t;
	uint32_t k = 0;

	snprintf(head, sizeof(head), "Stored JSON (%zu bytes)", r->json.len);
	add_text(r, 0, ROLE_HEADING, NULL, head);
	js_init(&d);
	if (parse_stored(r, &d) < 0)
		return;
	t = &d.toks[0];
	if (t->type != JS_OBJECT || t->size == 0) {
		pretty(r, &d, 0, 2, "", 0, 0);
		js_free(&d);
		return;
	}
	add_text(r, 2, ROLE_NORMAL, NULL, "{");
	r->home = r->nlines;
	for (size_t i = 1; i < t->next; i = d.toks[i + 1].next, k++) {
		mw_buf key;

		mw_buf_init(&key);
		json_quoted(&d, (int)i, &key);
		mw_buf_puts(&key, ": ");
		field_begin_member(r, &d, (int)i);
		pretty(r, &d, (int)i + 1, 4, key.data, key.len, k + 1 < t->size);
		end_field(r);
		mw_buf_free(&key);
	}
	add_text(r, 2, ROLE_NORMAL, NULL, "}");
	js_free(&d);
}

static void build_fields(struct record *r)
{
	js_doc d;
	char head[64];

	js_init(&d);
	if (parse_stored(r, &d) < 0)
		return;
	if (d.toks[0].type != JS_OBJECT) {
		add_text(r, 0, ROLE_HEADING, NULL, "Record");
		pretty(r, &d, 0, 2, "", 0, 0);
		js_free(&d);
		return;
	}
	snprintf(head, sizeof(head), "Fields (%u)", (unsigned)d.toks[0].size);
	add_text(r, 0, ROLE_HEADING, NULL, head);
	r->home = r->nlines;
	for (size_t i = 1; i < d.toks[0].next; i = d.toks[i + 1].next) {
		const js_tok *v = &d.toks[i + 1];
		mw_buf key, b;

		mw_buf_init(&key);
		mw_buf_init(&b);
		js_str(&d, (int)i, &key);
		field_begin_member(r, &d, (int)i);
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
		end_field(r);
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
	r->in_field = -1;
	r->home = 0;
	if (r->raw) {
		build_raw(r);
		return;
	}
	add_text(r, 0, ROLE_HEADING, NULL, "Stored record");
	add_copyable(r, ROLE_NORMAL, "integration", r->integration);
	snprintf(buf, sizeof(buf), "%s (%s)", lt ? lt->label : r->type, r->type);
	add_text(r, 2, ROLE_NORMAL, "type", buf);
	add_copyable(r, ROLE_NORMAL, "id", r->id);
	time_line(r, "time", r->time);
	time_line(r, "collected", r->collected);
	snprintf(buf, sizeof(buf), "%" PRId64, r->rowid);
	add_copyable(r, ROLE_MUTED, "store row", buf);
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
	d->field = l->field;
	d->line = (size_t)(l - r->lines);
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
	for (size_t i = 0; i < r->nfields; i++) {
		free(r->fields[i].key);
		free(r->fields[i].val);
	}
	r->nfields = 0;
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

/* ---- loading --------------------------------------------------------------------------- */

/* Reads rowid and makes its lines; 1 done, 0 no longer stored, -1 error (e). */
static int load(struct record *r, int64_t rowid, mw_store *store, mw_err *e)
{
	int rc;

	free_dlines(r);
	free_lines(r);
	mw_buf_reset(&r->json);
	r->rowid = rowid;
	mw_err_clear(e);
	rc = store_get_row(store, rowid, take_row, r, e);
	if (rc <= 0)
		return rc;
	r->found = 1;
	build(r);
	r->wrap_width = -1;
	snprintf(r->title, sizeof(r->title), "%s %s %s record", r->integration,
		 ui_dot(), logtype_find(r->type) ? logtype_find(r->type)->label
								   : r->type);
	return 1;
}

/* The cursor starts on the record's first field (raw: the first line). */
static void cursor_home(struct record *r)
{
	r->top = 0;
	r->cur = -(int)r->home - 1;     /* a logical line: placed when wrapped */
}

/* The lines made again after T, and wrapped again for another width; the
 * cursor stays on its logical line (the first of its rows). */
static void refresh_lines(struct record *r)
{
	size_t logical;

	if (r->local != ui_time_is_local()) {
		/* T since the lines were made: their times again, in the new zone. */
		free_lines(r);
		build(r);
		r->wrap_width = -1;
	}
	if (r->width == r->wrap_width || r->width <= 0)
		return;
	logical = r->cur < 0 ? (size_t)(-r->cur - 1) :
		  r->cur < (int)r->ndl ? r->dl[r->cur].line : 0;
	wrap_all(r, r->width);
	r->cur = 0;
	for (size_t i = 0; i < r->ndl; i++) {
		if (r->dl[i].line == logical) {
			r->cur = (int)i;
			break;
		}
	}
}

/* ---- searching ---------------------------------------------------------------------------- */

/* Where needle is in hay (ASCII letters compared without case), or NULL. */
static const char *find_nocase(const char *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	if (!k || k > n)
		return NULL;
	for (size_t i = 0; i + k <= n; i++)
		if (strncasecmp(hay + i, needle, k) == 0)
			return hay + i;
	return NULL;
}

/* Whether display line i holds a match: its key does, or a match of its
 * logical line's text starts in it. A long value wraps over several
 * lines, and a term cut by the wrap is still found, on the line where it
 * starts. */
static int line_matches(const struct record *r, int i)
{
	const struct dline *d = &r->dl[i];
	size_t first = (size_t)i, last = (size_t)i, off = 0;
	mw_buf text;
	const char *m;
	int hit = 0;

	if (!r->search[0])
		return 0;
	if (d->key && find_nocase(d->key, d->key_len, r->search))
		return 1;
	while (first > 0 && r->dl[first - 1].line == d->line)
		first--;
	while (last + 1 < r->ndl && r->dl[last + 1].line == d->line)
		last++;
	if (first == last)
		return find_nocase(d->text, d->len, r->search) != NULL;
	mw_buf_init(&text);
	for (size_t j = first; j <= last; j++) {
		if (j == (size_t)i)
			off = text.len;
		mw_buf_append(&text, r->dl[j].text, r->dl[j].len);
	}
	for (m = text.data; !hit && (m = find_nocase(m, text.len - (size_t)(m - text.data),
						    r->search)); m++) {
		size_t at = (size_t)(m - text.data);

		if (at >= off + d->len)
			break;
		hit = at >= off;
	}
	mw_buf_free(&text);
	return hit;
}

/* The first matching line from `from` on in direction dir (wrapping), -1 none. */
static int next_match(const struct record *r, int from, int dir)
{
	int n = (int)r->ndl;

	for (int k = 0; k < n; k++) {
		int i = ((from + dir * k) % n + n) % n;

		if (line_matches(r, i))
			return i;
	}
	return -1;
}

static void keep_cursor_visible(struct record *r)
{
	if (r->cur >= (int)r->ndl)
		r->cur = (int)r->ndl - 1;
	if (r->cur < 0)
		r->cur = 0;
	if (r->cur < r->top)
		r->top = r->cur;
	if (r->cur >= r->top + r->height)
		r->top = r->cur - r->height + 1;
}

/* Moves the cursor to the match from `from` in dir and says which it is. */
static void go_match(struct record *r, struct ui_ctx *ctx, int from, int dir)
{
	int i = next_match(r, from, dir), k = 0, n = 0;

	if (i < 0) {
		ui_message(ctx, ROLE_WARNING, "no match for %s", r->search);
		return;
	}
	for (int j = 0; j < (int)r->ndl; j++) {
		if (line_matches(r, j)) {
			n++;
			if (j <= i)
				k++;
		}
	}
	r->cur = i;
	keep_cursor_visible(r);
	ui_message(ctx, ROLE_NORMAL, "match %d of %d", k, n);
}

/* ---- copying -------------------------------------------------------------------------------- */

/* Whether the terminal takes OSC 52, asked once: inside tmux, its
 * set-clipboard must be on (tmux ignores the sequence otherwise, whatever
 * its terminfo entry says); elsewhere terminfo's Ms capability. */
static int osc52_ok(void)
{
	static int known = -1;
	const char *tmux = getenv("TMUX");

	if (known >= 0)
		return known;
	known = 0;
	if (tmux && *tmux) {
		FILE *p = popen("tmux show -gv set-clipboard 2>/dev/null", "r");
		char line[32] = "";

		if (p) {
			if (!fgets(line, sizeof(line), p))
				line[0] = '\0';
			pclose(p);
		}
		known = strncmp(line, "on", 2) == 0 && (line[2] == '\n' || !line[2]);
	} else {
		const char *ms = tigetstr("Ms");

		known = ms && ms != (char *)-1;
	}
	return known;
}

/* A key naming a credential: its value is never copied. */
static int secret_key(const char *key)
{
	static const char *const words[] = {
		"secret", "password", "passwd", "token", "credential", "apikey", "api_key",
		"accesskey", "access_key", "authorization", "private",
	};
	char low[128];
	size_t n = 0;

	for (; key[n] && n + 1 < sizeof(low); n++)
		low[n] = (char)tolower((unsigned char)key[n]);
	low[n] = '\0';
	for (size_t i = 0; i < NELEM(words); i++)
		if (strstr(low, words[i]))
			return 1;
	return 0;
}

static int holds(const char *val, size_t len, const struct mw_secret *s)
{
	return s->value && *s->value && find_nocase(val, len, s->value);
}

/* Whether val holds one of the config's secrets (a record echoing a key). */
static int holds_config_secret(const struct ui_ctx *ctx, const char *val, size_t len)
{
	const struct mw_config *c = ctx->cfg;

	for (size_t i = 0; c && i < c->nintegrations; i++) {
		const struct mw_integration *in = &c->integrations[i];

		if (holds(val, len, &in->access_key) || holds(val, len, &in->secret_key) ||
		    holds(val, len, &in->client_secret))
			return 1;
	}
	for (size_t i = 0; c && i < c->noutputs; i++)
		if (holds(val, len, &c->outputs[i].token) ||
		    holds(val, len, &c->outputs[i].sasl_password))
			return 1;
	return 0;
}

static void base64(const unsigned char *in, size_t n, mw_buf *out)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		mw_buf_putc(out, tab[v >> 18 & 63]);
		mw_buf_putc(out, tab[v >> 12 & 63]);
		mw_buf_putc(out, i + 1 < n ? tab[v >> 6 & 63] : '=');
		mw_buf_putc(out, i + 2 < n ? tab[v & 63] : '=');
	}
}

/* y: the field under the cursor to the clipboard, as ESC ] 52 ; c ; BASE64
 * BEL written to the terminal between frames (ui_term_write). The value is copied as stored: the clipboard is
 * not a terminal, and the base64 carries no control to this one. */
static void copy_field(struct record *r, struct ui_ctx *ctx)
{
	const struct field *f;
	mw_buf seq, name;

	if (!r->ndl || r->dl[r->cur].field < 0) {
		ui_message(ctx, ROLE_WARNING, "copy: no field on this line");
		return;
	}
	f = &r->fields[r->dl[r->cur].field];
	mw_buf_init(&name);
	sanitize_display(&name, f->key, f->key_len, 40, ui_ascii);
	if (secret_key(name.data ? name.data : "") ||
	    holds_config_secret(ctx, f->val, f->len)) {
		ui_message(ctx, ROLE_WARNING, "copy: %s looks like a secret; not copied",
			   name.data ? name.data : "");
	} else if (f->len > COPY_MAX) {
		ui_message(ctx, ROLE_WARNING, "copy: %s is too long for the clipboard (%zu bytes, "
			   "at most %d)", name.data ? name.data : "", f->len, COPY_MAX);
	} else if (!osc52_ok()) {
		ui_message(ctx, ROLE_WARNING, "copy: this terminal does not take OSC 52 (in tmux: "
			   "set -g set-clipboard on)");
	} else {
		mw_buf_init(&seq);
		mw_buf_puts(&seq, "\033]52;c;");
		base64((const unsigned char *)f->val, f->len, &seq);
		mw_buf_putc(&seq, '\a');
		if (ui_term_write(seq.data, seq.len) < 0)
			ui_message(ctx, ROLE_ERROR, "copy: cannot write to the terminal");
		else
			ui_message(ctx, ROLE_NORMAL, "copied %s (%zu bytes)",
				   name.data ? name.data : "", f->len);
		mw_buf_free(&seq);
	}
	mw_buf_free(&name);
}

/* ---- ops ------------------------------------------------------------------------------ */

static int record_open(struct ui_view *v, void *arg)
{
	const struct ui_record_arg *a = arg;
	struct record *r;
	mw_err e;
	int rc;

	if (!a || !a->rowid || !v->ctx->store) {
		ui_message(v->ctx, ROLE_ERROR, "detail: no record chosen");
		return -1;
	}
	r = mw_xcalloc(1, sizeof(*r));
	r->arg = *a;
	mw_buf_init(&r->json);
	rc = load(r, a->rowid, v->ctx->store, &e);
	if (rc <= 0) {
		if (rc == 0)
			ui_message(v->ctx, ROLE_WARNING, "that record is no longer stored (retention, "
				   "max_store or keep_delivered removed it)");
		else
			ui_message(v->ctx, ROLE_ERROR, "%s", e.msg);
		mw_buf_free(&r->json);
		free(r);
		return -1;
	}
	cursor_home(r);
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
	free(r->fields);
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

/* The line's text from x, with the search's matches in ROLE_MATCH. */
static int draw_found(const struct record *r, int y, int x, int room, enum ui_role role,
		      const char *s, size_t n)
{
	int used = 0;
	const char *m;

	while (r->search[0] && room - used > 0 && (m = find_nocase(s, n, r->search))) {
		size_t k = strlen(r->search);

		used += ui_text(y, x + used, room - used, role, s, (size_t)(m - s));
		used += ui_text(y, x + used, room - used, ROLE_MATCH, m, k);
		n -= (size_t)(m - s) + k;
		s = m + k;
	}
	if (room - used > 0)
		used += ui_text(y, x + used, room - used, role, s, n);
	return used;
}

static void record_draw(struct ui_view *v, int y0, int x0, int height, int width)
{
	struct record *r = v->priv;
	char pos[96];
	int body = height - 1 - (r->prompting ? 1 : 0), plen;

	r->width = width - 2;
	refresh_lines(r);
	r->height = body > 1 ? body : 1;
	keep_cursor_visible(r);
	clamp_top(r);
	plen = snprintf(pos, sizeof(pos), "lines %d-%d of %zu", r->ndl ? r->top + 1 : 0,
			r->top + r->height < (int)r->ndl ? r->top + r->height : (int)r->ndl,
			r->ndl);
	ui_text(y0, x0 + 1, width - plen - 3, ROLE_HEADING, r->title, strlen(r->title));
	if (plen < width - 2)
		ui_text(y0, x0 + width - 1 - plen, plen, ROLE_MUTED, pos, (size_t)plen);
	for (int i = 0; i < r->height && r->top + i < (int)r->ndl; i++) {
		const struct dline *d = &r->dl[r->top + i];
		int x = x0 + 1 + d->indent, room = width - 2 - d->indent, y = y0 + 1 + i;
		int sel = r->top + i == r->cur;
		enum ui_role role = sel ? ROLE_SELECTION : d->role;

		if (sel) {
			attrset(ui_attr(ROLE_SELECTION));
			mvhline(y, x0, ' ', width);
			attrset(A_NORMAL);
			ui_text(y, x0, 1, ROLE_SELECTION, ">", 1);
		}
		if (d->is_key) {
			int k = draw_found(r, y, x, room, sel ? ROLE_SELECTION : ROLE_KEY, d->key,
					   d->key_len);

			x += k;
			room -= k;
		}
		draw_found(r, y, x, room, role, d->text, d->len);
	}
	if (r->prompting) {
		int used = 1 + ui_text(y0 + height - 1, x0 + 1, width - 2, ROLE_KEY, "Search: ", 8);

		ui_field_draw(&r->field, y0 + height - 1, x0 + used, width - used - 1, 1);
	}
}

/* J, K: the neighbouring record of the preview's list, in the same view. */
static void step(struct record *r, struct ui_ctx *ctx, int dir)
{
	int64_t next;
	mw_err e;
	int rc;

	next = r->arg.step ? r->arg.step(ctx, r->arg.list, r->rowid, dir) : 0;
	if (!next) {
		ui_message(ctx, ROLE_MUTED, "%s", dir > 0 ? "no older record" : "no newer record");
		return;
	}
	rc = load(r, next, ctx->store, &e);
	if (rc <= 0) {
		if (rc == 0)
			ui_message(ctx, ROLE_WARNING, "that record is no longer stored (retention, "
				   "max_store or keep_delivered removed it)");
		else
			ui_message(ctx, ROLE_ERROR, "%s", e.msg);
		return;
	}
	cursor_home(r);
	ui_message(ctx, ROLE_NORMAL, "%s", "");
}

static int record_action(struct ui_view *v, enum ui_action a)
{
	struct record *r = v->priv;
	struct ui_ctx *ctx = v->ctx;
	int page = r->height > 1 ? r->height - 1 : 1;

	refresh_lines(r);
	switch (a) {
	case ACT_UP: r->cur--; break;
	case ACT_DOWN: r->cur++; break;
	case ACT_PAGE_UP: r->top -= page; r->cur -= page; break;
	case ACT_PAGE_DOWN: r->top += page; r->cur += page; break;
	case ACT_FIRST: r->top = 0; r->cur = 0; break;
	case ACT_LAST: r->top = (int)r->ndl; r->cur = (int)r->ndl - 1; break;
	case ACT_ENTER: return 1;
	case ACT_FILTER:
		memset(&r->field, 0, sizeof(r->field));
		mw_strlcpy(r->field.buf, r->search, sizeof(r->field.buf));
		r->field.len = r->field.cur = strlen(r->field.buf);
		r->prompting = 1;
		return 1;
	case ACT_MATCH_NEXT:
	case ACT_MATCH_PREV:
		if (!r->search[0])
			ui_message(ctx, ROLE_MUTED, "no search: / searches");
		else
			go_match(r, ctx, r->cur + (a == ACT_MATCH_NEXT ? 1 : -1),
				 a == ACT_MATCH_NEXT ? 1 : -1);
		return 1;
	case ACT_OLDER: step(r, ctx, 1); return 1;
	case ACT_NEWER: step(r, ctx, -1); return 1;
	case ACT_RAW:
		r->raw = !r->raw;
		free_dlines(r);
		free_lines(r);
		build(r);
		r->wrap_width = -1;
		cursor_home(r);
		return 1;
	case ACT_COPY: copy_field(r, ctx); return 1;
	default: return 0;
	}
	clamp_top(r);
	if (r->cur >= (int)r->ndl)
		r->cur = (int)r->ndl - 1;
	if (r->cur < 0)
		r->cur = 0;
	/* The page keys move the page; Up and Down the cursor, the page following. */
	if (r->cur < r->top)
		r->cur = a == ACT_UP ? r->cur : r->top;
	if (r->cur >= r->top + r->height)
		r->cur = a == ACT_DOWN ? r->cur : r->top + r->height - 1;
	keep_cursor_visible(r);
	return 1;
}

static int record_input(struct ui_view *v, wint_t ch, int is_key)
{
	struct record *r = v->priv;
	int enter = (!is_key && (ch == '\r' || ch == '\n')) || (is_key && ch == KEY_ENTER);

	refresh_lines(r);
	if (!r->prompting) {
		/* Esc clears a search before it goes back (q always goes back). */
		if (!is_key && ch == 27 && r->search[0]) {
			r->search[0] = '\0';
			ui_message(v->ctx, ROLE_NORMAL, "%s", "");
			return 1;
		}
		return 0;
	}
	if (!is_key && ch == 27) {
		r->prompting = 0;
		return 1;
	}
	if (enter) {
		r->prompting = 0;
		r->field.buf[r->field.len] = '\0';
		mw_strlcpy(r->search, r->field.buf, sizeof(r->search));
		if (r->search[0])
			go_match(r, v->ctx, r->top, 1);
		return 1;
	}
	ui_field_input(&r->field, ch, is_key);
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
	.input = record_input,
	.title = record_title,
};
