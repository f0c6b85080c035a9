/* window.h - what a page means for the window that asked for it (HACKING,
 * "Collecting exactly once"). Pure arithmetic, no I/O: the collector feeds it
 * what a page held and what the window received so far, and acts on the
 * answer; the replay corpus and the unit tests call it directly.
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

#endif
