/* config/load_outputs.c - loading the outputs: list (see private.h).
 *
 * Owns each entry of outputs: its type (the names are output_type_name's),
 * the keys that type accepts, its name, its secrets (token, api_key or a
 * Kafka output's sasl_password: inline, _file, _env or _credential, through
 * load.c's cfgload_secret), a Kafka output's security keys, batch,
 * batch_bytes, timeout and start, an NDJSON output's group, mode, keep and
 * compress, and the
 * checks of its url, brokers and index or topic template; and, across the
 * entries, that no two NDJSON outputs share a directory. load.c calls
 * cfgload_output for each entry, then cfgload_output_dirs, and adds the
 * default ndjson output. */
#include "private.h"

#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* A plain string key of an output: copied to *out, or left NULL if absent. */
static int out_str(struct cfgload_ctx *c, const struct node *m, const char *who, const char *key,
		   char **out)
{
	const struct node *v = cfgtree_map_get(m, key);

	if (!v)
		return 0;
	if (cfgload_want_scalar(c, v, who, key) < 0)
		return -1;
	if (!*v->str)
		return cfgload_fail(c, v->line, "%s: %s: is empty; remove the key or give a value",
				    who, key);
	if (strlen(v->str) > 2048)
		return cfgload_fail(c, v->line, "%s: %s: longer than 2048 characters", who, key);
	*out = mw_xstrdup(v->str);
	return 0;
}

/* An output secret: key, key_file, key_env or key_credential, at most one
 * of them. */
static int out_secret(struct cfgload_ctx *c, const struct node *m, const char *who,
		      const char *key, struct mw_secret *s)
{
	char k[SECRET_FORMS][40];
	const struct node *given = NULL;
	int form = -1;

	for (int f = 0; f < SECRET_FORMS; f++)
		snprintf(k[f], sizeof(k[f]), "%s%s", key, cfgschema_secret_suffix[f]);
	for (int f = 0; f < SECRET_FORMS; f++) {
		const struct node *v = cfgtree_map_get(m, k[f]);

		if (v && given)
			return cfgload_fail(c, given->line, "%s: give only one of %s, %s, %s and "
					    "%s", who, k[0], k[1], k[2], k[3]);
		if (v) {
			given = v;
			form = f;
		}
	}
	if (!given)
		return 0;
	/* An empty inline token would pass as given and fail only at the
	 * receiver. */
	if (form == 0 && given->kind == NODE_SCALAR && !*given->str)
		return cfgload_fail(c, given->line, "%s: %s: is empty; write the %s", who, key,
				    key);
	return cfgload_secret(c, given, who, key, form, s);
}

/* start: oldest (the default: every stored record) or now (only records
 * stored after the output's offset is first made; outputs_begin). It acts
 * once: an offset the store has is never moved by changing the key. */
static int out_start(struct cfgload_ctx *c, const struct node *m, const char *who, int *now)
{
	const struct node *v = cfgtree_map_get(m, "start");
	char sh[72];

	if (!v)
		return 0;
	if (cfgload_want_scalar(c, v, who, "start") < 0)
		return -1;
	if (strcmp(v->str, "oldest") && strcmp(v->str, "now"))
		return cfgload_fail(c, v->line, "%s: start: '%s' is neither oldest nor now; "
				    "write start: now to deliver only records collected from "
				    "now on", who, cfgschema_show(v->str, sh));
	*now = strcmp(v->str, "now") == 0;
	return 0;
}

/* batch_bytes: a size from 1K to 64M; a batch closes at batch records or
 * at this many bytes of lines, whichever comes first. */
static int out_batch_bytes(struct cfgload_ctx *c, const struct node *m, const char *who,
			   int64_t *bytes)
{
	const struct node *v = cfgtree_map_get(m, "batch_bytes");
	char sh[72];

	if (!v)
		return 0;
	if (cfgload_want_scalar(c, v, who, "batch_bytes") < 0)
		return -1;
	if (mw_parse_size(v->str, bytes) < 0 || *bytes < OUT_BATCH_BYTES_MIN ||
	    *bytes > OUT_BATCH_BYTES_MAX)
		return cfgload_fail(c, v->line, "%s: batch_bytes: '%s' is not a size from 1K to "
				    "64M (an integer and K or M); e.g. batch_bytes: 512K", who,
				    cfgschema_show(v->str, sh));
	return 0;
}

/* An NDJSON output's group: a name or a gid that this system knows, so a
 * typo stops loading rather than every delivery. */
static int out_group(struct cfgload_ctx *c, const struct node *m, const char *who,
		     struct mw_output *o)
{
	const struct node *v = cfgtree_map_get(m, "group");
	size_t l;
	char sh[72];

	if (!v)
		return 0;
	if (out_str(c, m, who, "group", &o->group) < 0)
		return -1;
	l = strlen(v->str);
	if (strspn(v->str, "0123456789") == l && l <= 9) {
		o->gid = (unsigned)strtoul(v->str, NULL, 10);
		return 0;
	}
	struct group *g = getgrnam(v->str);

	if (!g)
		return cfgload_fail(c, v->line, "%s: group: '%s' is not a group of this system; "
				    "give a group name or gid from /etc/group, e.g. group: adm",
				    who, cfgschema_show(v->str, sh));
	o->gid = (unsigned)g->gr_gid;
	return 0;
}

/* An NDJSON output's mode: octal, owner read and write, no bit for others
 * (records are a tenant's mail metadata) and no special bit. */
static int out_mode(struct cfgload_ctx *c, const struct node *m, const char *who,
		    unsigned *mode)
{
	const struct node *v = cfgtree_map_get(m, "mode");
	char sh[72];
	size_t l;
	unsigned long n;

	if (!v)
		return 0;
	if (cfgload_want_scalar(c, v, who, "mode") < 0)
		return -1;
	l = strlen(v->str);
	if (l < 3 || l > 4 || strspn(v->str, "01234567") != l || (l == 4 && v->str[0] != '0'))
		return cfgload_fail(c, v->line, "%s: mode: '%s' is not an octal file mode; "
				    "write e.g. mode: 0640", who, cfgschema_show(v->str, sh));
	n = strtoul(v->str, NULL, 8);
	if (n & 07)
		return cfgload_fail(c, v->line, "%s: mode: %04lo gives others access to the "
				    "records; leave the last digit 0, e.g. mode: 0640, and use "
				    "group: for the readers", who, n);
	if ((n & 0600) != 0600)
		return cfgload_fail(c, v->line, "%s: mode: %04lo: mimewatch must read and write "
				    "its files; give the owner 6, e.g. mode: 0640", who, n);
	*mode = (unsigned)n;
	return 0;
}

/* An NDJSON output's keep (a duration, at least a day: files are daily) and
 * compress (true or false). */
static int out_days(struct cfgload_ctx *c, const struct node *m, const char *who,
		    struct mw_output *o)
{
	const struct node *v = cfgtree_map_get(m, "keep");
	char sh[72];

	if (v) {
		if (cfgload_duration(c, v, who, "keep", &o->keep) < 0)
			return -1;
		if (o->keep < 86400)
			return cfgload_fail(c, v->line, "%s: keep: files are daily; keep them at "
					    "least 1d, e.g. keep: 30d", who);
	}
	if ((v = cfgtree_map_get(m, "compress"))) {
		if (cfgload_want_scalar(c, v, who, "compress") < 0)
			return -1;
		if (strcmp(v->str, "true") && strcmp(v->str, "false"))
			return cfgload_fail(c, v->line, "%s: compress: '%s' is neither true nor "
					    "false; write compress: true to gzip each day's file "
					    "once the day is over", who, cfgschema_show(v->str, sh));
		o->compress = strcmp(v->str, "true") == 0;
	}
	return 0;
}

/* Whether the PEM text of fd (its first 64 KiB) holds an encrypted key:
 * PKCS#8 "BEGIN ENCRYPTED PRIVATE KEY" or the legacy "Proc-Type: 4,ENCRYPTED". */
static int pem_encrypted(int fd)
{
	char buf[65536];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strstr(buf, "ENCRYPTED") != NULL;
}

/* A PEM file key (ca_file, client_cert, client_key): a readable regular
 * file now, not only when the output first connects, which would fail
 * only the deliveries. */
static int out_pem(struct cfgload_ctx *c, const struct node *m, const char *who, const char *key,
		   const char *path, const char *what)
{
	char msg[600];

	if (path && cfgschema_pem_file_check(key, path, what, msg, sizeof(msg)) < 0)
		return cfgload_fail(c, cfgtree_map_get(m, key)->line, "%s: %s", who, msg);
	return 0;
}

/* client_cert and client_key: PEM files for TLS client authentication,
 * both or neither, each a regular file we can read now (a typo stops
 * loading, not every delivery); tls is whether the url is one that uses
 * them. The key's mode is not checked as a secret file's is: keys are
 * commonly shared with a group (ssl-cert) that the TLS clients run in. */
static int out_client_cert(struct cfgload_ctx *c, const struct node *m, const char *who,
			   const struct mw_output *o, int tls, const char *urls)
{
	const char *key = o->client_cert ? "client_cert" : "client_key";
	char sh[72];
	int fd, encrypted;

	if (!o->client_cert && !o->client_key)
		return 0;
	if (!tls)
		return cfgload_fail(c, cfgtree_map_get(m, key)->line, "%s: %s: only %s use a "
				    "client certificate; remove client_cert and client_key or "
				    "change url", who, key, urls);
	if (!o->client_cert || !o->client_key)
		return cfgload_fail(c, cfgtree_map_get(m, key)->line, "%s: %s without %s: give "
				    "both, client_cert (the PEM certificate, with any "
				    "intermediates after it) and client_key (its PEM private "
				    "key)", who, key, o->client_cert ? "client_key" : "client_cert");
	if (out_pem(c, m, who, "client_cert", o->client_cert, "this client's certificate "
		    "(with any intermediates after it)") < 0 ||
	    out_pem(c, m, who, "client_key", o->client_key, "the private key of "
		    "client_cert") < 0)
		return -1;
	/* A key with a passphrase would make OpenSSL ask for it on the
	 * terminal (librelp loads it with OpenSSL's default prompt). */
	fd = open(o->client_key, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	encrypted = fd >= 0 && pem_encrypted(fd);
	if (fd >= 0)
		close(fd);
	if (encrypted)
		return cfgload_fail(c, cfgtree_map_get(m, "client_key")->line, "%s: client_key: "
				    "%s is encrypted with a passphrase, which mimewatch cannot "
				    "type; write it without one (openssl pkey -in KEY -out NEW, "
				    "mode 0600)", who, cfgschema_show(o->client_key, sh));
	return 0;
}

/* Elasticsearch's basic auth: username with password (a secret), never
 * beside api_key: two credentials, and which one Elasticsearch took would
 * depend on its realm order. */
static int out_basic_auth(struct cfgload_ctx *c, const struct node *m, const char *who,
			  struct mw_output *o)
{
	if (out_str(c, m, who, "username", &o->username) < 0 ||
	    out_secret(c, m, who, "password", &o->password) < 0)
		return -1;
	if (o->username && strchr(o->username, ':'))
		return cfgload_fail(c, cfgtree_map_get(m, "username")->line, "%s: username: "
				    "holds ':', which basic auth cannot carry in a user name", who);
	if (o->username && !o->password.value)
		return cfgload_fail(c, cfgtree_map_get(m, "username")->line, "%s: username "
				    "without password: add password_file: (a file of mode 0600), "
				    "password_env:, password_credential: or password:", who);
	if (!o->username && o->password.value)
		return cfgload_fail(c, m->line, "%s: password without username: add username:",
				    who);
	if (o->username && o->token.value)
		return cfgload_fail(c, cfgtree_map_get(m, "username")->line, "%s: api_key and "
				    "username/password are both given; keep one credential: the "
				    "API key, or the user and password", who);
	return 0;
}

/* scheme://host:port with one of the schemes; the sink checks the rest
 * (host syntax, port range) when it opens. */
static int check_url(struct cfgload_ctx *c, const struct node *m, const char *who,
		     const char *url, const char *const *schemes, size_t n, const char *what,
		     const char *example)
{
	const struct node *v = cfgtree_map_get(m, "url");
	const char *sep = strstr(url, "://");

	for (size_t i = 0; sep && i < n; i++)
		if ((size_t)(sep - url) == strlen(schemes[i]) &&
		    strncmp(url, schemes[i], strlen(schemes[i])) == 0 && sep[3])
			return 0;
	return cfgload_fail(c, v ? v->line : m->line, "%s: url: '%.200s' is not a %s url; write "
			    "e.g. url: %s", who, url, what, example);
}

/* host:port[,host:port...]: each a host (name or address, [v6] in brackets)
 * and a port from 1 to 65535; librdkafka would only find out when it
 * connects. */
static int check_brokers(struct cfgload_ctx *c, const struct node *v, const char *who,
			 const char *list)
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
			return cfgload_fail(c, v->line, "%s: brokers: '%.*s' is not host:port "
					    "(port 1 to 65535, no scheme); write e.g. brokers: "
					    "k1.example:9092,k2.example:9092", who,
					    (int)(len > 200 ? 200 : len), p);
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* {integration} and {type} are the only placeholders of a template. */
static int check_template(struct cfgload_ctx *c, const struct node *m, const char *who,
			  const char *key, const char *t)
{
	const struct node *v = cfgtree_map_get(m, key);

	for (const char *p = strchr(t, '{'); p; p = strchr(p + 1, '{'))
		if (strncmp(p, "{integration}", 13) != 0 && strncmp(p, "{type}", 6) != 0)
			return cfgload_fail(c, v ? v->line : m->line, "%s: %s: unknown "
					    "placeholder in '%.200s'; only {integration} and "
					    "{type} are replaced", who, key, t);
	return 0;
}

/* The first of keys[0..n) that m holds, or NULL. */
static const struct node *out_first_of(const struct node *m, const char *const *keys, size_t n,
				       const char **which)
{
	for (size_t i = 0; i < n; i++) {
		const struct node *v = cfgtree_map_get(m, keys[i]);

		if (v) {
			*which = keys[i];
			return v;
		}
	}
	return NULL;
}

/* A Kafka output's security: librdkafka's security.protocol, sasl.* and
 * ssl.*.location (its CONFIGURATION.md). A key the protocol would not use
 * is refused rather than ignored: a ca_file over plaintext or a password
 * with ssl means the file says something the connection does not do. */
static int out_kafka_security(struct cfgload_ctx *c, const struct node *m, const char *who,
			      struct mw_output *o)
{
	static const char *const protocols[] = { "plaintext", "ssl", "sasl_plaintext",
						 "sasl_ssl" };
	static const char *const mechanisms[] = { "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512" };
	static const char *const sasl_keys[] = { "sasl_mechanism", "sasl_username",
						 "sasl_password", "sasl_password_file",
						 "sasl_password_env", "sasl_password_credential" };
	static const char *const tls_keys[] = { "ca_file", "client_cert", "client_key" };
	const struct node *v;
	const char *which = NULL, *proto;
	size_t i;
	int sasl, tls;
	char sh[72];

	if (out_str(c, m, who, "security_protocol", &o->security_protocol) < 0)
		return -1;
	if (o->security_protocol) {
		for (i = 0; i < NELEM(protocols); i++)
			if (strcasecmp(o->security_protocol, protocols[i]) == 0)
				break;
		if (i == NELEM(protocols))
			return cfgload_fail(c, cfgtree_map_get(m, "security_protocol")->line,
					    "%s: security_protocol: '%s' is not one of plaintext, "
					    "ssl, sasl_plaintext and sasl_ssl; write e.g. "
					    "security_protocol: sasl_ssl", who,
					    cfgschema_show(o->security_protocol, sh));
		free(o->security_protocol);
		o->security_protocol = mw_xstrdup(protocols[i]);
	}
	proto = o->security_protocol ? o->security_protocol : "plaintext";
	sasl = strncmp(proto, "sasl_", 5) == 0;
	tls = strcmp(proto, "ssl") == 0 || strcmp(proto, "sasl_ssl") == 0;
	if (!sasl && (v = out_first_of(m, sasl_keys, NELEM(sasl_keys), &which)))
		return cfgload_fail(c, v->line, "%s: %s: security_protocol %s uses no SASL; "
				    "remove it or set security_protocol: sasl_ssl (or "
				    "sasl_plaintext)", who, which, proto);
	if (!tls && (v = out_first_of(m, tls_keys, NELEM(tls_keys), &which)))
		return cfgload_fail(c, v->line, "%s: %s: security_protocol %s uses no TLS; "
				    "remove it or set security_protocol: ssl (or sasl_ssl)", who,
				    which, proto);
	/* client_cert and client_key as every TLS output's (read with the
	 * common keys); the CA file read now, as they are */
	if (out_pem(c, m, who, "ca_file", o->ca_file, "the CA certificate that signed the "
		    "brokers' certificates") < 0 ||
	    out_client_cert(c, m, who, o, tls, "security_protocol ssl and sasl_ssl") < 0)
		return -1;
	if (!sasl)
		return 0;
	if (out_str(c, m, who, "sasl_mechanism", &o->sasl_mechanism) < 0 ||
	    out_str(c, m, who, "sasl_username", &o->sasl_username) < 0)
		return -1;
	if (!o->sasl_mechanism)
		return cfgload_fail(c, m->line, "%s: sasl_mechanism: missing; security_protocol "
				    "%s needs one of PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 (one "
				    "the brokers' sasl.enabled.mechanisms lists)", who, proto);
	for (i = 0; i < NELEM(mechanisms); i++)
		if (strcasecmp(o->sasl_mechanism, mechanisms[i]) == 0)
			break;
	if (i == NELEM(mechanisms))
		return cfgload_fail(c, cfgtree_map_get(m, "sasl_mechanism")->line, "%s: "
				    "sasl_mechanism: '%s' is not one of PLAIN, SCRAM-SHA-256 and "
				    "SCRAM-SHA-512; write e.g. sasl_mechanism: SCRAM-SHA-512",
				    who, cfgschema_show(o->sasl_mechanism, sh));
	free(o->sasl_mechanism);
	o->sasl_mechanism = mw_xstrdup(mechanisms[i]);
	if (!o->sasl_username)
		return cfgload_fail(c, m->line, "%s: sasl_username: missing; security_protocol "
				    "%s needs the SASL user name, e.g. sasl_username: mimewatch",
				    who, proto);
	if (out_secret(c, m, who, "sasl_password", &o->sasl_password) < 0)
		return -1;
	if (!o->sasl_password.value)
		return cfgload_fail(c, m->line, "%s: sasl_password: missing; add "
				    "sasl_password_file: (a file of mode 0600 holding the "
				    "password), sasl_password_env: or sasl_password:", who);
	return 0;
}

int cfgload_output(struct cfgload_ctx *c, const struct node *m, size_t idx, struct mw_output *o)
{
	static const char *const syslog_schemes[] = { "tcp", "tls", "relp", "relp+tls" };
	static const char *const http_schemes[] = { "https", "http" };
	const struct node *type = NULL, *name = NULL, *v;
	char who[64], sh[72], tmp[512], list[128];
	const char *const *keys;
	size_t nkeys;
	int k;

	o->line = m->line;
	o->batch = DEFAULT_OUT_BATCH;
	o->timeout = DEFAULT_OUT_TIMEOUT;
	snprintf(who, sizeof(who), "output #%zu", idx + 1);
	cfgschema_output_type_list(list, sizeof(list));
	if (m->kind != NODE_MAP)
		return cfgload_fail(c, m->line, "%s: must be a mapping of keys; write '- type: "
				    "ndjson' and 'dir: /path'", who);
	type = cfgtree_map_get(m, "type");
	if (!type)
		return cfgload_fail(c, m->line, "%s: type: missing; add type: with one of %s", who,
				    list);
	if (cfgload_want_scalar(c, type, who, "type") < 0)
		return -1;
	k = cfgschema_output_kind(type->str);
	if (k < 0)
		return cfgload_fail(c, type->line, "%s: type: '%s' is not an output type; valid "
				    "types: %s", who, cfgschema_show(type->str, sh), list);
	o->kind = (enum mw_output_kind)k;
	snprintf(who, sizeof(who), "output #%zu (%s)", idx + 1, output_type_name(o->kind));
	keys = cfgschema_output_keys(o->kind, &nkeys);
	if (cfgload_check_keys(c, m, who, keys, nkeys) < 0)
		return -1;
	name = cfgtree_map_get(m, "name");
	if (name) {
		if (cfgload_want_scalar(c, name, who, "name") < 0)
			return -1;
		if (!cfgschema_name_ok(name->str))
			return cfgload_fail(c, name->line, "%s: name: '%s' is not a valid name; "
					    "use 1 to %d letters, digits, '.', '_' or '-'", who,
					    cfgschema_show(name->str, sh), CFG_MAX_NAME);
		o->name = mw_xstrdup(name->str);
	} else {
		o->name = mw_xstrdup(output_type_name(o->kind));
	}
	if (out_str(c, m, who, "dir", &o->dir) < 0 || out_str(c, m, who, "url", &o->url) < 0 ||
	    out_str(c, m, who, "ca_file", &o->ca_file) < 0 ||
	    out_str(c, m, who, "hostname", &o->hostname) < 0 ||
	    out_str(c, m, who, "client_cert", &o->client_cert) < 0 ||
	    out_str(c, m, who, "client_key", &o->client_key) < 0 ||
	    out_str(c, m, who, "index", &o->index) < 0 ||
	    out_str(c, m, who, "brokers", &o->brokers) < 0 ||
	    out_str(c, m, who, "topic", &o->topic) < 0)
		return -1;
	if ((v = cfgtree_map_get(m, "batch"))) {
		size_t l;
		long n = 0;

		if (cfgload_want_scalar(c, v, who, "batch") < 0)
			return -1;
		l = strlen(v->str);
		if (l > 0 && l <= 9 && strspn(v->str, "0123456789") == l)
			n = strtol(v->str, NULL, 10);
		if (n < 1 || n > 10000)
			return cfgload_fail(c, v->line, "%s: batch: '%s' is not a number from 1 "
					    "to 10000 (records per send); e.g. batch: 500", who,
					    cfgschema_show(v->str, sh));
		o->batch = (int)n;
	}
	if (out_batch_bytes(c, m, who, &o->batch_bytes) < 0 ||
	    out_start(c, m, who, &o->start_now) < 0)
		return -1;
	if ((v = cfgtree_map_get(m, "timeout"))) {
		if (cfgload_duration(c, v, who, "timeout", &o->timeout) < 0)
			return -1;
		if (o->timeout < 1 || o->timeout > 600)
			return cfgload_fail(c, v->line, "%s: timeout: keep it from 1s to 10m (the "
					    "longest one send may take), e.g. timeout: 10s", who);
	}
	if (o->ca_file && cfgschema_path_check(o->ca_file, tmp, sizeof(tmp)) < 0)
		return cfgload_fail(c, cfgtree_map_get(m, "ca_file")->line, "%s: ca_file: %s",
				    who, tmp);
	switch (o->kind) {
	case MW_OUT_NDJSON:
		if (!o->dir)
			return cfgload_fail(c, m->line, "%s: dir: missing; add the directory for "
					    "the files, e.g. dir: /var/lib/mimewatch/out", who);
		if (cfgschema_path_check(o->dir, tmp, sizeof(tmp)) < 0)
			return cfgload_fail(c, cfgtree_map_get(m, "dir")->line, "%s: dir: %s",
					    who, tmp);
		if (out_group(c, m, who, o) < 0 || out_mode(c, m, who, &o->file_mode) < 0 ||
		    out_days(c, m, who, o) < 0)
			return -1;
		break;
	case MW_OUT_SYSLOG: {
		int tls = strncmp(o->url ? o->url : "", "tls://", 6) == 0;
		int relp_tls = strncmp(o->url ? o->url : "", "relp+tls://", 11) == 0;

		if (!o->url)
			return cfgload_fail(c, m->line, "%s: url: missing; add e.g. url: "
					    "relp://siem.example:2514 (tcp://, tls://, relp:// or "
					    "relp+tls://)", who);
		if (check_url(c, m, who, o->url, syslog_schemes, NELEM(syslog_schemes), "syslog",
			      "relp://siem.example:2514 (tcp://, tls://, relp:// or relp+tls://)")
		    < 0)
			return -1;
		if (o->ca_file && !tls && !relp_tls)
			return cfgload_fail(c, cfgtree_map_get(m, "ca_file")->line, "%s: "
					    "ca_file: only a tls:// or relp+tls:// url uses it; "
					    "remove it or use tls:// or relp+tls://", who);
		if (out_client_cert(c, m, who, o, tls || relp_tls, "tls:// and relp+tls:// urls")
		    < 0)
			return -1;
		/* librelp checks the receiver's certificate only against the
		 * CA it is given, and only when it presents a certificate of
		 * its own (syslog.c, check_tls_files). */
		if (relp_tls && !o->ca_file)
			return cfgload_fail(c, cfgtree_map_get(m, "url")->line, "%s: url: "
					    "relp+tls:// needs ca_file, the PEM file of the CA that "
					    "signed the receiver's certificate: RELP over TLS does not "
					    "read the system's trust store", who);
		if (relp_tls && !o->client_cert)
			return cfgload_fail(c, cfgtree_map_get(m, "url")->line, "%s: url: "
					    "relp+tls:// needs client_cert and client_key: librelp "
					    "verifies the receiver's certificate only when it presents "
					    "one of its own", who);
		break;
	}
	case MW_OUT_HEC:
		if (!o->url)
			return cfgload_fail(c, m->line, "%s: url: missing; add the event "
					    "endpoint, e.g. url: "
					    "https://splunk.example:8088/services/collector/event",
					    who);
		if (check_url(c, m, who, o->url, http_schemes, NELEM(http_schemes), "http(s)",
			      "https://splunk.example:8088/services/collector/event") < 0)
			return -1;
		if (out_secret(c, m, who, "token", &o->token) < 0 ||
		    out_client_cert(c, m, who, o, strncmp(o->url, "https://", 8) == 0,
				    "https:// urls") < 0)
			return -1;
		if (!o->token.value)
			return cfgload_fail(c, m->line, "%s: token: missing; add token_file: (a "
					    "file of mode 0600 holding the HEC token), token_env: "
					    "or token:", who);
		break;
	case MW_OUT_ES:
		if (!o->url)
			return cfgload_fail(c, m->line, "%s: url: missing; add e.g. url: "
					    "https://es.example:9200", who);
		if (check_url(c, m, who, o->url, http_schemes, NELEM(http_schemes), "http(s)",
			      "https://es.example:9200") < 0)
			return -1;
		if (out_secret(c, m, who, "api_key", &o->token) < 0 ||
		    out_basic_auth(c, m, who, o) < 0 ||
		    out_client_cert(c, m, who, o, strncmp(o->url, "https://", 8) == 0,
				    "https:// urls") < 0)
			return -1;
		if (!o->index)
			o->index = mw_xstrdup("mimecast-{type}");
		if (check_template(c, m, who, "index", o->index) < 0)
			return -1;
		break;
	case MW_OUT_KAFKA:
		if (!o->brokers)
			return cfgload_fail(c, m->line, "%s: brokers: missing; add e.g. brokers: "
					    "k1.example:9092,k2.example:9092", who);
		if (check_brokers(c, cfgtree_map_get(m, "brokers"), who, o->brokers) < 0)
			return -1;
		if (!o->topic)
			o->topic = mw_xstrdup("mimecast.{integration}.{type}");
		if (check_template(c, m, who, "topic", o->topic) < 0 ||
		    out_kafka_security(c, m, who, o) < 0)
			return -1;
		break;
	}
	return 0;
}

/* Two NDJSON outputs writing one directory (or one inside the other, where
 * <dir>/<integration>/<type>/ of one can be the other's files) would each
 * believe its own committed sizes and cut or append to the other's files:
 * exactly once holds per directory only (HACKING, "NDJSON output"). */
int cfgload_output_dirs(struct cfgload_ctx *c, const struct node *seq)
{
	const struct mw_config *cfg = c->cfg;
	char sh[72], sh2[72];

	for (size_t i = 0; i < cfg->noutputs; i++) {
		const struct mw_output *o = &cfg->outputs[i];
		const struct node *v;

		if (o->kind != MW_OUT_NDJSON || !o->dir)
			continue;
		v = i < seq->nkids ? cfgtree_map_get(seq->kids[i], "dir") : NULL;
		for (size_t j = 0; j < i; j++) {
			const struct mw_output *p = &cfg->outputs[j];
			const char *how = NULL;

			if (p->kind != MW_OUT_NDJSON || !p->dir)
				continue;
			if (config_dir_within(o->dir, p->dir) == 1)
				how = "is";
			else if (config_dir_within(o->dir, p->dir) == 2)
				how = "is inside";
			else if (config_dir_within(p->dir, o->dir) == 2)
				how = "contains";
			if (how)
				return cfgload_fail(c, v ? v->line : o->line, "output '%s': dir: %s "
						    "%s the directory of output '%s' (%s, line %d); "
						    "give each NDJSON output a directory of its own",
						    o->name, cfgschema_show(o->dir, sh), how, p->name,
						    cfgschema_show(p->dir, sh2), p->line);
		}
	}
	return 0;
}
