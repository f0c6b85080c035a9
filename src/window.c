/* window.c - the end-of-window rule (window.h). Public fixtures of the real
 * service end a window with an empty page that still carries next and a
 * totalCount ({"data":[],"meta":{"pagination":{"next":"next","totalCount":0}}},
 * elastic/integrations ttp_url_logs pipeline tests; Elastic's mock answers
 * "next":"String" with empty data), so neither next nor totalCount alone can
 * decide: an empty page ends the window, and totalCount only earns one
 * restart from the newest record received, which costs a re-read of the
 * overlap, never a loss. */
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
