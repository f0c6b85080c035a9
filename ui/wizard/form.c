/* wizard/form.c - the wizard's form: the fields (which API shows which),
 * each checked as it is typed by the config loader's own check
 * (session_integration_check) so the messages are the loader's, regions
 * and the API switch, where the Client Secret is kept, building the
 * integration that is checked and saved, and the form's keys. Secrets are
 * masked while typed and never drawn again; on edit an empty secret field
 * keeps the saved one. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1  /* explicit_bzero, strdup alongside -std=c11 */
#endif
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "jsonscan.h"
#include "logtypes.h"
#include "session.h"
#include "util.h"
#include "wizard.h"

const struct fdef fdefs[F_COUNT] = {
	[F_NAME] = { "Name", FK_TEXT, 0, "name",
		     "A short name: letters, digits, '.', '_' or '-'. It names the output "
		     "files and is what `mimewatch validate NAME` takes.",
		     "missing; type a name, e.g. acme-eu (letters, digits, '.', '_' or "
		     "'-')" },
	[F_DESC] = { "Description", FK_TEXT, 0, "description",
		     "Optional: a note for people, e.g. the company whose tenant this is." },
	[F_API] = { "API version", FK_CHOICE, 0, "api",
		    "Space or Left/Right switches: API 2.0 takes a Client ID and a Client "
		    "Secret; API 1.0 is for existing keys only." },
	[F_REGION] = { "Region", FK_CHOICE, 0, NULL,
		       "Space or Left/Right picks a region and fills in its base URL." },
	[F_BASE_URL] = { "Base URL", FK_TEXT, 0, "base_url",
			 "The region's API host, e.g. https://eu-api.mimecast.com; pick a "
			 "region above, type it, or find it from an email address below.",
		     "missing; pick a region above, type the URL, or find it from an email "
		     "address below" },
	[F_EMAIL] = { "Find from email", FK_TEXT, 1, NULL,
		      "The service user's email address; Enter asks Mimecast "
		      "(discover-authentication) which region hosts it, as the application above." },
	[F_APP_ID] = { "Application ID", FK_TEXT, 1, "app_id",
		       "From the API 1.0 application (checklist step 4): a GUID.",
		     "missing; paste the Application ID of the API 1.0 application (a GUID "
		     "like 01234567-89ab-cdef-0123-456789abcdef)" },
	[F_APP_KEY] = { "Application Key", FK_TEXT, 1, "app_key",
			"From the API 1.0 application (checklist step 4): a GUID.",
		     "missing; paste the Application Key of the API 1.0 application (a "
		     "GUID like 01234567-89ab-cdef-0123-456789abcdef)" },
	[F_ACCESS] = { "Access Key", FK_TEXT, 1, "access_key",
		       "Created with the service user's login (step 7). Masked; paste it.",
		     "missing; paste the Access Key created with the service user's login" },
	[F_SECRET] = { "Secret Key", FK_TEXT, 1, "secret_key",
		       "Shown once by Mimecast when the keys are created (step 7). Masked; "
		       "paste it.",
		     "missing; paste the Secret Key shown when the keys were created" },
	[F_CLIENT_ID] = { "Client ID", FK_TEXT, 2, "client_id",
			  "From the API 2.0 application (checklist step 3).",
		     "missing; paste the Client ID of the API 2.0 application" },
	[F_CLIENT_SECRET] = { "Client Secret", FK_TEXT, 2, "client_secret",
			      "Shown once by Mimecast (step 3). Masked; paste it.",
		     "missing; paste the Client Secret of the API 2.0 application" },
	[F_SECRET_FORM] = { "Secret kept in", FK_CHOICE, 2, NULL,
			    "Space or Left/Right: the config file itself, a file of its own "
			    "(client_secret_file) or an environment variable (client_secret_env)." },
	[F_SECRET_REF] = { "Secret file", FK_TEXT, 2, NULL,
			   "A file: mimewatch writes the Client Secret typed above into it (mode "
			   "0600), or reads it from there when left empty. A variable: it must be "
			   "set here and for the service." },
	[F_TYPE] = { "Log types", FK_CHECK, 0, "types",
		     "Space ticks or unticks: collect this log type." },
	[F_INTERVAL] = { "Poll interval", FK_TEXT, 0, "interval",
			 "How often to ask for new records, e.g. 5m (at least 10s).",
		     "missing; write a duration, e.g. 5m" },
	[F_LOOKBACK] = { "First-run lookback", FK_TEXT, 0, "lookback",
			 "How far back the first collection reaches, e.g. 24h or 7d.",
		     "missing; write a duration, e.g. 24h" },
	[F_CA] = { "Extra CA file", FK_TEXT, 0, "ca_file",
		   "Optional: a PEM file of an extra CA to trust, e.g. a TLS-inspecting "
		   "proxy's. Leave empty normally." },
	[F_SUBMIT] = { "", FK_BUTTON, 0, NULL,
		       "Enter checks the credentials against Mimecast: one row per log type." },
};

/* ---- small helpers ------------------------------------------------------------ */

/* A remedy names config keys (ca_file, base_url); in the console the
 * person fixes them in this form, so it names the form's fields instead
 * ("Extra CA file"). Only keys with '_': plain words stay words. */
void ui_form_words(const char *in, char *out, size_t n)
{
	const char *start = in;
	size_t o = 0;

	while (*in && o + 1 < n) {
		const char *label = NULL;
		size_t klen = 0;

		if (in == start || !(isalnum((unsigned char)in[-1]) || in[-1] == '_'))
			for (int f = 0; f < F_COUNT && !label; f++) {
				const char *k = fdefs[f].cfg_key;

				klen = k ? strlen(k) : 0;
				if (k && strchr(k, '_') && !strncmp(in, k, klen) &&
				    !isalnum((unsigned char)in[klen]) && in[klen] != '_')
					label = fdefs[f].label;
			}
		if (label) {
			o += (size_t)snprintf(out + o, n - o, "%s", label);
			if (o >= n)
				o = n - 1;
			in += klen;
		} else {
			out[o++] = *in++;
		}
	}
	out[o] = '\0';
}


const char *wiz_fstr(struct ui_field *f)
{
	size_t n = f->len < sizeof(f->buf) ? f->len : sizeof(f->buf) - 1;

	f->buf[n] = '\0';
	return f->buf;
}

void wiz_field_set(struct ui_field *f, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n >= sizeof(f->buf))
		n = sizeof(f->buf) - 1;
	memset(f->buf, 0, sizeof(f->buf));
	if (n)
		memcpy(f->buf, s, n);
	f->len = f->cur = n;
}

/* The field's value without surrounding blanks (pasted keys often carry a
 * trailing space or newline), malloc'd; NULL when empty. */
char *wiz_field_dup(struct ui_field *f)
{
	const char *s = wiz_fstr(f);
	size_t n;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	return n ? mw_xstrndup(s, n) : NULL;
}

int wiz_field_empty(struct ui_field *f)
{
	char *s = wiz_field_dup(f);
	int empty = s == NULL;

	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
	return empty;
}

static void copy_secret(struct mw_secret *dst, const struct mw_secret *src)
{
	dst->value = mw_xstrdup(src->value);
	dst->src = src->src;
	dst->ref = mw_xstrdup(src->ref);
}

void wiz_integ_copy(struct mw_integration *dst, const struct mw_integration *src)
{
	*dst = *src;
	dst->name = mw_xstrdup(src->name);
	dst->description = mw_xstrdup(src->description);
	dst->base_url = mw_xstrdup(src->base_url);
	dst->app_id = mw_xstrdup(src->app_id);
	dst->app_key = mw_xstrdup(src->app_key);
	dst->client_id = mw_xstrdup(src->client_id);
	dst->ca_file = mw_xstrdup(src->ca_file);
	copy_secret(&dst->access_key, &src->access_key);
	copy_secret(&dst->secret_key, &src->secret_key);
	copy_secret(&dst->client_secret, &src->client_secret);
	session_proxy_copy(&dst->proxy, &src->proxy);
}

int wiz_is_enter(wint_t ch, int is_key)
{
	return is_key ? ch == KEY_ENTER : (ch == '\n' || ch == '\r');
}

/* The checklist of the API chosen on its first page. */
size_t wiz_steps_of(const struct wiz *w, const struct wizard_step **st)
{
	return wizard_checklist(w->api, st);
}

/* ---- the form's slots and checks -------------------------------------------------- */

size_t wiz_form_slots(const struct wiz *w, struct slot *out)
{
	size_t n = 0;

	for (int id = 0; id < F_COUNT; id++) {
		const struct fdef *d = &fdefs[id];

		if (d->api && d->api != w->api)
			continue;
		/* a variable's secret is never typed; a file or variable needs its name */
		if ((id == F_CLIENT_SECRET && w->sform == MW_SECRET_ENV) ||
		    (id == F_SECRET_REF && w->sform == MW_SECRET_INLINE))
			continue;
		if (id == F_TYPE) {
			for (size_t i = 0; i < mw_nlogtypes && n < MAX_SLOTS; i++)
				out[n++] = (struct slot){ F_TYPE, (int)i };
			continue;
		}
		if (n < MAX_SLOTS)
			out[n++] = (struct slot){ (enum fid)id, 0 };
	}
	return n;
}

/* Regions of the chosen API version: API 2.0 hosts have codes "v2...". */
int wiz_region_fits(const struct mw_region *r, int api)
{
	return (strncmp(r->code, "v2", 2) == 0) == (api == 2);
}

/* Index of the region whose base URL the field holds, or -1. */
int wiz_region_current(struct wiz *w)
{
	const struct mw_region *rs;
	size_t n = regions_list(&rs);
	char *url = wiz_field_dup(&w->f[F_BASE_URL]);
	int found = -1;

	if (url) {
		size_t l = strlen(url);

		while (l && url[l - 1] == '/')
			url[--l] = '\0';
		for (size_t i = 0; i < n; i++)
			if (wiz_region_fits(&rs[i], w->api) && strcasecmp(rs[i].base_url, url) == 0)
				found = (int)i;
		free(url);
	}
	return found;
}

static void region_step(struct wiz *w, int dir)
{
	const struct mw_region *rs;
	int n = (int)regions_list(&rs), cur = wiz_region_current(w), i = cur;

	for (int tries = 0; tries < n + 1; tries++) {
		i += dir;
		if (i >= n)
			i = -1;
		if (i < -1)
			i = n - 1;
		if (i == -1 || wiz_region_fits(&rs[i], w->api))
			break;
	}
	/* -1 is "other": the URL is typed by hand */
	wiz_field_set(&w->f[F_BASE_URL], i >= 0 ? rs[i].base_url : "");
	w->dirty = 1;
}

void wiz_set_api(struct wiz *w, int api)
{
	int cur;

	if (w->api == api)
		return;
	cur = wiz_region_current(w);
	w->api = api;
	/* the other API's checklist: its pages are not done yet */
	memset(w->ticked + 1, 0, sizeof(w->ticked) - 1);
	/* a host of the other API version is no use: offer this one's default */
	if (cur >= 0 || wiz_field_empty(&w->f[F_BASE_URL]))
		wiz_field_set(&w->f[F_BASE_URL], api == 2 ? V2_DEFAULT_URL : "");
	w->dirty = 1;
}

/* A scratch integration that passes every check, for testing one field
 * through session_integration_check so the messages are the loader's own. */
static void probe_defaults(struct mw_integration *p, int api)
{
	static char name[] = "x", url[] = "https://eu-api.mimecast.com",
		    guid[] = "01234567-89ab-cdef-0123-456789abcdef", key[] = "a",
		    b64[] = "QUFB";

	session_integration_defaults(p);
	p->name = name;
	p->api = api;
	p->base_url = url;
	if (api == 1) {
		p->app_id = p->app_key = guid;
		p->access_key.value = key;
		p->access_key.src = MW_SECRET_INLINE;
		p->secret_key.value = b64;
		p->secret_key.src = MW_SECRET_INLINE;
	} else {
		p->client_id = key;
		p->client_secret.value = key;
		p->client_secret.src = MW_SECRET_INLINE;
	}
}

/* Runs the check and keeps the message after "<key>: ", which is the part
 * that speaks about the field (the loader prefixes the integration). */
static int probe_check(const struct mw_integration *p, const char *key, char *out, size_t n)
{
	char pat[64];
	const char *m;
	mw_err e;

	mw_err_clear(&e);
	if (session_integration_check(p, &e) == 0)
		return 0;
	snprintf(pat, sizeof(pat), ": %s: ", key);
	m = strstr(e.msg, pat);
	mw_strlcpy(out, m ? m + strlen(pat) : e.msg, n);
	return 1;
}

const struct mw_integration *wiz_orig_integration(const struct ui_view *v)
{
	const struct wiz *w = v->priv;

	return w->edit ? session_integration(v->ctx, w->orig_name) : NULL;
}

/* The secret in a file of its own, as the loader reads it (one line, the
 * editor's newline dropped), malloc'd; NULL when unreadable or empty. */
static char *secret_file_read(const char *path)
{
	char *data = NULL;
	size_t len = 0;
	mw_err e;

	mw_err_clear(&e);
	return session_read_secret_file(path, &data, &len, &e) == 0 ? data : NULL;
}

/* A conventional variable name (upper case, digits, _): only such a name is
 * echoed, anything else may be the secret pasted in the wrong field. */
static int env_name_plain(const char *s)
{
	if (!s || !*s || strlen(s) > 64 || (*s >= '0' && *s <= '9'))
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == strlen(s);
}

/* What is wrong with the Client Secret's file or variable, or 0. */
static int secret_ref_error(struct wiz *w, const char *ref, char *out, size_t n)
{
	mw_err e;
	struct stat st;
	char *val;

	if (w->sform == MW_SECRET_ENV) {
		const char *env;

		if (!ref) {
			snprintf(out, n, "missing; type the name of the environment variable that "
				 "holds the Client Secret, e.g. MIMEWATCH_CLIENT_SECRET");
			return 1;
		}
		if (!env_name_plain(ref)) {
			snprintf(out, n, "not a variable name (not shown, in case it is the secret "
				 "itself); use capital letters, digits and _");
			return 1;
		}
		env = getenv(ref);
		if (!env || !*env) {
			snprintf(out, n, "%s is not set in this console's environment; export it "
				 "(the service needs it too) and start the console again, or keep "
				 "the secret in the config or a file", ref);
			return 1;
		}
		return 0;
	}
	if (!ref) {
		snprintf(out, n, "missing; type the absolute path of the file for the Client "
			 "Secret, e.g. /etc/mimewatch/client-secret");
		return 1;
	}
	if (ref[0] != '/' || strlen(ref) >= PATH_MAX) {
		snprintf(out, n, "not an absolute path (not shown, in case it is the secret "
			 "itself); write the path of a file, starting with /");
		return 1;
	}
	if (!wiz_field_empty(&w->f[F_CLIENT_SECRET])) {
		if (stat(ref, &st) == 0 && !S_ISREG(st.st_mode)) {
			snprintf(out, n, "is not a regular file; give the path of a file for the "
				 "Client Secret");
			return 1;
		}
		return 0;  /* written on save */
	}
	mw_err_clear(&e);
	if (mw_check_private_file(ref, "secret file", &e) < 0) {
		snprintf(out, n, "%.600s; or type the Client Secret above: mimewatch writes it there",
			 e.msg);
		return 1;
	}
	val = secret_file_read(ref);
	if (!val) {
		snprintf(out, n, "the file is empty or unreadable; type the Client Secret above: "
			 "mimewatch writes it there");
		return 1;
	}
	explicit_bzero(val, strlen(val));
	free(val);
	return 0;
}

/* The error of one field in words that say the fix, or 0 when it is fine.
 * *warn is set for advice that does not block saving. */
int wiz_field_error(struct ui_view *v, enum fid id, char *out, size_t n, int *warn)
{
	struct wiz *w = v->priv;
	const struct mw_integration *orig = wiz_orig_integration(v);
	struct mw_integration p;
	char *val = NULL;
	int rc = 0;

	*warn = 0;
	out[0] = '\0';
	if (fdefs[id].kind == FK_TEXT)
		val = wiz_field_dup(&w->f[id]);
	probe_defaults(&p, w->api);
	switch (id) {
	case F_NAME:
		if (w->edit)
			break;  /* fixed on edit: shown, not editable */
		p.name = val;
		rc = probe_check(&p, "name", out, n);
		if (!rc && val && session_integration(v->ctx, val)) {
			snprintf(out, n, "'%s' is already used by another integration; give each "
				 "integration its own name", val);
			rc = 1;
		}
		break;
	case F_DESC:
		p.description = val;
		rc = probe_check(&p, "description", out, n);
		break;
	case F_BASE_URL:
		p.base_url = val;
		rc = probe_check(&p, "base_url", out, n);
		if (!rc && val && !regions_known_host(val)) {
			snprintf(out, n, "not a known Mimecast API host: check the region (a wrong "
				 "region fails with invalid signature)");
			*warn = 1;
		}
		break;
	case F_APP_ID:
		p.app_id = val;
		rc = probe_check(&p, "app_id", out, n);
		break;
	case F_APP_KEY:
		p.app_key = val;
		rc = probe_check(&p, "app_key", out, n);
		break;
	case F_ACCESS:
	case F_SECRET:
	case F_CLIENT_SECRET: {
		struct mw_secret *s = id == F_ACCESS ? &p.access_key
				      : id == F_SECRET ? &p.secret_key : &p.client_secret;
		const char *key = fdefs[id].cfg_key;

		/* on edit, empty keeps the saved secret */
		if (!val && orig && orig->api == w->api &&
		    (id != F_CLIENT_SECRET || w->sform == MW_SECRET_INLINE))
			break;
		/* empty: read from its file, which is checked under the path */
		if (!val && id == F_CLIENT_SECRET && w->sform == MW_SECRET_FILE)
			break;
		s->value = val;
		s->src = val ? MW_SECRET_INLINE : MW_SECRET_NONE;
		rc = probe_check(&p, key, out, n);
		break;
	}
	case F_CLIENT_ID:
		p.client_id = val;
		rc = probe_check(&p, "client_id", out, n);
		break;
	case F_SECRET_REF:
		rc = secret_ref_error(w, val, out, n);
		break;
	case F_TYPE:
		if (!w->types) {
			snprintf(out, n, "no log type chosen; tick at least one with Space");
			rc = 1;
		}
		break;
	case F_INTERVAL:
	case F_LOOKBACK: {
		int64_t secs;

		if (!val) {
			rc = 1;
		} else if (mw_parse_duration(val, &secs) < 0) {
			snprintf(out, n, "'%s' is not a duration; write e.g. 30s, 5m, 48h, 30d", val);
			rc = 1;
		} else {
			if (id == F_INTERVAL)
				p.interval = secs;
			else
				p.lookback = secs;
			rc = probe_check(&p, fdefs[id].cfg_key, out, n);
		}
		break;
	}
	case F_CA:
		p.ca_file = val;
		rc = probe_check(&p, "ca_file", out, n);
		break;
	default:
		break;
	}
	/* the form's own words for an empty field: the loader's speak of YAML keys */
	if (rc && !val && fdefs[id].missing)
		snprintf(out, n, "%s", fdefs[id].missing);
	if (val) {
		explicit_bzero(val, strlen(val));
		free(val);
	}
	return rc;
}

/* Whether a field's error is shown yet: GUIDs and everything typed are
 * checked as they are typed; an empty field only once it was left or the
 * form submitted, so a fresh form is not a wall of red. */
int wiz_error_shown(struct ui_view *v, enum fid id)
{
	struct wiz *w = v->priv;

	if (w->submitted || (w->touched & (1u << id)))
		return 1;
	return fdefs[id].kind == FK_TEXT && !wiz_field_empty(&w->f[id]);
}

/* ---- building the integration -------------------------------------------------------- */

static void take_secret(struct mw_secret *dst, struct ui_field *f, const struct mw_secret *keep)
{
	char *v = wiz_field_dup(f);

	if (v) {
		dst->value = v;
		dst->src = MW_SECRET_INLINE;
	} else if (keep && keep->src != MW_SECRET_NONE) {
		copy_secret(dst, keep);
	}
}

void wiz_form_build(struct ui_view *v, struct mw_integration *in)
{
	struct wiz *w = v->priv;
	const struct mw_integration *orig = wiz_orig_integration(v);
	int64_t secs;

	session_integration_defaults(in);
	if (orig) {
		/* what the form does not show is kept as it was */
		in->lag = orig->lag;
		in->overlap = orig->overlap;
		in->page_size = orig->page_size;
		in->line = orig->line;
		in->src_start = orig->src_start;
		in->src_end = orig->src_end;
		session_proxy_copy(&in->proxy, &orig->proxy);
	} else {
		session_proxy_inherit(v->ctx, in);
	}
	in->dirty = 1;
	in->name = w->edit ? mw_xstrdup(w->orig_name) : wiz_field_dup(&w->f[F_NAME]);
	in->description = wiz_field_dup(&w->f[F_DESC]);
	in->api = w->api;
	in->base_url = wiz_field_dup(&w->f[F_BASE_URL]);
	if (in->base_url) {
		size_t l = strlen(in->base_url);

		while (l > 1 && in->base_url[l - 1] == '/')
			in->base_url[--l] = '\0';
	}
	if (w->api == 1) {
		int same = orig && orig->api == 1;

		in->app_id = wiz_field_dup(&w->f[F_APP_ID]);
		in->app_key = wiz_field_dup(&w->f[F_APP_KEY]);
		take_secret(&in->access_key, &w->f[F_ACCESS], same ? &orig->access_key : NULL);
		take_secret(&in->secret_key, &w->f[F_SECRET], same ? &orig->secret_key : NULL);
	} else {
		struct mw_secret *cs = &in->client_secret;
		char *ref = wiz_field_dup(&w->f[F_SECRET_REF]);
		const char *env;

		in->client_id = wiz_field_dup(&w->f[F_CLIENT_ID]);
		w->write_secret = 0;
		switch (w->sform) {
		case MW_SECRET_FILE:
			cs->src = MW_SECRET_FILE;
			cs->ref = ref;
			cs->value = wiz_field_dup(&w->f[F_CLIENT_SECRET]);
			if (cs->value)
				w->write_secret = 1;
			else if (ref)
				cs->value = secret_file_read(ref);
			break;
		case MW_SECRET_ENV:
			cs->src = MW_SECRET_ENV;
			cs->ref = ref;
			env = ref ? getenv(ref) : NULL;
			cs->value = env && *env ? mw_xstrdup(env) : NULL;
			break;
		case MW_SECRET_CREDENTIAL:
			/* the form cannot make one: a systemd credential is kept as it
			 * was, never written into the config */
			free(ref);
			if (orig && orig->api == 2)
				copy_secret(cs, &orig->client_secret);
			break;
		default:
			free(ref);
			cs->value = wiz_field_dup(&w->f[F_CLIENT_SECRET]);
			if (!cs->value && orig && orig->api == 2)
				cs->value = mw_xstrdup(orig->client_secret.value);
			cs->src = cs->value ? MW_SECRET_INLINE : MW_SECRET_NONE;
			break;
		}
	}
	in->types = w->types;
	if (mw_parse_duration(wiz_fstr(&w->f[F_INTERVAL]), &secs) == 0)
		in->interval = secs;
	if (mw_parse_duration(wiz_fstr(&w->f[F_LOOKBACK]), &secs) == 0)
		in->lookback = secs;
	in->ca_file = wiz_field_dup(&w->f[F_CA]);
}



void wiz_focus_move(struct ui_view *v, int delta)
{
	struct wiz *w = v->priv;
	struct slot s[MAX_SLOTS];
	int n = (int)wiz_form_slots(w, s);

	if (w->focus >= 0 && w->focus < n)
		w->touched |= 1u << s[w->focus].id;
	w->focus += delta;
	if (w->focus < 0)
		w->focus = 0;
	if (w->focus >= n)
		w->focus = n - 1;
}


/* The first field after the focused one that still wants its value: a
 * text field left empty whose emptiness is an error (not the optional
 * ones, nor a secret an edit keeps). -1 when none. */
static int next_wanted(struct ui_view *v, const struct slot *s, int n)
{
	struct wiz *w = v->priv;
	char msg[900];
	int warn;

	for (int i = w->focus + 1; i < n; i++)
		if (fdefs[s[i].id].kind == FK_TEXT && wiz_field_empty(&w->f[s[i].id]) &&
		    !(s[i].id == F_NAME && w->edit) &&
		    wiz_field_error(v, s[i].id, msg, sizeof(msg), &warn) && !warn)
			return i;
	return -1;
}

/* Enter on the form accepts the field and moves on to the next one that
 * still wants a value; when none does, it starts the check (which names
 * any field above that is wrong). Optional fields are passed over. */
static void form_enter(struct ui_view *v, const struct slot *s, int n)
{
	struct wiz *w = v->priv;
	int next = fdefs[s[w->focus].id].kind == FK_BUTTON ? -1 : next_wanted(v, s, n);

	if (next < 0) {
		wiz_submit(v);
		return;
	}
	wiz_focus_move(v, next - w->focus);
}

/* ---- a paste of several values ------------------------------------------------------------ */

/* The labels Mimecast's screens (and admins' notes) put before each value;
 * api 0: a field of both APIs (it switches nothing). */
static const struct {
	const char *label;
	enum fid id;
	int api;
} paste_labels[] = {
	{ "client id", F_CLIENT_ID, 2 },
	{ "client secret", F_CLIENT_SECRET, 2 },
	{ "application id", F_APP_ID, 1 },
	{ "app id", F_APP_ID, 1 },
	{ "application key", F_APP_KEY, 1 },
	{ "app key", F_APP_KEY, 1 },
	{ "access key", F_ACCESS, 1 },
	{ "secret key", F_SECRET, 1 },
	{ "base url", F_BASE_URL, 0 },
	{ "extra ca file", F_CA, 0 },
	{ "ca file", F_CA, 0 },
};

/* The four API 1.0 values in the order Mimecast shows them (the
 * application's page, then the keys created for the service user), and
 * API 2.0's two. */
static const enum fid bare_v1[] = { F_APP_ID, F_APP_KEY, F_ACCESS, F_SECRET };
static const enum fid bare_v2[] = { F_CLIENT_ID, F_CLIENT_SECRET };

/* A line's label: the index in paste_labels when the line starts with one
 * (any case, then ':', '=', a tab or spaces, or nothing), with *value the
 * rest; -1 when it names none. */
static int line_label(const char *line, size_t len, const char **value, size_t *vlen)
{
	for (size_t k = 0; k < sizeof(paste_labels) / sizeof(paste_labels[0]); k++) {
		size_t l = strlen(paste_labels[k].label), i = l;

		if (len < l || strncasecmp(line, paste_labels[k].label, l) != 0)
			continue;
		if (i < len && !strchr(" \t:=", line[i]))
			continue;   /* "Client IDs" is no label */
		while (i < len && strchr(" \t:=", line[i]))
			i++;
		*value = line + i;
		*vlen = len - i;
		return (int)k;
	}
	return -1;
}

/* Trims blanks and the quotes a note may keep around a value. */
static void trim_value(const char **p, size_t *n)
{
	while (*n && strchr(" \t\"'", (*p)[0]))
		(*p)++, (*n)--;
	while (*n && strchr(" \t\"'", (*p)[*n - 1]))
		(*n)--;
}

static void set_from(struct wiz *w, enum fid id, const char *p, size_t n)
{
	char buf[sizeof(w->f[0].buf)];

	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	wiz_field_set(&w->f[id], buf);
	explicit_bzero(buf, sizeof(buf));
	w->touched |= 1u << id;
	w->dirty = 1;
}

/* Splits a paste into its non-blank lines, trimmed: how many (at most max). */
static int paste_lines(const char *text, size_t len, const char **line, size_t *llen, int max)
{
	int nl = 0;

	for (size_t i = 0; i < len && nl < max;) {
		size_t j = i;

		while (j < len && text[j] != '\n')
			j++;
		line[nl] = text + i;
		llen[nl] = j - i;
		trim_value(&line[nl], &llen[nl]);
		if (llen[nl])
			nl++;
		i = j + 1;
	}
	return nl;
}

#define PASTE_LINES 16

/* Fills the fields a paste names: "Client ID: ..." and "Client Secret:
 * ..." (or a label on a line of its own, its value on the next), the four
 * API 1.0 values likewise, or the values bare: API 1.0's four or API 2.0's
 * two, in the order Mimecast shows them, for the form's API. A paste that
 * names the other API's values switches the form to it. Returns how many
 * fields it filled, their labels in names; 0 when the paste is one plain
 * value (or nothing it can place). */
static int paste_fields(struct wiz *w, const char *text, size_t len, char *names, size_t nn)
{
	const char *line[PASTE_LINES], *val[PASTE_LINES];
	size_t llen[PASTE_LINES], vlen[PASTE_LINES];
	enum fid ids[PASTE_LINES];
	int nl = paste_lines(text, len, line, llen, PASTE_LINES), nv = 0, api = w->api;

	for (int i = 0; i < nl; i++) {
		const char *v, *next;
		size_t n, nextn;
		int k = line_label(line[i], llen[i], &v, &n);

		if (k < 0)
			continue;
		trim_value(&v, &n);
		if (!n && i + 1 < nl && line_label(line[i + 1], llen[i + 1], &next, &nextn) < 0) {
			v = line[++i];
			n = llen[i];
		}
		if (!n)
			continue;
		ids[nv] = paste_labels[k].id;
		val[nv] = v;
		vlen[nv++] = n;
		if (paste_labels[k].api)
			api = paste_labels[k].api;
	}
	if (!nv && nl == (w->api == 1 ? 4 : 2)) {
		for (int i = 0; i < nl; i++) {
			ids[i] = w->api == 1 ? bare_v1[i] : bare_v2[i];
			val[i] = line[i];
			vlen[i] = llen[i];
		}
		nv = nl;
	}
	if (!nv)
		return 0;
	wiz_set_api(w, api);
	names[0] = '\0';
	for (int i = 0; i < nv; i++) {
		size_t at = strlen(names);

		set_from(w, ids[i], val[i], vlen[i]);
		snprintf(names + at, nn - at, "%s%s", i == 0 ? "" : i + 1 == nv ? " and " : ", ",
			 fdefs[ids[i]].label);
	}
	return nv;
}

void wiz_form_paste(struct ui_view *v, const char *text, size_t len)
{
	struct wiz *w = v->priv;
	struct slot s[MAX_SLOTS];
	char names[256];
	int n;

	if (paste_fields(w, text, len, names, sizeof(names))) {
		/* from a checklist page too: the keys are in hand */
		if (w->page != PAGE_FORM)
			wiz_go_page(v, PAGE_FORM);
		/* the focus goes where a value is still wanted, else the button */
		n = (int)wiz_form_slots(w, s);
		w->focus = -1;
		w->focus = next_wanted(v, s, n);
		if (w->focus < 0)
			w->focus = n - 1;
		ui_message(v->ctx, ROLE_OK, "filled %s from the paste (secrets masked)", names);
		return;
	}
	if (w->page != PAGE_FORM)
		return;     /* a checklist page takes no text */
	/* one value: into the focused field, as typed (a newline is no Enter) */
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t k = js_utf8_decode((const unsigned char *)text + i,
					  (const unsigned char *)text + len, &cp);

		if (cp != '\n')
			wiz_form_input(v, (wint_t)cp, 0);
		i += k ? k : 1;
	}
}

int wiz_form_action(struct ui_view *v, enum ui_action a)
{
	struct wiz *w = v->priv;
	struct slot s[MAX_SLOTS];
	int n = (int)wiz_form_slots(w, s);

	switch (a) {
	case ACT_NEXT_FIELD:
		if (w->focus == n - 1) {
			wiz_focus_move(v, -n);  /* Tab wraps round to the first field */
			return 1;
		}
		wiz_focus_move(v, 1);
		return 1;
	case ACT_PREV_FIELD:
		if (w->focus == 0) {
			wiz_focus_move(v, n);
			return 1;
		}
		wiz_focus_move(v, -1);
		return 1;
	case ACT_DOWN:
		wiz_focus_move(v, 1);
		return 1;
	case ACT_UP:
		wiz_focus_move(v, -1);
		return 1;
	case ACT_PAGE_DOWN:
		wiz_focus_move(v, 5);
		return 1;
	case ACT_PAGE_UP:
		wiz_focus_move(v, -5);
		return 1;
	case ACT_ENTER:
		form_enter(v, s, n);
		return 1;
	case ACT_BACK:
	case ACT_QUIT:
		if (w->first_page == PAGE_FORM || a == ACT_QUIT) {
			wiz_leave(v, 0);
		} else {
			const struct wizard_step *st;

			wiz_go_page(v, (int)wiz_steps_of(w, &st) - 1);
		}
		return 1;
	default:
		return 0;
	}
}


/* Keys that edit a text field rather than move between fields. */
static int editing_key(wint_t ch, int is_key)
{
	if (is_key)
		return ch == KEY_LEFT || ch == KEY_RIGHT || ch == KEY_HOME || ch == KEY_END ||
		       ch == KEY_BACKSPACE || ch == KEY_DC;
	return ch == 127 || ch == 8 || ch == 1 || ch == 5 || ch == 11 || ch == 21 || ch == 23;
}


/* Cycles where the Client Secret is kept: this config, a file, a variable. */
static void secret_form_step(struct wiz *w, int dir)
{
	static const enum mw_secret_src order[3] = { MW_SECRET_INLINE, MW_SECRET_FILE,
						     MW_SECRET_ENV };
	int i = 0;

	while (i < 3 && order[i] != w->sform)
		i++;
	w->sform = order[((i % 3) + dir + 3) % 3];
	/* a path is no variable name, nor the reverse */
	wiz_field_set(&w->f[F_SECRET_REF], "");
	w->dirty = 1;
}


int wiz_form_input(struct ui_view *v, wint_t ch, int is_key)
{
	struct wiz *w = v->priv;
	struct slot s[MAX_SLOTS];
	int n = (int)wiz_form_slots(w, s);
	const struct slot *cur;
	const struct fdef *d;

	if (w->focus < 0 || w->focus >= n)
		return 0;
	cur = &s[w->focus];
	d = &fdefs[cur->id];
	switch (d->kind) {
	case FK_TEXT:
		if (cur->id == F_NAME && w->edit)
			return 0;
		/* Enter on the address asks Mimecast; once the base URL is found
		 * for it, Enter moves on as on any field. */
		if (cur->id == F_EMAIL && wiz_is_enter(ch, is_key) &&
		    !(w->disc_found_for[0] && !strcmp(w->disc_found_for, wiz_fstr(&w->f[F_EMAIL])) &&
		      !wiz_field_empty(&w->f[F_BASE_URL]))) {
			wiz_start_discovery(v);
			return 1;
		}
		if ((!is_key && ch >= 0x20 && ch != 0x7f && !(ch >= 0x80 && ch < 0xa0)) ||
		    editing_key(ch, is_key)) {
			if (ui_field_input(&w->f[cur->id], ch, is_key)) {
				w->dirty = 1;
				return 1;
			}
		}
		return 0;
	case FK_CHOICE:
		if ((!is_key && ch == ' ') || (is_key && (ch == KEY_LEFT || ch == KEY_RIGHT))) {
			int dir = is_key && ch == KEY_LEFT ? -1 : 1;

			if (cur->id == F_API)
				wiz_set_api(w, w->api == 1 ? 2 : 1);
			else if (cur->id == F_SECRET_FORM) {
				secret_form_step(w, dir);
				/* the Client Secret row above may come or go: stay here */
				n = (int)wiz_form_slots(w, s);
				for (int i = 0; i < n; i++)
					if (s[i].id == F_SECRET_FORM)
						w->focus = i;
			} else
				region_step(w, dir);
			return 1;
		}
		return 0;
	case FK_CHECK:
		if (!is_key && ch == ' ') {
			w->types ^= 1u << cur->sub;
			w->touched |= 1u << F_TYPE;
			w->dirty = 1;
			return 1;
		}
		return 0;
	case FK_BUTTON:
		if (!is_key && ch == ' ') {
			wiz_submit(v);
			return 1;
		}
		return 0;
	}
	return 0;
}
