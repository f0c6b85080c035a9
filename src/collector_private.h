/* collector_private.h - for the collector's files alone (collector.c,
 * collector_page.c, collector_requests.c, collector_outputs.c): its state
 * and the functions they share. */
#ifndef MW_COLLECTOR_PRIVATE_H
#define MW_COLLECTOR_PRIVATE_H

#include <stdatomic.h>
#include <pthread.h>

#include "collector.h"
#include "metrics.h"
#include "mimecast/mimecast.h"
#include "output/output.h"
#include "store/store.h"

#define BACKOFF_MIN_MS 1000
#define SKEW_WARN_S 60          /* Date header vs this host's clock */
#define WARN_KEEP_S 86400       /* a window's warning stays in status this long */
#define MIN_SLOW_PAGE 10        /* a slow tenant's pages are halved down to this */
#define BUDGET_GRACE_MS 5000    /* a try at the retry budget's end gets this long */
#define LOOP_DUP_PAGES 2        /* pages of records already received that end a window */
#define BACKOFF_MAX_MS (5 * 60 * 1000)
#define REQUEST_POLL_MS 1000
/* The output thread delivers at most once per this while records keep
 * coming: each NDJSON delivery costs an fsync per file and a store commit
 * (which also empties the collector connection's page cache), so one per
 * page of 100 records cost more than the page itself. */
#define OUT_COALESCE_MS 100
/* Rows of the pages just committed kept for the NDJSON outputs (handoff.c):
 * more than a backfill stores between two deliveries (~5,000 at 50,000
 * records/s), about 10 MB at Mimecast's record sizes. */
#define HANDOFF_ROWS 8192
/* Mid-window a page changes only the status's counters and rate budget:
 * written at most this often (each write is a transaction of its own, and
 * was one per page of 100 records). A change of state is written at once. */
#define STATUS_EVERY_MS 500
#define PRUNE_EVERY_MS (60 * 60 * 1000)
/* Pass-through deletes after each delivery that moved the outputs, and at
 * least this often otherwise (windows move the dedup horizons on). */
#define PASS_THROUGH_EVERY_MS (10 * 1000)

struct cred {
	mc_client *client;
	char key[512];          /* identity of the quota: api, host, user */
	int64_t tokens_seen;    /* mc_token_info.obtained already made events */
	int64_t after_401_seen; /* and its after_401 */
};

struct job {
	const struct mw_integration *in;
	const struct mw_logtype *lt;
	struct cred *cred;
	int64_t source;
	struct store_cursor cur;
	/* A backfill job (after the regular ones in jobs[]: at most one a
	 * source) reads the source's queued backfills one after the other,
	 * each one window [bf_from, cur.win_to] resumed from its store row
	 * (cur.backfill its id); it writes no status of its own. done: none
	 * is queued. */
	int backfill;
	int64_t bf_from;
	int64_t due;            /* monotonic ms */
	int paused;
	int held;               /* its status says the store is over max_store */
	int done, failed;       /* once mode */
	int64_t retry_since;    /* monotonic ms of the first failure in a row, 0 none */
	int64_t backoff;
	int app_id_retried;
	int64_t poll_new;       /* records new in the window in progress */
	int page_size;          /* this window's pageSize: halved for a slow tenant */
	/* Pagination that does not end (a next token that repeats, pages of
	 * records this window already received): the window's recent tokens,
	 * the time up to which duplicates are expected (the overlap, or what a
	 * restart reads again), and the run of pages of nothing else. */
	uint64_t tokens[8];
	int ntokens;
	int64_t expect_dup_until;
	int64_t oldest_seen;    /* newest first: the oldest record time a page of this
				 * reading brought (INT64_MAX: none yet) */
	int dup_pages;
	char skew_warn[160];    /* this host's clock against the server's Date */
	char win_warn[220];     /* what the last windows ended with; said for a day */
	int64_t win_warn_at;
	int64_t status_at;      /* monotonic ms of the last status write */
	struct store_status st;
	struct collector_report rep;
	/* A batch type's sub-types (collector_batch.c), malloc'd at its first
	 * step; the one the next step serves. */
	struct batch_sub *subs;
	size_t nsubs, sub_at;
	int64_t poll_from;      /* when this poll's first listing went out, epoch s */
	int64_t files_skipped;  /* files given up since the start (status.warning) */
};

struct rec_ref {
	size_t id_off, id_len;  /* in page_json */
	size_t json_off, json_len;
	int64_t time;
	int threat;
	int outside;            /* dated outside the window asked for */
	int tok;                /* its token in the page (the run's summary) */
};

struct collector {
	const struct mw_config *cfg;     /* the caller's */
	struct mw_config **owned;        /* loaded on reload, ours to free; kept
	                                    until the end: the output thread may
	                                    still read an older one */
	size_t nowned;
	struct collector_opts opts;
	mw_store *store;
	struct cred *creds;
	size_t ncreds;
	struct job *jobs;
	size_t njobs;
	size_t nregular;                 /* jobs[0..nregular): one per (integration, type);
	                                    the backfill jobs follow, within njobs_cap */
	size_t njobs_cap;
	struct collector_report *reports;
	/* Set by other threads (the console, signal forwarding): atomics, so
	 * the loops see them without a data race. */
	atomic_int stop;
	atomic_int reload;
	atomic_int stop_requested;       /* from outside (stop also ends the output thread) */
	atomic_int poke;                 /* a request was just written: read it now */
	int ctl[2];                      /* wakes the collector (stop, reload) */
	int wake[2];                     /* wakes listeners */
	int64_t target;                  /* once: collect up to here (epoch s) */
	int64_t last_request_poll;
	pthread_t thread, out_thread;
	int thread_started, out_started;
	/* The output thread waits on this for new records. */
	pthread_mutex_t out_mu;
	pthread_cond_t out_cv;
	int out_pending;
	int out_idle;                    /* waiting for records, not gathering them */
	int out_failed;
	sink_workers *sinks;             /* the network outputs' workers */
	output_dir_locks *dir_locks;     /* deliver: the NDJSON directories we write */
	output_handoff *handoff;         /* deliver: committed pages for NDJSON */
	int64_t next_heartbeat_ms;
	struct col_replay *replay;       /* a replay handed over by `mimewatch
	                                    replay`, run in a thread of its own */
	char out_error[1024];
	/* Under out_mu: the output thread found the store over max_store with
	 * nothing it may delete (HACKING, "The store's budget and
	 * pass-through"); every job holds until it clears. held_since is the
	 * collector's (monotonic ms), for fetch's retry budget. */
	int held;
	char held_code[96], held_msg[400], held_remedy[400];
	int64_t held_since;
	mw_buf page_json;                /* reused across pages */
	struct rec_ref *refs;            /* page rows, reused */
	struct store_rec *rows;
	size_t rows_cap;
	mw_buf scratch;
	mw_buf resp;
	struct mc_page page;
	/* metrics.h: the counts not yet in the store, and metrics_file's next
	 * write (monotonic ms) with its outputs' counts kept between writes */
	metrics_tally *tally;
	int64_t metrics_due;
	struct store_output_cache *metrics_caches;
	size_t nmetrics_caches;
	char metrics_error[512];        /* the last write's, said once */
};

/* ---- collector.c ---- */
int col_build_jobs(collector *c, const struct mw_config *cfg, struct job *old, size_t n_old,
		      mw_err *e);
void col_clear_error(struct job *j);
void col_free_jobs(collector *c);
void col_local_failure(struct mc_result *r, const char *what, const char *msg,
			  const char *remedy);
void col_put_status(collector *c, struct job *j, const char *state);
void col_set_error(struct job *j, const struct mc_result *r);
void col_wake_listeners(collector *c);
/* Events (store.h, "events.c"): j NULL for none of the jobs. col_event
 * writes at once; col_event_defer goes with the next page commit. */
void col_event(collector *c, const struct job *j, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void col_event_defer(collector *c, const struct job *j, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* "HTTP 503 code: message" or "code: message": why a request failed. */
void col_reason(const struct mc_result *r, char *out, size_t n);

/* The backfill job of source, or NULL. */
struct job *col_backfill_job(collector *c, int64_t source);
/* Points backfill job j at the source's oldest queued backfill (due now),
 * or marks it done when none is queued. 1 loaded, 0 none, -1 error. */
int col_backfill_load(collector *c, struct job *j);

/* ---- collector_page.c ---- */
void col_kick_outputs(collector *c);
/* A failed request: backoff or the 429 gate (retryable), else an error
 * until the next poll; status and an event say why. */
void col_on_failure(collector *c, struct job *j, const struct mc_result *r);
/* Sets a record aside: counted, and kept in state_dir/rejects/. */
void col_reject(collector *c, struct job *j, const js_doc *d, int rec, const char *why);
void col_schedule_next_poll(collector *c, struct job *j);
/* status.warning from the clock's and the windows' warnings. */
void col_set_warning(struct job *j);
void col_loop_watch_reset(struct job *j, int64_t expect_dup_until);
void col_step(collector *c, struct job *j);

/* ---- collector_metrics.c ---- */
/* Saves the tally to the store and rewrites metrics_file when it is due
 * (metrics_every), or now with mimewatch_up 0 when final (the stop). */
void col_metrics(collector *c, int final);
/* Before a reload takes next: a metrics_file it moves or drops is written
 * a last time with mimewatch_up 0, and next's is due at once. */
void col_metrics_reload(collector *c, const struct mw_config *next);

/* ---- collector_batch.c ---- */
/* One step of a batch type's job: a listing or one file. */
void col_batch_step(collector *c, struct job *j);
void col_batch_free(struct job *j);

/* ---- collector_requests.c ---- */
void col_poll_requests(collector *c);
void col_reload_config(collector *c, mw_buf *out, int *ok);

/* ---- collector_outputs.c ---- */
void col_heartbeat(collector *c);
void *col_output_main(void *arg);
/* Starts output name's replay of sp in a thread of its own (one at a
 * time); its own store connection, stopped by c->stop. 0 started, -1 not
 * (out says why). */
int col_replay_start(collector *c, const char *name, const struct store_time_span *sp,
		     mw_buf *out);
/* Waits for the replay thread, if any (stopping: it aborts at c->stop). */
void col_replay_join(collector *c);

#endif
