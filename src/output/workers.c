/* output/workers.c - delivery to the network outputs (syslog, Splunk HEC,
 * Elasticsearch, Kafka): one worker thread per output.
 *
 * Each worker has its own store connection and its own durable offset (the
 * outputs table, by output name). It reads one batch of rows after the
 * offset, hands it to the output's sink (sink.h) and moves the offset past
 * the rows the sink reports delivered, in the same order. So an output that
 * is slow or down holds nothing but its offset: collection, the NDJSON
 * output and the other outputs go on, and when it comes back it receives
 * everything from its offset (at-least-once; Elasticsearch's _id and Kafka's
 * idempotent producer make re-sends harmless there).
 *
 * Failures: a retryable one (receiver down, 429, 5xx, timeout) backs off 1 s
 * doubling to 60 s and keeps the sink (Kafka's producer retries what it
 * still holds with the same sequence numbers); a fatal one (refused token,
 * TLS, unknown topic) closes the sink and tries again every 5 minutes or
 * on reload. The state and the last error go to the store for `status`
 * and the console, written only when they change. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "jsonout.h"
#include "output.h"
#include "scrub.h"
#include "private.h"
#include "store/store.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 60000
#define FATAL_RETRY_MS (5 * 60 * 1000)
#define IDLE_POLL_MS 1000

struct worker {
	struct sink_workers *w;
	const struct mw_output *o;      /* in a config the collector keeps alive */
	char name[128];
	pthread_t th;
	int started;
	atomic_int stop;
	int kicked;                     /* under w->mu */
	/* once mode */
	int done, failed;
	char error[1024];
};

struct sink_workers {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *state_dir;
	int once;
	int finishing;                  /* once: nothing more will be committed */
	int64_t budget_ms;              /* once: give up after retrying this long */
	struct worker **ws;
	size_t n;
};

static const struct sink_ops *ops_for(enum mw_output_kind k)
{
	switch (k) {
	case MW_OUT_SYSLOG:
		return &sink_syslog_ops;
	case MW_OUT_HEC:
		return &sink_hec_ops;
	case MW_OUT_ES:
		return &sink_es_ops;
	case MW_OUT_KAFKA:
		return &sink_kafka_ops;
	case MW_OUT_NDJSON:
		break;
	}
	return NULL;
}

static void fill_opts(const struct mw_output *o, struct sink_opts *so, atomic_int *abort_flag)
{
	memset(so, 0, sizeof(*so));
	so->name = o->name;
	so->url = o->url;
	so->ca_file = o->ca_file;
	so->client_cert = o->client_cert;
	so->client_key = o->client_key;
	so->username = o->username;
	so->password = o->password.value;
	so->token = o->token.value;
	so->index = o->index;
	so->brokers = o->brokers;
	so->topic = o->topic;
	so->security_protocol = o->security_protocol;
	so->sasl_mechanism = o->sasl_mechanism;
	so->sasl_username = o->sasl_username;
	so->sasl_password = o->sasl_password.value;
	so->hostname = o->hostname;
	so->batch_max = o->batch;
	so->batch_bytes = (size_t)o->batch_bytes;
	so->timeout_ms = (int)(o->timeout > 0 ? o->timeout * 1000 : 10000);
	so->abort_flag = abort_flag;
}

/* ---- one batch --------------------------------------------------------------- */

/* The rows of a batch: every string lives in one buffer (offsets until the
 * buffer stops growing), the messages point into it afterwards. A batch
 * closes at batch records or once its lines reach batch_bytes (lines_max),
 * whichever comes first; it always holds at least one row. */
struct rowbuf {
	mw_buf text;
	size_t lines, lines_max;    /* the lines' bytes so far, the limit */
	int full;                   /* closed by lines_max */
	struct rowref {
		size_t line, integration, type, id;
		size_t line_len;
		int64_t time, rowid, revision;
	} *refs;
	size_t n, cap;
};

static size_t put_str(mw_buf *b, const char *s)
{
	size_t at = b->len;

	mw_buf_append(b, s, strlen(s) + 1);
	return at;
}

static int take_row(const struct store_row *row, void *ctx)
{
	struct rowbuf *rb = ctx;
	struct rowref *r;
	size_t at;

	if (rb->n == rb->cap) {
		rb->cap = rb->cap ? rb->cap * 2 : 64;
		rb->refs = mw_xrealloc(rb->refs, rb->cap * sizeof(*rb->refs));
	}
	r = &rb->refs[rb->n++];
	at = rb->text.len;
	ndjson_line(&rb->text, row);
	r->line = at;
	r->line_len = rb->text.len - at - 1;  /* without the '\n' */
	rb->text.data[rb->text.len - 1] = '\0';
	r->integration = put_str(&rb->text, row->integration);
	r->type = put_str(&rb->text, row->type);
	r->id = put_str(&rb->text, row->id);
	r->time = row->time;
	r->rowid = row->rowid;
	r->revision = row->revision;
	rb->lines += r->line_len + 1;
	rb->full = rb->lines_max && rb->lines >= rb->lines_max;
	return rb->full;
}

static size_t batch_rows(const struct mw_output *o)
{
	return (size_t)(o->batch > 0 ? o->batch : 500);
}

/* Empty, for a batch of output o. */
static void rowbuf_start(struct rowbuf *rb, const struct mw_output *o)
{
	mw_buf_reset(&rb->text);
	rb->n = rb->lines = 0;
	rb->full = 0;
	rb->lines_max = o->batch_bytes > 0 ? (size_t)o->batch_bytes : DEFAULT_BATCH_BYTES;
}

static void rowbuf_msgs(const struct rowbuf *rb, struct sink_msg *m)
{
	for (size_t i = 0; i < rb->n; i++) {
		const struct rowref *r = &rb->refs[i];

		m[i].line = rb->text.data + r->line;
		m[i].len = r->line_len;
		m[i].integration = rb->text.data + r->integration;
		m[i].type = rb->text.data + r->type;
		m[i].id = rb->text.data + r->id;
		m[i].time = r->time;
		m[i].rowid = r->rowid;
		m[i].revision = r->revision;
	}
}

/* ---- the worker ---------------------------------------------------------------- */

struct wstate {
	mw_store *s;
	sink *sk;
	const struct sink_ops *ops;
	struct rowbuf rb;
	struct sink_msg *msgs;
	size_t msgs_cap;
	char shown_state[16];
	char shown_error[1024];
	int64_t backoff_ms, next_try_ms, failing_since_ms;
};

/* A receiver may quote the output's token in an error: the sinks scrub its
 * whole answer before they quote part of it, and every message is scrubbed
 * once more here, before it is logged, stored (status, the console) or
 * printed by fetch (scrub.h). */
static void scrub_error(const struct mw_output *o, mw_err *e)
{
	scrub_set *set;

	if (!e->msg[0])
		return;
	set = scrub_set_new();
	scrub_set_add(set, o->token.value);
	scrub_set_add(set, o->password.value);
	scrub_set_add(set, o->sasl_password.value);
	scrub_text(set, e->msg);
	scrub_set_free(set);
}

/* "output 'NAME': msg", unless the sink already named the output. */
static void name_error(char *out, size_t n, const char *name, const char *msg)
{
	if (strncmp(msg, "output ", 7) == 0)
		snprintf(out, n, "%s", msg);
	else
		snprintf(out, n, "output '%.120s': %.880s", name, msg);
}

/* Writes the state to the store when it differs from what was written. The
 * error gets what happens next, so status and the console say it. */
static void set_state(struct worker *wk, struct wstate *ws, const char *state, const char *why)
{
	char error[1024];
	mw_err e;

	error[0] = '\0';
	if (!strcmp(state, "retrying"))
		snprintf(error, sizeof(error), "%.700s; retrying with backoff, nothing is lost: "
			 "delivery resumes where it stopped", why);
	else if (!strcmp(state, "error"))
		snprintf(error, sizeof(error), "%.700s; fix the output's settings (or the "
			 "receiver) and reload the config; retried every 5 minutes meanwhile", why);

	if (!strcmp(ws->shown_state, state) && !strcmp(ws->shown_error, error))
		return;
	if (strcmp(state, "ok") == 0 && ws->shown_state[0] && strcmp(ws->shown_state, "ok"))
		mw_log(1, "output '%s': delivering again", wk->name);
	else if (strcmp(state, "ok") != 0 && strcmp(ws->shown_error, error) != 0) {
		char line[1200];

		name_error(line, sizeof(line), wk->name, error);
		mw_log(0, "%s", line);
	}
	if (store_output_status(ws->s, wk->name, state, error, &e) == 0) {
		snprintf(ws->shown_state, sizeof(ws->shown_state), "%s", state);
		snprintf(ws->shown_error, sizeof(ws->shown_error), "%s", error);
	}
}

/* HEC and Elasticsearch skip a record refused for good (and say so in e
 * while the send succeeds) rather than block the output behind it
 * forever: logged, then cleared. */
static void log_skipped(const char *name, mw_err *e)
{
	if (e->msg[0]) {
		char line[1200];

		name_error(line, sizeof(line), name, e->msg);
		mw_log(0, "%s", line);
	}
	mw_err_clear(e);
}

/* Delivers one batch. 1 delivered some and there may be more, 0 up to date,
 * -1 failed (*fatal says how). */
static int deliver_batch(struct worker *wk, struct wstate *ws, int *fatal, mw_err *e)
{
	const struct mw_output *o = wk->o;
	int64_t last;
	size_t delivered = 0;
	enum sink_fail why = SINK_RETRY;
	int rc;

	*fatal = 0;
	if (store_output_get(ws->s, wk->name, &last, e) < 0)
		return -1;
	rowbuf_start(&ws->rb, o);
	if (store_each_after(ws->s, last, batch_rows(o), take_row, &ws->rb, e) < 0)
		return -1;
	if (ws->rb.n == 0)
		return 0;
	if (!ws->sk) {
		struct sink_opts so;

		fill_opts(o, &so, &wk->stop);
		if (ws->ops->open(&so, &ws->sk, e) < 0) {
			ws->sk = NULL;
			*fatal = 1;
			scrub_error(o, e);
			return -1;
		}
	}
	if (ws->msgs_cap < ws->rb.n) {
		ws->msgs_cap = ws->rb.n;
		ws->msgs = mw_xrealloc(ws->msgs, ws->msgs_cap * sizeof(*ws->msgs));
	}
	rowbuf_msgs(&ws->rb, ws->msgs);
	mw_err_clear(e);
	rc = ws->ops->send(ws->sk, ws->msgs, ws->rb.n, &delivered, &why, e);
	scrub_error(o, e);
	if (rc == 0)
		delivered = ws->rb.n;
	if (delivered > ws->rb.n)
		delivered = ws->rb.n;
	if (delivered > 0) {
		mw_err ce;

		if (store_output_commit(ws->s, wk->name, ws->msgs[delivered - 1].rowid, NULL, 0,
					&ce) < 0) {
			*e = ce;
			return -1;
		}
	}
	if (rc == 0) {
		log_skipped(wk->name, e);
		return ws->rb.full || ws->rb.n == batch_rows(o) ? 1 : 0;
	}
	if (why == SINK_FATAL) {
		*fatal = 1;
		ws->ops->close(ws->sk);
		ws->sk = NULL;
	}
	return -1;
}

/* ---- replay ------------------------------------------------------------------ */

/* The span's rows in batches, as deliver_batch reads and sends them, but
 * from the span and without moving the offset. Retryable failures are
 * tried again with the worker's backoff, up to 10 minutes. */
static int replay_network(const struct mw_output *o, const struct store_time_span *sp,
			  mw_store *s, atomic_int *abort_flag, int64_t *done, mw_err *e)
{
	struct rowbuf rb;
	struct sink_msg *msgs = NULL;
	const struct sink_ops *ops = ops_for(o->kind);
	struct sink_opts so;
	atomic_int never = 0;
	sink *sk = NULL;
	int64_t after = 0, backoff = BACKOFF_MIN_MS, give_up = mw_mono_ms() + 600000;
	int rc = 0;

	memset(&rb, 0, sizeof(rb));
	mw_buf_init(&rb.text);
	if (!abort_flag)
		abort_flag = &never;
	fill_opts(o, &so, abort_flag);
	if (ops->open(&so, &sk, e) < 0) {
		scrub_error(o, e);
		return -1;
	}
	for (;;) {
		size_t delivered = 0;
		enum sink_fail why = SINK_RETRY;

		if (atomic_load(abort_flag)) {
			mw_err_set(e, "stopped (shutting down)");
			rc = -1;
			break;
		}

		rowbuf_start(&rb, o);
		if ((rc = store_each_in_span(s, sp, after, batch_rows(o), take_row, &rb, e)) < 0 ||
		    rb.n == 0)
			break;
		msgs = mw_xrealloc(msgs, rb.n * sizeof(*msgs));
		rowbuf_msgs(&rb, msgs);
		mw_err_clear(e);
		rc = ops->send(sk, msgs, rb.n, &delivered, &why, e);
		scrub_error(o, e);
		if (rc == 0)
			delivered = rb.n;
		if (delivered > 0) {
			after = msgs[delivered - 1].rowid;
			*done += (int64_t)delivered;
			output_replay_note(s, o->name, sp, "running", *done, NULL);
		}
		if (rc == 0) {
			log_skipped(o->name, e);
			continue;
		}
		if (why == SINK_FATAL || mw_mono_ms() + backoff > give_up)
			break;
		mw_log(0, "output '%s': replay: %s; retrying in %lld ms", o->name, e->msg,
		       (long long)backoff);
		for (int64_t slept = 0; slept < backoff && !atomic_load(abort_flag); slept += 100)
			mw_sleep_ms(100);
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
		rc = 0;
	}
	ops->close(sk);
	free(msgs);
	free(rb.refs);
	mw_buf_free(&rb.text);
	return rc < 0 ? -1 : 0;
}

int output_replay(const struct output_set *cfg, const char *name,
		  const struct store_time_span *sp, mw_store *s, atomic_int *abort_flag,
		  int64_t *done, mw_err *e)
{
	const struct mw_output *o = NULL;
	int rc;

	*done = 0;
	for (size_t i = 0; i < cfg->noutputs && !o; i++)
		if (!strcmp(cfg->outputs[i].name, name))
			o = &cfg->outputs[i];
	if (!o) {
		mw_err_set(e, "no output named '%s'", name);
		return -1;
	}
	output_replay_note(s, o->name, sp, "running", 0, NULL);
	if (o->kind == MW_OUT_NDJSON)
		rc = ndjson_replay(cfg, o, sp, s, abort_flag, done, e);
	else
		rc = replay_network(o, sp, s, abort_flag, done, e);
	output_replay_note(s, o->name, sp, rc < 0 ? "failed" : "done", *done,
			   rc < 0 ? e->msg : NULL);
	return rc;
}

static int64_t worker_wait(struct worker *wk, int64_t until_ms, int *finishing)
{
	struct sink_workers *w = wk->w;

	pthread_mutex_lock(&w->mu);
	while (!wk->kicked && !atomic_load(&wk->stop) && mw_mono_ms() < until_ms) {
		int64_t left = until_ms - mw_mono_ms();
		struct timespec ts = mw_deadline_in(left > IDLE_POLL_MS ? IDLE_POLL_MS : left);

		pthread_cond_timedwait(&w->cv, &w->mu, &ts);
	}
	wk->kicked = 0;
	*finishing = w->finishing;
	pthread_mutex_unlock(&w->mu);
	return mw_mono_ms();
}

static void *worker_main(void *arg)
{
	struct worker *wk = arg;
	struct sink_workers *w = wk->w;
	struct wstate ws;
	mw_err e;

	memset(&ws, 0, sizeof(ws));
	mw_buf_init(&ws.rb.text);
	ws.ops = ops_for(wk->o->kind);
	if (store_open(w->state_dir, &ws.s, &e) < 0) {
		mw_log(0, "output '%s': %s; its records stay in the store", wk->name, e.msg);
		snprintf(wk->error, sizeof(wk->error), "%s", e.msg);
		wk->failed = 1;
		goto out;
	}
	while (!atomic_load(&wk->stop)) {
		int finishing, fatal = 0, rc;
		int64_t now = worker_wait(wk, ws.next_try_ms ? ws.next_try_ms :
					  mw_mono_ms() + IDLE_POLL_MS, &finishing);

		if (atomic_load(&wk->stop))
			break;
		if (ws.next_try_ms && now < ws.next_try_ms)
			continue;
		ws.next_try_ms = 0;
		do {
			rc = deliver_batch(wk, &ws, &fatal, &e);
			/* Progress resets the backoff: a receiver that took a
			 * batch before failing again is back, not still down. */
			if (rc == 1)
				ws.backoff_ms = 0;
		} while (rc == 1 && !atomic_load(&wk->stop));
		if (rc == 0) {
			ws.backoff_ms = 0;
			ws.failing_since_ms = 0;
			set_state(wk, &ws, "ok", "");
			if (finishing) {
				wk->done = 1;
				break;
			}
			continue;
		}
		if (rc == 1)
			continue;  /* stopped between batches */
		if (atomic_load(&wk->stop))
			break;     /* an aborted send is no failure */
		if (!ws.failing_since_ms)
			ws.failing_since_ms = mw_mono_ms();
		output_count_failure(ws.s, wk->name);
		set_state(wk, &ws, fatal ? "error" : "retrying", e.msg);
		if (fatal) {
			ws.backoff_ms = FATAL_RETRY_MS;
		} else {
			ws.backoff_ms = ws.backoff_ms ? ws.backoff_ms * 2 : BACKOFF_MIN_MS;
			if (ws.backoff_ms > BACKOFF_MAX_MS)
				ws.backoff_ms = BACKOFF_MAX_MS;
		}
		ws.next_try_ms = mw_mono_ms() + ws.backoff_ms;
		if (w->once && (fatal || mw_mono_ms() - ws.failing_since_ms >= w->budget_ms)) {
			snprintf(wk->error, sizeof(wk->error), "%s", e.msg);
			wk->failed = 1;
			break;
		}
	}
out:
	if (ws.sk)
		ws.ops->close(ws.sk);
	if (ws.s)
		store_close(ws.s);
	free(ws.msgs);
	free(ws.rb.refs);
	mw_buf_free(&ws.rb.text);
	pthread_mutex_lock(&w->mu);
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* ---- the set of workers ----------------------------------------------------------- */

static int worker_start(struct sink_workers *w, const struct mw_output *o, mw_err *e)
{
	struct worker *wk = mw_xcalloc(1, sizeof(*wk));

	wk->w = w;
	wk->o = o;
	snprintf(wk->name, sizeof(wk->name), "%s", o->name);
	atomic_init(&wk->stop, 0);
	wk->kicked = 1;  /* deliver what is waiting at once */
	if (pthread_create(&wk->th, NULL, worker_main, wk) != 0) {
		mw_err_set(e, "output '%s': cannot start its thread", o->name);
		free(wk);
		return -1;
	}
	wk->started = 1;
	w->ws = mw_xrealloc(w->ws, (w->n + 1) * sizeof(*w->ws));
	w->ws[w->n++] = wk;
	return 0;
}

static void worker_stop(struct sink_workers *w, struct worker *wk)
{
	atomic_store(&wk->stop, 1);
	pthread_mutex_lock(&w->mu);
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (wk->started)
		pthread_join(wk->th, NULL);
	free(wk);
}

int sink_workers_start(const struct output_set *cfg, int once, int64_t budget_ms,
		       sink_workers **out, mw_err *e)
{
	struct sink_workers *w = mw_xcalloc(1, sizeof(*w));

	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->state_dir = mw_xstrdup(cfg->state_dir);
	w->once = once;
	w->budget_ms = budget_ms > 0 ? budget_ms : 10 * 60 * 1000;
	for (size_t i = 0; i < cfg->noutputs; i++) {
		if (!ops_for(cfg->outputs[i].kind))
			continue;
		if (worker_start(w, &cfg->outputs[i], e) < 0) {
			sink_workers_stop(w);
			return -1;
		}
	}
	*out = w;
	return 0;
}

void sink_workers_kick(sink_workers *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	for (size_t i = 0; i < w->n; i++)
		w->ws[i]->kicked = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* Whether a worker can go on with the new entry of a reloaded config. */
static int same_output(const struct mw_output *a, const struct mw_output *b)
{
	return a->kind == b->kind && mw_str_same(a->name, b->name) && mw_str_same(a->url, b->url) &&
	       mw_str_same(a->ca_file, b->ca_file) && mw_str_same(a->hostname, b->hostname) &&
	       mw_str_same(a->index, b->index) && mw_str_same(a->brokers, b->brokers) &&
	       mw_str_same(a->topic, b->topic) && mw_str_same(a->token.value, b->token.value) &&
	       mw_str_same(a->client_cert, b->client_cert) &&
	       mw_str_same(a->client_key, b->client_key) && mw_str_same(a->username, b->username) &&
	       mw_str_same(a->password.value, b->password.value) &&
	       mw_str_same(a->security_protocol, b->security_protocol) &&
	       mw_str_same(a->sasl_mechanism, b->sasl_mechanism) &&
	       mw_str_same(a->sasl_username, b->sasl_username) &&
	       mw_str_same(a->sasl_password.value, b->sasl_password.value) &&
	       a->batch == b->batch && a->batch_bytes == b->batch_bytes && a->timeout == b->timeout;
}

void sink_workers_reload(sink_workers *w, const struct output_set *cfg)
{
	struct worker **old;
	size_t nold;
	mw_err e;

	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	old = w->ws;
	nold = w->n;
	w->ws = NULL;
	w->n = 0;
	pthread_mutex_unlock(&w->mu);
	for (size_t i = 0; i < cfg->noutputs; i++) {
		const struct mw_output *o = &cfg->outputs[i];
		struct worker *keep = NULL;

		if (!ops_for(o->kind))
			continue;
		for (size_t j = 0; j < nold && !keep; j++)
			if (old[j] && same_output(old[j]->o, o))
				keep = old[j], old[j] = NULL;
		if (keep) {
			/* Same transport, same settings: the sink (and what a
			 * Kafka producer still holds) stays. */
			pthread_mutex_lock(&w->mu);
			keep->o = o;
			keep->kicked = 1;
			w->ws = mw_xrealloc(w->ws, (w->n + 1) * sizeof(*w->ws));
			w->ws[w->n++] = keep;
			pthread_mutex_unlock(&w->mu);
		} else if (worker_start(w, o, &e) < 0) {
			mw_log(0, "reload: %s", e.msg);
		}
	}
	for (size_t j = 0; j < nold; j++)
		if (old[j])
			worker_stop(w, old[j]);
	free(old);
	sink_workers_kick(w);
}

int sink_workers_finish(sink_workers *w, mw_err *e)
{
	int failed = 0;

	if (!w)
		return 0;
	pthread_mutex_lock(&w->mu);
	w->finishing = 1;
	for (size_t i = 0; i < w->n; i++)
		w->ws[i]->kicked = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	for (size_t i = 0; i < w->n; i++) {
		struct worker *wk = w->ws[i];

		if (wk->started) {
			pthread_join(wk->th, NULL);
			wk->started = 0;
		}
		if (wk->failed || !wk->done) {
			if (!failed)
				name_error(e->msg, sizeof(e->msg), wk->name,
					   wk->error[0] ? wk->error : "stopped before it was up to date");
			failed = 1;
		}
	}
	return failed ? -1 : 0;
}

void sink_workers_stop(sink_workers *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n; i++)
		worker_stop(w, w->ws[i]);
	free(w->ws);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w->state_dir);
	free(w);
}

/* ---- "send test record" ------------------------------------------------------------- */

static void test_line(mw_buf *line, const char *output, char id[48])
{
	char when[32], host[256] = "";
	int64_t now = mw_now();

	gethostname(host, sizeof(host) - 1);
	snprintf(id, 48, "test-%lld", (long long)mw_now_ms());
	mw_format_rfc3339(now, when);
	mw_buf_printf(line, "{\"integration\":\"mimewatch\",\"type\":\"test\",\"id\":\"%s\","
			    "\"time\":\"%s\",\"record\":{\"mimewatch\":\"test\",\"message\":"
			    "\"mimewatch test record\",\"output\":", id, when);
	jsonout_safe_string(line, output, strlen(output));
	mw_buf_puts(line, ",\"host\":");
	jsonout_safe_string(line, host, strlen(host));
	mw_buf_printf(line, ",\"time\":\"%s\"}}", when);
}

/* NDJSON: the files are data, so the test writes only a probe file. */
static int test_ndjson(const struct output_set *cfg, const struct mw_output *o, mw_buf *result)
{
	char dir[4096], probe[4200];
	mw_err e;
	int fd;

	outputs_ndjson_dir(cfg->state_dir, o, dir, sizeof(dir));
	if (mw_mkdir_p(dir, &e) < 0) {
		mw_buf_printf(result, "%s", e.msg);
		return -1;
	}
	snprintf(probe, sizeof(probe), "%s/.mimewatch-test-%ld", dir, (long)getpid());
	fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, "test\n", 5) != 5 || fsync(fd) < 0) {
		mw_buf_printf(result, "%s: cannot write there: %s; check the directory's owner, "
				      "mode and free space", dir, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(probe);
		}
		return -1;
	}
	close(fd);
	unlink(probe);
	mw_buf_printf(result, "%s is writable: records go to %s/<integration>/<type>/", dir, dir);
	return 0;
}

int output_send_test(const struct output_set *cfg, const char *name, atomic_int *abort_flag,
		     mw_buf *result)
{
	const struct mw_output *o = NULL;
	const struct sink_ops *ops;
	struct sink_opts so;
	struct sink_msg m;
	sink *sk = NULL;
	mw_buf line;
	char id[48];
	size_t delivered = 0;
	enum sink_fail why = SINK_RETRY;
	mw_err e;
	int64_t t0 = mw_mono_ms();
	int rc;

	for (size_t i = 0; i < cfg->noutputs && !o; i++)
		if (strcmp(cfg->outputs[i].name, name) == 0)
			o = &cfg->outputs[i];
	if (!o) {
		mw_buf_printf(result, "no output named '%s' in the config", name);
		return -1;
	}
	ops = ops_for(o->kind);
	if (!ops)
		return test_ndjson(cfg, o, result);
	fill_opts(o, &so, abort_flag);
	if (ops->open(&so, &sk, &e) < 0) {
		scrub_error(o, &e);
		mw_buf_printf(result, "%s; fix the output's settings in the config", e.msg);
		return -1;
	}
	mw_buf_init(&line);
	test_line(&line, o->name, id);
	m = (struct sink_msg){ line.data, line.len, "mimewatch", "test", id, mw_now(), 0 };
	mw_err_clear(&e);
	rc = ops->send(sk, &m, 1, &delivered, &why, &e);
	scrub_error(o, &e);
	ops->close(sk);
	if (rc == 0)
		mw_buf_printf(result, "test record %s delivered to %s %s in %lld ms", id,
			      output_type_name(o->kind), output_target(o),
			      (long long)(mw_mono_ms() - t0));
	else if (why == SINK_RETRY)
		mw_buf_printf(result, "%s; check that the receiver runs and this host can reach "
			      "it (records wait in the store meanwhile)", e.msg);
	else
		mw_buf_printf(result, "%s; fix the output's settings (url, token or key, "
			      "ca_file) or the receiver's", e.msg);
	mw_buf_free(&line);
	return rc;
}
