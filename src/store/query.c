/* store/query.c - reading records for the console's preview: pages older
 * or newer than a row, filtered by type, threat and a case-folded text
 * match over the record's string values. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1  /* flock, pread, O_NOFOLLOW, gmtime_r alongside -std=c11 */
#endif
#include "private.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "jsonscan.h"
#include "logtypes.h"

/* ---- reading records for the console's preview ------------------------------ */

/* Simple case folding, enough for what administrators type: ASCII, Latin-1,
 * Latin Extended-A, Greek and Cyrillic capitals map to their small letters.
 * No character outside ASCII folds into ASCII (U+0130 and U+212A stay), which
 * is what lets an ASCII filter skip records by their raw bytes. */
static uint32_t fold_cp(uint32_t c)
{
	if (c < 0x80)
		return c >= 'A' && c <= 'Z' ? c + 32 : c;
	if (c >= 0xC0 && c <= 0xDE && c != 0xD7)
		return c + 32;
	if ((c >= 0x100 && c <= 0x12F) || (c >= 0x132 && c <= 0x137) ||
	    (c >= 0x14A && c <= 0x177))
		return c | 1;
	if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
		return (c & 1) ? c + 1 : c;
	if (c == 0x178)
		return 0xFF;
	if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2)
		return c + 32;
	if (c == 0x386)
		return 0x3AC;
	if (c >= 0x388 && c <= 0x38A)
		return c + 37;
	if (c == 0x38C)
		return 0x3CC;
	if (c == 0x38E || c == 0x38F)
		return c + 63;
	if (c >= 0x410 && c <= 0x42F)
		return c + 32;
	if (c >= 0x400 && c <= 0x40F)
		return c + 80;
	return c;
}

static void fold_append(mw_buf *out, uint32_t cp)
{
	char enc[4];

	if (cp == JS_CP_INVALID)
		cp = 0xFFFD;
	mw_buf_append(out, enc, js_utf8_encode(fold_cp(cp), enc));
}

/* A compiled text filter, reused across the rows of one scan. */
struct matcher {
	mw_buf needle;          /* folded UTF-8 */
	int ascii;              /* the needle is printable ASCII: raw prefilter */
	js_doc doc;
	mw_buf value;           /* a string value, decoded and folded */
};

static void matcher_init(struct matcher *m, const char *text)
{
	const unsigned char *p = (const unsigned char *)text, *end = p + strlen(text);

	mw_buf_init(&m->needle);
	mw_buf_init(&m->value);
	js_init(&m->doc);
	m->ascii = 1;
	while (p < end) {
		uint32_t cp;

		p += js_utf8_decode(p, end, &cp);
		if (cp < 0x20 || cp >= 0x7F)
			m->ascii = 0;
		fold_append(&m->needle, cp);
	}
}

static void matcher_free(struct matcher *m)
{
	mw_buf_free(&m->needle);
	mw_buf_free(&m->value);
	js_free(&m->doc);
}

/* Case-insensitive (ASCII) search of a lower-case ASCII needle. */
static int ascii_ci_find(const char *h, size_t hn, const char *n, size_t nn)
{
	if (nn == 0)
		return 1;
	for (size_t i = 0; i + nn <= hn; i++) {
		size_t k = 0;

		while (k < nn) {
			unsigned char c = (unsigned char)h[i + k];
			if (c >= 'A' && c <= 'Z')
				c = (unsigned char)(c + 32);
			if (c != (unsigned char)n[k])
				break;
			k++;
		}
		if (k == nn)
			return 1;
	}
	return 0;
}

static int string_matches(struct matcher *m, const js_tok *t)
{
	const unsigned char *p = (const unsigned char *)m->doc.buf + t->start;
	const unsigned char *end = (const unsigned char *)m->doc.buf + t->end;

	mw_buf_reset(&m->value);
	while (p < end)
		fold_append(&m->value, js_decode_char(&p, end));
	return memmem(m->value.data, m->value.len, m->needle.data, m->needle.len) != NULL;
}

/* Does any string value in the subtree at tok match? Keys are skipped. */
static int subtree_matches(struct matcher *m, size_t tok)
{
	const js_tok *t = &m->doc.toks[tok];
	size_t i, stop = t->next;

	switch (t->type) {
	case JS_STRING:
		return string_matches(m, t);
	case JS_OBJECT:
		/* key, value subtree, key, value subtree ... */
		for (i = tok + 1; i < stop; i = m->doc.toks[i + 1].next)
			if (subtree_matches(m, i + 1))
				return 1;
		return 0;
	case JS_ARRAY:
		for (i = tok + 1; i < stop; i = m->doc.toks[i].next)
			if (subtree_matches(m, i))
				return 1;
		return 0;
	default:
		return 0;
	}
}

static int matcher_test(struct matcher *m, const char *json, size_t len)
{
	mw_err ignored;

	if (m->needle.len == 0)
		return 1;
	/* Without a backslash every string is its raw bytes, and no non-ASCII
	 * character folds into ASCII: an ASCII needle absent from the raw
	 * text (keys included) cannot be in a value. Most rows stop here. */
	if (m->ascii && !memchr(json, '\\', len) &&
	    !ascii_ci_find(json, len, m->needle.data, m->needle.len))
		return 0;
	if (js_parse(&m->doc, json, len, &ignored) < 0) {
		/* Stored records are valid JSON; a damaged one is still
		 * searched, as plain text. */
		return m->ascii && ascii_ci_find(json, len, m->needle.data, m->needle.len);
	}
	return m->doc.ntoks > 0 && subtree_matches(m, 0);
}

int store_record_matches(const char *json, size_t len, const char *text)
{
	struct matcher m;
	int r;

	if (!text || !*text)
		return 1;
	matcher_init(&m, text);
	r = matcher_test(&m, json, len);
	matcher_free(&m);
	return r;
}

/* One of the (up to two) ordered streams a query merges. */
struct qstream {
	sqlite3_stmt *st;
	int live;               /* st holds a row */
	int64_t rowid;
};

static int qstream_step(mw_store *s, struct qstream *q, mw_err *e)
{
	int rc = sqlite3_step(q->st);

	if (rc == SQLITE_ROW) {
		q->live = 1;
		q->rowid = sqlite3_column_int64(q->st, 0);
		return 0;
	}
	q->live = 0;
	if (rc != SQLITE_DONE)
		return sdb_fail(s, rc, "reading records", e);
	return 0;
}

static int source_names(mw_store *s, int64_t source, char **integration, char **type,
			mw_err *e)
{
	sqlite3_stmt *st = sdb_stmt(s, ST_SOURCE_NAME, e);
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, source);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*integration = mw_xstrdup((const char *)sqlite3_column_text(st, 0));
		*type = mw_xstrdup((const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc != SQLITE_DONE)
		return sdb_fail(s, rc, "looking up a source", e);
	return 0;
}

int store_query_page(mw_store *s, const struct store_query *q, int newer,
		     struct store_scan *sc, size_t limit, size_t budget,
		     int (*cb)(const struct store_row *row, void *ctx), void *ctx, mw_err *e)
{
	struct qstream qs[2];
	struct matcher m;
	struct store_row row;
	char *integration = NULL, *type = NULL;
	int64_t bound = sc->pos, delivered = 0;
	size_t examined = 0, nq = 0;
	int have_text = q->text && *q->text, rc = -1;

	sc->done = 0;
	switch (source_names(s, q->source, &integration, &type, e)) {
	case -1:
		return -1;
	case 0:
		sc->done = 1;   /* no such source: nothing to show */
		return 0;
	}
	if (!newer && bound <= 0)
		bound = INT64_MAX;
	/* threat is 0 or 1 (store_commit_page): "all" merges both streams. */
	for (int threat = q->threats_only ? 1 : 0; threat <= 1; threat++) {
		enum stmt_id id = newer ? (nq ? ST_Q_NEWER_1 : ST_Q_NEWER_0)
					: (nq ? ST_Q_OLDER_1 : ST_Q_OLDER_0);
		struct qstream *x = &qs[nq];

		if (!(x->st = sdb_stmt(s, id, e)))
			goto out_reset;
		nq++;
		sqlite3_bind_int64(x->st, 1, q->source);
		sqlite3_bind_int(x->st, 2, threat);
		sqlite3_bind_int64(x->st, 3, bound);
		if (qstream_step(s, x, e) < 0)
			goto out_reset;
	}
	if (have_text)
		matcher_init(&m, q->text);
	row.integration = integration;
	row.type = type;
	for (;;) {
		struct qstream *x = NULL;

		for (size_t i = 0; i < nq; i++)
			if (qs[i].live && (!x || (newer ? qs[i].rowid < x->rowid
							: qs[i].rowid > x->rowid)))
				x = &qs[i];
		if (!x) {
			sc->done = 1;
			break;
		}
		if (budget && examined >= budget)
			break;
		examined++;
		row.rowid = x->rowid;
		row.id = (const char *)sqlite3_column_text(x->st, 1);
		row.time = sqlite3_column_int64(x->st, 2);
		row.collected = sqlite3_column_int64(x->st, 3);
		row.json = (const char *)sqlite3_column_text(x->st, 4);
		row.json_len = (size_t)sqlite3_column_bytes(x->st, 4);
		row.revision = sqlite3_column_int64(x->st, 5);
		sc->pos = row.rowid;
		if (!row.id || !row.json) {
			mw_err_set(e, "%s: record %" PRId64 " has a NULL field: %s", s->path,
				   row.rowid, sdb_damaged_fix);
			goto out;
		}
		if (!have_text || matcher_test(&m, row.json, row.json_len)) {
			delivered++;
			if (cb(&row, ctx) || (limit && (size_t)delivered >= limit)) {
				/* Whether anything is left is the next call's to find. */
				break;
			}
		}
		if (qstream_step(s, x, e) < 0)
			goto out;
	}
	rc = 0;
out:
	if (have_text)
		matcher_free(&m);
out_reset:
	for (size_t i = 0; i < nq; i++)
		sqlite3_reset(qs[i].st);
	free(integration);
	free(type);
	return rc < 0 ? -1 : (int)(delivered > INT32_MAX ? INT32_MAX : delivered);
}

int store_query_count(mw_store *s, const struct store_query *q, int64_t after, int64_t upto,
		      int64_t *n, mw_err *e)
{
	int64_t total = 0;

	*n = 0;
	if (q->text && *q->text) {
		mw_err_set(e, "store_query_count: a text filter needs a scan; use "
			   "store_query_page");
		return -1;
	}
	for (int threat = q->threats_only ? 1 : 0; threat <= 1; threat++) {
		sqlite3_stmt *st = sdb_stmt(s, ST_Q_COUNT, e);
		int rc;

		if (!st)
			return -1;
		sqlite3_bind_int64(st, 1, q->source);
		sqlite3_bind_int(st, 2, threat);
		sqlite3_bind_int64(st, 3, after);
		sqlite3_bind_int64(st, 4, upto);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			total += sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		if (rc != SQLITE_ROW)
			return sdb_fail(s, rc, "counting records", e);
	}
	*n = total;
	return 0;
}

int store_get_row(mw_store *s, int64_t rowid,
		  int (*cb)(const struct store_row *row, void *ctx), void *ctx, mw_err *e)
{
	sqlite3_stmt *st = sdb_stmt(s, ST_GET_ROW, e);
	struct store_row row;
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, rowid);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return 0;
	}
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return sdb_fail(s, rc, "reading a record", e);
	}
	if (sdb_read_row(s, st, &row, e) < 0)
		return -1;
	cb(&row, ctx);
	sqlite3_reset(st);
	return 1;
}
