/* config/private.h - for src/config/ alone: the limits of a config, the node
 * tree (tree.c), the schema's tables and field checks (schema.c), and what
 * the loading of the integrations (load.c) and of the outputs
 * (load_outputs.c) share. Nothing outside src/config/ includes it. */
#ifndef MW_CONFIG_PRIVATE_H
#define MW_CONFIG_PRIVATE_H

#include <stddef.h>
#include <stdint.h>
#include "config.h"

#define CFG_MAX_BYTES (1024 * 1024)
#define CFG_MAX_DEPTH 16
#define CFG_MAX_NODES 200000      /* bounds memory on hostile input */
#define CFG_MAX_INTEGRATIONS 1000
#define CFG_MAX_NAME 64
#define CFG_MAX_TEXT 1024         /* description, URLs, paths, ids */
#define SECRET_MAX (64 * 1024)
/* A secret's forms: inline, _file, _env, _credential (form = its
 * mw_secret_src - MW_SECRET_INLINE; the keys follow the inline one in
 * that order). */
#define SECRET_FORMS 4
#define PAGE_SIZE_MAX 100
/* Mimecast keeps TTP logs about 30 days (HACKING, "Not known"); a longer
 * lookback only asks for what is gone. */
/* Larger durations only invite overflow in "now - lookback" arithmetic. */
#define DUR_MAX ((int64_t)36500 * 86400)
#define MAX_STORE_MIN ((int64_t)1 << 20)

#define DEFAULT_V2_URL "https://api.services.mimecast.com"
#define DEFAULT_RETENTION ((int64_t)30 * 86400)
#define DEFAULT_OUT_BATCH 500
#define DEFAULT_OUT_TIMEOUT 10
/* batch_bytes' bounds: below 1K a batch is one record, past 64M a receiver
 * (HEC's max_content_length, Elasticsearch's http.max_content_length
 * 100MB) refuses the request. */
#define OUT_BATCH_BYTES_MIN ((int64_t)1 << 10)
#define OUT_BATCH_BYTES_MAX ((int64_t)64 << 20)

/* ---- tree.c: the YAML text as a tree of nodes with lines and byte ranges ---- */

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

/* Parses text into a tree; file names it in messages. *rootp is NULL for an
 * empty document. Refuses anchors, aliases, several documents, NULs, UTF-16,
 * more than 1 MiB and nesting deeper than 16. */
int cfgtree_parse(const char *file, const char *text, size_t len, struct node **rootp,
		  mw_err *e);
/* Frees a tree (scalars wiped first: they may be inline secrets). */
void cfgtree_free(struct node *n);
/* The value of key in mapping m, or NULL. */
const struct node *cfgtree_map_get(const struct node *m, const char *key);

/* The start of the line holding off. */
size_t cfgtree_line_start(const char *t, size_t off);
/* The offset just past the line holding the byte before off. */
size_t cfgtree_line_end(const char *t, size_t len, size_t off);
/* Whether t[a, b) is only spaces. */
int cfgtree_only_spaces(const char *t, size_t a, size_t b);
/* An entry of a block sequence as whole lines: from the start of the line of
 * its '-' (at or after floor) to the end of its last line; *indent is the
 * column of the '-'. -1 when it does not sit on lines of its own (then it
 * cannot be spliced). */
int cfgtree_item_range(const char *t, size_t len, const struct node *it, size_t floor,
		       size_t *start, size_t *end, int *indent);

/* ---- schema.c: the keys, their API versions, the field checks ---- */

/* An integration's keys; a secret's other forms follow it (SECRET_FORMS). */
enum ikey {
	K_NAME, K_DESCRIPTION, K_API, K_BASE_URL, K_APP_ID, K_APP_KEY,
	K_ACCESS_KEY, K_ACCESS_KEY_FILE, K_ACCESS_KEY_ENV, K_ACCESS_KEY_CREDENTIAL,
	K_SECRET_KEY, K_SECRET_KEY_FILE, K_SECRET_KEY_ENV, K_SECRET_KEY_CREDENTIAL,
	K_CLIENT_ID, K_CLIENT_SECRET, K_CLIENT_SECRET_FILE, K_CLIENT_SECRET_ENV,
	K_CLIENT_SECRET_CREDENTIAL,
	K_TYPES, K_INTERVAL, K_LOOKBACK, K_LAG, K_OVERLAP, K_PAGE_SIZE, K_CA_FILE,
	K_PROXY, K_PROXY_USER,
	K_PROXY_PASSWORD, K_PROXY_PASSWORD_FILE, K_PROXY_PASSWORD_ENV,
	K_PROXY_PASSWORD_CREDENTIAL, K_PROXY_CA_FILE,
	K_SIEM_TYPES,
	K_COUNT
};

/* The key suffix of each form of a secret: "", "_file", "_env", "_credential". */
extern const char *const cfgschema_secret_suffix[SECRET_FORMS];

extern const char *const cfgschema_ikey_names[K_COUNT];
/* Which API a key belongs to: 0 both. */
extern const int cfgschema_ikey_api[K_COUNT];
/* The top level's keys. */
extern const char *const cfgschema_top_keys[];
extern const size_t cfgschema_ntop_keys;

/* The kind an output type's name names (output_type_name's list), or -1. */
int cfgschema_output_kind(const char *name);
/* "ndjson, syslog, ..." into buf. */
void cfgschema_output_type_list(char *buf, size_t n);
/* The keys an output of kind k accepts. */
const char *const *cfgschema_output_keys(enum mw_output_kind k, size_t *nkeys);

/* The secret a key names (its inline form's key), or -1. */
int cfgschema_secret_base(int k);
struct mw_secret *cfgschema_secret_of(struct mw_integration *in, int base);
const struct mw_secret *cfgschema_secret_ofc(const struct mw_integration *in, int base);
/* The field of K_INTERVAL, K_LOOKBACK, K_LAG or K_OVERLAP. */
int64_t *cfgschema_duration_of(struct mw_integration *in, int k);

/* "a, b, c" into buf: the log types' names, or keys. */
void cfgschema_type_list(char *buf, size_t n);
void cfgschema_key_list(const char *const *keys, size_t nkeys, char *buf, size_t n);
/* The key a typo k most likely meant (at most two edits away), or NULL. */
const char *cfgschema_closest_key(const char *k, const char *const *keys, size_t nkeys);
/* A value shown in a message: short, one line, nothing a terminal obeys. */
const char *cfgschema_show(const char *s, char buf[72]);
/* [A-Za-z0-9._-]{1,64}, not only dots (names become directories). */
int cfgschema_name_ok(const char *s);
/* An absolute path of a sane length; writes "problem; fix" into msg. */
int cfgschema_path_check(const char *path, char *msg, size_t n);
/* "v1" or "v2". */
const char *cfgschema_api_name(int api);
/* "key: ..." for key k of the other API version than api. */
void cfgschema_wrong_api_msg(int k, int api, char *msg, size_t n);
/* Checks one field of a filled-in integration (the secret forms are checked
 * through their inline key). Writes "field: problem; fix" into msg. */
int cfgschema_check_field(const struct mw_integration *in, int k, char *msg, size_t n);
/* A CA file key (ca_file, proxy_ca_file): absolute, a readable regular
 * file. Writes "key: problem; fix" into msg. */
int cfgschema_ca_file_check(const char *key, const char *path, char *msg, size_t n);
/* The same for a PEM file holding what ("the client certificate"). */
int cfgschema_pem_file_check(const char *key, const char *path, const char *what, char *msg,
			     size_t n);
/* Runs every field check; lines[k] gives the line to blame (0: item_line);
 * lines and file may be NULL (no line then). */
int cfgschema_check_all(const struct mw_integration *in, const char *file, const int *lines,
			int item_line, const char *who, mw_err *e);

/* ---- load.c and load_outputs.c: what loading shares ---- */

struct cfgload_ctx {
	const char *file;
	mw_err *e;
	struct mw_config *cfg;
};

/* Sets "FILE:LINE: <message>" and returns -1. */
int cfgload_fail(struct cfgload_ctx *c, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Map keys must be known plain scalars and appear once. */
int cfgload_check_keys(struct cfgload_ctx *c, const struct node *m, const char *who,
		       const char *const *keys, size_t nkeys);
int cfgload_want_scalar(struct cfgload_ctx *c, const struct node *v, const char *who,
			const char *key);
int cfgload_duration(struct cfgload_ctx *c, const struct node *v, const char *who,
		     const char *key, int64_t *out);
/* Resolves one form of a secret into s: form 0 the value inline (key base),
 * 1 a file (base_file), 2 an environment variable (base_env), 3 a systemd
 * credential (base_credential). */
int cfgload_secret(struct cfgload_ctx *c, const struct node *v, const char *who,
		   const char *base, int form, struct mw_secret *s);
/* load_outputs.c: entry idx of the outputs: list into o. */
int cfgload_output(struct cfgload_ctx *c, const struct node *m, size_t idx, struct mw_output *o);
/* load_outputs.c: no two NDJSON outputs of the outputs: list seq (already
 * loaded into c->cfg) share a directory, nor has one its directory inside
 * another's. */
int cfgload_output_dirs(struct cfgload_ctx *c, const struct node *seq);

/* ---- proxy.c: the proxy keys ---- */

/* Loads proxy, proxy_user or proxy_ca_file (k) of an integration. */
int cfgproxy_parse_key(struct cfgload_ctx *c, struct mw_integration *in, int k,
		       const struct node *v, const char *who);
/* Loads the top level's proxy: into c->cfg->proxy. */
int cfgproxy_parse_top(struct cfgload_ctx *c, const struct node *v);
/* Checks proxy, proxy_user, proxy_password or proxy_ca_file (k), as
 * cfgschema_check_field does the others. */
int cfgproxy_check_field(const struct mw_integration *in, int k, char *msg, size_t n);
/* proxy_user and proxy_password come together; writes "field: problem; fix". */
int cfgproxy_check_pair(const struct mw_integration *in, char *msg, size_t n);
/* Frees every string of a proxy (the password wiped first) and zeroes it. */
void cfgproxy_clear(struct mw_proxy *p);

#endif
