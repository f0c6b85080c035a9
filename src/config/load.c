/* config/load.c - loading a config (see config.h).
 *
 * Owns config_load and config_parse: the tree checked against the schema
 * (top-level keys, each integration in file order, so the first error
 * reported is the first in the file), the secrets inline, _file (read as
 * ssh reads a private key: the mode checked), _env or _credential (systemd's
 * $CREDENTIALS_DIRECTORY), the top level's proxy
 * handed to each integration, the warnings that are
 * said but do not refuse, the byte range of each integration for splicing on
 * save, the default output, the file-mode and owner checks of the config
 * itself, and freeing. The outputs: entries are load_outputs.c's. */
#include "private.h"
#include "logtypes.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers of every entry ---------------------------------------------- */

int cfgload_fail(struct cfgload_ctx *c, int line, const char *fmt, ...)
{
	char msg[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	mw_err_set(c->e, "%s:%d: %s", c->file, line, msg);
	return -1;
}

static int unknown_key(struct cfgload_ctx *c, const struct node *k, const char *who,
		       const char *const *keys, size_t nkeys)
{
	char list[600], sh[72], hint[96] = "";
	const char *near = cfgschema_closest_key(k->str, keys, nkeys);

	cfgschema_key_list(keys, nkeys, list, sizeof(list));
	if (near)
		snprintf(hint, sizeof(hint), "did you mean '%s'? ", near);
	return cfgload_fail(c, k->line, "%s: unknown key '%s'; %svalid keys: %s", who,
			    cfgschema_show(k->str, sh), hint, list);
}

/* Map keys must be known plain scalars and appear once. Unknown keys are
 * refused first, so the duplicate search meets at most nkeys distinct keys. */
int cfgload_check_keys(struct cfgload_ctx *c, const struct node *m, const char *who,
		       const char *const *keys, size_t nkeys)
{
	char sh[72];

	for (size_t i = 0; i + 1 < m->nkids; i += 2) {
		const struct node *k = m->kids[i];
		size_t j;

		if (k->kind != NODE_SCALAR)
			return cfgload_fail(c, k->line, "%s: a key must be a plain word, not a "
					    "list or mapping; write key: value", who);
		for (j = 0; j < nkeys; j++)
			if (strcmp(k->str, keys[j]) == 0)
				break;
		if (j == nkeys)
			return unknown_key(c, k, who, keys, nkeys);
		for (j = 0; j < i; j += 2)
			if (strcmp(m->kids[j]->str, k->str) == 0)
				return cfgload_fail(c, k->line, "%s: key '%s' appears twice (also "
						    "on line %d); keep one", who,
						    cfgschema_show(k->str, sh), m->kids[j]->line);
	}
	return 0;
}

int cfgload_want_scalar(struct cfgload_ctx *c, const struct node *v, const char *who,
			const char *key)
{
	if (v->kind == NODE_SCALAR)
		return 0;
	return cfgload_fail(c, v->line, "%s: %s: must be a single value, not a %s; write %s: "
			    "value", who, key, v->kind == NODE_SEQ ? "list" : "mapping", key);
}

int cfgload_duration(struct cfgload_ctx *c, const struct node *v, const char *who,
		     const char *key, int64_t *out)
{
	char sh[72];

	if (cfgload_want_scalar(c, v, who, key) < 0)
		return -1;
	if (mw_parse_duration(v->str, out) < 0)
		return cfgload_fail(c, v->line, "%s: %s: '%s' is not a duration; write e.g. 30s, "
				    "5m, 48h, 30d", who, key, cfgschema_show(v->str, sh));
	return 0;
}

/* ---- secrets: inline, _file or _env -------------------------------------- */

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

static int read_secret_file(struct cfgload_ctx *c, int line, const char *who, const char *key,
			    const char *path, char **out)
{
	mw_err fe;
	char *data = NULL, tmp[512], sh[72];
	size_t len = 0;

	/* not echoed: a value that is not a path may be the secret pasted here */
	if (!path || path[0] != '/')
		return cfgload_fail(c, line, "%s: %s: is not an absolute path (not shown, in case "
				    "it is the secret itself); write the path of the secret's "
				    "file, starting with /, or put the secret in %.*s", who, key,
				    (int)(strlen(key) - 5), key);
	if (cfgschema_path_check(path, tmp, sizeof(tmp)) < 0)
		return cfgload_fail(c, line, "%s: %s: %s", who, key, tmp);
	mw_err_clear(&fe);
	if (mw_check_private_file(path, key, &fe) < 0)
		return cfgload_fail(c, line, "%s: %s", who, fe.msg);
	switch (config_read_secret_text(path, &data, &len, &fe)) {
	case -1:
		return cfgload_fail(c, line, "%s: %s: %s; the file must hold only the secret "
				    "(at most 64 KiB)", who, key, fe.msg);
	case -2:
		return cfgload_fail(c, line, "%s: %s: %s is %s; put the secret in it, on one line",
				    who, key, cfgschema_show(path, sh), len ? "binary" : "empty");
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

/* A systemd credential (systemd.exec(5), "Credentials"): the service
 * manager copies each LoadCredential= of the unit into a directory of the
 * service's own, readable by it alone, and names it in
 * $CREDENTIALS_DIRECTORY. Read as a secret file is, mode checked. */
/* Whether a credential's name may be echoed: short words joined by - . _
 * ("acme-secret"). A long run without a separator may be a secret pasted
 * where the name belongs; messages then say NAME. */
static int credential_name_showable(const char *s)
{
	size_t run = 0, n = strlen(s);

	if (n > 48)
		return 0;
	for (; *s; s++) {
		run = strchr("-._", *s) ? 0 : run + 1;
		if (run > 16)
			return 0;
	}
	return 1;
}

static int read_credential(struct cfgload_ctx *c, int line, const char *who, const char *key,
			   const char *name, char **out)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	const char *shown = credential_name_showable(name) ? name : "NAME";
	char path[PATH_MAX], sh[72];
	struct stat st;

	/* a credential's name is a file name; anything else is not echoed */
	if (!cfgschema_name_ok(name))
		return cfgload_fail(c, line, "%s: %s: is not a credential name (not shown, in case "
				    "it is the secret itself); write the name the unit's "
				    "LoadCredential= gives it (letters, digits, . _ -)", who, key);
	if (!dir || dir[0] != '/')
		return cfgload_fail(c, line, "%s: %s: $CREDENTIALS_DIRECTORY is not set (mimewatch "
				    "was not started by systemd with credentials); add "
				    "LoadCredential=%s:/path/of/the/secret to the [Service] "
				    "section of its unit, or use %.*s_file", who, key, shown,
				    (int)(strlen(key) - 11), key);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return cfgload_fail(c, line, "%s: %s: $CREDENTIALS_DIRECTORY is too long", who,
				    key);
	if (lstat(path, &st) < 0 && errno == ENOENT)
		return cfgload_fail(c, line, "%s: %s: there is no credential %s in "
				    "$CREDENTIALS_DIRECTORY (%s); add LoadCredential=%s:/path/of/"
				    "the/secret to the [Service] section of the unit and restart it",
				    who, key, shown == name ? name : "of that name (not shown: is it "
				    "the secret itself?)", cfgschema_show(dir, sh), shown);
	return read_secret_file(c, line, who, key, path, out);
}

/* Resolves one form of a secret into s: form 0 the value inline (key base),
 * 1 a file (base_file), 2 an environment variable (base_env), 3 a systemd
 * credential (base_credential). Shared by the integrations' keys, the proxy
 * password and the outputs' tokens. */
int cfgload_secret(struct cfgload_ctx *c, const struct node *v, const char *who, const char *base,
		   int form, struct mw_secret *s)
{
	char key[40], sh[72];

	snprintf(key, sizeof(key), "%s%s", base, cfgschema_secret_suffix[form]);
	if (cfgload_want_scalar(c, v, who, key) < 0)
		return -1;
	if (form == 0) {
		s->src = MW_SECRET_INLINE;
		s->value = mw_xstrdup(v->str);
		return 0;
	}
	if (!*v->str)
		return cfgload_fail(c, v->line, "%s: %s: is empty; write the %s", who, key,
				    form == 1 ? "path of the file" : form == 2 ? "name of the variable"
				    : "name of the credential");
	if (form == 1) {
		s->src = MW_SECRET_FILE;
		s->ref = mw_xstrdup(v->str);
		return read_secret_file(c, v->line, who, key, v->str, &s->value);
	}
	if (form == 3) {
		s->src = MW_SECRET_CREDENTIAL;
		s->ref = mw_xstrdup(v->str);
		return read_credential(c, v->line, who, key, v->str, &s->value);
	}
	s->src = MW_SECRET_ENV;
	s->ref = mw_xstrdup(v->str);
	if (!env_name_ok(v->str))
		return cfgload_fail(c, v->line, "%s: %s: is not a variable name (not shown, in "
				    "case it is the secret itself); write the name of the "
				    "variable that holds the secret (letters, digits and _), or "
				    "put the secret in %s_file", who, key, base);
	{
		const char *val = getenv(v->str);

		if ((!val || !*val) && !env_name_showable(v->str))
			return cfgload_fail(c, v->line, "%s: %s: the environment variable it "
					    "names is %s (its name is not shown: it does not look "
					    "like a variable name; is it the secret itself?); "
					    "export it before starting mimewatch, or put the "
					    "secret in %s_file", who, key,
					    val ? "empty" : "not set", base);
		if (!val || !*val)
			return cfgload_fail(c, v->line, "%s: %s: the environment variable %s is "
					    "%s; export it before starting mimewatch", who, key,
					    cfgschema_show(v->str, sh), val ? "empty" : "not set");
		s->value = mw_xstrdup(val);
	}
	return 0;
}

/* ---- integrations -------------------------------------------------------- */

static int parse_secret(struct cfgload_ctx *c, struct mw_integration *in, int k,
			const struct node *v, const int *lines, const char *who)
{
	int base = cfgschema_secret_base(k);
	struct mw_secret *s = cfgschema_secret_of(in, base);

	if (s->src != MW_SECRET_NONE) {
		for (int f = base; f < base + SECRET_FORMS; f++)
			if (f != k && lines[f])
				return cfgload_fail(c, v->line, "%s: %s: %s is already given on "
						    "line %d; keep only one of %s, %s_file, %s_env "
						    "and %s_credential", who,
						    cfgschema_ikey_names[k],
						    cfgschema_ikey_names[f], lines[f],
						    cfgschema_ikey_names[base],
						    cfgschema_ikey_names[base],
						    cfgschema_ikey_names[base],
						    cfgschema_ikey_names[base]);
	}
	return cfgload_secret(c, v, who, cfgschema_ikey_names[base], k - base, s);
}

static int parse_types(struct cfgload_ctx *c, struct mw_integration *in, const struct node *v,
		       const char *who)
{
	char list[256], sh[72];

	cfgschema_type_list(list, sizeof(list));
	if (v->kind != NODE_SEQ)
		return cfgload_fail(c, v->line, "%s: types: must be a list; write e.g. types: "
				    "[%s]", who, list);
	if (v->nkids == 0)
		return cfgload_fail(c, v->line, "%s: types: the list is empty; list at least one "
				    "of %s", who, list);
	in->types = 0;
	for (size_t i = 0; i < v->nkids; i++) {
		const struct node *t = v->kids[i];
		int idx;

		if (t->kind != NODE_SCALAR)
			return cfgload_fail(c, t->line, "%s: types: each entry must be a type "
					    "name; valid types: %s", who, list);
		idx = logtype_index(t->str);
		if (idx < 0 || idx >= 32)
			return cfgload_fail(c, t->line, "%s: types: '%s' is not a log type; valid "
					    "types: %s", who, cfgschema_show(t->str, sh), list);
		in->types |= 1u << idx;
	}
	return 0;
}

/* siem_types: names of the batch type's sub-types. */
static int parse_siem_types(struct cfgload_ctx *c, struct mw_integration *in,
			    const struct node *v, const char *who)
{
	const struct mw_logtype *lt = logtype_batch();
	char list[400], sh[72];
	size_t used = 0;

	list[0] = '\0';
	for (size_t i = 0; lt && i < lt->nsubtypes && used + 1 < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
					 lt->subtypes[i].name);
	if (v->kind != NODE_SEQ)
		return cfgload_fail(c, v->line, "%s: siem_types: must be a list; write e.g. "
				    "siem_types: [receipt, delivery]; valid: %s", who, list);
	if (v->nkids == 0)
		return cfgload_fail(c, v->line, "%s: siem_types: the list is empty; list at "
				    "least one of %s, or leave the key out for the default", who,
				    list);
	in->siem_types = 0;
	for (size_t i = 0; i < v->nkids; i++) {
		const struct node *t = v->kids[i];
		int idx = t->kind == NODE_SCALAR ? logtype_subtype_index(lt, t->str) : -1;

		if (idx < 0 || idx >= 32)
			return cfgload_fail(c, t->line, "%s: siem_types: '%s' is not a SIEM type; "
					    "valid: %s", who,
					    t->kind == NODE_SCALAR ? cfgschema_show(t->str, sh)
								   : "(not a name)", list);
		in->siem_types |= 1u << idx;
	}
	return 0;
}

/* Stores v as a string field; null gives "" so the checks can say "missing". */
static void set_str(char **dst, const struct node *v)
{
	free(*dst);
	*dst = mw_xstrdup(v->is_null ? "" : v->str);
}

static int parse_integration(struct cfgload_ctx *c, const struct node *m, size_t idx,
			     struct mw_integration *in)
{
	const struct node *vals[K_COUNT] = { 0 };
	int lines[K_COUNT] = { 0 };
	char who[128], msg[900], sh[72];

	config_integration_defaults(in);
	in->line = m->line;
	snprintf(who, sizeof(who), "integration #%zu", idx + 1);
	if (m->kind != NODE_MAP)
		return cfgload_fail(c, m->line, "%s: must be a mapping of keys; start it with "
				    "'- name: ...'", who);
	/* name the entry in messages as early as possible */
	for (size_t i = 0; i + 1 < m->nkids; i += 2)
		if (m->kids[i]->kind == NODE_SCALAR && strcmp(m->kids[i]->str, "name") == 0 &&
		    m->kids[i + 1]->kind == NODE_SCALAR && cfgschema_name_ok(m->kids[i + 1]->str))
			snprintf(who, sizeof(who), "integration '%s'", m->kids[i + 1]->str);
	if (cfgload_check_keys(c, m, who, cfgschema_ikey_names, K_COUNT) < 0)
		return -1;
	/* find every key first: name and api give the context for the rest */
	for (size_t i = 0; i + 1 < m->nkids; i += 2) {
		const struct node *k = m->kids[i];
		int found = -1;

		for (int j = 0; j < K_COUNT; j++)
			if (strcmp(k->str, cfgschema_ikey_names[j]) == 0)
				found = j;
		vals[found] = m->kids[i + 1];
		lines[found] = k->line;
	}
	if (vals[K_NAME]) {
		if (cfgload_want_scalar(c, vals[K_NAME], who, "name") < 0)
			return -1;
		set_str(&in->name, vals[K_NAME]);
		if (cfgschema_check_field(in, K_NAME, msg, sizeof(msg)) < 0)
			return cfgload_fail(c, lines[K_NAME], "%s: %s", who, msg);
		snprintf(who, sizeof(who), "integration '%s'", in->name);
	}
	if (vals[K_API]) {
		const struct node *v = vals[K_API];

		if (cfgload_want_scalar(c, v, who, "api") < 0)
			return -1;
		if (strcmp(v->str, "v1") == 0)
			in->api = 1;
		else if (strcmp(v->str, "v2") == 0)
			in->api = 2;
		else
			return cfgload_fail(c, lines[K_API], "%s: api: '%s' is not an API "
					    "version; write v1 (HMAC keys) or v2 (OAuth2 client "
					    "credentials)", who, cfgschema_show(v->str, sh));
	}
	/* the rest in file order, so the first error reported is the first in the file */
	for (size_t i = 0; i + 1 < m->nkids; i += 2) {
		const struct node *v = m->kids[i + 1];
		int k = -1;

		for (int j = 0; j < K_COUNT; j++)
			if (strcmp(m->kids[i]->str, cfgschema_ikey_names[j]) == 0)
				k = j;
		if (k == K_NAME || k == K_API)
			continue;
		if (cfgschema_ikey_api[k] && cfgschema_ikey_api[k] != in->api) {
			cfgschema_wrong_api_msg(k, in->api, msg, sizeof(msg));
			return cfgload_fail(c, lines[k], "%s: %s", who, msg);
		}
		if (cfgschema_secret_base(k) >= 0) {
			if (parse_secret(c, in, k, v, lines, who) < 0)
				return -1;
			if (cfgschema_check_field(in, cfgschema_secret_base(k), msg,
						  sizeof(msg)) < 0)
				return cfgload_fail(c, lines[k], "%s: %s", who, msg);
			continue;
		}
		switch (k) {
		case K_DESCRIPTION:
			if (cfgload_want_scalar(c, v, who, "description") < 0)
				return -1;
			free(in->description);
			in->description = v->is_null ? NULL : mw_xstrdup(v->str);
			break;
		case K_BASE_URL: {
			size_t l;

			if (cfgload_want_scalar(c, v, who, "base_url") < 0)
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
			if (cfgload_want_scalar(c, v, who, cfgschema_ikey_names[k]) < 0)
				return -1;
			set_str(k == K_APP_ID ? &in->app_id : k == K_APP_KEY ? &in->app_key
									  : &in->client_id, v);
			break;
		case K_TYPES:
			if (parse_types(c, in, v, who) < 0)
				return -1;
			break;
		case K_SIEM_TYPES:
			if (parse_siem_types(c, in, v, who) < 0)
				return -1;
			break;
		case K_INTERVAL:
		case K_LOOKBACK:
		case K_LAG:
		case K_OVERLAP:
			if (cfgload_duration(c, v, who, cfgschema_ikey_names[k],
					     cfgschema_duration_of(in, k)) < 0)
				return -1;
			break;
		case K_PAGE_SIZE: {
			long ps = 0;
			size_t l;

			if (cfgload_want_scalar(c, v, who, "page_size") < 0)
				return -1;
			l = strlen(v->str);
			if (l == 0 || l > 9 || strspn(v->str, "0123456789") != l)
				return cfgload_fail(c, v->line, "%s: page_size: '%s' is not a "
						    "number; write a number from 1 to 100 "
						    "(default 100)", who,
						    cfgschema_show(v->str, sh));
			ps = strtol(v->str, NULL, 10);
			in->page_size = (int)ps;
			break;
		}
		case K_CA_FILE:
			if (cfgload_want_scalar(c, v, who, "ca_file") < 0)
				return -1;
			set_str(&in->ca_file, v);
			break;
		case K_PROXY:
		case K_PROXY_USER:
		case K_PROXY_CA_FILE:
			if (cfgproxy_parse_key(c, in, k, v, who) < 0)
				return -1;
			break;
		default:
			break;
		}
		if (cfgschema_check_field(in, k, msg, sizeof(msg)) < 0)
			return cfgload_fail(c, lines[k], "%s: %s", who, msg);
	}
	if (in->api == 2 && !in->base_url)
		in->base_url = mw_xstrdup(DEFAULT_V2_URL);
	/* A lookback past what Mimecast keeps of a collected type: said once, for
	 * the shortest such retention (the collector clamps each type's first
	 * window to its own where Mimecast documents it, logtypes.h's
	 * clamped; elsewhere it asks for all of it). */
	{
		const struct mw_logtype *short_lt = NULL;

		for (size_t t = 0; t < mw_nlogtypes && t < 32; t++)
			if ((in->types & (1u << t)) && in->lookback > mw_logtypes[t].retention &&
			    (!short_lt || mw_logtypes[t].retention < short_lt->retention))
				short_lt = &mw_logtypes[t];
		if (short_lt) {
			char vb[32], kb[32];
			mw_buf wb;

			mw_format_duration(in->lookback, vb, sizeof(vb));
			mw_format_duration(short_lt->retention, kb, sizeof(kb));
			mw_buf_init(&wb);
			mw_buf_printf(&wb, "%s%s:%d: %s: lookback: %s reaches past the about %lld "
				      "days Mimecast keeps %s; what is older is no longer there "
				      "to collect (write lookback: %s or less)",
				      c->cfg->warnings ? c->cfg->warnings : "", c->file,
				      lines[K_LOOKBACK], who, vb,
				      (long long)(short_lt->retention / 86400), short_lt->kept_as,
				      kb);
			mw_buf_putc(&wb, '\n');
			free(c->cfg->warnings);
			c->cfg->warnings = mw_xstrdup(wb.data);
			mw_buf_free(&wb);
		}
	}
	/* what is missing, blamed on the entry's first line */
	return cfgschema_check_all(in, c->file, lines, m->line, who, c->e);
}

/* ---- the top level and the file ------------------------------------------ */

struct output_set config_output_set(const struct mw_config *cfg)
{
	return (struct output_set){ cfg->state_dir, cfg->outputs, cfg->noutputs, NULL };
}

/* metrics_file: node_exporter's textfile collector reads only *.prom, and
 * the file is replaced by a rename inside its directory, which must
 * therefore exist and take new files from us. */
static int parse_metrics_file(struct cfgload_ctx *c, const struct node *v)
{
	char tmp[512], sh[72], dir[PATH_MAX];
	const char *slash;
	size_t len;

	if (cfgload_want_scalar(c, v, "config", "metrics_file") < 0)
		return -1;
	if (v->is_null)
		return 0;
	if (cfgschema_path_check(v->str, tmp, sizeof(tmp)) < 0)
		return cfgload_fail(c, v->line, "metrics_file: %s", tmp);
	len = strlen(v->str);
	slash = strrchr(v->str, '/');
	if (len < 6 || strcmp(v->str + len - 5, ".prom") != 0)
		return cfgload_fail(c, v->line, "metrics_file: '%s' does not end in .prom; "
				    "node_exporter's textfile collector reads only *.prom files, "
				    "e.g. metrics_file: /var/lib/node_exporter/textfile/"
				    "mimewatch.prom", cfgschema_show(v->str, sh));
	snprintf(dir, sizeof(dir), "%.*s", slash == v->str ? 1 : (int)(slash - v->str),
		 v->str);
	if (access(dir, W_OK | X_OK) < 0) {
		int missing = errno == ENOENT || errno == ENOTDIR;

		return cfgload_fail(c, v->line, "metrics_file: the directory %s %s; create it, "
				    "or let this user write there", cfgschema_show(dir, sh),
				    missing ? "does not exist" : "is not writable");
	}
	free(c->cfg->metrics_file);
	c->cfg->metrics_file = mw_xstrdup(v->str);
	return 0;
}

/* The store's budget (HACKING, "The store's budget and pass-through"):
 * below 1M the schema alone would not fit and collection would never run. */
static int parse_max_store(struct cfgload_ctx *c, const struct node *v)
{
	char sh[72];

	if (cfgload_want_scalar(c, v, "config", "max_store") < 0)
		return -1;
	if (v->is_null)
		return 0;
	if (mw_parse_size(v->str, &c->cfg->max_store) < 0)
		return cfgload_fail(c, v->line, "max_store: '%s' is not a size; write an "
				    "integer and K, M, G or T (KiB to TiB), e.g. max_store: 20G",
				    cfgschema_show(v->str, sh));
	if (c->cfg->max_store < MAX_STORE_MIN)
		return cfgload_fail(c, v->line, "max_store: below 1M, the store's own tables "
				    "would not fit; give at least 1M, e.g. max_store: 20G, or "
				    "remove the key for no budget");
	return 0;
}

static int parse_keep_delivered(struct cfgload_ctx *c, const struct node *v)
{
	char sh[72];

	if (cfgload_want_scalar(c, v, "config", "keep_delivered") < 0)
		return -1;
	if (v->is_null || strcmp(v->str, "true") == 0)
		c->cfg->pass_through = 0;
	else if (strcmp(v->str, "false") == 0)
		c->cfg->pass_through = 1;
	else
		return cfgload_fail(c, v->line, "keep_delivered: '%s' is neither true nor "
				    "false; write keep_delivered: false to keep records only "
				    "until every output has them", cfgschema_show(v->str, sh));
	return 0;
}

static int parse_top(struct cfgload_ctx *c, const struct node *root)
{
	struct mw_config *cfg = c->cfg;
	const struct node *integrations = NULL, *outputs = NULL;
	char buf[PATH_MAX], tmp[512], sh[72];
	int keep_line = 0;

	if (root && !(root->kind == NODE_SCALAR && root->is_null)) {
		if (root->kind != NODE_MAP)
			return cfgload_fail(c, root->line, "the config must be a mapping of keys "
					    "(state_dir, retention, integrations, outputs); see "
					    "mimewatch.yaml(5)");
		if (cfgload_check_keys(c, root, "config", cfgschema_top_keys,
				       cfgschema_ntop_keys) < 0)
			return -1;
		for (size_t i = 0; i + 1 < root->nkids; i += 2) {
			const struct node *k = root->kids[i], *v = root->kids[i + 1];

			if (strcmp(k->str, "state_dir") == 0) {
				if (cfgload_want_scalar(c, v, "config", "state_dir") < 0)
					return -1;
				if (v->is_null)
					continue;
				if (cfgschema_path_check(v->str, tmp, sizeof(tmp)) < 0)
					return cfgload_fail(c, v->line, "state_dir: %s", tmp);
				free(cfg->state_dir);
				cfg->state_dir = mw_xstrdup(v->str);
			} else if (strcmp(k->str, "retention") == 0) {
				if (cfgload_want_scalar(c, v, "config", "retention") < 0)
					return -1;
				if (mw_parse_duration(v->str, &cfg->retention) < 0)
					return cfgload_fail(c, v->line, "retention: '%s' is not a "
							    "duration; write e.g. 30s, 5m, 48h, "
							    "30d", cfgschema_show(v->str, sh));
				if (cfg->retention < 3600 || cfg->retention > DUR_MAX)
					return cfgload_fail(c, v->line, "retention: out of range; "
							    "keep records at least 1h and at most "
							    "36500d, e.g. retention: 30d");
			} else if (strcmp(k->str, "heartbeat") == 0) {
				if (v->kind == NODE_SCALAR && v->is_null)
					continue;
				if (cfgload_duration(c, v, "config", "heartbeat",
							&cfg->heartbeat) < 0)
					return -1;
				if (cfg->heartbeat < 10 || cfg->heartbeat > 86400)
					return cfgload_fail(c, v->line, "heartbeat: keep it from "
							    "10s to 1d (how often each "
							    "integration's health record goes to "
							    "the outputs), e.g. heartbeat: 5m");
			} else if (strcmp(k->str, "metrics_file") == 0) {
				if (parse_metrics_file(c, v) < 0)
					return -1;
			} else if (strcmp(k->str, "max_store") == 0) {
				if (parse_max_store(c, v) < 0)
					return -1;
			} else if (strcmp(k->str, "keep_delivered") == 0) {
				if (parse_keep_delivered(c, v) < 0)
					return -1;
				keep_line = v->line;
			} else if (strcmp(k->str, "proxy") == 0) {
				if (cfgproxy_parse_top(c, v) < 0)
					return -1;
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
			return cfgload_fail(c, integrations->line, "integrations: must be a list; "
					    "start each entry with '- name: ...'");
		if (integrations->nkids > CFG_MAX_INTEGRATIONS)
			return cfgload_fail(c, integrations->kids[CFG_MAX_INTEGRATIONS]->line,
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
			in->proxy.inherited = mw_xstrdup(cfg->proxy);
			/* the entry's text, for splicing on save (0, 0: cannot splice) */
			if (!integrations->block ||
			    cfgtree_item_range(cfg->text, cfg->text_len, item,
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
					return cfgload_fail(c, nk->line, "integration '%s': name: "
							    "already used by the integration on "
							    "line %d; give each integration its "
							    "own name", cfg->integrations[i].name,
							    cfg->integrations[j].line);
				}
		}
	}

	if (outputs && !(outputs->kind == NODE_SCALAR && outputs->is_null) &&
	    !(outputs->kind == NODE_SEQ && outputs->nkids == 0)) {
		if (outputs->kind != NODE_SEQ)
			return cfgload_fail(c, outputs->line, "outputs: must be a list; start "
					    "each entry with '- type: ndjson'");
		if (outputs->nkids > 64)
			return cfgload_fail(c, outputs->kids[64]->line, "outputs: more than 64; "
					    "merge them");
		cfg->outputs = mw_xcalloc(outputs->nkids, sizeof(*cfg->outputs));
		for (size_t i = 0; i < outputs->nkids; i++) {
			cfg->noutputs = i + 1;
			if (cfgload_output(c, outputs->kids[i], i, &cfg->outputs[i]) < 0)
				return -1;
			for (size_t j = 0; j < i; j++)
				if (strcmp(cfg->outputs[j].name, cfg->outputs[i].name) == 0)
					return cfgload_fail(c, cfg->outputs[i].line, "output "
							    "#%zu: name: '%s' is already used by "
							    "the output on line %d; give each "
							    "output its own name: key", i + 1,
							    cfg->outputs[i].name,
							    cfg->outputs[j].line);
		}
		if (cfgload_output_dirs(c, outputs) < 0)
			return -1;
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
	if (cfg->pass_through && cfg->outputs_default)
		return cfgload_fail(c, keep_line, "keep_delivered: false with no outputs: "
				    "records would go to the default NDJSON directory alone and "
				    "be deleted from the store; list the outputs that must have "
				    "them under outputs:, or remove the key");
	return 0;
}

int config_parse(const char *path, const char *text, size_t len, struct mw_config *cfg,
		 mw_err *e)
{
	struct node *root = NULL;
	struct cfgload_ctx c;
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
	if (cfgtree_parse(path, cfg->text, len, &root, e) < 0) {
		config_free(cfg);
		return -1;
	}
	c.file = path;
	c.e = e;
	c.cfg = cfg;
	rc = parse_top(&c, root);
	cfgtree_free(root);
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
		    in->client_secret.src == MW_SECRET_INLINE ||
		    in->proxy.password.src == MW_SECRET_INLINE)
			return 1;
	}
	for (size_t i = 0; i < cfg->noutputs; i++)
		if (cfg->outputs[i].token.src == MW_SECRET_INLINE ||
		    cfg->outputs[i].password.src == MW_SECRET_INLINE ||
		    cfg->outputs[i].sasl_password.src == MW_SECRET_INLINE)
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

/* ---- freeing, lookups ---------------------------------------------------- */

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
	cfgproxy_clear(&in->proxy);
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
	free(cfg->metrics_file);
	for (size_t i = 0; i < cfg->noutputs; i++) {
		struct mw_output *o = &cfg->outputs[i];

		free(o->name);
		free(o->dir);
		free(o->group);
		free(o->url);
		free(o->ca_file);
		free(o->hostname);
		free(o->client_cert);
		free(o->client_key);
		free(o->username);
		secret_free(&o->password);
		free(o->index);
		free(o->brokers);
		free(o->topic);
		free(o->security_protocol);
		free(o->sasl_mechanism);
		free(o->sasl_username);
		secret_free(&o->sasl_password);
		secret_free(&o->token);
	}
	free(cfg->outputs);
	free(cfg->path);
	free(cfg->state_dir);
	free(cfg->proxy);
	if (cfg->text) {
		explicit_bzero(cfg->text, cfg->text_len);  /* may hold inline secrets */
		free(cfg->text);
	}
	memset(cfg, 0, sizeof(*cfg));
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
