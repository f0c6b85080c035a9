/* fuzz_ratelimit.c - libFuzzer target for the rate-limit header parser:
 * X-RateLimit-Reset values as a server might send them go through
 * mc_parse_reset_ms and mc_clamp_wait_ms, and the promises callers build the
 * 429 gate on are checked against an independent reading of the value:
 * - the parse is -1 (bogus) or exactly the decimal the text holds, between
 *   optional blanks, and only for plain digits (no sign, exponent, dot);
 * - every wait is within [100 ms, 15 min] (HACKING, "Retries, backoff and
 *   the 429 gate"), and a sane value
 *   within that range is honoured unchanged (never shortened).
 *
 * Build with --enable-fuzzing (clang); -DMW_FUZZ_MAIN gives a main() that
 * runs the files named on the command line. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mimecast/mimecast.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The reference reading: blanks, digits, blanks, nothing else; -2 when the
 * digits are too many to matter (the parser may call those bogus). */
static int64_t reference(const char *s)
{
	const char *p = s;
	int64_t v = 0;
	int digits = 0, big = 0;

	while (*p == ' ' || *p == '\t')
		p++;
	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		if (v > (INT64_MAX - 9) / 10)
			big = 1;
		else
			v = v * 10 + (*p - '0');
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (!digits || *p)
		return -1;
	return big ? -2 : v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	int64_t got, want, wait;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';  /* a header value never holds NUL: stop at the first */
	got = mc_parse_reset_ms(s);
	want = reference(s);
	if (got < -1)
		abort();
	if (want == -1 && got != -1)
		abort();  /* accepted text that is not a plain number */
	if (want >= 0 && got != -1 && got != want)
		abort();  /* misread the number */
	if (want == -2 && got != -1 && got < 900000)
		abort();  /* a huge value read as a small one */
	wait = mc_clamp_wait_ms(got);
	if (wait < 100 || wait > 900000)
		abort();
	if (got >= 100 && got <= 900000 && wait != got)
		abort();  /* a sane reset must be honoured as sent */
	if (got > 900000 && wait != 900000)
		abort();
	free(s);
	return 0;
}

#include "fuzz_main.h"
