/* output/output.h - delivery of stored records to where a SIEM or data lake
 * takes them: the NDJSON files, and the network outputs (syslog, Splunk HEC,
 * Elasticsearch, Kafka), each from its own durable offset in the store.
 *
 * May include: the C library, libcurl, librelp, librdkafka, zlib (in its .c
 * files only), the leaves (util.h, jsonscan.h, jsonout.h, scrub.h, logtypes.h,
 * netpolicy.h) and store/store.h. Reads only its own structs (struct
 * mw_output, struct output_set): never a config file, config/ or the
 * Mimecast client. The transports' interface (struct sink_ops) is in
 * private.h, for src/output/ and its unit tests. */
#ifndef MW_OUTPUT_H
#define MW_OUTPUT_H

#include <stdatomic.h>
#include <stdint.h>
#include "util.h"
#include "store/store.h"

/* ---- the outputs ---- */
enum mw_output_kind { MW_OUT_NDJSON, MW_OUT_SYSLOG, MW_OUT_HEC, MW_OUT_ES, MW_OUT_KAFKA };

/* One output (HACKING, "Outputs and delivery"); unused fields are NULL. */
struct mw_output {
	enum mw_output_kind kind;
	char *name;                 /* the name: key, default the type's name */
	char *dir;                  /* ndjson */
	char *group;                /* ndjson: the group as written; NULL: none */
	unsigned gid;               /* ndjson: group's gid (when group is set) */
	unsigned file_mode;         /* ndjson: files' mode, 0: 0600 */
	int64_t keep;               /* ndjson: seconds a day's file is kept, 0 ever */
	int compress;               /* ndjson: gzip each day once it is over */
	char *url;                  /* syslog, hec, elasticsearch */
	char *ca_file;              /* syslog tls://, relp+tls://, hec, elasticsearch,
				     * kafka ssl and sasl_ssl */
	char *client_cert;          /* PEM client certificate (TLS, kafka too), or NULL */
	char *client_key;           /* its PEM private key (with client_cert) */
	char *username;             /* elasticsearch basic auth */
	struct mw_secret password;  /* elasticsearch basic auth, with username */
	char *hostname;             /* syslog HOSTNAME (default: this host's name) */
	char *index;                /* elasticsearch index template; hec index */
	char *brokers, *topic;      /* kafka */
	char *security_protocol;    /* kafka: plaintext, ssl, sasl_plaintext or
				     * sasl_ssl (lower case); NULL: plaintext */
	char *sasl_mechanism;       /* kafka sasl_*: PLAIN, SCRAM-SHA-256, -512 */
	char *sasl_username;        /* kafka sasl_* */
	struct mw_secret sasl_password; /* kafka sasl_* */
	struct mw_secret token;     /* hec token, elasticsearch api_key */
	int batch;                  /* records per send, default 500 */
	int64_t batch_bytes;        /* bytes per send (network), 0: 4 MiB */
	int start_now;              /* start: now: a new offset begins at the
				     * newest record, not the oldest */
	int64_t timeout;            /* seconds per send, default 10 */
	int line;
};

/* "ndjson", "syslog", "hec", "elasticsearch", "kafka". */
const char *output_type_name(enum mw_output_kind k);
/* Where an output delivers: its dir, url or brokers. */
const char *output_target(const struct mw_output *o);
/* Failed deliveries of an output, every one since the store was made (a
 * meta row per output, so they go on across restarts): what the metrics
 * call mimewatch_output_errors_total. */
int64_t output_failures(mw_store *s, const char *name);

typedef struct output_handoff output_handoff;

/* What the outputs need of the config: config_output_set() makes one. The
 * outputs it points at must outlive every call and worker given it. */
struct output_set {
	const char *state_dir;
	const struct mw_output *outputs;
	size_t noutputs;
	output_handoff *handoff;    /* pages just committed (handoff.c), or NULL */
};

/* ---- handoff.c: the pages the collector just committed, kept in memory
 * for the NDJSON outputs (at most max_rows rows, the oldest dropped first),
 * so that they need not read back from the store what was written to it a
 * moment before. The store stays the truth: an output takes rows from here
 * only while they follow its offset without a gap. Thread safe. */
output_handoff *output_handoff_new(size_t max_rows);
void output_handoff_free(output_handoff *h);
/* Copies recs, stored at rowids first_rowid.. (store_page_result), into h. */
void output_handoff_push(output_handoff *h, int64_t first_rowid, const char *integration,
			 const char *type, const struct store_rec *recs, size_t n, int64_t now);
/* Calls cb for the rows held from rowid after + 1 on, in order and without
 * a gap, at most limit (cb returns non-zero to stop); the count fed, 0 when
 * h does not hold row after + 1. */
size_t output_handoff_each(output_handoff *h, int64_t after, size_t limit,
			   int (*cb)(const struct store_row *row, void *ctx), void *ctx);
/* The first rowid after `after` that h holds, 0 when none: where reading
 * the store may stop. */
int64_t output_handoff_first_after(output_handoff *h, int64_t after);
/* Drops the pages every consumer is past (rowids <= upto). */
void output_handoff_trim(output_handoff *h, int64_t upto);

/* ---- ndjson.c: delivery of stored records to the configured outputs. Each
 * output reads the store by rowid from its own durable offset, so a slow or
 * dead output never holds up collection. NDJSON (HACKING, "NDJSON
 * output"): one file per integration, type and UTC date of writing; the
 * committed size of each file is stored with the last rowid, so after a
 * crash the file is cut back to it and writing resumes after that rowid: no
 * torn or duplicated line. */

/* Appends the NDJSON line for a stored row (with the trailing '\n'):
 * {"integration":..,"type":..,"id":..,"time":"<RFC 3339 UTC>","record":{..}}
 * and for a revised record (row->revision >= 2) "revision":N after "time":
 * the same id delivered again with new content (mimewatch.yaml(5)). */
void ndjson_line(mw_buf *out, const struct store_row *row);

/* Brings every output of cfg up to date with the store. Recovers each NDJSON
 * output (truncates files to their committed sizes) on its first call in this
 * process. *delivered (may be NULL) gets the rows written. */
int outputs_deliver(const struct output_set *cfg, mw_store *s, int64_t *delivered, mw_err *e);

/* Test seam: forgets which outputs this process has recovered, so the next
 * outputs_deliver recovers again as a freshly started process would. */
void outputs_forget_recovery(void);

/* Gives each output with start: now that the store has no offset for yet
 * an offset at the newest stored record, so it delivers only what is
 * collected from now on. Called before any delivery or collection (at
 * start and on reload); an offset once made is never moved by it. */
int outputs_begin(const struct output_set *cfg, mw_store *s, mw_err *e);

/* The lowest offset over all outputs (what retention may delete up to). */
int64_t outputs_min_offset(const struct output_set *cfg, mw_store *s);

/* The NDJSON directory of an output with its default applied. */
const char *outputs_ndjson_dir(const char *state_dir, const struct mw_output *o,
			       char *buf, size_t n);

/* One writer per NDJSON directory: an flock on <dir>/.mimewatch.lock (0600,
 * holding the pid), taken for each NDJSON output of cfg that locks does not
 * hold yet (*locks NULL: a new set) and held until outputs_unlock_dirs, like
 * state_dir/lock (store_lock). -1 when another process holds one: e names
 * the output, the holder's pid, the directory and the fix, and the locks
 * this call took are dropped again. A directory that cannot be made or
 * opened is skipped: delivering reports that. */
typedef struct output_dir_locks output_dir_locks;
int outputs_lock_dirs(const struct output_set *cfg, output_dir_locks **locks, mw_err *e);
void outputs_unlock_dirs(output_dir_locks *locks);

/* ---- workers.c: the network outputs' delivery: a worker thread per
 * output, each from its own durable offset (see workers.c). */

typedef struct sink_workers sink_workers;

/* Starts a worker for every network output of cfg (cfg must outlive them,
 * or be replaced through sink_workers_reload). once: fetch, where
 * sink_workers_finish ends them; budget_ms: how long a failing output is
 * retried there before fetch gives up on it (0: 10 minutes). */
int sink_workers_start(const struct output_set *cfg, int once, int64_t budget_ms,
		       sink_workers **out, mw_err *e);
/* New records were committed: deliver now rather than at the next poll. */
void sink_workers_kick(sink_workers *w);
/* The config was reloaded: outputs that did not change keep their worker
 * (and its connection); others are stopped, new ones started. */
void sink_workers_reload(sink_workers *w, const struct output_set *cfg);
/* once: nothing more will be committed; waits until every output is up
 * to date or gave up. -1 with e naming an output that could not be. */
int sink_workers_finish(sink_workers *w, mw_err *e);
/* Aborts sends in flight (within about a second) and joins. NULL is fine. */
void sink_workers_stop(sink_workers *w);

/* ---- replay (workers.c; ndjson.c for NDJSON): the stored records of a
 * span (by record time) delivered once more to the output named name,
 * after a loss downstream: the same lines and ids as the first delivery,
 * through the output's own sink or files, the output's offset untouched
 * (they are extra deliveries). The caller holds state_dir's lock and, for
 * NDJSON, the directory's. Progress and result go to the store for status
 * (output_replay_state). abort_flag (or NULL), set from another thread,
 * stops it between batches. *done gets the records delivered; -1 with e
 * set when the replay stopped. */
int output_replay(const struct output_set *cfg, const char *name,
		  const struct store_time_span *sp, mw_store *s, atomic_int *abort_flag,
		  int64_t *done, mw_err *e);
/* What status shows of the output's last replay, "" when none. */
void output_replay_state(mw_store *s, const char *name, char *out, size_t n);

/* "Send test record" (the console's t): one test record straight through
 * the named output's transport (NDJSON: a probe file in its directory, the
 * data files are left alone). 0 delivered, -1 not; result says which, with
 * the error and its remedy. */
int output_send_test(const struct output_set *cfg, const char *name, atomic_int *abort_flag,
		     mw_buf *result);

#endif
