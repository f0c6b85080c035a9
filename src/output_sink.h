/* output_sink.h - the network outputs' delivery: a worker thread per
 * output, each from its own durable offset (see output_sink.c). */
#ifndef MW_OUTPUT_SINK_H
#define MW_OUTPUT_SINK_H

#include <stdatomic.h>
#include <stdint.h>
#include "config.h"
#include "util.h"

typedef struct sink_workers sink_workers;

/* Starts a worker for every network output of cfg (cfg must outlive them,
 * or be replaced through sink_workers_reload). once: fetch, where
 * sink_workers_finish ends them; budget_ms: how long a failing output is
 * retried there before fetch gives up on it (0: 10 minutes). */
int sink_workers_start(const struct mw_config *cfg, int once, int64_t budget_ms,
		       sink_workers **out, mw_err *e);
/* New records were committed: deliver now rather than at the next poll. */
void sink_workers_kick(sink_workers *w);
/* The config was reloaded: outputs that did not change keep their worker
 * (and its connection); others are stopped, new ones started. */
void sink_workers_reload(sink_workers *w, const struct mw_config *cfg);
/* once: nothing more will be committed; waits until every output is up
 * to date or gave up. -1 with e naming an output that could not be. */
int sink_workers_finish(sink_workers *w, mw_err *e);
/* Aborts sends in flight (within about a second) and joins. NULL is fine. */
void sink_workers_stop(sink_workers *w);

/* "Send test record" (the console's t): one test record straight through
 * the named output's transport (NDJSON: a probe file in its directory, the
 * data files are left alone). 0 delivered, -1 not; result says which, with
 * the error and its remedy. */
int output_send_test(const struct mw_config *cfg, const char *name, atomic_int *abort_flag,
		     mw_buf *result);

#endif
