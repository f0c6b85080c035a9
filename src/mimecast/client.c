/* mimecast/client.c - the Mimecast client. http_post() is the one place mimewatch
 * performs HTTP towards Mimecast: every request, token and discovery call
 * goes through it, with the same TLS, timeout, size and abort rules, which
 * is also the seam that lets tests point the program at the simulator.
 *
 * Secrets (keys, tokens, Authorization headers) are never logged and are
 * wiped from our own memory once used. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1  /* POSIX and BSD interfaces alongside -std=c11 */
#endif
#include "private.h"
#include "netpolicy.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jsonout.h"
#include "scrub.h"

#define DEFAULT_CONNECT_MS 10000
#define DEFAULT_LOW_SPEED_S 30
/* Below this many bytes a second for DEFAULT_LOW_SPEED_S the transfer is
 * given up: a server that drips a byte a second (or sends no headers) is
 * as good as gone, and only the 120 s total timeout would end it at 1. */
#define LOW_SPEED_BYTES 100
#define DEFAULT_TOKEN_TTL_S 1799  /* Mimecast's usual expires_in */
/* A 429 without X-RateLimit-Reset: the API 2.0 gateway answers
 * {"detail":"Over throttling limit (10000/hour)"} (elastic/integrations
 * #11460) against an hourly quota, where a retry every few seconds only
 * prolongs the block. Retry-After when given; otherwise 5 s doubling. */
#define GATEWAY_BACKOFF_MIN_MS 5000
#define GATEWAY_BACKOFF_MAX_MS 900000
#ifdef PACKAGE_VERSION
#define USER_AGENT "mimewatch/" PACKAGE_VERSION
#else
#define USER_AGENT "mimewatch"
#endif

struct mc_client {
	int api;
	char *base_url, *app_id, *app_key, *access_key, *secret_key;
	char *client_id, *client_secret, *ca_file;
	struct mc_proxy proxy;
	int allow_http;          /* base URL is http:// to a loopback address */
	int known_region;
	CURL *curl;              /* kept for connection reuse */
	char errbuf[CURL_ERROR_SIZE];
	const atomic_int *abort_flag;
	int64_t deadline;        /* mw_mono_ms: transfers give up past it, 0 none */
	int64_t sent;            /* requests sent (a repeat after a new token too) */
	int64_t not_before;      /* mw_mono_ms; see also the shared gate */
	int64_t backoff_ms;      /* the gate's backoff when it has no slot in gates[] */
	int last_429_gateway;    /* the last response was a 429 without X-RateLimit-Reset */
	int64_t last_429_wait_ms;
	char last_429_how[64];   /* what set the wait: a header, or the backoff */
	int gate;                /* index in gates[], -1: this client's own only */
	int64_t low_speed_s;     /* for the timeout's remedy */
	int64_t rl_limit, rl_remaining, rl_reset_ms;
	char *token;             /* API 2.0 bearer token */
	scrub_set *scrub;        /* our secrets, kept out of what a server echoes */
	int64_t token_expiry;    /* mw_mono_ms */
	int64_t token_ttl_ms;
	int64_t tokens;          /* tokens obtained (mc_client_token_info) */
	int64_t tokens_after_401; /* of them, asked for after a 401 dropped one */
	int drop_401;            /* the token was dropped for a 401 */
	uint64_t rng;            /* jitter */
	mc_sink sink;            /* mcp_fetch_url's: a 200's body goes there */
	void *sink_ud;
	char siem_token[2048];   /* the last answer's mc-siem-token header, or "" */
};

/* What one transfer saw besides the body. */
struct xfer {
	mw_buf *body;
	int too_big;
	const atomic_int *abort_flag;
	int64_t deadline;        /* mw_mono_ms past which the transfer gives up, 0 none */
	char date[64];
	char rl_limit[32], rl_remaining[32], rl_reset[32];
	char retry_after[64];
	char status_line[96];    /* the last one: a proxy's answer to CONNECT if that failed */
	char siem_token[2048];   /* mc-siem-token: API 1.0's next SIEM file */
	long status;             /* of the status line, for the sink */
	mc_sink sink;            /* a 200's body streams here, unbounded, not into body */
	void *sink_ud;
};


static void gateway_remedy(const mc_client *c, struct mc_result *res);

/* Mimecast's quota is per user: every client of the same credentials in the
 * process (the collector's, a validation's from the console, the wizard's)
 * shares one 429 gate, so none of them asks before a reset another was told
 * to wait for. Keyed by a hash of api, base URL and key id. */
#define MAX_GATES 64
static struct {
	uint64_t key;
	int64_t not_before;
	int64_t backoff_ms;  /* last wait of a 429 without X-RateLimit-Reset, 0: none */
} gates[MAX_GATES];
static int ngates;
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;

static uint64_t gate_hash(uint64_t h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return (h ^ 0xff) * 0x100000001b3ull;  /* a separator between fields */
}

static int gate_join(int api, const char *base_url, const char *id)
{
	uint64_t key = gate_hash(gate_hash(0xcbf29ce484222325ull, api == 1 ? "1" : "2"), base_url);
	int i, g = -1;

	key = gate_hash(key, id);
	pthread_mutex_lock(&gate_mu);
	for (i = 0; i < ngates; i++)
		if (gates[i].key == key)
			g = i;
	if (g < 0 && ngates < MAX_GATES) {
		g = ngates++;
		gates[g].key = key;
		gates[g].not_before = 0;
		gates[g].backoff_ms = 0;
	}
	pthread_mutex_unlock(&gate_mu);
	return g;
}

static int64_t gate_get(const mc_client *c)
{
	int64_t t = c->not_before;

	if (c->gate >= 0) {
		pthread_mutex_lock(&gate_mu);
		if (gates[c->gate].not_before > t)
			t = gates[c->gate].not_before;
		pthread_mutex_unlock(&gate_mu);
	}
	return t;
}

/* The header-less 429 backoff of these credentials: the next wait (5 s,
 * doubling to 15 min), or, with reset, back to none. */
static int64_t gate_backoff(mc_client *c, int reset)
{
	int64_t *b = c->gate >= 0 ? &gates[c->gate].backoff_ms : &c->backoff_ms;
	int64_t v;

	pthread_mutex_lock(&gate_mu);
	if (reset) {
		*b = 0;
	} else {
		*b = *b ? *b * 2 : GATEWAY_BACKOFF_MIN_MS;
		if (*b > GATEWAY_BACKOFF_MAX_MS)
			*b = GATEWAY_BACKOFF_MAX_MS;
	}
	v = *b;
	pthread_mutex_unlock(&gate_mu);
	return v;
}

static int64_t gate_backoff_get(const mc_client *c)
{
	int64_t v;

	pthread_mutex_lock(&gate_mu);
	v = c->gate >= 0 ? gates[c->gate].backoff_ms : c->backoff_ms;
	pthread_mutex_unlock(&gate_mu);
	return v;
}

static void gate_hold(mc_client *c, int64_t t)
{
	if (t > c->not_before)
		c->not_before = t;
	if (c->gate >= 0) {
		pthread_mutex_lock(&gate_mu);
		if (t > gates[c->gate].not_before)
			gates[c->gate].not_before = t;
		pthread_mutex_unlock(&gate_mu);
	}
}

static void wipe(char *s)
{
	if (s) {
		/* volatile stores so the compiler keeps them before free() */
		volatile char *p = s;
		while (*p)
			*p++ = 0;
	}
}

static void free_secret(char **s)
{
	wipe(*s);
	free(*s);
	*s = NULL;
}

static void wipe_slist(struct curl_slist *l)
{
	for (; l; l = l->next)
		wipe(l->data);
}

/* A server may quote what it was sent (the Authorization header, the
 * token request's form): every secret of the client, the current token
 * included, is scrubbed from what it answers (scrub.h). */
static void scrub_reset(mc_client *c)
{
	scrub_set_clear(c->scrub);
	scrub_set_add(c->scrub, c->app_key);
	scrub_set_add(c->scrub, c->access_key);
	scrub_set_add(c->scrub, c->secret_key);
	scrub_set_add(c->scrub, c->client_secret);
	scrub_set_add(c->scrub, c->token);
	scrub_set_add(c->scrub, c->proxy.password);
}

static void scrub_result(const mc_client *c, struct mc_result *res)
{
	scrub_text(c->scrub, res->code);
	scrub_text(c->scrub, res->message);
	scrub_text(c->scrub, res->remedy);
}

/* ---- callbacks ------------------------------------------------------------ */

static size_t on_write(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * n;

	if (x->sink && x->status == 200)
		return x->sink(x->sink_ud, p, len) < 0 ? 0 : len;
	if (x->body->len + len > MC_MAX_RESPONSE) {
		x->too_big = 1;
		return 0;  /* curl aborts with CURLE_WRITE_ERROR */
	}
	mw_buf_append(x->body, p, len);
	return len;
}

static void header_value(char *dst, size_t n, const char *v, size_t len)
{
	while (len && (*v == ' ' || *v == '\t')) {
		v++;
		len--;
	}
	while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' ' ||
		       v[len - 1] == '\t'))
		len--;
	if (len >= n)
		len = n - 1;
	memcpy(dst, v, len);
	dst[len] = '\0';
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * n;
	const char *colon = memchr(p, ':', len);
	size_t nl;
	const char *v;

	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		/* A new response (after a 1xx): forget the previous headers. */
		x->date[0] = x->rl_limit[0] = x->rl_remaining[0] = x->rl_reset[0] = '\0';
		x->retry_after[0] = x->siem_token[0] = '\0';
		header_value(x->status_line, sizeof(x->status_line), p, len);
		x->status = len > 9 ? strtol(p + 9, NULL, 10) : 0;
		return len;
	}
	if (!colon)
		return len;
	nl = (size_t)(colon - p);
	v = colon + 1;
#define IS(name) (nl == sizeof(name) - 1 && strncasecmp(p, name, nl) == 0)
	if (IS("date"))
		header_value(x->date, sizeof(x->date), v, len - nl - 1);
	else if (IS("x-ratelimit-limit"))
		header_value(x->rl_limit, sizeof(x->rl_limit), v, len - nl - 1);
	else if (IS("x-ratelimit-remaining"))
		header_value(x->rl_remaining, sizeof(x->rl_remaining), v, len - nl - 1);
	else if (IS("x-ratelimit-reset"))
		header_value(x->rl_reset, sizeof(x->rl_reset), v, len - nl - 1);
	else if (IS("retry-after"))
		header_value(x->retry_after, sizeof(x->retry_after), v, len - nl - 1);
	else if (IS("mc-siem-token"))
		header_value(x->siem_token, sizeof(x->siem_token), v, len - nl - 1);
	else if (IS("content-length")) {
		char cl[32];

		header_value(cl, sizeof(cl), v, len - nl - 1);
		if (!x->sink && (strlen(cl) > 9 || strtoull(cl, NULL, 10) > MC_MAX_RESPONSE)) {
			x->too_big = 1;  /* refuse before reading any of it */
			return 0;
		}
	}
#undef IS
	return len;
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	const struct xfer *x = ud;

	(void)dt, (void)dn, (void)ut, (void)un;
	return (x->abort_flag && *x->abort_flag) || (x->deadline && mw_mono_ms() > x->deadline);
}

/* ---- client ---------------------------------------------------------------- */

/* Checks base_url; sets *allow_http for http:// to loopback. */
static int check_base_url(const char *url, const char *field, int *allow_http, mw_err *e)
{
	char host[256], scheme[32];
	int rc = -1;

	*allow_http = 0;
	if (!url || !*url) {
		mw_err_set(e, "%s: missing; give the region's API URL, e.g. "
			   "https://eu-api.mimecast.com", field);
		return -1;
	}
	if (strlen(url) > 512 || strpbrk(url, "?# \t\r\n")) {
		mw_err_set(e, "%s: \"%.80s\" is not a plain base URL; give scheme and host only, "
			   "e.g. https://eu-api.mimecast.com", field, url);
		return -1;
	}
	switch (net_url_scheme(url, scheme, sizeof(scheme))) {
	case NET_HTTPS:
		rc = 0;
		break;
	case NET_HTTP_LOOPBACK:
		*allow_http = 1;
		rc = 0;
		break;
	case NET_HTTP_REFUSED:
		net_url_host(url, host, sizeof(host));
		mw_err_set(e, "%s: plain http:// is refused for %s (keys would cross the "
			   "network unprotected); use https://", field, host);
		break;
	case NET_SCHEME_OTHER:
		mw_err_set(e, "%s: scheme \"%s\" is not supported; use https://", field, scheme);
		break;
	case NET_NOT_URL:
		mw_err_set(e, "%s: \"%.80s\" is not a URL; give e.g. https://eu-api.mimecast.com",
			   field, url);
		break;
	}
	return rc;
}

static char *dup_base(const char *url)
{
	size_t n = strlen(url);

	while (n && url[n - 1] == '/')
		n--;
	return mw_xstrndup(url, n);
}

static void setup_curl(mc_client *c, int64_t connect_ms, int64_t low_speed_s)
{
	CURL *h = c->curl;

	net_curl_harden(h, c->allow_http, c->ca_file, c->errbuf);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(connect_ms > 0 ? connect_ms
							       : DEFAULT_CONNECT_MS));
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, (long)LOW_SPEED_BYTES);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)(low_speed_s > 0 ? low_speed_s
							   : DEFAULT_LOW_SPEED_S));
	/* No total time limit: a slow tenant that keeps answering at more than
	 * LOW_SPEED_BYTES a second is still answering (the collector asks it
	 * for smaller pages when a page does time out). */
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	mcproxy_setup(h, &c->proxy);
}

static mc_client *client_create(const struct mc_creds *cr, int check_keys, mw_err *e)
{
	mc_client *c;
	int allow_http;

	if (!cr || (cr->api != 1 && cr->api != 2)) {
		mw_err_set(e, "api: must be v1 or v2");
		return NULL;
	}
	if (check_base_url(cr->base_url, "base_url", &allow_http, e) < 0)
		return NULL;
	if (check_keys) {
		const char *miss = NULL;

		if (cr->api == 1) {
			if (!cr->app_id || !*cr->app_id)
				miss = "app_id (the Application ID)";
			else if (!cr->app_key || !*cr->app_key)
				miss = "app_key (the Application Key)";
			else if (!cr->access_key || !*cr->access_key)
				miss = "access_key";
			else if (!cr->secret_key || !*cr->secret_key)
				miss = "secret_key";
		} else {
			if (!cr->client_id || !*cr->client_id)
				miss = "client_id";
			else if (!cr->client_secret || !*cr->client_secret)
				miss = "client_secret";
		}
		if (miss) {
			mw_err_set(e, "%s: missing; copy it from the Mimecast API application", miss);
			return NULL;
		}
	}
	net_curl_init();
	c = mw_xcalloc(1, sizeof(*c));
	c->api = cr->api;
	c->allow_http = allow_http;
	c->base_url = dup_base(cr->base_url);
	c->known_region = regions_known_host(c->base_url);
	c->app_id = mw_xstrdup(cr->app_id);
	c->app_key = mw_xstrdup(cr->app_key);
	c->access_key = mw_xstrdup(cr->access_key);
	c->secret_key = mw_xstrdup(cr->secret_key);
	c->client_id = mw_xstrdup(cr->client_id);
	c->client_secret = mw_xstrdup(cr->client_secret);
	c->ca_file = cr->ca_file && *cr->ca_file ? mw_xstrdup(cr->ca_file) : NULL;
	mcproxy_init(&c->proxy, cr);
	c->scrub = scrub_set_new();
	scrub_reset(c);
	c->rl_limit = c->rl_remaining = c->rl_reset_ms = -1;
	c->gate = gate_join(c->api, c->base_url, c->api == 1 ? c->access_key : c->client_id);
	c->rng = (uint64_t)mw_mono_ms() * 0x9E3779B97F4A7C15ull ^ (uint64_t)(uintptr_t)c;
	if (!c->rng)
		c->rng = 1;
	c->curl = curl_easy_init();
	if (!c->curl) {
		mw_err_set(e, "cannot initialise libcurl (out of memory?)");
		mc_client_free(c);
		return NULL;
	}
	c->low_speed_s = cr->low_speed_secs > 0 ? cr->low_speed_secs : DEFAULT_LOW_SPEED_S;
	setup_curl(c, cr->connect_timeout_ms, cr->low_speed_secs);
	return c;
}

mc_client *mc_client_new(const struct mc_creds *creds, mw_err *e)
{
	return client_create(creds, 1, e);
}

void mc_client_free(mc_client *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	free(c->base_url);
	free(c->app_id);
	free_secret(&c->app_key);
	free_secret(&c->access_key);
	free_secret(&c->secret_key);
	free(c->client_id);
	free_secret(&c->client_secret);
	mcproxy_free(&c->proxy);
	free_secret(&c->token);
	scrub_set_free(c->scrub);
	free(c->ca_file);
	free(c);
}

void mc_client_set_abort(mc_client *c, const atomic_int *flag)
{
	c->abort_flag = flag;
}

void mc_client_set_deadline(mc_client *c, int64_t mono_ms)
{
	c->deadline = mono_ms;
}

int64_t mc_client_requests(const mc_client *c)
{
	return c->sent;
}

void mc_client_token_info(const mc_client *c, struct mc_token_info *t)
{
	t->obtained = c->tokens;
	t->after_401 = c->tokens_after_401;
	t->ttl_ms = c->token_ttl_ms;
}

void mc_client_hold_until(mc_client *c, int64_t t)
{
	gate_hold(c, t);
}

int64_t mc_client_not_before(const mc_client *c)
{
	return gate_get(c);
}

int mc_client_gateway_backoff(const mc_client *c)
{
	return gate_backoff_get(c) > 0;
}

void mc_client_ratelimit(const mc_client *c, int64_t *limit, int64_t *remaining,
			 int64_t *reset_ms)
{
	if (limit)
		*limit = c->rl_limit;
	if (remaining)
		*remaining = c->rl_remaining;
	if (reset_ms)
		*reset_ms = c->rl_reset_ms;
}

/* ---- the one HTTP function ------------------------------------------------ */

static const char *curl_code_name(CURLcode rc)
{
	switch (rc) {
	case CURLE_UNSUPPORTED_PROTOCOL: return "CURLE_UNSUPPORTED_PROTOCOL";
	case CURLE_URL_MALFORMAT: return "CURLE_URL_MALFORMAT";
	case CURLE_COULDNT_RESOLVE_PROXY: return "CURLE_COULDNT_RESOLVE_PROXY";
	case CURLE_COULDNT_RESOLVE_HOST: return "CURLE_COULDNT_RESOLVE_HOST";
	case CURLE_COULDNT_CONNECT: return "CURLE_COULDNT_CONNECT";
	case CURLE_HTTP2: return "CURLE_HTTP2";
	case CURLE_PARTIAL_FILE: return "CURLE_PARTIAL_FILE";
	case CURLE_WRITE_ERROR: return "CURLE_WRITE_ERROR";
	case CURLE_OUT_OF_MEMORY: return "CURLE_OUT_OF_MEMORY";
	case CURLE_OPERATION_TIMEDOUT: return "CURLE_OPERATION_TIMEDOUT";
	case CURLE_ABORTED_BY_CALLBACK: return "CURLE_ABORTED_BY_CALLBACK";
	case CURLE_SSL_CONNECT_ERROR: return "CURLE_SSL_CONNECT_ERROR";
	case CURLE_PEER_FAILED_VERIFICATION: return "CURLE_PEER_FAILED_VERIFICATION";
	case CURLE_GOT_NOTHING: return "CURLE_GOT_NOTHING";
	case CURLE_SEND_ERROR: return "CURLE_SEND_ERROR";
	case CURLE_RECV_ERROR: return "CURLE_RECV_ERROR";
	case CURLE_SSL_CERTPROBLEM: return "CURLE_SSL_CERTPROBLEM";
	case CURLE_SSL_CIPHER: return "CURLE_SSL_CIPHER";
	case CURLE_BAD_CONTENT_ENCODING: return "CURLE_BAD_CONTENT_ENCODING";
	case CURLE_SSL_CACERT_BADFILE: return "CURLE_SSL_CACERT_BADFILE";
	case CURLE_SSL_ISSUER_ERROR: return "CURLE_SSL_ISSUER_ERROR";
	case CURLE_SSL_INVALIDCERTSTATUS: return "CURLE_SSL_INVALIDCERTSTATUS";
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH: return "CURLE_SSL_PINNEDPUBKEYNOTMATCH";
	case CURLE_HTTP2_STREAM: return "CURLE_HTTP2_STREAM";
	default: return NULL;
	}
}

static int has_cert_text(const char *s)
{
	static const char *const words[] = { "certificate", "cert ", "verify", "issuer",
					     "self-signed", "self signed", "subject", NULL };

	for (int i = 0; words[i]; i++) {
		size_t n = strlen(words[i]);

		for (const char *p = s; *p; p++)
			if (strncasecmp(p, words[i], n) == 0)
				return 1;
	}
	return 0;
}

/* OpenSSL's and GnuTLS's words for a protocol version both sides lack. */
static int has_old_tls_text(const char *s)
{
	static const char *const words[] = { "unsupported protocol", "protocol version",
					     "wrong version number", "no protocols available",
					     "unsupported_protocol", NULL };

	for (int i = 0; words[i]; i++)
		if (strcasestr(s, words[i]))
			return 1;
	return 0;
}

/* Classifies a failed transfer (no usable HTTP response). */
static void transport_error(mc_client *c, CURLcode rc, const struct xfer *x,
			    struct mc_result *res)
{
	const char *name = curl_code_name(rc);
	const char *text = c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc);
	char host[256] = "", shost[128];
	long status = 0;

	if (net_url_host(c->base_url, host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "the base_url host");
	mc_sanitize_copy(shost, sizeof(shost), host, strlen(host));
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	res->http_status = status;
	if (name)
		snprintf(res->code, sizeof(res->code), "%s", name);
	else
		snprintf(res->code, sizeof(res->code), "curl error %d", (int)rc);
	mc_sanitize_copy(res->message, sizeof(res->message), text, strlen(text));

	if (x->too_big) {
		res->cls = MC_UNKNOWN;
		snprintf(res->message, sizeof(res->message), "response larger than 16 MiB refused");
		snprintf(res->remedy, sizeof(res->remedy),
			 "response larger than 16 MiB refused; lower page_size or check base_url");
		res->retryable = 0;
		return;
	}
	if (mcproxy_failure(c->curl, rc, &c->proxy, x->status_line, res)) {
		scrub_result(c, res);
		return;
	}
	switch (rc) {
	case CURLE_SSL_CACERT_BADFILE:
		res->cls = MC_TLS;
		snprintf(res->remedy, sizeof(res->remedy),
			 "ca_file %s cannot be read as PEM certificates: fix ca_file or remove it",
			 c->ca_file ? c->ca_file : "(default bundle)");
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		res->cls = MC_TLS;
		break;
	case CURLE_SSL_CONNECT_ERROR:
		if (has_old_tls_text(text)) {
			/* A server (or something in between) that only speaks TLS
			 * 1.1 or older: retrying cannot help, and it is refused. */
			res->cls = MC_TLS;
			snprintf(res->remedy, sizeof(res->remedy),
				 "%s offers no TLS 1.2 or later and mimewatch refuses older "
				 "protocols: check that base_url names the Mimecast host and that "
				 "no proxy in between downgrades the connection", shost);
		} else {
			res->cls = has_cert_text(text) ? MC_TLS : MC_RETRY;
		}
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		res->cls = MC_BAD_REQUEST;
		snprintf(res->remedy, sizeof(res->remedy), "check base_url (%s)", c->base_url);
		break;
	case CURLE_PARTIAL_FILE:
		res->cls = MC_RETRY;
		snprintf(res->message, sizeof(res->message), "truncated body: %.300s", text);
		snprintf(res->remedy, sizeof(res->remedy),
			 "the response was cut short (truncated body); will retry");
		break;
	case CURLE_OPERATION_TIMEDOUT:
		res->cls = MC_RETRY;
		snprintf(res->remedy, sizeof(res->remedy),
			 "%s stopped answering (no headers, or under %d bytes/s for %lld s); will "
			 "retry", shost, LOW_SPEED_BYTES,
			 (long long)c->low_speed_s);
		break;
	case CURLE_ABORTED_BY_CALLBACK:
		res->cls = MC_RETRY;
		if (x->deadline && mw_mono_ms() > x->deadline &&
		    !(x->abort_flag && *x->abort_flag)) {
			snprintf(res->message, sizeof(res->message),
				 "the retry budget ran out during this request");
			snprintf(res->remedy, sizeof(res->remedy), "%s kept failing for the whole "
				 "retry budget; it is tried again on the next run", shost);
			break;
		}
		snprintf(res->message, sizeof(res->message), "transfer aborted: shutting down");
		snprintf(res->remedy, sizeof(res->remedy), "the transfer was aborted; it is "
			 "repeated on the next start");
		break;
	default:
		res->cls = MC_RETRY;
		break;
	}
	if (res->cls == MC_TLS && !res->remedy[0])
		snprintf(res->remedy, sizeof(res->remedy),
			 "the certificate of %s was not accepted: check that base_url names the "
			 "Mimecast host; if a TLS-inspecting proxy or private CA signs it, set "
			 "ca_file to that CA; otherwise the host is not who it claims",
			 shost);
	if (res->cls == MC_RETRY && !res->remedy[0] &&
	    !mcproxy_env_hint(rc, &c->proxy, res->remedy, sizeof(res->remedy)))
		snprintf(res->remedy, sizeof(res->remedy),
			 "network trouble reaching %s; will retry (check DNS, firewall and proxy "
			 "if it persists)", shost);
	res->retryable = res->cls == MC_RETRY;
	scrub_result(c, res);
}

static int64_t parse_count(const char *s)
{
	char *end;
	long long v;

	if (!s[0] || s[0] < '0' || s[0] > '9')
		return -1;
	v = strtoll(s, &end, 10);
	return *end == '\0' && v >= 0 ? (int64_t)v : -1;
}

static uint64_t next_rand(mc_client *c)
{
	/* xorshift64: jitter needs spread, not secrecy */
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 7;
	c->rng ^= c->rng << 17;
	return c->rng;
}

static void hold_until(mc_client *c, int64_t t)
{
	gate_hold(c, t);
}

/* Retry-After in ms: delta-seconds, or an HTTP-date taken against the
 * response's own Date when it has one (a skewed local clock must not stretch
 * or cut the wait). -1 when absent or not understood. */
static int64_t retry_after_ms(const struct xfer *x)
{
	const char *v = x->retry_after;
	int64_t when, ref;

	if (!v[0])
		return -1;
	if (v[0] >= '0' && v[0] <= '9') {
		int64_t secs = 0;

		for (; *v >= '0' && *v <= '9'; v++)
			if ((secs = secs * 10 + (*v - '0')) > 86400)
				return -1;
		return *v ? -1 : secs * 1000;
	}
	if (mw_parse_http_date(v, &when) < 0)
		return -1;
	if (!x->date[0] || mw_parse_http_date(x->date, &ref) < 0)
		ref = mw_now();
	return when > ref ? (when - ref) * 1000 : 0;
}

/* Rate-limit headers into the result and the client; the 429 gate and
 * pacing on X-RateLimit-Remaining. */
static void note_limits(mc_client *c, const struct xfer *x, long status, struct mc_result *res)
{
	int64_t now = mw_mono_ms();

	res->rl_limit = parse_count(x->rl_limit);
	res->rl_remaining = parse_count(x->rl_remaining);
	res->rl_reset_ms = x->rl_reset[0] ? mc_parse_reset_ms(x->rl_reset) : -1;
	if (res->rl_limit >= 0)
		c->rl_limit = res->rl_limit;
	if (res->rl_remaining >= 0)
		c->rl_remaining = res->rl_remaining;
	if (res->rl_reset_ms >= 0)
		c->rl_reset_ms = res->rl_reset_ms;
	c->last_429_gateway = 0;
	if (status == 429) {
		int64_t wait, jitter, ra;

		if (res->rl_reset_ms >= 0) {
			wait = mc_clamp_wait_ms(res->rl_reset_ms);
			snprintf(c->last_429_how, sizeof(c->last_429_how), "X-RateLimit-Reset");
		} else if ((ra = retry_after_ms(x)) >= 0) {
			wait = mc_clamp_wait_ms(ra);
			c->last_429_gateway = 1;
			snprintf(c->last_429_how, sizeof(c->last_429_how), "Retry-After");
		} else {
			wait = gate_backoff(c, 0);
			c->last_429_gateway = 1;
			snprintf(c->last_429_how, sizeof(c->last_429_how),
				 "no reset given: backing off, doubling up to 15 min");
		}
		/* jitter only ever adds: 0..10% */
		jitter = (int64_t)(next_rand(c) % (uint64_t)(wait / 10 + 1));
		c->last_429_wait_ms = wait + jitter;
		hold_until(c, now + wait + jitter);
	} else if (res->rl_remaining >= 0 && res->rl_remaining <= 1 && res->rl_reset_ms >= 0) {
		hold_until(c, now + mc_clamp_wait_ms(res->rl_reset_ms));
	}
}

/* POSTs body to url (body NULL: a GET). Returns 1 with res->http_status
 * when a response arrived (body in resp), 0 when the transfer failed (res
 * classified). */
static int http_post(mc_client *c, const char *url, struct curl_slist *hdrs, const char *body,
		     size_t len, mw_buf *resp, struct xfer *x, struct mc_result *res)
{
	CURLcode rc;
	long status = 0;
	curl_off_t cl = -1, got = 0;

	memset(x, 0, sizeof(*x));
	x->body = resp;
	x->abort_flag = c->abort_flag;
	x->deadline = c->deadline;
	x->sink = c->sink;
	x->sink_ud = c->sink_ud;
	mw_buf_reset(resp);
	mw_buf_reserve(resp, 0);  /* resp->data is a string even when empty */
	c->errbuf[0] = '\0';
	res->server_date = 0;

	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);
	if (body) {
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
	} else {
		curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, x);
	rc = curl_easy_perform(c->curl);
	/* The list may hold the Authorization header: don't leave it set. */
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, NULL);

	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	note_limits(c, x, status, res);
	memcpy(c->siem_token, x->siem_token, sizeof(c->siem_token));
	if (x->date[0] && mw_parse_http_date(x->date, &res->server_date) < 0)
		res->server_date = 0;
	if (rc != CURLE_OK) {
		transport_error(c, rc, x, res);
		return 0;
	}
	curl_easy_getinfo(c->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
	curl_easy_getinfo(c->curl, CURLINFO_SIZE_DOWNLOAD_T, &got);
	if (cl >= 0 && got < cl) {
		transport_error(c, CURLE_PARTIAL_FILE, x, res);
		return 0;
	}
	res->http_status = status;
	mw_log(2, "%s %s: HTTP %ld, %zu bytes", body ? "POST" : "GET", url, status, resp->len);
	return 1;
}

/* ---- requests ------------------------------------------------------------- */

static int join_url(const mc_client *c, const char *path, char *out, size_t n)
{
	int k = snprintf(out, n, "%s%s", c->base_url, path);

	return k < 0 || (size_t)k >= n ? -1 : 0;
}

void mcp_local_failure(struct mc_result *res, const char *code, const char *msg,
			  const char *remedy)
{
	res->cls = MC_UNKNOWN;
	res->http_status = 0;
	snprintf(res->code, sizeof(res->code), "%s", code);
	snprintf(res->message, sizeof(res->message), "%s", msg);
	snprintf(res->remedy, sizeof(res->remedy), "%s", remedy);
	res->retryable = 0;
}

/* Parses the body (if any) into doc and classifies. Returns the root
 * token, or -1 when the body is not JSON. */
/* Says what is wrong with a body that did not parse (e.g. nesting too
 * deep), not only that it is malformed. */
void mcp_malformed_detail(struct mc_result *res, int root, const mw_err *e)
{
	char why[256];

	if (root >= 0 || !e->msg[0] || strcmp(res->message, "malformed response body") != 0)
		return;
	mc_sanitize_copy(why, sizeof(why), e->msg, strlen(e->msg));
	snprintf(res->message, sizeof(res->message), "malformed response body: %s", why);
}

/* errclass copies a message cut to fit mc_result, and a secret cut in half
 * is no longer recognised: so when the body said anything, the whole of it
 * is scrubbed and, if that found a secret, classified again from the
 * scrubbed copy. doc stays the parse of the body as it came. */
static void classify_scrubbed(const mc_client *c, long status, const mw_buf *resp,
			      const struct mc_classify_ctx *ctx, struct mc_result *res)
{
	mw_buf copy;
	js_doc d;
	mw_err e;
	int root = -1;

	if (!resp->len)
		return;
	mw_buf_init(&copy);
	mw_buf_append(&copy, resp->data, resp->len);
	if (scrub_buf(c->scrub, &copy) > 0) {
		js_init(&d);
		mw_err_clear(&e);
		if (copy.len && js_parse(&d, copy.data, copy.len, &e) == 0)
			root = 0;
		mc_classify(res, status, &d, root, ctx);
		mcp_malformed_detail(res, root, &e);
		js_free(&d);
	}
	mw_buf_free(&copy);
}

static int classify_body(mc_client *c, long status, const mw_buf *resp, js_doc *doc,
			 const char *permission, const char *product, struct mc_result *res)
{
	struct mc_classify_ctx ctx = { permission, mw_now(), c->known_region, c->api, product };
	mw_err e;
	int root = -1;

	mw_err_clear(&e);
	if (resp->len && js_parse(doc, resp->data, resp->len, &e) == 0)
		root = 0;
	mc_classify(res, status, doc, root, &ctx);
	mcp_malformed_detail(res, root, &e);
	if (res->cls != MC_OK || res->code[0] || res->message[0])
		classify_scrubbed(c, status, resp, &ctx, res);
	if (status >= 300 && status <= 399) {
		char *loc = NULL, host[256] = "", shost[128] = "";

		curl_easy_getinfo(c->curl, CURLINFO_REDIRECT_URL, &loc);
		if (loc && net_url_host(loc, host, sizeof(host)) == 0)
			mc_sanitize_copy(shost, sizeof(shost), host, strlen(host));
		snprintf(res->remedy, sizeof(res->remedy), "redirect to %s refused; check base_url",
			 shost[0] ? shost : "another location");
		snprintf(res->message, sizeof(res->message), "HTTP %ld: %.300s", status, res->remedy);
	}
	scrub_result(c, res);
	return root;
}

/* API 2.0: a bearer token from <base_url>/oauth/token. Returns 0 with
 * res->cls MC_OK when c->token is usable. */
static int token_fetch(mc_client *c, struct mc_result *res)
{
	struct curl_slist *h = NULL;
	char url[1024];
	char *id, *secret;
	mw_buf body, resp;
	js_doc doc;
	struct xfer x;
	int64_t started = mw_mono_ms();
	int root, tok;

	if (join_url(c, "/oauth/token", url, sizeof(url)) < 0) {
		mcp_local_failure(res, "base_url", "base_url too long", "shorten base_url");
		return -1;
	}
	id = curl_easy_escape(c->curl, c->client_id, 0);
	secret = curl_easy_escape(c->curl, c->client_secret, 0);
	if (!id || !secret)
		abort();
	mw_buf_init(&body);
	mw_buf_printf(&body, "client_id=%s&client_secret=%s&grant_type=client_credentials", id,
		      secret);
	wipe(secret);
	curl_free(id);
	curl_free(secret);
	h = curl_slist_append(h, "Content-Type: application/x-www-form-urlencoded");
	h = curl_slist_append(h, "Accept: application/json");
	h = curl_slist_append(h, "Expect:");
	mw_buf_init(&resp);
	js_init(&doc);

	free_secret(&c->token);
	if (http_post(c, url, h, body.data, body.len, &resp, &x, res)) {
		long status = res->http_status;

		root = classify_body(c, status, &resp, &doc, NULL, NULL, res);
		if (status == 200) {
			int64_t ttl = DEFAULT_TOKEN_TTL_S;

			tok = root >= 0 ? js_get(&doc, root, "access_token") : -1;
			if (tok >= 0 && doc.toks[tok].type == JS_STRING && doc.toks[tok].end >
			    doc.toks[tok].start) {
				int ex = js_get(&doc, root, "expires_in");

				if (ex >= 0 && (js_int(&doc, ex, &ttl) < 0 || ttl <= 0 || ttl > 86400 * 30))
					ttl = DEFAULT_TOKEN_TTL_S;
				c->token = js_strdup(&doc, tok);
				scrub_reset(c);
				c->token_ttl_ms = ttl * 1000;
				c->token_expiry = started + c->token_ttl_ms;
				c->tokens++;
				if (c->drop_401)
					c->tokens_after_401++;
				c->drop_401 = 0;
				res->cls = MC_OK;
				res->code[0] = res->remedy[0] = res->message[0] = '\0';
				res->retryable = 0;
			} else {
				res->cls = MC_RETRY;
				res->retryable = 1;
				snprintf(res->message, sizeof(res->message),
					 "token response without access_token");
				snprintf(res->remedy, sizeof(res->remedy),
					 "the response was cut short or malformed; will retry");
			}
		} else if ((status == 400 || status == 401 || status == 403) &&
			   res->cls != MC_IP_NOT_ALLOWED) {
			char addrs[160];

			/* The token request itself was refused: the one place an
			 * API 2.0 integration's credentials are judged. */
			res->cls = MC_INVALID_SIGNATURE;
			res->retryable = 0;
			mc_host_addresses(addrs, sizeof(addrs), 3);
			snprintf(res->remedy, sizeof(res->remedy), "%s; if the account limits source "
				 "addresses, allow this host (%s)",
				 mc_class_remedy_api(MC_INVALID_SIGNATURE, 2), addrs);
		} else if (status == 429 && c->last_429_gateway) {
			gateway_remedy(c, res);
		} else if (status == 404) {
			snprintf(res->remedy, sizeof(res->remedy),
				 "no token endpoint at %.200s/oauth/token: check base_url (API 2.0 "
				 "uses https://api.services.mimecast.com)", c->base_url);
		}
	}
	/* resp and doc may hold the token: wipe before freeing */
	if (resp.data)
		explicit_bzero(resp.data, resp.len);  /* a memset before free may be elided */
	if (body.data)
		explicit_bzero(body.data, body.len);
	mw_buf_free(&resp);
	mw_buf_free(&body);
	js_free(&doc);
	curl_slist_free_all(h);
	return res->cls == MC_OK ? 0 : -1;
}

/* Refresh a tenth of the lifetime early (3 min of Mimecast's 30), but never
 * so early that a short-lived token is refreshed before every call: at most a
 * quarter of the lifetime, at least a second when the token allows it. */
static int token_fresh(const mc_client *c)
{
	int64_t margin = c->token_ttl_ms / 10;

	if (margin < 1000)
		margin = 1000;
	if (margin > c->token_ttl_ms / 4)
		margin = c->token_ttl_ms / 4;
	return c->token && mw_mono_ms() < c->token_expiry - margin;
}

/* The type whose endpoint this is, for the permission a 403 names. */
static const struct mw_logtype *logtype_for(const char *path)
{
	for (size_t i = 0; i < mw_nlogtypes; i++)
		if (strcmp(mw_logtypes[i].path, path) == 0)
			return &mw_logtypes[i];
	return NULL;
}

/* Builds the auth headers for one attempt: fresh date and request id.
 * Returns 0, 1 when the API 2.0 token could not be had (res classified),
 * or -1 for a local failure. */
static int auth_headers(mc_client *c, const char *path, int sign, struct curl_slist **h,
			int *fetched, struct mc_result *res)
{
	char date[40], reqid[37], line[1200];

	if (c->api == 2 && sign) {
		if (!token_fresh(c)) {
			if (token_fetch(c, res) < 0)
				return res->http_status || res->cls != MC_UNKNOWN ? 1 : -1;
			*fetched = 1;
		}
		snprintf(line, sizeof(line), "Authorization: Bearer %s", c->token);
		*h = curl_slist_append(*h, line);
		wipe(line);
		return 0;
	}
	mw_format_rfc1123(mw_now(), date);
	mw_guid(reqid);
	snprintf(line, sizeof(line), "x-mc-date: %s", date);
	*h = curl_slist_append(*h, line);
	snprintf(line, sizeof(line), "x-mc-req-id: %s", reqid);
	*h = curl_slist_append(*h, line);
	snprintf(line, sizeof(line), "x-mc-app-id: %s", c->app_id ? c->app_id : "");
	*h = curl_slist_append(*h, line);
	if (sign) {
		char auth[1024];

		if (mcsign_authorization(date, reqid, path, c->app_key, c->access_key, c->secret_key,
					 auth, sizeof(auth)) < 0) {
			mcp_local_failure(res, "secret_key", "secret_key is not valid base64",
				      "copy the Secret Key again: it is base64 text ending in '='");
			return -1;
		}
		snprintf(line, sizeof(line), "Authorization: %s", auth);
		*h = curl_slist_append(*h, line);
		wipe(auth);
		wipe(line);
	}
	return 0;
}

/* 401 as the HTTP status, or as meta.status of a 200. */
static int refused_401(const struct mc_result *res, const js_doc *doc, int root)
{
	int64_t ms = 0;
	int t;

	if (res->http_status == 401)
		return 1;
	t = root >= 0 ? js_path(doc, root, "meta.status") : -1;
	return res->http_status == 200 && t >= 0 && js_int(doc, t, &ms) == 0 && ms == 401;
}

static void token_refused(mc_client *c, struct mc_result *res)
{
	char addrs[160];

	res->cls = MC_INVALID_SIGNATURE;
	res->retryable = 0;
	mc_host_addresses(addrs, sizeof(addrs), 3);
	snprintf(res->remedy, sizeof(res->remedy),
		 "Mimecast refused a token it had just issued for this Client ID: check that the "
		 "API 2.0 application is enabled and that its products and role cover this log "
		 "type; if the account limits source addresses, allow this host (%s)", addrs);
	(void)c;
}

/* The gateway's throttling said no wait of its own (or only Retry-After):
 * say so, with the wait mimewatch chose. */
static void gateway_remedy(const mc_client *c, struct mc_result *res)
{
	char what[200];

	snprintf(what, sizeof(what), "%.199s", res->message[0] ? res->message : "HTTP 429");
	snprintf(res->remedy, sizeof(res->remedy),
		 "throttled by the API gateway (%s): next request in %lld s (%s); mimewatch "
		 "waits by itself", what, (long long)((c->last_429_wait_ms + 999) / 1000),
		 c->last_429_how);
	if (!res->code[0])
		snprintf(res->code, sizeof(res->code), "gateway throttling");
}

/* One request: headers, the HTTP call, parsing and classification, and
 * the single token refresh API 2.0 allows. */
static int do_post(mc_client *c, const char *path, const char *body, int sign,
		   const char *permission, const char *product, mw_buf *resp, js_doc *doc,
		   int *rootp,
		   struct mc_result *res)
{
	char url[1024];
	int refreshed = 0, fetched = 0;

	mc_result_init(res);
	*rootp = -1;
	if (!path || path[0] != '/' || join_url(c, path, url, sizeof(url)) < 0) {
		mcp_local_failure(res, "path", "request path must start with '/' and fit a URL",
			      "report this as a mimewatch bug");
		return -1;
	}
	for (;;) {
		struct curl_slist *h = NULL;
		struct xfer x;
		int got;

		int ah = auth_headers(c, path, sign, &h, &fetched, res);

		if (ah != 0) {
			wipe_slist(h);
			curl_slist_free_all(h);
			return ah < 0 ? -1 : 0;  /* a refused token is a classified outcome */
		}
		if (c->api == 2 && sign && mw_mono_ms() < gate_get(c)) {
			/* The token request just made took the last call of the
			 * quota: going on now would be a request before the reset. */
			wipe_slist(h);
			curl_slist_free_all(h);
			mc_result_init(res);
			res->cls = MC_RETRY;
			res->retryable = 1;
			snprintf(res->code, sizeof(res->code), "paced");
			snprintf(res->message, sizeof(res->message),
				 "the token request used the last call of the rate limit");
			snprintf(res->remedy, sizeof(res->remedy), "%s", mc_class_remedy(MC_RETRY));
			return 0;
		}
		if (body)
			h = curl_slist_append(h, "Content-Type: application/json");
		h = curl_slist_append(h, "Accept: application/json");
		h = curl_slist_append(h, "Expect:");
		got = http_post(c, url, h, body, body ? strlen(body) : 0, resp, &x, res);
		c->sent++;
		wipe_slist(h);
		curl_slist_free_all(h);
		if (!got)
			return 0;
		*rootp = classify_body(c, res->http_status, resp, doc, permission, product, res);
		if (c->api == 2 && sign && refused_401(res, doc, *rootp) &&
		    res->cls != MC_IP_NOT_ALLOWED) {
			/* Any 401 on a bearer request means the token is no longer
			 * good, whatever the body says (Sentinel's and XSOAR's 2.0
			 * collectors do the same): drop it and ask once more with a
			 * new one. A refusal of a token fetched for this very
			 * request is the credentials' fault. */
			free_secret(&c->token);
			c->drop_401 = 1;
			if (!refreshed && !fetched) {
				refreshed = 1;
				continue;
			}
			token_refused(c, res);
			return 0;
		}
		if (res->http_status == 429 && c->last_429_gateway)
			gateway_remedy(c, res);
		else if (res->cls == MC_OK && permission)
			gate_backoff(c, 1);  /* a log endpoint answered: the throttling is over */
		return 0;
	}
}

int mcp_request(mc_client *c, const char *path, const char *body, const char *permission,
		const char *product, mw_buf *resp, js_doc *doc, int *rootp,
		struct mc_result *res)
{
	return do_post(c, path, body, 1, permission, product, resp, doc, rootp, res);
}

const char *mcp_siem_token(const mc_client *c)
{
	return c->siem_token;
}

int mcp_fetch_url(mc_client *c, const char *url, mc_sink sink, void *ud, mw_buf *resp,
		  struct mc_result *res)
{
	struct curl_slist *h = NULL;
	struct xfer x;
	int got;

	mc_result_init(res);
	/* a link Mimecast hands out obeys what base_url does: https, or http
	 * to this machine's loopback (netpolicy) */
	if (net_url_scheme(url, NULL, 0) != NET_HTTPS &&
	    net_url_scheme(url, NULL, 0) != NET_HTTP_LOOPBACK) {
		mcp_local_failure(res, "link", "a listed file's link is not https",
			      "the listing gave a link mimewatch refuses to follow");
		return -1;
	}
	/* pre-signed: no Authorization, which the file host would refuse */
	h = curl_slist_append(h, "Expect:");
	c->sink = sink;
	c->sink_ud = ud;
	got = http_post(c, url, h, NULL, 0, resp, &x, res);
	c->sink = NULL;
	c->sink_ud = NULL;
	c->sent++;
	curl_slist_free_all(h);
	return got ? 1 : 0;
}

int mc_post(mc_client *c, const char *path, const char *body, mw_buf *resp, js_doc *doc,
	    struct mc_result *res)
{
	const struct mw_logtype *lt;
	js_doc local;
	int root, rc;

	js_init(&local);
	lt = logtype_for(path ? path : "");
	rc = do_post(c, path, body, 1, lt ? lt->permission : NULL, lt ? lt->product : NULL, resp,
		     doc ? doc : &local, &root, res);
	js_free(&local);
	return rc;
}

void mcp_malformed(struct mc_result *res, const char *what)
{
	res->cls = MC_RETRY;
	res->retryable = 1;
	snprintf(res->message, sizeof(res->message), "%s", what);
	snprintf(res->remedy, sizeof(res->remedy),
		 "the response was cut short or malformed; will retry");
}


/* ---- get-account, discover ---------------------------------------------- */

void mc_account_free(struct mc_account *a)
{
	if (!a)
		return;
	free(a->account_name);
	free(a->account_code);
	free(a->region);
	for (size_t i = 0; i < a->npackages; i++)
		free(a->packages[i]);
	free(a->packages);
	memset(a, 0, sizeof(*a));
}

int mc_get_account(mc_client *c, struct mc_account *acct, struct mc_result *res)
{
	mw_buf resp;
	js_doc doc;
	int root, rc, d0;

	memset(acct, 0, sizeof(*acct));
	mw_buf_init(&resp);
	js_init(&doc);
	rc = do_post(c, "/api/account/get-account", "{\"data\":[]}", 1, NULL, NULL, &resp, &doc, &root,
		     res);
	if (rc == 0 && res->cls == MC_OK) {
		d0 = js_path(&doc, root, "data[0]");
		if (d0 < 0 || doc.toks[d0].type != JS_OBJECT) {
			mcp_malformed(res, "get-account response without data[0]");
		} else {
			int pk = js_get(&doc, d0, "packages");

			acct->account_name = js_strdup(&doc, js_get(&doc, d0, "accountName"));
			acct->account_code = js_strdup(&doc, js_get(&doc, d0, "accountCode"));
			acct->region = js_strdup(&doc, js_get(&doc, d0, "region"));
			if (pk >= 0 && doc.toks[pk].type == JS_ARRAY && doc.toks[pk].size) {
				acct->packages = mw_xcalloc(doc.toks[pk].size, sizeof(char *));
				for (size_t i = 0; i < doc.toks[pk].size; i++) {
					char *s = js_strdup(&doc, js_at(&doc, pk, i));
					if (s)
						acct->packages[acct->npackages++] = s;
				}
			}
		}
	}
	js_free(&doc);
	mw_buf_free(&resp);
	return rc;
}

int mc_discover(const struct mc_creds *net, const char *email, char **base_url,
		struct mc_result *res)
{
	struct mc_creds cr = { 0 };
	mc_client *c;
	mw_err e;
	mw_buf body, resp;
	js_doc doc;
	int root, rc;

	*base_url = NULL;
	mc_result_init(res);
	/* unsigned: the keys stay out of it; the network settings do not */
	cr.api = 1;
	cr.base_url = net->base_url;
	cr.app_id = net->app_id;
	cr.ca_file = net->ca_file;
	cr.proxy = net->proxy;
	cr.proxy_user = net->proxy_user;
	cr.proxy_password = net->proxy_password;
	cr.proxy_ca_file = net->proxy_ca_file;
	cr.connect_timeout_ms = net->connect_timeout_ms;
	cr.low_speed_secs = net->low_speed_secs;
	c = client_create(&cr, 0, &e);
	if (!c) {
		res->cls = MC_BAD_REQUEST;
		snprintf(res->code, sizeof(res->code), "base_url");
		mc_sanitize_copy(res->message, sizeof(res->message), e.msg, strlen(e.msg));
		snprintf(res->remedy, sizeof(res->remedy), "%s", res->message);
		return 0;
	}
	mw_buf_init(&body);
	mw_buf_init(&resp);
	js_init(&doc);
	mw_buf_puts(&body, "{\"data\":[{\"emailAddress\":");
	jsonout_safe_string(&body, email ? email : "", strlen(email ? email : ""));
	mw_buf_puts(&body, "}]}");
	/* discover-authentication is one of the two unsigned calls */
	rc = do_post(c, "/api/login/discover-authentication", body.data, 0, NULL, NULL, &resp, &doc,
		     &root, res);
	if (rc == 0 && res->cls == MC_OK) {
		int api = js_path(&doc, root, "data[0].region.api");
		char *u = api >= 0 ? js_strdup(&doc, api) : NULL;
		int allow_http;

		if (!u || !*u) {
			char semail[128];

			mc_sanitize_copy(semail, sizeof(semail), email ? email : "",
					 strlen(email ? email : ""));
			res->cls = MC_BAD_REQUEST;
			snprintf(res->message, sizeof(res->message),
				 "no region returned for %s", semail);
			snprintf(res->remedy, sizeof(res->remedy),
				 "Mimecast knows no account for %s: check the service user's email "
				 "address, or pick the region by hand", semail);
		} else {
			mw_buf full;

			mw_buf_init(&full);
			if (!strstr(u, "://"))
				mw_buf_puts(&full, "https://");
			mw_buf_puts(&full, u);
			if (check_base_url(full.data, "region.api", &allow_http, &e) == 0) {
				*base_url = dup_base(full.data);
			} else {
				res->cls = MC_BAD_REQUEST;
				mc_sanitize_copy(res->message, sizeof(res->message), e.msg,
						 strlen(e.msg));
				snprintf(res->remedy, sizeof(res->remedy), "discover-authentication "
					 "returned an unusable base URL; pick the region by hand");
			}
			mw_buf_free(&full);
		}
		free(u);
	}
	js_free(&doc);
	mw_buf_free(&body);
	mw_buf_free(&resp);
	mc_client_free(c);
	return rc;
}
