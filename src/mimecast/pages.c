/* pages.c - a log page of the paged types: the request body, and the
 * records array and next token of the answer (HACKING, "Windows and
 * pages"). */
#include "private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonout.h"

void mc_page_init(struct mc_page *p)
{
	js_init(&p->doc);
	p->records = -1;
	p->nrecords = 0;
	p->next = NULL;
	p->total_count = -1;
}

void mc_page_free(struct mc_page *p)
{
	js_free(&p->doc);
	free(p->next);
	p->next = NULL;
	p->records = -1;
	p->nrecords = 0;
}

/* After classification: the records array and the next token. */
static void page_extract(struct mc_page *page, const struct mw_logtype *lt, int root,
			 struct mc_result *res)
{
	const js_doc *d = &page->doc;
	int data, d0, arr, next;
	char what[160];

	page->records = -1;
	page->nrecords = 0;
	page->total_count = -1;
	free(page->next);
	page->next = NULL;
	if (res->cls != MC_OK)
		return;
	data = root >= 0 ? js_get(d, root, "data") : -1;
	if (data < 0 || d->toks[data].type != JS_ARRAY) {
		mcp_malformed(res, "response without a data array");
		return;
	}
	/* Mimecast answers an empty window with "data":[] (peer fixtures). A
	 * type without an array key (audit) has its records in data[] itself. */
	if (!lt->array_key) {
		page->records = data;
		page->nrecords = d->toks[data].size;
	} else if (d->toks[data].size > 0) {
		d0 = js_at(d, data, 0);
		arr = d->toks[d0].type == JS_OBJECT ? js_get(d, d0, lt->array_key) : -1;
		if (arr < 0 || d->toks[arr].type != JS_ARRAY) {
			snprintf(what, sizeof(what), "data[0].%s missing or not an array",
				 lt->array_key);
			mcp_malformed(res, what);
			return;
		}
		page->records = arr;
		page->nrecords = d->toks[arr].size;
	}
	next = js_path(d, root, "meta.pagination.next");
	if (next >= 0 && d->toks[next].type == JS_STRING && d->toks[next].end > d->toks[next].start)
		page->next = js_strdup(d, next);
	next = js_path(d, root, "meta.pagination.totalCount");
	if (next >= 0 && js_int(d, next, &page->total_count) < 0)
		page->total_count = -1;
}

void mc_page_parse(struct mc_page *page, const struct mw_logtype *lt, long status,
		   const char *body, size_t len, const struct mc_classify_ctx *ctx,
		   struct mc_result *res)
{
	mw_err e;
	int root = -1;

	mc_result_init(res);
	mw_err_clear(&e);
	if (len && js_parse(&page->doc, body, len, &e) == 0)
		root = 0;
	mc_classify(res, status, &page->doc, root, ctx);
	mcp_malformed_detail(res, root, &e);
	page_extract(page, lt, root, res);
}

int mc_get_logs_page(mc_client *c, const struct mc_page_req *req, mw_buf *resp,
		     struct mc_page *page, struct mc_result *res)
{
	char from[32], to[32];
	mw_buf body;
	int root, rc;

	if (!req || !req->lt) {
		mc_result_init(res);
		mcp_local_failure(res, "request", "no log type given", "report this as a mimewatch bug");
		return -1;
	}
	mw_format_mc_date(req->from, from);
	mw_format_mc_date(req->to, to);
	mw_buf_init(&body);
	mw_buf_printf(&body, "{\"meta\":{\"pagination\":{\"pageSize\":%d",
		      req->page_size > 0 ? req->page_size : 100);
	if (req->page_token && *req->page_token) {
		mw_buf_puts(&body, ",\"pageToken\":");
		jsonout_safe_string(&body, req->page_token, strlen(req->page_token));
	}
	/* data goes with the token too: Mimecast accepts both forms, and the
	 * filters then never depend on the server remembering them. */
	mw_buf_printf(&body, "}},\"data\":[{\"%s\":\"%s\",\"%s\":\"%s\"", req->lt->from_key,
		      from, req->lt->to_key, to);
	/* Oldest first where the endpoint takes it; newest-first types take no
	 * such key (HACKING, "Newest-first windows"). */
	if (!req->lt->newest_first)
		mw_buf_puts(&body, ",\"oldestFirst\":true");
	if (req->lt->filters && *req->lt->filters) {
		mw_buf_putc(&body, ',');
		mw_buf_puts(&body, req->lt->filters);
	}
	mw_buf_puts(&body, "}]}");
	rc = mcp_request(c, req->lt->path, body.data, req->lt->permission, req->lt->product,
			 resp, &page->doc, &root, res);
	mw_buf_free(&body);
	if (rc < 0) {
		page_extract(page, req->lt, -1, res);
		return rc;
	}
	page_extract(page, req->lt, root, res);
	return 0;
}

