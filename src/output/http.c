/* output/http.c - the HTTP event collector sinks: Splunk HEC (event endpoint,
 * batch form) and the Elasticsearch bulk API.
 *
 * Both follow the policy of netpolicy.h, as the Mimecast client does: TLS
 * >= 1.2 with verification always on (ca_file is the only knob), plain
 * http:// only to loopback, no redirects, a timeout per request, and an abort within a second
 * through the progress callback. One libcurl handle per sink keeps the
 * connection alive between batches. Over https:// a client certificate
 * (client_cert, client_key: PEM) is presented when the receiver asks.
 *
 * Credentials: HEC's token; Elasticsearch's API key or a user and password
 * (basic auth, CURLAUTH_BASIC only: never a scheme the server picks), or
 * none for a cluster without security. Like the token, the password goes
 * in clear only to this machine's loopback.
 *
 * A send is cut into requests by batch_max and batch_bytes. The answer of
 * each request decides how many leading records are "delivered", the only
 * thing the output thread acts on: it moves its offset past them and retries
 * the rest after a back-off (429, 5xx, network: SINK_RETRY) or stops with
 * the message (bad token, wrong index, TLS: SINK_FATAL).
 *
 * A record the receiver refuses for good (Elasticsearch mapping errors, a
 * HEC "invalid data format" naming that event) would block the output forever
 * if it were retried, so it is logged with its id, counted and passed over:
 * it counts as delivered. Refusals that every record would meet (token,
 * index name, permissions) are SINK_FATAL instead, never skips.
 *
 * Elasticsearch uses the "create" action with _id = the record id: the first
 * write of an id wins and a re-send answers 409, which is success here.
 * "index" would work too, but it rewrites the identical document on every
 * re-send (a new version, more merges) and data streams accept only
 * "create". A record changes under its id only as a revision (an
 * impersonation line whose verdict changed, store_commit_page): that one
 * goes as "index" with version = its revision and version_type
 * external_gte, so the newest revision is the document whatever order
 * re-sends arrive in. A data stream refuses it (only "create"): counted as
 * rejected with Elasticsearch's reason, as mimewatch.yaml(5) says. */
#include "private.h"

#include <curl/curl.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "jsonout.h"
#include "jsonscan.h"
#include "netpolicy.h"
#include "scrub.h"

#define DEFAULT_BATCH_MAX 500
#define DEFAULT_TIMEOUT_MS 10000
#define MAX_RESPONSE ((size_t)16 << 20)
#define DEFAULT_ES_INDEX "mimecast-{type}"
#ifdef PACKAGE_VERSION
#define USER_AGENT "mimewatch/" PACKAGE_VERSION
#else
#define USER_AGENT "mimewatch"
#endif

enum http_kind { KIND_HEC, KIND_ES };

struct sink {
	enum http_kind kind;
	char *name;                 /* the output's name, for messages */
	char *url;                  /* what we POST to */
	char *index;                /* template; HEC: NULL unless configured */
	mw_buf host;                /* HEC: the host as a JSON string */
	struct curl_slist *hdrs;    /* holds the Authorization header */
	char *username;             /* Elasticsearch basic auth, or NULL */
	char *password;             /* its password (wiped on close) */
	int has_cert;               /* client_cert is set */
	int cert_requested;         /* the receiver asked for a client certificate */
	char alert[96];             /* the receiver's fatal TLS alert, or "" */
	int batch_max;
	size_t batch_bytes;
	atomic_int *abort_flag;
	CURL *curl;
	char errbuf[CURL_ERROR_SIZE];
	mw_buf body, resp, tmp;
	mw_buf idx;                 /* last expanded index, for idx_integration/type */
	char *idx_integration, *idx_type;
	int idx_valid;
	js_doc doc;
	uint64_t rejected;          /* records refused for good, since open */
	scrub_set *scrub;           /* the token, kept out of what the receiver echoes */
};

/* How one request ended. */
enum outcome {
	OUT_OK,                     /* every record of the batch is taken */
	OUT_SKIP,                   /* *taken accepted, the next one refused for good */
	OUT_SPLIT,                  /* 413: send fewer records */
	OUT_FAIL                    /* *taken accepted, then why/e */
};

static const char *kind_name(const sink *s)
{
	return s->kind == KIND_HEC ? "hec" : "elasticsearch";
}

/* ---- libcurl callbacks ------------------------------------------------------ */

static size_t on_write(char *p, size_t size, size_t n, void *ud)
{
	mw_buf *b = ud;
	size_t len = size * n;

	if (b->len + len > MAX_RESPONSE)
		return 0;  /* CURLE_WRITE_ERROR */
	mw_buf_append(b, p, len);
	return len;
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	const sink *s = ud;

	(void)dt, (void)dn, (void)ut, (void)un;
	return s->abort_flag && *s->abort_flag;
}

/* The sink whose request runs on this thread (post_body), for OpenSSL's
 * info callback, which carries no pointer of ours. */
static _Thread_local sink *tls_sink;

/* SSL_CTX_set_cert_cb: called when the receiver asks for a certificate. */
static int on_cert_request(SSL *ssl, void *arg)
{
	(void)ssl;
	(void)arg;
	if (tls_sink)
		tls_sink->cert_requested = 1;
	return 1;
}

/* SSL_CTX_set_info_callback: keeps the receiver's fatal alert. libcurl may
 * report it only as a failed write (the receiver refused the session and
 * closed it while the batch was going out), or not at all. */
static void on_tls_info(const SSL *ssl, int where, int ret)
{
	(void)ssl;
	if (tls_sink && (where & SSL_CB_READ_ALERT) && !tls_sink->alert[0] &&
	    strcmp(SSL_alert_type_string(ret), "F") == 0)
		/* certificate_required (116, RFC 8446 section 6.2), TLS 1.3's
		 * answer to no certificate, is "unknown" to OpenSSL 3.0. */
		snprintf(tls_sink->alert, sizeof(tls_sink->alert), "TLS alert \"%s\"",
			 (ret & 0xff) == 116 ? "certificate required"
					     : SSL_alert_desc_string_long(ret));
}

/* CURLOPT_SSL_CTX_FUNCTION: libcurl built on OpenSSL hands its context
 * over before each new connection. */
static CURLcode on_ssl_ctx(CURL *h, void *ctx, void *arg)
{
	(void)h;
	SSL_CTX_set_cert_cb(ctx, on_cert_request, arg);
	SSL_CTX_set_info_callback(ctx, on_tls_info);
	return CURLE_OK;
}

/* ---- open and close --------------------------------------------------------- */

static void wipe(char *p)
{
	if (p) {
		volatile char *v = p;
		while (*v)
			*v++ = 0;
	}
}

static void http_close(sink *s)
{
	struct curl_slist *l;

	if (!s)
		return;
	if (s->curl)
		curl_easy_cleanup(s->curl);
	for (l = s->hdrs; l; l = l->next)
		wipe(l->data);  /* the token */
	curl_slist_free_all(s->hdrs);
	wipe(s->password);
	free(s->password);
	free(s->username);
	free(s->name);
	free(s->url);
	free(s->index);
	free(s->idx_integration);
	free(s->idx_type);
	mw_buf_free(&s->host);
	mw_buf_free(&s->body);
	mw_buf_free(&s->resp);
	mw_buf_free(&s->tmp);
	mw_buf_free(&s->idx);
	js_free(&s->doc);
	scrub_set_free(s->scrub);
	free(s);
}

/* Checks the URL: https://, or http:// to loopback only (the token would
 * cross the network in clear otherwise); no userinfo, query or fragment. For
 * HEC the path must be the event endpoint. Sets *allow_http. */
static int check_url(const char *name, enum http_kind kind, const char *url, int *allow_http,
		     mw_err *e)
{
	const char *example = kind == KIND_HEC ? "https://splunk.example:8088/services/collector/event"
					       : "https://es.example:9200";
	CURLU *u;
	char *scheme = NULL, *path = NULL, *user = NULL, *query = NULL, *frag = NULL;
	int rc = -1;

	*allow_http = 0;
	if (!url || !*url) {
		mw_err_set(e, "output \"%s\": url: missing; give e.g. %s", name, example);
		return -1;
	}
	u = curl_url();
	if (!u)
		abort();
	if (strlen(url) > 2048 || strpbrk(url, " \t\r\n") ||
	    curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
		mw_err_set(e, "output \"%s\": url: \"%.100s\" is not a URL; give e.g. %s", name, url,
			   example);
		goto out;
	}
	curl_url_get(u, CURLUPART_USER, &user, 0);
	curl_url_get(u, CURLUPART_QUERY, &query, 0);
	curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0);
	if (user || query || frag) {
		mw_err_set(e, "output \"%s\": url: give scheme, host, port and path only (no user, "
			   "query or fragment; the %s goes in its own key), e.g. %s", name,
			   kind == KIND_HEC ? "token" : "api_key", example);
		goto out;
	}
	if (strcasecmp(scheme, "http") == 0) {
		if (!net_url_is_loopback(url)) {
			mw_err_set(e, "output \"%s\": url: plain http:// is refused off this host (the "
				   "%s would cross the network unprotected); use https://", name,
				   kind == KIND_HEC ? "token" : "API key");
			goto out;
		}
		*allow_http = 1;
	} else if (strcasecmp(scheme, "https") != 0) {
		mw_err_set(e, "output \"%s\": url: scheme \"%s\" is not supported; use https://",
			   name, scheme);
		goto out;
	}
	if (kind == KIND_HEC) {
		size_t n = strlen(path);
		while (n > 1 && path[n - 1] == '/')
			n--;
		path[n] = '\0';
		if (strcmp(path, "/services/collector/event") != 0 &&
		    strcmp(path, "/services/collector") != 0 &&
		    strcmp(path, "/services/collector/event/1.0") != 0) {
			mw_err_set(e, "output \"%s\": url: path \"%.100s\" is not HEC's event endpoint; "
				   "end the URL with /services/collector/event", name, path);
			goto out;
		}
	}
	rc = 0;
out:
	curl_free(scheme);
	curl_free(path);
	curl_free(user);
	curl_free(query);
	curl_free(frag);
	curl_url_cleanup(u);
	return rc;
}

static int check_secret(const char *name, enum http_kind kind, const char *tok, mw_err *e)
{
	const char *key = kind == KIND_HEC ? "token" : "api_key";

	if (!tok || !*tok) {
		mw_err_set(e, "output \"%s\": %s: missing; set %s, %s_file or %s_env", name, key, key,
			   key, key);
		return -1;
	}
	for (const unsigned char *p = (const unsigned char *)tok; *p; p++)
		if (*p < 0x21 || *p == 0x7f) {
			mw_err_set(e, "output \"%s\": %s: contains a space or control character; "
				   "copy it again without surrounding text", name, key);
			return -1;
		}
	return 0;
}

/* Elasticsearch's user and password (basic auth), the client certificate
 * and key: each checked as far as can be without the receiver. */
static int check_auth_and_cert(const char *name, enum http_kind kind, const struct sink_opts *o,
			       int allow_http, mw_err *e)
{
	if (kind == KIND_HEC && (o->username || o->password)) {
		mw_err_set(e, "output \"%s\": username and password are for elasticsearch; HEC "
			   "takes token", name);
		return -1;
	}
	if (!o->username != !o->password) {
		mw_err_set(e, "output \"%s\": %s without %s: give both", name,
			   o->username ? "username" : "password", o->username ? "password" : "username");
		return -1;
	}
	if (o->username && o->token) {
		mw_err_set(e, "output \"%s\": api_key and username/password are both given; keep "
			   "one credential", name);
		return -1;
	}
	if (o->username && (!*o->username || strchr(o->username, ':') ||
			    strpbrk(o->username, "\r\n"))) {
		mw_err_set(e, "output \"%s\": username: empty, or holding ':' or a line break, "
			   "which basic auth cannot carry", name);
		return -1;
	}
	if (o->password && (!*o->password || strpbrk(o->password, "\r\n"))) {
		mw_err_set(e, "output \"%s\": password: empty or holding a line break; copy it "
			   "again without surrounding text", name);
		return -1;
	}
	if (!o->client_cert != !o->client_key) {
		mw_err_set(e, "output \"%s\": %s without %s: give both", name,
			   o->client_cert ? "client_cert" : "client_key",
			   o->client_cert ? "client_key" : "client_cert");
		return -1;
	}
	if (o->client_cert && allow_http) {
		mw_err_set(e, "output \"%s\": client_cert is only used with https:// urls: remove "
			   "client_cert and client_key or use https://", name);
		return -1;
	}
	for (int i = 0; o->client_cert && i < 2; i++) {
		const char *path = i ? o->client_key : o->client_cert;

		if (access(path, R_OK) < 0) {
			mw_err_set(e, "output \"%s\": %s: cannot read %.200s; give a PEM file this "
				   "user can read", name, i ? "client_key" : "client_cert", path);
			return -1;
		}
	}
	return 0;
}

static void setup_curl(sink *s, int allow_http, const char *ca_file, long timeout_ms)
{
	CURL *h = s->curl;
	const char *tls_lib;

	net_curl_harden(h, allow_http, ca_file, s->errbuf);
	/* timeout_ms bounds a whole request: connecting, sending the batch and
	 * the receiver's indexing before it answers. */
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(h, CURLOPT_URL, s->url);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s->resp);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, s);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	/* Only with libcurl on OpenSSL; on another TLS library only libcurl's
	 * own message is left to tell a refused client certificate. */
	tls_lib = curl_version_info(CURLVERSION_NOW)->ssl_version;
	if (tls_lib && strncmp(tls_lib, "OpenSSL", 7) == 0)
		curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
}

static int http_open(enum http_kind kind, const struct sink_opts *o, sink **out, mw_err *e)
{
	const char *name = o->name && *o->name ? o->name : (kind == KIND_HEC ? "hec" : "elasticsearch");
	int allow_http;
	sink *s;
	mw_buf hdr;

	*out = NULL;
	if (check_url(name, kind, o->url, &allow_http, e) < 0 ||
	    ((kind == KIND_HEC || o->token) && check_secret(name, kind, o->token, e) < 0) ||
	    check_auth_and_cert(name, kind, o, allow_http, e) < 0)
		return -1;
	if (o->batch_max < 0 || o->timeout_ms < 0) {
		mw_err_set(e, "output \"%s\": %s: must not be negative", name,
			   o->batch_max < 0 ? "batch_max" : "timeout");
		return -1;
	}
	if (o->ca_file && access(o->ca_file, R_OK) < 0) {
		mw_err_set(e, "output \"%s\": ca_file: cannot read %.200s; give a PEM file of the "
			   "CA that signed the receiver's certificate", name, o->ca_file);
		return -1;
	}
	if (kind == KIND_ES && o->index && !*o->index) {
		mw_err_set(e, "output \"%s\": index: empty; give e.g. mimecast-{type}", name);
		return -1;
	}
	net_curl_init();

	s = mw_xcalloc(1, sizeof(*s));
	s->kind = kind;
	s->name = mw_xstrdup(name);
	mw_buf_init(&s->host);
	mw_buf_init(&s->body);
	mw_buf_init(&s->resp);
	mw_buf_init(&s->tmp);
	mw_buf_init(&s->idx);
	js_init(&s->doc);
	s->batch_max = o->batch_max ? o->batch_max : DEFAULT_BATCH_MAX;
	s->batch_bytes = o->batch_bytes ? o->batch_bytes : DEFAULT_BATCH_BYTES;
	s->abort_flag = o->abort_flag;
	s->scrub = scrub_set_new();
	scrub_set_add(s->scrub, o->token);
	if (o->username) {
		char *basic;

		/* A receiver may quote the password, the pair user:password,
		 * or the Basic credentials (its base64) in any of the forms
		 * scrub.h knows: each is a secret of its own. */
		s->username = mw_xstrdup(o->username);
		s->password = mw_xstrdup(o->password);
		scrub_set_add(s->scrub, o->password);
		mw_buf_init(&hdr);
		mw_buf_printf(&hdr, "%s:%s", o->username, o->password);
		scrub_set_add(s->scrub, hdr.data);
		basic = mw_base64_encode(hdr.data, hdr.len);
		scrub_set_add(s->scrub, basic);
		wipe(basic);
		free(basic);
		wipe(hdr.data);
		mw_buf_free(&hdr);
	}
	if (kind == KIND_HEC) {
		char h[256];
		const char *host = o->hostname;

		s->url = mw_xstrdup(o->url);
		if (!host || !*host) {
			if (gethostname(h, sizeof(h)) < 0)
				mw_strlcpy(h, "localhost", sizeof(h));
			h[sizeof(h) - 1] = '\0';
			host = h;
		}
		jsonout_safe_string(&s->host, host, strlen(host));
		s->index = o->index && *o->index ? mw_xstrdup(o->index) : NULL;
	} else {
		size_t n = strlen(o->url);

		while (n && o->url[n - 1] == '/')
			n--;
		mw_buf_append(&s->tmp, o->url, n);
		mw_buf_puts(&s->tmp, "/_bulk");
		s->url = mw_xstrdup(s->tmp.data);
		s->index = mw_xstrdup(o->index ? o->index : DEFAULT_ES_INDEX);
	}

	/* Elasticsearch without security (a lab, a sidecar) takes no key. */
	if (o->token) {
		mw_buf_init(&hdr);
		mw_buf_printf(&hdr, "Authorization: %s %s", kind == KIND_HEC ? "Splunk" : "ApiKey",
			      o->token);
		s->hdrs = curl_slist_append(NULL, hdr.data);
		wipe(hdr.data);
		mw_buf_free(&hdr);
	}
	s->hdrs = curl_slist_append(s->hdrs, kind == KIND_HEC ? "Content-Type: application/json"
							      : "Content-Type: application/x-ndjson");
	/* No "Expect: 100-continue" round trip before each large batch. */
	s->hdrs = curl_slist_append(s->hdrs, "Expect:");
	if (!s->hdrs)
		abort();

	s->curl = curl_easy_init();
	if (!s->curl) {
		mw_err_set(e, "output \"%s\": libcurl could not start (out of memory?)", name);
		http_close(s);
		return -1;
	}
	setup_curl(s, allow_http, o->ca_file, o->timeout_ms ? o->timeout_ms : DEFAULT_TIMEOUT_MS);
	curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, s->hdrs);
	if (s->username) {
		curl_easy_setopt(s->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(s->curl, CURLOPT_USERNAME, s->username);
		curl_easy_setopt(s->curl, CURLOPT_PASSWORD, s->password);
	}
	if (o->client_cert) {
		s->has_cert = 1;
		curl_easy_setopt(s->curl, CURLOPT_SSLCERT, o->client_cert);
		curl_easy_setopt(s->curl, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(s->curl, CURLOPT_SSLKEY, o->client_key);
		curl_easy_setopt(s->curl, CURLOPT_SSLKEYTYPE, "PEM");
	}
	*out = s;
	return 0;
}

static int hec_open(const struct sink_opts *o, sink **out, mw_err *e)
{
	return http_open(KIND_HEC, o, out, e);
}

static int es_open(const struct sink_opts *o, sink **out, mw_err *e)
{
	return http_open(KIND_ES, o, out, e);
}

/* ---- building a batch ------------------------------------------------------- */

/* Elasticsearch's rules for an index name, checked here so a template that
 * expands to a bad name is a clear configuration error, not a refusal of
 * every record. */
static int es_index_ok(const char *x)
{
	size_t n = strlen(x);

	if (n == 0 || n > 255 || strcmp(x, ".") == 0 || strcmp(x, "..") == 0 ||
	    strchr("-_+", x[0]))
		return 0;
	for (const unsigned char *p = (const unsigned char *)x; *p; p++)
		if ((*p >= 'A' && *p <= 'Z') || *p <= ' ' || strchr("\\/*?\"<>|,#:", *p))
			return 0;
	return 1;
}

/* The index for a record: the template expanded, cached for the last
 * (integration, type) since a batch mostly holds one. NULL when the expanded
 * name is not a valid index name. */
static const char *index_for(sink *s, const struct sink_msg *m)
{
	const char *in = m->integration ? m->integration : "";
	const char *ty = m->type ? m->type : "";

	if (!s->idx_integration || strcmp(s->idx_integration, in) != 0 ||
	    strcmp(s->idx_type, ty) != 0) {
		free(s->idx_integration);
		free(s->idx_type);
		s->idx_integration = mw_xstrdup(in);
		s->idx_type = mw_xstrdup(ty);
		sink_template(&s->idx, s->index, in, ty);
		s->idx_valid = s->kind == KIND_HEC || es_index_ok(s->idx.data);
	}
	return s->idx_valid ? s->idx.data : NULL;
}

static void put_i64(mw_buf *b, int64_t v)
{
	char num[24];
	int k = snprintf(num, sizeof(num), "%lld", (long long)v);

	mw_buf_append(b, num, (size_t)k);
}

/* Appends one record in the transport's framing to s->body. */
static void frame_record(sink *s, const struct sink_msg *m, const char *index)
{
	mw_buf *b = &s->body;
	const char *type = m->type ? m->type : "";
	const char *id = m->id ? m->id : "";

	if (s->kind == KIND_HEC) {
		mw_buf_puts(b, "{\"time\":");
		put_i64(b, m->time);
		mw_buf_puts(b, ",\"host\":");
		mw_buf_append(b, s->host.data, s->host.len);
		mw_buf_puts(b, ",\"source\":\"mimewatch\",\"sourcetype\":");
		mw_buf_reset(&s->tmp);
		mw_buf_puts(&s->tmp, "mimecast:");
		mw_buf_puts(&s->tmp, type);
		jsonout_safe_string(b, s->tmp.data, s->tmp.len);
		if (index) {
			mw_buf_puts(b, ",\"index\":");
			jsonout_safe_string(b, index, strlen(index));
		}
		mw_buf_puts(b, ",\"event\":");
		mw_buf_append(b, m->line, m->len);
		mw_buf_putc(b, '}');
	} else {
		/* A first delivery creates the document (409 when an earlier
		 * send did: taken). A revision overwrites it, versioned by the
		 * revision number: external_gte takes it over revision 1's
		 * internal version 1 and over a resend of itself, and answers
		 * 409 (taken) for a revision older than the one indexed. */
		mw_buf_puts(b, m->revision >= 2 ? "{\"index\":{\"_index\":" : "{\"create\":{\"_index\":");
		jsonout_safe_string(b, index, strlen(index));
		mw_buf_puts(b, ",\"_id\":");
		jsonout_safe_string(b, id, strlen(id));
		if (m->revision >= 2) {
			mw_buf_puts(b, ",\"version\":");
			put_i64(b, m->revision);
			mw_buf_puts(b, ",\"version_type\":\"external_gte\"");
		}
		mw_buf_puts(b, "}}\n");
		mw_buf_append(b, m->line, m->len);
		mw_buf_putc(b, '\n');
	}
}

/* A record that no receiver could take as sent (an empty line, or a
 * newline inside it, which would break the bulk framing). */
static int record_malformed(const sink *s, const struct sink_msg *m)
{
	return !m->line || m->len == 0 || (s->kind == KIND_ES && (!m->id || !*m->id)) ||
	       (s->kind == KIND_ES && memchr(m->line, '\n', m->len));
}

static void reject(sink *s, const struct sink_msg *m, const char *why, size_t *nrej,
		   char *last, size_t lastn)
{
	s->rejected++;
	(*nrej)++;
	snprintf(last, lastn, "id %.80s: %.200s", m->id ? m->id : "(none)", why);
	mw_log(0, "output \"%s\" (%s): skipped a record the receiver refuses for good: %s",
	       s->name, kind_name(s), last);
}

/* ---- one request ------------------------------------------------------------ */

static int tls_failure(CURLcode rc)
{
	switch (rc) {
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CIPHER:
	case CURLE_USE_SSL_FAILED:
		return 1;
	default:
		return 0;
	}
}

/* Whether libcurl's message is the receiver's TLS alert about our
 * certificate (OpenSSL's words for the alerts a server sends then). */
static int client_cert_refused(const char *msg)
{
	return strstr(msg, "alert certificate required") || strstr(msg, "alert unknown ca") ||
	       strstr(msg, "alert bad certificate") || strstr(msg, "alert handshake failure") ||
	       strstr(msg, "alert certificate unknown") || strstr(msg, "alert access denied");
}

/* After a failed send on a connection where the receiver asked for a
 * client certificate: was it the receiver refusing the certificate? In TLS
 * 1.3 it says so with an alert after the client's handshake is over, while
 * the batch is going out, and the write may fail before the alert is read.
 * A request without a body on a fresh connection leaves nothing unwritten:
 * its answer is the alert, or an HTTP status (then it was the network). */
static int probe_refusal(sink *s)
{
	CURL *h = s->curl;

	s->alert[0] = '\0';
	curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_perform(h);
	curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 0L);
	curl_easy_setopt(h, CURLOPT_NOBODY, 0L);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	mw_buf_reset(&s->resp);
	return s->alert[0] != '\0';
}

/* POSTs s->body. Returns the HTTP status, or 0 with why and e set when no
 * complete response came. */
static long post_body(sink *s, enum sink_fail *why, mw_err *e)
{
	CURLcode rc;
	long status = 0;
	curl_off_t cl = -1, got = 0;

	mw_buf_reset(&s->resp);
	mw_buf_reserve(&s->resp, 0);
	s->errbuf[0] = '\0';
	curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->body.len);
	curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, s->body.data);
	tls_sink = s;
	s->cert_requested = 0;
	s->alert[0] = '\0';
	rc = curl_easy_perform(s->curl);
	curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, NULL);
	if (rc != CURLE_OK && rc != CURLE_ABORTED_BY_CALLBACK && !s->alert[0] &&
	    s->cert_requested && (rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR ||
				  rc == CURLE_GOT_NOTHING || rc == CURLE_SSL_CONNECT_ERROR) &&
	    probe_refusal(s))
		snprintf(s->errbuf, sizeof(s->errbuf), "%s", s->alert);
	tls_sink = NULL;
	/* A receiver may quote the token in its answer: scrub all of it before
	 * any message quotes (and cuts) a part. */
	scrub_buf(s->scrub, &s->resp);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(s->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
		curl_easy_getinfo(s->curl, CURLINFO_SIZE_DOWNLOAD_T, &got);
		if (cl >= 0 && got < cl)
			rc = CURLE_PARTIAL_FILE;
	}
	if (rc == CURLE_OK) {
		curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
		mw_log(2, "output \"%s\": POST %zu bytes: HTTP %ld", s->name, s->body.len, status);
		return status;
	}
	if (rc == CURLE_ABORTED_BY_CALLBACK) {
		*why = SINK_RETRY;
		mw_err_set(e, "output \"%s\" (%s): stopped (shutting down)", s->name, kind_name(s));
	} else if (rc == CURLE_SSL_CERTPROBLEM) {
		*why = SINK_FATAL;
		mw_err_set(e, "output \"%s\" (%s): TLS failure: the client certificate cannot be "
			   "used: %.300s; check client_cert and client_key (PEM, the key of that "
			   "certificate, no passphrase)", s->name, kind_name(s),
			   s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc));
	} else if (s->alert[0] || client_cert_refused(s->errbuf)) {
		/* The receiver's alert: in TLS 1.3 it comes after the client's
		 * handshake, so libcurl reports it on reading the answer (a
		 * network error to it), but it is the TLS verdict. */
		*why = SINK_FATAL;
		mw_err_set(e, "output \"%s\" (%s): TLS failure: the receiver refused %s (%.300s); "
			   "%s", s->name, kind_name(s),
			   s->has_cert ? "the client certificate" : "the connection",
			   s->alert[0] ? s->alert : s->errbuf,
			   s->has_cert ? "check that a CA it trusts signed client_cert"
				       : "if it asks for a client certificate, set client_cert and "
					 "client_key");
	} else if (tls_failure(rc)) {
		*why = SINK_FATAL;
		mw_err_set(e, "output \"%s\" (%s): TLS failure: %.300s; check ca_file and that the "
			   "certificate names the host in url", s->name, kind_name(s),
			   s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc));
	} else if (rc == CURLE_WRITE_ERROR) {
		*why = SINK_FATAL;
		mw_err_set(e, "output \"%s\" (%s): the answer exceeds 16 MiB; is url the right "
			   "endpoint?", s->name, kind_name(s));
	} else if (rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT) {
		*why = SINK_FATAL;
		mw_err_set(e, "output \"%s\" (%s): url refused: %.300s", s->name, kind_name(s),
			   s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc));
	} else {
		*why = SINK_RETRY;
		mw_err_set(e, "output \"%s\" (%s): receiver unreachable: %.300s; will retry",
			   s->name, kind_name(s), s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc));
	}
	return 0;
}

/* The response body, made safe to quote in a message. */
static const char *resp_excerpt(sink *s)
{
	size_t n = s->resp.len < 200 ? s->resp.len : 200;

	mw_buf_reset(&s->tmp);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s->resp.data[i];
		mw_buf_putc(&s->tmp, c < 0x20 || c >= 0x7f ? '?' : (char)c);
	}
	return s->tmp.data ? s->tmp.data : "";
}

/* Verdicts on an HTTP status that are the same for both receivers. Returns
 * 1 when it decided (why and e set), 0 to read the body. */
static int status_common(sink *s, long status, enum outcome *out,
			 enum sink_fail *why, mw_err *e)
{
	if (status == 413) {
		*out = OUT_SPLIT;
		return 1;
	}
	if (status == 429 || status >= 500) {
		*out = OUT_FAIL;
		*why = SINK_RETRY;
		mw_err_set(e, "output \"%s\" (%s): receiver busy or failing (HTTP %ld: %s); will "
			   "retry", s->name, kind_name(s), status, resp_excerpt(s));
		return 1;
	}
	if (status >= 300 && status < 400) {
		*out = OUT_FAIL;
		*why = SINK_FATAL;
		mw_err_set(e, "output \"%s\" (%s): HTTP %ld, a redirect (not followed); give the "
			   "final URL in url", s->name, kind_name(s), status);
		return 1;
	}
	if (status < 200) {
		*out = OUT_FAIL;
		*why = SINK_RETRY;
		mw_err_set(e, "output \"%s\" (%s): unexpected HTTP %ld; will retry", s->name,
			   kind_name(s), status);
		return 1;
	}
	return 0;
}

/* HEC: 200 with {"code":0} takes the batch; a per-event refusal names the
 * event by "invalid-event-number" (the events before it are taken). */
static enum outcome hec_result(sink *s, long status, size_t k, size_t *taken,
			       enum sink_fail *why, mw_err *e)
{
	enum outcome out;
	mw_err pe;
	int64_t code = -1, inv = -1;
	char text[160] = "";

	*taken = 0;
	if (status_common(s, status, &out, why, e))
		return out;
	mw_err_clear(&pe);
	if (s->resp.len && js_parse(&s->doc, s->resp.data, s->resp.len, &pe) == 0 &&
	    s->doc.toks[0].type == JS_OBJECT) {
		int t = js_get(&s->doc, 0, "code");
		if (t < 0 || js_int(&s->doc, t, &code) < 0)
			code = -1;
		t = js_get(&s->doc, 0, "invalid-event-number");
		if (t < 0 || js_int(&s->doc, t, &inv) < 0)
			inv = -1;
		t = js_get(&s->doc, 0, "text");
		if (t >= 0) {
			mw_buf_reset(&s->tmp);
			if (js_str(&s->doc, t, &s->tmp) == 0)
				scrub_buf(s->scrub, &s->tmp);  /* decoded: odd escapes too */
			for (size_t i = 0, j = 0; i < s->tmp.len && j + 1 < sizeof(text); i++) {
				unsigned char c = (unsigned char)s->tmp.data[i];
				text[j++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
				text[j] = '\0';
			}
		}
	}
	if (status >= 200 && status < 300) {
		if (code == 0) {
			*taken = k;
			return OUT_OK;
		}
		*why = SINK_FATAL;
		mw_err_set(e, "output \"%s\" (hec): HTTP %ld without HEC's {\"code\":0} (%s); is url "
			   "Splunk's /services/collector/event?", s->name, status, resp_excerpt(s));
		return OUT_FAIL;
	}
	if (inv >= 0 && (uint64_t)inv < k)
		*taken = (size_t)inv;  /* HEC took the events before the one it names */
	*why = SINK_FATAL;
	switch (code) {
	case 1:
	case 2:
	case 3:
	case 4:
		mw_err_set(e, "output \"%s\" (hec): Splunk refused the token (HTTP %ld, code %lld "
			   "\"%s\"); check token, token_file or token_env of this output, and that "
			   "the token is enabled", s->name, status, (long long)code, text);
		return OUT_FAIL;
	case 7:
		mw_err_set(e, "output \"%s\" (hec): Splunk refused the index \"%s\" (code 7 "
			   "\"%s\"); add it to the token's allowed indexes or fix index",
			   s->name, s->index && s->idx.data ? s->idx.data : "(default)", text);
		return OUT_FAIL;
	case 10:
	case 11:
		mw_err_set(e, "output \"%s\" (hec): the token has indexer acknowledgement on (code "
			   "%lld \"%s\"); turn it off for this token", s->name, (long long)code, text);
		return OUT_FAIL;
	case 6:
	case 12:
	case 13:
	case 15:
		if (inv >= 0 && (uint64_t)inv < k) {
			mw_err_set(e, "HEC code %lld \"%s\"", (long long)code, text);
			return OUT_SKIP;
		}
		break;
	default:
		break;
	}
	if (status == 401 || status == 403)
		mw_err_set(e, "output \"%s\" (hec): Splunk refused the token (HTTP %ld: %s); check "
			   "token, token_file or token_env of this output", s->name, status,
			   resp_excerpt(s));
	else
		mw_err_set(e, "output \"%s\" (hec): request refused (HTTP %ld: %s)", s->name, status,
			   resp_excerpt(s));
	return OUT_FAIL;
}

/* The verdict on one bulk item: 0 taken, 1 refused for good (skip), 2 retry
 * from here, 3 fatal from here. */
static int es_item_verdict(const js_doc *d, int item, int64_t st, mw_buf *reason)
{
	int err = js_get(d, item, "error");
	int ty = err >= 0 ? js_get(d, err, "type") : -1;
	int rs = err >= 0 ? js_get(d, err, "reason") : -1;

	mw_buf_reset(reason);
	if (ty >= 0)
		js_str(d, ty, reason);
	if (rs >= 0) {
		mw_buf_puts(reason, ": ");
		js_str(d, rs, reason);
	}
	if ((st >= 200 && st < 300) || st == 409)
		return 0;  /* 409: "create" found the _id there already, from an earlier send */
	if (st == 429 || st >= 500)
		return 2;
	if (st == 401 || st == 403 || st == 404 ||
	    (ty >= 0 && (js_streq(d, ty, "invalid_index_name_exception") ||
			 js_streq(d, ty, "index_not_found_exception") ||
			 js_streq(d, ty, "security_exception"))))
		return 3;  /* every record to this index would meet it */
	return 1;
}

/* Elasticsearch: the bulk answer item by item. *taken counts the leading
 * items that were taken or refused for good (those are logged and counted);
 * the first item to retry or that is fatal stops it. */
static enum outcome es_result(sink *s, long status, const struct sink_msg *m, size_t k,
			      size_t *taken, size_t *nrej, char *last, size_t lastn,
			      enum sink_fail *why, mw_err *e)
{
	enum outcome out;
	mw_err pe;
	int items, it;
	size_t i;

	*taken = 0;
	if (status_common(s, status, &out, why, e))
		return out;
	*why = SINK_FATAL;
	if (status == 401) {
		if (s->username)
			mw_err_set(e, "output \"%s\" (elasticsearch): user \"%.100s\" and its "
				   "password were refused (HTTP 401, basic auth); check username and "
				   "password (password_file, password_env or password_credential) of "
				   "this output, and that the user exists in a realm that takes "
				   "passwords", s->name, s->username);
		else if (s->hdrs && strncmp(s->hdrs->data, "Authorization:", 14) == 0)
			mw_err_set(e, "output \"%s\" (elasticsearch): the API key was refused "
				   "(HTTP 401); check api_key, api_key_file or api_key_env of this "
				   "output", s->name);
		else
			mw_err_set(e, "output \"%s\" (elasticsearch): the cluster asks for "
				   "credentials (HTTP 401); set api_key (or api_key_file), or "
				   "username and password_file", s->name);
		return OUT_FAIL;
	}
	if (status == 403) {
		if (s->username)
			mw_err_set(e, "output \"%s\" (elasticsearch): user \"%.100s\" may not "
				   "write here (HTTP 403: %s); grant its role create_doc on the index",
				   s->name, s->username, resp_excerpt(s));
		else
			mw_err_set(e, "output \"%s\" (elasticsearch): the API key may not write "
				   "here (HTTP 403: %s); grant it create_doc on the index", s->name,
				   resp_excerpt(s));
		return OUT_FAIL;
	}
	if (status == 404) {
		mw_err_set(e, "output \"%s\" (elasticsearch): no bulk API at %s (HTTP 404); give "
			   "the cluster's base URL in url", s->name, s->url);
		return OUT_FAIL;
	}
	if (status != 200) {
		mw_err_set(e, "output \"%s\" (elasticsearch): request refused (HTTP %ld: %s)",
			   s->name, status, resp_excerpt(s));
		return OUT_FAIL;
	}
	mw_err_clear(&pe);
	if (js_parse(&s->doc, s->resp.data, s->resp.len, &pe) < 0 ||
	    s->doc.toks[0].type != JS_OBJECT ||
	    (items = js_get(&s->doc, 0, "items")) < 0 || s->doc.toks[items].type != JS_ARRAY ||
	    s->doc.toks[items].size != k) {
		mw_err_set(e, "output \"%s\" (elasticsearch): HTTP 200 but not a bulk answer for %zu "
			   "records (%s); is url the cluster's base URL?", s->name, k,
			   resp_excerpt(s));
		return OUT_FAIL;
	}
	for (i = 0, it = items + 1; i < k; i++, it = (int)s->doc.toks[it].next) {
		/* {"create":{"_id":...,"status":201,...}}, or "index" */
		int op = s->doc.toks[it].type == JS_OBJECT && s->doc.toks[it].size == 1 ? it + 2 : -1;
		int st_tok = op >= 0 ? js_get(&s->doc, op, "status") : -1;
		int id_tok = op >= 0 ? js_get(&s->doc, op, "_id") : -1;
		int64_t st;
		int v;

		if (st_tok < 0 || js_int(&s->doc, st_tok, &st) < 0 ||
		    (id_tok >= 0 && !js_streq(&s->doc, id_tok, m[i].id))) {
			mw_err_set(e, "output \"%s\" (elasticsearch): bulk answer item %zu does not "
				   "match record id %.80s", s->name, i, m[i].id);
			*taken = i;
			return OUT_FAIL;
		}
		v = es_item_verdict(&s->doc, op, st, &s->tmp);
		scrub_buf(s->scrub, &s->tmp);
		if (v == 1) {
			char why_s[240];
			snprintf(why_s, sizeof(why_s), "HTTP %lld %.200s", (long long)st,
				 s->tmp.data ? s->tmp.data : "");
			reject(s, &m[i], why_s, nrej, last, lastn);
		} else if (v >= 2) {
			*taken = i;
			*why = v == 2 ? SINK_RETRY : SINK_FATAL;
			mw_err_set(e, "output \"%s\" (elasticsearch): record id %.80s: HTTP %lld %.300s%s",
				   s->name, m[i].id, (long long)st, s->tmp.data ? s->tmp.data : "",
				   v == 2 ? "; will retry" : "");
			return OUT_FAIL;
		}
	}
	*taken = k;
	return OUT_OK;
}

/* ---- send ------------------------------------------------------------------- */

static int http_send(sink *s, const struct sink_msg *m, size_t n, size_t *delivered,
		     enum sink_fail *why, mw_err *e)
{
	size_t done = 0, nrej = 0, cap = (size_t)s->batch_max;
	char last[320] = "";

	*delivered = 0;
	mw_err_clear(e);
	while (done < n) {
		size_t k = 0, taken = 0;
		long status;
		enum outcome out;

		if (s->abort_flag && *s->abort_flag) {
			*why = SINK_RETRY;
			mw_err_set(e, "output \"%s\" (%s): stopped (shutting down)", s->name,
				   kind_name(s));
			goto fail;
		}
		/* The batch: up to cap records and batch_bytes, but always at
		 * least one, so a record larger than batch_bytes still goes. */
		mw_buf_reset(&s->body);
		while (done + k < n && k < cap) {
			const struct sink_msg *r = &m[done + k];
			const char *index = NULL;
			size_t before = s->body.len;

			if (record_malformed(s, r)) {
				if (k)
					break;  /* skip it at the head of the next batch */
				reject(s, r, "empty, without an id, or holding a newline", &nrej,
				       last, sizeof(last));
				done++;
				continue;
			}
			if (s->index) {
				index = index_for(s, r);
				if (!index) {
					*why = SINK_FATAL;
					mw_err_set(e, "output \"%s\" (%s): index \"%.100s\" expands to "
						   "\"%.255s\", not a valid index name (lower case, no "
						   "\\/*?\"<>|,#: or spaces, not starting with -_+); fix "
						   "index", s->name, kind_name(s), s->index, s->idx.data);
					done += k;
					goto fail;
				}
			}
			frame_record(s, r, index);
			if (k && s->body.len > s->batch_bytes) {
				s->body.len = before;
				s->body.data[before] = '\0';
				break;
			}
			k++;
		}
		if (!k)
			continue;
		status = post_body(s, why, e);
		if (!status)
			goto fail;
		if (s->kind == KIND_HEC)
			out = hec_result(s, status, k, &taken, why, e);
		else
			out = es_result(s, status, m + done, k, &taken, &nrej, last, sizeof(last),
					why, e);
		switch (out) {
		case OUT_OK:
			done += k;
			break;
		case OUT_SKIP:
			done += taken;
			reject(s, &m[done], e->msg, &nrej, last, sizeof(last));
			mw_err_clear(e);
			done++;
			break;
		case OUT_SPLIT:
			if (k > 1) {
				cap = k / 2;  /* the receiver's request limit is below ours */
				mw_log(1, "output \"%s\" (%s): receiver said 413 for %zu records; "
				       "sending %zu a request", s->name, kind_name(s), k, cap);
			} else {
				reject(s, &m[done], "HTTP 413: larger than the receiver takes", &nrej,
				       last, sizeof(last));
				done++;
			}
			break;
		case OUT_FAIL:
			done += taken;
			goto fail;
		}
	}
	*delivered = done;
	if (nrej)
		mw_err_set(e, "output \"%s\" (%s): %zu record(s) refused for good and skipped "
			   "(last: %s)", s->name, kind_name(s), nrej, last);
	return 0;
fail:
	*delivered = done;
	return -1;
}

const struct sink_ops sink_hec_ops = { "hec", hec_open, http_send, http_close };
const struct sink_ops sink_es_ops = { "elasticsearch", es_open, http_send, http_close };
