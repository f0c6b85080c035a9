/* collector_metrics.c - metrics_file from the collector's thread: the
 * tally of this run's counts added to the store's totals, then the file
 * rewritten from the store (metrics.h), every metrics_every() seconds and
 * once more at the stop. */
#include "collector_private.h"

#include <stdlib.h>
#include <string.h>

/* A failed write is said once, not every interval, and collection goes on. */
static void metrics_failed(collector *c, const char *msg)
{
	if (!strcmp(c->metrics_error, msg))
		return;
	mw_strlcpy(c->metrics_error, msg, sizeof(c->metrics_error));
	mw_log(0, "metrics: %s", msg);
	col_event(c, NULL, "metrics", "%s", msg);
}

void col_metrics(collector *c, int final)
{
	const struct mw_config *cfg = c->cfg;
	int64_t now = mw_mono_ms();
	mw_buf b;
	mw_err e;

	if (!final && now < c->metrics_due)
		return;
	c->metrics_due = now + metrics_every(cfg) * 1000;
	if (metrics_tally_save(c->tally, c->store, &e) < 0) {
		metrics_failed(c, e.msg);
		return;
	}
	if (!cfg->metrics_file)
		return;
	if (c->nmetrics_caches != cfg->noutputs) {
		/* a reload changed the outputs: count theirs afresh */
		free(c->metrics_caches);
		c->metrics_caches = mw_xcalloc(cfg->noutputs + 1, sizeof(*c->metrics_caches));
		c->nmetrics_caches = cfg->noutputs;
	}
	mw_buf_init(&b);
	if (metrics_render(c->store, cfg, !final, c->metrics_caches, &b, &e) < 0 ||
	    metrics_write(cfg->metrics_file, &b, &e) < 0)
		metrics_failed(c, e.msg);
	else
		c->metrics_error[0] = '\0';
	mw_buf_free(&b);
}
