/* mimecast/errclass.c - the outcome classes of HACKING, "Error classes", and the
 * classification of one Mimecast response into exactly one of them.
 *
 * Everything copied out of a response is sanitised to printable ASCII here,
 * because code and message end up on terminals, in the store and in logs. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1  /* getifaddrs, inet_pton alongside -std=c11 */
#endif
#include "private.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

struct class_info {
	const char *name, *key, *remedy;
};

static const struct class_info classes[MC_CLASS_COUNT] = {
	[MC_OK] = { "ok", "ok", "nothing to do" },
	[MC_RETRY] = { "retry later", "retry",
		       "temporary: rate limit, server or network trouble; mimewatch retries by itself" },
	[MC_INVALID_SIGNATURE] = { "invalid signature", "invalid_signature",
				   "the Application Key, Access Key or Secret Key is wrong: copy them "
				   "again; keys must belong to the same API application" },
	[MC_BINDING_EXPIRED] = { "binding expired", "binding_expired",
				 "set Authentication Cache TTL to Never Expire in the service user's "
				 "authentication profile, then create new Access and Secret keys" },
	[MC_PERMISSION] = { "permission missing", "permission",
			    "add the type's Monitoring permission to the service user's role" },
	[MC_BAD_APP_ID] = { "bad Application ID", "bad_app_id",
			    "the Application ID in the config does not match the API application; "
			    "copy it again from Administration > Services > API and Platform "
			    "Integrations" },
	[MC_IP_NOT_ALLOWED] = { "IP not allowed", "ip_not_allowed",
				"allow this host's address in the Permitted IP Ranges of the service "
				"user's authentication profile; Mimecast may see a NAT address" },
	[MC_NOT_LICENSED] = { "TTP package not licensed", "not_licensed",
			      "the account lacks the type's TTP package: ask Mimecast to license it" },
	[MC_WRONG_REGION] = { "wrong region", "wrong_region",
			      "the base URL is not a known Mimecast region; pick the account's "
			      "region: eu, de, us, usb, ca, za, au, je" },
	[MC_TLS] = { "certificate or host-name failure", "tls",
		     "the server's certificate was not accepted: check that base_url names the "
		     "Mimecast host, or set ca_file to the CA that issued the certificate" },
	[MC_PROXY] = { "proxy failure", "proxy",
		       "the proxy refused the connection, the credentials or the CONNECT: check "
		       "proxy, proxy_user and proxy_password_file" },
	[MC_BAD_REQUEST] = { "bad request", "bad_request",
			     "Mimecast refused the request as malformed: check base_url and the "
			     "integration's settings" },
	[MC_UNKNOWN] = { "unknown", "unknown",
			 "unexpected answer: see the HTTP status and Mimecast code" },
	/* Ours, not Mimecast's: collection holds until the outputs catch up
	 * (HACKING, "The store's budget and pass-through"). */
	[MC_STORE_FULL] = { "store over max_store", "store_full",
			    "an output is behind: fix it, or raise max_store; collection resumes "
			    "by itself once its records are delivered and pruned" },
};

const char *mc_class_name(enum mc_class c)
{
	return (unsigned)c < MC_CLASS_COUNT ? classes[c].name : "unknown";
}

/* The name a person reads: API 2.0 has no signature, its refusal of the
 * Client ID or Secret is called so. The key (--json, the store) and the
 * name of the contracted lines (status, validate, fetch) stay. */
const char *mc_class_label(enum mc_class c, int api)
{
	if (c == MC_INVALID_SIGNATURE && api == 2)
		return "invalid client ID or secret";
	return mc_class_name(c);
}

const char *mc_class_key(enum mc_class c)
{
	return (unsigned)c < MC_CLASS_COUNT ? classes[c].key : "unknown";
}

enum mc_class mc_class_from_key(const char *key)
{
	for (int i = 0; key && i < MC_CLASS_COUNT; i++)
		if (strcmp(classes[i].key, key) == 0)
			return (enum mc_class)i;
	return MC_UNKNOWN;
}

const char *mc_class_remedy(enum mc_class c)
{
	return (unsigned)c < MC_CLASS_COUNT ? classes[c].remedy : classes[MC_UNKNOWN].remedy;
}

/* API 2.0's words where they differ: a 2.0 integration has a Client ID and
 * Client Secret and an API 2.0 application with products and a role
 * (HACKING, "Tokens (API 2.0)"); its admin never had Access or Secret Keys. */
static const char *const remedies_v2[MC_CLASS_COUNT] = {
	[MC_INVALID_SIGNATURE] =
		"the Client ID or Client Secret was refused: copy both again from the API 2.0 "
		"application (Integrations Hub > Mimecast API 2.0), or generate a new Client "
		"Secret there",
	[MC_BINDING_EXPIRED] =
		"Mimecast says the credentials expired: generate a new Client Secret for the "
		"API 2.0 application and set client_secret",
	[MC_PERMISSION] =
		"add the type's Monitoring permission to the API 2.0 application's role, and "
		"make sure its products include the threat logs",
	[MC_BAD_APP_ID] =
		"Mimecast does not know this application: copy the Client ID again from the "
		"API 2.0 application",
	[MC_IP_NOT_ALLOWED] =
		"allow this host's address in the IP restrictions that apply to the API 2.0 "
		"application; Mimecast may see a NAT address",
	[MC_WRONG_REGION] =
		"the base URL is not a Mimecast API 2.0 gateway: use https://api.services."
		"mimecast.com (or uk-api / us-api.services.mimecast.com)",
};

const char *mc_class_remedy_api(enum mc_class c, int api)
{
	if (api == 2 && (unsigned)c < MC_CLASS_COUNT && remedies_v2[c])
		return remedies_v2[c];
	return mc_class_remedy(c);
}

void mc_result_init(struct mc_result *r)
{
	memset(r, 0, sizeof(*r));
	r->cls = MC_OK;
	r->rl_limit = r->rl_remaining = r->rl_reset_ms = -1;
}

/* ---- sanitising ---------------------------------------------------------- */

void mc_sanitize_copy(char *out, size_t outsz, const char *in, size_t inlen)
{
	size_t o = 0;
	int prev_high = 0;

	if (!outsz)
		return;
	for (size_t i = 0; i < inlen && o + 1 < outsz; i++) {
		unsigned char ch = (unsigned char)in[i];

		if (ch >= 0x20 && ch < 0x7f) {
			out[o++] = (char)ch;
			prev_high = 0;
		} else if (ch >= 0x80 && ch < 0xc0 && prev_high) {
			/* A UTF-8 continuation byte: its character already gave one '?'. */
			continue;
		} else {
			out[o++] = '?';
			prev_high = ch >= 0x80;
		}
	}
	out[o] = '\0';
}

/* Decoded string at tok, sanitised into out; "" when tok is not a string. */
static void copy_str(const js_doc *d, int tok, char *out, size_t outsz)
{
	mw_buf b;

	out[0] = '\0';
	if (tok < 0 || d->toks[tok].type != JS_STRING)
		return;
	mw_buf_init(&b);
	if (js_str(d, tok, &b) == 0)
		mc_sanitize_copy(out, outsz, b.data, b.len);
	mw_buf_free(&b);
}

/* ---- addresses --------------------------------------------------------- */

int mc_text_says_ip_refused(const char *code, const char *message)
{
	static const char *const refusals[] = { "not allowed", "not permitted", "denied",
						 "refused", "blocked", "not authorized", NULL };
	const char *m = message ? message : "";

	/* A code naming the address: err_xdk_ip_not_permitted, ip_not_allowed... */
	if (code && (strcasestr(code, "_ip_") || strncasecmp(code, "ip_", 3) == 0))
		return 1;
	if (strcasestr(m, "permitted ip range"))
		return 1;
	/* "IP" (the word, upper case) followed within the sentence by a refusal:
	 * "IP address not allowed", "source IP 192.0.2.7 is not permitted". An
	 * address merely quoted ("caller IP 192.0.2.7") says nothing. */
	for (const char *p = strstr(m, "IP"); p; p = strstr(p + 2, "IP")) {
		const char *end = p + 2;

		if ((p > m && isalpha((unsigned char)p[-1])) || islower((unsigned char)end[0]))
			continue;  /* part of a longer word */
		for (int i = 0; refusals[i]; i++) {
			const char *hit = strcasestr(end, refusals[i]);

			if (hit && hit - end <= 40)
				return 1;
		}
	}
	return 0;
}

void mc_host_addresses(char *out, size_t n, int max)
{
	struct ifaddrs *ifa = NULL;
	size_t len = 0;
	int count = 0;

	if (!n)
		return;
	out[0] = '\0';
	/* The tests' seam, as MIMEWATCH_NOW pins the clock: screens that name
	 * this host's addresses must not differ from one machine to the next. */
	if (getenv("MIMEWATCH_HOST_ADDRS") && *getenv("MIMEWATCH_HOST_ADDRS")) {
		snprintf(out, n, "%s", getenv("MIMEWATCH_HOST_ADDRS"));
		return;
	}
	/* Two passes: non-loopback addresses first, since those are the ones
	 * Mimecast can see; loopback only if nothing else exists. */
	if (getifaddrs(&ifa) == 0) {
		for (int pass = 0; pass < 2; pass++) {
			if (pass == 1 && count)
				break;
			for (struct ifaddrs *i = ifa; i && count < max; i = i->ifa_next) {
				char a[INET6_ADDRSTRLEN];
				int fam, loop;

				if (!i->ifa_addr || !(i->ifa_flags & IFF_UP))
					continue;
				fam = i->ifa_addr->sa_family;
				if (fam == AF_INET) {
					const struct sockaddr_in *sa = (const void *)i->ifa_addr;
					inet_ntop(AF_INET, &sa->sin_addr, a, sizeof(a));
				} else if (fam == AF_INET6) {
					const struct sockaddr_in6 *sa = (const void *)i->ifa_addr;
					if (IN6_IS_ADDR_LINKLOCAL(&sa->sin6_addr))
						continue;
					inet_ntop(AF_INET6, &sa->sin6_addr, a, sizeof(a));
				} else {
					continue;
				}
				loop = (i->ifa_flags & IFF_LOOPBACK) != 0;
				if (loop != (pass == 1))
					continue;
				if (len + strlen(a) + 3 >= n)
					break;
				len += (size_t)snprintf(out + len, n - len, "%s%s", count ? ", " : "",
							a);
				count++;
			}
		}
		freeifaddrs(ifa);
	}
	if (!count)
		snprintf(out, n, "unknown");
}

void mc_format_ip_remedy(char *out, size_t n)
{
	char list[320];

	mc_host_addresses(list, sizeof(list), 8);
	snprintf(out, n,
		 "allow this host's address (%s) in the Permitted IP Ranges of the service user's "
		 "authentication profile; Mimecast may see a NAT address instead",
		 list);
}

/* ---- classification ------------------------------------------------------ */

#define SKEW_LIMIT 120  /* seconds of Date difference taken as clock skew */

static int is_type(const js_doc *d, int tok, enum js_type t)
{
	return tok >= 0 && d->toks[tok].type == (uint32_t)t;
}

static void set(struct mc_result *r, enum mc_class c, const char *remedy)
{
	r->cls = c;
	snprintf(r->remedy, sizeof(r->remedy), "%s", remedy ? remedy : mc_class_remedy(c));
}

static void set_malformed(struct mc_result *r)
{
	set(r, MC_RETRY, "the response was cut short or malformed; will retry");
	if (!r->message[0])
		snprintf(r->message, sizeof(r->message), "malformed response body");
}

/* What fail[] says: the first error's code and message, and whether any
 * error is err_developer_key, err_xdk_binding_expired or retryable. Both
 * shapes are read: API 1.0 nests fail[].errors[].{code,message,retryable}
 * (HACKING, "Error shapes"); API 2.0 clients read a flat fail[].{code,message}
 * (token_expired, [SPLUNK-TA-UTILS] [AZ-V2-UTILS]). */
struct fail_info {
	int nfail;          /* -1: fail absent; -2: not an array */
	int developer_key, binding_expired, retryable;
};

static void read_error(struct mc_result *r, const js_doc *d, int e, int first,
		       struct fail_info *fi)
{
	int code = js_get(d, e, "code");

	if (first) {
		copy_str(d, code, r->code, sizeof(r->code));
		copy_str(d, js_get(d, e, "message"), r->message, sizeof(r->message));
	}
	if (code >= 0 && js_streq(d, code, "err_developer_key"))
		fi->developer_key = 1;
	if (code >= 0 && js_streq(d, code, "err_xdk_binding_expired"))
		fi->binding_expired = 1;
	if (js_bool(d, js_get(d, e, "retryable")) == 1)
		fi->retryable = 1;
}

static void read_fail(struct mc_result *r, const js_doc *d, int root, struct fail_info *fi)
{
	int fail = js_get(d, root, "fail");
	int first = 1;

	fi->nfail = -1;
	fi->developer_key = fi->binding_expired = fi->retryable = 0;
	if (fail < 0)
		return;
	if (!is_type(d, fail, JS_ARRAY)) {
		fi->nfail = -2;
		return;
	}
	fi->nfail = (int)d->toks[fail].size;
	for (int f = fail + 1, k = 0; k < fi->nfail; f = (int)d->toks[f].next, k++) {
		int errs = is_type(d, f, JS_OBJECT) ? js_get(d, f, "errors") : -1;
		int ne = is_type(d, errs, JS_ARRAY) ? (int)d->toks[errs].size : 0;

		if (is_type(d, f, JS_OBJECT) && js_get(d, f, "code") >= 0) {
			read_error(r, d, f, first, fi);
			first = 0;
		}
		for (int e = errs + 1, j = 0; j < ne; e = (int)d->toks[e].next, j++) {
			if (!is_type(d, e, JS_OBJECT))
				continue;
			read_error(r, d, e, first, fi);
			first = 0;
		}
	}
}

/* Bodies that are not Mimecast envelopes still say something: OAuth errors
 * ({"error":..,"error_description":..}) and throttling ({"detail":..}). */
static void read_other_message(struct mc_result *r, const js_doc *d, int root)
{
	int t;

	if (!is_type(d, root, JS_OBJECT))
		return;
	if (!r->code[0] && (t = js_get(d, root, "error")) >= 0)
		copy_str(d, t, r->code, sizeof(r->code));
	if (!r->message[0]) {
		if ((t = js_get(d, root, "error_description")) >= 0 ||
		    (t = js_get(d, root, "detail")) >= 0 || (t = js_get(d, root, "message")) >= 0)
			copy_str(d, t, r->message, sizeof(r->message));
	}
}

static void classify_unknown(struct mc_result *r, long status)
{
	char rem[512];

	snprintf(rem, sizeof(rem), "Mimecast answered HTTP %ld%s%.95s%s%.340s; see its documentation "
		 "or ask Mimecast support", status, r->code[0] ? " " : "", r->code,
		 r->message[0] ? ": " : "", r->message);
	set(r, MC_UNKNOWN, rem);
}

/* An allow-list applies to every call, so it is never inferred from which
 * call failed; but a refusal it causes may look like any other, so the
 * credential and permission remedies name it as a possible cause. */
static void add_allowlist_hint(char *rem, size_t n, int api)
{
	char addrs[160];
	size_t len = strlen(rem);

	mc_host_addresses(addrs, sizeof(addrs), 3);
	snprintf(rem + len, n - len, "%s; if %s limits source addresses, allow this host "
		 "(%s)", len ? "" : "check the credentials",
		 api == 2 ? "the account" : "the service user's authentication profile", addrs);
}

static void set_ip_refused(struct mc_result *r, const struct mc_classify_ctx *ctx)
{
	char rem[512], addrs[320];

	if (ctx->api == 2) {
		mc_host_addresses(addrs, sizeof(addrs), 8);
		snprintf(rem, sizeof(rem), "allow this host's address (%s) in the IP "
			 "restrictions that apply to the API 2.0 application; Mimecast may see a "
			 "NAT address instead", addrs);
	} else {
		mc_format_ip_remedy(rem, sizeof(rem));
	}
	set(r, MC_IP_NOT_ALLOWED, rem);
}

static void classify_401(struct mc_result *r, const struct mc_classify_ctx *ctx)
{
	char rem[512];

	if (mc_text_says_ip_refused(r->code, r->message)) {
		set_ip_refused(r, ctx);
		return;
	}
	if (ctx->api == 2) {
		/* Any 401 on a bearer request: the token was refused (expired,
		 * revoked, rotated). mcapi gets a new one and asks once more; only
		 * a refusal of that fresh token is a credentials error. */
		set(r, MC_RETRY, strcmp(r->code, "token_expired") == 0
				 ? "the API 2.0 access token expired; a new one is requested"
				 : "the API 2.0 access token was refused; a new one is requested");
		return;
	}
	if (strcmp(r->code, "err_xdk_invalid_signature") == 0) {
		int64_t skew = r->server_date ? ctx->local_now - r->server_date : 0;

		if (r->server_date && (skew > SKEW_LIMIT || skew < -SKEW_LIMIT)) {
			snprintf(rem, sizeof(rem),
				 "this host's clock is %lld s %s Mimecast's; sync it with NTP",
				 (long long)(skew < 0 ? -skew : skew), skew < 0 ? "behind" : "ahead of");
			set(r, MC_INVALID_SIGNATURE, rem);
			return;
		}
		if (!ctx->known_region) {
			set(r, MC_WRONG_REGION, NULL);
			return;
		}
	}
	snprintf(rem, sizeof(rem), "%s", mc_class_remedy_api(MC_INVALID_SIGNATURE, ctx->api));
	add_allowlist_hint(rem, sizeof(rem), ctx->api);
	set(r, MC_INVALID_SIGNATURE, rem);
}

static void classify_403(struct mc_result *r, const struct mc_classify_ctx *ctx)
{
	char rem[512];
	const char *perm = ctx->permission ? ctx->permission : "Accounts | Dashboard | Read";

	if (mc_text_says_ip_refused(r->code, r->message)) {
		set_ip_refused(r, ctx);
		return;
	}
	/* No permission given: the call was get-account. */
	if (ctx->api == 2 && ctx->product)
		/* Products are chosen when the application is made and cannot
		 * be changed ([ZD-API2-CG], HACKING "Tokens (API 2.0)"). */
		snprintf(rem, sizeof(rem), "add `%s` to the API 2.0 application's role; its "
			 "products must include \"%s\" (fixed when it was made: otherwise "
			 "make a new application)", perm, ctx->product);
	else if (ctx->api == 2)
		snprintf(rem, sizeof(rem), "add `%s` to the API 2.0 application's role (and make "
			 "sure its products include the threat logs)", perm);
	else
		snprintf(rem, sizeof(rem), "add `%s` to the service user's role", perm);
	add_allowlist_hint(rem, sizeof(rem), ctx->api);
	set(r, MC_PERMISSION, rem);
}

static void classify_status(struct mc_result *r, long status, const struct mc_classify_ctx *ctx)
{
	if (status == 401)
		classify_401(r, ctx);
	else if (status == 403)
		classify_403(r, ctx);
	else if (status == 418)
		set(r, MC_BINDING_EXPIRED, mc_class_remedy_api(MC_BINDING_EXPIRED, ctx->api));
	else if (status == 429 || status == 408 || (status >= 500 && status <= 599))
		set(r, MC_RETRY, status == 429 ? "rate limit reached: waiting X-RateLimit-Reset "
			"before the next request" : "Mimecast is busy or failing; will retry");
	else if (status == 400 || status == 404 || status == 405 || status == 409 ||
		 status == 413)
		set(r, MC_BAD_REQUEST, NULL);
	else if (status >= 300 && status <= 399)
		set(r, MC_BAD_REQUEST, "redirect refused; check base_url");
	else
		classify_unknown(r, status);
}

void mc_classify(struct mc_result *r, long status, const js_doc *doc, int root,
		 const struct mc_classify_ctx *ctx)
{
	static const struct mc_classify_ctx none = { NULL, 0, 1, 1 };
	struct fail_info fi = { -1, 0, 0, 0 };
	int json = doc && root >= 0 && (size_t)root < doc->ntoks;
	char rem[512];

	if (!ctx)
		ctx = &none;
	r->http_status = status;
	r->code[0] = r->message[0] = r->remedy[0] = '\0';
	r->retryable = 0;

	if (json && is_type(doc, root, JS_OBJECT)) {
		read_fail(r, doc, root, &fi);
		read_other_message(r, doc, root);
	}
	if (fi.binding_expired) {
		/* Whatever the HTTP status: 418 is documented [MC-RESP], but the
		 * code inside fail[] is what says it ([R7-CONST]). */
		set(r, MC_BINDING_EXPIRED, mc_class_remedy_api(MC_BINDING_EXPIRED, ctx->api));
		goto done;
	}

	if (status >= 200 && status <= 299) {
		int meta, mstatus, data;
		int64_t ms = 200;

		if (!json || !is_type(doc, root, JS_OBJECT) || fi.nfail == -2) {
			set_malformed(r);
			goto done;
		}
		meta = js_get(doc, root, "meta");
		data = js_get(doc, root, "data");
		if ((meta >= 0 && !is_type(doc, meta, JS_OBJECT)) ||
		    (data >= 0 && !is_type(doc, data, JS_ARRAY))) {
			set_malformed(r);
			goto done;
		}
		if (fi.nfail > 0) {
			/* A 200 with fail[] is a failure, never an empty page. */
			if (fi.developer_key) {
				set(r, MC_BAD_APP_ID, mc_class_remedy_api(MC_BAD_APP_ID, ctx->api));
			} else if (fi.retryable) {
				set(r, MC_RETRY, "Mimecast reported a temporary failure; will retry");
			} else if (strncmp(r->code, "err_validation_", 15) == 0) {
				snprintf(rem, sizeof(rem), "Mimecast rejected a field of the request "
					 "(%s): check the integration's settings", r->code);
				set(r, MC_BAD_REQUEST, rem);
			} else {
				if (!r->code[0] && !r->message[0])
					snprintf(r->message, sizeof(r->message),
						 "fail[] without error details");
				classify_unknown(r, status);
			}
			goto done;
		}
		mstatus = meta >= 0 ? js_get(doc, meta, "status") : -1;
		if (mstatus >= 0 && js_int(doc, mstatus, &ms) < 0) {
			set_malformed(r);
			goto done;
		}
		if (ms < 200 || ms > 299) {
			/* The function failed though the call succeeded: its status says how. */
			classify_status(r, (long)ms, ctx);
			goto done;
		}
		set(r, MC_OK, NULL);
		goto done;
	}
	classify_status(r, status, ctx);
done:
	r->retryable = r->cls == MC_RETRY || fi.retryable;
}

/* ---- rate limits ----------------------------------------------------------- */

#define RESET_MAX_MS 86400000  /* a day: anything longer is nonsense */

int64_t mc_parse_reset_ms(const char *value)
{
	const char *p = value;
	int64_t v = 0;
	int digits = 0;

	if (!p)
		return -1;
	while (*p == ' ' || *p == '\t')
		p++;
	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		v = v * 10 + (*p - '0');
		if (v > RESET_MAX_MS)
			return -1;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	return digits && !*p ? v : -1;
}

int64_t mc_clamp_wait_ms(int64_t reset_ms)
{
	if (reset_ms < 0)
		return 5000;
	if (reset_ms < 100)
		return 100;
	return reset_ms > 900000 ? 900000 : reset_ms;
}
