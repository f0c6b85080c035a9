/* fuzz_response.c - libFuzzer target for the response path: a body as
 * Mimecast might send it goes through mc_page_parse (js_parse, mc_classify,
 * the records and next token) for every log type and a spread of HTTP
 * statuses, and through mc_batch_list_parse for a batch type (a listing of
 * files), and the invariants callers rely on are checked.
 *
 * Build with --enable-fuzzing (clang). Without libFuzzer, compile with
 * -DMW_FUZZ_MAIN to get a main() that runs the files named on the command
 * line (e.g. the seed corpus in tests/fuzz/corpus/response/). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1  /* strnlen alongside -std=c11 */
#endif
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mimecast/mimecast.h"
#include "jsonscan.h"
#include "logtypes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (n == cap)
		abort();  /* not terminated */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			abort();  /* hostile bytes must never reach a terminal */
}

static void check(const struct mc_page *page, const struct mc_result *r, long status)
{
	const js_doc *d = &page->doc;

	if ((unsigned)r->cls >= MC_CLASS_COUNT)
		abort();
	check_text(r->code, sizeof(r->code));
	check_text(r->message, sizeof(r->message));
	if (strnlen(r->remedy, sizeof(r->remedy)) == sizeof(r->remedy))
		abort();
	if (r->cls != MC_OK && !r->remedy[0])
		abort();  /* every failure says what to do */
	if (r->http_status != status)
		abort();
	if (r->cls == MC_RETRY && !r->retryable)
		abort();
	if (r->cls != MC_OK) {
		if (page->records != -1 || page->nrecords || page->next)
			abort();
		return;
	}
	if (status < 200 || status > 299)
		abort();
	/* ok means: a JSON object whose fail[] is absent or empty */
	{
		int fail = js_get(d, 0, "fail");

		if (d->toks[0].type != JS_OBJECT)
			abort();
		if (fail >= 0 && (d->toks[fail].type != JS_ARRAY || d->toks[fail].size))
			abort();
	}
	if (page->records >= 0) {
		if ((size_t)page->records >= d->ntoks || d->toks[page->records].type != JS_ARRAY ||
		    d->toks[page->records].size != page->nrecords)
			abort();
		/* walking the records must stay inside the token array */
		size_t k = 0;
		for (uint32_t i = (uint32_t)page->records + 1; k < page->nrecords; k++)
			i = d->toks[i].next;
	} else if (page->nrecords) {
		abort();
	}
	if (page->next && !page->next[0])
		abort();
}

/* A batch type's listing: files only when ok, each with a url; a
 * @nextPage is never empty. */
static void check_listing(const struct mc_batch_list *l, const struct mc_result *r)
{
	if (r->cls != MC_OK && (l->nfiles || l->next_page))
		abort();
	for (size_t i = 0; i < l->nfiles; i++)
		if (!l->files[i].url)
			abort();
	if (l->next_page && !l->next_page[0])
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = { 200, 204, 302, 400, 401, 403, 418, 429, 500, 599 };
	struct mc_page page;

	mc_page_init(&page);
	for (size_t t = 0; t < mw_nlogtypes; t++) {
		for (size_t s = 0; s < sizeof(statuses) / sizeof(statuses[0]); s++) {
			struct mc_classify_ctx ctx = { mw_logtypes[t].permission, 1700000000,
						       (int)(s & 1) };
			struct mc_result r;

			mc_page_parse(&page, &mw_logtypes[t], statuses[s], (const char *)data, size,
				      &ctx, &r);
			check(&page, &r, statuses[s]);
			if (mw_logtypes[t].shape == MW_SHAPE_BATCH) {
				struct mc_batch_list l;

				mc_batch_list_parse(&l, statuses[s], (const char *)data, size, &ctx,
						    &r);
				check_listing(&l, &r);
				mc_batch_list_free(&l);
			}
		}
	}
	mc_page_free(&page);
	return 0;
}

#include "fuzz_main.h"
