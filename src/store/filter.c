/* store/filter.c - the preview's filter (store_query.text): terms ANDed,
 * each a case-folded text looked for in a record's string values, in the
 * values of one field ("sender:evil", the field named by a column of the
 * log type or by its JSON key), or a bound on the record's time
 * ("since:2h", "from:2026-12-01", "to:2026-12-01T10:00Z"). A "quoted
 * phrase" is one term, spaces and all. Answered by a scan (query.c), with
 * a raw-bytes prefilter that rejects most rows before any parse. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1  /* memmem alongside -std=c11 */
#endif
#include "private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jsonscan.h"
#include "logtypes.h"

/* ---- case folding ------------------------------------------------------------------ */

/* Simple case folding, enough for what administrators type: ASCII, Latin-1,
 * Latin Extended-A, Greek and Cyrillic capitals map to their small letters.
 * No character outside ASCII folds into ASCII (U+0130 and U+212A stay), which
 * is what lets an ASCII term skip records by their raw bytes. */
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

uint32_t filter_fold(uint32_t cp)
{
	return fold_cp(cp);
}

static void fold_append(mw_buf *out, uint32_t cp)
{
	char enc[4];

	if (cp == JS_CP_INVALID)
		cp = 0xFFFD;
	mw_buf_append(out, enc, js_utf8_encode(fold_cp(cp), enc));
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

/* ---- parsing the filter ---------------------------------------------------------------- */

/* The fields a "name:" term may name for a log type: a column's title as a
 * whole ("scanresult", "filename"), any word of it ("sender", "result",
 * "file"), or its JSON key ("senderAddress"); several columns may answer
 * ("action" is one). A name no column answers is taken as a JSON key. */
static size_t term_fields(const struct mw_logtype *lt, const char *name, const char **keys,
			  size_t max)
{
	size_t n = 0;

	for (size_t c = 0; lt && c < lt->ncolumns && n < max; c++) {
		const struct mw_column *col = &lt->columns[c];
		char whole[64], word[64];
		size_t w = 0, k = 0;
		int hit = strcasecmp(name, col->field) == 0;

		for (const char *p = col->title; *p && !hit; p++) {
			if (*p != ' ' && w + 1 < sizeof(whole))
				whole[w++] = *p;
			if (*p != ' ' && k + 1 < sizeof(word))
				word[k++] = *p;
			if (*p == ' ' || !p[1]) {
				word[k] = '\0';
				hit = strcasecmp(name, word) == 0;
				k = 0;
			}
		}
		whole[w] = '\0';
		if (hit || strcasecmp(name, whole) == 0)
			keys[n++] = col->field;
	}
	return n;
}

/* A time for from: and to:: a Mimecast or RFC 3339 date, a date alone
 * (its start; with end set, its last second), or "DATE HH:MM[:SS]" in UTC. */
static int parse_when(const char *s, int end, int64_t *t)
{
	char buf[40];
	size_t n = strlen(s);

	if (mw_parse_mc_date(s, n, t) == 0)
		return 0;
	if (n == 10) {
		snprintf(buf, sizeof(buf), "%sT00:00:00Z", s);
		if (mw_parse_mc_date(buf, strlen(buf), t) < 0)
			return -1;
		if (end)
			*t += 86399;
		return 0;
	}
	if ((n == 16 || n == 19) && (s[10] == ' ' || s[10] == 'T')) {
		snprintf(buf, sizeof(buf), "%.10sT%.8s%sZ", s, s + 11, n == 16 ? ":00" : "");
		return mw_parse_mc_date(buf, strlen(buf), t);
	}
	return -1;
}

/* The next term of *p: its name (before ':', or "" for none) and value,
 * quotes removed. 0 at the end. */
static int next_term(const char **p, char *name, size_t nn, char *val, size_t vn)
{
	const char *s = *p;
	size_t v = 0;
	int quoted = 0, named = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return 0;
	name[0] = '\0';
	for (; *s && (quoted || (*s != ' ' && *s != '\t')); s++) {
		if (*s == '"') {
			quoted = !quoted;
			continue;
		}
		/* name:value: a name of a letter, then letters, digits and '_',
		 * before the first ':' outside quotes, and a value not starting
		 * "//" (a URL); "10:00" is text */
		if (*s == ':' && !quoted && !named && v > 0 && s[1] != '/' &&
		    (val[0] | 32) >= 'a' && (val[0] | 32) <= 'z') {
			size_t i = 0;

			while (i < v && (val[i] == '_' || (val[i] >= '0' && val[i] <= '9') ||
					 ((val[i] | 32) >= 'a' && (val[i] | 32) <= 'z')))
				i++;
			if (i == v && v < nn) {
				memcpy(name, val, v);
				name[v] = '\0';
				v = 0;
				named = 1;
				continue;
			}
		}
		if (v + 1 < vn)
			val[v++] = *s;
	}
	val[v] = '\0';
	*p = s;
	return 1;
}

static int time_term(const char *name)
{
	return !strcasecmp(name, "since") || !strcasecmp(name, "from") || !strcasecmp(name, "to");
}

size_t store_filter_words(const char *text, const char *type, struct store_filter_word *out,
			  size_t max)
{
	const struct mw_logtype *lt = type ? logtype_find(type) : NULL;
	const char *p = text ? text : "", *keys[FILTER_MAX_KEYS];
	char name[64], val[1024];
	size_t n = 0;

	while (n < max && next_term(&p, name, sizeof(name), val, sizeof(val))) {
		size_t nk = 0;

		if (!val[0] || time_term(name))
			continue;
		if (name[0] && !(nk = term_fields(lt, name, keys, FILTER_MAX_KEYS))) {
			keys[0] = name;
			nk = 1;
		}
		for (size_t k = 0; k < (nk ? nk : 1) && n < max; k++, n++) {
			mw_strlcpy(out[n].field, nk ? keys[k] : "", sizeof(out[n].field));
			mw_strlcpy(out[n].text, val, sizeof(out[n].text));
		}
	}
	return n;
}

int filter_init(struct filter *f, const char *text, const char *type, mw_err *e)
{
	const struct mw_logtype *lt = type ? logtype_find(type) : NULL;
	const char *p = text ? text : "";
	char name[64], val[1024];

	memset(f, 0, sizeof(*f));
	js_init(&f->doc);
	mw_buf_init(&f->value);
	while (next_term(&p, name, sizeof(name), val, sizeof(val))) {
		struct filter_term *t;
		int64_t secs;

		if (!strcasecmp(name, "since")) {
			if (mw_parse_duration(val, &secs) < 0) {
				mw_err_set(e, "filter: since:%s is not a duration; write e.g. "
					   "since:2h or since:7d", val);
				goto fail;
			}
			f->from = mw_now() - secs;
			continue;
		}
		if (!strcasecmp(name, "from") || !strcasecmp(name, "to")) {
			int end = name[0] == 't' || name[0] == 'T';

			if (parse_when(val, end, end ? &f->to : &f->from) < 0) {
				mw_err_set(e, "filter: %s:%s is not a date; write e.g. %s:2026-12-01, "
					   "%s:\"2026-12-01 10:00\" (UTC) or %s:2026-12-01T10:00:00Z",
					   name, val, name, name, name);
				goto fail;
			}
			continue;
		}
		if (!val[0])
			continue;       /* "sender:" alone narrows nothing */
		if (f->nterms == FILTER_MAX_TERMS) {
			mw_err_set(e, "filter: more than %d terms; drop some", FILTER_MAX_TERMS);
			goto fail;
		}
		t = &f->terms[f->nterms++];
		mw_buf_init(&t->needle);
		t->ascii = 1;
		for (const unsigned char *q = (const unsigned char *)val,
		     *end = q + strlen(val); q < end;) {
			uint32_t cp;

			q += js_utf8_decode(q, end, &cp);
			if (cp < 0x20 || cp >= 0x7F)
				t->ascii = 0;
			fold_append(&t->needle, cp);
		}
		if (name[0]) {
			t->nkeys = term_fields(lt, name, t->keys, FILTER_MAX_KEYS);
			if (!t->nkeys) {
				mw_strlcpy(t->raw_key, name, sizeof(t->raw_key));
				t->keys[0] = t->raw_key;
				t->nkeys = 1;
			}
		}
	}
	return 0;
fail:
	filter_free(f);
	return -1;
}

void filter_free(struct filter *f)
{
	for (size_t i = 0; i < f->nterms; i++)
		mw_buf_free(&f->terms[i].needle);
	f->nterms = 0;
	mw_buf_free(&f->value);
	js_free(&f->doc);
}

/* ---- testing a record ---------------------------------------------------------------------- */

/* The folded text of a scalar (a string's characters, a number or literal
 * as written) contains the term's needle. */
static int scalar_matches(struct filter *f, const struct filter_term *t, const js_tok *tok)
{
	const unsigned char *p = (const unsigned char *)f->doc.buf + tok->start;
	const unsigned char *end = (const unsigned char *)f->doc.buf + tok->end;

	mw_buf_reset(&f->value);
	if (tok->type == JS_STRING) {
		while (p < end)
			fold_append(&f->value, js_decode_char(&p, end));
	} else {
		while (p < end)
			fold_append(&f->value, *p++);
	}
	return memmem(f->value.data, f->value.len, t->needle.data, t->needle.len) != NULL;
}

static int key_is(const struct filter *f, const js_tok *k, const struct filter_term *t)
{
	size_t n = k->end - k->start;

	for (size_t i = 0; i < t->nkeys; i++)
		if (strlen(t->keys[i]) == n &&
		    strncasecmp(f->doc.buf + k->start, t->keys[i], n) == 0)
			return 1;
	return 0;
}

/* Does the subtree at tok hold the term: in any string value when the
 * term names no field, else in the scalars under a key it names (at any
 * depth). Keys themselves are never searched. */
static int subtree_matches(struct filter *f, const struct filter_term *t, size_t tok, int in_key)
{
	const js_tok *x = &f->doc.toks[tok];
	size_t i, stop = x->next;

	switch (x->type) {
	case JS_OBJECT:
		/* key, value subtree, key, value subtree ... */
		for (i = tok + 1; i < stop; i = f->doc.toks[i + 1].next)
			if (subtree_matches(f, t, i + 1,
					    in_key || (t->nkeys && key_is(f, &f->doc.toks[i], t))))
				return 1;
		return 0;
	case JS_ARRAY:
		for (i = tok + 1; i < stop; i = f->doc.toks[i].next)
			if (subtree_matches(f, t, i, in_key))
				return 1;
		return 0;
	case JS_STRING:
		return (!t->nkeys || in_key) && scalar_matches(f, t, x);
	default:
		return t->nkeys && in_key && scalar_matches(f, t, x);
	}
}

int filter_test(struct filter *f, const char *json, size_t len, int64_t time)
{
	mw_err ignored;
	int escaped;

	if ((f->from && time < f->from) || (f->to && time > f->to))
		return 0;
	if (!f->nterms)
		return 1;
	/* Without a backslash every string is its raw bytes, and no non-ASCII
	 * character folds into ASCII: an ASCII term absent from the raw text
	 * (keys included) cannot be in a value. Most rows stop here. */
	escaped = memchr(json, '\\', len) != NULL;
	for (size_t i = 0; i < f->nterms; i++)
		if (f->terms[i].ascii && !escaped &&
		    !ascii_ci_find(json, len, f->terms[i].needle.data, f->terms[i].needle.len))
			return 0;
	if (js_parse(&f->doc, json, len, &ignored) < 0) {
		/* Stored records are valid JSON; a damaged one is still
		 * searched, as plain text (no field in it can be told). */
		for (size_t i = 0; i < f->nterms; i++)
			if (!f->terms[i].ascii || f->terms[i].nkeys ||
			    !ascii_ci_find(json, len, f->terms[i].needle.data,
					   f->terms[i].needle.len))
				return 0;
		return 1;
	}
	for (size_t i = 0; i < f->nterms; i++)
		if (f->doc.ntoks == 0 || !subtree_matches(f, &f->terms[i], 0, 0))
			return 0;
	return 1;
}
