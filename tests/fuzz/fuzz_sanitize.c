/* fuzz_sanitize.c - libFuzzer target for the hostile-text path: js_parse,
 * jsonout_safe, jsonout_canonical and sanitize_display.
 *
 * Invariants checked (abort() on violation, so the fuzzer reports it):
 *   - the safe form of an accepted document re-parses with js_parse and with
 *     json-c (strict, UTF-8 validating), holds no byte < 0x20, no 0x7f and no
 *     UTF-8 C1 (C2 80-9F), is valid UTF-8, and is a fixed point;
 *   - the safe form carries the same values: its canonical form equals the
 *     canonical form of the input; the canonical form is a fixed point;
 *   - sanitize_display output has no control bytes, is valid UTF-8, is at
 *     most max_cols wide, and sanitize_width agrees with the returned width.
 * Build: clang -fsanitize=fuzzer,address,undefined -Isrc src/util.c
 *        src/jsonscan.c src/jsonout.c src/sanitize.c tests/fuzz/fuzz_sanitize.c
 *        $(pkg-config --cflags --libs json-c libcrypto) -lpthread
 * Run:   ./fuzz_sanitize tests/fuzz/corpus/json */
#include <json-c/json.h>
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonout.h"
#include "jsonscan.h"
#include "sanitize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "invariant violated: %s\n", what);
		abort();
	}
}

/* An independent strict UTF-8 check (RFC 3629 table), not the decoder
 * under test. */
static int valid_utf8(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = p[i], need, lo = 0x80, hi = 0xBF, k;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			need = 1;
		else if (c >= 0xE0 && c <= 0xEF)
			need = 2;
		else if (c >= 0xF0 && c <= 0xF4)
			need = 3;
		else
			return 0;
		if (c == 0xE0)
			lo = 0xA0;
		if (c == 0xED)
			hi = 0x9F;
		if (c == 0xF0)
			lo = 0x90;
		if (c == 0xF4)
			hi = 0x8F;
		if (n - i <= need)
			return 0;
		for (k = 1; k <= need; k++) {
			if (p[i + k] < lo || p[i + k] > hi)
				return 0;
			lo = 0x80;
			hi = 0xBF;
		}
		i += need + 1;
	}
	return 1;
}

static int terminal_safe(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] < 0x20 || p[i] == 0x7F)
			return 0;
		if (p[i] == 0xC2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9F)
			return 0;
	}
	return 1;
}

static int jsonc_accepts(const char *s, size_t n)
{
	struct json_tokener *tok = json_tokener_new_ex(JS_MAX_DEPTH + 8);
	struct json_object *o;
	int ok;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	/* s is NUL-terminated: passing the NUL tells json-c a bare number at
	 * the end is complete */
	o = json_tokener_parse_ex(tok, s, (int)n + 1);
	ok = json_tokener_get_error(tok) == json_tokener_success &&
	     json_tokener_get_parse_end(tok) >= n;
	json_object_put(o);
	json_tokener_free(tok);
	return ok;
}

static int same(const mw_buf *a, const mw_buf *b)
{
	return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

static void fuzz_json(const uint8_t *data, size_t size)
{
	js_doc d, d2;
	mw_err e;
	mw_buf safe, safe2, canon, canon2;

	js_init(&d);
	js_init(&d2);
	mw_buf_init(&safe);
	mw_buf_init(&safe2);
	mw_buf_init(&canon);
	mw_buf_init(&canon2);
	if (js_parse(&d, (const char *)data, size, &e) != 0) {
		check(strncmp(e.msg, "invalid JSON", 12) == 0, "error message form");
		goto out;
	}
	jsonout_safe(&safe, &d, 0);
	check(safe.data != NULL, "safe output");
	check(terminal_safe((const unsigned char *)safe.data, safe.len), "safe: no controls");
	check(valid_utf8((const unsigned char *)safe.data, safe.len), "safe: valid UTF-8");
	check(strlen(safe.data) == safe.len, "safe: no NUL");
	check(jsonc_accepts(safe.data, safe.len), "safe: json-c accepts");
	jsonout_canonical(&canon, &d, 0);
	check(valid_utf8((const unsigned char *)canon.data, canon.len), "canonical: valid UTF-8");

	/* the plain flags (JS_PLAIN) are shortcuts: cleared, both writers
	 * give the same bytes */
	js_parse(&d2, (const char *)data, size, &e);
	for (size_t i = 0; i < d2.ntoks; i++)
		d2.toks[i].flags = 0;
	jsonout_safe(&safe2, &d2, 0);
	check(same(&safe2, &safe),
	      "safe: the same without the plain flags");
	jsonout_canonical(&canon2, &d2, 0);
	check(same(&canon2, &canon),
	      "canonical: the same without the plain flags");
	mw_buf_reset(&safe2);
	mw_buf_reset(&canon2);

	check(js_parse(&d2, safe.data, safe.len, &e) == 0, "safe: js_parse accepts");
	jsonout_safe(&safe2, &d2, 0);
	check(same(&safe2, &safe),
	      "safe: fixed point");
	jsonout_canonical(&canon2, &d2, 0);
	check(same(&canon2, &canon),
	      "safe form keeps the values");

	check(js_parse(&d2, canon.data, canon.len, &e) == 0, "canonical: js_parse accepts");
	mw_buf_reset(&canon2);
	jsonout_canonical(&canon2, &d2, 0);
	check(same(&canon2, &canon),
	      "canonical: fixed point");
out:
	mw_buf_free(&safe);
	mw_buf_free(&safe2);
	mw_buf_free(&canon);
	mw_buf_free(&canon2);
	js_free(&d);
	js_free(&d2);
}

static void fuzz_display(const uint8_t *data, size_t size)
{
	mw_buf out;
	int max, ascii, cols;

	if (size < 1)
		return;
	/* first byte: the limit (-1 or 0-126) and the mode */
	max = (data[0] & 0x7F) == 0x7F ? -1 : (data[0] & 0x7F);
	ascii = data[0] >> 7;
	mw_buf_init(&out);
	mw_buf_puts(&out, "");
	cols = sanitize_display(&out, (const char *)data + 1, size - 1, max, ascii);
	check(cols >= 0, "display: width not negative");
	check(max < 0 || cols <= max, "display: width within max_cols");
	check(terminal_safe((const unsigned char *)out.data, out.len), "display: no controls");
	check(valid_utf8((const unsigned char *)out.data, out.len), "display: valid UTF-8");
	if (!ascii)
		check(sanitize_width(out.data, out.len) == cols, "display: width agrees");
	else
		for (size_t i = 0; i < out.len; i++)
			check((unsigned char)out.data[i] < 0x80, "display: ascii only");
	mw_buf_free(&out);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!setlocale(LC_ALL, "C.UTF-8"))
		setlocale(LC_ALL, "en_US.UTF-8");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_json(data, size);
	fuzz_display(data, size);
	return 0;
}

#define MW_FUZZ_HAS_INIT 1
#include "fuzz_main.h"
