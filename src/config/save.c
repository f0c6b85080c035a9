/* config/save.c - saving a config (see config.h).
 *
 * Owns config_render and config_save: what would not load back is refused;
 * the loaded text is spliced, so integrations that did not change are copied
 * byte for byte with their comments and order, and only changed or new ones
 * are written afresh (scalars quoted where YAML would misread them). A layout
 * the splice cannot handle is written whole from the config instead; the
 * file is replaced atomically, mode 0600. */
#include "private.h"
#include "logtypes.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- writing values ------------------------------------------------------ */

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

/* The entry's own proxy keys (the top level's proxy: stays where it is);
 * the password in the form it came in, as the other secrets. */
static int emit_proxy(mw_buf *b, const struct mw_proxy *p, int indent, int *first,
		      const char *who, mw_err *e)
{
	const struct mw_secret *s = &p->password;
	char key[40];

	if (p->url && emit_kv(b, indent, first, "proxy", *p->url ? p->url : "none", who, e) < 0)
		return -1;
	if (p->user && emit_kv(b, indent, first, "proxy_user", p->user, who, e) < 0)
		return -1;
	snprintf(key, sizeof(key), "proxy_password%s",
		 s->src != MW_SECRET_NONE ? cfgschema_secret_suffix[s->src - MW_SECRET_INLINE] : "");
	if (s->src != MW_SECRET_NONE &&
	    emit_kv(b, indent, first, key, s->src == MW_SECRET_INLINE ? s->value : s->ref, who,
		    e) < 0)
		return -1;
	if (p->ca_file && emit_kv(b, indent, first, "proxy_ca_file", p->ca_file, who, e) < 0)
		return -1;
	return 0;
}

/* One integration as a block-sequence entry whose '-' sits at column indent. */
static int emit_integration(mw_buf *b, const struct mw_integration *in, int indent, mw_err *e)
{
	char who[128], d[32];
	int first = 1;
	static const int dkeys[4] = { K_INTERVAL, K_LOOKBACK, K_LAG, K_OVERLAP };
	struct mw_integration def;

	config_integration_defaults(&def);  /* what need not be written */

	snprintf(who, sizeof(who), "integration '%s'", in->name ? in->name : "");
	if (emit_kv(b, indent, &first, "name", in->name ? in->name : "", who, e) < 0)
		return -1;
	if (in->description && emit_kv(b, indent, &first, "description", in->description,
				       who, e) < 0)
		return -1;
	emit_raw(b, indent, &first, "api", cfgschema_api_name(in->api));
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

		if (cfgschema_secret_base(base) != base)
			continue;
		s = cfgschema_secret_ofc(in, base);
		/* written back in the form it came in: inline, or the reference */
		if (s->src == MW_SECRET_INLINE && s->value) {
			if (emit_kv(b, indent, &first, cfgschema_ikey_names[base], s->value, who,
				    e) < 0)
				return -1;
		} else if (s->src > MW_SECRET_INLINE && s->ref) {
			int k = base + (int)(s->src - MW_SECRET_INLINE);

			if (emit_kv(b, indent, &first, cfgschema_ikey_names[k], s->ref, who, e) < 0)
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
		int64_t v = *cfgschema_duration_of((struct mw_integration *)in, dkeys[i]);

		if (i == 0 || v != *cfgschema_duration_of(&def, dkeys[i])) {
			mw_format_duration(v, d, sizeof(d));
			emit_raw(b, indent, &first, cfgschema_ikey_names[dkeys[i]], d);
		}
	}
	if (in->page_size != def.page_size) {
		snprintf(d, sizeof(d), "%d", in->page_size);
		emit_raw(b, indent, &first, "page_size", d);
	}
	if (in->ca_file && emit_kv(b, indent, &first, "ca_file", in->ca_file, who, e) < 0)
		return -1;
	return emit_proxy(b, &in->proxy, indent, &first, who, e);
}

/* ---- splicing ------------------------------------------------------------ */

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
	if (cfgtree_parse("config", t, len, &root, &ignored) < 0)
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
		size_t at = cfgtree_line_end(t, len, root->end);

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

			if (cfgtree_item_range(t, len, val->kids[i], i ? L->iend[i - 1] : 0,
					       &L->istart[i], &L->iend[i], &ind) < 0)
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
		size_t ks = cfgtree_line_start(t, key->start);

		if (!cfgtree_only_spaces(t, ks, key->start) || key->start != ks)
			goto out;
		L->cut_start = ks;
		/* an empty value's mark lies at the next token: use the key's line */
		L->cut_end = val->kind == NODE_SCALAR ? cfgtree_line_end(t, len, key->end)
						      : cfgtree_line_end(t, len, val->end);
		L->head = "integrations:\n";
		rc = 0;
	}
out:
	cfgtree_free(root);
	if (rc < 0) {
		free(L->istart);
		free(L->iend);
		L->istart = L->iend = NULL;
		L->nitems = 0;
	}
	return rc;
}

/* ---- the file ------------------------------------------------------------ */

/* An output's secret in the form it came (inline, or the key_file, key_env
 * or key_credential that names it); nothing when it has none. */
static int emit_output_secret(mw_buf *b, int *first, const char *base,
			      const struct mw_secret *s, mw_err *e)
{
	char key[40];

	if (s->src == MW_SECRET_NONE)
		return 0;
	if (s->src == MW_SECRET_INLINE)
		return emit_kv(b, 2, first, base, s->value, "output", e);
	snprintf(key, sizeof(key), "%s%s", base, cfgschema_secret_suffix[s->src - MW_SECRET_INLINE]);
	return emit_kv(b, 2, first, key, s->ref, "output", e);
}

/* One output as a block-sequence entry at column 2 (keys that are unset are
 * left out; defaults too). */
static int emit_output(mw_buf *b, const struct mw_output *o, mw_err *e)
{
	static const char *const keys[] = { "dir", "url", "ca_file", "hostname", "index",
					    "brokers", "topic", "security_protocol",
					    "sasl_mechanism", "sasl_username", "client_cert",
					    "client_key" };
	const char *vals[] = { o->dir, o->url, o->ca_file, o->hostname, o->index, o->brokers,
			       o->topic, o->security_protocol, o->sasl_mechanism,
			       o->sasl_username, o->client_cert, o->client_key };
	const char *skey = o->kind == MW_OUT_HEC ? "token" : "api_key";
	char d[32];
	int first = 1;

	emit_raw(b, 2, &first, "type", output_type_name(o->kind));
	if (o->name && strcmp(o->name, output_type_name(o->kind)) != 0 &&
	    emit_kv(b, 2, &first, "name", o->name, "output", e) < 0)
		return -1;
	for (size_t i = 0; i < NELEM(keys); i++)
		if (vals[i] && emit_kv(b, 2, &first, keys[i], vals[i], "output", e) < 0)
			return -1;
	if (emit_output_secret(b, &first, skey, &o->token, e) < 0 ||
	    emit_output_secret(b, &first, "sasl_password", &o->sasl_password, e) < 0 ||
	    (o->username && emit_kv(b, 2, &first, "username", o->username, "output", e) < 0) ||
	    emit_output_secret(b, &first, "password", &o->password, e) < 0)
		return -1;
	if (o->kind != MW_OUT_NDJSON && o->batch && o->batch != DEFAULT_OUT_BATCH) {
		snprintf(d, sizeof(d), "%d", o->batch);
		emit_raw(b, 2, &first, "batch", d);
	}
	if (o->batch_bytes) {
		mw_format_size(o->batch_bytes, d, sizeof(d));
		emit_raw(b, 2, &first, "batch_bytes", d);
	}
	if (o->group && emit_kv(b, 2, &first, "group", o->group, "output", e) < 0)
		return -1;
	if (o->file_mode) {
		snprintf(d, sizeof(d), "%04o", o->file_mode);
		emit_raw(b, 2, &first, "mode", d);
	}
	if (o->keep) {
		mw_format_duration(o->keep, d, sizeof(d));
		emit_raw(b, 2, &first, "keep", d);
	}
	if (o->compress)
		emit_raw(b, 2, &first, "compress", "true");
	if (o->start_now)
		emit_raw(b, 2, &first, "start", "now");
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
	if (cfg->metrics_file) {
		mw_buf_puts(b, "metrics_file: ");
		if (emit_scalar(b, cfg->metrics_file, "metrics_file", e) < 0)
			return -1;
		mw_buf_putc(b, '\n');
	}
	if (cfg->max_store) {
		mw_format_size(cfg->max_store, d, sizeof(d));
		mw_buf_printf(b, "max_store: %s\n", d);
	}
	if (cfg->pass_through)
		mw_buf_puts(b, "keep_delivered: false\n");
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

	if (cfgtree_parse("config", t, len, &root, &ignored) < 0)
		return 0;
	if (root && root->kind == NODE_MAP)
		for (size_t i = 0; i + 1 < root->nkids; i += 2)
			if (root->kids[i]->kind == NODE_SCALAR &&
			    strcmp(root->kids[i]->str, "integrations") == 0) {
				const struct node *v = root->kids[i + 1];

				found = v->kind == NODE_SEQ ? v->nkids
					: v->kind == NODE_SCALAR && v->is_null ? 0 : (size_t)-1;
			}
	cfgtree_free(root);
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

int config_rename_integration(struct mw_config *cfg, const char *from, const char *to,
			      mw_err *e)
{
	struct mw_integration *in = (struct mw_integration *)config_find(cfg, from);
	char *old;

	if (!in) {
		mw_err_set(e, "no integration named '%s' in %s", from,
			   cfg->path ? cfg->path : "the config");
		return -1;
	}
	if (config_find(cfg, to)) {
		mw_err_set(e, "integration '%s': name: used twice; give each integration its "
			      "own name", to);
		return -1;
	}
	old = in->name;
	in->name = mw_xstrdup(to);
	if (config_check_integration(in, e) < 0) {
		free(in->name);
		in->name = old;
		return -1;
	}
	free(old);
	in->dirty = 1;
	return 0;
}

/* ---- saving over a file that changed since it was read ------------------- */

/* The fields of an integration, as the merge compares and copies them. */
enum { MF_DESC, MF_API, MF_BASE, MF_APP_ID, MF_APP_KEY, MF_ACCESS, MF_SECRET, MF_CLIENT_ID,
       MF_CLIENT_SECRET, MF_TYPES, MF_INTERVAL, MF_LOOKBACK, MF_LAG, MF_OVERLAP, MF_PAGE,
       MF_CA, MF_COUNT };
static const char *const mf_names[MF_COUNT] = {
	"description", "api", "base_url", "app_id", "app_key", "access_key", "secret_key",
	"client_id", "client_secret", "types", "interval", "lookback", "lag", "overlap",
	"page_size", "ca_file",
};

static char **mf_str(struct mw_integration *in, int f)
{
	switch (f) {
	case MF_DESC: return &in->description;
	case MF_BASE: return &in->base_url;
	case MF_APP_ID: return &in->app_id;
	case MF_APP_KEY: return &in->app_key;
	case MF_CLIENT_ID: return &in->client_id;
	case MF_CA: return &in->ca_file;
	default: return NULL;
	}
}

static struct mw_secret *mf_secret(struct mw_integration *in, int f)
{
	return f == MF_ACCESS ? &in->access_key : f == MF_SECRET ? &in->secret_key
		: f == MF_CLIENT_SECRET ? &in->client_secret : NULL;
}

static int64_t *mf_i64(struct mw_integration *in, int f)
{
	return f == MF_INTERVAL ? &in->interval : f == MF_LOOKBACK ? &in->lookback
		: f == MF_LAG ? &in->lag : f == MF_OVERLAP ? &in->overlap : NULL;
}

static int field_eq(const struct mw_integration *ca, const struct mw_integration *cb, int f)
{
	struct mw_integration *a = (struct mw_integration *)ca, *b = (struct mw_integration *)cb;
	struct mw_secret *sa = mf_secret(a, f), *sb = mf_secret(b, f);

	if (mf_str(a, f))
		return mw_str_same(*mf_str(a, f), *mf_str(b, f));
	if (sa) {
		if (sa->src != sb->src)
			return 0;
		return sa->src == MW_SECRET_NONE ? 1 : sa->src == MW_SECRET_INLINE
			? mw_str_same(sa->value, sb->value) : mw_str_same(sa->ref, sb->ref);
	}
	if (mf_i64(a, f))
		return *mf_i64(a, f) == *mf_i64(b, f);
	if (f == MF_API)
		return a->api == b->api;
	if (f == MF_TYPES)
		return a->types == b->types;
	return a->page_size == b->page_size;
}

static int integ_eq(const struct mw_integration *a, const struct mw_integration *b)
{
	for (int f = 0; f < MF_COUNT; f++)
		if (!field_eq(a, b, f))
			return 0;
	return 1;
}

/* A field's value as a report shows it: never a secret or a key. */
static void field_show(const struct mw_integration *cin, int f, char *buf, size_t n)
{
	struct mw_integration *in = (struct mw_integration *)cin;
	struct mw_secret *s = mf_secret(in, f);

	if (f == MF_APP_KEY) {
		snprintf(buf, n, "%s", in->app_key ? "(a key)" : "(none)");
	} else if (mf_str(in, f)) {
		snprintf(buf, n, "%s", *mf_str(in, f) ? *mf_str(in, f) : "(none)");
	} else if (s) {
		snprintf(buf, n, "%s%s", s->src == MW_SECRET_NONE ? "(none)"
			 : s->src == MW_SECRET_INLINE ? "(inline)" : s->src == MW_SECRET_FILE
			 ? "file " : s->src == MW_SECRET_ENV ? "env " : "credential ",
			 s->src >= MW_SECRET_FILE && s->ref ? s->ref : "");
	} else if (mf_i64(in, f)) {
		mw_format_duration(*mf_i64(in, f), buf, n);
	} else if (f == MF_API) {
		snprintf(buf, n, "%s", cfgschema_api_name(in->api));
	} else if (f == MF_TYPES) {
		size_t used = 0;

		buf[0] = '\0';
		for (size_t i = 0; i < mw_nlogtypes && i < 32 && used + 1 < n; i++)
			if (in->types & (1u << i))
				used += (size_t)snprintf(buf + used, n - used, "%s%s",
							 used ? "," : "", mw_logtypes[i].name);
	} else {
		snprintf(buf, n, "%d", in->page_size);
	}
}

static void secret_clear(struct mw_secret *s)
{
	if (s->value) {
		explicit_bzero(s->value, strlen(s->value));
		free(s->value);
	}
	free(s->ref);
	memset(s, 0, sizeof(*s));
}

static void field_copy(struct mw_integration *dst, const struct mw_integration *csrc, int f)
{
	struct mw_integration *src = (struct mw_integration *)csrc;
	struct mw_secret *s = mf_secret(dst, f);

	if (mf_str(dst, f)) {
		free(*mf_str(dst, f));
		*mf_str(dst, f) = mw_xstrdup(*mf_str(src, f));
	} else if (s) {
		secret_clear(s);
		s->src = mf_secret(src, f)->src;
		s->value = mw_xstrdup(mf_secret(src, f)->value);
		s->ref = mw_xstrdup(mf_secret(src, f)->ref);
	} else if (mf_i64(dst, f)) {
		*mf_i64(dst, f) = *mf_i64(src, f);
	} else if (f == MF_API) {
		dst->api = src->api;
	} else if (f == MF_TYPES) {
		dst->types = src->types;
	} else {
		dst->page_size = src->page_size;
	}
}

static struct mw_integration *find_mut(const struct mw_config *cfg, const char *name)
{
	return (struct mw_integration *)config_find(cfg, name);
}

static void sep(mw_buf *b, size_t base)
{
	if (b->len > base)
		mw_buf_puts(b, "; ");
}

/* What tells a from b, integration by integration, field by field. */
static void describe(const struct mw_config *a, const struct mw_config *b, mw_buf *out)
{
	char va[160], vb[160];
	size_t base = out->len;

	for (size_t i = 0; i < b->nintegrations; i++)
		if (!config_find(a, b->integrations[i].name)) {
			sep(out, base);
			mw_buf_printf(out, "integration '%s' added", b->integrations[i].name);
		}
	for (size_t i = 0; i < a->nintegrations; i++) {
		const struct mw_integration *ia = &a->integrations[i];
		const struct mw_integration *ib = config_find(b, ia->name);

		if (!ib) {
			sep(out, base);
			mw_buf_printf(out, "integration '%s' deleted", ia->name);
			continue;
		}
		for (int f = 0; f < MF_COUNT; f++)
			if (!field_eq(ia, ib, f)) {
				field_show(ia, f, va, sizeof(va));
				field_show(ib, f, vb, sizeof(vb));
				sep(out, base);
				mw_buf_printf(out, "'%s': %s %s -> %s", ia->name, mf_names[f], va,
					      strcmp(va, vb) ? vb : "(another value)");
			}
	}
	if (out->len == base)
		mw_buf_puts(out, "comments or settings outside the integrations");
}

int config_merge(const struct mw_config *edited, const char *disk, size_t disk_len,
		 mw_buf *out, mw_buf *report, mw_err *e)
{
	struct mw_config orig, fresh;
	mw_buf ours, conflicts;
	char va[160], vb[160];
	int rc = -1;

	memset(&orig, 0, sizeof(orig));
	memset(&fresh, 0, sizeof(fresh));
	if (edited->text && config_parse(edited->path ? edited->path : "config", edited->text,
					 edited->text_len, &orig, e) < 0)
		return -1;
	if (config_parse(edited->path ? edited->path : "config", disk, disk_len, &fresh, e) < 0) {
		char why[sizeof(e->msg)];

		mw_strlcpy(why, e->msg, sizeof(why));
		mw_err_set(e, "the config changed on disk since this console read it and no longer "
			      "loads (%s); nothing saved: fix the file, then edit again", why);
		config_free(&orig);
		return -1;
	}
	mw_buf_init(&ours);
	mw_buf_init(&conflicts);
	mw_buf_puts(report, "the config changed on disk since this console read it: ");
	describe(&orig, &fresh, report);

	/* this console's change, from what it read to what it would write */
	for (size_t i = 0; i < orig.nintegrations; i++) {
		const struct mw_integration *o = &orig.integrations[i];
		const struct mw_integration *ed = config_find(edited, o->name);
		struct mw_integration *fr = find_mut(&fresh, o->name);

		if (!ed) {
			sep(&ours, 0);
			mw_buf_printf(&ours, "'%s' deleted", o->name);
			if (fr && !integ_eq(o, fr)) {
				sep(&conflicts, 0);
				mw_buf_printf(&conflicts, "'%s': deleted here, changed on disk",
					      o->name);
			} else if (fr) {
				size_t k = (size_t)(fr - fresh.integrations);

				config_integration_clear(fr);
				memmove(fr, fr + 1, (fresh.nintegrations - k - 1) * sizeof(*fr));
				fresh.nintegrations--;
			}
			continue;
		}
		for (int f = 0; f < MF_COUNT; f++) {
			if (field_eq(o, ed, f))
				continue;
			field_show(o, f, va, sizeof(va));
			field_show(ed, f, vb, sizeof(vb));
			sep(&ours, 0);
			mw_buf_printf(&ours, "'%s' %s %s -> %s", o->name, mf_names[f], va,
				      strcmp(va, vb) ? vb : "(another value)");
			if (!fr) {
				sep(&conflicts, 0);
				mw_buf_printf(&conflicts, "'%s' %s: changed here, deleted on disk",
					      o->name, mf_names[f]);
			} else if (field_eq(fr, ed, f)) {
				continue;  /* the other edit made the same change */
			} else if (!field_eq(fr, o, f)) {
				field_show(fr, f, va, sizeof(va));
				sep(&conflicts, 0);
				mw_buf_printf(&conflicts, "'%s' %s: yours %s, on disk %s", o->name,
					      mf_names[f], vb, va);
			} else {
				field_copy(fr, ed, f);
				fr->dirty = 1;
			}
		}
	}
	for (size_t i = 0; i < edited->nintegrations; i++) {
		const struct mw_integration *ed = &edited->integrations[i];
		const struct mw_integration *fr = config_find(&fresh, ed->name);
		struct mw_integration *n;

		if (config_find(&orig, ed->name))
			continue;
		sep(&ours, 0);
		mw_buf_printf(&ours, "'%s' added", ed->name);
		if (fr) {
			if (!integ_eq(fr, ed)) {
				sep(&conflicts, 0);
				mw_buf_printf(&conflicts, "'%s': added here and on disk, differently",
					      ed->name);
			}
			continue;
		}
		fresh.integrations = mw_xrealloc(fresh.integrations, (fresh.nintegrations + 1) *
						 sizeof(*fresh.integrations));
		n = &fresh.integrations[fresh.nintegrations++];
		memset(n, 0, sizeof(*n));
		n->name = mw_xstrdup(ed->name);
		for (int f = 0; f < MF_COUNT; f++)
			field_copy(n, ed, f);
		n->dirty = 1;
	}
	if (conflicts.len > 0) {
		mw_buf_printf(report, "; not saved: conflict on %s; edit again", conflicts.data);
		rc = 1;
	} else if (config_render(&fresh, out, e) == 0) {
		mw_buf_printf(report, "; your change (%s) was applied on top",
			      ours.len ? ours.data : "none");
		rc = 0;
	}
	mw_buf_free(&ours);
	mw_buf_free(&conflicts);
	config_free(&orig);
	config_free(&fresh);
	return rc;
}

int config_save_merged(const struct mw_config *cfg, const char *path, mw_buf *report,
		       mw_err *e)
{
	struct stat st;
	char *disk = NULL;
	size_t len = 0;
	mw_buf b;
	int rc;

	if (stat(path, &st) < 0 && errno == ENOENT)
		return config_save(cfg, path, e);
	if (mw_read_file(path, CFG_MAX_BYTES, &disk, &len, e) < 0)
		return -1;
	if (cfg->text ? len == cfg->text_len && memcmp(disk, cfg->text, len) == 0 : len == 0) {
		explicit_bzero(disk, len);
		free(disk);
		return config_save(cfg, path, e);
	}
	mw_buf_init(&b);
	rc = config_merge(cfg, disk, len, &b, report, e);
	if (rc == 0) {
		rc = mw_write_file_atomic(path, b.data ? b.data : "", b.len, e);
		if (rc == 0) {
			mw_buf_puts(report, " and saved");
			rc = 1;
		}
	} else if (rc == 1) {
		rc = 2;
	}
	if (b.data)
		explicit_bzero(b.data, b.len);
	mw_buf_free(&b);
	explicit_bzero(disk, len);
	free(disk);
	return rc;
}
