/* wizard/view.c - the onboarding wizard's screen (data/mimewatch.1,
 * THE CONSOLE): the Mimecast-side checklist one
 * step a page, the form, then the live check, and saving through
 * session.c's one "save config, request reload, swap" sequence.
 *
 * Pages: the checklist of the chosen API (only when adding; its first page
 * chooses API 2.0 or, for existing keys only, 1.0), the form, the check. Tab
 * and Shift-Tab move between fields, Enter goes on, Esc goes back a page.
 * A page taller than the terminal scrolls: PgUp and PgDn everywhere (on the
 * form, five fields at a time), and on the pages without fields the other
 * movement keys too; the form keeps Up/Down for fields, Home/End for text. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1  /* explicit_bzero, strdup alongside -std=c11 */
#endif
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "session.h"
#include "util.h"
#include "wizard.h"


void wiz_update_title(struct ui_view *v)
{
	struct wiz *w = v->priv;
	const char *what = w->edit ? "Edit integration" : "New integration";
	const struct wizard_step *st;
	size_t nsteps = wiz_steps_of(w, &st);

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


void wiz_go_page(struct ui_view *v, int page)
{
	struct wiz *w = v->priv;

	w->page = page;
	w->confirm_leave = 0;
	w->doc.top = 0;     /* a new page starts at its top */
	wiz_update_title(v);
}


/* Back from a check the certificate failed: the field that fixes it (the
 * remedy names it) has the cursor. */
static void focus_tls_fix(struct wiz *w)
{
	struct slot s[MAX_SLOTS];
	size_t n;
	int tls = w->val_done && w->rep.account_res.cls == MC_TLS;

	for (size_t i = 0; w->val_done && i < w->rep.nrows; i++)
		tls |= w->rep.rows[i].res.cls == MC_TLS;
	if (!tls)
		return;
	n = wiz_form_slots(w, s);
	for (size_t i = 0; i < n; i++)
		if (s[i].id == F_CA)
			w->focus = (int)i;
}

void wiz_leave(struct ui_view *v, int force)
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


/* Enter on the form: every field must pass before the check starts. */
void wiz_submit(struct ui_view *v)
{
	struct wiz *w = v->priv;
	struct slot s[MAX_SLOTS];
	int n = (int)wiz_form_slots(w, s), bad = -1, nbad = 0;
	char msg[900];

	w->submitted = 1;
	for (int i = 0; i < n; i++) {
		int warn;

		if ((s[i].id == F_TYPE && s[i].sub > 0) || !wiz_field_error(v, s[i].id, msg,
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
		session_integration_clear(&w->built);
	wiz_form_build(v, &w->built);
	w->have_built = 1;
	wiz_start_validation(v);
}

/* ---- saving ---------------------------------------------------------------------------- */

/* The typed Client Secret into the file the config is to name: 0600,
 * atomically, its directory made 0700 when missing. */
static int write_secret_file(const struct mw_secret *s, mw_err *e)
{
	size_t len = strlen(s->value);
	char *data = mw_xcalloc(1, len + 2);
	int rc;

	memcpy(data, s->value, len);
	data[len] = '\n';
	rc = mw_mkdir_parent(s->ref, e);  /* 0700 when missing */
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

/* Saves the checked integration: its secret file first when one was typed,
 * then the one "save config, request reload, swap" sequence of session.c. */
static void save(struct ui_view *v, int anyway)
{
	struct wiz *w = v->priv;
	struct ui_ctx *ctx = v->ctx;
	mw_err e;
	int rc = 0;

	mw_err_clear(&e);
	if (w->write_secret && w->built.client_secret.src == MW_SECRET_FILE)
		rc = write_secret_file(&w->built.client_secret, &e);
	if (rc == 0)
		rc = session_save_integration(ctx, &w->built, w->edit ? w->orig_name : NULL, &e);
	if (rc == -1) {
		ui_message(ctx, ROLE_ERROR, "not saved: %s", e.msg);
		return;
	}
	if (rc == -3) {  /* the file changed since it was read, and a field conflicts */
		ui_message(ctx, ROLE_ERROR, "%s", e.msg);
		return;
	}
	if (rc == -2) {
		ui_message(ctx, ROLE_ERROR, "saved %s, but reading it back failed: %s",
			   ctx->config_path, e.msg);
		return;
	}
	if (rc == 1)
		ui_message(ctx, ROLE_WARNING, "saved, but the collector was not told: %s", e.msg);
	if (rc == 2)  /* saved on top of another edit: say what changed */
		ui_message(ctx, ROLE_WARNING, "%s", e.msg);
	else if (anyway)
		ui_message(ctx, ROLE_WARNING, "Saved '%s' anyway, but no log type passed the check: "
			   "it will not collect until that is fixed (t shows the advice)", w->built.name);
	else if (w->edit && w->orig_api != w->built.api)
		ui_message(ctx, ROLE_OK, "Saved '%s', now on API %s: its cursors and stored "
			   "records are kept", w->built.name, w->built.api == 2 ? "2.0" : "1.0");
	else
		ui_message(ctx, ROLE_OK, "Saved '%s' to %s", w->built.name, ctx->config_path);
	/* After a run exited, collecting here stays the person's choice (c). */
	if (!ctx->col && !ctx->attached && !ctx->exited_pid)
		session_start_collector(ctx);
	ui_message_to_below();  /* the result is home's to show */
	ui_pop(ctx);
}

/* ---- ops --------------------------------------------------------------------------------- */

static void fill_from(struct wiz *w, const struct mw_integration *in)
{
	char d[32];

	wiz_field_set(&w->f[F_DESC], in->description);
	wiz_field_set(&w->f[F_BASE_URL], in->base_url);
	wiz_field_set(&w->f[F_APP_ID], in->app_id);
	wiz_field_set(&w->f[F_APP_KEY], in->app_key);
	wiz_field_set(&w->f[F_CLIENT_ID], in->client_id);
	wiz_field_set(&w->f[F_CA], in->ca_file);
	mw_format_duration(in->interval, d, sizeof(d));
	wiz_field_set(&w->f[F_INTERVAL], d);
	mw_format_duration(in->lookback, d, sizeof(d));
	wiz_field_set(&w->f[F_LOOKBACK], d);
	w->api = in->api;
	w->types = in->types;
	/* the Client Secret is kept where the saved secrets are: on a switch from
	 * API 1.0, where the Secret Key was (file or variable: a new name is typed) */
	if (in->api == 2) {
		w->sform = in->client_secret.src != MW_SECRET_NONE ? in->client_secret.src
								   : MW_SECRET_INLINE;
		if (w->sform != MW_SECRET_INLINE)
			wiz_field_set(&w->f[F_SECRET_REF], in->client_secret.ref);
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
		const struct mw_integration *in = session_integration(v->ctx, name);

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
		wiz_field_set(&w->f[F_NAME], name);
		w->first_page = PAGE_FORM;
	} else {
		struct mw_integration def;

		session_integration_defaults(&def);
		fill_from(w, &def);
		/* a new integration is API 2.0: Mimecast takes no new API 1.0 applications */
		w->api = 2;
		wiz_field_set(&w->f[F_BASE_URL], V2_DEFAULT_URL);
		w->first_page = 0;
	}
	wiz_go_page(v, w->first_page);
	return 0;
}

static void wizard_close(struct ui_view *v)
{
	struct wiz *w = v->priv;

	if (!w)
		return;
	wiz_job_cancel(&w->disc, 1500);
	wiz_job_cancel(&w->val, 1500);
	ui_doc_clear(&w->doc);
	if (w->have_built)
		session_integration_clear(&w->built);
	explicit_bzero(w, sizeof(*w));  /* typed secrets */
	free(w);
	v->priv = NULL;
}

static void wizard_reload(struct ui_view *v)
{
	if (v->priv)
		wiz_poll_jobs(v);
}



static int wizard_action(struct ui_view *v, enum ui_action a)
{
	struct wiz *w = v->priv;

	if (w->page >= 0) {
		const struct wizard_step *st;
		int nsteps = (int)wiz_steps_of(w, &st);

		switch (a) {
		case ACT_ENTER:
		case ACT_NEXT_FIELD:
			wiz_go_page(v, w->page + 1 < nsteps ? w->page + 1 : PAGE_FORM);
			return 1;
		case ACT_PREV_FIELD:
		case ACT_BACK:
			if (w->page == 0)
				wiz_leave(v, 0);
			else
				wiz_go_page(v, w->page - 1);
			return 1;
		case ACT_QUIT:
			wiz_leave(v, 0);
			return 1;
		case ACT_TO_FORM:
			wiz_go_page(v, PAGE_FORM);
			return 1;
		default:
			/* the movement keys scroll a page that does not fit */
			return ui_doc_action(&w->doc, a, w->doc.rows);
		}
	}
	if (w->page == PAGE_FORM)
		return wiz_form_action(v, a);
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
		wiz_job_cancel(&w->val, 0);
		wiz_go_page(v, PAGE_FORM);
		focus_tls_fix(w);
		return 1;
	default:
		return ui_doc_action(&w->doc, a, w->doc.rows);
	}
}

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
			wiz_leave(v, 1);
		} else {
			ui_message(v->ctx, ROLE_NORMAL, "still in the wizard");
		}
		return 1;
	}
	if (w->page >= 0 && !is_key && ch == ' ') {
		const struct wizard_step *st;
		int nsteps = (int)wiz_steps_of(w, &st);

		w->ticked[w->page] = 1;
		wiz_go_page(v, w->page + 1 < nsteps ? w->page + 1 : PAGE_FORM);
		return 1;
	}
	if (w->page >= 0 && is_key && (ch == KEY_LEFT || ch == KEY_RIGHT || ch == KEY_UP ||
				       ch == KEY_DOWN)) {
		const struct wizard_step *st;

		wiz_steps_of(w, &st);
		if (st[w->page].extra != WIZARD_EXTRA_API_CHOICE)
			return 0;
		/* two choices: any arrow takes the other one */
		wiz_set_api(w, w->api == 1 ? 2 : 1);
		wiz_update_title(v);
		return 1;
	}
	if (w->page == PAGE_FORM && wiz_form_input(v, ch, is_key))
		return 1;
	if (w->page == PAGE_CHECK && !is_key && w->val_done) {
		if (ch == 's' || ch == 'S') {
			save(v, w->rep.ok_types == 0);
			return 1;
		}
		if (ch == 'r' || ch == 'R') {
			wiz_start_validation(v);
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
	.draw = wiz_draw,
	.action = wizard_action,
	.input = wizard_input,
	.paste = wiz_form_paste,
	.title = wizard_title,
};
