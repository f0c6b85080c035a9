/* session.c - the console's one way to ask the collector for anything: a
 * request through the store (design.md, "Console actions reach the
 * collector through the store"), whether the collector runs in this process
 * or in a `mimewatch run` the console is attached to. */
#include "ui.h"

int ui_request(struct ui_ctx *ctx, const char *integration, const char *type,
	       enum mw_request action, const char *arg, int64_t *id, mw_err *e)
{
	if (!ctx->store) {
		mw_err_set(e, "no store open: nothing collects yet");
		return -1;
	}
	if (store_request_add(ctx->store, integration, type, action, arg, id, e) < 0)
		return -1;
	if (ctx->col)
		collector_poke(ctx->col);  /* in this process: no 1-second poll to wait for */
	return 0;
}
