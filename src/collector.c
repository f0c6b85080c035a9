/* collector.c - the collection loop (see collector.h and HACKING,
 * "Collecting exactly once").
 *
 * Per (integration, type) a job walks windows [horizon - overlap, now - lag]
 * oldest first, one page per step. Each page's records and the resumption
 * point (window and page token) are committed in one transaction; the
 * horizon moves only when a window completes. A backfill is one window
 * resumed by its page token, so requests stay at the number of pages. The
 * unique index on (source, id) drops what the overlap reads again. */
#include "collector_private.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonout.h"
#include "service.h"
#include "window.h"

static void notify(int fd)
{
	char c = 1;
	ssize_t r = write(fd, &c, 1);

	(void)r; /* a full pipe already means "something changed" */
}

void col_wake_listeners(collector *c)
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
	/* Mimecast's quota is per user (API 1.0) or per application (2.0); the
	 * proxy is the handle's, so another proxy needs a client of its own. */
	const char *proxy = config_proxy_url(in);

	if (in->api == 2)
		snprintf(buf, n, "v2|%s|%s|%s", in->base_url, in->client_id ? in->client_id : "",
			 proxy ? proxy : "-");
	else
		snprintf(buf, n, "v1|%s|%s|%s", in->base_url,
			 in->access_key.value ? in->access_key.value : "", proxy ? proxy : "-");
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
	mc_creds_of(&mc, in);
	cr = &c->creds[c->ncreds];
	cr->client = mc_client_new(&mc, e);
	if (!cr->client)
		return NULL;
	mc_client_set_abort(cr->client, &c->stop);
	snprintf(cr->key, sizeof(cr->key), "%s", key);
	c->ncreds++;
	return cr;
}

void col_free_jobs(collector *c)
{
	for (size_t i = 0; i < c->njobs; i++)
		col_batch_free(&c->jobs[i]);
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
	if (!shard_takes(&c->opts.shard, name))
		return 0;
	if (c->opts.nonly == 0)
		return 1;
	for (int i = 0; i < c->opts.nonly; i++)
		if (strcmp(c->opts.only[i], name) == 0)
			return 1;
	return 0;
}

size_t collector_shard_count(const struct mw_config *cfg, const struct mw_shard *sh)
{
	size_t n = 0;

	for (size_t i = 0; i < cfg->nintegrations; i++)
		n += (size_t)shard_takes(sh, cfg->integrations[i].name);
	return n;
}

void collector_shard_of_store(struct mw_store *s, struct mw_shard *sh)
{
	char row[32] = "", why[160];

	sh->k = sh->n = 0;
	/* A row this version cannot read counts as no shard. */
	if (s && store_meta_get(s, SHARD_META_KEY, row, sizeof(row)) == 0 && row[0] &&
	    shard_parse(row, sh, why, sizeof(why)) < 0)
		sh->k = sh->n = 0;
}

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
/* Whether a reload changed how an integration reaches its tenant: the
 * keys, the API version, the URL, the CA or the proxy. */
static int reach_changed(const struct mw_integration *a, const struct mw_integration *b)
{
	return a->api != b->api || !mw_str_same(a->base_url, b->base_url) ||
	       !mw_str_same(a->app_id, b->app_id) || !mw_str_same(a->app_key, b->app_key) ||
	       !mw_str_same(a->access_key.value, b->access_key.value) ||
	       !mw_str_same(a->secret_key.value, b->secret_key.value) ||
	       !mw_str_same(a->client_id, b->client_id) ||
	       !mw_str_same(a->client_secret.value, b->client_secret.value) ||
	       !mw_str_same(a->ca_file, b->ca_file) || !config_proxy_same(a, b);
}

int col_build_jobs(collector *c, const struct mw_config *cfg, struct job *old, size_t n_old,
		      mw_err *e)
{
	size_t max = 0;
	struct store_status *sts = NULL;
	size_t nsts = 0;

	for (size_t i = 0; i < cfg->nintegrations; i++)
		max += mw_nlogtypes;
	/* room for a backfill job beside each regular one */
	c->njobs_cap = 2 * max + 1;
	c->creds = mw_xcalloc(cfg->nintegrations + 1, sizeof(*c->creds));
	c->jobs = mw_xcalloc(c->njobs_cap, sizeof(*c->jobs));
	c->reports = mw_xcalloc(c->njobs_cap, sizeof(*c->reports));
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
			col_loop_watch_reset(j, j->cur.in_window ? j->cur.win_progress : j->cur.horizon);
			j->due = mw_mono_ms();
			for (size_t k = 0; k < n_old; k++)
				if (!old[k].backfill && strcmp(old[k].in->name, in->name) == 0 &&
				    old[k].lt == j->lt) {
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
					/* A type that failed waits for its next poll,
					 * unless the reload changed what it failed
					 * with: a fixed key is checked at once. */
					if ((old[k].retry_since || !strcmp(old[k].st.state, "error")) &&
					    reach_changed(old[k].in, in)) {
						j->due = mw_mono_ms();
						j->backoff = 0;
						j->retry_since = 0;
					}
				}
			snprintf(j->rep.integration, sizeof(j->rep.integration), "%s", in->name);
			j->rep.lt = j->lt;
			j->rep.horizon = j->cur.horizon;
			mc_result_init(&j->rep.last);
			c->njobs++;
		}
	}
	c->nregular = c->njobs;
	/* The backfills queued in the store, each resumed where it stopped. */
	for (size_t i = 0; i < c->nregular; i++) {
		struct job *j = &c->jobs[c->njobs];

		/* a batch type reads files per day, never a span again */
		if (c->jobs[i].lt->shape == MW_SHAPE_BATCH)
			continue;
		*j = c->jobs[i];
		j->backfill = 1;
		memset(&j->rep, 0, sizeof(j->rep));
		j->rep.lt = j->lt;
		if (col_backfill_load(c, j) <= 0) {
			memset(j, 0, sizeof(*j));
			continue;
		}
		for (size_t k = 0; k < n_old; k++)
			if (old[k].backfill && old[k].cur.backfill == j->cur.backfill) {
				j->due = old[k].due;
				j->backoff = old[k].backoff;
				j->retry_since = old[k].retry_since;
			}
		c->njobs++;
	}
	free(sts);
	return 0;
fail:
	free(sts);
	return -1;
}

/* ---- status ------------------------------------------------------------ */

void col_put_status(collector *c, struct job *j, const char *state)
{
	mw_err e;
	int64_t lim, rem, reset;

	if (state)
		snprintf(j->st.state, sizeof(j->st.state), "%s",
			 j->paused && !c->opts.once ? "paused" : state);
	if (j->backfill) {
		/* the source's status is its regular job's; a backfill's
		 * progress is its row (store_coverage) */
		col_wake_listeners(c);
		return;
	}
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
	j->status_at = mw_mono_ms();
	if (store_put_status(c->store, &j->st, &e) < 0)
		mw_log(1, "%s/%s: cannot record status: %s", j->in->name, j->lt->name, e.msg);
	col_wake_listeners(c);
}

void col_set_error(struct job *j, const struct mc_result *r)
{
	snprintf(j->st.err_class, sizeof(j->st.err_class), "%s", mc_class_key(r->cls));
	j->st.http_status = r->http_status;
	snprintf(j->st.err_code, sizeof(j->st.err_code), "%s", r->code);
	snprintf(j->st.err_message, sizeof(j->st.err_message), "%s", r->message);
	snprintf(j->st.remedy, sizeof(j->st.remedy), "%s", r->remedy);
}

void col_clear_error(struct job *j)
{
	snprintf(j->st.err_class, sizeof(j->st.err_class), "ok");
	j->st.http_status = 200;
	j->st.err_code[0] = j->st.err_message[0] = j->st.remedy[0] = '\0';
}

void col_local_failure(struct mc_result *r, const char *what, const char *msg,
			  const char *remedy)
{
	mc_result_init(r);
	r->cls = MC_UNKNOWN;
	mw_strlcpy(r->code, what, sizeof(r->code));
	mw_strlcpy(r->message, msg, sizeof(r->message));
	mw_strlcpy(r->remedy, remedy, sizeof(r->remedy));
}

/* ---- events ------------------------------------------------------------ */

void col_event(collector *c, const struct job *j, const char *kind, const char *fmt, ...)
{
	char text[400];
	va_list ap;
	mw_err e;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (store_event_add(c->store, j ? j->in->name : "", j ? j->lt->name : "", kind, text,
			    &e) < 0)
		mw_log(1, "cannot record an event: %s", e.msg);
}

void col_event_defer(collector *c, const struct job *j, const char *kind, const char *fmt, ...)
{
	char text[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	store_event_defer(c->store, j ? j->in->name : "", j ? j->lt->name : "", kind, text);
}

void col_reason(const struct mc_result *r, char *out, size_t n)
{
	const char *msg = r->message[0] ? r->message : r->remedy;

	if (r->http_status > 0)
		snprintf(out, n, "HTTP %ld%s%.95s%s%.250s", r->http_status, r->code[0] ? " " : "",
			 r->code, msg[0] ? ": " : "", msg);
	else
		snprintf(out, n, "%.95s%s%.250s", r->code[0] ? r->code : "failed",
			 msg[0] ? ": " : "", msg);
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
	c->tally = metrics_tally_new();
	if (make_pipe(c->ctl) < 0 || make_pipe(c->wake) < 0) {
		mw_err_set(e, "cannot create pipes: %s", strerror(errno));
		collector_free(c);
		return NULL;
	}
	/* Before the store: a collector refused here leaves no store behind. */
	if (opts->deliver) {
		struct output_set os = config_output_set(cfg);

		if (outputs_lock_dirs(&os, &c->dir_locks, e) < 0) {
			collector_free(c);
			return NULL;
		}
	}
	if (store_open(cfg->state_dir, &c->store, e) < 0) {
		collector_free(c);
		return NULL;
	}
	/* status and the console say which shard this store's collector is:
	 * the row names the last one that collected here */
	{
		char sh[32] = "";

		if (opts->shard.n)
			snprintf(sh, sizeof(sh), "%u/%u", opts->shard.k, opts->shard.n);
		if (store_meta_set(c->store, SHARD_META_KEY, sh, e) < 0) {
			collector_free(c);
			return NULL;
		}
	}
	/* before the jobs make sources under a name typed over an old one */
	{
		char *hints = collector_rename_hints(c->store, cfg);

		for (char *l = hints, *nl; l && *l; l = nl + 1) {
			nl = strchr(l, '\n');
			*nl = '\0';
			mw_log(0, "warning: %s", l);
		}
		free(hints);
	}
	if (col_build_jobs(c, cfg, NULL, 0, e) < 0) {
		collector_free(c);
		return NULL;
	}
	return c;
}

void collector_free(collector *c)
{
	if (!c)
		return;
	col_free_jobs(c);
	if (c->store)
		store_close(c->store);
	outputs_unlock_dirs(c->dir_locks);
	output_handoff_free(c->handoff);
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
	metrics_tally_free(c->tally);
	free(c->metrics_caches);
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
		col_put_status(c, j, "throttled");
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

/* The output thread found the store over max_store with nothing it may
 * delete (HACKING, "The store's budget and pass-through"): no job stores
 * more, each one's status says why, and each takes up where it stopped once
 * the store is under its budget again. fetch gives up on them after its
 * retry budget. 1 while held. */
static int store_held(collector *c)
{
	struct mc_result r;
	char code[sizeof(c->held_code)], msg[sizeof(c->held_msg)], rem[sizeof(c->held_remedy)];
	int held;

	pthread_mutex_lock(&c->out_mu);
	held = c->held;
	memcpy(code, c->held_code, sizeof(code));
	memcpy(msg, c->held_msg, sizeof(msg));
	memcpy(rem, c->held_remedy, sizeof(rem));
	pthread_mutex_unlock(&c->out_mu);
	if (held && !c->held_since) {
		c->held_since = mw_mono_ms();
		col_event(c, NULL, "store full", "%s", msg);
	} else if (!held && c->held_since) {
		c->held_since = 0;
		col_event(c, NULL, "store under budget", "collection resumes");
	}
	col_local_failure(&r, code, msg, rem);
	r.cls = MC_STORE_FULL;
	for (size_t i = 0; i < c->njobs; i++) {
		struct job *j = &c->jobs[i];

		if (j->done || j->failed)
			continue;
		if (held && (!j->held || strcmp(j->st.err_message, msg) != 0)) {
			j->held = 1;
			j->rep.last = r;
			col_set_error(j, &r);
			col_put_status(c, j, "error");
		} else if (!held && j->held) {
			j->held = 0;
			col_clear_error(j);
			col_put_status(c, j, "idle");
		}
		if (held && c->opts.once && c->opts.retry_budget_ms > 0 &&
		    mw_mono_ms() - c->held_since > c->opts.retry_budget_ms)
			j->failed = 1;
	}
	/* fetch's output thread waits for a kick, not the clock: it must look
	 * again as the network outputs deliver, or the hold never ends. */
	if (held)
		col_kick_outputs(c);
	return held;
}

/* Over max_store and not (yet) held: the output thread prunes after its
 * next delivery; a page stored before then would only grow the file past
 * the budget (a backfill stores faster than a delivery round). */
static int store_over_budget(collector *c)
{
	struct store_size sz;
	mw_err e;

	if (!c->cfg->max_store || store_size(c->store, &sz, &e) < 0 ||
	    sz.used <= c->cfg->max_store)
		return 0;
	col_kick_outputs(c);
	return 1;
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
		col_put_status(c, &c->jobs[i], c->jobs[i].paused ? "paused" : "idle");
	if (c->opts.deliver) {
		mw_err e;

		struct output_set bos = config_output_set(c->cfg);

		/* Before the first page: start: now means after what is stored
		 * when the output is made, not after whatever this run adds. */
		if (outputs_begin(&bos, c->store, &e) < 0)
			mw_log(0, "%s", e.msg);
		if (!c->handoff)
			c->handoff = output_handoff_new(HANDOFF_ROWS);
		if (pthread_create(&c->out_thread, NULL, col_output_main, c) == 0)
			c->out_started = 1;
		else
			mw_log(0, "cannot start the output thread; records stay in the store");
		struct output_set os = config_output_set(c->cfg);

		if (sink_workers_start(&os, c->opts.once, c->opts.retry_budget_ms, &c->sinks,
				       &e) < 0)
			mw_log(0, "%s; their records stay in the store", e.msg);
	}
	col_poll_requests(c);
	while (!c->stop) {
		int64_t when, now, most = REQUEST_POLL_MS, dog = service_watchdog_ms();
		struct job *j;

		/* A service's watchdog vouches for this loop: ping from here, and
		 * never sleep past half its interval. */
		service_watchdog();
		col_metrics(c, 0);
		if (dog && dog / 2 < most)
			most = dog / 2;
		if (!c->opts.once && c->cfg->heartbeat)
			col_heartbeat(c);
		if (c->reload) {
			int ok = 1;

			service_reloading();
			col_reload_config(c, NULL, &ok);
			service_ready(ok ? "collecting (config reloaded)" :
				     "collecting (reload refused: running config kept)");
		}
		if (c->opts.once && all_done(c))
			break;
		now = mw_mono_ms();
		if (!c->opts.once && (atomic_exchange(&c->poke, 0) ||
				      now - c->last_request_poll >= REQUEST_POLL_MS))
			col_poll_requests(c);
		if (store_held(c)) {
			wait_ms(c, most);
			continue;
		}
		if (store_over_budget(c)) {
			wait_ms(c, OUT_COALESCE_MS);
			continue;
		}
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
		col_step(c, j);
	}
	if (!c->opts.once)
		service_stopping();
	/* Leave a clear state behind: nobody is collecting now. */
	for (size_t i = 0; i < c->njobs; i++) {
		struct job *j = &c->jobs[i];

		if (!strcmp(j->st.state, "collecting"))
			col_put_status(c, j, "idle");
		j->rep.horizon = j->cur.horizon;
		c->reports[i] = j->rep;
		if (j->failed || (c->opts.once && !j->done))
			failed = 1;
		if (c->opts.once && !j->done && !j->failed && c->stop)
			c->reports[i].failed = 1;
		else
			c->reports[i].failed = j->failed;
	}
	col_replay_join(c);  /* aborts within a batch once stop is set */
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
	col_metrics(c, 1);
	col_wake_listeners(c);
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
	/* one per (integration, type): a backfill's records count in its type's
	 * status, not as a line of their own */
	*n = c->nregular;
	for (size_t i = 0; i < c->njobs; i++) {
		if (!c->reports[i].lt) {
			c->reports[i] = c->jobs[i].rep;
			c->reports[i].horizon = c->jobs[i].cur.horizon;
			c->reports[i].failed = c->jobs[i].failed;
		}
	}
	return c->reports;
}
