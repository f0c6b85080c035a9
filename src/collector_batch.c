/* collector_batch.c - one step of a batch type's job (SIEM on API 2.0):
 * list a sub-type's day, or take one listed file, its records, its ledger
 * row and the listing cursor committed in one transaction. See HACKING,
 * "Batch files". */
#include "collector_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonout.h"

#define DAY 86400
/* Tries of one file (cut short, not gzip, its link refused each time
 * after a fresh listing) before it is skipped with a warning. */
#define FILE_TRIES 5
/* Listings in a row that bring no file not taken before: the tenant pages
 * in a circle (HACKING, "Pagination loops"), and the listing ends. */
#define STALE_LISTINGS 3

/* A sub-type's reading: its day, where that day's listing resumes, and the
 * listing in hand. */
struct batch_sub {
	int on;                 /* collected (siem_types) */
	int64_t day;            /* 00:00 UTC of the day being read */
	char next_page[1024];   /* the listing token the day resumes from */
	char used_page[1024];   /* the one list came from */
	struct mc_batch_list list;
	size_t at;              /* list.files[at] is next */
	int have_list;
	int caught_up;          /* today is read to its end this poll */
	int tries;              /* failures in a row of list.files[at] */
	int fresh;              /* files of the listing in hand taken now */
	int stale;              /* listings in a row with no such file */
};

/* The file being taken: its records as store rows. */
struct take {
	collector *c;
	struct job *j;
	size_t n;
	int64_t max_time;
	int failed;
};

static int64_t day_of(int64_t t)
{
	return t - ((t % DAY) + DAY) % DAY;
}

static void day_text(int64_t day, char out[16])
{
	char t[32];

	mw_format_rfc3339(day, t);
	snprintf(out, 16, "%.10s", t);
}

/* A store call failed: retried with backoff, as a full disk is. */
static void store_failed(collector *c, struct job *j, const mw_err *e)
{
	struct mc_result res;

	col_local_failure(&res, "store", e->msg, "check the state directory and its disk");
	res.cls = MC_RETRY;
	col_on_failure(c, j, &res);
}

void col_batch_free(struct job *j)
{
	for (size_t i = 0; j->subs && i < j->nsubs; i++)
		mc_batch_list_free(&j->subs[i].list);
	free(j->subs);
	j->subs = NULL;
	j->nsubs = 0;
}

/* The first day a sub-type reads: lookback, clamped to what Mimecast
 * keeps (7 days; an older start is refused). */
static int64_t first_day(const struct job *j)
{
	return day_of(mw_now() - logtype_lookback(j->lt, j->in->lookback));
}

/* Loads each sub-type's day and listing token from the store. */
static int subs_load(collector *c, struct job *j, mw_err *e)
{
	unsigned mask = j->in->siem_types ? j->in->siem_types
					  : logtype_subtype_default(j->lt, j->in->types);

	j->nsubs = j->lt->nsubtypes;
	j->subs = mw_xcalloc(j->nsubs, sizeof(*j->subs));
	for (size_t i = 0; i < j->nsubs; i++) {
		struct batch_sub *b = &j->subs[i];
		int rc;

		b->on = (mask >> i) & 1;
		rc = store_batch_cursor(c->store, j->source, j->lt->subtypes[i].name, &b->day,
					b->next_page, sizeof(b->next_page), e);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			b->day = first_day(j);
			b->next_page[0] = '\0';
		} else if (b->day < day_of(mw_now() - j->lt->retention)) {
			/* older than Mimecast keeps (an outage of over a week; an
			 * older start is refused [SEK-CHANGES]): from the oldest
			 * day it still has, the days between said */
			char was[16];

			day_text(b->day, was);
			b->day = day_of(mw_now() - j->lt->retention);
			b->next_page[0] = '\0';
			col_event_defer(c, j, "retention", "%s: day %s is older than the %lld days "
					"Mimecast keeps %s: reading from the oldest kept",
					j->lt->subtypes[i].name, was,
					(long long)(j->lt->retention / DAY), j->lt->kept_as);
		}
	}
	return 0;
}

/* The source's horizon: the oldest day still being read (what lies
 * before it was read by every sub-type); once every sub-type reads today,
 * what the last complete poll reached (poll_done), so status's lag says
 * how far behind today's files collection is, not the hours since
 * midnight. */
static int64_t batch_horizon(const struct job *j)
{
	int64_t h = INT64_MAX;

	for (size_t i = 0; i < j->nsubs; i++)
		if (j->subs[i].on && j->subs[i].day < h)
			h = j->subs[i].day;
	if (h == INT64_MAX)
		return j->cur.horizon;
	return h >= day_of(mw_now()) && j->cur.horizon > h ? j->cur.horizon : h;
}

/* Commits the source's cursor at horizon h with records and b (b NULL:
 * the cursor alone); the span the horizon passed is marked collected
 * (store_cursor.covered_*), as a paged window's end marks its own. */
static int commit_at(collector *c, struct job *j, int64_t h, const struct store_rec *rows,
		     size_t n, const struct store_batch *b, struct store_page_result *pr)
{
	struct store_cursor cur = j->cur;
	mw_err e;

	cur.horizon = h;
	cur.in_window = 0;
	cur.covered_from = cur.covered_to = 0;
	if (j->cur.horizon > 0 && h > j->cur.horizon) {
		cur.covered_from = j->cur.horizon;
		cur.covered_to = h;
	}
	if ((b ? store_commit_batch(c->store, j->source, rows, n, &cur, b, pr, &e)
	       : store_commit_page(c->store, j->source, rows, n, &cur, pr, &e)) < 0) {
		store_failed(c, j, &e);
		return -1;
	}
	cur.covered_from = cur.covered_to = 0;   /* marked once */
	j->cur = cur;
	j->rep.horizon = cur.horizon;
	return 0;
}

/* A record's time: API 2.0's timestamp in epoch ms, API 1.0's datetime
 * in the +0000 form. 0 and *t, or -1. */
static int record_time(const struct job *j, const js_doc *d, int rec, mw_buf *sb, int64_t *t)
{
	int api1 = j->in->api != 2 && j->lt->time_field_v1;
	int tf = js_get(d, rec, api1 ? j->lt->time_field_v1 : j->lt->time_field);
	int64_t ms;

	if (tf < 0)
		return -1;
	if (api1) {
		mw_buf_reset(sb);
		return js_str(d, tf, sb) < 0 ? -1 : mw_parse_mc_date(sb->data, sb->len, t);
	}
	if (js_int(d, tf, &ms) < 0 || ms <= 0)
		return -1;
	*t = ms / 1000;
	return 0;
}

/* Record rec of d: a store row of the file being taken, or set aside. */
static void take_record(struct take *t, const js_doc *d, int rec)
{
	collector *c = t->c;
	int64_t when;
	char id[65];
	struct rec_ref *r;

	if (d->toks[rec].type != JS_OBJECT) {
		col_reject(c, t->j, d, rec, "record is not a JSON object");
		return;
	}
	if (record_time(t->j, d, rec, &c->scratch, &when) < 0) {
		col_reject(c, t->j, d, rec, "record has no valid time field");
		return;
	}
	if (t->n >= c->rows_cap) {
		c->rows_cap = t->n * 2 + 64;
		c->refs = mw_xrealloc(c->refs, c->rows_cap * sizeof(*c->refs));
		c->rows = mw_xrealloc(c->rows, c->rows_cap * sizeof(*c->rows));
	}
	r = &c->refs[t->n++];
	memset(r, 0, sizeof(*r));
	r->time = when;
	jsonout_canonical_id(d, rec, &c->scratch, id);
	r->id_off = c->page_json.len;
	r->id_len = 64;
	mw_buf_append(&c->page_json, id, 65);
	r->json_off = c->page_json.len;
	jsonout_safe(&c->page_json, d, rec);
	r->json_len = c->page_json.len - r->json_off;
	mw_buf_putc(&c->page_json, '\0');
	if (r->time > t->max_time)
		t->max_time = r->time;
}

/* One NDJSON line: a store row, or set aside. */
static int take_line(void *ud, const char *p, size_t n)
{
	struct take *t = ud;
	js_doc d;
	mw_err e;

	js_init(&d);
	if (js_parse(&d, p, n, &e) < 0) {
		/* kept as a JSON string in the rejects file */
		mw_buf s;

		mw_buf_init(&s);
		jsonout_safe_string(&s, p, n);
		js_free(&d);
		js_init(&d);
		if (js_parse(&d, s.data, s.len, &e) == 0)
			col_reject(t->c, t->j, &d, 0, "line is not JSON");
		mw_buf_free(&s);
	} else {
		take_record(t, &d, 0);
	}
	js_free(&d);
	return 0;
}

/* The file's rows, pointing into page_json now that it no longer moves. */
static struct store_rec *take_rows(collector *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct store_rec *row = &c->rows[i];

		memset(row, 0, sizeof(*row));
		row->id = c->page_json.data + c->refs[i].id_off;
		row->time = c->refs[i].time;
		row->json = c->page_json.data + c->refs[i].json_off;
		row->json_len = c->refs[i].json_len;
	}
	return c->rows;
}

/* Commits records (n may be 0), the file's ledger row (key NULL: none)
 * and the sub-type's cursor. */
static int commit_file(collector *c, struct job *j, struct batch_sub *b, size_t sub,
		       const char *key, size_t n, struct store_page_result *pr)
{
	struct store_batch sb = { j->lt->subtypes[sub].name, b->day, key, b->next_page };

	return commit_at(c, j, batch_horizon(j), n ? take_rows(c, n) : NULL, n, &sb, pr);
}

/* A file given up after FILE_TRIES: said in status and as an event. */
static void skip_file(collector *c, struct job *j, struct batch_sub *b, const char *key,
		      const struct mc_result *res)
{
	char d[16], why[400];

	day_text(b->day, d);
	col_reason(res, why, sizeof(why));
	j->files_skipped++;
	snprintf(j->win_warn, sizeof(j->win_warn), "%lld batch files skipped; the last, %.60s of "
		 "%s, after %d tries: %.70s", (long long)j->files_skipped, key, d, FILE_TRIES, why);
	j->win_warn_at = mw_now();
	col_set_warning(j);
	col_event(c, j, "file skipped", "%s", j->win_warn);
	mw_log(0, "%s/%s: %s", j->in->name, j->lt->name, j->win_warn);
}

/* Past the listing's last file: the day's listing resumes from its
 * @nextPage (or from where this listing began, when it gave none). */
static void list_done(struct batch_sub *b)
{
	if (b->list.next_page && strlen(b->list.next_page) < sizeof(b->next_page))
		snprintf(b->next_page, sizeof(b->next_page), "%s", b->list.next_page);
	mc_batch_list_free(&b->list);
	b->have_list = 0;
	b->at = 0;
}

/* A file failed (res): tried again with backoff, or skipped at last. */
static void file_failed(collector *c, struct job *j, struct batch_sub *b, size_t sub,
			const char *key, const struct mc_result *res)
{
	struct store_page_result pr;

	if (++b->tries < FILE_TRIES) {
		col_on_failure(c, j, res);
		return;
	}
	skip_file(c, j, b, key, res);
	b->tries = 0;
	if (++b->at == b->list.nfiles) {
		list_done(b);
		commit_file(c, j, b, sub, NULL, 0, &pr);
	}
	j->due = mw_mono_ms();
}

/* The day's listing has no more: a past day is done (on to the next),
 * today is read for this poll. */
static void listing_ended(collector *c, struct job *j, struct batch_sub *b, size_t sub)
{
	struct store_page_result pr;
	char d[16];

	b->stale = 0;
	if (b->day >= day_of(mw_now())) {
		b->caught_up = 1;
		return;
	}
	day_text(b->day, d);
	col_event_defer(c, j, "day finished", "%s %s", j->lt->subtypes[sub].name, d);
	b->day += DAY;
	b->next_page[0] = '\0';
	commit_file(c, j, b, sub, NULL, 0, &pr);
}

/* A listing consumed that brought nothing new: after STALE_LISTINGS in a
 * row the tenant is paging in a circle; the listing ends, said. 1 when it
 * did. */
static int listing_loops(collector *c, struct job *j, struct batch_sub *b, size_t sub)
{
	char d[16];

	b->stale = b->fresh ? 0 : b->stale + 1;
	b->fresh = 0;
	if (b->stale < STALE_LISTINGS)
		return 0;
	day_text(b->day, d);
	snprintf(j->win_warn, sizeof(j->win_warn), "pagination did not end (%d listings of %s "
		 "%s brought no file not taken before): the listing was closed",
		 STALE_LISTINGS, j->lt->subtypes[sub].name, d);
	j->win_warn_at = mw_now();
	col_set_warning(j);
	col_event(c, j, "listing closed", "%s", j->win_warn);
	listing_ended(c, j, b, sub);
	return 1;
}

/* A file committed: the counts, and the failures in a row are over. */
static void took(collector *c, struct job *j, const struct store_page_result *pr,
		 int64_t max_time)
{
	j->retry_since = 0;
	j->backoff = 0;
	col_clear_error(j);
	j->rep.new_records += pr->inserted;
	j->rep.duplicates += pr->duplicates;
	j->poll_new += pr->inserted;
	if (pr->inserted > 0) {
		j->st.last_new_at = mw_now();
		if (max_time > j->st.last_record_time)
			j->st.last_record_time = max_time;
		col_kick_outputs(c);
	}
	j->due = mw_mono_ms();
}

/* Takes list.files[at] of sub-type sub: downloads it whole, then commits. */
static void take_file(collector *c, struct job *j, struct batch_sub *b, size_t sub)
{
	const char *url = b->list.files[b->at].url;
	char *key = mc_batch_file_key(url);
	struct take t = { c, j, 0, 0, 0 };
	struct store_page_result pr;
	struct mc_result res;
	int taken = 0, expired, last;
	mw_err e;
	int64_t sent;

	if (store_batch_taken(c->store, j->source, j->lt->subtypes[sub].name, b->day, key,
			      &taken, &e) < 0) {
		store_failed(c, j, &e);
		free(key);
		return;
	}
	last = b->at + 1 == b->list.nfiles;
	if (!taken) {
		mw_buf_reset(&c->page_json);
		sent = mc_client_requests(j->cred->client);
		expired = mc_batch_file(j->cred->client, url, take_line, &t, &res);
		j->rep.requests += mc_client_requests(j->cred->client) - sent;
		if (c->stop) {
			free(key);
			return;  /* an aborted transfer commits nothing */
		}
		if (expired && b->tries + 1 < FILE_TRIES) {
			/* A fresh listing from where this one began gives fresh
			 * links (never a file skipped, as [ELA-SIEM-CEL] does);
			 * the ledger skips the files already taken. */
			b->tries++;
			j->rep.retries++;
			mc_batch_list_free(&b->list);
			b->have_list = 0;
			b->at = 0;
			col_event(c, j, "retry", "the link of %s had expired (HTTP %ld): listing "
				  "again", key, res.http_status);
			j->due = mw_mono_ms();
			free(key);
			return;
		}
		if (res.cls != MC_OK) {
			file_failed(c, j, b, sub, key, &res);
			free(key);
			return;
		}
	}
	if (last)
		list_done(b);
	if (commit_file(c, j, b, sub, taken ? NULL : key, t.n, &pr) < 0) {
		/* nothing of it stored: list again from where the store is */
		snprintf(b->next_page, sizeof(b->next_page), "%s", b->used_page);
		mc_batch_list_free(&b->list);
		b->have_list = 0;
		b->at = 0;
		free(key);
		return;
	}
	b->fresh += !taken;
	if (last)
		listing_loops(c, j, b, sub);
	else
		b->at++;
	b->tries = 0;
	took(c, j, &pr, t.max_time);
	free(key);
}

/* Lists the sub-type's day from its token; an empty listing ends a past
 * day (on to the next) or, for today, this poll's reading of it. */
static void list_day(collector *c, struct job *j, struct batch_sub *b, size_t sub)
{
	struct mc_result res;
	int64_t sent;

	sent = mc_client_requests(j->cred->client);
	mc_batch_list(j->cred->client, j->lt, j->lt->subtypes[sub].wire, b->day,
		      j->in->page_size, b->next_page, &c->resp, &b->list, &res);
	j->rep.requests += mc_client_requests(j->cred->client) - sent;
	if (c->stop)
		return;
	if (res.cls != MC_OK) {
		mc_batch_list_free(&b->list);
		col_on_failure(c, j, &res);
		return;
	}
	j->retry_since = 0;
	j->backoff = 0;
	col_clear_error(j);
	j->due = mw_mono_ms();
	if (b->list.nfiles > 0) {
		snprintf(b->used_page, sizeof(b->used_page), "%s", b->next_page);
		b->have_list = 1;
		b->at = 0;
		return;
	}
	/* [ELA-SIEM-CEL] [AZ-V2-CG]: pages follow while value is not empty */
	if (b->list.next_page && strlen(b->list.next_page) < sizeof(b->next_page))
		snprintf(b->next_page, sizeof(b->next_page), "%s", b->list.next_page);
	mc_batch_list_free(&b->list);
	listing_ended(c, j, b, sub);
}

/* Every collected sub-type read up to today's end: the poll is over, and
 * every file listed when it began is read. */
static void poll_done(collector *c, struct job *j)
{
	struct store_page_result pr;

	if (j->poll_from > j->cur.horizon && commit_at(c, j, j->poll_from, NULL, 0, NULL, &pr) < 0)
		return;
	j->poll_from = 0;
	j->st.records_last_poll = j->poll_new;
	j->st.last_success = mw_now();
	j->poll_new = 0;
	for (size_t i = 0; i < j->nsubs; i++)
		j->subs[i].caught_up = 0;
	if (c->opts.once) {
		j->done = 1;
		col_put_status(c, j, "idle");
		return;
	}
	col_schedule_next_poll(c, j);
	col_put_status(c, j, "idle");
}

/* API 1.0's one stream (type MTA [MC-SIEM1]): its token is this cursor's. */
#define SIEM1_CURSOR "MTA"

/* API 1.0 (HACKING, "Batch files"): the file after the stored token, its
 * records and the next token committed in one transaction; no file left
 * ends the poll, the token kept. */
static void siem1_step(collector *c, struct job *j)
{
	struct store_batch sb = { SIEM1_CURSOR, 0, NULL, NULL };
	struct take t = { c, j, 0, 0, 0 };
	struct store_page_result pr;
	struct mc_siem1 f;
	struct mc_result res;
	char token[1024] = "";
	int64_t day, sent;
	mw_err e;
	int tok;

	if (store_batch_cursor(c->store, j->source, SIEM1_CURSOR, &day, token, sizeof(token),
			       &e) < 0) {
		store_failed(c, j, &e);
		return;
	}
	if (!j->poll_from)
		j->poll_from = mw_now();
	sent = mc_client_requests(j->cred->client);
	mc_siem1_file(j->cred->client, j->lt, token, &c->resp, &f, &res);
	j->rep.requests += mc_client_requests(j->cred->client) - sent;
	if (c->stop || res.cls != MC_OK || f.last) {
		mc_siem1_free(&f);
		if (c->stop)
			return;
		if (res.cls != MC_OK)
			col_on_failure(c, j, &res);
		else
			poll_done(c, j);
		return;
	}
	if (strlen(f.next_token) >= sizeof(token)) {
		mc_siem1_free(&f);
		col_local_failure(&res, "siem token", "the next SIEM file's token is longer than "
				  "mimewatch keeps", "report this as a mimewatch bug");
		res.cls = MC_RETRY;
		col_on_failure(c, j, &res);
		return;
	}
	mw_buf_reset(&c->page_json);
	tok = f.records + 1;
	for (size_t i = 0; i < f.nrecords; i++, tok = (int)f.doc.toks[tok].next)
		take_record(&t, &f.doc, tok);
	sb.next_page = f.next_token;
	if (commit_at(c, j, j->cur.horizon, t.n ? take_rows(c, t.n) : NULL, t.n, &sb, &pr) == 0)
		took(c, j, &pr, t.max_time);
	mc_siem1_free(&f);
}

void col_batch_step(collector *c, struct job *j)
{
	struct batch_sub *b;
	size_t sub;
	mw_err e;

	if (strcmp(j->st.state, "collecting") != 0 || mw_mono_ms() - j->status_at >= STATUS_EVERY_MS)
		col_put_status(c, j, "collecting");
	j->st.last_attempt = mw_now();
	if (j->in->api != 2) {
		siem1_step(c, j);
		return;
	}
	if (!j->subs && subs_load(c, j, &e) < 0) {
		col_batch_free(j);
		store_failed(c, j, &e);
		return;
	}
	/* the sub-types take turns, a request each */
	for (sub = 0; sub < j->nsubs; sub++) {
		size_t k = (j->sub_at + sub) % j->nsubs;

		if (j->subs[k].on && !j->subs[k].caught_up)
			break;
	}
	if (sub == j->nsubs) {
		poll_done(c, j);
		return;
	}
	sub = (j->sub_at + sub) % j->nsubs;
	j->sub_at = (sub + 1) % j->nsubs;
	if (!j->poll_from)
		j->poll_from = mw_now();
	b = &j->subs[sub];
	mc_client_set_deadline(j->cred->client,
			       c->opts.retry_budget_ms > 0 && j->retry_since
				       ? j->retry_since + c->opts.retry_budget_ms + BUDGET_GRACE_MS
				       : 0);
	if (b->have_list)
		take_file(c, j, b, sub);
	else
		list_day(c, j, b, sub);
}
