/* mimecast/mimecast.h - the Mimecast API: the only part that talks to
 * Mimecast. Request signing (1.0) and tokens (2.0), the one function that
 * sends an HTTP request to Mimecast, the response envelope and the log page
 * call, the one list of outcome classes with their remedies, the regional
 * base URLs, and the live check of an integration (validate).
 *
 * May include: the C library, libcurl, OpenSSL, json-c (in its .c files
 * only), zlib (batch.c: batch files are gzip), the leaves (util.h, jsonscan.h, jsonout.h, scrub.h, logtypes.h,
 * netpolicy.h) and config/config.h (validate reads an integration). Never
 * the store, the outputs, the collector or curses. Its own private.h is
 * for src/mimecast/ alone. */
#ifndef MW_MIMECAST_H
#define MW_MIMECAST_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "util.h"
#include "jsonscan.h"
#include "logtypes.h"
#include "config/config.h"

/* ---- errclass.c: outcome classes ----
 *
 * the one list of outcome classes (HACKING, "Error classes")
 * and the classification of a Mimecast response into exactly one of them.
 * validate, fetch, status and the console all show these names and remedies. */

enum mc_class {
	MC_OK,
	MC_RETRY,             /* 429, 5xx, network, truncated body, retryable fail[] */
	MC_INVALID_SIGNATURE, /* wrong keys, or clock skew */
	MC_BINDING_EXPIRED,   /* 418 */
	MC_PERMISSION,        /* 403: role lacks the type's permission */
	MC_BAD_APP_ID,        /* err_developer_key, after one retry */
	MC_IP_NOT_ALLOWED,
	MC_NOT_LICENSED,      /* get-account packages lack the type's package */
	MC_WRONG_REGION,
	MC_TLS,               /* certificate or host-name failure: never retried */
	MC_PROXY,             /* the proxy refused us, our credentials or the CONNECT */
	MC_BAD_REQUEST,
	MC_UNKNOWN,
	MC_STORE_FULL,        /* the store over max_store with nothing prunable */
	MC_CLASS_COUNT
};

/* "ok", "retry later", "invalid signature", "binding expired",
 * "permission missing", "bad Application ID", "IP not allowed",
 * "TTP package not licensed", "wrong region", "certificate or host-name
 * failure", "proxy failure", "bad request", "unknown", "store over
 * max_store". */
const char *mc_class_name(enum mc_class c);
/* Stable machine name for --json and the store: "ok", "retry", ... */
/* The console's words for a class: mc_class_name, but in the words of the
 * integration's API (2.0: "invalid client ID or secret"). */
const char *mc_class_label(enum mc_class c, int api);
const char *mc_class_key(enum mc_class c);
enum mc_class mc_class_from_key(const char *key);
/* The generic one-line remedy, in API 1.0's words (Application Key, Access
 * and Secret Key, the service user's role). */
const char *mc_class_remedy(enum mc_class c);
/* The same in the words of the integration's own API: api 2 names the Client
 * ID / Client Secret and the API 2.0 application's products and role, and
 * never an Access or Secret Key; any other api is 1.0. */
const char *mc_class_remedy_api(enum mc_class c, int api);

/* What one request came to. Filled by mcapi; shown everywhere. */
struct mc_result {
	enum mc_class cls;
	long http_status;       /* 0 when no response */
	char code[96];          /* Mimecast err_ code, or curl's error name */
	char message[384];      /* Mimecast's message or the transport error, sanitised */
	char remedy[512];       /* the specific one-line fix */
	int retryable;          /* fail[].errors[].retryable, or implied by class */
	int64_t rl_limit, rl_remaining, rl_reset_ms; /* -1 when absent */
	int64_t server_date;    /* epoch from the Date header, 0 when absent */
};

void mc_result_init(struct mc_result *r);

/* Context the classifier needs beyond the response itself. */
struct mc_classify_ctx {
	const char *permission;  /* the type's permission string, or NULL */
	int64_t local_now;       /* for clock-skew detection against Date */
	int known_region;        /* base URL host is in the region list (or loopback) */
	int api;                 /* 2: API 2.0 (bearer tokens); otherwise 1.0 */
	const char *product;     /* the type's API 2.0 product, or NULL */
};

/* Classifies an HTTP response. status is the HTTP status; doc/root the parsed
 * body (root -1 when the body is not JSON). Sets r->cls, code, message,
 * remedy and retryable; leaves rate-limit fields alone. */
void mc_classify(struct mc_result *r, long status, const js_doc *doc, int root,
		 const struct mc_classify_ctx *ctx);

/* Copies in[0..inlen) into out as printable ASCII: every other character
 * (a whole UTF-8 sequence counts once) becomes '?'; truncates to outsz-1. */
void mc_sanitize_copy(char *out, size_t outsz, const char *in, size_t inlen);
/* 1 if a code or message says the caller's address is refused ("IP ... not
 * allowed/permitted", "Permitted IP Ranges", err_..._ip_...): the only
 * evidence "IP not allowed" is classed on. An address literal alone is not. */
int mc_text_says_ip_refused(const char *code, const char *message);
/* This host's addresses (getifaddrs, non-loopback first; at most max of
 * them), comma-separated, or "unknown". */
void mc_host_addresses(char *out, size_t n, int max);
/* The IP-not-allowed remedy naming this host's addresses and warning that
 * Mimecast may see a NAT address. */
void mc_format_ip_remedy(char *out, size_t n);

/* Parses X-RateLimit-Reset (ms). Bogus values (negative, non-numeric, empty,
 * huge) give -1; callers clamp waits to [100 ms, 15 min]. */
int64_t mc_parse_reset_ms(const char *value);
/* Clamp a 429 wait (HACKING, "Retries, backoff and the 429 gate"): [100 ms,
 * 15 min]; unknown -> 5 s. */
int64_t mc_clamp_wait_ms(int64_t reset_ms);

/* ---- sign.c: API 1.0 signing ----
 *
 * Mimecast API 1.0 request signing (HACKING, "Signing (API 1.0)").
 * Shared by the client and by the simulated tenant, which checks it. */

/* The signature: base64(HMAC-SHA1(base64decode(secret_key),
 *   "<date>:<req_id>:<path>:<app_key>")), 28 characters.
 * Returns 0, or -1 if secret_key is not valid base64. out: at least 29 bytes. */
int mcsign_signature(const char *date, const char *req_id, const char *path,
		     const char *app_key, const char *secret_key, char *out, size_t outlen);

/* The Authorization header value: "MC <access_key>:<signature>". */
int mcsign_authorization(const char *date, const char *req_id, const char *path,
			 const char *app_key, const char *access_key,
			 const char *secret_key, char *out, size_t outlen);

/* ---- client.c: the client ----
 *
 * the Mimecast client: API 1.0 signing or API 2.0 tokens, the one
 * function that performs HTTP, the response envelope, the log page call.
 *
 * One mc_client per set of credentials. Mimecast's quota is per user, so the
 * 429 gate (not_before) lives here and covers every type collected with these
 * credentials. A client is used by one thread at a time. */

#define MC_MAX_RESPONSE (16u * 1024 * 1024) /* larger bodies are refused */

struct mc_creds {
	int api;                  /* 1 or 2 */
	const char *base_url;     /* https://eu-api.mimecast.com (no trailing /) */
	const char *app_id, *app_key, *access_key, *secret_key;  /* api 1 */
	const char *client_id, *client_secret;                   /* api 2 */
	const char *ca_file;      /* extra trust anchor, or NULL */
	const char *proxy;        /* config_proxy_url: a URL, "" none, NULL the environment's */
	const char *proxy_user, *proxy_password, *proxy_ca_file;  /* each may be NULL */
	int64_t connect_timeout_ms; /* 0: 10 s */
	int64_t low_speed_secs;     /* abort when < 100 bytes/s for this long; 0: 30.
	                               There is no total time limit. */
};

typedef struct mc_client mc_client;

/* validate.c: the credentials, CA and proxy of an integration (pointers
 * into in). */
void mc_creds_of(struct mc_creds *cr, const struct mw_integration *in);

/* Checks the base URL (https, or http only to a loopback address) and
 * copies the credentials. NULL with a message on bad input. */
mc_client *mc_client_new(const struct mc_creds *creds, mw_err *e);
void mc_client_free(mc_client *c);
/* Transfers in progress give up within a second once *flag is non-zero. */
void mc_client_set_abort(mc_client *c, const atomic_int *flag);
/* Requests sent so far to Mimecast's API endpoints (token requests not
 * counted; a repeat after a new token is). */
int64_t mc_client_requests(const mc_client *c);
/* API 2.0 tokens obtained so far, how many of them replaced one a 401
 * dropped (the others: the first, or one near its expiry), and the newest
 * one's lifetime: the collector turns changes into events. */
struct mc_token_info {
	int64_t obtained, after_401, ttl_ms;
};
void mc_client_token_info(const mc_client *c, struct mc_token_info *t);
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

/* ---- batch.c: batch files (HACKING, "Batch files") ----
 *
 * A batch type (SIEM on API 2.0) lists, per sub-type and day, pre-signed
 * links to gzip'd NDJSON files [GRAV-EVENTS]. */
/* Receives a stream's bytes; < 0 stops the transfer. */
typedef int (*mc_sink)(void *ud, const char *p, size_t n);
struct mc_batch_file {
	char *url;                 /* the pre-signed link, malloc'd */
	int64_t size;              /* as listed, -1 when absent */
};
struct mc_batch_list {
	struct mc_batch_file *files;
	size_t nfiles;
	char *next_page;           /* @nextPage, malloc'd, or NULL */
	int caught_up;             /* isCaughtUp true */
};
void mc_batch_list_free(struct mc_batch_list *l);
/* Lists page_size files of sub-type wire (as sent in type=) for the UTC day
 * that holds day (epoch s), from next_page (NULL or "": the day's start).
 * res->cls MC_OK only when the answer held a value array. */
int mc_batch_list(mc_client *c, const struct mw_logtype *lt, const char *wire, int64_t day,
		  int page_size, const char *next_page, mw_buf *resp, struct mc_batch_list *out,
		  struct mc_result *res);
/* The part of mc_batch_list after HTTP (the replay corpus's entry). */
void mc_batch_list_parse(struct mc_batch_list *out, long status, const char *body, size_t len,
			 const struct mc_classify_ctx *ctx, struct mc_result *res);
/* Downloads one listed file without the Bearer header, gunzips it as it
 * comes and gives line each complete NDJSON line (its bytes without the
 * newline; blank lines skipped). Returns 1 when the link answered 403 or
 * 404 (expired: list again for a fresh one), else 0 with res->cls MC_OK
 * only when the whole file arrived and decompressed to its end; a file cut
 * short or not gzip is MC_RETRY. line returning < 0 stops it (res then
 * MC_UNKNOWN, code "line"). */
int mc_batch_file(mc_client *c, const char *url,
		  int (*line)(void *ud, const char *p, size_t n), void *ud,
		  struct mc_result *res);
/* API 1.0's get-siem-logs: one JSON file a call, {"type":"MTA","data":[...]},
 * the next file's token in the mc-siem-token header; no file left:
 * meta.isLastToken true [MC-SIEM1] [R7-API] (HACKING, "SIEM on API 1.0"). */
struct mc_siem1 {
	js_doc doc;                /* the parsed file */
	int records;               /* its data array, -1 none */
	size_t nrecords;
	int last;                  /* no file: the token asked with stays */
	char *next_token;          /* malloc'd, the file's successor */
};
/* Asks for the file after token (NULL or "": the oldest kept). res->cls
 * MC_OK with a file (records, next_token) or with last set. */
int mc_siem1_file(mc_client *c, const struct mw_logtype *lt, const char *token, mw_buf *resp,
		  struct mc_siem1 *out, struct mc_result *res);
void mc_siem1_free(struct mc_siem1 *f);
/* The path of a link without its query (the file's key in the ledger:
 * the signature changes from one listing to the next), malloc'd. */
char *mc_batch_file_key(const char *url);

/* get-account: name, code and packages (malloc'd strings). */
struct mc_account {
	char *account_name, *account_code, *region;
	char **packages;
	size_t npackages;
};
void mc_account_free(struct mc_account *a);
int mc_get_account(mc_client *c, struct mc_account *acct, struct mc_result *res);

/* discover-authentication (unsigned): the region's base URL for an email
 * address, asked of net->base_url (normally https://api.mimecast.com) in
 * the name of net->app_id, through net's CA file and proxy. */
int mc_discover(const struct mc_creds *net, const char *email, char **base_url,
		struct mc_result *res);

/* ---- regions.c: regions ----
 *
 * Mimecast's regional base URLs, read from data/regions.tsv. */

struct mw_region {
	char code[16];       /* eu, de, us, usb, ca, za, au, je, v2 */
	char name[64];       /* "Europe (excluding Germany)" */
	char base_url[128];  /* https://eu-api.mimecast.com */
	char prefix[16];     /* account code prefix: CUK, or "" */
};

/* The built-in list (the data file's contents compiled in as a fallback). */
size_t regions_list(const struct mw_region **out);
/* 1 if the URL's host is a known Mimecast API host or a loopback address. */
int regions_known_host(const char *base_url);
/* Reads a regions.tsv (code, name, base_url, prefix; "-" for no prefix;
 * '#' comments). *out is malloc'd. */
int regions_load_file(const char *path, struct mw_region **out, size_t *n, mw_err *e);

/* ---- validate.c: the live check ----
 *
 * the live check of an integration: credentials, then each
 * chosen type's permission, with get-account's name and packages when the
 * role allows it. Used by `mimewatch validate`, the collector (for console
 * requests) and the wizard. */

struct validate_row {
	const struct mw_logtype *lt;
	struct mc_result res;     /* cls MC_OK or the failure with its remedy */
	long records_seen;        /* records in the probe page */
};

struct validate_report {
	struct validate_row rows[8];
	size_t nrows;             /* one per chosen type, in table order */
	int account_ok;           /* get-account answered */
	char account_name[128], account_code[32];
	struct mc_result account_res;
	int ok_types;             /* rows with MC_OK */
};

/* Performs the requests (bounded: a few seconds of 429 waiting at most) and
 * fills rep. Returns 0 when every row is ok, 1 otherwise. abort_flag may be
 * NULL. */
int validate_integration(const struct mw_integration *in, struct validate_report *rep,
			 const atomic_int *abort_flag);

#endif
