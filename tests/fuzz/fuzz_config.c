/* fuzz_config.c - libFuzzer target for the config loader. Any input must
 * either load or give an error, never crash; and what loads must render
 * (config_save's text, half the entries rewritten afresh) to a text that
 * loads back with the same integrations in the same order. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Field by field, what the rendered text must give back. */
static int same_integration(const struct mw_integration *a, const struct mw_integration *b)
{
	return strcmp(a->name, b->name) == 0 && a->api == b->api &&
	       strcmp(a->base_url, b->base_url) == 0 && a->types == b->types &&
	       a->interval == b->interval && a->lookback == b->lookback && a->lag == b->lag &&
	       a->overlap == b->overlap && a->page_size == b->page_size &&
	       a->access_key.src == b->access_key.src && a->secret_key.src == b->secret_key.src &&
	       a->client_secret.src == b->client_secret.src &&
	       strcmp(a->description ? a->description : "",
		      b->description ? b->description : "") == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mw_config cfg, again;
	mw_buf out;
	mw_err e;

	if (config_parse("fuzz.yaml", (const char *)data, size, &cfg, &e) != 0)
		return 0;
	for (size_t i = 0; i < cfg.nintegrations; i++)
		cfg.integrations[i].dirty = (int)(i % 2);
	mw_buf_init(&out);
	if (config_render(&cfg, &out, &e) == 0 && out.len <= 1024 * 1024) {
		if (config_parse("fuzz.yaml", out.data ? out.data : "", out.len, &again, &e) != 0)
			abort();  /* saving wrote something that does not load */
		if (again.nintegrations != cfg.nintegrations)
			abort();
		for (size_t i = 0; i < cfg.nintegrations; i++)
			if (!same_integration(&cfg.integrations[i], &again.integrations[i]))
				abort();
		config_free(&again);
	}
	mw_buf_free(&out);
	config_free(&cfg);
	return 0;
}

#include "fuzz_main.h"
