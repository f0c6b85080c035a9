/* ui.h - the public header of ui/, the console: screens as data plus a
 * small ops struct (tig's view_ops), keys mapped to named actions through one
 * table (the help screen is generated from it), colours as named roles, and
 * the drawing helpers every screen uses. Each section below names the one
 * .c file whose functions it declares. Only the UI thread calls anything
 * here, except where a comment says otherwise.
 *
 * What ui/ may include: curses; the C library; src/'s public headers util.h,
 * logtypes.h, status.h, sanitize.h, jsonscan.h, requests.h; config/config.h
 * and store/store.h for their types (a screen reads the store through
 * store.h's queries; only session.c opens it, locks it, or calls a config
 * function); mimecast/mimecast.h only for the error classes and regions
 * (and the types of a validation's report); output/output.h only for
 * ndjson_line (the preview's export writes the NDJSON output's lines);
 * collector.h only from session.c. No ui file includes sqlite3.h or
 * calls the Mimecast client's requests: the wizard's live checks go through
 * session.c like every other action. ui/'s other headers: console.h (console.c, for src/main.c),
 * session.h (session.c), script.h (script.c), demo.h (demo.c),
 * wizard/wizard.h (ui/wizard/, private). */
#ifndef MW_UI_H
#define MW_UI_H

#include <stddef.h>
#include <stdint.h>
#define NCURSES_WIDECHAR 1
#include <curses.h>

#include "config/config.h"
#include "store/store.h"

struct collector;   /* collector.h: session.c's alone */

/* ---- colours as roles (ui_colors.c) -------------------------------------- */
enum ui_role {
	ROLE_NORMAL, ROLE_OK, ROLE_WARNING, ROLE_ERROR, ROLE_MUTED, ROLE_SELECTION,
	ROLE_HEADING, ROLE_TITLE, ROLE_KEY, ROLE_INPUT,
	ROLE_MATCH,     /* what a filter or a search matched */
	ROLE_COUNT
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
	ACT_COLLECT,    /* C: collect in this console (no `mimewatch run` does) */
	ACT_TIME_ZONE,  /* T: times in UTC or in local time, on every screen */
	ACT_EVENTS,     /* E: the collector's recent events (view_events) */
	/* home */
	ACT_ADD, ACT_EDIT, ACT_DELETE, ACT_VALIDATE, ACT_FETCH, ACT_PAUSE, ACT_TROUBLESHOOT,
	ACT_RENAME,     /* R: rename the selected integration, keeping its records */
	ACT_COVERAGE,   /* c: the coverage view of the selected integration or type */
	/* coverage: the cursor over the timeline's cells */
	ACT_LEFT, ACT_RIGHT,
	/* preview */
	ACT_NEXT_TYPE, ACT_FILTER, ACT_THREATS, ACT_FOLLOW, ACT_EXPORT,
	/* preview and its columns (logs_columns.c): s, S, <, >, C; the chooser's
	 * Space, K and J */
	ACT_SORT, ACT_SORT_REVERSE, ACT_NARROW, ACT_WIDEN, ACT_COLUMNS,
	ACT_TOGGLE, ACT_MOVE_EARLIER, ACT_MOVE_LATER,
	/* record (the detail; / is ACT_FILTER there too: it searches) */
	ACT_MATCH_NEXT, ACT_MATCH_PREV, ACT_OLDER, ACT_NEWER, ACT_RAW, ACT_COPY,
	/* the log type of index i in mw_logtypes is ACT_TYPE + i (keys 1-9) */
	ACT_TYPE, ACT_TYPE_END = ACT_TYPE + 9,
	/* forms */
	ACT_NEXT_FIELD, ACT_PREV_FIELD,
	ACT_TO_FORM,    /* f: the wizard's form at once, the checklist skipped */
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
/* The help text of a binding: its own, or for a log type's key the type's
 * label from mw_logtypes (in buf); NULL when it has none (an alias, or a
 * number with no type). */
const char *ui_key_help(const struct ui_keybinding *k, char *buf, size_t n);

/* ---- shared state ---------------------------------------------------------- */
struct ui_ctx {
	struct mw_config *cfg;        /* the loaded config (NULL: none yet); session.c swaps it */
	char config_path[4096];
	mw_store *store;              /* the UI thread's own connection (session.c opens it) */
	struct collector *col;        /* in-process collector, or NULL (session.c's) */
	int attached;                 /* another process (mimewatch run) collects */
	long attached_pid;
	char shard[64];               /* the collector's "shard K/N: X of Y
				       * integrations" (the attached run's, or this
				       * console's own), "" unsharded (session.c) */
	unsigned shard_k, shard_n;    /* --shard K/N: the console's own collector's
				       * (n 0: every integration) */
	unsigned col_shard_k, col_shard_n; /* the shard of the collector in
				       * effect, its own or the attached run's (n 0:
				       * unsharded; session.c) */
	long exited_pid;              /* the run we were attached to exited and nothing
				       * collects since (session.c notices): 0 when not so */
	int took_over;                /* collecting here since c, after a run exited */
	int demo;
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
	/* A mouse click at screen (y, x): selects the row drawn there; 1 when
	 * it did. NULL: the screen has nothing to click. */
	int (*click)(struct ui_view *v, int y, int x);
	/* A bracketed paste as a whole (UTF-8, newlines kept; at most
	 * UI_PASTE_MAX bytes), for a screen that reads several values from
	 * one paste. NULL: its characters go to input one by one, newlines
	 * dropped. */
	void (*paste)(struct ui_view *v, const char *text, size_t len);
};
#define UI_PASTE_MAX 8192

struct ui_view {
	const struct ui_view_ops *ops;
	struct ui_ctx *ctx;
	void *priv;
};

/* ---- the frame (frame.c): screen stack, messages, header and footer, keys --------- */

/* Bracketed paste (xterm's mode 2004): the terminal wraps pasted text in
 * these, so a pasted newline is text, not Enter. */
#define KEY_PASTE_BEGIN (KEY_MAX + 1)
#define KEY_PASTE_END (KEY_MAX + 2)
/* Below this the frame shows "terminal too small" instead of a screen. */
#define UI_MIN_COLS 60
#define UI_MIN_ROWS 15

int ui_push(struct ui_ctx *ctx, const struct ui_view_ops *ops, void *arg);
void ui_pop(struct ui_ctx *ctx);
/* The status line. A message belongs to the screen on top when it is set
 * and goes when that screen is covered or closed; ui_app_message's (the
 * collector, the config) stay from screen to screen; ui_message_to_below
 * hands the top screen's message to the one below, which it closes to show
 * a result there (the wizard's "Saved"). */
void ui_message(struct ui_ctx *ctx, enum ui_role role, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ui_app_message(struct ui_ctx *ctx, enum ui_role role, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ui_message_to_below(void);
/* Drops the top screen's own message (not an app message, not another
 * screen's): for a screen that now shows something else, as the preview
 * on another tab, where "42 threats" would speak of the last one. */
void ui_message_clear(struct ui_ctx *ctx);
/* Where a focused text field wants the terminal cursor (ui_field_draw sets
 * it; the frame resets it to -1 before each draw). */
extern int ui_cursor_y, ui_cursor_x;

/* For console.c and script.c: */
/* The frame draws ctx's screens; show_cursor 0 keeps the cursor hidden
 * (script mode). */
void frame_init(struct ui_ctx *ctx, int show_cursor);
/* Something changed: draw before the next wait. */
void frame_dirty(void);
int frame_is_dirty(void);
/* Draws header, the top screen and footer (or the too-small notice). */
void frame_draw(void);
/* The top screen's reload(), then a redraw; frame_last_reload: when (mono ms). */
void frame_reload_top(void);
int64_t frame_last_reload(void);
/* The terminal's size changed (screens re-page in reload()); full redraw. */
void frame_resized(void);
/* Redraw every cell at the next draw (after the terminal was disturbed). */
void frame_full_redraw(void);
/* One key or character: the screen's input(), else the key table's action
 * for the screen, else the generic one (back, quit, help, redraw). */
void frame_key(struct ui_ctx *ctx, wint_t ch, int is_key);
/* The mouse (console.c decodes it; script mode makes it up): a click
 * selects what is under it, a double click also opens it (Enter), the
 * wheel moves as UI_WHEEL_STEP Up or Down keys do. */
enum ui_mouse { UI_CLICK, UI_DOUBLE_CLICK, UI_WHEEL_UP, UI_WHEEL_DOWN };
#define UI_WHEEL_STEP 3
void frame_mouse(struct ui_ctx *ctx, enum ui_mouse m, int y, int x);
/* Closes every screen, top first, without reloads (exit). */
void frame_close_all(void);

/* ---- waking and ticking (console.c) ------------------------------------------------ */

/* Safe from any thread and from signal handlers: makes the main loop wake
 * up, call the top screen's reload() and redraw. */
void ui_wake(void);
/* Worker threads bracket their work with ui_busy(+1) ... ui_busy(-1) (the
 * -1 before the final ui_wake()), so that script mode's wait-idle waits for
 * them. Thread-safe. */
void ui_busy(int delta);
/* Asks the main loop to call the top screen's reload() again within ms
 * milliseconds (sliced work such as a long search, countdowns). One-shot:
 * ask again from reload() to keep ticking. */
void ui_tick(int ms);
/* Bytes for the terminal itself, outside curses' buffer, between frames
 * (OSC 52). Script mode has no terminal: they go to the file
 * $MIMEWATCH_OSC52_FILE names (appended, for tests), or nowhere. 0 or -1. */
int ui_term_write(const char *s, size_t n);

/* ---- widgets (ui_widgets.c) ----------------------------------------------------- */
/* Draws s[0..n) sanitised (sanitize_display), cut to max_cols display columns,
 * in role; returns columns used. Every string from Mimecast goes through it. */
int ui_text(int y, int x, int max_cols, enum ui_role role, const char *s, size_t n);
/* ui_text with the parts that equal one of words (ASCII case-insensitively,
 * as the filter matches) drawn in ROLE_MATCH. */
int ui_text_marked(int y, int x, int max_cols, enum ui_role role, const char *s, size_t n,
		   const char *const *words, size_t nwords);
int ui_textf(int y, int x, int max_cols, enum ui_role role, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void ui_hline(int y, int x, int width);
/* The overall mark: a green tick, or ASCII "OK"/"!!" with ui_ascii. */
const char *ui_mark_ok(void);
const char *ui_mark_bad(void);
/* Neither: nothing to do yet (an output with nothing to send), "-" or "--". */
const char *ui_mark_idle(void);
/* The separator between parts of a title or a state line, a middle dot
 * or, with ui_ascii, "-"; and the mark of cut text, an ellipsis or "...".
 * Every glyph outside ASCII has its fallback here or in the marks above. */
const char *ui_dot(void);
const char *ui_ellipsis(void);
/* A sorted column's direction: a triangle down (largest or newest first) or
 * up, or with ui_ascii "v" and "^". */
const char *ui_mark_sort(int desc);
/* The coverage view's marks of a cell: collected, a gap, being backfilled,
 * to be read next by the regular collection, nothing (the future). */
enum ui_cov { UI_COV_COLLECTED, UI_COV_GAP, UI_COV_BACKFILL, UI_COV_PENDING, UI_COV_NONE };
const char *ui_cov_mark(enum ui_cov c);
/* A sparkline's cell: level 0 (blank) to 8 (a full block). */
const char *ui_spark(int level);

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

/* The status line's message wraps onto up to this many bottom lines
 * (frame.c); the key hints stand above it. */
#define UI_MESSAGE_LINES 3

/* Draws text from (y, x) wrapped at spaces into lines of at most w
 * columns (a word wider than that is cut where the line ends), on at most
 * max lines; returns the lines it takes. draw=0 only counts. The one
 * word-wrap of the console. */
int ui_wrap(const char *text, int w, int draw, int y, int x, int max, enum ui_role role);

/* A scrollable page of paragraphs, each wrapped to the width when drawn
 * (help, troubleshooting, the wizard's checklist and check). A page taller
 * than its rows gives up its last row to say so (ui_more_hint). */
struct ui_doc_line {
	enum ui_role role;
	int indent;
	char *text;
	char *lead;         /* NULL, or drawn before the text's first line in
			     * lead_role; the text wraps under itself ("Fix: ...") */
	enum ui_role lead_role;
};
struct ui_doc {
	struct ui_doc_line *lines;
	size_t n, cap;
	int top;            /* first wrapped line shown */
	int total;          /* wrapped lines at the last draw */
	int rows;           /* rows of text shown at the last draw */
};
void ui_doc_add(struct ui_doc *d, enum ui_role role, int indent, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A paragraph after a lead in another role, e.g. "Where: " or a table's
 * first columns: the text wraps under its own first column. */
void ui_doc_add_lead(struct ui_doc *d, enum ui_role lead_role, const char *lead,
		     enum ui_role role, int indent, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
void ui_doc_clear(struct ui_doc *d);   /* empties it, keeps the scroll position */
void ui_doc_draw(struct ui_doc *d, int y0, int height, int width);
/* Scrolling by the movement actions: 1 if handled. */
int ui_doc_action(struct ui_doc *d, enum ui_action a, int height);
/* "more below", "more above" or both, with arrows (the words alone with
 * ui_ascii) and the key that scrolls, right-aligned on row y of a page of
 * that width; nothing when neither. Every page that does not fit says so. */
void ui_more_hint(int y, int width, int above, int below);

/* 132602 -> "132,602": every count on every screen, alike. */
void ui_fmt_count(int64_t v, char *buf, size_t n);
/* Times as every screen shows them: in UTC (the default) or, after T, in
 * local time (the TZ environment variable's zone, as localtime_r reads
 * it). The one choice of the console; relative durations ("4m ago") have
 * no zone and stay as they are. */
void ui_time_set_local(int local);
int ui_time_is_local(void);
/* t (epoch seconds) in that zone, "2024-11-17 17:02:30" (19 columns), and
 * with_zone adds the zone's label for that date ("... UTC", "... CEST");
 * the number itself when the C library cannot convert it. */
void ui_fmt_time(int64_t t, int with_zone, char *buf, size_t n);
/* The zone's label now, as a column heading names it: "UTC", or the local
 * abbreviation ("CET", "IST"; "UTC" where local time is UTC), or its offset
 * ("+0530") when the abbreviation is missing or long: at most 10 columns. */
void ui_time_zone(char *buf, size_t n);
/* A type's status (struct store_status) drawn as home draws it under the
 * type's row, with x the left column and width the screen's: the error
 * class, HTTP status and remedy, the gateway's throttle, a warning. Lines
 * drawn (or, with draw 0, that would be); 0 when all is well. */
/* note: NULL the error and its remedy; "" the error alone (the remedy is
 * under another type already); else the error with note after it. */
int ui_status_lines(const struct store_status *s, int api, const char *note, int width,
		    int draw, int y, int x);
/* Seconds until a throttled type may ask again, rounded up; 0 when not. */
int64_t ui_throttle_left(const struct store_status *s);

/* ---- the preview's columns (logs_columns.c) ---------------------------------------- */
/* Per log type: the columns shown, their order and widths, the sort column
 * (also the selected one: < and > size it) and its direction; remembered in
 * state_dir/console.json. type is an index in mw_logtypes. */
#define UI_MAX_COLS 12
struct ui_cols {
	int n;                  /* columns shown, left to right */
	int col[UI_MAX_COLS];   /* index in the type's columns (logtypes.c) */
	int w[UI_MAX_COLS];     /* display columns */
	int flex;               /* which of them takes the rest of the width, or -1 */
};
/* Reads state_dir/console.json once per state directory (a preview opening
 * calls it); a damaged file is ignored with a message naming it. */
void columns_load(struct ui_ctx *ctx);
void columns_layout(int type, int width, struct ui_cols *out);
/* The headings of cs on row y from x: the time column names its zone, the
 * sort column carries ui_mark_sort. */
void columns_headings(int type, const struct ui_cols *cs, int y, int x);
int columns_time(int type);             /* the time column's index */
int columns_sort(int type, int *desc);  /* the sort column's index */
/* 1 when the order is not the store's own (the time, newest first). */
int columns_sorted(int type);
/* The record key of the sort column, or NULL for the time. */
const char *columns_sort_field(int type);
/* s, S, < and > (by delta steps, at the screen's width); each change is saved. */
void columns_sort_next(struct ui_ctx *ctx, int type);
void columns_sort_reverse(struct ui_ctx *ctx, int type);
void columns_resize(struct ui_ctx *ctx, int type, int delta, int width);
/* Back to the store's own order (following new records asks for it). */
void columns_follow(struct ui_ctx *ctx, int type);

/* ---- the preview's export, x (logs_export.c) ---------------------------------------- */
struct logs_export;
/* Opens the file typed (made absolute: "~/" the home directory, a relative
 * name the working directory's) and starts writing q's records; NULL when
 * it cannot (said on the status line; after "exists", next holds the free
 * name x proposes). */
struct logs_export *logs_export_start(struct ui_ctx *ctx, const struct store_query *q,
				      const char *typed, char *next, size_t nnext);
/* One slice: 1 more to do, 0 done (finished, said, *xp NULL). */
int logs_export_step(struct ui_ctx *ctx, struct logs_export **xp);
/* Ends it: ok 0 cancels (the file is removed); *xp becomes NULL. */
void logs_export_finish(struct ui_ctx *ctx, struct logs_export **xp, int ok);
/* The file's path, and the records written so far. */
const char *logs_export_progress(const struct logs_export *x, int64_t *written);
/* The name x proposes: next (then emptied) or mimewatch-INTEGRATION-TYPE.ndjson
 * in the working directory, or the first free name after it. */
void logs_export_name(const char *integration, const char *type, char *next, char *out,
		      size_t n);

/* ---- the screens (one file each; their ops are all they export) ------------------- */
extern const struct ui_view_ops view_home;      /* ui/view_home.c: integrations */
extern const struct ui_view_ops view_trouble;   /* ui/view_trouble.c: troubleshooting */
extern const struct ui_view_ops view_help;      /* ui/view_help.c: generated from ui_keys */
extern const struct ui_view_ops view_wizard;    /* ui/wizard/view.c: onboarding; arg: name to edit or NULL */
/* A remedy as the console shows it: the config keys that the edit form
 * (e) shows under other names said as the form does ("set ca_file" reads
 * "set Extra CA file"), into out (n bytes). ui/wizard/form.c, which owns
 * the form's labels. */
void ui_form_words(const char *in, char *out, size_t n);
extern const struct ui_view_ops view_logs;      /* ui/view_logs.c: preview; arg: struct ui_logs_arg* */
extern const struct ui_view_ops view_record;    /* ui/view_record.c: detail; arg: struct ui_record_arg* */
extern const struct ui_view_ops view_events;    /* ui/view_events.c: the collector's events */
extern const struct ui_view_ops view_columns;   /* ui/logs_columns.c: the chooser; arg: int* type */
extern const struct ui_view_ops view_coverage;  /* ui/view_coverage.c: arg: struct ui_logs_arg* */

/* ---- the wizard's worker threads (wizard/jobs.c) ---- */
/* Waits (at most wait_ms) for wizard checks still running after their
 * screen closed: called once before the console exits. */
void wizard_wait_workers(int64_t wait_ms);

struct ui_logs_arg {
	const char *integration;
	int type_index;                 /* index in mw_logtypes */
};

/* The detail's record, and the list it was opened from: step(list, rowid,
 * dir) answers the rowid after rowid in that list (dir 1: the older one,
 * -1: the newer), selecting it there, or 0 at the list's end. step NULL:
 * no list (J and K say so). */
struct ui_record_arg {
	int64_t rowid;
	int64_t (*step)(struct ui_ctx *ctx, void *list, int64_t rowid, int dir);
	void *list;
};

#endif
