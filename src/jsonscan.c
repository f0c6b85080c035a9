/* jsonscan.c - strict RFC 8259 tokenizer into a flat, reusable token array.
 *
 * The parser is an explicit state machine with its own container stack, so
 * hostile nesting can never exhaust the C stack; JS_MAX_DEPTH bounds it.
 * Strings are only validated here (escapes, no raw controls); decoding to
 * UTF-8 happens lazily in js_str() and in the writers, which share
 * js_decode_char() so every consumer sees the same characters. */
#include "jsonscan.h"

#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>  /* SSE2: every x86-64 has it */
#endif

void js_init(js_doc *d)
{
	memset(d, 0, sizeof(*d));
}

void js_free(js_doc *d)
{
	free(d->toks);
	js_init(d);
}

/* ---- UTF-8 and escapes (shared with the writers) ------------------------ */

size_t js_utf8_decode(const unsigned char *p, const unsigned char *end, uint32_t *cp)
{
	unsigned c = p[0], lo = 0x80, hi = 0xBF;
	size_t need, i;
	uint32_t v;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		need = 1;
		v = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		v = c & 0x0F;
		/* exclude overlongs (E0 80-9F) and UTF-16 surrogates (ED A0-BF) */
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		v = c & 0x07;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F; /* nothing above U+10FFFF */
	} else {
		*cp = JS_CP_INVALID;
		return 1;
	}
	/* WHATWG: a broken sequence consumes its maximal valid prefix, which
	 * then stands for one U+FFFD. */
	for (i = 1; i <= need; i++) {
		unsigned b;

		if (p + i >= end) {
			*cp = JS_CP_INVALID;
			return i;
		}
		b = p[i];
		if (b < lo || b > hi) {
			*cp = JS_CP_INVALID;
			return i;
		}
		lo = 0x80;
		hi = 0xBF;
		v = (v << 6) | (b & 0x3F);
	}
	*cp = v;
	return need + 1;
}

size_t js_utf8_encode(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		cp = 0xFFFD;
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

static int hexval(unsigned c)
{
	if (c >= '0' && c <= '9')
		return (int)(c - '0');
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return (int)(c - 'a' + 10);
	return -1;
}

/* Four hex digits at p, or -1. */
static long hex4(const unsigned char *p)
{
	int a = hexval(p[0]), b = hexval(p[1]), c = hexval(p[2]), d = hexval(p[3]);

	if ((a | b | c | d) < 0)
		return -1;
	return (long)((a << 12) | (b << 8) | (c << 4) | d);
}

uint32_t js_decode_char(const unsigned char **pp, const unsigned char *end)
{
	const unsigned char *p = *pp;
	uint32_t cp;
	long u, lo;

	if (*p != '\\') {
		*pp = p + js_utf8_decode(p, end, &cp);
		return cp;
	}
	/* The parser validated escapes; the checks below only keep a caller
	 * with a hand-made token from reading past end. */
	if (end - p < 2) {
		*pp = end;
		return JS_CP_INVALID;
	}
	switch (p[1]) {
	case 'b': cp = '\b'; break;
	case 'f': cp = '\f'; break;
	case 'n': cp = '\n'; break;
	case 'r': cp = '\r'; break;
	case 't': cp = '\t'; break;
	case 'u':
		if (end - p < 6 || (u = hex4(p + 2)) < 0) {
			*pp = p + 2;
			return JS_CP_INVALID;
		}
		p += 6;
		if (u >= 0xD800 && u <= 0xDBFF) {
			/* a high surrogate combines only with an escaped low one */
			if (end - p >= 6 && p[0] == '\\' && p[1] == 'u' &&
			    (lo = hex4(p + 2)) >= 0xDC00 && lo <= 0xDFFF) {
				*pp = p + 6;
				return 0x10000 + (((uint32_t)u - 0xD800) << 10) +
				       ((uint32_t)lo - 0xDC00);
			}
			*pp = p;
			return JS_CP_INVALID;
		}
		*pp = p;
		if (u >= 0xDC00 && u <= 0xDFFF)
			return JS_CP_INVALID;
		return (uint32_t)u;
	default: cp = p[1]; break; /* '"', '\\', '/' */
	}
	*pp = p + 2;
	return cp;
}

/* ---- the tokenizer ------------------------------------------------------ */

static void tok_grow(js_doc *d) __attribute__((noinline, cold));
static void tok_grow(js_doc *d)
{
	d->cap = d->cap ? d->cap * 2 : 256;
	d->toks = mw_xrealloc(d->toks, d->cap * sizeof(*d->toks));
}

static inline uint32_t tok_push(js_doc *d, uint32_t type, size_t start)
{
	js_tok *t;

	if (d->ntoks == d->cap)
		tok_grow(d);
	t = &d->toks[d->ntoks];
	t->type = type;
	t->start = (uint32_t)start;
	t->end = (uint32_t)start;
	t->size = 0;
	t->next = (uint32_t)d->ntoks + 1;
	t->flags = 0;
	return (uint32_t)d->ntoks++;
}

/* Skips white space, counting in *impure each place that had some. */
static inline const unsigned char *skip_ws(const unsigned char *p, const unsigned char *end,
					   uint32_t *impure)
{
	const unsigned char *q = p;

	while (q < end && (*q == ' ' || *q == '\n' || *q == '\r' || *q == '\t'))
		q++;
	*impure += q != p;
	return q;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define JS_SWAR 1
/* Bit 7 of each byte that is '"', '\\' or < 0x20. The lowest flagged byte
 * is always exact (borrows only run upwards), which is all we use. */
static uint64_t swar_special(uint64_t x)
{
	const uint64_t lo = 0x0101010101010101ULL, hi = 0x8080808080808080ULL;
	uint64_t q = x ^ (lo * '"'), b = x ^ (lo * '\\');

	return (((q - lo) & ~q) | ((b - lo) & ~b) | ((x - lo * 0x20) & ~x)) & hi;
}
#endif

/* Scans a string body from just past its opening quote. Returns the closing
 * quote, or NULL with *why set; *esc gets JS_ESC when an escape occurs and
 * JS_WIDE when a raw byte of 0x7F or more does. */
#define JS_ESC 1u
#define JS_WIDE 2u
static const unsigned char *scan_string(const unsigned char *p, const unsigned char *end,
					uint32_t *esc, const unsigned char **at, const char **why)
{
	unsigned wide = 0;

	for (;;) {
		unsigned c;

#ifdef __SSE2__
		/* sixteen bytes at a time: the special ones ('"', '\\', below
		 * 0x20) and those of 0x7F or more, as bit masks */
		while (end - p >= 16) {
			__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
			__m128i sp = _mm_or_si128(
				_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
					     _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))),
				_mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1F)), x));
			unsigned m = (unsigned)_mm_movemask_epi8(sp);
			unsigned hi7 = (unsigned)_mm_movemask_epi8(
				_mm_or_si128(x, _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7F))));

			if (m) {
				wide |= (hi7 & ((m & (0u - m)) - 1)) != 0;
				p += __builtin_ctz(m);
				goto special;
			}
			wide |= hi7 != 0;
			p += 16;
		}
#endif
#ifdef JS_SWAR
		const uint64_t lo = 0x0101010101010101ULL, hi = 0x8080808080808080ULL;
		uint64_t acc = 0;

		/* acc: bit 7 of a byte of 0x7F or more (x + 1 carries 0x7F
		 * there; a carry out of 0xFF, itself flagged, may flag the
		 * next byte too, which only costs the fast path) */
		while (end - p >= 8) {
			uint64_t x, m;

			memcpy(&x, p, 8);
			m = swar_special(x);
			if (m) {
				/* the bytes before the special one */
				acc |= (x | (x + lo)) & ((m & (0 - m)) - 1);
				p += __builtin_ctzll(m) >> 3;
				break;
			}
			acc |= x | (x + lo);
			p += 8;
		}
		wide |= (acc & hi) != 0;
#endif
#ifdef __SSE2__
special:
#endif
		if (p >= end) {
			*at = p;
			*why = "unterminated string";
			return NULL;
		}
		c = *p;
		if (c == '"') {
			if (wide)
				*esc |= JS_WIDE;
			return p;
		}
		if (c == '\\') {
			*esc |= JS_ESC;
			if (end - p < 2) {
				*at = p;
				*why = "unterminated escape in string";
				return NULL;
			}
			switch (p[1]) {
			case '"': case '\\': case '/': case 'b': case 'f':
			case 'n': case 'r': case 't':
				p += 2;
				continue;
			case 'u':
				if (end - p < 6 || hex4(p + 2) < 0) {
					*at = p;
					*why = "\\u must be followed by four hex digits";
					return NULL;
				}
				p += 6;
				continue;
			default:
				*at = p;
				*why = "invalid escape in string (allowed: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)";
				return NULL;
			}
		}
		if (c < 0x20) {
			*at = p;
			*why = "raw control character in string (must be escaped)";
			return NULL;
		}
		wide |= c >= 0x7F;
		p++;
	}
}

#define IS_DIGIT(c) ((unsigned)(c) - '0' < 10)

static const unsigned char *scan_number(const unsigned char *p, const unsigned char *end,
					const unsigned char **at, const char **why)
{
	if (*p == '-')
		p++;
	if (p >= end || !IS_DIGIT(*p)) {
		*at = p;
		*why = "invalid number: expected a digit";
		return NULL;
	}
	if (*p == '0') {
		p++;
		if (p < end && IS_DIGIT(*p)) {
			*at = p;
			*why = "invalid number: leading zeros are not allowed";
			return NULL;
		}
	} else {
		while (p < end && IS_DIGIT(*p))
			p++;
	}
	if (p < end && *p == '.') {
		p++;
		if (p >= end || !IS_DIGIT(*p)) {
			*at = p;
			*why = "invalid number: expected a digit after '.'";
			return NULL;
		}
		while (p < end && IS_DIGIT(*p))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || !IS_DIGIT(*p)) {
			*at = p;
			*why = "invalid number: expected a digit in the exponent";
			return NULL;
		}
		while (p < end && IS_DIGIT(*p))
			p++;
	}
	return p;
}

int js_parse(js_doc *d, const char *buf, size_t len, mw_err *e)
{
	uint32_t stack[JS_MAX_DEPTH];
	size_t depth = 0;
	const unsigned char *s = (const unsigned char *)buf, *p, *end, *at = NULL;
	const char *why = NULL;
	uint32_t t, top;
	/* Places that keep a value from being JS_PLAIN (white space, a string
	 * with an escape or a byte outside printable ASCII), counted: an open
	 * container keeps the count in its flags, and is plain when it is the
	 * same at its close. */
	uint32_t impure = 0;

	d->ntoks = 0;
	d->buf = buf;
	d->len = len;
	if ((uint64_t)len >= ((uint64_t)1 << 32)) {
		if (e)
			mw_err_set(e, "invalid JSON: document of %zu bytes is too large "
				   "(the limit is 4 GiB)", len);
		return -1;
	}
	if (!s)
		s = (const unsigned char *)"";
	p = skip_ws(s, s + len, &impure);
	end = s + len;
	if (p == end) {
		at = p;
		why = "empty document, expected a value";
		goto fail;
	}

value:
	if (p >= end) {
		at = p;
		why = "unexpected end of input, expected a value";
		goto fail;
	}
	switch (*p) {
	case '{':
	case '[':
		if (depth == JS_MAX_DEPTH) {
			at = p;
			why = "nesting deeper than 512 levels";
			goto fail;
		}
		t = tok_push(d, *p == '{' ? JS_OBJECT : JS_ARRAY, (size_t)(p - s));
		d->toks[t].flags = impure;
		stack[depth++] = t;
		p = skip_ws(p + 1, end, &impure);
		if (d->toks[t].type == JS_OBJECT) {
			if (p < end && *p == '}')
				goto close;
			goto key;
		}
		if (p < end && *p == ']')
			goto close;
		d->toks[t].size = 1;
		goto value;
	case '"': {
		uint32_t esc = 0;
		const unsigned char *q;

		t = tok_push(d, JS_STRING, (size_t)(p + 1 - s));
		q = scan_string(p + 1, end, &esc, &at, &why);
		if (!q)
			goto fail;
		d->toks[t].end = (uint32_t)(q - s);
		d->toks[t].size = esc & JS_ESC;
		d->toks[t].flags = esc ? 0 : JS_PLAIN;
		impure += esc != 0;
		p = q + 1;
		break;
	}
	case 't':
	case 'f':
	case 'n': {
		static const char *const lit[] = { "true", "false", "null" };
		static const uint32_t ltype[] = { JS_TRUE, JS_FALSE, JS_NULL };
		int k = *p == 't' ? 0 : *p == 'f' ? 1 : 2;
		size_t n = strlen(lit[k]);

		if ((size_t)(end - p) < n || memcmp(p, lit[k], n) != 0) {
			at = p;
			why = "invalid literal (expected true, false or null)";
			goto fail;
		}
		t = tok_push(d, ltype[k], (size_t)(p - s));
		p += n;
		d->toks[t].end = (uint32_t)(p - s);
		d->toks[t].flags = JS_PLAIN;
		break;
	}
	default:
		if (*p == '-' || IS_DIGIT(*p)) {
			const unsigned char *q = scan_number(p, end, &at, &why);

			if (!q)
				goto fail;
			t = tok_push(d, JS_NUMBER, (size_t)(p - s));
			d->toks[t].end = (uint32_t)(q - s);
			d->toks[t].flags = JS_PLAIN;
			p = q;
			break;
		}
		at = p;
		why = "expected a value";
		goto fail;
	}

after:
	p = skip_ws(p, end, &impure);
	if (depth == 0) {
		if (p != end) {
			at = p;
			why = "unexpected data after the JSON value";
			goto fail;
		}
		return 0;
	}
	top = stack[depth - 1];
	if (p >= end) {
		at = p;
		why = d->toks[top].type == JS_OBJECT ?
			"unexpected end of input, expected ',' or '}'" :
			"unexpected end of input, expected ',' or ']'";
		goto fail;
	}
	if (d->toks[top].type == JS_OBJECT) {
		if (*p == ',') {
			p = skip_ws(p + 1, end, &impure);
			goto key;
		}
		if (*p == '}')
			goto close;
		at = p;
		why = "expected ',' or '}'";
		goto fail;
	}
	if (*p == ',') {
		d->toks[top].size++;
		p = skip_ws(p + 1, end, &impure);
		goto value;
	}
	if (*p == ']')
		goto close;
	at = p;
	why = "expected ',' or ']'";
	goto fail;

close:
	top = stack[--depth];
	d->toks[top].end = (uint32_t)(p + 1 - s);
	d->toks[top].next = (uint32_t)d->ntoks;
	d->toks[top].flags = d->toks[top].flags == impure ? JS_PLAIN : 0;
	p++;
	goto after;

key:
	top = stack[depth - 1];
	if (p >= end || *p != '"') {
		at = p;
		why = "expected a string key";
		goto fail;
	} else {
		uint32_t esc = 0;
		const unsigned char *q;

		d->toks[top].size++;
		t = tok_push(d, JS_STRING, (size_t)(p + 1 - s));
		q = scan_string(p + 1, end, &esc, &at, &why);
		if (!q)
			goto fail;
		d->toks[t].end = (uint32_t)(q - s);
		d->toks[t].size = esc & JS_ESC;
		d->toks[t].flags = esc ? 0 : JS_PLAIN;
		impure += esc != 0;
		p = skip_ws(q + 1, end, &impure);
		if (p >= end || *p != ':') {
			at = p;
			why = "expected ':' after an object key";
			goto fail;
		}
		p = skip_ws(p + 1, end, &impure);
		goto value;
	}

fail:
	d->ntoks = 0;
	if (e)
		mw_err_set(e, "invalid JSON at byte %zu: %s", (size_t)(at - s), why);
	return -1;
}

/* ---- access ------------------------------------------------------------- */

static int valid_tok(const js_doc *d, int tok)
{
	return tok >= 0 && (size_t)tok < d->ntoks;
}

/* Decoded string at tok equals s[0..n)? */
/* Whether s[0..n) is all ASCII: then a token without escapes equals it
 * exactly when its raw bytes do, since any byte of 0x80 or more in the
 * token decodes to a character outside ASCII (itself or U+FFFD). */
static int ascii_n(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] & 0x80)
			return 0;
	return 1;
}

static int streq_n(const js_doc *d, int tok, const char *s, size_t n, int s_ascii)
{
	const js_tok *t = &d->toks[tok];
	const unsigned char *p = (const unsigned char *)d->buf + t->start;
	const unsigned char *end = (const unsigned char *)d->buf + t->end;
	const unsigned char *q = (const unsigned char *)s, *qe = q + n;
	size_t rawlen = t->end - t->start;

	if (!t->size) {
		if (s_ascii)
			return rawlen == n && memcmp(p, s, n) == 0;
		/* no escapes: pure ASCII compares as bytes; anything else
		 * goes through the decoder so invalid bytes count as U+FFFD */
		if (ascii_n((const char *)p, rawlen))
			return rawlen == n && memcmp(p, s, n) == 0;
	}
	while (p < end) {
		char enc[4];
		uint32_t cp = js_decode_char(&p, end);
		size_t k;

		if (cp == JS_CP_INVALID)
			cp = 0xFFFD;
		k = js_utf8_encode(cp, enc);
		if ((size_t)(qe - q) < k || memcmp(q, enc, k) != 0)
			return 0;
		q += k;
	}
	return q == qe;
}

static int get_n(const js_doc *d, int obj, const char *key, size_t klen)
{
	uint32_t i, m, n;
	int key_ascii;

	if (!valid_tok(d, obj) || d->toks[obj].type != JS_OBJECT)
		return -1;
	key_ascii = ascii_n(key, klen);
	n = d->toks[obj].size;
	i = (uint32_t)obj + 1;
	for (m = 0; m < n; m++) {
		const js_tok *k = &d->toks[i];

		/* an ASCII key equals an unescaped one only at its length:
		 * most members are told apart without a call */
		if ((!key_ascii || k->size || k->end - k->start == klen) &&
		    streq_n(d, (int)i, key, klen, key_ascii))
			return (int)i + 1;
		i = d->toks[i + 1].next;
	}
	return -1;
}

int js_get(const js_doc *d, int obj, const char *key)
{
	return get_n(d, obj, key, strlen(key));
}

int js_at(const js_doc *d, int arr, size_t n)
{
	uint32_t i;
	size_t k;

	if (!valid_tok(d, arr) || d->toks[arr].type != JS_ARRAY || n >= d->toks[arr].size)
		return -1;
	i = (uint32_t)arr + 1;
	for (k = 0; k < n; k++)
		i = d->toks[i].next;
	return (int)i;
}

int js_path(const js_doc *d, int tok, const char *path)
{
	const char *s = path;
	int cur = tok;

	if (!valid_tok(d, cur))
		return -1;
	while (*s) {
		if (*s == '[') {
			size_t n = 0;

			s++;
			if (!IS_DIGIT(*s))
				return -1;
			while (IS_DIGIT(*s)) {
				if (n > (SIZE_MAX - 9) / 10)
					return -1;
				n = n * 10 + (size_t)(*s++ - '0');
			}
			if (*s++ != ']')
				return -1;
			cur = js_at(d, cur, n);
		} else {
			size_t k = strcspn(s, ".[");

			if (k == 0)
				return -1;
			cur = get_n(d, cur, s, k);
			s += k;
		}
		if (cur < 0)
			return -1;
		if (*s == '.') {
			s++;
			if (*s == '\0' || *s == '.' || *s == '[')
				return -1;
		} else if (*s && *s != '[') {
			return -1;
		}
	}
	return cur;
}

int js_str(const js_doc *d, int tok, mw_buf *out)
{
	const unsigned char *p, *end, *run;
	char *o;

	if (!valid_tok(d, tok) || d->toks[tok].type != JS_STRING)
		return -1;
	p = (const unsigned char *)d->buf + d->toks[tok].start;
	end = (const unsigned char *)d->buf + d->toks[tok].end;
	/* decoding never grows a string more than 3x (one bad byte -> U+FFFD) */
	mw_buf_reserve(out, (size_t)(end - p) * 3);
	o = out->data + out->len;
	while (p < end) {
		uint32_t cp;
		size_t n;

		run = p;
		while (p < end && *p != '\\') {
			if (*p < 0x80) {
				p++;
				continue;
			}
			n = js_utf8_decode(p, end, &cp);
			if (cp == JS_CP_INVALID)
				break;
			p += n;
		}
		memcpy(o, run, (size_t)(p - run));
		o += p - run;
		if (p >= end)
			break;
		cp = js_decode_char(&p, end);
		o += js_utf8_encode(cp == JS_CP_INVALID ? 0xFFFD : cp, o);
	}
	out->len = (size_t)(o - out->data);
	out->data[out->len] = '\0';
	return 0;
}

int js_streq(const js_doc *d, int tok, const char *s)
{
	if (!valid_tok(d, tok) || d->toks[tok].type != JS_STRING)
		return 0;
	size_t n = strlen(s);

	return streq_n(d, tok, s, n, ascii_n(s, n));
}

char *js_strdup(const js_doc *d, int tok)
{
	mw_buf b;

	mw_buf_init(&b);
	if (js_str(d, tok, &b) < 0)
		return NULL;
	if (!b.data)
		return mw_xstrdup("");
	return b.data;
}

/* Optional '-' then digits, the whole of [p, end). */
static int parse_int(const char *p, const char *end, int64_t *v)
{
	uint64_t acc = 0, lim;
	int neg = 0;

	if (p < end && *p == '-') {
		neg = 1;
		p++;
	}
	if (p >= end)
		return -1;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; p < end; p++) {
		unsigned dg = (unsigned)(unsigned char)*p - '0';

		if (dg > 9 || acc > (lim - dg) / 10)
			return -1;
		acc = acc * 10 + dg;
	}
	if (neg)
		*v = acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;
	else
		*v = (int64_t)acc;
	return 0;
}

int js_int(const js_doc *d, int tok, int64_t *v)
{
	const js_tok *t;

	if (!valid_tok(d, tok))
		return -1;
	t = &d->toks[tok];
	/* an escaped string is never a plain integer worth decoding */
	if (t->type != JS_NUMBER && (t->type != JS_STRING || t->size))
		return -1;
	return parse_int(d->buf + t->start, d->buf + t->end, v);
}

int js_bool(const js_doc *d, int tok)
{
	if (!valid_tok(d, tok))
		return -1;
	if (d->toks[tok].type == JS_TRUE)
		return 1;
	if (d->toks[tok].type == JS_FALSE)
		return 0;
	return -1;
}
