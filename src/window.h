/* window.h - what a page means for the window that asked for it, and where
 * a window starts and ends (HACKING, "Collecting exactly once"). Pure
 * arithmetic, no I/O: the collector feeds it what a page held, what the
 * window received so far and the integration's lag, overlap and lookback,
 * and acts on the answer; the replay corpus and the unit tests call it
 * directly.
 *
 * May include: nothing but the C library. */
#ifndef MW_WINDOW_H
#define MW_WINDOW_H

#include <stddef.h>
#include <stdint.h>

/* One page, as the window sees it. */
struct window_page {
	size_t nrecords;        /* records on this page (0: an empty page) */
	int has_next;           /* meta.pagination.next present and non-empty */
	int64_t total_count;    /* meta.pagination.totalCount, -1 when absent */
	int64_t received;       /* records received in this window so far,
	                           this page included (stored or duplicate) */
	int restarted;          /* this window is already the one restart from
	                           the newest record received */
};

enum window_step {
	WINDOW_NEXT_PAGE,       /* follow next */
	WINDOW_COMPLETE,        /* the horizon moves to the window's end */
	WINDOW_RESTART,         /* the tenant said it holds more than the window
	                           received: start once more from the newest
	                           record received inside it, less the overlap */
};

/* An empty page ends the window whatever next says (next is never followed
 * from an empty page); so does a page without next. The window is then
 * complete unless totalCount says the tenant holds more than was received,
 * and this window is not already the restart. */
enum window_step window_after_page(const struct window_page *p);

const char *window_step_name(enum window_step s);

/* ---- the window's bounds (seconds since the epoch throughout) ---- */

/* The next window of a job whose horizon is horizon (0: never collected):
 * [horizon - overlap, now - lag], or [now - lookback, now - lag] for a first
 * window. 1 with *from and *to set when there is something to ask for; 0 when
 * not yet (*from and *to set all the same): the window would be empty, or
 * would end at or before the horizon. A horizon ahead of now - lag is pulled
 * back first (window_pull_back). */
int window_bounds(int64_t horizon, int64_t now, int64_t lag, int64_t overlap,
		  int64_t lookback, int64_t *from, int64_t *to);

/* Where a horizon ahead of to (now - lag: a clock that ran fast once) goes
 * back to: the newest record stored in the window that set it (newest, 0 when
 * none), else that window's start win_from when it is before to, else to;
 * never past to. */
int64_t window_pull_back(int64_t newest, int64_t win_from, int64_t to);

/* The start of the one restart (WINDOW_RESTART): the newest record received
 * (win_progress) less the overlap, but never before the window's own start. */
int64_t window_restart_from(int64_t win_from, int64_t win_progress, int64_t overlap);

/* A refused page token restarts the window at the newest record received
 * less the overlap: 1 with *from set, or 0 when that is not after the
 * window's start (it would ask for the same pages again). */
int window_token_restart(int64_t win_from, int64_t win_progress, int64_t overlap,
			 int64_t *from);

#endif
