/* metrics.h - the Prometheus text exposition of what the store knows
 * (HACKING, "What the commands print"): written to metrics_file by whoever
 * collects (src/collector_metrics.c), printed by `mimewatch status
 * --metrics`.
 *
 * Joins config (integrations, outputs), the store (status, output offsets,
 * the meta table) and the error classes of mimecast.h; no curses, no HTTP.
 *
 * The collector's own counts (log-page requests, rate-limit waits, errors
 * by class) are tallied in memory and added to totals the store keeps (the
 * meta row "metrics_counters") before each write, so every counter the file
 * shows is the store's and goes on across restarts; the rest (records,
 * revisions, rejects) are the store's own totals already. */
#ifndef MW_METRICS_H
#define MW_METRICS_H

#include <stdint.h>

#include "config/config.h"
#include "mimecast/mimecast.h"
#include "store/store.h"
#include "util.h"

/* How often a collector rewrites the file at most: every 30 s, or the
 * shortest integration interval when that is shorter. */
#define METRICS_EVERY_S 30

/* What the collector counts per (integration, type). */
enum metrics_count {
	MX_REQUESTS,            /* log pages asked for */
	MX_RATE_LIMIT_WAITS,    /* a 429 or a spent X-RateLimit-Remaining waited out */
	MX_ERRORS,              /* + enum mc_class: a failed step of that class */
	MX_NCOUNTS = MX_ERRORS + MC_CLASS_COUNT
};

typedef struct metrics_tally metrics_tally;
metrics_tally *metrics_tally_new(void);
void metrics_tally_free(metrics_tally *t);
void metrics_tally_add(metrics_tally *t, const char *integration, const char *type,
		       enum metrics_count what, int64_t n);
/* Adds the tally to the store's totals in one write, then empties it.
 * 0, or -1 with e set and the tally kept for the next try. */
int metrics_tally_save(metrics_tally *t, mw_store *s, mw_err *e);

/* Appends the exposition to out: every family with its HELP and TYPE, a
 * series per configured (integration, type) (of a shard's store, the
 * shard's, collector_shard_of_store) and per output. s NULL: no
 * store yet (every count 0). up: 1 while a collector runs. caches: one
 * store_output_cache per output of cfg, kept by a caller that writes again
 * and again (NULL: count in full). */
int metrics_render(mw_store *s, const struct mw_config *cfg, int up,
		   struct store_output_cache *caches, mw_buf *out, mw_err *e);

/* Replaces path with text: a temporary name beside it (path.tmp.PID, which
 * node_exporter skips), fsync, rename. Mode 0644: the file holds counts and
 * names, no secret, and node_exporter runs as another user. */
int metrics_write(const char *path, const mw_buf *text, mw_err *e);

/* Seconds between two writes for cfg (METRICS_EVERY_S or less). */
int64_t metrics_every(const struct mw_config *cfg);

#endif
