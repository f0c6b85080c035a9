/* collector.c - the collection loop (see collector.h and design.md,
 * "Collecting exactly once").
 *
 * Per (integration, type) a job walks windows [horizon - overlap, now - lag]
 * oldest first, one page per step. Each page's records and the resumption
 * point (window and page token) are committed in one transaction; the
 * horizon moves only when a window completes. A backfill is one window
 * resumed by its page token, so requests stay at the number of pages. The
 * unique index on (source, id) drops what the overlap reads again. */
#include "collector.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonout.h"
#include "mimecast/mimecast.h"
#include "output/output.h"
#include "service.h"
#include "store/store.h"
#include "window.h"

#define BACKOFF_MIN_MS 1000
#define SKEW_WARN_S 60          /* Date header vs this host's clock */
#define WARN_KEEP_S 86400       /* a window's warning stays in status this long */
#define MIN_SLOW_PAGE 10        /* a slow tenant's pages are halved down to this */
#define BUDGET_GRACE_MS 5000    /* a try at the retry budget's end gets this long */
#define LOOP_DUP_PAGES 2        /* pages of records already received that end a window */
#define BACKOFF_MAX_MS (5 * 60 * 1000)
#define REQUEST_POLL_MS 1000
#define PRUNE_EVERY_MS (60 * 60 * 1000)

struct cred {
	mc_client *client;
	char key[512];          /* identity of the quota: api, host, user */
};

struct job {
	const struct mw_integration *in;
	const struct mw_logtype *lt;
	struct cred *cred;
	int64_t source;
	struct store_cursor cur;
	int64_t due;            /* monotonic ms */
	int paused;
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
	int dup_pages;
	char skew_warn[160];    /* this host's clock against the server's Date */
	char win_warn[220];     /* what the last windows ended with; said for a day */
	int64_t win_warn_at;
	struct store_status st;
	struct collector_report rep;
};

struct rec_ref {
	size_t id_off, id_len;  /* in page_json */
	size_t json_off, json_len;
	int64_t time;
	int threat;
	int outside;            /* dated outside the window asked for */
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
	int out_failed;
	sink_workers *sinks;             /* the network outputs' workers */
	int64_t next_heartbeat_ms;
	char out_error[1024];
	mw_buf page_json;                /* reused across pages */
	struct rec_ref *refs;            /* page rows, reused */
	struct store_rec *rows;
	size_t rows_cap;
	mw_buf scratch;
	mw_buf resp;
	struct mc_page page;
};

static void notify(int fd)
{
	char c = 1;
	ssize_t r = write(fd, &c, 1);

	(void)r; /* a full pipe already means "something changed" */
}

static void wake_listeners(collector *c)
{
	notify(c->wake[1]);
}

static int make_pipe(int fds[2])
{
	if (pipe(fds) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
		fcntl(fds[i], F_SETFD, FD_CLOEXEC);
	}
	return 0;
}

static void drain(int fd)
{
	char buf[64];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* ---- jobs and credentials ------------------------------------------------ */

static void cred_key(const struct mw_integration *in, char *buf, size_t n)
{
	/* Mimecast's quota is per user (API 1.0) or per application (2.0). */
	if (in->api == 2)
		snprintf(buf, n, "v2|%s|%s", in->base_url, in->client_id ? in->client_id : "");
	else
		snprintf(buf, n, "v1|%s|%s", in->base_url,
			 in->access_key.value ? in->access_key.value : "");
}

static struct cred *cred_for(collector *c, const struct mw_integration *in, mw_err *e)
{
	char key[512];
	struct mc_creds mc;
	struct cred *cr;

	cred_key(in, key, sizeof(key));
	for (size_t i = 0; i < c->ncreds; i++)
		if (strcmp(c->creds[i].key, key) == 0)
			return &c->creds[i];
	memset(&mc, 0, sizeof(mc));
	mc.api = in->api;
	mc.base_url = in->base_url;
	mc.app_id = in->app_id;
	mc.app_key = in->app_key;
	mc.access_key = in->access_key.value;
	mc.secret_key = in->secret_key.value;
	mc.client_id = in->client_id;
	mc.client_secret = in->client_secret.value;
	mc.ca_file = in->ca_file;
	cr = &c->creds[c->ncreds];
	cr->client = mc_client_new(&mc, e);
	if (!cr->client)
		return NULL;
	mc_client_set_abort(cr->client, &c->stop);
	snprintf(cr->key, sizeof(cr->key), "%s", key);
	c->ncreds++;
	return cr;
}

static void free_jobs(collector *c)
{
	for (size_t i = 0; i < c->ncreds; i++)
		mc_client_free(c->creds[i].client);
	free(c->creds);
	free(c->jobs);
	free(c->reports);
	c->creds = NULL;
	c->jobs = NULL;
	c->reports = NULL;
	c->ncreds = c->njobs = 0;
}

static int selected(const collector *c, const char *name)
{
	if (c->opts.nonly == 0)
		return 1;
	for (int i = 0; i < c->opts.nonly; i++)
		if (strcmp(c->opts.only[i], name) == 0)
			return 1;
	return 0;
}

static void loop_watch_reset(struct job *j, int64_t expect_dup_until);

static void status_init(struct job *j)
{
	memset(&j->st, 0, sizeof(j->st));
	snprintf(j->st.integration, sizeof(j->st.integration), "%s", j->in->name);
	snprintf(j->st.type, sizeof(j->st.type), "%s", j->lt->name);
	j->st.source = j->source;
	snprintf(j->st.state, sizeof(j->st.state), "idle");
	snprintf(j->st.err_class, sizeof(j->st.err_class), "ok");
	j->st.rl_limit = j->st.rl_remaining = j->st.rl_reset_ms = -1;
}

/* Builds the jobs of cfg. State of jobs that existed before (old, n_old) is
 * carried over by name, so a reload loses no position or pause. */
static int build_jobs(collector *c, const struct mw_config *cfg, struct job *old, size_t n_old,
		      mw_err *e)
{
	size_t max = 0;
	struct store_status *sts = NULL;
	size_t nsts = 0;

	for (size_t i = 0; i < cfg->nintegrations; i++)
		max += mw_nlogtypes;
	c->creds = mw_xcalloc(cfg->nintegrations + 1, sizeof(*c->creds));
	c->jobs = mw_xcalloc(max + 1, sizeof(*c->jobs));
	c->reports = mw_xcalloc(max + 1, sizeof(*c->reports));
	if (store_list_status(c->store, &sts, &nsts, e) < 0)
		return -1;
	for (size_t i = 0; i < cfg->nintegrations; i++) {
		const struct mw_integration *in = &cfg->integrations[i];

		if (!selected(c, in->name))
			continue;
		for (size_t t = 0; t < mw_nlogtypes; t++) {
			struct job *j;

			if (!(in->types & (1u << t)))
				continue;
			j = &c->jobs[c->njobs];
			j->in = in;
			j->lt = &mw_logtypes[t];
			j->cred = cred_for(c, in, e);
			if (!j->cred)
				goto fail;
			if (store_source(c->store, in->name, j->lt->name, &j->source, e) < 0 ||
			    store_get_cursor(c->store, j->source, &j->cur, e) < 0)
				goto fail;
			status_init(j);
			for (size_t k = 0; k < nsts; k++)
				if (sts[k].source == j->source) {
					j->st = sts[k];
					j->paused = sts[k].paused;
					/* what status said survives a restart, for its day */
					snprintf(j->win_warn, sizeof(j->win_warn), "%.219s",
						 sts[k].warning);
					j->win_warn_at = sts[k].updated / 1000;
				}
			j->page_size = in->page_size;
			loop_watch_reset(j, j->cur.in_window ? j->cur.win_progress : j->cur.horizon);
			j->due = mw_mono_ms();
			for (size_t k = 0; k < n_old; k++)
				if (strcmp(old[k].in->name, in->name) == 0 && old[k].lt == j->lt) {
					/* A reload must not reopen a 429 gate or forget a
					 * backoff: carry both over. */
					j->paused = old[k].paused;
					j->rep = old[k].rep;
					j->due = old[k].due;
					j->backoff = old[k].backoff;
					j->retry_since = old[k].retry_since;
					memcpy(j->skew_warn, old[k].skew_warn, sizeof(j->skew_warn));
					memcpy(j->win_warn, old[k].win_warn, sizeof(j->win_warn));
					j->win_warn_at = old[k].win_warn_at;
					mc_client_hold_until(j->cred->client,
							     mc_client_not_before(old[k].cred->client));
				}
			snprintf(j->rep.integration, sizeof(j->rep.integration), "%s", in->name);
			j->rep.lt = j->lt;
			j->rep.horizon = j->cur.horizon;
			mc_result_init(&j->rep.last);
			c->njobs++;
		}
	}
	free(sts);
	return 0;
fail:
	free(sts);
	return -1;
}

/* ---- status ------------------------------------------------------------ */

static void put_status(collector *c, struct job *j, const char *state)
{
	mw_err e;
	int64_t lim, rem, reset;

	if (state)
		snprintf(j->st.state, sizeof(j->st.state), "%s",
			 j->paused && !c->opts.once ? "paused" : state);
	j->st.paused = j->paused;
	j->st.horizon = j->cur.horizon;
	mc_client_ratelimit(j->cred->client, &lim, &rem, &reset);
	j->st.rl_limit = lim;
	j->st.rl_remaining = rem;
	j->st.rl_reset_ms = reset;
	{
		int64_t nb = mc_client_not_before(j->cred->client) - mw_mono_ms();
		j->st.throttled_until = nb > 0 ? mw_now_ms() + nb : 0;
	}
	j->st.updated = mw_now_ms();
	if (store_put_status(c->store, &j->st, &e) < 0)
		mw_log(1, "%s/%s: cannot record status: %s", j->in->name, j->lt->name, e.msg);
	wake_listeners(c);
}

static void set_error(struct job *j, const struct mc_result *r)
{
	snprintf(j->st.err_class, sizeof(j->st.err_class), "%s", mc_class_key(r->cls));
	j->st.http_status = r->http_status;
	snprintf(j->st.err_code, sizeof(j->st.err_code), "%s", r->code);
	snprintf(j->st.err_message, sizeof(j->st.err_message), "%s", r->message);
	snprintf(j->st.remedy, sizeof(j->st.remedy), "%s", r->remedy);
}

static void clear_error(struct job *j)
{
	snprintf(j->st.err_class, sizeof(j->st.err_class), "ok");
	j->st.http_status = 200;
	j->st.err_code[0] = j->st.err_message[0] = j->st.remedy[0] = '\0';
}

static void local_failure(struct mc_result *r, const char *what, const char *msg,
			  const char *remedy)
{
	mc_result_init(r);
	r->cls = MC_UNKNOWN;
	mw_strlcpy(r->code, what, sizeof(r->code));
	mw_strlcpy(r->message, msg, sizeof(r->message));
	mw_strlcpy(r->remedy, remedy, sizeof(r->remedy));
}

/* ---- one page ---------------------------------------------------------- */

static int is_threat(const js_doc *d, int rec, const struct mw_logtype *lt)
{
	int v = js_get(d, rec, lt->threat_field);
	int b;

	if (v < 0)
		return 0;
	b = js_bool(d, v);
	for (size_t i = 0; lt->threat_values[i]; i++) {
		if (b >= 0) {
			if (strcmp(lt->threat_values[i], b ? "true" : "false") == 0)
				return 1;
		} else if (js_streq(d, v, lt->threat_values[i])) {
			return 1;
		}
	}
	return 0;
}

/* Sets a record aside: counted, and kept in state_dir/rejects/. */
static void reject(collector *c, struct job *j, const js_doc *d, int rec, const char *why)
{
	char dir[4096], path[4200], when[32];
	mw_buf line;
	mw_err e;
	int fd;

	snprintf(dir, sizeof(dir), "%s/rejects", c->cfg->state_dir);
	snprintf(path, sizeof(path), "%s/%s-%s.ndjson", dir, j->in->name, j->lt->name);
	mw_buf_init(&line);
	mw_format_rfc3339(mw_now(), when);
	mw_buf_printf(&line, "{\"at\":\"%s\",\"reason\":", when);
	jsonout_safe_string(&line, why, strlen(why));
	mw_buf_puts(&line, ",\"record\":");
	jsonout_safe(&line, d, rec);
	mw_buf_puts(&line, "}\n");
	if (mw_mkdir_p(dir, &e) == 0) {
		/* Opened like every file mimewatch writes: never through a
		 * symbolic link someone planted, never readable by others. */
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd >= 0) {
			ssize_t w = write(fd, line.data, line.len);
			(void)w;
			close(fd);
		} else {
			mw_log(0, "%s/%s: cannot keep a rejected record in %s: %s%s", j->in->name,
			       j->lt->name, path, strerror(errno),
			       errno == ELOOP ? " (a symbolic link: remove it)" : "");
		}
	}
	mw_buf_free(&line);
	j->rep.rejects++;
	if (store_add_rejects(c->store, j->source, 1, &e) < 0)
		mw_log(1, "%s/%s: %s", j->in->name, j->lt->name, e.msg);
}

/* Turns the page's records into store rows. Returns the number of rows. */
static size_t page_rows(collector *c, struct job *j, struct store_rec **rows_out,
			int64_t *max_time)
{
	const js_doc *d = &c->page.doc;
	const struct mw_logtype *lt = j->lt;
	struct rec_ref *refs;
	struct store_rec *rows;
	size_t n = 0;
	int tok;

	if (c->page.nrecords >= c->rows_cap) {
		c->rows_cap = c->page.nrecords + 64;
		c->refs = mw_xrealloc(c->refs, c->rows_cap * sizeof(*c->refs));
		c->rows = mw_xrealloc(c->rows, c->rows_cap * sizeof(*c->rows));
	}
	refs = c->refs;
	rows = c->rows;
	mw_buf_reset(&c->page_json);
	*max_time = 0;
	tok = c->page.records + 1;
	for (size_t i = 0; i < c->page.nrecords; i++, tok = (int)d->toks[tok].next) {
		struct rec_ref *r = &refs[n];
		int tf, idf;
		char id[65];
		mw_buf *sb = &c->scratch;

		if (d->toks[tok].type != JS_OBJECT) {
			reject(c, j, d, tok, "record is not a JSON object");
			continue;
		}
		tf = js_get(d, tok, lt->time_field);
		mw_buf_reset(sb);
		if (tf < 0 || js_str(d, tf, sb) < 0 ||
		    mw_parse_mc_date(sb->data, sb->len, &r->time) < 0) {
			reject(c, j, d, tok, "record has no valid time field");
			continue;
		}
		if (lt->id_field) {
			idf = js_get(d, tok, lt->id_field);
			mw_buf_reset(sb);
			if (idf < 0 || js_str(d, idf, sb) < 0 || sb->len == 0 || sb->len > 4096) {
				reject(c, j, d, tok, "record has no usable id");
				continue;
			}
			/* ids are C strings from here on: one cut at a NUL
			 * would merge distinct records into one */
			if (memchr(sb->data, '\0', sb->len)) {
				reject(c, j, d, tok, "record id contains U+0000");
				continue;
			}
			r->id_off = c->page_json.len;
			r->id_len = sb->len;
			mw_buf_append(&c->page_json, sb->data, sb->len);
		} else {
			jsonout_canonical_id(d, tok, sb, id);
			r->id_off = c->page_json.len;
			r->id_len = 64;
			mw_buf_append(&c->page_json, id, 64);
		}
		mw_buf_putc(&c->page_json, '\0');
		r->json_off = c->page_json.len;
		jsonout_safe(&c->page_json, d, tok);
		r->json_len = c->page_json.len - r->json_off;
		mw_buf_putc(&c->page_json, '\0');
		r->threat = is_threat(d, tok, lt);
		/* Progress is measured only by records inside the window asked
		 * for: one dated in 2100 (or 2001) must not carry the horizon
		 * there, nor restart a window with from > to. */
		r->outside = r->time < j->cur.win_from || r->time > j->cur.win_to;
		if (!r->outside && r->time > *max_time)
			*max_time = r->time;
		n++;
	}
	/* page_json no longer moves: point the rows into it. */
	for (size_t i = 0; i < n; i++) {
		rows[i].id = c->page_json.data + refs[i].id_off;
		rows[i].time = refs[i].time;
		rows[i].threat = refs[i].threat;
		rows[i].outside = refs[i].outside;
		rows[i].json = c->page_json.data + refs[i].json_off;
		rows[i].json_len = refs[i].json_len;
	}
	*rows_out = rows;
	return n;
}

static void kick_outputs(collector *c)
{
	pthread_mutex_lock(&c->out_mu);
	c->out_pending = 1;
	pthread_cond_signal(&c->out_cv);
	pthread_mutex_unlock(&c->out_mu);
	sink_workers_kick(c->sinks);
}

static void schedule_next_poll(collector *c, struct job *j)
{
	j->due = mw_mono_ms() + j->in->interval * 1000;
	j->st.next_poll = mw_now() + j->in->interval;
	(void)c;
}

/* A window completed (or there was nothing to ask for). */
static void window_done(collector *c, struct job *j)
{
	j->st.records_last_poll = j->poll_new;
	j->st.last_success = mw_now();
	j->poll_new = 0;
	j->rep.horizon = j->cur.horizon;
	if (c->opts.once && j->cur.horizon >= c->target - j->in->lag) {
		j->done = 1;
		put_status(c, j, "idle");
		return;
	}
	if (c->opts.once) {
		j->due = mw_mono_ms();
		put_status(c, j, "collecting");
		return;
	}
	schedule_next_poll(c, j);
	put_status(c, j, "idle");
}

static void on_failure(collector *c, struct job *j, const struct mc_result *r)
{
	int64_t now = mw_mono_ms();

	j->rep.last = *r;
	set_error(j, r);
	if (r->cls == MC_RETRY) {
		/* A 429, or pacing on X-RateLimit-Remaining: wait for the gate,
		 * not a backoff. */
		int throttled = r->http_status == 429 ||
				mc_client_not_before(j->cred->client) > now;

		j->rep.retries++;
		if (!j->retry_since)
			j->retry_since = now;
		if (c->opts.retry_budget_ms > 0 && now - j->retry_since > c->opts.retry_budget_ms) {
			j->failed = 1;
			put_status(c, j, "error");
			return;
		}
		if (throttled) {
			/* The client set not_before for every type on these credentials. */
			j->due = mc_client_not_before(j->cred->client);
			j->backoff = 0;
			if (c->opts.retry_budget_ms > 0 &&
			    j->due - j->retry_since > c->opts.retry_budget_ms) {
				/* Waiting out the reset would overrun the budget. */
				j->failed = 1;
				put_status(c, j, "error");
				return;
			}
		} else {
			j->backoff = j->backoff ? j->backoff * 2 : BACKOFF_MIN_MS;
			if (j->backoff > BACKOFF_MAX_MS)
				j->backoff = BACKOFF_MAX_MS;
			/* Jitter only adds. */
			j->due = now + j->backoff + (int64_t)(rand() % (int)(j->backoff / 10 + 1));
			/* The last try falls at the budget's end, not past it. */
			if (c->opts.retry_budget_ms > 0 &&
			    j->due > j->retry_since + c->opts.retry_budget_ms)
				j->due = j->retry_since + c->opts.retry_budget_ms;
		}
		j->st.next_poll = mw_now() + (j->due - now) / 1000;
		put_status(c, j, throttled ? "throttled" : "retrying");
		return;
	}
	/* Needs a person: fetch reports it, run tries again each interval (the
	 * config may be fixed and reloaded meanwhile). */
	if (c->opts.once) {
		j->failed = 1;
		put_status(c, j, "error");
		return;
	}
	schedule_next_poll(c, j);
	put_status(c, j, "error");
}

/* status.warning: what collection goes on despite, from its two sources. */
static void set_warning(struct job *j)
{
	if (j->win_warn[0] && mw_now() - j->win_warn_at > WARN_KEEP_S)
		j->win_warn[0] = '\0';
	snprintf(j->st.warning, sizeof(j->st.warning), "%.159s%s%.219s", j->skew_warn,
		 j->skew_warn[0] && j->win_warn[0] ? "; " : "", j->win_warn);
}

/* Clock skew: every response's Date against this host's clock. */
static void check_skew(struct job *j, const struct mc_result *res)
{
	int64_t skew;

	if (!res->server_date)
		return;
	skew = mw_now() - res->server_date;
	if (skew > SKEW_WARN_S || skew < -SKEW_WARN_S)
		snprintf(j->skew_warn, sizeof(j->skew_warn),
			 "this host's clock is %lld s %s Mimecast's (its Date header): sync it "
			 "with NTP; collection goes on", (long long)(skew < 0 ? -skew : skew),
			 skew < 0 ? "behind" : "ahead of");
	else
		j->skew_warn[0] = '\0';
	set_warning(j);
}

static uint64_t token_hash(const char *t)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *t; t++)
		h = (h ^ (unsigned char)*t) * 0x100000001b3ull;
	return h;
}

/* A new window, or a window read again from a point: no tokens seen, and
 * duplicates expected up to the point it starts reading again at. */
static void loop_watch_reset(struct job *j, int64_t expect_dup_until)
{
	j->ntokens = 0;
	j->dup_pages = 0;
	j->expect_dup_until = expect_dup_until;
}

/* 1 when next repeats a token this window already followed. */
static int token_repeats(const struct job *j, const char *used, const char *next)
{
	uint64_t h = token_hash(next);
	size_t cap = sizeof(j->tokens) / sizeof(j->tokens[0]);

	if (used && strcmp(used, next) == 0)
		return 1;
	for (int i = 0; i < j->ntokens && i < (int)cap; i++)
		if (j->tokens[i] == h)
			return 1;
	return 0;
}

/* Remembers a token once its page is committed: a page asked again after
 * a failure (a full disk, a cut body) brings the same next, and that is no
 * loop. */
static void token_followed(struct job *j, const char *next)
{
	size_t cap = sizeof(j->tokens) / sizeof(j->tokens[0]);

	j->tokens[(size_t)j->ntokens % cap] = token_hash(next);
	if (j->ntokens < (int)cap)
		j->ntokens++;
	else
		j->ntokens = (int)cap;
}

/* A clock that ran fast once left the horizon ahead of now - lag: the
 * records of that span would be skipped for good. Pull it back to the
 * newest record stored inside the window that set it. */
static void pull_back_horizon(collector *c, struct job *j, int64_t to)
{
	int64_t newest = 0, from = j->cur.win_from, back;
	char was[32], now_s[32], to_s[32];
	struct store_page_result pr;
	mw_err e;

	if (store_newest_in(c->store, j->source, from, j->cur.horizon, &newest, &e) < 0) {
		mw_log(0, "%s/%s: %s", j->in->name, j->lt->name, e.msg);
		return;
	}
	back = newest ? newest : (from && from < to ? from : to);
	if (back > to)
		back = to;
	mw_format_rfc3339(j->cur.horizon, was);
	mw_format_rfc3339(back, now_s);
	mw_format_rfc3339(to, to_s);
	j->win_warn_at = mw_now();
	snprintf(j->win_warn, sizeof(j->win_warn),
		 "the horizon %.20s was ahead of this host's clock less lag (%.20s), as after a "
		 "clock that ran fast: pulled back to %.20s, the newest record stored in its "
		 "window", was, to_s, now_s);
	set_warning(j);
	mw_log(0, "%s/%s: %s", j->in->name, j->lt->name, j->win_warn);
	j->cur.horizon = back;
	if (store_commit_page(c->store, j->source, NULL, 0, &j->cur, &pr, &e) < 0)
		mw_log(0, "%s/%s: %s", j->in->name, j->lt->name, e.msg);
}

/* A page that timed out by the low-speed rule is asked again from the
 * newest record received, with half the pageSize (down to 10): a slow
 * tenant that answers smaller pages in time still gets collected. 1 when
 * the page will be asked again so. */
static int retry_smaller(collector *c, struct job *j, struct mc_result *res)
{
	struct store_page_result pr;
	mw_err e;

	if (strcmp(res->code, "CURLE_OPERATION_TIMEDOUT") != 0 || j->page_size <= MIN_SLOW_PAGE)
		return 0;
	j->page_size = j->page_size / 2 < MIN_SLOW_PAGE ? MIN_SLOW_PAGE : j->page_size / 2;
	if (j->cur.win_progress > j->cur.win_from)
		j->cur.win_from = j->cur.win_progress;
	j->cur.page_token[0] = '\0';
	j->cur.win_received = 0;
	loop_watch_reset(j, j->cur.win_progress);
	if (store_commit_page(c->store, j->source, NULL, 0, &j->cur, &pr, &e) < 0)
		return 0;
	mw_log(1, "%s/%s: a page was too slow to arrive; asking again from the newest record "
		  "received with pageSize %d", j->in->name, j->lt->name, j->page_size);
	j->rep.retries++;
	j->rep.last = *res;
	if (!j->retry_since)
		j->retry_since = mw_mono_ms();
	snprintf(res->remedy + strlen(res->remedy), sizeof(res->remedy) - strlen(res->remedy),
		 "; asked again from the newest record received, %d records a page",
		 j->page_size);
	set_error(j, res);
	j->due = mw_mono_ms();
	put_status(c, j, "retrying");
	return 1;
}

static void step(collector *c, struct job *j)
{
	struct mc_page_req req;
	struct mc_result res;
	struct store_cursor next;
	struct store_page_result pr, closed;
	struct store_rec *rows = NULL;
	size_t nrows;
	struct window_page wp;
	int64_t max_time = 0, sent, prev_progress;
	const char *loop = NULL;
	mw_err e;

	if (!j->cur.in_window) {
		int64_t now = mw_now();
		int64_t to = now - j->in->lag;
		int64_t from;

		if (j->cur.horizon > to)
			pull_back_horizon(c, j, to);
		from = j->cur.horizon ? j->cur.horizon - j->in->overlap : now - j->in->lookback;

		if (to <= from || (j->cur.horizon && to <= j->cur.horizon)) {
			/* Nothing new can be asked for yet: fetch is done with it. */
			if (c->opts.once) {
				j->done = 1;
				put_status(c, j, "idle");
				return;
			}
			window_done(c, j);
			return;
		}
		j->cur.in_window = 1;
		j->cur.win_from = from;
		j->cur.win_to = to;
		j->cur.win_progress = from;
		j->cur.page_token[0] = '\0';
		j->cur.win_received = 0;
		j->cur.win_restarted = 0;
		j->poll_new = 0;
		j->page_size = j->in->page_size;
		loop_watch_reset(j, j->cur.horizon);
	}
	if (j->page_size < 1 || j->page_size > j->in->page_size)
		j->page_size = j->in->page_size;
	memset(&req, 0, sizeof(req));
	req.lt = j->lt;
	req.from = j->cur.win_from;
	req.to = j->cur.win_to;
	req.page_token = j->cur.page_token[0] ? j->cur.page_token : NULL;
	req.page_size = j->page_size;
	j->st.last_attempt = mw_now();
	/* Mid-window the status already says so: one write per page is enough
	 * (the one after it). */
	if (strcmp(j->st.state, "collecting") != 0)
		put_status(c, j, "collecting");
	/* fetch's retry budget also bounds a request in flight */
	mc_client_set_deadline(j->cred->client,
			       c->opts.retry_budget_ms > 0 && j->retry_since
				       ? j->retry_since + c->opts.retry_budget_ms + BUDGET_GRACE_MS
				       : 0);
	sent = mc_client_requests(j->cred->client);
	mc_get_logs_page(j->cred->client, &req, &c->resp, &c->page, &res);
	j->rep.requests += mc_client_requests(j->cred->client) - sent;
	if (c->stop)
		return; /* an aborted transfer commits nothing */
	if (c->opts.retry_budget_ms > 0 && j->retry_since &&
	    mw_mono_ms() - j->retry_since > c->opts.retry_budget_ms &&
	    strcmp(res.code, "CURLE_ABORTED_BY_CALLBACK") == 0) {
		/* The budget ran out during the last try: what failed before it
		 * is what fetch reports. */
		j->rep.retries++;
		j->failed = 1;
		put_status(c, j, "error");
		return;
	}
	check_skew(j, &res);

	if (res.cls == MC_BAD_APP_ID && !j->app_id_retried) {
		/* Mimecast answers err_developer_key now and then for a good id. */
		j->app_id_retried = 1;
		j->rep.retries++;
		j->due = mw_mono_ms() + BACKOFF_MIN_MS;
		return;
	}
	if (res.cls == MC_BAD_REQUEST && req.page_token) {
		/* The page token was refused (expired): restart the window where
		 * the stored records end, less the overlap; dedup absorbs repeats. */
		int64_t from = j->cur.win_progress - j->in->overlap;

		if (from <= j->cur.win_from) {
			/* Restarting would ask for the same pages again. */
			on_failure(c, j, &res);
			return;
		}
		j->cur.win_from = from;
		j->cur.page_token[0] = '\0';
		j->cur.win_received = 0;
		loop_watch_reset(j, j->cur.win_progress);
		if (store_commit_page(c->store, j->source, NULL, 0, &j->cur, &pr, &e) < 0) {
			local_failure(&res, "store", e.msg, "check the disk and the state directory");
			res.cls = MC_RETRY;
			on_failure(c, j, &res);
			return;
		}
		j->rep.retries++;
		j->due = mw_mono_ms();
		return;
	}
	if (res.cls == MC_RETRY && retry_smaller(c, j, &res))
		return;
	if (res.cls != MC_OK) {
		if (strcmp(res.code, "CURLE_OPERATION_TIMEDOUT") == 0) {
			size_t l = strlen(res.remedy);

			snprintf(res.remedy + l, sizeof(res.remedy) - l, "; pages of %d records "
				 "were too slow as well", j->page_size);
		}
		on_failure(c, j, &res);
		return;
	}
	j->app_id_retried = 0;

	nrows = page_rows(c, j, &rows, &max_time);
	prev_progress = j->cur.win_progress;
	next = j->cur;
	if (max_time > next.win_progress)
		next.win_progress = max_time;
	next.win_received += (int64_t)c->page.nrecords;
	wp.nrecords = c->page.nrecords;
	wp.has_next = c->page.next != NULL;
	wp.total_count = c->page.total_count;
	wp.received = next.win_received;
	wp.restarted = next.win_restarted;
	switch (window_after_page(&wp)) {
	case WINDOW_NEXT_PAGE:
		if (token_repeats(j, req.page_token, c->page.next)) {
			loop = "a next token repeated";
			goto complete;
		}
		if (strlen(c->page.next) < sizeof(next.page_token)) {
			snprintf(next.page_token, sizeof(next.page_token), "%s", c->page.next);
			break;
		}
		/* A token we cannot keep: ask again from the last record instead;
		 * the overlap's dedup absorbs what comes twice. */
		mw_log(1, "%s/%s: page token longer than %zu bytes: restarting window at "
			  "the last record", j->in->name, j->lt->name, sizeof(next.page_token));
		next.page_token[0] = '\0';
		next.win_from = next.win_progress;
		next.win_received = 0;
		break;
	case WINDOW_RESTART:
		/* The tenant said it holds more than this window received: a page
		 * may have gone missing. Once, read on from the newest record
		 * received, less the overlap. */
		mw_log(1, "%s/%s: the window ended after %lld records but the tenant counts "
			  "%lld: reading once more from the newest record received",
		       j->in->name, j->lt->name, (long long)next.win_received,
		       (long long)c->page.total_count);
		next.win_from = next.win_progress - j->in->overlap > next.win_from
					? next.win_progress - j->in->overlap
					: next.win_from;
		next.page_token[0] = '\0';
		next.win_received = 0;
		next.win_restarted = 1;
		loop_watch_reset(j, next.win_progress);
		break;
	case WINDOW_COMPLETE:
	complete:
		if (loop) {
			snprintf(j->win_warn, sizeof(j->win_warn),
				 "pagination did not end (%s): the window was closed after %lld "
				 "records", loop, (long long)next.win_received);
			j->win_warn_at = mw_now();
			mw_log(0, "%s/%s: %s", j->in->name, j->lt->name, j->win_warn);
		} else if (wp.restarted && wp.total_count > wp.received) {
			/* Read twice and still short: the tenant counts records it
			 * does not serve. Said, not retried for ever. */
			snprintf(j->win_warn, sizeof(j->win_warn),
				 "a window ended with %lld records although the tenant counted "
				 "%lld, also when read again; the difference was not served",
				 (long long)wp.received, (long long)wp.total_count);
			j->win_warn_at = mw_now();
			mw_log(1, "%s/%s: %s", j->in->name, j->lt->name, j->win_warn);
		}
		set_warning(j);
		next.horizon = next.win_to;
		next.in_window = 0;
		next.page_token[0] = '\0';
		next.win_received = 0;
		next.win_restarted = 0;
		break;
	}
	if (store_commit_page(c->store, j->source, rows, nrows, &next, &pr, &e) < 0) {
		local_failure(&res, strstr(e.msg, "disk full") ? "disk full" : "store", e.msg,
			      strstr(e.msg, "disk full")
				      ? "free space on the state directory's file system; collection "
					"resumes where it stopped, nothing is lost"
				      : "check the state directory and its disk");
		/* Not retryable by the API, but by the disk: keep retrying. Said
		 * once per streak: nothing else would tell a fetch why it waits. */
		if (!j->retry_since)
			mw_log(0, "%s/%s: %s; retrying with backoff", j->in->name, j->lt->name,
			       e.msg);
		res.cls = MC_RETRY;
		on_failure(c, j, &res);
		return;
	}
	j->cur = next;
	if (j->cur.in_window && j->cur.page_token[0] && c->page.next &&
	    strcmp(j->cur.page_token, c->page.next) == 0)
		token_followed(j, c->page.next);
	/* Pages of nothing but records this window already received: oldest
	 * first, a page goes forward in time, so an all-duplicate page that
	 * ends at or before where the window already was, and after what its
	 * overlap or a restart reads again, is the tenant paging in a circle.
	 * (A reset or an overlap re-reads stored records too, but moving
	 * forward.) A few in a row close the window. */
	if (nrows > 0 && pr.inserted == 0 && j->cur.in_window && max_time > 0 &&
	    max_time <= prev_progress && max_time > j->expect_dup_until) {
		if (++j->dup_pages >= LOOP_DUP_PAGES) {
			snprintf(j->win_warn, sizeof(j->win_warn),
				 "pagination did not end (%d pages of records this window had "
				 "already received): the window was closed after %lld records",
				 j->dup_pages, (long long)j->cur.win_received);
			mw_log(0, "%s/%s: %s", j->in->name, j->lt->name, j->win_warn);
			j->win_warn_at = mw_now();
			set_warning(j);
			j->cur.horizon = j->cur.win_to;
			j->cur.in_window = 0;
			j->cur.page_token[0] = '\0';
			j->cur.win_received = 0;
			j->cur.win_restarted = 0;
			if (store_commit_page(c->store, j->source, NULL, 0, &j->cur, &closed, &e) < 0)
				mw_log(0, "%s/%s: %s", j->in->name, j->lt->name, e.msg);
		}
	} else {
		j->dup_pages = 0;
	}
	j->rep.new_records += pr.inserted;
	j->rep.duplicates += pr.duplicates;
	j->rep.last = res;
	j->poll_new += pr.inserted;
	clear_error(j);
	if (pr.inserted > 0) {
		j->st.last_new_at = mw_now();
		if (max_time > j->st.last_record_time)
			j->st.last_record_time = max_time;
		kick_outputs(c);
	}
	/* Progress: the failures in a row, if any, are over. */
	j->retry_since = 0;
	j->backoff = 0;
	if (!j->cur.in_window) {
		window_done(c, j);
	} else {
		j->due = mw_mono_ms();
		put_status(c, j, "collecting");
	}
}

/* ---- requests from the console ------------------------------------------ */

static int job_matches(const struct job *j, const struct store_request *r)
{
	return (!r->integration[0] || strcmp(r->integration, j->in->name) == 0) &&
	       (!r->type[0] || strcmp(r->type, j->lt->name) == 0);
}

static void do_validate(collector *c, const struct store_request *r, mw_buf *out, int *ok)
{
	*ok = 1;
	for (size_t i = 0; i < c->cfg->nintegrations; i++) {
		const struct mw_integration *in = &c->cfg->integrations[i];
		struct validate_report rep;

		if (r->integration[0] && strcmp(r->integration, in->name) != 0)
			continue;
		if (validate_integration(in, &rep, &c->stop) != 0)
			*ok = 0;
		for (size_t k = 0; k < rep.nrows; k++)
			mw_buf_printf(out, "%s%s %s: %s%s%s", out->len ? "\n" : "", in->name,
				      rep.rows[k].lt->name, mc_class_name(rep.rows[k].res.cls),
				      rep.rows[k].res.cls == MC_OK ? "" : ": ",
				      rep.rows[k].res.cls == MC_OK ? "" : rep.rows[k].res.remedy);
	}
}

static void reload_config(collector *c, mw_buf *out, int *ok);

/* ---- the handlers, one per request of requests.h ---------------------------- */

typedef void (*request_fn)(collector *c, const struct store_request *r, mw_buf *out, int *ok);

static void req_validate(collector *c, const struct store_request *r, mw_buf *out, int *ok)
{
	do_validate(c, r, out, ok);
}

static void req_reload(collector *c, const struct store_request *r, mw_buf *out, int *ok)
{
	(void)r;
	reload_config(c, out, ok);
}

/* "send test record": straight through the output's transport, in this
 * thread (the console shows the result when it lands). */
static void req_test_output(collector *c, const struct store_request *r, mw_buf *out, int *ok)
{
	struct output_set os = config_output_set(c->cfg);

	*ok = output_send_test(&os, r->arg, &c->stop, out) == 0;
}

/* The console removed the integration from the config (and asked for a
 * reload); its records, cursors and status go too. */
static void req_delete(collector *c, const struct store_request *r, mw_buf *out, int *ok)
{
	mw_err e;

	if (!r->integration[0] || config_find(c->cfg, r->integration)) {
		*ok = 0;
		mw_buf_printf(out, "refusing to delete '%s': it is still configured",
			      r->integration);
	} else if (store_delete_integration(c->store, r->integration, &e) < 0) {
		*ok = 0;
		mw_buf_puts(out, e.msg);
	} else {
		mw_buf_printf(out, "deleted %s and its records", r->integration);
	}
}

/* fetch, pause, resume and reset: per matching (integration, type). */
static void job_request(collector *c, struct job *j, const struct store_request *r,
			mw_buf *out, int *ok)
{
	mw_err e;

	switch (r->action) {
	case MW_REQ_FETCH:
		j->due = mw_mono_ms();
		j->failed = 0;
		break;
	case MW_REQ_PAUSE:
		j->paused = 1;
		put_status(c, j, "paused");
		break;
	case MW_REQ_RESUME:
		j->paused = 0;
		j->due = mw_mono_ms();
		put_status(c, j, "idle");
		break;
	case MW_REQ_RESET: {
		int64_t h = r->arg[0] ? strtoll(r->arg, NULL, 10) : mw_now() - j->in->lookback;

		if (store_reset_cursor(c->store, j->source, h, &e) < 0 ||
		    store_get_cursor(c->store, j->source, &j->cur, &e) < 0) {
			*ok = 0;
			mw_buf_printf(out, "%s ", e.msg);
		}
		j->due = mw_mono_ms();
		break;
	}
	default:
		*ok = 0;
		break;
	}
}

static void req_jobs(collector *c, const struct store_request *r, mw_buf *out, int *ok)
{
	int matched = 0;

	for (size_t i = 0; i < c->njobs; i++)
		if (job_matches(&c->jobs[i], r)) {
			matched++;
			job_request(c, &c->jobs[i], r, out, ok);
		}
	if (!matched) {
		*ok = 0;
		mw_buf_printf(out, "no collection matches %s%s%s", r->integration,
			      r->type[0] ? "/" : "", r->type);
	} else if (*ok) {
		mw_buf_printf(out, "%s: %d collection%s", mw_request_name(r->action), matched,
			      matched == 1 ? "" : "s");
	}
}

static const request_fn handlers[MW_REQ_COUNT] = {
	[MW_REQ_FETCH] = req_jobs,
	[MW_REQ_PAUSE] = req_jobs,
	[MW_REQ_RESUME] = req_jobs,
	[MW_REQ_RESET] = req_jobs,
	[MW_REQ_VALIDATE] = req_validate,
	[MW_REQ_RELOAD] = req_reload,
	[MW_REQ_DELETE] = req_delete,
	[MW_REQ_TEST_OUTPUT] = req_test_output,
};

static void handle_request(collector *c, const struct store_request *r)
{
	mw_buf out;
	mw_err e;
	int ok = 1;

	mw_buf_init(&out);
	if (r->action >= 0 && r->action < MW_REQ_COUNT && handlers[r->action]) {
		handlers[r->action](c, r, &out, &ok);
	} else {
		ok = 0;
		mw_buf_printf(&out, "unknown action '%s'", r->action_name);
	}
	if (store_request_finish(c->store, r->id, ok, out.len ? out.data : "", &e) < 0)
		mw_log(1, "cannot record the result of request %lld: %s", (long long)r->id, e.msg);
	mw_buf_free(&out);
	wake_listeners(c);
}

static void poll_requests(collector *c)
{
	struct store_request r;
	mw_err e;
	int got;

	c->last_request_poll = mw_mono_ms();
	while (!c->stop && (got = store_request_take(c->store, &r, &e)) == 1)
		handle_request(c, &r);
}

static void reload_config(collector *c, mw_buf *out, int *ok)
{
	struct mw_config *cfg = mw_xcalloc(1, sizeof(*cfg));
	struct job *old_jobs = c->jobs;
	struct cred *old_creds = c->creds;
	struct collector_report *old_reports = c->reports;
	size_t n_old = c->njobs, n_old_creds = c->ncreds;
	mw_err e;

	c->reload = 0;
	if (!c->cfg->path || config_load(c->cfg->path, cfg, &e) != 0) {
		mw_log(0, "reload refused, keeping the running config: %s",
		       c->cfg->path ? e.msg : "no config file");
		if (out)
			mw_buf_printf(out, "reload refused: %s", e.msg);
		*ok = 0;
		free(cfg);
		return;
	}
	c->jobs = NULL;
	c->creds = NULL;
	c->reports = NULL;
	c->njobs = c->ncreds = 0;
	if (build_jobs(c, cfg, old_jobs, n_old, &e) < 0) {
		mw_log(0, "reload failed, keeping the running config: %s", e.msg);
		free_jobs(c);
		c->jobs = old_jobs;
		c->creds = old_creds;
		c->reports = old_reports;
		c->njobs = n_old;
		c->ncreds = n_old_creds;
		config_free(cfg);
		free(cfg);
		*ok = 0;
		if (out)
			mw_buf_printf(out, "reload failed: %s", e.msg);
		return;
	}
	for (size_t i = 0; i < n_old_creds; i++)
		mc_client_free(old_creds[i].client);
	free(old_creds);
	free(old_jobs);
	free(old_reports);
	c->owned = mw_xrealloc(c->owned, (c->nowned + 1) * sizeof(*c->owned));
	c->owned[c->nowned++] = cfg;
	pthread_mutex_lock(&c->out_mu);
	c->cfg = cfg;
	pthread_mutex_unlock(&c->out_mu);
	struct output_set os = config_output_set(cfg);

	sink_workers_reload(c->sinks, &os);
	c->next_heartbeat_ms = 0;
	mw_log(1, "config reloaded: %zu collections", c->njobs);
	if (out)
		mw_buf_printf(out, "reloaded: %zu collections", c->njobs);
}

/* ---- heartbeat --------------------------------------------------------------- */

static void json_kv_str(mw_buf *b, const char *k, const char *v)
{
	mw_buf_printf(b, "\"%s\":", k);
	jsonout_safe_string(b, v, strlen(v));
}

static void json_kv_time(mw_buf *b, const char *k, int64_t t)
{
	char when[32];

	if (t <= 0) {
		mw_buf_printf(b, "\"%s\":null", k);
		return;
	}
	mw_format_rfc3339(t, when);
	mw_buf_printf(b, "\"%s\":\"%s\"", k, when);
}

/* One health record per integration into the store, type "heartbeat", so
 * every output delivers it like a record and a SIEM can alert on silence:
 * each type's state, lag and counts, and each output's lag. */
static void heartbeat(collector *c)
{
	const struct mw_config *cfg = c->cfg;
	struct store_status *sts = NULL;
	size_t nsts = 0;
	char host[256] = "";
	int64_t now = mw_now();
	mw_buf b;
	mw_err e;

	if (c->next_heartbeat_ms && mw_mono_ms() < c->next_heartbeat_ms)
		return;
	c->next_heartbeat_ms = mw_mono_ms() + cfg->heartbeat * 1000;
	if (store_list_status(c->store, &sts, &nsts, &e) < 0) {
		mw_log(0, "heartbeat: %s", e.msg);
		return;
	}
	gethostname(host, sizeof(host) - 1);
	mw_buf_init(&b);
	for (size_t i = 0; i < cfg->nintegrations; i++) {
		const struct mw_integration *in = &cfg->integrations[i];
		struct store_page_result pr;
		struct store_rec rec;
		char id[160];
		int64_t src;
		int first = 1;

		mw_buf_reset(&b);
		mw_buf_puts(&b, "{\"mimewatch\":\"heartbeat\",");
		json_kv_str(&b, "integration", in->name);
		mw_buf_putc(&b, ',');
		json_kv_str(&b, "host", host);
		mw_buf_puts(&b, ",\"types\":{");
		for (size_t k = 0; k < nsts; k++) {
			const struct store_status *st = &sts[k];

			if (strcmp(st->integration, in->name) != 0)
				continue;
			if (!first)
				mw_buf_putc(&b, ',');
			first = 0;
			mw_buf_printf(&b, "\"%s\":{", st->type);
			json_kv_str(&b, "state", st->state);
			mw_buf_printf(&b, ",\"lag_seconds\":%lld,\"records_24h\":%lld,"
				      "\"total\":%lld,\"rejected\":%lld,",
				      (long long)(st->horizon > 0 && now > st->horizon ?
						  now - st->horizon : 0),
				      (long long)st->records_24h, (long long)st->total,
				      (long long)st->rejects);
			json_kv_time(&b, "last_success", st->last_success);
			mw_buf_putc(&b, ',');
			json_kv_str(&b, "error_class", st->err_class);
			mw_buf_putc(&b, ',');
			json_kv_str(&b, "error", st->err_message);
			mw_buf_putc(&b, '}');
		}
		mw_buf_puts(&b, "},\"outputs\":{");
		for (size_t k = 0; k < cfg->noutputs; k++) {
			struct store_output_info oi;

			if (store_output_info(c->store, cfg->outputs[k].name, &oi, &e) < 0)
				continue;
			if (k)
				mw_buf_putc(&b, ',');
			jsonout_safe_string(&b, cfg->outputs[k].name, strlen(cfg->outputs[k].name));
			mw_buf_puts(&b, ":{");
			json_kv_str(&b, "state", oi.state);
			mw_buf_printf(&b, ",\"lag_records\":%lld,\"lag_seconds\":%lld}",
				      (long long)oi.lag_records, (long long)oi.lag_seconds);
		}
		mw_buf_puts(&b, "}}");
		snprintf(id, sizeof(id), "heartbeat-%s-%lld", in->name, (long long)now);
		rec = (struct store_rec){ .id = id, .time = now, .json = b.data, .json_len = b.len };
		if (store_source(c->store, in->name, "heartbeat", &src, &e) < 0 ||
		    store_commit_page(c->store, src, &rec, 1, NULL, &pr, &e) < 0)
			mw_log(0, "heartbeat of %s: %s", in->name, e.msg);
	}
	mw_buf_free(&b);
	free(sts);
	kick_outputs(c);
}

/* ---- outputs thread ------------------------------------------------------ */

static void *output_main(void *arg)
{
	collector *c = arg;
	const struct mw_config *cfg = c->cfg;
	struct output_set os;
	mw_store *s = NULL;
	mw_err e;
	int64_t last_prune = 0;

	if (store_open(cfg->state_dir, &s, &e) < 0) {
		mw_log(0, "outputs: %s; records stay in the store until the next start", e.msg);
		snprintf(c->out_error, sizeof(c->out_error), "%s", e.msg);
		c->out_failed = 1;
		return NULL;
	}
	for (;;) {
		int stopping;

		pthread_mutex_lock(&c->out_mu);
		while (!c->out_pending && !c->stop) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&c->out_cv, &c->out_mu, &ts);
			if (!c->opts.once)
				break; /* run: deliver at least once a second */
		}
		c->out_pending = 0;
		stopping = c->stop;
		cfg = c->cfg;
		pthread_mutex_unlock(&c->out_mu);
		os = config_output_set(cfg);
		if (outputs_deliver(&os, s, NULL, &e) < 0) {
			/* Once per distinct error, not once a second. */
			if (!c->out_failed || strcmp(c->out_error, e.msg) != 0)
				mw_log(0, "%s", e.msg);
			snprintf(c->out_error, sizeof(c->out_error), "%s", e.msg);
			c->out_failed = 1;
		} else {
			if (c->out_failed)
				mw_log(1, "outputs delivering again");
			c->out_failed = 0;
		}
		/* At start, then hourly (the monotonic clock counts from boot, so
		 * "an hour since 0" is not "never pruned yet"). */
		if (!c->opts.once && (!last_prune || mw_mono_ms() - last_prune > PRUNE_EVERY_MS)) {
			int64_t upto = outputs_min_offset(&os, s);

			int64_t before = mw_now() - cfg->retention, floor = store_reread_floor(s);
			int64_t overlap = 0;

			/* A backfill older than the retention must not lose what its
			 * overlap reads again: those would come back as new records. */
			for (size_t i = 0; i < cfg->nintegrations; i++)
				if (cfg->integrations[i].overlap > overlap)
					overlap = cfg->integrations[i].overlap;
			if (floor != INT64_MAX && floor - overlap < before)
				before = floor - overlap;
			last_prune = mw_mono_ms();
			if (store_prune(s, before, upto, &e) < 0)
				mw_log(1, "retention: %s", e.msg);
		}
		if (stopping)
			break;
	}
	store_close(s);
	return NULL;
}

/* ---- the loop ------------------------------------------------------------ */

collector *collector_new(const struct mw_config *cfg, const struct collector_opts *opts,
			 mw_err *e)
{
	collector *c = mw_xcalloc(1, sizeof(*c));

	c->cfg = cfg;
	c->opts = *opts;
	c->ctl[0] = c->ctl[1] = c->wake[0] = c->wake[1] = -1;
	pthread_mutex_init(&c->out_mu, NULL);
	pthread_cond_init(&c->out_cv, NULL);
	mw_buf_init(&c->page_json);
	mw_buf_init(&c->scratch);
	mw_buf_init(&c->resp);
	mc_page_init(&c->page);
	if (make_pipe(c->ctl) < 0 || make_pipe(c->wake) < 0) {
		mw_err_set(e, "cannot create pipes: %s", strerror(errno));
		collector_free(c);
		return NULL;
	}
	if (store_open(cfg->state_dir, &c->store, e) < 0 ||
	    build_jobs(c, cfg, NULL, 0, e) < 0) {
		collector_free(c);
		return NULL;
	}
	return c;
}

void collector_free(collector *c)
{
	if (!c)
		return;
	free_jobs(c);
	if (c->store)
		store_close(c->store);
	for (int i = 0; i < 2; i++) {
		if (c->ctl[i] >= 0)
			close(c->ctl[i]);
		if (c->wake[i] >= 0)
			close(c->wake[i]);
	}
	for (size_t i = 0; i < c->nowned; i++) {
		config_free(c->owned[i]);
		free(c->owned[i]);
	}
	free(c->owned);
	mw_buf_free(&c->page_json);
	free(c->refs);
	free(c->rows);
	mw_buf_free(&c->scratch);
	mw_buf_free(&c->resp);
	mc_page_free(&c->page);
	pthread_mutex_destroy(&c->out_mu);
	pthread_cond_destroy(&c->out_cv);
	free(c);
}

static int all_done(const collector *c)
{
	for (size_t i = 0; i < c->njobs; i++)
		if (!c->jobs[i].done && !c->jobs[i].failed)
			return 0;
	return 1;
}

/* Jobs that are due but held back by their credentials' gate (another
 * type's 429, the gateway's throttling) say so: "throttled", with the
 * countdown, rather than "idle". */
static void show_held(collector *c, int64_t now)
{
	for (size_t i = 0; i < c->njobs; i++) {
		struct job *j = &c->jobs[i];

		if (j->done || j->failed || j->paused || j->due > now ||
		    mc_client_not_before(j->cred->client) <= now ||
		    !strcmp(j->st.state, "throttled"))
			continue;
		put_status(c, j, "throttled");
	}
}

/* The job to run next and when (monotonic ms), or NULL. */
static struct job *next_job(collector *c, int64_t *when)
{
	struct job *best = NULL;
	int64_t best_t = 0;

	for (size_t i = 0; i < c->njobs; i++) {
		struct job *j = &c->jobs[i];
		int64_t t, nb;

		/* fetch is an explicit order: it collects paused jobs too. */
		if (j->done || j->failed || (j->paused && !c->opts.once))
			continue;
		t = j->due;
		nb = mc_client_not_before(j->cred->client);
		if (nb > t)
			t = nb;
		if (!best || t < best_t) {
			best = j;
			best_t = t;
		}
	}
	*when = best_t;
	return best;
}

static void wait_ms(collector *c, int64_t ms)
{
	struct pollfd p = { .fd = c->ctl[0], .events = POLLIN };

	if (ms <= 0)
		return;
	if (poll(&p, 1, (int)(ms > 60000 ? 60000 : ms)) > 0)
		drain(c->ctl[0]);
}

int collector_run(collector *c)
{
	int failed = 0;

	c->target = mw_now();
	for (size_t i = 0; i < c->njobs; i++)
		put_status(c, &c->jobs[i], c->jobs[i].paused ? "paused" : "idle");
	if (c->opts.deliver) {
		mw_err e;

		if (pthread_create(&c->out_thread, NULL, output_main, c) == 0)
			c->out_started = 1;
		else
			mw_log(0, "cannot start the output thread; records stay in the store");
		struct output_set os = config_output_set(c->cfg);

		if (sink_workers_start(&os, c->opts.once, c->opts.retry_budget_ms, &c->sinks,
				       &e) < 0)
			mw_log(0, "%s; their records stay in the store", e.msg);
	}
	poll_requests(c);
	while (!c->stop) {
		int64_t when, now, most = REQUEST_POLL_MS, dog = service_watchdog_ms();
		struct job *j;

		/* A service's watchdog vouches for this loop: ping from here, and
		 * never sleep past half its interval. */
		service_watchdog();
		if (dog && dog / 2 < most)
			most = dog / 2;
		if (!c->opts.once && c->cfg->heartbeat)
			heartbeat(c);
		if (c->reload) {
			int ok = 1;

			service_reloading();
			reload_config(c, NULL, &ok);
			service_ready(ok ? "collecting (config reloaded)" :
				     "collecting (reload refused: running config kept)");
		}
		if (c->opts.once && all_done(c))
			break;
		now = mw_mono_ms();
		if (!c->opts.once && (atomic_exchange(&c->poke, 0) ||
				      now - c->last_request_poll >= REQUEST_POLL_MS))
			poll_requests(c);
		j = next_job(c, &when);
		if (!j) {
			if (c->opts.once)
				break;
			wait_ms(c, most);
			continue;
		}
		if (when > now) {
			int64_t w = when - now;

			show_held(c, now);
			if (!c->opts.once && w > most)
				w = most;
			wait_ms(c, w);
			continue;
		}
		step(c, j);
	}
	if (!c->opts.once)
		service_stopping();
	/* Leave a clear state behind: nobody is collecting now. */
	for (size_t i = 0; i < c->njobs; i++) {
		struct job *j = &c->jobs[i];

		if (!strcmp(j->st.state, "collecting"))
			put_status(c, j, "idle");
		j->rep.horizon = j->cur.horizon;
		c->reports[i] = j->rep;
		if (j->failed || (c->opts.once && !j->done))
			failed = 1;
		if (c->opts.once && !j->done && !j->failed && c->stop)
			c->reports[i].failed = 1;
		else
			c->reports[i].failed = j->failed;
	}
	if (c->out_started) {
		/* Deliver everything committed, then stop the thread. */
		pthread_mutex_lock(&c->out_mu);
		c->out_pending = 1;
		c->stop = 1;
		pthread_cond_signal(&c->out_cv);
		pthread_mutex_unlock(&c->out_mu);
		pthread_join(c->out_thread, NULL);
		c->out_started = 0;
		/* The output thread already said why. */
		if (c->out_failed)
			failed = 1;
	}
	if (c->sinks) {
		mw_err e;

		/* fetch: every network output up to date (or given up on) before
		 * it exits; run, or a stop: abort sends in flight. */
		if (c->opts.once && !c->stop_requested &&
		    sink_workers_finish(c->sinks, &e) < 0) {
			mw_log(0, "%s", e.msg);
			snprintf(c->out_error, sizeof(c->out_error), "%s", e.msg);
			c->out_failed = 1;
			failed = 1;
		}
		sink_workers_stop(c->sinks);
		c->sinks = NULL;
	}
	wake_listeners(c);
	return failed;
}

static void *collector_main(void *arg)
{
	collector *c = arg;

	return (void *)(intptr_t)collector_run(c);
}

int collector_start(collector *c, mw_err *e)
{
	if (pthread_create(&c->thread, NULL, collector_main, c) != 0) {
		mw_err_set(e, "cannot start the collector thread");
		return -1;
	}
	c->thread_started = 1;
	return 0;
}

void collector_stop(collector *c)
{
	c->stop_requested = 1;
	c->stop = 1;
	notify(c->ctl[1]);
}

int collector_join(collector *c)
{
	void *rv = NULL;

	if (!c->thread_started)
		return 0;
	pthread_join(c->thread, &rv);
	c->thread_started = 0;
	return (int)(intptr_t)rv;
}

void collector_request_reload(collector *c)
{
	c->reload = 1;
	notify(c->ctl[1]);
}

void collector_poke(collector *c)
{
	atomic_store(&c->poke, 1);
	notify(c->ctl[1]);
}

int collector_wake_fd(collector *c)
{
	return c->wake[0];
}

const struct collector_report *collector_reports(collector *c, size_t *n)
{
	*n = c->njobs;
	for (size_t i = 0; i < c->njobs; i++) {
		if (!c->reports[i].lt) {
			c->reports[i] = c->jobs[i].rep;
			c->reports[i].horizon = c->jobs[i].cur.horizon;
			c->reports[i].failed = c->jobs[i].failed;
		}
	}
	return c->reports;
}
