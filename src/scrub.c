/* scrub.c - our secrets out of text that servers and receivers send back
 * (see scrub.h for what is replaced and why).
 *
 * A set holds every form of every secret, sorted by first byte and, within
 * that, longest first, so the longest form matching at a position wins
 * (a JSON-escaped "ab\\/cd" before a raw "ab"). A bitmap of the first two
 * bytes of every form lets the scan skip almost every position with one
 * lookup, which keeps scrubbing a large error body cheap. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1  /* explicit_bzero alongside -std=c11 */
#endif
#include "scrub.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct form {
	char *text;
	size_t len;
	int raw;                    /* the secret as given (one per secret) */
};

struct scrub_set {
	struct form *forms;
	size_t nforms, cap;
	size_t nsecrets;
	size_t first[257];          /* forms starting with byte b: [first[b], first[b+1]) */
	uint64_t pairs[65536 / 64]; /* bit (b0 << 8 | b1): some form starts b0 b1 */
};

scrub_set *scrub_set_new(void)
{
	return mw_xcalloc(1, sizeof(scrub_set));
}

static void form_wipe(struct form *f)
{
	if (f->text) {
		explicit_bzero(f->text, f->len);
		free(f->text);
	}
	f->text = NULL;
	f->len = 0;
}

void scrub_set_clear(scrub_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nforms; i++)
		form_wipe(&s->forms[i]);
	s->nforms = 0;
	s->nsecrets = 0;
	memset(s->first, 0, sizeof(s->first));
	memset(s->pairs, 0, sizeof(s->pairs));
}

void scrub_set_free(scrub_set *s)
{
	if (!s)
		return;
	scrub_set_clear(s);
	free(s->forms);
	explicit_bzero(s, sizeof(*s));
	free(s);
}

size_t scrub_set_count(const scrub_set *s)
{
	return s ? s->nsecrets : 0;
}

/* ---- the forms of a secret ------------------------------------------------------- */

static int has_form(const scrub_set *s, const char *t, size_t n)
{
	for (size_t i = 0; i < s->nforms; i++)
		if (s->forms[i].len == n && memcmp(s->forms[i].text, t, n) == 0)
			return 1;
	return 0;
}

/* Takes ownership of b's text (wiped if it is not kept). */
static void add_form(scrub_set *s, mw_buf *b, int raw)
{
	if (!b->data || b->len < SCRUB_MIN_SECRET || has_form(s, b->data, b->len)) {
		if (b->data)
			explicit_bzero(b->data, b->len);
		mw_buf_free(b);
		return;
	}
	if (s->nforms == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->forms = mw_xrealloc(s->forms, s->cap * sizeof(*s->forms));
	}
	s->forms[s->nforms].text = b->data;
	s->forms[s->nforms].len = b->len;
	s->forms[s->nforms].raw = raw;
	s->nforms++;
	mw_buf_init(b);  /* the set owns the text now */
}

static void add_copy(scrub_set *s, const char *t, size_t n, int raw)
{
	mw_buf b;

	mw_buf_init(&b);
	mw_buf_append(&b, t, n);
	add_form(s, &b, raw);
}

/* Percent-encoding as a form body carries it (curl_easy_escape: everything
 * but ALPHA DIGIT - . _ ~), with upper- or lower-case hex digits. */
static void add_percent(scrub_set *s, const char *t, size_t n, int upper)
{
	const char *hex = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	mw_buf b;

	mw_buf_init(&b);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			mw_buf_putc(&b, (char)c);
		} else {
			mw_buf_putc(&b, '%');
			mw_buf_putc(&b, hex[c >> 4]);
			mw_buf_putc(&b, hex[c & 15]);
		}
	}
	add_form(s, &b, 0);
}

/* A JSON string's body: '"' and '\\' escaped, controls as \n or \u00XX;
 * slash: '/' written as "\/" too (json-c and PHP do, most others don't). */
static void add_json(scrub_set *s, const char *t, size_t n, int slash)
{
	mw_buf b;

	mw_buf_init(&b);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t[i];

		if (c == '"' || c == '\\' || (c == '/' && slash)) {
			mw_buf_putc(&b, '\\');
			mw_buf_putc(&b, (char)c);
		} else if (c == '\n') {
			mw_buf_puts(&b, "\\n");
		} else if (c == '\r') {
			mw_buf_puts(&b, "\\r");
		} else if (c == '\t') {
			mw_buf_puts(&b, "\\t");
		} else if (c < 0x20) {
			mw_buf_printf(&b, "\\u%04x", c);
		} else {
			mw_buf_putc(&b, (char)c);
		}
	}
	add_form(s, &b, 0);
}

static int cmp_form(const void *a, const void *b)
{
	const struct form *x = a, *y = b;
	unsigned char fx = (unsigned char)x->text[0], fy = (unsigned char)y->text[0];

	if (fx != fy)
		return fx < fy ? -1 : 1;
	return x->len > y->len ? -1 : x->len < y->len;
}

static void reindex(scrub_set *s)
{
	size_t i = 0;

	qsort(s->forms, s->nforms, sizeof(*s->forms), cmp_form);
	memset(s->pairs, 0, sizeof(s->pairs));
	for (unsigned b = 0; b < 256; b++) {
		s->first[b] = i;
		while (i < s->nforms && (unsigned char)s->forms[i].text[0] == b)
			i++;
	}
	s->first[256] = i;
	for (i = 0; i < s->nforms; i++) {
		unsigned pair = (unsigned char)s->forms[i].text[0] << 8 |
				(unsigned char)s->forms[i].text[1];

		s->pairs[pair / 64] |= (uint64_t)1 << (pair % 64);
	}
}

void scrub_set_add(scrub_set *s, const char *secret)
{
	size_t n = secret ? strlen(secret) : 0;
	size_t before, blen, bare;
	char *b64;

	if (!s || n < SCRUB_MIN_SECRET)
		return;
	for (size_t i = 0; i < s->nforms; i++)
		if (s->forms[i].raw && s->forms[i].len == n && memcmp(s->forms[i].text, secret, n) == 0)
			return;
	before = s->nforms;
	add_copy(s, secret, n, 1);
	/* The bases: raw, base64 (padded and not), percent-encoded; then each
	 * of them as a JSON body would quote it. */
	b64 = mw_base64_encode(secret, n);
	blen = bare = strlen(b64);
	while (bare && b64[bare - 1] == '=')
		bare--;
	add_copy(s, b64, blen, 0);
	add_copy(s, b64, bare, 0);
	explicit_bzero(b64, blen);
	free(b64);
	add_percent(s, secret, n, 1);
	add_percent(s, secret, n, 0);
	for (size_t i = before, end = s->nforms; i < end; i++) {
		/* copies: add_json may move the array */
		mw_buf t;

		mw_buf_init(&t);
		mw_buf_append(&t, s->forms[i].text, s->forms[i].len);
		add_json(s, t.data, t.len, 0);
		add_json(s, t.data, t.len, 1);
		explicit_bzero(t.data, t.len);
		mw_buf_free(&t);
	}
	s->nsecrets++;
	reindex(s);
}

/* ---- the keyword rules -------------------------------------------------------- */

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Length of the value at p[0..n): up to white space, a quote, '&' or the
 * end. A backslash escape that stands for one of those (\" \' \\ \n \r \t
 * \b \f) ends it too, so scrubbing a value inside JSON text never cuts an
 * escape in two; \/ and \uXXXX are part of the value. */
static size_t value_len(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)p[i];

		if (is_space(c) || c == '"' || c == '\'' || c == '&' || c == '\0')
			break;
		if (c == '\\') {
			if (i + 1 < n && p[i + 1] == '/') {
				i += 2;
				continue;
			}
			if (i + 5 < n && p[i + 1] == 'u') {
				i += 6;
				continue;
			}
			break;
		}
		i++;
	}
	return i;
}

static int is_marker(const char *p, size_t n)
{
	return n >= sizeof(SCRUB_MARKER) - 1 && memcmp(p, SCRUB_MARKER, sizeof(SCRUB_MARKER) - 1) == 0;
}

/* After a key name: optional closing quotes (a quoted key, escaped or
 * not), optional spaces, ':' or '=', optional spaces and opening quotes or
 * '['. Returns the length of that separator, 0 when there is none. */
static size_t separator_len(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && (p[i] == '"' || p[i] == '\'' || p[i] == '\\'))
		i++;
	while (i < n && p[i] == ' ')
		i++;
	if (i >= n || (p[i] != ':' && p[i] != '='))
		return 0;
	i++;
	while (i < n && (p[i] == ' ' || p[i] == '"' || p[i] == '\'' ||
			 (p[i] == '[' && !is_marker(p + i, n - i)) ||
			 (p[i] == '\\' && i + 1 < n && (p[i + 1] == '"' || p[i + 1] == '\''))))
		i += p[i] == '\\' ? 2 : 1;
	return i;
}

static int has_word(const char *p, size_t n, const char *word, size_t wn)
{
	return n >= wn && strncasecmp(p, word, wn) == 0;
}

/* A keyword at p: *keep bytes stay (the keyword and what separates it from
 * its value), the *val bytes after them are the secret. */
static int keyword_at(const char *p, size_t n, size_t *keep, size_t *val)
{
	static const char auth[] = "authorization", bearer[] = "bearer", cs[] = "client_secret";
	size_t k, v, v2, i;

	switch (p[0]) {
	case 'a':
	case 'A':
		if (!has_word(p, n, auth, sizeof(auth) - 1))
			return 0;
		k = sizeof(auth) - 1;
		v = separator_len(p + k, n - k);
		if (!v)
			return 0;
		k += v;
		v = value_len(p + k, n - k);
		/* "Authorization: MC key:sig", "Authorization: Bearer tok": a
		 * scheme (letters only) and the credentials after it, both. */
		for (i = 0; i < v && ((p[k + i] >= 'A' && p[k + i] <= 'Z') ||
				      (p[k + i] >= 'a' && p[k + i] <= 'z')); i++)
			;
		if (v && i == v && k + v + 1 < n && p[k + v] == ' ' &&
		    (v2 = value_len(p + k + v + 1, n - k - v - 1)) > 0)
			v += 1 + v2;
		break;
	case 'b':
	case 'B':
		if (!has_word(p, n, bearer, sizeof(bearer) - 1))
			return 0;
		k = sizeof(bearer) - 1;
		if (k >= n || !is_space((unsigned char)p[k]))
			return 0;
		while (k < n && (p[k] == ' ' || p[k] == '\t'))
			k++;
		v = value_len(p + k, n - k);
		break;
	case 'c':
	case 'C':
		if (!has_word(p, n, cs, sizeof(cs) - 1))
			return 0;
		k = sizeof(cs) - 1;
		v = separator_len(p + k, n - k);
		if (!v)
			return 0;
		k += v;
		v = value_len(p + k, n - k);
		break;
	default:
		return 0;
	}
	/* Already scrubbed (the marker, or the stars of a short value): scrubbing
	 * twice changes nothing. */
	if (!v || is_marker(p + k, n - k))
		return 0;
	for (i = 0; i < v && p[k + i] == '*'; i++)
		;
	if (i == v)
		return 0;
	*keep = k;
	*val = v;
	return 1;
}

/* ---- scanning ------------------------------------------------------------------- */

/* Length of the longest form at p, 0 when none. */
static size_t secret_at(const scrub_set *s, const char *p, size_t n)
{
	unsigned char b0 = (unsigned char)p[0];
	unsigned pair;

	if (n < SCRUB_MIN_SECRET)
		return 0;
	pair = b0 << 8 | (unsigned char)p[1];
	if (!(s->pairs[pair / 64] & (uint64_t)1 << (pair % 64)))
		return 0;
	for (size_t i = s->first[b0]; i < s->first[b0 + 1]; i++)
		if (s->forms[i].len <= n && memcmp(s->forms[i].text, p, s->forms[i].len) == 0)
			return s->forms[i].len;
	return 0;
}

/* Writes the replacement of an n-byte match at out (never more than n). */
static size_t put_marker(char *out, size_t n)
{
	size_t m = sizeof(SCRUB_MARKER) - 1;

	if (n >= m) {
		memcpy(out, SCRUB_MARKER, m);
		return m;
	}
	memset(out, '*', n);
	return n;
}

static size_t scrub_core(const scrub_set *s, char *buf, size_t len, size_t *count)
{
	size_t r = 0, w = 0, hits = 0;

	if (s && !s->nforms)
		s = NULL;
	while (r < len) {
		size_t m = s ? secret_at(s, buf + r, len - r) : 0;
		size_t keep, val;

		if (m) {
			w += put_marker(buf + w, m);
			r += m;
			hits++;
		} else if (keyword_at(buf + r, len - r, &keep, &val)) {
			memmove(buf + w, buf + r, keep);
			w += keep;
			r += keep;
			/* A secret that starts inside the value and goes on past
			 * a quote or '&' in it goes as a whole. */
			for (size_t j = 0; s && j < val; j++) {
				size_t sm = secret_at(s, buf + r + j, len - r - j);

				if (j + sm > val)
					val = j + sm;
			}
			w += put_marker(buf + w, val);
			r += val;
			hits++;
		} else {
			buf[w++] = buf[r++];
		}
	}
	/* What shifted left leaves its old bytes behind: clear them. */
	if (w < len)
		explicit_bzero(buf + w, len - w);
	if (count)
		*count = hits;
	return w;
}

size_t scrub_mem(const scrub_set *s, char *buf, size_t len)
{
	return buf ? scrub_core(s, buf, len, NULL) : 0;
}

size_t scrub_text(const scrub_set *s, char *buf)
{
	size_t hits = 0, n;

	if (!buf)
		return 0;
	n = scrub_core(s, buf, strlen(buf), &hits);
	buf[n] = '\0';
	return hits;
}

size_t scrub_buf(const scrub_set *s, mw_buf *b)
{
	size_t hits = 0;

	if (!b || !b->data)
		return 0;
	b->len = scrub_core(s, b->data, b->len, &hits);
	b->data[b->len] = '\0';
	return hits;
}
