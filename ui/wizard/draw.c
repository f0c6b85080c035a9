/* wizard/draw.c - drawing the wizard: a checklist page, the form (labels,
 * fields, the note under each, the focused field's hint) and the check's
 * result, one row per log type with its error class and fix. Text is
 * wrapped by ui_wrap, the console's one word-wrap. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1  /* explicit_bzero, strdup alongside -std=c11 */
#endif
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "logtypes.h"
#include "util.h"
#include "wizard.h"

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

/* Text wrapped to width columns on at most maxrows rows (ui_wrap, the
 * console's one word-wrap); returns the rows used. */
static int draw_wrapped(int y, int x, int width, int maxrows, enum ui_role role, const char *s)
{
	return ui_wrap(s, width, 1, y, x, maxrows, role);
}

static int wrapped_rows(int width, const char *s)
{
	int n = ui_wrap(s, width, 0, 0, 0, 1000, ROLE_NORMAL);

	return n ? n : 1;
}

/* A checklist page: its title and the steps stay; the text between
 * scrolls (ui_doc) when it does not fit; the tick line stays at the bottom. */
/* API 2.0's products, each once, in the table's order; a product that only
 * types collected when chosen need says for which. Then the role's
 * permissions follow under their own heading. */
static void add_products(struct ui_doc *d)
{
	ui_doc_add(d, ROLE_NORMAL, 0, "%s", "Products:");
	for (size_t i = 0; i < mw_nlogtypes; i++) {
		const char *p = mw_logtypes[i].product;
		char only[256] = "";
		size_t n = 0;
		int wanted = 0, seen = 0;

		if (!p)
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = mw_logtypes[j].product && strcmp(mw_logtypes[j].product, p) == 0;
		if (seen)
			continue;
		for (size_t j = i; j < mw_nlogtypes; j++) {
			if (!mw_logtypes[j].product || strcmp(mw_logtypes[j].product, p) != 0)
				continue;
			wanted |= mw_logtypes[j].by_default;
			if (n < sizeof(only))
				n += (size_t)snprintf(only + n, sizeof(only) - n, "%s%s",
						      n ? " or " : "", mw_logtypes[j].label);
		}
		if (wanted)
			ui_doc_add(d, ROLE_KEY, 2, "%s", p);
		else
			ui_doc_add(d, ROLE_KEY, 2, "%s  (only when collecting %s)", p, only);
	}
	ui_doc_add(d, ROLE_NORMAL, 0, "%s", "");
	ui_doc_add(d, ROLE_NORMAL, 0, "%s", "Role permissions:");
}

static void draw_step(struct ui_view *v, int y0, int x0, int height, int width)
{
	struct wiz *w = v->priv;
	struct ui_doc *d = &w->doc;
	const struct wizard_step *steps, *st;
	size_t nsteps = wiz_steps_of(w, &steps);
	int y = y0, x = x0 + 1, tw = width - 2;
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
	ui_doc_clear(d);
	if (st->where) {
		ui_doc_add(d, ROLE_NORMAL, 0, "%s", "");
		ui_doc_add_lead(d, ROLE_KEY, "Where: ", ROLE_NORMAL, 0, "%s", st->where);
	}
	for (int i = 0; st->before && st->before[i]; i++) {
		ui_doc_add(d, ROLE_NORMAL, 0, "%s", "");
		ui_doc_add(d, ROLE_NORMAL, 0, "%s", st->before[i]);
	}
	if (st->extra != WIZARD_EXTRA_NONE)
		ui_doc_add(d, ROLE_NORMAL, 0, "%s", "");
	switch (st->extra) {
	case WIZARD_EXTRA_API_CHOICE:
		ui_doc_add(d, w->api == 2 ? ROLE_SELECTION : ROLE_NORMAL, 2,
			   "(%c) API 2.0: a new integration (Client ID and Client Secret)",
			   w->api == 2 ? '*' : ' ');
		ui_doc_add(d, w->api == 1 ? ROLE_SELECTION : ROLE_NORMAL, 2,
			   "(%c) API 1.0: existing keys only", w->api == 1 ? '*' : ' ');
		ui_doc_add(d, ROLE_MUTED, 2, "%s", "Up/Down or Left/Right chooses");
		break;
	case WIZARD_EXTRA_REGIONS: {
		const struct mw_region *rs;
		size_t n = regions_list(&rs);

		/* the name wraps in its own column, so the table still reads as one */
		for (size_t i = 0; i < n; i++) {
			if (!wiz_region_fits(&rs[i], w->api))
				continue;
			snprintf(buf, sizeof(buf), "%-6s %-38s ", rs[i].code, rs[i].base_url);
			ui_doc_add_lead(d, ROLE_NORMAL, buf, ROLE_NORMAL, 2, "%s", rs[i].name);
		}
		break;
	}
	case WIZARD_EXTRA_PERMISSIONS:
		if (w->api == 2)
			add_products(d);
		/* A type collected only when chosen (by_default 0) needs its
		 * permission only then: the line says for which. */
		for (size_t i = 0; i < mw_nlogtypes; i++)
			if (mw_logtypes[i].by_default)
				ui_doc_add(d, ROLE_KEY, 2, "%s", logtype_permission(&mw_logtypes[i], w->api));
			else
				ui_doc_add(d, ROLE_KEY, 2, "%s  (only when collecting %s)",
					   logtype_permission(&mw_logtypes[i], w->api), mw_logtypes[i].label);
		break;
	case WIZARD_EXTRA_ADDRESSES:
		wizard_host_addresses(buf, sizeof(buf));
		ui_doc_add(d, ROLE_KEY, 2, "%s", buf);
		break;
	default:
		break;
	}
	for (int i = 0; st->after && st->after[i]; i++) {
		ui_doc_add(d, ROLE_NORMAL, 0, "%s", "");
		ui_doc_add(d, ROLE_NORMAL, 0, "%s", st->after[i]);
	}
	if (w->page == 0 && !w->edit) {
		ui_doc_add(d, ROLE_NORMAL, 0, "%s", "");
		ui_doc_add(d, ROLE_KEY, 0, "%s", "Keys in hand? Press f for the form, or paste them "
			   "here: a paste naming the Client ID and Client Secret (or the four API "
			   "1.0 values, labelled or in Mimecast's order) fills the form.");
	}
	ui_doc_draw(d, y, y0 + height - 2 - y, width);
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
			 : w->sform == MW_SECRET_CREDENTIAL ? "a systemd credential (kept)"
			 : "this config file");
		break;
	case F_REGION: {
		int cur = wiz_region_current(w);

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
	if (!wiz_error_shown(v, s->id) || !wiz_field_error(v, s->id, buf, n, &warn))
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
	int n = (int)wiz_form_slots(w, s), rows[MAX_SLOTS], last = -1;
	int lw = width >= 80 ? LABEL_COLS : width / 4, fx = x0 + 1 + lw + 2;
	int fw = width - (fx - x0) - 1, avail = height - 4, y;
	char note[900], val[256];
	enum ui_role nrole;
	const struct mw_integration *orig = wiz_orig_integration(v);

	if (fw > 72)
		fw = 72;
	if (w->focus >= n)
		w->focus = n - 1;
	/* A note (an error, discovery's answer and its fix) is shown whole, as
	 * long as its field still fits with it. */
	for (int i = 0; i < n; i++)
		rows[i] = 1 + (slot_note(v, &s[i], note, sizeof(note), &nrole)
			       ? (wrapped_rows(width - (fx - x0) - 3, note) > avail - 1
				  ? avail - 1 : wrapped_rows(width - (fx - x0) - 3, note)) : 0);
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
			 : "Integration details: Enter goes on to what is needed, then checks");
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
		last = i;
		if (rows[i] > 1 && slot_note(v, &s[i], note, sizeof(note), &nrole))
			y += draw_wrapped(y, fx + 2, width - (fx - x0) - 3,
					  rows[i] - 1 < y0 + 2 + avail - y ? rows[i] - 1
									   : y0 + 2 + avail - y,
					  nrole, note);
	}
	/* fields out of sight: PgUp and PgDn move five fields at a time */
	ui_more_hint(y0 + height - 2, width, w->top > 0, last < n - 1);
	/* the focused field's hint, always in the same place */
	if (w->focus >= 0 && w->focus < n)
		puts_role(y0 + height - 1, x0 + 1, width - 2, ROLE_MUTED, fdefs[s[w->focus].id].hint);
}

/* The check's result, one row per log type with its error and the whole of
 * its fix: a page (ui_doc) that scrolls when it does not fit; the verdict
 * and its keys stay at the bottom. */
static void draw_check(struct ui_view *v, int y0, int x0, int height, int width)
{
	struct wiz *w = v->priv;
	struct ui_doc *d = &w->doc;
	const struct mw_integration *in = &w->built;
	int y, x = x0 + 1, tw = width - 2, lw = 26;
	const struct validate_report *rep = &w->rep;

	ui_doc_clear(d);
	ui_doc_add(d, ROLE_HEADING, 0, "Checking '%s' against %s", in->name ? in->name : "",
		   in->base_url ? in->base_url : "");
	ui_doc_add(d, ROLE_NORMAL, 0, "%s", "");
	if (!w->val_done) {
		ui_doc_add(d, ROLE_MUTED, 0, "%s", "asking Mimecast: credentials first, then one "
			   "request per log type ... (Esc stops)");
		ui_doc_draw(d, y0, height - 3, width);
		return;
	}
	if (rep->account_ok)
		ui_doc_add(d, ROLE_NORMAL, 0, "Account: %s (%s)", rep->account_name,
			   rep->account_code);
	else
		ui_doc_add(d, ROLE_MUTED, 0, "Account: not shown (get-account: %s; "
			   "collecting does not need it)",
			   mc_class_label(rep->account_res.cls, w->api));
	ui_doc_add(d, ROLE_NORMAL, 0, "%s", "");
	for (size_t i = 0; i < rep->nrows; i++) {
		const struct validate_row *row = &rep->rows[i];
		const struct mc_result *r = &row->res;
		int ok = r->cls == MC_OK;
		char lead[128], head[256];
		int hl;

		snprintf(lead, sizeof(lead), "%-4s %-*s", ok ? ui_mark_ok() : ui_mark_bad(), lw,
			 row->lt ? row->lt->label : "");
		if (ok) {
			ui_doc_add_lead(d, ROLE_OK, lead, ROLE_OK, 0, "%s", "ok");
			continue;
		}
		hl = snprintf(head, sizeof(head), "%s", mc_class_label(r->cls, w->api));
		if (r->http_status && hl < (int)sizeof(head))
			hl += snprintf(head + hl, sizeof(head) - (size_t)hl, "  HTTP %ld",
				       r->http_status);
		if (r->code[0] && hl < (int)sizeof(head))
			snprintf(head + hl, sizeof(head) - (size_t)hl, "  %s", r->code);
		ui_doc_add_lead(d, ROLE_ERROR, lead, ROLE_ERROR, 0, "%s", head);
		if (r->message[0])
			ui_doc_add(d, ROLE_MUTED, 6, "%s", r->message);
		if (r->remedy[0]) {
			char fix[sizeof(r->remedy) + 256];

			ui_form_words(r->remedy, fix, sizeof(fix));
			ui_doc_add_lead(d, ROLE_KEY, "Fix: ", ROLE_NORMAL, 6, "%s", fix);
		}
	}
	ui_doc_draw(d, y0, height - 3, width);
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



void wiz_draw(struct ui_view *v, int y0, int x0, int height, int width)
{
	struct wiz *w = v->priv;

	wiz_poll_jobs(v);
	clear_body(y0, x0, height, width);
	if (w->page >= 0)
		draw_step(v, y0, x0, height, width);
	else if (w->page == PAGE_FORM)
		draw_form(v, y0, x0, height, width);
	else
		draw_check(v, y0, x0, height, width);
}
