/* session.h - session.c: the console's one way into the rest of mimewatch.
 * The config (load, save, the swap of the screens' copy), the store's
 * connection and the collector lock, the in-process collector or attaching
 * to a `mimewatch run`, requests to the collector, and the wizard's live
 * checks. session.c is the only ui file that calls a config or collector
 * function, or opens the store; screens only read the store through
 * store.h's queries. */
#ifndef MW_UI_SESSION_H
#define MW_UI_SESSION_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "mimecast/mimecast.h"
#include "requests.h"
#include "ui.h"

/* ---- start and end (console.c) ---- */

/* Loads the config at path (NULL: the default path) into ctx. Without a
 * file ctx->cfg stays NULL (the wizard writes the first one). With one, the
 * store is opened and the collector started (or attached to). 0, or -1
 * with the reason in e. */
int session_open(struct ui_ctx *ctx, const char *path, mw_err *e);
/* Opens the store in ctx->cfg->state_dir, takes the collector lock and
 * starts the in-process collector (deliver=1), or marks ctx->attached when
 * a `mimewatch run` holds the lock. 0 ok (also when already started), -1
 * with the reason in ctx->message. */
int session_start_collector(struct ui_ctx *ctx);
/* c: starts collecting in this console (session_start_collector) when no
 * `mimewatch run` holds the lock, and says on the status line what came of
 * it: collecting here, attached to a run that started first, or why not. */
void session_collect_here(struct ui_ctx *ctx);
/* Stops and joins the in-process collector (may take a second). */
void session_stop_collector(struct ui_ctx *ctx);
/* Closes the store, the lock and frees the config. */
void session_close(struct ui_ctx *ctx);

/* ---- what the main loop watches ---- */

/* The in-process collector's wake-up fd, or -1. */
int session_wake_fd(const struct ui_ctx *ctx);
/* Once a second while attached or after the run attached to exited (the
 * main loop): asks whether another process still holds the collector lock
 * (store_lock_holder). The run gone: ctx->attached cleared, ctx->exited_pid
 * set and the status line offers c. A new holder seen on two looks in a row
 * (a passing `mimewatch status` holds the lock for a moment only): attached
 * to it. 1 when that changed anything, else 0. */
int session_watch_collector(struct ui_ctx *ctx);
/* Requests no collector has finished (new or running), or -1. */
int session_requests_waiting(struct ui_ctx *ctx);
/* 1 when another process committed to the store since the last call. */
int session_store_changed(struct ui_ctx *ctx);
/* Script mode's wait-idle, the store's side: no request new or running, no
 * output that is fine left behind, every configured (integration, type)
 * attempted at least once and none mid-window. since_ms: requests that
 * finished before it are old news. */
int session_idle(struct ui_ctx *ctx, int64_t since_ms);
/* 0 when the collector in effect is a shard that does not take name. */
int session_collects(const struct ui_ctx *ctx, const char *name);

/* ---- actions ---- */

/* Asks the collector (in this process or a `mimewatch run`) for action
 * through the store; the one way a screen requests anything of it. */
int ui_request(struct ui_ctx *ctx, const char *integration, const char *type,
	       enum mw_request action, const char *arg, int64_t *id, mw_err *e);

/* THE "save config, request reload, swap" sequence: writes cfg to
 * ctx->config_path (its directory made when missing; comments kept), asks
 * the collector to reload it, and swaps ctx->cfg for the file read back.
 * When the file changed since cfg was read (another console, a hand edit),
 * it is not overwritten: this console's change is applied on top of it,
 * field by field (config_save_merged). 0 done; 2 done on top of the other
 * edit, e says the difference and what was applied; -3 nothing saved, a
 * conflict (e names it); -1 nothing saved; 1 saved and swapped, but the
 * collector was not told; -2 saved (and told), but reading it back failed:
 * ctx->cfg is as it was. The reason in e. */
int session_save_config(struct ui_ctx *ctx, const struct mw_config *cfg, mw_err *e);
/* The config with in added, or in place of the integration named replace
 * (NULL: added), saved by session_save_config (same returns). A first
 * config gets the default state directory. */
int session_save_integration(struct ui_ctx *ctx, const struct mw_integration *in,
			     const char *replace, mw_err *e);
/* The config without the integration name, saved by session_save_config,
 * then its records deleted by the collector. 0, or as session_save_config;
 * 1 also when the delete request failed. */
int session_delete_integration(struct ui_ctx *ctx, const char *name, mw_err *e);
/* Renames integration from to to, keeping its cursors and stored records
 * (collector_rename_integration): done here under the collector lock when
 * nothing collects, else asked of the collector and waited for (10 s at
 * most); then ctx->cfg is read back. 0 done; -1 refused or failed, nothing
 * changed; 1 asked but not answered yet; -2 renamed but reading the file
 * back failed. The reason in e. */
int session_rename_integration(struct ui_ctx *ctx, const char *from, const char *to,
			       mw_err *e);

/* ---- the config's integrations ---- */

/* The integration of that name in ctx->cfg, or NULL. */
const struct mw_integration *session_integration(const struct ui_ctx *ctx, const char *name);
void session_integration_defaults(struct mw_integration *in);
void session_integration_clear(struct mw_integration *in);
/* config_proxy_copy: the wizard keeps an entry's proxy keys, which it does
 * not show. */
void session_proxy_copy(struct mw_proxy *dst, const struct mw_proxy *src);
/* A new entry takes the config's top-level proxy, as loading gives it to
 * every entry, so the wizard's live checks go where collection will. */
void session_proxy_inherit(const struct ui_ctx *ctx, struct mw_integration *in);
/* The loader's own check of one integration: 0, or -1 with its message. */
int session_integration_check(const struct mw_integration *in, mw_err *e);
/* A secret kept in a file of its own, as the loader reads it. */
int session_read_secret_file(const char *path, char **data, size_t *len, mw_err *e);

/* ---- the wizard's live checks (called from its worker threads) ---- */

/* validate: get-account, then one probe per chosen type. */
void session_validate(const struct mw_integration *in, struct validate_report *rep,
		      atomic_int *abort);
/* discover-authentication: which region hosts email, asked in the name of
 * in's application through its CA file and proxy; *found malloc'd. */
void session_discover(const struct mw_integration *in, const char *base, const char *email,
		      char **found, struct mc_result *res);

#endif
