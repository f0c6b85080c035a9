/* store/sort.c - the preview sorted by a column other than the store's own
 * order: a bounded sort.
 *
 * The store orders records by rowid through its index; no index can order
 * them by a value inside the JSON, and an ORDER BY over json_extract of a
 * million records is one statement the console could not interrupt (it
 * yields its first row only after reading every row). So a sort takes the
 * newest STORE_SORT_MAX records that match the preview's query (the oldest,
 * for the time column in ascending order), read through store_query_page a
 * budget of rows per call so the console's work steps stay short, keeps the
 * column's value of each (a prefix) with its rowid, and sorts those in
 * memory. Pages are then read by rank, each row by its rowid. Records that
 * arrive later are not in the sort: the console says so (paused, N new). */
#include "private.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jsonscan.h"

#define KEY_BYTES 48

struct sort_key {
	int64_t rowid;
	double num;
	int kind;               /* 0 missing or empty, 1 number, 2 text */
	char text[KEY_BYTES];
};

struct store_sort {
	struct store_query q;
	char text[256];
	char field[64];         /* "" sorts by the stored time */
	int desc, oldest;
	size_t max;
	int64_t upto;           /* records after this rowid are not taken */
	struct store_scan sc;
	struct sort_key *keys;
	size_t n;
	int sorted, capped;
	js_doc doc;
	mw_buf buf;
};

store_sort *store_sort_new(const struct store_query *q, const char *field, int desc,
			   size_t max, int64_t upto)
{
	store_sort *ss = mw_xcalloc(1, sizeof(*ss));

	ss->q = *q;
	mw_strlcpy(ss->text, q->text ? q->text : "", sizeof(ss->text));
	ss->q.text = ss->text;
	mw_strlcpy(ss->field, field ? field : "", sizeof(ss->field));
	ss->desc = desc;
	/* The time column ascending starts from the oldest record: the newest
	 * ones in ascending order would hide the list's real beginning. */
	ss->oldest = !ss->field[0] && !desc;
	ss->max = max ? max : STORE_SORT_MAX;
	ss->upto = upto;
	/* Newest first starts below upto: what arrives meanwhile is not seen. */
	if (!ss->oldest && upto > 0 && upto < INT64_MAX)
		ss->sc.pos = upto + 1;
	ss->keys = mw_xcalloc(ss->max + 1, sizeof(ss->keys[0]));
	js_init(&ss->doc);
	mw_buf_init(&ss->buf);
	return ss;
}

void store_sort_free(store_sort *ss)
{
	if (!ss)
		return;
	free(ss->keys);
	js_free(&ss->doc);
	mw_buf_free(&ss->buf);
	free(ss);
}

static int take_key(const struct store_row *row, void *ctx)
{
	store_sort *ss = ctx;
	struct sort_key *k;
	mw_err e;
	int tok;

	if (row->rowid > ss->upto) {
		ss->sc.done = 1;        /* oldest first: the rest arrived after the start */
		return 1;
	}
	k = &ss->keys[ss->n++];
	memset(k, 0, sizeof(*k));
	k->rowid = row->rowid;
	if (!ss->field[0]) {
		k->kind = 1;
		k->num = (double)row->time;
		return ss->n > ss->max;
	}
	if (js_parse(&ss->doc, row->json, row->json_len, &e) < 0 || !ss->doc.ntoks ||
	    ss->doc.toks[0].type != JS_OBJECT ||
	    (tok = js_get(&ss->doc, 0, ss->field)) < 0)
		return ss->n > ss->max;
	mw_buf_reset(&ss->buf);
	if (ss->doc.toks[tok].type == JS_STRING) {
		js_str(&ss->doc, tok, &ss->buf);
	} else if (ss->doc.toks[tok].type == JS_NUMBER) {
		char num[64];
		size_t len = ss->doc.toks[tok].end - ss->doc.toks[tok].start;

		if (len < sizeof(num)) {
			memcpy(num, ss->doc.buf + ss->doc.toks[tok].start, len);
			num[len] = '\0';
			k->num = strtod(num, NULL);
			k->kind = 1;
			return ss->n > ss->max;
		}
	} else if (ss->doc.toks[tok].type != JS_NULL) {
		mw_buf_append(&ss->buf, ss->doc.buf + ss->doc.toks[tok].start,
			      ss->doc.toks[tok].end - ss->doc.toks[tok].start);
	}
	if (ss->buf.len) {
		size_t n = ss->buf.len < KEY_BYTES - 1 ? ss->buf.len : KEY_BYTES - 1;

		memcpy(k->text, ss->buf.data, n);
		k->text[n] = '\0';      /* a NUL inside cuts the key: it only orders */
		k->kind = 2;
	}
	return ss->n > ss->max;
}

static int key_cmp(const struct sort_key *a, const struct sort_key *b)
{
	int c;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->kind == 1)
		return a->num < b->num ? -1 : a->num > b->num;
	if (a->kind == 2 && (c = strcasecmp(a->text, b->text)) != 0)
		return c;
	return a->kind == 2 ? strcmp(a->text, b->text) : 0;
}

static int cmp_asc(const void *x, const void *y)
{
	const struct sort_key *a = x, *b = y;
	int c = key_cmp(a, b);

	/* Equal values: the newer record first, in either direction. */
	return c ? c : (a->rowid > b->rowid ? -1 : a->rowid < b->rowid);
}

static int cmp_desc(const void *x, const void *y)
{
	const struct sort_key *a = x, *b = y;
	int c = key_cmp(b, a);

	return c ? c : (a->rowid > b->rowid ? -1 : a->rowid < b->rowid);
}

int store_sort_step(mw_store *s, store_sort *ss, size_t budget, mw_err *e)
{
	if (ss->sorted)
		return 0;
	if (ss->n <= ss->max && !ss->sc.done &&
	    store_query_page(s, &ss->q, ss->oldest, &ss->sc, ss->max + 1 - ss->n, budget,
			     take_key, ss, e) < 0)
		return -1;
	if (ss->n <= ss->max && !ss->sc.done)
		return 1;
	if (ss->n > ss->max) {
		/* One more than the bound was found: the sort leaves some out. */
		ss->capped = 1;
		ss->n = ss->max;
	}
	qsort(ss->keys, ss->n, sizeof(ss->keys[0]), ss->desc ? cmp_desc : cmp_asc);
	ss->sorted = 1;
	return 0;
}

void store_sort_info(const store_sort *ss, struct store_sort_info *out)
{
	out->sorted = ss->sorted;
	out->records = ss->n;
	out->capped = ss->capped;
	out->oldest = ss->oldest;
	out->max = ss->max;
}

int store_sort_page(mw_store *s, store_sort *ss, int up, struct store_scan *sc, size_t limit,
		    int (*cb)(const struct store_row *row, void *ctx), void *ctx, mw_err *e)
{
	int64_t n = (int64_t)ss->n, r = sc->pos;
	size_t delivered = 0;

	sc->done = 0;
	if (!ss->sorted) {
		sc->done = 1;
		return 0;
	}
	if (up && r <= 0)
		r = n + 1;
	for (;;) {
		sqlite3_stmt *st;
		struct store_row row;
		int rc;

		r += up ? -1 : 1;
		if (r < 1 || r > n) {
			sc->done = 1;
			break;
		}
		if (!(st = sdb_stmt(s, ST_GET_ROW, e)))
			return -1;
		sqlite3_bind_int64(st, 1, ss->keys[r - 1].rowid);
		rc = sqlite3_step(st);
		sc->pos = r;
		if (rc == SQLITE_DONE) {
			/* Gone since (retention, a revision): its place stays. */
			sqlite3_reset(st);
			continue;
		}
		if (rc != SQLITE_ROW) {
			sqlite3_reset(st);
			return sdb_fail(s, rc, "reading a sorted record", e);
		}
		if (sdb_read_row(s, st, &row, e) < 0)
			return -1;
		delivered++;
		rc = cb(&row, ctx);
		sqlite3_reset(st);
		if (rc || (limit && delivered >= limit))
			break;
	}
	return (int)delivered;
}
