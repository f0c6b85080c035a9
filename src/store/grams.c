/* store/grams.c - the filter's index: a summary per run (schema 7, in
 * the run's row), written by the page commit that writes the run, so a filter
 * skips whole runs that cannot hold a match and scans only the others.
 *
 * A summary is the run's time span and two Bloom filters of its records'
 * values, scalars' text as the filter sees it (filter.c: a string decoded,
 * a number or literal as written; ASCII letters folded to small ones), at
 * any depth, keys left out. A term of the filter lies inside one scalar
 * and no character outside ASCII folds into ASCII or out of it.
 *
 * The first, one hash a member, holds the trigrams (three consecutive
 * ASCII bytes) starting at an offset that is a multiple of 3: of a needle
 * at offset o of a value, every ASCII trigram at an offset j of the needle
 * with o + j a multiple of 3 is in the value's summary, so a run whose
 * filter lacks one of each of the three sets cannot match.
 *
 * The second, two hashes a member, holds the numbers of the values that
 * have an '@' (NUMBERS_IN): their tokens (maximal runs of ASCII letters
 * and digits) of digits alone with a delimiter (any other byte; each byte
 * of a character outside ASCII is one of class 0x80) on both sides inside
 * the value, keyed with both delimiters. Only a needle with an '@' asks:
 * it lies in a value with one, and its token delimited inside it is one
 * delimited the same way in any value holding the needle, so a run
 * lacking the key cannot match. It answers a term whose trigrams are in
 * every run ("<sim-url-7@": the number between "-" and "@" is in one
 * run).
 *
 * The blob in runs.grams is the trigrams' bitmap (2^a bytes, 128 to 2048),
 * the numbers' (2^b bytes, 64 to 4096) and one byte, b. A blob that is a
 * power of two of 128 to 2048 bytes was written before the numbers' bitmap
 * (trigrams alone: no term is excluded by numbers); one that is neither
 * (2^a + 2^b + 1 is never a power of two) is no summary, and its run is
 * read, as it is by a binary from before the numbers. Runs without a
 * summary (written before version 7) are scanned. HACKING, "The filter's
 * index", has the figures and the costs. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include "private.h"

#include <stdlib.h>
#include <string.h>

/* Fold the bitmap while it stays at most this full (1/GRAMS_FILL): a
 * trigram absent from a run passes the test with that probability. At a
 * third, summaries twice the size cost fetch 0.3% more CPU ("The
 * filter's index"). */
#define GRAMS_FILL 2
#define GRAMS_MIN_BITS 1024
/* The numbers' bitmap, two bits a key, folded while at most a quarter
 * full: a key absent from a run passes with 1/16 (the fill squared). A
 * term usually has one rare key (the number that makes it one match), so
 * that is the share of other runs read; the simulator's runs of 100
 * records fold to 256 bytes (grams_finish). */
#define TOKENS_FILL 4
/* Trigrams are kept at offsets that are multiples of this (grams_text). */
#define GRAMS_STEP 3
/* Dedup: the distinct values of a page (about 5 a record) in an open table. */
#define SEEN_SLOTS 4096
#define GRAMS_DEDUP 8

struct seen_slot {
	uint64_t hash;
	const unsigned char *p;
	uint32_t len, gen;
};

struct grams {
	uint8_t bits[GRAMS_MAX_BITS / 8];
	uint8_t tbits[TOKENS_MAX_BITS / 8];
	uint8_t blob[GRAMS_MAX_BITS / 8 + TOKENS_MAX_BITS / 8 + 1];
	int64_t tmin, tmax;
	size_t nrec, nseen;
	uint32_t gen;
	js_doc doc;             /* records committed without their page's tokens */
	mw_buf text;            /* a string with escapes, decoded */
	struct seen_slot seen[SEEN_SLOTS];
};

static const uint8_t fold_ascii[128] = {
#define R(x) x, x + 1, x + 2, x + 3, x + 4, x + 5, x + 6, x + 7
	R(0), R(8), R(16), R(24), R(32), R(40), R(48), R(56), 64,
	'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q',
	'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 91, 92, 93, 94, 95, R(96), R(104),
	R(112), R(120)
#undef R
};

/* A trigram's key: its three folded ASCII bytes, the first in the low
 * byte (as eight bytes loaded little-endian hold them); gram_hash takes it
 * shifted up a byte. Its bit in a bitmap of GRAMS_MAX_BITS is that hash;
 * in one of 2^k bits, the hash's low k bits (a bitmap is folded by OR-ing
 * its halves). */
static inline uint32_t gram_hash(uint32_t key8)
{
	return (key8 * 0x9E3779B1u) >> (32 - GRAMS_LOG_BITS);
}

/* The trigram at byte s (1 to 5) of eight folded bytes x, or at 0. */
#define GRAM_AT(x, s) \
	gram_hash((s) ? (uint32_t)((x) >> (8 * (s) - 8)) & 0xFFFFFF00u : (uint32_t)(x) << 8)

static inline void set_bit(uint8_t *bits, uint32_t h)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* the same bit as bits[h / 8] & 1 << h % 8, a word at a time */
	uint64_t w;

	memcpy(&w, bits + (h >> 6) * 8, 8);
	w |= 1ull << (h & 63);
	memcpy(bits + (h >> 6) * 8, &w, 8);
#else
	bits[h >> 3] |= (uint8_t)(1u << (h & 7));
#endif
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SWAR_LO 0x0101010101010101ull
#define SWAR_HI 0x8080808080808080ull
/* Eight ASCII bytes with A-Z made small. */
static inline uint64_t fold8(uint64_t x)
{
	uint64_t upper = (x + SWAR_LO * 0x3F) & ~(x + SWAR_LO * 0x25) & SWAR_HI;

	return x | (upper >> 2);
}
#endif

/* The trigrams of a value's text (no escapes: its bytes, UTF-8 or not) as
 * filter.c folds and searches it, n bytes at p (back: the 8 bytes before p
 * may be read too). Only those starting at an offset of the folded text
 * that is a multiple of GRAMS_STEP (3) are kept: a needle lies at some
 * offset, and then its own trigrams at the offsets that complete it to a
 * multiple are all there (grams_probe). ASCII eight bytes at a time, the
 * trigrams at offsets 0 and 3 of each, six bytes on; a character outside
 * ASCII one at a time (it is never ASCII once folded, and as long as
 * filter.c writes it, so it only breaks trigrams and moves the offset). */
static inline __attribute__((always_inline)) void grams_text(uint8_t *bits,
							     const unsigned char *p, size_t n,
							     int back)
{
	size_t i = 0, pos = 0, have = 0;
	uint32_t key = 0;
#ifdef SWAR_LO
	uint64_t x;

	if (n < 8) {
		if (!back)
			goto slow;
		memcpy(&x, p + n - 8, 8);
		x >>= 8 * (8 - n);
		if (x & SWAR_HI)
			goto slow;
		x = fold8(x);
		set_bit(bits, GRAM_AT(x, 0));
		if (n >= 6)
			set_bit(bits, GRAM_AT(x, 3));
		return;
	}
fast:
	/* here pos is a multiple of 3, and every trigram starting before it
	 * is done */
	for (;;) {
		memcpy(&x, p + i, 8);
		if (x & SWAR_HI) {
			have = 0;
			goto slow;
		}
		x = fold8(x);
		set_bit(bits, GRAM_AT(x, 0));
		set_bit(bits, GRAM_AT(x, 3));
		if (i + 14 > n)
			break;
		i += 6;
		pos += 6;
	}
	if (i + 8 == n)
		return;
	{
		/* the last eight from an offset a multiple of 3 on: its starts
		 * 0 and 3 (the second never past n - 3), and at most one more
		 * (at n - 3 or n - 4, from the last four bytes) */
		size_t f = i + (n - 8 - i) / 3 * 3, last;

		memcpy(&x, p + f, 8);
		if (x & SWAR_HI) {
			i += 6;
			pos += 6;
			have = 0;
			goto slow;
		}
		x = fold8(x);
		set_bit(bits, GRAM_AT(x, 0));
		set_bit(bits, GRAM_AT(x, 3));
		last = f + 6;
		if (last + 3 <= n) {
			uint32_t y;

			memcpy(&y, p + n - 4, 4);
			/* its three of the last four bytes (one outside ASCII:
			 * no trigram) */
			if (last + 3 == n) {
				if (!(y & 0x80808000u))
					set_bit(bits, gram_hash((uint32_t)fold8(y) & 0xFFFFFF00u));
			} else if (!(y & 0x00808080u)) {
				set_bit(bits, gram_hash((uint32_t)fold8(y) << 8));
			}
		}
		return;
	}
slow:
#endif
	while (i < n) {
		uint32_t cp;
		char enc[4];

		if (p[i] < 0x80) {
#ifdef SWAR_LO
			uint64_t y;

			/* back to eight at a time at a multiple of 3: the
			 * trigrams ending before it started before it */
			if (pos % 3 == 0 && i + 8 <= n && (memcpy(&y, p + i, 8), !(y & SWAR_HI)))
				goto fast;
#endif
			key = (key >> 8) | ((uint32_t)fold_ascii[p[i++]] << 16);
			if (++have >= 3 && (pos - 2) % 3 == 0)
				set_bit(bits, gram_hash(key << 8));
			pos++;
			continue;
		}
		i += js_utf8_decode(p + i, p + n, &cp);
		have = 0;
		pos += js_utf8_encode(filter_fold(cp == JS_CP_INVALID ? 0xFFFD : cp), enc);
	}
}


/* ---- delimited numbers ---------------------------------------------------- */

/* A token is a maximal run of ASCII letters and digits of a value's text
 * as the filter sees it; every other byte delimits one. The summary keeps
 * the tokens of digits alone (a count, a part of an address or a time, the
 * number in "<sim-url-7@"), those with a delimiter on each side inside the
 * value: a needle cannot know where a value starts. Tokens with a letter
 * are left to the trigrams; keeping them too cost fetch nearly twice what
 * the numbers cost ("The filter's index"). A token's key is its bytes with
 * its two delimiters, each byte normalised: A-Z folded, a byte outside
 * ASCII made 0x80 (a character outside ASCII folds to one outside ASCII,
 * so each of its bytes is a delimiter of that one class). Up to eight
 * bytes are one word, little-endian (the first byte lowest); a longer key
 * is its words in order, the last padded with zero bytes (no two keys are
 * one padded string: the first non-digit after the first byte ends one).
 * tok_step and tok_bits hash them; the commit and the probe share them. */
/* Only values holding this byte keep their numbers, and only a needle
 * holding it asks for them: addresses and message ids, where a number is
 * what tells one from the next ("<sim-url-7@", "jane.doe7@"). Every value's
 * numbers cost fetch more than the trigrams did ("The filter's index"). */
#define NUMBERS_IN '@'
#define TOK_K1 0x9E3779B97F4A7C15ull
#define TOK_K2 0xD6E8FEB86659FD93ull

static inline uint64_t tok_step(uint64_t h, uint64_t w)
{
	h = (h ^ w) * TOK_K1;
	return h ^ (h >> 32);
}

/* A key's two bits in a bitmap of TOKENS_MAX_BITS: the top two fields of
 * TOKENS_LOG_BITS of the final hash; in one of 2^k bits, their low k bits
 * (a bitmap is folded like the trigrams', grams_finish). */
static inline void tok_bits(uint64_t h, uint32_t *b1, uint32_t *b2)
{
	h *= TOK_K2;
	*b1 = (uint32_t)(h >> (64 - TOKENS_LOG_BITS));
	*b2 = (uint32_t)(h >> (64 - 2 * TOKENS_LOG_BITS)) & (TOKENS_MAX_BITS - 1);
}

static inline unsigned tok_byte(unsigned char c)
{
	return c >= 0x80 ? 0x80 : fold_ascii[c];
}

static inline int tok_digit(unsigned c)
{
	return c >= '0' && c <= '9';
}

static inline int tok_inner(unsigned c)
{
	return tok_digit(c) || (c >= 'a' && c <= 'z');
}

/* The hash of the key from the delimiter at a to the one at b of p, a
 * byte at a time. */
static uint64_t tok_hash_bytes(const unsigned char *p, size_t a, size_t b)
{
	uint64_t h = 0, w = 0;
	unsigned k = 0;

	for (size_t i = a; i <= b; i++) {
		w |= (uint64_t)tok_byte(p[i]) << (8 * k);
		if (++k == 8) {
			h = tok_step(h, w);
			w = 0;
			k = 0;
		}
	}
	return k ? tok_step(h, w) : h;
}

static inline void tok_set(uint8_t *tbits, uint64_t h)
{
	uint32_t b1, b2;

	tok_bits(h, &b1, &b2);
	set_bit(tbits, b1);
	set_bit(tbits, b2);
}

/* A walk over the numbers of n bytes, a byte at a time: the probe's of a
 * needle, and the commit's of text the fast path leaves. */
struct num_walk {
	size_t at, last;        /* the next byte; the last delimiter, n: none */
};

/* 1 and the next number's delimiters in *a and *b, or 0 at the end. */
static int next_number(const unsigned char *p, size_t n, struct num_walk *w, size_t *a,
		       size_t *b)
{
	size_t inner = 0;
	int digits = 1;

	while (w->at < n) {
		unsigned c = tok_byte(p[w->at++]);

		if (tok_inner(c)) {
			digits &= tok_digit(c);
			inner++;
			continue;
		}
		*a = w->last;
		*b = w->at - 1;
		w->last = *b;
		if (*a < n && inner && digits)
			return 1;
		inner = 0;
		digits = 1;
	}
	return 0;
}

static void numbers_bytes(uint8_t *tbits, const unsigned char *p, size_t n)
{
	struct num_walk w = { 0, n };
	size_t a, b;

	while (next_number(p, n, &w, &a, &b))
		tok_set(tbits, tok_hash_bytes(p, a, b));
}

#ifdef SWAR_LO
/* Eight bytes normalised as a key's are (tok_byte). */
static inline uint64_t tok_norm8(uint64_t x)
{
	uint64_t hi = x & SWAR_HI;

	if (!hi)
		return fold8(x);
	return (fold8(x & ~SWAR_HI) & ~((hi >> 7) * 0xFF)) | hi;
}

/* The eight bytes of p from c on, as they are; n >= 8, and those past n
 * are zero (the last eight shifted down). */
static inline uint64_t tok_load(const unsigned char *p, size_t n, size_t c)
{
	uint64_t x;

	if (c + 8 <= n) {
		memcpy(&x, p + c, 8);
	} else {
		memcpy(&x, p + n - 8, 8);
		x >>= 8 * (c + 8 - n);
	}
	return x;
}

/* The hash of the key from the delimiter at a to the one at b, a word at
 * a time (n >= 8). */
static inline uint64_t tok_hash_words(const unsigned char *p, size_t n, size_t a, size_t b)
{
	uint64_t h = 0;
	size_t len = b - a + 1;

	for (;;) {
		uint64_t w = tok_norm8(tok_load(p, n, a));

		if (len <= 8)
			return tok_step(h, len == 8 ? w : w & ((1ull << (8 * len)) - 1));
		h = tok_step(h, w);
		a += 8;
		len -= 8;
	}
}

/* The high bit of each ASCII digit of x. */
static inline uint64_t digits8(uint64_t x)
{
	uint64_t y = x & ~SWAR_HI;

	return (y + SWAR_LO * 0x50) & ~(y + SWAR_LO * 0x46) & ~x & SWAR_HI;
}

/* The high bit of each ASCII letter of x. */
static inline uint64_t letters8(uint64_t x)
{
	uint64_t y = (x & ~SWAR_HI) | SWAR_LO * 0x20;

	return (y + SWAR_LO * 0x1F) & ~(y + SWAR_LO * 0x05) & ~x & SWAR_HI;
}
#endif

#ifdef SWAR_LO
/* A number's key from the delimiter after it, at b (the byte before b is
 * a digit): its first delimiter is the last byte before b that is not a
 * digit, when there is one and it is no letter. */
static inline void number_at(uint8_t *tbits, const unsigned char *p, size_t n, size_t b)
{
	size_t a = b - 1;

	while (a-- > 0 && tok_digit(p[a]))
		;
	if (a < n && !tok_inner(tok_byte(p[a])))
		tok_set(tbits, tok_hash_words(p, n, a, b));
}

/* The numbers ending in the word x at byte i (d its digits, carry 0x80
 * when the byte before it is one, valid its bytes below n). */
static inline void numbers_word(uint8_t *tbits, const unsigned char *p, size_t n, size_t i,
				uint64_t x, uint64_t d, uint64_t carry, uint64_t valid)
{
	uint64_t e = ~(d | letters8(x)) & SWAR_HI & ((d << 8) | carry) & valid;

	while (e) {
		number_at(tbits, p, n, i + ((size_t)__builtin_ctzll(e) >> 3));
		e &= e - 1;
	}
}
#endif

/* The numbers of a value's text (no escapes), n bytes at p (back: the 8
 * bytes before p may be read too), when it holds NUMBERS_IN, eight bytes
 * at a time: a word without a digit (nor one just before it) costs a
 * test; in one with, each delimiter after a digit is found from masks, and
 * ends a number when the last byte before it that is not a digit is a
 * delimiter too. */
static inline __attribute__((always_inline)) void grams_numbers(uint8_t *tbits,
								const unsigned char *p, size_t n,
								int back)
{
#ifdef SWAR_LO
	uint64_t x, d, carry = 0;       /* 0x80: the byte before the word is a digit */
	size_t i;
#endif

	if (!memchr(p, NUMBERS_IN, n))
		return;
#ifdef SWAR_LO
	if (n < 8) {
		if (n < 3)
			return;
		if (!back) {
			numbers_bytes(tbits, p, n);
			return;
		}
		memcpy(&x, p + n - 8, 8);
		x >>= 8 * (8 - n);
		d = digits8(x);
		if (d)
			numbers_word(tbits, p, n, 0, x, d, 0, ~0ull >> (8 * (8 - n)));
		return;
	}
	for (i = 0; i + 8 <= n; i += 8) {
		uint64_t e;

		memcpy(&x, p + i, 8);
		if (!(x & SWAR_HI)) {
			/* ASCII, the common case: no byte to keep out of the
			 * masks, and no carry between bytes */
			uint64_t y = x | SWAR_LO * 0x20;

			d = (x + SWAR_LO * 0x50) & ~(x + SWAR_LO * 0x46) & SWAR_HI;
			if (!(d | carry))
				continue;
			e = ~(d | ((y + SWAR_LO * 0x1F) & ~(y + SWAR_LO * 0x05))) &
			    ((d << 8) | carry);
		} else {
			d = digits8(x);
			if (!(d | carry))
				continue;
			e = ~(d | letters8(x)) & ((d << 8) | carry);
		}
		carry = (d >> 56) & 0x80;
		while (e) {
			number_at(tbits, p, n, i + ((size_t)__builtin_ctzll(e) >> 3));
			e &= e - 1;
		}
	}
	if (i < n) {
		/* the last bytes, shifted down from the last eight */
		memcpy(&x, p + n - 8, 8);
		x >>= 8 * (i + 8 - n);
		d = digits8(x);
		if (d | carry)
			numbers_word(tbits, p, n, i, x, d, carry, ~0ull >> (8 * (i + 8 - n)));
	}
#else
	(void)back;
	numbers_bytes(tbits, p, n);
#endif
}

/* A string with escapes: decoded first, as the filter decodes it (the
 * decoded text is never longer than the escaped one). */
static void grams_escaped(struct grams *g, const unsigned char *p, const unsigned char *end)
{
	unsigned char *o, *o0;

	mw_buf_reset(&g->text);
	mw_buf_reserve(&g->text, (size_t)(end - p) + 4);
	o = o0 = (unsigned char *)g->text.data;
	while (p < end) {
		const unsigned char *bs = memchr(p, '\\', (size_t)(end - p));
		uint32_t cp;

		if (!bs)
			bs = end;
		memcpy(o, p, (size_t)(bs - p));
		o += bs - p;
		p = bs;
		if (p == end)
			break;
		cp = js_decode_char(&p, end);
		o += js_utf8_encode(cp == JS_CP_INVALID ? 0xFFFD : cp, (char *)o);
	}
	grams_text(g->bits, o0, (size_t)(o - o0), 0);
	grams_numbers(g->tbits, o0, (size_t)(o - o0), 0);
}

/* Bytes as they are, every trigram. */
static void grams_raw(uint8_t *bits, const unsigned char *p, size_t n)
{
	uint32_t key = 0;
	size_t have = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i] >= 0x80) {
			have = 0;
			continue;
		}
		key = (key >> 8) | ((uint32_t)fold_ascii[p[i]] << 16);
		if (++have >= 3)
			set_bit(bits, gram_hash(key << 8));
	}
}

/* The three words of a value (n >= 8) a hash is made of: its first eight
 * bytes, its last eight and eight from its middle; up to 24 bytes they
 * are all of it. */
struct words {
	uint64_t a, b, c;
};

static inline struct words words_of(const unsigned char *p, size_t n)
{
	struct words w;

	memcpy(&w.a, p, 8);
	memcpy(&w.b, p + n / 2 - 4, 8);
	memcpy(&w.c, p + n - 8, 8);
	return w;
}

/* 1 when the page has had this value (the same bytes, n >= 8) already;
 * else notes it. Equal hashes are never taken for equal values: a value
 * made to collide with another would hide itself from the filter. */
static inline __attribute__((always_inline)) int seen_before(struct grams *g,
							     const unsigned char *p, size_t n)
{
	struct words w = words_of(p, n);
	uint64_t h = (w.a * 0x9E3779B97F4A7C15ull) ^ (w.b * 0xFF51AFD7ED558CCDull) ^
		     ((w.c + n) * 0xC4CEB9FE1A85EC53ull);
	size_t i;

	if (g->nseen >= SEEN_SLOTS / 2)
		return 0;       /* full: index it again, which is merely slower */
	for (i = (size_t)(h >> 52) & (SEEN_SLOTS - 1);; i = (i + 1) & (SEEN_SLOTS - 1)) {
		struct seen_slot *s = &g->seen[i];

		if (s->gen != g->gen) {
			*s = (struct seen_slot){ h, p, (uint32_t)n, g->gen };
			g->nseen++;
			return 0;
		}
		if (s->hash == h && s->len == n) {
			struct words v = words_of(s->p, n);

			if (v.a == w.a && v.b == w.b && v.c == w.c &&
			    (n <= 24 || memcmp(s->p + 8, p + 8, n - 16) == 0))
				return 1;
		}
	}
}

/* A scalar: under 3 bytes it holds no trigram; of GRAMS_DEDUP bytes or
 * more it is looked up among the page's values first (below that, its
 * trigrams cost less than the look-up). */
static inline __attribute__((always_inline)) void grams_value(struct grams *g,
							      const js_doc *d, const js_tok *t)
{
	const unsigned char *p = (const unsigned char *)d->buf + t->start;
	size_t n = t->end - t->start;

	if (n < 3 || (n >= GRAMS_DEDUP && seen_before(g, p, n)))
		return;
	if (t->type == JS_STRING && t->size) {
		grams_escaped(g, p, p + n);
	} else {
		grams_text(g->bits, p, n, t->start >= 8);
		grams_numbers(g->tbits, p, n, t->start >= 8);
	}
}

/* Every scalar under token i, keys left out. */
static void grams_walk(struct grams *g, const js_doc *d, uint32_t i)
{
	const js_tok *t = &d->toks[i];
	uint32_t j;

	switch (t->type) {
	case JS_OBJECT:
		for (j = i + 1; j < t->next; j = d->toks[j + 1].next) {
			const js_tok *v = &d->toks[j + 1];

			if (v->type == JS_OBJECT || v->type == JS_ARRAY)
				grams_walk(g, d, j + 1);
			else
				grams_value(g, d, v);
		}
		break;
	case JS_ARRAY:
		for (j = i + 1; j < t->next; j = d->toks[j].next)
			grams_walk(g, d, j);
		break;
	default:
		grams_value(g, d, t);
	}
}

struct grams *grams_new(void)
{
	struct grams *g = mw_xcalloc(1, sizeof *g);

	js_init(&g->doc);
	mw_buf_init(&g->text);
	return g;
}

void grams_free(struct grams *g)
{
	if (!g)
		return;
	js_free(&g->doc);
	mw_buf_free(&g->text);
	free(g);
}

void grams_reset(struct grams *g)
{
	memset(g->bits, 0, sizeof g->bits);
	memset(g->tbits, 0, sizeof g->tbits);
	g->tmin = INT64_MAX;
	g->tmax = INT64_MIN;
	g->nrec = 0;
	g->nseen = 0;
	if (++g->gen == 0) {    /* once in 2^32 pages: stamps from before wrap */
		memset(g->seen, 0, sizeof g->seen);
		g->gen = 1;
	}
}

void grams_add(struct grams *g, const struct store_rec *rec)
{
	mw_err ignored;

	g->nrec++;
	if (rec->time < g->tmin)
		g->tmin = rec->time;
	if (rec->time > g->tmax)
		g->tmax = rec->time;
	if (rec->doc) {
		/* the page's own tokens: what the store keeps is their safe
		 * form (jsonout_safe), the same text once decoded */
		grams_walk(g, rec->doc, (uint32_t)rec->tok);
		return;
	}
	if (js_parse(&g->doc, rec->json, rec->json_len, &ignored) == 0 && g->doc.ntoks) {
		/* its tokens point into rec->json, which outlives the page's
		 * commit; the table of values seen holds pointers into it */
		grams_walk(g, &g->doc, 0);
		return;
	}
	/* Not JSON: the filter searches its bytes as they are (filter_test),
	 * so every trigram of them, at any offset */
	grams_raw(g->bits, (const unsigned char *)rec->json, rec->json_len);
	numbers_bytes(g->tbits, (const unsigned char *)rec->json, rec->json_len);
}

static unsigned popcount64(uint64_t x)
{
	x = x - ((x >> 1) & 0x5555555555555555ull);
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
	return (unsigned)((x * 0x0101010101010101ull) >> 56);
}

/* A bitmap of max_bits folded in place to the smallest size, at least
 * min_bits, at most 1/fill full; its size in bytes.
 * The fill, from an eighth of the bitmap (the hashes spread evenly);
 * halved, a bitmap keeps a bit empty where both halves had it empty. */
static size_t fold_bits(uint8_t *bits, size_t max_bits, size_t min_bits, int fill)
{
	size_t nbits = max_bits, set = 0;
	double empty;

	for (size_t i = 0; i < max_bits / 64; i += 8) {
		uint64_t x;

		memcpy(&x, bits + i, 8);
		set += popcount64(x);
	}
	empty = 1.0 - (double)set / (double)(max_bits / 8);
	while (nbits > min_bits && (1.0 - empty * empty) * fill <= 1.0) {
		size_t bytes = nbits / 16;

		for (size_t i = 0; i < bytes; i += 8) {
			uint64_t a, b;

			memcpy(&a, bits + i, 8);
			memcpy(&b, bits + bytes + i, 8);
			a |= b;
			memcpy(bits + i, &a, 8);
		}
		nbits /= 2;
		empty *= empty;
	}
	return nbits / 8;
}

size_t grams_finish(struct grams *g, const void **blob, int64_t *tmin, int64_t *tmax)
{
	/* A smaller summary costs the commit and the query less. */
	size_t gbytes = fold_bits(g->bits, GRAMS_MAX_BITS, GRAMS_MIN_BITS, GRAMS_FILL);
	size_t tbytes = fold_bits(g->tbits, TOKENS_MAX_BITS, TOKENS_MIN_BITS, TOKENS_FILL);
	unsigned log = 0;

	while ((1u << log) < tbytes)
		log++;
	memcpy(g->blob, g->bits, gbytes);
	memcpy(g->blob + gbytes, g->tbits, tbytes);
	g->blob[gbytes + tbytes] = (uint8_t)log;
	*blob = g->blob;
	*tmin = g->nrec ? g->tmin : 0;
	*tmax = g->nrec ? g->tmax : 0;
	return gbytes + tbytes + 1;
}

/* ---- the query's side -------------------------------------------------- */

/* The probe: from, to (0: none), then per term that can exclude a run
 * four counts, the trigrams' bits and the numbers' (16 bits each,
 * little-endian): the trigrams starting at offsets 0, 1 and 2 modulo 3 of
 * the needle (all three counts 0 when one of them is: one offset tells
 * nothing), then the key of each number between two delimiters of the
 * needle, its two bits. A value holding the needle at some offset holds
 * all of one of the three sets among its summarised trigrams, and every
 * key of the needle (a number delimited in the needle is one delimited the
 * same way in the value); a run lacking one of each set, or a key, cannot
 * hold that term, and the terms are ANDed. */
static void put_u16(mw_buf *out, uint32_t v)
{
	unsigned char b[2] = { (unsigned char)v, (unsigned char)(v >> 8) };

	mw_buf_append(out, (const char *)b, 2);
}

#define PROBE_MAX 4096  /* trigrams of one offset, or keys, of a term */

int grams_probe(const struct filter *f, mw_buf *out)
{
	unsigned char hdr[16];
	int useful = f->from || f->to;

	mw_buf_reset(out);
	for (int k = 0; k < 8; k++) {
		hdr[k] = (unsigned char)((uint64_t)f->from >> (8 * k));
		hdr[8 + k] = (unsigned char)((uint64_t)f->to >> (8 * k));
	}
	mw_buf_append(out, (const char *)hdr, sizeof hdr);
	for (size_t i = 0; i < f->nterms; i++) {
		const unsigned char *p = (const unsigned char *)f->terms[i].needle.data;
		size_t n = f->terms[i].needle.len, at = out->len, cnt[GRAMS_STEP + 1] = { 0 };
		struct num_walk w = { 0, n };
		size_t a, b;
		int empty = 0, keyed = memchr(p, NUMBERS_IN, n) != NULL;

		for (int r = 0; r <= GRAMS_STEP; r++)
			put_u16(out, 0);
		for (size_t r = 0; r < GRAMS_STEP; r++) {
			uint32_t key = 0;
			size_t have = 0;

			for (size_t k = 0; k < n; k++) {
				if (p[k] >= 0x80) {
					have = 0;
					continue;
				}
				key = (key >> 8) | ((uint32_t)fold_ascii[p[k]] << 16);
				/* the trigram ending at k starts at k - 2 */
				if (++have >= 3 && (k - 2) % GRAMS_STEP == r && cnt[r] < PROBE_MAX) {
					put_u16(out, gram_hash(key << 8));
					cnt[r]++;
				}
			}
			empty |= !cnt[r];
		}
		if (empty) {
			out->len = at + 2 * (GRAMS_STEP + 1);
			memset(cnt, 0, sizeof cnt);
		}
		/* a needle with an '@' lies in a value with one, whose
		 * numbers are kept */
		while (keyed && next_number(p, n, &w, &a, &b) && cnt[GRAMS_STEP] < PROBE_MAX) {
			uint32_t b1, b2;

			tok_bits(tok_hash_bytes(p, a, b), &b1, &b2);
			put_u16(out, b1);
			put_u16(out, b2);
			cnt[GRAMS_STEP]++;
		}
		if (empty && !cnt[GRAMS_STEP]) {
			out->len = at;  /* this term tells nothing */
			continue;
		}
		for (int r = 0; r <= GRAMS_STEP; r++) {
			out->data[at + 2 * r] = (char)cnt[r];
			out->data[at + 2 * r + 1] = (char)(cnt[r] >> 8);
		}
		useful = 1;
	}
	return useful;
}

static int64_t get_i64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int k = 7; k >= 0; k--)
		v = (v << 8) | p[k];
	return (int64_t)v;
}

static int all_set(const unsigned char *bits, uint32_t mask, const unsigned char *h, size_t n)
{
	for (size_t i = 0; i < n; i++, h += 2) {
		uint32_t b = ((uint32_t)h[0] | ((uint32_t)h[1] << 8)) & mask;

		if (!(bits[b >> 3] & (1u << (b & 7))))
			return 0;
	}
	return 1;
}

/* The summary's two bitmaps from its blob, their sizes in bytes: one
 * written before the numbers' (a power of two) has the trigrams' alone
 * (*tbytes 0); 0 when the blob is neither (no summary: the run is read).
 * The blob is the trigrams' bitmap (2^a bytes), the numbers' (2^b bytes)
 * and b in a byte; no such sum is a power of two of 128 bytes or more. */
static int summary_parts(const unsigned char *blob, size_t n, size_t *gbytes, size_t *tbytes)
{
	unsigned log;

	*tbytes = 0;
	if (n >= GRAMS_MIN_BITS / 8 && n <= GRAMS_MAX_BITS / 8 && !(n & (n - 1))) {
		*gbytes = n;
		return 1;
	}
	if (n < 2)
		return 0;
	log = blob[n - 1];
	if (log > TOKENS_LOG_BITS - 3 || (1u << log) < TOKENS_MIN_BITS / 8 ||
	    n - 1 <= (1u << log))
		return 0;
	*tbytes = (size_t)1 << log;
	*gbytes = n - 1 - *tbytes;
	return *gbytes >= GRAMS_MIN_BITS / 8 && *gbytes <= GRAMS_MAX_BITS / 8 &&
	       !(*gbytes & (*gbytes - 1));
}

/* mw_run_may(tmin, tmax, bits, probe): 0 when the run's summary shows it
 * holds no record the probe's filter matches, else 1. */
static void run_may(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char *bits, *pr;
	int64_t tmin, tmax, from, to;
	size_t nbytes, gbytes, tbytes, np, i;
	uint32_t mask, tmask;

	(void)argc;
	pr = sqlite3_value_blob(argv[3]);
	np = (size_t)sqlite3_value_bytes(argv[3]);
	if (!pr || np < 16) {
		sqlite3_result_int(ctx, 1);
		return;
	}
	tmin = sqlite3_value_int64(argv[0]);
	tmax = sqlite3_value_int64(argv[1]);
	from = get_i64(pr);
	to = get_i64(pr + 8);
	if ((from && tmax < from) || (to && tmin > to)) {
		sqlite3_result_int(ctx, 0);
		return;
	}
	bits = sqlite3_value_blob(argv[2]);
	nbytes = (size_t)sqlite3_value_bytes(argv[2]);
	/* a summary of any other form is none: read the run */
	if (!bits || !summary_parts(bits, nbytes, &gbytes, &tbytes)) {
		sqlite3_result_int(ctx, 1);
		return;
	}
	mask = (uint32_t)(gbytes * 8 - 1);
	tmask = tbytes ? (uint32_t)(tbytes * 8 - 1) : 0;
	for (i = 16; i + 2 * (GRAMS_STEP + 1) <= np;) {
		size_t c[GRAMS_STEP + 1], total = 0;
		int any = 0;

		for (int r = 0; r <= GRAMS_STEP; r++) {
			c[r] = (size_t)pr[i + 2 * r] | ((size_t)pr[i + 2 * r + 1] << 8);
			total += r < GRAMS_STEP ? c[r] : 2 * c[r];
		}
		i += 2 * (GRAMS_STEP + 1);
		if (i + 2 * total > np)
			break;
		any = !c[0];    /* no trigram set: that test tells nothing */
		for (int r = 0; r < GRAMS_STEP; r++) {
			any = any || all_set(bits, mask, pr + i, c[r]);
			i += 2 * c[r];
		}
		/* an old summary has no numbers: that test tells nothing */
		if (any && tbytes)
			any = all_set(bits + gbytes, tmask, pr + i, 2 * c[GRAMS_STEP]);
		i += 4 * c[GRAMS_STEP];
		if (!any) {
			sqlite3_result_int(ctx, 0);
			return;
		}
	}
	sqlite3_result_int(ctx, 1);
}

int grams_register(sqlite3 *db)
{
	return sqlite3_create_function_v2(db, "mw_run_may", 4,
					  SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
					  NULL, run_may, NULL, NULL, NULL);
}
