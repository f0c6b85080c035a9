/* ui.h - the console's shared framework: screens as data plus a small ops
 * struct (tig's view_ops), keys mapped to named actions through one table
 * (the help screen is generated from it), colours as named roles, and the
 * drawing helpers every screen uses. Only the UI thread calls anything here. */
#ifndef MW_UI_H
#define MW_UI_H

#include <stddef.h>
#include <stdint.h>
#define NCURSES_WIDECHAR 1
#include <curses.h>

#include "collector.h"
#include "config/config.h"
#include "store/store.h"

/* ---- colours as roles (ui_colors.c) -------------------------------------- */
enum ui_role {
	ROLE_NORMAL, ROLE_OK, ROLE_WARNING, ROLE_ERROR, ROLE_MUTED, ROLE_SELECTION,
	ROLE_HEADING, ROLE_TITLE, ROLE_KEY, ROLE_INPUT, ROLE_COUNT
};
/* Sets up colour pairs, or monochrome attributes when the terminal has no
 * colour or NO_COLOR is set. */
void ui_colors_init(void);
/* 0 when terminfo knows the terminal TERM names (asked on fd), -1 if not. */
int ui_term_known(int fd);
attr_t ui_attr(enum ui_role r);
extern int ui_ascii;    /* 1 in a non-UTF-8 locale: ASCII marks and lines */

/* ---- actions and the key table (ui_keys.c) ------------------------------- */
enum ui_action {
	ACT_NONE,
	ACT_UP, ACT_DOWN, ACT_PAGE_UP, ACT_PAGE_DOWN, ACT_FIRST, ACT_LAST,
	ACT_ENTER, ACT_BACK, ACT_QUIT, ACT_HELP, ACT_REDRAW,
	/* home */
	ACT_ADD, ACT_EDIT, ACT_DELETE, ACT_VALIDATE, ACT_FETCH, ACT_PAUSE, ACT_TROUBLESHOOT,
	/* preview */
	ACT_NEXT_TYPE, ACT_TYPE_1, ACT_TYPE_2, ACT_TYPE_3, ACT_FILTER, ACT_THREATS,
	ACT_FOLLOW, ACT_EXPORT,
	/* forms */
	ACT_NEXT_FIELD, ACT_PREV_FIELD,
	ACT_COUNT
};

struct ui_keybinding {
	const char *scope;      /* screen name ("home", "preview", ...) or "*" */
	int key;                /* curses key code or character */
	const char *keyname;    /* as shown: "Enter", "Tab", "q", "?" */
	enum ui_action action;
	const char *help;       /* one line for the help screen and footer */
	int in_footer;          /* shown in the footer hints */
};
extern const struct ui_keybinding ui_keys[];
extern const size_t ui_nkeys;
/* The action bound to key in scope (falling back to "*"), or ACT_NONE. */
enum ui_action ui_key_action(const char *scope, int key);

/* ---- shared state ---------------------------------------------------------- */
struct ui_ctx {
	struct mw_config *cfg;        /* the loaded config (NULL: none yet) */
	char config_path[4096];
	mw_store *store;              /* the UI thread's own read connection */
	collector *col;               /* in-process collector, or NULL */
	int attached;                 /* another process (mimewatch run) collects */
	long attached_pid;
	int demo;
	int64_t store_version;        /* PRAGMA data_version seen last */
	char message[512];            /* status line */
	enum ui_role message_role;
	int quit;
};

/* ---- screens ------------------------------------------------------------------- */
struct ui_view;
struct ui_view_ops {
	const char *name;             /* also the key scope */
	/* Called when pushed; arg is screen specific. Non-zero refuses. */
	int (*open)(struct ui_view *v, void *arg);
	void (*close)(struct ui_view *v);
	/* The store changed (collector wake-up or data_version moved). */
	void (*reload)(struct ui_view *v);
	/* Draws the body inside (y0, x0, height, width) of stdscr. */
	void (*draw)(struct ui_view *v, int y0, int x0, int height, int width);
	/* A named action: 1 handled, 0 passes it to the generic handler. */
	int (*action)(struct ui_view *v, enum ui_action a);
	/* Raw input while the screen edits text (forms, the filter prompt):
	 * return 1 when consumed; NULL or 0 maps the key through the table. */
	int (*input)(struct ui_view *v, wint_t ch, int is_key);
	/* Title in the header and the footer's scope. */
	const char *(*title)(struct ui_view *v);
};

struct ui_view {
	const struct ui_view_ops *ops;
	struct ui_ctx *ctx;
	void *priv;
};

/* Screen stack (ui_main.c). */
int ui_push(struct ui_ctx *ctx, const struct ui_view_ops *ops, void *arg);
void ui_pop(struct ui_ctx *ctx);
void ui_message(struct ui_ctx *ctx, enum ui_role role, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Asks the collector (in this process or a `mimewatch run`) for action
 * through the store; the one way a screen requests anything of it
 * (session.c). */
int ui_request(struct ui_ctx *ctx, const char *integration, const char *type,
	       enum mw_request action, const char *arg, int64_t *id, mw_err *e);

/* ---- widgets (ui_widgets.c) ----------------------------------------------------- */
/* Draws s[0..n) sanitised (sanitize_display), cut to max_cols display columns,
 * in role; returns columns used. Every string from Mimecast goes through it. */
int ui_text(int y, int x, int max_cols, enum ui_role role, const char *s, size_t n);
int ui_textf(int y, int x, int max_cols, enum ui_role role, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void ui_hline(int y, int x, int width);
/* The overall mark: a green tick, or ASCII "OK"/"!!" with ui_ascii. */
const char *ui_mark_ok(void);
const char *ui_mark_bad(void);

/* A scrolling list with a cursor: generic movement for every screen. */
struct ui_list {
	int count, cursor, top;
};
/* Applies a movement action for a list shown in height rows: 1 if handled. */
int ui_list_action(struct ui_list *l, enum ui_action a, int height);
void ui_list_clamp(struct ui_list *l, int height);

/* A one-line text field (optionally masked), with paste-friendly editing. */
struct ui_field {
	char buf[1024];
	size_t len, cur;                /* bytes */
	int masked;                     /* show '*' per character */
};
int ui_field_input(struct ui_field *f, wint_t ch, int is_key); /* 1 consumed */
void ui_field_draw(const struct ui_field *f, int y, int x, int width, int focused);

/* ---- the screens (one file each) ------------------------------------------------ */
extern const struct ui_view_ops view_home;      /* ui/view_home.c: integrations */
extern const struct ui_view_ops view_trouble;   /* ui/view_trouble.c: troubleshooting */
extern const struct ui_view_ops view_help;      /* ui/view_help.c: generated from ui_keys */
extern const struct ui_view_ops view_wizard;    /* ui/view_wizard.c: onboarding; arg: name to edit or NULL */
/* Waits (at most wait_ms) for wizard checks still running after their
 * screen closed: called once before the console exits. */
void wizard_wait_workers(int64_t wait_ms);
extern const struct ui_view_ops view_logs;      /* ui/view_logs.c: preview; arg: struct ui_logs_arg* */
extern const struct ui_view_ops view_record;    /* ui/view_record.c: detail; arg: int64_t* rowid */

struct ui_logs_arg {
	const char *integration;
	int type_index;                 /* index in mw_logtypes */
};

#endif
