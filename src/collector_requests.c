/* collector_requests.c - the console's requests (requests.h) as the
 * collector carries them out, one handler per request, and the reload of
 * the config they may ask for. */
#include "collector_private.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonout.h"
#include "service.h"
#include "window.h"

/* ---- requests from the console ------------------------------------------ */

/* A backfill job follows its source's pause; fetch and reset are the
 * regular job's. */
static int job_matches(const struct job *j, const struct store_request *r)
{
	if (j->backfill && r->action != MW_REQ_PAUSE && r->action != MW_REQ_RESUME)
		return 0;
	return (!r->integration[0] || strcmp(r->integration, j->in->name) == 0) &&
	       (!r->type[0] || strcmp(r->type, j->lt->name) == 0);
}

/* One line per type, for a person (the console shows them under its list):
 * "acme url: ok", or the class in the API's words and the remedy. */
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
				      rep.rows[k].lt->name,
				      mc_class_label(rep.rows[k].res.cls, in->api),
				      rep.rows[k].res.cls == MC_OK ? "" : ": ",
				      rep.rows[k].res.cls == MC_OK ? "" : rep.rows[k].res.remedy);
	}
}


/* ---- the handlers, one per request of requests.h ---------------------------- */

typedef void (*request_fn)(collector *c, const struct store_request *r, mw_buf *out, int *ok);

static void req_validate(collector *c, const struct store_request *r, mw_buf *out, int *ok)
{
	do_validate(c, r, out, ok);
}

static void req_reload(collector *c, const struct store_request *r, mw_buf *out, int *ok)
{
	(void)r;
	col_reload_config(c, out, ok);
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

/* Store and config file, then a reload: the renamed jobs find their
 * sources (same ids, same cursors) under the new name. */
static void req_rename(collector *c, const struct store_request *r, mw_buf *out, int *ok)
{
	mw_err e;

	if (!c->cfg->path) {
		*ok = 0;
		mw_buf_puts(out, "no config file to rename in");
	} else if (collector_rename_integration(c->store, c->cfg->path, r->integration, r->arg,
						&e) < 0) {
		*ok = 0;
		mw_buf_puts(out, e.msg);
	} else {
		col_reload_config(c, NULL, ok);
		if (*ok)
			mw_buf_printf(out, "renamed %s to %s; cursors and records kept",
				      r->integration, r->arg);
		else
			mw_buf_printf(out, "renamed %s to %s, but the reload failed (see the log)",
				      r->integration, r->arg);
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
		col_put_status(c, j, "paused");
		break;
	case MW_REQ_RESUME:
		j->paused = 0;
		j->due = mw_mono_ms();
		col_put_status(c, j, j->backfill ? "collecting" : "idle");
		break;
	case MW_REQ_RESET: {
		int64_t h = r->arg[0] ? strtoll(r->arg, NULL, 10)
				      : mw_now() - logtype_lookback(j->lt, j->in->lookback);

		if (store_reset_cursor(c->store, j->source, h, &e) < 0 ||
		    store_get_cursor(c->store, j->source, &j->cur, &e) < 0) {
			*ok = 0;
			mw_buf_printf(out, "%s ", e.msg);
		}
		/* a batch type reads its listings from the store again */
		col_batch_free(j);
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
			matched += !c->jobs[i].backfill;
			job_request(c, &c->jobs[i], r, out, ok);
		}
	if (!matched) {
		*ok = 0;
		mw_buf_printf(out, "no collection matches %s%s%s", r->integration,
			      r->type[0] ? "/" : "", r->type);
	} else if (*ok) {
		/* The console shows it as the request's outcome: "pause acme:
		 * paused 3 collections". */
		static const char *const done[MW_REQ_COUNT] = {
			[MW_REQ_FETCH] = "due now:", [MW_REQ_PAUSE] = "paused",
			[MW_REQ_RESUME] = "resumed", [MW_REQ_RESET] = "reset",
		};

		mw_buf_printf(out, "%s %d collection%s", done[r->action], matched,
			      matched == 1 ? "" : "s");
	}
}

/* ---- backfills ------------------------------------------------------------------ */

struct job *col_backfill_job(collector *c, int64_t source)
{
	for (size_t i = c->nregular; i < c->njobs; i++)
		if (c->jobs[i].backfill && c->jobs[i].source == source)
			return &c->jobs[i];
	return NULL;
}

int col_backfill_load(collector *c, struct job *j)
{
	struct store_backfill b;
	mw_err e;
	int got = store_backfill_next(c->store, j->source, &b, &e);
	char f[32], t[32];

	if (got < 0)
		mw_log(0, "%s/%s: %s", j->in->name, j->lt->name, e.msg);
	if (got <= 0) {
		j->done = 1;
		return got;
	}
	j->cur = b.cur;
	j->bf_from = b.from;
	j->done = j->failed = 0;
	j->due = mw_mono_ms();
	j->backoff = 0;
	j->retry_since = 0;
	j->poll_new = 0;
	j->page_size = j->in->page_size;
	/* a resumed one expects again what it had read: from its progress */
	col_loop_watch_reset(j, j->cur.win_progress);
	mw_format_rfc3339(b.from, f);
	mw_format_rfc3339(b.to, t);
	col_event_defer(c, j, "backfill started", "%s to %s%s", f, t,
			b.cur.page_token[0] || b.cur.win_progress > b.from ? ", resumed" : "");
	return 1;
}

/* A time of a backfill's span: epoch seconds, or a date as Mimecast writes
 * them (RFC 3339 too). */
static int parse_when(const char *s, size_t n, int64_t *t)
{
	char buf[40], *end;
	long long v;

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	v = strtoll(buf, &end, 10);
	if (*end == '\0' && v > 0) {
		*t = v;
		return 0;
	}
	return mw_parse_mc_date(buf, n, t);
}

/* "FROM TO": a backfill of exactly that span of the (integration, type),
 * read beside its regular collection. */
static void req_backfill(collector *c, const struct store_request *r, mw_buf *out, int *ok)
{
	const char *sp = strchr(r->arg, ' ');
	int64_t from, to, id, newest;
	struct job *reg = NULL, *bj;
	char f[32], t[32];
	mw_err e;

	*ok = 0;
	for (size_t i = 0; i < c->nregular; i++)
		if (!strcmp(c->jobs[i].in->name, r->integration) &&
		    !strcmp(c->jobs[i].lt->name, r->type))
			reg = &c->jobs[i];
	if (!reg) {
		mw_buf_printf(out, "no collection matches %s/%s", r->integration, r->type);
		return;
	}
	if (reg->lt->shape == MW_SHAPE_BATCH) {
		mw_buf_printf(out, "backfill: %s is read from its batch files day by day, each "
			      "file once; there is no span to read again", reg->lt->name);
		return;
	}
	if (!sp || parse_when(r->arg, (size_t)(sp - r->arg), &from) < 0 ||
	    parse_when(sp + 1, strlen(sp + 1), &to) < 0 || to <= from) {
		mw_buf_printf(out, "backfill: '%s' is not FROM TO (epoch seconds or dates, FROM "
			      "before TO)", r->arg);
		return;
	}
	/* never ahead of what the regular collection may ask for */
	newest = mw_now() - reg->in->lag;
	if (to > newest)
		to = newest;
	if (to <= from) {
		mw_buf_puts(out, "backfill: the span is not yet collectable (newer than now - lag)");
		return;
	}
	if (store_backfill_add(c->store, reg->source, from, to, &id, &e) < 0) {
		mw_buf_puts(out, e.msg);
		return;
	}
	mw_format_rfc3339(from, f);
	mw_format_rfc3339(to, t);
	col_event(c, reg, "backfill queued", "%s to %s", f, t);
	*ok = 1;
	bj = col_backfill_job(c, reg->source);
	if (!bj && c->njobs < c->njobs_cap) {
		bj = &c->jobs[c->njobs];
		*bj = *reg;
		bj->backfill = 1;
		memset(&bj->rep, 0, sizeof(bj->rep));
		bj->rep.lt = bj->lt;
		bj->done = 1;
		c->njobs++;
	}
	if (bj && bj->done && col_backfill_load(c, bj) < 0)
		*ok = 0;
	mw_buf_printf(out, "backfill of %s/%s from %s to %s queued", r->integration, r->type, f,
		      t);
}

/* "OUTPUT FROM TO" (mimewatch replay while this collector holds the lock):
 * the span delivered to that output again, in a thread of its own. */
static void req_replay(collector *c, const struct store_request *r, mw_buf *out, int *ok)
{
	struct store_time_span sp = { 0, 0, r->integration[0] ? r->integration : NULL,
				      r->type[0] ? r->type : NULL };
	char name[128];
	const char *a = strchr(r->arg, ' '), *b = a ? strchr(a + 1, ' ') : NULL;

	*ok = 0;
	if (!a || !b || (size_t)(a - r->arg) >= sizeof(name) ||
	    parse_when(a + 1, (size_t)(b - a - 1), &sp.since) < 0 ||
	    parse_when(b + 1, strlen(b + 1), &sp.until) < 0 || sp.until <= sp.since) {
		mw_buf_printf(out, "replay: '%s' is not OUTPUT FROM TO", r->arg);
		return;
	}
	memcpy(name, r->arg, (size_t)(a - r->arg));
	name[a - r->arg] = '\0';
	*ok = col_replay_start(c, name, &sp, out) == 0;
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
	[MW_REQ_RENAME] = req_rename,
	[MW_REQ_BACKFILL] = req_backfill,
	[MW_REQ_REPLAY] = req_replay,
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
	col_wake_listeners(c);
}

void col_poll_requests(collector *c)
{
	struct store_request r;
	mw_err e;
	int got;

	c->last_request_poll = mw_mono_ms();
	while (!c->stop && (got = store_request_take(c->store, &r, &e)) == 1)
		handle_request(c, &r);
}

/* The running config stays: one log line, and the request's result. */
static void reload_refused(collector *c, struct mw_config *cfg, int loaded, const mw_err *e,
			   mw_buf *out, int *ok)
{
	mw_log(0, "reload refused, keeping the running config: %s", e->msg);
	col_event(c, NULL, "config reload", "refused, the running config is kept: %.300s",
		  e->msg);
	if (out)
		mw_buf_printf(out, "reload refused: %s", e->msg);
	*ok = 0;
	if (loaded)
		config_free(cfg);
	free(cfg);
}

void col_reload_config(collector *c, mw_buf *out, int *ok)
{
	struct mw_config *cfg = mw_xcalloc(1, sizeof(*cfg));
	struct job *old_jobs = c->jobs;
	struct cred *old_creds = c->creds;
	struct collector_report *old_reports = c->reports;
	size_t n_old = c->njobs, n_old_creds = c->ncreds, n_old_regular = c->nregular;
	size_t n_old_cap = c->njobs_cap;
	mw_err e;

	c->reload = 0;
	if (!c->cfg->path) {
		mw_err_set(&e, "no config file");
		reload_refused(c, cfg, 0, &e, out, ok);
		return;
	}
	if (config_load(c->cfg->path, cfg, &e) != 0) {
		reload_refused(c, cfg, 0, &e, out, ok);
		return;
	}
	/* The store, its lock and the cursors live in state_dir: a reload cannot
	 * move them, and a config naming another one lets a second collector in
	 * there, to deliver every record again into the same outputs. */
	if (strcmp(cfg->state_dir, c->cfg->state_dir) != 0 &&
	    config_dir_within(cfg->state_dir, c->cfg->state_dir) != 1) {
		mw_err_set(&e, "state_dir cannot change while mimewatch runs (%s, running %s): "
			   "stop it, move the state directory, then start it", cfg->state_dir,
			   c->cfg->state_dir);
		reload_refused(c, cfg, 1, &e, out, ok);
		return;
	}
	/* New NDJSON directories are locked before anything is swapped; those
	 * the config dropped stay locked until the collector ends (the output
	 * thread may still be writing there). */
	if (c->opts.deliver) {
		struct output_set nos = config_output_set(cfg);

		if (outputs_lock_dirs(&nos, &c->dir_locks, &e) < 0) {
			reload_refused(c, cfg, 1, &e, out, ok);
			return;
		}
	}
	c->jobs = NULL;
	c->creds = NULL;
	c->reports = NULL;
	c->njobs = c->ncreds = 0;
	if (col_build_jobs(c, cfg, old_jobs, n_old, &e) < 0) {
		mw_log(0, "reload failed, keeping the running config: %s", e.msg);
		col_event(c, NULL, "config reload", "failed, the running config is kept: %.300s",
			  e.msg);
		col_free_jobs(c);
		c->jobs = old_jobs;
		c->creds = old_creds;
		c->reports = old_reports;
		c->njobs = n_old;
		c->nregular = n_old_regular;
		c->njobs_cap = n_old_cap;
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
	/* a batch job's listings in hand go: the new one lists from the store */
	for (size_t i = 0; i < n_old; i++)
		col_batch_free(&old_jobs[i]);
	free(old_creds);
	free(old_jobs);
	free(old_reports);
	c->owned = mw_xrealloc(c->owned, (c->nowned + 1) * sizeof(*c->owned));
	c->owned[c->nowned++] = cfg;
	struct output_set bos = config_output_set(cfg);
	mw_err be;

	/* An output this reload adds starts now before any thread delivers
	 * it or the next page is stored. */
	if (outputs_begin(&bos, c->store, &be) < 0)
		mw_log(0, "%s", be.msg);
	col_metrics_reload(c, cfg);
	pthread_mutex_lock(&c->out_mu);
	c->cfg = cfg;
	pthread_mutex_unlock(&c->out_mu);
	struct output_set os = config_output_set(cfg);

	sink_workers_reload(c->sinks, &os);
	c->next_heartbeat_ms = 0;
	mw_log(1, "config reloaded: %zu collections", c->nregular);
	col_event(c, NULL, "config reload", "reloaded: %zu collections", c->nregular);
	if (out)
		mw_buf_printf(out, "reloaded: %zu collections", c->nregular);
}

/* ---- rename ------------------------------------------------------------------ */

int collector_rename_integration(struct mw_store *s, const char *config_path,
				 const char *from, const char *to, mw_err *e)
{
	struct mw_config cfg;
	mw_err ue;
	int rc = -1;

	if (config_load(config_path, &cfg, e) != 0)
		return -1;
	/* in memory first: the new name checked before anything changes */
	if (config_rename_integration(&cfg, from, to, e) < 0)
		goto out;
	if (store_rename_integration(s, from, to, e) < 0)
		goto out;
	if (config_save(&cfg, config_path, e) < 0) {
		if (store_rename_integration(s, to, from, &ue) < 0)
			mw_log(0, "cannot undo the rename of %s in the store: %s", from, ue.msg);
		goto out;
	}
	mw_log(1, "renamed integration %s to %s (cursors and records kept)", from, to);
	rc = 0;
out:
	config_free(&cfg);
	return rc;
}

char *collector_rename_hints(struct mw_store *s, const struct mw_config *cfg)
{
	struct store_integration *known = NULL;
	size_t n = 0;
	mw_buf out;
	mw_err e;

	if (store_list_integrations(s, &known, &n, &e) < 0)
		return NULL;
	mw_buf_init(&out);
	for (size_t i = 0; i < cfg->nintegrations; i++) {
		const char *nw = cfg->integrations[i].name;
		size_t k;

		for (k = 0; k < n; k++)
			if (strcmp(known[k].name, nw) == 0)
				break;
		if (k < n)
			continue;  /* the store knows it */
		for (k = 0; k < n; k++) {
			const char *old = known[k].name;

			if (config_find(cfg, old))
				continue;
			mw_buf_printf(&out, "integration '%s' is new to the store and '%s' has "
				      "%lld stored records and its cursors: if you renamed it, put "
				      "back '%s' and run `mimewatch rename %s %s` (or press R in the "
				      "console), else it collects again from lookback\n", nw, old,
				      (long long)known[k].records, old, old, nw);
		}
	}
	free(known);
	if (!out.len) {
		mw_buf_free(&out);
		return NULL;
	}
	return out.data;
}

/* ---- checks of an integration not in the config ---------------------------- */

int collector_check_integration(const struct mw_integration *in, struct validate_report *rep,
				const atomic_int *abort_flag)
{
	return validate_integration(in, rep, abort_flag);
}

int collector_discover_region(const struct mw_integration *in, const char *discover_base,
			      const char *email, char **base_url, struct mc_result *res)
{
	struct mc_creds cr;

	mc_creds_of(&cr, in);
	cr.base_url = discover_base;
	return mc_discover(&cr, email, base_url, res);
}
