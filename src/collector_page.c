/* collector_page.c - one step of a job: ask Mimecast for one page of a
 * window, check and store its records and the cursor in one transaction,
 * and decide what comes next (the next page, the window's end, a retry,
 * a smaller page for a slow tenant, a loop that must be cut). See
 * HACKING, "Collecting exactly once". */
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

/* ---- one page ---------------------------------------------------------- */

static int is_threat(const js_doc *d, int rec, const struct mw_logtype *lt)
{
	int v = logtype_has_verdict(lt) ? js_get(d, rec, lt->threat_field) : -1;
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
void col_reject(collector *c, struct job *j, const js_doc *d, int rec, const char *why)
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

/* A newest-first page committed in time order: the store's rowid order is
 * what the preview and the outputs follow, so a poll's page reads as a
 * TTP page does (a backfill of many pages still stores later pages'
 * older records after the earlier pages' newer ones). */
static void reverse_rows(struct store_rec *rows, size_t n)
{
	for (size_t a = 0, b = n ? n - 1 : 0; a < b; a++, b--) {
		struct store_rec t = rows[a];

		rows[a] = rows[b];
		rows[b] = t;
	}
}

/* The oldest record time of a page inside its window (INT64_MAX: none). */
static int64_t page_min_time(const struct store_rec *rows, size_t n)
{
	int64_t t = INT64_MAX;

	for (size_t i = 0; i < n; i++)
		if (!rows[i].outside && rows[i].time < t)
			t = rows[i].time;
	return t;
}

/* Whether a page of nothing but records this window already received is
 * the tenant paging in a circle. Oldest first a page goes forward in time,
 * so one that ends at or before where the window already was, and after
 * what its overlap or a restart reads again, is. Newest first every page
 * goes back in time: one that reaches no further back than the pages
 * before it is; one that does is a re-read going back (after a reset, or
 * a restart from the window's start), which must go on to find the older
 * records it has not stored. */
static int dup_page_loops(struct job *j, int64_t max_time, int64_t min_time,
			  int64_t prev_progress)
{
	if (j->lt->newest_first)
		return min_time != INT64_MAX && min_time >= j->oldest_seen;
	return max_time > 0 && max_time <= prev_progress && max_time > j->expect_dup_until;
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
			col_reject(c, j, d, tok, "record is not a JSON object");
			continue;
		}
		tf = js_get(d, tok, lt->time_field);
		mw_buf_reset(sb);
		if (tf < 0 || js_str(d, tf, sb) < 0 ||
		    mw_parse_mc_date(sb->data, sb->len, &r->time) < 0) {
			col_reject(c, j, d, tok, "record has no valid time field");
			continue;
		}
		if (lt->id_field) {
			idf = js_get(d, tok, lt->id_field);
			mw_buf_reset(sb);
			if (idf < 0 || js_str(d, idf, sb) < 0 || sb->len == 0 || sb->len > 4096) {
				col_reject(c, j, d, tok, "record has no usable id");
				continue;
			}
			/* ids are C strings from here on: one cut at a NUL
			 * would merge distinct records into one */
			if (memchr(sb->data, '\0', sb->len)) {
				col_reject(c, j, d, tok, "record id contains U+0000");
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
		r->tok = tok;
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
		rows[i].keyed = lt->id_field != NULL;
		rows[i].json = c->page_json.data + refs[i].json_off;
		rows[i].json_len = refs[i].json_len;
		rows[i].doc = d;
		rows[i].tok = refs[i].tok;
	}
	*rows_out = rows;
	return n;
}

/* Whether an NDJSON output will take pages from the hand-off. */
static int has_ndjson(const struct mw_config *cfg)
{
	for (size_t i = 0; i < cfg->noutputs; i++)
		if (cfg->outputs[i].kind == MW_OUT_NDJSON)
			return 1;
	return 0;
}

void col_kick_outputs(collector *c)
{
	pthread_mutex_lock(&c->out_mu);
	c->out_pending = 1;
	/* Only a thread waiting for records needs waking: one that gathers a
	 * backfill's pages wakes at its own deadline, and a signal per page
	 * would cost it a useless wake-up each time. */
	if (c->out_idle)
		pthread_cond_signal(&c->out_cv);
	pthread_mutex_unlock(&c->out_mu);
	sink_workers_kick(c->sinks);
}

void col_schedule_next_poll(collector *c, struct job *j)
{
	j->due = mw_mono_ms() + j->in->interval * 1000;
	j->st.next_poll = mw_now() + j->in->interval;
	(void)c;
}

/* What a window that completes marks collected (store_cursor.covered_*):
 * a backfill's whole span; the source's own window from where it started
 * (horizon - overlap, or the lookback) or from the horizon, before which
 * everything was promised already, whichever is earlier (a restart may
 * have moved win_from on), to its end. */
static void window_covered(const struct job *j, struct store_cursor *next)
{
	next->covered_from = j->backfill ? j->bf_from
			     : j->cur.horizon > 0 && j->cur.horizon < next->win_from
				     ? j->cur.horizon : next->win_from;
	next->covered_to = next->win_to;
}

/* A backfill's window completed: its span is collected (the commit said
 * so); on to the next one queued, if any. */
static void backfill_done(collector *c, struct job *j)
{
	char f[32], t[32];

	mw_format_rfc3339(j->bf_from, f);
	mw_format_rfc3339(j->cur.win_to, t);
	col_event(c, j, "backfill finished", "%s to %s, %lld new records", f, t,
		  (long long)j->poll_new);
	j->poll_new = 0;
	col_backfill_load(c, j);
	col_wake_listeners(c);
}

/* A window completed (or there was nothing to ask for). */
static void window_done(collector *c, struct job *j)
{
	if (j->backfill) {
		backfill_done(c, j);
		return;
	}
	j->st.records_last_poll = j->poll_new;
	j->st.last_success = mw_now();
	j->poll_new = 0;
	j->rep.horizon = j->cur.horizon;
	if (c->opts.once && j->cur.horizon >= c->target - j->in->lag) {
		j->done = 1;
		col_put_status(c, j, "idle");
		return;
	}
	/* A window the type's window_max cut short leaves the rest to read:
	 * in once mode as always, and otherwise too, at once rather than an
	 * interval later. */
	if (c->opts.once || (j->lt->window_max > 0 &&
			     j->cur.horizon < mw_now() - j->in->lag - j->in->interval)) {
		j->due = mw_mono_ms();
		j->st.next_poll = mw_now();
		col_put_status(c, j, "collecting");
		return;
	}
	col_schedule_next_poll(c, j);
	col_put_status(c, j, "idle");
}

void col_on_failure(collector *c, struct job *j, const struct mc_result *r)
{
	int64_t now = mw_mono_ms();
	char why[400];

	j->rep.last = *r;
	col_set_error(j, r);
	metrics_tally_add(c->tally, j->in->name, j->lt->name, MX_ERRORS + r->cls, 1);
	col_reason(r, why, sizeof(why));
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
			col_event(c, j, "gave up", "the retry budget ran out: %s", why);
			col_put_status(c, j, "error");
			return;
		}
		if (throttled) {
			metrics_tally_add(c->tally, j->in->name, j->lt->name, MX_RATE_LIMIT_WAITS, 1);
			/* The client set not_before for every type on these credentials. */
			j->due = mc_client_not_before(j->cred->client);
			j->backoff = 0;
			if (c->opts.retry_budget_ms > 0 &&
			    j->due - j->retry_since > c->opts.retry_budget_ms) {
				/* Waiting out the reset would overrun the budget. */
				j->failed = 1;
				col_event(c, j, "gave up", "waiting out the rate limit would overrun "
					  "the retry budget: %s", why);
				col_put_status(c, j, "error");
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
		if (r->http_status == 429 && r->rl_reset_ms >= 0)
			col_event(c, j, "429 wait", "every type on these credentials waits %.1f s "
				  "(X-RateLimit-Reset %lld ms)", (double)(j->due - now) / 1000.0,
				  (long long)r->rl_reset_ms);
		else if (r->http_status == 429)
			col_event(c, j, "429 wait", "every type on these credentials waits %.1f s "
				  "(%s)", (double)(j->due - now) / 1000.0, why);
		else
			col_event(c, j, "retry", "%s; next try in %.1f s", why,
				  (double)(j->due - now) / 1000.0);
		col_put_status(c, j, throttled ? "throttled" : "retrying");
		return;
	}
	/* Needs a person: fetch reports it, run tries again each interval (the
	 * config may be fixed and reloaded meanwhile). */
	col_event(c, j, "error", "%s", why);
	if (c->opts.once) {
		j->failed = 1;
		col_put_status(c, j, "error");
		return;
	}
	col_schedule_next_poll(c, j);
	col_put_status(c, j, "error");
}

/* status.warning: what collection goes on despite, from its two sources. */
void col_set_warning(struct job *j)
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
	col_set_warning(j);
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
void col_loop_watch_reset(struct job *j, int64_t expect_dup_until)
{
	j->ntokens = 0;
	j->dup_pages = 0;
	j->expect_dup_until = expect_dup_until;
	j->oldest_seen = INT64_MAX;
}

/* Where a window read again from a point starts: oldest first, from the
 * newest record received (progress) less what the caller subtracts; newest
 * first the unread part is the window's older end, so it is read again from
 * its start (HACKING, "Newest-first windows"). */
static int64_t reread_from(const struct job *j, int64_t win_from, int64_t progress)
{
	return j->lt->newest_first ? win_from : progress;
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
	back = window_pull_back(newest, from, to);
	mw_format_rfc3339(j->cur.horizon, was);
	mw_format_rfc3339(back, now_s);
	mw_format_rfc3339(to, to_s);
	j->win_warn_at = mw_now();
	snprintf(j->win_warn, sizeof(j->win_warn),
		 "the horizon %.20s was ahead of this host's clock less lag (%.20s), as after a "
		 "clock that ran fast: pulled back to %.20s, the newest record stored in its "
		 "window", was, to_s, now_s);
	col_set_warning(j);
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
		j->cur.win_from = reread_from(j, j->cur.win_from, j->cur.win_progress);
	j->cur.page_token[0] = '\0';
	j->cur.win_received = 0;
	col_loop_watch_reset(j, j->cur.win_progress);
	if (store_commit_page(c->store, j->source, NULL, 0, &j->cur, &pr, &e) < 0)
		return 0;
	mw_log(1, "%s/%s: a page was too slow to arrive; asking again from the newest record "
		  "received with pageSize %d", j->in->name, j->lt->name, j->page_size);
	j->rep.retries++;
	j->rep.last = *res;
	if (!j->retry_since)
		j->retry_since = mw_mono_ms();
	col_event(c, j, "retry", "a page was too slow to arrive: asking again from the newest "
		  "record received with pageSize %d", j->page_size);
	snprintf(res->remedy + strlen(res->remedy), sizeof(res->remedy) - strlen(res->remedy),
		 "; asked again from the newest record received, %d records a page",
		 j->page_size);
	col_set_error(j, res);
	metrics_tally_add(c->tally, j->in->name, j->lt->name, MX_ERRORS + res->cls, 1);
	j->due = mw_mono_ms();
	col_put_status(c, j, "retrying");
	return 1;
}

/* "FROM to TO" of a window, for its events. */
static void window_text(int64_t from, int64_t to, char out[80])
{
	char f[32], t[32];

	mw_format_rfc3339(from, f);
	mw_format_rfc3339(to, t);
	snprintf(out, 80, "%s to %s", f, t);
}

/* API 2.0 tokens the last request obtained: an event each (there is one
 * client, so one event, per set of credentials). */
static void token_events(collector *c, struct job *j)
{
	struct mc_token_info ti;
	char text[120];
	mw_err e;

	mc_client_token_info(j->cred->client, &ti);
	if (ti.obtained == j->cred->tokens_seen)
		return;
	/* the credentials', not the type's: the integration alone */
	snprintf(text, sizeof(text), "API 2.0 token %s (valid %lld s)",
		 j->cred->tokens_seen == 0 ? "obtained"
		 : ti.after_401 > j->cred->after_401_seen ? "renewed after a 401"
		 : "renewed before it expired",
		 (long long)(ti.ttl_ms / 1000));
	if (store_event_add(c->store, j->in->name, "", "token refreshed", text, &e) < 0)
		mw_log(1, "cannot record an event: %s", e.msg);
	j->cred->tokens_seen = ti.obtained;
	j->cred->after_401_seen = ti.after_401;
}

void col_step(collector *c, struct job *j)
{
	struct mc_page_req req;
	struct mc_result res;
	struct store_cursor next;
	struct store_page_result pr, closed;
	struct store_rec *rows = NULL;
	size_t nrows;
	struct window_page wp;
	int64_t max_time = 0, min_time, sent, prev_progress;
	const char *loop = NULL;
	int loops;
	mw_err e;

	if (j->lt->shape == MW_SHAPE_BATCH) {
		col_batch_step(c, j);
		return;
	}
	if (!j->cur.in_window && j->backfill) {
		j->done = 1;    /* nothing queued */
		return;
	}
	if (!j->cur.in_window) {
		int64_t now = mw_now();
		int64_t to = now - j->in->lag;
		int64_t from;

		if (j->cur.horizon > to)
			pull_back_horizon(c, j, to);
		if (!window_bounds(j->cur.horizon, now, j->in->lag, j->in->overlap,
				   logtype_lookback(j->lt, j->in->lookback), &from, &to)) {
			/* Nothing new can be asked for yet: fetch is done with it. */
			if (c->opts.once) {
				j->done = 1;
				col_put_status(c, j, "idle");
				return;
			}
			window_done(c, j);
			return;
		}
		/* Nothing older than the type's retention is kept by Mimecast,
		 * where it says so (HACKING, "Retention"): a horizon from a long
		 * outage or a reset asks no further back. The horizon comes
		 * forward with it, so coverage shows what lies between as a gap
		 * rather than as collected. */
		if (j->lt->clamped && j->lt->retention > 0 && from < now - j->lt->retention) {
			from = now - j->lt->retention;
			if (j->cur.horizon && j->cur.horizon < from) {
				char was[32], f[32];

				mw_format_rfc3339(j->cur.horizon, was);
				mw_format_rfc3339(from, f);
				col_event_defer(c, j, "retention", "horizon %s is older than the "
						"%lld days Mimecast keeps %s: reading from %s",
						was, (long long)(j->lt->retention / 86400),
						j->lt->kept_as, f);
				j->cur.horizon = from;
			}
		}
		if (j->lt->window_max > 0 && to - from > j->lt->window_max)
			to = from + j->lt->window_max;
		j->cur.in_window = 1;
		j->cur.win_from = from;
		j->cur.win_to = to;
		j->cur.win_progress = from;
		j->cur.page_token[0] = '\0';
		j->cur.win_received = 0;
		j->cur.win_restarted = 0;
		j->poll_new = 0;
		j->page_size = j->in->page_size;
		col_loop_watch_reset(j, j->cur.horizon);
		{
			char w[80];

			/* recorded by the commit that stores the window */
			window_text(from, to, w);
			col_event_defer(c, j, "window started", "%s", w);
		}
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
		col_put_status(c, j, "collecting");
	/* fetch's retry budget also bounds a request in flight */
	mc_client_set_deadline(j->cred->client,
			       c->opts.retry_budget_ms > 0 && j->retry_since
				       ? j->retry_since + c->opts.retry_budget_ms + BUDGET_GRACE_MS
				       : 0);
	sent = mc_client_requests(j->cred->client);
	mc_get_logs_page(j->cred->client, &req, &c->resp, &c->page, &res);
	sent = mc_client_requests(j->cred->client) - sent;
	j->rep.requests += sent;
	metrics_tally_add(c->tally, j->in->name, j->lt->name, MX_REQUESTS, sent);
	if (c->stop)
		return; /* an aborted transfer commits nothing */
	token_events(c, j);
	if (c->opts.retry_budget_ms > 0 && j->retry_since &&
	    mw_mono_ms() - j->retry_since > c->opts.retry_budget_ms &&
	    strcmp(res.code, "CURLE_ABORTED_BY_CALLBACK") == 0) {
		/* The budget ran out during the last try: what failed before it
		 * is what fetch reports. */
		j->rep.retries++;
		j->failed = 1;
		col_put_status(c, j, "error");
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
		 * the stored records end, less the overlap (newest first: from its
		 * start, once); dedup absorbs repeats. */
		int64_t from = j->cur.win_from;

		if (j->lt->newest_first ? j->cur.win_restarted
					: !window_token_restart(j->cur.win_from, j->cur.win_progress,
								j->in->overlap, &from)) {
			/* Restarting would ask for the same pages again (newest
			 * first: the whole window was already read again once). */
			col_on_failure(c, j, &res);
			return;
		}
		if (j->lt->newest_first)
			j->cur.win_restarted = 1;
		j->cur.win_from = from;
		j->cur.page_token[0] = '\0';
		j->cur.win_received = 0;
		col_loop_watch_reset(j, j->cur.win_progress);
		if (store_commit_page(c->store, j->source, NULL, 0, &j->cur, &pr, &e) < 0) {
			col_local_failure(&res, "store", e.msg, "check the disk and the state directory");
			res.cls = MC_RETRY;
			col_on_failure(c, j, &res);
			return;
		}
		j->rep.retries++;
		j->due = mw_mono_ms();
		{
			char f[32];

			mw_format_rfc3339(from, f);
			col_event(c, j, "retry", "the page token was refused (HTTP %ld): reading "
				  "the window again from %s", res.http_status, f);
		}
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
		col_on_failure(c, j, &res);
		return;
	}
	j->app_id_retried = 0;

	nrows = page_rows(c, j, &rows, &max_time);
	if (j->lt->newest_first)
		reverse_rows(rows, nrows);
	min_time = page_min_time(rows, nrows);
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
		 * the overlap's dedup absorbs what comes twice. Newest first there
		 * is no such point: the page is a failure (it is asked again, and
		 * said), never a window closed short. */
		if (j->lt->newest_first) {
			col_local_failure(&res, "page token", "the next page token is longer than "
					  "mimewatch keeps", "report this as a mimewatch bug");
			res.cls = MC_RETRY;
			col_on_failure(c, j, &res);
			return;
		}
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
		next.win_from = reread_from(j, next.win_from,
					    window_restart_from(next.win_from, next.win_progress,
								j->in->overlap));
		next.page_token[0] = '\0';
		next.win_received = 0;
		next.win_restarted = 1;
		col_loop_watch_reset(j, next.win_progress);
		col_event_defer(c, j, "window restarted", "the tenant counts %lld records, %lld "
				"were received: reading once more from the newest",
				(long long)c->page.total_count, (long long)wp.received);
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
		col_set_warning(j);
		{
			char w[80];
			int warned = loop || (wp.restarted && wp.total_count > wp.received);

			window_text(next.win_from, next.win_to, w);
			col_event_defer(c, j, "window finished", "%s, %lld records received%s%s", w,
					(long long)next.win_received, warned ? "; " : "",
					warned ? j->win_warn : "");
		}
		window_covered(j, &next);
		if (!j->backfill)
			next.horizon = next.win_to;
		next.in_window = 0;
		next.page_token[0] = '\0';
		next.win_received = 0;
		next.win_restarted = 0;
		break;
	}
	if (store_commit_page(c->store, j->source, rows, nrows, &next, &pr, &e) < 0) {
		col_local_failure(&res, strstr(e.msg, "disk full") ? "disk full" : "store", e.msg,
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
		col_on_failure(c, j, &res);
		return;
	}
	j->cur = next;
	j->cur.covered_from = j->cur.covered_to = 0;    /* marked once */
	if (j->cur.in_window && j->cur.page_token[0] && c->page.next &&
	    strcmp(j->cur.page_token, c->page.next) == 0)
		token_followed(j, c->page.next);
	/* Pages of nothing but records this window already received, going
	 * round (dup_page_loops): a few in a row close the window. (A reset or
	 * an overlap re-reads stored records too, but moving on in time.) */
	loops = nrows > 0 && pr.inserted == 0 && pr.revised == 0 && j->cur.in_window &&
		dup_page_loops(j, max_time, min_time, prev_progress);
	if (min_time < j->oldest_seen)
		j->oldest_seen = min_time;
	if (loops) {
		if (++j->dup_pages >= LOOP_DUP_PAGES) {
			snprintf(j->win_warn, sizeof(j->win_warn),
				 "pagination did not end (%d pages of records this window had "
				 "already received): the window was closed after %lld records",
				 j->dup_pages, (long long)j->cur.win_received);
			mw_log(0, "%s/%s: %s", j->in->name, j->lt->name, j->win_warn);
			j->win_warn_at = mw_now();
			col_set_warning(j);
			{
				char w[80];

				window_text(j->cur.win_from, j->cur.win_to, w);
				col_event_defer(c, j, "window finished", "%s, %lld records received; %s",
						w, (long long)j->cur.win_received, j->win_warn);
			}
			window_covered(j, &j->cur);
			if (!j->backfill)
				j->cur.horizon = j->cur.win_to;
			j->cur.in_window = 0;
			j->cur.page_token[0] = '\0';
			j->cur.win_received = 0;
			j->cur.win_restarted = 0;
			if (store_commit_page(c->store, j->source, NULL, 0, &j->cur, &closed, &e) < 0)
				mw_log(0, "%s/%s: %s", j->in->name, j->lt->name, e.msg);
			j->cur.covered_from = j->cur.covered_to = 0;
		}
	} else {
		j->dup_pages = 0;
	}
	j->rep.new_records += pr.inserted;
	j->rep.duplicates += pr.duplicates;
	j->rep.revised += pr.revised;
	j->rep.last = res;
	j->poll_new += pr.inserted;
	col_clear_error(j);
	if (pr.inserted > 0) {
		j->st.last_new_at = mw_now();
		if (max_time > j->st.last_record_time)
			j->st.last_record_time = max_time;
	}
	if (pr.first_rowid > 0 && c->out_started && has_ndjson(c->cfg))
		output_handoff_push(c->handoff, pr.first_rowid, j->in->name, j->lt->name, rows,
				    (size_t)nrows, mw_now());
	if (pr.inserted > 0 || pr.revised > 0)
		col_kick_outputs(c);
	/* Progress: the failures in a row, if any, are over. */
	j->retry_since = 0;
	j->backoff = 0;
	if (!j->cur.in_window) {
		window_done(c, j);
	} else {
		j->due = mw_mono_ms();
		if (strcmp(j->st.state, "collecting") != 0 ||
		    mw_mono_ms() - j->status_at >= STATUS_EVERY_MS)
			col_put_status(c, j, "collecting");
	}
}
