/* collector.h - collects every configured (integration, type) into the
 * store exactly once (HACKING, "Collecting exactly once").
 *
 * One job per (integration, type), each with its own cursor and status; one
 * mc_client per integration, so a 429 holds back every type on the same
 * credentials. A job step is one page: the scheduler runs whichever job is
 * due, so types interleave and nothing spins. The collector wakes listeners
 * (a pipe) on every change and carries out requests written to the store. */
#ifndef MW_COLLECTOR_H
#define MW_COLLECTOR_H

#include <stdatomic.h>
#include <stdint.h>
#include "config/config.h"
#include "mimecast/mimecast.h"
#include "logtypes.h"
#include "shard.h"

typedef struct collector collector;

struct collector_opts {
	int once;                 /* fetch: stop when every job reached now - lag
	                             or failed for good */
	int64_t retry_budget_ms;  /* give up on a job after this much retrying;
	                             default 10 min (once) / unlimited (run) */
	int deliver;              /* run the outputs (a thread in run mode; at
	                             the end in once mode) */
	const char *only[64];     /* integration names to collect; empty: all */
	int nonly;
	struct mw_shard shard;    /* run/fetch --shard K/N: only the integrations
	                             shard K takes (shard.h); n 0: all */
};

struct collector_report {
	char integration[64];
	const struct mw_logtype *lt;
	int64_t new_records, duplicates, requests, retries, rejects;
	int64_t revised;        /* records stored again with new content */
	int64_t horizon;          /* after the run */
	int failed;               /* gave up, see last */
	struct mc_result last;    /* the last outcome */
};

/* The collector opens its own store connections in cfg->state_dir. The
 * caller holds the lock; with opts->deliver the collector takes and holds
 * each NDJSON directory's (outputs_lock_dirs), and refuses to start, e
 * naming the holder, when another process holds one. cfg must outlive the
 * collector; configs loaded on reload are the collector's own (a reload
 * that changes state_dir is refused). */
collector *collector_new(const struct mw_config *cfg, const struct collector_opts *opts,
			 mw_err *e);
void collector_free(collector *c);

/* Runs in the calling thread until stopped (or, once, until done). Returns
 * 0, or 1 when at least one job failed. */
int collector_run(collector *c);
/* The same in a background thread. */
int collector_start(collector *c, mw_err *e);
/* Asks it to stop: safe from a signal handler. In-flight transfers abort
 * within a second; nothing partial is committed. */
void collector_stop(collector *c);
int collector_join(collector *c);
/* Re-reads the config file between steps (SIGHUP, or a "reload" request);
 * jobs that remain keep their cursors and state. Safe from a signal handler. */
void collector_request_reload(collector *c);

/* A request was just written into the store (by the console in this
 * process): the collector reads it at once instead of at its next poll. */
void collector_poke(collector *c);

/* A pipe readable whenever something changed (drain it with read()). */
int collector_wake_fd(collector *c);

/* How many of cfg's integrations sh takes (all without sharding). */
size_t collector_shard_count(const struct mw_config *cfg, const struct mw_shard *sh);
/* The shard of the collector that last started on s (its meta row): n 0
 * when it took every integration, or s is NULL. For status and the console. */
struct mw_store;
void collector_shard_of_store(struct mw_store *s, struct mw_shard *sh);

/* Per-job figures of this run, in config then type order. */
const struct collector_report *collector_reports(collector *c, size_t *n);

/* ---- collector_requests.c: checks of an integration not in the config ----
 *
 * The wizard's live checks, for an integration being written: they run in
 * the calling thread (the console's worker), with no collector and no store,
 * and send only what the check needs. */

/* validate_integration: credentials, then each chosen type. 0 all ok. */
int collector_check_integration(const struct mw_integration *in, struct validate_report *rep,
				const atomic_int *abort_flag);
/* API 1.0 discover-authentication: the region's base URL for an email
 * address (*base_url malloc'd), asked of discover_base in the name of in's
 * application, through in's CA file and proxy (its own, the top level's
 * or the environment's, as its requests go). */
int collector_discover_region(const struct mw_integration *in, const char *discover_base,
			      const char *email, char **base_url, struct mc_result *res);

/* ---- collector_requests.c: rename -------------------------------------------
 *
 * Renames integration from to to in the store (store_rename_integration:
 * cursors and records with their rowids stay, so nothing is collected or
 * delivered again) and in the config file at config_path (the entry
 * rewritten, the rest of the file kept). The caller holds the collector
 * lock, or is the collector. 0, or -1 with e set and neither changed. */
struct mw_store;
int collector_rename_integration(struct mw_store *s, const char *config_path,
				 const char *from, const char *to, mw_err *e);
/* The plain edit of a name, caught at load: for an integration in cfg the
 * store has never seen while the store holds one cfg no longer names, one
 * warning line each (malloc'd "...\n" lines in *out, NULL when none). */
char *collector_rename_hints(struct mw_store *s, const struct mw_config *cfg);

#endif
