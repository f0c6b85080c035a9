/* ui_colors.c - colours as named roles, one table, with a monochrome
 * fallback for terminals without colour and for NO_COLOR (no-color.org). */
#include <stdlib.h>

#include "ui.h"

#include <term.h>

int ui_ascii;

struct role_style {
	short fg, bg;           /* -1: terminal default */
	attr_t color_attr;      /* added to the pair when in colour */
	attr_t mono_attr;       /* used alone without colour */
};

static const struct role_style role_styles[ROLE_COUNT] = {
	[ROLE_NORMAL] = { -1, -1, A_NORMAL, A_NORMAL },
	[ROLE_OK] = { COLOR_GREEN, -1, A_BOLD, A_NORMAL },
	[ROLE_WARNING] = { COLOR_YELLOW, -1, A_BOLD, A_BOLD },
	[ROLE_ERROR] = { COLOR_RED, -1, A_BOLD, A_BOLD },
	[ROLE_MUTED] = { COLOR_CYAN, -1, A_NORMAL, A_DIM },
	[ROLE_SELECTION] = { COLOR_BLACK, COLOR_CYAN, A_NORMAL, A_REVERSE },
	[ROLE_HEADING] = { COLOR_BLUE, -1, A_BOLD, A_BOLD | A_UNDERLINE },
	[ROLE_TITLE] = { COLOR_WHITE, COLOR_BLUE, A_BOLD, A_REVERSE | A_BOLD },
	[ROLE_KEY] = { COLOR_YELLOW, -1, A_BOLD, A_BOLD },
	[ROLE_INPUT] = { -1, -1, A_UNDERLINE, A_UNDERLINE },
	[ROLE_MATCH] = { COLOR_BLACK, COLOR_YELLOW, A_NORMAL, A_REVERSE | A_BOLD },
};

static attr_t role_attrs[ROLE_COUNT];

void ui_colors_init(void)
{
	const char *nc = getenv("NO_COLOR");
	/* NO_COLOR counts when set to anything non-empty. */
	int color = !(nc && *nc) && has_colors();
	int defaults = 0;

	if (color && start_color() == ERR)
		color = 0;
	/* Keep the terminal's own background where it lets us. */
	if (color)
		defaults = use_default_colors() == OK;
	for (int r = 0; r < ROLE_COUNT; r++) {
		const struct role_style *s = &role_styles[r];

		if (!color || (s->fg < 0 && s->bg < 0) || COLOR_PAIRS <= r) {
			role_attrs[r] = color ? s->color_attr : s->mono_attr;
			continue;
		}
		if (init_pair((short)r, s->fg >= 0 ? s->fg : (defaults ? -1 : COLOR_WHITE),
			      s->bg >= 0 ? s->bg : (defaults ? -1 : COLOR_BLACK)) == ERR) {
			role_attrs[r] = s->mono_attr;
			continue;
		}
		role_attrs[r] = COLOR_PAIR(r) | s->color_attr;
	}
}

attr_t ui_attr(enum ui_role r)
{
	if ((int)r < 0 || r >= ROLE_COUNT)
		return A_NORMAL;
	return role_attrs[r];
}

/* Asked before newterm(): for a type terminfo does not know, newterm()
 * fails but keeps the screen it began, which LeakSanitizer reports. */
int ui_term_known(int fd)
{
	int err = 0;

	if (setupterm(NULL, fd, &err) != OK)
		return -1;
	del_curterm(cur_term);
	return 0;
}
