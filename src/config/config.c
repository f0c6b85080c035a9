/* config.c - the YAML config (see config.h and design.md, "Config").
 *
 * libyaml's events are turned into a small tree of nodes that remember their
 * line and byte range; the tree is then checked against the schema, so every
 * error can name file, line, field and fix. Saving splices the original text:
 * entries that did not change are copied byte for byte, comments included. */
#include "config.h"
#include "logtypes.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#define CFG_MAX_BYTES (1024 * 1024)
#define CFG_MAX_DEPTH 16
#define CFG_MAX_NODES 200000      /* bounds memory on hostile input */
#define CFG_MAX_INTEGRATIONS 1000
#define CFG_MAX_NAME 64
#define CFG_MAX_TEXT 1024         /* description, URLs, paths, ids */
#define SECRET_MAX (64 * 1024)
#define PAGE_SIZE_MAX 100
/* Mimecast keeps TTP logs about 30 days (mimecast-api.md 9: "historical date
 * restrictions"); a longer lookback only asks for what is gone. */
#define LOOKBACK_KEPT (30 * 86400)
/* Larger durations only invite overflow in "now - lookback" arithmetic. */
#define DUR_MAX ((int64_t)36500 * 86400)

#define DEFAULT_V2_URL "https://api.services.mimecast.com"
#define DEFAULT_RETENTION ((int64_t)30 * 86400)

/* ---- the node tree -------------------------------------------------------- */

enum node_kind { NODE_SCALAR, NODE_SEQ, NODE_MAP };

struct node {
	enum node_kind kind;
	int line, col;        /* 1-based */
	size_t start, end;    /* byte range of the content (end: last content byte + 1) */
	int block;            /* collection written in block style */
	int is_null;          /* plain empty, ~ or null */
	char *str;            /* scalar value, NUL-free */
	size_t len;
	struct node **kids;   /* seq items; map: key, value, key, value ... */
	size_t nkids, cap;
};

static void node_free(struct node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		node_free(n->kids[i]);
	free(n->kids);
	if (n->str)
		explicit_bzero(n->str, n->len);  /* may be an inline secret */
	free(n->str);
	free(n);
}

static void node_add(struct node *parent, struct node *kid)
{
	if (parent->nkids == parent->cap) {
		parent->cap = parent->cap ? parent->cap * 2 : 8;
		parent->kids = mw_xrealloc(parent->kids, parent->cap * sizeof(*parent->kids));
	}
	parent->kids[parent->nkids++] = kid;
}

/* libyaml counts characters, not bytes: walk the UTF-8 text to convert. The
 * marks arrive almost in order, so the walk is incremental. */
struct offmap {
	const unsigned char *t;
	size_t len, base, ci, bi;
};

static size_t offmap_byte(struct offmap *m, size_t ci)
{
	while (m->ci < ci && m->bi < m->len) {
		m->bi++;
		while (m->bi < m->len && (m->t[m->bi] & 0xC0) == 0x80)
			m->bi++;
		m->ci++;
	}
	while (m->ci > ci && m->bi > m->base) {
		m->bi--;
		while (m->bi > m->base && (m->t[m->bi] & 0xC0) == 0x80)
			m->bi--;
		m->ci--;
	}
	return m->bi;
}

static int line_of_offset(const char *t, size_t len, size_t off)
{
	int line = 1;

	for (size_t i = 0; i < off && i < len; i++)
		line += t[i] == '\n';
	return line;
}

static int tree_fail(mw_err *e, const char *file, int line, const char *what)
{
	mw_err_set(e, "%s:%d: %s", file, line, what);
	return -1;
}

/* Parses text into a tree. *rootp is NULL for an empty document. */
static int tree_parse(const char *file, const char *text, size_t len, struct node **rootp,
		      mw_err *e)
{
	yaml_parser_t p;
	yaml_event_t ev;
	struct node *stack[CFG_MAX_DEPTH + 1];
	struct node *root = NULL;
	struct offmap om;
	size_t nnodes = 0;
	int depth = 0, docs = 0, rc = -1;

	*rootp = NULL;
	if (len > CFG_MAX_BYTES) {
		mw_err_set(e, "%s: %zu bytes is more than a config may hold (1 MiB); "
			      "remove what is not config", file, len);
		return -1;
	}
	if (len >= 2 && (((unsigned char)text[0] == 0xFE && (unsigned char)text[1] == 0xFF) ||
			 ((unsigned char)text[0] == 0xFF && (unsigned char)text[1] == 0xFE))) {
		mw_err_set(e, "%s:1: the file is UTF-16; save it as UTF-8", file);
		return -1;
	}
	om.t = (const unsigned char *)text;
	om.len = len;
	/* libyaml drops a UTF-8 byte order mark before counting */
	om.base = len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
	om.ci = 0;
	om.bi = om.base;

	if (!yaml_parser_initialize(&p)) {
		mw_err_set(e, "%s: out of memory starting the YAML parser", file);
		return -1;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	for (;;) {
		struct node *n = NULL;
		const unsigned char *anchor = NULL;
		int line, done;
		char msg[512];

		if (!yaml_parser_parse(&p, &ev)) {
			if (p.error == YAML_READER_ERROR) {
				snprintf(msg, sizeof(msg), "%s (byte %zu); save the file as UTF-8 "
					 "text without control characters",
					 p.problem ? p.problem : "unreadable text",
					 p.problem_offset);
				tree_fail(e, file, line_of_offset(text, len, p.problem_offset), msg);
			} else if (p.error == YAML_MEMORY_ERROR) {
				mw_err_set(e, "%s: out of memory parsing YAML", file);
			} else {
				mw_err_set(e, "%s:%zu:%zu: YAML syntax error: %s%s%s; check the "
					      "indentation (spaces only) and quote values that "
					      "contain ': ' or ' #'", file,
					   p.problem_mark.line + 1, p.problem_mark.column + 1,
					   p.problem ? p.problem : "bad syntax",
					   p.context ? " " : "", p.context ? p.context : "");
			}
			goto out;
		}
		line = (int)ev.start_mark.line + 1;
		switch (ev.type) {
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				tree_fail(e, file, line, "a second YAML document ('---'); keep one "
					  "document per config file");
				goto fail_ev;
			}
			break;
		case YAML_ALIAS_EVENT:
			tree_fail(e, file, line, "YAML aliases (*name) are not allowed; write "
				  "the value out in full");
			goto fail_ev;
		case YAML_SCALAR_EVENT:
			anchor = ev.data.scalar.anchor;
			break;
		case YAML_SEQUENCE_START_EVENT:
			anchor = ev.data.sequence_start.anchor;
			break;
		case YAML_MAPPING_START_EVENT:
			anchor = ev.data.mapping_start.anchor;
			break;
		default:
			break;
		}
		if (anchor) {
			tree_fail(e, file, line, "YAML anchors (&name) are not allowed; write "
				  "each value out in full");
			goto fail_ev;
		}
		if (ev.type == YAML_SCALAR_EVENT || ev.type == YAML_SEQUENCE_START_EVENT ||
		    ev.type == YAML_MAPPING_START_EVENT) {
			if (++nnodes > CFG_MAX_NODES) {
				tree_fail(e, file, line, "too many values; a config holds at "
					  "most 1000 integrations");
				goto fail_ev;
			}
			n = mw_xcalloc(1, sizeof(*n));
			n->line = line;
			n->col = (int)ev.start_mark.column + 1;
			n->start = offmap_byte(&om, ev.start_mark.index);
			if (ev.type == YAML_SCALAR_EVENT) {
				const char *v = (const char *)ev.data.scalar.value;
				size_t vl = ev.data.scalar.length;

				n->kind = NODE_SCALAR;
				n->end = offmap_byte(&om, ev.end_mark.index);
				if (memchr(v, '\0', vl)) {
					free(n);
					tree_fail(e, file, line, "a value contains a NUL character "
						  "(\\0); remove it");
					goto fail_ev;
				}
				n->str = mw_xstrndup(v, vl);
				n->len = vl;
				n->is_null = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
					     (vl == 0 || strcmp(v, "~") == 0 ||
					      strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
					      strcmp(v, "NULL") == 0);
			} else {
				n->kind = ev.type == YAML_SEQUENCE_START_EVENT ? NODE_SEQ : NODE_MAP;
				n->block = ev.type == YAML_SEQUENCE_START_EVENT
						   ? ev.data.sequence_start.style != YAML_FLOW_SEQUENCE_STYLE
						   : ev.data.mapping_start.style != YAML_FLOW_MAPPING_STYLE;
				n->end = n->start;
			}
			if (depth > 0)
				node_add(stack[depth - 1], n);
			else
				root = n;
			if (n->kind != NODE_SCALAR) {
				if (depth >= CFG_MAX_DEPTH) {
					tree_fail(e, file, line, "values nested more than 16 deep; "
						  "a config needs at most 4 levels");
					goto fail_ev;
				}
				stack[depth++] = n;
			}
		} else if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT) {
			if (depth > 0) {
				struct node *c = stack[--depth];

				/* a block collection ends where its last value ends; libyaml
				 * puts the end mark at the next token, past any comments */
				if (!c->block)
					c->end = offmap_byte(&om, ev.end_mark.index);
				else if (c->nkids > 0)
					c->end = c->kids[c->nkids - 1]->end;
				if (depth > 0 && c->end > stack[depth - 1]->end)
					stack[depth - 1]->end = c->end;
			}
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
		if (done)
			break;
		continue;
fail_ev:
		yaml_event_delete(&ev);
		goto out;
	}
	*rootp = root;
	root = NULL;
	rc = 0;
out:
	node_free(root);
	yaml_parser_delete(&p);
	return rc;
}

/* ---- schema ------------------------------------------------------------ */

enum ikey {
	K_NAME, K_DESCRIPTION, K_API, K_BASE_URL, K_APP_ID, K_APP_KEY,
	K_ACCESS_KEY, K_ACCESS_KEY_FILE, K_ACCESS_KEY_ENV,
	K_SECRET_KEY, K_SECRET_KEY_FILE, K_SECRET_KEY_ENV,
	K_CLIENT_ID, K_CLIENT_SECRET, K_CLIENT_SECRET_FILE, K_CLIENT_SECRET_ENV,
	K_TYPES, K_INTERVAL, K_LOOKBACK, K_LAG, K_OVERLAP, K_PAGE_SIZE, K_CA_FILE,
	K_COUNT
};

static const char *const ikey_names[K_COUNT] = {
	"name", "description", "api", "base_url", "app_id", "app_key",
	"access_key", "access_key_file", "access_key_env",
	"secret_key", "secret_key_file", "secret_key_env",
	"client_id", "client_secret", "client_secret_file", "client_secret_env",
	"types", "interval", "lookback", "lag", "overlap", "page_size", "ca_file",
};

/* Which API a key belongs to: 0 both. */
static const int ikey_api[K_COUNT] = {
	0, 0, 0, 0, 1, 1,
	1, 1, 1,
	1, 1, 1,
	2, 2, 2, 2,
	0, 0, 0, 0, 0, 0, 0,
};

static const char *const top_keys[] = { "state_dir", "retention", "integrations", "outputs",
					"heartbeat" };

/* Output types: their names, and the keys each accepts (the network ones
 * also take batch and timeout). */
static const char *const output_types[] = { "ndjson", "syslog", "hec", "elasticsearch",
					    "kafka" };
static const char *const ndjson_keys[] = { "type", "name", "dir" };
static const char *const syslog_keys[] = { "type", "name", "url", "ca_file", "hostname",
					   "batch", "timeout" };
static const char *const hec_keys[] = { "type", "name", "url", "ca_file", "index", "token",
					"token_file", "token_env", "batch", "timeout" };
static const char *const es_keys[] = { "type", "name", "url", "ca_file", "index", "api_key",
				       "api_key_file", "api_key_env", "batch", "timeout" };
static const char *const kafka_keys[] = { "type", "name", "brokers", "topic", "batch",
					  "timeout" };
#define DEFAULT_OUT_BATCH 500
#define DEFAULT_OUT_TIMEOUT 10


/* The secret a key names (its inline form's key), or -1. */
static int secret_base(int k)
{
	switch (k) {
	case K_ACCESS_KEY: case K_ACCESS_KEY_FILE: case K_ACCESS_KEY_ENV:
		return K_ACCESS_KEY;
	case K_SECRET_KEY: case K_SECRET_KEY_FILE: case K_SECRET_KEY_ENV:
		return K_SECRET_KEY;
	case K_CLIENT_SECRET: case K_CLIENT_SECRET_FILE: case K_CLIENT_SECRET_ENV:
		return K_CLIENT_SECRET;
	default:
		return -1;
	}
}

static struct mw_secret *secret_of(struct mw_integration *in, int base)
{
	return base == K_ACCESS_KEY ? &in->access_key
	       : base == K_SECRET_KEY ? &in->secret_key : &in->client_secret;
}

static const struct mw_secret *secret_ofc(const struct mw_integration *in, int base)
{
	return secret_of((struct mw_integration *)in, base);
}

static int64_t *duration_of(struct mw_integration *in, int k)
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

static void type_list(char *buf, size_t n)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < mw_nlogtypes && o < n; i++) {
		int w = snprintf(buf + o, n - o, "%s%s", i ? ", " : "", mw_logtypes[i].name);
		if (w < 0)
			break;
		o += (size_t)w;
	}
}

static void key_list(const char *const *keys, size_t nkeys, char *buf, size_t n)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < nkeys && o < n; i++) {
		int w = snprintf(buf + o, n - o, "%s%s", i ? ", " : "", keys[i]);
		if (w < 0)
			break;
		o += (size_t)w;
	}
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

static const char *closest_key(const char *k, const char *const *keys, size_t nkeys)
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
static const char *show(const char *s, char buf[72])
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

static int name_ok(const char *s)
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

static int loopback_host(const char *h, size_t n)
{
	unsigned a[4];
	int used = 0;
	char buf[64];

	if (n == 0 || n >= sizeof(buf))
		return 0;
	memcpy(buf, h, n);
	buf[n] = '\0';
	if (strcasecmp(buf, "localhost") == 0 || strcmp(buf, "[::1]") == 0)
		return 1;
	if (sscanf(buf, "%3u.%3u.%3u.%3u%n", &a[0], &a[1], &a[2], &a[3], &used) == 4 &&
	    (size_t)used == n && a[0] == 127 && a[1] < 256 && a[2] < 256 && a[3] < 256) {
		for (size_t i = 0; i < n; i++)
			if (buf[i] != '.' && (buf[i] < '0' || buf[i] > '9'))
				return 0;
		return 1;
	}
	return 0;
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
		if (!https && !loopback_host(host, h)) {
			snprintf(msg, n, "http:// is allowed only to this machine (127.0.0.1, "
				 "::1, localhost); use https://");
			return -1;
		}
	}
	return 0;
}

static int path_check(const char *path, char *msg, size_t n)
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

static const char *api_name(int api)
{
	return api == 2 ? "v2" : "v1";
}

/* "key: ..." for a key of the other API version. Switching an integration
 * from API 1.0 to 2.0 by hand lands here when a 1.0 key is left behind, so
 * the fix spells the switch out: the name stays, and with it the cursors and
 * records, which the store keys by name and type. */
static void wrong_api_msg(int k, int api, char *msg, size_t n)
{
	const char *key = ikey_names[k];

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
static int check_field(const struct mw_integration *in, int k, char *msg, size_t n)
{
	char sh[72], tmp[512];
	const char *key = ikey_names[k];

	if (ikey_api[k] && ikey_api[k] != in->api) {
		int set;

		if (secret_base(k) >= 0)
			set = secret_ofc(in, secret_base(k))->src != MW_SECRET_NONE;
		else if (k == K_APP_ID)
			set = in->app_id != NULL;
		else if (k == K_APP_KEY)
			set = in->app_key != NULL;
		else
			set = in->client_id != NULL;
		if (set) {
			wrong_api_msg(k, in->api, msg, n);
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
		if (!name_ok(in->name)) {
			snprintf(msg, n, "name: '%s' is not a valid name; use 1 to %d letters, "
				 "digits, '.', '_' or '-' (not only dots)", show(in->name, sh),
				 CFG_MAX_NAME);
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
			snprintf(msg, n, "base_url: '%s' %s", show(in->base_url, sh), tmp);
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
				 "form 01234567-89ab-cdef-0123-456789abcdef", key, show(v, sh),
				 what);
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
		const struct mw_secret *s = secret_ofc(in, k);
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
		type_list(tmp, sizeof(tmp));
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
		int64_t v = *duration_of((struct mw_integration *)in, k);
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
	case K_CA_FILE: {
		int fd;
		struct stat st;

		if (!in->ca_file)
			return 0;
		if (path_check(in->ca_file, tmp, sizeof(tmp)) < 0) {
			snprintf(msg, n, "ca_file: %s", tmp);
			return -1;
		}
		fd = open(in->ca_file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0) {
			snprintf(msg, n, "ca_file: cannot read %s: %s; give the path of a PEM file "
				 "holding the CA certificate", show(in->ca_file, sh),
				 strerror(errno));
			return -1;
		}
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			snprintf(msg, n, "ca_file: %s is not a regular file; give the path of a "
				 "PEM file holding the CA certificate", show(in->ca_file, sh));
			return -1;
		}
		close(fd);
		return 0;
	}
	default:
		return 0;
	}
}

/* Runs every field check; where[k] gives the line to blame (0: none). */
static int check_all(const struct mw_integration *in, const char *file, const int *lines,
		     int item_line, const char *who, mw_err *e)
{
	char msg[900];

	for (int k = 0; k < K_COUNT; k++) {
		int line;

		if (secret_base(k) >= 0 && secret_base(k) != k)
			continue;  /* the _file and _env forms: checked through the base */
		if (check_field(in, k, msg, sizeof(msg)) == 0)
			continue;
		line = item_line;
		if (lines) {
			if (secret_base(k) >= 0) {
				for (int f = k; f < k + 3; f++)
					if (lines[f])
						line = lines[f];
			} else if (lines[k]) {
				line = lines[k];
			}
		}
		if (file)
			mw_err_set(e, "%s:%d: %s: %s", file, line, who, msg);
		else
			mw_err_set(e, "%s: %s", who, msg);
		return -1;
	}
	return 0;
}

/* ---- loading -------------------------------------------------------------- */

struct ctx {
	const char *file;
	mw_err *e;
	struct mw_config *cfg;
};

static size_t line_start(const char *t, size_t off);
static size_t line_end(const char *t, size_t len, size_t off);
static int item_range(const char *t, size_t len, const struct node *it, size_t floor,
		      size_t *start, size_t *end, int *indent);

static int fail(struct ctx *c, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct ctx *c, int line, const char *fmt, ...)
{
	char msg[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	mw_err_set(c->e, "%s:%d: %s", c->file, line, msg);
	return -1;
}

static int unknown_key(struct ctx *c, const struct node *k, const char *who,
		       const char *const *keys, size_t nkeys)
{
	char list[600], sh[72], hint[96] = "";
	const char *near = closest_key(k->str, keys, nkeys);

	key_list(keys, nkeys, list, sizeof(list));
	if (near)
		snprintf(hint, sizeof(hint), "did you mean '%s'? ", near);
	return fail(c, k->line, "%s: unknown key '%s'; %svalid keys: %s", who,
		    show(k->str, sh), hint, list);
}

/* Map keys must be known plain scalars and appear once. Unknown keys are
 * refused first, so the duplicate search meets at most nkeys distinct keys. */
static int check_map_keys(struct ctx *c, const struct node *m, const char *who,
			  const char *const *keys, size_t nkeys)
{
	char sh[72];

	for (size_t i = 0; i + 1 < m->nkids; i += 2) {
		const struct node *k = m->kids[i];
		size_t j;

		if (k->kind != NODE_SCALAR)
			return fail(c, k->line, "%s: a key must be a plain word, not a list or "
				    "mapping; write key: value", who);
		for (j = 0; j < nkeys; j++)
			if (strcmp(k->str, keys[j]) == 0)
				break;
		if (j == nkeys)
			return unknown_key(c, k, who, keys, nkeys);
		for (j = 0; j < i; j += 2)
			if (strcmp(m->kids[j]->str, k->str) == 0)
				return fail(c, k->line, "%s: key '%s' appears twice (also on line "
					    "%d); keep one", who, show(k->str, sh),
					    m->kids[j]->line);
	}
	return 0;
}

static int want_scalar(struct ctx *c, const struct node *v, const char *who, const char *key)
{
	if (v->kind == NODE_SCALAR)
		return 0;
	return fail(c, v->line, "%s: %s: must be a single value, not a %s; write %s: value",
		    who, key, v->kind == NODE_SEQ ? "list" : "mapping", key);
}

static int parse_duration_node(struct ctx *c, const struct node *v, const char *who,
			       const char *key, int64_t *out)
{
	char sh[72];

	if (want_scalar(c, v, who, key) < 0)
		return -1;
	if (mw_parse_duration(v->str, out) < 0)
		return fail(c, v->line, "%s: %s: '%s' is not a duration; write e.g. 30s, 5m, "
			    "48h, 30d", who, key, show(v->str, sh));
	return 0;
}

int config_read_secret_text(const char *path, char **out, size_t *len, mw_err *e)
{
	char *data = NULL;

	*out = NULL;
	*len = 0;
	if (mw_read_file(path, SECRET_MAX, &data, len, e) < 0)
		return -1;
	/* editors add a newline at the end; the secret is the line before it */
	if (*len > 0 && data[*len - 1] == '\n') {
		(*len)--;
		if (*len > 0 && data[*len - 1] == '\r')
			(*len)--;
	}
	data[*len] = '\0';
	if (*len == 0 || memchr(data, '\0', *len)) {
		explicit_bzero(data, *len);
		free(data);
		return -2;
	}
	*out = data;
	return 0;
}

static int read_secret_file(struct ctx *c, int line, const char *who, const char *key,
			    const char *path, char **out)
{
	mw_err fe;
	char *data = NULL, tmp[512], sh[72];
	size_t len = 0;

	/* not echoed: a value that is not a path may be the secret pasted here */
	if (!path || path[0] != '/')
		return fail(c, line, "%s: %s: is not an absolute path (not shown, in case it "
			    "is the secret itself); write the path of the secret's file, "
			    "starting with /, or put the secret in %.*s", who, key,
			    (int)(strlen(key) - 5), key);
	if (path_check(path, tmp, sizeof(tmp)) < 0)
		return fail(c, line, "%s: %s: %s", who, key, tmp);
	mw_err_clear(&fe);
	if (mw_check_private_file(path, key, &fe) < 0)
		return fail(c, line, "%s: %s", who, fe.msg);
	switch (config_read_secret_text(path, &data, &len, &fe)) {
	case -1:
		return fail(c, line, "%s: %s: %s; the file must hold only the secret "
			    "(at most 64 KiB)", who, key, fe.msg);
	case -2:
		return fail(c, line, "%s: %s: %s is %s; put the secret in it, on one line",
			    who, key, show(path, sh), len ? "binary" : "empty");
	default:
		break;
	}
	*out = data;
	return 0;
}

static int env_name_ok(const char *s)
{
	if (!s || !((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

/* Whether an _env value may be echoed in a message: only a conventional
 * variable name (upper case, digits, _). Anything else may be the secret
 * itself, pasted where the name belongs. */
static int env_name_showable(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || !env_name_ok(s))
		return 0;
	for (; *s; s++)
		if (*s >= 'a' && *s <= 'z')
			return 0;
	return 1;
}

/* Resolves one form of a secret into s: form 0 the value inline (key base),
 * 1 a file (base_file), 2 an environment variable (base_env). Shared by the
 * integrations' keys and the outputs' tokens. */
static int secret_resolve(struct ctx *c, const struct node *v, const char *who, const char *base,
			  int form, struct mw_secret *s)
{
	char key[40], sh[72];

	snprintf(key, sizeof(key), "%s%s", base, form == 1 ? "_file" : form == 2 ? "_env" : "");
	if (want_scalar(c, v, who, key) < 0)
		return -1;
	if (form == 0) {
		s->src = MW_SECRET_INLINE;
		s->value = mw_xstrdup(v->str);
		return 0;
	}
	if (!*v->str)
		return fail(c, v->line, "%s: %s: is empty; write the %s", who, key,
			    form == 1 ? "path of the file" : "name of the variable");
	if (form == 1) {
		s->src = MW_SECRET_FILE;
		s->ref = mw_xstrdup(v->str);
		return read_secret_file(c, v->line, who, key, v->str, &s->value);
	}
	s->src = MW_SECRET_ENV;
	s->ref = mw_xstrdup(v->str);
	if (!env_name_ok(v->str))
		return fail(c, v->line, "%s: %s: is not a variable name (not shown, in case "
			    "it is the secret itself); write the name of the variable that "
			    "holds the secret (letters, digits and _), or put the secret in "
			    "%s_file", who, key, base);
	{
		const char *val = getenv(v->str);

		if ((!val || !*val) && !env_name_showable(v->str))
			return fail(c, v->line, "%s: %s: the environment variable it names is "
				    "%s (its name is not shown: it does not look like a variable "
				    "name; is it the secret itself?); export it before starting "
				    "mimewatch, or put the secret in %s_file", who, key,
				    val ? "empty" : "not set", base);
		if (!val || !*val)
			return fail(c, v->line, "%s: %s: the environment variable %s is %s; "
				    "export it before starting mimewatch", who, key,
				    show(v->str, sh), val ? "empty" : "not set");
		s->value = mw_xstrdup(val);
	}
	return 0;
}

static int parse_secret(struct ctx *c, struct mw_integration *in, int k, const struct node *v,
			const int *lines, const char *who)
{
	int base = secret_base(k);
	struct mw_secret *s = secret_of(in, base);

	if (s->src != MW_SECRET_NONE) {
		for (int f = base; f < base + 3; f++)
			if (f != k && lines[f])
				return fail(c, v->line, "%s: %s: %s is already given on line %d; "
					    "keep only one of %s, %s_file and %s_env", who,
					    ikey_names[k], ikey_names[f], lines[f], ikey_names[base],
					    ikey_names[base], ikey_names[base]);
	}
	return secret_resolve(c, v, who, ikey_names[base], k - base, s);
}

static int parse_types(struct ctx *c, struct mw_integration *in, const struct node *v,
		       const char *who)
{
	char list[256], sh[72];

	type_list(list, sizeof(list));
	if (v->kind != NODE_SEQ)
		return fail(c, v->line, "%s: types: must be a list; write e.g. types: [%s]", who,
			    list);
	if (v->nkids == 0)
		return fail(c, v->line, "%s: types: the list is empty; list at least one of %s",
			    who, list);
	in->types = 0;
	for (size_t i = 0; i < v->nkids; i++) {
		const struct node *t = v->kids[i];
		int idx;

		if (t->kind != NODE_SCALAR)
			return fail(c, t->line, "%s: types: each entry must be a type name; "
				    "valid types: %s", who, list);
		idx = logtype_index(t->str);
		if (idx < 0 || idx >= 32)
			return fail(c, t->line, "%s: types: '%s' is not a log type; valid types: "
				    "%s", who, show(t->str, sh), list);
		in->types |= 1u << idx;
	}
	return 0;
}

/* Stores v as a string field; null gives "" so the checks can say "missing". */
static void set_str(char **dst, const struct node *v)
{
	free(*dst);
	*dst = mw_xstrdup(v->is_null ? "" : v->str);
}

static int parse_integration(struct ctx *c, const struct node *m, size_t idx,
			     struct mw_integration *in)
{
	const struct node *vals[K_COUNT] = { 0 };
	int lines[K_COUNT] = { 0 };
	char who[128], msg[900], sh[72];

	config_integration_defaults(in);
	in->line = m->line;
	snprintf(who, sizeof(who), "integration #%zu", idx + 1);
	if (m->kind != NODE_MAP)
		return fail(c, m->line, "%s: must be a mapping of keys; start it with "
			    "'- name: ...'", who);
	/* name the entry in messages as early as possible */
	for (size_t i = 0; i + 1 < m->nkids; i += 2)
		if (m->kids[i]->kind == NODE_SCALAR && strcmp(m->kids[i]->str, "name") == 0 &&
		    m->kids[i + 1]->kind == NODE_SCALAR && name_ok(m->kids[i + 1]->str))
			snprintf(who, sizeof(who), "integration '%s'", m->kids[i + 1]->str);
	if (check_map_keys(c, m, who, ikey_names, K_COUNT) < 0)
		return -1;
	/* find every key first: name and api give the context for the rest */
	for (size_t i = 0; i + 1 < m->nkids; i += 2) {
		const struct node *k = m->kids[i];
		int found = -1;

		for (int j = 0; j < K_COUNT; j++)
			if (strcmp(k->str, ikey_names[j]) == 0)
				found = j;
		vals[found] = m->kids[i + 1];
		lines[found] = k->line;
	}
	if (vals[K_NAME]) {
		if (want_scalar(c, vals[K_NAME], who, "name") < 0)
			return -1;
		set_str(&in->name, vals[K_NAME]);
		if (check_field(in, K_NAME, msg, sizeof(msg)) < 0)
			return fail(c, lines[K_NAME], "%s: %s", who, msg);
		snprintf(who, sizeof(who), "integration '%s'", in->name);
	}
	if (vals[K_API]) {
		const struct node *v = vals[K_API];

		if (want_scalar(c, v, who, "api") < 0)
			return -1;
		if (strcmp(v->str, "v1") == 0)
			in->api = 1;
		else if (strcmp(v->str, "v2") == 0)
			in->api = 2;
		else
			return fail(c, lines[K_API], "%s: api: '%s' is not an API version; write "
				    "v1 (HMAC keys) or v2 (OAuth2 client credentials)", who,
				    show(v->str, sh));
	}
	/* the rest in file order, so the first error reported is the first in the file */
	for (size_t i = 0; i + 1 < m->nkids; i += 2) {
		const struct node *v = m->kids[i + 1];
		int k = -1;

		for (int j = 0; j < K_COUNT; j++)
			if (strcmp(m->kids[i]->str, ikey_names[j]) == 0)
				k = j;
		if (k == K_NAME || k == K_API)
			continue;
		if (ikey_api[k] && ikey_api[k] != in->api) {
			wrong_api_msg(k, in->api, msg, sizeof(msg));
			return fail(c, lines[k], "%s: %s", who, msg);
		}
		if (secret_base(k) >= 0) {
			if (parse_secret(c, in, k, v, lines, who) < 0)
				return -1;
			if (check_field(in, secret_base(k), msg, sizeof(msg)) < 0)
				return fail(c, lines[k], "%s: %s", who, msg);
			continue;
		}
		switch (k) {
		case K_DESCRIPTION:
			if (want_scalar(c, v, who, "description") < 0)
				return -1;
			free(in->description);
			in->description = v->is_null ? NULL : mw_xstrdup(v->str);
			break;
		case K_BASE_URL: {
			size_t l;

			if (want_scalar(c, v, who, "base_url") < 0)
				return -1;
			set_str(&in->base_url, v);
			l = strlen(in->base_url);
			while (l > 0 && in->base_url[l - 1] == '/')
				in->base_url[--l] = '\0';
			break;
		}
		case K_APP_ID:
		case K_APP_KEY:
		case K_CLIENT_ID:
			if (want_scalar(c, v, who, ikey_names[k]) < 0)
				return -1;
			set_str(k == K_APP_ID ? &in->app_id : k == K_APP_KEY ? &in->app_key
									  : &in->client_id, v);
			break;
		case K_TYPES:
			if (parse_types(c, in, v, who) < 0)
				return -1;
			break;
		case K_INTERVAL:
		case K_LOOKBACK:
		case K_LAG:
		case K_OVERLAP:
			if (parse_duration_node(c, v, who, ikey_names[k], duration_of(in, k)) < 0)
				return -1;
			break;
		case K_PAGE_SIZE: {
			long ps = 0;
			size_t l;

			if (want_scalar(c, v, who, "page_size") < 0)
				return -1;
			l = strlen(v->str);
			if (l == 0 || l > 9 || strspn(v->str, "0123456789") != l)
				return fail(c, v->line, "%s: page_size: '%s' is not a number; write "
					    "a number from 1 to 100 (default 100)", who,
					    show(v->str, sh));
			ps = strtol(v->str, NULL, 10);
			in->page_size = (int)ps;
			break;
		}
		case K_CA_FILE:
			if (want_scalar(c, v, who, "ca_file") < 0)
				return -1;
			set_str(&in->ca_file, v);
			break;
		default:
			break;
		}
		if (check_field(in, k, msg, sizeof(msg)) < 0)
			return fail(c, lines[k], "%s: %s", who, msg);
	}
	if (in->api == 2 && !in->base_url)
		in->base_url = mw_xstrdup(DEFAULT_V2_URL);
	if (in->lookback > LOOKBACK_KEPT) {
		char vb[32];
		mw_buf wb;

		mw_format_duration(in->lookback, vb, sizeof(vb));
		mw_buf_init(&wb);
		mw_buf_printf(&wb, "%s%s:%d: %s: lookback: %s reaches past the about 30 days "
			      "Mimecast keeps TTP logs; what is older is no longer there to "
			      "collect (write lookback: 30d or less)",
			      c->cfg->warnings ? c->cfg->warnings : "", c->file,
			      lines[K_LOOKBACK], who, vb);
		mw_buf_putc(&wb, '\n');
		free(c->cfg->warnings);
		c->cfg->warnings = mw_xstrdup(wb.data);
		mw_buf_free(&wb);
	}
	/* what is missing, blamed on the entry's first line */
	return check_all(in, c->file, lines, m->line, who, c->e);
}

struct output_set config_output_set(const struct mw_config *cfg)
{
	return (struct output_set){ cfg->state_dir, cfg->outputs, cfg->noutputs };
}

/* The value of key in mapping m, or NULL. */
static const struct node *map_get(const struct node *m, const char *key)
{
	for (size_t i = 0; i + 1 < m->nkids; i += 2)
		if (m->kids[i]->kind == NODE_SCALAR && strcmp(m->kids[i]->str, key) == 0)
			return m->kids[i + 1];
	return NULL;
}

/* A plain string key of an output: copied to *out, or left NULL if absent. */
static int out_str(struct ctx *c, const struct node *m, const char *who, const char *key,
		   char **out)
{
	const struct node *v = map_get(m, key);

	if (!v)
		return 0;
	if (want_scalar(c, v, who, key) < 0)
		return -1;
	if (!*v->str)
		return fail(c, v->line, "%s: %s: is empty; remove the key or give a value", who,
			    key);
	if (strlen(v->str) > 2048)
		return fail(c, v->line, "%s: %s: longer than 2048 characters", who, key);
	*out = mw_xstrdup(v->str);
	return 0;
}

/* An output secret: key, key_file or key_env, at most one of them. */
static int out_secret(struct ctx *c, const struct node *m, const char *who, const char *key,
		      struct mw_secret *s)
{
	char kf[32], ke[32];
	const struct node *v, *vf, *ve;

	snprintf(kf, sizeof(kf), "%s_file", key);
	snprintf(ke, sizeof(ke), "%s_env", key);
	v = map_get(m, key);
	vf = map_get(m, kf);
	ve = map_get(m, ke);
	if (!v && !vf && !ve)
		return 0;
	if (!!v + !!vf + !!ve > 1)
		return fail(c, (v ? v : vf)->line, "%s: give only one of %s, %s and %s", who, key,
			    kf, ke);
	/* An empty inline token would pass as given and fail only at the
	 * receiver. */
	if (v && v->kind == NODE_SCALAR && !*v->str)
		return fail(c, v->line, "%s: %s: is empty; write the %s", who, key, key);
	return secret_resolve(c, v ? v : vf ? vf : ve, who, key, v ? 0 : vf ? 1 : 2, s);
}

/* scheme://host:port with one of the schemes; the sink checks the rest
 * (host syntax, port range) when it opens. */
static int check_url(struct ctx *c, const struct node *m, const char *who, const char *url,
		     const char *const *schemes, size_t n, const char *what, const char *example)
{
	const struct node *v = map_get(m, "url");
	const char *sep = strstr(url, "://");

	for (size_t i = 0; sep && i < n; i++)
		if ((size_t)(sep - url) == strlen(schemes[i]) &&
		    strncmp(url, schemes[i], strlen(schemes[i])) == 0 && sep[3])
			return 0;
	return fail(c, v ? v->line : m->line, "%s: url: '%.200s' is not a %s url; write e.g. "
		    "url: %s", who, url, what, example);
}

/* host:port[,host:port...]: each a host (name or address, [v6] in brackets)
 * and a port from 1 to 65535; librdkafka would only find out when it
 * connects. */
static int check_brokers(struct ctx *c, const struct node *v, const char *who, const char *list)
{
	const char *p = list;

	while (*p) {
		size_t len = strcspn(p, ",");
		const char *colon = NULL, *q;
		long port = 0;
		int ok = len > 0;

		for (q = p; q < p + len; q++)
			if (*q == ':')
				colon = q;
		if (!colon || colon == p || colon + 1 == p + len || memchr(p, '/', len))
			ok = 0;
		for (q = colon ? colon + 1 : p + len; ok && q < p + len; q++) {
			if (*q < '0' || *q > '9' || port > 65535)
				ok = 0;
			else
				port = port * 10 + (*q - '0');
		}
		if (!ok || port < 1 || port > 65535)
			return fail(c, v->line, "%s: brokers: '%.*s' is not host:port (port 1 to "
				    "65535, no scheme); write e.g. brokers: k1.example:9092,"
				    "k2.example:9092", who, (int)(len > 200 ? 200 : len), p);
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* {integration} and {type} are the only placeholders of a template. */
static int check_template(struct ctx *c, const struct node *m, const char *who, const char *key,
			  const char *t)
{
	const struct node *v = map_get(m, key);

	for (const char *p = strchr(t, '{'); p; p = strchr(p + 1, '{'))
		if (strncmp(p, "{integration}", 13) != 0 && strncmp(p, "{type}", 6) != 0)
			return fail(c, v ? v->line : m->line, "%s: %s: unknown placeholder in "
				    "'%.200s'; only {integration} and {type} are replaced", who,
				    key, t);
	return 0;
}

static int parse_output(struct ctx *c, const struct node *m, size_t idx, struct mw_output *o)
{
	static const char *const syslog_schemes[] = { "tcp", "tls", "relp" };
	static const char *const http_schemes[] = { "https", "http" };
	const struct node *type = NULL, *name = NULL, *v;
	char who[64], sh[72], tmp[512], list[128];
	size_t k;

	o->line = m->line;
	o->batch = DEFAULT_OUT_BATCH;
	o->timeout = DEFAULT_OUT_TIMEOUT;
	snprintf(who, sizeof(who), "output #%zu", idx + 1);
	key_list(output_types, NELEM(output_types), list, sizeof(list));
	if (m->kind != NODE_MAP)
		return fail(c, m->line, "%s: must be a mapping of keys; write '- type: ndjson' "
			    "and 'dir: /path'", who);
	type = map_get(m, "type");
	if (!type)
		return fail(c, m->line, "%s: type: missing; add type: with one of %s", who, list);
	if (want_scalar(c, type, who, "type") < 0)
		return -1;
	for (k = 0; k < NELEM(output_types); k++)
		if (strcmp(type->str, output_types[k]) == 0)
			break;
	if (k == NELEM(output_types))
		return fail(c, type->line, "%s: type: '%s' is not an output type; valid types: %s",
			    who, show(type->str, sh), list);
	o->kind = (enum mw_output_kind)k;
	snprintf(who, sizeof(who), "output #%zu (%s)", idx + 1, output_types[k]);
	switch (o->kind) {
	case MW_OUT_NDJSON:
		if (check_map_keys(c, m, who, ndjson_keys, NELEM(ndjson_keys)) < 0)
			return -1;
		break;
	case MW_OUT_SYSLOG:
		if (check_map_keys(c, m, who, syslog_keys, NELEM(syslog_keys)) < 0)
			return -1;
		break;
	case MW_OUT_HEC:
		if (check_map_keys(c, m, who, hec_keys, NELEM(hec_keys)) < 0)
			return -1;
		break;
	case MW_OUT_ES:
		if (check_map_keys(c, m, who, es_keys, NELEM(es_keys)) < 0)
			return -1;
		break;
	case MW_OUT_KAFKA:
		if (check_map_keys(c, m, who, kafka_keys, NELEM(kafka_keys)) < 0)
			return -1;
		break;
	}
	name = map_get(m, "name");
	if (name) {
		if (want_scalar(c, name, who, "name") < 0)
			return -1;
		if (!name_ok(name->str))
			return fail(c, name->line, "%s: name: '%s' is not a valid name; use 1 to "
				    "%d letters, digits, '.', '_' or '-'", who, show(name->str, sh),
				    CFG_MAX_NAME);
		o->name = mw_xstrdup(name->str);
	} else {
		o->name = mw_xstrdup(output_types[k]);
	}
	if (out_str(c, m, who, "dir", &o->dir) < 0 || out_str(c, m, who, "url", &o->url) < 0 ||
	    out_str(c, m, who, "ca_file", &o->ca_file) < 0 ||
	    out_str(c, m, who, "hostname", &o->hostname) < 0 ||
	    out_str(c, m, who, "index", &o->index) < 0 ||
	    out_str(c, m, who, "brokers", &o->brokers) < 0 ||
	    out_str(c, m, who, "topic", &o->topic) < 0)
		return -1;
	if ((v = map_get(m, "batch"))) {
		size_t l;
		long n = 0;

		if (want_scalar(c, v, who, "batch") < 0)
			return -1;
		l = strlen(v->str);
		if (l > 0 && l <= 9 && strspn(v->str, "0123456789") == l)
			n = strtol(v->str, NULL, 10);
		if (n < 1 || n > 10000)
			return fail(c, v->line, "%s: batch: '%s' is not a number from 1 to 10000 "
				    "(records per send); e.g. batch: 500", who, show(v->str, sh));
		o->batch = (int)n;
	}
	if ((v = map_get(m, "timeout"))) {
		if (parse_duration_node(c, v, who, "timeout", &o->timeout) < 0)
			return -1;
		if (o->timeout < 1 || o->timeout > 600)
			return fail(c, v->line, "%s: timeout: keep it from 1s to 10m (the longest "
				    "one send may take), e.g. timeout: 10s", who);
	}
	if (o->ca_file && path_check(o->ca_file, tmp, sizeof(tmp)) < 0)
		return fail(c, map_get(m, "ca_file")->line, "%s: ca_file: %s", who, tmp);
	switch (o->kind) {
	case MW_OUT_NDJSON:
		if (!o->dir)
			return fail(c, m->line, "%s: dir: missing; add the directory for the "
				    "files, e.g. dir: /var/lib/mimewatch/out", who);
		if (path_check(o->dir, tmp, sizeof(tmp)) < 0)
			return fail(c, map_get(m, "dir")->line, "%s: dir: %s", who, tmp);
		break;
	case MW_OUT_SYSLOG:
		if (!o->url)
			return fail(c, m->line, "%s: url: missing; add e.g. url: "
				    "relp://siem.example:2514 (tcp://, tls:// or relp://)", who);
		if (check_url(c, m, who, o->url, syslog_schemes, NELEM(syslog_schemes), "syslog",
			      "relp://siem.example:2514 (tcp://, tls:// or relp://)") < 0)
			return -1;
		if (o->ca_file && strncmp(o->url, "tls://", 6) != 0)
			return fail(c, map_get(m, "ca_file")->line, "%s: ca_file: only a tls:// url "
				    "uses it; remove it or use tls://", who);
		break;
	case MW_OUT_HEC:
		if (!o->url)
			return fail(c, m->line, "%s: url: missing; add the event endpoint, e.g. "
				    "url: https://splunk.example:8088/services/collector/event", who);
		if (check_url(c, m, who, o->url, http_schemes, NELEM(http_schemes), "http(s)",
			      "https://splunk.example:8088/services/collector/event") < 0)
			return -1;
		if (out_secret(c, m, who, "token", &o->token) < 0)
			return -1;
		if (!o->token.value)
			return fail(c, m->line, "%s: token: missing; add token_file: (a file of "
				    "mode 0600 holding the HEC token), token_env: or token:", who);
		break;
	case MW_OUT_ES:
		if (!o->url)
			return fail(c, m->line, "%s: url: missing; add e.g. url: "
				    "https://es.example:9200", who);
		if (check_url(c, m, who, o->url, http_schemes, NELEM(http_schemes), "http(s)",
			      "https://es.example:9200") < 0)
			return -1;
		if (out_secret(c, m, who, "api_key", &o->token) < 0)
			return -1;
		if (!o->index)
			o->index = mw_xstrdup("mimecast-{type}");
		if (check_template(c, m, who, "index", o->index) < 0)
			return -1;
		break;
	case MW_OUT_KAFKA:
		if (!o->brokers)
			return fail(c, m->line, "%s: brokers: missing; add e.g. brokers: "
				    "k1.example:9092,k2.example:9092", who);
		if (check_brokers(c, map_get(m, "brokers"), who, o->brokers) < 0)
			return -1;
		if (!o->topic)
			o->topic = mw_xstrdup("mimecast.{integration}.{type}");
		if (check_template(c, m, who, "topic", o->topic) < 0)
			return -1;
		break;
	}
	return 0;
}

static int parse_top(struct ctx *c, const struct node *root)
{
	struct mw_config *cfg = c->cfg;
	const struct node *integrations = NULL, *outputs = NULL;
	char buf[PATH_MAX], tmp[512], sh[72];

	if (root && !(root->kind == NODE_SCALAR && root->is_null)) {
		if (root->kind != NODE_MAP)
			return fail(c, root->line, "the config must be a mapping of keys "
				    "(state_dir, retention, integrations, outputs); see "
				    "mimewatch.yaml(5)");
		if (check_map_keys(c, root, "config", top_keys, NELEM(top_keys)) < 0)
			return -1;
		for (size_t i = 0; i + 1 < root->nkids; i += 2) {
			const struct node *k = root->kids[i], *v = root->kids[i + 1];

			if (strcmp(k->str, "state_dir") == 0) {
				if (want_scalar(c, v, "config", "state_dir") < 0)
					return -1;
				if (v->is_null)
					continue;
				if (path_check(v->str, tmp, sizeof(tmp)) < 0)
					return fail(c, v->line, "state_dir: %s", tmp);
				free(cfg->state_dir);
				cfg->state_dir = mw_xstrdup(v->str);
			} else if (strcmp(k->str, "retention") == 0) {
				if (want_scalar(c, v, "config", "retention") < 0)
					return -1;
				if (mw_parse_duration(v->str, &cfg->retention) < 0)
					return fail(c, v->line, "retention: '%s' is not a duration; "
						    "write e.g. 30s, 5m, 48h, 30d",
						    show(v->str, sh));
				if (cfg->retention < 3600 || cfg->retention > DUR_MAX)
					return fail(c, v->line, "retention: out of range; keep "
						    "records at least 1h and at most 36500d, "
						    "e.g. retention: 30d");
			} else if (strcmp(k->str, "heartbeat") == 0) {
				if (v->kind == NODE_SCALAR && v->is_null)
					continue;
				if (parse_duration_node(c, v, "config", "heartbeat",
							&cfg->heartbeat) < 0)
					return -1;
				if (cfg->heartbeat < 10 || cfg->heartbeat > 86400)
					return fail(c, v->line, "heartbeat: keep it from 10s to 1d "
						    "(how often each integration's health record "
						    "goes to the outputs), e.g. heartbeat: 5m");
			} else if (strcmp(k->str, "integrations") == 0) {
				integrations = v;
			} else {
				outputs = v;
			}
		}
	}
	if (!cfg->state_dir) {
		config_default_state_dir(buf, sizeof(buf));
		cfg->state_dir = mw_xstrdup(buf);
	}

	if (integrations && !(integrations->kind == NODE_SCALAR && integrations->is_null)) {
		if (integrations->kind != NODE_SEQ)
			return fail(c, integrations->line, "integrations: must be a list; start "
				    "each entry with '- name: ...'");
		if (integrations->nkids > CFG_MAX_INTEGRATIONS)
			return fail(c, integrations->kids[CFG_MAX_INTEGRATIONS]->line,
				    "integrations: more than %d; split them over several "
				    "configs", CFG_MAX_INTEGRATIONS);
		if (integrations->nkids > 0)
			cfg->integrations = mw_xcalloc(integrations->nkids,
						       sizeof(*cfg->integrations));
		for (size_t i = 0; i < integrations->nkids; i++) {
			const struct node *item = integrations->kids[i];

			struct mw_integration *in = &cfg->integrations[i];
			int indent;

			cfg->nintegrations = i + 1;
			if (parse_integration(c, item, i, in) < 0)
				return -1;
			/* the entry's text, for splicing on save (0, 0: cannot splice) */
			if (!integrations->block ||
			    item_range(cfg->text, cfg->text_len, item,
				       i ? cfg->integrations[i - 1].src_end : 0,
				       &in->src_start, &in->src_end, &indent) < 0)
				in->src_start = in->src_end = 0;
			for (size_t j = 0; j < i; j++)
				if (strcmp(cfg->integrations[j].name, cfg->integrations[i].name)
				    == 0) {
					const struct node *nk = item;

					for (size_t q = 0; q + 1 < item->nkids; q += 2)
						if (strcmp(item->kids[q]->str, "name") == 0)
							nk = item->kids[q];
					return fail(c, nk->line, "integration '%s': name: already "
						    "used by the integration on line %d; give each "
						    "integration its own name",
						    cfg->integrations[i].name,
						    cfg->integrations[j].line);
				}
		}
	}

	if (outputs && !(outputs->kind == NODE_SCALAR && outputs->is_null) &&
	    !(outputs->kind == NODE_SEQ && outputs->nkids == 0)) {
		if (outputs->kind != NODE_SEQ)
			return fail(c, outputs->line, "outputs: must be a list; start each entry "
				    "with '- type: ndjson'");
		if (outputs->nkids > 64)
			return fail(c, outputs->kids[64]->line, "outputs: more than 64; merge "
				    "them");
		cfg->outputs = mw_xcalloc(outputs->nkids, sizeof(*cfg->outputs));
		for (size_t i = 0; i < outputs->nkids; i++) {
			cfg->noutputs = i + 1;
			if (parse_output(c, outputs->kids[i], i, &cfg->outputs[i]) < 0)
				return -1;
			for (size_t j = 0; j < i; j++)
				if (strcmp(cfg->outputs[j].name, cfg->outputs[i].name) == 0)
					return fail(c, cfg->outputs[i].line, "output #%zu: name: "
						    "'%s' is already used by the output on line "
						    "%d; give each output its own name: key", i + 1,
						    cfg->outputs[i].name, cfg->outputs[j].line);
		}
	} else {
		size_t l = strlen(cfg->state_dir);

		cfg->outputs = mw_xcalloc(1, sizeof(*cfg->outputs));
		cfg->noutputs = 1;
		cfg->outputs_default = 1;
		cfg->outputs[0].kind = MW_OUT_NDJSON;
		cfg->outputs[0].name = mw_xstrdup("ndjson");
		cfg->outputs[0].dir = mw_xmalloc(l + 5);
		memcpy(cfg->outputs[0].dir, cfg->state_dir, l);
		memcpy(cfg->outputs[0].dir + l, "/out", 5);
	}
	return 0;
}

int config_parse(const char *path, const char *text, size_t len, struct mw_config *cfg,
		 mw_err *e)
{
	struct node *root = NULL;
	struct ctx c;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	if (!path)
		path = "config";
	cfg->path = mw_xstrdup(path);
	cfg->retention = DEFAULT_RETENTION;
	if (!text)
		len = 0;
	cfg->text = mw_xmalloc(len + 1);
	if (len)
		memcpy(cfg->text, text, len);
	cfg->text[len] = '\0';
	cfg->text_len = len;
	if (tree_parse(path, cfg->text, len, &root, e) < 0) {
		config_free(cfg);
		return -1;
	}
	c.file = path;
	c.e = e;
	c.cfg = cfg;
	rc = parse_top(&c, root);
	node_free(root);
	if (rc < 0) {
		config_free(cfg);
		return -1;
	}
	return 0;
}

static int holds_inline_secret(const struct mw_config *cfg)
{
	for (size_t i = 0; i < cfg->nintegrations; i++) {
		const struct mw_integration *in = &cfg->integrations[i];

		if (in->access_key.src == MW_SECRET_INLINE ||
		    in->secret_key.src == MW_SECRET_INLINE ||
		    in->client_secret.src == MW_SECRET_INLINE)
			return 1;
	}
	for (size_t i = 0; i < cfg->noutputs; i++)
		if (cfg->outputs[i].token.src == MW_SECRET_INLINE)
			return 1;
	return 0;
}

int config_load(const char *path, struct mw_config *cfg, mw_err *e)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	mw_err fe;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	if (stat(path, &st) < 0) {
		if (errno == ENOENT) {
			mw_err_set(e, "%s: no such file; create it (the console's wizard does) "
				      "or give another with --config", path);
			return -2;
		}
		mw_err_set(e, "%s: %s; check the path and its permissions", path,
			   strerror(errno));
		return -1;
	}
	if (S_ISREG(st.st_mode) && st.st_size > CFG_MAX_BYTES) {
		mw_err_set(e, "%s: %lld bytes is more than a config may hold (1 MiB); "
			      "remove what is not config", path, (long long)st.st_size);
		return -1;
	}
	mw_err_clear(&fe);
	if (mw_read_file(path, CFG_MAX_BYTES, &text, &len, &fe) < 0) {
		mw_err_set(e, "%s; give the path of the YAML config file", fe.msg);
		return -1;
	}
	rc = config_parse(path, text, len, cfg, e);
	explicit_bzero(text, len);
	free(text);
	if (rc < 0)
		return -1;
	if (holds_inline_secret(cfg) && mw_check_private_file(path, "config", &fe) < 0) {
		/* ssh's wording for the common case; util's message for the rest */
		if (stat(path, &st) == 0 && (st.st_mode & 077))
			mw_err_set(e, "%s: permissions %04o are too open: it holds secrets; run "
				      "chmod 600 %s", path, (unsigned)(st.st_mode & 07777), path);
		else
			mw_err_set(e, "%s", fe.msg);
		config_free(cfg);
		return -1;
	}
	/* Secrets or not, the config decides where the keys are sent (base_url,
	 * *_file): as ssh with its config, nobody else may be able to change it. */
	if (S_ISREG(st.st_mode) && st.st_uid != geteuid() && st.st_uid != 0) {
		mw_err_set(e, "%s is owned by uid %ld, not by you (uid %ld): another user could "
			      "change where your keys are sent; chown it to yourself", path,
			   (long)st.st_uid, (long)geteuid());
		config_free(cfg);
		return -1;
	}
	if (S_ISREG(st.st_mode) && (st.st_mode & 022)) {
		mw_err_set(e, "%s: permissions %04o are too open: others may change it, and it "
			      "decides where your keys are sent; run chmod go-w %s", path,
			   (unsigned)(st.st_mode & 07777), path);
		config_free(cfg);
		return -1;
	}
	return 0;
}

static void secret_free(struct mw_secret *s)
{
	if (s->value) {
		explicit_bzero(s->value, strlen(s->value));
		free(s->value);
	}
	free(s->ref);
	s->value = s->ref = NULL;
	s->src = MW_SECRET_NONE;
}

void config_integration_clear(struct mw_integration *in)
{
	free(in->name);
	free(in->description);
	free(in->base_url);
	free(in->app_id);
	free(in->app_key);
	free(in->client_id);
	free(in->ca_file);
	secret_free(&in->access_key);
	secret_free(&in->secret_key);
	secret_free(&in->client_secret);
	memset(in, 0, sizeof(*in));
}

void config_free(struct mw_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->nintegrations; i++)
		config_integration_clear(&cfg->integrations[i]);
	free(cfg->integrations);
	free(cfg->warnings);
	for (size_t i = 0; i < cfg->noutputs; i++) {
		struct mw_output *o = &cfg->outputs[i];

		free(o->name);
		free(o->dir);
		free(o->url);
		free(o->ca_file);
		free(o->hostname);
		free(o->index);
		free(o->brokers);
		free(o->topic);
		secret_free(&o->token);
	}
	free(cfg->outputs);
	free(cfg->path);
	free(cfg->state_dir);
	if (cfg->text) {
		explicit_bzero(cfg->text, cfg->text_len);  /* may hold inline secrets */
		free(cfg->text);
	}
	memset(cfg, 0, sizeof(*cfg));
}

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
	in->types = all_types();
	in->interval = 300;
	in->lookback = 86400;
	in->lag = 30;
	in->overlap = 600;
	in->page_size = 100;
}

int config_check_integration(const struct mw_integration *in, mw_err *e)
{
	char who[128], sh[72];

	if (in->name && name_ok(in->name))
		snprintf(who, sizeof(who), "integration '%s'", in->name);
	else
		snprintf(who, sizeof(who), "integration '%s'", in->name ? show(in->name, sh) : "");
	return check_all(in, NULL, NULL, 0, who, e);
}

const struct mw_integration *config_find(const struct mw_config *cfg, const char *name)
{
	if (!cfg || !name)
		return NULL;
	for (size_t i = 0; i < cfg->nintegrations; i++)
		if (cfg->integrations[i].name && strcmp(cfg->integrations[i].name, name) == 0)
			return &cfg->integrations[i];
	return NULL;
}

/* ---- saving ------------------------------------------------------------- */

/* Decodes one UTF-8 character; returns its length, or 0 when invalid. */
static size_t utf8_char(const unsigned char *s, uint32_t *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF && (s[1] & 0xC0) == 0x80) {
		*cp = (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
		return 2;
	}
	if (s[0] >= 0xE0 && s[0] <= 0xEF && (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80) {
		*cp = (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
		if (*cp < 0x800 || (*cp >= 0xD800 && *cp <= 0xDFFF))
			return 0;
		return 3;
	}
	if (s[0] >= 0xF0 && s[0] <= 0xF4 && (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80 &&
	    (s[3] & 0xC0) == 0x80) {
		*cp = (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
		      (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
		if (*cp < 0x10000 || *cp > 0x10FFFF)
			return 0;
		return 4;
	}
	return 0;
}

/* A plain scalar only when nothing in it could read as YAML syntax or as
 * another type; everything else is double-quoted with escapes. */
static int plain_ok(const char *s)
{
	static const char *const special[] = {
		"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True",
		"TRUE", "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
		"null", "Null", "NULL", "~",
	};
	size_t n = strlen(s);
	int numeric = 1;

	if (n == 0 || s[0] == '-' || s[0] == '.' || s[n - 1] == ' ' || s[n - 1] == ':')
		return 0;
	for (size_t i = 0; i < NELEM(special); i++)
		if (strcmp(s, special[i]) == 0)
			return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      strchr("._/-+=@:, ", c)))
			return 0;
		if (c == ':' && s[i + 1] == ' ')
			return 0;
		if (c == ' ' && (i == 0 || s[i + 1] == ' '))
			return 0;
		if (c == '@' && i == 0)
			return 0;
		if (c == ',' && i == 0)
			return 0;
		if (!((c >= '0' && c <= '9') || c == '.' || c == '+' || c == '-' || c == 'e' ||
		      c == 'E' || c == '_' || c == 'x' || c == 'o' || c == ':'))
			numeric = 0;
	}
	/* 12, 1e3, 0x1f, 1_000, 12:30 would be numbers to other YAML readers */
	return !numeric;
}

static int emit_scalar(mw_buf *b, const char *s, const char *field, mw_err *e)
{
	const unsigned char *p = (const unsigned char *)s;

	if (plain_ok(s)) {
		mw_buf_puts(b, s);
		return 0;
	}
	mw_buf_putc(b, '"');
	while (*p) {
		uint32_t cp;
		size_t l = utf8_char(p, &cp);

		if (l == 0) {
			mw_err_set(e, "%s: is not valid UTF-8 text; retype it", field);
			return -1;
		}
		if (cp == '"' || cp == '\\') {
			mw_buf_putc(b, '\\');
			mw_buf_putc(b, (char)cp);
		} else if (cp == '\n') {
			mw_buf_puts(b, "\\n");
		} else if (cp == '\t') {
			mw_buf_puts(b, "\\t");
		} else if (cp == '\r') {
			mw_buf_puts(b, "\\r");
		} else if (cp < 0x20 || cp == 0x7F) {
			mw_buf_printf(b, "\\x%02X", (unsigned)cp);
		} else if ((cp >= 0x80 && cp <= 0xA0) || cp == 0x2028 || cp == 0x2029 ||
			   cp == 0xFEFF || cp == 0xFFFE || cp == 0xFFFF) {
			/* C1, line breaks YAML would fold, and what libyaml refuses raw */
			mw_buf_printf(b, "\\u%04X", (unsigned)cp);
		} else {
			mw_buf_append(b, p, l);
		}
		p += l;
	}
	mw_buf_putc(b, '"');
	return 0;
}

static int emit_kv(mw_buf *b, int indent, int *first, const char *key, const char *val,
		   const char *who, mw_err *e)
{
	char field[160];

	mw_buf_printf(b, "%*s%s%s: ", *first ? indent : indent + 2, "", *first ? "- " : "", key);
	*first = 0;
	snprintf(field, sizeof(field), "%s: %s", who, key);
	if (emit_scalar(b, val, field, e) < 0)
		return -1;
	mw_buf_putc(b, '\n');
	return 0;
}

static void emit_raw(mw_buf *b, int indent, int *first, const char *key, const char *val)
{
	mw_buf_printf(b, "%*s%s%s: %s\n", *first ? indent : indent + 2, "", *first ? "- " : "",
		      key, val);
	*first = 0;
}

/* One integration as a block-sequence entry whose '-' sits at column indent. */
static int emit_integration(mw_buf *b, const struct mw_integration *in, int indent, mw_err *e)
{
	char who[128], d[32];
	int first = 1;
	static const int dkeys[4] = { K_INTERVAL, K_LOOKBACK, K_LAG, K_OVERLAP };
	static const int64_t ddef[4] = { 300, 86400, 30, 600 };

	snprintf(who, sizeof(who), "integration '%s'", in->name ? in->name : "");
	if (emit_kv(b, indent, &first, "name", in->name ? in->name : "", who, e) < 0)
		return -1;
	if (in->description && emit_kv(b, indent, &first, "description", in->description,
				       who, e) < 0)
		return -1;
	emit_raw(b, indent, &first, "api", api_name(in->api));
	if (in->base_url && emit_kv(b, indent, &first, "base_url", in->base_url, who, e) < 0)
		return -1;
	if (in->app_id && emit_kv(b, indent, &first, "app_id", in->app_id, who, e) < 0)
		return -1;
	if (in->app_key && emit_kv(b, indent, &first, "app_key", in->app_key, who, e) < 0)
		return -1;
	if (in->client_id && emit_kv(b, indent, &first, "client_id", in->client_id, who, e) < 0)
		return -1;
	for (int base = K_ACCESS_KEY; base <= K_CLIENT_SECRET; base++) {
		const struct mw_secret *s;

		if (secret_base(base) != base)
			continue;
		s = secret_ofc(in, base);
		/* written back in the form it came in: inline, or the reference */
		if (s->src == MW_SECRET_INLINE && s->value) {
			if (emit_kv(b, indent, &first, ikey_names[base], s->value, who, e) < 0)
				return -1;
		} else if ((s->src == MW_SECRET_FILE || s->src == MW_SECRET_ENV) && s->ref) {
			int k = base + (s->src == MW_SECRET_FILE ? 1 : 2);

			if (emit_kv(b, indent, &first, ikey_names[k], s->ref, who, e) < 0)
				return -1;
		}
	}
	mw_buf_printf(b, "%*s%stypes: [", first ? indent : indent + 2, "", first ? "- " : "");
	first = 0;
	for (size_t i = 0, n = 0; i < mw_nlogtypes && i < 32; i++)
		if (in->types & (1u << i))
			mw_buf_printf(b, "%s%s", n++ ? ", " : "", mw_logtypes[i].name);
	mw_buf_puts(b, "]\n");
	for (int i = 0; i < 4; i++) {
		int64_t v = *duration_of((struct mw_integration *)in, dkeys[i]);

		if (i == 0 || v != ddef[i]) {
			mw_format_duration(v, d, sizeof(d));
			emit_raw(b, indent, &first, ikey_names[dkeys[i]], d);
		}
	}
	if (in->page_size != 100) {
		snprintf(d, sizeof(d), "%d", in->page_size);
		emit_raw(b, indent, &first, "page_size", d);
	}
	if (in->ca_file && emit_kv(b, indent, &first, "ca_file", in->ca_file, who, e) < 0)
		return -1;
	return 0;
}

static size_t line_start(const char *t, size_t off)
{
	while (off > 0 && t[off - 1] != '\n')
		off--;
	return off;
}

/* The offset just past the line holding the byte before off. */
static size_t line_end(const char *t, size_t len, size_t off)
{
	const char *nl;

	if (off > len)
		off = len;
	if (off > 0 && t[off - 1] == '\n')
		return off;
	nl = memchr(t + off, '\n', len - off);
	return nl ? (size_t)(nl - t) + 1 : len;
}

static int only_spaces(const char *t, size_t a, size_t b)
{
	for (size_t i = a; i < b; i++)
		if (t[i] != ' ')
			return 0;
	return 1;
}

/* An entry of a block sequence as whole lines: from the start of the line of
 * its '-' to the end of its last line. -1 when it does not sit on lines of
 * its own (then it cannot be spliced). */
static int item_range(const char *t, size_t len, const struct node *it, size_t floor,
		      size_t *start, size_t *end, int *indent)
{
	size_t d = it->start, ls;

	if (d > len || it->end > len)
		return -1;
	/* back from the entry's first value to its '-' */
	while (d > 0 && (t[d - 1] == ' ' || t[d - 1] == '\t' || t[d - 1] == '\n' ||
			 t[d - 1] == '\r'))
		d--;
	if (d == 0 || t[d - 1] != '-')
		return -1;
	d--;
	ls = line_start(t, d);
	if (!only_spaces(t, ls, d) || ls < floor)
		return -1;
	*indent = (int)(d - ls);
	*start = ls;
	*end = line_end(t, len, it->end);
	return 0;
}

/* Where the integrations live in the loaded text. */
struct layout {
	size_t cut_start, cut_end;  /* the text replaced by the entries */
	int indent;                 /* column of each entry's '-' */
	const char *head;           /* written before the entries ("integrations:\n") */
	size_t nitems;
	size_t *istart, *iend;      /* each original entry, whole lines */
};

/* Finds the layout; -1 when the text is shaped so that only rewriting the
 * whole file is safe (flow-style top level, odd block layouts). */
static int layout_find(const char *t, size_t len, struct layout *L)
{
	struct node *root = NULL;
	const struct node *key = NULL, *val = NULL;
	mw_err ignored;
	int rc = -1;

	memset(L, 0, sizeof(*L));
	L->indent = 2;
	if (tree_parse("config", t, len, &root, &ignored) < 0)
		return -1;
	if (root && root->kind == NODE_SCALAR && root->is_null && root->len > 0)
		goto out;  /* "~" or "null": only rewriting makes it a mapping */
	if (!root || (root->kind == NODE_SCALAR && root->is_null)) {
		/* only comments: append */
		L->cut_start = L->cut_end = len;
		L->head = len > 0 && t[len - 1] != '\n' ? "\nintegrations:\n" : "integrations:\n";
		rc = 0;
		goto out;
	}
	if (root->kind != NODE_MAP || !root->block)
		goto out;
	for (size_t i = 0; i + 1 < root->nkids; i += 2)
		if (root->kids[i]->kind == NODE_SCALAR &&
		    strcmp(root->kids[i]->str, "integrations") == 0) {
			key = root->kids[i];
			val = root->kids[i + 1];
		}
	if (!key) {
		/* append after the last top-level value, before trailing comments */
		size_t at = line_end(t, len, root->end);

		L->cut_start = L->cut_end = at;
		L->head = at > 0 && t[at - 1] != '\n' ? "\nintegrations:\n" : "integrations:\n";
		rc = 0;
		goto out;
	}
	if (val->kind == NODE_SEQ && val->block && val->nkids > 0) {
		L->nitems = val->nkids;
		L->istart = mw_xcalloc(val->nkids, sizeof(size_t));
		L->iend = mw_xcalloc(val->nkids, sizeof(size_t));
		for (size_t i = 0; i < val->nkids; i++) {
			int ind;

			if (item_range(t, len, val->kids[i], i ? L->iend[i - 1] : 0, &L->istart[i],
				       &L->iend[i], &ind) < 0)
				goto out;
			if (i == 0)
				L->indent = ind;
			else if (ind != L->indent)
				goto out;
		}
		L->cut_start = L->istart[0];
		L->cut_end = L->iend[val->nkids - 1];
		L->head = "";
		rc = 0;
		goto out;
	}
	if ((val->kind == NODE_SCALAR && val->is_null) || (val->kind == NODE_SEQ && !val->block)) {
		size_t ks = line_start(t, key->start);

		if (!only_spaces(t, ks, key->start) || key->start != ks)
			goto out;
		L->cut_start = ks;
		/* an empty value's mark lies at the next token: use the key's line */
		L->cut_end = val->kind == NODE_SCALAR ? line_end(t, len, key->end)
						      : line_end(t, len, val->end);
		L->head = "integrations:\n";
		rc = 0;
	}
out:
	node_free(root);
	if (rc < 0) {
		free(L->istart);
		free(L->iend);
		L->istart = L->iend = NULL;
		L->nitems = 0;
	}
	return rc;
}

/* One output as a block-sequence entry at column 2 (keys that are unset are
 * left out; defaults too). */
static int emit_output(mw_buf *b, const struct mw_output *o, mw_err *e)
{
	static const char *const keys[] = { "dir", "url", "ca_file", "hostname", "index",
					    "brokers", "topic" };
	const char *vals[] = { o->dir, o->url, o->ca_file, o->hostname, o->index, o->brokers,
			       o->topic };
	const char *skey = o->kind == MW_OUT_HEC ? "token" : "api_key";
	char key[32], d[32];
	int first = 1;

	emit_raw(b, 2, &first, "type", output_type_name(o->kind));
	if (o->name && strcmp(o->name, output_type_name(o->kind)) != 0 &&
	    emit_kv(b, 2, &first, "name", o->name, "output", e) < 0)
		return -1;
	for (size_t i = 0; i < NELEM(keys); i++)
		if (vals[i] && emit_kv(b, 2, &first, keys[i], vals[i], "output", e) < 0)
			return -1;
	if (o->token.src == MW_SECRET_INLINE) {
		if (emit_kv(b, 2, &first, skey, o->token.value, "output", e) < 0)
			return -1;
	} else if (o->token.src != MW_SECRET_NONE) {
		snprintf(key, sizeof(key), "%s_%s", skey,
			 o->token.src == MW_SECRET_FILE ? "file" : "env");
		if (emit_kv(b, 2, &first, key, o->token.ref, "output", e) < 0)
			return -1;
	}
	if (o->kind != MW_OUT_NDJSON && o->batch && o->batch != DEFAULT_OUT_BATCH) {
		snprintf(d, sizeof(d), "%d", o->batch);
		emit_raw(b, 2, &first, "batch", d);
	}
	if (o->kind != MW_OUT_NDJSON && o->timeout && o->timeout != DEFAULT_OUT_TIMEOUT) {
		mw_format_duration(o->timeout, d, sizeof(d));
		emit_raw(b, 2, &first, "timeout", d);
	}
	return 0;
}

/* The whole file from cfg alone (new configs, or layouts we cannot splice). */
static int render_fresh(const struct mw_config *cfg, mw_buf *b, mw_err *e)
{
	char def[PATH_MAX], d[32];

	mw_buf_puts(b, "# mimewatch configuration; see mimewatch.yaml(5)\n");
	config_default_state_dir(def, sizeof(def));
	if (cfg->state_dir && strcmp(cfg->state_dir, def) != 0) {
		mw_buf_puts(b, "state_dir: ");
		if (emit_scalar(b, cfg->state_dir, "state_dir", e) < 0)
			return -1;
		mw_buf_putc(b, '\n');
	}
	if (cfg->retention && cfg->retention != DEFAULT_RETENTION) {
		mw_format_duration(cfg->retention, d, sizeof(d));
		mw_buf_printf(b, "retention: %s\n", d);
	}
	mw_buf_puts(b, "integrations:\n");
	for (size_t i = 0; i < cfg->nintegrations; i++)
		if (emit_integration(b, &cfg->integrations[i], 2, e) < 0)
			return -1;
	if (cfg->heartbeat) {
		mw_format_duration(cfg->heartbeat, d, sizeof(d));
		mw_buf_printf(b, "heartbeat: %s\n", d);
	}
	if (!cfg->outputs_default && cfg->noutputs > 0) {
		mw_buf_puts(b, "outputs:\n");
		for (size_t i = 0; i < cfg->noutputs; i++)
			if (emit_output(b, &cfg->outputs[i], e) < 0)
				return -1;
	}
	return 0;
}

/* Whether spliced text still reads as a config with n integrations. */
static int splice_ok(const char *t, size_t len, size_t n)
{
	struct node *root = NULL;
	mw_err ignored;
	size_t found = (size_t)-1;

	if (tree_parse("config", t, len, &root, &ignored) < 0)
		return 0;
	if (root && root->kind == NODE_MAP)
		for (size_t i = 0; i + 1 < root->nkids; i += 2)
			if (root->kids[i]->kind == NODE_SCALAR &&
			    strcmp(root->kids[i]->str, "integrations") == 0) {
				const struct node *v = root->kids[i + 1];

				found = v->kind == NODE_SEQ ? v->nkids
					: v->kind == NODE_SCALAR && v->is_null ? 0 : (size_t)-1;
			}
	node_free(root);
	return found == n;
}

int config_render(const struct mw_config *cfg, mw_buf *out, mw_err *e)
{
	struct layout L;
	unsigned char *used = NULL;
	size_t base = out->len;
	int rc = -1;

	/* refuse to write what would not load back */
	for (size_t i = 0; i < cfg->nintegrations; i++) {
		if (config_check_integration(&cfg->integrations[i], e) < 0)
			return -1;
		for (size_t j = 0; j < i; j++)
			if (strcmp(cfg->integrations[i].name, cfg->integrations[j].name) == 0) {
				mw_err_set(e, "integration '%s': name: used twice; give each "
					      "integration its own name", cfg->integrations[i].name);
				return -1;
			}
	}
	if (cfg->nintegrations > CFG_MAX_INTEGRATIONS) {
		mw_err_set(e, "integrations: more than %d; remove some", CFG_MAX_INTEGRATIONS);
		return -1;
	}
	if (!cfg->text || cfg->text_len == 0 ||
	    layout_find(cfg->text, cfg->text_len, &L) < 0)
		return render_fresh(cfg, out, e);

	used = mw_xcalloc(L.nitems ? L.nitems : 1, 1);
	mw_buf_reserve(out, 1);  /* data is never NULL below */
	mw_buf_append(out, cfg->text, L.cut_start);
	mw_buf_puts(out, L.head);
	for (size_t i = 0; i < cfg->nintegrations; i++) {
		const struct mw_integration *in = &cfg->integrations[i];
		size_t j = L.nitems;

		if (in->src_end > in->src_start)
			for (j = 0; j < L.nitems; j++)
				if (!used[j] && L.istart[j] == in->src_start &&
				    L.iend[j] == in->src_end)
					break;
		if (j < L.nitems) {
			used[j] = 1;
			/* comments between the previous entry and this one travel with it */
			if (j > 0)
				mw_buf_append(out, cfg->text + L.iend[j - 1],
					      L.istart[j] - L.iend[j - 1]);
			if (!in->dirty) {
				mw_buf_append(out, cfg->text + L.istart[j], L.iend[j] - L.istart[j]);
				if (out->len > 0 && out->data[out->len - 1] != '\n')
					mw_buf_putc(out, '\n');
				continue;
			}
		}
		if (emit_integration(out, in, L.indent, e) < 0)
			goto out;
	}
	mw_buf_append(out, cfg->text + L.cut_end, cfg->text_len - L.cut_end);
	rc = 0;
	/* a layout the splice did not foresee (document markers, a lone "~"):
	 * losing comments beats writing a file that does not load */
	if (!splice_ok(out->data + base, out->len - base, cfg->nintegrations)) {
		explicit_bzero(out->data + base, out->len - base);
		out->len = base;
		out->data[base] = '\0';
		rc = render_fresh(cfg, out, e);
	}
out:
	free(used);
	free(L.istart);
	free(L.iend);
	return rc;
}

int config_save(const struct mw_config *cfg, const char *path, mw_err *e)
{
	mw_buf b;
	int rc;

	mw_buf_init(&b);
	rc = config_render(cfg, &b, e);
	if (rc == 0)
		rc = mw_write_file_atomic(path, b.data ? b.data : "", b.len, e);
	if (b.data)
		explicit_bzero(b.data, b.len);  /* inline secrets */
	mw_buf_free(&b);
	return rc;
}
