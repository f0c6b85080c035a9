/* test_json.c - the tokenizer, both JSON writers and the display sanitiser. */
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jsonout.h"
#include "jsonscan.h"
#include "sanitize.h"

/* ---- helpers ------------------------------------------------------------ */

static int parse(js_doc *d, const char *s, mw_err *e)
{
	return js_parse(d, s, strlen(s), e);
}

static void expect_invalid(const char *doc, const char *msg)
{
	js_doc d;
	mw_err e;

	js_init(&d);
	mw_err_clear(&e);
	if (js_parse(&d, doc, strlen(doc), &e) != -1)
		fail_msg("accepted invalid JSON: %s", doc);
	assert_int_equal(d.ntoks, 0);
	if (msg)
		assert_string_equal(e.msg, msg);
	else
		assert_non_null(strstr(e.msg, "invalid JSON at byte "));
	js_free(&d);
}

/* Parses doc and checks that the writer's output equals want. */
enum writer { W_SAFE, W_CANON };

static void expect_out(enum writer w, const char *doc, const char *want)
{
	js_doc d;
	mw_err e;
	mw_buf b;

	js_init(&d);
	mw_buf_init(&b);
	if (parse(&d, doc, &e) != 0)
		fail_msg("%s: %s", doc, e.msg);
	if (w == W_SAFE)
		jsonout_safe(&b, &d, 0);
	else
		jsonout_canonical(&b, &d, 0);
	assert_non_null(b.data);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.data, want, b.len);
	assert_int_equal(b.data[b.len], '\0');
	mw_buf_free(&b);
	js_free(&d);
}

/* Decodes the top-level string of doc and compares bytes. */
static void expect_str(const char *doc, const char *want, size_t wantlen)
{
	js_doc d;
	mw_err e;
	mw_buf b;

	js_init(&d);
	mw_buf_init(&b);
	if (parse(&d, doc, &e) != 0)
		fail_msg("%s: %s", doc, e.msg);
	assert_int_equal(js_str(&d, 0, &b), 0);
	assert_int_equal(b.len, wantlen);
	if (wantlen)
		assert_memory_equal(b.data, want, wantlen);
	mw_buf_free(&b);
	js_free(&d);
}

static char *nested(size_t depth)
{
	char *s = malloc(2 * depth + 1);

	assert_non_null(s);
	memset(s, '[', depth);
	memset(s + depth, ']', depth);
	s[2 * depth] = '\0';
	return s;
}

/* ---- parsing ------------------------------------------------------------ */

static void test_parse_layout(void **state)
{
	js_doc d;
	mw_err e;
	const char *doc = " {\"a\":1,\"b\":[true,false,null],\"c\":\"x\\n\",\"d\":{}}\r\n\t";

	(void)state;
	js_init(&d);
	assert_int_equal(parse(&d, doc, &e), 0);
	assert_int_equal(d.ntoks, 12);
	/* object */
	assert_int_equal(d.toks[0].type, JS_OBJECT);
	assert_int_equal(d.toks[0].size, 4);
	assert_int_equal(d.toks[0].start, 1);
	assert_int_equal(d.toks[0].end, strlen(doc) - 3);
	assert_int_equal(d.toks[0].next, 12);
	/* "a": 1 */
	assert_int_equal(d.toks[1].type, JS_STRING);
	assert_int_equal(d.toks[1].start, 3);
	assert_int_equal(d.toks[1].end, 4);
	assert_int_equal(d.toks[1].size, 0);
	assert_int_equal(d.toks[2].type, JS_NUMBER);
	assert_int_equal(d.toks[2].start, 6);
	assert_int_equal(d.toks[2].end, 7);
	/* "b": [true,false,null] */
	assert_int_equal(d.toks[4].type, JS_ARRAY);
	assert_int_equal(d.toks[4].size, 3);
	assert_int_equal(d.toks[4].next, 8);
	assert_int_equal(d.toks[5].type, JS_TRUE);
	assert_int_equal(d.toks[6].type, JS_FALSE);
	assert_int_equal(d.toks[7].type, JS_NULL);
	assert_int_equal(d.toks[6].next, 7);
	/* "c": "x\n" has an escape */
	assert_int_equal(d.toks[9].type, JS_STRING);
	assert_int_equal(d.toks[9].size, 1);
	assert_int_equal(d.toks[9].end - d.toks[9].start, 3);
	/* "d": {} */
	assert_int_equal(d.toks[11].type, JS_OBJECT);
	assert_int_equal(d.toks[11].size, 0);
	assert_int_equal(d.toks[11].next, 12);
	js_free(&d);
}

static void test_parse_valid(void **state)
{
	static const char *const ok[] = {
		"0", " -0 ", "1.0", "1e5", "1E+5", "-1.5e-3", "12345678901234567890",
		"0.000", "\"\"", "\"str\"", "[]", "{}", "[[[]]]", "true", "false", "null",
		"[1,\"a\",{\"b\":[null]}]", "{\"\":0}", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\"",
		"\"\xff\xfe invalid utf-8 is accepted\"", "\"\x7f\xc2\x9b\"",
		" \t\r\n[ 1 , 2 ]\n", "{\"a\":{\"a\":{\"a\":{}}}}", "-123.456E-789",
	};
	js_doc d;
	mw_err e;
	size_t i;

	(void)state;
	js_init(&d);
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (parse(&d, ok[i], &e) != 0)
			fail_msg("rejected %s: %s", ok[i], e.msg);
	/* the same document object is reused across calls */
	assert_int_equal(parse(&d, "[1,2,3]", &e), 0);
	assert_int_equal(d.ntoks, 4);
	assert_int_equal(d.toks[0].size, 3);
	js_free(&d);
}

static void test_parse_invalid(void **state)
{
	static const char *const bad[] = {
		"[1,]", "{\"a\":1,}", "// c\n1", "/* c */ 1", "NaN", "Infinity", "-Infinity",
		"01", "-01", "1.", ".5", "1e", "1e+", "+1", "-", "0x10", "'a'",
		"{\"a\" 1}", "{a:1}", "{\"a\":}", "[1 2]", "\"a\001b\"", "\"a\tb\"",
		"\"\\x\"", "\"\\u12G4\"", "\"\\u12\"", "\"abc", "1 2", "[1]x", "tru", "nul",
		"truex", "[", "{", "{\"a\"", "{\"a\":1", "[1,", "]", "}", ",", ":", "\"\\\"",
		"[01]", "{\"a\":1}}", "\xef\xbb\xbf{}", "[\"a\",,\"b\"]", "{,}", "[,]",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_invalid(bad[i], NULL);
}

static void test_parse_errors_exact(void **state)
{
	(void)state;
	expect_invalid("", "invalid JSON at byte 0: empty document, expected a value");
	expect_invalid("  \n ", "invalid JSON at byte 4: empty document, expected a value");
	expect_invalid("{\"a\":1 \"b\":2}", "invalid JSON at byte 7: expected ',' or '}'");
	expect_invalid("[1 2]", "invalid JSON at byte 3: expected ',' or ']'");
	expect_invalid("[1,]", "invalid JSON at byte 3: expected a value");
	expect_invalid("{\"a\":1,}", "invalid JSON at byte 7: expected a string key");
	expect_invalid("01", "invalid JSON at byte 1: invalid number: leading zeros are not allowed");
	expect_invalid("[1.]", "invalid JSON at byte 3: invalid number: expected a digit after '.'");
	expect_invalid("\"ab\x01\"", "invalid JSON at byte 3: raw control character in string "
		       "(must be escaped)");
	expect_invalid("{\"a\":1} x", "invalid JSON at byte 8: unexpected data after the JSON value");
	expect_invalid("{\"a\":[1", "invalid JSON at byte 7: unexpected end of input, "
		       "expected ',' or ']'");
	expect_invalid("\"abc", "invalid JSON at byte 4: unterminated string");
	expect_invalid("nan", "invalid JSON at byte 0: invalid literal (expected true, false or null)");
	expect_invalid("{\"a\"1}", "invalid JSON at byte 4: expected ':' after an object key");
	expect_invalid("\"\\q\"", "invalid JSON at byte 1: invalid escape in string "
		       "(allowed: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
}

static void test_parse_depth(void **state)
{
	js_doc d;
	mw_err e;
	mw_buf b;
	char *s;

	(void)state;
	js_init(&d);
	mw_buf_init(&b);
	/* exactly the limit is fine, and the writers cope with it */
	s = nested(JS_MAX_DEPTH);
	assert_int_equal(parse(&d, s, &e), 0);
	assert_int_equal(d.ntoks, JS_MAX_DEPTH);
	jsonout_safe(&b, &d, 0);
	assert_string_equal(b.data, s);
	mw_buf_reset(&b);
	jsonout_canonical(&b, &d, 0);
	assert_string_equal(b.data, s);
	free(s);
	/* one more is refused, where it happens */
	s = nested(JS_MAX_DEPTH + 1);
	assert_int_equal(parse(&d, s, &e), -1);
	assert_string_equal(e.msg, "invalid JSON at byte 512: nesting deeper than 512 levels");
	free(s);
	/* and a hostile 10,000 levels neither crashes nor recurses */
	s = nested(10000);
	assert_int_equal(parse(&d, s, &e), -1);
	assert_string_equal(e.msg, "invalid JSON at byte 512: nesting deeper than 512 levels");
	free(s);
	s = malloc(20001);
	assert_non_null(s);
	memset(s, '{', 10000);
	s[10000] = '\0';
	assert_int_equal(parse(&d, s, &e), -1);
	free(s);
	mw_buf_free(&b);
	js_free(&d);
}

static void test_parse_too_large(void **state)
{
	js_doc d;
	mw_err e;

	(void)state;
	js_init(&d);
	/* the length is refused before the buffer is touched */
	assert_int_equal(js_parse(&d, "0", (size_t)1 << 32, &e), -1);
	assert_non_null(strstr(e.msg, "too large"));
	js_free(&d);
}

/* ---- access ------------------------------------------------------------- */

static void test_paths(void **state)
{
	js_doc d;
	mw_err e;
	int t;
	const char *doc =
		"{\"meta\":{\"status\":200,\"pagination\":{\"next\":\"tok\"}},"
		"\"data\":[{\"clickLogs\":[{\"url\":\"u1\"},{\"url\":\"u2\"}]}],\"fail\":[]}";

	(void)state;
	js_init(&d);
	assert_int_equal(parse(&d, doc, &e), 0);
	t = js_path(&d, 0, "meta.pagination.next");
	assert_true(t > 0);
	assert_true(js_streq(&d, t, "tok"));
	t = js_path(&d, 0, "data[0].clickLogs[1].url");
	assert_true(js_streq(&d, t, "u2"));
	t = js_path(&d, 0, "data[0].clickLogs");
	assert_int_equal(d.toks[t].type, JS_ARRAY);
	assert_int_equal(d.toks[t].size, 2);
	assert_true(js_streq(&d, js_get(&d, js_at(&d, t, 0), "url"), "u1"));
	assert_int_equal(js_at(&d, t, 2), -1);
	assert_int_equal(js_path(&d, 0, ""), 0);
	assert_int_equal(js_path(&d, 0, "data[1]"), -1);
	assert_int_equal(js_path(&d, 0, "data[0].nope"), -1);
	assert_int_equal(js_path(&d, 0, "meta..status"), -1);
	assert_int_equal(js_path(&d, 0, "meta."), -1);
	assert_int_equal(js_path(&d, 0, "data[x]"), -1);
	assert_int_equal(js_path(&d, 0, "data[0"), -1);
	assert_int_equal(js_path(&d, 0, "data[0]x"), -1);
	assert_int_equal(js_path(&d, 0, "meta.status[0]"), -1);
	assert_int_equal(js_path(&d, 0, "fail[0]"), -1);
	assert_int_equal(js_path(&d, 0, "data[99999999999999999999999]"), -1);
	assert_int_equal(js_get(&d, 0, "missing"), -1);
	assert_int_equal(js_get(&d, t, "url"), -1); /* not an object */
	assert_int_equal(js_get(&d, -1, "url"), -1);
	assert_int_equal(js_at(&d, 0, 0), -1);     /* not an array */
	/* the members after a nested value are still found */
	t = js_get(&d, 0, "fail");
	assert_int_equal(d.toks[t].type, JS_ARRAY);
	js_free(&d);
}

static void test_get_escaped_keys(void **state)
{
	js_doc d;
	mw_err e;
	int t;
	int64_t v;
	const char *doc = "{\"cl\\u0069ckLogs\":1,\"a\\\"b\":2,\"\\u00e9t\\u00E9\":3,"
			  "\"\xc3\xa9t\xc3\xa9\":4,\"\xff\":5,\"k\":6,\"k\":7}";

	(void)state;
	js_init(&d);
	assert_int_equal(parse(&d, doc, &e), 0);
	assert_int_equal(js_int(&d, js_get(&d, 0, "clickLogs"), &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(js_int(&d, js_get(&d, 0, "a\"b"), &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(js_int(&d, js_get(&d, 0, "\xc3\xa9t\xc3\xa9"), &v), 0);
	assert_int_equal(v, 3); /* the escaped spelling comes first */
	/* an invalid byte in a key reads as U+FFFD */
	assert_int_equal(js_int(&d, js_get(&d, 0, "\xef\xbf\xbd"), &v), 0);
	assert_int_equal(v, 5);
	assert_int_equal(js_get(&d, 0, "\xff"), -1);
	assert_int_equal(js_int(&d, js_get(&d, 0, "k"), &v), 0);
	assert_int_equal(v, 6); /* first duplicate wins */
	assert_int_equal(js_get(&d, 0, "clickLog"), -1);
	assert_int_equal(js_get(&d, 0, "clickLogsX"), -1);
	t = js_get(&d, 0, "a\"b");
	assert_int_equal(t, 4);
	js_free(&d);
}

static void test_scalars(void **state)
{
	js_doc d;
	mw_err e;
	int64_t v = 0;
	char *s;
	const char *doc = "[123,-9223372036854775808,9223372036854775807,9223372036854775808,"
			  "1.5,1e3,\"42\",\"-7\",\"4 2\",\"\",true,false,null,\"\\u0041b\\u0000c\"]";

	(void)state;
	js_init(&d);
	assert_int_equal(parse(&d, doc, &e), 0);
	assert_int_equal(js_int(&d, js_at(&d, 0, 0), &v), 0);
	assert_int_equal(v, 123);
	assert_int_equal(js_int(&d, js_at(&d, 0, 1), &v), 0);
	assert_true(v == INT64_MIN);
	assert_int_equal(js_int(&d, js_at(&d, 0, 2), &v), 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(js_int(&d, js_at(&d, 0, 3), &v), -1);
	assert_int_equal(js_int(&d, js_at(&d, 0, 4), &v), -1);
	assert_int_equal(js_int(&d, js_at(&d, 0, 5), &v), -1);
	assert_int_equal(js_int(&d, js_at(&d, 0, 6), &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(js_int(&d, js_at(&d, 0, 7), &v), 0);
	assert_int_equal(v, -7);
	assert_int_equal(js_int(&d, js_at(&d, 0, 8), &v), -1);
	assert_int_equal(js_int(&d, js_at(&d, 0, 9), &v), -1);
	assert_int_equal(js_int(&d, js_at(&d, 0, 10), &v), -1);
	assert_int_equal(js_bool(&d, js_at(&d, 0, 10)), 1);
	assert_int_equal(js_bool(&d, js_at(&d, 0, 11)), 0);
	assert_int_equal(js_bool(&d, js_at(&d, 0, 12)), -1);
	assert_int_equal(js_bool(&d, js_at(&d, 0, 0)), -1);
	assert_null(js_strdup(&d, js_at(&d, 0, 0)));
	s = js_strdup(&d, js_at(&d, 0, 9));
	assert_string_equal(s, "");
	free(s);
	s = js_strdup(&d, js_at(&d, 0, 13));
	assert_memory_equal(s, "Ab\0c", 5);
	free(s);
	assert_true(js_streq(&d, js_at(&d, 0, 6), "42"));
	assert_false(js_streq(&d, js_at(&d, 0, 6), "4"));
	assert_false(js_streq(&d, js_at(&d, 0, 0), "123"));
	js_free(&d);
}

static void test_strings_surrogates(void **state)
{
	(void)state;
	expect_str("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", 4);
	expect_str("\"\\uD83D\\uDE00!\"", "\xf0\x9f\x98\x80!", 5);
	expect_str("\"\\ud83d\"", "\xef\xbf\xbd", 3);
	expect_str("\"\\ude00\"", "\xef\xbf\xbd", 3);
	expect_str("\"\\ud83dx\"", "\xef\xbf\xbdx", 4);
	expect_str("\"\\ud83d\\u0041\"", "\xef\xbf\xbd" "A", 4);
	expect_str("\"\\ud83d\\ud83d\\ude00\"", "\xef\xbf\xbd\xf0\x9f\x98\x80", 7);
	expect_str("\"\\ude00\\ud83d\"", "\xef\xbf\xbd\xef\xbf\xbd", 6);
	expect_str("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"", "a\"b\\c/d\b\f\n\r\t", 12);
	expect_str("\"\\u0000\"", "\0", 1);
	expect_str("\"\\u00e9\\u20AC\"", "\xc3\xa9\xe2\x82\xac", 5);
	expect_str("\"\"", "", 0);
}

static void test_strings_invalid_utf8(void **state)
{
	(void)state;
	/* overlong '/' */
	expect_str("\"\xc0\xaf\"", "\xef\xbf\xbd\xef\xbf\xbd", 6);
	/* overlong three-byte: E0 then 80 is not a valid second byte */
	expect_str("\"\xe0\x80\xaf\"", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 9);
	/* a surrogate encoded in UTF-8 */
	expect_str("\"\xed\xa0\x80\"", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 9);
	/* above U+10FFFF */
	expect_str("\"\xf4\x90\x80\x80\"",
		   "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 12);
	/* truncated sequences are one U+FFFD each (maximal subpart) */
	expect_str("\"\xe2\x82x\"", "\xef\xbf\xbdx", 4);
	expect_str("\"\xf0\x9f\x98\"", "\xef\xbf\xbd", 3);
	expect_str("\"a\xf0\x9f\x98\xe2\x82\"", "a\xef\xbf\xbd\xef\xbf\xbd", 7);
	expect_str("\"\xff\xfe\"", "\xef\xbf\xbd\xef\xbf\xbd", 6);
	expect_str("\"\x80\"", "\xef\xbf\xbd", 3);
	/* valid four-byte and the edges of the ranges are kept */
	expect_str("\"\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\xed\x9f\xbf\xee\x80\x80\"",
		   "\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\xed\x9f\xbf\xee\x80\x80", 14);
	/* a truncated sequence before an escape */
	expect_str("\"\xc3\\n\"", "\xef\xbf\xbd\n", 4);
}

/* ---- safe writer -------------------------------------------------------- */

static void test_safe_controls(void **state)
{
	(void)state;
	/* ESC, whatever the case of the input escape */
	expect_out(W_SAFE, "[\"\\u001B[31mred\\u001b[0m\"]", "[\"\\u001b[31mred\\u001b[0m\"]");
	/* DEL raw and escaped */
	expect_out(W_SAFE, "\"a\x7f" "b\\u007F\"", "\"a\\u007fb\\u007f\"");
	/* U+009B (CSI) raw and escaped */
	expect_out(W_SAFE, "\"\xc2\x9b" "31m\\u009B\"", "\"\\u009b31m\\u009b\"");
	/* first and last C1; U+00A0 is kept raw */
	expect_out(W_SAFE, "\"\xc2\x80\xc2\x9f\xc2\xa0\"", "\"\\u0080\\u009f\xc2\xa0\"");
	/* NUL and the short escapes become \u00xx */
	expect_out(W_SAFE, "\"\\u0000\\b\\f\\n\\r\\t\"",
		   "\"\\u0000\\u0008\\u000c\\u000a\\u000d\\u0009\"");
	/* quote, backslash and solidus */
	expect_out(W_SAFE, "\"\\\"\\\\\\/\\u0022\\u005c\"", "\"\\\"\\\\/\\\"\\\\\"");
	/* U+2028/2029, non-BMP and escaped non-ASCII as raw UTF-8 */
	expect_out(W_SAFE, "\"\xe2\x80\xa8\\u2029\\ud83d\\ude00\\u00e9\"",
		   "\"\xe2\x80\xa8\xe2\x80\xa9\xf0\x9f\x98\x80\xc3\xa9\"");
	/* invalid UTF-8 and lone surrogates */
	expect_out(W_SAFE, "\"a\xff" "b\xc0\xaf\\ud800\"",
		   "\"a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	/* keys go through the same rule */
	expect_out(W_SAFE, "{\"k\\u001b\x7f\":1}", "{\"k\\u001b\\u007f\":1}");
}

static void test_safe_structure(void **state)
{
	js_doc d;
	mw_err e;
	mw_buf b;

	(void)state;
	expect_out(W_SAFE, "[1.0, 1e5, -0, 12345678901234567890, 1E-7, -0.0]",
		   "[1.0,1e5,-0,12345678901234567890,1E-7,-0.0]");
	expect_out(W_SAFE, " { \"b\" : [ 1 , { } , [ ] ] , \"a\" : { \"x\" : null } } ",
		   "{\"b\":[1,{},[]],\"a\":{\"x\":null}}");
	expect_out(W_SAFE, "{\"z\":true,\"z\":false}", "{\"z\":true,\"z\":false}");
	expect_out(W_SAFE, "[[[[1]],[2]],3]", "[[[[1]],[2]],3]");
	expect_out(W_SAFE, "\"\"", "\"\"");
	expect_out(W_SAFE, "7", "7");

	/* a subtree, appended to what is there */
	js_init(&d);
	mw_buf_init(&b);
	assert_int_equal(parse(&d, "{\"a\":[1,{\"b\":\"\\u0007\"}],\"c\":2}", &e), 0);
	mw_buf_puts(&b, "x=");
	jsonout_safe(&b, &d, js_get(&d, 0, "a"));
	assert_string_equal(b.data, "x=[1,{\"b\":\"\\u0007\"}]");
	mw_buf_reset(&b);
	jsonout_safe(&b, &d, -1);
	jsonout_safe(&b, &d, 99);
	assert_int_equal(b.len, 0);
	mw_buf_free(&b);
	js_free(&d);
}

static void test_safe_string(void **state)
{
	mw_buf b;

	(void)state;
	mw_buf_init(&b);
	jsonout_safe_string(&b, "a\"b\\c\x01\x1b\x7f\xc2\x9b\xff\xe2\x80\xa8/\0z", 17);
	assert_int_equal(b.len, 47);
	assert_memory_equal(b.data,
			    "\"a\\\"b\\\\c\\u0001\\u001b\\u007f\\u009b\xef\xbf\xbd"
			    "\xe2\x80\xa8/\\u0000z\"", 47);
	mw_buf_reset(&b);
	jsonout_safe_string(&b, "", 0);
	assert_string_equal(b.data, "\"\"");
	mw_buf_free(&b);
}

/* ---- the plain flag --------------------------------------------------------- */

/* Token i of doc is plain (JS_PLAIN) or not. */
static void expect_plain(const char *doc, size_t len, int i, int plain)
{
	js_doc d;
	mw_err e;

	js_init(&d);
	if (js_parse(&d, doc, len, &e) != 0)
		fail_msg("%s: %s", doc, e.msg);
	if ((d.toks[i].flags & JS_PLAIN) != (plain ? JS_PLAIN : 0u))
		fail_msg("%s: token %d is %splain", doc, i, plain ? "not " : "");
	js_free(&d);
}

#define PLAIN(doc, i, p) expect_plain(doc, sizeof(doc) - 1, i, p)

static void test_plain_flags(void **state)
{
	(void)state;
	PLAIN("{\"a\":\"b\",\"c\":1,\"d\":[true,null,-1.5e3]}", 0, 1);
	PLAIN(" {\"a\":1} ", 0, 1);             /* outside the value */
	PLAIN("{\"a\": \"b\"}", 0, 0);          /* white space inside */
	PLAIN("{\"a\": \"b\"}", 2, 1);
	PLAIN("[[1, 2],3]", 0, 0);
	PLAIN("[[1, 2],3]", 1, 0);
	PLAIN("[[1,2] ,3]", 1, 1);
	PLAIN("[[1,2] ,3]", 0, 0);
	PLAIN("{\"a\":\"b\\n\"}", 0, 0);         /* an escape */
	PLAIN("{\"a\":\"b\\n\"}", 2, 0);
	PLAIN("{\"a\\/\":1}", 1, 0);             /* in a key too */
	PLAIN("{\"a\\/\":1}", 0, 0);
	PLAIN("[\"\x7f\"]", 1, 0);               /* DEL */
	PLAIN("[\"\xc3\xa9\"]", 1, 0);           /* outside ASCII */
	PLAIN("[\"\xc3\xa9\"]", 0, 0);
	PLAIN("[\"abcdefghijklmn\x7fo\"]", 1, 0); /* past eight bytes */
	PLAIN("[\"abcdefghijklmno~\"]", 1, 1);
	/* a byte outside ASCII just past the quote belongs to the next one */
	PLAIN("[\"ab\",\"\xc3\xa9\"]", 1, 1);
	PLAIN("[\"ab\",\"\xc3\xa9\"]", 2, 0);
	PLAIN("[\"ab\",\"\xc3\xa9 and sixteen bytes more\"]", 1, 1);
	PLAIN("[\"ab\",\"\x7f and sixteen bytes more\"]", 2, 0);
	PLAIN("[\"abcdefghijklmnopqrstuvwxyz\",\"\x7f\"]", 1, 1);
	PLAIN("[{\"a\":\"b\"},{\"c\":\"d\\\"e\"}]", 1, 1);
	PLAIN("[{\"a\":\"b\"},{\"c\":\"d\\\"e\"}]", 4, 0);
	PLAIN("[{\"a\":\"b\"},{\"c\":\"d\\\"e\"}]", 0, 0);
}

/* A random value: objects, arrays, strings with escapes, DEL, bytes
 * outside ASCII, numbers and literals, white space here and there. */
static void rand_value(mw_buf *b, unsigned *seed, int depth)
{
	static const char *const atoms[] = {
		"a", "b", "key", "\\n", "\\u00e9", "\\/", "\x7f", "\xc3\xa9", "~", " ",
		"\xff", "0123456789abcdef", "\\\"", "\xe2\x80\xa8",
	};
	static const char *const scalars[] = { "1", "-0.5e3", "true", "false", "null", "12345" };
	int k = (int)(rand_r(seed) % (depth > 3 ? 3u : 5u));

	if (rand_r(seed) % 6 == 0)
		mw_buf_putc(b, ' ');
	if (k == 0 || k == 1) {
		int n = (int)(rand_r(seed) % 4);

		mw_buf_putc(b, '"');
		for (int i = 0; i < n; i++)
			mw_buf_puts(b, atoms[rand_r(seed) % (sizeof atoms / sizeof *atoms)]);
		mw_buf_putc(b, '"');
	} else if (k == 2) {
		mw_buf_puts(b, scalars[rand_r(seed) % (sizeof scalars / sizeof *scalars)]);
	} else {
		int n = (int)(rand_r(seed) % 4), obj = k == 3;

		mw_buf_putc(b, obj ? '{' : '[');
		for (int i = 0; i < n; i++) {
			if (i)
				mw_buf_puts(b, rand_r(seed) % 8 ? "," : " ,");
			if (obj) {
				mw_buf_printf(b, "\"%c%s\"", 'a' + (int)(rand_r(seed) % 5),
					      rand_r(seed) % 7 ? "" : "\\u0041");
				mw_buf_puts(b, rand_r(seed) % 8 ? ":" : ": ");
			}
			rand_value(b, seed, depth + 1);
		}
		mw_buf_putc(b, obj ? '}' : ']');
	}
	if (rand_r(seed) % 6 == 0)
		mw_buf_putc(b, '\n');
}

/* The safe form of value i built another way: strings decoded (js_str)
 * and written with jsonout_safe_string, the rest from the tokens. */
static void safe_reference(mw_buf *out, const js_doc *d, uint32_t i)
{
	const js_tok *t = &d->toks[i];
	mw_buf str;
	uint32_t k, m;

	switch (t->type) {
	case JS_OBJECT:
	case JS_ARRAY:
		mw_buf_putc(out, t->type == JS_OBJECT ? '{' : '[');
		for (m = 0, k = i + 1; m < t->size; m++) {
			if (m)
				mw_buf_putc(out, ',');
			safe_reference(out, d, k);
			if (t->type == JS_OBJECT) {
				mw_buf_putc(out, ':');
				safe_reference(out, d, k + 1);
				k = d->toks[k + 1].next;
			} else {
				k = d->toks[k].next;
			}
		}
		mw_buf_putc(out, t->type == JS_OBJECT ? '}' : ']');
		break;
	case JS_STRING:
		mw_buf_init(&str);
		assert_int_equal(js_str(d, (int)i, &str), 0);
		jsonout_safe_string(out, str.data ? str.data : "", str.len);
		mw_buf_free(&str);
		break;
	default:
		mw_buf_append(out, d->buf + t->start, t->end - t->start);
		break;
	}
}

/* Over random documents, for every value: the safe writer gives what
 * the reference does, and the canonical writer gives the same bytes
 * with the plain flags as parsed and cleared. */
static void test_plain_same_output(void **state)
{
	unsigned seed = 4711;
	js_doc d;
	mw_buf doc, fast, slow;
	mw_err e;
	int plain = 0;

	(void)state;
	js_init(&d);
	mw_buf_init(&doc);
	mw_buf_init(&fast);
	mw_buf_init(&slow);
	for (int n = 0; n < 3000; n++) {
		mw_buf_reset(&doc);
		rand_value(&doc, &seed, 0);
		if (js_parse(&d, doc.data, doc.len, &e) != 0)
			fail_msg("%s: %s", doc.data, e.msg);
		for (size_t i = 0; i < d.ntoks; i++) {
			uint32_t flags = d.toks[i].flags;

			plain += flags != 0;
			mw_buf_reset(&fast);
			mw_buf_reset(&slow);
			jsonout_safe(&fast, &d, (int)i);
			safe_reference(&slow, &d, (uint32_t)i);
			if (fast.len != slow.len || memcmp(fast.data, slow.data, fast.len))
				fail_msg("%s: safe, token %zu: %s, not %s", doc.data, i, fast.data,
					 slow.data);
			mw_buf_reset(&fast);
			mw_buf_reset(&slow);
			jsonout_canonical(&fast, &d, (int)i);
			d.toks[i].flags = 0;
			jsonout_canonical(&slow, &d, (int)i);
			d.toks[i].flags = flags;
			if (fast.len != slow.len || memcmp(fast.data, slow.data, fast.len))
				fail_msg("%s: canonical, token %zu: %s, not %s", doc.data, i,
					 fast.data, slow.data);
		}
	}
	assert_true(plain > 3000);      /* the fast paths were taken */
	mw_buf_free(&doc);
	mw_buf_free(&fast);
	mw_buf_free(&slow);
	js_free(&d);
}

/* ---- canonical writer --------------------------------------------------- */

static void test_canonical(void **state)
{
	(void)state;
	/* nested objects sorted recursively; arrays keep order; numbers verbatim */
	expect_out(W_CANON,
		   "{\"b\":1.0,\"a\":{\"d\":[3,{\"z\":1,\"y\":2e5}],\"c\":null},"
		   "\"\xc3\xa9\":\"x\",\"z\":[\"b\",\"a\"],\"Z\":-0}",
		   "{\"Z\":-0,\"a\":{\"c\":null,\"d\":[3,{\"y\":2e5,\"z\":1}]},\"b\":1.0,"
		   "\"z\":[\"b\",\"a\"],\"\xc3\xa9\":\"x\"}");
	/* non-ASCII keys in code point order; escaped keys sort decoded */
	expect_out(W_CANON,
		   "{\"\xe6\x97\xa5\":1,\"\\u00e9\":2,\"e\":3,\"\xf0\x9f\x98\x80\":4,\"\\uffff\":5}",
		   "{\"e\":3,\"\xc3\xa9\":2,\"\xe6\x97\xa5\":1,\"\xef\xbf\xbf\":5,"
		   "\"\xf0\x9f\x98\x80\":4}");
	/* a prefix sorts first; equal keys keep their order */
	expect_out(W_CANON, "{\"ab\":1,\"a\":2,\"a\":3,\"\\u0061\":4}",
		   "{\"a\":2,\"a\":3,\"a\":4,\"ab\":1}");
	/* minimal escapes; DEL and C1 stay raw; solidus unescaped */
	expect_out(W_CANON,
		   "\"\\u001B\\u0000\\b\\f\\n\\r\\t\\\"\\\\\\/\\u007f\xc2\x9b\\u00e9\"",
		   "\"\\u001b\\u0000\\b\\f\\n\\r\\t\\\"\\\\/\x7f\xc2\x9b\xc3\xa9\"");
	/* invalid UTF-8 and lone surrogates as U+FFFD */
	expect_out(W_CANON, "\"\xff\\udc00\"", "\"\xef\xbf\xbd\xef\xbf\xbd\"");
	expect_out(W_CANON, " [ ] ", "[]");
	expect_out(W_CANON, "{ }", "{}");
}

/* The canonical writer remembers the last record's key order: a record
 * of the same keys takes it, any other is sorted. Each record's form is
 * the same after a record of another shape and after itself, and equals
 * what a record of the same keys in another order gives. */
static void test_canonical_key_memo(void **state)
{
	static const char *const recs[] = {
		"{\"b\":1,\"a\":2,\"c\":3}",
		"{\"b\":4,\"a\":5,\"c\":6}",            /* same keys: the memo */
		"{\"b\":1,\"a\":2,\"d\":3}",            /* one other key */
		"{\"b\":1,\"ab\":2,\"c\":3}",           /* one longer */
		"{\"a\":1,\"b\":2,\"c\":3}",            /* same keys, other order */
		"{\"b\":1,\"\\u0061\":2,\"c\":3}",      /* an escaped key */
		"{\"b\":1,\"a\":2}",
		"{\"b\":1,\"a\":2,\"c\":3,\"a\":0}",    /* a repeated key, stable */
		"{\"b\":1,\"a\":2,\"c\":3,\"a\":0}",
		"{\"b\":{\"y\":1,\"x\":2},\"a\":[{\"d\":1,\"c\":2}]}",
		"{\"b\":{\"y\":1,\"x\":2},\"a\":[{\"d\":1,\"c\":2}]}",
	};
	static const char *const want[] = {
		"{\"a\":2,\"b\":1,\"c\":3}",
		"{\"a\":5,\"b\":4,\"c\":6}",
		"{\"a\":2,\"b\":1,\"d\":3}",
		"{\"ab\":2,\"b\":1,\"c\":3}",
		"{\"a\":1,\"b\":2,\"c\":3}",
		"{\"a\":2,\"b\":1,\"c\":3}",
		"{\"a\":2,\"b\":1}",
		"{\"a\":2,\"a\":0,\"b\":1,\"c\":3}",
		"{\"a\":2,\"a\":0,\"b\":1,\"c\":3}",
		"{\"a\":[{\"c\":2,\"d\":1}],\"b\":{\"x\":2,\"y\":1}}",
		"{\"a\":[{\"c\":2,\"d\":1}],\"b\":{\"x\":2,\"y\":1}}",
	};
	mw_buf big, big_want;

	(void)state;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < sizeof recs / sizeof *recs; i++) {
			expect_out(W_CANON, recs[i], want[i]);
			if (pass)       /* the same again, from the memo */
				expect_out(W_CANON, recs[i], want[i]);
		}
	}
	/* more keys than the memo holds, then fewer bytes than it holds */
	mw_buf_init(&big);
	mw_buf_init(&big_want);
	mw_buf_putc(&big, '{');
	mw_buf_putc(&big_want, '{');
	for (int k = 0; k < 100; k++) {
		mw_buf_printf(&big, "%s\"k%02d\":%d", k ? "," : "", 99 - k, 99 - k);
		mw_buf_printf(&big_want, "%s\"k%02d\":%d", k ? "," : "", k, k);
	}
	mw_buf_putc(&big, '}');
	mw_buf_putc(&big_want, '}');
	expect_out(W_CANON, big.data, big_want.data);
	expect_out(W_CANON, recs[0], want[0]);
	expect_out(W_CANON, recs[1], want[1]);
	mw_buf_free(&big);
	mw_buf_free(&big_want);
}

static void test_canonical_large_object(void **state)
{
	mw_buf doc, want, b;
	js_doc d;
	mw_err e;
	int i;

	(void)state;
	mw_buf_init(&doc);
	mw_buf_init(&want);
	mw_buf_init(&b);
	/* 300 keys in reverse order, each twice: the merge path must be
	 * stable and overflow the on-stack key array */
	mw_buf_putc(&doc, '{');
	for (i = 299; i >= 0; i--)
		mw_buf_printf(&doc, "%s\"k%03d\":%d,\"k%03d\":{\"y\":%d,\"x\":0}",
			      i == 299 ? "" : ",", i, i, i, -i);
	mw_buf_putc(&doc, '}');
	mw_buf_putc(&want, '{');
	for (i = 0; i < 300; i++)
		mw_buf_printf(&want, "%s\"k%03d\":%d,\"k%03d\":{\"x\":0,\"y\":%d}",
			      i ? "," : "", i, i, i, -i);
	mw_buf_putc(&want, '}');
	js_init(&d);
	assert_int_equal(js_parse(&d, doc.data, doc.len, &e), 0);
	jsonout_canonical(&b, &d, 0);
	assert_string_equal(b.data, want.data);
	js_free(&d);
	mw_buf_free(&doc);
	mw_buf_free(&want);
	mw_buf_free(&b);
}

/* python3: json.dumps(json.loads(REC), sort_keys=True, separators=(',', ':'),
 * ensure_ascii=False), then hashlib.sha256(...encode()).hexdigest() */
static const char url_record[] =
	"{\"userEmailAddress\":\"johndoe@example.com\",\"fromUserEmailAddress\":"
	"\"googlealerts-noreply@google.com\",\"url\":\"https:\\/\\/example.com\\/login?"
	"next=%2Fhome&u=\\u00e9t\\u00e9\",\"ttpDefinition\":\"Default Inbound URL Protect "
	"Definition\",\"subject\":\"Quarterly report \\u2013 \\u00fcn\\u00efc\\u00f8d\\u00e9 "
	"\\u65e5\\u672c \\\"quoted\\\"\\ttab\",\"action\":\"allow\",\"adminOverride\":\"N/A\","
	"\"userOverride\":\"None\",\"scanResult\":\"clean\",\"category\":\"Business\","
	"\"sendingIp\":\"34.235.45.235\",\"userAwarenessAction\":\"N/A\",\"date\":"
	"\"2024-11-17T17:02:30+0000\",\"actions\":\"Allow\",\"route\":\"inbound\","
	"\"creationMethod\":\"User Click\",\"emailPartsDescription\":[\"Body\"],"
	"\"messageId\":\"<871dda3d6bf5107e-360815@hapi.b41.one>\",\"tagMap\":"
	"{\"UrlReputationScan\":{\"Status\":[\"CustomerAll\"],\"Type\":[\"Compromised\"],"
	"\"Url\":[\"https://example.com/\"]}},\"hits\":2,\"taggedMalicious\":false,\"x\":null}";

static void test_canonical_id(void **state)
{
	js_doc d;
	mw_err e;
	mw_buf scratch;
	char id[65], id2[65];
	mw_buf spaced;
	size_t i;
	int instr;

	(void)state;
	js_init(&d);
	mw_buf_init(&scratch);
	mw_buf_init(&spaced);
	assert_int_equal(parse(&d, url_record, &e), 0);
	jsonout_canonical_id(&d, 0, &scratch, id);
	assert_string_equal(id, "184544c42261f904f8c337eec5490e325a4b4c481c2dfdca980fcb5c30e8089a");
	/* the scratch buffer holds the canonical bytes */
	assert_non_null(strstr(scratch.data, "\"subject\":\"Quarterly report \xe2\x80\x93 "));
	/* white space between tokens does not change the id */
	for (i = 0, instr = 0; url_record[i]; i++) {
		mw_buf_putc(&spaced, url_record[i]);
		if (url_record[i] == '\\' && instr)
			mw_buf_putc(&spaced, url_record[++i]);
		else if (url_record[i] == '"')
			instr = !instr;
		else if (!instr && (url_record[i] == ',' || url_record[i] == ':'))
			mw_buf_puts(&spaced, " \n\t");
	}
	assert_int_equal(js_parse(&d, spaced.data, spaced.len, &e), 0);
	jsonout_canonical_id(&d, 0, &scratch, id2);
	assert_string_equal(id, id2);
	/* one changed character changes it */
	strstr(spaced.data, "johndoe")[0] = 'J';
	assert_int_equal(js_parse(&d, spaced.data, spaced.len, &e), 0);
	jsonout_canonical_id(&d, 0, &scratch, id2);
	assert_string_not_equal(id, id2);
	/* a record inside a page gives the same id as on its own */
	mw_buf_reset(&spaced);
	mw_buf_printf(&spaced, "{\"data\":[{\"clickLogs\":[ %s ]}]}", url_record);
	assert_int_equal(js_parse(&d, spaced.data, spaced.len, &e), 0);
	jsonout_canonical_id(&d, js_path(&d, 0, "data[0].clickLogs[0]"), &scratch, id2);
	assert_string_equal(id, id2);
	mw_buf_free(&spaced);
	mw_buf_free(&scratch);
	js_free(&d);
}

static void test_canonical_id_whitespace(void **state)
{
	js_doc d;
	mw_err e;
	mw_buf scratch;
	char a[65], b[65];

	(void)state;
	js_init(&d);
	mw_buf_init(&scratch);
	assert_int_equal(parse(&d, "{\"b\":[1,2],\"a\":\"x\"}", &e), 0);
	jsonout_canonical_id(&d, 0, &scratch, a);
	assert_int_equal(parse(&d, " {\n\"a\" : \"\\u0078\",\t\"b\" : [ 1 , 2 ] }", &e), 0);
	jsonout_canonical_id(&d, 0, &scratch, b);
	assert_string_equal(a, b);
	/* sha256 of {"a":"x","b":[1,2]} */
	assert_string_equal(a, "721ef82f2d6c0997bffb7a8ab3f40f8fb45b0b52ce2af3afa6b0f05efbdc317f");
	mw_buf_free(&scratch);
	js_free(&d);
}

/* ---- sanitiser ---------------------------------------------------------- */

static void expect_display(const char *in, size_t n, int max, int ascii, const char *want,
			   int cols)
{
	mw_buf b;
	int got;

	mw_buf_init(&b);
	mw_buf_puts(&b, "|");
	got = sanitize_display(&b, in, n, max, ascii);
	if (strcmp(b.data + 1, want) != 0)
		fail_msg("sanitize_display(%d, %d): got \"%s\", want \"%s\"", max, ascii,
			 b.data + 1, want);
	assert_int_equal(got, cols);
	if (max >= 0)
		assert_true(got <= max);
	assert_int_equal(sanitize_width(b.data + 1, b.len - 1), cols);
	mw_buf_free(&b);
}

#define DISP(in, max, ascii, want, cols) \
	expect_display(in, sizeof(in) - 1, max, ascii, want, cols)

static void test_sanitize_hostile(void **state)
{
	(void)state;
	/* CSI colour and OSC title */
	DISP("\x1b[31mred\x1b[0m", -1, 0, "\\x1b[31mred\\x1b[0m", 18);
	DISP("\x1b]0;pwned\x07" "x", -1, 0, "\\x1b]0;pwned\\x07x", 17);
	/* raw C1 CSI (U+009B) and NEL */
	DISP("a\xc2\x9b" "31m\xc2\x85", -1, 0, "a\\x9b31m\\x85", 12);
	/* C0, DEL, TAB CR LF, backspace */
	DISP("\x01\x7f\t\r\n\b", -1, 0, "\\x01\\x7f\\t\\r\\n\\x08", 18);
	DISP("a\0b", -1, 0, "a\\x00b", 6);
	/* bidi override turns "exe.txt" around; zero-width and BOM */
	DISP("invoice\xe2\x80\xaetxt.exe", -1, 0, "invoice<U+202E>txt.exe", 22);
	DISP("\xe2\x81\xa6\xe2\x80\x8b\xef\xbb\xbf\xd8\x9c\xe2\x80\x8f", -1, 0,
	     "<U+2066><U+200B><U+FEFF><U+061C><U+200F>", 40);
	/* the same escapes in ascii mode; other non-ASCII becomes '?' */
	DISP("h\xc3\xa9\xe2\x80\xae\xe6\x97\xa5\x1b", -1, 1, "h?<U+202E>?\\x1b", 15);
	/* invalid UTF-8 */
	DISP("a\xff" "b\xe2\x82", -1, 0, "a\xef\xbf\xbd" "b\xef\xbf\xbd", 4);
	DISP("a\xff" "b", -1, 1, "a?b", 3);
	/* a combining mark with nothing before it in the string would land
	 * on the cell before it (another column's): shown as an escape */
	DISP("\xcc\x81" "ab", -1, 0, "<U+0301>ab", 10);
	DISP("\xcc\x81\xcc\x81" "a", -1, 0, "<U+0301>\xcc\x81" "a", 9);
	DISP("\xcc\x81" "ab", 4, 0, "\xe2\x80\xa6", 1);
	assert_int_equal(sanitize_width("\xcc\x81" "a", 3), 9);
}

static void test_sanitize_cut(void **state)
{
	(void)state;
	/* fits exactly: no ellipsis */
	DISP("abcde", 5, 0, "abcde", 5);
	DISP("abcdef", 5, 0, "abcd\xe2\x80\xa6", 5);
	/* ascii: "..." (a "~" read as a home directory), as much as fits */
	DISP("abcdef", 5, 1, "ab...", 5);
	DISP("abcdef", 2, 1, "..", 2);
	DISP("ab", 1, 0, "\xe2\x80\xa6", 1);
	DISP("ab", 0, 0, "", 0);
	DISP("", 3, 0, "", 0);
	/* CJK: wide characters are never split */
	DISP("ab\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 5, 0, "ab\xe6\x97\xa5\xe2\x80\xa6", 5);
	DISP("ab\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 4, 0, "ab\xe2\x80\xa6", 3);
	DISP("ab\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 8, 0,
	     "ab\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 8);
	DISP("\xe6\x97\xa5\xe6\x9c\xac", 3, 0, "\xe6\x97\xa5\xe2\x80\xa6", 3);
	/* escapes are atomic at the cut */
	DISP("ab\x1b[2J", 5, 0, "ab\xe2\x80\xa6", 3);
	DISP("ab\xe2\x80\xae", 9, 0, "ab\xe2\x80\xa6", 3);
	/* combining marks stay with their base */
	DISP("ab\xcc\x81" "cd", 3, 0, "ab\xcc\x81\xe2\x80\xa6", 3);
	DISP("abc\xcc\x81", 3, 0, "abc\xcc\x81", 3);
}

static void test_sanitize_combining_flood(void **state)
{
	mw_buf in, out, want;
	int i, cols;

	(void)state;
	mw_buf_init(&in);
	mw_buf_init(&out);
	mw_buf_init(&want);
	mw_buf_putc(&in, 'e');
	for (i = 0; i < 10000; i++)
		mw_buf_puts(&in, "\xcc\x81");
	mw_buf_putc(&in, 'x');
	for (i = 0; i < 10000; i++)
		mw_buf_puts(&in, "\xcc\x88");
	mw_buf_puts(&want, "e\xcc\x81\xcc\x81\xcc\x81\xcc\x81x\xcc\x88\xcc\x88\xcc\x88\xcc\x88");
	cols = sanitize_display(&out, in.data, in.len, -1, 0);
	assert_int_equal(cols, 2);
	assert_string_equal(out.data, want.data);
	mw_buf_reset(&out);
	cols = sanitize_display(&out, in.data, in.len, 1, 0);
	assert_int_equal(cols, 1);
	assert_string_equal(out.data, "\xe2\x80\xa6");
	mw_buf_reset(&out);
	/* ascii mode: every mark is a '?' of its own, bounded by the cut */
	cols = sanitize_display(&out, in.data, in.len, 5, 1);
	assert_int_equal(cols, 5);
	assert_string_equal(out.data, "e?...");
	assert_int_equal(sanitize_width(in.data, in.len), 2);
	mw_buf_free(&in);
	mw_buf_free(&out);
	mw_buf_free(&want);
}

static void test_sanitize_width(void **state)
{
	(void)state;
	assert_int_equal(sanitize_width("", 0), 0);
	assert_int_equal(sanitize_width("abc", 3), 3);
	assert_int_equal(sanitize_width("ab\xe6\x97\xa5\xe6\x9c\xac", 8), 6);
	assert_int_equal(sanitize_width("e\xcc\x81", 3), 1);
	assert_int_equal(sanitize_width("\xe2\x80\xa6", 3), 1);
	assert_int_equal(sanitize_width("\xf0\x9f\x98\x80", 4), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_layout),
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_parse_errors_exact),
		cmocka_unit_test(test_parse_depth),
		cmocka_unit_test(test_parse_too_large),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_get_escaped_keys),
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_strings_surrogates),
		cmocka_unit_test(test_strings_invalid_utf8),
		cmocka_unit_test(test_safe_controls),
		cmocka_unit_test(test_safe_structure),
		cmocka_unit_test(test_safe_string),
		cmocka_unit_test(test_plain_flags),
		cmocka_unit_test(test_plain_same_output),
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_canonical_large_object),
		cmocka_unit_test(test_canonical_key_memo),
		cmocka_unit_test(test_canonical_id),
		cmocka_unit_test(test_canonical_id_whitespace),
		cmocka_unit_test(test_sanitize_hostile),
		cmocka_unit_test(test_sanitize_cut),
		cmocka_unit_test(test_sanitize_combining_flood),
		cmocka_unit_test(test_sanitize_width),
	};

	/* wcwidth needs a UTF-8 locale; the program sets one the same way */
	if (!setlocale(LC_ALL, "C.UTF-8"))
		setlocale(LC_ALL, "en_US.UTF-8");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
