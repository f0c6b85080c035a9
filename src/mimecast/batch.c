/* batch.c - batch files: the listing of a sub-type's day and the download
 * of each listed file, gunzipped and cut into lines as it comes (HACKING,
 * "Batch files"; the shapes in "SIEM on API 2.0: batch files"). */
#include "private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "jsonout.h"

#define INFLATE_CHUNK 65536
/* A line longer than this is no event of Mimecast's: the file is bad. */
#define MAX_LINE (4u * 1024 * 1024)

void mc_batch_list_free(struct mc_batch_list *l)
{
	for (size_t i = 0; i < l->nfiles; i++)
		free(l->files[i].url);
	free(l->files);
	free(l->next_page);
	memset(l, 0, sizeof(*l));
}

/* Appends s to b percent-encoded for a query value. */
static void put_query(mw_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~", ch))
			mw_buf_putc(b, (char)ch);
		else
			mw_buf_printf(b, "%%%c%c", hex[ch >> 4], hex[ch & 15]);
	}
}

/* value[] of the answer into out; a file without a url is malformed. */
static void list_extract(const js_doc *d, int root, struct mc_batch_list *out,
			 struct mc_result *res)
{
	int v = js_get(d, root, "value"), np, cu;

	if (v < 0 || d->toks[v].type != JS_ARRAY) {
		mcp_malformed(res, "listing without a value array");
		return;
	}
	out->files = mw_xcalloc(d->toks[v].size + 1, sizeof(*out->files));
	for (size_t i = 0; i < d->toks[v].size; i++) {
		int f = js_at(d, v, i), u = f >= 0 ? js_get(d, f, "url") : -1;
		int sz = f >= 0 ? js_get(d, f, "size") : -1;
		struct mc_batch_file *bf = &out->files[out->nfiles];

		if (u < 0 || d->toks[u].type != JS_STRING) {
			mc_batch_list_free(out);
			mcp_malformed(res, "a listed file without a url");
			return;
		}
		bf->url = js_strdup(d, u);
		if (sz < 0 || js_int(d, sz, &bf->size) < 0)
			bf->size = -1;
		out->nfiles++;
	}
	np = js_get(d, root, "@nextPage");
	if (np >= 0 && d->toks[np].type == JS_STRING && d->toks[np].end > d->toks[np].start)
		out->next_page = js_strdup(d, np);
	cu = js_get(d, root, "isCaughtUp");
	out->caught_up = cu >= 0 && js_bool(d, cu) == 1;
}

void mc_batch_list_parse(struct mc_batch_list *out, long status, const char *body, size_t len,
			 const struct mc_classify_ctx *ctx, struct mc_result *res)
{
	js_doc doc;
	mw_err e;
	int root = -1;

	memset(out, 0, sizeof(*out));
	mc_result_init(res);
	mw_err_clear(&e);
	js_init(&doc);
	if (len && js_parse(&doc, body, len, &e) == 0)
		root = 0;
	mc_classify(res, status, &doc, root, ctx);
	mcp_malformed_detail(res, root, &e);
	if (res->cls == MC_OK)
		list_extract(&doc, root, out, res);
	js_free(&doc);
}

int mc_batch_list(mc_client *c, const struct mw_logtype *lt, const char *wire, int64_t day,
		  int page_size, const char *next_page, mw_buf *resp, struct mc_batch_list *out,
		  struct mc_result *res)
{
	char date[16];
	mw_buf path;
	js_doc doc;
	int root = -1, rc;
	int64_t d0 = day - (day % 86400 + 86400) % 86400;
	struct tm tm;
	time_t t = (time_t)d0;

	memset(out, 0, sizeof(*out));
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	mw_buf_init(&path);
	js_init(&doc);
	/* both dates the same day: a listing is per day [GRAV-CLIENT] */
	mw_buf_printf(&path, "%s?type=", lt->path);
	put_query(&path, wire);
	mw_buf_printf(&path, "&%s=%s&%s=%s&pageSize=%d", lt->from_key, date, lt->to_key, date,
		      page_size > 0 ? page_size : 100);
	if (next_page && *next_page) {
		mw_buf_puts(&path, "&nextPage=");
		put_query(&path, next_page);
	}
	rc = mcp_request(c, path.data, NULL, lt->permission, lt->product, resp, &doc, &root, res);
	if (rc == 0 && res->cls == MC_OK)
		list_extract(&doc, root, out, res);
	js_free(&doc);
	mw_buf_free(&path);
	return rc;
}

char *mc_batch_file_key(const char *url)
{
	const char *p = strstr(url, "://");

	p = p ? strchr(p + 3, '/') : NULL;
	if (!p)
		p = url;
	return mw_xstrndup(p, strcspn(p, "?#"));
}

/* The download's state: the inflater and the line being put together. */
struct unzip {
	z_stream z;
	int ended;              /* the gzip stream's end was reached */
	int bad;                /* not gzip, or damaged */
	int stopped;            /* line() refused */
	mw_buf line;
	int (*cb)(void *ud, const char *p, size_t n);
	void *ud;
};

/* Gives each complete line of out[0..n) to the callback; keeps the rest. */
static int lines_from(struct unzip *u, const char *p, size_t n)
{
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t k = nl ? (size_t)(nl - p) : n;

		mw_buf_append(&u->line, p, k);
		if (u->line.len > MAX_LINE) {
			u->bad = 1;
			return -1;
		}
		if (!nl)
			return 0;
		if (u->line.len && u->line.data[u->line.len - 1] == '\r')
			u->line.len--;
		if (u->line.len && u->cb(u->ud, u->line.data, u->line.len) < 0) {
			u->stopped = 1;
			return -1;
		}
		mw_buf_reset(&u->line);
		p = nl + 1;
		n -= k + 1;
	}
	return 0;
}

static int unzip_sink(void *ud, const char *p, size_t n)
{
	struct unzip *u = ud;
	unsigned char out[INFLATE_CHUNK];

	if (u->ended)
		return n ? -1 : 0;  /* bytes after the stream's end: not one gzip */
	u->z.next_in = (unsigned char *)p;
	u->z.avail_in = (uInt)n;
	while (u->z.avail_in && !u->ended) {
		int zr;

		u->z.next_out = out;
		u->z.avail_out = sizeof(out);
		zr = inflate(&u->z, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
			u->bad = 1;
			return -1;
		}
		if (lines_from(u, (const char *)out, sizeof(out) - u->z.avail_out) < 0)
			return -1;
		if (zr == Z_STREAM_END)
			u->ended = 1;
		else if (zr == Z_BUF_ERROR)
			break;
	}
	if (u->ended && u->z.avail_in) {
		u->bad = 1;
		return -1;
	}
	return 0;
}

static void file_failure(struct mc_result *res, const char *code, const char *msg)
{
	mc_result_init(res);
	res->cls = MC_RETRY;
	res->retryable = 1;
	snprintf(res->code, sizeof(res->code), "%s", code);
	snprintf(res->message, sizeof(res->message), "%s", msg);
	snprintf(res->remedy, sizeof(res->remedy), "the file is asked for again; nothing of it "
		 "was stored");
}

int mc_batch_file(mc_client *c, const char *url,
		  int (*line)(void *ud, const char *p, size_t n), void *ud,
		  struct mc_result *res)
{
	struct unzip u;
	mw_buf resp;
	int got, expired = 0;
	long status;

	memset(&u, 0, sizeof(u));
	u.cb = line;
	u.ud = ud;
	mw_buf_init(&u.line);
	mw_buf_init(&resp);
	/* 16 + MAX_WBITS: a gzip header and trailer, not zlib's */
	if (inflateInit2(&u.z, 16 + MAX_WBITS) != Z_OK) {
		mc_result_init(res);
		mcp_local_failure(res, "zlib", "cannot start the decompressor", "free memory");
		mw_buf_free(&u.line);
		return 0;
	}
	got = mcp_fetch_url(c, url, unzip_sink, &u, &resp, res);
	status = res->http_status;
	if (u.stopped) {
		mc_result_init(res);
		mcp_local_failure(res, "line", "a line of the file could not be kept",
				  "see the log");
	} else if (u.bad) {
		file_failure(res, "bad gzip", "the file does not decompress (not gzip, or damaged)");
	} else if (got == 1 && (status == 403 || status == 404)) {
		expired = 1;
		file_failure(res, "link expired", "the file's link was refused (expired)");
		res->http_status = status;
	} else if (got == 1 && status != 200) {
		mc_classify(res, status, NULL, -1, &(struct mc_classify_ctx){ NULL, mw_now(), 1, 2 });
		res->http_status = status;
	} else if (got == 1 && !u.ended) {
		file_failure(res, "file cut short", "the file ended before its gzip stream did");
	} else if (got == 1 && u.line.len) {
		/* the last line without its newline is still a line */
		if (line(ud, u.line.data, u.line.len) < 0) {
			mc_result_init(res);
			mcp_local_failure(res, "line", "a line of the file could not be kept",
					  "see the log");
		}
	}
	inflateEnd(&u.z);
	mw_buf_free(&u.line);
	mw_buf_free(&resp);
	return expired;
}

/* ---- API 1.0: get-siem-logs, a file a call ------------------------------ */

void mc_siem1_free(struct mc_siem1 *f)
{
	js_free(&f->doc);
	free(f->next_token);
	f->next_token = NULL;
}

int mc_siem1_file(mc_client *c, const struct mw_logtype *lt, const char *token, mw_buf *resp,
		  struct mc_siem1 *out, struct mc_result *res)
{
	mw_buf body;
	int root = -1, rc, last;

	js_init(&out->doc);
	out->records = -1;
	out->nrecords = 0;
	out->last = 0;
	out->next_token = NULL;
	mw_buf_init(&body);
	/* json, uncompressed: one JSON file a call [MC-SIEM1] [XSOAR-EC1] */
	mw_buf_puts(&body, "{\"data\":[{\"type\":\"MTA\",\"fileFormat\":\"json\","
		    "\"compress\":false");
	if (token && *token) {
		mw_buf_puts(&body, ",\"token\":");
		jsonout_safe_string(&body, token, strlen(token));
	}
	mw_buf_puts(&body, "}]}");
	rc = mcp_request(c, lt->path_v1, body.data, logtype_permission(lt, 1), NULL, resp,
			 &out->doc, &root, res);
	mw_buf_free(&body);
	if (rc < 0 || res->cls != MC_OK)
		return rc;
	last = js_path(&out->doc, root, "meta.isLastToken");
	if (last >= 0 && js_bool(&out->doc, last) == 1) {
		/* no file: keep the last token [R7-API] [R7-SIEM] */
		out->last = 1;
		return 0;
	}
	out->records = js_get(&out->doc, root, "data");
	if (out->records < 0 || out->doc.toks[out->records].type != JS_ARRAY) {
		out->records = -1;
		mcp_malformed(res, "a SIEM file without a data array");
		return 0;
	}
	out->nrecords = out->doc.toks[out->records].size;
	if (!mcp_siem_token(c)[0]) {
		mcp_malformed(res, "a SIEM file without the mc-siem-token header");
		return 0;
	}
	out->next_token = mw_xstrdup(mcp_siem_token(c));
	return 0;
}
