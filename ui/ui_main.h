/* ui_main.h - what the console's main loop offers screens beyond ui.h:
 * starting the collector after the first config is saved, and a way for
 * worker threads (wizard validation, discovery) to wake the UI thread and
 * to hold script mode's wait-idle until they finish. */
#ifndef MW_UI_MAIN_H
#define MW_UI_MAIN_H

#include "ui.h"

/* Opens the store in ctx->cfg->state_dir, takes the collector lock and
 * starts the in-process collector (deliver=1), or marks ctx->attached when
 * a `mimewatch run` holds the lock. 0 ok (also when already started), -1
 * with the reason in ctx->message. */
int ui_start_collector(struct ui_ctx *ctx);

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

/* Where a focused text field wants the terminal cursor (ui_field_draw sets
 * it; the frame resets it to -1 before each draw). */
extern int ui_cursor_y, ui_cursor_x;

/* ---- text pages (ui_widgets.c): help, troubleshooting ---- */

/* Draws text from (y, x) wrapped at spaces into lines of at most w
 * columns, on at most max lines; returns the lines it takes. draw=0 only
 * counts. */
int ui_wrap(const char *text, int w, int draw, int y, int x, int max, enum ui_role role);

/* A scrollable page of paragraphs, each wrapped to the width when drawn. */
struct ui_doc_line {
	enum ui_role role;
	int indent;
	char *text;
};
struct ui_doc {
	struct ui_doc_line *lines;
	size_t n, cap;
	int top;            /* first wrapped line shown */
	int total;          /* wrapped lines at the last draw */
};
void ui_doc_add(struct ui_doc *d, enum ui_role role, int indent, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void ui_doc_clear(struct ui_doc *d);   /* empties it, keeps the scroll position */
void ui_doc_draw(struct ui_doc *d, int y0, int height, int width);
/* Scrolling by the movement actions: 1 if handled. */
int ui_doc_action(struct ui_doc *d, enum ui_action a, int height);

#endif
