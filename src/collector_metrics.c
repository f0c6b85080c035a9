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

/* The tally saved, then cfg's file written (live: mimewatch_up 1). */
static void write_metrics(collector *c, const struct mw_config *cfg, int live)
{
	mw_buf b;
	mw_err e;

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
	if (metrics_render(c->store, cfg, live, c->metrics_caches, &b, &e) < 0 ||
	    metrics_write(cfg->metrics_file, &b, &e) < 0)
		metrics_failed(c, e.msg);
	else
		c->metrics_error[0] = '\0';
	mw_buf_free(&b);
}

void col_metrics(collector *c, int final)
{
	int64_t now = mw_mono_ms();

	if (!final && now < c->metrics_due)
		return;
	c->metrics_due = now + metrics_every(c->cfg) * 1000;
	write_metrics(c, c->cfg, !final);
}

void col_metrics_reload(collector *c, const struct mw_config *next)
{
	const char *was = c->cfg->metrics_file;

	if (!was || (next->metrics_file && strcmp(was, next->metrics_file) == 0))
		return;
	/* node_exporter would go on reading the old file's last figures as
	 * live: it gets mimewatch_up 0, as at a stop; the new file is written
	 * at the next turn of the loop. */
	write_metrics(c, c->cfg, 0);
	c->metrics_due = 0;
}
