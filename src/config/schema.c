/* config/schema.c - what a config may hold (see private.h).
 *
 * Owns the schema: the keys of the top level, of an integration (with the API
 * version each belongs to) and of each output type; the check of every
 * integration field, with messages that name the field and the fix (URLs,
 * GUIDs, secrets, types, durations, page size, CA file); the defaults (an
 * integration's values, the XDG paths of the config and the state); and
 * config_check_integration, which the wizard shares with loading. */
#include "private.h"
#include "logtypes.h"
#include "netpolicy.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the tables ---------------------------------------------------------- */

const char *const cfgschema_ikey_names[K_COUNT] = {
	"name", "description", "api", "base_url", "app_id", "app_key",
	"access_key", "access_key_file", "access_key_env", "access_key_credential",
	"secret_key", "secret_key_file", "secret_key_env", "secret_key_credential",
	"client_id", "client_secret", "client_secret_file", "client_secret_env",
	"client_secret_credential",
	"types", "interval", "lookback", "lag", "overlap", "page_size", "ca_file",
	"proxy", "proxy_user",
	"proxy_password", "proxy_password_file", "proxy_password_env",
	"proxy_password_credential", "proxy_ca_file",
	"siem_types",
};

const char *const cfgschema_secret_suffix[SECRET_FORMS] = { "", "_file", "_env",
							     "_credential" };

const int cfgschema_ikey_api[K_COUNT] = {
	0, 0, 0, 0, 1, 1,
	1, 1, 1, 1,
	1, 1, 1, 1,
	2, 2, 2, 2,
	2,
	0, 0, 0, 0, 0, 0, 0,
	0, 0,
	0, 0, 0,
	0, 0,
	0,
};

const char *const cfgschema_top_keys[] = { "state_dir", "retention", "integrations", "outputs",
					   "heartbeat", "metrics_file", "max_store",
					   "keep_delivered", "proxy" };
const size_t cfgschema_ntop_keys = NELEM(cfgschema_top_keys);

/* The keys each output type accepts (the network ones also take batch,
 * batch_bytes and timeout; every one start). The types' names are output_type_name's. */
static const char *const ndjson_keys[] = { "type", "name", "dir", "group", "mode", "keep",
					   "compress", "start" };
static const char *const syslog_keys[] = { "type", "name", "url", "ca_file", "hostname",
					   "batch", "batch_bytes", "timeout", "start",
					   "client_cert", "client_key" };
static const char *const hec_keys[] = { "type", "name", "url", "ca_file", "index", "token",
					"token_file", "token_env", "token_credential", "batch",
					"batch_bytes", "timeout", "start", "client_cert",
					"client_key" };
static const char *const es_keys[] = { "type", "name", "url", "ca_file", "index", "api_key",
				       "api_key_file", "api_key_env", "api_key_credential", "batch",
				       "batch_bytes", "timeout", "start", "client_cert",
				       "client_key", "username", "password", "password_file",
				       "password_env", "password_credential" };
static const char *const kafka_keys[] = { "type", "name", "brokers", "topic", "batch",
					  "batch_bytes", "timeout", "start", "security_protocol",
					  "sasl_mechanism", "sasl_username", "sasl_password",
					  "sasl_password_file", "sasl_password_env",
					  "sasl_password_credential", "ca_file", "client_cert",
					  "client_key" };

const char *const *cfgschema_output_keys(enum mw_output_kind k, size_t *nkeys)
{
	switch (k) {
	case MW_OUT_SYSLOG:
		*nkeys = NELEM(syslog_keys);
		return syslog_keys;
	case MW_OUT_HEC:
		*nkeys = NELEM(hec_keys);
		return hec_keys;
	case MW_OUT_ES:
		*nkeys = NELEM(es_keys);
		return es_keys;
	case MW_OUT_KAFKA:
		*nkeys = NELEM(kafka_keys);
		return kafka_keys;
	case MW_OUT_NDJSON:
	default:
		*nkeys = NELEM(ndjson_keys);
		return ndjson_keys;
	}
}

/* The output types are the kinds output_type_name names ("?" past the last). */
static const char *output_type_at(size_t i, const void *arg)
{
	const char *name = output_type_name((enum mw_output_kind)i);

	(void)arg;
	return strcmp(name, "?") != 0 ? name : NULL;
}

int cfgschema_output_kind(const char *name)
{
	const char *t;

	for (size_t k = 0; (t = output_type_at(k, NULL)); k++)
		if (strcmp(name, t) == 0)
			return (int)k;
	return -1;
}

/* The secret a key names (its inline form's key), or -1. */
int cfgschema_secret_base(int k)
{
	switch (k) {
	case K_ACCESS_KEY: case K_ACCESS_KEY_FILE: case K_ACCESS_KEY_ENV:
	case K_ACCESS_KEY_CREDENTIAL:
		return K_ACCESS_KEY;
	case K_SECRET_KEY: case K_SECRET_KEY_FILE: case K_SECRET_KEY_ENV:
	case K_SECRET_KEY_CREDENTIAL:
		return K_SECRET_KEY;
	case K_CLIENT_SECRET: case K_CLIENT_SECRET_FILE: case K_CLIENT_SECRET_ENV:
	case K_CLIENT_SECRET_CREDENTIAL:
		return K_CLIENT_SECRET;
	case K_PROXY_PASSWORD: case K_PROXY_PASSWORD_FILE: case K_PROXY_PASSWORD_ENV:
	case K_PROXY_PASSWORD_CREDENTIAL:
		return K_PROXY_PASSWORD;
	default:
		return -1;
	}
}

struct mw_secret *cfgschema_secret_of(struct mw_integration *in, int base)
{
	return base == K_ACCESS_KEY ? &in->access_key
	       : base == K_SECRET_KEY ? &in->secret_key
	       : base == K_PROXY_PASSWORD ? &in->proxy.password : &in->client_secret;
}

const struct mw_secret *cfgschema_secret_ofc(const struct mw_integration *in, int base)
{
	return cfgschema_secret_of((struct mw_integration *)in, base);
}

int64_t *cfgschema_duration_of(struct mw_integration *in, int k)
{
	switch (k) {
	case K_INTERVAL: return &in->interval;
	case K_LOOKBACK: return &in->lookback;
	case K_LAG: return &in->lag;
	default: return &in->overlap;
	}
}

static unsigned all_types(void)
{
	return mw_nlogtypes >= 32 ? ~0u : (1u << mw_nlogtypes) - 1;
}

/* ---- lists and hints for messages ---------------------------------------- */

/* Joins names with ", " into buf (cut at n): name(i, arg) gives the i-th,
 * NULL past the last. */
static void join_names(char *buf, size_t n, const char *(*name)(size_t i, const void *arg),
		       const void *arg)
{
	const char *s;
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; o < n && (s = name(i, arg)); i++) {
		int w = snprintf(buf + o, n - o, "%s%s", i ? ", " : "", s);
		if (w < 0)
			break;
		o += (size_t)w;
	}
}

static const char *logtype_at(size_t i, const void *arg)
{
	(void)arg;
	return i < mw_nlogtypes ? mw_logtypes[i].name : NULL;
}

struct key_array {
	const char *const *keys;
	size_t nkeys;
};

static const char *key_at(size_t i, const void *arg)
{
	const struct key_array *a = arg;

	return i < a->nkeys ? a->keys[i] : NULL;
}

void cfgschema_type_list(char *buf, size_t n)
{
	join_names(buf, n, logtype_at, NULL);
}

void cfgschema_key_list(const char *const *keys, size_t nkeys, char *buf, size_t n)
{
	struct key_array a = { keys, nkeys };

	join_names(buf, n, key_at, &a);
}

void cfgschema_output_type_list(char *buf, size_t n)
{
	join_names(buf, n, output_type_at, NULL);
}

/* Edit distance, to suggest the key a typo meant. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[33];

	if (la > 32 || lb > 32)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

const char *cfgschema_closest_key(const char *k, const char *const *keys, size_t nkeys)
{
	const char *best = NULL;
	size_t bd = 3;  /* at most two edits away */

	for (size_t i = 0; i < nkeys; i++) {
		size_t d = edit_distance(k, keys[i]);

		if (d < bd) {
			bd = d;
			best = keys[i];
		}
	}
	return best;
}

/* A value shown in a message: short, one line, nothing a terminal obeys. */
const char *cfgschema_show(const char *s, char buf[72])
{
	size_t o = 0;

	for (size_t i = 0; s && s[i] && o < 64; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[o++] = c < 0x20 || c == 0x7F ? '?' : (char)c;
	}
	if (s && strlen(s) > 64) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

/* ---- field checks -------------------------------------------------------- */

int cfgschema_name_ok(const char *s)
{
	size_t n = 0, dots = 0;

	if (!s)
		return 0;
	for (; s[n]; n++) {
		char c = s[n];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
		dots += c == '.';
	}
	/* the name becomes a directory: "." and ".." would escape it */
	return n > 0 && n <= CFG_MAX_NAME && dots < n;
}

/* Printable ASCII without spaces: these values end up in HTTP headers. */
static int token_ok(const char *s)
{
	if (!s || !*s)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7F)
			return 0;
	return 1;
}

/* https://host[:port][/path], or http:// to a loopback host (tests and the
 * simulated tenant). Writes "problem; fix" into msg. */
static int url_check(const char *u, char *msg, size_t n)
{
	const char *host, *p;
	size_t hl;
	int https;

	for (p = u; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p == 0x7F) {
			snprintf(msg, n, "contains a space or control character; write the URL "
				 "alone, e.g. https://eu-api.mimecast.com");
			return -1;
		}
	if (strncmp(u, "https://", 8) == 0)
		https = 1;
	else if (strncmp(u, "http://", 7) == 0)
		https = 0;
	else {
		snprintf(msg, n, "must start with https://; write e.g. "
			 "https://eu-api.mimecast.com");
		return -1;
	}
	host = u + (https ? 8 : 7);
	hl = strcspn(host, "/?#");
	if (memchr(host, '@', hl)) {
		snprintf(msg, n, "must not hold a user name or password; write only "
			 "https://host");
		return -1;
	}
	if (host[hl] == '?' || host[hl] == '#' || strpbrk(host + hl, "?#")) {
		snprintf(msg, n, "must not have a query or fragment; write only "
			 "https://host[:port][/path]");
		return -1;
	}
	/* split off the port */
	{
		size_t h = hl;

		if (host[0] == '[') {
			const char *rb = memchr(host, ']', hl);

			if (!rb) {
				snprintf(msg, n, "has an unclosed [ in the host; write e.g. "
					 "http://[::1]:8443");
				return -1;
			}
			h = (size_t)(rb - host) + 1;
		} else {
			const char *colon = memchr(host, ':', hl);

			if (colon)
				h = (size_t)(colon - host);
		}
		if (h < hl) {
			size_t i = h + 1;

			if (host[h] != ':' || i == hl) {
				snprintf(msg, n, "has a bad port; write e.g. https://host:443");
				return -1;
			}
			for (; i < hl; i++)
				if (host[i] < '0' || host[i] > '9' || i - h > 5) {
					snprintf(msg, n, "has a bad port; write e.g. "
						 "https://host:443");
					return -1;
				}
		}
		if (h == 0) {
			snprintf(msg, n, "has no host; write e.g. https://eu-api.mimecast.com");
			return -1;
		}
		if (!https && !net_url_is_loopback(u)) {
			snprintf(msg, n, "http:// is allowed only to this machine (127.0.0.1, "
				 "::1, localhost); use https://");
			return -1;
		}
	}
	return 0;
}

int cfgschema_path_check(const char *path, char *msg, size_t n)
{
	if (!path || path[0] != '/') {
		snprintf(msg, n, "'%s' is not an absolute path; write a path that starts "
			 "with /", path ? path : "");
		return -1;
	}
	if (strlen(path) >= PATH_MAX - 64) {
		snprintf(msg, n, "the path is too long; use a shorter one");
		return -1;
	}
	return 0;
}

/* Lexically: '.', '..', repeated and trailing slashes resolved; then the
 * longest prefix that exists through realpath, so a symlink is followed.
 * The whole path first: when it exists, the kernel's own answer (a '..'
 * after a symlink means the target's parent). */
int config_dir_canon(const char *path, char *out, size_t n)
{
	char lex[PATH_MAX], real[PATH_MAX];
	size_t len = 0, cut;

	if (!path || path[0] != '/' || n < 2)
		return -1;
	if (realpath(path, real)) {
		if (strlen(real) >= n)
			return -1;
		strcpy(out, real);
		return 0;
	}
	lex[0] = '\0';
	for (const char *p = path; *p;) {
		size_t l;

		while (*p == '/')
			p++;
		l = strcspn(p, "/");
		if (l == 0 || (l == 1 && p[0] == '.')) {
			/* nothing */
		} else if (l == 2 && p[0] == '.' && p[1] == '.') {
			while (len > 0 && lex[len - 1] != '/')
				len--;
			if (len > 0)
				len--;  /* the slash */
			lex[len] = '\0';
		} else {
			if (len + 1 + l >= sizeof(lex))
				return -1;
			lex[len++] = '/';
			memcpy(lex + len, p, l);
			len += l;
			lex[len] = '\0';
		}
		p += l;
	}
	if (len == 0) {
		snprintf(out, n, "/");
		return 0;
	}
	/* The longest existing prefix, resolved; the rest as written. */
	for (cut = len; cut > 0; ) {
		char save = lex[cut];

		lex[cut] = '\0';
		if (realpath(lex, real)) {
			lex[cut] = save;
			if (snprintf(out, n, "%s%s", strcmp(real, "/") == 0 ? "" : real,
				     lex + cut) >= (int)n)
				return -1;
			return 0;
		}
		lex[cut] = save;
		while (cut > 0 && lex[cut - 1] != '/')
			cut--;
		if (cut > 0)
			cut--;
	}
	if (snprintf(out, n, "%s", lex) >= (int)n)
		return -1;
	return 0;
}

int config_dir_within(const char *dir, const char *base)
{
	char a[PATH_MAX], b[PATH_MAX];
	size_t lb;

	if (config_dir_canon(dir, a, sizeof(a)) < 0 || config_dir_canon(base, b, sizeof(b)) < 0)
		return -1;
	if (strcmp(a, b) == 0)
		return 1;
	lb = strlen(b);
	if (strcmp(b, "/") == 0 || (strncmp(a, b, lb) == 0 && a[lb] == '/'))
		return 2;
	return 0;
}

const char *cfgschema_api_name(int api)
{
	return api == 2 ? "v2" : "v1";
}

/* "key: ..." for a key of the other API version. Switching an integration
 * from API 1.0 to 2.0 by hand lands here when a 1.0 key is left behind, so
 * the fix spells the switch out: the name stays, and with it the cursors and
 * records, which the store keys by name and type. */
void cfgschema_wrong_api_msg(int k, int api, char *msg, size_t n)
{
	const char *key = cfgschema_ikey_names[k];

	if (api == 2)
		snprintf(msg, n, "%s: is an API 1.0 key, and this integration has api: v2; to "
			 "switch to API 2.0 replace app_id, app_key, access_key and secret_key "
			 "with client_id and client_secret and keep the name (its cursors and "
			 "records are kept), or set api: v1", key);
	else
		snprintf(msg, n, "%s: is used only with api: v2, and this integration has api: "
			 "v1; remove it, or switch to API 2.0: set api: v2 and remove app_id, "
			 "app_key, access_key and secret_key", key);
}

/* Checks one field of a filled-in integration (the secret forms are checked
 * through their inline key). Writes "field: problem; fix" into msg. */
int cfgschema_check_field(const struct mw_integration *in, int k, char *msg, size_t n)
{
	char sh[72], tmp[512];
	const char *key = cfgschema_ikey_names[k];

	if (cfgschema_ikey_api[k] && cfgschema_ikey_api[k] != in->api) {
		int set;

		if (cfgschema_secret_base(k) >= 0)
			set = cfgschema_secret_ofc(in, cfgschema_secret_base(k))->src
			      != MW_SECRET_NONE;
		else if (k == K_APP_ID)
			set = in->app_id != NULL;
		else if (k == K_APP_KEY)
			set = in->app_key != NULL;
		else
			set = in->client_id != NULL;
		if (set) {
			cfgschema_wrong_api_msg(k, in->api, msg, n);
			return -1;
		}
		return 0;
	}
	switch (k) {
	case K_NAME:
		if (!in->name || !*in->name) {
			snprintf(msg, n, "name: missing; add e.g. name: acme-eu (letters, digits, "
				 ". _ -)");
			return -1;
		}
		if (!cfgschema_name_ok(in->name)) {
			snprintf(msg, n, "name: '%s' is not a valid name; use 1 to %d letters, "
				 "digits, '.', '_' or '-' (not only dots)",
				 cfgschema_show(in->name, sh), CFG_MAX_NAME);
			return -1;
		}
		return 0;
	case K_DESCRIPTION:
		if (in->description && strlen(in->description) > CFG_MAX_TEXT) {
			snprintf(msg, n, "description: longer than %d bytes; shorten it",
				 CFG_MAX_TEXT);
			return -1;
		}
		return 0;
	case K_API:
		if (in->api != 1 && in->api != 2) {
			snprintf(msg, n, "api: %d is not an API version; write v1 (HMAC keys) or "
				 "v2 (OAuth2 client credentials)", in->api);
			return -1;
		}
		return 0;
	case K_BASE_URL:
		if (!in->base_url || !*in->base_url) {
			snprintf(msg, n, "base_url: missing; add the API base URL of your "
				 "region, e.g. base_url: https://eu-api.mimecast.com");
			return -1;
		}
		if (strlen(in->base_url) > CFG_MAX_TEXT) {
			snprintf(msg, n, "base_url: too long; write only https://host");
			return -1;
		}
		if (url_check(in->base_url, tmp, sizeof(tmp)) < 0) {
			snprintf(msg, n, "base_url: '%s' %s", cfgschema_show(in->base_url, sh),
				 tmp);
			return -1;
		}
		return 0;
	case K_APP_ID:
	case K_APP_KEY: {
		const char *v = k == K_APP_ID ? in->app_id : in->app_key;
		const char *what = k == K_APP_ID ? "Application ID" : "Application Key";

		if (!v || !*v) {
			snprintf(msg, n, "%s: missing; add the %s of the API 1.0 application "
				 "(a GUID like 01234567-89ab-cdef-0123-456789abcdef)", key, what);
			return -1;
		}
		if (!mw_is_guid(v)) {
			snprintf(msg, n, "%s: '%s' is not a GUID; copy the %s exactly, in the "
				 "form 01234567-89ab-cdef-0123-456789abcdef", key,
				 cfgschema_show(v, sh), what);
			return -1;
		}
		return 0;
	}
	case K_CLIENT_ID:
		if (!in->client_id || !*in->client_id) {
			snprintf(msg, n, "client_id: missing; add the Client ID of the API 2.0 "
				 "application");
			return -1;
		}
		if (!token_ok(in->client_id) || strlen(in->client_id) > CFG_MAX_TEXT) {
			snprintf(msg, n, "client_id: contains a space or control character; "
				 "copy the Client ID exactly");
			return -1;
		}
		return 0;
	case K_ACCESS_KEY:
	case K_SECRET_KEY:
	case K_CLIENT_SECRET: {
		const struct mw_secret *s = cfgschema_secret_ofc(in, k);
		unsigned char *raw = NULL;
		size_t rawlen = 0;

		/* never echo a secret's value */
		if (s->src == MW_SECRET_NONE || !s->value || !*s->value) {
			snprintf(msg, n, "%s: missing; add %s, %s_file (a file of mode 0600) or "
				 "%s_env (an environment variable)", key, key, key, key);
			return -1;
		}
		if (!token_ok(s->value)) {
			snprintf(msg, n, "%s: contains a space or control character; copy the "
				 "value exactly, on one line", key);
			return -1;
		}
		if (k == K_SECRET_KEY &&
		    (mw_base64_decode(s->value, strlen(s->value), &raw, &rawlen) < 0 ||
		     rawlen == 0)) {
			if (raw)
				free(raw);
			snprintf(msg, n, "secret_key: is not base64 (the Secret Key looks like "
				 "'ab12...==' and its length is a multiple of 4); copy it "
				 "exactly as Mimecast showed it");
			return -1;
		}
		if (raw) {
			explicit_bzero(raw, rawlen);
			free(raw);
		}
		return 0;
	}
	case K_TYPES:
		cfgschema_type_list(tmp, sizeof(tmp));
		if (!in->types) {
			snprintf(msg, n, "types: no log type chosen; list at least one of %s", tmp);
			return -1;
		}
		if (in->types & ~all_types()) {
			snprintf(msg, n, "types: holds an unknown log type; valid types: %s", tmp);
			return -1;
		}
		return 0;
	case K_INTERVAL:
	case K_LOOKBACK:
	case K_LAG:
	case K_OVERLAP: {
		int64_t v = *cfgschema_duration_of((struct mw_integration *)in, k);
		int64_t min = k == K_INTERVAL ? 10 : 0;

		if (v < min || v > DUR_MAX) {
			char vb[32];

			mw_format_duration(v, vb, sizeof(vb));
			if (k == K_INTERVAL)
				snprintf(msg, n, "interval: %s is too %s; poll at least every 10s "
					 "and at most every 36500d, e.g. interval: 5m", vb,
					 v < min ? "short" : "long");
			else
				snprintf(msg, n, "%s: %s is out of range; write 0s to 36500d", key,
					 vb);
			return -1;
		}
		return 0;
	}
	case K_PAGE_SIZE:
		/* 1..100 is the documented range; larger requests are accepted
		 * but answered with at most 100 (elastic/integrations#4921). */
		if (in->page_size < 1 || in->page_size > PAGE_SIZE_MAX) {
			snprintf(msg, n, "page_size: %d is out of range: Mimecast documents pages "
				 "of 1 to %d records; write a number from 1 to %d (default 100)",
				 in->page_size, PAGE_SIZE_MAX, PAGE_SIZE_MAX);
			return -1;
		}
		return 0;
	case K_CA_FILE:
		return in->ca_file ? cfgschema_ca_file_check("ca_file", in->ca_file, msg, n) : 0;
	case K_PROXY:
	case K_PROXY_USER:
	case K_PROXY_PASSWORD:
	case K_PROXY_CA_FILE:
		return cfgproxy_check_field(in, k, msg, n);
	default:
		return 0;
	}
}

int cfgschema_ca_file_check(const char *key, const char *path, char *msg, size_t n)
{
	return cfgschema_pem_file_check(key, path, "the CA certificate", msg, n);
}

int cfgschema_pem_file_check(const char *key, const char *path, const char *what, char *msg,
			     size_t n)
{
	char sh[72], tmp[512];
	int fd;
	struct stat st;

	if (cfgschema_path_check(path, tmp, sizeof(tmp)) < 0) {
		snprintf(msg, n, "%s: %s", key, tmp);
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		snprintf(msg, n, "%s: cannot read %s: %s; give the path of a PEM file holding "
			 "%s", key, cfgschema_show(path, sh), strerror(errno), what);
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(msg, n, "%s: %s is not a regular file; give the path of a PEM file "
			 "holding %s", key, cfgschema_show(path, sh), what);
		return -1;
	}
	close(fd);
	return 0;
}

static int check_fail(const char *file, int line, const char *who, const char *msg, mw_err *e)
{
	if (file)
		mw_err_set(e, "%s:%d: %s: %s", file, line, who, msg);
	else
		mw_err_set(e, "%s: %s", who, msg);
	return -1;
}

/* Runs every field check; where[k] gives the line to blame (0: none). */
int cfgschema_check_all(const struct mw_integration *in, const char *file, const int *lines,
			int item_line, const char *who, mw_err *e)
{
	char msg[900];

	for (int k = 0; k < K_COUNT; k++) {
		int line;

		if (cfgschema_secret_base(k) >= 0 && cfgschema_secret_base(k) != k)
			continue;  /* the other forms: checked through the base */
		if (cfgschema_check_field(in, k, msg, sizeof(msg)) == 0)
			continue;
		line = item_line;
		if (lines) {
			if (cfgschema_secret_base(k) >= 0) {
				for (int f = k; f < k + SECRET_FORMS; f++)
					if (lines[f])
						line = lines[f];
			} else if (lines[k]) {
				line = lines[k];
			}
		}
		return check_fail(file, line, who, msg, e);
	}
	if (cfgproxy_check_pair(in, msg, sizeof(msg)) < 0)
		return check_fail(file, lines && lines[K_PROXY_USER] ? lines[K_PROXY_USER]
				  : item_line, who, msg, e);
	return 0;
}


/* ---- defaults ------------------------------------------------------------ */

static void home_dir(char *buf, size_t n)
{
	const char *h = getenv("HOME");

	if (!h || h[0] != '/') {
		struct passwd *pw = getpwuid(getuid());

		h = pw && pw->pw_dir && pw->pw_dir[0] == '/' ? pw->pw_dir : "/";
	}
	snprintf(buf, n, "%s", h);
}

/* XDG variables count only when absolute, as the spec says. */
static void xdg_path(char *buf, size_t n, const char *var, const char *fallback,
		     const char *leaf)
{
	const char *x = getenv(var);

	if (x && x[0] == '/') {
		snprintf(buf, n, "%s/mimewatch%s", x, leaf);
	} else {
		char home[PATH_MAX];

		home_dir(home, sizeof(home));
		snprintf(buf, n, "%s%s/%s/mimewatch%s", home,
			 home[0] && home[strlen(home) - 1] == '/' ? "" : "", fallback, leaf);
		/* "//x" from a root home: keep one slash */
		if (buf[0] == '/' && buf[1] == '/')
			memmove(buf, buf + 1, strlen(buf));
	}
}

void config_default_path(char *buf, size_t n)
{
	xdg_path(buf, n, "XDG_CONFIG_HOME", ".config", "/config.yaml");
}

void config_default_state_dir(char *buf, size_t n)
{
	xdg_path(buf, n, "XDG_STATE_HOME", ".local/state", "");
}

void config_integration_defaults(struct mw_integration *in)
{
	memset(in, 0, sizeof(*in));
	in->api = 1;
	in->types = logtype_default_mask();
	in->interval = 300;
	in->lookback = 86400;
	in->lag = 30;
	in->overlap = 600;
	in->page_size = 100;
}

int config_check_integration(const struct mw_integration *in, mw_err *e)
{
	char who[128], sh[72];

	if (in->name && cfgschema_name_ok(in->name))
		snprintf(who, sizeof(who), "integration '%s'", in->name);
	else
		snprintf(who, sizeof(who), "integration '%s'",
			 in->name ? cfgschema_show(in->name, sh) : "");
	return cfgschema_check_all(in, NULL, NULL, 0, who, e);
}
