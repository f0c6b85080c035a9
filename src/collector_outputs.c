/* collector_outputs.c - the collector's output thread (the NDJSON files,
 * retention, max_store and pass-through), the heartbeat health records and
 * the thread of a replay handed over by `mimewatch replay`. */
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
void col_heartbeat(collector *c)
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
	col_kick_outputs(c);
}

/* ---- the store's budget and pass-through ----------------------------------- */

/* The largest overlap: what a window may read again before its start. */
static int64_t max_overlap(const struct mw_config *cfg)
{
	int64_t overlap = 0;

	for (size_t i = 0; i < cfg->nintegrations; i++)
		if (cfg->integrations[i].overlap > overlap)
			overlap = cfg->integrations[i].overlap;
	return overlap;
}

/* Where pass-through last pruned: after each delivery that moved the
 * outputs' common offset, else every PASS_THROUGH_EVERY_MS. */
struct volume_watch {
	int64_t upto, at_ms;
};

/* Why collection holds, as a job's status carries an error: code (what
 * home shows beside the class), message and remedy. */
struct held_why {
	char code[96], msg[400], remedy[400];
};

static void set_held(collector *c, const struct held_why *why)
{
	pthread_mutex_lock(&c->out_mu);
	c->held = why != NULL;
	snprintf(c->held_code, sizeof(c->held_code), "%s", why ? why->code : "");
	snprintf(c->held_msg, sizeof(c->held_msg), "%s", why ? why->msg : "");
	snprintf(c->held_remedy, sizeof(c->held_remedy), "%s", why ? why->remedy : "");
	pthread_mutex_unlock(&c->out_mu);
}

/* Why the store stays over max_store: the output furthest behind (what it
 * has not delivered cannot go), or, with every output up to date, records
 * that windows may still read again. */
static void held_reason(const struct mw_config *cfg, const struct output_set *os, mw_store *s,
			const struct store_size *sz, struct held_why *why)
{
	struct store_output_info worst = { .lag_records = 0 }, oi;
	const char *name = NULL;
	char budget[32];
	mw_err e;

	for (size_t i = 0; i < os->noutputs; i++)
		if (store_output_info(s, os->outputs[i].name, &oi, &e) == 0 &&
		    oi.lag_records > worst.lag_records) {
			worst = oi;
			name = os->outputs[i].name;
		}
	mw_format_size(cfg->max_store, budget, sizeof(budget));
	if (!name) {
		snprintf(why->code, sizeof(why->code), "max_store %s, all delivered", budget);
		snprintf(why->msg, sizeof(why->msg), "store over max_store %s (%.1f MiB in use): "
			 "every output is up to date, and what is left may be read again by the "
			 "overlap", budget, (double)sz->used / 1048576.0);
		snprintf(why->remedy, sizeof(why->remedy), "raise max_store: the last overlap of "
			 "records must fit in it");
		return;
	}
	/* The output's own error is on its row and in status: named, not copied. */
	snprintf(why->code, sizeof(why->code), "max_store %s, %lld undelivered", budget,
		 (long long)worst.lag_records);
	snprintf(why->msg, sizeof(why->msg), "store over max_store %s (%.1f MiB in use) with "
		 "%lld undelivered records: output '%.64s' is behind (%s)", budget,
		 (double)sz->used / 1048576.0, (long long)worst.lag_records, name, worst.state);
	snprintf(why->remedy, sizeof(why->remedy), "fix output '%.64s' or raise max_store; "
		 "collection resumes by itself once its records are delivered and pruned", name);
}

/* After a delivery: pass-through deletes what every output has; a store
 * over max_store deletes the oldest delivered records down to 90% of it,
 * and holds collection when that is not enough (HACKING, "The store's
 * budget and pass-through"). */
static void store_volume(collector *c, const struct mw_config *cfg, const struct output_set *os,
			 mw_store *s, struct volume_watch *w)
{
	int64_t upto, overlap = max_overlap(cfg);
	struct store_size sz;
	struct held_why why;
	mw_err e;

	if (!cfg->max_store && !cfg->pass_through) {
		set_held(c, NULL);
		return;
	}
	upto = outputs_min_offset(os, s);
	if (cfg->pass_through &&
	    (upto != w->upto || mw_mono_ms() - w->at_ms >= PASS_THROUGH_EVERY_MS)) {
		w->upto = upto;
		w->at_ms = mw_mono_ms();
		if (store_prune_delivered(s, upto, overlap, -1, &e) < 0)
			mw_log(1, "pass-through: %s", e.msg);
	}
	if (!cfg->max_store)
		return;
	if (store_size(s, &sz, &e) == 0 && sz.used > cfg->max_store &&
	    (store_prune_delivered(s, upto, overlap, cfg->max_store / 10 * 9, &e) < 0 ||
	     store_size(s, &sz, &e) < 0))
		mw_log(1, "max_store: %s", e.msg);
	if (sz.used <= cfg->max_store) {
		set_held(c, NULL);
		return;
	}
	held_reason(cfg, os, s, &sz, &why);
	set_held(c, &why);
}

/* ---- outputs thread ------------------------------------------------------ */

void *col_output_main(void *arg)
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
	int64_t last_delivery = 0;
	struct volume_watch vw = { -1, 0 };

	for (;;) {
		int stopping;

		pthread_mutex_lock(&c->out_mu);
		c->out_idle = 1;
		while (!c->out_pending && !c->stop) {
			struct timespec ts = mw_deadline_in(1000);

			pthread_cond_timedwait(&c->out_cv, &c->out_mu, &ts);
			if (!c->opts.once)
				break; /* run: deliver at least once a second */
		}
		c->out_idle = 0;
		/* Records keep coming (a backfill kicks once a page): gather
		 * them into one delivery per OUT_COALESCE_MS. Stopping never
		 * waits. */
		while (!c->stop && last_delivery &&
		       mw_mono_ms() - last_delivery < OUT_COALESCE_MS) {
			struct timespec ts =
				mw_deadline_in(OUT_COALESCE_MS - (mw_mono_ms() - last_delivery));

			pthread_cond_timedwait(&c->out_cv, &c->out_mu, &ts);
		}
		last_delivery = mw_mono_ms();
		c->out_pending = 0;
		stopping = c->stop;
		cfg = c->cfg;
		pthread_mutex_unlock(&c->out_mu);
		os = config_output_set(cfg);
		os.handoff = c->handoff;
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
		store_volume(c, cfg, &os, s, &vw);
		/* At start, then hourly (the monotonic clock counts from boot, so
		 * "an hour since 0" is not "never pruned yet"). */
		if (!c->opts.once && (!last_prune || mw_mono_ms() - last_prune > PRUNE_EVERY_MS)) {
			int64_t upto = outputs_min_offset(&os, s);

			int64_t before = mw_now() - cfg->retention, floor = store_reread_floor(s);
			int64_t overlap = max_overlap(cfg);

			/* A backfill older than the retention must not lose what its
			 * overlap reads again: those would come back as new records. */
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

/* ---- replay ------------------------------------------------------------------- */

/* A replay runs beside collection and delivery: output_replay takes the
 * NDJSON outputs' lock for its batches, and a network replay has a sink
 * of its own. The outputs it reads belong to a config the collector keeps
 * until its end (owned), after joining this thread. */
struct col_replay {
	collector *c;
	struct output_set os;
	char name[128], integration[64], type[16];
	struct store_time_span sp;
	pthread_t th;
	atomic_int finished;
};

static void *replay_main(void *arg)
{
	struct col_replay *r = arg;
	mw_store *s = NULL;
	int64_t done = 0;
	mw_err e;

	if (store_open(r->os.state_dir, &s, &e) < 0 ||
	    output_replay(&r->os, r->name, &r->sp, s, &r->c->stop, &done, &e) < 0)
		mw_log(0, "output '%s': replay: %s (%lld records re-delivered)", r->name, e.msg,
		       (long long)done);
	else
		mw_log(1, "output '%s': replay done: %lld records re-delivered", r->name,
		       (long long)done);
	if (s)
		store_close(s);
	atomic_store(&r->finished, 1);
	return NULL;
}

int col_replay_start(collector *c, const char *name, const struct store_time_span *sp,
		     mw_buf *out)
{
	struct col_replay *r;
	int found = 0;

	if (c->replay && !atomic_load(&c->replay->finished)) {
		mw_buf_printf(out, "a replay of output '%s' is running; wait for it (mimewatch "
			      "status shows its progress)", c->replay->name);
		return -1;
	}
	col_replay_join(c);
	for (size_t i = 0; i < c->cfg->noutputs; i++)
		found |= !strcmp(c->cfg->outputs[i].name, name);
	if (!found) {
		mw_buf_printf(out, "no output named '%s' in the running config", name);
		return -1;
	}
	r = mw_xcalloc(1, sizeof(*r));
	r->c = c;
	r->os = config_output_set(c->cfg);
	r->os.handoff = NULL;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->sp = *sp;
	if (sp->integration)
		r->sp.integration = strcpy(r->integration, sp->integration);
	if (sp->type)
		r->sp.type = strcpy(r->type, sp->type);
	if (pthread_create(&r->th, NULL, replay_main, r) != 0) {
		free(r);
		mw_buf_puts(out, "cannot start a thread for the replay");
		return -1;
	}
	c->replay = r;
	mw_buf_printf(out, "replay of output '%s' started by the running collector", name);
	return 0;
}

void col_replay_join(collector *c)
{
	if (!c->replay)
		return;
	pthread_join(c->replay->th, NULL);
	free(c->replay);
	c->replay = NULL;
}
