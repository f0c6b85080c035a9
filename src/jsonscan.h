/* jsonscan.h - a strict, allocation-light JSON tokenizer for the hot path.
 *
 * Mimecast pages are parsed once into a flat array of tokens that point into
 * the response buffer (no copies); records are then re-encoded or hashed
 * straight from the tokens. json-c is used elsewhere, where speed is moot.
 *
 * Layout: a value is one token followed by its children. An object token is
 * followed by key, value-subtree, key, value-subtree...; an array token by its
 * element subtrees. Every token's `next` is the index just past its subtree,
 * so siblings are walked with i = toks[i].next. */
#ifndef MW_JSONSCAN_H
#define MW_JSONSCAN_H

#include <stddef.h>
#include <stdint.h>
#include "util.h"

enum js_type { JS_OBJECT, JS_ARRAY, JS_STRING, JS_NUMBER, JS_TRUE, JS_FALSE, JS_NULL };

typedef struct js_tok {
	uint32_t type;  /* enum js_type */
	uint32_t start; /* byte offset of the value; for strings, just past the quote */
	uint32_t end;   /* byte offset past the value; for strings, at the closing quote */
	uint32_t size;  /* objects: members; arrays: elements; strings: 1 if escapes present */
	uint32_t next;  /* index of the token after this subtree */
	uint32_t flags; /* JS_PLAIN or 0 */
} js_tok;

/* A value whose bytes are already in every form the writers make
 * (jsonout.c): no white space outside strings, and its strings hold only
 * printable ASCII (0x20-0x7E) with no escape. Its safe form is its bytes,
 * and a plain string's canonical form too. Unset says nothing: the parser
 * may leave it off a value that would qualify. */
#define JS_PLAIN 1u

typedef struct js_doc {
	const char *buf;
	size_t len;
	js_tok *toks;
	size_t ntoks, cap;
} js_doc;

#define JS_MAX_DEPTH 512

void js_init(js_doc *d);
void js_free(js_doc *d);
/* Parses exactly one JSON value (surrounding white space allowed, nothing
 * else). Strings may hold invalid UTF-8 (re-encoders replace it); control
 * characters inside strings are rejected, as RFC 8259 says. Returns 0, or -1
 * with a message saying what and at which byte. Reuses d's token array. */
int js_parse(js_doc *d, const char *buf, size_t len, mw_err *e);

/* Value of key in the object at tok, or -1. Keys are compared decoded; with
 * duplicate keys the first one wins. */
int js_get(const js_doc *d, int obj, const char *key);
/* Follows a dotted path of keys and [n] indices: "meta.pagination.next",
 * "data[0].clickLogs". -1 when absent. */
int js_path(const js_doc *d, int tok, const char *path);
/* Child n of an array, or -1. */
int js_at(const js_doc *d, int arr, size_t n);

/* Decodes the string at tok into out (appended, UTF-8; invalid sequences and
 * lone surrogates become U+FFFD). Returns -1 if tok is not a string. */
int js_str(const js_doc *d, int tok, mw_buf *out);
/* Compares the decoded string at tok with s. */
int js_streq(const js_doc *d, int tok, const char *s);
/* malloc'd decoded copy of a string token, NULL if not a string. */
char *js_strdup(const js_doc *d, int tok);
/* Integer value of a number token (or a string holding one): 0 and *v, or -1.
 * Only an optional '-' and digits qualify (no fraction, exponent, sign '+',
 * spaces or escapes); out of int64 range is -1. */
int js_int(const js_doc *d, int tok, int64_t *v);
/* 1 for true, 0 for false, -1 otherwise. */
int js_bool(const js_doc *d, int tok);

/* Lower-level decoding shared by the writers and the sanitiser. */
#define JS_CP_INVALID 0xFFFFFFFFu
/* Decodes one UTF-8 sequence at p (p < end) and returns its length. A
 * broken sequence consumes its maximal valid prefix (at least one byte, as
 * WHATWG does) and yields JS_CP_INVALID: callers print one U+FFFD. */
size_t js_utf8_decode(const unsigned char *p, const unsigned char *end, uint32_t *cp);
/* Writes cp as 1-4 bytes of UTF-8 (surrogates and > U+10FFFF as U+FFFD). */
size_t js_utf8_encode(uint32_t cp, char *out);
/* Decodes one character of a parsed string body at *p (< end): an escape
 * (surrogate pairs combined) or a UTF-8 sequence; advances *p. Lone
 * surrogates and invalid UTF-8 yield JS_CP_INVALID. */
uint32_t js_decode_char(const unsigned char **p, const unsigned char *end);

#endif
