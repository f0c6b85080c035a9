/* view_help.c - every key of every screen, generated from the key table
 * (ui_keys.c) so that help and behaviour cannot disagree. arg: the scope of
 * the screen it was opened from, whose keys come first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui.h"
#include "util.h"

static const struct {
	const char *scope, *title;
} scope_titles[] = {
	{ "home", "Integrations (the home screen)" },
	{ "trouble", "Troubleshooting" },
	{ "preview", "Log preview" },
	{ "record", "Record detail" },
	{ "columns", "Columns (C in the preview)" },
	{ "coverage", "Coverage (c on home)" },
	{ "wizard", "Setup wizard" },
	{ "help", "This help" },
	{ "*", "Everywhere (unless a screen above binds the key itself)" },
};

struct help {
	struct ui_doc doc;
	int height;
};

static void add_scope(struct ui_doc *d, const char *scope, const char *title)
{
	int any = 0;

	for (size_t i = 0; i < ui_nkeys; i++) {
		const struct ui_keybinding *k = &ui_keys[i];
		char buf[128], key[32];
		const char *help = ui_key_help(k, buf, sizeof(buf));

		if (strcmp(k->scope, scope) || !k->keyname || !help)
			continue;
		if (!any) {
			ui_doc_add(d, ROLE_NORMAL, 0, "%s", "");
			ui_doc_add(d, ROLE_HEADING, 0, "%s", title);
			any = 1;
		}
		/* a help text that wraps goes on under itself, not under the key */
		snprintf(key, sizeof(key), "%-8s ", k->keyname);
		ui_doc_add_lead(d, ROLE_KEY, key, ROLE_NORMAL, 2, "%s", help);
	}
}

static int help_open(struct ui_view *v, void *arg)
{
	struct help *h = mw_xcalloc(1, sizeof(*h));
	const char *from = arg;

	v->priv = h;
	ui_doc_add(&h->doc, ROLE_MUTED, 0, "%s", "Keys of every screen; Up, Down, PgUp, PgDn scroll, "
		   "g and G go to the top and bottom; q or Esc goes back.");
	/* The screen the help was asked from first, then the table's order. */
	for (size_t s = 0; from && s < NELEM(scope_titles); s++)
		if (!strcmp(scope_titles[s].scope, from))
			add_scope(&h->doc, from, scope_titles[s].title);
	for (size_t s = 0; s < NELEM(scope_titles); s++)
		if (!from || strcmp(scope_titles[s].scope, from))
			add_scope(&h->doc, scope_titles[s].scope, scope_titles[s].title);
	ui_doc_add(&h->doc, ROLE_NORMAL, 0, "%s", "");
	ui_doc_add(&h->doc, ROLE_HEADING, 0, "%s", "In text fields");
	ui_doc_add(&h->doc, ROLE_NORMAL, 2, "%s", "Left Right Home End move, Backspace Delete erase, "
		   "C-a C-e start and end, C-u C-k erase before and after, C-w the word before; "
		   "pasting is safe (a pasted newline is not Enter)");
	return 0;
}

static void help_close(struct ui_view *v)
{
	struct help *h = v->priv;

	ui_doc_clear(&h->doc);
	free(h);
}

static void help_draw(struct ui_view *v, int y0, int x0, int height, int width)
{
	struct help *h = v->priv;

	(void)x0;
	h->height = height;
	ui_doc_draw(&h->doc, y0, height, width);
}

static int help_action(struct ui_view *v, enum ui_action a)
{
	struct help *h = v->priv;

	if (a == ACT_HELP)
		return 1;       /* already here */
	return ui_doc_action(&h->doc, a, h->height);
}

static const char *help_title(struct ui_view *v)
{
	(void)v;
	return "keys";
}

const struct ui_view_ops view_help = {
	.name = "help",
	.open = help_open,
	.close = help_close,
	.draw = help_draw,
	.action = help_action,
	.title = help_title,
};
