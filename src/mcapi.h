/* mcapi.h - the Mimecast client: API 1.0 signing or API 2.0 tokens, the one
 * function that performs HTTP, the response envelope, the log page call.
 *
 * One mc_client per set of credentials. Mimecast's quota is per user, so the
 * 429 gate (not_before) lives here and covers every type collected with these
 * credentials. A client is used by one thread at a time. */
#ifndef MW_MCAPI_H
#define MW_MCAPI_H

#include <stdatomic.h>
#include <stdint.h>
#include "errclass.h"
#include "jsonscan.h"
#include "logtypes.h"
#include "util.h"

#define MC_MAX_RESPONSE (16u * 1024 * 1024) /* larger bodies are refused */

struct mc_creds {
	int api;                  /* 1 or 2 */
	const char *base_url;     /* https://eu-api.mimecast.com (no trailing /) */
	const char *app_id, *app_key, *access_key, *secret_key;  /* api 1 */
	const char *client_id, *client_secret;                   /* api 2 */
	const char *ca_file;      /* extra trust anchor, or NULL */
	int64_t connect_timeout_ms; /* 0: 10 s */
	int64_t low_speed_secs;     /* abort when < 100 bytes/s for this long; 0: 30.
	                               There is no total time limit. */
};

typedef struct mc_client mc_client;

/* Checks the base URL (https, or http only to a loopback address) and
 * copies the credentials. NULL with a message on bad input. */
mc_client *mc_client_new(const struct mc_creds *creds, mw_err *e);
void mc_client_free(mc_client *c);
/* Transfers in progress give up within a second once *flag is non-zero. */
void mc_client_set_abort(mc_client *c, const atomic_int *flag);
/* Requests sent so far to Mimecast's API endpoints (token requests not
 * counted; a repeat after a new token is). */
int64_t mc_client_requests(const mc_client *c);
/* Transfers give up once mw_mono_ms() passes mono_ms (fetch's retry
 * budget); 0 removes the limit. */
void mc_client_set_deadline(mc_client *c, int64_t mono_ms);
/* No request should go out before this monotonic time (mw_mono_ms); set by
 * 429s and by pacing on X-RateLimit-Remaining. */
int64_t mc_client_not_before(const mc_client *c);
/* Holds every request back until t (monotonic ms) at least: a reload
 * carries the old client's 429 gate over to the new one. */
void mc_client_hold_until(mc_client *c, int64_t t);
/* 1 while these credentials are in the backoff of a 429 that came without
 * X-RateLimit-Reset (the API 2.0 gateway's throttling): until the next 2xx
 * from a log endpoint. */
int mc_client_gateway_backoff(const mc_client *c);
/* Last rate-limit figures seen (-1 unknown). */
void mc_client_ratelimit(const mc_client *c, int64_t *limit, int64_t *remaining,
			 int64_t *reset_ms);

/* One signed POST of a JSON body to path (e.g. "/api/account/get-account").
 * Fresh x-mc-req-id and x-mc-date (or a valid bearer token) every call.
 * resp receives the body. Returns 0 when the response was classified (see
 * res->cls; doc holds the parsed body when it is JSON), -1 only for local
 * failures (res->cls MC_UNKNOWN with the message). Never sleeps. */
int mc_post(mc_client *c, const char *path, const char *body, mw_buf *resp,
	    js_doc *doc, struct mc_result *res);

/* One page of a log type. */
struct mc_page_req {
	const struct mw_logtype *lt;
	int64_t from, to;          /* epoch seconds, inclusive, sent as ...+0000 */
	const char *page_token;    /* NULL for the first page */
	int page_size;
};

struct mc_page {
	js_doc doc;                /* the parsed response; tokens point into resp */
	int records;               /* token of the records array, -1 if absent */
	size_t nrecords;
	char *next;                /* meta.pagination.next, malloc'd, or NULL */
	int64_t total_count;       /* meta.pagination.totalCount, -1 when absent */
};

void mc_page_init(struct mc_page *p);
void mc_page_free(struct mc_page *p);
/* Requests one page, oldest first. res->cls is MC_OK only when HTTP and
 * meta.status are 200, fail[] is empty and the records array parsed. */
int mc_get_logs_page(mc_client *c, const struct mc_page_req *req, mw_buf *resp,
		     struct mc_page *page, struct mc_result *res);

/* The part of mc_get_logs_page after HTTP: parses body into page->doc,
 * classifies it (status, ctx as mc_classify) and finds the records and
 * next token. Also the entry point of the response fuzz target. */
void mc_page_parse(struct mc_page *page, const struct mw_logtype *lt, long status,
		   const char *body, size_t len, const struct mc_classify_ctx *ctx,
		   struct mc_result *res);

/* get-account: name, code and packages (malloc'd strings). */
struct mc_account {
	char *account_name, *account_code, *region;
	char **packages;
	size_t npackages;
};
void mc_account_free(struct mc_account *a);
int mc_get_account(mc_client *c, struct mc_account *acct, struct mc_result *res);

/* discover-authentication (unsigned): the region's base URL for an email
 * address, via discover_base (normally https://api.mimecast.com). */
int mc_discover(const char *discover_base, const char *app_id, const char *email,
		const char *ca_file, char **base_url, struct mc_result *res);

#endif
