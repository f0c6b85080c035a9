/* window.c - the end-of-window rule and the window's bounds (window.h). Public fixtures of the real
 * service end a window with an empty page that still carries next and a
 * totalCount ({"data":[],"meta":{"pagination":{"next":"next","totalCount":0}}},
 * elastic/integrations ttp_url_logs pipeline tests; Elastic's mock answers
 * "next":"String" with empty data), so neither next nor totalCount alone can
 * decide: an empty page ends the window, and totalCount only earns one
 * restart from the newest record received, which costs a re-read of the
 * overlap, never a loss. The bounds below are the rest of HACKING's
 * "Collecting exactly once": [horizon - overlap, now - lag], a first window
 * from now - lookback, and where a pulled-back horizon or a restart lands. */
#include "window.h"

enum window_step window_after_page(const struct window_page *p)
{
	if (p->nrecords > 0 && p->has_next)
		return WINDOW_NEXT_PAGE;
	if (!p->restarted && p->total_count > 0 && p->total_count > p->received)
		return WINDOW_RESTART;
	return WINDOW_COMPLETE;
}

const char *window_step_name(enum window_step s)
{
	switch (s) {
	case WINDOW_NEXT_PAGE: return "next page";
	case WINDOW_COMPLETE: return "complete";
	case WINDOW_RESTART: return "restart";
	}
	return "?";
}

int window_bounds(int64_t horizon, int64_t now, int64_t lag, int64_t overlap,
		  int64_t lookback, int64_t *from, int64_t *to)
{
	*to = now - lag;
	*from = horizon ? horizon - overlap : now - lookback;
	return !(*to <= *from || (horizon && *to <= horizon));
}

int64_t window_pull_back(int64_t newest, int64_t win_from, int64_t to)
{
	int64_t back = newest ? newest : (win_from && win_from < to ? win_from : to);

	return back > to ? to : back;
}

int64_t window_restart_from(int64_t win_from, int64_t win_progress, int64_t overlap)
{
	return win_progress - overlap > win_from ? win_progress - overlap : win_from;
}

int window_token_restart(int64_t win_from, int64_t win_progress, int64_t overlap,
			 int64_t *from)
{
	*from = win_progress - overlap;
	return *from > win_from;
}
