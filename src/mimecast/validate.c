/* mimecast/validate.c - the live check of an integration: get-account first (its
 * 403 is not fatal: least-privilege roles lack the Dashboard permission),
 * then a one-record probe per chosen type, then the cross-row rule of
 * HACKING, "Error classes": a missing TTP package. (A 401 on one type while
 * the keys verify elsewhere is not taken for an IP block: an allow-list
 * applies to every call, so it cannot refuse one type and pass another.)
 * mc_creds_of: what any client of an integration is made from. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include "private.h"

#include <stdio.h>
#include <string.h>

#include "logtypes.h"

#define WAIT_BUDGET_MS 20000  /* all 429 waiting of one validation */
#define SLICE_MS 100          /* abort is noticed within this */

struct probe {
	mc_client *c;
	int api;
	const atomic_int *abort_flag;
	int64_t waited;
};

static int aborted(const struct probe *p)
{
	return p->abort_flag && *p->abort_flag;
}

/* Waits until the client's 429/pacing gate opens, if that fits in what is
 * left of the budget. 0 when a request may go, -1 otherwise. */
static int gate(struct probe *p)
{
	for (;;) {
		int64_t now = mw_mono_ms(), nb = mc_client_not_before(p->c), step;

		if (aborted(p))
			return -1;
		if (now >= nb)
			return 0;
		if (nb - now > WAIT_BUDGET_MS - p->waited)
			return -1;
		step = nb - now < SLICE_MS ? nb - now : SLICE_MS;
		mw_sleep_ms(step);
		p->waited += step;
	}
}

static void gave_up(struct probe *p, struct mc_result *res)
{
	mc_result_init(res);
	res->cls = MC_RETRY;
	res->retryable = 1;
	if (aborted(p)) {
		snprintf(res->message, sizeof(res->message), "validation aborted");
		snprintf(res->remedy, sizeof(res->remedy), "run the validation again");
	} else {
		snprintf(res->message, sizeof(res->message),
			 "rate limited: no request allowed within the validation's time budget");
		snprintf(res->remedy, sizeof(res->remedy), "Mimecast's rate limit for these keys "
			 "is exhausted; validate again in a few minutes");
	}
}

/* Whether to repeat a call: 429s are waited out (within the budget) and
 * err_developer_key is retried once, as Mimecast sends it intermittently
 * for valid Application IDs. */
static int again(struct probe *p, const struct mc_result *res, int *devkey_retried)
{
	if (aborted(p))
		return 0;
	if (res->cls == MC_RETRY && res->http_status == 429)
		return gate(p) == 0;
	if (res->cls == MC_BAD_APP_ID && !*devkey_retried) {
		*devkey_retried = 1;
		return gate(p) == 0;
	}
	return 0;
}

static void probe_account(struct probe *p, struct mc_account *acct, struct mc_result *res)
{
	int devkey = 0;

	memset(acct, 0, sizeof(*acct));
	if (gate(p) < 0) {
		gave_up(p, res);
		return;
	}
	do {
		mc_account_free(acct);
		mc_get_account(p->c, acct, res);
	} while (again(p, res, &devkey));
}

/* A batch type's probe: on API 2.0 today's listing of its first sub-type,
 * one file; on 1.0 the oldest file kept (a call is a file). */
static void probe_batch(struct probe *p, const struct mw_logtype *lt, struct validate_row *row)
{
	struct mc_batch_list list;
	struct mc_siem1 f;
	mw_buf resp;
	int devkey = 0;

	mw_buf_init(&resp);
	memset(&list, 0, sizeof(list));
	memset(&f, 0, sizeof(f));
	js_init(&f.doc);
	do {
		mc_batch_list_free(&list);
		mc_siem1_free(&f);
		if (p->api == 2)
			mc_batch_list(p->c, lt, lt->subtypes[0].wire, mw_now(), 1, NULL, &resp,
				      &list, &row->res);
		else
			mc_siem1_file(p->c, lt, NULL, &resp, &f, &row->res);
	} while (again(p, &row->res, &devkey));
	if (row->res.cls == MC_OK)
		row->records_seen = (long)(p->api == 2 ? list.nfiles : f.nrecords);
	mc_batch_list_free(&list);
	mc_siem1_free(&f);
	mw_buf_free(&resp);
}

static void probe_type(struct probe *p, const struct mw_logtype *lt, struct validate_row *row)
{
	struct mc_page_req req;
	struct mc_page page;
	mw_buf resp;
	int devkey = 0;
	int64_t now = mw_now();

	row->lt = lt;
	row->records_seen = 0;
	if (gate(p) < 0) {
		gave_up(p, &row->res);
		return;
	}
	if (lt->shape == MW_SHAPE_BATCH) {
		probe_batch(p, lt, row);
		return;
	}
	memset(&req, 0, sizeof(req));
	req.lt = lt;
	req.from = now - 86400;
	req.to = now;
	req.page_size = 1;
	mc_page_init(&page);
	mw_buf_init(&resp);
	do {
		mc_get_logs_page(p->c, &req, &resp, &page, &row->res);
	} while (again(p, &row->res, &devkey));
	if (row->res.cls == MC_OK)
		row->records_seen = (long)page.nrecords;
	mc_page_free(&page);
	mw_buf_free(&resp);
}

/* Copies at most n-1 bytes without cutting a UTF-8 sequence in two. */
static void copy_utf8(char *dst, size_t n, const char *src)
{
	size_t len = src ? strlen(src) : 0;

	if (len >= n) {
		len = n - 1;
		while (len && ((unsigned char)src[len] & 0xC0) == 0x80)
			len--;
	}
	if (len)
		memcpy(dst, src, len);
	dst[len] = '\0';
}

static int has_package(const struct mc_account *a, const char *fragment)
{
	for (size_t i = 0; i < a->npackages; i++)
		if (a->packages[i] && strstr(a->packages[i], fragment))
			return 1;
	return 0;
}

static void client_failed(struct mc_result *res, const mw_err *e)
{
	mc_result_init(res);
	res->cls = MC_BAD_REQUEST;
	snprintf(res->code, sizeof(res->code), "config");
	mc_sanitize_copy(res->message, sizeof(res->message), e->msg, strlen(e->msg));
	snprintf(res->remedy, sizeof(res->remedy), "%s", res->message);
}

void mc_creds_of(struct mc_creds *cr, const struct mw_integration *in)
{
	memset(cr, 0, sizeof(*cr));
	cr->api = in->api;
	cr->base_url = in->base_url;
	cr->app_id = in->app_id;
	cr->app_key = in->app_key;
	cr->access_key = in->access_key.value;
	cr->secret_key = in->secret_key.value;
	cr->client_id = in->client_id;
	cr->client_secret = in->client_secret.value;
	cr->ca_file = in->ca_file;
	cr->proxy = config_proxy_url(in);
	cr->proxy_user = in->proxy.user;
	cr->proxy_password = in->proxy.password.value;
	cr->proxy_ca_file = in->proxy.ca_file;
}

int validate_integration(const struct mw_integration *in, struct validate_report *rep,
			 const atomic_int *abort_flag)
{
	struct mc_creds cr;
	struct mc_account acct;
	struct probe p;
	mw_err e;
	size_t i;

	memset(rep, 0, sizeof(*rep));
	mc_creds_of(&cr, in);

	for (i = 0; i < mw_nlogtypes && rep->nrows < sizeof(rep->rows) / sizeof(rep->rows[0]); i++)
		if (in->types & (1u << i))
			rep->rows[rep->nrows++].lt = &mw_logtypes[i];

	memset(&p, 0, sizeof(p));
	p.abort_flag = abort_flag;
	p.api = in->api;
	mw_err_clear(&e);
	p.c = mc_client_new(&cr, &e);
	if (!p.c) {
		client_failed(&rep->account_res, &e);
		for (i = 0; i < rep->nrows; i++)
			client_failed(&rep->rows[i].res, &e);
		return 1;
	}
	mc_client_set_abort(p.c, abort_flag);

	probe_account(&p, &acct, &rep->account_res);
	if (rep->account_res.cls == MC_OK) {
		rep->account_ok = 1;
		copy_utf8(rep->account_name, sizeof(rep->account_name), acct.account_name);
		copy_utf8(rep->account_code, sizeof(rep->account_code), acct.account_code);
	}
	for (i = 0; i < rep->nrows; i++)
		probe_type(&p, rep->rows[i].lt, &rep->rows[i]);

	for (i = 0; i < rep->nrows; i++) {
		struct validate_row *row = &rep->rows[i];
		struct mc_result *r = &row->res;
		const struct mw_logtype *lt = row->lt;

		if (rep->account_ok && acct.npackages && lt->package &&
		    !has_package(&acct, lt->package)) {
			/* Even a passing probe: without the package no records ever come. */
			r->cls = MC_NOT_LICENSED;
			r->retryable = 0;
			snprintf(r->message, sizeof(r->message),
				 "get-account lists no \"%s\" package", lt->package);
			snprintf(r->remedy, sizeof(r->remedy),
				 "the account has no %s package: ask Mimecast to license it", lt->label);
		}
	}
	for (i = 0; i < rep->nrows; i++)
		rep->ok_types += rep->rows[i].res.cls == MC_OK;

	mc_account_free(&acct);
	mc_client_free(p.c);
	if (!rep->nrows)
		return rep->account_ok ? 0 : 1;
	return (size_t)rep->ok_types == rep->nrows ? 0 : 1;
}
