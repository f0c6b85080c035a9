/* view_wizard.c - the onboarding wizard (design.md, "The onboarding the
 * console walks through"): the Mimecast-side checklist one step a page, the
 * form with every field checked as it is typed, then a live validation in a
 * worker thread, and saving through the config module's atomic writer.
 *
 * Pages: the checklist of the chosen API (only when adding; its first page
 * chooses API 2.0 or, for existing keys only, 1.0), the form, the check. Tab and
 * Shift-Tab move between fields, Enter goes on, Esc goes back a page.
 * Network work (validation, discover-authentication) runs in detached worker
 * threads that share a reference-counted job with the screen, so leaving
 * the screen never waits for Mimecast. Secrets are masked while typed and
 * never drawn again; on edit an empty secret field keeps the saved one. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1  /* explicit_bzero, strdup alongside -std=c11 */
#endif
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ui.h"
#include "ui_main.h"
#include "wizard_steps.h"

#include "config/config.h"
#include "mimecast/mimecast.h"
#include "logtypes.h"
#include "sanitize.h"
#include "store/store.h"
#include "util.h"

#define DISCOVER_DEFAULT "https://api.mimecast.com"
#define V2_DEFAULT_URL "https://api.services.mimecast.com"
#define MAX_SLOTS 32
#define LABEL_COLS 20

/* ---- form fields ------------------------------------------------------------ */

enum fid {
	F_NAME, F_DESC, F_API, F_APP_ID, F_APP_KEY, F_REGION, F_BASE_URL, F_EMAIL, F_CA,
	F_ACCESS, F_SECRET, F_CLIENT_ID, F_CLIENT_SECRET, F_SECRET_FORM, F_SECRET_REF, F_TYPE,
	F_INTERVAL, F_LOOKBACK, F_SUBMIT, F_COUNT
};

enum fkind { FK_TEXT, FK_CHOICE, FK_CHECK, FK_BUTTON };

struct fdef {
	const char *label;
	enum fkind kind;
	int api;                    /* 0 both, or only with API 1 / 2 */
	const char *cfg_key;        /* the config key its checks are reported under */
	const char *hint;
	const char *missing;        /* the error of the field left empty */
};

static const struct fdef fdefs[F_COUNT] = {
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

struct slot {
	enum fid id;
	int sub;                    /* F_TYPE: index in mw_logtypes */
};

/* ---- worker jobs -------------------------------------------------------------- */

enum job_kind { JOB_VALIDATE, JOB_DISCOVER };

/* Shared by the screen and one detached worker thread; whoever lets go last
 * frees it, so the screen can leave while Mimecast is still answering. */
struct job {
	pthread_mutex_t mu;
	int refs;
	int done;
	atomic_int abort;          /* read by the worker, set by the screen */
	enum job_kind kind;
	/* validate */
	struct mw_integration in;
	struct validate_report rep;
	/* discover */
	char *base, *app_id, *email, *ca_file, *found;
	struct mc_result dres;
};

/* ---- screen state ----------------------------------------------------------- */

enum { PAGE_FORM = -1, PAGE_CHECK = -2 };

struct wiz {
	int edit;
	char orig_name[128];
	int orig_api;               /* on edit: the API the integration had */
	int page;                   /* a step index, PAGE_FORM or PAGE_CHECK */
	int first_page;
	unsigned char ticked[32];
	int confirm_leave;
	int dirty;                  /* something typed or changed */
	char title[192];

	struct ui_field f[F_COUNT];
	int api;
	enum mw_secret_src sform;   /* where the Client Secret is kept: inline, file, env */
	int write_secret;           /* the typed Client Secret goes into its file on save */
	unsigned types;
	int focus, top;
	unsigned touched;           /* bit per enum fid */
	int submitted;
	int hide_secret_hint;

	struct job *disc;
	char disc_msg[900];
	enum ui_role disc_role;

	struct mw_integration built;  /* what the check ran on, and what is saved */
	int have_built;
	struct job *val;
	int val_done;
	struct validate_report rep;
	int refused;                /* Enter pressed with no passing type */
};

/* ---- small helpers ------------------------------------------------------------ */

static const char *fstr(struct ui_field *f)
{
	size_t n = f->len < sizeof(f->buf) ? f->len : sizeof(f->buf) - 1;

	f->buf[n] = '\0';
	return f->buf;
}

static void field_set(struct ui_field *f, const char *s)
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
static char *field_dup(struct ui_field *f)
{
	const char *s = fstr(f);
	size_t n;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	return n ? mw_xstrndup(s, n) : NULL;
}

static int field_empty(struct ui_field *f)
{
	char *s = field_dup(f);
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

static void integ_copy(struct mw_integration *dst, const struct mw_integration *src)
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
}

static int is_enter(wint_t ch, int is_key)
{
	return is_key ? ch == KEY_ENTER : (ch == '\n' || ch == '\r');
}

/* The checklist of the API chosen on its first page. */
static size_t steps_of(const struct wiz *w, const struct wizard_step **st)
{
	return wizard_checklist(w->api, st);
}

/* ---- jobs ------------------------------------------------------------------------ */

static void job_release(struct job *j)
{
	int left;

	if (!j)
		return;
	pthread_mutex_lock(&j->mu);
	left = --j->refs;
	pthread_mutex_unlock(&j->mu);
	if (left > 0)
		return;
	config_integration_clear(&j->in);
	free(j->base);
	free(j->app_id);
	free(j->email);
	free(j->ca_file);
	free(j->found);
	pthread_mutex_destroy(&j->mu);
	explicit_bzero(j, sizeof(*j));
	free(j);
}

/* Workers still running: the process must not exit under them (libcrypto
 * tears its tables down at exit while a transfer may still sign). */
static atomic_int workers_running;

void wizard_wait_workers(int64_t wait_ms)
{
	int64_t until = mw_mono_ms() + wait_ms;

	while (atomic_load(&workers_running) > 0 && mw_mono_ms() < until)
		mw_sleep_ms(20);
}

static void *job_main(void *arg)
{
	struct job *j = arg;

	if (j->kind == JOB_VALIDATE) {
		struct validate_report rep;

		validate_integration(&j->in, &rep, &j->abort);
		pthread_mutex_lock(&j->mu);
		j->rep = rep;
		j->done = 1;
		pthread_mutex_unlock(&j->mu);
	} else {
		struct mc_result res;
		char *found = NULL;

		mc_discover(j->base, j->app_id, j->email, j->ca_file, &found, &res);
		pthread_mutex_lock(&j->mu);
		j->dres = res;
		j->found = found;
		j->done = 1;
		pthread_mutex_unlock(&j->mu);
	}
	/* busy drops before the wake-up, so wait-idle sees the result drawn */
	ui_busy(-1);
	ui_wake();
	job_release(j);
	atomic_fetch_sub(&workers_running, 1);
	return NULL;
}

static struct job *job_new(enum job_kind kind)
{
	struct job *j = mw_xcalloc(1, sizeof(*j));

	pthread_mutex_init(&j->mu, NULL);
	j->refs = 2;  /* the screen and the worker */
	j->kind = kind;
	return j;
}

/* Starts the worker; on failure the job is marked done with the reason. */
static void job_start(struct job *j)
{
	pthread_attr_t attr;
	pthread_t th;
	int rc;

	ui_busy(+1);
	atomic_fetch_add(&workers_running, 1);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&th, &attr, job_main, j);
	pthread_attr_destroy(&attr);
	if (rc == 0)
		return;
	ui_busy(-1);
	atomic_fetch_sub(&workers_running, 1);
	j->refs = 1;
	j->done = 1;
	if (j->kind == JOB_VALIDATE) {
		for (size_t i = 0; i < j->rep.nrows; i++) {
			mc_result_init(&j->rep.rows[i].res);
			j->rep.rows[i].res.cls = MC_UNKNOWN;
		}
	} else {
		mc_result_init(&j->dres);
		j->dres.cls = MC_UNKNOWN;
		snprintf(j->dres.remedy, sizeof(j->dres.remedy),
			 "could not start a thread (%s); try again", strerror(rc));
	}
}

static int job_done(struct job *j)
{
	int d;

	pthread_mutex_lock(&j->mu);
	d = j->done;
	pthread_mutex_unlock(&j->mu);
	return d;
}

/* Lets go of a job; when leaving the screen for good (wait_ms > 0) waits a
 * little for the worker, so the process does not tear libcurl down under a
 * transfer that is already aborting. */
static void job_cancel(struct job **jp, int64_t wait_ms)
{
	struct job *j = *jp;

	if (!j)
		return;
	j->abort = 1;
	if (wait_ms > 0) {
		int64_t until = mw_mono_ms() + wait_ms;

		while (!job_done(j) && mw_mono_ms() < until)
			mw_sleep_ms(20);
	}
	job_release(j);
	*jp = NULL;
}

/* ---- the form's slots and checks -------------------------------------------------- */

static size_t form_slots(const struct wiz *w, struct slot *out)
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
static int region_fits(const struct mw_region *r, int api)
{
	return (strncmp(r->code, "v2", 2) == 0) == (api == 2);
}

/* Index of the region whose base URL the field holds, or -1. */
static int region_current(struct wiz *w)
{
	const struct mw_region *rs;
	size_t n = regions_list(&rs);
	char *url = field_dup(&w->f[F_BASE_URL]);
	int found = -1;

	if (url) {
		size_t l = strlen(url);

		while (l && url[l - 1] == '/')
			url[--l] = '\0';
		for (size_t i = 0; i < n; i++)
			if (region_fits(&rs[i], w->api) && strcasecmp(rs[i].base_url, url) == 0)
				found = (int)i;
		free(url);
	}
	return found;
}

static void region_step(struct wiz *w, int dir)
{
	const struct mw_region *rs;
	int n = (int)regions_list(&rs), cur = region_current(w), i = cur;

	for (int tries = 0; tries < n + 1; tries++) {
		i += dir;
		if (i >= n)
			i = -1;
		if (i < -1)
			i = n - 1;
		if (i == -1 || region_fits(&rs[i], w->api))
			break;
	}
	/* -1 is "other": the URL is typed by hand */
	field_set(&w->f[F_BASE_URL], i >= 0 ? rs[i].base_url : "");
	w->dirty = 1;
}

static void set_api(struct wiz *w, int api)
{
	int cur;

	if (w->api == api)
		return;
	cur = region_current(w);
	w->api = api;
	/* the other API's checklist: its pages are not done yet */
	memset(w->ticked + 1, 0, sizeof(w->ticked) - 1);
	/* a host of the other API version is no use: offer this one's default */
	if (cur >= 0 || field_empty(&w->f[F_BASE_URL]))
		field_set(&w->f[F_BASE_URL], api == 2 ? V2_DEFAULT_URL : "");
	w->dirty = 1;
}

/* A scratch integration that passes every check, for testing one field
 * through config_check_integration so the messages are the loader's own. */
static void probe_defaults(struct mw_integration *p, int api)
{
	static char name[] = "x", url[] = "https://eu-api.mimecast.com",
		    guid[] = "01234567-89ab-cdef-0123-456789abcdef", key[] = "a",
		    b64[] = "QUFB";

	config_integration_defaults(p);
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
	if (config_check_integration(p, &e) == 0)
		return 0;
	snprintf(pat, sizeof(pat), ": %s: ", key);
	m = strstr(e.msg, pat);
	mw_strlcpy(out, m ? m + strlen(pat) : e.msg, n);
	return 1;
}

static const struct mw_integration *orig_integration(const struct ui_view *v)
{
	const struct wiz *w = v->priv;

	return w->edit ? config_find(v->ctx->cfg, w->orig_name) : NULL;
}

/* The secret in a file of its own, as the loader reads it (one line, the
 * editor's newline dropped), malloc'd; NULL when unreadable or empty. */
static char *secret_file_read(const char *path)
{
	char *data = NULL;
	size_t len = 0;
	mw_err e;

	mw_err_clear(&e);
	return config_read_secret_text(path, &data, &len, &e) == 0 ? data : NULL;
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
	if (!field_empty(&w->f[F_CLIENT_SECRET])) {
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
static int field_error(struct ui_view *v, enum fid id, char *out, size_t n, int *warn)
{
	struct wiz *w = v->priv;
	const struct mw_integration *orig = orig_integration(v);
	struct mw_integration p;
	char *val = NULL;
	int rc = 0;

	*warn = 0;
	out[0] = '\0';
	if (fdefs[id].kind == FK_TEXT)
		val = field_dup(&w->f[id]);
	probe_defaults(&p, w->api);
	switch (id) {
	case F_NAME:
		if (w->edit)
			break;  /* fixed on edit: shown, not editable */
		p.name = val;
		rc = probe_check(&p, "name", out, n);
		if (!rc && val && v->ctx->cfg && config_find(v->ctx->cfg, val)) {
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
static int error_shown(struct ui_view *v, enum fid id)
{
	struct wiz *w = v->priv;

	if (w->submitted || (w->touched & (1u << id)))
		return 1;
	return fdefs[id].kind == FK_TEXT && !field_empty(&w->f[id]);
}

/* ---- building the integration -------------------------------------------------------- */

static void take_secret(struct mw_secret *dst, struct ui_field *f, const struct mw_secret *keep)
{
	char *v = field_dup(f);

	if (v) {
		dst->value = v;
		dst->src = MW_SECRET_INLINE;
	} else if (keep && keep->src != MW_SECRET_NONE) {
		copy_secret(dst, keep);
	}
}

static void form_build(struct ui_view *v, struct mw_integration *in)
{
	struct wiz *w = v->priv;
	const struct mw_integration *orig = orig_integration(v);
	int64_t secs;

	config_integration_defaults(in);
	if (orig) {
		/* what the form does not show is kept as it was */
		in->lag = orig->lag;
		in->overlap = orig->overlap;
		in->page_size = orig->page_size;
		in->line = orig->line;
		in->src_start = orig->src_start;
		in->src_end = orig->src_end;
	}
	in->dirty = 1;
	in->name = w->edit ? mw_xstrdup(w->orig_name) : field_dup(&w->f[F_NAME]);
	in->description = field_dup(&w->f[F_DESC]);
	in->api = w->api;
	in->base_url = field_dup(&w->f[F_BASE_URL]);
	if (in->base_url) {
		size_t l = strlen(in->base_url);

		while (l > 1 && in->base_url[l - 1] == '/')
			in->base_url[--l] = '\0';
	}
	if (w->api == 1) {
		int same = orig && orig->api == 1;

		in->app_id = field_dup(&w->f[F_APP_ID]);
		in->app_key = field_dup(&w->f[F_APP_KEY]);
		take_secret(&in->access_key, &w->f[F_ACCESS], same ? &orig->access_key : NULL);
		take_secret(&in->secret_key, &w->f[F_SECRET], same ? &orig->secret_key : NULL);
	} else {
		struct mw_secret *cs = &in->client_secret;
		char *ref = field_dup(&w->f[F_SECRET_REF]);
		const char *env;

		in->client_id = field_dup(&w->f[F_CLIENT_ID]);
		w->write_secret = 0;
		switch (w->sform) {
		case MW_SECRET_FILE:
			cs->src = MW_SECRET_FILE;
			cs->ref = ref;
			cs->value = field_dup(&w->f[F_CLIENT_SECRET]);
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
		default:
			free(ref);
			cs->value = field_dup(&w->f[F_CLIENT_SECRET]);
			if (!cs->value && orig && orig->api == 2)
				cs->value = mw_xstrdup(orig->client_secret.value);
			cs->src = cs->value ? MW_SECRET_INLINE : MW_SECRET_NONE;
			break;
		}
	}
	in->types = w->types;
	if (mw_parse_duration(fstr(&w->f[F_INTERVAL]), &secs) == 0)
		in->interval = secs;
	if (mw_parse_duration(fstr(&w->f[F_LOOKBACK]), &secs) == 0)
		in->lookback = secs;
	in->ca_file = field_dup(&w->f[F_CA]);
}

/* ---- page changes -------------------------------------------------------------------- */

static void update_title(struct ui_view *v)
{
	struct wiz *w = v->priv;
	const char *what = w->edit ? "Edit integration" : "New integration";
	const struct wizard_step *st;
	size_t nsteps = steps_of(w, &st);

	if (w->page >= 0)
		snprintf(w->title, sizeof(w->title), "%s: Mimecast setup, step %d of %zu", what,
			 w->page + 1, nsteps);
	else if (w->page == PAGE_FORM)
		snprintf(w->title, sizeof(w->title), "%s: details", what);
	else
		snprintf(w->title, sizeof(w->title), "%s: check", what);
	if (w->edit) {
		size_t l = strlen(w->title);

		snprintf(w->title + l, sizeof(w->title) - l, " (%s)", w->orig_name);
	}
}

static void go_page(struct ui_view *v, int page)
{
	struct wiz *w = v->priv;

	w->page = page;
	w->confirm_leave = 0;
	update_title(v);
}

static void leave(struct ui_view *v, int force)
{
	struct wiz *w = v->priv;

	if (w->dirty && !force) {
		w->confirm_leave = 1;
		ui_message(v->ctx, ROLE_WARNING, "Leave the wizard and lose what you typed? "
			   "y leaves, any other key stays");
		return;
	}
	ui_pop(v->ctx);
}

static void focus_move(struct ui_view *v, int delta)
{
	struct wiz *w = v->priv;
	struct slot s[MAX_SLOTS];
	int n = (int)form_slots(w, s);

	if (w->focus >= 0 && w->focus < n)
		w->touched |= 1u << s[w->focus].id;
	w->focus += delta;
	if (w->focus < 0)
		w->focus = 0;
	if (w->focus >= n)
		w->focus = n - 1;
}

static void start_discovery(struct ui_view *v)
{
	struct wiz *w = v->priv;
	const char *env = getenv("MIMEWATCH_DISCOVER_URL");
	char *email = field_dup(&w->f[F_EMAIL]);
	struct job *j;

	if (!email || !strchr(email, '@')) {
		snprintf(w->disc_msg, sizeof(w->disc_msg), "type the service user's email address "
			 "(name@company.example), then press Enter");
		w->disc_role = ROLE_ERROR;
		free(email);
		return;
	}
	if (!mw_is_guid(fstr(&w->f[F_APP_ID]))) {
		/* the lookup is made in the name of the API application */
		snprintf(w->disc_msg, sizeof(w->disc_msg), "the lookup needs the Application ID: "
			 "fill it in above first");
		w->disc_role = ROLE_ERROR;
		free(email);
		return;
	}
	job_cancel(&w->disc, 0);
	j = job_new(JOB_DISCOVER);
	j->base = mw_xstrdup(env && *env ? env : DISCOVER_DEFAULT);
	j->app_id = field_dup(&w->f[F_APP_ID]);
	j->email = email;
	j->ca_file = field_dup(&w->f[F_CA]);
	snprintf(w->disc_msg, sizeof(w->disc_msg), "asking Mimecast which region hosts %s ...",
		 email);
	w->disc_role = ROLE_MUTED;
	w->disc = j;
	job_start(j);
}

static void start_validation(struct ui_view *v)
{
	struct wiz *w = v->priv;
	struct job *j;

	job_cancel(&w->val, 0);
	j = job_new(JOB_VALIDATE);
	integ_copy(&j->in, &w->built);
	w->val = j;
	w->val_done = 0;
	w->refused = 0;
	memset(&w->rep, 0, sizeof(w->rep));
	go_page(v, PAGE_CHECK);
	job_start(j);
}

/* Enter on the form: every field must pass before the check starts. */
static void submit(struct ui_view *v)
{
	struct wiz *w = v->priv;
	struct slot s[MAX_SLOTS];
	int n = (int)form_slots(w, s), bad = -1, nbad = 0;
	char msg[900];

	w->submitted = 1;
	for (int i = 0; i < n; i++) {
		int warn;

		if ((s[i].id == F_TYPE && s[i].sub > 0) || !field_error(v, s[i].id, msg,
								       sizeof(msg), &warn) || warn)
			continue;
		nbad++;
		if (bad < 0)
			bad = i;
	}
	if (nbad) {
		w->focus = bad;
		ui_message(v->ctx, ROLE_ERROR, "%d field%s to fix first: the reason is shown under "
			   "each", nbad, nbad == 1 ? "" : "s");
		return;
	}
	if (w->have_built)
		config_integration_clear(&w->built);
	form_build(v, &w->built);
	w->have_built = 1;
	start_validation(v);
}

/* Picks up finished jobs (called before drawing and on every wake-up). */
static void poll_jobs(struct ui_view *v)
{
	struct wiz *w = v->priv;

	if (w->disc && job_done(w->disc)) {
		struct job *j = w->disc;

		pthread_mutex_lock(&j->mu);
		if (j->found) {
			field_set(&w->f[F_BASE_URL], j->found);
			snprintf(w->disc_msg, sizeof(w->disc_msg), "found %s for %s", j->found,
				 j->email);
			w->disc_role = ROLE_OK;
			w->dirty = 1;
		} else {
			const char *why = j->dres.remedy[0] ? j->dres.remedy : j->dres.message;

			if (j->dres.http_status)
				snprintf(w->disc_msg, sizeof(w->disc_msg), "%s, HTTP %ld: %s",
					 mc_class_name(j->dres.cls), j->dres.http_status, why);
			else
				snprintf(w->disc_msg, sizeof(w->disc_msg), "%s: %s",
					 mc_class_name(j->dres.cls), why);
			w->disc_role = ROLE_ERROR;
		}
		pthread_mutex_unlock(&j->mu);
		job_release(j);
		w->disc = NULL;
	}
	if (w->val && job_done(w->val)) {
		struct job *j = w->val;

		pthread_mutex_lock(&j->mu);
		w->rep = j->rep;
		pthread_mutex_unlock(&j->mu);
		job_release(j);
		w->val = NULL;
		w->val_done = 1;
	}
}

/* ---- saving ---------------------------------------------------------------------------- */

static int ensure_parent_dir(const char *path, mw_err *e)
{
	char dir[PATH_MAX];
	char *slash;
	struct stat st;

	mw_strlcpy(dir, path, sizeof(dir));
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (stat(dir, &st) == 0)
		return 0;
	return mw_mkdir_p(dir, e);
}

/* The typed Client Secret into the file the config is to name: 0600,
 * atomically, its directory made 0700 when missing. */
static int write_secret_file(const struct mw_secret *s, mw_err *e)
{
	size_t len = strlen(s->value);
	char *data = mw_xcalloc(1, len + 2);
	int rc;

	memcpy(data, s->value, len);
	data[len] = '\n';
	rc = ensure_parent_dir(s->ref, e);
	if (rc == 0)
		rc = mw_write_file_atomic(s->ref, data, len + 1, e);
	explicit_bzero(data, len + 1);
	free(data);
	if (rc < 0) {
		char why[sizeof(e->msg)];

		mw_strlcpy(why, e->msg, sizeof(why));
		mw_err_set(e, "the Client Secret could not be written to its file: %s", why);
	}
	return rc;
}

static void save(struct ui_view *v, int anyway)
{
	struct wiz *w = v->priv;
	struct ui_ctx *ctx = v->ctx;
	struct mw_config ncfg, *loaded;
	struct mw_integration *arr;
	char state_dir[PATH_MAX];
	const char *path = ctx->config_path;
	size_t n = 0, idx;
	int64_t req = 0;
	mw_err e;
	int rc;

	if (!path[0]) {
		config_default_path(ctx->config_path, sizeof(ctx->config_path));
		path = ctx->config_path;
	}
	mw_err_clear(&e);
	if (ctx->cfg) {
		/* a shallow copy: the other entries are written from ctx->cfg as they are */
		ncfg = *ctx->cfg;
		n = ncfg.nintegrations;
		arr = mw_xcalloc(n + 1, sizeof(*arr));
		if (n)
			memcpy(arr, ctx->cfg->integrations, n * sizeof(*arr));
		for (idx = 0; idx < n; idx++)
			if (w->edit && arr[idx].name && strcmp(arr[idx].name, w->orig_name) == 0)
				break;
	} else {
		memset(&ncfg, 0, sizeof(ncfg));
		config_default_state_dir(state_dir, sizeof(state_dir));
		ncfg.state_dir = state_dir;
		ncfg.outputs_default = 1;
		arr = mw_xcalloc(1, sizeof(*arr));
		idx = 0;
	}
	arr[idx] = w->built;
	if (idx == n)
		n++;
	ncfg.path = (char *)path;
	ncfg.integrations = arr;
	ncfg.nintegrations = n;
	rc = ensure_parent_dir(path, &e);
	if (rc == 0 && w->write_secret && w->built.client_secret.src == MW_SECRET_FILE)
		rc = write_secret_file(&w->built.client_secret, &e);
	if (rc == 0)
		rc = config_save(&ncfg, path, &e);
	free(arr);
	if (rc < 0) {
		ui_message(ctx, ROLE_ERROR, "not saved: %s", e.msg);
		return;
	}
	/* a running collector (ours or a `mimewatch run`) picks the change up */
	if (ctx->store && ui_request(ctx, "", "", MW_REQ_RELOAD, "", &req, &e) < 0)
		ui_message(ctx, ROLE_WARNING, "saved, but the collector was not told: %s", e.msg);
	loaded = mw_xcalloc(1, sizeof(*loaded));
	if (config_load(path, loaded, &e) != 0) {
		free(loaded);
		ui_message(ctx, ROLE_ERROR, "saved %s, but reading it back failed: %s", path, e.msg);
		return;
	}
	/* the in-process collector runs on its own copy (ui_start_collector),
	 * so the screens' config can be swapped at once */
	if (ctx->cfg) {
		config_free(ctx->cfg);
		free(ctx->cfg);
	}
	ctx->cfg = loaded;
	if (anyway)
		ui_message(ctx, ROLE_WARNING, "Saved '%s' anyway, but no log type passed the check: "
			   "it will not collect until that is fixed (t shows the advice)", w->built.name);
	else if (w->edit && w->orig_api != w->built.api)
		ui_message(ctx, ROLE_OK, "Saved '%s', now on API %s: its cursors and stored "
			   "records are kept", w->built.name, w->built.api == 2 ? "2.0" : "1.0");
	else
		ui_message(ctx, ROLE_OK, "Saved '%s' to %s", w->built.name, path);
	if (!ctx->col && !ctx->attached)
		ui_start_collector(ctx);
	ui_pop(ctx);
}

/* ---- drawing ----------------------------------------------------------------------------- */

static int puts_role(int y, int x, int max_cols, enum ui_role role, const char *s)
{
	return ui_text(y, x, max_cols, role, s, strlen(s));
}

static void clear_body(int y0, int x0, int height, int width)
{
	for (int y = y0; y < y0 + height; y++)
		mvhline(y, x0, ' ', width);
}

/* The next line of sanitised text p..end wrapped at spaces to width
 * columns: 0 at the end, else 1 with the line in line and len, p moved on.
 * A word wider than the line is taken alone (ui_text cuts it). */
static int wrap_next(const char **p, const char *end, int width, const char **line, size_t *len)
{
	const char *s = *p, *e;

	while (s < end && *s == ' ')
		s++;
	if (s >= end)
		return 0;
	e = s;
	while (e < end && *e != ' ')
		e++;  /* the first word, whatever its width */
	for (;;) {
		const char *we = e;

		while (we < end && *we == ' ')
			we++;
		if (we >= end)
			break;
		while (we < end && *we != ' ')
			we++;
		if (sanitize_width(s, (size_t)(we - s)) > width)
			break;
		e = we;
	}
	*line = s;
	*len = (size_t)(e - s);
	*p = e;
	return 1;
}

/* Draws text wrapped at spaces to width columns, at most maxrows rows;
 * returns the rows used. The text is sanitised first, so wrapping counts
 * the display columns of what is drawn. */
static int draw_wrapped(int y, int x, int width, int maxrows, enum ui_role role, const char *s)
{
	mw_buf b;
	const char *p, *end, *line;
	size_t len;
	int rows = 0;

	if (width < 1 || maxrows < 1)
		return 0;
	mw_buf_init(&b);
	sanitize_display(&b, s, strlen(s), -1, ui_ascii);
	p = b.data ? b.data : "";
	end = p + b.len;
	while (rows < maxrows && wrap_next(&p, end, width, &line, &len))
		ui_text(y + rows++, x, width, role, line, len);
	mw_buf_free(&b);
	return rows;
}

static int wrapped_rows(int width, const char *s)
{
	mw_buf b;
	const char *p, *end, *line;
	size_t len;
	int rows = 0;

	if (width < 1)
		return 1;
	mw_buf_init(&b);
	sanitize_display(&b, s, strlen(s), -1, ui_ascii);
	p = b.data ? b.data : "";
	end = p + b.len;
	while (wrap_next(&p, end, width, &line, &len))
		rows++;
	mw_buf_free(&b);
	return rows ? rows : 1;
}

static void draw_step(struct ui_view *v, int y0, int x0, int height, int width)
{
	struct wiz *w = v->priv;
	const struct wizard_step *steps, *st;
	size_t nsteps = steps_of(w, &steps);
	int y = y0, limit = y0 + height - 2, x = x0 + 1, tw = width - 2;
	char buf[1024];

	if (w->page >= (int)nsteps)
		w->page = (int)nsteps - 1;
	st = &steps[w->page];
	ui_textf(y++, x, tw, ROLE_HEADING, "Mimecast setup, step %d of %zu: %s", w->page + 1,
		 nsteps, st->title);
	{
		int cx = x;

		for (size_t i = 0; i < nsteps && cx < x + tw; i++) {
			enum ui_role r = (int)i == w->page ? ROLE_KEY : w->ticked[i] ? ROLE_OK
										   : ROLE_MUTED;

			cx += ui_textf(y, cx, x + tw - cx, r, "[%c] %zu %s  ",
				       w->ticked[i] ? 'x' : ' ', i + 1, steps[i].short_name);
		}
		y++;
	}
	if (st->where)
		y++;
	if (st->where && y < limit) {
		int used = puts_role(y, x, tw, ROLE_KEY, "Where: ");

		y += draw_wrapped(y, x + used, tw - used, limit - y, ROLE_NORMAL, st->where);
	}
	for (int i = 0; st->before && st->before[i] && y < limit; i++) {
		y++;
		y += draw_wrapped(y, x, tw, limit - y, ROLE_NORMAL, st->before[i]);
	}
	if (st->extra != WIZARD_EXTRA_NONE && y < limit)
		y++;
	switch (st->extra) {
	case WIZARD_EXTRA_API_CHOICE:
		ui_textf(y++, x + 2, tw - 2, w->api == 2 ? ROLE_SELECTION : ROLE_NORMAL,
			 "(%c) API 2.0: a new integration (Client ID and Client Secret)",
			 w->api == 2 ? '*' : ' ');
		ui_textf(y++, x + 2, tw - 2, w->api == 1 ? ROLE_SELECTION : ROLE_NORMAL,
			 "(%c) API 1.0: existing keys only", w->api == 1 ? '*' : ' ');
		if (y < limit)
			puts_role(y++, x + 2, tw - 2, ROLE_MUTED, "Up/Down or Left/Right chooses");
		break;
	case WIZARD_EXTRA_REGIONS: {
		const struct mw_region *rs;
		size_t n = regions_list(&rs);

		for (size_t i = 0; i < n && y < limit; i++)
			if (region_fits(&rs[i], w->api))
				ui_textf(y++, x + 2, tw - 2, ROLE_NORMAL, "%-6s %-38s %s",
					 rs[i].code, rs[i].base_url, rs[i].name);
		break;
	}
	case WIZARD_EXTRA_PERMISSIONS:
		for (size_t i = 0; i < mw_nlogtypes && y < limit; i++)
			ui_textf(y++, x + 2, tw - 2, ROLE_KEY, "%s", mw_logtypes[i].permission);
		break;
	case WIZARD_EXTRA_ADDRESSES:
		wizard_host_addresses(buf, sizeof(buf));
		y += draw_wrapped(y, x + 2, tw - 2, limit - y, ROLE_KEY, buf);
		break;
	default:
		break;
	}
	for (int i = 0; st->after && st->after[i] && y < limit; i++) {
		y++;
		y += draw_wrapped(y, x, tw, limit - y, ROLE_NORMAL, st->after[i]);
	}
	y = y0 + height - 1;
	{
		int used = ui_textf(y, x, tw, w->ticked[w->page] ? ROLE_OK : ROLE_NORMAL,
				    "[%c] I've done this", w->ticked[w->page] ? 'x' : ' ');

		puts_role(y, x + used, tw - used, ROLE_MUTED,
			"   Space: tick it and go on   Enter: next page   Esc: back");
	}
}

/* The text of a non-text field. */
static void slot_value(struct wiz *w, const struct slot *s, char *buf, size_t n)
{
	const struct mw_region *rs;

	switch (s->id) {
	case F_API:
		snprintf(buf, n, "(%c) API 2.0 (Client ID and Secret)   (%c) API 1.0 (existing keys "
			 "only)", w->api == 2 ? '*' : ' ', w->api == 1 ? '*' : ' ');
		break;
	case F_SECRET_FORM:
		snprintf(buf, n, "< %s >", w->sform == MW_SECRET_FILE ? "a file of its own (mode 0600)"
			 : w->sform == MW_SECRET_ENV ? "an environment variable"
			 : "this config file");
		break;
	case F_REGION: {
		int cur = region_current(w);

		regions_list(&rs);
		if (cur >= 0)
			snprintf(buf, n, "< %s: %s >", rs[cur].code, rs[cur].name);
		else
			snprintf(buf, n, "< other: type the base URL below >");
		break;
	}
	case F_TYPE: {
		const struct mw_logtype *lt = &mw_logtypes[s->sub];

		snprintf(buf, n, "[%c] %s (%s)", (w->types & (1u << s->sub)) ? 'x' : ' ',
			 lt->label, lt->name);
		break;
	}
	case F_SUBMIT:
		snprintf(buf, n, "[ Check and save ]");
		break;
	default:
		buf[0] = '\0';
	}
}

/* The note under a slot: its error, or the discovery outcome. */
static int slot_note(struct ui_view *v, const struct slot *s, char *buf, size_t n,
		     enum ui_role *role)
{
	struct wiz *w = v->priv;
	int warn;

	if (s->id == F_EMAIL) {
		if (!w->disc_msg[0])
			return 0;
		snprintf(buf, n, "%s", w->disc_msg);
		*role = w->disc_role;
		return 1;
	}
	if (s->id == F_TYPE && s->sub != (int)mw_nlogtypes - 1)
		return 0;  /* the types' note goes under the last of them */
	if (!error_shown(v, s->id) || !field_error(v, s->id, buf, n, &warn))
		return 0;
	*role = warn ? ROLE_WARNING : ROLE_ERROR;
	return 1;
}

/* What an empty secret field stands for: the saved secret (only one of the
 * same API), or the file named below it. */
static void placeholder(const struct wiz *w, const struct mw_integration *orig, enum fid id,
			int y, int x, int cols)
{
	if (id == F_CLIENT_SECRET && w->sform == MW_SECRET_FILE)
		puts_role(y, x, cols, ROLE_MUTED, "(empty: read from the file below)");
	else if (orig && orig->api == w->api &&
		 (id == F_ACCESS || id == F_SECRET || id == F_CLIENT_SECRET))
		puts_role(y, x, cols, ROLE_MUTED, "(saved; type to replace)");
}

static void draw_form(struct ui_view *v, int y0, int x0, int height, int width)
{
	struct wiz *w = v->priv;
	struct slot s[MAX_SLOTS];
	int n = (int)form_slots(w, s), rows[MAX_SLOTS];
	int lw = width >= 80 ? LABEL_COLS : width / 4, fx = x0 + 1 + lw + 2;
	int fw = width - (fx - x0) - 1, avail = height - 4, y;
	char note[900], val[256];
	enum ui_role nrole;
	const struct mw_integration *orig = orig_integration(v);

	if (fw > 72)
		fw = 72;
	if (w->focus >= n)
		w->focus = n - 1;
	for (int i = 0; i < n; i++)
		rows[i] = 1 + (slot_note(v, &s[i], note, sizeof(note), &nrole)
			       ? (wrapped_rows(width - (fx - x0) - 3, note) > 3
				  ? 3 : wrapped_rows(width - (fx - x0) - 3, note)) : 0);
	if (w->focus < w->top)
		w->top = w->focus;
	for (;;) {
		int sum = 0;

		for (int i = w->top; i <= w->focus; i++)
			sum += rows[i];
		if (sum <= avail || w->top >= w->focus)
			break;
		w->top++;
	}
	/* no blank rows at the bottom while fields above are hidden (a resize) */
	for (;;) {
		int sum = 0;

		for (int i = w->top - 1; i >= 0 && i < n; i++)
			sum += rows[i];
		if (w->top == 0 || sum > avail)
			break;
		w->top--;
	}
	if (w->edit && orig && orig->api != w->api)
		ui_textf(y0, x0 + 1, width - 2, ROLE_HEADING, "Switching to API %s: same name, "
			 "cursors and stored records; the API %s credentials go on save",
			 w->api == 2 ? "2.0" : "1.0", orig->api == 2 ? "2.0" : "1.0");
	else
		ui_textf(y0, x0 + 1, width - 2, ROLE_HEADING, "%s", w->edit
			 ? "Change what you need; empty secret fields keep the saved ones"
			 : "Integration details: Tab and Shift-Tab move, Enter checks and saves");
	y = y0 + 2;
	for (int i = w->top; i < n && y < y0 + 2 + avail; i++) {
		const struct fdef *d = &fdefs[s[i].id];
		int focused = i == w->focus;
		const char *label = d->label;

		if (s[i].id == F_TYPE && s[i].sub > 0)
			label = "";
		if (s[i].id == F_SECRET_REF && w->sform == MW_SECRET_ENV)
			label = "Variable name";
		ui_text(y, x0 + 1, lw, focused ? ROLE_KEY : ROLE_NORMAL, label, strlen(label));
		if (d->kind == FK_TEXT) {
			if (s[i].id == F_NAME && w->edit) {
				ui_textf(y, fx, fw, ROLE_NORMAL, "%s  (fixed: add a new integration "
					 "to use another name)", w->orig_name);
			} else {
				ui_field_draw(&w->f[s[i].id], y, fx, fw, focused);
				/* the field's own placeholder when empty */
				if (w->f[s[i].id].len == 0 && !focused)
					placeholder(w, orig, s[i].id, y, fx, fw);
			}
		} else {
			slot_value(w, &s[i], val, sizeof(val));
			ui_text(y, fx, fw, focused ? ROLE_SELECTION : ROLE_NORMAL, val, strlen(val));
		}
		y++;
		if (rows[i] > 1 && slot_note(v, &s[i], note, sizeof(note), &nrole))
			y += draw_wrapped(y, fx + 2, width - (fx - x0) - 3,
					  rows[i] - 1 < y0 + 2 + avail - y ? rows[i] - 1
									   : y0 + 2 + avail - y,
					  nrole, note);
	}
	/* the focused field's hint, always in the same place */
	if (w->focus >= 0 && w->focus < n)
		puts_role(y0 + height - 1, x0 + 1, width - 2, ROLE_MUTED, fdefs[s[w->focus].id].hint);
}

static void draw_check(struct ui_view *v, int y0, int x0, int height, int width)
{
	struct wiz *w = v->priv;
	const struct mw_integration *in = &w->built;
	int y = y0, x = x0 + 1, tw = width - 2, limit = y0 + height - 3, lw = 26;
	const struct validate_report *rep = &w->rep;

	ui_textf(y++, x, tw, ROLE_HEADING, "Checking '%s' against %s", in->name ? in->name : "",
		 in->base_url ? in->base_url : "");
	y++;
	if (!w->val_done) {
		puts_role(y++, x, tw, ROLE_MUTED, "asking Mimecast: credentials first, then one "
			"request per log type ... (Esc stops)");
		return;
	}
	if (rep->account_ok)
		ui_textf(y++, x, tw, ROLE_NORMAL, "Account: %s (%s)", rep->account_name,
			 rep->account_code);
	else
		ui_textf(y++, x, tw, ROLE_MUTED, "Account: not shown (get-account: %s; "
			 "collecting does not need it)", mc_class_name(rep->account_res.cls));
	y++;
	for (size_t i = 0; i < rep->nrows && y < limit; i++) {
		const struct validate_row *row = &rep->rows[i];
		const struct mc_result *r = &row->res;
		int ok = r->cls == MC_OK, used;

		used = ui_textf(y, x, tw, ok ? ROLE_OK : ROLE_ERROR, "%-4s",
				ok ? ui_mark_ok() : ui_mark_bad());
		used += ui_textf(y, x + used, tw - used, ROLE_NORMAL, " %-*s", lw,
				 row->lt ? row->lt->label : "");
		if (ok) {
			puts_role(y++, x + used, tw - used, ROLE_OK, "ok");
			continue;
		}
		{
			char head[256];
			int hl = snprintf(head, sizeof(head), "%s", mc_class_name(r->cls));

			if (r->http_status && hl < (int)sizeof(head))
				hl += snprintf(head + hl, sizeof(head) - (size_t)hl, "  HTTP %ld",
					       r->http_status);
			if (r->code[0] && hl < (int)sizeof(head))
				snprintf(head + hl, sizeof(head) - (size_t)hl, "  %s", r->code);
			ui_text(y++, x + used, tw - used, ROLE_ERROR, head, strlen(head));
		}
		if (r->message[0] && y < limit)
			y += draw_wrapped(y, x + 6, tw - 6, limit - y > 2 ? 2 : limit - y,
					  ROLE_MUTED, r->message);
		if (r->remedy[0] && y < limit) {
			int u = puts_role(y, x + 6, tw - 6, ROLE_KEY, "Fix: ");

			y += draw_wrapped(y, x + 6 + u, tw - 6 - u, limit - y > 3 ? 3 : limit - y,
					  ROLE_NORMAL, r->remedy);
		}
	}
	y = y0 + height - 2;
	if (rep->ok_types > 0) {
		ui_textf(y, x, tw, ROLE_OK, "%d of %zu log types passed. Enter saves the "
			 "integration.", rep->ok_types, rep->nrows);
		puts_role(y + 1, x, tw, ROLE_MUTED, "Esc: back to the form   r: check again");
	} else {
		puts_role(y, x, tw, ROLE_WARNING, w->refused
			  ? "Not saved: no log type passed the check, so nothing would be collected."
			  : "No log type passed the check: saving now would collect nothing.");
		puts_role(y + 1, x, tw, ROLE_MUTED,
			"Esc: back to the form to fix it   r: check again   s: save anyway");
	}
}

/* ---- ops --------------------------------------------------------------------------------- */

static void fill_from(struct wiz *w, const struct mw_integration *in)
{
	char d[32];

	field_set(&w->f[F_DESC], in->description);
	field_set(&w->f[F_BASE_URL], in->base_url);
	field_set(&w->f[F_APP_ID], in->app_id);
	field_set(&w->f[F_APP_KEY], in->app_key);
	field_set(&w->f[F_CLIENT_ID], in->client_id);
	field_set(&w->f[F_CA], in->ca_file);
	mw_format_duration(in->interval, d, sizeof(d));
	field_set(&w->f[F_INTERVAL], d);
	mw_format_duration(in->lookback, d, sizeof(d));
	field_set(&w->f[F_LOOKBACK], d);
	w->api = in->api;
	w->types = in->types;
	/* the Client Secret is kept where the saved secrets are: on a switch from
	 * API 1.0, where the Secret Key was (file or variable: a new name is typed) */
	if (in->api == 2) {
		w->sform = in->client_secret.src != MW_SECRET_NONE ? in->client_secret.src
								   : MW_SECRET_INLINE;
		if (w->sform != MW_SECRET_INLINE)
			field_set(&w->f[F_SECRET_REF], in->client_secret.ref);
	} else {
		w->sform = in->secret_key.src != MW_SECRET_NONE ? in->secret_key.src
								: MW_SECRET_INLINE;
	}
}

static int wizard_open(struct ui_view *v, void *arg)
{
	struct wiz *w = mw_xcalloc(1, sizeof(*w));
	const char *name = arg;

	v->priv = w;
	w->f[F_ACCESS].masked = w->f[F_SECRET].masked = w->f[F_CLIENT_SECRET].masked = 1;
	if (name) {
		const struct mw_integration *in = config_find(v->ctx->cfg, name);

		if (!in) {
			ui_message(v->ctx, ROLE_ERROR, "no integration '%s' in the config to edit",
				   name);
			free(w);
			v->priv = NULL;
			return -1;
		}
		w->edit = 1;
		mw_strlcpy(w->orig_name, name, sizeof(w->orig_name));
		w->orig_api = in->api;
		fill_from(w, in);
		field_set(&w->f[F_NAME], name);
		w->first_page = PAGE_FORM;
	} else {
		struct mw_integration def;

		config_integration_defaults(&def);
		fill_from(w, &def);
		/* a new integration is API 2.0: Mimecast takes no new API 1.0 applications */
		w->api = 2;
		field_set(&w->f[F_BASE_URL], V2_DEFAULT_URL);
		w->first_page = 0;
	}
	go_page(v, w->first_page);
	return 0;
}

static void wizard_close(struct ui_view *v)
{
	struct wiz *w = v->priv;

	if (!w)
		return;
	job_cancel(&w->disc, 1500);
	job_cancel(&w->val, 1500);
	if (w->have_built)
		config_integration_clear(&w->built);
	explicit_bzero(w, sizeof(*w));  /* typed secrets */
	free(w);
	v->priv = NULL;
}

static void wizard_reload(struct ui_view *v)
{
	if (v->priv)
		poll_jobs(v);
}

static void wizard_draw(struct ui_view *v, int y0, int x0, int height, int width)
{
	struct wiz *w = v->priv;

	poll_jobs(v);
	clear_body(y0, x0, height, width);
	if (w->page >= 0)
		draw_step(v, y0, x0, height, width);
	else if (w->page == PAGE_FORM)
		draw_form(v, y0, x0, height, width);
	else
		draw_check(v, y0, x0, height, width);
}

static int form_action(struct ui_view *v, enum ui_action a)
{
	struct wiz *w = v->priv;
	struct slot s[MAX_SLOTS];
	int n = (int)form_slots(w, s);

	switch (a) {
	case ACT_NEXT_FIELD:
		if (w->focus == n - 1) {
			focus_move(v, -n);  /* Tab wraps round to the first field */
			return 1;
		}
		focus_move(v, 1);
		return 1;
	case ACT_PREV_FIELD:
		if (w->focus == 0) {
			focus_move(v, n);
			return 1;
		}
		focus_move(v, -1);
		return 1;
	case ACT_DOWN:
		focus_move(v, 1);
		return 1;
	case ACT_UP:
		focus_move(v, -1);
		return 1;
	case ACT_PAGE_DOWN:
		focus_move(v, 5);
		return 1;
	case ACT_PAGE_UP:
		focus_move(v, -5);
		return 1;
	case ACT_ENTER:
		submit(v);
		return 1;
	case ACT_BACK:
	case ACT_QUIT:
		if (w->first_page == PAGE_FORM || a == ACT_QUIT) {
			leave(v, 0);
		} else {
			const struct wizard_step *st;

			go_page(v, (int)steps_of(w, &st) - 1);
		}
		return 1;
	default:
		return 0;
	}
}

static int wizard_action(struct ui_view *v, enum ui_action a)
{
	struct wiz *w = v->priv;

	if (w->page >= 0) {
		const struct wizard_step *st;
		int nsteps = (int)steps_of(w, &st);

		switch (a) {
		case ACT_ENTER:
		case ACT_NEXT_FIELD:
			go_page(v, w->page + 1 < nsteps ? w->page + 1 : PAGE_FORM);
			return 1;
		case ACT_PREV_FIELD:
		case ACT_BACK:
			if (w->page == 0)
				leave(v, 0);
			else
				go_page(v, w->page - 1);
			return 1;
		case ACT_QUIT:
			leave(v, 0);
			return 1;
		default:
			return 0;
		}
	}
	if (w->page == PAGE_FORM)
		return form_action(v, a);
	switch (a) {
	case ACT_ENTER:
		if (!w->val_done)
			return 1;
		if (w->rep.ok_types > 0) {
			save(v, 0);
		} else {
			w->refused = 1;
			ui_message(v->ctx, ROLE_ERROR, "Not saved: no log type passed. Fix the form "
				   "(Esc) or press s to save anyway");
		}
		return 1;
	case ACT_BACK:
	case ACT_QUIT:
		job_cancel(&w->val, 0);
		go_page(v, PAGE_FORM);
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
	field_set(&w->f[F_SECRET_REF], "");
	w->dirty = 1;
}

static int form_input(struct ui_view *v, wint_t ch, int is_key)
{
	struct wiz *w = v->priv;
	struct slot s[MAX_SLOTS];
	int n = (int)form_slots(w, s);
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
		if (cur->id == F_EMAIL && is_enter(ch, is_key)) {
			start_discovery(v);
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
				set_api(w, w->api == 1 ? 2 : 1);
			else if (cur->id == F_SECRET_FORM) {
				secret_form_step(w, dir);
				/* the Client Secret row above may come or go: stay here */
				n = (int)form_slots(w, s);
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
			submit(v);
			return 1;
		}
		return 0;
	}
	return 0;
}

/* The action of a key: the table's, with Tab, Shift-Tab, Enter and Esc as
 * the wizard's page and field keys should the table not bind them here. */
static enum ui_action key_action(wint_t ch, int is_key)
{
	enum ui_action a = ui_key_action(view_wizard.name, (int)ch);

	if (a != ACT_NONE)
		return a;
	if (is_key)
		return ch == KEY_BTAB ? ACT_PREV_FIELD : ch == KEY_ENTER ? ACT_ENTER
			: ch == KEY_UP ? ACT_UP : ch == KEY_DOWN ? ACT_DOWN : ACT_NONE;
	return ch == '\t' ? ACT_NEXT_FIELD : (ch == '\n' || ch == '\r') ? ACT_ENTER
		: ch == 27 ? ACT_BACK : ACT_NONE;
}

static int wizard_input(struct ui_view *v, wint_t ch, int is_key)
{
	struct wiz *w = v->priv;
	enum ui_action a;

	if (w->confirm_leave) {
		w->confirm_leave = 0;
		if (!is_key && (ch == 'y' || ch == 'Y')) {
			ui_message(v->ctx, ROLE_NORMAL, "left the wizard; nothing was saved");
			leave(v, 1);
		} else {
			ui_message(v->ctx, ROLE_NORMAL, "still in the wizard");
		}
		return 1;
	}
	if (w->page >= 0 && !is_key && ch == ' ') {
		const struct wizard_step *st;
		int nsteps = (int)steps_of(w, &st);

		w->ticked[w->page] = 1;
		go_page(v, w->page + 1 < nsteps ? w->page + 1 : PAGE_FORM);
		return 1;
	}
	if (w->page >= 0 && is_key && (ch == KEY_LEFT || ch == KEY_RIGHT || ch == KEY_UP ||
				       ch == KEY_DOWN)) {
		const struct wizard_step *st;

		steps_of(w, &st);
		if (st[w->page].extra != WIZARD_EXTRA_API_CHOICE)
			return 0;
		/* two choices: any arrow takes the other one */
		set_api(w, w->api == 1 ? 2 : 1);
		update_title(v);
		return 1;
	}
	if (w->page == PAGE_FORM && form_input(v, ch, is_key))
		return 1;
	if (w->page == PAGE_CHECK && !is_key && w->val_done) {
		if (ch == 's' || ch == 'S') {
			save(v, w->rep.ok_types == 0);
			return 1;
		}
		if (ch == 'r' || ch == 'R') {
			start_validation(v);
			return 1;
		}
	}
	a = key_action(ch, is_key);
	if (a != ACT_NONE && wizard_action(v, a))
		return 1;
	return 0;
}

static const char *wizard_title(struct ui_view *v)
{
	struct wiz *w = v->priv;

	return w ? w->title : "Integration";
}

const struct ui_view_ops view_wizard = {
	.name = "wizard",
	.open = wizard_open,
	.close = wizard_close,
	.reload = wizard_reload,
	.draw = wizard_draw,
	.action = wizard_action,
	.input = wizard_input,
	.title = wizard_title,
};
