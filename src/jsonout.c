/* jsonout.c - the two JSON writers: terminal-safe and canonical.
 *
 * Canonical form and record id (a stable contract: ids are stored and
 * deduplicated on, so this must never change between runs or versions):
 *   - no white space anywhere; separators are exactly ',' and ':';
 *   - object members are ordered by their key decoded to UTF-8 (escapes
 *     resolved, invalid UTF-8 and lone surrogates as U+FFFD), compared code
 *     point by code point, which equals byte order of the UTF-8; a key that
 *     is a prefix of another sorts first; members with equal keys keep their
 *     input order (stable sort); this applies recursively;
 *   - arrays keep their order;
 *   - strings (keys and values) are written in double quotes with exactly
 *     these escapes: \" \\ \b \f \n \r \t, every other U+0000-U+001F as
 *     \u00xx with lower-case hex; everything else, including '/', DEL,
 *     U+0080-U+009F, U+2028/U+2029 and non-BMP characters, as raw UTF-8;
 *     invalid UTF-8 and lone surrogates as U+FFFD;
 *   - numbers byte for byte as received (1.0 stays 1.0, 1e5 stays 1e5);
 *     true, false, null as they are;
 *   - the id is the lower-case hex SHA-256 of those bytes.
 * This equals Python's json.dumps(v, sort_keys=True, separators=(',', ':'),
 * ensure_ascii=False) for values without floats and non-BMP keys (Python
 * sorts by UTF-16 code unit, and re-formats floats).
 *
 * Both writers reserve the worst-case growth of a string once (one input
 * byte never becomes more than six output bytes) and then copy runs of
 * bytes that need no change with memcpy. */
#include "jsonout.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static const char hexdig[] = "0123456789abcdef";

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SWAR_LO 0x0101010101010101ULL
#define SWAR_HI 0x8080808080808080ULL
#define SWAR_EQ(x, c) ((((x) ^ (SWAR_LO * (c))) - SWAR_LO) & ~((x) ^ (SWAR_LO * (c))))
/* Length of the leading run of p[0..n) that the safe writer copies as is:
 * printable ASCII other than '"' and '\\'. Eight bytes at a time; the
 * lowest flagged byte of each test is exact, which is all ctz needs. */
static inline size_t safe_ascii_run(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (n - i >= 8) {
		uint64_t x, m;

		memcpy(&x, p + i, 8);
		m = (x | ((x - SWAR_LO * 0x20) & ~x) | SWAR_EQ(x, '"') | SWAR_EQ(x, '\\') |
		     SWAR_EQ(x, 0x7F)) & SWAR_HI;
		if (m)
			return i + ((size_t)__builtin_ctzll(m) >> 3);
		i += 8;
	}
	return i;
}

/* The same for the canonical writer on a parsed body: any ASCII but '\\'
 * (a parsed body holds no raw '"' or controls). */
static inline size_t canon_ascii_run(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (n - i >= 8) {
		uint64_t x, m;

		memcpy(&x, p + i, 8);
		m = (x | SWAR_EQ(x, '\\')) & SWAR_HI;
		if (m)
			return i + ((size_t)__builtin_ctzll(m) >> 3);
		i += 8;
	}
	return i;
}
#else
static inline size_t safe_ascii_run(const unsigned char *p, size_t n)
{
	(void)p;
	(void)n;
	return 0;
}

static inline size_t canon_ascii_run(const unsigned char *p, size_t n)
{
	(void)p;
	(void)n;
	return 0;
}
#endif

/* A cursor into an mw_buf: the hot loops write through a pointer and only
 * call out when the buffer must grow. lim keeps one byte for the NUL. */
struct wr {
	mw_buf *b;
	char *o, *lim;
};

static void wr_begin(struct wr *w, mw_buf *b, size_t hint)
{
	mw_buf_reserve(b, hint);
	w->b = b;
	w->o = b->data + b->len;
	w->lim = b->data + b->cap - 1;
}

static void wr_grow(struct wr *w, size_t n) __attribute__((noinline, cold));
static void wr_grow(struct wr *w, size_t n)
{
	w->b->len = (size_t)(w->o - w->b->data);
	mw_buf_reserve(w->b, n);
	w->o = w->b->data + w->b->len;
	w->lim = w->b->data + w->b->cap - 1;
}

/* Room for n more bytes at w->o. */
static inline char *wr_need(struct wr *w, size_t n)
{
	if ((size_t)(w->lim - w->o) < n)
		wr_grow(w, n);
	return w->o;
}

/* Appends n bytes as they are. */
static inline void wr_bytes(struct wr *w, const void *p, size_t n)
{
	memcpy(wr_need(w, n), p, n);
	w->o += n;
}

static inline void wr_putc(struct wr *w, char ch)
{
	*wr_need(w, 1) = ch;
	w->o++;
}

static void wr_end(struct wr *w)
{
	w->b->len = (size_t)(w->o - w->b->data);
	*w->o = '\0';
}

static char *put_u00(char *o, unsigned c)
{
	o[0] = '\\';
	o[1] = 'u';
	o[2] = '0';
	o[3] = '0';
	o[4] = hexdig[(c >> 4) & 0xF];
	o[5] = hexdig[c & 0xF];
	return o + 6;
}

/* ---- safe encoding ------------------------------------------------------ */

static char *safe_cp(char *o, uint32_t cp)
{
	if (cp == JS_CP_INVALID)
		cp = 0xFFFD;
	if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0))
		return put_u00(o, cp);
	if (cp == '"' || cp == '\\') {
		o[0] = '\\';
		o[1] = (char)cp;
		return o + 2;
	}
	return o + js_utf8_encode(cp, o);
}

/* The end of the run starting at p that the safe form copies unchanged:
 * printable ASCII but '"' and '\\', and valid UTF-8 from U+00A0 on. */
static const unsigned char *safe_run(const unsigned char *p, const unsigned char *end)
{
	while (p < end) {
		unsigned c;
		uint32_t cp;
		size_t n;

		p += safe_ascii_run(p, (size_t)(end - p));
		if (p >= end)
			break;
		c = *p;
		if (c >= 0x20 && c < 0x7F) {
			if (c == '\\' || c == '"')
				break;
			p++;
			continue;
		}
		if (c < 0x80)
			break;
		n = js_utf8_decode(p, end, &cp);
		if (cp == JS_CP_INVALID || cp < 0xA0)
			break;
		p += n;
	}
	return p;
}

/* Writes plain bytes (not JSON: a backslash is just a character) as the
 * body of a safe string; o has room for 6 bytes per input byte. */
static char *safe_bytes(char *o, const unsigned char *p, const unsigned char *end)
{
	while (p < end) {
		const unsigned char *run = p;
		uint32_t cp;

		p = safe_run(p, end);
		memcpy(o, run, (size_t)(p - run));
		o += p - run;
		if (p >= end)
			break;
		p += js_utf8_decode(p, end, &cp);
		o = safe_cp(o, cp);
	}
	return o;
}

void jsonout_safe_string(mw_buf *out, const char *s, size_t n)
{
	char *o;

	mw_buf_reserve(out, n * 6 + 2);
	o = out->data + out->len;
	*o++ = '"';
	o = safe_bytes(o, (const unsigned char *)s, (const unsigned char *)s + n);
	*o++ = '"';
	out->len = (size_t)(o - out->data);
	out->data[out->len] = '\0';
}

/* Writes a parsed string body starting just past its opening quote, and
 * returns its closing quote. */
static const unsigned char *safe_str(struct wr *w, const unsigned char *p,
				     const unsigned char *end)
{
	for (;;) {
		const unsigned char *run = p;
		uint32_t cp;
		size_t n;
		char *o;

		p = safe_run(p, end);
		n = (size_t)(p - run);
		o = wr_need(w, n + 6);
		memcpy(o, run, n);
		o += n;
		if (p >= end || *p == '"') {
			w->o = o;
			return p;
		}
		if (*p == '\\')
			cp = js_decode_char(&p, end);
		else
			p += js_utf8_decode(p, end, &cp);
		w->o = safe_cp(o, cp);
	}
}

/* Writes value i: a plain one (JS_PLAIN) as its bytes, the others
 * rebuilt from their parts, so white space goes and only the strings
 * that need it are rewritten. Recursion is bounded by the parser's
 * JS_MAX_DEPTH. */
static void safe_value(struct wr *w, const js_doc *d, uint32_t i)
{
	const js_tok *t = &d->toks[i];
	const unsigned char *buf = (const unsigned char *)d->buf;
	uint32_t k, m;

	if (t->flags & JS_PLAIN || (t->type != JS_OBJECT && t->type != JS_ARRAY &&
				    t->type != JS_STRING)) {
		int q = t->type == JS_STRING;   /* with its quotes */

		wr_bytes(w, buf + t->start - q, t->end - t->start + 2 * (size_t)q);
		return;
	}
	switch (t->type) {
	case JS_OBJECT:
		wr_putc(w, '{');
		for (m = 0, k = i + 1; m < t->size; m++, k = d->toks[k + 1].next) {
			if (m)
				wr_putc(w, ',');
			safe_value(w, d, k);
			wr_putc(w, ':');
			safe_value(w, d, k + 1);
		}
		wr_putc(w, '}');
		break;
	case JS_ARRAY:
		wr_putc(w, '[');
		for (m = 0, k = i + 1; m < t->size; m++, k = d->toks[k].next) {
			if (m)
				wr_putc(w, ',');
			safe_value(w, d, k);
		}
		wr_putc(w, ']');
		break;
	default:
		wr_putc(w, '"');
		safe_str(w, buf + t->start, buf + t->end);
		wr_putc(w, '"');
		break;
	}
}

void jsonout_safe(mw_buf *out, const js_doc *d, int tok)
{
	const js_tok *t;
	struct wr w;

	if (tok < 0 || (size_t)tok >= d->ntoks)
		return;
	t = &d->toks[tok];
	wr_begin(&w, out, (size_t)(t->end - t->start) + 8);
	safe_value(&w, d, (uint32_t)tok);
	wr_end(&w);
}

/* ---- canonical encoding ------------------------------------------------- */

static char *canon_cp(char *o, uint32_t cp)
{
	static const char short_esc[0x20] = {
		['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't',
	};

	if (cp == JS_CP_INVALID)
		cp = 0xFFFD;
	if (cp < 0x20) {
		if (short_esc[cp]) {
			o[0] = '\\';
			o[1] = short_esc[cp];
			return o + 2;
		}
		return put_u00(o, cp);
	}
	if (cp == '"' || cp == '\\') {
		o[0] = '\\';
		o[1] = (char)cp;
		return o + 2;
	}
	return o + js_utf8_encode(cp, o);
}

/* Writes a parsed string body with its quotes. Runs are copied from the
 * input, so room for what is left of it plus one escape is always enough.
 * A plain one (JS_PLAIN) is its bytes. */
static void canon_string(struct wr *w, const js_tok *t, const unsigned char *buf)
{
	const unsigned char *p = buf + t->start, *end = buf + t->end;
	char *o;

	if (t->flags & JS_PLAIN) {
		wr_bytes(w, p - 1, (size_t)(end - p) + 2);
		return;
	}
	o = wr_need(w, (size_t)(end - p) + 2);
	*o++ = '"';
	while (p < end) {
		const unsigned char *run = p;
		uint32_t cp;
		size_t n;

		/* a parsed body holds no raw '"' or controls: only escapes
		 * and invalid UTF-8 need rewriting */
		while (p < end) {
			p += canon_ascii_run(p, (size_t)(end - p));
			if (p >= end)
				break;
			if (*p < 0x80) {
				if (*p == '\\')
					break;
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
		w->o = o;
		o = wr_need(w, (size_t)(end - p) + 8);
		o = canon_cp(o, cp);
	}
	*o++ = '"';
	w->o = o;
}

/* Compares two key tokens by decoded code points. */
static int key_cmp(const js_doc *d, uint32_t a, uint32_t b)
{
	const unsigned char *buf = (const unsigned char *)d->buf;
	const unsigned char *pa = buf + d->toks[a].start, *ea = buf + d->toks[a].end;
	const unsigned char *pb = buf + d->toks[b].start, *eb = buf + d->toks[b].end;

	/* equal plain ASCII prefix: the usual case, and a character boundary */
	while (pa < ea && pb < eb && *pa == *pb && *pa < 0x80 && *pa != '\\') {
		pa++;
		pb++;
	}
	/* differing plain ASCII characters (or an end) decide at once */
	if (pa < ea && pb < eb) {
		if (*pa < 0x80 && *pa != '\\' && *pb < 0x80 && *pb != '\\')
			return *pa < *pb ? -1 : 1;
	} else {
		return pa < ea ? 1 : pb < eb ? -1 : 0;
	}
	for (;;) {
		uint32_t ca, cb;

		if (pa >= ea)
			return pb >= eb ? 0 : -1;
		if (pb >= eb)
			return 1;
		ca = js_decode_char(&pa, ea);
		cb = js_decode_char(&pb, eb);
		if (ca == JS_CP_INVALID)
			ca = 0xFFFD;
		if (cb == JS_CP_INVALID)
			cb = 0xFFFD;
		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
}

/* A key to sort: its token and its first eight bytes packed big-endian,
 * when those are plain ASCII, so most comparisons are one integer compare.
 * Zero padding orders a shorter key first, as key_cmp does. */
struct skey {
	uint64_t pfx;
	uint32_t tok;
	uint32_t plain;
};

static void skey_init(const js_doc *d, uint32_t tok, struct skey *k)
{
	const unsigned char *p = (const unsigned char *)d->buf + d->toks[tok].start;
	size_t n = d->toks[tok].end - d->toks[tok].start, m = n < 8 ? n : 8, i;
	uint64_t v = 0;

	for (i = 0; i < m; i++) {
		if (p[i] >= 0x80 || p[i] == '\\')
			break;
		v |= (uint64_t)p[i] << (56 - 8 * i);
	}
	k->pfx = v;
	k->tok = tok;
	k->plain = i == m;
}

static inline int skey_cmp(const js_doc *d, const struct skey *a, const struct skey *b)
{
	if (a->plain && b->plain && a->pfx != b->pfx)
		return a->pfx < b->pfx ? -1 : 1;
	return key_cmp(d, a->tok, b->tok);
}

/* Stable sort; tmp holds n scratch slots. Insertion sort for the small
 * objects records are made of, merge sort beyond, so a hostile object with
 * a million keys stays n log n. */
static void sort_keys(const js_doc *d, struct skey *v, struct skey *tmp, size_t n)
{
	size_t i, j, k, mid;

	if (n <= 16) {
		for (i = 1; i < n; i++) {
			struct skey x = v[i];

			for (j = i; j > 0 && skey_cmp(d, &v[j - 1], &x) > 0; j--)
				v[j] = v[j - 1];
			v[j] = x;
		}
		return;
	}
	mid = n / 2;
	sort_keys(d, v, tmp, mid);
	sort_keys(d, v + mid, tmp, n - mid);
	if (skey_cmp(d, &v[mid - 1], &v[mid]) <= 0)
		return;
	memcpy(tmp, v, mid * sizeof(*v));
	i = 0;
	j = mid;
	k = 0;
	while (i < mid && j < n) {
		if (skey_cmp(d, &v[j], &tmp[i]) < 0)
			v[k++] = v[j++];
		else
			v[k++] = tmp[i++];
	}
	while (i < mid)
		v[k++] = tmp[i++];
}

struct canon {
	struct wr w;
	const js_doc *d;
	struct skey *keys; /* a stack of per-object key slices */
	size_t nkeys, cap;
	struct skey local[128];
};

static void canon_reserve_keys(struct canon *c, size_t more)
{
	size_t need = c->nkeys + more;

	if (need <= c->cap)
		return;
	while (c->cap < need)
		c->cap *= 2;
	if (c->keys == c->local) {
		c->keys = mw_xmalloc(c->cap * sizeof(*c->keys));
		memcpy(c->keys, c->local, c->nkeys * sizeof(*c->keys));
	} else {
		c->keys = mw_xrealloc(c->keys, c->cap * sizeof(*c->keys));
	}
}

static inline void canon_put(struct canon *c, char ch)
{
	wr_putc(&c->w, ch);
}

/* The keys of the object at i (n of them) into v in sorted order; tmp
 * holds n scratch slots. */
static void sort_members(const js_doc *d, uint32_t i, size_t n, struct skey *v,
			 struct skey *tmp)
{
	uint32_t k = i + 1;

	for (size_t m = 0; m < n; m++, k = d->toks[k + 1].next)
		skey_init(d, k, &v[m]);
	sort_keys(d, v, tmp, n);
}

/* The sorted order of the last record's keys, for the next record of the
 * same shape (the records of a page share their keys, in one order): its
 * keys' bytes in input order and their input positions in sorted order,
 * per thread. Only keys that are all plain are kept, so equal bytes mean
 * equal keys and the same stable order. */
#define MEMO_KEYS 64
#define MEMO_BYTES 1024
struct key_memo {
	uint32_t n;
	uint16_t len[MEMO_KEYS];
	uint8_t order[MEMO_KEYS];
	char bytes[MEMO_BYTES];
};
static _Thread_local struct key_memo key_memo;

/* The keys of the object at i (n of them, n <= MEMO_KEYS) into v in
 * sorted order; from the memo when it holds the same keys, else sorted
 * and remembered. */
static void sort_object_keys(const js_doc *d, uint32_t i, size_t n, struct skey *v,
			     struct skey *tmp)
{
	struct key_memo *km = &key_memo;
	const char *buf = d->buf;
	uint32_t pos[MEMO_KEYS], k;
	size_t m, off = 0;
	int same = km->n == n, plain = 1;

	for (m = 0, k = i + 1; m < n; m++, k = d->toks[k + 1].next) {
		const js_tok *t = &d->toks[k];
		size_t len = t->end - t->start;

		pos[m] = k;
		plain = plain && (t->flags & JS_PLAIN) && off + len <= MEMO_BYTES;
		same = same && len == km->len[m] && off + len <= MEMO_BYTES &&
		       memcmp(km->bytes + off, buf + t->start, len) == 0;
		off += len;
	}
	if (same) {
		for (m = 0; m < n; m++)
			v[m].tok = pos[km->order[m]];
		return;
	}
	sort_members(d, i, n, v, tmp);
	if (!plain)
		return;
	km->n = (uint32_t)n;
	for (m = 0, off = 0; m < n; m++) {
		const js_tok *t = &d->toks[pos[m]];
		size_t lo = 0, hi = n;

		km->len[m] = (uint16_t)(t->end - t->start);
		memcpy(km->bytes + off, buf + t->start, km->len[m]);
		off += km->len[m];
		/* v[m]'s input position: pos[] grows with the token index */
		while (hi - lo > 1) {
			size_t mid = (lo + hi) / 2;

			if (pos[mid] <= v[m].tok)
				lo = mid;
			else
				hi = mid;
		}
		km->order[m] = (uint8_t)lo;
	}
}

/* Recursion depth is bounded by the parser's JS_MAX_DEPTH. */
static void canon_value(struct canon *c, uint32_t i)
{
	const js_doc *d = c->d;
	const js_tok *t = &d->toks[i];
	const unsigned char *buf = (const unsigned char *)d->buf;
	size_t base, n, m;
	uint32_t k;

	switch (t->type) {
	case JS_OBJECT:
		n = t->size;
		base = c->nkeys;
		canon_reserve_keys(c, 2 * n);
		if (base == 0 && n <= MEMO_KEYS) /* a record: likely the last one's keys */
			sort_object_keys(d, i, n, c->keys, c->keys + n);
		else
			sort_members(d, i, n, c->keys + base, c->keys + base + n);
		c->nkeys = base + n;
		canon_put(c, '{');
		for (m = 0; m < n; m++) {
			k = c->keys[base + m].tok; /* re-read: nested objects may move it */
			if (m)
				canon_put(c, ',');
			canon_string(&c->w, &d->toks[k], buf);
			canon_put(c, ':');
			canon_value(c, k + 1);
		}
		canon_put(c, '}');
		c->nkeys = base;
		break;
	case JS_ARRAY:
		canon_put(c, '[');
		for (m = 0, k = i + 1; m < t->size; m++) {
			if (m)
				canon_put(c, ',');
			canon_value(c, k);
			k = d->toks[k].next;
		}
		canon_put(c, ']');
		break;
	case JS_STRING:
		canon_string(&c->w, t, buf);
		break;
	default:
		wr_bytes(&c->w, buf + t->start, t->end - t->start);
		break;
	}
}

void jsonout_canonical(mw_buf *out, const js_doc *d, int tok)
{
	struct canon c;
	const js_tok *t;

	if (tok < 0 || (size_t)tok >= d->ntoks)
		return;
	t = &d->toks[tok];
	/* the canonical form is rarely longer than the source */
	wr_begin(&c.w, out, (size_t)(t->end - t->start) + 8);
	c.d = d;
	c.keys = c.local;
	c.nkeys = 0;
	c.cap = sizeof(c.local) / sizeof(c.local[0]);
	canon_value(&c, (uint32_t)tok);
	wr_end(&c.w);
	if (c.keys != c.local)
		free(c.keys);
}

/* SHA256() looks the algorithm up on every call, which costs as much as
 * hashing a record; fetch it once. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void jsonout_canonical_id(const js_doc *d, int tok, mw_buf *scratch, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	const unsigned char *data;
	unsigned int mdlen = 0;

	mw_buf_reset(scratch);
	jsonout_canonical(scratch, d, tok);
	data = (const unsigned char *)(scratch->data ? scratch->data : "");
	pthread_once(&sha256_once, sha256_fetch);
	if (!sha256_md || !EVP_Digest(data, scratch->len, md, &mdlen, sha256_md, NULL) ||
	    mdlen != 32)
		/* only a broken libcrypto gets here; SHA256() needs no fetch */
		SHA256(data, scratch->len, md);
	mw_hex(md, 32, out);
}
